//! Supervision over HTTP (SUP-1…SUP-3): agents push observations (a batch sent twice is taken
//! once), equipment send heartbeats with a Bearer or a Basic token, the watchdog turns a missing
//! heartbeat into a state change, and every read stays inside the caller's client.

use reqwest::StatusCode;
use serde_json::json;
use vigie_domain::access::TokenScope;
use vigie_domain::inventory::StaffRole;
use vigie_store::UserKind;

use crate::{NOW, TestApp};

const CAMERA: &str = "BNF-PAR-OPERA-CAM-017"; // heartbeat every 60 s in the example fleet
const NVR: &str = "BNF-PAR-OPERA-NVR-01";

#[tokio::test]
async fn agents_push_and_people_read_states_history_and_samples() {
    let app = TestApp::spawn().await;
    app.import_fleet().await;
    let agent = app.agent("robot").await;
    let batch = json!({
        "source": format!("agent:{NVR}"),
        "sequence": 1,
        "observations": [
            {"equipment": NVR, "check": "agent", "at": NOW - 60_000, "status": "up",
             "samples": [{"name": "cpu_percent", "value": 12.5}, {"name": "disk_used_percent:/srv", "value": 71.0}]},
            {"equipment": NVR, "check": "service:recorder", "at": NOW - 60_000, "status": "down", "detail": "service arrêté"},
            {"equipment": "INCONNU", "check": "agent", "at": NOW, "status": "up"}
        ]
    });
    let reply = agent.post("/api/v1/observations", &batch).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["accepted"], 2);
    assert_eq!(reply.body["samples"], 2);
    assert_eq!(reply.body["changes"], 2);
    assert_eq!(reply.body["unknown_equipment"], json!(["INCONNU"]));
    // The same batch again (the agent never saw the answer): taken once.
    let again = agent.post("/api/v1/observations", &batch).await;
    assert_eq!(again.body["duplicate"], true, "{}", again.text);

    let staff = app
        .login_as(
            "superviseur",
            UserKind::Staff,
            None,
            &[StaffRole::Supervision],
        )
        .await;
    let state = staff.get(&format!("/api/v1/equipment/{NVR}/state")).await;
    assert_eq!(state.status, StatusCode::OK, "{}", state.text);
    let items = state.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let recorder = items
        .iter()
        .find(|i| i["check"] == "service:recorder")
        .unwrap();
    assert_eq!(
        (recorder["status"].as_str(), recorder["detail"].as_str()),
        (Some("down"), Some("service arrêté"))
    );
    let history = staff
        .get(&format!(
            "/api/v1/sites/BNF-PAR-OPERA/history?from={}",
            NOW - 3_600_000
        ))
        .await;
    assert_eq!(
        history.body["items"].as_array().unwrap().len(),
        2,
        "{}",
        history.text
    );
    let series = staff
        .get(&format!(
            "/api/v1/equipment/{NVR}/samples?metric=disk_used_percent:/srv"
        ))
        .await;
    assert_eq!(series.status, StatusCode::OK, "{}", series.text);
    assert_eq!(series.body["resolution"], "hourly"); // 30 days by default: hourly points
    let raw = staff
        .get(&format!(
            "/api/v1/equipment/{NVR}/samples?metric=disk_used_percent:/srv&from={}&resolution=raw",
            NOW - 3_600_000
        ))
        .await;
    assert_eq!(
        raw.body["points"],
        json!([{"at": NOW - 60_000, "value": 71.0}]),
        "{}",
        raw.text
    );

    // Bad input: a clear 4xx, nothing written.
    let bad = agent.post("/api/v1/observations", &json!({"observations": [{"equipment": NVR, "check": "Agent!", "at": NOW, "status": "up"}]})).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
    assert!(bad.text.contains("contrôle"), "{}", bad.text);
    let infinite = agent.raw(reqwest::Method::POST, "/api/v1/observations", "application/json", br#"{"observations":[{"equipment":"X","check":"agent","at":1,"samples":[{"name":"a","value":1e999}]}]}"#.to_vec()).await;
    assert!(infinite.status.is_client_error(), "{}", infinite.text);
    // Issue 24, item 7: a batch of a protocol version this server does not know is refused
    // as such, with what to do, even when its fields are new to version 1.
    let later = agent
        .post(
            "/api/v1/observations",
            &json!({"version": 2, "lot": {"source": "agent:NVR"}, "observations": []}),
        )
        .await;
    assert_eq!(
        later.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        later.text
    );
    assert_eq!(
        later.body["error"]["code"], "unsupported_version",
        "{}",
        later.text
    );
    assert!(
        later.text.contains("version 2 du protocole inconnue"),
        "{}",
        later.text
    );
    let explicit = agent
        .post(
            "/api/v1/observations",
            &json!({"version": 1, "observations": [{"equipment": NVR, "check": "agent", "at": NOW, "status": "up"}]}),
        )
        .await;
    assert_eq!(explicit.status, StatusCode::OK, "{}", explicit.text);
    let bad_metric = staff
        .get(&format!("/api/v1/equipment/{NVR}/samples?metric="))
        .await;
    assert_eq!(bad_metric.status, StatusCode::BAD_REQUEST);
    // People and read-only tokens do not push.
    assert_eq!(
        staff.post("/api/v1/observations", &batch).await.status,
        StatusCode::FORBIDDEN
    );
    let reader = app.token("robot", TokenScope::ReadOnly).await;
    assert_eq!(
        reader.post("/api/v1/observations", &batch).await.status,
        StatusCode::FORBIDDEN
    );
    app.finish().await;
}

