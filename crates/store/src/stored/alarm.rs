//! The alarm record (`alarms.record`, and the alarm a page carries in the outbox), format 1:
//! an alarm as it stands, from its raising to its closure.

use serde::{Deserialize, Serialize};
use vigie_domain::alarm::lifecycle::{Alarm, Closure, ClosureReport, Stamp, Suppression};
use vigie_domain::alarm::rules::{Condition, ConditionKey};
use vigie_domain::policy::Severity;
use vigie_domain::values::InvalidValue;

use crate::StoreError;

use super::{optional_reference, reference, references};

/// What the errors call this record.
const WHAT: &str = "alarme stockée";

/// The record of `alarm`.
pub fn encode(alarm: &Alarm) -> Result<String, StoreError> {
    super::write(&AlarmV1::from(alarm))
}

/// The alarm of a stored record.
pub fn decode(record: &str) -> Result<Alarm, StoreError> {
    let stored: AlarmV1 = super::read(record, WHAT)?;
    Alarm::try_from(stored).map_err(|e| super::unreadable(WHAT, e))
}

/// An alarm (format 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlarmV1 {
    pub id: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equipment: Option<String>,
    pub condition: ConditionKeyV1,
    pub severity: SeverityV1,
    pub flapping: bool,
    pub raised_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notified_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worsened_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppression: Option<SuppressionV1>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cameras: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged: Option<StampV1>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taken_in_charge: Option<StampV1>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closure: Option<ClosureV1>,
}

/// A condition of an equipment and, where it has several, which one (format 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConditionKeyV1 {
    pub condition: ConditionV1,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part: Option<String>,
}

stored_enum! {
    /// What can be wrong with an equipment (format 1).
    ConditionV1 for Condition {
        Unreachable,
        SignalLost,
        RecordingStopped,
        DiskFailure,
        PowerFailure,
        DiskUsage,
        Temperature,
        ClockOutOfSync,
        CertificateExpiring,
        VideoStreamLatency,
        ObsoleteFirmware,
        CamerasOffline,
        NobodyOnCall,
        MailboxUnreadable,
        MonitoringLost,
    }
}

stored_enum! {
    /// An alarm's severity (format 1).
    SeverityV1 for Severity { Critical, Major, Minor }
}

/// Why an alarm is recorded without being notified (format 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum SuppressionV1 {
    Parent {
        parent: String,
    },
    Maintenance {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        window: Option<String>,
        until: i64,
    },
    Tolerance {
        offline: u32,
        tolerated: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        site_alarm: Option<u64>,
    },
}

/// Who did a step, and when (format 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StampV1 {
    pub by: String,
    pub at: i64,
}

/// What the one who closes an alarm said (format 1); also a ticket's resolution and the
/// closure in the events of both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClosureReportV1 {
    pub actions: String,
    pub intervention_minutes: u32,
    pub root_cause: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts_replaced: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub recommendations: String,
}

/// The closure of an alarm (format 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosureV1 {
    pub by: String,
    pub at: i64,
    #[serde(flatten)]
    pub report: ClosureReportV1,
}

impl From<&Alarm> for AlarmV1 {
    fn from(alarm: &Alarm) -> AlarmV1 {
        AlarmV1 {
            id: alarm.id,
            site: alarm.site.as_ref().map(ToString::to_string),
            equipment: alarm.equipment.as_ref().map(ToString::to_string),
            condition: ConditionKeyV1::from(&alarm.condition),
            severity: alarm.severity.into(),
            flapping: alarm.flapping,
            raised_at: alarm.raised_at,
            notified_at: alarm.notified_at,
            worsened_at: alarm.worsened_at,
            suppression: alarm.suppression.as_ref().map(SuppressionV1::from),
            cameras: alarm.cameras.iter().map(ToString::to_string).collect(),
            acknowledged: alarm.acknowledged.as_ref().map(StampV1::from),
            taken_in_charge: alarm.taken_in_charge.as_ref().map(StampV1::from),
            resolved_at: alarm.resolved_at,
            resolved_by: alarm.resolved_by.as_ref().map(ToString::to_string),
            closure: alarm.closure.as_ref().map(ClosureV1::from),
        }
    }
}

impl TryFrom<AlarmV1> for Alarm {
    type Error = InvalidValue;

