//! The ticket event record (`ticket_events.record`), format 1: one step of a ticket, with who
//! and when.

use serde::{Deserialize, Serialize};
use vigie_domain::ticket::Action;
use vigie_domain::ticket::desk::{Direction, EventKind, Note, Resolution, TicketEvent};
use vigie_domain::ticket::mail::Reply;
use vigie_domain::values::InvalidValue;

use crate::StoreError;

use super::alarm::ClosureReportV1;
use super::alarm_event::ChannelV1;
use super::ticket::{
    DataImpactV1, KindV1, PriorityV1, SlaMeasureV1, SourceV1, StatusV1, SurveyAnswersV1, ToldByV1,
};
use super::{optional_reference, reference};

/// What the errors call this record.
const WHAT: &str = "événement de ticket stocké";

/// The record of `event`.
pub fn encode(event: &TicketEvent) -> Result<String, StoreError> {
    super::write(&TicketEventV1::from(event))
}

/// The event of a stored record.
pub fn decode(record: &str) -> Result<TicketEvent, StoreError> {
    let stored: TicketEventV1 = super::read(record, WHAT)?;
    TicketEvent::try_from(stored).map_err(|e| super::unreadable(WHAT, e))
}

/// One step of a ticket (format 1); what happened is flattened beside who and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketEventV1 {
    pub ticket: u64,
    pub at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    #[serde(flatten)]
    pub kind: EventKindV1,
}

/// What happened to a ticket (format 1), named by `event`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKindV1 {
    Opened {
        kind: KindV1,
        source: SourceV1,
        priority: PriorityV1,
    },
    Requalified {
        from: PriorityV1,
        to: PriorityV1,
        reason: String,
    },
    Assigned {
        to: String,
    },
    Located {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        site: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        equipment: Option<String>,
    },
    Action {
        action: ActionV1,
    },
    Status {
        status: StatusV1,
    },
    SlaDue {
        timer: SlaMeasureV1,
        due: i64,
    },
    SlaMet {
        timer: SlaMeasureV1,
        due: i64,
    },
    SlaBreached {
        timer: SlaMeasureV1,
        due: i64,
    },
    SlaPaused {
        timer: SlaMeasureV1,
    },
    SlaWaived {
        timer: SlaMeasureV1,
    },
    SlaWarning {
        timer: SlaMeasureV1,
        due: i64,
    },
    MessageQueued {
        key: String,
        recipient: String,
        /// Absent from the events stored before it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        channel: ChannelV1,
        due: i64,
    },
    MessageFailed {
        key: String,
        recipient: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        channel: ChannelV1,
        error: String,
    },
    ClosureReminder {
        close_at: i64,
    },
    AutoClosed,
    ClosedWithoutConfirmation {
        reason: String,
    },
    FollowUp {
        due: i64,
        relapses: Vec<u64>,
        reopened: bool,
    },
    Noted {
        #[serde(flatten)]
        note: NoteV1,
    },
    SurveyAnswered {
        #[serde(flatten)]
        answers: SurveyAnswersV1,
    },
    Recurrence {
        earlier: Vec<u64>,
        review: u64,
    },
    Resolved {
        #[serde(flatten)]
        resolution: ResolutionV1,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        gdpr_due: Option<i64>,
    },
    GdprInformed,
    PostMortemDue {
        due: i64,
    },
    PostMortemWritten,
    PostMortemPublished,
    ToldByChosen {
        told_by: ToldByV1,
    },
    PostMortemOverdue {
        due: i64,
    },
    GdprOverdue {
        due: i64,
    },
    MailReceived {
        mail: i64,
        from: String,
        subject: String,
        text: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        attachments: Vec<String>,
        reply: ReplyV1,
    },
    AlarmGrouped {
        alarm: u64,
        symptom: String,
    },
    AlarmEscalated {
        alarm: u64,
        step: String,
        from: KindV1,
        to: KindV1,
    },
    AlarmClosed {
        alarm: u64,
        #[serde(flatten)]
        report: ClosureReportV1,
    },
}

stored_enum! {
    /// What a person does to a ticket (format 1).
    ActionV1 for Action {
        Acknowledge,
        TakeCharge,
        PlanIntervention,
        ArriveOnSite,
        UpdateClient,
        WaitForClient,
        ClientReplied,
        Resolve,
        ClientConfirms,
        Close,
    }
}

stored_enum! {
    /// Which way a message or a call went (format 1).
    DirectionV1 for Direction { Incoming, Outgoing }
}

stored_enum! {
    /// What a message of the support mailbox did to its ticket (format 1).
    ReplyV1 for Reply { Recorded, Answers, Confirms, Reopens }
}

