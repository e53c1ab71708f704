//! The documents of the clients' and sites' files (CM-8: intervention reports), listed and
//! read by whoever sees their client and site.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use vigie_domain::Reference;
use vigie_domain::ticket::desk::TicketNumber;
use vigie_store::documents::{DocumentFilter, DocumentInfo, MAX_DOCUMENT_PAGE};

use crate::AppState;
use crate::api::QueryParams;
use crate::auth::Caller;
use crate::error::ApiResult;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/documents", get(list))
        .route("/api/v1/documents/{id}", get(one))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    client: Option<Reference>,
    site: Option<Reference>,
    ticket: Option<TicketNumber>,
    before: Option<i64>,
    limit: Option<i64>,
}

#[derive(Debug, Serialize)]
struct Page {
    items: Vec<DocumentInfo>,
    /// Pass as `before` for the next page (older documents); absent on the last page.
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
        .clamp(1, MAX_DOCUMENT_PAGE);
    let items = state
        .store
        .documents(
            &caller.actor,
            &DocumentFilter {
                client: params.client,
                site: params.site,
                ticket: params.ticket,
                before: params.before,
                limit: Some(limit),
            },
        )
        .await?;
    let next_before = (items.len() as i64 == limit)
        .then(|| items.last().map(|d| d.id))
        .flatten();
    Ok(Json(Page { items, next_before }))
}

/// The document itself, shown in the browser: Vigie wrote it (every text in it escaped), and
/// the page may run nothing nor load anything (`sandbox`, styles inline only).
async fn one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let (info, content) = state.store.document(&caller.actor, id).await?;
    Ok(file_response(&info, content, false))
}

/// A stored document as its file: its own type, never sniffed nor run (a sandbox without
/// scripts), and, when `attached`, as a download named after its title.
pub(crate) fn file_response(
    info: &vigie_store::documents::DocumentInfo,
    content: Vec<u8>,
    attached: bool,
) -> Response {
    let mut response = content.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&info.content_type)
            .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream")),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; sandbox"),
    );
    if attached
        && let Ok(value) = HeaderValue::from_str(&attachment(&info.title, &info.content_type))
    {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// `attachment; filename="…"; filename*=UTF-8''…`: the title as the file's name, in plain
/// ASCII for old clients and whole in UTF-8 for the others, with the extension of its type.
fn attachment(title: &str, content_type: &str) -> String {
    let extension = match content_type.split(';').next().unwrap_or("").trim() {
        "application/pdf" => ".pdf",
        "text/html" => ".html",
        "text/plain" => ".txt",
        "text/csv" => ".csv",
        "image/png" => ".png",
        "image/jpeg" => ".jpg",
        _ => "",
    };
    let title: String = title.chars().take(100).collect();
    let plain: String = title
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "attachment; filename=\"{}{extension}\"; filename*=UTF-8''{}{extension}",
        plain.trim(),
        crate::web::render::url_encode(title.trim())
    )
}
