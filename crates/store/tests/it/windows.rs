//! One-off maintenance windows and silences (ALR-9, issue 25 item 7): opened and ended by the
//! supervision team with their audit entries, checked against the inventory, read back by the
//! alarm worker, the pages (each client its own) and the monthly reports.

use vigie_domain::alarm::window::OneOffKind;
use vigie_domain::inventory::StaffRole;
use vigie_domain::values::Text;
use vigie_store::System;
use vigie_store::windows::{NewWindow, WindowFilter, WindowState};
use vigie_store::{AuditFilter, StoreError};

use crate::{TWO_CLIENTS, admin, client_user, conformance, parse, reference, staff};

conformance!(a_window_is_opened_read_and_ended_once_with_its_audit);

const HOUR: i64 = 3_600_000;
/// Monday 23 November 2026, 11:00 in Paris.
const NOW: i64 = 1_795_428_000_000;

fn window(kind: OneOffKind, site: &str, equipment: Option<&str>, hours: i64) -> NewWindow {
    NewWindow {
        kind,
        site: reference(site),
        equipment: equipment.map(reference),
        starts_at: NOW,
        ends_at: NOW + hours * HOUR,
        reason: Text::parse("Remplacement du switch").unwrap(),
    }
}

async fn a_window_is_opened_read_and_ended_once_with_its_audit(store: System, _url: String) {
    store
        .import(&admin(), &parse(TWO_CLIENTS), NOW)
        .await
        .unwrap();
    let supervision = staff(&[StaffRole::Supervision]);
    let by = reference("ST-TECH");
    let opened = store
        .open_window(
            &supervision,
            &window(OneOffKind::Maintenance, "A-PARIS", Some("A-SW-1"), 4),
            &by,
            NOW,
        )
        .await
        .unwrap();
    let silence = store
        .open_window(
            &supervision,
            &window(OneOffKind::Silence, "B-LYON", None, 2),
            &by,
            NOW,
        )
        .await
        .unwrap();
    // What the inventory and the period refuse, with the reason in words.
    for (new, expected) in [
        (
            window(OneOffKind::Silence, "A-PARIS", Some("B-SW-1"), 1),
            "l'équipement B-SW-1 n'est pas sur le site A-PARIS",
        ),
        (
            window(OneOffKind::Silence, "NOWHERE", None, 1),
            "site inconnu : NOWHERE",
        ),
        (
            window(OneOffKind::Silence, "A-PARIS", None, 0),
            "la fin doit suivre le début",
        ),
        (
            window(OneOffKind::Silence, "A-PARIS", None, 32 * 24),
            "une fenêtre ponctuelle dure au plus 31 jours",
        ),
    ] {
        match store.open_window(&supervision, &new, &by, NOW).await {
            Err(StoreError::Invalid(message)) => assert_eq!(message, expected),
            other => panic!("{other:?}"),
        }
    }
    // A client never opens one, and sees only its own.
    assert!(matches!(
        store
            .open_window(
                &client_user("CLI-A"),
                &window(OneOffKind::Silence, "A-PARIS", None, 1),
                &by,
                NOW
            )
            .await,
        Err(StoreError::Forbidden(_))
    ));
    let current = |state| WindowFilter {
        state,
        now: NOW + HOUR,
        site: None,
        equipment: None,
        limit: None,
    };
    let seen = store
        .windows(&client_user("CLI-A"), &current(WindowState::Current))
        .await
        .unwrap();
    assert_eq!(seen, vec![opened.clone()]);
    assert!(matches!(
        store.window(&client_user("CLI-A"), silence.id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store.live_windows(NOW + HOUR).await.unwrap(),
        vec![silence.clone(), opened.clone()]
    );
    // The wall's counts say how many run now, each client its own.
    let running = |actor| {
        let store = store.clone();
        async move {
            store
                .open_alarm_counts(&actor, NOW + HOUR)
                .await
                .unwrap()
                .running_windows
        }
    };
    assert_eq!(running(admin()).await, 2);
    assert_eq!(running(client_user("CLI-A")).await, 1);
    // Ended after an hour: it holds nothing more, moves to the past, and cannot end twice.
    let ended = store
        .end_window(&supervision, opened.id, &by, NOW + HOUR)
        .await
        .unwrap();
    assert_eq!(ended.end(), NOW + HOUR);
    assert_eq!(ended.ended_by, Some(by.clone()));
    assert_eq!(
        store.live_windows(NOW + HOUR).await.unwrap(),
        vec![silence.clone()]
    );
    assert_eq!(running(admin()).await, 1);
    assert!(matches!(
        store
            .end_window(&supervision, opened.id, &by, NOW + 2 * HOUR)
            .await,
        Err(StoreError::Invalid(_))
    ));
    let past = store
        .windows(&admin(), &current(WindowState::Past))
        .await
        .unwrap();
    assert_eq!(past, vec![ended.clone()]);
    // The month's maintenance is the window as it ran; a silence is not maintenance.
    let maintenance = store
        .maintenance_of_period(
            &admin(),
            &reference("CLI-A"),
            NOW - 24 * HOUR,
            NOW + 24 * HOUR,
        )
        .await
        .unwrap();
    assert_eq!(maintenance, vec![ended.clone()]);
    assert!(
        store
            .maintenance_of_period(&admin(), &reference("CLI-B"), NOW, NOW + 24 * HOUR)
            .await
            .unwrap()
            .is_empty()
    );
    // Opened and ended, each with its audit entry and the client it belongs to.
    let trail = store
        .audit_trail(
            &admin(),
            &AuditFilter {
                object_kind: Some("window".into()),
                ..AuditFilter::default()
            },
        )
        .await
        .unwrap();
    let entries: Vec<(String, String, Option<String>)> = trail
        .iter()
        .map(|e| {
            (
                e.action.key().to_string(),
                e.object_ref.clone(),
                e.client.clone(),
            )
        })
        .collect();
    assert_eq!(
        entries,
        vec![
            ("update".into(), opened.id.to_string(), Some("CLI-A".into())),
            (
                "create".into(),
                silence.id.to_string(),
                Some("CLI-B".into())
            ),
            ("create".into(), opened.id.to_string(), Some("CLI-A".into())),
        ]
    );
    assert_eq!(
        trail[0].after.as_ref().and_then(|a| a["ended_at"].as_i64()),
        Some(NOW + HOUR)
    );
}
