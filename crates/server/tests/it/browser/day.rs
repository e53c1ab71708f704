//! A supervision team's day and a client's glance, in headless Chromium, by clicks (issue 25):
//! the wall lists what needs a person apart from what waits for its report, the team acts
//! from a row and on a selection, the alarm's page puts its steps first and follows the live
//! state, names stand where codes were, a cut feed is loud, a mistyped address gets a page,
//! the portal says in one sentence whether everything works, and nothing scrolls sideways on
//! a phone. Screenshots at 1366×900 and 390×844 go to `target/browser-artifacts/journee/`.

use std::time::Duration;

use serde_json::{Value, json};
use vigie_domain::inventory::StaffRole;
use vigie_store::UserKind;

use super::artifacts_dir;
use super::scene::log_in;
use super::webdriver::Browser;
use crate::{NOW, PASSWORD, TestApp};

const NVR: &str = "BNF-PAR-OPERA-NVR-01";
const UPS: &str = "BNF-PAR-OPERA-UPS-01";
const ACCESS: &str = "BNF-PAR-OPERA-ACC-01";
const MINUTE: i64 = 60_000;
/// A 2×2 PNG picture, as a phone would send a photo.
const PNG_2X2: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, 0x08, 0x02, 0x00, 0x00, 0x00, 0xFD, 0xD4, 0x9A,
    0x73, 0x00, 0x00, 0x00, 0x10, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0x00,
    0x44, 0x0C, 0x10, 0x0A, 0x00, 0x1F, 0xEE, 0x03, 0xFD, 0x8B, 0x5F, 0x14, 0xD4, 0x00, 0x00, 0x00,
    0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];
const WAIT: Duration = Duration::from_secs(15);
/// The two screens the pages are drawn for: a desk and a phone.
const DESK: (u32, u32) = (1366, 900);
const PHONE: (u32, u32) = (390, 844);

fn disk(at: i64, percent: f64) -> Value {
    json!({"equipment": NVR, "check": "agent", "at": at, "status": "up",
           "samples": [{"name": "disk_used_percent:/srv", "value": percent}]})
}

fn ping(equipment: &str, at: i64, up: bool) -> Value {
    json!({"equipment": equipment, "check": "ping", "at": at, "status": if up { "up" } else { "down" }})
}

/// The page's width against the screen's: nothing may scroll sideways.
async fn assert_fits(browser: &Browser, what: &str) {
    let widths = browser
        .execute(
            "return [document.documentElement.scrollWidth, document.documentElement.clientWidth];",
            vec![],
        )
        .await
        .unwrap();
    let (scroll, client) = (widths[0].as_u64().unwrap(), widths[1].as_u64().unwrap());
    assert!(
        scroll <= client,
        "{what}: {scroll} px wide on a {client} px screen"
    );
}

/// Screenshots of the page at the desk's and the phone's size, the phone's checked for
/// sideways scrolling; the browser is left at the desk's size.
async fn both_screens(browser: &Browser, name: &str) {
    browser.set_viewport(PHONE.0, PHONE.1).await.unwrap();
    browser.wait_for("main h1", WAIT).await.unwrap();
    assert_fits(browser, name).await;
    browser
        .screenshot(&browser.artifacts().join(format!("{name}-390x844.png")))
        .await
        .unwrap();
    browser.set_viewport(DESK.0, DESK.1).await.unwrap();
    browser
        .screenshot(&browser.artifacts().join(format!("{name}-1366x900.png")))
        .await
        .unwrap();
}

/// The text of the whole page.
async fn page_text(browser: &Browser) -> String {
    browser.find("body").await.unwrap().text().await.unwrap()
}

/// Issue 25, item 5: no staff or contact codes, policy keys or requirement IDs on a page.
fn assert_words_not_codes(text: &str, page: &str) {
    for code in [
        "ST-TECH",
        "CT-BNF",
        "critical/",
        "major/",
        "CLO-1",
        "CLO-2",
        "SAV-6",
        "SAV-7",
    ] {
        assert!(!text.contains(code), "{page} shows « {code} »:\n{text}");
    }
}

