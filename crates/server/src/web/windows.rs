//! Maintenance from the console (issue 25, item 7; ALR-9): one-off maintenance windows and
//! silences on a site or one equipment, opened with an end and a reason, shown with the site's
//! recurring windows of the inventory, and ended early; the wall, the site's and the
//! equipment's pages say what is silenced and until when (`running_panel`).

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use maud::{Markup, html};
use serde::Deserialize;
use vigie_domain::Reference;
use vigie_domain::alarm::window::{OneOffKind, OneOffWindow};
use vigie_domain::inventory::{MaintenanceWindow, ObjectKind, Record};
use vigie_store::ListFilter;
use vigie_store::windows::{WindowFilter, WindowState};

use crate::AppState;
use crate::api::windows::{OpenBody, new_window};
use crate::web::i18n::{Lang, t, tf};
use crate::web::names::{Names, Wanted, equipment_in, equipment_link, site_in, site_link};
use crate::web::render::{form_instant, must_fill, time, url_encode};
use crate::web::search::{MAX_CHOICES, choices};
use crate::web::{Nav, PageForm, PageQuery, PageResult, Viewer, page};

/// Windows listed as running or to come, and as ended recently.
const CURRENT_PAGE: i64 = 100;
const PAST_PAGE: i64 = 20;
/// Running windows the wall and a site's page name; beyond, a link to the whole list.
pub(crate) const RUNNING_SHOWN: i64 = 10;
/// The end a new window's form offers: two hours from now.
const DEFAULT_LENGTH_MS: i64 = 2 * 3_600_000;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/maintenance", get(windows_page).post(open))
        .route("/console/maintenance/{id}/terminer", post(end))
}

#[derive(Debug, Default, Deserialize)]
struct WindowsQuery {
    site: Option<String>,
    equipement: Option<String>,
    /// What a step did: `ouverte` or `terminee`.
    fait: Option<String>,
}

/// What was typed in the form, kept when it is refused.
#[derive(Debug, Default, Deserialize)]
struct WindowForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    site: String,
    #[serde(default)]
    equipment: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    reason: String,
}

/// A kind of window in words.
pub(crate) fn kind_label(lang: Lang, kind: OneOffKind) -> &'static str {
    match kind {
        OneOffKind::Maintenance => t(lang, "Maintenance planifiée"),
        OneOffKind::Silence => t(lang, "Silence"),
    }
}

/// An instant as a `datetime-local` value, on Paris time.
fn local_value(ms: i64) -> String {
    vigie_domain::calendar::zoned(ms, &crate::reports::paris())
        .map(|z| z.strftime("%Y-%m-%dT%H:%M").to_string())
        .unwrap_or_default()
}

/// The names of the sites and equipment these windows are on, in one query.
async fn names_of(
    state: &AppState,
    viewer: &Viewer,
    windows: &[&OneOffWindow],
) -> Result<Names, vigie_store::StoreError> {
    if windows.is_empty() {
        return Ok(Names::default());
    }
    let mut wanted = Wanted::default();
    for window in windows {
        wanted.sites.push(&window.site);
        wanted.equipment.extend(window.equipment.as_ref());
        wanted.people.push(&window.created_by);
    }
    Names::read(state, viewer, &wanted).await
}

/// The windows running at `now` (started, not ended) that `viewer` sees, on `site` if given,
/// with the names they show.
pub(crate) async fn running(
    state: &AppState,
    viewer: &Viewer,
    site: Option<&Reference>,
) -> Result<(Vec<OneOffWindow>, Names), vigie_store::StoreError> {
    let now = viewer.caller.now_ms;
    let windows: Vec<OneOffWindow> = state
        .store
        .windows(
            &viewer.caller.actor,
            &WindowFilter {
                state: WindowState::Current,
                now,
                site: site.cloned(),
                equipment: None,
                limit: Some(CURRENT_PAGE),
            },
        )
        .await?
        .into_iter()
        .filter(|w| w.starts_at <= now)
        .collect();
    let names = names_of(state, viewer, &windows.iter().collect::<Vec<_>>()).await?;
    Ok((windows, names))
}

