//! INC-6: the post-mortem of a P1 incident — due within the policy's `post_mortem_within` (5
//! business days) of its resolution and shared with the client: the detailed timeline, built
//! from the ticket's and its alarm's events, the root-cause analysis, the corrective and
//! preventive measures with owners and due dates; anonymised for the integrator's internal
//! lessons when the client asks.

use serde::{Deserialize, Serialize};

use super::Action;
use super::desk::{DeskError, EventKind, MAX_TEXT, Note, TicketEvent, priority_label};
use super::message::measure_label;
use crate::alarm::lifecycle::{
    ALARM_TEMPLATES, AlarmEvent, EventKind as AlarmEventKind, Suppression,
};
use crate::alarm::rules::Condition;
use crate::inventory::{Priority, SlaMeasure};
use crate::policy::Severity;

/// The most measures a post-mortem lists.
pub const MAX_MEASURES: usize = 50;

/// What the post-mortem of a ticket holds, once due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostMortem {
    pub due: i64,
    /// The root-cause analysis.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub analysis: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub measures: Vec<Measure>,
    /// When it was shared with the client: the duty is met.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_at: Option<i64>,
    /// Its deadline passed before it was shared (the operations manager is told).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub overdue: bool,
}

/// Corrective (this incident) or preventive (the next one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeasureKind {
    Corrective,
    Preventive,
}

/// One measure of the plan, with who carries it and by when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Measure {
    pub kind: MeasureKind,
    pub action: String,
    /// Who carries it: a person, a team, the client.
    pub owner: String,
    /// By when (ms).
    pub due: i64,
}

/// What people write in a post-mortem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostMortemText {
    pub analysis: String,
    pub measures: Vec<Measure>,
}

impl PostMortemText {
    pub fn check(&self) -> Result<(), DeskError> {
        if self.analysis.chars().count() > MAX_TEXT * 4 {
            return Err(DeskError::Invalid(format!(
                "analysis (analyse des causes) : {} caractères au plus",
                MAX_TEXT * 4
            )));
        }
        if self.measures.len() > MAX_MEASURES {
            return Err(DeskError::Invalid(format!(
                "measures : {MAX_MEASURES} mesures au plus"
            )));
        }
        for measure in &self.measures {
            for (field, value, max) in [
                ("measures.action (mesure)", &measure.action, 1000),
                ("measures.owner (responsable)", &measure.owner, 200),
            ] {
                if value.trim().is_empty() || value.chars().count() > max {
                    return Err(DeskError::Invalid(format!(
                        "le champ {field} est obligatoire ({max} caractères au plus)"
                    )));
                }
            }
        }
        Ok(())
    }
}

impl PostMortem {
    /// Whether it can be shared (INC-6): an analysis, at least one corrective and one
    /// preventive measure.
    pub fn is_complete(&self) -> bool {
        !self.analysis.trim().is_empty()
            && self
                .measures
                .iter()
                .any(|m| m.kind == MeasureKind::Corrective)
            && self
                .measures
                .iter()
                .any(|m| m.kind == MeasureKind::Preventive)
    }
}

/// One line of the timeline: `what` in French (a `String`, as the post-mortem shows it), or
/// as the [`Phrase`] to say in the reader's language (the console's and the portal's
/// histories).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimelineEntry<What = String> {
    pub at: i64,
    /// `ticket` or `alarme n°<id>`.
    pub source: String,
    /// Who, when someone: a reference of the staff or the client's user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    pub what: What,
}

// ---------------------------------------------------------------------------------------------
// Phrases: each event said once, in French, with named values, for every language.

/// The French sentence of a [`Phrase`], with `{name}` placeholders: the key of its translation
/// too. Made only by [`templates!`], so that every template is in its module's list (and so in
/// [`all_templates`], which the server checks against its English).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Template(&'static str);

impl Template {
    /// For [`templates!`] only: a template stands in its module's list.
    #[doc(hidden)]
    pub(crate) const fn listed(french: &'static str) -> Template {
        Template(french)
    }

    pub fn french(self) -> &'static str {
        self.0
    }
}

