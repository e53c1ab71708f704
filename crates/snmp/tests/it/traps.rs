//! The notification receiver against net-snmp's snmptrap and snmpinform: v1, v2c, v2c
//! informs (acknowledged), v3 authPriv traps, a v3-only receiver, and garbage that must come
//! out as an error.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use vigie_snmp::{
    AuthProtocol, Error, Oid, PrivProtocol, SecurityLevel, TrapItem, TrapListener, TrapSecurity,
    UsmUser, Value, Version,
};

use crate::agent::{AUTH_PASSWORD, PRIV_PASSWORD, run_tool};

/// Longest wait for a datagram the test itself has just sent.
const RECEIVE_TIMEOUT: Duration = Duration::from_secs(30);
const COMMUNITY: &str = "public";
const SENDER_ENGINE_ID: &str = "0x80001f8804766967696531";
const SENDER_ENGINE_ID_BYTES: &[u8] = &[
    0x80, 0x00, 0x1f, 0x88, 0x04, b'v', b'i', b'g', b'i', b'e', b'1',
];

fn oid(text: &str) -> Oid {
    Oid::parse(text).unwrap()
}

async fn listener(security: TrapSecurity) -> (TrapListener, String) {
    let listener = TrapListener::bind("127.0.0.1:0".parse().unwrap(), security)
        .await
        .unwrap();
    let target = format!("udp:127.0.0.1:{}", listener.local_address().port());
    (listener, target)
}

async fn next(listener: &mut TrapListener) -> TrapItem {
    tokio::time::timeout(RECEIVE_TIMEOUT, listener.next())
        .await
        .expect("notification attendue")
        .expect("listener running")
}

fn assert_payload(varbinds: &[vigie_snmp::VarBind]) {
    assert_eq!(varbinds[0].oid, oid("1.3.6.1.4.1.8072.2.3.2.1"));
    assert_eq!(varbinds[0].value, Value::Integer(42));
    assert_eq!(varbinds[1].oid, oid("1.3.6.1.2.1.1.5.0"));
    assert_eq!(varbinds[1].value, Value::OctetString(b"camera-12".to_vec()));
}

const PAYLOAD: [&str; 6] = [
    "1.3.6.1.4.1.8072.2.3.2.1",
    "i",
    "42",
    "1.3.6.1.2.1.1.5.0",
    "s",
    "camera-12",
];

#[tokio::test]
async fn v2c_trap_is_decoded() {
    let (mut listener, target) = listener(TrapSecurity::new().with_community(COMMUNITY)).await;
    let mut args = vec![
        "-v",
        "2c",
        "-c",
        COMMUNITY,
        &target,
        "1234",
        "1.3.6.1.4.1.8072.2.3.0.1",
    ];
    args.extend(PAYLOAD);
    let (ok, output) = run_tool("snmptrap", "snmp", &args).await;
    assert!(ok, "{output}");
    let (source, outcome) = next(&mut listener).await;
    assert_eq!(source.ip(), Ipv4Addr::LOCALHOST);
    let notification = outcome.unwrap();
    assert_eq!(notification.version, Version::V2c);
    assert_eq!(notification.community_or_user, COMMUNITY);
    assert_eq!(notification.trap_oid, oid("1.3.6.1.4.1.8072.2.3.0.1"));
    assert_eq!(notification.uptime, 1234);
    assert_eq!(notification.inform_request_id, None);
    assert_eq!(notification.varbinds.len(), 2);
    assert_payload(&notification.varbinds);
}

