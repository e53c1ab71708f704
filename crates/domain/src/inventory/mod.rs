//! The integrator's inventory: clients, their contracts, contacts and sites, the equipment on
//! each site, and the integrator's own staff. Each object is named by a stable [`Reference`].
//!
//! The same record types are read from the inventory file, received and returned by the API,
//! and stored; serde's `deny_unknown_fields` makes a typo an error rather than a silent loss.

pub mod check;
pub mod file;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::values::{
    DurationSpec, EmailAddress, InvalidValue, Name, PhoneNumber, Reference, Text, TimeZoneName,
};

/// The kinds of inventory object, in the order an import applies them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    Client,
    Contact,
    Contract,
    Staff,
    Site,
    Equipment,
    Territory,
}

impl ObjectKind {
    pub const ALL: [ObjectKind; 7] = [
        ObjectKind::Client,
        ObjectKind::Contact,
        ObjectKind::Contract,
        ObjectKind::Staff,
        ObjectKind::Site,
        ObjectKind::Equipment,
        ObjectKind::Territory,
    ];

    /// The word used in the file (`[[equipment]]`), the API path and the audit trail.
    pub fn key(self) -> &'static str {
        match self {
            ObjectKind::Client => "client",
            ObjectKind::Contact => "contact",
            ObjectKind::Contract => "contract",
            ObjectKind::Staff => "staff",
            ObjectKind::Site => "site",
            ObjectKind::Equipment => "equipment",
            ObjectKind::Territory => "territory",
        }
    }

    /// The plural used for API paths (`/api/v1/sites`) and table names.
    pub fn plural(self) -> &'static str {
        match self {
            ObjectKind::Client => "clients",
            ObjectKind::Contact => "contacts",
            ObjectKind::Contract => "contracts",
            ObjectKind::Staff => "staff",
            ObjectKind::Site => "sites",
            ObjectKind::Equipment => "equipment",
            ObjectKind::Territory => "territories",
        }
    }

    /// The French noun, for messages.
    pub fn french(self) -> &'static str {
        match self {
            ObjectKind::Client => "client",
            ObjectKind::Contact => "contact",
            ObjectKind::Contract => "contrat",
            ObjectKind::Staff => "membre du personnel",
            ObjectKind::Site => "site",
            ObjectKind::Equipment => "équipement",
            ObjectKind::Territory => "territoire",
        }
    }

    /// Whether objects of this kind belong to one client (and so are walled off from others).
    /// A territory is the integrator's own way of dividing its work, like its staff.
    pub fn belongs_to_a_client(self) -> bool {
        !matches!(self, ObjectKind::Staff | ObjectKind::Territory)
    }
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// A client of the integrator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Client {
    #[serde(rename = "ref")]
    pub reference: Reference,
    pub name: Name,
}

/// Contract level (tier): Premium shortens on-site deadlines (INC-2).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum ContractTier {
    #[default]
    Standard,
    Premium,
}

/// Options of a maintenance contract (People, SUP-4, NOT-2, DSH-1, CM-3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContractOption {
    /// SUP-4: the client's sites are supervised.
    Supervision,
    /// CM-3, DEC-5: critical deadlines run round the clock.
    RoundTheClock,
    /// DSH-1: real-time availability dashboard in the client portal.
    Dashboard,
    /// NOT-2: the client is notified directly of critical alarms.
    DirectNotifications,
}

/// Ticket priority (DEC-4: P1 ≡ Critical, P2 ≡ Standard/Major, P3 ≡ Non-critical/Minor).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    P1,
    P2,
    P3,
}

impl Priority {
    pub const ALL: [Priority; 3] = [Priority::P1, Priority::P2, Priority::P3];

    /// Its name in stored rows and addresses (`p1`).
    pub fn key(self) -> &'static str {
        match self {
            Priority::P1 => "p1",
            Priority::P2 => "p2",
            Priority::P3 => "p3",
        }
    }
}

/// The measured service-level deadlines of a ticket (CM-3, INC-2, INC-4, SAV-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaMeasure {
    Acknowledgement,
    TakeCharge,
    OnSite,
    InterventionPlanning,
    ClientUpdate,
}

/// Contract-specific SLA values that prevail over the standard policy (CM-4).
pub type SlaOverrides = BTreeMap<Priority, BTreeMap<SlaMeasure, DurationSpec>>;

