//! The service desk's tickets under concurrency (DEC-4, INC-3, X-1): tickets opened at once by
//! two stores on one database each get their own number; a deadline checked at once by two
//! stores is breached once, its alert queued once. Two stores on one PostgreSQL database stand
//! for two server processes; SQLite serves one process, so there both are the same store.

use vigie_domain::Reference;
use vigie_domain::policy::Policy;
use vigie_domain::ticket::desk::{EventKind, Kind, Report, Source};
use vigie_store::Store;
use vigie_store::System;

use crate::{admin, client_user, conformance, parse, reference};

conformance!(
    tickets_opened_at_once_by_two_stores_get_distinct_numbers,
    a_deadline_checked_at_once_by_two_stores_is_breached_once,
    data_lost_and_not_told_by_its_deadline_alerts_the_operations_manager,
    a_client_writes_its_own_message_and_nothing_the_integrator_says,
    a_clients_photo_is_kept_on_its_ticket_within_bounds,
);

/// Monday 23 November 2026, 11:00 in Paris.
const NOW: i64 = 1_795_428_000_000;

fn inventory() -> &'static str {
    r#"
[[client]]
ref = "CLI-A"
name = "Banque Alpha"

[[contact]]
ref = "A-RS"
client = "CLI-A"
name = "Hélène Marchand"
roles = ["security_manager"]
email = "rs@alpha.fr"

[[contract]]
ref = "CTR-A"
client = "CLI-A"

[[staff]]
ref = "ST-EXPLOIT"
name = "Louise Garnier"
roles = ["operations_manager"]
email = "exploitation@integrateur.fr"

[[site]]
ref = "SITE-A"
client = "CLI-A"
contract = "CTR-A"
name = "Agence"
security_manager = "A-RS"
"#
}

fn report(symptom: &str) -> Report {
    Report {
        client: reference("CLI-A"),
        site: Some(reference("SITE-A")),
        equipment: None,
        kind: Kind::Request,
        source: Source::Api,
        symptom: symptom.into(),
        impact: None,
        stated_criticality: None,
        reporter: None,
        reply_to: None,
        alarm: None,
        topic: None,
    }
}

async fn imported(store: &Store) {
    store
        .import(&admin(), &parse(inventory()), NOW)
        .await
        .unwrap();
}

/// A second store on the same database: another process on PostgreSQL, the same on SQLite.
async fn second(store: &System, url: &str) -> System {
    if url.starts_with("sqlite") {
        store.clone()
    } else {
        System::open(url).await.unwrap()
    }
}

async fn tickets_opened_at_once_by_two_stores_get_distinct_numbers(store: System, url: String) {
    imported(&store).await;
    let other = second(&store, &url).await;
    let policy = Policy::default_policy();
    let by = Reference::parse("ST-EXPLOIT").ok();
    let mut tasks = Vec::new();
    for index in 0..20 {
        let store = if index % 2 == 0 {
            store.clone()
        } else {
            other.clone()
        };
        let (policy, by) = (policy.clone(), by.clone());
        tasks.push(tokio::spawn(async move {
            store
                .open_ticket(
                    &admin(),
                    &policy,
                    report(&format!("signalement {index}")),
                    None,
                    by,
                    NOW,
                )
                .await
        }));
    }
    let mut numbers = Vec::new();
    for task in tasks {
        numbers.push(task.await.unwrap().expect("opened").ticket.number);
    }
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=20).collect::<Vec<u64>>());
    // Each with its own acknowledgement queued once (SAV-2).
    let counts = store.notification_counts().await.unwrap();
    assert_eq!(counts.get("pending"), Some(&20), "{counts:?}");
    other.close().await;
}

