//! Live updates of the pages: what changed (alarms, equipment states, tickets) and for which
//! client, broadcast to every open page through server-sent events (`GET /flux`). Each
//! session receives only the changes its walls let it see (X-2): a client user hears of its
//! own client's changes, never another's, and never of alarms about no site. An event says
//! only *what kind* of thing changed; the page then asks for its fragment again, through the
//! same access checks as any page.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::Stream;
use tokio::sync::{broadcast, mpsc};
use vigie_domain::Reference;
use vigie_domain::access::Visibility;

use crate::AppState;
use crate::web::Viewer;
use crate::web::i18n::t;

/// Changes kept for slow sessions; one that falls further behind is told to reload all.
const CAPACITY: usize = 4096;
/// Changes arriving together are sent as one event per topic.
const COALESCE: Duration = Duration::from_millis(200);
/// How often an open stream checks that its session still exists (logout, expiry).
const SESSION_CHECK: Duration = Duration::from_secs(60);
/// How many streams may be open (issue 23, item 7: one client's session once opened all of
/// them and cut the staff's alarm wall off), from `[server] live_streams*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamLimits {
    /// Across the process.
    pub total: usize,
    /// Of `total`, kept for the integrator's staff: clients' streams stop below.
    pub staff: usize,
    /// For all the accounts of one client.
    pub per_client: usize,
    /// For one session (its tabs).
    pub per_session: usize,
}

impl StreamLimits {
    pub fn of(config: &crate::Config) -> StreamLimits {
        StreamLimits {
            total: config.server.live_streams,
            staff: config.server.live_streams_staff,
            per_client: config.server.live_streams_per_client,
            per_session: config.server.live_streams_per_session,
        }
    }
}

impl Default for StreamLimits {
    fn default() -> StreamLimits {
        StreamLimits::of(&crate::Config::default())
    }
}

/// Why a stream is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The process has no stream left (staff's reserve included).
    Full,
    /// The streams left are the staff's.
    StaffReserve,
    /// The client's share is used up.
    Client,
    /// The session has its tabs' share open.
    Session,
}

/// The streams open now, counted by client and by session.
#[derive(Debug, Default)]
struct Open {
    total: usize,
    /// Those of client users, all clients.
    clients: usize,
    per_client: HashMap<Reference, usize>,
    per_session: HashMap<String, usize>,
}

/// The count of open streams and its limits.
#[derive(Debug)]
struct Streams {
    limits: StreamLimits,
    open: Mutex<Open>,
}

impl Streams {
    /// Counts a stream for `session` of `client` (None: the staff), or says why not.
    fn open(
        self: &Arc<Streams>,
        client: Option<&Reference>,
        session: &str,
    ) -> Result<StreamSlot, Refusal> {
        let limits = self.limits;
        let mut open = self.open.lock().expect("streams lock");
        if open.total >= limits.total {
            return Err(Refusal::Full);
        }
        if open.per_session.get(session).copied().unwrap_or(0) >= limits.per_session {
            return Err(Refusal::Session);
        }
        if let Some(client) = client {
            if open.clients >= limits.total - limits.staff {
                return Err(Refusal::StaffReserve);
            }
            if open.per_client.get(client).copied().unwrap_or(0) >= limits.per_client {
                return Err(Refusal::Client);
            }
            open.clients += 1;
            *open.per_client.entry(client.clone()).or_default() += 1;
        }
        open.total += 1;
        *open.per_session.entry(session.to_owned()).or_default() += 1;
        Ok(StreamSlot {
            streams: self.clone(),
            client: client.cloned(),
            session: session.to_owned(),
        })
    }

    fn close(&self, client: Option<&Reference>, session: &str) {
        let mut open = self.open.lock().expect("streams lock");
        open.total = open.total.saturating_sub(1);
        if let Some(client) = client {
            open.clients = open.clients.saturating_sub(1);
            decrement(&mut open.per_client, client);
        }
        decrement(&mut open.per_session, session);
    }
}

