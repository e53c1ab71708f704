//! A ticket as the service desk keeps it (DEC-4: one model for requests, incidents and
//! corrective maintenance; X-1: every step an event saying who and when). Opening qualifies
//! it (CM-2, SAV-3, SAV-4, INC-1) and arms its SLA timers from the policy (CM-3, CM-4, INC-2,
//! DEC-5, through [`TicketSla`]); people's actions, re-qualifications and the passing of time
//! each return the ticket changed and its events. Pure: instants are inputs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Reference;
use crate::alarm::lifecycle::{AlarmId, ClosureReport};
use crate::calendar::CalendarError;
use crate::inventory::{CameraRole, ContractTier, Equipment, EquipmentKind, Priority, SlaMeasure};
use crate::policy::{Policy, Severity};
use crate::ticket::{Action, Happening, SlaState, StatedCriticality, Status, TicketSla};

/// A ticket's number, given in the order tickets are opened.
pub type TicketNumber = u64;

/// The longest symptom, impact description, reason or note, in characters.
pub const MAX_TEXT: usize = 4000;
/// The longest "who reported it" text.
pub const MAX_REPORTER: usize = 200;

/// What the ticket is about (DEC-4: one model, several kinds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A client's request or report to the service desk (SAV).
    Request,
    /// A client incident (PROC-CRM-002).
    Incident,
    /// Corrective maintenance, opened by a Major alarm (NOT-5) or by a technician.
    Maintenance,
    /// An intervention opened by an escalation (NOT-7).
    Intervention,
    /// An in-depth technical review of a site's system after recurring incidents (INC-7).
    Review,
}

/// Where the ticket came from (CM-1, SAV-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The client portal's guided form.
    Portal,
    Email,
    /// A call recorded by a technician.
    Phone,
    /// A supervision alarm.
    Alarm,
    Api,
    /// Vigie itself (a technical review after recurring incidents, INC-7).
    Recurrence,
}

impl Source {
    pub fn key(self) -> &'static str {
        match self {
            Source::Portal => "portal",
            Source::Email => "email",
            Source::Phone => "phone",
            Source::Alarm => "alarm",
            Source::Api => "api",
            Source::Recurrence => "recurrence",
        }
    }
}

/// The impact on surveillance, as the guided form asks it (CM-2, INC-1, SAV-3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Impact {
    /// The whole video system is down, a zone is unwatched, access control or the security
    /// hypervisor is compromised, an intrusion on the systems (INC-1 P1, SAV-3 Critical).
    SecurityCompromised,
    /// Cameras down in a sensitive zone, access control partly down on an important passage,
    /// recording lost on part of the system (INC-1 P2).
    PartialLoss,
    /// One failing equipment, no global security impact (SAV-3 Standard).
    OneEquipment,
    /// An inconvenience without security impact: display, slow interface, a setting (INC-1 P3).
    NoSecurityImpact,
    /// Advice, a configuration question, a training request (SAV-3 Informative).
    Question,
    /// The reporter does not know (SAV-4: the highest applies).
    Unknown,
}

impl Impact {
    /// The priority this impact qualifies a report to (INC-1, SAV-3; SAV-4: not knowing is the
    /// highest).
    pub fn priority(self) -> Priority {
        match self {
            Impact::SecurityCompromised | Impact::Unknown => Priority::P1,
            Impact::PartialLoss | Impact::OneEquipment => Priority::P2,
            Impact::NoSecurityImpact | Impact::Question => Priority::P3,
        }
    }
}

/// The more urgent of two priorities (P1 before P2 before P3).
fn highest(a: Priority, b: Priority) -> Priority {
    a.min(b)
}

/// The priority of a report (CM-2, SAV-3, SAV-4, INC-1, DEC-4): the stated criticality and
/// the impact each give one, the equipment may raise it (a priority camera down is at least a
/// partial loss in a sensitive zone, P2), and the highest wins; with neither criticality nor
/// impact stated, the doubt gives P1.
pub fn qualify(
    stated: Option<StatedCriticality>,
    impact: Option<Impact>,
    equipment: Option<&Equipment>,
) -> Priority {
    let from_stated = stated.map(|s| crate::ticket::priority_from(Some(s)));
    let from_impact = impact.map(Impact::priority);
    let mut priority = match (from_stated, from_impact) {
        (None, None) => Priority::P1,
        (Some(p), None) | (None, Some(p)) => p,
        (Some(a), Some(b)) => highest(a, b),
    };
    if let Some(equipment) = equipment
        && equipment.kind == EquipmentKind::Camera
        && equipment.effective_camera_role() == Some(CameraRole::Priority)
        && !matches!(impact, Some(Impact::Question))
        && stated != Some(StatedCriticality::Informative)
    {
        priority = highest(priority, Priority::P2);
    }
    priority
}

/// Whether `earlier` is the same type of incident as `ticket` on the same site within
/// `window_ms` before it (INC-7): same site, same type, received in the window, not a review
/// itself, and not the same alarm (its tickets are one incident). The type is the same
/// whatever opened the ticket: a client's report names only the kind of equipment
/// (`camera`), an alarm the kind and its condition (`camera/unreachable`), and a report on a
/// camera and a later alarm on a camera of the site are the same problem. Two alarms told at
/// the same instant are one event (a switch taking cameras down), not a recurrence.
pub fn recurs(ticket: &Ticket, earlier: &Ticket, window_ms: i64) -> bool {
    let same_event = ticket.report.source == Source::Alarm
        && earlier.report.source == Source::Alarm
        && earlier.received_at == ticket.received_at;
    earlier.number != ticket.number
        && (ticket.report.alarm.is_none() || earlier.report.alarm != ticket.report.alarm)
        && !same_event
        && earlier.report.kind != Kind::Review
        && ticket.report.kind != Kind::Review
        && ticket.report.site.is_some()
        && earlier.report.site == ticket.report.site
        && same_type(
            ticket.report.topic.as_deref(),
            earlier.report.topic.as_deref(),
        )
        && earlier.received_at <= ticket.received_at
        && ticket.received_at - earlier.received_at <= window_ms
}

/// INC-7: what a site's other recent tickets make of `ticket`, once written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recurrence {
    /// The earlier tickets of the same problem (one per alarm), in increasing number.
    pub earlier: Vec<TicketNumber>,
    /// The site's technical review of that kind still open, which the recurrence joins
    /// instead of opening another.
    pub open_review: Option<TicketNumber>,
}

/// INC-7: `ticket` recurs when `others` (the site's tickets received within `window_ms`
/// before it, newest first) hold the same problem: the earlier tickets, one per alarm
/// however many tickets it opened, and the open review of the same kind of equipment if
/// there is one (a report's and an alarm's tickets share it). None when it does not recur,
/// for a ticket without site or type, and for a review itself.
pub fn recurrence(ticket: &Ticket, others: &[Ticket], window_ms: i64) -> Option<Recurrence> {
    let (Some(_), Some(topic)) = (&ticket.report.site, &ticket.report.topic) else {
        return None;
    };
    if ticket.report.kind == Kind::Review {
        return None;
    }
    let mut earlier = Vec::new();
    let mut alarms_seen = std::collections::BTreeSet::new();
    let mut open_review = None;
    for other in others {
        if other.report.kind == Kind::Review
            && other.report.topic.as_deref().map(topic_kind) == Some(topic_kind(topic))
            && other.closed_at.is_none()
        {
            open_review = Some(other.number);
        } else if recurs(ticket, other, window_ms)
            && other
                .report
                .alarm
                .is_none_or(|alarm| alarms_seen.insert(alarm))
        {
            earlier.push(other.number);
        }
    }
    if earlier.is_empty() {
        return None;
    }
    earlier.sort_unstable();
    Some(Recurrence {
        earlier,
        open_review,
    })
}

/// INC-7's "same type": the same topic, or a report's bare kind of equipment and an alarm's
/// topic of that kind (`camera` and `camera/unreachable`).
fn same_type(one: Option<&str>, other: Option<&str>) -> bool {
    let (Some(one), Some(other)) = (one, other) else {
        return false;
    };
    one == other
        || ((!one.contains('/') || !other.contains('/')) && topic_kind(one) == topic_kind(other))
}

/// The kind of equipment a ticket's topic names: `camera` for `camera` and `camera/unreachable`.
pub fn topic_kind(topic: &str) -> &str {
    topic.split('/').next().unwrap_or(topic)
}

