//! The web pages over plain HTTP (issue 8; CLO-1, CLO-2, X-2, X-4): logging in by the form,
//! the alarm wall and an alarm's page, the steps taken by forms that must carry the session's
//! token, a client user kept out of the console, and the live stream telling each session
//! only of its own client's changes. The same flows in a real browser are in `browser/`.

use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use vigie_domain::Reference;
use vigie_domain::access::Actor;
use vigie_domain::inventory::StaffRole;
use vigie_server::auth;
use vigie_store::{NewUser, UserKind};

use crate::{NOW, PASSWORD, TestApp};

pub const NVR: &str = "BNF-PAR-OPERA-NVR-01";
pub const MINUTE: i64 = 60_000;

/// A browser's view of the pages: its session cookie, no redirects followed.
pub struct PageSession<'a> {
    pub app: &'a TestApp,
    pub cookie: String,
}

pub struct PageReply {
    pub status: StatusCode,
    pub location: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl PageSession<'_> {
    pub async fn get(&self, path: &str) -> PageReply {
        let request = self
            .app
            .http
            .get(format!("{}{path}", self.app.base))
            .header("cookie", &self.cookie);
        reply(request).await
    }

    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> PageReply {
        let request = self
            .app
            .http
            .post(format!("{}{path}", self.app.base))
            .header("cookie", &self.cookie)
            .form(fields);
        reply(request).await
    }
}

async fn reply(request: reqwest::RequestBuilder) -> PageReply {
    let response = request.send().await.unwrap();
    PageReply {
        status: response.status(),
        location: response
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string()),
        headers: response.headers().clone(),
        text: response.text().await.unwrap(),
    }
}

