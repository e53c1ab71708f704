//! Vigie's ICMP echo engine: pings many IPv4 targets over one shared raw socket and measures
//! round-trip times itself.
//!
//! A [`Pinger`] opens one raw ICMPv4 socket (root or CAP_NET_RAW) and picks an identifier.
//! [`Pinger::ping_many`] sweeps a list of targets with one sender loop (rate-limited) and one
//! receiver loop, never a task per target, so 100,000 targets cost two threads and a few
//! megabytes. Each probe carries a sequence number and a stamp (sweep token, probe number) in
//! its payload; replies are matched to the (target, probe) in a bounded in-flight table, and the
//! round-trip time is the `Instant` read as soon as the reply is read minus the `Instant` read
//! just before it was sent. Malformed, foreign or late replies are ignored.
//!
//! The calls block (they sleep between sends and wait for replies): from async code, run them on
//! `tokio::task::spawn_blocking`. One sweep at a time per `Pinger`; a second call waits for the
//! first, because both would read the same socket.

pub mod netns;
pub mod packet;
mod socket;
mod sweep;

use std::hash::BuildHasher;
use std::net::Ipv4Addr;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

pub use sweep::{
    IN_FLIGHT_CAPACITY, MAX_COUNT_PER_TARGET, MAX_INTERVAL, MAX_PAYLOAD_SIZE, MAX_ROUND_INTERVAL,
    MAX_TARGETS_PER_SWEEP, MAX_TIMEOUT, MIN_PAYLOAD_SIZE,
};

/// Why a sweep could not run. Unanswered targets are not errors: they are results with
/// `received == 0`.
#[derive(Debug, thiserror::Error)]
pub enum PingError {
    #[error(
        "ouverture du socket ICMP brut refusée : il faut lancer Vigie en root ou lui donner la \
         capacité CAP_NET_RAW (setcap cap_net_raw+ep) ({0})"
    )]
    PermissionDenied(#[source] std::io::Error),
    #[error("socket ICMP brut inutilisable : {0}")]
    Socket(#[source] std::io::Error),
    #[error("lecture des réponses ICMP impossible : {0}")]
    Receive(#[source] std::io::Error),
    #[error("trop de cibles pour un seul balayage : {targets} (au plus {max})")]
    TooManyTargets { targets: usize, max: usize },
    #[error("nombre de sondes par cible invalide : {count} (de 1 à {max})")]
    CountOutOfRange { count: u32, max: u32 },
    #[error("taille de charge utile invalide : {size} octets (de {min} à {max})")]
    PayloadSizeOutOfRange { size: usize, min: usize, max: usize },
    #[error("délai d'attente invalide : {timeout:?} (plus de zéro et au plus {max:?})")]
    TimeoutOutOfRange { timeout: Duration, max: Duration },
    #[error("intervalle entre envois invalide : {interval:?} (au plus {max:?})")]
    IntervalOutOfRange { interval: Duration, max: Duration },
}

/// How a sweep sends its probes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweepOptions {
    /// How long to wait for each reply; a later reply counts as lost.
    pub timeout: Duration,
    /// Probes per target (at least 1).
    pub count: u32,
    /// Smallest gap between two sends, whatever their targets: the rate limit
    /// (10 µs = 100,000 packets per second). Zero sends as fast as the socket takes them.
    pub interval: Duration,
    /// Smallest gap between two probes to the same target, when `count` > 1.
    pub round_interval: Duration,
    /// Bytes after the ICMP header, our stamp included (56 like ping(8)).
    pub payload_size: usize,
}

impl Default for SweepOptions {
    fn default() -> Self {
        SweepOptions {
            timeout: Duration::from_secs(1),
            count: 1,
            interval: Duration::from_micros(10),
            round_interval: Duration::from_secs(1),
            payload_size: 56,
        }
    }
}

/// What one target answered during a sweep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PingResult {
    pub target: Ipv4Addr,
    /// Probes sent, counting those the kernel refused at once (no route): they are lost.
    pub sent: u32,
    /// Probes answered within the timeout (duplicates counted once).
    pub received: u32,
    pub rtt_min: Option<Duration>,
    pub rtt_avg: Option<Duration>,
    pub rtt_max: Option<Duration>,
}

impl PingResult {
    /// True when at least one probe was answered.
    pub fn is_alive(&self) -> bool {
        self.received > 0
    }
}

/// One raw ICMPv4 socket and its identifier, shared by every target of every sweep.
pub struct Pinger {
    socket: socket2::Socket,
    identifier: u16,
    /// Random per pinger, mixed with the sweep number into the token each probe carries, so a
    /// late reply from an earlier sweep or another program's echo is never taken for ours.
    secret: u64,
    /// Sweeps started so far; held for the whole sweep so that two never read the socket at once.
    sweeps: Mutex<u64>,
}

impl std::fmt::Debug for Pinger {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Pinger")
            .field("identifier", &self.identifier)
            .finish_non_exhaustive()
    }
}

impl Pinger {
    /// Opens the raw socket. Needs root or CAP_NET_RAW.
    pub fn new() -> Result<Pinger, PingError> {
        let random = std::collections::hash_map::RandomState::new();
        let identifier = random.hash_one(("identifier", std::process::id())) as u16;
        let secret = random.hash_one(("secret", std::process::id()));
        let socket = socket::open_raw_icmp_socket(identifier)?;
        Ok(Pinger {
            socket,
            identifier,
            secret,
            sweeps: Mutex::new(0),
        })
    }

    /// The ICMP identifier of this pinger's probes.
    pub fn identifier(&self) -> u16 {
        self.identifier
    }

    /// Pings every target `options.count` times; one result per target, in the order given.
    pub fn ping_many(
        &self,
        targets: &[Ipv4Addr],
        options: &SweepOptions,
    ) -> Result<Vec<PingResult>, PingError> {
        let mut sweeps = self.sweeps.lock().unwrap_or_else(PoisonError::into_inner);
        *sweeps += 1;
        let token = self.secret ^ *sweeps;
        sweep::run(&self.socket, self.identifier, token, targets, options)
    }

    /// Pings one target once: its round-trip time, or `None` if it did not answer in time.
    pub fn ping(&self, target: Ipv4Addr, timeout: Duration) -> Result<Option<Duration>, PingError> {
        let options = SweepOptions {
            timeout,
            ..SweepOptions::default()
        };
        let results = self.ping_many(&[target], &options)?;
        Ok(results.first().and_then(|result| result.rtt_min))
    }
}
