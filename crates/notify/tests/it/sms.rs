//! SMS and voice gateways against a real HTTP receiver: the request each template produces (JSON, form,
//! GET query), the classification of answers, and the per-recipient sending limit.

use std::time::Duration;

use vigie_notify::{
    ConfigError, DeliveryError, RateLimit, SmsGateway, SmsGatewayConfig, VoiceGateway,
    VoiceGatewayConfig,
};

use crate::receiver::Receiver;

/// A text with everything that needs escaping: quotes, a newline, accents, `&`, `=`, `+`.
const TRICKY_TEXT: &str = "Alarme « critique » : caméra \"hall\"\nsite A & B = 100 % + 1";
const KEY: &str = "alarm-42.critical-astreinte.ST-TECH.sms";
const NOW_MS: i64 = 1_750_000_000_000;

fn config(url: String) -> SmsGatewayConfig {
    SmsGatewayConfig {
        url,
        method: "POST".to_owned(),
        headers: Vec::new(),
        body: None,
        content_type: None,
        timeout_ms: 5_000,
        rate_limit: RateLimit {
            max: 100,
            per_ms: 60_000,
        },
    }
}

fn json_gateway(receiver: &Receiver) -> SmsGateway {
    SmsGateway::new(SmsGatewayConfig {
        headers: vec![
            ("Authorization".to_owned(), "Bearer jeton-secret".to_owned()),
            ("X-Vigie-Key".to_owned(), "{key}".to_owned()),
        ],
        body: Some(
            r#"{"to": "{to}", "message": "{text}", "sender": "VIGIE", "tag": "{key}"}"#.to_owned(),
        ),
        content_type: Some("application/json".to_owned()),
        ..config(receiver.url("/v1/sms"))
    })
    .unwrap()
}

/// The pairs of the query of `uri`, decoded by axum's own parser, as a provider would.
fn decode_pairs(uri: &str) -> Vec<(String, String)> {
    let uri = uri.parse().expect("URI valide");
    axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&uri)
        .expect("requête valide")
        .0
}

