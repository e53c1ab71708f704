//! Alarms over HTTP (ALR-2, CLO-1, CLO-2, X-1, X-2): an agent's pushes raise and resolve an
//! alarm; people acknowledge it, take it in charge and close it; only the technician who
//! resolved it or that technician's manager may close; a client reads its own alarms only.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{Value, json};
use vigie_domain::Reference;
use vigie_domain::access::Actor;
use vigie_domain::inventory::StaffRole;
use vigie_server::auth;
use vigie_store::{NewUser, UserKind};

use crate::{NOW, PASSWORD, Session, TestApp};

const NVR: &str = "BNF-PAR-OPERA-NVR-01";
const MINUTE: i64 = 60_000;

/// A staff account linked to its record in the staff directory, logged in.
async fn staff<'a>(app: &'a TestApp, username: &str, record: &str) -> Session<'a> {
    let new = NewUser {
        username: username.into(),
        display_name: username.into(),
        kind: UserKind::Staff,
        staff: Some(Reference::parse(record).unwrap()),
        client: None,
        roles: BTreeSet::from([StaffRole::Technician]),
        password_hash: auth::hash_password(PASSWORD),
        must_change_password: false,
    };
    app.store
        .create_user(&Actor::console("test"), new, NOW)
        .await
        .unwrap();
    app.login(username, PASSWORD).await.expect("login")
}

fn disk(at: i64, percent: f64) -> Value {
    json!({"equipment": NVR, "check": "agent", "at": at, "status": "up",
           "samples": [{"name": "disk_used_percent:/srv", "value": percent}]})
}

fn report(root_cause: &str) -> Value {
    json!({"actions": "Purge des exports anciens", "intervention_minutes": 25, "root_cause": root_cause})
}

#[tokio::test]
async fn a_disk_alarm_from_raise_to_closure_by_the_resolvers_manager() {
    let app = TestApp::spawn().await;
    app.import_fleet().await;
    let agent = app.agent("robot").await;
    // ALR-2: 97 % held from NOW − 10 min: Critical, raised 5 minutes after it began.
    let push = json!({"observations": [disk(NOW - 10 * MINUTE, 97.0), disk(NOW, 97.0)]});
    let reply = agent.post("/api/v1/observations", &push).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);

    let tech = staff(&app, "klambert", "ST-TECH-01").await;
    let chef = staff(&app, "chef-nord", "ST-CHEF-NORD").await;
    let other = staff(&app, "aroussel", "ST-TECH-02").await;
    let list = tech.get(&format!("/api/v1/alarms?equipment={NVR}")).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    let items = list.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", list.text);
    let alarm = &items[0];
    let id = alarm["id"].as_u64().unwrap();
    assert_eq!(
        alarm["condition"],
        json!({"condition": "disk_usage", "part": "/srv"})
    );
    assert_eq!(alarm["severity"], "critical");
    assert_eq!(alarm["status"], "raised");
    assert_eq!(alarm["client"], "CLI-BNF");
    assert_eq!(alarm["raised_at"], NOW - 5 * MINUTE);
    assert_eq!(alarm["notified_at"], NOW - 5 * MINUTE);
    assert_eq!(alarm["duration_ms"], 5 * MINUTE);

    // Not resolved yet: nobody closes it.
    let taken = tech
        .post(&format!("/api/v1/alarms/{id}/take-charge"), &json!({}))
        .await;
    assert_eq!(taken.status, StatusCode::OK, "{}", taken.text);
    assert_eq!(taken.body["status"], "taken_in_charge");
    let early = tech
        .post(
            &format!("/api/v1/alarms/{id}/close"),
            &report("Exports jamais purgés"),
        )
        .await;
    assert_eq!(early.status, StatusCode::CONFLICT, "{}", early.text);

    // The disk goes down to 50 % at NOW + 1 min: resolved 2 minutes later.
    app.clock.advance_ms(5 * MINUTE);
    let push = json!({"observations": [disk(NOW + MINUTE, 50.0), disk(NOW + 4 * MINUTE, 50.0)]});
    assert_eq!(
        agent.post("/api/v1/observations", &push).await.status,
        StatusCode::OK
    );
    let one = tech.get(&format!("/api/v1/alarms/{id}")).await;
    assert_eq!(one.body["status"], "resolved", "{}", one.text);
    assert_eq!(one.body["resolved_at"], NOW + 3 * MINUTE);
    assert_eq!(one.body["resolved_by"], "ST-TECH-01");
    assert_eq!(one.body["duration_ms"], 8 * MINUTE);

    // CLO-2: another technician may not close it; CLO-1: the report is complete.
    let refused = other
        .post(
            &format!("/api/v1/alarms/{id}/close"),
            &report("Exports jamais purgés"),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    assert!(refused.text.contains("CLO-2"), "{}", refused.text);
    let incomplete = tech
        .post(&format!("/api/v1/alarms/{id}/close"), &report("  "))
        .await;
    assert_eq!(
        incomplete.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        incomplete.text
    );
    let unknown_field = tech
        .post(
            &format!("/api/v1/alarms/{id}/close"),
            &json!({"actions": "x", "intervention_minutes": 1, "root_cause": "y", "extra": 1}),
        )
        .await;
    assert_eq!(unknown_field.status, StatusCode::UNPROCESSABLE_ENTITY);
    // The technician's manager closes it.
    let closed = chef
        .post(
            &format!("/api/v1/alarms/{id}/close"),
            &report("Exports jamais purgés"),
        )
        .await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.text);
    assert_eq!(closed.body["status"], "closed");
    assert_eq!(closed.body["closure"]["by"], "ST-CHEF-NORD");
    let steps: Vec<(String, Value)> = closed.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["event"].as_str().unwrap().to_owned(), e["by"].clone()))
        .collect();
    // NOT-3: the Critical alarm's first steps fired in the transaction that saved it (pages
    // to the on-call technician and the security manager; tests/it/notifications.rs follows
    // them); the rest of the life is people's steps.
    assert_eq!(
        steps.iter().filter(|(e, _)| e == "escalated").count(),
        2,
        "{steps:?}"
    );
    let steps: Vec<(String, Value)> = steps
        .into_iter()
        .filter(|(e, _)| e != "escalated" && e != "notification_failed")
        .collect();
    assert_eq!(
        steps,
        vec![
            ("raised".to_owned(), Value::Null),
            ("notified".to_owned(), Value::Null),
            ("acknowledged".to_owned(), json!("ST-TECH-01")),
            ("taken_in_charge".to_owned(), json!("ST-TECH-01")),
            ("resolved".to_owned(), Value::Null),
            ("closed".to_owned(), json!("ST-CHEF-NORD")),
        ]
    );
    let again = tech
        .post(
            &format!("/api/v1/alarms/{id}/close"),
            &report("Exports jamais purgés"),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);

    // History: present in a period that covers it, absent from one after its resolution.
    let within = tech
        .get(&format!(
            "/api/v1/alarms?site=BNF-PAR-OPERA&from={}&to={}",
            NOW - 60 * MINUTE,
            NOW
        ))
        .await;
    assert_eq!(
        within.body["items"].as_array().unwrap().len(),
        1,
        "{}",
        within.text
    );
    let after = tech
        .get(&format!(
            "/api/v1/alarms?site=BNF-PAR-OPERA&from={}",
            NOW + 4 * MINUTE
        ))
        .await;
    assert_eq!(after.body["items"], json!([]), "{}", after.text);
    let closed_only = tech.get("/api/v1/alarms?open=false").await;
    assert_eq!(closed_only.body["items"].as_array().unwrap().len(), 1);
    app.finish().await;
}

