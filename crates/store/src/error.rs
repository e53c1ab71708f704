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

/// The one conversion of a database error (issue 24, item 5: `?` everywhere instead of a
/// `map_err` at each call): foreign-key and unique violations become conflicts with a message
/// a person can act on, storage failures make the store unavailable.
impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> StoreError {
        from_sqlx(error)
    }
}

fn from_sqlx(error: sqlx::Error) -> StoreError {
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
    if let sqlx::Error::Database(db) = &error
        && let Some(message) = storage_failure(db.code().as_deref().unwrap_or_default())
    {
        return StoreError::Unavailable(format!("{message} : {}", db.message()));
    }
    if matches!(error, sqlx::Error::PoolTimedOut | sqlx::Error::Io(_)) {
        return StoreError::Unavailable(format!("base de données indisponible : {error}"));
    }
    StoreError::Other(error.into())
}

/// What a database error code says of the database's storage or availability, in words, when
/// it is not the request's fault (503, the client tries again), or `None`. SQLite gives its
/// extended result code (a number of at most four digits), whose low byte is the primary
/// code; PostgreSQL its SQLSTATE (always five characters).
fn storage_failure(code: &str) -> Option<&'static str> {
    if code.len() < 5
        && let Ok(extended) = code.parse::<u32>()
    {
        return match extended & 0xff {
            // SQLITE_FULL
            13 => Some("disque plein : la base de données ne peut plus écrire"),
            // SQLITE_IOERR
            10 => Some("erreur d'entrée-sortie sur le disque de la base de données"),
            // SQLITE_BUSY, SQLITE_LOCKED
            5 | 6 => Some("base de données occupée par un autre processus"),
            // SQLITE_READONLY, SQLITE_CANTOPEN
            8 | 14 => Some("fichier de la base de données non inscriptible"),
            // SQLITE_CORRUPT, SQLITE_NOTADB
            11 | 26 => Some("fichier de la base de données endommagé"),
            _ => None,
        };
    }
    if code.len() != 5 {
        return None;
    }
    match code.get(..2)? {
        // 53100 disk_full, 53200 out_of_memory, 53300 too_many_connections…
        "53" => Some(
            "ressources épuisées sur le serveur de base de données (disque, mémoire ou connexions)",
        ),
        // 58030 io_error…
        "58" => Some("erreur système sur le serveur de base de données"),
        // 57P01 admin_shutdown, 57P03 cannot_connect_now…
        "57" => Some("serveur de base de données arrêté ou en cours d'arrêt"),
        "08" => Some("connexion au serveur de base de données perdue"),
        _ => None,
    }
}
