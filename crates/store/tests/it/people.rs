//! Users, sessions, tokens and login throttling in the store.

use vigie_domain::access::{Permission, TokenScope, Visibility};
use vigie_domain::inventory::StaffRole;
use vigie_store::System;
use vigie_store::{
    AuditFilter, LoginLimit, NewToken, NewUser, SessionOrigin, StoreError, TOKEN_CACHE_MS, UserKind,
};

use crate::{NOW, admin, client_user, conformance, reference, seed};

conformance!(
    users_sessions_and_password_changes,
    tokens_are_scoped_and_revocable,
    login_failures_are_counted_in_a_window,
    a_probe_token_is_bound_to_one_site,
    disabled_accounts_keep_no_session_and_no_token,
    own_sessions_are_listed_and_ended_by_their_id,
    an_accounts_failures_back_off_to_a_cap,
);

fn new_user(username: &str, kind: UserKind, client: Option<&str>) -> NewUser {
    NewUser {
        username: username.into(),
        display_name: "Quelqu'un".into(),
        kind,
        staff: None,
        client: client.map(reference),
        roles: if kind == UserKind::Staff {
            [StaffRole::Supervision].into()
        } else {
            Default::default()
        },
        password_hash: "hash-1".into(),
        must_change_password: true,
    }
}

fn new_token(username: &str, name: &str, scope: TokenScope, expires_ms: Option<i64>) -> NewToken {
    NewToken {
        username: username.into(),
        name: name.into(),
        scope,
        site: None,
        expires_ms,
    }
}

