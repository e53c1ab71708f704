//! Vigie's persistence: one code path over SQLite (the embedded default) and PostgreSQL (for
//! several server processes), the backend chosen at run time from the URL. Every query that
//! returns a client's objects is filtered by the actor's visibility here, in the data access
//! layer, so that no caller can forget it (X-2).

mod alarms;
mod audit;
mod bulk;
pub mod console;
pub mod documents;
mod error;
mod inventory;
pub mod journal;
pub mod mail;
mod migrate;
mod notifications;
mod page;
mod people;
pub mod policies;
pub mod reports;
pub mod secrets;
pub mod signals;
pub mod stored;
pub mod supervision;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tickets;
pub mod windows;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Connection, Executor};

pub use alarms::{AlarmFilter, AlarmNames, MAX_ALARM_EVENTS, MAX_ALARM_PAGE, Saved, StoredAlarm};
pub use audit::AuditFilter;
pub use error::StoreError;
pub use inventory::{ImportReport, ListFilter, WriteOutcome};
pub use notifications::{
    ClaimedNotification, DeliveryOutcome, Escalation, FiredTimer, MAX_BATCH, Outcome, Outgoing,
    StoredNotification,
};
pub use people::{
    AccountNotice, LoginLimit, NewToken, NewUser, SessionInfo, SessionOrigin, SessionUser,
    TOKEN_CACHE_MS, TokenInfo, UserInfo, UserKind,
};
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
/// How long after a write failed on the database's storage (a full disk, an I/O error) the
/// store still says it is not ready: a small probe write may fit where the writes of the
/// service do not.
pub const WRITE_FAILURE_HOLD: Duration = Duration::from_secs(10);
/// The key of the row that the readiness probe writes in `settings`.
const READINESS_KEY: &str = "readiness_probe";

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
    /// When a write last ended on an error of the database itself (`/readyz`).
    writes: Arc<WriteHealth>,
    /// On SQLite, for a server process: the lock that keeps any other server off the file,
    /// held (never read) until the last handle of the store goes.
    _server_lock: Option<Arc<ServerLock>>,
    /// The key the secrets are encrypted with (`secrets.rs`); none: written in clear.
    secrets: Option<Arc<secrets::SecretsKey>>,
}

/// The writer's health: when a write last ended on an error of the database itself, and how
/// many readiness probes were written.
#[derive(Debug, Default)]
struct WriteHealth {
    last_failure: std::sync::Mutex<Option<Instant>>,
    probes: std::sync::atomic::AtomicU64,
}

impl WriteHealth {
    fn failed(&self) {
        *self.last_failure.lock().expect("write health lock") = Some(Instant::now());
    }

    /// How long ago a write failed, if within [`WRITE_FAILURE_HOLD`].
    fn recent_failure(&self) -> Option<Duration> {
        let last = *self.last_failure.lock().expect("write health lock");
        last.map(|at| at.elapsed())
            .filter(|elapsed| *elapsed < WRITE_FAILURE_HOLD)
    }
}

/// The exclusive lock of a server process on an SQLite database, held as long as the store:
/// an open file locked with `flock`, released by the system when the process ends, however
/// it ends.
#[derive(Debug)]
struct ServerLock {
    _file: std::fs::File,
}

/// The whole store, for the server's loops and workers, the simulator and the command line:
/// everything [`Store`] does, and the operations that answer to no actor (claiming pages,
/// firing timers, the watchdog, the journal…). Request handlers are given a [`Store`] only, so
/// that one of them cannot reach an operation that checks no permission: it does not compile
/// (issue 24, item 6).
///
/// ```compile_fail
/// async fn handler(store: &vigie_store::Store) {
///     // A request that forgot its permission check cannot claim the pages to send.
///     let _ = store.claim_notifications("serveur", 0, 60_000, 10).await;
/// }
/// ```
///
/// while the delivery loop, which holds a `System`, can:
///
/// ```
/// async fn delivery(system: &vigie_store::System) {
///     let _ = system.claim_notifications("serveur", 0, 60_000, 10).await;
/// }
/// ```
#[derive(Clone, Debug)]
pub struct System(Store);

