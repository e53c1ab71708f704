//! `vigie-bench-reports`: the monthly reports at 100,000 equipment (issue 9). Builds a fleet
//! of 100,000 equipment (20 clients of 5,000, 10 sites of 500 each) in the real store, on a
//! SQLite file then on PostgreSQL, and writes 31 days of their state changes through the
//! store's one entry point for observations (`Store::record_observations`): about 45 changes
//! per equipment, 4.5 million in all, outages and "unknown" stretches crossing the month's
//! bounds, with an alarm for the longest outages. Then, for November 2026 (Paris), it times
//! and measures the peak memory of one client's supervision report (read, computed, rendered
//! as PDF) and of the whole set of monthly reports (`reports::monthly`: every client's
//! report, every site's alarm review, the satisfaction analysis, rendered and filed); and
//! compares, equipment by equipment, the availability Vigie computes with the same figures
//! computed by PostgreSQL's window functions over the same state changes. Prints a Markdown
//! section and writes it into docs/benchmarks.md.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Instant;

use clap::Parser;
use jiff::tz::TimeZone;
use vigie_bench::{FleetShape, client_ref, equipment_ref, site_ref};
use vigie_domain::Reference;
use vigie_domain::access::Actor;
use vigie_domain::alarm::lifecycle::{Alarm, AlarmEvent};
use vigie_domain::alarm::rules::{Condition, ConditionKey};
use vigie_domain::inventory::file::InventoryFile;
use vigie_domain::policy::Severity;
use vigie_domain::report::availability::{CheckHistory, Measure, equipment_measure};
use vigie_domain::report::period::Month;
use vigie_domain::supervision::{CheckName, CheckStatus, Observation};
use vigie_server::reports::{Covered, Kind};
use vigie_server::{AppState, Clock, Config};
use vigie_store::console::Place;
use vigie_store::testing::TestDatabase;
use vigie_store::{Backend, System};

const TITLE: &str = "## Rapports mensuels : 100 000 équipements";
const MINUTE: i64 = 60_000;
const DAY: i64 = 24 * 60 * MINUTE;
/// Observations per call, the store's bound (`MAX_OBSERVATIONS_PER_BATCH`).
const BATCH: usize = 10_000;

/// The monthly reports at 100,000 equipment.
#[derive(Debug, Parser)]
struct Options {
    #[arg(long, default_value_t = 20)]
    clients: usize,
    #[arg(long, default_value_t = 10)]
    sites_per_client: usize,
    #[arg(long, default_value_t = 500)]
    equipment_per_site: usize,
    /// Most outages of one equipment over the month and the days around it (each is two
    /// changes; the number is drawn between 0 and this).
    #[arg(long, default_value_t = 44)]
    max_outages: u64,
    /// `sqlite` (the embedded default) or `postgres` (VIGIE_TEST_POSTGRES_URL, or the local
    /// server), each on a throw-away database.
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres")]
    backends: Vec<String>,
    /// Keep each throw-away database after the run and print its address.
    #[arg(long)]
    keep_database: bool,
    /// Write the section into this file (docs/benchmarks.md); empty: print only.
    #[arg(long, default_value = "docs/benchmarks.md")]
    write: String,
    /// (Internal) measure the reports of the database at this address, filled beforehand, in
    /// this fresh process, so that its peak memory is the reports' own; print the figures.
    #[arg(long, hide = true)]
    measure_url: Option<String>,
    /// (Internal) where the measuring process writes each equipment's figures.
    #[arg(long, hide = true)]
    measures_file: Option<String>,
}

impl Options {
    fn shape(&self) -> FleetShape {
        FleetShape {
            clients: self.clients,
            sites_per_client: self.sites_per_client,
            equipment_per_site: self.equipment_per_site,
        }
    }

    fn equipment(&self) -> usize {
        self.shape().equipment()
    }
}

fn reference(text: &str) -> Reference {
    Reference::parse(text).expect("reference")
}

