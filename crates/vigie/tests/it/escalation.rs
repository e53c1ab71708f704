//! Escalation and delivery across process deaths and processes (issue 6): a `vigie serve`
//! killed with SIGKILL in the middle of an escalation and started again fires the next step
//! once, on time; two `vigie serve` on one PostgreSQL database share 10,000 pages, each sent
//! once.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use vigie_domain::Reference;
use vigie_domain::alarm::escalation::{Notice, Page};
use vigie_domain::alarm::lifecycle::Alarm;
use vigie_domain::alarm::rules::{Condition, ConditionKey};
use vigie_domain::policy::{Channel, Severity};

use crate::{Sandbox, free_port, stdout};

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn notification_inventory() -> String {
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scenarios/notification-inventory.toml"
    )
    .to_owned()
}

/// Webhook calls received: (path, idempotency key, arrival in UTC ms).
#[derive(Clone, Default)]
struct Receiver {
    calls: Arc<Mutex<Vec<(String, String, i64)>>>,
}

impl Receiver {
    async fn start() -> (Receiver, u16) {
        let receiver = Receiver::default();
        let calls = receiver.calls.clone();
        let app = axum::Router::new().route(
            "/hook/{process}",
            axum::routing::post(
                move |axum::extract::Path(process): axum::extract::Path<String>,
                      headers: axum::http::HeaderMap| {
                    let calls = calls.clone();
                    async move {
                        let key = headers
                            .get("x-vigie-key")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_owned();
                        calls.lock().unwrap().push((process, key, now_ms()));
                        "ok"
                    }
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (receiver, port)
    }

    fn calls(&self) -> Vec<(String, String, i64)> {
        self.calls.lock().unwrap().clone()
    }

    fn times(&self, key: &str) -> Vec<i64> {
        self.calls()
            .into_iter()
            .filter(|(_, k, _)| k == key)
            .map(|(_, _, at)| at)
            .collect()
    }
}

/// `vigie serve` on `port`, its pages posted to the receiver's `/hook/{name}`.
fn serve(
    sandbox: &Sandbox,
    port: u16,
    receiver_port: u16,
    name: &str,
    policy: Option<&str>,
) -> Child {
    let mut command = sandbox.command(&["serve"]);
    command
        .env("VIGIE_SERVER__LISTEN", format!("127.0.0.1:{port}"))
        .env(
            "VIGIE_NOTIFICATIONS__WEBHOOKS",
            format!(
                r#"[{{ name = "test", url = "http://127.0.0.1:{receiver_port}/hook/{name}", secret = "secret-de-test" }}]"#
            ),
        )
        .env("VIGIE_NOTIFICATIONS__MAX_IN_FLIGHT", "64")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(sandbox.directory.join(format!("serve-{name}.log"))).unwrap());
    if let Some(policy) = policy {
        command.env("VIGIE_POLICY", policy);
    }
    let mut server = command.spawn().unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(first.starts_with("Vigie écoute"), "{first}");
    std::thread::spawn(move || for _ in lines {});
    server
}

/// The escalation of a Critical alarm, shortened so that a test sees it: a first page at once,
/// a reminder 90 seconds later unless acknowledged. Both to the webhook.
const POLICY: &str = r#"
[[escalation.critical]]
name = "premier"
after = "0m"
notify = ["supervision"]
channels = ["webhook"]

[[escalation.critical]]
name = "relance"
after = "90s"
unless = "acknowledged"
notify = ["supervision"]
channels = ["webhook"]
"#;

#[tokio::test]
async fn a_server_killed_mid_escalation_fires_the_next_step_once_on_time() {
    let sandbox = Sandbox::new().await;
    assert!(
        sandbox
            .run(&["import", &notification_inventory()])
            .status
            .success()
    );
    let policy = sandbox.directory.join("politique.toml");
    std::fs::write(&policy, POLICY).unwrap();
    let token = sandbox.agent_token();
    let (receiver, receiver_port) = Receiver::start().await;
    let port = free_port();
    let policy = policy.to_str().unwrap().to_owned();
    let mut server = serve(
        &sandbox,
        port,
        receiver_port,
        "premier-processus",
        Some(&policy),
    );

    // The vault camera down since 6 minutes: raised and told 5 minutes after it went down.
    let first_down = now_ms() - 6 * 60_000;
    let push = json!({"observations": [
        {"equipment": "AG-CAM-COFFRE", "check": "ping", "at": first_down, "status": "down"},
        {"equipment": "AG-CAM-COFFRE", "check": "ping", "at": now_ms(), "status": "down"}
    ]});
    let reply = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/api/v1/observations"))
        .bearer_auth(&token)
        .json(&push)
        .send()
        .await
        .unwrap();
    assert!(
        reply.status().is_success(),
        "{}",
        reply.text().await.unwrap()
    );
    let told = first_down + 5 * 60_000;
    let reminder_due = told + 90_000;

    let first = "1/critical/premier/test/webhook";
    let reminder = "1/critical/relance/test/webhook";
    for _ in 0..300 {
        if !receiver.times(first).is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        receiver.times(first).len(),
        1,
        "{:?} {}",
        receiver.calls(),
        std::fs::read_to_string(sandbox.directory.join("serve-premier-processus.log"))
            .unwrap_or_default()
    );
    assert!(
        now_ms() < reminder_due - 5_000,
        "le test arrive trop tard pour tuer le serveur avant la relance"
    );
    // Its delivery recorded, the server dies without a word (SIGKILL), then starts again.
    tokio::time::sleep(Duration::from_secs(1)).await;
    server.kill().unwrap();
    server.wait().unwrap();
    let mut server = serve(
        &sandbox,
        port,
        receiver_port,
        "second-processus",
        Some(&policy),
    );

    for _ in 0..1200 {
        if !receiver.times(reminder).is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A few more seconds: nothing goes twice.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let reminders = receiver.times(reminder);
    assert_eq!(reminders.len(), 1, "{:?}", receiver.calls());
    let calls = receiver.calls();
    let sent_by = calls
        .iter()
        .find(|(_, k, _)| k == reminder)
        .map(|(p, _, _)| p.clone());
    assert_eq!(sent_by.as_deref(), Some("second-processus"));
    // On time: at its due instant, within the loop's one-second tick and a delivery.
    let late = reminders[0] - reminder_due;
    assert!(
        (0..5_000).contains(&late),
        "relance à {late} ms de son échéance"
    );
    assert_eq!(receiver.times(first).len(), 1, "{calls:?}");
    server.kill().unwrap();
    server.wait().unwrap();
    sandbox.finish().await;
}

/// A page to the webhook, as the store queues them.
fn page(alarm: &Alarm, number: usize) -> Notice {
    Notice {
        page: Page {
            key: format!("partage/{number}/test/webhook"),
            alarm: alarm.id,
            severity: Severity::Critical,
            step: "critical/partage".into(),
            recipient: "test".into(),
            name: "test".into(),
            channel: Channel::Webhook,
            address: "test".into(),
            alternate: None,
            staff: false,
            follow_up_ms: 0,
        },
        alarm: alarm.clone(),
        client_name: "Banque Exemple".into(),
        site_name: "Agence Opéra".into(),
        equipment_name: None,
        time_zone: Default::default(),
        acknowledge_by: None,
        digest: Vec::new(),
        digest_omitted: 0,
        conference: None,
    }
}

#[tokio::test]
async fn two_servers_on_one_database_share_ten_thousand_pages_each_sent_once() {
    const PAGES: usize = 10_000;
    // Several servers on one database is PostgreSQL's case: on SQLite the second is refused
    // at start (`storage.rs`).
    if vigie_store::testing::backend_from_env() != vigie_store::Backend::Postgres {
        eprintln!("plusieurs serveurs sur une base : PostgreSQL seulement");
        return;
    }
    let sandbox = Sandbox::new().await;
    assert!(
        sandbox
            .run(&["import", &notification_inventory()])
            .status
            .success()
    );
    let (receiver, receiver_port) = Receiver::start().await;
    let (port_a, port_b) = (free_port(), free_port());
    let mut a = serve(&sandbox, port_a, receiver_port, "a", None);
    let mut b = serve(&sandbox, port_b, receiver_port, "b", None);

    // The pages are queued in the shared database, as the alarm worker's transaction would.
    let url = match &sandbox.database.as_ref().unwrap().backend {
        vigie_store::Backend::Postgres => sandbox.database.as_ref().unwrap().url.clone(),
        vigie_store::Backend::Sqlite => {
            format!(
                "sqlite://{}",
                sandbox.directory.join("vigie.sqlite").display()
            )
        }
    };
    let store = vigie_store::System::open(&url).await.unwrap();
    let (alarm, _) = Alarm::raised(
        1,
        Some(Reference::parse("AGENCE").unwrap()),
        Some(Reference::parse("AG-CAM-COFFRE").unwrap()),
        ConditionKey::whole(Condition::Unreachable),
        Severity::Critical,
        false,
        now_ms(),
    );
    let client = Reference::parse("CLI-BANQUE").unwrap();
    for chunk in (0..PAGES).collect::<Vec<_>>().chunks(1000) {
        let notices: Vec<(Reference, Notice)> = chunk
            .iter()
            .map(|n| (client.clone(), page(&alarm, *n)))
            .collect();
        store.enqueue_notices(&notices, now_ms()).await.unwrap();
    }
    // The receiver runs on this test's runtime: wait without blocking it.
    for _ in 0..1800 {
        if receiver.calls().len() >= PAGES {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        receiver.calls().len() >= PAGES,
        "{} pages reçues en 180 s",
        receiver.calls().len()
    );
    // A few more seconds: nothing goes twice.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let calls = receiver.calls();
    let mut per_key: BTreeMap<&str, usize> = BTreeMap::new();
    let mut per_process: BTreeMap<&str, usize> = BTreeMap::new();
    for (process, key, _) in &calls {
        *per_key.entry(key.as_str()).or_default() += 1;
        *per_process.entry(process.as_str()).or_default() += 1;
    }
    assert_eq!(per_key.len(), PAGES, "clés distinctes");
    let doubled: Vec<_> = per_key.iter().filter(|(_, n)| **n > 1).collect();
    assert!(doubled.is_empty(), "pages envoyées deux fois : {doubled:?}");
    // Both processes took part.
    assert!(
        per_process.get("a").copied().unwrap_or(0) > 0,
        "{per_process:?}"
    );
    assert!(
        per_process.get("b").copied().unwrap_or(0) > 0,
        "{per_process:?}"
    );
    let counts = store.notification_counts().await.unwrap();
    assert_eq!(
        counts.get("sent").copied(),
        Some(PAGES as i64),
        "{counts:?}"
    );
    store.close().await;
    a.kill().unwrap();
    a.wait().unwrap();
    b.kill().unwrap();
    b.wait().unwrap();
    sandbox.finish().await;
}

/// `vigie rotation import` then `vigie oncall --at` (the CLI half of « who is on call at T »):
/// the weekly hand-off on Paris' wall clock across the spring change, an override, and nobody
/// before the first shift.
#[tokio::test]
async fn who_is_on_call_from_the_command_line() {
    let sandbox = Sandbox::new().await;
    assert!(
        sandbox
            .run(&["import", &notification_inventory()])
            .status
            .success()
    );
    let file = sandbox.directory.join("astreintes.toml");
    std::fs::write(
        &file,
        r#"
[[rotation]]
name = "ASTREINTE-TECH"
duty = "technician"
time_zone = "Europe/Paris"
members = ["ST-TECH-A", "ST-TECH-B"]
handoff = { every = "week", day = "monday", at = "08:00" }
start = 2026-01-05

[[rotation.overrides]]
from = 2026-03-31T18:00:00+02:00
to = 2026-04-01T08:00:00+02:00
member = "ST-TECH-B"
reason = "échange de soirée"
"#,
    )
    .unwrap();
    let imported = sandbox.run(&["rotation", "import", file.to_str().unwrap()]);
    assert!(imported.status.success(), "{}", crate::stderr(&imported));
    let at = |instant: &str| stdout(&sandbox.run(&["oncall", "--at", instant]));
    assert_eq!(
        at("2026-03-30T07:59:00"),
        "ASTREINTE-TECH (technicien d'astreinte) : Nadia Roux (ST-TECH-B) du 2026-03-23 08:00 CET au 2026-03-30 08:00 CEST\n"
    );
    assert_eq!(
        at("2026-03-30T08:00:00"),
        "ASTREINTE-TECH (technicien d'astreinte) : Kevin Lambert (ST-TECH-A) du 2026-03-30 08:00 CEST au 2026-03-31 18:00 CEST\n"
    );
    assert_eq!(
        at("2026-03-31T20:00:00+02:00"),
        "ASTREINTE-TECH (technicien d'astreinte) : Nadia Roux (ST-TECH-B) du 2026-03-31 18:00 CEST au 2026-04-01 08:00 CEST (remplacement)\n"
    );
    assert_eq!(
        at("2026-01-05T07:00:00"),
        "ASTREINTE-TECH (technicien d'astreinte) : PERSONNE D'ASTREINTE à cet instant\n"
    );
    // A member who is not on the staff is refused, and nothing is changed.
    std::fs::write(
        &file,
        std::fs::read_to_string(&file)
            .unwrap()
            .replace("ST-TECH-B\"]", "ST-INCONNU\"]"),
    )
    .unwrap();
    let refused = sandbox.run(&["rotation", "import", file.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(
        crate::stderr(&refused).contains("ST-INCONNU"),
        "{}",
        crate::stderr(&refused)
    );
    assert!(at("2026-03-30T07:59:00").contains("Nadia Roux"));
    sandbox.finish().await;
}
