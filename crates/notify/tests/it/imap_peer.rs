//! A real IMAP server for the tests: Debian's Dovecot (package `dovecot-imapd`) run as a child
//! process on 127.0.0.1, with one account and its own configuration, mails and logs in a
//! temporary directory; stopped on drop.
//!
//! Self-contained (std and tempfile only, no other test module) so that the server's tests can
//! include it with `#[path]`. Messages are put in and counted over a plain IMAP connection
//! spoken with std: Dovecot counts a connection from 127.0.0.1 as secured, so the plain
//! listener accepts the password even when the server requires TLS elsewhere.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long Dovecot may take to accept connections. A guard against a hung peer, not a timing
/// assertion: it starts in well under a second.
const STARTUP_LIMIT: Duration = Duration::from_secs(30);

/// Bound of each exchange of the helpers ([`ImapServer::append`], [`ImapServer::count`]).
const HELPER_TIMEOUT: Duration = Duration::from_secs(20);

/// Dovecot refuses to give mail to uid 0; this is `nobody`.
const MAIL_UID: u32 = 65534;

/// A running Dovecot; stopped (SIGTERM, then SIGKILL) and reaped when dropped, its directory
/// removed.
pub struct ImapServer {
    child: Child,
    /// Where a client connects: implicit TLS when started with `tls`, plain otherwise.
    pub port: u16,
    /// A plain listener, STARTTLS offered when started with `tls`; the same as `port`
    /// otherwise.
    pub plain_port: u16,
    pub user: String,
    pub password: String,
    directory: tempfile::TempDir,
}

impl Drop for ImapServer {
    fn drop(&mut self) {
        // SIGTERM lets the master stop its own children (login, imap, auth processes).
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl ImapServer {
    /// Starts Dovecot with the account [`ImapServer::user`]. With `tls`, `port` speaks TLS from
    /// the first byte (self-signed certificate for 127.0.0.1 and localhost) and `plain_port`
    /// requires STARTTLS from anyone but 127.0.0.1; without, `port` is plain IMAP.
    pub fn start(tls: bool) -> ImapServer {
        ImapServer::launch(tls, None)
    }

    /// Same, announcing only `capabilities` after login (`IMAP4rev1 UIDPLUS`): to test a
    /// client's behaviour without MOVE or UIDPLUS. Dovecot still runs every command.
    pub fn start_with_capabilities(tls: bool, capabilities: &str) -> ImapServer {
        ImapServer::launch(tls, Some(capabilities))
    }

    fn launch(tls: bool, capabilities: Option<&str>) -> ImapServer {
        let directory = tempfile::tempdir().expect("répertoire temporaire");
        let dir = directory.path();
        // The mail processes run as MAIL_UID: they must reach the home directory.
        set_mode(dir, 0o755);
        for sub in ["run", "state", "home"] {
            std::fs::create_dir(dir.join(sub)).expect("sous-répertoire");
        }
        let chown = Command::new("chown")
            .arg(format!("{MAIL_UID}:{MAIL_UID}"))
            .arg(dir.join("home"))
            .status()
            .expect("chown");
        assert!(chown.success(), "chown du répertoire des boîtes");

        let user = "support".to_owned();
        let password = "mot-de-passe-imap".to_owned();
        std::fs::write(dir.join("passwd"), format!("{user}:{{PLAIN}}{password}\n"))
            .expect("fichier des comptes");

        let plain_port = free_port();
        let tls_port = if tls { free_port() } else { 0 };
        let ssl = if tls {
            let (certificate, key) = self_signed_certificate(dir);
            format!(
                "ssl = required\nssl_cert = <{}\nssl_key = <{}\n",
                certificate.display(),
                key.display()
            )
        } else {
            "ssl = no\n".to_owned()
        };
        let imaps = if tls {
            format!("    address = 127.0.0.1\n    port = {tls_port}\n    ssl = yes\n")
        } else {
            "    port = 0\n".to_owned()
        };
        let capability = capabilities
            .map(|list| format!("imap_capability = {list}\n"))
            .unwrap_or_default();
        let d = dir.display();
        let configuration = format!(
            "base_dir = {d}/run
state_dir = {d}/state
instance_name = vigie-test-{plain_port}
protocols = imap
listen = 127.0.0.1
log_path = {d}/dovecot.log
{ssl}disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{d}/home/%u/Maildir
first_valid_uid = 1
{capability}passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/passwd
}}
userdb {{
  driver = static
  args = uid={MAIL_UID} gid={MAIL_UID} home={d}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {plain_port}
  }}
  inet_listener imaps {{
{imaps}  }}
  chroot =
}}
service anvil {{
  chroot =
}}
namespace inbox {{
  inbox = yes
  separator = /
}}
"
        );
        let config_path = dir.join("dovecot.conf");
        std::fs::write(&config_path, configuration).expect("configuration de Dovecot");

        let binary = if Path::new("/usr/sbin/dovecot").exists() {
            "/usr/sbin/dovecot"
        } else {
            "dovecot"
        };
        let child = Command::new(binary)
            .arg("-c")
            .arg(&config_path)
            .arg("-F")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| {
                panic!(
                    "impossible de lancer {binary} ({error}) : installer le paquet Debian \
                     dovecot-imapd (scripts/packages/notify.txt)"
                )
            });
        let mut server = ImapServer {
            child,
            port: if tls { tls_port } else { plain_port },
            plain_port,
            user,
            password,
            directory,
        };
        server.wait_until_ready();
        server
    }

    fn wait_until_ready(&mut self) {
        let deadline = Instant::now() + STARTUP_LIMIT;
        let ports = [self.port, self.plain_port];
        loop {
            if ports
                .iter()
                .all(|port| TcpStream::connect(("127.0.0.1", *port)).is_ok())
            {
                return;
            }
            let exited = matches!(self.child.try_wait(), Ok(Some(_)));
            if exited || Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                let mut stderr = String::new();
                if let Some(mut pipe) = self.child.stderr.take() {
                    let _ = pipe.read_to_string(&mut stderr);
                }
                let log = std::fs::read_to_string(self.directory.path().join("dovecot.log"))
                    .unwrap_or_default();
                panic!(
                    "le serveur IMAP de test n'a pas démarré (paquet Debian dovecot-imapd, \
                     lancé en root ?) :\n{stderr}\n{log}"
                );
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Puts `raw` at the end of `folder` (created if missing), as a new message with the next
    /// UID. Use CRLF line ends: the size the server reports is then `raw.len()`.
    pub fn append(&self, folder: &str, raw: &[u8]) {
        let mut connection = self.login();
        let mut answer = connection.append(folder, raw);
        if answer.contains("TRYCREATE") {
            let created = connection.command(&format!("CREATE {}", quoted(folder)));
            assert!(created.1.contains(" OK"), "CREATE {folder} : {created:?}");
            answer = connection.append(folder, raw);
        }
        assert!(answer.contains(" OK"), "APPEND vers {folder} : {answer}");
        connection.command("LOGOUT");
    }

    /// Delivers `raw` to the account's INBOX through Dovecot's own delivery agent
    /// (`dovecot-lda`), as the mail server in front of a real support mailbox does.
    pub fn deliver(&self, from: &str, raw: &[u8]) {
        let lda = "/usr/lib/dovecot/dovecot-lda";
        let mut child = Command::new(lda)
            .arg("-c")
            .arg(self.directory.path().join("dovecot.conf"))
            .args(["-d", &self.user, "-f", from])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| {
                panic!("impossible de lancer {lda} ({error}) : paquet Debian dovecot-core")
            });
        child
            .stdin
            .take()
            .expect("entrée de dovecot-lda")
            .write_all(raw)
            .expect("message écrit à dovecot-lda");
        let output = child.wait_with_output().expect("dovecot-lda terminé");
        assert!(
            output.status.success(),
            "dovecot-lda : {}\n{}",
            String::from_utf8_lossy(&output.stderr),
            self.log()
        );
    }

    /// How many messages `folder` holds; 0 when it does not exist.
    pub fn count(&self, folder: &str) -> usize {
        let mut connection = self.login();
        let (lines, status) = connection.command(&format!("STATUS {} (MESSAGES)", quoted(folder)));
        connection.command("LOGOUT");
        if !status.contains(" OK") {
            return 0;
        }
        lines
            .iter()
            .find_map(|line| {
                let rest = line.split("MESSAGES ").nth(1)?;
                rest.trim_end_matches([')', '\r', '\n']).trim().parse().ok()
            })
            .unwrap_or_else(|| panic!("réponse STATUS illisible : {lines:?}"))
    }

    /// The server's log so far, for a failing test's message.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.directory.path().join("dovecot.log")).unwrap_or_default()
    }

    fn login(&self) -> RawImap {
        let stream = TcpStream::connect(("127.0.0.1", self.plain_port)).expect("connexion IMAP");
        stream.set_read_timeout(Some(HELPER_TIMEOUT)).ok();
        stream.set_write_timeout(Some(HELPER_TIMEOUT)).ok();
        let mut connection = RawImap {
            reader: BufReader::new(stream.try_clone().expect("flux IMAP")),
            writer: stream,
            tag: 0,
        };
        let greeting = connection.line();
        assert!(greeting.starts_with("* OK"), "accueil : {greeting}");
        let login = connection.command(&format!(
            "LOGIN {} {}",
            quoted(&self.user),
            quoted(&self.password)
        ));
        assert!(login.1.contains(" OK"), "LOGIN : {login:?}\n{}", self.log());
        connection
    }
}

