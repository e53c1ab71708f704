//! Escalation timers, the outbox of notifications, on-call rotations and shared settings
//! (NOT-1…NOT-7, DEC-3, X-1). Timers are armed, and the steps already due fired, in the
//! transaction that saves the alarm change arming them ([`Store::save_alarms`]); later steps
//! are fired by [`Store::fire_due_timers`], which any server process may run: a timer is
//! claimed by the one update that sets its `fired_ms`, so a step fires once. Pages are
//! delivered by workers that claim them with a lease ([`Store::claim_notifications`]); the
//! decisions (which step fires, who is told) are the domain's (`alarm::escalation`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::Serialize;
use sqlx::{AnyConnection, Row};
use vigie_domain::access::{Actor, Permission};
use vigie_domain::alarm::escalation::{
    self, Decision, Directory, Missing, Notice, Plan, Skip, Timer,
};
use vigie_domain::alarm::lifecycle::{Alarm, AlarmEvent, AlarmId, EventKind, Told};
use vigie_domain::audit::AuditAction;
use vigie_domain::inventory::{
    Contact, ContractOption, ContractTier, ObjectKind, Record, Site, Staff, Territory,
};
use vigie_domain::oncall::Rotation;
use vigie_domain::policy::{Channel, Policy, Severity};
use vigie_domain::{Reference, TimeZoneName};

use crate::System;
use crate::alarms::NO_REFERENCE;
use crate::audit::AuditRecord;
use crate::inventory::{Arg, build, parse_record, require};
use crate::{Backend, Store, StoreError};
use vigie_domain::ticket::desk::TicketNumber;
use vigie_domain::ticket::message::{Purpose, TicketNotice};

/// What the store needs to plan escalations: the policy (laid over by each site's contract
/// and site) and the names of the webhooks a step with the webhook channel posts to.
#[derive(Debug, Clone)]
pub struct Escalation {
    pub policy: Arc<Policy>,
    pub webhooks: Vec<String>,
}

/// What became of a claimed page.
#[derive(Debug, Clone)]
pub enum DeliveryOutcome {
    Sent {
        id: i64,
        at: i64,
        answer: String,
        /// The ticket message this is, whose sending a ticket records: the acknowledgement
        /// (SAV-2: the ticket is acknowledged) and the information on lost data (INC-5).
        ticket_message: Option<(TicketNumber, Purpose)>,
    },
    /// To be tried again at `at`.
    Retry { id: i64, at: i64, error: String },
    /// Failed for good: recorded with a visible event on the alarm, and `fallback` (the same
    /// notice by another channel) queued.
    Failed {
        page: Box<ClaimedNotification>,
        at: i64,
        error: String,
        fallback: Option<Box<Notice>>,
    },
}

async fn record_outcome(
    connection: &mut AnyConnection,
    owner: &str,
    desk: &Policy,
    outcome: &DeliveryOutcome,
) -> Result<(bool, Option<crate::TicketChange>), StoreError> {
    let clip = |text: &str| -> String { text.chars().take(500).collect() };
    match outcome {
        DeliveryOutcome::Sent {
            id,
            at,
            answer,
            ticket_message,
        } => {
            let done = build(
                "UPDATE notifications SET status = 'sent', sent_ms = $1, answer = $2, last_error = NULL, lease_owner = NULL, lease_until_ms = NULL \
                 WHERE id = $3 AND lease_owner = $4 AND status = 'pending'",
                vec![
                    Arg::Int(*at),
                    Arg::Text(Some(clip(answer))),
                    Arg::Int(*id),
                    Arg::Text(Some(owner.to_owned())),
                ],
            )
            .execute(&mut *connection)
            .await?;
            if done.rows_affected() != 1 {
                return Ok((false, None));
            }
            let change = match ticket_message {
                Some((ticket, Purpose::Acknowledgement)) => {
                    crate::tickets::acknowledgement_sent(connection, desk, *ticket, *at).await?
                }
                Some((ticket, Purpose::GdprInformation)) => {
                    crate::tickets::gdpr_information_sent(connection, *ticket, *at).await?
                }
                _ => None,
            };
            Ok((true, change))
        }
        DeliveryOutcome::Retry { id, at, error } => {
            let done = build(
                "UPDATE notifications SET due_ms = $1, last_error = $2, lease_owner = NULL, lease_until_ms = NULL \
                 WHERE id = $3 AND lease_owner = $4 AND status = 'pending'",
                vec![
                    Arg::Int(*at),
                    Arg::Text(Some(clip(error))),
                    Arg::Int(*id),
                    Arg::Text(Some(owner.to_owned())),
                ],
            )
            .execute(&mut *connection)
            .await?;
            Ok((done.rows_affected() == 1, None))
        }
        DeliveryOutcome::Failed {
            page: claimed_page,
            at,
            error,
            fallback,
        } => {
            let error = clip(error);
            let done = build(
                "UPDATE notifications SET status = 'failed', last_error = $1, lease_owner = NULL, lease_until_ms = NULL \
                 WHERE id = $2 AND lease_owner = $3 AND status = 'pending'",
                vec![
                    Arg::Text(Some(error.clone())),
                    Arg::Int(claimed_page.id),
                    Arg::Text(Some(owner.to_owned())),
                ],
            )
            .execute(&mut *connection)
            .await?;
            if done.rows_affected() != 1 {
                return Ok((false, None));
            }
            let notice = match &claimed_page.outgoing {
                Outgoing::Page(notice) => notice,
                Outgoing::Ticket(message) => {
                    crate::tickets::message_failed(connection, message, &error, *at).await?;
                    return Ok((true, None));
                }
                // The outbox keeps the failure; the console lists it.
                Outgoing::Report(_) | Outgoing::Account(_) => return Ok((true, None)),
            };
            let page = &notice.page;
            let alarm = &notice.alarm;
            insert_event(
                connection,
                &alarm.event(
                    *at,
                    None,
                    EventKind::NotificationFailed {
                        key: page.key.clone(),
                        recipient: page.recipient.clone(),
                        name: Some(page.name.clone()),
                        channel: page.channel,
                        error,
                        fallback: fallback.as_ref().map(|f| f.page.channel),
                    },
                ),
            )
            .await?;
            if let Some(fallback) = fallback {
                let client: Option<(String,)> =
                    sqlx::query_as("SELECT client_ref FROM notifications WHERE id = $1")
                        .bind(claimed_page.id)
                        .fetch_optional(&mut *connection)
                        .await?;
                let (client,) =
                    client.ok_or_else(|| other("client de la notification inconnu".into()))?;
                enqueue(connection, fallback, &client, *at).await?;
            }
            Ok((true, None))
        }
    }
}

/// What a timer did when it fell due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Fired {
        told: Vec<Told>,
        missing: Vec<Missing>,
        /// On-call roles answered through a fallback (issue 26, item 1).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        routed: Vec<vigie_domain::alarm::escalation::Routed>,
        /// The emergency conference the step invited to (NOT-4).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        conference: Option<vigie_domain::policy::Invitation>,
        /// The ticket the step opened (NOT-5, NOT-7), with the events of its opening.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ticket: Option<Box<crate::tickets::TicketChange>>,
    },
    Skipped {
        reason: Skip,
    },
}

/// A timer that fell due, at `at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FiredTimer {
    pub timer: Timer,
    pub at: i64,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// What a row of the outbox carries: an alarm's page, a message about a ticket, a report's
/// email or a notice about an account. Its record is written and read by
/// [`crate::stored::outgoing`] only, hence no serde here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    Page(Box<Notice>),
    Ticket(Box<TicketNotice>),
    /// A monthly report sent to its recipient (issue 9), its PDF attached.
    Report(Box<crate::reports::ReportNotice>),
    /// A notice to a user about their own account (issue 23, item 11: a password changed).
    Account(Box<crate::people::AccountNotice>),
}

/// A page or a ticket message claimed for delivery.
#[derive(Debug, Clone)]
pub struct ClaimedNotification {
    pub id: i64,
    pub outgoing: Outgoing,
    /// Including this one.
    pub attempts: i64,
    pub created_ms: i64,
    /// The error of the last attempt. `None` with `attempts > 1`: an earlier claim ended
    /// without an outcome (its process died), so the page may have gone out already.
    pub last_error: Option<String>,
}

impl ClaimedNotification {
    /// The alarm's page, if it is one (acknowledgement links and SMS codes are for pages).
    pub fn notice(&self) -> Option<&Notice> {
        match &self.outgoing {
            Outgoing::Page(notice) => Some(notice),
            Outgoing::Ticket(_) | Outgoing::Report(_) | Outgoing::Account(_) => None,
        }
    }

    /// The idempotency key.
    pub fn key(&self) -> &str {
        match &self.outgoing {
            Outgoing::Page(notice) => &notice.page.key,
            Outgoing::Ticket(message) => &message.key,
            Outgoing::Report(report) => &report.mail.key,
            Outgoing::Account(notice) => &notice.key,
        }
    }

