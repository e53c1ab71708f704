//! `vigie simulate`: a scenario in, a timeline out. The scenario's inventory goes into the real
//! store on a throw-away SQLite database; its inputs drive the real domain code on a virtual
//! clock that jumps from one instant to the next (inputs and timers), never sleeping. The
//! timeline is JSON Lines, one event a line, byte for byte the same on every run
//! (`docs/simulate.md`).

mod scenario;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use jiff::tz::TimeZone;
use serde_json::Value;
use vigie_domain::Reference;
use vigie_domain::access::Actor;
use vigie_domain::alarm::escalation;
use vigie_domain::alarm::lifecycle::{AlarmEvent, EventKind, Suppression};
use vigie_domain::inventory::check::KnownObjects;
use vigie_domain::inventory::file::InventoryFile;
use vigie_domain::inventory::{ObjectKind, Record, SlaMeasure};
use vigie_domain::policy::Policy;
use vigie_domain::supervision::StateChange;
use vigie_domain::ticket::Happening;
use vigie_domain::ticket::desk::{Report, Source};
use vigie_store::{Escalation, FiredTimer, Outcome, System, TicketStep};
use vigie_workflow::{Step, StepError, Workflow};

use crate::scenario::ReportChannel;

pub use scenario::{AlarmStep, Input, InputKind, InventorySource, Scenario};

/// Why a scenario could not run, in French, naming the file and where in it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SimulationError(pub String);

fn key<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// One line of the timeline: `at` and `type` first, then the event's own fields in a fixed order.
struct Line {
    at: i64,
    kind: &'static str,
    fields: Vec<(&'static str, Value)>,
}

/// The timeline being written.
struct Timeline {
    time_zone: TimeZone,
    lines: Vec<String>,
    /// The scenario's names of the tickets its inputs opened, by number (an alarm's ticket
    /// goes by its number).
    names: BTreeMap<u64, String>,
    /// The scenario's names of the one-off windows its inputs opened, with their ids.
    windows: BTreeMap<String, i64>,
}

impl Timeline {
    fn format(&self, at: i64) -> String {
        vigie_domain::calendar::zoned(at, &self.time_zone)
            .map(|z| z.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string())
            .unwrap_or_else(|| at.to_string())
    }

    fn push(&mut self, line: Line) {
        let mut text = format!(
            "{{\"at\":{},\"type\":{}",
            Value::String(self.format(line.at)),
            Value::String(line.kind.into())
        );
        for (name, value) in line.fields {
            text.push_str(&format!(",{}:{}", Value::String(name.into()), value));
        }
        text.push('}');
        self.lines.push(text);
    }

    fn state_change(&mut self, change: StateChange) {
        let at = change.at;
        self.push(Line {
            at,
            kind: "equipment.state_changed",
            fields: vec![
                ("equipment", Value::String(change.equipment.to_string())),
                ("check", Value::String(change.check.to_string())),
                (
                    "from",
                    change
                        .from
                        .map_or(Value::Null, |s| Value::String(s.key().into())),
                ),
                ("to", Value::String(change.to.key().into())),
                ("detail", change.detail.map_or(Value::Null, Value::String)),
            ],
        });
    }

    /// An alarm's event: `alarm.<event>` with the alarm's number, then the event's fields.
    fn alarm(&mut self, event: AlarmEvent) {
        let at = event.at;
        let text = |value: &dyn ToString| Value::String(value.to_string());
        let by = || event.by.as_ref().map_or(Value::Null, |b| text(b));
        let mut fields = vec![("alarm", Value::from(event.alarm))];
        let kind = match &event.kind {
            EventKind::Raised {
                site,
                equipment,
                condition,
                severity,
                flapping,
            } => {
                fields.extend([
                    ("site", site.as_ref().map_or(Value::Null, |s| text(s))),
                    (
                        "equipment",
                        equipment.as_ref().map_or(Value::Null, |e| text(e)),
                    ),
                    ("condition", text(condition)),
                    ("severity", Value::String(key(severity))),
                    ("flapping", Value::Bool(*flapping)),
                ]);
                "alarm.raised"
            }
            EventKind::Suppressed { suppression } => {
                fields.push(("reason", Value::String(suppression.key().into())));
                match suppression {
                    Suppression::Parent { parent } => fields.push(("parent", text(parent))),
                    Suppression::Maintenance { window, until } => fields.extend([
                        ("window", window.as_ref().map_or(Value::Null, |w| text(w))),
                        ("until", Value::String(self.format(*until))),
                    ]),
                    Suppression::Tolerance {
                        offline,
                        tolerated,
                        site_alarm,
                    } => fields.extend([
                        ("offline", Value::from(*offline)),
                        ("tolerated", Value::from(*tolerated)),
                        ("site_alarm", site_alarm.map_or(Value::Null, Value::from)),
                    ]),
                }
                fields.push(("label", Value::String(suppression.label())));
                "alarm.suppressed"
            }
            EventKind::Notified { severity } => {
                fields.push(("severity", Value::String(key(severity))));
                "alarm.notified"
            }
            EventKind::SeverityChanged { from, to, cause } => {
                fields.extend([
                    ("from", Value::String(key(from))),
                    ("to", Value::String(key(to))),
                    ("cause", Value::String(key(cause))),
                ]);
                "alarm.severity_changed"
            }
            EventKind::FlappingStarted => "alarm.flapping_started",
            EventKind::FlappingEnded => "alarm.flapping_ended",
            EventKind::CamerasChanged { cameras } => {
                fields.extend([
                    ("count", Value::from(cameras.len())),
                    (
                        "cameras",
                        Value::Array(cameras.iter().map(|c| text(c)).collect()),
                    ),
                ]);
                "alarm.cameras_changed"
            }
            EventKind::Acknowledged => {
                fields.push(("by", by()));
                "alarm.acknowledged"
            }
            EventKind::TakenInCharge => {
                fields.push(("by", by()));
                "alarm.taken_in_charge"
            }
            EventKind::Resolved { since } => {
                fields.push(("since", Value::String(self.format(*since))));
                "alarm.resolved"
            }
            EventKind::Escalated { .. } | EventKind::NotificationFailed { .. } => {
                // Written by the store when timers fire; the timeline shows them as
                // `alarm.escalated` (Timeline::escalation).
                return;
            }
            EventKind::Closed { report } => {
                fields.extend([
                    ("by", by()),
                    ("actions", text(&report.actions)),
                    (
                        "intervention_minutes",
                        Value::from(report.intervention_minutes),
                    ),
                    ("root_cause", text(&report.root_cause)),
                ]);
                "alarm.closed"
            }
        };
        self.push(Line { at, kind, fields });
    }