/// A maintenance contract of one client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contract {
    #[serde(rename = "ref")]
    pub reference: Reference,
    pub client: Reference,
    #[serde(default)]
    pub tier: ContractTier,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub options: BTreeSet<ContractOption>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sla: SlaOverrides,
    /// DSH-2: the client's contacts who receive the monthly supervision report by email.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub report_contacts: Vec<Reference>,
    /// Any other policy value this contract replaces (docs/policy.md), same shape as the policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<PolicyOverlay>,
}

/// Part of a policy, in the policy file's shape, laid over the default for one contract or site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct PolicyOverlay(pub toml::Table);

// Overlays hold no NaN (the policy has no floating-point value), so equality is an equivalence.
impl Eq for PolicyOverlay {}

impl Contract {
    pub fn has(&self, option: ContractOption) -> bool {
        self.options.contains(&option)
    }
}

/// Roles of a client's contacts (People).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactRole {
    TechnicalContact,
    SecurityManager,
    Cio,
    Management,
}

impl ContactRole {
    pub fn french(self) -> &'static str {
        match self {
            ContactRole::TechnicalContact => "contact technique",
            ContactRole::SecurityManager => "responsable sécurité du site",
            ContactRole::Cio => "DSI",
            ContactRole::Management => "direction",
        }
    }
}

/// A person on the client's side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    #[serde(rename = "ref")]
    pub reference: Reference,
    pub client: Reference,
    pub name: Name,
    #[serde(default)]
    pub roles: BTreeSet<ContactRole>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailAddress>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<PhoneNumber>,
}

/// How critical a site is (ALR-8: critical sites tolerate no offline camera).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum SiteCriticality {
    Critical,
    #[default]
    Standard,
}

/// How many offline cameras a site tolerates before a site-level alarm (ALR-8): a count, or a
/// percentage of the site's cameras written `"5%"` (hundredths of a percent are kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OfflineTolerance {
    Count(u32),
    /// In hundredths of a percent: 500 is 5 %.
    PercentHundredths(u32),
}

impl Default for OfflineTolerance {
    fn default() -> Self {
        OfflineTolerance::Count(0)
    }
}

impl OfflineTolerance {
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        let invalid = || {
            InvalidValue(format!(
                "tolérance de caméras hors ligne invalide : « {value} » (un nombre, ou un pourcentage comme \"5%\")"
            ))
        };
        let text = value.trim();
        if let Some(percent) = text.strip_suffix('%') {
            let percent = percent.trim().replace(',', ".");
            let (whole, fraction) = percent.split_once('.').unwrap_or((&percent, ""));
            if whole.is_empty()
                || fraction.len() > 2
                || !whole
                    .chars()
                    .chain(fraction.chars())
                    .all(|c| c.is_ascii_digit())
            {
                return Err(invalid());
            }
            let whole: u32 = whole.parse().map_err(|_| invalid())?;
            let fraction: u32 = format!("{fraction:0<2}").parse().map_err(|_| invalid())?;
            let hundredths = whole
                .checked_mul(100)
                .and_then(|w| w.checked_add(fraction))
                .ok_or_else(invalid)?;
            if hundredths > 10_000 {
                return Err(invalid());
            }
            Ok(OfflineTolerance::PercentHundredths(hundredths))
        } else {
            text.parse()
                .map(OfflineTolerance::Count)
                .map_err(|_| invalid())
        }
    }
}

impl fmt::Display for OfflineTolerance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            OfflineTolerance::Count(n) => write!(f, "{n}"),
            OfflineTolerance::PercentHundredths(h) if h % 100 == 0 => write!(f, "{}%", h / 100),
            OfflineTolerance::PercentHundredths(h) => {
                let text = format!("{}.{:02}", h / 100, h % 100);
                write!(f, "{}%", text.trim_end_matches('0'))
            }
        }
    }
}

impl Serialize for OfflineTolerance {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match *self {
            OfflineTolerance::Count(n) => serializer.serialize_u32(n),
            OfflineTolerance::PercentHundredths(_) => serializer.serialize_str(&self.to_string()),
        }
    }
}

impl<'de> Deserialize<'de> for OfflineTolerance {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Count(i64),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Count(n) => u32::try_from(n).map(OfflineTolerance::Count).map_err(|_| {
                serde::de::Error::custom(format!("tolérance de caméras hors ligne invalide : {n}"))
            }),
            Raw::Text(text) => OfflineTolerance::parse(&text).map_err(serde::de::Error::custom),
        }
    }
}

