//! The ticket record (`tickets.record`), format 1: a ticket as it stands, with what its
//! reporter said, its SLA timers, its aftercare, its resolution and post-mortem.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use vigie_domain::EmailAddress;
use vigie_domain::inventory::{ContractTier, Priority, SlaMeasure};
use vigie_domain::policy::Deadline;
use vigie_domain::ticket::desk::{
    Aftercare, DataImpact, FollowUp, GdprDuty, Impact, Kind, Report, Source, SurveyAnswers, Ticket,
    ToldBy, Warning,
};
use vigie_domain::ticket::post_mortem::{Measure, MeasureKind, PostMortem};
use vigie_domain::ticket::{SlaState, StatedCriticality, Status, Timer};
use vigie_domain::values::{DurationSpec, InvalidValue};

use crate::StoreError;

use super::alarm::ClosureReportV1;
use super::{optional_reference, reference};

/// What the errors call this record.
const WHAT: &str = "ticket stocké";

/// The record of `ticket`.
pub fn encode(ticket: &Ticket) -> Result<String, StoreError> {
    super::write(&TicketV1::from(ticket))
}

/// The ticket of a stored record.
pub fn decode(record: &str) -> Result<Ticket, StoreError> {
    let stored: TicketV1 = super::read(record, WHAT)?;
    Ticket::try_from(stored).map_err(|e| super::unreadable(WHAT, e))
}

/// A ticket (format 1); what its reporter said is flattened beside its state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketV1 {
    pub number: u64,
    #[serde(flatten)]
    pub report: ReportV1,
    pub priority: PriorityV1,
    pub status: StatusV1,
    pub received_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<ClosureReportV1>,
    pub sla: SlaStateV1,
    #[serde(default, skip_serializing_if = "AftercareV1::is_empty")]
    pub aftercare: AftercareV1,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub survey: Option<SurveyAnswersV1>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_impact: Option<DataImpactV1>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gdpr: Option<GdprDutyV1>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_mortem: Option<PostMortemV1>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub warnings: BTreeMap<SlaMeasureV1, WarningV1>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grouped_alarms: Vec<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub told_by: Option<ToldByV1>,
}

/// What the one who opened the ticket said (format 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportV1 {
    pub client: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equipment: Option<String>,
    pub kind: KindV1,
    pub source: SourceV1,
    pub symptom: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact: Option<ImpactV1>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stated_criticality: Option<StatedCriticalityV1>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarm: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
}

stored_enum! {
    /// What a ticket is about (format 1).
    KindV1 for Kind { Request, Incident, Maintenance, Intervention, Review }
}

stored_enum! {
    /// Where a ticket came from (format 1).
    SourceV1 for Source { Portal, Email, Phone, Alarm, Api, Recurrence }
}

stored_enum! {
    /// The impact on surveillance, as the reporter said it (format 1).
    ImpactV1 for Impact {
        SecurityCompromised,
        PartialLoss,
        OneEquipment,
        NoSecurityImpact,
        Question,
        Unknown,
    }
}

stored_enum! {
    /// What the client said of the problem (format 1).
    StatedCriticalityV1 for StatedCriticality { Critical, Standard, Informative }
}

stored_enum! {
    /// A ticket's priority (format 1).
    PriorityV1 for Priority { P1, P2, P3 }
}

stored_enum! {
    /// Where a ticket stands (format 1).
    StatusV1 for Status {
        New,
        Acknowledged,
        InProgress,
        WaitingForClient,
        OnSite,
        Resolved,
        Closed,
    }
}

stored_enum! {
    /// A measured deadline of a ticket (format 1): the order of the variants is the order of
    /// the stored lists of timers met.
    SlaMeasureV1 for SlaMeasure {
        Acknowledgement,
        TakeCharge,
        OnSite,
        InterventionPlanning,
        ClientUpdate,
    }
}

stored_enum! {
    /// The contract's level (format 1).
    ContractTierV1 for ContractTier { Standard, Premium }
}

stored_enum! {
    /// The channels a client chose for the news of its ticket (format 1).
    ToldByV1 for ToldBy { Email, Sms, EmailAndSms }
}

stored_enum! {
    /// A post-mortem's measure, corrective or preventive (format 1).
    MeasureKindV1 for MeasureKind { Corrective, Preventive }
}

/// A record stored before the contract's level was kept is of a standard contract.
fn standard() -> ContractTierV1 {
    ContractTierV1::Standard
}

/// A ticket's SLA timers (format 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaStateV1 {
    pub priority: PriorityV1,
    pub status: StatusV1,
    #[serde(default = "standard")]
    pub tier: ContractTierV1,
    #[serde(default)]
    pub round_the_clock: bool,
    pub timers: BTreeMap<SlaMeasureV1, TimerV1>,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub done: BTreeSet<SlaMeasureV1>,
}