/// What is held back now and until when (nothing when nothing is): for the staff, the wall's,
/// a site's and an equipment's line, with the kind of each window and where to manage them;
/// for a client, its dashboard's, saying that the alerts there are not sent meanwhile.
pub(crate) fn running_panel(viewer: &Viewer, windows: &[OneOffWindow], names: &Names) -> Markup {
    let lang = viewer.lang;
    let staff = viewer.is_staff();
    let (id, title, heading) = if staff {
        (
            "silenced",
            t(lang, "Maintenances et silences en cours"),
            t(lang, "Notifications retenues :"),
        )
    } else {
        (
            "maintenance",
            t(lang, "Maintenance en cours"),
            t(lang, "Maintenance en cours :"),
        )
    };
    html! {
        @if !windows.is_empty() {
            section.panel.silenced id=(id) aria-label=(title) {
                strong { (heading) }
                ul {
                    @for window in windows.iter().take(RUNNING_SHOWN as usize) {
                        li data-window=(window.id) {
                            @if staff { (kind_label(lang, window.kind)) " — " }
                            @match &window.equipment {
                                Some(equipment) => { (equipment_in(viewer, names, Some(equipment))) " (" (site_in(viewer, names, Some(&window.site))) ")" }
                                None => { (site_in(viewer, names, Some(&window.site))) }
                            }
                            " " (t(lang, "jusqu'au")) " " (time(window.end())) " · " em { (window.reason.as_str()) }
                        }
                    }
                }
                @if staff {
                    a href="/console/maintenance" {
                        @if windows.len() as i64 > RUNNING_SHOWN {
                            (tf(lang, "Voir les {n} fenêtres", &[("n", &windows.len())]))
                        } @else {
                            (t(lang, "Gérer les maintenances"))
                        }
                    }
                } @else {
                    p.muted { (t(lang, "Pendant ce temps, les alertes de ces équipements ne vous sont pas envoyées ; elles le sont à la fin si le problème est toujours là.")) }
                }
            }
        }
    }
}

/// A window's scope by name: the equipment (and its site) or the whole site.
fn scope(names: &Names, window: &OneOffWindow) -> Markup {
    html! {
        @match &window.equipment {
            Some(equipment) => { (equipment_link(names, Some(equipment))) br; span.muted { (site_link(names, Some(&window.site))) } }
            None => { (site_link(names, Some(&window.site))) }
        }
    }
}

/// A site's recurring windows of the inventory, in words.
fn recurring(lang: Lang, windows: &[MaintenanceWindow]) -> Markup {
    html! {
        @if windows.is_empty() {
            p.muted #recurring { (t(lang, "Aucune fenêtre récurrente dans l'inventaire de ce site.")) }
        } @else {
            ul #recurring {
                @for window in windows {
                    li {
                        @if let Some(label) = &window.label { strong { (label.as_str()) } " — " }
                        (window.days.iter().map(|d| crate::web::render::weekday_name(lang, vigie_domain::policy::jiff_weekday(*d))).collect::<Vec<_>>().join(", "))
                        " " (tf(lang, "à {start}, pendant {duration}", &[("start", &window.start), ("duration", &window.duration)]))
                    }
                }
            }
        }
    }
}

async fn windows_page(
    State(state): State<AppState>,
    viewer: Viewer,
    PageQuery(query): PageQuery<WindowsQuery>,
) -> PageResult {
    viewer.require_staff()?;
    let now = viewer.caller.now_ms;
    let form = WindowForm {
        site: query.site.clone().unwrap_or_default(),
        equipment: query.equipement.clone().unwrap_or_default(),
        kind: OneOffKind::Maintenance.key().into(),
        from: local_value(now),
        to: local_value(now + DEFAULT_LENGTH_MS),
        ..WindowForm::default()
    };
    let done = match query.fait.as_deref() {
        Some("ouverte") => Some(t(
            viewer.lang,
            "Fenêtre ouverte : les alarmes qu'elle couvre ne sont pas notifiées jusqu'à sa fin.",
        )),
        Some("terminee") => Some(t(
            viewer.lang,
            "Fenêtre terminée : les alarmes qu'elle retenait sont notifiées.",
        )),
        _ => None,
    };
    render(&state, &viewer, &form, done, None).await
}

