//! The staff console's alarm pages: the live alarm wall in two lists — what needs a person
//! (unacknowledged first, the acknowledgement deadline counting down) and what waits for its
//! closure report —, acted on from each row or on a selection; and one alarm with its
//! steps at the top, its history and its pages. The alarm worker decides each step (who may
//! close, CLO-2); the page shows its answer. Names first, references second.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect};
use axum::routing::{get, post};
use maud::{Markup, html};
use serde::Deserialize;
use vigie_domain::Reference;
use vigie_domain::access::Permission;
use vigie_domain::alarm::lifecycle::{AlarmEvent, AlarmId, ClosureReport, Status, Suppression};
use vigie_domain::inventory::ObjectKind;
use vigie_store::console::{OpenCounts, WallCursor, WallFilter, WallPages, WallView};
use vigie_store::{StoredAlarm, StoredNotification};

use crate::AppState;
use crate::alarms::Step;
use crate::api::alarms::take_step;
use crate::web::i18n::{Lang, around, t, tf, tn};
use crate::web::names::{Names, client_link, equipment_link, site_link};
use crate::web::render::must_fill;
use crate::web::render::{
    self, age, channel_label, countdown, notification_status, time, url_encode,
};
use crate::web::search::place_filters;
use crate::web::{Nav, PageError, PageResult, Viewer, optional_reference, page};
use crate::web::{PageForm, PageQuery};
use crate::web::{history, labels};

/// Alarms on one page of the wall: a screen's worth, the most urgent first.
const WALL_PAGE: i64 = 50;
/// Most alarms one selection acts on: a wall page's worth.
const MAX_SELECTION: usize = WALL_PAGE as usize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console", get(wall))
        .route("/console/alarmes/selection", post(selection))
        .route("/console/alarmes/{id}", get(detail))
        .route("/console/alarmes/{id}/acquitter", post(acknowledge))
        .route("/console/alarmes/{id}/prendre-en-charge", post(take_charge))
        .route("/console/alarmes/{id}/clore", post(close))
        .route("/console/alarmes/{id}/conference", post(conference))
}

#[derive(Debug, Default, Deserialize)]
struct WallQuery {
    client: Option<String>,
    site: Option<String>,
    /// `a-clore`: the resolved alarms waiting for their report; otherwise those to handle.
    vue: Option<String>,
    /// Where the page starts: `rang-numéro` of the last alarm of the page before.
    apres: Option<String>,
    /// Only the wall's live region, for the page's script.
    partiel: Option<u8>,
    /// What a step on a selection did: its key, how many alarms, which were refused.
    fait: Option<String>,
    n: Option<usize>,
    refus: Option<String>,
}

impl WallQuery {
    fn view(&self) -> WallView {
        match self.vue.as_deref() {
            Some("a-clore") => WallView::ToClose,
            _ => WallView::ToHandle,
        }
    }
}

async fn wall(
    State(state): State<AppState>,
    viewer: Viewer,
    PageQuery(query): PageQuery<WallQuery>,
) -> PageResult {
    viewer.require_staff()?;
    let actor = &viewer.caller.actor;
    let after = match query.apres.as_deref() {
        None | Some("") => None,
        Some(text) => Some(
            text.split_once('-')
                .and_then(|(rank, id)| Some((rank.parse().ok()?, id.parse().ok()?)))
                .ok_or_else(PageError::not_found)?,
        ),
    };
    state.alarms.settle(&state).await;
    let view = query.view();
    let filter = WallFilter {
        view,
        client: optional_reference(query.client.as_deref())?,
        site: optional_reference(query.site.as_deref())?,
        after,
    };
    let key = format!(
        "{:?}|{:?}|{:?}|{:?}|{:?}",
        actor.visibility(),
        query.vue,
        filter.client.as_ref().map(Reference::as_str),
        filter.site.as_ref().map(Reference::as_str),
        query.apres
    );
    let reads = state
        .page_reads
        .wall
        .kept(&state.live, key, || wall_reads(&state, &viewer, &filter))
        .await?;
    let WallReads {
        alarms,
        next,
        counts,
        names,
        windows,
        window_names,
    } = &*reads;
    let next = *next;
    // Who was paged changes as pages go, which the live feed does not tell: read each time.
    let ids: Vec<AlarmId> = alarms.iter().map(|a| a.alarm.id).collect();
    let pages = state.store.pages_for_wall(actor, &ids).await?;
    let silenced = crate::web::windows::running_panel(&viewer, windows, window_names);
    let lang = viewer.lang;
    let region = html! {
        (silenced)
        (wall_region(&viewer, &query, counts, alarms, &pages, names, next))
    };
    if query.partiel.is_some() {
        return Ok(Html(region.into_string()).into_response());
    }
    let done = selection_message(lang, &query);
    let places = place_filters(
        &state,
        &viewer,
        query.client.as_deref(),
        query.site.as_deref(),
        true,
    )
    .await?;
    let body = html! {
        main.wall {
            h1 { (t(lang, "Mur d'alarmes")) }
            @if let Some((message, refused)) = &done {
                p.notice role="status" {
                    (message)
                    @if !refused.is_empty() {
                        " " (t(lang, "Refusées (ouvrez chacune pour voir pourquoi) :")) " "
                        @for (i, id) in refused.iter().enumerate() {
                            @if i > 0 { ", " }
                            a href=(format!("/console/alarmes/{id}")) { "n°" (id) }
                        }
                    }
                }
            }
            form.filters method="get" action="/console" role="search" {
                @if view == WallView::ToClose { input type="hidden" name="vue" value="a-clore"; }
                (places)
                button type="submit" { (t(lang, "Filtrer")) }
                @if query.client.is_some() || query.site.is_some() {
                    a href=(wall_url(&query, None, false, view)) { (t(lang, "Tout voir")) }
                }
            }
            section #wall aria-live="polite" data-live="alarms" data-src=(wall_url(&query, after, true, view)) {
                (region)
            }
            (selection_form(&viewer, view))
            (row_steps_form(&viewer))
        }
    };
    let title = format!("({}) {}", counts.to_handle(), t(lang, "Mur d'alarmes"));
    Ok(page(&state, &viewer, &title, Nav::Wall, body).into_response())
}

