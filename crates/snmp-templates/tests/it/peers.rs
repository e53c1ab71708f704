//! Test peers: the shared net-snmp peers of `vigie_snmp::testing`.

pub use vigie_snmp::testing::Agent;

/// Runs `snmptrap`; fails the test with its output when it fails.
pub async fn snmptrap(args: &[&str]) {
    let (ok, output) = vigie_snmp::testing::run_tool("snmptrap", "snmp", args).await;
    assert!(ok, "snmptrap a échoué : {output}");
}
