//! `vigie-bench-alarm-history`: the alarm history a dashboard reads (issue 5: "the 30-day
//! history for dashboards stays fast at 100,000 equipment"). Fills the real store, on SQLite
//! then PostgreSQL, with 90 days of alarms of 100,000 equipment (5 clients, 100 sites), as
//! the alarm worker saves them, then times the queries the dashboards make through
//! `Store::list_alarms`: a client's, a site's and an equipment's alarms present in the last
//! 30 days (first page of 100), and a site's whole 30 days page by page. Prints a Markdown
//! section for docs/benchmarks.md with the command that reproduces it.

use std::time::{Duration, Instant};

use clap::Parser;
use vigie_domain::Reference;
use vigie_domain::access::Actor;
use vigie_domain::alarm::lifecycle::{Alarm, AlarmEvent};
use vigie_domain::alarm::rules::{Condition, ConditionKey};
use vigie_domain::policy::Severity;
use vigie_store::testing::TestDatabase;
use vigie_store::{AlarmFilter, Backend, System};

const MINUTE: i64 = 60_000;
const DAY: i64 = 24 * 60 * MINUTE;

/// Alarm history reads at 100,000 equipment.
#[derive(Debug, Parser)]
struct Options {
    #[arg(long, default_value_t = 100_000)]
    equipment: usize,
    /// Alarms per equipment over the 90 days.
    #[arg(long, default_value_t = 3)]
    alarms_per_equipment: usize,
    /// Times each query is run (the median is kept).
    #[arg(long, default_value_t = 21)]
    runs: usize,
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres")]
    backends: Vec<String>,
}

fn reference(text: &str) -> Reference {
    Reference::parse(text).expect("reference")
}

/// A small deterministic generator (xorshift), so that every run fills the same history.
struct Random(u64);

