//! Ticket pages (SAV-1, SAV-3, SAV-4, SAV-6, CM-2, X-2): the staff's queue, most urgent
//! first with its next deadline counting down, and the client's own tickets; one ticket with
//! its deadlines and its history; the client's guided form to report a problem (site,
//! equipment, symptom, impact, the criticality it suggests — in doubt, the highest), the
//! client's confirmation of a fix, and its satisfaction survey once the ticket is closed
//! (SAV-7, the same answers as by the emailed link). The store decides who sees what and what
//! each may do.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect};
use axum::routing::{get, post};
use maud::{Markup, html};
use serde::Deserialize;
use vigie_domain::Reference;
use vigie_domain::inventory::{ObjectKind, Record};
use vigie_domain::inventory::{Priority, SlaMeasure};
use vigie_domain::ticket::desk::{
    DataImpact, Impact, Kind, Report, Resolution, Source, SurveyAnswers, Ticket,
};
use vigie_domain::ticket::{Action, StatedCriticality, Status};
use vigie_store::{ListFilter, TicketFilter, TicketStep};

use crate::AppState;
use crate::api::tickets::{open_report, take_ticket_step};
use crate::web::i18n::{Lang, t, tf};
use crate::web::names::{Names, client_link, equipment_in, site_in};
use crate::web::render::must_fill;
use crate::web::render::{self, countdown, time, url_encode};
use crate::web::search::{MAX_CHOICES, choices, place_filters};
use crate::web::{Nav, PageError, PageResult, Viewer, optional_reference, page};
use crate::web::{PageForm, PageQuery};
use crate::web::{history, labels};

const QUEUE_PAGE: i64 = 100;
/// The most equipment offered in the form's list; a bigger site is typed by reference.
const FORM_EQUIPMENT: i64 = 500;

/// A photo's request: the photo at its largest, and the form's other fields.
const PHOTO_BODY_BYTES: usize = vigie_domain::ticket::photo::MAX_PHOTO_BYTES + 64 * 1024;
/// The documents (photos, reports) a ticket's page lists.
const TICKET_DOCUMENTS: i64 = 50;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/tickets", get(queue))
        .route("/console/tickets/{number}", get(detail))
        .route("/portail/tickets", get(queue))
        .route("/portail/tickets/{number}", get(detail))
        .route("/portail/tickets/{number}/confirmer", post(confirm))
        .route("/portail/tickets/{number}/enquete", post(survey))
        .route("/portail/tickets/{number}/message", post(client_message))
        .route("/portail/tickets/{number}/prevenir", post(choose_told_by))
        .route(
            "/portail/tickets/{number}/photo",
            post(client_photo).layer(axum::extract::DefaultBodyLimit::max(PHOTO_BODY_BYTES)),
        )
        .route("/console/tickets/{number}/etape", post(staff_step))
        .route("/console/tickets/{number}/point", post(update_client))
        .route("/console/tickets/{number}/cloture", post(close))
        .route("/console/tickets/{number}/resolution", post(resolve))
        .route("/portail/signaler", get(report_form).post(report))
}

/// The part of the site a viewer works in: the console for the staff, the portal for a
/// client; the other part's addresses are "not found" for them.
fn base(viewer: &Viewer) -> &'static str {
    if viewer.is_staff() {
        "/console"
    } else {
        "/portail"
    }
}

/// A staff member's form posted on a ticket's page: the console's, carrying its session's
/// token, about the ticket `number` names.
pub(crate) fn staff_form(viewer: &Viewer, csrf: &str, number: &str) -> Result<u64, PageError> {
    check_part(viewer, false)?;
    viewer.check_form(csrf)?;
    ticket_number(number)
}

fn check_part(viewer: &Viewer, portal: bool) -> Result<(), PageError> {
    if viewer.is_staff() == portal {
        Err(PageError::not_found())
    } else {
        Ok(())
    }
}

fn nav(viewer: &Viewer) -> Nav {
    if viewer.is_staff() {
        Nav::Tickets
    } else {
        Nav::PortalTickets
    }
}

#[derive(Debug, Default, Deserialize)]
struct QueueQuery {
    apres: Option<u64>,
    /// `tous`: closed ones too.
    etat: Option<String>,
    partiel: Option<u8>,
    /// The queue's filters, as choices: a priority key, a status key, a client's and a site's
    /// reference, who it is assigned to (`moi`: the viewer), `proche` for the SLA at risk.
    priorite: Option<String>,
    statut: Option<String>,
    client: Option<String>,
    site: Option<String>,
    confie: Option<String>,
    echeance: Option<String>,
}

/// A deadline is at risk within this much wall-clock time (or already past).
const AT_RISK_MS: i64 = 60 * 60_000;

impl QueueQuery {
    /// The query's filters as an address's parameters (without `apres` and `partiel`).
    fn parameters(&self) -> String {
        let mut parts = Vec::new();
        for (name, value) in [
            ("etat", &self.etat),
            ("priorite", &self.priorite),
            ("statut", &self.statut),
            ("client", &self.client),
            ("site", &self.site),
            ("confie", &self.confie),
            ("echeance", &self.echeance),
        ] {
            if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
                parts.push(format!("{name}={}", url_encode(value)));
            }
        }
        parts.join("&")
    }

    fn filtered(&self) -> bool {
        [
            &self.priorite,
            &self.statut,
            &self.client,
            &self.site,
            &self.confie,
            &self.echeance,
        ]
        .iter()
        .any(|v| v.as_deref().is_some_and(|v| !v.is_empty()))
    }
}

fn next_due(ticket: &Ticket) -> Option<(i64, SlaMeasure)> {
    ticket
        .sla
        .dues()
        .into_iter()
        .map(|(measure, due)| (due, measure))
        .min()
}

/// A ticket's deadline counting down, with the open time left on its calendar when nights
/// or weekends make it differ (« reste 2 j 15 h — 4 h 30 min ouvrées »).
fn deadline_left(
    state: &AppState,
    lang: Lang,
    ticket: &Ticket,
    measure: SlaMeasure,
    due: i64,
    now: i64,
) -> Markup {
    let open = ticket
        .sla
        .open_time_left(&state.escalation().policy, measure, now);
    html! {
        (countdown(lang, due, now))
        @if let Some(open) = open.filter(|open| due > now && (due - now) - open > 60_000) {
            " " span.muted.open-left { (tf(lang, "({d} ouvrées)", &[("d", &render::duration(lang, open))])) }
        }
    }
}

