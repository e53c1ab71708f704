//! A ticket's SLA timers (CM-3, CM-4, INC-2, INC-4, SAV-2, DEC-4, DEC-5), sans IO: opened with
//! `now`, fed people's actions and the passing of time, it returns what happened (timers due,
//! met, breached, paused) and says when it next needs to wake up. The service desk and the
//! simulator drive the same code.

pub mod desk;
pub mod mail;
pub mod message;
pub mod notices;
pub mod photo;
pub mod post_mortem;
pub mod report;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::calendar::CalendarError;
use crate::inventory::{ContractTier, Priority, SlaMeasure};
use crate::policy::{Deadline, Policy};

/// What the client said of the problem (SAV-3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatedCriticality {
    Critical,
    Standard,
    Informative,
}

/// DEC-4 and SAV-4: Critical is P1, Standard P2, Informative P3; when the criticality is not
/// stated or is in doubt, the highest applies.
pub fn priority_from(stated: Option<StatedCriticality>) -> Priority {
    match stated {
        Some(StatedCriticality::Critical) | None => Priority::P1,
        Some(StatedCriticality::Standard) => Priority::P2,
        Some(StatedCriticality::Informative) => Priority::P3,
    }
}

/// Where a ticket stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    New,
    Acknowledged,
    InProgress,
    WaitingForClient,
    OnSite,
    Resolved,
    Closed,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::New,
        Status::Acknowledged,
        Status::InProgress,
        Status::WaitingForClient,
        Status::OnSite,
        Status::Resolved,
        Status::Closed,
    ];

    /// In French, for people.
    pub fn label(self) -> &'static str {
        match self {
            Status::New => "nouveau",
            Status::Acknowledged => "accusé de réception envoyé",
            Status::InProgress => "pris en charge",
            Status::WaitingForClient => "en attente de votre réponse",
            Status::OnSite => "technicien sur site",
            Status::Resolved => "résolu, à confirmer",
            Status::Closed => "clos",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Acknowledged => "acknowledged",
            Status::InProgress => "in_progress",
            Status::WaitingForClient => "waiting_for_client",
            Status::OnSite => "on_site",
            Status::Resolved => "resolved",
            Status::Closed => "closed",
        }
    }

    pub fn parse(value: &str) -> Option<Status> {
        [
            Status::New,
            Status::Acknowledged,
            Status::InProgress,
            Status::WaitingForClient,
            Status::OnSite,
            Status::Resolved,
            Status::Closed,
        ]
        .into_iter()
        .find(|s| s.key() == value)
    }
}

/// What people do to a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// The acknowledgement with the ticket number reached the client (SAV-2).
    Acknowledge,
    /// A technician took it in charge (CM-3, INC-2).
    TakeCharge,
    /// The intervention is planned (INC-2, P3).
    PlanIntervention,
    /// The technician is on site (CM-3).
    ArriveOnSite,
    /// The client was given news (INC-4).
    UpdateClient,
    /// Waiting for the client: the timers the policy names pause (CM-4).
    WaitForClient,
    /// The client answered: paused timers resume.
    ClientReplied,
    Resolve,
    /// The client confirmed the fix (SAV-6).
    ClientConfirms,
    /// The integrator closes the ticket without the client's word (SAV-6: no answer to the
    /// closure reminder, or a request withdrawn).
    Close,
}

/// Something that happened to the ticket's timers or status, at an instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Happening {
    Status(Status),
    /// A timer is armed, or re-armed after a pause or an update.
    Due {
        timer: SlaMeasure,
        due: i64,
    },
    Met {
        timer: SlaMeasure,
        due: i64,
    },
    Breached {
        timer: SlaMeasure,
        due: i64,
    },
    Paused {
        timer: SlaMeasure,
    },
}

/// A timer as the ticket's record keeps it: its instants are written RFC 3339, as they always
/// were (`crate::calendar::rfc3339_ms`), and are `i64` milliseconds in the code. Public, with
/// the fields of [`SlaState`], so that the store can keep them in its own stored types.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Timer {
    Running {
        deadline: Deadline,
        #[serde(with = "crate::calendar::rfc3339_ms")]
        due: i64,
    },
    Paused {
        deadline: Deadline,
        #[serde(with = "crate::calendar::rfc3339_ms")]
        remaining_from: i64,
        #[serde(with = "crate::calendar::rfc3339_ms")]
        original_due: i64,
    },
    /// A recurring timer (the client update) whose deadline passed: the next update re-arms it.
    Overdue { deadline: Deadline },
}