/// One less in `counts` for `key`, forgetting keys at zero (the maps stay as small as the
/// streams open).
fn decrement<K, Q>(counts: &mut HashMap<K, usize>, key: &Q)
where
    K: std::hash::Hash + Eq + std::borrow::Borrow<Q>,
    Q: std::hash::Hash + Eq + ?Sized,
{
    if let Some(count) = counts.get_mut(key) {
        *count = count.saturating_sub(1);
        if *count == 0 {
            counts.remove(key);
        }
    }
}

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Topic {
    Alarms,
    States,
    Tickets,
}

impl Topic {
    pub const ALL: [Topic; 3] = [Topic::Alarms, Topic::States, Topic::Tickets];

    /// The event name the pages listen for.
    pub fn key(self) -> &'static str {
        match self {
            Topic::Alarms => "alarms",
            Topic::States => "states",
            Topic::Tickets => "tickets",
        }
    }
}

/// Who a change concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// The integrator's own (an alarm about no site): only the staff hear of it.
    Integrator,
    /// One client's: its users and the staff.
    Client(Reference),
    /// Anyone: changes may have been missed (a lost connection to the other processes).
    Everyone,
}

/// One change: its topic and who it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub topic: Topic,
    pub audience: Audience,
}

/// The broadcast of changes, shared by every handler and loop of the process.
#[derive(Debug, Clone)]
pub struct Live {
    sender: broadcast::Sender<Change>,
    streams: Arc<Streams>,
    /// This process among those sharing the database, so that it ignores its own signals.
    process: Arc<str>,
    /// Changes to signal to the other processes (PostgreSQL), once the relay runs.
    relay: Arc<OnceLock<mpsc::Sender<Change>>>,
    /// The relay's queue was full: the next signal says that anything may have changed.
    relay_overflowed: Arc<AtomicBool>,
    /// Counts the changes told to this process's pages (its own and the other processes'):
    /// what the pages' reads keep is good while it has not moved (`PageCache`).
    generation: Arc<AtomicU64>,
}

impl Default for Live {
    fn default() -> Live {
        Live::new(StreamLimits::default())
    }
}

impl Live {
    /// The broadcast, with at most `limits` streams open.
    pub fn new(limits: StreamLimits) -> Live {
        Live {
            sender: broadcast::channel(CAPACITY).0,
            streams: Arc::new(Streams {
                limits,
                open: Mutex::default(),
            }),
            process: crate::auth::random_hex(8).into(),
            relay: Arc::default(),
            relay_overflowed: Arc::default(),
            generation: Arc::default(),
        }
    }
}

impl Live {
    /// Tells every open page, of this process and of the others sharing the database, that
    /// something of `topic` changed for `client` (None: the integrator's own). Never waits.
    pub fn publish(&self, topic: Topic, client: Option<Reference>) {
        let audience = match client {
            Some(client) => Audience::Client(client),
            None => Audience::Integrator,
        };
        let change = Change { topic, audience };
        if let Some(relay) = self.relay.get()
            && relay.try_send(change.clone()).is_err()
        {
            self.relay_overflowed.store(true, Ordering::Relaxed);
        }
        self.tell_pages(change);
    }

    /// Tells this process's open pages only.
    fn tell_pages(&self, change: Change) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        // No receiver (no page open) is not an error.
        let _ = self.sender.send(change);
    }

    /// How many changes were told so far: read before a page's reads, it says whether what
    /// they gave may be kept (`PageCache`).
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// What the pages read may have changed without a change told (a write of the inventory,
    /// a window, a ticket…): what they keep is read again.
    pub fn forget_reads(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// How many streams are open now.
    pub fn streams(&self) -> usize {
        self.streams.open.lock().expect("streams lock").total
    }
}

