//! The support mailbox's triage in the console (issue 25, item 8): the messages the desk set
//! aside (unknown sender, automatic reply, a contact of several clients, a flood) wait here
//! for a person, who makes a ticket of one for the client they choose, adds it to the ticket
//! it belongs to, or discards it.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use maud::html;
use serde::Deserialize;
use vigie_domain::Reference;
use vigie_domain::inventory::ObjectKind;
use vigie_store::ListFilter;
use vigie_store::mail::{MailFilter, MailOutcome};

use crate::AppState;
use crate::web::desk::{Fields, field};
use crate::web::i18n::{t, tf};
use crate::web::render::time;
use crate::web::search::{MAX_CHOICES, choices, ticket_number};
use crate::web::{Nav, PageError, PageForm, PageQuery, PageResult, Viewer, page};

/// Messages shown per page.
const MAIL_PAGE: i64 = 50;
/// Characters of a message's text shown before « … ».
const SHOWN_TEXT: usize = 1_000;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/courrier", get(mailbox))
        .route("/console/courrier/{id}/ticket", post(open_ticket))
        .route("/console/courrier/{id}/rattacher", post(attach))
        .route("/console/courrier/{id}/ecarter", post(discard))
}

#[derive(Debug, Default, Deserialize)]
struct MailboxQuery {
    avant: Option<i64>,
    /// What a step did: `ticket`, `rattache` or `ecarte`, with the ticket's number.
    fait: Option<String>,
    n: Option<u64>,
}

async fn mailbox(
    State(state): State<AppState>,
    viewer: Viewer,
    PageQuery(query): PageQuery<MailboxQuery>,
) -> PageResult {
    viewer.require_staff()?;
    let actor = &viewer.caller.actor;
    let lang = viewer.lang;
    let mails = state
        .store
        .mails(
            actor,
            &MailFilter {
                waiting: true,
                before: query.avant,
                limit: Some(MAIL_PAGE),
                ..MailFilter::default()
            },
        )
        .await?;
    let clients = state
        .store
        .name_list(
            actor,
            ObjectKind::Client,
            &ListFilter {
                limit: Some(MAX_CHOICES),
                ..ListFilter::default()
            },
        )
        .await?;
    let next = (mails.len() as i64 == MAIL_PAGE)
        .then(|| mails.last().map(|m| m.id))
        .flatten();
    let number = query.n.unwrap_or(0);
    let done = match query.fait.as_deref() {
        Some("ticket") => Some(tf(
            lang,
            "Ticket n°{number} ouvert à partir du message.",
            &[("number", &number)],
        )),
        Some("rattache") => Some(tf(
            lang,
            "Message ajouté au ticket n°{number}.",
            &[("number", &number)],
        )),
        Some("ecarte") => Some(t(lang, "Message écarté.").to_string()),
        _ => None,
    };
    let body = html! {
        main {
            h1 { (t(lang, "Courrier mis de côté")) }
            @if let Some(done) = &done {
                p.notice role="status" {
                    (done)
                    @if query.fait.as_deref() != Some("ecarte") {
                        " " a href=(format!("/console/tickets/{number}")) { (t(lang, "Voir le ticket")) }
                    }
                }
            }
            p.muted { (t(lang, "Les messages de la boîte de support que Vigie n'a rattachés à aucun ticket : chacun attend qu'une personne en fasse un ticket, l'ajoute au sien ou l'écarte.")) }
            @if mails.is_empty() {
                p.panel #no-mail { (t(lang, "Aucun message n'attend.")) }
            }
            @for mail in &mails {
                @let id = mail.id;
                @let reason = match &mail.outcome { MailOutcome::SetAside { label, .. } => label.as_str(), _ => "" };
                article.panel.mail data-mail=(id) {
                    h2 { (mail.subject) }
                    p.muted {
                        (t(lang, "De")) " "
                        @match (&mail.from_name, &mail.from) {
                            (Some(name), Some(address)) => { (name) " <" (address) ">" }
                            (None, Some(address)) => { (address) }
                            (Some(name), None) => { (name) }
                            (None, None) => { "—" }
                        }
                        " — " (time(mail.received_at))
                    }
                    p { strong { (t(lang, "Mis de côté :")) } " " (reason) }
                    blockquote.mail-text {
                        @if mail.text.chars().count() > SHOWN_TEXT {
                            (mail.text.chars().take(SHOWN_TEXT).collect::<String>()) "…"
                        } @else {
                            (mail.text)
                        }
                    }
                    @if !mail.attachments.is_empty() {
                        p.muted { (t(lang, "Pièces jointes :")) " " (mail.attachments.iter().map(|a| a.name.as_str()).collect::<Vec<_>>().join(", ")) }
                    }
                    div.actions.mail-steps {
                        form.inline method="post" action=(format!("/console/courrier/{id}/ticket")) {
                            input type="hidden" name="csrf" value=(viewer.csrf);
                            label for=(format!("client-{id}")) { (t(lang, "Client")) }
                            (choices(lang, &format!("client-{id}"), "client", &clients, None, t(lang, "Choisir…")))
                            button type="submit" data-step="ticket" { (t(lang, "Ouvrir un ticket")) }
                        }
                        form.inline method="post" action=(format!("/console/courrier/{id}/rattacher")) {
                            input type="hidden" name="csrf" value=(viewer.csrf);
                            label for=(format!("ticket-{id}")) { (t(lang, "Ticket n°")) }
                            input id=(format!("ticket-{id}")) type="number" name="ticket" min="1" required;
                            button.secondary type="submit" data-step="rattacher" { (t(lang, "Ajouter au ticket")) }
                        }
                        form.inline method="post" action=(format!("/console/courrier/{id}/ecarter")) {
                            input type="hidden" name="csrf" value=(viewer.csrf);
                            button.secondary type="submit" data-step="ecarter" { (t(lang, "Écarter")) }
                        }
                    }
                }
            }
            @if let Some(next) = next {
                nav.pager { a href=(format!("/console/courrier?avant={next}")) { (t(lang, "Messages plus anciens")) } }
            }
        }
    };
    Ok(page(
        &state,
        &viewer,
        t(lang, "Courrier mis de côté"),
        Nav::Mail,
        body,
    )
    .into_response())
}

