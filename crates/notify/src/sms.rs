//! SMS and calls through an HTTP gateway whose request is a template (URL, headers, body), so
//! that each provider (OVHcloud, Orange, SMSFactor, Twilio-like form posts…) is configuration,
//! not code; with a per-recipient sending limit. A call's gateway reads a text aloud and posts
//! the keypad's digits back to the `{callback}` address (issue 26, item 3).

use std::sync::Mutex;
use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderName, HeaderValue};

use crate::error::check_timeout;
use crate::http::{deliver, parse_url};
use crate::key::check_key;
use crate::phone::{check_e164, french_national};
use crate::rate_limit::Limiter;
use crate::template::{Escaping, Kind, Template, Values};
use crate::{ConfigError, DeliveryError, RateLimit};

/// How to reach an SMS or voice gateway. Every text field but `method` and `content_type` is
/// a template: see `docs/notifications.md`, « Passerelle SMS » and « Appels vocaux ».
#[derive(Clone)]
pub struct SmsGatewayConfig {
    /// `https://…`; placeholders in it are percent-encoded.
    pub url: String,
    /// `POST` or `GET`.
    pub method: String,
    /// Extra headers (`Authorization: Bearer …`); placeholders in values are inserted as is.
    /// The secrets they hold are resolved by the caller.
    pub headers: Vec<(String, String)>,
    /// The body template of a `POST`; escaping follows `content_type`.
    pub body: Option<String>,
    /// `application/json` (values escaped as JSON strings), `application/x-www-form-urlencoded`
    /// (percent-encoded), anything else (inserted as is).
    pub content_type: Option<String>,
    pub timeout_ms: u64,
    pub rate_limit: RateLimit,
}

/// Header values usually hold the provider's credentials: they never appear in debug output.
impl std::fmt::Debug for SmsGatewayConfig {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let header_names: Vec<&str> = self.headers.iter().map(|(name, _)| name.as_str()).collect();
        formatter
            .debug_struct("SmsGatewayConfig")
            .field("url", &self.url)
            .field("method", &self.method)
            .field("headers", &header_names)
            .field("body", &self.body)
            .field("content_type", &self.content_type)
            .field("timeout_ms", &self.timeout_ms)
            .field("rate_limit", &self.rate_limit)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Get,
    Post,
}

/// A voice gateway is configured exactly as an SMS gateway: a request template.
pub type VoiceGatewayConfig = SmsGatewayConfig;

/// An SMS gateway ready to send; share one per gateway, since it holds the sending limit.
#[derive(Debug)]
pub struct SmsGateway(Gateway);

/// A voice gateway ready to call (issue 26, item 3); share one, since it holds the calling
/// limit.
#[derive(Debug)]
pub struct VoiceGateway(Gateway);

/// What both gateways are: a checked request template and a per-recipient limit.
struct Gateway {
    kind: Kind,
    client: reqwest::Client,
    method: Method,
    url: Template,
    headers: Vec<(HeaderName, Template)>,
    body: Option<Template>,
    content_type: Option<HeaderValue>,
    body_escaping: Escaping,
    timeout: Duration,
    limiter: Mutex<Limiter>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Gateway")
            .field("kind", &self.kind)
            .field("method", &self.method)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl SmsGateway {
    /// Checks the whole configuration now, by filling every template with sample values: a
    /// mistake shows when the gateway is configured, not when a technician must be paged.
    pub fn new(config: SmsGatewayConfig) -> Result<SmsGateway, ConfigError> {
        Gateway::new(config, Kind::Sms).map(SmsGateway)
    }

    /// Sends `text` to `to_e164` (`+33612345678`), written for `encoding` (`gsm` or `ucs2`, what
    /// `{encoding}` gives the template), `key` being the idempotency key of the
    /// page, at `now_ms` (for the sending limit). Returns the gateway's answer (status and
    /// start of the body, at most 200 characters).
    ///
    /// An attempt counts against the limit as soon as the request leaves, even if it then
    /// fails: a request that timed out may still have been delivered to the phone.
    pub async fn send(
        &self,
        to_e164: &str,
        text: &str,
        encoding: &str,
        key: &str,
        now_ms: i64,
    ) -> Result<String, DeliveryError> {
        self.0.send(to_e164, text, encoding, "", key, now_ms).await
    }

    /// When a send to `to` at `now_ms` would be refused by the sending limit, the first
    /// instant it will be allowed (milliseconds UTC); `None` when it is allowed now.
    pub fn rate_limited_until(&self, to: &str, now_ms: i64) -> Option<i64> {
        self.0.limiter().limited_until(to, now_ms)
    }
}

impl VoiceGateway {
    /// Checks the whole configuration now, as [`SmsGateway::new`] does.
    pub fn new(config: VoiceGatewayConfig) -> Result<VoiceGateway, ConfigError> {
        Gateway::new(config, Kind::Voice).map(VoiceGateway)
    }

