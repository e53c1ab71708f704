//! Vigie's pages in headless Chromium (issue 8; CLO-1, CLO-2, SAV-1, SAV-4, DSH-1, X-2): a
//! technician logs in, sees an equipment's alarm appear live on the wall without reloading,
//! acknowledges it, takes it in charge, sees it resolved, and closes it with the report CLO-1
//! requires; a client user sees only its own sites, reports a problem through the guided
//! form and finds the ticket, and gets "not found" at another client's addresses.
//! Screenshots of the main pages go to `target/browser-artifacts/`.

use std::time::Duration;

use serde_json::{Value, json};
use vigie_domain::inventory::StaffRole;
use vigie_store::UserKind;

use super::artifacts_dir;
use super::scene::log_in;
use super::webdriver::Browser;
use crate::{NOW, TestApp};

const NVR: &str = "BNF-PAR-OPERA-NVR-01";
const MINUTE: i64 = 60_000;
const WAIT: Duration = Duration::from_secs(15);

fn disk(at: i64, percent: f64) -> Value {
    json!({"equipment": NVR, "check": "agent", "at": at, "status": "up",
           "samples": [{"name": "disk_used_percent:/srv", "value": percent}]})
}

#[tokio::test]
async fn a_technician_works_an_alarm_live_from_the_wall_to_its_closure() {
    let app = TestApp::spawn().await;
    app.import_fleet().await;
    let agent = app.agent("robot").await;
    crate::pages::create_staff(&app, "klambert", "ST-TECH-01", StaffRole::Technician).await;
    let artifacts = artifacts_dir("technician");
    let browser = Browser::start(&artifacts).await.unwrap();

    // The wall asks to log in first, then comes back to it.
    log_in(&browser, &app.base, "/console", "klambert").await;
    browser
        .wait_for_text("h1", "Mur d'alarmes", WAIT)
        .await
        .unwrap();
    browser
        .wait_for_text("#live-status", "en direct", WAIT)
        .await
        .unwrap();
    browser
        .wait_for_text("#wall", "Aucune alarme à traiter", WAIT)
        .await
        .unwrap();

    // The NVR's disk fills: the alarm appears on the open wall, without reloading.
    let marker = browser
        .execute("window.vigieMarker = 42; return 1;", vec![])
        .await
        .unwrap();
    assert_eq!(marker, json!(1));
    let push = json!({"observations": [disk(NOW - 10 * MINUTE, 97.0), disk(NOW, 97.0)]});
    assert_eq!(
        agent.post("/api/v1/observations", &push).await.status,
        reqwest::StatusCode::OK
    );
    browser.wait_for_text("#wall", NVR, WAIT).await.unwrap();
    let row = browser.find("#wall tr[data-alarm]").await.unwrap();
    assert!(row.text().await.unwrap().contains("Critique"));
    // Still the same page: nothing reloaded it.
    let same = browser
        .execute("return window.vigieMarker;", vec![])
        .await
        .unwrap();
    assert_eq!(same, json!(42));
    browser
        .screenshot(&artifacts.join("mur-d-alarmes.png"))
        .await
        .unwrap();

    // The alarm's page: acknowledge, take in charge.
    browser
        .find("#wall tr[data-alarm] a")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for("#acknowledge", WAIT)
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for_text("p.notice", "Alarme acquittée", WAIT)
        .await
        .unwrap();
    browser
        .wait_for("#take-charge", WAIT)
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for_text("p.notice", "Alarme prise en charge", WAIT)
        .await
        .unwrap();
    browser
        .wait_for_text("#alarm-status", "prise en charge", WAIT)
        .await
        .unwrap();

    // The disk is purged: the page shows it resolved, live.
    browser
        .wait_for_text("#live-status", "en direct", WAIT)
        .await
        .unwrap();
    app.clock.advance_ms(MINUTE);
    agent.observe(vec![disk(NOW + MINUTE, 40.0)]).await;
    app.clock.advance_ms(10 * MINUTE);
    agent.observe(vec![disk(NOW + 11 * MINUTE, 40.0)]).await;
    browser
        .wait_for_text("#alarm-status", "résolue", WAIT)
        .await
        .unwrap();

    // CLO-1: the closure asks for every field; a browser refuses an empty form.
    browser.refresh().await.unwrap();
    browser.wait_for("#close-form", WAIT).await.unwrap();
    browser.find("#close").await.unwrap().click().await.unwrap();
    assert!(browser.find("#close-form").await.is_ok(), "nothing sent");
    browser
        .find("#actions")
        .await
        .unwrap()
        .send_keys("Purge des exports anciens")
        .await
        .unwrap();
    browser
        .find("#minutes")
        .await
        .unwrap()
        .send_keys("25")
        .await
        .unwrap();
    browser
        .find("#cause")
        .await
        .unwrap()
        .send_keys("Exports jamais purgés")
        .await
        .unwrap();
    browser
        .screenshot(&artifacts.join("cloture.png"))
        .await
        .unwrap();
    browser.find("#close").await.unwrap().click().await.unwrap();
    browser
        .wait_for_text("p.notice", "Alarme close", WAIT)
        .await
        .unwrap();
    browser
        .wait_for_text("#detail", "Exports jamais purgés", WAIT)
        .await
        .unwrap();
    browser
        .screenshot(&artifacts.join("alarme-close.png"))
        .await
        .unwrap();

    // Back to the wall: empty again.
    browser
        .goto(&format!("{}/console", app.base))
        .await
        .unwrap();
    browser
        .wait_for_text("#wall", "Aucune alarme à traiter", WAIT)
        .await
        .unwrap();
    browser.quit().await.unwrap();
    app.finish().await;
}

