//! The service desk's tickets (DEC-4, CM-2, CM-4, INC-2, INC-3, SAV-1, SAV-3, X-1): opened from
//! every channel, checked against the inventory and the actor's visibility, numbered in
//! the order of opening, saved with their events in one transaction; people's steps and the
//! SLA timers that fall due change them the same way. Each ticket row carries its earliest
//! running deadline, so the queue is read most urgent first and the SLA worker wakes on it.

use std::collections::BTreeSet;

use serde::Serialize;
use sqlx::{AnyConnection, Row};
use vigie_domain::Reference;
use vigie_domain::TimeZoneName;
use vigie_domain::access::{Actor, Permission};
use vigie_domain::alarm::escalation::channel_key;
use vigie_domain::inventory::{
    Contact, Contract, ContractOption, ContractTier, ObjectKind, Priority, Record, StaffRole,
};
use vigie_domain::policy::Policy;
use vigie_domain::ticket::desk::{
    self, DeskError, Report, Source, Terms, Ticket, TicketEvent, TicketNumber,
};
use vigie_domain::ticket::message::{self, TicketNotice};
use vigie_domain::ticket::notices::{self, Planned, TicketHistory, TicketPeople};
use vigie_domain::ticket::{Action, Status};

use crate::System;
use crate::inventory::{Arg, build, parse_record, require};
use crate::notifications::record_of;
use crate::supervision::visibility_condition;
use crate::{Store, StoreError};

/// The most tickets one page returns.
pub const MAX_TICKET_PAGE: i64 = 500;
/// The most events returned with one ticket.
pub const MAX_TICKET_EVENTS: i64 = 2000;
/// How many times opening retries when another process took the same number (PostgreSQL).
pub(crate) const NUMBER_ATTEMPTS: usize = 5;

/// Which tickets a list asks for. Every field narrows it.
#[derive(Debug, Clone, Default)]
pub struct TicketFilter {
    pub client: Option<Reference>,
    pub site: Option<Reference>,
    pub status: Option<Status>,
    pub priority: Option<Priority>,
    pub assignee: Option<Reference>,
    /// Only tickets not closed (true) or only closed ones (false).
    pub open: Option<bool>,
    /// Only tickets whose next deadline falls at or before this instant (the SLA at risk).
    pub due_before: Option<i64>,
    /// Keyset paging on the queue's order: the page after this ticket.
    pub after: Option<TicketNumber>,
    pub limit: Option<i64>,
}

/// A step a person takes on a ticket.
#[derive(Debug, Clone)]
pub enum TicketStep {
    Act(Action),
    Requalify {
        priority: Priority,
        reason: String,
    },
    Assign {
        to: Reference,
    },
    /// A message, a call, a diagnosis, an intervention scheduled, an escalation.
    Note(desk::Note),
    /// INC-4: a point on the incident sent to the client (the `update_client` step).
    UpdateClient {
        text: String,
    },
    /// SAV-6: closed without the client's confirmation: after the reminder went unanswered,
    /// or with the reason said (the client confirmed by phone: who, when).
    Close {
        reason: Option<String>,
    },
    /// INC-5: resolved with its cause, actions, time and impact on the security data.
    Resolve(desk::Resolution),
    /// INC-6: the post-mortem's analysis and measures, written or rewritten.
    WritePostMortem(vigie_domain::ticket::post_mortem::PostMortemText),
    /// INC-6: the post-mortem shared with the client.
    PublishPostMortem,
    /// Issue 25, item 12: how the client is told of the ticket from now on (its own step).
    ChooseToldBy(desk::ToldBy),
    /// CM-2: the site (and equipment) the report is about, once known.
    Locate {
        site: Reference,
        equipment: Option<Reference>,
    },
}

/// A ticket and the events its last change wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TicketChange {
    pub ticket: Ticket,
    pub events: Vec<TicketEvent>,
    /// The technical review this ticket's opening started (INC-7: a recurring incident).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review: Option<Box<TicketChange>>,
}

impl TicketChange {
    pub(crate) fn of(ticket: Ticket, events: Vec<TicketEvent>) -> TicketChange {
        TicketChange {
            ticket,
            events,
            review: None,
        }
    }
}

/// A kind of equipment as the inventory writes it (`camera`, `nvr`…).
fn equipment_kind(kind: vigie_domain::inventory::EquipmentKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// INC-7: once `ticket` is written, the site's tickets within the policy's recurrence window
/// (`ticket.recurrence_window`, 3 months; at most the 500 most recent) are read and the domain
/// says whether it recurs (`desk::recurrence`); if so a technical review of the site is opened,
/// unless one of that kind is still open, and the ticket records it.
async fn recurrence(
    connection: &mut AnyConnection,
    policy: &Policy,
    terms: Terms,
    ticket: &Ticket,
    now: i64,
) -> Result<Option<(TicketEvent, Option<TicketChange>)>, StoreError> {
    let Some(site) = &ticket.report.site else {
        return Ok(None);
    };
    if ticket.report.topic.is_none() || ticket.report.kind == desk::Kind::Review {
        return Ok(None);
    }
    let window = i64::try_from(policy.ticket.recurrence_window.seconds())
        .unwrap_or(i64::MAX / 1000)
        .saturating_mul(1000);
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT record FROM tickets WHERE site_ref = $1 AND received_ms >= $2 AND number <> $3 ORDER BY number DESC LIMIT 500",
    )
    .bind(site.to_string())
    .bind(ticket.received_at.saturating_sub(window))
    .bind(i64::try_from(ticket.number).unwrap_or(i64::MAX))
    .fetch_all(&mut *connection)
    .await?;
    let others = rows
        .iter()
        .map(|(json,)| crate::stored::ticket::decode(json))
        .collect::<Result<Vec<_>, _>>()?;
    let Some(desk::Recurrence {
        earlier,
        open_review,
    }) = desk::recurrence(ticket, &others, window)
    else {
        return Ok(None);
    };
    let (review, opened) = match open_review {
        Some(number) => (number, None),
        None => {
            let (site_name, _) = place_of(connection, ticket).await?;
            let report = desk::review_report(
                ticket,
                &earlier,
                site_name.as_deref().unwrap_or(site.as_str()),
            );
            let number = next_number(connection).await?;
            let (review, events) =
                Ticket::open(number, report, Priority::P3, policy, terms, now, None)
                    .map_err(desk_error)?;
            insert_ticket(connection, &review, &events).await?;
            (number, Some(TicketChange::of(review, events)))
        }
    };
    let event = ticket.event(now, None, desk::EventKind::Recurrence { earlier, review });
    write_ticket(connection, ticket, std::slice::from_ref(&event)).await?;
    Ok(Some((event, opened)))
}

pub(crate) fn desk_error(error: DeskError) -> StoreError {
    match error {
        DeskError::Invalid(message) => StoreError::Invalid(message),
        DeskError::Conflict(message) => StoreError::Conflict(message),
        DeskError::Calendar(message) => StoreError::other(anyhow::anyhow!(message)),
    }
}

pub(crate) fn number_arg(number: TicketNumber) -> Arg {
    Arg::Int(i64::try_from(number).unwrap_or(i64::MAX))
}

fn priority_key(priority: Priority) -> &'static str {
    priority.key()
}

fn kind_key(kind: desk::Kind) -> &'static str {
    match kind {
        desk::Kind::Request => "request",
        desk::Kind::Incident => "incident",
        desk::Kind::Maintenance => "maintenance",
        desk::Kind::Intervention => "intervention",
        desk::Kind::Review => "review",
    }
}

