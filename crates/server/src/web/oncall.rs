//! On call in the console (issue 25, item 10; NOT-3, NOT-7): who is on call now and next on
//! each rotation, a rotation's coming weeks, replacements and swaps made from the page
//! (checked, saved and audited as through the API), and the calendar feeds a phone subscribes
//! to — one per rotation and one per person —, at addresses signed with the server's key
//! since a phone's calendar has no session.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use serde::Deserialize;
use vigie_domain::Reference;
use vigie_domain::access::Actor;
use vigie_domain::inventory::ObjectKind;
use vigie_domain::oncall::{self, CalendarShift, OnCall, Override, Rotation};
use vigie_domain::values::Text;
use vigie_store::ListFilter;

use crate::AppState;
use crate::delivery::{calendar_key, calendar_key_holds};
use crate::web::i18n::{Lang, t, tf};
use crate::web::names::person_link;
use crate::web::render::{self, form_instant, time, url_encode, when};
use crate::web::search::{MAX_CHOICES, choices};
use crate::web::{Nav, PageError, PageForm, PageQuery, PageResult, Viewer, labels, page};

/// The coming weeks a rotation's page lists.
const CALENDAR_DAYS: i64 = 28;
/// Most shifts a rotation's page lists.
const CALENDAR_SHIFTS: usize = 200;
/// A feed covers the past week (a shift that began) and the coming quarter.
const FEED_PAST_DAYS: i64 = 7;
const FEED_DAYS: i64 = 92;
/// Most shifts in one feed.
const FEED_SHIFTS: usize = 1_000;
const DAY_MS: i64 = 86_400_000;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/astreintes", get(rotations))
        .route("/console/astreintes/chiffres", get(figures))
        .route("/console/astreintes/{name}", get(rotation_page))
        .route("/console/astreintes/{name}/remplacement", post(replace))
        .route(
            "/console/astreintes/{name}/remplacement/retrait",
            post(withdraw),
        )
        .route("/console/astreintes/{name}/echange", post(swap))
        .route("/console/astreintes/agenda/revoquer", post(revoke_feed))
        .route("/agenda/astreinte/{file}", get(rotation_feed))
        .route("/agenda/personnel/{file}", get(person_feed))
}

/// The names of the members of these rotations and of their replacements.
async fn member_names(
    state: &AppState,
    viewer: &Viewer,
    rotations: &[Rotation],
) -> Result<BTreeMap<Reference, String>, vigie_store::StoreError> {
    let members: Vec<&Reference> = rotations
        .iter()
        .flat_map(|r| {
            r.members
                .iter()
                .chain(r.overrides.iter().map(|o| &o.member))
        })
        .collect();
    state
        .store
        .names(&viewer.caller.actor, ObjectKind::Staff, &members)
        .await
}

fn name_of(names: &BTreeMap<Reference, String>, member: &Reference) -> String {
    names
        .get(member)
        .cloned()
        .unwrap_or_else(|| member.to_string())
}

/// The shift after the one running at `now` (or the first to come).
fn next_shift(rotation: &Rotation, now: i64) -> Option<OnCall> {
    let from = rotation.on_call_at(now).map_or(now, |shift| shift.to_ms);
    rotation
        .shifts(from, from + CALENDAR_DAYS * DAY_MS, 1)
        .into_iter()
        .find(|shift| shift.from_ms >= from)
}