/// A filter's choice from the address: empty means none.
fn chosen(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

async fn queue(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: axum::http::Uri,
    PageQuery(query): PageQuery<QueueQuery>,
) -> PageResult {
    check_part(&viewer, uri.path().starts_with("/portail"))?;
    let lang = viewer.lang;
    let now = viewer.caller.now_ms;
    let all = query.etat.as_deref() == Some("tous");
    let invalid = |what: &str| {
        PageError::new(
            StatusCode::BAD_REQUEST,
            tf(lang, "filtre invalide : {what}", &[("what", &what)]),
        )
    };
    let priority = match chosen(&query.priorite) {
        Some(key) => Some(
            Priority::ALL
                .into_iter()
                .find(|p| p.key() == key)
                .ok_or_else(|| invalid(key))?,
        ),
        None => None,
    };
    let status = match chosen(&query.statut) {
        Some(key) => Some(
            Status::ALL
                .into_iter()
                .find(|s| s.key() == key)
                .ok_or_else(|| invalid(key))?,
        ),
        None => None,
    };
    let own = viewer.caller.actor.staff().cloned();
    let assignee = match chosen(&query.confie) {
        Some("moi") => Some(own.clone().ok_or_else(|| {
            PageError::new(
                StatusCode::BAD_REQUEST,
                t(lang, "Votre compte n'est lié à aucune fiche du personnel : vous n'avez pas de tickets à vous."),
            )
        })?),
        other => optional_reference(other)?,
    };
    let filter = TicketFilter {
        open: (!all).then_some(true),
        after: query.apres,
        limit: Some(QUEUE_PAGE),
        priority,
        status,
        client: if viewer.is_staff() {
            optional_reference(chosen(&query.client))?
        } else {
            None
        },
        site: optional_reference(chosen(&query.site))?,
        assignee: if viewer.is_staff() { assignee } else { None },
        due_before: (chosen(&query.echeance) == Some("proche")).then_some(now + AT_RISK_MS),
    };
    let tickets = state.store.tickets(&viewer.caller.actor, &filter).await?;
    let next = (tickets.len() as i64 == QUEUE_PAGE)
        .then(|| tickets.last().map(|t| t.number))
        .flatten();
    let names = Names::of_tickets(&state, &viewer, &tickets.iter().collect::<Vec<_>>()).await?;
    let root = base(&viewer);
    let parameters = query.parameters();
    let region = html! {
        @if tickets.is_empty() {
            p.panel { @if query.filtered() { (t(lang, "Aucun ticket ne répond à ces filtres.")) } @else { (t(lang, "Aucun ticket.")) } }
        } @else {
            div.table-wrap.cards { table {
                thead { tr {
                    th scope="col" { (t(lang, "N°")) } th scope="col" { (t(lang, "Priorité")) } th scope="col" { (t(lang, "Statut")) }
                    @if viewer.is_staff() { th scope="col" { (t(lang, "Client")) } }
                    th scope="col" { (t(lang, "Site")) } th scope="col" { (t(lang, "Problème")) }
                    th scope="col" { (t(lang, "Prochaine échéance")) }
                    @if viewer.is_staff() { th scope="col" { (t(lang, "Confié à")) } }
                } }
                tbody {
                    @for ticket in &tickets {
                        tr data-ticket=(ticket.number) {
                            td data-label=(t(lang, "N°")) { a href=(format!("{root}/tickets/{}", ticket.number)) { (ticket.number) } }
                            td data-label=(t(lang, "Priorité")) { (labels::priority(lang, ticket.priority)) }
                            td data-label=(t(lang, "Statut")) { (labels::ticket_status(lang, ticket.status)) }
                            @if viewer.is_staff() { td data-label=(t(lang, "Client")) { (client_link(&names, &ticket.report.client)) } }
                            td data-label=(t(lang, "Site")) { (site_in(&viewer, &names, ticket.report.site.as_ref())) }
                            td data-label=(t(lang, "Problème")) { a href=(format!("{root}/tickets/{}", ticket.number)) { (vigie_domain::text::shorten(&labels::ticket_problem(lang, &ticket.report), 120)) } }
                            td data-label=(t(lang, "Prochaine échéance")) {
                                @if let Some((due, measure)) = next_due(ticket) {
                                    (tf(lang, "{deadline} :", &[("deadline", &labels::measure(lang, measure))])) " " (deadline_left(&state, lang, ticket, measure, due, now))
                                } @else { "—" }
                            }
                            @if viewer.is_staff() { td data-label=(t(lang, "Confié à")) { @match &ticket.assignee { Some(a) => (names.person_in(&viewer, a)), None => "—" } } }
                        }
                    }
                }
            } }
        }
        @if let Some(next) = next {
            nav.pager { a href=(format!("{root}/tickets?apres={next}&{parameters}")) { (t(lang, "Tickets suivants")) } }
        }
    };
    if query.partiel.is_some() {
        return Ok(Html(region.into_string()).into_response());
    }
    let mut src = format!("{root}/tickets?partiel=1&{parameters}");
    if let Some(after) = query.apres {
        src.push_str(&format!("&apres={after}"));
    }
    let title = if viewer.is_staff() {
        t(lang, "File des tickets")
    } else {
        t(lang, "Mes tickets")
    };
    let staff = if viewer.is_staff() {
        let choices = ListFilter {
            limit: Some(MAX_CHOICES),
            ..ListFilter::default()
        };
        state
            .store
            .list(&viewer.caller.actor, ObjectKind::Staff, &choices)
            .await?
    } else {
        Vec::new()
    };
    let places = if viewer.is_staff() {
        place_filters(
            &state,
            &viewer,
            chosen(&query.client),
            chosen(&query.site),
            true,
        )
        .await?
    } else {
        html! {}
    };
    // A client user's own sites, to choose one.
    let sites = match viewer.caller.actor.visibility().client().cloned() {
        Some(client) if !viewer.is_staff() => {
            state
                .store
                .list(
                    &viewer.caller.actor,
                    ObjectKind::Site,
                    &ListFilter {
                        client: Some(client),
                        limit: Some(MAX_CHOICES),
                        ..ListFilter::default()
                    },
                )
                .await?
        }
        _ => Vec::new(),
    };
    let body = html! {
        main {
            h1 { (title) }
            div.actions {
                @if viewer.is_staff() {
                    a.button #new-call href="/console/tickets/nouveau" { (t(lang, "Nouveau ticket (appel)")) }
                    @if own.is_some() {
                        a.button.secondary #my-tickets href="/console/tickets?confie=moi" aria-current=[(chosen(&query.confie) == Some("moi")).then_some("page")] { (t(lang, "Mes tickets")) }
                    }
                    a.button.secondary #at-risk href="/console/tickets?echeance=proche" { (t(lang, "Échéance dans l'heure ou dépassée")) }
                }
                @if all { a href=(format!("{root}/tickets")) { (t(lang, "Tickets ouverts seulement")) } }
                @else { a href=(format!("{root}/tickets?etat=tous")) { (t(lang, "Voir aussi les tickets clos")) } }
                @if !viewer.is_staff() { a.button href="/portail/signaler" { (t(lang, "Signaler un problème")) } }
            }
            form.filters #queue-filters method="get" action=(format!("{root}/tickets")) role="search" {
                @if all { input type="hidden" name="etat" value="tous"; }
                label { (t(lang, "Priorité"))
                    select name="priorite" {
                        option value="" { (t(lang, "Toutes")) }
                        @for priority in Priority::ALL {
                            option value=(priority.key()) selected[chosen(&query.priorite) == Some(priority.key())] { (labels::priority(lang, priority)) }
                        }
                    }
                }
                label { (t(lang, "Statut"))
                    select name="statut" {
                        option value="" { (t(lang, "Tous")) }
                        @for status in Status::ALL {
                            option value=(status.key()) selected[chosen(&query.statut) == Some(status.key())] { (labels::ticket_status(lang, status)) }
                        }
                    }
                }
                @if viewer.is_staff() {
                    (places)
                } @else if !sites.is_empty() {
                    label { (t(lang, "Site")) (choices(lang, "filter-site", "site", &sites, chosen(&query.site), t(lang, "Tous"))) }
                }
                @if viewer.is_staff() {
                    label { (t(lang, "Confié à"))
                        select name="confie" {
                            option value="" { (t(lang, "Tout le monde")) }
                            @if own.is_some() { option value="moi" selected[chosen(&query.confie) == Some("moi")] { (t(lang, "Moi")) } }
                            @for record in &staff {
                                option value=(record.reference().as_str()) selected[chosen(&query.confie) == Some(record.reference().as_str())] { (record.name()) }
                            }
                        }
                    }
                    label { (t(lang, "Échéance"))
                        select name="echeance" {
                            option value="" { (t(lang, "Toutes")) }
                            option value="proche" selected[chosen(&query.echeance) == Some("proche")] { (t(lang, "Dans l'heure ou dépassée")) }
                        }
                    }
                }
                button type="submit" { (t(lang, "Filtrer")) }
                @if query.filtered() { a href=(format!("{root}/tickets")) { (t(lang, "Tout voir")) } }
            }
            @if viewer.is_staff() { p.muted { (t(lang, "Les plus urgents d'abord : par prochaine échéance contractuelle.")) } }
            section #tickets data-live="tickets" data-src=(src) { (region) }
        }
    };
    Ok(page(&state, &viewer, title, nav(&viewer), body).into_response())
}

