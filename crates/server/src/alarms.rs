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
use vigie_domain::alarm::book::{Book, SiteSetup};
use vigie_domain::alarm::lifecycle::{Alarm, AlarmEvent, AlarmId, ClosureReport, LifecycleError};
use vigie_domain::inventory::{ObjectKind, Record};
use vigie_domain::policy::Policy;
use vigie_domain::supervision::Observation;
use vigie_store::supervision::IngestReport;
use vigie_store::{ListFilter, Store, StoreError};

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
/// Events kept for saving while the database refuses them; beyond, the oldest are dropped
/// with an error in the log.
const MAX_PENDING_EVENTS: usize = 1_000_000;

/// A person's step on an alarm.
#[derive(Debug, Clone)]
pub enum Step {
    Acknowledge,
    TakeCharge,
    Close(ClosureReport),
}

/// Why a step was not taken.
#[derive(Debug)]
pub enum StepError {
    Refused(LifecycleError),
    Store(StoreError),
}

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
    /// Answered once everything before it is in the book and saved.
    Sync(oneshot::Sender<()>),
}

/// The handle to the worker, started on first use.
#[derive(Debug, Clone, Default)]
pub struct AlarmWorker {
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

/// The worker's book and what it has yet to save.
struct Worker {
    store: Store,
    escalation: Arc<vigie_store::Escalation>,
    deliveries: crate::delivery::Deliveries,
    live: crate::web::Live,
    policy: Policy,
    book: Book,
    /// Events not saved yet, in order.
    pending: Vec<AlarmEvent>,
    /// Alarms closed since the last save (they have left the book).
    closed: Vec<Alarm>,
}

async fn run(state: AppState, mut messages: mpsc::Receiver<Message>, done: Arc<AtomicU64>) {
    // Messages taken in, counted as `sent` counts them (each send counts one).
    let mut received: u64 = 0;
    let mut worker = loop {
        match Worker::load(&state).await {
            Ok(worker) => break worker,
            Err(error) => {
                tracing::error!(%error, "chargement du moteur d'alarmes ; nouvel essai dans 5 s");
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        }
    };
    let mut refreshed = tokio::time::Instant::now();
    loop {
        let message = tokio::time::timeout(TICK, messages.recv()).await;
        let now = state.clock.now_ms();
        if refreshed.elapsed() >= INVENTORY_REFRESH {
            refreshed = tokio::time::Instant::now();
            if let Err(error) = worker.load_inventory().await {
                tracing::warn!(%error, "relecture de l'inventaire par le moteur d'alarmes");
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
            Err(_) => worker.tick(now),
            Ok(Some(Message::Observations(observations))) => {
                for observation in &observations {
                    if let Err(error) = worker.learn(&observation.equipment).await {
                        tracing::warn!(%error, equipment = %observation.equipment, "équipement inconnu du moteur d'alarmes");
                        continue;
                    }
                    let events = worker.book.observe(observation);
                    worker.pending.extend(events);
                }
                worker.tick(now);
            }
            Ok(Some(Message::Uncovered(rotations))) => {
                worker.tick(now);
                let events = worker.book.rotations_uncovered(&rotations, now);
                worker.pending.extend(events);
            }
            Ok(Some(Message::Mailbox(readable))) => {
                worker.tick(now);
                let events = worker.book.mailbox_readable(readable, now);
                worker.pending.extend(events);
            }
            Ok(Some(Message::Sync(reply))) => {
                worker.tick(now);
                let _ = worker.save(now).await;
                let _ = reply.send(());
            }
            Ok(Some(Message::Step {
                alarm,
                step,
                by,
                reply,
            })) => {
                worker.tick(now);
                let outcome = match worker.step(alarm, step, &by, now).await {
                    Ok(events) => {
                        worker.pending.extend(events.iter().cloned());
                        worker
                            .save(now)
                            .await
                            .map(|()| events)
                            .map_err(StepError::Store)
                    }
                    Err(error) => Err(error),
                };
                let _ = reply.send(outcome);
            }
        }
        if !worker.pending.is_empty() || !worker.closed.is_empty() {
            let _ = worker.save(now).await;
        }
        if worker.pending.is_empty() && worker.closed.is_empty() {
            done.store(received, Ordering::SeqCst);
        }
    }
}

impl Worker {
    /// What the held durations and the book's deadlines bring until `now`.
    fn tick(&mut self, now: i64) {
        let events = self.book.tick(now);
        self.pending.extend(events);
    }

    async fn load(state: &AppState) -> Result<Worker, StoreError> {
        let store = &state.store;
        let policy = (*state.escalation.policy).clone();
        let mut worker = Worker {
            store: store.clone(),
            escalation: state.escalation.clone(),
            deliveries: state.deliveries.clone(),
            live: state.live.clone(),
            policy,
            book: Book::new(store.next_alarm_id().await?),
            pending: Vec::new(),
            closed: Vec::new(),
        };
        worker.load_inventory().await?;
        for alarm in store.open_alarms().await? {
            worker.book.restore(alarm);
        }
        Ok(worker)
    }

    /// Every site and equipment, page by page.
    async fn load_inventory(&mut self) -> Result<(), StoreError> {
        let console = Actor::console("alarmes");
        let mut contracts = std::collections::HashMap::new();
        for record in list_all(&self.store, &console, ObjectKind::Contract).await? {
            if let Record::Contract(contract) = record {
                contracts.insert(contract.reference.clone(), contract);
            }
        }
        for record in list_all(&self.store, &console, ObjectKind::Site).await? {
            if let Record::Site(site) = record
                && let Some(contract) = contracts.get(&site.contract)
            {
                self.set_site(contract, &site);
            }
        }
        for record in list_all(&self.store, &console, ObjectKind::Equipment).await? {
            if let Record::Equipment(equipment) = record {
                self.book.set_equipment(equipment);
            }
        }
        Ok(())
    }

    fn set_site(
        &mut self,
        contract: &vigie_domain::inventory::Contract,
        site: &vigie_domain::inventory::Site,
    ) {
        match self.policy.for_site(contract, site) {
            Ok(policy) => self.book.set_site(SiteSetup::new(site, Arc::new(policy))),
            Err(error) => {
                tracing::error!(%error, site = %site.reference, "politique du site refusée : le site garde la politique par défaut");
                self.book
                    .set_site(SiteSetup::new(site, Arc::new(self.policy.clone())));
            }
        }
    }

    /// Makes sure the book knows an equipment (added since the worker started), with its site.
    async fn learn(&mut self, reference: &Reference) -> Result<(), StoreError> {
        if self.book.knows_equipment(reference) {
            return Ok(());
        }
        let console = Actor::console("alarmes");
        let Record::Equipment(equipment) = self
            .store
            .get(&console, ObjectKind::Equipment, reference)
            .await?
        else {
            return Err(StoreError::NotFound);
        };
        if self.book.client_of(&equipment.site).is_none() {
            let Record::Site(site) = self
                .store
                .get(&console, ObjectKind::Site, &equipment.site)
                .await?
            else {
                return Err(StoreError::NotFound);
            };
            let Record::Contract(contract) = self
                .store
                .get(&console, ObjectKind::Contract, &site.contract)
                .await?
            else {
                return Err(StoreError::NotFound);
            };
            self.set_site(&contract, &site);
            // The site's other equipment count for its tolerance (ALR-8).
            let filter = ListFilter {
                site: Some(site.reference.clone()),
                ..ListFilter::default()
            };
            for record in
                list_filtered(&self.store, &console, ObjectKind::Equipment, filter).await?
            {
                if let Record::Equipment(other) = record
                    && !self.book.knows_equipment(&other.reference)
                {
                    self.book.set_equipment(other);
                }
            }
        }
        if !self.book.knows_equipment(reference) {
            self.book.set_equipment(equipment);
        }
        Ok(())
    }

    async fn step(
        &mut self,
        alarm: AlarmId,
        step: Step,
        by: &Reference,
        now: i64,
    ) -> Result<Vec<AlarmEvent>, StepError> {
        let refused = StepError::Refused;
        match step {
            Step::Acknowledge => self
                .book
                .acknowledge(alarm, by, now)
                .map(|e| vec![e])
                .map_err(refused),
            Step::TakeCharge => self.book.take_charge(alarm, by, now).map_err(refused),
            Step::Close(report) => {
                // CLO-2: the manager of the technician who resolved it may close it too.
                let resolver = self.book.alarm(alarm).and_then(|a| a.resolved_by.clone());
                let manager = match resolver {
                    Some(resolver) => match self
                        .store
                        .get(&Actor::console("alarmes"), ObjectKind::Staff, &resolver)
                        .await
                    {
                        Ok(Record::Staff(staff)) => staff.manager,
                        Ok(_) | Err(StoreError::NotFound) => None,
                        Err(error) => return Err(StepError::Store(error)),
                    },
                    None => None,
                };
                let (closed, event) = self
                    .book
                    .close(alarm, by, manager.as_ref(), report, now)
                    .map_err(refused)?;
                self.closed.push(closed);
                Ok(vec![event])
            }
        }
    }

    /// Saves the alarms the pending events touched and the events, arming their escalation
    /// timers and queueing the pages already due in the same transaction; then wakes the
    /// delivery worker.
    async fn save(&mut self, now: i64) -> Result<(), StoreError> {
        if self.pending.is_empty() && self.closed.is_empty() {
            return Ok(());
        }
        let touched: BTreeSet<AlarmId> = self.pending.iter().map(|e| e.alarm).collect();
        let mut alarms: Vec<(Option<Reference>, Alarm)> = Vec::new();
        for alarm in touched
            .iter()
            .filter_map(|id| self.book.alarm(*id))
            .chain(self.closed.iter())
        {
            let Some(site) = &alarm.site else {
                // An alarm about no site (nobody on call) has no client.
                alarms.push((None, alarm.clone()));
                continue;
            };
            match self.book.client_of(site) {
                Some(client) => alarms.push((Some(client.clone()), alarm.clone())),
                None => {
                    tracing::error!(alarm = alarm.id, %site, "site inconnu : alarme non enregistrée")
                }
            }
        }
        match self
            .store
            .save_alarms(&alarms, &self.pending, Some(&self.escalation), now)
            .await
        {
            Ok(saved) => {
                self.pending.clear();
                self.closed.clear();
                if !saved.fired.is_empty() {
                    self.deliveries.wake();
                }
                // Open pages hear of it once per client, whatever the number of alarms.
                let clients: BTreeSet<Option<&Reference>> =
                    alarms.iter().map(|(client, _)| client.as_ref()).collect();
                for client in clients {
                    self.live
                        .publish(crate::web::Topic::Alarms, client.cloned());
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
                tracing::error!(%error, pending = self.pending.len(), "enregistrement des alarmes ; nouvel essai au prochain passage");
                if self.pending.len() > MAX_PENDING_EVENTS {
                    let excess = self.pending.len() - MAX_PENDING_EVENTS;
                    tracing::error!(
                        dropped = excess,
                        "trop d'événements d'alarme en attente : les plus anciens sont perdus"
                    );
                    self.pending.drain(..excess);
                }
                Err(error)
            }
        }
    }
}

async fn list_all(
    store: &Store,
    actor: &Actor,
    kind: ObjectKind,
) -> Result<Vec<Record>, StoreError> {
    list_filtered(store, actor, kind, ListFilter::default()).await
}

/// Every record of `kind` under `filter`, page after page.
async fn list_filtered(
    store: &Store,
    actor: &Actor,
    kind: ObjectKind,
    filter: ListFilter,
) -> Result<Vec<Record>, StoreError> {
    let mut all = Vec::new();
    let mut filter = ListFilter {
        limit: Some(vigie_store::MAX_PAGE_SIZE),
        ..filter
    };
    loop {
        let page = store.list(actor, kind, &filter).await?;
        let full = page.len() as i64 >= vigie_store::MAX_PAGE_SIZE;
        let last = page.last().map(|r| r.reference().clone());
        all.extend(page);
        match (full, last) {
            (true, Some(last)) => filter.after = Some(last),
            _ => return Ok(all),
        }
    }
}
