//! Supervision over HTTP (SUP-1…SUP-3): agents and site probes push observations, equipment
//! send heartbeats, and people read current states, state history, metric series, site probes
//! and SNMP traps, each inside the caller's walls.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use vigie_domain::Reference;
use vigie_domain::supervision::{CheckName, CheckStatus, MetricName, Observation, checks};
use vigie_domain::values::InvalidValue;
use vigie_domain::wire::{self, PROTOCOL_VERSION, PushV1};
use vigie_store::supervision::{
    CurrentState, Point, ProbeRecord, Resolution, Scope, StoredChange, TrapRecord,
};

use crate::AppState;
use crate::api::{JsonBody, JsonBytes, QueryParams, parse_json};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/time", get(time))
        .route("/api/v1/clock", post(move_clock).get(read_clock))
        .route("/api/v1/observations", post(push))
        .route(
            "/api/v1/equipment/{reference}/heartbeat",
            post(heartbeat).get(heartbeat),
        )
        .route("/api/v1/equipment/{reference}/state", get(equipment_state))
        .route(
            "/api/v1/equipment/{reference}/history",
            get(equipment_history),
        )
        .route("/api/v1/equipment/{reference}/samples", get(samples))
        .route("/api/v1/sites/{reference}/state", get(site_state))
        .route("/api/v1/sites/{reference}/history", get(site_history))
        .route("/api/v1/probes", get(probes))
        .route("/api/v1/traps", get(traps))
}

fn reference(text: &str) -> Result<Reference, ApiError> {
    // A malformed reference cannot name anything: the same 404 as an unknown one.
    Reference::parse(text).map_err(|_| ApiError::not_found())
}

#[derive(Debug, Serialize)]
struct ServerTime {
    /// The server's clock, UTC epoch milliseconds: agents measure their clock offset with it.
    now: i64,
}

async fn time(State(state): State<AppState>) -> Json<ServerTime> {
    Json(ServerTime {
        now: state.clock.now_ms(),
    })
}

/// `POST /api/v1/clock`: where the virtual clock goes and what its round does.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockMove {
    /// UTC epoch milliseconds, never before the clock's present.
    to: i64,
    /// Whether the round runs; false only moves the clock, for inputs of that instant that
    /// must come before the round (the simulator's order).
    #[serde(default = "yes")]
    run: bool,
    /// A round at a timer's instant runs the watchdog (and lets held durations run).
    #[serde(default)]
    watchdog: bool,
    /// Whether the rotations are checked for a gap with nobody on call.
    #[serde(default)]
    rotations: bool,
    /// Whether the support mailbox is read first (messages put in it at this instant).
    #[serde(default)]
    mailbox: bool,
}

#[derive(Debug, Serialize)]
struct ClockRound {
    now: i64,
    /// The next instant something is due, if anything is.
    next: Option<i64>,
}

fn yes() -> bool {
    true
}

/// The virtual clock and when something is next due, without a round.
async fn read_clock(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<ClockRound>> {
    if !state.clock.is_virtual() {
        return Err(ApiError::not_found());
    }
    if !caller
        .actor
        .may(vigie_domain::access::Permission::ManageUsers)
    {
        return Err(ApiError::forbidden(
            "seul un administrateur lit l'horloge virtuelle",
        ));
    }
    Ok(Json(ClockRound {
        now: state.clock.now_ms(),
        next: crate::rounds::next_due(&state).await?,
    }))
}

/// Moves the virtual clock and runs one round of the background work (`crate::rounds`):
/// administrators only, and only on a server started with `VIGIE_VIRTUAL_CLOCK` — elsewhere
/// this address does not exist.
async fn move_clock(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<ClockMove>,
) -> ApiResult<Json<ClockRound>> {
    if !state.clock.is_virtual() {
        return Err(ApiError::not_found());
    }
    if !caller
        .actor
        .may(vigie_domain::access::Permission::ManageUsers)
    {
        return Err(ApiError::forbidden(
            "seul un administrateur avance l'horloge virtuelle",
        ));
    }
    if !state.clock.move_to(request.to) {
        return Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "conflict",
            format!(
                "to : l'horloge virtuelle est à {} ; elle ne recule pas",
                state.clock.now_ms()
            ),
        ));
    }
    if !request.run {
        return Ok(Json(ClockRound {
            now: state.clock.now_ms(),
            next: None,
        }));
    }
    let next = state
        .rounds
        .run(
            &state,
            crate::rounds::Round {
                watchdog: request.watchdog,
                rotations: request.rotations,
                mailbox: request.mailbox,
            },
        )
        .await?;
    Ok(Json(ClockRound {
        now: state.clock.now_ms(),
        next,
    }))
}

