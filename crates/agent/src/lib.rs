//! `vigie agent` (SUP-2, SUP-3): on a VMS server or a Linux NVR, every interval (60 s by
//! default) it reads the host (CPU, memory, temperatures, disk use per mount, the configured
//! services, its clock offset against the server), keeps the batch in its buffer on disk, then
//! sends what the buffer holds, oldest first, to `POST /api/v1/observations` with its token.
//! While the server cannot be reached the buffer fills (bounded); when it answers again, the
//! backlog goes in order, each batch once.

pub mod buffer;
pub mod collect;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use vigie_domain::Reference;
use vigie_domain::supervision::{CheckName, CheckStatus, MetricName, Observation, Sample, checks};
use vigie_domain::wire::{ProbeIdentityV1, PushV1};

pub use buffer::{Buffer, BufferError, Limits};
use collect::CpuTimes;

/// The agent's settings.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// The server's base URL (`https://vigie.example.fr`).
    pub server: String,
    /// A token with the `agent` scope.
    pub token: String,
    /// The equipment this agent runs on, by its inventory reference.
    pub equipment: Reference,
    pub interval: Duration,
    /// Process names of the services to watch (the recording service).
    pub services: Vec<String>,
    pub buffer_directory: PathBuf,
    pub limits: Limits,
    /// A PEM certificate to trust besides the system's (a server with its own CA).
    pub ca_certificate: Option<PathBuf>,
    /// Where `/proc` and `/sys` are (tests and containers may point elsewhere).
    pub proc: PathBuf,
    pub sys: PathBuf,
}

/// Shortest interval accepted (tests use a second; production keeps 60 s, SUP-2).
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);
/// Time allowed for one request to the server.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// Most batches sent in one round, so that a long backlog does not starve collection.
const MAX_SENT_PER_ROUND: usize = 500;

/// Why the agent stopped or a round failed, in French.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error(transparent)]
    Buffer(#[from] BufferError),
    #[error("configuration de l'agent : {0}")]
    Config(String),
}

/// What one send round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flush {
    pub sent: usize,
    /// Refused for good by the server (set aside in `rejected/`).
    pub rejected: usize,
    /// The server could not be reached or failed: the rest waits for the next round.
    pub interrupted: Option<String>,
}

/// Sends batches of observations to the server through the buffer on disk: what `vigie agent`
/// and `vigie probe` share.
pub struct Forwarder {
    server: String,
    token: String,
    http: reqwest::Client,
    buffer: Buffer,
}

impl std::fmt::Debug for Forwarder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Forwarder")
            .field("server", &self.server)
            .finish()
    }
}

impl Forwarder {
    pub fn new(
        server: &str,
        token: &str,
        ca_certificate: Option<&Path>,
        buffer_directory: &Path,
        limits: Limits,
    ) -> Result<Forwarder, AgentError> {
        if !(server.starts_with("http://") || server.starts_with("https://")) {
            return Err(AgentError::Config(format!(
                "adresse du serveur « {server} » : http:// ou https:// attendu"
            )));
        }
        let mut builder = reqwest::Client::builder().timeout(REQUEST_TIMEOUT);
        if let Some(path) = ca_certificate {
            let pem = std::fs::read(path)
                .map_err(|e| AgentError::Config(format!("certificat {} : {e}", path.display())))?;
            let certificate = reqwest::Certificate::from_pem(&pem)
                .map_err(|e| AgentError::Config(format!("certificat {} : {e}", path.display())))?;
            builder = builder.add_root_certificate(certificate);
        }
        let http = builder
            .build()
            .map_err(|e| AgentError::Config(e.to_string()))?;
        let buffer = Buffer::open(buffer_directory, limits)?;
        Ok(Forwarder {
            server: server.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            http,
            buffer,
        })
    }