/// What the wall reads (a page of one list with the names it shows, the counts, the windows
/// running), kept while nothing changes (`PageCache`).
#[derive(Debug)]
pub(crate) struct WallReads {
    alarms: Vec<StoredAlarm>,
    next: Option<WallCursor>,
    counts: OpenCounts,
    names: Names,
    windows: Vec<vigie_domain::alarm::window::OneOffWindow>,
    window_names: Names,
}

async fn wall_reads(
    state: &AppState,
    viewer: &Viewer,
    filter: &WallFilter,
) -> PageResult<WallReads> {
    let actor = &viewer.caller.actor;
    let now = viewer.caller.now_ms;
    let (alarms, next) = state
        .store
        .wall_alarms(actor, filter, WALL_PAGE, now)
        .await?;
    let counts = state.store.open_alarm_counts(actor, now).await?;
    let names = Names::of(state, viewer, &alarms.iter().collect::<Vec<_>>()).await?;
    // What is silenced now and until when (issue 25, item 7), within the wall's site filter;
    // read only when the counts say some window runs.
    let (windows, window_names) = if counts.running_windows > 0 {
        crate::web::windows::running(state, viewer, filter.site.as_ref()).await?
    } else {
        (Vec::new(), Names::default())
    };
    Ok(WallReads {
        alarms,
        next,
        counts,
        names,
        windows,
        window_names,
    })
}

/// What a step on a selection did, from the address it led back to.
fn selection_message(lang: Lang, query: &WallQuery) -> Option<(String, Vec<AlarmId>)> {
    let count = query.n.unwrap_or(0) as i64;
    let message = match query.fait.as_deref()? {
        "acquittees" => tn(
            lang,
            count,
            "{n} alarme acquittée.",
            "{n} alarmes acquittées.",
        ),
        "prises-en-charge" => tn(
            lang,
            count,
            "{n} alarme prise en charge.",
            "{n} alarmes prises en charge.",
        ),
        "closes" => tn(
            lang,
            count,
            "{n} alarme close avec le rapport commun.",
            "{n} alarmes closes avec le rapport commun.",
        ),
        _ => return None,
    };
    let refused = query
        .refus
        .as_deref()
        .unwrap_or("")
        .split('.')
        .filter_map(|id| id.parse().ok())
        .take(MAX_SELECTION)
        .collect();
    Some((message, refused))
}

/// The live part of the wall: its figures, its two lists' tabs, one page of the list shown.
fn wall_region(
    viewer: &Viewer,
    query: &WallQuery,
    counts: &OpenCounts,
    alarms: &[StoredAlarm],
    pages: &BTreeMap<AlarmId, WallPages>,
    names: &Names,
    next: Option<WallCursor>,
) -> Markup {
    let lang = viewer.lang;
    let view = query.view();
    let to_close = counts.of_status("resolved");
    html! {
        div.counts data-title-count=(counts.to_handle()) {
            div.panel.critical { span.muted { (t(lang, "Critiques à traiter")) } strong { (counts.to_handle_of_severity("critical")) } }
            div.panel { span.muted { (t(lang, "Majeures à traiter")) } strong { (counts.to_handle_of_severity("major")) } }
            div.panel { span.muted { (t(lang, "Mineures à traiter")) } strong { (counts.to_handle_of_severity("minor")) } }
            div.panel { span.muted { (t(lang, "Non acquittées")) } strong #unacknowledged { (counts.of_status("raised")) } }
        }
        nav.tabs aria-label=(t(lang, "Listes du mur")) {
            a #tab-to-handle href=(wall_url(query, None, false, WallView::ToHandle)) aria-current=[(view == WallView::ToHandle).then_some("page")] {
                (t(lang, "À traiter")) " " span.count { (counts.to_handle()) }
            }
            a #tab-to-close href=(wall_url(query, None, false, WallView::ToClose)) aria-current=[(view == WallView::ToClose).then_some("page")] {
                (t(lang, "À clore")) " " span.count { (to_close) }
            }
        }
        (wall_table(viewer, view, alarms, pages, names))
        @if let Some(next) = next {
            nav.pager aria-label=(t(lang, "Pages")) {
                a href=(wall_url(query, Some(next), false, view)) { (t(lang, "Alarmes suivantes")) }
            }
        }
    }
}

