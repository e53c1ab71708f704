//! The server's integration tests: the real application on a free port, its own database
//! (SQLite, or PostgreSQL with `VIGIE_TEST_DATABASE=postgres`), driven over HTTP.

mod accounts;
mod alarms;
mod api_inventory;
mod audit;
mod authentication;
mod browser;
mod i18n;
mod isolation;
mod mailbox;
mod notifications;
mod openapi;
mod operations;
mod pages;
mod reports;
mod supervision;
mod tickets;
mod traps;

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use vigie_domain::access::{Actor, TokenScope};
use vigie_domain::inventory::StaffRole;
use vigie_domain::inventory::file::InventoryFile;
use vigie_server::{AppState, Clock, Config, auth};
use vigie_store::testing::{TestDatabase, backend_from_env};
use vigie_store::{NewUser, System, UserKind};

/// 2026-11-23T10:00:00Z.
pub const NOW: i64 = 1_795_428_000_000;
pub const PASSWORD: &str = "mot-de-passe-de-test";

pub fn example_fleet() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/fleet.toml"
    ))
    .expect("examples/fleet.toml")
}

pub struct TestApp {
    pub base: String,
    pub store: System,
    pub clock: Clock,
    pub http: reqwest::Client,
    database: Option<TestDatabase>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(configure: impl FnOnce(&mut Config)) -> TestApp {
        TestApp::spawn_at(NOW, configure).await
    }

    /// The app with its clock at `start` (epoch ms).
    pub async fn spawn_at(start: i64, configure: impl FnOnce(&mut Config)) -> TestApp {
        let database = TestDatabase::create(backend_from_env()).await;
        let store = database.open().await;
        let mut config = Config::default();
        config.server.max_request_bytes = 64 * 1024;
        config.server.max_import_bytes = 8 * 1024 * 1024;
        // The example fleet's addresses are not on this machine: no polling them from tests.
        config.supervision.poll = false;
        // The monthly reports are made when a test asks (`reports.rs`), not at start.
        config.reports.monthly = false;
        configure(&mut config);
        let clock = Clock::manual(start);
        let running = vigie_server::start(
            AppState::new(store.clone(), config, clock.clone()),
            "127.0.0.1:0".parse().unwrap(),
        )
        .await
        .unwrap();
        TestApp {
            base: format!("http://{}", running.address),
            store,
            clock,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            database: Some(database),
            server: running.handle,
        }
    }

    /// A second server process on this app's database, as several processes share one
    /// PostgreSQL database; its address, and the handle that stops it.
    pub async fn another_process(&self) -> (String, tokio::task::JoinHandle<std::io::Result<()>>) {
        let database = self.database.as_ref().expect("the app's database");
        let store = database.open().await;
        let mut config = Config::default();
        config.supervision.poll = false;
        config.reports.monthly = false;
        let running = vigie_server::start(
            AppState::new(store, config, self.clock.clone()),
            "127.0.0.1:0".parse().unwrap(),
        )
        .await
        .unwrap();
        (format!("http://{}", running.address), running.handle)
    }

    /// Stops the server and drops its database.
    pub async fn finish(mut self) {
        self.server.abort();
        self.store.close().await;
        if let Some(database) = self.database.take() {
            database.drop_database().await;
        }
    }

    /// Imports the example fleet through the store, as the console would.
    pub async fn import_fleet(&self) -> vigie_domain::inventory::Inventory {
        let parsed = InventoryFile::parse(&example_fleet()).unwrap();
        self.store
            .import(&Actor::console("test"), &parsed.inventory, NOW)
            .await
            .unwrap();
        parsed.inventory
    }

