//! Supervision in the store (SUP-1…SUP-3): observations in, through the domain's one rule
//! (`supervision::observe`), current check states, state changes and metric samples out; the
//! watchdog for what is pushed (heartbeats, agents, site probes); the hourly roll-up and
//! retention of samples; SNMP traps, unknown ones included. Reads are filtered by the actor's
//! visibility like the inventory's.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sqlx::{AnyConnection, Row};
use vigie_domain::Reference;
use vigie_domain::access::{Actor, Permission, Visibility};
use vigie_domain::inventory::Equipment;
use vigie_domain::supervision::{
    self, CheckName, CheckState, CheckStatus, Effect, MetricName, Observation, StateChange, checks,
};

use crate::System;
use crate::bulk::{self, Column};
use crate::inventory::{Arg, build, require};
use crate::{Store, StoreError};

/// Most observations one call may record (an agent's or a probe's batch).
pub const MAX_OBSERVATIONS_PER_BATCH: usize = 10_000;
/// Most rows a history or samples query returns; the caller pages with `after`.
pub const MAX_HISTORY_ROWS: i64 = 10_000;
/// Most expired expectations the watchdog handles in one step.
pub const WATCHDOG_BATCH: i64 = 10_000;
/// The default interval of checks (SUP-2).
pub const DEFAULT_INTERVAL_MS: i64 = 60_000;
const HOUR_MS: i64 = 3_600_000;

/// Retention of samples (documented in docs/supervision.md, configurable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Raw samples, at the collection interval.
    pub raw_ms: i64,
    /// Hourly minimum, maximum, mean and count.
    pub hourly_ms: i64,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            raw_ms: 8 * 24 * HOUR_MS,
            hourly_ms: 400 * 24 * HOUR_MS,
        }
    }
}

/// What recording a batch did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IngestReport {
    /// The batch had already been received (same source and sequence): nothing written.
    pub duplicate: bool,
    pub accepted: usize,
    /// Older than the state already known: measures kept, state not moved back.
    pub stale: usize,
    /// Observations of equipment that does not exist (or is not visible): skipped.
    pub unknown_equipment: BTreeSet<Reference>,
    pub samples: usize,
    pub changes: Vec<StateChange>,
    /// The clients whose equipment changed state (for live pages).
    pub changed_clients: BTreeSet<String>,
    /// The sites whose probe the watchdog found silent in this step: their monitoring path is
    /// down (the site's alarm, `Workflow::monitoring`).
    pub lost_sites: Vec<Reference>,
}

/// A stored state change, with where it happened.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StoredChange {
    pub id: i64,
    pub client: String,
    pub site: String,
    #[serde(flatten)]
    pub change: StateChange,
}

/// Which history to read.
#[derive(Debug, Clone)]
pub enum Scope {
    Equipment(Reference),
    Site(Reference),
}

/// Resolution of a samples query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    Raw,
    Hourly,
}

/// One point of a metric's series (hourly points carry the hour's min, max and mean).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Point {
    pub at: i64,
    pub value: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

/// The current state of one check of one equipment.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CurrentState {
    pub equipment: String,
    pub check: String,
    #[serde(flatten)]
    pub state: CheckState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expect_by: Option<i64>,
}

/// An SNMP notification as received, mapped to an equipment and a check when a template knew
/// it, kept as is when not (never dropped silently).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TrapRecord {
    #[serde(default)]
    pub id: i64,
    pub received: i64,
    pub source: String,
    pub version: String,
    pub sender: Option<String>,
    pub trap_oid: Option<String>,
    pub equipment: Option<String>,
    pub check: Option<String>,
    /// Why it could not be decoded, for a malformed packet.
    pub error: Option<String>,
    /// `[[oid, value], …]` as text.
    pub varbinds: Vec<(String, String)>,
}

/// A site probe as the server sees it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProbeRecord {
    pub name: String,
    pub site: String,
    pub last: Option<i64>,
    pub expect_by: Option<i64>,
    /// `up`, `lost` (the monitoring path is down), or `new` (never heard from).
    pub link: String,
}

/// A row of `check_states` as a page reads it (`page::fetch`): equipment, check, status,
/// since, last, detail, expected by.
pub(crate) type StateRow = (
    String,
    String,
    String,
    i64,
    i64,
    Option<String>,
    Option<i64>,
);

/// A [`StateRow`] read into its state.
pub(crate) fn current_state(row: StateRow) -> Result<CurrentState, StoreError> {
    let (equipment, check, status, since, last, detail, expect_by) = row;
    Ok(CurrentState {
        equipment,
        check,
        state: CheckState {
            status: status_of(&status)?,
            since,
            last,
            detail,
        },
        expect_by,
    })
}

fn status_of(text: &str) -> Result<CheckStatus, StoreError> {
    CheckStatus::parse(text)
        .ok_or_else(|| StoreError::Invalid(format!("état inconnu en base : {text}")))
}

/// Where an equipment is, and what it expects to be pushed.
struct Located {
    client: String,
    site: String,
    record: String,
}

impl Located {
    /// How often a pushed check is expected, for the watchdog (heartbeat: its own interval;
    /// agent: the equipment's interval, 60 s by default, SUP-2).
    fn push_interval_ms(&self, check: &CheckName) -> Option<i64> {
        if check.as_str() != checks::HEARTBEAT && check.as_str() != checks::AGENT {
            return None;
        }
        let equipment: Equipment = serde_json::from_str(&self.record).ok()?;
        if check.as_str() == checks::HEARTBEAT {
            let heartbeat = equipment.checks.heartbeat?;
            Some(
                i64::try_from(heartbeat.interval.seconds())
                    .ok()?
                    .saturating_mul(1000),
            )
        } else {
            Some(
                equipment
                    .checks
                    .interval
                    .and_then(|i| i64::try_from(i.seconds()).ok())
                    .map_or(DEFAULT_INTERVAL_MS, |s| s.saturating_mul(1000)),
            )
        }
    }
}

