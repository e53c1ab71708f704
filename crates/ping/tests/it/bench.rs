//! The benchmark binary, on small sweeps: both tools run and see every target alive.

use std::process::Command;

#[test]
fn the_benchmark_compares_both_tools_on_the_same_targets() {
    vigie_ping::netns::require_tool("fping", "fping").unwrap_or_else(|error| panic!("{error}"));
    let output = Command::new(env!("CARGO_BIN_EXE_vigie-ping-bench"))
        .args(["--sizes", "300,700", "--timeout-ms", "2000", "--runs", "2"])
        .output()
        .expect("lancement de vigie-ping-bench");
    let markdown = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{markdown}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for tool in [
        "vigie-ping, interval 0",
        "vigie-ping, default interval 10 µs",
        "fping -i 0 -c 1 -q",
    ] {
        for targets in ["300", "700"] {
            let row = format!("| {targets} | {tool} | {targets} |");
            assert!(
                markdown.contains(&row),
                "ligne attendue : {row}\n{markdown}"
            );
        }
    }
    assert!(
        markdown.contains("vigie-ping-bench --sizes 300,700 --timeout-ms 2000 --runs 2"),
        "{markdown}"
    );
}
