//! A small W3C WebDriver client for the browser tests: Debian's headless Chromium
//! (`/usr/bin/chromium`) driven through its chromedriver (`/usr/bin/chromedriver`) on a free
//! port of 127.0.0.1. Nothing is downloaded; the packages come from `scripts/packages/browser.txt`.
//!
//! ```ignore
//! let browser = Browser::start(&artifacts).await?;
//! browser.goto(&format!("{base}/")).await?;
//! browser.find("#username").await?.send_keys("alice").await?;
//! browser.find("button[type=submit]").await?.click().await?;
//! browser.wait_for_text("h1", "Tableau de bord", Duration::from_secs(5)).await?;
//! browser.quit().await?;
//! ```
//!
//! Every wait is bounded, and so is every command ([`COMMAND_TIMEOUT`]). chromedriver's and
//! Chromium's output goes to `chromedriver.log` in the artifacts directory, which should be one
//! directory per test. Dropping a [`Browser`] ends its session and kills chromedriver.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use reqwest::Method;
use serde_json::{Value, json};

pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// The key under which W3C WebDriver returns an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long chromedriver may take to report itself ready on `/status`.
const DRIVER_READY_TIMEOUT: Duration = Duration::from_secs(10);
/// Bound on one WebDriver command, session creation (starting Chromium) included.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
/// Bound on a page load and on a script, in milliseconds, set as session timeouts so that
/// chromedriver answers with an error before [`COMMAND_TIMEOUT`] cuts the request.
const PAGE_LOAD_TIMEOUT_MS: u64 = 20_000;
const SCRIPT_TIMEOUT_MS: u64 = 20_000;
/// Interval between two polls of a wait.
const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// Bound on ending the session when a [`Browser`] is dropped (Chromium has to exit).
const QUIT_TIMEOUT: Duration = Duration::from_secs(5);
/// Free ports are picked then released before chromedriver binds them: another process may
/// take one in between, so a start is tried this many times.
const START_ATTEMPTS: usize = 3;
/// Bound on a `/status` answer while waiting for chromedriver.
const STATUS_TIMEOUT: Duration = Duration::from_secs(1);
/// The key code of the tabulation key, for [`Browser::press_key`].
pub const TAB: &str = "\u{E004}";

const CHROMIUM_ARGS: &[&str] = &[
    "--headless=new",
    // Chromium's sandbox refuses to run as root, which is how tests run in containers.
    "--no-sandbox",
    "--disable-gpu",
    // /dev/shm is small in containers; Chromium crashes tabs when it runs out.
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
    "--lang=fr-FR",
];

/// The HTTP side of one WebDriver session, cheap to clone into each [`Element`].
#[derive(Clone)]
struct Session {
    http: reqwest::Client,
    /// `http://127.0.0.1:PORT/session/ID`.
    url: String,
}

impl Session {
    async fn command(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value> {
        let what = format!("{method} {path}");
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.url));
        if method == Method::POST {
            // W3C commands without parameters still take an empty JSON object.
            request = request.json(&body.unwrap_or_else(|| json!({})));
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("WebDriver {what}: no answer from chromedriver"))?;
        answer(&what, response).await
    }
}

/// The `value` of a WebDriver answer, or its error as an `anyhow` error.
async fn answer(what: &str, response: reqwest::Response) -> Result<Value> {
    let status = response.status();
    let text = response
        .text()
        .await
        .with_context(|| format!("WebDriver {what}: reading the answer"))?;
    let body: Value = serde_json::from_str(&text)
        .with_context(|| format!("WebDriver {what}: answer is not JSON ({status}): {text}"))?;
    let value = body.get("value").cloned().unwrap_or(Value::Null);
    if !status.is_success() || value.get("error").is_some_and(|e| !e.is_null()) {
        bail!(
            "WebDriver {what}: {} ({status}): {}",
            value["error"].as_str().unwrap_or("error"),
            value["message"].as_str().unwrap_or(&text),
        );
    }
    Ok(value)
}

/// The chromedriver process; killing it on drop is what keeps a failed test from leaving it.
struct Driver {
    child: Child,
    port: u16,
    log: PathBuf,
    /// chromedriver's and Chromium's `TMPDIR`: profiles and singleton sockets, which they do not
    /// all remove themselves, go there and are removed with it.
    tmp: PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.tmp);
    }
}