    pub fn buffer(&self) -> &Buffer {
        &self.buffer
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server)
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    /// Keeps a batch in the buffer (on disk before anything is sent), in the protocol's own
    /// types (`vigie_domain::wire`): what is on disk is what the server reads, even after an
    /// upgrade of the agent.
    pub fn keep(
        &mut self,
        source: &str,
        probe: Option<ProbeIdentityV1>,
        observations: &[Observation],
    ) -> Result<i64, AgentError> {
        let mut observations = observations.to_vec();
        let sequence = self.buffer.push(|sequence, dropped| {
            // What the full buffer dropped is told to the server with each batch.
            if dropped > 0
                && let Some(first) = observations.first_mut()
                && let Some(name) = name("agent_buffer_dropped_batches")
            {
                first.samples.push(Sample {
                    name,
                    value: dropped as f64,
                });
            }
            let body = PushV1::new(source, sequence, probe.clone(), &observations);
            serde_json::to_vec(&body).expect("batch serialises")
        })?;
        Ok(sequence)
    }

    /// Sends what the buffer holds, oldest first, until it is empty, the server fails, or the
    /// round's bound is reached.
    pub async fn flush(&mut self) -> Result<Flush, AgentError> {
        let mut flush = Flush::default();
        for _ in 0..MAX_SENT_PER_ROUND {
            let Some(pending) = self.buffer.oldest()? else {
                break;
            };
            let response = self
                .http
                .post(self.url("/api/v1/observations"))
                .bearer_auth(&self.token)
                .header("content-type", "application/json")
                .body(pending.body)
                .send()
                .await;
            match response {
                Ok(response) if response.status().is_success() => {
                    self.buffer.remove(pending.sequence)?;
                    flush.sent += 1;
                }
                // Refused as such (malformed, too large, unknown field): retrying cannot help.
                Ok(response) if matches!(response.status().as_u16(), 400 | 413 | 415 | 422) => {
                    tracing::warn!(
                        sequence = pending.sequence,
                        status = response.status().as_u16(),
                        "lot refusé par le serveur, mis de côté"
                    );
                    self.buffer.reject(pending.sequence)?;
                    flush.rejected += 1;
                }
                Ok(response) => {
                    flush.interrupted = Some(format!("le serveur répond {}", response.status()));
                    break;
                }
                Err(error) => {
                    flush.interrupted = Some(format!("serveur injoignable : {error}"));
                    break;
                }
            }
        }
        Ok(flush)
    }
}

/// The running agent.
pub struct Agent {
    config: AgentConfig,
    forwarder: Forwarder,
    cpu: Option<CpuTimes>,
}

impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agent")
            .field("equipment", &self.config.equipment)
            .field("server", &self.config.server)
            .finish()
    }
}

