//! The server's background work, each a step function that tests call directly and a loop
//! that only sleeps between steps: the supervision watchdog (missing heartbeats, silent agents,
//! lost site probes), the hourly roll-up and retention of samples, the central polling of the
//! equipment of sites without a probe, and the SNMP trap receiver.

use std::time::Duration;

use std::collections::BTreeSet;
use std::sync::Arc;

use tokio::sync::mpsc;
use vigie_domain::access::Actor;
use vigie_domain::inventory::{ObjectKind, Record};
use vigie_domain::supervision::{Observation, StateChange};
use vigie_store::supervision::{IngestReport, Retention, TrapRecord};
use vigie_store::{ListFilter, System};

use crate::AppState;

const DAY_MS: i64 = 24 * 3_600_000;
/// How often samples are rolled up and pruned.
const ROLLUP_EVERY: Duration = Duration::from_secs(300);
/// Most hours rolled up per step, so that a server back after a long stop catches up in
/// bounded transactions.
const ROLLUP_MAX_HOURS: i64 = 24;

/// One watchdog step at the state's clock.
pub async fn watchdog_step(state: &AppState) -> Result<IngestReport, vigie_store::StoreError> {
    let report = state
        .background
        .system
        .watchdog_step(state.clock.now_ms())
        .await?;
    for change in &report.changes {
        tracing::info!(equipment = %change.equipment, check = %change.check, to = change.to.key(), detail = change.detail.as_deref().unwrap_or(""), "changement d'état (guet)");
    }
    // A report that did not come (a heartbeat, an agent) is an observation for the alarms;
    // with or without one, the book's held durations run to now (as in the simulator).
    let observations = report
        .changes
        .iter()
        .map(StateChange::observation)
        .collect();
    state.alarms.observe_and_tick(state, observations).await;
    // A site whose probe fell silent is unwatched: an alarm of its own.
    for site in &report.lost_sites {
        tracing::warn!(%site, "sonde de site muette : chemin de supervision coupé");
        state.alarms.monitoring(state, site.clone(), true).await;
    }
    Ok(report)
}

/// The retention the configuration asks for.
pub fn retention(state: &AppState) -> Retention {
    Retention {
        raw_ms: i64::from(state.config.supervision.raw_retention_days) * DAY_MS,
        hourly_ms: i64::from(state.config.supervision.hourly_retention_days) * DAY_MS,
    }
}

/// One roll-up and retention step.
pub async fn rollup_step(state: &AppState) -> Result<(), vigie_store::StoreError> {
    state
        .background
        .system
        .roll_up_and_prune(state.clock.now_ms(), retention(state), ROLLUP_MAX_HOURS)
        .await
}

/// How long the poller runs with one reading of the inventory before reading it again.
const POLL_REFRESH: Duration = Duration::from_secs(300);
/// Observations written per transaction by the poller's writer.
const WRITE_BATCH: usize = 1_000;

/// Who writes what the server's own checks saw.
fn poller() -> Actor {
    Actor::console("supervision")
}

/// The sites whose contract has the supervision option (SUP-4): the others are not polled.
async fn supervised_sites(
    state: &AppState,
    actor: &Actor,
) -> Result<BTreeSet<String>, vigie_store::StoreError> {
    let mut supervised_contracts = BTreeSet::new();
    let mut sites = BTreeSet::new();
    for kind in [ObjectKind::Contract, ObjectKind::Site] {
        let mut after = None;
        loop {
            let page = state
                .store
                .list(
                    actor,
                    kind,
                    &ListFilter {
                        after: after.clone(),
                        limit: Some(vigie_store::MAX_PAGE_SIZE),
                        ..ListFilter::default()
                    },
                )
                .await?;
            let count = page.len();
            for record in page {
                after = Some(record.reference().clone());
                match record {
                    Record::Contract(contract)
                        if contract.has(vigie_domain::inventory::ContractOption::Supervision) =>
                    {
                        supervised_contracts.insert(contract.reference.to_string());
                    }
                    Record::Site(site) if supervised_contracts.contains(site.contract.as_str()) => {
                        sites.insert(site.reference.to_string());
                    }
                    _ => {}
                }
            }
            if (count as i64) < vigie_store::MAX_PAGE_SIZE {
                break;
            }
        }
    }
    Ok(sites)
}

