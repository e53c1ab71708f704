//! Alarm rules (ALR-1…ALR-7, DEC-1, DEC-2): which conditions an observation of an equipment
//! reads, and at what severity, from the policy (thresholds and severities, after the
//! contract's and the site's overlays) and the inventory (kind, camera role, checks).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::alarm::Reading;
use crate::inventory::{CameraRole, Equipment, EquipmentKind};
use crate::policy::{Policy, Severity};
use crate::supervision::{CheckStatus, Observation, checks};

/// What can be wrong with an equipment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// ALR-1, ALR-4, ALR-5: it no longer answers (ping, heartbeat or agent, whichever
    /// governs its reachability).
    Unreachable,
    /// ALR-5, ALR-6: a camera's stream has no video.
    SignalLost,
    /// ALR-4: the recording service or the recording state is down.
    RecordingStopped,
    /// ALR-5: a storage disk failed.
    DiskFailure,
    /// ALR-5: a non-redundant power supply failed.
    PowerFailure,
    /// ALR-2, ALR-6: a disk (per mount) over its threshold.
    DiskUsage,
    /// ALR-3, ALR-6, DEC-1: a temperature (per sensor) over its threshold.
    Temperature,
    /// ALR-7: the equipment's clock is off.
    ClockOutOfSync,
    /// ALR-7: a TLS certificate expires within the policy's delay.
    CertificateExpiring,
}

impl Condition {
    pub fn key(self) -> &'static str {
        match self {
            Condition::Unreachable => "unreachable",
            Condition::SignalLost => "signal_lost",
            Condition::RecordingStopped => "recording_stopped",
            Condition::DiskFailure => "disk_failure",
            Condition::PowerFailure => "power_failure",
            Condition::DiskUsage => "disk_usage",
            Condition::Temperature => "temperature",
            Condition::ClockOutOfSync => "clock_out_of_sync",
            Condition::CertificateExpiring => "certificate_expiring",
        }
    }

    /// In French, for people.
    pub fn label(self) -> &'static str {
        match self {
            Condition::Unreachable => "équipement injoignable",
            Condition::SignalLost => "perte du signal vidéo",
            Condition::RecordingStopped => "enregistrement arrêté",
            Condition::DiskFailure => "panne de disque",
            Condition::PowerFailure => "panne d'alimentation",
            Condition::DiskUsage => "disque presque plein",
            Condition::Temperature => "température élevée",
            Condition::ClockOutOfSync => "horloge désynchronisée",
            Condition::CertificateExpiring => "certificat bientôt expiré",
        }
    }
}

/// One condition of one equipment: the condition and, where an equipment has several, which
/// one (a disk's mount, a temperature sensor, a service).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ConditionKey {
    pub condition: Condition,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part: Option<String>,
}

impl ConditionKey {
    pub fn whole(condition: Condition) -> ConditionKey {
        ConditionKey {
            condition,
            part: None,
        }
    }
}

impl fmt::Display for ConditionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.part {
            Some(part) => write!(f, "{}:{part}", self.condition.key()),
            None => f.write_str(self.condition.key()),
        }
    }
}

/// The check that says whether an equipment answers: ping if it is pinged, else its
/// heartbeat, else its agent, else its SNMP. Only that one raises `Unreachable`, so that an
/// equipment down is one alarm, not one per check.
pub fn reachability_check(equipment: &Equipment) -> Option<&'static str> {
    let c = &equipment.checks;
    if c.ping.is_some() {
        Some(checks::PING)
    } else if c.heartbeat.is_some() {
        Some(checks::HEARTBEAT)
    } else if c.agent.is_some() {
        Some(checks::AGENT)
    } else if c.snmp.is_some() {
        Some(checks::SNMP)
    } else {
        None
    }
}

fn status_reading(status: Option<CheckStatus>, severity: Severity) -> Option<Reading> {
    Some(match status? {
        CheckStatus::Down => Reading::Present(severity),
        CheckStatus::Up => Reading::Absent,
        CheckStatus::Unknown => Reading::Unknown,
    })
}

/// The severity of losing this equipment (ALR-4, ALR-5, ALR-6): a priority camera's signal
/// is Critical, a secondary one's Major (a camera of unstated role is priority, SAV-4); a VMS
/// server unreachable is Critical; any other equipment's network loss is the policy's.
fn loss_severity(policy: &Policy, equipment: &Equipment) -> Severity {
    let s = &policy.severity;
    match (equipment.kind, equipment.effective_camera_role()) {
        (EquipmentKind::Camera, Some(CameraRole::Secondary)) => s.secondary_camera_signal_lost,
        (EquipmentKind::Camera, _) => s.priority_camera_signal_lost,
        (EquipmentKind::VmsServer, _) => s.vms_server_unreachable,
        _ => s.equipment_network_loss,
    }
}

