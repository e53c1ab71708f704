//! `vigie-bench-pages`: the pages at 100,000 equipment (issue 8). Builds a fleet of 100,000
//! equipment (20 clients, 50 sites each, 100 equipment per site) in the real store, on a
//! SQLite file then on PostgreSQL, gives it states (1 % of the equipment down, with their alarms raised by the
//! real alarm worker), starts the real server, and measures under 64 concurrent clients the
//! p50/p99/max latency of the alarm wall, a page of the equipment list, a site's page and a
//! client's dashboard; then opens 200 live streams (server-sent events) and measures how long
//! one state change takes to reach each. Prints a Markdown section and writes it into
//! docs/benchmarks.md.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use vigie_bench::{equipment_ref, percentile, site_ref};
use vigie_domain::Reference;
use vigie_domain::access::Actor;
use vigie_domain::inventory::StaffRole;
use vigie_domain::inventory::file::InventoryFile;
use vigie_domain::supervision::{CheckName, CheckStatus, Observation};
use vigie_server::{AppState, Clock, Config, auth};
use vigie_store::testing::TestDatabase;
use vigie_store::{Backend, NewUser, System, UserKind};

const TITLE: &str = "## Pages web : 100 000 équipements";
const MINUTE: i64 = 60_000;

/// The pages at 100,000 equipment.
#[derive(Debug, Parser)]
struct Options {
    #[arg(long, default_value_t = 20)]
    clients: usize,
    #[arg(long, default_value_t = 50)]
    sites_per_client: usize,
    #[arg(long, default_value_t = 100)]
    equipment_per_site: usize,
    /// Share of the equipment down (with an alarm each), in per mille.
    #[arg(long, default_value_t = 10)]
    down_per_mille: usize,
    /// Requests per page.
    #[arg(long, default_value_t = 2000)]
    requests: usize,
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Live streams open for the fan-out.
    #[arg(long, default_value_t = 200)]
    streams: usize,
    /// `sqlite` (the embedded default) or `postgres` (VIGIE_TEST_POSTGRES_URL, or the local
    /// server), each on a throw-away database.
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres")]
    backends: Vec<String>,
    /// The pages to measure, among `wall`, `list`, `site`, `dashboard`.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "wall,list,site,dashboard"
    )]
    pages: Vec<String>,
    /// Keep each throw-away database after the run and print its address (to study a plan).
    #[arg(long)]
    keep_database: bool,
    /// Write the section into this file (docs/benchmarks.md); empty: print only.
    #[arg(long, default_value = "docs/benchmarks.md")]
    write: String,
}

fn reference(text: &str) -> Reference {
    Reference::parse(text).expect("reference")
}

/// The fleet as an inventory file: the benchmark fleet (each client one contract with the
/// dashboard) and one technician.
fn fleet(options: &Options) -> String {
    let staff = "[[staff]]\nref = \"ST-BENCH\"\nname = \"Technicien du banc\"\nroles = [\"technician\", \"supervision\"]\nemail = \"banc@integrateur.example\"\nphone = \"06 00 00 00 01\"\n\n";
    vigie_bench::fleet_inventory(
        vigie_bench::FleetShape {
            clients: options.clients,
            sites_per_client: options.sites_per_client,
            equipment_per_site: options.equipment_per_site,
        },
        staff,
    )
}

fn ping(equipment: &str, at: i64, up: bool) -> Observation {
    Observation {
        equipment: reference(equipment),
        check: CheckName::parse("ping").expect("check"),
        at,
        status: Some(if up {
            CheckStatus::Up
        } else {
            CheckStatus::Down
        }),
        detail: None,
        samples: Vec::new(),
        facts: Default::default(),
    }
}

struct Latencies {
    name: &'static str,
    path: String,
    p50: f64,
    p99: f64,
    max: f64,
    per_second: f64,
    bytes: usize,
    /// Answers other than 200 (not timed).
    errors: usize,
    /// CPU time of the whole process (server and load client) per page, in ms: what a page
    /// costs, whatever else the machine is doing.
    cpu_ms: f64,
}

