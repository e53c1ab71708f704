//! The alarms of a fleet (ALR-8, ALR-9, NOT-8, CLO-1, CLO-2, X-1): the [`Engine`]'s
//! transitions become [`Alarm`]s, and each raised alarm is placed: suppressed when its
//! equipment is behind a parent that is down, when it is an offline camera within its site's
//! tolerance (or counted in the site's alarm beyond it), or when a maintenance window of its
//! site covers it; notified otherwise. What suppressed an alarm may end (the parent answers
//! again, the window closes): an alarm whose condition is still present is then placed again,
//! and notified. Recoveries are always recorded, suppressed or not. A Major alarm still
//! unresolved 8 h after it was notified becomes Critical (NOT-8). Time is an input: every
//! call carries its instant, and [`Book::next_wake`] says when the book must be woken.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use jiff::tz::TimeZone;

use crate::Reference;
use crate::alarm::lifecycle::{
    Alarm, AlarmEvent, AlarmId, ClosureReport, EventKind, LifecycleError, SeverityCause,
    Suppression,
};
use crate::alarm::rules::{Condition, ConditionKey};
use crate::alarm::window;
use crate::alarm::{AlarmTransition, Engine, Transition, worse};
use crate::inventory::{
    Equipment, EquipmentKind, MaintenanceWindow, OfflineTolerance, Site, SiteCriticality,
};
use crate::policy::{Policy, Severity};
use crate::supervision::Observation;

/// How far up a chain of parents the book looks: deeper chains are an inventory mistake, and
/// a cycle must not loop.
const MAX_PARENT_DEPTH: usize = 16;

/// When a Major alarm notified at `notified` becomes Critical if still unresolved (NOT-8).
fn major_deadline(policy: &Policy, notified: i64) -> i64 {
    let seconds = policy.alarm.major_to_critical_after.seconds();
    notified.saturating_add(
        i64::try_from(seconds)
            .unwrap_or(i64::MAX / 1000)
            .saturating_mul(1000),
    )
}

/// What the book knows of a site: where its clocks are, its windows and tolerance, and the
/// policy that applies there (after the contract's and the site's overlays).
#[derive(Debug, Clone)]
pub struct SiteSetup {
    pub reference: Reference,
    pub client: Reference,
    pub time_zone: TimeZone,
    pub windows: Vec<MaintenanceWindow>,
    pub criticality: SiteCriticality,
    pub tolerance: OfflineTolerance,
    pub policy: Arc<Policy>,
}

impl SiteSetup {
    /// The setup of an inventory site under `policy` (already overlaid for the site).
    pub fn new(site: &Site, policy: Arc<Policy>) -> SiteSetup {
        SiteSetup {
            reference: site.reference.clone(),
            client: site.client.clone(),
            time_zone: site.time_zone.time_zone(),
            windows: site.maintenance_windows.clone(),
            criticality: site.criticality,
            tolerance: site.offline_tolerance,
            policy,
        }
    }

    /// How many offline cameras the site tolerates without notifying (ALR-8), out of
    /// `cameras`: none on a critical site (the policy's `critical_site_offline_cameras`);
    /// else the site's count, or its percentage of the site's cameras rounded down, a
    /// percentage being capped at the policy's `max_offline_camera_percent`.
    pub fn tolerated(&self, cameras: u32) -> u32 {
        let t = &self.policy.thresholds;
        if self.criticality == SiteCriticality::Critical {
            return t.critical_site_offline_cameras;
        }
        match self.tolerance {
            OfflineTolerance::Count(count) => count,
            OfflineTolerance::PercentHundredths(hundredths) => {
                let capped = hundredths.min(u32::from(t.max_offline_camera_percent) * 100);
                u32::try_from(u64::from(capped) * u64::from(cameras) / 10_000).unwrap_or(u32::MAX)
            }
        }
    }
}

#[derive(Debug)]
struct SiteState {
    setup: SiteSetup,
    /// How many cameras the site has in the inventory.
    cameras: u32,
    /// The cameras offline on their own (not behind a parent that is down), with the alarms
    /// that make them so (unreachable, signal lost).
    offline: BTreeMap<Reference, BTreeSet<AlarmId>>,
    /// The site's alarm, while more cameras are offline than tolerated.
    site_alarm: Option<AlarmId>,
}

