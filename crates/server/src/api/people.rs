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
use vigie_store::{NewToken, NewUser, StoreError, TokenInfo, UserInfo, UserKind};

use crate::AppState;
use crate::api::{ClientAddress, JsonBody, QueryParams};
use crate::auth::{self, Caller, PendingCaller};
use crate::error::{ApiError, ApiResult};

/// Longest lifetime of a token, in days; a token without expiry must be asked for explicitly.
const MAX_TOKEN_DAYS: i64 = 3650;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/auth/me", get(me))
        .route("/api/v1/auth/password", post(change_password))
        .route("/api/v1/users", get(list_users).post(create_user))
        .route("/api/v1/users/{username}/password", post(reset_password))
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
    let mut error = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
        "trop d'échecs de connexion : réessayez plus tard",
    );
    error.retry_after_seconds = Some((retry_after_ms.max(1000) / 1000) as u64);
    error
}

/// Opens a session and returns the response with its cookie.
async fn open_session(
    state: &AppState,
    user: &UserInfo,
    now_ms: i64,
    body: impl Serialize,
) -> ApiResult<Response> {
    let cookie = new_session_cookie(state, user, now_ms).await?;
    Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
}

/// Opens a session for `user` and returns its `Set-Cookie` value (API and pages alike).
pub(crate) async fn new_session_cookie(
    state: &AppState,
    user: &UserInfo,
    now_ms: i64,
) -> ApiResult<String> {
    let session_id = auth::random_hex(32);
    let lifetime_ms = i64::from(state.config.auth.session_hours) * 3_600_000;
    state
        .store
        .create_session(
            &user.username,
            &auth::digest(&session_id),
            now_ms,
            now_ms + lifetime_ms,
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
    ClientAddress(address): ClientAddress,
    JsonBody(credentials): JsonBody<Credentials>,
) -> ApiResult<Response> {
    let now_ms = state.clock.now_ms();
    let user = check_credentials(
        &state,
        address,
        &credentials.username,
        credentials.password,
        now_ms,
    )
    .await?;
    let actor = state.store.actor_for(&user).await?;
    let caller = Caller {
        actor,
        user: user.clone(),
        session_hash: None,
        now_ms,
    };
    open_session(&state, &user, now_ms, me_of(&caller)).await
}

/// Checks a user name and password, throttled per user and per address (API and login page
/// alike); a failure is counted and answered with the same message whatever was wrong.
pub(crate) async fn check_credentials(
    state: &AppState,
    address: Option<std::net::IpAddr>,
    username: &str,
    password: String,
    now_ms: i64,
) -> ApiResult<UserInfo> {
    let config = &state.config.auth;
    let window_ms = i64::from(config.failure_window_minutes) * 60_000;
    let window_start = now_ms - window_ms;
    let username = username.trim().to_lowercase();
    if username.len() > 64 || password.len() > auth::MAX_PASSWORD_BYTES {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_credentials",
            "identifiant ou mot de passe incorrect",
        ));
    }
    let user_key = format!("user:{username}");
    let address_key = address.map(|a| format!("address:{a}"));
    // Throttled before the password is even checked: a correct guess after the limit is
    // refused too, so that guessing gains nothing. The attempt is counted as a failure before
    // the check (issue 23, item 9): a burst of parallel guesses is throttled like a sequence.
    let mut keys = vec![(user_key.as_str(), i64::from(config.max_failures_per_user))];
    if let Some(key) = &address_key {
        keys.push((key.as_str(), i64::from(config.max_failures_per_address)));
    }
    let attempt = match state
        .store
        .reserve_login_attempt(&keys, now_ms, window_start)
        .await?
    {
        Ok(ids) => ids,
        Err(oldest) => return Err(too_many(oldest + window_ms - now_ms)),
    };
    let found = state.store.user_for_login(&username).await?;
    let hash = found
        .as_ref()
        .map(|(_, h)| h.clone())
        .unwrap_or_else(|| auth::decoy_hash().to_string());
    let valid = auth::verify_password_blocking(password, hash).await? && found.is_some();
    let Some((user, _)) = found.filter(|_| valid) else {
        // The attempt stays recorded: it was a failure.
        tracing::info!(username, "échec de connexion");
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_credentials",
            "identifiant ou mot de passe incorrect",
        ));
    };
    state.store.forget_login_attempt(&attempt).await?;
    state.store.clear_login_failures(&user_key).await?;
    tracing::info!(username, "connexion");
    Ok(user)
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
    open_session(&state, &user, caller.now_ms, me_of(&caller)).await
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
    auth::check_new_password(&new_password, state.config.auth.min_password_length)?;
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
