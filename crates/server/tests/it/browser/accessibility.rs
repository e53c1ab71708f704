//! Accessibility of Vigie's main pages (issue 8, X-4), checked in headless Chromium by the
//! project's own script (`accessibility.js`, injected with WebDriver's "execute script"), in
//! French and in English: the page's language, one h1, a name for every control, button,
//! link and chart, headers in tables, no positive tabindex, a focus style, text contrast of
//! 4.5:1 at least. And the keyboard: the tabulation key reaches every control of a page, each
//! drawn with its focus outline.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::artifacts_dir;
use super::scene::{self, CLIENT, STAFF, Scene, Visit};
use super::webdriver::{Browser, TAB};
use crate::TestApp;

const ACCESSIBILITY_CHECK: &str = include_str!("accessibility.js");
/// More presses of the tabulation key than a page has controls, to come back round.
const MAX_TABS: usize = 400;

/// Runs the check on the page shown; returns its violations, named.
async fn check(browser: &Browser, lang: &str, name: &str) -> Vec<String> {
    let violations = browser.execute(ACCESSIBILITY_CHECK, vec![]).await.unwrap();
    violations
        .as_array()
        .unwrap()
        .iter()
        .map(|violation: &Value| {
            format!(
                "[{lang}] {name}: {} — {} ({})",
                violation["rule"].as_str().unwrap_or(""),
                violation["element"].as_str().unwrap_or(""),
                violation["detail"].as_str().unwrap_or(""),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_main_pages_pass_the_accessibility_check_in_french_and_in_english() {
    let app = TestApp::spawn().await;
    let scene = Scene::set_up(&app).await;
    let browser = Browser::start(&artifacts_dir("accessibilite"))
        .await
        .unwrap();
    let mut violations = Vec::new();
    for lang in ["fr", "en"] {
        browser
            .goto(&format!(
                "{}/langue?choix={lang}&suite=/connexion",
                app.base
            ))
            .await
            .unwrap();
        browser.wait_for("#username", super::WAIT).await.unwrap();
        let html_lang = browser
            .execute("return document.documentElement.lang;", vec![])
            .await
            .unwrap();
        assert_eq!(html_lang, json!(lang));
        violations.extend(check(&browser, lang, "connexion").await);
        scene::log_in(&browser, &app.base, "/console", STAFF).await;
        violations.extend(
            scene::check_pages(&browser, &app.base, lang, &scene.staff_pages(), check).await,
        );
        scene::log_out(&browser).await;
        scene::log_in(&browser, &app.base, "/portail", CLIENT).await;
        violations.extend(
            scene::check_pages(&browser, &app.base, lang, &scene.client_pages(), check).await,
        );
        scene::log_out(&browser).await;
    }
    assert!(
        violations.is_empty(),
        "{} accessibility violation(s):\n{}",
        violations.len(),
        violations.join("\n")
    );
    browser.quit().await.unwrap();
    app.finish().await;
}

/// Every control of the page shown that the keyboard must reach: visible, enabled, one per
/// group of radio buttons (the arrows move within a group). Each gets a `data-kbd` number.
const MARK_CONTROLS: &str = r#"
var seen = {};
var controls = document.querySelectorAll('a[href], button, input, select, textarea, [tabindex]');
var count = 0;
controls.forEach(function (control) {
  var style = getComputedStyle(control);
  if (control.disabled || control.type === 'hidden' || style.display === 'none' ||
      style.visibility === 'hidden' || control.getAttribute('tabindex') === '-1') { return; }
  if (control.type === 'radio') {
    if (seen[control.name]) { control.setAttribute('data-kbd-group', control.name); return; }
    seen[control.name] = true;
    control.setAttribute('data-kbd-group', control.name);
  }
  control.setAttribute('data-kbd', String(count));
  count += 1;
});
return count;
"#;

/// What has the focus now: its `data-kbd` number (or its radio group's first one), and
/// whether an outline is drawn around it.
const FOCUSED: &str = r#"
var focused = document.activeElement;
if (!focused || focused === document.body) { return null; }
var number = focused.getAttribute('data-kbd');
var group = focused.getAttribute('data-kbd-group');
if (number === null && group !== null) {
  var first = document.querySelector('[data-kbd-group="' + group + '"][data-kbd]');
  number = first ? first.getAttribute('data-kbd') : null;
}
var style = getComputedStyle(focused);
return {
  number: number === null ? null : Number(number),
  outlined: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
  what: focused.tagName.toLowerCase() + (focused.id ? '#' + focused.id : '') + ' « ' +
    (focused.textContent || focused.value || '').replace(/\s+/g, ' ').trim().slice(0, 40) + ' »'
};
"#;

#[tokio::test]
async fn the_keyboard_reaches_every_control_with_a_visible_focus() {
    let app = TestApp::spawn().await;
    let scene = Scene::set_up(&app).await;
    let browser = Browser::start(&artifacts_dir("clavier")).await.unwrap();
    let mut problems = Vec::new();
    let mut pages: Vec<(&str, Visit)> = Vec::new();
    scene::log_in(&browser, &app.base, "/console", STAFF).await;
    for visit in scene.staff_pages() {
        if ["mur", "alarme", "ticket", "inventaire"].contains(&visit.name) {
            pages.push((STAFF, visit));
        }
    }
    for (_, visit) in &pages {
        problems.extend(tab_through(&browser, &app.base, visit).await);
    }
    scene::log_out(&browser).await;
    scene::log_in(&browser, &app.base, "/portail", CLIENT).await;
    for visit in scene.client_pages() {
        if ["signalement", "enquete"].contains(&visit.name) {
            problems.extend(tab_through(&browser, &app.base, &visit).await);
        }
    }
    assert!(
        problems.is_empty(),
        "{} keyboard problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
    browser.quit().await.unwrap();
    app.finish().await;
}

/// Presses the tabulation key from the top of the page until every control has had the
/// focus (or [`MAX_TABS`] presses); returns what was never reached or drawn no outline.
async fn tab_through(browser: &Browser, base: &str, visit: &Visit) -> Vec<String> {
    browser
        .goto(&format!("{base}{}", visit.path))
        .await
        .unwrap();
    browser.wait_for("main h1", super::WAIT).await.unwrap();
    // A closed disclosure (`<details>`) hides its controls until its summary, which the
    // keyboard reaches, opens it: opened here, their controls must be reached too.
    browser
        .execute(
            "document.querySelectorAll('details').forEach(function (d) { d.open = true; }); return 1;",
            vec![],
        )
        .await
        .unwrap();
    // The live script may redraw a region meanwhile; the controls are numbered once drawn.
    let count = browser
        .execute(MARK_CONTROLS, vec![])
        .await
        .unwrap()
        .as_u64()
        .unwrap() as usize;
    assert!(count > 0, "{}: no control", visit.name);
    let mut reached = BTreeSet::new();
    let mut problems = Vec::new();
    for _ in 0..MAX_TABS {
        browser.press_key(TAB).await.unwrap();
        let focused = browser.execute(FOCUSED, vec![]).await.unwrap();
        if focused.is_null() {
            continue;
        }
        if !focused["outlined"].as_bool().unwrap_or(false) {
            problems.push(format!(
                "{}: no focus outline on {}",
                visit.name,
                focused["what"].as_str().unwrap_or("")
            ));
        }
        if let Some(number) = focused["number"].as_u64() {
            reached.insert(number as usize);
        }
        if reached.len() == count {
            break;
        }
    }
    if reached.len() < count {
        let missing: Vec<usize> = (0..count).filter(|n| !reached.contains(n)).collect();
        let names = browser
            .execute(
                "return arguments[0].map(function (n) { var c = document.querySelector('[data-kbd=\"' + n + '\"]'); return c ? c.outerHTML.slice(0, 120) : String(n); });",
                vec![json!(missing)],
            )
            .await
            .unwrap();
        problems.push(format!(
            "{}: {} control(s) never reached by the keyboard: {names}",
            visit.name,
            count - reached.len()
        ));
    }
    problems.sort();
    problems.dedup();
    problems
}

/// A page with one of each fault the checks look for.
const FAULTY_PAGE: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>Fautes</title>
<style>.pale { color: #999; background: #fff; } .tiny { height: 20px; }</style></head>
<body><h1>Un</h1><h1>Deux</h1>
<input id="nameless"><a href="/ailleurs"></a><button></button>
<svg width="10" height="10"><rect width="10" height="10"></rect></svg>
<table><tr><td>1</td></tr></table>
<p tabindex="3">Ordre</p><p class="pale">Pâle</p>
<div style="width: 3000px">Large</div><button class="tiny">Petit</button>
</body></html>"#;

/// `data:` address of a page, so that it needs no server.
fn data_url(html: &str) -> String {
    let mut url = String::from("data:text/html;charset=utf-8,");
    for byte in html.bytes() {
        if byte.is_ascii_alphanumeric() {
            url.push(byte as char);
        } else {
            url.push_str(&format!("%{byte:02X}"));
        }
    }
    url
}

fn rules_of(found: &Value) -> BTreeSet<String> {
    found
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["rule"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_checks_find_each_fault_they_look_for() {
    let browser = Browser::start(&artifacts_dir("verifications"))
        .await
        .unwrap();
    browser.goto(&data_url(FAULTY_PAGE)).await.unwrap();
    let found = browser.execute(ACCESSIBILITY_CHECK, vec![]).await.unwrap();
    let expected = [
        "html-lang",
        "one-h1",
        "focus-visible",
        "control-name",
        "button-link-name",
        "chart-role",
        "chart-name",
        "table-headers",
        "positive-tabindex",
        "contrast",
    ];
    assert_eq!(
        rules_of(&found),
        expected.map(String::from).into_iter().collect(),
        "{found:#}"
    );
    // Only the pale paragraph fails the contrast: #999 on white is 2.85:1.
    let contrast: Vec<&Value> = found
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["rule"] == "contrast")
        .collect();
    assert_eq!(contrast.len(), 1, "{found:#}");
    assert!(
        contrast[0]["detail"]
            .as_str()
            .unwrap()
            .starts_with("2.85:1"),
        "{found:#}"
    );
    let layout = browser
        .execute(include_str!("layout.js"), vec![])
        .await
        .unwrap();
    assert_eq!(
        rules_of(&layout),
        [
            "page-scrolls-sideways",
            "wider-than-viewport",
            "touch-target"
        ]
        .map(String::from)
        .into_iter()
        .collect(),
        "{layout:#}"
    );
    browser.quit().await.unwrap();
}