#[tokio::test]
async fn v2c_trap_with_an_unknown_community_is_an_error_item() {
    let (mut listener, target) = listener(TrapSecurity::new().with_community(COMMUNITY)).await;
    let (ok, output) = run_tool(
        "snmptrap",
        "snmp",
        &[
            "-v",
            "2c",
            "-c",
            "intruder",
            &target,
            "",
            "1.3.6.1.6.3.1.1.5.1",
        ],
    )
    .await;
    assert!(ok, "{output}");
    let (_, outcome) = next(&mut listener).await;
    assert!(
        matches!(outcome, Err(Error::UnknownCommunity(ref c)) if c == "intruder"),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn v1_traps_are_converted_to_the_v2_form() {
    let (mut listener, target) = listener(TrapSecurity::new()).await;
    // Enterprise-specific trap 17 of enterprise 1.3.6.1.4.1.8072.2.3, agent-addr 192.0.2.7.
    let mut args = vec![
        "-v",
        "1",
        "-c",
        COMMUNITY,
        &target,
        "1.3.6.1.4.1.8072.2.3",
        "192.0.2.7",
        "6",
        "17",
        "5555",
    ];
    args.extend(PAYLOAD);
    let (ok, output) = run_tool("snmptrap", "snmp", &args).await;
    assert!(ok, "{output}");
    let notification = next(&mut listener).await.1.unwrap();
    assert_eq!(notification.version, Version::V1);
    assert_eq!(notification.trap_oid, oid("1.3.6.1.4.1.8072.2.3.0.17"));
    assert_eq!(notification.uptime, 5555);
    assert_eq!(
        notification.agent_address,
        Some(Ipv4Addr::new(192, 0, 2, 7))
    );
    assert_payload(&notification.varbinds);
    // RFC 3584: snmpTrapAddress.0, snmpTrapCommunity.0 and snmpTrapEnterprise.0 follow.
    let tail: Vec<_> = notification.varbinds[2..]
        .iter()
        .map(|vb| (vb.oid.to_string(), vb.value.clone()))
        .collect();
    assert_eq!(
        tail,
        vec![
            (
                "1.3.6.1.6.3.18.1.3.0".to_string(),
                Value::IpAddress(Ipv4Addr::new(192, 0, 2, 7))
            ),
            (
                "1.3.6.1.6.3.18.1.4.0".to_string(),
                Value::OctetString(COMMUNITY.as_bytes().to_vec())
            ),
            (
                "1.3.6.1.6.3.1.1.4.3.0".to_string(),
                Value::ObjectIdentifier(oid("1.3.6.1.4.1.8072.2.3"))
            ),
        ]
    );

    // A generic trap (linkDown = 2) maps to snmpTraps.3.
    let (ok, output) = run_tool(
        "snmptrap",
        "snmp",
        &[
            "-v",
            "1",
            "-c",
            COMMUNITY,
            &target,
            "1.3.6.1.4.1.8072.2.3",
            "192.0.2.7",
            "2",
            "0",
            "10",
        ],
    )
    .await;
    assert!(ok, "{output}");
    let notification = next(&mut listener).await.1.unwrap();
    assert_eq!(notification.trap_oid, oid("1.3.6.1.6.3.1.1.5.3"));
}

#[tokio::test]
async fn v2c_inform_is_acknowledged() {
    let (mut listener, target) = listener(TrapSecurity::new().with_community(COMMUNITY)).await;
    let mut args = vec![
        "-v",
        "2c",
        "-c",
        COMMUNITY,
        "-t",
        "5",
        "-r",
        "1",
        &target,
        "777",
        "1.3.6.1.4.1.8072.2.3.0.2",
    ];
    args.extend(PAYLOAD);
    // snmpinform exits 0 only once it has received our Response.
    let (ok, output) = run_tool("snmpinform", "snmp", &args).await;
    assert!(ok, "snmpinform sans acquittement : {output}");
    let notification = next(&mut listener).await.1.unwrap();
    assert!(notification.inform_request_id.is_some());
    assert_eq!(notification.trap_oid, oid("1.3.6.1.4.1.8072.2.3.0.2"));
    assert_eq!(notification.uptime, 777);
    assert_payload(&notification.varbinds);
}

async fn send_v3_trap(
    target: &str,
    user: &str,
    auth: &str,
    auth_password: &str,
    privacy: &str,
    priv_password: &str,
) -> (bool, String) {
    let mut args = vec![
        "-v",
        "3",
        "-e",
        SENDER_ENGINE_ID,
        "-u",
        user,
        "-a",
        auth,
        "-A",
        auth_password,
        "-x",
        privacy,
        "-X",
        priv_password,
        "-l",
        "authPriv",
        target,
        "4321",
        "1.3.6.1.4.1.8072.2.3.0.3",
    ];
    args.extend(PAYLOAD);
    run_tool("snmptrap", "snmp", &args).await
}

#[tokio::test]
async fn v3_auth_priv_traps_are_authenticated_and_decrypted() {
    let sha_aes = UsmUser::new("trapsha")
        .with_auth(AuthProtocol::Sha1, AUTH_PASSWORD)
        .with_privacy(PrivProtocol::Aes128, PRIV_PASSWORD);
    let sha256_des = UsmUser::new("trap256")
        .with_auth(AuthProtocol::Sha256, AUTH_PASSWORD)
        .with_privacy(PrivProtocol::Des, PRIV_PASSWORD);
    let security = TrapSecurity::new()
        .with_user(&sha_aes, SENDER_ENGINE_ID_BYTES)
        .unwrap()
        .with_user(&sha256_des, SENDER_ENGINE_ID_BYTES)
        .unwrap();
    let (mut listener, target) = listener(security).await;

    for (user, auth, privacy) in [("trapsha", "SHA", "AES"), ("trap256", "SHA-256", "DES")] {
        let (ok, output) =
            send_v3_trap(&target, user, auth, AUTH_PASSWORD, privacy, PRIV_PASSWORD).await;
        assert!(ok, "{output}");
        let notification = next(&mut listener)
            .await
            .1
            .unwrap_or_else(|e| panic!("{user}: {e}"));
        assert_eq!(notification.version, Version::V3);
        assert_eq!(notification.community_or_user, user);
        assert_eq!(
            notification.engine_id.as_deref(),
            Some(SENDER_ENGINE_ID_BYTES)
        );
        assert_eq!(notification.security_level, Some(SecurityLevel::AuthPriv));
        assert_eq!(notification.trap_oid, oid("1.3.6.1.4.1.8072.2.3.0.3"));
        assert_eq!(notification.uptime, 4321);
        assert_payload(&notification.varbinds);
    }

    // A wrong password is an authentication error, with the sender's address.
    let (ok, output) = send_v3_trap(
        &target,
        "trapsha",
        "SHA",
        "not-the-password",
        "AES",
        PRIV_PASSWORD,
    )
    .await;
    assert!(ok, "{output}");
    let (source, outcome) = next(&mut listener).await;
    assert_eq!(source.ip(), Ipv4Addr::LOCALHOST);
    assert!(
        matches!(outcome, Err(Error::AuthenticationFailure)),
        "{outcome:?}"
    );

    // A wrong privacy password passes the digest but cannot be decrypted.
    let (ok, output) = send_v3_trap(
        &target,
        "trapsha",
        "SHA",
        AUTH_PASSWORD,
        "AES",
        "not-the-password",
    )
    .await;
    assert!(ok, "{output}");
    let outcome = next(&mut listener).await.1;
    assert!(
        matches!(outcome, Err(Error::DecryptionFailure)),
        "{outcome:?}"
    );

    // An unknown user is named.
    let (ok, output) = send_v3_trap(
        &target,
        "stranger",
        "SHA",
        AUTH_PASSWORD,
        "AES",
        PRIV_PASSWORD,
    )
    .await;
    assert!(ok, "{output}");
    let outcome = next(&mut listener).await.1;
    assert!(
        matches!(outcome, Err(Error::UnknownUser(ref name)) if name == "stranger"),
        "{outcome:?}"
    );

    // A known user from an engine it is not configured for: the engine ID is named, so that
    // it can be added to the receiver's configuration.
    let mut args = vec![
        "-v",
        "3",
        "-e",
        "0x80001f8804766967696532",
        "-u",
        "trapsha",
        "-a",
        "SHA",
        "-A",
        AUTH_PASSWORD,
        "-x",
        "AES",
        "-X",
        PRIV_PASSWORD,
        "-l",
        "authPriv",
        &target,
        "4321",
        "1.3.6.1.4.1.8072.2.3.0.3",
    ];
    args.extend(PAYLOAD);
    let (ok, output) = run_tool("snmptrap", "snmp", &args).await;
    assert!(ok, "{output}");
    let outcome = next(&mut listener).await.1;
    assert!(
        matches!(
            outcome,
            Err(Error::UnknownSenderEngine { ref user, ref engine_id })
                if user == "trapsha" && engine_id == "0x80001f8804766967696532"
        ),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_v3_only_receiver_refuses_every_community() {
    let user = UsmUser::new("trapsha")
        .with_auth(AuthProtocol::Sha1, AUTH_PASSWORD)
        .with_privacy(PrivProtocol::Aes128, PRIV_PASSWORD);
    let security = TrapSecurity::new()
        .only_listed_communities()
        .with_user(&user, SENDER_ENGINE_ID_BYTES)
        .unwrap();
    let (mut listener, target) = listener(security).await;
    let (ok, output) = run_tool(
        "snmptrap",
        "snmp",
        &[
            "-v",
            "2c",
            "-c",
            COMMUNITY,
            &target,
            "",
            "1.3.6.1.6.3.1.1.5.1",
        ],
    )
    .await;
    assert!(ok, "{output}");
    let outcome = next(&mut listener).await.1;
    assert!(
        matches!(outcome, Err(Error::UnknownCommunity(ref c)) if c == COMMUNITY),
        "{outcome:?}"
    );
    let (ok, output) = send_v3_trap(
        &target,
        "trapsha",
        "SHA",
        AUTH_PASSWORD,
        "AES",
        PRIV_PASSWORD,
    )
    .await;
    assert!(ok, "{output}");
    let notification = next(&mut listener).await.1.unwrap();
    assert_eq!(notification.version, Version::V3);
}

#[tokio::test]
async fn garbage_datagram_is_an_error_item_with_its_source() {
    let (mut listener, _) = listener(TrapSecurity::new()).await;
    let sender = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let sender_address: SocketAddr = sender.local_addr().unwrap();
    for garbage in [
        &b"definitely not BER"[..],
        &[0x30, 0x82, 0xff, 0xff, 0x02][..],
        &[][..],
    ] {
        sender
            .send_to(garbage, listener.local_address())
            .await
            .unwrap();
        let (source, outcome) = next(&mut listener).await;
        assert_eq!(source, sender_address);
        let error = outcome.unwrap_err();
        assert!(matches!(error, Error::Malformed(_)), "{error:?}");
        assert!(error.to_string().contains("malformé"), "{error}");
    }
}

const RECEIVER_ENGINE_ID: &[u8] = &[0x80, 0x00, 0x1f, 0x88, 0x04, b'r', b'e', b'c', b'v'];
const RECEIVER_ENGINE_ID_HEX: &str = "0x80001f880472656376";

async fn v3_inform_listener() -> (TrapListener, String) {
    let user = UsmUser::new("informer")
        .with_auth(AuthProtocol::Sha256, AUTH_PASSWORD)
        .with_privacy(PrivProtocol::Aes128, PRIV_PASSWORD);
    let security = TrapSecurity::new()
        .with_local_engine(RECEIVER_ENGINE_ID, 7)
        .unwrap()
        .with_user(&user, RECEIVER_ENGINE_ID)
        .unwrap();
    listener(security).await
}

fn v3_inform_args<'a>(target: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "-v",
        "3",
        "-u",
        "informer",
        "-a",
        "SHA-256",
        "-A",
        AUTH_PASSWORD,
        "-x",
        "AES",
        "-X",
        PRIV_PASSWORD,
        "-l",
        "authPriv",
        "-t",
        "5",
        "-r",
        "2",
    ];
    args.extend_from_slice(extra);
    args.extend([target, "999", "1.3.6.1.4.1.8072.2.3.0.4"]);
    args.extend(PAYLOAD);
    args
}

#[tokio::test]
async fn v3_inform_discovers_the_receiver_engine_and_is_acknowledged() {
    let (mut listener, target) = v3_inform_listener().await;
    // Without -e, snmpinform first probes for the receiver's engine ID (a Report answers).
    let (ok, output) = run_tool("snmpinform", "snmp", &v3_inform_args(&target, &[])).await;
    assert!(ok, "snmpinform v3 sans acquittement : {output}");
    let notification = next(&mut listener).await.1.unwrap();
    assert_eq!(notification.version, Version::V3);
    assert_eq!(notification.engine_id.as_deref(), Some(RECEIVER_ENGINE_ID));
    assert!(notification.inform_request_id.is_some());
    assert_eq!(notification.trap_oid, oid("1.3.6.1.4.1.8072.2.3.0.4"));
    assert_eq!(notification.uptime, 999);
    assert_payload(&notification.varbinds);
}

#[tokio::test]
async fn v3_inform_with_a_stale_clock_is_resynchronised_then_acknowledged() {
    let (mut listener, target) = v3_inform_listener().await;
    // -e skips discovery and -Z forces boots/time that are not ours: the first inform is
    // outside the time window and answered with a signed notInTimeWindow Report.
    let extra = ["-e", RECEIVER_ENGINE_ID_HEX, "-Z", "3,100000"];
    let (ok, output) = run_tool("snmpinform", "snmp", &v3_inform_args(&target, &extra)).await;
    assert!(ok, "snmpinform v3 sans acquittement : {output}");
    let notification = next(&mut listener).await.1.unwrap();
    assert_eq!(notification.trap_oid, oid("1.3.6.1.4.1.8072.2.3.0.4"));
}
