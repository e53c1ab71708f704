//! Logging in and out of the pages, and changing a one-time password before anything else.
//! The same checks as the API's (`api/people.rs`: throttling, one answer for every failure);
//! the session is the same cookie.

use axum::extract::{Form, State};
use axum::http::{StatusCode, header};
use axum::response::Html;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Router, extract::Query};
use maud::html;
use serde::Deserialize;

use crate::AppState;
use crate::api::ClientAddress;
use crate::api::people::{change_own_password, check_credentials, new_session_cookie};
use crate::auth;
use crate::web::{PageError, PageResult, Viewer, document};

pub const PASSWORD_PATH: &str = "/mot-de-passe";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/connexion", get(login_page).post(login))
        .route("/deconnexion", post(logout))
        .route(PASSWORD_PATH, get(password_page).post(change_password))
}

/// Where to go after logging in: a path of this site only, never another site's address.
fn local_path(next: Option<&str>) -> &str {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path
        }
        _ => "/",
    }
}

#[derive(Debug, Deserialize)]
struct LoginQuery {
    suite: Option<String>,
}

fn login_form(state: &AppState, next: &str, username: &str, error: Option<&str>) -> Html<String> {
    let body = html! {
        main.narrow {
            h1 { "Connexion à Vigie" }
            @if let Some(error) = error { p.error role="alert" { (error) } }
            form.stack.panel method="post" action="/connexion" {
                input type="hidden" name="suite" value=(next);
                label for="username" { "Identifiant" }
                input #username type="text" name="username" value=(username) autocomplete="username" required autofocus;
                label for="password" { "Mot de passe" }
                input #password type="password" name="password" autocomplete="current-password" required;
                div.actions { button type="submit" { "Se connecter" } }
            }
            @if state.config.demo {
                p.notice { "Démonstration : les comptes sont affichés dans le terminal qui a lancé « vigie demo »." }
            }
        }
    };
    document("Connexion", state.config.demo, None, body)
}

async fn login_page(State(state): State<AppState>, Query(query): Query<LoginQuery>) -> Response {
    let next = local_path(query.suite.as_deref());
    login_form(&state, next, "", None).into_response()
}

#[derive(Debug, Deserialize)]
struct Credentials {
    username: String,
    password: String,
    #[serde(default)]
    suite: String,
}

async fn login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    Form(form): Form<Credentials>,
) -> Response {
    let now_ms = state.clock.now_ms();
    let next = local_path(Some(&form.suite)).to_string();
    let refused = |status: StatusCode, message: &str| {
        (
            status,
            login_form(&state, &next, &form.username, Some(message)),
        )
            .into_response()
    };
    let user = match check_credentials(
        &state,
        address,
        &form.username,
        form.password.clone(),
        now_ms,
    )
    .await
    {
        Ok(user) => user,
        Err(error) => return refused(error.status, &error.message),
    };
    let cookie = match new_session_cookie(&state, &user, now_ms).await {
        Ok(cookie) => cookie,
        Err(error) => return PageError::from(error).into_response(),
    };
    let target = if user.must_change_password {
        PASSWORD_PATH.to_string()
    } else {
        next
    };
    ([(header::SET_COOKIE, cookie)], Redirect::to(&target)).into_response()
}

#[derive(Debug, Deserialize)]
struct Logout {
    #[serde(default)]
    csrf: String,
}

async fn logout(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<Logout>,
) -> PageResult {
    viewer.check_form(&form.csrf)?;
    if let Some(hash) = &viewer.caller.session_hash {
        state.store.delete_session(hash).await?;
    }
    Ok((
        [(
            header::SET_COOKIE,
            auth::session_cookie(None, 0, state.config.secure_cookies()),
        )],
        Redirect::to("/connexion"),
    )
        .into_response())
}

fn password_form(state: &AppState, viewer: &Viewer, error: Option<&str>) -> Html<String> {
    let body = html! {
        main.narrow {
            h1 { "Changer de mot de passe" }
            @if viewer.caller.user.must_change_password {
                p { "Votre mot de passe est à usage unique : choisissez-en un nouveau pour continuer." }
            }
            @if let Some(error) = error { p.error role="alert" { (error) } }
            form.stack.panel method="post" action=(PASSWORD_PATH) {
                input type="hidden" name="csrf" value=(viewer.csrf);
                label for="current" { "Mot de passe actuel" }
                input #current type="password" name="current_password" autocomplete="current-password" required;
                label for="new" { "Nouveau mot de passe (" (state.config.auth.min_password_length) " caractères au moins)" }
                input #new type="password" name="new_password" autocomplete="new-password" required;
                div.actions { button type="submit" { "Changer le mot de passe" } }
            }
        }
    };
    document("Mot de passe", state.config.demo, None, body)
}

async fn password_page(State(state): State<AppState>, viewer: Viewer) -> Response {
    password_form(&state, &viewer, None).into_response()
}

#[derive(Debug, Deserialize)]
struct PasswordChange {
    #[serde(default)]
    csrf: String,
    current_password: String,
    new_password: String,
}

async fn change_password(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<PasswordChange>,
) -> PageResult {
    viewer.check_form(&form.csrf)?;
    let user = match change_own_password(
        &state,
        &viewer.caller,
        form.current_password,
        form.new_password,
    )
    .await
    {
        Ok(user) => user,
        Err(error) => {
            return Ok((
                error.status,
                password_form(&state, &viewer, Some(&error.message)),
            )
                .into_response());
        }
    };
    let cookie = new_session_cookie(&state, &user, viewer.caller.now_ms).await?;
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response())
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn only_local_paths_are_followed_after_login() {
        assert_eq!(local_path(Some("/console/alarmes/4")), "/console/alarmes/4");
        assert_eq!(local_path(Some("//evil.example/")), "/");
        assert_eq!(local_path(Some("https://evil.example/")), "/");
        assert_eq!(local_path(Some("/\\evil.example")), "/");
        assert_eq!(local_path(None), "/");
    }
}
