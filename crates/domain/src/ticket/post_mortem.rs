//! INC-6: the post-mortem of a P1 incident — due within the policy's `post_mortem_within` (5
//! business days) of its resolution and shared with the client: the detailed timeline, built
//! from the ticket's and its alarm's events, the root-cause analysis, the corrective and
//! preventive measures with owners and due dates; anonymised for the integrator's internal
//! lessons when the client asks.

use serde::{Deserialize, Serialize};

use super::desk::{DeskError, EventKind, MAX_TEXT, Note, TicketEvent};
use super::message::measure_label;
use crate::alarm::lifecycle::{AlarmEvent, EventKind as AlarmEventKind};

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

/// One line of the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimelineEntry {
    pub at: i64,
    /// `ticket` or `alarme n°<id>`.
    pub source: String,
    /// Who, when someone: a reference of the staff or the client's user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    pub what: String,
}

use crate::text::shorten as short;

/// A ticket's event in French, or None for what a timeline leaves out (message bookkeeping
/// is summed up by its recipients; timers armed are not events of the incident).
fn ticket_line(kind: &EventKind) -> Option<String> {
    Some(match kind {
        EventKind::Opened { priority, .. } => {
            format!(
                "Ticket ouvert, priorité {}",
                super::desk::priority_label(*priority)
            )
        }
        EventKind::Requalified { from, to, reason } => format!(
            "Priorité réévaluée de {} à {} : {}",
            super::desk::priority_label(*from),
            super::desk::priority_label(*to),
            short(reason, 300)
        ),
        EventKind::Assigned { to } => format!("Confié à {to}"),
        EventKind::SlaWaived { timer } => format!(
            "Délai sans objet, aucune visite nécessaire : {}",
            super::message::measure_label(*timer)
        ),
        EventKind::Located { site, equipment } => match (site, equipment) {
            (Some(site), Some(equipment)) => {
                format!("Rattaché au site {site}, équipement {equipment}")
            }
            (Some(site), None) => format!("Rattaché au site {site}"),
            _ => "Rattachement modifié".into(),
        },
        EventKind::Action { action } => format!("Étape : {}", action_label(*action)),
        EventKind::Status { .. }
        | EventKind::SlaDue { .. }
        | EventKind::SlaPaused { .. }
        | EventKind::SlaWarning { .. } => {
            return None;
        }
        EventKind::SlaMet { timer, .. } => format!("Délai tenu : {}", measure_label(*timer)),
        EventKind::SlaBreached { timer, .. } => {
            format!("Délai dépassé : {}", measure_label(*timer))
        }
        EventKind::MessageQueued { recipient, .. } => format!("Message à {recipient}"),
        EventKind::MessageFailed {
            recipient, error, ..
        } => format!("Message à {recipient} en échec : {}", short(error, 200)),
        EventKind::ClosureReminder { .. } => "Relance de clôture au client".into(),
        EventKind::AutoClosed => "Clos sans réponse du client".into(),
        EventKind::FollowUp { relapses, .. } => {
            if relapses.is_empty() {
                "Suivi : pas de rechute".into()
            } else {
                format!("Suivi : {} rechute(s)", relapses.len())
            }
        }
        EventKind::Noted { note } => match note {
            Note::Message { with, text, .. } => {
                format!("Message avec {with} : {}", short(text, 300))
            }
            Note::Call { with, summary, .. } => {
                format!("Appel avec {with} : {}", short(summary, 300))
            }
            Note::Diagnosis { result, .. } => format!("Diagnostic : {}", short(result, 300)),
            Note::Intervention { technician, .. } => {
                format!("Intervention planifiée avec {technician}")
            }
            Note::Escalation { to, reason } => {
                format!("Escaladé à {to} : {}", short(reason, 300))
            }
        },
        EventKind::SurveyAnswered { .. } => "Enquête de satisfaction répondue".into(),
        EventKind::Recurrence { review, .. } => {
            format!("Incident récurrent : revue technique n°{review}")
        }
        EventKind::ClosedWithoutConfirmation { reason } => {
            format!(
                "Clos sans confirmation écrite du client : {}",
                short(reason, 300)
            )
        }
        EventKind::AlarmGrouped { alarm, symptom } => {
            format!(
                "Alarme mineure n°{alarm} regroupée : {}",
                short(symptom, 300)
            )
        }
        EventKind::AlarmEscalated {
            alarm,
            step,
            from,
            to,
        } => {
            if from == to {
                format!("Escalade de l'alarme n°{alarm} ({step})")
            } else {
                format!(
                    "Escalade de l'alarme n°{alarm} ({step}) : le ticket devient une intervention"
                )
            }
        }
        EventKind::AlarmClosed { alarm, report } => format!(
            "Alarme n°{alarm} close : {}",
            short(&report.root_cause, 300)
        ),
        EventKind::MailReceived { from, subject, .. } => {
            format!("Email de {from} : {}", short(subject, 200))
        }
        EventKind::Resolved { resolution, .. } => format!(
            "Résolu : {} ({} min d'intervention)",
            short(&resolution.root_cause, 300),
            resolution.intervention_minutes
        ),
        EventKind::GdprInformed => "Client informé de la perte de données (RGPD)".into(),
        EventKind::GdprOverdue { .. } => "Information RGPD en retard".into(),
        EventKind::PostMortemDue { .. } => "Post-mortem à rédiger".into(),
        EventKind::PostMortemWritten => "Post-mortem rédigé".into(),
        EventKind::PostMortemPublished => "Post-mortem partagé avec le client".into(),
        EventKind::PostMortemOverdue { .. } => "Post-mortem en retard".into(),
    })
}

fn action_label(action: super::Action) -> &'static str {
    use super::Action;
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

/// An alarm's event in French, or None for what a timeline leaves out (bookkeeping of the
/// alarm's notification and of a site's cameras).
fn alarm_line(kind: &AlarmEventKind) -> Option<String> {
    match kind {
        AlarmEventKind::Suppressed { .. }
        | AlarmEventKind::Notified { .. }
        | AlarmEventKind::FlappingStarted
        | AlarmEventKind::FlappingEnded
        | AlarmEventKind::CamerasChanged { .. } => None,
        kind => Some(kind.describe()),
    }
}

/// INC-6: the incident's timeline, from its alarm's events and the ticket's, in order of time
/// (an alarm's event first at the same instant: the alarm came first).
pub fn timeline(ticket_events: &[TicketEvent], alarm_events: &[AlarmEvent]) -> Vec<TimelineEntry> {
    let mut entries: Vec<(i64, u8, TimelineEntry)> = Vec::new();
    for event in alarm_events {
        if let Some(what) = alarm_line(&event.kind) {
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
        if let Some(what) = ticket_line(&event.kind) {
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
