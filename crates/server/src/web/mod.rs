//! The web pages: the staff console (`/console…`) and the client portal (`/portail…`),
//! rendered on the server in French (maud templates, typed and escaped), kept live by
//! server-sent events (`live.rs`), with the project's own small script and style sheet
//! (`assets/`). Pages authenticate by the session cookie only; every form carries a token
//! bound to the session (CSRF), and every read goes through the store with the viewer's
//! actor, so a client user sees its own client's objects and a "not found" for any other's
//! . Every list is paged on the server.

mod alarms;
mod assets;
mod fleet;
mod inventory;
pub mod live;
mod login;
mod outbox;
mod portal;
mod records;
mod render;
mod tickets;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use maud::{DOCTYPE, Markup, html};
use vigie_store::StoreError;

use crate::AppState;
use crate::auth::{self, Caller};
use crate::error::ApiError;

pub use live::{Live, Topic};

/// Availability rates over the last 30 days, kept a minute per place: a 30-day rate moves
/// slowly, and the dashboard that shows it is reloaded by every live change. Past its minute
/// a rate is still shown while one page load, and only one, computes it again.
#[derive(Debug, Default)]
pub struct RateCache(std::sync::Mutex<RateEntries>);

#[derive(Debug, Default)]
struct RateEntries {
    rates: std::collections::HashMap<String, (i64, vigie_store::console::Availability)>,
    /// Places being computed again now.
    refreshing: std::collections::HashSet<String>,
}

/// What the cache knows of a place.
pub enum CachedRate {
    Fresh(vigie_store::console::Availability),
    /// Past its minute, and another page load is already computing it again.
    Stale(vigie_store::console::Availability),
    /// To compute: nothing kept, or past its minute and this caller computes it.
    Missing,
}

impl RateCache {
    /// How long a rate is kept (ms).
    const KEEP_MS: i64 = 60_000;
    /// Places kept at most; beyond, the cache starts again empty.
    const MAX_PLACES: usize = 10_000;

    pub fn get(&self, key: &str, now: i64) -> CachedRate {
        let Ok(mut entries) = self.0.lock() else {
            return CachedRate::Missing;
        };
        let Some((at, rate)) = entries.rates.get(key).copied() else {
            return CachedRate::Missing;
        };
        if (0..Self::KEEP_MS).contains(&(now - at)) {
            return CachedRate::Fresh(rate);
        }
        if entries.refreshing.insert(key.to_string()) {
            CachedRate::Missing
        } else {
            CachedRate::Stale(rate)
        }
    }

    pub fn put(&self, key: String, now: i64, rate: vigie_store::console::Availability) {
        if let Ok(mut entries) = self.0.lock() {
            if entries.rates.len() >= Self::MAX_PLACES {
                entries.rates.clear();
                entries.refreshing.clear();
            }
            entries.refreshing.remove(&key);
            entries.rates.insert(key, (now, rate));
        }
    }

    /// A computation that failed: the next page load tries again.
    pub fn release(&self, key: &str) {
        if let Ok(mut entries) = self.0.lock() {
            entries.refreshing.remove(key);
        }
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/flux", get(live::stream))
        .merge(assets::routes())
        .merge(login::routes())
        .merge(alarms::routes())
        .merge(portal::routes())
        .merge(tickets::routes())
        .merge(fleet::routes())
        .merge(outbox::routes())
        .merge(records::routes())
        .merge(inventory::routes())
        .layer(axum::middleware::map_response(page_headers))
}

/// What every page answer carries: only the project's own script and style may run
/// (no inline script, no third party), pages are never framed, and pages with a client's
/// data are not kept by shared caches.
async fn page_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("same-origin"),
    );
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-store"),
        );
    }
    response
}

/// `/`: the viewer's home, or the login page.
async fn home(viewer: Result<Viewer, Response>) -> Response {
    match viewer {
        Ok(viewer) if viewer.is_staff() => Redirect::to("/console").into_response(),
        Ok(_) => Redirect::to("/portail").into_response(),
        Err(response) => response,
    }
}