/// The staff record the viewer's account is linked to, if any.
pub(crate) fn impact_label(lang: Lang, impact: Impact) -> &'static str {
    match impact {
        Impact::SecurityCompromised => t(
            lang,
            "Tout le système vidéo, ou une zone entière, n'est plus surveillé (ou contrôle d'accès compromis)",
        ),
        Impact::PartialLoss => t(
            lang,
            "Des caméras d'une zone sensible, ou une partie des enregistrements, sont perdues",
        ),
        Impact::OneEquipment => t(
            lang,
            "Un équipement est en panne, sans impact global sur la sécurité",
        ),
        Impact::NoSecurityImpact => t(
            lang,
            "Une gêne sans impact sur la sécurité (affichage, lenteur, réglage)",
        ),
        Impact::Question => t(lang, "Une question, un conseil, une demande de formation"),
        Impact::Unknown => t(lang, "Je ne sais pas"),
    }
}

pub(crate) const IMPACTS: [(Impact, &str); 6] = [
    (Impact::SecurityCompromised, "security_compromised"),
    (Impact::PartialLoss, "partial_loss"),
    (Impact::OneEquipment, "one_equipment"),
    (Impact::NoSecurityImpact, "no_security_impact"),
    (Impact::Question, "question"),
    (Impact::Unknown, "unknown"),
];

#[derive(Debug, Default, Deserialize)]
struct DetailQuery {
    fait: Option<String>,
    /// `1`: the ticket's facts and history alone; `actions`: its actions alone (what the
    /// live feed asks for once the ticket has changed).
    partiel: Option<String>,
}

fn ticket_number(text: &str) -> Result<u64, PageError> {
    text.parse().map_err(|_| PageError::not_found())
}

async fn detail(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: axum::http::Uri,
    Path(number): Path<String>,
    PageQuery(query): PageQuery<DetailQuery>,
) -> PageResult {
    check_part(&viewer, uri.path().starts_with("/portail"))?;
    let number = ticket_number(&number)?;
    render_detail(&state, &viewer, number, &query, None, &Forms::default()).await
}

/// What was typed in a ticket page's forms, kept when the desk refuses it.
#[derive(Debug, Default)]
pub(crate) struct Forms {
    resolution: ResolutionForm,
    survey: SurveyForm,
}

