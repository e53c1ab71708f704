//! The service desk's tickets (DEC-4, CM-2, SAV-1, SAV-3, SAV-6, X-1, X-2): open one (a client
//! through the portal or the API, staff for a call, an email or on a client's behalf), read the
//! queue most urgent first, read one ticket with every step of its life, and take the steps:
//! acknowledge, take in charge, plan, on site, wait for the client, resolve, close; re-qualify
//! with a reason; assign. A client user sees and opens only its own client's tickets, and may
//! only confirm a fix or answer a question.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use vigie_domain::Reference;
use vigie_domain::access::Permission;
use vigie_domain::inventory::Priority;
use vigie_domain::ticket::desk::{
    Impact, Kind, Note, Report, Source, Ticket, TicketEvent, TicketNumber,
};
use vigie_domain::ticket::{Action, StatedCriticality, Status};
use vigie_store::{TicketChange, TicketFilter, TicketStep};

use crate::AppState;
use crate::api::{JsonBody, QueryParams};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/tickets", get(list).post(open))
        .route("/api/v1/tickets/{number}", get(one))
        .route("/api/v1/tickets/{number}/actions", post(act))
        .route("/api/v1/tickets/{number}/requalify", post(requalify))
        .route("/api/v1/tickets/{number}/assign", post(assign))
        .route("/api/v1/tickets/{number}/notes", post(note))
        .route("/api/v1/tickets/{number}/updates", post(update))
        .route("/api/v1/tickets/{number}/close", post(close))
        .route("/api/v1/tickets/{number}/resolution", post(resolution))
        .route("/api/v1/tickets/{number}/location", post(locate))
        .route("/api/v1/tickets/{number}/told-by", post(told_by))
        .route(
            "/api/v1/tickets/{number}/post-mortem",
            get(post_mortem).put(write_post_mortem),
        )
        .route(
            "/api/v1/tickets/{number}/post-mortem/publish",
            post(publish_post_mortem),
        )
}

/// What the guided form or a technician sends to open a ticket.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OpenRequest {
    /// Required for staff; a client user's own client otherwise.
    client: Option<Reference>,
    site: Option<Reference>,
    equipment: Option<Reference>,
    kind: Option<Kind>,
    /// Staff only: `phone` (a call recorded), `email`, `api`; a client user's is `portal`.
    source: Option<Source>,
    symptom: String,
    impact: Option<Impact>,
    stated_criticality: Option<StatedCriticality>,
    reporter: Option<String>,
    /// Where the acknowledgement goes (SAV-2); else the site's contacts.
    reply_to: Option<vigie_domain::EmailAddress>,
}

async fn open(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<OpenRequest>,
) -> ApiResult<(StatusCode, Json<TicketChange>)> {
    if !caller.actor.may(Permission::OpenTickets) {
        return Err(ApiError::forbidden(
            "vos droits ne permettent pas d'ouvrir un ticket",
        ));
    }
    let staff = caller.actor.is_staff();
    let client = match (request.client, caller.actor.visibility().client()) {
        (Some(client), _) => client,
        (None, Some(own)) => own.clone(),
        (None, None) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                "client : obligatoire (le client pour lequel le ticket est ouvert)",
            ));
        }
    };
    let source = match (staff, request.source) {
        (true, Some(source)) => source,
        (true, None) => Source::Api,
        (false, None | Some(Source::Portal)) => Source::Portal,
        (false, Some(other)) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                format!(
                    "source « {} » : un client ouvre ses tickets par le portail",
                    other.key()
                ),
            ));
        }
    };
    let report = Report {
        client,
        site: request.site,
        equipment: request.equipment,
        kind: request.kind.unwrap_or(Kind::Request),
        source,
        symptom: request.symptom,
        impact: request.impact,
        stated_criticality: request.stated_criticality,
        reporter: request.reporter,
        reply_to: request.reply_to,
        alarm: None,
        topic: None,
    };
    let change = open_report(&state, &caller, report).await?;
    Ok((StatusCode::CREATED, Json(change)))
}

/// Opens a ticket from a report (API and pages alike): the messages it queued are woken for
/// delivery, and the open pages hear of it.
pub(crate) async fn open_report(
    state: &AppState,
    caller: &Caller,
    report: Report,
) -> Result<TicketChange, vigie_store::StoreError> {
    let change = state
        .store
        .open_ticket(
            &caller.actor,
            &state.escalation().policy,
            report,
            None,
            Some(by(caller)),
            caller.now_ms,
        )
        .await?;
    changed(state, &change);
    Ok(change)
}

