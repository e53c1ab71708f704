//! Property tests of the codec: decoders never panic on arbitrary or corrupted input, and
//! encode-then-decode gives back what was encoded (values, PDUs, v1/v2c and v3 messages).

use std::net::Ipv4Addr;
use std::sync::OnceLock;

use proptest::prelude::*;
use vigie_snmp::ber::{decode_pdu, decode_value, encode_pdu, encode_value};
use vigie_snmp::message::{CommunityMessage, Message, ScopedPdu, decode_message};
use vigie_snmp::usm::{self, LocalizedKeys, OutgoingV3};
use vigie_snmp::{
    AuthProtocol, Error, Oid, Pdu, PduBody, PduKind, PrivProtocol, SecurityLevel, TrapSecurity,
    TrapV1Pdu, UsmUser, Value, VarBind, Version, parse_notification, report_for,
};

const ENGINE_ID: &[u8] = &[0x80, 0x00, 0x1f, 0x88, 0x04, 1, 2, 3, 4];
/// The receiver's own engine, authoritative for informs (distinct from the senders').
const LOCAL_ENGINE_ID: &[u8] = &[0x80, 0x00, 0x1f, 0x88, 0x04, 9, 9, 9, 9];
const PASSWORD: &str = "property-password";

/// Keys are costly (a megabyte of hashing): made once per protocol pair.
fn keys() -> &'static [LocalizedKeys] {
    static KEYS: OnceLock<Vec<LocalizedKeys>> = OnceLock::new();
    KEYS.get_or_init(|| {
        [
            ("sha", AuthProtocol::Sha1, PrivProtocol::Aes128),
            ("md5", AuthProtocol::Md5, PrivProtocol::Des),
            ("sha256", AuthProtocol::Sha256, PrivProtocol::Aes128),
            ("sha512", AuthProtocol::Sha512, PrivProtocol::Des),
        ]
        .into_iter()
        .map(|(name, auth, privacy)| {
            UsmUser::new(name)
                .with_auth(auth, PASSWORD)
                .with_privacy(privacy, PASSWORD)
                .master_keys()
                .unwrap()
                .localize(ENGINE_ID)
        })
        .collect()
    })
}

fn trap_security() -> &'static TrapSecurity {
    static SECURITY: OnceLock<TrapSecurity> = OnceLock::new();
    SECURITY.get_or_init(|| {
        let user = UsmUser::new("sha")
            .with_auth(AuthProtocol::Sha1, PASSWORD)
            .with_privacy(PrivProtocol::Aes128, PASSWORD);
        TrapSecurity::new()
            .with_local_engine(LOCAL_ENGINE_ID, 1)
            .unwrap()
            .with_user(&user, ENGINE_ID)
            .unwrap()
            .with_user(&user, LOCAL_ENGINE_ID)
            .unwrap()
    })
}

fn arb_oid() -> impl Strategy<Value = Oid> {
    (
        0u32..=2,
        any::<u32>(),
        prop::collection::vec(any::<u32>(), 0..30),
    )
        .prop_map(|(first, second, rest)| {
            let second = if first < 2 {
                second % 40
            } else {
                second % 1_000_000
            };
            let mut arcs = vec![first, second];
            arcs.extend(rest);
            Oid::from_arcs(arcs).unwrap()
        })
}

fn arb_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::Integer),
        prop::collection::vec(any::<u8>(), 0..64).prop_map(Value::OctetString),
        Just(Value::Null),
        arb_oid().prop_map(Value::ObjectIdentifier),
        any::<[u8; 4]>().prop_map(|octets| Value::IpAddress(Ipv4Addr::from(octets))),
        any::<u32>().prop_map(Value::Counter32),
        any::<u32>().prop_map(Value::Gauge32),
        any::<u32>().prop_map(Value::TimeTicks),
        prop::collection::vec(any::<u8>(), 0..16).prop_map(Value::Opaque),
        any::<u64>().prop_map(Value::Counter64),
        Just(Value::NoSuchObject),
        Just(Value::NoSuchInstance),
        Just(Value::EndOfMibView),
    ]
}

fn arb_varbinds() -> impl Strategy<Value = Vec<VarBind>> {
    prop::collection::vec(
        (arb_oid(), arb_value()).prop_map(|(oid, value)| VarBind { oid, value }),
        0..8,
    )
}

