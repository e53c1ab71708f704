//! Throw-away Linux network namespaces for the tests and the benchmark: a real network stack
//! to ping, isolated from the host's, deleted when the guard is dropped.
//!
//! Everything goes through the `ip` command (Debian package iproute2) and needs root. The
//! engine itself never uses this module.

use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

/// Namespaces created by this process so far: with the process id, makes names unique when
/// tests run in parallel, in one process or several.
static CREATED: AtomicU32 = AtomicU32::new(0);

#[derive(Debug, thiserror::Error)]
pub enum NetnsError {
    #[error("commande `{program}` introuvable : installer le paquet Debian {package}")]
    ToolMissing {
        program: &'static str,
        package: &'static str,
    },
    #[error("échec de `{command}` : {message}")]
    CommandFailed { command: String, message: String },
}

/// Fails with the Debian package to install when `program` is not on the PATH.
pub fn require_tool(program: &'static str, package: &'static str) -> Result<(), NetnsError> {
    match Command::new(program).arg("-V").output() {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            Err(NetnsError::ToolMissing { program, package })
        }
        // Present: whatever `-V` printed or returned does not matter.
        _ => Ok(()),
    }
}

/// A network namespace named `vigie-ping-<purpose>-<pid>-<n>`, deleted on drop.
#[derive(Debug)]
pub struct Namespace {
    name: String,
}

impl Namespace {
    /// Creates the namespace and brings its loopback up.
    pub fn create(purpose: &str) -> Result<Namespace, NetnsError> {
        require_tool("ip", "iproute2")?;
        let serial = CREATED.fetch_add(1, Ordering::Relaxed);
        let name = format!("vigie-ping-{purpose}-{}-{serial}", std::process::id());
        run(Command::new("ip").args(["netns", "add", &name]))?;
        let namespace = Namespace { name };
        namespace.ip(&["link", "set", "lo", "up"])?;
        Ok(namespace)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `ip -n <namespace> <args>`.
    pub fn ip(&self, args: &[&str]) -> Result<(), NetnsError> {
        run(Command::new("ip").args(["-n", &self.name]).args(args))?;
        Ok(())
    }

    /// A command that runs `program` inside the namespace (`ip netns exec`), to be completed
    /// and spawned by the caller.
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.name, program]);
        command
    }

    /// Joins this namespace to `peer` by a veth pair: `interface` here with `address`
    /// (CIDR), `peer_interface` there with `peer_address`, both up.
    pub fn link_veth(
        &self,
        interface: &str,
        address: &str,
        peer: &Namespace,
        peer_interface: &str,
        peer_address: &str,
    ) -> Result<(), NetnsError> {
        // Created inside the namespaces, never in the host's, so that parallel tests can use
        // the same interface names.
        self.ip(&[
            "link",
            "add",
            interface,
            "type",
            "veth",
            "peer",
            "name",
            peer_interface,
            "netns",
            &peer.name,
        ])?;
        self.ip(&["address", "add", address, "dev", interface])?;
        peer.ip(&["address", "add", peer_address, "dev", peer_interface])?;
        self.ip(&["link", "set", interface, "up"])?;
        peer.ip(&["link", "set", peer_interface, "up"])?;
        Ok(())
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        // Deleting the namespace also deletes its interfaces and routes. Nothing to do about
        // a failure here but leave the name behind.
        let _ = Command::new("ip")
            .args(["netns", "delete", &self.name])
            .output();
    }
}

fn run(command: &mut Command) -> Result<Output, NetnsError> {
    let described = format!("{command:?}");
    let output = command
        .output()
        .map_err(|error| NetnsError::CommandFailed {
            command: described.clone(),
            message: error.to_string(),
        })?;
    if !output.status.success() {
        return Err(NetnsError::CommandFailed {
            command: described,
            message: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    Ok(output)
}