/// Declares a module's templates: each a constant, and all of them in the list `$list`.
macro_rules! templates {
    ($list:ident { $($name:ident = $french:literal,)* }) => {
        $(const $name: $crate::ticket::post_mortem::Template =
            $crate::ticket::post_mortem::Template::listed($french);)*
        /// Every template this module says its events with.
        pub const $list: &[$crate::ticket::post_mortem::Template] = &[$($name),*];
    };
}
pub(crate) use templates;

/// Every template of the timeline and of the histories (an alarm's events, a ticket's): the
/// French keys a translation must have.
pub fn all_templates() -> Vec<&'static str> {
    ALARM_TEMPLATES
        .iter()
        .chain(TICKET_TEMPLATES)
        .map(|template| template.french())
        .collect()
}

/// The name of one of the domain's values, said in the reader's language (its French is the
/// domain's label; a translation names it by its own exhaustive `match`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Label {
    Priority(Priority),
    Measure(SlaMeasure),
    Action(Action),
    Severity(Severity),
    Condition(Condition),
    Suppression(Suppression),
    /// An escalation step's label (`critical/astreinte#2`), said in words.
    Step(String),
    /// A member of staff: their reference here, their name where a page knows it.
    Person(crate::Reference),
}

impl Label {
    pub fn french(&self) -> String {
        match self {
            Label::Priority(priority) => priority_label(*priority).into(),
            Label::Measure(measure) => measure_label(*measure).into(),
            Label::Action(action) => action_label(*action).into(),
            Label::Severity(severity) => severity.label().into(),
            Label::Condition(condition) => condition.label().into(),
            Label::Suppression(suppression) => suppression.label(),
            Label::Step(step) => crate::alarm::escalation::step_words(step),
            Label::Person(person) => person.to_string(),
        }
    }
}

/// A value put in a phrase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    /// Said as written in every language: what people typed (already shortened), a
    /// reference, a number, a policy's name.
    Text(String),
    /// A domain value, named in the reader's language.
    Label(Label),
}

/// An event said once: its template and the values of its placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phrase {
    pub template: Template,
    pub args: Vec<(&'static str, Arg)>,
}

impl Phrase {
    pub fn new(template: Template) -> Phrase {
        Phrase {
            template,
            args: Vec::new(),
        }
    }

    /// With `{name}` said as written.
    pub fn text(mut self, name: &'static str, value: impl ToString) -> Phrase {
        self.args.push((name, Arg::Text(value.to_string())));
        self
    }

    /// With `{name}` a domain value's name.
    pub fn label(mut self, name: &'static str, label: Label) -> Phrase {
        self.args.push((name, Arg::Label(label)));
        self
    }

    /// In French: the template, filled.
    pub fn french(&self) -> String {
        self.say(self.template.french(), Label::french)
    }

    /// In another language: `template` is the template's translation, `label` names a
    /// label in that language.
    pub fn say(&self, template: &str, mut label: impl FnMut(&Label) -> String) -> String {
        crate::text::fill(template, |name| {
            self.args
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, arg)| match arg {
                    Arg::Text(text) => text.clone(),
                    Arg::Label(value) => label(value),
                })
        })
    }
}

use crate::text::shorten as short;

