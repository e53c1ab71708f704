//! The console's records pages: the audit trail (X-1: who changed what, when), and the files'
//! documents — intervention reports (CM-8) — which a client also reads in its portal, its own
//! only.

use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use maud::html;
use serde::Deserialize;
use vigie_store::AuditFilter;
use vigie_store::documents::DocumentFilter;

use vigie_domain::Reference;

use crate::AppState;
use crate::web::PageQuery;
use crate::web::i18n::{t, tf};
use crate::web::names::{Names, Wanted, site_in};
use crate::web::render::time;
use crate::web::{Nav, PageResult, Viewer, page};

const AUDIT_PAGE: i64 = 100;
const DOCUMENTS_PAGE: i64 = 100;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/journal", get(audit))
        .route("/console/documents", get(documents))
        .route("/portail/documents", get(documents))
        .route("/console/documents/{id}", get(report_page))
        .route("/portail/documents/{id}", get(report_page))
        .route("/console/documents/{id}/fichier", get(document_file))
        .route("/portail/documents/{id}/fichier", get(document_file))
}

#[derive(Debug, Deserialize)]
struct AuditQuery {
    avant: Option<i64>,
    objet: Option<String>,
}

async fn audit(
    State(state): State<AppState>,
    viewer: Viewer,
    PageQuery(query): PageQuery<AuditQuery>,
) -> PageResult {
    viewer.require_staff()?;
    let object = query
        .objet
        .as_deref()
        .map(str::trim)
        .filter(|o| !o.is_empty());
    let entries = state
        .store
        .audit_trail(
            &viewer.caller.actor,
            &AuditFilter {
                object_ref: object.map(str::to_string),
                before_id: query.avant,
                limit: Some(AUDIT_PAGE),
                ..AuditFilter::default()
            },
        )
        .await?;
    let next = (entries.len() as i64 == AUDIT_PAGE)
        .then(|| entries.last().map(|e| e.id))
        .flatten();
    let lang = viewer.lang;
    let body = html! {
        main {
            h1 { (t(lang, "Journal d'audit")) }
            form.filters method="get" action="/console/journal" role="search" {
                label { (t(lang, "Objet (référence)")) input type="text" name="objet" value=[object]; }
                button type="submit" { (t(lang, "Filtrer")) }
            }
            @if entries.is_empty() { p.panel { (t(lang, "Aucune entrée.")) } }
            @else {
                div.table-wrap { table {
                    thead { tr { th scope="col" { (t(lang, "Quand")) } th scope="col" { (t(lang, "Qui")) } th scope="col" { (t(lang, "Action")) } th scope="col" { (t(lang, "Objet")) } th scope="col" { (t(lang, "Client")) } } }
                    tbody { @for entry in &entries {
                        tr {
                            td { (time(entry.at_ms)) }
                            td { (entry.actor) }
                            td { (match entry.action.key() { "create" => t(lang, "création"), "update" => t(lang, "modification"), "delete" => t(lang, "suppression"), other => other }) }
                            td { (entry.object_kind) " " (entry.object_ref) }
                            td { (entry.client.as_deref().unwrap_or("—")) }
                        }
                    } }
                } }
            }
            @if let Some(next) = next {
                nav.pager { a href=(format!("/console/journal?avant={next}{}", object.map(|o| format!("&objet={}", crate::web::render::url_encode(o))).unwrap_or_default())) { (t(lang, "Entrées plus anciennes")) } }
            }
        }
    };
    Ok(page(
        &state,
        &viewer,
        t(lang, "Journal d'audit"),
        Nav::Audit,
        body,
    )
    .into_response())
}

#[derive(Debug, Deserialize)]
struct DocumentsQuery {
    avant: Option<i64>,
}

