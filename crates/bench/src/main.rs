//! `vigie-bench agents`: the real server (HTTP, authentication, store) on SQLite then on
//! PostgreSQL, loaded by simulated agents pushing batches of samples as `vigie agent` does;
//! prints the sustained samples per second written and the push latency percentiles, as a
//! Markdown section for docs/benchmarks.md with the command that reproduces it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use vigie_domain::access::{Actor, TokenScope};
use vigie_domain::inventory::StaffRole;
use vigie_domain::inventory::file::InventoryFile;
use vigie_server::{AppState, Clock, Config, auth};
use vigie_store::testing::TestDatabase;
use vigie_store::{Backend, NewUser, UserKind};

/// Agent pushes against the real server.
#[derive(Debug, Parser)]
struct Options {
    /// Simulated agents (one equipment each).
    #[arg(long, default_value_t = 20_000)]
    agents: usize,
    /// Metrics per push.
    #[arg(long, default_value_t = 20)]
    metrics: usize,
    /// Pushes sent in all (each agent pushes in turn, one minute of its time apart).
    #[arg(long, default_value_t = 100_000)]
    pushes: usize,
    /// Pushes in flight at once.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Backends to measure: sqlite, postgres.
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres")]
    backends: Vec<String>,
}

struct Outcome {
    backend: &'static str,
    seconds: f64,
    pushes: usize,
    samples: usize,
    p50: Duration,
    p99: Duration,
    max: Duration,
    failures: usize,
}

fn inventory(agents: usize) -> String {
    let mut text = String::from(
        "version = 1\n[[client]]\nref = \"CLI-BENCH\"\nname = \"Client de mesure\"\n[[contract]]\nref = \"CTR-BENCH\"\nclient = \"CLI-BENCH\"\noptions = [\"supervision\"]\n",
    );
    let sites = agents.div_ceil(1000);
    for site in 0..sites {
        text.push_str(&format!("[[site]]\nref = \"SITE-{site:03}\"\nclient = \"CLI-BENCH\"\ncontract = \"CTR-BENCH\"\nname = \"Site {site}\"\n"));
    }
    for agent in 0..agents {
        text.push_str(&format!("[[equipment]]\nref = \"NVR-{agent:06}\"\nsite = \"SITE-{:03}\"\nname = \"Enregistreur {agent}\"\nkind = \"nvr\"\nchecks = {{ agent = {{}} }}\n", agent / 1000));
    }
    text
}

async fn measure(backend: Backend, options: &Options) -> anyhow::Result<Outcome> {
    let database = TestDatabase::create(backend).await;
    let store = database.open().await;
    let console = Actor::console("bench");
    let now = jiff::Timestamp::now().as_millisecond();
    let parsed =
        InventoryFile::parse(&inventory(options.agents)).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    store.import(&console, &parsed.inventory, now).await?;
    store
        .create_user(
            &console,
            NewUser {
                username: "bench".into(),
                display_name: "bench".into(),
                kind: UserKind::Staff,
                staff: None,
                client: None,
                roles: [StaffRole::Supervision].into_iter().collect(),
                password_hash: auth::hash_password("mot-de-passe-de-mesure"),
                must_change_password: false,
            },
            now,
        )
        .await?;
    let (_, token) = auth::issue_token(
        &store,
        &console,
        "bench",
        "bench",
        TokenScope::Agent,
        None,
        now,
    )
    .await?;
    let mut config = Config::default();
    config.supervision.poll = false;
    config.reports.monthly = false;
    let running = vigie_server::start(
        AppState::new(store.clone(), config, Clock::System),
        "127.0.0.1:0".parse()?,
    )
    .await?;
    let url = format!("http://{}/api/v1/observations", running.address);
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(options.concurrency)
        .build()?;
    let next = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..options.concurrency {
        let (http, url, token, next, failures) = (
            http.clone(),
            url.clone(),
            token.clone(),
            next.clone(),
            failures.clone(),
        );
        let (agents, metrics, pushes) = (options.agents, options.metrics, options.pushes);
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= pushes {
                    return latencies;
                }
                let agent = i % agents;
                let minute = (i / agents) as i64;
                let samples: Vec<serde_json::Value> = (0..metrics).map(|m| serde_json::json!({"name": format!("metric_{m}"), "value": (i * m) as f64 / 7.0})).collect();
                let body = serde_json::json!({
                    "source": format!("agent:NVR-{agent:06}"),
                    "sequence": minute + 1,
                    "observations": [{"equipment": format!("NVR-{agent:06}"), "check": "agent", "at": now - 86_400_000 + minute * 60_000, "status": "up", "samples": samples}],
                });
                let sent = Instant::now();
                let response = http.post(&url).bearer_auth(&token).json(&body).send().await;
                latencies.push(sent.elapsed());
                if !response.is_ok_and(|r| r.status().is_success()) {
                    failures.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await?);
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort();
    let percentile =
        |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    running.handle.abort();
    store.close().await;
    database.drop_database().await;
    Ok(Outcome {
        backend: if backend == Backend::Sqlite {
            "SQLite"
        } else {
            "PostgreSQL"
        },
        seconds,
        pushes: options.pushes,
        samples: options.pushes * options.metrics,
        p50: percentile(0.50),
        p99: percentile(0.99),
        max: *latencies.last().unwrap_or(&Duration::ZERO),
        failures: failures.load(Ordering::Relaxed),
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = Options::parse();
    let mut outcomes = Vec::new();
    for backend in &options.backends {
        let backend = match backend.as_str() {
            "sqlite" => Backend::Sqlite,
            "postgres" => Backend::Postgres,
            other => anyhow::bail!("--backends : « {other} » inconnu (sqlite, postgres)"),
        };
        eprintln!("mesure sur {backend:?}…");
        outcomes.push(measure(backend, &options).await?);
    }
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!("## Envois des agents\n");
    println!(
        "Mesuré le {} ({cores} cœurs) : {} agents, {} mesures par envoi, {} envois, {} en parallèle, serveur réel (HTTP, jeton, base) sur la même machine.\n",
        jiff::Timestamp::now().strftime("%Y-%m-%d"),
        options.agents,
        options.metrics,
        options.pushes,
        options.concurrency
    );
    println!(
        "| Base | Durée (s) | Envois/s | Mesures écrites/s | p50 (ms) | p99 (ms) | max (ms) | Échecs |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for o in &outcomes {
        println!(
            "| {} | {:.1} | {:.0} | {:.0} | {:.1} | {:.1} | {:.1} | {} |",
            o.backend,
            o.seconds,
            o.pushes as f64 / o.seconds,
            o.samples as f64 / o.seconds,
            o.p50.as_secs_f64() * 1000.0,
            o.p99.as_secs_f64() * 1000.0,
            o.max.as_secs_f64() * 1000.0,
            o.failures
        );
    }
    println!(
        "\nBesoin pour {} agents × {} mesures par minute : {:.0} mesures/s.",
        options.agents,
        options.metrics,
        (options.agents * options.metrics) as f64 / 60.0
    );
    println!(
        "\nReproduire : `cargo run --release -p vigie-bench -- --agents {} --metrics {} --pushes {} --concurrency {}`",
        options.agents, options.metrics, options.pushes, options.concurrency
    );
    Ok(())
}
