//! `/metrics` in the Prometheus text format, `/healthz` (the process answers) and `/readyz`
//! (the database answers too). Request counters are keyed by route template, never by raw
//! path, so their number stays bounded whatever clients send.

use std::collections::BTreeMap;
use std::sync::Mutex;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::AppState;

/// Most distinct (method, route, status) series kept; beyond it new ones are folded into one.
const MAX_SERIES: usize = 2000;

#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    observations: std::sync::atomic::AtomicU64,
    /// Pages by outcome: sent, retried, failed.
    notifications: [std::sync::atomic::AtomicU64; 3],
    /// On-call rotations with nobody on call, at the last check.
    uncovered_rotations: std::sync::atomic::AtomicU64,
    /// Messages of the support mailbox recorded, by what became of them: opened, threaded,
    /// set aside.
    mail: [std::sync::atomic::AtomicU64; 3],
    /// Rounds of the mailbox reader that failed (connection, login, folder…).
    mailbox_failures: std::sync::atomic::AtomicU64,
    /// When the mailbox was last read whole (Unix seconds; 0: never).
    mailbox_read_at: std::sync::atomic::AtomicI64,
    /// 1 while the mailbox cannot be read.
    mailbox_failing: std::sync::atomic::AtomicU64,
}

impl Metrics {
    /// Observations accepted from agents, probes and heartbeats.
    pub fn observations_received(&self, count: u64) {
        self.observations
            .fetch_add(count, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn set_uncovered_rotations(&self, count: u64) {
        self.uncovered_rotations
            .store(count, std::sync::atomic::Ordering::Relaxed);
    }

    /// A message of the support mailbox recorded: "opened", "threaded" or "set_aside".
    pub fn mail(&self, disposition: &str) {
        let index = match disposition {
            "opened" => 0,
            "threaded" => 1,
            _ => 2,
        };
        self.mail[index].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// A round of the mailbox reader: read whole at `now_ms`, or failed.
    pub fn mailbox_round(&self, succeeded: bool, now_ms: i64) {
        use std::sync::atomic::Ordering::Relaxed;
        if succeeded {
            self.mailbox_read_at.store(now_ms / 1000, Relaxed);
            self.mailbox_failing.store(0, Relaxed);
        } else {
            self.mailbox_failures.fetch_add(1, Relaxed);
            self.mailbox_failing.store(1, Relaxed);
        }
    }

    /// A page's delivery outcome: "sent", "retried" or "failed".
    pub fn notification(&self, outcome: &str) {
        let index = match outcome {
            "sent" => 0,
            "retried" => 1,
            _ => 2,
        };
        self.notifications[index].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    fn count(&self, method: &str, route: &str, status: u16) {
        let mut requests = self.requests.lock().expect("metrics lock");
        let key = (method.to_string(), route.to_string(), status);
        if requests.len() >= MAX_SERIES && !requests.contains_key(&key) {
            *requests
                .entry(("OTHER".into(), "other".into(), status))
                .or_default() += 1;
        } else {
            *requests.entry(key).or_default() += 1;
        }
    }
}

pub async fn count_requests(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().as_str().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let response = next.run(request).await;
    state
        .metrics
        .count(&method, &route, response.status().as_u16());
    response
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok\n").into_response(),
        Err(error) => {
            tracing::warn!(%error, "pas prêt : la base ne répond pas ou n'écrit plus");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "base de données indisponible : elle ne répond pas ou n'écrit plus\n",
            )
                .into_response()
        }
    }
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Who may read `/metrics` (it names inventory counts and who is on call): with a token
/// configured, whoever presents it as a bearer token, from anywhere; without, the machine
/// itself only (a loopback peer). The refusal is the French text Prometheus logs.
pub fn metrics_allowed(
    peer: Option<std::net::IpAddr>,
    token: &str,
    authorization: Option<&str>,
) -> Result<(), (StatusCode, &'static str)> {
    if token.is_empty() {
        return match peer {
            Some(ip) if ip.is_loopback() => Ok(()),
            _ => Err((
                StatusCode::FORBIDDEN,
                "/metrics ne répond qu'à la machine elle-même : configurez [server] metrics_token pour le lire d'ailleurs\n",
            )),
        };
    }
    let given = authorization
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or("");
    if crate::auth::same_secret(given, token) {
        Ok(())
    } else {
        Err((
            StatusCode::UNAUTHORIZED,
            "jeton de /metrics absent ou faux (Authorization: Bearer <metrics_token>)\n",
        ))
    }
}

async fn metrics(State(state): State<AppState>, request: Request) -> Response {
    let peer = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip());
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if let Err(refusal) = metrics_allowed(peer, &state.config.server.metrics_token.0, authorization)
    {
        return refusal.into_response();
    }
    let mut out = String::new();
    out.push_str("# HELP vigie_build_info Version de Vigie.\n# TYPE vigie_build_info gauge\n");
    out.push_str(&format!(
        "vigie_build_info{{version=\"{}\",backend=\"{:?}\"}} 1\n",
        env!("CARGO_PKG_VERSION"),
        state.store.backend()
    ));
    out.push_str("# HELP vigie_http_requests_total Requêtes HTTP servies, par méthode, route et statut.\n# TYPE vigie_http_requests_total counter\n");
    {
        let requests = state.metrics.requests.lock().expect("metrics lock");
        for ((method, route, status), count) in requests.iter() {
            out.push_str(&format!(
                "vigie_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {count}\n",
                escape(method),
                escape(route)
            ));
        }
    }
    out.push_str(&format!(
        "# HELP vigie_observations_received_total Observations reçues des agents, sondes et battements.\n# TYPE vigie_observations_received_total counter\nvigie_observations_received_total {}\n",
        state.metrics.observations.load(std::sync::atomic::Ordering::Relaxed)
    ));
    out.push_str("# HELP vigie_notifications_total Notifications par résultat d'envoi (sent, retried, failed).\n# TYPE vigie_notifications_total counter\n");
    for (index, outcome) in ["sent", "retried", "failed"].iter().enumerate() {
        out.push_str(&format!(
            "vigie_notifications_total{{outcome=\"{outcome}\"}} {}\n",
            state.metrics.notifications[index].load(std::sync::atomic::Ordering::Relaxed)
        ));
    }
    out.push_str(&format!(
        "# HELP vigie_oncall_uncovered_rotations Astreintes sans personne d'astreinte.\n# TYPE vigie_oncall_uncovered_rotations gauge\nvigie_oncall_uncovered_rotations {}\n",
        state.metrics.uncovered_rotations.load(std::sync::atomic::Ordering::Relaxed)
    ));
    if state.config.mailbox.is_read() {
        use std::sync::atomic::Ordering::Relaxed;
        out.push_str("# HELP vigie_mail_received_total Messages de la boîte de support enregistrés, par devenir (opened, threaded, set_aside).\n# TYPE vigie_mail_received_total counter\n");
        for (index, disposition) in ["opened", "threaded", "set_aside"].iter().enumerate() {
            out.push_str(&format!(
                "vigie_mail_received_total{{disposition=\"{disposition}\"}} {}\n",
                state.metrics.mail[index].load(Relaxed)
            ));
        }
        out.push_str(&format!(
            "# HELP vigie_mailbox_failures_total Lectures de la boîte de support en échec.\n# TYPE vigie_mailbox_failures_total counter\nvigie_mailbox_failures_total {}\n",
            state.metrics.mailbox_failures.load(Relaxed)
        ));
        out.push_str(&format!(
            "# HELP vigie_mailbox_unreadable La boîte de support ne peut pas être lue (1) : les emails des clients n'ouvrent plus de tickets.\n# TYPE vigie_mailbox_unreadable gauge\nvigie_mailbox_unreadable {}\n",
            state.metrics.mailbox_failing.load(Relaxed)
        ));
        out.push_str(&format!(
            "# HELP vigie_mailbox_last_read_timestamp_seconds Dernière lecture complète de la boîte de support (secondes Unix ; 0 : jamais).\n# TYPE vigie_mailbox_last_read_timestamp_seconds gauge\nvigie_mailbox_last_read_timestamp_seconds {}\n",
            state.metrics.mailbox_read_at.load(Relaxed)
        ));
    }
    match state.store.count_objects().await {
        Ok(counts) => {
            out.push_str("# HELP vigie_inventory_objects Objets de l'inventaire, par type.\n# TYPE vigie_inventory_objects gauge\n");
            for (kind, count) in counts {
                out.push_str(&format!("vigie_inventory_objects{{kind=\"{}\"}} {count}\n", kind.key()));
            }
            out.push_str("# HELP vigie_database_up La base de données répond.\n# TYPE vigie_database_up gauge\nvigie_database_up 1\n");
        }
        Err(_) => out.push_str("# HELP vigie_database_up La base de données répond.\n# TYPE vigie_database_up gauge\nvigie_database_up 0\n"),
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response()
}
