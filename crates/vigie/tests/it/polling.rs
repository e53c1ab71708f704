//! Central polling end to end: `vigie serve` with `[supervision] poll` on checks real peers
//! itself (an address in a network namespace whose link goes down and up, a GStreamer RTSP
//! server, net-snmp's snmpd, `openssl s_server`) through `vigie_probe::Scheduler` and
//! `Store::record_observations`, and what it saw is read back over the API: current state,
//! stored state changes and samples.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use serde_json::Value;
use vigie_ping::netns::Namespace;

use crate::{Api, Sandbox, stderr, stdout};

/// Collection interval of the polled equipment. Two seconds rather than one: the server's
/// writer flushes its batch after a one-second lull, which a one-second rhythm may never leave.
const INTERVAL: &str = "2s";
const INTERVAL_MS: i64 = 2_000;
/// The wait of one ping sweep (the poller's timeout, at most 2 s for pings).
const PING_TIMEOUT_MS: i64 = 2_000;
/// Longest wait for one thing the poller must see. A guard against a hang, not a timing
/// assertion: a failure is declared within about two intervals plus the retry.
const WAIT_SECONDS: u64 = 30;
/// How long a peer may take to say it is ready.
const PEER_STARTUP: Duration = Duration::from_secs(30);

/// A client, a contract with the supervision option, and a site without a probe: the server
/// polls its equipment itself.
const SITE: &str = r#"version = 1
[[client]]
ref = "CLI-POLL"
name = "Client sondé par le serveur"
[[contract]]
ref = "CTR-POLL"
client = "CLI-POLL"
options = ["supervision"]
[[site]]
ref = "SITE-POLL"
client = "CLI-POLL"
contract = "CTR-POLL"
name = "Site sans sonde"
"#;

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// `vigie serve` with central polling on, over a fresh sandbox holding `SITE` and the given
/// `[[equipment]]` tables, read through a read-only token. Killed on drop.
struct PollingServer {
    sandbox: Option<Sandbox>,
    server: Child,
    api: Api,
}

impl PollingServer {
    async fn start(equipment: &str) -> PollingServer {
        let sandbox = Sandbox::new().await;
        let inventory = sandbox.directory.join("inventaire.toml");
        std::fs::write(&inventory, format!("{SITE}{equipment}")).unwrap();
        let imported = sandbox.run(&["import", inventory.to_str().unwrap()]);
        assert!(imported.status.success(), "{}", stderr(&imported));
        let added = sandbox.run(&[
            "user",
            "add",
            "robot",
            "--name",
            "Robot",
            "--kind",
            "staff",
            "--role",
            "supervision",
        ]);
        assert!(added.status.success(), "{}", stderr(&added));
        let token = sandbox.run(&[
            "user",
            "token",
            "robot",
            "--name",
            "lecture",
            "--scope",
            "read-only",
        ]);
        assert!(token.status.success(), "{}", stderr(&token));
        let token = stdout(&token).lines().last().unwrap().to_string();
        // The server's log stays in the sandbox directory, which a failed test leaves behind.
        let log = std::fs::File::create(sandbox.directory.join("serve.log")).unwrap();
        let mut server = sandbox
            .command(&["serve"])
            .env("VIGIE_SERVER__LISTEN", "127.0.0.1:0")
            // The sandbox turns polling off for the example fleet; these tests are about it.
            .env("VIGIE_SUPERVISION__POLL", "true")
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        assert!(first.starts_with("Vigie écoute sur http://"), "{first}");
        let url = first.split_whitespace().nth(3).unwrap().to_string();
        // The rest (the first administrator's password) is read so that no write blocks.
        std::thread::spawn(move || lines.map_while(Result::ok).for_each(drop));
        PollingServer {
            sandbox: Some(sandbox),
            server,
            api: Api {
                base: format!("{url}/api/v1"),
                token,
            },
        }
    }

