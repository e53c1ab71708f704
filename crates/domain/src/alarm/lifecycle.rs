//! An alarm's life (CLO-1, CLO-2, NOT-8, X-1): raised, acknowledged, taken in charge, resolved
//! when its condition clears, closed with the actions taken, the effective intervention time
//! and the root cause. Every step is an [`AlarmEvent`] saying who and when. The operations here
//! are pure: they check a step against the alarm as it stands and return the alarm changed and
//! its event, or say in French why the step is refused.

use serde::{Deserialize, Serialize};

use crate::Reference;
use crate::alarm::rules::ConditionKey;
use crate::policy::Severity;
use crate::ticket::post_mortem::{Label, Phrase, templates};

/// An alarm's number, given in the order alarms are raised.
pub type AlarmId = u64;

/// Where an alarm stands, from its stamps: each later step implies the earlier ones were
/// possible, not that they happened (an alarm may clear before anyone acknowledges it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Raised,
    Acknowledged,
    TakenInCharge,
    Resolved,
    Closed,
}

impl Status {
    pub fn key(self) -> &'static str {
        match self {
            Status::Raised => "raised",
            Status::Acknowledged => "acknowledged",
            Status::TakenInCharge => "taken_in_charge",
            Status::Resolved => "resolved",
            Status::Closed => "closed",
        }
    }

    pub fn parse(value: &str) -> Option<Status> {
        [
            Status::Raised,
            Status::Acknowledged,
            Status::TakenInCharge,
            Status::Resolved,
            Status::Closed,
        ]
        .into_iter()
        .find(|s| s.key() == value)
    }

    /// In French, for people.
    pub fn label(self) -> &'static str {
        match self {
            Status::Raised => "levée",
            Status::Acknowledged => "acquittée",
            Status::TakenInCharge => "prise en charge",
            Status::Resolved => "résolue",
            Status::Closed => "close",
        }
    }
}

/// Why an alarm is recorded without being notified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Suppression {
    /// Its equipment is behind a parent that is down (« injoignable via son parent »): not a
    /// failure of its own.
    Parent { parent: Reference },
    /// Raised during a maintenance window of its site (ALR-9), which ends at `until`.
    Maintenance {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        window: Option<String>,
        until: i64,
    },
    /// An offline camera within its site's tolerance (ALR-8), or beyond it and counted in the
    /// site's alarm `site_alarm`.
    Tolerance {
        offline: u32,
        tolerated: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        site_alarm: Option<AlarmId>,
    },
}

impl Suppression {
    pub fn key(&self) -> &'static str {
        match self {
            Suppression::Parent { .. } => "parent",
            Suppression::Maintenance { .. } => "maintenance",
            Suppression::Tolerance { .. } => "tolerance",
        }
    }

    /// In French, for people.
    pub fn label(&self) -> String {
        match self {
            Suppression::Parent { parent } => format!("injoignable via son parent {parent}"),
            Suppression::Maintenance { window, .. } => match window {
                Some(window) => format!("fenêtre de maintenance « {window} »"),
                None => "fenêtre de maintenance".into(),
            },
            Suppression::Tolerance {
                offline,
                tolerated,
                site_alarm: None,
            } => format!("{offline} caméra(s) hors ligne, {tolerated} tolérée(s) sur le site"),
            Suppression::Tolerance {
                site_alarm: Some(id),
                ..
            } => format!("comptée dans l'alarme de site n°{id}"),
        }
    }
}

/// Who did a step, and when (UTC epoch ms).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    pub by: Reference,
    pub at: i64,
}

/// What the one who closes an alarm must say (CLO-1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClosureReport {
    /// The actions taken.
    pub actions: String,
    /// The effective intervention time, in minutes.
    pub intervention_minutes: u32,
    pub root_cause: String,
    /// CM-8: the parts replaced, for the intervention report.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts_replaced: Vec<String>,
    /// CM-8: what the client or the integrator should do against a recurrence.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub recommendations: String,
}

impl ClosureReport {
    /// The longest text of each field, in characters.
    pub const MAX_TEXT: usize = 4000;
    /// The most parts one closure lists.
    pub const MAX_PARTS: usize = 50;

    /// A report of what was done, without parts or recommendations.
    pub fn new(actions: &str, intervention_minutes: u32, root_cause: &str) -> ClosureReport {
        ClosureReport {
            actions: actions.to_owned(),
            intervention_minutes,
            root_cause: root_cause.to_owned(),
            parts_replaced: Vec::new(),
            recommendations: String::new(),
        }
    }
    /// The longest intervention recorded: 31 days.
    pub const MAX_MINUTES: u32 = 31 * 24 * 60;