async fn locate(
    connection: &mut AnyConnection,
    refs: &[&str],
) -> Result<HashMap<String, Located>, StoreError> {
    let sql = format!(
        "SELECT ref, client_ref, site_ref, record FROM equipment WHERE ref IN {}",
        bulk::strings(bulk::is_sqlite(connection))
    );
    let mut located = HashMap::new();
    for row in bulk::fetch(connection, &sql, refs).await? {
        located.insert(
            row.try_get::<String, _>(0)?,
            Located {
                client: row.try_get(1)?,
                site: row.try_get(2)?,
                record: row.try_get(3)?,
            },
        );
    }
    Ok(located)
}

async fn current_states(
    connection: &mut AnyConnection,
    refs: &[&str],
) -> Result<HashMap<(String, String), CheckState>, StoreError> {
    let sql = format!(
        "SELECT equipment_ref, check_name, status, since_ms, last_ms, detail FROM check_states WHERE equipment_ref IN {}",
        bulk::strings(bulk::is_sqlite(connection))
    );
    let mut states = HashMap::new();
    for row in bulk::fetch(connection, &sql, refs).await? {
        let key = (row.try_get::<String, _>(0)?, row.try_get::<String, _>(1)?);
        let state = CheckState {
            status: status_of(&row.try_get::<String, _>(2)?)?,
            since: row.try_get(3)?,
            last: row.try_get(4)?,
            detail: row.try_get(5)?,
        };
        states.insert(key, state);
    }
    Ok(states)
}

/// One call of `record_observations`, waiting for the group commit.
struct Job {
    batch: Option<(String, i64)>,
    observations: Vec<Observation>,
    now_ms: i64,
}

/// Pushes waiting to be written.
const GROUP_QUEUE: usize = 1_024;
/// Most pushes written in one transaction, and most observations.
const GROUP_MAX_JOBS: usize = 256;
const GROUP_MAX_OBSERVATIONS: usize = 20_000;

/// Group commit of observations: the pushes that arrive while a transaction is being written
/// are written together in the next one, in a few shared statements (each push keeps its own
/// report, and falls back to its own savepoint should the group fail, so that a failing push
/// fails alone). On SQLite, where each commit is an fsync and each statement a hand-off to the
/// database thread, this is what lets thousands of agents push at once; on PostgreSQL it saves
/// the round trips. Every caller still gets its answer only once its data is durable.
#[derive(Debug)]
pub(crate) struct GroupCommit {
    jobs: tokio::sync::mpsc::Sender<Waiting>,
}

/// A push waiting for its group, with where to send its answer.
type Waiting = (
    Job,
    tokio::sync::oneshot::Sender<Result<IngestReport, StoreError>>,
);

impl GroupCommit {
    fn start(write: sqlx::AnyPool) -> GroupCommit {
        let (jobs, mut queue) = tokio::sync::mpsc::channel::<Waiting>(GROUP_QUEUE);
        // The task holds the pool, not the store: when the last store handle goes, the queue
        // closes and the task ends.
        tokio::spawn(async move {
            while let Some(first) = queue.recv().await {
                let mut group = vec![first];
                let mut count = group[0].0.observations.len();
                while group.len() < GROUP_MAX_JOBS && count < GROUP_MAX_OBSERVATIONS {
                    match queue.try_recv() {
                        Ok(next) => {
                            count += next.0.observations.len();
                            group.push(next);
                        }
                        Err(_) => break,
                    }
                }
                write_group(&write, group).await;
            }
        });
        GroupCommit { jobs }
    }
}

/// Which jobs of a group carry a batch already received (or one received twice in the group):
/// those are answered `duplicate` and write nothing. The others' batches are noted as received.
async fn claim_batches(
    connection: &mut AnyConnection,
    jobs: &[&Job],
) -> Result<Vec<bool>, StoreError> {
    let mut duplicate = vec![false; jobs.len()];
    let mut claimed = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, job) in jobs.iter().enumerate() {
        if let Some((source, sequence)) = &job.batch
            && !seen.insert((source.as_str(), *sequence))
        {
            duplicate[i] = true;
        }
    }
    let numbered: Vec<(&str, i64)> = seen.into_iter().collect();
    let sql = format!(
        "SELECT b.source, b.sequence FROM pushed_batches b JOIN ({}) w ON b.source = w.c0 AND b.sequence = w.c1",
        bulk::select_rows(bulk::is_sqlite(connection), &[Column::Text, Column::Int])
    );
    let mut stored = BTreeSet::new();
    for row in bulk::fetch(connection, &sql, &numbered).await? {
        stored.insert((row.try_get::<String, _>(0)?, row.try_get::<i64, _>(1)?));
    }
    for (i, job) in jobs.iter().enumerate() {
        if let Some((source, sequence)) = &job.batch
            && !duplicate[i]
        {
            if stored.contains(&(source.clone(), *sequence)) {
                duplicate[i] = true;
            } else {
                claimed.push(serde_json::json!([source, sequence, job.now_ms]));
            }
        }
    }
    bulk::insert(
        connection,
        "INSERT INTO pushed_batches (source, sequence, received_ms)",
        &[Column::Text, Column::Int, Column::Int],
        "",
        &claimed,
    )
    .await?;
    Ok(duplicate)
}

/// Writes a group of jobs: batches claimed, then every observation through one `ingest`.
async fn run_jobs(
    connection: &mut AnyConnection,
    jobs: &[&Job],
) -> Result<Vec<IngestReport>, StoreError> {
    let duplicate = claim_batches(connection, jobs).await?;
    let parts: Vec<&[Observation]> = jobs
        .iter()
        .zip(&duplicate)
        .map(|(job, &duplicate)| {
            if duplicate {
                &[][..]
            } else {
                &job.observations[..]
            }
        })
        .collect();
    let mut reports = ingest(connection, &parts).await?;
    for (report, duplicate) in reports.iter_mut().zip(duplicate) {
        report.duplicate = duplicate;
    }
    Ok(reports)
}

