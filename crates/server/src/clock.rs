//! The server's one source of "now". Handlers read it once per request and pass the instant
//! down; tests use a manual clock so that expiries and throttling windows are exact, and the
//! replay of scenarios a virtual one that only `POST /api/v1/clock` moves (`docs/simulate.md`).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

#[derive(Clone, Debug)]
pub enum Clock {
    System,
    /// Epoch milliseconds set by a test.
    Manual(Arc<AtomicI64>),
    /// Epoch milliseconds moved only by `POST /api/v1/clock`, which then runs one round of the
    /// background work itself: with this clock no loop runs on its own (`VIGIE_VIRTUAL_CLOCK`).
    Virtual(Arc<AtomicI64>),
}

impl Clock {
    pub fn manual(start_ms: i64) -> Clock {
        Clock::Manual(Arc::new(AtomicI64::new(start_ms)))
    }

    pub fn virtual_from(start_ms: i64) -> Clock {
        Clock::Virtual(Arc::new(AtomicI64::new(start_ms)))
    }

    /// UTC epoch milliseconds.
    pub fn now_ms(&self) -> i64 {
        match self {
            Clock::System => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0),
            Clock::Manual(ms) | Clock::Virtual(ms) => ms.load(Ordering::SeqCst),
        }
    }

    /// Whether the background loops are replaced by rounds driven through the API.
    pub fn is_virtual(&self) -> bool {
        matches!(self, Clock::Virtual(_))
    }

    /// Moves a manual clock forward (no effect on the system clock).
    pub fn advance_ms(&self, delta: i64) {
        if let Clock::Manual(ms) = self {
            ms.fetch_add(delta, Ordering::SeqCst);
        }
    }

    /// Moves a virtual clock to `to`, never backwards; false if `to` is in its past or the
    /// clock is not virtual.
    pub fn move_to(&self, to: i64) -> bool {
        match self {
            Clock::Virtual(ms) => ms
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |now| {
                    (to >= now).then_some(to)
                })
                .is_ok(),
            _ => false,
        }
    }
}