async fn render_detail(
    state: &AppState,
    viewer: &Viewer,
    number: u64,
    query: &DetailQuery,
    error: Option<(StatusCode, String)>,
    forms: &Forms,
) -> PageResult {
    let (ticket, events) = state.store.ticket(&viewer.caller.actor, number).await?;
    let now = viewer.caller.now_ms;
    let root = base(viewer);
    let lang = viewer.lang;
    let mut names = Names::of_tickets(state, viewer, &[&ticket]).await?;
    names.people.extend(
        state
            .store
            .names(
                &viewer.caller.actor,
                ObjectKind::Staff,
                &history::people_of(&events),
            )
            .await?,
    );
    let lines = history::ticket_lines(lang, &events, &names.people);
    // The client's photos and the intervention reports, within the viewer's walls.
    let documents = state
        .store
        .documents(
            &viewer.caller.actor,
            &vigie_store::documents::DocumentFilter {
                ticket: Some(number),
                limit: Some(TICKET_DOCUMENTS),
                ..Default::default()
            },
        )
        .await?;
    let done = match query.fait.as_deref() {
        Some("ouvert") => Some(t(
            lang,
            "Votre signalement est enregistré : un accusé de réception part vers vos contacts.",
        )),
        Some("confirme") => Some(t(lang, "Merci : votre confirmation clôt le ticket.")),
        Some("avis") => Some(t(lang, "Merci : votre avis est enregistré.")),
        Some("point") => Some(t(lang, "Le point d'avancement est parti vers le client.")),
        Some("clos") => Some(t(
            lang,
            "Le ticket est clos ; le motif est inscrit à son historique.",
        )),
        Some("ouvert-appel") => Some(t(lang, "Ticket ouvert pour l'appel.")),
        Some("confie") => Some(t(lang, "Ticket confié.")),
        Some("requalifie") => Some(t(
            lang,
            "Ticket requalifié ; ses échéances suivent la nouvelle priorité.",
        )),
        Some("diagnostic") => Some(t(lang, "Diagnostic enregistré.")),
        Some("intervention") => Some(t(lang, "Intervention planifiée.")),
        Some("post-mortem") => Some(t(lang, "Post-mortem enregistré.")),
        Some("post-mortem-partage") => Some(t(lang, "Post-mortem partagé avec le client.")),
        Some("etape") => Some(t(lang, "Étape enregistrée.")),
        Some("message") => Some(t(
            lang,
            "Votre message est ajouté au ticket ; l'équipe technique le voit.",
        )),
        Some("prevenir") => Some(t(
            lang,
            "C'est noté : vous serez prévenu de ce ticket comme vous l'avez choisi.",
        )),
        Some("photo") => Some(t(
            lang,
            "Votre photo est ajoutée au ticket ; l'équipe technique la voit.",
        )),
        _ => None,
    };
    let region = html! {
        div.panel { dl.facts {
            dt { (t(lang, "Priorité")) } dd { (labels::priority(lang, ticket.priority)) }
            dt { (t(lang, "Statut")) } dd #ticket-status { (labels::ticket_status(lang, ticket.status)) }
            dt { (t(lang, "Reçu")) } dd { (time(ticket.received_at)) }
            @if viewer.is_staff() { dt { (t(lang, "Client")) } dd { (client_link(&names, &ticket.report.client)) } }
            dt { (t(lang, "Site")) } dd { (site_in(viewer, &names, ticket.report.site.as_ref())) }
            dt { (t(lang, "Équipement")) } dd { (equipment_in(viewer, &names, ticket.report.equipment.as_ref())) }
            dt { (t(lang, "Problème")) } dd { (labels::ticket_problem(lang, &ticket.report)) }
            @if let Some(impact) = ticket.report.impact { dt { (t(lang, "Impact")) } dd { (impact_label(lang, impact)) } }
            @if let Some(told_by) = ticket.told_by { dt { (t(lang, "Client prévenu")) } dd #told-by { (labels::told_by(lang, told_by)) } }
            @if viewer.is_staff() { dt { (t(lang, "Confié à")) } dd #assignee { @match &ticket.assignee { Some(a) => (names.person_in(viewer, a)), None => "—" } } }
            @for (measure, due) in ticket.sla.dues() {
                dt { (tf(lang, "Échéance : {deadline}", &[("deadline", &labels::measure(lang, measure))])) } dd { (time(due)) " — " (deadline_left(state, lang, &ticket, measure, due, now)) }
            }
            @if let Some(resolution) = &ticket.resolution {
                dt { (t(lang, "Résolution")) } dd { (resolution.root_cause) }
                dt { (t(lang, "Actions menées")) } dd { (resolution.actions) }
            }
            @if let Some(answers) = &ticket.survey {
                dt { (t(lang, "Enquête de satisfaction")) }
                dd #survey-answers {
                    @for (i, ((_, label), mark)) in survey_questions(lang).into_iter().zip(survey_marks(answers)).enumerate() {
                        @if i > 0 { ", " }
                        (tf(lang, "{question} : {mark}/5", &[("question", &label), ("mark", &mark)]))
                    }
                    @if let Some(comment) = &answers.comment { br; "« " (comment) " »" }
                }
            }
        } }
        @if !documents.is_empty() {
            h2 { (t(lang, "Photos et documents")) }
            ul.documents #ticket-documents {
                @for document in &documents {
                    @let href = format!("{root}/documents/{}/fichier", document.id);
                    li {
                        @if document.content_type.starts_with("image/") {
                            a href=(href) { img.photo src=(href) alt=(document.title) loading="lazy"; }
                            br;
                        }
                        a href=(href) { (document.title) } " " span.muted { (time(document.created_at)) }
                    }
                }
            }
        }
        h2 { (t(lang, "Historique")) }
        ol.timeline {
            @for entry in &lines {
                li {
                    (time(entry.at)) (entry.what)
                    @if let Some(by) = &entry.by {
                        " — " span.muted { @match Reference::parse(by) { Ok(by) => (names.person_in(viewer, &by)), Err(_) => (by) } }
                    }
                }
            }
        }
    };
    if query.partiel.as_deref() == Some("1") {
        return Ok(Html(region.into_string()).into_response());
    }
    let staff = if viewer.is_staff() {
        state
            .store
            .list(
                &viewer.caller.actor,
                ObjectKind::Staff,
                &ListFilter {
                    limit: Some(MAX_CHOICES),
                    ..ListFilter::default()
                },
            )
            .await?
    } else {
        Vec::new()
    };
    let sent = if viewer.is_staff() {
        Vec::new()
    } else {
        state
            .store
            .messages_to_client(&viewer.caller.actor, number)
            .await?
    };
    let actions = html! {
        @if viewer.is_staff() && ticket.status != Status::Closed {
            // NOT-4 (issue 26, item 2): a P1 incident offers the emergency conference call on
            // its alarm, when the integrator has a bridge.
            @if let Some(alarm) = ticket.report.alarm.filter(|_| {
                ticket.priority == Priority::P1
                    && !state.escalation().policy.conference.bridges.is_empty()
                    && viewer.caller.actor.may(vigie_domain::access::Permission::HandleAlarms)
            }) {
                form.inline.panel #conference method="post" action=(format!("/console/alarmes/{alarm}/conference")) {
                    input type="hidden" name="csrf" value=(viewer.csrf);
                    button.secondary #start-conference type="submit" { (t(lang, "Lancer la conférence d'urgence")) }
                    " " span.muted { (t(lang, "le technicien d'astreinte, le responsable technique et, si le contrat le prévoit, le client reçoivent le numéro, le code et le lien")) }
                }
            }
            (staff_forms(viewer, &ticket, &forms.resolution))
            (crate::web::desk::desk_forms(viewer, &ticket, &staff))
        }
        @if !viewer.is_staff() {
            (client_messages(viewer, &sent))
            @if ticket.status != Status::Closed {
                h2 { (t(lang, "Ajouter un message")) }
                form.stack.panel #comment-form method="post" action=(format!("/portail/tickets/{number}/message")) {
                    input type="hidden" name="csrf" value=(viewer.csrf);
                    label for="comment" { (t(lang, "Votre message à l'équipe technique")) }
                    textarea #comment name="text" required maxlength="4000" {}
                    div.actions { button #send-comment type="submit" { (t(lang, "Envoyer le message")) } }
                }
                h2 { (t(lang, "Comment être prévenu")) }
                form.stack.panel #told-by-form method="post" action=(format!("/portail/tickets/{number}/prevenir")) {
                    input type="hidden" name="csrf" value=(viewer.csrf);
                    @if ticket.told_by.is_none() {
                        p.muted { (t(lang, "Aujourd'hui : par email, et aussi par SMS pour le suivi d'un incident. Un contact sans adresse pour le moyen choisi reste prévenu par l'autre.")) }
                    }
                    fieldset {
                        legend { (t(lang, "Me prévenir de ce ticket")) }
                        @for choice in vigie_domain::ticket::desk::ToldBy::ALL {
                            label.choice {
                                input type="radio" name="told_by" value=(choice.key()) checked[ticket.told_by == Some(choice)];
                                " " (labels::told_by(lang, choice))
                            }
                        }
                    }
                    div.actions { button.secondary #save-told-by type="submit" { (t(lang, "Enregistrer")) } }
                }
                h2 { (t(lang, "Ajouter une photo")) }
                form.stack.panel #photo-form method="post" enctype="multipart/form-data" action=(format!("/portail/tickets/{number}/photo")) {
                    input type="hidden" name="csrf" value=(viewer.csrf);
                    label for="photo" { (t(lang, "Photo (JPEG, PNG ou WebP, 10 Mio au plus)")) }
                    input #photo type="file" name="photo" required accept="image/jpeg,image/png,image/webp" capture="environment";
                    label for="photo-caption" { (t(lang, "Ce qu'elle montre (facultatif)")) }
                    input #photo-caption type="text" name="legende" maxlength="500";
                    div.actions { button #send-photo type="submit" { (t(lang, "Envoyer la photo")) } }
                }
            }
        }
        @if !viewer.is_staff() && survey_due(&ticket, now) {
            (survey_form(viewer, &ticket, &forms.survey))
        }
        @if !viewer.is_staff() && ticket.status == Status::Resolved {
            h2 { (t(lang, "Le problème est-il résolu ?")) }
            form.panel method="post" action=(format!("/portail/tickets/{number}/confirmer")) {
                input type="hidden" name="csrf" value=(viewer.csrf);
                p { (t(lang, "Si tout fonctionne de nouveau, confirmez : le ticket sera clos. Sinon, répondez à l'email de résolution ou signalez un nouveau problème.")) }
                button #confirm type="submit" { (t(lang, "Je confirme que le problème est résolu")) }
            }
        }
    };
    if query.partiel.as_deref() == Some("actions") {
        return Ok(Html(actions.into_string()).into_response());
    }
    let title = tf(lang, "Ticket n°{number}", &[("number", &number)]);
    let status = error
        .as_ref()
        .map(|(status, _)| *status)
        .unwrap_or(StatusCode::OK);
    let body = html! {
        main {
            p { a href=(format!("{root}/tickets")) { "← " (t(lang, "Tickets")) } }
            h1 { (title) }
            @if let Some(done) = done { p.notice role="status" { (done) } }
            @if let Some((_, message)) = &error { p.error role="alert" { (render::plain(message)) } }
            section #ticket data-live="tickets" data-src=(format!("{root}/tickets/{number}?partiel=1")) { (region) }
            // What can be done follows where the ticket stands: the feed brings the steps of
            // its new state (the client's confirmation once it is resolved) without a reload.
            section #ticket-actions data-live="tickets" data-src=(format!("{root}/tickets/{number}?partiel=actions")) { (actions) }
        }
    };
    Ok((status, page(state, viewer, &title, nav(viewer), body)).into_response())
}

/// The steps a technician takes from the ticket's page (action, form key, button); the desk
/// refuses what does not fit where the ticket stands, and the page shows why.
fn staff_steps(lang: Lang) -> [(Action, &'static str, &'static str); 5] {
    [
        (
            Action::TakeCharge,
            "take_charge",
            t(lang, "Prendre en charge"),
        ),
        (
            Action::PlanIntervention,
            "plan_intervention",
            t(lang, "Intervention planifiée"),
        ),
        (
            Action::ArriveOnSite,
            "arrive_on_site",
            t(lang, "Arrivé sur site"),
        ),
        (
            Action::WaitForClient,
            "wait_for_client",
            t(lang, "En attente du client"),
        ),
        (
            Action::ClientReplied,
            "client_replied",
            t(lang, "Le client a répondu"),
        ),
    ]
}