/// The report of the technical review of recurring incidents (INC-7).
pub fn review_report(ticket: &Ticket, earlier: &[TicketNumber], site_name: &str) -> Report {
    let mut numbers: Vec<String> = earlier.iter().map(|n| format!("n°{n}")).collect();
    numbers.push(format!("n°{}", ticket.number));
    Report {
        client: ticket.report.client.clone(),
        site: ticket.report.site.clone(),
        equipment: None,
        kind: Kind::Review,
        source: Source::Recurrence,
        symptom: format!(
            "Revue technique approfondie (INC-7) : {} incidents du même type ({}) sur le site {site_name} en moins de 3 mois — tickets {} ; proposer un investissement préventif.",
            numbers.len(),
            ticket.report.topic.as_deref().unwrap_or("?"),
            numbers.join(", ")
        ),
        impact: None,
        stated_criticality: None,
        reporter: None,
        reply_to: None,
        alarm: None,
        topic: ticket.report.topic.clone(),
    }
}

/// The priority of a ticket opened by an alarm (DEC-4: Critique ≡ P1, Majeur ≡ P2, Mineur ≡ P3).
pub fn priority_of_severity(severity: Severity) -> Priority {
    match severity {
        Severity::Critical => Priority::P1,
        Severity::Major => Priority::P2,
        Severity::Minor => Priority::P3,
    }
}

/// NOT-6: the start of `now`'s day for grouping a site's Minor alarms: local midnight on the
/// wall clock of the daily digest's calendar (`alarm.minor_digest_calendar`, so that the day
/// is the digest's), UTC when the policy has no such calendar. A day of a DST change lasts 23
/// or 25 hours. The store reads the candidates received since this instant.
pub fn minor_day_start(policy: &Policy, now: i64) -> i64 {
    let zone = policy
        .calendar(&policy.alarm.minor_digest_calendar)
        .map(|c| c.time_zone.clone())
        .unwrap_or(jiff::tz::TimeZone::UTC);
    crate::calendar::zoned(now, &zone)
        .and_then(|z| z.start_of_day().ok())
        .map_or(now, |start| start.timestamp().as_millisecond())
}

/// NOT-6: the open ticket a Minor alarm of `site` joins at `now`, among `candidates` (the
/// store's read of the site's tickets not closed since [`minor_day_start`]): a P3
/// maintenance ticket opened by an alarm on that site, received since the start of `now`'s
/// day, neither resolved nor closed; the latest opened when there are several. `None`: the
/// alarm opens a ticket of its own. (A full ticket is refused by [`Ticket::group_alarm`],
/// and the alarm then opens its own too.)
pub fn minor_ticket_to_join(
    candidates: &[Ticket],
    site: &Reference,
    policy: &Policy,
    now: i64,
) -> Option<TicketNumber> {
    let day_start = minor_day_start(policy, now);
    candidates
        .iter()
        .filter(|t| {
            t.report.site.as_ref() == Some(site)
                && t.report.source == Source::Alarm
                && t.report.kind == Kind::Maintenance
                && t.priority == Priority::P3
                && t.closed_at.is_none()
                && t.status != Status::Resolved
                && t.received_at >= day_start
        })
        .map(|t| t.number)
        .max()
}

/// What the one who opens a ticket says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    pub client: Reference,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equipment: Option<Reference>,
    pub kind: Kind,
    pub source: Source,
    /// What is wrong, in the reporter's words.
    pub symptom: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact: Option<Impact>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stated_criticality: Option<StatedCriticality>,
    /// Who reported it (a name, an address, a number), when not a user of Vigie.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporter: Option<String>,
    /// Where the acknowledgement goes (SAV-2): the sender of an email, the address the form
    /// gave; without one, the site's technical contact or security manager.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<crate::EmailAddress>,
    /// The alarm that opened it (NOT-5, NOT-7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarm: Option<AlarmId>,
    /// Its type, for recurrence (INC-7): the kind of equipment and, for an alarm's ticket,
    /// the condition (`camera`, `camera/unreachable`). None: not compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
}

/// Why a step on a ticket is refused, in French.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeskError {
    /// The input is wrong (HTTP 422).
    #[error("{0}")]
    Invalid(String),
    /// The step does not fit where the ticket stands (HTTP 409).
    #[error("{0}")]
    Conflict(String),
    /// The policy cannot compute a deadline (a calendar missing or out of range).
    #[error("délai SLA incalculable : {0}")]
    Calendar(String),
}

impl From<CalendarError> for DeskError {
    fn from(error: CalendarError) -> Self {
        DeskError::Calendar(error.to_string())
    }
}

/// Checks a required text of at most [`MAX_TEXT`] characters.
pub fn check_text_of(field: &str, value: &str) -> Result<(), DeskError> {
    check_text(field, value, MAX_TEXT, true)
}

fn check_text(field: &str, value: &str, max: usize, required: bool) -> Result<(), DeskError> {
    if required && value.trim().is_empty() {
        return Err(DeskError::Invalid(format!(
            "le champ {field} est obligatoire"
        )));
    }
    if value.chars().count() > max {
        return Err(DeskError::Invalid(format!(
            "le champ {field} dépasse {max} caractères"
        )));
    }
    Ok(())
}

impl Report {
    /// Checks the texts' presence and lengths.
    pub fn check(&self) -> Result<(), DeskError> {
        check_text("symptom (symptôme)", &self.symptom, MAX_TEXT, true)?;
        if let Some(reporter) = &self.reporter {
            check_text("reporter (déclarant)", reporter, MAX_REPORTER, false)?;
        }
        Ok(())
    }
}

/// What the SLA of a ticket depends on besides its priority: the contract (CM-4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terms {
    pub tier: ContractTier,
    /// The 24/7 option for critical deadlines (CM-3, DEC-5).
    pub round_the_clock: bool,
}

/// One ticket, as it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    pub number: TicketNumber,
    #[serde(flatten)]
    pub report: Report,
    pub priority: Priority,
    pub status: Status,
    /// When the report was received: every deadline runs from it (CM-4).
    pub received_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<i64>,
    /// What was done, for how long, and why it failed (CLO-1): the report of the alarm that
    /// opened it, once closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<ClosureReport>,
    pub sla: SlaState,
    /// The desk's own deadlines once resolved: closure reminder and automatic closure (SAV-6),
    /// follow-ups after the intervention (CM-7).
    #[serde(default, skip_serializing_if = "Aftercare::is_empty")]
    pub aftercare: Aftercare,
    /// The client's answers to the satisfaction survey (SAV-7), once given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub survey: Option<SurveyAnswers>,
    /// INC-5: what the incident did to the security data, as recorded at resolution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_impact: Option<DataImpact>,
    /// INC-5: data was lost: the client (the data's controller under the GDPR) must be told
    /// by a deadline of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gdpr: Option<GdprDuty>,
    /// INC-6: a P1's post-mortem, due once resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_mortem: Option<super::post_mortem::PostMortem>,
    /// INC-3, INC-4: the warning before each running deadline, to the one in charge.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub warnings: BTreeMap<SlaMeasure, Warning>,
    /// NOT-6: the other Minor alarms of the same site and day this ticket handles, besides the
    /// one that opened it (`report.alarm`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grouped_alarms: Vec<AlarmId>,
    /// How the client chose to be told of this ticket (issue 25, item 12); unset, each
    /// message goes by its own channels (email for the acknowledgement and the resolution,
    /// email and SMS for an incident's news).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub told_by: Option<ToldBy>,
}

/// The channels a client chose for the news of its ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToldBy {
    Email,
    Sms,
    EmailAndSms,
}

impl ToldBy {
    pub const ALL: [ToldBy; 3] = [ToldBy::Email, ToldBy::Sms, ToldBy::EmailAndSms];

    pub fn key(self) -> &'static str {
        match self {
            ToldBy::Email => "email",
            ToldBy::Sms => "sms",
            ToldBy::EmailAndSms => "email_and_sms",
        }
    }

    pub fn parse(value: &str) -> Option<ToldBy> {
        ToldBy::ALL.into_iter().find(|t| t.key() == value)
    }

    /// The channels it names.
    pub fn channels(self) -> &'static [crate::policy::Channel] {
        use crate::policy::Channel;
        match self {
            ToldBy::Email => &[Channel::Email],
            ToldBy::Sms => &[Channel::Sms],
            ToldBy::EmailAndSms => &[Channel::Email, Channel::Sms],
        }
    }
}

