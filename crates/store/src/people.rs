//! People and access in the store: user accounts, sessions, API tokens and login throttling.
//! Only hashes of passwords, session ids and token secrets are ever stored.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use serde::Serialize;
use vigie_domain::Reference;
use vigie_domain::access::{Actor, Permission, Principal, SiteBinding, TokenScope, TokenUse};
use vigie_domain::audit::AuditAction;
use vigie_domain::inventory::{ObjectKind, Record, StaffRole};

use crate::System;
use crate::audit::{AuditRecord, append};
use crate::inventory::require as require_permission;
use crate::{Store, StoreError};

/// Staff member or client user.
/// How long a token read from the database is trusted without reading it again. A token
/// revoked (or whose user's password is reset) in this process is refused at once; in another
/// process sharing the database (PostgreSQL), within this delay.
pub const TOKEN_CACHE_MS: i64 = 5_000;
/// Most tokens kept; beyond, the cache starts again empty.
const TOKEN_CACHE_ENTRIES: usize = 100_000;

type TokenHolder = (TokenInfo, UserInfo, Actor);

/// What was recently read for a secret (a token's or a session's hash), with the instant it
/// was read: thousands of agents pushing every minute, and every page load, would otherwise
/// read their token or session and its user each time.
#[derive(Debug)]
pub(crate) struct Recent<V> {
    inner: Mutex<Cached<V>>,
}

impl<V> Default for Recent<V> {
    fn default() -> Self {
        Recent {
            inner: Mutex::new(Cached {
                entries: HashMap::new(),
                generation: 0,
            }),
        }
    }
}

#[derive(Debug)]
struct Cached<V> {
    entries: HashMap<String, (i64, V)>,
    /// Incremented by every revocation: a read that started before one is not kept.
    generation: u64,
}

/// Live tokens recently read, by the hash of their secret.
pub(crate) type TokenCache = Recent<TokenHolder>;
/// Sessions recently read, by the hash of their id, with their expiry.
pub(crate) type SessionCache = Recent<(i64, SessionUser)>;

impl<V: Clone> Recent<V> {
    fn lock(&self) -> std::sync::MutexGuard<'_, Cached<V>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The value read for `key` less than [`TOKEN_CACHE_MS`] ago and still `valid`, or the
    /// generation to hand back to [`Recent::put`].
    fn get(&self, key: &str, now_ms: i64, valid: impl Fn(&V) -> bool) -> Result<V, u64> {
        let cached = self.lock();
        match cached.entries.get(key) {
            Some((read_ms, value))
                if (0..TOKEN_CACHE_MS).contains(&(now_ms - read_ms)) && valid(value) =>
            {
                Ok(value.clone())
            }
            _ => Err(cached.generation),
        }
    }

    fn put(&self, key: &str, now_ms: i64, value: &V, generation: u64) {
        let mut cached = self.lock();
        if cached.generation != generation {
            return;
        }
        if cached.entries.len() >= TOKEN_CACHE_ENTRIES {
            cached.entries.clear();
        }
        cached
            .entries
            .insert(key.to_owned(), (now_ms, value.clone()));
    }

    pub(crate) fn clear(&self) {
        let mut cached = self.lock();
        cached.entries.clear();
        cached.generation += 1;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UserKind {
    Staff,
    Client,
}

/// A user account to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub kind: UserKind,
    /// The staff record this account belongs to (its roles add to `roles`).
    pub staff: Option<Reference>,
    /// A client user's client (exactly one).
    pub client: Option<Reference>,
    pub roles: BTreeSet<StaffRole>,
    pub password_hash: String,
    pub must_change_password: bool,
}

/// A user account as shown (never with its password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserInfo {
    pub username: String,
    pub display_name: String,
    pub kind: UserKind,
    pub staff: Option<Reference>,
    pub client: Option<Reference>,
    pub roles: BTreeSet<StaffRole>,
    pub must_change_password: bool,
    pub created_ms: i64,
    pub password_changed_ms: i64,
    /// When an administrator disabled the account (kept for history, no login, no session,
    /// no token); none while it is enabled.
    pub disabled_ms: Option<i64>,
}

/// Where a session was opened from, as its user is shown it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionOrigin {
    pub address: Option<String>,
    pub user_agent: Option<String>,
}

/// An email to a user about their own account, kept in the outbox (issue 23, item 11): a
/// password changed, by them or by an administrator's reset. `account` names it apart from
/// the outbox's other messages. Its record: [`crate::stored::outgoing`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountNotice {
    pub key: String,
    /// The account's user name.
    pub account: String,
    pub name: String,
    pub address: String,
    pub subject: String,
    pub text: String,
}

/// A session as its user sees it: an opaque id to end it, never its secret nor its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionInfo {
    pub id: String,
    pub created_ms: i64,
    pub last_seen_ms: i64,
    pub expires_ms: i64,
    pub address: Option<String>,
    pub user_agent: Option<String>,
    /// The session of the request that asks.
    pub current: bool,
}

/// How one throttle key (a user name, an address, a known device) limits login attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginLimit {
    /// At most `failures` in `window_ms`; then refused until the oldest leaves the window.
    Window { failures: i64, window_ms: i64 },
    /// `free_failures` in `memory_ms`, then each attempt waits after the last failure
    /// `first_delay_ms`, doubled for each failure beyond, at most `max_delay_ms`: nobody
    /// can hold an account shut for longer than `max_delay_ms` after their last guess.
    Backoff {
        free_failures: i64,
        first_delay_ms: i64,
        max_delay_ms: i64,
        memory_ms: i64,
    },
}