/// Who is looking at a page: a person logged in with a session (never a token), with the
/// token its forms carry. A request without a valid session is sent to the login page,
/// back to where it was going afterwards.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub caller: Caller,
    pub csrf: String,
}

impl Viewer {
    pub fn is_staff(&self) -> bool {
        self.caller.actor.is_staff()
    }

    pub fn name(&self) -> &str {
        &self.caller.user.display_name
    }

    /// Refuses a form whose token is not this session's.
    pub fn check_form(&self, token: &str) -> Result<(), PageError> {
        if !token.is_empty() && constant_time_eq(token.as_bytes(), self.csrf.as_bytes()) {
            Ok(())
        } else {
            Err(PageError::new(
                StatusCode::FORBIDDEN,
                "Ce formulaire a expiré ou ne vient pas de Vigie. Rechargez la page et recommencez.",
            ))
        }
    }

    /// The client a portal page is about: a client user's own; the staff use the console, so
    /// for them a portal page does not exist.
    pub fn own_client(&self) -> Result<vigie_domain::Reference, PageError> {
        match self.caller.actor.visibility().client() {
            Some(client) if !self.is_staff() => Ok(client.clone()),
            _ => Err(PageError::not_found()),
        }
    }

    /// Refuses a client user on a staff page, with the same answer as a page that does not
    /// exist: a client learns nothing of the console.
    pub fn require_staff(&self) -> Result<(), PageError> {
        if self.is_staff() {
            Ok(())
        } else {
            Err(PageError::not_found())
        }
    }
}

/// A reference typed in a filter or carried by a pager link: empty is none, a malformed one
/// a clear 400 (it can name nothing).
pub fn optional_reference(
    text: Option<&str>,
) -> Result<Option<vigie_domain::Reference>, PageError> {
    match text.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => vigie_domain::Reference::parse(text).map(Some).map_err(|_| {
            PageError::new(
                StatusCode::BAD_REQUEST,
                format!("référence invalide : « {text} »"),
            )
        }),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The form token of a session: derived from its hash, which only the server and the
/// session's own cookie can produce.
pub fn csrf_token(session_hash: &str) -> String {
    auth::digest(&format!("formulaire:{session_hash}"))
}

/// Where to send someone who must log in first, back to `path` afterwards.
fn to_login(parts: &Parts) -> Response {
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let target = if path == "/" || path.starts_with("/flux") {
        "/connexion".to_string()
    } else {
        format!("/connexion?suite={}", render::url_encode(path))
    };
    Redirect::to(&target).into_response()
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // Pages know only the session cookie: a bearer token is for programs.
        if parts.headers.contains_key(header::AUTHORIZATION)
            || auth::cookie(parts, auth::SESSION_COOKIE).is_none()
        {
            return Err(to_login(parts));
        }
        let caller = match auth::authenticate(parts, state).await {
            Ok(caller) => caller,
            Err(error) if error.status == StatusCode::UNAUTHORIZED => {
                return Err(to_login(parts));
            }
            Err(error) => return Err(PageError::from(error).into_response()),
        };
        let Some(session_hash) = caller.session_hash.clone() else {
            return Err(to_login(parts));
        };
        if caller.user.must_change_password && parts.uri.path() != login::PASSWORD_PATH {
            return Err(Redirect::to(login::PASSWORD_PATH).into_response());
        }
        Ok(Viewer {
            csrf: csrf_token(&session_hash),
            caller,
        })
    }
}

/// A page that could not be shown, as a French page with its status.
#[derive(Debug)]
pub struct PageError {
    pub status: StatusCode,
    pub message: String,
}

pub type PageResult<T = Response> = Result<T, PageError>;

impl PageError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> PageError {
        PageError {
            status,
            message: message.into(),
        }
    }

    pub fn not_found() -> PageError {
        PageError::new(
            StatusCode::NOT_FOUND,
            "Cette page n'existe pas, ou vous n'y avez pas accès.",
        )
    }
}

