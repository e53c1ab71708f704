//! The store's errors: few and stable, so that the HTTP layer maps each to one status.

use vigie_domain::inventory::check::Problem;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Not there, or not visible to this actor (the two are deliberately the same).
    #[error("introuvable")]
    NotFound,
    /// The actor may not do this at all.
    #[error("action non autorisée : {0}")]
    Forbidden(String),
    /// The change breaks an inventory rule; every problem is listed.
    #[error("données refusées : {}", .0.iter().map(|p| format!("{} {} : {}", p.kind.french(), p.reference, p.message)).collect::<Vec<_>>().join(" ; "))]
    Rejected(Vec<Problem>),
    /// A value the store itself refuses (bad URL, bad argument).
    #[error("{0}")]
    Invalid(String),
    /// The change conflicts with what is stored (something still depends on it, a name taken).
    #[error("{0}")]
    Conflict(String),
    /// The database cannot be reached.
    #[error("{0}")]
    Unavailable(String),
    #[error("erreur de la base de données : {0}")]
    Other(#[source] anyhow::Error),
}

impl StoreError {
    pub fn other(error: impl Into<anyhow::Error>) -> StoreError {
        StoreError::Other(error.into())
    }
}

/// Maps a database error to a store error: foreign-key and unique violations become
/// conflicts with a message a person can act on.
pub(crate) fn from_sqlx(error: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &error {
        let code = db.code().map(|c| c.to_string()).unwrap_or_default();
        let message = db.message().to_string();
        // PostgreSQL SQLSTATE 23503 / SQLite "FOREIGN KEY constraint failed" (code 787).
        if code == "23503" || code == "787" || message.contains("FOREIGN KEY constraint failed") {
            return StoreError::Conflict(
                "cet objet est encore référencé par d'autres (sites, équipements, utilisateurs…) : supprimez ou modifiez-les d'abord".into(),
            );
        }
        // PostgreSQL 23505 / SQLite 2067 and 1555 (UNIQUE and PRIMARY KEY).
        if code == "23505"
            || code == "2067"
            || code == "1555"
            || message.contains("UNIQUE constraint failed")
        {
            return StoreError::Conflict("cet identifiant est déjà utilisé".into());
        }
    }
    if matches!(error, sqlx::Error::PoolTimedOut | sqlx::Error::Io(_)) {
        return StoreError::Unavailable(format!("base de données indisponible : {error}"));
    }
    StoreError::Other(error.into())
}
