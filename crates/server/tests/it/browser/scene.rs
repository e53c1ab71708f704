//! What the tablet and accessibility tests look at: the example fleet with a staff member and
//! a client user, an open alarm on the wall, an open ticket and a closed one (its survey due),
//! and the pages that show them.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use vigie_domain::access::Actor;
use vigie_domain::inventory::StaffRole;
use vigie_store::{AlarmFilter, UserKind};

use super::webdriver::Browser;
use crate::{NOW, PASSWORD, TestApp};

pub const NVR: &str = "BNF-PAR-OPERA-NVR-01";
pub const STAFF: &str = "superviseur";
pub const CLIENT: &str = "bnf";
/// Bound on waiting for the alarm worker to raise the scene's alarm.
const ALARM_WAIT: Duration = Duration::from_secs(10);
const WAIT: Duration = Duration::from_secs(15);

/// The numbers of what the scene made.
pub struct Scene {
    pub alarm: u64,
    pub open_ticket: u64,
    pub closed_ticket: u64,
}

/// One page a test opens: a short name for reports and screenshots, its address.
pub struct Visit {
    pub name: &'static str,
    pub path: String,
}

/// Opens each of `pages` and gathers what `check` (the browser, `label`, the page's name)
/// finds there: the accessibility and tablet checks' round of the pages.
pub async fn check_pages(
    browser: &Browser,
    base: &str,
    label: &str,
    pages: &[Visit],
    check: impl AsyncFn(&Browser, &str, &str) -> Vec<String>,
) -> Vec<String> {
    let mut found = Vec::new();
    for visit in pages {
        browser
            .goto(&format!("{base}{}", visit.path))
            .await
            .unwrap();
        browser.wait_for("main h1", super::WAIT).await.unwrap();
        found.extend(check(browser, label, visit.name).await);
    }
    found
}

impl Scene {
    pub async fn set_up(app: &TestApp) -> Scene {
        app.import_fleet().await;
        crate::pages::create_staff(app, STAFF, "ST-TECH-01", StaffRole::Supervision).await;
        app.create_user(CLIENT, UserKind::Client, Some("CLI-BNF"), &[], false)
            .await;
        // The NVR's disk fills: a critical alarm on the wall.
        let agent = app.agent("robot").await;
        let disk = |at: i64| {
            json!({"equipment": NVR, "check": "agent", "at": at, "status": "up",
                   "samples": [{"name": "disk_used_percent:/srv", "value": 97.0}]})
        };
        let push = json!({"observations": [disk(NOW - 10 * 60_000), disk(NOW)]});
        assert_eq!(
            agent.post("/api/v1/observations", &push).await.status,
            StatusCode::OK
        );
        let alarm = wait_for_alarm(app).await;
        // Two tickets of the client's: one open, one resolved and confirmed (closed).
        let client = app.login(CLIENT, PASSWORD).await.expect("login");
        let staff = app.login(STAFF, PASSWORD).await.expect("login");
        let mut numbers = Vec::new();
        for symptom in [
            "L'enregistreur ne répond plus depuis ce matin",
            "La caméra de l'entrée est floue",
        ] {
            let opened = client
                .post(
                    "/api/v1/tickets",
                    &json!({"site": "BNF-PAR-OPERA", "equipment": NVR, "symptom": symptom,
                            "impact": "one_equipment"}),
                )
                .await;
            assert_eq!(opened.status, StatusCode::CREATED, "{}", opened.text);
            numbers.push(opened.body["ticket"]["number"].as_u64().unwrap());
        }
        let closed = numbers[1];
        for (session, action) in [
            (&staff, "take_charge"),
            (&staff, "resolve"),
            (&client, "client_confirms"),
        ] {
            let step = session
                .post(
                    &format!("/api/v1/tickets/{closed}/actions"),
                    &json!({ "action": action }),
                )
                .await;
            assert_eq!(step.status, StatusCode::OK, "{action}: {}", step.text);
        }
        Scene {
            alarm,
            open_ticket: numbers[0],
            closed_ticket: closed,
        }
    }

    /// The staff's main pages.
    pub fn staff_pages(&self) -> Vec<Visit> {
        vec![
            visit("mur", "/console"),
            visit("alarme", &format!("/console/alarmes/{}", self.alarm)),
            visit("tickets", "/console/tickets"),
            visit("ticket", &format!("/console/tickets/{}", self.open_ticket)),
            visit("equipements", "/console/equipements"),
            visit("equipement", &format!("/console/equipements/{NVR}")),
            visit("site", "/console/sites/BNF-PAR-OPERA"),
            visit("inventaire", "/console/inventaire/site/BNF-PAR-OPERA"),
            visit("nouvelle-fiche", "/console/inventaire/nouvelle/equipment"),
            visit("politique", "/console/politique"),
        ]
    }

    /// The client's main pages.
    pub fn client_pages(&self) -> Vec<Visit> {
        vec![
            visit("tableau-de-bord", "/portail"),
            visit("site-portail", "/portail/sites/BNF-PAR-OPERA"),
            visit("signalement", "/portail/signaler?site=BNF-PAR-OPERA"),
            visit("mes-tickets", "/portail/tickets"),
            visit(
                "enquete",
                &format!("/portail/tickets/{}", self.closed_ticket),
            ),
        ]
    }
}

fn visit(name: &'static str, path: &str) -> Visit {
    Visit {
        name,
        path: path.to_string(),
    }
}

async fn wait_for_alarm(app: &TestApp) -> u64 {
    let deadline = Instant::now() + ALARM_WAIT;
    loop {
        let alarms = app
            .store
            .list_alarms(&Actor::console("test"), &AlarmFilter::default(), NOW)
            .await
            .unwrap();
        if let Some(stored) = alarms.first() {
            return stored.alarm.id;
        }
        assert!(Instant::now() < deadline, "no alarm after {ALARM_WAIT:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Logs in through the login form at `path` (which asks to log in first), as `username`.
pub async fn log_in(browser: &Browser, base: &str, path: &str, username: &str) {
    browser.goto(&format!("{base}{path}")).await.unwrap();
    browser
        .wait_for("#username", WAIT)
        .await
        .unwrap()
        .send_keys(username)
        .await
        .unwrap();
    browser
        .find("#password")
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    browser
        .find("button[type=submit]")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.wait_for("form.logout", WAIT).await.unwrap();
}

/// Logs out with the header's button, back to the login page.
pub async fn log_out(browser: &Browser) {
    browser
        .wait_for("form.logout button", WAIT)
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.wait_for("#username", WAIT).await.unwrap();
}
