//! The web pages: the staff console (`/console…`) and the client portal (`/portail…`), rendered
//! on the server in French, or in English for whoever chooses it (`i18n.rs`), with maud
//! templates (typed and escaped), kept live by server-sent events (`live.rs`), with the
//! project's own small script and style sheet (`assets/`). Pages authenticate by the session
//! cookie only; every form carries a token bound to the session (CSRF), and every read goes
//! through the store with the viewer's actor, so a client user sees its own client's objects
//! and a "not found" for any other's. Every list is paged on the server. The exception:
//! the pages behind the signed links sent by SMS and email (`links.rs`), whose only credential
//! is the link's own token.

mod alarms;
mod assets;
mod desk;
mod fleet;
mod history;
pub mod i18n;
mod inventory;
mod labels;
mod links;
pub mod live;
mod login;
mod mailbox;
mod names;
pub(crate) mod oncall;
mod outbox;
pub(crate) mod people;
mod policy;
mod portal;
mod records;
pub(crate) mod render;
mod search;
mod tickets;
mod windows;

use axum::Router;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use maud::{DOCTYPE, Markup, html};
use vigie_store::StoreError;

use crate::AppState;
use crate::auth::{self, Caller};
use crate::error::ApiError;
use crate::web::i18n::{Lang, t, tf};

pub use live::{Live, Topic};

/// Figures that move slowly, kept a minute per place: availability rates over the last 30
/// days (`RateCache`) and a place's 30 days, day by day (`ChartCache`). The pages that show
/// them are reloaded by every live change. Past its minute a figure is still shown while one
/// page load, and only one, computes it again.
#[derive(Debug)]
pub struct MinuteCache<V>(std::sync::Mutex<MinuteEntries<V>>);

/// Availability rates over the last 30 days.
pub type RateCache = MinuteCache<vigie_store::console::Availability>;
/// A place's availability day by day (the chart of a site's and an equipment's page), with
/// the start of its first day, which moves at midnight.
pub type ChartCache = MinuteCache<(i64, Vec<vigie_store::console::Availability>)>;

impl<V> Default for MinuteCache<V> {
    fn default() -> MinuteCache<V> {
        MinuteCache(std::sync::Mutex::new(MinuteEntries {
            values: std::collections::HashMap::new(),
            refreshing: std::collections::HashSet::new(),
        }))
    }
}

#[derive(Debug)]
struct MinuteEntries<V> {
    values: std::collections::HashMap<String, (i64, V)>,
    /// Places being computed again now.
    refreshing: std::collections::HashSet<String>,
}

/// What the hot pages read (the wall, a site, a client's dashboard), kept while nothing has
/// changed: an entry is good while the live feed's generation (`Live::generation`, moved by
/// every change told to the pages, this process's and the others') is the one read before
/// its reads, and for at most [`PageCache::MAX_AGE`] (what changes without telling the pages:
/// an inventory edit, a window that opens by time). When a change reloads a hundred open
/// walls, one reads the database and the others share it.
#[derive(Debug)]
pub struct PageCache<V>(std::sync::Mutex<std::collections::HashMap<String, CacheEntry<V>>>);

#[derive(Debug)]
struct CacheEntry<V> {
    generation: u64,
    at: std::time::Instant,
    value: std::sync::Arc<V>,
}

impl<V> Default for PageCache<V> {
    fn default() -> PageCache<V> {
        PageCache(std::sync::Mutex::new(std::collections::HashMap::new()))
    }
}

impl<V> PageCache<V> {
    /// The longest an entry is kept, changes told or not.
    pub const MAX_AGE: std::time::Duration = std::time::Duration::from_secs(2);
    /// Entries kept at most; beyond, the cache starts again empty.
    const MAX_ENTRIES: usize = 1_000;

    /// What was read for `key`, kept, or read now by `read` and kept. The generation is taken
    /// before `read` runs, so that a change told meanwhile leaves what it gives unkept; call
    /// it once the alarm worker has settled.
    pub async fn kept<E, F, Fut>(
        &self,
        live: &Live,
        key: String,
        read: F,
    ) -> Result<std::sync::Arc<V>, E>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<V, E>>,
    {
        let generation = live.generation();
        if let Some(value) = self.get(&key, generation) {
            return Ok(value);
        }
        let value = std::sync::Arc::new(read().await?);
        self.put(key, generation, value.clone());
        Ok(value)
    }