/// A day of the week, as written in maintenance windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Weekday {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

/// A time of day `HH:MM` in a site's local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LocalTime {
    pub hour: u8,
    pub minute: u8,
}

impl LocalTime {
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        let invalid = || {
            InvalidValue(format!(
                "heure invalide : « {value} » (attendu HH:MM, par exemple 02:30)"
            ))
        };
        let (h, m) = value.trim().split_once(':').ok_or_else(invalid)?;
        if h.is_empty() || h.len() > 2 || m.len() != 2 {
            return Err(invalid());
        }
        let hour: u8 = h.parse().map_err(|_| invalid())?;
        let minute: u8 = m.parse().map_err(|_| invalid())?;
        if hour > 23 || minute > 59 {
            return Err(invalid());
        }
        Ok(Self { hour, minute })
    }
}

impl fmt::Display for LocalTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.hour, self.minute)
    }
}

impl TryFrom<String> for LocalTime {
    type Error = InvalidValue;
    fn try_from(value: String) -> Result<Self, InvalidValue> {
        Self::parse(&value)
    }
}

impl From<LocalTime> for String {
    fn from(value: LocalTime) -> String {
        value.to_string()
    }
}

/// A recurring maintenance window of a site (ALR-9): on the given days, from `start` for
/// `duration`, in `time_zone` (the site's when omitted). Alarms are still measured inside it;
/// only notifications are held back (the alarm engine applies it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceWindow {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<Text>,
    pub days: BTreeSet<Weekday>,
    pub start: LocalTime,
    pub duration: DurationSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<TimeZoneName>,
}

/// A client site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    #[serde(rename = "ref")]
    pub reference: Reference,
    pub client: Reference,
    pub contract: Reference,
    pub name: Name,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Text>,
    #[serde(default)]
    pub time_zone: TimeZoneName,
    #[serde(default)]
    pub criticality: SiteCriticality,
    #[serde(default)]
    pub offline_tolerance: OfflineTolerance,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_manager: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub technical_contact: Option<Reference>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub maintenance_windows: Vec<MaintenanceWindow>,
    /// Policy values this site replaces (DEC-1: 75 °C here), over its contract's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<PolicyOverlay>,
}

/// What an equipment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EquipmentKind {
    Camera,
    Nvr,
    VmsServer,
    Switch,
    PowerSupply,
    AccessControl,
    Other,
}

impl EquipmentKind {
    /// In French, for people.
    pub fn french(self) -> &'static str {
        match self {
            EquipmentKind::Camera => "caméra",
            EquipmentKind::Nvr => "enregistreur",
            EquipmentKind::VmsServer => "serveur VMS",
            EquipmentKind::Switch => "commutateur",
            EquipmentKind::PowerSupply => "alimentation",
            EquipmentKind::AccessControl => "contrôle d'accès",
            EquipmentKind::Other => "autre",
        }
    }
}

/// A camera's importance (ALR-5, ALR-6): losing a priority camera is Critical, a secondary one
/// Major.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CameraRole {
    Priority,
    Secondary,
}

/// SNMP protocol version of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SnmpVersion {
    #[serde(rename = "2c")]
    V2c,
    #[serde(rename = "3")]
    V3,
}

/// SNMP settings (SUP-3). v2c uses `community`; v3 (authPriv) uses the user and the two keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnmpCheck {
    pub version: SnmpVersion,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub community: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_protocol: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privacy_protocol: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privacy_password: Option<String>,
    /// The per-model OID template to use (the supervision issue ships them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
}

/// Credentials of a device's web services (ONVIF, RTSP, HTTP).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ServiceCheck {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// A check without settings (`ping = {}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Enabled {}

/// A TCP port to connect to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TcpCheck {
    pub port: u16,
}

/// Heartbeats the equipment sends (SUP-3), and how often they are expected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeartbeatCheck {
    pub interval: DurationSpec,
}

/// Which checks supervise an equipment and with which credentials (SUP-1…SUP-3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Checks {
    /// Collection interval; the policy's (60 s, SUP-2) when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<DurationSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ping: Option<Enabled>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp: Option<TcpCheck>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<ServiceCheck>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snmp: Option<SnmpCheck>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub onvif: Option<ServiceCheck>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rtsp: Option<ServiceCheck>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat: Option<HeartbeatCheck>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<Enabled>,
}