/// A minimal IMAP client over std, for answers without literals (APPEND, STATUS, CREATE).
struct RawImap {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    tag: u32,
}

impl RawImap {
    fn line(&mut self) -> String {
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("réponse IMAP");
        assert!(!line.is_empty(), "le serveur IMAP a fermé la connexion");
        line
    }

    fn next_tag(&mut self) -> String {
        self.tag += 1;
        format!("h{}", self.tag)
    }

    /// The untagged lines, then the tagged one.
    fn command(&mut self, command: &str) -> (Vec<String>, String) {
        let tag = self.next_tag();
        write!(self.writer, "{tag} {command}\r\n").expect("envoi IMAP");
        self.until(&tag)
    }

    fn until(&mut self, tag: &str) -> (Vec<String>, String) {
        let mut lines = Vec::new();
        loop {
            let line = self.line();
            if line.starts_with(&format!("{tag} ")) {
                return (lines, line);
            }
            lines.push(line);
        }
    }

    /// The tagged answer to APPEND (`h2 OK …`, or `h2 NO [TRYCREATE] …`).
    fn append(&mut self, folder: &str, raw: &[u8]) -> String {
        let tag = self.next_tag();
        write!(
            self.writer,
            "{tag} APPEND {} {{{}}}\r\n",
            quoted(folder),
            raw.len()
        )
        .expect("envoi IMAP");
        let ready = self.line();
        if !ready.starts_with('+') {
            return ready;
        }
        self.writer.write_all(raw).expect("envoi du message");
        self.writer.write_all(b"\r\n").expect("envoi IMAP");
        self.until(&tag).1
    }
}

fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
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

/// A port free right now on 127.0.0.1, for Dovecot to bind.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("un port libre sur 127.0.0.1")
}