    pub fn channel(&self) -> Channel {
        match &self.outgoing {
            Outgoing::Page(notice) => notice.page.channel,
            Outgoing::Ticket(message) => message.channel,
            Outgoing::Report(_) | Outgoing::Account(_) => Channel::Email,
        }
    }

    pub fn address(&self) -> &str {
        match &self.outgoing {
            Outgoing::Page(notice) => &notice.page.address,
            Outgoing::Ticket(message) => &message.address,
            Outgoing::Report(report) => &report.mail.address,
            Outgoing::Account(notice) => &notice.address,
        }
    }

    pub fn recipient(&self) -> &str {
        match &self.outgoing {
            Outgoing::Page(notice) => &notice.page.recipient,
            Outgoing::Ticket(message) => &message.recipient,
            Outgoing::Report(report) => &report.mail.recipient,
            Outgoing::Account(notice) => &notice.account,
        }
    }

    /// The ticket and purpose of a message about a ticket.
    pub fn ticket_message(&self) -> Option<(TicketNumber, Purpose)> {
        match &self.outgoing {
            Outgoing::Ticket(message) => Some((message.ticket, message.purpose)),
            Outgoing::Page(_) | Outgoing::Report(_) | Outgoing::Account(_) => None,
        }
    }
}

/// A page or a ticket message as people read it (X-1: who was told, by which channel, when).
/// A page names its alarm; a ticket message names its ticket instead, with the ticket's
/// priority in `severity` and the message's purpose in `step`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredNotification {
    pub id: i64,
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alarm: Option<AlarmId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket: Option<TicketNumber>,
    pub severity: String,
    pub step: String,
    pub recipient: String,
    pub name: String,
    pub channel: String,
    pub address: String,
    pub status: String,
    pub attempts: i64,
    pub created_ms: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent_ms: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// What the channel answered when it took the message (an SMTP reply, a provider's id,
    /// the demo's outbox).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
}

/// The columns [`stored_notification`] reads.
const STORED_COLUMNS: &str = "id, key, alarm_id, ticket_number, severity, step, recipient, channel, address, status, attempts, created_ms, sent_ms, last_error, answer, record";

/// The most timers fired, or pages claimed, in one call.
pub const MAX_BATCH: i64 = 1000;

fn other(message: String) -> StoreError {
    StoreError::other(anyhow::anyhow!(message))
}

fn severity_of(text: &str) -> Option<Severity> {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).ok()
}

pub(crate) async fn insert_event(
    connection: &mut AnyConnection,
    event: &AlarmEvent,
) -> Result<(), StoreError> {
    let record = crate::stored::alarm_event::encode(event)?;
    build(
        "INSERT INTO alarm_events (alarm_id, at_ms, by_ref, event, record) VALUES ($1, $2, $3, $4, $5)",
        vec![
            Arg::Int(i64::try_from(event.alarm).unwrap_or(i64::MAX)),
            Arg::Int(event.at),
            Arg::Text(event.by.as_ref().map(ToString::to_string)),
            Arg::Text(Some(event.kind.key().to_owned())),
            Arg::Text(Some(record)),
        ],
    )
    .execute(&mut *connection)
    .await?;
    Ok(())
}

/// A site as escalation reads it, with the policy that applies there; for an alarm about no
/// site (nobody on call), the integrator's own place: no client, no contacts, the base policy
/// and the rotation's time zone.
struct SiteFacts {
    site: Option<Site>,
    client: Option<Reference>,
    options: BTreeSet<ContractOption>,
    tier: ContractTier,
    client_name: String,
    site_name: String,
    time_zone: TimeZoneName,
    contacts: Vec<Contact>,
    policy: Policy,
}

/// What one batch of firings has read, so that each site and the staff are read once.
#[derive(Default)]
struct Reads {
    sites: BTreeMap<Reference, Arc<SiteFacts>>,
    staff: Option<Arc<Vec<Staff>>>,
    rotations: Option<Arc<Vec<Rotation>>>,
    territories: Option<Arc<Vec<Territory>>>,
    equipment_names: BTreeMap<Reference, Option<String>>,
}

pub(crate) async fn record_of(
    connection: &mut AnyConnection,
    kind: ObjectKind,
    reference: &Reference,
) -> Result<Option<Record>, StoreError> {
    let row: Option<(String,)> = sqlx::query_as(&format!(
        "SELECT record FROM {} WHERE ref = $1",
        kind.plural()
    ))
    .bind(reference.to_string())
    .fetch_optional(&mut *connection)
    .await?;
    row.map(|(json,)| parse_record(kind, &json)).transpose()
}

impl Reads {
    /// What escalation reads for `alarm`: its site's facts, or the integrator's own for an
    /// alarm about no site.
    async fn facts(
        &mut self,
        connection: &mut AnyConnection,
        base: &Policy,
        alarm: &Alarm,
    ) -> Result<Arc<SiteFacts>, StoreError> {
        if let Some(site) = &alarm.site {
            return self.site(connection, base, site).await;
        }
        let rotation = alarm.condition.part.clone().unwrap_or_default();
        let time_zone = self
            .rotations(connection)
            .await?
            .iter()
            .find(|r| r.name.as_str() == rotation)
            .map(|r| r.time_zone.clone())
            .unwrap_or_default();
        Ok(Arc::new(SiteFacts {
            site: None,
            client: None,
            options: BTreeSet::new(),
            tier: ContractTier::Standard,
            client_name: String::new(),
            site_name: format!("astreinte {rotation}"),
            time_zone,
            contacts: Vec::new(),
            policy: base.clone(),
        }))
    }

    async fn site(
        &mut self,
        connection: &mut AnyConnection,
        base: &Policy,
        reference: &Reference,
    ) -> Result<Arc<SiteFacts>, StoreError> {
        if let Some(facts) = self.sites.get(reference) {
            return Ok(facts.clone());
        }
        let Some(Record::Site(site)) = record_of(connection, ObjectKind::Site, reference).await?
        else {
            return Err(other(format!("site {reference} introuvable")));
        };
        let Some(Record::Contract(contract)) =
            record_of(connection, ObjectKind::Contract, &site.contract).await?
        else {
            return Err(other(format!("contrat {} introuvable", site.contract)));
        };
        let client_name: Option<(String,)> =
            sqlx::query_as("SELECT name FROM clients WHERE ref = $1")
                .bind(site.client.to_string())
                .fetch_optional(&mut *connection)
                .await?;
        let contacts = crate::tickets::client_contacts(connection, &site.client).await?;
        let policy = base
            .for_site(&contract, &site)
            .map_err(|e| other(format!("politique du site {reference} : {e}")))?;
        let facts = Arc::new(SiteFacts {
            client_name: client_name.map_or_else(|| site.client.to_string(), |(n,)| n),
            client: Some(site.client.clone()),
            tier: contract.tier,
            options: contract.options,
            site_name: site.name.to_string(),
            time_zone: site.time_zone.clone(),
            site: Some(site),
            contacts,
            policy,
        });
        self.sites.insert(reference.clone(), facts.clone());
        Ok(facts)
    }

    async fn staff(
        &mut self,
        connection: &mut AnyConnection,
    ) -> Result<Arc<Vec<Staff>>, StoreError> {
        if self.staff.is_none() {
            let rows: Vec<(String,)> = sqlx::query_as("SELECT record FROM staff ORDER BY ref")
                .fetch_all(&mut *connection)
                .await?;
            let mut staff = Vec::new();
            for (json,) in rows {
                if let Record::Staff(person) = parse_record(ObjectKind::Staff, &json)? {
                    staff.push(person);
                }
            }
            self.staff = Some(Arc::new(staff));
        }
        Ok(self.staff.clone().unwrap_or_default())
    }

    async fn rotations(
        &mut self,
        connection: &mut AnyConnection,
    ) -> Result<Arc<Vec<Rotation>>, StoreError> {
        if self.rotations.is_none() {
            self.rotations = Some(Arc::new(read_rotations(connection).await?));
        }
        Ok(self.rotations.clone().unwrap_or_default())
    }

    async fn territories(
        &mut self,
        connection: &mut AnyConnection,
    ) -> Result<Arc<Vec<Territory>>, StoreError> {
        if self.territories.is_none() {
            self.territories = Some(Arc::new(read_territories(connection).await?));
        }
        Ok(self.territories.clone().unwrap_or_default())
    }