/// The tasks of every equipment whose site has no probe (a site probe checks its own site) and
/// is supervised (SUP-4).
pub async fn central_tasks(
    state: &AppState,
) -> Result<Vec<vigie_probe::Task>, vigie_store::StoreError> {
    let actor = poller();
    let probed: BTreeSet<String> = state
        .store
        .probes(&actor)
        .await?
        .into_iter()
        .map(|p| p.site)
        .collect();
    let supervised = supervised_sites(state, &actor).await?;
    let mut tasks = Vec::new();
    let mut after = None;
    loop {
        let page = state
            .store
            .list(
                &actor,
                ObjectKind::Equipment,
                &ListFilter {
                    after: after.clone(),
                    limit: Some(vigie_store::MAX_PAGE_SIZE),
                    ..ListFilter::default()
                },
            )
            .await?;
        let count = page.len();
        for record in page {
            if let Record::Equipment(equipment) = record {
                after = Some(equipment.reference.clone());
                if !probed.contains(equipment.site.as_str())
                    && supervised.contains(equipment.site.as_str())
                {
                    tasks.extend(vigie_probe::tasks_for(&equipment));
                }
            }
        }
        if (count as i64) < vigie_store::MAX_PAGE_SIZE {
            return Ok(tasks);
        }
    }
}

/// Writes observations as they come, in batches, through the one entry point.
/// How long an observation waits for others to share its write: a steady trickle of results
/// is still written within this delay (ALR-1 counts from the observation).
const WRITE_DELAY: Duration = Duration::from_secs(1);

/// Writes what the checks saw, in batches of at most [`WRITE_BATCH`], each written at the latest
/// [`WRITE_DELAY`] after its first observation.
async fn write_observations(state: AppState, mut observations: mpsc::Receiver<Observation>) {
    let mut batch = Vec::new();
    let mut deadline = None;
    loop {
        let next = match deadline {
            Some(deadline) => tokio::time::timeout_at(deadline, observations.recv()).await,
            None => Ok(observations.recv().await),
        };
        let closed = matches!(next, Ok(None));
        if let Ok(Some(observation)) = next {
            deadline.get_or_insert_with(|| tokio::time::Instant::now() + WRITE_DELAY);
            batch.push(observation);
            if batch.len() < WRITE_BATCH {
                continue;
            }
        }
        if !batch.is_empty() {
            if let Err(error) = crate::alarms::record(
                &state,
                &poller(),
                None,
                std::mem::take(&mut batch),
                state.clock.now_ms(),
            )
            .await
            {
                tracing::warn!(%error, "écriture des observations");
            }
            batch.clear();
        }
        deadline = None;
        if closed {
            return;
        }
    }
}

async fn polling_loop(state: AppState) {
    let pinger = match vigie_ping::Pinger::new() {
        Ok(pinger) => Some(Arc::new(pinger)),
        Err(error) => {
            tracing::warn!(%error, "pings indisponibles : ils seront « inconnus »");
            None
        }
    };
    loop {
        let tasks = match central_tasks(&state).await {
            Ok(tasks) => tasks,
            Err(error) => {
                tracing::warn!(%error, "lecture de l'inventaire à contrôler");
                Vec::new()
            }
        };
        let (sink, observations) = mpsc::channel(vigie_probe::OBSERVATION_QUEUE);
        let writer = tokio::spawn(write_observations(state.clone(), observations));
        let until = tokio::time::Instant::now() + POLL_REFRESH;
        if tasks.is_empty() {
            drop(sink);
            tokio::time::sleep_until(until).await;
        } else {
            vigie_probe::Scheduler::new(tasks, pinger.clone())
                .run(sink, Some(until))
                .await;
        }
        let _ = writer.await;
    }
}