impl LoginLimit {
    /// How far back failures count.
    pub fn period_ms(&self) -> i64 {
        match *self {
            LoginLimit::Window { window_ms, .. } => window_ms,
            LoginLimit::Backoff { memory_ms, .. } => memory_ms,
        }
    }

    /// The instant from which another attempt is taken, after `count` failures in the
    /// period, the oldest at `oldest_ms` and the last at `last_ms`; none if it is taken now.
    pub fn retry_at(&self, count: i64, oldest_ms: i64, last_ms: i64, now_ms: i64) -> Option<i64> {
        let at = match *self {
            LoginLimit::Window {
                failures,
                window_ms,
            } if count >= failures => oldest_ms + window_ms,
            LoginLimit::Backoff {
                free_failures,
                first_delay_ms,
                max_delay_ms,
                ..
            } if count >= free_failures => {
                let doublings = u32::try_from(count - free_failures)
                    .unwrap_or(u32::MAX)
                    .min(40);
                let delay = first_delay_ms
                    .saturating_mul(1i64 << doublings)
                    .min(max_delay_ms);
                last_ms + delay
            }
            _ => return None,
        };
        (at > now_ms).then_some(at)
    }
}

/// The user behind a session, with the actor it acts as.
#[derive(Debug, Clone)]
pub struct SessionUser {
    pub user: UserInfo,
    pub actor: Actor,
}

/// An API token as shown (never with its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    pub id: String,
    pub username: String,
    pub name: String,
    pub scope: TokenScope,
    /// The one site a probe token is bound to; none for the other scopes (and for probe tokens
    /// issued before tokens had a site, which may do nothing).
    pub site: Option<Reference>,
    pub created_ms: i64,
    pub expires_ms: Option<i64>,
    pub revoked_ms: Option<i64>,
    pub last_used_ms: Option<i64>,
}

/// An API token to create.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// Whose token.
    pub username: String,
    /// What it is for, for people.
    pub name: String,
    pub scope: TokenScope,
    /// The site of a probe token (required for `probe`, refused for the other scopes).
    pub site: Option<Reference>,
    pub expires_ms: Option<i64>,
}

/// Most sessions one user may hold; the oldest go first beyond it.
pub const MAX_SESSIONS_PER_USER: i64 = 20;
/// Most live tokens one user may hold.
pub const MAX_TOKENS_PER_USER: i64 = 100;

fn roles_text(roles: &BTreeSet<StaffRole>) -> String {
    roles
        .iter()
        .map(|r| {
            serde_json::to_value(r)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn parse_roles(text: &str) -> BTreeSet<StaffRole> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .filter_map(|s| serde_json::from_value(serde_json::Value::String(s.to_string())).ok())
        .collect()
}

type UserRow = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    i64,
    i64,
    i64,
    Option<i64>,
);
const USER_COLUMNS: &str = "username, display_name, kind, staff_ref, client_ref, roles, must_change_password, created_ms, password_changed_ms, disabled_ms";

fn user_info(row: UserRow) -> Result<UserInfo, StoreError> {
    let (
        username,
        display_name,
        kind,
        staff,
        client,
        roles,
        must_change,
        created_ms,
        password_changed_ms,
        disabled_ms,
    ) = row;
    let reference = |r: Option<String>| {
        r.map(|r| Reference::parse(&r).map_err(|e| StoreError::other(anyhow::anyhow!("{e}"))))
            .transpose()
    };
    Ok(UserInfo {
        username,
        display_name,
        kind: if kind == "client" {
            UserKind::Client
        } else {
            UserKind::Staff
        },
        staff: reference(staff)?,
        client: reference(client)?,
        roles: parse_roles(&roles),
        must_change_password: must_change != 0,
        created_ms,
        password_changed_ms,
        disabled_ms,
    })
}

fn user_json(user: &UserInfo) -> serde_json::Value {
    serde_json::to_value(user).expect("user info serialises")
}

/// A username: 2 to 64 characters among lowercase letters, digits, `.`, `_`, `-` and `@`.
pub fn check_username(username: &str) -> Result<(), StoreError> {
    let ok = (2..=64).contains(&username.len())
        && username.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-' | '@')
        });
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "identifiant « {username} » invalide : 2 à 64 caractères parmi minuscules sans accent, chiffres, « . », « _ », « - » et « @ »"
        )))
    }
}

impl System {
    pub async fn count_users(&self) -> Result<i64, StoreError> {
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users")
            .fetch_one(&self.read)
            .await?;
        Ok(count)
    }
}