/// What a person recorded on a ticket besides its steps (format 1), named by `note`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "note", rename_all = "snake_case", deny_unknown_fields)]
pub enum NoteV1 {
    Message {
        direction: DirectionV1,
        with: String,
        text: String,
    },
    Call {
        direction: DirectionV1,
        with: String,
        summary: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        minutes: Option<u32>,
    },
    Diagnosis {
        checks: Vec<String>,
        result: String,
        on_site_needed: bool,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        parts: Vec<String>,
    },
    Intervention {
        technician: String,
        from: i64,
        to: i64,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        parts: Vec<String>,
    },
    Escalation {
        to: String,
        reason: String,
    },
}

/// How a technician resolved a ticket (format 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResolutionV1 {
    pub root_cause: String,
    pub actions: String,
    pub intervention_minutes: u32,
    pub data_impact: DataImpactV1,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts_replaced: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub recommendations: String,
}

impl From<&TicketEvent> for TicketEventV1 {
    fn from(event: &TicketEvent) -> TicketEventV1 {
        TicketEventV1 {
            ticket: event.ticket,
            at: event.at,
            by: event.by.as_ref().map(ToString::to_string),
            kind: EventKindV1::from(&event.kind),
        }
    }
}

impl TryFrom<TicketEventV1> for TicketEvent {
    type Error = InvalidValue;

    fn try_from(stored: TicketEventV1) -> Result<TicketEvent, InvalidValue> {
        Ok(TicketEvent {
            ticket: stored.ticket,
            at: stored.at,
            by: optional_reference("by", stored.by)?,
            kind: stored.kind.try_into()?,
        })
    }
}

impl From<&EventKind> for EventKindV1 {
    fn from(kind: &EventKind) -> EventKindV1 {
        match kind {
            EventKind::Opened {
                kind,
                source,
                priority,
            } => EventKindV1::Opened {
                kind: (*kind).into(),
                source: (*source).into(),
                priority: (*priority).into(),
            },
            EventKind::Requalified { from, to, reason } => EventKindV1::Requalified {
                from: (*from).into(),
                to: (*to).into(),
                reason: reason.clone(),
            },
            EventKind::Assigned { to } => EventKindV1::Assigned { to: to.to_string() },
            EventKind::Located { site, equipment } => EventKindV1::Located {
                site: site.as_ref().map(ToString::to_string),
                equipment: equipment.as_ref().map(ToString::to_string),
            },
            EventKind::Action { action } => EventKindV1::Action {
                action: (*action).into(),
            },
            EventKind::Status { status } => EventKindV1::Status {
                status: (*status).into(),
            },
            EventKind::SlaDue { timer, due } => EventKindV1::SlaDue {
                timer: (*timer).into(),
                due: *due,
            },
            EventKind::SlaMet { timer, due } => EventKindV1::SlaMet {
                timer: (*timer).into(),
                due: *due,
            },
            EventKind::SlaBreached { timer, due } => EventKindV1::SlaBreached {
                timer: (*timer).into(),
                due: *due,
            },
            EventKind::SlaPaused { timer } => EventKindV1::SlaPaused {
                timer: (*timer).into(),
            },
            EventKind::SlaWaived { timer } => EventKindV1::SlaWaived {
                timer: (*timer).into(),
            },
            EventKind::SlaWarning { timer, due } => EventKindV1::SlaWarning {
                timer: (*timer).into(),
                due: *due,
            },
            EventKind::MessageQueued {
                key,
                recipient,
                name,
                channel,
                due,
            } => EventKindV1::MessageQueued {
                key: key.clone(),
                recipient: recipient.clone(),
                name: name.clone(),
                channel: (*channel).into(),
                due: *due,
            },
            EventKind::MessageFailed {
                key,
                recipient,
                name,
                channel,
                error,
            } => EventKindV1::MessageFailed {
                key: key.clone(),
                recipient: recipient.clone(),
                name: name.clone(),
                channel: (*channel).into(),
                error: error.clone(),
            },
            EventKind::ClosureReminder { close_at } => EventKindV1::ClosureReminder {
                close_at: *close_at,
            },
            EventKind::AutoClosed => EventKindV1::AutoClosed,
            EventKind::ClosedWithoutConfirmation { reason } => {
                EventKindV1::ClosedWithoutConfirmation {
                    reason: reason.clone(),
                }
            }
            EventKind::FollowUp {
                due,
                relapses,
                reopened,
            } => EventKindV1::FollowUp {
                due: *due,
                relapses: relapses.clone(),
                reopened: *reopened,
            },
            EventKind::Noted { note } => EventKindV1::Noted { note: note.into() },
            EventKind::SurveyAnswered { answers } => EventKindV1::SurveyAnswered {
                answers: answers.into(),
            },
            EventKind::Recurrence { earlier, review } => EventKindV1::Recurrence {
                earlier: earlier.clone(),
                review: *review,
            },
            EventKind::Resolved {
                resolution,
                gdpr_due,
            } => EventKindV1::Resolved {
                resolution: resolution.into(),
                gdpr_due: *gdpr_due,
            },
            EventKind::GdprInformed => EventKindV1::GdprInformed,
            EventKind::PostMortemDue { due } => EventKindV1::PostMortemDue { due: *due },
            EventKind::PostMortemWritten => EventKindV1::PostMortemWritten,
            EventKind::PostMortemPublished => EventKindV1::PostMortemPublished,
            EventKind::ToldByChosen { told_by } => EventKindV1::ToldByChosen {
                told_by: (*told_by).into(),
            },
            EventKind::PostMortemOverdue { due } => EventKindV1::PostMortemOverdue { due: *due },
            EventKind::GdprOverdue { due } => EventKindV1::GdprOverdue { due: *due },
            EventKind::MailReceived {
                mail,
                from,
                subject,
                text,
                attachments,
                reply,
            } => EventKindV1::MailReceived {
                mail: *mail,
                from: from.clone(),
                subject: subject.clone(),
                text: text.clone(),
                attachments: attachments.clone(),
                reply: (*reply).into(),
            },
            EventKind::AlarmGrouped { alarm, symptom } => EventKindV1::AlarmGrouped {
                alarm: *alarm,
                symptom: symptom.clone(),
            },
            EventKind::AlarmEscalated {
                alarm,
                step,
                from,
                to,
            } => EventKindV1::AlarmEscalated {
                alarm: *alarm,
                step: step.clone(),
                from: (*from).into(),
                to: (*to).into(),
            },
            EventKind::AlarmClosed { alarm, report } => EventKindV1::AlarmClosed {
                alarm: *alarm,
                report: report.into(),
            },
        }
    }
}