impl From<ApiError> for PageError {
    fn from(error: ApiError) -> PageError {
        if error.status == StatusCode::NOT_FOUND {
            return PageError::not_found();
        }
        PageError::new(error.status, error.message)
    }
}

impl From<StoreError> for PageError {
    fn from(error: StoreError) -> PageError {
        PageError::from(ApiError::from(error))
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let title = match self.status {
            StatusCode::NOT_FOUND => "Page introuvable",
            StatusCode::FORBIDDEN => "Accès refusé",
            status if status.is_server_error() => "Erreur du serveur",
            _ => "Demande refusée",
        };
        let body = html! {
            main.narrow {
                h1 { (title) }
                p.error role="alert" { (self.message) }
                p { a href="/" { "Retour à l'accueil" } }
            }
        };
        (self.status, document(title, false, None, body)).into_response()
    }
}

/// Which entry of the menu a page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Wall,
    Tickets,
    Sites,
    Equipment,
    Outbox,
    OnCall,
    Audit,
    Documents,
    PortalDocuments,
    Portal,
    PortalTickets,
    Report,
}

/// A whole page: the menu for the viewer, the demo banner, the title and the body.
pub fn page(
    state: &AppState,
    viewer: &Viewer,
    title: &str,
    nav: Nav,
    body: Markup,
) -> Html<String> {
    let menu = html! {
        header.top data-now=(viewer.caller.now_ms) {
            a.brand href="/" { "Vigie" }
            @if state.config.demo {
                span.demo title="Données d'exemple ; les notifications vont dans la boîte d'envoi, rien n'est envoyé" { "Démonstration" }
            }
            nav aria-label="Menu principal" {
                @if viewer.is_staff() {
                    a href="/console" aria-current=[(nav == Nav::Wall).then_some("page")] { "Mur d'alarmes" }
                    a href="/console/tickets" aria-current=[(nav == Nav::Tickets).then_some("page")] { "Tickets" }
                    a href="/console/sites" aria-current=[(nav == Nav::Sites).then_some("page")] { "Sites" }
                    a href="/console/equipements" aria-current=[(nav == Nav::Equipment).then_some("page")] { "Équipements" }
                    a href="/console/astreintes" aria-current=[(nav == Nav::OnCall).then_some("page")] { "Astreintes" }
                    a href="/console/envois" aria-current=[(nav == Nav::Outbox).then_some("page")] { "Boîte d'envoi" }
                    a href="/console/documents" aria-current=[(nav == Nav::Documents).then_some("page")] { "Documents" }
                    a href="/console/journal" aria-current=[(nav == Nav::Audit).then_some("page")] { "Journal" }
                } @else {
                    a href="/portail" aria-current=[(nav == Nav::Portal).then_some("page")] { "Tableau de bord" }
                    a href="/portail/tickets" aria-current=[(nav == Nav::PortalTickets).then_some("page")] { "Mes tickets" }
                    a href="/portail/documents" aria-current=[(nav == Nav::PortalDocuments).then_some("page")] { "Documents" }
                    a href="/portail/signaler" aria-current=[(nav == Nav::Report).then_some("page")] { "Signaler un problème" }
                }
            }
            span.live #live-status aria-live="polite" { "hors ligne" }
            form.logout method="post" action="/deconnexion" {
                input type="hidden" name="csrf" value=(viewer.csrf);
                span.who { (viewer.name()) }
                button type="submit" { "Se déconnecter" }
            }
        }
    };
    document(title, state.config.demo, Some(menu), body)
}

/// The HTML document around a page's header and body.
pub fn document(title: &str, demo: bool, header: Option<Markup>, body: Markup) -> Html<String> {
    Html(
        html! {
            (DOCTYPE)
            html lang="fr" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (title) " — Vigie" @if demo { " (démonstration)" } }
                    link rel="stylesheet" href=(*assets::STYLE_PATH);
                    script src=(*assets::SCRIPT_PATH) defer {}
                }
                body {
                    a.skip href="#contenu" { "Aller au contenu" }
                    @if let Some(header) = header { (header) }
                    div #contenu { (body) }
                }
            }
        }
        .into_string(),
    )
}