#[tokio::test]
async fn json_template_escapes_the_text_as_a_json_string() {
    let receiver = Receiver::start().await;
    let gateway = json_gateway(&receiver);

    let answer = gateway
        .send("+33612345678", TRICKY_TEXT, "gsm", KEY, NOW_MS)
        .await
        .expect("envoyé");

    assert_eq!(answer, r#"200 {"status":"queued","id":"msg-1"}"#);
    let request = receiver.single_request();
    assert_eq!(request.method, "POST");
    assert_eq!(request.uri, "/v1/sms");
    assert_eq!(request.header("content-type"), "application/json");
    assert_eq!(request.header("authorization"), "Bearer jeton-secret");
    assert_eq!(request.header("x-vigie-key"), KEY);
    let body: serde_json::Value = serde_json::from_slice(&request.body).expect("JSON valide");
    assert_eq!(
        body,
        serde_json::json!({"to": "+33612345678", "message": TRICKY_TEXT, "sender": "VIGIE", "tag": KEY})
    );
}

#[tokio::test]
async fn form_template_percent_encodes_and_offers_the_national_number() {
    let receiver = Receiver::start().await;
    let gateway = SmsGateway::new(SmsGatewayConfig {
        body: Some("From=VIGIE&To={to_national}&Digits={to_digits}&Body={text}".to_owned()),
        content_type: Some("application/x-www-form-urlencoded".to_owned()),
        ..config(receiver.url("/Messages"))
    })
    .unwrap();

    gateway
        .send("+33612345678", TRICKY_TEXT, "gsm", KEY, NOW_MS)
        .await
        .expect("envoyé");

    let request = receiver.single_request();
    assert_eq!(
        request.header("content-type"),
        "application/x-www-form-urlencoded"
    );
    assert_eq!(
        decode_pairs(&format!("/?{}", request.body_text())),
        vec![
            ("From".to_owned(), "VIGIE".to_owned()),
            ("To".to_owned(), "0612345678".to_owned()),
            ("Digits".to_owned(), "33612345678".to_owned()),
            ("Body".to_owned(), TRICKY_TEXT.to_owned()),
        ]
    );
}

/// Issue 26, item 6: a gateway that must be told the alphabet (`coding=8` for UCS-2 at some
/// operators) gets it from `{encoding}`.
#[tokio::test]
async fn the_encoding_reaches_the_gateway_that_asks_for_it() {
    let receiver = Receiver::start().await;
    let gateway = SmsGateway::new(SmsGatewayConfig {
        method: "get".to_owned(),
        ..config(receiver.url("/send?to={to}&message={text}&alphabet={encoding}"))
    })
    .unwrap();

    gateway
        .send("+33612345678", "Κάμερα 3", "ucs2", KEY, NOW_MS)
        .await
        .expect("envoyé");

    assert_eq!(
        decode_pairs(&receiver.single_request().uri),
        vec![
            ("to".to_owned(), "+33612345678".to_owned()),
            ("message".to_owned(), "Κάμερα 3".to_owned()),
            ("alphabet".to_owned(), "ucs2".to_owned()),
        ],
    );
}

#[tokio::test]
async fn get_puts_the_placeholders_in_the_query() {
    let receiver = Receiver::start().await;
    let gateway = SmsGateway::new(SmsGatewayConfig {
        method: "get".to_owned(),
        ..config(receiver.url(
            "/cgi-bin/send?account=vigie&to={to}&national={to_national}&message={text}&id={key}",
        ))
    })
    .unwrap();

    gateway
        .send("+33612345678", "Été & « accents »", "gsm", KEY, NOW_MS)
        .await
        .expect("envoyé");

    let request = receiver.single_request();
    assert_eq!(request.method, "GET");
    assert!(request.body.is_empty());
    assert_eq!(
        decode_pairs(&request.uri),
        vec![
            ("account".to_owned(), "vigie".to_owned()),
            ("to".to_owned(), "+33612345678".to_owned()),
            ("national".to_owned(), "0612345678".to_owned()),
            ("message".to_owned(), "Été & « accents »".to_owned()),
            ("id".to_owned(), KEY.to_owned()),
        ],
        "{}",
        request.uri
    );
}

#[tokio::test]
async fn raw_body_is_sent_as_is_and_foreign_numbers_keep_their_form() {
    let receiver = Receiver::start().await;
    let gateway = SmsGateway::new(SmsGatewayConfig {
        body: Some("{to_national}\n{text}".to_owned()),
        content_type: Some("text/plain; charset=utf-8".to_owned()),
        ..config(receiver.url("/raw"))
    })
    .unwrap();

    gateway
        .send("+32470123456", "Prêt & \"brut\"", "gsm", KEY, NOW_MS)
        .await
        .expect("envoyé");

    assert_eq!(
        receiver.single_request().body_text(),
        "+32470123456\nPrêt & \"brut\""
    );
}

/// The two worked examples of `docs/notifications.md` (« Passerelle SMS ») produce exactly the
/// bodies the document shows.
#[tokio::test]
async fn documented_examples_send_the_documented_bodies() {
    const TEXT: &str = "Alarme « critique » : caméra \"Hall\"\nsite A & B";
    let receiver = Receiver::start().await;
    let json = SmsGateway::new(SmsGatewayConfig {
        headers: vec![
            ("Authorization".to_owned(), "Bearer jeton".to_owned()),
            ("Accept".to_owned(), "application/json".to_owned()),
        ],
        content_type: Some("application/json".to_owned()),
        body: Some(
            r#"{"sms": {"message": {"text": "{text}", "sender": "VIGIE"}, "recipients": {"gsm": [{"value": "{to_digits}"}]}}}"#
                .to_owned(),
        ),
        ..config(receiver.url("/send"))
    })
    .unwrap();
    let form = SmsGateway::new(SmsGatewayConfig {
        headers: vec![(
            "Authorization".to_owned(),
            "Basic Y29tcHRlOmpldG9u".to_owned(),
        )],
        content_type: Some("application/x-www-form-urlencoded".to_owned()),
        body: Some("To={to}&From=%2B33700000000&Body={text}".to_owned()),
        ..config(receiver.url("/2010-04-01/Accounts/AC0123456789abcdef/Messages.json"))
    })
    .unwrap();

    json.send("+33612345678", TEXT, "gsm", KEY, NOW_MS)
        .await
        .unwrap();
    form.send("+33612345678", TEXT, "gsm", KEY, NOW_MS)
        .await
        .unwrap();

    let requests = receiver.requests();
    assert_eq!(
        requests[0].body_text(),
        r#"{"sms": {"message": {"text": "Alarme « critique » : caméra \"Hall\"\nsite A & B", "sender": "VIGIE"}, "recipients": {"gsm": [{"value": "33612345678"}]}}}"#
    );
    assert_eq!(
        requests[1].body_text(),
        "To=%2B33612345678&From=%2B33700000000&Body=Alarme%20%C2%AB%20critique%20%C2%BB%20%3A%20cam%C3%A9ra%20%22Hall%22%0Asite%20A%20%26%20B"
    );
    let documentation = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/notifications.md"
    ))
    .expect("docs/notifications.md");
    for request in &requests {
        assert!(
            documentation.contains(&request.body_text()),
            "le document ne montre pas : {}",
            request.body_text()
        );
    }
}