    /// What was read for `key` under `generation`, if still good.
    fn get(&self, key: &str, generation: u64) -> Option<std::sync::Arc<V>> {
        let entries = self.0.lock().ok()?;
        let entry = entries.get(key)?;
        (entry.generation == generation && entry.at.elapsed() < Self::MAX_AGE)
            .then(|| entry.value.clone())
    }

    /// Keeps what was read for `key`, the generation read before the reads.
    fn put(&self, key: String, generation: u64, value: std::sync::Arc<V>) {
        if let Ok(mut entries) = self.0.lock() {
            if entries.len() >= Self::MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(
                key,
                CacheEntry {
                    generation,
                    at: std::time::Instant::now(),
                    value,
                },
            );
        }
    }
}

/// Every write through this process (a form, an API call: inventory, windows, tickets,
/// accounts) makes the pages read again what they keep (`PageCache`): writes are few beside
/// the reads, and whether each one changes what a page shows is not worth guessing. Pushed
/// observations and heartbeats are left out: what they change is told to the pages
/// (`alarms::record`).
pub async fn forget_reads_after_writes(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    let pushed = path == "/api/v1/observations" || path.ends_with("/heartbeat");
    let write = !pushed
        && !matches!(
            *request.method(),
            Method::GET | Method::HEAD | Method::OPTIONS
        );
    let response = next.run(request).await;
    if write {
        state.live.forget_reads();
    }
    response
}

/// A page of equipment records with their checks' states.
pub(crate) type EquipmentPage = Vec<(
    vigie_domain::inventory::Record,
    Vec<vigie_store::supervision::CurrentState>,
)>;

/// The hot pages' reads, each kept while nothing changes.
#[derive(Debug, Default)]
pub(crate) struct PageReads {
    pub wall: PageCache<alarms::WallReads>,
    pub site: PageCache<portal::SiteReads>,
    /// A page of the equipment list with their states.
    pub equipment: PageCache<EquipmentPage>,
    pub dashboard: PageCache<portal::DashboardReads>,
}

/// What the cache knows of a place.
pub enum Cached<V> {
    Fresh(V),
    /// Past its minute, and another page load is already computing it again.
    Stale(V),
    /// To compute: nothing kept, or past its minute and this caller computes it.
    Missing,
}

/// What the rate cache knows of a place.
pub type CachedRate = Cached<vigie_store::console::Availability>;

impl<V: Clone> MinuteCache<V> {
    /// How long a figure is kept (ms).
    const KEEP_MS: i64 = 60_000;
    /// Places kept at most; beyond, the cache starts again empty.
    const MAX_PLACES: usize = 10_000;

    pub fn get(&self, key: &str, now: i64) -> Cached<V> {
        let Ok(mut entries) = self.0.lock() else {
            return Cached::Missing;
        };
        let Some((at, value)) = entries.values.get(key).cloned() else {
            return Cached::Missing;
        };
        if (0..Self::KEEP_MS).contains(&(now - at)) {
            return Cached::Fresh(value);
        }
        if entries.refreshing.insert(key.to_string()) {
            Cached::Missing
        } else {
            Cached::Stale(value)
        }
    }

    pub fn put(&self, key: String, now: i64, value: V) {
        if let Ok(mut entries) = self.0.lock() {
            if entries.values.len() >= Self::MAX_PLACES {
                entries.values.clear();
                entries.refreshing.clear();
            }
            entries.refreshing.remove(&key);
            entries.values.insert(key, (now, value));
        }
    }

    /// A computation that failed: the next page load tries again.
    pub fn release(&self, key: &str) {
        if let Ok(mut entries) = self.0.lock() {
            entries.refreshing.remove(key);
        }
    }
}

