//! Migrations, one list per backend, applied at start in order, each in its own transaction.
//! On PostgreSQL an advisory lock makes several processes starting together apply them once.
//! Each applied migration's SHA-256 is recorded: a file changed after it was applied (so the
//! schema of this database is not the one the code expects) stops the start with its name.

use sqlx::Connection;

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
    (
        16,
        "wall_views",
        include_str!("../migrations/sqlite/0016_wall_views.sql"),
    ),
    (
        17,
        "equipment_counts",
        include_str!("../migrations/sqlite/0017_equipment_counts.sql"),
    ),
    (
        18,
        "mail_discard",
        include_str!("../migrations/sqlite/0018_mail_discard.sql"),
    ),
    (
        19,
        "one_off_windows",
        include_str!("../migrations/sqlite/0019_one_off_windows.sql"),
    ),
    (
        20,
        "territories",
        include_str!("../migrations/sqlite/0020_territories.sql"),
    ),
    (
        21,
        "notification_skipped",
        include_str!("../migrations/sqlite/0021_notification_skipped.sql"),
    ),
    (
        22,
        "policy_versions",
        include_str!("../migrations/sqlite/0022_policy_versions.sql"),
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
    (
        16,
        "wall_views",
        include_str!("../migrations/postgres/0016_wall_views.sql"),
    ),
    (
        17,
        "equipment_counts",
        include_str!("../migrations/postgres/0017_equipment_counts.sql"),
    ),
    (
        18,
        "mail_discard",
        include_str!("../migrations/postgres/0018_mail_discard.sql"),
    ),
    (
        19,
        "one_off_windows",
        include_str!("../migrations/postgres/0019_one_off_windows.sql"),
    ),
    (
        20,
        "territories",
        include_str!("../migrations/postgres/0020_territories.sql"),
    ),
    (
        21,
        "notification_skipped",
        include_str!("../migrations/postgres/0021_notification_skipped.sql"),
    ),
    (
        22,
        "policy_versions",
        include_str!("../migrations/postgres/0022_policy_versions.sql"),
    ),
];

/// Arbitrary, fixed key of the PostgreSQL advisory lock taken while migrating.
const MIGRATION_LOCK_KEY: i64 = 0x5649_4749_4500;

pub(crate) async fn apply(store: &Store) -> Result<(), StoreError> {
    let migrations = match store.backend {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    };
    let mut connection = store.write.acquire().await?;
    if store.backend == Backend::Postgres {
        sqlx::query(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
            .execute(&mut *connection)
            .await?;
    }
    let result = async {
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS vigie_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_ms BIGINT NOT NULL)",
        )
        .execute(&mut *connection)
        .await?;
        add_checksum_column(&mut connection).await?;
        let applied: Vec<(i64, Option<String>)> = sqlx::query_as("SELECT version, checksum FROM vigie_migrations").fetch_all(&mut *connection).await?;
        let newest_known = migrations.last().map(|m| m.0).unwrap_or(0);
        if let Some(newest) = applied.iter().map(|(v, _)| *v).max()
            && newest > newest_known
        {
            return Err(StoreError::Invalid(format!(
                "la base a été migrée par une version plus récente de Vigie (migration {newest}, celle-ci connaît jusqu'à {newest_known})"
            )));
        }
        for (version, name, sql) in migrations {
            let checksum = checksum(sql);
            if let Some((_, recorded)) = applied.iter().find(|(v, _)| v == version) {
                match recorded {
                    Some(recorded) if *recorded != checksum => {
                        return Err(StoreError::Invalid(format!(
                            "la migration {version} ({name}) a changé depuis qu'elle a été appliquée à cette base : le schéma de la base n'est pas celui qu'attend cette version de Vigie (une migration appliquée ne se modifie pas ; ajoutez-en une)"
                        )));
                    }
                    Some(_) => {}
                    // Applied before checksums were recorded: this file's is taken as its.
                    None => {
                        sqlx::query("UPDATE vigie_migrations SET checksum = $1 WHERE version = $2")
                            .bind(checksum)
                            .bind(*version)
                            .execute(&mut *connection)
                            .await?;
                    }
                }
                continue;
            }
            let mut transaction = connection.begin().await?;
            sqlx::raw_sql(sql).execute(&mut *transaction).await.map_err(|e| {
                StoreError::Other(anyhow::anyhow!("migration {version} ({name}) : {e}"))
            })?;
            sqlx::query("INSERT INTO vigie_migrations (version, name, applied_ms, checksum) VALUES ($1, $2, $3, $4)")
                .bind(*version)
                .bind(*name)
                .bind(now_ms())
                .bind(checksum)
                .execute(&mut *transaction)
                .await?;
            transaction.commit().await?;
            tracing::info!(version, name, "migration appliquée");
        }
        Ok(())
    }
    .await;
    if store.backend == Backend::Postgres {
        sqlx::query(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
            .execute(&mut *connection)
            .await?;
    }
    result
}

/// A migration's SHA-256, in hex.
fn checksum(sql: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(sql.as_bytes()))
}

/// The `checksum` column, added to a table made before checksums were recorded.
async fn add_checksum_column(connection: &mut sqlx::AnyConnection) -> Result<(), StoreError> {
    let probe = sqlx::query("SELECT checksum FROM vigie_migrations LIMIT 1")
        .fetch_optional(&mut *connection)
        .await;
    if probe.is_ok() {
        return Ok(());
    }
    sqlx::query("ALTER TABLE vigie_migrations ADD COLUMN checksum TEXT")
        .execute(&mut *connection)
        .await?;
    Ok(())
}

/// The wall clock, read here only to stamp when a migration ran (not domain time).
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
