//! Finding by name (issue 25): the console's one search over clients, sites, equipment,
//! people and ticket numbers, with its suggestions under the header's field as one types; and
//! the lists' client and site filters as choices instead of references to type.

use axum::Router;
use axum::extract::State;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use maud::{Markup, html};
use serde::Deserialize;
use vigie_domain::Reference;
use vigie_domain::inventory::{ObjectKind, Record};
use vigie_store::ListFilter;
use vigie_store::console::{Found, MAX_SEARCH_TEXT};

use crate::AppState;
use crate::web::i18n::{Lang, t, tf};
use crate::web::render::url_encode;
use crate::web::{Nav, PageQuery, PageResult, Viewer, labels, page};

/// Matches of each kind on the results page.
const RESULTS_PER_KIND: i64 = 20;
/// Matches of each kind under the field as one types.
const SUGGESTIONS_PER_KIND: i64 = 4;
/// Most clients, and sites of one client, offered as a filter's choices.
pub const MAX_CHOICES: i64 = 500;

pub fn routes() -> Router<AppState> {
    Router::new().route("/console/recherche", get(search))
}

#[derive(Debug, Default, Deserialize)]
struct SearchQuery {
    q: Option<String>,
    /// Only the suggestions, for the header's script.
    partiel: Option<u8>,
}

/// The ticket number a search's text names, if it is one: `142`, `n°142`, `#142`,
/// `ticket 142`.
pub(crate) fn ticket_number(text: &str) -> Option<u64> {
    let text = text.trim().to_lowercase();
    let text = text.strip_prefix("ticket").unwrap_or(&text).trim();
    let text = text
        .strip_prefix("n°")
        .or_else(|| text.strip_prefix('#'))
        .unwrap_or(text)
        .trim();
    text.parse().ok()
}

/// Where a found object's page is.
fn href(found: &Found) -> String {
    let reference = url_encode(found.reference.as_str());
    match found.kind {
        ObjectKind::Site => format!("/console/sites/{reference}"),
        ObjectKind::Equipment => format!("/console/equipements/{reference}"),
        kind => format!("/console/inventaire/{}/{reference}", kind.key()),
    }
}

fn kind_heading(lang: Lang, kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::Client => t(lang, "Clients"),
        ObjectKind::Site => t(lang, "Sites"),
        ObjectKind::Equipment => t(lang, "Équipements"),
        ObjectKind::Staff => t(lang, "Personnel"),
        ObjectKind::Contact => t(lang, "Contacts des clients"),
        ObjectKind::Contract => t(lang, "Contrats"),
        ObjectKind::Territory => t(lang, "Territoires"),
    }
}