/// The most Minor alarms one ticket groups (NOT-6); beyond, the next opens a ticket of its own.
pub const MAX_GROUPED_ALARMS: usize = 200;

/// A warning before a deadline (INC-3: before a breach; INC-4: a client update due).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    /// The deadline it warns of.
    pub due: i64,
    /// When it goes.
    pub at: i64,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sent: bool,
}

/// INC-5: what an incident did to the security data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataImpact {
    /// Footage was not recorded, or was destroyed.
    #[serde(default)]
    pub footage_lost: bool,
    /// Accesses were not logged (access control).
    #[serde(default)]
    pub accesses_untracked: bool,
    /// What was lost: cameras, doors, periods. Required when something was.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

impl DataImpact {
    /// Whether security data was lost, which triggers the GDPR information duty (INC-5).
    pub fn data_lost(&self) -> bool {
        self.footage_lost || self.accesses_untracked
    }

    pub fn check(&self) -> Result<(), DeskError> {
        check_text(
            "data_impact.description (données perdues)",
            &self.description,
            MAX_TEXT,
            self.data_lost(),
        )
    }
}

/// INC-5: how a technician resolves a ticket — the resolution notice says it to the client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resolution {
    pub root_cause: String,
    pub actions: String,
    /// The effective intervention time (CLO-1), in minutes.
    pub intervention_minutes: u32,
    pub data_impact: DataImpact,
    /// CM-8: the parts replaced.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts_replaced: Vec<String>,
    /// CM-8: what the client or the integrator should do against a recurrence.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub recommendations: String,
}

/// INC-5: the duty to inform the client of a loss of security data, with its deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GdprDuty {
    /// When the loss was recorded: the deadline runs from it.
    pub known_at: i64,
    pub due: i64,
    /// When the information reached the client (its message was sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub informed_at: Option<i64>,
    /// The deadline passed before the client was informed (the operations manager is told).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub overdue: bool,
}

/// A message of the support mailbox as a ticket records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailNote {
    pub mail: i64,
    /// `Nom <adresse>` or the address.
    pub from: String,
    pub subject: String,
    pub text: String,
    pub attachments: Vec<String>,
}

fn clip_to(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    text.chars().take(max - 1).collect::<String>() + "…"
}

/// The satisfaction survey (SAV-7): three marks from 1 (très insatisfait) to 5 (très
/// satisfait) and an optional comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SurveyAnswers {
    pub responsiveness: u8,
    pub quality: u8,
    pub communication: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

impl SurveyAnswers {
    /// The longest comment, in characters.
    pub const MAX_COMMENT: usize = 2000;

    pub fn check(&self) -> Result<(), DeskError> {
        for (name, mark) in [
            ("réactivité", self.responsiveness),
            ("qualité de la solution", self.quality),
            ("communication", self.communication),
        ] {
            if !(1..=5).contains(&mark) {
                return Err(DeskError::Invalid(format!(
                    "note « {name} » : de 1 à 5 (reçu {mark})"
                )));
            }
        }
        if let Some(comment) = &self.comment {
            check_text("comment (commentaire)", comment, Self::MAX_COMMENT, false)?;
        }
        Ok(())
    }
}

/// What is due on a ticket after its resolution (SAV-6, CM-7), instants in ms.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Aftercare {
    /// SAV-6: the client is reminded to confirm the fix if it has not by then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closure_reminder_due: Option<i64>,
    /// SAV-6: closed without the client's word by then, the reminder unanswered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_close_due: Option<i64>,
    /// CM-7: checks that the same equipment has not failed again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub follow_ups: Vec<FollowUp>,
}

impl Aftercare {
    fn is_empty(&self) -> bool {
        self == &Aftercare::default()
    }
}

/// One follow-up after the intervention (CM-7: 24 h, 72 h, 7 days).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUp {
    pub due: i64,
    /// When it was done, with the alarms of the equipment raised since the resolution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub relapses: Vec<AlarmId>,
}

/// One step of a ticket. `by` is None for what Vigie did itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketEvent {
    pub ticket: TicketNumber,
    pub at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<Reference>,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// The most items in a list of a note (checks, parts), and the longest item.
pub const MAX_NOTE_ITEMS: usize = 50;
pub const MAX_NOTE_ITEM: usize = 200;

/// Which way a message or a call went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From the client (or whoever reported) to the integrator.
    Incoming,
    Outgoing,
}

/// What a person records on a ticket besides its steps (X-1: every message and call).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "note", rename_all = "snake_case", deny_unknown_fields)]
pub enum Note {
    /// A message exchanged with the client, by email or otherwise.
    Message {
        direction: Direction,
        with: String,
        text: String,
    },
    /// A phone call (SAV-1).
    Call {
        direction: Direction,
        with: String,
        summary: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        minutes: Option<u32>,
    },
    /// CM-5, SAV-5: the remote diagnosis — the checks done, what they showed, whether a visit
    /// is needed and the parts it would take.
    Diagnosis {
        checks: Vec<String>,
        result: String,
        on_site_needed: bool,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        parts: Vec<String>,
    },
    /// CM-6: the on-site intervention scheduled: technician, time window, parts. It meets the
    /// planning deadline (INC-2) and gives the ticket to the technician.
    Intervention {
        technician: Reference,
        from: i64,
        to: i64,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        parts: Vec<String>,
    },
    /// CM-6: a complex failure (several equipment, unclear cause) handed to the referent
    /// engineer, who gets the ticket.
    Escalation { to: Reference, reason: String },
}

impl Note {
    /// Checks the texts and lists against their bounds, and the window's order.
    pub fn check(&self) -> Result<(), DeskError> {
        let list = |field: &str, items: &[String]| -> Result<(), DeskError> {
            if items.len() > MAX_NOTE_ITEMS {
                return Err(DeskError::Invalid(format!(
                    "{field} : {MAX_NOTE_ITEMS} éléments au plus"
                )));
            }
            for item in items {
                check_text(field, item, MAX_NOTE_ITEM, true)?;
            }
            Ok(())
        };
        match self {
            Note::Message { with, text, .. } => {
                check_text("with (interlocuteur)", with, MAX_REPORTER, true)?;
                check_text("text (message)", text, MAX_TEXT, true)
            }
            Note::Call {
                with,
                summary,
                minutes,
                ..
            } => {
                check_text("with (interlocuteur)", with, MAX_REPORTER, true)?;
                check_text("summary (résumé de l'appel)", summary, MAX_TEXT, true)?;
                match minutes {
                    Some(m) if *m > 24 * 60 => Err(DeskError::Invalid(
                        "minutes : un appel dure au plus 24 heures".into(),
                    )),
                    _ => Ok(()),
                }
            }
            Note::Diagnosis {
                checks,
                result,
                parts,
                ..
            } => {
                if checks.is_empty() {
                    return Err(DeskError::Invalid(
                        "checks (vérifications faites) : au moins une (CM-5)".into(),
                    ));
                }
                list("checks (vérifications faites)", checks)?;
                list("parts (pièces)", parts)?;
                check_text("result (résultat)", result, MAX_TEXT, true)
            }
            Note::Intervention {
                from, to, parts, ..
            } => {
                if to <= from {
                    return Err(DeskError::Invalid(
                        "la fin du créneau d'intervention doit suivre son début".into(),
                    ));
                }
                list("parts (pièces)", parts)
            }
            Note::Escalation { reason, .. } => check_text("reason (motif)", reason, MAX_TEXT, true),
        }
    }
}