/// What the book must do at an instant of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum WakeKind {
    /// The maintenance window that suppressed the alarm closes.
    MaintenanceEnd,
    /// NOT-8: the Major alarm has been notified for `major_to_critical_after`.
    Unresolved,
}

/// Every alarm not yet closed, and what the book needs to place them.
#[derive(Debug, Default)]
pub struct Book {
    engine: Engine,
    sites: HashMap<Reference, SiteState>,
    equipment: HashMap<Reference, Equipment>,
    next_id: AlarmId,
    alarms: BTreeMap<AlarmId, Alarm>,
    /// The alarm of each condition whose tracker is raised.
    by_condition: HashMap<(Reference, ConditionKey), AlarmId>,
    /// Alarms suppressed because this parent is down.
    behind: HashMap<Reference, BTreeSet<AlarmId>>,
    /// The unresolved alarm of each rotation with nobody on call.
    nobody_on_call: BTreeMap<Reference, AlarmId>,
    /// The unresolved alarm of the support mailbox that cannot be read.
    mailbox_unreadable: Option<AlarmId>,
    /// The unresolved alarm of each site whose monitoring path is down (its probe silent).
    monitoring_lost: BTreeMap<Reference, AlarmId>,
    wakes: BTreeSet<(i64, AlarmId, WakeKind)>,
    /// The one-off windows opened from the console that have not ended, by site: kept apart
    /// from the sites' setups (which the inventory replaces), and for sites the book has not
    /// read yet (a site is read when its first observation arrives).
    one_offs: HashMap<Reference, Vec<window::OneOffWindow>>,
}

impl Book {
    /// An empty book whose alarms are numbered from `first_id` (the next number after the
    /// ones already stored).
    pub fn new(first_id: AlarmId) -> Book {
        Book {
            next_id: first_id.max(1),
            ..Book::default()
        }
    }

    /// Sets or replaces what the book knows of a site.
    pub fn set_site(&mut self, setup: SiteSetup) {
        match self.sites.get_mut(&setup.reference) {
            Some(state) => state.setup = setup,
            None => {
                let cameras = self
                    .equipment
                    .values()
                    .filter(|e| e.site == setup.reference && e.kind == EquipmentKind::Camera)
                    .count();
                self.sites.insert(
                    setup.reference.clone(),
                    SiteState {
                        setup,
                        cameras: u32::try_from(cameras).unwrap_or(u32::MAX),
                        offline: BTreeMap::new(),
                        site_alarm: None,
                    },
                );
            }
        }
    }

    /// Sets or replaces an equipment (its site, kind, parent and checks).
    pub fn set_equipment(&mut self, equipment: Equipment) {
        if let Some(old) = self.equipment.get(&equipment.reference)
            && old.kind == EquipmentKind::Camera
            && let Some(site) = self.sites.get_mut(&old.site)
        {
            site.cameras = site.cameras.saturating_sub(1);
        }
        if equipment.kind == EquipmentKind::Camera
            && let Some(site) = self.sites.get_mut(&equipment.site)
        {
            site.cameras = site.cameras.saturating_add(1);
        }
        self.equipment
            .insert(equipment.reference.clone(), equipment);
    }

    /// Whether the book knows this equipment.
    pub fn knows_equipment(&self, equipment: &Reference) -> bool {
        self.equipment.contains_key(equipment)
    }

    /// The client of a site the book knows.
    pub fn client_of(&self, site: &Reference) -> Option<&Reference> {
        self.sites.get(site).map(|state| &state.setup.client)
    }

    pub fn alarm(&self, id: AlarmId) -> Option<&Alarm> {
        self.alarms.get(&id)
    }

    /// The alarms not closed, in the order they were raised.
    pub fn alarms(&self) -> impl Iterator<Item = &Alarm> {
        self.alarms.values()
    }

    /// The number the next alarm will take.
    pub fn next_id(&self) -> AlarmId {
        self.next_id
    }