/// The pushed batch in the protocol's own types (`vigie_domain::wire`), whatever version the
/// sender speaks: today only version 1, the version of a body that names none.
fn read_push(bytes: &[u8]) -> Result<PushV1, ApiError> {
    let unknown = |version: u32| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unsupported_version",
            format!(
                "version {version} du protocole inconnue : ce serveur lit les versions 1 à {PROTOCOL_VERSION} ; mettez le serveur à jour avant ses agents et ses sondes"
            ),
        )
    };
    match parse_json::<PushV1>(bytes) {
        Ok(push) if (1..=PROTOCOL_VERSION).contains(&push.version) => Ok(push),
        Ok(push) => Err(unknown(push.version)),
        // A body of a later version may not read as version 1 at all: say why.
        Err(error) => match serde_json::from_slice::<wire::Version>(bytes) {
            Ok(wire::Version { version }) if version > PROTOCOL_VERSION => Err(unknown(version)),
            _ => Err(error),
        },
    }
}

#[derive(Debug, Serialize)]
struct PushReport {
    duplicate: bool,
    accepted: usize,
    stale: usize,
    samples: usize,
    changes: usize,
    unknown_equipment: Vec<String>,
}

/// Longest source name of a batch.
const MAX_SOURCE_CHARS: usize = 128;

async fn push(
    State(state): State<AppState>,
    caller: Caller,
    JsonBytes(body): JsonBytes,
) -> ApiResult<Json<PushReport>> {
    let PushV1 {
        source,
        sequence,
        probe,
        observations,
        ..
    } = read_push(&body)?;
    let invalid = |e: InvalidValue| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", e.0);
    let observations = wire::observations(observations).map_err(invalid)?;
    // Issue 23, item 5: a batch sent again is recognised within its sender only — the token
    // (or account) that pushed it, then the source name it gave — so that one sender's
    // numbers never make another's real batch a "duplicate".
    let sender = caller
        .actor
        .token
        .as_ref()
        .map(|token| format!("jeton:{}", token.id))
        .or_else(|| caller.actor.username().map(|u| format!("compte:{u}")))
        .unwrap_or_default();
    let owned = source
        .as_ref()
        .map(|source| (source.chars().count(), format!("{sender}/{source}")));
    let batch = match (&owned, sequence) {
        (Some((length, source)), Some(sequence)) if *length <= MAX_SOURCE_CHARS => {
            Some((source.as_str(), sequence))
        }
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(format!(
                "source : au plus {MAX_SOURCE_CHARS} caractères"
            )));
        }
        (None, Some(_)) => return Err(ApiError::bad_request("sequence sans source")),
        _ => None,
    };
    let probe = match &probe {
        Some(probe) => Some((probe, probe.site().map_err(invalid)?)),
        None => None,
    };
    if let Some((probe, _)) = probe {
        if probe.name.is_empty() || probe.name.chars().count() > MAX_SOURCE_CHARS {
            return Err(ApiError::bad_request("probe.name : de 1 à 128 caractères"));
        }
        if !(10..=86_400).contains(&probe.interval_seconds) {
            return Err(ApiError::bad_request(
                "probe.interval_seconds : de 10 à 86 400",
            ));
        }
    }
    // The probe's identity first, then the batch (the store checks its bounds), and only
    // then is the probe seen: a refused push changes nothing.
    if let Some((probe, site)) = &probe {
        state
            .store
            .check_probe(&caller.actor, &probe.name, site)
            .await?;
    }
    let report =
        crate::alarms::record(&state, &caller.actor, batch, observations, caller.now_ms).await?;
    if let Some((probe, site)) = &probe {
        let back = state
            .store
            .probe_seen(
                &caller.actor,
                &probe.name,
                site,
                probe.interval_seconds * 1000,
                caller.now_ms,
            )
            .await?;
        if back {
            // The site's monitoring path is back: its alarm resolves.
            state.alarms.monitoring(&state, site.clone(), false).await;
        }
    }
    state.metrics.observations_received(report.accepted as u64);
    Ok(Json(PushReport {
        duplicate: report.duplicate,
        accepted: report.accepted,
        stale: report.stale,
        samples: report.samples,
        changes: report.changes.len(),
        unknown_equipment: report
            .unknown_equipment
            .into_iter()
            .map(|r| r.to_string())
            .collect(),
    }))
}

/// SUP-3: pure video equipment proves it is alive by calling this (GET or POST).
async fn heartbeat(
    State(state): State<AppState>,
    caller: Caller,
    Path(equipment): Path<String>,
) -> ApiResult<Json<PushReport>> {
    let equipment = reference(&equipment)?;
    let observation = Observation {
        equipment: equipment.clone(),
        check: CheckName::parse(checks::HEARTBEAT).expect("constant"),
        at: caller.now_ms,
        status: Some(CheckStatus::Up),
        detail: None,
        samples: Vec::new(),
        facts: BTreeMap::new(),
    };
    let report = crate::alarms::record(
        &state,
        &caller.actor,
        None,
        vec![observation],
        caller.now_ms,
    )
    .await?;
    if !report.unknown_equipment.is_empty() {
        return Err(ApiError::not_found());
    }
    Ok(Json(PushReport {
        duplicate: false,
        accepted: report.accepted,
        stale: report.stale,
        samples: 0,
        changes: report.changes.len(),
        unknown_equipment: Vec::new(),
    }))
}

#[derive(Debug, Serialize)]
struct States {
    items: Vec<CurrentState>,
}