    fn alarms(&mut self, events: Vec<AlarmEvent>) {
        for event in events {
            self.alarm(event);
        }
    }

    /// A step of an escalation chain that fell due: fired (who was told) or skipped (why).
    fn escalation(&mut self, fired: FiredTimer) {
        let at = fired.at;
        let alarm = Value::from(fired.timer.alarm);
        let step = Value::String(fired.timer.step_label());
        let mut opened = None;
        let line = match fired.outcome {
            Outcome::Fired {
                told,
                missing,
                routed,
                conference,
                ticket,
            } => Line {
                at,
                kind: "alarm.escalated",
                fields: vec![
                    ("alarm", alarm),
                    ("step", step),
                    (
                        "told",
                        Value::Array(
                            told.iter()
                                .map(|t| {
                                    Value::String(format!(
                                        "{}/{}",
                                        t.recipient,
                                        escalation::channel_key(t.channel)
                                    ))
                                })
                                .collect(),
                        ),
                    ),
                    (
                        "missing",
                        Value::Array(
                            missing
                                .iter()
                                .map(|m| Value::String(m.reason.clone()))
                                .collect(),
                        ),
                    ),
                ]
                .into_iter()
                // Issue 26, item 1: shown only when a role went through a fallback, so that
                // the timelines of a fleet without territories read as before.
                .chain((!routed.is_empty()).then(|| {
                    (
                        "routed",
                        Value::Array(
                            routed
                                .iter()
                                .map(|r| Value::String(r.note.clone()))
                                .collect(),
                        ),
                    )
                }))
                // NOT-4 (issue 26, item 2): the bridge and room the step invited to.
                .chain(conference.map(|invitation| {
                    (
                        "conference",
                        serde_json::json!({
                            "bridge": invitation.bridge,
                            "room": invitation.room,
                            "dial_in": invitation.dial_in,
                        }),
                    )
                }))
                .chain(ticket.map(|change| {
                    let number = Value::from(change.ticket.number);
                    opened = Some(change);
                    ("ticket", number)
                }))
                .collect(),
            },
            Outcome::Skipped { reason } => Line {
                at,
                kind: "alarm.escalation_skipped",
                fields: vec![
                    ("alarm", alarm),
                    ("step", step),
                    ("reason", Value::String(reason.key().into())),
                ],
            },
        };
        self.push(line);
        if let Some(change) = opened {
            self.desk(&change);
        }
    }

    /// A message about a ticket handed to its channel (SAV-2, INC-3).
    fn ticket_message(&mut self, at: i64, message: &vigie_domain::ticket::message::TicketNotice) {
        self.push(Line {
            at,
            kind: "notification.sent",
            fields: vec![
                ("ticket", Value::String(self.name_of(message.ticket))),
                ("purpose", Value::String(message.purpose.key().into())),
                ("recipient", Value::String(message.recipient.clone())),
                (
                    "channel",
                    Value::String(escalation::channel_key(message.channel).into()),
                ),
                ("address", Value::String(message.address.clone())),
            ],
        });
    }

    /// A monthly report sent to one of its recipients (issue 9).
    fn report_mail(&mut self, at: i64, report: &vigie_store::reports::ReportNotice) {
        self.push(Line {
            at,
            kind: "notification.sent",
            fields: vec![
                ("report", Value::String(report.mail.file_name.clone())),
                ("recipient", Value::String(report.mail.recipient.clone())),
                ("channel", Value::String("email".into())),
                ("address", Value::String(report.mail.address.clone())),
            ],
        });
    }

    /// The number of the ticket the scenario calls `name`.
    fn number_of(&self, name: &str) -> Option<u64> {
        self.names
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(number, _)| *number)
    }

    /// A ticket's name in the timeline: the scenario's, or its number.
    fn name_of(&self, number: u64) -> String {
        self.names
            .get(&number)
            .cloned()
            .unwrap_or_else(|| number.to_string())
    }