/// Runs `work` inside a savepoint: on error the transaction is as it was before.
async fn in_savepoint<T>(
    connection: &mut AnyConnection,
    work: impl AsyncFnOnce(&mut AnyConnection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    sqlx::query("SAVEPOINT push")
        .execute(&mut *connection)
        .await?;
    match work(&mut *connection).await {
        Ok(value) => {
            sqlx::query("RELEASE SAVEPOINT push")
                .execute(&mut *connection)
                .await?;
            Ok(value)
        }
        Err(error) => {
            sqlx::query("ROLLBACK TO SAVEPOINT push")
                .execute(&mut *connection)
                .await?;
            sqlx::query("RELEASE SAVEPOINT push")
                .execute(&mut *connection)
                .await?;
            Err(error)
        }
    }
}

async fn write_group(write: &sqlx::AnyPool, group: Vec<Waiting>) {
    let jobs: Vec<&Job> = group.iter().map(|(job, _)| job).collect();
    let results = write_jobs(write, &jobs).await;
    for ((_, reply), result) in group.into_iter().zip(results) {
        let _ = reply.send(result);
    }
}

/// The whole group in one transaction and a few statements; should that fail, each push
/// again in its own savepoint of a new transaction, so that a bad push fails alone.
async fn write_jobs(write: &sqlx::AnyPool, jobs: &[&Job]) -> Vec<Result<IngestReport, StoreError>> {
    let unavailable = |error: sqlx::Error| {
        let message = StoreError::from(error).to_string();
        jobs.iter()
            .map(|_| Err(StoreError::Unavailable(message.clone())))
            .collect()
    };
    let mut transaction = match write.begin().await {
        Ok(transaction) => transaction,
        Err(error) => return unavailable(error),
    };
    match run_jobs(&mut transaction, jobs).await {
        Ok(reports) => {
            return match transaction.commit().await {
                Ok(()) => reports.into_iter().map(Ok).collect(),
                Err(error) => unavailable(error),
            };
        }
        Err(_) if jobs.len() > 1 => {
            if let Err(error) = transaction.rollback().await {
                return unavailable(error);
            }
        }
        Err(error) => return vec![Err(error)],
    }
    let mut transaction = match write.begin().await {
        Ok(transaction) => transaction,
        Err(error) => return unavailable(error),
    };
    let mut results = Vec::with_capacity(jobs.len());
    for job in jobs {
        let result = in_savepoint(&mut transaction, async |c| {
            run_jobs(c, &[*job]).await.map(|mut r| r.remove(0))
        })
        .await;
        results.push(result);
    }
    match transaction.commit().await {
        Ok(()) => results,
        Err(error) => unavailable(error),
    }
}

const INSERT_SAMPLES: &str = "INSERT INTO samples (equipment_ref, metric, at_ms, value)";
const SAMPLE_COLUMNS: [Column; 4] = [Column::Text, Column::Text, Column::Int, Column::Real];

/// Applies the observations of one or more pushes (`parts`), in order, inside an open
/// transaction: the one path every source takes. Reads and writes are shared by the parts
/// (a few statements for a whole group of pushes); each part gets its own report.
async fn ingest(
    connection: &mut AnyConnection,
    parts: &[&[Observation]],
) -> Result<Vec<IngestReport>, StoreError> {
    let mut reports = vec![IngestReport::default(); parts.len()];
    let refs: BTreeSet<&str> = parts
        .iter()
        .flat_map(|part| part.iter().map(|o| o.equipment.as_str()))
        .collect();
    if refs.is_empty() {
        return Ok(reports);
    }
    let refs: Vec<&str> = refs.into_iter().collect();
    let located = locate(connection, &refs).await?;
    let known: Vec<&str> = refs
        .iter()
        .copied()
        .filter(|r| located.contains_key(*r))
        .collect();
    let mut states = current_states(connection, &known).await?;
    let mut dirty: BTreeMap<(String, String), Option<i64>> = BTreeMap::new();
    let mut changes: Vec<serde_json::Value> = Vec::new();
    let mut samples: Vec<Vec<serde_json::Value>> = vec![Vec::new(); parts.len()];
    let watermark = rollup_watermark(connection).await?;
    let mut late_hours: BTreeSet<(String, String, i64)> = BTreeSet::new();
    for ((part, report), samples) in parts.iter().zip(&mut reports).zip(&mut samples) {
        for observation in part.iter() {
            let Some(place) = located.get(observation.equipment.as_str()) else {
                report
                    .unknown_equipment
                    .insert(observation.equipment.clone());
                continue;
            };
            report.accepted += 1;
            for sample in &observation.samples {
                samples.push(serde_json::json!([
                    observation.equipment.as_str(),
                    sample.name.as_str(),
                    observation.at,
                    sample.value
                ]));
                if observation.at < watermark {
                    late_hours.insert((
                        observation.equipment.to_string(),
                        sample.name.to_string(),
                        observation.at.div_euclid(HOUR_MS) * HOUR_MS,
                    ));
                }
            }
            let key = (
                observation.equipment.to_string(),
                observation.check.to_string(),
            );
            let new_state = match supervision::observe(states.get(&key), observation) {
                Effect::NoStatus => continue,
                Effect::Stale => {
                    report.stale += 1;
                    continue;
                }
                Effect::Refreshed(state) => state,
                Effect::Changed(state, change) => {
                    changes.push(serde_json::json!([
                        change.equipment.as_str(),
                        change.check.as_str(),
                        place.client,
                        place.site,
                        change.at,
                        change.from.map(|s| s.key()),
                        change.to.key(),
                        change.detail,
                    ]));
                    report.changes.push(change);
                    report.changed_clients.insert(place.client.to_string());
                    state
                }
            };
            // A pushed check that reports is expected again one interval (and a half) later;
            // a status the watchdog set itself (down) waits for the next report.
            let expect_by = (new_state.status == CheckStatus::Up)
                .then(|| place.push_interval_ms(&observation.check))
                .flatten()
                .map(|interval| supervision::expected_by(new_state.last, interval));
            states.insert(key.clone(), new_state);
            dirty.insert(key, expect_by);
        }
    }
    // Changes in the order they happened, so that their ids follow it.
    bulk::insert(
        connection,
        "INSERT INTO state_changes (equipment_ref, check_name, client_ref, site_ref, at_ms, from_status, to_status, detail)",
        &[Column::Text, Column::Text, Column::Text, Column::Text, Column::Int, Column::Text, Column::Text, Column::Text],
        "",
        &changes,
    )
    .await?;
    let state_rows: Vec<serde_json::Value> = dirty
        .into_iter()
        .map(|((equipment, check), expect_by)| {
            let state = &states[&(equipment.clone(), check.clone())];
            let place = located.get(equipment.as_str());
            serde_json::json!([
                equipment,
                check,
                state.status.key(),
                state.since,
                state.last,
                state.detail,
                expect_by,
                place.map(|p| p.client.as_str()),
                place.map(|p| p.site.as_str()),
            ])
        })
        .collect();
    bulk::insert(
        connection,
        "INSERT INTO check_states (equipment_ref, check_name, status, since_ms, last_ms, detail, expect_by_ms, client_ref, site_ref)",
        &[Column::Text, Column::Text, Column::Text, Column::Int, Column::Int, Column::Text, Column::Int, Column::Text, Column::Text],
        "ON CONFLICT (equipment_ref, check_name) DO UPDATE SET status = excluded.status, since_ms = excluded.since_ms, last_ms = excluded.last_ms, detail = excluded.detail, expect_by_ms = excluded.expect_by_ms, client_ref = excluded.client_ref, site_ref = excluded.site_ref",
        &state_rows,
    )
    .await?;
    write_samples(connection, samples, &mut reports).await?;
    // Samples arriving after their hour was rolled up (a backfill after an outage): the hour is
    // computed again from the raw samples, which are kept longer than the roll-up lags.
    let late_hours: Vec<serde_json::Value> = late_hours
        .into_iter()
        .map(|(equipment, metric, hour)| serde_json::json!([equipment, metric, hour]))
        .collect();
    // Each late series reads its hour through the samples' primary key: on PostgreSQL through
    // a LATERAL subquery, as a plain join is planned as a scan of every sample.
    let (from, tail) = if bulk::is_sqlite(connection) {
        (
            "SELECT s.equipment_ref, s.metric, w.c2, COUNT(*), SUM(s.value), MIN(s.value), MAX(s.value) FROM (",
            format!(
                ") w JOIN samples s ON s.equipment_ref = w.c0 AND s.metric = w.c1 AND s.at_ms >= w.c2 AND s.at_ms < w.c2 + {HOUR_MS} WHERE true GROUP BY s.equipment_ref, s.metric, w.c2"
            ),
        )
    } else {
        (
            "SELECT w.c0, w.c1, w.c2, a.count, a.total, a.minimum, a.maximum FROM (",
            format!(
                ") w CROSS JOIN LATERAL (SELECT COUNT(*) AS count, SUM(s.value) AS total, MIN(s.value) AS minimum, MAX(s.value) AS maximum FROM samples s WHERE s.equipment_ref = w.c0 AND s.metric = w.c1 AND s.at_ms >= w.c2 AND s.at_ms < w.c2 + {HOUR_MS}) a WHERE a.count > 0"
            ),
        )
    };
    bulk::insert(
        connection,
        &format!("INSERT INTO samples_hourly (equipment_ref, metric, hour_ms, count, total, minimum, maximum) {from}"),
        &[Column::Text, Column::Text, Column::Int],
        &format!("{tail} ON CONFLICT (equipment_ref, metric, hour_ms) DO UPDATE SET count = excluded.count, total = excluded.total, minimum = excluded.minimum, maximum = excluded.maximum"),
        &late_hours,
    )
    .await?;
    Ok(reports)
}

/// Writes the samples of every part and counts, per part, those that were new (a sample
/// already stored, same equipment, metric and instant, is not written again). Several parts
/// share statements, and fail together if any sample was already there: the caller then
/// writes them one by one, so that each is credited exactly with what it added.
async fn write_samples(
    connection: &mut AnyConnection,
    samples: Vec<Vec<serde_json::Value>>,
    reports: &mut [IngestReport],
) -> Result<(), StoreError> {
    if let [rows] = &samples[..] {
        let written = bulk::insert(
            connection,
            INSERT_SAMPLES,
            &SAMPLE_COLUMNS,
            "ON CONFLICT DO NOTHING",
            rows,
        )
        .await?;
        reports[0].samples = usize::try_from(written).unwrap_or(usize::MAX);
        return Ok(());
    }
    let offered: Vec<usize> = samples.iter().map(Vec::len).collect();
    let total: usize = offered.iter().sum();
    let all: Vec<serde_json::Value> = samples.into_iter().flatten().collect();
    let written = bulk::insert(
        connection,
        INSERT_SAMPLES,
        &SAMPLE_COLUMNS,
        "ON CONFLICT DO NOTHING",
        &all,
    )
    .await?;
    if usize::try_from(written).ok() != Some(total) {
        return Err(StoreError::Invalid(
            "mesures déjà reçues dans un envoi groupé".into(),
        ));
    }
    for (report, offered) in reports.iter_mut().zip(offered) {
        report.samples = offered;
    }
    Ok(())
}

async fn rollup_watermark(connection: &mut AnyConnection) -> Result<i64, StoreError> {
    let row: Option<(i64,)> =
        sqlx::query_as("SELECT watermark_ms FROM rollups WHERE name = 'hourly'")
            .fetch_optional(&mut *connection)
            .await?;
    Ok(row.map_or(i64::MIN, |(w,)| w))
}

/// (Re)computes the hourly aggregates of every series in `[from, to)`.
async fn roll_up_hour(
    connection: &mut AnyConnection,
    from: i64,
    to: i64,
) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO samples_hourly (equipment_ref, metric, hour_ms, count, total, minimum, maximum)
         SELECT equipment_ref, metric, at_ms - (at_ms % {HOUR_MS}), COUNT(*), SUM(value), MIN(value), MAX(value)
         FROM samples WHERE at_ms >= $1 AND at_ms < $2
         GROUP BY equipment_ref, metric, at_ms - (at_ms % {HOUR_MS})
         ON CONFLICT (equipment_ref, metric, hour_ms) DO UPDATE SET count = excluded.count, total = excluded.total, minimum = excluded.minimum, maximum = excluded.maximum"
    );
    build(&sql, vec![Arg::Int(from), Arg::Int(to)])
        .execute(&mut *connection)
        .await?;
    Ok(())
}

