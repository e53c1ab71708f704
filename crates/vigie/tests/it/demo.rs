//! `vigie demo` (issue 8) as a newcomer runs it: the built binary on a fresh data directory,
//! port 0, the address and the accounts read from what it prints; within 90 s the simulator's
//! faults have raised an alarm, paged (into the outbox: recorded sent, nothing sent) and
//! opened a ticket; a second start on the same data prints the same passwords.

use std::io::{BufRead, BufReader, Lines};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::{BINARY, rand_suffix};

/// What the test waits for, at most: the demo promises "within a minute".
const DEADLINE: Duration = Duration::from_secs(90);
/// The most lines read before the accounts are printed.
const MAX_START_LINES: usize = 20;

/// A running `vigie demo`, killed when dropped (a failed assertion leaves no server behind).
struct Demo {
    child: Child,
    url: String,
    /// Username → password, as printed.
    accounts: Vec<(String, String)>,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn log_tail(directory: &Path) -> String {
    let text = std::fs::read_to_string(directory.join("demo.log")).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

impl Demo {
    fn start(directory: &Path) -> Demo {
        let log = std::fs::File::create(directory.join("demo.log")).unwrap();
        let mut child = Command::new(BINARY)
            .args(["demo", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(directory.join("data"))
            .env_remove("VIGIE_CONFIG")
            .env_remove("RUST_LOG")
            .current_dir(directory)
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        let mut lines: Lines<BufReader<ChildStdout>> =
            BufReader::new(child.stdout.take().unwrap()).lines();
        let mut demo = Demo {
            child,
            url: String::new(),
            accounts: Vec::new(),
        };
        let mut printed = Vec::new();
        let mut username: Option<String> = None;
        for line in lines.by_ref().take(MAX_START_LINES) {
            let Ok(line) = line else { break };
            // Issue 25: one framed block, « │ text │ » per line.
            let text = line
                .trim_start_matches('│')
                .trim_end_matches('│')
                .trim()
                .to_owned();
            if let Some(url) = text.strip_prefix("Vigie (démonstration) : ") {
                demo.url = url.trim().to_owned();
            }
            if let Some(name) = text.strip_prefix("identifiant") {
                username = Some(name.trim().to_owned());
            }
            if let Some(password) = text.strip_prefix("mot de passe")
                && let Some(name) = username.take()
            {
                demo.accounts.push((name, password.trim().to_owned()));
            }
            let end = line.starts_with('└');
            printed.push(line);
            if end {
                break;
            }
        }
        let printed = printed.join("\n");
        assert!(
            demo.url.starts_with("http://127.0.0.1:") && demo.accounts.len() == 2,
            "{printed}\n--- journal ---\n{}",
            log_tail(directory)
        );
        // Said plainly, in one frame: it is a demonstration, and nothing is sent.
        assert!(
            printed.lines().any(|l| l.starts_with('┌')) && printed.ends_with('┘'),
            "{printed}"
        );
        assert!(printed.contains("démonstration"), "{printed}");
        assert!(printed.contains("Aucune notification n'est"), "{printed}");
        demo
    }

    fn password(&self, username: &str) -> String {
        self.accounts
            .iter()
            .find(|(u, _)| u == username)
            .map(|(_, p)| p.clone())
            .unwrap_or_else(|| panic!("no account « {username} »: {:?}", self.accounts))
    }

    /// Logs in through the API; returns the session cookie.
    async fn login(&self, http: &reqwest::Client, username: &str) -> String {
        let reply = http
            .post(format!("{}/api/v1/auth/login", self.url))
            .json(&json!({"username": username, "password": self.password(username)}))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 200, "login of {username}");
        let cookie = reply
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("vigie_session="))
            .and_then(|v| v.split(';').next())
            .unwrap()
            .to_owned();
        let body: Value = reply.json().await.unwrap();
        // A demo account opens at once: no new password asked.
        assert_eq!(body["must_change_password"], false, "{body}");
        cookie
    }
}

async fn get(http: &reqwest::Client, url: &str, cookie: &str) -> (u16, Value) {
    let reply = http
        .get(url)
        .header(reqwest::header::COOKIE, cookie)
        .send()
        .await
        .unwrap();
    let status = reply.status().as_u16();
    (status, reply.json().await.unwrap_or(Value::Null))
}

fn items(body: &Value) -> Vec<Value> {
    body["items"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn the_demo_raises_alarms_pages_into_its_outbox_and_opens_tickets_within_a_minute() {
    let directory: PathBuf = std::env::temp_dir().join(format!(
        "vigie-demo-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&directory).unwrap();
    let started = Instant::now();
    let demo = Demo::start(&directory);
    let http = reqwest::Client::new();
    let staff = demo.login(&http, "supervision").await;

    let mut first_alarm = None;
    let mut first_page = None;
    let mut first_ticket = None;
    while started.elapsed() < DEADLINE
        && (first_alarm.is_none() || first_page.is_none() || first_ticket.is_none())
    {
        let (status, alarms) = get(
            &http,
            &format!("{}/api/v1/alarms?open=true", demo.url),
            &staff,
        )
        .await;
        assert_eq!(status, 200, "{alarms}");
        if first_alarm.is_none()
            && items(&alarms)
                .iter()
                .any(|a| a["severity"] == "critical" || a["severity"] == "major")
        {
            first_alarm = Some(started.elapsed());
        }
        let (status, outbox) =
            get(&http, &format!("{}/api/v1/notifications", demo.url), &staff).await;
        assert_eq!(status, 200, "{outbox}");
        // A page by SMS or email, recorded sent by the demo's outbox, not by any provider.
        if first_page.is_none()
            && items(&outbox).iter().any(|n| {
                n["status"] == "sent"
                    && n["channel"] != "console"
                    && n["answer"] == "boîte d'envoi de démonstration"
            })
        {
            first_page = Some(started.elapsed());
        }
        let (status, tickets) = get(&http, &format!("{}/api/v1/tickets", demo.url), &staff).await;
        assert_eq!(status, 200, "{tickets}");
        // A ticket the simulator's alarms opened (the staged incident was reported by phone).
        if first_ticket.is_none() && items(&tickets).iter().any(|t| t["source"] != "phone") {
            first_ticket = Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    eprintln!(
        "vigie demo: first alarm after {first_alarm:?}, first page after {first_page:?}, first ticket after {first_ticket:?}"
    );
    let log = log_tail(&directory);
    assert!(
        first_alarm.is_some(),
        "no Critical or Major alarm within {DEADLINE:?}\n{log}"
    );
    assert!(
        first_page.is_some(),
        "no page recorded sent within {DEADLINE:?}\n{log}"
    );
    assert!(
        first_ticket.is_some(),
        "no ticket within {DEADLINE:?}\n{log}"
    );
    // Nothing reached a channel: no page failed for want of an SMTP server or SMS gateway.
    let (_, outbox) = get(
        &http,
        &format!("{}/api/v1/notifications?limit=1000", demo.url),
        &staff,
    )
    .await;
    assert!(
        !items(&outbox).iter().any(|n| n["status"] == "failed"),
        "{outbox}"
    );

    // Issue 25, item 14: every menu has something in it: the technicians' rotation, a P1
    // incident resolved with its post-mortem shared with the client, the month's report.
    let (status, rotations) = get(&http, &format!("{}/api/v1/rotations", demo.url), &staff).await;
    assert_eq!(status, 200, "{rotations}");
    assert!(
        rotations.as_array().is_some_and(|r| !r.is_empty()),
        "{rotations}"
    );
    let (_, tickets) = get(
        &http,
        &format!("{}/api/v1/tickets?limit=500", demo.url),
        &staff,
    )
    .await;
    let staged = items(&tickets)
        .into_iter()
        .find(|t| t["source"] == "phone" && t["priority"] == "p1")
        .unwrap_or_else(|| panic!("no staged P1 incident: {tickets}"));
    let staged = staged["number"].as_u64().unwrap();
    let client = demo.login(&http, "client").await;
    let (status, post_mortem) = get(
        &http,
        &format!("{}/api/v1/tickets/{staged}/post-mortem", demo.url),
        &client,
    )
    .await;
    assert_eq!(
        status, 200,
        "the client reads the shared post-mortem: {post_mortem}"
    );
    let mut report = false;
    while started.elapsed() < DEADLINE * 2 && !report {
        let (status, documents) =
            get(&http, &format!("{}/api/v1/documents", demo.url), &client).await;
        assert_eq!(status, 200, "{documents}");
        report = items(&documents).iter().any(|d| {
            d["kind"]
                .as_str()
                .is_some_and(|k| k.contains("supervision"))
        });
        if !report {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
    assert!(
        report,
        "no supervision report filed\n{}",
        log_tail(&directory)
    );

    // The client account sees its alarms, not the outbox (the contacts are the integrator's
    // business).
    let (status, _) = get(
        &http,
        &format!("{}/api/v1/notifications", demo.url),
        &client,
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = get(
        &http,
        &format!("{}/api/v1/alarms?open=true", demo.url),
        &client,
    )
    .await;
    assert_eq!(status, 200);

    // The passwords are kept for the owner only, and a second start on the same data
    // (the fleet imported again, the accounts found) prints the same ones.
    let accounts = directory.join("data").join("demo-accounts.txt");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&accounts).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    let before = demo.accounts.clone();
    drop(demo);
    let again = Demo::start(&directory);
    assert_eq!(again.accounts, before);
    again.login(&http, "supervision").await;
    drop(again);
    let _ = std::fs::remove_dir_all(&directory);
}