impl Checks {
    pub fn is_empty(&self) -> bool {
        self == &Checks::default()
    }

    /// The same checks with every credential removed: what a client user may see.
    pub fn without_secrets(&self) -> Checks {
        let strip = |s: &ServiceCheck| ServiceCheck {
            username: None,
            password: None,
            ..s.clone()
        };
        Checks {
            snmp: self.snmp.as_ref().map(|s| SnmpCheck {
                community: None,
                user: None,
                auth_password: None,
                privacy_password: None,
                ..s.clone()
            }),
            http: self.http.as_ref().map(strip),
            onvif: self.onvif.as_ref().map(strip),
            rtsp: self.rtsp.as_ref().map(strip),
            ..self.clone()
        }
    }
}

/// A supervised equipment on a site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Equipment {
    #[serde(rename = "ref")]
    pub reference: Reference,
    pub site: Reference,
    pub name: Name,
    pub kind: EquipmentKind,
    /// Cameras only; a camera without it is treated as priority (SAV-4: in doubt, the highest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub camera_role: Option<CameraRole>,
    /// IP address or host name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Text>,
    /// The equipment this one depends on to be reached (its switch, its NVR).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firmware: Option<Text>,
    #[serde(default, skip_serializing_if = "Checks::is_empty")]
    pub checks: Checks,
}

impl Equipment {
    /// ALR-5/ALR-6 with SAV-4: a camera whose role is not stated counts as priority.
    pub fn effective_camera_role(&self) -> Option<CameraRole> {
        (self.kind == EquipmentKind::Camera)
            .then(|| self.camera_role.unwrap_or(CameraRole::Priority))
    }

    /// What a client user may see of it: everything but credentials.
    pub fn for_client_view(&self) -> Equipment {
        Equipment {
            checks: self.checks.without_secrets(),
            ..self.clone()
        }
    }
}

/// Roles of the integrator's staff (People).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    Technician,
    OnCallManager,
    TechnicalManager,
    OperationsManager,
    ReferentEngineer,
    Supervision,
    Administrator,
}

impl StaffRole {
    pub fn french(self) -> &'static str {
        match self {
            StaffRole::Technician => "technicien",
            StaffRole::OnCallManager => "responsable d'astreinte",
            StaffRole::TechnicalManager => "responsable technique",
            StaffRole::OperationsManager => "responsable d'exploitation",
            StaffRole::ReferentEngineer => "ingénieur référent",
            StaffRole::Supervision => "équipe de supervision",
            StaffRole::Administrator => "administrateur",
        }
    }
}

/// A member of the integrator's staff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Staff {
    #[serde(rename = "ref")]
    pub reference: Reference,
    pub name: Name,
    pub roles: BTreeSet<StaffRole>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailAddress>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<PhoneNumber>,
    /// The technician's manager (CLO-2: may close an alarm in the technician's place).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager: Option<Reference>,
    /// How this person is reached when a step pages by SMS, in order (issue 26, item 3): for
    /// example an SMS at once, then a call 5 minutes later if nobody has acknowledged. Empty:
    /// the step's own channels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<ChannelChoice>,
}

/// One entry of a person's channel order: by `channel`, `after_minutes` after the step fired,
/// and only while the alarm is unacknowledged (a later entry is a reminder by another way).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelChoice {
    pub channel: crate::policy::Channel,
    #[serde(default)]
    pub after_minutes: u32,
}

impl ChannelChoice {
    /// The most entries of one person's order (SMS, voice, email, each once).
    pub const MAX_ENTRIES: usize = 3;
    /// The longest wait before a later channel: past two hours the escalation chain has
    /// long moved on.
    pub const MAX_AFTER_MINUTES: u32 = 120;
}

/// A territory (issue 26, item 1): the sites and clients some on-call rotations answer for —
/// an agency's area, a region, or one client with its own on-call arrangement. A rotation
/// names its territory; a site is covered by the territories that name it or its client
/// (`docs/oncall.md`, « Territoires »).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Territory {
    #[serde(rename = "ref")]
    pub reference: Reference,
    pub name: Name,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sites: Vec<Reference>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clients: Vec<Reference>,
}