/// Who may send traps: the configured communities (none: v1 and v2c refused) and the v3
/// users, whose keys are derived here (about a megabyte of hashing per password: call it off
/// the async threads).
fn trap_security(
    config: &crate::config::SupervisionConfig,
) -> Result<vigie_snmp::trap::TrapSecurity, String> {
    let mut security = vigie_snmp::trap::TrapSecurity::new().only_listed_communities();
    for community in &config.trap_communities {
        security = security.with_community(community.clone());
    }
    for (index, user) in config.trap_users.iter().enumerate() {
        let refused =
            |reason: String| format!("[supervision] trap_users n° {} : {reason}", index + 1);
        let (usm, engine_id) = user.usm_user().map_err(refused)?;
        security = security
            .with_user(&usm, &engine_id)
            .map_err(|e| refused(e.to_string()))?;
    }
    Ok(security)
}

/// Receives SNMP traps and keeps each one, known or not, readable or not (never dropped
/// silently); the source address names the equipment.
async fn trap_loop(state: AppState, address: std::net::SocketAddr) {
    let config = state.config.supervision.clone();
    let security = tokio::task::spawn_blocking(move || trap_security(&config))
        .await
        .map_err(|e| e.to_string())
        .and_then(|security| security);
    let security = match security {
        Ok(security) => security,
        Err(error) => {
            tracing::error!(%error, "réception des traps SNMP impossible");
            return;
        }
    };
    let mut listener = match vigie_snmp::trap::TrapListener::bind(address, security).await {
        Ok(listener) => listener,
        Err(error) => {
            tracing::error!(%error, %address, "réception des traps SNMP impossible");
            return;
        }
    };
    tracing::info!(address = %listener.local_address(), "réception des traps SNMP");
    while let Some((source, item)) = listener.next().await {
        let (record, observation) = trap_record(&state, source, item).await;
        if let Err(error) = state.background.system.record_trap(&record).await {
            tracing::warn!(%error, "enregistrement d'un trap");
        }
        if let Some(observation) = observation
            && let Err(error) = crate::alarms::record(
                &state,
                &poller(),
                None,
                vec![observation],
                state.clock.now_ms(),
            )
            .await
        {
            tracing::warn!(%error, "observation d'un trap");
        }
    }
}

/// What is kept of a notification, and the observation it makes when a template knows it
/// (disk failure, power supply failure, recording stopped…).
pub async fn trap_record(
    state: &AppState,
    source: std::net::SocketAddr,
    item: Result<vigie_snmp::trap::Notification, vigie_snmp::error::Error>,
) -> (TrapRecord, Option<Observation>) {
    let equipment = state
        .background
        .system
        .equipment_by_address(&source.ip().to_string())
        .await
        .ok()
        .flatten();
    let received = state.clock.now_ms();
    let mut record = TrapRecord {
        id: 0,
        received,
        source: source.to_string(),
        version: String::new(),
        sender: None,
        trap_oid: None,
        equipment: equipment.as_ref().map(|e| e.reference.to_string()),
        check: None,
        error: None,
        varbinds: Vec::new(),
    };
    let mut observation = None;
    match item {
        Ok(notification) => {
            record.version = format!("{:?}", notification.version);
            record.sender = Some(notification.community_or_user.chars().take(100).collect());
            record.trap_oid = Some(notification.trap_oid.to_string());
            record.varbinds = notification
                .varbinds
                .iter()
                .take(100)
                .map(|v| {
                    (
                        v.oid.to_string(),
                        format!("{:?}", v.value).chars().take(500).collect(),
                    )
                })
                .collect();
            if let Some(equipment) = &equipment
                && let Some(mapping) = vigie_snmp_templates::map_trap(
                    vigie_probe::templates(),
                    Some(&vigie_probe::snmp_template_of(equipment)),
                    &notification,
                )
            {
                record.check = Some(mapping.check.to_string());
                observation = Some(Observation {
                    equipment: equipment.reference.clone(),
                    check: mapping.check,
                    at: received,
                    status: Some(mapping.status),
                    detail: Some(mapping.detail),
                    samples: Vec::new(),
                    facts: std::collections::BTreeMap::new(),
                });
            }
        }
        Err(error) => record.error = Some(refusal_text(&error)),
    }
    (record, observation)
}

