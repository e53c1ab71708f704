//! `poll` against a real snmpd: the generic part, the linux-net-snmp template's UCD tables and
//! extend scripts, and what a device that lacks or garbles a value gives (never an error).

use vigie_domain::supervision::{CheckName, CheckStatus, Sample};
use vigie_snmp_templates::{PollResult, Templates, poll};

use crate::peers::Agent;

/// A healthy Linux recorder: snmpd runs, the recorder process does not, / has room.
const RECORDER: &str = "\
sysName nvr-test-01
proc snmpd
proc vigie-recorder-absent
disk / 1
extend temperature /bin/echo 42.5
extend fan /bin/echo 3200
extend power /bin/echo 1
";

async fn poll_with(config: &str, template: &str) -> PollResult {
    let agent = Agent::start(config).await;
    let mut client = agent.client().await;
    let templates = Templates::builtin();
    let template = templates.get(template).expect("builtin template");
    poll(&mut client, template).await.expect("poll")
}

fn sample(result: &PollResult, name: &str) -> f64 {
    result
        .samples
        .iter()
        .find(|s: &&Sample| s.name.as_str() == name)
        .unwrap_or_else(|| panic!("mesure {name} absente : {:?}", result.samples))
        .value
}

fn check(result: &PollResult, name: &str) -> (CheckStatus, Option<String>) {
    let name = CheckName::parse(name).unwrap();
    result
        .checks
        .iter()
        .find(|(check, _, _)| *check == name)
        .map(|(_, status, detail)| (*status, detail.clone()))
        .unwrap_or_else(|| panic!("contrôle {name} absent : {:?}", result.checks))
}

#[tokio::test]
async fn linux_recorder_gives_metrics_and_statuses() {
    let result = poll_with(RECORDER, "linux-net-snmp").await;

    assert!(sample(&result, "uptime_seconds") >= 0.0);
    let memory = sample(&result, "memory_used_percent");
    assert!((0.0..=100.0).contains(&memory), "{memory}");
    assert!(sample(&result, "load_1min") >= 0.0);
    assert!(sample(&result, "load_5min") >= 0.0);
    assert_eq!(sample(&result, "temperature_celsius"), 42.5);
    assert_eq!(sample(&result, "fan_rpm"), 3200.0);
    let disk = sample(&result, "disk_used_percent:/");
    assert!((0.0..=100.0).contains(&disk), "{disk}");

    let (recording, detail) = check(&result, "snmp.recording");
    assert_eq!(recording, CheckStatus::Down);
    let detail = detail.unwrap();
    assert!(detail.contains("vigie-recorder-absent"), "{detail}");
    assert!(
        !detail.contains("snmpd"),
        "le processus qui tourne n'est pas en cause : {detail}"
    );
    assert_eq!(check(&result, "snmp.disk_health"), (CheckStatus::Up, None));
    assert_eq!(check(&result, "snmp.power_supply"), (CheckStatus::Up, None));
    assert_eq!(result.checks.len(), 3);

    assert!(
        result.facts["sys_descr"].contains("Linux"),
        "{:?}",
        result.facts
    );
    assert_eq!(result.facts["sys_name"], "nvr-test-01");
    assert!(
        !result.facts.contains_key("missing_metrics"),
        "{:?}",
        result.facts
    );
}

#[tokio::test]
async fn power_failure_and_full_disk_are_down() {
    // A threshold of 100 % free space can never be met: dskErrorFlag is 1.
    let config = "\
proc snmpd
disk / 100%
extend temperature /bin/echo 81
extend fan /bin/echo 0
extend power /bin/echo 0
";
    let result = poll_with(config, "linux-net-snmp").await;
    let (disk, detail) = check(&result, "snmp.disk_health");
    assert_eq!(disk, CheckStatus::Down);
    assert_eq!(detail.as_deref(), Some("disque en erreur : /"));
    assert_eq!(
        check(&result, "snmp.power_supply"),
        (CheckStatus::Down, Some("alimentation en panne".to_owned()))
    );
    assert_eq!(check(&result, "snmp.recording"), (CheckStatus::Up, None));
    assert_eq!(sample(&result, "temperature_celsius"), 81.0);
}

#[tokio::test]
async fn garbled_or_absent_values_are_outcomes_not_errors() {
    // No proc, no disk, no power script; temperature says words, fan says "nan".
    let config = "\
extend temperature /bin/echo trop chaud
extend fan /bin/echo nan
";
    let result = poll_with(config, "linux-net-snmp").await;
    assert!(
        result
            .samples
            .iter()
            .all(|s| !s.name.as_str().starts_with("temperature")
                && !s.name.as_str().starts_with("fan")),
        "{:?}",
        result.samples
    );
    let missing = &result.facts["missing_metrics"];
    assert_eq!(missing, "temperature_celsius, fan_rpm");
    let (recording, detail) = check(&result, "snmp.recording");
    assert_eq!(recording, CheckStatus::Unknown);
    assert!(detail.unwrap().contains("table vide"));
    let (power, detail) = check(&result, "snmp.power_supply");
    assert_eq!(power, CheckStatus::Unknown);
    assert!(detail.unwrap().contains("valeur absente"));
    // The generic part is still there.
    assert!(sample(&result, "uptime_seconds") >= 0.0);
}

#[tokio::test]
async fn camera_template_gives_the_generic_part() {
    let result = poll_with("sysLocation Quai 3", "generic-camera").await;
    assert!(sample(&result, "uptime_seconds") >= 0.0);
    assert!(result.checks.is_empty());
    assert_eq!(result.facts["sys_location"], "Quai 3");
    assert!(result.facts.contains_key("sys_descr"));
}

#[tokio::test]
async fn a_template_status_on_a_text_value_is_unknown() {
    // sysDescr is text, not an integer: the check cannot be decided.
    let template = Templates::parse(
        "etrange.toml",
        r#"
name = "etrange"
description = "Modèle de test"
[[status]]
check = "snmp.weird"
oid = "1.3.6.1.2.1.1.1.0"
down_when = [1]
detail = "bizarre"
[[metric]]
name = "scaled_uptime"
oid = "1.3.6.1.2.1.1.3.0"
scale = 0.01
"#,
    )
    .unwrap();
    let agent = Agent::start("").await;
    let mut client = agent.client().await;
    let result = poll(&mut client, &template).await.unwrap();
    let (status, detail) = check(&result, "snmp.weird");
    assert_eq!(status, CheckStatus::Unknown);
    assert!(detail.unwrap().contains("illisible"));
    // Same source as uptime_seconds (ticks × 0.01), read once.
    let difference = sample(&result, "scaled_uptime") - sample(&result, "uptime_seconds");
    assert!(difference.abs() < 1e-6, "{difference}");
}
