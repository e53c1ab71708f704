//! The alarm worker: the one owner of the server's alarm book. Every observation the server
//! records is passed to it after being stored (SUP-1's single entry point, [`record`]); people's
//! steps on alarms (acknowledge, take in charge, close) are messages to it too, so that the
//! book changes in one place, in order. What the book changes is saved (alarms and events, one
//! transaction) before a step is answered. At start the worker reads the inventory and takes
//! back the alarms not closed, so that a restart neither loses nor doubles an alarm.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use vigie_domain::Reference;
use vigie_domain::access::Actor;
use vigie_domain::alarm::lifecycle::{AlarmEvent, AlarmId};
use vigie_domain::supervision::Observation;
use vigie_store::supervision::IngestReport;
use vigie_store::{StoreError, System};
use vigie_workflow::Workflow;

use crate::AppState;

/// Messages waiting for the worker; senders wait when it is full.
const QUEUE: usize = 1024;
/// How often the worker wakes without a message, to let held durations run out.
const TICK: Duration = Duration::from_secs(1);
/// The longest a read waits for the worker to catch up.
const SYNC_WAIT: Duration = Duration::from_secs(10);
/// How often the worker reads the inventory again, for changes to known sites and equipment
/// (parents, windows, tolerance, overlays); equipment it has never seen is read on first
/// observation.
const INVENTORY_REFRESH: Duration = Duration::from_secs(300);

pub use vigie_workflow::{Step, StepError};

enum Message {
    Observations(Vec<Observation>),
    Step {
        alarm: AlarmId,
        step: Step,
        by: Reference,
        reply: oneshot::Sender<Result<Vec<AlarmEvent>, StepError>>,
    },
    /// The rotations with nobody on call now (all of them: a rotation missing from the list
    /// is covered).
    Uncovered(Vec<Reference>),
    /// Whether the support mailbox can be read (SAV-1).
    Mailbox(bool),
    /// A site's monitoring path is down (its probe silent) or back.
    Monitoring {
        site: Reference,
        lost: bool,
    },
    /// The one-off windows changed (opened or ended from the console): the book reads them
    /// again, and answers once what they changed is saved.
    Windows(oneshot::Sender<Result<(), StoreError>>),
    /// The policy in force changed in this process (issue 26, item 4): the book reads the
    /// sites' policies again with it, and answers.
    Policy(Arc<vigie_store::Escalation>, oneshot::Sender<()>),
    /// Answered once everything before it is in the book and saved.
    Sync(oneshot::Sender<()>),
    /// Like `Sync`, without letting time run first: the virtual clock's round saves what the
    /// inputs changed exactly as the simulator does (`crate::rounds`).
    Flush(oneshot::Sender<()>),
    /// The next instant the book must be ticked.
    NextWake(oneshot::Sender<Option<i64>>),
}

/// The handle to the worker, started on first use.
#[derive(Debug, Clone)]
pub struct AlarmWorker {
    /// The worker's handle on the whole store (it saves alarms, fires timers).
    system: System,
    sender: Arc<OnceLock<mpsc::Sender<Message>>>,
    /// Messages handed to the worker, and those it has taken in and saved: when they are
    /// equal, a read has nothing to wait for ([`AlarmWorker::settle`]).
    sent: Arc<AtomicU64>,
    done: Arc<AtomicU64>,
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Message")
    }
}

impl AlarmWorker {
    pub(crate) fn new(system: System) -> AlarmWorker {
        AlarmWorker {
            system,
            sender: Arc::default(),
            sent: Arc::default(),
            done: Arc::default(),
        }
    }

    fn sender(&self, state: &AppState) -> &mpsc::Sender<Message> {
        self.sent.fetch_add(1, Ordering::SeqCst);
        self.sender.get_or_init(|| {
            let (sender, receiver) = mpsc::channel(QUEUE);
            tokio::spawn(run(state.clone(), receiver, self.done.clone()));
            sender
        })
    }

    /// Hands observations already stored to the book.
    pub async fn observe(&self, state: &AppState, observations: Vec<Observation>) {
        if observations.is_empty() {
            return;
        }
        self.observe_and_tick(state, observations).await;
    }

    /// Hands observations (maybe none) to the book, then lets its held durations run to now:
    /// the watchdog's step, which is the book's timer as it is the simulator's.
    pub async fn observe_and_tick(&self, state: &AppState, observations: Vec<Observation>) {
        if self
            .sender(state)
            .send(Message::Observations(observations))
            .await
            .is_err()
        {
            tracing::error!("le moteur d'alarmes est arrêté : observations non évaluées");
        }
    }

    /// Tells the book which rotations have nobody on call now: each is an alarm until it is
    /// covered again.
    pub async fn uncovered(&self, state: &AppState, rotations: Vec<Reference>) {
        if self
            .sender(state)
            .send(Message::Uncovered(rotations))
            .await
            .is_err()
        {
            tracing::error!("le moteur d'alarmes est arrêté : astreintes non suivies");
        }
    }