/// The policy and contract terms a ticket of `client` (on `site`, if known) runs under: the
/// site's contract and overlays; without a site, the strictest of the client's contracts
/// (SAV-4: in doubt, the highest).
async fn terms_of(
    connection: &mut AnyConnection,
    base: &Policy,
    client: &Reference,
    site: Option<&Reference>,
) -> Result<(Policy, Terms), StoreError> {
    let terms = |contract: &Contract| Terms {
        tier: contract.tier,
        round_the_clock: contract.has(ContractOption::RoundTheClock),
    };
    let refused = |e: vigie_domain::policy::PolicyError| StoreError::Invalid(e.to_string());
    if let Some(site) = site {
        let Some(Record::Site(site)) = record_of(connection, ObjectKind::Site, site).await? else {
            return Err(StoreError::Invalid(format!("site {site} inconnu")));
        };
        if &site.client != client {
            return Err(StoreError::Invalid(format!(
                "le site {} n'est pas un site du client {client}",
                site.reference
            )));
        }
        let Some(Record::Contract(contract)) =
            record_of(connection, ObjectKind::Contract, &site.contract).await?
        else {
            return Err(StoreError::Invalid(format!(
                "contrat {} inconnu",
                site.contract
            )));
        };
        return Ok((
            base.for_site(&contract, &site).map_err(refused)?,
            terms(&contract),
        ));
    }
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT record FROM contracts WHERE client_ref = $1 ORDER BY ref")
            .bind(client.to_string())
            .fetch_all(&mut *connection)
            .await?;
    let mut strictest: Option<Contract> = None;
    for (json,) in rows {
        if let Record::Contract(contract) = parse_record(ObjectKind::Contract, &json)? {
            let rank = |c: &Contract| {
                (
                    c.tier == ContractTier::Premium,
                    c.has(ContractOption::RoundTheClock),
                )
            };
            if strictest.as_ref().is_none_or(|s| rank(&contract) > rank(s)) {
                strictest = Some(contract);
            }
        }
    }
    match strictest {
        Some(contract) => Ok((
            base.for_contract(&contract).map_err(refused)?,
            terms(&contract),
        )),
        None => Err(StoreError::Invalid(format!(
            "le client {client} n'a aucun contrat : un ticket ne peut pas être ouvert"
        ))),
    }
}

/// Checks what a report names against the inventory and who opens it.
async fn check_report(
    connection: &mut AnyConnection,
    actor: &Actor,
    report: &Report,
) -> Result<Option<vigie_domain::inventory::Equipment>, StoreError> {
    let visibility = actor.visibility();
    // A client user opens tickets for its own client (and its own site when bound to one);
    // naming another is the same "not found" as reading it.
    if visibility.client().is_some_and(|c| c != &report.client)
        || visibility
            .site()
            .is_some_and(|s| report.site.as_ref() != Some(s))
    {
        return Err(StoreError::NotFound);
    }
    if !actor.is_staff() && !matches!(report.source, Source::Portal | Source::Api) {
        return Err(StoreError::Forbidden(
            "un client ouvre ses tickets par le portail ou l'API".into(),
        ));
    }
    if record_of(connection, ObjectKind::Client, &report.client)
        .await?
        .is_none()
    {
        return Err(StoreError::Invalid(format!(
            "client {} inconnu",
            report.client
        )));
    }
    // Issue 23, item 8: a client user cannot make Vigie email anyone: the address its
    // acknowledgement goes to must be one of its own contacts'.
    if !actor.is_staff()
        && let Some(address) = &report.reply_to
    {
        let wanted = address.to_string().to_lowercase();
        let known = client_contacts(connection, &report.client)
            .await?
            .iter()
            .filter_map(|c| c.email.as_ref())
            .any(|email| email.to_string().to_lowercase() == wanted);
        if !known {
            return Err(StoreError::Invalid(format!(
                "adresse de réponse {address} : seule l'adresse d'un de vos contacts est acceptée ; sans adresse, l'accusé de réception va aux contacts du site"
            )));
        }
    }
    // Issue 23, item 6: another client's site or equipment is refused with the very words an
    // unknown one gets: the answer says nothing of what exists elsewhere.
    if let Some(site) = &report.site {
        match record_of(connection, ObjectKind::Site, site).await? {
            Some(Record::Site(found)) if found.client == report.client => {}
            _ => return Err(StoreError::Invalid(format!("site {site} inconnu"))),
        }
    }
    let Some(reference) = &report.equipment else {
        return Ok(None);
    };
    let unknown = || StoreError::Invalid(format!("équipement {reference} inconnu"));
    let Some(Record::Equipment(equipment)) =
        record_of(connection, ObjectKind::Equipment, reference).await?
    else {
        return Err(unknown());
    };
    match record_of(connection, ObjectKind::Site, &equipment.site).await? {
        Some(Record::Site(site)) if site.client == report.client => {}
        _ => return Err(unknown()),
    }
    match &report.site {
        Some(site) if site != &equipment.site => Err(StoreError::Invalid(format!(
            "l'équipement {reference} n'est pas sur le site {site}"
        ))),
        _ => Ok(Some(equipment)),
    }
}

fn ticket_row(ticket: &Ticket) -> Result<Vec<Arg>, StoreError> {
    let report = &ticket.report;
    Ok(vec![
        number_arg(ticket.number),
        Arg::Text(Some(report.client.to_string())),
        Arg::Text(report.site.as_ref().map(ToString::to_string)),
        Arg::Text(report.equipment.as_ref().map(ToString::to_string)),
        Arg::OptionalInt(report.alarm.map(|a| i64::try_from(a).unwrap_or(i64::MAX))),
        Arg::Text(Some(kind_key(report.kind).to_owned())),
        Arg::Text(Some(report.source.key().to_owned())),
        Arg::Text(Some(priority_key(ticket.priority).to_owned())),
        Arg::Text(Some(ticket.status.key().to_owned())),
        Arg::Text(ticket.assignee.as_ref().map(ToString::to_string)),
        Arg::Int(ticket.received_at),
        Arg::OptionalInt(ticket.next_due()),
        Arg::OptionalInt(ticket.closed_at),
        Arg::Text(Some(crate::stored::ticket::encode(ticket)?)),
    ])
}

/// Updates a ticket and inserts its new events, in the caller's transaction.
pub(crate) async fn write_ticket(
    connection: &mut AnyConnection,
    ticket: &Ticket,
    events: &[TicketEvent],
) -> Result<(), StoreError> {
    write(connection, ticket, events, false).await
}

/// Inserts a new ticket and its events: a number already taken (by another process, at the
/// same instant) is a conflict, never an overwrite.
async fn insert_ticket(
    connection: &mut AnyConnection,
    ticket: &Ticket,
    events: &[TicketEvent],
) -> Result<(), StoreError> {
    write(connection, ticket, events, true).await
}

async fn write(
    connection: &mut AnyConnection,
    ticket: &Ticket,
    events: &[TicketEvent],
    new: bool,
) -> Result<(), StoreError> {
    let tail = if new {
        ""
    } else {
        " ON CONFLICT (number) DO UPDATE SET site_ref = excluded.site_ref, equipment_ref = excluded.equipment_ref, \
         kind = excluded.kind, priority = excluded.priority, status = excluded.status, assignee_ref = excluded.assignee_ref, \
         next_due_ms = excluded.next_due_ms, closed_ms = excluded.closed_ms, record = excluded.record"
    };
    build(
        &format!(
            "INSERT INTO tickets (number, client_ref, site_ref, equipment_ref, alarm_id, kind, source, priority, status, assignee_ref, received_ms, next_due_ms, closed_ms, record) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14){tail}"
        ),
        ticket_row(ticket)?,
    )
    .execute(&mut *connection)
    .await?;
    for event in events {
        build(
            "INSERT INTO ticket_events (ticket_number, at_ms, by_ref, event, record) VALUES ($1, $2, $3, $4, $5)",
            vec![
                number_arg(event.ticket),
                Arg::Int(event.at),
                Arg::Text(event.by.as_ref().map(ToString::to_string)),
                Arg::Text(Some(event.kind.key().to_owned())),
                Arg::Text(Some(crate::stored::ticket_event::encode(event)?)),
            ],
        )
        .execute(&mut *connection)
        .await?;
    }
    Ok(())
}

/// Arbitrary, fixed key of the PostgreSQL advisory lock that numbers tickets.
const NUMBERING_LOCK_KEY: i64 = 0x5649_4749_4554;