    fn try_from(stored: AlarmV1) -> Result<Alarm, InvalidValue> {
        Ok(Alarm {
            id: stored.id,
            site: optional_reference("site", stored.site)?,
            equipment: optional_reference("equipment", stored.equipment)?,
            condition: stored.condition.into(),
            severity: stored.severity.into(),
            flapping: stored.flapping,
            raised_at: stored.raised_at,
            notified_at: stored.notified_at,
            worsened_at: stored.worsened_at,
            suppression: stored.suppression.map(Suppression::try_from).transpose()?,
            cameras: references("cameras", stored.cameras)?,
            acknowledged: stored
                .acknowledged
                .map(|stamp| stamp.into_domain("acknowledged"))
                .transpose()?,
            taken_in_charge: stored
                .taken_in_charge
                .map(|stamp| stamp.into_domain("taken_in_charge"))
                .transpose()?,
            resolved_at: stored.resolved_at,
            resolved_by: optional_reference("resolved_by", stored.resolved_by)?,
            closure: stored.closure.map(Closure::try_from).transpose()?,
        })
    }
}

impl From<&ConditionKey> for ConditionKeyV1 {
    fn from(key: &ConditionKey) -> ConditionKeyV1 {
        ConditionKeyV1 {
            condition: key.condition.into(),
            part: key.part.clone(),
        }
    }
}

impl From<ConditionKeyV1> for ConditionKey {
    fn from(stored: ConditionKeyV1) -> ConditionKey {
        ConditionKey {
            condition: stored.condition.into(),
            part: stored.part,
        }
    }
}

impl From<&Suppression> for SuppressionV1 {
    fn from(suppression: &Suppression) -> SuppressionV1 {
        match suppression {
            Suppression::Parent { parent } => SuppressionV1::Parent {
                parent: parent.to_string(),
            },
            Suppression::Maintenance { window, until } => SuppressionV1::Maintenance {
                window: window.clone(),
                until: *until,
            },
            Suppression::Tolerance {
                offline,
                tolerated,
                site_alarm,
            } => SuppressionV1::Tolerance {
                offline: *offline,
                tolerated: *tolerated,
                site_alarm: *site_alarm,
            },
        }
    }
}

impl TryFrom<SuppressionV1> for Suppression {
    type Error = InvalidValue;

    fn try_from(stored: SuppressionV1) -> Result<Suppression, InvalidValue> {
        Ok(match stored {
            SuppressionV1::Parent { parent } => Suppression::Parent {
                parent: reference("suppression.parent", parent)?,
            },
            SuppressionV1::Maintenance { window, until } => {
                Suppression::Maintenance { window, until }
            }
            SuppressionV1::Tolerance {
                offline,
                tolerated,
                site_alarm,
            } => Suppression::Tolerance {
                offline,
                tolerated,
                site_alarm,
            },
        })
    }
}

impl From<&Stamp> for StampV1 {
    fn from(stamp: &Stamp) -> StampV1 {
        StampV1 {
            by: stamp.by.to_string(),
            at: stamp.at,
        }
    }
}

impl StampV1 {
    /// The domain's stamp of the field `field`.
    fn into_domain(self, field: &str) -> Result<Stamp, InvalidValue> {
        Ok(Stamp {
            by: reference(&format!("{field}.by"), self.by)?,
            at: self.at,
        })
    }
}

impl From<&ClosureReport> for ClosureReportV1 {
    fn from(report: &ClosureReport) -> ClosureReportV1 {
        ClosureReportV1 {
            actions: report.actions.clone(),
            intervention_minutes: report.intervention_minutes,
            root_cause: report.root_cause.clone(),
            parts_replaced: report.parts_replaced.clone(),
            recommendations: report.recommendations.clone(),
        }
    }
}

impl From<ClosureReportV1> for ClosureReport {
    fn from(stored: ClosureReportV1) -> ClosureReport {
        ClosureReport {
            actions: stored.actions,
            intervention_minutes: stored.intervention_minutes,
            root_cause: stored.root_cause,
            parts_replaced: stored.parts_replaced,
            recommendations: stored.recommendations,
        }
    }
}

impl From<&Closure> for ClosureV1 {
    fn from(closure: &Closure) -> ClosureV1 {
        ClosureV1 {
            by: closure.by.to_string(),
            at: closure.at,
            report: ClosureReportV1::from(&closure.report),
        }
    }
}

impl TryFrom<ClosureV1> for Closure {
    type Error = InvalidValue;

    fn try_from(stored: ClosureV1) -> Result<Closure, InvalidValue> {
        Ok(Closure {
            by: reference("closure.by", stored.by)?,
            at: stored.at,
            report: stored.report.into(),
        })
    }
}
