//! Observations and equipment state (SUP-1…SUP-3): what a check, an agent, a heartbeat, a trap
//! or a simulation saw of one equipment at one instant, and the single rule that turns it into
//! the current state of a check and, when the state moves, a state change (the basis of
//! availability). Polled, pushed, trapped and simulated observations all go through
//! [`observe`], so they behave identically.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::text::quoted;
use crate::values::{InvalidValue, Reference};

/// Most samples one observation may carry (an agent's CPU, memory, temperatures and mounts).
pub const MAX_SAMPLES_PER_OBSERVATION: usize = 1_000;
/// Most facts (manufacturer, firmware, service states…) one observation may carry.
pub const MAX_FACTS_PER_OBSERVATION: usize = 64;
/// Longest detail, fact value or fact name kept, in characters.
pub const MAX_TEXT_CHARS: usize = 500;

fn identifier(value: &str, what: &str, max: usize) -> Result<String, InvalidValue> {
    let ok = |c: char| {
        c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | ':' | '/' | '-')
    };
    if value.is_empty() || value.len() > max {
        return Err(InvalidValue(format!(
            "{what} {} : de 1 à {max} caractères",
            quoted(value)
        )));
    }
    if !value.starts_with(|c: char| c.is_ascii_lowercase()) || !value.chars().all(ok) {
        return Err(InvalidValue(format!(
            "{what} {} : minuscules sans accent, chiffres, « _ . : / - », en commençant par une lettre",
            quoted(value)
        )));
    }
    Ok(value.to_owned())
}

macro_rules! identifier_value {
    ($name:ident, $what:literal, $max:literal) => {
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub const MAX_LEN: usize = $max;

            pub fn parse(value: &str) -> Result<Self, InvalidValue> {
                identifier(value, $what, $max).map(Self)
            }
        }

        crate::values::string_value!($name);
    };
}

identifier_value!(CheckName, "le contrôle", 64);
identifier_value!(MetricName, "la mesure", 128);

/// The checks Vigie names itself; templates and agents may add more (`snmp.disk_health`,
/// `service:recorder`).
pub mod checks {
    pub const PING: &str = "ping";
    pub const TCP: &str = "tcp";
    pub const HTTP: &str = "http";
    pub const TLS: &str = "tls";
    pub const SNMP: &str = "snmp";
    pub const ONVIF: &str = "onvif";
    /// The camera's video stream answers DESCRIBE with a video track: its "signal".
    pub const RTSP: &str = "rtsp";
    pub const HEARTBEAT: &str = "heartbeat";
    /// The agent itself reports (a silent agent is an observation too).
    pub const AGENT: &str = "agent";
}

/// What a check says of the equipment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Up,
    Down,
    /// Vigie cannot tell: the monitoring path is down (a site probe lost its link) or the check
    /// has not reported yet. Not an outage of the client's equipment (DESIGN 5).
    Unknown,
}

impl CheckStatus {
    pub fn key(self) -> &'static str {
        match self {
            CheckStatus::Up => "up",
            CheckStatus::Down => "down",
            CheckStatus::Unknown => "unknown",
        }
    }

    pub fn parse(value: &str) -> Option<CheckStatus> {
        [CheckStatus::Up, CheckStatus::Down, CheckStatus::Unknown]
            .into_iter()
            .find(|s| s.key() == value)
    }

    /// In French, for people.
    pub fn label(self) -> &'static str {
        match self {
            CheckStatus::Up => "en service",
            CheckStatus::Down => "en panne",
            CheckStatus::Unknown => "inconnu",
        }
    }
}

/// One measured value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sample {
    pub name: MetricName,
    pub value: f64,
}

/// Where an observation came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Source {
    /// The central server's own checks.
    Poll,
    /// An agent on the equipment itself.
    Agent,
    /// A site probe, by its name.
    Probe { probe: String },
    /// An SNMP trap.
    Trap,
    /// A heartbeat received, or missed.
    Heartbeat,
    /// The watchdog: something expected did not arrive in time.
    Watchdog,
    /// `vigie simulate`.
    Simulation,
}

/// What was seen of one equipment, by one check, at one instant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Observation {
    pub equipment: Reference,
    pub check: CheckName,
    /// UTC epoch milliseconds of the moment it was seen (not received).
    pub at: i64,
    /// None when the observation only carries measures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<CheckStatus>,
    /// Why, in words: "délai dépassé", "pas de piste vidéo".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub samples: Vec<Sample>,
    /// Facts read from the equipment: manufacturer, model, firmware, certificate expiry…
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub facts: BTreeMap<String, String>,
}

