//! Active checks of equipment (SUP-1…SUP-3, ALR-5…ALR-7): which checks an equipment's
//! inventory asks for ([`tasks_for`]), running one with its timeout and one retry before a
//! failure is declared ([`execute`]), and the [`Scheduler`] that runs every task at its interval
//! with a stable jitter and bounded concurrency, pings grouped in one sweep over a shared
//! socket. Every result is an [`Observation`] for the one entry point of the store; the central
//! server and `vigie probe` on a client site run the same code.

use std::cmp::Reverse;
pub mod site;

use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc};
use tokio::time::Instant;
use vigie_checks::{Credentials, HttpOptions};
use vigie_domain::Reference;
use vigie_domain::inventory::{Equipment, EquipmentKind, ServiceCheck, SnmpCheck, SnmpVersion};
use vigie_domain::supervision::{CheckName, CheckStatus, MetricName, Observation, Sample, checks};

/// The default interval (SUP-2).
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);
/// Time allowed to one attempt of a check.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(10);
/// Pause before the one retry of a failed check.
pub const RETRY_DELAY: Duration = Duration::from_secs(2);
/// Checks running at once (pings excepted: one sweep covers them all).
pub const MAX_CONCURRENT_CHECKS: usize = 256;
/// Observations waiting for the writer; the scheduler slows down rather than grow it.
pub const OBSERVATION_QUEUE: usize = 10_000;

/// What to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Ping(Ipv4Addr),
    Tcp {
        address: String,
    },
    Http {
        url: String,
    },
    Rtsp {
        url: String,
        credentials: Option<(String, String)>,
    },
    Onvif {
        url: String,
        credentials: Option<(String, String)>,
    },
    /// SNMP polled with a per-model template (`vigie-snmp-templates`).
    Snmp {
        address: String,
        settings: SnmpCheck,
        template: String,
    },
}

/// One check of one equipment, at its interval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub equipment: Reference,
    pub check: CheckName,
    pub kind: Kind,
    pub interval: Duration,
}

fn credentials(service: &ServiceCheck) -> Option<(String, String)> {
    Some((
        service.username.clone()?,
        service.password.clone().unwrap_or_default(),
    ))
}

fn check(name: &str) -> CheckName {
    CheckName::parse(name).expect("check names are constants")
}

/// The tasks an equipment's inventory asks for (SNMP, agents and heartbeats are elsewhere: the
/// poller of SNMP templates, and pushes). Without an address nothing can be polled.
pub fn tasks_for(equipment: &Equipment) -> Vec<Task> {
    let Some(address) = equipment.address.as_ref().map(|a| a.as_str().to_owned()) else {
        return Vec::new();
    };
    let interval = equipment.checks.interval.map_or(DEFAULT_INTERVAL, |i| {
        Duration::from_secs(i.seconds().max(1))
    });
    let task = |name: &str, kind: Kind| Task {
        equipment: equipment.reference.clone(),
        check: check(name),
        kind,
        interval,
    };
    let host = if address.contains(':') && !address.starts_with('[') {
        format!("[{address}]")
    } else {
        address.clone()
    };
    let mut tasks = Vec::new();
    let c = &equipment.checks;
    if c.ping.is_some()
        && let Ok(ip) = address.parse::<Ipv4Addr>()
    {
        tasks.push(task(checks::PING, Kind::Ping(ip)));
    }
    if let Some(tcp) = &c.tcp {
        tasks.push(task(
            checks::TCP,
            Kind::Tcp {
                address: format!("{host}:{}", tcp.port),
            },
        ));
    }
    if let Some(http) = &c.http {
        let port = http.port.unwrap_or(443);
        let scheme = if matches!(port, 443 | 8443) {
            "https"
        } else {
            "http"
        };
        let path = http.path.clone().unwrap_or_else(|| "/".into());
        tasks.push(task(
            checks::HTTP,
            Kind::Http {
                url: format!("{scheme}://{host}:{port}{path}"),
            },
        ));
    }
    if let Some(rtsp) = &c.rtsp {
        let path = rtsp.path.clone().unwrap_or_else(|| "/".into());
        tasks.push(task(
            checks::RTSP,
            Kind::Rtsp {
                url: format!("rtsp://{host}:{}{path}", rtsp.port.unwrap_or(554)),
                credentials: credentials(rtsp),
            },
        ));
    }
    if let Some(snmp) = &c.snmp {
        let template = snmp_template_of(equipment);
        tasks.push(task(
            checks::SNMP,
            Kind::Snmp {
                address: format!("{host}:{}", snmp.port.unwrap_or(161)),
                settings: snmp.clone(),
                template,
            },
        ));
    }
    if let Some(onvif) = &c.onvif {
        let path = onvif
            .path
            .clone()
            .unwrap_or_else(|| "/onvif/device_service".into());
        tasks.push(task(
            checks::ONVIF,
            Kind::Onvif {
                url: format!("http://{host}:{}{path}", onvif.port.unwrap_or(80)),
                credentials: credentials(onvif),
            },
        ));
    }
    tasks
}