    /// Waits until `check` of `equipment` has `status`; that state.
    async fn wait_for(&self, equipment: &str, check: &str, status: &str) -> Value {
        self.api
            .eventually(
                WAIT_SECONDS,
                &format!("{equipment} : contrôle {check} « {status} »"),
                &format!("/equipment/{equipment}/state"),
                |state| state_of(state, check).filter(|s| s["status"] == status),
            )
            .await
    }

    /// The stored state changes of one check of `equipment`, oldest first.
    async fn history(&self, equipment: &str, check: &str) -> Vec<Value> {
        let history = self
            .api
            .get(&format!("/equipment/{equipment}/history"))
            .await;
        history["items"]
            .as_array()
            .unwrap_or_else(|| panic!("{history}"))
            .iter()
            .filter(|c| c["check"] == check)
            .cloned()
            .collect()
    }

    /// The raw samples of `metric` stored for `equipment`, waiting until there is one.
    async fn samples(&self, equipment: &str, metric: &str) -> Vec<f64> {
        let encoded = metric.replace(':', "%3A").replace('/', "%2F");
        self.api
            .eventually(
                WAIT_SECONDS,
                &format!("{equipment} : mesure {metric}"),
                &format!("/equipment/{equipment}/samples?metric={encoded}&resolution=raw&from=0"),
                |series| {
                    let values: Vec<f64> = series["points"]
                        .as_array()?
                        .iter()
                        .filter_map(|p| p["value"].as_f64())
                        .collect();
                    (!values.is_empty()).then_some(values)
                },
            )
            .await
    }

    async fn finish(mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
        if let Some(sandbox) = self.sandbox.take() {
            sandbox.finish().await;
        }
    }
}