    /// The events of a ticket of the service desk — a client's report of the scenario, or one
    /// an alarm opened (NOT-5, NOT-7) — as `ticket.*` lines.
    fn desk(&mut self, change: &vigie_store::TicketChange) {
        use vigie_domain::ticket::desk::EventKind as DeskEvent;
        let ticket = &change.ticket;
        let name = self.name_of(ticket.number);

        for event in &change.events {
            let at = event.at;
            let happening = match &event.kind {
                DeskEvent::Opened {
                    priority, source, ..
                } => {
                    let report = &ticket.report;
                    let optional = |r: &Option<vigie_domain::Reference>| {
                        r.as_ref()
                            .map_or(Value::Null, |r| Value::String(r.to_string()))
                    };
                    self.push(Line {
                        at,
                        kind: "ticket.opened",
                        fields: vec![
                            ("ticket", Value::String(name.clone())),
                            ("priority", Value::String(key(priority))),
                            ("source", Value::String(key(source))),
                            ("client", Value::String(report.client.to_string())),
                            ("site", optional(&report.site)),
                            ("equipment", optional(&report.equipment)),
                            (
                                "stated_criticality",
                                report
                                    .stated_criticality
                                    .map_or(Value::Null, |c| Value::String(key(&c))),
                            ),
                            ("text", Value::String(report.symptom.clone())),
                            ("kind", Value::String(key(&report.kind))),
                            ("alarm", report.alarm.map_or(Value::Null, Value::from)),
                        ],
                    });
                    continue;
                }
                DeskEvent::Status { status } => Happening::Status(*status),
                DeskEvent::SlaDue { timer, due } => Happening::Due {
                    timer: *timer,
                    due: *due,
                },
                DeskEvent::SlaMet { timer, due } => Happening::Met {
                    timer: *timer,
                    due: *due,
                },
                DeskEvent::SlaBreached { timer, due } => Happening::Breached {
                    timer: *timer,
                    due: *due,
                },
                DeskEvent::SlaPaused { timer } => Happening::Paused { timer: *timer },
                DeskEvent::SlaWaived { timer } => {
                    self.push(Line {
                        at,
                        kind: "ticket.sla_waived",
                        fields: vec![
                            ("ticket", Value::String(name.clone())),
                            ("timer", Value::String(key(timer))),
                        ],
                    });
                    continue;
                }
                DeskEvent::ClosureReminder { close_at } => {
                    let close_at = Value::String(self.format(*close_at));
                    self.push(Line {
                        at,
                        kind: "ticket.closure_reminder",
                        fields: vec![
                            ("ticket", Value::String(name.clone())),
                            ("close_at", close_at),
                        ],
                    });
                    continue;
                }
                DeskEvent::Recurrence { earlier, review } => {
                    self.push(Line {
                        at,
                        kind: "ticket.recurrence",
                        fields: vec![
                            ("ticket", Value::String(name.clone())),
                            (
                                "earlier",
                                Value::Array(
                                    earlier
                                        .iter()
                                        .map(|n| Value::String(n.to_string()))
                                        .collect(),
                                ),
                            ),
                            ("review", Value::String(review.to_string())),
                        ],
                    });
                    continue;
                }
                DeskEvent::SlaWarning { timer, due } => {
                    let due = Value::String(self.format(*due));
                    self.push(Line {
                        at,
                        kind: "ticket.sla_warning",
                        fields: vec![
                            ("ticket", Value::String(name.clone())),
                            ("timer", Value::String(key(timer))),
                            ("due", due),
                        ],
                    });
                    continue;
                }
                DeskEvent::Resolved {
                    gdpr_due: Some(due),
                    ..
                } => {
                    let due = Value::String(self.format(*due));
                    self.push(Line {
                        at,
                        kind: "ticket.gdpr_due",
                        fields: vec![("ticket", Value::String(name.clone())), ("due", due)],
                    });
                    continue;
                }
                DeskEvent::GdprInformed => {
                    self.push(Line {
                        at,
                        kind: "ticket.gdpr_informed",
                        fields: vec![("ticket", Value::String(name.clone()))],
                    });
                    continue;
                }
                DeskEvent::GdprOverdue { .. } | DeskEvent::PostMortemOverdue { .. } => {
                    let kind = if event.kind.key() == "gdpr_overdue" {
                        "ticket.gdpr_overdue"
                    } else {
                        "ticket.post_mortem_overdue"
                    };
                    self.push(Line {
                        at,
                        kind,
                        fields: vec![("ticket", Value::String(name.clone()))],
                    });
                    continue;
                }
                DeskEvent::PostMortemDue { due } => {
                    let due = Value::String(self.format(*due));
                    self.push(Line {
                        at,
                        kind: "ticket.post_mortem_due",
                        fields: vec![("ticket", Value::String(name.clone())), ("due", due)],
                    });
                    continue;
                }
                DeskEvent::ClosedWithoutConfirmation { reason } => {
                    self.push(Line {
                        at,
                        kind: "ticket.closed_without_confirmation",
                        fields: vec![
                            ("ticket", Value::String(name.clone())),
                            ("reason", Value::String(reason.clone())),
                        ],
                    });
                    continue;
                }
                DeskEvent::AutoClosed => {
                    self.push(Line {
                        at,
                        kind: "ticket.auto_closed",
                        fields: vec![("ticket", Value::String(name.clone()))],
                    });
                    continue;
                }
                DeskEvent::FollowUp {
                    relapses, reopened, ..
                } => {
                    self.push(Line {
                        at,
                        kind: "ticket.follow_up",
                        fields: vec![
                            ("ticket", Value::String(name.clone())),
                            (
                                "relapses",
                                Value::Array(relapses.iter().map(|a| Value::from(*a)).collect()),
                            ),
                            ("reopened", Value::Bool(*reopened)),
                        ],
                    });
                    continue;
                }
                DeskEvent::Requalified { from, to, reason } => {
                    self.push(Line {
                        at,
                        kind: "ticket.requalified",
                        fields: vec![
                            ("ticket", Value::String(name.clone())),
                            ("from", Value::String(key(from))),
                            ("to", Value::String(key(to))),
                            ("reason", Value::String(reason.clone())),
                        ],
                    });
                    continue;
                }
                DeskEvent::AlarmGrouped { alarm, .. } => {
                    self.push(Line {
                        at,
                        kind: "ticket.alarm_grouped",
                        fields: vec![
                            ("ticket", Value::String(name.clone())),
                            ("alarm", Value::from(*alarm)),
                        ],
                    });
                    continue;
                }
                DeskEvent::AlarmEscalated {
                    alarm,
                    step,
                    from,
                    to,
                } => {
                    self.push(Line {
                        at,
                        kind: "ticket.escalated",
                        fields: vec![
                            ("ticket", Value::String(name.clone())),
                            ("alarm", Value::from(*alarm)),
                            ("step", Value::String(step.clone())),
                            ("from", Value::String(key(from))),
                            ("to", Value::String(key(to))),
                        ],
                    });
                    continue;
                }
                DeskEvent::Assigned { .. }
                | DeskEvent::Located { .. }
                | DeskEvent::Action { .. }
                | DeskEvent::AlarmClosed { .. }
                | DeskEvent::MessageQueued { .. }
                | DeskEvent::MessageFailed { .. }
                | DeskEvent::SurveyAnswered { .. }
                | DeskEvent::MailReceived { .. }
                | DeskEvent::Resolved { gdpr_due: None, .. }
                | DeskEvent::PostMortemWritten
                | DeskEvent::PostMortemPublished
                | DeskEvent::ToldByChosen { .. }
                | DeskEvent::Noted { .. } => {
                    continue;
                }
            };
            self.ticket(at, &name, happening);
        }
        if let Some(review) = &change.review {
            self.desk(review);
        }
    }