async fn a_deadline_checked_at_once_by_two_stores_is_breached_once(store: System, url: String) {
    imported(&store).await;
    let other = second(&store, &url).await;
    let policy = Policy::default_policy();
    let opened = store
        .open_ticket(&admin(), &policy, report("Plus d'image"), None, None, NOW)
        .await
        .unwrap();
    let number = opened.ticket.number;
    // 31 minutes later the acknowledgement (30 business minutes) is past: both stores look.
    let later = NOW + 31 * 60_000;
    let (a, b) = tokio::join!(
        store.ticket_timers_due(&policy, later, 10),
        other.ticket_timers_due(&policy, later, 10)
    );
    let changed = a.unwrap().len() + b.unwrap().len();
    assert_eq!(changed, 1, "one store breaches it, the other finds it done");
    let (_, events) = store.ticket(&admin(), number).await.unwrap();
    let breaches: Vec<_> = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::SlaBreached { .. }))
        .collect();
    assert_eq!(breaches.len(), 1, "{events:?}");
    assert_eq!(breaches[0].at, NOW + 30 * 60_000);
    // INC-3: the operations manager's email and the console, once each (after the client's
    // acknowledgement).
    let queued: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::MessageQueued { recipient, .. } => Some(recipient.as_str()),
            _ => None,
        })
        .collect();
    // Then, at 11:30, the warning before the take-charge deadline of 12:00 (INC-3): to the
    // console, no one having the ticket.
    assert_eq!(
        queued,
        vec!["A-RS", "supervision", "ST-EXPLOIT", "supervision"],
        "{events:?}"
    );
    assert!(
        events.iter().any(|e| matches!(&e.kind, EventKind::MessageQueued { key, .. } if key.contains("/sla_warning/take_charge-"))),
        "{events:?}"
    );
    other.close().await;
}

/// INC-5: data lost at resolution, and the information never sent (no channel here): at its
/// deadline the duty is overdue, once, and the operations manager is alerted.
async fn data_lost_and_not_told_by_its_deadline_alerts_the_operations_manager(
    store: System,
    _url: String,
) {
    use vigie_domain::ticket::desk::{DataImpact, Resolution};
    imported(&store).await;
    let policy = Policy::default_policy();
    let mut incident = report("Contrôle d'accès hors service");
    incident.kind = Kind::Incident;
    let opened = store
        .open_ticket(&admin(), &policy, incident, None, None, NOW)
        .await
        .unwrap();
    let number = opened.ticket.number;
    let tech = Reference::parse("ST-EXPLOIT").unwrap();
    store
        .ticket_step(
            &admin(),
            &policy,
            number,
            vigie_store::TicketStep::Act(vigie_domain::ticket::Action::TakeCharge),
            &tech,
            NOW + 1,
        )
        .await
        .unwrap();
    let change = store
        .ticket_step(
            &admin(),
            &policy,
            number,
            vigie_store::TicketStep::Resolve(Resolution {
                root_cause: "Contrôleur de portes figé".into(),
                actions: "Contrôleur redémarré".into(),
                intervention_minutes: 30,
                data_impact: DataImpact {
                    footage_lost: false,
                    accesses_untracked: true,
                    description: "Badges de la porte du parking, de 9 h à 10 h".into(),
                },
                parts_replaced: Vec::new(),
                recommendations: String::new(),
            }),
            &tech,
            NOW + 2,
        )
        .await
        .unwrap();
    // The information to the client is queued with the resolution (here to A-RS).
    let queued = |events: &[vigie_domain::ticket::desk::TicketEvent], purpose: &str| {
        events
            .iter()
            .filter(|e| matches!(&e.kind, EventKind::MessageQueued { key, .. } if key.contains(purpose)))
            .count()
    };
    assert_eq!(
        queued(&change.events, "/gdpr_information/"),
        1,
        "{:?}",
        change.events
    );
    let due = change.ticket.gdpr.as_ref().unwrap().due;
    let changes = store
        .ticket_timers_due(&policy, due + 1000, 10)
        .await
        .unwrap();
    let events: Vec<_> = changes.iter().flat_map(|c| c.events.clone()).collect();
    let overdue: Vec<_> = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::GdprOverdue { .. }))
        .collect();
    assert_eq!(overdue.len(), 1, "{events:?}");
    assert_eq!(overdue[0].at, due);
    assert_eq!(
        queued(&events, "/sla_breach/gdpr_information/"),
        2,
        "{events:?}"
    );
    // Once: a later pass finds nothing more to do for it.
    let again = store
        .ticket_timers_due(&policy, due + 2000, 10)
        .await
        .unwrap();
    assert!(
        !again
            .iter()
            .flat_map(|c| &c.events)
            .any(|e| matches!(e.kind, EventKind::GdprOverdue { .. }))
    );
}

