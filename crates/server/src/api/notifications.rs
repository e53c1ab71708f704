//! On-call rotations, who is on call, the supervision console's feed, and the two ways to
//! acknowledge without logging in (NOT-3, NOT-4): the signed link of an SMS or email — a page
//! (`web/links.rs`) that shows what it acknowledges, and a button, so that a mail scanner
//! opening the link acknowledges nothing — and the 6-digit code of an SMS reply through the gateway's inbound
//! webhook, and the key a person presses during a call (`tapez 1`), posted by the voice
//! gateway to the call's signed callback address (issue 26, item 3). Each is bound to one page
//! (hence one alarm and one recipient) and expires. And the
//! outbox itself, every page and ticket message, for the staff (`vigie demo` keeps them there).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use vigie_domain::Reference;
use vigie_domain::alarm::escalation::CONSOLE;
use vigie_domain::alarm::escalation::Notice;
use vigie_domain::alarm::lifecycle::{AlarmId, LifecycleError};
use vigie_domain::inventory::{ObjectKind, Record};
use vigie_domain::oncall::{self, Rotation};
use vigie_store::{ClaimedNotification, StoredNotification};

/// An alarm's page that a link or an SMS reply names (the store never gives a ticket message
/// for these: they carry no link nor code). The link's page is in `web/links.rs`.
pub(crate) struct LinkedPage {
    pub id: i64,
    pub notice: Notice,
}

impl LinkedPage {
    pub(crate) fn of(claimed: ClaimedNotification) -> Option<LinkedPage> {
        Some(LinkedPage {
            id: claimed.id,
            notice: claimed.notice()?.clone(),
        })
    }
}

use crate::AppState;
use crate::alarms::{Step, StepError};
use crate::api::{JsonBody, QueryParams};
use crate::auth::Caller;
use crate::delivery::{read_keypad_token, reply_code};
use crate::error::{ApiError, ApiResult};

/// The largest inbound SMS body read.
const MAX_INBOUND_BYTES: usize = 16 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/rotations", get(rotations))
        .route(
            "/api/v1/rotations/{name}",
            get(rotation).put(put_rotation).delete(delete_rotation),
        )
        .route("/api/v1/rotations/{name}/swap", post(swap))
        .route("/api/v1/oncall", get(who_is_on_call))
        .route("/api/v1/oncall/coverage", get(coverage))
        .route("/api/v1/oncall/figures", get(figures))
        .route("/api/v1/console", get(console))
        .route("/api/v1/notifications", get(outbox))
        .route("/api/v1/sms/inbound", post(sms_inbound))
        .route("/api/v1/voice/keypad/{token}", post(voice_keypad))
}

