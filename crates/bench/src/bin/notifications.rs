//! `vigie-bench-notifications`: from an alarm to its notification handed to the receiver,
//! Vigie side by side with Prometheus Alertmanager in the same run, both delivering to the
//! same local webhook receiver: 100 alerts at 20/s, bursts of 1,000 and 10,000, and 10,000
//! more on top of 10,000 live ones. Measures p50/p99/max latency, notifications per second,
//! CPU per alert, peak memory, lost and duplicated notifications; prints a Markdown section
//! and writes it into docs/benchmarks.md.
//!
//! Three kinds of processes, all this same binary, so that each measure reads one process:
//! - the orchestrator (no hidden flag) starts the receiver, then one worker per series and
//!   system, one after the other (never two systems loaded at once), and writes the report;
//! - the receiver (`--receiver <port-file>`) records every request's arrival instant, its
//!   idempotency key and its peer, and gives them back over HTTP;
//! - a worker (`--worker <system>:<series>`) sets a system up, raises the alerts and waits
//!   until the receiver has them all. For Vigie the worker *is* the Vigie process (store,
//!   delivery loop, alarm generator); for Alertmanager it starts a fresh Alertmanager and
//!   posts the alerts to it, so that Alertmanager's own process is measured alone.
//!
//! Each series runs `--runs` times, interleaved, and the medians are reported; then Vigie's
//! bursts are replayed in two halves (`--split`: every save first, then the delivery loop
//! alone) to show where its time and CPU go.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use vigie_bench::{fr, grouped, percentile, status_bytes};

use anyhow::{Context, bail};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use clap::Parser;
use serde::{Deserialize, Serialize};
use vigie_domain::Reference;
use vigie_domain::access::Actor;
use vigie_domain::alarm::lifecycle::{Alarm, AlarmEvent, EventKind};
use vigie_domain::alarm::rules::{Condition, ConditionKey};
use vigie_domain::inventory::file::InventoryFile;
use vigie_domain::policy::{Policy, Severity};
use vigie_server::config::WebhookConfig;
use vigie_server::delivery::{self, Channels};
use vigie_server::{AppState, Clock, Config};
use vigie_store::testing::TestDatabase;
use vigie_store::{Backend, Escalation, System};

/// Notification delivery, against Alertmanager.
#[derive(Debug, Parser)]
struct Options {
    /// Series to run: 1 (100 alerts at 20/s), 2 (burst of 1,000), 3 (burst of 10,000),
    /// 4 (10,000 more on top of 10,000 live).
    #[arg(long, value_delimiter = ',', default_value = "1,2,3,4")]
    series: Vec<u8>,
    /// Vigie's databases: sqlite, postgres. `VIGIE_BENCH_PG` set adds postgres.
    #[arg(long, value_delimiter = ',', default_value = "sqlite")]
    backends: Vec<String>,
    /// Vigie's `[notifications] max_in_flight` (1 to 1024).
    #[arg(long, default_value_t = 256)]
    max_in_flight: usize,
    /// Runs of each series and system, interleaved; the median of each measure is kept, and
    /// the lost and duplicated notifications of every run are added up.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Alerts per `save_alarms` call, and per POST to Alertmanager, in a burst.
    #[arg(long, default_value_t = 1000)]
    batch: usize,
    /// The longest a series waits for its notifications (s).
    #[arg(long, default_value_t = 120)]
    timeout_seconds: u64,
    #[arg(long, default_value = "/usr/bin/prometheus-alertmanager")]
    alertmanager: PathBuf,
    /// Alertmanager's `group_interval`. It does not delay a first notification; with one
    /// group per alert it is how often each live group runs its pipeline again: at 1s, 10,000
    /// live groups cost Alertmanager about 40 % more CPU in series 4. Its own default, so as
    /// not to handicap the peer.
    #[arg(long, default_value = "5m")]
    am_group_interval: String,
    /// The report to update (its section is replaced, or added).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/benchmarks.md"))]
    doc: PathBuf,
    /// Print the section only, without touching the report.
    #[arg(long)]
    no_doc: bool,
    /// Receiver mode: serve on 127.0.0.1:0 and write the port to this file.
    #[arg(long, hide = true)]
    receiver: Option<PathBuf>,
    /// Worker mode: `vigie-sqlite:N`, `vigie-postgres:N` or `am:N`.
    #[arg(long, hide = true)]
    worker: Option<String>,
    #[arg(long, hide = true)]
    receiver_port: Option<u16>,
    /// Where a worker writes its result (JSON).
    #[arg(long, hide = true)]
    result: Option<PathBuf>,
    /// Worker: Vigie's cost split in two, all the saves with no delivery loop, then the
    /// delivery loop alone on the pages they queued.
    #[arg(long, hide = true)]
    split: bool,
}

/// The section's title, also how the report finds it again.
const TITLE: &str = "## Notifications : de l'alarme au destinataire, face à Alertmanager";
/// The most notifications the receiver keeps: far above a whole benchmark's (about 200,000
/// with 3 runs), a bound on a runaway peer.
const MAX_RECORDS: usize = 1_000_000;
/// The longest one `/wait` request of a worker is held by the receiver.
const LONG_POLL: Duration = Duration::from_secs(10);
/// After the last expected notification, how long a worker still listens for duplicates.
const GRACE: Duration = Duration::from_secs(2);
/// The live alarms of series 4, and the alarms beyond.
const LIVE: usize = 10_000;
const SECRET: &str = "secret-de-mesure";

// ---------------------------------------------------------------------------------------
// Small helpers: clocks, /proc, formatting.

/// Wall clock, µs since 1970: the receiver and the workers are separate processes, and the
/// wall clock is the one they share.
fn wall_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// CPU (user + system) of process `pid` ("self" for this one), without its children.
fn own_cpu(pid: &str) -> anyhow::Result<Duration> {
    vigie_bench::cpu_of(pid).map(|(own, _)| own)
}

/// Resets the peak resident memory (VmHWM) of `pid` to its current resident memory, so that
/// a series' peak is not its setup's (Linux ≥ 4.0).
fn reset_peak(pid: &str) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}

