//! What the issue asks of the storage itself: the SQLite settings, migrations applied at start
//! and re-applied harmlessly, instants stored as UTC epoch milliseconds, the append-only trail.

use sqlx::Connection;
use vigie_domain::inventory::ObjectKind;
use vigie_store::System;
use vigie_store::testing::TestDatabase;
use vigie_store::{AuditFilter, Backend, ListFilter, StoreError};

use crate::{NOW, admin, conformance, seed};

conformance!(
    migrations_apply_once_and_reopen_cleanly,
    instants_are_utc_epoch_milliseconds,
    the_audit_trail_is_append_only,
    probe_tokens_from_before_sites_upgrade_to_doing_nothing,
    a_migration_changed_after_it_was_applied_stops_the_start,
    credentials_stored_in_clear_are_sealed_once_a_key_is_given,
);

/// Migration 0003 on a database where 0001 and 0002 were applied and a probe token was issued:
/// that token keeps no site and may do nothing (it used to read every client's inventory) until
/// replaced, the other tokens go on working, and the database itself refuses a site on a token
/// of another scope.
async fn probe_tokens_from_before_sites_upgrade_to_doing_nothing(store: System, _: String) {
    let backend = store.backend();
    let old = TestDatabase::create(backend).await;
    let url = match backend {
        Backend::Sqlite => format!("{}?mode=rwc", old.url),
        Backend::Postgres => old.url.clone(),
    };
    let mut connection = sqlx::AnyConnection::connect(&url).await.unwrap();
    let before: [(i64, &str, &str); 2] = match backend {
        Backend::Sqlite => [
            (
                1,
                "foundation",
                include_str!("../../migrations/sqlite/0001_foundation.sql"),
            ),
            (
                2,
                "supervision",
                include_str!("../../migrations/sqlite/0002_supervision.sql"),
            ),
        ],
        Backend::Postgres => [
            (
                1,
                "foundation",
                include_str!("../../migrations/postgres/0001_foundation.sql"),
            ),
            (
                2,
                "supervision",
                include_str!("../../migrations/postgres/0002_supervision.sql"),
            ),
        ],
    };
    sqlx::raw_sql("CREATE TABLE vigie_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_ms BIGINT NOT NULL)")
        .execute(&mut connection)
        .await
        .unwrap();
    for (version, name, sql) in before {
        sqlx::raw_sql(sql).execute(&mut connection).await.unwrap();
        sqlx::query("INSERT INTO vigie_migrations (version, name, applied_ms) VALUES ($1, $2, 0)")
            .bind(version)
            .bind(name)
            .execute(&mut connection)
            .await
            .unwrap();
    }
    sqlx::raw_sql(
        "INSERT INTO users (username, kind, display_name, roles, password_hash, must_change_password, created_ms, password_changed_ms) VALUES ('robot', 'staff', 'Robot', 'administrator', 'h', 0, 0, 0);
         INSERT INTO api_tokens (id, username, name, scope, secret_hash, created_ms) VALUES ('old-probe', 'robot', 'sonde', 'probe', 'h-probe', 0);
         INSERT INTO api_tokens (id, username, name, scope, secret_hash, created_ms) VALUES ('old-agent', 'robot', 'agent', 'agent', 'h-agent', 0);",
    )
    .execute(&mut connection)
    .await
    .unwrap();
    connection.close().await.unwrap();

    let upgraded = old.open().await;
    seed(&upgraded).await;
    let tokens = upgraded.list_tokens(&admin(), "robot").await.unwrap();
    assert_eq!(
        tokens
            .iter()
            .map(|t| (t.id.as_str(), t.site.as_ref()))
            .collect::<Vec<_>>(),
        [("old-agent", None), ("old-probe", None)]
    );
    let (_, _, probe) = upgraded.token_actor("h-probe", NOW).await.unwrap().unwrap();
    for refused in [
        upgraded
            .list(&probe, ObjectKind::Equipment, &ListFilter::default())
            .await
            .map(|_| ()),
        upgraded
            .record_observations(&probe, None, &[], NOW)
            .await
            .map(|_| ()),
    ] {
        match refused {
            Err(StoreError::Forbidden(message)) => {
                assert!(message.contains("aucun site"), "{message}")
            }
            other => panic!("{other:?}"),
        }
    }
    let (_, _, agent) = upgraded.token_actor("h-agent", NOW).await.unwrap().unwrap();
    assert!(
        upgraded
            .record_observations(&agent, None, &[], NOW)
            .await
            .is_ok()
    );
    let mut connection = sqlx::AnyConnection::connect(&old.url).await.unwrap();
    let agent_with_a_site = sqlx::raw_sql(
        "INSERT INTO api_tokens (id, username, name, scope, secret_hash, created_ms, site_ref, site_client_ref) VALUES ('x', 'robot', 'x', 'agent', 'h-x', 0, 'A-PARIS', 'CLI-A')",
    )
    .execute(&mut connection)
    .await;
    assert!(agent_with_a_site.is_err(), "a site on an agent token");
    let site_without_client = sqlx::raw_sql(
        "INSERT INTO api_tokens (id, username, name, scope, secret_hash, created_ms, site_ref) VALUES ('y', 'robot', 'y', 'probe', 'h-y', 0, 'A-PARIS')",
    )
    .execute(&mut connection)
    .await;
    assert!(site_without_client.is_err(), "a site without its client");
    connection.close().await.unwrap();
    upgraded.close().await;
    old.drop_database().await;
}

