//! Real SMTP peers for the tests: aiosmtpd (`tests/peers/smtp_server.py`) started as a child
//! process on a free port of 127.0.0.1, killed on drop, and a self-signed certificate made
//! by openssl for its TLS modes.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long the SMTP server may take to accept connections. A guard against a hung peer, not a
/// timing assertion: it starts in well under a second.
const STARTUP_LIMIT: Duration = Duration::from_secs(30);

/// Debian's Python, which has python3-aiosmtpd (a pyenv python3 on PATH does not).
const DEBIAN_PYTHON: &str = "/usr/bin/python3";

/// The account the authenticated servers accept.
pub const SMTP_USER: &str = "vigie";
pub const SMTP_PASSWORD: &str = "mot-de-passe-de-test";

/// Answers 550 to RCPT TO this address.
pub const REJECTED_ADDRESS: &str = "inconnu@example.fr";
/// Answers 451 to RCPT TO this address.
pub const DEFERRED_ADDRESS: &str = "plus-tard@example.fr";

/// How the test SMTP server protects its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Plain,
    StartTls,
    ImplicitTls,
}

/// A running aiosmtpd; killed and reaped when dropped, its directory removed.
pub struct SmtpServer {
    child: Child,
    pub port: u16,
    directory: tempfile::TempDir,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SmtpServer {
    /// Starts a server in `mode`, requiring authentication when `auth` is true, and answering
    /// 550 to [`REJECTED_ADDRESS`] and 451 to [`DEFERRED_ADDRESS`].
    pub fn start(mode: Mode, auth: bool) -> SmtpServer {
        let directory = tempfile::tempdir().expect("répertoire temporaire");
        let port = free_port();
        let mut command = Command::new(DEBIAN_PYTHON);
        command
            .arg(tests_dir().join("peers/smtp_server.py"))
            .arg("--port")
            .arg(port.to_string())
            .arg("--output")
            .arg(directory.path().join("received.jsonl"))
            .args(["--reject", REJECTED_ADDRESS, "--defer", DEFERRED_ADDRESS]);
        if mode != Mode::Plain {
            let (certificate, key) = self_signed_certificate(directory.path());
            command.arg("--cert").arg(certificate).arg("--key").arg(key);
        }
        if mode == Mode::ImplicitTls {
            command.arg("--implicit-tls");
        }
        if auth {
            command
                .arg("--auth")
                .arg(format!("{SMTP_USER}:{SMTP_PASSWORD}"));
        }
        let child = spawn_until_ready(command);
        SmtpServer {
            child,
            port,
            directory,
        }
    }

    /// The messages received so far, one JSON object each (see the script's docstring).
    pub fn received(&self) -> Vec<serde_json::Value> {
        let path = self.directory.path().join("received.jsonl");
        let Ok(text) = std::fs::read_to_string(path) else {
            return Vec::new();
        };
        // The peer appends while this reads: a last line without its newline is still being
        // written and waits for the next read.
        let complete = text.rfind('\n').map_or("", |end| &text[..=end]);
        complete
            .lines()
            .map(|line| serde_json::from_str(line).expect("une ligne JSON par message"))
            .collect()
    }
}

/// Starts `command` and waits for its `ready <port>` line; a peer that dies first fails the
/// test with its error output and the package to install.
fn spawn_until_ready(mut command: Command) -> Child {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap_or_else(|error| {
        panic!(
            "impossible de lancer {DEBIAN_PYTHON} ({error}) : installer les paquets Debian \
             python3 et python3-aiosmtpd (scripts/packages/notify.txt)"
        )
    });
    let stdout = child.stdout.take().expect("sortie standard redirigée");
    let (ready_sender, ready_receiver) = mpsc::channel();
    // Reads every line to the end, so that the peer never blocks on a full pipe.
    std::thread::spawn(move || {
        let mut ready_sender = Some(ready_sender);
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line.starts_with("ready ")
                && let Some(sender) = ready_sender.take()
            {
                let _ = sender.send(());
            }
        }
    });
    if ready_receiver.recv_timeout(STARTUP_LIMIT).is_err() {
        let _ = child.kill();
        let _ = child.wait();
        let mut stderr = String::new();
        if let Some(mut pipe) = child.stderr.take() {
            let _ = pipe.read_to_string(&mut stderr);
        }
        panic!(
            "le serveur SMTP de test n'a pas démarré (paquet Debian python3-aiosmtpd ?) :\n{stderr}"
        );
    }
    child
}

/// A certificate for `127.0.0.1` and `localhost`, signed by its own key, valid one day.
fn self_signed_certificate(directory: &Path) -> (PathBuf, PathBuf) {
    let certificate = directory.join("cert.pem");
    let key = directory.join("key.pem");
    let output = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
        .arg("ec_paramgen_curve:prime256v1")
        .args(["-nodes", "-days", "1", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&certificate)
        .output()
        .expect("openssl (paquet Debian openssl)");
    assert!(
        output.status.success(),
        "openssl req a échoué : {}",
        String::from_utf8_lossy(&output.stderr)
    );
    (certificate, key)
}

/// A port free right now on 127.0.0.1, for a peer that is told which port to bind.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("un port libre sur 127.0.0.1")
}

fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}