    /// Creates an account with [`PASSWORD`] (no change required) and logs it in.
    pub async fn login_as(
        &self,
        username: &str,
        kind: UserKind,
        client: Option<&str>,
        roles: &[StaffRole],
    ) -> Session<'_> {
        self.create_user(username, kind, client, roles, false).await;
        self.login(username, PASSWORD).await.expect("login")
    }

    pub async fn create_user(
        &self,
        username: &str,
        kind: UserKind,
        client: Option<&str>,
        roles: &[StaffRole],
        must_change: bool,
    ) {
        let new = NewUser {
            username: username.into(),
            display_name: username.into(),
            kind,
            staff: None,
            client: client.map(|c| vigie_domain::Reference::parse(c).unwrap()),
            roles: roles.iter().copied().collect::<BTreeSet<_>>(),
            password_hash: auth::hash_password(PASSWORD),
            must_change_password: must_change,
        };
        self.store
            .create_user(&Actor::console("test"), new, NOW)
            .await
            .unwrap();
    }

    pub async fn login(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Session<'_>, (StatusCode, Value)> {
        let response = self
            .http
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&serde_json::json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap();
        let status = response.status();
        let cookie = response
            .headers()
            .get("set-cookie")
            .map(|v| v.to_str().unwrap().to_string());
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if status != StatusCode::OK {
            return Err((status, body));
        }
        let cookie = cookie.expect("a session cookie");
        let value = cookie.split(';').next().unwrap().to_string();
        Ok(Session {
            app: self,
            auth: Auth::Cookie(value),
        })
    }

    pub async fn token(&self, username: &str, scope: TokenScope) -> Session<'_> {
        let (_, secret) = auth::issue_token(
            &self.store,
            &Actor::console("test"),
            username,
            "test",
            scope,
            None,
            NOW,
        )
        .await
        .unwrap();
        Session {
            app: self,
            auth: Auth::Bearer(secret),
        }
    }

    /// An agent's token, held by a new staff account `username` (observations come from
    /// machines on behalf of the integrator's staff).
    pub async fn agent(&self, username: &str) -> Session<'_> {
        self.create_user(
            username,
            UserKind::Staff,
            None,
            &[StaffRole::Supervision],
            false,
        )
        .await;
        self.token(username, TokenScope::Agent).await
    }

    pub fn anonymous(&self) -> Session<'_> {
        Session {
            app: self,
            auth: Auth::None,
        }
    }
}

#[derive(Clone)]
pub enum Auth {
    None,
    Cookie(String),
    Bearer(String),
}

/// Someone calling the API: one typed helper per verb.
#[derive(Clone)]
pub struct Session<'a> {
    pub app: &'a TestApp,
    pub auth: Auth,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

impl Session<'_> {
    /// Records `observations` through the API, as an agent pushes them; they must be taken.
    pub async fn observe(&self, observations: Vec<Value>) {
        let reply = self
            .request(
                Method::POST,
                "/api/v1/observations",
                Some(&serde_json::json!({ "observations": observations })),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    }

    pub async fn request(&self, method: Method, path: &str, body: Option<&Value>) -> Reply {
        let mut request = self
            .app
            .http
            .request(method, format!("{}{path}", self.app.base));
        if let Some(body) = body {
            request = request.json(body);
        }
        self.send(request).await
    }

    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Reply {
        self.send(
            self.app
                .http
                .request(method, format!("{}{path}", self.app.base))
                .header("content-type", content_type)
                .body(body),
        )
        .await
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let request = match &self.auth {
            Auth::None => request,
            Auth::Cookie(cookie) => request.header("cookie", cookie),
            Auth::Bearer(token) => request.bearer_auth(token),
        };
        let response = request.send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.request(Method::GET, path, None).await
    }

    /// The body of a GET as bytes (a PDF), after checking it is a 200.
    pub async fn get_bytes(&self, path: &str) -> Vec<u8> {
        let request = self.app.http.get(format!("{}{path}", self.app.base));
        let request = match &self.auth {
            Auth::None => request,
            Auth::Cookie(cookie) => request.header("cookie", cookie),
            Auth::Bearer(token) => request.bearer_auth(token),
        };
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        response.bytes().await.unwrap().to_vec()
    }
    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.request(Method::POST, path, Some(body)).await
    }
    pub async fn put(&self, path: &str, body: &Value) -> Reply {
        self.request(Method::PUT, path, Some(body)).await
    }
    pub async fn delete(&self, path: &str) -> Reply {
        self.request(Method::DELETE, path, None).await
    }
}
