//! Issue 22: the simulator tells the truth about the server. Every scenario of `scenarios/` is
//! played twice — by `vigie simulate`'s engine, and by a real `vigie serve` on a virtual clock
//! (`VIGIE_VIRTUAL_CLOCK`) that this test moves through `POST /api/v1/clock`, never sleeping,
//! with each input sent where a real one arrives (the observation API, the desk's and the
//! alarms' API, as the person the scenario names) — and what each wrote to its store (its
//! journal: state changes, alarms, escalations, tickets, messages and pages) must be the same,
//! line for line.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};
use vigie_domain::Reference;
use vigie_domain::inventory::file::InventoryFile;
use vigie_simulate::{AlarmStep, Input, InputKind, Scenario};

use crate::{Sandbox, free_port, scenarios, stderr, stdout};

#[path = "../../../notify/tests/it/imap_peer.rs"]
mod imap_peer;

/// The password of every account of a replay.
const PASSWORD: &str = "Rejeu-du-scenario-2026!";
/// Debian's Python, which has python3-aiosmtpd.
const DEBIAN_PYTHON: &str = "/usr/bin/python3";

/// aiosmtpd on loopback, the server's real SMTP peer; killed when dropped.
struct Smtp(Child);

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Smtp {
    fn start(port: u16, output: &Path) -> Smtp {
        let mut child = Command::new(DEBIAN_PYTHON)
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../notify/tests/peers/smtp_server.py"
            ))
            .args(["--port", &port.to_string(), "--output"])
            .arg(output)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("/usr/bin/python3 avec python3-aiosmtpd (scripts/packages/notify.txt)");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().expect("aiosmtpd démarre").unwrap();
        assert!(first.starts_with("ready "), "{first}");
        std::thread::spawn(move || for _ in lines {});
        Smtp(child)
    }
}

