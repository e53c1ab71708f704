//! The agent and probe protocol as versioned types of its own: what `vigie agent` and
//! `vigie probe` send to `POST /api/v1/observations`, kept apart from the domain's types so that
//! a refactor of the domain cannot silently change what an agent already in the field sends or
//! what the server accepts from it (issue 24, item 7). The golden files in
//! `crates/domain/tests/it/data/wire/` pin the text of each version.
//!
//! Version 1 is the protocol as agents shipped it: a body without `version` is version 1.
//! A new version gets new types beside these, and the server keeps reading the old ones.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Reference;
use crate::supervision::{CheckName, CheckStatus, MetricName, Observation, Sample};
use crate::values::InvalidValue;

/// The protocol version this build writes; the server reads it and every earlier one.
pub const PROTOCOL_VERSION: u32 = 1;

fn version_one() -> u32 {
    1
}

/// Only the version of a pushed body, read first so that a body of an unknown version gets a
/// clear refusal instead of a field-by-field one.
#[derive(Debug, Deserialize)]
pub struct Version {
    #[serde(default = "version_one")]
    pub version: u32,
}

/// A batch of observations pushed by an agent or a probe (version 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushV1 {
    #[serde(default = "version_one")]
    pub version: u32,
    /// Who sends (`agent:NVR-01`, `probe:sonde-paris`): with `sequence`, a batch sent twice is
    /// taken once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<i64>,
    /// A site probe identifies itself with each push.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<ProbeIdentityV1>,
    pub observations: Vec<ObservationV1>,
}

/// Who a site probe is (version 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbeIdentityV1 {
    pub name: String,
    pub site: String,
    /// How often it pushes, in seconds (its link is lost after one and a half intervals).
    pub interval_seconds: i64,
}

/// What was seen of one equipment, by one check, at one instant (version 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObservationV1 {
    pub equipment: String,
    pub check: String,
    /// UTC epoch milliseconds of the moment it was seen (not received).
    pub at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<StatusV1>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub samples: Vec<SampleV1>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub facts: BTreeMap<String, String>,
}

/// What a check says (version 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusV1 {
    Up,
    Down,
    Unknown,
}

/// One measured value (version 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SampleV1 {
    pub name: String,
    pub value: f64,
}

impl PushV1 {
    /// The batch an agent or a probe sends today.
    pub fn new(
        source: &str,
        sequence: i64,
        probe: Option<ProbeIdentityV1>,
        observations: &[Observation],
    ) -> PushV1 {
        PushV1 {
            version: PROTOCOL_VERSION,
            source: Some(source.to_owned()),
            sequence: Some(sequence),
            probe,
            observations: observations.iter().map(ObservationV1::from).collect(),
        }
    }
}

/// The domain's observations of a batch, each checked; the first wrong one is named by its
/// position.
pub fn observations(observations: Vec<ObservationV1>) -> Result<Vec<Observation>, InvalidValue> {
    observations
        .into_iter()
        .enumerate()
        .map(|(index, observation)| {
            observation
                .into_domain()
                .map_err(|e| InvalidValue(format!("observations[{index}] : {}", e.0)))
        })
        .collect()
}

impl ProbeIdentityV1 {
    /// The probe's site, checked.
    pub fn site(&self) -> Result<Reference, InvalidValue> {
        Reference::parse(&self.site).map_err(|e| InvalidValue(format!("probe.site : {}", e.0)))
    }
}

impl ObservationV1 {
    /// The domain's observation; a wrong field is named.
    pub fn into_domain(self) -> Result<Observation, InvalidValue> {
        let field = |name: &str, error: InvalidValue| InvalidValue(format!("{name} : {}", error.0));
        let samples = self
            .samples
            .into_iter()
            .map(|sample| {
                Ok(Sample {
                    name: MetricName::parse(&sample.name).map_err(|e| field("samples.name", e))?,
                    value: sample.value,
                })
            })
            .collect::<Result<Vec<_>, InvalidValue>>()?;
        Ok(Observation {
            equipment: Reference::parse(&self.equipment).map_err(|e| field("equipment", e))?,
            check: CheckName::parse(&self.check).map_err(|e| field("check", e))?,
            at: self.at,
            status: self.status.map(CheckStatus::from),
            detail: self.detail,
            samples,
            facts: self.facts,
        })
    }
}

impl From<&Observation> for ObservationV1 {
    fn from(observation: &Observation) -> ObservationV1 {
        ObservationV1 {
            equipment: observation.equipment.to_string(),
            check: observation.check.to_string(),
            at: observation.at,
            status: observation.status.map(StatusV1::from),
            detail: observation.detail.clone(),
            samples: observation
                .samples
                .iter()
                .map(|sample| SampleV1 {
                    name: sample.name.to_string(),
                    value: sample.value,
                })
                .collect(),
            facts: observation.facts.clone(),
        }
    }
}

impl From<StatusV1> for CheckStatus {
    fn from(status: StatusV1) -> CheckStatus {
        match status {
            StatusV1::Up => CheckStatus::Up,
            StatusV1::Down => CheckStatus::Down,
            StatusV1::Unknown => CheckStatus::Unknown,
        }
    }
}

impl From<CheckStatus> for StatusV1 {
    fn from(status: CheckStatus) -> StatusV1 {
        match status {
            CheckStatus::Up => StatusV1::Up,
            CheckStatus::Down => StatusV1::Down,
            CheckStatus::Unknown => StatusV1::Unknown,
        }
    }
}
