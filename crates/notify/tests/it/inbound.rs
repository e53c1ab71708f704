//! Inbound SMS replies: JSON and form bodies from gateways, the refusals with their French
//! messages, the acknowledgement code, and property tests that nothing panics on any input.

use proptest::prelude::*;
use vigie_notify::{
    InboundError, InboundSms, InboundSmsConfig, MAX_INBOUND_BYTES, parse_inbound, read_keypad,
    reply_code,
};

fn defaults() -> InboundSmsConfig {
    InboundSmsConfig::default()
}

fn sms(from: &str, text: &str) -> InboundSms {
    InboundSms {
        from: from.to_owned(),
        text: text.to_owned(),
    }
}

#[test]
fn json_body_with_a_french_national_number() {
    let body = r#"{"from": "06 12 34 56 78", "text": "OK 482913 j'arrive", "id": 7}"#;

    let parsed = parse_inbound(&defaults(), Some("application/json"), body.as_bytes());

    assert_eq!(parsed, Ok(sms("+33612345678", "OK 482913 j'arrive")));
}

#[test]
fn json_fields_can_be_renamed_nested_or_numbers() {
    let config = InboundSmsConfig {
        from_field: "message.sender".to_owned(),
        text_field: "message.body".to_owned(),
    };
    let body = r#"{"message": {"sender": 33612345678, "body": "482913"}}"#;

    let parsed = parse_inbound(
        &config,
        Some("application/json; charset=utf-8"),
        body.as_bytes(),
    );

    assert_eq!(parsed, Ok(sms("+33612345678", "482913")));
}

#[test]
fn form_body_is_percent_decoded() {
    let config = InboundSmsConfig {
        from_field: "From".to_owned(),
        text_field: "Body".to_owned(),
    };
    let body = "To=%2B33700000000&From=%2B33612345678&Body=Re%C3%A7u+%C2%AB+OK+%C2%BB+482913";

    let parsed = parse_inbound(
        &config,
        Some("application/x-www-form-urlencoded"),
        body.as_bytes(),
    );

    assert_eq!(parsed, Ok(sms("+33612345678", "Reçu « OK » 482913")));
}

#[test]
fn without_content_type_the_body_is_recognised() {
    assert_eq!(
        parse_inbound(
            &defaults(),
            None,
            br#" {"from":"0033612345678","text":"ok"}"#
        ),
        Ok(sms("+33612345678", "ok"))
    );
    assert_eq!(
        parse_inbound(&defaults(), None, b"from=0712345678&text=ok"),
        Ok(sms("+33712345678", "ok"))
    );
}

