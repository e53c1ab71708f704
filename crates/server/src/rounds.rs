//! The rounds of the virtual clock (`VIGIE_VIRTUAL_CLOCK`, for the replay of scenarios): with
//! it no background loop runs; `POST /api/v1/clock` moves the clock and runs, once and in the
//! simulator's order, what the loops would have done by then — the watchdog, the rotation
//! check, the saving of the alarms, the escalation timers due, the delivery of every page due
//! over the real channels, the ticket deadlines — then says when something is next due. The
//! steps are the loops' own functions, so a replay drives the server's code, not a copy.

use std::sync::Arc;

use tokio::sync::Mutex;
use vigie_store::{DeliveryOutcome, MAX_BATCH, StoreError, System};

use crate::AppState;
use crate::delivery::Channels;

/// What one round does besides saving, firing, delivering and breaching.
#[derive(Debug, Clone, Copy, Default)]
pub struct Round {
    /// The watchdog's step (missing heartbeats, silent probes) and the book's held durations:
    /// a round at a timer's instant, not at an input's.
    pub watchdog: bool,
    /// Whether the rotations are checked for a gap (the simulator does it at start and when
    /// the one on call changes).
    pub rotations: bool,
    /// Whether the support mailbox is read (messages put in it for this instant), first.
    pub mailbox: bool,
}

/// What the rounds share: one at a time, and the channels built once.
#[derive(Debug, Clone)]
pub struct Rounds {
    /// The rounds' handle on the whole store: they play every loop.
    system: System,
    channels: Arc<Mutex<Option<Arc<Channels>>>>,
    mailbox: Arc<Mutex<Option<Arc<vigie_notify::Mailbox>>>>,
}

/// The lease taken on pages claimed by a round; they are delivered before the round ends.
const LEASE_MS: i64 = 60_000;
/// Most passes of a loop within one round (each at most a batch), so that a round ends.
const MAX_PASSES: usize = 10_000;

impl Rounds {
    pub(crate) fn new(system: System) -> Rounds {
        Rounds {
            system,
            channels: Arc::default(),
            mailbox: Arc::default(),
        }
    }

    /// Runs one round at the clock's present instant and returns the next instant something is
    /// due (a heartbeat expected, a hold running out, a timer, a ticket deadline, a page).
    pub async fn run(&self, state: &AppState, round: Round) -> Result<Option<i64>, StoreError> {
        // One round at a time: the guard is held to the end.
        let mut channels = self.channels.lock().await;
        let channels = match &*channels {
            Some(channels) => channels.clone(),
            None => {
                let built = Arc::new(
                    Channels::from_config(&state.config).map_err(StoreError::Unavailable)?,
                );
                *channels = Some(built.clone());
                built
            }
        };
        let now = state.clock.now_ms();
        if round.mailbox {
            self.read_mailbox(state).await?;
        }
        if round.watchdog {
            crate::runtime::watchdog_step(state).await?;
        }
        if round.rotations {
            crate::delivery::check_rotations(state).await?;
        }
        // What the inputs and the watchdog changed is saved (its timers armed, its pages
        // queued), then the timers due fire and every page due goes, as in `vigie simulate`.
        state.alarms.flush(state).await;
        for _ in 0..MAX_PASSES {
            let fired = state
                .rounds
                .system
                .fire_due_timers(&state.escalation(), now, MAX_BATCH)
                .await?;
            if (fired.len() as i64) < MAX_BATCH {
                break;
            }
        }
        let owner = "rejeu";
        let key = state.deliveries.key().await?;
        for _ in 0..MAX_PASSES {
            let pages = state
                .rounds
                .system
                .claim_notifications(owner, now, LEASE_MS, MAX_BATCH)
                .await?;
            if pages.is_empty() {
                break;
            }
            let mut outcomes: Vec<DeliveryOutcome> = Vec::with_capacity(pages.len());
            for page in pages {
                outcomes.push(crate::delivery::deliver(state, &channels, &key, page).await);
            }
            state
                .rounds
                .system
                .record_outcomes(owner, &state.escalation().policy, &outcomes)
                .await?;
        }
        for _ in 0..MAX_PASSES {
            if crate::desk::step(state, &self.system).await? < crate::desk::BATCH as usize {
                break;
            }
        }
        next_due(state).await
    }

    /// Every message of the support mailbox, read and recorded as the reader's loop does.
    async fn read_mailbox(&self, state: &AppState) -> Result<(), StoreError> {
        if !state.config.mailbox.is_read() {
            return Err(StoreError::Invalid(
                "aucune boîte de support n'est configurée ([mailbox])".into(),
            ));
        }
        let mailbox = {
            let mut cached = self.mailbox.lock().await;
            match &*cached {
                Some(mailbox) => mailbox.clone(),
                None => {
                    let built = Arc::new(
                        crate::mailbox::mailbox(&state.config.mailbox)
                            .map_err(StoreError::Unavailable)?,
                    );
                    *cached = Some(built.clone());
                    built
                }
            }
        };
        for _ in 0..MAX_PASSES {
            let left = crate::mailbox::round(state, &self.system, &mailbox)
                .await
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            if left == 0 {
                break;
            }
        }
        Ok(())
    }
}

/// The next instant something is due.
pub async fn next_due(state: &AppState) -> Result<Option<i64>, StoreError> {
    let store = &state.rounds.system;
    Ok([
        store.next_expectation().await?,
        state.alarms.next_wake(state).await,
        store.next_timer_due().await?,
        store.next_ticket_due().await?,
        store.next_notification_due().await?,
    ]
    .into_iter()
    .flatten()
    .min())
}
