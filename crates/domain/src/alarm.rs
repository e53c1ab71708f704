//! Alarm conditions over time (ALR-1…ALR-7, NOT-8): how the readings of one condition of one
//! equipment (a camera unreachable, a disk over its threshold…) become at most one alarm. A
//! condition must be present for its hold duration before the alarm is raised (ALR-1: 5
//! minutes), and absent for its clear duration before it clears, so that one noisy reading
//! neither raises nor clears; an alarm that worsens changes severity instead of opening a
//! second one (NOT-8); a condition that comes and goes too often is one alarm marked flapping,
//! not a storm. Time is an input: readings and ticks carry their instant (UTC epoch ms), and
//! [`Tracker::next_wake`] says when a held duration runs out without a new reading.

pub mod book;
pub mod escalation;
pub mod lifecycle;
pub mod rules;
pub mod window;

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::policy::Severity;

/// How a condition is held before it raises or clears, and when it flaps (from the policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Present this long without a break before the alarm is raised.
    pub raise_after_ms: i64,
    /// Absent this long without a break before the alarm clears.
    pub clear_after_ms: i64,
    /// This many changes (present ↔ absent) within `flap_window_ms` make the condition
    /// flapping; it stops flapping once stable for a whole window. At least 2.
    pub flap_changes: usize,
    pub flap_window_ms: i64,
}

/// What the rules read of a condition at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// The condition holds, at this severity.
    Present(Severity),
    Absent,
    /// Nobody can tell (the monitoring path is down): an alarm neither starts nor clears.
    Unknown,
}

/// What happened to the alarm of a condition, at its exact instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Transition {
    /// The alarm is raised: the condition was held (or is flapping).
    Raised {
        at: i64,
        severity: Severity,
        flapping: bool,
    },
    /// The condition worsened while its alarm was raised (NOT-8).
    SeverityChanged {
        at: i64,
        from: Severity,
        to: Severity,
    },
    FlappingStarted {
        at: i64,
    },
    /// Stable for a whole flapping window.
    FlappingEnded {
        at: i64,
    },
    /// The condition has been absent for its clear duration since `since`.
    Cleared {
        at: i64,
        since: i64,
    },
}

impl Transition {
    pub fn at(&self) -> i64 {
        match self {
            Transition::Raised { at, .. }
            | Transition::SeverityChanged { at, .. }
            | Transition::FlappingStarted { at }
            | Transition::FlappingEnded { at }
            | Transition::Cleared { at, .. } => *at,
        }
    }
}

/// Whether `a` is worse than `b` (Critical is the worst).
pub fn worse(a: Severity, b: Severity) -> bool {
    // Severity orders Critical first.
    a < b
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Clear,
    /// Present since `since`, not held long enough yet.
    Pending {
        since: i64,
        severity: Severity,
    },
    Raised {
        severity: Severity,
        /// Absent since then, while raised.
        absent_since: Option<i64>,
        flapping: bool,
    },
}

/// The alarm state of one condition of one equipment. Small on purpose (a phase, the last
/// reading and at most `flap_changes` instants): the engine keeps one per condition that is
/// not quiet, for 100,000 equipment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracker {
    phase: Phase,
    /// The last reading taken, and its instant.
    last: Option<(Reading, i64)>,
    /// The newest changes between present and absent (at most `flap_changes`).
    changes: VecDeque<i64>,
    /// The severity of the last reading that found the condition present.
    last_severity: Option<Severity>,
}

impl Default for Tracker {
    fn default() -> Self {
        Tracker::new()
    }
}

impl Tracker {
    pub fn new() -> Tracker {
        Tracker {
            phase: Phase::Clear,
            last: None,
            changes: VecDeque::new(),
            last_severity: None,
        }
    }

    /// A tracker whose alarm was raised before a restart: raised, with no reading yet; the
    /// next reading present keeps it, absent starts its clearing. Its flapping history is not
    /// kept: it starts again from the restart.
    pub fn restored(severity: Severity) -> Tracker {
        Tracker {
            phase: Phase::Raised {
                severity,
                absent_since: None,
                flapping: false,
            },
            last: None,
            changes: VecDeque::new(),
            last_severity: Some(severity),
        }
    }

    /// Whether the condition holds: pending or raised (for the hysteresis of thresholds).
    pub fn holds(&self) -> bool {
        self.phase != Phase::Clear
    }

    /// The alarm's severity and whether it flaps, while raised.
    pub fn raised(&self) -> Option<(Severity, bool)> {
        match self.phase {
            Phase::Raised {
                severity, flapping, ..
            } => Some((severity, flapping)),
            _ => None,
        }
    }

    /// Nothing raised, pending or remembered as of `now`: the tracker may be dropped.
    pub fn is_quiet(&self, now: i64, timing: &Timing) -> bool {
        self.phase == Phase::Clear
            && self
                .changes
                .back()
                .is_none_or(|last| *last <= now - timing.flap_window_ms)
            && !matches!(self.last, Some((Reading::Present(_), _)))
    }