/// A child process killed when dropped, should anything stop before it ends.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Waits for `child` at most `limit`; kills it past that.
fn wait_bounded(child: &mut ChildGuard, limit: Duration, what: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        if let Some(status) = child.0.try_wait()? {
            if !status.success() {
                bail!("{what} : terminé en échec ({status})");
            }
            return Ok(());
        }
        if started.elapsed() > limit {
            let _ = child.0.kill();
            let _ = child.0.wait();
            bail!("{what} : pas fini en {} s, arrêté", limit.as_secs());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Ends this process when its standard input closes: the orchestrator holds the other end,
/// so a receiver or worker never outlives it. `on_close` runs first (a worker stops its
/// Alertmanager there).
fn exit_with_parent(on_close: impl FnOnce() + Send + 'static) {
    std::thread::spawn(move || {
        let mut sink = [0u8; 64];
        let mut stdin = std::io::stdin();
        while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
        on_close();
        std::process::exit(1);
    });
}

// ---------------------------------------------------------------------------------------
// The receiver.

/// What the receiver got for one (peer, run): each notification with its arrival (µs).
#[derive(Default)]
struct Run {
    records: Vec<(String, i64)>,
    distinct: HashSet<String>,
}

#[derive(Default)]
struct Received {
    runs: HashMap<(String, String), Run>,
    total: usize,
    dropped: usize,
}

/// The records, and a signal raised on each arrival for the workers waiting.
#[derive(Default)]
struct Inbox {
    received: Mutex<Received>,
    arrived: tokio::sync::Notify,
}

type Shared = Arc<Inbox>;

impl Inbox {
    fn count(&self, peer: &str, run: &str) -> Count {
        let received = self.received.lock().unwrap_or_else(|e| e.into_inner());
        let (records, distinct) = received
            .runs
            .get(&(peer.to_owned(), run.to_owned()))
            .map_or((0, 0), |r| (r.records.len(), r.distinct.len()));
        Count {
            records,
            distinct,
            dropped: received.dropped,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Count {
    records: usize,
    distinct: usize,
    dropped: usize,
}

/// The keys a request carries: Vigie's `X-Vigie-Key` header; for Alertmanager, the `key`
/// label of each alert of the JSON body (one alert per notification here, but a group of
/// several would count each).
fn keys_of(peer: &str, headers: &HeaderMap, body: &[u8]) -> Vec<String> {
    match peer {
        "vigie" => headers
            .get("x-vigie-key")
            .and_then(|v| v.to_str().ok())
            .map(|k| vec![k.to_owned()])
            .unwrap_or_else(|| vec![String::new()]),
        _ => {
            let parsed: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
            let keys: Vec<String> = parsed["alerts"]
                .as_array()
                .map(|alerts| {
                    alerts
                        .iter()
                        .map(|a| a["labels"]["key"].as_str().unwrap_or_default().to_owned())
                        .collect()
                })
                .unwrap_or_default();
            if keys.is_empty() {
                vec![String::new()]
            } else {
                keys
            }
        }
    }
}

async fn receive(
    State(shared): State<Shared>,
    UrlPath((peer, run)): UrlPath<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    // The arrival instant first: reading the body and the lock come after.
    let arrived = wall_us();
    let keys = keys_of(&peer, &headers, &body);
    let mut received = shared.received.lock().unwrap_or_else(|e| e.into_inner());
    for key in keys {
        if received.total >= MAX_RECORDS {
            received.dropped += 1;
            continue;
        }
        received.total += 1;
        let run = received
            .runs
            .entry((peer.clone(), run.clone()))
            .or_default();
        run.distinct.insert(key.clone());
        run.records.push((key, arrived));
    }
    drop(received);
    shared.arrived.notify_waiters();
    StatusCode::OK
}

/// Answers once `expected` distinct keys of (peer, run) have arrived, or after
/// [`LONG_POLL`]: a worker learns the end of its series at once, without polling (whose CPU
/// would be charged to the Vigie process it measures).
async fn wait(
    State(shared): State<Shared>,
    UrlPath((peer, run, expected)): UrlPath<(String, String, usize)>,
) -> axum::Json<Count> {
    let deadline = tokio::time::Instant::now() + LONG_POLL;
    loop {
        // Registered before the check, so that an arrival between the two is not missed.
        let arrived = shared.arrived.notified();
        let count = shared.count(&peer, &run);
        if count.distinct >= expected {
            return axum::Json(count);
        }
        if tokio::time::timeout_at(deadline, arrived).await.is_err() {
            return axum::Json(shared.count(&peer, &run));
        }
    }
}

async fn results(
    State(shared): State<Shared>,
    UrlPath((peer, run)): UrlPath<(String, String)>,
) -> axum::Json<Vec<(String, i64)>> {
    let received = shared.received.lock().unwrap_or_else(|e| e.into_inner());
    axum::Json(
        received
            .runs
            .get(&(peer, run))
            .map(|r| r.records.clone())
            .unwrap_or_default(),
    )
}

fn run_receiver(port_file: &Path) -> anyhow::Result<()> {
    exit_with_parent(|| {});
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let shared: Shared = Arc::default();
        let app = Router::new()
            .route("/{peer}/{run}", post(receive))
            .route("/wait/{peer}/{run}/{expected}", get(wait))
            .route("/results/{peer}/{run}", get(results))
            .with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        // Written whole then renamed: the orchestrator never reads half a number.
        let partial = port_file.with_extension("partiel");
        std::fs::write(&partial, port.to_string())?;
        std::fs::rename(&partial, port_file)?;
        // A receiver forgotten by a crashed run stops by itself.
        tokio::time::timeout(Duration::from_secs(4 * 3600), axum::serve(listener, app))
            .await
            .ok();
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------
// The series and what a worker reports.

#[derive(Debug, Clone, Copy)]
struct Series {
    number: u8,
    /// Alerts raised and delivered before the measure, left live.
    live: usize,
    /// Alerts measured.
    count: usize,
    /// Alerts per second, one at a time; None: a burst, `batch` per call.
    rate: Option<u32>,
}

impl Series {
    fn get(number: u8) -> anyhow::Result<Series> {
        let (live, count, rate) = match number {
            1 => (0, 100, Some(20)),
            2 => (0, 1_000, None),
            3 => (0, 10_000, None),
            4 => (LIVE, 10_000, None),
            _ => bail!("série {number} inconnue (1 à 4)"),
        };
        Ok(Series {
            number,
            live,
            count,
            rate,
        })
    }

    fn label(&self) -> String {
        match (self.live, self.rate) {
            (0, Some(rate)) => format!("{} alertes à {rate}/s", grouped(self.count)),
            (0, None) => format!("rafale de {}", grouped(self.count)),
            (live, _) => format!(
                "{} de plus sur {} vivantes",
                grouped(self.count),
                grouped(live)
            ),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct SeriesResult {
    system: String,
    series: u8,
    alerts: usize,
    received: usize,
    /// Notifications received before the last alert was raised (saved or posted): whether
    /// delivery goes on while a burst is being recorded.
    before_last_raise: usize,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    per_second: f64,
    cpu_s: f64,
    cpu_us_per_alert: f64,
    /// VmHWM of the measured process since its setup ended.
    peak_bytes: u64,
    /// VmRSS of the measured process when its setup ended.
    start_rss_bytes: u64,
    /// VmRSS with the live alarms delivered, before the measure (series 4).
    live_rss_bytes: Option<u64>,
    lost: usize,
    duplicated: usize,
    unexpected: usize,
    /// Of the live phase (series 4): these count too.
    live_lost: usize,
    live_duplicated: usize,
    /// Vigie: time spent in `save_alarms` over the measure, and its longest call (ms).
    save_total_ms: Option<f64>,
    save_max_ms: Option<f64>,
    /// Vigie: p50/p99 of t0 → end of the `save_alarms` that queued the page (ms).
    queued_p50_ms: Option<f64>,
    queued_p99_ms: Option<f64>,
    /// Vigie: pages per status at the end (webhook and console).
    pages: BTreeMap<String, i64>,
}

/// What the receiver holds for one run, read against the alerts raised.
struct Tally {
    /// Latency of each delivered alert (ms), in the order of `ids`.
    latencies: Vec<f64>,
    first_t0: i64,
    last_receipt: i64,
    lost: usize,
    duplicated: usize,
}

/// Reads `records` for the alerts `t0` maps (alert number → t0 in µs). `key_to_id` turns a
/// received key into an alert number, None for a key nobody sent.
fn tally(
    records: &[(String, i64)],
    t0: &HashMap<u64, i64>,
    key_to_id: impl Fn(&str) -> Option<u64>,
) -> (Tally, usize) {
    let mut first: HashMap<u64, i64> = HashMap::new();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut unexpected = 0;
    for (key, at) in records {
        *seen.entry(key.as_str()).or_default() += 1;
        match key_to_id(key) {
            Some(id) if t0.contains_key(&id) => {
                let slot = first.entry(id).or_insert(*at);
                *slot = (*slot).min(*at);
            }
            // Keys of the live phase are tallied in their own pass.
            Some(_) => {}
            None => unexpected += 1,
        }
    }
    let duplicated = seen
        .iter()
        .filter(|(key, n)| **n > 1 && key_to_id(key).is_some_and(|id| t0.contains_key(&id)))
        .count();
    let mut latencies = Vec::with_capacity(t0.len());
    let mut lost = 0;
    let mut last_receipt = i64::MIN;
    for (id, start) in t0 {
        match first.get(id) {
            Some(at) => {
                latencies.push((at - start) as f64 / 1000.0);
                last_receipt = last_receipt.max(*at);
            }
            None => lost += 1,
        }
    }
    let first_t0 = t0.values().copied().min().unwrap_or(0);
    (
        Tally {
            latencies,
            first_t0,
            last_receipt,
            lost,
            duplicated,
        },
        unexpected,
    )
}

// ---------------------------------------------------------------------------------------
// The systems under test.

/// Vigie's key for alarm `id`'s one webhook page: (alarm, step label, recipient, channel).
fn vigie_key(id: u64) -> String {
    format!("{id}/critical/bench/bench/webhook")
}

fn vigie_id(key: &str) -> Option<u64> {
    let id: u64 = key.split_once('/')?.0.parse().ok()?;
    (key == vigie_key(id)).then_some(id)
}

fn equipment_ref(id: u64) -> String {
    format!("CAM-{id:06}")
}

/// One client, one contract, one site, and one camera per alarm.
fn inventory(cameras: usize) -> String {
    let mut text = String::from(
        "version = 1\n[[client]]\nref = \"CLI-BENCH\"\nname = \"Client de mesure\"\n\
         [[contract]]\nref = \"CTR-BENCH\"\nclient = \"CLI-BENCH\"\noptions = [\"supervision\"]\n\
         [[site]]\nref = \"SITE-BENCH\"\nclient = \"CLI-BENCH\"\ncontract = \"CTR-BENCH\"\nname = \"Site de mesure\"\n",
    );
    for id in 1..=cameras as u64 {
        let _ = write!(
            text,
            "[[equipment]]\nref = \"{}\"\nsite = \"SITE-BENCH\"\nname = \"Caméra {id}\"\nkind = \"camera\"\n",
            equipment_ref(id)
        );
    }
    text
}

/// The default policy whose Critical chain is one step, at once, to the webhooks (and, as
/// every step, to the supervision console): one webhook page per alarm, as Alertmanager's
/// one notification per alert. `with_overlay` replaces an array whole, so the default chain's
/// other steps (SMS and email, not configured here) are gone; Major and Minor stay.
fn bench_policy() -> anyhow::Result<Policy> {
    let overlay: toml::Table = toml::from_str(
        "[[escalation.critical]]\nname = \"bench\"\nafter = \"0m\"\nnotify = [\"supervision\"]\nchannels = [\"webhook\"]\n",
    )?;
    let policy = Policy::default_policy().with_overlay(&overlay)?;
    if policy.chain(Severity::Critical).len() != 1 || policy.chain(Severity::Major).is_empty() {
        bail!("la politique de mesure n'a pas la chaîne attendue");
    }
    Ok(policy)
}

struct VigieSide {
    database: TestDatabase,
    store: System,
    state: AppState,
    /// The delivery loop, once started.
    delivery: Option<tokio::task::JoinHandle<()>>,
    client: Reference,
    site: Reference,
    /// Each `save_alarms` call: its duration.
    saves: Vec<Duration>,
}

impl VigieSide {
    async fn start(
        backend: Backend,
        cameras: usize,
        url: String,
        max_in_flight: usize,
    ) -> anyhow::Result<VigieSide> {
        let database = TestDatabase::create(backend).await;
        let store = database.open().await;
        let parsed = InventoryFile::parse(&inventory(cameras))
            .map_err(|e| anyhow::anyhow!("inventaire de mesure refusé : {e:?}"))?;
        let now = wall_us() / 1000;
        store
            .import(&Actor::console("bench"), &parsed.inventory, now)
            .await?;
        let mut config = Config::default();
        config.supervision.poll = false;
        config.reports.monthly = false;
        config.notifications.max_in_flight = max_in_flight;
        config.notifications.webhooks = vec![WebhookConfig {
            name: "bench".into(),
            url,
            secret: vigie_server::config::Password(SECRET.into()),
        }];
        let state =
            AppState::new(store.clone(), config, Clock::System).with_escalation(Escalation {
                policy: Arc::new(bench_policy()?),
                webhooks: vec!["bench".into()],
            });
        // The signing key is made once per database: not part of any alarm's latency.
        state.deliveries.key().await?;
        Ok(VigieSide {
            database,
            store,
            state,
            delivery: None,
            client: Reference::parse("CLI-BENCH")?,
            site: Reference::parse("SITE-BENCH")?,
            saves: Vec::new(),
        })
    }

    /// Raises alarms `ids` at one instant, as the alarm worker saves them: one transaction
    /// that stores them, arms their escalation and fires its first step, queueing the pages;
    /// then wakes the delivery loop. Returns t0, the instant just before the save (µs).
    async fn raise(&mut self, ids: std::ops::Range<u64>) -> anyhow::Result<i64> {
        let now = wall_us() / 1000;
        let mut alarms = Vec::with_capacity(ids.clone().count());
        let mut events: Vec<AlarmEvent> = Vec::with_capacity(alarms.capacity() * 2);
        for id in ids {
            let (mut alarm, raised) = Alarm::raised(
                id,
                Some(self.site.clone()),
                Some(Reference::parse(&equipment_ref(id))?),
                ConditionKey::whole(Condition::Unreachable),
                Severity::Critical,
                false,
                now,
            );
            alarm.notified_at = Some(now);
            events.push(raised);
            events.push(alarm.event(
                now,
                None,
                EventKind::Notified {
                    severity: Severity::Critical,
                },
            ));
            alarms.push((Some(self.client.clone()), alarm));
        }
        let t0 = wall_us();
        let started = Instant::now();
        // `now` in ms at t0: the step due at the notification instant fires in this call.
        self.store
            .save_alarms(&alarms, &events, Some(&self.state.escalation()), t0 / 1000)
            .await?;
        self.saves.push(started.elapsed());
        self.state.deliveries.wake();
        Ok(t0)
    }

    /// Starts the delivery loop, as the server does.
    fn start_delivery(&mut self) -> anyhow::Result<()> {
        let channels = Channels::from_config(&self.state.config).map_err(anyhow::Error::msg)?;
        self.delivery = Some(tokio::spawn(delivery::run(self.state.clone(), channels)));
        Ok(())
    }

    async fn stop(self) -> anyhow::Result<BTreeMap<String, i64>> {
        if let Some(delivery) = self.delivery {
            delivery.abort();
            let _ = delivery.await;
        }
        let pages = self.store.notification_counts().await?;
        self.store.close().await;
        self.database.drop_database().await;
        Ok(pages)
    }
}

/// A port free now on 127.0.0.1 (for Alertmanager, which must be told its port).
fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

struct AmSide {
    /// Stops Alertmanager when the side is dropped.
    _child: ChildGuard,
    pid: String,
    http: reqwest::Client,
    url: String,
    _dir: TempDir,
}

/// A directory removed with everything in it when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn create(name: &str) -> anyhow::Result<TempDir> {
        let path = std::env::temp_dir().join(format!(
            "vigie-bench-notifications-{}-{name}",
            std::process::id()
        ));
        std::fs::create_dir_all(&path)?;
        Ok(TempDir(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn am_config(receiver: &str, group_interval: &str) -> String {
    format!(
        "route:\n  receiver: bench\n  group_by: ['...']\n  group_wait: 0s\n  group_interval: {group_interval}\n  repeat_interval: 24h\n\
         receivers:\n  - name: bench\n    webhook_configs:\n      - url: {receiver}\n        send_resolved: false\n        max_alerts: 0\n"
    )
}

impl AmSide {
    async fn start(binary: &Path, receiver: &str, group_interval: &str) -> anyhow::Result<AmSide> {
        let dir = TempDir::create("am")?;
        let config = dir.0.join("alertmanager.yml");
        std::fs::write(&config, am_config(receiver, group_interval))?;
        let port = free_port()?;
        let child = ChildGuard(
            Command::new(binary)
                .arg(format!("--config.file={}", config.display()))
                .arg(format!("--storage.path={}", dir.0.join("data").display()))
                .arg(format!("--web.listen-address=127.0.0.1:{port}"))
                // Empty: no cluster, so no gossip and no wait for peers before notifying.
                .arg("--cluster.listen-address=")
                .arg("--log.level=warn")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(dir.0.join("alertmanager.log"))?)
                .spawn()
                .with_context(|| format!("impossible de lancer {}", binary.display()))?,
        );
        let pid = child.0.id().to_string();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()?;
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        loop {
            if let Ok(answer) = http.get(format!("{url}/-/ready")).send().await
                && answer.status().is_success()
            {
                break;
            }
            if started.elapsed() > Duration::from_secs(30) {
                let log =
                    std::fs::read_to_string(dir.0.join("alertmanager.log")).unwrap_or_default();
                bail!("Alertmanager pas prêt en 30 s :\n{log}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(AmSide {
            _child: child,
            pid,
            http,
            url,
            _dir: dir,
        })
    }

    /// Posts alerts `ids` in one request, firing until tomorrow. Returns t0, the instant
    /// just before the POST (µs).
    async fn raise(&mut self, ids: std::ops::Range<u64>) -> anyhow::Result<i64> {
        let now = jiff::Timestamp::now();
        let ends = now + jiff::SignedDuration::from_hours(24);
        let alerts: Vec<serde_json::Value> = ids
            .map(|id| {
                serde_json::json!({
                    "labels": { "alertname": "VigieBench", "key": id.to_string(), "severity": "critical" },
                    "startsAt": now.to_string(),
                    "endsAt": ends.to_string(),
                })
            })
            .collect();
        let body = serde_json::to_vec(&alerts)?;
        let t0 = wall_us();
        let answer = self
            .http
            .post(format!("{}/api/v2/alerts", self.url))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await?;
        if !answer.status().is_success() {
            bail!(
                "Alertmanager refuse les alertes : {} {}",
                answer.status(),
                answer.text().await.unwrap_or_default()
            );
        }
        Ok(t0)
    }
}

enum Side {
    Vigie(Box<VigieSide>),
    Am(AmSide),
}

impl Side {
    async fn raise(&mut self, ids: std::ops::Range<u64>) -> anyhow::Result<i64> {
        match self {
            Side::Vigie(vigie) => vigie.raise(ids).await,
            Side::Am(am) => am.raise(ids).await,
        }
    }

    /// The process whose CPU and memory are measured.
    fn pid(&self) -> String {
        match self {
            Side::Vigie(_) => "self".into(),
            Side::Am(am) => am.pid.clone(),
        }
    }
}

// ---------------------------------------------------------------------------------------
// A worker: one system, one series.

struct Receiver {
    http: reqwest::Client,
    base: String,
    peer: &'static str,
    run: String,
}

impl Receiver {
    /// Waits until `expected` distinct keys have arrived, or until `deadline`: one request
    /// held by the receiver at a time, answered at the last arrival.
    async fn wait_for(&self, expected: usize, deadline: Instant) -> anyhow::Result<bool> {
        loop {
            let count: Count = self
                .http
                .get(format!(
                    "{}/wait/{}/{}/{expected}",
                    self.base, self.peer, self.run
                ))
                .send()
                .await?
                .json()
                .await?;
            if count.distinct >= expected {
                return Ok(true);
            }
            if Instant::now() > deadline {
                return Ok(false);
            }
        }
    }

    async fn results(&self) -> anyhow::Result<Vec<(String, i64)>> {
        Ok(self
            .http
            .get(format!("{}/results/{}/{}", self.base, self.peer, self.run))
            .send()
            .await?
            .json()
            .await?)
    }
}

/// Raises alerts `ids` the series' way: one at a time at its rate, or in batches at once.
async fn raise_all(
    side: &mut Side,
    ids: std::ops::Range<u64>,
    rate: Option<u32>,
    batch: usize,
    t0: &mut HashMap<u64, i64>,
) -> anyhow::Result<()> {
    match rate {
        Some(rate) => {
            let period = Duration::from_secs(1) / rate;
            let mut next = tokio::time::Instant::now();
            for id in ids {
                tokio::time::sleep_until(next).await;
                next += period;
                let at = side.raise(id..id + 1).await?;
                t0.insert(id, at);
            }
        }
        None => {
            let mut start = ids.start;
            while start < ids.end {
                let end = (start + batch as u64).min(ids.end);
                let at = side.raise(start..end).await?;
                for id in start..end {
                    t0.insert(id, at);
                }
                start = end;
            }
        }
    }
    Ok(())
}

/// Vigie's path in two halves, measured one after the other in one process: where its time
/// and CPU go.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Split {
    series: u8,
    alerts: usize,
    save_cpu_s: f64,
    save_wall_s: f64,
    deliver_cpu_s: f64,
    deliver_wall_s: f64,
    delivered: usize,
}

/// All the saves first, the delivery loop stopped; then the loop alone until the receiver
/// has every page.
async fn run_split(
    side: &mut Side,
    series: Series,
    options: &Options,
    receiver: &Receiver,
) -> anyhow::Result<Split> {
    let mut t0 = HashMap::new();
    let ids = 1..series.count as u64 + 1;
    let cpu = own_cpu("self")?;
    let started = Instant::now();
    raise_all(side, ids, series.rate, options.batch, &mut t0).await?;
    let save_wall = started.elapsed();
    let save_cpu = own_cpu("self")?.saturating_sub(cpu);
    let cpu = own_cpu("self")?;
    let started = Instant::now();
    if let Side::Vigie(vigie) = side {
        vigie.start_delivery()?;
    }
    let deadline = Instant::now() + Duration::from_secs(options.timeout_seconds);
    receiver.wait_for(series.count, deadline).await?;
    let deliver_wall = started.elapsed();
    let deliver_cpu = own_cpu("self")?.saturating_sub(cpu);
    let delivered = receiver.results().await?.len();
    Ok(Split {
        series: series.number,
        alerts: series.count,
        save_cpu_s: save_cpu.as_secs_f64(),
        save_wall_s: save_wall.as_secs_f64(),
        deliver_cpu_s: deliver_cpu.as_secs_f64(),
        deliver_wall_s: deliver_wall.as_secs_f64(),
        delivered,
    })
}

/// Runs one worker and returns its result as JSON (a [`SeriesResult`], or a [`Split`]).
async fn run_worker(options: &Options, spec: &str) -> anyhow::Result<String> {
    let (system, number) = spec
        .split_once(':')
        .context("--worker : système:série attendu")?;
    let series = Series::get(number.parse()?)?;
    let port = options.receiver_port.context("--receiver-port manquant")?;
    let base = format!("http://127.0.0.1:{port}");
    let run = format!("{system}-{}-{}", series.number, std::process::id());
    let peer: &'static str = if system == "am" { "am" } else { "vigie" };
    let receiver_url = format!("{base}/{peer}/{run}");
    let total = series.live + series.count;
    let mut side = match system {
        "vigie-sqlite" | "vigie-postgres" => {
            exit_with_parent(|| {});
            let backend = if system == "vigie-sqlite" {
                Backend::Sqlite
            } else {
                Backend::Postgres
            };
            Side::Vigie(Box::new(
                VigieSide::start(backend, total, receiver_url, options.max_in_flight).await?,
            ))
        }
        "am" => {
            let am = AmSide::start(
                &options.alertmanager,
                &receiver_url,
                &options.am_group_interval,
            )
            .await?;
            // Should the orchestrator go, this worker stops its Alertmanager, by its id.
            let pid = am.pid.clone();
            exit_with_parent(move || {
                let _ = Command::new("kill").arg(&pid).status();
            });
            Side::Am(am)
        }
        other => bail!("système « {other} » inconnu"),
    };
    let pid = side.pid();
    let receiver = Receiver {
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()?,
        base,
        peer,
        run,
    };
    let key_to_id = |key: &str| -> Option<u64> {
        if peer == "vigie" {
            vigie_id(key)
        } else {
            key.parse().ok()
        }
    };
    if options.split {
        if series.live > 0 || !matches!(side, Side::Vigie(_)) {
            bail!("--split : pour Vigie, séries 1 à 3");
        }
        eprintln!(
            "{system}, série {} en deux temps : enregistrements, puis distribution…",
            series.number
        );
        let split = run_split(&mut side, series, options, &receiver).await?;
        if let Side::Vigie(vigie) = side {
            vigie.stop().await?;
        }
        return Ok(serde_json::to_string(&split)?);
    }
    if let Side::Vigie(vigie) = &mut side {
        vigie.start_delivery()?;
    }
    let timeout = Duration::from_secs(options.timeout_seconds);
    let peak_reset = reset_peak(&pid);
    let start_rss = status_bytes(&pid, "VmRSS").unwrap_or(0);
    let mut live_t0 = HashMap::new();
    let mut live_rss = None;
    if series.live > 0 {
        eprintln!(
            "{system}, série {} : {} alertes vivantes…",
            series.number, series.live
        );
        raise_all(
            &mut side,
            1..series.live as u64 + 1,
            None,
            options.batch,
            &mut live_t0,
        )
        .await?;
        if !receiver
            .wait_for(series.live, Instant::now() + timeout)
            .await?
        {
            eprintln!("{system} : les alertes vivantes ne sont pas toutes arrivées");
        }
        // Let the tail of the live phase settle: its work is not the measure's.
        tokio::time::sleep(GRACE).await;
        live_rss = status_bytes(&pid, "VmRSS");
    }
    if let Side::Vigie(vigie) = &mut side {
        vigie.saves.clear();
    }
    eprintln!("{system}, série {} : {}…", series.number, series.label());
    let cpu_before = own_cpu(&pid)?;
    let mut t0 = HashMap::with_capacity(series.count);
    let first = series.live as u64 + 1;
    raise_all(
        &mut side,
        first..first + series.count as u64,
        series.rate,
        options.batch,
        &mut t0,
    )
    .await?;
    let raised_at = wall_us();
    let complete = receiver.wait_for(total, Instant::now() + timeout).await?;
    let cpu = own_cpu(&pid)?.saturating_sub(cpu_before);
    let peak = status_bytes(&pid, "VmHWM").unwrap_or(0);
    if !complete {
        eprintln!(
            "{system}, série {} : délai dépassé, des notifications manquent",
            series.number
        );
    }
    // Duplicates may come late (a retry): listen a little longer.
    tokio::time::sleep(GRACE).await;
    let records = receiver.results().await?;
    let (measured, unexpected) = tally(&records, &t0, key_to_id);
    let (live, _) = tally(&records, &live_t0, key_to_id);
    let mut latencies = measured.latencies.clone();
    latencies.sort_by(f64::total_cmp);
    let span_s = (measured.last_receipt - measured.first_t0) as f64 / 1e6;
    let (mut save_total_ms, mut save_max_ms, mut queued_p50_ms, mut queued_p99_ms) =
        (None, None, None, None);
    let mut pages = BTreeMap::new();
    match side {
        Side::Vigie(vigie) => {
            let saves: Vec<f64> = vigie
                .saves
                .iter()
                .map(|d| d.as_secs_f64() * 1000.0)
                .collect();
            save_total_ms = Some(saves.iter().sum());
            save_max_ms = Some(saves.iter().copied().fold(0.0, f64::max));
            // Each alarm waits for its own save: in a burst, the whole call.
            let mut queued: Vec<f64> = Vec::new();
            let per_call = match series.rate {
                Some(_) => 1,
                None => options.batch,
            };
            for (call, ms) in saves.iter().enumerate() {
                let in_call = per_call.min(series.count.saturating_sub(call * per_call));
                queued.extend(std::iter::repeat_n(*ms, in_call));
            }
            queued.sort_by(f64::total_cmp);
            queued_p50_ms = Some(percentile(&queued, 0.50));
            queued_p99_ms = Some(percentile(&queued, 0.99));
            pages = vigie.stop().await?;
        }
        Side::Am(am) => drop(am),
    }
    if !peak_reset {
        eprintln!(
            "{system} : pic de mémoire non remis à zéro (clear_refs refusé) ; il comprend la mise en place"
        );
    }
    Ok(serde_json::to_string(&SeriesResult {
        system: system.to_owned(),
        series: series.number,
        alerts: series.count,
        received: measured.latencies.len(),
        before_last_raise: records
            .iter()
            .filter(|(key, at)| {
                *at <= raised_at && key_to_id(key).is_some_and(|id| t0.contains_key(&id))
            })
            .count(),
        p50_ms: percentile(&latencies, 0.50),
        p99_ms: percentile(&latencies, 0.99),
        max_ms: latencies.last().copied().unwrap_or(f64::NAN),
        per_second: measured.latencies.len() as f64 / span_s,
        cpu_s: cpu.as_secs_f64(),
        cpu_us_per_alert: cpu.as_secs_f64() * 1e6 / series.count as f64,
        peak_bytes: peak,
        start_rss_bytes: start_rss,
        live_rss_bytes: live_rss,
        lost: measured.lost,
        duplicated: measured.duplicated,
        unexpected,
        live_lost: live.lost,
        live_duplicated: live.duplicated,
        save_total_ms,
        save_max_ms,
        queued_p50_ms,
        queued_p99_ms,
        pages,
    })?)
}

// ---------------------------------------------------------------------------------------
// The orchestrator.

fn alertmanager_version(binary: &Path) -> anyhow::Result<String> {
    let output = Command::new(binary).arg("--version").output()?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // « alertmanager, version 0.25.0 (branch: …) »
    Ok(text
        .split_whitespace()
        .skip_while(|w| *w != "version")
        .nth(1)
        .unwrap_or("?")
        .to_owned())
}

/// Installs Alertmanager from Debian if it is missing: the benchmark brings its own peer
/// (CI does not run it).
fn ensure_alertmanager(binary: &Path) -> anyhow::Result<()> {
    if binary.exists() {
        return Ok(());
    }
    eprintln!(
        "{} absent : installation du paquet Debian prometheus-alertmanager…",
        binary.display()
    );
    let status = Command::new("apt-get")
        .args(["install", "-y", "prometheus-alertmanager"])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .context("apt-get introuvable")?;
    if !status.success() || !binary.exists() {
        bail!("installation de prometheus-alertmanager impossible (apt-get : {status})");
    }
    Ok(())
}

fn start_receiver(dir: &Path) -> anyhow::Result<(ChildGuard, u16)> {
    let port_file = dir.join("port");
    let child = ChildGuard(
        Command::new(std::env::current_exe()?)
            .arg("--receiver")
            .arg(&port_file)
            .stdin(Stdio::piped())
            .spawn()?,
    );
    let started = Instant::now();
    loop {
        if let Ok(text) = std::fs::read_to_string(&port_file) {
            return Ok((child, text.trim().parse()?));
        }
        if started.elapsed() > Duration::from_secs(10) {
            bail!("le destinataire n'a pas démarré en 10 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The runs of one series and system as one: the median of each measure (each taken on its
/// own), lost, duplicated and unexpected notifications added up over the runs.
fn combine(runs: Vec<SeriesResult>) -> SeriesResult {
    let median = |field: fn(&SeriesResult) -> f64| -> f64 {
        let mut values: Vec<f64> = runs.iter().map(field).collect();
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    let median_usize = |field: fn(&SeriesResult) -> usize| -> usize {
        let mut values: Vec<usize> = runs.iter().map(field).collect();
        values.sort_unstable();
        values[values.len() / 2]
    };
    let median_bytes = |field: fn(&SeriesResult) -> u64| -> u64 {
        let mut values: Vec<u64> = runs.iter().map(field).collect();
        values.sort_unstable();
        values[values.len() / 2]
    };
    let optional = |field: fn(&SeriesResult) -> Option<f64>| -> Option<f64> {
        let mut values: Vec<f64> = runs.iter().filter_map(field).collect();
        values.sort_by(f64::total_cmp);
        values.get(values.len() / 2).copied()
    };
    let mut live: Vec<u64> = runs.iter().filter_map(|r| r.live_rss_bytes).collect();
    live.sort_unstable();
    let sum = |field: fn(&SeriesResult) -> usize| -> usize { runs.iter().map(field).sum() };
    let mut pages = BTreeMap::new();
    for run in &runs {
        for (status, n) in &run.pages {
            *pages.entry(status.clone()).or_insert(0) += n;
        }
    }
    SeriesResult {
        system: runs[0].system.clone(),
        series: runs[0].series,
        alerts: runs[0].alerts,
        received: sum(|r| r.received),
        before_last_raise: median_usize(|r| r.before_last_raise),
        p50_ms: median(|r| r.p50_ms),
        p99_ms: median(|r| r.p99_ms),
        max_ms: median(|r| r.max_ms),
        per_second: median(|r| r.per_second),
        cpu_s: median(|r| r.cpu_s),
        cpu_us_per_alert: median(|r| r.cpu_us_per_alert),
        peak_bytes: median_bytes(|r| r.peak_bytes),
        start_rss_bytes: median_bytes(|r| r.start_rss_bytes),
        live_rss_bytes: live.get(live.len() / 2).copied(),
        lost: sum(|r| r.lost),
        duplicated: sum(|r| r.duplicated),
        unexpected: sum(|r| r.unexpected),
        live_lost: sum(|r| r.live_lost),
        live_duplicated: sum(|r| r.live_duplicated),
        save_total_ms: optional(|r| r.save_total_ms),
        save_max_ms: optional(|r| r.save_max_ms),
        queued_p50_ms: optional(|r| r.queued_p50_ms),
        queued_p99_ms: optional(|r| r.queued_p99_ms),
        pages,
    }
}

/// Runs a worker for `system` and `series` (split in two with `split`) and reads its result.
fn run_series<T: serde::de::DeserializeOwned>(
    options: &Options,
    dir: &Path,
    port: u16,
    system: &str,
    series: u8,
    split: bool,
) -> anyhow::Result<T> {
    let result = dir.join(format!("{system}-{series}-{split}.json"));
    let mut command = Command::new(std::env::current_exe()?);
    if split {
        command.arg("--split");
    }
    let mut child = ChildGuard(
        command
            .arg("--worker")
            .arg(format!("{system}:{series}"))
            .arg("--receiver-port")
            .arg(port.to_string())
            .arg("--result")
            .arg(&result)
            .arg("--max-in-flight")
            .arg(options.max_in_flight.to_string())
            .arg("--batch")
            .arg(options.batch.to_string())
            .arg("--timeout-seconds")
            .arg(options.timeout_seconds.to_string())
            .arg("--alertmanager")
            .arg(&options.alertmanager)
            .arg("--am-group-interval")
            .arg(&options.am_group_interval)
            .stdin(Stdio::piped())
            .spawn()?,
    );
    // Setup (20,000 cameras imported), two waits and the graces: well within this.
    let limit = Duration::from_secs(2 * options.timeout_seconds + 300);
    wait_bounded(&mut child, limit, &format!("{system}, série {series}"))?;
    Ok(serde_json::from_str(&std::fs::read_to_string(&result)?)?)
}

fn system_label(system: &str, version: &str) -> String {
    match system {
        "vigie-sqlite" => "Vigie (SQLite)".into(),
        "vigie-postgres" => "Vigie (PostgreSQL)".into(),
        _ => format!("Alertmanager {version}"),
    }
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

struct Report {
    date: String,
    cores: usize,
    kernel: String,
    version: String,
    results: Vec<SeriesResult>,
    splits: Vec<(String, Split)>,
}

impl Report {
    fn find(&self, system: &str, series: u8) -> Option<&SeriesResult> {
        self.results
            .iter()
            .find(|r| r.system == system && r.series == series)
    }

    fn render(&self, options: &Options) -> String {
        let mut out = String::new();
        let o = &mut out;
        let _ = writeln!(o, "{TITLE}\n");
        let _ = writeln!(
            o,
            "Objectif : p99 de la latence et CPU par alerte au plus le tiers de ceux d'Alertmanager, \
             mémoire ≤ 100 Mo à 10 000 alarmes vivantes, aucune notification perdue ni en double.\n"
        );
        let _ = writeln!(
            o,
            "Mesuré le {} (Linux {}, {} cœurs, Alertmanager {} du paquet Debian) : de l'alarme à \
             la notification reçue par un même destinataire webhook local, Vigie puis \
             Alertmanager pour chaque série, jamais les deux chargés à la fois ; {} \
             exécution(s) entrelacées, la médiane de chaque mesure retenue (chacune pour elle), \
             les notifications perdues ou en double additionnées sur toutes.\n",
            self.date, self.kernel, self.cores, self.version, options.runs
        );
        let _ = writeln!(
            o,
            "- Destinataire : un processus à part (ce programme relancé), serveur HTTP sur \
             127.0.0.1 qui répond 200 aussitôt et note l'instant d'arrivée de chaque requête \
             (horloge murale, µs) et sa clé : `X-Vigie-Key` pour Vigie, l'étiquette `key` de \
             chaque alerte du corps JSON pour Alertmanager ; perdue : clé attendue jamais reçue, \
             en double : clé reçue plus d'une fois (écoute prolongée de {} s après la dernière).",
            GRACE.as_secs()
        );
        let _ = writeln!(
            o,
            "- Vigie : le vrai chemin du serveur, dans un processus de mesure à lui par série : \
             `Store` sur un fichier SQLite temporaire (`synchronous = FULL`, comme en \
             production), inventaire importé (un client, un contrat, un site, une caméra par \
             alarme), boucle de distribution `delivery::run` avec un webhook signé \
             (`max_in_flight = {}`) ; la chaîne Critique de la politique par défaut remplacée \
             par une étape immédiate vers le webhook (et, comme toute étape, la console de \
             supervision : une page webhook et une page console par alarme). Une alarme levée : \
             `Alarm::raised` + l'événement `Notified`, enregistrés par `System::save_alarms` \
             (qui arme l'escalade et déclenche l'étape due dans la même transaction), puis \
             réveil de la boucle. t0 : juste avant `save_alarms`.",
            options.max_in_flight
        );
        if self.results.iter().any(|r| r.system == "vigie-postgres") {
            let _ = writeln!(
                o,
                "- Vigie sur PostgreSQL : le même chemin sur une base créée pour la mesure sur le \
                 serveur local (`VIGIE_TEST_POSTGRES_URL`, par défaut \
                 `postgres://postgres@127.0.0.1:5432/test`) ; le CPU et la mémoire des processus \
                 du serveur PostgreSQL ne sont pas comptés : ses chiffres de CPU et de mémoire ne \
                 se comparent pas à ceux d'Alertmanager."
            );
        }
        let _ = writeln!(
            o,
            "- Alertmanager : un processus neuf par série, sans grappe (`--cluster.listen-address=`), \
             route `group_by: ['...']` (un groupe, donc une notification, par alerte), \
             `group_wait: 0s`, `group_interval: {}`, `repeat_interval: 24h`, webhook \
             `send_resolved: false`, `max_alerts: 0`. `group_interval` ne retarde pas une \
             première notification ; avec un groupe par alerte, c'est la période à laquelle \
             chaque groupe vivant repasse son pipeline : à 1 s, 10 000 groupes vivants coûtent \
             à Alertmanager environ 40 % de CPU de plus dans la série 4, d'où sa valeur par \
             défaut, pour ne pas le desservir (`--am-group-interval 1s` pour comparer). Les alertes (`alertname`, `key` unique, \
             `severity`, `endsAt` dans 24 h) postées sur `/api/v2/alerts`. t0 : juste avant le POST.",
            options.am_group_interval
        );
        let _ = writeln!(
            o,
            "- Même découpage des deux côtés : à 20/s, une alarme par appel (un `save_alarms`, un \
             POST) ; en rafale, {} par appel, enchaînés. Latence : arrivée − t0. Notifications/s : \
             reçues ÷ (dernière arrivée − premier t0). CPU par alerte : utilisateur + système du \
             processus mesuré (/proc, pas de 10 ms) du premier t0 à la dernière arrivée, ÷ \
             alertes ; pour Vigie c'est le processus de mesure entier, générateur d'alarmes compris \
             (la fin de la série lui est dite par une seule requête que le destinataire tient \
             jusqu'à la dernière arrivée) ; pour Alertmanager, son seul processus (le générateur est à part). Le destinataire, à part, n'est compté \
             pour aucun. Pic mémoire : VmHWM du processus mesuré, ramené au résident du moment une \
             fois la mise en place finie (`clear_refs`) : le pic pendant la série, ce qui était \
             déjà résident compris.\n",
            grouped(options.batch),
        );
        let _ = writeln!(
            o,
            "Ce que la mesure ne couvre pas : côté Vigie, le moteur d'alarmes (les alarmes sont \
             créées toutes faites, comme il les enregistre ; sa mémoire par alarme suivie est \
             mesurée dans « Règles d'alarme ») ; côté Alertmanager, la règle Prometheus qui \
             produirait l'alerte. Les deux systèmes partagent la machine avec le destinataire, et \
             la machine elle-même peut être partagée : d'une exécution à l'autre, les latences \
             des rafales varient couramment de 30 %, jusqu'à un facteur 2 ou 3 quand une autre \
             charge passe, d'où la médiane.\n"
        );
        let _ = writeln!(
            o,
            "| Série | Outil | Alertes | p50 (ms) | p99 (ms) | max (ms) | Notifications/s | CPU par alerte (µs) | Pic mémoire (Mo) | Perdues | En double |"
        );
        let _ = writeln!(o, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for r in &self.results {
            let series = Series::get(r.series).map(|s| s.label()).unwrap_or_default();
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                series,
                system_label(&r.system, &self.version),
                grouped(r.alerts),
                fr(r.p50_ms, 1),
                fr(r.p99_ms, 1),
                fr(r.max_ms, 1),
                fr(r.per_second, 0),
                fr(r.cpu_us_per_alert, 0),
                fr(mb(r.peak_bytes), 0),
                r.lost + r.live_lost,
                r.duplicated + r.live_duplicated
            );
        }
        let _ = writeln!(o);
        // Ratios and verdicts, for each Vigie backend measured.
        let vigies: Vec<String> = {
            let mut seen = Vec::new();
            for r in &self.results {
                if r.system != "am" && !seen.contains(&r.system) {
                    seen.push(r.system.clone());
                }
            }
            seen
        };
        for system in &vigies {
            let label = system_label(system, &self.version);
            let _ = writeln!(o, "{label} face à Alertmanager, série par série :\n");
            let _ = writeln!(
                o,
                "| Série | p99 Vigie ÷ p99 Alertmanager | CPU Vigie ÷ CPU Alertmanager |"
            );
            let _ = writeln!(o, "|---|---:|---:|");
            let (mut p99_ok, mut cpu_ok, mut compared) = (true, true, 0);
            for number in 1..=4u8 {
                let (Some(v), Some(a)) = (self.find(system, number), self.find("am", number))
                else {
                    continue;
                };
                compared += 1;
                let p99 = v.p99_ms / a.p99_ms;
                let cpu = v.cpu_us_per_alert / a.cpu_us_per_alert;
                p99_ok &= p99 <= 1.0 / 3.0;
                cpu_ok &= cpu <= 1.0 / 3.0;
                let _ = writeln!(
                    o,
                    "| {} | {} | {} |",
                    Series::get(number).map(|s| s.label()).unwrap_or_default(),
                    fr(p99, 2),
                    fr(cpu, 2)
                );
            }
            let _ = writeln!(o);
            let lost: usize = self
                .results
                .iter()
                .filter(|r| &r.system == system)
                .map(|r| r.lost + r.live_lost)
                .sum();
            let duplicated: usize = self
                .results
                .iter()
                .filter(|r| &r.system == system)
                .map(|r| r.duplicated + r.live_duplicated)
                .sum();
            let unexpected: usize = self
                .results
                .iter()
                .filter(|r| &r.system == system)
                .map(|r| r.unexpected)
                .sum();
            // On PostgreSQL the database server's memory is not in the measured process.
            let own = system == "vigie-sqlite";
            let memory = self.find(system, 3).filter(|_| own).map(|r| r.peak_bytes);
            let live = self
                .find(system, 4)
                .filter(|_| own)
                .and_then(|r| r.live_rss_bytes);
            let verdict = |ok: bool| if ok { "tenu" } else { "**non tenu**" };
            let _ = writeln!(o, "Objectifs pour {label} :\n");
            if compared > 0 {
                let _ = writeln!(
                    o,
                    "- p99 au plus le tiers de celui d'Alertmanager dans chaque série : {} ;",
                    verdict(p99_ok)
                );
                let _ = writeln!(
                    o,
                    "- CPU par alerte au plus le tiers : {} ;",
                    verdict(cpu_ok)
                );
            }
            match (memory, live) {
                (Some(peak), _) => {
                    let _ = writeln!(
                        o,
                        "- mémoire ≤ 100 Mo à 10 000 alarmes vivantes : {} (pic du processus entier pendant la rafale de 10 000 : {} Mo{}) ;",
                        verdict(peak <= 100_000_000),
                        fr(mb(peak), 0),
                        live.map(|l| format!(" ; résident à 10 000 vivantes dans la série 4, inventaire de 20 000 caméras : {} Mo", fr(mb(l), 0)))
                            .unwrap_or_default()
                    );
                }
                (None, Some(l)) => {
                    let _ = writeln!(
                        o,
                        "- mémoire ≤ 100 Mo à 10 000 alarmes vivantes : {} (résident une fois les 10 000 notifiées : {} Mo) ;",
                        verdict(l <= 100_000_000),
                        fr(mb(l), 0)
                    );
                }
                (None, None) => {}
            }
            let _ = writeln!(
                o,
                "- aucune perdue : {} ({lost}) ; aucune en double : {} ({duplicated}){}.\n",
                verdict(lost == 0),
                verdict(duplicated == 0),
                if unexpected > 0 {
                    format!(" ; {unexpected} clé(s) inattendue(s) reçue(s)")
                } else {
                    String::new()
                }
            );
        }
        let _ = writeln!(o, "Détail de Vigie, où va le temps :\n");
        let _ = writeln!(
            o,
            "| Série | Outil | `save_alarms` : total (ms) | plus long appel (ms) | t0 → pages en file, p50 / p99 (ms) | Résident au départ (Mo) | Pages à la fin, toutes exécutions |"
        );
        let _ = writeln!(o, "|---|---|---:|---:|---:|---:|---|");
        for r in self.results.iter().filter(|r| r.system != "am") {
            let pages: Vec<String> = r.pages.iter().map(|(s, n)| format!("{s} : {n}")).collect();
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} / {} | {} | {} |",
                Series::get(r.series).map(|s| s.label()).unwrap_or_default(),
                system_label(&r.system, &self.version),
                fr(r.save_total_ms.unwrap_or(f64::NAN), 0),
                fr(r.save_max_ms.unwrap_or(f64::NAN), 1),
                fr(r.queued_p50_ms.unwrap_or(f64::NAN), 1),
                fr(r.queued_p99_ms.unwrap_or(f64::NAN), 1),
                fr(mb(r.start_rss_bytes), 0),
                pages.join(", ")
            );
        }
        let _ = writeln!(
            o,
            "\nReçues avant la fin des enregistrements (Vigie : dernier `save_alarms` rendu ; \
             Alertmanager : dernier POST rendu), médiane :\n"
        );
        let _ = writeln!(
            o,
            "| Série | Outil | Alertes | Reçues avant la dernière levée |"
        );
        let _ = writeln!(o, "|---|---|---:|---:|");
        for r in self.results.iter().filter(|r| r.series >= 2) {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} |",
                Series::get(r.series).map(|s| s.label()).unwrap_or_default(),
                system_label(&r.system, &self.version),
                grouped(r.alerts),
                grouped(r.before_last_raise)
            );
        }
        if !self.splits.is_empty() {
            let _ = writeln!(
                o,
                "\nLa même série rejouée en deux temps, dans un autre processus (une exécution) : tous les \
                 `save_alarms` d'abord, boucle de distribution arrêtée, puis la boucle seule \
                 jusqu'à la dernière page reçue (une alarme : une page webhook et une page console) :\n"
            );
            let _ = writeln!(
                o,
                "| Série | Outil | Enregistrement : durée (ms) | CPU par alarme (µs) | Distribution : durée (ms) | CPU par alarme (µs) |"
            );
            let _ = writeln!(o, "|---|---|---:|---:|---:|---:|");
            for (system, split) in &self.splits {
                let per = |cpu: f64| fr(cpu * 1e6 / split.alerts as f64, 0);
                let _ = writeln!(
                    o,
                    "| {} | {} | {} | {} | {} | {} |",
                    Series::get(split.series)
                        .map(|s| s.label())
                        .unwrap_or_default(),
                    system_label(system, &self.version),
                    fr(split.save_wall_s * 1000.0, 0),
                    per(split.save_cpu_s),
                    fr(split.deliver_wall_s * 1000.0, 0),
                    per(split.deliver_cpu_s)
                );
            }
        }
        // The largest burst split, against Alertmanager's whole path on the same burst.
        if let Some((system, split)) = self
            .splits
            .iter()
            .filter(|(_, split)| split.series >= 2)
            .max_by_key(|(_, split)| split.alerts)
            && let Some(am) = self.find("am", split.series)
        {
            let per = |cpu: f64| cpu * 1e6 / split.alerts as f64;
            let beyond = split.save_wall_s.min(split.deliver_wall_s) * 1000.0 > am.p99_ms
                && per(split.save_cpu_s.min(split.deliver_cpu_s)) > am.cpu_us_per_alert;
            let _ = writeln!(
                o,
                "\n{}, rafale de {} : l'enregistrement seul prend {} s et {} µs de CPU par \
                 alarme, la distribution seule {} s et {} µs{} Alertmanager sur la même rafale : \
                 {} ms au p99, {} µs de CPU par alerte).",
                system_label(system, &self.version),
                grouped(split.alerts),
                fr(split.save_wall_s, 1),
                fr(per(split.save_cpu_s), 0),
                fr(split.deliver_wall_s, 1),
                fr(per(split.deliver_cpu_s), 0),
                if beyond {
                    " : chacune des deux moitiés dépasse déjà le chemin entier d'Alertmanager (pour"
                } else {
                    " (pour"
                },
                fr(am.p99_ms, 0),
                fr(am.cpu_us_per_alert, 0)
            );
        }
        let _ = writeln!(o);
        for r in self.results.iter().filter(|r| r.live_rss_bytes.is_some()) {
            let _ = writeln!(
                o,
                "Mémoire résidente à 10 000 alertes vivantes (série 4, avant les 10 000 de plus) : {} {} Mo{}.",
                system_label(&r.system, &self.version),
                fr(mb(r.live_rss_bytes.unwrap_or(0)), 0),
                if r.system == "am" {
                    ""
                } else {
                    " (processus dont l'inventaire compte 20 000 caméras)"
                }
            );
        }
        let mut command =
            String::from("cargo run --release -p vigie-bench --bin vigie-bench-notifications");
        let series: Vec<String> = options.series.iter().map(u8::to_string).collect();
        let mut extra = Vec::new();
        if series.join(",") != "1,2,3,4" {
            extra.push(format!("--series {}", series.join(",")));
        }
        if options.am_group_interval != "5m" {
            extra.push(format!("--am-group-interval {}", options.am_group_interval));
        }
        if options.runs != 3 {
            extra.push(format!("--runs {}", options.runs));
        }
        if options.max_in_flight != 256 {
            extra.push(format!("--max-in-flight {}", options.max_in_flight));
        }
        if options.backends.join(",") != "sqlite" {
            extra.push(format!("--backends {}", options.backends.join(",")));
        }
        if options.batch != 1000 {
            extra.push(format!("--batch {}", options.batch));
        }
        if !extra.is_empty() {
            let _ = write!(command, " -- {}", extra.join(" "));
        }
        let _ = writeln!(
            o,
            "\nReproduire (en root : Alertmanager s'installe par apt-get s'il manque) : `{command}`"
        );
        out
    }
}

fn replace_section(document: &str, section: &str) -> String {
    vigie_bench::replace_section(document, TITLE, section)
}

fn run_orchestrator(options: &Options) -> anyhow::Result<()> {
    let mut systems: Vec<String> = Vec::new();
    let mut backends = options.backends.clone();
    if std::env::var_os("VIGIE_BENCH_PG").is_some() && !backends.iter().any(|b| b == "postgres") {
        backends.push("postgres".into());
    }
    for backend in &backends {
        match backend.as_str() {
            "sqlite" | "postgres" => systems.push(format!("vigie-{backend}")),
            other => bail!("--backends : « {other} » inconnu (sqlite, postgres)"),
        }
    }
    systems.push("am".into());
    if !(1..=1024).contains(&options.max_in_flight) || options.batch == 0 || options.runs == 0 {
        bail!("--max-in-flight de 1 à 1024, --batch et --runs au moins 1");
    }
    for number in &options.series {
        Series::get(*number)?;
    }
    ensure_alertmanager(&options.alertmanager)?;
    let version = alertmanager_version(&options.alertmanager)?;
    let dir = TempDir::create("run")?;
    let (_receiver, port) = start_receiver(&dir.0)?;
    eprintln!("destinataire sur 127.0.0.1:{port}");
    // Runs interleaved, so that a slow moment of the machine does not fall on one system.
    let mut runs: BTreeMap<(u8, usize), Vec<SeriesResult>> = BTreeMap::new();
    for run in 0..options.runs {
        eprintln!("exécution {} sur {}", run + 1, options.runs);
        for number in &options.series {
            for (index, system) in systems.iter().enumerate() {
                let result: SeriesResult =
                    run_series(options, &dir.0, port, system, *number, false)?;
                eprintln!(
                    "  {system}, série {number} : p50 {:.1} ms, p99 {:.1} ms, {:.0}/s, {:.0} µs CPU/alerte, pic {:.0} Mo, perdues {}, en double {}",
                    result.p50_ms,
                    result.p99_ms,
                    result.per_second,
                    result.cpu_us_per_alert,
                    mb(result.peak_bytes),
                    result.lost + result.live_lost,
                    result.duplicated + result.live_duplicated
                );
                runs.entry((*number, index)).or_default().push(result);
            }
        }
    }
    let results: Vec<SeriesResult> = runs.into_values().map(combine).collect();
    // Where Vigie's time goes: the same series again, saves first, delivery after.
    let mut splits = Vec::new();
    for number in options.series.iter().filter(|n| **n <= 3) {
        for system in systems.iter().filter(|s| *s != "am") {
            let split: Split = run_series(options, &dir.0, port, system, *number, true)?;
            eprintln!(
                "  {system}, série {number} en deux temps : enregistrements {:.0} µs CPU/alarme ({:.2} s), distribution {:.0} µs CPU/alarme ({:.2} s)",
                split.save_cpu_s * 1e6 / split.alerts as f64,
                split.save_wall_s,
                split.deliver_cpu_s * 1e6 / split.alerts as f64,
                split.deliver_wall_s
            );
            splits.push((system.clone(), split));
        }
    }
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let report = Report {
        date: jiff::Timestamp::now().strftime("%Y-%m-%d").to_string(),
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        kernel: kernel
            .trim()
            .split('.')
            .take(2)
            .collect::<Vec<_>>()
            .join("."),
        version,
        results,
        splits,
    };
    let section = report.render(options);
    println!("{section}");
    if !options.no_doc {
        let document = std::fs::read_to_string(&options.doc)
            .with_context(|| format!("{} illisible", options.doc.display()))?;
        std::fs::write(&options.doc, replace_section(&document, &section))?;
        eprintln!("section écrite dans {}", options.doc.display());
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let options = Options::parse();
    if let Some(port_file) = &options.receiver {
        return run_receiver(port_file);
    }
    if let Some(spec) = &options.worker {
        let runtime = tokio::runtime::Runtime::new()?;
        let result = runtime.block_on(run_worker(&options, spec))?;
        let path = options.result.as_ref().context("--result manquant")?;
        std::fs::write(path, result)?;
        return Ok(());
    }
    run_orchestrator(&options)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_numbers() {
        assert_eq!(grouped(10_000), "10\u{202F}000");
        assert_eq!(grouped(999), "999");
        assert_eq!(fr(1234.567, 1), "1\u{202F}234,6");
        assert_eq!(fr(0.333, 2), "0,33");
        assert_eq!(fr(12.0, 0), "12");
    }

    #[test]
    fn nearest_rank() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&values, 0.50), 50.0);
        assert_eq!(percentile(&values, 0.99), 99.0);
        assert_eq!(percentile(&[7.0], 0.99), 7.0);
    }

    #[test]
    fn vigie_keys_name_their_alarm() {
        assert_eq!(vigie_id(&vigie_key(42)), Some(42));
        assert_eq!(vigie_id("42/critical/bench/supervision/console"), None);
        assert_eq!(vigie_id("x/critical/bench/bench/webhook"), None);
    }

    #[test]
    fn tally_counts_lost_duplicated_and_strangers() {
        let t0: HashMap<u64, i64> = [(1, 1_000), (2, 1_000), (3, 2_000)].into();
        let records = vec![
            ("1".to_owned(), 3_000),
            ("1".to_owned(), 9_000),
            ("2".to_owned(), 4_000),
            ("zzz".to_owned(), 4_000),
        ];
        let (tally, unexpected) = tally(&records, &t0, |k| k.parse().ok());
        assert_eq!((tally.lost, tally.duplicated, unexpected), (1, 1, 1));
        let mut latencies = tally.latencies;
        latencies.sort_by(f64::total_cmp);
        assert_eq!(latencies, vec![2.0, 3.0]);
        assert_eq!((tally.first_t0, tally.last_receipt), (1_000, 4_000));
    }

    #[test]
    fn alertmanager_body_keys() {
        let body = br#"{"alerts":[{"labels":{"key":"7"}},{"labels":{"key":"8"}}]}"#;
        assert_eq!(keys_of("am", &HeaderMap::new(), body), vec!["7", "8"]);
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-vigie-key",
            "1/critical/bench/bench/webhook".parse().unwrap(),
        );
        assert_eq!(
            keys_of("vigie", &headers, b""),
            vec!["1/critical/bench/bench/webhook"]
        );
    }

    #[test]
    fn the_section_is_replaced_or_added() {
        let section = format!("{TITLE}\n\nnouveau\n");
        let before = format!("# Doc\n\n## A\n\na\n\n{TITLE}\n\nancien\n\n## B\n\nb\n");
        assert_eq!(
            replace_section(&before, &section),
            format!("# Doc\n\n## A\n\na\n\n{TITLE}\n\nnouveau\n\n## B\n\nb\n")
        );
        let last = format!("# Doc\n\n{TITLE}\n\nancien\n");
        assert_eq!(
            replace_section(&last, &section),
            format!("# Doc\n\n{TITLE}\n\nnouveau\n")
        );
        assert_eq!(
            replace_section("# Doc\n", &section),
            format!("# Doc\n\n{TITLE}\n\nnouveau\n")
        );
    }

    #[test]
    fn the_policy_has_one_critical_step_to_the_webhook() {
        let policy = bench_policy().unwrap();
        let chain = policy.chain(Severity::Critical);
        assert_eq!(chain.len(), 1);
        assert_eq!(chain[0].name, "bench");
    }
}