    pub fn check(&self) -> Result<(), LifecycleError> {
        for (field, value) in [
            ("actions (actions menées)", &self.actions),
            ("root_cause (cause première)", &self.root_cause),
        ] {
            if value.trim().is_empty() {
                return Err(LifecycleError::Invalid(format!(
                    "le champ {field} est obligatoire pour clore une alarme (CLO-1)"
                )));
            }
            if value.chars().count() > Self::MAX_TEXT {
                return Err(LifecycleError::Invalid(format!(
                    "le champ {field} dépasse {} caractères",
                    Self::MAX_TEXT
                )));
            }
        }
        if self.recommendations.chars().count() > Self::MAX_TEXT {
            return Err(LifecycleError::Invalid(format!(
                "le champ recommendations (recommandations) dépasse {} caractères",
                Self::MAX_TEXT
            )));
        }
        if self.parts_replaced.len() > Self::MAX_PARTS {
            return Err(LifecycleError::Invalid(format!(
                "parts_replaced (pièces remplacées) : {} au plus",
                Self::MAX_PARTS
            )));
        }
        if let Some(part) = self
            .parts_replaced
            .iter()
            .find(|p| p.trim().is_empty() || p.chars().count() > Self::MAX_TEXT)
        {
            return Err(LifecycleError::Invalid(format!(
                "pièce remplacée vide ou trop longue : « {} »",
                part.chars().take(80).collect::<String>()
            )));
        }
        if self.intervention_minutes > Self::MAX_MINUTES {
            return Err(LifecycleError::Invalid(format!(
                "durée d'intervention de {} minutes : au plus {} (31 jours)",
                self.intervention_minutes,
                Self::MAX_MINUTES
            )));
        }
        Ok(())
    }
}

/// The closure of an alarm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closure {
    pub by: Reference,
    pub at: i64,
    #[serde(flatten)]
    pub report: ClosureReport,
}

/// Why a severity changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeverityCause {
    /// The condition worsened (85 % → 95 %).
    Worsened,
    /// NOT-8: a Major alarm still unresolved 8 h after its first notification.
    Unresolved,
}

/// One alarm: one problem of one equipment (or, for offline cameras beyond tolerance, of one
/// site; or, for an on-call rotation with nobody on call, of the integrator's own operation),
/// from its raising to its closure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alarm {
    pub id: AlarmId,
    /// None for an alarm about no site (a rotation with nobody on call): no client sees it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<Reference>,
    /// None for a site's alarm (ALR-8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equipment: Option<Reference>,
    pub condition: ConditionKey,
    pub severity: Severity,
    pub flapping: bool,
    pub raised_at: i64,
    /// When it was first notified; None while suppressed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notified_at: Option<i64>,
    /// When it last became more severe (NOT-8); with `notified_at`, where the deadlines of its
    /// present severity run from ([`Alarm::told_at_severity`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worsened_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppression: Option<Suppression>,
    /// For a site's alarm: which cameras are offline.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cameras: Vec<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged: Option<Stamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taken_in_charge: Option<Stamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<i64>,
    /// The technician in charge when it was resolved, or who took it in charge after: the one
    /// who may close it (CLO-2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_by: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closure: Option<Closure>,
}

