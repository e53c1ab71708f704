//! `vigie probe`: a process inside a client site's network (DESIGN 5) that reads its site's
//! equipment from the server, runs their checks locally with the same [`Scheduler`], and pushes
//! the observations with the agent's store-and-forward buffer. Each push also says the probe is
//! alive, so that the server tells "the probe lost its link" (equipment unknown) from "the
//! equipment is down".

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use vigie_agent::{Forwarder, Limits};
use vigie_domain::Reference;
use vigie_domain::inventory::Equipment;
use vigie_domain::supervision::Observation;
use vigie_domain::wire::ProbeIdentityV1;

use crate::{OBSERVATION_QUEUE, Scheduler, Task, tasks_for};

/// The probe's settings.
#[derive(Debug, Clone)]
pub struct ProbeConfig {
    pub server: String,
    /// A token with the `probe` scope, bound to `site`: it reads that site and reports on it
    /// only.
    pub token: String,
    pub name: String,
    pub site: Reference,
    pub buffer_directory: PathBuf,
    pub limits: Limits,
    pub ca_certificate: Option<PathBuf>,
    /// How often observations are pushed (and the probe says it is alive).
    pub push_every: Duration,
    /// How often the site's equipment is read again from the server.
    pub refresh_every: Duration,
}

/// Most equipment read per page from the server.
const PAGE: usize = 1000;
/// Most observations in one pushed batch.
const MAX_BATCH: usize = 5_000;

/// Reads the site's equipment from the server, page by page.
pub async fn site_equipment(
    forwarder: &Forwarder,
    site: &Reference,
) -> Result<Vec<Equipment>, String> {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut url = forwarder.url(&format!("/api/v1/equipment?site={site}&limit={PAGE}"));
        if let Some(after) = &after {
            url.push_str(&format!("&after={after}"));
        }
        let response = forwarder
            .http()
            .get(url)
            .bearer_auth(forwarder.token())
            .send()
            .await
            .map_err(|e| format!("serveur injoignable : {e}"))?;
        if !response.status().is_success() {
            return Err(format!(
                "lecture des équipements du site {site} : le serveur répond {}",
                response.status()
            ));
        }
        let body: serde_json::Value = response
            .json()
            .await
            .map_err(|e| format!("réponse illisible : {e}"))?;
        let page = equipment_page(&body)?;
        let count = page.len();
        all.extend(page);
        if count < PAGE {
            return Ok(all);
        }
        after = all.last().map(|e| e.reference.to_string());
    }
}

/// The equipment of one page of `GET /api/v1/equipment`: the public inventory format, the
/// same the inventory file is written in. Probes in the field read it, so its text is pinned by
/// the golden page `crates/probe/tests/it/data/equipment_page_v1.json` (issue 24, item 7): a
/// change of the domain's shapes that would change what the server serves, or what a probe
/// understands, fails there first.
pub fn equipment_page(body: &serde_json::Value) -> Result<Vec<Equipment>, String> {
    let Some(items) = body.get("items").and_then(|items| items.as_array()) else {
        return Err("réponse illisible : pas de liste « items »".into());
    };
    items
        .iter()
        .map(|item| {
            serde_json::from_value::<Equipment>(item.clone())
                .map_err(|e| format!("équipement illisible : {e}"))
        })
        .collect()
}

/// Runs the probe until the process ends.
pub async fn run(
    config: ProbeConfig,
    pinger: Option<Arc<vigie_ping::Pinger>>,
) -> Result<(), String> {
    let mut forwarder = Forwarder::new(
        &config.server,
        &config.token,
        config.ca_certificate.as_deref(),
        &config.buffer_directory,
        config.limits,
    )
    .map_err(|e| e.to_string())?;
    let source = format!("probe:{}", config.name);
    let identity = || {
        Some(ProbeIdentityV1 {
            name: config.name.clone(),
            site: config.site.to_string(),
            interval_seconds: config.push_every.as_secs().max(10) as i64,
        })
    };
    let mut tasks: Vec<Task> = Vec::new();
    loop {
        match site_equipment(&forwarder, &config.site).await {
            Ok(equipment) => tasks = equipment.iter().flat_map(tasks_for).collect(),
            // Keep checking what was known: the link may be down, the equipment are not.
            Err(error) => tracing::warn!(%error, "inventaire du site non relu"),
        }
        let (sink, mut observations) = mpsc::channel::<Observation>(OBSERVATION_QUEUE);
        let until = tokio::time::Instant::now() + config.refresh_every;
        let scheduler =
            tokio::spawn(Scheduler::new(tasks.clone(), pinger.clone()).run(sink, Some(until)));
        let mut ticker = tokio::time::interval(config.push_every);
        let mut pending: Vec<Observation> = Vec::new();
        loop {
            tokio::select! {
                received = observations.recv() => match received {
                    Some(observation) => {
                        pending.push(observation);
                        if pending.len() >= MAX_BATCH {
                            forwarder.keep(&source, identity(), &std::mem::take(&mut pending)).map_err(|e| e.to_string())?;
                        }
                    }
                    None => break,
                },
                _ = ticker.tick() => {
                    // Kept even when empty: an empty batch says the probe is alive.
                    forwarder.keep(&source, identity(), &std::mem::take(&mut pending)).map_err(|e| e.to_string())?;
                    match forwarder.flush().await {
                        Ok(flush) => if let Some(reason) = flush.interrupted {
                            tracing::warn!(%reason, waiting = forwarder.buffer().sequences().map(|s| s.len()).unwrap_or(0), "envoi différé");
                        },
                        Err(error) => tracing::error!(%error, "tampon de la sonde"),
                    }
                }
            }
        }
        let _ = scheduler.await;
        if !pending.is_empty() {
            forwarder
                .keep(&source, identity(), &pending)
                .map_err(|e| e.to_string())?;
        }
    }
}