fn wall_url(query: &WallQuery, after: Option<WallCursor>, partial: bool, view: WallView) -> String {
    let mut parts = Vec::new();
    if view == WallView::ToClose {
        parts.push("vue=a-clore".to_owned());
    }
    if let Some(client) = query.client.as_deref().filter(|c| !c.is_empty()) {
        parts.push(format!("client={}", url_encode(client)));
    }
    if let Some(site) = query.site.as_deref().filter(|s| !s.is_empty()) {
        parts.push(format!("site={}", url_encode(site)));
    }
    if let Some((rank, id)) = after {
        parts.push(format!("apres={rank}-{id}"));
    }
    if partial {
        parts.push("partiel=1".into());
    }
    if parts.is_empty() {
        "/console".into()
    } else {
        format!("/console?{}", parts.join("&"))
    }
}

fn told_list(lang: Lang, pages: Option<&WallPages>) -> Markup {
    html! {
        @match pages {
            Some(pages) if !pages.told.is_empty() => {
                @for (i, (name, channels)) in pages.told.iter().enumerate() {
                    @if i > 0 { ", " }
                    (name) " "
                    span.muted { "(" (channels.iter().map(|c| channel_label(lang, c)).collect::<Vec<_>>().join(", ")) ")" }
                }
            }
            _ => { span.muted { (t(lang, "console seulement")) } }
        }
    }
}

/// A step's button on a wall row: it sends the page's one [`row_steps_form`] to the step's
/// address, so that fifty rows do not carry a hundred forms and their tokens.
fn row_step(id: AlarmId, path: &str, label: &str, class: Option<&str>) -> Markup {
    html! {
        button class=[class] type="submit" form="row-steps" formaction=(format!("/console/alarmes/{id}/{path}")) data-step=(path) { (label) }
    }
}

/// The form every row's step button sends (its token, back to the wall afterwards); outside
/// the live list, which a refresh replaces.
fn row_steps_form(viewer: &Viewer) -> Markup {
    html! {
        form #row-steps method="post" action="/console" hidden {
            input type="hidden" name="csrf" value=(viewer.csrf);
            input type="hidden" name="suite" value="mur";
        }
    }
}