    /// Tells the book whether the support mailbox can be read: one that cannot is an alarm
    /// until it can again.
    pub async fn mailbox(&self, state: &AppState, readable: bool) {
        if self
            .sender(state)
            .send(Message::Mailbox(readable))
            .await
            .is_err()
        {
            tracing::error!("le moteur d'alarmes est arrêté : boîte de support non suivie");
        }
    }

    /// Tells the book that a site's probe fell silent (`lost`) or reports again: a site gone
    /// dark is an alarm until its probe is back.
    pub async fn monitoring(&self, state: &AppState, site: Reference, lost: bool) {
        if self
            .sender(state)
            .send(Message::Monitoring { site, lost })
            .await
            .is_err()
        {
            tracing::error!("le moteur d'alarmes est arrêté : sondes de site non suivies");
        }
    }

    /// Takes a person's step and returns its events once saved.
    pub async fn step(
        &self,
        state: &AppState,
        alarm: AlarmId,
        step: Step,
        by: Reference,
    ) -> Result<Vec<AlarmEvent>, StepError> {
        let (reply, answer) = oneshot::channel();
        let stopped =
            || StepError::Store(StoreError::Unavailable("moteur d'alarmes arrêté".into()));
        self.sender(state)
            .send(Message::Step {
                alarm,
                step,
                by,
                reply,
            })
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// Hands the worker the policy now in force (issue 26, item 4): it reads the sites'
    /// policies again with it; returns once it has.
    pub async fn policy_changed(&self, state: &AppState) {
        let (reply, answer) = oneshot::channel();
        if self
            .sender(state)
            .send(Message::Policy(state.escalation(), reply))
            .await
            .is_ok()
        {
            let _ = answer.await;
        }
    }

    /// Tells the book the one-off windows changed; returns once it has read them and saved
    /// what they changed (an alarm a window no longer holds is notified).
    pub async fn windows_changed(&self, state: &AppState) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        let stopped = || StoreError::Unavailable("moteur d'alarmes arrêté".into());
        self.sender(state)
            .send(Message::Windows(reply))
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// Saves what the book changed, without letting time run (the virtual clock's round).
    pub async fn flush(&self, state: &AppState) {
        let (reply, answer) = oneshot::channel();
        if self.sender(state).send(Message::Flush(reply)).await.is_ok() {
            let _ = answer.await;
        }
    }

    /// The next instant the book must be ticked (a hold running out, a window ending).
    pub async fn next_wake(&self, state: &AppState) -> Option<i64> {
        let (reply, answer) = oneshot::channel();
        if self
            .sender(state)
            .send(Message::NextWake(reply))
            .await
            .is_err()
        {
            return None;
        }
        answer.await.ok().flatten()
    }

    /// Like [`AlarmWorker::sync`], but free when the worker has already taken in and saved
    /// every message sent to it: the pages call it on every load.
    pub async fn settle(&self, state: &AppState) {
        if self.sent.load(Ordering::SeqCst) == self.done.load(Ordering::SeqCst) {
            return;
        }
        self.sync(state).await;
    }

    /// Waits until everything sent before is evaluated and saved (reads after it see it), at
    /// most [`SYNC_WAIT`]: a worker still loading or behind does not hold a read forever; the
    /// read then shows what is saved.
    pub async fn sync(&self, state: &AppState) {
        let (reply, answer) = oneshot::channel();
        let wait = async {
            if self.sender(state).send(Message::Sync(reply)).await.is_ok() {
                let _ = answer.await;
            }
        };
        if tokio::time::timeout(SYNC_WAIT, wait).await.is_err() {
            tracing::warn!(
                "moteur d'alarmes en retard : lecture sans attendre la fin de son travail"
            );
        }
    }
}

/// Records observations (the store's single entry point) and passes those of known equipment
/// to the alarm worker (moved, not copied: this is every push's path).
pub async fn record(
    state: &AppState,
    actor: &Actor,
    batch: Option<(&str, i64)>,
    mut observations: Vec<Observation>,
    now_ms: i64,
) -> Result<IngestReport, StoreError> {
    let report = state
        .store
        .record_observations(actor, batch, &observations, now_ms)
        .await?;
    if !report.duplicate {
        for client in &report.changed_clients {
            state
                .live
                .publish(crate::web::Topic::States, Reference::parse(client).ok());
        }
        observations.retain(|o| !report.unknown_equipment.contains(&o.equipment));
        state.alarms.observe(state, observations).await;
    }
    Ok(report)
}

/// The worker: the one workflow (alarm book and what it has yet to save) and where it tells
/// what it saved.
struct Worker {
    workflow: Workflow,
    deliveries: crate::delivery::Deliveries,
    live: crate::web::Live,
}

async fn run(state: AppState, mut messages: mpsc::Receiver<Message>, done: Arc<AtomicU64>) {
    // Messages taken in, counted as `sent` counts them (each send counts one).
    let mut received: u64 = 0;
    let workflow = loop {
        match Workflow::load(state.alarms.system.clone(), state.escalation()).await {
            Ok(workflow) => break workflow,
            Err(error) => {
                tracing::error!(%error, "chargement du moteur d'alarmes ; nouvel essai dans 5 s");
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        }
    };
    let mut workflow = workflow;
    // Windows opened or ended while the server was down take effect now.
    if let Err(error) = workflow.load_windows(state.clock.now_ms()).await {
        tracing::error!(%error, "lecture des fenêtres de maintenance : elles comptent dès le prochain changement ou la prochaine relecture");
    }
    let mut worker = Worker {
        workflow,
        deliveries: state.deliveries.clone(),
        live: state.live.clone(),
    };
    let mut refreshed = tokio::time::Instant::now();
    // On the virtual clock time runs only when a round says so: no idle tick, which could let
    // a hold run out before an input of the same instant (the simulator takes inputs first).
    let idle_tick = (!state.clock.is_virtual()).then_some(TICK);
    loop {
        let message = match idle_tick {
            Some(tick) => tokio::time::timeout(tick, messages.recv()).await,
            None => Ok(messages.recv().await),
        };
        let now = state.clock.now_ms();
        if !state.clock.is_virtual() && refreshed.elapsed() >= INVENTORY_REFRESH {
            refreshed = tokio::time::Instant::now();
            if let Err(error) = worker.workflow.load_inventory().await {
                tracing::warn!(%error, "relecture de l'inventaire par le moteur d'alarmes");
            }
            if let Err(error) = worker.workflow.load_windows(now).await {
                tracing::warn!(%error, "relecture des fenêtres de maintenance par le moteur d'alarmes");
            }
        }
        if let Ok(Some(_)) = &message {
            received += 1;
        }
        match message {
            Ok(None) => {
                let _ = worker.save(now).await;
                return;
            }
            Err(_) => {
                worker.workflow.tick(now);
            }
            Ok(Some(Message::Observations(observations))) => {
                worker.workflow.observe(&observations, now).await;
            }
            Ok(Some(Message::Uncovered(rotations))) => {
                worker.workflow.rotations_uncovered(&rotations, now);
            }
            Ok(Some(Message::Mailbox(readable))) => {
                worker.workflow.mailbox_readable(readable, now);
            }
            Ok(Some(Message::Monitoring { site, lost })) => {
                worker.workflow.monitoring(&site, lost, now);
            }
            Ok(Some(Message::Windows(reply))) => {
                let outcome = match worker.workflow.load_windows(now).await {
                    Ok(_) => worker.save(now).await,
                    Err(error) => Err(error),
                };
                let _ = reply.send(outcome);
            }
            Ok(Some(Message::Sync(reply))) => {
                worker.workflow.tick(now);
                let _ = worker.save(now).await;
                let _ = reply.send(());
            }
            Ok(Some(Message::Policy(escalation, reply))) => {
                worker.workflow.set_escalation(escalation);
                if let Err(error) = worker.workflow.load_inventory().await {
                    tracing::warn!(%error, "relecture des sites avec la nouvelle politique : au prochain rafraîchissement");
                }
                let _ = reply.send(());
            }
            Ok(Some(Message::Flush(reply))) => {
                let _ = worker.save(now).await;
                let _ = reply.send(());
            }
            Ok(Some(Message::NextWake(reply))) => {
                let _ = reply.send(worker.workflow.next_wake());
            }
            Ok(Some(Message::Step {
                alarm,
                step,
                by,
                reply,
            })) => {
                let outcome = match worker.workflow.step(alarm, step, &by, now).await {
                    Ok(events) => worker
                        .save(now)
                        .await
                        .map(|()| events)
                        .map_err(StepError::Store),
                    Err((_, error)) => Err(error),
                };
                let _ = reply.send(outcome);
            }
        }
        if worker.workflow.has_pending() {
            let _ = worker.save(now).await;
        }
        if !worker.workflow.has_pending() {
            done.store(received, Ordering::SeqCst);
        }
    }
}

impl Worker {
    /// Saves what the workflow changed, then wakes the delivery loop and tells open pages.
    async fn save(&mut self, now: i64) -> Result<(), StoreError> {
        match self.workflow.save(now).await {
            Ok(saved) => {
                if !saved.fired.is_empty() {
                    self.deliveries.wake();
                }
                // Open pages hear of it once per client, whatever the number of alarms.
                for client in saved.clients {
                    self.live.publish(crate::web::Topic::Alarms, client);
                }
                let ticket_clients: BTreeSet<&Reference> = saved
                    .tickets
                    .iter()
                    .map(|change| &change.ticket.report.client)
                    .collect();
                for client in ticket_clients {
                    self.live
                        .publish(crate::web::Topic::Tickets, Some(client.clone()));
                }
                Ok(())
            }
            Err(error) => {
                tracing::error!(%error, "enregistrement des alarmes ; nouvel essai au prochain passage");
                Err(error)
            }
        }
    }
}
