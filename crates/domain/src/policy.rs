//! The policy: every number of the procedures as data (DEC-1…DEC-5, ALR, NOT, CM, INC, SAV).
//! `policy/default.toml` is the default, shipped in the binary; a contract or a site may
//! replace any value with an overlay in the same shape ([`Policy::with_overlay`]). A policy
//! that does not parse, or is inconsistent, is refused with a message naming the value.

use std::collections::{BTreeMap, BTreeSet};

use jiff::SignedDuration;
use jiff::civil::{Date, Time};
use serde::{Deserialize, Serialize};

use crate::calendar::{Calendar, CalendarError, Holidays, Rule, WeeklyHours};
use crate::inventory::{ContractOption, ContractTier, LocalTime, Priority, SlaMeasure, Weekday};
use crate::text::french_serde_message;
use crate::values::{DurationSpec, TimeZoneName};

/// The default policy's text.
pub const DEFAULT_POLICY: &str = include_str!("../../../policy/default.toml");

/// Alarm severity (DEC-2: Critical / Major / Minor everywhere).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Critical,
    Major,
    Minor,
}

impl Severity {
    pub fn key(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Major => "major",
            Severity::Minor => "minor",
        }
    }

    /// In French, for people.
    pub fn label(self) -> &'static str {
        match self {
            Severity::Critical => "Critique",
            Severity::Major => "Majeure",
            Severity::Minor => "Mineure",
        }
    }
}

/// The most times a step is sent again (a bound on pages per alarm).
pub const MAX_REPEATS: u32 = 48;

/// Who an escalation step notifies, by role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recipient {
    /// The technician on call (a rotation among technicians).
    OnCallTechnician,
    OnCallManager,
    TechnicalManager,
    OperationsManager,
    ReferentEngineer,
    Supervision,
    /// Every technician (NOT-6: the technical team's daily digest).
    TechnicalTeam,
    /// The site's security manager (client side).
    SecurityManager,
    /// The site's technical contact (client side).
    TechnicalContact,
    /// The client's CIO.
    Cio,
    /// The client's management.
    Management,
}

impl Recipient {
    /// Whether the role is held by a client's contact (told only about that client's sites).
    pub fn is_client_side(self) -> bool {
        matches!(
            self,
            Recipient::SecurityManager
                | Recipient::TechnicalContact
                | Recipient::Cio
                | Recipient::Management
        )
    }
}

/// Delivery channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Sms,
    Email,
    Webhook,
    Console,
    /// A phone call through the voice gateway, which reads a short message and hears the
    /// keypad (issue 26, item 3).
    Voice,
}

impl Channel {
    /// In French, for people.
    pub fn label(self) -> &'static str {
        match self {
            Channel::Sms => "SMS",
            Channel::Email => "email",
            Channel::Webhook => "webhook",
            Channel::Console => "console",
            Channel::Voice => "appel vocal",
        }
    }

    /// A channel that reaches one person at their phone or mailbox (not a system or the
    /// console).
    pub fn reaches_a_person(self) -> bool {
        matches!(self, Channel::Sms | Channel::Email | Channel::Voice)
    }
}

/// What makes an escalation step unnecessary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Unless {
    #[default]
    Nothing,
    Acknowledged,
    /// Acknowledged and taken in charge (NOT-7: "acquittée et traitée").
    Handled,
}

/// When an escalation step falls due, other than a delay after the alarm is raised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepMoment {
    AcknowledgementDeadline,
}

/// The kind of ticket a step opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketKind {
    Maintenance,
    Intervention,
}

/// A deadline as the policy writes it: business time or whole business days, in a calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deadline {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within: Option<DurationSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within_days: Option<u32>,
    pub calendar: String,
}

/// One step of an escalation chain (DEC-3: steps are data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationStep {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<DurationSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<StepMoment>,
    #[serde(default)]
    pub unless: Unless,
    pub notify: Vec<Recipient>,
    pub channels: Vec<Channel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only_if_contract_has: Option<ContractOption>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opens_ticket: Option<TicketKind>,
    /// Sent again this long after, while the alarm is not acknowledged…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat_every: Option<DurationSpec>,
    /// …at most this many times.
    #[serde(default)]
    pub repeat: u32,
    /// The step's emails wait for the next daily digest (NOT-6) instead of leaving at once:
    /// one email per recipient and day, listing every alarm of the day.
    #[serde(default)]
    pub digest: bool,
    /// NOT-4 (issue 26, item 2): the step invites its people to an emergency conference call
    /// (a bridge of `[conference]`: its number, PIN and join link) instead of paging them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub conference: bool,
    /// The client's roles of this step (security manager, CIO…) are told only if the
    /// contract has this option; the integrator's always are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_only_if_contract_has: Option<ContractOption>,
}