impl Store {
    /// Creates a user account. Administrators only (or the console).
    pub async fn create_user(
        &self,
        actor: &Actor,
        new: NewUser,
        now_ms: i64,
    ) -> Result<UserInfo, StoreError> {
        require_permission(actor, Permission::ManageUsers)?;
        check_username(&new.username)?;
        if new.display_name.trim().is_empty() {
            return Err(StoreError::Invalid("le nom affiché est vide".into()));
        }
        match new.kind {
            UserKind::Client if new.client.is_none() => {
                return Err(StoreError::Invalid(
                    "un utilisateur client appartient à exactement un client".into(),
                ));
            }
            UserKind::Client if new.staff.is_some() || !new.roles.is_empty() => {
                return Err(StoreError::Invalid(
                    "un utilisateur client n'a ni fiche personnel ni rôle de l'intégrateur".into(),
                ));
            }
            UserKind::Staff if new.client.is_some() => {
                return Err(StoreError::Invalid(
                    "un membre du personnel n'appartient à aucun client".into(),
                ));
            }
            _ => {}
        }
        let mut transaction = self.write.begin().await?;
        if let Some(client) = &new.client {
            let exists: Option<(String,)> =
                sqlx::query_as("SELECT ref FROM clients WHERE ref = $1")
                    .bind(client.to_string())
                    .fetch_optional(&mut *transaction)
                    .await?;
            if exists.is_none() {
                return Err(StoreError::Invalid(format!("client « {client} » inconnu")));
            }
        }
        if let Some(staff) = &new.staff {
            let exists: Option<(String,)> = sqlx::query_as("SELECT ref FROM staff WHERE ref = $1")
                .bind(staff.to_string())
                .fetch_optional(&mut *transaction)
                .await?;
            if exists.is_none() {
                return Err(StoreError::Invalid(format!(
                    "membre du personnel « {staff} » inconnu"
                )));
            }
        }
        let taken: Option<(String,)> =
            sqlx::query_as("SELECT username FROM users WHERE username = $1")
                .bind(new.username.clone())
                .fetch_optional(&mut *transaction)
                .await?;
        if taken.is_some() {
            return Err(StoreError::Conflict(format!(
                "l'identifiant « {} » est déjà pris",
                new.username
            )));
        }
        sqlx::query(&format!("INSERT INTO users ({USER_COLUMNS}, password_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, NULL, $9)"))
            .bind(new.username.clone())
            .bind(new.display_name.trim().to_string())
            .bind(if new.kind == UserKind::Client { "client" } else { "staff" })
            .bind(new.staff.as_ref().map(|r| r.to_string()))
            .bind(new.client.as_ref().map(|r| r.to_string()))
            .bind(roles_text(&new.roles))
            .bind(i64::from(new.must_change_password))
            .bind(now_ms)
            .bind(new.password_hash.clone())
            .execute(&mut *transaction)
            .await?;
        let user = fetch_user(&mut transaction, &new.username)
            .await?
            .ok_or(StoreError::NotFound)?;
        append(
            &mut transaction,
            &AuditRecord {
                at_ms: now_ms,
                actor: actor.audit_name(),
                action: AuditAction::Create,
                object_kind: "user",
                object_ref: user.username.clone(),
                client: user.client.as_ref().map(|c| c.to_string()),
                before: None,
                after: Some(user_json(&user)),
            },
        )
        .await?;
        transaction.commit().await?;
        Ok(user)
    }

