//! Live updates of the pages: what changed (alarms, equipment states, tickets) and for which
//! client, broadcast to every open page through server-sent events (`GET /flux`). Each
//! session receives only the changes its walls let it see: a client user hears of its
//! own client's changes, never another's, and never of alarms about no site. An event says
//! only *what kind* of thing changed; the page then asks for its fragment again, through the
//! same access checks as any page.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::Stream;
use tokio::sync::broadcast;
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
/// Open streams at most, across the process.
pub const MAX_STREAMS: usize = 10_000;

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

/// One change: its topic and the client it belongs to (None: the integrator's own, such as
/// an alarm about no site, which only the staff hear of).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub topic: Topic,
    pub client: Option<Reference>,
}

/// The broadcast of changes, shared by every handler and loop of the process.
#[derive(Debug, Clone)]
pub struct Live {
    sender: broadcast::Sender<Change>,
    streams: Arc<AtomicUsize>,
}

impl Default for Live {
    fn default() -> Live {
        Live {
            sender: broadcast::channel(CAPACITY).0,
            streams: Arc::new(AtomicUsize::new(0)),
        }
    }
}

impl Live {
    /// Tells every open page that something of `topic` changed for `client`. Never waits.
    pub fn publish(&self, topic: Topic, client: Option<Reference>) {
        // No receiver (no page open) is not an error.
        let _ = self.sender.send(Change { topic, client });
    }

    /// How many streams are open now.
    pub fn streams(&self) -> usize {
        self.streams.load(Ordering::Relaxed)
    }
}

/// Whether a session with `visibility` hears of `change`.
pub fn hears(visibility: &Visibility, change: &Change) -> bool {
    match (visibility, &change.client) {
        (Visibility::Everything, _) => true,
        (_, None) => false,
        (visibility, Some(client)) => visibility.sees(client),
    }
}

/// Counts an open stream; the count goes down when the stream is dropped.
struct StreamSlot(Arc<AtomicUsize>);

impl Drop for StreamSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
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
    if live.streams.fetch_add(1, Ordering::Relaxed) >= MAX_STREAMS {
        live.streams.fetch_sub(1, Ordering::Relaxed);
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            t(
                viewer.lang,
                "trop de pages ouvertes : mises à jour en direct suspendues",
            ),
        )
            .into_response();
    }
    let listening = Listening {
        receiver: live.sender.subscribe(),
        visibility: viewer.caller.actor.visibility(),
        session_hash: viewer.caller.session_hash.clone().unwrap_or_default(),
        _slot: StreamSlot(live.streams.clone()),
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
            client: Some(reference("CLI-A")),
        };
        let other = Change {
            topic: Topic::Alarms,
            client: Some(reference("CLI-B")),
        };
        let no_site = Change {
            topic: Topic::Alarms,
            client: None,
        };
        assert!(hears(&mine, &own));
        assert!(!hears(&mine, &other));
        assert!(!hears(&mine, &no_site));
        assert!(hears(&Visibility::Everything, &other));
        assert!(hears(&Visibility::Everything, &no_site));
    }
}