    /// Reads the names of `references` not read yet, a few hundred per query.
    async fn equipment_names(
        &mut self,
        connection: &mut AnyConnection,
        references: &[Reference],
    ) -> Result<(), StoreError> {
        let wanted: Vec<&Reference> = references
            .iter()
            .filter(|r| !self.equipment_names.contains_key(*r))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let keys: Vec<String> = wanted.iter().map(|r| r.to_string()).collect();
        let query = format!(
            "SELECT ref, name FROM equipment WHERE ref IN {}",
            crate::bulk::strings(crate::bulk::is_sqlite(connection))
        );
        let rows: Vec<(String, String)> = crate::bulk::fetch(connection, &query, &keys)
            .await?
            .iter()
            .map(|row| (row.get::<String, _>(0), row.get::<String, _>(1)))
            .collect();
        let names: BTreeMap<&str, &str> =
            rows.iter().map(|(r, n)| (r.as_str(), n.as_str())).collect();
        for reference in wanted {
            let name = names.get(reference.as_str()).map(|n| (*n).to_owned());
            self.equipment_names.insert(reference.clone(), name);
        }
        Ok(())
    }

    async fn equipment_name(
        &mut self,
        connection: &mut AnyConnection,
        reference: &Reference,
    ) -> Result<Option<String>, StoreError> {
        if let Some(name) = self.equipment_names.get(reference) {
            return Ok(name.clone());
        }
        let name: Option<(String,)> = sqlx::query_as("SELECT name FROM equipment WHERE ref = $1")
            .bind(reference.to_string())
            .fetch_optional(&mut *connection)
            .await?;
        let name = name.map(|(n,)| n);
        self.equipment_names.insert(reference.clone(), name.clone());
        Ok(name)
    }
}

/// The technicians' coverage gaps of `sites` (reference, client) over the coming 14 days.
fn coverage_of(
    rotations: &[Rotation],
    territories: &[Territory],
    sites: &[(Reference, Reference)],
    now: i64,
) -> Vec<vigie_domain::oncall::CoverageGap> {
    use vigie_domain::oncall::{COVERAGE_HORIZON_MS, Duty, Place, coverage_gaps};
    let places: Vec<Place<'_>> = sites
        .iter()
        .map(|(site, client)| Place { site, client })
        .collect();
    coverage_gaps(
        rotations,
        territories,
        &places,
        Duty::Technician,
        now,
        now.saturating_add(COVERAGE_HORIZON_MS),
    )
}

/// What the on-call figures are made of: the pages sent to the staff, the alarms told.
pub type LoadRecords = (
    Vec<vigie_domain::oncall_load::PageSent>,
    Vec<vigie_domain::oncall_load::AlarmTimes>,
);

/// The most pages, and the most alarms, one request for on-call figures reads.
pub const MAX_FIGURE_ROWS: i64 = 200_000;

/// The setting that holds a calendar feed's generation.
fn feed_setting(feed: &str, id: &Reference) -> String {
    format!("agenda/{feed}/{id}")
}

/// Every territory (issue 26, item 1): the integrator has tens of them, read whole.
pub(crate) async fn read_territories(
    connection: &mut AnyConnection,
) -> Result<Vec<Territory>, StoreError> {
    let rows: Vec<(String,)> = sqlx::query_as("SELECT record FROM territories ORDER BY ref")
        .fetch_all(&mut *connection)
        .await?;
    let mut territories = Vec::with_capacity(rows.len());
    for (json,) in rows {
        if let Record::Territory(territory) = parse_record(ObjectKind::Territory, &json)? {
            territories.push(territory);
        }
    }
    Ok(territories)
}

pub(crate) async fn read_rotations(
    connection: &mut AnyConnection,
) -> Result<Vec<Rotation>, StoreError> {
    let rows: Vec<(String,)> = sqlx::query_as("SELECT record FROM rotations ORDER BY name")
        .fetch_all(&mut *connection)
        .await?;
    rows.into_iter()
        .map(|(json,)| {
            serde_json::from_str(&json)
                .map_err(|e| other(format!("astreinte stockée illisible : {e}")))
        })
        .collect()
}

async fn stored_alarm(
    connection: &mut AnyConnection,
    id: AlarmId,
) -> Result<Option<Alarm>, StoreError> {
    let row: Option<(String,)> = sqlx::query_as("SELECT record FROM alarms WHERE id = $1")
        .bind(i64::try_from(id).unwrap_or(i64::MAX))
        .fetch_optional(&mut *connection)
        .await?;
    row.map(|(json,)| crate::stored::alarm::decode(&json))
        .transpose()
}

/// `client` is the page's `client_ref`: the alarm's client, or [`NO_REFERENCE`].
async fn enqueue(
    connection: &mut AnyConnection,
    notice: &Notice,
    client: &str,
    now: i64,
) -> Result<(), StoreError> {
    enqueue_at(connection, notice, client, notice.page.due(now), now).await
}

/// Queues a page to go at `due` (a digest waits for its hour).
async fn enqueue_at(
    connection: &mut AnyConnection,
    notice: &Notice,
    client: &str,
    due: i64,
    now: i64,
) -> Result<(), StoreError> {
    let row = page_row_for(notice, client.to_owned(), due, now)?;
    // The same page already waiting for a later turn (a call of the person's channel order
    // when their SMS failed for good) goes now instead: moved forward, never sent twice.
    build(
        &format!(
            "{PAGE_INSERT} ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
             ON CONFLICT (key) DO UPDATE SET due_ms = excluded.due_ms \
             WHERE notifications.status = 'pending' AND notifications.due_ms > excluded.due_ms"
        ),
        row,
    )
    .execute(&mut *connection)
    .await?;
    Ok(())
}

/// Adds a notice's alarm to its recipient's digest going at `due`, creating the digest page
/// if it is the day's first (the page's key names the day and the recipient).
async fn add_to_digest(
    connection: &mut AnyConnection,
    notice: Notice,
    client: &str,
    due: i64,
) -> Result<(), StoreError> {
    // On PostgreSQL the row is locked: two processes adding to one digest do not lose a line.
    let existing: Option<(i64,)> =
        sqlx::query_as("SELECT id FROM notifications WHERE key = $1 AND status = 'pending'")
            .bind(notice.page.key.clone())
            .fetch_optional(&mut *connection)
            .await?;
    match existing {
        Some((id,)) => {
            let _lock = sqlx::query("UPDATE notifications SET due_ms = due_ms WHERE id = $1")
                .bind(id)
                .execute(&mut *connection)
                .await?;
            let (record,): (String,) =
                sqlx::query_as("SELECT record FROM notifications WHERE id = $1")
                    .bind(id)
                    .fetch_one(&mut *connection)
                    .await?;
            let Outgoing::Page(mut stored) = crate::stored::outgoing::decode(&record)? else {
                return Err(other(format!(
                    "rapport quotidien stocké illisible : la notification {id} n'est pas la page d'une alarme"
                )));
            };
            stored.add_to_digest(notice.digest_entry());
            let record = crate::stored::outgoing::encode_page(&stored)?;
            build(
                "UPDATE notifications SET record = $1 WHERE id = $2",
                vec![Arg::Text(Some(record)), Arg::Int(id)],
            )
            .execute(&mut *connection)
            .await?;
            Ok(())
        }
        None => enqueue_at(connection, &notice, client, due, due).await,
    }
}