/// Whether a session with `visibility` hears of `change`.
pub fn hears(visibility: &Visibility, change: &Change) -> bool {
    match (visibility, &change.audience) {
        (Visibility::Everything, _) | (_, Audience::Everyone) => true,
        (_, Audience::Integrator) => false,
        (visibility, Audience::Client(client)) => visibility.sees(client),
    }
}

/// Counts an open stream; the counts go down when the stream is dropped.
struct StreamSlot {
    streams: Arc<Streams>,
    client: Option<Reference>,
    session: String,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        self.streams.close(self.client.as_ref(), &self.session);
    }
}

struct Listening {
    state: AppState,
    receiver: broadcast::Receiver<Change>,
    visibility: Visibility,
    session_hash: String,
    _slot: StreamSlot,
    first: bool,
}

/// `GET /flux`: the session's stream of changes.
pub async fn stream(State(state): State<AppState>, viewer: Viewer) -> Response {
    let live = state.live.clone();
    let visibility = viewer.caller.actor.visibility();
    let session_hash = viewer.caller.session_hash.clone().unwrap_or_default();
    let slot = match live.streams.open(visibility.client(), &session_hash) {
        Ok(slot) => slot,
        Err(refusal) => {
            let lang = viewer.lang;
            let (status, text) = match refusal {
                Refusal::Full => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    t(
                        lang,
                        "trop de pages ouvertes : mises à jour en direct suspendues",
                    ),
                ),
                Refusal::StaffReserve | Refusal::Client => (
                    StatusCode::TOO_MANY_REQUESTS,
                    t(
                        lang,
                        "trop de pages ouvertes pour ce client : mises à jour en direct suspendues",
                    ),
                ),
                Refusal::Session => (
                    StatusCode::TOO_MANY_REQUESTS,
                    t(
                        lang,
                        "trop d'onglets ouverts : mises à jour en direct suspendues dans celui-ci",
                    ),
                ),
            };
            return (status, text).into_response();
        }
    };
    let listening = Listening {
        receiver: live.sender.subscribe(),
        visibility,
        session_hash,
        _slot: slot,
        state,
        first: true,
    };
    Sse::new(events(listening))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

fn events(listening: Listening) -> impl Stream<Item = Result<Event, Infallible>> {
    futures_util::stream::unfold(listening, |mut listening| async move {
        if listening.first {
            // Tells the page the stream is open (it shows "en direct", or "live").
            listening.first = false;
            return Some((Ok(Event::default().event("ready").data("1")), listening));
        }
        let topics = next_topics(&mut listening).await?;
        let names: Vec<&str> = topics.iter().map(|t| t.key()).collect();
        Some((
            Ok(Event::default().event("change").data(names.join(" "))),
            listening,
        ))
    })
}

/// Waits for the next changes this session hears of, gathers those that follow within
/// [`COALESCE`], and returns their topics; None ends the stream (session gone, server
/// stopping).
async fn next_topics(listening: &mut Listening) -> Option<Vec<Topic>> {
    let mut topics = std::collections::BTreeSet::new();
    loop {
        let received = if topics.is_empty() {
            match tokio::time::timeout(SESSION_CHECK, listening.receiver.recv()).await {
                Ok(received) => received,
                Err(_) => {
                    let now = listening.state.clock.now_ms();
                    match listening
                        .state
                        .store
                        .session_user(&listening.session_hash, now)
                        .await
                    {
                        Ok(Some(_)) => continue,
                        Ok(None) => return None,
                        // The database is busy or down: keep the stream, check later.
                        Err(_) => continue,
                    }
                }
            }
        } else {
            match tokio::time::timeout(COALESCE, listening.receiver.recv()).await {
                Ok(received) => received,
                Err(_) => return Some(topics.into_iter().collect()),
            }
        };
        match received {
            Ok(change) => {
                if hears(&listening.visibility, &change) {
                    topics.insert(change.topic);
                }
            }
            // Fell behind: some changes were missed, so every topic may have changed.
            Err(broadcast::error::RecvError::Lagged(_)) => topics.extend(Topic::ALL),
            Err(broadcast::error::RecvError::Closed) => return None,
        }
    }
}