/// One SLA timer (format 1), its instants written RFC 3339 (`2026-03-04T09:00:00Z`) as they
/// always were.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum TimerV1 {
    Running {
        deadline: DeadlineV1,
        #[serde(with = "vigie_domain::calendar::rfc3339_ms")]
        due: i64,
    },
    Paused {
        deadline: DeadlineV1,
        #[serde(with = "vigie_domain::calendar::rfc3339_ms")]
        remaining_from: i64,
        #[serde(with = "vigie_domain::calendar::rfc3339_ms")]
        original_due: i64,
    },
    Overdue {
        deadline: DeadlineV1,
    },
}

/// A timer's deadline as the policy wrote it (format 1): `within` a duration (`4h`) or
/// `within_days`, in a calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeadlineV1 {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within_days: Option<u32>,
    pub calendar: String,
}

/// What is due after the resolution (format 1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AftercareV1 {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closure_reminder_due: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_close_due: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub follow_ups: Vec<FollowUpV1>,
}

impl AftercareV1 {
    /// Nothing due: not written.
    fn is_empty(&self) -> bool {
        self == &AftercareV1::default()
    }
}

/// One follow-up after the intervention (format 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUpV1 {
    pub due: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub relapses: Vec<u64>,
}

/// A warning before a deadline (format 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarningV1 {
    pub due: i64,
    pub at: i64,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sent: bool,
}

/// What an incident did to the security data (format 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataImpactV1 {
    #[serde(default)]
    pub footage_lost: bool,
    #[serde(default)]
    pub accesses_untracked: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

/// The client's answers to the satisfaction survey (format 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SurveyAnswersV1 {
    pub responsiveness: u8,
    pub quality: u8,
    pub communication: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// The duty to inform the client of a loss of security data (format 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GdprDutyV1 {
    pub known_at: i64,
    pub due: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub informed_at: Option<i64>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub overdue: bool,
}

/// A P1's post-mortem (format 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostMortemV1 {
    pub due: i64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub analysis: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub measures: Vec<MeasureV1>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_at: Option<i64>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub overdue: bool,
}

/// One measure of a post-mortem's plan (format 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasureV1 {
    pub kind: MeasureKindV1,
    pub action: String,
    pub owner: String,
    pub due: i64,
}

impl From<&Ticket> for TicketV1 {
    fn from(ticket: &Ticket) -> TicketV1 {
        TicketV1 {
            number: ticket.number,
            report: ReportV1::from(&ticket.report),
            priority: ticket.priority.into(),
            status: ticket.status.into(),
            received_at: ticket.received_at,
            assignee: ticket.assignee.as_ref().map(ToString::to_string),
            resolved_at: ticket.resolved_at,
            closed_at: ticket.closed_at,
            resolution: ticket.resolution.as_ref().map(ClosureReportV1::from),
            sla: SlaStateV1::from(&ticket.sla),
            aftercare: AftercareV1::from(&ticket.aftercare),
            survey: ticket.survey.as_ref().map(SurveyAnswersV1::from),
            data_impact: ticket.data_impact.as_ref().map(DataImpactV1::from),
            gdpr: ticket.gdpr.as_ref().map(GdprDutyV1::from),
            post_mortem: ticket.post_mortem.as_ref().map(PostMortemV1::from),
            warnings: ticket
                .warnings
                .iter()
                .map(|(measure, warning)| ((*measure).into(), WarningV1::from(warning)))
                .collect(),
            grouped_alarms: ticket.grouped_alarms.clone(),
            told_by: ticket.told_by.map(ToldByV1::from),
        }
    }
}

impl TryFrom<TicketV1> for Ticket {
    type Error = InvalidValue;

    fn try_from(stored: TicketV1) -> Result<Ticket, InvalidValue> {
        Ok(Ticket {
            number: stored.number,
            report: stored.report.try_into()?,
            priority: stored.priority.into(),
            status: stored.status.into(),
            received_at: stored.received_at,
            assignee: optional_reference("assignee", stored.assignee)?,
            resolved_at: stored.resolved_at,
            closed_at: stored.closed_at,
            resolution: stored.resolution.map(Into::into),
            sla: stored.sla.try_into()?,
            aftercare: stored.aftercare.into(),
            survey: stored.survey.map(Into::into),
            data_impact: stored.data_impact.map(Into::into),
            gdpr: stored.gdpr.map(Into::into),
            post_mortem: stored.post_mortem.map(Into::into),
            warnings: stored
                .warnings
                .into_iter()
                .map(|(measure, warning)| (measure.into(), warning.into()))
                .collect(),
            grouped_alarms: stored.grouped_alarms,
            told_by: stored.told_by.map(ToldBy::from),
        })
    }
}