/// The number the next ticket takes, read in the opening transaction. On PostgreSQL the
/// transaction first takes the numbering lock (released at its end), so that processes
/// opening tickets at the same instant take numbers in turn; SQLite's single writer already
/// does.
async fn next_number(connection: &mut AnyConnection) -> Result<TicketNumber, StoreError> {
    if !crate::bulk::is_sqlite(connection) {
        sqlx::query(&format!(
            "SELECT pg_advisory_xact_lock({NUMBERING_LOCK_KEY})"
        ))
        .execute(&mut *connection)
        .await?;
    }
    let (max,): (Option<i64>,) = sqlx::query_as("SELECT MAX(number) FROM tickets")
        .fetch_one(&mut *connection)
        .await?;
    Ok(max.map_or(1, |m| u64::try_from(m).unwrap_or(0) + 1))
}

pub(crate) async fn load(
    connection: &mut AnyConnection,
    number: TicketNumber,
) -> Result<Option<Ticket>, StoreError> {
    // Every change of a ticket reads it here, then writes it whole: on PostgreSQL the row is
    // locked until the transaction ends, so that two writers at once (a person's step and the
    // delivery recording a sent message) do not lose one another's change. SQLite has one
    // writer at a time.
    let sql = if crate::bulk::is_sqlite(connection) {
        "SELECT record FROM tickets WHERE number = $1"
    } else {
        "SELECT record FROM tickets WHERE number = $1 FOR UPDATE"
    };
    let row: Option<(String,)> = sqlx::query_as(sql)
        .bind(i64::try_from(number).unwrap_or(i64::MAX))
        .fetch_optional(&mut *connection)
        .await?;
    row.map(|(json,)| crate::stored::ticket::decode(&json))
        .transpose()
}

/// A ticket's client and site, for its policy.
pub(crate) async fn policy_of(
    connection: &mut AnyConnection,
    base: &Policy,
    ticket: &Ticket,
) -> Result<(Policy, Terms), StoreError> {
    terms_of(
        connection,
        base,
        &ticket.report.client,
        ticket.report.site.as_ref(),
    )
    .await
}

/// The ticket an escalation step asks for (NOT-3 and PROC-QUAL-005 §01: a Critical alarm's
/// intervention; NOT-5: a Major alarm's maintenance; NOT-7: intervention), in the caller's
/// transaction. An alarm has one ticket: the first step that asks opens it, at the alarm's
/// severity (DEC-4), timed from now under the site's policy; a later step (`round` 0: not a
/// repeat) is recorded on it, and a maintenance ticket becomes an intervention (NOT-7). `None`
/// for a repeat round.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn open_for_alarm(
    connection: &mut AnyConnection,
    policy: &Policy,
    terms: Terms,
    client: &Reference,
    alarm: &vigie_domain::alarm::lifecycle::Alarm,
    kind: vigie_domain::policy::TicketKind,
    step: &vigie_domain::alarm::escalation::Timer,
    equipment_name: Option<&str>,
    site_name: &str,
    now: i64,
) -> Result<Option<TicketChange>, StoreError> {
    let kind = match kind {
        vigie_domain::policy::TicketKind::Maintenance => desk::Kind::Maintenance,
        vigie_domain::policy::TicketKind::Intervention => desk::Kind::Intervention,
    };
    // The alarm's ticket, the first it had (older databases may hold two, NOT-5's and NOT-7's).
    let existing: Option<(i64,)> = sqlx::query_as(
        "SELECT number FROM tickets WHERE alarm_id = $1 AND source <> 'recurrence' \
         ORDER BY number LIMIT 1",
    )
    .bind(i64::try_from(alarm.id).unwrap_or(i64::MAX))
    .fetch_optional(&mut *connection)
    .await?;
    // Or the ticket it joined, a day's Minors of its site (NOT-6).
    let existing = match existing {
        Some(found) => Some(found),
        None => {
            sqlx::query_as("SELECT ticket_number FROM ticket_alarms WHERE alarm_id = $1")
                .bind(i64::try_from(alarm.id).unwrap_or(i64::MAX))
                .fetch_optional(&mut *connection)
                .await?
        }
    };
    if let Some((number,)) = existing {
        if step.round > 0 {
            return Ok(None);
        }
        let Some(mut ticket) = load(connection, u64::try_from(number).unwrap_or(0)).await? else {
            return Ok(None);
        };
        let events = ticket
            .alarm_escalated(alarm.id, &step.step_label(), kind, now)
            .map_err(desk_error)?;
        write_ticket(connection, &ticket, &events).await?;
        return Ok(Some(TicketChange::of(ticket, events)));
    }
    let place = match equipment_name {
        Some(equipment) => format!("{equipment} — {site_name}"),
        None => site_name.to_owned(),
    };
    // ALR-8: a site's alarm names its offline cameras.
    let place = match vigie_domain::alarm::escalation::cameras_named(&alarm.cameras) {
        Some(cameras) => format!("{place} — caméras hors ligne : {cameras}"),
        None => place,
    };
    // INC-7: an alarm's type is its equipment's kind and its condition.
    let condition = alarm.condition.condition.key();
    let topic = match &alarm.equipment {
        Some(reference) => match record_of(connection, ObjectKind::Equipment, reference).await? {
            Some(Record::Equipment(equipment)) => {
                format!("{}/{condition}", equipment_kind(equipment.kind))
            }
            _ => condition.to_owned(),
        },
        None => condition.to_owned(),
    };
    let symptom = format!(
        "Alarme {} n°{} : {} — {place}",
        alarm.severity.label(),
        alarm.id,
        alarm.condition.condition.label()
    );
    // NOT-6: a day's Minor alarms of one site are one ticket, handled within its deadlines.
    if alarm.severity == vigie_domain::policy::Severity::Minor
        && let Some(site) = &alarm.site
        && let Some(change) = group_minor(connection, policy, site, alarm.id, &symptom, now).await?
    {
        return Ok(Some(change));
    }
    let report = Report {
        client: client.clone(),
        site: alarm.site.clone(),
        equipment: alarm.equipment.clone(),
        kind,
        source: Source::Alarm,
        symptom,
        impact: None,
        stated_criticality: None,
        reporter: None,
        reply_to: None,
        alarm: Some(alarm.id),
        topic: Some(topic),
    };
    let number = next_number(connection).await?;
    let (ticket, events) = Ticket::open(
        number,
        report,
        desk::priority_of_severity(alarm.severity),
        policy,
        terms,
        now,
        None,
    )
    .map_err(desk_error)?;
    insert_ticket(connection, &ticket, &events).await?;
    let mut change = TicketChange::of(ticket, events);
    if let Some((event, review)) =
        recurrence(connection, policy, terms, &change.ticket, now).await?
    {
        change.events.push(event);
        change.review = review.map(Box::new);
    }
    Ok(Some(change))
}

/// NOT-6: the open ticket of `site`'s Minor alarms of `now`'s day that the Minor alarm
/// `alarm` joins, as the domain chooses it (`desk::minor_ticket_to_join`) among the site's
/// tickets not closed received since the day's start; `None` when there is none (or it is
/// full): the alarm opens its own.
async fn group_minor(
    connection: &mut AnyConnection,
    policy: &Policy,
    site: &Reference,
    alarm: vigie_domain::alarm::lifecycle::AlarmId,
    symptom: &str,
    now: i64,
) -> Result<Option<TicketChange>, StoreError> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT record FROM tickets WHERE site_ref = $1 AND closed_ms IS NULL \
         AND received_ms >= $2 ORDER BY number DESC LIMIT $3",
    )
    .bind(site.to_string())
    .bind(desk::minor_day_start(policy, now))
    .bind(MAX_TICKET_PAGE)
    .fetch_all(&mut *connection)
    .await?;
    let candidates = rows
        .iter()
        .map(|(json,)| crate::stored::ticket::decode(json))
        .collect::<Result<Vec<Ticket>, StoreError>>()?;
    let Some(number) = desk::minor_ticket_to_join(&candidates, site, policy, now) else {
        return Ok(None);
    };
    // Read again, locked on PostgreSQL, for the change.
    let Some(mut ticket) = load(connection, number).await? else {
        return Ok(None);
    };
    let events = match ticket.group_alarm(alarm, symptom, now) {
        Ok(events) if !events.is_empty() => events,
        // Already in it, resolved meanwhile, or full: the alarm opens a ticket of its own.
        Ok(_) | Err(_) => return Ok(None),
    };
    sqlx::query("INSERT INTO ticket_alarms (alarm_id, ticket_number) VALUES ($1, $2)")
        .bind(i64::try_from(alarm).unwrap_or(i64::MAX))
        .bind(i64::try_from(number).unwrap_or(i64::MAX))
        .execute(&mut *connection)
        .await?;
    write_ticket(connection, &ticket, &events).await?;
    Ok(Some(TicketChange::of(ticket, events)))
}

