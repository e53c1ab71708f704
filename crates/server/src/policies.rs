//! The policy in force, changed without restart (issue 26, item 4). At start it is the newest
//! version saved from the console, else the configuration's policy file; a save (or a
//! restoration, which saves a copy) applies at once in its process — new alarms, the next
//! escalation steps of open ones, the sites' thresholds — and every other process on the base
//! takes it within [`REFRESH`]. What an open alarm already has stays: its armed timers keep
//! their due times, the pages sent stay sent (`docs/policy.md`, « Modifier la politique »).

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use vigie_domain::policy::Policy;
use vigie_store::{Escalation, StoreError, System};

use crate::AppState;

/// How often a process looks for a version saved by another one.
pub const REFRESH: Duration = Duration::from_secs(10);

/// The escalation setup in force (policy and webhooks) and its version (0: the configuration's
/// file); read by every handler and loop, replaced whole.
#[derive(Debug)]
pub struct Policies {
    current: RwLock<Arc<Escalation>>,
    version: AtomicI64,
    /// Where the saved versions are read, whoever asks.
    system: System,
}

impl Policies {
    pub(crate) fn new(escalation: Escalation, system: System) -> Policies {
        Policies {
            current: RwLock::new(Arc::new(escalation)),
            version: AtomicI64::new(0),
            system,
        }
    }

    /// The setup in force now: a handler or a step uses one for its whole work.
    pub fn current(&self) -> Arc<Escalation> {
        self.current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    pub(crate) fn system(&self) -> &System {
        &self.system
    }

    /// The version in force (0: the configuration's policy file).
    pub fn version(&self) -> i64 {
        self.version.load(Ordering::SeqCst)
    }

    fn set(&self, version: i64, escalation: Escalation) {
        *self
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(escalation);
        self.version.store(version, Ordering::SeqCst);
    }
}

/// The policy `text` gives: the default policy with the text laid over it, exactly as the
/// configuration's policy file is read; the error in French, naming what is wrong.
pub fn read_policy(text: &str) -> Result<Policy, String> {
    Policy::default_with(text).map_err(|e| e.to_string())
}

/// Puts `policy` (version `version`) in force in this process and hands it to the alarm
/// worker, which reads the sites' policies again with it.
pub async fn apply(state: &AppState, version: i64, policy: Policy) {
    take(state, version, policy);
    state.alarms.policy_changed(state).await;
    tracing::info!(version, "politique en vigueur changée");
}

fn take(state: &AppState, version: i64, policy: Policy) {
    let escalation = Escalation {
        policy: Arc::new(policy),
        webhooks: state.escalation().webhooks.clone(),
    };
    state.policies.set(version, escalation);
}

/// Takes the newest saved version when it is not the one in force, without telling the alarm
/// worker (at start, before it runs; [`run`] tells it); true when it changed. A version that no longer reads (saved by a
/// newer Vigie, say) is logged and the policy in force kept: a site is never left without one.
pub async fn refresh_quietly(state: &AppState) -> Result<bool, StoreError> {
    let system = &state.policies.system;
    let newest = system.policy_version_number().await?;
    if newest == state.policies.version() {
        return Ok(false);
    }
    let Some(saved) = system.policy_in_force().await? else {
        return Ok(false);
    };
    match read_policy(&saved.text) {
        Ok(policy) => {
            take(state, saved.version, policy);
            Ok(true)
        }
        Err(error) => {
            tracing::error!(version = saved.version, %error, "version de la politique illisible : la politique en vigueur est gardée");
            Ok(false)
        }
    }
}

/// The loop of every process (not under the virtual clock, where only the inputs change the
/// policy): every [`REFRESH`], the version another process saved is put in force here and
/// handed to the alarm worker.
pub async fn run(state: AppState) {
    loop {
        tokio::time::sleep(REFRESH).await;
        let held = state.policies.version();
        match refresh_quietly(&state).await {
            Ok(true) => {
                state.alarms.policy_changed(&state).await;
                tracing::info!(
                    from = held,
                    to = state.policies.version(),
                    "politique enregistrée par un autre processus en vigueur"
                );
            }
            Ok(false) => {}
            Err(error) => tracing::warn!(%error, "lecture de la version de la politique"),
        }
    }
}
