//! SNMPv3 traps received by the server, sent by net-snmp's `snmptrap -v3 -l authPriv`: a
//! known trap from a configured user moves the check its equipment's template names; a trap
//! that fails the user-based security (wrong password, unknown user or engine, lower security
//! level, refused community) is kept, unreadable, and changes no state.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use vigie_domain::access::Actor;
use vigie_domain::inventory::StaffRole;
use vigie_domain::inventory::file::InventoryFile;
use vigie_server::config::{Password, TrapUserConfig};
use vigie_snmp::testing::{free_udp_port, run_tool};
use vigie_store::UserKind;

use crate::{NOW, Session, TestApp};

/// The recorder the traps come from: 127.0.0.1, a Linux NVR (template `linux-net-snmp`).
const NVR: &str = "EQ-NVR";
const INVENTORY: &str = r#"version = 1
[[client]]
ref = "CLI-T"
name = "Client test"
[[contract]]
ref = "CTR-T"
client = "CLI-T"
options = ["supervision"]
[[site]]
ref = "SITE-T"
client = "CLI-T"
contract = "CTR-T"
name = "Site test"
[[equipment]]
ref = "EQ-NVR"
site = "SITE-T"
name = "Enregistreur"
kind = "nvr"
address = "127.0.0.1"
"#;

const USER: &str = "vigie-traps";
const ENGINE_ID: &str = "0x80001f8804766967696531";
const AUTH_PASSWORD: &str = "mot-de-passe-auth";
const PRIVACY_PASSWORD: &str = "mot-de-passe-priv";
/// A second user, configured with lower-case protocol names and net-snmp's spaced hex.
const OLD_USER: &str = "nvr-ancien";
const OLD_ENGINE_ID: &str = "0x80001f88046e7672";
const OLD_ENGINE_ID_SPACED: &str = "80 00 1F 88 04 6E 76 72";

/// linux-net-snmp: disk failure, disk back, power supply failure.
const DISK_FAILED: &str = "1.3.6.1.4.1.8072.9999.1.0.1";
const DISK_BACK: &str = "1.3.6.1.4.1.8072.9999.1.0.2";
const POWER_FAILED: &str = "1.3.6.1.4.1.8072.9999.1.0.3";

/// Longest wait for a trap the test has sent to be kept.
const KEPT_WITHIN: Duration = Duration::from_secs(20);

/// A server receiving v3 traps from two users, and no v1/v2c community at all.
async fn server() -> (TestApp, u16) {
    let port = free_udp_port();
    let app = TestApp::spawn_with(|config| {
        config.supervision.trap_listen = format!("127.0.0.1:{port}");
        config.supervision.trap_communities = Vec::new();
        config.supervision.trap_users = vec![
            TrapUserConfig {
                user: USER.into(),
                engine_id: ENGINE_ID.into(),
                auth_protocol: Some("SHA-256".into()),
                auth_password: Password(AUTH_PASSWORD.into()),
                privacy_protocol: Some("AES".into()),
                privacy_password: Password(PRIVACY_PASSWORD.into()),
            },
            TrapUserConfig {
                user: OLD_USER.into(),
                engine_id: OLD_ENGINE_ID_SPACED.into(),
                auth_protocol: Some("sha".into()),
                auth_password: Password(AUTH_PASSWORD.into()),
                privacy_protocol: Some("des".into()),
                privacy_password: Password(PRIVACY_PASSWORD.into()),
            },
        ];
    })
    .await;
    let inventory = InventoryFile::parse(INVENTORY).unwrap().inventory;
    app.store
        .import(&Actor::console("test"), &inventory, NOW)
        .await
        .unwrap();
    (app, port)
}

/// What `snmptrap -v 3` is given besides the target and the trap.
struct V3<'a> {
    user: &'a str,
    engine_id: &'a str,
    auth: &'a str,
    auth_password: &'a str,
    privacy: &'a str,
    privacy_password: &'a str,
    level: &'a str,
}

const GOOD: V3<'static> = V3 {
    user: USER,
    engine_id: ENGINE_ID,
    auth: "SHA-256",
    auth_password: AUTH_PASSWORD,
    privacy: "AES",
    privacy_password: PRIVACY_PASSWORD,
    level: "authPriv",
};

