//! The policy in force and its versions (issue 26, item 4): read by the integrator's staff,
//! changed by administrators and the technical and operations managers, applied at once
//! without restart (`policies.rs`); any version restorable, as a new version that copies it.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use vigie_domain::access::Permission;
use vigie_store::policies::{MAX_VERSIONS_LISTED, PolicyVersion};

use crate::AppState;
use crate::api::{JsonBody, QueryParams};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/policy", get(in_force).put(save))
        .route("/api/v1/policy/versions", get(versions))
        .route("/api/v1/policy/versions/{version}", get(version))
        .route("/api/v1/policy/versions/{version}/restore", post(restore))
}

/// The policy in force: its version (0: the configuration's policy file, never changed from
/// the console) and, for a saved one, its text and who saved it when and why.
#[derive(Debug, Serialize)]
pub(crate) struct InForce {
    pub version: i64,
    /// `console` (a saved version) or `configuration` (the file of `policy`, or the default).
    pub source: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub saved: Option<PolicyVersion>,
}

/// What is in force, for the API and the console's page.
pub(crate) async fn policy_in_force(state: &AppState, caller: &Caller) -> ApiResult<InForce> {
    if !caller.actor.may(Permission::HandleAlarms) {
        return Err(ApiError::forbidden(
            "la politique est celle de l'intégrateur : son personnel seul la lit",
        ));
    }
    let version = state.policies.version();
    let saved = if version == 0 {
        None
    } else {
        state.store.policy_version(&caller.actor, version).await?
    };
    Ok(InForce {
        version,
        source: if version == 0 {
            "configuration"
        } else {
            "console"
        },
        saved,
    })
}

async fn in_force(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<InForce>> {
    Ok(Json(policy_in_force(&state, &caller).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Draft {
    /// The TOML laid over the default policy (`docs/policy.md`).
    text: String,
    /// Why, in a few words (kept with the version).
    #[serde(default)]
    note: String,
}

#[derive(Debug, Serialize)]
struct Saved {
    version: i64,
}

/// Checks `text` as a policy, saves it as the next version and puts it in force.
pub(crate) async fn save_and_apply(
    state: &AppState,
    caller: &Caller,
    text: &str,
    note: &str,
    restored_from: Option<i64>,
) -> ApiResult<i64> {
    if !caller.actor.may(Permission::EditPolicy) {
        return Err(ApiError::forbidden(
            "vos droits ne permettent pas de modifier la politique (administrateur, responsable technique ou d'exploitation)",
        ));
    }
    let policy = crate::policies::read_policy(text).map_err(|error| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            format!("politique refusée : {error}"),
        )
    })?;
    let version = state
        .store
        .save_policy(&caller.actor, text, note, restored_from, caller.now_ms)
        .await?;
    crate::policies::apply(state, version, policy).await;
    Ok(version)
}

async fn save(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(draft): JsonBody<Draft>,
) -> ApiResult<Json<Saved>> {
    let version = save_and_apply(&state, &caller, &draft.text, &draft.note, None).await?;
    Ok(Json(Saved { version }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    before: Option<i64>,
    limit: Option<i64>,
}

#[derive(Debug, Serialize)]
struct Listing {
    items: Vec<PolicyVersion>,
    /// The `before` of the next page, when there may be one.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_before: Option<i64>,
}

async fn versions(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(params): QueryParams<ListParams>,
) -> ApiResult<Json<Listing>> {
    let limit = params.limit.unwrap_or(50).clamp(1, MAX_VERSIONS_LISTED);
    let items = state
        .store
        .policy_versions(&caller.actor, params.before, limit)
        .await?;
    let next_before = (items.len() as i64 == limit)
        .then(|| items.last().map(|v| v.version))
        .flatten();
    Ok(Json(Listing { items, next_before }))
}

async fn version(
    State(state): State<AppState>,
    caller: Caller,
    Path(version): Path<i64>,
) -> ApiResult<Json<PolicyVersion>> {
    state
        .store
        .policy_version(&caller.actor, version)
        .await?
        .map(Json)
        .ok_or_else(|| unknown(version))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Restoration {
    #[serde(default)]
    note: String,
}

/// Restores version `version`: its text becomes the next version, in force at once.
async fn restore(
    State(state): State<AppState>,
    caller: Caller,
    Path(version): Path<i64>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Saved>> {
    // The note is optional, and so is the body that carries it.
    let restoration: Restoration = if body.iter().all(u8::is_ascii_whitespace) {
        Restoration::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request(format!("corps JSON invalide : {e}")))?
    };
    let saved = restore_version(&state, &caller, version, &restoration.note).await?;
    Ok(Json(Saved { version: saved }))
}

/// Saves version `version`'s text as the next version, in force at once; `note` says why
/// (« retour à la version N » when blank).
pub(crate) async fn restore_version(
    state: &AppState,
    caller: &Caller,
    version: i64,
    note: &str,
) -> ApiResult<i64> {
    let old = state
        .store
        .policy_version(&caller.actor, version)
        .await?
        .ok_or_else(|| unknown(version))?;
    let note = if note.trim().is_empty() {
        format!("retour à la version {version}")
    } else {
        note.to_owned()
    };
    save_and_apply(state, caller, &old.text, &note, Some(version)).await
}

fn unknown(version: i64) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("version {version} de la politique inconnue"),
    )
}
