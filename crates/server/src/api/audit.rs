//! `/api/v1/audit`: the audit trail for staff, newest first, filtered and paged.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use vigie_domain::audit::AuditEntry;
use vigie_store::AuditFilter;

use crate::AppState;
use crate::api::QueryParams;
use crate::auth::Caller;
use crate::error::ApiResult;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/audit", get(trail))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrailParams {
    object_kind: Option<String>,
    object_ref: Option<String>,
    client: Option<String>,
    actor: Option<String>,
    before_id: Option<i64>,
    limit: Option<i64>,
}

#[derive(Debug, Serialize)]
struct Page {
    items: Vec<AuditEntry>,
    /// Pass as `before_id` to get older entries; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_before_id: Option<i64>,
}

async fn trail(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(params): QueryParams<TrailParams>,
) -> ApiResult<Json<Page>> {
    let limit = params
        .limit
        .unwrap_or(vigie_store::DEFAULT_PAGE_SIZE)
        .clamp(1, vigie_store::MAX_PAGE_SIZE);
    let filter = AuditFilter {
        object_kind: params.object_kind,
        object_ref: params.object_ref,
        client: params.client,
        actor: params.actor,
        before_id: params.before_id,
        limit: Some(limit),
    };
    let items = state.store.audit_trail(&caller.actor, &filter).await?;
    let next_before_id = (items.len() as i64 == limit)
        .then(|| items.last().map(|e| e.id))
        .flatten();
    Ok(Json(Page {
        items,
        next_before_id,
    }))
}