impl std::ops::Deref for System {
    type Target = Store;

    fn deref(&self) -> &Store {
        &self.0
    }
}

impl System {
    /// Opens the database at `url` with every operation ([`Store::open`]).
    pub async fn open(url: &str) -> Result<System, StoreError> {
        Store::open_with(url, false).await.map(System)
    }

    /// Opens the database for a server process ([`Store::open_as_server`]).
    pub async fn open_as_server(url: &str) -> Result<System, StoreError> {
        Store::open_with(url, true).await.map(System)
    }

    /// The view of the store given to request handlers: only what an actor asks for (each
    /// operation checks the actor's permissions), and what a credential authorises.
    pub fn store(&self) -> Store {
        self.0.clone()
    }

    /// As [`Store::with_secrets_key`].
    pub fn with_secrets_key(self, key: secrets::SecretsKey) -> System {
        System(self.0.with_secrets_key(key))
    }
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
    /// Opens the database at `url`, creating an SQLite file if needed (readable by this
    /// user only), and applies the backend's migrations.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        Store::open_with(url, false).await
    }

    /// Opens the database for a server process: as [`Store::open`], and on SQLite the file is
    /// first locked for this process, so that a second server on the same file is refused
    /// with a message naming the first, instead of both failing with "database is locked".
    /// Commands that run briefly (`vigie import`, `vigie user`…) open it without the lock.
    pub async fn open_as_server(url: &str) -> Result<Store, StoreError> {
        Store::open_with(url, true).await
    }

    async fn open_with(url: &str, as_server: bool) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of_url(url)?;
        let writes = Arc::<WriteHealth>::default();
        let store = match backend {
            Backend::Sqlite => {
                let in_memory = url.contains(":memory:") || url.contains("mode=memory");
                let default_mode = !url.contains('?') && !in_memory;
                let create = default_mode || url.contains("mode=rwc");
                let url = if default_mode {
                    format!("{url}?mode=rwc")
                } else {
                    url.to_string()
                };
                let mut server_lock = None;
                if !in_memory {
                    let file = sqlite_file(&url)?;
                    if as_server {
                        server_lock = Some(Arc::new(lock_for_server(&file)?));
                    }
                    private_database_files(&file, create)?;
                }
                let options = AnyConnectOptions::from_str(&url).map_err(StoreError::other)?;
                let write = sqlite_writer(writes.clone())
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
                    writes,
                    _server_lock: server_lock,
                    secrets: None,
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
                    writes,
                    _server_lock: None,
                    secrets: None,
                }
            }
        };
        migrate::apply(&store).await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether the database answers and takes writes (for `/readyz`): a read, no write
    /// failed on the database's storage within [`WRITE_FAILURE_HOLD`], and a probe write
    /// committed now (one small row of `settings`, rewritten at each call).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.read)
            .await
            .map_err(StoreError::other)?;
        if let Some(ago) = self.writes.recent_failure() {
            return Err(StoreError::Unavailable(format!(
                "une écriture a échoué il y a {} s sur le stockage de la base",
                ago.as_secs()
            )));
        }
        let probe = self
            .writes
            .probes
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut transaction = self.write.begin().await?;
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(READINESS_KEY)
        .bind(probe.to_string())
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(())
    }

    /// Closes every connection (tests drop their database afterwards).
    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }
}

impl System {
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
                // SQLite unless asked for on every connection. Each connection keeps up to
                // 16 MiB of pages (the default, 2 MiB, had a page of the console read most of
                // its pages again from the file, a system call each: docs/benchmarks.md).
                connection
                    .execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; PRAGMA cache_size = -16384;")
                    .await?;
                Ok(())
            })
        })
}