impl Random {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

fn site_of(equipment: usize) -> usize {
    equipment % 100
}

fn client_of(site: usize) -> usize {
    site % 5
}

/// Fills 90 days ending at `now`: each alarm raised, notified, resolved after 1 to 300
/// minutes (the newest 0.5 % still present), with its events.
async fn fill(store: &System, options: &Options, now: i64) -> anyhow::Result<usize> {
    let mut random = Random(0x5EED_1234_ABCD_0001);
    let total = options.equipment * options.alarms_per_equipment;
    // Raised in time order, as the worker numbers them.
    let mut raised: Vec<i64> = (0..total)
        .map(|_| now - 90 * DAY + random.below(90 * DAY as u64) as i64)
        .collect();
    raised.sort_unstable();
    let mut batch: Vec<(Option<Reference>, Alarm)> = Vec::new();
    let mut events: Vec<AlarmEvent> = Vec::new();
    for (index, at) in raised.into_iter().enumerate() {
        let equipment = random.below(options.equipment as u64) as usize;
        let site = site_of(equipment);
        let (mut alarm, event) = Alarm::raised(
            index as u64 + 1,
            Some(reference(&format!("SITE-{site:03}"))),
            Some(reference(&format!("EQ-{equipment:06}"))),
            ConditionKey::whole(Condition::Unreachable),
            Severity::Major,
            false,
            at,
        );
        events.push(event);
        alarm.notified_at = Some(at);
        events.push(alarm.event(
            at,
            None,
            vigie_domain::alarm::lifecycle::EventKind::Notified {
                severity: Severity::Major,
            },
        ));
        let lasted = (1 + random.below(300) as i64) * MINUTE;
        if index < total * 995 / 1000 && at + lasted < now {
            events.extend(alarm.resolve(at + lasted, at + lasted - 2 * MINUTE));
        }
        batch.push((
            Some(reference(&format!("CLI-{:02}", client_of(site)))),
            alarm,
        ));
        if batch.len() == 1000 {
            store.save_alarms(&batch, &events, None, 0).await?;
            batch.clear();
            events.clear();
        }
    }
    store.save_alarms(&batch, &events, None, 0).await?;
    Ok(total)
}

struct Timing {
    query: &'static str,
    rows: usize,
    median: Duration,
    worst: Duration,
}

async fn time(
    store: &System,
    query: &'static str,
    filter: AlarmFilter,
    all_pages: bool,
    runs: usize,
    now: i64,
) -> anyhow::Result<Timing> {
    let console = Actor::console("bench");
    let mut durations = Vec::new();
    let mut rows = 0;
    for _ in 0..runs {
        let started = Instant::now();
        let mut filter = filter.clone();
        rows = 0;
        loop {
            let page = store.list_alarms(&console, &filter, now).await?;
            rows += page.len();
            let full = page.len() as i64 == filter.limit.unwrap_or(100);
            match (all_pages && full, page.last()) {
                (true, Some(last)) => filter.before = Some(last.alarm.id),
                _ => break,
            }
        }
        durations.push(started.elapsed());
    }
    durations.sort();
    Ok(Timing {
        query,
        rows,
        median: durations[durations.len() / 2],
        worst: *durations.last().unwrap_or(&Duration::ZERO),
    })
}

async fn measure(backend: Backend, options: &Options) -> anyhow::Result<(f64, Vec<Timing>)> {
    let database = TestDatabase::create(backend).await;
    let store = database.open().await;
    let now = 1_795_428_000_000; // 2026-11-23T10:00:00Z
    let started = Instant::now();
    let total = fill(&store, options, now).await?;
    let fill_seconds = started.elapsed().as_secs_f64();
    eprintln!("{total} alarmes écrites en {fill_seconds:.1} s");
    let month = AlarmFilter {
        from: Some(now - 30 * DAY),
        to: Some(now),
        limit: Some(100),
        ..AlarmFilter::default()
    };
    let mut timings = Vec::new();
    for (query, filter, all_pages) in [
        (
            "un client, 30 jours, première page (100)",
            AlarmFilter {
                client: Some(reference("CLI-03")),
                ..month.clone()
            },
            false,
        ),
        (
            "un site, 30 jours, première page (100)",
            AlarmFilter {
                site: Some(reference("SITE-042")),
                ..month.clone()
            },
            false,
        ),
        (
            "un équipement, 30 jours",
            AlarmFilter {
                equipment: Some(reference("EQ-004242")),
                ..month.clone()
            },
            false,
        ),
        (
            "un site, 30 jours, toutes les pages de 1 000",
            AlarmFilter {
                site: Some(reference("SITE-042")),
                limit: Some(1000),
                ..month.clone()
            },
            true,
        ),
        (
            "alarmes non closes de tout le parc, première page (100)",
            AlarmFilter {
                open: Some(true),
                limit: Some(100),
                ..AlarmFilter::default()
            },
            false,
        ),
    ] {
        timings.push(time(&store, query, filter, all_pages, options.runs, now).await?);
    }
    store.close().await;
    database.drop_database().await;
    Ok((fill_seconds, timings))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = Options::parse();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!("## Historique des alarmes : 100 000 équipements, 30 jours\n");
    println!(
        "Mesuré le {} ({cores} cœurs) : {} équipements (5 clients, 100 sites), {} alarmes sur 90 jours avec leurs événements, écrites par `System::save_alarms` comme le moteur d'alarmes les écrit ; requêtes par `Store::list_alarms`, médiane de {} exécutions.\n",
        jiff::Timestamp::now().strftime("%Y-%m-%d"),
        options.equipment,
        options.equipment * options.alarms_per_equipment,
        options.runs
    );
    println!("| Base | Requête | Lignes | Médiane (ms) | Pire (ms) |");
    println!("|---|---|---:|---:|---:|");
    let mut fills = Vec::new();
    for backend in &options.backends {
        let (backend, name) = match backend.as_str() {
            "sqlite" => (Backend::Sqlite, "SQLite"),
            "postgres" => (Backend::Postgres, "PostgreSQL"),
            other => anyhow::bail!("--backends : « {other} » inconnu (sqlite, postgres)"),
        };
        eprintln!("mesure sur {name}…");
        let (fill_seconds, timings) = measure(backend, &options).await?;
        fills.push((name, fill_seconds));
        for t in timings {
            println!(
                "| {name} | {} | {} | {:.2} | {:.2} |",
                t.query,
                t.rows,
                t.median.as_secs_f64() * 1000.0,
                t.worst.as_secs_f64() * 1000.0
            );
        }
    }
    println!();
    for (name, seconds) in fills {
        println!(
            "Écriture de l'historique sur {name} : {seconds:.1} s ({:.0} alarmes/s, chacune avec ses événements).",
            (options.equipment * options.alarms_per_equipment) as f64 / seconds
        );
    }
    println!(
        "\nReproduire : `cargo run --release -p vigie-bench --bin vigie-bench-alarm-history -- --equipment {} --alarms-per-equipment {} --runs {}`",
        options.equipment, options.alarms_per_equipment, options.runs
    );
    Ok(())
}
