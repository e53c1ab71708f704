//! Authentication: Argon2id password hashes, session cookies, bearer tokens, login throttling,
//! and the [`Caller`] extractor that turns a request into an [`Actor`] (or a 401).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use sha2::{Digest, Sha256};
use vigie_domain::access::Actor;
use vigie_store::UserInfo;

use crate::AppState;
use crate::error::ApiError;

/// The session cookie's name over plain http (local use); see [`session_cookie_name`].
pub const SESSION_COOKIE: &str = "vigie_session";
/// The session cookie's name under https: the `__Host-` prefix makes the browser refuse it
/// unless it is `Secure`, has no `Domain` and `Path=/`.
pub const HOST_SESSION_COOKIE: &str = "__Host-vigie_session";
/// The known-device cookie's name over http, and under https (see [`KNOWN_DEVICE_DAYS`]).
pub const KNOWN_DEVICE_COOKIE: &str = "vigie_appareil";
pub const HOST_KNOWN_DEVICE_COOKIE: &str = "__Host-vigie_appareil";
/// How long a browser where an account logged in stays known to it: its login attempts for
/// that account are throttled apart from everyone else's (issue 23, item 10).
pub const KNOWN_DEVICE_DAYS: u64 = 90;
/// How long a one-time password (a new account's, or one given by a reset) may be used:
/// past it, the login is refused and an administrator must give a new one.
pub const ONE_TIME_PASSWORD_HOURS: i64 = 72;
/// Prefix of API tokens, so that a leaked one is recognisable (secret scanners, logs).
pub const TOKEN_PREFIX: &str = "vgt_";
/// Longest password accepted: Argon2 works on any length, but a megabyte "password" is an
/// attack on the CPU, not a password.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// `n` random bytes from the operating system, as lowercase hex.
pub fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    getrandom::getrandom(&mut buffer).expect("the operating system provides randomness");
    hex::encode(buffer)
}

/// A password people can read and type: 20 characters from an alphabet without look-alikes.
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut buffer = [0u8; 20];
    getrandom::getrandom(&mut buffer).expect("the operating system provides randomness");
    // 256 is not a multiple of 55; the bias (under 1 %) does not matter for 20 characters
    // drawn from a 114-bit space.
    buffer
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

/// SHA-256 of a high-entropy secret (session id, token). Such secrets need no slow hash:
/// they cannot be guessed, only stolen, and the database keeps only this digest.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Hashes a password with Argon2id (default parameters: 19 MiB, 2 passes).
pub fn hash_password(password: &str) -> String {
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).expect("the operating system provides randomness");
    let salt = SaltString::encode_b64(&salt).expect("16 bytes make a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashes any password")
        .to_string()
}

/// Checks a password against a stored hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// The most password hashes computed at once: each takes Argon2's memory (19 MiB by default),
/// so a burst of logins costs at most this many times that (issue 23, item 9).
pub const MAX_CONCURRENT_HASHES: usize = 4;
/// The longest a login waits for its turn to be checked before it is told to come back.
const HASH_QUEUE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

fn hashing() -> &'static tokio::sync::Semaphore {
    static PERMITS: tokio::sync::Semaphore =
        tokio::sync::Semaphore::const_new(MAX_CONCURRENT_HASHES);
    &PERMITS
}

/// Runs Argon2 `work` off the async workers (it is CPU- and memory-heavy), at most
/// [`MAX_CONCURRENT_HASHES`] at once; one that waits more than 10 s for its turn is answered 503.
async fn bounded_hashing<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    let permit = tokio::time::timeout(HASH_QUEUE_WAIT, hashing().acquire())
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "trop de connexions en cours : réessayez dans un instant",
            )
        })?
        .map_err(ApiError::internal)?;
    let done = tokio::task::spawn_blocking(work)
        .await
        .map_err(ApiError::internal);
    drop(permit);
    done
}

/// Hashes a new password, within the hashing bound.
pub async fn hash_password_blocking(password: String) -> Result<String, ApiError> {
    bounded_hashing(move || hash_password(&password)).await
}

/// Checks a password, within the hashing bound.
pub async fn verify_password_blocking(password: String, hash: String) -> Result<bool, ApiError> {
    bounded_hashing(move || verify_password(&password, &hash)).await
}

/// A hash of a password nobody has, checked when the user does not exist, so that a login for
/// an unknown user takes as long as one for a known user (no enumeration by timing).
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password(&random_hex(16)))
}

/// Checks a new password of `username` against the rule: its length, then
/// [`crate::password_rule::weakness`] (trivial, the login name inside, common or breached).
pub fn check_new_password(
    password: &str,
    min_length: usize,
    username: &str,
) -> Result<(), ApiError> {
    if password.chars().count() < min_length {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "weak_password",
            format!("le mot de passe doit compter au moins {min_length} caractères"),
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "weak_password",
            "mot de passe trop long",
        ));
    }
    if let Some(why) = crate::password_rule::weakness(password, username) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "weak_password",
            why,
        ));
    }
    Ok(())
}