pub fn routes(state: &AppState) -> Router<AppState> {
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
        .merge(i18n::routes())
        .merge(links::routes())
        .merge(search::routes())
        .merge(oncall::routes())
        .merge(policy::routes())
        .merge(desk::routes())
        .merge(people::routes())
        .merge(mailbox::routes())
        .merge(windows::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            page_layer,
        ))
}

/// Around every page: a page that could not be shown is drawn here, in the language the
/// request asks for (a [`PageError`] is made where the language may not be known, such as a
/// store's "not found" turned into a page by `?`), and every answer gets the pages' headers.
async fn page_layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let lang = Lang::of_request(&parts);
    // Kept to find who asked, should the page fail: its error page then carries their menus.
    let asked = parts.clone();
    let mut response = next.run(Request::from_parts(parts, body)).await;
    if let Some(error) = response.extensions_mut().remove::<PageError>() {
        response = error_page(&state, asked, lang, error).await;
    }
    page_headers(response)
}

/// The page of an error: in the viewer's menus when the request comes from a session (a
/// person who followed a stale link keeps their way around), else alone, with a way home.
async fn error_page(state: &AppState, mut asked: Parts, lang: Lang, error: PageError) -> Response {
    let has_session = auth::cookie(&asked, state.config.session_cookie_name()).is_some();
    if has_session && let Ok(viewer) = Viewer::from_request_parts(&mut asked, state).await {
        return error.page_for(state, &viewer);
    }
    error.page(lang)
}

/// An address that is neither a page nor a route of the API: under `/api/` the API's JSON
/// answer, anywhere else the pages' own "not found" page in the request's language (a person
/// who mistyped a console address gets a page with a way back, not JSON), in their menus.
pub async fn unknown_address(State(state): State<AppState>, request: Request) -> Response {
    if request.uri().path().starts_with("/api/") {
        return crate::api::not_found().await.into_response();
    }
    let (parts, _) = request.into_parts();
    let lang = Lang::of_request(&parts);
    page_headers(error_page(&state, parts, lang, PageError::not_found()).await)
}

/// What every page answer carries: only the project's own script and style may run
/// (no inline script, no third party), pages are never framed, and pages with a client's
/// data are not kept by shared caches.
fn page_headers(mut response: Response) -> Response {
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
    // A page behind a signed link (`links.rs`) says `no-referrer` itself: its address is a key.
    if !headers.contains_key(header::REFERRER_POLICY) {
        headers.insert(
            header::REFERRER_POLICY,
            header::HeaderValue::from_static("same-origin"),
        );
    }
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
/// token its forms carry and the language it reads. A request without a valid session is
/// sent to the login page, back to where it was going afterwards.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub caller: Caller,
    pub csrf: String,
    pub lang: Lang,
    /// The page to come back to after switching language (path and query).
    pub here: String,
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
        if !token.is_empty() && crate::auth::same_secret(token, &self.csrf) {
            Ok(())
        } else {
            Err(PageError {
                status: StatusCode::FORBIDDEN,
                message: Message::ExpiredForm,
            })
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
        Some(text) => vigie_domain::Reference::parse(text)
            .map(Some)
            .map_err(|_| PageError {
                status: StatusCode::BAD_REQUEST,
                message: Message::InvalidReference(text.to_string()),
            }),
    }
}

/// Where to go next (after logging in, after switching language): a path of this site only,
/// never another site's address. No control character either: a browser drops tabs and line
/// breaks from an address, so `/\t/autre.example` would be `//autre.example`.
pub(crate) fn local_path(next: Option<&str>) -> &str {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.chars().any(char::is_control) =>
        {
            path
        }
        _ => "/",
    }
}

/// The page a viewer is on, for the language switch to come back to: the page asked; for a
/// form sent (its address answers only POST), the page the form was on, as the browser tells
/// it (`Referer`, sent within the site only), else the home page.
fn here(parts: &Parts) -> String {
    if parts.method == Method::GET {
        return parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
    }
    parts
        .headers
        .get(header::REFERER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<axum::http::Uri>().ok())
        .and_then(|uri| uri.path_and_query().map(|p| p.as_str().to_string()))
        .unwrap_or_else(|| "/".into())
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
            || auth::cookie(parts, state.config.session_cookie_name()).is_none()
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
            lang: Lang::of_request(parts),
            here: here(parts),
        })
    }
}

