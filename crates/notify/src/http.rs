//! What the HTTP channels (SMS gateway, webhook) share: the client, the checks of a target URL,
//! and the reading of an answer into success, transient or permanent failure.

use std::time::Duration;

use reqwest::StatusCode;

use crate::error::with_causes;
use crate::{ConfigError, DeliveryError};

/// Most bytes of an answer read: enough for any provider's receipt or error, and a bound on
/// what a broken or hostile endpoint can make us hold.
pub const MAX_RESPONSE_BYTES: usize = 16 * 1024;

/// Most characters of an answer returned or quoted in an error.
pub const MAX_ANSWER_CHARS: usize = 200;

/// A client whose every request ends within `timeout`. Redirects are not followed: a gateway
/// that moved is a configuration to fix, and following would resend the credentials of the
/// headers to another host.
pub(crate) fn client(timeout: Duration) -> Result<reqwest::Client, ConfigError> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("vigie-notify/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|error| ConfigError::Tls(with_causes(&error)))
}

/// Parses `url` and refuses anything but an absolute `http` or `https` URL with a host.
pub(crate) fn parse_url(url: &str) -> Result<url::Url, ConfigError> {
    let invalid = |reason: String| ConfigError::InvalidUrl {
        url: url.to_owned(),
        reason,
    };
    let parsed = url::Url::parse(url).map_err(|error| invalid(error.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid(format!(
            "schéma « {} » non pris en charge : http ou https attendu",
            parsed.scheme()
        )));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(invalid("hôte manquant".to_owned()));
    }
    Ok(parsed)
}

/// Sends `request` and classifies the outcome. `peer` names the other end in messages
/// (« la passerelle SMS », « le webhook »).
///
/// 2xx is a success; 408, 429 and 5xx say "later", as do timeouts and connection failures;
/// any other status (3xx, 4xx) is a refusal that a retry will not change.
pub(crate) async fn deliver(
    request: reqwest::RequestBuilder,
    peer: &str,
    timeout: Duration,
) -> Result<String, DeliveryError> {
    let mut response = request
        .send()
        .await
        .map_err(|error| request_failed(&error, peer, timeout))?;
    let status = response.status();
    let answer = read_answer(&mut response, status).await;
    if status.is_success() {
        return Ok(answer);
    }
    let message = format!("{peer} a répondu « {answer} »");
    if status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error()
    {
        Err(DeliveryError::Transient(message))
    } else {
        Err(DeliveryError::Permanent(message))
    }
}

fn request_failed(error: &reqwest::Error, peer: &str, timeout: Duration) -> DeliveryError {
    let detail = with_causes(error);
    if error.is_timeout() {
        DeliveryError::Transient(format!(
            "{peer} n'a pas répondu en {} ms ({detail})",
            timeout.as_millis()
        ))
    } else if error.is_connect() {
        DeliveryError::Transient(format!("{peer} est injoignable : {detail}"))
    } else if error.is_builder() {
        // The request itself could not be built: it never will be.
        DeliveryError::Permanent(format!("requête impossible vers {peer} : {detail}"))
    } else {
        DeliveryError::Transient(format!("échange interrompu avec {peer} : {detail}"))
    }
}

/// The status code and the start of the body, on one line: `200 {"id":"abc"}`. A body that
/// cannot be read completely after the status arrived does not change the verdict: the
/// status is what the peer decided.
async fn read_answer(response: &mut reqwest::Response, status: StatusCode) -> String {
    let mut body = Vec::new();
    while body.len() < MAX_RESPONSE_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    body.truncate(MAX_RESPONSE_BYTES);
    let text = String::from_utf8_lossy(&body);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let answer = if text.is_empty() {
        status.as_u16().to_string()
    } else {
        format!("{} {text}", status.as_u16())
    };
    answer.chars().take(MAX_ANSWER_CHARS).collect()
}
