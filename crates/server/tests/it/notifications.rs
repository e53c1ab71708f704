//! Pages over real channels (NOT-1…NOT-4, NOT-7, X-1): a Critical alarm pushed by an agent
//! pages the on-call technician of the rotation, the site's security manager and the bank's
//! contact by SMS (a local gateway) and email (aiosmtpd on loopback); the technician
//! acknowledges by the link of the email without logging in, another alarm is acknowledged by
//! an SMS reply; an SMTP server down for a while gets every page once when it is back.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use vigie_domain::access::Actor;
use vigie_domain::inventory::StaffRole;
use vigie_domain::inventory::file::InventoryFile;
use vigie_store::UserKind;

use crate::{NOW, TestApp};

const MINUTE: i64 = 60_000;
const CAMERA: &str = "AG-CAM-COFFRE";
const NVR: &str = "AG-NVR";
/// Debian's Python, which has python3-aiosmtpd (a pyenv python3 on PATH does not).
const DEBIAN_PYTHON: &str = "/usr/bin/python3";

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// aiosmtpd on 127.0.0.1 (the notify crate's test peer), killed when dropped.
pub(crate) struct Smtp {
    child: Child,
    output: std::path::PathBuf,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.output);
    }
}

impl Smtp {
    pub(crate) fn start(port: u16) -> Smtp {
        let output =
            std::env::temp_dir().join(format!("vigie-smtp-{port}-{}.jsonl", std::process::id()));
        let _ = std::fs::remove_file(&output);
        let mut child = Command::new(DEBIAN_PYTHON)
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../notify/tests/peers/smtp_server.py"
            ))
            .args(["--port", &port.to_string(), "--output"])
            .arg(&output)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("/usr/bin/python3 avec python3-aiosmtpd (scripts/packages/notify.txt)");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next().expect("aiosmtpd démarre").unwrap();
        assert!(first.starts_with("ready "), "{first}");
        std::thread::spawn(move || for _ in lines {});
        Smtp { child, output }
    }

    /// The messages written so far. The peer appends one JSON line per message while this
    /// reads, so a last line without its newline is still being written and is left for the
    /// next read.
    pub(crate) fn received(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(&self.output).unwrap_or_default();
        let complete = match text.rfind('\n') {
            Some(end) => &text[..=end],
            None => "",
        };
        complete
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

/// A local HTTP receiver standing for the SMS and voice providers: records each request's
/// JSON body, SMS at `/sms`, calls at `/voice`.
#[derive(Clone, Default)]
struct Gateway {
    received: Arc<Mutex<Vec<Value>>>,
    calls: Arc<Mutex<Vec<Value>>>,
}

impl Gateway {
    async fn start() -> (Gateway, u16) {
        let gateway = Gateway::default();
        let recorded = gateway.clone();
        let called = gateway.clone();
        let app = axum::Router::new()
            .route(
                "/sms",
                axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
                    let recorded = recorded.clone();
                    async move {
                        recorded.received.lock().unwrap().push(body);
                        axum::Json(json!({"status": "accepted"}))
                    }
                }),
            )
            .route(
                "/voice",
                axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
                    let called = called.clone();
                    async move {
                        called.calls.lock().unwrap().push(body);
                        axum::Json(json!({"call": "queued"}))
                    }
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (gateway, port)
    }

    /// The calls placed to `number`: each request's body.
    fn calls_to(&self, number: &str) -> Vec<Value> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|b| b["to"] == number)
            .cloned()
            .collect()
    }

    fn to(&self, number: &str) -> Vec<String> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .filter(|b| b["to"] == number)
            .map(|b| b["text"].as_str().unwrap().to_owned())
            .collect()
    }
}

async fn eventually<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    for _ in 0..300 {
        if let Some(value) = probe() {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("attendu en 30 s : {what}");
}

fn notification_inventory() -> vigie_domain::inventory::Inventory {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scenarios/notification-inventory.toml"
    ))
    .unwrap();
    InventoryFile::parse(&text).unwrap().inventory
}

/// The technicians' weekly rotation: ST-TECH-A holds the week of NOW (Monday 23 November).
fn rotation() -> Value {
    json!({
        "name": "ASTREINTE-TECH",
        "duty": "technician",
        "time_zone": "Europe/Paris",
        "members": ["ST-TECH-A", "ST-TECH-B"],
        "handoff": {"every": "week", "day": "monday", "at": "08:00"},
        "start": "2026-01-05"
    })
}

fn down(equipment: &str, at: i64) -> Value {
    json!({"equipment": equipment, "check": "ping", "at": at, "status": "down"})
}

/// SMTP and the SMS gateway as `vigie serve` would have them configured.
pub(crate) fn configure(config: &mut vigie_server::Config, smtp_port: u16, sms_port: Option<u16>) {
    config.smtp.host = "127.0.0.1".into();
    config.smtp.port = smtp_port;
    config.smtp.security = "none".into();
    config.smtp.from = "Vigie <vigie@integrateur.fr>".into();
    config.smtp.timeout_seconds = 5;
    if let Some(port) = sms_port {
        config.sms.url = format!("http://127.0.0.1:{port}/sms");
        config.sms.body = r#"{"to": "{to}", "text": "{text}"}"#.into();
    }
    config.sms.inbound_secret = vigie_server::config::Password("secret-entrant".into());
    if let Some(port) = sms_port {
        // The voice gateway, on the same local receiver (issue 26, item 3).
        config.voice.url = format!("http://127.0.0.1:{port}/voice");
        config.voice.body =
            r#"{"to": "{to}", "text": "{text}", "callback": "{callback}", "key": "{key}"}"#.into();
    }
    config.notifications.retry_first_seconds = 1;
    config.notifications.retry_max_seconds = 2;
}

async fn setup(app: &TestApp) {
    app.store
        .import(&Actor::console("test"), &notification_inventory(), NOW)
        .await
        .unwrap();
    let admin = app
        .login_as("admin", UserKind::Staff, None, &[StaffRole::Administrator])
        .await;
    let put = admin
        .put("/api/v1/rotations/ASTREINTE-TECH", &rotation())
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    let on_call = admin.get("/api/v1/oncall").await;
    assert_eq!(
        on_call.body["rotations"][0]["member"], "ST-TECH-A",
        "{}",
        on_call.text
    );
    assert_eq!(on_call.body["uncovered"], json!([]));
    // A swap: ST-TECH-B takes this week (NOW), ST-TECH-A the next; then back, by a second swap
    // of the same two weeks being refused (they now have overrides) and a PUT restoring it.
    let next_week = NOW + 7 * 24 * 60 * MINUTE;
    let swapped = admin
        .post(
            "/api/v1/rotations/ASTREINTE-TECH/swap",
            &json!({"first": NOW.to_string(), "second": next_week.to_string()}),
        )
        .await;
    assert_eq!(swapped.status, StatusCode::OK, "{}", swapped.text);
    assert_eq!(swapped.body["overrides"].as_array().unwrap().len(), 2);
    let during = admin.get(&format!("/api/v1/oncall?at={NOW}")).await;
    assert_eq!(
        during.body["rotations"][0]["member"], "ST-TECH-B",
        "{}",
        during.text
    );
    assert_eq!(during.body["rotations"][0]["by_override"], true);
    let twice = admin
        .post(
            "/api/v1/rotations/ASTREINTE-TECH/swap",
            &json!({"first": NOW.to_string(), "second": next_week.to_string()}),
        )
        .await;
    assert_eq!(
        twice.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        twice.text
    );
    let restored = admin
        .put("/api/v1/rotations/ASTREINTE-TECH", &rotation())
        .await;
    assert_eq!(restored.status, StatusCode::OK, "{}", restored.text);
    // Before its first hand-off (Monday 5 January 2026 08:00 Paris), nobody is on call.
    let before = admin
        .get("/api/v1/oncall?at=2026-01-05T07:59:00%2B01:00")
        .await;
    assert_eq!(
        before.body["uncovered"],
        json!(["ASTREINTE-TECH"]),
        "{}",
        before.text
    );
}