fn staff_forms(viewer: &Viewer, ticket: &Ticket, form: &ResolutionForm) -> Markup {
    let number = ticket.number;
    let lang = viewer.lang;
    html! {
        h2 { (t(lang, "Actions")) }
        div.panel {
            div.actions {
                @for (action, key, label) in staff_steps(lang) {
                    @if ticket.offered_steps().contains(&action) {
                        form.inline method="post" action=(format!("/console/tickets/{number}/etape")) {
                            input type="hidden" name="csrf" value=(viewer.csrf);
                            input type="hidden" name="action" value=(key);
                            button.secondary id=(format!("step-{key}")) type="submit" { (label) }
                        }
                    }
                }
            }
        }
        @if ticket.status != Status::Resolved {
            h3 { (t(lang, "Point d'avancement au client")) }
            form.stack.panel #update-form method="post" action=(format!("/console/tickets/{number}/point")) {
                input type="hidden" name="csrf" value=(viewer.csrf);
                label for="update_text" { (t(lang, "Texte envoyé au contact technique (email et SMS ; à la direction aussi pour un P1)")) }
                textarea #update_text name="text" required maxlength="4000" {}
                div.actions { button #send-update type="submit" { (t(lang, "Envoyer le point au client")) } }
            }
        }
        h3 { (t(lang, "Clore sans confirmation du client")) }
        form.stack.panel #close-form method="post" action=(format!("/console/tickets/{number}/cloture")) {
            input type="hidden" name="csrf" value=(viewer.csrf);
            p.muted { (t(lang, "Un ticket se clôt à la confirmation du client, ou 5 jours après une relance restée sans réponse. Sinon, dites pourquoi : le motif est inscrit au ticket et montré au client.")) }
            label for="close_reason" { (t(lang, "Motif (par exemple : confirmé par téléphone par M. Martin le 12/03 à 10 h)")) }
            input #close_reason type="text" name="reason" maxlength="4000";
            div.actions { button.secondary #step-close type="submit" { (t(lang, "Clore le ticket")) } }
        }
        @if ticket.status != Status::Resolved {
            h3 { (t(lang, "Résoudre le ticket")) }
            form.stack.panel #resolution-form method="post" action=(format!("/console/tickets/{number}/resolution")) {
                input type="hidden" name="csrf" value=(viewer.csrf);
                label for="root_cause" { (t(lang, "Cause")) }
                textarea #root_cause name="root_cause" required maxlength="4000" { (form.root_cause) }
                label for="actions" { (t(lang, "Actions menées")) }
                textarea #actions name="actions" required maxlength="4000" { (form.actions) }
                label for="minutes" { (t(lang, "Temps d'intervention effectif (minutes)")) }
                input #minutes type="number" name="intervention_minutes" min="0" required value=(form.intervention_minutes);
                fieldset {
                    legend { (t(lang, "Impact sur les données de sécurité")) }
                    div { input #footage_lost type="checkbox" name="footage_lost" value="1" checked[form.footage_lost.is_some()]; label for="footage_lost" { " " (t(lang, "Images non enregistrées ou détruites")) } }
                    div { input #accesses_untracked type="checkbox" name="accesses_untracked" value="1" checked[form.accesses_untracked.is_some()]; label for="accesses_untracked" { " " (t(lang, "Accès non journalisés")) } }
                    label for="description" { (t(lang, "Ce qui a été perdu (caméras, portes, périodes)")) }
                    textarea #description name="description" maxlength="4000" { (form.description) }
                }
                label for="parts" { (t(lang, "Pièces remplacées (une par ligne)")) }
                textarea #parts name="parts_replaced" maxlength="4000" { (form.parts_replaced) }
                label for="recommendations" { (t(lang, "Recommandations")) }
                textarea #recommendations name="recommendations" maxlength="4000" { (form.recommendations) }
                div.actions { button #resolve type="submit" { (t(lang, "Résoudre le ticket")) } }
            }
        }
    }
}

#[derive(Debug, Deserialize)]
struct StepForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    action: String,
}

async fn staff_step(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(number): Path<String>,
    PageForm(form): PageForm<StepForm>,
) -> PageResult {
    let number = staff_form(&viewer, &form.csrf, &number)?;
    let steps = staff_steps(viewer.lang);
    let Some((action, _, _)) = steps.iter().find(|(_, key, _)| *key == form.action) else {
        return Err(PageError::new(
            StatusCode::BAD_REQUEST,
            tf(
                viewer.lang,
                "étape inconnue : « {step} »",
                &[("step", &form.action)],
            ),
        ));
    };
    take(
        &state,
        &viewer,
        number,
        TicketStep::Act(*action),
        "etape",
        &Forms::default(),
    )
    .await
}

#[derive(Debug, Deserialize)]
struct TextForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    reason: String,
}

/// INC-4: the point given to the client, sent as it is written.
async fn update_client(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(number): Path<String>,
    PageForm(form): PageForm<TextForm>,
) -> PageResult {
    let number = staff_form(&viewer, &form.csrf, &number)?;
    take(
        &state,
        &viewer,
        number,
        TicketStep::UpdateClient { text: form.text },
        "point",
        &Forms::default(),
    )
    .await
}

/// SAV-6: closed without the client's confirmation, with the reason given (or none, which
/// the desk accepts only once the reminder went unanswered for its 5 days).
async fn close(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(number): Path<String>,
    PageForm(form): PageForm<TextForm>,
) -> PageResult {
    let number = staff_form(&viewer, &form.csrf, &number)?;
    let reason = Some(form.reason).filter(|r| !r.trim().is_empty());
    take(
        &state,
        &viewer,
        number,
        TicketStep::Close { reason },
        "clos",
        &Forms::default(),
    )
    .await
}

/// Takes a step; its refusal is shown on the ticket's page with what was typed.
/// A ticket's page with a step refused before it reached the desk, and why.
pub(crate) async fn refused(
    state: &AppState,
    viewer: &Viewer,
    number: u64,
    status: StatusCode,
    message: String,
) -> PageResult {
    render_detail(
        state,
        viewer,
        number,
        &DetailQuery::default(),
        Some((status, message)),
        &Forms::default(),
    )
    .await
}

