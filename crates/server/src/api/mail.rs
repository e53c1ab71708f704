//! The support mailbox seen from the API (SAV-1, X-2): the messages it brought and what became
//! of each — above all those set aside (auto-replies, unknown senders, floods), which a person
//! reads — for the supervision team only; and the attachments of a ticket, listed and
//! downloaded by whoever sees the ticket.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use vigie_domain::ticket::desk::TicketNumber;
use vigie_store::mail::{AttachmentInfo, MailFilter, MailSummary};

use crate::AppState;
use crate::api::QueryParams;
use crate::auth::Caller;
use crate::error::ApiResult;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/mail", get(list))
        .route("/api/v1/mail/{id}/ticket", axum::routing::post(open_ticket))
        .route("/api/v1/mail/{id}/attach", axum::routing::post(attach))
        .route("/api/v1/mail/{id}/discard", axum::routing::post(discard))
        .route("/api/v1/tickets/{number}/attachments", get(attachments))
        .route("/api/v1/tickets/{number}/attachments/{id}", get(attachment))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    /// `opened`, `threaded` or `set_aside`.
    disposition: Option<String>,
    /// `true`: only the messages still waiting for a person (set aside, not discarded).
    waiting: Option<bool>,
    before: Option<i64>,
    limit: Option<i64>,
}

#[derive(Debug, Serialize)]
struct Page {
    items: Vec<MailSummary>,
    /// Pass as `before` for the next page (older messages); absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_before: Option<i64>,
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(params): QueryParams<ListParams>,
) -> ApiResult<Json<Page>> {
    let limit = params
        .limit
        .unwrap_or(vigie_store::DEFAULT_PAGE_SIZE)
        .clamp(1, vigie_store::mail::MAX_MAIL_PAGE);
    let items = state
        .store
        .mails(
            &caller.actor,
            &MailFilter {
                disposition: params.disposition,
                before: params.before,
                limit: Some(limit),
                waiting: params.waiting.unwrap_or(false),
            },
        )
        .await?;
    let next_before = (items.len() as i64 == limit)
        .then(|| items.last().map(|m| m.id))
        .flatten();
    Ok(Json(Page { items, next_before }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OpenRequest {
    client: vigie_domain::Reference,
    site: Option<vigie_domain::Reference>,
}

/// A message set aside becomes a ticket for the client a staff member names (an unknown
/// sender, a contact of several clients).
async fn open_ticket(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    crate::api::JsonBody(request): crate::api::JsonBody<OpenRequest>,
) -> ApiResult<(axum::http::StatusCode, Json<vigie_store::TicketChange>)> {
    let by = crate::api::tickets::by(&caller);
    let change = state
        .store
        .open_from_mail(
            &caller.actor,
            &state.escalation().policy,
            id,
            &request.client,
            request.site.as_ref(),
            &by,
            caller.now_ms,
        )
        .await?;
    Ok((axum::http::StatusCode::CREATED, Json(change)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AttachRequest {
    ticket: TicketNumber,
}

/// A message set aside joins the ticket a staff member names (issue 25, item 8).
async fn attach(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    crate::api::JsonBody(request): crate::api::JsonBody<AttachRequest>,
) -> ApiResult<Json<vigie_store::TicketChange>> {
    let change = state
        .store
        .attach_mail(
            &caller.actor,
            &state.escalation().policy,
            id,
            request.ticket,
            caller.now_ms,
        )
        .await?;
    Ok(Json(change))
}

/// A message set aside is discarded, kept with who and when (issue 25, item 8).
async fn discard(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<axum::http::StatusCode> {
    let by = crate::api::tickets::by(&caller);
    state
        .store
        .discard_mail(&caller.actor, id, &by, caller.now_ms)
        .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

async fn attachments(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<TicketNumber>,
) -> ApiResult<Json<Vec<AttachmentInfo>>> {
    Ok(Json(
        state
            .store
            .ticket_attachments(&caller.actor, number)
            .await?,
    ))
}

/// The bytes of an attachment, always as a download: a client's file is never rendered in
/// Vigie's origin (an HTML or SVG attachment could carry a script).
async fn attachment(
    State(state): State<AppState>,
    caller: Caller,
    Path((number, id)): Path<(TicketNumber, i64)>,
) -> ApiResult<Response> {
    let (info, content) = state
        .store
        .ticket_attachment(&caller.actor, number, id)
        .await?;
    let ascii: String = info
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._- ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = info
        .name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"._-".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let disposition = format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}");
    let mut response = content.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition)
            .unwrap_or_else(|_| HeaderValue::from_static("attachment")),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    Ok(response)
}