impl Territory {
    /// The most sites and clients one territory lists: a region of a large fleet, bounded.
    pub const MAX_MEMBERS: usize = 20_000;

    /// How closely the territory names `site` of `client`: 0 names the site itself, 1 its
    /// client; None when it does not cover it. The closer answers first.
    pub fn covers(&self, site: &Reference, client: &Reference) -> Option<u8> {
        if self.sites.contains(site) {
            Some(0)
        } else if self.clients.contains(client) {
            Some(1)
        } else {
            None
        }
    }
}

/// One inventory object of any kind.
// Records are handled one at a time or in bounded pages: boxing the equipment would change
// every match on a record for no measurable gain.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    Client(Client),
    Contact(Contact),
    Contract(Contract),
    Staff(Staff),
    Site(Site),
    Equipment(Equipment),
    Territory(Territory),
}

impl Record {
    pub fn kind(&self) -> ObjectKind {
        match self {
            Record::Client(_) => ObjectKind::Client,
            Record::Contact(_) => ObjectKind::Contact,
            Record::Contract(_) => ObjectKind::Contract,
            Record::Staff(_) => ObjectKind::Staff,
            Record::Site(_) => ObjectKind::Site,
            Record::Equipment(_) => ObjectKind::Equipment,
            Record::Territory(_) => ObjectKind::Territory,
        }
    }

    pub fn reference(&self) -> &Reference {
        match self {
            Record::Client(r) => &r.reference,
            Record::Contact(r) => &r.reference,
            Record::Contract(r) => &r.reference,
            Record::Staff(r) => &r.reference,
            Record::Site(r) => &r.reference,
            Record::Equipment(r) => &r.reference,
            Record::Territory(r) => &r.reference,
        }
    }

    /// What people call this object: its name (a contract, which has none, by its reference).
    pub fn name(&self) -> &str {
        match self {
            Record::Client(r) => r.name.as_ref(),
            Record::Site(r) => r.name.as_ref(),
            Record::Staff(r) => r.name.as_ref(),
            Record::Equipment(r) => r.name.as_ref(),
            Record::Contact(r) => r.name.as_ref(),
            Record::Contract(r) => r.reference.as_str(),
            Record::Territory(r) => r.name.as_ref(),
        }
    }

    /// The client this object belongs to, when it is a client's (equipment: through its site,
    /// which the caller resolves).
    pub fn direct_client(&self) -> Option<&Reference> {
        match self {
            Record::Client(r) => Some(&r.reference),
            Record::Contact(r) => Some(&r.client),
            Record::Contract(r) => Some(&r.client),
            Record::Site(r) => Some(&r.client),
            Record::Staff(_) | Record::Equipment(_) | Record::Territory(_) => None,
        }
    }

    /// The record as the audit trail keeps it: secrets replaced by [`REDACTED`].
    pub fn to_audit_json(&self) -> serde_json::Value {
        match self {
            Record::Equipment(e) => Record::Equipment(Equipment {
                checks: e.checks.redacted(),
                ..e.clone()
            })
            .to_json(),
            other => other.to_json(),
        }
    }