    /// Calls `to_e164` to read `text`, the gateway posting the keypad's digits to `callback`;
    /// `key` is the page's idempotency key. Returns the gateway's answer: the call is placed,
    /// not yet answered (the keypad callback says whether it was).
    pub async fn call(
        &self,
        to_e164: &str,
        text: &str,
        callback: &str,
        key: &str,
        now_ms: i64,
    ) -> Result<String, DeliveryError> {
        self.0.send(to_e164, text, "", callback, key, now_ms).await
    }

    /// As [`SmsGateway::rate_limited_until`], for calls.
    pub fn rate_limited_until(&self, to: &str, now_ms: i64) -> Option<i64> {
        self.0.limiter().limited_until(to, now_ms)
    }
}

impl Gateway {
    fn new(config: SmsGatewayConfig, kind: Kind) -> Result<Gateway, ConfigError> {
        let timeout = check_timeout(config.timeout_ms)?;
        let limit = config.rate_limit;
        if limit.max == 0 || limit.per_ms <= 0 {
            return Err(ConfigError::InvalidRateLimit {
                max: limit.max,
                per_ms: limit.per_ms,
            });
        }
        let method = match config.method.trim().to_ascii_uppercase().as_str() {
            "GET" => Method::Get,
            "POST" => Method::Post,
            _ => return Err(ConfigError::UnknownMethod(config.method.clone())),
        };

        let url = Template::parse(&config.url, "l'adresse", kind)?;
        parse_url(&url.render(&Values::SAMPLE, Escaping::Percent)).map_err(
            |error| match error {
                // Name the template the person wrote, not the sample rendering.
                ConfigError::InvalidUrl { reason, .. } => ConfigError::InvalidUrl {
                    url: config.url.clone(),
                    reason,
                },
                other => other,
            },
        )?;

        let mut headers = Vec::with_capacity(config.headers.len());
        for (name, value) in &config.headers {
            let invalid = |reason: &str| ConfigError::InvalidHeader {
                name: name.clone(),
                reason: reason.to_owned(),
            };
            let header_name = HeaderName::from_bytes(name.trim().as_bytes())
                .map_err(|_| invalid("nom d'en-tête invalide"))?;
            if header_name == CONTENT_TYPE {
                return Err(invalid("le type du corps se règle par « content_type »"));
            }
            let template = Template::parse(value, &format!("l'en-tête « {name} »"), kind)?;
            HeaderValue::from_str(&template.render(&Values::SAMPLE, Escaping::Raw)).map_err(
                |_| invalid("valeur invalide (retour à la ligne ou caractère de contrôle)"),
            )?;
            headers.push((header_name, template));
        }

        let content_type = match &config.content_type {
            Some(value) => Some(HeaderValue::from_str(value.trim()).map_err(|_| {
                ConfigError::InvalidHeader {
                    name: "Content-Type".to_owned(),
                    reason: format!("valeur invalide « {value} »"),
                }
            })?),
            None => None,
        };
        let body_escaping = escaping_for(config.content_type.as_deref());
        let body = match &config.body {
            Some(_) if method == Method::Get => {
                return Err(ConfigError::InvalidBody(
                    "une requête GET n'a pas de corps : mettez les variables dans l'adresse"
                        .to_owned(),
                ));
            }
            Some(source) => {
                let template = Template::parse(source, "le corps", kind)?;
                if body_escaping == Escaping::JsonString {
                    let sample = template.render(&Values::SAMPLE, Escaping::JsonString);
                    serde_json::from_str::<serde_json::Value>(&sample).map_err(|error| {
                        ConfigError::InvalidBody(format!(
                            "une fois rempli, le corps n'est pas du JSON valide ({error}) ; \
                             les variables s'écrivent entre guillemets, par exemple \"{{text}}\""
                        ))
                    })?;
                }
                Some(template)
            }
            None => None,
        };

        Ok(Gateway {
            kind,
            client: crate::http::client(timeout)?,
            method,
            url,
            headers,
            body,
            content_type,
            body_escaping,
            timeout,
            limiter: Mutex::new(Limiter::new(limit)),
        })
    }