async fn rotations(State(state): State<AppState>, viewer: Viewer) -> PageResult {
    viewer.require_staff()?;
    let now = viewer.caller.now_ms;
    let rotations = state.store.rotations(&viewer.caller.actor).await?;
    let uncovered = oncall::uncovered(&rotations, now);
    let names = member_names(&state, &viewer, &rotations).await?;
    // Issue 26, item 1: the sites nobody will answer for in the coming 14 days.
    let gaps = state
        .store
        .oncall_coverage(&viewer.caller.actor, now)
        .await?;
    let site_refs: Vec<&Reference> = gaps
        .iter()
        .flat_map(|g| g.sites.iter().take(oncall::CoverageGap::SITES_NAMED))
        .collect();
    let site_names = state
        .store
        .names(&viewer.caller.actor, ObjectKind::Site, &site_refs)
        .await?;
    let lang = viewer.lang;
    let body = html! {
        main {
            h1 { (t(lang, "Astreintes")) }
            p {
                a #figures-link href="/console/astreintes/chiffres" { (t(lang, "Charge et réactivité des astreintes")) }
                " · "
                a #policy-link href="/console/politique" { (t(lang, "Politique d'alarme et d'escalade")) }
            }
            @if !uncovered.is_empty() {
                p.error role="alert" { (tf(lang, "Personne d'astreinte : {rotations}", &[("rotations", &uncovered.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", "))])) }
            }
            @if !gaps.is_empty() {
                section.panel #couverture role="alert" {
                    h2 { (t(lang, "Sites sans personne d'astreinte dans les 14 jours")) }
                    ul { @for gap in &gaps {
                        li data-from=(gap.from_ms) {
                            (tf(lang, "du {from} au {to}", &[("from", &when(gap.from_ms)), ("to", &when(gap.to_ms))]))
                            " — "
                            (tf(lang, "{n} site(s) : {sites}", &[
                                ("n", &gap.site_count),
                                ("sites", &gap.sites.iter().take(oncall::CoverageGap::SITES_NAMED).map(|s| site_names.get(s).cloned().unwrap_or_else(|| s.to_string())).collect::<Vec<_>>().join(", ")),
                            ]))
                            @if gap.site_count > oncall::CoverageGap::SITES_NAMED {
                                " " (tf(lang, "et {n} autres", &[("n", &(gap.site_count - oncall::CoverageGap::SITES_NAMED))]))
                            }
                        }
                    } }
                    p.muted { (t(lang, "Ajoutez une astreinte au territoire de ces sites, un secours, ou un remplacement avant cette date ; sans cela, le responsable d'astreinte sera prévenu à la place du technicien.")) }
                }
            }
            @if rotations.is_empty() {
                p.panel { (t(lang, "Aucune astreinte définie (API : PUT /api/v1/rotations/<nom>).")) }
            } @else {
                div.table-wrap.cards { table {
                    thead { tr {
                        th scope="col" { (t(lang, "Astreinte")) } th scope="col" { (t(lang, "Rôle")) } th scope="col" { (t(lang, "Territoire")) } th scope="col" { (t(lang, "D'astreinte maintenant")) }
                        th scope="col" { (t(lang, "Ensuite")) } th scope="col" { (t(lang, "Membres, dans l'ordre")) }
                    } }
                    tbody { @for rotation in &rotations {
                        @let shift = rotation.on_call_at(now);
                        @let next = next_shift(rotation, now);
                        tr data-rotation=(rotation.name.as_str()) {
                            td data-label=(t(lang, "Astreinte")) { a href=(format!("/console/astreintes/{}", url_encode(rotation.name.as_str()))) { (rotation.name.as_str()) } }
                            td data-label=(t(lang, "Rôle")) { (labels::duty(lang, rotation.duty)) }
                            td data-label=(t(lang, "Territoire")) {
                                @match &rotation.territory {
                                    Some(territory) => { (territory.as_str()) }
                                    None => { (t(lang, "tout le parc")) }
                                }
                                @if rotation.rank > oncall::PRIMARY {
                                    br; span.muted { (tf(lang, "secours n°{rank}", &[("rank", &(rotation.rank - 1))])) }
                                }
                            }
                            td data-label=(t(lang, "D'astreinte maintenant")) { @match &shift {
                                Some(shift) => {
                                    strong { (person_link(&viewer, &shift.member, &name_of(&names, &shift.member))) }
                                    @if shift.by_override { " " span.muted { (t(lang, "(remplacement)")) } }
                                    br; span.muted { (t(lang, "jusqu'au")) " " (time(shift.to_ms)) }
                                }
                                None => { span.status.st-raised { (t(lang, "personne")) } }
                            } }
                            td data-label=(t(lang, "Ensuite")) { @match &next {
                                Some(next) => { (person_link(&viewer, &next.member, &name_of(&names, &next.member))) br; span.muted { (t(lang, "à partir du")) " " (time(next.from_ms)) } }
                                None => { "—" }
                            } }
                            td data-label=(t(lang, "Membres, dans l'ordre")) { (rotation.members.iter().map(|m| name_of(&names, m)).collect::<Vec<_>>().join(", ")) }
                        }
                    } }
                } }
            }
        }
    };
    Ok(page(&state, &viewer, t(lang, "Astreintes"), Nav::OnCall, body).into_response())
}