#[tokio::test]
async fn a_client_sees_only_its_sites_and_reports_a_problem_through_the_form() {
    let app = TestApp::spawn().await;
    app.import_fleet().await;
    app.create_user("bnf", UserKind::Client, Some("CLI-BNF"), &[], false)
        .await;
    let artifacts = artifacts_dir("client");
    let browser = Browser::start(&artifacts).await.unwrap();

    log_in(&browser, &app.base, "/", "bnf").await;
    browser
        .wait_for_text("h1", "Banque Nationale de France", WAIT)
        .await
        .unwrap();
    let dashboard = browser
        .find("#dashboard")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        dashboard.contains("Disponibilité sur 30 jours"),
        "{dashboard}"
    );
    assert!(dashboard.contains("BNF-PAR-OPERA"), "{dashboard}");
    assert!(!dashboard.contains("MARCHE"), "{dashboard}");
    browser
        .screenshot(&artifacts.join("tableau-de-bord.png"))
        .await
        .unwrap();

    // The guided form: the site, then its equipment, the symptom, the impact.
    browser
        .goto(&format!("{}/portail/signaler", app.base))
        .await
        .unwrap();
    browser
        .wait_for("#site", WAIT)
        .await
        .unwrap()
        .select_option_by_value("BNF-PAR-OPERA")
        .await
        .unwrap();
    browser
        .find("#choose-site")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for("#equipment", WAIT)
        .await
        .unwrap()
        .select_option_by_value(NVR)
        .await
        .unwrap();
    browser
        .find("#symptom")
        .await
        .unwrap()
        .send_keys("L'enregistreur ne répond plus depuis ce matin")
        .await
        .unwrap();
    browser
        .find("#impact-unknown")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .screenshot(&artifacts.join("signalement.png"))
        .await
        .unwrap();
    browser.find("#send").await.unwrap().click().await.unwrap();
    browser
        .wait_for_text("p.notice", "Votre signalement est enregistré", WAIT)
        .await
        .unwrap();
    // SAV-4: "I don't know" is the highest criticality.
    let ticket = browser.find("#ticket").await.unwrap().text().await.unwrap();
    assert!(ticket.contains("P1"), "{ticket}");
    let url = browser.current_url().await.unwrap();
    browser
        .screenshot(&artifacts.join("ticket.png"))
        .await
        .unwrap();

    // The ticket is in the client's list.
    browser
        .goto(&format!("{}/portail/tickets", app.base))
        .await
        .unwrap();
    browser
        .wait_for_text("#tickets", "L'enregistreur ne répond plus", WAIT)
        .await
        .unwrap();

    // Another client's site and ticket addresses: "not found".
    let number = url
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_string();
    app.create_user("marche", UserKind::Client, Some("CLI-MARCHE"), &[], false)
        .await;
    browser
        .goto(&format!("{}/portail/sites/MARCHE-LIL-CENTRE", app.base))
        .await
        .unwrap();
    browser
        .wait_for_text("main", "Cette page n'existe pas", WAIT)
        .await
        .unwrap();
    browser
        .goto(&format!("{}/console", app.base))
        .await
        .unwrap();
    browser
        .wait_for_text("main", "Cette page n'existe pas", WAIT)
        .await
        .unwrap();
    // Log out, log in as the other client: BNF's ticket is not found.
    browser
        .goto(&format!("{}/portail", app.base))
        .await
        .unwrap();
    // Six pages visited before: their live streams must not hold the browser's connections.
    browser
        .wait_for("form.logout button", WAIT)
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    log_in(&browser, &app.base, "/", "marche").await;
    browser
        .wait_for_text("h1", "Supermarchés", WAIT)
        .await
        .unwrap();
    browser
        .goto(&format!("{}/portail/tickets/{number}", app.base))
        .await
        .unwrap();
    browser
        .wait_for_text("main", "Cette page n'existe pas", WAIT)
        .await
        .unwrap();
    browser.quit().await.unwrap();
    app.finish().await;
}