fn sample(name: &str, value: f64) -> Option<Sample> {
    Some(Sample {
        name: MetricName::parse(name).ok()?,
        value,
    })
}

fn observation(task: &Task, at: i64, status: CheckStatus, detail: Option<String>) -> Observation {
    Observation {
        equipment: task.equipment.clone(),
        check: task.check.clone(),
        at,
        status: Some(status),
        detail,
        samples: Vec::new(),
        facts: BTreeMap::new(),
    }
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// The wall clock, read at the edge: the instant of what was seen.
fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// The SNMP security of a check's settings.
fn snmp_security(settings: &SnmpCheck) -> Result<vigie_snmp::Security, String> {
    match settings.version {
        SnmpVersion::V2c => Ok(vigie_snmp::Security::v2c(
            settings
                .community
                .clone()
                .unwrap_or_else(|| "public".into()),
        )),
        SnmpVersion::V3 => {
            let user = settings.user.clone().ok_or("SNMPv3 sans utilisateur")?;
            let mut usm = vigie_snmp::UsmUser::new(user);
            if let Some(password) = &settings.auth_password {
                let protocol = match settings
                    .auth_protocol
                    .as_deref()
                    .unwrap_or("SHA")
                    .to_ascii_uppercase()
                    .replace('-', "")
                    .as_str()
                {
                    "MD5" => vigie_snmp::AuthProtocol::Md5,
                    "SHA" | "SHA1" => vigie_snmp::AuthProtocol::Sha1,
                    "SHA224" => vigie_snmp::AuthProtocol::Sha224,
                    "SHA256" => vigie_snmp::AuthProtocol::Sha256,
                    "SHA384" => vigie_snmp::AuthProtocol::Sha384,
                    "SHA512" => vigie_snmp::AuthProtocol::Sha512,
                    other => {
                        return Err(format!(
                            "protocole d'authentification SNMP inconnu : {other}"
                        ));
                    }
                };
                usm = usm.with_auth(protocol, password.clone());
            }
            if let Some(password) = &settings.privacy_password {
                let protocol = match settings
                    .privacy_protocol
                    .as_deref()
                    .unwrap_or("AES")
                    .to_ascii_uppercase()
                    .as_str()
                {
                    "AES" | "AES128" => vigie_snmp::PrivProtocol::Aes128,
                    "DES" => vigie_snmp::PrivProtocol::Des,
                    other => {
                        return Err(format!("protocole de chiffrement SNMP inconnu : {other}"));
                    }
                };
                usm = usm.with_privacy(protocol, password.clone());
            }
            Ok(vigie_snmp::Security::v3(usm))
        }
    }
}

/// The SNMP template an equipment is polled and its traps read with: its own, or without one
/// the Linux template for recorders and servers and the generic part for the rest.
pub fn snmp_template_of(equipment: &Equipment) -> String {
    let own = equipment
        .checks
        .snmp
        .as_ref()
        .and_then(|s| s.template.clone());
    own.unwrap_or_else(|| match equipment.kind {
        EquipmentKind::Nvr | EquipmentKind::VmsServer => "linux-net-snmp".into(),
        _ => "generic-camera".into(),
    })
}

/// The shipped SNMP templates, read once.
pub fn templates() -> &'static vigie_snmp_templates::Templates {
    static TEMPLATES: std::sync::OnceLock<vigie_snmp_templates::Templates> =
        std::sync::OnceLock::new();
    TEMPLATES.get_or_init(vigie_snmp_templates::Templates::builtin)
}