/// The SLA side of one ticket.
#[derive(Debug, Clone)]
pub struct TicketSla {
    pub priority: Priority,
    pub status: Status,
    policy: Policy,
    tier: ContractTier,
    round_the_clock: bool,
    timers: BTreeMap<SlaMeasure, Timer>,
    /// Timers met or breached: a re-qualification does not arm them again.
    done: std::collections::BTreeSet<SlaMeasure>,
}

/// What a ticket's SLA side stores between two calls (the policy is given back on restore).
/// Its fields are public for the store's own stored types (`vigie_store::stored`); the code
/// changes them only through [`TicketSla`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaState {
    pub priority: Priority,
    pub status: Status,
    #[serde(default)]
    pub tier: ContractTier,
    #[serde(default)]
    pub round_the_clock: bool,
    pub timers: BTreeMap<SlaMeasure, Timer>,
    /// Timers met or breached.
    #[serde(default, skip_serializing_if = "std::collections::BTreeSet::is_empty")]
    pub done: std::collections::BTreeSet<SlaMeasure>,
}

impl SlaState {
    /// The instant each running timer falls due (paused and overdue ones have none).
    pub fn dues(&self) -> BTreeMap<SlaMeasure, i64> {
        self.timers
            .iter()
            .filter_map(|(m, t)| match t {
                Timer::Running { due, .. } => Some((*m, *due)),
                _ => None,
            })
            .collect()
    }

    /// The time left before `measure`'s deadline counted on its own calendar (business hours
    /// for a standard contract): what the technician really has, nights and weekends apart.
    /// None for a timer not running, or whose calendar the policy no longer has.
    pub fn open_time_left(&self, policy: &Policy, measure: SlaMeasure, now: i64) -> Option<i64> {
        let Some(Timer::Running { deadline, due }) = self.timers.get(&measure) else {
            return None;
        };
        let calendar = policy.calendar(&deadline.calendar)?;
        Some(i64::try_from(calendar.elapsed(now, *due).as_millis()).unwrap_or(i64::MAX))
    }

    /// The timers paused while waiting for the client (CM-4).
    pub fn paused(&self) -> Vec<SlaMeasure> {
        self.timers
            .iter()
            .filter(|(_, t)| matches!(t, Timer::Paused { .. }))
            .map(|(m, _)| *m)
            .collect()
    }
}

/// Which action meets which timer.
fn timer_met_by(action: Action) -> Option<SlaMeasure> {
    match action {
        Action::Acknowledge => Some(SlaMeasure::Acknowledgement),
        Action::TakeCharge => Some(SlaMeasure::TakeCharge),
        Action::PlanIntervention => Some(SlaMeasure::InterventionPlanning),
        Action::ArriveOnSite => Some(SlaMeasure::OnSite),
        Action::UpdateClient => Some(SlaMeasure::ClientUpdate),
        _ => None,
    }
}

impl TicketSla {
    /// Opens a ticket received at `received` (CM-4: deadlines run from receipt), arming every
    /// timer the policy gives its priority under this contract.
    pub fn open(
        policy: &Policy,
        priority: Priority,
        tier: ContractTier,
        round_the_clock: bool,
        received: i64,
    ) -> Result<(TicketSla, Vec<Happening>), CalendarError> {
        let mut ticket = TicketSla {
            priority,
            status: Status::New,
            policy: policy.clone(),
            tier,
            round_the_clock,
            timers: BTreeMap::new(),
            done: Default::default(),
        };
        let mut happenings = vec![Happening::Status(Status::New)];
        // INC-4: the client-update cadence starts when the ticket is taken in charge.
        for measure in [
            SlaMeasure::Acknowledgement,
            SlaMeasure::TakeCharge,
            SlaMeasure::OnSite,
            SlaMeasure::InterventionPlanning,
        ] {
            if let Some(deadline) = policy.sla_deadline(priority, measure, tier, round_the_clock) {
                let due = policy.due(&deadline, received)?;
                ticket
                    .timers
                    .insert(measure, Timer::Running { deadline, due });
                happenings.push(Happening::Due {
                    timer: measure,
                    due,
                });
            }
        }
        Ok((ticket, happenings))
    }

    /// Whether `measure` still runs (due, or paused while waiting for the client).
    pub fn runs(&self, measure: SlaMeasure) -> bool {
        self.timers.contains_key(&measure)
    }