/// Takes a person's step on a ticket (API and pages alike), then wakes delivery for the
/// messages it queued and tells the open pages.
pub(crate) async fn take_ticket_step(
    state: &AppState,
    caller: &Caller,
    number: TicketNumber,
    step: TicketStep,
) -> Result<TicketChange, vigie_store::StoreError> {
    let change = state
        .store
        .ticket_step(
            &caller.actor,
            &state.escalation().policy,
            number,
            step,
            &by(caller),
            caller.now_ms,
        )
        .await?;
    changed(state, &change);
    Ok(change)
}

fn changed(state: &AppState, change: &TicketChange) {
    state.deliveries.wake();
    state.live.publish(
        crate::web::Topic::Tickets,
        Some(change.ticket.report.client.clone()),
    );
}

/// Who a step is recorded as: the staff member's record, or the client user.
pub(crate) fn by(caller: &Caller) -> Reference {
    if let Some(staff) = caller.actor.staff() {
        return staff.clone();
    }
    Reference::parse(&caller.user.username)
        .ok()
        .or_else(|| caller.user.client.clone())
        .unwrap_or_else(|| Reference::parse("inconnu").expect("a valid reference"))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    client: Option<Reference>,
    site: Option<Reference>,
    status: Option<String>,
    priority: Option<Priority>,
    assignee: Option<Reference>,
    open: Option<bool>,
    /// Only those whose next deadline falls at or before this instant (epoch ms).
    due_before: Option<i64>,
    after: Option<TicketNumber>,
    limit: Option<i64>,
}

#[derive(Debug, Serialize)]
struct Page {
    items: Vec<Ticket>,
    /// Pass as `after` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_after: Option<TicketNumber>,
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(params): QueryParams<ListParams>,
) -> ApiResult<Json<Page>> {
    let status = params
        .status
        .as_deref()
        .map(|s| {
            Status::parse(s).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "status « {s} » inconnu (new, acknowledged, in_progress, waiting_for_client, on_site, resolved, closed)"
                ))
            })
        })
        .transpose()?;
    let limit = params
        .limit
        .unwrap_or(vigie_store::DEFAULT_PAGE_SIZE)
        .clamp(1, vigie_store::MAX_TICKET_PAGE);
    let filter = TicketFilter {
        client: params.client,
        site: params.site,
        status,
        priority: params.priority,
        assignee: params.assignee,
        open: params.open,
        due_before: params.due_before,
        after: params.after,
        limit: Some(limit),
    };
    let items = state.store.tickets(&caller.actor, &filter).await?;
    let next_after = (items.len() as i64 == limit)
        .then(|| items.last().map(|t| t.number))
        .flatten();
    Ok(Json(Page { items, next_after }))
}

#[derive(Debug, Serialize)]
struct WithEvents {
    #[serde(flatten)]
    ticket: Ticket,
    events: Vec<TicketEvent>,
}

fn ticket_number(text: &str) -> ApiResult<TicketNumber> {
    text.parse()
        .map_err(|_| ApiError::bad_request(format!("numéro de ticket invalide : « {text} »")))
}

async fn one(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
) -> ApiResult<Json<WithEvents>> {
    let number = ticket_number(&number)?;
    let (ticket, events) = state.store.ticket(&caller.actor, number).await?;
    Ok(Json(WithEvents { ticket, events }))
}