/// The fleet as an inventory file (`vigie_bench::fleet_inventory`).
fn fleet(options: &Options) -> String {
    vigie_bench::fleet_inventory(options.shape(), "")
}

/// A small deterministic generator (xorshift), so that every run writes the same history.
struct Random(u64);

impl Random {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// One change to write: when, which equipment (its index), to which status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Change {
    at: i64,
    equipment: u32,
    status: u8,
}

const UP: u8 = 0;
const DOWN: u8 = 1;
const UNKNOWN: u8 = 2;

/// An outage long enough to have raised an alarm: (equipment index, from, to).
type Outage = (u32, i64, i64);

/// The history of every equipment over `[from - 1 day, to + 1 day)`: observed up on the day
/// before the month, then outages (one in twenty an "unknown" stretch, the monitoring path
/// lost) of 1 to 120 minutes at random instants, some across the month's bounds; sorted by
/// instant. The outages of 115 minutes or more are returned for their alarms.
fn history(options: &Options, from: i64, to: i64) -> (Vec<Change>, Vec<Outage>) {
    let mut random = Random(0x5EED_2026_1101_0009);
    let start = from - DAY;
    let span = (to + DAY - start) as u64;
    let mut changes = Vec::with_capacity(options.equipment() * (options.max_outages as usize + 1));
    let mut alarmed = Vec::new();
    for equipment in 0..options.equipment() as u32 {
        changes.push(Change {
            at: start,
            equipment,
            status: UP,
        });
        let count = random.below(options.max_outages + 1);
        let mut starts: Vec<i64> = (0..count)
            .map(|_| start + MINUTE + random.below(span - 3 * 60 * MINUTE as u64) as i64)
            .map(|at| at - at % 1000)
            .collect();
        starts.sort_unstable();
        starts.dedup();
        for (i, &down_at) in starts.iter().enumerate() {
            let wanted = (1 + random.below(120) as i64) * MINUTE;
            let next = starts.get(i + 1).copied().unwrap_or(i64::MAX);
            let up_at = (down_at + wanted).min(next - 1000);
            if up_at <= down_at {
                continue;
            }
            let status = if random.below(20) == 0 { UNKNOWN } else { DOWN };
            changes.push(Change {
                at: down_at,
                equipment,
                status,
            });
            changes.push(Change {
                at: up_at,
                equipment,
                status: UP,
            });
            if status == DOWN && up_at - down_at >= 115 * MINUTE {
                alarmed.push((equipment, down_at, up_at));
            }
        }
    }
    changes.sort_unstable();
    (changes, alarmed)
}

/// (client, site, index) of the equipment numbered `n`.
fn place_of(options: &Options, n: u32) -> (usize, usize, usize) {
    let n = n as usize;
    let per_client = options.sites_per_client * options.equipment_per_site;
    let client = n / per_client;
    let site = (n % per_client) / options.equipment_per_site;
    (client, site, n % options.equipment_per_site)
}

fn status_of(code: u8) -> CheckStatus {
    match code {
        UP => CheckStatus::Up,
        DOWN => CheckStatus::Down,
        _ => CheckStatus::Unknown,
    }
}

