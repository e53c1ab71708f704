//! Escalation timers and the outbox (NOT-3, NOT-4, DEC-3, X-1): the alarm's save arms its
//! chain and queues the pages due in the same transaction; a later step fires once even when
//! two workers race for it; a page is claimed by one worker until its lease runs out; the same
//! page is never queued twice; outcomes and failures are recorded with their event.

use std::sync::Arc;

use vigie_domain::alarm::escalation;
use vigie_domain::alarm::lifecycle::{Alarm, EventKind};
use vigie_domain::alarm::rules::{Condition, ConditionKey};
use vigie_domain::policy::{Policy, Severity};
use vigie_domain::ticket::desk::{Kind, Report, Source};
use vigie_store::System;
use vigie_store::{DeliveryOutcome, Escalation, MAX_PAGE_SIZE, Outcome, StoreError};

use crate::{admin, client_user, conformance, parse, reference};

conformance!(
    an_alarm_arms_its_chain_and_each_step_fires_once,
    a_page_is_claimed_by_one_worker_until_its_lease_runs_out,
    the_outbox_reads_newest_first_with_the_ticket_messages,
);

const MINUTE: i64 = 60_000;
/// Tuesday 3 March 2026, 10:05 Paris: business hours.
const TOLD: i64 = 1_772_528_700_000;

fn inventory() -> &'static str {
    r#"
[[client]]
ref = "CLI-A"
name = "Banque Alpha"

[[contact]]
ref = "A-RS"
client = "CLI-A"
name = "Hélène Marchand"
roles = ["security_manager", "cio"]
email = "rs@alpha.fr"
phone = "+33611111111"

[[contract]]
ref = "CTR-A"
client = "CLI-A"

# Not an on-call manager: with no rotation, the on-call technician's pages would go to her
# (issue 26, item 1), and these tests are about the outbox, not routing.
[[staff]]
ref = "ST-CHEF"
name = "Valérie Perrin"
roles = ["technical_manager"]
email = "chef@integrateur.fr"

[[site]]
ref = "SITE-A"
client = "CLI-A"
contract = "CTR-A"
name = "Agence"
security_manager = "A-RS"

[[equipment]]
ref = "CAM-A"
site = "SITE-A"
name = "Caméra du hall"
kind = "camera"
camera_role = "priority"
"#
}

fn setup() -> Escalation {
    Escalation {
        policy: Arc::new(Policy::default_policy()),
        webhooks: Vec::new(),
    }
}

async fn told_alarm(store: &System, setup: &Escalation) -> Vec<vigie_store::FiredTimer> {
    store
        .import(&admin(), &parse(inventory()), TOLD)
        .await
        .unwrap();
    let (mut alarm, raised) = Alarm::raised(
        1,
        Some(reference("SITE-A")),
        Some(reference("CAM-A")),
        ConditionKey::whole(Condition::Unreachable),
        Severity::Critical,
        false,
        TOLD,
    );
    alarm.notified_at = Some(TOLD);
    let notified = alarm.event(
        TOLD,
        None,
        EventKind::Notified {
            severity: Severity::Critical,
        },
    );
    store
        .save_alarms(
            &[(Some(reference("CLI-A")), alarm)],
            &[raised, notified],
            Some(setup),
            TOLD,
        )
        .await
        .unwrap()
        .fired
}