/// Creates a user and logs in through the login form.
pub async fn form_login<'a>(
    app: &'a TestApp,
    username: &str,
    kind: UserKind,
    staff: Option<&str>,
    client: Option<&str>,
    roles: &[StaffRole],
) -> PageSession<'a> {
    let new = NewUser {
        username: username.into(),
        display_name: username.into(),
        kind,
        staff: staff.map(|s| Reference::parse(s).unwrap()),
        client: client.map(|c| Reference::parse(c).unwrap()),
        roles: roles.iter().copied().collect::<BTreeSet<_>>(),
        password_hash: auth::hash_password(PASSWORD),
        must_change_password: false,
    };
    app.store
        .create_user(&Actor::console("test"), new, NOW)
        .await
        .unwrap();
    let response = app
        .http
        .post(format!("{}/connexion", app.base))
        .form(&[
            ("username", username),
            ("password", PASSWORD),
            ("suite", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let cookie = response
        .headers()
        .get("set-cookie")
        .expect("a session cookie")
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    PageSession { app, cookie }
}

/// A staff account linked to its staff record, with one role.
pub async fn create_staff(app: &TestApp, username: &str, record: &str, role: StaffRole) {
    let new = NewUser {
        username: username.into(),
        display_name: username.into(),
        kind: UserKind::Staff,
        staff: Some(Reference::parse(record).unwrap()),
        client: None,
        roles: BTreeSet::from([role]),
        password_hash: auth::hash_password(PASSWORD),
        must_change_password: false,
    };
    app.store
        .create_user(&Actor::console("test"), new, NOW)
        .await
        .unwrap();
}

/// The value of the first `name="csrf"` field of a page.
pub fn csrf_of(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a form token");
    let rest = &page[at + "name=\"csrf\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

pub fn disk(at: i64, percent: f64) -> Value {
    json!({"equipment": NVR, "check": "agent", "at": at, "status": "up",
           "samples": [{"name": "disk_used_percent:/srv", "value": percent}]})
}

/// The number of the one open alarm of the wall, read from its link.
pub fn first_alarm_link(page: &str) -> u64 {
    let at = page
        .find("/console/alarmes/")
        .expect("an alarm on the wall");
    page[at + "/console/alarmes/".len()..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn staff_work_an_alarm_from_the_wall_to_its_closure_through_the_pages() {
    let app = TestApp::spawn().await;
    app.import_fleet().await;

    // Not logged in: sent to the login page, back to the wall afterwards.
    let anonymous = app
        .http
        .get(format!("{}/console", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::SEE_OTHER);
    assert_eq!(anonymous.headers()["location"], "/connexion?suite=/console");
    // A wrong password: the form again, in French, with the same answer as an unknown user.
    let wrong = app
        .http
        .post(format!("{}/connexion", app.base))
        .form(&[
            ("username", "personne"),
            ("password", "faux"),
            ("suite", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("identifiant ou mot de passe incorrect")
    );

    let tech = form_login(
        &app,
        "klambert",
        UserKind::Staff,
        Some("ST-TECH-01"),
        None,
        &[StaffRole::Technician],
    )
    .await;
    let home = tech.get("/").await;
    assert_eq!(home.location.as_deref(), Some("/console"));
    let empty = tech.get("/console").await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.text);
    assert!(
        empty.text.contains("Aucune alarme à traiter"),
        "{}",
        empty.text
    );
    assert!(empty.text.contains("<html lang=\"fr\">"));

    // ALR-2: a disk at 97 % raises a Critical alarm; the wall shows it with who was paged.
    let agent = app.agent("robot").await;
    let push = json!({"observations": [disk(NOW - 10 * MINUTE, 97.0), disk(NOW, 97.0)]});
    assert_eq!(
        agent.post("/api/v1/observations", &push).await.status,
        StatusCode::OK
    );
    let wall = tech.get("/console").await;
    assert!(wall.text.contains(NVR), "{}", wall.text);
    assert!(wall.text.contains("Critique"), "{}", wall.text);
    assert!(wall.text.contains("disque presque plein"), "{}", wall.text);
    // NOT-3: the site's security manager was paged by SMS and email, with a deadline running.
    assert!(wall.text.contains("Thomas Robert"), "{}", wall.text);
    assert!(wall.text.contains("(email, SMS)"), "{}", wall.text);
    assert!(wall.text.contains("data-deadline="), "{}", wall.text);
    let id = first_alarm_link(&wall.text);
    // A malformed reference in a filter is a clear 400, not an empty wall.
    let bad = tech.get("/console?client=%3Cscript%3E").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.text.contains("référence invalide"), "{}", bad.text);
    assert!(!bad.text.contains("<script>"), "{}", bad.text);
    // A parameter that does not read as the page's is the pages' own 400, in French, not the
    // framework's English text; so is a form without its fields.
    let odd = tech.get("/console/alarmes/1?apres=un&partiel=oui").await;
    assert_eq!(odd.status, StatusCode::BAD_REQUEST, "{}", odd.text);
    assert!(
        odd.text
            .contains("Cette adresse contient un paramètre invalide"),
        "{}",
        odd.text
    );
    assert!(!odd.text.contains("Failed to deserialize"), "{}", odd.text);
    let empty = reply(
        app.http
            .post(format!("{}/console/alarmes/{id}/clore", app.base))
            .header("cookie", &tech.cookie)
            .header("content-type", "application/json")
            .body("{\"actions\": 1}"),
    )
    .await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST, "{}", empty.text);
    assert!(
        empty
            .text
            .contains("Ce formulaire est incomplet ou mal rempli"),
        "{}",
        empty.text
    );
    // The live region alone, as the page's script asks for it.
    let partial = tech.get("/console?partiel=1").await;
    assert!(partial.text.contains(NVR));
    assert!(!partial.text.contains("<html"), "{}", partial.text);

    // A form without the session's token is refused, and changes nothing.
    let forged = tech
        .post_form(
            &format!("/console/alarmes/{id}/acquitter"),
            &[("csrf", "faux")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let page = tech.get(&format!("/console/alarmes/{id}")).await;
    assert!(page.text.contains("levée"), "{}", page.text);
    let csrf = csrf_of(&page.text);

    let acknowledged = tech
        .post_form(
            &format!("/console/alarmes/{id}/acquitter"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(acknowledged.status, StatusCode::SEE_OTHER);
    let page = tech
        .get(&format!("/console/alarmes/{id}?fait=acquittee"))
        .await;
    assert!(page.text.contains("Alarme acquittée."), "{}", page.text);
    let taken = tech
        .post_form(
            &format!("/console/alarmes/{id}/prendre-en-charge"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(taken.status, StatusCode::SEE_OTHER);

    // Not resolved yet: no closure form; a forged closure is refused by the worker.
    let page = tech.get(&format!("/console/alarmes/{id}")).await;
    assert!(!page.text.contains("close-form"), "{}", page.text);
    let early = tech
        .post_form(
            &format!("/console/alarmes/{id}/clore"),
            &[
                ("csrf", &csrf),
                ("actions", "Purge"),
                ("intervention_minutes", "20"),
                ("root_cause", "Exports"),
            ],
        )
        .await;
    assert_eq!(early.status, StatusCode::CONFLICT, "{}", early.text);

    // The disk is purged: resolved; CLO-1 asks for every field, in French.
    app.clock.advance_ms(MINUTE);
    let push = json!({"observations": [disk(NOW + MINUTE, 40.0)]});
    agent.post("/api/v1/observations", &push).await;
    app.clock.advance_ms(10 * MINUTE);
    let push = json!({"observations": [disk(NOW + 11 * MINUTE, 40.0)]});
    agent.post("/api/v1/observations", &push).await;
    let page = tech.get(&format!("/console/alarmes/{id}")).await;
    assert!(page.text.contains("close-form"), "{}", page.text);
    let missing = tech
        .post_form(
            &format!("/console/alarmes/{id}/clore"),
            &[
                ("csrf", &csrf),
                ("actions", "Purge des exports"),
                ("intervention_minutes", "vingt"),
                ("root_cause", "Exports jamais purgés"),
            ],
        )
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        missing.text.contains("un nombre entier de minutes"),
        "{}",
        missing.text
    );
    // What was typed stays in the form.
    assert!(
        missing.text.contains("Exports jamais purgés"),
        "{}",
        missing.text
    );

    // CLO-2: another technician may not close it.
    let other = form_login(
        &app,
        "aroussel",
        UserKind::Staff,
        Some("ST-TECH-02"),
        None,
        &[StaffRole::Technician],
    )
    .await;
    let other_page = other.get(&format!("/console/alarmes/{id}")).await;
    let refused = other
        .post_form(
            &format!("/console/alarmes/{id}/clore"),
            &[
                ("csrf", &csrf_of(&other_page.text)),
                ("actions", "Rien"),
                ("intervention_minutes", "1"),
                ("root_cause", "Rien"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);

    let closed = tech
        .post_form(
            &format!("/console/alarmes/{id}/clore"),
            &[
                ("csrf", &csrf),
                ("actions", "Purge des exports <anciens>"),
                ("intervention_minutes", "25"),
                ("root_cause", "Exports jamais purgés"),
            ],
        )
        .await;
    assert_eq!(closed.status, StatusCode::SEE_OTHER, "{}", closed.text);
    let page = tech.get(&format!("/console/alarmes/{id}")).await;
    assert!(page.text.contains("close"), "{}", page.text);
    // What people typed is shown escaped, never as markup.
    assert!(
        page.text.contains("Purge des exports &lt;anciens&gt;"),
        "{}",
        page.text
    );
    assert!(page.text.contains("25 min"));
    let wall = tech.get("/console").await;
    assert!(
        wall.text.contains("Aucune alarme à traiter"),
        "{}",
        wall.text
    );

    // Logging out ends the session: the wall asks to log in again.
    let out = tech.post_form("/deconnexion", &[("csrf", &csrf)]).await;
    assert_eq!(out.location.as_deref(), Some("/connexion"));
    assert_eq!(tech.get("/console").await.status, StatusCode::SEE_OTHER);
    app.finish().await;
}

#[tokio::test]
async fn a_client_user_finds_no_console_page() {
    let app = TestApp::spawn().await;
    app.import_fleet().await;
    let agent = app.agent("robot").await;
    let push = json!({"observations": [disk(NOW - 10 * MINUTE, 97.0), disk(NOW, 97.0)]});
    agent.post("/api/v1/observations", &push).await;
    let client = form_login(&app, "dupont", UserKind::Client, None, Some("CLI-BNF"), &[]).await;
    assert_eq!(client.get("/").await.location.as_deref(), Some("/portail"));
    for path in ["/console", "/console?partiel=1", "/console/alarmes/1"] {
        let reply = client.get(path).await;
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "{path}: {}",
            reply.text
        );
        assert!(
            reply.text.contains("Cette page n'existe pas"),
            "{}",
            reply.text
        );
        assert!(!reply.text.contains(NVR));
    }
    app.finish().await;
}

/// Reads server-sent events from `/flux` until `wait` has passed; returns the `change`
/// events' data.
async fn changes_heard(
    app: &TestApp,
    cookie: &str,
    wait: Duration,
) -> tokio::task::JoinHandle<Vec<String>> {
    changes_heard_at(app, &app.base, cookie, wait).await
}

/// [`changes_heard`] from the server at `base`.
async fn changes_heard_at(
    app: &TestApp,
    base: &str,
    cookie: &str,
    wait: Duration,
) -> tokio::task::JoinHandle<Vec<String>> {
    let mut response = app
        .http
        .get(format!("{base}/flux"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    tokio::spawn(async move {
        let mut text = String::new();
        let deadline = tokio::time::Instant::now() + wait;
        while let Ok(Ok(Some(chunk))) = tokio::time::timeout_at(deadline, response.chunk()).await {
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
        text.split("\n\n")
            .filter(|event| event.contains("event: change"))
            .filter_map(|event| event.lines().find_map(|l| l.strip_prefix("data: ")))
            .map(str::to_string)
            .collect()
    })
}

/// Issue 23, item 11, in the pages: "Mon compte" lists the sessions open in one's name, this
/// one marked, and ends the others — the other browser is logged out at once.
#[tokio::test]
async fn a_user_sees_and_ends_their_own_sessions_in_the_pages() {
    let app = TestApp::spawn().await;
    app.import_fleet().await;
    let here = form_login(&app, "bnf", UserKind::Client, None, Some("CLI-BNF"), &[]).await;
    // The same person in another browser.
    let response = app
        .http
        .post(format!("{}/connexion", app.base))
        .header("user-agent", "Navigateur-du-bureau/1.0")
        .form(&[("username", "bnf"), ("password", PASSWORD), ("suite", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let elsewhere = PageSession {
        app: &app,
        cookie: response
            .headers()
            .get("set-cookie")
            .unwrap()
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string(),
    };
    assert_eq!(elsewhere.get("/portail").await.status, StatusCode::OK);

    let account = here.get("/compte").await;
    assert_eq!(account.status, StatusCode::OK);
    assert!(
        account.text.contains("Sessions ouvertes"),
        "{}",
        account.text
    );
    assert!(account.text.contains("cette session"));
    assert!(account.text.contains("Navigateur-du-bureau/1.0"));
    // A forged form ends nothing.
    let forged = here
        .post_form("/compte/sessions/autres/fin", &[("csrf", "faux")])
        .await;
    assert_ne!(forged.status, StatusCode::SEE_OTHER);
    assert_eq!(elsewhere.get("/portail").await.status, StatusCode::OK);
    let ended = here
        .post_form(
            "/compte/sessions/autres/fin",
            &[("csrf", &csrf_of(&account.text))],
        )
        .await;
    assert_eq!(ended.status, StatusCode::SEE_OTHER);
    assert_eq!(ended.location.as_deref(), Some("/compte"));
    // The other browser is logged out; this one is not.
    let gone = elsewhere.get("/portail").await;
    assert_eq!(gone.status, StatusCode::SEE_OTHER, "{}", gone.text);
    assert!(gone.location.unwrap_or_default().starts_with("/connexion"));
    let account = here.get("/compte").await;
    assert_eq!(account.status, StatusCode::OK);
    assert!(!account.text.contains("Navigateur-du-bureau/1.0"));
    assert!(!account.text.contains("Fermer toutes les autres sessions"));
    app.finish().await;
}

/// Issue 23, item 7: one client's session once opened every live stream and cut the staff's
/// alarm wall off. Now a session has a few tabs' worth, a client its share, and the last
/// streams are the staff's: with 6 in all, 2 kept for the staff, 3 per client and 2 per
/// session, a client's third tab is refused (429), its colleague's third stream too once the
/// client's share is used, another client's up to the staff's reserve, and the staff's stream
/// still opens. Closing a stream gives its place back.
#[tokio::test]
async fn one_client_cannot_take_the_live_streams_of_the_staff() {
    let app = TestApp::spawn_with(|config| {
        config.server.live_streams = 6;
        config.server.live_streams_staff = 2;
        config.server.live_streams_per_client = 3;
        config.server.live_streams_per_session = 2;
    })
    .await;
    app.import_fleet().await;
    let bnf = form_login(&app, "bnf", UserKind::Client, None, Some("CLI-BNF"), &[]).await;
    let bnf2 = form_login(&app, "bnf2", UserKind::Client, None, Some("CLI-BNF"), &[]).await;
    let marche = form_login(
        &app,
        "marche",
        UserKind::Client,
        None,
        Some("CLI-MARCHE"),
        &[],
    )
    .await;
    let staff = form_login(
        &app,
        "superviseur",
        UserKind::Staff,
        None,
        None,
        &[StaffRole::Supervision],
    )
    .await;
    let open = |cookie: String| {
        let http = app.http.clone();
        let url = format!("{}/flux", app.base);
        async move { http.get(url).header("cookie", cookie).send().await.unwrap() }
    };
    // Two tabs of one session; the third is refused.
    let bnf_1 = open(bnf.cookie.clone()).await;
    let bnf_2 = open(bnf.cookie.clone()).await;
    assert_eq!(bnf_1.status(), StatusCode::OK);
    assert_eq!(bnf_2.status(), StatusCode::OK);
    let refused = open(bnf.cookie.clone()).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.text().await.unwrap().contains("onglets"));
    // The client's share is 3: its colleague gets one more, not two.
    let bnf2_1 = open(bnf2.cookie.clone()).await;
    assert_eq!(bnf2_1.status(), StatusCode::OK);
    let refused = open(bnf2.cookie.clone()).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.text().await.unwrap().contains("ce client"));
    // Another client reaches the staff's reserve: 4 clients' streams of 6, then no more.
    let marche_1 = open(marche.cookie.clone()).await;
    assert_eq!(marche_1.status(), StatusCode::OK);
    let refused = open(marche.cookie.clone()).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    // The staff's wall still hears live.
    let staff_1 = open(staff.cookie.clone()).await;
    assert_eq!(staff_1.status(), StatusCode::OK);
    // A closed stream gives its place back.
    drop(bnf_1);
    let mut reopened = StatusCode::TOO_MANY_REQUESTS;
    // The server sees the closed connection at its next write at the latest (a keep-alive
    // every 15 s).
    for _ in 0..250 {
        let response = open(marche.cookie.clone()).await;
        reopened = response.status();
        if reopened == StatusCode::OK {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(reopened, StatusCode::OK);
    drop((bnf_2, bnf2_1, marche_1, staff_1));
    app.finish().await;
}

#[tokio::test]
async fn the_live_stream_tells_each_session_only_of_its_own_clients_changes() {
    let app = TestApp::spawn().await;
    app.import_fleet().await;
    let agent = app.agent("robot").await;
    let staff = form_login(
        &app,
        "superviseur",
        UserKind::Staff,
        None,
        None,
        &[StaffRole::Supervision],
    )
    .await;
    let bnf = form_login(&app, "bnf", UserKind::Client, None, Some("CLI-BNF"), &[]).await;
    let marche = form_login(
        &app,
        "marche",
        UserKind::Client,
        None,
        Some("CLI-MARCHE"),
        &[],
    )
    .await;
    let wait = Duration::from_secs(3);
    let staff_heard = changes_heard(&app, &staff.cookie, wait).await;
    let bnf_heard = changes_heard(&app, &bnf.cookie, wait).await;
    let marche_heard = changes_heard(&app, &marche.cookie, wait).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // A BNF equipment's disk fills: an alarm and a state, BNF's only.
    let push = json!({"observations": [disk(NOW - 10 * MINUTE, 97.0), disk(NOW, 97.0)]});
    assert_eq!(
        agent.post("/api/v1/observations", &push).await.status,
        StatusCode::OK
    );
    let staff_heard = staff_heard.await.unwrap();
    let bnf_heard = bnf_heard.await.unwrap();
    let marche_heard = marche_heard.await.unwrap();
    assert!(
        staff_heard.iter().any(|d| d.contains("alarms")),
        "{staff_heard:?}"
    );
    assert!(
        bnf_heard.iter().any(|d| d.contains("alarms")),
        "{bnf_heard:?}"
    );
    assert!(marche_heard.is_empty(), "{marche_heard:?}");
    // A stream without a session is the login page, not a stream.
    let anonymous = app
        .http
        .get(format!("{}/flux", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::SEE_OTHER);
    app.finish().await;
}

/// Several server processes on one PostgreSQL database: a page served by one process hears
/// live of what another changed (LISTEN/NOTIFY), within the same walls. One process on
/// SQLite has nobody to tell: this runs in the PostgreSQL pass of the tests.
#[tokio::test]
async fn a_page_served_by_another_process_hears_its_changes_live() {
    let app = TestApp::spawn().await;
    if app.store.backend() != vigie_store::Backend::Postgres {
        eprintln!("une seule instance sur SQLite : ce test tourne sur PostgreSQL");
        app.finish().await;
        return;
    }
    app.import_fleet().await;
    let agent = app.agent("robot").await;
    let (other, other_server) = app.another_process().await;
    let staff = form_login(
        &app,
        "superviseur",
        UserKind::Staff,
        None,
        None,
        &[StaffRole::Supervision],
    )
    .await;
    let bnf = form_login(&app, "bnf", UserKind::Client, None, Some("CLI-BNF"), &[]).await;
    let marche = form_login(
        &app,
        "marche",
        UserKind::Client,
        None,
        Some("CLI-MARCHE"),
        &[],
    )
    .await;
    let wait = Duration::from_secs(4);
    let staff_heard = changes_heard_at(&app, &other, &staff.cookie, wait).await;
    let bnf_heard = changes_heard_at(&app, &other, &bnf.cookie, wait).await;
    let marche_heard = changes_heard_at(&app, &other, &marche.cookie, wait).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    // The push reaches the first process only.
    let push = json!({"observations": [disk(NOW - 10 * MINUTE, 97.0), disk(NOW, 97.0)]});
    assert_eq!(
        agent.post("/api/v1/observations", &push).await.status,
        StatusCode::OK
    );
    let staff_heard = staff_heard.await.unwrap();
    let bnf_heard = bnf_heard.await.unwrap();
    let marche_heard = marche_heard.await.unwrap();
    assert!(
        staff_heard.iter().any(|d| d.contains("alarms")),
        "{staff_heard:?}"
    );
    assert!(
        bnf_heard.iter().any(|d| d.contains("states")),
        "{bnf_heard:?}"
    );
    assert!(marche_heard.is_empty(), "{marche_heard:?}");
    other_server.abort();
    app.finish().await;
}

fn ping(equipment: &str, at: i64, up: bool) -> Value {
    json!({"equipment": equipment, "check": "ping", "at": at, "status": if up { "up" } else { "down" }})
}

#[tokio::test]
async fn the_portal_shows_a_client_its_own_sites_states_and_availability_only() {
    let app = TestApp::spawn().await;
    app.import_fleet().await;
    let agent = app.agent("robot").await;
    // DSH-1: the NVR was down for 3 of the last 30 days' hours… of one equipment: BNF's
    // availability falls below 100 %, by exactly that share of its equipment's time.
    let push = json!({"observations": [
        ping(NVR, NOW - 5 * 60 * MINUTE, true),
        ping(NVR, NOW - 4 * 60 * MINUTE, false),
        ping(NVR, NOW - 60 * MINUTE, true),
        ping("MARCHE-LIL-CENTRE-NVR-01", NOW - 60 * MINUTE, false),
    ]});
    let reply = agent.post("/api/v1/observations", &push).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let bnf = form_login(&app, "bnf", UserKind::Client, None, Some("CLI-BNF"), &[]).await;
    let dashboard = bnf.get("/portail").await;
    assert_eq!(dashboard.status, StatusCode::OK, "{}", dashboard.text);
    assert!(dashboard.text.contains("Banque Nationale de France"));
    assert!(
        dashboard.text.contains("BNF-PAR-OPERA"),
        "{}",
        dashboard.text
    );
    assert!(!dashboard.text.contains("MARCHE-"), "{}", dashboard.text);
    let equipment = app
        .store
        .list(
            &Actor::console("test"),
            vigie_domain::inventory::ObjectKind::Equipment,
            &vigie_store::ListFilter {
                client: Some(Reference::parse("CLI-BNF").unwrap()),
                limit: Some(1000),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .len() as f64;
    let expected = 100.0 * (1.0 - (3.0 * 60.0) / (equipment * 30.0 * 24.0 * 60.0));
    // Cut to two decimals, not rounded: any downtime keeps it under 100 % (docs/reports.md).
    let shown = format!("{:.2} %", (expected * 100.0).floor() / 100.0).replace('.', ",");
    assert!(
        dashboard.text.contains(&shown),
        "{shown} expected in {}",
        dashboard.text
    );

    // The site's page: the NVR back in service, with its checks.
    let site = bnf.get("/portail/sites/BNF-PAR-OPERA").await;
    assert_eq!(site.status, StatusCode::OK, "{}", site.text);
    assert!(site.text.contains(NVR));
    assert!(site.text.contains("en service"), "{}", site.text);

    // Another client's site, a site that does not exist, the console: all "not found".
    for path in [
        "/portail/sites/MARCHE-LIL-CENTRE",
        "/portail/sites/NULLE-PART",
        "/console",
    ] {
        let reply = bnf.get(path).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!reply.text.contains("MARCHE-LIL-CENTRE-NVR"), "{path}");
    }
    // A client whose contract has no dashboard is told so (DSH-1).
    let logi = form_login(&app, "logi", UserKind::Client, None, Some("CLI-LOGI"), &[]).await;
    let page = logi.get("/portail").await;
    assert!(
        page.text.contains("ne comprend pas le tableau de bord"),
        "{}",
        page.text
    );
    app.finish().await;
}

#[tokio::test]
async fn a_client_reports_a_problem_by_the_guided_form_and_finds_its_ticket() {
    let app = TestApp::spawn().await;
    app.import_fleet().await;
    let bnf = form_login(&app, "bnf", UserKind::Client, None, Some("CLI-BNF"), &[]).await;
    // Step one: the site; step two: its equipment are offered.
    let form = bnf.get("/portail/signaler").await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text);
    assert!(form.text.contains("BNF-PAR-OPERA"));
    assert!(!form.text.contains("MARCHE-"), "{}", form.text);
    let form = bnf.get("/portail/signaler?site=BNF-PAR-OPERA").await;
    assert!(form.text.contains(NVR), "{}", form.text);
    assert!(form.text.contains("priorité suggérée : P1 (critique)"));
    let csrf = csrf_of(&form.text);
    // Another client's site is refused, nothing opened.
    let forged = bnf
        .post_form(
            "/portail/signaler",
            &[
                ("csrf", &csrf),
                ("site", "MARCHE-LIL-CENTRE"),
                ("equipment", ""),
                ("symptom", "Plus d'image"),
                ("impact", "one_equipment"),
                ("criticality", ""),
            ],
        )
        .await;
    assert_ne!(forged.status, StatusCode::SEE_OTHER, "{}", forged.text);
    // SAV-4: "I don't know" the impact: the highest criticality, P1.
    let sent = bnf
        .post_form(
            "/portail/signaler",
            &[
                ("csrf", &csrf),
                ("site", "BNF-PAR-OPERA"),
                ("equipment", NVR),
                ("symptom", "L'enregistreur ne répond plus"),
                ("impact", "unknown"),
                ("criticality", ""),
            ],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.text);
    let location = sent.location.unwrap();
    assert!(location.starts_with("/portail/tickets/"), "{location}");
    let ticket = bnf.get(&location).await;
    assert!(
        ticket.text.contains("Votre signalement est enregistré"),
        "{}",
        ticket.text
    );
    assert!(ticket.text.contains("P1"), "{}", ticket.text);
    let mine = bnf.get("/portail/tickets").await;
    assert!(
        mine.text.contains("L'enregistreur ne répond plus"),
        "{}",
        mine.text
    );

    // The staff queue has it; another client finds nothing at its address.
    let staff = form_login(
        &app,
        "superviseur",
        UserKind::Staff,
        None,
        None,
        &[StaffRole::Supervision],
    )
    .await;
    let queue = staff.get("/console/tickets").await;
    assert!(
        queue.text.contains("L'enregistreur ne répond plus"),
        "{}",
        queue.text
    );
    let number = location
        .trim_start_matches("/portail/tickets/")
        .split('?')
        .next()
        .unwrap();
    assert_eq!(
        staff
            .get(&format!("/console/tickets/{number}"))
            .await
            .status,
        StatusCode::OK
    );
    let marche = form_login(
        &app,
        "marche",
        UserKind::Client,
        None,
        Some("CLI-MARCHE"),
        &[],
    )
    .await;
    let other = marche.get(&format!("/portail/tickets/{number}")).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    assert!(
        !marche
            .get("/portail/tickets")
            .await
            .text
            .contains("L'enregistreur")
    );
    // Each part of the site for its own people.
    assert_eq!(
        bnf.get("/console/tickets").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        staff.get("/portail/tickets").await.status,
        StatusCode::NOT_FOUND
    );

    // The technician works it from its page: takes it in charge, resolves it (CLO-1 fields)…
    let technician_page = staff.get(&format!("/console/tickets/{number}")).await;
    let staff_csrf = csrf_of(&technician_page.text);
    assert!(technician_page.text.contains("resolution-form"));
    let taken = staff
        .post_form(
            &format!("/console/tickets/{number}/etape"),
            &[("csrf", &staff_csrf), ("action", "take_charge")],
        )
        .await;
    assert_eq!(taken.status, StatusCode::SEE_OTHER, "{}", taken.text);
    let incomplete = staff
        .post_form(
            &format!("/console/tickets/{number}/resolution"),
            &[
                ("csrf", &staff_csrf),
                ("root_cause", ""),
                ("actions", "Redémarrage"),
                ("intervention_minutes", "30"),
            ],
        )
        .await;
    assert_eq!(
        incomplete.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        incomplete.text
    );
    assert!(
        incomplete.text.contains("Redémarrage"),
        "what was typed stays"
    );
    let resolved = staff
        .post_form(
            &format!("/console/tickets/{number}/resolution"),
            &[
                ("csrf", &staff_csrf),
                ("root_cause", "Alimentation défaillante"),
                ("actions", "Alimentation remplacée"),
                ("intervention_minutes", "45"),
                ("parts_replaced", "Bloc d'alimentation 12 V"),
                ("recommendations", ""),
                ("description", ""),
            ],
        )
        .await;
    assert_eq!(resolved.status, StatusCode::SEE_OTHER, "{}", resolved.text);
    // …and the client confirms the fix from its portal (SAV-6): the ticket is closed.
    let resolved_page = bnf.get(&format!("/portail/tickets/{number}")).await;
    assert!(
        resolved_page.text.contains("Je confirme"),
        "{}",
        resolved_page.text
    );
    let confirmed = bnf
        .post_form(
            &format!("/portail/tickets/{number}/confirmer"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(
        confirmed.status,
        StatusCode::SEE_OTHER,
        "{}",
        confirmed.text
    );
    let closed = bnf
        .get(&format!("/portail/tickets/{number}?fait=confirme"))
        .await;
    assert!(closed.text.contains("clos"), "{}", closed.text);
    assert!(
        closed.text.contains("Alimentation défaillante"),
        "{}",
        closed.text
    );
    app.finish().await;
}

#[tokio::test]
async fn the_console_shows_sites_an_equipment_with_its_sparklines_and_the_outbox() {
    let app = TestApp::spawn().await;
    app.import_fleet().await;
    let agent = app.agent("robot").await;
    let push = json!({"observations": [
        disk(NOW - 3 * 60 * MINUTE, 91.0),
        disk(NOW - 2 * 60 * MINUTE, 94.0),
        disk(NOW - 10 * MINUTE, 97.0),
        disk(NOW, 97.0),
    ]});
    assert_eq!(
        agent.post("/api/v1/observations", &push).await.status,
        StatusCode::OK
    );
    let staff = form_login(
        &app,
        "superviseur",
        UserKind::Staff,
        None,
        None,
        &[StaffRole::Supervision],
    )
    .await;
    let sites = staff.get("/console/sites?client=CLI-BNF").await;
    assert_eq!(sites.status, StatusCode::OK, "{}", sites.text);
    assert!(sites.text.contains("BNF-PAR-OPERA"));
    assert!(!sites.text.contains("MARCHE-"), "{}", sites.text);
    let site = staff.get("/console/sites/BNF-PAR-OPERA").await;
    assert!(
        site.text.contains(&format!("/console/equipements/{NVR}")),
        "{}",
        site.text
    );
    let equipment = staff.get(&format!("/console/equipements/{NVR}")).await;
    assert_eq!(equipment.status, StatusCode::OK, "{}", equipment.text);
    // The disk's last 24 h as a line, its range in words.
    assert!(equipment.text.contains("<svg"), "{}", equipment.text);
    assert!(equipment.text.contains("disk_used_percent:/srv"));
    assert!(
        equipment.text.contains("min 91,0, max 97,0"),
        "{}",
        equipment.text
    );
    assert!(equipment.text.contains("disque presque plein"));
    // The fleet, a page at a time, with each equipment's state.
    let list = staff.get("/console/equipements?site=BNF-PAR-OPERA").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert!(list.text.contains(NVR), "{}", list.text);
    assert!(list.text.contains("enregistreur"));
    assert!(!list.text.contains("MARCHE-"));
    let first = staff.get("/console/equipements").await;
    assert_eq!(first.text.matches("data-equipment=").count(), 100);
    assert!(first.text.contains("Équipements suivants"));
    // The alarm's pages are in the outbox.
    let outbox = staff.get("/console/envois").await;
    assert_eq!(outbox.status, StatusCode::OK, "{}", outbox.text);
    assert!(outbox.text.contains("alarme n°"), "{}", outbox.text);
    // the import is in the audit trail; the rotations page answers even with none.
    let journal = staff.get("/console/journal?objet=BNF-PAR-OPERA").await;
    assert_eq!(journal.status, StatusCode::OK, "{}", journal.text);
    assert!(journal.text.contains("création"), "{}", journal.text);
    let on_call = staff.get("/console/astreintes").await;
    assert_eq!(on_call.status, StatusCode::OK, "{}", on_call.text);
    assert_eq!(staff.get("/console/documents").await.status, StatusCode::OK);
    // None of it for a client.
    let client = form_login(&app, "bnf", UserKind::Client, None, Some("CLI-BNF"), &[]).await;
    assert_eq!(
        client.get("/portail/documents").await.status,
        StatusCode::OK
    );
    for path in [
        "/console/sites",
        "/console/envois",
        "/console/journal",
        "/console/astreintes",
        "/console/documents",
        &format!("/console/equipements/{NVR}"),
    ] {
        assert_eq!(
            client.get(path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    app.finish().await;
}

#[tokio::test]
async fn staff_edit_a_site_in_the_inventory_format_with_the_apis_checks() {
    let app = TestApp::spawn().await;
    app.import_fleet().await;
    let staff = form_login(
        &app,
        "superviseur",
        UserKind::Staff,
        None,
        None,
        &[StaffRole::Supervision],
    )
    .await;
    let path = "/console/inventaire/site/BNF-PAR-OPERA";
    let page = staff.get(path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("Agence Paris Opéra"), "{}", page.text);
    let csrf = csrf_of(&page.text);
    let start = page.text.find("name=\"record\"").unwrap();
    let open = start + page.text[start..].find('>').unwrap() + 1;
    let close = open + page.text[open..].find("</textarea>").unwrap();
    let record = page.text[open..close]
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">");
    // Broken TOML: refused with its reason, the text kept as typed, nothing changed.
    let broken = staff
        .post_form(path, &[("csrf", &csrf), ("record", "name = \"Sans fin")])
        .await;
    assert_eq!(broken.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(broken.text.contains("TOML illisible"), "{}", broken.text);
    assert!(
        broken.text.contains("name = &quot;Sans fin"),
        "{}",
        broken.text
    );
    // A contract of another client: the cross-record rules refuse it.
    let foreign = record.replace("CTR-BNF-2025", "CTR-MARCHE-2024");
    let refused = staff
        .post_form(path, &[("csrf", &csrf), ("record", &foreign)])
        .await;
    assert_ne!(refused.status, StatusCode::SEE_OTHER, "{}", refused.text);
    // Renamed: saved, audited, shown.
    let renamed = record.replace("Agence Paris Opéra", "Agence Paris Opéra-Garnier");
    let saved = staff
        .post_form(path, &[("csrf", &csrf), ("record", &renamed)])
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text);
    let site = staff.get("/console/sites/BNF-PAR-OPERA").await;
    assert!(
        site.text.contains("Agence Paris Opéra-Garnier"),
        "{}",
        site.text
    );
    let journal = staff.get("/console/journal?objet=BNF-PAR-OPERA").await;
    assert!(journal.text.contains("modification"), "{}", journal.text);
    // A client user edits nothing, sees nothing of it.
    let client = form_login(&app, "bnf", UserKind::Client, None, Some("CLI-BNF"), &[]).await;
    assert_eq!(client.get(path).await.status, StatusCode::NOT_FOUND);
    app.finish().await;
}

/// A ticket of BNF's reported in the portal, resolved by `staff` in the console and confirmed
/// by the client: closed, its survey due (SAV-6, SAV-7). Returns its number.
async fn closed_ticket(bnf: &PageSession<'_>, staff: &PageSession<'_>) -> String {
    let form = bnf.get("/portail/signaler?site=BNF-PAR-OPERA").await;
    let csrf = csrf_of(&form.text);
    let sent = bnf
        .post_form(
            "/portail/signaler",
            &[
                ("csrf", &csrf),
                ("site", "BNF-PAR-OPERA"),
                ("equipment", NVR),
                ("symptom", "L'enregistreur ne répond plus"),
                ("impact", "one_equipment"),
                ("criticality", ""),
            ],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.text);
    let number = sent
        .location
        .unwrap()
        .trim_start_matches("/portail/tickets/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let page = staff.get(&format!("/console/tickets/{number}")).await;
    let staff_csrf = csrf_of(&page.text);
    let taken = staff
        .post_form(
            &format!("/console/tickets/{number}/etape"),
            &[("csrf", &staff_csrf), ("action", "take_charge")],
        )
        .await;
    assert_eq!(taken.status, StatusCode::SEE_OTHER, "{}", taken.text);
    let resolved = staff
        .post_form(
            &format!("/console/tickets/{number}/resolution"),
            &[
                ("csrf", &staff_csrf),
                ("root_cause", "Alimentation défaillante"),
                ("actions", "Alimentation remplacée"),
                ("intervention_minutes", "45"),
            ],
        )
        .await;
    assert_eq!(resolved.status, StatusCode::SEE_OTHER, "{}", resolved.text);
    let confirmed = bnf
        .post_form(
            &format!("/portail/tickets/{number}/confirmer"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(
        confirmed.status,
        StatusCode::SEE_OTHER,
        "{}",
        confirmed.text
    );
    number
}

#[tokio::test]
async fn a_client_answers_the_satisfaction_survey_in_the_portal_once() {
    let app = TestApp::spawn().await;
    app.import_fleet().await;
    let bnf = form_login(&app, "bnf", UserKind::Client, None, Some("CLI-BNF"), &[]).await;
    let staff = form_login(
        &app,
        "superviseur",
        UserKind::Staff,
        None,
        None,
        &[StaffRole::Supervision],
    )
    .await;
    let number = closed_ticket(&bnf, &staff).await;
    let path = format!("/portail/tickets/{number}");
    let answer = format!("/portail/tickets/{number}/enquete");

    // SAV-7: the closed ticket's page asks the three questions and a comment.
    let page = bnf.get(&path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("id=\"survey-form\""), "{}", page.text);
    for question in [
        "Réactivité de notre équipe",
        "Qualité de la solution apportée",
        "Communication pendant le traitement",
        "Un commentaire (facultatif)",
    ] {
        assert!(page.text.contains(question), "{question}");
    }
    let csrf = csrf_of(&page.text);
    let marks = |r: &'static str, q: &'static str, c: &'static str| {
        vec![
            ("responsiveness", r),
            ("quality", q),
            ("communication", c),
            ("comment", "Rapide, mais prévenez-nous avant de venir."),
        ]
    };
    // Without the form's token: refused, nothing recorded.
    let forged = bnf.post_form(&answer, &marks("5", "5", "5")).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.text);
    // A mark out of range: the desk's reason, the form again with what was chosen.
    let mut wrong = marks("7", "4", "3");
    wrong.push(("csrf", &csrf));
    let refused = bnf.post_form(&answer, &wrong).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.text.contains("de 1 à 5 (reçu 7)"),
        "{}",
        refused.text
    );
    assert!(
        refused
            .text
            .contains("id=\"survey-quality-4\" name=\"quality\" value=\"4\" required checked"),
        "{}",
        refused.text
    );
    // Another client finds no such ticket, and cannot answer for it.
    let marche = form_login(
        &app,
        "marche",
        UserKind::Client,
        None,
        Some("CLI-MARCHE"),
        &[],
    )
    .await;
    let marche_csrf = csrf_of(&marche.get("/portail/tickets").await.text);
    let mut theirs = marks("1", "1", "1");
    theirs.push(("csrf", &marche_csrf));
    assert_eq!(
        marche.post_form(&answer, &theirs).await.status,
        StatusCode::NOT_FOUND
    );

    // Answered: thanked, the form gone, the answers on the page.
    let mut given = marks("4", "5", "3");
    given.push(("csrf", &csrf));
    let answered = bnf.post_form(&answer, &given).await;
    assert_eq!(answered.status, StatusCode::SEE_OTHER, "{}", answered.text);
    let thanked = bnf.get(answered.location.as_deref().unwrap()).await;
    assert!(
        thanked.text.contains("Merci : votre avis est enregistré."),
        "{}",
        thanked.text
    );
    assert!(!thanked.text.contains("id=\"survey-form\""));
    // Once: a second answer is refused as the emailed link refuses it, the first one kept.
    let mut again = marks("1", "1", "1");
    again.push(("csrf", &csrf));
    let second = bnf.post_form(&answer, &again).await;
    assert_eq!(second.status, StatusCode::CONFLICT, "{}", second.text);
    assert!(
        second.text.contains("a déjà reçu une réponse"),
        "{}",
        second.text
    );

    // The staff see the answers on the console's ticket page, given by the client user.
    let console = staff.get(&format!("/console/tickets/{number}")).await;
    assert!(
        console.text.contains("Réactivité de notre équipe : 4/5"),
        "{}",
        console.text
    );
    assert!(
        console
            .text
            .contains("Qualité de la solution apportée : 5/5")
    );
    assert!(
        console
            .text
            .contains("Communication pendant le traitement : 3/5")
    );
    assert!(
        console
            .text
            .contains("« Rapide, mais prévenez-nous avant de venir. »")
    );
    let (ticket, events) = app
        .store
        .ticket(&Actor::console("test"), number.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(ticket.survey.unwrap().quality, 5);
    let answered_by = events
        .iter()
        .find(|e| e.kind.key() == "survey_answered")
        .and_then(|e| e.by.clone());
    assert_eq!(answered_by.map(|b| b.to_string()).as_deref(), Some("bnf"));
    app.finish().await;
}

#[tokio::test]
async fn the_portal_offers_the_survey_as_long_as_the_emailed_link_is_valid() {
    let app = TestApp::spawn().await;
    app.import_fleet().await;
    let bnf = form_login(&app, "bnf", UserKind::Client, None, Some("CLI-BNF"), &[]).await;
    let staff = form_login(
        &app,
        "superviseur",
        UserKind::Staff,
        None,
        None,
        &[StaffRole::Supervision],
    )
    .await;
    let number = closed_ticket(&bnf, &staff).await;
    // 30 days on: the link has expired, the portal no longer asks.
    app.clock.advance_ms(30 * 24 * 60 * MINUTE + MINUTE);
    let bnf = form_login(
        &app,
        "bnf-plus-tard",
        UserKind::Client,
        None,
        Some("CLI-BNF"),
        &[],
    )
    .await;
    let page = bnf.get(&format!("/portail/tickets/{number}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(!page.text.contains("id=\"survey-form\""), "{}", page.text);
    let csrf = csrf_of(&page.text);
    let late = bnf
        .post_form(
            &format!("/portail/tickets/{number}/enquete"),
            &[
                ("csrf", csrf.as_str()),
                ("responsiveness", "3"),
                ("quality", "3"),
                ("communication", "3"),
            ],
        )
        .await;
    assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.text);
    assert!(late.text.contains("n'est plus ouverte"), "{}", late.text);
    app.finish().await;
}

/// The text of a page's `record` textarea, unescaped.
fn record_text(page: &str) -> String {
    let start = page.find("name=\"record\"").expect("a record field");
    let open = start + page[start..].find('>').unwrap() + 1;
    let close = open + page[open..].find("</textarea>").unwrap();
    page[open..close]
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
}

#[tokio::test]
async fn staff_create_and_delete_records_with_the_apis_checks_and_audit() {
    let app = TestApp::spawn().await;
    app.import_fleet().await;
    let staff = form_login(
        &app,
        "superviseur",
        UserKind::Staff,
        None,
        None,
        &[StaffRole::Supervision],
    )
    .await;
    // Each kind has its list and its "new record".
    let kinds = staff.get("/console/inventaire").await;
    assert_eq!(kinds.status, StatusCode::OK, "{}", kinds.text);
    for kind in [
        "client",
        "contract",
        "contact",
        "site",
        "equipment",
        "staff",
    ] {
        assert!(
            kinds
                .text
                .contains(&format!("href=\"/console/inventaire/nouvelle/{kind}\"")),
            "{kind}"
        );
        let list = staff.get(&format!("/console/inventaire/{kind}")).await;
        assert_eq!(list.status, StatusCode::OK, "{kind}: {}", list.text);
        let new = staff
            .get(&format!("/console/inventaire/nouvelle/{kind}"))
            .await;
        assert_eq!(new.status, StatusCode::OK, "{kind}: {}", new.text);
        assert!(record_text(&new.text).starts_with("ref = \"\""), "{kind}");
    }
    let sites = staff.get("/console/inventaire/site").await;
    assert!(
        sites
            .text
            .contains("href=\"/console/inventaire/site/BNF-PAR-OPERA\""),
        "{}",
        sites.text
    );
    // From a site's page: a new equipment, its template on that site.
    let site_page = staff.get("/console/sites/BNF-PAR-OPERA").await;
    let new_equipment = "/console/inventaire/nouvelle/equipment?client=CLI-BNF&site=BNF-PAR-OPERA";
    assert!(
        site_page
            .text
            .contains(&new_equipment.replace('&', "&amp;")),
        "{}",
        site_page.text
    );
    let form = staff.get(new_equipment).await;
    assert!(
        record_text(&form.text).contains("site = \"BNF-PAR-OPERA\""),
        "{}",
        form.text
    );
    let csrf = csrf_of(&form.text);

    // A new site, from the template filled in.
    let template = record_text(
        &staff
            .get("/console/inventaire/nouvelle/site?client=CLI-BNF")
            .await
            .text,
    );
    assert!(template.contains("client = \"CLI-BNF\""), "{template}");
    let new_site = template
        .replacen("ref = \"\"", "ref = \"BNF-PAR-BASTILLE\"", 1)
        .replacen("contract = \"\"", "contract = \"CTR-BNF-2025\"", 1)
        .replacen("name = \"\"", "name = \"Agence Bastille\"", 1);
    let create = "/console/inventaire/nouvelle/site";
    // Broken TOML, another client's contract, no form token: refused, nothing created.
    let broken = staff
        .post_form(create, &[("csrf", &csrf), ("record", "ref = \"X")])
        .await;
    assert_eq!(broken.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(broken.text.contains("TOML illisible"), "{}", broken.text);
    assert!(broken.text.contains("ref = &quot;X"), "{}", broken.text);
    let foreign = new_site.replace("CTR-BNF-2025", "CTR-MARCHE-2024");
    let refused = staff
        .post_form(create, &[("csrf", &csrf), ("record", &foreign)])
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    assert!(refused.text.contains("CTR-MARCHE-2024"), "{}", refused.text);
    let tokenless = staff.post_form(create, &[("record", &new_site)]).await;
    assert_eq!(tokenless.status, StatusCode::FORBIDDEN);
    assert_eq!(
        staff
            .get("/console/inventaire/site/BNF-PAR-BASTILLE")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let created = staff
        .post_form(create, &[("csrf", &csrf), ("record", &new_site)])
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.text);
    let location = created.location.unwrap();
    assert_eq!(
        location,
        "/console/inventaire/site/BNF-PAR-BASTILLE?fait=cree"
    );
    let shown = staff.get(&location).await;
    assert!(shown.text.contains("Fiche créée."), "{}", shown.text);
    assert!(shown.text.contains("Agence Bastille"));
    // The same reference again: the API's refusal, the text kept.
    let twice = staff
        .post_form(create, &[("csrf", &csrf), ("record", &new_site)])
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.text);
    assert!(twice.text.contains("existe déjà"), "{}", twice.text);
    assert!(twice.text.contains("Agence Bastille"));

    // Deleting a site still used by its equipment: the store's reason, nothing changed.
    let confirm = staff
        .get("/console/inventaire/site/BNF-PAR-OPERA/suppression")
        .await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.text);
    assert!(confirm.text.contains("Supprimer définitivement"));
    assert!(confirm.text.contains("Agence Paris Opéra"));
    let in_use = staff
        .post_form(
            "/console/inventaire/site/BNF-PAR-OPERA/suppression",
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(in_use.status, StatusCode::CONFLICT, "{}", in_use.text);
    assert!(
        in_use.text.contains("encore référencé par d'autres"),
        "{}",
        in_use.text
    );
    assert!(in_use.text.contains("Rien n'a été supprimé."));
    assert_eq!(
        staff
            .get("/console/inventaire/site/BNF-PAR-OPERA")
            .await
            .status,
        StatusCode::OK
    );
    // The new site, unused: deleted after the confirmation, only with the form's token.
    let delete = "/console/inventaire/site/BNF-PAR-BASTILLE/suppression";
    assert_eq!(
        staff.post_form(delete, &[]).await.status,
        StatusCode::FORBIDDEN
    );
    let deleted = staff.post_form(delete, &[("csrf", &csrf)]).await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER, "{}", deleted.text);
    assert_eq!(
        deleted.location.as_deref(),
        Some("/console/inventaire/site?fait=supprime")
    );
    assert!(
        staff
            .get("/console/inventaire/site?fait=supprime")
            .await
            .text
            .contains("Fiche supprimée.")
    );
    assert_eq!(
        staff
            .get("/console/inventaire/site/BNF-PAR-BASTILLE")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // both are in the audit trail, as the API writes them.
    let journal = staff.get("/console/journal?objet=BNF-PAR-BASTILLE").await;
    assert!(journal.text.contains("création"), "{}", journal.text);
    assert!(journal.text.contains("suppression"), "{}", journal.text);
    let trail = app
        .store
        .audit_trail(
            &Actor::console("test"),
            &vigie_store::AuditFilter {
                object_ref: Some("BNF-PAR-BASTILLE".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(trail.len(), 2, "{trail:?}");
    assert!(
        trail
            .iter()
            .all(|entry| entry.actor.contains("superviseur"))
    );

    // A technician reads the inventory but changes none of it; a client sees none of it.
    let technician = form_login(
        &app,
        "technicien",
        UserKind::Staff,
        None,
        None,
        &[StaffRole::Technician],
    )
    .await;
    let read_only = technician
        .get("/console/inventaire/site/BNF-PAR-OPERA")
        .await;
    assert_eq!(read_only.status, StatusCode::OK);
    assert!(!read_only.text.contains("Supprimer la fiche"));
    assert!(
        !technician
            .get("/console/inventaire")
            .await
            .text
            .contains("Nouvelle fiche")
    );
    let technician_csrf = csrf_of(&read_only.text);
    for (path, fields) in [
        (
            "/console/inventaire/nouvelle/site",
            vec![("record", new_site.as_str())],
        ),
        ("/console/inventaire/site/BNF-PAR-OPERA/suppression", vec![]),
    ] {
        assert_eq!(
            technician.get(path).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
        let mut fields = fields;
        fields.push(("csrf", technician_csrf.as_str()));
        assert_eq!(
            technician.post_form(path, &fields).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    let client = form_login(&app, "bnf", UserKind::Client, None, Some("CLI-BNF"), &[]).await;
    for path in [
        "/console/inventaire",
        "/console/inventaire/site",
        "/console/inventaire/nouvelle/site",
        "/console/inventaire/site/BNF-PAR-OPERA/suppression",
    ] {
        assert_eq!(
            client.get(path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    app.finish().await;
}

#[tokio::test]
async fn sites_and_equipment_draw_their_last_30_days_of_availability() {
    let app = TestApp::spawn().await;
    app.import_fleet().await;
    let agent = app.agent("robot").await;
    let hour = 60 * MINUTE;
    // The NVR down 3 hours on Sunday 22 November (05:00 to 08:00 in Paris), up since.
    let push = json!({"observations": [
        ping(NVR, NOW - 30 * hour, true),
        ping(NVR, NOW - 28 * hour, false),
        ping(NVR, NOW - 25 * hour, true),
        ping(NVR, NOW, true),
    ]});
    let reply = agent.post("/api/v1/observations", &push).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let on_site = app
        .store
        .list(
            &Actor::console("test"),
            vigie_domain::inventory::ObjectKind::Equipment,
            &vigie_store::ListFilter {
                site: Some(Reference::parse("BNF-PAR-OPERA").unwrap()),
                limit: Some(1000),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .len() as f64;
    // An availability is cut to two decimals, not rounded (docs/reports.md).
    let site_rate = format!(
        "{:.2} %",
        (100.0 * 100.0 * (1.0 - 3.0 / (24.0 * on_site))).floor() / 100.0
    )
    .replace('.', ",");

    let staff = form_login(
        &app,
        "superviseur",
        UserKind::Staff,
        None,
        None,
        &[StaffRole::Supervision],
    )
    .await;
    let equipment = staff.get(&format!("/console/equipements/{NVR}")).await;
    assert_eq!(equipment.status, StatusCode::OK, "{}", equipment.text);
    let chart = chart_of(&equipment.text);
    assert_eq!(chart.matches("<rect class=\"bar").count(), 30, "{chart}");
    assert_eq!(chart.matches("<title>").count(), 30, "{chart}");
    assert!(
        chart.contains("<title>dimanche 22 novembre : 87,50 %</title>"),
        "{chart}"
    );
    assert!(
        chart.contains("<title>lundi 23 novembre : 100,00 %</title>"),
        "{chart}"
    );
    assert!(
        chart.contains(
            "aria-label=\"Disponibilité par jour sur 30 jours : 29 jours à 100 %, la plus basse 87,50 % le dimanche 22 novembre.\""
        ),
        "{chart}"
    );

    // The site's page, in the console and in the client's portal: the site's share of it.
    for (session, path) in [
        (&staff, "/console/sites/BNF-PAR-OPERA"),
        (
            &form_login(&app, "bnf", UserKind::Client, None, Some("CLI-BNF"), &[]).await,
            "/portail/sites/BNF-PAR-OPERA",
        ),
    ] {
        let page = session.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.text);
        let chart = chart_of(&page.text);
        assert_eq!(chart.matches("<rect class=\"bar").count(), 30, "{chart}");
        assert!(
            chart.contains(&format!(
                "<title>dimanche 22 novembre : {site_rate}</title>"
            )),
            "{site_rate} in {chart}"
        );
        // The live region alone does not read the 30 days again.
        let region = session.get(&format!("{path}?partiel=1")).await;
        assert!(!region.text.contains("<svg class=\"chart\""));
    }
    app.finish().await;
}

/// The daily availability chart of a page.
fn chart_of(page: &str) -> String {
    let start = page
        .find("<svg class=\"chart\"")
        .expect("a daily availability chart");
    let end = start + page[start..].find("</svg>").unwrap();
    page[start..end].to_string()
}

/// Issue 25, item 7: the maintenance form says every fault at once, in the words of its
/// labels, and an equipment it does not understand is refused, never read as the whole site;
/// nothing is opened by a refused form.
#[tokio::test]
async fn the_maintenance_form_refuses_what_it_does_not_understand_and_opens_nothing() {
    let app = TestApp::spawn().await;
    app.import_fleet().await;
    let tech = form_login(
        &app,
        "klambert",
        UserKind::Staff,
        Some("ST-TECH-01"),
        None,
        &[StaffRole::Technician],
    )
    .await;
    let page = tech.get("/console/maintenance?site=BNF-PAR-OPERA").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let csrf = csrf_of(&page.text);
    let refused = tech
        .post_form(
            "/console/maintenance",
            &[
                ("csrf", &csrf),
                ("site", "BNF-PAR-OPERA"),
                ("equipment", "pas une référence !"),
                ("kind", "silence"),
                ("from", ""),
                ("to", "demain"),
                ("reason", " "),
            ],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    for fault in [
        "« Équipement » : équipement « pas une référence ! » inconnu.",
        "« Au (heure de Paris) » : une date et une heure sont attendues.",
        "« Motif » est à remplir.",
    ] {
        let fault = fault.replace('\'', "&#x27;");
        assert!(refused.text.contains(&fault), "{fault}\n{}", refused.text);
    }
    let windows = app.store.live_windows(NOW).await.unwrap();
    assert!(windows.is_empty(), "{windows:?}");
    app.finish().await;
}