#[derive(Debug, Default, Deserialize)]
struct FiguresQuery {
    /// First day, `AAAA-MM-JJ` on the Paris clock; 30 days before `au` when absent.
    du: Option<String>,
    /// Last day, included; today when absent.
    au: Option<String>,
}

/// A day of the figures' form, read on the Paris clock: its start.
fn day_start(text: &str) -> Option<i64> {
    let date: jiff::civil::Date = text.trim().parse().ok()?;
    let zone = vigie_domain::calendar::Calendar::business().time_zone;
    Some(date.to_zoned(zone).ok()?.timestamp().as_millisecond())
}

/// `/console/astreintes/chiffres` (issue 26, item 7): the on-call load and how fast alarms
/// were answered, over a period chosen by day.
async fn figures(
    State(state): State<AppState>,
    viewer: Viewer,
    PageQuery(query): PageQuery<FiguresQuery>,
) -> PageResult {
    viewer.require_staff()?;
    let lang = viewer.lang;
    let now = viewer.caller.now_ms;
    let today =
        vigie_domain::calendar::zoned(now, &vigie_domain::calendar::Calendar::business().time_zone)
            .map(|z| z.date().to_string())
            .unwrap_or_default();
    let to_day = query
        .au
        .clone()
        .filter(|d| !d.trim().is_empty())
        .unwrap_or(today);
    let to = day_start(&to_day)
        .map(|start| start + DAY_MS)
        .ok_or_else(|| {
            PageError::new(
                StatusCode::BAD_REQUEST,
                t(lang, "Date de fin illisible (AAAA-MM-JJ)."),
            )
        })?;
    let from = match query.du.as_deref().filter(|d| !d.trim().is_empty()) {
        Some(text) => day_start(text).ok_or_else(|| {
            PageError::new(
                StatusCode::BAD_REQUEST,
                t(lang, "Date de début illisible (AAAA-MM-JJ)."),
            )
        })?,
        None => to - crate::api::notifications::FIGURES_DEFAULT_DAYS * DAY_MS,
    };
    let from_day = vigie_domain::calendar::zoned(
        from,
        &vigie_domain::calendar::Calendar::business().time_zone,
    )
    .map(|z| z.date().to_string())
    .unwrap_or_default();
    let figures = crate::api::notifications::figures_of(&state, &viewer.caller, from, to).await?;
    let mean = |ms: Option<i64>| {
        ms.map(|ms| render::duration(lang, ms))
            .unwrap_or_else(|| "—".into())
    };
    let responses = |title: &str, id: &str, rows: &[vigie_domain::oncall_load::Response]| {
        html! {
            h2 { (title) }
            @if rows.is_empty() {
                p.panel { (t(lang, "Aucune alarme notifiée sur la période.")) }
            } @else {
                div.table-wrap { table id=(id) {
                    thead { tr {
                        th scope="col" { (title) } th scope="col" { (t(lang, "Alarmes")) }
                        th scope="col" { (t(lang, "Délai moyen d'acquittement")) } th scope="col" { (t(lang, "Délai moyen de résolution")) }
                    } }
                    tbody { @for row in rows {
                        tr data-group=(row.group.as_str()) {
                            td { (row.group.as_str()) }
                            td { (row.alarms) }
                            td { (mean(row.mtta_ms)) " " span.muted { "(" (row.acknowledged) ")" } }
                            td { (mean(row.mttr_ms)) " " span.muted { "(" (row.resolved) ")" } }
                        }
                    } }
                } }
            }
        }
    };
    let body = html! {
        main {
            p { a href="/console/astreintes" { "← " (t(lang, "Astreintes")) } }
            h1 { (t(lang, "Charge et réactivité des astreintes")) }
            form.inline method="get" action="/console/astreintes/chiffres" {
                label for="du" { (t(lang, "Du")) } " " input #du type="date" name="du" value=(from_day);
                " " label for="au" { (t(lang, "Au")) } " " input #au type="date" name="au" value=(to_day);
                " " button type="submit" { (t(lang, "Afficher")) }
            }
            h2 { (t(lang, "Pages par personne")) }
            @if figures.people.is_empty() {
                p.panel { (t(lang, "Aucune page envoyée au personnel sur la période.")) }
            } @else {
                div.table-wrap { table #people-load {
                    thead { tr {
                        th scope="col" { (t(lang, "Personne")) } th scope="col" { (t(lang, "Pages (SMS et email)")) }
                        th scope="col" { (t(lang, "Par semaine (la plus chargée)")) } th scope="col" { (t(lang, "Nuits réveillées")) }
                    } }
                    tbody { @for person in &figures.people {
                        tr data-person=(person.recipient.as_str()) {
                            td { (person_link(&viewer, &person.recipient, &person.name)) }
                            td { (person.pages) }
                            td { (person.weeks.iter().map(|(_, n)| *n).max().unwrap_or(0)) }
                            td.nights { (person.nights) }
                        }
                    } }
                } }
                p.muted { (t(lang, "Une nuit va de 22:00 à 07:00 (heure de Paris) ; elle compte quand au moins un SMS est arrivé.")) }
            }
            (responses(t(lang, "Par astreinte"), "by-rotation", &figures.by_rotation))
            (responses(t(lang, "Par territoire"), "by-territory", &figures.by_territory))
            (responses(t(lang, "Par client"), "by-client", &figures.by_client))
        }
    };
    Ok(page(
        &state,
        &viewer,
        t(lang, "Charge et réactivité des astreintes"),
        Nav::OnCall,
        body,
    )
    .into_response())
}