async fn equipment_state(
    State(state): State<AppState>,
    caller: Caller,
    Path(equipment): Path<String>,
) -> ApiResult<Json<States>> {
    let items = state
        .store
        .current_states(&caller.actor, &Scope::Equipment(reference(&equipment)?))
        .await?;
    Ok(Json(States { items }))
}

async fn site_state(
    State(state): State<AppState>,
    caller: Caller,
    Path(site): Path<String>,
) -> ApiResult<Json<States>> {
    let items = state
        .store
        .current_states(&caller.actor, &Scope::Site(reference(&site)?))
        .await?;
    Ok(Json(States { items }))
}

/// The history window: the last 30 days by default.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HistoryParams {
    from: Option<i64>,
    to: Option<i64>,
    after: Option<i64>,
    limit: Option<i64>,
}

const THIRTY_DAYS_MS: i64 = 30 * 24 * 3_600_000;
const DEFAULT_HISTORY_ROWS: i64 = 1_000;

#[derive(Debug, Serialize)]
struct History {
    items: Vec<StoredChange>,
    /// Pass as `after` for the next page; absent on the last one.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_after: Option<i64>,
}

fn window(now: i64, from: Option<i64>, to: Option<i64>) -> Result<(i64, i64), ApiError> {
    let to = to.unwrap_or(now.saturating_add(1));
    let from = from.unwrap_or(to.saturating_sub(THIRTY_DAYS_MS));
    if from >= to {
        return Err(ApiError::bad_request("from doit précéder to"));
    }
    Ok((from, to))
}

async fn history(
    state: AppState,
    caller: Caller,
    scope: Scope,
    params: HistoryParams,
) -> ApiResult<Json<History>> {
    let (from, to) = window(caller.now_ms, params.from, params.to)?;
    let limit = params
        .limit
        .unwrap_or(DEFAULT_HISTORY_ROWS)
        .clamp(1, vigie_store::supervision::MAX_HISTORY_ROWS);
    let items = state
        .store
        .state_changes(&caller.actor, &scope, from, to, params.after, limit)
        .await?;
    let next_after = (items.len() as i64 == limit)
        .then(|| items.last().map(|c| c.id))
        .flatten();
    Ok(Json(History { items, next_after }))
}

async fn equipment_history(
    State(state): State<AppState>,
    caller: Caller,
    Path(equipment): Path<String>,
    QueryParams(params): QueryParams<HistoryParams>,
) -> ApiResult<Json<History>> {
    let scope = Scope::Equipment(reference(&equipment)?);
    history(state, caller, scope, params).await
}

async fn site_history(
    State(state): State<AppState>,
    caller: Caller,
    Path(site): Path<String>,
    QueryParams(params): QueryParams<HistoryParams>,
) -> ApiResult<Json<History>> {
    let scope = Scope::Site(reference(&site)?);
    history(state, caller, scope, params).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SampleParams {
    metric: String,
    from: Option<i64>,
    to: Option<i64>,
    resolution: Option<String>,
}

#[derive(Debug, Serialize)]
struct Series {
    metric: String,
    resolution: Resolution,
    points: Vec<Point>,
}

/// Raw samples for windows up to two days; hourly points beyond, unless asked otherwise.
const RAW_WINDOW_MS: i64 = 2 * 24 * 3_600_000;

async fn samples(
    State(state): State<AppState>,
    caller: Caller,
    Path(equipment): Path<String>,
    QueryParams(params): QueryParams<SampleParams>,
) -> ApiResult<Json<Series>> {
    let equipment = reference(&equipment)?;
    let metric = MetricName::parse(&params.metric)
        .map_err(|e| ApiError::bad_request(format!("metric : {e}")))?;
    let (from, to) = window(caller.now_ms, params.from, params.to)?;
    let resolution = match params.resolution.as_deref() {
        None if to - from <= RAW_WINDOW_MS => Resolution::Raw,
        None | Some("hourly") => Resolution::Hourly,
        Some("raw") => Resolution::Raw,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "resolution : « {other} » inconnue (raw ou hourly)"
            )));
        }
    };
    let points = state
        .store
        .samples(&caller.actor, &equipment, &metric, from, to, resolution)
        .await?;
    Ok(Json(Series {
        metric: metric.to_string(),
        resolution,
        points,
    }))
}

#[derive(Debug, Serialize)]
struct Probes {
    items: Vec<ProbeRecord>,
}

async fn probes(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Probes>> {
    Ok(Json(Probes {
        items: state.store.probes(&caller.actor).await?,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TrapParams {
    unknown: Option<bool>,
    limit: Option<i64>,
}

#[derive(Debug, Serialize)]
struct Traps {
    items: Vec<TrapRecord>,
}

async fn traps(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(params): QueryParams<TrapParams>,
) -> ApiResult<Json<Traps>> {
    let items = state
        .store
        .traps(
            &caller.actor,
            params.unknown.unwrap_or(false),
            params.limit.unwrap_or(DEFAULT_HISTORY_ROWS),
        )
        .await?;
    Ok(Json(Traps { items }))
}