async fn send_v3(port: u16, security: &V3<'_>, trap_and_varbinds: &[&str]) {
    let target = format!("udp:127.0.0.1:{port}");
    let mut args = vec![
        "-v",
        "3",
        "-e",
        security.engine_id,
        "-u",
        security.user,
        "-a",
        security.auth,
        "-A",
        security.auth_password,
        "-x",
        security.privacy,
        "-X",
        security.privacy_password,
        "-l",
        security.level,
        &target,
        "",
    ];
    args.extend_from_slice(trap_and_varbinds);
    let (sent, output) = run_tool("snmptrap", "snmp", &args).await;
    assert!(sent, "{output}");
}

/// The kept traps, newest first, as the API shows them to staff.
async fn traps(staff: &Session<'_>, unknown_only: bool) -> Vec<Value> {
    let reply = staff
        .get(&format!("/api/v1/traps?unknown={unknown_only}"))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.body["items"].as_array().unwrap().clone()
}

/// Waits for a kept trap newer than `after` that `matches`.
async fn kept(
    staff: &Session<'_>,
    after: i64,
    what: &str,
    matches: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + KEPT_WITHIN;
    loop {
        let found = traps(staff, false)
            .await
            .into_iter()
            .find(|t| t["id"].as_i64().unwrap() > after && matches(t));
        if let Some(trap) = found {
            return trap;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "trap non gardé : {what} ; gardés : {:?}",
            traps(staff, false).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the trap receiver runs (it starts after the keys are derived): garbage is
/// sent until one is kept as malformed. Returns the newest trap id.
async fn receiver_ready(staff: &Session<'_>, port: u16) -> i64 {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let deadline = tokio::time::Instant::now() + KEPT_WITHIN;
    loop {
        socket
            .send_to(b"pret ?", ("127.0.0.1", port))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let kept = traps(staff, false).await;
        if let Some(newest) = kept.first() {
            assert!(
                newest["error"].as_str().unwrap().contains("malformé"),
                "{newest}"
            );
            return newest["id"].as_i64().unwrap();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "le serveur ne reçoit pas les traps"
        );
    }
}

/// The check of the recorder, when it has a state.
async fn check_state(staff: &Session<'_>, check: &str) -> Option<Value> {
    let reply = staff.get(&format!("/api/v1/equipment/{NVR}/state")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["check"] == check)
        .cloned()
}

/// Waits for the recorder's check to reach `status` (a trap is kept, then its observation
/// recorded).
async fn check_becomes(staff: &Session<'_>, check: &str, status: &str) -> Value {
    let deadline = tokio::time::Instant::now() + KEPT_WITHIN;
    loop {
        let state = check_state(staff, check).await;
        if let Some(state) = state.filter(|s| s["status"] == status) {
            return state;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{check} n'est pas passé à {status} : {:?}",
            check_state(staff, check).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_v3_trap_from_a_configured_user_moves_the_check_its_template_names() {
    let (app, port) = server().await;
    let staff = app
        .login_as(
            "superviseur",
            UserKind::Staff,
            None,
            &[StaffRole::Supervision],
        )
        .await;
    let mut last = receiver_ready(&staff, port).await;

    // SHA-256 + AES: a disk failure on the recorder.
    send_v3(
        port,
        &GOOD,
        &[DISK_FAILED, "1.3.6.1.2.1.1.5.0", "s", "nvr-opera"],
    )
    .await;
    let trap = kept(&staff, last, "panne disque v3", |t| {
        t["trap_oid"] == DISK_FAILED
    })
    .await;
    assert_eq!(trap["version"], "V3", "{trap}");
    assert_eq!(trap["sender"], USER, "{trap}");
    assert_eq!(trap["equipment"], NVR, "{trap}");
    assert_eq!(trap["check"], "snmp.disk_health", "{trap}");
    assert!(trap["error"].is_null(), "{trap}");
    assert_eq!(trap["varbinds"][0][0], "1.3.6.1.2.1.1.5.0", "{trap}");
    last = trap["id"].as_i64().unwrap();
    let disk = check_becomes(&staff, "snmp.disk_health", "down").await;
    assert!(
        disk["detail"].as_str().unwrap().contains("disque"),
        "{disk}"
    );
    // A known trap is not listed among the unknown ones.
    assert!(
        traps(&staff, true)
            .await
            .iter()
            .all(|t| t["trap_oid"] != DISK_FAILED)
    );

    // The other user (SHA + DES, from its own engine), a minute later: the disk is back.
    app.clock.advance_ms(60_000);
    let old = V3 {
        user: OLD_USER,
        engine_id: OLD_ENGINE_ID,
        auth: "SHA",
        privacy: "DES",
        ..GOOD
    };
    send_v3(port, &old, &[DISK_BACK]).await;
    let trap = kept(&staff, last, "disque rétabli v3", |t| {
        t["trap_oid"] == DISK_BACK
    })
    .await;
    assert_eq!(trap["sender"], OLD_USER, "{trap}");
    assert_eq!(trap["check"], "snmp.disk_health", "{trap}");
    check_becomes(&staff, "snmp.disk_health", "up").await;
    app.finish().await;
}

#[tokio::test]
async fn a_v3_trap_failing_security_is_kept_unreadable_and_changes_nothing() {
    let (app, port) = server().await;
    let staff = app
        .login_as(
            "superviseur",
            UserKind::Staff,
            None,
            &[StaffRole::Supervision],
        )
        .await;
    let mut last = receiver_ready(&staff, port).await;

    let wrong_auth = V3 {
        auth_password: "pas-le-bon-mot-de-passe",
        ..GOOD
    };
    let wrong_privacy = V3 {
        privacy_password: "pas-le-bon-mot-de-passe",
        ..GOOD
    };
    let stranger = V3 {
        user: "intrus",
        ..GOOD
    };
    let other_engine = V3 {
        engine_id: "0x80001f8804766967696539",
        ..GOOD
    };
    let not_encrypted = V3 {
        level: "authNoPriv",
        ..GOOD
    };
    for (security, expected) in [
        (&wrong_auth, "échec d'authentification SNMPv3"),
        (&wrong_privacy, "échec du déchiffrement SNMPv3"),
        (&stranger, "utilisateur SNMPv3 inconnu : « intrus »"),
        (
            &other_engine,
            "identifiant de moteur SNMPv3 de l'émetteur inconnu pour l'utilisateur « vigie-traps » : 0x80001f8804766967696539",
        ),
        (
            &not_encrypted,
            "niveau de sécurité SNMPv3 non accepté pour cet utilisateur",
        ),
    ] {
        send_v3(port, security, &[DISK_FAILED]).await;
        let trap = kept(&staff, last, expected, |t| {
            t["error"].as_str().is_some_and(|e| e.contains(expected))
        })
        .await;
        // Unreadable: nothing of it is trusted, but where it came from is kept.
        assert!(trap["trap_oid"].is_null(), "{trap}");
        assert!(trap["check"].is_null(), "{trap}");
        assert_eq!(trap["equipment"], NVR, "{trap}");
        last = trap["id"].as_i64().unwrap();
    }
    // An empty community list: v1 and v2c are refused, and kept the same way.
    let target = format!("udp:127.0.0.1:{port}");
    let (sent, output) = run_tool(
        "snmptrap",
        "snmp",
        &["-v", "2c", "-c", "public", &target, "", DISK_FAILED],
    )
    .await;
    assert!(sent, "{output}");
    let trap = kept(&staff, last, "communauté refusée", |t| {
        t["error"]
            .as_str()
            .is_some_and(|e| e.contains("communauté SNMP refusée : « public »"))
    })
    .await;
    last = trap["id"].as_i64().unwrap();
    // A v3 inform cannot be acknowledged (the server has no engine of its own): its discovery
    // is kept, saying so, and the sender gives up.
    let inform = [
        "-v",
        "3",
        "-u",
        USER,
        "-a",
        "SHA-256",
        "-A",
        AUTH_PASSWORD,
        "-x",
        "AES",
        "-X",
        PRIVACY_PASSWORD,
        "-l",
        "authPriv",
        "-t",
        "1",
        "-r",
        "0",
        &target,
        "",
        DISK_FAILED,
    ];
    let (acknowledged, output) = run_tool("snmpinform", "snmp", &inform).await;
    assert!(!acknowledged, "{output}");
    let trap = kept(&staff, last, "inform v3", |t| {
        t["error"]
            .as_str()
            .is_some_and(|e| e.contains("pas les informs SNMPv3"))
    })
    .await;
    last = trap["id"].as_i64().unwrap();
    // All of them are listed among the unknown traps.
    assert_eq!(
        traps(&staff, true)
            .await
            .iter()
            .filter(|t| !t["error"].is_null())
            .count(),
        traps(&staff, false).await.len()
    );

    // A good trap after them is read: traps are taken in order, so the refused ones were
    // handled before it, and none of them moved the disk check.
    send_v3(port, &GOOD, &[POWER_FAILED]).await;
    kept(&staff, last, "panne d'alimentation v3", |t| {
        t["check"] == "snmp.power_supply"
    })
    .await;
    check_becomes(&staff, "snmp.power_supply", "down").await;
    assert_eq!(check_state(&staff, "snmp.disk_health").await, None);
    app.finish().await;
}