/// What firing timers decided, to be written: pages, digest lines, events, timers.
#[derive(Default)]
struct Writes {
    /// Pages to queue now, with their client.
    pages: Vec<(Notice, Option<Reference>)>,
    /// Lines of daily digests, with their client and the digest's instant.
    digests: Vec<(Notice, Option<Reference>, i64)>,
    events: Vec<AlarmEvent>,
    /// Timers to arm (pending).
    timers: Vec<Timer>,
    /// Timers fired here, with their outcome's key, written already fired.
    fired: Vec<(Timer, &'static str)>,
}

/// The most rows one bulk insert carries.
const ROWS_PER_INSERT: usize = 250;

/// Inserts `rows` (each `width` values) with `head` (`INSERT INTO t (…) VALUES`) and `tail`
/// (`ON CONFLICT …`): the rows go as one JSON array parameter read back as a table
/// ([`crate::bulk`]), so that a burst of alarms is one statement per table, and no statement
/// binds more than one parameter (sqlx looks each up by name: many cost a quadratic time).
pub(crate) async fn insert_rows(
    connection: &mut AnyConnection,
    head: &str,
    tail: &str,
    width: usize,
    rows: Vec<Vec<Arg>>,
) -> Result<(), StoreError> {
    use crate::bulk::Column;
    let Some(first) = rows.first() else {
        return Ok(());
    };
    debug_assert!(rows.iter().all(|row| row.len() == width));
    let columns: Vec<Column> = first
        .iter()
        .map(|arg| match arg {
            Arg::Text(_) => Column::Text,
            Arg::Int(_) | Arg::OptionalInt(_) => Column::Int,
        })
        .collect();
    let values: Vec<serde_json::Value> = rows
        .into_iter()
        .map(|row| {
            serde_json::Value::Array(
                row.into_iter()
                    .map(|arg| match arg {
                        Arg::Text(text) => text.map_or(serde_json::Value::Null, Into::into),
                        Arg::Int(number) => number.into(),
                        Arg::OptionalInt(number) => {
                            number.map_or(serde_json::Value::Null, Into::into)
                        }
                    })
                    .collect(),
            )
        })
        .collect();
    let head = head.trim_end().trim_end_matches("VALUES").trim_end();
    // A few hundred rows per statement: a burst is still a few statements, and the JSON of
    // one statement stays well under a megabyte (a larger one grows the process for good).
    for chunk in values.chunks(ROWS_PER_INSERT) {
        crate::bulk::insert(connection, head, &columns, tail, chunk).await?;
    }
    Ok(())
}

/// The `client_ref` of a page: its alarm's client, or [`NO_REFERENCE`].
fn client_column(client: Option<&Reference>) -> String {
    client.map_or_else(|| NO_REFERENCE.to_owned(), ToString::to_string)
}

fn page_row(
    notice: &Notice,
    client: Option<&Reference>,
    due: i64,
    now: i64,
) -> Result<Vec<Arg>, StoreError> {
    page_row_for(notice, client_column(client), due, now)
}

/// The columns of [`PAGE_INSERT`] for a page to go at `due`.
fn page_row_for(
    notice: &Notice,
    client: String,
    due: i64,
    now: i64,
) -> Result<Vec<Arg>, StoreError> {
    let page = &notice.page;
    let record = crate::stored::outgoing::encode_page(notice)?;
    Ok(vec![
        Arg::Text(Some(page.key.clone())),
        Arg::Int(i64::try_from(page.alarm).unwrap_or(i64::MAX)),
        Arg::Text(Some(client)),
        Arg::Text(Some(page.severity.key().to_owned())),
        Arg::Text(Some(page.step.clone())),
        Arg::Text(Some(page.recipient.clone())),
        Arg::Text(Some(escalation::channel_key(page.channel).to_owned())),
        Arg::Text(Some(page.address.clone())),
        Arg::Text(Some(
            if shown_at_once(page.channel, due, now) {
                "sent"
            } else {
                "pending"
            }
            .to_owned(),
        )),
        Arg::Int(0),
        Arg::Int(due),
        Arg::Int(now),
        Arg::OptionalInt(shown_at_once(page.channel, due, now).then_some(now)),
        Arg::Text(shown_at_once(page.channel, due, now).then(|| "console".to_owned())),
        Arg::Text(Some(record)),
    ])
}

/// A page to the supervision console due now is delivered by being written: the console reads
/// it from the table (NOT-1). It is recorded sent at once, so that no worker claims it.
fn shown_at_once(channel: vigie_domain::policy::Channel, due: i64, now: i64) -> bool {
    channel == vigie_domain::policy::Channel::Console && due <= now
}

const PAGE_INSERT: &str = "INSERT INTO notifications (key, alarm_id, client_ref, severity, step, recipient, channel, address, status, attempts, due_ms, created_ms, sent_ms, answer, record) VALUES";

pub(crate) fn event_row(event: &AlarmEvent) -> Result<Vec<Arg>, StoreError> {
    let record = crate::stored::alarm_event::encode(event)?;
    Ok(vec![
        Arg::Int(i64::try_from(event.alarm).unwrap_or(i64::MAX)),
        Arg::Int(event.at),
        Arg::Text(event.by.as_ref().map(ToString::to_string)),
        Arg::Text(Some(event.kind.key().to_owned())),
        Arg::Text(Some(record)),
    ])
}

/// Inserts alarm events, a few hundred per statement.
pub(crate) async fn insert_events(
    connection: &mut AnyConnection,
    events: &[AlarmEvent],
) -> Result<(), StoreError> {
    let rows = events
        .iter()
        .map(event_row)
        .collect::<Result<Vec<_>, _>>()?;
    insert_rows(
        connection,
        "INSERT INTO alarm_events (alarm_id, at_ms, by_ref, event, record) VALUES",
        "",
        5,
        rows,
    )
    .await
}

impl Writes {
    async fn write(self, connection: &mut AnyConnection, now: i64) -> Result<(), StoreError> {
        let timer_row = |timer: &Timer, fired: Option<&'static str>| {
            vec![
                Arg::Text(Some(timer.key())),
                Arg::Int(i64::try_from(timer.alarm).unwrap_or(i64::MAX)),
                Arg::Text(Some(timer.severity.key().to_owned())),
                Arg::Text(Some(timer.step.clone())),
                Arg::Int(i64::from(timer.round)),
                Arg::Int(timer.due),
                Arg::OptionalInt(fired.map(|_| now)),
                Arg::Text(fired.map(str::to_owned)),
            ]
        };
        let timers: Vec<Vec<Arg>> = self
            .timers
            .iter()
            .map(|t| timer_row(t, None))
            .chain(
                self.fired
                    .iter()
                    .map(|(t, outcome)| timer_row(t, Some(outcome))),
            )
            .collect();
        insert_rows(
            connection,
            "INSERT INTO escalation_timers (key, alarm_id, severity, step, round, due_ms, fired_ms, outcome) VALUES",
            "ON CONFLICT (key) DO NOTHING",
            8,
            timers,
        )
        .await?;
        let pages = self
            .pages
            .iter()
            // A later entry of a person's channel order waits its turn (issue 26, item 3).
            .map(|(notice, client)| page_row(notice, client.as_ref(), notice.page.due(now), now))
            .collect::<Result<Vec<_>, _>>()?;
        insert_rows(
            connection,
            PAGE_INSERT,
            "ON CONFLICT (key) DO NOTHING",
            15,
            pages,
        )
        .await?;
        for (notice, client, due) in self.digests {
            add_to_digest(connection, notice, &client_column(client.as_ref()), due).await?;
        }
        insert_events(connection, &self.events).await
    }
}

/// Decides `timer`'s step for `alarm` as it stands and adds what it implies to `writes`.
#[allow(clippy::too_many_arguments)]
async fn fire(
    connection: &mut AnyConnection,
    setup: &Escalation,
    reads: &mut Reads,
    writes: &mut Writes,
    timer: &Timer,
    alarm: Option<&Alarm>,
    by: Option<&Reference>,
    now: i64,
) -> Result<Outcome, StoreError> {
    let Some(alarm) = alarm else {
        return Ok(Outcome::Skipped {
            reason: Skip::UnknownAlarm,
        });
    };
    let facts = reads.facts(connection, &setup.policy, alarm).await?;
    let (step, repeat) = match escalation::decide(&facts.policy, timer, alarm, &facts.options) {
        Decision::Skip(reason) => return Ok(Outcome::Skipped { reason }),
        Decision::Fire { step, repeat } => (step, repeat),
    };
    // The client's roles of a step told only under some contract option (NOT-4's conference
    // invites the security manager and the CIO when the contract says so).
    let step = &escalation::for_contract(step, &facts.options);
    // NOT-4 (issue 26, item 2): a conference step invites to the alarm's bridge.
    let conference = if step.conference {
        facts
            .policy
            .conference
            .invitation(&escalation::conference_room(alarm.id), alarm.id)
    } else {
        None
    };
    let staff = reads.staff(connection).await?;
    let rotations = reads.rotations(connection).await?;
    let territories = reads.territories(connection).await?;
    let directory = Directory {
        site: facts.site.as_ref(),
        contacts: &facts.contacts,
        staff: &staff,
        rotations: &rotations,
        territories: &territories,
    };
    let Plan {
        pages,
        missing,
        routed,
    } = escalation::plan(timer, step, &directory, &setup.webhooks, now);
    let equipment_name = match &alarm.equipment {
        Some(reference) => reads.equipment_name(connection, reference).await?,
        None => None,
    };
    let acknowledge_by = escalation::acknowledge_by(&facts.policy, alarm);
    let digest_due = if step.digest {
        escalation::next_digest(&facts.policy, now)
    } else {
        None
    };
    let digest_zone = facts
        .policy
        .calendar(&facts.policy.alarm.minor_digest_calendar)
        .map(|c| c.time_zone.clone());
    let mut told = Vec::new();
    for page in pages {
        if step.digest && page.channel == Channel::Console {
            // The team sees the alarm through the chain's console step.
            continue;
        }
        // A later turn of a person's channel order is told when it goes, if it goes.
        if page.follow_up_ms == 0 {
            told.push(Told {
                recipient: page.recipient.clone(),
                name: page.name.clone(),
                channel: page.channel,
            });
        }
        let notice = Notice {
            page,
            alarm: alarm.clone(),
            client_name: facts.client_name.clone(),
            site_name: facts.site_name.clone(),
            equipment_name: equipment_name.clone(),
            time_zone: facts.time_zone.clone(),
            acknowledge_by,
            digest: Vec::new(),
            digest_omitted: 0,
            conference: conference.clone(),
        };
        match (digest_due, &digest_zone) {
            (Some(due), Some(zone)) => {
                let mut notice = Notice {
                    page: escalation::digest_page(&notice.page, due, zone),
                    // A digest lists alarms of several deadlines.
                    acknowledge_by: None,
                    ..notice
                };
                notice.digest = vec![notice.digest_entry()];
                writes.digests.push((notice, facts.client.clone(), due));
            }
            _ => writes.pages.push((notice, facts.client.clone())),
        }
    }
    if let Some(repeat) = repeat {
        writes.timers.push(repeat);
    }
    // NOT-5, NOT-7: the step opens a ticket, in this transaction, once per alarm and kind; an
    // alarm about no site concerns no client and opens none.
    let ticket = match (step.opens_ticket, &facts.client) {
        (Some(kind), Some(client)) => {
            let terms = vigie_domain::ticket::desk::Terms {
                tier: facts.tier,
                round_the_clock: facts.options.contains(&ContractOption::RoundTheClock),
            };
            crate::tickets::open_for_alarm(
                connection,
                &facts.policy,
                terms,
                client,
                alarm,
                kind,
                timer,
                equipment_name.as_deref(),
                &facts.site_name,
                now,
            )
            .await?
        }
        _ => None,
    };
    writes.events.push(alarm.event(
        now,
        by.cloned(),
        EventKind::Escalated {
            step: timer.step_label(),
            told: told.clone(),
            missing: missing.clone(),
            routed: routed.clone(),
            conference: conference.clone(),
            ticket: ticket.as_ref().map(|t| t.ticket.number),
        },
    ));
    Ok(Outcome::Fired {
        told,
        missing,
        routed,
        conference,
        ticket: ticket.map(Box::new),
    })
}

