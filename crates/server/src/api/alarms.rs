//! Alarms (ALR-*, NOT-8, CLO-1, CLO-2): the list per client, site or equipment over a period
//! with durations, one alarm with every step of its life, and the steps people take:
//! acknowledge, take in charge, close. Reads first wait for the alarm worker to have taken in
//! everything received before, so that an answer never lags behind an accepted push.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use vigie_domain::Reference;
use vigie_domain::access::Permission;
use vigie_domain::alarm::lifecycle::{AlarmEvent, AlarmId, ClosureReport, LifecycleError};
use vigie_store::{AlarmFilter, StoredAlarm, StoredNotification};

use crate::AppState;
use crate::alarms::{Step, StepError};
use crate::api::{JsonBody, QueryParams};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/alarms", get(list))
        .route("/api/v1/alarms/{id}", get(one))
        .route("/api/v1/alarms/{id}/acknowledge", post(acknowledge))
        .route("/api/v1/alarms/{id}/take-charge", post(take_charge))
        .route("/api/v1/alarms/{id}/close", post(close))
        .route("/api/v1/alarms/{id}/conference", post(conference))
}

/// What starting a conference answers: the bridge and room, and who was invited.
#[derive(Debug, Serialize)]
pub(crate) struct ConferenceStarted {
    pub alarm: AlarmId,
    pub step: String,
    pub conference: Option<vigie_domain::policy::Invitation>,
    pub invited: Vec<vigie_domain::alarm::lifecycle::Told>,
    pub missing: Vec<vigie_domain::alarm::escalation::Missing>,
}

/// Starts an alarm's emergency conference call (NOT-4, issue 26 item 2), for the pages and
/// the API alike: the policy's `[conference.on_demand]` step, by the caller.
pub(crate) async fn start_conference(
    state: &AppState,
    caller: &Caller,
    id: AlarmId,
) -> ApiResult<ConferenceStarted> {
    staff_of(caller)?;
    let fired = state
        .store
        .start_conference(&caller.actor, &state.escalation(), id, caller.now_ms)
        .await
        .map_err(|error| match error {
            vigie_store::StoreError::Invalid(message) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
            }
            other => other.into(),
        })?;
    state.deliveries.wake();
    let step = fired.timer.step_label();
    Ok(match fired.outcome {
        vigie_store::Outcome::Fired {
            told,
            missing,
            conference,
            ..
        } => ConferenceStarted {
            alarm: id,
            step,
            conference,
            invited: told,
            missing,
        },
        vigie_store::Outcome::Skipped { reason } => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                format!("conférence non lancée : {}", reason.key()),
            ));
        }
    })
}