// --- Across processes ------------------------------------------------------------------
// Several server processes on one PostgreSQL database each publish what they change; each
// relays its changes to the others through the database's signals (LISTEN/NOTIFY), so that a
// page served by one process follows the changes made by another. A signal names topics and
// clients, never data.

/// The database channel the processes' changes go through.
const SIGNAL_CHANNEL: &str = "vigie_pages";
/// Changes waiting to be signalled; beyond, the next signal says "anything may have changed".
const RELAY_CAPACITY: usize = 4096;
/// Changes gathered into one signal.
const RELAY_GATHER: Duration = Duration::from_millis(100);
/// Changes named in one signal at most; beyond, it says "anything may have changed".
const MAX_SIGNALLED_CHANGES: usize = 200;
/// Wait before listening again after the database refused.
const LISTEN_RETRY: Duration = Duration::from_secs(5);

/// A signal as written to the channel.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Signal {
    /// The process that sent it.
    from: String,
    /// `[topic, client]`, client null for the integrator's own.
    #[serde(default)]
    changes: Vec<(String, Option<String>)>,
    /// Anything may have changed, for anyone.
    #[serde(default)]
    all: bool,
}

/// Starts relaying this process's changes to the others and theirs to this one's pages, on
/// PostgreSQL; nothing on SQLite (one process).
pub fn relay(state: &AppState) -> Vec<tokio::task::JoinHandle<()>> {
    if state.store.backend() != vigie_store::Backend::Postgres {
        return Vec::new();
    }
    let (sender, receiver) = mpsc::channel(RELAY_CAPACITY);
    if state.live.relay.set(sender).is_err() {
        return Vec::new();
    }
    vec![
        tokio::spawn(send_signals(state.clone(), receiver)),
        tokio::spawn(hear_signals(state.clone())),
    ]
}

/// Gathers this process's changes for [`RELAY_GATHER`] and signals them, one signal at a time.
async fn send_signals(state: AppState, mut receiver: mpsc::Receiver<Change>) {
    while let Some(first) = receiver.recv().await {
        let mut changes = std::collections::BTreeSet::new();
        changes.insert(signalled(&first));
        let gathered = tokio::time::sleep(RELAY_GATHER);
        tokio::pin!(gathered);
        loop {
            tokio::select! {
                _ = &mut gathered => break,
                next = receiver.recv() => match next {
                    Some(change) => { changes.insert(signalled(&change)); }
                    None => break,
                },
            }
        }
        let overflowed = state.live.relay_overflowed.swap(false, Ordering::Relaxed);
        let all = overflowed || changes.len() > MAX_SIGNALLED_CHANGES;
        let signal = Signal {
            from: state.live.process.to_string(),
            changes: if all {
                Vec::new()
            } else {
                changes.into_iter().collect()
            },
            all,
        };
        let mut payload = serde_json::to_string(&signal).unwrap_or_default();
        if payload.len() >= vigie_store::signals::MAX_SIGNAL_BYTES {
            payload = serde_json::to_string(&Signal {
                from: signal.from,
                changes: Vec::new(),
                all: true,
            })
            .unwrap_or_default();
        }
        if let Err(error) = state.store.signal(SIGNAL_CHANNEL, &payload).await {
            // Lost: the other processes' pages see it at their next load, as without relay.
            tracing::warn!(%error, "signal des changements aux autres processus");
        }
    }
}

fn signalled(change: &Change) -> (String, Option<String>) {
    let client = match &change.audience {
        Audience::Client(client) => Some(client.to_string()),
        Audience::Integrator | Audience::Everyone => None,
    };
    (change.topic.key().to_string(), client)
}