fn outcome_key(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Fired { .. } => "fired",
        Outcome::Skipped { reason } => reason.key(),
    }
}

/// Claims a stored `timer` (the one update that sets its `fired_ms`) and fires or skips its
/// step. `None` if another firing claimed it first.
async fn fire_stored(
    connection: &mut AnyConnection,
    setup: &Escalation,
    reads: &mut Reads,
    timer: Timer,
    by: Option<&Reference>,
    now: i64,
) -> Result<Option<FiredTimer>, StoreError> {
    let claimed = build(
        "UPDATE escalation_timers SET fired_ms = $1 WHERE key = $2 AND fired_ms IS NULL",
        vec![Arg::Int(now), Arg::Text(Some(timer.key()))],
    )
    .execute(&mut *connection)
    .await?;
    if claimed.rows_affected() != 1 {
        return Ok(None);
    }
    let alarm = stored_alarm(connection, timer.alarm).await?;
    let mut writes = Writes::default();
    let outcome = fire(
        connection,
        setup,
        reads,
        &mut writes,
        &timer,
        alarm.as_ref(),
        by,
        now,
    )
    .await?;
    writes.write(connection, now).await?;
    build(
        "UPDATE escalation_timers SET outcome = $1 WHERE key = $2",
        vec![
            Arg::Text(Some(outcome_key(&outcome).to_owned())),
            Arg::Text(Some(timer.key())),
        ],
    )
    .execute(&mut *connection)
    .await?;
    Ok(Some(FiredTimer {
        timer,
        at: now,
        outcome,
    }))
}

/// The timers an alarm's saved events arm: its chain when it is told, the new severity's
/// chain when it worsens after being told (NOT-8).
pub(crate) fn timers_of(
    policy: &Policy,
    alarm: &Alarm,
    events: &[&AlarmEvent],
) -> Result<Vec<Timer>, StoreError> {
    let mut timers = Vec::new();
    for event in events {
        let armed = match &event.kind {
            EventKind::Notified { severity } => {
                escalation::arm(policy, alarm.id, *severity, event.at)
            }
            EventKind::SeverityChanged { to, .. } => match alarm.notified_at {
                Some(told) if told <= event.at => {
                    escalation::arm_worsened(policy, alarm.id, *to, event.at, told)
                }
                _ => continue,
            },
            _ => continue,
        };
        timers.extend(armed.map_err(|e| other(format!("alarme n°{} : {e}", alarm.id)))?);
    }
    Ok(timers)
}

/// Arms the timers of what `events` did to `alarms` and fires those already due at `now`,
/// in the caller's transaction.
pub(crate) async fn arm_and_fire(
    connection: &mut AnyConnection,
    setup: &Escalation,
    alarms: &[(Option<Reference>, Alarm)],
    events: &[AlarmEvent],
    now: i64,
) -> Result<Vec<FiredTimer>, StoreError> {
    let mut reads = Reads::default();
    let mut writes = Writes::default();
    let mut fired = Vec::new();
    let mut own_events: BTreeMap<AlarmId, Vec<&AlarmEvent>> = BTreeMap::new();
    for event in events {
        own_events.entry(event.alarm).or_default().push(event);
    }
    // Only a notification or a change of severity arms timers; most saves (a resolution, a
    // step by a person) read nothing here.
    let arming: Vec<(&Alarm, &Vec<&AlarmEvent>)> = alarms
        .iter()
        .filter_map(|(_, alarm)| own_events.get(&alarm.id).map(|own| (alarm, own)))
        .filter(|(_, own)| {
            own.iter().any(|e| {
                matches!(
                    e.kind,
                    EventKind::Notified { .. } | EventKind::SeverityChanged { .. }
                )
            })
        })
        .collect();
    if arming.is_empty() {
        return Ok(Vec::new());
    }
    // The names of the equipment that may be paged about, read at once.
    let equipment: Vec<Reference> = arming
        .iter()
        .filter_map(|(alarm, _)| alarm.equipment.clone())
        .collect();
    reads.equipment_names(connection, &equipment).await?;
    for (alarm, own) in arming {
        let facts = reads.facts(connection, &setup.policy, alarm).await?;
        for timer in timers_of(&facts.policy, alarm, own)? {
            if timer.due > now {
                writes.timers.push(timer);
                continue;
            }
            // Armed and due in this transaction: nobody else sees it before it is fired, so
            // it is written fired, with its outcome.
            let outcome = fire(
                connection,
                setup,
                &mut reads,
                &mut writes,
                &timer,
                Some(alarm),
                None,
                now,
            )
            .await?;
            writes.fired.push((timer.clone(), outcome_key(&outcome)));
            fired.push(FiredTimer {
                timer,
                at: now,
                outcome,
            });
        }
    }
    writes.write(connection, now).await?;
    Ok(fired)
}

fn notification_columns() -> &'static str {
    "id, record, attempts, created_ms, last_error"
}

fn claimed(row: &sqlx::any::AnyRow) -> Result<ClaimedNotification, StoreError> {
    let record: String = row.try_get("record")?;
    let outgoing = crate::stored::outgoing::decode(&record)?;
    Ok(ClaimedNotification {
        id: row.try_get("id")?,
        outgoing,
        attempts: row.try_get("attempts")?,
        created_ms: row.try_get("created_ms")?,
        last_error: row.try_get("last_error")?,
    })
}

impl System {
    /// Fires the escalation timers due at `now` (at most `limit`), each in its own claim:
    /// with several processes, a timer fires in exactly one.
    pub async fn fire_due_timers(
        &self,
        setup: &Escalation,
        now: i64,
        limit: i64,
    ) -> Result<Vec<FiredTimer>, StoreError> {
        let limit = limit.clamp(1, MAX_BATCH);
        let mut transaction = self.write.begin().await?;
        let sql = match self.backend {
            Backend::Postgres => {
                "SELECT key, alarm_id, severity, step, round, due_ms FROM escalation_timers \
                 WHERE fired_ms IS NULL AND due_ms <= $1 ORDER BY due_ms, key LIMIT $2 FOR UPDATE SKIP LOCKED"
            }
            Backend::Sqlite => {
                "SELECT key, alarm_id, severity, step, round, due_ms FROM escalation_timers \
                 WHERE fired_ms IS NULL AND due_ms <= $1 ORDER BY due_ms, key LIMIT $2"
            }
        };
        let rows: Vec<(String, i64, String, String, i64, i64)> = sqlx::query_as(sql)
            .bind(now)
            .bind(limit)
            .fetch_all(&mut *transaction)
            .await?;
        let mut reads = Reads::default();
        let mut fired = Vec::new();
        for (key, alarm, severity, step, round, due) in rows {
            let Some(severity) = severity_of(&severity) else {
                tracing::error!(%key, "minuterie d'escalade illisible : ignorée");
                continue;
            };
            let timer = Timer {
                alarm: u64::try_from(alarm).unwrap_or_default(),
                severity,
                step,
                round: u32::try_from(round).unwrap_or(u32::MAX),
                due,
            };
            if let Some(done) =
                fire_stored(&mut transaction, setup, &mut reads, timer, None, now).await?
            {
                fired.push(done);
            }
        }
        transaction.commit().await?;
        Ok(fired)
    }
}

