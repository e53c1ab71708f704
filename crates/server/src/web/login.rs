//! Logging in and out of the pages, changing a one-time password before anything else, and
//! one's own account: the sessions open in one's name, each of which one may end (issue 23,
//! item 11).
//! The same checks as the API's (`api/people.rs`: throttling, one answer for every failure);
//! the session is the same cookie.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::Html;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::html;
use serde::Deserialize;

use crate::AppState;
use crate::api::LoginOrigin;
use crate::api::people::{change_own_password, check_credentials, new_session_cookie};
use crate::auth;
use crate::error::ApiError;
use crate::web::i18n::{Lang, t, tf};
use crate::web::{PageError, PageResult, Viewer, document, language_switch, local_path};
use crate::web::{PageForm, PageQuery};

pub const PASSWORD_PATH: &str = "/mot-de-passe";
pub const ACCOUNT_PATH: &str = "/compte";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/connexion", get(login_page).post(login))
        .route("/deconnexion", post(logout))
        .route(PASSWORD_PATH, get(password_page).post(change_password))
        .route(ACCOUNT_PATH, get(account_page))
        .route("/compte/sessions/{id}/fin", post(end_session))
        .route("/compte/sessions/autres/fin", post(end_other_sessions))
}

#[derive(Debug, Deserialize)]
struct LoginQuery {
    suite: Option<String>,
}

fn login_form(
    state: &AppState,
    lang: Lang,
    next: &str,
    username: &str,
    error: Option<&str>,
) -> Html<String> {
    // The language switch comes back here, still going on to `next` afterwards.
    let here = if next == "/" {
        "/connexion".to_string()
    } else {
        format!("/connexion?suite={}", crate::web::render::url_encode(next))
    };
    let body = html! {
        main.narrow {
            p.switch { (language_switch(lang, &here)) }
            h1 { (t(lang, "Connexion à Vigie")) }
            @if let Some(error) = error { p.error role="alert" { (error) } }
            form.stack.panel method="post" action="/connexion" {
                input type="hidden" name="suite" value=(next);
                label for="username" { (t(lang, "Identifiant")) }
                input #username type="text" name="username" value=(username) autocomplete="username" required autofocus;
                label for="password" { (t(lang, "Mot de passe")) }
                input #password type="password" name="password" autocomplete="current-password" required;
                div.actions { button type="submit" { (t(lang, "Se connecter")) } }
            }
            @if state.config.demo {
                p.notice { (t(lang, "Démonstration : les comptes sont affichés dans le terminal qui a lancé « vigie demo ».")) }
            }
        }
    };
    document(lang, t(lang, "Connexion"), state.config.demo, None, body)
}

/// A refused login or password change in the viewer's language, for the refusals these
/// pages know; any other is the API's own words (French).
fn refusal(lang: Lang, error: &ApiError, on_login: bool) -> String {
    match error.code {
        "bad_credentials" if on_login => t(lang, "identifiant ou mot de passe incorrect").into(),
        "bad_credentials" => t(lang, "mot de passe actuel incorrect").into(),
        "too_many_attempts" => t(lang, "trop d'échecs de connexion : réessayez plus tard").into(),
        "one_time_password_expired" => t(
            lang,
            "ce mot de passe à usage unique a expiré : demandez-en un nouveau à un administrateur",
        )
        .into(),
        _ => error.message.clone(),
    }
}

async fn login_page(
    State(state): State<AppState>,
    lang: Lang,
    PageQuery(query): PageQuery<LoginQuery>,
) -> Response {
    let next = local_path(query.suite.as_deref());
    login_form(&state, lang, next, "", None).into_response()
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
    lang: Lang,
    origin: LoginOrigin,
    PageForm(form): PageForm<Credentials>,
) -> Response {
    let now_ms = state.clock.now_ms();
    let next = local_path(Some(&form.suite)).to_string();
    let refused = |status: StatusCode, message: &str| {
        (
            status,
            login_form(&state, lang, &next, &form.username, Some(message)),
        )
            .into_response()
    };
    let logged_in = match check_credentials(
        &state,
        &origin,
        &form.username,
        form.password.clone(),
        now_ms,
    )
    .await
    {
        Ok(logged_in) => logged_in,
        Err(error) => return refused(error.status, &refusal(lang, &error, true)),
    };
    let user = logged_in.user;
    let cookie = match new_session_cookie(&state, &user, &origin, now_ms).await {
        Ok(cookie) => cookie,
        Err(error) => return PageError::from(error).into_response(),
    };
    let target = if user.must_change_password {
        PASSWORD_PATH.to_string()
    } else {
        next
    };
    let mut response = ([(header::SET_COOKIE, cookie)], Redirect::to(&target)).into_response();
    // A second `Set-Cookie`, appended: the array form would replace the first.
    if let Ok(device) = header::HeaderValue::from_str(&logged_in.known_device_cookie) {
        response.headers_mut().append(header::SET_COOKIE, device);
    }
    response
}

#[derive(Debug, Deserialize)]
struct Logout {
    #[serde(default)]
    csrf: String,
}

