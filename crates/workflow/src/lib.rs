//! The application layer: the one workflow between the pure domain and the edges. Both
//! `vigie serve` (its alarm worker, fed by HTTP, polling, traps and loops) and `vigie simulate`
//! (a scenario on a virtual clock) drive the same [`Workflow`]: observation → alarm book →
//! alarm events → saved with their escalation timers and tickets. It takes `now` and inputs,
//! reads and writes through the store, and holds the orchestration decisions; the drivers keep
//! only what is theirs (HTTP, channels and loops; the scenario, its clock and its timeline).
//!
//! Invariant: neither the server nor the simulator calls the alarm `Book` directly; a change of
//! how an observation becomes an alarm, a ticket or a page is made here, and the replay of the
//! scenarios proves both drivers get it.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use vigie_domain::Reference;
use vigie_domain::access::Actor;
use vigie_domain::alarm::book::{Book, SiteSetup};
use vigie_domain::alarm::lifecycle::{Alarm, AlarmEvent, AlarmId, ClosureReport, LifecycleError};
use vigie_domain::inventory::{Contract, ContractOption, ObjectKind, Record, Site};
use vigie_domain::supervision::Observation;
use vigie_store::{Escalation, FiredTimer, ListFilter, Store, StoreError, System, TicketChange};

/// Events kept for saving while the database refuses them; beyond, the oldest are dropped with
/// an error in the log (the server retries on its next pass; memory stays bounded).
pub const MAX_PENDING_EVENTS: usize = 1_000_000;

/// The name under which the workflow reads the inventory (audit and logs).
const READER: &str = "alarmes";

/// A person's step on an alarm (CLO-1, CLO-2).
#[derive(Debug, Clone)]
pub enum Step {
    Acknowledge,
    TakeCharge,
    Close(ClosureReport),
}

/// Why a step was not taken.
#[derive(Debug)]
pub enum StepError {
    /// The alarm's life refuses it (already closed, not resolved, not allowed to close…).
    Refused(LifecycleError),
    Store(StoreError),
}

/// What one save did: the alarms saved, the escalation steps that fell due with them, and the
/// tickets that followed (opened, taken in charge, resolved).
#[derive(Debug, Default)]
pub struct Saved {
    /// The clients whose alarms changed (`None`: alarms about no client, e.g. nobody on call).
    pub clients: BTreeSet<Option<Reference>>,
    pub fired: Vec<FiredTimer>,
    pub tickets: Vec<TicketChange>,
}

/// The alarm book of every site and equipment, with the events it has yet to save.
pub struct Workflow {
    store: System,
    escalation: Arc<Escalation>,
    book: Book,
    /// SUP-4: the sites whose contract lacks the supervision option, and their equipment:
    /// their observations raise nothing and page nobody.
    unsupervised_sites: HashSet<Reference>,
    unsupervised_equipment: HashSet<Reference>,
    /// Events not saved yet, in order.
    pending: Vec<AlarmEvent>,
    /// Alarms closed since the last save (they have left the book).
    closed: Vec<Alarm>,
}

impl std::fmt::Debug for Workflow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workflow")
            .field("tracked", &self.book.tracked())
            .field("pending", &self.pending.len())
            .finish()
    }
}

impl Workflow {
    /// Reads the inventory and takes back every alarm not closed, so that a restart neither
    /// loses nor doubles an alarm.
    pub async fn load(store: System, escalation: Arc<Escalation>) -> Result<Workflow, StoreError> {
        let first_id = store.next_alarm_id().await?;
        let mut workflow = Workflow {
            store,
            escalation,
            book: Book::new(first_id),
            unsupervised_sites: HashSet::new(),
            unsupervised_equipment: HashSet::new(),
            pending: Vec::new(),
            closed: Vec::new(),
        };
        workflow.load_inventory().await?;
        for alarm in workflow.store.open_alarms().await? {
            workflow.book.restore(alarm);
        }
        Ok(workflow)
    }

    /// Takes the policy now in force (issue 26, item 4); [`Workflow::load_inventory`] then
    /// gives each site its policy under it. Alarms already open keep what they have.
    pub fn set_escalation(&mut self, escalation: Arc<Escalation>) {
        self.escalation = escalation;
    }