#[test]
fn senders_of_unknown_form_are_kept() {
    assert_eq!(
        parse_inbound(&defaults(), None, br#"{"from":" 36180 ","text":"x"}"#),
        Ok(sms("36180", "x"))
    );
    assert_eq!(
        parse_inbound(
            &defaults(),
            None,
            br#"{"from":"+44 7700 900123","text":"x"}"#
        ),
        Ok(sms("+447700900123", "x"))
    );
}

#[test]
fn refusals_say_why_in_french() {
    let check = |content_type: Option<&str>, body: &[u8], expected: InboundError, text: &str| {
        let error = parse_inbound(&defaults(), content_type, body).unwrap_err();
        assert_eq!(error, expected);
        assert!(error.to_string().contains(text), "{error}");
    };
    let big = vec![b'a'; MAX_INBOUND_BYTES + 1];
    check(
        None,
        &big,
        InboundError::TooLarge(big.len()),
        "trop volumineux",
    );
    check(
        Some("application/json"),
        br#"{"from":"0612345678"}"#,
        InboundError::MissingField("text".to_owned()),
        "champ « text » manquant",
    );
    check(
        None,
        b"text=bonjour",
        InboundError::MissingField("from".to_owned()),
        "champ « from » manquant",
    );
    check(
        Some("application/json"),
        b"{\"from\":\"06\",\"text\":\"caf\xe9\"}",
        InboundError::NotUtf8,
        "UTF-8",
    );
    check(None, b"from=06&text=caf%E9", InboundError::NotUtf8, "UTF-8");
    check(
        Some("application/json"),
        b"[1, 2]",
        InboundError::NotAnObject,
        "objet JSON",
    );
    check(
        Some("application/json"),
        br#"{"from": ["0612345678"], "text": "x"}"#,
        InboundError::InvalidField("from".to_owned()),
        "champ « from » invalide",
    );
    check(
        Some("application/json"),
        br#"{"from": "  ", "text": "x"}"#,
        InboundError::EmptyField("from".to_owned()),
        "champ « from » vide",
    );
    let invalid_json =
        parse_inbound(&defaults(), Some("application/json"), b"{\"from\":").unwrap_err();
    assert!(matches!(invalid_json, InboundError::InvalidJson(_)));
    assert!(invalid_json.to_string().starts_with("corps JSON invalide"));
}

#[test]
fn reply_code_is_the_first_run_of_exactly_six_digits() {
    let cases = [
        ("OK 482913", Some("482913")),
        ("482913", Some("482913")),
        ("ok482913!", Some("482913")),
        ("appel au 0612345678 puis 482913", Some("482913")),
        ("12345 et 123456 et 654321", Some("123456")),
        ("4829134", None),
        ("48291", None),
        ("OK", None),
        ("", None),
        ("٤٨٢٩١٣", None),
    ];
    for (text, expected) in cases {
        assert_eq!(reply_code(text).as_deref(), expected, "{text:?}");
    }
}

/// Issue 26, item 3: the keys of a call, as a voice gateway posts them to the callback.
#[test]
fn the_keys_of_a_call_are_read_from_json_or_form() {
    let read = |content_type: Option<&str>, body: &str| {
        read_keypad("digits", content_type, body.as_bytes())
    };
    assert_eq!(
        read(Some("application/json"), r#"{"digits": "1"}"#),
        Ok("1".to_owned())
    );
    assert_eq!(read(None, r#"{"digits": 1}"#), Ok("1".to_owned()));
    assert_eq!(
        read(
            Some("application/x-www-form-urlencoded"),
            "CallSid=CA1&digits=1%23"
        ),
        Ok("1#".to_owned())
    );
    assert_eq!(
        read_keypad(
            "call.keys",
            Some("application/json"),
            br#"{"call": {"keys": " 1 "}}"#
        ),
        Ok("1".to_owned())
    );
    assert_eq!(
        read(Some("application/json"), r#"{"other": "1"}"#),
        Err(InboundError::MissingField("digits".to_owned()))
    );
    assert_eq!(
        read(None, "digits=abc"),
        Err(InboundError::EmptyField("digits".to_owned()))
    );
    let long = format!("digits={}", "1".repeat(100));
    assert_eq!(read(None, &long).unwrap().len(), 32);
    let huge = vec![b'1'; MAX_INBOUND_BYTES + 1];
    assert!(matches!(
        read_keypad("digits", None, &huge),
        Err(InboundError::TooLarge(_))
    ));
}

proptest! {
    #[test]
    fn read_keypad_never_panics(
        body in proptest::collection::vec(any::<u8>(), 0..2048),
        content_type in proptest::option::of("[a-z/+;= -]{0,40}"),
        field in "[a-z.]{0,12}",
    ) {
        if let Ok(keys) = read_keypad(&field, content_type.as_deref(), &body) {
            prop_assert!(!keys.is_empty() && keys.len() <= 32);
            prop_assert!(keys.chars().all(|c| c.is_ascii_digit() || c == '*' || c == '#'));
        }
    }

    #[test]
    fn parse_inbound_never_panics(
        body in proptest::collection::vec(any::<u8>(), 0..2048),
        content_type in proptest::option::of("[a-z/+;= -]{0,40}"),
        from_field in "[a-z.]{0,12}",
        text_field in "[a-z.]{0,12}",
    ) {
        let config = InboundSmsConfig { from_field, text_field };
        let _ = parse_inbound(&config, content_type.as_deref(), &body);
    }

    #[test]
    fn parse_inbound_never_panics_on_near_valid_bodies(
        from in ".{0,30}",
        text in ".{0,100}",
        json in any::<bool>(),
    ) {
        let body = if json {
            serde_json::json!({"from": from, "text": text}).to_string()
        } else {
            format!("from={from}&text={text}")
        };
        let parsed = parse_inbound(&defaults(), None, body.as_bytes());
        // A JSON body holds any text exactly; only a blank sender is refused.
        if json {
            prop_assert_eq!(parsed.is_ok(), !from.trim().is_empty());
            if let Ok(parsed) = parsed {
                prop_assert_eq!(parsed.text, text);
            }
        }
    }

    #[test]
    fn reply_code_never_panics_and_is_six_digits(text in ".{0,200}") {
        if let Some(code) = reply_code(&text) {
            prop_assert_eq!(code.len(), 6);
            prop_assert!(code.bytes().all(|b| b.is_ascii_digit()));
            prop_assert!(text.contains(&code));
        }
    }
}