/// What happened to a ticket: the `ticket.<event>` of the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    Opened {
        kind: Kind,
        source: Source,
        priority: Priority,
    },
    /// The priority was re-evaluated (SAV-3), with why.
    Requalified {
        from: Priority,
        to: Priority,
        reason: String,
    },
    Assigned {
        to: Reference,
    },
    /// CM-2: the site and equipment the report is about, named after it was received (a
    /// message that did not say, SAV-1).
    Located {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        site: Option<Reference>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        equipment: Option<Reference>,
    },
    /// A person's step.
    Action {
        action: Action,
    },
    Status {
        status: Status,
    },
    SlaDue {
        timer: SlaMeasure,
        due: i64,
    },
    SlaMet {
        timer: SlaMeasure,
        due: i64,
    },
    SlaBreached {
        timer: SlaMeasure,
        due: i64,
    },
    SlaPaused {
        timer: SlaMeasure,
    },
    /// INC-2, SAV-5: the remote diagnosis found no visit needed: this visit deadline (on site,
    /// planning) no longer applies — neither met nor breached, counted apart in the reports.
    SlaWaived {
        timer: SlaMeasure,
    },
    /// INC-3, INC-4: a deadline is near: the one in charge is warned (the console when no one
    /// is).
    SlaWarning {
        timer: SlaMeasure,
        due: i64,
    },
    /// A message about the ticket was queued for someone (SAV-2, INC-3).
    MessageQueued {
        key: String,
        recipient: String,
        /// Who the recipient is, by name, for people (absent from events stored before it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        channel: crate::policy::Channel,
        due: i64,
    },
    /// A message about the ticket could not be delivered, for good.
    MessageFailed {
        key: String,
        recipient: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        channel: crate::policy::Channel,
        error: String,
    },
    /// SAV-6: the client has not confirmed the fix: reminded (automatic closure at `close_at`).
    ClosureReminder {
        close_at: i64,
    },
    /// SAV-6: no answer to the reminder: closed by Vigie.
    AutoClosed,
    /// SAV-6: closed by the integrator without the client's confirmation, with why (the
    /// client confirmed by phone: who, when). Audited and shown to the client.
    ClosedWithoutConfirmation {
        reason: String,
    },
    /// CM-7: a follow-up after the intervention; `relapses` are the equipment's alarms raised
    /// since the resolution (none: the fix holds).
    FollowUp {
        due: i64,
        relapses: Vec<AlarmId>,
        /// The ticket was waiting for the client's confirmation and is open again.
        reopened: bool,
    },
    /// A message, a call, a diagnosis, an intervention scheduled, an escalation.
    Noted {
        #[serde(flatten)]
        note: Note,
    },
    /// SAV-7: the client answered the satisfaction survey.
    SurveyAnswered {
        #[serde(flatten)]
        answers: SurveyAnswers,
    },
    /// INC-7: the same type of incident on the same site within the recurrence window: a
    /// technical review is opened (or already open).
    Recurrence {
        earlier: Vec<TicketNumber>,
        review: TicketNumber,
    },
    /// INC-5: the technician's resolution: cause, actions, time, and the impact on the
    /// security data; `gdpr_due` when data was lost.
    Resolved {
        #[serde(flatten)]
        resolution: Resolution,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        gdpr_due: Option<i64>,
    },
    /// INC-5: the information on the data lost reached the client.
    GdprInformed,
    /// INC-6: a P1 resolved: its post-mortem is due.
    PostMortemDue {
        due: i64,
    },
    /// INC-6: the analysis and measures were written (or rewritten).
    PostMortemWritten,
    /// INC-6: the post-mortem was shared with the client.
    PostMortemPublished,
    /// Issue 25, item 12: how the client chose to be told of the ticket.
    ToldByChosen {
        told_by: ToldBy,
    },
    /// INC-6: the post-mortem's deadline passed before it was shared.
    PostMortemOverdue {
        due: i64,
    },
    /// INC-5: the deadline to inform the client of the data lost passed without it.
    GdprOverdue {
        due: i64,
    },
    /// SAV-1: a message of the support mailbox, threaded into the ticket or opening it, with
    /// what it did (`mail` is its number in the desk's list of received mail).
    MailReceived {
        mail: i64,
        from: String,
        subject: String,
        text: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        attachments: Vec<String>,
        reply: super::mail::Reply,
    },
    /// NOT-6: another Minor alarm of the site and day joined the ticket.
    AlarmGrouped {
        alarm: AlarmId,
        symptom: String,
    },
    /// NOT-7: an escalation step of the ticket's alarm fired; it is recorded here, on the one
    /// ticket of the alarm (PROC-QUAL-005 §01), and a maintenance ticket becomes an
    /// intervention (`from` ≠ `to`).
    AlarmEscalated {
        alarm: AlarmId,
        step: String,
        from: Kind,
        to: Kind,
    },
    /// The alarm that opened the ticket was closed (CLO-1): its actions, effective
    /// intervention time and root cause are the ticket's.
    AlarmClosed {
        alarm: AlarmId,
        #[serde(flatten)]
        report: ClosureReport,
    },
}

impl EventKind {
    pub fn key(&self) -> &'static str {
        match self {
            EventKind::Opened { .. } => "opened",
            EventKind::Requalified { .. } => "requalified",
            EventKind::Assigned { .. } => "assigned",
            EventKind::Located { .. } => "located",
            EventKind::Action { .. } => "action",
            EventKind::Status { .. } => "status",
            EventKind::SlaDue { .. } => "sla_due",
            EventKind::SlaMet { .. } => "sla_met",
            EventKind::SlaBreached { .. } => "sla_breached",
            EventKind::SlaPaused { .. } => "sla_paused",
            EventKind::SlaWaived { .. } => "sla_waived",
            EventKind::SlaWarning { .. } => "sla_warning",
            EventKind::AlarmClosed { .. } => "alarm_closed",
            EventKind::AlarmEscalated { .. } => "alarm_escalated",
            EventKind::AlarmGrouped { .. } => "alarm_grouped",
            EventKind::MailReceived { .. } => "mail_received",
            EventKind::Resolved { .. } => "resolved",
            EventKind::GdprInformed => "gdpr_informed",
            EventKind::GdprOverdue { .. } => "gdpr_overdue",
            EventKind::PostMortemDue { .. } => "post_mortem_due",
            EventKind::PostMortemWritten => "post_mortem_written",
            EventKind::PostMortemPublished => "post_mortem_published",
            EventKind::ToldByChosen { .. } => "told_by_chosen",
            EventKind::PostMortemOverdue { .. } => "post_mortem_overdue",
            EventKind::Recurrence { .. } => "recurrence",
            EventKind::SurveyAnswered { .. } => "survey_answered",
            EventKind::Noted { .. } => "noted",
            EventKind::ClosureReminder { .. } => "closure_reminder",
            EventKind::AutoClosed => "auto_closed",
            EventKind::ClosedWithoutConfirmation { .. } => "closed_without_confirmation",
            EventKind::FollowUp { .. } => "follow_up",
            EventKind::MessageQueued { .. } => "message_queued",
            EventKind::MessageFailed { .. } => "message_failed",
        }
    }
}

/// `ms` checked to be an instant the calendars can count from (years −9999 to 9999).
fn instant(ms: i64) -> Result<i64, DeskError> {
    if crate::calendar::in_range(ms) {
        Ok(ms)
    } else {
        Err(DeskError::Invalid(format!("instant hors limites : {ms}")))
    }
}

impl Ticket {
    /// Opens a ticket received at `received` (CM-2: at once on receipt) with `priority`
    /// (from [`qualify`] or [`priority_of_severity`]), arming its SLA timers.
    pub fn open(
        number: TicketNumber,
        report: Report,
        priority: Priority,
        policy: &Policy,
        terms: Terms,
        received: i64,
        by: Option<Reference>,
    ) -> Result<(Ticket, Vec<TicketEvent>), DeskError> {
        report.check()?;
        let (mut sla, mut happenings) = TicketSla::open(
            policy,
            priority,
            terms.tier,
            terms.round_the_clock,
            instant(received)?,
        )?;
        if matches!(report.source, Source::Alarm | Source::Recurrence) {
            // SAV-2's acknowledgement answers a client's report; an alarm's ticket has none
            // (the alarm's own pages told the client, NOT-2, NOT-5), nor a review Vigie opens.
            sla.waive(SlaMeasure::Acknowledgement);
            happenings.retain(|h| {
                !matches!(
                    h,
                    Happening::Due {
                        timer: SlaMeasure::Acknowledgement,
                        ..
                    }
                )
            });
        }
        let mut ticket = Ticket {
            number,
            priority,
            status: sla.status,
            received_at: received,
            assignee: None,
            resolved_at: None,
            closed_at: None,
            resolution: None,
            aftercare: Aftercare::default(),
            survey: None,
            data_impact: None,
            gdpr: None,
            post_mortem: None,
            warnings: BTreeMap::new(),
            grouped_alarms: Vec::new(),
            told_by: None,
            sla: sla.state(),
            report,
        };
        ticket.reconcile_warnings(policy, received);
        let mut events = vec![ticket.event(
            received,
            by,
            EventKind::Opened {
                kind: ticket.report.kind,
                source: ticket.report.source,
                priority,
            },
        )];
        events.extend(ticket.happened(received, happenings));
        Ok((ticket, events))
    }

    pub fn event(&self, at: i64, by: Option<Reference>, kind: EventKind) -> TicketEvent {
        TicketEvent {
            ticket: self.number,
            at,
            by,
            kind,
        }
    }