    /// Takes back an alarm stored before a restart, once its site and equipment are set: a
    /// closed one is ignored; a resolved one waits to be closed; an unresolved one is raised
    /// again in the engine, so that its condition's next readings keep or resolve it rather
    /// than open a second alarm, and keeps its suppression (a parent's, a window's end, a
    /// site's count) and its NOT-8 deadline.
    pub fn restore(&mut self, alarm: Alarm) {
        if alarm.closure.is_some() {
            return;
        }
        self.next_id = self.next_id.max(alarm.id + 1);
        let id = alarm.id;
        if alarm.resolved_at.is_none() {
            let policy = alarm
                .site
                .as_ref()
                .and_then(|site| self.sites.get(site))
                .map(|s| Arc::clone(&s.setup.policy));
            if let (Some(equipment), Some(policy)) = (&alarm.equipment, policy) {
                self.engine.restore(
                    equipment.clone(),
                    alarm.condition.clone(),
                    alarm.severity,
                    policy.alarm_timing(),
                );
                self.by_condition
                    .insert((equipment.clone(), alarm.condition.clone()), id);
                if alarm.severity == Severity::Major
                    && let Some(notified) = alarm.notified_at
                {
                    self.wakes.insert((
                        major_deadline(&policy, notified),
                        id,
                        WakeKind::Unresolved,
                    ));
                }
            }
            match &alarm.suppression {
                Some(Suppression::Parent { parent }) => {
                    self.behind.entry(parent.clone()).or_default().insert(id);
                }
                Some(Suppression::Maintenance { until, .. }) => {
                    self.wakes.insert((*until, id, WakeKind::MaintenanceEnd));
                }
                Some(Suppression::Tolerance { site_alarm, .. }) => {
                    if let (Some(camera), Some(state)) = (
                        &alarm.equipment,
                        alarm.site.as_ref().and_then(|s| self.sites.get_mut(s)),
                    ) {
                        state.offline.entry(camera.clone()).or_default().insert(id);
                        if site_alarm.is_some() {
                            state.site_alarm = *site_alarm;
                        }
                    }
                }
                None => {}
            }
            if alarm.condition.condition == Condition::CamerasOffline
                && let Some(state) = alarm.site.as_ref().and_then(|s| self.sites.get_mut(s))
            {
                state.site_alarm = Some(id);
            }
            if alarm.condition.condition == Condition::MailboxUnreadable {
                self.mailbox_unreadable = Some(id);
            }
            if alarm.condition.condition == Condition::MonitoringLost
                && let Some(site) = &alarm.site
            {
                self.monitoring_lost.insert(site.clone(), id);
            }
            if alarm.condition.condition == Condition::NobodyOnCall
                && let Some(rotation) = alarm
                    .condition
                    .part
                    .as_deref()
                    .and_then(|part| Reference::parse(part).ok())
            {
                self.nobody_on_call.insert(rotation, id);
            }
        }
        self.alarms.insert(id, alarm);
    }

    /// Reads an observation, after what the held durations bring until its instant.
    pub fn observe(&mut self, observation: &Observation) -> Vec<AlarmEvent> {
        let mut events = self.tick(observation.at);
        let Some(equipment) = self.equipment.get(&observation.equipment) else {
            return events;
        };
        let Some(site) = self.sites.get(&equipment.site) else {
            return events;
        };
        let policy = Arc::clone(&site.setup.policy);
        let transitions = self.engine.observe(&policy, equipment, observation);
        for transition in transitions {
            events.extend(self.apply(transition));
        }
        events.extend(self.release_if_up(&observation.equipment, observation.at));
        events
    }

    /// What the held durations and the book's own deadlines bring until `now`, in the order
    /// of their instants (the engine's first at the same instant: a condition that clears as
    /// a window closes is resolved, not notified).
    pub fn tick(&mut self, now: i64) -> Vec<AlarmEvent> {
        let mut events = Vec::new();
        loop {
            let engine = self.engine.next_wake().filter(|at| *at <= now);
            let own = self.wakes.first().copied().filter(|(at, ..)| *at <= now);
            match (engine, own) {
                (Some(at), own) if own.is_none_or(|(own_at, ..)| at <= own_at) => {
                    for transition in self.engine.tick(at) {
                        let equipment = transition.equipment.clone();
                        events.extend(self.apply(transition));
                        events.extend(self.release_if_up(&equipment, at));
                    }
                }
                (_, Some(wake)) => {
                    self.wakes.remove(&wake);
                    events.extend(self.wake(wake));
                }
                (None, None) => break,
                (Some(_), None) => unreachable!("matched by the first arm"),
            }
        }
        events
    }

