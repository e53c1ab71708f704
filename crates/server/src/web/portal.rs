//! The client portal's dashboard (DSH-1, X-2): for a client user whose contract includes the
//! dashboard, the availability of its system over the last 30 days, its sites with their
//! equipment down and open alarms, each site's equipment with its current state, and the
//! alarms of the last 30 days. Everything is read with the viewer's actor: another client's
//! site is "not found", the same as one that does not exist. Live: the regions follow the
//! client's own alarm and state changes.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use maud::{Markup, html};
use serde::Deserialize;
use vigie_domain::Reference;
use vigie_domain::inventory::{ContractOption, ObjectKind, Record};
use vigie_store::console::{Availability, Place, SiteSummary};
use vigie_store::supervision::{CurrentState, Scope};
use vigie_store::{AlarmFilter, ListFilter, StoredAlarm};

use crate::AppState;
use crate::web::render::{self, age, time, url_encode};
use crate::web::{CachedRate, Nav, PageError, PageResult, Viewer, optional_reference, page};

const DAY_MS: i64 = 86_400_000;
/// DSH-1: the alarm history and the availability rate cover the last 30 days.
const HISTORY_MS: i64 = 30 * DAY_MS;
const SITES_PAGE: i64 = 50;
const EQUIPMENT_PAGE: i64 = 100;
const ALARMS_PAGE: i64 = 50;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/portail", get(dashboard))
        .route("/portail/sites/{reference}", get(site_page))
        .route("/console/sites/{reference}", get(site_page))
}

fn percent(availability: &Availability) -> String {
    match availability.rate {
        Some(rate) => {
            let text = format!("{:.2} %", rate * 100.0).replace('.', ",");
            if availability.partial {
                format!("≥ {text}")
            } else {
                text
            }
        }
        None => "—".into(),
    }
}

/// Whether some contract of the client includes the dashboard (DSH-1).
async fn has_dashboard(state: &AppState, viewer: &Viewer, client: &Reference) -> PageResult<bool> {
    let filter = ListFilter {
        client: Some(client.clone()),
        limit: Some(vigie_store::MAX_PAGE_SIZE),
        ..ListFilter::default()
    };
    let contracts = state
        .store
        .list(&viewer.caller.actor, ObjectKind::Contract, &filter)
        .await?;
    Ok(contracts.iter().any(|record| {
        matches!(record, Record::Contract(contract) if contract.has(ContractOption::Dashboard))
    }))
}

async fn client_name(state: &AppState, viewer: &Viewer, client: &Reference) -> PageResult<String> {
    match state
        .store
        .get(&viewer.caller.actor, ObjectKind::Client, client)
        .await?
    {
        Record::Client(client) => Ok(client.name.as_str().to_string()),
        _ => Err(PageError::not_found()),
    }
}

/// The availability of `place` over the last 30 days, from the minute's cache when there.
async fn rate(state: &AppState, viewer: &Viewer, place: Place) -> PageResult<Availability> {
    let now = viewer.caller.now_ms;
    let key = match &place {
        Place::Client(client) => format!("client:{client}"),
        Place::Site(site) => format!("site:{site}"),
    };
    // The cache never answers for what the viewer's walls hide.
    let visible = match &place {
        Place::Client(client) => viewer.caller.actor.visibility().sees(client),
        // The site's record was read with the viewer's actor before.
        Place::Site(_) => true,
    };
    if visible {
        match state.rates.get(&key, now) {
            CachedRate::Fresh(rate) | CachedRate::Stale(rate) => return Ok(rate),
            CachedRate::Missing => {}
        }
    }
    match state
        .store
        .availability(&viewer.caller.actor, &place, now - HISTORY_MS, now)
        .await
    {
        Ok(rate) => {
            state.rates.put(key, now, rate);
            Ok(rate)
        }
        Err(error) => {
            state.rates.release(&key);
            Err(error.into())
        }
    }
}