async fn step(
    state: &AppState,
    caller: &Caller,
    number: &str,
    step: TicketStep,
) -> ApiResult<Json<TicketChange>> {
    let number = ticket_number(number)?;
    let change = take_ticket_step(state, caller, number, step).await?;
    Ok(Json(change))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ActRequest {
    action: Action,
}

async fn act(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
    JsonBody(request): JsonBody<ActRequest>,
) -> ApiResult<Json<TicketChange>> {
    step(&state, &caller, &number, TicketStep::Act(request.action)).await
}

/// INC-5: resolved with its cause, actions, intervention time and impact on the security
/// data (`vigie_domain::ticket::desk::Resolution`).
async fn resolution(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
    JsonBody(request): JsonBody<vigie_domain::ticket::desk::Resolution>,
) -> ApiResult<Json<TicketChange>> {
    step(&state, &caller, &number, TicketStep::Resolve(request)).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LocateRequest {
    site: Reference,
    equipment: Option<Reference>,
}

/// CM-2: the site and equipment a ticket is about, once known (an email that did not say).
async fn locate(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
    JsonBody(request): JsonBody<LocateRequest>,
) -> ApiResult<Json<TicketChange>> {
    step(
        &state,
        &caller,
        &number,
        TicketStep::Locate {
            site: request.site,
            equipment: request.equipment,
        },
    )
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ToldByRequest {
    told_by: vigie_domain::ticket::desk::ToldBy,
}

/// Issue 25, item 12: how the client is told of its ticket from now on (email, SMS or both),
/// chosen by the client itself (or by the desk for it).
async fn told_by(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
    JsonBody(request): JsonBody<ToldByRequest>,
) -> ApiResult<Json<TicketChange>> {
    step(
        &state,
        &caller,
        &number,
        TicketStep::ChooseToldBy(request.told_by),
    )
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PostMortemParams {
    /// The client's names hidden, for internal lessons (INC-6).
    anonymised: Option<bool>,
}

/// INC-6: the post-mortem of a P1 with the incident's timeline: staff read the draft, the
/// client once it is shared.
async fn post_mortem(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
    QueryParams(params): QueryParams<PostMortemParams>,
) -> ApiResult<Json<vigie_store::tickets::PostMortemView>> {
    let number = ticket_number(&number)?;
    Ok(Json(
        state
            .store
            .post_mortem(&caller.actor, number, params.anonymised.unwrap_or(false))
            .await?,
    ))
}

/// INC-6: writes (or rewrites) the analysis and the measures, until it is shared.
async fn write_post_mortem(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
    JsonBody(request): JsonBody<vigie_domain::ticket::post_mortem::PostMortemText>,
) -> ApiResult<Json<TicketChange>> {
    step(
        &state,
        &caller,
        &number,
        TicketStep::WritePostMortem(request),
    )
    .await
}

/// INC-6: shares the post-mortem with the client (by email), once complete.
async fn publish_post_mortem(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
) -> ApiResult<Json<TicketChange>> {
    step(&state, &caller, &number, TicketStep::PublishPostMortem).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RequalifyRequest {
    priority: Priority,
    reason: String,
}

async fn requalify(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
    JsonBody(request): JsonBody<RequalifyRequest>,
) -> ApiResult<Json<TicketChange>> {
    step(
        &state,
        &caller,
        &number,
        TicketStep::Requalify {
            priority: request.priority,
            reason: request.reason,
        },
    )
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateRequest {
    text: String,
}

/// INC-4: a point on the incident, sent to the client's technical contact (and management for
/// a P1) by email and SMS; it is the `update_client` step (the cadence restarts).
async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
    JsonBody(request): JsonBody<UpdateRequest>,
) -> ApiResult<Json<TicketChange>> {
    step(
        &state,
        &caller,
        &number,
        TicketStep::UpdateClient { text: request.text },
    )
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CloseRequest {
    #[serde(default)]
    reason: Option<String>,
}

/// SAV-6: closed by the integrator without the client's confirmation: with the reason said
/// (the client confirmed by phone: who, when), recorded and shown to the client; without one,
/// only once the closure reminder has gone unanswered for its 5 days (409 before).
async fn close(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
    JsonBody(request): JsonBody<CloseRequest>,
) -> ApiResult<Json<TicketChange>> {
    step(
        &state,
        &caller,
        &number,
        TicketStep::Close {
            reason: request.reason,
        },
    )
    .await
}

/// A message, a call, a diagnosis (CM-5), an intervention scheduled or an escalation to the
/// referent engineer (CM-6), recorded on the ticket by a staff member.
async fn note(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
    JsonBody(note): JsonBody<Note>,
) -> ApiResult<Json<TicketChange>> {
    step(&state, &caller, &number, TicketStep::Note(note)).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignRequest {
    to: Reference,
}

async fn assign(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
    JsonBody(request): JsonBody<AssignRequest>,
) -> ApiResult<Json<TicketChange>> {
    step(
        &state,
        &caller,
        &number,
        TicketStep::Assign { to: request.to },
    )
    .await
}
