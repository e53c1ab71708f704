//! The staff console's fleet pages: every site with its equipment down and open alarms
//! (paged, filtered by client), and one equipment with its current checks, its availability
//! day by day over 30 days, its metrics of the last 24 hours as sparklines, its state changes
//! and alarms of the last 30 days. A site's own page is shared with the portal (`portal.rs`).

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use maud::html;
use serde::Deserialize;
use vigie_domain::Reference;
use vigie_domain::inventory::{ObjectKind, Record};
use vigie_domain::supervision::MetricName;
use vigie_store::console::Place;
use vigie_store::supervision::{Resolution, Scope};
use vigie_store::{AlarmFilter, ListFilter};

use crate::AppState;
use crate::web::PageQuery;
use crate::web::i18n::{t, tf};
use crate::web::labels;
use crate::web::names::Names;
use crate::web::portal::{alarm_history, sites_table, state_class, state_label, worst_status};
use crate::web::render::{sparkline, time, url_encode};
use crate::web::search::place_filters;
use crate::web::{Nav, PageError, PageResult, Viewer, optional_reference, page};

const DAY_MS: i64 = 86_400_000;
const SITES_PAGE: i64 = 100;
/// Sparklines drawn on one equipment's page.
const MAX_SPARKLINES: i64 = 12;
/// State changes listed on one equipment's page.
const CHANGES_PAGE: i64 = 100;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/sites", get(sites))
        .route("/console/equipements", get(equipment_list))
        .route("/console/equipements/{reference}", get(equipment))
}

#[derive(Debug, Deserialize)]
struct SitesQuery {
    client: Option<String>,
    apres: Option<String>,
    partiel: Option<u8>,
}

async fn sites(
    State(state): State<AppState>,
    viewer: Viewer,
    PageQuery(query): PageQuery<SitesQuery>,
) -> PageResult {
    viewer.require_staff()?;
    let client = optional_reference(query.client.as_deref())?;
    let after = optional_reference(query.apres.as_deref())?;
    let list = state
        .store
        .site_summaries(
            &viewer.caller.actor,
            client.as_ref(),
            after.as_ref(),
            SITES_PAGE,
        )
        .await?;
    let next = (list.len() as i64 == SITES_PAGE)
        .then(|| list.last().map(|s| s.reference.clone()))
        .flatten();
    let client_part = client
        .as_ref()
        .map(|c| format!("&client={}", url_encode(c.as_str())))
        .unwrap_or_default();
    let lang = viewer.lang;
    let region = html! {
        (sites_table(lang, &list, "/console"))
        @if let Some(next) = &next {
            nav.pager { a href=(format!("/console/sites?apres={}{client_part}", url_encode(next.as_str()))) { (t(lang, "Sites suivants")) } }
        }
    };
    if query.partiel.is_some() {
        return Ok(Html(region.into_string()).into_response());
    }
    let mut src = format!("/console/sites?partiel=1{client_part}");
    if let Some(after) = &after {
        src.push_str(&format!("&apres={}", url_encode(after.as_str())));
    }
    let places = place_filters(
        &state,
        &viewer,
        client.as_ref().map(|c| c.as_str()),
        None,
        false,
    )
    .await?;
    let body = html! {
        main {
            h1 { (t(lang, "Sites")) }
            form.filters method="get" action="/console/sites" role="search" {
                (places)
                button type="submit" { (t(lang, "Filtrer")) }
            }
            section #sites data-live="alarms states" data-src=(src) { (region) }
        }
    };
    Ok(page(&state, &viewer, t(lang, "Sites"), Nav::Sites, body).into_response())
}

const EQUIPMENT_PAGE: i64 = 100;

#[derive(Debug, Deserialize)]
struct EquipmentQuery {
    client: Option<String>,
    site: Option<String>,
    apres: Option<String>,
    partiel: Option<u8>,
}