fn wall_table(
    viewer: &Viewer,
    view: WallView,
    alarms: &[StoredAlarm],
    pages: &BTreeMap<AlarmId, WallPages>,
    names: &Names,
) -> Markup {
    let lang = viewer.lang;
    html! {
        @if alarms.is_empty() {
            p.panel {
                @match view {
                    WallView::ToHandle => (t(lang, "Aucune alarme à traiter.")),
                    WallView::ToClose => (t(lang, "Aucune alarme résolue en attente de son rapport.")),
                }
            }
        } @else {
            div.table-wrap.cards {
                table {
                    caption.muted {
                        @match view {
                            WallView::ToHandle => (tn(lang, alarms.len() as i64, "{n} alarme à traiter sur cette page, la plus urgente d'abord", "{n} alarmes à traiter sur cette page, les plus urgentes d'abord")),
                            WallView::ToClose => (tn(lang, alarms.len() as i64, "{n} alarme résolue attend son rapport de clôture", "{n} alarmes résolues attendent leur rapport de clôture")),
                        }
                    }
                    thead { tr {
                        th scope="col" { span.visually-hidden { (t(lang, "Sélection")) } }
                        th scope="col" { (t(lang, "Gravité")) }
                        th scope="col" { (t(lang, "Problème")) }
                        th scope="col" { (t(lang, "Lieu")) }
                        th scope="col" { (t(lang, "Statut")) }
                        th scope="col" { (t(lang, "Prévenus")) }
                        th scope="col" { (t(lang, "Actions")) }
                    } }
                    tbody {
                        @for stored in alarms {
                            @let alarm = &stored.alarm;
                            @let wall = pages.get(&alarm.id);
                            @let number = tf(lang, "n°{id}", &[("id", &alarm.id)]);
                            tr class=(format!("sev-{}", alarm.severity.key())) data-alarm=(alarm.id) data-status=(stored.status.key()) {
                                td.pick {
                                    input type="checkbox" form="selection" name=(format!("alarme_{}", alarm.id)) value="1"
                                        aria-label=(tf(lang, "Sélectionner l'alarme {number}", &[("number", &number)]));
                                }
                                td data-label=(t(lang, "Gravité")) { (render::severity(lang, alarm.severity)) }
                                td data-label=(t(lang, "Problème")) {
                                    a href=(format!("/console/alarmes/{}", alarm.id)) {
                                        (labels::condition(lang, alarm.condition.condition)) @if let Some(part) = &alarm.condition.part { " (" (part) ")" }
                                    }
                                    " " span.muted.ref { (number) }
                                    br; span.muted { (t(lang, "depuis")) " " (age(lang, alarm.raised_at, viewer.caller.now_ms)) }
                                }
                                td data-label=(t(lang, "Lieu")) {
                                    (site_link(names, alarm.site.as_ref()))
                                    @if alarm.equipment.is_some() { br; (equipment_link(names, alarm.equipment.as_ref())) }
                                }
                                td data-label=(t(lang, "Statut")) {
                                    (render::status(lang, stored.status))
                                    br;
                                    @if let (WallView::ToClose, Some(at)) = (view, alarm.resolved_at) {
                                        span.muted { (t(lang, "résolue le")) " " (time(at)) }
                                    } @else if let Some(stamp) = &alarm.acknowledged {
                                        @let (by_before, by_after) = around(t(lang, "par {name}"), "name");
                                        span.muted { (by_before) (names.person_in(viewer, &stamp.by)) (by_after) }
                                    } @else if let Some(deadline) = wall.and_then(|w| w.acknowledge_by) {
                                        (countdown(lang, deadline, viewer.caller.now_ms))
                                    } @else if let Some(held @ Suppression::Maintenance { until, .. }) = &alarm.suppression {
                                        // Issue 25, item 7: held by a window, until its end.
                                        span.muted.held title=(labels::suppression(lang, held)) {
                                            (t(lang, "retenue jusqu'au")) " " (time(*until))
                                        }
                                    } @else if alarm.suppression.is_some() {
                                        span.muted { (t(lang, "non notifiée")) }
                                    }
                                }
                                td data-label=(t(lang, "Prévenus")) { (told_list(lang, wall)) }
                                td.row-actions {
                                    @if view == WallView::ToHandle {
                                        @if alarm.acknowledged.is_none() {
                                            (row_step(alarm.id, "acquitter", t(lang, "Acquitter"), None))
                                        }
                                        @if alarm.taken_in_charge.is_none() {
                                            (row_step(alarm.id, "prendre-en-charge", t(lang, "Prendre en charge"), Some("secondary")))
                                        }
                                    } @else {
                                        a.button.secondary href=(format!("/console/alarmes/{}#clore", alarm.id)) { (t(lang, "Clore…")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The selection's steps, outside the live list so that a refresh keeps what is typed; the
/// rows' boxes belong to it through their `form` attribute.
fn selection_form(viewer: &Viewer, view: WallView) -> Markup {
    let lang = viewer.lang;
    html! {
        form.panel.selection #selection method="post" action="/console/alarmes/selection" {
            input type="hidden" name="csrf" value=(viewer.csrf);
            @match view {
                WallView::ToHandle => {
                    input type="hidden" name="vue" value="a-traiter";
                    h2 { (t(lang, "Sur les alarmes cochées")) }
                    div.actions {
                        button #select-acknowledge type="submit" name="action" value="acquitter" { (t(lang, "Acquitter la sélection")) }
                        button #select-take-charge.secondary type="submit" name="action" value="prendre-en-charge" { (t(lang, "Prendre en charge la sélection")) }
                    }
                }
                WallView::ToClose => {
                    input type="hidden" name="vue" value="a-clore";
                    h2 { (t(lang, "Clore les alarmes cochées avec un rapport commun")) }
                    (report_fields(lang, &CloseForm::default(), "selection-"))
                    div.actions { button #select-close type="submit" name="action" value="clore" { (t(lang, "Clore la sélection")) } }
                }
            }
        }
    }
}

/// The fields of a closure report, named as the report names them.
fn report_fields(lang: Lang, form: &CloseForm, prefix: &str) -> Markup {
    html! {
        label for=(format!("{prefix}actions")) { (t(lang, "Actions menées")) }
        textarea id=(format!("{prefix}actions")) name="actions" required maxlength=(ClosureReport::MAX_TEXT) { (form.actions) }
        label for=(format!("{prefix}minutes")) { (t(lang, "Temps d'intervention effectif (minutes)")) }
        input id=(format!("{prefix}minutes")) type="number" name="intervention_minutes" min="0" max=(ClosureReport::MAX_MINUTES) required value=(form.intervention_minutes);
        label for=(format!("{prefix}cause")) { (t(lang, "Cause première")) }
        textarea id=(format!("{prefix}cause")) name="root_cause" required maxlength=(ClosureReport::MAX_TEXT) { (form.root_cause) }
        label for=(format!("{prefix}parts")) { (t(lang, "Pièces remplacées (une par ligne)")) }
        textarea id=(format!("{prefix}parts")) name="parts_replaced" maxlength=(ClosureReport::MAX_TEXT) { (form.parts_replaced) }
        label for=(format!("{prefix}recommendations")) { (t(lang, "Recommandations")) }
        textarea id=(format!("{prefix}recommendations")) name="recommendations" maxlength=(ClosureReport::MAX_TEXT) { (form.recommendations) }
    }
}

/// A step on the selected alarms: each taken as from its own page, by the alarm worker; the
/// wall says how many were done and which were refused.
async fn selection(
    State(state): State<AppState>,
    viewer: Viewer,
    PageForm(form): PageForm<BTreeMap<String, String>>,
) -> PageResult {
    viewer.require_staff()?;
    viewer.check_form(form.get("csrf").map(String::as_str).unwrap_or(""))?;
    let ids: Vec<AlarmId> = form
        .iter()
        .filter(|(_, value)| value.as_str() == "1")
        .filter_map(|(key, _)| key.strip_prefix("alarme_")?.parse().ok())
        .take(MAX_SELECTION)
        .collect();
    let back = match form.get("vue").map(String::as_str) {
        Some("a-clore") => "/console?vue=a-clore&",
        _ => "/console?",
    };
    let close_form = CloseForm {
        csrf: String::new(),
        suite: String::new(),
        actions: form.get("actions").cloned().unwrap_or_default(),
        intervention_minutes: form
            .get("intervention_minutes")
            .cloned()
            .unwrap_or_default(),
        root_cause: form.get("root_cause").cloned().unwrap_or_default(),
        parts_replaced: form.get("parts_replaced").cloned().unwrap_or_default(),
        recommendations: form.get("recommendations").cloned().unwrap_or_default(),
    };
    let (step, done) = match form.get("action").map(String::as_str) {
        Some("acquitter") => (Step::Acknowledge, "acquittees"),
        Some("prendre-en-charge") => (Step::TakeCharge, "prises-en-charge"),
        Some("clore") => match closure_report(viewer.lang, &close_form) {
            Ok(report) => (Step::Close(report), "closes"),
            Err(message) => return Err(PageError::new(StatusCode::UNPROCESSABLE_ENTITY, message)),
        },
        _ => {
            return Err(PageError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                t(viewer.lang, "Choisissez une action pour la sélection."),
            ));
        }
    };
    if ids.is_empty() {
        return Err(PageError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            t(
                viewer.lang,
                "Aucune alarme cochée : cochez les alarmes sur lesquelles agir.",
            )
            .to_owned(),
        ));
    }
    let mut count = 0;
    let mut refused = Vec::new();
    for id in ids {
        match take_step(&state, &viewer.caller, id, step.clone()).await {
            Ok(()) => count += 1,
            Err(_) => refused.push(id.to_string()),
        }
    }
    let refus = if refused.is_empty() {
        String::new()
    } else {
        format!("&refus={}", refused.join("."))
    };
    Ok(Redirect::to(&format!("{back}fait={done}&n={count}{refus}")).into_response())
}

fn alarm_id(text: &str) -> Result<AlarmId, PageError> {
    text.parse().map_err(|_| PageError::not_found())
}

/// What a step's form sends.
#[derive(Debug, Default, Deserialize)]
struct StepForm {
    #[serde(default)]
    csrf: String,
    /// `mur` when the step was taken from a row of the wall: back to the wall afterwards.
    #[serde(default)]
    suite: String,
}

#[derive(Debug, Default, Deserialize)]
struct CloseForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    suite: String,
    #[serde(default)]
    actions: String,
    #[serde(default)]
    intervention_minutes: String,
    #[serde(default)]
    root_cause: String,
    /// CM-8: one part a line.
    #[serde(default)]
    parts_replaced: String,
    #[serde(default)]
    recommendations: String,
}

#[derive(Debug, Deserialize)]
struct DetailQuery {
    fait: Option<String>,
    partiel: Option<u8>,
}

async fn detail(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    PageQuery(query): PageQuery<DetailQuery>,
) -> PageResult {
    let id = alarm_id(&id)?;
    viewer.require_staff()?;
    state.alarms.settle(&state).await;
    let done = query
        .fait
        .as_deref()
        .and_then(|key| done_message(viewer.lang, key));
    if query.partiel.is_some() {
        let shown = Shown::read(&state, &viewer, id).await?;
        return Ok(
            Html(detail_region(&viewer, &shown, &CloseForm::default()).into_string())
                .into_response(),
        );
    }
    render_detail(&state, &viewer, id, done, None, &CloseForm::default()).await
}

/// What an alarm's page shows: the alarm, its history, its pages, the names it mentions.
struct Shown {
    alarm: StoredAlarm,
    events: Vec<AlarmEvent>,
    notifications: Vec<StoredNotification>,
    names: Names,
    /// The policy has a conference bridge (NOT-4): the page offers to start one.
    conference: bool,
}

impl Shown {
    async fn read(state: &AppState, viewer: &Viewer, id: AlarmId) -> Result<Shown, PageError> {
        let (alarm, events) = state
            .store
            .alarm(&viewer.caller.actor, id, viewer.caller.now_ms)
            .await?;
        let notifications = pages_of(state, viewer, id).await?;
        let mut names = Names::of(state, viewer, &[&alarm]).await?;
        let by: Vec<&Reference> = events.iter().filter_map(|e| e.by.as_ref()).collect();
        names.people.extend(
            state
                .store
                .names(&viewer.caller.actor, ObjectKind::Staff, &by)
                .await?,
        );
        Ok(Shown {
            alarm,
            events,
            notifications,
            names,
            conference: !state.escalation().policy.conference.bridges.is_empty()
                && viewer.caller.actor.may(Permission::HandleAlarms),
        })
    }
}

/// The alarm's pages for who handles alarms (the store refuses them to anyone else); none
/// shown to the others.
async fn pages_of(
    state: &AppState,
    viewer: &Viewer,
    id: AlarmId,
) -> Result<Vec<StoredNotification>, vigie_store::StoreError> {
    if viewer.caller.actor.may(Permission::HandleAlarms) {
        state.store.notifications_of(&viewer.caller.actor, id).await
    } else {
        Ok(Vec::new())
    }
}

fn done_message(lang: Lang, key: &str) -> Option<&'static str> {
    match key {
        "acquittee" => Some(t(lang, "Alarme acquittée.")),
        "prise-en-charge" => Some(t(lang, "Alarme prise en charge.")),
        "close" => Some(t(lang, "Alarme close, rapport enregistré.")),
        "conference" => Some(t(
            lang,
            "Conférence d'urgence lancée : les invitations sont parties.",
        )),
        _ => None,
    }
}

async fn render_detail(
    state: &AppState,
    viewer: &Viewer,
    id: AlarmId,
    done: Option<&str>,
    error: Option<(StatusCode, String)>,
    form: &CloseForm,
) -> PageResult {
    let shown = Shown::read(state, viewer, id).await?;
    let lang = viewer.lang;
    let title = tf(lang, "Alarme n°{id}", &[("id", &id)]);
    let body = html! {
        main.alarm {
            p { a href="/console" { "← " (t(lang, "Mur d'alarmes")) } }
            h1 { (title) " — " (labels::condition(lang, shown.alarm.alarm.condition.condition)) }
            @if let Some(done) = done { p.notice role="status" { (done) } }
            @if let Some((_, message)) = &error { p.error role="alert" { (render::plain(message)) } }
            section #detail data-live="alarms" data-src=(format!("/console/alarmes/{id}?partiel=1")) {
                (detail_region(viewer, &shown, form))
            }
        }
    };
    let status = error.map(|(status, _)| status).unwrap_or(StatusCode::OK);
    Ok((status, page(state, viewer, &title, Nav::Wall, body)).into_response())
}

/// The live part of an alarm's page: the steps open to it first (on a phone, within the
/// first screen), then its facts, its history and its pages. Refreshed by the live feed, so
/// that the steps follow its state; the script leaves it alone while a form in it is being
/// filled.
fn detail_region(viewer: &Viewer, shown: &Shown, form: &CloseForm) -> Markup {
    let stored = &shown.alarm;
    let names = &shown.names;
    let alarm = &stored.alarm;
    let now = viewer.caller.now_ms;
    let lang = viewer.lang;
    let (ago_before, ago_after) = around(t(lang, "(il y a {age})"), "age");
    let by_whom = |who: &Reference| tf(lang, "par {name}", &[("name", &names.person(who))]);
    html! {
        (quick_steps(viewer, stored))
        @if shown.conference && stored.status != Status::Closed {
            form.inline #conference method="post" action=(format!("/console/alarmes/{}/conference", alarm.id)) {
                input type="hidden" name="csrf" value=(viewer.csrf);
                button.secondary #start-conference type="submit" { (t(lang, "Lancer la conférence d'urgence")) }
                " " span.muted { (t(lang, "le technicien d'astreinte, le responsable technique et, si le contrat le prévoit, le client reçoivent le numéro, le code et le lien")) }
            }
        }
        div.panel {
            dl.facts {
                dt { (t(lang, "Gravité")) } dd { (render::severity(lang, alarm.severity)) @if alarm.flapping { " " span.muted { (t(lang, "(instable)")) } } }
                dt { (t(lang, "Statut")) } dd #alarm-status { (render::status(lang, stored.status)) }
                dt { (t(lang, "Client")) } dd {
                    @match &stored.client {
                        Some(client) => (client_link(names, client)),
                        None => (t(lang, "— (exploitation de l'intégrateur)")),
                    }
                }
                dt { (t(lang, "Site")) } dd { (site_link(names, alarm.site.as_ref())) }
                dt { (t(lang, "Équipement")) } dd { (equipment_link(names, alarm.equipment.as_ref())) }
                @if let Some(part) = &alarm.condition.part { dt { (t(lang, "Élément")) } dd { (part) } }
                dt { (t(lang, "Levée")) } dd { (time(alarm.raised_at)) " " (ago_before) (age(lang, alarm.raised_at, now)) (ago_after) }
                @if let Some(suppression) = &alarm.suppression { dt { (t(lang, "Non notifiée")) } dd { (labels::suppression(lang, suppression)) } }
                @if !alarm.cameras.is_empty() {
                    dt { (t(lang, "Caméras hors ligne")) }
                    dd { (alarm.cameras.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")) }
                }
                @if let Some(stamp) = &alarm.acknowledged { dt { (t(lang, "Acquittée")) } dd { (time(stamp.at)) " " (by_whom(&stamp.by)) } }
                @if let Some(stamp) = &alarm.taken_in_charge { dt { (t(lang, "Prise en charge")) } dd { (time(stamp.at)) " " (by_whom(&stamp.by)) } }
                @if let Some(at) = alarm.resolved_at {
                    dt { (t(lang, "Résolue")) } dd { (time(at)) @if let Some(by) = &alarm.resolved_by { " — " (tf(lang, "peut la clore : {name} ou son responsable", &[("name", &names.person(by))])) } }
                }
                @if let Some(closure) = &alarm.closure {
                    dt { (t(lang, "Close")) } dd { (time(closure.at)) " " (by_whom(&closure.by)) }
                    dt { (t(lang, "Actions menées")) } dd { (closure.report.actions) }
                    dt { (t(lang, "Temps d'intervention")) } dd { (closure.report.intervention_minutes) " min" }
                    dt { (t(lang, "Cause première")) } dd { (closure.report.root_cause) }
                    @if !closure.report.parts_replaced.is_empty() {
                        dt { (t(lang, "Pièces remplacées")) } dd { (closure.report.parts_replaced.join(", ")) }
                    }
                    @if !closure.report.recommendations.is_empty() {
                        dt { (t(lang, "Recommandations")) } dd { (closure.report.recommendations) }
                    }
                }
            }
        }
        (close_form(viewer, stored, form))
        h2 { (t(lang, "Historique")) }
        ol.timeline {
            @for event in &shown.events {
                li {
                    (time(event.at))
                    (history::alarm_event(lang, &event.kind))
                    @if let Some(by) = &event.by { " — " span.muted { (names.person_in(viewer, by)) } }
                }
            }
        }
        @if !shown.notifications.is_empty() {
            h2 { (t(lang, "Notifications")) }
            div.table-wrap {
                table {
                    thead { tr {
                        th scope="col" { (t(lang, "Créée")) } th scope="col" { (t(lang, "Étape")) } th scope="col" { (t(lang, "Destinataire")) }
                        th scope="col" { (t(lang, "Canal")) } th scope="col" { (t(lang, "État")) } th scope="col" { (t(lang, "Envoyée")) }
                    } }
                    tbody {
                        @for n in &shown.notifications {
                            tr {
                                td { (time(n.created_ms)) }
                                td { (labels::escalation_step(lang, &n.step)) }
                                td { (n.name) @if n.channel != "console" { " " span.muted { (n.address) } } }
                                td { (channel_label(lang, &n.channel)) }
                                td { (notification_status(lang, &n.status)) @if let Some(error) = &n.last_error { br; span.muted { (error) } } }
                                td { @if let Some(sent) = n.sent_ms { (time(sent)) } @else { "—" } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Acknowledge and take in charge, at the top of the alarm's page; only those open to its
/// state.
fn quick_steps(viewer: &Viewer, stored: &StoredAlarm) -> Markup {
    let alarm = &stored.alarm;
    let id = alarm.id;
    let lang = viewer.lang;
    let acknowledge = alarm.acknowledged.is_none() && stored.status != Status::Closed;
    let take_charge = (alarm.taken_in_charge.is_none() || alarm.resolved_at.is_some())
        && stored.status != Status::Closed;
    html! {
        @if acknowledge || take_charge {
            div.actions.steps #steps {
                @if acknowledge {
                    form.inline method="post" action=(format!("/console/alarmes/{id}/acquitter")) {
                        input type="hidden" name="csrf" value=(viewer.csrf);
                        button #acknowledge type="submit" { (t(lang, "Acquitter")) }
                    }
                }
                @if take_charge {
                    form.inline method="post" action=(format!("/console/alarmes/{id}/prendre-en-charge")) {
                        input type="hidden" name="csrf" value=(viewer.csrf);
                        button #take-charge.secondary type="submit" { (t(lang, "Prendre en charge")) }
                    }
                }
            }
        }
    }
}

/// The closure report, once the alarm is resolved; the worker still decides who may close.
fn close_form(viewer: &Viewer, stored: &StoredAlarm, form: &CloseForm) -> Markup {
    let alarm = &stored.alarm;
    let id = alarm.id;
    let lang = viewer.lang;
    html! {
        @if stored.status != Status::Closed {
            @if alarm.resolved_at.is_none() {
                p.muted { (t(lang, "L'alarme se résout d'elle-même quand la condition disparaît ; elle se clôt ensuite avec son rapport.")) }
            } @else {
                div.panel #clore {
                    h2 { (t(lang, "Clore l'alarme")) }
                    p.muted { (t(lang, "Seul le technicien qui l'a résolue, ou son responsable, peut la clore.")) }
                    form.stack #close-form method="post" action=(format!("/console/alarmes/{id}/clore")) {
                        input type="hidden" name="csrf" value=(viewer.csrf);
                        (report_fields(lang, form, ""))
                        div.actions { button #close type="submit" { (t(lang, "Clore l'alarme")) } }
                    }
                }
            }
        }
    }
}

/// The closure report a form gives, or what is wrong with it, field by field as the form
/// names them, all at once.
fn closure_report(lang: Lang, form: &CloseForm) -> Result<ClosureReport, String> {
    let mut wrong = Vec::new();
    if form.actions.trim().is_empty() {
        wrong.push(must_fill(lang, t(lang, "Actions menées")));
    }
    let minutes = form.intervention_minutes.trim();
    let intervention_minutes = minutes.parse::<u32>().ok();
    if intervention_minutes.is_none() {
        wrong.push(tf(
            lang,
            "« {field} » : un nombre entier de minutes est attendu (reçu « {minutes} »).",
            &[
                ("field", &t(lang, "Temps d'intervention effectif (minutes)")),
                ("minutes", &minutes),
            ],
        ));
    }
    if form.root_cause.trim().is_empty() {
        wrong.push(must_fill(lang, t(lang, "Cause première")));
    }
    match intervention_minutes {
        Some(intervention_minutes) if wrong.is_empty() => Ok(ClosureReport {
            actions: form.actions.trim().to_owned(),
            intervention_minutes,
            root_cause: form.root_cause.trim().to_owned(),
            parts_replaced: form
                .parts_replaced
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
            recommendations: form.recommendations.trim().to_owned(),
        }),
        _ => Err(wrong.join(" ")),
    }
}

async fn run_step(
    state: &AppState,
    viewer: &Viewer,
    id: AlarmId,
    step: Step,
    done: &str,
    form: &CloseForm,
) -> PageResult {
    match take_step(state, &viewer.caller, id, step).await {
        Ok(()) if form.suite == "mur" => Ok(Redirect::to("/console").into_response()),
        Ok(()) => Ok(Redirect::to(&format!("/console/alarmes/{id}?fait={done}")).into_response()),
        Err(error) if error.status == StatusCode::NOT_FOUND => Err(PageError::not_found()),
        Err(error) => {
            render_detail(
                state,
                viewer,
                id,
                None,
                Some((error.status, error.message)),
                form,
            )
            .await
        }
    }
}

/// A step without fields (acknowledge, take in charge), from its button's form.
async fn quick_step(
    state: AppState,
    viewer: Viewer,
    id: String,
    form: StepForm,
    step: Step,
    done: &str,
) -> PageResult {
    let id = alarm_id(&id)?;
    viewer.require_staff()?;
    viewer.check_form(&form.csrf)?;
    let back = CloseForm {
        suite: form.suite,
        ..CloseForm::default()
    };
    run_step(&state, &viewer, id, step, done, &back).await
}

/// Starts the alarm's emergency conference call (NOT-4), then back to its page, which lists
/// the invitations in its history and its pages.
async fn conference(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    PageForm(form): PageForm<StepForm>,
) -> PageResult {
    let id = alarm_id(&id)?;
    viewer.require_staff()?;
    viewer.check_form(&form.csrf)?;
    crate::api::alarms::start_conference(&state, &viewer.caller, id).await?;
    Ok(Redirect::to(&format!("/console/alarmes/{id}?fait=conference")).into_response())
}

async fn acknowledge(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    PageForm(form): PageForm<StepForm>,
) -> PageResult {
    quick_step(state, viewer, id, form, Step::Acknowledge, "acquittee").await
}

async fn take_charge(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    PageForm(form): PageForm<StepForm>,
) -> PageResult {
    quick_step(state, viewer, id, form, Step::TakeCharge, "prise-en-charge").await
}

async fn close(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    PageForm(form): PageForm<CloseForm>,
) -> PageResult {
    let id = alarm_id(&id)?;
    viewer.require_staff()?;
    viewer.check_form(&form.csrf)?;
    match closure_report(viewer.lang, &form) {
        Ok(report) => run_step(&state, &viewer, id, Step::Close(report), "close", &form).await,
        Err(message) => {
            render_detail(
                &state,
                &viewer,
                id,
                None,
                Some((StatusCode::UNPROCESSABLE_ENTITY, message)),
                &form,
            )
            .await
        }
    }
}
