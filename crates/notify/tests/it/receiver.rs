//! A real HTTP receiver for the SMS gateway and webhook tests: an axum server on 127.0.0.1:0
//! that records every request and answers from a script (status, body, delay), 200 by default.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

/// Largest request body the receiver keeps; the tests send a few hundred bytes.
const MAX_RECORDED_BYTES: usize = 1024 * 1024;

/// One request as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Path and query, as sent: `/sms?to=%2B33612345678`.
    pub uri: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_else(|| panic!("en-tête « {name} » absent : {:?}", self.headers))
    }

    pub fn body_text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("corps UTF-8")
    }
}

/// One scripted answer.
#[derive(Debug, Clone)]
struct Reply {
    status: u16,
    body: String,
    delay: Duration,
}

#[derive(Default)]
struct Shared {
    requests: Mutex<Vec<Recorded>>,
    script: Mutex<VecDeque<Reply>>,
}

/// The running receiver; its server task stops when dropped.
pub struct Receiver {
    pub base_url: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Receiver {
    pub async fn start() -> Receiver {
        let shared = Arc::new(Shared::default());
        let router = Router::new().fallback(record).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("port libre sur 127.0.0.1");
        let address = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, router).await.expect("récepteur HTTP");
        });
        Receiver {
            base_url: format!("http://{address}"),
            shared,
            task,
        }
    }

    /// The URL of `path` on this receiver.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// The next request not yet scripted gets this answer.
    pub fn reply(&self, status: u16, body: &str) {
        self.reply_after(Duration::ZERO, status, body);
    }

    /// As [`Receiver::reply`], answering only after `delay`.
    pub fn reply_after(&self, delay: Duration, status: u16, body: &str) {
        self.shared.script.lock().unwrap().push_back(Reply {
            status,
            body: body.to_owned(),
            delay,
        });
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// The only request received.
    pub fn single_request(&self) -> Recorded {
        let requests = self.requests();
        assert_eq!(requests.len(), 1, "{requests:?}");
        requests.into_iter().next().unwrap()
    }
}

async fn record(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, MAX_RECORDED_BYTES).await.unwrap_or_default();
    shared.requests.lock().unwrap().push(Recorded {
        method: parts.method.to_string(),
        uri: parts.uri.to_string(),
        headers: parts.headers,
        body: body.to_vec(),
    });
    let reply = shared.script.lock().unwrap().pop_front().unwrap_or(Reply {
        status: 200,
        body: r#"{"status":"queued","id":"msg-1"}"#.to_owned(),
        delay: Duration::ZERO,
    });
    tokio::time::sleep(reply.delay).await;
    let status = StatusCode::from_u16(reply.status).expect("statut valide");
    (status, Body::from(reply.body)).into_response()
}
