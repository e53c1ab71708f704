//! Vigie's persistence: one code path over SQLite (the embedded default) and PostgreSQL (for
//! several server processes), the backend chosen at run time from the URL. Every query that
//! returns a client's objects is filtered by the actor's visibility here, in the data access
//! layer, so that no caller can forget it.

mod alarms;
mod audit;
mod bulk;
pub mod console;
pub mod documents;
mod error;
mod inventory;
pub mod mail;
mod migrate;
mod notifications;
mod page;
mod people;
pub mod reports;
pub mod signals;
pub mod supervision;
pub mod testing;
pub mod tickets;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

pub use alarms::{AlarmFilter, MAX_ALARM_EVENTS, MAX_ALARM_PAGE, Saved, StoredAlarm};
pub use audit::AuditFilter;
pub use error::StoreError;
pub use inventory::{ImportReport, ListFilter, WriteOutcome};
pub use notifications::{
    ClaimedNotification, DeliveryOutcome, Escalation, FiredTimer, MAX_BATCH, Outcome, Outgoing,
    StoredNotification,
};
pub use people::{NewToken, NewUser, SessionUser, TOKEN_CACHE_MS, TokenInfo, UserInfo, UserKind};
pub use tickets::{MAX_TICKET_PAGE, TicketChange, TicketFilter, TicketStep};

/// Largest page any list returns, whatever the caller asks.
pub const MAX_PAGE_SIZE: i64 = 1000;
/// Page size when the caller does not say.
pub const DEFAULT_PAGE_SIZE: i64 = 100;

/// Which database the store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a database URL names: `postgres://` (or `postgresql://`) is PostgreSQL,
    /// `sqlite:` is SQLite; anything else is refused.
    pub fn of_url(url: &str) -> Result<Backend, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else {
            Err(StoreError::Invalid(format!(
                "adresse de base de données non reconnue : elle doit commencer par sqlite: ou postgres:// (reçu « {} »)",
                redact_url(url)
            )))
        }
    }
}

/// A URL with its password hidden, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Connection pool sizes.
const SQLITE_READERS: u32 = 4;
const POSTGRES_CONNECTIONS: u32 = 8;
/// How long a query waits for a connection or a lock before giving up.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// The store. Cheap to clone (pools are shared).
#[derive(Clone, Debug)]
pub struct Store {
    backend: Backend,
    /// Reads. On SQLite, several connections read while one writes (WAL).
    read: AnyPool,
    /// Writes. On SQLite a single connection, so that writers queue instead of failing with
    /// "database is locked" when two transactions try to upgrade; on PostgreSQL the same pool
    /// as `read`.
    write: AnyPool,
    /// Observations from many pushes committed together (`supervision.rs`), started on first use.
    observations: std::sync::Arc<std::sync::OnceLock<supervision::GroupCommit>>,
    /// Live tokens recently read (`people.rs`), so that a push costs no read of its token.
    tokens: std::sync::Arc<people::TokenCache>,
    /// Sessions recently read (page loads).
    sessions: std::sync::Arc<people::SessionCache>,
    /// The database's address on PostgreSQL, for the connection that listens to other
    /// processes' signals (`signals.rs`).
    postgres_url: Option<DatabaseUrl>,
}

/// A database's address, its password hidden when printed.
#[derive(Clone)]
struct DatabaseUrl(std::sync::Arc<str>);

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&redact_url(&self.0))
    }
}

impl Store {
    /// Opens the database at `url`, creating an SQLite file if needed, and applies the
    /// backend's migrations.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of_url(url)?;
        let store = match backend {
            Backend::Sqlite => {
                let url = if url.contains('?') || url.contains(":memory:") {
                    url.to_string()
                } else {
                    format!("{url}?mode=rwc")
                };
                let options = AnyConnectOptions::from_str(&url).map_err(StoreError::other)?;
                let write = sqlite_pool(1)
                    .connect_with(options.clone())
                    .await
                    .map_err(connect_error(&url))?;
                let read = sqlite_pool(SQLITE_READERS)
                    .connect_with(options)
                    .await
                    .map_err(connect_error(&url))?;
                Store {
                    backend,
                    read,
                    write,
                    observations: Default::default(),
                    tokens: Default::default(),
                    sessions: Default::default(),
                    postgres_url: None,
                }
            }
            Backend::Postgres => {
                let options = AnyConnectOptions::from_str(url).map_err(StoreError::other)?;
                let pool = AnyPoolOptions::new()
                    .max_connections(POSTGRES_CONNECTIONS)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect_with(options)
                    .await
                    .map_err(connect_error(url))?;
                Store {
                    backend,
                    read: pool.clone(),
                    write: pool,
                    observations: Default::default(),
                    tokens: Default::default(),
                    sessions: Default::default(),
                    postgres_url: Some(DatabaseUrl(url.into())),
                }
            }
        };
        migrate::apply(&store).await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether the database answers (for `/readyz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.read)
            .await
            .map_err(StoreError::other)?;
        Ok(())
    }

    /// Closes every connection (tests drop their database afterwards).
    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }

    /// Reads a pragma, for the conformance suite to prove the SQLite settings.
    pub async fn sqlite_pragma(&self, name: &str) -> Result<String, StoreError> {
        if self.backend != Backend::Sqlite
            || !name.chars().all(|c| c.is_ascii_lowercase() || c == '_')
        {
            return Err(StoreError::Invalid(format!("pragma {name} non disponible")));
        }
        let row: (String,) = sqlx::query_as(&format!(
            "SELECT CAST((SELECT * FROM pragma_{name}) AS TEXT)"
        ))
        .fetch_one(&self.write)
        .await
        .map_err(StoreError::other)?;
        Ok(row.0)
    }
}

fn sqlite_pool(size: u32) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(size)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .after_connect(|connection, _| {
            Box::pin(async move {
                // WAL lets readers go on while one writer writes; FULL syncs every commit, so
                // that an acknowledged change survives a power cut; foreign keys are off in
                // SQLite unless asked for on every connection.
                connection
                    .execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;")
                    .await?;
                Ok(())
            })
        })
}

fn connect_error(url: &str) -> impl FnOnce(sqlx::Error) -> StoreError + '_ {
    move |error| {
        StoreError::Unavailable(format!(
            "connexion à la base {} impossible : {error}",
            redact_url(url)
        ))
    }
}
