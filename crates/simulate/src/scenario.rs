//! The scenario file (`docs/simulate.md`): start and end instants, the inventory (a path, in the
//! `vigie import` format), an optional policy overlay, and a timeline of inputs. Every error
//! names its line.

use serde::Deserialize;
use toml::Spanned;
use vigie_domain::Reference;
use vigie_domain::alarm::lifecycle::{AlarmId, ClosureReport};
use vigie_domain::alarm::window::OneOffKind;
use vigie_domain::calendar::{LocalResolution, parse_instant};
use vigie_domain::supervision::{CheckName, CheckStatus, MetricName, Observation, Sample, checks};
use vigie_domain::text::french_serde_message;
use vigie_domain::ticket::desk::{DataImpact, Kind, Resolution};
use vigie_domain::ticket::{Action, StatedCriticality};
use vigie_domain::values::TimeZoneName;

/// Most inputs a scenario may hold.
pub const MAX_INPUTS: usize = 100_000;

/// How a client report arrived (SAV-1, CM-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportChannel {
    Email,
    Phone,
    Portal,
    Api,
}

#[derive(Debug, Clone, PartialEq)]
pub enum InputKind {
    ClientReport {
        ticket: String,
        channel: ReportChannel,
        site: Reference,
        equipment: Option<Reference>,
        text: String,
        criticality: Option<StatedCriticality>,
        /// `request` unless said (`incident`, `maintenance`).
        ticket_kind: Kind,
    },
    /// A message to the support mailbox (SAV-1): it opens a ticket (named `ticket` in the
    /// timeline), threads into one, or is set aside.
    ClientMail {
        ticket: Option<String>,
        from: String,
        subject: String,
        text: String,
        automatic: bool,
    },
    /// A technician resolves a ticket with its cause, actions and impact on the security data
    /// (INC-5, CM-8).
    Resolution {
        ticket: String,
        by: Reference,
        resolution: Resolution,
    },
    Action {
        ticket: String,
        action: Action,
        by: Option<Reference>,
        /// `update_client`: the point given to the client (INC-4), required.
        text: Option<String>,
        /// `close`: why it is closed without the client's confirmation (SAV-6).
        reason: Option<String>,
    },
    /// What supervision saw of an equipment: echoed as given, and recorded through the same
    /// entry point as polled and pushed observations.
    Observation {
        equipment: Reference,
        observation: serde_json::Value,
        observations: Vec<Observation>,
    },
    /// A site probe reports (its own heartbeat): expected again within one interval and a
    /// half; silent beyond, its site's monitoring path is down.
    Probe {
        site: Reference,
        name: String,
        interval_seconds: i64,
    },
    /// CM-5, SAV-5: the remote diagnosis of a ticket, saying whether a visit is needed.
    Diagnosis {
        ticket: String,
        by: Reference,
        checks: Vec<String>,
        result: String,
        on_site_needed: bool,
    },
    /// A person's step on an alarm, by its number in the timeline.
    Alarm {
        alarm: AlarmId,
        step: AlarmStep,
        by: Reference,
    },
    /// ALR-9, issue 25 item 7: a one-off maintenance or silence opened from the console, named
    /// `window` in the timeline, on a site or one equipment, from its instant to `until`.
    WindowOpened {
        window: String,
        kind: OneOffKind,
        site: Reference,
        equipment: Option<Reference>,
        until: i64,
        reason: String,
        by: Reference,
    },
    /// A one-off window ended by a person before its end.
    WindowEnded { window: String, by: Reference },
    /// Issue 26, item 4: a person saves a new version of the policy (`text`, the TOML laid
    /// over the default policy) from the console; it applies at once, without restart.
    Policy {
        text: String,
        note: String,
        by: Reference,
    },
}

/// What a person does to an alarm (CLO-1, CLO-2).
#[derive(Debug, Clone, PartialEq)]
pub enum AlarmStep {
    Acknowledge,
    TakeCharge,
    Close(ClosureReport),
}

impl AlarmStep {
    pub fn key(&self) -> &'static str {
        match self {
            AlarmStep::Acknowledge => "acknowledge",
            AlarmStep::TakeCharge => "take_charge",
            AlarmStep::Close(_) => "close",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    pub at: i64,
    /// Its position in the file, from 1, for messages.
    pub number: usize,
    pub kind: InputKind,
}

/// Where the scenario's inventory comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum InventorySource {
    /// A file in the `vigie import` format, relative to the scenario file.
    Path(String),
    /// The same format, written inline under `[inventory]`.
    Inline(String),
}