/// The files' documents, newest first; each opens through the API, which checks access again.
async fn documents(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: axum::http::Uri,
    PageQuery(query): PageQuery<DocumentsQuery>,
) -> PageResult {
    let portal = portal_part(&uri, &viewer)?;
    let items = state
        .store
        .documents(
            &viewer.caller.actor,
            &DocumentFilter {
                before: query.avant,
                limit: Some(DOCUMENTS_PAGE),
                ..DocumentFilter::default()
            },
        )
        .await?;
    let next = (items.len() as i64 == DOCUMENTS_PAGE)
        .then(|| items.last().map(|d| d.id))
        .flatten();
    let root = if portal { "/portail" } else { "/console" };
    let lang = viewer.lang;
    let sites: Vec<Reference> = items
        .iter()
        .filter_map(|d| Reference::parse(d.site.as_deref()?).ok())
        .collect();
    let names = Names::read(
        &state,
        &viewer,
        &Wanted {
            sites: sites.iter().collect(),
            ..Wanted::default()
        },
    )
    .await?;
    let body = html! {
        main {
            h1 { (t(lang, "Documents")) }
            @if items.is_empty() { p.panel { (t(lang, "Aucun document.")) } }
            @else {
                div.table-wrap { table {
                    thead { tr { th scope="col" { (t(lang, "Date")) } th scope="col" { (t(lang, "Document")) } th scope="col" { (t(lang, "Site")) } th scope="col" { (t(lang, "Ticket")) } } }
                    tbody { @for document in &items {
                        tr {
                            td { (time(document.created_at)) }
                            td {
                                @if document.content_type == "text/html" && document.period.is_some() {
                                    a href=(format!("{root}/documents/{}", document.id)) { (document.title) } " (" (t(lang, "page")) ")"
                                } @else {
                                    a href=(format!("{root}/documents/{}/fichier", document.id)) download { (document.title) }
                                    @if document.content_type == "application/pdf" { " (PDF)" }
                                }
                            }
                            td {
                                @match document.site.as_deref().and_then(|site| Reference::parse(site).ok()) {
                                    Some(site) => (site_in(&viewer, &names, Some(&site))),
                                    None => "—",
                                }
                            }
                            td { @if let Some(ticket) = document.ticket { a href=(format!("{root}/tickets/{ticket}")) { (tf(lang, "n°{number}", &[("number", &ticket)])) } } @else { "—" } }
                        }
                    } }
                } }
            }
            @if let Some(next) = next {
                nav.pager { a href=(format!("{root}/documents?avant={next}")) { (t(lang, "Documents plus anciens")) } }
            }
        }
    };
    let nav = if portal {
        Nav::PortalDocuments
    } else {
        Nav::Documents
    };
    Ok(page(&state, &viewer, t(lang, "Documents"), nav, body).into_response())
}

/// Whether a documents address is the portal's, which only a client reads (the console's,
/// only the staff); the other part is "not found".
fn portal_part(uri: &axum::http::Uri, viewer: &Viewer) -> Result<bool, crate::web::PageError> {
    let portal = uri.path().starts_with("/portail");
    if portal == viewer.is_staff() {
        Err(crate::web::PageError::not_found())
    } else {
        Ok(portal)
    }
}

/// A document's file, from the pages (issue 25, item 13): the console's or the portal's own
/// address, so that a document gone, or another client's, answers with the pages' error
/// page in the viewer's menus rather than the API's JSON.
async fn document_file(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: axum::http::Uri,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> PageResult {
    portal_part(&uri, &viewer)?;
    let (info, content) = state.store.document(&viewer.caller.actor, id).await?;
    Ok(crate::api::documents::file_response(&info, content, true))
}

/// A monthly report's HTML version in the page (issue 9: the same content as its PDF). Its
/// markup is the report renderer's, every text escaped there; the document is read with the
/// viewer's actor, so another client's is "not found".
async fn report_page(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: axum::http::Uri,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> PageResult {
    let portal = portal_part(&uri, &viewer)?;
    let (info, content) = state.store.document(&viewer.caller.actor, id).await?;
    if info.content_type != "text/html" || info.period.is_none() {
        return Err(crate::web::PageError::not_found());
    }
    let fragment = String::from_utf8(content).map_err(|_| crate::web::PageError::not_found())?;
    let lang = viewer.lang;
    let root = if portal { "/portail" } else { "/console" };
    let body = html! {
        main {
            p { a href=(format!("{root}/documents")) { "← " (t(lang, "Documents")) } }
            (maud::PreEscaped(fragment))
        }
    };
    let nav = if portal {
        Nav::PortalDocuments
    } else {
        Nav::Documents
    };
    Ok(page(&state, &viewer, &info.title, nav, body).into_response())
}
