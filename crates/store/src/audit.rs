//! The audit trail in the store: appended in the same transaction as the change it records,
//! read back by staff, newest first.

use sqlx::AnyConnection;
use vigie_domain::access::{Actor, Permission};
use vigie_domain::audit::{AuditAction, AuditEntry};

use crate::inventory::require as require_permission;
use crate::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Store, StoreError};

/// One entry to append.
pub(crate) struct AuditRecord {
    pub at_ms: i64,
    pub actor: String,
    pub action: AuditAction,
    pub object_kind: &'static str,
    pub object_ref: String,
    pub client: Option<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

pub(crate) async fn append(
    connection: &mut AnyConnection,
    entry: &AuditRecord,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit (at_ms, actor, action, object_kind, object_ref, client_ref, before, after) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(entry.at_ms)
    .bind(entry.actor.clone())
    .bind(entry.action.key())
    .bind(entry.object_kind)
    .bind(entry.object_ref.clone())
    .bind(entry.client.clone())
    .bind(entry.before.as_ref().map(|v| v.to_string()))
    .bind(entry.after.as_ref().map(|v| v.to_string()))
    .execute(&mut *connection)
    .await?;
    Ok(())
}

/// Which entries to read: filters, and keyset pagination from the newest (`before_id` is the
/// smallest id of the previous page).
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub object_kind: Option<String>,
    pub object_ref: Option<String>,
    pub client: Option<String>,
    pub actor: Option<String>,
    pub before_id: Option<i64>,
    pub limit: Option<i64>,
}

type AuditRow = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

impl Store {
    /// A page of the audit trail, newest first. Staff only.
    pub async fn audit_trail(
        &self,
        actor: &Actor,
        filter: &AuditFilter,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        require_permission(actor, Permission::ReadAudit)?;
        let mut conditions = Vec::new();
        let mut texts = Vec::new();
        for (column, value) in [
            ("object_kind", &filter.object_kind),
            ("object_ref", &filter.object_ref),
            ("client_ref", &filter.client),
            ("actor", &filter.actor),
        ] {
            if let Some(value) = value {
                texts.push(value.clone());
                conditions.push(format!("{column} = ${}", texts.len()));
            }
        }
        let mut next = texts.len() + 1;
        if filter.before_id.is_some() {
            conditions.push(format!("id < ${next}"));
            next += 1;
        }
        let where_clause = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let sql = format!(
            "SELECT id, at_ms, actor, action, object_kind, object_ref, client_ref, before, after FROM audit {where_clause} ORDER BY id DESC LIMIT ${next}"
        );
        let mut query = sqlx::query_as::<_, AuditRow>(&sql);
        for text in texts {
            query = query.bind(text);
        }
        if let Some(before_id) = filter.before_id {
            query = query.bind(before_id);
        }
        query = query.bind(
            filter
                .limit
                .unwrap_or(DEFAULT_PAGE_SIZE)
                .clamp(1, MAX_PAGE_SIZE),
        );
        let rows = query.fetch_all(&self.read).await?;
        rows.into_iter()
            .map(
                |(id, at_ms, actor, action, object_kind, object_ref, client, before, after)| {
                    let json = |text: Option<String>| {
                        text.map(|t| serde_json::from_str(&t))
                            .transpose()
                            .map_err(StoreError::other)
                    };
                    Ok(AuditEntry {
                        id,
                        at_ms,
                        actor,
                        action: AuditAction::parse(&action).ok_or_else(|| {
                            StoreError::other(anyhow::anyhow!("action d'audit inconnue {action}"))
                        })?,
                        object_kind,
                        object_ref,
                        client,
                        before: json(before)?,
                        after: json(after)?,
                    })
                },
            )
            .collect()
    }
}