async fn rotations(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<Rotation>>> {
    Ok(Json(state.store.rotations(&caller.actor).await?))
}

async fn rotation(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<Json<Rotation>> {
    state
        .store
        .rotations(&caller.actor)
        .await?
        .into_iter()
        .find(|r| r.name.as_str() == name)
        .map(Json)
        .ok_or_else(ApiError::not_found)
}

async fn put_rotation(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    JsonBody(rotation): JsonBody<Rotation>,
) -> ApiResult<Json<Rotation>> {
    if rotation.name.as_str() != name {
        return Err(ApiError::bad_request(format!(
            "le nom de l'astreinte ({}) diffère de celui de l'adresse ({name})",
            rotation.name
        )));
    }
    rotation
        .check()
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", e.to_string()))?;
    state
        .store
        .put_rotation(&caller.actor, &rotation, caller.now_ms)
        .await?;
    rotations_changed(&state).await;
    Ok(Json(rotation))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SwapRequest {
    /// An instant of each of the two shifts to exchange (ms UTC or RFC 3339).
    first: String,
    second: String,
}

/// Two members exchange their shifts: two overrides added to the rotation, checked and
/// audited like any change.
async fn swap(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    JsonBody(request): JsonBody<SwapRequest>,
) -> ApiResult<Json<Rotation>> {
    let mut rotation = state
        .store
        .rotations(&caller.actor)
        .await?
        .into_iter()
        .find(|r| r.name.as_str() == name)
        .ok_or_else(ApiError::not_found)?;
    let invalid = |e: vigie_domain::oncall::OnCallError| {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", e.to_string())
    };
    let overrides = rotation
        .swap(instant(&request.first)?, instant(&request.second)?)
        .map_err(invalid)?;
    rotation.overrides.extend(overrides);
    rotation.check().map_err(invalid)?;
    state
        .store
        .put_rotation(&caller.actor, &rotation, caller.now_ms)
        .await?;
    rotations_changed(&state).await;
    Ok(Json(rotation))
}

async fn delete_rotation(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    let name = Reference::parse(&name).map_err(|_| ApiError::not_found())?;
    state
        .store
        .delete_rotation(&caller.actor, &name, caller.now_ms)
        .await?;
    rotations_changed(&state).await;
    Ok(StatusCode::NO_CONTENT)
}

/// A rotation changed: whether someone is on call is checked again at once, so that a gap
/// just filled resolves its alarm (and a gap just made raises one) without waiting for the
/// next minute's check. The change is saved whatever the check says.
pub(crate) async fn rotations_changed(state: &AppState) {
    if let Err(error) = crate::delivery::check_rotations(state).await {
        tracing::warn!(%error, "vérification des astreintes après modification");
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AtParams {
    /// UTC epoch ms or RFC 3339; now when absent.
    at: Option<String>,
    /// A site: who answers for it, through its territory and fallbacks (issue 26, item 1).
    site: Option<String>,
}

/// Reads an instant given as epoch milliseconds or RFC 3339 (`2026-11-29T03:00:00+01:00`).
pub(crate) fn instant(text: &str) -> ApiResult<i64> {
    if let Ok(ms) = text.parse::<i64>() {
        return Ok(ms);
    }
    text.parse::<jiff::Timestamp>()
        .map(|t| t.as_millisecond())
        .map_err(|_| {
            ApiError::bad_request(format!(
                "instant illisible « {text} » : millisecondes UTC ou RFC 3339 (2026-11-29T03:00:00+01:00)"
            ))
        })
}

#[derive(Debug, Serialize)]
struct OnCallNow {
    rotation: Reference,
    duty: oncall::Duty,
    /// Absent when nobody is on call (before the rotation's start).
    #[serde(skip_serializing_if = "Option::is_none")]
    member: Option<Reference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<i64>,
    by_override: bool,
}

#[derive(Debug, Serialize)]
struct OnCallAnswer {
    at: i64,
    rotations: Vec<OnCallNow>,
    /// Rotations with nobody on call at `at`.
    uncovered: Vec<Reference>,
    /// With `site`: the technician who answers for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    site: Option<SiteOnCall>,
}

/// Who answers for one site's technicians' duty at an instant, and through which rotation.
#[derive(Debug, Serialize)]
struct SiteOnCall {
    site: Reference,
    /// None: nobody (the on-call manager is told instead).
    rotation: Option<Reference>,
    member: Option<Reference>,
    /// The rotations passed, which had nobody on call.
    passed: Vec<Reference>,
}

async fn who_is_on_call(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(params): QueryParams<AtParams>,
) -> ApiResult<Json<OnCallAnswer>> {
    let at = match &params.at {
        Some(text) => instant(text)?,
        None => caller.now_ms,
    };
    let rotations = state.store.rotations(&caller.actor).await?;
    let site = match &params.site {
        Some(text) => {
            let reference =
                Reference::parse(text).map_err(|e| ApiError::bad_request(format!("site : {e}")))?;
            let Record::Site(site) = state
                .store
                .get(&caller.actor, ObjectKind::Site, &reference)
                .await?
            else {
                return Err(ApiError::not_found());
            };
            let territories = state.store.territories(&caller.actor).await?;
            let place = oncall::Place {
                site: &site.reference,
                client: &site.client,
            };
            let answer = oncall::route(
                &rotations,
                &territories,
                Some(place),
                oncall::Duty::Technician,
                at,
            );
            Some(SiteOnCall {
                site: site.reference.clone(),
                rotation: answer.as_ref().map(|a| a.rotation.clone()),
                member: answer.as_ref().map(|a| a.on_call.member.clone()),
                passed: match answer {
                    Some(answer) => answer.passed,
                    None => oncall::fallback_order(
                        &rotations,
                        &territories,
                        Some(place),
                        oncall::Duty::Technician,
                    )
                    .iter()
                    .map(|r| r.name.clone())
                    .collect(),
                },
            })
        }
        None => None,
    };
    let answer = OnCallAnswer {
        at,
        site,
        uncovered: oncall::uncovered(&rotations, at),
        rotations: rotations
            .iter()
            .map(|rotation| {
                let shift = rotation.on_call_at(at);
                OnCallNow {
                    rotation: rotation.name.clone(),
                    duty: rotation.duty,
                    member: shift.as_ref().map(|s| s.member.clone()),
                    from: shift.as_ref().map(|s| s.from_ms),
                    to: shift.as_ref().map(|s| s.to_ms),
                    by_override: shift.is_some_and(|s| s.by_override),
                }
            })
            .collect(),
    };
    Ok(Json(answer))
}

/// What the coverage check answers: the gaps of the coming 14 days.
#[derive(Debug, Serialize)]
struct Coverage {
    from: i64,
    to: i64,
    gaps: Vec<oncall::CoverageGap>,
}

/// `GET /api/v1/oncall/coverage`: where nobody will be on call for the technicians in the
/// coming 14 days, site by site (issue 26, item 1).
async fn coverage(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Coverage>> {
    let from = caller.now_ms;
    let gaps = state.store.oncall_coverage(&caller.actor, from).await?;
    Ok(Json(Coverage {
        from,
        to: from.saturating_add(oncall::COVERAGE_HORIZON_MS),
        gaps,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PeriodParams {
    /// UTC epoch ms or RFC 3339; 30 days before `to` when absent.
    from: Option<String>,
    /// Now when absent.
    to: Option<String>,
}

/// The period of on-call figures: 30 days by default, 400 at most.
pub(crate) const FIGURES_DEFAULT_DAYS: i64 = 30;
pub(crate) const FIGURES_MAX_DAYS: i64 = 400;

/// The on-call figures of `[from, to)` (issue 26, item 7), for the API and the page alike.
pub(crate) async fn figures_of(
    state: &AppState,
    caller: &Caller,
    from: i64,
    to: i64,
) -> ApiResult<vigie_domain::oncall_load::Figures> {
    if from >= to {
        return Err(ApiError::bad_request("from doit précéder to"));
    }
    if to - from > FIGURES_MAX_DAYS * 86_400_000 {
        return Err(ApiError::bad_request(format!(
            "une période de {FIGURES_MAX_DAYS} jours au plus"
        )));
    }
    let (pages, alarms) = state
        .store
        .oncall_load(&caller.actor, from, to)
        .await
        .map_err(|error| match error {
            vigie_store::StoreError::Invalid(message) => ApiError::bad_request(message),
            other => other.into(),
        })?;
    let rotations = state.store.rotations(&caller.actor).await?;
    let territories = state.store.territories(&caller.actor).await?;
    let paris = vigie_domain::calendar::Calendar::business().time_zone;
    Ok(vigie_domain::oncall_load::figures(
        &pages,
        &alarms,
        &rotations,
        &territories,
        &paris,
    ))
}

/// `GET /api/v1/oncall/figures`: pages per person per week, nights woken, MTTA and MTTR per
/// rotation, territory and client (issue 26, item 7).
async fn figures(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(params): QueryParams<PeriodParams>,
) -> ApiResult<Json<vigie_domain::oncall_load::Figures>> {
    let to = match &params.to {
        Some(text) => instant(text)?,
        None => caller.now_ms,
    };
    let from = match &params.from {
        Some(text) => instant(text)?,
        None => to - FIGURES_DEFAULT_DAYS * 86_400_000,
    };
    Ok(Json(figures_of(&state, &caller, from, to).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FeedParams {
    before: Option<i64>,
    limit: Option<i64>,
}

#[derive(Debug, Serialize)]
struct Feed {
    items: Vec<StoredNotification>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_before: Option<i64>,
}

fn feed_limit(params: &FeedParams) -> i64 {
    params
        .limit
        .unwrap_or(vigie_store::DEFAULT_PAGE_SIZE)
        .clamp(1, vigie_store::MAX_PAGE_SIZE)
}

impl Feed {
    /// A page of `limit` asked for: the next page starts below its last when it is full.
    fn of(items: Vec<StoredNotification>, limit: i64) -> Feed {
        let next_before = (items.len() as i64 == limit)
            .then(|| items.last().map(|n| n.id))
            .flatten();
        Feed { items, next_before }
    }
}

/// The supervision team's feed: one entry per escalation step and per page that failed for
/// good (NOT-1), newest first.
async fn console(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(params): QueryParams<FeedParams>,
) -> ApiResult<Json<Feed>> {
    let limit = feed_limit(&params);
    let items = state
        .store
        .console_feed(&caller.actor, params.before, limit)
        .await?;
    Ok(Json(Feed::of(items, limit)))
}

/// The outbox, newest first: every page and ticket message by every channel and what became
/// of it — under `vigie demo`, where they all stay, recorded sent, instead of leaving. Staff
/// only (403 for a client user, as the console feed).
async fn outbox(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(params): QueryParams<FeedParams>,
) -> ApiResult<Json<Feed>> {
    let limit = feed_limit(&params);
    let items = state
        .store
        .recent_notifications(&caller.actor, params.before, limit)
        .await?;
    Ok(Json(Feed::of(items, limit)))
}

/// Acknowledges `alarm` in the name of the page's recipient (X-1: the event says who).
pub(crate) async fn acknowledge_for(
    state: &AppState,
    page: &LinkedPage,
) -> Result<(), (StatusCode, String)> {
    let recipient = &page.notice.page.recipient;
    // NOT-4: a client's page (security manager, contact, CIO) never stops the escalation,
    // whatever link it was given.
    if !page.notice.page.staff {
        return Err((
            StatusCode::FORBIDDEN,
            "seul le personnel de l'intégrateur peut acquitter une alarme : votre notification \
             vous informe, l'équipe d'astreinte s'en occupe"
                .to_owned(),
        ));
    }
    let by = Reference::parse(recipient).map_err(|_| {
        (
            StatusCode::NOT_FOUND,
            "cette notification ne permet pas d'acquitter".to_owned(),
        )
    })?;
    match state
        .alarms
        .step(state, page.notice.alarm.id, Step::Acknowledge, by)
        .await
    {
        Ok(_) => Ok(()),
        Err(StepError::Refused(LifecycleError::Conflict(message))) => {
            Err((StatusCode::CONFLICT, message))
        }
        Err(StepError::Refused(LifecycleError::Unknown(message))) => {
            Err((StatusCode::CONFLICT, message))
        }
        Err(StepError::Refused(other)) => Err((StatusCode::FORBIDDEN, other.to_string())),
        Err(StepError::Store(error)) => {
            tracing::error!(%error, "acquittement sans connexion non enregistré");
            Err((
                StatusCode::SERVICE_UNAVAILABLE,
                "service momentanément indisponible : réessayez dans un instant".to_owned(),
            ))
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InboundParams {
    secret: Option<String>,
}

#[derive(Debug, Serialize)]
struct InboundAnswer {
    acknowledged: Option<AlarmId>,
    message: String,
}

/// The gateway's inbound webhook: a reply « 482913 » from the number a page was sent to
/// acknowledges that page's alarm, if the page is recent enough.
async fn sms_inbound(
    State(state): State<AppState>,
    QueryParams(params): QueryParams<InboundParams>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Json<InboundAnswer>> {
    let expected = &state.config.sms.inbound_secret.0;
    if expected.is_empty() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "réception des SMS non configurée ([sms] inbound_secret)",
        ));
    }
    if !params
        .secret
        .as_deref()
        .is_some_and(|given| crate::auth::same_secret(given, expected))
    {
        return Err(ApiError::unauthenticated());
    }
    if body.len() > MAX_INBOUND_BYTES {
        return Err(ApiError::bad_request("message entrant trop long"));
    }
    let config = vigie_notify::InboundSmsConfig {
        from_field: state.config.sms.inbound_from_field.clone(),
        text_field: state.config.sms.inbound_text_field.clone(),
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let inbound = vigie_notify::parse_inbound(&config, content_type, &body)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let Some(code) = vigie_notify::reply_code(&inbound.text) else {
        return Ok(Json(InboundAnswer {
            acknowledged: None,
            message: "aucun code d'acquittement dans la réponse".into(),
        }));
    };
    let now = state.clock.now_ms();
    let since =
        now.saturating_sub(i64::from(state.config.notifications.acknowledgement_hours) * 3_600_000);
    let key = state.deliveries.key().await?;
    let pages = state.store.recent_sms_to(&inbound.from, since).await?;
    let Some(page) = pages.into_iter().filter_map(LinkedPage::of).find(|p| {
        p.notice.page.recipient != CONSOLE && p.notice.page.staff && reply_code(&key, p.id) == code
    }) else {
        tracing::warn!(from = %inbound.from, "code d'acquittement par SMS inconnu ou expiré");
        return Ok(Json(InboundAnswer {
            acknowledged: None,
            message: "code inconnu ou expiré pour ce numéro".into(),
        }));
    };
    answer_acknowledgement(&state, &page, "par SMS", |id| {
        format!("alarme n°{id} acquittée")
    })
    .await
}

/// Acknowledges `page`'s alarm for a gateway (an SMS reply, a call's keypad) and says so to
/// it: the acknowledgement's number and `said` of it, or why not; a store out of reach is a
/// 503, so that the gateway tries again.
async fn answer_acknowledgement(
    state: &AppState,
    page: &LinkedPage,
    how: &str,
    said: impl Fn(AlarmId) -> String,
) -> ApiResult<Json<InboundAnswer>> {
    let id = page.notice.alarm.id;
    match acknowledge_for(state, page).await {
        Ok(()) => {
            tracing::info!(alarm = id, by = %page.notice.page.recipient, "alarme acquittée {how}");
            Ok(Json(InboundAnswer {
                acknowledged: Some(id),
                message: said(id),
            }))
        }
        Err((StatusCode::SERVICE_UNAVAILABLE, message)) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            message,
        )),
        Err((_, message)) => Ok(Json(InboundAnswer {
            acknowledged: None,
            message,
        })),
    }
}

/// The voice gateway's keypad callback (issue 26, item 3): the keys a person pressed during
/// the call of page `token` names. `1` acknowledges that page's alarm in their name, as an SMS
/// reply code does; other keys change nothing. The answer's `message` is short French the
/// gateway may read back to the caller.
async fn voice_keypad(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Json<InboundAnswer>> {
    let unknown = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "appel inconnu : adresse de rappel invalide",
        )
    };
    let key = state.deliveries.key().await?;
    let id = read_keypad_token(&key, &token).ok_or_else(unknown)?;
    if body.len() > MAX_INBOUND_BYTES {
        return Err(ApiError::bad_request("corps trop long"));
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let keys = vigie_notify::read_keypad(&state.config.voice.keypad_field, content_type, &body)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let claimed = state.store.notification(id).await?.ok_or_else(unknown)?;
    let hours = i64::from(state.config.notifications.acknowledgement_hours);
    if state.clock.now_ms() >= claimed.created_ms.saturating_add(hours * 3_600_000) {
        return Err(ApiError::new(
            StatusCode::GONE,
            "expired",
            "appel trop ancien : l'acquittement par les touches a expiré",
        ));
    }
    let page = LinkedPage::of(claimed)
        .filter(|p| p.notice.page.channel == vigie_domain::policy::Channel::Voice)
        .ok_or_else(unknown)?;
    if keys != vigie_domain::alarm::escalation::VOICE_ACKNOWLEDGE_DIGIT {
        return Ok(Json(InboundAnswer {
            acknowledged: None,
            message: format!(
                "touche non reconnue : tapez {} pour acquitter",
                vigie_domain::alarm::escalation::VOICE_ACKNOWLEDGE_DIGIT
            ),
        }));
    }
    answer_acknowledgement(&state, &page, "par appel vocal", |id| {
        format!("alarme numéro {id} acquittée, merci")
    })
    .await
}