/// Polls an equipment with its SNMP template: the `snmp` check itself, plus one observation
/// per check the template reads (`snmp.disk_health`, `snmp.recording`…).
async fn snmp_attempt(
    task: &Task,
    address: &str,
    settings: &SnmpCheck,
    template: &str,
    timeout: Duration,
) -> Vec<Observation> {
    let at = now_ms();
    let down = |detail: String| vec![observation(task, at, CheckStatus::Down, Some(detail))];
    let Some(template) = templates().get(template) else {
        return vec![observation(
            task,
            at,
            CheckStatus::Unknown,
            Some(format!("modèle SNMP « {template} » inconnu")),
        )];
    };
    let security = match snmp_security(settings) {
        Ok(security) => security,
        Err(error) => return vec![observation(task, at, CheckStatus::Unknown, Some(error))],
    };
    let target = match tokio::net::lookup_host(address)
        .await
        .ok()
        .and_then(|mut a| a.next())
    {
        Some(target) => target,
        None => return down(format!("adresse SNMP « {address} » introuvable")),
    };
    let client = match vigie_snmp::Client::new(target, security)
        .await
        .and_then(|c| c.with_timeout(timeout))
        .and_then(|c| c.with_retries(0))
    {
        Ok(client) => client,
        Err(error) => return down(error.to_string()),
    };
    let mut client = client;
    match vigie_snmp_templates::poll(&mut client, template).await {
        Err(error) => down(error.to_string()),
        Ok(result) => {
            let mut seen = observation(task, at, CheckStatus::Up, None);
            seen.samples = result.samples;
            seen.facts = result
                .facts
                .into_iter()
                .map(|(k, v)| (k, v.chars().take(500).collect()))
                .take(vigie_domain::supervision::MAX_FACTS_PER_OBSERVATION)
                .collect();
            let mut all = vec![seen];
            for (check, status, detail) in result.checks {
                all.push(Observation {
                    equipment: task.equipment.clone(),
                    check,
                    at,
                    status: Some(status),
                    detail,
                    samples: Vec::new(),
                    facts: BTreeMap::new(),
                });
            }
            all
        }
    }
}

