//! People and access endpoints: login and logout, the current user, password changes, user
//! accounts (administrators) and API tokens.

use std::collections::BTreeSet;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use vigie_domain::Reference;
use vigie_domain::access::{Permission, TokenScope};
use vigie_domain::inventory::StaffRole;
use vigie_store::{
    LoginLimit, NewToken, NewUser, SessionInfo, StoreError, TokenInfo, UserInfo, UserKind,
};

use crate::AppState;
use crate::api::{JsonBody, LoginOrigin, QueryParams};
use crate::auth::{self, Caller, PendingCaller};
use crate::error::{ApiError, ApiResult};

/// Longest lifetime of a token, in days; a token without expiry must be asked for explicitly.
const MAX_TOKEN_DAYS: i64 = 3650;
/// The first wait imposed on an account past its free failures; each further failure
/// doubles it, up to `[auth] max_login_delay_seconds` (issue 23, item 10).
pub const FIRST_LOGIN_DELAY_MS: i64 = 1_000;
/// How long an account's failures are remembered for its backoff (a right password forgets
/// them): longer than the address window, so that the waits keep growing under a slow,
/// patient guesser instead of falling back each time old failures leave the window.
pub const ACCOUNT_FAILURE_MEMORY_MS: i64 = 24 * 3_600_000;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/auth/me", get(me))
        .route("/api/v1/auth/password", post(change_password))
        .route("/api/v1/users", get(list_users).post(create_user))
        .route("/api/v1/users/{username}/password", post(reset_password))
        .route("/api/v1/users/{username}/disable", post(disable_user))
        .route("/api/v1/users/{username}/enable", post(enable_user))
        .route(
            "/api/v1/me/sessions",
            get(list_own_sessions).delete(end_other_sessions),
        )
        .route(
            "/api/v1/me/sessions/{id}",
            axum::routing::delete(end_own_session),
        )
        .route("/api/v1/tokens", get(list_tokens).post(create_token))
        .route("/api/v1/tokens/{id}", axum::routing::delete(revoke_token))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Credentials {
    username: String,
    password: String,
}

#[derive(Debug, Serialize)]
struct Me {
    user: UserInfo,
    /// Every role the user acts with (its own and its staff record's).
    roles: BTreeSet<StaffRole>,
    must_change_password: bool,
}

fn me_of(caller: &Caller) -> Me {
    let roles = match &caller.actor.principal {
        vigie_domain::access::Principal::Staff { roles, .. } => roles.clone(),
        _ => BTreeSet::new(),
    };
    Me {
        user: caller.user.clone(),
        roles,
        must_change_password: caller.user.must_change_password,
    }
}

fn too_many(retry_after_ms: i64) -> ApiError {
    let seconds = (retry_after_ms.max(1) + 999) / 1000;
    let mut error = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
        format!("trop d'échecs de connexion : réessayez dans {seconds} s"),
    );
    error.retry_after_seconds = Some(seconds as u64);
    error
}

fn bad_credentials() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "bad_credentials",
        "identifiant ou mot de passe incorrect",
    )
}