#[derive(Debug, Default, Deserialize)]
struct RotationQuery {
    fait: Option<String>,
}

async fn find_rotation(state: &AppState, actor: &Actor, name: &str) -> Result<Rotation, PageError> {
    state
        .store
        .rotations(actor)
        .await?
        .into_iter()
        .find(|r| r.name.as_str() == name)
        .ok_or_else(PageError::not_found)
}

/// The address of a calendar feed, signed.
pub(crate) async fn feed_address(
    state: &AppState,
    feed: &str,
    id: &Reference,
) -> Result<String, vigie_store::StoreError> {
    let key = state.deliveries.key().await?;
    let generation = state.store.feed_generation(feed, id).await?;
    Ok(format!(
        "{}/agenda/{feed}/{}.ics?cle={}",
        state.config.server.public_url.trim_end_matches('/'),
        url_encode(id.as_str()),
        calendar_key(&key, feed, id.as_str(), generation)
    ))
}

/// What was typed in the page's forms, kept when a step is refused.
#[derive(Debug, Default, Deserialize)]
struct ReplaceForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    member: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    reason: String,
}

async fn rotation_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(name): Path<String>,
    PageQuery(query): PageQuery<RotationQuery>,
) -> PageResult {
    viewer.require_staff()?;
    let done = match query.fait.as_deref() {
        Some("remplacement") => Some(t(viewer.lang, "Remplacement enregistré.")),
        Some("retrait") => Some(t(viewer.lang, "Remplacement retiré.")),
        Some("echange") => Some(t(viewer.lang, "Échange de gardes enregistré.")),
        Some("agenda") => Some(t(
            viewer.lang,
            "Nouvelle adresse d'agenda : l'ancienne ne marche plus.",
        )),
        _ => None,
    };
    render_rotation(&state, &viewer, &name, done, None, &ReplaceForm::default()).await
}

