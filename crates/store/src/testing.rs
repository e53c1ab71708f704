//! Support for tests of this crate and of the crates above it: an isolated, throw-away database
//! per test on each backend under test. SQLite always; PostgreSQL on the server named by
//! `VIGIE_TEST_POSTGRES_URL` (default: the machine's 127.0.0.1:5432, database `test`).
//! `VIGIE_TEST_POSTGRES=skip` leaves PostgreSQL out on a developer's machine; in CI
//! (`CI=true`) that is refused, so that a missing server fails the run instead of hiding.

use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::{Connection, Executor};

use crate::{Backend, System};

/// The admin URL used to create the per-test PostgreSQL databases.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Backends every storage test runs on.
pub fn backends_under_test() -> Vec<Backend> {
    let skip = std::env::var("VIGIE_TEST_POSTGRES").is_ok_and(|v| v == "skip");
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    assert!(
        !(skip && in_ci),
        "VIGIE_TEST_POSTGRES=skip is refused in CI: the PostgreSQL run is mandatory"
    );
    if skip {
        vec![Backend::Sqlite]
    } else {
        vec![Backend::Sqlite, Backend::Postgres]
    }
}

/// The backend chosen for tests that run on one backend at a time (`VIGIE_TEST_DATABASE`:
/// `sqlite`, the default, or `postgres`).
pub fn backend_from_env() -> Backend {
    match std::env::var("VIGIE_TEST_DATABASE").as_deref() {
        Ok("postgres") => Backend::Postgres,
        Ok("sqlite") | Err(_) => Backend::Sqlite,
        Ok(other) => panic!("VIGIE_TEST_DATABASE={other}: expected sqlite or postgres"),
    }
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "vigie_test_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// One throw-away database.
#[derive(Debug)]
pub struct TestDatabase {
    pub backend: Backend,
    pub url: String,
    postgres: Option<(String, String)>,
    directory: Option<std::path::PathBuf>,
}

impl TestDatabase {
    /// Creates an empty database on `backend`. Panics with a clear message when PostgreSQL
    /// cannot be reached: a storage test that silently skipped would prove nothing.
    pub async fn create(backend: Backend) -> TestDatabase {
        let name = unique_name();
        match backend {
            Backend::Sqlite => {
                let directory = std::env::temp_dir().join(&name);
                std::fs::create_dir_all(&directory).expect("temporary directory");
                let url = format!("sqlite://{}", directory.join("vigie.sqlite").display());
                TestDatabase {
                    backend,
                    url,
                    postgres: None,
                    directory: Some(directory),
                }
            }
            Backend::Postgres => {
                sqlx::any::install_default_drivers();
                let admin = std::env::var("VIGIE_TEST_POSTGRES_URL")
                    .unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_string());
                let mut connection = sqlx::AnyConnection::connect(&admin).await.unwrap_or_else(|e| {
                    panic!("PostgreSQL is required for the storage tests and cannot be reached at {} ({e}). Start it, or set VIGIE_TEST_POSTGRES_URL (VIGIE_TEST_POSTGRES=skip outside CI).", crate::redact_url(&admin))
                });
                connection
                    .execute(format!("CREATE DATABASE {name}").as_str())
                    .await
                    .expect("create test database");
                connection.close().await.ok();
                let base = admin
                    .rsplit_once('/')
                    .map(|(base, _)| base)
                    .unwrap_or(&admin);
                let url = format!("{base}/{name}");
                TestDatabase {
                    backend,
                    url,
                    postgres: Some((admin, name)),
                    directory: None,
                }
            }
        }
    }

    /// Opens the whole store on it (applying migrations): tests play the server's loops too.
    pub async fn open(&self) -> System {
        System::open(&self.url)
            .await
            .unwrap_or_else(|e| panic!("opening {:?} store: {e}", self.backend))
    }

    /// Drops the database (close every store on it first).
    pub async fn drop_database(self) {
        if let Some((admin, name)) = &self.postgres
            && let Ok(mut connection) = sqlx::AnyConnection::connect(admin).await
        {
            let _ = connection
                .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                .await;
            connection.close().await.ok();
        }
        if let Some(directory) = &self.directory {
            let _ = std::fs::remove_dir_all(directory);
        }
    }
}
