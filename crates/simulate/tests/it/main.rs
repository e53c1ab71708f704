//! Scenarios as tests: every `scenarios/*.toml` is run twice and its timeline compared, byte
//! for byte, with the `*.expected.jsonl` checked in beside it. `VIGIE_BLESS=1` rewrites the
//! expected files after a deliberate change (review the diff before committing it).

use std::path::{Path, PathBuf};

fn scenarios_directory() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios")
}

/// Every scenario file: the `.toml` files that hold a `start` (the shared inventories do not).
fn scenario_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(scenarios_directory())
        .expect("scenarios/")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "toml"))
        .filter(|path| {
            let text = std::fs::read_to_string(path).expect("scenario");
            text.lines().any(|line| line.starts_with("start"))
        })
        .collect();
    files.sort();
    files
}

fn expected_path(scenario: &Path) -> PathBuf {
    scenario.with_extension("expected.jsonl")
}

#[tokio::test]
async fn every_scenario_reproduces_its_expected_timeline_twice() {
    let files = scenario_files();
    assert!(
        files.len() >= 3,
        "scenarios/ holds {} scenarios",
        files.len()
    );
    let bless = std::env::var("VIGIE_BLESS").is_ok_and(|v| v == "1");
    // Blessing rewrites what is compared: in CI it would make the test pass whatever the output.
    assert!(
        !(bless && std::env::var("CI").is_ok_and(|v| v == "true")),
        "VIGIE_BLESS=1 is refused in CI"
    );
    let mut failures = Vec::new();
    for file in &files {
        let first = vigie_simulate::run_file(file)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let second = vigie_simulate::run_file(file)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(first, second, "{}: two runs differ", file.display());
        assert!(!first.is_empty(), "{}: empty timeline", file.display());
        let expected_file = expected_path(file);
        if bless {
            std::fs::write(&expected_file, &first).expect("write expected");
            continue;
        }
        let expected = std::fs::read_to_string(&expected_file).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (VIGIE_BLESS=1 to create it)",
                expected_file.display()
            )
        });
        if expected != first {
            failures.push(format!(
                "{}\n--- attendu\n{expected}--- obtenu\n{first}",
                file.display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "timelines differ:\n{}",
        failures.join("\n")
    );
}

/// Every line is a JSON object whose first keys are `at` (RFC 3339 with an offset) and `type`.
#[tokio::test]
async fn every_line_has_an_instant_and_a_type() {
    for file in scenario_files() {
        let timeline = vigie_simulate::run_file(&file)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mut previous: Option<jiff::Timestamp> = None;
        for line in timeline.lines() {
            assert!(line.starts_with("{\"at\":\""), "{line}");
            let value: serde_json::Value = serde_json::from_str(line).expect("JSON");
            let at = value["at"].as_str().expect("at");
            assert!(at.ends_with("+01:00") || at.ends_with("+02:00"), "{at}");
            let instant: jiff::Timestamp = at.parse().expect("RFC 3339");
            assert!(
                previous.is_none_or(|p| p <= instant),
                "{}: out of order at {at}",
                file.display()
            );
            previous = Some(instant);
            assert!(
                value["type"].as_str().is_some_and(|t| t.contains('.')),
                "{line}"
            );
        }
    }
}