async fn render_rotation(
    state: &AppState,
    viewer: &Viewer,
    name: &str,
    done: Option<&str>,
    error: Option<String>,
    form: &ReplaceForm,
) -> PageResult {
    let rotation = find_rotation(state, &viewer.caller.actor, name).await?;
    let now = viewer.caller.now_ms;
    let lang = viewer.lang;
    let names = member_names(state, viewer, std::slice::from_ref(&rotation)).await?;
    let shifts = rotation.shifts(now, now + CALENDAR_DAYS * DAY_MS, CALENDAR_SHIFTS);
    let staff = state
        .store
        .list(
            &viewer.caller.actor,
            ObjectKind::Staff,
            &ListFilter {
                limit: Some(MAX_CHOICES),
                ..ListFilter::default()
            },
        )
        .await?;
    let rotation_feed = feed_address(state, "astreinte", &rotation.name).await?;
    let mut member_feeds = Vec::new();
    for member in &rotation.members {
        member_feeds.push((member, feed_address(state, "personnel", member).await?));
    }
    let active: Vec<&Override> = rotation
        .overrides
        .iter()
        .filter(|o| o.to_ms > now)
        .collect();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let title = tf(lang, "Astreinte {name}", &[("name", &rotation.name)]);
    let body = html! {
        main {
            p { a href="/console/astreintes" { "← " (t(lang, "Astreintes")) } }
            h1 { (title) }
            @if let Some(done) = done { p.notice role="status" { (done) } }
            @if let Some(message) = &error { p.error role="alert" { (crate::web::render::plain(message)) } }
            p.muted {
                (labels::duty(lang, rotation.duty)) " · "
                (tf(lang, "relève sur l'heure de {zone}", &[("zone", &rotation.time_zone.as_str())]))
            }
            h2 { (tf(lang, "Les {days} prochains jours", &[("days", &CALENDAR_DAYS)])) }
            div.table-wrap.cards { table #calendar {
                thead { tr { th scope="col" { (t(lang, "Du")) } th scope="col" { (t(lang, "Au")) } th scope="col" { (t(lang, "D'astreinte")) } } }
                tbody { @for shift in &shifts {
                    tr data-from=(shift.from_ms) {
                        td data-label=(t(lang, "Du")) { (time(shift.from_ms)) }
                        td data-label=(t(lang, "Au")) { (time(shift.to_ms)) }
                        td data-label=(t(lang, "D'astreinte")) {
                            (name_of(&names, &shift.member))
                            @if shift.by_override { " " span.muted { (t(lang, "(remplacement)")) } }
                        }
                    }
                } }
            } }
            @if !active.is_empty() {
                h2 { (t(lang, "Remplacements en cours et à venir")) }
                ul.overrides { @for item in &active {
                    li {
                        (name_of(&names, &item.member)) " — " (time(item.from_ms)) " → " (time(item.to_ms))
                        @if let Some(reason) = &item.reason { " " span.muted { "(" (reason.as_str()) ")" } }
                        form.inline method="post" action=(format!("/console/astreintes/{}/remplacement/retrait", url_encode(rotation.name.as_str()))) {
                            input type="hidden" name="csrf" value=(viewer.csrf);
                            input type="hidden" name="from" value=(item.from_ms);
                            input type="hidden" name="member" value=(item.member.as_str());
                            " " button.secondary type="submit" { (t(lang, "Retirer")) }
                        }
                    }
                } }
            }
            h2 { (t(lang, "Remplacer quelqu'un")) }
            form.stack.panel #replace-form method="post" action=(format!("/console/astreintes/{}/remplacement", url_encode(rotation.name.as_str()))) {
                input type="hidden" name="csrf" value=(viewer.csrf);
                label for="member" { (t(lang, "Qui prend l'astreinte")) }
                (choices(lang, "member", "member", &staff, Some(form.member.as_str()), t(lang, "Choisir…")))
                label for="from" { (tf(lang, "Du (heure de {zone})", &[("zone", &rotation.time_zone.as_str())])) }
                input #from type="datetime-local" name="from" required value=(form.from);
                label for="to" { (tf(lang, "Au (heure de {zone})", &[("zone", &rotation.time_zone.as_str())])) }
                input #to type="datetime-local" name="to" required value=(form.to);
                label for="reason" { (t(lang, "Motif")) }
                input #reason type="text" name="reason" maxlength="200" value=(form.reason);
                div.actions { button #replace type="submit" { (t(lang, "Enregistrer le remplacement")) } }
            }
            @if shifts.len() >= 2 {
                h2 { (t(lang, "Échanger deux gardes")) }
                form.stack.panel #swap-form method="post" action=(format!("/console/astreintes/{}/echange", url_encode(rotation.name.as_str()))) {
                    input type="hidden" name="csrf" value=(viewer.csrf);
                    (shift_choice(lang, "first", t(lang, "Première garde"), &shifts, &names))
                    (shift_choice(lang, "second", t(lang, "Seconde garde"), &shifts, &names))
                    div.actions { button #swap type="submit" { (t(lang, "Échanger")) } }
                }
            }
            h2 { (t(lang, "Dans l'agenda du téléphone")) }
            p.muted { (t(lang, "Abonnez l'agenda du téléphone à l'une de ces adresses (elles suffisent pour lire les gardes : ne les diffusez pas).")) }
            ul.feeds {
                li { (t(lang, "Toute l'astreinte :")) " " a #rotation-feed href=(rotation_feed) { (rotation_feed) } }
                @for (member, address) in &member_feeds {
                    li { (tf(lang, "Les gardes de {name} :", &[("name", &name_of(&names, member))])) " " a.member-feed href=(address) { (address) } }
                }
            }
            // Issue 26, item 8: an address shared by mistake, or a phone lost, is revoked.
            form.inline #revoke-feed method="post" action="/console/astreintes/agenda/revoquer" {
                input type="hidden" name="csrf" value=(viewer.csrf);
                input type="hidden" name="feed" value="astreinte";
                input type="hidden" name="id" value=(rotation.name.as_str());
                button.secondary type="submit" { (t(lang, "Changer l'adresse de l'astreinte (l'ancienne cesse de marcher)")) }
            }
        }
    };
    Ok((status, page(state, viewer, &title, Nav::OnCall, body)).into_response())
}