/// The tickets of alarms that these events took in charge, worsened or closed follow them, in
/// the caller's transaction: taken in charge by the same technician; requalified when the
/// alarm becomes more severe (NOT-8); on closure, the alarm's report (actions, effective
/// intervention time, root cause: CLO-1) is recorded and the ticket resolved, waiting for the
/// client's confirmation (SAV-6).
pub(crate) async fn follow_alarms(
    connection: &mut AnyConnection,
    base: &Policy,
    events: &[vigie_domain::alarm::lifecycle::AlarmEvent],
) -> Result<Vec<TicketChange>, StoreError> {
    use vigie_domain::alarm::lifecycle::EventKind as AlarmEventKind;
    let mut changes = Vec::new();
    for event in events {
        let worsened =
            matches!(event.kind, AlarmEventKind::SeverityChanged { to, from, .. } if to < from);
        if !worsened
            && (event.by.is_none()
                || !matches!(
                    event.kind,
                    AlarmEventKind::TakenInCharge | AlarmEventKind::Closed { .. }
                ))
        {
            continue;
        }
        let numbers: Vec<(i64,)> = sqlx::query_as(
            "SELECT number FROM tickets WHERE alarm_id = $1 AND closed_ms IS NULL \
             UNION SELECT a.ticket_number FROM ticket_alarms a JOIN tickets t ON t.number = a.ticket_number \
             WHERE a.alarm_id = $1 AND t.closed_ms IS NULL ORDER BY 1",
        )
        .bind(i64::try_from(event.alarm).unwrap_or(i64::MAX))
        .fetch_all(&mut *connection)
        .await?;
        for (number,) in numbers {
            let Some(mut ticket) = load(connection, u64::try_from(number).unwrap_or(0)).await?
            else {
                continue;
            };
            let (policy, _) = policy_of(connection, base, &ticket).await?;
            let ticket_events = match (&event.kind, &event.by) {
                (AlarmEventKind::TakenInCharge, Some(by)) => {
                    ticket.alarm_taken_in_charge(&policy, by, event.at)
                }
                (AlarmEventKind::Closed { report }, Some(by)) => {
                    // NOT-6: a ticket of several Minors is resolved with the last of them.
                    let others = others_open(connection, &ticket, event.alarm).await?;
                    ticket.alarm_closed(&policy, event.alarm, report, by, event.at, others)
                }
                (AlarmEventKind::SeverityChanged { to, .. }, _) => {
                    ticket.alarm_worsened(&policy, event.alarm, *to, event.at)
                }
                _ => continue,
            }
            .map_err(desk_error)?;
            if ticket_events.is_empty() {
                continue;
            }
            // INC-4, INC-5: the client hears that its incident is taken in charge, resolved.
            let mut ticket_events = ticket_events;
            let told = messages_for(connection, &ticket, &ticket_events, event.at).await?;
            ticket_events.extend(told);
            write_ticket(connection, &ticket, &ticket_events).await?;
            changes.push(TicketChange::of(ticket, ticket_events));
        }
    }
    Ok(changes)
}

/// Whether alarms of `ticket` other than `closing` are still open (not closed).
async fn others_open(
    connection: &mut AnyConnection,
    ticket: &Ticket,
    closing: vigie_domain::alarm::lifecycle::AlarmId,
) -> Result<bool, StoreError> {
    for alarm in ticket.alarms() {
        if alarm == closing {
            continue;
        }
        let open: Option<(i64,)> =
            sqlx::query_as("SELECT id FROM alarms WHERE id = $1 AND closed_ms IS NULL")
                .bind(i64::try_from(alarm).unwrap_or(i64::MAX))
                .fetch_optional(&mut *connection)
                .await?;
        if open.is_some() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// SAV-2: the acknowledgement of `number` was sent: the ticket is acknowledged, in the
/// transaction that records the sending.
pub(crate) async fn acknowledgement_sent(
    connection: &mut AnyConnection,
    base: &Policy,
    number: TicketNumber,
    at: i64,
) -> Result<Option<TicketChange>, StoreError> {
    let Some(mut ticket) = load(connection, number).await? else {
        return Ok(None);
    };
    let (policy, _) = policy_of(connection, base, &ticket).await?;
    let events = ticket
        .acknowledgement_sent(&policy, at)
        .map_err(desk_error)?;
    if events.is_empty() {
        return Ok(None);
    }
    write_ticket(connection, &ticket, &events).await?;
    Ok(Some(TicketChange::of(ticket, events)))
}

/// A message about a ticket failed for good: a visible event on the ticket.
pub(crate) async fn message_failed(
    connection: &mut AnyConnection,
    message: &TicketNotice,
    error: &str,
    at: i64,
) -> Result<(), StoreError> {
    let Some(ticket) = load(connection, message.ticket).await? else {
        return Ok(());
    };
    let event = ticket.event(
        at,
        None,
        desk::EventKind::MessageFailed {
            key: message.key.clone(),
            recipient: message.recipient.clone(),
            name: Some(message.name.clone()),
            channel: message.channel,
            error: error.to_owned(),
        },
    );
    write_ticket(connection, &ticket, &[event]).await
}

/// Queues the planned messages about a ticket in the outbox, each to go at its `due` (a key
/// already queued is not queued again), and returns the `message_queued` events to write on
/// the ticket.
async fn enqueue_messages(
    connection: &mut AnyConnection,
    ticket: &Ticket,
    messages: &[Planned],
    now: i64,
) -> Result<Vec<TicketEvent>, StoreError> {
    let mut events = Vec::new();
    for Planned {
        notice: message,
        due,
    } in messages
    {
        let due = *due;
        let record = crate::stored::outgoing::encode(&crate::notifications::Outgoing::Ticket(
            Box::new(message.clone()),
        ))?;
        let done = build(
            "INSERT INTO notifications (key, alarm_id, ticket_number, client_ref, severity, step, recipient, channel, address, status, attempts, due_ms, created_ms, record) \
             VALUES ($1, NULL, $2, $3, $4, $5, $6, $7, $8, 'pending', 0, $9, $10, $11) ON CONFLICT (key) DO NOTHING",
            vec![
                Arg::Text(Some(message.key.clone())),
                number_arg(ticket.number),
                Arg::Text(Some(ticket.report.client.to_string())),
                Arg::Text(Some(priority_key(ticket.priority).to_owned())),
                Arg::Text(Some(message.purpose.key().to_owned())),
                Arg::Text(Some(message.recipient.clone())),
                Arg::Text(Some(channel_key(message.channel).to_owned())),
                Arg::Text(Some(message.address.clone())),
                Arg::Int(due),
                Arg::Int(now),
                Arg::Text(Some(record)),
            ],
        )
        .execute(&mut *connection)
        .await?;
        if done.rows_affected() == 1 {
            events.push(ticket.event(
                now,
                None,
                desk::EventKind::MessageQueued {
                    key: message.key.clone(),
                    recipient: message.recipient.clone(),
                    name: Some(message.name.clone()),
                    channel: message.channel,
                    due,
                },
            ));
        }
    }
    Ok(events)
}

/// The contacts of rows of `record` read from the contacts table.
fn contact_records(rows: Vec<(String,)>) -> Result<Vec<Contact>, StoreError> {
    let mut contacts = Vec::new();
    for (json,) in rows {
        if let Record::Contact(contact) = parse_record(ObjectKind::Contact, &json)? {
            contacts.push(contact);
        }
    }
    Ok(contacts)
}

/// The contacts of a client, in reference order.
pub(crate) async fn client_contacts(
    connection: &mut AnyConnection,
    client: &Reference,
) -> Result<Vec<Contact>, StoreError> {
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT record FROM contacts WHERE client_ref = $1 ORDER BY ref")
            .bind(client.to_string())
            .fetch_all(&mut *connection)
            .await?;
    contact_records(rows)
}

/// The site's name and time zone, for messages (Europe/Paris when the ticket names no site).
async fn place_of(
    connection: &mut AnyConnection,
    ticket: &Ticket,
) -> Result<(Option<String>, TimeZoneName), StoreError> {
    if let Some(site) = &ticket.report.site
        && let Some(Record::Site(site)) = record_of(connection, ObjectKind::Site, site).await?
    {
        return Ok((Some(site.name.to_string()), site.time_zone));
    }
    Ok((None, TimeZoneName::default()))
}

/// CM-7: for each follow-up due, the alarms of the ticket's equipment raised since its
/// resolution and by the follow-up's instant (the alarm that opened the ticket excluded).
async fn relapses_of(
    connection: &mut AnyConnection,
    ticket: &Ticket,
    now: i64,
) -> Result<std::collections::BTreeMap<i64, Vec<vigie_domain::alarm::lifecycle::AlarmId>>, StoreError>
{
    let mut relapses = std::collections::BTreeMap::new();
    let (Some(equipment), Some(resolved)) = (&ticket.report.equipment, ticket.resolved_at) else {
        return Ok(relapses);
    };
    for due in ticket.follow_ups_due(now) {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT id FROM alarms WHERE equipment_ref = $1 AND raised_ms > $2 AND raised_ms <= $3 ORDER BY id LIMIT 100",
        )
        .bind(equipment.to_string())
        .bind(resolved)
        .bind(due)
        .fetch_all(&mut *connection)
        .await?;
        let found: Vec<_> = rows
            .into_iter()
            .filter_map(|(id,)| u64::try_from(id).ok())
            .filter(|id| Some(*id) != ticket.report.alarm)
            .collect();
        relapses.insert(due, found);
    }
    Ok(relapses)
}

/// The most staff records read for a ticket's messages (operations managers, technicians'
/// names).
const MAX_STAFF: i64 = 10_000;

/// What the message rules need to know of the people around `ticket`, read in one set of
/// queries: its client, site and equipment records, the client's contacts (and those the
/// site names), the staff.
async fn people_of(
    connection: &mut AnyConnection,
    ticket: &Ticket,
) -> Result<TicketPeople, StoreError> {
    let client = match record_of(connection, ObjectKind::Client, &ticket.report.client).await? {
        Some(Record::Client(client)) => Some(client),
        _ => None,
    };
    let site = match &ticket.report.site {
        Some(reference) => match record_of(connection, ObjectKind::Site, reference).await? {
            Some(Record::Site(site)) => Some(site),
            _ => None,
        },
        None => None,
    };
    let equipment = match &ticket.report.equipment {
        Some(reference) => match record_of(connection, ObjectKind::Equipment, reference).await? {
            Some(Record::Equipment(equipment)) => Some(equipment),
            _ => None,
        },
        None => None,
    };
    let named = |pick: fn(&vigie_domain::inventory::Site) -> Option<&Reference>| {
        site.as_ref().and_then(pick).map(ToString::to_string)
    };
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT record FROM contacts WHERE client_ref = $1 OR ref = $2 OR ref = $3 ORDER BY ref",
    )
    .bind(ticket.report.client.to_string())
    .bind(named(|s| s.technical_contact.as_ref()))
    .bind(named(|s| s.security_manager.as_ref()))
    .fetch_all(&mut *connection)
    .await?;
    let contacts = contact_records(rows)?;
    let rows: Vec<(String,)> = sqlx::query_as("SELECT record FROM staff ORDER BY ref LIMIT $1")
        .bind(MAX_STAFF)
        .fetch_all(&mut *connection)
        .await?;
    let mut staff = Vec::new();
    for (json,) in rows {
        if let Record::Staff(member) = parse_record(ObjectKind::Staff, &json)? {
            staff.push(member);
        }
    }
    Ok(TicketPeople {
        client,
        site,
        equipment,
        contacts,
        staff,
    })
}