    /// Reads every site and equipment again, page by page: changed parents, windows,
    /// tolerances and overlays take effect.
    pub async fn load_inventory(&mut self) -> Result<(), StoreError> {
        let console = Actor::console(READER);
        self.unsupervised_sites.clear();
        self.unsupervised_equipment.clear();
        let mut contracts = HashMap::new();
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
                if self.unsupervised_sites.contains(&equipment.site) {
                    self.unsupervised_equipment.insert(equipment.reference);
                } else {
                    self.book.set_equipment(equipment);
                }
            }
        }
        Ok(())
    }

    /// Reads the one-off windows not ended (opened from the console, ALR-9) and hands them to
    /// the book at `now`: an alarm a window no longer holds is notified, one a window holds
    /// longer waits for the new end. Called at start, when a person opens or ends a window,
    /// and with each inventory refresh (a window changed by another process).
    pub async fn load_windows(&mut self, now: i64) -> Result<Vec<AlarmEvent>, StoreError> {
        let windows = self.store.live_windows(now).await?;
        let mut events = self.book.tick(now);
        events.extend(self.book.set_one_off_windows(windows, now));
        Ok(self.queue(events))
    }

    /// Whether the site is supervised (SUP-4: its contract has the supervision option).
    pub fn supervises(&self, site: &Reference) -> bool {
        !self.unsupervised_sites.contains(site)
    }

    /// A site with the policy that applies there (contract level, options, overlays). An
    /// overlay that does not apply leaves the site under the base policy, with an error in the
    /// log: a site is never left unwatched because of its overlay.
    fn set_site(&mut self, contract: &Contract, site: &Site) {
        // SUP-4: a site without the supervision option is not watched: nothing raised.
        if !contract.has(ContractOption::Supervision) {
            self.unsupervised_sites.insert(site.reference.clone());
            return;
        }
        self.unsupervised_sites.remove(&site.reference);
        let base = &self.escalation.policy;
        let policy = match base.for_site(contract, site) {
            Ok(policy) => policy,
            Err(error) => {
                tracing::error!(%error, site = %site.reference, "politique du site refusée : le site garde la politique par défaut");
                (**base).clone()
            }
        };
        self.book.set_site(SiteSetup::new(site, Arc::new(policy)));
    }

    /// Makes sure the book knows an equipment (added since the workflow was loaded), with its
    /// site and the site's other equipment (they count for its tolerance, ALR-8). `false` for
    /// an equipment of a site that is not supervised (SUP-4).
    async fn learn(&mut self, reference: &Reference) -> Result<bool, StoreError> {
        if self.book.knows_equipment(reference) {
            return Ok(true);
        }
        if self.unsupervised_equipment.contains(reference) {
            return Ok(false);
        }
        let console = Actor::console(READER);
        let Record::Equipment(equipment) = self
            .store
            .get(&console, ObjectKind::Equipment, reference)
            .await?
        else {
            return Err(StoreError::NotFound);
        };
        if self.unsupervised_sites.contains(&equipment.site) {
            self.unsupervised_equipment.insert(equipment.reference);
            return Ok(false);
        }
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
            if !self.supervises(&site.reference) {
                self.unsupervised_equipment.insert(equipment.reference);
                return Ok(false);
            }
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
        Ok(true)
    }

    /// Observations already recorded by the store (SUP-1's single entry point) meet the alarm
    /// rules, then the held durations run until `now`. An equipment the store does not know is
    /// skipped with a warning. Returns the events, which wait for [`Workflow::save`].
    pub async fn observe(&mut self, observations: &[Observation], now: i64) -> Vec<AlarmEvent> {
        let mut events = Vec::new();
        for observation in observations {
            match self.learn(&observation.equipment).await {
                Ok(true) => events.extend(self.book.observe(observation)),
                // SUP-4: recorded by the store, watched by nobody.
                Ok(false) => {}
                Err(error) => {
                    tracing::warn!(%error, equipment = %observation.equipment, "équipement inconnu du moteur d'alarmes");
                }
            }
        }
        events.extend(self.book.tick(now));
        self.queue(events)
    }

    /// What the held durations and the book's deadlines (maintenance ends, NOT-8's 8 hours)
    /// bring until `now`.
    pub fn tick(&mut self, now: i64) -> Vec<AlarmEvent> {
        let events = self.book.tick(now);
        self.queue(events)
    }

    /// The rotations with nobody on call now (all of them: one missing is covered), NOT-1.
    pub fn rotations_uncovered(&mut self, rotations: &[Reference], now: i64) -> Vec<AlarmEvent> {
        let mut events = self.book.tick(now);
        events.extend(self.book.rotations_uncovered(rotations, now));
        self.queue(events)
    }

    /// The monitoring path of `site` is down (`lost`: its probe fell silent) or back: the site
    /// going dark is an alarm of its own (not its equipment's), resolved when the probe reports
    /// again. A site not supervised (SUP-4) or unknown is ignored.
    pub fn monitoring(&mut self, site: &Reference, lost: bool, now: i64) -> Vec<AlarmEvent> {
        let mut events = self.book.tick(now);
        events.extend(self.book.monitoring_lost(site, lost, now));
        self.queue(events)
    }

    /// Whether the support mailbox can be read (SAV-1): one that cannot is an alarm.
    pub fn mailbox_readable(&mut self, readable: bool, now: i64) -> Vec<AlarmEvent> {
        let mut events = self.book.tick(now);
        events.extend(self.book.mailbox_readable(readable, now));
        self.queue(events)
    }

    /// A person's step on an alarm, after what time brought until `now`. Returns every event,
    /// the tick's then the step's; a refused step leaves the tick's events queued.
    pub async fn step(
        &mut self,
        alarm: AlarmId,
        step: Step,
        by: &Reference,
        now: i64,
    ) -> Result<Vec<AlarmEvent>, (Vec<AlarmEvent>, StepError)> {
        let before = self.tick(now);
        let taken = match step {
            Step::Acknowledge => self
                .book
                .acknowledge(alarm, by, now)
                .map(|event| vec![event])
                .map_err(StepError::Refused),
            Step::TakeCharge => self
                .book
                .take_charge(alarm, by, now)
                .map_err(StepError::Refused),
            Step::Close(report) => self.close(alarm, by, report, now).await,
        };
        match taken {
            Ok(events) => {
                let events = self.queue(events);
                Ok(before.into_iter().chain(events).collect())
            }
            Err(error) => Err((before, error)),
        }
    }

    /// CLO-2: the technician who resolved it, or that technician's manager, closes it.
    async fn close(
        &mut self,
        alarm: AlarmId,
        by: &Reference,
        report: ClosureReport,
        now: i64,
    ) -> Result<Vec<AlarmEvent>, StepError> {
        let resolver = self.book.alarm(alarm).and_then(|a| a.resolved_by.clone());
        let manager = match resolver {
            Some(resolver) => match self
                .store
                .get(&Actor::console(READER), ObjectKind::Staff, &resolver)
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
            .map_err(StepError::Refused)?;
        self.closed.push(closed);
        Ok(vec![event])
    }

    fn queue(&mut self, events: Vec<AlarmEvent>) -> Vec<AlarmEvent> {
        self.pending.extend(events.iter().cloned());
        events
    }

    /// Whether events or closed alarms wait for [`Workflow::save`].
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty() || !self.closed.is_empty()
    }

    /// The next instant the book must be ticked (a hold running out, a window ending).
    pub fn next_wake(&self) -> Option<i64> {
        self.book.next_wake()
    }

    /// An alarm in the book (not closed).
    pub fn alarm(&self, id: AlarmId) -> Option<&Alarm> {
        self.book.alarm(id)
    }

    /// Saves the alarms the pending events touched and the events, in one transaction that
    /// also arms their escalation timers, fires those already due (queueing their pages and
    /// opening their tickets) and makes their tickets follow their steps. On failure nothing is
    /// lost: the events stay pending for the next save (at most [`MAX_PENDING_EVENTS`]).
    pub async fn save(&mut self, now: i64) -> Result<Saved, StoreError> {
        if !self.has_pending() {
            return Ok(Saved::default());
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
                Ok(Saved {
                    clients: alarms.into_iter().map(|(client, _)| client).collect(),
                    fired: saved.fired,
                    tickets: saved.tickets,
                })
            }
            Err(error) => {
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