templates! {
    TICKET_TEMPLATES {
        OPENED = "Ticket ouvert, priorité {priority}",
        REQUALIFIED = "Priorité réévaluée de {from} à {to} : {reason}",
        ASSIGNED = "Confié à {to}",
        SLA_WAIVED = "Délai sans objet, aucune visite nécessaire : {measure}",
        LOCATED_EQUIPMENT = "Rattaché au site {site}, équipement {equipment}",
        LOCATED_SITE = "Rattaché au site {site}",
        LOCATED_OTHER = "Rattachement modifié",
        STEP = "Étape : {action}",
        SLA_MET = "Délai tenu : {measure}",
        SLA_BREACHED = "Délai dépassé : {measure}",
        MESSAGE_QUEUED = "Message à {recipient}",
        MESSAGE_FAILED = "Message à {recipient} en échec : {error}",
        CLOSURE_REMINDER = "Relance de clôture au client",
        AUTO_CLOSED = "Clos sans réponse du client",
        FOLLOW_UP_HOLDS = "Suivi : pas de rechute",
        // One relapse and more are said alike in French, not in every language.
        FOLLOW_UP_RELAPSE = "Suivi : 1 rechute(s)",
        FOLLOW_UP_RELAPSES = "Suivi : {n} rechute(s)",
        MESSAGE = "Message avec {with} : {text}",
        CALL = "Appel avec {with} : {summary}",
        DIAGNOSIS = "Diagnostic : {result}",
        INTERVENTION = "Intervention planifiée avec {technician}",
        ESCALATION = "Escaladé à {to} : {reason}",
        SURVEY_ANSWERED = "Enquête de satisfaction répondue",
        RECURRENCE = "Incident récurrent : revue technique n°{review}",
        CLOSED_WITHOUT_CONFIRMATION = "Clos sans confirmation écrite du client : {reason}",
        ALARM_GROUPED = "Alarme mineure n°{alarm} regroupée : {symptom}",
        ALARM_ESCALATED = "Escalade de l'alarme n°{alarm} ({step})",
        ALARM_ESCALATED_TO_INTERVENTION =
            "Escalade de l'alarme n°{alarm} ({step}) : le ticket devient une intervention",
        ALARM_CLOSED = "Alarme n°{alarm} close : {cause}",
        MAIL_RECEIVED = "Email de {from} : {subject}",
        RESOLVED = "Résolu : {cause} ({minutes} min d'intervention)",
        GDPR_INFORMED = "Client informé de la perte de données (RGPD)",
        GDPR_OVERDUE = "Information RGPD en retard",
        POST_MORTEM_DUE = "Post-mortem à rédiger",
        POST_MORTEM_WRITTEN = "Post-mortem rédigé",
        POST_MORTEM_PUBLISHED = "Post-mortem partagé avec le client",
        POST_MORTEM_OVERDUE = "Post-mortem en retard",
        TOLD_BY_EMAIL = "Le client sera prévenu par email",
        TOLD_BY_SMS = "Le client sera prévenu par SMS",
        TOLD_BY_BOTH = "Le client sera prévenu par email et par SMS",
    }
}