/// The history the message rules asked for (`notices::reads`), read once.
async fn history_of(
    connection: &mut AnyConnection,
    ticket: &Ticket,
    reads: notices::Reads,
) -> Result<TicketHistory, StoreError> {
    let mut history = TicketHistory::default();
    if reads.events {
        history.events = stored_events(connection, ticket).await?;
    }
    if reads.alarm_events {
        history.alarm_events = alarm_events_of(connection, ticket).await?;
    }
    Ok(history)
}

/// The messages a ticket's new `events` imply, as the domain plans them
/// (`vigie_domain::ticket::notices::plan`: who is told what, when), queued in the caller's
/// transaction; a corrective intervention's report (CM-8) is filed in the same transaction.
/// Every change of a ticket goes through this one place. Returns the `message_queued`
/// events.
pub(crate) async fn messages_for(
    connection: &mut AnyConnection,
    ticket: &Ticket,
    events: &[TicketEvent],
    now: i64,
) -> Result<Vec<TicketEvent>, StoreError> {
    let reads = notices::reads(ticket, events);
    if !reads.people {
        return Ok(Vec::new());
    }
    let people = people_of(connection, ticket).await?;
    let history = history_of(connection, ticket, reads).await?;
    let plan = notices::plan(ticket, events, &people, &history, now);
    if let Some(document) = &plan.report {
        crate::documents::file_document(
            connection,
            &crate::documents::NewDocument {
                client: &ticket.report.client,
                site: ticket.report.site.as_ref(),
                ticket: Some(ticket.number),
                kind: "intervention_report",
                title: &document.title,
                content_type: "text/html; charset=utf-8",
                content: document.html.as_bytes(),
            },
            now,
        )
        .await?;
    }
    enqueue_messages(connection, ticket, &plan.messages, now).await
}

/// What anonymising a ticket's post-mortem hides, each with its neutral mention: the client's
/// name and reference, its sites', its contacts' (and their references), the reporter.
async fn names_of(
    connection: &mut AnyConnection,
    ticket: &Ticket,
) -> Result<Vec<(String, String)>, StoreError> {
    let client = &ticket.report.client;
    let mut names = vec![(client.to_string(), "le client".to_owned())];
    if let Some(Record::Client(record)) = record_of(connection, ObjectKind::Client, client).await? {
        names.push((record.name.to_string(), "le client".into()));
    }
    let sites: Vec<(String, String)> =
        sqlx::query_as("SELECT ref, name FROM sites WHERE client_ref = $1 ORDER BY ref LIMIT 1000")
            .bind(client.to_string())
            .fetch_all(&mut *connection)
            .await?;
    for (index, (reference, name)) in sites.into_iter().enumerate() {
        let mention = format!("site {}", index + 1);
        names.push((reference, mention.clone()));
        names.push((name, mention));
    }
    for (index, contact) in client_contacts(connection, client)
        .await?
        .into_iter()
        .enumerate()
    {
        let mention = format!("contact {}", index + 1);
        names.push((contact.reference.to_string(), mention.clone()));
        names.push((contact.name.to_string(), mention));
    }
    if let Some(reporter) = &ticket.report.reporter {
        names.push((reporter.clone(), "le déclarant".into()));
    }
    Ok(names)
}

/// The events of `ticket` already stored, oldest first (at most [`MAX_TICKET_EVENTS`]).
async fn stored_events(
    connection: &mut AnyConnection,
    ticket: &Ticket,
) -> Result<Vec<TicketEvent>, StoreError> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT record FROM ticket_events WHERE ticket_number = $1 ORDER BY id LIMIT $2",
    )
    .bind(i64::try_from(ticket.number).unwrap_or(i64::MAX))
    .bind(MAX_TICKET_EVENTS)
    .fetch_all(&mut *connection)
    .await?;
    rows.iter()
        .map(|(json,)| crate::stored::ticket_event::decode(json))
        .collect()
}

/// The events of the alarm that opened `ticket`, oldest first (at most
/// [`MAX_TICKET_EVENTS`]); none for a ticket no alarm opened.
async fn alarm_events_of(
    connection: &mut AnyConnection,
    ticket: &Ticket,
) -> Result<Vec<vigie_domain::alarm::lifecycle::AlarmEvent>, StoreError> {
    let Some(alarm) = ticket.report.alarm else {
        return Ok(Vec::new());
    };
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT record FROM alarm_events WHERE alarm_id = $1 ORDER BY id LIMIT $2")
            .bind(i64::try_from(alarm).unwrap_or(i64::MAX))
            .bind(MAX_TICKET_EVENTS)
            .fetch_all(&mut *connection)
            .await?;
    rows.iter()
        .map(|(json,)| crate::stored::alarm_event::decode(json))
        .collect()
}

