//! The `/api/v1` routes and what they share: JSON bodies and query strings read into typed
//! values with French errors, and the 404 for everything else.

pub(crate) mod alarms;
mod audit;
pub(crate) mod documents;
pub(crate) mod inventory;
mod mail;
pub(crate) mod notifications;
pub(crate) mod people;
pub(crate) mod policy;
mod supervision;
pub(crate) mod tickets;
pub(crate) mod windows;

use axum::Router;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::routing::get;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::error::ApiError;

pub use inventory::collection;

/// Issue 23, item 12: a write to the API authenticated by the session cookie must say a
/// content type that no cross-site form or "simple" request can send (JSON, TOML…): the
/// cookie alone, whatever its SameSite attribute, never carries a forged write. A bearer token
/// is not sent by browsers on their own, so token-authenticated requests are not concerned.
pub async fn refuse_cookie_form_writes(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::{Method, header};
    use axum::response::IntoResponse;
    let headers = request.headers();
    let by_cookie = headers.get(header::AUTHORIZATION).is_none()
        && [
            crate::auth::SESSION_COOKIE,
            crate::auth::HOST_SESSION_COOKIE,
        ]
        .iter()
        .any(|name| crate::auth::cookie_in(headers, name).is_some());
    // Logging out changes nothing but the session itself: a forged one only ends it.
    let path = request.uri().path();
    if by_cookie
        && path.starts_with("/api/")
        && path != "/api/v1/auth/logout"
        && *request.method() == Method::POST
    {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .unwrap_or_default();
        if matches!(
            content_type.as_str(),
            "" | "application/x-www-form-urlencoded" | "multipart/form-data" | "text/plain"
        ) {
            return ApiError::new(
                axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "avec un cookie de session, une écriture dans l'API doit être en JSON (Content-Type: application/json) ou, pour un inventaire, en TOML",
            )
            .into_response();
        }
    }
    next.run(request).await
}

/// Issue 23, item 12: whatever refuses an API request — the route table (405), the body
/// limit (413), an extractor of the framework — answers the documented French JSON body. An
/// error response of `/api/` that is not JSON is replaced by one with the same status, keeping
/// the headers that say what to do (`Allow`, `Retry-After`).
pub async fn json_errors(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let api = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !api || is_json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (code, message) = match status {
        StatusCode::BAD_REQUEST => ("bad_request", "requête illisible"),
        StatusCode::UNAUTHORIZED => ("unauthenticated", "authentification requise"),
        StatusCode::FORBIDDEN => ("forbidden", "accès refusé"),
        StatusCode::NOT_FOUND => ("not_found", "cette adresse n'existe pas"),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "cette méthode n'est pas servie à cette adresse (voir l'en-tête Allow)",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => ("too_large", "requête trop grande"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "type de contenu refusé : envoyez du JSON (Content-Type: application/json)",
        ),
        StatusCode::UNPROCESSABLE_ENTITY => ("invalid", "données refusées"),
        StatusCode::TOO_MANY_REQUESTS => (
            "too_many_attempts",
            "trop de requêtes : réessayez plus tard",
        ),
        status if status.is_server_error() => ("unavailable", "service momentanément indisponible"),
        _ => ("bad_request", "requête refusée"),
    };
    let kept: Vec<(header::HeaderName, header::HeaderValue)> = [header::ALLOW, header::RETRY_AFTER]
        .into_iter()
        .filter_map(|name| {
            let value = response.headers().get(&name)?.clone();
            Some((name, value))
        })
        .collect();
    let mut replaced = ApiError::new(status, code, message).into_response();
    for (name, value) in kept {
        replaced.headers_mut().insert(name, value);
    }
    replaced
}

pub fn routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(crate::openapi::document))
        .merge(people::routes())
        .merge(audit::routes())
        .merge(alarms::routes())
        .merge(notifications::routes())
        .merge(supervision::routes())
        .merge(tickets::routes())
        .merge(mail::routes())
        .merge(documents::routes())
        .merge(windows::routes())
        .merge(policy::routes())
        .merge(inventory::routes(state))
}

/// Fallback for any path that is not a route.
pub async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "cette adresse n'existe pas",
    )
}

/// Removes serde_json's " at line L column C" suffix, kept apart from the message.
fn without_position(message: &str) -> &str {
    match message.rfind(" at line ") {
        Some(index) => &message[..index],
        None => message,
    }
}

/// A JSON body read into `T`, refusing what is not JSON, too large, malformed or carrying
/// unknown fields, with a French message.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let JsonBytes(bytes) = JsonBytes::from_request(request, state).await?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// A JSON request body not yet read into a type, for a handler that must look at it twice (a
/// protocol's version before its fields).
pub struct JsonBytes(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for JsonBytes {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(';')
                    .next()
                    .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
            });
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "le corps de la requête doit être du JSON (Content-Type: application/json)",
            ));
        }
        read_body(request, state).await.map(JsonBytes)
    }
}

/// A JSON body read into `T`: malformed JSON is a 400, a value of the wrong shape a 422, each
/// with serde's message in French and where it is.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        let status = if e.is_data() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::BAD_REQUEST
        };
        let code = if e.is_data() { "invalid" } else { "bad_json" };
        let message = vigie_domain::text::french_serde_message(without_position(&e.to_string()));
        ApiError::new(
            status,
            code,
            format!("{message} (ligne {}, colonne {})", e.line(), e.column()),
        )
    })
}

/// The request body as bytes, with the route's size limit turned into a clear 413.
pub async fn read_body<S: Send + Sync>(
    request: Request,
    state: &S,
) -> Result<axum::body::Bytes, ApiError> {
    axum::body::Bytes::from_request(request, state)
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "too_large",
                    "requête trop volumineuse",
                )
            } else {
                ApiError::bad_request(format!("corps de requête illisible : {rejection}"))
            }
        })
}

/// Query-string parameters read into `T`; unknown parameters are refused.
#[derive(Debug)]
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|q| QueryParams(q.0))
            .map_err(|e| {
                let text = e.body_text();
                let cause = text.split_once(": ").map(|(_, c)| c).unwrap_or(&text);
                ApiError::bad_request(format!(
                    "paramètres invalides : {}",
                    vigie_domain::text::french_serde_message(cause)
                ))
            })
    }
}

/// The client's address, when the server was started with connection info: the TCP peer's,
/// or what a trusted proxy says in `X-Forwarded-For` (`[server] trusted_proxies`).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub Option<std::net::IpAddr>);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(ClientAddress(
            state.config.client_address(peer, &parts.headers),
        ))
    }
}

/// Where a login, or a session opened by a password change, comes from: the client's
/// address, its user agent, and the known-device cookie it carries.
#[derive(Debug, Clone, Default)]
pub struct LoginOrigin {
    pub address: Option<std::net::IpAddr>,
    pub user_agent: Option<String>,
    pub known_device: Option<String>,
}

impl LoginOrigin {
    pub fn session_origin(&self) -> vigie_store::SessionOrigin {
        vigie_store::SessionOrigin {
            address: self.address.map(|a| a.to_string()),
            user_agent: self.user_agent.clone(),
        }
    }
}

impl FromRequestParts<AppState> for LoginOrigin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ClientAddress(address) = ClientAddress::from_request_parts(parts, state).await?;
        let device_cookie = crate::auth::known_device_cookie_name(state.config.secure_cookies());
        Ok(LoginOrigin {
            address,
            user_agent: parts
                .headers
                .get(header::USER_AGENT)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()),
            known_device: crate::auth::cookie(parts, device_cookie).map(str::to_owned),
        })
    }
}