/// Writes the history through the store's entry point, in order, by batches of its bound;
/// then the alarms of the long outages as the alarm worker saves them.
async fn fill(
    store: &System,
    options: &Options,
    from: i64,
    to: i64,
    now: i64,
) -> anyhow::Result<(usize, usize)> {
    let (changes, alarmed) = history(options, from, to);
    let refs: Vec<String> = (0..options.equipment() as u32)
        .map(|n| {
            let (client, site, index) = place_of(options, n);
            equipment_ref(client, site, index)
        })
        .collect();
    let actor = Actor::console("banc");
    let check = CheckName::parse("ping").expect("check");
    let total = changes.len();
    for (i, chunk) in changes.chunks(BATCH).enumerate() {
        let observations: Vec<Observation> = chunk
            .iter()
            .map(|change| Observation {
                equipment: reference(&refs[change.equipment as usize]),
                check: check.clone(),
                at: change.at,
                status: Some(status_of(change.status)),
                detail: None,
                samples: Vec::new(),
                facts: Default::default(),
            })
            .collect();
        store
            .record_observations(&actor, None, &observations, now)
            .await?;
        if i % 50 == 0 {
            eprintln!("  {} / {total} changements", i * BATCH);
        }
    }
    drop(changes);

    let mut alarmed = alarmed;
    alarmed.sort_by_key(|(_, at, _)| *at);
    let alarms = alarmed.len();
    let mut batch: Vec<(Option<Reference>, Alarm)> = Vec::new();
    let mut events: Vec<AlarmEvent> = Vec::new();
    for (id, (equipment, down_at, up_at)) in alarmed.into_iter().enumerate() {
        let (client, site, index) = place_of(options, equipment);
        let (mut alarm, event) = Alarm::raised(
            id as u64 + 1,
            Some(reference(&site_ref(client, site))),
            Some(reference(&equipment_ref(client, site, index))),
            ConditionKey::whole(Condition::Unreachable),
            Severity::Major,
            false,
            down_at,
        );
        events.push(event);
        events.extend(alarm.resolve(up_at, up_at));
        batch.push((Some(reference(&client_ref(client))), alarm));
        if batch.len() == 1000 {
            store.save_alarms(&batch, &events, None, 0).await?;
            batch.clear();
            events.clear();
        }
    }
    store.save_alarms(&batch, &events, None, 0).await?;
    Ok((total, alarms))
}

/// Resets the process's peak resident memory (Linux: `5` in `/proc/self/clear_refs`), so that
/// the peak read after a step is that step's.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn peak_mib() -> f64 {
    vigie_bench::status_bytes("self", "VmHWM").unwrap_or(0) as f64 / (1024.0 * 1024.0)
}

/// Each equipment's (up, down, unknown) ms over the month, as Vigie's reports compute them:
/// the store's histories of each client, measured by the domain (no maintenance windows in
/// this fleet).
async fn vigie_availability(
    store: &System,
    options: &Options,
    clients: std::ops::Range<usize>,
    from: i64,
    to: i64,
) -> anyhow::Result<BTreeMap<String, Measure>> {
    let actor = Actor::console("banc");
    let mut measures = BTreeMap::new();
    for client in clients.take(options.clients) {
        let place = Place::Client(reference(&client_ref(client)));
        for history in store.equipment_histories(&actor, &place, from, to).await? {
            let checks: Vec<CheckHistory> = history.checks.into_values().collect();
            measures.insert(history.reference, equipment_measure(from, to, &checks, &[]));
        }
    }
    Ok(measures)
}

