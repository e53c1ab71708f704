//! Traps sent by net-snmp's `snmptrap` to a real `TrapListener`, mapped by `map_trap`.

use std::time::Duration;

use vigie_domain::supervision::{CheckName, CheckStatus};
use vigie_snmp::{Notification, TrapListener, TrapSecurity};
use vigie_snmp_templates::{Templates, TrapMapping, map_trap};

use crate::peers::snmptrap;

const COMMUNITY: &str = "public";
/// Longest wait for a datagram the test itself has just sent.
const RECEIVE_TIMEOUT: Duration = Duration::from_secs(30);

/// Sends one trap with `snmptrap` (arguments after the target) and returns it as received.
async fn send_and_receive(version: &str, args: &[&str]) -> Notification {
    let mut listener = TrapListener::bind(
        "127.0.0.1:0".parse().unwrap(),
        TrapSecurity::new().with_community(COMMUNITY),
    )
    .await
    .unwrap();
    let target = format!("udp:127.0.0.1:{}", listener.local_address().port());
    let mut all = vec!["-v", version, "-c", COMMUNITY, target.as_str()];
    all.extend_from_slice(args);
    snmptrap(&all).await;
    let (_, outcome) = tokio::time::timeout(RECEIVE_TIMEOUT, listener.next())
        .await
        .expect("trap attendu")
        .expect("listener running");
    outcome.expect("trap décodé")
}

/// DISMAN-EVENT-MIB mteTriggerFired as snmpd's own monitors send it, `object` in mteHotOID.
async fn disman_trigger_fired(object: &str) -> Notification {
    send_and_receive(
        "2c",
        &[
            "",
            "1.3.6.1.2.1.88.2.0.1",
            "1.3.6.1.2.1.88.2.1.1.0",
            "s",
            "process table",
            "1.3.6.1.2.1.88.2.1.4.0",
            "o",
            object,
        ],
    )
    .await
}

fn mapping(check: &str, status: CheckStatus, detail: &str) -> Option<TrapMapping> {
    Some(TrapMapping {
        check: CheckName::parse(check).unwrap(),
        status,
        detail: detail.to_owned(),
    })
}

#[tokio::test]
async fn disk_failure_trap_moves_disk_health_down() {
    let notification = send_and_receive("2c", &["", "1.3.6.1.4.1.8072.9999.1.0.1"]).await;
    let templates = Templates::builtin();
    let expected = mapping(
        "snmp.disk_health",
        CheckStatus::Down,
        "défaillance disque signalée par l'équipement",
    );
    assert_eq!(
        map_trap(&templates, Some("linux-net-snmp"), &notification),
        expected
    );
    // Without a known model, every template is tried.
    assert_eq!(map_trap(&templates, None, &notification), expected);
    // The camera template does not know it.
    assert_eq!(
        map_trap(&templates, Some("generic-camera"), &notification),
        None
    );
    assert_eq!(
        map_trap(&templates, Some("no-such-model"), &notification),
        None
    );
}

#[tokio::test]
async fn link_down_moves_the_link_check_down() {
    let notification = send_and_receive(
        "2c",
        &["", "1.3.6.1.6.3.1.1.5.3", "1.3.6.1.2.1.2.2.1.1.2", "i", "2"],
    )
    .await;
    let templates = Templates::builtin();
    assert_eq!(
        map_trap(&templates, Some("generic-camera"), &notification),
        mapping(
            "snmp.link",
            CheckStatus::Down,
            "lien réseau de la caméra tombé (linkDown)"
        )
    );
}

#[tokio::test]
async fn disman_trigger_is_mapped_by_the_object_in_its_varbind() {
    let templates = Templates::builtin();
    let process = disman_trigger_fired("1.3.6.1.4.1.2021.2.1.100.2").await;
    let mapped = map_trap(&templates, Some("linux-net-snmp"), &process).unwrap();
    assert_eq!(mapped.check.as_str(), "snmp.recording");
    assert_eq!(mapped.status, CheckStatus::Down);

    let disk = disman_trigger_fired("1.3.6.1.4.1.2021.9.1.100.1").await;
    let mapped = map_trap(&templates, Some("linux-net-snmp"), &disk).unwrap();
    assert_eq!(mapped.check.as_str(), "snmp.disk_health");
    assert_eq!(mapped.status, CheckStatus::Down);

    // Load average (laErrorFlag) is no check of the template: not mapped, the caller keeps it.
    let load = disman_trigger_fired("1.3.6.1.4.1.2021.10.1.100.1").await;
    assert_eq!(map_trap(&templates, Some("linux-net-snmp"), &load), None);
}

#[tokio::test]
async fn v1_trap_of_the_vigie_arc_is_mapped() {
    // Enterprise 1.3.6.1.4.1.8072.9999.1, specific 5: RFC 3584 form ….9999.1.0.5.
    let notification =
        send_and_receive("1", &["1.3.6.1.4.1.8072.9999.1", "127.0.0.1", "6", "5", ""]).await;
    let templates = Templates::builtin();
    assert_eq!(
        map_trap(&templates, Some("linux-net-snmp"), &notification),
        mapping(
            "snmp.recording",
            CheckStatus::Down,
            "arrêt de l'enregistrement signalé par l'équipement"
        )
    );
}

#[tokio::test]
async fn unknown_trap_maps_to_nothing() {
    let notification = send_and_receive("2c", &["", "1.3.6.1.4.1.99999.1.2.3"]).await;
    let templates = Templates::builtin();
    assert_eq!(map_trap(&templates, None, &notification), None);
    assert_eq!(
        map_trap(&templates, Some("linux-net-snmp"), &notification),
        None
    );
}