/// The whole fleet, one page at a time, by reference, with each equipment's state.
async fn equipment_list(
    State(state): State<AppState>,
    viewer: Viewer,
    PageQuery(query): PageQuery<EquipmentQuery>,
) -> PageResult {
    viewer.require_staff()?;
    let client = optional_reference(query.client.as_deref())?;
    let site = optional_reference(query.site.as_deref())?;
    let after = optional_reference(query.apres.as_deref())?;
    let actor = &viewer.caller.actor;
    let key = format!(
        "{:?}|{:?}|{:?}|{:?}",
        actor.visibility(),
        client.as_ref().map(Reference::as_str),
        site.as_ref().map(Reference::as_str),
        after.as_ref().map(Reference::as_str)
    );
    // One page of equipment with their checks' states, in one read.
    let filter = ListFilter {
        client: client.clone(),
        site: site.clone(),
        after: after.clone(),
        limit: Some(EQUIPMENT_PAGE),
    };
    let records = state
        .page_reads
        .equipment
        .kept(&state.live, key, || {
            state.store.equipment_page(actor, &filter)
        })
        .await?;
    let references: Vec<Reference> = records.iter().map(|(r, _)| r.reference().clone()).collect();
    let next = (records.len() as i64 == EQUIPMENT_PAGE)
        .then(|| references.last().cloned())
        .flatten();
    let mut filters = String::new();
    if let Some(client) = &client {
        filters.push_str(&format!("&client={}", url_encode(client.as_str())));
    }
    if let Some(site) = &site {
        filters.push_str(&format!("&site={}", url_encode(site.as_str())));
    }
    let lang = viewer.lang;
    let region = html! {
        @if records.is_empty() { p.panel { (t(lang, "Aucun équipement.")) } }
        @else {
            div.table-wrap { table {
                thead { tr { th scope="col" { (t(lang, "Équipement")) } th scope="col" { (t(lang, "Type")) } th scope="col" { (t(lang, "Site")) } th scope="col" { (t(lang, "État")) } th scope="col" { (t(lang, "Depuis")) } } }
                tbody { @for (record, states) in records.iter() {
                    @if let Record::Equipment(item) = record {
                        @let checks: Vec<&vigie_store::supervision::CurrentState> = states.iter().collect();
                        @let worst = worst_status(&checks);
                        tr data-equipment=(item.reference.as_str()) {
                            td { a href=(format!("/console/equipements/{}", url_encode(item.reference.as_str()))) { (item.name.as_str()) } br; span.muted { (item.reference.as_str()) } }
                            td { (labels::equipment_kind(lang, item.kind)) }
                            td { a href=(format!("/console/sites/{}", url_encode(item.site.as_str()))) { (item.site.as_str()) } }
                            td { span class=(format!("status st-{}", state_class(worst))) { (state_label(lang, worst)) } }
                            td { @if let Some(since) = checks.iter().filter(|c| c.state.status.key() == worst).map(|c| c.state.since).min() { (time(since)) } @else { "—" } }
                        }
                    }
                } }
            } }
        }
        @if let Some(next) = &next {
            nav.pager { a href=(format!("/console/equipements?apres={}{filters}", url_encode(next.as_str()))) { (t(lang, "Équipements suivants")) } }
        }
    };
    if query.partiel.is_some() {
        return Ok(Html(region.into_string()).into_response());
    }
    let mut src = format!("/console/equipements?partiel=1{filters}");
    if let Some(after) = &after {
        src.push_str(&format!("&apres={}", url_encode(after.as_str())));
    }
    let places = place_filters(
        &state,
        &viewer,
        client.as_ref().map(|c| c.as_str()),
        site.as_ref().map(|s| s.as_str()),
        true,
    )
    .await?;
    let body = html! {
        main {
            h1 { (t(lang, "Équipements")) }
            form.filters method="get" action="/console/equipements" role="search" {
                (places)
                button type="submit" { (t(lang, "Filtrer")) }
            }
            section #equipment-list data-live="states" data-src=(src) { (region) }
        }
    };
    Ok(page(
        &state,
        &viewer,
        t(lang, "Équipements"),
        Nav::Equipment,
        body,
    )
    .into_response())
}