#[tokio::test]
async fn a_supervision_team_runs_its_wall_by_clicks() {
    let app = TestApp::spawn().await;
    app.import_fleet().await;
    let agent = app.agent("robot").await;
    crate::pages::create_staff(&app, "klambert", "ST-TECH-01", StaffRole::Technician).await;
    let artifacts = artifacts_dir("journee");
    let browser = Browser::start(&artifacts).await.unwrap();
    browser.set_viewport(DESK.0, DESK.1).await.unwrap();

    log_in(&browser, &app.base, "/console", "klambert").await;
    browser
        .wait_for_text("#live-status", "en direct", WAIT)
        .await
        .unwrap();
    browser
        .wait_for_text("#wall", "Aucune alarme à traiter", WAIT)
        .await
        .unwrap();
    // The tab's icon and title.
    let icon = browser
        .execute(
            "return fetch(document.querySelector('link[rel=icon]').href).then(r => r.status + ' ' + r.headers.get('content-type'));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(icon, json!("200 image/svg+xml"));
    assert!(
        browser
            .title()
            .await
            .unwrap()
            .starts_with("(0) Mur d'alarmes"),
        "{}",
        browser.title().await.unwrap()
    );

    // Three alarms arrive while the wall is open: the title counts them, live.
    let push = json!({"observations": [
        disk(NOW - 10 * MINUTE, 97.0), disk(NOW, 97.0),
        ping(UPS, NOW - 10 * MINUTE, false), ping(UPS, NOW, false),
        ping(ACCESS, NOW - 10 * MINUTE, false), ping(ACCESS, NOW, false),
    ]});
    assert_eq!(
        agent.post("/api/v1/observations", &push).await.status,
        reqwest::StatusCode::OK
    );
    browser
        .wait_for_text("#tab-to-handle", "3", WAIT)
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + WAIT;
    while !browser.title().await.unwrap().starts_with("(3) ") {
        assert!(std::time::Instant::now() < deadline, "title not counted");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Names first, linked; the reference second; no codes.
    let wall = browser.find("#wall").await.unwrap().text().await.unwrap();
    assert!(wall.contains("Enregistreur NVR 1"), "{wall}");
    assert!(wall.contains("Agence Paris Opéra"), "{wall}");
    assert_words_not_codes(&page_text(&browser).await, "le mur");
    let site_link = browser
        .find("#wall tr[data-alarm] a[href^='/console/sites/']")
        .await
        .unwrap();
    assert_eq!(
        site_link.attribute("href").await.unwrap().as_deref(),
        Some("/console/sites/BNF-PAR-OPERA")
    );
    both_screens(&browser, "mur").await;

    // Act from the row: the first row (unacknowledged, the gravest) is acknowledged there,
    // and the wall comes back with it acknowledged by name.
    let first = browser.find("#wall tr[data-alarm]").await.unwrap();
    let first_id = first.attribute("data-alarm").await.unwrap().unwrap();
    assert!(first.text().await.unwrap().contains("Critique"));
    first
        .find("button[data-step=acquitter]")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let row = format!("#wall tr[data-alarm='{first_id}']");
    browser.wait_for_text(&row, "par ", WAIT).await.unwrap();
    let acknowledged = browser.find(&row).await.unwrap().text().await.unwrap();
    assert!(acknowledged.contains("par "), "{acknowledged}");
    assert_words_not_codes(&acknowledged, "une ligne acquittée");
    // Acknowledged, it goes below the unacknowledged ones.
    let order: Vec<String> = rows(&browser).await;
    assert_eq!(order.last(), Some(&first_id), "{order:?}");

    // A selection: tick the two others, take them in charge together.
    for id in &order[..2] {
        browser
            .find(&format!("#wall tr[data-alarm='{id}'] td.pick input"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }
    browser
        .find("#select-take-charge")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for_text("p.notice", "2 alarmes prises en charge", WAIT)
        .await
        .unwrap();

    // The alarm's page: its steps come first, within a phone's first screen.
    browser
        .goto(&format!("{}/console/alarmes/{first_id}", app.base))
        .await
        .unwrap();
    browser.wait_for("#take-charge", WAIT).await.unwrap();
    assert!(browser.find("#acknowledge").await.is_err(), "acknowledged");
    browser.set_viewport(PHONE.0, PHONE.1).await.unwrap();
    let bottom = browser
        .execute(
            "return document.querySelector('#take-charge').getBoundingClientRect().bottom;",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        bottom.as_f64().unwrap() < f64::from(PHONE.1),
        "take in charge at {bottom} px"
    );
    browser.set_viewport(DESK.0, DESK.1).await.unwrap();
    assert_words_not_codes(&page_text(&browser).await, "la page d'alarme");
    both_screens(&browser, "alarme").await;
    browser
        .find("#take-charge")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for_text("p.notice", "Alarme prise en charge", WAIT)
        .await
        .unwrap();

    // The disk is purged: the page shows it resolved and offers its closure, without reload.
    browser
        .execute("window.vigieMarker = 7; return 1;", vec![])
        .await
        .unwrap();
    browser
        .wait_for_text("#live-status", "en direct", WAIT)
        .await
        .unwrap();
    app.clock.advance_ms(MINUTE);
    agent.observe(vec![disk(NOW + MINUTE, 40.0)]).await;
    app.clock.advance_ms(10 * MINUTE);
    agent.observe(vec![disk(NOW + 11 * MINUTE, 40.0)]).await;
    browser.wait_for("#close-form", WAIT).await.unwrap();
    assert!(
        browser.find("#take-charge").await.is_ok(),
        "again, resolved"
    );
    assert_eq!(
        browser
            .execute("return window.vigieMarker;", vec![])
            .await
            .unwrap(),
        json!(7),
        "the page was not reloaded"
    );
    // All the form's mistakes at once, each named as its label says.
    browser
        .execute(
            "document.querySelector('#close-form').noValidate = true; return 1;",
            vec![],
        )
        .await
        .unwrap();
    browser
        .find("#minutes")
        .await
        .unwrap()
        .send_keys("vingt")
        .await
        .unwrap();
    browser.find("#close").await.unwrap().click().await.unwrap();
    let error = browser
        .wait_for("p.error", WAIT)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for field in [
        "« Actions menées »",
        "« Temps d'intervention effectif (minutes) »",
        "« Cause première »",
    ] {
        assert!(error.contains(field), "{error}");
    }

    // On the wall, it is now to close, without a countdown.
    browser
        .goto(&format!("{}/console?vue=a-clore", app.base))
        .await
        .unwrap();
    browser
        .wait_for(&format!("#wall tr[data-alarm='{first_id}']"), WAIT)
        .await
        .unwrap();
    assert!(
        browser
            .find_all("#wall .countdown")
            .await
            .unwrap()
            .is_empty()
    );
    let to_close = browser
        .find("#tab-to-close")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(to_close.contains('1'), "{to_close}");
    // Closed from a selection with one shared report.
    browser
        .find(&format!("#wall tr[data-alarm='{first_id}'] td.pick input"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    for (field, text) in [
        ("#selection-actions", "Purge des exports anciens"),
        ("#selection-minutes", "25"),
        ("#selection-cause", "Exports jamais purgés"),
    ] {
        browser
            .find(field)
            .await
            .unwrap()
            .send_keys(text)
            .await
            .unwrap();
    }
    browser
        .find("#select-close")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for_text("p.notice", "1 alarme close avec le rapport commun", WAIT)
        .await
        .unwrap();
    browser
        .wait_for_text("#wall", "Aucune alarme résolue", WAIT)
        .await
        .unwrap();

    // A cut feed is loud: a banner, and the lists stop looking live; back, it goes.
    browser
        .goto(&format!("{}/console", app.base))
        .await
        .unwrap();
    browser
        .wait_for_text("#live-status", "en direct", WAIT)
        .await
        .unwrap();
    assert!(
        !browser
            .find("#live-lost")
            .await
            .unwrap()
            .is_displayed()
            .await
            .unwrap()
    );
    browser
        .execute(
            "window.vigieLive.dispatchEvent(new Event('error')); return 1;",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        browser
            .find("#live-lost")
            .await
            .unwrap()
            .is_displayed()
            .await
            .unwrap()
    );
    let stale = browser
        .execute("return document.body.classList.contains('stale');", vec![])
        .await
        .unwrap();
    assert_eq!(stale, json!(true));
    browser
        .execute(
            "window.vigieLive.dispatchEvent(new Event('ready')); return 1;",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        !browser
            .find("#live-lost")
            .await
            .unwrap()
            .is_displayed()
            .await
            .unwrap()
    );

    // A mistyped console address: a page with a way back, not JSON.
    browser
        .goto(&format!("{}/console/alarmez", app.base))
        .await
        .unwrap();
    browser
        .wait_for_text("h1", "Page introuvable", WAIT)
        .await
        .unwrap();
    browser.find("main a[href='/']").await.unwrap();
    // …in the console's menus (item 13): the way to the wall is still there.
    browser
        .find("header nav a[href='/console']")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.wait_for("#wall", WAIT).await.unwrap();
    // So is an alarm that does not exist.
    browser
        .goto(&format!("{}/console/alarmes/999999", app.base))
        .await
        .unwrap();
    browser
        .wait_for_text("h1", "Page introuvable", WAIT)
        .await
        .unwrap();
    browser
        .find("header nav a[href='/console/tickets']")
        .await
        .unwrap();

    browser.quit().await.unwrap();
    app.finish().await;
}

/// The wall's rows, in order, by alarm number.
async fn rows(browser: &Browser) -> Vec<String> {
    let mut ids = Vec::new();
    for row in browser.find_all("#wall tr[data-alarm]").await.unwrap() {
        ids.push(row.attribute("data-alarm").await.unwrap().unwrap());
    }
    ids
}

#[tokio::test]
async fn a_client_reads_in_one_sentence_whether_its_cameras_work() {
    let app = TestApp::spawn().await;
    app.import_fleet().await;
    app.create_user("bnf", UserKind::Client, Some("CLI-BNF"), &[], false)
        .await;
    let agent = app.agent("robot").await;
    let artifacts = artifacts_dir("journee-portail");
    let browser = Browser::start(&artifacts).await.unwrap();
    browser.set_viewport(DESK.0, DESK.1).await.unwrap();

    log_in(&browser, &app.base, "/", "bnf").await;
    let headline = browser
        .wait_for("#headline", WAIT)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(headline.starts_with("Tout fonctionne."), "{headline}");
    let period = browser
        .find(".counts .period")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        period.starts_with("du ") && period.contains(" au "),
        "{period}"
    );

    // The power supply stops answering; the client reports it: one sentence says so, live.
    let client = app.login("bnf", PASSWORD).await.expect("login");
    let opened = client
        .post(
            "/api/v1/tickets",
            &json!({"site": "BNF-PAR-OPERA", "equipment": UPS, "symptom": "L'onduleur ne répond plus",
                    "impact": "one_equipment"}),
        )
        .await;
    assert_eq!(
        opened.status,
        reqwest::StatusCode::CREATED,
        "{}",
        opened.text
    );
    let number = opened.body["ticket"]["number"].as_u64().unwrap();
    browser
        .wait_for_text("#live-status", "en direct", WAIT)
        .await
        .unwrap();
    agent
        .observe(vec![
            ping(UPS, NOW - 10 * MINUTE, false),
            ping(UPS, NOW, false),
        ])
        .await;
    let headline = browser
        .wait_for("#headline.down", WAIT)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        headline.starts_with("1 alimentation hors service sur 4 — nous intervenons ("),
        "{headline}"
    );
    assert!(
        headline.contains(&format!("ticket n°{number}")),
        "{headline}"
    );
    browser
        .find(&format!("#headline a[href='/portail/tickets/{number}']"))
        .await
        .unwrap();
    let availability = browser
        .find("#availability")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_ne!(availability, "100,00 %", "contradicts the sentence");
    assert_words_not_codes(&page_text(&browser).await, "le tableau de bord");
    both_screens(&browser, "tableau-de-bord").await;

    // Issue 25, item 7: the supervision team puts the site in maintenance; the client reads
    // which site, until when and why, by name.
    crate::pages::create_staff(&app, "klambert", "ST-TECH-01", StaffRole::Technician).await;
    let staff = app.login("klambert", PASSWORD).await.expect("login");
    let opened = staff
        .post(
            "/api/v1/windows",
            &json!({"kind": "maintenance", "site": "BNF-PAR-OPERA", "ends_at": NOW + 120 * MINUTE,
                    "reason": "Remplacement de l'onduleur"}),
        )
        .await;
    assert_eq!(
        opened.status,
        reqwest::StatusCode::CREATED,
        "{}",
        opened.text
    );
    // Told live: the dashboard left open shows it without a reload.
    let maintenance = browser
        .wait_for("#maintenance", WAIT)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        maintenance.contains("Agence Paris Opéra")
            && maintenance.contains("jusqu'au 23/11/2026 13:00")
            && maintenance.contains("Remplacement de l'onduleur"),
        "{maintenance}"
    );
    assert!(
        browser
            .find("#maintenance a[href='/portail/sites/BNF-PAR-OPERA']")
            .await
            .is_ok()
    );

    browser.quit().await.unwrap();
    app.finish().await;
}

#[tokio::test]
async fn the_desk_filters_its_queue_and_reads_tickets_by_names() {
    let app = TestApp::spawn().await;
    app.import_fleet().await;
    crate::pages::create_staff(&app, "klambert", "ST-TECH-01", StaffRole::Technician).await;
    app.create_user("bnf", UserKind::Client, Some("CLI-BNF"), &[], false)
        .await;
    let client = app.login("bnf", PASSWORD).await.expect("login");
    let staff = app.login("klambert", PASSWORD).await.expect("login");
    let mut numbers = Vec::new();
    for (equipment, symptom, impact) in [
        (NVR, "L'enregistreur ne répond plus", "security_compromised"),
        (UPS, "L'onduleur bipe", "no_security_impact"),
    ] {
        let opened = client
            .post(
                "/api/v1/tickets",
                &json!({"site": "BNF-PAR-OPERA", "equipment": equipment, "symptom": symptom, "impact": impact}),
            )
            .await;
        assert_eq!(
            opened.status,
            reqwest::StatusCode::CREATED,
            "{}",
            opened.text
        );
        numbers.push(opened.body["ticket"]["number"].as_u64().unwrap());
    }
    let assigned = staff
        .post(
            &format!("/api/v1/tickets/{}/assign", numbers[1]),
            &json!({"to": "ST-TECH-01"}),
        )
        .await;
    assert_eq!(
        assigned.status,
        reqwest::StatusCode::OK,
        "{}",
        assigned.text
    );

    let artifacts = artifacts_dir("journee-guichet");
    let browser = Browser::start(&artifacts).await.unwrap();
    browser.set_viewport(DESK.0, DESK.1).await.unwrap();
    log_in(&browser, &app.base, "/console/tickets", "klambert").await;
    browser
        .wait_for(&format!("#tickets tr[data-ticket='{}']", numbers[0]), WAIT)
        .await
        .unwrap();
    // Names, not codes: the client, the site, who it is assigned to.
    let queue = browser
        .find("#tickets")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(queue.contains("Banque Nationale de France"), "{queue}");
    assert!(queue.contains("Agence Paris Opéra"), "{queue}");
    assert!(queue.contains("Kevin Lambert"), "{queue}");
    assert_words_not_codes(&page_text(&browser).await, "la file");
    both_screens(&browser, "file").await;

    // "My tickets": only the one assigned to the viewer.
    browser
        .find("#my-tickets")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for(&format!("#tickets tr[data-ticket='{}']", numbers[1]), WAIT)
        .await
        .unwrap();
    assert_eq!(
        browser
            .find_all("#tickets tr[data-ticket]")
            .await
            .unwrap()
            .len(),
        1
    );
    // A filter chosen from a list, not a reference typed: the P1 only.
    browser
        .goto(&format!("{}/console/tickets", app.base))
        .await
        .unwrap();
    browser
        .wait_for("#queue-filters select[name=priorite]", WAIT)
        .await
        .unwrap()
        .select_option_by_value("p1")
        .await
        .unwrap();
    browser
        .find("#queue-filters button[type=submit]")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The filtered page, not the one the click left (which holds the P1 among the others).
    let mut filtered = false;
    for _ in 0..150 {
        if browser.current_url().await.unwrap().contains("priorite=p1") {
            filtered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(filtered, "{}", browser.current_url().await.unwrap());
    browser
        .wait_for(&format!("#tickets tr[data-ticket='{}']", numbers[0]), WAIT)
        .await
        .unwrap();
    let rows = browser.find_all("#tickets tr[data-ticket]").await.unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].text().await.unwrap().contains("P1"));

    // The ticket's page: names and deadlines, no codes, nothing sideways on a phone.
    rows[0].find("a").await.unwrap().click().await.unwrap();
    browser.wait_for("#ticket", WAIT).await.unwrap();
    let ticket = browser.find("#ticket").await.unwrap().text().await.unwrap();
    assert!(ticket.contains("Enregistreur NVR 1"), "{ticket}");
    assert_words_not_codes(&page_text(&browser).await, "la page du ticket");
    both_screens(&browser, "ticket").await;

    // The client's form says all its mistakes at once, by the labels it shows.
    browser.quit().await.unwrap();
    let browser = Browser::start(&artifacts).await.unwrap();
    log_in(
        &browser,
        &app.base,
        "/portail/signaler?site=BNF-PAR-OPERA",
        "bnf",
    )
    .await;
    browser.wait_for("#report-form", WAIT).await.unwrap();
    browser
        .execute(
            "document.querySelector('#report-form').noValidate = true; return 1;",
            vec![],
        )
        .await
        .unwrap();
    browser.find("#send").await.unwrap().click().await.unwrap();
    let error = browser
        .wait_for("p.error", WAIT)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        error.contains("« Que se passe-t-il ? » est à remplir."),
        "{error}"
    );
    assert!(!error.contains("symptom"), "{error}");
    browser.quit().await.unwrap();
    app.finish().await;
}

#[tokio::test]
async fn one_search_finds_by_name_and_the_filters_are_choices() {
    let app = TestApp::spawn().await;
    app.import_fleet().await;
    crate::pages::create_staff(&app, "klambert", "ST-TECH-01", StaffRole::Technician).await;
    app.create_user("bnf", UserKind::Client, Some("CLI-BNF"), &[], false)
        .await;
    let client = app.login("bnf", PASSWORD).await.expect("login");
    let opened = client
        .post(
            "/api/v1/tickets",
            &json!({"site": "BNF-PAR-OPERA", "equipment": NVR, "symptom": "L'enregistreur ne répond plus", "impact": "one_equipment"}),
        )
        .await;
    assert_eq!(
        opened.status,
        reqwest::StatusCode::CREATED,
        "{}",
        opened.text
    );
    let number = opened.body["ticket"]["number"].as_u64().unwrap();
    let artifacts = artifacts_dir("journee-recherche");
    let browser = Browser::start(&artifacts).await.unwrap();
    browser.set_viewport(DESK.0, DESK.1).await.unwrap();
    log_in(&browser, &app.base, "/console", "klambert").await;

    // A site by part of its name: the suggestion leads to its page.
    browser
        .find("#search-text")
        .await
        .unwrap()
        .send_keys("paris opéra")
        .await
        .unwrap();
    browser
        .wait_for(
            "#search-suggestions a[href='/console/sites/BNF-PAR-OPERA']",
            WAIT,
        )
        .await
        .unwrap();
    browser
        .screenshot(&artifacts.join("suggestions-1366x900.png"))
        .await
        .unwrap();
    browser
        .find("#search-suggestions a[href='/console/sites/BNF-PAR-OPERA']")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for_text("h1", "Agence Paris Opéra", WAIT)
        .await
        .unwrap();

    // A ticket by its number, as people say it.
    let field = browser.wait_for("#search-text", WAIT).await.unwrap();
    field.send_keys(&format!("n°{number}")).await.unwrap();
    browser
        .wait_for(
            &format!("#search-suggestions a[href='/console/tickets/{number}']"),
            WAIT,
        )
        .await
        .unwrap();
    // A person, on the results page (Enter).
    field.clear().await.unwrap();
    field.send_keys("lambert").await.unwrap();
    browser.press_key("\u{E007}").await.unwrap();
    browser.wait_for("#results", WAIT).await.unwrap();
    let results = browser
        .find("#results")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(results.contains("Kevin Lambert"), "{results}");
    browser
        .goto(&format!("{}/console/recherche?q=zzzz-rien", app.base))
        .await
        .unwrap();
    browser.wait_for("#no-results", WAIT).await.unwrap();

    // The wall's filters are choices: the client, then one of its sites.
    browser
        .goto(&format!("{}/console", app.base))
        .await
        .unwrap();
    browser
        .wait_for("form.filters select[name=client]", WAIT)
        .await
        .unwrap()
        .select_option_by_value("CLI-BNF")
        .await
        .unwrap();
    browser
        .find("form.filters button[type=submit]")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for("form.filters select[name=site]", WAIT)
        .await
        .unwrap()
        .select_option_by_value("BNF-PAR-OPERA")
        .await
        .unwrap();
    browser
        .find("form.filters button[type=submit]")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.wait_for("#wall", WAIT).await.unwrap();
    let url = browser.current_url().await.unwrap();
    assert!(
        url.contains("client=CLI-BNF") && url.contains("site=BNF-PAR-OPERA"),
        "{url}"
    );
    browser.quit().await.unwrap();
    app.finish().await;
}

#[tokio::test]
async fn on_call_is_read_changed_and_subscribed_from_the_console() {
    let app = TestApp::spawn().await;
    app.import_fleet().await;
    crate::pages::create_staff(&app, "chef", "ST-TECH-03", StaffRole::Administrator).await;
    let admin = app.login("chef", PASSWORD).await.expect("login");
    let put = admin
        .put(
            "/api/v1/rotations/ASTREINTE-TECH",
            &json!({"name": "ASTREINTE-TECH", "duty": "technician", "time_zone": "Europe/Paris",
                    "members": ["ST-TECH-01", "ST-TECH-02"],
                    "handoff": {"every": "week", "day": "monday", "at": "08:00"},
                    "start": "2026-01-05"}),
        )
        .await;
    assert_eq!(put.status, reqwest::StatusCode::OK, "{}", put.text);
    let artifacts = artifacts_dir("journee-astreintes");
    let browser = Browser::start(&artifacts).await.unwrap();
    browser.set_viewport(DESK.0, DESK.1).await.unwrap();
    log_in(&browser, &app.base, "/console/astreintes", "chef").await;

    // Who now, who next, by name.
    let row = browser
        .wait_for("tr[data-rotation='ASTREINTE-TECH']", WAIT)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        row.contains("Kevin Lambert") && row.contains("Amandine Roussel"),
        "{row}"
    );
    assert_words_not_codes(&page_text(&browser).await, "les astreintes");

    // Item 4: a name is a link to the person's page: their roles, how to reach them, their
    // coming shifts and their own calendar feed.
    let on_call = browser
        .find("tr[data-rotation='ASTREINTE-TECH'] a.person")
        .await
        .unwrap();
    let on_call_name = on_call.text().await.unwrap();
    on_call.click().await.unwrap();
    let roles = browser.wait_for("#roles", WAIT).await.unwrap();
    assert!(
        roles.text().await.unwrap().contains("technicien"),
        "{}",
        roles.text().await.unwrap()
    );
    let heading = browser.find("main h1").await.unwrap().text().await.unwrap();
    assert!(heading.starts_with(&on_call_name), "{heading}");
    let shifts = browser.find_all("ul.shifts li").await.unwrap();
    assert!(!shifts.is_empty());
    assert!(
        shifts[0].text().await.unwrap().contains("(en cours)"),
        "{}",
        shifts[0].text().await.unwrap()
    );
    let feed = browser
        .find("#person-feed")
        .await
        .unwrap()
        .attribute("href")
        .await
        .unwrap()
        .unwrap();
    assert!(
        feed.contains("/agenda/personnel/ST-TECH-0") && feed.contains(".ics?cle="),
        "{feed}"
    );
    assert_words_not_codes(
        &browser
            .find("main")
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
            .replace(heading.as_str(), ""),
        "la page d'une personne",
    );
    both_screens(&browser, "personne").await;
    browser.back().await.unwrap();
    browser
        .wait_for("tr[data-rotation='ASTREINTE-TECH']", WAIT)
        .await
        .unwrap();
    browser
        .find("tr[data-rotation='ASTREINTE-TECH'] a")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.wait_for("#calendar", WAIT).await.unwrap();
    assert!(
        browser
            .find_all("#calendar tr[data-from]")
            .await
            .unwrap()
            .len()
            >= 4
    );
    both_screens(&browser, "astreinte").await;

    // A replacement: Mehdi Haddad takes tomorrow's day.
    browser
        .find("#replace-form select[name=member]")
        .await
        .unwrap()
        .select_option_by_value("ST-TECH-03")
        .await
        .unwrap();
    // The date fields are set as a date picker would (their typing differs by browser).
    browser
        .execute(
            "document.querySelector('#from').value = '2026-11-24T08:00'; document.querySelector('#to').value = '2026-11-24T20:00'; return 1;",
            vec![],
        )
        .await
        .unwrap();
    browser
        .find("#reason")
        .await
        .unwrap()
        .send_keys("Rendez-vous médical de Kevin")
        .await
        .unwrap();
    browser
        .find("#replace")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for_text("p.notice", "Remplacement enregistré", WAIT)
        .await
        .unwrap();
    let calendar = browser
        .find("#calendar")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        calendar.contains("Mehdi Haddad (remplacement)"),
        "{calendar}"
    );
    // Withdrawn again, from the page.
    browser
        .find("ul.overrides button")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for_text("p.notice", "Remplacement retiré", WAIT)
        .await
        .unwrap();

    // A swap of the next two weeks' shifts.
    let options = browser
        .find_all("#swap-form select[name=first] option")
        .await
        .unwrap();
    let mut values = Vec::new();
    for option in &options {
        if let Some(value) = option
            .attribute("value")
            .await
            .unwrap()
            .filter(|v| !v.is_empty())
        {
            values.push(value);
        }
    }
    assert!(values.len() >= 2, "{values:?}");
    browser
        .find("#swap-form select[name=first]")
        .await
        .unwrap()
        .select_option_by_value(&values[0])
        .await
        .unwrap();
    browser
        .find("#swap-form select[name=second]")
        .await
        .unwrap()
        .select_option_by_value(&values[1])
        .await
        .unwrap();
    browser.find("#swap").await.unwrap().click().await.unwrap();
    browser
        .wait_for_text("p.notice", "Échange de gardes enregistré", WAIT)
        .await
        .unwrap();
    let audit = admin.get("/api/v1/audit?object_ref=ASTREINTE-TECH").await;
    assert!(audit.text.contains("ASTREINTE-TECH"), "{}", audit.text);

    // The feeds: a phone subscribes without a session; a wrong key finds nothing.
    let feed = browser
        .find("#rotation-feed")
        .await
        .unwrap()
        .attribute("href")
        .await
        .unwrap()
        .unwrap();
    let path = &feed[feed.find("/agenda/").unwrap()..];
    let phone = reqwest::Client::new();
    let reply = phone
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    assert!(
        reply.headers()[reqwest::header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    let ics = reply.text().await.unwrap();
    assert!(
        ics.contains("BEGIN:VEVENT") && ics.contains("Kevin Lambert"),
        "{ics}"
    );
    let forged = format!("{}{}", app.base, path.replace("cle=", "cle=00"));
    assert_eq!(phone.get(forged).send().await.unwrap().status(), 404);
    let person = browser
        .find("a.member-feed")
        .await
        .unwrap()
        .attribute("href")
        .await
        .unwrap()
        .unwrap();
    let path = &person[person.find("/agenda/").unwrap()..];
    let ics = phone
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(ics.contains("Astreintes de Kevin Lambert"), "{ics}");
    assert!(!ics.contains("Amandine Roussel"), "{ics}");
    browser.quit().await.unwrap();
    app.finish().await;
}

/// Opens a `<details>` panel of the page by its summary, as a person would.
async fn open_panel(browser: &Browser, form: &str) {
    let opened = browser
        .execute(
            "return document.querySelector(arguments[0]).closest('details').open;",
            vec![json!(form)],
        )
        .await
        .unwrap();
    if opened != json!(true) {
        browser
            .execute(
                "document.querySelector(arguments[0]).closest('details').querySelector('summary').click(); return 1;",
                vec![json!(form)],
            )
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn the_desk_works_a_phone_call_from_the_console() {
    let app = TestApp::spawn().await;
    app.import_fleet().await;
    crate::pages::create_staff(&app, "chef", "ST-TECH-01", StaffRole::TechnicalManager).await;
    let artifacts = artifacts_dir("journee-appel");
    let browser = Browser::start(&artifacts).await.unwrap();
    browser.set_viewport(DESK.0, DESK.1).await.unwrap();
    log_in(&browser, &app.base, "/console/tickets", "chef").await;

    // A client calls: the client, then its site, with its contract in view.
    browser
        .wait_for("#new-call", WAIT)
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for("#call-place select[name=client]", WAIT)
        .await
        .unwrap()
        .select_option_by_value("CLI-BNF")
        .await
        .unwrap();
    browser
        .find("#choose-place")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for("#call-place select[name=site]", WAIT)
        .await
        .unwrap()
        .select_option_by_value("BNF-PAR-OPERA")
        .await
        .unwrap();
    browser
        .find("#choose-place")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.wait_for("#call-form", WAIT).await.unwrap();
    let contracts = browser
        .find("#contracts")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(contracts.contains("contrat"), "{contracts}");
    browser
        .find("#caller")
        .await
        .unwrap()
        .send_keys("Hélène Marchand, 06 12 34 56 78")
        .await
        .unwrap();
    browser
        .find("#call-form select[name=equipment]")
        .await
        .unwrap()
        .select_option_by_value(NVR)
        .await
        .unwrap();
    browser
        .find("#symptom")
        .await
        .unwrap()
        .send_keys("Plus aucune image enregistrée depuis ce matin")
        .await
        .unwrap();
    browser
        .find("#criticality")
        .await
        .unwrap()
        .select_option_by_value("critical")
        .await
        .unwrap();
    browser
        .find("#open-call")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for_text("p.notice", "Ticket ouvert pour l'appel", WAIT)
        .await
        .unwrap();
    let facts = browser.find("#ticket").await.unwrap().text().await.unwrap();
    assert!(facts.contains("P1"), "{facts}");

    // Only the steps that fit: taking it in charge, not "the client replied".
    browser.find("#step-take_charge").await.unwrap();
    assert!(browser.find("#step-client_replied").await.is_err());
    browser
        .find("#step-take_charge")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for_text("p.notice", "Étape enregistrée", WAIT)
        .await
        .unwrap();
    assert!(browser.find("#step-take_charge").await.is_err());
    browser.find("#step-wait_for_client").await.unwrap();

    // The remote diagnosis, then the intervention planned with a technician.
    open_panel(&browser, "#diagnosis-form").await;
    browser
        .find("#checks")
        .await
        .unwrap()
        .send_keys("Ping de l'enregistreur\nÉtat des disques")
        .await
        .unwrap();
    browser
        .find("#result")
        .await
        .unwrap()
        .send_keys("Disque 2 en panne, grappe dégradée")
        .await
        .unwrap();
    browser
        .find("#on_site_needed")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .find("#record-diagnosis")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for_text("p.notice", "Diagnostic enregistré", WAIT)
        .await
        .unwrap();
    open_panel(&browser, "#intervention-form").await;
    browser
        .find("#intervention-form select[name=technician]")
        .await
        .unwrap()
        .select_option_by_value("ST-TECH-02")
        .await
        .unwrap();
    browser
        .execute(
            "document.querySelector('#window-from').value = '2026-11-23T14:00'; document.querySelector('#window-to').value = '2026-11-23T16:00'; return 1;",
            vec![],
        )
        .await
        .unwrap();
    browser.find("#plan").await.unwrap().click().await.unwrap();
    browser
        .wait_for_text("p.notice", "Intervention planifiée", WAIT)
        .await
        .unwrap();
    let history = browser.find("#ticket").await.unwrap().text().await.unwrap();
    assert!(
        history.contains("Intervention planifiée avec Amandine Roussel"),
        "{history}"
    );

    // Re-qualified with its reason, then given to someone else.
    open_panel(&browser, "#requalify-form").await;
    browser
        .find("#priority")
        .await
        .unwrap()
        .select_option_by_value("p2")
        .await
        .unwrap();
    browser
        .find("#requalify-reason")
        .await
        .unwrap()
        .send_keys("Les autres enregistreurs couvrent les caméras")
        .await
        .unwrap();
    browser
        .find("#requalify")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for_text("p.notice", "Ticket requalifié", WAIT)
        .await
        .unwrap();
    open_panel(&browser, "#assign-form").await;
    browser
        .find("#assign-form select[name=to]")
        .await
        .unwrap()
        .select_option_by_value("ST-TECH-03")
        .await
        .unwrap();
    browser
        .find("#assign")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for_text("p.notice", "Ticket confié", WAIT)
        .await
        .unwrap();
    let facts = browser.find("#ticket").await.unwrap().text().await.unwrap();
    assert!(
        facts.contains("Mehdi Haddad") && facts.contains("P2"),
        "{facts}"
    );
    assert_words_not_codes(&page_text(&browser).await, "le ticket d'un appel");
    both_screens(&browser, "ticket-appel").await;
    browser.quit().await.unwrap();
    app.finish().await;
}

#[tokio::test]
async fn a_p1_post_mortem_is_written_and_shared_from_the_console() {
    let app = TestApp::spawn().await;
    app.import_fleet().await;
    crate::pages::create_staff(&app, "chef", "ST-TECH-01", StaffRole::TechnicalManager).await;
    let staff = app.login("chef", PASSWORD).await.expect("login");
    let opened = staff
        .post(
            "/api/v1/tickets",
            &json!({"client": "CLI-BNF", "site": "BNF-PAR-OPERA", "source": "phone", "kind": "incident",
                    "symptom": "Hyperviseur arrêté", "stated_criticality": "critical"}),
        )
        .await;
    assert_eq!(
        opened.status,
        reqwest::StatusCode::CREATED,
        "{}",
        opened.text
    );
    let number = opened.body["ticket"]["number"].as_u64().unwrap();
    staff
        .post(
            &format!("/api/v1/tickets/{number}/actions"),
            &json!({"action": "take_charge"}),
        )
        .await;
    let resolved = staff
        .post(
            &format!("/api/v1/tickets/{number}/resolution"),
            &json!({"root_cause": "Alimentation défaillante", "actions": "Alimentation remplacée",
                    "intervention_minutes": 90, "data_impact": {}}),
        )
        .await;
    assert_eq!(
        resolved.status,
        reqwest::StatusCode::OK,
        "{}",
        resolved.text
    );
    let artifacts = artifacts_dir("journee-post-mortem");
    let browser = Browser::start(&artifacts).await.unwrap();
    log_in(
        &browser,
        &app.base,
        &format!("/console/tickets/{number}"),
        "chef",
    )
    .await;
    browser.wait_for("#post-mortem-form", WAIT).await.unwrap();
    browser
        .find("#analysis")
        .await
        .unwrap()
        .send_keys("L'alimentation n'était pas supervisée.")
        .await
        .unwrap();
    browser
        .find("#measure-0-action")
        .await
        .unwrap()
        .send_keys("Superviser les alimentations")
        .await
        .unwrap();
    browser
        .find("#measure-0-kind")
        .await
        .unwrap()
        .select_option_by_value("preventive")
        .await
        .unwrap();
    browser
        .find("#measure-0-owner")
        .await
        .unwrap()
        .send_keys("Équipe de supervision")
        .await
        .unwrap();
    browser
        .find("#measure-1-action")
        .await
        .unwrap()
        .send_keys("Remplacer l'alimentation")
        .await
        .unwrap();
    browser
        .find("#measure-1-owner")
        .await
        .unwrap()
        .send_keys("Équipe technique")
        .await
        .unwrap();
    browser
        .execute(
            "document.querySelector('#measure-0-due').value = '2026-12-15T18:00'; document.querySelector('#measure-1-due').value = '2026-11-30T18:00'; return 1;",
            vec![],
        )
        .await
        .unwrap();
    browser
        .find("#write-post-mortem")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for_text("p.notice", "Post-mortem enregistré", WAIT)
        .await
        .unwrap();
    assert_eq!(
        browser
            .find("#measure-0-action")
            .await
            .unwrap()
            .property("value")
            .await
            .unwrap(),
        json!("Superviser les alimentations")
    );
    browser
        .find("#share-post-mortem")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for_text("p.notice", "Post-mortem partagé avec le client", WAIT)
        .await
        .unwrap();
    let shared = staff
        .get(&format!("/api/v1/tickets/{number}/post-mortem"))
        .await;
    assert!(shared.body["published_at"].is_i64(), "{}", shared.text);
    browser.quit().await.unwrap();
    app.finish().await;
}

#[tokio::test]
async fn a_client_reads_what_it_was_told_and_answers_on_its_ticket() {
    let app = TestApp::spawn().await;
    app.import_fleet().await;
    crate::pages::create_staff(&app, "chef", "ST-TECH-01", StaffRole::TechnicalManager).await;
    app.create_user("bnf", UserKind::Client, Some("CLI-BNF"), &[], false)
        .await;
    let client = app.login("bnf", PASSWORD).await.expect("login");
    let staff = app.login("chef", PASSWORD).await.expect("login");
    let opened = client
        .post(
            "/api/v1/tickets",
            &json!({"site": "BNF-PAR-OPERA", "equipment": NVR, "symptom": "Image figée sur l'enregistreur", "impact": "one_equipment"}),
        )
        .await;
    assert_eq!(
        opened.status,
        reqwest::StatusCode::CREATED,
        "{}",
        opened.text
    );
    let number = opened.body["ticket"]["number"].as_u64().unwrap();
    for action in ["take_charge", "wait_for_client"] {
        let step = staff
            .post(
                &format!("/api/v1/tickets/{number}/actions"),
                &json!({ "action": action }),
            )
            .await;
        assert_eq!(
            step.status,
            reqwest::StatusCode::OK,
            "{action}: {}",
            step.text
        );
    }
    let artifacts = artifacts_dir("journee-client");
    let browser = Browser::start(&artifacts).await.unwrap();
    browser.set_viewport(DESK.0, DESK.1).await.unwrap();
    log_in(
        &browser,
        &app.base,
        &format!("/portail/tickets/{number}"),
        "bnf",
    )
    .await;
    // What it was told: the acknowledgement of its report, with its subject.
    let messages = browser
        .wait_for("#messages", WAIT)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        messages.contains(&format!("ticket n°{number}")),
        "{messages}"
    );
    // It answers from the page: the ticket, waiting for it, resumes.
    browser
        .find("#comment")
        .await
        .unwrap()
        .send_keys("L'image est revenue après redémarrage, mais elle se fige encore le soir.")
        .await
        .unwrap();
    browser
        .find("#send-comment")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for_text("p.notice", "Votre message est ajouté au ticket", WAIT)
        .await
        .unwrap();
    let status = browser
        .find("#ticket-status")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(status, "pris en charge");
    assert_words_not_codes(&page_text(&browser).await, "le ticket du client");
    both_screens(&browser, "ticket-client").await;
    // The desk sees it in the ticket's history.
    let seen = staff.get(&format!("/api/v1/tickets/{number}")).await;
    assert!(
        seen.text.contains("se fige encore le soir"),
        "{}",
        seen.text
    );
    // Item 12: a photo from the phone, with what it shows; a file that is not a picture is
    // refused in words.
    let dir = std::env::temp_dir().join(format!("vigie-photo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fake = dir.join("ecran.jpg");
    std::fs::write(&fake, b"<html><script>alert(1)</script></html>").unwrap();
    browser
        .find("#photo")
        .await
        .unwrap()
        .send_keys(fake.to_str().unwrap())
        .await
        .unwrap();
    browser
        .find("#send-photo")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for_text(
            "p.error",
            "seules les photos JPEG, PNG ou WebP sont acceptées",
            WAIT,
        )
        .await
        .unwrap();
    let photo = dir.join("camera-parking.png");
    std::fs::write(&photo, PNG_2X2).unwrap();
    browser
        .find("#photo")
        .await
        .unwrap()
        .send_keys(photo.to_str().unwrap())
        .await
        .unwrap();
    browser
        .find("#photo-caption")
        .await
        .unwrap()
        .send_keys("l'image figée ce soir à 19 h")
        .await
        .unwrap();
    browser
        .find("#send-photo")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for_text("p.notice", "Votre photo est ajoutée au ticket", WAIT)
        .await
        .unwrap();
    // Shown on the ticket, and loaded (the picture has its size).
    let width = browser
        .execute(
            "const img = document.querySelector('#ticket-documents img.photo'); return img.complete ? img.naturalWidth : new Promise(r => img.onload = () => r(img.naturalWidth));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(width, json!(2));
    let history = browser
        .find("ol.timeline")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        history
            .contains("Photo — camera-parking.png (photo jointe) : l'image figée ce soir à 19 h"),
        "{history}"
    );
    let _ = std::fs::remove_dir_all(&dir);
    // Item 12: told by SMS only from now on; the desk's next point goes by SMS alone.
    browser
        .find("#told-by-form input[name=told_by][value=sms]")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .find("#save-told-by")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for_text("p.notice", "vous serez prévenu de ce ticket", WAIT)
        .await
        .unwrap();
    assert_eq!(
        browser
            .find("#told-by")
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "par SMS"
    );
    let checked = browser
        .find("#told-by-form input[value=sms]")
        .await
        .unwrap()
        .property("checked")
        .await
        .unwrap();
    assert_eq!(checked, json!(true));
    let point = staff
        .post(
            &format!("/api/v1/tickets/{number}/updates"),
            &json!({"text": "Le disque sera remplacé demain matin."}),
        )
        .await;
    assert_eq!(point.status, reqwest::StatusCode::OK, "{}", point.text);
    let outbox = staff.get("/api/v1/notifications?limit=200").await;
    let channels: std::collections::BTreeSet<String> = outbox.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["ticket"] == json!(number) && n["step"] == "client_update")
        .map(|n| n["channel"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        channels,
        std::collections::BTreeSet::from(["sms".to_owned()]),
        "{}",
        outbox.text
    );
    // Item 3: the desk resolves it meanwhile; the page the client keeps open offers its
    // confirmation at once, without a reload, and the confirmation closes the ticket.
    assert!(browser.find("#confirm").await.is_err());
    browser
        .execute(
            "document.body.setAttribute('data-not-reloaded', '1');",
            vec![],
        )
        .await
        .unwrap();
    let resolved = staff
        .post(
            &format!("/api/v1/tickets/{number}/actions"),
            &json!({ "action": "resolve" }),
        )
        .await;
    assert_eq!(
        resolved.status,
        reqwest::StatusCode::OK,
        "{}",
        resolved.text
    );
    browser.wait_for("#confirm", WAIT).await.unwrap();
    browser
        .wait_for_text("#ticket-status", "résolu", WAIT)
        .await
        .unwrap();
    let not_reloaded = browser
        .execute(
            "return document.body.getAttribute('data-not-reloaded');",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(not_reloaded, json!("1"), "the page was reloaded");
    browser
        .find("#confirm")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for_text("#ticket-status", "clos", WAIT)
        .await
        .unwrap();
    assert!(browser.find("#confirm").await.is_err());
    // Another client cannot write on it.
    app.create_user("marche", UserKind::Client, Some("CLI-MARCHE"), &[], false)
        .await;
    let other = app.login("marche", PASSWORD).await.expect("login");
    let page = other.get(&format!("/portail/tickets/{number}")).await;
    assert_eq!(page.status, reqwest::StatusCode::NOT_FOUND);
    browser.quit().await.unwrap();
    app.finish().await;
}

/// Item 8: the support mailbox's triage, by clicks. Three messages from strangers wait; the
/// first becomes a ticket for the client chosen in the list, the second joins that ticket,
/// the third is discarded, and nothing waits any more.
#[tokio::test]
async fn the_desk_triages_the_mail_set_aside_from_the_console() {
    use vigie_store::mail::{IncomingMail, MailIntake};
    let app = TestApp::spawn().await;
    app.import_fleet().await;
    crate::pages::create_staff(&app, "chef", "ST-TECH-01", StaffRole::TechnicalManager).await;
    let policy = vigie_domain::policy::Policy::default_policy();
    let intake = MailIntake {
        own_addresses: Vec::new(),
        flood_limit: 5,
    };
    for (i, (from, subject, text)) in [
        (
            "gardien@opera-exemple.fr",
            "Caméra du parking noire",
            "Bonjour, la caméra du parking ne montre plus rien depuis cette nuit.",
        ),
        (
            "gardien.nuit@opera-exemple.fr",
            "Re: caméra du parking",
            "Précision : l'écran affiche « pas de signal ».",
        ),
        (
            "ventes@cameras-exemple.com",
            "Promotion sur nos caméras",
            "Profitez de -30 % sur toute la gamme.",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let recorded = app
            .store
            .record_mail(
                &policy,
                &intake,
                &IncomingMail {
                    key: format!("courrier-{i}"),
                    from: vigie_domain::EmailAddress::parse(from).ok(),
                    from_name: None,
                    subject: subject.into(),
                    headers: Vec::new(),
                    text: text.into(),
                    readable: true,
                    complete: true,
                    size: 1024,
                    attachments: Vec::new(),
                    attachments_dropped: 0,
                },
                NOW + i as i64 * MINUTE,
            )
            .await
            .unwrap();
        assert!(
            matches!(
                recorded.outcome,
                vigie_store::mail::MailOutcome::SetAside { .. }
            ),
            "{:?}",
            recorded.outcome
        );
    }
    let artifacts = artifacts_dir("journee-courrier");
    let browser = Browser::start(&artifacts).await.unwrap();
    browser.set_viewport(DESK.0, DESK.1).await.unwrap();
    log_in(&browser, &app.base, "/console", "chef").await;
    // Reached from the menu.
    browser
        .find("header nav a[href='/console/courrier']")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.wait_for("article.mail", WAIT).await.unwrap();
    let mut ids = Vec::new();
    for article in browser.find_all("article.mail").await.unwrap() {
        ids.push(article.attribute("data-mail").await.unwrap().unwrap());
    }
    assert_eq!(ids.len(), 3);
    // Newest first: the advertisement, the precision, the report.
    let (advert, precision, report) = (ids[0].clone(), ids[1].clone(), ids[2].clone());
    let text = page_text(&browser).await;
    assert!(
        text.contains("Caméra du parking noire") && text.contains("gardien@opera-exemple.fr"),
        "{text}"
    );
    both_screens(&browser, "courrier").await;

    // The report becomes a ticket for the client chosen by name.
    browser
        .find(&format!("#client-{report}"))
        .await
        .unwrap()
        .select_option_by_value("CLI-BNF")
        .await
        .unwrap();
    browser
        .find(&format!(
            "article[data-mail='{report}'] button[data-step=ticket]"
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for_text("p.notice", "ouvert à partir du message", WAIT)
        .await
        .unwrap();
    let link = browser
        .find("p.notice a")
        .await
        .unwrap()
        .attribute("href")
        .await
        .unwrap()
        .unwrap();
    let number: u64 = link.rsplit('/').next().unwrap().parse().unwrap();

    // The precision joins that ticket.
    browser
        .find(&format!("#ticket-{precision}"))
        .await
        .unwrap()
        .send_keys(&number.to_string())
        .await
        .unwrap();
    browser
        .find(&format!(
            "article[data-mail='{precision}'] button[data-step=rattacher]"
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for_text("p.notice", &format!("ajouté au ticket n°{number}"), WAIT)
        .await
        .unwrap();

    // The advertisement is discarded: nothing waits any more.
    browser
        .find(&format!(
            "article[data-mail='{advert}'] button[data-step=ecarter]"
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for_text("p.notice", "Message écarté", WAIT)
        .await
        .unwrap();
    browser.wait_for("#no-mail", WAIT).await.unwrap();

    // The ticket, for the client chosen, holds both messages in its history.
    browser.goto(&format!("{}{link}", app.base)).await.unwrap();
    let history = browser
        .wait_for("ol.timeline", WAIT)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        history.contains("Caméra du parking noire") && history.contains("Re: caméra du parking"),
        "{history}"
    );
    let facts = browser.find("#ticket").await.unwrap().text().await.unwrap();
    assert!(facts.contains("Banque Nationale de France"), "{facts}");
    browser.quit().await.unwrap();
    app.finish().await;
}

/// Issue 25, item 7 (ALR-9): from an equipment's page the team silences it for works, with a
/// reason and an end; the wall then says what is silenced and until when, and the alarm that
/// comes is shown but paged to nobody; ended from the maintenance list, the alarm is notified
/// at once and the wall no longer says it is silenced.
#[tokio::test]
async fn the_team_silences_an_equipment_and_ends_the_silence_by_clicks() {
    let app = TestApp::spawn().await;
    app.import_fleet().await;
    let agent = app.agent("robot").await;
    crate::pages::create_staff(&app, "klambert", "ST-TECH-01", StaffRole::Technician).await;
    let artifacts = artifacts_dir("journee-maintenance");
    let browser = Browser::start(&artifacts).await.unwrap();
    browser.set_viewport(DESK.0, DESK.1).await.unwrap();
    log_in(
        &browser,
        &app.base,
        &format!("/console/equipements/{UPS}"),
        "klambert",
    )
    .await;
    browser
        .wait_for("#silence-equipment", WAIT)
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The form comes with the site and the equipment chosen, ending in two hours.
    browser.wait_for("#window-form", WAIT).await.unwrap();
    let chosen = browser
        .find("#window-equipment")
        .await
        .unwrap()
        .property("value")
        .await
        .unwrap();
    assert_eq!(chosen, json!(UPS));
    browser
        .find("#window-form input[name=kind][value=silence]")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .find("#window-reason")
        .await
        .unwrap()
        .send_keys("Remplacement des batteries")
        .await
        .unwrap();
    browser
        .find("#open-window")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for_text("p.notice", "Fenêtre ouverte", WAIT)
        .await
        .unwrap();
    let listed = browser
        .find("#current-windows")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        listed.contains("Silence")
            && listed.contains("Onduleur baie principale")
            && listed.contains("Remplacement des batteries")
            && listed.contains("Kevin Lambert"),
        "{listed}"
    );
    both_screens(&browser, "maintenance").await;

    // The UPS stops answering ten minutes later: its alarm is on the wall, silenced.
    app.clock.advance_ms(10 * MINUTE);
    let push = json!({"observations": [ping(UPS, NOW + MINUTE, false), ping(UPS, NOW + 10 * MINUTE, false)]});
    assert_eq!(
        agent.post("/api/v1/observations", &push).await.status,
        reqwest::StatusCode::OK
    );
    browser
        .goto(&format!("{}/console", app.base))
        .await
        .unwrap();
    browser
        .wait_for_text("#wall", "Onduleur baie principale", WAIT)
        .await
        .unwrap();
    let silenced = browser
        .find("#silenced")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        silenced.contains("Silence")
            && silenced.contains("Onduleur baie principale")
            && silenced.contains("jusqu'au")
            && silenced.contains("Remplacement des batteries"),
        "{silenced}"
    );
    let alarm = |app: &TestApp| {
        let store = app.store.clone();
        async move {
            store
                .list_alarms(
                    &vigie_domain::access::Actor::console("test"),
                    &vigie_store::AlarmFilter {
                        equipment: Some(vigie_domain::Reference::parse(UPS).unwrap()),
                        ..Default::default()
                    },
                    NOW,
                )
                .await
                .unwrap()
                .remove(0)
                .alarm
        }
    };
    assert_eq!(alarm(&app).await.notified_at, None);
    let row = browser
        .find("#wall tr[data-alarm]")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(row.contains("retenue jusqu'au 23/11/2026 13:00"), "{row}");
    both_screens(&browser, "mur-silence").await;

    // Ended from the list (the menu's « Maintenance »): the alarm is notified now.
    app.clock.advance_ms(5 * MINUTE);
    browser
        .find("header nav a[href='/console/maintenance']")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for("#current-windows button[data-end]", WAIT)
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for_text("p.notice", "Fenêtre terminée", WAIT)
        .await
        .unwrap();
    browser.wait_for("#no-window", WAIT).await.unwrap();
    let past = browser
        .find("#past-windows")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(past.contains("terminée par Kevin Lambert"), "{past}");
    assert_eq!(alarm(&app).await.notified_at, Some(NOW + 15 * MINUTE));
    browser
        .goto(&format!("{}/console", app.base))
        .await
        .unwrap();
    browser
        .wait_for_text("#wall", "Onduleur baie principale", WAIT)
        .await
        .unwrap();
    assert!(browser.find_all("#silenced").await.unwrap().is_empty());
    browser.quit().await.unwrap();
    app.finish().await;
}