/// Visibility condition on a table (or join) with a client column and a site column.
pub(crate) fn visibility_condition(
    visibility: &Visibility,
    client_column: &str,
    site_column: &str,
    args: &mut Vec<Arg>,
) -> String {
    let mut condition = String::new();
    if let Some(client) = visibility.client() {
        args.push(Arg::Text(Some(client.to_string())));
        condition.push_str(&format!(" AND {client_column} = ${}", args.len()));
    }
    if let Some(site) = visibility.site() {
        args.push(Arg::Text(Some(site.to_string())));
        condition.push_str(&format!(" AND {site_column} = ${}", args.len()));
    }
    condition
}

/// Where each of these equipment is: (client, site) by reference; unknown ones are absent.
async fn places(
    connection: &mut AnyConnection,
    refs: &[&str],
) -> Result<HashMap<String, (Reference, Reference)>, StoreError> {
    let sql = format!(
        "SELECT ref, client_ref, site_ref FROM equipment WHERE ref IN {}",
        bulk::strings(bulk::is_sqlite(connection))
    );
    let stored = |row: &sqlx::any::AnyRow, i: usize| {
        Reference::parse(&row.try_get::<String, _>(i)?)
            .map_err(|e| StoreError::other(anyhow::anyhow!("référence stockée invalide : {e}")))
    };
    let mut places = HashMap::new();
    for row in bulk::fetch(connection, &sql, refs).await? {
        places.insert(
            row.try_get::<String, _>(0)?,
            (stored(&row, 1)?, stored(&row, 2)?),
        );
    }
    Ok(places)
}