/// A ticket's event, or None for what a timeline leaves out (message bookkeeping is summed
/// up by its recipients; timers armed are not events of the incident). What people typed is
/// shortened here, for every language.
fn ticket_phrase(kind: &EventKind) -> Option<Phrase> {
    let new = Phrase::new;
    Some(match kind {
        EventKind::Opened { priority, .. } => {
            new(OPENED).label("priority", Label::Priority(*priority))
        }
        EventKind::Requalified { from, to, reason } => new(REQUALIFIED)
            .label("from", Label::Priority(*from))
            .label("to", Label::Priority(*to))
            .text("reason", short(reason, 300)),
        EventKind::Assigned { to } => new(ASSIGNED).label("to", Label::Person(to.clone())),
        EventKind::SlaWaived { timer } => new(SLA_WAIVED).label("measure", Label::Measure(*timer)),
        EventKind::Located { site, equipment } => match (site, equipment) {
            (Some(site), Some(equipment)) => new(LOCATED_EQUIPMENT)
                .text("site", site)
                .text("equipment", equipment),
            (Some(site), None) => new(LOCATED_SITE).text("site", site),
            _ => new(LOCATED_OTHER),
        },
        EventKind::Action { action } => new(STEP).label("action", Label::Action(*action)),
        EventKind::Status { .. }
        | EventKind::SlaDue { .. }
        | EventKind::SlaPaused { .. }
        | EventKind::SlaWarning { .. } => {
            return None;
        }
        EventKind::SlaMet { timer, .. } => new(SLA_MET).label("measure", Label::Measure(*timer)),
        EventKind::SlaBreached { timer, .. } => {
            new(SLA_BREACHED).label("measure", Label::Measure(*timer))
        }
        EventKind::MessageQueued {
            recipient, name, ..
        } => new(MESSAGE_QUEUED).text("recipient", name.as_deref().unwrap_or(recipient)),
        EventKind::MessageFailed {
            recipient,
            name,
            error,
            ..
        } => new(MESSAGE_FAILED)
            .text("recipient", name.as_deref().unwrap_or(recipient))
            .text("error", short(error, 200)),
        EventKind::ClosureReminder { .. } => new(CLOSURE_REMINDER),
        EventKind::AutoClosed => new(AUTO_CLOSED),
        EventKind::FollowUp { relapses, .. } => match relapses.len() {
            0 => new(FOLLOW_UP_HOLDS),
            1 => new(FOLLOW_UP_RELAPSE),
            n => new(FOLLOW_UP_RELAPSES).text("n", n),
        },
        EventKind::Noted { note } => match note {
            Note::Message { with, text, .. } => new(MESSAGE)
                .text("with", with)
                .text("text", short(text, 300)),
            Note::Call { with, summary, .. } => new(CALL)
                .text("with", with)
                .text("summary", short(summary, 300)),
            Note::Diagnosis { result, .. } => new(DIAGNOSIS).text("result", short(result, 300)),
            Note::Intervention { technician, .. } => {
                new(INTERVENTION).label("technician", Label::Person(technician.clone()))
            }
            Note::Escalation { to, reason } => new(ESCALATION)
                .label("to", Label::Person(to.clone()))
                .text("reason", short(reason, 300)),
        },
        EventKind::SurveyAnswered { .. } => new(SURVEY_ANSWERED),
        EventKind::Recurrence { review, .. } => new(RECURRENCE).text("review", review),
        EventKind::ClosedWithoutConfirmation { reason } => {
            new(CLOSED_WITHOUT_CONFIRMATION).text("reason", short(reason, 300))
        }
        EventKind::AlarmGrouped { alarm, symptom } => new(ALARM_GROUPED)
            .text("alarm", alarm)
            .text("symptom", short(symptom, 300)),
        EventKind::AlarmEscalated {
            alarm,
            step,
            from,
            to,
        } => new(if from == to {
            ALARM_ESCALATED
        } else {
            ALARM_ESCALATED_TO_INTERVENTION
        })
        .text("alarm", alarm)
        .label("step", Label::Step(step.clone())),
        EventKind::AlarmClosed { alarm, report } => new(ALARM_CLOSED)
            .text("alarm", alarm)
            .text("cause", short(&report.root_cause, 300)),
        EventKind::MailReceived { from, subject, .. } => new(MAIL_RECEIVED)
            .text("from", from)
            .text("subject", short(subject, 200)),
        EventKind::Resolved { resolution, .. } => new(RESOLVED)
            .text("cause", short(&resolution.root_cause, 300))
            .text("minutes", resolution.intervention_minutes),
        EventKind::GdprInformed => new(GDPR_INFORMED),
        EventKind::GdprOverdue { .. } => new(GDPR_OVERDUE),
        EventKind::PostMortemDue { .. } => new(POST_MORTEM_DUE),
        EventKind::PostMortemWritten => new(POST_MORTEM_WRITTEN),
        EventKind::PostMortemPublished => new(POST_MORTEM_PUBLISHED),
        EventKind::ToldByChosen { told_by } => new(match told_by {
            super::desk::ToldBy::Email => TOLD_BY_EMAIL,
            super::desk::ToldBy::Sms => TOLD_BY_SMS,
            super::desk::ToldBy::EmailAndSms => TOLD_BY_BOTH,
        }),
        EventKind::PostMortemOverdue { .. } => new(POST_MORTEM_OVERDUE),
    })
}

fn action_label(action: Action) -> &'static str {
    match action {
        Action::Acknowledge => "accusé de réception",
        Action::TakeCharge => "prise en charge",
        Action::PlanIntervention => "intervention planifiée",
        Action::ArriveOnSite => "arrivée sur site",
        Action::UpdateClient => "point au client",
        Action::WaitForClient => "en attente du client",
        Action::ClientReplied => "réponse du client",
        Action::Resolve => "résolution",
        Action::ClientConfirms => "confirmation du client",
        Action::Close => "clôture",
    }
}