/// The same figures by PostgreSQL's window functions over the same state changes: each
/// check's status at the period's start (its last change before), then its changes within,
/// each lasting until the next (`LEAD`); unknown is the rest of the period (never observed,
/// or observed unknown). `client` restricts it to one client. (The first `ORDER BY` names the
/// table's columns: bare, `at_ms` and `id` would be the output's constants.)
async fn window_availability(
    url: &str,
    from: i64,
    to: i64,
    client: Option<&str>,
) -> anyhow::Result<BTreeMap<String, Measure>> {
    use sqlx::{Connection, Row};
    let mut connection = sqlx::PgConnection::connect(url).await?;
    let rows = sqlx::query(
        "WITH start AS (
             SELECT DISTINCT ON (c.equipment_ref, c.check_name) c.equipment_ref, c.check_name,
                    $1::bigint AS at_ms, 0::bigint AS id, c.to_status AS status
             FROM state_changes c WHERE c.at_ms < $1 AND ($3::text IS NULL OR c.client_ref = $3)
             ORDER BY c.equipment_ref, c.check_name, c.at_ms DESC, c.id DESC),
         points AS (
             SELECT * FROM start
             UNION ALL
             SELECT equipment_ref, check_name, at_ms, id, to_status FROM state_changes
             WHERE at_ms >= $1 AND at_ms < $2 AND ($3::text IS NULL OR client_ref = $3)),
         spans AS (
             SELECT equipment_ref, status,
                    LEAD(at_ms, 1, $2::bigint) OVER (PARTITION BY equipment_ref, check_name ORDER BY at_ms, id) - at_ms AS ms
             FROM points)
         SELECT equipment_ref,
                COALESCE(SUM(ms) FILTER (WHERE status = 'up'), 0)::bigint AS up_ms,
                COALESCE(SUM(ms) FILTER (WHERE status = 'down'), 0)::bigint AS down_ms
         FROM spans GROUP BY equipment_ref",
    )
    .bind(from)
    .bind(to)
    .bind(client)
    .fetch_all(&mut connection)
    .await?;
    connection.close().await.ok();
    let mut measures = BTreeMap::new();
    for row in rows {
        let up_ms: i64 = row.try_get("up_ms")?;
        let down_ms: i64 = row.try_get("down_ms")?;
        measures.insert(
            row.try_get::<String, _>("equipment_ref")?,
            Measure {
                up_ms,
                down_ms,
                unknown_ms: (to - from) - up_ms - down_ms,
                maintenance_ms: 0,
            },
        );
    }
    Ok(measures)
}

/// What the measuring process found, handed back to the filling one.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Measured {
    /// One client's supervision report: read and computed, rendered, in s; peak MiB; pages.
    one_make: f64,
    one_render: f64,
    one_peak: f64,
    one_pages: usize,
    /// One client's availability alone (the store's read and the domain's measure), in s.
    one_availability: f64,
    /// The whole set of monthly reports: s, reports made, failures, peak MiB.
    all_seconds: f64,
    all_made: usize,
    all_failed: usize,
    all_peak: f64,
    /// The whole fleet's availability alone, in s.
    fleet_availability: f64,
    /// PostgreSQL's window functions over the same data (on PostgreSQL): the whole fleet's
    /// and one client's time, in s.
    window: Option<(f64, f64)>,
}

/// What one backend measured.
struct Run {
    backend: &'static str,
    changes: usize,
    alarms: usize,
    import_seconds: f64,
    fill_seconds: f64,
    measured: Measured,
    measures: BTreeMap<String, Measure>,
    overall: Measure,
    /// The window functions' figures, on PostgreSQL.
    window: Option<BTreeMap<String, Measure>>,
}

/// The month measured and the instant the reports are made.
fn month_and_now() -> anyhow::Result<(Month, i64, i64, i64)> {
    let zone = TimeZone::get("Europe/Paris")?;
    let month = Month::new(2026, 11)?;
    let (from, to) = month.bounds(&zone);
    // The morning of 3 December: the history written reaches 2 December.
    let now = to + 2 * DAY + 6 * 60 * MINUTE;
    Ok((month, from, to, now))
}

/// Fills a throw-away database: (changes, alarms, import s, fill s).
async fn fill_backend(
    options: &Options,
    store: &System,
) -> anyhow::Result<(usize, usize, f64, f64)> {
    let (_, from, to, now) = month_and_now()?;
    eprintln!("inventaire…");
    let parsed = InventoryFile::parse(&fleet(options)).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let started = Instant::now();
    store
        .import(&Actor::console("banc"), &parsed.inventory, now)
        .await?;
    let import_seconds = started.elapsed().as_secs_f64();
    drop(parsed);

    eprintln!("historique…");
    let started = Instant::now();
    let (changes, alarms) = fill(store, options, from, to, now).await?;
    store.analyze().await?;
    let fill_seconds = started.elapsed().as_secs_f64();
    eprintln!("{changes} changements, {alarms} alarmes en {fill_seconds:.0} s");
    Ok((changes, alarms, import_seconds, fill_seconds))
}