/// Opens a session and returns the response with its cookie (and, after a login, the
/// known-device cookie).
async fn open_session(
    state: &AppState,
    user: &UserInfo,
    origin: &LoginOrigin,
    now_ms: i64,
    known_device_cookie: Option<String>,
    body: impl Serialize,
) -> ApiResult<Response> {
    let cookie = new_session_cookie(state, user, origin, now_ms).await?;
    let mut response = ([(header::SET_COOKIE, cookie)], Json(body)).into_response();
    if let Some(device) = known_device_cookie
        && let Ok(value) = header::HeaderValue::from_str(&device)
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// Opens a session for `user` and returns its `Set-Cookie` value (API and pages alike).
pub(crate) async fn new_session_cookie(
    state: &AppState,
    user: &UserInfo,
    origin: &LoginOrigin,
    now_ms: i64,
) -> ApiResult<String> {
    let session_id = auth::random_hex(32);
    let lifetime_ms = i64::from(state.config.auth.session_hours) * 3_600_000;
    state
        .store
        .create_session_from(
            &user.username,
            &auth::digest(&session_id),
            now_ms,
            now_ms + lifetime_ms,
            &origin.session_origin(),
        )
        .await?;
    Ok(auth::session_cookie(
        Some(&session_id),
        (lifetime_ms / 1000) as u64,
        state.config.secure_cookies(),
    ))
}

async fn login(
    State(state): State<AppState>,
    origin: LoginOrigin,
    JsonBody(credentials): JsonBody<Credentials>,
) -> ApiResult<Response> {
    let now_ms = state.clock.now_ms();
    let logged_in = check_credentials(
        &state,
        &origin,
        &credentials.username,
        credentials.password,
        now_ms,
    )
    .await?;
    let user = logged_in.user;
    let actor = state.store.actor_for(&user).await?;
    let caller = Caller {
        actor,
        user: user.clone(),
        session_hash: None,
        now_ms,
    };
    open_session(
        &state,
        &user,
        &origin,
        now_ms,
        Some(logged_in.known_device_cookie),
        me_of(&caller),
    )
    .await
}

/// A login that passed: the user, and the cookie that makes this browser a known device of
/// the account (sent with the session's).
pub(crate) struct LoggedIn {
    pub user: UserInfo,
    pub known_device_cookie: String,
}

/// Checks a user name and password, throttled per account and per address (API and login
/// page alike); a failure is counted and answered with the same message whatever was wrong
/// (unknown user, wrong password, disabled account).
///
/// Issue 23, item 10: past `max_failures_per_user` failures in the window, an account's
/// attempts wait after the last failure 1 s, 2 s, 4 s… at most `max_login_delay_seconds`,
/// rather than being shut for the whole window; attempts from a browser where the account
/// logged in before (its signed known-device cookie) are counted apart, so that strangers'
/// guesses never keep the account's owner out, and are not held by the address's limit.
pub(crate) async fn check_credentials(
    state: &AppState,
    origin: &LoginOrigin,
    username: &str,
    password: String,
    now_ms: i64,
) -> ApiResult<LoggedIn> {
    let config = &state.config.auth;
    let window_ms = i64::from(config.failure_window_minutes) * 60_000;
    let username = username.trim().to_lowercase();
    if username.len() > 64 || password.len() > auth::MAX_PASSWORD_BYTES {
        return Err(bad_credentials());
    }
    let signing_key = state.deliveries.key().await?;
    let device = origin
        .known_device
        .as_deref()
        .and_then(|cookie| auth::known_device(&signing_key, &username, cookie));
    let account_key = match device {
        Some(device) => format!("device:{username}:{device}"),
        None => format!("user:{username}"),
    };
    let backoff = LoginLimit::Backoff {
        free_failures: i64::from(config.max_failures_per_user),
        first_delay_ms: FIRST_LOGIN_DELAY_MS,
        max_delay_ms: i64::from(config.max_login_delay_seconds) * 1000,
        memory_ms: ACCOUNT_FAILURE_MEMORY_MS,
    };
    let address_key = origin
        .address
        .filter(|_| device.is_none())
        .map(|a| format!("address:{a}"));
    // Throttled before the password is even checked: a correct guess while the account
    // waits is refused too, so that guessing gains nothing. The attempt is counted as a
    // failure before the check (issue 23, item 9): a burst of parallel guesses is throttled
    // like a sequence.
    let mut keys = vec![(account_key.as_str(), backoff)];
    if let Some(key) = &address_key {
        keys.push((
            key.as_str(),
            LoginLimit::Window {
                failures: i64::from(config.max_failures_per_address),
                window_ms,
            },
        ));
    }
    let attempt = match state.store.reserve_login_attempt(&keys, now_ms).await? {
        Ok(ids) => ids,
        Err(retry_at) => return Err(too_many(retry_at - now_ms)),
    };
    let found = state.store.user_for_login(&username).await?;
    let hash = found
        .as_ref()
        .map(|(_, h)| h.clone())
        .unwrap_or_else(|| auth::decoy_hash().to_string());
    let valid = auth::verify_password_blocking(password, hash).await? && found.is_some();
    // A disabled account answers as a wrong password: nothing tells it apart.
    let Some((user, _)) = found.filter(|(user, _)| valid && user.disabled_ms.is_none()) else {
        // The attempt stays recorded: it was a failure.
        tracing::info!(username, "échec de connexion");
        return Err(bad_credentials());
    };
    // The right password: not a failure, and the account (or this known device) starts
    // afresh. A stranger's guesses before it count no more: their backoff starts again, at
    // most once per login of the owner.
    state.store.forget_login_attempt(&attempt).await?;
    state.store.clear_login_failures(&account_key).await?;
    if user.must_change_password
        && now_ms > user.password_changed_ms + auth::ONE_TIME_PASSWORD_HOURS * 3_600_000
    {
        tracing::info!(username, "mot de passe à usage unique expiré");
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "one_time_password_expired",
            format!(
                "ce mot de passe à usage unique a expiré ({} h après avoir été donné) : demandez-en un nouveau à un administrateur",
                auth::ONE_TIME_PASSWORD_HOURS
            ),
        ));
    }
    match auth::second_factor_of(&user) {
        auth::SecondFactor::None => {}
    }
    tracing::info!(username, "connexion");
    let known_device_cookie =
        auth::known_device_cookie(&signing_key, &username, state.config.secure_cookies());
    Ok(LoggedIn {
        user,
        known_device_cookie,
    })
}

