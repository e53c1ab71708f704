//! The alarm event record (`alarm_events.record`), format 1: one step of an alarm, with who
//! and when.

use serde::{Deserialize, Serialize};
use vigie_domain::alarm::escalation::{Missing, Routed};
use vigie_domain::alarm::lifecycle::{AlarmEvent, EventKind, SeverityCause, Told};
use vigie_domain::policy::Invitation;
use vigie_domain::policy::{Channel, Recipient};
use vigie_domain::values::InvalidValue;

use crate::StoreError;

use super::alarm::{ClosureReportV1, ConditionKeyV1, SeverityV1, SuppressionV1};
use super::{optional_reference, references};

/// What the errors call this record.
const WHAT: &str = "événement d'alarme stocké";

/// The record of `event`.
pub fn encode(event: &AlarmEvent) -> Result<String, StoreError> {
    super::write(&AlarmEventV1::from(event))
}

/// The event of a stored record.
pub fn decode(record: &str) -> Result<AlarmEvent, StoreError> {
    let stored: AlarmEventV1 = super::read(record, WHAT)?;
    AlarmEvent::try_from(stored).map_err(|e| super::unreadable(WHAT, e))
}

/// One step of an alarm (format 1); what happened is flattened beside who and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlarmEventV1 {
    pub alarm: u64,
    pub at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    #[serde(flatten)]
    pub kind: EventKindV1,
}

/// What happened to an alarm (format 1), named by `event`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKindV1 {
    Raised {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        site: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        equipment: Option<String>,
        condition: ConditionKeyV1,
        severity: SeverityV1,
        flapping: bool,
    },
    Suppressed {
        #[serde(flatten)]
        suppression: SuppressionV1,
    },
    Notified {
        severity: SeverityV1,
    },
    SeverityChanged {
        from: SeverityV1,
        to: SeverityV1,
        cause: SeverityCauseV1,
    },
    FlappingStarted,
    FlappingEnded,
    CamerasChanged {
        cameras: Vec<String>,
    },
    Acknowledged,
    TakenInCharge,
    Resolved {
        since: i64,
    },
    Closed {
        #[serde(flatten)]
        report: ClosureReportV1,
    },
    Escalated {
        step: String,
        told: Vec<ToldV1>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        missing: Vec<MissingV1>,
        /// Added in format 1 by the territories (issue 26): absent from older rows.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        routed: Vec<RoutedV1>,
        /// Added in format 1 by the conference call (issue 26): absent from older rows.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        conference: Option<InvitationV1>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ticket: Option<u64>,
    },
    NotificationFailed {
        key: String,
        recipient: String,
        /// Absent from the events stored before it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        channel: ChannelV1,
        error: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fallback: Option<ChannelV1>,
    },
}

stored_enum! {
    /// Why a severity changed (format 1).
    SeverityCauseV1 for SeverityCause { Worsened, Unresolved }
}

stored_enum! {
    /// A delivery channel (format 1); also in the ticket events and the outbox.
    ChannelV1 for Channel { Sms, Email, Webhook, Console, Voice }
}

stored_enum! {
    /// A role an escalation step tells (format 1).
    RecipientV1 for Recipient {
        OnCallTechnician,
        OnCallManager,
        TechnicalManager,
        OperationsManager,
        ReferentEngineer,
        Supervision,
        TechnicalTeam,
        SecurityManager,
        TechnicalContact,
        Cio,
        Management,
    }
}

/// One person, the console or a webhook told by one channel (format 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToldV1 {
    pub recipient: String,
    pub name: String,
    pub channel: ChannelV1,
}

/// An invitation to an emergency conference call (format 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationV1 {
    pub bridge: String,
    pub room: String,
    pub dial_in: String,
    pub pin: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join_url: Option<String>,
}

impl From<&Invitation> for InvitationV1 {
    fn from(invitation: &Invitation) -> InvitationV1 {
        InvitationV1 {
            bridge: invitation.bridge.clone(),
            room: invitation.room.clone(),
            dial_in: invitation.dial_in.clone(),
            pin: invitation.pin.clone(),
            join_url: invitation.join_url.clone(),
        }
    }
}

impl From<InvitationV1> for Invitation {
    fn from(stored: InvitationV1) -> Invitation {
        Invitation {
            bridge: stored.bridge,
            room: stored.room,
            dial_in: stored.dial_in,
            pin: stored.pin,
            join_url: stored.join_url,
        }
    }
}

/// An on-call role answered through a fallback, and how (format 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutedV1 {
    pub role: RecipientV1,
    pub note: String,
}

/// A role nobody could be told as, and why (format 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissingV1 {
    pub role: RecipientV1,
    pub reason: String,
}

impl From<&AlarmEvent> for AlarmEventV1 {
    fn from(event: &AlarmEvent) -> AlarmEventV1 {
        AlarmEventV1 {
            alarm: event.alarm,
            at: event.at,
            by: event.by.as_ref().map(ToString::to_string),
            kind: EventKindV1::from(&event.kind),
        }
    }
}

impl TryFrom<AlarmEventV1> for AlarmEvent {
    type Error = InvalidValue;

    fn try_from(stored: AlarmEventV1) -> Result<AlarmEvent, InvalidValue> {
        Ok(AlarmEvent {
            alarm: stored.alarm,
            at: stored.at,
            by: optional_reference("by", stored.by)?,
            kind: stored.kind.try_into()?,
        })
    }
}