/// In the measuring process: the reports of the database at `url`; each equipment's figures
/// (and the window functions', on PostgreSQL) written to `measures_file`, one line each.
async fn measure_reports(
    options: &Options,
    url: &str,
    measures_file: &str,
) -> anyhow::Result<Measured> {
    let (month, from, to, now) = month_and_now()?;
    let store = System::open(url).await?;
    let postgres = url.starts_with("postgres");
    let mut config = Config::default();
    config.supervision.poll = false;
    config.reports.monthly = false;
    let state = AppState::new(store.clone(), config, Clock::manual(now));

    eprintln!("rapport d'un client…");
    let client = reference(&client_ref(0));
    reset_peak();
    let started = Instant::now();
    let made = vigie_server::reports::make(
        &state,
        Kind::Supervision,
        Some(&client),
        None,
        Covered::Month(month),
        now,
    )
    .await?;
    let one_make = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let rendered = vigie_server::reports::render(&made).await?;
    let one_render = started.elapsed().as_secs_f64();
    let one_peak = peak_mib();
    let one_pages = pdf_pages(&rendered.pdf);
    drop((made, rendered));
    let started = Instant::now();
    let one = vigie_availability(&store, options, 0..1, from, to).await?;
    let one_availability = started.elapsed().as_secs_f64();

    eprintln!("tous les rapports du mois…");
    reset_peak();
    let started = Instant::now();
    let round = vigie_server::reports::monthly(&state, &store, month, now).await?;
    let all_seconds = started.elapsed().as_secs_f64();
    let all_peak = peak_mib();

    eprintln!("disponibilité de tout le parc…");
    let started = Instant::now();
    let measures = vigie_availability(&store, options, 0..options.clients, from, to).await?;
    let fleet_availability = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        one.iter().all(|(k, v)| measures.get(k) == Some(v)),
        "la disponibilité d'un client diffère selon qu'elle est lue seule ou avec le parc"
    );

    let mut lines = String::new();
    let mut line = |source: &str, reference: &str, m: &Measure| {
        let _ = writeln!(
            lines,
            "{source} {reference} {} {} {} {}",
            m.up_ms, m.down_ms, m.unknown_ms, m.maintenance_ms
        );
    };
    for (reference, measure) in &measures {
        line("vigie", reference, measure);
    }
    let window = if postgres {
        eprintln!("fonctions de fenêtrage de PostgreSQL…");
        let started = Instant::now();
        let all = window_availability(url, from, to, None).await?;
        let all_seconds = started.elapsed().as_secs_f64();
        let started = Instant::now();
        window_availability(url, from, to, Some(&client_ref(0))).await?;
        let one_seconds = started.elapsed().as_secs_f64();
        for (reference, measure) in &all {
            line("fenetrage", reference, measure);
        }
        Some((all_seconds, one_seconds))
    } else {
        None
    };
    std::fs::write(measures_file, lines)?;
    store.close().await;
    Ok(Measured {
        one_make,
        one_render,
        one_peak,
        one_pages,
        one_availability,
        all_seconds,
        all_made: round.made,
        all_failed: round.failed,
        all_peak,
        fleet_availability,
        window,
    })
}

