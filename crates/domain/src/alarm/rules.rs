//! Alarm rules (ALR-1…ALR-7, DEC-1, DEC-2): which conditions an observation of an equipment
//! reads, and at what severity, from the policy (thresholds and severities, after the
//! contract's and the site's overlays) and the inventory (kind, camera role, checks).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::alarm::Reading;
use crate::inventory::{CameraRole, Equipment, EquipmentKind};
use crate::policy::{ModelRules, Policy, Severity};
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
    /// ALR-6: a video stream answers too slowly.
    VideoStreamLatency,
    /// ALR-7: the firmware is older than the minimum the policy lists for the model.
    ObsoleteFirmware,
    /// ALR-8: more cameras of a site offline than it tolerates (a site's alarm).
    CamerasOffline,
    /// An on-call rotation with nobody on call (an alarm of the integrator's own operation,
    /// about no site: the rotation is the condition's part).
    NobodyOnCall,
    /// The support mailbox cannot be read (SAV-1): the clients' emails open no ticket. Of the
    /// integrator's own operation, about no site.
    MailboxUnreadable,
    /// The site's probe fell silent: the monitoring path is down and the whole site is
    /// unwatched (a site's alarm, distinct from its equipment being down: its checks are
    /// unknown, not counted as the client's downtime).
    MonitoringLost,
}

impl Condition {
    /// Every condition, for reading one back from its key or label.
    pub const ALL: [Condition; 15] = [
        Condition::Unreachable,
        Condition::SignalLost,
        Condition::RecordingStopped,
        Condition::DiskFailure,
        Condition::PowerFailure,
        Condition::DiskUsage,
        Condition::Temperature,
        Condition::ClockOutOfSync,
        Condition::CertificateExpiring,
        Condition::VideoStreamLatency,
        Condition::ObsoleteFirmware,
        Condition::CamerasOffline,
        Condition::NobodyOnCall,
        Condition::MailboxUnreadable,
        Condition::MonitoringLost,
    ];

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
            Condition::VideoStreamLatency => "video_stream_latency",
            Condition::ObsoleteFirmware => "obsolete_firmware",
            Condition::CamerasOffline => "cameras_offline",
            Condition::NobodyOnCall => "nobody_on_call",
            Condition::MailboxUnreadable => "mailbox_unreadable",
            Condition::MonitoringLost => "monitoring_lost",
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
            Condition::VideoStreamLatency => "latence anormale du flux vidéo",
            Condition::ObsoleteFirmware => "micrologiciel obsolète",
            Condition::CamerasOffline => "caméras hors ligne au-delà de la tolérance du site",
            Condition::NobodyOnCall => "astreinte sans personne d'astreinte",
            Condition::MailboxUnreadable => {
                "boîte de support illisible : les emails des clients n'ouvrent plus de tickets"
            }
            Condition::MonitoringLost => {
                "site injoignable : chemin de supervision coupé, le site n'est plus surveillé"
            }
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

/// A firmware version, compared part by part: `V5.7.3 build 230105` and `5.7.10` are
/// `[5, 7, 3, 230105]` and `[5, 7, 10]`; missing parts count as 0, so `5.7` equals `5.7.0`.
/// Only the digits count: letters and other signs separate the parts.
#[derive(Debug, Clone)]
pub struct FirmwareVersion(Vec<u64>);

impl PartialEq for FirmwareVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for FirmwareVersion {}

impl FirmwareVersion {
    /// The longest version text read.
    pub const MAX_LEN: usize = 100;

    /// None when the text holds no number, or is too long.
    pub fn parse(text: &str) -> Option<FirmwareVersion> {
        if text.len() > Self::MAX_LEN {
            return None;
        }
        let parts: Vec<u64> = text
            .split(|c: char| !c.is_ascii_digit())
            .filter(|part| !part.is_empty())
            .map(|part| part.parse().unwrap_or(u64::MAX))
            .take(8)
            .collect();
        (!parts.is_empty()).then_some(FirmwareVersion(parts))
    }
}

impl PartialOrd for FirmwareVersion {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for FirmwareVersion {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let length = self.0.len().max(other.0.len());
        (0..length)
            .map(|i| {
                let a = self.0.get(i).copied().unwrap_or(0);
                let b = other.0.get(i).copied().unwrap_or(0);
                a.cmp(&b)
            })
            .find(|order| order.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    }
}

/// The check that says whether an equipment answers: ping if it is pinged, else its
/// heartbeat, else its agent, else its SNMP, else its TCP port, its HTTP service or its ONVIF
/// service (an equipment supervised only by a service check is unreachable when that check
/// fails). A camera watched only by its RTSP stream raises `SignalLost` when it fails, which
/// counts as offline as `Unreachable` does (ALR-8). Only that one check raises `Unreachable`, so
/// that an equipment down is one alarm, not one per check.
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
    } else if c.tcp.is_some() {
        Some(checks::TCP)
    } else if c.http.is_some() {
        Some(checks::HTTP)
    } else if c.onvif.is_some() {
        Some(checks::ONVIF)
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
                // DEC-1: the model's thresholds, where the policy lists the model.
                let (major, critical) = policy
                    .temperature_thresholds(equipment.model.as_ref().map(|model| model.as_str()));
                let reading = threshold_reading(
                    value,
                    f64::from(major),
                    f64::from(critical),
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
            "stream_latency_ms" => (
                Condition::VideoStreamLatency,
                latency_reading(policy, value),
            ),
            "response_ms" if check == checks::RTSP => (
                Condition::VideoStreamLatency,
                latency_reading(policy, value),
            ),
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
    // ALR-7: the firmware an observation reports, else the inventory's, read with the
    // reachability check (so once a round), against the model's minimum.
    let firmware = observation
        .facts
        .get("firmware")
        .map(String::as_str)
        .or_else(|| {
            (Some(check) == reachability_check(equipment))
                .then_some(equipment.firmware.as_ref().map(|f| f.as_str()))
                .flatten()
        });
    if let Some(firmware) = firmware
        && let Some(minimum) = model_rules(policy, equipment)
            .and_then(|m| m.min_firmware.as_deref())
            .and_then(FirmwareVersion::parse)
    {
        // A version that cannot be read is not called obsolete: nobody can tell.
        let reading = match FirmwareVersion::parse(firmware) {
            Some(version) if version < minimum => Reading::Present(s.obsolete_firmware),
            Some(_) => Reading::Absent,
            None => Reading::Unknown,
        };
        found.push((ConditionKey::whole(Condition::ObsoleteFirmware), reading));
    }
    found
}

/// What the policy lists for the equipment's model, if anything.
fn model_rules<'p>(policy: &'p Policy, equipment: &Equipment) -> Option<&'p ModelRules> {
    policy.models.get(equipment.model.as_ref()?.as_str())
}

/// ALR-6: a video stream's answer time against the policy's limit.
fn latency_reading(policy: &Policy, milliseconds: f64) -> Reading {
    if milliseconds > f64::from(policy.thresholds.video_stream_latency_ms) {
        Reading::Present(policy.severity.video_stream_latency)
    } else {
        Reading::Absent
    }
}
