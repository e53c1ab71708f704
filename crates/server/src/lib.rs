//! Vigie's HTTP server: the `/api/v1` API (inventory, people, audit), authentication, health
//! and metrics. Handlers are thin: they read the clock once, authenticate the caller, and call
//! the store, which enforces visibility and permissions.

pub mod alarms;
pub mod api;
pub mod auth;
pub mod clock;
pub mod config;
pub mod delivery;
pub mod demo;
pub mod desk;
pub mod error;
pub mod mailbox;
pub mod metrics;
pub mod openapi;
pub mod password_rule;
pub mod policies;
pub mod reports;
pub mod rounds;
pub mod runtime;
pub mod web;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use tokio::net::TcpListener;
use vigie_store::{Store, System};

pub use clock::Clock;
pub use config::Config;

/// What every handler shares.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The store as request handlers see it: each operation answers to an actor (or to a
    /// credential). The operations that answer to no actor ([`System`]) are held privately by
    /// the loops and workers below, so that a handler cannot reach them (issue 24, item 6).
    pub store: Store,
    /// The loops' own handle on the whole store (`runtime`).
    pub background: runtime::Background,
    pub config: Arc<Config>,
    pub clock: Clock,
    pub metrics: Arc<metrics::Metrics>,
    /// The alarm worker, started on first use.
    pub alarms: alarms::AlarmWorker,
    /// What the store needs to plan escalations (policy, webhooks), as in force now: the
    /// console may change it without restart (`policies`).
    pub policies: Arc<policies::Policies>,
    /// Wakes the delivery loop; holds the acknowledgement signing key.
    pub deliveries: delivery::Deliveries,
    /// What changed, for the pages open in browsers (server-sent events).
    pub live: web::Live,
    /// The pages' availability rates, kept a minute.
    pub rates: Arc<web::RateCache>,
    /// The pages' availability charts, day by day, kept a minute.
    pub charts: Arc<web::ChartCache>,
    /// The hot pages' reads, kept while nothing changes (`web::PageCache`).
    pub(crate) page_reads: Arc<web::PageReads>,
    /// The rounds of the virtual clock, when it is one (`rounds`).
    pub rounds: rounds::Rounds,
}

impl AppState {
    pub fn new(system: System, config: Config, clock: Clock) -> AppState {
        let stream_limits = web::live::StreamLimits::of(&config);
        AppState {
            store: system.store(),
            background: runtime::Background::new(system.clone()),
            deliveries: delivery::Deliveries::new(system.clone()),
            alarms: alarms::AlarmWorker::new(system.clone()),
            policies: Arc::new(policies::Policies::new(
                delivery::escalation(&config),
                system.clone(),
            )),
            rounds: rounds::Rounds::new(system),
            config: Arc::new(config),
            clock,
            metrics: Arc::new(metrics::Metrics::default()),
            live: web::Live::new(stream_limits),
            rates: Arc::default(),
            charts: Arc::default(),
            page_reads: Arc::default(),
        }
    }

    /// The same state with `escalation` in force from the start, in place of the
    /// configuration's (a benchmark's own policy); before the state serves anything.
    pub fn with_escalation(mut self, escalation: vigie_store::Escalation) -> AppState {
        self.policies = Arc::new(policies::Policies::new(
            escalation,
            self.policies.system().clone(),
        ));
        self
    }

    /// The escalation setup in force now (policy and webhooks): take it once per request or
    /// step, so that one piece of work sees one policy.
    pub fn escalation(&self) -> Arc<vigie_store::Escalation> {
        self.policies.current()
    }
}

/// The whole application.
pub fn app(state: AppState) -> Router {
    let max_request_bytes = state.config.server.max_request_bytes;
    Router::new()
        .merge(api::routes(&state))
        .merge(web::routes(&state))
        .merge(metrics::routes())
        .fallback(web::unknown_address)
        .layer(DefaultBodyLimit::max(max_request_bytes))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            web::forget_reads_after_writes,
        ))
        .layer(axum::middleware::from_fn(api::refuse_cookie_form_writes))
        .layer(axum::middleware::from_fn(api::json_errors))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::count_requests,
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// A running server.
#[derive(Debug)]
pub struct Running {
    pub address: SocketAddr,
    pub handle: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Binds `address` (port 0 picks a free one) and serves until the task is dropped or the
/// process receives Ctrl-C / SIGTERM.
pub async fn start(state: AppState, address: SocketAddr) -> std::io::Result<Running> {
    let listener = TcpListener::bind(address).await?;
    let address = listener.local_addr()?;
    // The policy saved from the console, if any, is in force before the first request.
    if let Err(error) = policies::refresh_quietly(&state).await {
        tracing::error!(%error, "lecture de la politique enregistrée : la politique de la configuration est en vigueur");
    }
    let background = state.clone();
    let app = app(state).into_make_service_with_connect_info::<SocketAddr>();
    let handle = tokio::spawn(async move {
        let _loops = runtime::spawn(background);
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown_signal())
            .await
    });
    Ok(Running { address, handle })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("arrêt demandé");
}