fn shift_choice(
    lang: Lang,
    name: &str,
    label: &str,
    shifts: &[OnCall],
    names: &BTreeMap<Reference, String>,
) -> Markup {
    html! {
        label for=(name) { (label) }
        select id=(name) name=(name) required {
            option value="" { (t(lang, "Choisir…")) }
            @for shift in shifts.iter().filter(|s| !s.by_override) {
                option value=(shift.from_ms) { (when(shift.from_ms)) " → " (when(shift.to_ms)) " : " (name_of(names, &shift.member)) }
            }
        }
    }
}

/// Saves a changed rotation as the API does: checked, audited by the store, and the
/// on-call alarms looked at again.
async fn save(state: &AppState, viewer: &Viewer, rotation: &Rotation) -> Result<(), String> {
    rotation.check().map_err(|e| e.to_string())?;
    state
        .store
        .put_rotation(&viewer.caller.actor, rotation, viewer.caller.now_ms)
        .await
        .map_err(|e| crate::error::ApiError::from(e).message)?;
    crate::api::notifications::rotations_changed(state).await;
    Ok(())
}

fn done(name: &Reference, what: &str) -> Response {
    Redirect::to(&format!(
        "/console/astreintes/{}?fait={what}",
        url_encode(name.as_str())
    ))
    .into_response()
}

