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

use crate::error::from_sqlx;
use crate::inventory::{Arg, build, require};
use crate::{Store, StoreError};

/// Most observations one call may record (an agent's or a probe's batch).
pub const MAX_OBSERVATIONS_PER_BATCH: usize = 10_000;
/// Samples written per INSERT statement (4 parameters each, well under both backends' limits).
const SAMPLES_PER_STATEMENT: usize = 500;
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

fn placeholders(start: usize, count: usize) -> String {
    (start..start + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
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
    refs: &BTreeSet<&str>,
) -> Result<HashMap<String, Located>, StoreError> {
    let mut located = HashMap::new();
    let refs: Vec<&str> = refs.iter().copied().collect();
    for chunk in refs.chunks(500) {
        let sql = format!(
            "SELECT ref, client_ref, site_ref, record FROM equipment WHERE ref IN ({})",
            placeholders(1, chunk.len())
        );
        let rows = build(
            &sql,
            chunk
                .iter()
                .map(|r| Arg::Text(Some((*r).to_owned())))
                .collect(),
        )
        .fetch_all(&mut *connection)
        .await
        .map_err(from_sqlx)?;
        for row in rows {
            located.insert(
                row.try_get::<String, _>(0).map_err(from_sqlx)?,
                Located {
                    client: row.try_get(1).map_err(from_sqlx)?,
                    site: row.try_get(2).map_err(from_sqlx)?,
                    record: row.try_get(3).map_err(from_sqlx)?,
                },
            );
        }
    }
    Ok(located)
}

async fn current_states(
    connection: &mut AnyConnection,
    refs: &[&str],
) -> Result<HashMap<(String, String), CheckState>, StoreError> {
    let mut states = HashMap::new();
    for chunk in refs.chunks(500) {
        let sql = format!(
            "SELECT equipment_ref, check_name, status, since_ms, last_ms, detail FROM check_states WHERE equipment_ref IN ({})",
            placeholders(1, chunk.len())
        );
        let rows = build(
            &sql,
            chunk
                .iter()
                .map(|r| Arg::Text(Some((*r).to_owned())))
                .collect(),
        )
        .fetch_all(&mut *connection)
        .await
        .map_err(from_sqlx)?;
        for row in rows {
            let key = (
                row.try_get::<String, _>(0).map_err(from_sqlx)?,
                row.try_get::<String, _>(1).map_err(from_sqlx)?,
            );
            let state = CheckState {
                status: status_of(&row.try_get::<String, _>(2).map_err(from_sqlx)?)?,
                since: row.try_get(3).map_err(from_sqlx)?,
                last: row.try_get(4).map_err(from_sqlx)?,
                detail: row.try_get(5).map_err(from_sqlx)?,
            };
            states.insert(key, state);
        }
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
/// are written together in the next one, each inside its own savepoint (a failing push fails
/// alone). On SQLite, where each commit is an fsync, this is what lets thousands of agents push
/// at once; every caller still gets its answer only once its data is durable.
#[derive(Debug)]
pub(crate) struct GroupCommit {
    jobs: tokio::sync::mpsc::Sender<(
        Job,
        tokio::sync::oneshot::Sender<Result<IngestReport, StoreError>>,
    )>,
}

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

async fn run_job(connection: &mut AnyConnection, job: &Job) -> Result<IngestReport, StoreError> {
    if let Some((source, sequence)) = &job.batch {
        let inserted = sqlx::query("INSERT INTO pushed_batches (source, sequence, received_ms) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(source.clone())
            .bind(*sequence)
            .bind(job.now_ms)
            .execute(&mut *connection)
            .await
            .map_err(from_sqlx)?;
        if inserted.rows_affected() == 0 {
            return Ok(IngestReport {
                duplicate: true,
                ..IngestReport::default()
            });
        }
    }
    ingest(connection, &job.observations).await
}

async fn write_group(write: &sqlx::AnyPool, group: Vec<Waiting>) {
    let mut transaction = match write.begin().await {
        Ok(transaction) => transaction,
        Err(error) => {
            let message = from_sqlx(error).to_string();
            for (_, reply) in group {
                let _ = reply.send(Err(StoreError::Unavailable(message.clone())));
            }
            return;
        }
    };
    let mut results = Vec::with_capacity(group.len());
    for (job, _) in &group {
        let result = async {
            sqlx::query("SAVEPOINT push")
                .execute(&mut *transaction)
                .await
                .map_err(from_sqlx)?;
            match run_job(&mut transaction, job).await {
                Ok(report) => {
                    sqlx::query("RELEASE SAVEPOINT push")
                        .execute(&mut *transaction)
                        .await
                        .map_err(from_sqlx)?;
                    Ok(report)
                }
                Err(error) => {
                    sqlx::query("ROLLBACK TO SAVEPOINT push")
                        .execute(&mut *transaction)
                        .await
                        .map_err(from_sqlx)?;
                    sqlx::query("RELEASE SAVEPOINT push")
                        .execute(&mut *transaction)
                        .await
                        .map_err(from_sqlx)?;
                    Err(error)
                }
            }
        }
        .await;
        results.push(result);
    }
    match transaction.commit().await {
        Ok(()) => {
            for ((_, reply), result) in group.into_iter().zip(results) {
                let _ = reply.send(result);
            }
        }
        Err(error) => {
            let message = from_sqlx(error).to_string();
            for (_, reply) in group {
                let _ = reply.send(Err(StoreError::Unavailable(message.clone())));
            }
        }
    }
}

/// Applies observations in order inside an open transaction: the one path every source takes.
async fn ingest(
    connection: &mut AnyConnection,
    observations: &[Observation],
) -> Result<IngestReport, StoreError> {
    let mut report = IngestReport::default();
    let refs: BTreeSet<&str> = observations.iter().map(|o| o.equipment.as_str()).collect();
    let located = locate(connection, &refs).await?;
    let known: Vec<&str> = refs
        .iter()
        .copied()
        .filter(|r| located.contains_key(*r))
        .collect();
    let mut states = current_states(connection, &known).await?;
    let mut dirty: BTreeMap<(String, String), Option<i64>> = BTreeMap::new();
    let mut samples: Vec<(&str, &MetricName, i64, f64)> = Vec::new();
    let watermark = rollup_watermark(connection).await?;
    let mut late_hours: BTreeSet<(String, String, i64)> = BTreeSet::new();
    for observation in observations {
        let Some(place) = located.get(observation.equipment.as_str()) else {
            report
                .unknown_equipment
                .insert(observation.equipment.clone());
            continue;
        };
        report.accepted += 1;
        for sample in &observation.samples {
            samples.push((
                observation.equipment.as_str(),
                &sample.name,
                observation.at,
                sample.value,
            ));
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
        let effect = supervision::observe(states.get(&key), observation);
        let new_state = match effect {
            Effect::NoStatus => continue,
            Effect::Stale => {
                report.stale += 1;
                continue;
            }
            Effect::Refreshed(state) => state,
            Effect::Changed(state, change) => {
                sqlx::query(
                    "INSERT INTO state_changes (equipment_ref, check_name, client_ref, site_ref, at_ms, from_status, to_status, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(change.equipment.to_string())
                .bind(change.check.to_string())
                .bind(place.client.clone())
                .bind(place.site.clone())
                .bind(change.at)
                .bind(change.from.map(|s| s.key().to_owned()))
                .bind(change.to.key().to_owned())
                .bind(change.detail.clone())
                .execute(&mut *connection)
                .await
                .map_err(from_sqlx)?;
                report.changes.push(change);
                state
            }
        };
        // A pushed check that reports is expected again one interval (and a half) later; a
        // status the watchdog set itself (down) waits for the next report.
        let expect_by = (new_state.status == CheckStatus::Up)
            .then(|| place.push_interval_ms(&observation.check))
            .flatten()
            .map(|interval| supervision::expected_by(new_state.last, interval));
        states.insert(key.clone(), new_state);
        dirty.insert(key, expect_by);
    }
    for ((equipment, check), expect_by) in dirty {
        let state = &states[&(equipment.clone(), check.clone())];
        sqlx::query(
            "INSERT INTO check_states (equipment_ref, check_name, status, since_ms, last_ms, detail, expect_by_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (equipment_ref, check_name) DO UPDATE SET status = excluded.status, since_ms = excluded.since_ms, last_ms = excluded.last_ms, detail = excluded.detail, expect_by_ms = excluded.expect_by_ms",
        )
        .bind(equipment)
        .bind(check)
        .bind(state.status.key().to_owned())
        .bind(state.since)
        .bind(state.last)
        .bind(state.detail.clone())
        .bind(expect_by)
        .execute(&mut *connection)
        .await
        .map_err(from_sqlx)?;
    }
    for chunk in samples.chunks(SAMPLES_PER_STATEMENT) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                format!(
                    "(${}, ${}, ${}, ${})",
                    4 * i + 1,
                    4 * i + 2,
                    4 * i + 3,
                    4 * i + 4
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO samples (equipment_ref, metric, at_ms, value) VALUES {} ON CONFLICT DO NOTHING",
            values.join(", ")
        );
        let mut args = Vec::with_capacity(chunk.len() * 4);
        for (equipment, metric, at, value) in chunk {
            args.push(Arg::Text(Some((*equipment).to_owned())));
            args.push(Arg::Text(Some(metric.to_string())));
            args.push(Arg::Int(*at));
            args.push(Arg::Real(*value));
        }
        let written = build(&sql, args)
            .execute(&mut *connection)
            .await
            .map_err(from_sqlx)?;
        report.samples += usize::try_from(written.rows_affected()).unwrap_or(0);
    }
    // Samples arriving after their hour was rolled up (a backfill after an outage): the hour is
    // computed again from the raw samples, which are kept longer than the roll-up lags.
    for (equipment, metric, hour) in late_hours {
        roll_up_hour(
            connection,
            Some((&equipment, &metric)),
            hour,
            hour + HOUR_MS,
        )
        .await?;
    }
    Ok(report)
}

async fn rollup_watermark(connection: &mut AnyConnection) -> Result<i64, StoreError> {
    let row: Option<(i64,)> =
        sqlx::query_as("SELECT watermark_ms FROM rollups WHERE name = 'hourly'")
            .fetch_optional(&mut *connection)
            .await
            .map_err(from_sqlx)?;
    Ok(row.map_or(i64::MIN, |(w,)| w))
}

/// (Re)computes the hourly aggregates of `[from, to)`, for one series or all.
async fn roll_up_hour(
    connection: &mut AnyConnection,
    series: Option<(&str, &str)>,
    from: i64,
    to: i64,
) -> Result<(), StoreError> {
    let (filter, mut args) = match series {
        Some((equipment, metric)) => (
            " AND equipment_ref = $3 AND metric = $4",
            vec![
                Arg::Text(Some(equipment.to_owned())),
                Arg::Text(Some(metric.to_owned())),
            ],
        ),
        None => ("", Vec::new()),
    };
    args.insert(0, Arg::Int(to));
    args.insert(0, Arg::Int(from));
    let sql = format!(
        "INSERT INTO samples_hourly (equipment_ref, metric, hour_ms, count, total, minimum, maximum)
         SELECT equipment_ref, metric, at_ms - (at_ms % {HOUR_MS}), COUNT(*), SUM(value), MIN(value), MAX(value)
         FROM samples WHERE at_ms >= $1 AND at_ms < $2{filter}
         GROUP BY equipment_ref, metric, at_ms - (at_ms % {HOUR_MS})
         ON CONFLICT (equipment_ref, metric, hour_ms) DO UPDATE SET count = excluded.count, total = excluded.total, minimum = excluded.minimum, maximum = excluded.maximum"
    );
    build(&sql, args)
        .execute(&mut *connection)
        .await
        .map_err(from_sqlx)?;
    Ok(())
}

/// Client-visibility condition on a table with a `client_ref` column (or an equipment join).
fn visibility_condition(visibility: &Visibility, column: &str, args: &mut Vec<Arg>) -> String {
    match visibility {
        Visibility::Everything => String::new(),
        Visibility::OneClient(client) => {
            args.push(Arg::Text(Some(client.to_string())));
            format!(" AND {column} = ${}", args.len())
        }
    }
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
        let job = Job {
            batch: batch.map(|(s, n)| (s.to_owned(), n)),
            observations: observations.to_vec(),
            now_ms,
        };
        if self.backend() == crate::Backend::Postgres {
            // PostgreSQL writes concurrently from its pool; grouping would only serialise it.
            let mut transaction = self.write.begin().await.map_err(from_sqlx)?;
            let report = run_job(&mut transaction, &job).await?;
            transaction.commit().await.map_err(from_sqlx)?;
            return Ok(report);
        }
        let committer = self
            .observations
            .get_or_init(|| GroupCommit::start(self.write.clone()));
        let (reply, answer) = tokio::sync::oneshot::channel();
        committer
            .jobs
            .send((job, reply))
            .await
            .map_err(|_| StoreError::Unavailable("écriture des observations arrêtée".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Unavailable("écriture des observations interrompue".into()))?
    }

    /// One step of the watchdog at `now_ms`: every pushed check (heartbeat, agent) whose next
    /// report is overdue becomes `down`; every site probe that went silent loses its link, and
    /// the checks it ran become `unknown` from its last report on (the monitoring path is down,
    /// not the equipment). Returns the state changes, through the same entry point.
    pub async fn watchdog_step(&self, now_ms: i64) -> Result<IngestReport, StoreError> {
        let mut transaction = self.write.begin().await.map_err(from_sqlx)?;
        let overdue = sqlx::query("SELECT equipment_ref, check_name, last_ms FROM check_states WHERE expect_by_ms IS NOT NULL AND expect_by_ms <= $1 ORDER BY expect_by_ms LIMIT $2")
            .bind(now_ms)
            .bind(WATCHDOG_BATCH)
            .fetch_all(&mut *transaction)
            .await
            .map_err(from_sqlx)?;
        let mut observations = Vec::new();
        for row in overdue {
            let equipment: String = row.try_get(0).map_err(from_sqlx)?;
            let check: String = row.try_get(1).map_err(from_sqlx)?;
            let last: i64 = row.try_get(2).map_err(from_sqlx)?;
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
            .await
            .map_err(from_sqlx)?;
        let lost = sqlx::query("SELECT name, site_ref, last_ms FROM probes WHERE link = 'up' AND expect_by_ms IS NOT NULL AND expect_by_ms <= $1")
            .bind(now_ms)
            .fetch_all(&mut *transaction)
            .await
            .map_err(from_sqlx)?;
        for row in lost {
            let name: String = row.try_get(0).map_err(from_sqlx)?;
            let site: String = row.try_get(1).map_err(from_sqlx)?;
            let last: Option<i64> = row.try_get(2).map_err(from_sqlx)?;
            let since = last.unwrap_or(now_ms).saturating_add(1);
            sqlx::query("UPDATE probes SET link = 'lost' WHERE name = $1")
                .bind(name.clone())
                .execute(&mut *transaction)
                .await
                .map_err(from_sqlx)?;
            let states = sqlx::query(
                "SELECT s.equipment_ref, s.check_name FROM check_states s JOIN equipment e ON e.ref = s.equipment_ref WHERE e.site_ref = $1 AND s.check_name <> $2 AND s.check_name <> $3 AND s.status <> 'unknown'",
            )
            .bind(site)
            .bind(checks::HEARTBEAT)
            .bind(checks::AGENT)
            .fetch_all(&mut *transaction)
            .await
            .map_err(from_sqlx)?;
            for state in states {
                let (Ok(equipment), Ok(check)) = (
                    Reference::parse(&state.try_get::<String, _>(0).map_err(from_sqlx)?),
                    CheckName::parse(&state.try_get::<String, _>(1).map_err(from_sqlx)?),
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
        let report = ingest(&mut transaction, &observations).await?;
        transaction.commit().await.map_err(from_sqlx)?;
        Ok(report)
    }

    /// The earliest instant at which the watchdog has something to check (a pushed check or a
    /// probe due), for loops that sleep until then (the simulator's virtual clock).
    pub async fn next_expectation(&self) -> Result<Option<i64>, StoreError> {
        let row: (Option<i64>, Option<i64>) = sqlx::query_as(
            "SELECT (SELECT MIN(expect_by_ms) FROM check_states), (SELECT MIN(expect_by_ms) FROM probes WHERE link = 'up')",
        )
        .fetch_one(&self.read)
        .await
        .map_err(from_sqlx)?;
        Ok(match row {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        })
    }

    /// A site probe reported (its pushes and its own heartbeat): its link is up and it is
    /// expected again within one interval and a half.
    pub async fn probe_seen(
        &self,
        actor: &Actor,
        name: &str,
        site: &Reference,
        interval_ms: i64,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        require(actor, Permission::SendObservations)?;
        let mut transaction = self.write.begin().await.map_err(from_sqlx)?;
        let exists: Option<(String,)> = sqlx::query_as("SELECT ref FROM sites WHERE ref = $1")
            .bind(site.to_string())
            .fetch_optional(&mut *transaction)
            .await
            .map_err(from_sqlx)?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        sqlx::query(
            "INSERT INTO probes (name, site_ref, last_ms, expect_by_ms, link) VALUES ($1, $2, $3, $4, 'up')
             ON CONFLICT (name) DO UPDATE SET site_ref = excluded.site_ref, last_ms = excluded.last_ms, expect_by_ms = excluded.expect_by_ms, link = 'up'",
        )
        .bind(name.to_owned())
        .bind(site.to_string())
        .bind(now_ms)
        .bind(supervision::expected_by(now_ms, interval_ms))
        .execute(&mut *transaction)
        .await
        .map_err(from_sqlx)?;
        transaction.commit().await.map_err(from_sqlx)?;
        Ok(())
    }

    /// Every site probe the actor can see.
    pub async fn probes(&self, actor: &Actor) -> Result<Vec<ProbeRecord>, StoreError> {
        require(actor, Permission::ReadInventory)?;
        let mut args = Vec::new();
        let condition = visibility_condition(&actor.visibility(), "s.client_ref", &mut args);
        let sql = format!(
            "SELECT p.name, p.site_ref, p.last_ms, p.expect_by_ms, p.link FROM probes p JOIN sites s ON s.ref = p.site_ref WHERE 1 = 1{condition} ORDER BY p.name LIMIT 10000"
        );
        let rows = build(&sql, args)
            .fetch_all(&self.read)
            .await
            .map_err(from_sqlx)?;
        rows.into_iter()
            .map(|row| {
                Ok(ProbeRecord {
                    name: row.try_get(0).map_err(from_sqlx)?,
                    site: row.try_get(1).map_err(from_sqlx)?,
                    last: row.try_get(2).map_err(from_sqlx)?,
                    expect_by: row.try_get(3).map_err(from_sqlx)?,
                    link: row.try_get(4).map_err(from_sqlx)?,
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
        let condition = visibility_condition(&actor.visibility(), "e.client_ref", &mut args);
        self.require_visible(actor, scope).await?;
        let sql = format!(
            "SELECT s.equipment_ref, s.check_name, s.status, s.since_ms, s.last_ms, s.detail, s.expect_by_ms FROM check_states s JOIN equipment e ON e.ref = s.equipment_ref WHERE {column} = $1{condition} ORDER BY s.equipment_ref, s.check_name LIMIT {MAX_HISTORY_ROWS}"
        );
        let rows = build(&sql, args)
            .fetch_all(&self.read)
            .await
            .map_err(from_sqlx)?;
        rows.into_iter()
            .map(|row| {
                Ok(CurrentState {
                    equipment: row.try_get(0).map_err(from_sqlx)?,
                    check: row.try_get(1).map_err(from_sqlx)?,
                    state: CheckState {
                        status: status_of(&row.try_get::<String, _>(2).map_err(from_sqlx)?)?,
                        since: row.try_get(3).map_err(from_sqlx)?,
                        last: row.try_get(4).map_err(from_sqlx)?,
                        detail: row.try_get(5).map_err(from_sqlx)?,
                    },
                    expect_by: row.try_get(6).map_err(from_sqlx)?,
                })
            })
            .collect()
    }

    /// `NotFound` unless the equipment or site exists and the actor sees it.
    async fn require_visible(&self, actor: &Actor, scope: &Scope) -> Result<(), StoreError> {
        let (table, reference) = match scope {
            Scope::Equipment(r) => ("equipment", r),
            Scope::Site(r) => ("sites", r),
        };
        let mut args = vec![Arg::Text(Some(reference.to_string()))];
        let condition = visibility_condition(&actor.visibility(), "client_ref", &mut args);
        let sql = format!("SELECT ref FROM {table} WHERE ref = $1{condition}");
        build(&sql, args)
            .fetch_optional(&self.read)
            .await
            .map_err(from_sqlx)?
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
        let mut condition = visibility_condition(&actor.visibility(), "client_ref", &mut args);
        if let Some(after) = after {
            args.push(Arg::Int(after));
            condition.push_str(&format!(" AND id > ${}", args.len()));
        }
        args.push(Arg::Int(limit.clamp(1, MAX_HISTORY_ROWS)));
        let sql = format!(
            "SELECT id, client_ref, site_ref, equipment_ref, check_name, at_ms, from_status, to_status, detail FROM state_changes WHERE {column} = $1 AND at_ms >= $2 AND at_ms < $3{condition} ORDER BY at_ms, id LIMIT ${}",
            args.len()
        );
        let rows = build(&sql, args)
            .fetch_all(&self.read)
            .await
            .map_err(from_sqlx)?;
        rows.into_iter()
            .map(|row| {
                let from_status: Option<String> = row.try_get(6).map_err(from_sqlx)?;
                Ok(StoredChange {
                    id: row.try_get(0).map_err(from_sqlx)?,
                    client: row.try_get(1).map_err(from_sqlx)?,
                    site: row.try_get(2).map_err(from_sqlx)?,
                    change: StateChange {
                        equipment: Reference::parse(
                            &row.try_get::<String, _>(3).map_err(from_sqlx)?,
                        )
                        .map_err(|e| StoreError::Invalid(e.to_string()))?,
                        check: CheckName::parse(&row.try_get::<String, _>(4).map_err(from_sqlx)?)
                            .map_err(|e| StoreError::Invalid(e.to_string()))?,
                        at: row.try_get(5).map_err(from_sqlx)?,
                        from: from_status.as_deref().map(status_of).transpose()?,
                        to: status_of(&row.try_get::<String, _>(7).map_err(from_sqlx)?)?,
                        detail: row.try_get(8).map_err(from_sqlx)?,
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
            .await
            .map_err(from_sqlx)?;
        rows.into_iter()
            .map(|row| {
                Ok(Point {
                    at: row.try_get(0).map_err(from_sqlx)?,
                    value: row.try_get(1).map_err(from_sqlx)?,
                    min: row.try_get(2).map_err(from_sqlx)?,
                    max: row.try_get(3).map_err(from_sqlx)?,
                })
            })
            .collect()
    }

    /// Rolls complete hours up to `now_ms` into hourly aggregates, then deletes what is past
    /// its retention. Bounded: at most `max_hours` hours are rolled per call.
    pub async fn roll_up_and_prune(
        &self,
        now_ms: i64,
        retention: Retention,
        max_hours: i64,
    ) -> Result<(), StoreError> {
        let mut transaction = self.write.begin().await.map_err(from_sqlx)?;
        let current_hour = now_ms.div_euclid(HOUR_MS) * HOUR_MS;
        let watermark = rollup_watermark(&mut transaction).await?;
        let start = if watermark == i64::MIN {
            let oldest: Option<(Option<i64>,)> = sqlx::query_as("SELECT MIN(at_ms) FROM samples")
                .fetch_optional(&mut *transaction)
                .await
                .map_err(from_sqlx)?;
            oldest
                .and_then(|(o,)| o)
                .map_or(current_hour, |o| o.div_euclid(HOUR_MS) * HOUR_MS)
        } else {
            watermark
        };
        let end = current_hour.min(start.saturating_add(max_hours.max(1).saturating_mul(HOUR_MS)));
        if end > start {
            roll_up_hour(&mut transaction, None, start, end).await?;
        }
        sqlx::query("INSERT INTO rollups (name, watermark_ms) VALUES ('hourly', $1) ON CONFLICT (name) DO UPDATE SET watermark_ms = excluded.watermark_ms")
            .bind(end.max(start))
            .execute(&mut *transaction)
            .await
            .map_err(from_sqlx)?;
        // Raw samples are kept until rolled up, whatever the retention says.
        sqlx::query("DELETE FROM samples WHERE at_ms < $1 AND at_ms < $2")
            .bind(now_ms - retention.raw_ms)
            .bind(end.max(start))
            .execute(&mut *transaction)
            .await
            .map_err(from_sqlx)?;
        sqlx::query("DELETE FROM samples_hourly WHERE hour_ms < $1")
            .bind(now_ms - retention.hourly_ms)
            .execute(&mut *transaction)
            .await
            .map_err(from_sqlx)?;
        sqlx::query("DELETE FROM pushed_batches WHERE received_ms < $1")
            .bind(now_ms - retention.raw_ms)
            .execute(&mut *transaction)
            .await
            .map_err(from_sqlx)?;
        transaction.commit().await.map_err(from_sqlx)?;
        Ok(())
    }

    /// Keeps an SNMP notification, known or not.
    pub async fn record_trap(&self, trap: &TrapRecord) -> Result<i64, StoreError> {
        let varbinds = serde_json::to_string(&trap.varbinds).map_err(StoreError::other)?;
        let client: Option<String> = match &trap.equipment {
            Some(equipment) => {
                sqlx::query_as::<_, (String,)>("SELECT client_ref FROM equipment WHERE ref = $1")
                    .bind(equipment.clone())
                    .fetch_optional(&self.read)
                    .await
                    .map_err(from_sqlx)?
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
        .await
        .map_err(from_sqlx)?;
        Ok(row.0)
    }

    /// The latest traps, newest first (staff only); `unknown_only` keeps those no template knew.
    pub async fn traps(
        &self,
        actor: &Actor,
        unknown_only: bool,
        limit: i64,
    ) -> Result<Vec<TrapRecord>, StoreError> {
        require(actor, Permission::ReadInventory)?;
        if !actor.is_staff() {
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
            .await
            .map_err(from_sqlx)?;
        rows.into_iter()
            .map(|row| {
                let varbinds: String = row.try_get(9).map_err(from_sqlx)?;
                Ok(TrapRecord {
                    id: row.try_get(0).map_err(from_sqlx)?,
                    received: row.try_get(1).map_err(from_sqlx)?,
                    source: row.try_get(2).map_err(from_sqlx)?,
                    version: row.try_get(3).map_err(from_sqlx)?,
                    sender: row.try_get(4).map_err(from_sqlx)?,
                    trap_oid: row.try_get(5).map_err(from_sqlx)?,
                    equipment: row.try_get(6).map_err(from_sqlx)?,
                    check: row.try_get(7).map_err(from_sqlx)?,
                    error: row.try_get(8).map_err(from_sqlx)?,
                    varbinds: serde_json::from_str(&varbinds).unwrap_or_default(),
                })
            })
            .collect()
    }

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
                .await
                .map_err(from_sqlx)?;
        row.map(|(record,)| serde_json::from_str(&record).map_err(StoreError::other))
            .transpose()
    }
}