/// Runs one non-ping task once.
async fn attempt(task: &Task, timeout: Duration) -> Vec<Observation> {
    let at = now_ms();
    let single = match &task.kind {
        // SNMP gives several observations (its own and the template's checks).
        Kind::Snmp {
            address,
            settings,
            template,
        } => return snmp_attempt(task, address, settings, template, timeout).await,
        Kind::Ping(_) => observation(
            task,
            at,
            CheckStatus::Unknown,
            Some("un ping passe par un balayage".into()),
        ),
        Kind::Tcp { address } => match vigie_checks::tcp_connect(address, timeout).await {
            Ok(outcome) => Observation {
                samples: sample("connect_ms", millis(outcome.connect_time))
                    .into_iter()
                    .collect(),
                ..observation(task, at, CheckStatus::Up, None)
            },
            Err(error) => observation(task, at, CheckStatus::Down, Some(error.to_string())),
        },
        Kind::Http { url } => {
            let options = HttpOptions {
                timeout,
                ..HttpOptions::default()
            };
            match vigie_checks::http_check(url, &options).await {
                Ok(outcome) => {
                    let status = if outcome.status_expected {
                        CheckStatus::Up
                    } else {
                        CheckStatus::Down
                    };
                    let detail = (!outcome.status_expected)
                        .then(|| format!("réponse HTTP {}", outcome.status));
                    let mut seen = observation(task, at, status, detail);
                    seen.samples
                        .extend(sample("response_ms", millis(outcome.response_time)));
                    if let Some(certificate) = outcome.certificate {
                        // ALR-7: the certificate's remaining life, read even when self-signed.
                        let days =
                            (certificate.not_after.as_second() - at / 1000) as f64 / 86_400.0;
                        seen.samples.extend(sample("certificate_days_left", days));
                        seen.facts.insert(
                            "certificate_not_after".into(),
                            certificate.not_after.to_string(),
                        );
                        seen.facts.insert(
                            "certificate_subject".into(),
                            certificate.subject.chars().take(200).collect(),
                        );
                    }
                    seen
                }
                Err(error) => observation(task, at, CheckStatus::Down, Some(error.to_string())),
            }
        }
        Kind::Rtsp { url, credentials } => {
            let credentials = credentials
                .as_ref()
                .map(|(u, p)| Credentials::new(u.clone(), p.clone()));
            match vigie_checks::rtsp_check(url, credentials.as_ref(), timeout).await {
                Ok(outcome) if !outcome.signal_lost() => {
                    let mut seen = observation(task, at, CheckStatus::Up, None);
                    seen.samples
                        .extend(sample("response_ms", millis(outcome.response_time)));
                    seen.facts
                        .insert("video_codecs".into(), outcome.video_codecs.join(","));
                    seen
                }
                Ok(outcome) if outcome.status >= 300 => observation(
                    task,
                    at,
                    CheckStatus::Down,
                    Some(format!(
                        "signal perdu : le flux répond RTSP {}",
                        outcome.status
                    )),
                ),
                Ok(_) => observation(
                    task,
                    at,
                    CheckStatus::Down,
                    Some("signal perdu : le flux n'a pas de piste vidéo".into()),
                ),
                Err(error) => observation(
                    task,
                    at,
                    CheckStatus::Down,
                    Some(format!("signal perdu : {error}")),
                ),
            }
        }
        Kind::Onvif { url, credentials } => {
            match vigie_checks::onvif_system_date_and_time(url, timeout).await {
                Err(error) => observation(task, at, CheckStatus::Down, Some(error.to_string())),
                Ok(time) => {
                    let mut seen = observation(task, at, CheckStatus::Up, None);
                    // ALR-7: the device clock's offset against ours.
                    seen.samples
                        .extend(sample("clock_offset_ms", time.offset.as_millis() as f64));
                    if let Some((username, password)) = credentials {
                        match vigie_checks::onvif_device_information(
                            url,
                            &Credentials::new(username.clone(), password.clone()),
                            time.offset,
                            timeout,
                        )
                        .await
                        {
                            Ok(info) => {
                                for (key, value) in [
                                    ("manufacturer", info.manufacturer),
                                    ("model", info.model),
                                    ("firmware", info.firmware_version),
                                    ("serial_number", info.serial_number),
                                ] {
                                    seen.facts
                                        .insert(key.into(), value.chars().take(200).collect());
                                }
                            }
                            Err(error) => {
                                seen.status = Some(CheckStatus::Down);
                                seen.detail = Some(error.to_string());
                            }
                        }
                    }
                    seen
                }
            }
        }
    };
    vec![single]
}

/// Runs one non-ping task with its one retry: a failure is declared only if the retry fails
/// too (a lost packet is not an outage).
pub async fn execute(task: &Task, timeout: Duration, retry_delay: Duration) -> Vec<Observation> {
    let first = attempt(task, timeout).await;
    if first.first().and_then(|o| o.status) != Some(CheckStatus::Down) {
        return first;
    }
    tokio::time::sleep(retry_delay).await;
    attempt(task, timeout).await
}

