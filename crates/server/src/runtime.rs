//! The server's background work, each a step function that tests call directly and a loop
//! that only sleeps between steps: the supervision watchdog (missing heartbeats, silent agents,
//! lost site probes) and the hourly roll-up and retention of samples.

use std::time::Duration;

use vigie_store::supervision::{IngestReport, Retention};

use crate::AppState;

const DAY_MS: i64 = 24 * 3_600_000;
/// How often samples are rolled up and pruned.
const ROLLUP_EVERY: Duration = Duration::from_secs(300);
/// Most hours rolled up per step, so that a server back after a long stop catches up in
/// bounded transactions.
const ROLLUP_MAX_HOURS: i64 = 24;

/// One watchdog step at the state's clock.
pub async fn watchdog_step(state: &AppState) -> Result<IngestReport, vigie_store::StoreError> {
    let report = state.store.watchdog_step(state.clock.now_ms()).await?;
    for change in &report.changes {
        tracing::info!(equipment = %change.equipment, check = %change.check, to = change.to.key(), detail = change.detail.as_deref().unwrap_or(""), "changement d'état (guet)");
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
        .store
        .roll_up_and_prune(state.clock.now_ms(), retention(state), ROLLUP_MAX_HOURS)
        .await
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

/// Starts the loops.
pub fn spawn(state: AppState) -> Loops {
    let watchdog_every = Duration::from_secs(u64::from(state.config.supervision.watchdog_seconds));
    let watchdog = state.clone();
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
    Loops(vec![first, second])
}
