//! Real net-snmp peers for tests, here and in the crates built on this one (as
//! `vigie_store::testing` is for databases): a private `snmpd` per test on a free loopback
//! port, with its own configuration and persistent directory, killed on drop; and net-snmp's
//! command-line tools (`snmptrap`, `snmpinform`…) run in a private directory. A missing tool
//! fails the test, naming its Debian package.

use std::fs;
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use crate::{Client, Oid, Security};

/// The read-only community of every test agent.
pub const COMMUNITY: &str = "test";
/// Attempts at finding a port snmpd can bind (another test may take the one we picked).
const MAX_START_ATTEMPTS: u32 = 5;
/// Polls of the agent before giving up on its start.
const MAX_READINESS_POLLS: u32 = 300;
const READINESS_POLL_TIMEOUT: Duration = Duration::from_millis(100);
/// Longest a tool may run (snmpinform waits for its acknowledgement with retries).
const TOOL_TIMEOUT: Duration = Duration::from_secs(30);

static NEXT_DIRECTORY: AtomicU32 = AtomicU32::new(0);

/// A fresh private directory, removed by its guard.
#[derive(Debug)]
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        let n = NEXT_DIRECTORY.fetch_add(1, Ordering::SeqCst);
        let path =
            std::env::temp_dir().join(format!("vigie-snmp-{label}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(path.join("persist")).expect("create temp dir");
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Fails the test, naming the Debian package, when a net-snmp tool is missing.
pub fn require_tool(program: &str, package: &str) -> PathBuf {
    for directory in [
        "/usr/sbin",
        "/usr/bin",
        "/usr/local/sbin",
        "/usr/local/bin",
        "/sbin",
        "/bin",
    ] {
        let candidate = Path::new(directory).join(program);
        if candidate.exists() {
            return candidate;
        }
    }
    panic!(
        "`{program}` est introuvable : installez le paquet Debian `{package}` (apt-get install {package}), listé dans scripts/packages/snmp.txt"
    );
}

/// A free UDP port on 127.0.0.1 (free when asked: callers retry if it is taken meanwhile).
pub fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running private snmpd.
#[derive(Debug)]
pub struct Agent {
    child: Child,
    pub address: SocketAddr,
    directory: TempDir,
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Agent {
    /// Starts snmpd with `rocommunity test 127.0.0.1`, then the given configuration lines
    /// (v3 users, `proc`, `disk`, `extend`…).
    pub async fn start(lines: &str) -> Agent {
        let snmpd = require_tool("snmpd", "snmpd");
        let directory = TempDir::new("snmpd");
        let persist = directory.path().join("persist");
        let config = directory.path().join("snmpd.conf");
        fs::write(
            &config,
            format!(
                "rocommunity {COMMUNITY} 127.0.0.1\n{lines}\n[snmp] persistentDir {}\n",
                persist.display()
            ),
        )
        .unwrap();
        let log_path = directory.path().join("snmpd.log");
        for _ in 0..MAX_START_ATTEMPTS {
            let port = free_udp_port();
            let address: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
            let log = fs::File::create(&log_path).unwrap();
            // -C: only our configuration; -r: no root-only files needed; no MIB loading.
            let child = Command::new(&snmpd)
                .args(["-f", "-Lo", "-C", "-r", "-c"])
                .arg(&config)
                .arg("-M")
                .arg(directory.path())
                .args(["-m", ""])
                .arg(format!("udp:127.0.0.1:{port}"))
                .env("SNMP_PERSISTENT_DIR", &persist)
                .env("MIBS", "")
                .env("MIBDIRS", directory.path())
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .expect("start snmpd");
            let mut agent = Agent {
                child,
                address,
                directory: TempDir(PathBuf::new()),
            };
            if agent.wait_ready().await {
                agent.directory = directory;
                return agent;
            }
            // Dropping `agent` kills this attempt; try another port.
        }
        panic!(
            "snmpd n'a pas démarré ; journal :\n{}",
            fs::read_to_string(&log_path).unwrap_or_default()
        );
    }

    async fn wait_ready(&mut self) -> bool {
        let sys_up_time = Oid::parse("1.3.6.1.2.1.1.3.0").unwrap();
        for _ in 0..MAX_READINESS_POLLS {
            if self.child.try_wait().unwrap().is_some() {
                return false;
            }
            let mut client = Client::new(self.address, Security::v2c(COMMUNITY))
                .await
                .unwrap()
                .with_timeout(READINESS_POLL_TIMEOUT)
                .unwrap()
                .with_retries(0)
                .unwrap();
            if client.get(std::slice::from_ref(&sys_up_time)).await.is_ok() {
                return true;
            }
        }
        false
    }

    /// A v2c client of this agent, with room for slow extend scripts.
    pub async fn client(&self) -> Client {
        Client::new(self.address, Security::v2c(COMMUNITY))
            .await
            .unwrap()
            .with_timeout(Duration::from_secs(5))
            .unwrap()
            .with_retries(1)
            .unwrap()
    }
}

/// Runs a net-snmp command-line tool with a private persistent directory and no MIBs,
/// bounded in time; returns its exit success and output.
pub async fn run_tool(program: &str, package: &str, args: &[&str]) -> (bool, String) {
    let path = require_tool(program, package);
    let directory = TempDir::new(program);
    let mut command = tokio::process::Command::new(path);
    command
        .arg("-M")
        .arg(directory.path())
        .args(["-m", ""])
        .args(args)
        .env("SNMP_PERSISTENT_DIR", directory.path().join("persist"))
        .env("MIBS", "")
        .env("MIBDIRS", directory.path())
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let output = tokio::time::timeout(TOOL_TIMEOUT, command.output())
        .await
        .unwrap_or_else(|_| panic!("{program} n'a pas fini en {TOOL_TIMEOUT:?}"))
        .expect("run net-snmp tool");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}