    /// A page handed to its channel (the simulator's channels accept everything).
    fn notification(&mut self, at: i64, notice: &escalation::Notice) {
        let page = &notice.page;
        self.push(Line {
            at,
            kind: "notification.sent",
            fields: vec![
                ("alarm", Value::from(page.alarm)),
                ("step", Value::String(page.step.clone())),
                ("recipient", Value::String(page.recipient.clone())),
                (
                    "channel",
                    Value::String(escalation::channel_key(page.channel).into()),
                ),
                ("address", Value::String(page.address.clone())),
                (
                    "acknowledge_by",
                    notice
                        .acknowledge_by
                        .map_or(Value::Null, |t| Value::String(self.format(t))),
                ),
                (
                    "digest",
                    if notice.digest.is_empty() {
                        Value::Null
                    } else {
                        Value::Array(notice.digest.iter().map(|e| Value::from(e.alarm)).collect())
                    },
                ),
            ],
        });
    }

    fn ticket(&mut self, at: i64, ticket: &str, happening: Happening) {
        let ticket = Value::String(ticket.into());
        let timer_key = |timer: SlaMeasure| Value::String(key(&timer));
        let line = match happening {
            Happening::Status(status) => Line {
                at,
                kind: "ticket.status",
                fields: vec![("ticket", ticket), ("status", Value::String(key(&status)))],
            },
            Happening::Due { timer, due } => Line {
                at,
                kind: "ticket.sla_due",
                fields: vec![
                    ("ticket", ticket),
                    ("timer", timer_key(timer)),
                    ("due", Value::String(self.format(due))),
                ],
            },
            Happening::Met { timer, due } => Line {
                at,
                kind: "ticket.sla_met",
                fields: vec![
                    ("ticket", ticket),
                    ("timer", timer_key(timer)),
                    ("due", Value::String(self.format(due))),
                ],
            },
            Happening::Breached { timer, due } => Line {
                at: due,
                kind: "ticket.sla_breached",
                fields: vec![
                    ("ticket", ticket),
                    ("timer", timer_key(timer)),
                    ("due", Value::String(self.format(due))),
                ],
            },
            Happening::Paused { timer } => Line {
                at,
                kind: "ticket.sla_paused",
                fields: vec![("ticket", ticket), ("timer", timer_key(timer))],
            },
        };
        self.push(line);
    }
}

/// A throw-away SQLite database directory, removed when dropped.
struct TemporaryDirectory(PathBuf);

