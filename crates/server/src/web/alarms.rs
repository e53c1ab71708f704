//! The staff console's alarm pages: the live alarm wall (severity, site, equipment, age, the
//! acknowledgement deadline counting down, who was paged) and one alarm with its history,
//! its pages, and the steps people take — acknowledge, take in charge, close with the report
//! CLO-1 requires, by whom CLO-2 allows (the alarm worker decides; the page shows its answer).

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect};
use axum::routing::{get, post};
use maud::{Markup, html};
use serde::Deserialize;
use vigie_domain::access::Permission;
use vigie_domain::alarm::lifecycle::{AlarmEvent, AlarmId, ClosureReport, Status};
use vigie_store::console::{WallCursor, WallPages};
use vigie_store::{StoredAlarm, StoredNotification};

use crate::AppState;
use crate::alarms::Step;
use crate::api::alarms::take_step;
use crate::web::i18n::{Lang, around, t, tf, tn};
use crate::web::render::{
    self, age, channel_label, countdown, notification_status, time, url_encode,
};
use crate::web::{Nav, PageError, PageResult, Viewer, optional_reference, page};
use crate::web::{PageForm, PageQuery};
use crate::web::{history, labels};

/// Alarms on one page of the wall: a screen's worth, the gravest first.
const WALL_PAGE: i64 = 50;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console", get(wall))
        .route("/console/alarmes/{id}", get(detail))
        .route("/console/alarmes/{id}/acquitter", post(acknowledge))
        .route("/console/alarmes/{id}/prendre-en-charge", post(take_charge))
        .route("/console/alarmes/{id}/clore", post(close))
}

#[derive(Debug, Default, Deserialize)]
struct WallQuery {
    client: Option<String>,
    site: Option<String>,
    /// Where the page starts: `rang-numéro` of the last alarm of the page before.
    apres: Option<String>,
    /// Only the wall's live region, for the page's script.
    partiel: Option<u8>,
}

async fn wall(
    State(state): State<AppState>,
    viewer: Viewer,
    PageQuery(query): PageQuery<WallQuery>,
) -> PageResult {
    viewer.require_staff()?;
    let actor = &viewer.caller.actor;
    let now = viewer.caller.now_ms;
    let after = match query.apres.as_deref() {
        None | Some("") => None,
        Some(text) => Some(
            text.split_once('-')
                .and_then(|(rank, id)| Some((rank.parse().ok()?, id.parse().ok()?)))
                .ok_or_else(PageError::not_found)?,
        ),
    };
    state.alarms.settle(&state).await;
    let (alarms, next) = state
        .store
        .wall_alarms(
            actor,
            optional_reference(query.client.as_deref())?.as_ref(),
            optional_reference(query.site.as_deref())?.as_ref(),
            after,
            WALL_PAGE,
            now,
        )
        .await?;
    let ids: Vec<AlarmId> = alarms.iter().map(|a| a.alarm.id).collect();
    let pages = state.store.pages_for_wall(actor, &ids).await?;
    let counts = state.store.open_alarm_counts(actor).await?;
    let lang = viewer.lang;
    let region = html! {
        div.counts {
            div.panel { span.muted { (t(lang, "Critiques")) } strong { (counts.of_severity("critical")) } }
            div.panel { span.muted { (t(lang, "Majeures")) } strong { (counts.of_severity("major")) } }
            div.panel { span.muted { (t(lang, "Mineures")) } strong { (counts.of_severity("minor")) } }
            div.panel { span.muted { (t(lang, "Non acquittées")) } strong #unacknowledged { (counts.of_status("raised")) } }
        }
        (wall_table(lang, &alarms, &pages, now))
        @if let Some(next) = next {
            nav.pager aria-label=(t(lang, "Pages")) {
                a href=(wall_url(&query, Some(next), false)) { (t(lang, "Alarmes suivantes")) }
            }
        }
    };
    if query.partiel.is_some() {
        return Ok(Html(region.into_string()).into_response());
    }
    let body = html! {
        main {
            h1 { (t(lang, "Mur d'alarmes")) }
            form.filters method="get" action="/console" role="search" {
                label { (t(lang, "Client")) input type="text" name="client" value=[query.client.as_deref()] placeholder="CLI-…"; }
                label { (t(lang, "Site")) input type="text" name="site" value=[query.site.as_deref()] placeholder="SITE-…"; }
                button type="submit" { (t(lang, "Filtrer")) }
                @if query.client.is_some() || query.site.is_some() {
                    a href="/console" { (t(lang, "Tout voir")) }
                }
            }
            section #wall aria-live="polite" data-live="alarms" data-src=(wall_url(&query, after, true)) {
                (region)
            }
        }
    };
    Ok(page(&state, &viewer, t(lang, "Mur d'alarmes"), Nav::Wall, body).into_response())
}

