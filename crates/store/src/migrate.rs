//! Migrations, one list per backend, applied at start in order, each in its own transaction.
//! On PostgreSQL an advisory lock makes several processes starting together apply them once.

use sqlx::Connection;

use crate::error::from_sqlx;
use crate::{Backend, Store, StoreError};

/// (version, name, SQL). Versions only grow; an applied migration is never edited.
type Migration = (i64, &'static str, &'static str);

const SQLITE: &[Migration] = &[
    (
        1,
        "foundation",
        include_str!("../migrations/sqlite/0001_foundation.sql"),
    ),
    (
        2,
        "supervision",
        include_str!("../migrations/sqlite/0002_supervision.sql"),
    ),
    (
        3,
        "probe_token_site",
        include_str!("../migrations/sqlite/0003_probe_token_site.sql"),
    ),
    (
        4,
        "alarms",
        include_str!("../migrations/sqlite/0004_alarms.sql"),
    ),
    (
        5,
        "notifications",
        include_str!("../migrations/sqlite/0005_notifications.sql"),
    ),
    (
        6,
        "tickets",
        include_str!("../migrations/sqlite/0006_tickets.sql"),
    ),
    (
        7,
        "ticket_messages",
        include_str!("../migrations/sqlite/0007_ticket_messages.sql"),
    ),
    (
        8,
        "mail",
        include_str!("../migrations/sqlite/0008_mail.sql"),
    ),
    (
        9,
        "documents",
        include_str!("../migrations/sqlite/0009_documents.sql"),
    ),
    (
        10,
        "pages",
        include_str!("../migrations/sqlite/0010_pages.sql"),
    ),
    (
        11,
        "down_states",
        include_str!("../migrations/sqlite/0011_down_states.sql"),
    ),
    (
        12,
        "wall",
        include_str!("../migrations/sqlite/0012_wall.sql"),
    ),
    (
        13,
        "reports",
        include_str!("../migrations/sqlite/0013_reports.sql"),
    ),
    (
        14,
        "ticket_alarms",
        include_str!("../migrations/sqlite/0014_ticket_alarms.sql"),
    ),
    (
        15,
        "accounts",
        include_str!("../migrations/sqlite/0015_accounts.sql"),
    ),
];
const POSTGRES: &[Migration] = &[
    (
        1,
        "foundation",
        include_str!("../migrations/postgres/0001_foundation.sql"),
    ),
    (
        2,
        "supervision",
        include_str!("../migrations/postgres/0002_supervision.sql"),
    ),
    (
        3,
        "probe_token_site",
        include_str!("../migrations/postgres/0003_probe_token_site.sql"),
    ),
    (
        4,
        "alarms",
        include_str!("../migrations/postgres/0004_alarms.sql"),
    ),
    (
        5,
        "notifications",
        include_str!("../migrations/postgres/0005_notifications.sql"),
    ),
    (
        6,
        "tickets",
        include_str!("../migrations/postgres/0006_tickets.sql"),
    ),
    (
        7,
        "ticket_messages",
        include_str!("../migrations/postgres/0007_ticket_messages.sql"),
    ),
    (
        8,
        "mail",
        include_str!("../migrations/postgres/0008_mail.sql"),
    ),
    (
        9,
        "documents",
        include_str!("../migrations/postgres/0009_documents.sql"),
    ),
    (
        10,
        "pages",
        include_str!("../migrations/postgres/0010_pages.sql"),
    ),
    (
        11,
        "down_states",
        include_str!("../migrations/postgres/0011_down_states.sql"),
    ),
    (
        12,
        "wall",
        include_str!("../migrations/postgres/0012_wall.sql"),
    ),
    (
        13,
        "reports",
        include_str!("../migrations/postgres/0013_reports.sql"),
    ),
    (
        14,
        "ticket_alarms",
        include_str!("../migrations/postgres/0014_ticket_alarms.sql"),
    ),
    (
        15,
        "accounts",
        include_str!("../migrations/postgres/0015_accounts.sql"),
    ),
];

/// Arbitrary, fixed key of the PostgreSQL advisory lock taken while migrating.
const MIGRATION_LOCK_KEY: i64 = 0x5649_4749_4500;

pub(crate) async fn apply(store: &Store) -> Result<(), StoreError> {
    let migrations = match store.backend {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    };
    let mut connection = store.write.acquire().await.map_err(from_sqlx)?;
    if store.backend == Backend::Postgres {
        sqlx::query(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
            .execute(&mut *connection)
            .await
            .map_err(from_sqlx)?;
    }
    let result = async {
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS vigie_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_ms BIGINT NOT NULL)",
        )
        .execute(&mut *connection)
        .await
        .map_err(from_sqlx)?;
        let applied: Vec<(i64,)> = sqlx::query_as("SELECT version FROM vigie_migrations").fetch_all(&mut *connection).await.map_err(from_sqlx)?;
        let newest_known = migrations.last().map(|m| m.0).unwrap_or(0);
        if let Some((newest,)) = applied.iter().max()
            && *newest > newest_known
        {
            return Err(StoreError::Invalid(format!(
                "la base a été migrée par une version plus récente de Vigie (migration {newest}, celle-ci connaît jusqu'à {newest_known})"
            )));
        }
        for (version, name, sql) in migrations {
            if applied.iter().any(|(v,)| v == version) {
                continue;
            }
            let mut transaction = connection.begin().await.map_err(from_sqlx)?;
            sqlx::raw_sql(sql).execute(&mut *transaction).await.map_err(|e| {
                StoreError::Other(anyhow::anyhow!("migration {version} ({name}) : {e}"))
            })?;
            sqlx::query("INSERT INTO vigie_migrations (version, name, applied_ms) VALUES ($1, $2, $3)")
                .bind(*version)
                .bind(*name)
                .bind(now_ms())
                .execute(&mut *transaction)
                .await
                .map_err(from_sqlx)?;
            transaction.commit().await.map_err(from_sqlx)?;
            tracing::info!(version, name, "migration appliquée");
        }
        Ok(())
    }
    .await;
    if store.backend == Backend::Postgres {
        sqlx::query(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
            .execute(&mut *connection)
            .await
            .map_err(from_sqlx)?;
    }
    result
}

/// The wall clock, read here only to stamp when a migration ran (not domain time).
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