#[derive(Debug, Deserialize)]
struct DashboardQuery {
    apres: Option<String>,
    alarmes_avant: Option<u64>,
    partiel: Option<u8>,
}

async fn dashboard(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<DashboardQuery>,
) -> PageResult {
    let client = viewer.own_client()?;
    let name = client_name(&state, &viewer, &client).await?;
    let actor = &viewer.caller.actor;
    let now = viewer.caller.now_ms;
    if !has_dashboard(&state, &viewer, &client).await? {
        let body = html! {
            main {
                h1 { "Tableau de bord — " (name) }
                p.panel { "Votre contrat ne comprend pas le tableau de bord de disponibilité en temps réel. Votre interlocuteur commercial peut l'y ajouter." }
            }
        };
        return Ok(page(&state, &viewer, "Tableau de bord", Nav::Portal, body).into_response());
    }
    let after = optional_reference(query.apres.as_deref())?;
    state.alarms.settle(&state).await;
    let availability = rate(&state, &viewer, Place::Client(client.clone())).await?;
    let sites = state
        .store
        .site_summaries(actor, Some(&client), after.as_ref(), SITES_PAGE)
        .await?;
    let alarms = state
        .store
        .list_alarms(
            actor,
            &AlarmFilter {
                client: Some(client.clone()),
                from: Some(now - HISTORY_MS),
                before: query.alarmes_avant,
                limit: Some(ALARMS_PAGE),
                ..AlarmFilter::default()
            },
            now,
        )
        .await?;
    let counts = state.store.client_counts(actor, &client).await?;
    let (down, open) = (counts.down, counts.open_alarms);
    let next_sites = (sites.len() as i64 == SITES_PAGE)
        .then(|| sites.last().map(|s| s.reference.clone()))
        .flatten();
    let next_alarms = (alarms.len() as i64 == ALARMS_PAGE)
        .then(|| alarms.last().map(|a| a.alarm.id))
        .flatten();
    let region = html! {
        div.counts {
            div.panel { span.muted { "Disponibilité sur 30 jours" } strong #availability { (percent(&availability)) } }
            div.panel { span.muted { "Équipements" } strong { (availability.equipment) } }
            div.panel { span.muted { "Hors service maintenant" } strong #down-now { (down) } }
            div.panel { span.muted { "Alarmes en cours" } strong { (open) } }
        }
        h2 { "Sites" }
        (sites_table(&sites, "/portail"))
        @if let Some(next) = &next_sites {
            nav.pager { a href=(format!("/portail?apres={}", url_encode(next.as_str()))) { "Sites suivants" } }
        }
        h2 { "Alarmes des 30 derniers jours" }
        (alarm_history(&alarms, now))
        @if let Some(next) = next_alarms {
            nav.pager { a href=(format!("/portail?alarmes_avant={next}")) { "Alarmes plus anciennes" } }
        }
    };
    if query.partiel.is_some() {
        return Ok(Html(region.into_string()).into_response());
    }
    let mut src = String::from("/portail?partiel=1");
    if let Some(after) = &after {
        src.push_str(&format!("&apres={}", url_encode(after.as_str())));
    }
    if let Some(before) = query.alarmes_avant {
        src.push_str(&format!("&alarmes_avant={before}"));
    }
    let body = html! {
        main {
            h1 { "Tableau de bord — " (name) }
            section #dashboard aria-live="polite" data-live="alarms states" data-src=(src) { (region) }
        }
    };
    Ok(page(&state, &viewer, "Tableau de bord", Nav::Portal, body).into_response())
}

pub(crate) fn sites_table(sites: &[SiteSummary], root: &str) -> Markup {
    html! {
        @if sites.is_empty() {
            p.panel { "Aucun site." }
        } @else {
            div.table-wrap { table {
                thead { tr {
                    th scope="col" { "Site" } th scope="col" { "Équipements" }
                    th scope="col" { "Hors service" } th scope="col" { "Alarmes en cours" }
                } }
                tbody {
                    @for site in sites {
                        tr.sev-critical[site.down > 0] data-site=(site.reference.as_str()) {
                            td { a href=(format!("{root}/sites/{}", url_encode(site.reference.as_str()))) { (site.name) } br; span.muted { (site.reference.as_str()) } }
                            td { (site.equipment) }
                            td { (site.down) }
                            td { (site.open_alarms) }
                        }
                    }
                }
            } }
        }
    }
}

pub(crate) fn alarm_history(alarms: &[StoredAlarm], now: i64) -> Markup {
    html! {
        @if alarms.is_empty() {
            p.panel { "Aucune alarme sur la période." }
        } @else {
            div.table-wrap { table {
                thead { tr {
                    th scope="col" { "Gravité" } th scope="col" { "Site" } th scope="col" { "Équipement" }
                    th scope="col" { "Problème" } th scope="col" { "Levée" } th scope="col" { "Durée" } th scope="col" { "Statut" }
                } }
                tbody {
                    @for stored in alarms {
                        @let alarm = &stored.alarm;
                        tr class=(format!("sev-{}", alarm.severity.key())) {
                            td { (render::severity(alarm.severity)) }
                            td { (alarm.site.as_ref().map(|s| s.as_str()).unwrap_or("—")) }
                            td { (alarm.equipment.as_ref().map(|e| e.as_str()).unwrap_or("—")) }
                            td { (alarm.condition.condition.label()) }
                            td { (time(alarm.raised_at)) }
                            td { @if alarm.resolved_at.is_some() { (render::duration(stored.duration_ms)) } @else { "en cours, " (age(alarm.raised_at, now)) } }
                            td { (render::status(stored.status)) }
                        }
                    }
                }
            } }
        }
    }
}

#[derive(Debug, Deserialize)]
struct SiteQuery {
    apres: Option<String>,
    partiel: Option<u8>,
}

async fn site_page(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: axum::http::Uri,
    Path(reference): Path<String>,
    Query(query): Query<SiteQuery>,
) -> PageResult {
    // The staff see every site in the console; a client its own, in the portal, with the
    // dashboard option.
    let console = uri.path().starts_with("/console");
    if console != viewer.is_staff() {
        return Err(PageError::not_found());
    }
    let site = Reference::parse(&reference).map_err(|_| PageError::not_found())?;
    let actor = &viewer.caller.actor;
    let now = viewer.caller.now_ms;
    // Another client's site is not found, as the store says.
    let Record::Site(record) = state.store.get(actor, ObjectKind::Site, &site).await? else {
        return Err(PageError::not_found());
    };
    if !console {
        let client = viewer.own_client()?;
        if !has_dashboard(&state, &viewer, &client).await? {
            return Err(PageError::not_found());
        }
    }
    let root = if console { "/console" } else { "/portail" };
    let after = optional_reference(query.apres.as_deref())?;
    state.alarms.settle(&state).await;
    let equipment = state
        .store
        .list(
            actor,
            ObjectKind::Equipment,
            &ListFilter {
                site: Some(site.clone()),
                after: after.clone(),
                limit: Some(EQUIPMENT_PAGE),
                ..ListFilter::default()
            },
        )
        .await?;
    let states = state
        .store
        .current_states(actor, &Scope::Site(site.clone()))
        .await?;
    let mut by_equipment: BTreeMap<&str, Vec<&CurrentState>> = BTreeMap::new();
    for current in &states {
        by_equipment
            .entry(current.equipment.as_str())
            .or_default()
            .push(current);
    }
    let availability = rate(&state, &viewer, Place::Site(site.clone())).await?;
    let alarms = state
        .store
        .list_alarms(
            actor,
            &AlarmFilter {
                site: Some(site.clone()),
                from: Some(now - HISTORY_MS),
                limit: Some(ALARMS_PAGE),
                ..AlarmFilter::default()
            },
            now,
        )
        .await?;
    let next = (equipment.len() as i64 == EQUIPMENT_PAGE)
        .then(|| equipment.last().map(|r| r.reference().clone()))
        .flatten();
    let region = html! {
        div.counts {
            div.panel { span.muted { "Disponibilité sur 30 jours" } strong { (percent(&availability)) } }
            div.panel { span.muted { "Équipements" } strong { (availability.equipment) } }
        }
        h2 { "Équipements" }
        div.table-wrap { table {
            thead { tr { th scope="col" { "Équipement" } th scope="col" { "État" } th scope="col" { "Depuis" } th scope="col" { "Détail" } } }
            tbody {
                @for record in &equipment {
                    @if let Record::Equipment(item) = record {
                        @let checks = by_equipment.get(item.reference.as_str());
                        @let worst = checks.map(|c| worst_status(c)).unwrap_or("unknown");
                        tr data-equipment=(item.reference.as_str()) class=(format!("state-{worst}")) {
                            td {
                                @if console { a href=(format!("/console/equipements/{}", url_encode(item.reference.as_str()))) { (item.name.as_str()) } }
                                @else { (item.name.as_str()) }
                                br; span.muted { (item.reference.as_str()) }
                            }
                            td { span class=(format!("status st-{}", state_class(worst))) { (state_label(worst)) } }
                            td { @if let Some(since) = checks.and_then(|c| c.iter().filter(|s| s.state.status.key() == worst).map(|s| s.state.since).min()) { (time(since)) } @else { "—" } }
                            td { @if let Some(checks) = checks {
                                @for (i, check) in checks.iter().enumerate() {
                                    @if i > 0 { ", " }
                                    (check.check) " : " (state_label(check.state.status.key()))
                                }
                            } }
                        }
                    }
                }
            }
        } }
        @if let Some(next) = &next {
            nav.pager { a href=(format!("{root}/sites/{}?apres={}", url_encode(site.as_str()), url_encode(next.as_str()))) { "Équipements suivants" } }
        }
        h2 { "Alarmes des 30 derniers jours" }
        (alarm_history(&alarms, now))
    };
    if query.partiel.is_some() {
        return Ok(Html(region.into_string()).into_response());
    }
    let mut src = format!("{root}/sites/{}?partiel=1", url_encode(site.as_str()));
    if let Some(after) = &after {
        src.push_str(&format!("&apres={}", url_encode(after.as_str())));
    }
    let title = format!("Site {}", record.name.as_str());
    let body = html! {
        main {
            @if console { p { a href="/console/sites" { "← Sites" } } }
            @else { p { a href="/portail" { "← Tableau de bord" } } }
            h1 { (title) }
            @if console { p { a href=(crate::web::inventory::edit_link(ObjectKind::Site, &site)) { "Modifier la fiche" } } }
            section #site aria-live="polite" data-live="alarms states" data-src=(src) { (region) }
        }
    };
    let nav = if console { Nav::Sites } else { Nav::Portal };
    Ok(page(&state, &viewer, &title, nav, body).into_response())
}

/// The worst status among an equipment's checks: down, then unknown, then up.
pub(crate) fn worst_status(checks: &[&CurrentState]) -> &'static str {
    let keys: Vec<&str> = checks.iter().map(|c| c.state.status.key()).collect();
    if keys.contains(&"down") {
        "down"
    } else if keys.contains(&"unknown") || keys.is_empty() {
        "unknown"
    } else {
        "up"
    }
}

pub(crate) fn state_label(status: &str) -> &'static str {
    match status {
        "up" => "en service",
        "down" => "hors service",
        _ => "inconnu",
    }
}

pub(crate) fn state_class(status: &str) -> &'static str {
    match status {
        "up" => "resolved",
        "down" => "raised",
        _ => "unknown",
    }
}