/// A page that could not be shown, with its status. It is drawn by [`page_layer`], which knows
/// the language the request asks for.
#[derive(Debug, Clone)]
pub struct PageError {
    pub status: StatusCode,
    message: Message,
}

/// What a page that could not be shown says.
#[derive(Debug, Clone)]
enum Message {
    /// The same for what does not exist and for what is another client's.
    NotFound,
    /// A form without this session's token.
    ExpiredForm,
    /// A reference typed in a filter that can name nothing.
    InvalidReference(String),
    /// A form's body that does not read as the form (a field missing, a number that is not).
    MalformedForm,
    /// An address whose parameters do not read as the page's.
    MalformedAddress,
    /// Words already in the viewer's language, or the API's and the store's own, which are
    /// French (the domain speaks French).
    Said(String),
}

pub type PageResult<T = Response> = Result<T, PageError>;

impl PageError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> PageError {
        PageError {
            status,
            message: Message::Said(message.into()),
        }
    }

    pub fn not_found() -> PageError {
        PageError {
            status: StatusCode::NOT_FOUND,
            message: Message::NotFound,
        }
    }

    /// The title and the body of the page that says what went wrong, in `lang`.
    fn words(self, lang: Lang) -> (&'static str, Markup) {
        let title = match self.status {
            StatusCode::NOT_FOUND => t(lang, "Page introuvable"),
            StatusCode::FORBIDDEN => t(lang, "Accès refusé"),
            status if status.is_server_error() => t(lang, "Erreur du serveur"),
            _ => t(lang, "Demande refusée"),
        };
        let message = match self.message {
            Message::NotFound => t(lang, "Cette page n'existe pas, ou vous n'y avez pas accès.").to_string(),
            Message::ExpiredForm => t(
                lang,
                "Ce formulaire a expiré ou ne vient pas de Vigie. Rechargez la page et recommencez.",
            )
            .to_string(),
            Message::InvalidReference(text) => {
                tf(lang, "référence invalide : « {text} »", &[("text", &text)])
            }
            Message::MalformedForm => t(
                lang,
                "Ce formulaire est incomplet ou mal rempli. Rechargez la page et recommencez.",
            )
            .to_string(),
            Message::MalformedAddress => t(
                lang,
                "Cette adresse contient un paramètre invalide. Revenez à la page précédente.",
            )
            .to_string(),
            Message::Said(message) => message,
        };
        let body = html! {
            main.narrow {
                h1 { (title) }
                p.error role="alert" { (render::plain(&message)) }
                p { a href="/" { (t(lang, "Retour à l'accueil")) } }
            }
        };
        (title, body)
    }

    /// The page that says what went wrong, in `lang`, without menus.
    fn page(self, lang: Lang) -> Response {
        let status = self.status;
        let (title, body) = self.words(lang);
        (status, document(lang, title, false, None, body)).into_response()
    }

    /// The page that says what went wrong, in the viewer's menus.
    fn page_for(self, state: &AppState, viewer: &Viewer) -> Response {
        let status = self.status;
        let (title, body) = self.words(viewer.lang);
        (status, page(state, viewer, title, Nav::Error, body)).into_response()
    }
}

/// A page's form, read as axum's `Form` reads it; a body that does not read as the form is
/// the pages' own error (400, in the viewer's language), never axum's English text.
#[derive(Debug)]
pub struct PageForm<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for PageForm<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = PageError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, PageError> {
        match axum::extract::Form::<T>::from_request(request, state).await {
            Ok(axum::extract::Form(value)) => Ok(PageForm(value)),
            Err(_) => Err(PageError {
                status: StatusCode::BAD_REQUEST,
                message: Message::MalformedForm,
            }),
        }
    }
}

/// A page's query string, read as axum's `Query` reads it, refused as [`PageForm`] is.
#[derive(Debug)]
pub struct PageQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for PageQuery<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, PageError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(PageQuery(value)),
            Err(_) => Err(PageError {
                status: StatusCode::BAD_REQUEST,
                message: Message::MalformedAddress,
            }),
        }
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
    /// Only the status here: [`page_layer`] draws the page in the request's language.
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        response.extensions_mut().insert(self);
        response
    }
}