/// Splits a token `vgt_<id>_<secret>` and returns its id (the secret is checked by digest).
pub fn token_id(token: &str) -> Option<&str> {
    token
        .strip_prefix(TOKEN_PREFIX)?
        .split_once('_')
        .map(|(id, _)| id)
}

/// Constant-time comparison of a secret (a token, a form's CSRF value, a webhook secret): the
/// time taken says nothing of how much of it was right.
pub fn same_secret(given: &str, expected: &str) -> bool {
    use subtle::ConstantTimeEq;
    given.as_bytes().ct_eq(expected.as_bytes()).into()
}

/// The value of cookie `name` in a request.
pub fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    cookie_in(&parts.headers, name)
}

/// The value of cookie `name` among `headers`.
pub fn cookie_in<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// The session cookie's name, `__Host-` prefixed under https.
pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure {
        HOST_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    }
}

/// The `Set-Cookie` value for a new session (or, with `None`, one that clears it).
pub fn session_cookie(session_id: Option<&str>, max_age_seconds: u64, secure: bool) -> String {
    let name = session_cookie_name(secure);
    let secure = if secure { "; Secure" } else { "" };
    match session_id {
        Some(id) => format!(
            "{name}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age_seconds}{secure}"
        ),
        None => format!("{name}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0{secure}"),
    }
}

/// The known-device cookie's name, `__Host-` prefixed under https.
pub fn known_device_cookie_name(secure: bool) -> &'static str {
    if secure {
        HOST_KNOWN_DEVICE_COOKIE
    } else {
        KNOWN_DEVICE_COOKIE
    }
}

/// The signature that makes `device` a known device of `username` (HMAC-SHA-256 under the
/// server's signing key, with its own label so that it signs nothing else).
fn known_device_signature(key: &[u8], username: &str, device: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(b"vigie known device\0");
    mac.update(username.as_bytes());
    mac.update(b"\0");
    mac.update(device.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The `Set-Cookie` value that makes this browser a known device of `username`.
pub fn known_device_cookie(key: &[u8], username: &str, secure: bool) -> String {
    let device = random_hex(16);
    let signature = known_device_signature(key, username, &device);
    let name = known_device_cookie_name(secure);
    let max_age = KNOWN_DEVICE_DAYS * 86_400;
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{name}={device}.{signature}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{secure}"
    )
}

/// The device id of a known-device cookie, if it was signed for `username`.
pub fn known_device<'a>(key: &[u8], username: &str, cookie: &'a str) -> Option<&'a str> {
    let (device, signature) = cookie.split_once('.')?;
    (device.len() == 32 && same_secret(signature, &known_device_signature(key, username, device)))
        .then_some(device)
}

/// The second step of a login, after the password. Today none: every account logs in with
/// its password alone. Multi-factor login for the integrator's staff (issue on operations)
/// adds its variants here (a TOTP code, a security key), and `check_credentials` asks for
/// them before a session is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondFactor {
    /// The password is enough.
    None,
}

/// The second factor an account must present after its password.
pub fn second_factor_of(_user: &UserInfo) -> SecondFactor {
    SecondFactor::None
}

/// Who is calling: the actor, its user, and the session it came with (none for a token).
#[derive(Debug, Clone)]
pub struct Caller {
    pub actor: Actor,
    pub user: UserInfo,
    pub session_hash: Option<String>,
    /// The instant read for this request (UTC epoch milliseconds).
    pub now_ms: i64,
}

/// A caller who may still have to change a one-time password: only for the endpoints that
/// let them do so (`/auth/me`, `/auth/password`, `/auth/logout`).
#[derive(Debug, Clone)]
pub struct PendingCaller(pub Caller);

pub(crate) async fn authenticate(parts: &Parts, state: &AppState) -> Result<Caller, ApiError> {
    let now_ms = state.clock.now_ms();
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let value = value.to_str().map_err(|_| ApiError::unauthenticated())?;
        // Bearer for agents, probes and integrations; Basic (any user name, the token as the
        // password) for cameras whose HTTP notifications only know Basic (SUP-3 heartbeats).
        let basic_password = value
            .strip_prefix("Basic ")
            .and_then(|encoded| decode_base64(encoded.trim()))
            .and_then(|decoded| String::from_utf8(decoded).ok())
            .and_then(|pair| {
                pair.split_once(':')
                    .map(|(_, password)| password.to_owned())
            });
        let token = match &basic_password {
            Some(password) => password.as_str(),
            None => value
                .strip_prefix("Bearer ")
                .ok_or_else(ApiError::unauthenticated)?
                .trim(),
        };
        if token_id(token).is_none() {
            return Err(ApiError::unauthenticated());
        }
        let (_, user, actor) = state
            .store
            .token_actor(&digest(token), now_ms)
            .await?
            .ok_or_else(ApiError::unauthenticated)?;
        return Ok(Caller {
            actor,
            user,
            session_hash: None,
            now_ms,
        });
    }
    let session =
        cookie(parts, state.config.session_cookie_name()).ok_or_else(ApiError::unauthenticated)?;
    let session_hash = digest(session);
    let found = state
        .store
        .session_user(&session_hash, now_ms)
        .await?
        .ok_or_else(ApiError::unauthenticated)?;
    Ok(Caller {
        actor: found.actor,
        user: found.user,
        session_hash: Some(session_hash),
        now_ms,
    })
}

