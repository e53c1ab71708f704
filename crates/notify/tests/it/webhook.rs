//! Webhooks against a real HTTP receiver: headers, a signature the receiver can verify over
//! the exact bytes received, tampering detected, and the classification of answers.

use vigie_notify::{ConfigError, DeliveryError, Webhook, WebhookConfig, sign, verify};

use crate::receiver::Receiver;

const SECRET: &[u8] = b"secret-partage-avec-le-client";
const KEY: &str = "alarm-42.critical-client.CLI-ACME.webhook";
const NOW_MS: i64 = 1_750_000_000_000;

fn webhook(url: String) -> Webhook {
    Webhook::new(WebhookConfig {
        url,
        secret: SECRET.to_vec(),
        timeout_ms: 5_000,
    })
    .unwrap()
}

fn body() -> serde_json::Value {
    serde_json::json!({
        "alarm": 42,
        "severity": "critical",
        "title": "Caméra « Hall » injoignable",
    })
}

#[tokio::test]
async fn delivery_is_signed_and_the_receiver_can_verify_it() {
    let receiver = Receiver::start().await;
    let webhook = webhook(receiver.url("/hooks/vigie"));

    let answer = webhook.send(&body(), KEY, NOW_MS).await.expect("remis");

    assert!(answer.starts_with("200"), "{answer}");
    let request = receiver.single_request();
    assert_eq!(request.method, "POST");
    assert_eq!(request.header("content-type"), "application/json");
    assert_eq!(request.header("x-vigie-key"), KEY);
    let timestamp: i64 = request.header("x-vigie-timestamp").parse().unwrap();
    assert_eq!(timestamp, NOW_MS);
    let signature = request.header("x-vigie-signature");
    assert!(signature.starts_with("sha256="), "{signature}");
    assert!(verify(SECRET, timestamp, &request.body, signature));
    let received: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(received, body());

    // A changed body, timestamp, secret or signature does not verify.
    let mut tampered = request.body.clone();
    tampered[2] ^= 1;
    assert!(!verify(SECRET, timestamp, &tampered, signature));
    assert!(!verify(SECRET, timestamp + 1, &request.body, signature));
    assert!(!verify(
        b"autre-secret",
        timestamp,
        &request.body,
        signature
    ));
    assert!(!verify(SECRET, timestamp, &request.body, "sha256=00"));
    assert!(!verify(
        SECRET,
        timestamp,
        &request.body,
        "pas une signature"
    ));
}

#[test]
fn signature_is_hmac_sha256_of_timestamp_dot_body() {
    // Computed independently: printf '1750000000000.{"a":1}' | openssl dgst -sha256 -hmac secret
    assert_eq!(
        sign(b"secret", 1_750_000_000_000, br#"{"a":1}"#),
        "sha256=e05b6c5ffdc73cd615aa8adccd14cdbe7784f55c04f3f82a9cd3cb1bd7a940c6"
    );
}

#[tokio::test]
async fn answers_are_classified() {
    let receiver = Receiver::start().await;
    let webhook = webhook(receiver.url("/hooks/vigie"));
    for (status, permanent) in [
        (500, false),
        (502, false),
        (429, false),
        (400, true),
        (410, true),
    ] {
        receiver.reply(status, "réponse du client");

        let error = webhook.send(&body(), KEY, NOW_MS).await.unwrap_err();

        assert_eq!(error.is_permanent(), permanent, "{status} : {error}");
    }
}

#[tokio::test]
async fn unreachable_receiver_is_transient() {
    let webhook = webhook(format!(
        "http://127.0.0.1:{}/hooks",
        crate::peers::free_port()
    ));

    let error = webhook.send(&body(), KEY, NOW_MS).await.unwrap_err();

    assert!(matches!(error, DeliveryError::Transient(_)), "{error}");
}

#[test]
fn bad_configurations_are_refused() {
    let empty_secret = Webhook::new(WebhookConfig {
        url: "https://client.example.fr/hooks".to_owned(),
        secret: Vec::new(),
        timeout_ms: 5_000,
    })
    .unwrap_err();
    assert_eq!(empty_secret, ConfigError::EmptySecret);

    let bad_url = Webhook::new(WebhookConfig {
        url: "client.example.fr/hooks".to_owned(),
        secret: SECRET.to_vec(),
        timeout_ms: 5_000,
    })
    .unwrap_err();
    assert!(
        bad_url.to_string().contains("« client.example.fr/hooks »"),
        "{bad_url}"
    );
}