/// Why `actor` may not report as the site probe `name` of `site`, if so: a site-bound actor
/// (a probe's token) reports for its own site only, and cannot take over the name of a probe of
/// a site it does not see (which would move that probe, and its lost-link watch, to its site).
async fn check_probe_identity(
    connection: &mut AnyConnection,
    actor: &Actor,
    name: &str,
    site: &Reference,
) -> Result<(), StoreError> {
    require(actor, Permission::SendObservations)?;
    let visibility = actor.visibility();
    // Known from the token alone: the answer says nothing of what exists elsewhere.
    if let Some(own) = visibility.site()
        && own != site
    {
        return Err(StoreError::Forbidden(format!(
            "ce jeton de sonde est lié au site « {own} » : il ne rend compte que de ce site"
        )));
    }
    let client: Option<(String,)> = sqlx::query_as("SELECT client_ref FROM sites WHERE ref = $1")
        .bind(site.to_string())
        .fetch_optional(&mut *connection)
        .await?;
    match client.map(|(c,)| Reference::parse(&c)) {
        Some(Ok(client)) if visibility.sees_site(&client, site) => {}
        _ => return Err(StoreError::NotFound),
    }
    if visibility == Visibility::Everything {
        return Ok(());
    }
    let held: Option<(String, String)> = sqlx::query_as(
        "SELECT p.site_ref, s.client_ref FROM probes p JOIN sites s ON s.ref = p.site_ref WHERE p.name = $1",
    )
    .bind(name.to_owned())
    .fetch_optional(&mut *connection)
    .await?;
    if let Some((held_site, held_client)) = held {
        let seen = match (Reference::parse(&held_client), Reference::parse(&held_site)) {
            (Ok(client), Ok(site)) => visibility.sees_site(&client, &site),
            _ => false,
        };
        if !seen {
            return Err(StoreError::Conflict(format!(
                "le nom de sonde « {name} » est déjà celui d'une autre sonde : donnez à celle-ci un nom qui lui soit propre (--name)"
            )));
        }
    }
    Ok(())
}

impl Store {
    /// Records observations (SUP-1): the single entry point for polled, pushed, trapped and
    /// simulated observations. With `batch = Some((source, sequence))` a batch sent again (an
    /// agent's retry after a lost answer, a backfill replayed) is recognised and taken once.
    pub async fn record_observations(
        &self,
        actor: &Actor,
        batch: Option<(&str, i64)>,
        observations: &[Observation],
        now_ms: i64,
    ) -> Result<IngestReport, StoreError> {
        require(actor, Permission::SendObservations)?;
        if observations.len() > MAX_OBSERVATIONS_PER_BATCH {
            return Err(StoreError::Invalid(format!(
                "{} observations : au plus {MAX_OBSERVATIONS_PER_BATCH} par envoi",
                observations.len()
            )));
        }
        for observation in observations {
            observation
                .validate()
                .map_err(|e| StoreError::Invalid(e.to_string()))?;
        }
        // An actor inside walls (a site probe's token) reports on what it sees only: the
        // others' observations are reported as unknown equipment, as if it did not exist, and
        // not written; the rest of the batch is. Checked here, where the actor is known, so
        // that the group writer stays the same for everyone. (An equipment moved to another
        // site while its batch is queued may still be written once: its client cannot change.)
        let visibility = actor.visibility();
        let mut outside = BTreeSet::new();
        let observations = if visibility == Visibility::Everything || observations.is_empty() {
            observations.to_vec()
        } else {
            let refs: BTreeSet<&str> = observations.iter().map(|o| o.equipment.as_str()).collect();
            let refs: Vec<&str> = refs.into_iter().collect();
            let mut connection = self.read.acquire().await?;
            let places = places(&mut connection, &refs).await?;
            drop(connection);
            observations
                .iter()
                .filter(|o| {
                    let seen = places
                        .get(o.equipment.as_str())
                        .is_some_and(|(client, site)| visibility.sees_site(client, site));
                    if !seen {
                        outside.insert(o.equipment.clone());
                    }
                    seen
                })
                .cloned()
                .collect()
        };
        let job = Job {
            batch: batch.map(|(s, n)| (s.to_owned(), n)),
            observations,
            now_ms,
        };
        let committer = self
            .observations
            .get_or_init(|| GroupCommit::start(self.write.clone()));
        let (reply, answer) = tokio::sync::oneshot::channel();
        committer
            .jobs
            .send((job, reply))
            .await
            .map_err(|_| StoreError::Unavailable("écriture des observations arrêtée".into()))?;
        let mut report = answer.await.map_err(|_| {
            StoreError::Unavailable("écriture des observations interrompue".into())
        })??;
        if !report.duplicate {
            report.unknown_equipment.extend(outside);
        }
        Ok(report)
    }
}