fn now_ms() -> i64 {
    // The agent's own clock: the instant of what it saw. Its offset to the server is measured
    // and reported, so a drifting clock is itself an observation (ALR-7).
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn name(text: &str) -> Option<MetricName> {
    MetricName::parse(text).ok()
}

impl Agent {
    pub fn new(config: AgentConfig) -> Result<Agent, AgentError> {
        if config.interval < MIN_INTERVAL {
            return Err(AgentError::Config(
                "l'intervalle doit être d'au moins 1 s".into(),
            ));
        }
        let forwarder = Forwarder::new(
            &config.server,
            &config.token,
            config.ca_certificate.as_deref(),
            &config.buffer_directory,
            config.limits,
        )?;
        Ok(Agent {
            config,
            forwarder,
            cpu: None,
        })
    }

    pub fn buffer(&self) -> &Buffer {
        self.forwarder.buffer()
    }

    /// The clock offset against the server (server minus ours, ms), from the middle of one
    /// round trip; None when the server does not answer.
    async fn clock_offset_ms(&self) -> Option<f64> {
        let start = Instant::now();
        let local_start = now_ms();
        let response = self
            .forwarder
            .http()
            .get(self.forwarder.url("/api/v1/time"))
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .ok()?;
        let server: serde_json::Value = response.json().await.ok()?;
        let round_trip = start.elapsed().as_millis() as i64;
        let server_now = server["now"].as_i64()?;
        Some((server_now - (local_start + round_trip / 2)) as f64)
    }

    /// Reads the host once and returns the observations of this instant.
    pub async fn collect(&mut self) -> Vec<Observation> {
        let at = now_ms();
        let mut samples = Vec::new();
        let stat = std::fs::read_to_string(self.config.proc.join("stat")).ok();
        if let Some(now) = stat.as_deref().and_then(collect::parse_cpu_times) {
            if let Some(before) = self.cpu
                && let Some(percent) = collect::cpu_percent(before, now)
            {
                samples.extend(name("cpu_percent").map(|n| Sample {
                    name: n,
                    value: percent,
                }));
            }
            self.cpu = Some(now);
        }
        if let Some(percent) = std::fs::read_to_string(self.config.proc.join("meminfo"))
            .ok()
            .as_deref()
            .and_then(collect::parse_memory_percent)
        {
            samples.extend(name("memory_used_percent").map(|n| Sample {
                name: n,
                value: percent,
            }));
        }
        for (sensor, celsius) in collect::temperatures(&self.config.sys) {
            samples.extend(
                name(&format!("temperature_celsius:{sensor}")).map(|n| Sample {
                    name: n,
                    value: celsius,
                }),
            );
        }
        let mounts = std::fs::read_to_string(self.config.proc.join("mounts"))
            .map(|m| collect::parse_mounts(&m))
            .unwrap_or_default();
        for point in mounts {
            if let Some(percent) = collect::disk_used_percent(Path::new(&point)) {
                samples.extend(
                    name(&format!(
                        "disk_used_percent:{}",
                        collect::metric_suffix(&point)
                    ))
                    .map(|n| Sample {
                        name: n,
                        value: percent,
                    }),
                );
            }
        }
        if let Some(offset) = self.clock_offset_ms().await {
            samples.extend(name("clock_offset_ms").map(|n| Sample {
                name: n,
                value: offset,
            }));
        }
        let mut facts = BTreeMap::new();
        if let Ok(host) = std::fs::read_to_string(self.config.proc.join("sys/kernel/hostname")) {
            facts.insert(
                "hostname".to_owned(),
                host.trim().chars().take(200).collect(),
            );
        }
        let mut observations = vec![Observation {
            equipment: self.config.equipment.clone(),
            check: CheckName::parse(checks::AGENT).expect("constant"),
            at,
            status: Some(CheckStatus::Up),
            detail: None,
            samples,
            facts,
        }];
        for service in &self.config.services {
            let Ok(check) =
                CheckName::parse(&format!("service:{}", collect::metric_suffix(service)))
            else {
                continue;
            };
            let running = collect::service_running(&self.config.proc, service);
            observations.push(Observation {
                equipment: self.config.equipment.clone(),
                check,
                at,
                status: Some(if running {
                    CheckStatus::Up
                } else {
                    CheckStatus::Down
                }),
                detail: (!running).then(|| format!("le service « {service} » ne tourne pas")),
                samples: Vec::new(),
                facts: BTreeMap::new(),
            });
        }
        observations
    }

    /// Keeps a batch of observations in the buffer (on disk before anything is sent).
    pub fn keep(&mut self, observations: &[Observation]) -> Result<i64, AgentError> {
        let source = format!("agent:{}", self.config.equipment);
        self.forwarder.keep(&source, None, observations)
    }

    /// Sends the backlog.
    pub async fn flush(&mut self) -> Result<Flush, AgentError> {
        self.forwarder.flush().await
    }

    /// One round: collect, keep, send.
    pub async fn round(&mut self) -> Result<Flush, AgentError> {
        let observations = self.collect().await;
        self.keep(&observations)?;
        self.flush().await
    }

    /// Runs rounds at the interval until the process ends.
    pub async fn run(mut self) -> Result<(), AgentError> {
        loop {
            let started = Instant::now();
            match self.round().await {
                Ok(flush) => {
                    if let Some(reason) = flush.interrupted {
                        tracing::warn!(waiting = self.forwarder.buffer().sequences().map(|s| s.len()).unwrap_or(0), %reason, "envoi différé");
                    }
                }
                Err(error) => tracing::error!(%error, "tour de l'agent"),
            }
            tokio::time::sleep(self.config.interval.saturating_sub(started.elapsed())).await;
        }
    }
}
