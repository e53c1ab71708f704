//! The histories of an alarm and of a ticket in the viewer's language. Each event is the
//! domain's phrase (the same as the post-mortem's timeline: which events it leaves out, how
//! long a text may be): its French template, translated in `locales/en.toml`, and its values;
//! the names of the domain's values it holds are said by `labels`. What people typed (a
//! cause, a reason, a subject) and the escalation steps' names (the policy's) stay as written.

use std::collections::BTreeMap;

use vigie_domain::Reference;
use vigie_domain::alarm::lifecycle::EventKind as AlarmEventKind;
use vigie_domain::ticket::Action;
use vigie_domain::ticket::desk::{EventKind, Note, TicketEvent};
use vigie_domain::ticket::post_mortem::{Label, Phrase, timeline_phrases};

use crate::web::i18n::{Lang, t_domain};
use crate::web::labels;

/// A phrase of the domain in the viewer's language, people by their names where known.
fn say(lang: Lang, phrase: &Phrase, people: &BTreeMap<Reference, String>) -> String {
    let template = match lang {
        Lang::Fr => phrase.template.french(),
        Lang::En => t_domain(lang, phrase.template.french()),
    };
    phrase.say(template, |label| match (lang, label) {
        (_, Label::Person(person)) => people
            .get(person)
            .cloned()
            .unwrap_or_else(|| person.to_string()),
        (Lang::Fr, label) => label.french(),
        (Lang::En, Label::Priority(priority)) => labels::priority(lang, *priority).into(),
        (Lang::En, Label::Measure(measure)) => labels::measure(lang, *measure).into(),
        (Lang::En, Label::Action(action)) => action_english(*action).into(),
        (Lang::En, Label::Severity(severity)) => labels::severity(lang, *severity).into(),
        (Lang::En, Label::Condition(condition)) => labels::condition(lang, *condition).into(),
        (Lang::En, Label::Suppression(suppression)) => labels::suppression(lang, suppression),
        (Lang::En, Label::Step(step)) => labels::escalation_step(lang, step),
    })
}

/// The members of staff a ticket's history names: who acted, who it was given to, who
/// intervenes, who it was escalated to.
pub fn people_of(events: &[TicketEvent]) -> Vec<&Reference> {
    let mut people = Vec::new();
    for event in events {
        people.extend(event.by.as_ref());
        match &event.kind {
            EventKind::Assigned { to } => people.push(to),
            EventKind::Noted {
                note: Note::Intervention { technician, .. },
            } => people.push(technician),
            EventKind::Noted {
                note: Note::Escalation { to, .. },
            } => people.push(to),
            _ => {}
        }
    }
    people
}

/// One line of an alarm's history.
pub fn alarm_event(lang: Lang, kind: &AlarmEventKind) -> String {
    say(lang, &kind.phrase(), &BTreeMap::new())
}

/// One line of a ticket's history: when, by whom, what.
#[derive(Debug)]
pub struct Line {
    pub at: i64,
    pub by: Option<String>,
    pub what: String,
}

/// A ticket's history, in order of time, without the bookkeeping events the timeline leaves
/// out (status changes, deadlines set, paused or warned of).
pub fn ticket_lines(
    lang: Lang,
    events: &[TicketEvent],
    people: &BTreeMap<Reference, String>,
) -> Vec<Line> {
    timeline_phrases(events, &[])
        .into_iter()
        .map(|entry| Line {
            at: entry.at,
            by: entry.by,
            what: say(lang, &entry.what, people),
        })
        .collect()
}

