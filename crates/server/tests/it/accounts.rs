//! Issue 23, items 10 and 11: a throttle strangers cannot turn against an account or against
//! everyone, disabled accounts, tokens that die with a reset, one-time passwords that expire,
//! the password rule, one's own sessions, `__Host-` cookies.

use reqwest::StatusCode;
use serde_json::{Value, json};
use vigie_domain::access::TokenScope;
use vigie_domain::inventory::StaffRole;
use vigie_store::UserKind;

use crate::{Auth, PASSWORD, Session, TestApp};

/// A login with extra headers; the status, the `Retry-After` in seconds, the body and every
/// `Set-Cookie` (name=value only).
async fn login_with(
    app: &TestApp,
    username: &str,
    password: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, Option<u64>, Value, Vec<String>) {
    let mut request = app
        .http
        .post(format!("{}/api/v1/auth/login", app.base))
        .json(&json!({"username": username, "password": password}));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    let cookies = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .collect();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, retry_after, body, cookies)
}

async fn staff(app: &TestApp, username: &str) {
    app.create_user(
        username,
        UserKind::Staff,
        None,
        &[StaffRole::Technician],
        false,
    )
    .await;
}

/// Issue 23, item 10: five wrong passwords by anyone locked an account for 15 minutes (the
/// fuzzer locked `admin`). Now the account waits 1 s, 2 s, 4 s… after the last failure, never
/// more than `max_login_delay_seconds` (300 s), and the owner's known browser is not held.
#[tokio::test]
async fn a_stranger_cannot_keep_an_account_shut() {
    let app = TestApp::spawn().await;
    staff(&app, "admin").await;
    // The owner logged in once from their browser: it is now a known device.
    let (status, _, _, cookies) = login_with(&app, "admin", PASSWORD, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    let device = cookies
        .iter()
        .find(|c| c.starts_with("vigie_appareil="))
        .expect("a known-device cookie")
        .clone();

    // A stranger guesses: five free failures, then waits that double.
    for _ in 0..5 {
        let (status, ..) = login_with(&app, "admin", "mauvais", &[]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let mut waits = Vec::new();
    for _ in 0..12 {
        let (status, retry_after, body, _) = login_with(&app, "admin", "mauvais", &[]).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(body["error"]["code"], "too_many_attempts");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("trop d'échecs de connexion"),
            "{body}"
        );
        let wait = retry_after.unwrap();
        waits.push(wait);
        // Meanwhile the owner's known browser logs in at once.
        let (status, ..) = login_with(&app, "admin", PASSWORD, &[("cookie", &device)]).await;
        assert_eq!(status, StatusCode::OK, "the owner's browser is not held");
        app.clock.advance_ms(wait as i64 * 1000);
        let (status, ..) = login_with(&app, "admin", "mauvais", &[]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        waits,
        [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300],
        "doubling, capped at 300 s"
    );
    // Once the wait after the stranger's last guess is over, the right password works from
    // anywhere.
    let (status, retry_after, ..) = login_with(&app, "admin", PASSWORD, &[]).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    app.clock.advance_ms(retry_after.unwrap() as i64 * 1000);
    let (status, ..) = login_with(&app, "admin", PASSWORD, &[]).await;
    assert_eq!(status, StatusCode::OK);
    // A known-device cookie of another account, or a forged one, is a stranger's.
    staff(&app, "tech").await;
    for _ in 0..5 {
        login_with(&app, "tech", "mauvais", &[]).await;
    }
    let forged = format!("vigie_appareil={}.{}", "0".repeat(32), "0".repeat(64));
    for cookie in [device.as_str(), forged.as_str()] {
        let (status, ..) = login_with(&app, "tech", PASSWORD, &[("cookie", cookie)]).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{cookie}");
    }
    app.finish().await;
}

/// Issue 23, item 10: behind the recommended reverse proxy every login came from its address,
/// so 50 failures by anyone blocked every user's login. The client's address is read from
/// `X-Forwarded-For` when the peer is a trusted proxy, and only then.
#[tokio::test]
async fn the_client_address_comes_from_a_trusted_proxy_only() {
    let app = TestApp::spawn_with(|c| {
        c.auth.max_failures_per_address = 3;
        c.server.trusted_proxies = vec!["127.0.0.1".to_string().try_into().unwrap()];
    })
    .await;
    staff(&app, "tech").await;
    // An attacker behind the proxy fails on three accounts: its address is held…
    let attacker = [("x-forwarded-for", "203.0.113.7")];
    for n in 0..3 {
        let (status, ..) = login_with(&app, &format!("inconnu-{n}"), "x", &attacker).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, retry_after, ..) = login_with(&app, "tech", PASSWORD, &attacker).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after.unwrap() > 800, "{retry_after:?}");
    // … not everyone else behind the same proxy. A client-written address before the one the
    // proxy appended changes nothing: the last untrusted address counts.
    for forwarded in ["198.51.100.20", "203.0.113.7, 198.51.100.20"] {
        let (status, ..) =
            login_with(&app, "tech", PASSWORD, &[("x-forwarded-for", forwarded)]).await;
        assert_eq!(status, StatusCode::OK, "{forwarded}");
    }
    app.finish().await;

    // Without trusted proxies the header is ignored: a client cannot escape its address's
    // limit by writing another address in it.
    let app = TestApp::spawn_with(|c| c.auth.max_failures_per_address = 3).await;
    for n in 0..3 {
        let forwarded = format!("192.0.2.{n}");
        login_with(
            &app,
            &format!("inconnu-{n}"),
            "x",
            &[("x-forwarded-for", &forwarded)],
        )
        .await;
    }
    let (status, ..) =
        login_with(&app, "inconnu-9", "x", &[("x-forwarded-for", "192.0.2.99")]).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    app.finish().await;
}

/// Issue 23, item 11: an administrator disables an account; it stays (history) but cannot log
/// in (the same answer as a wrong password), and its sessions and tokens end at once.
#[tokio::test]
async fn a_disabled_account_ends_its_sessions_and_tokens() {
    let app = TestApp::spawn().await;
    let admin = app
        .login_as("admin", UserKind::Staff, None, &[StaffRole::Administrator])
        .await;
    let tech = app
        .login_as("tech", UserKind::Staff, None, &[StaffRole::Technician])
        .await;
    let token = app.token("tech", TokenScope::ReadOnly).await;
    assert_eq!(token.get("/api/v1/auth/me").await.status, StatusCode::OK);

    // Only administrators, and not their own account.
    let refused = tech.post("/api/v1/users/admin/disable", &json!({})).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    let own = admin.post("/api/v1/users/admin/disable", &json!({})).await;
    assert_eq!(own.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", own.text);
    assert!(
        own.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("propre compte")
    );

    let disabled = admin.post("/api/v1/users/tech/disable", &json!({})).await;
    assert_eq!(disabled.status, StatusCode::OK, "{}", disabled.text);
    assert_eq!(disabled.body["disabled_ms"], crate::NOW);
    for session in [&tech, &token] {
        let reply = session.get("/api/v1/auth/me").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    let (status, body) = app.login("tech", PASSWORD).await.err().unwrap();
    let (_, wrong) = app.login("tech", "mauvais").await.err().unwrap();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body, wrong,
        "a disabled account answers as a wrong password"
    );
    // Kept, and listed as disabled.
    let users = admin.get("/api/v1/users").await;
    let listed = users.body.as_array().unwrap();
    let listed = listed.iter().find(|u| u["username"] == "tech").unwrap();
    assert_eq!(listed["disabled_ms"], crate::NOW);
    // Audited, with the token's revocation.
    let trail = admin
        .get("/api/v1/audit?object_kind=user&object_ref=tech")
        .await;
    let items = trail.body["items"].as_array().unwrap();
    assert_eq!(items[0]["actor"], "user:admin");
    assert_eq!(items[0]["before"]["disabled_ms"], Value::Null);
    assert_eq!(items[0]["after"]["disabled_ms"], crate::NOW);
    let tokens = admin.get("/api/v1/tokens?username=tech").await;
    assert_eq!(tokens.body[0]["revoked_ms"], crate::NOW, "{}", tokens.text);

    // Enabled again: the password works, the old token stays dead.
    let enabled = admin.post("/api/v1/users/tech/enable", &json!({})).await;
    assert_eq!(enabled.status, StatusCode::OK);
    assert_eq!(enabled.body["disabled_ms"], Value::Null);
    assert!(app.login("tech", PASSWORD).await.is_ok());
    assert_eq!(
        token.get("/api/v1/auth/me").await.status,
        StatusCode::UNAUTHORIZED
    );
    let unknown = admin
        .post("/api/v1/users/personne/disable", &json!({}))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    app.finish().await;
}

/// Issue 23, item 11: a password reset by an administrator revokes the account's API tokens
/// (and its sessions); a user changing their own password keeps their tokens.
#[tokio::test]
async fn api_tokens_die_with_a_password_reset() {
    let app = TestApp::spawn().await;
    let admin = app
        .login_as("admin", UserKind::Staff, None, &[StaffRole::Administrator])
        .await;
    let tech = app
        .login_as("tech", UserKind::Staff, None, &[StaffRole::Technician])
        .await;
    let token = app.token("tech", TokenScope::ReadOnly).await;
    let changed = tech
        .post(
            "/api/v1/auth/password",
            &json!({"current_password": PASSWORD, "new_password": "girafe orageuse du dimanche"}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    assert_eq!(token.get("/api/v1/auth/me").await.status, StatusCode::OK);

    let reset = admin.post("/api/v1/users/tech/password", &json!({})).await;
    assert_eq!(reset.status, StatusCode::OK);
    assert_eq!(
        token.get("/api/v1/auth/me").await.status,
        StatusCode::UNAUTHORIZED
    );
    app.finish().await;
}

/// Issue 23, item 11: a one-time password may be used for 72 hours after it was given.
#[tokio::test]
async fn one_time_passwords_expire_after_72_hours() {
    let app = TestApp::spawn().await;
    let admin = app
        .login_as("admin", UserKind::Staff, None, &[StaffRole::Administrator])
        .await;
    let created = admin
        .post(
            "/api/v1/users",
            &json!({"username": "nouveau", "display_name": "Nouveau", "kind": "staff"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let password = created.body["one_time_password"].as_str().unwrap();
    app.clock.advance_ms(72 * 3_600_000);
    assert!(app.login("nouveau", password).await.is_ok(), "72 h: still");
    app.clock.advance_ms(1);
    let (status, body) = app.login("nouveau", password).await.err().unwrap();
    assert_eq!(
        (status, body["error"]["code"].as_str().unwrap()),
        (StatusCode::UNAUTHORIZED, "one_time_password_expired")
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("demandez-en un nouveau"),
        "{body}"
    );
    // A reset gives a new one, good for 72 h from now.
    let admin = app.login("admin", PASSWORD).await.unwrap();
    let reset = admin
        .post("/api/v1/users/nouveau/password", &json!({}))
        .await;
    let password = reset.body["one_time_password"].as_str().unwrap();
    assert!(app.login("nouveau", password).await.is_ok());
    app.finish().await;
}

/// Issue 23, item 11: the password rule refuses common and breached passwords (the bundled
/// list, French ones included) and trivial ones, with a French message.
#[tokio::test]
async fn the_password_rule_refuses_common_and_trivial_passwords() {
    let app = TestApp::spawn().await;
    let session = app
        .login_as("j.dupont", UserKind::Staff, None, &[StaffRole::Technician])
        .await;
    for (weak, why) in [
        ("MotDePasse2024!", "trop courant"),
        ("azertyuiop123", "trop courant"),
        ("Soleil123456", "trop courant"),
        ("P@ssw0rd1234", "trop courant"),
        ("aaaaaaaaaaaaaa", "un seul caractère"),
        ("123456789012", "suite"),
        ("bonjourbonjour", "motif"),
        ("dupont-le-technicien", "identifiant"),
    ] {
        let reply = session
            .post(
                "/api/v1/auth/password",
                &json!({"current_password": PASSWORD, "new_password": weak}),
            )
            .await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "weak_password"),
            "{weak}"
        );
        let message = reply.body["error"]["message"].as_str().unwrap();
        assert!(message.contains(why), "{weak}: {message}");
    }
    // The session still works: nothing was changed.
    assert_eq!(session.get("/api/v1/auth/me").await.status, StatusCode::OK);
    app.finish().await;
}

/// Issue 23, item 11: users see their own sessions (never a secret) and end them.
#[tokio::test]
async fn users_see_and_end_their_own_sessions() {
    let app = TestApp::spawn().await;
    staff(&app, "tech").await;
    staff(&app, "autre").await;
    let mut sessions = Vec::new();
    for agent in ["Firefox au bureau", "Téléphone"] {
        let (status, _, _, cookies) =
            login_with(&app, "tech", PASSWORD, &[("user-agent", agent)]).await;
        assert_eq!(status, StatusCode::OK);
        sessions.push(Session {
            app: &app,
            auth: Auth::Cookie(cookies[0].clone()),
        });
        app.clock.advance_ms(60_000);
    }
    let [office, phone] = [sessions[0].clone(), sessions[1].clone()];
    let listed = phone.get("/api/v1/me/sessions").await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    let items = listed.body.as_array().unwrap();
    assert_eq!(items.len(), 2, "{items:#?}");
    assert_eq!(items[0]["user_agent"], "Téléphone");
    assert_eq!(items[0]["current"], true);
    assert_eq!(items[1]["user_agent"], "Firefox au bureau");
    assert_eq!(items[1]["current"], false);
    assert_eq!(items[1]["address"], "127.0.0.1");
    assert_eq!(items[1]["created_ms"], crate::NOW);
    for item in items {
        let keys: Vec<_> = item.as_object().unwrap().keys().cloned().collect();
        assert_eq!(
            keys,
            [
                "address",
                "created_ms",
                "current",
                "expires_ms",
                "id",
                "last_seen_ms",
                "user_agent"
            ]
        );
    }
    let office_id = items[1]["id"].as_str().unwrap().to_string();
    // Another user cannot end it: 404, as for an id that does not exist.
    let (_, _, _, cookies) = login_with(&app, "autre", PASSWORD, &[]).await;
    let other = Session {
        app: &app,
        auth: Auth::Cookie(cookies[0].clone()),
    };
    let refused = other
        .delete(&format!("/api/v1/me/sessions/{office_id}"))
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    assert_eq!(office.get("/api/v1/auth/me").await.status, StatusCode::OK);
    // Its owner can.
    let ended = phone
        .delete(&format!("/api/v1/me/sessions/{office_id}"))
        .await;
    assert_eq!(ended.status, StatusCode::NO_CONTENT);
    assert_eq!(
        office.get("/api/v1/auth/me").await.status,
        StatusCode::UNAUTHORIZED
    );
    // "End all the others".
    let (_, _, _, cookies) = login_with(&app, "tech", PASSWORD, &[]).await;
    let third = Session {
        app: &app,
        auth: Auth::Cookie(cookies[0].clone()),
    };
    let others = phone.delete("/api/v1/me/sessions").await;
    assert_eq!(others.status, StatusCode::OK, "{}", others.text);
    assert_eq!(others.body["ended"], 1);
    assert_eq!(
        third.get("/api/v1/auth/me").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(phone.get("/api/v1/auth/me").await.status, StatusCode::OK);
    // A token has no session to list.
    let token = app.token("tech", TokenScope::ReadOnly).await;
    assert_eq!(
        token.get("/api/v1/me/sessions").await.status,
        StatusCode::FORBIDDEN
    );
    app.finish().await;
}

/// Issue 23, item 11: under https the session cookie carries the `__Host-` prefix (and only
/// that name opens a session); over plain http it keeps its plain name.
#[tokio::test]
async fn the_session_cookie_carries_the_host_prefix_under_https() {
    let app =
        TestApp::spawn_with(|c| c.server.public_url = "https://vigie.example.fr".into()).await;
    staff(&app, "tech").await;
    let (status, _, _, cookies) = login_with(&app, "tech", PASSWORD, &[]).await;
    assert_eq!(status, StatusCode::OK);
    let session = &cookies[0];
    assert!(session.starts_with("__Host-vigie_session="), "{cookies:?}");
    assert!(
        cookies[1].starts_with("__Host-vigie_appareil="),
        "{cookies:?}"
    );
    let prefixed = Session {
        app: &app,
        auth: Auth::Cookie(session.clone()),
    };
    assert_eq!(prefixed.get("/api/v1/auth/me").await.status, StatusCode::OK);
    let plain = Session {
        app: &app,
        auth: Auth::Cookie(session.replace("__Host-", "")),
    };
    assert_eq!(
        plain.get("/api/v1/auth/me").await.status,
        StatusCode::UNAUTHORIZED
    );
    let logout = prefixed
        .request(reqwest::Method::POST, "/api/v1/auth/logout", None)
        .await;
    let cleared = logout.headers["set-cookie"].to_str().unwrap();
    assert!(
        cleared.starts_with("__Host-vigie_session=;") && cleared.contains("; Secure"),
        "{cleared}"
    );
    app.finish().await;

    let app = TestApp::spawn().await;
    staff(&app, "tech").await;
    let (_, _, _, cookies) = login_with(&app, "tech", PASSWORD, &[]).await;
    assert!(cookies[0].starts_with("vigie_session="), "{cookies:?}");
    app.finish().await;
}

/// Issue 23, item 11: a password change (by the user, or an administrator's reset) queues an
/// email notice to the account's address (its staff record's) in the outbox, beside its
/// audit entry.
#[tokio::test]
async fn a_password_change_sends_a_notice_to_the_account() {
    let app = TestApp::spawn().await;
    app.import_fleet().await;
    let admin = app
        .login_as("admin", UserKind::Staff, None, &[StaffRole::Administrator])
        .await;
    let new = vigie_store::NewUser {
        username: "b.lemaire".into(),
        display_name: "Bruno Lemaire".into(),
        kind: UserKind::Staff,
        staff: Some(vigie_domain::Reference::parse("ST-DIRECTION-TECH").unwrap()),
        client: None,
        roles: Default::default(),
        password_hash: vigie_server::auth::hash_password(PASSWORD),
        must_change_password: false,
    };
    app.store
        .create_user(
            &vigie_domain::access::Actor::console("test"),
            new,
            crate::NOW,
        )
        .await
        .unwrap();
    let session = app.login("b.lemaire", PASSWORD).await.unwrap();
    let changed = session
        .post(
            "/api/v1/auth/password",
            &json!({"current_password": PASSWORD, "new_password": "girafe orageuse du dimanche"}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    app.clock.advance_ms(60_000);
    let reset = admin
        .post("/api/v1/users/b.lemaire/password", &json!({}))
        .await;
    assert_eq!(reset.status, StatusCode::OK);

    let outbox = admin.get("/api/v1/notifications").await;
    assert_eq!(outbox.status, StatusCode::OK, "{}", outbox.text);
    let notices: Vec<&Value> = outbox.body["items"]
        .as_array()
        .unwrap_or_else(|| outbox.body.as_array().unwrap())
        .iter()
        .filter(|n| n["step"] == "password_changed")
        .collect();
    assert_eq!(notices.len(), 2, "{}", outbox.text);
    for notice in &notices {
        assert_eq!(notice["channel"], "email");
        assert_eq!(notice["address"], "b.lemaire@integrateur-exemple.fr");
        assert_eq!(notice["recipient"], "b.lemaire");
    }
    let record: vigie_store::Outgoing = {
        let claimed = app
            .store
            .notification(notices[1]["id"].as_i64().unwrap())
            .await
            .unwrap()
            .unwrap();
        claimed.outgoing
    };
    let vigie_store::Outgoing::Account(mail) = record else {
        panic!("an account notice");
    };
    assert!(mail.subject.contains("mot de passe"), "{}", mail.subject);
    assert!(
        mail.text
            .contains("« b.lemaire » a été changé depuis votre session"),
        "{}",
        mail.text
    );
    assert!(
        mail.text
            .contains("prévenez sans attendre un administrateur")
    );
    // The changes are in the audit trail too.
    let trail = admin
        .get("/api/v1/audit?object_kind=user&object_ref=b.lemaire")
        .await;
    assert_eq!(
        trail.body["items"].as_array().unwrap().len(),
        3,
        "{}",
        trail.text
    );
    app.finish().await;
}