impl TryFrom<EventKindV1> for EventKind {
    type Error = InvalidValue;

    fn try_from(stored: EventKindV1) -> Result<EventKind, InvalidValue> {
        Ok(match stored {
            EventKindV1::Opened {
                kind,
                source,
                priority,
            } => EventKind::Opened {
                kind: kind.into(),
                source: source.into(),
                priority: priority.into(),
            },
            EventKindV1::Requalified { from, to, reason } => EventKind::Requalified {
                from: from.into(),
                to: to.into(),
                reason,
            },
            EventKindV1::Assigned { to } => EventKind::Assigned {
                to: reference("to", to)?,
            },
            EventKindV1::Located { site, equipment } => EventKind::Located {
                site: optional_reference("site", site)?,
                equipment: optional_reference("equipment", equipment)?,
            },
            EventKindV1::Action { action } => EventKind::Action {
                action: action.into(),
            },
            EventKindV1::Status { status } => EventKind::Status {
                status: status.into(),
            },
            EventKindV1::SlaDue { timer, due } => EventKind::SlaDue {
                timer: timer.into(),
                due,
            },
            EventKindV1::SlaMet { timer, due } => EventKind::SlaMet {
                timer: timer.into(),
                due,
            },
            EventKindV1::SlaBreached { timer, due } => EventKind::SlaBreached {
                timer: timer.into(),
                due,
            },
            EventKindV1::SlaPaused { timer } => EventKind::SlaPaused {
                timer: timer.into(),
            },
            EventKindV1::SlaWaived { timer } => EventKind::SlaWaived {
                timer: timer.into(),
            },
            EventKindV1::SlaWarning { timer, due } => EventKind::SlaWarning {
                timer: timer.into(),
                due,
            },
            EventKindV1::MessageQueued {
                key,
                recipient,
                name,
                channel,
                due,
            } => EventKind::MessageQueued {
                key,
                recipient,
                name,
                channel: channel.into(),
                due,
            },
            EventKindV1::MessageFailed {
                key,
                recipient,
                name,
                channel,
                error,
            } => EventKind::MessageFailed {
                key,
                recipient,
                name,
                channel: channel.into(),
                error,
            },
            EventKindV1::ClosureReminder { close_at } => EventKind::ClosureReminder { close_at },
            EventKindV1::AutoClosed => EventKind::AutoClosed,
            EventKindV1::ClosedWithoutConfirmation { reason } => {
                EventKind::ClosedWithoutConfirmation { reason }
            }
            EventKindV1::FollowUp {
                due,
                relapses,
                reopened,
            } => EventKind::FollowUp {
                due,
                relapses,
                reopened,
            },
            EventKindV1::Noted { note } => EventKind::Noted {
                note: note.try_into()?,
            },
            EventKindV1::SurveyAnswered { answers } => EventKind::SurveyAnswered {
                answers: answers.into(),
            },
            EventKindV1::Recurrence { earlier, review } => {
                EventKind::Recurrence { earlier, review }
            }
            EventKindV1::Resolved {
                resolution,
                gdpr_due,
            } => EventKind::Resolved {
                resolution: resolution.into(),
                gdpr_due,
            },
            EventKindV1::GdprInformed => EventKind::GdprInformed,
            EventKindV1::PostMortemDue { due } => EventKind::PostMortemDue { due },
            EventKindV1::PostMortemWritten => EventKind::PostMortemWritten,
            EventKindV1::PostMortemPublished => EventKind::PostMortemPublished,
            EventKindV1::ToldByChosen { told_by } => EventKind::ToldByChosen {
                told_by: told_by.into(),
            },
            EventKindV1::PostMortemOverdue { due } => EventKind::PostMortemOverdue { due },
            EventKindV1::GdprOverdue { due } => EventKind::GdprOverdue { due },
            EventKindV1::MailReceived {
                mail,
                from,
                subject,
                text,
                attachments,
                reply,
            } => EventKind::MailReceived {
                mail,
                from,
                subject,
                text,
                attachments,
                reply: reply.into(),
            },
            EventKindV1::AlarmGrouped { alarm, symptom } => {
                EventKind::AlarmGrouped { alarm, symptom }
            }
            EventKindV1::AlarmEscalated {
                alarm,
                step,
                from,
                to,
            } => EventKind::AlarmEscalated {
                alarm,
                step,
                from: from.into(),
                to: to.into(),
            },
            EventKindV1::AlarmClosed { alarm, report } => EventKind::AlarmClosed {
                alarm,
                report: report.into(),
            },
        })
    }
}