/// A headless Chromium with one WebDriver session.
pub struct Browser {
    session: Session,
    /// Chromium's own process, killed by id if ending the session fails on drop.
    chromium_pid: Option<u64>,
    ended: bool,
    artifacts: PathBuf,
    // Dropped after `Browser::drop` has ended the session.
    driver: Driver,
}

impl Browser {
    /// Starts chromedriver on a free port and opens a session on a new headless Chromium.
    /// `artifacts` (created if missing) receives `chromedriver.log`.
    pub async fn start(artifacts: &Path) -> Result<Browser> {
        std::fs::create_dir_all(artifacts)
            .with_context(|| format!("creating {}", artifacts.display()))?;
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(COMMAND_TIMEOUT)
            .build()?;
        for _ in 0..START_ATTEMPTS {
            if let Some(driver) = start_driver(artifacts, &http).await? {
                return Browser::open(driver, http, artifacts).await;
            }
        }
        bail!(
            "chromedriver exited at once, {START_ATTEMPTS} times; see {}",
            artifacts.join("chromedriver.log").display()
        )
    }

    async fn open(driver: Driver, http: reqwest::Client, artifacts: &Path) -> Result<Browser> {
        let base = format!("http://127.0.0.1:{}", driver.port);
        let capabilities = json!({
            "capabilities": {
                "alwaysMatch": {
                    "acceptInsecureCerts": true,
                    "pageLoadStrategy": "normal",
                    "timeouts": {
                        "implicit": 0,
                        "pageLoad": PAGE_LOAD_TIMEOUT_MS,
                        "script": SCRIPT_TIMEOUT_MS,
                    },
                    "goog:chromeOptions": {
                        "binary": CHROMIUM,
                        "args": CHROMIUM_ARGS,
                    },
                }
            }
        });
        let response = http
            .post(format!("{base}/session"))
            .json(&capabilities)
            .send()
            .await
            .context("WebDriver POST /session: no answer from chromedriver")?;
        let value = answer("POST /session", response)
            .await
            .with_context(|| format!("starting Chromium; see {}", driver.log.display()))?;
        let id = value["sessionId"]
            .as_str()
            .ok_or_else(|| anyhow!("POST /session: no sessionId in {value}"))?;
        Ok(Browser {
            session: Session {
                http,
                url: format!("{base}/session/{id}"),
            },
            chromium_pid: value["capabilities"]["goog:processID"].as_u64(),
            ended: false,
            artifacts: artifacts.to_path_buf(),
            driver,
        })
    }

    /// The directory given to [`Browser::start`].
    pub fn artifacts(&self) -> &Path {
        &self.artifacts
    }

    /// Ends the session (Chromium exits and chromedriver removes its profile), then stops
    /// chromedriver. Dropping does the same, without reporting errors.
    pub async fn quit(mut self) -> Result<()> {
        let response = self
            .session
            .http
            .delete(&self.session.url)
            .timeout(QUIT_TIMEOUT)
            .send()
            .await
            .context("WebDriver DELETE session: no answer from chromedriver")?;
        answer("DELETE session", response).await?;
        // Only now: on an error, drop still tries to end the session or kill Chromium.
        self.ended = true;
        Ok(())
    }