async fn render(
    state: &AppState,
    viewer: &Viewer,
    form: &WindowForm,
    done: Option<&str>,
    error: Option<String>,
) -> PageResult {
    let actor = &viewer.caller.actor;
    let lang = viewer.lang;
    let now = viewer.caller.now_ms;
    let filter = |state| WindowFilter {
        state,
        now,
        site: None,
        equipment: None,
        limit: Some(CURRENT_PAGE),
    };
    let current = state
        .store
        .windows(actor, &filter(WindowState::Current))
        .await?;
    let past = state
        .store
        .windows(
            actor,
            &WindowFilter {
                limit: Some(PAST_PAGE),
                ..filter(WindowState::Past)
            },
        )
        .await?;
    let names = names_of(
        state,
        viewer,
        &current.iter().chain(past.iter()).collect::<Vec<_>>(),
    )
    .await?;
    let bounded = ListFilter {
        limit: Some(MAX_CHOICES),
        ..ListFilter::default()
    };
    let sites = state
        .store
        .name_list(actor, ObjectKind::Site, &bounded)
        .await?;
    // Once a site is chosen: its equipment to choose from, and its recurring windows.
    let site = Reference::parse(form.site.trim()).ok();
    let (equipment, site_record) = match &site {
        Some(site) => {
            let equipment = state
                .store
                .name_list(
                    actor,
                    ObjectKind::Equipment,
                    &ListFilter {
                        site: Some(site.clone()),
                        ..bounded.clone()
                    },
                )
                .await?;
            let record = match state.store.get(actor, ObjectKind::Site, site).await {
                Ok(Record::Site(record)) => Some(record),
                Ok(_) | Err(vigie_store::StoreError::NotFound) => None,
                Err(error) => return Err(error.into()),
            };
            (equipment, record)
        }
        None => (Vec::new(), None),
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let title = t(lang, "Maintenances et silences");
    let body = html! {
        main {
            h1 { (title) }
            @if let Some(done) = done { p.notice role="status" { (done) } }
            @if let Some(message) = &error { p.error role="alert" { (crate::web::render::plain(message)) } }
            p.muted { (t(lang, "Une maintenance planifiée retient les notifications et retire sa durée de la disponibilité du rapport mensuel ; un silence retient seulement les notifications. Les alarmes restent mesurées et affichées ; celles qui sont encore là à la fin de la fenêtre sont notifiées à ce moment.")) }
            h2 { (t(lang, "En cours et à venir")) }
            @if current.is_empty() {
                p.panel #no-window { (t(lang, "Aucune fenêtre en cours ni à venir.")) }
            } @else {
                div.table-wrap.cards { table #current-windows {
                    thead { tr {
                        th scope="col" { (t(lang, "Type")) }
                        th scope="col" { (t(lang, "Sur")) }
                        th scope="col" { (t(lang, "Du")) }
                        th scope="col" { (t(lang, "Au")) }
                        th scope="col" { (t(lang, "Motif")) }
                        th scope="col" { (t(lang, "Par")) }
                        th scope="col" { span.visually-hidden { (t(lang, "Actions")) } }
                    } }
                    tbody { @for window in &current {
                        tr data-window=(window.id) {
                            td data-label=(t(lang, "Type")) {
                                (kind_label(lang, window.kind))
                                @if window.starts_at > now { " " span.muted { (t(lang, "(à venir)")) } }
                            }
                            td data-label=(t(lang, "Sur")) { (scope(&names, window)) }
                            td data-label=(t(lang, "Du")) { (time(window.starts_at)) }
                            td data-label=(t(lang, "Au")) { (time(window.ends_at)) }
                            td data-label=(t(lang, "Motif")) { (window.reason.as_str()) }
                            td data-label=(t(lang, "Par")) { (names.person_in(viewer, &window.created_by)) }
                            td {
                                form.inline method="post" action=(format!("/console/maintenance/{}/terminer", window.id)) {
                                    input type="hidden" name="csrf" value=(viewer.csrf);
                                    button.secondary type="submit" data-end=(window.id) {
                                        @if window.starts_at > now { (t(lang, "Annuler")) } @else { (t(lang, "Terminer maintenant")) }
                                    }
                                }
                            }
                        }
                    } }
                } }
            }
            h2 #new-window { (t(lang, "Nouvelle fenêtre")) }
            @if site.is_none() {
                form.stack.panel #choose-site method="get" action="/console/maintenance" {
                    label for="window-site" { (t(lang, "Site")) }
                    (choices(lang, "window-site", "site", &sites, None, t(lang, "Choisir…")))
                    div.actions { button type="submit" { (t(lang, "Continuer")) } }
                }
            } @else {
                form.stack.panel #window-form method="post" action="/console/maintenance" {
                    input type="hidden" name="csrf" value=(viewer.csrf);
                    label for="window-site" { (t(lang, "Site")) }
                    (choices(lang, "window-site", "site", &sites, Some(form.site.as_str()), t(lang, "Choisir…")))
                    label for="window-equipment" { (t(lang, "Équipement")) }
                    (choices(lang, "window-equipment", "equipment", &equipment, Some(form.equipment.as_str()), t(lang, "Tout le site")))
                    fieldset {
                        legend { (t(lang, "Type")) }
                        @for kind in OneOffKind::ALL {
                            label.choice {
                                input type="radio" name="kind" value=(kind.key()) checked[form.kind == kind.key()];
                                " " (kind_label(lang, kind))
                            }
                        }
                    }
                    label for="window-from" { (t(lang, "Du (heure de Paris)")) }
                    input #window-from type="datetime-local" name="from" value=(form.from);
                    label for="window-to" { (t(lang, "Au (heure de Paris)")) }
                    input #window-to type="datetime-local" name="to" required value=(form.to);
                    label for="window-reason" { (t(lang, "Motif")) }
                    input #window-reason type="text" name="reason" required maxlength="500" value=(form.reason)
                        placeholder=(t(lang, "Remplacement du commutateur, coupure électrique prévue…"));
                    div.actions { button #open-window type="submit" { (t(lang, "Ouvrir la fenêtre")) } }
                }
                @if let Some(record) = &site_record {
                    h3 { (tf(lang, "Fenêtres récurrentes de {site}", &[("site", &record.name.as_str())])) }
                    (recurring(lang, &record.maintenance_windows))
                    p { a href=(crate::web::inventory::edit_link(ObjectKind::Site, &record.reference)) { (t(lang, "Modifier dans l'inventaire")) } }
                }
            }
            h2 { (t(lang, "Terminées récemment")) }
            @if past.is_empty() {
                p.muted { (t(lang, "Aucune.")) }
            } @else {
                div.table-wrap.cards { table #past-windows {
                    thead { tr {
                        th scope="col" { (t(lang, "Type")) }
                        th scope="col" { (t(lang, "Sur")) }
                        th scope="col" { (t(lang, "Du")) }
                        th scope="col" { (t(lang, "Au")) }
                        th scope="col" { (t(lang, "Motif")) }
                        th scope="col" { (t(lang, "Par")) }
                    } }
                    tbody { @for window in &past {
                        tr data-window=(window.id) {
                            td data-label=(t(lang, "Type")) { (kind_label(lang, window.kind)) }
                            td data-label=(t(lang, "Sur")) { (scope(&names, window)) }
                            td data-label=(t(lang, "Du")) { (time(window.starts_at)) }
                            td data-label=(t(lang, "Au")) {
                                (time(window.end().max(window.starts_at)))
                                @if let Some(by) = window.ended_by.as_ref().filter(|_| window.ended_at.is_some_and(|e| e < window.ends_at)) {
                                    br; span.muted { (t(lang, "terminée par")) " " (names.person_in(viewer, by)) }
                                }
                            }
                            td data-label=(t(lang, "Motif")) { (window.reason.as_str()) }
                            td data-label=(t(lang, "Par")) { (names.person_in(viewer, &window.created_by)) }
                        }
                    } }
                } }
            }
        }
    };
    let mut response = page(state, viewer, title, Nav::Maintenance, body).into_response();
    *response.status_mut() = status;
    Ok(response)
}