async fn replace(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(name): Path<String>,
    PageForm(form): PageForm<ReplaceForm>,
) -> PageResult {
    viewer.require_staff()?;
    viewer.check_form(&form.csrf)?;
    let mut rotation = find_rotation(&state, &viewer.caller.actor, &name).await?;
    let lang = viewer.lang;
    let zone = rotation.time_zone.time_zone();
    let mut wrong = Vec::new();
    let member = Reference::parse(form.member.trim()).ok();
    if member.is_none() {
        wrong.push(tf(
            lang,
            "« {field} » : choisissez qui prend l'astreinte.",
            &[("field", &t(lang, "Qui prend l'astreinte"))],
        ));
    }
    let from = form_instant(lang, &form.from, &zone, t(lang, "Du"), &mut wrong);
    let to = form_instant(lang, &form.to, &zone, t(lang, "Au"), &mut wrong);
    let reason = match form.reason.trim() {
        "" => None,
        text => Text::parse(text).ok(),
    };
    let (Some(member), Some(from_ms), Some(to_ms)) = (member, from, to) else {
        return render_rotation(&state, &viewer, &name, None, Some(wrong.join(" ")), &form).await;
    };
    rotation.overrides.push(Override {
        from_ms,
        to_ms,
        member,
        reason,
    });
    match save(&state, &viewer, &rotation).await {
        Ok(()) => Ok(done(&rotation.name, "remplacement")),
        Err(message) => render_rotation(&state, &viewer, &name, None, Some(message), &form).await,
    }
}

