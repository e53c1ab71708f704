//! The pages' style sheet and script: the project's own, compiled into the binary, served
//! with their content's hash in the address so that a browser may keep them for a year and
//! still never runs an old one after an upgrade.

use std::sync::LazyLock;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::AppState;

const PAGES_STYLE: &str = include_str!("../../assets/vigie.css");
/// The pages' own rules, then the monthly reports' (scoped to `.vigie-report`), which the
/// portal shows inside its pages.
static STYLE: LazyLock<String> =
    LazyLock::new(|| format!("{PAGES_STYLE}\n{}", vigie_report::HTML_STYLESHEET));
const SCRIPT: &str = include_str!("../../assets/vigie.js");

/// `/static/vigie-<hash>.css`.
pub static STYLE_PATH: LazyLock<String> =
    LazyLock::new(|| format!("/static/vigie-{}.css", short_hash(&STYLE)));
/// `/static/vigie-<hash>.js`.
pub static SCRIPT_PATH: LazyLock<String> =
    LazyLock::new(|| format!("/static/vigie-{}.js", short_hash(SCRIPT)));

fn short_hash(text: &str) -> String {
    crate::auth::digest(text)[..12].to_string()
}

/// The tab's icon: a watchtower's eye, the product's mark, drawn in SVG.
const FAVICON: &str = include_str!("../../assets/favicon.svg");
pub const FAVICON_PATH: &str = "/favicon.svg";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(&STYLE_PATH, get(style))
        .route(&SCRIPT_PATH, get(script))
        .route(FAVICON_PATH, get(favicon))
        // Asked for by browsers on their own, whatever the page says.
        .route("/favicon.ico", get(favicon))
}

async fn favicon() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        FAVICON,
    )
}

const FOREVER: &str = "public, max-age=31536000, immutable";

async fn style() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, FOREVER),
        ],
        STYLE.as_str(),
    )
}

async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, FOREVER),
        ],
        SCRIPT,
    )
}