async fn conference(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<ConferenceStarted>)> {
    let id = alarm_id(&id)?;
    let started = start_conference(&state, &caller, id).await?;
    Ok((StatusCode::CREATED, Json(started)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    client: Option<Reference>,
    site: Option<Reference>,
    equipment: Option<Reference>,
    /// The period, UTC epoch ms: alarms present at some instant of `[from, to)`.
    from: Option<i64>,
    to: Option<i64>,
    /// `true`: only alarms not closed; `false`: only closed ones.
    open: Option<bool>,
    before: Option<AlarmId>,
    limit: Option<i64>,
}

#[derive(Debug, Serialize)]
struct Page {
    items: Vec<StoredAlarm>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_before: Option<AlarmId>,
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(params): QueryParams<ListParams>,
) -> ApiResult<Json<Page>> {
    if let (Some(from), Some(to)) = (params.from, params.to)
        && from >= to
    {
        return Err(ApiError::bad_request("from doit précéder to"));
    }
    let limit = params
        .limit
        .unwrap_or(vigie_store::DEFAULT_PAGE_SIZE)
        .clamp(1, vigie_store::MAX_ALARM_PAGE);
    let filter = AlarmFilter {
        client: params.client,
        site: params.site,
        equipment: params.equipment,
        from: params.from,
        to: params.to,
        open: params.open,
        before: params.before,
        limit: Some(limit),
    };
    if !caller.actor.may(Permission::ReadAlarms) {
        return Err(ApiError::forbidden(
            "vos droits ne permettent pas de lire les alarmes",
        ));
    }
    state.alarms.sync(&state).await;
    let items = state
        .store
        .list_alarms(&caller.actor, &filter, caller.now_ms)
        .await?;
    let next_before = (items.len() as i64 == limit)
        .then(|| items.last().map(|a| a.alarm.id))
        .flatten();
    Ok(Json(Page { items, next_before }))
}

#[derive(Debug, Serialize)]
struct WithEvents {
    #[serde(flatten)]
    alarm: StoredAlarm,
    events: Vec<AlarmEvent>,
    /// Every page of the alarm, for the integrator's staff (X-1: who was told, how, when).
    #[serde(skip_serializing_if = "Option::is_none")]
    notifications: Option<Vec<StoredNotification>>,
}

async fn read_one(state: &AppState, caller: &Caller, id: AlarmId) -> ApiResult<Json<WithEvents>> {
    let (alarm, events) = state.store.alarm(&caller.actor, id, caller.now_ms).await?;
    let notifications = if caller.actor.may(Permission::HandleAlarms) {
        Some(state.store.notifications_of(&caller.actor, id).await?)
    } else {
        None
    };
    Ok(Json(WithEvents {
        alarm,
        events,
        notifications,
    }))
}

fn alarm_id(text: &str) -> ApiResult<AlarmId> {
    text.parse()
        .map_err(|_| ApiError::bad_request(format!("numéro d'alarme invalide : « {text} »")))
}

async fn one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<WithEvents>> {
    let id = alarm_id(&id)?;
    if !caller.actor.may(Permission::ReadAlarms) {
        return Err(ApiError::forbidden(
            "vos droits ne permettent pas de lire les alarmes",
        ));
    }
    state.alarms.sync(&state).await;
    read_one(&state, &caller, id).await
}

/// The staff member a step is taken by: the caller's own record in the staff directory.
fn staff_of(caller: &Caller) -> ApiResult<Reference> {
    if !caller.actor.may(Permission::HandleAlarms) {
        return Err(ApiError::forbidden(
            "vos droits ne permettent pas d'agir sur les alarmes",
        ));
    }
    caller.actor.staff().cloned().ok_or_else(|| {
        ApiError::forbidden(
            "votre compte n'est lié à aucune fiche du personnel : une action sur une alarme dit qui l'a faite (X-1)",
        )
    })
}

async fn take(
    state: AppState,
    caller: Caller,
    id: String,
    step: Step,
) -> ApiResult<Json<WithEvents>> {
    let id = alarm_id(&id)?;
    take_step(&state, &caller, id, step).await?;
    read_one(&state, &caller, id).await
}

/// Takes a person's step on an alarm (API and pages alike), refusals as HTTP errors.
pub(crate) async fn take_step(
    state: &AppState,
    caller: &Caller,
    id: AlarmId,
    step: Step,
) -> ApiResult<()> {
    let by = staff_of(caller)?;
    match state.alarms.step(state, id, step, by).await {
        Ok(_) => Ok(()),
        Err(StepError::Store(error)) => Err(error.into()),
        Err(StepError::Refused(refusal)) => Err(match refusal {
            LifecycleError::Conflict(message) => {
                ApiError::new(StatusCode::CONFLICT, "conflict", message)
            }
            LifecycleError::Forbidden(message) => ApiError::forbidden(message),
            LifecycleError::Invalid(message) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
            }
            // Not open: closed (its record says so), or not there.
            LifecycleError::Unknown(_) => {
                match state.store.alarm(&caller.actor, id, caller.now_ms).await {
                    Ok(_) => ApiError::new(
                        StatusCode::CONFLICT,
                        "conflict",
                        format!("l'alarme n°{id} est close"),
                    ),
                    Err(error) => error.into(),
                }
            }
        }),
    }
}

async fn acknowledge(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<WithEvents>> {
    take(state, caller, id, Step::Acknowledge).await
}

async fn take_charge(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<WithEvents>> {
    take(state, caller, id, Step::TakeCharge).await
}

async fn close(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(report): JsonBody<ClosureReport>,
) -> ApiResult<Json<WithEvents>> {
    take(state, caller, id, Step::Close(report)).await
}