impl System {
    /// One step of the watchdog at `now_ms`: every pushed check (heartbeat, agent) whose next
    /// report is overdue becomes `down`; every site probe that went silent loses its link, and
    /// the checks it ran become `unknown` from its last report on (the monitoring path is down,
    /// not the equipment). Returns the state changes, through the same entry point.
    pub async fn watchdog_step(&self, now_ms: i64) -> Result<IngestReport, StoreError> {
        let mut transaction = self.write.begin().await?;
        let overdue = sqlx::query("SELECT equipment_ref, check_name, last_ms FROM check_states WHERE expect_by_ms IS NOT NULL AND expect_by_ms <= $1 ORDER BY expect_by_ms, equipment_ref, check_name LIMIT $2")
            .bind(now_ms)
            .bind(WATCHDOG_BATCH)
            .fetch_all(&mut *transaction)
            .await?;
        let mut observations = Vec::new();
        for row in overdue {
            let equipment: String = row.try_get(0)?;
            let check: String = row.try_get(1)?;
            let last: i64 = row.try_get(2)?;
            let (Ok(equipment), Ok(check)) =
                (Reference::parse(&equipment), CheckName::parse(&check))
            else {
                continue;
            };
            let what = if check.as_str() == checks::HEARTBEAT {
                "aucun battement de cœur reçu"
            } else {
                "l'agent ne rend plus compte"
            };
            observations.push(Observation {
                equipment,
                check,
                at: now_ms,
                status: Some(CheckStatus::Down),
                detail: Some(format!("{what} depuis {} s", (now_ms - last) / 1000)),
                samples: Vec::new(),
                facts: BTreeMap::new(),
            });
        }
        sqlx::query("UPDATE check_states SET expect_by_ms = NULL WHERE expect_by_ms IS NOT NULL AND expect_by_ms <= $1")
            .bind(now_ms)
            .execute(&mut *transaction)
            .await?;
        let lost = sqlx::query("SELECT name, site_ref, last_ms FROM probes WHERE link = 'up' AND expect_by_ms IS NOT NULL AND expect_by_ms <= $1 ORDER BY expect_by_ms, name")
            .bind(now_ms)
            .fetch_all(&mut *transaction)
            .await?;
        let mut lost_sites = Vec::new();
        for row in lost {
            let name: String = row.try_get(0)?;
            let site: String = row.try_get(1)?;
            if let Ok(reference) = Reference::parse(&site)
                && !lost_sites.contains(&reference)
            {
                lost_sites.push(reference);
            }
            let last: Option<i64> = row.try_get(2)?;
            let since = last.unwrap_or(now_ms).saturating_add(1);
            sqlx::query("UPDATE probes SET link = 'lost' WHERE name = $1")
                .bind(name.clone())
                .execute(&mut *transaction)
                .await?;
            let states = sqlx::query(
                "SELECT s.equipment_ref, s.check_name FROM check_states s JOIN equipment e ON e.ref = s.equipment_ref WHERE e.site_ref = $1 AND s.check_name <> $2 AND s.check_name <> $3 AND s.status <> 'unknown'",
            )
            .bind(site)
            .bind(checks::HEARTBEAT)
            .bind(checks::AGENT)
            .fetch_all(&mut *transaction)
            .await?;
            for state in states {
                let (Ok(equipment), Ok(check)) = (
                    Reference::parse(&state.try_get::<String, _>(0)?),
                    CheckName::parse(&state.try_get::<String, _>(1)?),
                ) else {
                    continue;
                };
                observations.push(Observation {
                    equipment,
                    check,
                    at: since,
                    status: Some(CheckStatus::Unknown),
                    detail: Some(format!(
                        "sonde « {name} » injoignable : chemin de supervision coupé"
                    )),
                    samples: Vec::new(),
                    facts: BTreeMap::new(),
                });
            }
        }
        let mut report = ingest(&mut transaction, &[&observations]).await?.remove(0);
        transaction.commit().await?;
        report.lost_sites = lost_sites;
        Ok(report)
    }
}

impl System {
    /// The earliest instant at which the watchdog has something to check (a pushed check or a
    /// probe due), for loops that sleep until then (the simulator's virtual clock).
    pub async fn next_expectation(&self) -> Result<Option<i64>, StoreError> {
        let row: (Option<i64>, Option<i64>) = sqlx::query_as(
            "SELECT (SELECT MIN(expect_by_ms) FROM check_states), (SELECT MIN(expect_by_ms) FROM probes WHERE link = 'up')",
        )
        .fetch_one(&self.read)
        .await?;
        Ok(match row {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        })
    }
}

impl Store {
    /// Whether `actor` may report as the site probe `name` of `site` (see `probe_seen`),
    /// without writing anything: a push checks it before recording its observations, so that
    /// a push under a false identity is refused whole.
    pub async fn check_probe(
        &self,
        actor: &Actor,
        name: &str,
        site: &Reference,
    ) -> Result<(), StoreError> {
        let mut connection = self.read.acquire().await?;
        check_probe_identity(&mut connection, actor, name, site).await
    }

    /// A site probe reported (its pushes and its own heartbeat): its link is up and it is
    /// expected again within one interval and a half. A site probe's token reports for its own
    /// site only (`Forbidden` otherwise), under a name no probe of another site holds
    /// (`Conflict`); an unknown or unseen site is `NotFound`. `true` when the probe had been
    /// found silent: its site's monitoring path is back.
    pub async fn probe_seen(
        &self,
        actor: &Actor,
        name: &str,
        site: &Reference,
        interval_ms: i64,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut transaction = self.write.begin().await?;
        check_probe_identity(&mut transaction, actor, name, site).await?;
        let was: Option<(String,)> = sqlx::query_as("SELECT link FROM probes WHERE name = $1")
            .bind(name.to_owned())
            .fetch_optional(&mut *transaction)
            .await?;
        // Inside walls, never move a probe from another site, should one have taken the name
        // since the check.
        let only_same_site = if actor.visibility() == Visibility::Everything {
            ""
        } else {
            " WHERE probes.site_ref = excluded.site_ref"
        };
        sqlx::query(&format!(
            "INSERT INTO probes (name, site_ref, last_ms, expect_by_ms, link) VALUES ($1, $2, $3, $4, 'up')
             ON CONFLICT (name) DO UPDATE SET site_ref = excluded.site_ref, last_ms = excluded.last_ms, expect_by_ms = excluded.expect_by_ms, link = 'up'{only_same_site}"
        ))
        .bind(name.to_owned())
        .bind(site.to_string())
        .bind(now_ms)
        .bind(supervision::expected_by(now_ms, interval_ms))
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(was.is_some_and(|(link,)| link == "lost"))
    }