impl From<&EventKind> for EventKindV1 {
    fn from(kind: &EventKind) -> EventKindV1 {
        match kind {
            EventKind::Raised {
                site,
                equipment,
                condition,
                severity,
                flapping,
            } => EventKindV1::Raised {
                site: site.as_ref().map(ToString::to_string),
                equipment: equipment.as_ref().map(ToString::to_string),
                condition: condition.into(),
                severity: (*severity).into(),
                flapping: *flapping,
            },
            EventKind::Suppressed { suppression } => EventKindV1::Suppressed {
                suppression: suppression.into(),
            },
            EventKind::Notified { severity } => EventKindV1::Notified {
                severity: (*severity).into(),
            },
            EventKind::SeverityChanged { from, to, cause } => EventKindV1::SeverityChanged {
                from: (*from).into(),
                to: (*to).into(),
                cause: (*cause).into(),
            },
            EventKind::FlappingStarted => EventKindV1::FlappingStarted,
            EventKind::FlappingEnded => EventKindV1::FlappingEnded,
            EventKind::CamerasChanged { cameras } => EventKindV1::CamerasChanged {
                cameras: cameras.iter().map(ToString::to_string).collect(),
            },
            EventKind::Acknowledged => EventKindV1::Acknowledged,
            EventKind::TakenInCharge => EventKindV1::TakenInCharge,
            EventKind::Resolved { since } => EventKindV1::Resolved { since: *since },
            EventKind::Closed { report } => EventKindV1::Closed {
                report: report.into(),
            },
            EventKind::Escalated {
                step,
                told,
                missing,
                routed,
                conference,
                ticket,
            } => EventKindV1::Escalated {
                step: step.clone(),
                told: told.iter().map(ToldV1::from).collect(),
                missing: missing.iter().map(MissingV1::from).collect(),
                routed: routed.iter().map(RoutedV1::from).collect(),
                conference: conference.as_ref().map(InvitationV1::from),
                ticket: *ticket,
            },
            EventKind::NotificationFailed {
                key,
                recipient,
                name,
                channel,
                error,
                fallback,
            } => EventKindV1::NotificationFailed {
                key: key.clone(),
                recipient: recipient.clone(),
                name: name.clone(),
                channel: (*channel).into(),
                error: error.clone(),
                fallback: fallback.map(ChannelV1::from),
            },
        }
    }
}

impl TryFrom<EventKindV1> for EventKind {
    type Error = InvalidValue;

    fn try_from(stored: EventKindV1) -> Result<EventKind, InvalidValue> {
        Ok(match stored {
            EventKindV1::Raised {
                site,
                equipment,
                condition,
                severity,
                flapping,
            } => EventKind::Raised {
                site: optional_reference("site", site)?,
                equipment: optional_reference("equipment", equipment)?,
                condition: condition.into(),
                severity: severity.into(),
                flapping,
            },
            EventKindV1::Suppressed { suppression } => EventKind::Suppressed {
                suppression: suppression.try_into()?,
            },
            EventKindV1::Notified { severity } => EventKind::Notified {
                severity: severity.into(),
            },
            EventKindV1::SeverityChanged { from, to, cause } => EventKind::SeverityChanged {
                from: from.into(),
                to: to.into(),
                cause: cause.into(),
            },
            EventKindV1::FlappingStarted => EventKind::FlappingStarted,
            EventKindV1::FlappingEnded => EventKind::FlappingEnded,
            EventKindV1::CamerasChanged { cameras } => EventKind::CamerasChanged {
                cameras: references("cameras", cameras)?,
            },
            EventKindV1::Acknowledged => EventKind::Acknowledged,
            EventKindV1::TakenInCharge => EventKind::TakenInCharge,
            EventKindV1::Resolved { since } => EventKind::Resolved { since },
            EventKindV1::Closed { report } => EventKind::Closed {
                report: report.into(),
            },
            EventKindV1::Escalated {
                step,
                told,
                missing,
                routed,
                conference,
                ticket,
            } => EventKind::Escalated {
                step,
                told: told.into_iter().map(Told::from).collect(),
                missing: missing.into_iter().map(Missing::from).collect(),
                routed: routed.into_iter().map(Routed::from).collect(),
                conference: conference.map(Invitation::from),
                ticket,
            },
            EventKindV1::NotificationFailed {
                key,
                recipient,
                name,
                channel,
                error,
                fallback,
            } => EventKind::NotificationFailed {
                key,
                recipient,
                name,
                channel: channel.into(),
                error,
                fallback: fallback.map(Channel::from),
            },
        })
    }
}

impl From<&Told> for ToldV1 {
    fn from(told: &Told) -> ToldV1 {
        ToldV1 {
            recipient: told.recipient.clone(),
            name: told.name.clone(),
            channel: told.channel.into(),
        }
    }
}

impl From<ToldV1> for Told {
    fn from(stored: ToldV1) -> Told {
        Told {
            recipient: stored.recipient,
            name: stored.name,
            channel: stored.channel.into(),
        }
    }
}

impl From<&Missing> for MissingV1 {
    fn from(missing: &Missing) -> MissingV1 {
        MissingV1 {
            role: missing.role.into(),
            reason: missing.reason.clone(),
        }
    }
}

impl From<&Routed> for RoutedV1 {
    fn from(routed: &Routed) -> RoutedV1 {
        RoutedV1 {
            role: routed.role.into(),
            note: routed.note.clone(),
        }
    }
}

impl From<RoutedV1> for Routed {
    fn from(stored: RoutedV1) -> Routed {
        Routed {
            role: stored.role.into(),
            note: stored.note,
        }
    }
}

impl From<MissingV1> for Missing {
    fn from(stored: MissingV1) -> Missing {
        Missing {
            role: stored.role.into(),
            reason: stored.reason,
        }
    }
}