async fn migrations_apply_once_and_reopen_cleanly(store: System, url: String) {
    seed(&store).await;
    // A second process (or a restart) opening the same database applies nothing again.
    let again = System::open(&url).await.unwrap();
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

async fn instants_are_utc_epoch_milliseconds(store: System, url: String) {
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

async fn the_audit_trail_is_append_only(store: System, url: String) {
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

/// Issue 24, item 5: each applied migration's checksum is recorded; a database whose applied
/// migration differs from this version's file is refused at start, naming it, and one
/// applied before checksums were recorded gets this file's.
async fn a_migration_changed_after_it_was_applied_stops_the_start(store: System, url: String) {
    store.close().await;
    let mut connection = sqlx::AnyConnection::connect(&url).await.unwrap();
    let (recorded,): (Option<String>,) =
        sqlx::query_as("SELECT checksum FROM vigie_migrations WHERE version = 3")
            .fetch_one(&mut connection)
            .await
            .unwrap();
    let recorded = recorded.expect("une empreinte enregistrée");
    assert_eq!(recorded.len(), 64);
    // Recorded before checksums: filled in at the next start.
    sqlx::query("UPDATE vigie_migrations SET checksum = NULL WHERE version = 2")
        .execute(&mut connection)
        .await
        .unwrap();
    System::open(&url).await.unwrap().close().await;
    let (filled,): (Option<String>,) =
        sqlx::query_as("SELECT checksum FROM vigie_migrations WHERE version = 2")
            .fetch_one(&mut connection)
            .await
            .unwrap();
    assert!(filled.is_some_and(|c| c.len() == 64));
    // Another file under an applied number: refused, named.
    sqlx::query("UPDATE vigie_migrations SET checksum = 'autre' WHERE version = 3")
        .execute(&mut connection)
        .await
        .unwrap();
    connection.close().await.unwrap();
    let refused = System::open(&url).await.unwrap_err();
    assert!(
        matches!(&refused, StoreError::Invalid(message) if message.contains("migration 3 (probe_token_site) a changé")),
        "{refused}"
    );
}

/// Issue 24, item 5: the two hand-kept sets of migrations give the same schema — the same
/// tables, each with the same columns, the same nullability, the same named indexes and
/// triggers on the same events — so that they cannot drift apart unseen.
#[tokio::test]
async fn sqlite_and_postgresql_migrations_give_the_same_schema() {
    if !vigie_store::testing::backends_under_test().contains(&Backend::Postgres) {
        eprintln!("PostgreSQL absent de cette exécution : schémas non comparés");
        return;
    }
    let mut schemas = Vec::new();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let database = TestDatabase::create(backend).await;
        database.open().await.close().await;
        let url = match backend {
            Backend::Sqlite => format!("{}?mode=rw", database.url),
            Backend::Postgres => database.url.clone(),
        };
        let mut connection = sqlx::AnyConnection::connect(&url).await.unwrap();
        schemas.push(schema(backend, &mut connection).await);
        connection.close().await.unwrap();
        database.drop_database().await;
    }
    let (sqlite, postgres) = (&schemas[0], &schemas[1]);
    let only = |a: &std::collections::BTreeSet<String>, b: &std::collections::BTreeSet<String>| {
        a.difference(b).cloned().collect::<Vec<_>>()
    };
    assert!(
        sqlite == postgres,
        "seulement SQLite : {:?}\nseulement PostgreSQL : {:?}",
        only(sqlite, postgres),
        only(postgres, sqlite)
    );
}

/// `table.column null|not null`, `table index name` and `table trigger timing event` lines of
/// a migrated database. Triggers are compared by what fires them, not by name: PostgreSQL
/// can put several events on one trigger where SQLite needs one trigger per event.
async fn schema(
    backend: Backend,
    connection: &mut sqlx::AnyConnection,
) -> std::collections::BTreeSet<String> {
    let mut lines = std::collections::BTreeSet::new();
    match backend {
        Backend::Sqlite => {
            let tables: Vec<(String,)> = sqlx::query_as(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            )
            .fetch_all(&mut *connection)
            .await
            .unwrap();
            for (table,) in tables {
                let columns: Vec<(String, i64, i64)> = sqlx::query_as(&format!(
                    "SELECT name, \"notnull\", pk FROM pragma_table_info('{table}')"
                ))
                .fetch_all(&mut *connection)
                .await
                .unwrap();
                for (column, not_null, primary) in columns {
                    // A primary key is never null, said or not.
                    let null = if not_null == 1 || primary > 0 {
                        "not null"
                    } else {
                        "null"
                    };
                    lines.insert(format!("{table}.{column} {null}"));
                }
            }
            let indexes: Vec<(String, String)> = sqlx::query_as(
                "SELECT tbl_name, name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex_%'",
            )
            .fetch_all(&mut *connection)
            .await
            .unwrap();
            for (table, index) in indexes {
                lines.insert(format!("{table} index {index}"));
            }
            let triggers: Vec<(String, String)> =
                sqlx::query_as("SELECT tbl_name, sql FROM sqlite_master WHERE type = 'trigger'")
                    .fetch_all(&mut *connection)
                    .await
                    .unwrap();
            for (table, sql) in triggers {
                lines.insert(sqlite_trigger(&table, &sql));
            }
        }
        Backend::Postgres => {
            let columns: Vec<(String, String, String)> = sqlx::query_as(
                "SELECT table_name::text, column_name::text, is_nullable::text FROM information_schema.columns WHERE table_schema = 'public'",
            )
            .fetch_all(&mut *connection)
            .await
            .unwrap();
            for (table, column, nullable) in columns {
                let null = if nullable == "YES" {
                    "null"
                } else {
                    "not null"
                };
                lines.insert(format!("{table}.{column} {null}"));
            }
            let indexes: Vec<(String, String)> = sqlx::query_as(
                // The indexes written in the migrations, not those behind a primary key or a
                // unique constraint (SQLite's `sqlite_autoindex_…`).
                "SELECT t.relname::text, i.relname::text FROM pg_index x \
                 JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid \
                 JOIN pg_namespace n ON n.oid = t.relnamespace \
                 WHERE n.nspname = 'public' AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
            )
            .fetch_all(&mut *connection)
            .await
            .unwrap();
            for (table, index) in indexes {
                lines.insert(format!("{table} index {index}"));
            }
            let triggers: Vec<(String, String, String)> = sqlx::query_as(
                "SELECT event_object_table::text, action_timing::text, event_manipulation::text \
                 FROM information_schema.triggers WHERE trigger_schema = 'public'",
            )
            .fetch_all(&mut *connection)
            .await
            .unwrap();
            for (table, timing, event) in triggers {
                lines.insert(format!("{table} trigger {timing} {event}"));
            }
        }
    }
    assert!(
        lines.iter().any(|line| line.contains(" trigger ")),
        "the triggers were read: {lines:?}"
    );
    lines
}

/// `table trigger BEFORE|AFTER INSERT|UPDATE|DELETE` of SQLite's `CREATE TRIGGER` text.
fn sqlite_trigger(table: &str, sql: &str) -> String {
    let words: Vec<String> = sql.split_whitespace().map(str::to_uppercase).collect();
    let timing = words
        .iter()
        .find(|w| matches!(w.as_str(), "BEFORE" | "AFTER" | "INSTEAD"))
        .unwrap_or_else(|| panic!("trigger without a timing: {sql}"));
    let event = words
        .iter()
        .find(|w| matches!(w.as_str(), "INSERT" | "UPDATE" | "DELETE"))
        .unwrap_or_else(|| panic!("trigger without an event: {sql}"));
    format!("{table} trigger {timing} {event}")
}

/// Issue 23, item 3: a database written before its secrets were encrypted (no key) has them
/// sealed by the first start with a key, once; then they no longer read without it.
async fn credentials_stored_in_clear_are_sealed_once_a_key_is_given(store: System, url: String) {
    seed(&store).await;
    store.close().await;
    let raw_records = |url: String| async move {
        let mut connection = sqlx::AnyConnection::connect(&url).await.unwrap();
        let rows: Vec<(String,)> = sqlx::query_as("SELECT record FROM equipment")
            .fetch_all(&mut connection)
            .await
            .unwrap();
        connection.close().await.unwrap();
        rows.into_iter()
            .map(|(r,)| r)
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(raw_records(url.clone()).await.contains("s3cret"));
    let directory =
        std::env::temp_dir().join(format!("vigie-cle-{}-{}", std::process::id(), url.len()));
    std::fs::create_dir_all(&directory).unwrap();
    let key_file = directory.join("secrets.key");
    let _ = std::fs::remove_file(&key_file);
    let key = || vigie_store::secrets::SecretsKey::load_or_create(&key_file).unwrap();
    let keyed = System::open(&url).await.unwrap().with_secrets_key(key());
    keyed.check_secrets_key().await.unwrap();
    assert!(keyed.seal_stored_secrets().await.unwrap() >= 1);
    // Done once: a later start reads nothing again.
    assert_eq!(keyed.seal_stored_secrets().await.unwrap(), 0);
    let camera = crate::reference("A-CAM-1");
    let read = keyed
        .get(&admin(), ObjectKind::Equipment, &camera)
        .await
        .unwrap();
    keyed.close().await;
    assert!(
        serde_json::to_string(&read.to_json())
            .unwrap()
            .contains("s3cret")
    );
    assert!(!raw_records(url.clone()).await.contains("s3cret"));
    let keyless = System::open(&url).await.unwrap();
    assert!(matches!(
        keyless.get(&admin(), ObjectKind::Equipment, &camera).await,
        Err(StoreError::Unavailable(_))
    ));
    keyless.close().await;
    std::fs::remove_dir_all(&directory).unwrap();
}