fn wall_url(query: &WallQuery, after: Option<WallCursor>, partial: bool) -> String {
    let mut parts = Vec::new();
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

fn wall_table(
    lang: Lang,
    alarms: &[StoredAlarm],
    pages: &BTreeMap<AlarmId, WallPages>,
    now: i64,
) -> Markup {
    html! {
        @if alarms.is_empty() {
            p.panel { (t(lang, "Aucune alarme ouverte.")) }
        } @else {
            div.table-wrap {
                table {
                    caption.muted { (tn(lang, alarms.len() as i64, "{n} alarme ouverte sur cette page", "{n} alarmes ouvertes sur cette page")) }
                    thead { tr {
                        th scope="col" { (t(lang, "Gravité")) }
                        th scope="col" { (t(lang, "Site")) }
                        th scope="col" { (t(lang, "Équipement")) }
                        th scope="col" { (t(lang, "Problème")) }
                        th scope="col" { (t(lang, "Depuis")) }
                        th scope="col" { (t(lang, "Statut")) }
                        th scope="col" { (t(lang, "Acquittement")) }
                        th scope="col" { (t(lang, "Prévenus")) }
                    } }
                    tbody {
                        @for stored in alarms {
                            @let alarm = &stored.alarm;
                            @let wall = pages.get(&alarm.id);
                            tr class=(format!("sev-{}", alarm.severity.key())) data-alarm=(alarm.id) {
                                td { (render::severity(lang, alarm.severity)) }
                                td { (alarm.site.as_ref().map(|s| s.as_str()).unwrap_or("—")) }
                                td { (alarm.equipment.as_ref().map(|e| e.as_str()).unwrap_or("—")) }
                                td { a href=(format!("/console/alarmes/{}", alarm.id)) { (labels::condition(lang, alarm.condition.condition)) @if let Some(part) = &alarm.condition.part { " (" (part) ")" } } }
                                td { (age(lang, alarm.raised_at, now)) }
                                td { (render::status(lang, stored.status)) }
                                td {
                                    @if let Some(stamp) = &alarm.acknowledged {
                                        span.muted { (tf(lang, "par {name}", &[("name", &stamp.by)])) }
                                    } @else if let Some(deadline) = wall.and_then(|w| w.acknowledge_by) {
                                        (countdown(lang, deadline, now))
                                    } @else if alarm.suppression.is_some() {
                                        span.muted { (t(lang, "non notifiée")) }
                                    } @else {
                                        span.muted { "—" }
                                    }
                                }
                                td { (told_list(lang, wall)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn alarm_id(text: &str) -> Result<AlarmId, PageError> {
    text.parse().map_err(|_| PageError::not_found())
}

/// What a step's form sends.
#[derive(Debug, Default, Deserialize)]
struct StepForm {
    #[serde(default)]
    csrf: String,
}

#[derive(Debug, Default, Deserialize)]
struct CloseForm {
    #[serde(default)]
    csrf: String,
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
        let (alarm, events) = state
            .store
            .alarm(&viewer.caller.actor, id, viewer.caller.now_ms)
            .await?;
        let notifications = pages_of(&state, &viewer, id).await?;
        return Ok(
            Html(detail_region(&viewer, &alarm, &events, &notifications).into_string())
                .into_response(),
        );
    }
    render_detail(&state, &viewer, id, done, None, &CloseForm::default()).await
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
    let (alarm, events) = state
        .store
        .alarm(&viewer.caller.actor, id, viewer.caller.now_ms)
        .await?;
    let notifications = pages_of(state, viewer, id).await?;
    let lang = viewer.lang;
    let title = tf(lang, "Alarme n°{id}", &[("id", &id)]);
    let body = html! {
        main {
            p { a href="/console" { "← " (t(lang, "Mur d'alarmes")) } }
            h1 { (title) " — " (labels::condition(lang, alarm.alarm.condition.condition)) }
            @if let Some(done) = done { p.notice role="status" { (done) } }
            @if let Some((_, message)) = &error { p.error role="alert" { (message) } }
            section #detail data-live="alarms" data-src=(format!("/console/alarmes/{id}?partiel=1")) {
                (detail_region(viewer, &alarm, &events, &notifications))
            }
            (step_forms(viewer, &alarm, form))
        }
    };
    let status = error.map(|(status, _)| status).unwrap_or(StatusCode::OK);
    Ok((status, page(state, viewer, &title, Nav::Wall, body)).into_response())
}

fn detail_region(
    viewer: &Viewer,
    stored: &StoredAlarm,
    events: &[AlarmEvent],
    notifications: &[StoredNotification],
) -> Markup {
    let alarm = &stored.alarm;
    let now = viewer.caller.now_ms;
    let lang = viewer.lang;
    let (ago_before, ago_after) = around(t(lang, "(il y a {age})"), "age");
    let by_whom = |name: &vigie_domain::Reference| tf(lang, "par {name}", &[("name", name)]);
    html! {
        div.panel {
            dl.facts {
                dt { (t(lang, "Gravité")) } dd { (render::severity(lang, alarm.severity)) @if alarm.flapping { " " span.muted { (t(lang, "(instable)")) } } }
                dt { (t(lang, "Statut")) } dd #alarm-status { (render::status(lang, stored.status)) }
                dt { (t(lang, "Client")) } dd { (stored.client.as_ref().map(|c| c.as_str()).unwrap_or(t(lang, "— (exploitation de l'intégrateur)"))) }
                dt { (t(lang, "Site")) } dd { (alarm.site.as_ref().map(|s| s.as_str()).unwrap_or("—")) }
                dt { (t(lang, "Équipement")) } dd { (alarm.equipment.as_ref().map(|e| e.as_str()).unwrap_or("—")) }
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
                    dt { (t(lang, "Résolue")) } dd { (time(at)) @if let Some(by) = &alarm.resolved_by { " — " (tf(lang, "peut la clore : {name} ou son responsable", &[("name", by)])) } }
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
        h2 { (t(lang, "Historique")) }
        ol.timeline {
            @for event in events {
                li {
                    (time(event.at))
                    (history::alarm_event(lang, &event.kind))
                    @if let Some(by) = &event.by { " — " span.muted { (by) } }
                }
            }
        }
        @if !notifications.is_empty() {
            h2 { (t(lang, "Notifications")) }
            div.table-wrap {
                table {
                    thead { tr {
                        th scope="col" { (t(lang, "Créée")) } th scope="col" { (t(lang, "Étape")) } th scope="col" { (t(lang, "Destinataire")) }
                        th scope="col" { (t(lang, "Canal")) } th scope="col" { (t(lang, "État")) } th scope="col" { (t(lang, "Envoyée")) }
                    } }
                    tbody {
                        @for n in notifications {
                            tr {
                                td { (time(n.created_ms)) }
                                td { (n.step) }
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

/// The steps open to the alarm's state; the worker still decides (CLO-2).
fn step_forms(viewer: &Viewer, stored: &StoredAlarm, form: &CloseForm) -> Markup {
    let alarm = &stored.alarm;
    let id = alarm.id;
    let lang = viewer.lang;
    html! {
        @if stored.status != Status::Closed {
            h2 { (t(lang, "Actions")) }
            div.panel {
                div.actions {
                    @if alarm.acknowledged.is_none() {
                        form.inline method="post" action=(format!("/console/alarmes/{id}/acquitter")) {
                            input type="hidden" name="csrf" value=(viewer.csrf);
                            button #acknowledge type="submit" { (t(lang, "Acquitter")) }
                        }
                    }
                    @if alarm.taken_in_charge.is_none() || alarm.resolved_at.is_some() {
                        form.inline method="post" action=(format!("/console/alarmes/{id}/prendre-en-charge")) {
                            input type="hidden" name="csrf" value=(viewer.csrf);
                            button #take-charge.secondary type="submit" { (t(lang, "Prendre en charge")) }
                        }
                    }
                }
                @if alarm.resolved_at.is_none() {
                    p.muted { (t(lang, "L'alarme se résout d'elle-même quand la condition disparaît ; elle se clôt ensuite avec son rapport (CLO-1).")) }
                } @else {
                    h3 { (t(lang, "Clore l'alarme (CLO-1)")) }
                    p.muted { (t(lang, "Seul le technicien qui l'a résolue, ou son responsable, peut la clore (CLO-2).")) }
                    form.stack #close-form method="post" action=(format!("/console/alarmes/{id}/clore")) {
                        input type="hidden" name="csrf" value=(viewer.csrf);
                        label for="actions" { (t(lang, "Actions menées")) }
                        textarea #actions name="actions" required maxlength=(ClosureReport::MAX_TEXT) { (form.actions) }
                        label for="minutes" { (t(lang, "Temps d'intervention effectif (minutes)")) }
                        input #minutes type="number" name="intervention_minutes" min="0" max=(ClosureReport::MAX_MINUTES) required value=(form.intervention_minutes);
                        label for="cause" { (t(lang, "Cause première")) }
                        textarea #cause name="root_cause" required maxlength=(ClosureReport::MAX_TEXT) { (form.root_cause) }
                        label for="parts" { (t(lang, "Pièces remplacées (une par ligne)")) }
                        textarea #parts name="parts_replaced" maxlength=(ClosureReport::MAX_TEXT) { (form.parts_replaced) }
                        label for="recommendations" { (t(lang, "Recommandations")) }
                        textarea #recommendations name="recommendations" maxlength=(ClosureReport::MAX_TEXT) { (form.recommendations) }
                        div.actions { button #close type="submit" { (t(lang, "Clore l'alarme")) } }
                    }
                }
            }
        }
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
    run_step(&state, &viewer, id, step, done, &CloseForm::default()).await
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
    let minutes = form.intervention_minutes.trim();
    let Ok(intervention_minutes) = minutes.parse::<u32>() else {
        return render_detail(
            &state,
            &viewer,
            id,
            None,
            Some((
                StatusCode::UNPROCESSABLE_ENTITY,
                tf(
                    viewer.lang,
                    "temps d'intervention : un nombre entier de minutes est attendu (reçu « {minutes} »)",
                    &[("minutes", &minutes)],
                ),
            )),
            &form,
        )
        .await;
    };
    let report = ClosureReport {
        actions: form.actions.clone(),
        intervention_minutes,
        root_cause: form.root_cause.clone(),
        parts_replaced: form
            .parts_replaced
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
        recommendations: form.recommendations.trim().to_owned(),
    };
    run_step(&state, &viewer, id, Step::Close(report), "close", &form).await
}