    async fn command(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value> {
        self.session.command(method, path, body).await
    }

    /// Navigates to `url` and waits for the page to load.
    pub async fn goto(&self, url: &str) -> Result<()> {
        self.command(Method::POST, "/url", Some(json!({ "url": url })))
            .await
            .with_context(|| format!("going to {url}"))?;
        Ok(())
    }

    pub async fn current_url(&self) -> Result<String> {
        string(self.command(Method::GET, "/url", None).await?)
    }

    pub async fn title(&self) -> Result<String> {
        string(self.command(Method::GET, "/title", None).await?)
    }

    pub async fn page_source(&self) -> Result<String> {
        string(self.command(Method::GET, "/source", None).await?)
    }

    pub async fn back(&self) -> Result<()> {
        self.command(Method::POST, "/back", None).await?;
        Ok(())
    }

    pub async fn refresh(&self) -> Result<()> {
        self.command(Method::POST, "/refresh", None).await?;
        Ok(())
    }

    /// The first element matching the CSS selector `css`, now.
    pub async fn find(&self, css: &str) -> Result<Element> {
        find(&self.session, "", css).await
    }

    /// Every element matching `css`, now (possibly none).
    pub async fn find_all(&self, css: &str) -> Result<Vec<Element>> {
        find_all(&self.session, "", css).await
    }

    /// The first element matching `css`, once there is one.
    pub async fn wait_for(&self, css: &str, timeout: Duration) -> Result<Element> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(element) = self.find_all(css).await?.into_iter().next() {
                return Ok(element);
            }
            if Instant::now() >= deadline {
                bail!("no element matches `{css}` after {timeout:?}");
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// The first element matching `css`, once its visible text contains `needle`.
    pub async fn wait_for_text(
        &self,
        css: &str,
        needle: &str,
        timeout: Duration,
    ) -> Result<Element> {
        let deadline = Instant::now() + timeout;
        let mut seen: Option<String> = None;
        loop {
            if let Some(element) = self.find_all(css).await?.into_iter().next() {
                // The page may replace the element between the find and the read: poll again.
                if let Ok(text) = element.text().await {
                    if text.contains(needle) {
                        return Ok(element);
                    }
                    seen = Some(text);
                }
            }
            if Instant::now() >= deadline {
                match seen {
                    Some(text) => {
                        bail!(
                            "`{css}` did not contain {needle:?} after {timeout:?}; last text: {text:?}"
                        )
                    }
                    None => bail!(
                        "no element matches `{css}` after {timeout:?} (waiting for {needle:?})"
                    ),
                }
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Waits until no element matching `css` is displayed (none left, or all hidden).
    pub async fn wait_until_gone(&self, css: &str, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let mut displayed = 0;
            for element in self.find_all(css).await? {
                // An element removed since the find is gone too.
                if element.is_displayed().await.unwrap_or(false) {
                    displayed += 1;
                }
            }
            if displayed == 0 {
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!("{displayed} element(s) matching `{css}` still displayed after {timeout:?}");
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Runs `script` as the body of a function called with `args` (`arguments[0]`…), and
    /// returns what it returns.
    pub async fn execute(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        self.command(
            Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
        .await
    }

    /// Makes the viewport (what the page sees: `innerWidth`, `innerHeight`) `width`×`height`
    /// CSS pixels, a tablet's 820×1180 say. WebDriver sizes the window, which headless
    /// Chromium still gives a frame: the window is sized once, the frame measured, then sized
    /// again with it. Returns the viewport's size as the page then sees it.
    pub async fn set_viewport(&self, width: u32, height: u32) -> Result<(u64, u64)> {
        let (mut window_width, mut window_height) = (i64::from(width), i64::from(height));
        let mut seen = (0, 0);
        for _ in 0..2 {
            self.command(
                Method::POST,
                "/window/rect",
                Some(json!({ "width": window_width, "height": window_height })),
            )
            .await
            .with_context(|| format!("resizing the window to {window_width}×{window_height}"))?;
            let size = self
                .execute("return [window.innerWidth, window.innerHeight];", vec![])
                .await?;
            seen = match (size[0].as_u64(), size[1].as_u64()) {
                (Some(width), Some(height)) => (width, height),
                _ => bail!("the viewport's size: {size}"),
            };
            if seen == (u64::from(width), u64::from(height)) {
                break;
            }
            window_width += i64::from(width) - seen.0 as i64;
            window_height += i64::from(height) - seen.1 as i64;
        }
        Ok(seen)
    }

    /// Presses and releases one key, as a person at the keyboard would (WebDriver's key
    /// codes: `TAB` is `"\u{E004}"`), to whatever has the focus.
    pub async fn press_key(&self, key: &str) -> Result<()> {
        let actions = json!({ "actions": [{
            "type": "key",
            "id": "keyboard",
            "actions": [{ "type": "keyDown", "value": key }, { "type": "keyUp", "value": key }],
        }]});
        self.command(Method::POST, "/actions", Some(actions))
            .await
            .with_context(|| format!("pressing {key:?}"))?;
        Ok(())
    }

    /// Writes a PNG of the viewport to `path`, creating its directory.
    pub async fn screenshot(&self, path: &Path) -> Result<()> {
        let encoded = string(self.command(Method::GET, "/screenshot", None).await?)?;
        let png = decode_base64(&encoded).context("decoding the screenshot")?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(path, png).with_context(|| format!("writing {}", path.display()))
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if self.ended {
            return;
        }
        // Killing chromedriver alone would leave Chromium running: end the session first,
        // synchronously since drop cannot await.
        if !delete_session_blocking(self.driver.port, &self.session.url)
            && let Some(pid) = self.chromium_pid
        {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// A `DELETE` of the session over a plain socket; true when chromedriver answered 200.
fn delete_session_blocking(port: u16, session_url: &str) -> bool {
    let Some(path) = session_url.find("/session/").map(|at| &session_url[at..]) else {
        return false;
    };
    let attempt = || -> std::io::Result<bool> {
        let address = ([127, 0, 0, 1], port).into();
        let mut stream = TcpStream::connect_timeout(&address, QUIT_TIMEOUT)?;
        stream.set_read_timeout(Some(QUIT_TIMEOUT))?;
        stream.set_write_timeout(Some(QUIT_TIMEOUT))?;
        write!(
            stream,
            "DELETE {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )?;
        let mut head = [0u8; 16];
        let read = stream.read(&mut head)?;
        Ok(head[..read].starts_with(b"HTTP/1.1 200"))
    };
    attempt().unwrap_or(false)
}

/// Picks a free port, spawns chromedriver on it and waits for `/status` to say ready; `None`
/// when chromedriver exited at once, as when another process took the port meanwhile.
async fn start_driver(artifacts: &Path, http: &reqwest::Client) -> Result<Option<Driver>> {
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let log = artifacts.join("chromedriver.log");
    let out = File::create(&log).with_context(|| format!("creating {}", log.display()))?;
    // Short, under the system's temporary directory: Chromium puts a Unix socket in it, and
    // their paths are limited to 107 bytes.
    let tmp = std::env::temp_dir().join(format!("vigie-chromium-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .env("TMPDIR", &tmp)
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out)
        .spawn()
        .with_context(|| format!("running {CHROMEDRIVER} (apt-get install chromium-driver)"));
    let child = match child {
        Ok(child) => child,
        Err(error) => {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(error);
        }
    };
    let mut driver = Driver {
        child,
        port,
        log,
        tmp,
    };
    let deadline = Instant::now() + DRIVER_READY_TIMEOUT;
    loop {
        if driver.child.try_wait()?.is_some() {
            return Ok(None);
        }
        let ready = http
            .get(format!("http://127.0.0.1:{port}/status"))
            .timeout(STATUS_TIMEOUT)
            .send()
            .await;
        if let Ok(response) = ready
            && let Ok(body) = response.json::<Value>().await
            && body["value"]["ready"] == json!(true)
        {
            return Ok(Some(driver));
        }
        if Instant::now() >= deadline {
            bail!(
                "chromedriver not ready on port {port} after {DRIVER_READY_TIMEOUT:?}; see {}",
                driver.log.display()
            );
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// An element of the page, as a WebDriver reference; stale once the page replaces it.
#[derive(Clone)]
pub struct Element {
    session: Session,
    id: String,
    /// The selector it was found by, for error messages.
    css: String,
}

impl std::fmt::Debug for Element {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Element(`{}`)", self.css)
    }
}

impl Element {
    async fn command(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value> {
        self.session
            .command(method, &format!("/element/{}{path}", self.id), body)
            .await
            .with_context(|| format!("element `{}`", self.css))
    }

    /// The first descendant matching `css`.
    pub async fn find(&self, css: &str) -> Result<Element> {
        find(&self.session, &format!("/element/{}", self.id), css)
            .await
            .with_context(|| format!("inside `{}`", self.css))
    }

    /// Every descendant matching `css`.
    pub async fn find_all(&self, css: &str) -> Result<Vec<Element>> {
        find_all(&self.session, &format!("/element/{}", self.id), css).await
    }

    pub async fn click(&self) -> Result<()> {
        self.command(Method::POST, "/click", None).await?;
        Ok(())
    }

    /// Types `text` into the element, after what it already holds.
    pub async fn send_keys(&self, text: &str) -> Result<()> {
        self.command(Method::POST, "/value", Some(json!({ "text": text })))
            .await?;
        Ok(())
    }

    pub async fn clear(&self) -> Result<()> {
        self.command(Method::POST, "/clear", None).await?;
        Ok(())
    }

    /// The rendered text, as a person sees it (hidden parts left out).
    pub async fn text(&self) -> Result<String> {
        string(self.command(Method::GET, "/text", None).await?)
    }

    /// The attribute in the markup (`None` when absent); an input's current value is the
    /// property `value`, see [`Element::property`].
    pub async fn attribute(&self, name: &str) -> Result<Option<String>> {
        let value = self
            .command(Method::GET, &format!("/attribute/{name}"), None)
            .await?;
        Ok(value.as_str().map(str::to_string))
    }

    /// A DOM property (`value`, `checked`…), as JSON.
    pub async fn property(&self, name: &str) -> Result<Value> {
        self.command(Method::GET, &format!("/property/{name}"), None)
            .await
    }

    pub async fn is_displayed(&self) -> Result<bool> {
        let value = self.command(Method::GET, "/displayed", None).await?;
        value
            .as_bool()
            .ok_or_else(|| anyhow!("element `{}`: displayed is {value}", self.css))
    }

    /// On a `<select>`: chooses the option whose `value` is `value`.
    pub async fn select_option_by_value(&self, value: &str) -> Result<()> {
        let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
        self.find(&format!("option[value=\"{escaped}\"]"))
            .await?
            .click()
            .await
    }
}

async fn find(session: &Session, from: &str, css: &str) -> Result<Element> {
    let value = session
        .command(
            Method::POST,
            &format!("{from}/element"),
            Some(json!({ "using": "css selector", "value": css })),
        )
        .await
        .with_context(|| format!("finding `{css}`"))?;
    element(session, css, &value)
}

async fn find_all(session: &Session, from: &str, css: &str) -> Result<Vec<Element>> {
    let value = session
        .command(
            Method::POST,
            &format!("{from}/elements"),
            Some(json!({ "using": "css selector", "value": css })),
        )
        .await
        .with_context(|| format!("finding all `{css}`"))?;
    value
        .as_array()
        .ok_or_else(|| anyhow!("finding all `{css}`: not a list: {value}"))?
        .iter()
        .map(|found| element(session, css, found))
        .collect()
}

fn element(session: &Session, css: &str, value: &Value) -> Result<Element> {
    let id = value[ELEMENT_KEY]
        .as_str()
        .ok_or_else(|| anyhow!("finding `{css}`: not an element: {value}"))?;
    Ok(Element {
        session: session.clone(),
        id: id.to_string(),
        css: css.to_string(),
    })
}

fn string(value: Value) -> Result<String> {
    match value {
        Value::String(text) => Ok(text),
        other => bail!("expected a string from WebDriver, got {other}"),
    }
}

/// Standard base64 (RFC 4648, `+/`, padded), as WebDriver encodes screenshots.
fn decode_base64(text: &str) -> Result<Vec<u8>> {
    fn sextet(byte: u8) -> Option<u32> {
        Some(match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let bytes: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let data = bytes
        .strip_suffix(b"==")
        .or_else(|| bytes.strip_suffix(b"="))
        .unwrap_or(&bytes);
    if !bytes.len().is_multiple_of(4) {
        bail!("base64 of length {} is truncated", bytes.len());
    }
    let mut out = Vec::with_capacity(data.len() / 4 * 3 + 2);
    for chunk in data.chunks(4) {
        let mut group = 0u32;
        for (index, &byte) in chunk.iter().enumerate() {
            let bits = sextet(byte).ok_or_else(|| anyhow!("not base64: byte {byte:#04x}"))?;
            group |= bits << (18 - 6 * index);
        }
        let decoded = group.to_be_bytes();
        out.extend_from_slice(&decoded[1..chunk.len()]);
    }
    Ok(out)
}

#[test]
fn base64_decodes_padded_and_unpadded_ends() {
    assert_eq!(decode_base64("").unwrap(), b"");
    assert_eq!(decode_base64("Zg==").unwrap(), b"f");
    assert_eq!(decode_base64("Zm8=").unwrap(), b"fo");
    assert_eq!(decode_base64("Zm9v").unwrap(), b"foo");
    assert_eq!(decode_base64("Zm9vYmFy").unwrap(), b"foobar");
    assert_eq!(decode_base64("iVBORw0KGgo=").unwrap(), b"\x89PNG\r\n\x1a\n");
    assert!(decode_base64("Zm9").is_err());
    assert!(decode_base64("Zm9*").is_err());
}