    /// The SLA happenings as events; `Status` ones are already the ticket's.
    fn happened(&self, at: i64, happenings: Vec<Happening>) -> Vec<TicketEvent> {
        happenings
            .into_iter()
            .map(|h| {
                let kind = match h {
                    Happening::Status(status) => EventKind::Status { status },
                    Happening::Due { timer, due } => EventKind::SlaDue { timer, due },
                    Happening::Met { timer, due } => EventKind::SlaMet { timer, due },
                    Happening::Breached { timer, due } => EventKind::SlaBreached { timer, due },
                    Happening::Paused { timer } => EventKind::SlaPaused { timer },
                };
                // A breach is written at its deadline, whenever it is noticed.
                let at = match &kind {
                    EventKind::SlaBreached { due, .. } => *due,
                    _ => at,
                };
                self.event(at, None, kind)
            })
            .collect()
    }

    /// The earliest instant a timer of this ticket falls due (ms), if one runs.
    pub fn next_due(&self) -> Option<i64> {
        let care = &self.aftercare;
        self.sla
            .dues()
            .values()
            .copied()
            .chain(care.closure_reminder_due)
            .chain(care.auto_close_due)
            .chain(
                self.gdpr
                    .as_ref()
                    .filter(|g| g.informed_at.is_none() && !g.overdue)
                    .map(|g| g.due),
            )
            .chain(
                self.post_mortem
                    .as_ref()
                    .filter(|p| p.published_at.is_none() && !p.overdue)
                    .map(|p| p.due),
            )
            .chain(self.warnings.values().filter(|w| !w.sent).map(|w| w.at))
            .chain(
                care.follow_ups
                    .iter()
                    .filter(|f| f.done_at.is_none())
                    .map(|f| f.due),
            )
            .min()
    }

    /// The follow-ups due by `now` not done yet (CM-7): the caller reads the equipment's alarms
    /// since the resolution for each, and gives them to [`Ticket::on_time`].
    pub fn follow_ups_due(&self, now: i64) -> Vec<i64> {
        self.aftercare
            .follow_ups
            .iter()
            .filter(|f| f.done_at.is_none() && f.due <= now)
            .map(|f| f.due)
            .collect()
    }

    /// Takes `changed`'s state after an SLA step; on resolution, arms the closure reminder
    /// (SAV-6) and the follow-ups of an equipment's ticket (CM-7).
    fn take(&mut self, policy: &Policy, sla: &TicketSla, at: i64) -> Result<(), DeskError> {
        self.sla = sla.state();
        self.priority = sla.priority;
        if sla.status != self.status {
            let was = self.status;
            self.status = sla.status;
            match self.status {
                Status::Resolved => {
                    self.resolved_at = Some(at);
                    let start = instant(at)?;
                    // INC-6: every P1 gets its post-mortem, once (a relapse resolved again
                    // keeps the first deadline).
                    if self.priority == Priority::P1
                        && self.post_mortem.is_none()
                        && self.report.kind != Kind::Review
                    {
                        self.post_mortem = Some(super::post_mortem::PostMortem {
                            due: policy.due(&policy.ticket.post_mortem_within, start)?,
                            analysis: String::new(),
                            measures: Vec::new(),
                            published_at: None,
                            overdue: false,
                        });
                    }
                    self.aftercare.closure_reminder_due =
                        Some(policy.due(&policy.ticket.closure_reminder_after, start)?);
                    self.aftercare.auto_close_due = None;
                    if self.report.equipment.is_some() && self.aftercare.follow_ups.is_empty() {
                        for deadline in &policy.ticket.follow_ups {
                            self.aftercare.follow_ups.push(FollowUp {
                                due: policy.due(deadline, start)?,
                                done_at: None,
                                relapses: Vec::new(),
                            });
                        }
                    }
                }
                Status::Closed => {
                    self.closed_at = Some(at);
                    self.resolved_at.get_or_insert(at);
                    self.aftercare.closure_reminder_due = None;
                    self.aftercare.auto_close_due = None;
                }
                _ if was == Status::Resolved => {
                    // Open again: no confirmation is awaited any more.
                    self.aftercare.closure_reminder_due = None;
                    self.aftercare.auto_close_due = None;
                }
                _ => {}
            }
        }
        self.reconcile_warnings(policy, at);
        Ok(())
    }

    /// INC-3, INC-4: one warning per running deadline, `ticket.warning_before` it (the client
    /// update's `ticket.update_reminder_before`), or halfway to it when the deadline is nearer
    /// than that; none for the acknowledgement, which Vigie sends itself (SAV-2). A deadline
    /// that moved (a pause, an update, a re-qualification) gets a new warning.
    fn reconcile_warnings(&mut self, policy: &Policy, now: i64) {
        let dues = self.sla.dues();
        self.warnings
            .retain(|measure, _| dues.contains_key(measure));
        for (measure, due) in dues {
            if measure == SlaMeasure::Acknowledgement {
                continue;
            }

            if self.warnings.get(&measure).is_some_and(|w| w.due == due) {
                continue;
            }
            let before = if measure == SlaMeasure::ClientUpdate {
                policy.ticket.update_reminder_before
            } else {
                policy.ticket.warning_before
            };
            let before = i64::try_from(before.seconds())
                .unwrap_or(i64::MAX / 1000)
                .saturating_mul(1000);
            let at = if due.saturating_sub(before) > now {
                due - before
            } else {
                now + (due - now).max(0) / 2
            };
            self.warnings.insert(
                measure,
                Warning {
                    due,
                    at,
                    sent: false,
                },
            );
        }
    }

    /// Time has reached `now`: the running timers due by then are breached (INC-3); an
    /// unconfirmed resolution is reminded, then closed (SAV-6); the follow-ups due are done
    /// with `relapses`, the equipment's alarms raised since the resolution, for each follow-up
    /// instant of [`Ticket::follow_ups_due`] (CM-7).
    pub fn on_time(
        &mut self,
        policy: &Policy,
        now: i64,
        relapses: &std::collections::BTreeMap<i64, Vec<AlarmId>>,
    ) -> Result<Vec<TicketEvent>, DeskError> {
        let mut sla = TicketSla::restore(policy, self.sla.clone());
        let happenings = sla.on_time(instant(now)?);
        self.take(policy, &sla, now)?;
        let mut events = self.happened(now, happenings);
        for (timer, warning) in &mut self.warnings {
            if !warning.sent && warning.at <= now {
                warning.sent = true;
                // A deadline already passed is breached, not warned of.
                if warning.due > now {
                    let (timer, due, at) = (*timer, warning.due, warning.at);
                    events.push(TicketEvent {
                        ticket: self.number,
                        at,
                        by: None,
                        kind: EventKind::SlaWarning { timer, due },
                    });
                }
            }
        }
        for index in 0..self.aftercare.follow_ups.len() {
            let follow_up = &self.aftercare.follow_ups[index];
            if follow_up.done_at.is_some() || follow_up.due > now {
                continue;
            }
            let due = follow_up.due;
            let found = relapses.get(&due).cloned().unwrap_or_default();
            let reopened = !found.is_empty() && self.status == Status::Resolved;
            let follow_up = &mut self.aftercare.follow_ups[index];
            follow_up.done_at = Some(now);
            follow_up.relapses = found.clone();
            events.push(self.event(
                due,
                None,
                EventKind::FollowUp {
                    due,
                    relapses: found,
                    reopened,
                },
            ));
            if reopened {
                // CM-7: the failure came back before the client confirmed: work goes on.
                events.extend(self.step(policy, Action::TakeCharge, None, now)?);
            }
        }
        if let Some(post_mortem) = &mut self.post_mortem
            && post_mortem.published_at.is_none()
            && !post_mortem.overdue
            && post_mortem.due <= now
        {
            post_mortem.overdue = true;
            let due = post_mortem.due;
            events.push(self.event(due, None, EventKind::PostMortemOverdue { due }));
        }
        if let Some(gdpr) = &mut self.gdpr
            && gdpr.informed_at.is_none()
            && !gdpr.overdue
            && gdpr.due <= now
        {
            gdpr.overdue = true;
            let due = gdpr.due;
            events.push(self.event(due, None, EventKind::GdprOverdue { due }));
        }
        if self.status == Status::Resolved {
            if let Some(due) = self.aftercare.closure_reminder_due
                && due <= now
            {
                let close_at =
                    policy.due(&policy.ticket.auto_close_after_reminder, instant(due)?)?;
                self.aftercare.closure_reminder_due = None;
                self.aftercare.auto_close_due = Some(close_at);
                events.push(self.event(due, None, EventKind::ClosureReminder { close_at }));
            }
            if let Some(due) = self.aftercare.auto_close_due
                && due <= now
            {
                events.push(self.event(due, None, EventKind::AutoClosed));
                events.extend(self.step(policy, Action::Close, None, due)?);
            }
        }
        Ok(events)
    }