impl Drop for TemporaryDirectory {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temporary_directory() -> Result<TemporaryDirectory, SimulationError> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    // A name unique to this process and call; a leftover of an earlier process that had the
    // same id is skipped, never reused (`create_dir` refuses an existing directory).
    for _ in 0..1000 {
        let path = std::env::temp_dir().join(format!(
            "vigie-simulation-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        match std::fs::create_dir(&path) {
            Ok(()) => return Ok(TemporaryDirectory(path)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(SimulationError(format!(
                    "répertoire temporaire {} : {e}",
                    path.display()
                )));
            }
        }
    }
    Err(SimulationError(format!(
        "pas de répertoire temporaire libre dans {}",
        std::env::temp_dir().display()
    )))
}

/// The largest scenario file read (its inputs are bounded too: `scenario::MAX_INPUTS`).
pub const MAX_SCENARIO_BYTES: u64 = 64 * 1024 * 1024;

/// Runs the scenario file at `path` and returns its timeline (JSON Lines, each ending in `\n`).
pub async fn run_file(path: &Path) -> Result<String, SimulationError> {
    let (scenario, inventory_text) = read_file(path)?;
    run(&scenario, &inventory_text)
        .await
        .map_err(|e| SimulationError(format!("{} : {}", path.display(), e.0)))
}

/// Runs the scenario file at `path` and returns what its store wrote (`Store::journal`), to
/// compare with a server's replay of the same scenario.
pub async fn journal_of_file(path: &Path) -> Result<Vec<String>, SimulationError> {
    let (scenario, inventory_text) = read_file(path)?;
    simulate(&scenario, &inventory_text, true)
        .await
        .map(|(_, journal)| journal)
        .map_err(|e| SimulationError(format!("{} : {}", path.display(), e.0)))
}

/// A scenario file and its inventory's text.
pub fn read_file(path: &Path) -> Result<(Scenario, String), SimulationError> {
    let size = std::fs::metadata(path)
        .map_err(|e| SimulationError(format!("lecture de {} impossible : {e}", path.display())))?
        .len();
    if size > MAX_SCENARIO_BYTES {
        return Err(SimulationError(format!(
            "{} : {size} octets, au plus {MAX_SCENARIO_BYTES} pour un scénario",
            path.display()
        )));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| SimulationError(format!("lecture de {} impossible : {e}", path.display())))?;
    let scenario =
        Scenario::parse(&text).map_err(|e| SimulationError(format!("{} : {e}", path.display())))?;
    let inventory_text = match &scenario.inventory {
        InventorySource::Inline(text) => text.clone(),
        InventorySource::Path(relative) => {
            let inventory_path = path.parent().unwrap_or(Path::new(".")).join(relative);
            std::fs::read_to_string(&inventory_path).map_err(|e| {
                SimulationError(format!(
                    "{} : inventaire {} illisible : {e}",
                    path.display(),
                    inventory_path.display()
                ))
            })?
        }
    };
    Ok((scenario, inventory_text))
}

/// Runs a parsed scenario with its inventory's text.
pub async fn run(scenario: &Scenario, inventory_text: &str) -> Result<String, SimulationError> {
    simulate(scenario, inventory_text, false)
        .await
        .map(|(timeline, _)| timeline)
}

/// Runs a scenario: its timeline and, if asked, its store's journal.
async fn simulate(
    scenario: &Scenario,
    inventory_text: &str,
    journal: bool,
) -> Result<(String, Vec<String>), SimulationError> {
    let inventory_errors = |errors: Vec<vigie_domain::inventory::file::FileError>| {
        SimulationError(format!(
            "inventaire refusé : {}",
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" ; ")
        ))
    };
    let parsed = InventoryFile::parse(inventory_text).map_err(inventory_errors)?;
    parsed
        .check(&KnownObjects::default())
        .map_err(inventory_errors)?;
    let mut policy = match &scenario.policy {
        Some(overlay) => Policy::default_policy()
            .with_overlay(overlay)
            .map_err(|e| SimulationError(e.to_string()))?,
        None => Policy::default_policy(),
    };

    // The real store, on a database of its own.
    let directory = temporary_directory()?;
    let store = System::open(&format!(
        "sqlite://{}",
        directory.0.join("simulation.sqlite").display()
    ))
    .await
    .map_err(|e| SimulationError(e.to_string()))?;
    let actor = Actor::console("simulation");
    store
        .import(&actor, &parsed.inventory, scenario.start)
        .await
        .map_err(|e| SimulationError(e.to_string()))?;

    for rotation in &scenario.rotations {
        store
            .put_rotation(&actor, rotation, scenario.start)
            .await
            .map_err(|e| SimulationError(e.to_string()))?;
    }
    let mut escalation = Escalation {
        policy: std::sync::Arc::new(policy.clone()),
        webhooks: Vec::new(),
    };
    let mut timeline = Timeline {
        time_zone: scenario.time_zone.time_zone(),
        lines: Vec::new(),
        names: BTreeMap::new(),
        windows: BTreeMap::new(),
    };
    // The one workflow the server's alarm worker drives too.
    let mut workflow = Workflow::load(store.clone(), std::sync::Arc::new(escalation.clone()))
        .await
        .map_err(|e| SimulationError(e.to_string()))?;
    let mut inputs = scenario.inputs.iter().peekable();
    // The server checks the rotations every minute; the simulation at the start and at each
    // instant the one on call may change, which is when that check can find something new.
    let mut rotation_check = (!scenario.rotations.is_empty()).then_some(scenario.start);
    loop {
        let next_input = inputs.peek().map(|i| i.at);
        // The watchdog's next expectation (a heartbeat due) is a timer like the tickets'.
        let next_expectation = store
            .next_expectation()
            .await
            .map_err(|e| SimulationError(e.to_string()))?;
        let next_timer = next_expectation
            .into_iter()
            .chain(workflow.next_wake())
            .chain(rotation_check)
            .chain(
                store
                    .next_timer_due()
                    .await
                    .map_err(|e| SimulationError(e.to_string()))?,
            )
            // A deadline of a ticket.
            .chain(
                store
                    .next_ticket_due()
                    .await
                    .map_err(|e| SimulationError(e.to_string()))?,
            )
            // A page waiting for its hour: the daily digest (NOT-6).
            .chain(
                store
                    .next_notification_due()
                    .await
                    .map_err(|e| SimulationError(e.to_string()))?,
            )
            .min();
        // Inputs first at equal instants: an action at the very deadline meets it.
        let now = match (next_input, next_timer) {
            (Some(input), Some(timer)) => input.min(timer),
            (Some(input), None) => input,
            (None, Some(timer)) => timer,
            (None, None) => break,
        };
        if now > scenario.end {
            break;
        }
        if next_input == Some(now) {
            let input = inputs.next().expect("peeked");
            if let InputKind::Policy { text, note, by } = &input.kind {
                // Issue 26, item 4: what the console's save does, in force at once.
                policy = Policy::default_with(text).map_err(|e| SimulationError(e.to_string()))?;
                let version = store
                    .save_policy(&actor, text, note, None, now)
                    .await
                    .map_err(|e| SimulationError(e.to_string()))?;
                escalation = Escalation {
                    policy: std::sync::Arc::new(policy.clone()),
                    webhooks: escalation.webhooks.clone(),
                };
                workflow.set_escalation(std::sync::Arc::new(escalation.clone()));
                workflow
                    .load_inventory()
                    .await
                    .map_err(|e| SimulationError(e.to_string()))?;
                timeline.push(Line {
                    at: now,
                    kind: "policy.changed",
                    fields: vec![
                        ("version", Value::from(version)),
                        ("by", Value::String(by.to_string())),
                        ("note", Value::String(note.clone())),
                    ],
                });
            } else {
                apply_input(input, &store, &actor, &policy, &mut workflow, &mut timeline).await?;
            }
        } else {
            let report = store
                .watchdog_step(now)
                .await
                .map_err(|e| SimulationError(e.to_string()))?;
            // A heartbeat that did not come is an observation for the alarms.
            let observations: Vec<_> = report.changes.iter().map(|c| c.observation()).collect();
            for change in report.changes {
                timeline.state_change(change);
            }
            timeline.alarms(workflow.observe(&observations, now).await);
            // A site whose probe fell silent has gone dark: an alarm of its own.
            for site in &report.lost_sites {
                timeline.alarms(workflow.monitoring(site, true, now));
            }
        }
        if rotation_check.is_some_and(|at| at <= now) {
            let at = now;
            let uncovered = vigie_domain::oncall::uncovered(&scenario.rotations, at);
            timeline.alarms(workflow.rotations_uncovered(&uncovered, at));
            rotation_check = scenario
                .rotations
                .iter()
                .filter_map(|r| r.next_change_after(at))
                .min();
        }
        notify(&store, &mut workflow, &escalation, &mut timeline, now).await?;
        // What the server's SLA worker does: the desk's deadlines due now are breached.
        for change in store
            .ticket_timers_due(&policy, now, vigie_store::MAX_TICKET_PAGE)
            .await
            .map_err(|e| SimulationError(e.to_string()))?
        {
            timeline.desk(&change);
        }
    }
    let journal = if journal {
        store
            .journal()
            .await
            .map_err(|e| SimulationError(e.to_string()))?
    } else {
        Vec::new()
    };
    store.close().await;
    drop(directory);
    let mut out = timeline.lines.join("\n");
    if !out.is_empty() {
        out.push('\n');
    }
    Ok((out, journal))
}