#[derive(Debug, Clone)]
pub struct Scenario {
    pub start: i64,
    pub end: i64,
    pub time_zone: TimeZoneName,
    pub inventory: InventorySource,
    pub policy: Option<toml::Table>,
    /// On-call rotations (`[[rotation]]`, the format of `docs/oncall.md`).
    pub rotations: Vec<vigie_domain::oncall::Rotation>,
    /// Sorted by instant; inputs at the same instant keep the file's order.
    pub inputs: Vec<Input>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    description: Option<String>,
    start: String,
    end: String,
    #[serde(default)]
    time_zone: TimeZoneName,
    inventory: toml::Value,
    policy: Option<toml::Table>,
    #[serde(default, rename = "rotation")]
    rotations: Vec<vigie_domain::oncall::Rotation>,
    #[serde(default, rename = "input")]
    inputs: Vec<Spanned<toml::Table>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
enum RawKind {
    ClientReport,
    ClientMail,
    Resolution,
    Diagnosis,
    Probe,
    Action,
    Observation,
    Alarm,
    Maintenance,
    Silence,
    WindowEnd,
    Policy,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInput {
    at: String,
    #[serde(rename = "type")]
    kind: RawKind,
    ticket: Option<String>,
    channel: Option<ReportChannel>,
    site: Option<Reference>,
    equipment: Option<Reference>,
    text: Option<String>,
    criticality: Option<StatedCriticality>,
    /// A ticket's action, or an alarm's step.
    action: Option<String>,
    /// A ticket closed without the client's confirmation: why (SAV-6).
    reason: Option<String>,
    by: Option<Reference>,
    alarm: Option<AlarmId>,
    actions: Option<String>,
    intervention_minutes: Option<u32>,
    root_cause: Option<String>,
    reachable: Option<bool>,
    metric: Option<String>,
    value: Option<f64>,
    trap: Option<String>,
    heartbeat: Option<bool>,
    check: Option<String>,
    status: Option<CheckStatus>,
    detail: Option<String>,
    ticket_kind: Option<Kind>,
    from: Option<String>,
    subject: Option<String>,
    /// A mail is an auto-reply (`Auto-Submitted: auto-replied`).
    automatic: Option<bool>,
    footage_lost: Option<bool>,
    accesses_untracked: Option<bool>,
    /// What data was lost (INC-5).
    lost: Option<String>,
    parts: Option<Vec<String>>,
    recommendations: Option<String>,
    /// A site probe's name and reporting interval (seconds).
    probe: Option<String>,
    interval_seconds: Option<i64>,
    /// A diagnosis: the checks done, and whether a visit is needed (SAV-5).
    checks: Option<Vec<String>>,
    result: Option<String>,
    on_site_needed: Option<bool>,
    /// A one-off window's name in the timeline, and its end.
    window: Option<String>,
    until: Option<String>,
    /// A policy version's note (its text is `text`).
    note: Option<String>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

impl Scenario {
    pub fn parse(text: &str) -> Result<Scenario, String> {
        let raw: RawScenario = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(0);
            format!("ligne {line} : {}", french_serde_message(e.message()))
        })?;
        let _ = raw.description;
        if raw.inputs.len() > MAX_INPUTS {
            return Err(format!("au plus {MAX_INPUTS} entrées par scénario"));
        }
        let time_zone = raw.time_zone.time_zone();
        let instant = |value: &str, what: &str| -> Result<i64, String> {
            let (at, resolution) =
                parse_instant(value, &time_zone).map_err(|e| format!("{what} : {e}"))?;
            if resolution != LocalResolution::Unique {
                return Err(format!(
                    "{what} : « {value} » : {resolution} ; écrivez le décalage (+01:00 ou +02:00)"
                ));
            }
            Ok(at)
        };
        let start = instant(&raw.start, "start")?;
        let end = instant(&raw.end, "end")?;
        if end < start {
            return Err("end précède start".into());
        }
        let inventory = match raw.inventory {
            toml::Value::String(path) => InventorySource::Path(path),
            toml::Value::Table(table) => InventorySource::Inline(toml::to_string(&table).map_err(|e| format!("inventory : {e}"))?),
            _ => return Err("inventory : un chemin de fichier (\"inventaire.toml\") ou une table [inventory] au format d'import".into()),
        };
        let mut inputs = Vec::with_capacity(raw.inputs.len());
        for (index, spanned) in raw.inputs.into_iter().enumerate() {
            let line = line_of(text, spanned.span().start);
            let fail =
                |message: String| format!("ligne {line} : entrée n°{} : {message}", index + 1);
            let input: RawInput = toml::Value::Table(spanned.into_inner())
                .try_into()
                .map_err(|e: toml::de::Error| fail(french_serde_message(&e.to_string())))?;
            let at = instant(&input.at, "at").map_err(&fail)?;
            if at < start || at > end {
                return Err(fail("instant hors de [start, end]".into()));
            }
            let missing = |field: &str| fail(format!("champ obligatoire manquant : « {field} »"));
            let kind = match input.kind {
                RawKind::ClientReport => InputKind::ClientReport {
                    ticket: input.ticket.ok_or_else(|| missing("ticket"))?,
                    channel: input.channel.ok_or_else(|| missing("channel"))?,
                    site: input.site.ok_or_else(|| missing("site"))?,
                    equipment: input.equipment,
                    text: input.text.ok_or_else(|| missing("text"))?,
                    criticality: input.criticality,
                    ticket_kind: input.ticket_kind.unwrap_or(Kind::Request),
                },
                RawKind::ClientMail => InputKind::ClientMail {
                    ticket: input.ticket,
                    from: input.from.ok_or_else(|| missing("from"))?,
                    subject: input.subject.ok_or_else(|| missing("subject"))?,
                    text: input.text.unwrap_or_default(),
                    automatic: input.automatic.unwrap_or(false),
                },
                RawKind::Resolution => InputKind::Resolution {
                    ticket: input.ticket.ok_or_else(|| missing("ticket"))?,
                    by: input.by.ok_or_else(|| missing("by"))?,
                    resolution: Resolution {
                        root_cause: input.root_cause.ok_or_else(|| missing("root_cause"))?,
                        actions: input.actions.ok_or_else(|| missing("actions"))?,
                        intervention_minutes: input
                            .intervention_minutes
                            .ok_or_else(|| missing("intervention_minutes"))?,
                        data_impact: DataImpact {
                            footage_lost: input.footage_lost.unwrap_or(false),
                            accesses_untracked: input.accesses_untracked.unwrap_or(false),
                            description: input.lost.unwrap_or_default(),
                        },
                        parts_replaced: input.parts.unwrap_or_default(),
                        recommendations: input.recommendations.unwrap_or_default(),
                    },
                },
                RawKind::Probe => {
                    // The bounds a probe's push has at the server.
                    let interval_seconds = input.interval_seconds.unwrap_or(60);
                    if !(10..=86_400).contains(&interval_seconds) {
                        return Err(fail(format!(
                            "interval_seconds : de 10 à 86 400 (reçu {interval_seconds})"
                        )));
                    }
                    InputKind::Probe {
                        site: input.site.ok_or_else(|| missing("site"))?,
                        name: input.probe.ok_or_else(|| missing("probe"))?,
                        interval_seconds,
                    }
                }
                RawKind::Maintenance | RawKind::Silence => {
                    let until = instant(&input.until.ok_or_else(|| missing("until"))?, "until")
                        .map_err(&fail)?;
                    if until <= at {
                        return Err(fail("until doit suivre at".into()));
                    }
                    InputKind::WindowOpened {
                        window: input.window.ok_or_else(|| missing("window"))?,
                        kind: match input.kind {
                            RawKind::Silence => OneOffKind::Silence,
                            _ => OneOffKind::Maintenance,
                        },
                        site: input.site.ok_or_else(|| missing("site"))?,
                        equipment: input.equipment,
                        until,
                        reason: input.reason.ok_or_else(|| missing("reason"))?,
                        by: input.by.ok_or_else(|| missing("by"))?,
                    }
                }
                RawKind::Policy => {
                    let text = input.text.ok_or_else(|| missing("text"))?;
                    // Refused when the scenario is read, as the console refuses it.
                    vigie_domain::policy::Policy::default_with(&text)
                        .map_err(|e| fail(format!("politique refusée : {e}")))?;
                    InputKind::Policy {
                        text,
                        note: input.note.unwrap_or_default(),
                        by: input.by.ok_or_else(|| missing("by"))?,
                    }
                }
                RawKind::WindowEnd => InputKind::WindowEnded {
                    window: input.window.ok_or_else(|| missing("window"))?,
                    by: input.by.ok_or_else(|| missing("by"))?,
                },
                RawKind::Diagnosis => InputKind::Diagnosis {
                    ticket: input.ticket.ok_or_else(|| missing("ticket"))?,
                    by: input.by.ok_or_else(|| missing("by"))?,
                    checks: input.checks.unwrap_or_default(),
                    result: input.result.ok_or_else(|| missing("result"))?,
                    on_site_needed: input
                        .on_site_needed
                        .ok_or_else(|| missing("on_site_needed"))?,
                },
                RawKind::Action => {
                    let action = input.action.ok_or_else(|| missing("action"))?;
                    let action =
                        serde_json::from_value::<Action>(serde_json::Value::String(action.clone()))
                            .map_err(|_| {
                                fail(format!("action de ticket inconnue : « {action} »"))
                            })?;
                    // INC-4: an update is what the client is told.
                    if action == Action::UpdateClient && input.text.is_none() {
                        return Err(missing("text"));
                    }
                    InputKind::Action {
                        ticket: input.ticket.ok_or_else(|| missing("ticket"))?,
                        action,
                        by: input.by,
                        text: input.text,
                        reason: input.reason,
                    }
                }
                RawKind::Alarm => {
                    let action = input.action.ok_or_else(|| missing("action"))?;
                    let step = match action.as_str() {
                        "acknowledge" => AlarmStep::Acknowledge,
                        "take_charge" => AlarmStep::TakeCharge,
                        "close" => AlarmStep::Close(ClosureReport {
                            actions: input.actions.ok_or_else(|| missing("actions"))?,
                            intervention_minutes: input
                                .intervention_minutes
                                .ok_or_else(|| missing("intervention_minutes"))?,
                            root_cause: input.root_cause.ok_or_else(|| missing("root_cause"))?,
                            parts_replaced: input.parts.clone().unwrap_or_default(),
                            recommendations: input.recommendations.clone().unwrap_or_default(),
                        }),
                        other => {
                            return Err(fail(format!(
                                "action d'alarme inconnue : « {other} » (acknowledge, take_charge, close)"
                            )));
                        }
                    };
                    InputKind::Alarm {
                        alarm: input.alarm.ok_or_else(|| missing("alarm"))?,
                        step,
                        by: input.by.ok_or_else(|| missing("by"))?,
                    }
                }
                RawKind::Observation => {
                    let equipment = input.equipment.ok_or_else(|| missing("equipment"))?;
                    let check_name = |default: &str| {
                        CheckName::parse(input.check.as_deref().unwrap_or(default))
                            .map_err(|e| fail(e.to_string()))
                    };
                    let base = |check: CheckName| Observation {
                        equipment: equipment.clone(),
                        check,
                        at,
                        status: None,
                        detail: input.detail.clone(),
                        samples: Vec::new(),
                        facts: std::collections::BTreeMap::new(),
                    };
                    let mut echo = serde_json::Map::new();
                    let mut observations = Vec::new();
                    if let Some(reachable) = input.reachable {
                        echo.insert("reachable".into(), reachable.into());
                        let status = if reachable {
                            CheckStatus::Up
                        } else {
                            CheckStatus::Down
                        };
                        observations.push(Observation {
                            status: Some(status),
                            ..base(check_name(checks::PING)?)
                        });
                    }
                    if let Some(status) = input.status {
                        echo.insert("status".into(), status.key().into());
                        let check = input.check.as_deref().ok_or_else(|| missing("check"))?;
                        echo.insert("check".into(), check.into());
                        observations.push(Observation {
                            status: Some(status),
                            ..base(check_name(check)?)
                        });
                    }
                    if let Some(metric) = input.metric {
                        let value = input.value.ok_or_else(|| missing("value"))?;
                        echo.insert("metric".into(), metric.clone().into());
                        echo.insert(
                            "value".into(),
                            serde_json::Number::from_f64(value)
                                .map(serde_json::Value::Number)
                                .ok_or_else(|| fail("valeur non finie".into()))?,
                        );
                        let name = MetricName::parse(&metric).map_err(|e| fail(e.to_string()))?;
                        observations.push(Observation {
                            samples: vec![Sample { name, value }],
                            ..base(check_name(checks::AGENT)?)
                        });
                    }
                    if let Some(trap) = input.trap {
                        echo.insert("trap".into(), trap.clone().into());
                        let mut observation = base(check_name("snmp.trap")?);
                        observation.facts.insert("trap_oid".into(), trap);
                        observations.push(observation);
                    }
                    match input.heartbeat {
                        Some(true) => {
                            echo.insert("heartbeat".into(), true.into());
                            observations.push(Observation { status: Some(CheckStatus::Up), ..base(check_name(checks::HEARTBEAT)?) });
                        }
                        Some(false) => return Err(fail("heartbeat = false : un battement manquant se constate, il ne s'envoie pas (omettez l'entrée)".into())),
                        None => {}
                    }
                    if observations.is_empty() {
                        return Err(fail("une observation dit reachable, check et status, metric et value, trap ou heartbeat".into()));
                    }
                    for observation in &observations {
                        observation.validate().map_err(|e| fail(e.to_string()))?;
                    }
                    InputKind::Observation {
                        equipment,
                        observation: serde_json::Value::Object(echo),
                        observations,
                    }
                }
            };
            inputs.push(Input {
                at,
                number: index + 1,
                kind,
            });
        }
        inputs.sort_by_key(|i| (i.at, i.number));
        for rotation in &raw.rotations {
            rotation
                .check()
                .map_err(|e| format!("astreinte {} : {e}", rotation.name))?;
        }
        Ok(Scenario {
            start,
            end,
            time_zone: raw.time_zone,
            inventory,
            policy: raw.policy,
            rotations: raw.rotations,
            inputs,
        })
    }
}