/// One step of an alarm, with who and when. `by` is None for what Vigie did itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlarmEvent {
    pub alarm: AlarmId,
    pub at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<Reference>,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// What happened to an alarm. Each is the `alarm.<kind>` event of the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    Raised {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        site: Option<Reference>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        equipment: Option<Reference>,
        condition: ConditionKey,
        severity: Severity,
        flapping: bool,
    },
    /// Recorded, not notified.
    Suppressed {
        #[serde(flatten)]
        suppression: Suppression,
    },
    /// Sent on to notification (issue: notifications): at raising, or when what suppressed it
    /// ended with the condition still present.
    Notified {
        severity: Severity,
    },
    SeverityChanged {
        from: Severity,
        to: Severity,
        cause: SeverityCause,
    },
    FlappingStarted,
    FlappingEnded,
    /// A site's alarm now counts these offline cameras.
    CamerasChanged {
        cameras: Vec<Reference>,
    },
    Acknowledged,
    TakenInCharge,
    /// The condition cleared; it had been absent since `since`.
    Resolved {
        since: i64,
    },
    Closed {
        #[serde(flatten)]
        report: ClosureReport,
    },
    /// A step of its escalation chain fired (NOT-3, NOT-4, NOT-7, DEC-3): who was told, by
    /// which channel, and which roles nobody could be told as.
    Escalated {
        step: String,
        told: Vec<Told>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        missing: Vec<crate::alarm::escalation::Missing>,
        /// On-call roles answered through a fallback: the site's territory's rotation had
        /// nobody on call (issue 26, item 1).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        routed: Vec<crate::alarm::escalation::Routed>,
        /// NOT-4 (issue 26, item 2): the step invited its people to this emergency conference.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        conference: Option<crate::policy::Invitation>,
        /// The ticket the step opened (NOT-5: maintenance; NOT-7: intervention).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ticket: Option<crate::ticket::desk::TicketNumber>,
    },
    /// A page could not be delivered, for good (or after its last retry).
    NotificationFailed {
        key: String,
        recipient: String,
        /// Who the recipient is, by name, for people (absent from events stored before it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        channel: crate::policy::Channel,
        error: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fallback: Option<crate::policy::Channel>,
    },
}

/// One person (or the console, or a webhook) told by one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Told {
    pub recipient: String,
    pub name: String,
    pub channel: crate::policy::Channel,
}

templates! {
    ALARM_TEMPLATES {
        RAISED = "Alarme levée ({severity}) : {condition}",
        SUPPRESSED = "Enregistrée sans notification : {suppression}",
        NOTIFIED = "Transmise aux notifications ({severity})",
        WORSENED = "Gravité changée : {severity}",
        UNRESOLVED = "Gravité changée : {severity} (non résolue 8 h après sa notification)",
        FLAPPING_STARTED = "Instable : l'état change sans cesse",
        FLAPPING_ENDED = "De nouveau stable",
        CAMERAS_CHANGED = "Caméras hors ligne : {n}",
        ACKNOWLEDGED = "Alarme acquittée",
        TAKEN_IN_CHARGE = "Alarme prise en charge",
        RESOLVED = "Condition disparue",
        CLOSED = "Alarme close : {cause}",
        ESCALATED = "Escalade « {step} » : {told}",
        ESCALATED_ROUTED = "Escalade « {step} » : {told} ({routed})",
        CONFERENCE = "Conférence d'urgence ({number}) : {told} invités",
        NOTIFICATION_FAILED = "Notification à {recipient} en échec",
    }
}

impl EventKind {
    /// What happened, for people (the console's history, the post-mortem's timeline), in
    /// French with [`Phrase::french`] or in the reader's language.
    pub fn phrase(&self) -> Phrase {
        let new = Phrase::new;
        match self {
            EventKind::Raised {
                condition,
                severity,
                ..
            } => new(RAISED)
                .label("severity", Label::Severity(*severity))
                .label("condition", Label::Condition(condition.condition)),
            EventKind::Suppressed { suppression } => {
                new(SUPPRESSED).label("suppression", Label::Suppression(suppression.clone()))
            }
            EventKind::Notified { severity } => {
                new(NOTIFIED).label("severity", Label::Severity(*severity))
            }
            EventKind::SeverityChanged { to, cause, .. } => new(match cause {
                SeverityCause::Worsened => WORSENED,
                SeverityCause::Unresolved => UNRESOLVED,
            })
            .label("severity", Label::Severity(*to)),
            EventKind::FlappingStarted => new(FLAPPING_STARTED),
            EventKind::FlappingEnded => new(FLAPPING_ENDED),
            EventKind::CamerasChanged { cameras } => new(CAMERAS_CHANGED).text("n", cameras.len()),
            EventKind::Acknowledged => new(ACKNOWLEDGED),
            EventKind::TakenInCharge => new(TAKEN_IN_CHARGE),
            EventKind::Resolved { .. } => new(RESOLVED),
            EventKind::Closed { report } => {
                new(CLOSED).text("cause", crate::text::shorten(&report.root_cause, 300))
            }
            EventKind::Escalated {
                told,
                conference: Some(invitation),
                ..
            } => {
                let names: Vec<&str> = told.iter().map(|t| t.name.as_str()).collect();
                new(CONFERENCE)
                    .text("number", invitation.dial_in.clone())
                    .text("told", crate::text::shorten(&names.join(", "), 300))
            }
            EventKind::Escalated {
                step, told, routed, ..
            } => {
                let names: Vec<&str> = told.iter().map(|t| t.name.as_str()).collect();
                let phrase = if routed.is_empty() {
                    new(ESCALATED)
                } else {
                    // Issue 26, item 1: who answered through a fallback, and why.
                    let notes: Vec<&str> = routed.iter().map(|r| r.note.as_str()).collect();
                    new(ESCALATED_ROUTED)
                        .text("routed", crate::text::shorten(&notes.join(" ; "), 300))
                };
                phrase
                    .label("step", Label::Step(step.clone()))
                    .text("told", crate::text::shorten(&names.join(", "), 300))
            }
            EventKind::NotificationFailed {
                recipient, name, ..
            } => new(NOTIFICATION_FAILED).text("recipient", name.as_deref().unwrap_or(recipient)),
        }
    }