    /// Every site probe the actor can see.
    pub async fn probes(&self, actor: &Actor) -> Result<Vec<ProbeRecord>, StoreError> {
        require(actor, Permission::ReadInventory)?;
        let mut args = Vec::new();
        let condition =
            visibility_condition(&actor.visibility(), "s.client_ref", "p.site_ref", &mut args);
        let sql = format!(
            "SELECT p.name, p.site_ref, p.last_ms, p.expect_by_ms, p.link FROM probes p JOIN sites s ON s.ref = p.site_ref WHERE 1 = 1{condition} ORDER BY p.name LIMIT 10000"
        );
        let rows = build(&sql, args).fetch_all(&self.read).await?;
        rows.into_iter()
            .map(|row| {
                Ok(ProbeRecord {
                    name: row.try_get(0)?,
                    site: row.try_get(1)?,
                    last: row.try_get(2)?,
                    expect_by: row.try_get(3)?,
                    link: row.try_get(4)?,
                })
            })
            .collect()
    }

    /// Current states of one equipment's checks, or of every equipment of a site.
    pub async fn current_states(
        &self,
        actor: &Actor,
        scope: &Scope,
    ) -> Result<Vec<CurrentState>, StoreError> {
        require(actor, Permission::ReadInventory)?;
        let (column, reference) = match scope {
            Scope::Equipment(r) => ("e.ref", r),
            Scope::Site(r) => ("e.site_ref", r),
        };
        let mut args = vec![Arg::Text(Some(reference.to_string()))];
        let condition =
            visibility_condition(&actor.visibility(), "e.client_ref", "e.site_ref", &mut args);
        self.require_visible(actor, scope).await?;
        let inner = format!(
            "SELECT s.equipment_ref AS c0, s.check_name AS c1, s.status AS c2, s.since_ms AS c3, \
             s.last_ms AS c4, s.detail AS c5, s.expect_by_ms AS c6 \
             FROM check_states s JOIN equipment e ON e.ref = s.equipment_ref \
             WHERE {column} = $1{condition} ORDER BY s.equipment_ref, s.check_name LIMIT {MAX_HISTORY_ROWS}"
        );
        let rows: Vec<StateRow> =
            crate::page::fetch(&self.read, self.backend, &inner, 7, "c0, c1", args).await?;
        rows.into_iter().map(current_state).collect()
    }

    /// `NotFound` unless the equipment or site exists and the actor sees it.
    async fn require_visible(&self, actor: &Actor, scope: &Scope) -> Result<(), StoreError> {
        let (table, site_column, reference) = match scope {
            Scope::Equipment(r) => ("equipment", "site_ref", r),
            Scope::Site(r) => ("sites", "ref", r),
        };
        let mut args = vec![Arg::Text(Some(reference.to_string()))];
        let condition =
            visibility_condition(&actor.visibility(), "client_ref", site_column, &mut args);
        let sql = format!("SELECT ref FROM {table} WHERE ref = $1{condition}");
        build(&sql, args)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(())
    }

