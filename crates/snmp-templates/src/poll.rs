//! One poll of an equipment with its template: the generic part every device gets (uptime,
//! fixed-disk usage, sysDescr) plus the template's metrics, statuses and facts, read by GET and
//! WALK. A value the device does not give, or gives malformed, is an outcome (a missing metric,
//! an Unknown check), never an error of the poll nor a panic.

use std::collections::{BTreeMap, BTreeSet};

use vigie_domain::supervision::{
    CheckName, CheckStatus, MAX_FACTS_PER_OBSERVATION, MAX_SAMPLES_PER_OBSERVATION, MAX_TEXT_CHARS,
    MetricName, Sample,
};
use vigie_snmp::client::Client;
use vigie_snmp::error::Error;
use vigie_snmp::{Oid, Value};

use crate::template::{Source, StatusRule, Template};

/// Most rows of one walked table used (disks, processes, storages); rows past it are ignored.
pub const MAX_ROWS_USED_PER_TABLE: usize = 256;
/// Most instances asked in one GET: small enough for the PDU buffers of modest devices.
pub const MAX_OIDS_PER_GET: usize = 16;

/// The fact that lists the metrics the device did not give (absent, unreadable or not a number).
pub const FACT_MISSING_METRICS: &str = "missing_metrics";
/// The fact holding sysDescr.
pub const FACT_SYS_DESCR: &str = "sys_descr";
/// The sample holding sysUpTime, in seconds.
pub const METRIC_UPTIME: &str = "uptime_seconds";
/// The prefix of each fixed disk's usage sample, followed by its mount point.
pub const METRIC_DISK_USED_PREFIX: &str = "disk_used_percent";

const SYS_DESCR: &str = "1.3.6.1.2.1.1.1.0";
const SYS_UP_TIME: &str = "1.3.6.1.2.1.1.3.0";
/// HOST-RESOURCES-MIB hrStorageEntry columns.
const HR_STORAGE_TYPE: &str = "1.3.6.1.2.1.25.2.3.1.2";
const HR_STORAGE_DESCR: &str = "1.3.6.1.2.1.25.2.3.1.3";
const HR_STORAGE_SIZE: &str = "1.3.6.1.2.1.25.2.3.1.5";
const HR_STORAGE_USED: &str = "1.3.6.1.2.1.25.2.3.1.6";
/// HOST-RESOURCES-TYPES hrStorageFixedDisk.
const HR_STORAGE_FIXED_DISK: &str = "1.3.6.1.2.1.25.2.1.4";

/// What one poll of an equipment found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PollResult {
    pub samples: Vec<Sample>,
    /// Statuses read from the device, one per check (several rules on one check are merged:
    /// Down wins over Unknown, Unknown over Up).
    pub checks: Vec<(CheckName, CheckStatus, Option<String>)>,
    pub facts: BTreeMap<String, String>,
}

/// A table column as walked: row index → value.
type Column = BTreeMap<Vec<u32>, Value>;

/// Polls with the template (GET and WALK through the client). Fails only when the exchange
/// itself fails (no answer, refused community, broken agent); what the device lacks is
/// reported inside the result.
pub async fn poll(client: &mut Client, template: &Template) -> Result<PollResult, Error> {
    let generic = Generic::new();
    let mut scalar_oids: BTreeSet<Oid> = BTreeSet::new();
    let mut column_oids: BTreeSet<Oid> = BTreeSet::new();
    scalar_oids.insert(generic.sys_up_time.clone());
    scalar_oids.insert(generic.sys_descr.clone());
    column_oids.extend(generic.storage_columns());
    let sources = template
        .metrics
        .iter()
        .map(|metric| &metric.source)
        .chain(template.statuses.iter().map(|status| &status.source));
    for source in sources {
        match source {
            Source::Scalar(oid) => {
                scalar_oids.insert(oid.clone());
            }
            Source::Column { column, label } => {
                column_oids.insert(column.clone());
                column_oids.insert(label.clone());
            }
            Source::UsedPercent { total, available } => {
                scalar_oids.insert(total.clone());
                scalar_oids.insert(available.clone());
            }
        }
    }
    scalar_oids.extend(template.facts.iter().map(|fact| fact.oid.clone()));

    let values = get_all(client, &scalar_oids).await?;
    let mut columns: BTreeMap<Oid, Column> = BTreeMap::new();
    for column in column_oids {
        let rows = walk_column(client, &column).await?;
        columns.insert(column, rows);
    }
    Ok(Reading { values, columns }.result(&generic, template))
}

