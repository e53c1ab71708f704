//! Signals between server processes that share one PostgreSQL database (LISTEN/NOTIFY): a
//! process says that something changed, the others hear it and tell their open pages. On
//! SQLite there is one process, so a signal goes nowhere and nobody listens. A signal carries
//! no data of a client, only what kind of thing changed for which client; PostgreSQL keeps it
//! for the listeners of the moment only, so a listener that reconnects must assume it missed
//! some.

use sqlx::postgres::PgListener;

use crate::{Backend, Store, StoreError};

/// PostgreSQL refuses a payload of 8000 bytes or more.
pub const MAX_SIGNAL_BYTES: usize = 7_900;

/// What a listener heard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    /// A signal's payload.
    Signal(String),
    /// The connection was lost and is being made again: signals may have been missed.
    Gap,
}

/// A connection listening to one channel.
pub struct Listener(PgListener);

impl std::fmt::Debug for Listener {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("Listener")
    }
}

impl Listener {
    /// Waits for the next signal; after a [`Heard::Gap`] the next call connects again.
    pub async fn next(&mut self) -> Result<Heard, StoreError> {
        match self.0.try_recv().await? {
            Some(notification) => Ok(Heard::Signal(notification.payload().to_string())),
            None => Ok(Heard::Gap),
        }
    }
}

impl Store {
    /// Sends `payload` to every process listening to `channel` (this one included). Nothing
    /// on SQLite. A payload of [`MAX_SIGNAL_BYTES`] or more is refused.
    pub async fn signal(&self, channel: &str, payload: &str) -> Result<(), StoreError> {
        if self.backend == Backend::Sqlite {
            return Ok(());
        }
        if payload.len() >= MAX_SIGNAL_BYTES {
            return Err(StoreError::Invalid(format!(
                "signal trop long ({} octets, au plus {MAX_SIGNAL_BYTES})",
                payload.len()
            )));
        }
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(channel)
            .bind(payload)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// A connection listening to `channel`, or None on SQLite (one process: nobody to hear).
    pub async fn listen(&self, channel: &str) -> Result<Option<Listener>, StoreError> {
        let Some(url) = &self.postgres_url else {
            return Ok(None);
        };
        let mut listener = PgListener::connect(&url.0).await?;
        listener.listen(channel).await?;
        Ok(Some(Listener(listener)))
    }
}
