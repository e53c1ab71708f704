//! What the issue asks of the storage itself: the SQLite settings, migrations applied at start
//! and re-applied harmlessly, instants stored as UTC epoch milliseconds, the append-only trail.

use sqlx::Connection;
use vigie_domain::inventory::ObjectKind;
use vigie_store::{AuditFilter, Backend, Store};

use crate::{NOW, admin, conformance, seed};

conformance!(
    migrations_apply_once_and_reopen_cleanly,
    instants_are_utc_epoch_milliseconds,
    the_audit_trail_is_append_only
);

async fn migrations_apply_once_and_reopen_cleanly(store: Store, url: String) {
    seed(&store).await;
    // A second process (or a restart) opening the same database applies nothing again.
    let again = Store::open(&url).await.unwrap();
    assert_eq!(
        again.count_objects().await.unwrap()[&ObjectKind::Equipment],
        4
    );
    again.close().await;
    if store.backend() == Backend::Sqlite {
        // WAL, synchronous=FULL (2) and foreign keys on, on every connection.
        assert_eq!(store.sqlite_pragma("journal_mode").await.unwrap(), "wal");
        assert_eq!(store.sqlite_pragma("synchronous").await.unwrap(), "2");
        assert_eq!(store.sqlite_pragma("foreign_keys").await.unwrap(), "1");
    }
}

async fn instants_are_utc_epoch_milliseconds(store: Store, url: String) {
    seed(&store).await;
    let mut site = store
        .get(&admin(), ObjectKind::Site, &crate::reference("A-PARIS"))
        .await
        .unwrap();
    if let vigie_domain::inventory::Record::Site(s) = &mut site {
        s.name = vigie_domain::Name::parse("Agence Paris Opéra").unwrap();
    }
    store.put(&admin(), site, NOW).await.unwrap();
    let mut connection = sqlx::AnyConnection::connect(&url).await.unwrap();
    let (created, updated): (i64, i64) =
        sqlx::query_as("SELECT created_ms, updated_ms FROM sites WHERE ref = 'A-PARIS'")
            .fetch_one(&mut connection)
            .await
            .unwrap();
    assert_eq!((created, updated), (1_000, NOW));
    let trail = store
        .audit_trail(
            &admin(),
            &AuditFilter {
                object_ref: Some("A-PARIS".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(trail[0].at_ms, NOW);
    connection.close().await.unwrap();
}

async fn the_audit_trail_is_append_only(store: Store, url: String) {
    seed(&store).await;
    let mut connection = sqlx::AnyConnection::connect(&url).await.unwrap();
    let update = sqlx::query("UPDATE audit SET actor = 'someone else'")
        .execute(&mut connection)
        .await;
    assert!(update.is_err(), "an audit entry was rewritten");
    let delete = sqlx::query("DELETE FROM audit")
        .execute(&mut connection)
        .await;
    assert!(delete.is_err(), "the audit trail was erased");
    connection.close().await.unwrap();
    let trail = store
        .audit_trail(
            &admin(),
            &AuditFilter {
                limit: Some(1000),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(trail.len(), 14, "one entry per object of TWO_CLIENTS");
    assert!(trail.iter().all(|e| e.actor == "console:test"));
}