async fn an_alarm_arms_its_chain_and_each_step_fires_once(store: System, _url: String) {
    let setup = setup();
    let fired = told_alarm(&store, &setup).await;
    // In the save's transaction: the first step fired (nobody on call: noted as missing), the
    // client's step skipped (no direct notifications in the contract, NOT-2).
    let steps: Vec<(String, &'static str)> = fired
        .iter()
        .map(|f| {
            (
                f.timer.step_label(),
                match &f.outcome {
                    Outcome::Fired { .. } => "fired",
                    Outcome::Skipped { reason } => reason.key(),
                },
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("critical/astreinte".to_owned(), "fired"),
            ("critical/client".to_owned(), "not_in_contract")
        ]
    );
    let Outcome::Fired { told, missing, .. } = &fired[0].outcome else {
        panic!()
    };
    let told: Vec<String> = told
        .iter()
        .map(|t| format!("{}/{}", t.recipient, escalation::channel_key(t.channel)))
        .collect();
    assert_eq!(told, ["A-RS/sms", "A-RS/email", "supervision/console"]);
    assert_eq!(
        missing[0].reason,
        "personne d'astreinte (technicien d'astreinte)"
    );
    // The first repeat at +15 min, the acknowledgement deadline at +30 min (NOT-3).
    assert_eq!(
        store.next_timer_due().await.unwrap(),
        Some(TOLD + 15 * MINUTE)
    );
    // The first repeat; then two workers race at the deadline: each step fires once.
    let repeat = store
        .fire_due_timers(&setup, TOLD + 15 * MINUTE, 100)
        .await
        .unwrap();
    assert_eq!(repeat.len(), 1);
    assert_eq!(repeat[0].timer.step_label(), "critical/astreinte#1");
    let at = TOLD + 30 * MINUTE;
    let (a, b) = tokio::join!(
        store.fire_due_timers(&setup, at, 100),
        store.fire_due_timers(&setup, at, 100)
    );
    let mut labels: Vec<String> = a
        .unwrap()
        .into_iter()
        .chain(b.unwrap())
        .map(|f| f.timer.step_label())
        .collect();
    labels.sort();
    // The conference step (NOT-4) is due at the same deadline; without a bridge it is skipped,
    // once too.
    assert_eq!(
        labels,
        [
            "critical/astreinte#2",
            "critical/conference",
            "critical/echeance-acquittement"
        ]
    );
    assert!(
        store
            .fire_due_timers(&setup, at, 100)
            .await
            .unwrap()
            .is_empty()
    );
    // The CIO was told at the deadline (NOT-4): the same person as the security manager
    // here, paged once per channel for that step.
    let pages = store.notifications_of(&admin(), 1).await.unwrap();
    // Issue 24, item 6: who was paged is the integrator's; the store refuses it to a client,
    // its own alarm included, whatever the page asking forgot to check.
    assert!(matches!(
        store
            .notifications_of(&crate::client_user("CLI-A"), 1)
            .await,
        Err(StoreError::Forbidden(_))
    ));
    let deadline: Vec<(&str, &str)> = pages
        .iter()
        .filter(|p| p.step == "critical/echeance-acquittement")
        .map(|p| (p.recipient.as_str(), p.channel.as_str()))
        .collect();
    assert_eq!(
        deadline,
        [
            ("ST-CHEF", "email"),
            ("A-RS", "sms"),
            ("A-RS", "email"),
            ("supervision", "console")
        ]
    );
}

async fn a_page_is_claimed_by_one_worker_until_its_lease_runs_out(store: System, _url: String) {
    let setup = setup();
    told_alarm(&store, &setup).await;
    // Three pages: SMS and email to the security manager, and the console, delivered by being
    // written (NOT-1): recorded sent at once, never claimed.
    let first = store
        .claim_notifications("a", TOLD, MINUTE, 10)
        .await
        .unwrap();
    assert_eq!(first.len(), 2);
    assert_eq!(
        store.notification_counts().await.unwrap().get("sent"),
        Some(&1)
    );
    let console = store
        .notifications_of(&admin(), 1)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.channel == "console")
        .unwrap();
    assert_eq!(console.status, "sent");
    assert!(
        store
            .claim_notifications("b", TOLD, MINUTE, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let sms = first.iter().find(|p| p.key().ends_with("/sms")).unwrap();
    let email = first.iter().find(|p| p.key().ends_with("/email")).unwrap();
    // The same page queued again is the same page.
    store
        .enqueue_notices(&[(reference("CLI-A"), sms.notice().unwrap().clone())], TOLD)
        .await
        .unwrap();
    assert_eq!(
        store.notification_counts().await.unwrap().get("pending"),
        Some(&2)
    );
    // Worker a: the email to retry, the SMS failed for good (Critical: it falls back to the
    // email, which is the same page as the step's own email).
    let fallback = escalation::fallback(&sms.notice().unwrap().page, false).unwrap();
    assert_eq!(fallback.key, email.notice().unwrap().page.key);
    let recorded = store
        .record_outcomes(
            "a",
            &setup.policy,
            &[
                DeliveryOutcome::Retry {
                    id: email.id,
                    at: TOLD + MINUTE,
                    error: "451".into(),
                },
                DeliveryOutcome::Failed {
                    page: Box::new(sms.clone()),
                    at: TOLD,
                    error: "400".into(),
                    fallback: Some(Box::new(escalation::Notice {
                        page: fallback,
                        ..sms.notice().unwrap().clone()
                    })),
                },
            ],
        )
        .await
        .unwrap();
    assert_eq!(recorded, [true, true]);
    // Worker b cannot record over a's lease.
    assert!(
        !store
            .notification_sent(email, "b", &setup.policy, TOLD, "250")
            .await
            .unwrap()
            .0
    );
    // The email is due again at +1 min; a died holding it: b takes it once the lease ran out.
    let again = store
        .claim_notifications("a", TOLD + MINUTE, MINUTE, 10)
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert!(
        store
            .claim_notifications("b", TOLD + MINUTE + 1, MINUTE, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let taken = store
        .claim_notifications("b", TOLD + 2 * MINUTE + 1, MINUTE, 10)
        .await
        .unwrap();
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].attempts, 3);
    assert!(
        store
            .notification_sent(&taken[0], "b", &setup.policy, TOLD + 2 * MINUTE + 2, "250")
            .await
            .unwrap()
            .0
    );
    let counts = store.notification_counts().await.unwrap();
    assert_eq!(counts.get("sent"), Some(&2));
    assert_eq!(counts.get("failed"), Some(&1));
    assert_eq!(counts.get("pending"), None);
    // The failure is an event of the alarm (X-1).
    let (_, events) = store.alarm(&admin(), 1, TOLD + 3 * MINUTE).await.unwrap();
    assert!(events.iter().any(|e| matches!(&e.kind, EventKind::NotificationFailed { channel, fallback: Some(_), .. } if escalation::channel_key(*channel) == "sms")));
}

/// The outbox as the staff reads it (`vigie demo` shows it in place of sending): every page
/// and ticket message, newest first, paged by id; a ticket message names its ticket and no
/// alarm; client users are refused.
async fn the_outbox_reads_newest_first_with_the_ticket_messages(store: System, _url: String) {
    let setup = setup();
    told_alarm(&store, &setup).await;
    let opened = store
        .open_ticket(
            &admin(),
            &setup.policy,
            Report {
                client: reference("CLI-A"),
                site: Some(reference("SITE-A")),
                equipment: None,
                kind: Kind::Request,
                source: Source::Api,
                symptom: "Plus d'image sur la caméra du hall".into(),
                impact: None,
                stated_criticality: None,
                reporter: None,
                reply_to: None,
                alarm: None,
                topic: None,
            },
            None,
            None,
            TOLD + MINUTE,
        )
        .await
        .unwrap();
    let all = store
        .recent_notifications(&admin(), None, 100)
        .await
        .unwrap();
    assert!(
        all.windows(2).all(|pair| pair[0].id > pair[1].id),
        "{all:?}"
    );
    // The ticket's acknowledgement (SAV-2), queued last, comes first.
    let newest = &all[0];
    assert_eq!(newest.ticket, Some(opened.ticket.number), "{newest:?}");
    assert_eq!(newest.alarm, None);
    assert_eq!(newest.status, "pending");
    // The alarm's three pages: SMS and email to the security manager, and the console, which
    // is delivered by being written: sent, with its answer.
    let pages: Vec<(&str, &str)> = all
        .iter()
        .filter(|n| n.alarm == Some(1))
        .map(|n| (n.recipient.as_str(), n.channel.as_str()))
        .collect();
    assert_eq!(
        pages,
        [
            ("supervision", "console"),
            ("A-RS", "email"),
            ("A-RS", "sms")
        ]
    );
    assert!(
        all.iter()
            .filter(|n| n.alarm.is_some())
            .all(|n| n.ticket.is_none())
    );
    let console = all.iter().find(|n| n.channel == "console").unwrap();
    assert_eq!(
        (console.status.as_str(), console.answer.as_deref()),
        ("sent", Some("console"))
    );
    // Keyset paging: two, then everything older than the second, is everything once.
    let first = store.recent_notifications(&admin(), None, 2).await.unwrap();
    assert_eq!(first, all[..2]);
    let rest = store
        .recent_notifications(&admin(), Some(first[1].id), MAX_PAGE_SIZE)
        .await
        .unwrap();
    assert_eq!([first, rest].concat(), all);
    // A limit is clamped, never refused.
    assert_eq!(
        store
            .recent_notifications(&admin(), None, 0)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        store
            .recent_notifications(&admin(), None, i64::MAX)
            .await
            .unwrap(),
        all
    );
    // The contacts' addresses are the integrator's business: a client user is refused.
    assert!(matches!(
        store
            .recent_notifications(&client_user("CLI-A"), None, 10)
            .await,
        Err(StoreError::Forbidden(_))
    ));
}