impl From<&Report> for ReportV1 {
    fn from(report: &Report) -> ReportV1 {
        ReportV1 {
            client: report.client.to_string(),
            site: report.site.as_ref().map(ToString::to_string),
            equipment: report.equipment.as_ref().map(ToString::to_string),
            kind: report.kind.into(),
            source: report.source.into(),
            symptom: report.symptom.clone(),
            impact: report.impact.map(ImpactV1::from),
            stated_criticality: report.stated_criticality.map(StatedCriticalityV1::from),
            reporter: report.reporter.clone(),
            reply_to: report.reply_to.as_ref().map(ToString::to_string),
            alarm: report.alarm,
            topic: report.topic.clone(),
        }
    }
}

impl TryFrom<ReportV1> for Report {
    type Error = InvalidValue;

    fn try_from(stored: ReportV1) -> Result<Report, InvalidValue> {
        Ok(Report {
            client: reference("client", stored.client)?,
            site: optional_reference("site", stored.site)?,
            equipment: optional_reference("equipment", stored.equipment)?,
            kind: stored.kind.into(),
            source: stored.source.into(),
            symptom: stored.symptom,
            impact: stored.impact.map(Impact::from),
            stated_criticality: stored.stated_criticality.map(StatedCriticality::from),
            reporter: stored.reporter,
            reply_to: stored
                .reply_to
                .map(|address| {
                    EmailAddress::parse(&address)
                        .map_err(|e| InvalidValue(format!("reply_to : {}", e.0)))
                })
                .transpose()?,
            alarm: stored.alarm,
            topic: stored.topic,
        })
    }
}

impl From<&SlaState> for SlaStateV1 {
    fn from(state: &SlaState) -> SlaStateV1 {
        SlaStateV1 {
            priority: state.priority.into(),
            status: state.status.into(),
            tier: state.tier.into(),
            round_the_clock: state.round_the_clock,
            timers: state
                .timers
                .iter()
                .map(|(measure, timer)| ((*measure).into(), TimerV1::from(timer)))
                .collect(),
            done: state.done.iter().map(|measure| (*measure).into()).collect(),
        }
    }
}

impl TryFrom<SlaStateV1> for SlaState {
    type Error = InvalidValue;

    fn try_from(stored: SlaStateV1) -> Result<SlaState, InvalidValue> {
        Ok(SlaState {
            priority: stored.priority.into(),
            status: stored.status.into(),
            tier: stored.tier.into(),
            round_the_clock: stored.round_the_clock,
            timers: stored
                .timers
                .into_iter()
                .map(|(measure, timer)| Ok((measure.into(), timer.try_into()?)))
                .collect::<Result<_, InvalidValue>>()?,
            done: stored.done.into_iter().map(SlaMeasure::from).collect(),
        })
    }
}

impl From<&Timer> for TimerV1 {
    fn from(timer: &Timer) -> TimerV1 {
        match timer {
            Timer::Running { deadline, due } => TimerV1::Running {
                deadline: deadline.into(),
                due: *due,
            },
            Timer::Paused {
                deadline,
                remaining_from,
                original_due,
            } => TimerV1::Paused {
                deadline: deadline.into(),
                remaining_from: *remaining_from,
                original_due: *original_due,
            },
            Timer::Overdue { deadline } => TimerV1::Overdue {
                deadline: deadline.into(),
            },
        }
    }
}

impl TryFrom<TimerV1> for Timer {
    type Error = InvalidValue;

    fn try_from(stored: TimerV1) -> Result<Timer, InvalidValue> {
        Ok(match stored {
            TimerV1::Running { deadline, due } => Timer::Running {
                deadline: deadline.try_into()?,
                due,
            },
            TimerV1::Paused {
                deadline,
                remaining_from,
                original_due,
            } => Timer::Paused {
                deadline: deadline.try_into()?,
                remaining_from,
                original_due,
            },
            TimerV1::Overdue { deadline } => Timer::Overdue {
                deadline: deadline.try_into()?,
            },
        })
    }
}

impl From<&Deadline> for DeadlineV1 {
    fn from(deadline: &Deadline) -> DeadlineV1 {
        DeadlineV1 {
            within: deadline.within.map(|within| within.to_string()),
            within_days: deadline.within_days,
            calendar: deadline.calendar.clone(),
        }
    }
}

impl TryFrom<DeadlineV1> for Deadline {
    type Error = InvalidValue;

