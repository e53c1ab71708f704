//! The client portal's dashboard (DSH-1, X-2): for a client user whose contract includes the
//! dashboard, the availability of its system over the last 30 days, its sites with their
//! equipment down and open alarms, each site's equipment with its current state, and the
//! alarms of the last 30 days. Everything is read with the viewer's actor: another client's
//! site is "not found", the same as one that does not exist. Live: the regions follow the
//! client's own alarm and state changes. A site's page (here for both the portal and the
//! console) and an equipment's draw their availability day by day over 30 days.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use maud::{Markup, html};
use serde::Deserialize;
use vigie_domain::Reference;
use vigie_domain::inventory::{EquipmentKind, ObjectKind, Record};
use vigie_store::console::{Availability, ClientOverview, Place, SiteSummary};
use vigie_store::supervision::CurrentState;
use vigie_store::{AlarmFilter, ListFilter, StoredAlarm};

use crate::AppState;
use crate::web::PageQuery;
use crate::web::i18n::{Lang, around, t, tf, tn};
use crate::web::labels;
use crate::web::names::{Names, equipment_in, site_in};
use crate::web::render::{self, DayRate, age, time, url_encode};
use crate::web::{
    Cached, CachedRate, Nav, PageError, PageResult, Viewer, optional_reference, page,
};

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

/// The days of the availability chart on a site's and an equipment's page.
const CHART_DAYS: usize = 30;

/// `99,52 %` in French, `99.52%` in English.
fn percent(lang: Lang, availability: &Availability) -> String {
    match availability.rate {
        Some(rate) => {
            let text = render::rate_percent(lang, rate);
            if availability.partial {
                format!("≥ {text}")
            } else {
                text
            }
        }
        None => "—".into(),
    }
}

