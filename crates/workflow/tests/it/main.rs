//! The workflow against the real store, on every backend under test: an observation becomes an
//! alarm, its pages and its one ticket (issue 22, joint 1: a Critical alarm's intervention
//! ticket from its notification), and a restart takes back the open alarm instead of raising a
//! second one.

use std::sync::Arc;

use vigie_domain::Reference;
use vigie_domain::access::Actor;
use vigie_domain::inventory::file::InventoryFile;
use vigie_domain::policy::Policy;
use vigie_domain::supervision::Observation;
use vigie_store::testing::{TestDatabase, backends_under_test};
use vigie_store::{Escalation, Store};
use vigie_workflow::{Step, StepError, Workflow};

/// Tuesday 3 March 2026, 10:00 Paris.
const START: i64 = 1_772_528_400_000;
const MINUTE: i64 = 60_000;

fn inventory() -> vigie_domain::inventory::Inventory {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scenarios/notification-inventory.toml"
    ))
    .unwrap();
    InventoryFile::parse(&text).unwrap().inventory
}

fn down(at: i64) -> Observation {
    serde_json::from_value(serde_json::json!({
        "equipment": "AG-CAM-COFFRE", "check": "ping", "at": at, "status": "down"
    }))
    .unwrap()
}

async fn record(store: &Store, observation: &Observation) {
    store
        .record_observations(
            &Actor::console("test"),
            None,
            std::slice::from_ref(observation),
            observation.at,
        )
        .await
        .unwrap();
}

fn escalation() -> Arc<Escalation> {
    Arc::new(Escalation {
        policy: Arc::new(Policy::default_policy()),
        webhooks: Vec::new(),
    })
}

/// CM-1: a supervision alarm starts the corrective maintenance — its ticket is opened with it.
#[tokio::test]
async fn an_observation_becomes_one_alarm_with_one_ticket_and_survives_a_restart() {
    for backend in backends_under_test() {
        let database = TestDatabase::create(backend).await;
        let store = database.open().await;
        store
            .import(&Actor::console("test"), &inventory(), START)
            .await
            .unwrap();
        let mut workflow = Workflow::load(store.clone(), escalation()).await.unwrap();
        // The vault camera down: a Critical alarm after its 5 minutes' hold.
        let first = down(START);
        record(&store, &first).await;
        let events = workflow.observe(&[first], START).await;
        assert!(events.is_empty(), "{backend:?}: {events:?}");
        let later = down(START + 5 * MINUTE);
        record(&store, &later).await;
        let events = workflow.observe(&[later], START + 5 * MINUTE).await;
        let kinds: Vec<&str> = events.iter().map(|e| e.kind.key()).collect();
        assert_eq!(kinds, ["raised", "notified"], "{backend:?}");
        assert!(workflow.has_pending());
        let saved = workflow.save(START + 5 * MINUTE).await.unwrap();
        assert!(!workflow.has_pending());
        assert_eq!(
            saved.clients.into_iter().collect::<Vec<_>>(),
            [Some(Reference::parse("CLI-BANQUE").unwrap())]
        );
        // PROC-QUAL-005 §01: the notified Critical alarm has its intervention ticket, P1, once.
        let opened: Vec<_> = saved
            .fired
            .iter()
            .filter_map(|f| match &f.outcome {
                vigie_store::Outcome::Fired {
                    ticket: Some(change),
                    ..
                } => Some(change.ticket.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(opened.len(), 1, "{backend:?}: {opened:?}");
        assert_eq!(opened[0].report.alarm, Some(1));
        assert_eq!(
            opened[0].priority,
            vigie_domain::inventory::Priority::P1,
            "{backend:?}"
        );
        // A refused step says why and changes nothing.
        let technician = Reference::parse("ST-TECH-A").unwrap();
        let refused = workflow
            .step(
                1,
                Step::Close(vigie_domain::alarm::lifecycle::ClosureReport::new(
                    "x", 1, "x",
                )),
                &technician,
                START + 6 * MINUTE,
            )
            .await;
        assert!(
            matches!(refused, Err((_, StepError::Refused(_)))),
            "{backend:?}"
        );

        // A restart takes the alarm back: the camera still down raises nothing new.
        drop(workflow);
        let mut restarted = Workflow::load(store.clone(), escalation()).await.unwrap();
        assert!(restarted.alarm(1).is_some(), "{backend:?}");
        let again = down(START + 7 * MINUTE);
        record(&store, &again).await;
        let events = restarted.observe(&[again], START + 7 * MINUTE).await;
        assert!(
            events.iter().all(|e| e.kind.key() != "raised"),
            "{backend:?}: {events:?}"
        );
        let acknowledged = restarted
            .step(1, Step::Acknowledge, &technician, START + 8 * MINUTE)
            .await
            .unwrap();
        assert_eq!(acknowledged.last().unwrap().kind.key(), "acknowledged");
        restarted.save(START + 8 * MINUTE).await.unwrap();
        let tickets = store
            .tickets(
                &Actor::console("test"),
                &vigie_store::TicketFilter::default(),
            )
            .await
            .unwrap();
        assert_eq!(tickets.len(), 1, "{backend:?}: {tickets:?}");
        store.close().await;
        database.drop_database().await;
    }
}

/// SUP-4 (issue 22, joint 11): a site whose contract lacks the supervision option raises
/// nothing and pages nobody, whatever its equipment reports.
#[tokio::test]
async fn sup_4_an_unsupervised_site_raises_nothing() {
    let mut text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scenarios/notification-inventory.toml"
    ))
    .unwrap();
    text.push_str(
        r#"
[[client]]
ref = "CLI-SANS"
name = "Client sans supervision"

[[contract]]
ref = "CTR-SANS"
client = "CLI-SANS"
tier = "standard"
options = []

[[site]]
ref = "SITE-SANS"
client = "CLI-SANS"
contract = "CTR-SANS"
name = "Site sans supervision"

[[equipment]]
ref = "SANS-CAM"
site = "SITE-SANS"
name = "Caméra non supervisée"
kind = "camera"
checks = { ping = {} }
"#,
    );
    let inventory = InventoryFile::parse(&text).unwrap().inventory;
    for backend in backends_under_test() {
        let database = TestDatabase::create(backend).await;
        let store = database.open().await;
        store
            .import(&Actor::console("test"), &inventory, START)
            .await
            .unwrap();
        let mut workflow = Workflow::load(store.clone(), escalation()).await.unwrap();
        assert!(!workflow.supervises(&Reference::parse("SITE-SANS").unwrap()));
        assert!(workflow.supervises(&Reference::parse("AGENCE").unwrap()));
        let mut events = Vec::new();
        for minutes in [0, 5, 10, 30] {
            let observation: Observation = serde_json::from_value(serde_json::json!({
                "equipment": "SANS-CAM", "check": "ping", "at": START + minutes * MINUTE,
                "status": "down"
            }))
            .unwrap();
            record(&store, &observation).await;
            events.extend(
                workflow
                    .observe(&[observation], START + minutes * MINUTE)
                    .await,
            );
        }
        events.extend(workflow.tick(START + 60 * MINUTE));
        assert!(events.is_empty(), "{backend:?}: {events:?}");
        assert!(!workflow.has_pending());
        store.close().await;
        database.drop_database().await;
    }
}