pub(crate) async fn take(
    state: &AppState,
    viewer: &Viewer,
    number: u64,
    step: TicketStep,
    done: &str,
    forms: &Forms,
) -> PageResult {
    match take_ticket_step(state, &viewer.caller, number, step).await {
        Ok(_) => {
            Ok(Redirect::to(&format!("/console/tickets/{number}?fait={done}")).into_response())
        }
        Err(vigie_store::StoreError::NotFound) => Err(PageError::not_found()),
        Err(error) => {
            let error = crate::error::ApiError::from(error);
            let query = DetailQuery::default();
            render_detail(
                state,
                viewer,
                number,
                &query,
                Some((error.status, error.message)),
                forms,
            )
            .await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct ResolutionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    root_cause: String,
    #[serde(default)]
    actions: String,
    #[serde(default)]
    intervention_minutes: String,
    footage_lost: Option<String>,
    accesses_untracked: Option<String>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    parts_replaced: String,
    #[serde(default)]
    recommendations: String,
}

async fn resolve(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(number): Path<String>,
    PageForm(form): PageForm<ResolutionForm>,
) -> PageResult {
    let number = staff_form(&viewer, &form.csrf, &number)?;
    let minutes = form.intervention_minutes.trim();
    let Ok(intervention_minutes) = minutes.parse::<u32>() else {
        let query = DetailQuery::default();
        let message = tf(
            viewer.lang,
            "temps d'intervention : un nombre entier de minutes est attendu (reçu « {minutes} »)",
            &[("minutes", &minutes)],
        );
        let forms = Forms {
            resolution: form,
            ..Forms::default()
        };
        return render_detail(
            &state,
            &viewer,
            number,
            &query,
            Some((StatusCode::UNPROCESSABLE_ENTITY, message)),
            &forms,
        )
        .await;
    };
    let resolution = Resolution {
        root_cause: form.root_cause.clone(),
        actions: form.actions.clone(),
        intervention_minutes,
        data_impact: DataImpact {
            footage_lost: form.footage_lost.is_some(),
            accesses_untracked: form.accesses_untracked.is_some(),
            description: form.description.trim().to_string(),
        },
        parts_replaced: form
            .parts_replaced
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect(),
        recommendations: form.recommendations.trim().to_string(),
    };
    let forms = Forms {
        resolution: form,
        ..Forms::default()
    };
    take(
        &state,
        &viewer,
        number,
        TicketStep::Resolve(resolution),
        "resolu",
        &forms,
    )
    .await
}

#[derive(Debug, Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn confirm(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(number): Path<String>,
    PageForm(form): PageForm<CsrfForm>,
) -> PageResult {
    check_part(&viewer, true)?;
    viewer.check_form(&form.csrf)?;
    let number = ticket_number(&number)?;
    take_ticket_step(
        &state,
        &viewer.caller,
        number,
        TicketStep::Act(Action::ClientConfirms),
    )
    .await?;
    Ok(Redirect::to(&format!("/portail/tickets/{number}?fait=confirme")).into_response())
}

/// The survey's questions (SAV-7), in the order of the form and of the emailed link's: the
/// form's field, its wording.
fn survey_questions(lang: Lang) -> [(&'static str, &'static str); 3] {
    [
        ("responsiveness", t(lang, "Réactivité de notre équipe")),
        ("quality", t(lang, "Qualité de la solution apportée")),
        (
            "communication",
            t(lang, "Communication pendant le traitement"),
        ),
    ]
}

/// The survey's three questions as fieldsets of marks from 1 to 5, each mark `given` checked:
/// the portal's form and the emailed link's page share them.
pub(super) fn survey_marks_fields(lang: Lang, given: impl Fn(&str) -> Option<u8>) -> Markup {
    html! {
        @for (key, label) in survey_questions(lang) {
            fieldset.marks {
                legend { (label) " " span.muted { (t(lang, "(1 : très insatisfait, 5 : très satisfait)")) } }
                @for mark in 1..=5u8 {
                    @let id = format!("survey-{key}-{mark}");
                    span.mark {
                        input type="radio" id=(id) name=(key) value=(mark) required checked[given(key) == Some(mark)];
                        label for=(id) { (mark) }
                    }
                }
            }
        }
    }
}

/// The marks given, in the order of [`survey_questions`].
fn survey_marks(answers: &SurveyAnswers) -> [u8; 3] {
    [
        answers.responsiveness,
        answers.quality,
        answers.communication,
    ]
}

/// Whether the client is asked its opinion of this ticket here: closed (the survey follows
/// the closure), not an internal review, not answered yet, and no longer ago than the
/// emailed survey link stays valid, so that both ways offer it for the same time.
fn survey_due(ticket: &Ticket, now: i64) -> bool {
    const LINK_VALID_MS: i64 = crate::delivery::CLIENT_LINK_DAYS * 86_400_000;
    ticket.status == Status::Closed
        && ticket.report.kind != Kind::Review
        && ticket.survey.is_none()
        && ticket
            .closed_at
            .is_some_and(|closed| now - closed < LINK_VALID_MS)
}

fn survey_form(viewer: &Viewer, ticket: &Ticket, form: &SurveyForm) -> Markup {
    let lang = viewer.lang;
    let number = ticket.number;
    html! {
        h2 #survey-title { (t(lang, "Votre avis nous intéresse")) }
        form.stack.panel #survey-form method="post" action=(format!("/portail/tickets/{number}/enquete")) aria-labelledby="survey-title" {
            input type="hidden" name="csrf" value=(viewer.csrf);
            p { (t(lang, "Trois questions, une minute : elles nous aident à mieux vous servir.")) }
            (survey_marks_fields(lang, |key| form.mark(key)))
            label for="survey-comment" { (t(lang, "Un commentaire (facultatif)")) }
            textarea #survey-comment name="comment" maxlength=(SurveyAnswers::MAX_COMMENT) { (form.comment) }
            div.actions { button #send-survey type="submit" { (t(lang, "Envoyer mon avis")) } }
        }
    }
}

/// The survey as posted: marks as text, so that a wrong one is the desk's clear message.
#[derive(Debug, Default, Deserialize)]
struct SurveyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    responsiveness: String,
    #[serde(default)]
    quality: String,
    #[serde(default)]
    communication: String,
    #[serde(default)]
    comment: String,
}

impl SurveyForm {
    fn mark(&self, key: &str) -> Option<u8> {
        let text = match key {
            "responsiveness" => &self.responsiveness,
            "quality" => &self.quality,
            "communication" => &self.communication,
            _ => return None,
        };
        text.trim().parse().ok()
    }
}