/// CPU time used by this process so far (user and system), in ms, from `/proc/self/stat`.
fn process_cpu_ms() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // The fields after the command name (in parentheses, which may hold spaces).
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    let ticks: f64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<f64>().ok())
        .sum();
    // Linux counts them in USER_HZ, 100 per second.
    ticks * 10.0
}

/// `requests` GETs by `concurrency` clients at once, after a warm-up; request `n` asks for
/// `targets[n % len]` (an address and the session cookie it is asked with), so that a page is
/// measured over several of its instances (pages of the list, sites, clients), not one
/// address the database has just read.
async fn measure(
    http: &reqwest::Client,
    base: &str,
    targets: Vec<(String, String)>,
    name: &'static str,
    path: String,
    options: &Options,
) -> anyhow::Result<Latencies> {
    let targets: Arc<Vec<(String, String)>> = Arc::new(
        targets
            .into_iter()
            .map(|(path, cookie)| (format!("{base}{path}"), cookie))
            .collect(),
    );
    // An answer other than 200 is counted as an error, not timed.
    let get = |http: reqwest::Client, url: String, cookie: String| async move {
        let started = Instant::now();
        let response = http.get(&url).header("cookie", cookie).send().await?;
        let status = response.status();
        let body = response.bytes().await?;
        let elapsed = started.elapsed().as_secs_f64() * 1000.0;
        if status != reqwest::StatusCode::OK {
            eprintln!("{url} : {status}");
            return Ok::<_, anyhow::Error>(None);
        }
        Ok(Some((elapsed, body.len())))
    };
    for n in 0..50.max(targets.len()) {
        let (url, cookie) = &targets[n % targets.len()];
        get(http.clone(), url.clone(), cookie.clone())
            .await?
            .ok_or_else(|| anyhow::anyhow!("{url} : la page ne répond pas 200"))?;
    }
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let cpu_before = process_cpu_ms();
    let mut workers = Vec::new();
    for _ in 0..options.concurrency {
        let (http, targets, next) = (http.clone(), targets.clone(), next.clone());
        let total = options.requests;
        workers.push(tokio::spawn(async move {
            let mut times = Vec::new();
            let mut bytes = 0;
            let mut errors = 0;
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if n >= total {
                    break;
                }
                let (url, cookie) = &targets[n % targets.len()];
                match get(http.clone(), url.clone(), cookie.clone()).await? {
                    Some((ms, size)) => {
                        times.push(ms);
                        bytes = bytes.max(size);
                    }
                    None => errors += 1,
                }
            }
            Ok::<_, anyhow::Error>((times, bytes, errors))
        }));
    }
    let mut times = Vec::new();
    let mut bytes = 0;
    let mut errors = 0;
    for worker in workers {
        let (mut some, size, failed) = worker.await??;
        times.append(&mut some);
        bytes = bytes.max(size);
        errors += failed;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu_ms = (process_cpu_ms() - cpu_before) / options.requests.max(1) as f64;
    times.sort_by(|a, b| a.total_cmp(b));
    Ok(Latencies {
        cpu_ms,
        name,
        path,
        p50: percentile(&times, 0.50),
        p99: percentile(&times, 0.99),
        max: times.last().copied().unwrap_or(0.0),
        per_second: times.len() as f64 / elapsed,
        bytes,
        errors,
    })
}

/// A session for `username`, written as the login would write it; its cookie.
async fn session(store: &System, username: &str, now: i64) -> anyhow::Result<String> {
    let id = auth::random_hex(32);
    store
        .create_session(username, &auth::digest(&id), now, now + 12 * 3_600_000)
        .await?;
    Ok(format!("{}={id}", auth::SESSION_COOKIE))
}

async fn user(
    store: &System,
    name: &str,
    kind: UserKind,
    client: Option<&str>,
    staff: bool,
) -> anyhow::Result<()> {
    store
        .create_user(
            &Actor::console("banc"),
            NewUser {
                username: name.into(),
                display_name: name.into(),
                kind,
                staff: staff.then(|| reference("ST-BENCH")),
                client: client.map(reference),
                roles: if staff {
                    [StaffRole::Supervision].into()
                } else {
                    Default::default()
                },
                password_hash: auth::hash_password("mot-de-passe-du-banc"),
                must_change_password: false,
            },
            0,
        )
        .await?;
    Ok(())
}