/// GETs every instance, a few per request. An agent that refuses a request (SNMPv1 answers
/// noSuchName for the whole request when one instance is missing) is asked again one instance
/// at a time, so one missing value does not hide the others.
async fn get_all(client: &mut Client, oids: &BTreeSet<Oid>) -> Result<BTreeMap<Oid, Value>, Error> {
    let oids: Vec<Oid> = oids.iter().cloned().collect();
    let mut values = BTreeMap::new();
    for chunk in oids.chunks(MAX_OIDS_PER_GET) {
        let answers = match client.get(chunk).await {
            Ok(answers) => answers,
            Err(Error::ErrorStatus { .. }) => {
                let mut answers = Vec::new();
                for oid in chunk {
                    match client.get(std::slice::from_ref(oid)).await {
                        Ok(found) => answers.extend(found),
                        Err(Error::ErrorStatus { .. }) => {}
                        Err(error) => return Err(error),
                    }
                }
                answers
            }
            Err(error) => return Err(error),
        };
        // Only what was asked: a confused agent answering other OIDs must not inject values.
        for varbind in answers {
            if chunk.contains(&varbind.oid) && !varbind.value.is_exception() {
                values.insert(varbind.oid, varbind.value);
            }
        }
    }
    Ok(values)
}

/// WALKs one column, keeping at most [`MAX_ROWS_USED_PER_TABLE`] rows, by index.
async fn walk_column(client: &mut Client, column: &Oid) -> Result<Column, Error> {
    let rows = match client.walk(column).await {
        Ok(rows) => rows,
        // An agent refusing the subtree has no such table: same as an empty one.
        Err(Error::ErrorStatus { .. }) => Vec::new(),
        Err(error) => return Err(error),
    };
    let width = column.arcs().len();
    Ok(rows
        .into_iter()
        .filter(|row| row.oid.starts_with(column) && row.oid.arcs().len() > width)
        .take(MAX_ROWS_USED_PER_TABLE)
        .map(|row| (row.oid.arcs()[width..].to_vec(), row.value))
        .collect())
}

/// The OIDs of the generic part, parsed once per poll.
struct Generic {
    sys_up_time: Oid,
    sys_descr: Oid,
    storage_type: Oid,
    storage_descr: Oid,
    storage_size: Oid,
    storage_used: Oid,
    fixed_disk: Oid,
}

impl Generic {
    fn new() -> Generic {
        let oid = |text: &str| Oid::parse(text).expect("constant OID");
        Generic {
            sys_up_time: oid(SYS_UP_TIME),
            sys_descr: oid(SYS_DESCR),
            storage_type: oid(HR_STORAGE_TYPE),
            storage_descr: oid(HR_STORAGE_DESCR),
            storage_size: oid(HR_STORAGE_SIZE),
            storage_used: oid(HR_STORAGE_USED),
            fixed_disk: oid(HR_STORAGE_FIXED_DISK),
        }
    }

    fn storage_columns(&self) -> [Oid; 4] {
        [
            self.storage_type.clone(),
            self.storage_descr.clone(),
            self.storage_size.clone(),
            self.storage_used.clone(),
        ]
    }
}

/// Everything read from the device, turned into a result without further IO.
struct Reading {
    values: BTreeMap<Oid, Value>,
    columns: BTreeMap<Oid, Column>,
}

/// Samples under construction: names kept unique, count bounded.
#[derive(Default)]
struct Samples {
    samples: Vec<Sample>,
    names: BTreeSet<String>,
    missing: Vec<String>,
}

impl Samples {
    fn push(&mut self, name: &str, value: Option<f64>) {
        let Some(value) = value.filter(|v| v.is_finite()) else {
            self.missing.push(name.to_owned());
            return;
        };
        let Ok(metric) = MetricName::parse(name) else {
            self.missing.push(name.to_owned());
            return;
        };
        if self.samples.len() >= MAX_SAMPLES_PER_OBSERVATION || !self.names.insert(name.to_owned())
        {
            return;
        }
        self.samples.push(Sample {
            name: metric,
            value,
        });
    }
}