/// Why a datagram was not read, for the people reading the kept traps. The v3 informs this
/// receiver cannot acknowledge (it has no engine of its own) are said to be so.
fn refusal_text(error: &vigie_snmp::error::Error) -> String {
    use vigie_snmp::error::Error;
    const NO_V3_INFORMS: &str =
        "Vigie reçoit les traps SNMPv3 mais pas les informs SNMPv3 (envoyer des traps)";
    match error {
        // The discovery that precedes a v3 inform: no user, no engine ID.
        Error::UnknownUser(name) if name.is_empty() => {
            format!("demande de découverte SNMPv3 : {NO_V3_INFORMS}")
        }
        Error::UnknownEngineId => format!("inform SNMPv3 non acquitté : {NO_V3_INFORMS}"),
        other => other.to_string(),
    }
}

/// The running loops; dropping it stops them (the server task holds it, so stopping the server
/// stops them too).
#[derive(Debug)]
pub struct Loops(Vec<tokio::task::JoinHandle<()>>);

impl Drop for Loops {
    fn drop(&mut self) {
        for handle in &self.0 {
            handle.abort();
        }
    }
}

/// The loops' handle on the whole store, private to this module: the loops started here
/// hand it to the steps they run, and no request handler can reach it.
#[derive(Debug, Clone)]
pub struct Background {
    system: System,
}

impl Background {
    pub(crate) fn new(system: System) -> Background {
        Background { system }
    }
}

/// Starts the loops; on the virtual clock only the relay of live changes, the rest being
/// run by the rounds of `POST /api/v1/clock` (`crate::rounds`).
pub fn spawn(state: AppState) -> Loops {
    if state.clock.is_virtual() {
        return Loops(crate::web::live::relay(&state));
    }
    let watchdog_every = Duration::from_secs(u64::from(state.config.supervision.watchdog_seconds));
    let watchdog = state.clone();
    let state_for_polling = state.clone();
    let first = tokio::spawn(async move {
        loop {
            if let Err(error) = watchdog_step(&watchdog).await {
                tracing::warn!(%error, "guet de supervision");
            }
            tokio::time::sleep(watchdog_every).await;
        }
    });
    let second = tokio::spawn(async move {
        loop {
            if let Err(error) = rollup_step(&state).await {
                tracing::warn!(%error, "agrégation des mesures");
            }
            tokio::time::sleep(ROLLUP_EVERY).await;
        }
    });
    let mut loops = vec![first, second];
    loops.extend(crate::web::live::relay(&state_for_polling));
    loops.push(tokio::spawn(crate::desk::run(
        state_for_polling.clone(),
        state_for_polling.background.system.clone(),
    )));
    match crate::delivery::Channels::from_config(&state_for_polling.config) {
        Ok(channels) => loops.push(tokio::spawn(crate::delivery::run(
            state_for_polling.clone(),
            channels,
        ))),
        Err(error) => {
            tracing::error!(%error, "canaux de notification mal configurés : aucune notification ne part")
        }
    }
    if state_for_polling.config.mailbox.is_read() {
        match crate::mailbox::mailbox(&state_for_polling.config.mailbox) {
            Ok(mailbox) => loops.push(tokio::spawn(crate::mailbox::run(
                state_for_polling.clone(),
                state_for_polling.background.system.clone(),
                mailbox,
            ))),
            Err(error) => {
                tracing::error!(%error, "boîte de support mal configurée : aucun email n'est lu")
            }
        }
    }
    loops.push(tokio::spawn(crate::policies::run(
        state_for_polling.clone(),
    )));
    loops.push(tokio::spawn(crate::reports::intervention::run(
        state_for_polling.clone(),
        state_for_polling.background.system.clone(),
    )));
    if state_for_polling.config.reports.monthly {
        loops.push(tokio::spawn(crate::reports::run(
            state_for_polling.clone(),
            state_for_polling.background.system.clone(),
        )));
    }
    if state_for_polling.config.supervision.poll {
        loops.push(tokio::spawn(polling_loop(state_for_polling.clone())));
    }
    if let Ok(address) = state_for_polling.config.supervision.trap_listen.parse() {
        loops.push(tokio::spawn(trap_loop(state_for_polling, address)));
    }
    Loops(loops)
}