    /// What happened, in French.
    pub fn describe(&self) -> String {
        self.phrase().french()
    }

    pub fn key(&self) -> &'static str {
        match self {
            EventKind::Raised { .. } => "raised",
            EventKind::Suppressed { .. } => "suppressed",
            EventKind::Notified { .. } => "notified",
            EventKind::SeverityChanged { .. } => "severity_changed",
            EventKind::FlappingStarted => "flapping_started",
            EventKind::FlappingEnded => "flapping_ended",
            EventKind::CamerasChanged { .. } => "cameras_changed",
            EventKind::Acknowledged => "acknowledged",
            EventKind::TakenInCharge => "taken_in_charge",
            EventKind::Resolved { .. } => "resolved",
            EventKind::Closed { .. } => "closed",
            EventKind::Escalated { .. } => "escalated",
            EventKind::NotificationFailed { .. } => "notification_failed",
        }
    }
}

/// Why a step was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    /// The step does not fit where the alarm stands (HTTP 409).
    #[error("{0}")]
    Conflict(String),
    /// This person may not take the step (HTTP 403).
    #[error("{0}")]
    Forbidden(String),
    /// The step's data is wrong (HTTP 422).
    #[error("{0}")]
    Invalid(String),
    /// No such alarm open (HTTP 404).
    #[error("{0}")]
    Unknown(String),
}

impl Alarm {
    /// A new alarm, raised at `at`.
    pub fn raised(
        id: AlarmId,
        site: Option<Reference>,
        equipment: Option<Reference>,
        condition: ConditionKey,
        severity: Severity,
        flapping: bool,
        at: i64,
    ) -> (Alarm, AlarmEvent) {
        let alarm = Alarm {
            id,
            site: site.clone(),
            equipment: equipment.clone(),
            condition: condition.clone(),
            severity,
            flapping,
            raised_at: at,
            notified_at: None,
            worsened_at: None,
            suppression: None,
            cameras: Vec::new(),
            acknowledged: None,
            taken_in_charge: None,
            resolved_at: None,
            resolved_by: None,
            closure: None,
        };
        let event = alarm.event(
            at,
            None,
            EventKind::Raised {
                site,
                equipment,
                condition,
                severity,
                flapping,
            },
        );
        (alarm, event)
    }

    pub fn status(&self) -> Status {
        if self.closure.is_some() {
            Status::Closed
        } else if self.resolved_at.is_some() {
            Status::Resolved
        } else if self.taken_in_charge.is_some() {
            Status::TakenInCharge
        } else if self.acknowledged.is_some() {
            Status::Acknowledged
        } else {
            Status::Raised
        }
    }

    /// How long it lasted, or has lasted until `now` if not resolved (ms).
    pub fn duration_ms(&self, now: i64) -> i64 {
        self.resolved_at
            .unwrap_or(now)
            .saturating_sub(self.raised_at)
    }

    pub fn event(&self, at: i64, by: Option<Reference>, kind: EventKind) -> AlarmEvent {
        AlarmEvent {
            alarm: self.id,
            at,
            by,
            kind,
        }
    }

    fn refuse_closed(&self) -> Result<(), LifecycleError> {
        if self.closure.is_some() {
            return Err(LifecycleError::Conflict(format!(
                "l'alarme n°{} est close",
                self.id
            )));
        }
        Ok(())
    }

    /// A technician acknowledges it (seen, someone is on it).
    pub fn acknowledge(&mut self, by: &Reference, at: i64) -> Result<AlarmEvent, LifecycleError> {
        self.refuse_closed()?;
        if let Some(stamp) = &self.acknowledged {
            return Err(LifecycleError::Conflict(format!(
                "l'alarme n°{} est déjà acquittée par {}",
                self.id, stamp.by
            )));
        }
        self.acknowledged = Some(Stamp { by: by.clone(), at });
        Ok(self.event(at, Some(by.clone()), EventKind::Acknowledged))
    }

