//! The pages' language: French by default (X-4: the staff and the clients work in French),
//! English for whoever chooses it with the switch of the pages' header (a cookie). The French
//! text stays in the templates as the key, so the code reads like the product; its English is
//! in `locales/en.toml`, compiled in. A test (`tests/it/i18n.rs`) fails for a key without
//! English, and for English no page asks for any more.

use std::collections::HashMap;
use std::convert::Infallible;
use std::fmt::Display;
use std::sync::LazyLock;

use axum::Router;
use axum::extract::{FromRequestParts, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use vigie_domain::french;

use crate::AppState;
use crate::auth;
use crate::web::PageQuery;

/// The cookie that keeps the viewer's choice.
pub const COOKIE: &str = "vigie_langue";
/// How long the choice is kept: a year, then French again unless chosen anew.
const COOKIE_MAX_AGE_SECONDS: u64 = 365 * 24 * 3600;

/// The language a page is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// The product's language, the wording of the procedures.
    #[default]
    Fr,
    En,
}

impl Lang {
    /// The cookie's value and `<html lang>`.
    pub fn key(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    pub fn parse(text: &str) -> Option<Lang> {
        match text {
            "fr" => Some(Lang::Fr),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The language a request asks for: its cookie, else French. The browser's
    /// `Accept-Language` is not followed: the product speaks French unless asked otherwise.
    pub fn of_request(parts: &Parts) -> Lang {
        auth::cookie(parts, COOKIE)
            .and_then(Lang::parse)
            .unwrap_or_default()
    }

    /// Whether `n` takes the plural: from 2 on in French (« 0 alarme », « 1 alarme »), all
    /// but 1 in English ("0 alarms", "1 alarm").
    pub fn is_plural(self, n: i64) -> bool {
        match self {
            Lang::Fr => n.abs() >= 2,
            Lang::En => n != 1,
        }
    }

    /// `1 234,5` or `1,234.5`: a number written by the product's one French formatter
    /// (`vigie_domain::french`), so that a page rounds as the reports do, and in English with
    /// the English separators.
    pub fn decimal(self, value: f64, digits: u8) -> String {
        let french = french::format_number(value, digits);
        match self {
            Lang::Fr => french,
            Lang::En => french
                .chars()
                .map(|character| match character {
                    ',' => '.',
                    french::NARROW_NO_BREAK_SPACE => ',',
                    other => other,
                })
                .collect(),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Lang, Infallible> {
        Ok(Lang::of_request(parts))
    }
}

/// The English of the pages, French text → English text, as written in `locales/en.toml`.
pub const ENGLISH_SOURCE: &str = include_str!("../../locales/en.toml");

/// The English table, read once. Should the file not parse (the tests make sure it does), the
/// pages stay in French rather than fail.
static ENGLISH: LazyLock<HashMap<String, String>> =
    LazyLock::new(|| match toml::from_str(ENGLISH_SOURCE) {
        Ok(table) => table,
        Err(error) => {
            tracing::error!(%error, "locales/en.toml illisible : les pages restent en français");
            HashMap::new()
        }
    });

/// A page's text in the viewer's language; `french` is both the French text and the key of
/// its English.
pub fn t(lang: Lang, french: &'static str) -> &'static str {
    match lang {
        Lang::Fr => french,
        Lang::En => ENGLISH.get(french).map(String::as_str).unwrap_or(french),
    }
}

/// A sentence the domain wrote (a template of `vigie_domain::ticket::post_mortem::all_templates`,
/// the histories' events) in the viewer's language. Its key is not a literal of the pages:
/// `tests/it/i18n.rs` checks each of the domain's templates against the table instead.
pub fn t_domain(lang: Lang, french: &'static str) -> &'static str {
    t(lang, french)
}

/// A value put in a sentence. `Sync`, so that a sentence may be written within a handler's
/// future (which must be `Send`) across an `.await`.
pub type Value<'a> = &'a (dyn Display + Sync);

/// A sentence with values, by named placeholders (`"{n} alarmes"`), so that each language
/// keeps its own word order.
pub fn tf(lang: Lang, french: &'static str, values: &[(&str, Value)]) -> String {
    fill(t(lang, french), values)
}

/// A sentence about `n` things, in the singular or the plural as the language wants it; `{n}`
/// is the number.
pub fn tn(lang: Lang, n: i64, one: &'static str, many: &'static str) -> String {
    let form = if lang.is_plural(n) { many } else { one };
    fill(t(lang, form), &[("n", &n)])
}

/// The text before and after `{name}` in a translated sentence, for a sentence with markup
/// (a live age, a link) in its middle.
pub fn around<'a>(text: &'a str, name: &str) -> (&'a str, &'a str) {
    let placeholder = format!("{{{name}}}");
    match text.split_once(&placeholder) {
        Some((before, after)) => (before, after),
        None => (text, ""),
    }
}

/// Puts the values in place of their `{name}`, in one pass (the domain's filling, that of
/// its phrases too): a value is never read as a template itself. An unknown placeholder is
/// left as written.
fn fill(template: &str, values: &[(&str, Value)]) -> String {
    vigie_domain::text::fill(template, |name| {
        values
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_string())
    })
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/langue", get(switch))
}

#[derive(Debug, Deserialize)]
struct SwitchQuery {
    choix: Option<String>,
    suite: Option<String>,
}

/// `GET /langue?choix=en&suite=/console`: keeps the choice in a cookie and goes back to the
/// page, only ever a page of this site. An unknown choice is French, the default.
async fn switch(
    State(state): State<AppState>,
    PageQuery(query): PageQuery<SwitchQuery>,
) -> Response {
    let lang = query
        .choix
        .as_deref()
        .and_then(Lang::parse)
        .unwrap_or_default();
    let secure = if state.config.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{COOKIE}={}; HttpOnly; SameSite=Strict; Path=/; Max-Age={COOKIE_MAX_AGE_SECONDS}{secure}",
        lang.key()
    );
    let next = crate::web::local_path(query.suite.as_deref());
    ([(header::SET_COOKIE, cookie)], Redirect::to(next)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_fill_their_placeholders_once() {
        assert_eq!(
            fill("{n} alarmes sur {site}", &[("n", &3), ("site", &"A")]),
            "3 alarmes sur A"
        );
        // A value that looks like a placeholder stays as it is.
        assert_eq!(fill("par {name}", &[("name", &"{n}")]), "par {n}");
        assert_eq!(fill("reste {d} {x}", &[("d", &"2 min")]), "reste 2 min {x}");
        assert_eq!(fill("accolade { seule", &[]), "accolade { seule");
    }

    #[test]
    fn french_is_the_key_and_english_its_translation() {
        assert_eq!(t(Lang::Fr, "Mur d'alarmes"), "Mur d'alarmes");
        assert_eq!(t(Lang::En, "Mur d'alarmes"), "Alarm wall");
        assert_eq!(tf(Lang::En, "Alarme n°{id}", &[("id", &12)]), "Alarm #12");
    }

    #[test]
    fn plurals_follow_each_language() {
        let one = "{n} alarme acquittée.";
        let many = "{n} alarmes acquittées.";
        assert_eq!(tn(Lang::Fr, 0, one, many), "0 alarme acquittée.");
        assert_eq!(tn(Lang::Fr, 1, one, many), "1 alarme acquittée.");
        assert_eq!(tn(Lang::Fr, 2, one, many), "2 alarmes acquittées.");
        assert_eq!(tn(Lang::En, 0, one, many), "0 alarms acknowledged.");
        assert_eq!(tn(Lang::En, 1, one, many), "1 alarm acknowledged.");
    }

    #[test]
    fn markup_goes_around_its_placeholder() {
        assert_eq!(around("(il y a {age})", "age"), ("(il y a ", ")"));
        assert_eq!(around("({age} ago)", "age"), ("(", " ago)"));
    }
}