/// Fills `database`, then measures its reports in a fresh process of this program.
async fn measure_backend(
    options: &Options,
    database: &TestDatabase,
    backend: &'static str,
) -> anyhow::Result<Run> {
    let store = database.open().await;
    let filled = fill_backend(options, &store).await;
    store.close().await;
    let (changes, alarms, import_seconds, fill_seconds) = filled?;

    let measures_file = std::env::temp_dir().join(format!(
        "vigie-bench-reports-{}-{backend}.txt",
        std::process::id()
    ));
    let output = std::process::Command::new(std::env::current_exe()?)
        .arg("--clients")
        .arg(options.clients.to_string())
        .arg("--sites-per-client")
        .arg(options.sites_per_client.to_string())
        .arg("--equipment-per-site")
        .arg(options.equipment_per_site.to_string())
        .arg("--measure-url")
        .arg(&database.url)
        .arg("--measures-file")
        .arg(&measures_file)
        .stderr(std::process::Stdio::inherit())
        .output()?;
    anyhow::ensure!(
        output.status.success(),
        "le processus de mesure a échoué ({})",
        output.status
    );
    let measured: Measured = serde_json::from_slice(&output.stdout)?;
    let text = std::fs::read_to_string(&measures_file)?;
    let _ = std::fs::remove_file(&measures_file);
    let mut measures = BTreeMap::new();
    let mut window = BTreeMap::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let [source, reference, up, down, unknown, maintenance] = fields[..] else {
            anyhow::bail!("ligne de mesures illisible : {line}");
        };
        let measure = Measure {
            up_ms: up.parse()?,
            down_ms: down.parse()?,
            unknown_ms: unknown.parse()?,
            maintenance_ms: maintenance.parse()?,
        };
        let into = if source == "vigie" {
            &mut measures
        } else {
            &mut window
        };
        into.insert(reference.to_string(), measure);
    }
    let overall: Measure = measures.values().sum();
    Ok(Run {
        backend,
        changes,
        alarms,
        import_seconds,
        fill_seconds,
        window: measured.window.map(|_| window),
        measured,
        measures,
        overall,
    })
}

/// The number of pages of a PDF: its `/Type /Page` objects (with or without the space; not
/// `/Pages`, the tree).
fn pdf_pages(pdf: &[u8]) -> usize {
    let mut count = 0;
    for (i, _) in pdf.windows(5).enumerate().filter(|(_, w)| w == b"/Type") {
        let rest = &pdf[i + 5..];
        let rest = rest
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .map_or(&rest[rest.len()..], |skip| &rest[skip..]);
        if rest.starts_with(b"/Page") && rest.get(5) != Some(&b's') {
            count += 1;
        }
    }
    count
}

/// How many equipment differ between two sets of figures (present in one only, or not equal).
fn differences(a: &BTreeMap<String, Measure>, b: &BTreeMap<String, Measure>) -> usize {
    let only_b = b.keys().filter(|k| !a.contains_key(*k)).count();
    for (k, v) in a.iter().filter(|(k, v)| b.get(*k) != Some(v)).take(3) {
        eprintln!("différence {k} : Vigie {v:?}, fenêtrage {:?}", b.get(k));
    }
    a.iter().filter(|(k, v)| b.get(*k) != Some(v)).count() + only_b
}