    /// Drops a timer that does not apply to this ticket (the acknowledgement to the client of
    /// a ticket no client reported, SAV-2): it is neither due nor breached.
    pub fn waive(&mut self, measure: SlaMeasure) {
        self.timers.remove(&measure);
        self.done.insert(measure);
    }

    /// What to store.
    pub fn state(&self) -> SlaState {
        SlaState {
            priority: self.priority,
            status: self.status,
            tier: self.tier,
            round_the_clock: self.round_the_clock,
            timers: self.timers.clone(),
            done: self.done.clone(),
        }
    }

    /// Takes back a stored ticket under `policy` (the one that applies to its contract).
    pub fn restore(policy: &Policy, state: SlaState) -> TicketSla {
        TicketSla {
            priority: state.priority,
            status: state.status,
            policy: policy.clone(),
            tier: state.tier,
            round_the_clock: state.round_the_clock,
            timers: state.timers,
            done: state.done,
        }
    }

    /// Re-qualification (CM-2, SAV-4): the ticket now has `priority`. The deadlines still to
    /// meet are those of the new priority, measured from receipt (CM-4); a timer already met
    /// or breached stays so, one the new priority no longer has is dropped, a paused one stays
    /// paused with its new deadline.
    pub fn requalify(
        &mut self,
        priority: Priority,
        received: i64,
        now: i64,
    ) -> Result<Vec<Happening>, CalendarError> {
        let (tier, round_the_clock) = (self.tier, self.round_the_clock);
        let mut happenings = Vec::new();
        if priority == self.priority {
            return Ok(happenings);
        }
        self.priority = priority;
        if matches!(self.status, Status::Resolved | Status::Closed) {
            return Ok(happenings);
        }
        for measure in [
            SlaMeasure::Acknowledgement,
            SlaMeasure::TakeCharge,
            SlaMeasure::OnSite,
            SlaMeasure::InterventionPlanning,
            SlaMeasure::ClientUpdate,
        ] {
            let deadline = self
                .policy
                .sla_deadline(priority, measure, tier, round_the_clock);
            if measure == SlaMeasure::ClientUpdate {
                // INC-4: the cadence runs from the take-charge, then from each update.
                match deadline {
                    None => {
                        self.timers.remove(&measure);
                    }
                    Some(deadline)
                        if self.taken_in_charge()
                            && !self.timers.contains_key(&measure)
                            && !self.done.contains(&measure) =>
                    {
                        let due = self.policy.due(&deadline, now)?;
                        self.timers
                            .insert(measure, Timer::Running { deadline, due });
                        happenings.push(Happening::Due {
                            timer: measure,
                            due,
                        });
                    }
                    Some(_) => {}
                }
                continue;
            }
            if self.done.contains(&measure) {
                // Met or breached; the client-update cadence, once begun, runs from the last
                // update, unless the new priority has none.
                if deadline.is_none() {
                    self.timers.remove(&measure);
                }
                continue;
            }
            let Some(deadline) = deadline else {
                self.timers.remove(&measure);
                continue;
            };
            match self.timers.get(&measure).cloned() {
                Some(Timer::Paused { remaining_from, .. }) => {
                    let original_due = self.policy.due(&deadline, received)?;
                    self.timers.insert(
                        measure,
                        Timer::Paused {
                            deadline,
                            remaining_from,
                            original_due,
                        },
                    );
                }
                Some(Timer::Overdue { .. }) => {
                    self.timers.insert(measure, Timer::Overdue { deadline });
                }
                Some(Timer::Running { .. }) | None => {
                    let due = self.policy.due(&deadline, received)?;
                    self.timers
                        .insert(measure, Timer::Running { deadline, due });
                    happenings.push(Happening::Due {
                        timer: measure,
                        due,
                    });
                }
            }
        }
        Ok(happenings)
    }

    /// Whether someone took the ticket in charge (the client-update cadence runs, INC-4).
    fn taken_in_charge(&self) -> bool {
        matches!(
            self.status,
            Status::InProgress | Status::WaitingForClient | Status::OnSite
        )
    }

    /// The next instant at which a timer falls due, if any runs.
    pub fn next_wake(&self) -> Option<i64> {
        self.timers
            .values()
            .filter_map(|t| match t {
                Timer::Running { due, .. } => Some(*due),
                Timer::Paused { .. } | Timer::Overdue { .. } => None,
            })
            .min()
    }

