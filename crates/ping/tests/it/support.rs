//! Helpers shared by the tests: namespaces that fail loudly, and running `vigie-ping-sweep`
//! inside one with its JSON output read back.

use std::process::Output;

use serde_json::Value;
use vigie_ping::netns::Namespace;

/// A namespace, or a failure that names what to install (iproute2) or what went wrong.
pub fn namespace(purpose: &str) -> Namespace {
    Namespace::create(purpose).unwrap_or_else(|error| panic!("{error}"))
}

/// A pinger namespace joined by a veth pair to a host namespace: the pinger is 10.91.0.1/24 on
/// `veth0`, the host 10.91.0.2/24 on `veth1`.
pub fn pinger_and_host(purpose: &str) -> (Namespace, Namespace) {
    let pinger = namespace(&format!("{purpose}-p"));
    let host = namespace(&format!("{purpose}-h"));
    pinger
        .link_veth("veth0", "10.91.0.1/24", &host, "veth1", "10.91.0.2/24")
        .unwrap_or_else(|error| panic!("{error}"));
    (pinger, host)
}

/// Runs `vigie-ping-sweep <args>` inside `namespace`, without checking its exit status.
pub fn run_sweep(namespace: &Namespace, args: &[&str]) -> Output {
    namespace
        .command(env!("CARGO_BIN_EXE_vigie-ping-sweep"))
        .args(args)
        .output()
        .expect("lancement de vigie-ping-sweep")
}

/// Runs a sweep that must succeed; its JSON document.
pub fn sweep(namespace: &Namespace, args: &[&str]) -> Value {
    let output = run_sweep(namespace, args);
    assert!(
        output.status.success(),
        "vigie-ping-sweep {args:?} a échoué : {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("sortie JSON de vigie-ping-sweep")
}

/// The one result of a single-target sweep.
pub fn only_result(document: &Value) -> &Value {
    let results = document["results"].as_array().expect("results");
    assert_eq!(results.len(), 1, "{document}");
    &results[0]
}