impl Store {
    /// Starts an alarm's emergency conference call from the console (NOT-4, issue 26 item 2):
    /// the policy's `[conference.on_demand]` step fires at once for the alarm, by `actor`,
    /// through the same durable path as the chain's steps (a timer, fired in this
    /// transaction, its pages in the outbox). Each start is a new round, so a second call
    /// invites again. Refused without a bridge, on a closed alarm, for a client.
    pub async fn start_conference(
        &self,
        actor: &Actor,
        setup: &Escalation,
        alarm: AlarmId,
        now: i64,
    ) -> Result<FiredTimer, StoreError> {
        require(actor, Permission::HandleAlarms)?;
        let Some(step) = setup.policy.conference.on_demand.clone() else {
            return Err(StoreError::Invalid(
                "la politique n'a pas de conférence à la demande ([conference.on_demand])".into(),
            ));
        };
        if setup.policy.conference.bridges.is_empty() {
            return Err(StoreError::Invalid(
                "aucun pont de conférence configuré ([[conference.bridges]] de la politique)"
                    .into(),
            ));
        }
        // Within the actor's walls, as any read of the alarm.
        self.alarm(actor, alarm, now).await?;
        let mut transaction = self.write.begin().await?;
        let stored = stored_alarm(&mut transaction, alarm)
            .await?
            .ok_or(StoreError::NotFound)?;
        if stored.closure.is_some() {
            return Err(StoreError::Conflict(format!(
                "l'alarme n°{alarm} est close : plus de conférence à son sujet"
            )));
        }
        let (earlier,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM escalation_timers WHERE alarm_id = $1 AND step = $2",
        )
        .bind(i64::try_from(alarm).unwrap_or(i64::MAX))
        .bind(&step.name)
        .fetch_one(&mut *transaction)
        .await?;
        let timer = Timer {
            alarm,
            severity: stored.severity,
            step: step.name.clone(),
            round: u32::try_from(earlier).unwrap_or(u32::MAX),
            due: now,
        };
        build(
            "INSERT INTO escalation_timers (key, alarm_id, severity, step, round, due_ms) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (key) DO NOTHING",
            vec![
                Arg::Text(Some(timer.key())),
                Arg::Int(i64::try_from(timer.alarm).unwrap_or(i64::MAX)),
                Arg::Text(Some(timer.severity.key().to_owned())),
                Arg::Text(Some(timer.step.clone())),
                Arg::Int(i64::from(timer.round)),
                Arg::Int(timer.due),
            ],
        )
        .execute(&mut *transaction)
        .await?;
        let by = actor.staff().cloned();
        let fired = fire_stored(
            &mut transaction,
            setup,
            &mut Reads::default(),
            timer,
            by.as_ref(),
            now,
        )
        .await?
        .ok_or_else(|| StoreError::Conflict("conférence déjà lancée à l'instant".into()))?;
        transaction.commit().await?;
        Ok(fired)
    }
}

impl System {
    /// The earliest pending escalation timer.
    pub async fn next_timer_due(&self) -> Result<Option<i64>, StoreError> {
        let row: (Option<i64>,) =
            sqlx::query_as("SELECT MIN(due_ms) FROM escalation_timers WHERE fired_ms IS NULL")
                .fetch_one(&self.write)
                .await?;
        Ok(row.0)
    }
}

impl System {
    /// The earliest page waiting for delivery (a retry's instant, or now).
    pub async fn next_notification_due(&self) -> Result<Option<i64>, StoreError> {
        let row: (Option<i64>,) =
            sqlx::query_as("SELECT MIN(due_ms) FROM notifications WHERE status = 'pending'")
                .fetch_one(&self.write)
                .await?;
        Ok(row.0)
    }
}

impl System {
    /// Claims up to `limit` pages due at `now` for `owner` until `now + lease_ms`: nobody else
    /// delivers them meanwhile. A page whose lease ran out is claimed again.
    pub async fn claim_notifications(
        &self,
        owner: &str,
        now: i64,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<ClaimedNotification>, StoreError> {
        let limit = limit.clamp(1, MAX_BATCH);
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE notifications SET lease_owner = $1, lease_until_ms = $2, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM notifications WHERE status = 'pending' AND due_ms <= $3 \
             AND (lease_until_ms IS NULL OR lease_until_ms < $3) ORDER BY due_ms, id LIMIT $4{lock}) \
             RETURNING {}",
            notification_columns()
        );
        let rows = sqlx::query(&sql)
            .bind(owner.to_owned())
            .bind(now.saturating_add(lease_ms))
            .bind(now)
            .bind(limit)
            .fetch_all(&self.write)
            .await?;
        let mut claimed_pages = rows.iter().map(claimed).collect::<Result<Vec<_>, _>>()?;
        claimed_pages.sort_by_key(|c| c.id);
        // A later entry of a person's channel order goes only while its alarm is unanswered
        // (issue 26, item 3); the server and the simulator both claim here, so both skip alike.
        let mut kept = Vec::with_capacity(claimed_pages.len());
        let mut connection = None;
        for page in claimed_pages {
            let Some(notice) = page.notice().filter(|n| n.page.follow_up_ms > 0) else {
                kept.push(page);
                continue;
            };
            let connection = match &mut connection {
                Some(connection) => connection,
                None => connection.insert(self.write.acquire().await?),
            };
            let needless = stored_alarm(connection, notice.alarm.id)
                .await?
                .and_then(|alarm| escalation::follow_up_needless(&alarm));
            match needless {
                Some(reason) => {
                    build(
                        "UPDATE notifications SET status = 'skipped', sent_ms = $1, answer = $2, lease_owner = NULL, lease_until_ms = NULL \
                         WHERE id = $3 AND lease_owner = $4 AND status = 'pending'",
                        vec![
                            Arg::Int(now),
                            Arg::Text(Some(reason)),
                            Arg::Int(page.id),
                            Arg::Text(Some(owner.to_owned())),
                        ],
                    )
                    .execute(&mut **connection)
                    .await?;
                }
                None => kept.push(page),
            }
        }
        Ok(kept)
    }
}

impl System {
    /// Records what became of delivered pages, all in one transaction (one commit for a
    /// whole batch of pages: a burst of pages is not a burst of fsyncs). For each outcome,
    /// false if `owner`'s lease was lost (another worker took the page).
    pub async fn record_outcomes(
        &self,
        owner: &str,
        desk: &Policy,
        outcomes: &[DeliveryOutcome],
    ) -> Result<Vec<bool>, StoreError> {
        let mut transaction = self.write.begin().await?;
        let mut recorded = Vec::with_capacity(outcomes.len());
        for outcome in outcomes {
            recorded.push(
                record_outcome(&mut transaction, owner, desk, outcome)
                    .await?
                    .0,
            );
        }
        transaction.commit().await?;
        Ok(recorded)
    }
}

impl System {
    /// Records a page delivered. False if `owner`'s lease was lost (another worker took it).
    pub async fn notification_sent(
        &self,
        claimed: &ClaimedNotification,
        owner: &str,
        desk: &Policy,
        now: i64,
        answer: &str,
    ) -> Result<(bool, Option<crate::TicketChange>), StoreError> {
        let outcome = DeliveryOutcome::Sent {
            id: claimed.id,
            at: now,
            answer: answer.to_owned(),
            ticket_message: claimed.ticket_message(),
        };
        let mut transaction = self.write.begin().await?;
        let recorded = record_outcome(&mut transaction, owner, desk, &outcome).await?;
        transaction.commit().await?;
        Ok(recorded)
    }
}

impl Store {
    /// The pages of an alarm, oldest first (at most [`MAX_BATCH`]): for who handles alarms,
    /// and only of an alarm the actor sees (X-1: who was told, how, when). Clients never see
    /// who was paged.
    pub async fn notifications_of(
        &self,
        actor: &Actor,
        alarm: AlarmId,
    ) -> Result<Vec<StoredNotification>, StoreError> {
        require(actor, Permission::HandleAlarms)?;
        let mut args = vec![
            Arg::Int(i64::try_from(alarm).unwrap_or(i64::MAX)),
            Arg::Int(MAX_BATCH),
        ];
        let condition = crate::supervision::visibility_condition(
            &actor.visibility(),
            "a.client_ref",
            "a.site_ref",
            &mut args,
        );
        let sql = format!(
            "SELECT {STORED_COLUMNS} FROM notifications WHERE alarm_id = $1 \
             AND EXISTS (SELECT 1 FROM alarms a WHERE a.id = notifications.alarm_id{condition}) \
             ORDER BY id LIMIT $2"
        );
        let rows = build(&sql, args).fetch_all(&self.read).await?;
        rows.iter().map(stored_notification).collect()
    }