/// Issue 26, item 3: the on-call technician orders SMS at once, then a call 5 minutes later.
async fn setup_with_call_after_sms(app: &TestApp) {
    let mut inventory = notification_inventory();
    for staff in &mut inventory.staff {
        if staff.reference.as_str() == "ST-TECH-A" {
            staff.channels = vec![
                vigie_domain::inventory::ChannelChoice {
                    channel: vigie_domain::policy::Channel::Sms,
                    after_minutes: 0,
                },
                vigie_domain::inventory::ChannelChoice {
                    channel: vigie_domain::policy::Channel::Voice,
                    after_minutes: 5,
                },
            ];
        }
    }
    app.store
        .import(&Actor::console("test"), &inventory, NOW)
        .await
        .unwrap();
    let admin = app
        .login_as("admin", UserKind::Staff, None, &[StaffRole::Administrator])
        .await;
    let put = admin
        .put("/api/v1/rotations/ASTREINTE-TECH", &rotation())
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
}

/// Posts the keys `digits` to a call's callback address, on the server's own address.
async fn press(app: &TestApp, callback: &str, digits: &str) -> reqwest::Response {
    let path = &callback[callback.find("/api/v1/voice/keypad/").expect("{callback}")..];
    app.http
        .post(format!("{}{path}", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("digits={digits}"))
        .send()
        .await
        .unwrap()
}

/// Issue 26, item 3: the technician is paged by SMS, then called 5 minutes later since nobody
/// acknowledged; the call reads the alarm and « tapez 1 », and the key pressed acknowledges in
/// their name through the gateway's callback, bound to that call. A second alarm acknowledged
/// by SMS before its call's turn is not called for: that call ends « sans objet ».
#[tokio::test]
async fn a_call_follows_the_sms_and_its_keypad_acknowledges() {
    let smtp_port = free_port();
    let smtp = Smtp::start(smtp_port);
    let (gateway, sms_port) = Gateway::start().await;
    let app = TestApp::spawn_with(|config| configure(config, smtp_port, Some(sms_port))).await;
    setup_with_call_after_sms(&app).await;
    let agent = app.agent("robot").await;
    let push = json!({"observations": [down(CAMERA, NOW - 10 * MINUTE), down(CAMERA, NOW)]});
    assert_eq!(
        agent.post("/api/v1/observations", &push).await.status,
        StatusCode::OK
    );
    let sms = eventually("le SMS du technicien", || {
        gateway.to("+33677777777").into_iter().next()
    })
    .await;
    assert!(sms.starts_with("Vigie Critique #1 : "), "{sms}");
    // Not called before its turn.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(gateway.calls_to("+33677777777").is_empty());
    let staff = app
        .login_as(
            "supervision",
            UserKind::Staff,
            None,
            &[StaffRole::Supervision],
        )
        .await;
    let alarm = staff.get("/api/v1/alarms/1").await;
    let call = alarm.body["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["channel"] == "voice")
        .unwrap_or_else(|| panic!("l'appel prévu : {}", alarm.text))
        .clone();
    assert_eq!(call["status"], "pending", "{call}");
    assert_eq!(call["recipient"], "ST-TECH-A", "{call}");
    // Five minutes on, still unacknowledged: the call.
    app.clock.advance_ms(5 * MINUTE);
    let call = eventually("l'appel du technicien", || {
        gateway.calls_to("+33677777777").into_iter().next()
    })
    .await;
    let text = call["text"].as_str().unwrap();
    assert!(
        text.starts_with("Bonjour, ici Vigie. Alarme critique numéro 1 : "),
        "{text}"
    );
    assert!(text.contains("Caméra de la salle des coffres"), "{text}");
    assert!(text.ends_with("tapez 1."), "{text}");
    assert_eq!(call["key"], "1/critical/astreinte/ST-TECH-A/voice");
    let callback = call["callback"].as_str().unwrap().to_owned();
    // The client's security manager has no order: told by SMS, never called.
    assert!(gateway.calls_to("+33611111111").is_empty());
    // A forged callback is unknown; another key acknowledges nothing.
    // The signature's first character changed (its last carries padding bits).
    let dash = callback.rfind('-').unwrap();
    let other = if callback[dash + 1..].starts_with('A') {
        'B'
    } else {
        'A'
    };
    let forged = format!("{}{other}{}", &callback[..=dash], &callback[dash + 2..]);
    assert_eq!(
        press(&app, &forged, "1").await.status(),
        StatusCode::NOT_FOUND
    );
    let other: Value = press(&app, &callback, "2").await.json().await.unwrap();
    assert_eq!(other["acknowledged"], Value::Null, "{other}");
    let alarm = staff.get("/api/v1/alarms/1").await;
    assert_eq!(alarm.body["acknowledged"], Value::Null, "{}", alarm.text);
    // « 1 »: acknowledged in the technician's name.
    let done = press(&app, &callback, "1").await;
    assert_eq!(done.status(), StatusCode::OK);
    let done: Value = done.json().await.unwrap();
    assert_eq!(done["acknowledged"], 1, "{done}");
    let alarm = staff.get("/api/v1/alarms/1").await;
    assert_eq!(
        alarm.body["acknowledged"]["by"], "ST-TECH-A",
        "{}",
        alarm.text
    );
    // A body without the keypad's field is refused clearly.
    let empty = app
        .http
        .post(format!(
            "{}{}",
            app.base,
            &callback[callback.find("/api/v1/").unwrap()..]
        ))
        .header("content-type", "application/json")
        .body(r#"{"other": "1"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), StatusCode::BAD_REQUEST);

    // A Major alarm on the recorder, acknowledged by the SMS's code within a minute: its call
    // is not placed when its turn comes.
    let push = json!({"observations": [down(NVR, NOW - 10 * MINUTE), down(NVR, NOW)]});
    assert_eq!(
        agent.post("/api/v1/observations", &push).await.status,
        StatusCode::OK
    );
    let second = eventually("le SMS de l'alarme n°2", || {
        gateway
            .to("+33677777777")
            .into_iter()
            .find(|t| t.contains("#2 : "))
    })
    .await;
    let answer: Value = app
        .http
        .post(format!(
            "{}/api/v1/sms/inbound?secret=secret-entrant",
            app.base
        ))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("from=0677777777&text={}", code_in(&second)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["acknowledged"], 2, "{answer}");
    app.clock.advance_ms(6 * MINUTE);
    let skipped = until_body(&staff, "/api/v1/alarms/2", "l'appel sans objet", |body| {
        body["notifications"].as_array().is_some_and(|pages| {
            pages
                .iter()
                .any(|p| p["channel"] == "voice" && p["status"] == "skipped")
        })
    })
    .await;
    let call = skipped["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["channel"] == "voice")
        .unwrap()
        .clone();
    assert_eq!(
        call["answer"], "non envoyée : alarme acquittée avant son tour",
        "{call}"
    );
    assert_eq!(gateway.calls_to("+33677777777").len(), 1);
    // The person's page says how they are reached.
    let pages = crate::pages::form_login(
        &app,
        "superviseur",
        UserKind::Staff,
        None,
        None,
        &[StaffRole::Supervision],
    )
    .await;
    let person = pages.get("/console/personnes/ST-TECH-A").await;
    assert!(
        person
            .text
            .contains("<dd id=\"channels\">SMS, puis appel vocal après 5 min</dd>"),
        "{}",
        person.text
    );
    drop(smtp);
    app.finish().await;
}

/// Issue 26, item 3: a Critical page whose SMS fails for good (here: no SMS gateway) falls
/// back to a call on the same phone when a voice gateway is configured — the technician's and
/// the security manager's alike, the client's without the keypad prompt.
#[tokio::test]
async fn a_critical_sms_that_fails_falls_back_to_a_call() {
    let smtp_port = free_port();
    let smtp = Smtp::start(smtp_port);
    let (gateway, voice_port) = Gateway::start().await;
    let app = TestApp::spawn_with(|config| {
        configure(config, smtp_port, Some(voice_port));
        config.sms.url = String::new();
    })
    .await;
    setup_with_call_after_sms(&app).await;
    let agent = app.agent("robot").await;
    let push = json!({"observations": [down(CAMERA, NOW - 10 * MINUTE), down(CAMERA, NOW)]});
    assert_eq!(
        agent.post("/api/v1/observations", &push).await.status,
        StatusCode::OK
    );
    let calls = eventually("les appels de repli", || {
        let technician = gateway.calls_to("+33677777777");
        let manager = gateway.calls_to("+33611111111");
        (!technician.is_empty() && !manager.is_empty()).then_some((technician, manager))
    })
    .await;
    // The technician's own call of 5 minutes later went now instead: one call, not two.
    assert_eq!(calls.0.len(), 1, "{:?}", calls.0);
    assert!(
        calls.0[0]["text"].as_str().unwrap().ends_with("tapez 1."),
        "{}",
        calls.0[0]
    );
    assert!(
        !calls.1[0]["text"].as_str().unwrap().contains("tapez"),
        "{}",
        calls.1[0]
    );
    app.clock.advance_ms(6 * MINUTE);
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(gateway.calls_to("+33677777777").len(), 1);
    let staff = app
        .login_as(
            "supervision",
            UserKind::Staff,
            None,
            &[StaffRole::Supervision],
        )
        .await;
    let alarm = staff.get("/api/v1/alarms/1").await;
    assert!(
        alarm.body["events"].as_array().unwrap().iter().any(|e| {
            e["event"] == "notification_failed" && e["channel"] == "sms" && e["fallback"] == "voice"
        }),
        "{}",
        alarm.text
    );
    drop(smtp);
    app.finish().await;
}

fn link_in(text: &str) -> String {
    let start = text.find("http://").expect("un lien d'acquittement");
    text[start..].split_whitespace().next().unwrap().to_owned()
}

fn code_in(sms: &str) -> String {
    let start = sms.find("répondez ").expect("un code de réponse") + "répondez ".len();
    sms[start..start + 6].to_owned()
}

pub(crate) fn text_part(message: &Value) -> String {
    message["parts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["content_type"] == "text/plain")
        .map(|p| p["content"].as_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// NOT-4 (issue 22, joint 4): only the integrator's staff stop an escalation. The client's
/// security manager and technical contact are told of the Critical alarm, but their SMS carries
/// no reply code and their email no acknowledgement link; the technician's code sent from a
/// client's number acknowledges nothing, and the escalation to the technical manager and the
/// CIO still comes.
#[tokio::test]
async fn a_client_page_informs_but_cannot_stop_the_escalation() {
    let smtp_port = free_port();
    let smtp = Smtp::start(smtp_port);
    let (gateway, sms_port) = Gateway::start().await;
    let app = TestApp::spawn_with(|config| configure(config, smtp_port, Some(sms_port))).await;
    setup(&app).await;
    let agent = app.agent("robot").await;
    let push = json!({"observations": [down(CAMERA, NOW - 10 * MINUTE), down(CAMERA, NOW)]});
    let reply = agent.post("/api/v1/observations", &push).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let mails = eventually("trois emails", || {
        let mails = smtp.received();
        (mails.len() >= 3).then_some(mails)
    })
    .await;
    eventually("trois SMS", || {
        (gateway.received.lock().unwrap().len() >= 3).then_some(())
    })
    .await;
    // The technician is invited to acknowledge, by link and by code.
    let technician_mail = mails
        .iter()
        .find(|m| m["rcpt_tos"][0] == "kevin.lambert@integrateur.fr")
        .expect("l'email du technicien");
    assert!(text_part(technician_mail).contains("/ack/"));
    let technician_sms = gateway.to("+33677777777");
    let code = code_in(&technician_sms[0]);
    // The security manager and the bank's contact are told, not asked.
    for address in [
        "helene.marchand@banque-exemple.fr",
        "paul.girard@banque-exemple.fr",
    ] {
        let mail = mails
            .iter()
            .find(|m| m["rcpt_tos"][0] == address)
            .unwrap_or_else(|| panic!("l'email de {address}"));
        let text = text_part(mail);
        assert!(!text.contains("/ack/"), "{address} : {text}");
        assert!(text.contains("Caméra de la salle des coffres"), "{text}");
    }
    for number in ["+33611111111", "+33633333333"] {
        let texts = gateway.to(number);
        assert_eq!(texts.len(), 1, "{number} : {texts:?}");
        assert!(!texts[0].contains("répondez"), "{number} : {}", texts[0]);
        assert!(texts[0].starts_with("Vigie Critique #1 : "), "{}", texts[0]);
    }
    // The technician's code, replied from the security manager's phone, stops nothing.
    let answer: Value = app
        .http
        .post(format!(
            "{}/api/v1/sms/inbound?secret=secret-entrant",
            app.base
        ))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("from=0611111111&text=OK+{code}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["acknowledged"], Value::Null, "{answer}");
    let staff = app
        .login_as(
            "supervision",
            UserKind::Staff,
            None,
            &[StaffRole::Supervision],
        )
        .await;
    let alarm = staff.get("/api/v1/alarms/1").await;
    assert_eq!(alarm.body["acknowledged"], Value::Null, "{}", alarm.text);
    // The acknowledgement deadline passes: the technical manager and the CIO are told (NOT-4).
    app.clock.advance_ms(31 * MINUTE);
    let escalated = eventually("l'escalade NOT-4", || {
        smtp.received().into_iter().find(|m| {
            m["key"]
                .as_str()
                .is_some_and(|k| k.contains("critical/echeance-acquittement"))
        })
    })
    .await;
    assert!(
        escalated["key"]
            .as_str()
            .is_some_and(|k| k.starts_with("1/critical/echeance-acquittement/")),
        "{escalated}"
    );
}

#[tokio::test]
async fn a_critical_alarm_pages_by_sms_and_email_and_is_acknowledged_without_logging_in() {
    let smtp_port = free_port();
    let smtp = Smtp::start(smtp_port);
    let (gateway, sms_port) = Gateway::start().await;
    let app = TestApp::spawn_with(|config| configure(config, smtp_port, Some(sms_port))).await;
    setup(&app).await;
    let agent = app.agent("robot").await;

    // NOT-3: the vault camera down for 10 minutes: a Critical alarm told at NOW − 5 min.
    let push = json!({"observations": [down(CAMERA, NOW - 10 * MINUTE), down(CAMERA, NOW)]});
    let reply = agent.post("/api/v1/observations", &push).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);

    // On-call technician and security manager by SMS and email, the bank's contact too
    // (NOT-2: its contract has direct notifications).
    let mails = eventually("trois emails", || {
        let mails = smtp.received();
        (mails.len() >= 3).then_some(mails)
    })
    .await;
    let mut to: Vec<String> = mails
        .iter()
        .map(|m| m["rcpt_tos"][0].as_str().unwrap().to_owned())
        .collect();
    to.sort();
    assert_eq!(
        to,
        [
            "helene.marchand@banque-exemple.fr",
            "kevin.lambert@integrateur.fr",
            "paul.girard@banque-exemple.fr"
        ]
    );
    let technician_mail = mails
        .iter()
        .find(|m| m["rcpt_tos"][0] == "kevin.lambert@integrateur.fr")
        .unwrap();
    let subject = technician_mail["subject"].as_str().unwrap();
    assert!(
        subject.starts_with("[Vigie] Alarme Critique n°1"),
        "{subject}"
    );
    assert!(
        subject.contains("Caméra de la salle des coffres"),
        "{subject}"
    );
    assert_eq!(
        technician_mail["key"],
        "1/critical/astreinte/ST-TECH-A/email"
    );
    let text = text_part(technician_mail);
    assert!(
        text.contains("Site : Agence Opéra (salle des coffres)"),
        "{text}"
    );
    // Told at 10:55 Paris on a Monday: 30 minutes to acknowledge (NOT-3).
    assert!(
        text.contains("À acquitter avant le 23/11/2026 11:25"),
        "{text}"
    );
    let link = link_in(&text);
    let sms = eventually("trois SMS", || {
        let all = gateway.received.lock().unwrap().len();
        (all >= 3).then(|| gateway.to("+33677777777"))
    })
    .await;
    assert_eq!(sms.len(), 1, "{sms:?}");
    assert!(sms[0].starts_with("Vigie Critique #1 : "), "{}", sms[0]);
    // Issue 26, item 6: one GSM segment, with the reply code and the short link.
    let fitted = vigie_domain::sms::compose(&sms[0]);
    assert_eq!(
        (fitted.encoding, fitted.segments),
        (vigie_domain::sms::Encoding::Gsm7, 1),
        "{}",
        sms[0]
    );
    let short = link_in(&sms[0]);
    assert!(short.contains("/a/1-"), "{short}");
    // On the server's own address (the configured public one is not where the test listens).
    let short = format!("{}/a/{}", app.base, short.rsplit('/').next().unwrap());
    assert_eq!(gateway.to("+33611111111").len(), 1);
    assert_eq!(gateway.to("+33633333333").len(), 1);

    // The link, on the server's own address: it shows what it acknowledges, and a button.
    let token = link.rsplit('/').next().unwrap().to_owned();
    let page = app
        .http
        .get(format!("{}/ack/{token}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Acquitter l'alarme n°1"), "{html}");
    assert!(html.contains("Caméra de la salle des coffres"), "{html}");
    // The last character changed (to another one, whatever it was).
    let last = if token.ends_with('0') { '1' } else { '0' };
    let tampered = format!("{}{last}", &token[..token.len() - 1]);
    let forged = app
        .http
        .get(format!("{}/ack/{tampered}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::NOT_FOUND);
    // The SMS's short link shows the same page; forged, it is unknown.
    let shown = app.http.get(&short).send().await.unwrap();
    assert_eq!(shown.status(), StatusCode::OK);
    assert!(
        shown
            .text()
            .await
            .unwrap()
            .contains("Acquitter l'alarme n°1"),
        "{short}"
    );
    // The signature's first character changed (its last carries padding bits).
    let dash = short.find("/a/1-").unwrap() + "/a/1".len();
    let other = if short[dash + 1..].starts_with('A') {
        'B'
    } else {
        'A'
    };
    let forged_short = format!("{}{other}{}", &short[..=dash], &short[dash + 2..]);
    let forged = app.http.get(&forged_short).send().await.unwrap();
    assert_eq!(forged.status(), StatusCode::NOT_FOUND);
    let done = app
        .http
        .post(format!("{}/ack/{token}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::OK);
    assert!(done.text().await.unwrap().contains("acquittée"));
    let staff = app
        .login_as(
            "supervision",
            UserKind::Staff,
            None,
            &[StaffRole::Supervision],
        )
        .await;
    let alarm = staff.get("/api/v1/alarms/1").await;
    assert_eq!(
        alarm.body["acknowledged"]["by"], "ST-TECH-A",
        "{}",
        alarm.text
    );
    // X-1: every page of the alarm, with who was told by which channel.
    let pages = alarm.body["notifications"].as_array().unwrap();
    assert!(
        pages
            .iter()
            .any(|p| p["recipient"] == "BQ-RS" && p["channel"] == "sms" && p["status"] == "sent"),
        "{}",
        alarm.text
    );
    assert!(
        alarm.body["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["event"] == "escalated" && e["step"] == "critical/astreinte")
    );
    // A second use of the link acknowledges nothing more.
    let again = app
        .http
        .post(format!("{}/ack/{token}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);

    // A Major alarm on the recorder: the technician answers the SMS with its code.
    let push = json!({"observations": [down(NVR, NOW - 10 * MINUTE), down(NVR, NOW)]});
    assert_eq!(
        agent.post("/api/v1/observations", &push).await.status,
        StatusCode::OK
    );
    let second = eventually("le SMS de l'alarme n°2", || {
        gateway
            .to("+33677777777")
            .into_iter()
            .find(|t| t.contains("#2 : "))
    })
    .await;
    let code = code_in(&second);
    let old_code = code_in(&sms[0]);
    let inbound = |secret: &str, body: String| {
        app.http
            .post(format!("{}/api/v1/sms/inbound?secret={secret}", app.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let refused = inbound("mauvais", format!("from=0677777777&text={code}"))
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    // The code of the first SMS names the first alarm only (already acknowledged).
    let old: Value = inbound(
        "secret-entrant",
        format!("from=0677777777&text=OK+{old_code}"),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(old["acknowledged"], Value::Null, "{old}");
    // From another number, the right code acknowledges nothing.
    let stranger: Value = inbound("secret-entrant", format!("from=0699999999&text={code}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stranger["acknowledged"], Value::Null, "{stranger}");
    let answer: Value = inbound("secret-entrant", format!("from=0677777777&text=OK+{code}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["acknowledged"], 2, "{answer}");
    let alarm = staff.get("/api/v1/alarms/2").await;
    assert_eq!(
        alarm.body["acknowledged"]["by"], "ST-TECH-A",
        "{}",
        alarm.text
    );

    // NOT-1: the supervision console has every step.
    let feed = staff.get("/api/v1/console").await;
    assert!(
        feed.body["items"].as_array().unwrap().len() >= 3,
        "{}",
        feed.text
    );
    // A client user sees none of it.
    let client = app
        .login_as("banque", UserKind::Client, Some("CLI-BANQUE"), &[])
        .await;
    assert_eq!(
        client.get("/api/v1/console").await.status,
        StatusCode::FORBIDDEN
    );
    assert!(
        client
            .get("/api/v1/alarms/1")
            .await
            .body
            .get("notifications")
            .is_none()
    );

    // The link expires (24 h by default).
    app.clock.advance_ms(25 * 60 * MINUTE);
    let late = app
        .http
        .get(format!("{}/ack/{token}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(late.status(), StatusCode::GONE);
    // The short link has no expiry of its own: the page's creation plus the same 24 h.
    let late = app.http.get(&short).send().await.unwrap();
    assert_eq!(late.status(), StatusCode::GONE);
    drop(smtp);
    app.finish().await;
}

#[tokio::test]
async fn pages_wait_while_smtp_is_down_and_go_once_when_it_is_back() {
    let smtp_port = free_port();
    // No SMS gateway: SMS pages fail for good and fall back to email (the same page as the
    // step's own email: not sent twice).
    let app = TestApp::spawn_with(|config| configure(config, smtp_port, None)).await;
    setup(&app).await;
    let agent = app.agent("robot").await;
    let push = json!({"observations": [down(CAMERA, NOW - 10 * MINUTE), down(CAMERA, NOW)]});
    assert_eq!(
        agent.post("/api/v1/observations", &push).await.status,
        StatusCode::OK
    );
    // SMTP is down: the emails are retried, none delivered; the failures are visible.
    let staff = app
        .login_as(
            "supervision",
            UserKind::Staff,
            None,
            &[StaffRole::Supervision],
        )
        .await;
    // At least 30 s of the test's clock, and then until each email has been tried twice: under
    // a loaded machine the alarm worker may take longer than 30 turns of the loop.
    let mut turns = 0;
    let alarm = loop {
        app.clock.advance_ms(1_000);
        tokio::time::sleep(Duration::from_millis(100)).await;
        turns += 1;
        if turns < 30 {
            continue;
        }
        let alarm = staff.get("/api/v1/alarms/1").await;
        // Under a loaded machine the alarm may not be saved yet: polled until it is.
        let tried = alarm.body["notifications"].as_array().is_some_and(|pages| {
            let emails: Vec<&Value> = pages.iter().filter(|p| p["channel"] == "email").collect();
            emails.len() == 3
                && emails
                    .iter()
                    .all(|p| p["attempts"].as_i64().unwrap_or(0) >= 2)
        });
        if tried || turns >= 600 {
            break alarm;
        }
    };
    assert_eq!(alarm.status, StatusCode::OK, "{}", alarm.text);
    let pages = alarm.body["notifications"]
        .as_array()
        .unwrap_or_else(|| panic!("no pages on the alarm: {}", alarm.text))
        .clone();
    let emails: Vec<&Value> = pages.iter().filter(|p| p["channel"] == "email").collect();
    assert_eq!(emails.len(), 3, "{}", alarm.text);
    assert!(
        emails
            .iter()
            .all(|p| p["status"] == "pending" && p["attempts"].as_i64().unwrap() >= 2),
        "{}",
        alarm.text
    );
    assert!(
        alarm.body["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["event"] == "notification_failed"
                && e["channel"] == "sms"
                && e["fallback"] == "email"),
        "{}",
        alarm.text
    );
    // SMTP comes back: every email goes, once.
    let smtp = Smtp::start(smtp_port);
    let mails = {
        let mut mails = Vec::new();
        for _ in 0..300 {
            app.clock.advance_ms(2_000);
            tokio::time::sleep(Duration::from_millis(100)).await;
            mails = smtp.received();
            if mails.len() >= 3 {
                break;
            }
        }
        mails
    };
    // A few more turns of the loop: nothing else goes.
    for _ in 0..20 {
        app.clock.advance_ms(2_000);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mails = if mails.len() >= 3 {
        smtp.received()
    } else {
        mails
    };
    let mut keys: Vec<String> = mails
        .iter()
        .map(|m| m["key"].as_str().unwrap().to_owned())
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "1/critical/astreinte/BQ-RS/email",
            "1/critical/astreinte/ST-TECH-A/email",
            "1/critical/client/BQ-TECH/email"
        ]
    );
    let alarm = staff.get("/api/v1/alarms/1").await;
    assert!(
        alarm.body["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["channel"] == "email")
            .all(|p| p["status"] == "sent"),
        "{}",
        alarm.text
    );
    drop(smtp);
    app.finish().await;
}

/// Polls `path` as `session` until `done` holds on the body (the alarm worker saves after the
/// request that asked it to check the rotations has answered).
async fn until_body(
    session: &crate::Session<'_>,
    path: &str,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    for _ in 0..300 {
        let reply = session.get(path).await;
        if reply.status == StatusCode::OK && done(&reply.body) {
            return reply.body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("attendu en 30 s : {what}");
}

#[tokio::test]
async fn a_rotation_with_nobody_on_call_is_a_major_alarm_of_the_staff_until_it_is_covered() {
    let app = TestApp::spawn().await;
    app.store
        .import(&Actor::console("test"), &notification_inventory(), NOW)
        .await
        .unwrap();
    let staff = app
        .login_as(
            "chef",
            UserKind::Staff,
            None,
            &[StaffRole::Administrator, StaffRole::Supervision],
        )
        .await;
    // A new rotation whose first hand-off is next Monday: nobody is on call now.
    let mut new_rotation = rotation();
    new_rotation["start"] = json!("2026-11-30");
    let put = staff
        .put("/api/v1/rotations/ASTREINTE-TECH", &new_rotation)
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    let list = until_body(
        &staff,
        "/api/v1/alarms?open=true",
        "l'alarme d'astreinte",
        |body| {
            body["items"]
                .as_array()
                .is_some_and(|items| !items.is_empty())
        },
    )
    .await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{list}");
    let alarm = &items[0];
    assert_eq!(
        alarm["condition"],
        json!({"condition": "nobody_on_call", "part": "ASTREINTE-TECH"}),
        "{alarm}"
    );
    assert_eq!(alarm["severity"], "major", "{alarm}");
    assert_eq!(alarm["site"], Value::Null, "{alarm}");
    assert_eq!(alarm["client"], Value::Null, "{alarm}");
    let id = alarm["id"].as_u64().unwrap();

    // Told at once to the supervision console; the on-call technician is missing.
    let detail = until_body(
        &staff,
        &format!("/api/v1/alarms/{id}"),
        "l'escalade",
        |body| {
            body["events"]
                .as_array()
                .is_some_and(|events| events.iter().any(|e| e["event"] == "escalated"))
        },
    )
    .await;
    let escalated: Vec<&Value> = detail["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "escalated")
        .collect();
    // Nobody on call among the technicians: the on-call manager takes the step, and the event
    // says so (issue 26, item 1).
    assert!(
        escalated.iter().any(|e| e["routed"]
            .as_array()
            .is_some_and(|m| m.iter().any(|m| m["role"] == "on_call_technician"))),
        "{detail}"
    );
    let feed = staff.get("/api/v1/console").await;
    assert!(
        feed.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|item| item["alarm"] == id),
        "{}",
        feed.text
    );
    // Checked again a minute later (saving the rotation unchanged checks at once): still the
    // one alarm.
    app.clock.advance_ms(MINUTE);
    let again = staff
        .put("/api/v1/rotations/ASTREINTE-TECH", &new_rotation)
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);

    // No client sees it, in lists or by its number.
    let client = app
        .login_as("banque", UserKind::Client, Some("CLI-BANQUE"), &[])
        .await;
    let theirs = client.get("/api/v1/alarms").await;
    assert_eq!(theirs.status, StatusCode::OK, "{}", theirs.text);
    assert_eq!(theirs.body["items"], json!([]), "{}", theirs.text);
    assert_eq!(
        client.get(&format!("/api/v1/alarms/{id}")).await.status,
        StatusCode::NOT_FOUND
    );

    // An override puts ST-TECH-B on call until the first hand-off: the alarm resolves.
    new_rotation["overrides"] = json!([{
        "from": "2026-11-23T00:00:00Z",
        "to": "2026-11-30T07:00:00Z",
        "member": "ST-TECH-B",
        "reason": "en attendant la première relève"
    }]);
    let put = staff
        .put("/api/v1/rotations/ASTREINTE-TECH", &new_rotation)
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    let resolved = until_body(
        &staff,
        &format!("/api/v1/alarms/{id}"),
        "la résolution",
        |body| body["status"] == "resolved",
    )
    .await;
    assert_eq!(resolved["resolved_at"], NOW + MINUTE, "{resolved}");
    let open = staff.get("/api/v1/alarms?open=true").await;
    assert_eq!(
        open.body["items"].as_array().unwrap().len(),
        1,
        "{}",
        open.text
    );
    app.finish().await;
}

/// Issue 26, item 1: a territory from the inventory API, a rotation answering for it, a
/// secondary covering while the primary has nobody; the API says who answers for a site and
/// which rotations it passed; the coming 14 days' gaps are in the API and on the console's
/// on-call page; what routing names is not deleted.
#[tokio::test]
async fn a_site_is_answered_for_through_its_territory_and_gaps_are_shown_ahead() {
    let app = TestApp::spawn_with(|_| {}).await;
    app.store
        .import(&Actor::console("test"), &notification_inventory(), NOW)
        .await
        .unwrap();
    let admin = app
        .login_as("admin", UserKind::Staff, None, &[StaffRole::Administrator])
        .await;
    let territory = json!({"ref": "TER-PARIS", "name": "Agence de Paris", "sites": ["AGENCE"]});
    let put = admin.put("/api/v1/territories/TER-PARIS", &territory).await;
    assert_eq!(put.status, StatusCode::CREATED, "{}", put.text);
    // The primary starts in a week; the secondary covers now.
    let next_week = jiff::Timestamp::from_millisecond(NOW + 7 * 24 * 60 * MINUTE)
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::get("Europe/Paris").unwrap())
        .date();
    let mut primary = rotation();
    primary["name"] = json!("ASTREINTE-PARIS");
    primary["territory"] = json!("TER-PARIS");
    primary["members"] = json!(["ST-TECH-A"]);
    primary["start"] = json!(next_week.to_string());
    let mut secondary = rotation();
    secondary["name"] = json!("ASTREINTE-PARIS-SECOURS");
    secondary["territory"] = json!("TER-PARIS");
    secondary["rank"] = json!(2);
    secondary["members"] = json!(["ST-TECH-B"]);
    for rotation in [&primary, &secondary] {
        let name = rotation["name"].as_str().unwrap();
        let put = admin
            .put(&format!("/api/v1/rotations/{name}"), rotation)
            .await;
        assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    }
    let mut unknown = rotation();
    unknown["territory"] = json!("TER-NULLE-PART");
    let refused = admin
        .put("/api/v1/rotations/ASTREINTE-TECH", &unknown)
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    assert!(refused.text.contains("TER-NULLE-PART"), "{}", refused.text);

    let answer = admin
        .get(&format!("/api/v1/oncall?at={NOW}&site=AGENCE"))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(
        answer.body["site"],
        json!({"site": "AGENCE", "rotation": "ASTREINTE-PARIS-SECOURS", "member": "ST-TECH-B", "passed": ["ASTREINTE-PARIS"]}),
        "{}",
        answer.text
    );
    // The primary with nobody is an alarm's business; the secondary is not.
    assert_eq!(answer.body["uncovered"], json!(["ASTREINTE-PARIS"]));

    // The warehouse is in no territory and there is no fleet rotation: a gap of 14 days.
    let coverage = admin.get("/api/v1/oncall/coverage").await;
    assert_eq!(coverage.status, StatusCode::OK, "{}", coverage.text);
    let gaps = coverage.body["gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 1, "{}", coverage.text);
    assert_eq!(gaps[0]["sites"], json!(["ENTREPOT"]));
    let page = admin.get("/console/astreintes").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text
            .contains("Sites sans personne d'astreinte dans les 14 jours"),
        "{}",
        page.text
    );
    assert!(page.text.contains("Entrepôt de Rungis"), "{}", page.text);
    assert!(page.text.contains("secours n°1"), "{}", page.text);

    // A client never reads territories; deleting what routing names is refused.
    let client = app
        .login_as("banque", UserKind::Client, Some("CLI-BANQUE"), &[])
        .await;
    assert_eq!(
        client.get("/api/v1/territories/TER-PARIS").await.status,
        StatusCode::FORBIDDEN
    );
    let deleted = admin.delete("/api/v1/territories/TER-PARIS").await;
    assert_eq!(deleted.status, StatusCode::CONFLICT, "{}", deleted.text);
    app.finish().await;
}

/// NOT-4 (issue 26, item 2): the console starts an alarm's emergency conference call. The
/// on-call technician and the technical manager get the number, the PIN and the room's link
/// by SMS (one GSM segment) — the bank's security manager and CIO too, its contract having
/// direct notifications; the alarm's history says who was invited, by whom; a second start
/// invites again; without a bridge the start is refused and the page offers nothing.
#[tokio::test]
async fn the_console_starts_an_emergency_conference_and_its_invitations_go_out() {
    let (gateway, sms_port) = Gateway::start().await;
    let policy_file = std::env::temp_dir().join(format!(
        "vigie-conference-{}-{}.toml",
        std::process::id(),
        free_port()
    ));
    std::fs::write(
        &policy_file,
        "[[conference.bridges]]\nname = \"pont-astreinte\"\ndial_in = \"+33 1 84 88 00 00\"\npin = \"482193\"\njoin_url = \"https://visio.integrateur.fr/{room}\"\n",
    )
    .unwrap();
    let path = policy_file.display().to_string();
    let app = TestApp::spawn_with(move |config| {
        configure(config, free_port(), Some(sms_port));
        config.policy = path;
    })
    .await;
    setup(&app).await;
    let agent = app.agent("robot").await;
    let push = json!({"observations": [down(CAMERA, NOW - 10 * MINUTE), down(CAMERA, NOW)]});
    assert_eq!(
        agent.post("/api/v1/observations", &push).await.status,
        StatusCode::OK
    );
    let technician = linked_technician(&app).await;
    // The page offers it while the alarm is open.
    let page = technician.get("/console/alarmes/1").await;
    assert!(
        page.text.contains("Lancer la conférence d'urgence"),
        "{}",
        page.text
    );
    let started = technician
        .post("/api/v1/alarms/1/conference", &json!({}))
        .await;
    assert_eq!(started.status, StatusCode::CREATED, "{}", started.text);
    assert_eq!(started.body["conference"]["room"], "vigie-alarme-1");
    let invited: Vec<&str> = started.body["invited"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["channel"] == "sms")
        .map(|t| t["recipient"].as_str().unwrap())
        .collect();
    assert_eq!(
        invited,
        ["ST-TECH-A", "ST-CHEF", "BQ-RS", "BQ-DSI"],
        "{}",
        started.text
    );
    let sms = eventually("l'invitation du DSI", || {
        gateway
            .to("+33622222222")
            .into_iter()
            .find(|t| t.contains("conférence urgente"))
    })
    .await;
    assert!(
        sms.ends_with(
            "Appelez +33 1 84 88 00 00 code 482193 ou https://visio.integrateur.fr/vigie-alarme-1"
        ),
        "{sms}"
    );
    assert_eq!(vigie_domain::sms::compose(&sms).segments, 1, "{sms}");
    // The alarm's history: invited, by whom.
    let staff = app
        .login_as(
            "supervision",
            UserKind::Staff,
            None,
            &[StaffRole::Supervision],
        )
        .await;
    let alarm = staff.get("/api/v1/alarms/1").await;
    let conference = alarm.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"] == "escalated" && e["conference"].is_object())
        .expect("l'invitation dans l'historique")
        .clone();
    assert_eq!(conference["step"], "critical/conference-console");
    assert!(conference["by"].is_string(), "{conference}");
    // A second start is a new round: invited again.
    let again = technician
        .post("/api/v1/alarms/1/conference", &json!({}))
        .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);
    assert_eq!(again.body["step"], "critical/conference-console#1");
    // A client cannot start one.
    let client = app
        .login_as("banque", UserKind::Client, Some("CLI-BANQUE"), &[])
        .await;
    assert_eq!(
        client
            .post("/api/v1/alarms/1/conference", &json!({}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    app.finish().await;
    let _ = std::fs::remove_file(&policy_file);

    // Without a bridge: refused, and not offered.
    let bare = TestApp::spawn_with(|_| {}).await;
    setup(&bare).await;
    let agent = bare.agent("robot").await;
    assert_eq!(
        agent.post("/api/v1/observations", &push).await.status,
        StatusCode::OK
    );
    let technician = linked_technician(&bare).await;
    let refused = technician
        .post("/api/v1/alarms/1/conference", &json!({}))
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    assert!(
        refused.text.contains("aucun pont de conférence"),
        "{}",
        refused.text
    );
    let page = technician.get("/console/alarmes/1").await;
    assert!(!page.text.contains("Lancer la conférence d'urgence"));
    bare.finish().await;
}

/// Kevin Lambert's account, linked to his record of the staff (a step on an alarm says who).
async fn linked_technician(app: &TestApp) -> crate::Session<'_> {
    let new = vigie_store::NewUser {
        username: "kevin".into(),
        display_name: "Kevin Lambert".into(),
        kind: UserKind::Staff,
        staff: Some(vigie_domain::Reference::parse("ST-TECH-A").unwrap()),
        client: None,
        roles: [StaffRole::Technician].into_iter().collect(),
        password_hash: vigie_server::auth::hash_password(crate::PASSWORD),
        must_change_password: false,
    };
    app.store
        .create_user(&Actor::console("test"), new, NOW)
        .await
        .unwrap();
    app.login("kevin", crate::PASSWORD).await.expect("login")
}

/// Issue 26, item 8: a rotation's calendar address is revoked from its page: the old one
/// finds nothing, the new one serves the shifts, asking phones to look again every minute.
#[tokio::test]
async fn a_calendar_address_is_revoked_and_the_new_one_serves() {
    let app = TestApp::spawn_with(|_| {}).await;
    setup(&app).await;
    let staff = crate::pages::form_login(
        &app,
        "supervision",
        UserKind::Staff,
        None,
        None,
        &[StaffRole::Supervision],
    )
    .await;
    let feed_of = |html: &str| -> String {
        let start = html
            .find("id=\"rotation-feed\" href=\"")
            .expect("the feed's link")
            + "id=\"rotation-feed\" href=\"".len();
        let address = &html[start..start + html[start..].find('"').unwrap()];
        let path = &address[address.find("/agenda/").unwrap()..];
        format!("{}{}", app.base, path.replace("&amp;", "&"))
    };
    let page = staff.get("/console/astreintes/ASTREINTE-TECH").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let old = feed_of(&page.text);
    let phone = reqwest::Client::new();
    let reply = phone.get(&old).send().await.unwrap();
    assert_eq!(reply.status(), 200);
    assert_eq!(
        reply.headers()[reqwest::header::CACHE_CONTROL],
        "private, max-age=60"
    );
    let ics = reply.text().await.unwrap();
    assert!(
        ics.contains("REFRESH-INTERVAL;VALUE=DURATION:PT1M\r\n"),
        "{ics}"
    );

    let revoked = staff
        .post_form(
            "/console/astreintes/agenda/revoquer",
            &[
                ("csrf", &crate::pages::csrf_of(&page.text)),
                ("feed", "astreinte"),
                ("id", "ASTREINTE-TECH"),
            ],
        )
        .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER, "{}", revoked.text);
    let back = staff.get(revoked.location.as_deref().unwrap()).await;
    assert!(
        back.text.contains("l'ancienne ne marche plus"),
        "{}",
        back.text
    );
    assert_eq!(phone.get(&old).send().await.unwrap().status(), 404);
    let new = feed_of(&back.text);
    assert_ne!(new, old);
    assert_eq!(phone.get(&new).send().await.unwrap().status(), 200);
    // Only a rotation or a person that exists has an address to revoke.
    let unknown = staff
        .post_form(
            "/console/astreintes/agenda/revoquer",
            &[
                ("csrf", &crate::pages::csrf_of(&back.text)),
                ("feed", "astreinte"),
                ("id", "ASTREINTE-INCONNUE"),
            ],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.text);
    // Written in the audit trail.
    let admin = app
        .login_as(
            "auditeur",
            UserKind::Staff,
            None,
            &[StaffRole::Administrator],
        )
        .await;
    let audit = admin.get("/api/v1/audit?object_kind=agenda").await;
    assert!(
        audit.text.contains("astreinte/ASTREINTE-TECH"),
        "{}",
        audit.text
    );
    app.finish().await;
}

/// Issue 26, item 7: after a Critical alarm paged by SMS and email and acknowledged ten
/// minutes later, the figures count the technician's pages and the client's and rotation's
/// time to acknowledge, in the API and on the console's page.
#[tokio::test]
async fn on_call_figures_count_pages_and_response_times() {
    let (gateway, sms_port) = Gateway::start().await;
    let smtp_port = free_port();
    let smtp = Smtp::start(smtp_port);
    let app = TestApp::spawn_with(|config| configure(config, smtp_port, Some(sms_port))).await;
    setup(&app).await;
    let agent = app.agent("robot").await;
    let push = json!({"observations": [down(CAMERA, NOW - 10 * MINUTE), down(CAMERA, NOW)]});
    assert_eq!(
        agent.post("/api/v1/observations", &push).await.status,
        StatusCode::OK
    );
    eventually("le SMS du technicien", || {
        (!gateway.to("+33677777777").is_empty()).then_some(())
    })
    .await;
    let technician = linked_technician(&app).await;
    app.clock.advance_ms(10 * MINUTE);
    let acknowledged = technician
        .post("/api/v1/alarms/1/acknowledge", &json!({}))
        .await;
    assert_eq!(acknowledged.status, StatusCode::OK, "{}", acknowledged.text);
    let answer = technician.get("/api/v1/oncall/figures").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let kevin = answer.body["people"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["recipient"] == "ST-TECH-A")
        .cloned()
        .expect("Kevin Lambert's pages");
    assert!(kevin["pages"].as_u64().unwrap() >= 1, "{kevin}");
    assert_eq!(kevin["nights"], 0, "{kevin}");
    let bank = answer.body["by_client"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["group"] == "CLI-BANQUE")
        .cloned()
        .expect("the bank's row");
    // Told at NOW − 5 min, acknowledged at NOW + 10 min.
    assert_eq!(bank["mtta_ms"], 15 * MINUTE, "{bank}");
    assert_eq!(
        answer.body["by_rotation"][0]["group"], "ASTREINTE-TECH",
        "{}",
        answer.text
    );
    let page = technician.get("/console/astreintes/chiffres").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("Kevin Lambert"), "{}", page.text);
    assert!(page.text.contains("ASTREINTE-TECH"), "{}", page.text);
    let refused = technician
        .get("/api/v1/oncall/figures?from=2026-01-01T00:00:00Z&to=2027-06-01T00:00:00Z")
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    drop(smtp);
    app.finish().await;
}

/// Issue 26, item 4: the policy is changed from the console and applies without restart. A
/// policy that does not read is refused with why and saves nothing; only administrators and
/// the technical and operations managers change it; a saved version is in force at once (a
/// Critical alarm raised next has 10 minutes to be acknowledged, not 30); every version stays
/// and any is restored as a new one, audited.
#[tokio::test]
async fn the_policy_is_changed_in_the_console_and_applies_without_restart() {
    let app = TestApp::spawn_with(|_| {}).await;
    setup(&app).await;
    let admin = crate::pages::form_login(
        &app,
        "direction-technique",
        UserKind::Staff,
        None,
        None,
        &[StaffRole::TechnicalManager],
    )
    .await;
    let api_admin = app
        .login_as(
            "administratrice",
            UserKind::Staff,
            None,
            &[StaffRole::Administrator],
        )
        .await;
    let supervision = app
        .login_as(
            "supervision",
            UserKind::Staff,
            None,
            &[StaffRole::Supervision],
        )
        .await;
    let in_force = supervision.get("/api/v1/policy").await;
    assert_eq!(in_force.status, StatusCode::OK, "{}", in_force.text);
    assert_eq!(in_force.body["version"], 0);
    assert_eq!(in_force.body["source"], "configuration");
    // On PostgreSQL, a second process on the same base, already running when the policy
    // changes: it takes each version within its refresh.
    let other = if app.store.backend() == vigie_store::Backend::Postgres {
        Some(app.another_process().await)
    } else {
        None
    };
    // The supervision team reads it, does not change it.
    let refused = supervision
        .put(
            "/api/v1/policy",
            &json!({"text": "[acknowledgement.critical]\nwhen_open = \"10min\"\n"}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);

    // From the console: a text that does not read is shown back with why; nothing is saved.
    let page = admin.get("/console/politique").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(
        page.text.contains("Aucune version enregistrée."),
        "{}",
        page.text
    );
    let bad = admin
        .post_form(
            "/console/politique",
            &[
                ("csrf", &crate::pages::csrf_of(&page.text)),
                (
                    "texte",
                    "[acknowledgement.critical]\nwhen_open = \"bientôt\"\n",
                ),
                ("note", "essai"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
    assert!(bad.text.contains("politique refusée"), "{}", bad.text);
    assert!(
        bad.text.contains("bientôt"),
        "the refused text is kept: {}",
        bad.text
    );
    let none = api_admin.get("/api/v1/policy/versions").await;
    assert_eq!(none.body["items"], json!([]), "{}", none.text);

    // Saved: Critical alarms in business hours have 10 minutes, at once.
    let ten = "[acknowledgement.critical]\nwhen_open = \"10min\"\n";
    let saved = admin
        .post_form(
            "/console/politique",
            &[
                ("csrf", &crate::pages::csrf_of(&page.text)),
                ("texte", ten),
                ("note", "Critique : 10 min en heures ouvrées"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text);
    let page = admin.get("/console/politique").await;
    assert!(page.text.contains("Version 1 en vigueur"), "{}", page.text);
    let agent = app.agent("robot").await;
    let push = json!({"observations": [down(CAMERA, NOW - 10 * MINUTE), down(CAMERA, NOW)]});
    assert_eq!(
        agent.post("/api/v1/observations", &push).await.status,
        StatusCode::OK
    );
    until_body(&supervision, "/api/v1/alarms/1", "l'alarme", |body| {
        body["notified_at"].is_i64()
    })
    .await;
    // Told at NOW − 5 min: the deadline is NOW + 5 min under the new policy (NOW + 25 min
    // under the old one).
    app.clock.advance_ms(6 * MINUTE);
    until_body(
        &supervision,
        "/api/v1/alarms/1",
        "l'escalade à l'échéance de 10 min",
        |body| {
            body["events"].as_array().is_some_and(|events| {
                events.iter().any(|e| {
                    e["event"] == "escalated" && e["step"] == "critical/echeance-acquittement"
                })
            })
        },
    )
    .await;

    // A second version, then back to the first: a third version that copies it.
    let second = api_admin
        .put(
            "/api/v1/policy",
            &json!({"text": "[acknowledgement.critical]\nwhen_open = \"20min\"\n", "note": "20 min"}),
        )
        .await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.text);
    assert_eq!(second.body["version"], 2);
    let page = admin.get("/console/politique").await;
    let restored = admin
        .post_form(
            "/console/politique/1/restaurer",
            &[("csrf", &crate::pages::csrf_of(&page.text))],
        )
        .await;
    assert_eq!(restored.status, StatusCode::SEE_OTHER, "{}", restored.text);
    let in_force = supervision.get("/api/v1/policy").await;
    assert_eq!(in_force.body["version"], 3, "{}", in_force.text);
    assert_eq!(in_force.body["source"], "console");
    assert_eq!(in_force.body["saved"]["text"], ten);
    assert_eq!(in_force.body["saved"]["restored_from"], 1);
    assert_eq!(in_force.body["saved"]["note"], "retour à la version 1");
    let versions = api_admin.get("/api/v1/policy/versions").await;
    let numbers: Vec<i64> = versions.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [3, 2, 1], "{}", versions.text);
    if let Some((other, server)) = other {
        let crate::Auth::Cookie(cookie) = &supervision.auth else {
            panic!("a session by cookie")
        };
        let mut seen = Value::Null;
        for _ in 0..300 {
            seen = app
                .http
                .get(format!("{other}/api/v1/policy"))
                .header("cookie", cookie)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if seen["version"] == 3 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(seen["version"], 3, "{seen}");
        server.abort();
    }
    let unknown = api_admin
        .post("/api/v1/policy/versions/9/restore", &json!({}))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.text);
    let audit = api_admin.get("/api/v1/audit?object_kind=policy").await;
    assert_eq!(
        audit.body["items"].as_array().map(Vec::len),
        Some(3),
        "{}",
        audit.text
    );
    app.finish().await;
}