async fn logout(
    State(state): State<AppState>,
    PendingCaller(caller): PendingCaller,
) -> ApiResult<Response> {
    if let Some(hash) = &caller.session_hash {
        state.store.delete_session(hash).await?;
    }
    Ok((
        StatusCode::NO_CONTENT,
        [(
            header::SET_COOKIE,
            auth::session_cookie(None, 0, state.config.secure_cookies()),
        )],
    )
        .into_response())
}

async fn me(PendingCaller(caller): PendingCaller) -> Json<Me> {
    Json(me_of(&caller))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordChange {
    current_password: String,
    new_password: String,
}

/// Changes one's own password; every session of the user is closed and a new one opened for
/// this browser.
async fn change_password(
    State(state): State<AppState>,
    PendingCaller(caller): PendingCaller,
    origin: LoginOrigin,
    JsonBody(change): JsonBody<PasswordChange>,
) -> ApiResult<Response> {
    let user = change_own_password(
        &state,
        &caller,
        change.current_password,
        change.new_password,
    )
    .await?;
    let caller = Caller {
        user: user.clone(),
        ..caller
    };
    open_session(&state, &user, &origin, caller.now_ms, None, me_of(&caller)).await
}

/// Changes the caller's own password (API and pages alike), closing every session of the
/// user; the caller opens a new one.
pub(crate) async fn change_own_password(
    state: &AppState,
    caller: &Caller,
    current_password: String,
    new_password: String,
) -> ApiResult<UserInfo> {
    if caller.session_hash.is_none() {
        return Err(ApiError::forbidden(
            "un mot de passe se change en session, pas avec un jeton",
        ));
    }
    let (_, hash) = state
        .store
        .user_for_login(&caller.user.username)
        .await?
        .ok_or_else(ApiError::unauthenticated)?;
    if !auth::verify_password_blocking(current_password.clone(), hash).await? {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "bad_credentials",
            "mot de passe actuel incorrect",
        ));
    }
    auth::check_new_password(
        &new_password,
        state.config.auth.min_password_length,
        &caller.user.username,
    )?;
    if new_password == current_password {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "weak_password",
            "le nouveau mot de passe doit différer de l'actuel",
        ));
    }
    let new_hash = auth::hash_password_blocking(new_password).await?;
    state
        .store
        .set_password(
            &caller.actor,
            &caller.user.username,
            &new_hash,
            false,
            caller.now_ms,
        )
        .await?;
    let mut user = caller.user.clone();
    user.must_change_password = false;
    Ok(user)
}

async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<UserInfo>>> {
    Ok(Json(state.store.list_users(&caller.actor).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserRequest {
    username: String,
    display_name: String,
    kind: String,
    client: Option<String>,
    staff: Option<String>,
    #[serde(default)]
    roles: BTreeSet<StaffRole>,
}

#[derive(Debug, Serialize)]
struct CreatedUser {
    user: UserInfo,
    /// Shown once: the user must change it at first login.
    one_time_password: String,
}

fn optional_reference(text: Option<String>, what: &str) -> ApiResult<Option<Reference>> {
    text.map(|t| {
        Reference::parse(&t).map_err(|e| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                format!("{what} : {e}"),
            )
        })
    })
    .transpose()
}

async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<UserRequest>,
) -> ApiResult<Response> {
    let kind = match request.kind.as_str() {
        "staff" => UserKind::Staff,
        "client" => UserKind::Client,
        other => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                format!("type d'utilisateur « {other} » inconnu (staff ou client)"),
            ));
        }
    };
    let new = NewUser {
        username: request.username.trim().to_lowercase(),
        display_name: request.display_name,
        kind,
        staff: optional_reference(request.staff, "fiche personnel")?,
        client: optional_reference(request.client, "client")?,
        roles: request.roles,
        password_hash: String::new(),
        must_change_password: true,
    };
    let (user, one_time_password) =
        auth::create_user_with_one_time_password(&state.store, &caller.actor, new, caller.now_ms)
            .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedUser {
            user,
            one_time_password,
        }),
    )
        .into_response())
}

