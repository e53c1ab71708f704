//! The staff console's outbox (X-1; NOT-1…NOT-7): every page and ticket message, newest
//! first — who was told, by which channel, about which alarm or ticket, and whether it left.
//! In a demonstration nothing leaves the machine: this page is where the pages go.

use axum::Router;
use axum::extract::State;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use maud::html;
use serde::Deserialize;

use crate::AppState;
use crate::web::PageQuery;
use crate::web::i18n::{t, tf};
use crate::web::render::{channel_label, notification_status, time};
use crate::web::{Nav, PageResult, Viewer, page};

const OUTBOX_PAGE: i64 = 100;

pub fn routes() -> Router<AppState> {
    Router::new().route("/console/envois", get(outbox))
}

#[derive(Debug, Deserialize)]
struct OutboxQuery {
    avant: Option<i64>,
    partiel: Option<u8>,
}

async fn outbox(
    State(state): State<AppState>,
    viewer: Viewer,
    PageQuery(query): PageQuery<OutboxQuery>,
) -> PageResult {
    viewer.require_staff()?;
    let items = state
        .store
        .recent_notifications(&viewer.caller.actor, query.avant, OUTBOX_PAGE)
        .await?;
    let next = (items.len() as i64 == OUTBOX_PAGE)
        .then(|| items.last().map(|n| n.id))
        .flatten();
    let lang = viewer.lang;
    let region = html! {
        @if items.is_empty() {
            p.panel { (t(lang, "Aucune notification.")) }
        } @else {
            div.table-wrap { table {
                thead { tr {
                    th scope="col" { (t(lang, "Créée")) } th scope="col" { (t(lang, "Au sujet de")) } th scope="col" { (t(lang, "Destinataire")) }
                    th scope="col" { (t(lang, "Canal")) } th scope="col" { (t(lang, "Étape")) } th scope="col" { (t(lang, "État")) } th scope="col" { (t(lang, "Envoyée")) }
                } }
                tbody {
                    @for n in &items {
                        tr data-notification=(n.id) {
                            td { (time(n.created_ms)) }
                            td {
                                @if let Some(alarm) = n.alarm { a href=(format!("/console/alarmes/{alarm}")) { (tf(lang, "alarme n°{number}", &[("number", &alarm)])) } }
                                @else if let Some(ticket) = n.ticket { a href=(format!("/console/tickets/{ticket}")) { (tf(lang, "ticket n°{number}", &[("number", &ticket)])) } }
                                @else { "—" }
                            }
                            td { (n.name) @if n.channel != "console" { br; span.muted { (n.address) } } }
                            td { (channel_label(lang, &n.channel)) }
                            td { (n.step) }
                            td { (notification_status(lang, &n.status)) @if let Some(error) = &n.last_error { br; span.muted { (error) } } }
                            td { @if let Some(sent) = n.sent_ms { (time(sent)) } @else { "—" } @if let Some(answer) = &n.answer { br; span.muted { (answer) } } }
                        }
                    }
                }
            } }
        }
        @if let Some(next) = next {
            nav.pager { a href=(format!("/console/envois?avant={next}")) { (t(lang, "Plus anciennes")) } }
        }
    };
    if query.partiel.is_some() {
        return Ok(Html(region.into_string()).into_response());
    }
    let src = match query.avant {
        Some(before) => format!("/console/envois?partiel=1&avant={before}"),
        None => "/console/envois?partiel=1".into(),
    };
    let body = html! {
        main {
            h1 { (t(lang, "Boîte d'envoi")) }
            @if state.config.demo {
                p.notice { (t(lang, "Démonstration : aucun email, SMS ni webhook ne quitte cette machine ; chaque notification est enregistrée ici comme envoyée.")) }
            }
            section #outbox data-live="alarms tickets" data-src=(src) { (region) }
        }
    };
    Ok(page(&state, &viewer, t(lang, "Boîte d'envoi"), Nav::Outbox, body).into_response())
}