/// A local HTTP receiver standing for the SMS and voice providers: accepts every message and
/// every call.
async fn sms_gateway() -> u16 {
    let app = axum::Router::new()
        .route(
            "/sms",
            axum::routing::post(|| async { axum::Json(json!({"status": "accepted"})) }),
        )
        .route(
            "/voice",
            axum::routing::post(|| async { axum::Json(json!({"call": "queued"})) }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    port
}

/// A logged-in account of the replay, logging in again when its session has expired (the
/// virtual clock may jump days).
struct Account {
    username: String,
    cookie: Option<String>,
}

/// The server of one replay and the accounts acting on it.
struct Replay<'a> {
    sandbox: &'a Sandbox,
    base: String,
    http: reqwest::Client,
    accounts: BTreeMap<String, Account>,
    /// The agent token pushing observations.
    agent: String,
    /// A probe token per site.
    probes: BTreeMap<String, String>,
    /// Each site's client, from the inventory.
    clients: BTreeMap<String, String>,
    /// The scenario's ticket names and their numbers.
    tickets: BTreeMap<String, u64>,
    /// The scenario's one-off windows and their ids.
    windows: BTreeMap<String, i64>,
    /// The support mailbox, when the scenario writes to it.
    imap: Option<imap_peer::ImapServer>,
}

impl Replay<'_> {
    fn cli(&self, args: &[&str]) -> String {
        let output = self.sandbox.run(args);
        assert!(output.status.success(), "{args:?} : {}", stderr(&output));
        stdout(&output)
    }

    fn cli_with_stdin(&self, args: &[&str], input: &str) {
        use std::io::Write;
        let mut child = self
            .sandbox
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{args:?} : {}", stderr(&output));
    }

    /// The account acting as staff member `by` (the scenario's `by`; `client` for the
    /// client's own steps, recorded under that name as the simulator does), created at first
    /// use.
    fn account_for(&mut self, by: &str) -> String {
        let username = by.to_ascii_lowercase();
        if !self.accounts.contains_key(&username) {
            let mut args = vec![
                "user",
                "add",
                &username,
                "--name",
                by,
                "--kind",
                "staff",
                "--role",
                "technician",
            ];
            if by != "client" {
                args.extend(["--staff", by]);
            }
            self.cli(&args);
            self.cli_with_stdin(&["user", "passwd", &username, "--password-stdin"], PASSWORD);
            self.accounts.insert(
                username.clone(),
                Account {
                    username: username.clone(),
                    cookie: None,
                },
            );
        }
        username
    }

    async fn login(&mut self, username: &str) -> String {
        let response = self
            .http
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&json!({"username": username, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "connexion de {username} : {}",
            response.text().await.unwrap()
        );
        let cookie = response
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.contains("session"))
            .and_then(|v| v.split(';').next())
            .expect("un cookie de session")
            .to_owned();
        let account = self.accounts.get_mut(username).unwrap();
        account.cookie = Some(cookie.clone());
        cookie
    }

    /// `method path` with `body` as `username`; the answer's status and JSON.
    async fn call(
        &mut self,
        username: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> (reqwest::StatusCode, Value) {
        for _ in 0..2 {
            let cookie = match &self.accounts[username].cookie {
                Some(cookie) => cookie.clone(),
                None => self.login(username).await,
            };
            let mut request = self
                .http
                .request(method.clone(), format!("{}{path}", self.base))
                .header(reqwest::header::COOKIE, cookie);
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = request.send().await.unwrap();
            let status = response.status();
            if status == reqwest::StatusCode::UNAUTHORIZED {
                self.accounts.get_mut(username).unwrap().cookie = None;
                continue;
            }
            let value = response.json().await.unwrap_or(Value::Null);
            return (status, value);
        }
        panic!(
            "{} : session refusée deux fois",
            self.accounts[username].username
        );
    }

    /// As `username`, a call that must succeed.
    async fn must(&mut self, username: &str, path: &str, body: Value) -> Value {
        let (status, value) = self
            .call(username, reqwest::Method::POST, path, Some(&body))
            .await;
        assert!(status.is_success(), "POST {path} {body} : {status} {value}");
        value
    }

    /// Moves the virtual clock to `to`: with a round or not; the next instant due.
    async fn clock(
        &mut self,
        to: i64,
        run: bool,
        watchdog: bool,
        rotations: bool,
        mailbox: bool,
    ) -> Option<i64> {
        let answer = self
            .must(
                "admin",
                "/api/v1/clock",
                json!({"to": to, "run": run, "watchdog": watchdog, "rotations": rotations, "mailbox": mailbox}),
            )
            .await;
        answer["next"].as_i64()
    }

    /// Gives `name` to the newest ticket, the one a message has just opened.
    async fn name_newest_ticket(&mut self, name: &str) {
        let (status, answer) = self
            .call(
                "admin",
                reqwest::Method::GET,
                "/api/v1/tickets?limit=500",
                None,
            )
            .await;
        assert!(status.is_success(), "{answer}");
        let newest = answer["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|t| t["number"].as_u64())
            .max()
            .expect("le ticket ouvert par le message");
        self.tickets.insert(name.to_owned(), newest);
    }

    async fn push(&self, token: &str, body: Value) {
        let response = self
            .http
            .post(format!("{}/api/v1/observations", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        assert!(
            status.is_success(),
            "envoi {body} : {status} {}",
            response.text().await.unwrap()
        );
    }

    fn ticket(&self, name: &str) -> u64 {
        self.tickets
            .get(name)
            .copied()
            .or_else(|| name.parse().ok())
            .unwrap_or_else(|| panic!("ticket « {name} » inconnu"))
    }

    /// Sends one input of the scenario where a real one arrives.
    async fn input(&mut self, input: &Input) {
        match &input.kind {
            InputKind::ClientReport {
                ticket,
                channel,
                site,
                equipment,
                text,
                criticality,
                ticket_kind,
            } => {
                let body = json!({
                    "client": self.clients[site.as_str()],
                    "site": site,
                    "equipment": equipment,
                    "kind": ticket_kind,
                    "source": channel,
                    "symptom": text,
                    "stated_criticality": criticality,
                });
                let opened = self.must("admin", "/api/v1/tickets", body).await;
                let number = opened["ticket"]["number"].as_u64().expect("un numéro");
                self.tickets.insert(ticket.clone(), number);
            }
            InputKind::ClientMail {
                from,
                subject,
                text,
                automatic,
                ..
            } => {
                // A message as a client's mail program sends it, put in the support mailbox;
                // the round that follows reads it (the name of a ticket it opens is taken
                // then).
                let mut raw = format!(
                    "From: {from}\r\nTo: support@integrateur.fr\r\nSubject: =?UTF-8?B?{}?=\r\nMessage-ID: <entree-{}@rejeu>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n",
                    {
                        use base64::Engine;
                        // One encoded word, never folded inside.
                        base64::engine::general_purpose::STANDARD.encode(subject.as_bytes())
                    },
                    input.number
                );
                if *automatic {
                    raw.push_str("Auto-Submitted: auto-replied\r\n");
                }
                raw.push_str("\r\n");
                raw.push_str(&base64(text.as_bytes()));
                raw.push_str("\r\n");
                self.imap
                    .as_ref()
                    .expect("une boîte IMAP")
                    .append("INBOX", raw.as_bytes());
            }
            InputKind::Resolution {
                ticket,
                by,
                resolution,
            } => {
                let user = self.account_for(by.as_str());
                let path = format!("/api/v1/tickets/{}/resolution", self.ticket(ticket));
                self.must(&user, &path, serde_json::to_value(resolution).unwrap())
                    .await;
            }
            InputKind::Action {
                ticket,
                action,
                by,
                text,
                reason,
            } => {
                let user = self.account_for(by.as_ref().map_or("client", Reference::as_str));
                let number = self.ticket(ticket);
                let (path, body) = match action {
                    vigie_domain::ticket::Action::UpdateClient => (
                        format!("/api/v1/tickets/{number}/updates"),
                        json!({"text": text}),
                    ),
                    vigie_domain::ticket::Action::Close => (
                        format!("/api/v1/tickets/{number}/close"),
                        json!({"reason": reason}),
                    ),
                    other => (
                        format!("/api/v1/tickets/{number}/actions"),
                        json!({"action": other}),
                    ),
                };
                self.must(&user, &path, body).await;
            }
            InputKind::Observation { observations, .. } => {
                let token = self.agent.clone();
                self.push(&token, json!({"observations": observations}))
                    .await;
            }
            InputKind::Probe {
                site,
                name,
                interval_seconds,
            } => {
                let token = match self.probes.get(site.as_str()) {
                    Some(token) => token.clone(),
                    None => {
                        let printed = self.cli(&[
                            "user",
                            "token",
                            "robot",
                            "--name",
                            &format!("sonde {site}"),
                            "--scope",
                            "probe",
                            "--site",
                            site.as_str(),
                        ]);
                        let token = printed.lines().last().unwrap().trim().to_owned();
                        self.probes.insert(site.to_string(), token.clone());
                        token
                    }
                };
                self.push(
                    &token,
                    json!({
                        "probe": {"name": name, "site": site, "interval_seconds": interval_seconds},
                        "observations": [],
                    }),
                )
                .await;
            }
            InputKind::Diagnosis {
                ticket,
                by,
                checks,
                result,
                on_site_needed,
            } => {
                let user = self.account_for(by.as_str());
                let path = format!("/api/v1/tickets/{}/notes", self.ticket(ticket));
                let note = vigie_domain::ticket::desk::Note::Diagnosis {
                    checks: checks.clone(),
                    result: result.clone(),
                    on_site_needed: *on_site_needed,
                    parts: Vec::new(),
                };
                self.must(&user, &path, serde_json::to_value(note).unwrap())
                    .await;
            }
            InputKind::Alarm { alarm, step, by } => {
                let user = self.account_for(by.as_str());
                let (path, body) = match step {
                    AlarmStep::Acknowledge => {
                        (format!("/api/v1/alarms/{alarm}/acknowledge"), json!({}))
                    }
                    AlarmStep::TakeCharge => {
                        (format!("/api/v1/alarms/{alarm}/take-charge"), json!({}))
                    }
                    AlarmStep::Close(report) => (
                        format!("/api/v1/alarms/{alarm}/close"),
                        serde_json::to_value(report).unwrap(),
                    ),
                };
                // A refused step (CLO-2) is part of the story, in the simulator as here.
                let (status, answer) = self
                    .call(&user, reqwest::Method::POST, &path, Some(&body))
                    .await;
                assert!(
                    status.is_success() || status.is_client_error(),
                    "{path} : {status} {answer}"
                );
            }
            InputKind::WindowOpened {
                window,
                kind,
                site,
                equipment,
                until,
                reason,
                by,
            } => {
                let user = self.account_for(by.as_str());
                let body = json!({"kind": kind.key(), "site": site, "equipment": equipment,
                                  "starts_at": input.at, "ends_at": until, "reason": reason});
                let (status, answer) = self
                    .call(&user, reqwest::Method::POST, "/api/v1/windows", Some(&body))
                    .await;
                assert_eq!(status, reqwest::StatusCode::CREATED, "{answer}");
                self.windows
                    .insert(window.clone(), answer["id"].as_i64().unwrap());
            }
            InputKind::Policy { text, note, by } => {
                let user = self.account_for(by.as_str());
                let body = json!({"text": text, "note": note});
                let (status, answer) = self
                    .call(&user, reqwest::Method::PUT, "/api/v1/policy", Some(&body))
                    .await;
                assert_eq!(status, reqwest::StatusCode::OK, "{answer}");
            }
            InputKind::WindowEnded { window, by } => {
                let user = self.account_for(by.as_str());
                let id = self.windows[window];
                let (status, answer) = self
                    .call(
                        &user,
                        reqwest::Method::POST,
                        &format!("/api/v1/windows/{id}/end"),
                        Some(&json!({})),
                    )
                    .await;
                assert!(status.is_success(), "{status} {answer}");
            }
        }
    }
}

/// `bytes` in base64, lines of 76 characters (RFC 2045).
fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    encoded
        .as_bytes()
        .chunks(76)
        .map(|line| std::str::from_utf8(line).expect("base64 is ASCII"))
        .collect::<Vec<_>>()
        .join("\r\n")
}

/// The journal's lines, with what only says who typed a report in left out: the API's caller
/// records itself on the ticket it opens, a scenario's report names nobody.
fn comparable(journal: Vec<String>) -> Vec<String> {
    journal
        .into_iter()
        .map(|line| {
            let mut value: Value = serde_json::from_str(&line).unwrap();
            if value["table"] == "ticket_events" && value["event"] == "opened" {
                value["by_ref"] = Value::Null;
                if let Some(record) = value.get_mut("record").and_then(Value::as_object_mut) {
                    record.remove("by");
                }
            }
            value.to_string()
        })
        .collect()
}

/// Replays `path` through a real server and returns its journal.
async fn replay(path: &Path) -> Vec<String> {
    let (scenario, inventory_text): (Scenario, String) = vigie_simulate::read_file(path).unwrap();
    let sandbox = Sandbox::new().await;
    let smtp_port = free_port();
    let _smtp = Smtp::start(smtp_port, &sandbox.directory.join("smtp.jsonl"));
    let sms_port = sms_gateway().await;
    let writes_mail = scenario
        .inputs
        .iter()
        .any(|i| matches!(i.kind, InputKind::ClientMail { .. }));
    let imap = writes_mail.then(|| imap_peer::ImapServer::start(false));

    // The accounts exist before the server starts: an administrator, and the supervision
    // robot whose agent token pushes the observations.
    let setup = |args: &[&str]| {
        let output = sandbox.run(args);
        assert!(output.status.success(), "{args:?} : {}", stderr(&output));
        stdout(&output)
    };
    setup(&[
        "user",
        "add",
        "admin",
        "--name",
        "Admin",
        "--kind",
        "staff",
        "--role",
        "administrator",
        "--role",
        "supervision",
    ]);
    let token = sandbox.agent_token();
    let port = free_port();
    let mut command = sandbox.command(&["serve"]);
    command
        .env("VIGIE_VIRTUAL_CLOCK", scenario.start.to_string())
        .env("VIGIE_SERVER__LISTEN", format!("127.0.0.1:{port}"))
        .env("VIGIE_SMTP__HOST", "127.0.0.1")
        .env("VIGIE_SMTP__PORT", smtp_port.to_string())
        .env("VIGIE_SMTP__SECURITY", "none")
        .env("VIGIE_SMTP__FROM", "Vigie <vigie@integrateur.fr>")
        .env("VIGIE_SMS__URL", format!("http://127.0.0.1:{sms_port}/sms"))
        .env("VIGIE_SMS__BODY", r#"{"to": "{to}", "text": "{text}"}"#)
        .env("VIGIE_SMS__MAX_PER_RECIPIENT", "100000")
        .env(
            "VIGIE_VOICE__URL",
            format!("http://127.0.0.1:{sms_port}/voice"),
        )
        .env(
            "VIGIE_VOICE__BODY",
            r#"{"to": "{to}", "text": "{text}", "callback": "{callback}"}"#,
        )
        .env("VIGIE_VOICE__MAX_PER_RECIPIENT", "100000")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(sandbox.directory.join("serve.log")).unwrap());
    if let Some(imap) = &imap {
        command
            .env("VIGIE_MAILBOX__HOST", "127.0.0.1")
            .env("VIGIE_MAILBOX__PORT", imap.port.to_string())
            .env("VIGIE_MAILBOX__SECURITY", "none")
            .env("VIGIE_MAILBOX__USERNAME", &imap.user)
            .env("VIGIE_MAILBOX__PASSWORD", &imap.password)
            .env("VIGIE_MAILBOX__ADDRESS", "support@integrateur.fr");
    }
    if let Some(policy) = &scenario.policy {
        let file = sandbox.directory.join("policy.toml");
        std::fs::write(&file, toml::to_string(policy).unwrap()).unwrap();
        command.env("VIGIE_POLICY", &file);
    }
    let mut server = command.spawn().unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(first.starts_with("Vigie écoute"), "{first}");
    std::thread::spawn(move || for _ in lines {});

    let inventory = InventoryFile::parse(&inventory_text).unwrap().inventory;
    let mut replay = Replay {
        sandbox: &sandbox,
        base: format!("http://127.0.0.1:{port}"),
        http: reqwest::Client::new(),
        accounts: BTreeMap::new(),
        agent: token,
        probes: BTreeMap::new(),
        clients: inventory
            .sites
            .iter()
            .map(|site| (site.reference.to_string(), site.client.to_string()))
            .collect(),
        tickets: BTreeMap::new(),
        windows: BTreeMap::new(),
        imap,
    };
    replay.cli_with_stdin(&["user", "passwd", "admin", "--password-stdin"], PASSWORD);
    replay.accounts.insert(
        "admin".into(),
        Account {
            username: "admin".into(),
            cookie: None,
        },
    );
    // The inventory, imported at the scenario's start as the simulator does.
    let cookie = replay.login("admin").await;
    let imported = replay
        .http
        .post(format!("{}/api/v1/inventory/import", replay.base))
        .header(reqwest::header::COOKIE, cookie)
        .header(reqwest::header::CONTENT_TYPE, "application/toml")
        .body(inventory_text.clone())
        .send()
        .await
        .unwrap();
    assert!(
        imported.status().is_success(),
        "import : {}",
        imported.text().await.unwrap()
    );
    // The rotations, once their staff exist.
    if !scenario.rotations.is_empty() {
        // The scenario's [[rotation]] blocks, in the import format they are written in.
        let text = std::fs::read_to_string(path).unwrap();
        let table: toml::Table = toml::from_str(&text).unwrap();
        let rotations = toml::to_string(&toml::Table::from_iter([(
            "rotation".to_owned(),
            table["rotation"].clone(),
        )]))
        .unwrap();
        let file = sandbox.directory.join("rotations.toml");
        std::fs::write(&file, rotations).unwrap();
        replay.cli(&["rotation", "import", file.to_str().unwrap()]);
    }

    // The simulator's loop, with the server doing the work: inputs first at equal instants,
    // then a round; a round of its own at each instant something falls due.
    let start = scenario.start;
    let end = scenario.end;
    let mut rotation_check = (!scenario.rotations.is_empty()).then_some(start);
    let (_, answer) = replay
        .call("admin", reqwest::Method::GET, "/api/v1/clock", None)
        .await;
    let mut server_next = answer["next"].as_i64();
    let mut inputs = scenario.inputs.iter().peekable();
    // A round that leaves its own instant due again would loop forever: bounded.
    let mut rounds_at_one_instant = (start, 0);
    loop {
        let next_input = inputs.peek().map(|i| i.at);
        let next_timer = server_next.into_iter().chain(rotation_check).min();
        let now = match (next_input, next_timer) {
            (Some(input), Some(timer)) => input.min(timer),
            (Some(input), None) => input,
            (None, Some(timer)) => timer,
            (None, None) => break,
        };
        if now > end {
            break;
        }
        if rounds_at_one_instant.0 == now {
            rounds_at_one_instant.1 += 1;
            assert!(
                rounds_at_one_instant.1 <= 1_000,
                "{} : le serveur laisse dû l'instant {now} après 1 000 tours",
                path.display()
            );
        } else {
            rounds_at_one_instant = (now, 1);
        }
        let rotations = rotation_check.is_some_and(|at| at <= now);
        if rotations {
            rotation_check = scenario
                .rotations
                .iter()
                .filter_map(|r| r.next_change_after(now))
                .min();
        }
        if next_input == Some(now) {
            replay.clock(now, false, false, false, false).await;
            let input = inputs.next().unwrap();
            replay.input(input).await;
            let mail = matches!(input.kind, InputKind::ClientMail { .. });
            server_next = replay.clock(now, true, false, rotations, mail).await;
            if let InputKind::ClientMail {
                ticket: Some(name), ..
            } = &input.kind
            {
                replay.name_newest_ticket(name).await;
            }
        } else {
            server_next = replay.clock(now, true, true, rotations, false).await;
        }
    }
    let _ = server.kill();
    let _ = server.wait();
    // The server's own database: its data directory's file, or the PostgreSQL one it was given.
    let database = sandbox.database.as_ref().unwrap();
    let url = match database.backend {
        vigie_store::Backend::Postgres => database.url.clone(),
        _ => format!(
            "sqlite://{}",
            sandbox.directory.join("vigie.sqlite").display()
        ),
    };
    let store = vigie_store::System::open(&url).await.unwrap();
    let journal = store.journal().await.unwrap();
    store.close().await;
    sandbox.finish().await;
    journal
}

fn replayed_scenarios() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(scenarios())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.extension().is_some_and(|e| e == "toml")
                && path.with_extension("expected.jsonl").exists()
        })
        .collect();
    paths.sort();
    paths
}

/// Issue 22: every scenario, replayed through `vigie serve`, writes what the simulator
/// writes.
#[tokio::test(flavor = "multi_thread")]
async fn every_scenario_replayed_by_a_real_server_writes_what_the_simulator_writes() {
    let only = std::env::var("VIGIE_REPLAY_ONLY").unwrap_or_default();
    let mut failures = Vec::new();
    for path in replayed_scenarios() {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if !name.contains(&only) {
            continue;
        }
        let simulated = comparable(vigie_simulate::journal_of_file(&path).await.unwrap());
        let served = comparable(replay(&path).await);
        if simulated != served {
            let index = simulated
                .iter()
                .zip(&served)
                .position(|(a, b)| a != b)
                .unwrap_or(simulated.len().min(served.len()));
            failures.push(format!(
                "{name} : ligne {index} ({} lignes simulées, {} servies)\n  simulateur : {}\n  serveur    : {}",
                simulated.len(),
                served.len(),
                simulated.get(index).map_or("(rien)", String::as_str),
                served.get(index).map_or("(rien)", String::as_str),
            ));
        } else {
            assert!(!simulated.is_empty(), "{name} : journal vide");
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
