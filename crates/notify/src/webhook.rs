//! Webhooks: a JSON body posted to a client's URL, signed with HMAC-SHA256 over the timestamp
//! and the body so that the receiver can check who sent it and refuse replays.

use std::time::Duration;

use hmac::{Hmac, Mac};
use reqwest::header::CONTENT_TYPE;
use sha2::Sha256;

use crate::error::check_timeout;
use crate::http::{deliver, parse_url};
use crate::key::check_key;
use crate::{ConfigError, DeliveryError, KEY_HEADER};

type HmacSha256 = Hmac<Sha256>;

/// Header carrying the instant of sending, milliseconds since 1970 UTC.
pub const TIMESTAMP_HEADER: &str = "X-Vigie-Timestamp";
/// Header carrying `sha256=<hex>`, see [`sign`].
pub const SIGNATURE_HEADER: &str = "X-Vigie-Signature";

/// Where to post, and the secret shared with the receiver.
#[derive(Clone)]
pub struct WebhookConfig {
    /// `https://…` (or `http://` on a trusted network).
    pub url: String,
    pub secret: Vec<u8>,
    pub timeout_ms: u64,
}

/// The secret never appears in debug output.
impl std::fmt::Debug for WebhookConfig {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("WebhookConfig")
            .field("url", &self.url)
            .field("secret", &"<masqué>")
            .field("timeout_ms", &self.timeout_ms)
            .finish()
    }
}

/// A webhook ready to send.
pub struct Webhook {
    client: reqwest::Client,
    url: url::Url,
    secret: Vec<u8>,
    timeout: Duration,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Webhook")
            .field("url", &self.url.as_str())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Webhook {
    pub fn new(config: WebhookConfig) -> Result<Webhook, ConfigError> {
        let timeout = check_timeout(config.timeout_ms)?;
        let url = parse_url(&config.url)?;
        if config.secret.is_empty() {
            return Err(ConfigError::EmptySecret);
        }
        Ok(Webhook {
            client: crate::http::client(timeout)?,
            url,
            secret: config.secret,
            timeout,
        })
    }

    /// Posts `body`, signed at `now_ms`, with `key` as idempotency key. Returns the receiver's
    /// answer (status and start of the body, at most 200 characters).
    pub async fn send(
        &self,
        body: &serde_json::Value,
        key: &str,
        now_ms: i64,
    ) -> Result<String, DeliveryError> {
        check_key(key)?;
        // The bytes signed are exactly the bytes sent: the receiver verifies the raw body.
        let bytes = serde_json::to_vec(body).map_err(|error| {
            DeliveryError::Permanent(format!("corps JSON impossible à écrire : {error}"))
        })?;
        let request = self
            .client
            .post(self.url.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(TIMESTAMP_HEADER, now_ms.to_string())
            .header(SIGNATURE_HEADER, sign(&self.secret, now_ms, &bytes))
            .header(KEY_HEADER, key)
            .body(bytes);
        deliver(request, "le webhook", self.timeout).await
    }
}

/// `sha256=<hex>`: the HMAC-SHA256, keyed by `secret`, of `{timestamp_ms}.{body}`. The
/// timestamp is signed with the body so that an old delivery cannot be replayed as new.
pub fn sign(secret: &[u8], timestamp_ms: i64, body: &[u8]) -> String {
    format!(
        "sha256={}",
        hex::encode(mac(secret, timestamp_ms, body).finalize().into_bytes())
    )
}

/// Whether `signature` is [`sign`]`(secret, timestamp_ms, body)`, compared in constant time
/// so that a forger cannot learn the right signature byte by byte from response times.
/// Checking that `timestamp_ms` is recent is the receiver's part.
pub fn verify(secret: &[u8], timestamp_ms: i64, body: &[u8], signature: &str) -> bool {
    let Some(hex_digest) = signature.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Ok(digest) = hex::decode(hex_digest) else {
        return false;
    };
    mac(secret, timestamp_ms, body)
        .verify_slice(&digest)
        .is_ok()
}

fn mac(secret: &[u8], timestamp_ms: i64, body: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(secret).expect("HMAC accepte toute clé");
    mac.update(timestamp_ms.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}