#[tokio::test]
async fn a_missing_heartbeat_becomes_a_state_change() {
    let app = TestApp::spawn().await;
    app.import_fleet().await;
    let device = app.agent("camera").await;
    let crate::Auth::Bearer(secret) = device.auth.clone() else {
        panic!()
    };
    // A camera that only knows HTTP Basic: any user name, the token as password.
    let basic = app
        .http
        .get(format!("{}/api/v1/equipment/{CAMERA}/heartbeat", app.base))
        .basic_auth("camera", Some(&secret))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::OK);
    let wrong = app
        .http
        .get(format!("{}/api/v1/equipment/{CAMERA}/heartbeat", app.base))
        .basic_auth("camera", Some("vgt_x_y"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        device
            .post("/api/v1/equipment/NOPE/heartbeat", &json!({}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // 60 s interval: expected within 90 s; the watchdog step at 91 s sees it missing.
    app.clock.advance_ms(91_000);
    let state = vigie_server::AppState::new(
        app.store.clone(),
        vigie_server::Config::default(),
        app.clock.clone(),
    );
    let report = vigie_server::runtime::watchdog_step(&state).await.unwrap();
    assert_eq!(report.changes.len(), 1);
    let staff = app
        .login_as(
            "superviseur",
            UserKind::Staff,
            None,
            &[StaffRole::Supervision],
        )
        .await;
    let history = staff
        .get(&format!("/api/v1/equipment/{CAMERA}/history"))
        .await;
    let moves: Vec<&str> = history.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["to"].as_str().unwrap())
        .collect();
    assert_eq!(moves, vec!["up", "down"], "{}", history.text);
    // It beats again: up.
    assert_eq!(
        device
            .post(&format!("/api/v1/equipment/{CAMERA}/heartbeat"), &json!({}))
            .await
            .status,
        StatusCode::OK
    );
    let state = staff
        .get(&format!("/api/v1/equipment/{CAMERA}/state"))
        .await;
    assert_eq!(state.body["items"][0]["status"], "up");
    app.finish().await;
}

#[tokio::test]
async fn supervision_stays_inside_the_client() {
    let app = TestApp::spawn().await;
    app.import_fleet().await;
    let agent = app.agent("robot").await;
    let reply = agent.post("/api/v1/observations", &json!({"observations": [{"equipment": NVR, "check": "ping", "at": NOW, "status": "up"}], "probe": {"name": "sonde-opera", "site": "BNF-PAR-OPERA", "interval_seconds": 60}})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let other = app
        .login_as("dsi-chu", UserKind::Client, Some("CLI-CHU"), &[])
        .await;
    let own = app
        .login_as("dsi-bnf", UserKind::Client, Some("CLI-BNF"), &[])
        .await;
    for path in [
        format!("/api/v1/equipment/{NVR}/state"),
        format!("/api/v1/equipment/{NVR}/history"),
        format!("/api/v1/equipment/{NVR}/samples?metric=rtt_ms"),
        "/api/v1/sites/BNF-PAR-OPERA/state".to_string(),
        "/api/v1/sites/BNF-PAR-OPERA/history".to_string(),
    ] {
        assert_eq!(
            other.get(&path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
        assert_eq!(own.get(&path).await.status, StatusCode::OK, "{path}");
    }
    assert_eq!(other.get("/api/v1/probes").await.body["items"], json!([]));
    assert_eq!(
        own.get("/api/v1/probes").await.body["items"][0]["name"],
        "sonde-opera"
    );
    assert_eq!(own.get("/api/v1/traps").await.status, StatusCode::FORBIDDEN);
    app.finish().await;
}

/// Issue 23, item 5: one sender cannot silence another. Two agents' tokens push a batch under
/// the same source name and number: each is its own sender, so both are taken — before, the
/// second was answered "duplicate" and its observations (a real outage) were dropped. Each
/// sender's own resend is still recognised.
#[tokio::test]
async fn one_senders_batch_numbers_never_silence_anothers() {
    let app = TestApp::spawn().await;
    app.import_fleet().await;
    let first = app.agent("agent-un").await;
    let second = app.agent("agent-deux").await;
    let batch = |status: &str| {
        json!({
            "source": "agent",
            "sequence": 1,
            "observations": [
                {"equipment": NVR, "check": "agent", "at": NOW, "status": status}
            ]
        })
    };
    let taken = first.post("/api/v1/observations", &batch("up")).await;
    assert_eq!(taken.body["duplicate"], false, "{}", taken.text);
    let other = second.post("/api/v1/observations", &batch("down")).await;
    assert_eq!(other.status, StatusCode::OK, "{}", other.text);
    assert_eq!(other.body["duplicate"], false, "{}", other.text);
    assert_eq!(other.body["accepted"], 1, "{}", other.text);
    // Each one's resend is still one batch.
    let again = second.post("/api/v1/observations", &batch("down")).await;
    assert_eq!(again.body["duplicate"], true, "{}", again.text);
    let staff = app
        .login_as(
            "superviseur",
            UserKind::Staff,
            None,
            &[StaffRole::Supervision],
        )
        .await;
    let state = staff.get(&format!("/api/v1/equipment/{NVR}/state")).await;
    let agent = state.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["check"] == "agent")
        .cloned()
        .unwrap();
    assert_eq!(agent["status"], "down", "{}", state.text);
}