    /// A person's step at `now`.
    pub fn act(
        &mut self,
        policy: &Policy,
        action: Action,
        by: &Reference,
        now: i64,
    ) -> Result<Vec<TicketEvent>, DeskError> {
        // INC-5: an incident's resolution notice states its cause, actions and impact on the
        // security data: they come with the resolution ([`Ticket::resolve`]). A request
        // (advice, a question) is resolved by the bare step.
        if action == Action::Resolve && self.report.kind != Kind::Request {
            return Err(DeskError::Invalid(format!(
                "le ticket n°{} se résout avec la cause, les actions, la durée d'intervention et l'impact sur les données de sécurité (INC-5 : /resolution)",
                self.number
            )));
        }
        // INC-4: an update meets its deadline only by reaching the client ([`Ticket::update_client`]).
        if action == Action::UpdateClient {
            return Err(DeskError::Invalid(format!(
                "le point d'avancement du ticket n°{} se donne avec son texte, qui est envoyé au client (INC-4 : /update)",
                self.number
            )));
        }
        if action == Action::Close {
            return self.close(policy, None, by, now);
        }
        self.step(policy, action, Some(by), now)
    }

    /// INC-4: the point on the incident given to the client: `text` is recorded on the ticket
    /// (an outgoing message, shown in the portal) and the update is done; the caller sends it.
    pub fn update_client(
        &mut self,
        policy: &Policy,
        text: &str,
        by: &Reference,
        now: i64,
    ) -> Result<Vec<TicketEvent>, DeskError> {
        check_text("text (point d'avancement)", text, MAX_TEXT, true)?;
        let mut events = self.step(policy, Action::UpdateClient, Some(by), now)?;
        events.push(self.event(
            now,
            Some(by.clone()),
            EventKind::Noted {
                note: Note::Message {
                    direction: Direction::Outgoing,
                    with: "client".to_owned(),
                    text: text.trim().to_owned(),
                },
            },
        ));
        Ok(events)
    }

    /// SAV-6: the integrator closes the ticket without the client's confirmation. Allowed
    /// only once the closure reminder has gone unanswered until the automatic closure's
    /// instant, or with a `reason` that says why (the client confirmed by phone: who, when;
    /// a request withdrawn), recorded on the ticket and shown to the client.
    pub fn close(
        &mut self,
        policy: &Policy,
        reason: Option<&str>,
        by: &Reference,
        now: i64,
    ) -> Result<Vec<TicketEvent>, DeskError> {
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        let mut events = Vec::new();
        match reason {
            Some(reason) => {
                check_text("reason (motif de clôture)", reason, MAX_TEXT, true)?;
                if self.status == Status::Closed {
                    return Err(DeskError::Conflict(format!(
                        "le ticket n°{} est clos",
                        self.number
                    )));
                }
                events.push(self.event(
                    now,
                    Some(by.clone()),
                    EventKind::ClosedWithoutConfirmation {
                        reason: reason.to_owned(),
                    },
                ));
            }
            None => {
                let unanswered = self.status == Status::Resolved
                    && self.aftercare.auto_close_due.is_some_and(|due| due <= now);
                if !unanswered {
                    return Err(DeskError::Conflict(format!(
                        "le ticket n°{} n'est clos qu'après la confirmation du client, ou sans réponse 5 jours après la relance (SAV-6) : sinon, donnez le motif de la clôture (par exemple « confirmé par téléphone par M. Martin le 12/03 à 10 h »)",
                        self.number
                    )));
                }
            }
        }
        events.extend(self.step(policy, Action::Close, Some(by), now)?);
        Ok(events)
    }

    /// SAV-6: the client confirmed the fix by the signed link of its resolution notice or
    /// reminder (no account: the link is the authority, so no one is named).
    pub fn confirmed_by_link(
        &mut self,
        policy: &Policy,
        at: i64,
    ) -> Result<Vec<TicketEvent>, DeskError> {
        if self.status != Status::Resolved {
            return Err(DeskError::Conflict(match self.status {
                Status::Closed => format!("le ticket n°{} est déjà clos : merci", self.number),
                _ => format!(
                    "le ticket n°{} a été rouvert : le problème est encore traité",
                    self.number
                ),
            }));
        }
        self.step(policy, Action::ClientConfirms, None, at)
    }

    /// INC-5: resolved by `by` with its cause, actions, intervention time and impact on the
    /// security data: the resolution notice says them to the client (SAV-6 asks it to
    /// confirm). Data lost opens the GDPR information duty, due within the policy's
    /// `gdpr_information_within` from now.
    pub fn resolve(
        &mut self,
        policy: &Policy,
        resolution: Resolution,
        by: &Reference,
        now: i64,
    ) -> Result<Vec<TicketEvent>, DeskError> {
        check_text(
            "root_cause (cause première)",
            &resolution.root_cause,
            MAX_TEXT,
            true,
        )?;
        check_text(
            "actions (actions menées)",
            &resolution.actions,
            MAX_TEXT,
            true,
        )?;
        resolution.data_impact.check()?;
        check_text(
            "recommendations (recommandations)",
            &resolution.recommendations,
            MAX_TEXT,
            false,
        )?;
        if resolution.parts_replaced.len() > MAX_NOTE_ITEMS {
            return Err(DeskError::Invalid(format!(
                "parts_replaced (pièces remplacées) : {MAX_NOTE_ITEMS} au plus"
            )));
        }
        for part in &resolution.parts_replaced {
            check_text(
                "parts_replaced (pièce remplacée)",
                part,
                MAX_NOTE_ITEM,
                true,
            )?;
        }
        if resolution.intervention_minutes > ClosureReport::MAX_MINUTES {
            return Err(DeskError::Invalid(
                "intervention_minutes : 31 jours au plus".into(),
            ));
        }
        if !matches!(
            self.status,
            Status::Acknowledged | Status::InProgress | Status::WaitingForClient | Status::OnSite
        ) {
            return Err(DeskError::Conflict(format!(
                "le ticket n°{} ne peut pas être résolu depuis le statut {}",
                self.number,
                self.status.key()
            )));
        }
        let gdpr_due = if resolution.data_impact.data_lost() {
            Some(policy.due(&policy.ticket.gdpr_information_within, instant(now)?)?)
        } else {
            None
        };
        // Recorded before the step, so that the resolution notice queued with it says them.
        self.resolution = Some(ClosureReport {
            actions: resolution.actions.trim().to_owned(),
            intervention_minutes: resolution.intervention_minutes,
            root_cause: resolution.root_cause.trim().to_owned(),
            parts_replaced: resolution.parts_replaced.clone(),
            recommendations: resolution.recommendations.trim().to_owned(),
        });
        self.data_impact = Some(resolution.data_impact.clone());
        if let Some(due) = gdpr_due {
            self.gdpr = Some(GdprDuty {
                known_at: now,
                due,
                informed_at: None,
                overdue: false,
            });
        }
        let resolved = self.event(
            now,
            Some(by.clone()),
            EventKind::Resolved {
                resolution,
                gdpr_due,
            },
        );
        let mut events = vec![resolved];
        events.extend(self.step(policy, Action::Resolve, Some(by), now)?);
        Ok(events)
    }

    /// INC-5: the information on the data lost was sent to the client (its message handed to
    /// the server); once.
    pub fn gdpr_informed(&mut self, at: i64) -> Vec<TicketEvent> {
        match &mut self.gdpr {
            Some(gdpr) if gdpr.informed_at.is_none() => {
                gdpr.informed_at = Some(at);
                vec![self.event(at, None, EventKind::GdprInformed)]
            }
            _ => Vec::new(),
        }
    }

