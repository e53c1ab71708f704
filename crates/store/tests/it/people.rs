//! Users, sessions, tokens and login throttling in the store.

use vigie_domain::access::{Permission, TokenScope};
use vigie_domain::inventory::StaffRole;
use vigie_store::{AuditFilter, NewUser, Store, StoreError, TOKEN_CACHE_MS, UserKind};

use crate::{NOW, admin, client_user, conformance, reference, seed};

conformance!(
    users_sessions_and_password_changes,
    tokens_are_scoped_and_revocable,
    login_failures_are_counted_in_a_window
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

async fn users_sessions_and_password_changes(store: Store, _: String) {
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

async fn tokens_are_scoped_and_revocable(store: Store, url: String) {
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
            "integration",
            "GMAO",
            TokenScope::ReadOnly,
            "tok1",
            "secret-hash-1",
            Some(NOW + 1000),
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
            "integration",
            "Agent NVR",
            TokenScope::Agent,
            "tok2",
            "secret-hash-2",
            None,
            NOW,
        )
        .await
        .unwrap();
    // Another process on the same database (PostgreSQL), and this one, both read the token.
    let other = Store::open(&url).await.unwrap();
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

async fn login_failures_are_counted_in_a_window(store: Store, _: String) {
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