    /// Every account an administrator can see.
    pub async fn list_users(&self, actor: &Actor) -> Result<Vec<UserInfo>, StoreError> {
        require_permission(actor, Permission::ManageUsers)?;
        let rows: Vec<UserRow> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM users ORDER BY username LIMIT {}",
            crate::MAX_PAGE_SIZE * 10
        ))
        .fetch_all(&self.read)
        .await?;
        rows.into_iter().map(user_info).collect()
    }

    /// A user and their password hash, to check a login. No actor: nobody is logged in yet.
    pub async fn user_for_login(
        &self,
        username: &str,
    ) -> Result<Option<(UserInfo, String)>, StoreError> {
        let mut connection = self.read.acquire().await?;
        let Some(user) = fetch_user(&mut connection, username).await? else {
            return Ok(None);
        };
        let (hash,): (String,) =
            sqlx::query_as("SELECT password_hash FROM users WHERE username = $1")
                .bind(username.to_string())
                .fetch_one(&mut *connection)
                .await?;
        Ok(Some((user, hash)))
    }

    /// Sets a user's password (the user themselves or an administrator) and revokes every one
    /// of their sessions, so that a stolen session dies with the old password. Set by anyone
    /// else (an administrator's reset, the console), it also revokes every token of the
    /// account: a reset answers a stolen or forgotten account, and what was issued under it
    /// goes with it.
    pub async fn set_password(
        &self,
        actor: &Actor,
        username: &str,
        password_hash: &str,
        must_change: bool,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        if actor.username() != Some(username) || actor.token.is_some() {
            require_permission(actor, Permission::ManageUsers)?;
        }
        let mut transaction = self.write.begin().await?;
        let before = fetch_user(&mut transaction, username)
            .await?
            .ok_or(StoreError::NotFound)?;
        sqlx::query("UPDATE users SET password_hash = $1, must_change_password = $2, password_changed_ms = $3 WHERE username = $4")
            .bind(password_hash.to_string())
            .bind(i64::from(must_change))
            .bind(now_ms)
            .bind(username.to_string())
            .execute(&mut *transaction)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE username = $1")
            .bind(username.to_string())
            .execute(&mut *transaction)
            .await?;
        let reset = actor.username() != Some(username) || actor.token.is_some();
        if reset {
            revoke_tokens_of(&mut transaction, actor, username, now_ms).await?;
        }
        queue_password_notice(&mut transaction, &before, reset, must_change, now_ms).await?;
        let after = fetch_user(&mut transaction, username)
            .await?
            .ok_or(StoreError::NotFound)?;
        audit_account_change(&mut transaction, actor, &before, &after, now_ms).await?;
        transaction.commit().await?;
        // Every session of the user was closed (and, on a reset, every token revoked).
        self.sessions.clear();
        if reset {
            self.tokens.clear();
        }
        Ok(())
    }

    /// Disables (or enables again) an account, administrators only, never one's own: a
    /// disabled account is kept for history but cannot log in, and its sessions and tokens
    /// end at once (tokens are revoked for good; enabling the account does not revive them).
    pub async fn set_disabled(
        &self,
        actor: &Actor,
        username: &str,
        disabled: bool,
        now_ms: i64,
    ) -> Result<UserInfo, StoreError> {
        require_permission(actor, Permission::ManageUsers)?;
        if disabled && actor.username() == Some(username) {
            return Err(StoreError::Invalid(
                "un administrateur ne désactive pas son propre compte".into(),
            ));
        }
        let mut transaction = self.write.begin().await?;
        let before = fetch_user(&mut transaction, username)
            .await?
            .ok_or(StoreError::NotFound)?;
        if before.disabled_ms.is_some() == disabled {
            return Ok(before);
        }
        sqlx::query("UPDATE users SET disabled_ms = $1 WHERE username = $2")
            .bind(disabled.then_some(now_ms))
            .bind(username.to_string())
            .execute(&mut *transaction)
            .await?;
        if disabled {
            sqlx::query("DELETE FROM sessions WHERE username = $1")
                .bind(username.to_string())
                .execute(&mut *transaction)
                .await?;
            revoke_tokens_of(&mut transaction, actor, username, now_ms).await?;
        }
        let after = fetch_user(&mut transaction, username)
            .await?
            .ok_or(StoreError::NotFound)?;
        audit_account_change(&mut transaction, actor, &before, &after, now_ms).await?;
        transaction.commit().await?;
        self.sessions.clear();
        self.tokens.clear();
        Ok(after)
    }

    /// The actor a user acts as: a client user sees its client; a staff user has its own
    /// roles plus those of its staff record.
    pub async fn actor_for(&self, user: &UserInfo) -> Result<Actor, StoreError> {
        let principal = match (&user.kind, &user.client) {
            (UserKind::Client, Some(client)) => Principal::ClientUser {
                username: user.username.clone(),
                client: client.clone(),
            },
            (UserKind::Client, None) => {
                return Err(StoreError::other(anyhow::anyhow!(
                    "utilisateur client sans client"
                )));
            }
            (UserKind::Staff, _) => {
                let mut roles = user.roles.clone();
                if let Some(staff) = &user.staff {
                    let row: Option<(String,)> =
                        sqlx::query_as("SELECT record FROM staff WHERE ref = $1")
                            .bind(staff.to_string())
                            .fetch_optional(&self.read)
                            .await?;
                    if let Some((json,)) = row {
                        let value = serde_json::from_str(&json).map_err(StoreError::other)?;
                        if let Record::Staff(s) = Record::from_json(ObjectKind::Staff, value)
                            .map_err(StoreError::other)?
                        {
                            roles.extend(s.roles);
                        }
                    }
                }
                Principal::Staff {
                    username: user.username.clone(),
                    staff: user.staff.clone(),
                    roles,
                }
            }
        };
        Ok(Actor {
            principal,
            token: None,
        })
    }

    /// Opens a session; beyond [`MAX_SESSIONS_PER_USER`] the oldest are closed.
    pub async fn create_session(
        &self,
        username: &str,
        id_hash: &str,
        now_ms: i64,
        expires_ms: i64,
    ) -> Result<(), StoreError> {
        self.create_session_from(
            username,
            id_hash,
            now_ms,
            expires_ms,
            &SessionOrigin::default(),
        )
        .await
    }

    /// [`Store::create_session`], noting where from (shown to the user in their sessions).
    pub async fn create_session_from(
        &self,
        username: &str,
        id_hash: &str,
        now_ms: i64,
        expires_ms: i64,
        origin: &SessionOrigin,
    ) -> Result<(), StoreError> {
        /// Longest user agent kept: enough to recognise a browser.
        const MAX_USER_AGENT_CHARS: usize = 200;
        let mut transaction = self.write.begin().await?;
        sqlx::query("DELETE FROM sessions WHERE expires_ms <= $1")
            .bind(now_ms)
            .execute(&mut *transaction)
            .await?;
        let mut public_id = [0u8; 8];
        getrandom::getrandom(&mut public_id)
            .map_err(|e| StoreError::other(anyhow::anyhow!("aléa indisponible : {e}")))?;
        sqlx::query("INSERT INTO sessions (id_hash, username, created_ms, expires_ms, id, last_seen_ms, address, user_agent) VALUES ($1, $2, $3, $4, $5, $3, $6, $7)")
            .bind(id_hash.to_string())
            .bind(username.to_string())
            .bind(now_ms)
            .bind(expires_ms)
            .bind(hex::encode(public_id))
            .bind(origin.address.clone())
            .bind(
                origin
                    .user_agent
                    .as_ref()
                    .map(|a| a.chars().take(MAX_USER_AGENT_CHARS).collect::<String>()),
            )
            .execute(&mut *transaction)
            .await?;
        sqlx::query(
            "DELETE FROM sessions WHERE username = $1 AND id_hash NOT IN (SELECT id_hash FROM sessions WHERE username = $1 ORDER BY created_ms DESC, id_hash LIMIT $2)",
        )
        .bind(username.to_string())
        .bind(MAX_SESSIONS_PER_USER)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        // The user's oldest sessions beyond the bound were closed.
        self.sessions.clear();
        Ok(())
    }

    /// The user of a live session.
    pub async fn session_user(
        &self,
        id_hash: &str,
        now_ms: i64,
    ) -> Result<Option<SessionUser>, StoreError> {
        // A page load reads its session: a few seconds' cache spares three queries each time.
        // A session closed in this process is forgotten at once, in another within
        // TOKEN_CACHE_MS, as a token is.
        let generation = match self
            .sessions
            .get(id_hash, now_ms, |(expires, _)| *expires > now_ms)
        {
            Ok((_, found)) => return Ok(Some(found)),
            Err(generation) => generation,
        };
        let row: Option<(String, i64, Option<i64>)> = sqlx::query_as(
            "SELECT username, expires_ms, last_seen_ms FROM sessions WHERE id_hash = $1 AND expires_ms > $2",
        )
        .bind(id_hash.to_string())
        .bind(now_ms)
        .fetch_optional(&self.read)
        .await?;
        let Some((username, expires_ms, last_seen_ms)) = row else {
            return Ok(None);
        };
        let mut connection = self.read.acquire().await?;
        let Some(user) = fetch_user(&mut connection, &username).await? else {
            return Ok(None);
        };
        drop(connection);
        if user.disabled_ms.is_some() {
            return Ok(None);
        }
        // Noting when a session was last seen once a minute is enough (as a token's last use).
        if last_seen_ms.is_none_or(|last| now_ms - last > 60_000) {
            sqlx::query("UPDATE sessions SET last_seen_ms = $1 WHERE id_hash = $2")
                .bind(now_ms)
                .bind(id_hash.to_string())
                .execute(&self.write)
                .await?;
        }
        let actor = self.actor_for(&user).await?;
        let found = SessionUser { user, actor };
        self.sessions
            .put(id_hash, now_ms, &(expires_ms, found.clone()), generation);
        Ok(Some(found))
    }

    /// The live sessions of `username`, newest first; `current_hash` marks the caller's own.
    pub async fn sessions_of(
        &self,
        username: &str,
        current_hash: Option<&str>,
        now_ms: i64,
    ) -> Result<Vec<SessionInfo>, StoreError> {
        type Row = (
            String,
            Option<String>,
            i64,
            Option<i64>,
            i64,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<Row> = sqlx::query_as(&format!(
            "SELECT id_hash, id, created_ms, last_seen_ms, expires_ms, address, user_agent FROM sessions \
             WHERE username = $1 AND expires_ms > $2 ORDER BY created_ms DESC, id LIMIT {MAX_SESSIONS_PER_USER}"
        ))
        .bind(username.to_string())
        .bind(now_ms)
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(hash, id, created_ms, last_seen_ms, expires_ms, address, user_agent)| {
                    SessionInfo {
                        id: id.unwrap_or_default(),
                        created_ms,
                        last_seen_ms: last_seen_ms.unwrap_or(created_ms),
                        expires_ms,
                        address,
                        user_agent,
                        current: current_hash == Some(hash.as_str()),
                    }
                },
            )
            .collect())
    }

    /// Ends one session of `username` by its opaque id; `NotFound` for another user's.
    pub async fn end_session(&self, username: &str, id: &str) -> Result<(), StoreError> {
        let done = sqlx::query("DELETE FROM sessions WHERE username = $1 AND id = $2")
            .bind(username.to_string())
            .bind(id.to_string())
            .execute(&self.write)
            .await?;
        self.sessions.clear();
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Ends every session of `username` but the one whose hash is `keep_hash`; how many ended.
    pub async fn end_other_sessions(
        &self,
        username: &str,
        keep_hash: &str,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM sessions WHERE username = $1 AND id_hash <> $2")
            .bind(username.to_string())
            .bind(keep_hash.to_string())
            .execute(&self.write)
            .await?;
        self.sessions.clear();
        Ok(done.rows_affected())
    }

    pub async fn delete_session(&self, id_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash.to_string())
            .execute(&mut *self.write.acquire().await?)
            .await?;
        self.sessions.clear();
        Ok(())
    }

    /// Records a failed login under `key` (a username or an address) and forgets failures older
    /// than `window_start_ms`, so that the table stays bounded.
    pub async fn record_login_failure(
        &self,
        key: &str,
        now_ms: i64,
        window_start_ms: i64,
    ) -> Result<(), StoreError> {
        let mut transaction = self.write.begin().await?;
        sqlx::query("DELETE FROM login_failures WHERE at_ms < $1")
            .bind(window_start_ms)
            .execute(&mut *transaction)
            .await?;
        sqlx::query("INSERT INTO login_failures (throttle_key, at_ms) VALUES ($1, $2)")
            .bind(key.to_string())
            .bind(now_ms)
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(())
    }

    /// A login attempt counted **before** its password is checked (issue 23, item 9), so that a
    /// burst of parallel guesses is throttled like a sequence: if every `(key, limit)` (a user
    /// name, an address, a known device) takes an attempt now given its failures in its
    /// period ([`LoginLimit::retry_at`]), the attempt is recorded now as a failure under each
    /// key, and the ids returned let a right password forget it
    /// ([`Store::forget_login_attempt`]). Otherwise nothing is recorded and the latest instant
    /// from which the keys take an attempt again is returned. Attempts are counted one at a
    /// time (SQLite's single writer; an advisory lock on PostgreSQL). Failures older than the
    /// longest period are forgotten, so that the table stays bounded.
    pub async fn reserve_login_attempt(
        &self,
        keys: &[(&str, LoginLimit)],
        now_ms: i64,
    ) -> Result<Result<Vec<i64>, i64>, StoreError> {
        let longest_ms = keys.iter().map(|(_, l)| l.period_ms()).max().unwrap_or(0);
        /// Arbitrary, fixed key of the PostgreSQL advisory lock that orders login attempts.
        const LOGIN_LOCK_KEY: i64 = 0x5649_4749_4c4f;
        let mut transaction = self.write.begin().await?;
        if !crate::bulk::is_sqlite(&transaction) {
            sqlx::query(&format!("SELECT pg_advisory_xact_lock({LOGIN_LOCK_KEY})"))
                .execute(&mut *transaction)
                .await?;
        }
        sqlx::query("DELETE FROM login_failures WHERE at_ms < $1")
            .bind(now_ms - longest_ms)
            .execute(&mut *transaction)
            .await?;
        let mut refused_until = None;
        for (key, limit) in keys {
            let (count, oldest, last): (i64, Option<i64>, Option<i64>) = sqlx::query_as(
                "SELECT COUNT(*), MIN(at_ms), MAX(at_ms) FROM login_failures WHERE throttle_key = $1 AND at_ms >= $2",
            )
            .bind(key.to_string())
            .bind(now_ms - limit.period_ms())
            .fetch_one(&mut *transaction)
            .await?;
            let retry_at = limit.retry_at(
                count,
                oldest.unwrap_or(now_ms),
                last.unwrap_or(now_ms),
                now_ms,
            );
            refused_until = refused_until.max(retry_at);
        }
        if let Some(until) = refused_until {
            return Ok(Err(until));
        }
        let mut ids = Vec::with_capacity(keys.len());
        for (key, _) in keys {
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO login_failures (throttle_key, at_ms) VALUES ($1, $2) RETURNING id",
            )
            .bind(key.to_string())
            .bind(now_ms)
            .fetch_one(&mut *transaction)
            .await?;
            ids.push(id);
        }
        transaction.commit().await?;
        Ok(Ok(ids))
    }

    /// The attempt `ids` reserved was a right password: it is not a failure.
    pub async fn forget_login_attempt(&self, ids: &[i64]) -> Result<(), StoreError> {
        for id in ids {
            sqlx::query("DELETE FROM login_failures WHERE id = $1")
                .bind(*id)
                .execute(&self.write)
                .await?;
        }
        Ok(())
    }

    /// Failures under `key` since `window_start_ms`, and the oldest of them.
    pub async fn login_failures(
        &self,
        key: &str,
        window_start_ms: i64,
    ) -> Result<(i64, Option<i64>), StoreError> {
        let row: (i64, Option<i64>) = sqlx::query_as("SELECT COUNT(*), MIN(at_ms) FROM login_failures WHERE throttle_key = $1 AND at_ms >= $2")
            .bind(key.to_string())
            .bind(window_start_ms)
            .fetch_one(&self.read)
            .await?;
        Ok(row)
    }

    pub async fn clear_login_failures(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_failures WHERE throttle_key = $1")
            .bind(key.to_string())
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Creates an API token (`id` and the hash of its secret drawn by the caller) for
    /// `new.username`: themselves, or anyone for an administrator. A probe token is bound to one
    /// existing site and belongs to the integrator's staff.
    pub async fn create_token(
        &self,
        actor: &Actor,
        new: &NewToken,
        id: &str,
        secret_hash: &str,
        now_ms: i64,
    ) -> Result<TokenInfo, StoreError> {
        let NewToken {
            username,
            name,
            scope,
            site,
            expires_ms,
        } = new;
        let (username, scope, expires_ms) = (username.as_str(), *scope, *expires_ms);
        if actor.username() != Some(username) || actor.token.is_some() {
            require_permission(actor, Permission::ManageUsers)?;
        }
        if name.trim().is_empty() || name.chars().count() > 200 {
            return Err(StoreError::Invalid(
                "le nom du jeton doit faire de 1 à 200 caractères".into(),
            ));
        }
        scope
            .check_site(site.as_ref())
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        let mut transaction = self.write.begin().await?;
        let user = fetch_user(&mut transaction, username)
            .await?
            .ok_or(StoreError::NotFound)?;
        // The client of the probe's site, kept with the token (see `SiteBinding`).
        let site_client = match site {
            None => None,
            Some(_) if user.kind != UserKind::Staff => {
                return Err(StoreError::Invalid(
                    "un jeton de sonde est réservé au personnel de l'intégrateur : une sonde envoie des observations, ce que ne fait pas un utilisateur client".into(),
                ));
            }
            Some(site) => {
                let client: Option<(String,)> =
                    sqlx::query_as("SELECT client_ref FROM sites WHERE ref = $1")
                        .bind(site.to_string())
                        .fetch_optional(&mut *transaction)
                        .await?;
                let Some((client,)) = client else {
                    return Err(StoreError::Invalid(format!("site « {site} » inconnu")));
                };
                Some(client)
            }
        };
        let (live,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM api_tokens WHERE username = $1 AND revoked_ms IS NULL",
        )
        .bind(username.to_string())
        .fetch_one(&mut *transaction)
        .await?;
        if live >= MAX_TOKENS_PER_USER {
            return Err(StoreError::Conflict(format!(
                "au plus {MAX_TOKENS_PER_USER} jetons actifs par utilisateur : révoquez-en d'abord"
            )));
        }
        sqlx::query("INSERT INTO api_tokens (id, username, name, scope, secret_hash, created_ms, expires_ms, site_ref, site_client_ref) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
            .bind(id.to_string())
            .bind(username.to_string())
            .bind(name.trim().to_string())
            .bind(scope.key())
            .bind(secret_hash.to_string())
            .bind(now_ms)
            .bind(expires_ms)
            .bind(site.as_ref().map(|s| s.to_string()))
            .bind(site_client.clone())
            .execute(&mut *transaction)
            .await?;
        let token = fetch_token(&mut transaction, "id", id)
            .await?
            .ok_or(StoreError::NotFound)?
            .0;
        append(
            &mut transaction,
            &AuditRecord {
                at_ms: now_ms,
                actor: actor.audit_name(),
                action: AuditAction::Create,
                object_kind: "token",
                object_ref: token.id.clone(),
                // A probe token is also its site's client's business.
                client: user.client.as_ref().map(|c| c.to_string()).or(site_client),
                before: None,
                after: Some(serde_json::to_value(&token).expect("token info serialises")),
            },
        )
        .await?;
        transaction.commit().await?;
        Ok(token)
    }

    /// The actor behind a token secret's hash, if the token is live; notes its last use.
    pub async fn token_actor(
        &self,
        secret_hash: &str,
        now_ms: i64,
    ) -> Result<Option<(TokenInfo, UserInfo, Actor)>, StoreError> {
        let generation = match self.tokens.get(secret_hash, now_ms, |holder| {
            holder.0.expires_ms.is_none_or(|e| e > now_ms)
        }) {
            Ok(holder) => return Ok(Some(holder)),
            Err(generation) => generation,
        };
        let mut connection = self.read.acquire().await?;
        let Some((token, site)) = fetch_token(&mut connection, "secret_hash", secret_hash).await?
        else {
            return Ok(None);
        };
        if token.revoked_ms.is_some() || token.expires_ms.is_some_and(|e| e <= now_ms) {
            return Ok(None);
        }
        let Some(user) = fetch_user(&mut connection, &token.username).await? else {
            return Ok(None);
        };
        drop(connection);
        if user.disabled_ms.is_some() {
            return Ok(None);
        }
        // Noting the last use once a minute is enough and keeps reads from becoming writes.
        if token.last_used_ms.is_none_or(|last| now_ms - last > 60_000) {
            sqlx::query("UPDATE api_tokens SET last_used_ms = $1 WHERE id = $2")
                .bind(now_ms)
                .bind(token.id.clone())
                .execute(&self.write)
                .await?;
        }
        let mut actor = self.actor_for(&user).await?;
        actor.token = Some(TokenUse {
            id: token.id.clone(),
            scope: token.scope,
            site,
        });
        let holder = (token, user, actor);
        self.tokens.put(secret_hash, now_ms, &holder, generation);
        Ok(Some(holder))
    }

    /// Tokens of one user (themselves, or any for an administrator; none for a probe token).
    pub async fn list_tokens(
        &self,
        actor: &Actor,
        username: &str,
    ) -> Result<Vec<TokenInfo>, StoreError> {
        if !actor.may_manage_tokens_of(username) {
            return Err(StoreError::Forbidden(
                "vos droits ne permettent pas de lire les jetons de ce compte".into(),
            ));
        }
        let rows: Vec<TokenRow> = sqlx::query_as(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE username = $1 ORDER BY created_ms, id"
        ))
        .bind(username.to_string())
        .fetch_all(&self.read)
        .await?;
        rows.into_iter()
            .map(|row| token_info(row).map(|(token, _)| token))
            .collect()
    }

    /// Revokes a token (its holder or an administrator; not through a probe token).
    pub async fn revoke_token(
        &self,
        actor: &Actor,
        id: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let mut transaction = self.write.begin().await?;
        let (before, site) = fetch_token(&mut transaction, "id", id)
            .await?
            .ok_or(StoreError::NotFound)?;
        if !actor.may_manage_tokens_of(&before.username) {
            return Err(StoreError::NotFound);
        }
        sqlx::query("UPDATE api_tokens SET revoked_ms = $1 WHERE id = $2 AND revoked_ms IS NULL")
            .bind(now_ms)
            .bind(id.to_string())
            .execute(&mut *transaction)
            .await?;
        let (after, _) = fetch_token(&mut transaction, "id", id)
            .await?
            .ok_or(StoreError::NotFound)?;
        append(
            &mut transaction,
            &AuditRecord {
                at_ms: now_ms,
                actor: actor.audit_name(),
                action: AuditAction::Update,
                object_kind: "token",
                object_ref: id.to_string(),
                client: site.map(|s| s.client.to_string()),
                before: Some(serde_json::to_value(&before).expect("token info serialises")),
                after: Some(serde_json::to_value(&after).expect("token info serialises")),
            },
        )
        .await?;
        transaction.commit().await?;
        self.tokens.clear();
        Ok(())
    }
}