fn arb_pdu(kinds: Vec<PduKind>) -> impl Strategy<Value = Pdu> {
    (
        prop::sample::select(kinds),
        any::<i32>(),
        any::<i32>(),
        any::<i32>(),
        arb_varbinds(),
    )
        .prop_map(
            |(kind, request_id, error_status, error_index, varbinds)| Pdu {
                kind,
                request_id,
                error_status,
                error_index,
                varbinds,
            },
        )
}

fn all_kinds() -> Vec<PduKind> {
    vec![
        PduKind::GetRequest,
        PduKind::GetNextRequest,
        PduKind::Response,
        PduKind::SetRequest,
        PduKind::GetBulkRequest,
        PduKind::InformRequest,
        PduKind::SnmpV2Trap,
        PduKind::Report,
    ]
}

fn arb_trap_v1() -> impl Strategy<Value = TrapV1Pdu> {
    (
        arb_oid(),
        any::<[u8; 4]>(),
        0i32..7,
        any::<i32>(),
        any::<u32>(),
        arb_varbinds(),
    )
        .prop_map(
            |(enterprise, address, generic_trap, specific_trap, time_stamp, varbinds)| TrapV1Pdu {
                enterprise,
                agent_address: Ipv4Addr::from(address),
                generic_trap,
                specific_trap,
                time_stamp,
                varbinds,
            },
        )
}

fn arb_community_message() -> impl Strategy<Value = CommunityMessage> {
    let v1_kinds = vec![
        PduKind::GetRequest,
        PduKind::GetNextRequest,
        PduKind::Response,
        PduKind::SetRequest,
    ];
    let v1 = (
        prop::collection::vec(any::<u8>(), 0..20),
        prop_oneof![
            arb_pdu(v1_kinds).prop_map(PduBody::Pdu),
            arb_trap_v1().prop_map(PduBody::TrapV1)
        ],
    )
        .prop_map(|(community, pdu)| CommunityMessage {
            version: Version::V1,
            community,
            pdu,
        });
    let v2c = (
        prop::collection::vec(any::<u8>(), 0..20),
        arb_pdu(all_kinds()),
    )
        .prop_map(|(community, pdu)| CommunityMessage {
            version: Version::V2c,
            community,
            pdu: PduBody::Pdu(pdu),
        });
    prop_oneof![v1, v2c]
}

fn outgoing(level: SecurityLevel, msg_id: i32, boots: u32, time: u32, salt: u64) -> OutgoingV3 {
    OutgoingV3 {
        msg_id,
        max_size: 65_507,
        reportable: false,
        level,
        engine_id: ENGINE_ID.to_vec(),
        engine_boots: boots,
        engine_time: time,
        salt,
    }
}