/// Pings every task's address in one sweep over the shared socket, the unanswered ones once
/// more, and returns one observation per task.
pub fn ping_sweep(
    pinger: &vigie_ping::Pinger,
    tasks: &[Task],
    timeout: Duration,
) -> Vec<Observation> {
    let targets: Vec<Ipv4Addr> = tasks
        .iter()
        .filter_map(|t| {
            if let Kind::Ping(ip) = t.kind {
                Some(ip)
            } else {
                None
            }
        })
        .collect();
    let options = vigie_ping::SweepOptions {
        timeout,
        ..vigie_ping::SweepOptions::default()
    };
    // Each target's round-trip time and the start of the sweep that saw it answer.
    let mut answered: BTreeMap<Ipv4Addr, (Duration, i64)> = BTreeMap::new();
    let mut error = None;
    let first_at = now_ms();
    match pinger.ping_many(&targets, &options) {
        Ok(results) => answered.extend(
            results
                .iter()
                .filter_map(|r| Some((r.target, (r.rtt_avg?, first_at)))),
        ),
        Err(e) => error = Some(e.to_string()),
    }
    // The retry, for the silent ones only. What it settles is dated by it, as the retry of
    // any other check: a target back during the first sweep's wait is up from the retry on.
    let silent: Vec<Ipv4Addr> = targets
        .iter()
        .copied()
        .filter(|t| !answered.contains_key(t))
        .collect();
    let mut retry_at = first_at;
    if error.is_none() && !silent.is_empty() {
        retry_at = now_ms();
        match pinger.ping_many(&silent, &options) {
            Ok(results) => answered.extend(
                results
                    .iter()
                    .filter_map(|r| Some((r.target, (r.rtt_avg?, retry_at)))),
            ),
            Err(e) => error = Some(e.to_string()),
        }
    }
    tasks
        .iter()
        .filter_map(|task| {
            let Kind::Ping(ip) = task.kind else {
                return None;
            };
            Some(match (answered.get(&ip), &error) {
                (Some((rtt, at)), _) => Observation {
                    samples: sample("rtt_ms", millis(*rtt)).into_iter().collect(),
                    ..observation(task, *at, CheckStatus::Up, None)
                },
                (None, Some(error)) => observation(
                    task,
                    retry_at,
                    CheckStatus::Unknown,
                    Some(format!("ping impossible : {error}")),
                ),
                (None, None) => observation(
                    task,
                    retry_at,
                    CheckStatus::Down,
                    Some("aucune réponse au ping (2 essais)".into()),
                ),
            })
        })
        .collect()
}

/// Ping tasks due and not swept yet. A scheduler runs one sweep at a time (two would wait for
/// each other on the pinger's socket, dated before their wait): whatever falls due during a
/// sweep goes out together in the next one, each task once. What waits is bounded by the
/// number of ping tasks, however long a sweep of silent targets takes.
#[derive(Debug, Default)]
struct PendingPings {
    state: std::sync::Mutex<PendingState>,
    wake: tokio::sync::Notify,
}

#[derive(Debug, Default)]
struct PendingState {
    tasks: BTreeSet<usize>,
    closed: bool,
}

impl PendingPings {
    fn lock(&self) -> std::sync::MutexGuard<'_, PendingState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn add(&self, due: impl IntoIterator<Item = usize>) {
        self.lock().tasks.extend(due);
        self.wake.notify_one();
    }

    /// No more tasks: the sweeper sends what is pending, then stops.
    fn close(&self) {
        self.lock().closed = true;
        self.wake.notify_one();
    }

    /// Everything pending, once there is something; `None` when closed and drained.
    async fn next(&self) -> Option<Vec<usize>> {
        loop {
            {
                let mut state = self.lock();
                if !state.tasks.is_empty() {
                    return Some(std::mem::take(&mut state.tasks).into_iter().collect());
                }
                if state.closed {
                    return None;
                }
            }
            // A notification given while nobody waited is kept for this wait.
            self.wake.notified().await;
        }
    }
}

/// Closes the pending pings when the scheduler stops, returned or dropped.
struct ClosePings(Arc<PendingPings>);