/// Queues, in the outbox, the email that tells a user their password changed, if their account
/// has an address (its staff record's email; a client user's account has none). The change
/// itself is in the audit trail either way.
async fn queue_password_notice(
    connection: &mut sqlx::AnyConnection,
    user: &UserInfo,
    reset: bool,
    one_time: bool,
    now_ms: i64,
) -> Result<(), StoreError> {
    let Some(staff) = &user.staff else {
        return Ok(());
    };
    let row: Option<(String,)> = sqlx::query_as("SELECT record FROM staff WHERE ref = $1")
        .bind(staff.to_string())
        .fetch_optional(&mut *connection)
        .await?;
    let Some((json,)) = row else {
        return Ok(());
    };
    let value = serde_json::from_str(&json).map_err(StoreError::other)?;
    let Record::Staff(record) =
        Record::from_json(ObjectKind::Staff, value).map_err(StoreError::other)?
    else {
        return Ok(());
    };
    let Some(address) = record.email else {
        return Ok(());
    };
    let zone = vigie_domain::TimeZoneName::paris();
    let date = vigie_domain::french::format_date(now_ms, &zone.time_zone());
    let how = match (reset, one_time) {
        (true, true) => {
            "a été remplacé par un mot de passe à usage unique, donné par un administrateur"
        }
        (true, false) => "a été remplacé par un administrateur",
        (false, _) => "a été changé depuis votre session",
    };
    let notice = AccountNotice {
        key: format!("account/{}/password/{now_ms}", user.username),
        account: user.username.clone(),
        name: user.display_name.clone(),
        address: address.to_string(),
        subject: "Vigie : le mot de passe de votre compte a changé".into(),
        text: format!(
            "Bonjour {},\n\nLe mot de passe de votre compte Vigie « {} » {how}, le {date}. Vos sessions ouvertes ont été fermées.\n\nSi vous n'êtes pas à l'origine de ce changement, prévenez sans attendre un administrateur de Vigie.\n",
            user.display_name, user.username
        ),
    };
    let record = crate::stored::outgoing::encode(&crate::notifications::Outgoing::Account(
        Box::new(notice.clone()),
    ))?;
    sqlx::query(
        "INSERT INTO notifications (key, alarm_id, ticket_number, client_ref, severity, step, recipient, channel, address, status, attempts, due_ms, created_ms, record) \
         VALUES ($1, NULL, NULL, NULL, 'account', 'password_changed', $2, 'email', $3, 'pending', 0, $4, $4, $5) ON CONFLICT (key) DO NOTHING",
    )
    .bind(notice.key)
    .bind(notice.account)
    .bind(notice.address)
    .bind(now_ms)
    .bind(record)
    .execute(&mut *connection)
    .await?;
    Ok(())
}