fn a_valid_v3_trap() -> Vec<u8> {
    let scoped = ScopedPdu {
        context_engine_id: ENGINE_ID.to_vec(),
        context_name: Vec::new(),
        pdu: PduBody::Pdu(Pdu {
            kind: PduKind::SnmpV2Trap,
            request_id: 9,
            error_status: 0,
            error_index: 0,
            varbinds: vec![
                VarBind::new(
                    Oid::parse("1.3.6.1.2.1.1.3.0").unwrap(),
                    Value::TimeTicks(77),
                ),
                VarBind::new(
                    Oid::parse("1.3.6.1.6.3.1.1.4.1.0").unwrap(),
                    Value::ObjectIdentifier(Oid::parse("1.3.6.1.6.3.1.1.5.1").unwrap()),
                ),
                VarBind::new(
                    Oid::parse("1.3.6.1.2.1.1.5.0").unwrap(),
                    Value::OctetString(b"nvr".to_vec()),
                ),
            ],
        }),
    };
    usm::wrap(
        &outgoing(SecurityLevel::AuthPriv, 5, 1, 100, 42),
        b"sha",
        Some(&keys()[0]),
        &scoped,
    )
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn decoders_never_panic_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = decode_message(&bytes);
        let _ = decode_pdu(&bytes);
        let _ = decode_value(&bytes);
        let _ = parse_notification(&bytes, trap_security());
        let _ = report_for(&bytes, &Error::NotInTimeWindow, trap_security());
    }

    #[test]
    fn decoders_never_panic_on_corrupted_messages(
        message in arb_community_message(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        for mut bytes in [message.encode(), a_valid_v3_trap()] {
            for (index, byte) in &flips {
                let position = index.index(bytes.len());
                bytes[position] = *byte;
            }
            let _ = decode_message(&bytes);
            if let Err(refusal) = parse_notification(&bytes, trap_security()) {
                let _ = report_for(&bytes, &refusal, trap_security());
            }
            let _ = report_for(&bytes, &Error::NotInTimeWindow, trap_security());
            let truncated = &bytes[..cut.index(bytes.len())];
            let _ = decode_message(truncated);
            let _ = parse_notification(truncated, trap_security());
        }
    }

    #[test]
    fn values_round_trip(value in arb_value()) {
        prop_assert_eq!(decode_value(&encode_value(&value)).unwrap(), value);
    }

    #[test]
    fn pdus_round_trip(pdu in prop_oneof![arb_pdu(all_kinds()).prop_map(PduBody::Pdu), arb_trap_v1().prop_map(PduBody::TrapV1)]) {
        prop_assert_eq!(decode_pdu(&encode_pdu(&pdu)).unwrap(), pdu);
    }

    #[test]
    fn community_messages_round_trip(message in arb_community_message()) {
        let decoded = decode_message(&message.encode()).unwrap();
        prop_assert_eq!(decoded.message, Message::Community(message));
    }

    #[test]
    fn v3_messages_round_trip_through_the_usm(
        pdu in arb_pdu(all_kinds()),
        key_index in 0usize..4,
        level in prop::sample::select(vec![SecurityLevel::NoAuthNoPriv, SecurityLevel::AuthNoPriv, SecurityLevel::AuthPriv]),
        msg_id in 0i32..=i32::MAX,
        boots in 0u32..=i32::MAX as u32,
        time in 0u32..=i32::MAX as u32,
        salt in any::<u64>(),
        context_name in prop::collection::vec(any::<u8>(), 0..16),
        tamper_at in any::<prop::sample::Index>(),
        tamper_bits in 1u8..=255,
    ) {
        let keys = &keys()[key_index];
        let scoped = ScopedPdu { context_engine_id: ENGINE_ID.to_vec(), context_name, pdu: PduBody::Pdu(pdu) };
        let raw = usm::wrap(&outgoing(level, msg_id, boots, time, salt), keys.user_name().as_bytes(), Some(keys), &scoped).unwrap();
        let decoded = decode_message(&raw).unwrap();
        let Message::V3(message) = &decoded.message else { panic!("v3 attendu") };
        prop_assert_eq!(message.msg_id, msg_id);
        prop_assert_eq!(message.usm.engine_boots, boots);
        prop_assert_eq!(message.usm.engine_time, time);
        let unwrapped = usm::unwrap(&raw, decoded.auth_offset.unwrap(), message, Some(keys)).unwrap();
        prop_assert_eq!(unwrapped, scoped);
        // Any change of one byte of an authenticated message is refused, unless it lowered
        // the security level in msgFlags, which callers check against the user's level.
        if level != SecurityLevel::NoAuthNoPriv {
            let mut tampered = raw.clone();
            let position = tamper_at.index(tampered.len());
            tampered[position] ^= tamper_bits;
            if let Ok(decoded) = decode_message(&tampered)
                && let Message::V3(message) = &decoded.message
                && SecurityLevel::from_flags(message.flags) == level
            {
                prop_assert!(usm::unwrap(&tampered, decoded.auth_offset.unwrap(), message, Some(keys)).is_err());
            }
        }
    }

    #[test]
    fn oid_parse_and_display_round_trip(oid in arb_oid()) {
        let text = oid.to_string();
        prop_assert_eq!(Oid::parse(&text).unwrap(), oid.clone());
        prop_assert_eq!(Oid::parse(&format!(".{text}")).unwrap(), oid);
    }
}

#[test]
fn a_v3_trap_built_here_parses_as_a_notification() {
    let notification = parse_notification(&a_valid_v3_trap(), trap_security()).unwrap();
    assert_eq!(notification.version, Version::V3);
    assert_eq!(notification.uptime, 77);
    assert_eq!(
        notification.trap_oid,
        Oid::parse("1.3.6.1.6.3.1.1.5.1").unwrap()
    );
    assert_eq!(notification.varbinds.len(), 1);
}

#[test]
fn oid_parse_refuses_invalid_text() {
    for text in [
        "",
        "1",
        "1..3",
        "3.1",
        "1.40",
        "1.3.x",
        "1.3.99999999999",
        "1.3.6.-1",
    ] {
        assert!(Oid::parse(text).is_err(), "{text}");
    }
    let too_long = vec!["1"; 129].join(".");
    assert!(Oid::parse(&too_long).is_err());
    let oid = Oid::parse("1.3.6.1.2.1.1.3.0").unwrap();
    assert!(oid.starts_with(&Oid::parse("1.3.6.1.2.1").unwrap()));
    assert!(!oid.starts_with(&Oid::parse("1.3.6.1.2.2").unwrap()));
}