/// An alarm's event, or None for what a timeline leaves out (bookkeeping of the alarm's
/// notification and of a site's cameras).
fn alarm_phrase(kind: &AlarmEventKind) -> Option<Phrase> {
    match kind {
        AlarmEventKind::Suppressed { .. }
        | AlarmEventKind::Notified { .. }
        | AlarmEventKind::FlappingStarted
        | AlarmEventKind::FlappingEnded
        | AlarmEventKind::CamerasChanged { .. } => None,
        kind => Some(kind.phrase()),
    }
}

/// INC-6: the incident's timeline, from its alarm's events and the ticket's, in order of time
/// (an alarm's event first at the same instant: the alarm came first), each event as its
/// phrase.
pub fn timeline_phrases(
    ticket_events: &[TicketEvent],
    alarm_events: &[AlarmEvent],
) -> Vec<TimelineEntry<Phrase>> {
    let mut entries: Vec<(i64, u8, TimelineEntry<Phrase>)> = Vec::new();
    for event in alarm_events {
        if let Some(what) = alarm_phrase(&event.kind) {
            entries.push((
                event.at,
                0,
                TimelineEntry {
                    at: event.at,
                    source: format!("alarme n°{}", event.alarm),
                    by: event.by.as_ref().map(ToString::to_string),
                    what,
                },
            ));
        }
    }
    for event in ticket_events {
        if let Some(what) = ticket_phrase(&event.kind) {
            entries.push((
                event.at,
                1,
                TimelineEntry {
                    at: event.at,
                    source: "ticket".into(),
                    by: event.by.as_ref().map(ToString::to_string),
                    what,
                },
            ));
        }
    }
    // Stable: events of one source keep their recorded order at the same instant.
    entries.sort_by_key(|(at, source, _)| (*at, *source));
    entries.into_iter().map(|(_, _, entry)| entry).collect()
}

/// INC-6: the incident's timeline in French.
pub fn timeline(ticket_events: &[TicketEvent], alarm_events: &[AlarmEvent]) -> Vec<TimelineEntry> {
    timeline_phrases(ticket_events, alarm_events)
        .into_iter()
        .map(|entry| TimelineEntry {
            at: entry.at,
            source: entry.source,
            by: entry.by,
            what: entry.what.french(),
        })
        .collect()
}

/// INC-6: lessons shared internally, anonymised when the client asks: every one of `names`
/// (the client's, its sites', its contacts', the people of the timeline) becomes a neutral
/// mention, as do email addresses and phone numbers.
pub fn anonymise(text: &str, names: &[(String, String)]) -> String {
    let mut text = text.to_owned();
    // Longest first, so that "Banque Exemple Nord" goes before "Banque Exemple".
    let mut names: Vec<&(String, String)> =
        names.iter().filter(|(name, _)| name.len() >= 2).collect();
    names.sort_by_key(|(name, _)| std::cmp::Reverse(name.len()));
    for (name, mention) in names {
        text = replace_ignoring_case(&text, name, mention);
    }
    text.split_inclusive(char::is_whitespace)
        .map(|word| {
            let trimmed = word.trim_end();
            let tail = &word[trimmed.len()..];
            let core = trimmed.trim_matches(|c: char| "<>()[],;:.\"'".contains(c));
            let digits = core.chars().filter(char::is_ascii_digit).count();
            if core.contains('@') && core.contains('.') {
                trimmed.replace(core, "[adresse]") + tail
            } else if digits >= 9
                && core
                    .chars()
                    .all(|c| c.is_ascii_digit() || " +.-".contains(c))
            {
                trimmed.replace(core, "[numéro]") + tail
            } else {
                word.to_owned()
            }
        })
        .collect()
}

fn replace_ignoring_case(text: &str, needle: &str, with: &str) -> String {
    let lower_text = text.to_lowercase();
    let lower_needle = needle.to_lowercase();
    // Lowercasing may change byte lengths (rare letters): then only exact matches go.
    if lower_text.len() != text.len() || lower_needle.len() != needle.len() {
        return text.replace(needle, with);
    }
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    while let Some(found) = lower_text[from..].find(&lower_needle) {
        let start = from + found;
        out.push_str(&text[from..start]);
        out.push_str(with);
        from = start + needle.len();
    }
    out.push_str(&text[from..]);
    out
}