impl FromRequestParts<AppState> for PendingCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        authenticate(parts, state).await.map(PendingCaller)
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let caller = authenticate(parts, state).await?;
        if caller.user.must_change_password && caller.session_hash.is_some() {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "password_change_required",
                "mot de passe à usage unique : changez-le (POST /api/v1/auth/password) avant toute autre action",
            ));
        }
        Ok(caller)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let hash = hash_password("correct horse battery staple");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery staple", &hash));
        assert!(!verify_password("correct horse battery stapler", &hash));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn generated_passwords_are_long_and_distinct() {
        let a = generate_password();
        assert_eq!(a.len(), 20);
        assert_ne!(a, generate_password());
    }

    #[test]
    fn token_ids_are_read_from_the_prefix() {
        assert_eq!(token_id("vgt_abc123_deadbeef"), Some("abc123"));
        assert_eq!(token_id("abc123_deadbeef"), None);
    }
}

/// Creates a token and returns it with its secret (`vgt_<id>_<secret>`), shown once; only its
/// digest is stored. Shared by the API and the CLI.
pub async fn issue(
    store: &vigie_store::Store,
    actor: &Actor,
    new: &vigie_store::NewToken,
    now_ms: i64,
) -> Result<(vigie_store::TokenInfo, String), vigie_store::StoreError> {
    let id = random_hex(6);
    let secret = format!("{TOKEN_PREFIX}{id}_{}", random_hex(32));
    let token = store
        .create_token(actor, new, &id, &digest(&secret), now_ms)
        .await?;
    Ok((token, secret))
}

/// [`issue`] for a token bound to no site (every scope but `probe`).
pub async fn issue_token(
    store: &vigie_store::Store,
    actor: &Actor,
    username: &str,
    name: &str,
    scope: vigie_domain::access::TokenScope,
    expires_ms: Option<i64>,
    now_ms: i64,
) -> Result<(vigie_store::TokenInfo, String), vigie_store::StoreError> {
    let new = vigie_store::NewToken {
        username: username.to_owned(),
        name: name.to_owned(),
        scope,
        site: None,
        expires_ms,
    };
    issue(store, actor, &new, now_ms).await
}

/// Creates an account with a generated one-time password (to change at first login), and
/// returns it with that password. Shared by the API, the CLI and the first start.
pub async fn create_user_with_one_time_password(
    store: &vigie_store::Store,
    actor: &Actor,
    mut new: vigie_store::NewUser,
    now_ms: i64,
) -> Result<(UserInfo, String), ApiError> {
    let password = generate_password();
    new.password_hash = hash_password_blocking(password.clone()).await?;
    new.must_change_password = true;
    let user = store.create_user(actor, new, now_ms).await?;
    Ok((user, password))
}

/// Gives a user a new one-time password (every session closed) and returns it.
pub async fn reset_to_one_time_password(
    store: &vigie_store::Store,
    actor: &Actor,
    username: &str,
    now_ms: i64,
) -> Result<String, ApiError> {
    let password = generate_password();
    let hash = hash_password_blocking(password.clone()).await?;
    store
        .set_password(actor, username, &hash, true, now_ms)
        .await?;
    Ok(password)
}

/// Standard base64 (RFC 4648, with or without padding), for HTTP Basic credentials; None when
/// malformed or longer than a credential can be.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const MAX_CHARS: usize = 1024;
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    if text.len() > MAX_CHARS {
        return None;
    }
    LENIENT.decode(text).ok()
}

#[cfg(test)]
mod base64_tests {
    use super::decode_base64;

    #[test]
    fn base64_of_basic_credentials() {
        assert_eq!(decode_base64("Y2FtOnZndF9hYmM=").unwrap(), b"cam:vgt_abc");
        assert_eq!(decode_base64("YQ").unwrap(), b"a");
        assert_eq!(decode_base64("YWI").unwrap(), b"ab");
        assert!(decode_base64("Y").is_none());
        assert!(decode_base64("Y2Fté").is_none());
    }
}