/// Which entry of the menu a page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Wall,
    Tickets,
    Sites,
    Equipment,
    Inventory,
    Outbox,
    OnCall,
    Audit,
    Documents,
    PortalDocuments,
    Portal,
    PortalTickets,
    Report,
    Account,
    Search,
    Mail,
    Maintenance,
    /// An error page: no entry of the menu is the current one.
    Error,
}

/// A whole page: the menu for the viewer, the demo banner, the title and the body.
pub fn page(
    state: &AppState,
    viewer: &Viewer,
    title: &str,
    nav: Nav,
    body: Markup,
) -> Html<String> {
    let lang = viewer.lang;
    let current = |entry: Nav| (nav == entry).then_some("page");
    let menu = html! {
        header.top data-now=(viewer.caller.now_ms) {
            a.brand href="/" { "Vigie" }
            @if state.config.demo {
                span.demo title=(t(lang, "Données d'exemple ; les notifications vont dans la boîte d'envoi, rien n'est envoyé")) { (t(lang, "Démonstration")) }
            }
            nav aria-label=(t(lang, "Menu principal")) {
                @if viewer.is_staff() {
                    a href="/console" aria-current=[current(Nav::Wall)] { (t(lang, "Mur d'alarmes")) }
                    a href="/console/tickets" aria-current=[current(Nav::Tickets)] { (t(lang, "Tickets")) }
                    a href="/console/sites" aria-current=[current(Nav::Sites)] { (t(lang, "Sites")) }
                    a href="/console/equipements" aria-current=[current(Nav::Equipment)] { (t(lang, "Équipements")) }
                    a href="/console/inventaire" aria-current=[current(Nav::Inventory)] { (t(lang, "Inventaire")) }
                    a href="/console/astreintes" aria-current=[current(Nav::OnCall)] { (t(lang, "Astreintes")) }
                    a href="/console/envois" aria-current=[current(Nav::Outbox)] { (t(lang, "Boîte d'envoi")) }
                    a href="/console/courrier" aria-current=[current(Nav::Mail)] { (t(lang, "Courrier")) }
                    a href="/console/maintenance" aria-current=[current(Nav::Maintenance)] { (t(lang, "Maintenance")) }
                    a href="/console/documents" aria-current=[current(Nav::Documents)] { (t(lang, "Documents")) }
                    a href="/console/journal" aria-current=[current(Nav::Audit)] { (t(lang, "Journal")) }
                } @else {
                    a href="/portail" aria-current=[current(Nav::Portal)] { (t(lang, "Tableau de bord")) }
                    a href="/portail/tickets" aria-current=[current(Nav::PortalTickets)] { (t(lang, "Mes tickets")) }
                    a href="/portail/documents" aria-current=[current(Nav::PortalDocuments)] { (t(lang, "Documents")) }
                    a href="/portail/signaler" aria-current=[current(Nav::Report)] { (t(lang, "Signaler un problème")) }
                }
            }
            @if viewer.is_staff() {
                // One search over names, references and ticket numbers; suggestions appear
                // under it as one types (the page's script), the results page without it.
                form.search #search method="get" action="/console/recherche" role="search" {
                    label.visually-hidden for="search-text" { (t(lang, "Rechercher")) }
                    input #search-text type="search" name="q" autocomplete="off" maxlength="100"
                        placeholder=(t(lang, "Site, équipement, client, ticket…"))
                        aria-controls="search-suggestions";
                    div #search-suggestions aria-live="polite" {}
                }
            }
            span.live #live-status aria-live="polite" data-on=(t(lang, "en direct")) data-retry=(t(lang, "reconnexion…")) { (t(lang, "hors ligne")) }
            (language_switch(lang, &viewer.here))
            form.logout method="post" action="/deconnexion" {
                input type="hidden" name="csrf" value=(viewer.csrf);
                a.who href=(login::ACCOUNT_PATH) aria-current=[current(Nav::Account)] title=(t(lang, "Mon compte : mot de passe et sessions")) { (viewer.name()) }
                button type="submit" { (t(lang, "Se déconnecter")) }
            }
        }
        // Shown by the script when the live feed is cut: the page is then no longer current.
        div.lost #live-lost role="alert" hidden {
            strong { (t(lang, "Connexion perdue.")) }
            " " (t(lang, "Cette page n'est plus à jour : reconnexion en cours. Rechargez-la si cela dure."))
        }
    };
    document(lang, title, state.config.demo, Some(menu), body)
}