/// What the server's alarm worker and delivery loop do after each step: the alarms changed are
/// saved with their events (arming escalation timers and queueing the pages already due),
/// the timers due fire, and every page queued is handed to its channel at once.
async fn notify(
    store: &System,
    workflow: &mut Workflow,
    escalation: &Escalation,
    timeline: &mut Timeline,
    now: i64,
) -> Result<(), SimulationError> {
    let failed = |e: vigie_store::StoreError| SimulationError(e.to_string());
    let now_ms = now;
    let saved = workflow.save(now_ms).await.map_err(failed)?;
    let mut fired = saved.fired;
    fired.extend(
        store
            .fire_due_timers(escalation, now_ms, vigie_store::MAX_BATCH)
            .await
            .map_err(failed)?,
    );
    for step in fired {
        timeline.escalation(step);
    }
    for change in &saved.tickets {
        timeline.desk(change);
    }
    loop {
        let pages = store
            .claim_notifications("simulation", now_ms, 60_000, vigie_store::MAX_BATCH)
            .await
            .map_err(failed)?;
        if pages.is_empty() {
            return Ok(());
        }
        for page in pages {
            // The console's pages are in each `alarm.escalated` line's `told` (NOT-1).
            if page.channel() != vigie_domain::policy::Channel::Console {
                match &page.outgoing {
                    vigie_store::Outgoing::Page(notice) => timeline.notification(now, notice),
                    vigie_store::Outgoing::Ticket(message) => timeline.ticket_message(now, message),
                    vigie_store::Outgoing::Report(report) => timeline.report_mail(now, report),
                    // Accounts are not simulated.
                    vigie_store::Outgoing::Account(_) => {}
                }
            }
            let (_, change) = store
                .notification_sent(
                    &page,
                    "simulation",
                    &escalation.policy,
                    now_ms,
                    "simulation",
                )
                .await
                .map_err(failed)?;
            // The acknowledgement sent acknowledges its ticket (SAV-2).
            if let Some(change) = change {
                timeline.desk(&change);
            }
        }
    }
}

/// The real service desk, as the scenario's inputs reach it.
struct Desk<'a> {
    store: &'a System,
    actor: &'a Actor,
    policy: &'a Policy,
}

impl Desk<'_> {
    /// A step on ticket `number` by `by` at `at`, its events written to the timeline.
    async fn step(
        &self,
        timeline: &mut Timeline,
        number: u64,
        step: TicketStep,
        by: &Reference,
        at: i64,
    ) -> Result<(), String> {
        let change = self
            .store
            .ticket_step(self.actor, self.policy, number, step, by, at)
            .await
            .map_err(|e| e.to_string())?;
        timeline.desk(&change);
        Ok(())
    }
}

/// The workflow reads the one-off windows again at `at`; what they change goes to the timeline.
async fn windows_changed(
    workflow: &mut Workflow,
    timeline: &mut Timeline,
    at: i64,
) -> Result<(), String> {
    let events = workflow.load_windows(at).await.map_err(|e| e.to_string())?;
    timeline.alarms(events);
    Ok(())
}