async fn open(
    State(state): State<AppState>,
    viewer: Viewer,
    PageForm(form): PageForm<WindowForm>,
) -> PageResult {
    viewer.require_staff()?;
    viewer.check_form(&form.csrf)?;
    let lang = viewer.lang;
    let now = viewer.caller.now_ms;
    let zone = crate::reports::paris();
    // Every field's fault at once, named as the form labels it.
    let mut wrong = Vec::new();
    let site = Reference::parse(form.site.trim()).ok();
    if site.is_none() {
        wrong.push(tf(
            lang,
            "« {field} » : choisissez le site.",
            &[("field", &t(lang, "Site"))],
        ));
    }
    // An equipment not understood is said, never read as the whole site.
    let equipment = match form.equipment.trim() {
        "" => None,
        text => match Reference::parse(text) {
            Ok(equipment) => Some(equipment),
            Err(_) => {
                wrong.push(tf(
                    lang,
                    "« {field} » : équipement « {reference} » inconnu.",
                    &[("field", &t(lang, "Équipement")), ("reference", &text)],
                ));
                None
            }
        },
    };
    let kind = OneOffKind::parse(form.kind.trim());
    if kind.is_none() {
        wrong.push(tf(
            lang,
            "« {field} » : choisissez maintenance planifiée ou silence.",
            &[("field", &t(lang, "Type"))],
        ));
    }
    // An empty start is now.
    let from = match form.from.trim() {
        "" => Some(now),
        text => form_instant(
            lang,
            text,
            &zone,
            t(lang, "Du (heure de Paris)"),
            &mut wrong,
        ),
    };
    let to = form_instant(
        lang,
        &form.to,
        &zone,
        t(lang, "Au (heure de Paris)"),
        &mut wrong,
    );
    if form.reason.trim().is_empty() {
        wrong.push(must_fill(lang, t(lang, "Motif")));
    }
    let (Some(site), Some(kind), Some(from), Some(to), true) =
        (site, kind, from, to, wrong.is_empty())
    else {
        return render(&state, &viewer, &form, None, Some(wrong.join(" "))).await;
    };
    // The form offers now to the minute: a start in the current minute is now.
    let from = if from < now && now - from < 60_000 {
        now
    } else {
        from
    };
    let body = OpenBody {
        kind,
        site,
        equipment,
        starts_at: Some(from),
        ends_at: to,
        reason: form.reason.clone(),
    };
    let window = match new_window(body, now) {
        Ok(window) => window,
        Err(error) => return render(&state, &viewer, &form, None, Some(error.message)).await,
    };
    match crate::api::windows::open_window(&state, &viewer.caller, &window).await {
        Ok(_) => Ok(Redirect::to("/console/maintenance?fait=ouverte").into_response()),
        Err(error) if error.status == StatusCode::UNPROCESSABLE_ENTITY => {
            render(&state, &viewer, &form, None, Some(error.message)).await
        }
        Err(error) => Err(error.into()),
    }
}

async fn end(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    PageForm(form): PageForm<WindowForm>,
) -> PageResult {
    viewer.require_staff()?;
    viewer.check_form(&form.csrf)?;
    crate::api::windows::end_window(&state, &viewer.caller, id).await?;
    Ok(Redirect::to("/console/maintenance?fait=terminee").into_response())
}

/// The link that opens the form for a site, or one equipment of it.
pub(crate) fn new_window_link(site: &Reference, equipment: Option<&Reference>) -> String {
    let mut link = format!("/console/maintenance?site={}", url_encode(site.as_str()));
    if let Some(equipment) = equipment {
        link.push_str(&format!("&equipement={}", url_encode(equipment.as_str())));
    }
    link.push_str("#new-window");
    link
}