    /// Time has reached `now`: every running timer due at or before it is breached.
    /// An action at the very instant of a deadline meets it, so callers apply actions first.
    pub fn on_time(&mut self, now: i64) -> Vec<Happening> {
        let breached: Vec<(SlaMeasure, Deadline, i64)> = self
            .timers
            .iter()
            .filter_map(|(m, t)| match t {
                Timer::Running { deadline, due } if *due <= now => {
                    Some((*m, deadline.clone(), *due))
                }
                _ => None,
            })
            .collect();
        breached
            .into_iter()
            .map(|(timer, deadline, due)| {
                if timer == SlaMeasure::ClientUpdate {
                    // INC-4: a late update is still owed; the next one restarts the cadence.
                    self.timers.insert(timer, Timer::Overdue { deadline });
                } else {
                    self.timers.remove(&timer);
                }
                self.done.insert(timer);
                Happening::Breached { timer, due }
            })
            .collect()
    }

    /// Applies a person's action at `now`.
    pub fn apply(&mut self, action: Action, now: i64) -> Result<Vec<Happening>, CalendarError> {
        let mut happenings = Vec::new();
        if let Some(measure) = timer_met_by(action) {
            let rearm = match self.timers.get(&measure).cloned() {
                Some(Timer::Running { deadline, due }) => {
                    self.timers.remove(&measure);
                    self.done.insert(measure);
                    happenings.push(Happening::Met {
                        timer: measure,
                        due,
                    });
                    Some(deadline)
                }
                Some(Timer::Overdue { deadline }) => Some(deadline),
                _ => None,
            };
            // INC-4: client updates recur at the cadence until resolution.
            if let Some(deadline) = rearm
                && measure == SlaMeasure::ClientUpdate
            {
                let next = self.policy.due(&deadline, now)?;
                self.timers.insert(
                    measure,
                    Timer::Running {
                        deadline,
                        due: next,
                    },
                );
                happenings.push(Happening::Due {
                    timer: measure,
                    due: next,
                });
            }
        }
        // INC-4: taken in charge, the client is due news at the priority's cadence.
        if action == Action::TakeCharge
            && !self.timers.contains_key(&SlaMeasure::ClientUpdate)
            && !self.done.contains(&SlaMeasure::ClientUpdate)
            && let Some(deadline) = self.policy.sla_deadline(
                self.priority,
                SlaMeasure::ClientUpdate,
                self.tier,
                self.round_the_clock,
            )
        {
            let due = self.policy.due(&deadline, now)?;
            self.timers
                .insert(SlaMeasure::ClientUpdate, Timer::Running { deadline, due });
            happenings.push(Happening::Due {
                timer: SlaMeasure::ClientUpdate,
                due,
            });
        }
        let status = match action {
            Action::Acknowledge if self.status == Status::New => Some(Status::Acknowledged),
            Action::TakeCharge => Some(Status::InProgress),
            Action::ArriveOnSite => Some(Status::OnSite),
            Action::WaitForClient => {
                for (measure, timer) in self.timers.iter_mut() {
                    if let Timer::Running { deadline, due } = timer.clone()
                        && self
                            .policy
                            .ticket
                            .paused_while_waiting_for_client
                            .contains(measure)
                    {
                        *timer = Timer::Paused {
                            deadline,
                            remaining_from: now,
                            original_due: due,
                        };
                        happenings.push(Happening::Paused { timer: *measure });
                    }
                }
                Some(Status::WaitingForClient)
            }
            Action::ClientReplied => {
                for (measure, timer) in self.timers.iter_mut() {
                    if let Timer::Paused {
                        deadline,
                        remaining_from,
                        original_due,
                    } = timer.clone()
                    {
                        // The open time left at the pause is given back from now.
                        let calendar = self
                            .policy
                            .calendar(&deadline.calendar)
                            .ok_or_else(|| CalendarError::Invalid(deadline.calendar.clone()))?;
                        let left = calendar.elapsed(remaining_from, original_due);
                        let due = calendar.add(now, left)?;
                        *timer = Timer::Running { deadline, due };
                        happenings.push(Happening::Due {
                            timer: *measure,
                            due,
                        });
                    }
                }
                Some(Status::InProgress)
            }
            Action::Resolve => {
                // Nothing is due any more from the intervention side; the client's
                // confirmation closes the ticket (SAV-6).
                self.timers.clear();
                Some(Status::Resolved)
            }
            Action::ClientConfirms | Action::Close => {
                self.timers.clear();
                Some(Status::Closed)
            }
            _ => None,
        };
        if let Some(status) = status
            && status != self.status
        {
            self.status = status;
            happenings.push(Happening::Status(status));
        }
        Ok(happenings)
    }
}