/// A value against a Major and a Critical threshold, with a hysteresis margin once the
/// condition holds (`holding`): it stays present until the value is `margin` under the Major
/// threshold.
fn threshold_reading(
    value: f64,
    major: f64,
    critical: f64,
    margin: f64,
    holding: bool,
    major_severity: Severity,
) -> Reading {
    if value >= critical {
        Reading::Present(Severity::Critical)
    } else if value >= major || (holding && value > major - margin) {
        Reading::Present(major_severity)
    } else {
        Reading::Absent
    }
}

/// What `observation` says of each condition of `equipment`. `holding` tells whether a
/// condition already holds (pending or raised), for the hysteresis of thresholds. Checks and
/// samples that no rule reads give nothing.
pub fn readings(
    policy: &Policy,
    equipment: &Equipment,
    observation: &Observation,
    holding: &dyn Fn(&ConditionKey) -> bool,
) -> Vec<(ConditionKey, Reading)> {
    let mut found = Vec::new();
    let check = observation.check.as_str();
    let status = observation.status;
    let s = &policy.severity;
    let t = &policy.thresholds;
    if Some(check) == reachability_check(equipment)
        && let Some(reading) = status_reading(status, loss_severity(policy, equipment))
    {
        found.push((ConditionKey::whole(Condition::Unreachable), reading));
    }
    let whole = |condition| ConditionKey::whole(condition);
    let by_status = match check {
        checks::RTSP => Some((
            whole(Condition::SignalLost),
            loss_severity(policy, equipment),
        )),
        "snmp.recording" => Some((whole(Condition::RecordingStopped), s.recording_stopped)),
        "snmp.disk_health" => Some((whole(Condition::DiskFailure), s.disk_failure)),
        "snmp.power_supply" => Some((whole(Condition::PowerFailure), s.unredundant_power_failure)),
        service if service.starts_with("service:") => Some((
            ConditionKey {
                condition: Condition::RecordingStopped,
                part: Some(service["service:".len()..].to_owned()),
            },
            s.recording_stopped,
        )),
        _ => None,
    };
    if let Some((key, severity)) = by_status
        && let Some(reading) = status_reading(status, severity)
    {
        found.push((key, reading));
    }
    for sample in &observation.samples {
        let name = sample.name.as_str();
        let (metric, part) = match name.split_once(':') {
            Some((metric, part)) => (metric, Some(part.to_owned())),
            None => (name, None),
        };
        let value = sample.value;
        let (condition, reading) = match metric {
            "disk_used_percent" => {
                let key = ConditionKey {
                    condition: Condition::DiskUsage,
                    part: part.clone(),
                };
                let reading = threshold_reading(
                    value,
                    f64::from(t.disk_major_percent),
                    f64::from(t.disk_critical_percent),
                    f64::from(t.disk_clear_margin_percent),
                    holding(&key),
                    s.disk_usage,
                );
                (Condition::DiskUsage, reading)
            }
            "temperature_celsius" => {
                let key = ConditionKey {
                    condition: Condition::Temperature,
                    part: part.clone(),
                };
                let reading = threshold_reading(
                    value,
                    f64::from(t.temperature_major_celsius),
                    f64::from(t.temperature_critical_celsius),
                    f64::from(t.temperature_clear_margin_celsius),
                    holding(&key),
                    s.server_temperature,
                );
                (Condition::Temperature, reading)
            }
            "clock_offset_ms" => {
                let limit = t.clock_max_offset.seconds() as f64 * 1000.0;
                let reading = if value.abs() > limit {
                    Reading::Present(s.clock_out_of_sync)
                } else {
                    Reading::Absent
                };
                (Condition::ClockOutOfSync, reading)
            }
            "certificate_days_left" => {
                let within_days = t.certificate_expiry_within.seconds() as f64 / 86_400.0;
                let reading = if value < within_days {
                    Reading::Present(s.certificate_expiring)
                } else {
                    Reading::Absent
                };
                (Condition::CertificateExpiring, reading)
            }
            _ => continue,
        };
        found.push((ConditionKey { condition, part }, reading));
    }
    found
}