/// INC-6: the incident's timeline from the ticket's stored events and its alarm's events.
async fn timeline_of(
    connection: &mut AnyConnection,
    ticket: &Ticket,
) -> Result<Vec<vigie_domain::ticket::post_mortem::TimelineEntry>, StoreError> {
    let events = stored_events(connection, ticket).await?;
    let alarm_events = alarm_events_of(connection, ticket).await?;
    Ok(vigie_domain::ticket::post_mortem::timeline(
        &events,
        &alarm_events,
    ))
}

/// INC-6: a post-mortem as people read it: the ticket's, with the incident's timeline.
#[derive(Debug, Clone, Serialize)]
pub struct PostMortemView {
    pub ticket: TicketNumber,
    #[serde(flatten)]
    pub post_mortem: vigie_domain::ticket::post_mortem::PostMortem,
    pub timeline: Vec<vigie_domain::ticket::post_mortem::TimelineEntry>,
    pub anonymised: bool,
}

/// INC-5: the information on lost data of `number` was sent: the duty is met, in the
/// transaction that records the sending.
pub(crate) async fn gdpr_information_sent(
    connection: &mut AnyConnection,
    number: TicketNumber,
    at: i64,
) -> Result<Option<TicketChange>, StoreError> {
    let Some(mut ticket) = load(connection, number).await? else {
        return Ok(None);
    };
    let events = ticket.gdpr_informed(at);
    if events.is_empty() {
        return Ok(None);
    }
    write_ticket(connection, &ticket, &events).await?;
    Ok(Some(TicketChange::of(ticket, events)))
}

/// Opens a ticket in the caller's transaction (see [`Store::open_ticket`]). A conflict means
/// another process took the same number: the caller starts again with a new transaction.
pub(crate) async fn open_in(
    connection: &mut AnyConnection,
    actor: &Actor,
    policy: &Policy,
    report: &Report,
    priority: Option<Priority>,
    by: Option<Reference>,
    now: i64,
) -> Result<TicketChange, StoreError> {
    let equipment = check_report(connection, actor, report).await?;
    // INC-7: a report's type is the kind of its equipment.
    let mut report = report.clone();
    report.topic = equipment.as_ref().map(|e| equipment_kind(e.kind));
    let (site_policy, terms) =
        terms_of(connection, policy, &report.client, report.site.as_ref()).await?;
    let priority = priority.unwrap_or_else(|| {
        desk::qualify(report.stated_criticality, report.impact, equipment.as_ref())
    });
    let number = next_number(connection).await?;
    let (ticket, mut events) = Ticket::open(
        number,
        report.clone(),
        priority,
        &site_policy,
        terms,
        now,
        by,
    )
    .map_err(desk_error)?;
    // The number is claimed first: one another process took at the same instant is a
    // conflict (never an overwrite), and the opening starts again with the next one.
    insert_ticket(connection, &ticket, &events).await?;
    if report.source != Source::Alarm {
        // SAV-2: the acknowledgement with the ticket number, queued with the ticket.
        let people = people_of(connection, &ticket).await?;
        let due = message::acknowledgement_due(&site_policy, terms, &ticket, now);
        let planned = notices::acknowledgement(&ticket, &people, due);
        let queued = enqueue_messages(connection, &ticket, &planned, now).await?;
        write_ticket(connection, &ticket, &queued).await?;
        events.extend(queued);
    }
    let mut change = TicketChange::of(ticket, events);
    if let Some((event, review)) =
        recurrence(connection, &site_policy, terms, &change.ticket, now).await?
    {
        change.events.push(event);
        change.review = review.map(Box::new);
    }
    Ok(change)
}

/// Runs `$work` (an async call using `$connection`) in a transaction of `$store`, committed
/// when it succeeds. A conflict — another process took the same ticket number, or wrote the
/// same row, at the same instant — starts it again in a new transaction, [`NUMBER_ATTEMPTS`]
/// times at most. (A macro: an async closure borrowing the connection is not provably `Send`.)
macro_rules! retrying {
    ($store:expr, |$connection:ident| $work:expr) => {{
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut transaction = $store.write.begin().await?;
            let $connection: &mut AnyConnection = &mut transaction;
            match $work.await {
                Ok(value) => {
                    transaction.commit().await?;
                    break Ok(value);
                }
                Err(StoreError::Conflict(_)) if attempt < crate::tickets::NUMBER_ATTEMPTS => {
                    continue;
                }
                Err(error) => break Err(error),
            }
        }
    }};
}
pub(crate) use retrying;

impl Store {
    /// Opens a ticket at once (CM-2, SAV-1) from `report`, qualified (CM-2, SAV-3, SAV-4,
    /// INC-1) unless `priority` is given (an alarm's severity), its SLA timers armed from the
    /// policy under the site's contract (CM-3, CM-4).
    pub async fn open_ticket(
        &self,
        actor: &Actor,
        policy: &Policy,
        report: Report,
        priority: Option<Priority>,
        by: Option<Reference>,
        now: i64,
    ) -> Result<TicketChange, StoreError> {
        require(actor, Permission::OpenTickets)?;
        report.check().map_err(desk_error)?;
        retrying!(self, |connection| open_in(
            connection,
            actor,
            policy,
            &report,
            priority,
            by.clone(),
            now
        ))
    }

    /// One page of the tickets `actor` sees, most urgent first: by earliest running deadline
    /// (those without one last), then priority, then age.
    pub async fn tickets(
        &self,
        actor: &Actor,
        filter: &TicketFilter,
    ) -> Result<Vec<Ticket>, StoreError> {
        require(actor, Permission::ReadTickets)?;
        let mut args = Vec::new();
        let mut condition =
            visibility_condition(&actor.visibility(), "client_ref", "site_ref", &mut args);
        for (column, value) in [
            (
                "client_ref",
                filter.client.as_ref().map(ToString::to_string),
            ),
            ("site_ref", filter.site.as_ref().map(ToString::to_string)),
            ("status", filter.status.map(|s| s.key().to_owned())),
            (
                "priority",
                filter.priority.map(|p| priority_key(p).to_owned()),
            ),
            (
                "assignee_ref",
                filter.assignee.as_ref().map(ToString::to_string),
            ),
        ] {
            if let Some(value) = value {
                args.push(Arg::Text(Some(value)));
                condition.push_str(&format!(" AND {column} = ${}", args.len()));
            }
        }
        match filter.open {
            Some(true) => condition.push_str(" AND closed_ms IS NULL"),
            Some(false) => condition.push_str(" AND closed_ms IS NOT NULL"),
            None => {}
        }
        if let Some(due_before) = filter.due_before {
            args.push(Arg::Int(due_before));
            condition.push_str(&format!(
                " AND next_due_ms IS NOT NULL AND next_due_ms <= ${}",
                args.len()
            ));
        }
        // The queue's order (the most urgent first): tickets with a running deadline by that
        // deadline, then those without; at equal deadlines the higher priority, then the older.
        let flag = "(CASE WHEN next_due_ms IS NULL THEN 1 ELSE 0 END)";
        let order = format!("{flag}, COALESCE(next_due_ms, 0), priority, number");
        if let Some(after) = filter.after {
            let row: Option<(Option<i64>, String)> =
                sqlx::query_as("SELECT next_due_ms, priority FROM tickets WHERE number = $1")
                    .bind(i64::try_from(after).unwrap_or(i64::MAX))
                    .fetch_optional(&self.read)
                    .await?;
            let Some((due, priority)) = row else {
                return Err(StoreError::Invalid(format!(
                    "after : ticket n°{after} inconnu"
                )));
            };
            // (flag, due, priority, number) > the last row's, written out column by column.
            args.push(Arg::Int(i64::from(due.is_none())));
            let f = args.len();
            args.push(Arg::Int(due.unwrap_or(0)));
            let d = args.len();
            args.push(Arg::Text(Some(priority)));
            let p = args.len();
            args.push(number_arg(after));
            let n = args.len();
            condition.push_str(&format!(
                " AND ({flag} > ${f} OR ({flag} = ${f} AND (COALESCE(next_due_ms, 0) > ${d} \
                 OR (COALESCE(next_due_ms, 0) = ${d} AND (priority > ${p} \
                 OR (priority = ${p} AND number > ${n}))))))"
            ));
        }
        args.push(Arg::Int(
            filter
                .limit
                .unwrap_or(crate::DEFAULT_PAGE_SIZE)
                .clamp(1, MAX_TICKET_PAGE),
        ));
        let sql = format!(
            "SELECT record FROM tickets WHERE 1 = 1{condition} ORDER BY {order} LIMIT ${}",
            args.len()
        );
        let rows = build(&sql, args).fetch_all(&self.read).await?;
        rows.iter()
            .map(|row| crate::stored::ticket::decode(&row.try_get::<String, _>(0)?))
            .collect()
    }