    /// SAV-1: a message of the support mailbox threaded into this ticket (`reply` from
    /// [`super::mail::sort`]), recorded with what it does: the client answers (CM-4), confirms
    /// the fix (SAV-6), or writes about a resolved problem, which opens the ticket again
    /// (CM-7). A reply meant for a status the ticket has since left is recorded only.
    pub fn mail_received(
        &mut self,
        policy: &Policy,
        mail: MailNote,
        reply: super::mail::Reply,
        at: i64,
    ) -> Result<Vec<TicketEvent>, DeskError> {
        use super::mail::Reply;
        let action = match (reply, self.status) {
            (Reply::Answers, Status::WaitingForClient) => Some(Action::ClientReplied),
            (Reply::Confirms, Status::Resolved) => Some(Action::ClientConfirms),
            (Reply::Reopens, Status::Resolved) => Some(Action::TakeCharge),
            _ => None,
        };
        let done = if action.is_some() {
            reply
        } else {
            Reply::Recorded
        };
        let mut events = vec![self.event(
            at,
            None,
            EventKind::MailReceived {
                mail: mail.mail,
                from: mail.from,
                subject: clip_to(&mail.subject, MAX_REPORTER),
                text: clip_to(&mail.text, MAX_TEXT),
                attachments: mail.attachments,
                reply: done,
            },
        )];
        if let Some(action) = action {
            events.extend(self.step(policy, action, None, at)?);
        }
        Ok(events)
    }

    /// SAV-2: the acknowledgement reached the client (its email was handed to the server):
    /// the ticket is acknowledged by Vigie itself, unless someone already did.
    pub fn acknowledgement_sent(
        &mut self,
        policy: &Policy,
        at: i64,
    ) -> Result<Vec<TicketEvent>, DeskError> {
        if self.status != Status::New {
            return Ok(Vec::new());
        }
        self.step(policy, Action::Acknowledge, None, at)
    }

    fn step(
        &mut self,
        policy: &Policy,
        action: Action,
        by: Option<&Reference>,
        now: i64,
    ) -> Result<Vec<TicketEvent>, DeskError> {
        self.not_closed()?;
        if action == Action::ClientConfirms && self.status != Status::Resolved {
            return Err(DeskError::Conflict(format!(
                "le ticket n°{} n'est pas résolu : le client ne peut pas encore confirmer",
                self.number
            )));
        }
        if action == Action::ClientReplied && self.status != Status::WaitingForClient {
            return Err(DeskError::Conflict(format!(
                "le ticket n°{} n'attend pas de réponse du client",
                self.number
            )));
        }
        let mut sla = TicketSla::restore(policy, self.sla.clone());
        let happenings = sla.apply(action, instant(now)?)?;
        let mut events = vec![self.event(now, by.cloned(), EventKind::Action { action })];
        if action == Action::TakeCharge
            && let Some(by) = by
            && self.assignee.as_ref() != Some(by)
        {
            self.assignee = Some(by.clone());
            events.push(self.event(
                now,
                Some(by.clone()),
                EventKind::Assigned { to: by.clone() },
            ));
        }
        let had_post_mortem = self.post_mortem.is_some();
        self.take(policy, &sla, now)?;
        events.extend(self.happened(now, happenings));
        if let (false, Some(post_mortem)) = (had_post_mortem, &self.post_mortem) {
            let due = post_mortem.due;
            events.push(self.event(now, None, EventKind::PostMortemDue { due }));
        }
        Ok(events)
    }

    /// INC-6: the post-mortem, while it may still change: due and not shared yet.
    fn unshared_post_mortem(&mut self) -> Result<&mut super::post_mortem::PostMortem, DeskError> {
        let number = self.number;
        match &mut self.post_mortem {
            None => Err(DeskError::Conflict(format!(
                "le ticket n°{number} n'a pas de post-mortem (un P1 résolu en a un, INC-6)"
            ))),
            Some(post_mortem) if post_mortem.published_at.is_some() => Err(DeskError::Conflict(
                format!("le post-mortem du ticket n°{number} est déjà partagé avec le client"),
            )),
            Some(post_mortem) => Ok(post_mortem),
        }
    }

    /// INC-6: the analysis and measures of the post-mortem, written or rewritten by `by` until
    /// it is shared.
    pub fn write_post_mortem(
        &mut self,
        text: super::post_mortem::PostMortemText,
        by: &Reference,
        now: i64,
    ) -> Result<Vec<TicketEvent>, DeskError> {
        text.check()?;
        let post_mortem = self.unshared_post_mortem()?;
        post_mortem.analysis = text.analysis.trim().to_owned();
        post_mortem.measures = text.measures;
        Ok(vec![self.event(
            now,
            Some(by.clone()),
            EventKind::PostMortemWritten,
        )])
    }

    /// INC-6: the post-mortem is shared with the client — complete (an analysis, a corrective
    /// and a preventive measure), once.
    pub fn publish_post_mortem(
        &mut self,
        by: &Reference,
        now: i64,
    ) -> Result<Vec<TicketEvent>, DeskError> {
        let post_mortem = self.unshared_post_mortem()?;
        if !post_mortem.is_complete() {
            return Err(DeskError::Invalid(
                "un post-mortem se partage avec son analyse des causes, au moins une mesure corrective et une préventive (INC-6)".into(),
            ));
        }
        post_mortem.published_at = Some(now);
        Ok(vec![self.event(
            now,
            Some(by.clone()),
            EventKind::PostMortemPublished,
        )])
    }

    /// The technician's bare steps that fit where the ticket stands, for a page to offer
    /// (issue 25: only the steps valid in its state); the desk still decides each. The steps
    /// that ask for more (the diagnosis, the intervention planned with its technician and
    /// window, the resolution, the client's update) have forms of their own.
    pub fn offered_steps(&self) -> Vec<Action> {
        match self.status {
            Status::New | Status::Acknowledged => vec![Action::TakeCharge],
            Status::InProgress => vec![Action::ArriveOnSite, Action::WaitForClient],
            Status::OnSite => vec![Action::WaitForClient],
            Status::WaitingForClient => vec![Action::ClientReplied],
            Status::Resolved | Status::Closed => Vec::new(),
        }
    }

    /// Re-qualification (SAV-3: after the first exchange or a preliminary diagnosis), with its
    /// reason; the deadlines become the new priority's, from receipt (CM-4).
    pub fn requalify(
        &mut self,
        policy: &Policy,
        priority: Priority,
        reason: &str,
        by: &Reference,
        now: i64,
    ) -> Result<Vec<TicketEvent>, DeskError> {
        check_text("reason (motif)", reason, MAX_TEXT, true)?;
        self.not_closed()?;
        if priority == self.priority {
            return Err(DeskError::Conflict(format!(
                "le ticket n°{} est déjà en {}",
                self.number,
                priority_label(priority)
            )));
        }
        let from = self.priority;
        let mut sla = TicketSla::restore(policy, self.sla.clone());
        let happenings = sla.requalify(priority, instant(self.received_at)?, instant(now)?)?;
        let mut events = vec![self.event(
            now,
            Some(by.clone()),
            EventKind::Requalified {
                from,
                to: priority,
                reason: reason.trim().to_owned(),
            },
        )];
        self.take(policy, &sla, now)?;
        events.extend(self.happened(now, happenings));
        Ok(events)
    }

    /// NOT-7: an escalation step of its alarm that asks for a ticket of `kind` fired. The alarm
    /// keeps its one ticket: the step is recorded on it, and a maintenance ticket becomes an
    /// intervention (never the other way).
    pub fn alarm_escalated(
        &mut self,
        alarm: AlarmId,
        step: &str,
        kind: Kind,
        at: i64,
    ) -> Result<Vec<TicketEvent>, DeskError> {
        check_text("step (étape)", step, MAX_TEXT, true)?;
        let from = self.report.kind;
        let to = if kind == Kind::Intervention {
            Kind::Intervention
        } else {
            from
        };
        self.report.kind = to;
        Ok(vec![self.event(
            at,
            None,
            EventKind::AlarmEscalated {
                alarm,
                step: step.to_owned(),
                from,
                to,
            },
        )])
    }

    /// NOT-6: a Minor alarm of the same site and day joins this ticket (one ticket for a
    /// day's Minors of a site). Refused on a ticket resolved or closed, or full.
    pub fn group_alarm(
        &mut self,
        alarm: AlarmId,
        symptom: &str,
        at: i64,
    ) -> Result<Vec<TicketEvent>, DeskError> {
        if matches!(self.status, Status::Resolved | Status::Closed) {
            return Err(DeskError::Conflict(format!(
                "le ticket n°{} est résolu ou clos",
                self.number
            )));
        }
        if self.grouped_alarms.len() >= MAX_GROUPED_ALARMS {
            return Err(DeskError::Conflict(format!(
                "le ticket n°{} regroupe déjà {MAX_GROUPED_ALARMS} alarmes",
                self.number
            )));
        }
        if self.report.alarm == Some(alarm) || self.grouped_alarms.contains(&alarm) {
            return Ok(Vec::new());
        }
        self.grouped_alarms.push(alarm);
        Ok(vec![self.event(
            at,
            None,
            EventKind::AlarmGrouped {
                alarm,
                symptom: crate::text::shorten(symptom, MAX_TEXT),
            },
        )])
    }