impl Observation {
    /// Checks the bounds an observation from outside must respect.
    pub fn validate(&self) -> Result<(), InvalidValue> {
        if self.samples.len() > MAX_SAMPLES_PER_OBSERVATION {
            return Err(InvalidValue(format!(
                "{} mesures pour {} : au plus {MAX_SAMPLES_PER_OBSERVATION}",
                self.samples.len(),
                self.equipment
            )));
        }
        if let Some(sample) = self.samples.iter().find(|s| !s.value.is_finite()) {
            return Err(InvalidValue(format!(
                "la mesure {} n'est pas un nombre fini",
                quoted(sample.name.as_str())
            )));
        }
        if self.facts.len() > MAX_FACTS_PER_OBSERVATION {
            return Err(InvalidValue(format!(
                "au plus {MAX_FACTS_PER_OBSERVATION} faits par observation"
            )));
        }
        let too_long = |text: &str| text.chars().count() > MAX_TEXT_CHARS;
        if self.detail.as_deref().is_some_and(too_long)
            || self.facts.iter().any(|(k, v)| too_long(k) || too_long(v))
        {
            return Err(InvalidValue(format!(
                "texte de plus de {MAX_TEXT_CHARS} caractères"
            )));
        }
        if self.status.is_none() && self.samples.is_empty() && self.facts.is_empty() {
            return Err(InvalidValue(format!(
                "observation vide pour {} : ni état, ni mesure, ni fait",
                self.equipment
            )));
        }
        Ok(())
    }
}

/// The current state of one check of one equipment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckState {
    pub status: CheckStatus,
    /// Since when it has this status (UTC epoch milliseconds).
    pub since: i64,
    /// The instant of the latest observation taken into account.
    pub last: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A check moved from one status to another: stored, it is the history availability is
/// computed from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateChange {
    pub equipment: Reference,
    pub check: CheckName,
    pub at: i64,
    /// None for the first status ever seen.
    pub from: Option<CheckStatus>,
    pub to: CheckStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl StateChange {
    /// The change as an observation of its new status: a report that did not come (a
    /// heartbeat, an agent) is read by the alarm rules like any other.
    pub fn observation(&self) -> Observation {
        Observation {
            equipment: self.equipment.clone(),
            check: self.check.clone(),
            at: self.at,
            status: Some(self.to),
            detail: self.detail.clone(),
            samples: Vec::new(),
            facts: BTreeMap::new(),
        }
    }
}

/// What one observation does to a check's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Nothing to change: no status in it (measures only).
    NoStatus,
    /// Older than what the state already took into account (a late or replayed observation):
    /// its measures are kept, the state is not moved back in time.
    Stale,
    /// Same status as before: the state is refreshed.
    Refreshed(CheckState),
    /// The status changed.
    Changed(CheckState, StateChange),
}

/// The one rule: how an observation moves the state of its check.
pub fn observe(current: Option<&CheckState>, observation: &Observation) -> Effect {
    let Some(status) = observation.status else {
        return Effect::NoStatus;
    };
    match current {
        Some(state) if observation.at < state.last => Effect::Stale,
        Some(state) if state.status == status => Effect::Refreshed(CheckState {
            status,
            since: state.since,
            last: observation.at,
            detail: observation.detail.clone(),
        }),
        _ => {
            let state = CheckState {
                status,
                since: observation.at,
                last: observation.at,
                detail: observation.detail.clone(),
            };
            let change = StateChange {
                equipment: observation.equipment.clone(),
                check: observation.check.clone(),
                at: observation.at,
                from: current.map(|s| s.status),
                to: status,
                detail: observation.detail.clone(),
            };
            Effect::Changed(state, change)
        }
    }
}

/// How long past its expected interval something pushed (a heartbeat, an agent's report, a
/// probe's) may be late before it counts as missing: half an interval more, so that jitter and
/// a slow network do not raise false alarms.
pub fn expected_by(last: i64, interval_ms: i64) -> i64 {
    last.saturating_add(interval_ms.saturating_mul(3) / 2)
}

/// The status of every check of an equipment, summed up: down if any check is down, unknown if
/// none is down but one is unknown, up otherwise (None without any check).
pub fn overall(states: impl IntoIterator<Item = CheckStatus>) -> Option<CheckStatus> {
    states.into_iter().fold(None, |acc, status| {
        Some(match (acc, status) {
            (Some(CheckStatus::Down), _) | (_, CheckStatus::Down) => CheckStatus::Down,
            (Some(CheckStatus::Unknown), _) | (_, CheckStatus::Unknown) => CheckStatus::Unknown,
            _ => CheckStatus::Up,
        })
    })
}

/// Time spent in each status between `from` and `to`, from the status at `from` and the changes
/// after it (sorted by instant). Unknown time is the monitoring path's, not the equipment's:
/// availability is up / (up + down).
pub fn time_in_status(
    initial: Option<CheckStatus>,
    changes: &[(i64, CheckStatus)],
    from: i64,
    to: i64,
) -> BTreeMap<CheckStatus, i64> {
    let mut totals = BTreeMap::new();
    let mut status = initial;
    let mut cursor = from;
    for &(at, next) in changes.iter().filter(|(at, _)| *at > from && *at < to) {
        if let Some(s) = status {
            *totals.entry(s).or_insert(0) += at - cursor;
        }
        status = Some(next);
        cursor = at;
    }
    if let Some(s) = status
        && to > cursor
    {
        *totals.entry(s).or_insert(0) += to - cursor;
    }
    totals
}