/// The link to read the page in the other language, back at `here` afterwards. Each language
/// is named in itself, so that whoever cannot read the page still finds their own.
pub fn language_switch(lang: Lang, here: &str) -> Markup {
    let (other, name) = match lang {
        Lang::Fr => (Lang::En, "English"),
        Lang::En => (Lang::Fr, "Français"),
    };
    let href = format!(
        "/langue?choix={}&suite={}",
        other.key(),
        render::url_encode(here)
    );
    html! {
        a.language href=(href) lang=(other.key()) hreflang=(other.key()) { (name) }
    }
}

/// The HTML document around a page's header and body. The body carries the words the page's
/// script writes (countdowns, ages), so that the script has no language of its own.
pub fn document(
    lang: Lang,
    title: &str,
    demo: bool,
    header: Option<Markup>,
    body: Markup,
) -> Html<String> {
    Html(
        html! {
            (DOCTYPE)
            html lang=(lang.key()) {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (title) " — Vigie" @if demo { " (" (t(lang, "démonstration")) ")" } }
                    link rel="icon" type="image/svg+xml" href=(assets::FAVICON_PATH);
                    link rel="stylesheet" href=(*assets::STYLE_PATH);
                    script src=(*assets::SCRIPT_PATH) defer {}
                }
                body
                    data-left=(t(lang, "reste {d}"))
                    data-late=(t(lang, "dépassé de {d}"))
                    data-days=(t(lang, "{d} j {h} h"))
                    data-hours=(t(lang, "{h} h {m} min"))
                    data-minutes=(t(lang, "{m} min"))
                    data-seconds=(t(lang, "{s} s"))
                {
                    a.skip href="#contenu" { (t(lang, "Aller au contenu")) }
                    @if let Some(header) = header { (header) }
                    div #contenu { (body) }
                }
            }
        }
        .into_string(),
    )
}

#[cfg(test)]
mod page_cache_tests {
    use super::PageCache;

    #[test]
    fn an_entry_is_kept_while_no_change_is_told_and_not_beyond_its_age() {
        let cache: PageCache<u32> = PageCache::default();
        assert_eq!(cache.get("mur", 7), None);
        cache.put("mur".into(), 7, 42.into());
        assert_eq!(cache.get("mur", 7).as_deref(), Some(&42));
        // A change told since the reads (the generation moved): read again.
        assert_eq!(cache.get("mur", 8), None);
        assert_eq!(cache.get("autre", 7), None);
        // Past its age, even with nothing told.
        let aged: PageCache<u32> = PageCache::default();
        aged.put("mur".into(), 1, 1.into());
        if let Ok(mut entries) = aged.0.lock()
            && let Some(entry) = entries.get_mut("mur")
        {
            entry.at -= PageCache::<u32>::MAX_AGE;
        }
        assert_eq!(aged.get("mur", 1), None);
    }

    #[tokio::test]
    async fn a_change_told_during_the_reads_leaves_them_unkept() {
        let live = super::Live::default();
        let cache: PageCache<u32> = PageCache::default();
        let read = cache
            .kept(&live, "mur".into(), || async {
                // A change told while the database is read.
                live.forget_reads();
                Ok::<_, ()>(1)
            })
            .await
            .unwrap();
        assert_eq!(*read, 1);
        let again = cache
            .kept(&live, "mur".into(), || async { Ok::<_, ()>(2) })
            .await
            .unwrap();
        assert_eq!(*again, 2, "read again: the first reads may miss the change");
        let kept = cache
            .kept(&live, "mur".into(), || async { Ok::<_, ()>(3) })
            .await
            .unwrap();
        assert_eq!(*kept, 2, "nothing told since: kept");
    }
}