impl Reading {
    fn result(&self, generic: &Generic, template: &Template) -> PollResult {
        let mut samples = Samples::default();
        let mut facts = BTreeMap::new();

        let uptime = self
            .values
            .get(&generic.sys_up_time)
            .and_then(Value::as_u64)
            // TimeTicks are hundredths of a second.
            .map(|ticks| ticks as f64 / 100.0);
        samples.push(METRIC_UPTIME, uptime);
        if let Some(descr) = self.values.get(&generic.sys_descr).and_then(text_of) {
            facts.insert(FACT_SYS_DESCR.to_owned(), descr);
        }
        self.fixed_disks(generic, &mut samples);

        for metric in &template.metrics {
            let name = metric.name.as_str();
            let scaled = |value: Option<f64>| value.map(|v| v * metric.scale);
            match &metric.source {
                Source::Scalar(oid) => {
                    samples.push(name, scaled(self.values.get(oid).and_then(number_of)));
                }
                Source::UsedPercent { total, available } => {
                    let total = self.values.get(total).and_then(number_of);
                    let available = self.values.get(available).and_then(number_of);
                    samples.push(name, scaled(used_percent(total, available)));
                }
                Source::Column { column, label } => {
                    for (index, value) in self.column(column) {
                        let row = format!("{name}:{}", self.row_label(label, index));
                        samples.push(&row, scaled(number_of(value)));
                    }
                }
            }
        }

        for fact in &template.facts {
            if facts.len() >= MAX_FACTS_PER_OBSERVATION - 1 {
                break;
            }
            if let Some(text) = self.values.get(&fact.oid).and_then(text_of) {
                facts.insert(fact.name.clone(), text);
            }
        }
        if !samples.missing.is_empty() {
            facts.insert(
                FACT_MISSING_METRICS.to_owned(),
                truncate(&samples.missing.join(", ")),
            );
        }

        let mut checks: Vec<(CheckName, CheckStatus, Option<String>)> = Vec::new();
        for rule in &template.statuses {
            let (status, detail) = self.status(rule);
            match checks.iter_mut().find(|(check, _, _)| *check == rule.check) {
                Some(existing) => merge(existing, status, detail),
                None => checks.push((rule.check.clone(), status, detail)),
            }
        }

        PollResult {
            samples: samples.samples,
            checks,
            facts,
        }
    }

    fn column(&self, column: &Oid) -> impl Iterator<Item = (&Vec<u32>, &Value)> {
        self.columns.get(column).into_iter().flatten()
    }