    fn try_from(stored: DeadlineV1) -> Result<Deadline, InvalidValue> {
        Ok(Deadline {
            within: stored
                .within
                .map(|within| {
                    DurationSpec::parse(&within)
                        .map_err(|e| InvalidValue(format!("sla.timers.deadline.within : {}", e.0)))
                })
                .transpose()?,
            within_days: stored.within_days,
            calendar: stored.calendar,
        })
    }
}

impl From<&Aftercare> for AftercareV1 {
    fn from(aftercare: &Aftercare) -> AftercareV1 {
        AftercareV1 {
            closure_reminder_due: aftercare.closure_reminder_due,
            auto_close_due: aftercare.auto_close_due,
            follow_ups: aftercare
                .follow_ups
                .iter()
                .map(|follow_up| FollowUpV1 {
                    due: follow_up.due,
                    done_at: follow_up.done_at,
                    relapses: follow_up.relapses.clone(),
                })
                .collect(),
        }
    }
}

impl From<AftercareV1> for Aftercare {
    fn from(stored: AftercareV1) -> Aftercare {
        Aftercare {
            closure_reminder_due: stored.closure_reminder_due,
            auto_close_due: stored.auto_close_due,
            follow_ups: stored
                .follow_ups
                .into_iter()
                .map(|follow_up| FollowUp {
                    due: follow_up.due,
                    done_at: follow_up.done_at,
                    relapses: follow_up.relapses,
                })
                .collect(),
        }
    }
}

impl From<&Warning> for WarningV1 {
    fn from(warning: &Warning) -> WarningV1 {
        WarningV1 {
            due: warning.due,
            at: warning.at,
            sent: warning.sent,
        }
    }
}

impl From<WarningV1> for Warning {
    fn from(stored: WarningV1) -> Warning {
        Warning {
            due: stored.due,
            at: stored.at,
            sent: stored.sent,
        }
    }
}

impl From<&DataImpact> for DataImpactV1 {
    fn from(impact: &DataImpact) -> DataImpactV1 {
        DataImpactV1 {
            footage_lost: impact.footage_lost,
            accesses_untracked: impact.accesses_untracked,
            description: impact.description.clone(),
        }
    }
}

impl From<DataImpactV1> for DataImpact {
    fn from(stored: DataImpactV1) -> DataImpact {
        DataImpact {
            footage_lost: stored.footage_lost,
            accesses_untracked: stored.accesses_untracked,
            description: stored.description,
        }
    }
}

impl From<&SurveyAnswers> for SurveyAnswersV1 {
    fn from(answers: &SurveyAnswers) -> SurveyAnswersV1 {
        SurveyAnswersV1 {
            responsiveness: answers.responsiveness,
            quality: answers.quality,
            communication: answers.communication,
            comment: answers.comment.clone(),
        }
    }
}

impl From<SurveyAnswersV1> for SurveyAnswers {
    fn from(stored: SurveyAnswersV1) -> SurveyAnswers {
        SurveyAnswers {
            responsiveness: stored.responsiveness,
            quality: stored.quality,
            communication: stored.communication,
            comment: stored.comment,
        }
    }
}

impl From<&GdprDuty> for GdprDutyV1 {
    fn from(duty: &GdprDuty) -> GdprDutyV1 {
        GdprDutyV1 {
            known_at: duty.known_at,
            due: duty.due,
            informed_at: duty.informed_at,
            overdue: duty.overdue,
        }
    }
}

impl From<GdprDutyV1> for GdprDuty {
    fn from(stored: GdprDutyV1) -> GdprDuty {
        GdprDuty {
            known_at: stored.known_at,
            due: stored.due,
            informed_at: stored.informed_at,
            overdue: stored.overdue,
        }
    }
}

impl From<&PostMortem> for PostMortemV1 {
    fn from(post_mortem: &PostMortem) -> PostMortemV1 {
        PostMortemV1 {
            due: post_mortem.due,
            analysis: post_mortem.analysis.clone(),
            measures: post_mortem
                .measures
                .iter()
                .map(|measure| MeasureV1 {
                    kind: measure.kind.into(),
                    action: measure.action.clone(),
                    owner: measure.owner.clone(),
                    due: measure.due,
                })
                .collect(),
            published_at: post_mortem.published_at,
            overdue: post_mortem.overdue,
        }
    }
}

impl From<PostMortemV1> for PostMortem {
    fn from(stored: PostMortemV1) -> PostMortem {
        PostMortem {
            due: stored.due,
            analysis: stored.analysis,
            measures: stored
                .measures
                .into_iter()
                .map(|measure| Measure {
                    kind: measure.kind.into(),
                    action: measure.action,
                    owner: measure.owner,
                    due: measure.due,
                })
                .collect(),
            published_at: stored.published_at,
            overdue: stored.overdue,
        }
    }
}