    /// The gateway's name in errors.
    fn what(&self) -> &'static str {
        match self.kind {
            Kind::Sms => "la passerelle SMS",
            Kind::Voice => "la passerelle vocale",
        }
    }

    async fn send(
        &self,
        to_e164: &str,
        text: &str,
        encoding: &str,
        callback: &str,
        key: &str,
        now_ms: i64,
    ) -> Result<String, DeliveryError> {
        check_e164(to_e164)?;
        check_key(key)?;

        let to_national = french_national(to_e164);
        let values = Values {
            to: to_e164,
            to_national: &to_national,
            to_digits: &to_e164[1..],
            text,
            encoding,
            key,
            callback,
        };
        let url = self.url.render(&values, Escaping::Percent);
        let mut request = match self.method {
            Method::Get => self.client.get(&url),
            Method::Post => self.client.post(&url),
        };
        for (name, template) in &self.headers {
            let value =
                HeaderValue::from_str(&template.render(&values, Escaping::Raw)).map_err(|_| {
                    DeliveryError::Permanent(format!(
                        "l'en-tête « {name} » n'est pas valide une fois rempli (retour à la \
                         ligne ou caractère de contrôle dans le texte ?)"
                    ))
                })?;
            request = request.header(name, value);
        }
        if let Some(content_type) = &self.content_type {
            request = request.header(CONTENT_TYPE, content_type);
        }
        if let Some(body) = &self.body {
            request = request.body(body.render(&values, self.body_escaping));
        }
        // Counted only once the request is ready to leave: a message refused above never
        // reached the gateway.
        self.acquire(to_e164, now_ms)?;
        deliver(request, self.what(), self.timeout).await
    }

    fn acquire(&self, to: &str, now_ms: i64) -> Result<(), DeliveryError> {
        self.limiter().try_acquire(to, now_ms).map_err(|until_ms| {
            DeliveryError::Transient(format!(
                "limite d'envoi atteinte pour {to} ; nouvel essai après {} (dans {} s)",
                format_instant(until_ms),
                (until_ms.saturating_sub(now_ms) + 999) / 1000
            ))
        })
    }

    /// The limiter's lock is never held across an await, so a panic elsewhere cannot leave it
    /// in a broken state: a poisoned lock is taken as is.
    fn limiter(&self) -> std::sync::MutexGuard<'_, Limiter> {
        self.limiter
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A `Content-Type`'s media type, without its parameters, in lower case
/// (`application/json; charset=utf-8` → `application/json`).
pub(crate) fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Whether a media type is JSON: `application/json` or a `…+json` one.
pub(crate) fn is_json(media_type: &str) -> bool {
    media_type == "application/json" || media_type.ends_with("+json")
}

/// The escaping of body placeholders for a `Content-Type`: JSON for `application/json` and
/// `…+json`, percent-encoding for forms, none otherwise.
fn escaping_for(content_type: Option<&str>) -> Escaping {
    let Some(content_type) = content_type else {
        return Escaping::Raw;
    };
    let essence = media_type(content_type);
    if is_json(&essence) {
        Escaping::JsonString
    } else if essence == "application/x-www-form-urlencoded" {
        Escaping::Percent
    } else {
        Escaping::Raw
    }
}

/// `2025-03-01T10:15:00Z`, or the raw milliseconds if out of the calendar's range.
fn format_instant(instant_ms: i64) -> String {
    match jiff::Timestamp::from_millisecond(instant_ms) {
        Ok(timestamp) => timestamp.to_string(),
        Err(_) => format!("{instant_ms} ms"),
    }
}