async fn logout(
    State(state): State<AppState>,
    viewer: Viewer,
    PageForm(form): PageForm<Logout>,
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
    let lang = viewer.lang;
    let min_length = state.config.auth.min_password_length;
    let body = html! {
        main.narrow {
            p.switch { (language_switch(lang, PASSWORD_PATH)) }
            h1 { (t(lang, "Changer de mot de passe")) }
            @if viewer.caller.user.must_change_password {
                p { (t(lang, "Votre mot de passe est à usage unique : choisissez-en un nouveau pour continuer.")) }
            }
            @if let Some(error) = error { p.error role="alert" { (error) } }
            form.stack.panel method="post" action=(PASSWORD_PATH) {
                input type="hidden" name="csrf" value=(viewer.csrf);
                label for="current" { (t(lang, "Mot de passe actuel")) }
                input #current type="password" name="current_password" autocomplete="current-password" required;
                label for="new" { (tf(lang, "Nouveau mot de passe ({n} caractères au moins)", &[("n", &min_length)])) }
                input #new type="password" name="new_password" autocomplete="new-password" required;
                div.actions { button type="submit" { (t(lang, "Changer le mot de passe")) } }
            }
        }
    };
    document(lang, t(lang, "Mot de passe"), state.config.demo, None, body)
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
    origin: LoginOrigin,
    PageForm(form): PageForm<PasswordChange>,
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
                password_form(&state, &viewer, Some(&refusal(viewer.lang, &error, false))),
            )
                .into_response());
        }
    };
    let cookie = new_session_cookie(&state, &user, &origin, viewer.caller.now_ms).await?;
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response())
}

/// The viewer's account: its password, and the sessions open in its name — when and where
/// from each was opened and last seen, this one marked — each of which it may end.
async fn account_page(State(state): State<AppState>, viewer: Viewer) -> PageResult {
    let lang = viewer.lang;
    let current = viewer.caller.session_hash.clone().unwrap_or_default();
    let sessions = state
        .store
        .sessions_of(
            &viewer.caller.user.username,
            Some(&current),
            viewer.caller.now_ms,
        )
        .await?;
    let others = sessions.iter().filter(|s| !s.current).count();
    let body = html! {
        main {
            h1 { (t(lang, "Mon compte")) }
            p { a href=(PASSWORD_PATH) { (t(lang, "Changer de mot de passe")) } }
            h2 { (t(lang, "Sessions ouvertes")) }
            p { (t(lang, "Chaque navigateur où vous êtes connecté. Fermez celles que vous ne reconnaissez pas, puis changez de mot de passe.")) }
            table {
                thead { tr {
                    th scope="col" { (t(lang, "Ouverte le")) }
                    th scope="col" { (t(lang, "Vue le")) }
                    th scope="col" { (t(lang, "Adresse")) }
                    th scope="col" { (t(lang, "Navigateur")) }
                    th scope="col" { (t(lang, "Action")) }
                } }
                tbody {
                    @for session in &sessions {
                        tr {
                            td { (crate::web::render::when(session.created_ms)) }
                            td { (crate::web::render::when(session.last_seen_ms)) }
                            td { (session.address.as_deref().unwrap_or("—")) }
                            td { (session.user_agent.as_deref().unwrap_or("—")) }
                            td {
                                @if session.current {
                                    strong { (t(lang, "cette session")) }
                                } @else {
                                    form method="post" action=(format!("/compte/sessions/{}/fin", session.id)) {
                                        input type="hidden" name="csrf" value=(viewer.csrf);
                                        button type="submit" { (t(lang, "Fermer")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if others > 0 {
                form method="post" action="/compte/sessions/autres/fin" {
                    input type="hidden" name="csrf" value=(viewer.csrf);
                    button type="submit" { (t(lang, "Fermer toutes les autres sessions")) }
                }
            }
        }
    };
    Ok(crate::web::page(
        &state,
        &viewer,
        t(lang, "Mon compte"),
        crate::web::Nav::Account,
        body,
    )
    .into_response())
}

#[derive(Debug, Deserialize)]
struct SessionForm {
    #[serde(default)]
    csrf: String,
}

/// Ends one of the viewer's own sessions (another's id is a 404, like a missing one).
async fn end_session(
    State(state): State<AppState>,
    viewer: Viewer,
    axum::extract::Path(id): axum::extract::Path<String>,
    PageForm(form): PageForm<SessionForm>,
) -> PageResult {
    viewer.check_form(&form.csrf)?;
    state
        .store
        .end_session(&viewer.caller.user.username, &id)
        .await?;
    Ok(Redirect::to(ACCOUNT_PATH).into_response())
}

/// Ends every session of the viewer but this one.
async fn end_other_sessions(
    State(state): State<AppState>,
    viewer: Viewer,
    PageForm(form): PageForm<SessionForm>,
) -> PageResult {
    viewer.check_form(&form.csrf)?;
    if let Some(current) = &viewer.caller.session_hash {
        state
            .store
            .end_other_sessions(&viewer.caller.user.username, current)
            .await?;
    }
    Ok(Redirect::to(ACCOUNT_PATH).into_response())
}

#[cfg(test)]
mod tests {
    use crate::web::local_path;

    #[test]
    fn only_local_paths_are_followed_after_login() {
        assert_eq!(local_path(Some("/console/alarmes/4")), "/console/alarmes/4");
        assert_eq!(local_path(Some("//evil.example/")), "/");
        assert_eq!(local_path(Some("https://evil.example/")), "/");
        assert_eq!(local_path(Some("/\\evil.example")), "/");
        // A browser drops tabs and line breaks: this would be `//evil.example`.
        assert_eq!(local_path(Some("/\t/evil.example")), "/");
        assert_eq!(local_path(Some("/\n/evil.example")), "/");
        assert_eq!(local_path(None), "/");
    }
}
