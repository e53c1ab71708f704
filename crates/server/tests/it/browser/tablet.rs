//! Vigie's pages on a tablet in the field (issue 8): at 820×1180 in portrait and 1180×820 in
//! landscape, the staff's wall, an alarm, the ticket queue and a site, the client's
//! dashboard, site, report form and tickets, and the login page. None may scroll sideways or
//! hold an element wider than the screen, and every button is a touch target at least 44 px
//! tall (`layout.js`). Screenshots: `target/browser-artifacts/tablette-*.png`.

use serde_json::Value;

use super::artifacts_dir;
use super::scene::{self, CLIENT, STAFF, Scene};
use super::webdriver::Browser;
use crate::TestApp;

const LAYOUT_CHECK: &str = include_str!("layout.js");

/// A tablet's screen, in CSS pixels: an iPad Air's, each way round.
const ORIENTATIONS: [(&str, u32, u32); 2] = [("portrait", 820, 1180), ("paysage", 1180, 820)];

/// Checks the page shown and keeps its screenshot; returns its problems, named.
async fn check(browser: &Browser, orientation: &str, name: &str) -> Vec<String> {
    let screenshot = artifacts_dir("").join(format!("tablette-{orientation}-{name}.png"));
    browser.screenshot(&screenshot).await.unwrap();
    let problems = browser.execute(LAYOUT_CHECK, vec![]).await.unwrap();
    problems
        .as_array()
        .unwrap()
        .iter()
        .map(|problem: &Value| {
            format!(
                "{orientation} {name}: {} — {} ({})",
                problem["rule"].as_str().unwrap_or(""),
                problem["element"].as_str().unwrap_or(""),
                problem["detail"].as_str().unwrap_or(""),
            )
        })
        .collect()
}

#[tokio::test]
async fn on_a_tablet_nothing_overflows_and_buttons_are_touch_targets() {
    let app = TestApp::spawn().await;
    let scene = Scene::set_up(&app).await;
    let browser = Browser::start(&artifacts_dir("tablette")).await.unwrap();
    let mut problems = Vec::new();
    for (orientation, width, height) in ORIENTATIONS {
        let (inner_width, inner_height) = browser.set_viewport(width, height).await.unwrap();
        assert_eq!(
            (inner_width, inner_height),
            (u64::from(width), u64::from(height)),
            "the viewport is the tablet's screen"
        );
        browser
            .goto(&format!("{}/connexion", app.base))
            .await
            .unwrap();
        problems.extend(check(&browser, orientation, "connexion").await);
        scene::log_in(&browser, &app.base, "/console", STAFF).await;
        problems.extend(
            scene::check_pages(
                &browser,
                &app.base,
                orientation,
                &scene.staff_pages(),
                check,
            )
            .await,
        );
        scene::log_out(&browser).await;
        scene::log_in(&browser, &app.base, "/portail", CLIENT).await;
        problems.extend(
            scene::check_pages(
                &browser,
                &app.base,
                orientation,
                &scene.client_pages(),
                check,
            )
            .await,
        );
        scene::log_out(&browser).await;
    }
    assert!(
        problems.is_empty(),
        "{} problem(s) on a tablet:\n{}",
        problems.len(),
        problems.join("\n")
    );
    browser.quit().await.unwrap();
    app.finish().await;
}