fn percent(measure: &Measure) -> String {
    measure
        .rate()
        .map(|r| format!("{:.4} %", r * 100.0).replace('.', ","))
        .unwrap_or_else(|| "—".into())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = Options::parse();
    if let (Some(url), Some(file)) = (&options.measure_url, &options.measures_file) {
        let measured = measure_reports(&options, url, file).await?;
        println!("{}", serde_json::to_string(&measured)?);
        return Ok(());
    }
    let mut runs = Vec::new();
    for backend in &options.backends {
        let (backend, name) = match backend.as_str() {
            "sqlite" => (Backend::Sqlite, "SQLite"),
            "postgres" => (Backend::Postgres, "PostgreSQL"),
            other => anyhow::bail!("--backends : « {other} » inconnu (sqlite, postgres)"),
        };
        eprintln!("== {name}");
        let database = TestDatabase::create(backend).await;
        let run = measure_backend(&options, &database, name).await;
        if options.keep_database {
            eprintln!("base gardée : {}", database.url);
        } else {
            database.drop_database().await;
        }
        runs.push(run?);
    }

    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let per_client = options.sites_per_client * options.equipment_per_site;
    let mut section = String::new();
    let _ = writeln!(section, "{TITLE}\n");
    let _ = writeln!(
        section,
        "Objectif : pour un parc de 100 000 équipements sur 30 jours (4 à 5 millions de changements d'état), tous les rapports du mois en 30 s au plus et 1 Go de mémoire au plus, le rapport d'un client de 5 000 équipements en 1 s au plus ; des disponibilités identiques à celles que calculent les fonctions de fenêtrage de PostgreSQL sur les mêmes données.\n"
    );
    let first = &runs[0];
    let _ = writeln!(
        section,
        "Mesuré le {} ({cores} cœurs) : {} équipements ({} clients de {}, {} sites de {} par client), chacun avec sa vérification ping, sur un fichier SQLite (`synchronous = FULL`) puis sur PostgreSQL local. Leur historique du 31 octobre au 1er décembre 2026 est écrit par le point d'entrée des observations (`Store::record_observations`, par lots de {BATCH}) : {} changements d'état (de 0 à {} coupures de 1 à 120 minutes par équipement, une sur vingt une perte du chemin de supervision, « inconnu »), dont certaines à cheval sur les bornes du mois ; {} alarmes (les coupures de 115 minutes ou plus), comme le moteur d'alarmes les enregistre. Mois mesuré : novembre 2026, heure de Paris. Les rapports sont mesurés dans un processus neuf ouvert sur la base remplie, comme le serveur le 1er du mois ; mémoire : pic de mémoire résidente de ce processus (`VmHWM`, remis à zéro avant chaque mesure), base SQLite et pilote compris.\n",
        jiff::Timestamp::now().strftime("%Y-%m-%d"),
        vigie_bench::grouped(options.equipment()),
        options.clients,
        vigie_bench::grouped(per_client),
        options.sites_per_client,
        options.equipment_per_site,
        vigie_bench::grouped(first.changes),
        options.max_outages,
        vigie_bench::grouped(first.alarms),
    );
    let _ = writeln!(
        section,
        "| Base | Mesure | Durée (s) | Pic mémoire (Mio) | Objectif |"
    );
    let _ = writeln!(section, "|---|---|---:|---:|---|");
    let verdict = |held: bool| if held { "**tenu**" } else { "**non tenu**" };
    for run in &runs {
        let one = run.measured.one_make + run.measured.one_render;
        let _ = writeln!(
            section,
            "| {} | Rapport de supervision d'un client ({} équipements) : lecture et calcul {:.2} s, PDF de {} pages {:.2} s | {:.2} | {:.0} | ≤ 1 s : {} |",
            run.backend,
            vigie_bench::grouped(per_client),
            run.measured.one_make,
            run.measured.one_pages,
            run.measured.one_render,
            one,
            run.measured.one_peak,
            verdict(one <= 1.0),
        );
        let _ = writeln!(
            section,
            "| {} | Disponibilité d'un client seule (lecture de l'historique et calcul) | {:.2} | — | — |",
            run.backend, run.measured.one_availability,
        );
        let _ = writeln!(
            section,
            "| {} | Tous les rapports du mois : {} faits ({} rapports de supervision, {} revues d'alarmes, l'analyse de satisfaction), rendus en PDF et HTML, classés{} | {:.1} | {:.0} | ≤ 30 s et ≤ 1 Go : {} |",
            run.backend,
            run.measured.all_made,
            options.clients,
            options.clients * options.sites_per_client,
            if run.measured.all_failed > 0 {
                format!(" ; **{} en échec**", run.measured.all_failed)
            } else {
                String::new()
            },
            run.measured.all_seconds,
            run.measured.all_peak,
            verdict(
                run.measured.all_seconds <= 30.0
                    && run.measured.all_peak <= 1024.0
                    && run.measured.all_failed == 0
            ),
        );
        let _ = writeln!(
            section,
            "| {} | Disponibilité de tout le parc seule (client par client) | {:.2} | — | — |",
            run.backend, run.measured.fleet_availability,
        );
        if let Some((all, one)) = &run.measured.window {
            let _ = writeln!(
                section,
                "| {} | Fonctions de fenêtrage (`LEAD`) : tout le parc / un client | {all:.2} / {one:.2} | — | — |",
                run.backend,
            );
        }
    }
    let _ = writeln!(section);
    let window = runs.iter().find_map(|r| r.window.as_ref());
    for run in &runs {
        let compared = match window {
            Some(window) => {
                let differ = differences(&run.measures, window);
                format!(
                    "comparée équipement par équipement (temps en service, hors service et inconnu, à la milliseconde) aux fonctions de fenêtrage de PostgreSQL : {} ; {}",
                    if differ == 0 {
                        "**identique**".to_string()
                    } else {
                        format!("**{differ} équipements diffèrent**")
                    },
                    format_args!(
                        "{} équipements comparés",
                        vigie_bench::grouped(window.len())
                    )
                )
            }
            None => "non comparée (PostgreSQL n'était pas de la mesure)".into(),
        };
        let _ = writeln!(
            section,
            "{} : disponibilité du parc sur le mois {} (hors service {:.0} h, inconnu {:.0} h cumulées), {compared}. Mise en place : inventaire importé en {:.1} s, historique et alarmes écrits en {:.0} s ({:.0} changements/s).\n",
            run.backend,
            percent(&run.overall),
            run.overall.down_ms as f64 / 3_600_000.0,
            run.overall.unknown_ms as f64 / 3_600_000.0,
            run.import_seconds,
            run.fill_seconds,
            run.changes as f64 / run.fill_seconds.max(0.001),
        );
    }
    let _ = writeln!(
        section,
        "Reproduire : `cargo run --release -p vigie-bench --bin vigie-bench-reports` (options : `--backends sqlite,postgres`, `--clients`, `--sites-per-client`, `--equipment-per-site`, `--max-outages`, `--write ''` pour seulement afficher)."
    );
    println!("{section}");
    if !options.write.is_empty() {
        let document = std::fs::read_to_string(&options.write).unwrap_or_default();
        std::fs::write(
            &options.write,
            vigie_bench::replace_section(&document, TITLE, &section),
        )?;
        eprintln!("écrit dans {}", options.write);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Options {
        Options {
            clients: 2,
            sites_per_client: 2,
            equipment_per_site: 3,
            max_outages: 10,
            backends: Vec::new(),
            keep_database: false,
            write: String::new(),
            measure_url: None,
            measures_file: None,
        }
    }

    #[test]
    fn each_equipment_alternates_and_starts_up_the_day_before() {
        let options = small();
        let (from, to) = (1_000 * DAY, 1_030 * DAY);
        let (changes, alarmed) = history(&options, from, to);
        let mut last: BTreeMap<u32, (i64, u8)> = BTreeMap::new();
        for change in &changes {
            match last.get(&change.equipment) {
                None => {
                    assert_eq!(change.at, from - DAY);
                    assert_eq!(change.status, UP);
                }
                Some((at, status)) => {
                    assert!(change.at > *at, "in order per equipment");
                    assert_ne!(change.status, *status, "every change changes the status");
                    assert!(change.at < to + DAY);
                }
            }
            last.insert(change.equipment, (change.at, change.status));
        }
        assert_eq!(last.len(), options.equipment());
        assert!(last.values().all(|(_, status)| *status == UP));
        assert!(
            alarmed
                .iter()
                .all(|(_, down, up)| up - down >= 115 * MINUTE)
        );
    }

    #[test]
    fn places_follow_the_inventory_numbering() {
        let options = small();
        assert_eq!(place_of(&options, 0), (0, 0, 0));
        assert_eq!(place_of(&options, 4), (0, 1, 1));
        assert_eq!(place_of(&options, 6), (1, 0, 0));
    }
}
