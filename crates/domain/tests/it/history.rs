//! The events of an alarm and of a ticket said once (issue 24): each is a phrase — a French
//! template with named values — which the post-mortem's timeline fills in French and the
//! pages say in the reader's language. Which events are left out, and how long a typed text
//! may be, are the domain's, for every language.

use std::collections::BTreeSet;

use vigie_domain::Reference;
use vigie_domain::alarm::lifecycle::{
    ALARM_TEMPLATES, AlarmEvent, ClosureReport, EventKind as AlarmKind, Suppression,
};
use vigie_domain::alarm::rules::{Condition, ConditionKey};
use vigie_domain::inventory::{Priority, SlaMeasure};
use vigie_domain::policy::{Channel, Severity};
use vigie_domain::ticket::Action;
use vigie_domain::ticket::desk::{EventKind, TicketEvent};
use vigie_domain::ticket::post_mortem::{
    Arg, Label, Phrase, TICKET_TEMPLATES, all_templates, timeline, timeline_phrases,
};

fn on_ticket(at: i64, kind: EventKind) -> TicketEvent {
    TicketEvent {
        ticket: 4,
        at,
        by: Some(Reference::parse("TECH-A").unwrap()),
        kind,
    }
}

fn on_alarm(at: i64, kind: AlarmKind) -> AlarmEvent {
    AlarmEvent {
        alarm: 12,
        at,
        by: None,
        kind,
    }
}

/// The `{name}`s of a template.
fn placeholders(template: &str) -> BTreeSet<&str> {
    template
        .split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .collect()
}

/// A phrase names exactly its template's placeholders, and its template is listed.
fn assert_complete(phrase: &Phrase) {
    let names: BTreeSet<&str> = phrase.args.iter().map(|(name, _)| *name).collect();
    assert_eq!(names, placeholders(phrase.template.french()), "{phrase:?}");
    assert!(
        all_templates().contains(&phrase.template.french()),
        "{phrase:?}"
    );
}

#[test]
fn every_template_is_listed_once() {
    let all = all_templates();
    assert_eq!(all.len(), ALARM_TEMPLATES.len() + TICKET_TEMPLATES.len());
    assert_eq!(all.iter().collect::<BTreeSet<_>>().len(), all.len());
    for template in all {
        assert!(
            placeholders(template)
                .iter()
                .all(|name| !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase())),
            "{template}"
        );
    }
}