/// Listens to the other processes' signals and tells this process's pages; after a lost
/// connection, tells every page that anything may have changed.
async fn hear_signals(state: AppState) {
    loop {
        let mut listener = match state.store.listen(SIGNAL_CHANNEL).await {
            Ok(Some(listener)) => listener,
            Ok(None) => return,
            Err(error) => {
                tracing::warn!(%error, "écoute des changements des autres processus");
                tokio::time::sleep(LISTEN_RETRY).await;
                continue;
            }
        };
        loop {
            match listener.next().await {
                Ok(vigie_store::signals::Heard::Signal(payload)) => {
                    for change in heard(&payload, &state.live.process) {
                        state.live.tell_pages(change);
                    }
                }
                Ok(vigie_store::signals::Heard::Gap) => tell_everyone(&state.live),
                Err(error) => {
                    tracing::warn!(%error, "écoute des changements des autres processus");
                    tell_everyone(&state.live);
                    tokio::time::sleep(LISTEN_RETRY).await;
                    break;
                }
            }
        }
    }
}

fn tell_everyone(live: &Live) {
    for topic in Topic::ALL {
        live.tell_pages(Change {
            topic,
            audience: Audience::Everyone,
        });
    }
}

/// The changes a signal names, none if this process sent it; a signal that cannot be read
/// (another version, a person's NOTIFY) means anything may have changed.
fn heard(payload: &str, process: &str) -> Vec<Change> {
    let everything = || {
        Topic::ALL
            .into_iter()
            .map(|topic| Change {
                topic,
                audience: Audience::Everyone,
            })
            .collect()
    };
    let Ok(signal) = serde_json::from_str::<Signal>(payload) else {
        return everything();
    };
    if signal.from == process {
        return Vec::new();
    }
    if signal.all {
        return everything();
    }
    let mut changes = Vec::new();
    for (topic, client) in signal.changes.iter().take(MAX_SIGNALLED_CHANGES) {
        let Some(topic) = Topic::ALL.into_iter().find(|t| t.key() == topic) else {
            return everything();
        };
        let audience = match client {
            None => Audience::Integrator,
            Some(client) => match Reference::parse(client) {
                Ok(client) => Audience::Client(client),
                Err(_) => return everything(),
            },
        };
        changes.push(Change { topic, audience });
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(text: &str) -> Reference {
        Reference::parse(text).unwrap()
    }

    #[test]
    fn a_client_hears_only_of_its_own_client() {
        let mine = Visibility::OneClient(reference("CLI-A"));
        let own = Change {
            topic: Topic::Alarms,
            audience: Audience::Client(reference("CLI-A")),
        };
        let other = Change {
            topic: Topic::Alarms,
            audience: Audience::Client(reference("CLI-B")),
        };
        let no_site = Change {
            topic: Topic::Alarms,
            audience: Audience::Integrator,
        };
        let missed = Change {
            topic: Topic::Alarms,
            audience: Audience::Everyone,
        };
        assert!(hears(&mine, &own));
        assert!(!hears(&mine, &other));
        assert!(!hears(&mine, &no_site));
        assert!(hears(&mine, &missed));
        assert!(hears(&Visibility::Everything, &other));
        assert!(hears(&Visibility::Everything, &no_site));
    }

    #[test]
    fn a_signal_names_its_changes_and_this_process_ignores_its_own() {
        let payload = r#"{"from":"b","changes":[["alarms","CLI-A"],["tickets",null]]}"#;
        assert_eq!(
            heard(payload, "a"),
            vec![
                Change {
                    topic: Topic::Alarms,
                    audience: Audience::Client(reference("CLI-A")),
                },
                Change {
                    topic: Topic::Tickets,
                    audience: Audience::Integrator,
                },
            ]
        );
        assert!(heard(payload, "b").is_empty());
        // Unreadable, or an unknown topic: anything may have changed, for anyone.
        for odd in [
            "pas du json",
            r#"{"from":"b","changes":[["factures","CLI-A"]]}"#,
        ] {
            let changes = heard(odd, "a");
            assert_eq!(changes.len(), Topic::ALL.len());
            assert!(changes.iter().all(|c| c.audience == Audience::Everyone));
        }
    }
}