impl From<&Note> for NoteV1 {
    fn from(note: &Note) -> NoteV1 {
        match note {
            Note::Message {
                direction,
                with,
                text,
            } => NoteV1::Message {
                direction: (*direction).into(),
                with: with.clone(),
                text: text.clone(),
            },
            Note::Call {
                direction,
                with,
                summary,
                minutes,
            } => NoteV1::Call {
                direction: (*direction).into(),
                with: with.clone(),
                summary: summary.clone(),
                minutes: *minutes,
            },
            Note::Diagnosis {
                checks,
                result,
                on_site_needed,
                parts,
            } => NoteV1::Diagnosis {
                checks: checks.clone(),
                result: result.clone(),
                on_site_needed: *on_site_needed,
                parts: parts.clone(),
            },
            Note::Intervention {
                technician,
                from,
                to,
                parts,
            } => NoteV1::Intervention {
                technician: technician.to_string(),
                from: *from,
                to: *to,
                parts: parts.clone(),
            },
            Note::Escalation { to, reason } => NoteV1::Escalation {
                to: to.to_string(),
                reason: reason.clone(),
            },
        }
    }
}

impl TryFrom<NoteV1> for Note {
    type Error = InvalidValue;

    fn try_from(stored: NoteV1) -> Result<Note, InvalidValue> {
        Ok(match stored {
            NoteV1::Message {
                direction,
                with,
                text,
            } => Note::Message {
                direction: direction.into(),
                with,
                text,
            },
            NoteV1::Call {
                direction,
                with,
                summary,
                minutes,
            } => Note::Call {
                direction: direction.into(),
                with,
                summary,
                minutes,
            },
            NoteV1::Diagnosis {
                checks,
                result,
                on_site_needed,
                parts,
            } => Note::Diagnosis {
                checks,
                result,
                on_site_needed,
                parts,
            },
            NoteV1::Intervention {
                technician,
                from,
                to,
                parts,
            } => Note::Intervention {
                technician: reference("technician", technician)?,
                from,
                to,
                parts,
            },
            NoteV1::Escalation { to, reason } => Note::Escalation {
                to: reference("to", to)?,
                reason,
            },
        })
    }
}

impl From<&Resolution> for ResolutionV1 {
    fn from(resolution: &Resolution) -> ResolutionV1 {
        ResolutionV1 {
            root_cause: resolution.root_cause.clone(),
            actions: resolution.actions.clone(),
            intervention_minutes: resolution.intervention_minutes,
            data_impact: (&resolution.data_impact).into(),
            parts_replaced: resolution.parts_replaced.clone(),
            recommendations: resolution.recommendations.clone(),
        }
    }
}

impl From<ResolutionV1> for Resolution {
    fn from(stored: ResolutionV1) -> Resolution {
        Resolution {
            root_cause: stored.root_cause,
            actions: stored.actions,
            intervention_minutes: stored.intervention_minutes,
            data_impact: stored.data_impact.into(),
            parts_replaced: stored.parts_replaced,
            recommendations: stored.recommendations,
        }
    }
}