/// The audit entry of a changed account (password, disabling), before and after.
async fn audit_account_change(
    connection: &mut sqlx::AnyConnection,
    actor: &Actor,
    before: &UserInfo,
    after: &UserInfo,
    now_ms: i64,
) -> Result<(), StoreError> {
    append(
        connection,
        &AuditRecord {
            at_ms: now_ms,
            actor: actor.audit_name(),
            action: AuditAction::Update,
            object_kind: "user",
            object_ref: after.username.clone(),
            client: after.client.as_ref().map(|c| c.to_string()),
            before: Some(user_json(before)),
            after: Some(user_json(after)),
        },
    )
    .await
}

/// Revokes every live token of `username`, each with its audit entry (a reset, a disable).
async fn revoke_tokens_of(
    connection: &mut sqlx::AnyConnection,
    actor: &Actor,
    username: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    let rows: Vec<TokenRow> = sqlx::query_as(&format!(
        "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE username = $1 AND revoked_ms IS NULL"
    ))
    .bind(username.to_string())
    .fetch_all(&mut *connection)
    .await?;
    for row in rows {
        let (before, site) = token_info(row)?;
        sqlx::query("UPDATE api_tokens SET revoked_ms = $1 WHERE id = $2")
            .bind(now_ms)
            .bind(before.id.clone())
            .execute(&mut *connection)
            .await?;
        let after = TokenInfo {
            revoked_ms: Some(now_ms),
            ..before.clone()
        };
        append(
            &mut *connection,
            &AuditRecord {
                at_ms: now_ms,
                actor: actor.audit_name(),
                action: AuditAction::Update,
                object_kind: "token",
                object_ref: before.id.clone(),
                client: site.map(|s| s.client.to_string()),
                before: Some(serde_json::to_value(&before).expect("token info serialises")),
                after: Some(serde_json::to_value(&after).expect("token info serialises")),
            },
        )
        .await?;
    }
    Ok(())
}