    /// Every alarm this ticket handles: the one that opened it, then those grouped with it.
    pub fn alarms(&self) -> Vec<AlarmId> {
        self.report
            .alarm
            .into_iter()
            .chain(self.grouped_alarms.iter().copied())
            .collect()
    }

    /// NOT-8: its alarm became `severity`. A ticket follows its alarm upwards, never down:
    /// requalified to the severity's priority (DEC-4) with the new priority's deadlines and
    /// update cadence counted from `at`, the upgrade, not from receipt (a P1's hour to take
    /// charge is an hour from when it became P1). Nothing on a resolved or closed ticket, or
    /// when the priority is already as urgent.
    pub fn alarm_worsened(
        &mut self,
        policy: &Policy,
        alarm: AlarmId,
        severity: Severity,
        at: i64,
    ) -> Result<Vec<TicketEvent>, DeskError> {
        let to = priority_of_severity(severity);
        if to >= self.priority || matches!(self.status, Status::Resolved | Status::Closed) {
            return Ok(Vec::new());
        }
        let from = self.priority;
        let mut sla = TicketSla::restore(policy, self.sla.clone());
        let happenings = sla.requalify(to, instant(at)?, instant(at)?)?;
        let mut events = vec![self.event(
            at,
            None,
            EventKind::Requalified {
                from,
                to,
                reason: format!("alarme n°{alarm} devenue {}", severity.label()),
            },
        )];
        self.take(policy, &sla, at)?;
        events.extend(self.happened(at, happenings));
        Ok(events)
    }

    /// Its alarm was taken in charge by `by` (a technician of the integrator): so is the
    /// ticket, unless it already is, or is resolved or closed.
    pub fn alarm_taken_in_charge(
        &mut self,
        policy: &Policy,
        by: &Reference,
        at: i64,
    ) -> Result<Vec<TicketEvent>, DeskError> {
        if !matches!(self.status, Status::New | Status::Acknowledged) {
            return Ok(Vec::new());
        }
        self.act(policy, Action::TakeCharge, by, at)
    }

    /// Its alarm was closed with `report` (CLO-1): the ticket records it and is resolved,
    /// waiting for the client's confirmation (SAV-6, CM-7); a ticket already resolved or
    /// closed only records it.
    /// `others_open`: other alarms the ticket groups are still open (NOT-6): it records this
    /// one's report and waits for theirs before it is resolved.
    pub fn alarm_closed(
        &mut self,
        policy: &Policy,
        alarm: AlarmId,
        report: &ClosureReport,
        by: &Reference,
        at: i64,
        others_open: bool,
    ) -> Result<Vec<TicketEvent>, DeskError> {
        self.resolution = Some(report.clone());
        let mut events = vec![self.event(
            at,
            Some(by.clone()),
            EventKind::AlarmClosed {
                alarm,
                report: report.clone(),
            },
        )];
        if !others_open && !matches!(self.status, Status::Resolved | Status::Closed) {
            // CLO-1: the alarm's closure report gives the cause, actions and time.
            events.extend(self.step(policy, Action::Resolve, Some(by), at)?);
        }
        Ok(events)
    }

    /// Records a note by `by`; an intervention scheduled is also the planning step
    /// (INC-2) and gives the ticket to its technician; an escalation gives it to the referent
    /// engineer (CM-6).
    pub fn note(
        &mut self,
        policy: &Policy,
        note: Note,
        by: &Reference,
        at: i64,
    ) -> Result<Vec<TicketEvent>, DeskError> {
        note.check()?;
        self.not_closed()?;
        let mut events = vec![self.event(
            at,
            Some(by.clone()),
            EventKind::Noted { note: note.clone() },
        )];
        match &note {
            // SAV-5 "sur site si nécessaire": solved remotely, the visit deadlines are waived.
            Note::Diagnosis {
                on_site_needed: false,
                ..
            } => {
                let mut sla = TicketSla::restore(policy, self.sla.clone());
                let mut waived = Vec::new();
                for measure in [SlaMeasure::OnSite, SlaMeasure::InterventionPlanning] {
                    if sla.runs(measure) {
                        sla.waive(measure);
                        waived.push(measure);
                    }
                }
                if !waived.is_empty() {
                    self.take(policy, &sla, at)?;
                    for timer in waived {
                        events.push(self.event(at, None, EventKind::SlaWaived { timer }));
                    }
                }
            }
            Note::Intervention { technician, .. } => {
                events.extend(self.step(policy, Action::PlanIntervention, Some(by), at)?);
                if self.assignee.as_ref() != Some(technician) {
                    events.push(self.assign(technician, by, at)?);
                }
            }
            Note::Escalation { to, .. } if self.assignee.as_ref() != Some(to) => {
                events.push(self.assign(to, by, at)?);
            }
            _ => {}
        }
        Ok(events)
    }

    /// SAV-7: the client's answers to the survey of this closed ticket, once.
    pub fn answer_survey(
        &mut self,
        answers: SurveyAnswers,
        at: i64,
    ) -> Result<TicketEvent, DeskError> {
        answers.check()?;
        if self.status != Status::Closed {
            return Err(DeskError::Conflict(format!(
                "le ticket n°{} n'est pas clos : l'enquête suit la clôture",
                self.number
            )));
        }
        if self.survey.is_some() {
            return Err(DeskError::Conflict(format!(
                "l'enquête du ticket n°{} a déjà reçu une réponse : merci",
                self.number
            )));
        }
        let answers = SurveyAnswers {
            comment: answers
                .comment
                .map(|c| c.trim().to_owned())
                .filter(|c| !c.is_empty()),
            ..answers
        };
        self.survey = Some(answers.clone());
        Ok(self.event(at, None, EventKind::SurveyAnswered { answers }))
    }

    /// Gives the ticket to a technician.
    pub fn assign(
        &mut self,
        to: &Reference,
        by: &Reference,
        now: i64,
    ) -> Result<TicketEvent, DeskError> {
        self.not_closed()?;
        self.assignee = Some(to.clone());
        Ok(self.event(
            now,
            Some(by.clone()),
            EventKind::Assigned { to: to.clone() },
        ))
    }
}

impl Ticket {
    /// CM-2: the site and the equipment the report is about, once known (checked against the
    /// inventory by the caller); `topic` is the equipment's kind, for recurrence (INC-7). The
    /// deadlines do not move: they run from receipt (CM-4), and re-qualification, if the
    /// equipment changes the priority, is a step of its own with its reason.
    /// A closed ticket refuses the step.
    fn not_closed(&self) -> Result<(), DeskError> {
        if self.status == Status::Closed {
            return Err(DeskError::Conflict(format!(
                "le ticket n°{} est clos",
                self.number
            )));
        }
        Ok(())
    }

    /// Issue 25, item 12: the client chooses how it is told of the ticket from now on (not
    /// on a closed ticket).
    pub fn choose_told_by(
        &mut self,
        told_by: ToldBy,
        by: &Reference,
        now: i64,
    ) -> Result<TicketEvent, DeskError> {
        self.not_closed()?;
        self.told_by = Some(told_by);
        Ok(self.event(now, Some(by.clone()), EventKind::ToldByChosen { told_by }))
    }

    pub fn locate(
        &mut self,
        site: Reference,
        equipment: Option<Reference>,
        topic: Option<String>,
        by: &Reference,
        now: i64,
    ) -> Result<TicketEvent, DeskError> {
        self.not_closed()?;
        self.report.site = Some(site.clone());
        self.report.equipment = equipment.clone();
        if topic.is_some() {
            self.report.topic = topic;
        }
        Ok(self.event(
            now,
            Some(by.clone()),
            EventKind::Located {
                site: Some(site),
                equipment,
            },
        ))
    }
}

/// A priority in French, as the procedures write it.
pub fn priority_label(priority: Priority) -> &'static str {
    match priority {
        Priority::P1 => "P1 (critique)",
        Priority::P2 => "P2 (standard)",
        Priority::P3 => "P3 (non critique)",
    }
}