    /// The row's name from the label column, made fit for a metric name; the index when the
    /// label is absent or empty.
    fn row_label(&self, label: &Oid, index: &[u32]) -> String {
        let text = self
            .columns
            .get(label)
            .and_then(|rows| rows.get(index))
            .and_then(text_of)
            .unwrap_or_default();
        let cleaned: String = text
            .trim()
            .chars()
            .map(|c| c.to_ascii_lowercase())
            .map(|c| {
                if c.is_ascii_lowercase() || c.is_ascii_digit() || "_.:/-".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        if cleaned.is_empty() {
            index_text(index)
        } else {
            cleaned
        }
    }

    /// HOST-RESOURCES-MIB hrStorageTable: used / size of each fixed disk, in percent.
    fn fixed_disks(&self, generic: &Generic, samples: &mut Samples) {
        let sizes = self.columns.get(&generic.storage_size);
        let used = self.columns.get(&generic.storage_used);
        for (index, kind) in self.column(&generic.storage_type) {
            if *kind != Value::ObjectIdentifier(generic.fixed_disk.clone()) {
                continue;
            }
            let name = format!(
                "{METRIC_DISK_USED_PREFIX}:{}",
                self.row_label(&generic.storage_descr, index)
            );
            let size = sizes.and_then(|rows| rows.get(index)).and_then(number_of);
            let used = used.and_then(|rows| rows.get(index)).and_then(number_of);
            // Both in the same allocation units, which cancel out.
            let percent = match (size, used) {
                (Some(size), Some(used)) if size > 0.0 && used >= 0.0 => Some(used / size * 100.0),
                _ => None,
            };
            // A pseudo file system of size 0 has no usage to report; it is not "missing".
            if size == Some(0.0) {
                continue;
            }
            samples.push(&name, percent);
        }
    }

    fn status(&self, rule: &StatusRule) -> (CheckStatus, Option<String>) {
        match &rule.source {
            Source::Scalar(oid) => match self.values.get(oid) {
                None => (
                    CheckStatus::Unknown,
                    Some(format!("valeur absente sur l'équipement (OID {oid})")),
                ),
                Some(value) => match integer_of(value) {
                    None => (
                        CheckStatus::Unknown,
                        Some(format!("valeur illisible (OID {oid})")),
                    ),
                    Some(v) if rule.down_when.contains(&v) => {
                        (CheckStatus::Down, Some(truncate(&rule.detail)))
                    }
                    Some(_) => (CheckStatus::Up, None),
                },
            },
            Source::Column { column, label } => {
                let mut down = Vec::new();
                let mut unreadable = Vec::new();
                let mut rows = 0usize;
                for (index, value) in self.column(column) {
                    rows += 1;
                    let name = || self.row_label(label, index);
                    match integer_of(value) {
                        None => unreadable.push(name()),
                        Some(v) if rule.down_when.contains(&v) => down.push(name()),
                        Some(_) => {}
                    }
                }
                if !down.is_empty() {
                    let detail = format!("{} : {}", rule.detail, down.join(", "));
                    (CheckStatus::Down, Some(truncate(&detail)))
                } else if rows == 0 {
                    (
                        CheckStatus::Unknown,
                        Some(format!(
                            "table vide ou absente sur l'équipement (OID {column})"
                        )),
                    )
                } else if !unreadable.is_empty() {
                    let detail = format!(
                        "valeur illisible (OID {column}) : {}",
                        unreadable.join(", ")
                    );
                    (CheckStatus::Unknown, Some(truncate(&detail)))
                } else {
                    (CheckStatus::Up, None)
                }
            }
            // Refused by the parser for statuses; kept total rather than panicking.
            Source::UsedPercent { .. } => (
                CheckStatus::Unknown,
                Some("source de valeur non prise en charge pour un état".to_owned()),
            ),
        }
    }
}

/// Several rules on one check: Down wins over Unknown, Unknown over Up; details of the
/// winning level are joined.
fn merge(
    existing: &mut (CheckName, CheckStatus, Option<String>),
    status: CheckStatus,
    detail: Option<String>,
) {
    let rank = |status: CheckStatus| match status {
        CheckStatus::Up => 0,
        CheckStatus::Unknown => 1,
        CheckStatus::Down => 2,
    };
    if rank(status) > rank(existing.1) {
        existing.1 = status;
        existing.2 = detail;
    } else if rank(status) == rank(existing.1)
        && let Some(detail) = detail
    {
        existing.2 = Some(match existing.2.take() {
            Some(previous) => truncate(&format!("{previous} ; {detail}")),
            None => detail,
        });
    }
}

fn used_percent(total: Option<f64>, available: Option<f64>) -> Option<f64> {
    match (total, available) {
        (Some(total), Some(available)) if total > 0.0 && (0.0..=total).contains(&available) => {
            Some((total - available) / total * 100.0)
        }
        _ => None,
    }
}

/// A number from any numeric type, or from text holding a decimal number (UCD laLoad and
/// extend outputs are strings). None for anything else, including "nan" and "inf".
fn number_of(value: &Value) -> Option<f64> {
    let number = match value {
        Value::Integer(v) => *v as f64,
        Value::Counter32(v) | Value::Gauge32(v) | Value::TimeTicks(v) => f64::from(*v),
        Value::Counter64(v) => *v as f64,
        Value::OctetString(bytes) => std::str::from_utf8(bytes).ok()?.trim().parse().ok()?,
        _ => return None,
    };
    number.is_finite().then_some(number)
}

/// An integer from an integer type or from text holding one (for `down_when`).
fn integer_of(value: &Value) -> Option<i64> {
    match value {
        Value::Integer(v) => Some(*v),
        Value::Counter32(v) | Value::Gauge32(v) | Value::TimeTicks(v) => Some(i64::from(*v)),
        Value::Counter64(v) => i64::try_from(*v).ok(),
        Value::OctetString(bytes) => std::str::from_utf8(bytes).ok()?.trim().parse().ok(),
        _ => None,
    }
}

/// A value as text for a fact or a label: strings (invalid UTF-8 replaced), numbers, OIDs.
pub(crate) fn text_of(value: &Value) -> Option<String> {
    let text = match value {
        Value::OctetString(bytes) => String::from_utf8_lossy(bytes).trim().to_owned(),
        Value::Integer(v) => v.to_string(),
        Value::Counter32(v) | Value::Gauge32(v) | Value::TimeTicks(v) => v.to_string(),
        Value::Counter64(v) => v.to_string(),
        Value::ObjectIdentifier(oid) => oid.to_string(),
        Value::IpAddress(address) => address.to_string(),
        _ => return None,
    };
    // Control characters from a device would garble logs and screens.
    let text: String = text.chars().filter(|c| !c.is_control()).collect();
    (!text.is_empty()).then(|| truncate(&text))
}

fn index_text(index: &[u32]) -> String {
    index
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

/// At most [`MAX_TEXT_CHARS`] characters, as an observation keeps.
fn truncate(text: &str) -> String {
    text.chars().take(MAX_TEXT_CHARS).collect()
}
