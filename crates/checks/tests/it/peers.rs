//! Real peers for the tests: child processes started on 127.0.0.1, killed on drop.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long a peer may take to start listening. A guard against a hung peer, not a timing
/// assertion: peers start in well under a second.
const STARTUP_LIMIT: Duration = Duration::from_secs(60);

/// A running peer process; killed and reaped when dropped.
pub struct Peer {
    child: Child,
    /// The line the peer printed to say it was ready.
    pub ready_line: String,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Peer {
    /// Starts `command` and waits for a stdout line for which `is_ready` holds. A missing
    /// program or a peer that dies before being ready fails the test, naming `package`.
    pub fn start(
        command: Command,
        package: &str,
        is_ready: impl Fn(&str) -> bool + Send + 'static,
    ) -> Peer {
        Peer::try_start(command, package, is_ready).unwrap_or_else(|message| panic!("{message}"))
    }

    /// [`Peer::start`], returning the failure instead of failing the test.
    pub fn try_start(
        mut command: Command,
        package: &str,
        is_ready: impl Fn(&str) -> bool + Send + 'static,
    ) -> Result<Peer, String> {
        let program = command.get_program().to_string_lossy().into_owned();
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(error) => {
                return Err(format!(
                    "cannot start {program} ({error}): install the Debian package(s) {package} \
                     (listed in scripts/packages/checks.txt)"
                ));
            }
        };
        let stdout = child.stdout.take().expect("stdout is piped");
        let (ready_sender, ready_receiver) = mpsc::channel();
        // Reads every line to the end, so that the peer never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut ready_sender = Some(ready_sender);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if is_ready(&line)
                    && let Some(sender) = ready_sender.take()
                {
                    let _ = sender.send(line);
                }
            }
        });
        match ready_receiver.recv_timeout(STARTUP_LIMIT) {
            Ok(ready_line) => Ok(Peer { child, ready_line }),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                let mut stderr = String::new();
                if let Some(mut pipe) = child.stderr.take() {
                    let _ = pipe.read_to_string(&mut stderr);
                }
                Err(format!(
                    "{program} did not become ready; needs the Debian package(s) {package}. \
                     Its error output:\n{stderr}"
                ))
            }
        }
    }

    /// The port of a peer that printed `ready <port>`.
    pub fn announced_port(&self) -> u16 {
        self.ready_line
            .split_whitespace()
            .last()
            .and_then(|port| {
                port.trim_end_matches(|c: char| !c.is_ascii_digit())
                    .parse()
                    .ok()
            })
            .unwrap_or_else(|| panic!("no port in « {} »", self.ready_line))
    }
}

/// Debian's Python, which has the GObject bindings (a pyenv python3 on PATH does not).
pub const DEBIAN_PYTHON: &str = "/usr/bin/python3";

/// A port free right now on 127.0.0.1, for peers that cannot announce the one they bound.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port on 127.0.0.1")
}

/// Directory of the helper scripts.
pub fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}