/// A step on a message, checked as every console form is: staff, the session's token.
fn checked(viewer: &Viewer, fields: &Fields) -> Result<(), PageError> {
    viewer.require_staff()?;
    viewer.check_form(field(fields, "csrf"))
}

async fn open_ticket(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    PageForm(fields): PageForm<Fields>,
) -> PageResult {
    checked(&viewer, &fields)?;
    let lang = viewer.lang;
    let Ok(client) = Reference::parse(field(&fields, "client")) else {
        return Err(PageError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            tf(
                lang,
                "« {field} » : choisissez le client du ticket.",
                &[("field", &t(lang, "Client"))],
            ),
        ));
    };
    let by = crate::api::tickets::by(&viewer.caller);
    let change = state
        .store
        .open_from_mail(
            &viewer.caller.actor,
            &state.escalation().policy,
            id,
            &client,
            None,
            &by,
            viewer.caller.now_ms,
        )
        .await?;
    Ok(Redirect::to(&format!(
        "/console/courrier?fait=ticket&n={}",
        change.ticket.number
    ))
    .into_response())
}

async fn attach(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    PageForm(fields): PageForm<Fields>,
) -> PageResult {
    checked(&viewer, &fields)?;
    let lang = viewer.lang;
    let Some(number) = ticket_number(field(&fields, "ticket")) else {
        return Err(PageError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            tf(
                lang,
                "« {field} » : un numéro de ticket est attendu.",
                &[("field", &t(lang, "Ticket n°"))],
            ),
        ));
    };
    let change = state
        .store
        .attach_mail(
            &viewer.caller.actor,
            &state.escalation().policy,
            id,
            number,
            viewer.caller.now_ms,
        )
        .await
        .map_err(|error| match error {
            vigie_store::StoreError::NotFound => PageError::new(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                tf(
                    lang,
                    "Aucun ticket n°{number} : vérifiez son numéro.",
                    &[("number", &number)],
                ),
            ),
            error => error.into(),
        })?;
    Ok(Redirect::to(&format!(
        "/console/courrier?fait=rattache&n={}",
        change.ticket.number
    ))
    .into_response())
}

async fn discard(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    PageForm(fields): PageForm<Fields>,
) -> PageResult {
    checked(&viewer, &fields)?;
    let by = crate::api::tickets::by(&viewer.caller);
    state
        .store
        .discard_mail(&viewer.caller.actor, id, &by, viewer.caller.now_ms)
        .await?;
    Ok(Redirect::to("/console/courrier?fait=ecarte").into_response())
}