#[tokio::test]
async fn answers_are_classified() {
    let receiver = Receiver::start().await;
    let gateway = json_gateway(&receiver);
    let cases = [
        (500, "erreur interne", false),
        (503, "", false),
        (429, "trop de requêtes", false),
        (400, r#"{"error":"numéro invalide"}"#, true),
        (401, "jeton refusé", true),
        (404, "", true),
    ];
    for (status, body, permanent) in cases {
        receiver.reply(status, body);

        let error = gateway
            .send("+33612345678", "test", "gsm", KEY, NOW_MS)
            .await
            .unwrap_err();

        assert_eq!(error.is_permanent(), permanent, "{status} : {error}");
        assert!(error.to_string().contains(&status.to_string()), "{error}");
        if !body.is_empty() {
            assert!(error.to_string().contains(body), "{error}");
        }
    }
}

#[tokio::test]
async fn long_answers_are_cut_to_200_characters() {
    let receiver = Receiver::start().await;
    let gateway = json_gateway(&receiver);
    receiver.reply(201, &"é".repeat(1000));

    let answer = gateway
        .send("+33612345678", "test", "gsm", KEY, NOW_MS)
        .await
        .expect("envoyé");

    assert_eq!(answer.chars().count(), 200);
    assert!(answer.starts_with("201 éé"));
}

#[tokio::test]
async fn slow_gateway_times_out_as_transient() {
    let receiver = Receiver::start().await;
    receiver.reply_after(Duration::from_secs(3), 200, "trop tard");
    let gateway = SmsGateway::new(SmsGatewayConfig {
        timeout_ms: 300,
        ..config(receiver.url("/lent"))
    })
    .unwrap();

    let error = gateway
        .send("+33612345678", "test", "gsm", KEY, NOW_MS)
        .await
        .unwrap_err();

    assert!(matches!(error, DeliveryError::Transient(_)), "{error}");
    assert!(error.to_string().contains("300 ms"), "{error}");
}

#[tokio::test]
async fn unreachable_gateway_is_transient() {
    let gateway = SmsGateway::new(config(format!(
        "http://127.0.0.1:{}/sms",
        crate::peers::free_port()
    )))
    .unwrap();

    let error = gateway
        .send("+33612345678", "test", "gsm", KEY, NOW_MS)
        .await
        .unwrap_err();

    assert!(matches!(error, DeliveryError::Transient(_)), "{error}");
}

#[tokio::test]
async fn rate_limit_refuses_the_fourth_sms_in_a_minute_then_lifts() {
    let receiver = Receiver::start().await;
    let gateway = SmsGateway::new(SmsGatewayConfig {
        rate_limit: RateLimit {
            max: 3,
            per_ms: 60_000,
        },
        ..config(receiver.url("/sms"))
    })
    .unwrap();
    let technician = "+33612345678";

    for offset_ms in [0, 10_000, 20_000] {
        assert_eq!(
            gateway.rate_limited_until(technician, NOW_MS + offset_ms),
            None
        );
        gateway
            .send(technician, "test", "gsm", KEY, NOW_MS + offset_ms)
            .await
            .expect("sous la limite");
    }
    let error = gateway
        .send(technician, "test", "gsm", KEY, NOW_MS + 30_000)
        .await
        .unwrap_err();

    assert!(matches!(error, DeliveryError::Transient(_)), "{error}");
    assert!(
        error
            .to_string()
            .contains("limite d'envoi atteinte pour +33612345678"),
        "{error}"
    );
    assert!(error.to_string().contains("dans 30 s"), "{error}");
    assert_eq!(
        gateway.rate_limited_until(technician, NOW_MS + 30_000),
        Some(NOW_MS + 60_000)
    );
    assert_eq!(receiver.requests().len(), 3, "the fourth SMS never left");
    // Another number is not limited.
    gateway
        .send("+33699999999", "test", "gsm", KEY, NOW_MS + 30_000)
        .await
        .expect("autre numéro");
    // Once the first send leaves the window, one more is allowed.
    assert_eq!(
        gateway.rate_limited_until(technician, NOW_MS + 60_000),
        None
    );
    gateway
        .send(technician, "test", "gsm", KEY, NOW_MS + 60_000)
        .await
        .expect("fenêtre glissée");
    assert_eq!(
        gateway.rate_limited_until(technician, NOW_MS + 60_000),
        Some(NOW_MS + 70_000)
    );
}

#[tokio::test]
async fn invalid_number_or_key_is_permanent_and_nothing_is_sent() {
    let receiver = Receiver::start().await;
    let gateway = json_gateway(&receiver);

    for (to, key) in [("0612345678", KEY), ("+33 6 12", KEY), ("+33612345678", "")] {
        let error = gateway
            .send(to, "test", "gsm", key, NOW_MS)
            .await
            .unwrap_err();
        assert!(error.is_permanent(), "{to} {key} : {error}");
    }
    assert!(receiver.requests().is_empty());
}

#[test]
fn bad_configurations_are_refused_with_the_value() {
    let base = || config("https://sms.example.fr/send".to_owned());
    let refused = |config: SmsGatewayConfig| SmsGateway::new(config).unwrap_err().to_string();

    let unknown = refused(SmsGatewayConfig {
        body: Some(r#"{"to": "{to}", "msg": "{message}"}"#.to_owned()),
        content_type: Some("application/json".to_owned()),
        ..base()
    });
    assert!(unknown.contains("{message}"), "{unknown}");
    assert!(unknown.contains("le corps"), "{unknown}");

    let in_url = refused(SmsGatewayConfig {
        url: "https://sms.example.fr/send?to={numero}".to_owned(),
        ..base()
    });
    assert!(
        in_url.contains("{numero}") && in_url.contains("l'adresse"),
        "{in_url}"
    );

    let method = refused(SmsGatewayConfig {
        method: "PATCH".to_owned(),
        ..base()
    });
    assert!(method.contains("« PATCH »"), "{method}");

    let url = refused(SmsGatewayConfig {
        url: "ftp://sms.example.fr/".to_owned(),
        ..base()
    });
    assert!(url.contains("ftp://sms.example.fr/"), "{url}");

    let unquoted = refused(SmsGatewayConfig {
        body: Some(r#"{"to": {to}}"#.to_owned()),
        content_type: Some("application/json".to_owned()),
        ..base()
    });
    assert!(unquoted.contains("JSON"), "{unquoted}");

    let get_body = refused(SmsGatewayConfig {
        method: "GET".to_owned(),
        body: Some("to={to}".to_owned()),
        ..base()
    });
    assert!(get_body.contains("GET"), "{get_body}");

    let header = refused(SmsGatewayConfig {
        headers: vec![("Mauvais En-tête".to_owned(), "x".to_owned())],
        ..base()
    });
    assert!(header.contains("Mauvais En-tête"), "{header}");

    let limit = SmsGateway::new(SmsGatewayConfig {
        rate_limit: RateLimit {
            max: 0,
            per_ms: 60_000,
        },
        ..base()
    })
    .unwrap_err();
    assert!(matches!(limit, ConfigError::InvalidRateLimit { .. }));

    let timeout = SmsGateway::new(SmsGatewayConfig {
        timeout_ms: 3_600_000,
        ..base()
    })
    .unwrap_err();
    assert_eq!(timeout, ConfigError::InvalidTimeout(3_600_000));
}

/// Issue 26, item 3: a voice gateway is the same request template, with `{callback}` (where the
/// gateway posts the keys pressed) instead of `{encoding}`.
#[tokio::test]
async fn a_call_sends_the_text_to_read_and_the_keypad_callback() {
    let receiver = Receiver::start().await;
    let gateway = VoiceGateway::new(VoiceGatewayConfig {
        body: Some(
            r#"{"to": "{to}", "say": "{text}", "action": "{callback}", "ref": "{key}"}"#.to_owned(),
        ),
        content_type: Some("application/json".to_owned()),
        ..config(receiver.url("/v1/calls"))
    })
    .unwrap();
    let callback = "https://vigie.example.fr/api/v1/voice/keypad/17-AbC?x=\"1\"&y=2";
    let answer = gateway
        .call("+33612345678", TRICKY_TEXT, callback, KEY, NOW_MS)
        .await
        .expect("appel placé");
    assert_eq!(answer, r#"200 {"status":"queued","id":"msg-1"}"#);
    let request = receiver.single_request();
    assert_eq!(request.uri, "/v1/calls");
    let body: serde_json::Value = serde_json::from_slice(&request.body).expect("JSON valide");
    assert_eq!(
        body,
        serde_json::json!({"to": "+33612345678", "say": TRICKY_TEXT, "action": callback, "ref": KEY})
    );
    // Each gateway has its own placeholder: the other is refused at configuration.
    let encoding = VoiceGateway::new(VoiceGatewayConfig {
        body: Some(r#"{"to": "{to}", "enc": "{encoding}"}"#.to_owned()),
        content_type: Some("application/json".to_owned()),
        ..config("https://voix.example.fr/appel".to_owned())
    })
    .unwrap_err()
    .to_string();
    assert!(
        encoding.contains("{encoding}") && encoding.contains("{callback}"),
        "{encoding}"
    );
    let callback = SmsGateway::new(SmsGatewayConfig {
        url: "https://sms.example.fr/send?cb={callback}".to_owned(),
        ..config(String::new())
    })
    .unwrap_err()
    .to_string();
    assert!(
        callback.contains("{callback}") && callback.contains("{encoding}"),
        "{callback}"
    );
}