    /// Takes a reading at `at` and returns what happened, in order: first what the held
    /// durations brought until `at` (the last reading holds until the next one), then what
    /// this reading does. A reading older than the last one is ignored.
    pub fn read(&mut self, reading: Reading, at: i64, timing: &Timing) -> Vec<Transition> {
        if self.last.is_some_and(|(_, last_at)| at < last_at) {
            return Vec::new();
        }
        let mut transitions = self.tick(at, timing);
        let was_present = match self.last {
            Some((Reading::Present(_), _)) => Some(true),
            Some((Reading::Absent, _)) => Some(false),
            _ => None,
        };
        let present = match reading {
            Reading::Present(_) => Some(true),
            Reading::Absent => Some(false),
            Reading::Unknown => None,
        };
        if let (Some(before), Some(now)) = (was_present, present)
            && before != now
        {
            self.changes.push_back(at);
            while self.changes.len() > timing.flap_changes.max(2) {
                self.changes.pop_front();
            }
        }
        self.last = Some((reading, at));
        let flapping = self.changes.len() >= timing.flap_changes.max(2)
            && self
                .changes
                .front()
                .is_some_and(|first| *first > at - timing.flap_window_ms);
        if let Reading::Present(severity) = reading {
            self.last_severity = Some(severity);
        }
        match (self.phase, reading) {
            (Phase::Clear | Phase::Pending { .. }, _) if flapping => {
                // The worst of what is pending and what is read now; a condition absent at
                // this instant keeps the severity it had when last present.
                let mut severity = self.last_severity.unwrap_or(Severity::Minor);
                if let Phase::Pending {
                    severity: pending, ..
                } = self.phase
                    && worse(pending, severity)
                {
                    severity = pending;
                }
                self.phase = Phase::Raised {
                    severity,
                    absent_since: (reading == Reading::Absent).then_some(at),
                    flapping: true,
                };
                transitions.push(Transition::Raised {
                    at,
                    severity,
                    flapping: true,
                });
            }
            (Phase::Clear, Reading::Present(severity)) => {
                self.phase = Phase::Pending {
                    since: at,
                    severity,
                };
                transitions.extend(self.tick(at, timing));
            }
            (Phase::Pending { since, severity }, Reading::Present(now)) => {
                self.phase = Phase::Pending {
                    since,
                    severity: if worse(now, severity) { now } else { severity },
                };
            }
            (Phase::Pending { .. }, Reading::Absent | Reading::Unknown) => {
                self.phase = Phase::Clear;
            }
            (Phase::Clear, Reading::Absent | Reading::Unknown) => {}
            (
                Phase::Raised {
                    severity,
                    flapping: was_flapping,
                    ..
                },
                _,
            ) => {
                let mut next_severity = severity;
                if let Reading::Present(now) = reading
                    && worse(now, severity)
                {
                    next_severity = now;
                    transitions.push(Transition::SeverityChanged {
                        at,
                        from: severity,
                        to: now,
                    });
                }
                if flapping && !was_flapping {
                    transitions.push(Transition::FlappingStarted { at });
                }
                let absent_since = match (self.phase, reading) {
                    (_, Reading::Present(_) | Reading::Unknown) => None,
                    (
                        Phase::Raised {
                            absent_since: Some(since),
                            ..
                        },
                        Reading::Absent,
                    ) => Some(since),
                    (_, Reading::Absent) => Some(at),
                };
                self.phase = Phase::Raised {
                    severity: next_severity,
                    absent_since,
                    flapping: was_flapping || flapping,
                };
                transitions.extend(self.tick(at, timing));
            }
        }
        transitions
    }

    /// What the held durations bring until `now` without a new reading.
    pub fn tick(&mut self, now: i64, timing: &Timing) -> Vec<Transition> {
        let mut transitions: Vec<Transition> = Vec::new();
        while let Some(due) = self.next_wake(timing) {
            if due > now {
                break;
            }
            // A clearing held through a flapping period happens when the flapping ends.
            let due = transitions.last().map_or(due, |t| due.max(t.at()));
            match self.phase {
                Phase::Pending { since, severity } => {
                    self.phase = Phase::Raised {
                        severity,
                        absent_since: None,
                        flapping: false,
                    };
                    transitions.push(Transition::Raised {
                        at: since + timing.raise_after_ms,
                        severity,
                        flapping: false,
                    });
                }
                Phase::Raised {
                    severity,
                    absent_since,
                    flapping: true,
                } => {
                    self.phase = Phase::Raised {
                        severity,
                        absent_since,
                        flapping: false,
                    };
                    transitions.push(Transition::FlappingEnded { at: due });
                }
                Phase::Raised {
                    absent_since: Some(since),
                    flapping: false,
                    ..
                } => {
                    self.phase = Phase::Clear;
                    transitions.push(Transition::Cleared { at: due, since });
                }
                _ => break,
            }
        }
        transitions
    }