async fn withdraw(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(name): Path<String>,
    PageForm(form): PageForm<ReplaceForm>,
) -> PageResult {
    viewer.require_staff()?;
    viewer.check_form(&form.csrf)?;
    let mut rotation = find_rotation(&state, &viewer.caller.actor, &name).await?;
    let from: i64 = form
        .from
        .trim()
        .parse()
        .map_err(|_| PageError::not_found())?;
    let before = rotation.overrides.len();
    rotation
        .overrides
        .retain(|o| !(o.from_ms == from && o.member.as_str() == form.member.trim()));
    if rotation.overrides.len() == before {
        return Err(PageError::not_found());
    }
    match save(&state, &viewer, &rotation).await {
        Ok(()) => Ok(done(&rotation.name, "retrait")),
        Err(message) => {
            render_rotation(
                &state,
                &viewer,
                &name,
                None,
                Some(message),
                &ReplaceForm::default(),
            )
            .await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct SwapForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    first: String,
    #[serde(default)]
    second: String,
}

async fn swap(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(name): Path<String>,
    PageForm(form): PageForm<SwapForm>,
) -> PageResult {
    viewer.require_staff()?;
    viewer.check_form(&form.csrf)?;
    let mut rotation = find_rotation(&state, &viewer.caller.actor, &name).await?;
    let lang = viewer.lang;
    let (Ok(first), Ok(second)) = (
        form.first.trim().parse::<i64>(),
        form.second.trim().parse::<i64>(),
    ) else {
        let message = t(lang, "Choisissez les deux gardes à échanger.").to_owned();
        return render_rotation(
            &state,
            &viewer,
            &name,
            None,
            Some(message),
            &ReplaceForm::default(),
        )
        .await;
    };
    let result = match rotation.swap(first, second) {
        Ok(overrides) => {
            rotation.overrides.extend(overrides);
            save(&state, &viewer, &rotation).await
        }
        Err(error) => Err(error.to_string()),
    };
    match result {
        Ok(()) => Ok(done(&rotation.name, "echange")),
        Err(message) => {
            render_rotation(
                &state,
                &viewer,
                &name,
                None,
                Some(message),
                &ReplaceForm::default(),
            )
            .await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct RevokeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    feed: String,
    #[serde(default)]
    id: String,
}

/// Revokes a calendar feed's address (issue 26, item 8), then back to the page that shows
/// the new one: the rotation's, or the person's.
async fn revoke_feed(
    State(state): State<AppState>,
    viewer: Viewer,
    PageForm(form): PageForm<RevokeForm>,
) -> PageResult {
    viewer.require_staff()?;
    viewer.check_form(&form.csrf)?;
    let id = Reference::parse(&form.id).map_err(|_| PageError::not_found())?;
    state
        .store
        .revoke_feed(&viewer.caller.actor, &form.feed, &id, viewer.caller.now_ms)
        .await?;
    let back = match form.feed.as_str() {
        "astreinte" => format!(
            "/console/astreintes/{}?fait=agenda",
            url_encode(id.as_str())
        ),
        _ => format!("/console/personnes/{}", url_encode(id.as_str())),
    };
    Ok(Redirect::to(&back).into_response())
}

#[derive(Debug, Default, Deserialize)]
struct FeedQuery {
    cle: Option<String>,
}

/// The reference a feed's file name (`<ref>.ics`) names.
fn feed_reference(file: &str) -> Result<Reference, PageError> {
    file.strip_suffix(".ics")
        .and_then(|r| Reference::parse(r).ok())
        .ok_or_else(PageError::not_found)
}

/// A feed's answer: a calendar, kept by no shared cache (its address is a key).
fn calendar_answer(body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            // A replacement shows in the phone's calendar within a minute (issue 26, item 8),
            // for the calendars that ask as often as the feed says.
            (header::CACHE_CONTROL, "private, max-age=60"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        body,
    )
        .into_response()
}

/// Checks a feed's key; a wrong key is "not found", as a feed that does not exist.
async fn check_feed(
    state: &AppState,
    feed: &str,
    id: &Reference,
    given: Option<&str>,
) -> Result<(), PageError> {
    let key = state.deliveries.key().await?;
    let generation = state.store.feed_generation(feed, id).await?;
    if given.is_some_and(|given| calendar_key_holds(&key, feed, id.as_str(), generation, given)) {
        Ok(())
    } else {
        Err(PageError::not_found())
    }
}

/// The shifts of `rotation` within the feed's window, as events, named.
fn events(
    rotation: &Rotation,
    now: i64,
    names: &BTreeMap<Reference, String>,
    only: Option<&Reference>,
) -> Vec<CalendarShift> {
    rotation
        .shifts(
            now - FEED_PAST_DAYS * DAY_MS,
            now + FEED_DAYS * DAY_MS,
            FEED_SHIFTS,
        )
        .into_iter()
        .filter(|shift| only.is_none_or(|member| shift.member == *member))
        .map(|shift| CalendarShift {
            uid: format!("{}-{}@vigie", rotation.name, shift.from_ms),
            from_ms: shift.from_ms,
            to_ms: shift.to_ms,
            summary: format!(
                "Astreinte {} : {}",
                rotation.name,
                name_of(names, &shift.member)
            ),
            description: format!(
                "{}{}",
                rotation.duty.french(),
                if shift.by_override {
                    " (remplacement)"
                } else {
                    ""
                }
            ),
        })
        .collect()
}

async fn rotation_feed(
    State(state): State<AppState>,
    Path(file): Path<String>,
    PageQuery(query): PageQuery<FeedQuery>,
) -> PageResult {
    let name = feed_reference(&file)?;
    check_feed(&state, "astreinte", &name, query.cle.as_deref()).await?;
    let actor = Actor::console("agenda");
    let rotation = find_rotation(&state, &actor, name.as_str()).await?;
    let members: Vec<&Reference> = rotation
        .members
        .iter()
        .chain(rotation.overrides.iter().map(|o| &o.member))
        .collect();
    let names = state
        .store
        .names(&actor, ObjectKind::Staff, &members)
        .await?;
    let now = state.clock.now_ms();
    let feed = oncall::calendar_feed(
        &format!("Astreinte {}", rotation.name),
        &events(&rotation, now, &names, None),
        now,
    );
    Ok(calendar_answer(feed))
}

async fn person_feed(
    State(state): State<AppState>,
    Path(file): Path<String>,
    PageQuery(query): PageQuery<FeedQuery>,
) -> PageResult {
    let member = feed_reference(&file)?;
    check_feed(&state, "personnel", &member, query.cle.as_deref()).await?;
    let actor = Actor::console("agenda");
    let rotations = state.store.rotations(&actor).await?;
    let names = state
        .store
        .names(&actor, ObjectKind::Staff, &[&member])
        .await?;
    let now = state.clock.now_ms();
    let mut shifts: Vec<CalendarShift> = rotations
        .iter()
        .flat_map(|rotation| events(rotation, now, &names, Some(&member)))
        .take(FEED_SHIFTS)
        .collect();
    shifts.sort_by_key(|s| s.from_ms);
    let feed = oncall::calendar_feed(
        &format!("Astreintes de {}", name_of(&names, &member)),
        &shifts,
        now,
    );
    Ok(calendar_answer(feed))
}