impl Drop for ClosePings {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// Sweeps the pending pings one sweep after the other until they are closed and drained.
async fn sweep_pending(
    tasks: Arc<Vec<Task>>,
    pending: Arc<PendingPings>,
    pinger: Option<Arc<vigie_ping::Pinger>>,
    timeout: Duration,
    sink: mpsc::Sender<Observation>,
) {
    while let Some(due) = pending.next().await {
        let ping_tasks: Vec<Task> = due.iter().map(|&i| tasks[i].clone()).collect();
        let observations = match &pinger {
            Some(pinger) => {
                let pinger = pinger.clone();
                tokio::task::spawn_blocking(move || ping_sweep(&pinger, &ping_tasks, timeout))
                    .await
                    .unwrap_or_default()
            }
            None => ping_tasks
                .iter()
                .map(|t| {
                    observation(
                        t,
                        now_ms(),
                        CheckStatus::Unknown,
                        Some(
                            "ping indisponible : ICMP brut non autorisé (root ou CAP_NET_RAW)"
                                .into(),
                        ),
                    )
                })
                .collect(),
        };
        for observation in observations {
            if sink.send(observation).await.is_err() {
                return;
            }
        }
    }
}

/// A stable offset within the interval, so that 100,000 equipment do not all fire at the same
/// second, and one equipment always fires at the same point of its interval.
pub fn jitter(task: &Task) -> Duration {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in task
        .equipment
        .as_str()
        .bytes()
        .chain(task.check.as_str().bytes())
    {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    let interval_ms = task.interval.as_millis().max(1) as u64;
    Duration::from_millis(hash % interval_ms)
}

/// Runs tasks at their intervals, sending observations to `sink`, until the sink closes.
#[derive(Debug)]
pub struct Scheduler {
    tasks: Vec<Task>,
    pinger: Option<Arc<vigie_ping::Pinger>>,
    timeout: Duration,
    retry_delay: Duration,
}

impl Scheduler {
    /// `pinger` is None where raw ICMP is not allowed: ping tasks then report `unknown`.
    pub fn new(tasks: Vec<Task>, pinger: Option<Arc<vigie_ping::Pinger>>) -> Scheduler {
        Scheduler {
            tasks,
            pinger,
            timeout: CHECK_TIMEOUT,
            retry_delay: RETRY_DELAY,
        }
    }

    /// Shorter timeouts and retry pause (tests).
    pub fn with_timing(mut self, timeout: Duration, retry_delay: Duration) -> Scheduler {
        self.timeout = timeout;
        self.retry_delay = retry_delay;
        self
    }

    /// Runs until `sink` is closed or `until` passes.
    pub async fn run(self, sink: mpsc::Sender<Observation>, until: Option<Instant>) {
        let start = Instant::now();
        let mut due: BinaryHeap<Reverse<(Instant, usize)>> = self
            .tasks
            .iter()
            .enumerate()
            .map(|(i, t)| Reverse((start + jitter(t), i)))
            .collect();
        let permits = Arc::new(Semaphore::new(MAX_CONCURRENT_CHECKS));
        let tasks = Arc::new(self.tasks);
        let pending_pings = Arc::new(PendingPings::default());
        let _close_pings = ClosePings(pending_pings.clone());
        if tasks.iter().any(|t| matches!(t.kind, Kind::Ping(_))) {
            tokio::spawn(sweep_pending(
                tasks.clone(),
                pending_pings.clone(),
                self.pinger.clone(),
                self.timeout.min(Duration::from_secs(2)),
                sink.clone(),
            ));
        }
        while let Some(Reverse((when, _))) = due.peek().copied() {
            if until.is_some_and(|u| when > u) || sink.is_closed() {
                break;
            }
            tokio::time::sleep_until(when).await;
            // Everything due now; the pings join the next sweep.
            let mut batch = Vec::new();
            while let Some(Reverse((w, i))) = due.peek().copied() {
                if w > Instant::now() {
                    break;
                }
                due.pop();
                batch.push(i);
                due.push(Reverse((w + tasks[i].interval, i)));
            }
            let (pings, others): (Vec<usize>, Vec<usize>) = batch
                .into_iter()
                .partition(|&i| matches!(tasks[i].kind, Kind::Ping(_)));
            if !pings.is_empty() {
                pending_pings.add(pings);
            }
            for i in others {
                // Bounded concurrency: wait for a permit rather than pile up work.
                let Ok(permit) = permits.clone().acquire_owned().await else {
                    break;
                };
                let tasks = tasks.clone();
                let sink = sink.clone();
                let (timeout, retry_delay) = (self.timeout, self.retry_delay);
                tokio::spawn(async move {
                    for observation in execute(&tasks[i], timeout, retry_delay).await {
                        if sink.send(observation).await.is_err() {
                            break;
                        }
                    }
                    drop(permit);
                });
            }
        }
    }
}