/// An emergency conference bridge (NOT-4, issue 26 item 2): a dial-in number and PIN, and a
/// join link for a video service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConferenceBridge {
    pub name: String,
    /// The number to call, as it is dialled (`+33 1 84 88 00 00`).
    pub dial_in: String,
    pub pin: String,
    /// The one-tap join link; `{room}` becomes the conference's room (`vigie-alarme-12`),
    /// `{pin}` the PIN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join_url: Option<String>,
}

/// The emergency conference call (NOT-4): the bridges, and whom a conference started from
/// the console invites.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ConferenceRules {
    #[serde(default)]
    pub bridges: Vec<ConferenceBridge>,
    /// The step a conference started by hand fires (same keys as an escalation step; its
    /// timing is ignored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_demand: Option<EscalationStep>,
}

/// An invitation to a conference: what a page carries so that its people can join.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    pub bridge: String,
    pub room: String,
    pub dial_in: String,
    pub pin: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join_url: Option<String>,
}

impl ConferenceRules {
    /// The most bridges a policy lists.
    pub const MAX_BRIDGES: usize = 50;

    /// The invitation to the conference of `room`, on the bridge `index` picks among them
    /// (alarm or ticket number, so that two conferences at once use two bridges when there
    /// are two); None without a bridge.
    pub fn invitation(&self, room: &str, index: u64) -> Option<Invitation> {
        if self.bridges.is_empty() {
            return None;
        }
        let bridge = &self.bridges[(index % self.bridges.len() as u64) as usize];
        Some(Invitation {
            bridge: bridge.name.clone(),
            room: room.to_owned(),
            dial_in: bridge.dial_in.clone(),
            pin: bridge.pin.clone(),
            join_url: bridge
                .join_url
                .as_ref()
                .map(|url| url.replace("{room}", room).replace("{pin}", &bridge.pin)),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarSpec {
    time_zone: TimeZoneName,
    #[serde(default)]
    always: bool,
    #[serde(default)]
    days: Vec<Weekday>,
    opens: Option<LocalTime>,
    closes: Option<LocalTime>,
    #[serde(default)]
    holidays: HolidaySpec,
    #[serde(default)]
    closed_days: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
enum HolidaySpec {
    #[default]
    None,
    France,
    AlsaceMoselle,
}

/// Alarm thresholds (ALR-1…ALR-3, ALR-7, ALR-8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    pub camera_offline_after: DurationSpec,
    pub disk_major_percent: u8,
    pub disk_critical_percent: u8,
    pub temperature_major_celsius: i16,
    pub temperature_critical_celsius: i16,
    pub certificate_expiry_within: DurationSpec,
    /// ALR-7: a clock further than this from ours is out of sync.
    pub clock_max_offset: DurationSpec,
    /// Hysteresis: a disk alarm clears only this many points under its threshold.
    pub disk_clear_margin_percent: u8,
    /// Hysteresis: a temperature alarm clears only this many degrees under its threshold.
    pub temperature_clear_margin_celsius: u8,
    pub critical_site_offline_cameras: u32,
    pub max_offline_camera_percent: u8,
    /// ALR-6: a video stream slower than this to answer (RTSP, or as an agent measures it)
    /// has an abnormal latency.
    pub video_stream_latency_ms: u32,
}

/// What the policy says of one equipment model (the `[models."…"]` data): the minimum
/// firmware (ALR-7) and temperature thresholds that replace the policy's (DEC-1: 75 °C).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ModelRules {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_firmware: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature_major_celsius: Option<i16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature_critical_celsius: Option<i16>,
}

/// Severity of each alarm condition (ALR-4…ALR-7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Severities {
    pub priority_camera_signal_lost: Severity,
    pub secondary_camera_signal_lost: Severity,
    pub disk_failure: Severity,
    pub vms_server_unreachable: Severity,
    pub unredundant_power_failure: Severity,
    pub video_stream_latency: Severity,
    pub server_temperature: Severity,
    pub disk_usage: Severity,
    pub equipment_network_loss: Severity,
    pub recording_stopped: Severity,
    pub clock_out_of_sync: Severity,
    pub obsolete_firmware: Severity,
    pub certificate_expiring: Severity,
}

/// The Critical acknowledgement deadline: elapsed time, shorter when raised in open hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenHoursDeadline {
    pub calendar: String,
    pub when_open: DurationSpec,
    pub when_closed: DurationSpec,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Acknowledgements {
    pub critical: OpenHoursDeadline,
    pub major: Deadline,
    pub minor: Deadline,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlarmRules {
    /// How long a condition holds before its alarm is raised (ALR-1: more than 5 minutes).
    pub raise_after: DurationSpec,
    /// How long a condition is gone before its alarm clears.
    pub clear_after: DurationSpec,
    /// This many changes within `flap_window` make a condition flapping: one alarm.
    pub flap_changes: u16,
    pub flap_window: DurationSpec,
    pub major_to_critical_after: DurationSpec,
    pub minor_digest_at: LocalTime,
    pub minor_digest_calendar: String,
    /// The severity of a site whose monitoring path is down (its probe silent): the whole site
    /// unwatched, paged by this severity's chain.
    #[serde(default = "monitoring_lost_default")]
    pub monitoring_lost_severity: Severity,
}

fn monitoring_lost_default() -> Severity {
    Severity::Major
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Escalations {
    #[serde(default)]
    pub critical: Vec<EscalationStep>,
    #[serde(default)]
    pub major: Vec<EscalationStep>,
    #[serde(default)]
    pub minor: Vec<EscalationStep>,
}

/// SLA deadlines of one priority (and what changes for Premium contracts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SlaMeasures {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledgement: Option<Deadline>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub take_charge: Option<Deadline>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_site: Option<Deadline>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intervention_planning: Option<Deadline>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_update: Option<Deadline>,
}

impl SlaMeasures {
    fn get(&self, measure: SlaMeasure) -> Option<&Deadline> {
        match measure {
            SlaMeasure::Acknowledgement => self.acknowledgement.as_ref(),
            SlaMeasure::TakeCharge => self.take_charge.as_ref(),
            SlaMeasure::OnSite => self.on_site.as_ref(),
            SlaMeasure::InterventionPlanning => self.intervention_planning.as_ref(),
            SlaMeasure::ClientUpdate => self.client_update.as_ref(),
        }
    }

    fn all(&self) -> impl Iterator<Item = (SlaMeasure, &Deadline)> {
        [
            SlaMeasure::Acknowledgement,
            SlaMeasure::TakeCharge,
            SlaMeasure::OnSite,
            SlaMeasure::InterventionPlanning,
            SlaMeasure::ClientUpdate,
        ]
        .into_iter()
        .filter_map(|m| self.get(m).map(|d| (m, d)))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SlaLevel {
    #[serde(flatten)]
    pub measures: SlaMeasures,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub premium: Option<SlaMeasures>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaTable {
    pub round_the_clock_calendar: String,
    pub round_the_clock_priorities: BTreeSet<Priority>,
    pub p1: SlaLevel,
    pub p2: SlaLevel,
    pub p3: SlaLevel,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketRules {
    pub paused_while_waiting_for_client: BTreeSet<SlaMeasure>,
    pub closure_reminder_after: Deadline,
    pub auto_close_after_reminder: Deadline,
    pub follow_ups: Vec<Deadline>,
    pub survey_within: Deadline,
    pub post_mortem_within: Deadline,
    /// INC-5: data lost: the client is informed within this (GDPR).
    pub gdpr_information_within: Deadline,
    /// INC-3: the one in charge is warned this long before a deadline.
    pub warning_before: DurationSpec,
    /// INC-4: the one in charge is reminded this long before a client update is due.
    pub update_reminder_before: DurationSpec,
    pub recurrence_window: DurationSpec,
}

/// What the monthly reports call a weak signal and when they recommend preventive
/// maintenance or early replacement (DSH-2, CLO-3): the procedures ask for trends and
/// recommendations without numbers, so every number here is a decision (`docs/reports.md`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportRules {
    /// A disk forecast to reach the Critical threshold within this many days is a signal.
    pub forecast_horizon_days: u32,
    /// No trend is read from fewer daily points.
    pub min_days_of_data: u32,
    /// The least coefficient of determination (R², 0 to 1) of a linear fit to believe its
    /// slope.
    pub min_trend_fit: f64,
    /// A disk falling by more than this many points in a day (purge, disk changed) starts its
    /// trend again from there.
    pub disk_fall_restarts_trend_percent: f64,
    /// A temperature rising by at least this much in 30 days is a signal.
    pub temperature_rise_per_30_days: f64,
    /// A temperature coming within this many degrees of its Major threshold is a signal.
    pub temperature_margin_celsius: f64,
    /// An equipment with at least this many outages in the month…
    pub flapping_min_outages: u32,
    /// …and at least this many times as many as the month before is flapping more and more.
    pub flapping_growth_factor: f64,
    /// This many alarms of one condition on one equipment in the month are a signal.
    pub repeated_alarms_min: u32,
    /// CLO-3: this many alarms on one equipment in the month call for preventive maintenance.
    pub preventive_maintenance_min_alarms: u32,
    /// CLO-3: this many alarms of one condition on one equipment in the month call for early
    /// replacement.
    pub early_replacement_min_repeats: u32,
    /// CLO-3: how many of the most frequently faulty equipment the review lists.
    pub top_equipment: u32,
    /// Bound: weak signals kept per report, the most urgent first.
    pub max_signals: u32,
    /// Bound: recommendations kept per alarm review.
    pub max_recommendations: u32,
}

/// The most days ahead a disk forecast may look, and other outer bounds of `[reports]`.
pub const MAX_FORECAST_HORIZON_DAYS: u32 = 3650;
pub const MAX_REPORT_ITEMS: u32 = 1000;

impl ReportRules {
    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut require = |ok: bool, text: String| {
            if !ok {
                problems.push(format!("reports.{text}"));
            }
        };
        require(
            (1..=MAX_FORECAST_HORIZON_DAYS).contains(&self.forecast_horizon_days),
            format!("forecast_horizon_days : de 1 à {MAX_FORECAST_HORIZON_DAYS} jours"),
        );
        require(
            (3..=366).contains(&self.min_days_of_data),
            "min_days_of_data : de 3 à 366 jours (une tendance demande au moins 3 points)".into(),
        );
        require(
            (0.0..=1.0).contains(&self.min_trend_fit),
            "min_trend_fit : un R² entre 0 et 1".into(),
        );
        require(
            self.disk_fall_restarts_trend_percent > 0.0
                && self.disk_fall_restarts_trend_percent <= 100.0,
            "disk_fall_restarts_trend_percent : plus de 0 et au plus 100 points".into(),
        );
        require(
            self.temperature_rise_per_30_days > 0.0 && self.temperature_rise_per_30_days < 1000.0,
            "temperature_rise_per_30_days : une hausse positive, en °C".into(),
        );
        require(
            (0.0..1000.0).contains(&self.temperature_margin_celsius),
            "temperature_margin_celsius : un écart positif ou nul, en °C".into(),
        );
        require(
            self.flapping_min_outages >= 1,
            "flapping_min_outages : au moins 1 coupure".into(),
        );
        require(
            (1.0..1000.0).contains(&self.flapping_growth_factor),
            "flapping_growth_factor : au moins 1 (autant de coupures que le mois précédent)".into(),
        );
        for (key, value) in [
            ("repeated_alarms_min", self.repeated_alarms_min),
            (
                "preventive_maintenance_min_alarms",
                self.preventive_maintenance_min_alarms,
            ),
            (
                "early_replacement_min_repeats",
                self.early_replacement_min_repeats,
            ),
        ] {
            require(
                value >= 2,
                format!("{key} : au moins 2 (une alarme seule ne se répète pas)"),
            );
        }
        for (key, value) in [
            ("top_equipment", self.top_equipment),
            ("max_signals", self.max_signals),
            ("max_recommendations", self.max_recommendations),
        ] {
            require(
                (1..=MAX_REPORT_ITEMS).contains(&value),
                format!("{key} : de 1 à {MAX_REPORT_ITEMS}"),
            );
        }
        problems
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    version: i64,
    calendar: BTreeMap<String, CalendarSpec>,
    thresholds: Thresholds,
    #[serde(default)]
    models: BTreeMap<String, ModelRules>,
    severity: Severities,
    acknowledgement: Acknowledgements,
    alarm: AlarmRules,
    escalation: Escalations,
    sla: SlaTable,
    ticket: TicketRules,
    reports: ReportRules,
    #[serde(default)]
    conference: ConferenceRules,
}

/// A checked policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub calendars: BTreeMap<String, Calendar>,
    pub thresholds: Thresholds,
    /// Per equipment model, by the model's name as the inventory writes it.
    pub models: BTreeMap<String, ModelRules>,
    pub severity: Severities,
    pub acknowledgement: Acknowledgements,
    pub alarm: AlarmRules,
    pub escalation: Escalations,
    pub sla: SlaTable,
    pub ticket: TicketRules,
    /// Weak signals and recommendations of the monthly reports (DSH-2, CLO-3).
    pub reports: ReportRules,
    /// The emergency conference call (NOT-4).
    pub conference: ConferenceRules,
    /// The policy as a TOML table, for overlays.
    source: toml::Table,
}

/// Why a policy was refused: every problem, each naming its value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("politique refusée : {}", .0.join(" ; "))]
pub struct PolicyError(pub Vec<String>);

fn seconds(duration: DurationSpec) -> SignedDuration {
    SignedDuration::from_secs(i64::try_from(duration.seconds()).unwrap_or(i64::MAX))
}

/// A policy's TOML as a table; a syntax error names its line.
fn read_table(text: &str) -> Result<toml::Table, PolicyError> {
    toml::from_str(text).map_err(|e: toml::de::Error| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
            .unwrap_or(0);
        PolicyError(vec![format!(
            "ligne {line} : {}",
            french_serde_message(e.message())
        )])
    })
}

impl Policy {
    /// The default policy (`policy/default.toml`).
    pub fn default_policy() -> Policy {
        Policy::parse(DEFAULT_POLICY).expect("the default policy is valid")
    }

    /// Parses and checks a whole policy.
    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        Policy::from_table(read_table(text)?)
    }

    /// The default policy with `text` laid over it — TOML of the same shape, any subset: the
    /// configuration's policy file, a version saved from the console (issue 26, item 4) —
    /// checked as a whole; a syntax error names its line.
    pub fn default_with(text: &str) -> Result<Policy, PolicyError> {
        Policy::default_policy().with_overlay(&read_table(text)?)
    }

    /// This policy with `overlay` (a contract's or site's values, same shape, any subset)
    /// laid over it, checked again as a whole.
    pub fn with_overlay(&self, overlay: &toml::Table) -> Result<Policy, PolicyError> {
        let mut table = self.source.clone();
        merge(&mut table, overlay.clone());
        Policy::from_table(table)
    }

    fn from_table(table: toml::Table) -> Result<Policy, PolicyError> {
        let file: PolicyFile = toml::Value::Table(table.clone())
            .try_into()
            .map_err(|e: toml::de::Error| PolicyError(vec![french_serde_message(e.message())]))?;
        let mut problems = Vec::new();
        if file.version != 1 {
            problems.push(format!("version {} inconnue (1 attendue)", file.version));
        }
        let mut calendars = BTreeMap::new();
        for (name, spec) in &file.calendar {
            match build_calendar(name, spec) {
                Ok(calendar) => {
                    calendars.insert(name.clone(), calendar);
                }
                Err(problem) => problems.push(format!("calendrier « {name} » : {problem}")),
            }
        }
        let mut deadline = |place: String, deadline: &Deadline| {
            if !calendars.contains_key(&deadline.calendar) {
                problems.push(format!(
                    "{place} : calendrier « {} » inconnu",
                    deadline.calendar
                ));
            }
            match (deadline.within, deadline.within_days) {
                (Some(_), None) | (None, Some(_)) => {}
                _ => problems.push(format!(
                    "{place} : indiquer soit within (durée), soit within_days (jours ouvrés)"
                )),
            }
        };
        deadline("acknowledgement.major".into(), &file.acknowledgement.major);
        deadline("acknowledgement.minor".into(), &file.acknowledgement.minor);
        for (priority, level) in [
            ("p1", &file.sla.p1),
            ("p2", &file.sla.p2),
            ("p3", &file.sla.p3),
        ] {
            for (measure, d) in level.measures.all() {
                deadline(format!("sla.{priority}.{}", measure_key(measure)), d);
            }
            if let Some(premium) = &level.premium {
                for (measure, d) in premium.all() {
                    deadline(
                        format!("sla.{priority}.premium.{}", measure_key(measure)),
                        d,
                    );
                }
            }
        }
        deadline(
            "ticket.closure_reminder_after".into(),
            &file.ticket.closure_reminder_after,
        );
        deadline(
            "ticket.auto_close_after_reminder".into(),
            &file.ticket.auto_close_after_reminder,
        );
        for (i, d) in file.ticket.follow_ups.iter().enumerate() {
            deadline(format!("ticket.follow_ups[{}]", i + 1), d);
        }
        deadline("ticket.survey_within".into(), &file.ticket.survey_within);
        deadline(
            "ticket.post_mortem_within".into(),
            &file.ticket.post_mortem_within,
        );
        deadline(
            "ticket.gdpr_information_within".into(),
            &file.ticket.gdpr_information_within,
        );
        for (place, name) in [
            (
                "acknowledgement.critical.calendar",
                &file.acknowledgement.critical.calendar,
            ),
            (
                "alarm.minor_digest_calendar",
                &file.alarm.minor_digest_calendar,
            ),
            (
                "sla.round_the_clock_calendar",
                &file.sla.round_the_clock_calendar,
            ),
        ] {
            if !calendars.contains_key(name) {
                problems.push(format!("{place} : calendrier « {name} » inconnu"));
            }
        }
        let t = &file.thresholds;
        if t.disk_major_percent >= t.disk_critical_percent || t.disk_critical_percent > 100 {
            problems.push("thresholds : disk_major_percent doit être inférieur à disk_critical_percent, lui-même au plus 100".into());
        }
        if t.temperature_major_celsius >= t.temperature_critical_celsius {
            problems.push("thresholds : temperature_major_celsius doit être inférieur à temperature_critical_celsius".into());
        }
        if t.max_offline_camera_percent > 100 {
            problems.push("thresholds : max_offline_camera_percent au plus 100".into());
        }
        for (model, rules) in &file.models {
            let major = rules
                .temperature_major_celsius
                .unwrap_or(t.temperature_major_celsius);
            let critical = rules
                .temperature_critical_celsius
                .unwrap_or(t.temperature_critical_celsius);
            if major >= critical {
                problems.push(format!("models « {model} » : le seuil majeur de température ({major} °C) doit être inférieur au seuil critique ({critical} °C)"));
            }
            if let Some(version) = &rules.min_firmware
                && crate::alarm::rules::FirmwareVersion::parse(version).is_none()
            {
                problems.push(format!("models « {model} » : min_firmware « {version} » n'est pas une version (chiffres séparés par des points)"));
            }
        }
        if t.disk_clear_margin_percent >= t.disk_major_percent {
            problems.push(
                "thresholds : disk_clear_margin_percent doit être inférieur à disk_major_percent"
                    .into(),
            );
        }
        if file.alarm.flap_changes < 2 {
            problems.push(format!(
                "alarm.flap_changes : {} ; au moins 2 changements (aller et retour)",
                file.alarm.flap_changes
            ));
        }
        if file.alarm.flap_window.seconds() == 0 {
            problems.push("alarm.flap_window : une fenêtre nulle n'a pas de sens".into());
        }
        if file.acknowledgement.critical.when_open.seconds() == 0
            || file.acknowledgement.critical.when_closed.seconds() == 0
        {
            problems.push(
                "acknowledgement.critical : un délai d'acquittement nul n'a pas de sens".into(),
            );
        }
        for (severity, steps) in [
            ("critical", &file.escalation.critical),
            ("major", &file.escalation.major),
            ("minor", &file.escalation.minor),
        ] {
            if steps.is_empty() {
                problems.push(format!(
                    "escalation.{severity} : au moins une étape (NOT-1 : toute alerte est notifiée)"
                ));
            }
            let mut names = BTreeSet::new();
            for step in steps {
                let place = format!("escalation.{severity} « {} »", step.name);
                if !names.insert(step.name.as_str()) {
                    problems.push(format!("{place} : deux étapes portent ce nom"));
                }
                if step.name.is_empty()
                    || step.name.len() > 64
                    || !step
                        .name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                {
                    problems.push(format!(
                        "{place} : nom d'étape en lettres sans accent, chiffres, - ou _ (64 au plus)"
                    ));
                }
                if step.digest && step.channels.iter().any(|c| *c != Channel::Email) {
                    problems.push(format!(
                        "{place} : un rapport quotidien (digest) part par email seulement"
                    ));
                }
                match (step.repeat_every, step.repeat) {
                    (None, 0) => {}
                    (Some(every), 1..=MAX_REPEATS) if every.seconds() >= 60 => {}
                    _ => problems.push(format!(
                        "{place} : repeat_every (au moins 1 min) et repeat (1 à {MAX_REPEATS}) vont ensemble"
                    )),
                }
                match (step.after, step.at) {
                    (Some(_), None) | (None, Some(_)) => {}
                    _ => problems.push(format!("{place} : indiquer soit after (délai), soit at")),
                }
                if step.notify.is_empty() || step.channels.is_empty() {
                    problems.push(format!("{place} : destinataires et canaux obligatoires"));
                }
            }
        }
        problems.extend(file.reports.problems());
        if file.conference.bridges.len() > ConferenceRules::MAX_BRIDGES {
            problems.push(format!(
                "conference.bridges : {} ponts au plus",
                ConferenceRules::MAX_BRIDGES
            ));
        }
        let mut bridge_names = BTreeSet::new();
        for bridge in &file.conference.bridges {
            let place = format!("conference.bridges « {} »", bridge.name);
            if !bridge_names.insert(bridge.name.as_str()) || bridge.name.trim().is_empty() {
                problems.push(format!("{place} : un nom, différent pour chaque pont"));
            }
            if bridge.dial_in.trim().is_empty()
                || !bridge
                    .dial_in
                    .chars()
                    .all(|c| c.is_ascii_digit() || " +.-()".contains(c))
            {
                problems.push(format!(
                    "{place} : dial_in est un numéro de téléphone (chiffres, espaces, +)"
                ));
            }
            if bridge.pin.is_empty() || !bridge.pin.chars().all(|c| c.is_ascii_digit()) {
                problems.push(format!("{place} : pin en chiffres"));
            }
            if let Some(url) = &bridge.join_url
                && !url.starts_with("https://")
            {
                problems.push(format!("{place} : join_url commence par https://"));
            }
        }
        if let Some(step) = &file.conference.on_demand {
            if step.notify.is_empty() || step.channels.is_empty() {
                problems.push("conference.on_demand : destinataires et canaux obligatoires".into());
            }
            // Its timers are told from the chains' by name: a shared name would fire a
            // chain's step as if asked from the console, whatever its `unless`.
            let chains = [
                &file.escalation.critical,
                &file.escalation.major,
                &file.escalation.minor,
            ];
            if chains
                .iter()
                .any(|steps| steps.iter().any(|s| s.name == step.name))
            {
                problems.push(format!(
                    "conference.on_demand : le nom « {} » est déjà celui d'une étape d'escalade",
                    step.name
                ));
            }
        }
        if !problems.is_empty() {
            return Err(PolicyError(problems));
        }
        Ok(Policy {
            calendars,
            thresholds: file.thresholds,
            models: file.models,
            severity: file.severity,
            acknowledgement: file.acknowledgement,
            alarm: file.alarm,
            escalation: file.escalation,
            sla: file.sla,
            ticket: file.ticket,
            reports: file.reports,
            conference: file.conference,
            source: table,
        })
    }

    /// Refuses escalation steps that notify a role nobody holds (`held`: the roles present in
    /// the inventory; the on-call technician is held when someone is a technician).
    pub fn check_recipients(&self, held: &BTreeSet<Recipient>) -> Result<(), PolicyError> {
        let mut problems = Vec::new();
        for (severity, steps) in [
            ("critical", &self.escalation.critical),
            ("major", &self.escalation.major),
            ("minor", &self.escalation.minor),
        ] {
            for step in steps {
                for recipient in &step.notify {
                    if !held.contains(recipient) {
                        problems.push(format!(
                            "escalation.{severity} « {} » : personne n'a le rôle « {} »",
                            step.name,
                            serde_json::to_value(recipient)
                                .ok()
                                .and_then(|v| v.as_str().map(str::to_owned))
                                .unwrap_or_default()
                        ));
                    }
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(PolicyError(problems))
        }
    }

    /// The policy that applies on a site: this one, then the contract's overlay and SLA
    /// values (CM-4: contract values prevail), then the site's overlay.
    pub fn for_site(
        &self,
        contract: &crate::inventory::Contract,
        site: &crate::inventory::Site,
    ) -> Result<Policy, PolicyError> {
        let policy = self.for_contract(contract)?;
        match &site.policy {
            Some(overlay) => policy.with_overlay(&overlay.0),
            None => Ok(policy),
        }
    }

    /// The policy under a contract: its overlay, then its SLA values (CM-4), without a site's.
    pub fn for_contract(
        &self,
        contract: &crate::inventory::Contract,
    ) -> Result<Policy, PolicyError> {
        let mut policy = match &contract.policy {
            Some(overlay) => self.with_overlay(&overlay.0)?,
            None => self.clone(),
        };
        if !contract.sla.is_empty() {
            let mut sla = toml::Table::new();
            for (priority, measures) in &contract.sla {
                let mut level = toml::Table::new();
                for (measure, within) in measures {
                    // The contract gives a duration; the calendar stays the policy's.
                    let calendar = policy
                        .sla_deadline(*priority, *measure, ContractTier::Standard, false)
                        .map(|d| d.calendar)
                        .unwrap_or_else(|| policy.sla.round_the_clock_calendar.clone());
                    let mut deadline = toml::Table::new();
                    deadline.insert("within".into(), toml::Value::String(within.to_string()));
                    deadline.insert("calendar".into(), toml::Value::String(calendar));
                    level.insert(measure_key(*measure), toml::Value::Table(deadline.clone()));
                    // A contract value prevails over the Premium default too.
                    let mut premium = toml::Table::new();
                    premium.insert(measure_key(*measure), toml::Value::Table(deadline));
                    level
                        .entry("premium")
                        .or_insert_with(|| toml::Value::Table(toml::Table::new()))
                        .as_table_mut()
                        .expect("premium is a table")
                        .extend(premium);
                }
                sla.insert(measure_key_priority(*priority), toml::Value::Table(level));
            }
            let mut overlay = toml::Table::new();
            overlay.insert("sla".into(), toml::Value::Table(sla));
            policy = policy.with_overlay(&overlay)?;
        }
        Ok(policy)
    }

    /// The escalation chain of a severity (DEC-3).
    pub fn chain(&self, severity: Severity) -> &[EscalationStep] {
        match severity {
            Severity::Critical => &self.escalation.critical,
            Severity::Major => &self.escalation.major,
            Severity::Minor => &self.escalation.minor,
        }
    }

    /// When an alarm of `severity` told at `from` must be acknowledged (NOT-3, NOT-5, NOT-6).
    pub fn acknowledgement_due(&self, severity: Severity, from: i64) -> Result<i64, CalendarError> {
        match severity {
            Severity::Critical => self.critical_acknowledgement_due(from),
            Severity::Major => self.due(&self.acknowledgement.major, from),
            Severity::Minor => self.due(&self.acknowledgement.minor, from),
        }
    }

    pub fn calendar(&self, name: &str) -> Option<&Calendar> {
        self.calendars.get(name)
    }

    /// When a deadline falls due from `start`.
    pub fn due(&self, deadline: &Deadline, start: i64) -> Result<i64, CalendarError> {
        let calendar = self.calendars.get(&deadline.calendar).ok_or_else(|| {
            CalendarError::Invalid(format!("calendrier « {} » inconnu", deadline.calendar))
        })?;
        match (deadline.within, deadline.within_days) {
            (Some(within), _) => calendar.add(start, seconds(within)),
            (None, Some(days)) => calendar.add_open_days(start, days),
            (None, None) => Err(CalendarError::Invalid("délai sans durée".into())),
        }
    }

    /// The SLA deadline of `measure` for a ticket of `priority` under a contract of `tier`,
    /// round the clock when the contract has that option and the priority is one it covers.
    pub fn sla_deadline(
        &self,
        priority: Priority,
        measure: SlaMeasure,
        tier: ContractTier,
        round_the_clock: bool,
    ) -> Option<Deadline> {
        let level = match priority {
            Priority::P1 => &self.sla.p1,
            Priority::P2 => &self.sla.p2,
            Priority::P3 => &self.sla.p3,
        };
        let premium = (tier == ContractTier::Premium)
            .then_some(level.premium.as_ref())
            .flatten()
            .and_then(|p| p.get(measure));
        let mut deadline = premium.or_else(|| level.measures.get(measure)).cloned()?;
        if round_the_clock && self.sla.round_the_clock_priorities.contains(&priority) {
            deadline.calendar = self.sla.round_the_clock_calendar.clone();
        }
        Some(deadline)
    }

    /// The Major and Critical temperature thresholds of an equipment of `model` (DEC-1: the
    /// model's where the policy lists it, else the policy's), in °C.
    pub fn temperature_thresholds(&self, model: Option<&str>) -> (i16, i16) {
        let rules = model.and_then(|model| self.models.get(model));
        let t = &self.thresholds;
        (
            rules
                .and_then(|m| m.temperature_major_celsius)
                .unwrap_or(t.temperature_major_celsius),
            rules
                .and_then(|m| m.temperature_critical_celsius)
                .unwrap_or(t.temperature_critical_celsius),
        )
    }

    /// How alarm conditions are held, cleared and judged flapping.
    pub fn alarm_timing(&self) -> crate::alarm::Timing {
        let ms = |d: DurationSpec| i64::try_from(d.seconds()).unwrap_or(i64::MAX / 1000) * 1000;
        crate::alarm::Timing {
            raise_after_ms: ms(self.alarm.raise_after),
            clear_after_ms: ms(self.alarm.clear_after),
            flap_changes: usize::from(self.alarm.flap_changes),
            flap_window_ms: ms(self.alarm.flap_window),
        }
    }

    /// NOT-3: the acknowledgement deadline of a Critical alarm raised at `raised`.
    pub fn critical_acknowledgement_due(&self, raised: i64) -> Result<i64, CalendarError> {
        let rule = &self.acknowledgement.critical;
        let calendar = self
            .calendars
            .get(&rule.calendar)
            .ok_or_else(|| CalendarError::Invalid(rule.calendar.clone()))?;
        let within = if calendar.is_open(raised) {
            rule.when_open
        } else {
            rule.when_closed
        };
        i64::try_from(seconds(within).as_millis())
            .ok()
            .and_then(|within| raised.checked_add(within))
            .ok_or(CalendarError::OutOfRange)
    }
}

fn measure_key_priority(priority: Priority) -> String {
    serde_json::to_value(priority)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn measure_key(measure: SlaMeasure) -> String {
    serde_json::to_value(measure)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn build_calendar(name: &str, spec: &CalendarSpec) -> Result<Calendar, String> {
    let time_zone = spec.time_zone.time_zone();
    if spec.always {
        if !spec.days.is_empty() || spec.opens.is_some() || spec.closes.is_some() {
            return Err("un calendrier « always » n'a ni jours ni horaires".into());
        }
        return Ok(Calendar {
            name: name.into(),
            time_zone,
            rule: Rule::Always,
        });
    }
    let (Some(opens), Some(closes)) = (spec.opens, spec.closes) else {
        return Err("opens et closes sont obligatoires (ou always = true)".into());
    };
    let time =
        |t: LocalTime| Time::new(t.hour as i8, t.minute as i8, 0, 0).map_err(|e| e.to_string());
    let (opens, closes) = (time(opens)?, time(closes)?);
    let windows = spec
        .days
        .iter()
        .map(|day| (jiff_weekday(*day), opens, closes))
        .collect();
    let hours = WeeklyHours::new(windows).map_err(|e| e.to_string())?;
    let mut closed_days = BTreeSet::new();
    for day in &spec.closed_days {
        closed_days.insert(
            day.parse::<Date>().map_err(|_| {
                format!("jour de fermeture invalide « {day} » (attendu AAAA-MM-JJ)")
            })?,
        );
    }
    let holidays = match spec.holidays {
        HolidaySpec::None => Holidays::None,
        HolidaySpec::France => Holidays::France,
        HolidaySpec::AlsaceMoselle => Holidays::AlsaceMoselle,
    };
    Ok(Calendar {
        name: name.into(),
        time_zone,
        rule: Rule::Business {
            hours,
            holidays,
            closed_days,
        },
    })
}

pub fn jiff_weekday(day: Weekday) -> jiff::civil::Weekday {
    match day {
        Weekday::Monday => jiff::civil::Weekday::Monday,
        Weekday::Tuesday => jiff::civil::Weekday::Tuesday,
        Weekday::Wednesday => jiff::civil::Weekday::Wednesday,
        Weekday::Thursday => jiff::civil::Weekday::Thursday,
        Weekday::Friday => jiff::civil::Weekday::Friday,
        Weekday::Saturday => jiff::civil::Weekday::Saturday,
        Weekday::Sunday => jiff::civil::Weekday::Sunday,
    }
}

/// Lays `overlay` over `base`, table by table; any other value is replaced whole.
fn merge(base: &mut toml::Table, overlay: toml::Table) {
    for (key, value) in overlay {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(inner)), toml::Value::Table(over)) => merge(inner, over),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}