/// Issue 25, item 12: a client user adds its own (incoming) message to its ticket and reads
/// what it was told; it cannot write a message that would pass for the integrator's, nor
/// touch another client's ticket.
async fn a_client_writes_its_own_message_and_nothing_the_integrator_says(store: System, _: String) {
    use vigie_domain::ticket::desk::{Direction, Note};
    use vigie_store::{StoreError, TicketStep};
    imported(&store).await;
    let policy = Policy::default_policy();
    let opened = store
        .open_ticket(&admin(), &policy, report("Caméra floue"), None, None, NOW)
        .await
        .unwrap();
    let number = opened.ticket.number;
    let client = client_user("CLI-A");
    let by = reference("bnf");
    let message = |direction| {
        TicketStep::Note(Note::Message {
            direction,
            with: "Hélène Marchand".into(),
            text: "Toujours floue ce matin".into(),
        })
    };
    store
        .ticket_step(
            &client,
            &policy,
            number,
            message(Direction::Incoming),
            &by,
            NOW + 60_000,
        )
        .await
        .expect("the client's own message");
    let refused = store
        .ticket_step(
            &client,
            &policy,
            number,
            message(Direction::Outgoing),
            &by,
            NOW + 60_000,
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::Forbidden(_))),
        "{refused:?}"
    );
    let other = client_user("CLI-OTHER");
    let hidden = store
        .ticket_step(
            &other,
            &policy,
            number,
            message(Direction::Incoming),
            &by,
            NOW,
        )
        .await;
    assert!(
        matches!(
            hidden,
            Err(StoreError::NotFound) | Err(StoreError::Forbidden(_))
        ),
        "{hidden:?}"
    );
    assert!(matches!(
        store.messages_to_client(&other, number).await,
        Err(StoreError::NotFound)
    ));
    // What the client was told: the acknowledgement to its security manager.
    let told = store.messages_to_client(&client, number).await.unwrap();
    assert!(
        told.iter()
            .any(|m| m.name == "Hélène Marchand" && m.text.contains("Caméra floue")),
        "{told:?}"
    );
}

/// Issue 25, item 12: a client adds photos to its own ticket, read back as the ticket's
/// documents; what is not a picture, another client's ticket and the 21st photo are refused.
async fn a_clients_photo_is_kept_on_its_ticket_within_bounds(store: System, _: String) {
    use vigie_domain::ticket::photo::MAX_PHOTOS_PER_TICKET;
    use vigie_store::StoreError;
    use vigie_store::documents::DocumentFilter;
    imported(&store).await;
    let policy = Policy::default_policy();
    let opened = store
        .open_ticket(&admin(), &policy, report("Caméra floue"), None, None, NOW)
        .await
        .unwrap();
    let number = opened.ticket.number;
    let client = client_user("CLI-A");
    let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3];
    let added = store
        .add_ticket_photo(&client, number, "C:\\Photos\\IMG_1.jpg", &jpeg, NOW)
        .await
        .unwrap();
    assert_eq!(
        (
            added.title.as_str(),
            added.content_type.as_str(),
            added.ticket
        ),
        ("Photo — IMG_1.jpg", "image/jpeg", Some(number))
    );
    let (info, bytes) = store.document(&client, added.id).await.unwrap();
    assert_eq!((info, bytes), (added.clone(), jpeg.to_vec()));
    let listed = store
        .documents(
            &client,
            &DocumentFilter {
                ticket: Some(number),
                ..DocumentFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(listed, vec![added]);
    let refused = store
        .add_ticket_photo(&client, number, "page.jpg", b"<html><script>", NOW)
        .await;
    assert!(
        matches!(&refused, Err(StoreError::Invalid(m)) if m.contains("JPEG, PNG ou WebP")),
        "{refused:?}"
    );
    let other = store
        .add_ticket_photo(&client_user("CLI-OTHER"), number, "a.jpg", &jpeg, NOW)
        .await;
    assert!(matches!(other, Err(StoreError::NotFound)), "{other:?}");
    for _ in 1..MAX_PHOTOS_PER_TICKET {
        store
            .add_ticket_photo(&client, number, "a.jpg", &jpeg, NOW)
            .await
            .unwrap();
    }
    let full = store
        .add_ticket_photo(&client, number, "a.jpg", &jpeg, NOW)
        .await;
    assert!(
        matches!(&full, Err(StoreError::Invalid(m)) if m.contains("20 photos")),
        "{full:?}"
    );
}