    /// The record as `visibility` may see it: a client user never sees credentials.
    pub fn for_visibility(self, visibility: &crate::access::Visibility) -> Record {
        match self {
            Record::Equipment(e) if !visibility.shows_credentials() => {
                Record::Equipment(e.for_client_view())
            }
            record => record,
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        let value = match self {
            Record::Client(r) => serde_json::to_value(r),
            Record::Contact(r) => serde_json::to_value(r),
            Record::Contract(r) => serde_json::to_value(r),
            Record::Staff(r) => serde_json::to_value(r),
            Record::Site(r) => serde_json::to_value(r),
            Record::Equipment(r) => serde_json::to_value(r),
            Record::Territory(r) => serde_json::to_value(r),
        };
        value.expect("inventory records always serialise")
    }

    /// Reads a record of the given kind from JSON (the API body, a stored row).
    pub fn from_json(
        kind: ObjectKind,
        value: serde_json::Value,
    ) -> Result<Record, serde_json::Error> {
        Ok(match kind {
            ObjectKind::Client => Record::Client(serde_json::from_value(value)?),
            ObjectKind::Contact => Record::Contact(serde_json::from_value(value)?),
            ObjectKind::Contract => Record::Contract(serde_json::from_value(value)?),
            ObjectKind::Staff => Record::Staff(serde_json::from_value(value)?),
            ObjectKind::Site => Record::Site(serde_json::from_value(value)?),
            ObjectKind::Equipment => Record::Equipment(serde_json::from_value(value)?),
            ObjectKind::Territory => Record::Territory(serde_json::from_value(value)?),
        })
    }
}

/// A set of inventory records: the content of an inventory file, or of one API write.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inventory {
    #[serde(default, rename = "client", skip_serializing_if = "Vec::is_empty")]
    pub clients: Vec<Client>,
    #[serde(default, rename = "contact", skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<Contact>,
    #[serde(default, rename = "contract", skip_serializing_if = "Vec::is_empty")]
    pub contracts: Vec<Contract>,
    #[serde(default, rename = "staff", skip_serializing_if = "Vec::is_empty")]
    pub staff: Vec<Staff>,
    #[serde(default, rename = "site", skip_serializing_if = "Vec::is_empty")]
    pub sites: Vec<Site>,
    #[serde(default, rename = "equipment", skip_serializing_if = "Vec::is_empty")]
    pub equipment: Vec<Equipment>,
    #[serde(default, rename = "territory", skip_serializing_if = "Vec::is_empty")]
    pub territories: Vec<Territory>,
}

impl Inventory {
    /// Every record, in the order an import applies them (clients before what they own).
    pub fn records(&self) -> Vec<Record> {
        let mut all = Vec::with_capacity(self.len());
        all.extend(self.clients.iter().cloned().map(Record::Client));
        all.extend(self.contacts.iter().cloned().map(Record::Contact));
        all.extend(self.contracts.iter().cloned().map(Record::Contract));
        all.extend(self.staff.iter().cloned().map(Record::Staff));
        all.extend(self.sites.iter().cloned().map(Record::Site));
        all.extend(self.equipment.iter().cloned().map(Record::Equipment));
        all.extend(self.territories.iter().cloned().map(Record::Territory));
        all
    }

    pub fn len(&self) -> usize {
        self.clients.len()
            + self.contacts.len()
            + self.contracts.len()
            + self.staff.len()
            + self.sites.len()
            + self.equipment.len()
            + self.territories.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn push(&mut self, record: Record) {
        match record {
            Record::Client(r) => self.clients.push(r),
            Record::Contact(r) => self.contacts.push(r),
            Record::Contract(r) => self.contracts.push(r),
            Record::Staff(r) => self.staff.push(r),
            Record::Site(r) => self.sites.push(r),
            Record::Equipment(r) => self.equipment.push(r),
            Record::Territory(r) => self.territories.push(r),
        }
    }

    /// Sorts every list by reference, so that an export is stable and diffs stay readable.
    pub fn sort(&mut self) {
        self.clients.sort_by(|a, b| a.reference.cmp(&b.reference));
        self.contacts.sort_by(|a, b| a.reference.cmp(&b.reference));
        self.contracts.sort_by(|a, b| a.reference.cmp(&b.reference));
        self.staff.sort_by(|a, b| a.reference.cmp(&b.reference));
        self.sites.sort_by(|a, b| a.reference.cmp(&b.reference));
        self.equipment.sort_by(|a, b| a.reference.cmp(&b.reference));
        self.territories
            .sort_by(|a, b| a.reference.cmp(&b.reference));
    }
}

/// What stands in place of a secret in the audit trail: a change of password shows as a
/// change, never the password itself.
pub const REDACTED: &str = "********";

impl Checks {
    /// The same checks with every secret replaced by [`REDACTED`].
    pub fn redacted(&self) -> Checks {
        let hide = |secret: &Option<String>| secret.as_ref().map(|_| REDACTED.to_string());
        let strip = |s: &ServiceCheck| ServiceCheck {
            password: hide(&s.password),
            ..s.clone()
        };
        Checks {
            snmp: self.snmp.as_ref().map(|s| SnmpCheck {
                community: hide(&s.community),
                auth_password: hide(&s.auth_password),
                privacy_password: hide(&s.privacy_password),
                ..s.clone()
            }),
            http: self.http.as_ref().map(strip),
            onvif: self.onvif.as_ref().map(strip),
            rtsp: self.rtsp.as_ref().map(strip),
            ..self.clone()
        }
    }
}