/// What one backend measured.
struct Run {
    backend: &'static str,
    results: Vec<Latencies>,
    fan_out: (f64, f64, f64, usize),
    import_seconds: f64,
    states_seconds: f64,
    open: i64,
    down: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = Options::parse();
    let mut runs = Vec::new();
    for backend in &options.backends {
        let (backend, name) = match backend.as_str() {
            "sqlite" => (Backend::Sqlite, "SQLite"),
            "postgres" => (Backend::Postgres, "PostgreSQL"),
            other => anyhow::bail!("--backends : « {other} » inconnu (sqlite, postgres)"),
        };
        eprintln!("== {name}");
        let database = TestDatabase::create(backend).await;
        let store = database.open().await;
        let run = measure_backend(&options, store.clone(), name).await;
        store.close().await;
        if options.keep_database {
            eprintln!("base gardée : {}", database.url);
        } else {
            database.drop_database().await;
        }
        runs.push(run?);
    }
    let equipment = options.clients * options.sites_per_client * options.equipment_per_site;
    let mut section = String::new();
    let _ = writeln!(section, "{TITLE}\n");
    let _ = writeln!(
        section,
        "Objectif : p99 ≤ 50 ms pour le mur d'alarmes, une page de la liste des équipements, la page d'un site et le tableau de bord d'un client sous 64 clients simultanés ; un changement d'état diffusé à 200 sessions ouvertes en moins d'une seconde.\n"
    );
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let first = &runs[0];
    let _ = writeln!(
        section,
        "Mesuré le {} ({cores} cœurs, le client de charge sur la même machine) : le vrai serveur (`vigie_server::start`), sur un fichier SQLite (`synchronous = FULL`) puis sur PostgreSQL local, {} équipements ({} clients, {} sites par client, {} équipements par site), chacun observé en service, {} caméras en panne depuis 10 minutes avec leur alarme levée par le moteur d'alarmes ({} alarmes ouvertes). Chaque page demandée {} fois par {} clients à la fois (connexions gardées ouvertes), en alternant ses adresses (20 pages de la liste, 20 sites, les tableaux de bord des 20 clients, chacun avec sa session ; l'adresse du tableau est la première), après une requête de chauffe par adresse (50 au moins) ; latence : de l'envoi de la requête à la fin du corps reçu.\n",
        jiff::Timestamp::now().strftime("%Y-%m-%d"),
        equipment,
        options.clients,
        options.sites_per_client,
        options.equipment_per_site,
        first.down,
        first.open,
        options.requests,
        options.concurrency,
    );
    let _ = writeln!(
        section,
        "| Base | Page | Adresse | p50 (ms) | p99 (ms) | max (ms) | Pages/s | CPU par page (ms) | Taille (octets) | Erreurs |"
    );
    let _ = writeln!(section, "|---|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for run in &runs {
        for r in &run.results {
            let _ = writeln!(
                section,
                "| {} | {} | `{}` | {:.1} | {:.1} | {:.1} | {:.0} | {:.2} | {} | {} |",
                run.backend,
                r.name,
                r.path,
                r.p50,
                r.p99,
                r.max,
                r.per_second,
                r.cpu_ms,
                r.bytes,
                r.errors
            );
        }
    }
    let _ = writeln!(section);
    for run in &runs {
        let fan_out = run.fan_out;
        let max = if fan_out.3 == 0 {
            "—".to_string()
        } else {
            format!("{:.0}", fan_out.2)
        };
        let worst = run.results.iter().map(|r| r.p99).fold(0.0, f64::max);
        let errors: usize = run.results.iter().map(|r| r.errors).sum();
        let _ = writeln!(
            section,
            "{} : diffusion d'un changement d'état (`alarms::record`) à {} flux ouverts (`GET /flux`, {} sessions), de l'enregistrement à l'événement `change` reçu : p50 {:.0} ms, p99 {:.0} ms, max {max} ms, {} flux sur {} (les changements d'un même instant sont regroupés 200 ms) ; p99 ≤ 50 ms : {} (pire p99 {worst:.1} ms) ; diffusion en moins d'une seconde : {}. Mise en place : inventaire importé en {:.1} s, états et alarmes en {:.1} s.\n",
            run.backend,
            options.streams,
            options.streams.div_ceil(20),
            fan_out.0,
            fan_out.1,
            fan_out.3,
            options.streams,
            if worst <= 50.0 && errors == 0 {
                "**tenu**"
            } else {
                "**non tenu**"
            },
            if fan_out.3 == options.streams && fan_out.2 < 1000.0 {
                "**tenue**"
            } else {
                "**non tenue**"
            },
            run.import_seconds,
            run.states_seconds,
        );
    }
    let _ = writeln!(
        section,
        "Reproduire : `cargo run --release -p vigie-bench --bin vigie-bench-pages` (options : `--backends sqlite,postgres`, `--requests`, `--concurrency`, `--streams`, `--write ''` pour seulement afficher)."
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

async fn measure_backend(
    options: &Options,
    store: System,
    backend: &'static str,
) -> anyhow::Result<Run> {
    let now = Clock::System.now_ms();
    eprintln!("inventaire…");
    let text = fleet(options);
    let parsed = InventoryFile::parse(&text).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let started = Instant::now();
    store
        .import(&Actor::console("banc"), &parsed.inventory, now)
        .await?;
    let import_seconds = started.elapsed().as_secs_f64();

    let mut config = Config::default();
    config.supervision.poll = false;
    config.reports.monthly = false;
    let state = AppState::new(store.clone(), config, Clock::System);
    let running = vigie_server::start(state.clone(), "127.0.0.1:0".parse()?).await?;
    let base = format!("http://{}", running.address);

    eprintln!("états et alarmes…");
    let server = Actor::console("banc");
    let mut all = Vec::new();
    for client in 0..options.clients {
        for site in 0..options.sites_per_client {
            for index in 0..options.equipment_per_site {
                all.push(equipment_ref(client, site, index));
            }
        }
    }
    let started = Instant::now();
    for chunk in all.chunks(5000) {
        let observations = chunk
            .iter()
            .map(|e| ping(e, now - 20 * MINUTE, true))
            .collect();
        vigie_server::alarms::record(&state, &server, None, observations, now).await?;
    }
    // Cameras (never a site's switch) down for 10 minutes: each raises its alarm.
    let down: Vec<&String> = all
        .iter()
        .enumerate()
        .filter(|(i, e)| i % (1000 / options.down_per_mille.max(1)) == 1 && !e.ends_with("-000"))
        .map(|(_, e)| e)
        .collect();
    for chunk in down.chunks(1000) {
        let mut observations: Vec<Observation> = chunk
            .iter()
            .map(|e| ping(e, now - 10 * MINUTE, false))
            .collect();
        observations.extend(chunk.iter().map(|e| ping(e, now, false)));
        vigie_server::alarms::record(&state, &server, None, observations, now).await?;
    }
    state.alarms.sync(&state).await;
    // As the database's own maintenance would after a load of this size.
    store.analyze().await?;
    let states_seconds = started.elapsed().as_secs_f64();
    let open = store
        .open_alarm_counts(&server, now)
        .await?
        .counts
        .values()
        .sum::<i64>();

    user(&store, "banc-supervision", UserKind::Staff, None, true).await?;
    let staff = session(&store, "banc-supervision", now).await?;
    // One client user per client: each dashboard is a client's own.
    let mut clients = Vec::new();
    for client in 0..options.clients {
        let name = format!("banc-client-{client:02}");
        user(
            &store,
            &name,
            UserKind::Client,
            Some(&format!("CLI-{client:02}")),
            false,
        )
        .await?;
        clients.push(session(&store, &name, now).await?);
    }

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(options.concurrency)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let spread = options.clients.max(1);
    let as_staff = |paths: Vec<String>| -> Vec<(String, String)> {
        paths.into_iter().map(|p| (p, staff.clone())).collect()
    };
    // (key, name, address shown, the addresses asked with their cookies)
    type Page<'a> = (&'a str, &'static str, String, Vec<(String, String)>);
    let pages: [Page; 4] = [
        (
            "wall",
            "Mur d'alarmes",
            "/console".to_string(),
            as_staff(vec!["/console".to_string()]),
        ),
        (
            "list",
            "Liste des équipements (une page de 100, 20 pages réparties sur la flotte)",
            format!("/console/equipements?apres={}", equipment_ref(0, 0, 0)),
            as_staff(
                (0..spread)
                    .map(|c| {
                        let site = c * 7 % options.sites_per_client.max(1);
                        format!("/console/equipements?apres={}", equipment_ref(c, site, 0))
                    })
                    .collect(),
            ),
        ),
        (
            "site",
            "Page d'un site (100 équipements, 20 sites)",
            format!("/console/sites/{}", site_ref(0, 0)),
            as_staff(
                (0..spread)
                    .map(|c| {
                        let site = c * 13 % options.sites_per_client.max(1);
                        format!("/console/sites/{}", site_ref(c, site))
                    })
                    .collect(),
            ),
        ),
        (
            "dashboard",
            "Tableau de bord d'un client (5 000 équipements, 20 clients)",
            "/portail".to_string(),
            clients
                .iter()
                .map(|cookie| ("/portail".to_string(), cookie.clone()))
                .collect(),
        ),
    ];
    let mut results = Vec::new();
    for (key, name, path, targets) in pages {
        if !options.pages.iter().any(|p| p == key) {
            continue;
        }
        eprintln!("{name}…");
        results.push(measure(&http, &base, targets, name, path, options).await?);
    }

    eprintln!("diffusion en direct…");
    let fan_out = fan_out(&state, &store, &base, options, now).await?;
    running.handle.abort();

    Ok(Run {
        backend,
        results,
        fan_out,
        import_seconds,
        states_seconds,
        open,
        down: down.len(),
    })
}

/// Opens the streams, records one state change, and returns the arrival times of its event
/// (p50, p99, max in ms) and how many streams received it.
async fn fan_out(
    state: &AppState,
    store: &System,
    base: &str,
    options: &Options,
    now: i64,
) -> anyhow::Result<(f64, f64, f64, usize)> {
    let users = options.streams.div_ceil(20);
    let mut cookies = Vec::new();
    for n in 0..users {
        let name = format!("banc-flux-{n:03}");
        user(store, &name, UserKind::Staff, None, true).await?;
        for _ in 0..20 {
            cookies.push(session(store, &name, now).await?);
        }
    }
    let http = reqwest::Client::builder().build()?;
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel(options.streams);
    let start = Arc::new(tokio::sync::OnceCell::<Instant>::new());
    let mut tasks = Vec::new();
    for cookie in cookies.into_iter().take(options.streams) {
        let response = http
            .get(format!("{base}/flux"))
            .header("cookie", cookie)
            .send()
            .await?;
        anyhow::ensure!(
            response.status() == reqwest::StatusCode::OK,
            "flux : {}",
            response.status()
        );
        let (ready_tx, start) = (ready_tx.clone(), start.clone());
        tasks.push(tokio::spawn(async move {
            let mut response = response;
            let mut text = String::new();
            let mut ready = false;
            let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
            while let Ok(Ok(Some(chunk))) =
                tokio::time::timeout_at(deadline, response.chunk()).await
            {
                text.push_str(&String::from_utf8_lossy(&chunk));
                if !ready && text.contains("event: ready") {
                    ready = true;
                    let _ = ready_tx.send(()).await;
                }
                if text.contains("event: change") {
                    return start.get().map(|s| s.elapsed().as_secs_f64() * 1000.0);
                }
            }
            None
        }));
    }
    for _ in 0..options.streams {
        ready_rx.recv().await;
    }
    // A camera in service (those numbered 1 are the ones down).
    let equipment = equipment_ref(1, 1, 2);
    let _ = start.set(Instant::now());
    vigie_server::alarms::record(
        state,
        &Actor::console("banc"),
        None,
        vec![ping(&equipment, Clock::System.now_ms(), false)],
        Clock::System.now_ms(),
    )
    .await?;
    let mut arrivals = Vec::new();
    for task in tasks {
        if let Some(ms) = task.await? {
            arrivals.push(ms);
        }
    }
    arrivals.sort_by(|a, b| a.total_cmp(b));
    Ok((
        percentile(&arrivals, 0.5),
        percentile(&arrivals, 0.99),
        arrivals.last().copied().unwrap_or(f64::MAX),
        arrivals.len(),
    ))
}