/// SAV-7 from the portal: recorded by the same desk rule as the emailed link (closed ticket,
/// once), as the client user's answer; a refusal is shown on the ticket's page with what was
/// chosen.
async fn survey(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(number): Path<String>,
    PageForm(form): PageForm<SurveyForm>,
) -> PageResult {
    check_part(&viewer, true)?;
    viewer.check_form(&form.csrf)?;
    let number = ticket_number(&number)?;
    let answers = SurveyAnswers {
        responsiveness: form.mark("responsiveness").unwrap_or(0),
        quality: form.mark("quality").unwrap_or(0),
        communication: form.mark("communication").unwrap_or(0),
        comment: Some(form.comment.clone()),
    };
    let now = viewer.caller.now_ms;
    let (ticket, _) = state.store.ticket(&viewer.caller.actor, number).await?;
    // The link is valid 30 days after the closure; the portal offers the survey as long. What
    // is not closed yet, or answered already, the desk refuses below, in its own words.
    let refusal = if ticket.status == Status::Closed
        && ticket.survey.is_none()
        && !survey_due(&ticket, now)
    {
        let message = t(viewer.lang, "L'enquête de ce ticket n'est plus ouverte.");
        (StatusCode::CONFLICT, message.to_string())
    } else {
        match state
            .store
            .answer_survey_in_portal(
                &viewer.caller.actor,
                number,
                answers,
                &crate::api::tickets::by(&viewer.caller),
                now,
            )
            .await
        {
            Ok(ticket) => {
                state
                    .live
                    .publish(crate::web::Topic::Tickets, Some(ticket.report.client));
                return Ok(
                    Redirect::to(&format!("/portail/tickets/{number}?fait=avis")).into_response(),
                );
            }
            Err(vigie_store::StoreError::NotFound) => return Err(PageError::not_found()),
            Err(error) => {
                let error = crate::error::ApiError::from(error);
                (error.status, error.message)
            }
        }
    };
    let forms = Forms {
        survey: form,
        ..Forms::default()
    };
    render_detail(
        &state,
        &viewer,
        number,
        &DetailQuery::default(),
        Some(refusal),
        &forms,
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
struct ReportQuery {
    site: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct ReportForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    site: String,
    #[serde(default)]
    equipment: String,
    #[serde(default)]
    symptom: String,
    #[serde(default)]
    impact: String,
    #[serde(default)]
    criticality: String,
}

async fn report_form(
    State(state): State<AppState>,
    viewer: Viewer,
    PageQuery(query): PageQuery<ReportQuery>,
) -> PageResult {
    let form = ReportForm {
        site: query.site.unwrap_or_default(),
        ..ReportForm::default()
    };
    render_form(&state, &viewer, &form, None).await
}

async fn render_form(
    state: &AppState,
    viewer: &Viewer,
    form: &ReportForm,
    error: Option<(StatusCode, String)>,
) -> PageResult {
    let client = viewer.own_client()?;
    let actor = &viewer.caller.actor;
    let sites = state
        .store
        .list(
            actor,
            ObjectKind::Site,
            &ListFilter {
                client: Some(client),
                limit: Some(vigie_store::MAX_PAGE_SIZE),
                ..ListFilter::default()
            },
        )
        .await?;
    let site = Reference::parse(form.site.trim()).ok();
    let equipment = match &site {
        Some(site) => state
            .store
            .list(
                actor,
                ObjectKind::Equipment,
                &ListFilter {
                    site: Some(site.clone()),
                    limit: Some(FORM_EQUIPMENT),
                    ..ListFilter::default()
                },
            )
            .await
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let lang = viewer.lang;
    let body = html! {
        main {
            h1 { (t(lang, "Signaler un problème")) }
            @if let Some((_, message)) = &error { p.error role="alert" { (render::plain(message)) } }
            (site_chooser(lang, &sites, site.as_ref()))
            @if let Some(site) = &site {
                form.stack.panel #report-form method="post" action="/portail/signaler" {
                    input type="hidden" name="csrf" value=(viewer.csrf);
                    input type="hidden" name="site" value=(site.as_str());
                    label for="equipment" { (t(lang, "Équipement concerné")) }
                    @if (equipment.len() as i64) < FORM_EQUIPMENT {
                        select #equipment name="equipment" {
                            option value="" { (t(lang, "Je ne sais pas / plusieurs équipements")) }
                            @for record in &equipment {
                                @if let Record::Equipment(item) = record {
                                    option value=(item.reference.as_str()) selected[form.equipment == item.reference.as_str()] {
                                        (item.name.as_str()) " (" (item.reference.as_str()) ")"
                                    }
                                }
                            }
                        }
                    } @else {
                        input #equipment type="text" name="equipment" value=(form.equipment) placeholder=(t(lang, "Référence de l'équipement (facultatif)"));
                    }
                    label for="symptom" { (t(lang, "Que se passe-t-il ?")) }
                    textarea #symptom name="symptom" required maxlength="4000" placeholder=(t(lang, "Par exemple : la caméra du parking n'affiche plus d'image depuis ce matin.")) { (form.symptom) }
                    fieldset {
                        legend { (t(lang, "Quel est l'impact sur la surveillance ?")) }
                        @for (impact, key) in IMPACTS {
                            div {
                                input type="radio" name="impact" id=(format!("impact-{key}")) value=(key) required checked[form.impact == key];
                                label for=(format!("impact-{key}")) { " " (impact_label(lang, impact)) " " span.muted { "→ " (tf(lang, "priorité suggérée : {priority}", &[("priority", &labels::priority(lang, impact.priority()))])) } }
                            }
                        }
                    }
                    label for="criticality" { (t(lang, "Criticité (dans le doute, la plus haute s'applique)")) }
                    select #criticality name="criticality" {
                        option value="" selected[form.criticality.is_empty()] { (t(lang, "Celle que suggère l'impact")) }
                        option value="critical" selected[form.criticality == "critical"] { (t(lang, "Critique")) }
                        option value="standard" selected[form.criticality == "standard"] { (t(lang, "Standard")) }
                        option value="informative" selected[form.criticality == "informative"] { (t(lang, "Informatif")) }
                    }
                    div.actions { button #send type="submit" { (t(lang, "Envoyer le signalement")) } }
                }
            }
        }
    };
    let status = error.map(|(status, _)| status).unwrap_or(StatusCode::OK);
    Ok((
        status,
        page(
            state,
            viewer,
            t(lang, "Signaler un problème"),
            Nav::Report,
            body,
        ),
    )
        .into_response())
}

fn site_chooser(lang: Lang, sites: &[Record], chosen: Option<&Reference>) -> Markup {
    html! {
        form.filters method="get" action="/portail/signaler" {
            label { (t(lang, "Site concerné"))
                select #site name="site" required {
                    option value="" { (t(lang, "Choisissez un site")) }
                    @for record in sites {
                        @if let Record::Site(site) = record {
                            option value=(site.reference.as_str()) selected[chosen == Some(&site.reference)] { (site.name.as_str()) }
                        }
                    }
                }
            }
            button #choose-site.secondary type="submit" { (t(lang, "Choisir ce site")) }
        }
    }
}

async fn report(
    State(state): State<AppState>,
    viewer: Viewer,
    PageForm(form): PageForm<ReportForm>,
) -> PageResult {
    let client = viewer.own_client()?;
    viewer.check_form(&form.csrf)?;
    let lang = viewer.lang;
    // Every problem of the form at once, each named as the form labels its field.
    let mut wrong: Vec<String> = Vec::new();
    let site = Reference::parse(form.site.trim()).ok();
    if site.is_none() {
        wrong.push(tf(
            lang,
            "« {field} » : choisissez le site concerné.",
            &[("field", &t(lang, "Site"))],
        ));
    }
    let equipment = match form.equipment.trim() {
        "" => None,
        text => match Reference::parse(text) {
            Ok(equipment) => Some(equipment),
            Err(_) => {
                wrong.push(tf(
                    lang,
                    "« {field} » : équipement « {reference} » inconnu.",
                    &[
                        ("field", &t(lang, "Équipement concerné")),
                        ("reference", &text),
                    ],
                ));
                None
            }
        },
    };
    let symptom_label = t(lang, "Que se passe-t-il ?");
    if form.symptom.trim().is_empty() {
        wrong.push(must_fill(lang, symptom_label));
    } else if form.symptom.chars().count() > vigie_domain::ticket::desk::MAX_TEXT {
        wrong.push(tf(
            lang,
            "« {field} » dépasse {max} caractères.",
            &[
                ("field", &symptom_label),
                ("max", &vigie_domain::ticket::desk::MAX_TEXT),
            ],
        ));
    }
    let (Some(site), true) = (site, wrong.is_empty()) else {
        return render_form(
            &state,
            &viewer,
            &form,
            Some((StatusCode::UNPROCESSABLE_ENTITY, wrong.join(" "))),
        )
        .await;
    };
    let impact = IMPACTS
        .iter()
        .find(|(_, key)| *key == form.impact)
        .map(|(impact, _)| *impact);
    let stated_criticality = match form.criticality.as_str() {
        "critical" => Some(StatedCriticality::Critical),
        "standard" => Some(StatedCriticality::Standard),
        "informative" => Some(StatedCriticality::Informative),
        _ => None,
    };
    let report = Report {
        client: client.clone(),
        site: Some(site),
        equipment,
        kind: Kind::Request,
        source: Source::Portal,
        symptom: form.symptom.clone(),
        impact,
        stated_criticality,
        reporter: Some(viewer.caller.user.display_name.clone()),
        reply_to: None,
        alarm: None,
        topic: None,
    };
    match open_report(&state, &viewer.caller, report).await {
        Ok(change) => Ok(Redirect::to(&format!(
            "/portail/tickets/{}?fait=ouvert",
            change.ticket.number
        ))
        .into_response()),
        Err(error) => {
            let error = crate::error::ApiError::from(error);
            render_form(&state, &viewer, &form, Some((error.status, error.message))).await
        }
    }
}