    /// The earliest instant at which the book has something to do without an observation.
    pub fn next_wake(&self) -> Option<i64> {
        let own = self.wakes.first().map(|(at, ..)| *at);
        match (self.engine.next_wake(), own) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// How many conditions the engine tracks.
    pub fn tracked(&self) -> usize {
        self.engine.tracked()
    }

    fn open(&mut self, id: AlarmId) -> Result<&mut Alarm, LifecycleError> {
        self.alarms
            .get_mut(&id)
            .ok_or_else(|| LifecycleError::Unknown(format!("aucune alarme ouverte n°{id}")))
    }

    pub fn acknowledge(
        &mut self,
        id: AlarmId,
        by: &Reference,
        at: i64,
    ) -> Result<AlarmEvent, LifecycleError> {
        self.open(id)?.acknowledge(by, at)
    }

    pub fn take_charge(
        &mut self,
        id: AlarmId,
        by: &Reference,
        at: i64,
    ) -> Result<Vec<AlarmEvent>, LifecycleError> {
        self.open(id)?.take_charge(by, at)
    }

    /// Closes a resolved alarm (CLO-1, CLO-2); a closed alarm leaves the book.
    pub fn close(
        &mut self,
        id: AlarmId,
        by: &Reference,
        resolver_manager: Option<&Reference>,
        report: ClosureReport,
        at: i64,
    ) -> Result<(Alarm, AlarmEvent), LifecycleError> {
        let event = self.open(id)?.close(by, resolver_manager, report, at)?;
        let alarm = self.alarms.remove(&id).expect("the alarm was just closed");
        Ok((alarm, event))
    }

    fn new_alarm(
        &mut self,
        site: Option<Reference>,
        equipment: Option<Reference>,
        condition: ConditionKey,
        severity: Severity,
        flapping: bool,
        at: i64,
    ) -> (AlarmId, AlarmEvent) {
        let id = self.next_id;
        self.next_id += 1;
        let (alarm, event) = Alarm::raised(id, site, equipment, condition, severity, flapping, at);
        self.alarms.insert(id, alarm);
        (id, event)
    }

    /// Turns one transition of the engine into alarm events.
    fn apply(&mut self, transition: AlarmTransition) -> Vec<AlarmEvent> {
        let AlarmTransition {
            equipment,
            condition,
            transition,
        } = transition;
        let key = (equipment.clone(), condition.clone());
        let mut events = Vec::new();
        match transition {
            Transition::Raised {
                at,
                severity,
                flapping,
            } => {
                let Some(site) = self.equipment.get(&equipment).map(|e| e.site.clone()) else {
                    return events;
                };
                let (id, event) = self.new_alarm(
                    Some(site),
                    Some(equipment.clone()),
                    condition,
                    severity,
                    flapping,
                    at,
                );
                self.by_condition.insert(key, id);
                events.push(event);
                events.extend(self.place(id, at));
            }
            Transition::SeverityChanged { at, to, .. } => {
                let Some(id) = self.by_condition.get(&key).copied() else {
                    return events;
                };
                if let Some(alarm) = self.alarms.get_mut(&id) {
                    events.extend(alarm.change_severity(to, SeverityCause::Worsened, at));
                }
                events.extend(self.site_severity(&equipment, at));
            }
            Transition::FlappingStarted { at } | Transition::FlappingEnded { at } => {
                let started = matches!(transition, Transition::FlappingStarted { .. });
                if let Some(alarm) = self
                    .by_condition
                    .get(&key)
                    .and_then(|id| self.alarms.get_mut(id))
                {
                    alarm.flapping = started;
                    let kind = if started {
                        EventKind::FlappingStarted
                    } else {
                        EventKind::FlappingEnded
                    };
                    events.push(alarm.event(at, None, kind));
                }
            }
            Transition::Cleared { at, since } => {
                let Some(id) = self.by_condition.remove(&key) else {
                    return events;
                };
                events.extend(self.resolve(id, at, since));
            }
        }
        events
    }

    /// Records that an alarm's condition cleared, and what it changes for its site.
    fn resolve(&mut self, id: AlarmId, at: i64, since: i64) -> Vec<AlarmEvent> {
        let mut events = Vec::new();
        let Some(alarm) = self.alarms.get_mut(&id) else {
            return events;
        };
        events.extend(alarm.resolve(at, since));
        if let Some(Suppression::Parent { parent }) = &alarm.suppression
            && let Some(behind) = self.behind.get_mut(parent)
        {
            behind.remove(&id);
            if behind.is_empty() {
                self.behind.remove(parent);
            }
        }
        let (site, equipment) = (alarm.site.clone(), alarm.equipment.clone());
        if let Some(camera) = equipment
            && let Some(site) = site
            && let Some(state) = self.sites.get_mut(&site)
            && let Some(alarms) = state.offline.get_mut(&camera)
        {
            alarms.remove(&id);
            if alarms.is_empty() {
                state.offline.remove(&camera);
                events.extend(self.cameras_changed(&site, at));
            }
        }
        events
    }

    /// The site's alarm follows its offline cameras: it resolves once they are within the
    /// tolerance again, else it lists them.
    fn cameras_changed(&mut self, site: &Reference, at: i64) -> Vec<AlarmEvent> {
        let mut events = Vec::new();
        let Some(state) = self.sites.get(site) else {
            return events;
        };
        let Some(id) = state.site_alarm else {
            return events;
        };
        let offline = u32::try_from(state.offline.len()).unwrap_or(u32::MAX);
        let tolerated = state.setup.tolerated(state.cameras);
        let cameras: Vec<Reference> = state.offline.keys().cloned().collect();
        if offline <= tolerated {
            if let Some(state) = self.sites.get_mut(site) {
                state.site_alarm = None;
            }
            events.extend(self.resolve(id, at, at));
        } else if let Some(alarm) = self.alarms.get_mut(&id)
            && alarm.cameras != cameras
        {
            alarm.cameras = cameras.clone();
            events.push(alarm.event(at, None, EventKind::CamerasChanged { cameras }));
        }
        events
    }

    /// A site's alarm takes the worst severity of its cameras.
    fn site_severity(&mut self, camera: &Reference, at: i64) -> Vec<AlarmEvent> {
        let Some(site) = self.equipment.get(camera).map(|e| e.site.clone()) else {
            return Vec::new();
        };
        let Some(state) = self.sites.get(&site) else {
            return Vec::new();
        };
        let (Some(id), true) = (state.site_alarm, state.offline.contains_key(camera)) else {
            return Vec::new();
        };
        let worst = self.worst_offline(&site);
        self.alarms
            .get_mut(&id)
            .and_then(|alarm| alarm.change_severity(worst, SeverityCause::Worsened, at))
            .into_iter()
            .collect()
    }

    fn worst_offline(&self, site: &Reference) -> Severity {
        let Some(state) = self.sites.get(site) else {
            return Severity::Minor;
        };
        state
            .offline
            .values()
            .flatten()
            .filter_map(|id| self.alarms.get(id))
            .map(|alarm| alarm.severity)
            .fold(Severity::Minor, |a, b| if worse(b, a) { b } else { a })
    }

    /// The nearest ancestor of `equipment` that is down (its reachability holds).
    fn parent_down(&self, equipment: &Reference) -> Option<Reference> {
        let unreachable = ConditionKey::whole(Condition::Unreachable);
        let mut seen = BTreeSet::new();
        let mut current = self.equipment.get(equipment)?.parent.clone();
        while let Some(parent) = current {
            if seen.len() >= MAX_PARENT_DEPTH || !seen.insert(parent.clone()) {
                return None;
            }
            if self.engine.holds(&parent, &unreachable) {
                return Some(parent);
            }
            current = self.equipment.get(&parent).and_then(|e| e.parent.clone());
        }
        None
    }

    /// Decides whether a raised, unresolved alarm is suppressed (and why) or notified.
    fn place(&mut self, id: AlarmId, at: i64) -> Vec<AlarmEvent> {
        let mut events = Vec::new();
        let Some(alarm) = self.alarms.get(&id) else {
            return events;
        };
        if alarm.resolved_at.is_some() || alarm.notified_at.is_some() {
            return events;
        }
        let Some(site) = alarm.site.clone() else {
            // An alarm about no site (nobody on call) has nothing that holds it back.
            return self.notify(id, at, None);
        };
        let equipment = alarm.equipment.clone();
        let condition = alarm.condition.condition;
        // 1. Behind a parent that is down: not a failure of its own.
        if let Some(equipment) = &equipment
            && let Some(parent) = self.parent_down(equipment)
        {
            self.behind.entry(parent.clone()).or_default().insert(id);
            events.extend(self.suppress(id, at, Suppression::Parent { parent }));
            return events;
        }
        // 2. An offline camera counts against its site's tolerance.
        let camera_offline =
            equipment.as_ref().is_some_and(|e| {
                self.equipment
                    .get(e)
                    .is_some_and(|e| e.kind == EquipmentKind::Camera)
            }) && matches!(condition, Condition::Unreachable | Condition::SignalLost);
        let counted = match equipment.as_ref().filter(|_| camera_offline) {
            Some(camera) => self.sites.get_mut(&site).and_then(|state| {
                let tolerated = state.setup.tolerated(state.cameras);
                (tolerated > 0).then(|| {
                    state.offline.entry(camera.clone()).or_default().insert(id);
                    let offline = u32::try_from(state.offline.len()).unwrap_or(u32::MAX);
                    (camera.clone(), offline, tolerated, state.site_alarm)
                })
            }),
            None => None,
        };
        if let Some((camera, offline, tolerated, existing)) = counted {
            // Beyond the tolerance, the site's alarm counts the camera.
            let site_alarm = match existing {
                _ if offline <= tolerated => None,
                Some(site_alarm) => {
                    events.extend(self.cameras_changed(&site, at));
                    events.extend(self.site_severity(&camera, at));
                    Some(site_alarm)
                }
                None => {
                    let (site_alarm, raised) = self.raise_site_alarm(&site, at);
                    events.extend(raised);
                    Some(site_alarm)
                }
            };
            events.extend(self.suppress(
                id,
                at,
                Suppression::Tolerance {
                    offline,
                    tolerated,
                    site_alarm,
                },
            ));
            return events;
        }
        // 3. A maintenance window of its site, recurring or one-off (on the site or on this
        // equipment).
        if let Some(cover) = self.cover(&site, equipment.as_ref(), at) {
            events.extend(self.hold(id, at, cover));
            return events;
        }
        // 4. Notified.
        let deadline = self
            .sites
            .get(&site)
            .map(|state| major_deadline(&state.setup.policy, at));
        events.extend(self.notify(id, at, deadline));
        events
    }

    /// Sends the alarm on to notification; a Major one becomes Critical at `deadline` if still
    /// unresolved (NOT-8).
    fn notify(&mut self, id: AlarmId, at: i64, deadline: Option<i64>) -> Vec<AlarmEvent> {
        let Some(alarm) = self.alarms.get_mut(&id) else {
            return Vec::new();
        };
        alarm.notified_at = Some(at);
        alarm.suppression = None;
        let severity = alarm.severity;
        let event = alarm.event(at, None, EventKind::Notified { severity });
        if severity == Severity::Major
            && let Some(due) = deadline
        {
            self.wakes.insert((due, id, WakeKind::Unresolved));
        }
        vec![event]
    }

    /// Follows the on-call rotations with nobody on call at `at` (the issue: "a rotation with
    /// nobody on call is itself an alarm"): raises a Major alarm, notified at once, for a
    /// rotation newly in `uncovered`, and resolves the alarm of a rotation no longer in it
    /// (covered again, or deleted). Such an alarm is about no site: no client sees it, and no
    /// maintenance window or NOT-8 deadline applies to it.
    pub fn rotations_uncovered(&mut self, uncovered: &[Reference], at: i64) -> Vec<AlarmEvent> {
        let mut events = Vec::new();
        let wanted: BTreeSet<&Reference> = uncovered.iter().collect();
        let covered: Vec<(Reference, AlarmId)> = self
            .nobody_on_call
            .iter()
            .filter(|(rotation, _)| !wanted.contains(rotation))
            .map(|(rotation, id)| (rotation.clone(), *id))
            .collect();
        for (rotation, id) in covered {
            self.nobody_on_call.remove(&rotation);
            if let Some(alarm) = self.alarms.get_mut(&id) {
                events.extend(alarm.resolve(at, at));
            }
        }
        for rotation in wanted {
            if self.nobody_on_call.contains_key(rotation) {
                continue;
            }
            let condition = ConditionKey {
                condition: Condition::NobodyOnCall,
                part: Some(rotation.to_string()),
            };
            let (id, event) = self.new_alarm(None, None, condition, Severity::Major, false, at);
            self.nobody_on_call.insert(rotation.clone(), id);
            events.push(event);
            events.extend(self.notify(id, at, None));
        }
        events
    }

    /// Whether the support mailbox can be read (SAV-1): one it cannot is a Major alarm about no
    /// site until it can again (then resolved), raised once however many failures it sees.
    pub fn mailbox_readable(&mut self, readable: bool, at: i64) -> Vec<AlarmEvent> {
        match (readable, self.mailbox_unreadable) {
            (true, Some(id)) => {
                self.mailbox_unreadable = None;
                let mut events = Vec::new();
                if let Some(alarm) = self.alarms.get_mut(&id) {
                    events.extend(alarm.resolve(at, at));
                }
                events
            }
            (false, None) => {
                let condition = ConditionKey::whole(Condition::MailboxUnreadable);
                let (id, event) = self.new_alarm(None, None, condition, Severity::Major, false, at);
                self.mailbox_unreadable = Some(id);
                let mut events = vec![event];
                events.extend(self.notify(id, at, None));
                events
            }
            _ => Vec::new(),
        }
    }

    /// The monitoring path of `site` is down (`lost`: its probe fell silent) or back. A site
    /// going dark is an alarm of the site (`monitoring_lost`, at the policy's
    /// `monitoring_lost_severity`), placed as any site's alarm (a maintenance window holds it
    /// back); it resolves when the probe reports again. Unknown sites are ignored.
    pub fn monitoring_lost(&mut self, site: &Reference, lost: bool, at: i64) -> Vec<AlarmEvent> {
        let Some(state) = self.sites.get(site) else {
            return Vec::new();
        };
        match (lost, self.monitoring_lost.get(site).copied()) {
            (false, Some(id)) => {
                self.monitoring_lost.remove(site);
                let mut events = Vec::new();
                if let Some(alarm) = self.alarms.get_mut(&id) {
                    events.extend(alarm.resolve(at, at));
                }
                events
            }
            (true, None) => {
                let severity = state.setup.policy.alarm.monitoring_lost_severity;
                let condition = ConditionKey::whole(Condition::MonitoringLost);
                let (id, event) =
                    self.new_alarm(Some(site.clone()), None, condition, severity, false, at);
                self.monitoring_lost.insert(site.clone(), id);
                let mut events = vec![event];
                events.extend(self.place(id, at));
                events
            }
            _ => Vec::new(),
        }
    }

    /// Raises the site's alarm over its offline cameras (ALR-8), at the worst of their
    /// severities, and places it (a maintenance window may hold it back).
    fn raise_site_alarm(&mut self, site: &Reference, at: i64) -> (AlarmId, Vec<AlarmEvent>) {
        let cameras: Vec<Reference> = self
            .sites
            .get(site)
            .map(|state| state.offline.keys().cloned().collect())
            .unwrap_or_default();
        let worst = self.worst_offline(site);
        let (id, event) = self.new_alarm(
            Some(site.clone()),
            None,
            ConditionKey::whole(Condition::CamerasOffline),
            worst,
            false,
            at,
        );
        let mut events = vec![event];
        // ALR-8: the alarm names its cameras from its first line (pages, ticket, timeline).
        if let Some(alarm) = self.alarms.get_mut(&id) {
            alarm.cameras = cameras.clone();
            if !cameras.is_empty() {
                events.push(alarm.event(at, None, EventKind::CamerasChanged { cameras }));
            }
        }
        if let Some(state) = self.sites.get_mut(site) {
            state.site_alarm = Some(id);
        }
        events.extend(self.place(id, at));
        (id, events)
    }

    /// The window of `site` covering an alarm about `equipment` at `at`, if any.
    fn cover(
        &self,
        site: &Reference,
        equipment: Option<&Reference>,
        at: i64,
    ) -> Option<window::Cover> {
        let state = self.sites.get(site)?;
        let one_offs = self.one_offs.get(site).map_or(&[][..], Vec::as_slice);
        window::covering_with(
            &state.setup.windows,
            one_offs,
            equipment,
            &state.setup.time_zone,
            at,
        )
    }

    /// Replaces the one-off windows of every site by `windows` (those not ended, opened from
    /// the console), at `at`. The alarms a window held and that nothing holds any more are
    /// placed again (notified, unless another reason holds them); those still held get the
    /// cover's new end. A window opened after an alarm was notified does not take the
    /// notification back: acknowledging the alarm is what stops its escalation.
    pub fn set_one_off_windows(
        &mut self,
        windows: Vec<window::OneOffWindow>,
        at: i64,
    ) -> Vec<AlarmEvent> {
        let mut by_site: HashMap<Reference, Vec<window::OneOffWindow>> = HashMap::new();
        for window in windows {
            by_site.entry(window.site.clone()).or_default().push(window);
        }
        let changed: BTreeSet<Reference> = by_site
            .iter()
            .filter(|(site, new)| self.one_offs.get(*site) != Some(*new))
            .map(|(site, _)| site.clone())
            .chain(
                self.one_offs
                    .keys()
                    .filter(|site| !by_site.contains_key(*site))
                    .cloned(),
            )
            .collect();
        self.one_offs = by_site;
        let held: Vec<(AlarmId, Reference, Option<Reference>)> = self
            .alarms
            .values()
            .filter(|alarm| alarm.resolved_at.is_none() && alarm.notified_at.is_none())
            .filter_map(|alarm| match (&alarm.site, &alarm.suppression) {
                (Some(site), Some(Suppression::Maintenance { .. })) if changed.contains(site) => {
                    Some((alarm.id, site.clone(), alarm.equipment.clone()))
                }
                _ => None,
            })
            .collect();
        let mut events = Vec::new();
        for (id, site, equipment) in held {
            match self.cover(&site, equipment.as_ref(), at) {
                // The same cover suppresses nothing anew (`suppress` compares).
                Some(cover) => events.extend(self.hold(id, at, cover)),
                None => {
                    if let Some(alarm) = self.alarms.get_mut(&id) {
                        alarm.suppression = None;
                    }
                    events.extend(self.place(id, at));
                }
            }
        }
        events
    }

    /// Holds the alarm under a window's cover until it ends (then it is placed again).
    fn hold(&mut self, id: AlarmId, at: i64, cover: window::Cover) -> Vec<AlarmEvent> {
        self.wakes
            .insert((cover.until, id, WakeKind::MaintenanceEnd));
        self.suppress(
            id,
            at,
            Suppression::Maintenance {
                window: cover.label,
                until: cover.until,
            },
        )
    }

    fn suppress(&mut self, id: AlarmId, at: i64, suppression: Suppression) -> Vec<AlarmEvent> {
        let Some(alarm) = self.alarms.get_mut(&id) else {
            return Vec::new();
        };
        if alarm.suppression.as_ref() == Some(&suppression) {
            return Vec::new();
        }
        alarm.suppression = Some(suppression.clone());
        vec![alarm.event(at, None, EventKind::Suppressed { suppression })]
    }

    /// When a parent answers again, the alarms behind it are placed again: those whose
    /// condition is still present raise on their own (or find another reason to wait).
    fn release_if_up(&mut self, parent: &Reference, at: i64) -> Vec<AlarmEvent> {
        let unreachable = ConditionKey::whole(Condition::Unreachable);
        if !self.behind.contains_key(parent) || self.engine.holds(parent, &unreachable) {
            return Vec::new();
        }
        let ids = self.behind.remove(parent).unwrap_or_default();
        let mut events = Vec::new();
        for id in ids {
            if let Some(alarm) = self.alarms.get_mut(&id) {
                alarm.suppression = None;
            }
            events.extend(self.place(id, at));
        }
        events
    }

    fn wake(&mut self, (at, id, kind): (i64, AlarmId, WakeKind)) -> Vec<AlarmEvent> {
        let Some(alarm) = self.alarms.get_mut(&id) else {
            return Vec::new();
        };
        if alarm.resolved_at.is_some() {
            return Vec::new();
        }
        match kind {
            WakeKind::MaintenanceEnd => {
                if !matches!(alarm.suppression, Some(Suppression::Maintenance { until, .. }) if until == at)
                {
                    return Vec::new();
                }
                alarm.suppression = None;
                self.place(id, at)
            }
            WakeKind::Unresolved => {
                if alarm.severity != Severity::Major {
                    return Vec::new();
                }
                alarm
                    .change_severity(Severity::Critical, SeverityCause::Unresolved, at)
                    .into_iter()
                    .collect()
            }
        }
    }
}