    /// The supervision team's console feed, newest first, paged by `before` (NOT-1).
    pub async fn console_feed(
        &self,
        actor: &Actor,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<StoredNotification>, StoreError> {
        self.notifications_page(actor, "channel = 'console' AND ", before, limit)
            .await
    }

    /// One page of the outbox, newest first, below `before`, with `condition` (ending with
    /// `AND`, or empty): for the staff only (the addresses are the clients' contacts').
    async fn notifications_page(
        &self,
        actor: &Actor,
        condition: &str,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<StoredNotification>, StoreError> {
        require(actor, Permission::HandleAlarms)?;
        let rows = sqlx::query(&format!(
            "SELECT {STORED_COLUMNS} FROM notifications WHERE {condition}id < $1 ORDER BY id DESC LIMIT $2"
        ))
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit.clamp(1, crate::MAX_PAGE_SIZE))
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(stored_notification).collect()
    }

    /// The whole outbox as the staff reads it, newest first, paged by `before` (ids below it):
    /// every channel, pending, sent or failed, alarms' pages and ticket messages alike. What
    /// `vigie demo` shows in place of the pages it does not send. The integrator's staff only
    /// (the addresses are the clients' contacts').
    pub async fn recent_notifications(
        &self,
        actor: &Actor,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<StoredNotification>, StoreError> {
        self.notifications_page(actor, "", before, limit).await
    }
}

impl System {
    /// Counts of pages by status, for metrics and tests.
    pub async fn notification_counts(&self) -> Result<BTreeMap<String, i64>, StoreError> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT status, COUNT(*) FROM notifications GROUP BY status")
                .fetch_all(&self.read)
                .await?;
        Ok(rows.into_iter().collect())
    }
}

impl Store {
    /// The SMS pages sent to `phone` since `since`, newest first (at most 50): the pages an
    /// SMS reply code may answer.
    pub async fn recent_sms_to(
        &self,
        phone: &str,
        since: i64,
    ) -> Result<Vec<ClaimedNotification>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM notifications WHERE address = $1 AND channel = 'sms' AND created_ms >= $2 AND ticket_number IS NULL ORDER BY id DESC LIMIT 50",
            notification_columns()
        ))
        .bind(phone.to_owned())
        .bind(since)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(claimed).collect()
    }

    /// One page by its number (for an acknowledgement link).
    pub async fn notification(&self, id: i64) -> Result<Option<ClaimedNotification>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {} FROM notifications WHERE id = $1 AND ticket_number IS NULL",
            notification_columns()
        ))
        .bind(id)
        .fetch_optional(&self.read)
        .await?;
        row.as_ref().map(claimed).transpose()
    }
}

impl System {
    /// Queues pages directly (the benchmark and the two-process test, which need pages
    /// without alarms' timers). Each page's key makes a second queueing a no-op.
    pub async fn enqueue_notices(
        &self,
        notices: &[(Reference, Notice)],
        now: i64,
    ) -> Result<(), StoreError> {
        let mut transaction = self.write.begin().await?;
        for (client, notice) in notices {
            enqueue(&mut transaction, notice, client.as_str(), now).await?;
        }
        transaction.commit().await.map_err(StoreError::from)
    }
}

impl System {
    /// A shared setting; `value` is stored first if there is none (the first process to ask
    /// chooses it for all).
    pub async fn setting_or_insert(&self, key: &str, value: &str) -> Result<String, StoreError> {
        build(
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
            vec![
                Arg::Text(Some(key.to_owned())),
                Arg::Text(Some(value.to_owned())),
            ],
        )
        .execute(&self.write)
        .await?;
        let row: (String,) = sqlx::query_as("SELECT value FROM settings WHERE key = $1")
            .bind(key.to_owned())
            .fetch_one(&self.write)
            .await?;
        Ok(row.0)
    }
}

impl Store {
    /// Every on-call rotation, by name. Staff only.
    pub async fn rotations(&self, actor: &Actor) -> Result<Vec<Rotation>, StoreError> {
        require(actor, Permission::HandleAlarms)?;
        let mut connection = self.read.acquire().await?;
        read_rotations(&mut connection).await
    }

    /// The generation of a calendar feed's address (issue 26, item 8): 0 until its address is
    /// revoked, one more at each revocation. Read for a feed's request, which its signed key
    /// authorises (no actor: a phone's calendar has no session).
    pub async fn feed_generation(&self, feed: &str, id: &Reference) -> Result<u32, StoreError> {
        let row: Option<(String,)> = sqlx::query_as("SELECT value FROM settings WHERE key = $1")
            .bind(feed_setting(feed, id))
            .fetch_optional(&self.read)
            .await?;
        Ok(row
            .and_then(|(value,)| value.parse().ok())
            .unwrap_or_default())
    }

    /// Revokes a calendar feed's address: the old one answers 404 from now on, the page shows
    /// the new one. A rotation's feed by who handles alarms; a person's by that person too.
    /// Written in the audit trail.
    pub async fn revoke_feed(
        &self,
        actor: &Actor,
        feed: &str,
        id: &Reference,
        now: i64,
    ) -> Result<u32, StoreError> {
        let own = feed == "personnel" && actor.staff() == Some(id);
        if !own {
            require(actor, Permission::HandleAlarms)?;
        }
        // Only the feed of a rotation or a member of staff that exists: a revocation is a row
        // of the settings, and nothing else may add one.
        let subject = match feed {
            "astreinte" => "SELECT name FROM rotations WHERE name = $1",
            "personnel" => "SELECT ref FROM staff WHERE ref = $1",
            _ => return Err(StoreError::NotFound),
        };
        let exists: Option<(String,)> = sqlx::query_as(subject)
            .bind(id.to_string())
            .fetch_optional(&self.read)
            .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        let key = feed_setting(feed, id);
        let mut transaction = self.write.begin().await?;
        let before: Option<(String,)> = sqlx::query_as("SELECT value FROM settings WHERE key = $1")
            .bind(&key)
            .fetch_optional(&mut *transaction)
            .await?;
        let before: u32 = before
            .and_then(|(value,)| value.parse().ok())
            .unwrap_or_default();
        let after = before.saturating_add(1);
        build(
            "INSERT INTO settings (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = $2",
            vec![Arg::Text(Some(key)), Arg::Text(Some(after.to_string()))],
        )
        .execute(&mut *transaction)
        .await?;
        crate::audit::append(
            &mut transaction,
            &AuditRecord {
                at_ms: now,
                actor: actor.audit_name(),
                action: AuditAction::Update,
                object_kind: "agenda",
                object_ref: format!("{feed}/{id}"),
                client: None,
                before: Some(serde_json::json!({ "generation": before })),
                after: Some(serde_json::json!({ "generation": after })),
            },
        )
        .await?;
        transaction.commit().await?;
        Ok(after)
    }