    /// A technician takes it in charge; it is acknowledged by the same step if it was not. A
    /// resolved alarm nobody had in charge may be taken in charge to be closed: its taker
    /// becomes the one who resolved it (CLO-2). Taking over from another technician is allowed
    /// while the alarm is not resolved.
    pub fn take_charge(
        &mut self,
        by: &Reference,
        at: i64,
    ) -> Result<Vec<AlarmEvent>, LifecycleError> {
        self.refuse_closed()?;
        if self
            .taken_in_charge
            .as_ref()
            .is_some_and(|stamp| &stamp.by == by)
        {
            return Err(LifecycleError::Conflict(format!(
                "l'alarme n°{} est déjà prise en charge par {by}",
                self.id
            )));
        }
        if self.resolved_at.is_some()
            && let Some(resolver) = &self.resolved_by
        {
            return Err(LifecycleError::Conflict(format!(
                "l'alarme n°{} est résolue, par {resolver} qui seul peut la clore (ou son responsable)",
                self.id
            )));
        }
        let mut events = Vec::new();
        if self.acknowledged.is_none() {
            events.push(self.acknowledge(by, at)?);
        }
        self.taken_in_charge = Some(Stamp { by: by.clone(), at });
        if self.resolved_at.is_some() {
            self.resolved_by = Some(by.clone());
        }
        events.push(self.event(at, Some(by.clone()), EventKind::TakenInCharge));
        Ok(events)
    }

    /// Its condition cleared (absent since `since`): resolved by the technician in charge, if any.
    pub fn resolve(&mut self, at: i64, since: i64) -> Option<AlarmEvent> {
        if self.resolved_at.is_some() || self.closure.is_some() {
            return None;
        }
        self.resolved_at = Some(at);
        self.resolved_by = self.taken_in_charge.as_ref().map(|stamp| stamp.by.clone());
        Some(self.event(at, None, EventKind::Resolved { since }))
    }

    /// Raises its severity (never lowers it).
    pub fn change_severity(
        &mut self,
        to: Severity,
        cause: SeverityCause,
        at: i64,
    ) -> Option<AlarmEvent> {
        if !crate::alarm::worse(to, self.severity) || self.closure.is_some() {
            return None;
        }
        let from = self.severity;
        self.severity = to;
        self.worsened_at = Some(at);
        Some(self.event(at, None, EventKind::SeverityChanged { from, to, cause }))
    }

    /// When its present severity was told: its notification, or its worsening after it (the
    /// new chain's pages, NOT-8). None while it is not told.
    pub fn told_at_severity(&self) -> Option<i64> {
        let notified = self.notified_at?;
        Some(self.worsened_at.map_or(notified, |w| w.max(notified)))
    }

    /// Closes it (CLO-1, CLO-2): only once resolved, only by the technician who resolved it or
    /// that technician's manager (`resolver_manager`, from the staff directory), with the
    /// report filled in. The procedure lets the manager close "when the technician is
    /// unavailable"; Vigie cannot know that, so the manager may close at any time, and the
    /// event says who did.
    pub fn close(
        &mut self,
        by: &Reference,
        resolver_manager: Option<&Reference>,
        report: ClosureReport,
        at: i64,
    ) -> Result<AlarmEvent, LifecycleError> {
        self.refuse_closed()?;
        if self.resolved_at.is_none() {
            return Err(LifecycleError::Conflict(format!(
                "l'alarme n°{} n'est pas résolue : sa condition est toujours présente",
                self.id
            )));
        }
        let Some(resolver) = &self.resolved_by else {
            return Err(LifecycleError::Conflict(format!(
                "l'alarme n°{} s'est résolue sans technicien : un technicien doit la prendre en charge pour la clore",
                self.id
            )));
        };
        if by != resolver && resolver_manager != Some(by) {
            return Err(LifecycleError::Forbidden(format!(
                "seul {resolver}, qui a résolu l'alarme n°{}, ou son responsable peut la clore (CLO-2)",
                self.id
            )));
        }
        report.check()?;
        self.closure = Some(Closure {
            by: by.clone(),
            at,
            report: report.clone(),
        });
        Ok(self.event(at, Some(by.clone()), EventKind::Closed { report }))
    }
}