/// What the client was told about its ticket: each message, by which channel, when.
fn client_messages(viewer: &Viewer, sent: &[vigie_store::tickets::SentToClient]) -> Markup {
    let lang = viewer.lang;
    html! {
        h2 { (t(lang, "Messages envoyés")) }
        @if sent.is_empty() {
            p.panel { (t(lang, "Aucun message envoyé pour l'instant.")) }
        } @else {
            ul.messages #messages {
                @for message in sent {
                    li.panel {
                        details {
                            summary {
                                (time(message.sent_ms.unwrap_or(message.created_ms))) " · "
                                (crate::web::render::channel_label(lang, &message.channel)) " · "
                                (message.name)
                                @if !message.subject.is_empty() { " — " strong { (message.subject) } }
                                @if message.status == "pending" { " " span.muted { (t(lang, "(à envoyer)")) } }
                                @if message.status == "failed" { " " span.muted { (t(lang, "(non remis)")) } }
                            }
                            pre.message { (message.text) }
                        }
                    }
                }
            }
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct CommentForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    text: String,
}

/// What a client says on its own ticket, as an incoming message; a ticket waiting for the
/// client's answer has it (the desk's timers resume).
async fn client_note(
    state: &AppState,
    viewer: &Viewer,
    number: u64,
    text: String,
) -> Result<(), vigie_store::StoreError> {
    let note = vigie_domain::ticket::desk::Note::Message {
        direction: vigie_domain::ticket::desk::Direction::Incoming,
        with: viewer.caller.user.display_name.clone(),
        text,
    };
    let change = take_ticket_step(state, &viewer.caller, number, TicketStep::Note(note)).await?;
    if change.ticket.status == Status::WaitingForClient {
        take_ticket_step(
            state,
            &viewer.caller,
            number,
            TicketStep::Act(Action::ClientReplied),
        )
        .await?;
    }
    Ok(())
}

/// The photo form's fields: its token, what the photo shows, the file's name and bytes.
struct PhotoForm {
    csrf: String,
    caption: String,
    photo: Option<(String, axum::body::Bytes)>,
}

/// Reads the photo form (multipart, bounded by the route's body limit); other fields are
/// skipped.
async fn read_photo_form(
    mut multipart: axum::extract::Multipart,
) -> Result<PhotoForm, axum::extract::multipart::MultipartError> {
    let mut form = PhotoForm {
        csrf: String::new(),
        caption: String::new(),
        photo: None,
    };
    while let Some(field) = multipart.next_field().await? {
        match field.name() {
            Some("csrf") => form.csrf = field.text().await?,
            Some("legende") => form.caption = field.text().await?,
            Some("photo") => {
                let name = field.file_name().unwrap_or("photo").to_owned();
                form.photo = Some((name, field.bytes().await?));
            }
            _ => {}
        }
    }
    Ok(form)
}

/// A client's photo on its own ticket (issue 25, item 12), from the portal's form (multipart):
/// kept as a document of the ticket if its bytes are a picture, and said in the ticket's
/// history as the client's message (with what it shows), so that the desk sees it.
async fn client_photo(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(number): Path<String>,
    multipart: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> PageResult {
    check_part(&viewer, true)?;
    let number = ticket_number(&number)?;
    let lang = viewer.lang;
    let malformed = || PageError {
        status: StatusCode::BAD_REQUEST,
        message: crate::web::Message::MalformedForm,
    };
    let multipart = multipart.map_err(|_| malformed())?;
    let PhotoForm {
        csrf,
        caption,
        photo,
    } = match read_photo_form(multipart).await {
        Ok(form) => form,
        Err(error) if error.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return refused(
                &state,
                &viewer,
                number,
                StatusCode::PAYLOAD_TOO_LARGE,
                t(lang, "Photo trop grande : 10 Mio au plus.").to_string(),
            )
            .await;
        }
        Err(_) => return Err(malformed()),
    };
    viewer.check_form(&csrf)?;
    let Some((name, bytes)) = photo.filter(|(_, bytes)| !bytes.is_empty()) else {
        return refused(
            &state,
            &viewer,
            number,
            StatusCode::UNPROCESSABLE_ENTITY,
            must_fill(lang, t(lang, "Photo (JPEG, PNG ou WebP, 10 Mio au plus)")),
        )
        .await;
    };
    let added = state
        .store
        .add_ticket_photo(
            &viewer.caller.actor,
            number,
            &name,
            &bytes,
            viewer.caller.now_ms,
        )
        .await;
    let document = match added {
        Ok(document) => document,
        Err(vigie_store::StoreError::NotFound) => return Err(PageError::not_found()),
        Err(error) => {
            let error = crate::error::ApiError::from(error);
            return refused(&state, &viewer, number, error.status, error.message).await;
        }
    };
    // The history says it in the words of the desk, which is French.
    let mut text = format!("{} (photo jointe)", document.title);
    let caption = caption.trim();
    if !caption.is_empty() {
        text.push_str(&format!(" : {caption}"));
    }
    match client_note(&state, &viewer, number, text).await {
        Ok(()) => {
            Ok(Redirect::to(&format!("/portail/tickets/{number}?fait=photo")).into_response())
        }
        Err(error) => {
            let error = crate::error::ApiError::from(error);
            refused(&state, &viewer, number, error.status, error.message).await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct ToldByForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    told_by: String,
}

/// Issue 25, item 12: the client chooses how it is told of its ticket from now on.
async fn choose_told_by(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(number): Path<String>,
    PageForm(form): PageForm<ToldByForm>,
) -> PageResult {
    check_part(&viewer, true)?;
    viewer.check_form(&form.csrf)?;
    let number = ticket_number(&number)?;
    let lang = viewer.lang;
    let Some(told_by) = vigie_domain::ticket::desk::ToldBy::parse(form.told_by.trim()) else {
        return refused(
            &state,
            &viewer,
            number,
            StatusCode::UNPROCESSABLE_ENTITY,
            tf(
                lang,
                "« {field} » : choisissez email, SMS ou les deux.",
                &[("field", &t(lang, "Me prévenir de ce ticket"))],
            ),
        )
        .await;
    };
    match take_ticket_step(
        &state,
        &viewer.caller,
        number,
        TicketStep::ChooseToldBy(told_by),
    )
    .await
    {
        Ok(_) => {
            Ok(Redirect::to(&format!("/portail/tickets/{number}?fait=prevenir")).into_response())
        }
        Err(vigie_store::StoreError::NotFound) => Err(PageError::not_found()),
        Err(error) => {
            let error = crate::error::ApiError::from(error);
            refused(&state, &viewer, number, error.status, error.message).await
        }
    }
}

/// A client's message on its own ticket: added to it as an incoming message; a ticket
/// waiting for the client's answer has it (the desk's timers resume).
async fn client_message(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(number): Path<String>,
    PageForm(form): PageForm<CommentForm>,
) -> PageResult {
    check_part(&viewer, true)?;
    viewer.check_form(&form.csrf)?;
    let number = ticket_number(&number)?;
    let lang = viewer.lang;
    let text = form.text.trim().to_owned();
    if text.is_empty() {
        return refused(
            &state,
            &viewer,
            number,
            StatusCode::UNPROCESSABLE_ENTITY,
            must_fill(lang, t(lang, "Votre message à l'équipe technique")),
        )
        .await;
    }
    let result = client_note(&state, &viewer, number, text).await;
    match result {
        Ok(()) => {
            Ok(Redirect::to(&format!("/portail/tickets/{number}?fait=message")).into_response())
        }
        Err(vigie_store::StoreError::NotFound) => Err(PageError::not_found()),
        Err(error) => {
            let error = crate::error::ApiError::from(error);
            refused(&state, &viewer, number, error.status, error.message).await
        }
    }
}