    /// What the on-call figures are made of over `[from, to)` (issue 26, item 7): the pages
    /// sent to the integrator's staff by SMS and email, and the alarms told in the period with
    /// when they were acknowledged and resolved. Bounded: a period with more than
    /// [`MAX_FIGURE_ROWS`] of either is refused, to be asked in shorter periods.
    pub async fn oncall_load(
        &self,
        actor: &Actor,
        from: i64,
        to: i64,
    ) -> Result<LoadRecords, StoreError> {
        use vigie_domain::oncall_load::{AlarmTimes, PageSent};
        require(actor, Permission::HandleAlarms)?;
        let too_many = || {
            StoreError::Invalid(format!(
                "plus de {MAX_FIGURE_ROWS} pages ou alarmes sur la période : demandez une période plus courte"
            ))
        };
        let mut connection = self.read.acquire().await?;
        let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
            "SELECT n.recipient, s.name, n.channel, n.sent_ms FROM notifications n \
             JOIN staff s ON s.ref = n.recipient \
             WHERE n.status = 'sent' AND n.alarm_id IS NOT NULL AND n.channel IN ('sms', 'email', 'voice') \
             AND n.sent_ms >= $1 AND n.sent_ms < $2 ORDER BY n.sent_ms LIMIT $3",
        )
        .bind(from)
        .bind(to)
        .bind(MAX_FIGURE_ROWS + 1)
        .fetch_all(&mut *connection)
        .await?;
        if rows.len() as i64 > MAX_FIGURE_ROWS {
            return Err(too_many());
        }
        let pages = rows
            .into_iter()
            .filter_map(|(recipient, name, channel, at)| {
                Some(PageSent {
                    recipient: Reference::parse(&recipient).ok()?,
                    name,
                    channel: match channel.as_str() {
                        "sms" => Channel::Sms,
                        "voice" => Channel::Voice,
                        _ => Channel::Email,
                    },
                    at,
                })
            })
            .collect();
        // Alarms raised before the end that may have been told in the period (told after
        // raising, at most a maintenance window later).
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT record FROM alarms WHERE raised_ms < $2 AND (resolved_ms IS NULL OR resolved_ms >= $1) \
             ORDER BY id LIMIT $3",
        )
        .bind(from)
        .bind(to)
        .bind(MAX_FIGURE_ROWS + 1)
        .fetch_all(&mut *connection)
        .await?;
        if rows.len() as i64 > MAX_FIGURE_ROWS {
            return Err(too_many());
        }
        let mut alarms = Vec::new();
        for (record,) in rows {
            let alarm = crate::stored::alarm::decode(&record)?;
            let Some(notified_at) = alarm.notified_at.filter(|at| *at >= from && *at < to) else {
                continue;
            };
            alarms.push(AlarmTimes {
                alarm: alarm.id,
                client: None,
                site: alarm.site.clone(),
                notified_at,
                acknowledged_at: alarm.acknowledged.as_ref().map(|s| s.at),
                resolved_at: alarm.resolved_at,
            });
        }
        // The alarms' clients, by their sites (an alarm about no site has none).
        let sites: BTreeMap<String, String> =
            sqlx::query_as::<_, (String, String)>("SELECT ref, client_ref FROM sites")
                .fetch_all(&mut *connection)
                .await?
                .into_iter()
                .collect();
        for alarm in &mut alarms {
            alarm.client = alarm
                .site
                .as_ref()
                .and_then(|site| sites.get(site.as_str()))
                .and_then(|client| Reference::parse(client).ok());
        }
        Ok((pages, alarms))
    }

    /// The inventory's territories, for on-call routing (issue 26, item 1).
    pub async fn territories(&self, actor: &Actor) -> Result<Vec<Territory>, StoreError> {
        require(actor, Permission::HandleAlarms)?;
        let mut connection = self.read.acquire().await?;
        read_territories(&mut connection).await
    }

    /// Where nobody will be on call for the technicians in the coming 14 days, site by site,
    /// through each site's territories and fallbacks (issue 26, item 1): found before it
    /// happens. Reads every site's reference and client (two short columns), the rotations
    /// and the territories; the arithmetic is the domain's (`oncall::coverage_gaps`).
    pub async fn oncall_coverage(
        &self,
        actor: &Actor,
        now: i64,
    ) -> Result<Vec<vigie_domain::oncall::CoverageGap>, StoreError> {
        self.oncall_coverage_with(actor, now, &vigie_domain::inventory::Inventory::default())
            .await
    }

    /// [`Store::oncall_coverage`] as it would be once `inventory` is imported: its sites and
    /// territories replace the stored ones of the same reference (`vigie import --dry-run`).
    pub async fn oncall_coverage_with(
        &self,
        actor: &Actor,
        now: i64,
        inventory: &vigie_domain::inventory::Inventory,
    ) -> Result<Vec<vigie_domain::oncall::CoverageGap>, StoreError> {
        require(actor, Permission::HandleAlarms)?;
        let mut connection = self.read.acquire().await?;
        let rotations = read_rotations(&mut connection).await?;
        let mut territories: BTreeMap<Reference, Territory> = read_territories(&mut connection)
            .await?
            .into_iter()
            .map(|t| (t.reference.clone(), t))
            .collect();
        for territory in &inventory.territories {
            territories.insert(territory.reference.clone(), territory.clone());
        }
        let territories: Vec<Territory> = territories.into_values().collect();
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT ref, client_ref FROM sites ORDER BY ref")
                .fetch_all(&mut *connection)
                .await?;
        let mut sites: BTreeMap<Reference, Reference> = BTreeMap::new();
        for (site, client) in rows {
            if let (Ok(site), Ok(client)) = (Reference::parse(&site), Reference::parse(&client)) {
                sites.insert(site, client);
            }
        }
        for site in &inventory.sites {
            sites.insert(site.reference.clone(), site.client.clone());
        }
        let sites: Vec<(Reference, Reference)> = sites.into_iter().collect();
        Ok(coverage_of(&rotations, &territories, &sites, now))
    }

    /// Creates or replaces a rotation (checked by the caller) and writes its audit entry.
    pub async fn put_rotation(
        &self,
        actor: &Actor,
        rotation: &Rotation,
        now: i64,
    ) -> Result<(), StoreError> {
        require(actor, Permission::WriteInventory)?;
        let staff: BTreeSet<String> = sqlx::query_as::<_, (String,)>("SELECT ref FROM staff")
            .fetch_all(&self.read)
            .await?
            .into_iter()
            .map(|(r,)| r)
            .collect();
        for member in rotation
            .members
            .iter()
            .chain(rotation.overrides.iter().map(|o| &o.member))
        {
            if !staff.contains(member.as_str()) {
                return Err(StoreError::Invalid(format!(
                    "astreinte {} : {member} n'est pas un membre du personnel",
                    rotation.name
                )));
            }
        }
        // Issue 26, item 1: the territory it answers for must be in the inventory.
        if let Some(territory) = &rotation.territory {
            let known: Option<(String,)> =
                sqlx::query_as("SELECT ref FROM territories WHERE ref = $1")
                    .bind(territory.to_string())
                    .fetch_optional(&self.read)
                    .await?;
            if known.is_none() {
                return Err(StoreError::Invalid(format!(
                    "astreinte {} : territoire « {territory} » inconnu (déclarez-le dans l'inventaire, [[territory]])",
                    rotation.name
                )));
            }
        }
        let record = serde_json::to_string(rotation).map_err(StoreError::other)?;
        let before: Option<(String,)> =
            sqlx::query_as("SELECT record FROM rotations WHERE name = $1")
                .bind(rotation.name.to_string())
                .fetch_optional(&self.write)
                .await?;
        let duty = serde_json::to_value(rotation.duty)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let mut transaction = self.write.begin().await?;
        build(
            "INSERT INTO rotations (name, duty, record, updated_ms) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name) DO UPDATE SET duty = excluded.duty, record = excluded.record, updated_ms = excluded.updated_ms",
            vec![
                Arg::Text(Some(rotation.name.to_string())),
                Arg::Text(Some(duty)),
                Arg::Text(Some(record.clone())),
                Arg::Int(now),
            ],
        )
        .execute(&mut *transaction)
        .await?;
        crate::audit::append(
            &mut transaction,
            &AuditRecord {
                at_ms: now,
                actor: actor.audit_name(),
                action: if before.is_some() {
                    AuditAction::Update
                } else {
                    AuditAction::Create
                },
                object_kind: "rotation",
                object_ref: rotation.name.to_string(),
                client: None,
                before: before.and_then(|(b,)| serde_json::from_str(&b).ok()),
                after: serde_json::from_str(&record).ok(),
            },
        )
        .await?;
        transaction.commit().await.map_err(StoreError::from)
    }

    /// Deletes a rotation and writes its audit entry.
    pub async fn delete_rotation(
        &self,
        actor: &Actor,
        name: &Reference,
        now: i64,
    ) -> Result<(), StoreError> {
        require(actor, Permission::WriteInventory)?;
        let mut transaction = self.write.begin().await?;
        let before: Option<(String,)> =
            sqlx::query_as("SELECT record FROM rotations WHERE name = $1")
                .bind(name.to_string())
                .fetch_optional(&mut *transaction)
                .await?;
        let Some((before,)) = before else {
            return Err(StoreError::NotFound);
        };
        build(
            "DELETE FROM rotations WHERE name = $1",
            vec![Arg::Text(Some(name.to_string()))],
        )
        .execute(&mut *transaction)
        .await?;
        crate::audit::append(
            &mut transaction,
            &AuditRecord {
                at_ms: now,
                actor: actor.audit_name(),
                action: AuditAction::Delete,
                object_kind: "rotation",
                object_ref: name.to_string(),
                client: None,
                before: serde_json::from_str(&before).ok(),
                after: None,
            },
        )
        .await?;
        transaction.commit().await.map_err(StoreError::from)
    }
}

fn stored_notification(row: &sqlx::any::AnyRow) -> Result<StoredNotification, StoreError> {
    let alarm: Option<i64> = row.try_get("alarm_id")?;
    let ticket: Option<i64> = row.try_get("ticket_number")?;
    let record: String = row.try_get("record")?;
    let name = match crate::stored::outgoing::decode(&record) {
        Ok(Outgoing::Page(notice)) => notice.page.name,
        Ok(Outgoing::Ticket(message)) => message.name,
        Ok(Outgoing::Report(report)) => report.mail.name,
        Ok(Outgoing::Account(notice)) => notice.name,
        Err(_) => String::new(),
    };
    let channel: String = row.try_get("channel")?;
    Ok(StoredNotification {
        id: row.try_get("id")?,
        key: row.try_get("key")?,
        alarm: alarm.and_then(|a| u64::try_from(a).ok()),
        ticket: ticket.and_then(|t| u64::try_from(t).ok()),
        severity: row.try_get("severity")?,
        step: row.try_get("step")?,
        recipient: row.try_get("recipient")?,
        name,
        channel,
        address: row.try_get("address")?,
        status: row.try_get("status")?,
        attempts: row.try_get("attempts")?,
        created_ms: row.try_get("created_ms")?,
        sent_ms: row.try_get("sent_ms")?,
        last_error: row.try_get("last_error")?,
        answer: row.try_get("answer")?,
    })
}