    /// One ticket `actor` sees, with its events in order (at most [`MAX_TICKET_EVENTS`]).
    pub async fn ticket(
        &self,
        actor: &Actor,
        number: TicketNumber,
    ) -> Result<(Ticket, Vec<TicketEvent>), StoreError> {
        require(actor, Permission::ReadTickets)?;
        let mut args = vec![number_arg(number)];
        let condition =
            visibility_condition(&actor.visibility(), "client_ref", "site_ref", &mut args);
        let row = build(
            &format!("SELECT record FROM tickets WHERE number = $1{condition}"),
            args,
        )
        .fetch_optional(&self.read)
        .await?
        .ok_or(StoreError::NotFound)?;
        let ticket = crate::stored::ticket::decode(&row.try_get::<String, _>(0)?)?;
        let rows = build(
            "SELECT record FROM ticket_events WHERE ticket_number = $1 ORDER BY id LIMIT $2",
            vec![number_arg(number), Arg::Int(MAX_TICKET_EVENTS)],
        )
        .fetch_all(&self.read)
        .await?;
        let events = rows
            .iter()
            .map(|row| crate::stored::ticket_event::decode(&row.try_get::<String, _>(0)?))
            .collect::<Result<Vec<TicketEvent>, StoreError>>()?;
        Ok((ticket, events))
    }

    /// A person's step on a ticket: staff take any step; a client user of the ticket's client
    /// only confirms the fix (SAV-6) or answers a question (CM-4).
    pub async fn ticket_step(
        &self,
        actor: &Actor,
        policy: &Policy,
        number: TicketNumber,
        step: TicketStep,
        by: &Reference,
        now: i64,
    ) -> Result<TicketChange, StoreError> {
        require(actor, Permission::ReadTickets)?;
        // A client's own steps: confirming the fix, replying, and its own message on the
        // ticket (incoming, never one that would pass for the integrator's).
        let client_step = matches!(
            step,
            TicketStep::Act(Action::ClientConfirms | Action::ClientReplied)
                | TicketStep::ChooseToldBy(_)
                | TicketStep::Note(desk::Note::Message {
                    direction: desk::Direction::Incoming,
                    ..
                })
        );
        if !client_step {
            require(actor, Permission::HandleTickets)?;
        }
        // Visible to the actor, or not found.
        self.ticket(actor, number).await?;
        let mut transaction = self.write.begin().await?;
        let mut ticket = load(&mut transaction, number)
            .await?
            .ok_or(StoreError::NotFound)?;
        let (site_policy, _) = policy_of(&mut transaction, policy, &ticket).await?;
        let mut events = match step {
            TicketStep::Act(action) => ticket
                .act(&site_policy, action, by, now)
                .map_err(desk_error)?,
            TicketStep::Resolve(resolution) => ticket
                .resolve(&site_policy, resolution, by, now)
                .map_err(desk_error)?,
            TicketStep::WritePostMortem(text) => ticket
                .write_post_mortem(text, by, now)
                .map_err(desk_error)?,
            TicketStep::PublishPostMortem => {
                ticket.publish_post_mortem(by, now).map_err(desk_error)?
            }
            TicketStep::ChooseToldBy(told_by) => {
                vec![
                    ticket
                        .choose_told_by(told_by, by, now)
                        .map_err(desk_error)?,
                ]
            }
            TicketStep::Locate { site, equipment } => {
                // The same checks as at opening: the site is the ticket's client's, the
                // equipment on that site.
                match record_of(&mut transaction, ObjectKind::Site, &site).await? {
                    Some(Record::Site(record)) if record.client == ticket.report.client => {}
                    _ => {
                        return Err(StoreError::Invalid(format!(
                            "le site {site} n'est pas un site du client {} du ticket",
                            ticket.report.client
                        )));
                    }
                }
                let mut report = ticket.report.clone();
                report.site = Some(site.clone());
                report.equipment = equipment.clone();
                let found = check_report(&mut transaction, actor, &report).await?;
                let topic = found.as_ref().map(|e| equipment_kind(e.kind));
                vec![
                    ticket
                        .locate(site, equipment, topic, by, now)
                        .map_err(desk_error)?,
                ]
            }
            TicketStep::Close { reason } => ticket
                .close(&site_policy, reason.as_deref(), by, now)
                .map_err(desk_error)?,
            TicketStep::Requalify { priority, reason } => ticket
                .requalify(&site_policy, priority, &reason, by, now)
                .map_err(desk_error)?,
            TicketStep::UpdateClient { text } => {
                let mut events = ticket
                    .update_client(&site_policy, &text, by, now)
                    .map_err(desk_error)?;
                // INC-4: the point goes to the client's incident addressees.
                let people = people_of(&mut transaction, &ticket).await?;
                let planned = notices::client_update(&ticket, &people, &text, now);
                events.extend(enqueue_messages(&mut transaction, &ticket, &planned, now).await?);
                events
            }
            TicketStep::Note(note) => {
                let named = match &note {
                    desk::Note::Intervention { technician, .. } => Some((technician, None)),
                    desk::Note::Escalation { to, .. } => {
                        Some((to, Some(StaffRole::ReferentEngineer)))
                    }
                    _ => None,
                };
                if let Some((reference, role)) = named {
                    let Some(Record::Staff(staff)) =
                        record_of(&mut transaction, ObjectKind::Staff, reference).await?
                    else {
                        return Err(StoreError::Invalid(format!(
                            "{reference} n'est pas un membre du personnel"
                        )));
                    };
                    if let Some(role) = role
                        && !staff.roles.contains(&role)
                    {
                        return Err(StoreError::Invalid(format!(
                            "{reference} n'est pas ingénieur référent (CM-6)"
                        )));
                    }
                }
                ticket
                    .note(&site_policy, note, by, now)
                    .map_err(desk_error)?
            }
            TicketStep::Assign { to } => {
                let Some(Record::Staff(_)) =
                    record_of(&mut transaction, ObjectKind::Staff, &to).await?
                else {
                    return Err(StoreError::Invalid(format!(
                        "{to} n'est pas un membre du personnel"
                    )));
                };
                vec![ticket.assign(&to, by, now).map_err(desk_error)?]
            }
        };
        let told = messages_for(&mut transaction, &ticket, &events, now).await?;
        events.extend(told);
        write_ticket(&mut transaction, &ticket, &events).await?;
        transaction.commit().await?;
        Ok(TicketChange::of(ticket, events))
    }

    /// INC-6: the post-mortem of ticket `number` with the incident's timeline, for staff (a
    /// draft until shared) and, once shared, for the client's users. `anonymised`: the
    /// client's names, its sites', its contacts', addresses and numbers become neutral
    /// mentions, for the integrator's internal lessons.
    pub async fn post_mortem(
        &self,
        actor: &Actor,
        number: TicketNumber,
        anonymised: bool,
    ) -> Result<PostMortemView, StoreError> {
        let (ticket, _) = self.ticket(actor, number).await?;
        let Some(post_mortem) = ticket.post_mortem.clone() else {
            return Err(StoreError::NotFound);
        };
        if !actor.is_staff() && post_mortem.published_at.is_none() {
            return Err(StoreError::NotFound);
        }
        let mut connection = self.read.acquire().await?;
        let mut timeline = timeline_of(&mut connection, &ticket).await?;
        let mut post_mortem = post_mortem;
        if anonymised {
            let names = names_of(&mut connection, &ticket).await?;
            let hide = |text: &str| vigie_domain::ticket::post_mortem::anonymise(text, &names);
            post_mortem.analysis = hide(&post_mortem.analysis);
            for measure in &mut post_mortem.measures {
                measure.action = hide(&measure.action);
                measure.owner = hide(&measure.owner);
            }
            for entry in &mut timeline {
                entry.what = hide(&entry.what);
                entry.by = entry.by.as_deref().map(hide);
            }
        }
        Ok(PostMortemView {
            ticket: number,
            post_mortem,
            timeline,
            anonymised,
        })
    }