    /// State changes of an equipment or a site in `[from, to)`, oldest first, one page of at
    /// most `limit` (≤ 10,000) after the change `after`.
    pub async fn state_changes(
        &self,
        actor: &Actor,
        scope: &Scope,
        from: i64,
        to: i64,
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<StoredChange>, StoreError> {
        require(actor, Permission::ReadInventory)?;
        self.require_visible(actor, scope).await?;
        let (column, reference) = match scope {
            Scope::Equipment(r) => ("equipment_ref", r),
            Scope::Site(r) => ("site_ref", r),
        };
        let mut args = vec![
            Arg::Text(Some(reference.to_string())),
            Arg::Int(from),
            Arg::Int(to),
        ];
        let mut condition =
            visibility_condition(&actor.visibility(), "client_ref", "site_ref", &mut args);
        if let Some(after) = after {
            args.push(Arg::Int(after));
            condition.push_str(&format!(" AND id > ${}", args.len()));
        }
        args.push(Arg::Int(limit.clamp(1, MAX_HISTORY_ROWS)));
        let sql = format!(
            "SELECT id, client_ref, site_ref, equipment_ref, check_name, at_ms, from_status, to_status, detail FROM state_changes WHERE {column} = $1 AND at_ms >= $2 AND at_ms < $3{condition} ORDER BY at_ms, id LIMIT ${}",
            args.len()
        );
        let rows = build(&sql, args).fetch_all(&self.read).await?;
        rows.into_iter()
            .map(|row| {
                let from_status: Option<String> = row.try_get(6)?;
                Ok(StoredChange {
                    id: row.try_get(0)?,
                    client: row.try_get(1)?,
                    site: row.try_get(2)?,
                    change: StateChange {
                        equipment: Reference::parse(&row.try_get::<String, _>(3)?)
                            .map_err(|e| StoreError::Invalid(e.to_string()))?,
                        check: CheckName::parse(&row.try_get::<String, _>(4)?)
                            .map_err(|e| StoreError::Invalid(e.to_string()))?,
                        at: row.try_get(5)?,
                        from: from_status.as_deref().map(status_of).transpose()?,
                        to: status_of(&row.try_get::<String, _>(7)?)?,
                        detail: row.try_get(8)?,
                    },
                })
            })
            .collect()
    }

    /// A metric's series for one equipment in `[from, to)`: raw samples when the hour roll-up
    /// is not asked for, hourly points otherwise; at most 10,000 points.
    pub async fn samples(
        &self,
        actor: &Actor,
        equipment: &Reference,
        metric: &MetricName,
        from: i64,
        to: i64,
        resolution: Resolution,
    ) -> Result<Vec<Point>, StoreError> {
        require(actor, Permission::ReadInventory)?;
        self.require_visible(actor, &Scope::Equipment(equipment.clone()))
            .await?;
        let sql = match resolution {
            Resolution::Raw => format!(
                "SELECT at_ms, value, NULL, NULL FROM samples WHERE equipment_ref = $1 AND metric = $2 AND at_ms >= $3 AND at_ms < $4 ORDER BY at_ms LIMIT {MAX_HISTORY_ROWS}"
            ),
            Resolution::Hourly => format!(
                "SELECT hour_ms, total / count, minimum, maximum FROM samples_hourly WHERE equipment_ref = $1 AND metric = $2 AND hour_ms >= $3 AND hour_ms < $4 ORDER BY hour_ms LIMIT {MAX_HISTORY_ROWS}"
            ),
        };
        let rows = sqlx::query(&sql)
            .bind(equipment.to_string())
            .bind(metric.to_string())
            .bind(from)
            .bind(to)
            .fetch_all(&self.read)
            .await?;
        rows.into_iter()
            .map(|row| {
                Ok(Point {
                    at: row.try_get(0)?,
                    value: row.try_get(1)?,
                    min: row.try_get(2)?,
                    max: row.try_get(3)?,
                })
            })
            .collect()
    }
}

impl System {
    /// Rolls complete hours up to `now_ms` into hourly aggregates, then deletes what is past
    /// its retention. Bounded: at most `max_hours` hours are rolled per call.
    pub async fn roll_up_and_prune(
        &self,
        now_ms: i64,
        retention: Retention,
        max_hours: i64,
    ) -> Result<(), StoreError> {
        let mut transaction = self.write.begin().await?;
        let current_hour = now_ms.div_euclid(HOUR_MS) * HOUR_MS;
        let watermark = rollup_watermark(&mut transaction).await?;
        let start = if watermark == i64::MIN {
            let oldest: Option<(Option<i64>,)> = sqlx::query_as("SELECT MIN(at_ms) FROM samples")
                .fetch_optional(&mut *transaction)
                .await?;
            oldest
                .and_then(|(o,)| o)
                .map_or(current_hour, |o| o.div_euclid(HOUR_MS) * HOUR_MS)
        } else {
            watermark
        };
        let end = current_hour.min(start.saturating_add(max_hours.max(1).saturating_mul(HOUR_MS)));
        if end > start {
            roll_up_hour(&mut transaction, start, end).await?;
        }
        sqlx::query("INSERT INTO rollups (name, watermark_ms) VALUES ('hourly', $1) ON CONFLICT (name) DO UPDATE SET watermark_ms = excluded.watermark_ms")
            .bind(end.max(start))
            .execute(&mut *transaction)
            .await?;
        // Raw samples are kept until rolled up, whatever the retention says.
        sqlx::query("DELETE FROM samples WHERE at_ms < $1 AND at_ms < $2")
            .bind(now_ms - retention.raw_ms)
            .bind(end.max(start))
            .execute(&mut *transaction)
            .await?;
        sqlx::query("DELETE FROM samples_hourly WHERE hour_ms < $1")
            .bind(now_ms - retention.hourly_ms)
            .execute(&mut *transaction)
            .await?;
        sqlx::query("DELETE FROM pushed_batches WHERE received_ms < $1")
            .bind(now_ms - retention.raw_ms)
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(())
    }
}

impl System {
    /// Keeps an SNMP notification, known or not.
    pub async fn record_trap(&self, trap: &TrapRecord) -> Result<i64, StoreError> {
        let varbinds = serde_json::to_string(&trap.varbinds).map_err(StoreError::other)?;
        let client: Option<String> = match &trap.equipment {
            Some(equipment) => {
                sqlx::query_as::<_, (String,)>("SELECT client_ref FROM equipment WHERE ref = $1")
                    .bind(equipment.clone())
                    .fetch_optional(&self.read)
                    .await?
                    .map(|(c,)| c)
            }
            None => None,
        };
        let row: (i64,) = sqlx::query_as(
            "INSERT INTO traps (received_ms, source, version, sender, trap_oid, equipment_ref, client_ref, check_name, error, varbinds) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(trap.received)
        .bind(trap.source.clone())
        .bind(trap.version.clone())
        .bind(trap.sender.clone())
        .bind(trap.trap_oid.clone())
        .bind(trap.equipment.clone())
        .bind(client)
        .bind(trap.check.clone())
        .bind(trap.error.clone())
        .bind(varbinds)
        .fetch_one(&self.write)
        .await?;
        Ok(row.0)
    }
}

impl Store {
    /// The latest traps, newest first (staff only); `unknown_only` keeps those no template knew.
    pub async fn traps(
        &self,
        actor: &Actor,
        unknown_only: bool,
        limit: i64,
    ) -> Result<Vec<TrapRecord>, StoreError> {
        require(actor, Permission::ReadInventory)?;
        // Traps name equipment of every client: for those who see everything.
        if actor.visibility() != Visibility::Everything {
            return Err(StoreError::Forbidden(
                "réservé au personnel de l'intégrateur".into(),
            ));
        }
        let filter = if unknown_only {
            "WHERE check_name IS NULL"
        } else {
            ""
        };
        let sql = format!(
            "SELECT id, received_ms, source, version, sender, trap_oid, equipment_ref, check_name, error, varbinds FROM traps {filter} ORDER BY id DESC LIMIT $1"
        );
        let rows = sqlx::query(&sql)
            .bind(limit.clamp(1, MAX_HISTORY_ROWS))
            .fetch_all(&self.read)
            .await?;
        rows.into_iter()
            .map(|row| {
                let varbinds: String = row.try_get(9)?;
                Ok(TrapRecord {
                    id: row.try_get(0)?,
                    received: row.try_get(1)?,
                    source: row.try_get(2)?,
                    version: row.try_get(3)?,
                    sender: row.try_get(4)?,
                    trap_oid: row.try_get(5)?,
                    equipment: row.try_get(6)?,
                    check: row.try_get(7)?,
                    error: row.try_get(8)?,
                    varbinds: serde_json::from_str(&varbinds).unwrap_or_default(),
                })
            })
            .collect()
    }
}

impl System {
    /// The equipment at this network address, for naming a trap's source; when several share
    /// it (behind a NAT), the first by reference.
    pub async fn equipment_by_address(
        &self,
        address: &str,
    ) -> Result<Option<Equipment>, StoreError> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT record FROM equipment WHERE address = $1 ORDER BY ref LIMIT 1")
                .bind(address.to_owned())
                .fetch_optional(&self.read)
                .await?;
        row.map(|(record,)| {
            let mut equipment: Equipment =
                serde_json::from_str(&record).map_err(StoreError::other)?;
            self.open_equipment(&mut equipment)?;
            Ok(equipment)
        })
        .transpose()
    }
}