async fn users_sessions_and_password_changes(store: System, _: String) {
    seed(&store).await;
    let user = store
        .create_user(
            &admin(),
            new_user("c.martin", UserKind::Client, Some("CLI-A")),
            NOW,
        )
        .await
        .unwrap();
    assert!(user.must_change_password);
    assert!(matches!(
        store
            .create_user(
                &admin(),
                new_user("c.martin", UserKind::Client, Some("CLI-A")),
                NOW
            )
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store
            .create_user(&admin(), new_user("x", UserKind::Client, None), NOW)
            .await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store
            .create_user(&admin(), new_user("Bad Name", UserKind::Staff, None), NOW)
            .await,
        Err(StoreError::Invalid(_))
    ));
    // Only administrators create users.
    assert!(matches!(
        store
            .create_user(
                &client_user("CLI-A"),
                new_user("y.z", UserKind::Client, Some("CLI-A")),
                NOW
            )
            .await,
        Err(StoreError::Forbidden(_))
    ));

    let (_, hash) = store.user_for_login("c.martin").await.unwrap().unwrap();
    assert_eq!(hash, "hash-1");
    store
        .create_session("c.martin", "session-1", NOW, NOW + 3_600_000)
        .await
        .unwrap();
    let session = store
        .session_user("session-1", NOW + 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        session.actor.visibility().client().map(|c| c.as_str()),
        Some("CLI-A")
    );
    assert!(
        store
            .session_user("session-1", NOW + 3_600_000)
            .await
            .unwrap()
            .is_none(),
        "expired"
    );

    // A password change revokes every session of the user.
    store
        .set_password(&session.actor, "c.martin", "hash-2", false, NOW + 2)
        .await
        .unwrap();
    assert!(
        store
            .session_user("session-1", NOW + 3)
            .await
            .unwrap()
            .is_none()
    );
    let (user, hash) = store.user_for_login("c.martin").await.unwrap().unwrap();
    assert_eq!(
        (hash.as_str(), user.must_change_password),
        ("hash-2", false)
    );
    // Nobody else's password can be changed without the administrator role.
    assert!(matches!(
        store
            .set_password(&session.actor, "someone", "h", false, NOW)
            .await,
        Err(StoreError::Forbidden(_))
    ));

    // The audit trail records the account changes without any hash.
    let trail = store
        .audit_trail(
            &admin(),
            &AuditFilter {
                object_kind: Some("user".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(trail.len(), 2);
    assert!(!serde_json::to_string(&trail).unwrap().contains("hash-"));
}

async fn tokens_are_scoped_and_revocable(store: System, url: String) {
    seed(&store).await;
    store
        .create_user(
            &admin(),
            new_user("integration", UserKind::Staff, None),
            NOW,
        )
        .await
        .unwrap();
    let token = store
        .create_token(
            &admin(),
            &new_token(
                "integration",
                "GMAO",
                TokenScope::ReadOnly,
                Some(NOW + 1000),
            ),
            "tok1",
            "secret-hash-1",
            NOW,
        )
        .await
        .unwrap();
    assert_eq!(token.scope, TokenScope::ReadOnly);
    let (_, _, actor) = store
        .token_actor("secret-hash-1", NOW + 1)
        .await
        .unwrap()
        .unwrap();
    assert!(actor.may(Permission::ReadInventory));
    assert!(
        !actor.may(Permission::WriteInventory),
        "a read-only token writes nothing, whatever its holder may do"
    );
    assert!(
        store
            .token_actor("secret-hash-1", NOW + 1000)
            .await
            .unwrap()
            .is_none(),
        "expired"
    );
    assert!(store.token_actor("unknown", NOW).await.unwrap().is_none());

    store
        .create_token(
            &admin(),
            &new_token("integration", "Agent NVR", TokenScope::Agent, None),
            "tok2",
            "secret-hash-2",
            NOW,
        )
        .await
        .unwrap();
    // Another process on the same database (PostgreSQL), and this one, both read the token.
    let other = System::open(&url).await.unwrap();
    for store in [&store, &other] {
        assert!(
            store
                .token_actor("secret-hash-2", NOW + 1)
                .await
                .unwrap()
                .is_some()
        );
    }
    store.revoke_token(&admin(), "tok2", NOW + 5).await.unwrap();
    // The other process trusts what it read for TOKEN_CACHE_MS at most, then reads again.
    let cached = other
        .token_actor("secret-hash-2", NOW + TOKEN_CACHE_MS)
        .await
        .unwrap();
    let read_again = other
        .token_actor("secret-hash-2", NOW + 1 + TOKEN_CACHE_MS)
        .await
        .unwrap();
    assert_eq!((cached.is_some(), read_again.is_some()), (true, false));
    other.close().await;
    // The process that revoked it refuses it at once, although it had just read it.
    assert!(
        store
            .token_actor("secret-hash-2", NOW + 6)
            .await
            .unwrap()
            .is_none(),
        "revoked"
    );
    let listed = store.list_tokens(&admin(), "integration").await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[1].revoked_ms, Some(NOW + 5));
    // A client user cannot revoke (nor learn of) someone else's token.
    assert!(matches!(
        store.revoke_token(&client_user("CLI-A"), "tok1", NOW).await,
        Err(StoreError::NotFound)
    ));
}

async fn login_failures_are_counted_in_a_window(store: System, _: String) {
    for i in 0..5 {
        store
            .record_login_failure("user:x", NOW + i, NOW - 900_000)
            .await
            .unwrap();
    }
    assert_eq!(
        store.login_failures("user:x", NOW - 900_000).await.unwrap(),
        (5, Some(NOW))
    );
    // Old failures are forgotten as new ones arrive, so the table stays bounded.
    store
        .record_login_failure("user:y", NOW + 1_000_000, NOW + 100)
        .await
        .unwrap();
    assert_eq!(store.login_failures("user:x", 0).await.unwrap().0, 0);
    store.clear_login_failures("user:y").await.unwrap();
    assert_eq!(store.login_failures("user:y", 0).await.unwrap().0, 0);
}

/// A probe token is bound to exactly one existing site, belongs to the integrator's staff, shows
/// its site in listings and in the audit trail (under its site's client), and through it nothing
/// of the holder's other tokens is seen or revoked.
async fn a_probe_token_is_bound_to_one_site(store: System, _: String) {
    seed(&store).await;
    store
        .create_user(&admin(), new_user("robot", UserKind::Staff, None), NOW)
        .await
        .unwrap();
    store
        .create_user(
            &admin(),
            new_user("c.martin", UserKind::Client, Some("CLI-A")),
            NOW,
        )
        .await
        .unwrap();
    let probe = |username: &str, site: Option<&str>| NewToken {
        site: site.map(reference),
        ..new_token(username, "sonde Paris", TokenScope::Probe, None)
    };
    let refused = |result: Result<vigie_store::TokenInfo, StoreError>, words: &str| match result {
        Err(StoreError::Invalid(message)) => {
            assert!(message.contains(words), "{message}")
        }
        other => panic!("{other:?}"),
    };
    refused(
        store
            .create_token(&admin(), &probe("robot", None), "p0", "h-p0", NOW)
            .await,
        "indiquez le site",
    );
    refused(
        store
            .create_token(
                &admin(),
                &NewToken {
                    site: Some(reference("A-PARIS")),
                    ..new_token("robot", "agent", TokenScope::Agent, None)
                },
                "a0",
                "h-a0",
                NOW,
            )
            .await,
        "seul un jeton de portée « probe »",
    );
    refused(
        store
            .create_token(&admin(), &probe("robot", Some("NOPE")), "p1", "h-p1", NOW)
            .await,
        "« NOPE » inconnu",
    );
    refused(
        store
            .create_token(
                &admin(),
                &probe("c.martin", Some("A-PARIS")),
                "p2",
                "h-p2",
                NOW,
            )
            .await,
        "personnel de l'intégrateur",
    );
    assert!(
        store
            .list_tokens(&admin(), "robot")
            .await
            .unwrap()
            .is_empty()
    );

    let token = store
        .create_token(
            &admin(),
            &probe("robot", Some("A-PARIS")),
            "p3",
            "h-p3",
            NOW,
        )
        .await
        .unwrap();
    assert_eq!(token.site, Some(reference("A-PARIS")));
    let listed = store.list_tokens(&admin(), "robot").await.unwrap();
    assert_eq!(listed, std::slice::from_ref(&token));
    assert_eq!(serde_json::to_value(&listed[0]).unwrap()["site"], "A-PARIS");
    let (_, _, actor) = store.token_actor("h-p3", NOW).await.unwrap().unwrap();
    assert_eq!(
        actor.visibility(),
        Visibility::OneSite {
            client: reference("CLI-A"),
            site: reference("A-PARIS")
        }
    );
    let trail = store
        .audit_trail(
            &admin(),
            &AuditFilter {
                object_kind: Some("token".into()),
                client: Some("CLI-A".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(trail.len(), 1, "{trail:?}");
    assert_eq!(trail[0].object_ref, "p3");
    assert_eq!(trail[0].after.as_ref().unwrap()["site"], "A-PARIS");

    // Through it, the holder's other tokens are neither listed nor revoked.
    store
        .create_token(&admin(), &probe("robot", Some("B-LYON")), "p4", "h-p4", NOW)
        .await
        .unwrap();
    assert!(matches!(
        store.list_tokens(&actor, "robot").await,
        Err(StoreError::Forbidden(_))
    ));
    assert!(matches!(
        store.revoke_token(&actor, "p4", NOW).await,
        Err(StoreError::NotFound)
    ));
    assert!(store.token_actor("h-p4", NOW).await.unwrap().is_some());
    // Its revocation is in its site's client's trail too.
    store.revoke_token(&admin(), "p3", NOW + 1).await.unwrap();
    let trail = store
        .audit_trail(
            &admin(),
            &AuditFilter {
                object_ref: Some("p3".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        trail
            .iter()
            .map(|e| e.client.as_deref())
            .collect::<Vec<_>>(),
        [Some("CLI-A"), Some("CLI-A")]
    );
}

/// Issue 23, item 11: a disabled account is kept, its sessions end and its tokens are revoked
/// (enabling it again does not revive them); only administrators, never their own account.
async fn disabled_accounts_keep_no_session_and_no_token(store: System, _: String) {
    seed(&store).await;
    store
        .create_user(&admin(), new_user("s.leroy", UserKind::Staff, None), NOW)
        .await
        .unwrap();
    store
        .create_session("s.leroy", "session-1", NOW, NOW + 3_600_000)
        .await
        .unwrap();
    store
        .create_token(
            &admin(),
            &new_token("s.leroy", "agent", TokenScope::Agent, None),
            "tok1",
            "secret-1",
            NOW,
        )
        .await
        .unwrap();
    let session = store.session_user("session-1", NOW).await.unwrap().unwrap();
    assert!(matches!(
        store
            .set_disabled(&session.actor, "s.leroy", true, NOW)
            .await,
        Err(StoreError::Forbidden(_))
    ));
    let disabled = store
        .set_disabled(&admin(), "s.leroy", true, NOW + 1)
        .await
        .unwrap();
    assert_eq!(disabled.disabled_ms, Some(NOW + 1));
    assert!(
        store
            .session_user("session-1", NOW + 2)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .token_actor("secret-1", NOW + 2)
            .await
            .unwrap()
            .is_none()
    );
    let enabled = store
        .set_disabled(&admin(), "s.leroy", false, NOW + 3)
        .await
        .unwrap();
    assert_eq!(enabled.disabled_ms, None);
    assert!(
        store
            .token_actor("secret-1", NOW + 4)
            .await
            .unwrap()
            .is_none()
    );
    let tokens = store.list_tokens(&admin(), "s.leroy").await.unwrap();
    assert_eq!(tokens[0].revoked_ms, Some(NOW + 1));
    assert!(matches!(
        store.set_disabled(&admin(), "personne", true, NOW).await,
        Err(StoreError::NotFound)
    ));
}

/// Issue 23, item 11: sessions carry an opaque id, where they came from and when they were
/// last seen; their user ends one by its id, or all but the current one.
async fn own_sessions_are_listed_and_ended_by_their_id(store: System, _: String) {
    seed(&store).await;
    for name in ["s.leroy", "autre"] {
        store
            .create_user(&admin(), new_user(name, UserKind::Staff, None), NOW)
            .await
            .unwrap();
    }
    let origin = SessionOrigin {
        address: Some("192.0.2.1".into()),
        user_agent: Some("Navigateur".into()),
    };
    for (n, hash) in ["h1", "h2", "h3"].iter().enumerate() {
        store
            .create_session_from("s.leroy", hash, NOW + n as i64, NOW + 3_600_000, &origin)
            .await
            .unwrap();
    }
    let listed = store
        .sessions_of("s.leroy", Some("h3"), NOW + 10)
        .await
        .unwrap();
    assert_eq!(listed.len(), 3);
    assert!(listed[0].current && !listed[1].current);
    assert_eq!(listed[2].address.as_deref(), Some("192.0.2.1"));
    assert_eq!(listed[2].user_agent.as_deref(), Some("Navigateur"));
    assert_eq!(listed[0].id.len(), 16);
    assert!(!serde_json::to_string(&listed).unwrap().contains("h1"));
    assert!(matches!(
        store.end_session("autre", &listed[2].id).await,
        Err(StoreError::NotFound)
    ));
    store.end_session("s.leroy", &listed[2].id).await.unwrap();
    assert!(store.session_user("h1", NOW + 11).await.unwrap().is_none());
    assert_eq!(store.end_other_sessions("s.leroy", "h3").await.unwrap(), 1);
    assert!(store.session_user("h2", NOW + 12).await.unwrap().is_none());
    assert!(store.session_user("h3", NOW + 12).await.unwrap().is_some());
}

/// Issue 23, item 10: past its free failures an account waits after its last failure, the
/// wait doubling up to a cap; an address's window refuses until its oldest failure leaves.
async fn an_accounts_failures_back_off_to_a_cap(store: System, _: String) {
    let backoff = LoginLimit::Backoff {
        free_failures: 2,
        first_delay_ms: 1_000,
        max_delay_ms: 3_000,
        memory_ms: 86_400_000,
    };
    let mut now = NOW;
    for _ in 0..2 {
        assert!(
            store
                .reserve_login_attempt(&[("user:x", backoff)], now)
                .await
                .unwrap()
                .is_ok()
        );
    }
    for wait in [1_000, 2_000, 3_000, 3_000] {
        assert_eq!(
            store
                .reserve_login_attempt(&[("user:x", backoff)], now)
                .await
                .unwrap(),
            Err(now + wait)
        );
        now += wait;
        assert!(
            store
                .reserve_login_attempt(&[("user:x", backoff)], now)
                .await
                .unwrap()
                .is_ok()
        );
    }
    let window = LoginLimit::Window {
        failures: 1,
        window_ms: 60_000,
    };
    assert!(
        store
            .reserve_login_attempt(&[("address:a", window)], NOW)
            .await
            .unwrap()
            .is_ok()
    );
    assert_eq!(
        store
            .reserve_login_attempt(&[("address:a", window)], NOW + 5)
            .await
            .unwrap(),
        Err(NOW + 60_000)
    );
}