#[derive(Debug, Serialize)]
struct PasswordReset {
    one_time_password: String,
}

/// An administrator gives a user a new one-time password (their sessions are closed).
async fn reset_password(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
) -> ApiResult<Json<PasswordReset>> {
    if !caller.actor.may(Permission::ManageUsers) {
        return Err(StoreError::Forbidden("réservé aux administrateurs".into()).into());
    }
    let one_time_password =
        auth::reset_to_one_time_password(&state.store, &caller.actor, &username, caller.now_ms)
            .await?;
    Ok(Json(PasswordReset { one_time_password }))
}

/// An administrator disables an account: kept for history, its login refused as a wrong
/// password, its sessions and tokens ended at once (issue 23, item 11).
async fn disable_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
) -> ApiResult<Json<UserInfo>> {
    let user = state
        .store
        .set_disabled(&caller.actor, &username, true, caller.now_ms)
        .await?;
    Ok(Json(user))
}

/// An administrator enables a disabled account again (its old tokens stay revoked).
async fn enable_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
) -> ApiResult<Json<UserInfo>> {
    let user = state
        .store
        .set_disabled(&caller.actor, &username, false, caller.now_ms)
        .await?;
    Ok(Json(user))
}

/// The caller's own session, required by the session endpoints (a token has none).
fn own_session(caller: &Caller) -> ApiResult<&str> {
    caller.session_hash.as_deref().ok_or_else(|| {
        ApiError::forbidden("les sessions se consultent en session, pas avec un jeton")
    })
}

/// The caller's live sessions: when and where from each was opened, when last seen, and
/// which is this one; never a session's secret.
async fn list_own_sessions(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<SessionInfo>>> {
    let current = own_session(&caller)?;
    Ok(Json(
        state
            .store
            .sessions_of(&caller.user.username, Some(current), caller.now_ms)
            .await?,
    ))
}

/// Ends one of the caller's sessions by its id (`404` for any other id).
async fn end_own_session(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    own_session(&caller)?;
    state.store.end_session(&caller.user.username, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize)]
struct EndedSessions {
    ended: u64,
}

/// Ends every session of the caller but this one.
async fn end_other_sessions(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<EndedSessions>> {
    let current = own_session(&caller)?;
    let ended = state
        .store
        .end_other_sessions(&caller.user.username, current)
        .await?;
    Ok(Json(EndedSessions { ended }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenListParams {
    username: Option<String>,
}

async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(params): QueryParams<TokenListParams>,
) -> ApiResult<Json<Vec<TokenInfo>>> {
    let username = params
        .username
        .unwrap_or_else(|| caller.user.username.clone());
    Ok(Json(
        state.store.list_tokens(&caller.actor, &username).await?,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenRequest {
    name: String,
    scope: TokenScope,
    /// Days until it expires; none means it does not expire.
    expires_in_days: Option<i64>,
    /// Whose token (administrators only; oneself by default).
    username: Option<String>,
    /// The one site of a probe token (required for `probe`, refused for the other scopes).
    site: Option<Reference>,
}

#[derive(Debug, Serialize)]
struct CreatedToken {
    token: TokenInfo,
    /// Shown once; only its digest is kept.
    secret: String,
}

async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<TokenRequest>,
) -> ApiResult<Response> {
    let expires_ms = match request.expires_in_days {
        None => None,
        Some(days) if (1..=MAX_TOKEN_DAYS).contains(&days) => {
            Some(caller.now_ms + days * 86_400_000)
        }
        Some(_) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                format!("expires_in_days doit être compris entre 1 et {MAX_TOKEN_DAYS}"),
            ));
        }
    };
    let username = request
        .username
        .unwrap_or_else(|| caller.user.username.clone());
    let new = NewToken {
        username,
        name: request.name,
        scope: request.scope,
        site: request.site,
        expires_ms,
    };
    let (token, secret) = auth::issue(&state.store, &caller.actor, &new, caller.now_ms).await?;
    Ok((StatusCode::CREATED, Json(CreatedToken { token, secret })).into_response())
}

async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .store
        .revoke_token(&caller.actor, &id, caller.now_ms)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