    /// SAV-7: the client's answers to the survey of ticket `number` (the signed link of the
    /// survey message is the authority: no actor). Once per ticket.
    pub async fn answer_survey(
        &self,
        number: TicketNumber,
        answers: desk::SurveyAnswers,
        now: i64,
    ) -> Result<Ticket, StoreError> {
        self.record_survey(number, answers, None, now).await
    }

    /// SAV-7: the same answers given in the portal by a user of the ticket's client, recorded
    /// as theirs. Another client's ticket is not found, as when reading it; the staff
    /// do not answer for the client.
    pub async fn answer_survey_in_portal(
        &self,
        actor: &Actor,
        number: TicketNumber,
        answers: desk::SurveyAnswers,
        by: &Reference,
        now: i64,
    ) -> Result<Ticket, StoreError> {
        // Visible to the actor, or not found.
        self.ticket(actor, number).await?;
        if actor.is_staff() {
            return Err(StoreError::Forbidden(
                "l'enquête de satisfaction est celle du client".into(),
            ));
        }
        self.record_survey(number, answers, Some(by), now).await
    }

    /// The one way a survey answer is written, by the link or the portal: the desk's rule
    /// (closed ticket, once), in one transaction.
    async fn record_survey(
        &self,
        number: TicketNumber,
        answers: desk::SurveyAnswers,
        by: Option<&Reference>,
        now: i64,
    ) -> Result<Ticket, StoreError> {
        let mut transaction = self.write.begin().await?;
        let mut ticket = load(&mut transaction, number)
            .await?
            .ok_or(StoreError::NotFound)?;
        let mut event = ticket.answer_survey(answers, now).map_err(desk_error)?;
        event.by = by.cloned();
        write_ticket(&mut transaction, &ticket, &[event]).await?;
        transaction.commit().await?;
        Ok(ticket)
    }

    /// SAV-6: the client confirmed the fix by the signed link of its resolution notice: the
    /// ticket is closed, and its survey sent (SAV-7).
    pub async fn confirm_by_link(
        &self,
        policy: &Policy,
        number: TicketNumber,
        now: i64,
    ) -> Result<Ticket, StoreError> {
        let mut transaction = self.write.begin().await?;
        let mut ticket = load(&mut transaction, number)
            .await?
            .ok_or(StoreError::NotFound)?;
        let (site_policy, _) = policy_of(&mut transaction, policy, &ticket).await?;
        let mut events = ticket
            .confirmed_by_link(&site_policy, now)
            .map_err(desk_error)?;
        let told = messages_for(&mut transaction, &ticket, &events, now).await?;
        events.extend(told);
        write_ticket(&mut transaction, &ticket, &events).await?;
        transaction.commit().await?;
        Ok(ticket)
    }

    /// A ticket read by its number alone, for a signed link (no actor: the link is the
    /// authority).
    pub async fn ticket_for_link(
        &self,
        number: TicketNumber,
    ) -> Result<Option<Ticket>, StoreError> {
        let mut connection = self.read.acquire().await?;
        load(&mut connection, number).await
    }
}

impl System {
    /// The earliest running SLA deadline of any ticket, for the SLA worker to sleep until.
    pub async fn next_ticket_due(&self) -> Result<Option<i64>, StoreError> {
        let (due,): (Option<i64>,) =
            sqlx::query_as("SELECT MIN(next_due_ms) FROM tickets WHERE next_due_ms IS NOT NULL")
                .fetch_one(&self.read)
                .await?;
        Ok(due)
    }
}

impl System {
    /// Breaches the SLA timers due at `now` (INC-3), at most `limit` tickets, each in its own
    /// transaction that re-reads it (another process may have done it: nothing is written
    /// twice, a ticket no longer due is left alone). Returns what was written.
    pub async fn ticket_timers_due(
        &self,
        policy: &Policy,
        now: i64,
        limit: i64,
    ) -> Result<Vec<TicketChange>, StoreError> {
        let numbers: Vec<(i64,)> = sqlx::query_as(
            "SELECT number FROM tickets WHERE next_due_ms IS NOT NULL AND next_due_ms <= $1 ORDER BY next_due_ms, number LIMIT $2",
        )
        .bind(now)
        .bind(limit.clamp(1, MAX_TICKET_PAGE))
        .fetch_all(&self.read)
        .await?;
        let mut changes = Vec::new();
        let mut seen = BTreeSet::new();
        for (number,) in numbers {
            let number = u64::try_from(number).unwrap_or(0);
            if !seen.insert(number) {
                continue;
            }
            let mut transaction = self.write.begin().await?;
            // On PostgreSQL the row is locked: two processes do not breach it twice.
            build(
                "UPDATE tickets SET next_due_ms = next_due_ms WHERE number = $1",
                vec![number_arg(number)],
            )
            .execute(&mut *transaction)
            .await?;
            let Some(mut ticket) = load(&mut transaction, number).await? else {
                continue;
            };
            if ticket.next_due().is_none_or(|due| due > now) {
                continue;
            }
            let (site_policy, _) = policy_of(&mut transaction, policy, &ticket).await?;
            let relapses = relapses_of(&mut transaction, &ticket, now).await?;
            let mut events = ticket
                .on_time(&site_policy, now, &relapses)
                .map_err(desk_error)?;
            let told = messages_for(&mut transaction, &ticket, &events, now).await?;
            events.extend(told);
            write_ticket(&mut transaction, &ticket, &events).await?;
            transaction.commit().await?;
            changes.push(TicketChange::of(ticket, events));
        }
        Ok(changes)
    }
}

/// One message sent to the client about its ticket, as the portal lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SentToClient {
    pub channel: String,
    pub name: String,
    pub subject: String,
    pub text: String,
    pub status: String,
    pub created_ms: i64,
    pub sent_ms: Option<i64>,
}

/// Most messages of a ticket the portal lists.
pub const MAX_CLIENT_MESSAGES: i64 = 200;

impl Store {
    /// The messages about ticket `number` addressed to the client's people (its contacts, the
    /// reporter's address), not to the integrator's staff, oldest first: what the client was
    /// told, for its ticket's page (issue 25, item 12). Within the actor's walls: another
    /// client's ticket is not found.
    pub async fn messages_to_client(
        &self,
        actor: &Actor,
        number: TicketNumber,
    ) -> Result<Vec<SentToClient>, StoreError> {
        self.ticket(actor, number).await?;
        let rows: Vec<(String, String, i64, Option<i64>, String)> = sqlx::query_as(
            "SELECT channel, status, created_ms, sent_ms, record FROM notifications \
             WHERE ticket_number = $1 AND recipient NOT IN (SELECT ref FROM staff) \
             ORDER BY id LIMIT $2",
        )
        .bind(i64::try_from(number).unwrap_or(i64::MAX))
        .bind(MAX_CLIENT_MESSAGES)
        .fetch_all(&self.read)
        .await?;
        let mut messages = Vec::new();
        for (channel, status, created_ms, sent_ms, record) in rows {
            let Ok(crate::notifications::Outgoing::Ticket(notice)) =
                crate::stored::outgoing::decode(&record)
            else {
                continue;
            };
            let (subject, text) = if channel == "sms" {
                (String::new(), notice.message.sms.clone())
            } else {
                (notice.message.subject.clone(), notice.message.text.clone())
            };
            messages.push(SentToClient {
                channel,
                name: notice.name.clone(),
                subject,
                text,
                status,
                created_ms,
                sent_ms,
            });
        }
        Ok(messages)
    }
}