impl Drop for PollingServer {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

/// The current state of `check` in a `/state` answer.
fn state_of(state: &Value, check: &str) -> Option<Value> {
    state["items"]
        .as_array()?
        .iter()
        .find(|i| i["check"] == check)
        .cloned()
}

/// `(from, to)` of each stored change, to compare a whole history at once.
fn transitions(changes: &[Value]) -> Vec<(Option<String>, String)> {
    changes
        .iter()
        .map(|c| {
            (
                c["from"].as_str().map(str::to_owned),
                c["to"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn transition(from: Option<&str>, to: &str) -> (Option<String>, String) {
    (from.map(str::to_owned), to.to_owned())
}

/// A peer process, killed and reaped on drop.
struct Peer {
    child: Child,
    ready_line: String,
}

impl Peer {
    /// Starts `command` and waits for a stdout line for which `is_ready` holds; `Err` with its
    /// error output when it dies or stays silent.
    fn try_start(
        mut command: Command,
        is_ready: impl Fn(&str) -> bool + Send + 'static,
    ) -> Result<Peer, String> {
        let program = command.get_program().to_string_lossy().into_owned();
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|error| format!("lancement de {program} impossible : {error}"))?;
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let (ready, ready_line) = std::sync::mpsc::channel();
        // Reads to the end, so that the peer never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut ready = Some(ready);
            for line in lines.map_while(Result::ok) {
                if is_ready(&line)
                    && let Some(ready) = ready.take()
                {
                    let _ = ready.send(line);
                }
            }
        });
        match ready_line.recv_timeout(PEER_STARTUP) {
            Ok(ready_line) => Ok(Peer { child, ready_line }),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                let mut errors = String::new();
                if let Some(mut pipe) = child.stderr.take() {
                    let _ = pipe.read_to_string(&mut errors);
                }
                Err(format!("{program} n'a pas démarré :\n{errors}"))
            }
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Serial numbers of what this process makes (namespaces, interfaces, directories, addresses).
static SERIAL: AtomicU32 = AtomicU32::new(0);

/// An equipment address inside a network namespace of its own, joined to the host by a veth
/// pair: the host end `vgp…` holds 10.231.a.(b+1)/30, the namespace end `eq0` the equipment's
/// 10.231.a.(b+2)/30. Private addresses only, no other interface touched; the namespace and
/// both ends are deleted on drop, even when the test fails.
pub(crate) struct IsolatedAddress {
    host_interface: String,
    pub(crate) address: String,
    // Dropped after `drop` below has removed the host end.
    namespace: Namespace,
}

impl IsolatedAddress {
    pub(crate) fn create() -> IsolatedAddress {
        let serial = SERIAL.fetch_add(1, Ordering::SeqCst);
        let namespace = Namespace::create(&format!("poll{serial}")).unwrap_or_else(|error| {
            panic!("espace de noms réseau (root et le paquet Debian iproute2 requis) : {error}")
        });
        let host_interface = format!("vgp{:x}n{serial}", std::process::id());
        let (network, last) = free_subnet(serial);
        // The guard first: whatever fails below, drop removes what was made.
        let link = IsolatedAddress {
            host_interface,
            address: format!("{network}.{}", last + 2),
            namespace,
        };
        let host_address = format!("{network}.{}/30", last + 1);
        ip(&[
            "link",
            "add",
            &link.host_interface,
            "type",
            "veth",
            "peer",
            "name",
            "eq0",
            "netns",
            link.namespace.name(),
        ]);
        ip(&["address", "add", &host_address, "dev", &link.host_interface]);
        ip(&["link", "set", &link.host_interface, "up"]);
        link.equipment_side(&[
            "address",
            "add",
            &format!("{}/30", link.address),
            "dev",
            "eq0",
        ]);
        link.set_equipment_link("up");
        link
    }

    /// The host's end of the link.
    pub(crate) fn host_address(&self) -> String {
        let (network, last) = self.address.rsplit_once('.').expect("an IPv4 address");
        let last: u32 = last.parse().expect("an IPv4 address");
        format!("{network}.{}", last - 1)
    }

    /// The namespace's name, to run a program from the equipment's side.
    pub(crate) fn namespace_name(&self) -> &str {
        self.namespace.name()
    }

    fn equipment_side(&self, args: &[&str]) {
        self.namespace
            .ip(args)
            .unwrap_or_else(|error| panic!("{error}"));
    }

    /// Brings the equipment's own end of the link `up` or `down`, as a camera whose cable is
    /// pulled. The host end keeps its address and route, so the pings stay on this link
    /// (dropped by the veth) instead of leaving by the host's default route.
    fn set_equipment_link(&self, state: &str) {
        self.equipment_side(&["link", "set", "eq0", state]);
    }
}

impl Drop for IsolatedAddress {
    fn drop(&mut self) {
        // Deleting either end deletes the pair; the namespace goes when its guard drops.
        let _ = Command::new("ip")
            .args(["link", "delete", &self.host_interface])
            .output();
    }
}

/// Runs `ip <args>` in the host's namespace, failing the test with its error.
fn ip(args: &[&str]) {
    let output = Command::new("ip")
        .args(args)
        .output()
        .expect("ip (paquet Debian iproute2)");
    assert!(output.status.success(), "ip {args:?} : {}", stderr(&output));
}

/// A /30 of 10.231.0.0/16 that no interface of the host uses: `("10.231.a", b)`, b a
/// multiple of 4. The search starts from the process id so that test processes running at
/// the same time start apart.
fn free_subnet(serial: u32) -> (String, u32) {
    let used = Command::new("ip")
        .args(["-4", "-o", "address", "show"])
        .output()
        .expect("ip (paquet Debian iproute2)");
    let used = stdout(&used);
    let start = (std::process::id() * 8 + serial) % 16_384;
    (0..16_384)
        .map(|i| (start + i) % 16_384)
        .map(|index| (format!("10.231.{}", index / 64), (index % 64) * 4))
        .find(|(network, last)| {
            (1..=2).all(|host| !used.contains(&format!(" {network}.{}/", last + host)))
        })
        .expect("un /30 libre dans 10.231.0.0/16")
}

/// Issue requirement: an equipment that goes unreachable for real. Its address lives in a
/// network namespace; the test pulls the equipment's link, then plugs it back. The server's
/// pings make it `up`, `down`, `up`, each change stored once and dated no earlier than the
/// moment the link actually changed (availability is computed from these instants).
#[tokio::test]
async fn an_equipment_whose_link_goes_down_is_down_then_up_again() {
    let link = IsolatedAddress::create();
    let server = PollingServer::start(&format!(
        r#"[[equipment]]
ref = "CAM-NETNS"
site = "SITE-POLL"
name = "Caméra derrière son lien"
kind = "camera"
address = "{}"
checks = {{ interval = "{INTERVAL}", ping = {{}} }}
"#,
        link.address
    ))
    .await;

    let up = server.wait_for("CAM-NETNS", "ping", "up").await;
    assert!(up.get("detail").is_none(), "{up}");
    let rtt = server.samples("CAM-NETNS", "rtt_ms").await;
    assert!(rtt.iter().all(|ms| (0.0..1000.0).contains(ms)), "{rtt:?}");

    let unplugged = now_ms();
    link.set_equipment_link("down");
    let down = server.wait_for("CAM-NETNS", "ping", "down").await;
    assert_eq!(
        down["detail"], "aucune réponse au ping (2 essais)",
        "{down}"
    );
    // Later sweeps confirm the outage (the state refreshed, no new change) before the link
    // comes back: a poller whose sweeps pile up behind silent targets would show it here.
    let since = down["since"].as_i64().unwrap();
    server
        .api
        .eventually(
            WAIT_SECONDS,
            "la panne confirmée par les balayages suivants",
            "/equipment/CAM-NETNS/state",
            |state| {
                let ping = state_of(state, "ping")?;
                (ping["status"] == "down"
                    && ping["since"] == since
                    && ping["last"].as_i64()? >= since + 2 * INTERVAL_MS)
                    .then_some(())
            },
        )
        .await;

    let plugged = now_ms();
    link.set_equipment_link("up");
    server.wait_for("CAM-NETNS", "ping", "up").await;

    let history = server.history("CAM-NETNS", "ping").await;
    assert_eq!(
        transitions(&history),
        [
            transition(None, "up"),
            transition(Some("up"), "down"),
            transition(Some("down"), "up"),
        ],
        "{history:?}"
    );
    let at = |i: usize| history[i]["at"].as_i64().unwrap();
    assert!(at(0) < unplugged, "{history:?}");
    assert!(
        (unplugged..plugged).contains(&at(1)),
        "la panne est datée de son début réel ({unplugged}..{plugged}) : {history:?}"
    );
    // An echo request sent just before the link came back may still be answered (the kernel
    // holds it while it resolves the address again), within the sweep's timeout: the
    // recovery is dated by the sweep that saw it, so at most that long before the link came
    // back, never by when a sweep was queued.
    assert!(
        at(2) >= plugged - PING_TIMEOUT_MS,
        "le retour est daté du balayage qui l'a vu, pas d'avant ({plugged}) : {history:?}"
    );
    assert_eq!(
        history[1]["detail"], "aucune réponse au ping (2 essais)",
        "{history:?}"
    );
    assert_eq!(history[1]["site"], "SITE-POLL");
    server.finish().await;
    drop(link);
}

/// Debian's Python, which has the GObject bindings (a pyenv python3 on PATH does not).
const DEBIAN_PYTHON: &str = "/usr/bin/python3";

/// The GStreamer RTSP test server of vigie-checks on 127.0.0.1 (`/cam`: video, `/audio-only`:
/// no video track); its port.
fn rtsp_server() -> (Peer, u16) {
    let mut command = Command::new(DEBIAN_PYTHON);
    command
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../checks/tests/rtsp_server.py"
        ))
        .args(["--port", "0"]);
    let peer =
        Peer::try_start(command, |line| line.starts_with("ready ")).unwrap_or_else(|error| {
            panic!(
                "{error}\npaquets Debian requis : python3-gi gir1.2-gst-rtsp-server-1.0 \
                 gstreamer1.0-plugins-base gstreamer1.0-plugins-good"
            )
        });
    let port = peer
        .ready_line
        .split_whitespace()
        .last()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("pas de port dans « {} »", peer.ready_line));
    (peer, port)
}

/// ALR-5, ALR-6: a camera whose stream answers with a video track is `up` (its signal); a
/// stream without video, or no stream at all once the server is killed, is `down` with
/// « signal perdu », and the loss is a stored change.
#[tokio::test]
async fn a_camera_stream_is_up_with_its_video_and_down_when_the_server_dies() {
    let (rtsp, port) = rtsp_server();
    let server = PollingServer::start(&format!(
        r#"[[equipment]]
ref = "CAM-RTSP"
site = "SITE-POLL"
name = "Caméra du hall"
kind = "camera"
address = "127.0.0.1"
checks = {{ interval = "{INTERVAL}", rtsp = {{ port = {port}, path = "/cam" }} }}
[[equipment]]
ref = "CAM-SANS-VIDEO"
site = "SITE-POLL"
name = "Caméra sans image"
kind = "camera"
address = "127.0.0.1"
checks = {{ interval = "{INTERVAL}", rtsp = {{ port = {port}, path = "/audio-only" }} }}
"#
    ))
    .await;

    let up = server.wait_for("CAM-RTSP", "rtsp", "up").await;
    assert!(up.get("detail").is_none(), "{up}");
    let response = server.samples("CAM-RTSP", "response_ms").await;
    assert!(response.iter().all(|ms| *ms >= 0.0), "{response:?}");
    let no_video = server.wait_for("CAM-SANS-VIDEO", "rtsp", "down").await;
    assert_eq!(
        no_video["detail"], "signal perdu : le flux n'a pas de piste vidéo",
        "{no_video}"
    );

    let killed = now_ms();
    drop(rtsp);
    let down = server.wait_for("CAM-RTSP", "rtsp", "down").await;
    assert!(
        down["detail"]
            .as_str()
            .unwrap()
            .starts_with("signal perdu : "),
        "{down}"
    );
    let history = server.history("CAM-RTSP", "rtsp").await;
    assert_eq!(
        transitions(&history),
        [transition(None, "up"), transition(Some("up"), "down")],
        "{history:?}"
    );
    assert!(history[1]["at"].as_i64().unwrap() >= killed, "{history:?}");
    assert_eq!(
        transitions(&server.history("CAM-SANS-VIDEO", "rtsp").await),
        [transition(None, "down")]
    );
    server.finish().await;
}

/// A Linux recorder as the linux-net-snmp template expects it: snmpd runs, the recording
/// process does not, / has room, the extend scripts answer.
const RECORDER: &str = "\
sysName nvr-poll-01
proc snmpd
proc vigie-recorder-absent
disk / 1
extend temperature /bin/echo 42.5
extend fan /bin/echo 3200
extend power /bin/echo 1
";

/// SUP-1, SUP-3: an agentless recorder polled over SNMP v2c with its template is `up`, the
/// template's checks are stored states of their own (the recording process that does not run
/// is `down`, naming it) and its metrics are stored samples.
#[tokio::test]
async fn an_snmp_recorder_gives_stored_states_and_samples() {
    let agent = vigie_snmp::testing::Agent::start(RECORDER).await;
    let port = agent.address.port();
    let server = PollingServer::start(&format!(
        r#"[[equipment]]
ref = "NVR-SNMP"
site = "SITE-POLL"
name = "Enregistreur du hall"
kind = "nvr"
address = "127.0.0.1"
checks = {{ interval = "{INTERVAL}", snmp = {{ version = "2c", community = "{}", port = {port}, template = "linux-net-snmp" }} }}
"#,
        vigie_snmp::testing::COMMUNITY
    ))
    .await;

    let snmp = server.wait_for("NVR-SNMP", "snmp", "up").await;
    assert!(snmp.get("detail").is_none(), "{snmp}");
    server.wait_for("NVR-SNMP", "snmp.disk_health", "up").await;
    server.wait_for("NVR-SNMP", "snmp.power_supply", "up").await;
    let recording = server.wait_for("NVR-SNMP", "snmp.recording", "down").await;
    let detail = recording["detail"].as_str().unwrap();
    assert!(detail.contains("vigie-recorder-absent"), "{recording}");
    assert!(!detail.contains("snmpd"), "{recording}");

    let uptime = server.samples("NVR-SNMP", "uptime_seconds").await;
    assert!(uptime.iter().all(|s| *s >= 0.0), "{uptime:?}");
    let disk = server.samples("NVR-SNMP", "disk_used_percent:/").await;
    assert!(disk.iter().all(|p| (0.0..=100.0).contains(p)), "{disk:?}");
    let temperature = server.samples("NVR-SNMP", "temperature_celsius").await;
    assert!(temperature.iter().all(|t| *t == 42.5), "{temperature:?}");
    assert_eq!(
        transitions(&server.history("NVR-SNMP", "snmp.recording").await),
        [transition(None, "down")]
    );
    server.finish().await;
    drop(agent);
}

/// Attempts at starting `openssl s_server`, which cannot bind port 0 and say which port.
const TLS_START_ATTEMPTS: u32 = 5;

/// `openssl s_server -www` on `<loopback address>:8443` (the port that makes the poller use
/// https) with a fresh self-signed certificate valid 10 days; the address it listens on.
fn tls_server(directory: &std::path::Path) -> (Peer, String) {
    let made = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec"])
        .args(["-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"])
        .args(["-days", "10", "-subj", "/CN=vigie-poll/O=Vigie"])
        .arg("-keyout")
        .arg(directory.join("key.pem"))
        .arg("-out")
        .arg(directory.join("cert.pem"))
        .output()
        .expect("openssl (paquet Debian openssl)");
    assert!(made.status.success(), "openssl req : {}", stderr(&made));
    let mut last_error = String::new();
    for attempt in 0..TLS_START_ATTEMPTS {
        // A loopback address of its own, so that port 8443 is free whatever else runs.
        let address = format!(
            "127.231.{}.{}",
            std::process::id() % 256,
            SERIAL.fetch_add(1, Ordering::SeqCst) % 250 + 1 + attempt
        );
        if std::net::TcpListener::bind((address.as_str(), 8443)).is_err() {
            continue;
        }
        let mut command = Command::new("openssl");
        command
            .args(["s_server", "-www", "-accept"])
            .arg(format!("{address}:8443"))
            .arg("-cert")
            .arg(directory.join("cert.pem"))
            .arg("-key")
            .arg(directory.join("key.pem"));
        match Peer::try_start(command, |line| line.starts_with("ACCEPT")) {
            Ok(peer) => return (peer, address),
            Err(error) => last_error = error,
        }
    }
    panic!("openssl s_server : {last_error}");
}

/// ALR-7: the server reads the remaining life of an HTTPS equipment's certificate, even
/// self-signed, and stores it as the sample `certificate_days_left`.
#[tokio::test]
async fn an_https_certificate_expiring_in_ten_days_is_measured() {
    let directory = TempDirectory::new("tls");
    let (tls, address) = tls_server(&directory.0);
    let server = PollingServer::start(&format!(
        r#"[[equipment]]
ref = "VMS-HTTPS"
site = "SITE-POLL"
name = "Serveur VMS"
kind = "vms_server"
address = "{address}"
checks = {{ interval = "{INTERVAL}", http = {{ port = 8443 }} }}
"#
    ))
    .await;

    let http = server.wait_for("VMS-HTTPS", "http", "up").await;
    assert!(http.get("detail").is_none(), "{http}");
    let days = server.samples("VMS-HTTPS", "certificate_days_left").await;
    assert!(
        days.iter().all(|d| *d > 9.0 && *d <= 10.0),
        "un certificat de 10 jours : {days:?}"
    );
    server.finish().await;
    drop(tls);
}

/// A fresh directory under the system's temporary directory, removed on drop.
struct TempDirectory(std::path::PathBuf);

impl TempDirectory {
    fn new(label: &str) -> TempDirectory {
        let directory = std::env::temp_dir().join(format!(
            "vigie-poll-{label}-{}-{}",
            std::process::id(),
            SERIAL.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&directory);
        std::fs::create_dir_all(&directory).unwrap();
        TempDirectory(directory)
    }
}

impl Drop for TempDirectory {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