/// The availability of `place` over the last 30 days, from the minute's cache when there —
/// unless something is down now and the cached figure says 100 %: the figure never
/// contradicts the sentence above it (issue 25).
async fn rate(
    state: &AppState,
    viewer: &Viewer,
    place: Place,
    down_now: bool,
) -> PageResult<Availability> {
    let now = viewer.caller.now_ms;
    let key = match &place {
        Place::Client(client) => format!("client:{client}"),
        Place::Site(site) => format!("site:{site}"),
        Place::Equipment(equipment) => format!("equipment:{equipment}"),
    };
    // The cache never answers for what the viewer's walls hide.
    let visible = match &place {
        Place::Client(client) => viewer.caller.actor.visibility().sees(client),
        // The site's or equipment's record was read with the viewer's actor before.
        Place::Site(_) | Place::Equipment(_) => true,
    };
    if visible {
        match state.rates.get(&key, now) {
            CachedRate::Fresh(rate) | CachedRate::Stale(rate)
                if !(down_now && rate.rate.is_some_and(|r| r >= 1.0)) =>
            {
                return Ok(rate);
            }
            _ => {}
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

/// The availability of `place` day by day over the last 30 days, as a chart drawn on the
/// server: one reading of its state changes for the 30 days, not one per day.
pub(crate) async fn availability_chart(
    state: &AppState,
    viewer: &Viewer,
    place: Place,
) -> PageResult<Markup> {
    let now = viewer.caller.now_ms;
    let bounds = render::day_bounds(now, CHART_DAYS);
    let first_day = bounds.first().copied().unwrap_or_default();
    let key = match &place {
        Place::Client(client) => format!("client:{client}"),
        Place::Site(site) => format!("site:{site}"),
        Place::Equipment(equipment) => format!("equipment:{equipment}"),
    };
    // The cache never answers for what the viewer's walls hide: the place's record was read
    // with the viewer's actor before, and a client's place is only its own.
    let visible = match &place {
        Place::Client(client) => viewer.caller.actor.visibility().sees(client),
        Place::Site(_) | Place::Equipment(_) => true,
    };
    let cached = match visible.then(|| state.charts.get(&key, now)) {
        Some(Cached::Fresh((day, rates)) | Cached::Stale((day, rates))) if day == first_day => {
            Some(rates)
        }
        _ => None,
    };
    let rates = match cached {
        Some(rates) => rates,
        None => match state
            .store
            .availability_by_period(&viewer.caller.actor, &place, &bounds)
            .await
        {
            Ok(rates) => {
                state.charts.put(key, now, (first_day, rates.clone()));
                rates
            }
            Err(error) => {
                state.charts.release(&key);
                return Err(error.into());
            }
        },
    };
    let days: Vec<DayRate> = bounds
        .iter()
        .zip(&rates)
        .map(|(start, availability)| DayRate {
            start_ms: *start,
            rate: availability.rate,
        })
        .collect();
    let lang = viewer.lang;
    Ok(html! {
        h2 { (t(lang, "Disponibilité par jour sur 30 jours")) }
        div.panel.chart-panel { (render::daily_chart(lang, &days)) }
    })
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
    PageQuery(query): PageQuery<DashboardQuery>,
) -> PageResult {
    let client = viewer.own_client()?;
    let actor = &viewer.caller.actor;
    let now = viewer.caller.now_ms;
    let lang = viewer.lang;
    let after = optional_reference(query.apres.as_deref())?;
    state.alarms.settle(&state).await;
    // Whoever sees the same (a client's users, or those of one of its sites) reads the same.
    let key = format!(
        "{:?}|{:?}|{:?}",
        actor.visibility(),
        after.as_ref().map(Reference::as_str),
        query.alarmes_avant
    );
    let reads = state
        .page_reads
        .dashboard
        .kept(&state.live, key, || {
            dashboard_reads(
                &state,
                &viewer,
                &client,
                after.as_ref(),
                query.alarmes_avant,
            )
        })
        .await?;
    let DashboardReads {
        overview,
        sites,
        alarms,
        names,
        windows,
        window_names,
    } = &*reads;
    let name = overview.name.clone();
    if !overview.dashboard {
        let body = html! {
            main {
                h1 { (t(lang, "Tableau de bord")) " — " (name) }
                p.panel { (t(lang, "Votre contrat ne comprend pas le tableau de bord de disponibilité en temps réel. Votre interlocuteur commercial peut l'y ajouter.")) }
            }
        };
        return Ok(page(
            &state,
            &viewer,
            t(lang, "Tableau de bord"),
            Nav::Portal,
            body,
        )
        .into_response());
    }
    let availability = rate(
        &state,
        &viewer,
        Place::Client(client.clone()),
        overview.down > 0,
    )
    .await?;
    let (down, open) = (overview.down, overview.open_alarms);
    let next_sites = (sites.len() as i64 == SITES_PAGE)
        .then(|| sites.last().map(|s| s.reference.clone()))
        .flatten();
    let next_alarms = (alarms.len() as i64 == ALARMS_PAGE)
        .then(|| alarms.last().map(|a| a.alarm.id))
        .flatten();
    let region = html! {
        (headline(lang, overview))
        (crate::web::windows::running_panel(&viewer, windows, window_names))
        div.counts {
            div.panel {
                span.muted { (t(lang, "Disponibilité sur 30 jours")) }
                strong #availability { (percent(lang, &availability)) }
                span.muted.period { (tf(lang, "du {from} au {to}", &[("from", &day(now - HISTORY_MS)), ("to", &day(now))])) }
            }
            div.panel { span.muted { (t(lang, "Équipements")) } strong { (availability.equipment) } }
            div.panel { span.muted { (t(lang, "Hors service maintenant")) } strong #down-now { (down) } }
            div.panel { span.muted { (t(lang, "Alarmes en cours")) } strong { (open) } }
        }
        h2 { (t(lang, "Sites")) }
        (sites_table(lang, sites, "/portail"))
        @if let Some(next) = &next_sites {
            nav.pager { a href=(format!("/portail?apres={}", url_encode(next.as_str()))) { (t(lang, "Sites suivants")) } }
        }
        h2 { (t(lang, "Alarmes des 30 derniers jours")) }
        (alarm_history(&viewer, alarms, names, now))
        @if let Some(next) = next_alarms {
            nav.pager { a href=(format!("/portail?alarmes_avant={next}")) { (t(lang, "Alarmes plus anciennes")) } }
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
            h1 { (t(lang, "Tableau de bord")) " — " (name) }
            section #dashboard aria-live="polite" data-live="alarms states" data-src=(src) { (region) }
        }
    };
    Ok(page(
        &state,
        &viewer,
        t(lang, "Tableau de bord"),
        Nav::Portal,
        body,
    )
    .into_response())
}

/// What a site's page reads (its record and contract's supervision option, a page of its
/// equipment with their states, its alarms with their names, its windows running), kept
/// while nothing changes (`PageCache`).
#[derive(Debug)]
pub(crate) struct SiteReads {
    record: vigie_domain::inventory::Site,
    equipment: Vec<(Record, Vec<CurrentState>)>,
    alarms: Vec<vigie_store::StoredAlarm>,
    names: Names,
    windows: Vec<vigie_domain::alarm::window::OneOffWindow>,
    window_names: Names,
    supervised: bool,
}

async fn site_reads(
    state: &AppState,
    viewer: &Viewer,
    site: &Reference,
    after: Option<&Reference>,
) -> PageResult<SiteReads> {
    let actor = &viewer.caller.actor;
    let now = viewer.caller.now_ms;
    // Another client's site is not found, as the store says.
    let Record::Site(record) = state.store.get(actor, ObjectKind::Site, site).await? else {
        return Err(PageError::not_found());
    };
    if !viewer.is_staff() {
        let client = viewer.own_client()?;
        if !state.store.client_overview(actor, &client).await?.dashboard {
            return Err(PageError::not_found());
        }
    }
    // One page of the site's equipment with their checks' states, in one read.
    let equipment = state
        .store
        .equipment_page(
            actor,
            &ListFilter {
                site: Some(site.clone()),
                after: after.cloned(),
                limit: Some(EQUIPMENT_PAGE),
                ..ListFilter::default()
            },
        )
        .await?;
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
    let names = Names::of(state, viewer, &alarms.iter().collect::<Vec<_>>()).await?;
    let (windows, window_names) = if viewer.is_staff() {
        crate::web::windows::running(state, viewer, Some(site)).await?
    } else {
        (Vec::new(), Names::default())
    };
    // SUP-4: a site whose contract lacks the supervision option is neither polled nor alarmed.
    let supervised = match state
        .store
        .get(
            &vigie_domain::access::Actor::console("pages"),
            ObjectKind::Contract,
            &record.contract,
        )
        .await
    {
        Ok(Record::Contract(contract)) => {
            contract.has(vigie_domain::inventory::ContractOption::Supervision)
        }
        _ => true,
    };
    Ok(SiteReads {
        record,
        equipment,
        alarms,
        names,
        windows,
        window_names,
        supervised,
    })
}

/// What a client's dashboard reads (its summary and headline, a page of its sites, a page
/// of its alarms with their names), kept while nothing changes (`PageCache`).
#[derive(Debug)]
pub(crate) struct DashboardReads {
    overview: vigie_store::console::ClientOverview,
    sites: Vec<vigie_store::console::SiteSummary>,
    alarms: Vec<vigie_store::StoredAlarm>,
    names: Names,
    /// The maintenance and silences running on its sites, with their names.
    windows: Vec<vigie_domain::alarm::window::OneOffWindow>,
    window_names: Names,
}

async fn dashboard_reads(
    state: &AppState,
    viewer: &Viewer,
    client: &Reference,
    after: Option<&Reference>,
    alarms_before: Option<vigie_domain::alarm::lifecycle::AlarmId>,
) -> PageResult<DashboardReads> {
    let actor = &viewer.caller.actor;
    let now = viewer.caller.now_ms;
    // Its name, the dashboard option (DSH-1) and the headline counts, in one read.
    let overview = state.store.client_overview(actor, client).await?;
    if !overview.dashboard {
        return Ok(DashboardReads {
            overview,
            sites: Vec::new(),
            alarms: Vec::new(),
            names: Names::default(),
            windows: Vec::new(),
            window_names: Names::default(),
        });
    }
    let sites = state
        .store
        .site_summaries(actor, Some(client), after, SITES_PAGE)
        .await?;
    let alarms = state
        .store
        .list_alarms(
            actor,
            &AlarmFilter {
                client: Some(client.clone()),
                from: Some(now - HISTORY_MS),
                before: alarms_before,
                limit: Some(ALARMS_PAGE),
                ..AlarmFilter::default()
            },
            now,
        )
        .await?;
    let names = Names::of(state, viewer, &alarms.iter().collect::<Vec<_>>()).await?;
    let (windows, window_names) = crate::web::windows::running(state, viewer, None).await?;
    Ok(DashboardReads {
        overview,
        sites,
        alarms,
        names,
        windows,
        window_names,
    })
}

/// A Paris day, `07/12/2026`: the date part of the pages' times.
fn day(ms: i64) -> String {
    render::when(ms).chars().take(10).collect()
}

/// Down equipment of one kind, as the client reads it: « 2 caméras hors service sur 118 ».
fn down_of_kind(lang: Lang, kind: EquipmentKind, down: i64, total: i64) -> String {
    let what = match kind {
        EquipmentKind::Camera => tn(
            lang,
            down,
            "{n} caméra hors service",
            "{n} caméras hors service",
        ),
        EquipmentKind::Nvr => tn(
            lang,
            down,
            "{n} enregistreur hors service",
            "{n} enregistreurs hors service",
        ),
        EquipmentKind::VmsServer => tn(
            lang,
            down,
            "{n} serveur VMS hors service",
            "{n} serveurs VMS hors service",
        ),
        EquipmentKind::Switch => tn(
            lang,
            down,
            "{n} commutateur hors service",
            "{n} commutateurs hors service",
        ),
        EquipmentKind::PowerSupply => tn(
            lang,
            down,
            "{n} alimentation hors service",
            "{n} alimentations hors service",
        ),
        EquipmentKind::AccessControl => tn(
            lang,
            down,
            "{n} contrôle d'accès hors service",
            "{n} contrôles d'accès hors service",
        ),
        EquipmentKind::Other => tn(
            lang,
            down,
            "{n} autre équipement hors service",
            "{n} autres équipements hors service",
        ),
    };
    format!("{what} {}", tf(lang, "sur {total}", &[("total", &total)]))
}

/// The dashboard's first words (issue 25): whether everything works, and if not what is
/// down and that the integrator is on it, with its ticket — before any figure.
fn headline(lang: Lang, overview: &ClientOverview) -> Markup {
    let working = overview.down == 0;
    let parts: Vec<String> = overview
        .down_by_kind
        .iter()
        .map(|(kind, down, total)| down_of_kind(lang, *kind, *down, *total))
        .collect();
    html! {
        p.headline.ok[working].down[!working] #headline role="status" {
            @if working {
                strong { (t(lang, "Tout fonctionne.")) }
                " " (t(lang, "Aucun équipement hors service en ce moment."))
            } @else {
                strong { (parts.join(", ")) }
                @if overview.tickets_on_down.is_empty() {
                    " — " (t(lang, "nos équipes sont prévenues."))
                } @else {
                    " — " (t(lang, "nous intervenons")) " ("
                    @for (i, number) in overview.tickets_on_down.iter().enumerate() {
                        @if i > 0 { ", " }
                        a href=(format!("/portail/tickets/{number}")) { (tf(lang, "ticket n°{number}", &[("number", number)])) }
                    }
                    ")."
                }
            }
        }
    }
}

pub(crate) fn sites_table(lang: Lang, sites: &[SiteSummary], root: &str) -> Markup {
    html! {
        @if sites.is_empty() {
            p.panel { (t(lang, "Aucun site.")) }
        } @else {
            div.table-wrap { table {
                thead { tr {
                    th scope="col" { (t(lang, "Site")) } th scope="col" { (t(lang, "Équipements")) }
                    th scope="col" { (t(lang, "Hors service")) } th scope="col" { (t(lang, "Alarmes en cours")) }
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

/// Alarms of the last 30 days, their site and equipment by name (linked where the viewer has
/// their page: the console for the staff, a site's page in the portal).
pub(crate) fn alarm_history(
    viewer: &Viewer,
    alarms: &[StoredAlarm],
    names: &Names,
    now: i64,
) -> Markup {
    let lang = viewer.lang;
    let (open_before, open_after) = around(t(lang, "en cours, {age}"), "age");
    html! {
        @if alarms.is_empty() {
            p.panel { (t(lang, "Aucune alarme sur la période.")) }
        } @else {
            div.table-wrap { table {
                thead { tr {
                    th scope="col" { (t(lang, "Gravité")) } th scope="col" { (t(lang, "Site")) } th scope="col" { (t(lang, "Équipement")) }
                    th scope="col" { (t(lang, "Problème")) } th scope="col" { (t(lang, "Levée")) } th scope="col" { (t(lang, "Durée")) } th scope="col" { (t(lang, "Statut")) }
                } }
                tbody {
                    @for stored in alarms {
                        @let alarm = &stored.alarm;
                        tr class=(format!("sev-{}", alarm.severity.key())) {
                            td { (render::severity(lang, alarm.severity)) }
                            td { (site_in(viewer, names, alarm.site.as_ref())) }
                            td { (equipment_in(viewer, names, alarm.equipment.as_ref())) }
                            td { (labels::condition(lang, alarm.condition.condition)) }
                            td { (time(alarm.raised_at)) }
                            td { @if alarm.resolved_at.is_some() { (render::duration(lang, stored.duration_ms)) } @else { (open_before) (age(lang, alarm.raised_at, now)) (open_after) } }
                            td { (render::status(lang, stored.status)) }
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
    PageQuery(query): PageQuery<SiteQuery>,
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
    let root = if console { "/console" } else { "/portail" };
    let after = optional_reference(query.apres.as_deref())?;
    state.alarms.settle(&state).await;
    let key = format!(
        "{:?}|{site}|{:?}",
        actor.visibility(),
        after.as_ref().map(Reference::as_str)
    );
    let reads = state
        .page_reads
        .site
        .kept(&state.live, key, || {
            site_reads(&state, &viewer, &site, after.as_ref())
        })
        .await?;
    let SiteReads {
        record,
        equipment,
        alarms,
        names,
        windows,
        window_names,
        supervised,
    } = &*reads;
    let supervised = *supervised;
    let availability = rate(&state, &viewer, Place::Site(site.clone()), false).await?;
    // The console says what is silenced on the site now (issue 25, item 7).
    let silenced = match console {
        true => crate::web::windows::running_panel(&viewer, windows, window_names),
        false => html! {},
    };
    let next = (equipment.len() as i64 == EQUIPMENT_PAGE)
        .then(|| equipment.last().map(|(r, _)| r.reference().clone()))
        .flatten();
    let lang = viewer.lang;
    let region = html! {
        (silenced)
        div.counts {
            div.panel { span.muted { (t(lang, "Disponibilité sur 30 jours")) } strong { (percent(lang, &availability)) } }
            div.panel { span.muted { (t(lang, "Équipements")) } strong { (availability.equipment) } }
        }
        h2 { (t(lang, "Équipements")) }
        div.table-wrap { table {
            thead { tr { th scope="col" { (t(lang, "Équipement")) } th scope="col" { (t(lang, "État")) } th scope="col" { (t(lang, "Depuis")) } th scope="col" { (t(lang, "Détail")) } } }
            tbody {
                @for (record, states) in equipment {
                    @if let Record::Equipment(item) = record {
                        @let checks: Option<Vec<&CurrentState>> = (!states.is_empty()).then(|| states.iter().collect());
                        @let checks = checks.as_ref();
                        @let worst = checks.map(|c| worst_status(c)).unwrap_or("unknown");
                        tr data-equipment=(item.reference.as_str()) class=(format!("state-{worst}")) {
                            td {
                                @if console { a href=(format!("/console/equipements/{}", url_encode(item.reference.as_str()))) { (item.name.as_str()) } }
                                @else { (item.name.as_str()) }
                                br; span.muted { (item.reference.as_str()) }
                            }
                            td { span class=(format!("status st-{}", state_class(worst))) { (state_label(lang, worst)) } }
                            td { @if let Some(since) = checks.and_then(|c| c.iter().filter(|s| s.state.status.key() == worst).map(|s| s.state.since).min()) { (time(since)) } @else { "—" } }
                            td { @if let Some(checks) = checks {
                                @for (i, check) in checks.iter().enumerate() {
                                    @if i > 0 { ", " }
                                    (check.check) " : " (state_label(lang, check.state.status.key()))
                                }
                            } }
                        }
                    }
                }
            }
        } }
        @if let Some(next) = &next {
            nav.pager { a href=(format!("{root}/sites/{}?apres={}", url_encode(site.as_str()), url_encode(next.as_str()))) { (t(lang, "Équipements suivants")) } }
        }
        h2 { (t(lang, "Alarmes des 30 derniers jours")) }
        (alarm_history(&viewer, alarms, names, now))
    };
    if query.partiel.is_some() {
        return Ok(Html(region.into_string()).into_response());
    }
    let mut src = format!("{root}/sites/{}?partiel=1", url_encode(site.as_str()));
    if let Some(after) = &after {
        src.push_str(&format!("&apres={}", url_encode(after.as_str())));
    }
    // Outside the live region: the days move slowly, and a live change asks for the region
    // alone, so the chart is read once per page load.
    let chart = availability_chart(&state, &viewer, Place::Site(site.clone())).await?;
    let title = tf(lang, "Site {name}", &[("name", &record.name.as_str())]);
    let body = html! {
        main {
            @if console { p { a href="/console/sites" { "← " (t(lang, "Sites")) } } }
            @else { p { a href="/portail" { "← " (t(lang, "Tableau de bord")) } } }
            h1 { (title) }
            @if !supervised {
                p.notice #unsupervised role="status" { (t(lang, "Ce site n'est pas supervisé : son contrat n'a pas l'option de supervision. Ses équipements ne sont pas interrogés et ne lèvent aucune alarme.")) }
            }
            @if console {
                div.actions {
                    a href=(crate::web::inventory::edit_link(ObjectKind::Site, &site)) { (t(lang, "Modifier la fiche")) }
                    @if actor.may(vigie_domain::access::Permission::WriteInventory) {
                        a href=(crate::web::inventory::new_link(ObjectKind::Equipment, Some(&record.client), Some(&site))) { (t(lang, "Ajouter un équipement")) }
                    }
                    @if actor.may(vigie_domain::access::Permission::HandleAlarms) {
                        a #silence-site href=(crate::web::windows::new_window_link(&site, None)) { (t(lang, "Mettre en maintenance ou en silence")) }
                    }
                }
            }
            section #availability-days { (chart) }
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

pub(crate) fn state_label(lang: Lang, status: &str) -> &'static str {
    match status {
        "up" => t(lang, "en service"),
        "down" => t(lang, "hors service"),
        _ => t(lang, "inconnu"),
    }
}

pub(crate) fn state_class(status: &str) -> &'static str {
    match status {
        "up" => "resolved",
        "down" => "raised",
        _ => "unknown",
    }
}