async fn fetch_user(
    connection: &mut sqlx::AnyConnection,
    username: &str,
) -> Result<Option<UserInfo>, StoreError> {
    let row: Option<UserRow> = sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS} FROM users WHERE username = $1"
    ))
    .bind(username.to_string())
    .fetch_optional(&mut *connection)
    .await?;
    row.map(user_info).transpose()
}

type TokenRow = (
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<String>,
);
const TOKEN_COLUMNS: &str = "id, username, name, scope, created_ms, expires_ms, revoked_ms, last_used_ms, site_ref, site_client_ref";

/// A token as shown, and the site it is bound to with that site's client.
fn token_info(row: TokenRow) -> Result<(TokenInfo, Option<SiteBinding>), StoreError> {
    let (
        id,
        username,
        name,
        scope,
        created_ms,
        expires_ms,
        revoked_ms,
        last_used_ms,
        site,
        site_client,
    ) = row;
    let scope = TokenScope::parse(&scope)
        .ok_or_else(|| StoreError::other(anyhow::anyhow!("portée de jeton inconnue {scope}")))?;
    let reference =
        |r: String| Reference::parse(&r).map_err(|e| StoreError::other(anyhow::anyhow!("{e}")));
    let binding = match (site, site_client) {
        (Some(site), Some(client)) => Some(SiteBinding {
            site: reference(site)?,
            client: reference(client)?,
        }),
        _ => None,
    };
    Ok((
        TokenInfo {
            id,
            username,
            name,
            scope,
            site: binding.as_ref().map(|b| b.site.clone()),
            created_ms,
            expires_ms,
            revoked_ms,
            last_used_ms,
        },
        binding,
    ))
}

/// A token by `column` (`id` or `secret_hash`, both unique), with its site binding.
async fn fetch_token(
    connection: &mut sqlx::AnyConnection,
    column: &'static str,
    value: &str,
) -> Result<Option<(TokenInfo, Option<SiteBinding>)>, StoreError> {
    let row: Option<TokenRow> = sqlx::query_as(&format!(
        "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE {column} = $1"
    ))
    .bind(value.to_string())
    .fetch_optional(&mut *connection)
    .await?;
    row.map(token_info).transpose()
}