async fn apply_input(
    input: &Input,
    store: &System,
    actor: &Actor,
    policy: &Policy,
    workflow: &mut Workflow,
    timeline: &mut Timeline,
) -> Result<(), SimulationError> {
    let desk = Desk {
        store,
        actor,
        policy,
    };
    let at = input.at;
    let when = timeline.format(at);
    let place = |message: String| {
        SimulationError(format!("entrée n°{} ({when}) : {message}", input.number))
    };
    match &input.kind {
        InputKind::ClientReport {
            ticket,
            channel,
            site,
            equipment,
            text,
            criticality,
            ticket_kind,
        } => {
            if timeline.names.values().any(|name| name == ticket) {
                return Err(place(format!("le ticket « {ticket} » existe déjà")));
            }
            let Record::Site(site_record) = store
                .get(actor, ObjectKind::Site, site)
                .await
                .map_err(|_| place(format!("site « {site} » inconnu")))?
            else {
                return Err(place("site attendu".into()));
            };
            // The real service desk: qualified, timed, acknowledged to the client (SAV-2).
            let report = Report {
                client: site_record.client.clone(),
                site: Some(site.clone()),
                equipment: equipment.clone(),
                kind: *ticket_kind,
                source: match channel {
                    ReportChannel::Email => Source::Email,
                    ReportChannel::Phone => Source::Phone,
                    ReportChannel::Portal => Source::Portal,
                    ReportChannel::Api => Source::Api,
                },
                symptom: text.clone(),
                impact: None,
                stated_criticality: *criticality,
                reporter: None,
                reply_to: None,
                alarm: None,
                topic: None,
            };
            let change = store
                .open_ticket(actor, policy, report, None, None, at)
                .await
                .map_err(|e| place(e.to_string()))?;
            timeline.names.insert(change.ticket.number, ticket.clone());
            timeline.desk(&change);
        }
        InputKind::ClientMail {
            ticket,
            from,
            subject,
            text,
            automatic,
        } => {
            let mail_key = {
                use std::hash::{Hash, Hasher};
                let mut hasher = std::collections::hash_map::DefaultHasher::new();
                (input.number, from, subject, text).hash(&mut hasher);
                format!("simulation-{}-{:016x}", input.number, hasher.finish())
            };
            let mail = vigie_store::mail::IncomingMail {
                key: mail_key,
                from: vigie_domain::EmailAddress::parse(from).ok(),
                from_name: None,
                subject: subject.clone(),
                headers: if *automatic {
                    vec![("auto-submitted".into(), "auto-replied".into())]
                } else {
                    Vec::new()
                },
                text: text.clone(),
                readable: true,
                complete: true,
                size: (subject.len() + text.len()) as u64,
                attachments: Vec::new(),
                attachments_dropped: 0,
            };
            let intake = vigie_store::mail::MailIntake {
                own_addresses: Vec::new(),
                flood_limit: vigie_store::mail::DEFAULT_FLOOD_LIMIT,
            };
            let recorded = store
                .record_mail(policy, &intake, &mail, at)
                .await
                .map_err(|e| place(e.to_string()))?;
            if let (vigie_store::mail::MailOutcome::Opened { ticket: number }, Some(name)) =
                (&recorded.outcome, ticket)
            {
                timeline.names.insert(*number, name.clone());
            }
            let mut fields = vec![
                ("from", Value::String(from.clone())),
                ("subject", Value::String(subject.clone())),
            ];
            match &recorded.outcome {
                vigie_store::mail::MailOutcome::Opened { ticket } => {
                    fields.push(("disposition", Value::String("opened".into())));
                    fields.push(("ticket", Value::String(timeline.name_of(*ticket))));
                }
                vigie_store::mail::MailOutcome::Threaded { ticket, reply } => {
                    fields.push(("disposition", Value::String("threaded".into())));
                    fields.push(("ticket", Value::String(timeline.name_of(*ticket))));
                    fields.push(("reply", Value::String(key(reply))));
                }
                vigie_store::mail::MailOutcome::SetAside { label, .. } => {
                    fields.push(("disposition", Value::String("set_aside".into())));
                    fields.push(("reason", Value::String(label.clone())));
                }
            }
            timeline.push(Line {
                at,
                kind: "mail.received",
                fields,
            });
            if let Some(change) = &recorded.change {
                timeline.desk(change);
            }
        }
        InputKind::Resolution {
            ticket,
            by,
            resolution,
        } => {
            let number = timeline
                .number_of(ticket)
                .ok_or_else(|| place(format!("ticket « {ticket} » inconnu")))?;
            timeline.push(Line {
                at,
                kind: "ticket.action",
                fields: vec![
                    ("ticket", Value::String(ticket.clone())),
                    ("action", Value::String("resolve".into())),
                    ("by", Value::String(by.to_string())),
                ],
            });
            let step = TicketStep::Resolve(resolution.clone());
            desk.step(timeline, number, step, by, at)
                .await
                .map_err(place)?;
        }
        InputKind::Probe {
            site,
            name,
            interval_seconds,
        } => {
            timeline.push(Line {
                at,
                kind: "probe.seen",
                fields: vec![
                    ("site", Value::String(site.to_string())),
                    ("probe", Value::String(name.clone())),
                ],
            });
            let back = store
                .probe_seen(actor, name, site, interval_seconds.saturating_mul(1000), at)
                .await
                .map_err(|e| place(e.to_string()))?;
            if back {
                timeline.alarms(workflow.monitoring(site, false, at));
            }
        }
        InputKind::Diagnosis {
            ticket,
            by,
            checks,
            result,
            on_site_needed,
        } => {
            let number = timeline
                .number_of(ticket)
                .ok_or_else(|| place(format!("ticket « {ticket} » inconnu")))?;
            timeline.push(Line {
                at,
                kind: "ticket.diagnosis",
                fields: vec![
                    ("ticket", Value::String(ticket.clone())),
                    ("by", Value::String(by.to_string())),
                    ("on_site_needed", Value::Bool(*on_site_needed)),
                ],
            });
            let note = vigie_domain::ticket::desk::Note::Diagnosis {
                checks: checks.clone(),
                result: result.clone(),
                on_site_needed: *on_site_needed,
                parts: Vec::new(),
            };
            desk.step(timeline, number, TicketStep::Note(note), by, at)
                .await
                .map_err(place)?;
        }
        InputKind::Action {
            ticket,
            action,
            by,
            text,
            reason,
        } => {
            let number = timeline
                .number_of(ticket)
                .ok_or_else(|| place(format!("ticket « {ticket} » inconnu")))?;
            if let Some(by) = by {
                store
                    .get(actor, ObjectKind::Staff, by)
                    .await
                    .map_err(|_| place(format!("membre du personnel « {by} » inconnu")))?;
            }
            timeline.push(Line {
                at,
                kind: "ticket.action",
                fields: vec![
                    ("ticket", Value::String(ticket.clone())),
                    ("action", Value::String(key(action))),
                    (
                        "by",
                        by.as_ref()
                            .map(|b| Value::String(b.to_string()))
                            .unwrap_or(Value::Null),
                    ),
                ],
            });
            // A step without a name is the client's.
            let client = Reference::parse("client").expect("a valid reference");
            let step = match action {
                vigie_domain::ticket::Action::UpdateClient => TicketStep::UpdateClient {
                    text: text.clone().unwrap_or_default(),
                },
                vigie_domain::ticket::Action::Close => TicketStep::Close {
                    reason: reason.clone(),
                },
                other => TicketStep::Act(*other),
            };
            desk.step(timeline, number, step, by.as_ref().unwrap_or(&client), at)
                .await
                .map_err(place)?;
        }
        InputKind::Observation {
            equipment,
            observation,
            observations,
        } => {
            store
                .get(actor, ObjectKind::Equipment, equipment)
                .await
                .map_err(|_| place(format!("équipement « {equipment} » inconnu")))?;
            timeline.push(Line {
                at,
                kind: "observation.received",
                fields: vec![
                    ("equipment", Value::String(equipment.to_string())),
                    ("observation", observation.clone()),
                ],
            });
            // The same entry point as polled, pushed and trapped observations (SUP-1).
            let report = store
                .record_observations(actor, None, observations, at)
                .await
                .map_err(|e| place(e.to_string()))?;
            for change in report.changes {
                timeline.state_change(change);
            }
            timeline.alarms(workflow.observe(observations, at).await);
        }
        InputKind::Alarm { alarm, step, by } => {
            let Record::Staff(_) = store
                .get(actor, ObjectKind::Staff, by)
                .await
                .map_err(|_| place(format!("membre du personnel « {by} » inconnu")))?
            else {
                return Err(place("membre du personnel attendu".into()));
            };
            // What Vigie has done until now comes before the step (the workflow ticks first).
            let step_taken = match step {
                AlarmStep::Acknowledge => Step::Acknowledge,
                AlarmStep::TakeCharge => Step::TakeCharge,
                AlarmStep::Close(report) => Step::Close(report.clone()),
            };
            let outcome = match workflow.step(*alarm, step_taken, by, at).await {
                Ok(events) => Ok(events),
                Err((before, StepError::Refused(refusal))) => {
                    timeline.alarms(before);
                    Err(refusal)
                }
                Err((_, StepError::Store(error))) => return Err(place(error.to_string())),
            };
            match outcome {
                Ok(events) => timeline.alarms(events),
                // A refused step is part of the story (CLO-2): written, not fatal.
                Err(refusal) => timeline.push(Line {
                    at,
                    kind: "alarm.refused",
                    fields: vec![
                        ("alarm", Value::from(*alarm)),
                        ("action", Value::String(step.key().into())),
                        ("by", Value::String(by.to_string())),
                        ("reason", Value::String(refusal.to_string())),
                    ],
                }),
            }
        }
        InputKind::WindowOpened {
            window,
            kind,
            site,
            equipment,
            until,
            reason,
            by,
        } => {
            let reason = vigie_domain::values::Text::parse(reason)
                .map_err(|e| place(format!("reason : {e}")))?;
            let opened = store
                .open_window(
                    actor,
                    &vigie_store::windows::NewWindow {
                        kind: *kind,
                        site: site.clone(),
                        equipment: equipment.clone(),
                        starts_at: at,
                        ends_at: *until,
                        reason: reason.clone(),
                    },
                    by,
                    at,
                )
                .await
                .map_err(|e| place(e.to_string()))?;
            timeline.windows.insert(window.clone(), opened.id);
            let until = Value::String(timeline.format(*until));
            timeline.push(Line {
                at,
                kind: "window.opened",
                fields: vec![
                    ("window", Value::String(window.clone())),
                    ("kind", Value::String(kind.key().into())),
                    ("site", Value::String(site.to_string())),
                    (
                        "equipment",
                        equipment
                            .as_ref()
                            .map_or(Value::Null, |e| Value::String(e.to_string())),
                    ),
                    ("until", until),
                    ("reason", Value::String(reason.to_string())),
                    ("by", Value::String(by.to_string())),
                ],
            });
            windows_changed(workflow, timeline, at)
                .await
                .map_err(place)?;
        }
        // Applied by the run's loop, which holds the policy in force.
        InputKind::Policy { .. } => {}
        InputKind::WindowEnded { window, by } => {
            let id = *timeline
                .windows
                .get(window)
                .ok_or_else(|| place(format!("fenêtre « {window} » inconnue")))?;
            store
                .end_window(actor, id, by, at)
                .await
                .map_err(|e| place(e.to_string()))?;
            timeline.push(Line {
                at,
                kind: "window.ended",
                fields: vec![
                    ("window", Value::String(window.clone())),
                    ("by", Value::String(by.to_string())),
                ],
            });
            windows_changed(workflow, timeline, at)
                .await
                .map_err(place)?;
        }
    }
    Ok(())
}