/// A step's name in English (its French is the domain's).
fn action_english(action: Action) -> &'static str {
    match action {
        Action::Acknowledge => "acknowledgement",
        Action::TakeCharge => "taking in charge",
        Action::PlanIntervention => "intervention planned",
        Action::ArriveOnSite => "arrival on site",
        Action::UpdateClient => "update to the client",
        Action::WaitForClient => "waiting for the client",
        Action::ClientReplied => "client's reply",
        Action::Resolve => "resolution",
        Action::ClientConfirms => "client's confirmation",
        Action::Close => "closure",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigie_domain::Reference;
    use vigie_domain::alarm::lifecycle::{ClosureReport, SeverityCause, Suppression, Told};
    use vigie_domain::alarm::rules::{Condition, ConditionKey};
    use vigie_domain::inventory::{Priority, SlaMeasure};
    use vigie_domain::policy::{Channel, Severity};
    use vigie_domain::ticket::Status;
    use vigie_domain::ticket::desk::{
        DataImpact, Direction, EventKind as TicketEventKind, Kind, Note, Resolution, Source,
        SurveyAnswers,
    };
    use vigie_domain::ticket::mail::Reply;
    use vigie_domain::ticket::post_mortem::timeline;

    fn reference(text: &str) -> Reference {
        Reference::parse(text).unwrap()
    }

    /// A text of `n` letters, to see what is shortened.
    fn long(n: usize) -> String {
        "x".repeat(n)
    }

    fn report(cause: &str) -> ClosureReport {
        ClosureReport {
            actions: "Disque remplacé".into(),
            intervention_minutes: 45,
            root_cause: cause.into(),
            parts_replaced: Vec::new(),
            recommendations: String::new(),
        }
    }

    fn ticket_kinds() -> Vec<TicketEventKind> {
        use TicketEventKind as K;
        let measure = SlaMeasure::TakeCharge;
        vec![
            K::Opened {
                kind: Kind::Incident,
                source: Source::Phone,
                priority: Priority::P1,
            },
            K::Requalified {
                from: Priority::P3,
                to: Priority::P2,
                reason: long(400),
            },
            K::Assigned {
                to: reference("TECH-1"),
            },
            K::SlaWaived {
                timer: SlaMeasure::OnSite,
            },
            K::Located {
                site: Some(reference("SITE-A")),
                equipment: Some(reference("NVR-1")),
            },
            K::Located {
                site: Some(reference("SITE-A")),
                equipment: None,
            },
            K::Located {
                site: None,
                equipment: None,
            },
            K::ToldByChosen {
                told_by: vigie_domain::ticket::desk::ToldBy::Sms,
            },
            K::Action {
                action: Action::TakeCharge,
            },
            K::Status {
                status: Status::New,
            },
            K::SlaDue {
                timer: measure,
                due: 5,
            },
            K::SlaPaused { timer: measure },
            K::SlaWarning {
                timer: measure,
                due: 5,
            },
            K::SlaMet {
                timer: SlaMeasure::Acknowledgement,
                due: 5,
            },
            K::SlaBreached {
                timer: SlaMeasure::ClientUpdate,
                due: 5,
            },
            K::MessageQueued {
                key: "k".into(),
                recipient: "Hélène".into(),
                name: None,
                channel: Channel::Email,
                due: 5,
            },
            K::MessageFailed {
                key: "k".into(),
                recipient: "Hélène".into(),
                name: Some("Hélène Marchand".into()),
                channel: Channel::Sms,
                error: long(250),
            },
            K::ClosureReminder { close_at: 5 },
            K::AutoClosed,
            K::FollowUp {
                due: 5,
                relapses: vec![],
                reopened: false,
            },
            K::FollowUp {
                due: 5,
                relapses: vec![7],
                reopened: true,
            },
            K::FollowUp {
                due: 5,
                relapses: vec![7, 8],
                reopened: true,
            },
            K::Noted {
                note: Note::Message {
                    direction: Direction::Incoming,
                    with: "Hélène".into(),
                    text: long(301),
                },
            },
            K::Noted {
                note: Note::Call {
                    direction: Direction::Outgoing,
                    with: "Hélène".into(),
                    summary: "Rappel demain".into(),
                    minutes: Some(3),
                },
            },
            K::Noted {
                note: Note::Diagnosis {
                    checks: vec!["ping".into()],
                    result: "Disque HS".into(),
                    on_site_needed: true,
                    parts: vec![],
                },
            },
            K::Noted {
                note: Note::Intervention {
                    technician: reference("TECH-2"),
                    from: 1,
                    to: 2,
                    parts: vec![],
                },
            },
            K::Noted {
                note: Note::Escalation {
                    to: reference("ING-1"),
                    reason: "Cause obscure".into(),
                },
            },
            K::SurveyAnswered {
                answers: SurveyAnswers {
                    responsiveness: 5,
                    quality: 4,
                    communication: 3,
                    comment: None,
                },
            },
            K::Recurrence {
                earlier: vec![3],
                review: 9,
            },
            K::ClosedWithoutConfirmation {
                reason: "Confirmé par téléphone".into(),
            },
            K::AlarmGrouped {
                alarm: 12,
                symptom: "Alarme Mineure n°12 : disque presque plein".into(),
            },
            K::AlarmEscalated {
                alarm: 12,
                step: "astreinte".into(),
                from: Kind::Maintenance,
                to: Kind::Maintenance,
            },
            K::AlarmEscalated {
                alarm: 12,
                step: "direction".into(),
                from: Kind::Maintenance,
                to: Kind::Intervention,
            },
            K::AlarmClosed {
                alarm: 12,
                report: report("Disque usé"),
            },
            K::MailReceived {
                mail: 1,
                from: "helene@example.fr".into(),
                subject: long(210),
                text: "Bonjour".into(),
                attachments: vec![],
                reply: Reply::Recorded,
            },
            K::Resolved {
                resolution: Resolution {
                    root_cause: "Alimentation défaillante".into(),
                    actions: "Remplacée".into(),
                    intervention_minutes: 90,
                    data_impact: DataImpact {
                        footage_lost: false,
                        accesses_untracked: false,
                        description: String::new(),
                    },
                    parts_replaced: vec![],
                    recommendations: String::new(),
                },
                gdpr_due: None,
            },
            K::GdprInformed,
            K::GdprOverdue { due: 5 },
            K::PostMortemDue { due: 5 },
            K::PostMortemWritten,
            K::PostMortemPublished,
            K::PostMortemOverdue { due: 5 },
        ]
    }

    fn alarm_kinds() -> Vec<AlarmEventKind> {
        use AlarmEventKind as K;
        vec![
            K::Raised {
                site: None,
                equipment: None,
                condition: ConditionKey::whole(Condition::DiskUsage),
                severity: Severity::Critical,
                flapping: false,
            },
            K::Suppressed {
                suppression: Suppression::Parent {
                    parent: reference("SW-1"),
                },
            },
            K::Suppressed {
                suppression: Suppression::Maintenance {
                    window: Some("mardi".into()),
                    until: 5,
                },
            },
            K::Suppressed {
                suppression: Suppression::Tolerance {
                    offline: 2,
                    tolerated: 3,
                    site_alarm: None,
                },
            },
            K::Notified {
                severity: Severity::Major,
            },
            K::SeverityChanged {
                from: Severity::Minor,
                to: Severity::Major,
                cause: SeverityCause::Worsened,
            },
            K::SeverityChanged {
                from: Severity::Major,
                to: Severity::Critical,
                cause: SeverityCause::Unresolved,
            },
            K::FlappingStarted,
            K::FlappingEnded,
            K::CamerasChanged {
                cameras: vec![reference("CAM-1"), reference("CAM-2")],
            },
            K::Acknowledged,
            K::TakenInCharge,
            K::Resolved { since: 5 },
            K::Closed {
                report: report(&long(320)),
            },
            K::Escalated {
                step: "astreinte".into(),
                told: vec![
                    Told {
                        recipient: "TECH-1".into(),
                        name: "Paul".into(),
                        channel: Channel::Sms,
                    },
                    Told {
                        recipient: "TECH-2".into(),
                        name: "Anne".into(),
                        channel: Channel::Email,
                    },
                ],
                missing: vec![],
                routed: vec![],
                conference: None,
                ticket: None,
            },
            K::NotificationFailed {
                key: "k".into(),
                recipient: "Paul".into(),
                name: None,
                channel: Channel::Sms,
                error: "refusé".into(),
                fallback: None,
            },
        ]
    }

    fn ticket_events() -> Vec<TicketEvent> {
        ticket_kinds()
            .into_iter()
            .enumerate()
            .map(|(at, kind)| TicketEvent {
                ticket: 1,
                at: at as i64,
                by: None,
                kind,
            })
            .collect()
    }

    /// Every event in English as the histories said it before the domain's phrases (issue
    /// 24), and in French as the post-mortem's timeline says it; no placeholder left.
    #[test]
    fn every_event_is_said_in_english_and_in_french_as_the_timeline() {
        let x = |n: usize| "x".repeat(n);
        let events = ticket_events();
        let said = |lang| -> Vec<String> {
            ticket_lines(lang, &events, &BTreeMap::new())
                .into_iter()
                .map(|line| line.what)
                .collect()
        };
        let english = said(Lang::En);
        assert_eq!(
            english,
            [
                "Ticket opened, priority P1 (critical)".to_owned(),
                format!(
                    "Priority re-evaluated from P3 (non-critical) to P2 (standard): {}…",
                    x(299)
                ),
                "Assigned to TECH-1".to_owned(),
                "Deadline waived, no visit needed: on-site intervention".to_owned(),
                "Attached to site SITE-A, equipment NVR-1".to_owned(),
                "Attached to site SITE-A".to_owned(),
                "Attachment changed".to_owned(),
                "The client will be told by SMS".to_owned(),
                "Step: taking in charge".to_owned(),
                "Deadline met: acknowledgement".to_owned(),
                "Deadline missed: progress update to the client".to_owned(),
                "Message to Hélène".to_owned(),
                format!("Message to Hélène Marchand failed: {}…", x(199)),
                "Closure reminder to the client".to_owned(),
                "Closed without an answer from the client".to_owned(),
                "Follow-up: no relapse".to_owned(),
                "Follow-up: 1 relapse".to_owned(),
                "Follow-up: 2 relapses".to_owned(),
                format!("Message with Hélène: {}…", x(299)),
                "Call with Hélène: Rappel demain".to_owned(),
                "Diagnosis: Disque HS".to_owned(),
                "Intervention planned with TECH-2".to_owned(),
                "Escalated to ING-1: Cause obscure".to_owned(),
                "Satisfaction survey answered".to_owned(),
                "Recurring incident: technical review #9".to_owned(),
                "Closed without the client's written confirmation: Confirmé par téléphone"
                    .to_owned(),
                "Minor alarm #12 grouped into this ticket".to_owned(),
                "Alarm #12 escalated (astreinte)".to_owned(),
                "Alarm #12 escalated (direction): the ticket becomes an intervention".to_owned(),
                "Alarm #12 closed: Disque usé".to_owned(),
                format!("Email from helene@example.fr: {}…", x(199)),
                "Resolved: Alimentation défaillante (90 min of intervention)".to_owned(),
                "Client informed of the data lost (GDPR)".to_owned(),
                "GDPR information overdue".to_owned(),
                "Post-mortem to write".to_owned(),
                "Post-mortem written".to_owned(),
                "Post-mortem shared with the client".to_owned(),
                "Post-mortem overdue".to_owned(),
            ]
        );
        let french: Vec<String> = timeline(&events, &[])
            .into_iter()
            .map(|entry| entry.what)
            .collect();
        assert_eq!(said(Lang::Fr), french);

        let kinds = alarm_kinds();
        let english: Vec<String> = kinds.iter().map(|k| alarm_event(Lang::En, k)).collect();
        assert_eq!(
            english,
            [
                "Alarm raised (Critical): disk almost full".to_owned(),
                "Recorded without notification: unreachable through its parent SW-1".to_owned(),
                "Recorded without notification: maintenance window “mardi”".to_owned(),
                "Recorded without notification: 2 camera(s) offline, 3 tolerated on the site"
                    .to_owned(),
                "Passed on to notification (Major)".to_owned(),
                "Severity changed: Major".to_owned(),
                "Severity changed: Critical (unresolved 8 h after its notification)".to_owned(),
                "Flapping: the state keeps changing".to_owned(),
                "Stable again".to_owned(),
                "Cameras offline: 2".to_owned(),
                "Alarm acknowledged".to_owned(),
                "Alarm taken in charge".to_owned(),
                "Condition gone".to_owned(),
                format!("Alarm closed: {}…", x(299)),
                "Escalation “astreinte”: Paul, Anne".to_owned(),
                "Notification to Paul failed".to_owned(),
            ]
        );
        for kind in &kinds {
            assert_eq!(alarm_event(Lang::Fr, kind), kind.describe());
        }
        for line in english.iter().chain(&french) {
            assert!(!line.contains('{'), "{line}");
        }
    }
}
