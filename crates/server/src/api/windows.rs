//! One-off maintenance windows and silences (ALR-9, issue 25 item 7): listed for whoever sees
//! the site, opened and ended by the supervision team. Once stored, the alarm worker reads
//! them again before the answer: an alarm a window ended early no longer holds is notified by
//! then, and the open pages hear of it.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use vigie_domain::Reference;
use vigie_domain::alarm::window::{OneOffKind, OneOffWindow};
use vigie_domain::values::Text;
use vigie_store::windows::{NewWindow, WindowFilter, WindowState};

use crate::AppState;
use crate::api::{JsonBody, QueryParams};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/windows", get(list).post(open))
        .route("/api/v1/windows/{id}", get(one))
        .route("/api/v1/windows/{id}/end", post(end))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    /// `current` (running or to come, the default) or `past` (ended or over).
    state: Option<String>,
    site: Option<Reference>,
    equipment: Option<Reference>,
    limit: Option<i64>,
}

#[derive(Debug, Serialize)]
struct Page {
    items: Vec<OneOffWindow>,
}

fn state_of(value: Option<&str>) -> Result<WindowState, ApiError> {
    match value {
        None | Some("current") => Ok(WindowState::Current),
        Some("past") => Ok(WindowState::Past),
        Some(other) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("état de fenêtre inconnu : {other} (current ou past)"),
        )),
    }
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(params): QueryParams<ListParams>,
) -> ApiResult<Json<Page>> {
    let filter = WindowFilter {
        state: state_of(params.state.as_deref())?,
        now: caller.now_ms,
        site: params.site,
        equipment: params.equipment,
        limit: params.limit,
    };
    let items = state.store.windows(&caller.actor, &filter).await?;
    Ok(Json(Page { items }))
}

async fn one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<OneOffWindow>> {
    Ok(Json(state.store.window(&caller.actor, id).await?))
}

/// A window to open; `starts_at` defaults to now (UTC epoch ms).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OpenBody {
    pub kind: OneOffKind,
    pub site: Reference,
    #[serde(default)]
    pub equipment: Option<Reference>,
    #[serde(default)]
    pub starts_at: Option<i64>,
    pub ends_at: i64,
    pub reason: String,
}

/// The window `body` asks for, at `now`; the reason is required (it is what the wall shows).
pub(crate) fn new_window(body: OpenBody, now: i64) -> Result<NewWindow, ApiError> {
    let reason = Text::parse(&body.reason)
        .ok()
        .filter(|r| !r.as_str().trim().is_empty())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                format!(
                    "le motif est obligatoire ({} caractères au plus)",
                    Text::MAX_CHARS
                ),
            )
        })?;
    Ok(NewWindow {
        kind: body.kind,
        site: body.site,
        equipment: body.equipment,
        starts_at: body.starts_at.unwrap_or(now),
        ends_at: body.ends_at,
        reason,
    })
}

async fn open(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<OpenBody>,
) -> ApiResult<(StatusCode, Json<OneOffWindow>)> {
    let window = new_window(body, caller.now_ms)?;
    let opened = open_window(&state, &caller, &window).await?;
    Ok((StatusCode::CREATED, Json(opened)))
}

async fn end(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<OneOffWindow>> {
    Ok(Json(end_window(&state, &caller, id).await?))
}

/// Opens a window, then has the alarm worker read the windows again (the console's form and
/// the API's route take this one path).
pub(crate) async fn open_window(
    state: &AppState,
    caller: &Caller,
    window: &NewWindow,
) -> Result<OneOffWindow, ApiError> {
    let by = crate::api::tickets::by(caller);
    let opened = state
        .store
        .open_window(&caller.actor, window, &by, caller.now_ms)
        .await?;
    applied(state, &opened).await;
    Ok(opened)
}

/// Ends a window now, then has the alarm worker read the windows again.
pub(crate) async fn end_window(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<OneOffWindow, ApiError> {
    let by = crate::api::tickets::by(caller);
    let ended = state
        .store
        .end_window(&caller.actor, id, &by, caller.now_ms)
        .await?;
    applied(state, &ended).await;
    Ok(ended)
}

/// The worker takes the change in; if it cannot now, its next inventory refresh will (the
/// window is stored either way), with a warning in the log. The open pages of the staff and of
/// the site's client hear of it.
async fn applied(state: &AppState, window: &OneOffWindow) {
    if let Err(error) = state.alarms.windows_changed(state).await {
        tracing::warn!(%error, "fenêtres de maintenance enregistrées, prises en compte à la prochaine relecture");
    }
    state
        .live
        .publish(crate::web::Topic::Alarms, Some(window.client.clone()));
}