#[test]
fn the_timeline_says_each_event_once_in_french_from_its_phrase() {
    let ticket = [
        on_ticket(
            1,
            EventKind::Opened {
                kind: vigie_domain::ticket::desk::Kind::Incident,
                source: vigie_domain::ticket::desk::Source::Phone,
                priority: Priority::P1,
            },
        ),
        on_ticket(
            2,
            EventKind::Requalified {
                from: Priority::P1,
                to: Priority::P3,
                reason: "é".repeat(400),
            },
        ),
        on_ticket(
            3,
            EventKind::SlaDue {
                timer: SlaMeasure::OnSite,
                due: 9,
            },
        ),
        on_ticket(
            3,
            EventKind::MessageFailed {
                key: "k".into(),
                recipient: "Hélène".into(),
                name: Some("Hélène Marchand".into()),
                channel: Channel::Sms,
                error: "e".repeat(250),
            },
        ),
        on_ticket(
            4,
            EventKind::Action {
                action: Action::TakeCharge,
            },
        ),
        on_ticket(
            5,
            EventKind::FollowUp {
                due: 5,
                relapses: vec![],
                reopened: false,
            },
        ),
        on_ticket(
            5,
            EventKind::FollowUp {
                due: 5,
                relapses: vec![7],
                reopened: true,
            },
        ),
        on_ticket(
            5,
            EventKind::FollowUp {
                due: 5,
                relapses: vec![7, 8, 9],
                reopened: true,
            },
        ),
    ];
    let alarm = [
        on_alarm(
            1,
            AlarmKind::Raised {
                site: None,
                equipment: None,
                condition: ConditionKey::whole(Condition::DiskUsage),
                severity: Severity::Major,
                flapping: false,
            },
        ),
        on_alarm(
            1,
            AlarmKind::Notified {
                severity: Severity::Major,
            },
        ),
        on_alarm(
            4,
            AlarmKind::Closed {
                report: ClosureReport {
                    actions: "Disque remplacé".into(),
                    intervention_minutes: 30,
                    root_cause: "Disque usé".into(),
                    parts_replaced: Vec::new(),
                    recommendations: String::new(),
                },
            },
        ),
    ];
    let lines: Vec<(i64, String, String)> = timeline(&ticket, &alarm)
        .into_iter()
        .map(|entry| (entry.at, entry.source, entry.what))
        .collect();
    let requalified = format!(
        "Priorité réévaluée de P1 (critique) à P3 (non critique) : {}…",
        "é".repeat(299)
    );
    let failed = format!("Message à Hélène Marchand en échec : {}…", "e".repeat(199));
    let expected: Vec<(i64, &str, &str)> = vec![
        // The alarm first at one instant; its notification is bookkeeping, left out.
        (
            1,
            "alarme n°12",
            "Alarme levée (Majeure) : disque presque plein",
        ),
        (1, "ticket", "Ticket ouvert, priorité P1 (critique)"),
        (2, "ticket", requalified.as_str()),
        // A deadline armed is left out.
        (3, "ticket", failed.as_str()),
        (4, "alarme n°12", "Alarme close : Disque usé"),
        (4, "ticket", "Étape : prise en charge"),
        (5, "ticket", "Suivi : pas de rechute"),
        (5, "ticket", "Suivi : 1 rechute(s)"),
        (5, "ticket", "Suivi : 3 rechute(s)"),
    ];
    assert_eq!(
        lines,
        expected
            .into_iter()
            .map(|(at, source, what)| (at, source.to_owned(), what.to_owned()))
            .collect::<Vec<_>>()
    );
    // The same lines as phrases: each complete, and its French the timeline's.
    let phrases = timeline_phrases(&ticket, &alarm);
    assert_eq!(phrases.len(), lines.len());
    for (entry, (_, _, what)) in phrases.iter().zip(&lines) {
        assert_complete(&entry.what);
        assert_eq!(&entry.what.french(), what);
    }
}

#[test]
fn another_language_says_the_template_and_the_labels_its_own_way_and_the_texts_as_written() {
    let requalified = timeline_phrases(
        &[on_ticket(
            1,
            EventKind::Requalified {
                from: Priority::P2,
                to: Priority::P1,
                reason: "x".repeat(350),
            },
        )],
        &[],
    )
    .remove(0)
    .what;
    assert_eq!(
        requalified.args,
        vec![
            ("from", Arg::Label(Label::Priority(Priority::P2))),
            ("to", Arg::Label(Label::Priority(Priority::P1))),
            // Shortened once, for every language.
            ("reason", Arg::Text(format!("{}…", "x".repeat(299)))),
        ]
    );
    let said = requalified.say("{to} <- {from}: {reason} {unknown}", |label| match label {
        Label::Priority(priority) => format!("{priority:?}"),
        other => panic!("{other:?}"),
    });
    assert_eq!(said, format!("P1 <- P2: {}… {{unknown}}", "x".repeat(299)));

    // Every event of an alarm has its phrase (its history shows them all), complete.
    for kind in [
        AlarmKind::Suppressed {
            suppression: Suppression::Maintenance {
                window: Some("nuit".into()),
                until: 9,
            },
        },
        AlarmKind::FlappingStarted,
        AlarmKind::CamerasChanged {
            cameras: vec![Reference::parse("CAM-1").unwrap()],
        },
        AlarmKind::NotificationFailed {
            key: "k".into(),
            recipient: "Paul".into(),
            name: Some("Paul Girard".into()),
            channel: Channel::Email,
            error: "refusé".into(),
            fallback: None,
        },
    ] {
        let phrase = kind.phrase();
        assert_complete(&phrase);
        assert_eq!(phrase.french(), kind.describe());
    }
    assert_eq!(
        AlarmKind::Suppressed {
            suppression: Suppression::Maintenance {
                window: Some("nuit".into()),
                until: 9,
            },
        }
        .describe(),
        "Enregistrée sans notification : fenêtre de maintenance « nuit »"
    );
}
