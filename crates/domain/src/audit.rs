//! The audit trail's entries: who changed what, when, with the state before and after.
//! Entries are only ever appended; the store refuses to update or delete them.

use serde::{Deserialize, Serialize};

/// What happened to the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    Create,
    Update,
    Delete,
}

impl AuditAction {
    pub fn key(self) -> &'static str {
        match self {
            AuditAction::Create => "create",
            AuditAction::Update => "update",
            AuditAction::Delete => "delete",
        }
    }

    pub fn parse(value: &str) -> Option<AuditAction> {
        [
            AuditAction::Create,
            AuditAction::Update,
            AuditAction::Delete,
        ]
        .into_iter()
        .find(|a| a.key() == value)
    }
}

/// One change, as recorded. `object_kind` is an inventory kind (`site`, `equipment`…) or
/// `user`, `token`; secrets (password hashes, token hashes) never appear in `before`/`after`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    /// UTC epoch milliseconds.
    pub at_ms: i64,
    pub actor: String,
    pub action: AuditAction,
    pub object_kind: String,
    pub object_ref: String,
    /// The client the object belongs to, if it is a client's.
    pub client: Option<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}
