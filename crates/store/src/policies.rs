//! The policy's versions (issue 26, item 4): each save from the console is a new version,
//! never changed afterwards, audited; the newest is the policy in force in every process on
//! the base. The store keeps the text only: whether it reads as a policy is the server's
//! check, made before saving.

use sqlx::Row;
use vigie_domain::access::{Actor, Permission};
use vigie_domain::audit::AuditAction;

use crate::audit::AuditRecord;
use crate::inventory::{Arg, build, require};
use crate::{Store, StoreError, System};

/// The longest policy text kept: a full policy with its chains and calendars is a few
/// kilobytes.
pub const MAX_POLICY_BYTES: usize = 256 * 1024;
/// The longest note of a version.
pub const MAX_NOTE_CHARS: usize = 500;
/// The most versions one listing gives.
pub const MAX_VERSIONS_LISTED: i64 = 200;

/// One saved version of the policy.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PolicyVersion {
    pub version: i64,
    /// The TOML laid over the default policy (empty: the default itself).
    pub text: String,
    /// Who saved it, as the audit names people.
    pub by: String,
    pub at_ms: i64,
    /// Why, in the words of who saved it.
    pub note: String,
    /// The version a restoration copied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restored_from: Option<i64>,
}

fn version_of(row: &sqlx::any::AnyRow) -> Result<PolicyVersion, StoreError> {
    Ok(PolicyVersion {
        version: row.try_get("version")?,
        text: row.try_get("text")?,
        by: row.try_get("by_name")?,
        at_ms: row.try_get("at_ms")?,
        note: row.try_get("note")?,
        restored_from: row.try_get("restored_from")?,
    })
}

const COLUMNS: &str = "version, text, by_name, at_ms, note, restored_from";

impl Store {
    /// The versions, newest first, before `before` when given, at most `limit`
    /// ([`MAX_VERSIONS_LISTED`]). The integrator's staff only: a client never sees the policy.
    pub async fn policy_versions(
        &self,
        actor: &Actor,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<PolicyVersion>, StoreError> {
        require(actor, Permission::HandleAlarms)?;
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM policy_versions WHERE version < $1 ORDER BY version DESC LIMIT $2"
        ))
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit.clamp(1, MAX_VERSIONS_LISTED))
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(version_of).collect()
    }

    /// One version, if it exists (staff only).
    pub async fn policy_version(
        &self,
        actor: &Actor,
        version: i64,
    ) -> Result<Option<PolicyVersion>, StoreError> {
        require(actor, Permission::HandleAlarms)?;
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM policy_versions WHERE version = $1"
        ))
        .bind(version)
        .fetch_optional(&self.read)
        .await?;
        row.as_ref().map(version_of).transpose()
    }

    /// Saves `text` as the next version, by `actor`, with its `note` (and the version it
    /// restores), audited in the same transaction; returns its number. The caller has checked
    /// that the text reads as a policy. Two saves at once: one gets the number, the other a
    /// conflict to try again.
    pub async fn save_policy(
        &self,
        actor: &Actor,
        text: &str,
        note: &str,
        restored_from: Option<i64>,
        now: i64,
    ) -> Result<i64, StoreError> {
        require(actor, Permission::EditPolicy)?;
        if text.len() > MAX_POLICY_BYTES {
            return Err(StoreError::Invalid(format!(
                "politique de {} octets : au plus {MAX_POLICY_BYTES}",
                text.len()
            )));
        }
        let note = note.trim();
        if note.chars().count() > MAX_NOTE_CHARS {
            return Err(StoreError::Invalid(format!(
                "note de {} caractères : au plus {MAX_NOTE_CHARS}",
                note.chars().count()
            )));
        }
        let mut transaction = self.write.begin().await?;
        let (latest,): (Option<i64>,) = sqlx::query_as("SELECT MAX(version) FROM policy_versions")
            .fetch_one(&mut *transaction)
            .await?;
        let version = latest.unwrap_or(0) + 1;
        let by = actor.audit_name();
        let inserted = build(
            "INSERT INTO policy_versions (version, text, by_name, at_ms, note, restored_from) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (version) DO NOTHING",
            vec![
                Arg::Int(version),
                Arg::Text(Some(text.to_owned())),
                Arg::Text(Some(by.clone())),
                Arg::Int(now),
                Arg::Text(Some(note.to_owned())),
                Arg::OptionalInt(restored_from),
            ],
        )
        .execute(&mut *transaction)
        .await?;
        if inserted.rows_affected() != 1 {
            return Err(StoreError::Conflict(
                "une autre version de la politique vient d'être enregistrée : relisez-la puis recommencez".into(),
            ));
        }
        crate::audit::append(
            &mut transaction,
            &AuditRecord {
                at_ms: now,
                actor: by,
                action: if latest.is_some() {
                    AuditAction::Update
                } else {
                    AuditAction::Create
                },
                object_kind: "policy",
                object_ref: version.to_string(),
                client: None,
                before: None,
                after: Some(serde_json::json!({
                    "version": version,
                    "note": note,
                    "restored_from": restored_from,
                    "bytes": text.len(),
                })),
            },
        )
        .await?;
        transaction.commit().await?;
        Ok(version)
    }
}

impl System {
    /// The version in force: the newest saved, None when the console never saved one (the
    /// configuration's policy file is then in force).
    pub async fn policy_in_force(&self) -> Result<Option<PolicyVersion>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM policy_versions ORDER BY version DESC LIMIT 1"
        ))
        .fetch_optional(&self.read)
        .await?;
        row.as_ref().map(version_of).transpose()
    }

    /// The number of the version in force, 0 for none: what each process compares to learn
    /// that another saved a new one.
    pub async fn policy_version_number(&self) -> Result<i64, StoreError> {
        let (latest,): (Option<i64>,) = sqlx::query_as("SELECT MAX(version) FROM policy_versions")
            .fetch_one(&self.read)
            .await?;
        Ok(latest.unwrap_or(0))
    }
}