/// The SQLite writer: one connection, checked each time it comes back to the pool. A
/// transaction that ended on an error (a full disk makes SQLite roll it back by itself, and
/// the driver's own rollback then fails) leaves the driver counting a transaction that is no
/// longer there: the next transaction would then be a mere savepoint and its "commit" would
/// save nothing, while answered as saved. Such a connection is closed (SQLite rolls back
/// whatever it had) and the next write opens a fresh one; the failure is noted for `/readyz`.
fn sqlite_writer(writes: Arc<WriteHealth>) -> AnyPoolOptions {
    sqlite_pool(1).after_release(move |connection, _| {
        let writes = writes.clone();
        Box::pin(async move {
            // The rollback of a transaction dropped on an error is queued to the connection's
            // thread: the ping, queued after it, returns once it has run.
            connection.ping().await?;
            if connection.is_in_transaction() {
                writes.failed();
                tracing::error!(
                    "écriture en échec sur la base SQLite : connexion d'écriture fermée, une nouvelle sera ouverte"
                );
                return Ok(false);
            }
            Ok(true)
        })
    })
}

/// The file an SQLite URL names.
fn sqlite_file(url: &str) -> Result<PathBuf, StoreError> {
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(url).map_err(|error| {
        StoreError::Invalid(format!(
            "adresse de base SQLite illisible « {} » : {error}",
            redact_url(url)
        ))
    })?;
    Ok(options.get_filename().to_path_buf())
}

/// `vigie.sqlite` → `vigie.sqlite-serveur.lock`, beside it (a name SQLite does not use).
fn lock_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push("-serveur.lock");
    PathBuf::from(name)
}

/// Takes the server lock of an SQLite database (`flock`, exclusive, without waiting) and
/// writes this process's number in it; refused, names the process that holds it.
fn lock_for_server(database: &Path) -> Result<ServerLock, StoreError> {
    use std::io::{Read, Seek, Write};
    let path = lock_path(database);
    let failed = |error: std::io::Error| {
        StoreError::Unavailable(format!(
            "verrou {} impossible à prendre : {error}",
            path.display()
        ))
    };
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&path).map_err(failed)?;
    match file.try_lock() {
        Ok(()) => {
            file.set_len(0).map_err(failed)?;
            file.seek(std::io::SeekFrom::Start(0)).map_err(failed)?;
            writeln!(file, "{}", std::process::id()).map_err(failed)?;
            private_file(&path).map_err(failed)?;
            Ok(ServerLock { _file: file })
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = match holder.trim() {
                "" => String::new(),
                pid => format!(" (processus {pid})"),
            };
            Err(StoreError::Unavailable(format!(
                "la base {} est déjà ouverte par un autre serveur Vigie{holder} : un seul serveur à la fois sur une base SQLite ; arrêtez l'autre, ou passez à PostgreSQL pour en faire tourner plusieurs (verrou {})",
                database.display(),
                path.display()
            )))
        }
        Err(std::fs::TryLockError::Error(error)) => Err(failed(error)),
    }
}

/// The database file created empty if asked (SQLite takes an empty file as an empty
/// database), then it and its companions (`-wal`, `-shm`, `-journal`, which SQLite creates
/// with the database's mode) made readable and writable by this user only: they hold
/// password hashes, tokens' digests and the key that signs acknowledgement links.
fn private_database_files(database: &Path, create: bool) -> Result<(), StoreError> {
    let failed = |path: &Path, error: std::io::Error| {
        StoreError::Unavailable(format!(
            "fichier de base {} inaccessible : {error}",
            path.display()
        ))
    };
    if create && !database.exists() {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options.open(database).map_err(|e| failed(database, e))?;
    }
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = database.as_os_str().to_owned();
        name.push(suffix);
        let path = PathBuf::from(name);
        if path.exists() {
            private_file(&path).map_err(|e| failed(&path, e))?;
        }
    }
    Ok(())
}

/// Takes away the group's and others' rights on a file of this user's.
fn private_file(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)?.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & 0o700))?;
        }
    }
    Ok(())
}

/// Creates a data directory (and its missing parents) readable by this user only. One that
/// exists already keeps its rights: an administrator may have opened it to a backup group.
pub fn create_private_directory(path: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path)
}

fn connect_error(url: &str) -> impl FnOnce(sqlx::Error) -> StoreError + '_ {
    move |error| {
        StoreError::Unavailable(format!(
            "connexion à la base {} impossible : {error}",
            redact_url(url)
        ))
    }
}
