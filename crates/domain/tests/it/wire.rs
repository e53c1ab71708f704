//! The agent and probe protocol against its golden files (issue 24, item 7): what agents in
//! the field send must keep reading as the same observations, and what this build sends must
//! stay the same text, whatever the domain's own types become.

use std::collections::BTreeMap;

use vigie_domain::Reference;
use vigie_domain::supervision::{CheckName, CheckStatus, MetricName, Observation, Sample};
use vigie_domain::wire::{self, PROTOCOL_VERSION, ProbeIdentityV1, PushV1};

fn golden(name: &str) -> String {
    let path = format!("{}/tests/it/data/wire/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn sample(name: &str, value: f64) -> Sample {
    Sample {
        name: MetricName::parse(name).unwrap(),
        value,
    }
}

/// The observations the version-1 golden file carries, as the domain sees them.
fn golden_observations() -> Vec<Observation> {
    let observation = |equipment: &str, check: &str, at: i64, status: CheckStatus| Observation {
        equipment: Reference::parse(equipment).unwrap(),
        check: CheckName::parse(check).unwrap(),
        at,
        status: Some(status),
        detail: None,
        samples: Vec::new(),
        facts: BTreeMap::new(),
    };
    let mut ping = observation(
        "CAM-PARIS-001",
        "ping",
        1_796_371_200_000,
        CheckStatus::Down,
    );
    ping.detail = Some("délai dépassé".into());
    let mut agent = observation("NVR-PARIS-01", "agent", 1_796_371_201_500, CheckStatus::Up);
    agent.samples = vec![
        sample("cpu_percent", 12.5),
        sample("disk_used_percent:/srv/video", 97.0),
    ];
    agent.facts = BTreeMap::from([
        ("firmware".to_owned(), "4.2.1".to_owned()),
        ("manufacturer".to_owned(), "Hikvision".to_owned()),
    ]);
    let rtsp = observation(
        "CAM-PARIS-002",
        "rtsp",
        1_796_371_202_000,
        CheckStatus::Unknown,
    );
    vec![ping, agent, rtsp]
}

#[test]
fn a_version_1_batch_reads_as_the_same_observations() {
    let push: PushV1 = serde_json::from_str(&golden("push-v1.json")).unwrap();
    assert_eq!(push.version, 1);
    assert_eq!(push.source.as_deref(), Some("probe:sonde-paris"));
    assert_eq!(push.sequence, Some(42));
    let probe = push.probe.clone().unwrap();
    assert_eq!(probe.site().unwrap().as_str(), "SITE-PARIS-01");
    assert_eq!(probe.interval_seconds, 60);
    assert_eq!(
        wire::observations(push.observations).unwrap(),
        golden_observations()
    );
}

#[test]
fn this_build_writes_a_batch_as_the_version_1_golden_file() {
    let push = PushV1::new(
        "probe:sonde-paris",
        42,
        Some(ProbeIdentityV1 {
            name: "sonde-paris".into(),
            site: "SITE-PARIS-01".into(),
            interval_seconds: 60,
        }),
        &golden_observations(),
    );
    assert_eq!(
        PROTOCOL_VERSION, 1,
        "a new version needs its own golden file"
    );
    let written = serde_json::to_value(&push).unwrap();
    let expected: serde_json::Value = serde_json::from_str(&golden("push-v1.json")).unwrap();
    assert_eq!(
        written,
        expected,
        "the protocol's text changed:\n{}",
        serde_json::to_string_pretty(&written).unwrap()
    );
}

#[test]
fn a_batch_without_a_version_is_version_1() {
    let push: PushV1 = serde_json::from_str(&golden("push-without-version.json")).unwrap();
    assert_eq!(push.version, 1);
    let observations = wire::observations(push.observations).unwrap();
    assert_eq!(observations.len(), 1);
    assert_eq!(observations[0].samples, vec![sample("cpu_percent", 12.5)]);
}

#[test]
fn a_wrong_observation_is_named_by_its_position_and_field() {
    let text = golden("push-v1.json").replace("CAM-PARIS-002", "caméra 2");
    let push: PushV1 = serde_json::from_str(&text).unwrap();
    let error = wire::observations(push.observations).unwrap_err();
    assert!(
        error.0.starts_with("observations[2] : equipment : "),
        "{error}"
    );
}

#[test]
fn a_field_unknown_to_version_1_is_refused() {
    let text = golden("push-v1.json").replace("\"sequence\": 42,", "\"sequence\": 42, \"lot\": 1,");
    let error = serde_json::from_str::<PushV1>(&text).unwrap_err();
    assert!(error.to_string().contains("lot"), "{error}");
}