async fn search(
    State(state): State<AppState>,
    viewer: Viewer,
    PageQuery(query): PageQuery<SearchQuery>,
) -> PageResult {
    viewer.require_staff()?;
    let lang = viewer.lang;
    let text: String = query
        .q
        .as_deref()
        .unwrap_or("")
        .trim()
        .chars()
        .take(MAX_SEARCH_TEXT)
        .collect();
    let partial = query.partiel.is_some();
    let per_kind = if partial {
        SUGGESTIONS_PER_KIND
    } else {
        RESULTS_PER_KIND
    };
    let found = state
        .store
        .search(&viewer.caller.actor, &text, per_kind)
        .await?;
    // A ticket by its number, when the text is one and the ticket exists.
    let ticket = match ticket_number(&text) {
        Some(number) => match state.store.ticket(&viewer.caller.actor, number).await {
            Ok((ticket, _)) => Some(ticket),
            Err(vigie_store::StoreError::NotFound) => None,
            Err(error) => return Err(error.into()),
        },
        None => None,
    };
    let kinds = [
        ObjectKind::Client,
        ObjectKind::Site,
        ObjectKind::Equipment,
        ObjectKind::Staff,
        ObjectKind::Contact,
    ];
    if partial {
        let fragment = html! {
            @if text.chars().count() >= 2 && (ticket.is_some() || !found.is_empty()) {
                ul.suggestions role="list" {
                    @if let Some(ticket) = &ticket {
                        li { a href=(format!("/console/tickets/{}", ticket.number)) { (tf(lang, "Ticket n°{number}", &[("number", &ticket.number)])) " — " (vigie_domain::text::shorten(&labels::ticket_problem(lang, &ticket.report), 60)) } }
                    }
                    @for item in &found {
                        li { a href=(href(item)) { (item.name) " " span.muted.ref { (item.reference.as_str()) } " · " span.muted { (kind_heading(lang, item.kind)) } } }
                    }
                    li { a.all href=(format!("/console/recherche?q={}", url_encode(&text))) { (t(lang, "Tous les résultats")) } }
                }
            }
        };
        return Ok(Html(fragment.into_string()).into_response());
    }
    let body = html! {
        main {
            h1 { (t(lang, "Recherche")) }
            form.filters method="get" action="/console/recherche" role="search" {
                label { (t(lang, "Nom, référence ou numéro de ticket"))
                    input type="search" name="q" value=(text) maxlength=(MAX_SEARCH_TEXT) autofocus;
                }
                button type="submit" { (t(lang, "Chercher")) }
            }
            @if text.is_empty() {
                p.muted { (t(lang, "Un client, un site, un équipement, une personne, par son nom ou sa référence ; un ticket par son numéro.")) }
            } @else if ticket.is_none() && found.is_empty() {
                p.panel #no-results { (tf(lang, "Rien ne répond à « {text} ».", &[("text", &text)])) }
            } @else {
                section #results {
                    @if let Some(ticket) = &ticket {
                        h2 { (t(lang, "Tickets")) }
                        ul { li { a href=(format!("/console/tickets/{}", ticket.number)) { (tf(lang, "Ticket n°{number}", &[("number", &ticket.number)])) } " — " (labels::ticket_problem(lang, &ticket.report)) } }
                    }
                    @for kind in kinds {
                        @let of_kind: Vec<&Found> = found.iter().filter(|f| f.kind == kind).collect();
                        @if !of_kind.is_empty() {
                            h2 { (kind_heading(lang, kind)) }
                            ul {
                                @for item in &of_kind {
                                    li { a href=(href(item)) { (item.name) } " " span.muted.ref { (item.reference.as_str()) } }
                                }
                            }
                            @if of_kind.len() as i64 == per_kind {
                                p.muted { (t(lang, "D'autres répondent aussi : précisez la recherche.")) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page(&state, &viewer, t(lang, "Recherche"), Nav::Search, body).into_response())
}

/// One choice of a `<select>`: the reference it sends, the name it shows.
pub(crate) trait Choice {
    fn value(&self) -> &str;
    fn label(&self) -> &str;
}

impl Choice for Record {
    fn value(&self) -> &str {
        self.reference().as_str()
    }
    fn label(&self) -> &str {
        self.name()
    }
}

/// A name read alone (`Store::name_list`), without its record.
impl Choice for (Reference, String) {
    fn value(&self) -> &str {
        self.0.as_str()
    }
    fn label(&self) -> &str {
        &self.1
    }
}

/// A list of objects as a `<select>`'s choices, by name, the chosen one selected.
pub(crate) fn choices<C: Choice>(
    lang: Lang,
    id: &str,
    name: &str,
    options: &[C],
    chosen: Option<&str>,
    everything: &str,
) -> Markup {
    html! {
        select id=(id) name=(name) {
            option value="" { (everything) }
            @for option in options {
                option value=(option.value()) selected[chosen == Some(option.value())] { (option.label()) }
            }
            // A reference given in the address that the list does not hold (beyond its
            // bound) stays chosen rather than silently dropped.
            @if let Some(chosen) = chosen.filter(|c| !c.is_empty() && !options.iter().any(|o| o.value() == *c)) {
                option value=(chosen) selected { (chosen) }
            }
        }
        @if (options.len() as i64) == MAX_CHOICES {
            span.muted { (t(lang, "(liste limitée : utilisez la recherche)")) }
        }
    }
}

/// The client and site filters of a list, as choices: every client (up to [`MAX_CHOICES`]),
/// and once a client is chosen, its sites.
pub(crate) async fn place_filters(
    state: &AppState,
    viewer: &Viewer,
    client: Option<&str>,
    site: Option<&str>,
    with_site: bool,
) -> PageResult<Markup> {
    let lang = viewer.lang;
    let actor = &viewer.caller.actor;
    let bounded = ListFilter {
        limit: Some(MAX_CHOICES),
        ..ListFilter::default()
    };
    let clients = state
        .store
        .name_list(actor, ObjectKind::Client, &bounded)
        .await?;
    let client_ref = client.and_then(|c| Reference::parse(c).ok());
    let sites = match (&client_ref, with_site) {
        (Some(client), true) => {
            state
                .store
                .name_list(
                    actor,
                    ObjectKind::Site,
                    &ListFilter {
                        client: Some(client.clone()),
                        ..bounded
                    },
                )
                .await?
        }
        _ => Vec::new(),
    };
    Ok(html! {
        label { (t(lang, "Client")) (choices(lang, "filter-client", "client", &clients, client, t(lang, "Tous"))) }
        @if with_site && client_ref.is_some() {
            label { (t(lang, "Site")) (choices(lang, "filter-site", "site", &sites, site, t(lang, "Tous"))) }
        } @else if let Some(site) = site.filter(|s| !s.is_empty()) {
            input type="hidden" name="site" value=(site);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_is_found_by_its_number_however_it_is_written() {
        for text in ["142", " n°142", "#142", "Ticket 142", "ticket n° 142"] {
            assert_eq!(ticket_number(text), Some(142), "{text}");
        }
        for text in ["", "caméra", "14a", "-3"] {
            assert_eq!(ticket_number(text), None, "{text}");
        }
    }
}