    /// When a held duration runs out if no reading comes first.
    pub fn next_wake(&self, timing: &Timing) -> Option<i64> {
        match self.phase {
            Phase::Pending { since, .. } => Some(since.saturating_add(timing.raise_after_ms)),
            Phase::Raised { flapping: true, .. } => self
                .changes
                .back()
                .map(|last| last.saturating_add(timing.flap_window_ms)),
            Phase::Raised {
                absent_since: Some(since),
                ..
            } => Some(since.saturating_add(timing.clear_after_ms)),
            _ => None,
        }
    }
}

/// A transition of the alarm of one condition of one equipment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlarmTransition {
    pub equipment: crate::Reference,
    pub condition: rules::ConditionKey,
    #[serde(flatten)]
    pub transition: Transition,
}

type TrackerKey = (crate::Reference, rules::ConditionKey);

/// The alarm conditions of every equipment: a tracker (with the timing of its equipment's
/// policy) for each condition that is not quiet, and the instants at which one must wake.
/// Quiet conditions take no memory, so that 100,000 equipment, most in good health, cost little.
#[derive(Debug, Default)]
pub struct Engine {
    trackers: std::collections::HashMap<TrackerKey, (Tracker, Timing)>,
    wakes: std::collections::BTreeSet<(i64, TrackerKey)>,
}

impl Engine {
    pub fn new() -> Engine {
        Engine::default()
    }

    /// How many conditions are tracked (not quiet).
    pub fn tracked(&self) -> usize {
        self.trackers.len()
    }

    /// The raised alarm of a condition, with its severity and whether it flaps.
    pub fn raised(
        &self,
        equipment: &crate::Reference,
        condition: &rules::ConditionKey,
    ) -> Option<(crate::policy::Severity, bool)> {
        self.trackers
            .get(&(equipment.clone(), condition.clone()))
            .and_then(|(tracker, _)| tracker.raised())
    }

    /// Whether a condition holds (pending or raised): for an equipment's `Unreachable`, whether
    /// it is down, as its dependents see it.
    pub fn holds(&self, equipment: &crate::Reference, condition: &rules::ConditionKey) -> bool {
        self.trackers
            .get(&(equipment.clone(), condition.clone()))
            .is_some_and(|(tracker, _)| tracker.holds())
    }

    /// Takes back the raised alarm of a condition after a restart (see [`Tracker::restored`]).
    pub fn restore(
        &mut self,
        equipment: crate::Reference,
        condition: rules::ConditionKey,
        severity: crate::policy::Severity,
        timing: Timing,
    ) {
        self.trackers.insert(
            (equipment, condition),
            (Tracker::restored(severity), timing),
        );
    }

    /// Reads an observation of `equipment` through the rules of `policy` (its site's).
    pub fn observe(
        &mut self,
        policy: &crate::policy::Policy,
        equipment: &crate::inventory::Equipment,
        observation: &crate::supervision::Observation,
    ) -> Vec<AlarmTransition> {
        let timing = policy.alarm_timing();
        let reference = &equipment.reference;
        let readings = rules::readings(policy, equipment, observation, &|condition| {
            self.trackers
                .get(&(reference.clone(), condition.clone()))
                .is_some_and(|(tracker, _)| tracker.holds())
        });
        let mut happened = Vec::new();
        for (condition, reading) in readings {
            let key = (reference.clone(), condition);
            let (mut tracker, _) = self
                .trackers
                .remove(&key)
                .unwrap_or_else(|| (Tracker::new(), timing));
            if let Some(wake) = tracker.next_wake(&timing) {
                self.wakes.remove(&(wake, key.clone()));
            }
            let transitions = tracker.read(reading, observation.at, &timing);
            self.keep(key.clone(), tracker, timing, observation.at);
            happened.extend(transitions.into_iter().map(|transition| AlarmTransition {
                equipment: key.0.clone(),
                condition: key.1.clone(),
                transition,
            }));
        }
        happened
    }

    /// What the held durations bring until `now`, in the order of their instants.
    pub fn tick(&mut self, now: i64) -> Vec<AlarmTransition> {
        let mut happened = Vec::new();
        while let Some((wake, key)) = self.wakes.first().cloned() {
            if wake > now {
                break;
            }
            self.wakes.remove(&(wake, key.clone()));
            let Some((mut tracker, timing)) = self.trackers.remove(&key) else {
                continue;
            };
            let transitions = tracker.tick(wake, &timing);
            self.keep(key.clone(), tracker, timing, wake);
            happened.extend(transitions.into_iter().map(|transition| AlarmTransition {
                equipment: key.0.clone(),
                condition: key.1.clone(),
                transition,
            }));
        }
        happened
    }

    /// The earliest instant at which a held duration runs out.
    pub fn next_wake(&self) -> Option<i64> {
        self.wakes.first().map(|(wake, _)| *wake)
    }

    fn keep(&mut self, key: TrackerKey, tracker: Tracker, timing: Timing, now: i64) {
        if tracker.is_quiet(now, &timing) {
            return;
        }
        if let Some(wake) = tracker.next_wake(&timing) {
            self.wakes.insert((wake, key.clone()));
        }
        self.trackers.insert(key, (tracker, timing));
    }
}