async fn equipment(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(reference): Path<String>,
) -> PageResult {
    viewer.require_staff()?;
    let reference = Reference::parse(&reference).map_err(|_| PageError::not_found())?;
    let actor = &viewer.caller.actor;
    let now = viewer.caller.now_ms;
    let Record::Equipment(item) = state
        .store
        .get(actor, ObjectKind::Equipment, &reference)
        .await?
    else {
        return Err(PageError::not_found());
    };
    state.alarms.settle(&state).await;
    let scope = Scope::Equipment(reference.clone());
    let checks = state.store.current_states(actor, &scope).await?;
    let metrics = state
        .store
        .metric_names(actor, &reference, now - DAY_MS, MAX_SPARKLINES)
        .await?;
    let mut series = Vec::new();
    for metric in metrics {
        let Ok(name) = MetricName::parse(&metric) else {
            continue;
        };
        let points = state
            .store
            .samples(actor, &reference, &name, now - DAY_MS, now, Resolution::Raw)
            .await?;
        let points: Vec<(i64, f64)> = points.iter().map(|p| (p.at, p.value)).collect();
        series.push((metric, points));
    }
    let changes = state
        .store
        .state_changes(actor, &scope, now - 30 * DAY_MS, now, None, CHANGES_PAGE)
        .await?;
    let alarms = state
        .store
        .list_alarms(
            actor,
            &AlarmFilter {
                equipment: Some(reference.clone()),
                from: Some(now - 30 * DAY_MS),
                limit: Some(50),
                ..AlarmFilter::default()
            },
            now,
        )
        .await?;
    let names = Names::of(&state, &viewer, &alarms.iter().collect::<Vec<_>>()).await?;
    let chart = crate::web::portal::availability_chart(
        &state,
        &viewer,
        Place::Equipment(reference.clone()),
    )
    .await?;
    // The windows holding this equipment's notifications now: its site's and its own.
    let (mut windows, window_names) =
        crate::web::windows::running(&state, &viewer, Some(&item.site)).await?;
    windows.retain(|w| w.equipment.is_none() || w.equipment.as_ref() == Some(&reference));
    let silenced = crate::web::windows::running_panel(&viewer, &windows, &window_names);
    let title = format!("{} ({})", item.name.as_str(), reference.as_str());
    let lang = viewer.lang;
    let body = html! {
        main {
            p { a href=(format!("/console/sites/{}", url_encode(item.site.as_str()))) { "← " (tf(lang, "Site {name}", &[("name", &item.site)])) } }
            h1 { (title) }
            div.actions {
                a href=(crate::web::inventory::edit_link(ObjectKind::Equipment, &reference)) { (t(lang, "Modifier la fiche")) }
                @if actor.may(vigie_domain::access::Permission::HandleAlarms) {
                    a #silence-equipment href=(crate::web::windows::new_window_link(&item.site, Some(&reference))) { (t(lang, "Mettre en maintenance ou en silence")) }
                }
            }
            (silenced)
            section #equipment {
                div.panel { dl.facts {
                    dt { (t(lang, "Site")) } dd { (item.site.as_str()) }
                    @if let Some(model) = &item.model { dt { (t(lang, "Modèle")) } dd { (model.as_str()) } }
                    @if let Some(firmware) = &item.firmware { dt { (t(lang, "Micrologiciel")) } dd { (firmware.as_str()) } }
                    @if let Some(address) = &item.address { dt { (t(lang, "Adresse")) } dd { (address.as_str()) } }
                    @if let Some(parent) = &item.parent { dt { (t(lang, "Parent")) } dd { (parent.as_str()) } }
                } }
                h2 { (t(lang, "Contrôles")) }
                @if checks.is_empty() { p.panel { (t(lang, "Aucune observation reçue.")) } }
                @else {
                    div.table-wrap { table {
                        thead { tr { th scope="col" { (t(lang, "Contrôle")) } th scope="col" { (t(lang, "État")) } th scope="col" { (t(lang, "Depuis")) } th scope="col" { (t(lang, "Dernière observation")) } th scope="col" { (t(lang, "Détail")) } } }
                        tbody { @for check in &checks {
                            tr {
                                td { (check.check) }
                                td { span class=(format!("status st-{}", state_class(check.state.status.key()))) { (state_label(lang, check.state.status.key())) } }
                                td { (time(check.state.since)) }
                                td { (time(check.state.last)) }
                                td { (check.state.detail.as_deref().unwrap_or("")) }
                            }
                        } }
                    } }
                }
                (chart)
                h2 { (t(lang, "Mesures des dernières 24 heures")) }
                @if series.is_empty() { p.panel { (t(lang, "Aucune mesure sur 24 heures.")) } }
                @else {
                    div.table-wrap { table {
                        tbody { @for (metric, points) in &series {
                            tr { th scope="row" { (metric) } td { (sparkline(lang, points, now - DAY_MS, now, metric)) } }
                        } }
                    } }
                }
                h2 { (t(lang, "Changements d'état sur 30 jours")) }
                @if changes.is_empty() { p.panel { (t(lang, "Aucun changement.")) } }
                @else {
                    ol.timeline { @for change in &changes {
                        li { (time(change.change.at)) (change.change.check) " : "
                            (change.change.from.map(|s| state_label(lang, s.key())).unwrap_or(t(lang, "première observation")))
                            " → " (state_label(lang, change.change.to.key()))
                            @if let Some(detail) = &change.change.detail { " — " span.muted { (detail) } } }
                    } }
                }
                h2 { (t(lang, "Alarmes sur 30 jours")) }
                (alarm_history(&viewer, &alarms, &names, now))
            }
        }
    };
    Ok(page(&state, &viewer, &title, Nav::Sites, body).into_response())
}