#[tokio::test]
async fn clients_read_their_own_alarms_only_and_act_on_none() {
    let app = TestApp::spawn().await;
    app.import_fleet().await;
    let agent = app.agent("robot").await;
    let push = json!({"observations": [disk(NOW - 10 * MINUTE, 90.0), disk(NOW, 90.0)]});
    assert_eq!(
        agent.post("/api/v1/observations", &push).await.status,
        StatusCode::OK
    );

    let bank = app
        .login_as("rssi-bnf", UserKind::Client, Some("CLI-BNF"), &[])
        .await;
    let hospital = app
        .login_as("rssi-chu", UserKind::Client, Some("CLI-CHU"), &[])
        .await;
    let own = bank.get("/api/v1/alarms").await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text);
    let items = own.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", own.text);
    assert_eq!(items[0]["severity"], "major");
    let id = items[0]["id"].as_u64().unwrap();
    assert_eq!(
        bank.get(&format!("/api/v1/alarms/{id}")).await.status,
        StatusCode::OK
    );
    // Another client sees nothing of it, not even that it exists.
    assert_eq!(
        hospital.get("/api/v1/alarms").await.body["items"],
        json!([])
    );
    assert_eq!(
        hospital.get(&format!("/api/v1/alarms/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        hospital.get("/api/v1/alarms?client=CLI-BNF").await.body["items"],
        json!([])
    );
    // Clients do not act on alarms; a staff account not linked to a staff record neither.
    let acknowledged = bank
        .post(&format!("/api/v1/alarms/{id}/acknowledge"), &json!({}))
        .await;
    assert_eq!(
        acknowledged.status,
        StatusCode::FORBIDDEN,
        "{}",
        acknowledged.text
    );
    let unlinked = app
        .login_as(
            "sans-fiche",
            UserKind::Staff,
            None,
            &[StaffRole::Supervision],
        )
        .await;
    let refused = unlinked
        .post(&format!("/api/v1/alarms/{id}/acknowledge"), &json!({}))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    // Bad input: a number that is not one, an unknown alarm, a bad period.
    assert_eq!(
        unlinked.get("/api/v1/alarms/abc").await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        unlinked.get("/api/v1/alarms/999999").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        unlinked.get("/api/v1/alarms?from=10&to=5").await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        unlinked.get("/api/v1/alarms?limit=5000").await.status,
        StatusCode::OK
    );
    app.finish().await;
}

/// Issue 25, item 7 (ALR-9): a silence opened on one equipment holds its alarm back (raised,
/// shown, not notified, nobody paged); ended early by a person, the alarm is notified at that
/// instant and its pages go. The API refuses what the inventory or the period does not allow,
/// a client opens nothing, and both steps are in the audit.
#[tokio::test]
async fn a_silence_holds_an_alarm_back_until_a_person_ends_it() {
    let app = TestApp::spawn().await;
    app.import_fleet().await;
    let agent = app.agent("robot").await;
    let tech = staff(&app, "klambert", "ST-TECH-01").await;
    let opened = tech
        .post(
            "/api/v1/windows",
            &json!({"kind": "silence", "site": "BNF-PAR-OPERA", "equipment": NVR,
                    "starts_at": NOW - 30 * MINUTE, "ends_at": NOW + 120 * MINUTE,
                    "reason": "Remplacement des disques"}),
        )
        .await;
    assert_eq!(opened.status, StatusCode::CREATED, "{}", opened.text);
    let window = opened.body["id"].as_i64().unwrap();
    assert_eq!(opened.body["starts_at"], NOW - 30 * MINUTE);
    assert_eq!(opened.body["created_by"], "ST-TECH-01");
    for (body, expected) in [
        (
            json!({"kind": "silence", "site": "BNF-PAR-OPERA", "ends_at": NOW + MINUTE, "reason": " "}),
            "le motif est obligatoire",
        ),
        (
            json!({"kind": "silence", "site": "CHU-GRE-NORD", "equipment": NVR, "ends_at": NOW + MINUTE, "reason": "x"}),
            "n'est pas sur le site CHU-GRE-NORD",
        ),
        (
            json!({"kind": "maintenance", "site": "BNF-PAR-OPERA", "starts_at": NOW - 30 * MINUTE, "ends_at": NOW - MINUTE, "reason": "x"}),
            "la fin est déjà passée",
        ),
        (
            json!({"kind": "maintenance", "site": "BNF-PAR-OPERA", "starts_at": NOW - 24 * 60 * MINUTE, "ends_at": NOW + MINUTE, "reason": "x"}),
            "la disponibilité passée ne se réécrit pas",
        ),
    ] {
        let refused = tech.post("/api/v1/windows", &body).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.text
        );
        assert!(refused.text.contains(expected), "{}", refused.text);
    }
    let client = app
        .login_as("rssi-bnf", UserKind::Client, Some("CLI-BNF"), &[])
        .await;
    let forbidden = client
        .post(
            "/api/v1/windows",
            &json!({"kind": "silence", "site": "BNF-PAR-OPERA", "ends_at": NOW + MINUTE, "reason": "x"}),
        )
        .await;
    assert_eq!(
        forbidden.status,
        StatusCode::FORBIDDEN,
        "{}",
        forbidden.text
    );
    // The client sees the window on its site.
    let seen = client.get("/api/v1/windows").await;
    assert_eq!(seen.body["items"][0]["id"], window, "{}", seen.text);

    // ALR-2: 97 % held from NOW − 10 min: raised, but held by the silence.
    let push = json!({"observations": [disk(NOW - 10 * MINUTE, 97.0), disk(NOW, 97.0)]});
    assert_eq!(
        agent.post("/api/v1/observations", &push).await.status,
        StatusCode::OK
    );
    let list = tech.get(&format!("/api/v1/alarms?equipment={NVR}")).await;
    let alarm = &list.body["items"][0];
    let id = alarm["id"].as_u64().unwrap();
    assert_eq!(alarm["notified_at"], Value::Null, "{}", list.text);
    assert_eq!(
        alarm["suppression"],
        json!({"reason": "maintenance", "window": "Remplacement des disques", "until": NOW + 120 * MINUTE}),
        "{}",
        list.text
    );
    let pages_of = |reply: crate::Reply| -> usize {
        reply.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["alarm"] == json!(id))
            .count()
    };
    assert_eq!(pages_of(tech.get("/api/v1/notifications").await), 0);

    // Ended 30 minutes later: notified then, and paged (NOT-3).
    app.clock.advance_ms(30 * MINUTE);
    let ended = tech
        .post(&format!("/api/v1/windows/{window}/end"), &json!({}))
        .await;
    assert_eq!(ended.status, StatusCode::OK, "{}", ended.text);
    assert_eq!(ended.body["ended_at"], NOW + 30 * MINUTE);
    let one = tech.get(&format!("/api/v1/alarms/{id}")).await;
    assert_eq!(one.body["notified_at"], NOW + 30 * MINUTE, "{}", one.text);
    assert!(pages_of(tech.get("/api/v1/notifications").await) > 0);
    let again = tech
        .post(&format!("/api/v1/windows/{window}/end"), &json!({}))
        .await;
    assert_eq!(
        again.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        again.text
    );
    let past = tech.get("/api/v1/windows?state=past").await;
    assert_eq!(
        past.body["items"][0]["ended_by"], "ST-TECH-01",
        "{}",
        past.text
    );
    let trail = app
        .store
        .audit_trail(
            &Actor::console("test"),
            &vigie_store::AuditFilter {
                object_kind: Some("window".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        trail.iter().map(|e| e.action.key()).collect::<Vec<_>>(),
        vec!["update", "create"]
    );
    app.finish().await;
}
