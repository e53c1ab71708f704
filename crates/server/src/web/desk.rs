//! The service desk's steps from the console (issue 25, item 8), each asking for what the
//! reports will need: a ticket opened for a phone call with the caller and the client's
//! contract in view (SAV-1), assignment, re-qualification with its reason (SAV-3), the remote
//! diagnosis and whether a visit is needed (CM-5), the intervention planned with its
//! technician and window (CM-6), and the P1 post-mortem written and shared (INC-6). The desk
//! decides each step as through the API; a refusal is shown on the ticket's page.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use maud::{Markup, html};
use serde::Deserialize;
use vigie_domain::Reference;
use vigie_domain::inventory::{ObjectKind, Priority, Record};
use vigie_domain::ticket::StatedCriticality;
use vigie_domain::ticket::desk::{Kind, Note, Report, Source, Ticket};
use vigie_domain::ticket::post_mortem::{MAX_MEASURES, Measure, MeasureKind, PostMortemText};
use vigie_store::{ListFilter, TicketStep};

use crate::AppState;
use crate::api::tickets::open_report;
use crate::web::i18n::{Lang, t, tf};
use crate::web::render::must_fill;
use crate::web::render::when;
use crate::web::search::{MAX_CHOICES, choices};
use crate::web::tickets::{Forms, IMPACTS, impact_label, staff_form, take};
use crate::web::{Nav, PageForm, PageQuery, PageResult, Viewer, labels, page};

/// Measures a post-mortem's form offers at once (more through the API).
const MEASURE_ROWS: usize = 3;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/tickets/nouveau", get(call_form).post(open_call))
        .route("/console/tickets/{number}/confier", post(assign))
        .route("/console/tickets/{number}/requalifier", post(requalify))
        .route("/console/tickets/{number}/diagnostic", post(diagnosis))
        .route("/console/tickets/{number}/intervention", post(intervention))
        .route(
            "/console/tickets/{number}/post-mortem",
            post(write_post_mortem),
        )
        .route(
            "/console/tickets/{number}/post-mortem/partager",
            post(share_post_mortem),
        )
}

/// A form's fields by name (the repeated rows of the post-mortem, the checkboxes).
pub(crate) type Fields = BTreeMap<String, String>;

pub(crate) fn field<'a>(fields: &'a Fields, name: &str) -> &'a str {
    fields.get(name).map(|v| v.trim()).unwrap_or("")
}

/// The lines of a text area, trimmed, without the empty ones.
fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A local date and time of the form (`datetime-local`, or a date alone at midnight), read on
/// Paris time.
fn paris_instant(text: &str) -> Option<i64> {
    let text = text.trim();
    let text = if text.len() == 10 {
        format!("{text}T00:00")
    } else {
        text.to_owned()
    };
    vigie_domain::calendar::parse_instant(&text, &crate::reports::paris())
        .ok()
        .map(|(ms, _)| ms)
}

/// The forms of a ticket's page for these steps (staff, ticket not closed).
pub(crate) fn desk_forms(viewer: &Viewer, ticket: &Ticket, staff: &[Record]) -> Markup {
    let lang = viewer.lang;
    let number = ticket.number;
    let resolved = ticket.status == vigie_domain::ticket::Status::Resolved;
    let action = |path: &str| format!("/console/tickets/{number}/{path}");
    html! {
        div.desk-forms {
            details.panel open[ticket.assignee.is_none()] {
                summary { (t(lang, "Confier le ticket")) }
                form.stack #assign-form method="post" action=(action("confier")) {
                    input type="hidden" name="csrf" value=(viewer.csrf);
                    label for="assign-to" { (t(lang, "Technicien")) }
                    (choices(lang, "assign-to", "to", staff, ticket.assignee.as_ref().map(|a| a.as_str()), t(lang, "Choisir…")))
                    div.actions { button #assign type="submit" { (t(lang, "Confier")) } }
                }
            }
            @if !resolved {
                details.panel {
                    summary { (t(lang, "Diagnostic à distance")) }
                    form.stack #diagnosis-form method="post" action=(action("diagnostic")) {
                        input type="hidden" name="csrf" value=(viewer.csrf);
                        label for="checks" { (t(lang, "Vérifications faites (une par ligne)")) }
                        textarea #checks name="checks" maxlength="4000" {}
                        label for="result" { (t(lang, "Ce qu'elles montrent")) }
                        textarea #result name="result" required maxlength="4000" {}
                        div { input #on_site_needed type="checkbox" name="on_site_needed" value="1"; label for="on_site_needed" { " " (t(lang, "Une intervention sur site est nécessaire")) } }
                        label for="diagnosis-parts" { (t(lang, "Pièces à prévoir (une par ligne)")) }
                        textarea #diagnosis-parts name="parts" maxlength="4000" {}
                        div.actions { button #record-diagnosis type="submit" { (t(lang, "Enregistrer le diagnostic")) } }
                    }
                }
                details.panel {
                    summary { (t(lang, "Planifier l'intervention")) }
                    form.stack #intervention-form method="post" action=(action("intervention")) {
                        input type="hidden" name="csrf" value=(viewer.csrf);
                        label for="technician" { (t(lang, "Technicien")) }
                        (choices(lang, "technician", "technician", staff, ticket.assignee.as_ref().map(|a| a.as_str()), t(lang, "Choisir…")))
                        label for="window-from" { (t(lang, "Du (heure de Paris)")) }
                        input #window-from type="datetime-local" name="from" required;
                        label for="window-to" { (t(lang, "Au (heure de Paris)")) }
                        input #window-to type="datetime-local" name="to" required;
                        label for="intervention-parts" { (t(lang, "Pièces (une par ligne)")) }
                        textarea #intervention-parts name="parts" maxlength="4000" {}
                        div.actions { button #plan type="submit" { (t(lang, "Planifier")) } }
                    }
                }
                details.panel {
                    summary { (t(lang, "Requalifier")) }
                    form.stack #requalify-form method="post" action=(action("requalifier")) {
                        input type="hidden" name="csrf" value=(viewer.csrf);
                        label for="priority" { (t(lang, "Nouvelle priorité")) }
                        select #priority name="priority" required {
                            @for priority in Priority::ALL {
                                option value=(priority.key()) selected[priority == ticket.priority] { (labels::priority(lang, priority)) }
                            }
                        }
                        label for="requalify-reason" { (t(lang, "Motif (ce que l'échange ou le diagnostic a appris)")) }
                        textarea #requalify-reason name="reason" required maxlength="4000" {}
                        div.actions { button #requalify type="submit" { (t(lang, "Requalifier")) } }
                    }
                }
            }
            @if let Some(post_mortem) = &ticket.post_mortem {
                div.panel #post-mortem {
                    h3 { (t(lang, "Post-mortem de l'incident")) }
                    p.muted {
                        (tf(lang, "À partager avec le client au plus tard le {due}.", &[("due", &when(post_mortem.due))]))
                        @if let Some(at) = post_mortem.published_at { " " strong { (tf(lang, "Partagé le {at}.", &[("at", &when(at))])) } }
                    }
                    p.muted { (t(lang, "Pour le partager : l'analyse des causes, au moins une mesure corrective et une préventive, chacune avec son responsable et son échéance.")) }
                    form.stack #post-mortem-form method="post" action=(action("post-mortem")) {
                        input type="hidden" name="csrf" value=(viewer.csrf);
                        label for="analysis" { (t(lang, "Analyse des causes")) }
                        textarea #analysis name="analysis" required maxlength="16000" { (post_mortem.analysis) }
                        @for row in 0..MEASURE_ROWS.max(post_mortem.measures.len()) {
                            @let measure = post_mortem.measures.get(row);
                            fieldset.measure {
                                legend { (tf(lang, "Mesure {n}", &[("n", &(row + 1))])) }
                                label for=(format!("measure-{row}-kind")) { (t(lang, "Type")) }
                                select id=(format!("measure-{row}-kind")) name=(format!("measure_{row}_kind")) {
                                    option value="corrective" selected[measure.is_some_and(|m| m.kind == MeasureKind::Corrective)] { (t(lang, "Corrective")) }
                                    option value="preventive" selected[measure.is_some_and(|m| m.kind == MeasureKind::Preventive)] { (t(lang, "Préventive")) }
                                }
                                label for=(format!("measure-{row}-action")) { (t(lang, "Mesure")) }
                                input type="text" id=(format!("measure-{row}-action")) name=(format!("measure_{row}_action")) maxlength="1000" value=[measure.map(|m| m.action.as_str())];
                                label for=(format!("measure-{row}-owner")) { (t(lang, "Responsable")) }
                                input type="text" id=(format!("measure-{row}-owner")) name=(format!("measure_{row}_owner")) maxlength="200" value=[measure.map(|m| m.owner.as_str())];
                                label for=(format!("measure-{row}-due")) { (t(lang, "Échéance (heure de Paris)")) }
                                input type="datetime-local" id=(format!("measure-{row}-due")) name=(format!("measure_{row}_due"))
                                    value=[measure.map(|m| vigie_domain::calendar::zoned(m.due, &crate::reports::paris()).map(|z| z.strftime("%Y-%m-%dT%H:%M").to_string()).unwrap_or_default())];
                            }
                        }
                        div.actions { button #write-post-mortem type="submit" { (t(lang, "Enregistrer le post-mortem")) } }
                    }
                    @if post_mortem.published_at.is_none() {
                        form.inline method="post" action=(action("post-mortem/partager")) {
                            input type="hidden" name="csrf" value=(viewer.csrf);
                            button #share-post-mortem.secondary type="submit" { (t(lang, "Partager avec le client")) }
                        }
                    }
                }
            }
        }
    }
}

/// What a desk form asks for: the step and the word its page says once done, or what is
/// wrong with the form, field by field as the form labels them.
type Asked = Result<(TicketStep, &'static str), Vec<String>>;

/// Runs what a desk form on ticket `number` asked for, or shows the ticket's page with all
/// that is wrong with the form at once.
async fn desk_step(
    state: &AppState,
    viewer: &Viewer,
    fields: &Fields,
    number: &str,
    ask: fn(Lang, &Fields) -> Asked,
) -> PageResult {
    let number = staff_form(viewer, field(fields, "csrf"), number)?;
    match ask(viewer.lang, fields) {
        Ok((step, done)) => take(state, viewer, number, step, done, &Forms::default()).await,
        Err(wrong) => {
            crate::web::tickets::refused(
                state,
                viewer,
                number,
                StatusCode::UNPROCESSABLE_ENTITY,
                wrong.join(" "),
            )
            .await
        }
    }
}

async fn assign(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(number): Path<String>,
    PageForm(fields): PageForm<Fields>,
) -> PageResult {
    desk_step(
        &state,
        &viewer,
        &fields,
        &number,
        |lang, fields| match Reference::parse(field(fields, "to")) {
            Ok(to) => Ok((TicketStep::Assign { to }, "confie")),
            Err(_) => Err(vec![tf(
                lang,
                "« {field} » : choisissez le technicien.",
                &[("field", &t(lang, "Technicien"))],
            )]),
        },
    )
    .await
}

async fn requalify(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(number): Path<String>,
    PageForm(fields): PageForm<Fields>,
) -> PageResult {
    desk_step(&state, &viewer, &fields, &number, |lang, fields| {
        let priority = Priority::ALL
            .into_iter()
            .find(|p| p.key() == field(fields, "priority"));
        let reason = field(fields, "reason").to_owned();
        let mut wrong = Vec::new();
        if priority.is_none() {
            wrong.push(tf(
                lang,
                "« {field} » : choisissez la priorité.",
                &[("field", &t(lang, "Nouvelle priorité"))],
            ));
        }
        if reason.is_empty() {
            wrong.push(must_fill(
                lang,
                t(lang, "Motif (ce que l'échange ou le diagnostic a appris)"),
            ));
        }
        match priority {
            Some(priority) if wrong.is_empty() => {
                Ok((TicketStep::Requalify { priority, reason }, "requalifie"))
            }
            _ => Err(wrong),
        }
    })
    .await
}

async fn diagnosis(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(number): Path<String>,
    PageForm(fields): PageForm<Fields>,
) -> PageResult {
    desk_step(&state, &viewer, &fields, &number, |lang, fields| {
        let result = field(fields, "result").to_owned();
        if result.is_empty() {
            return Err(vec![must_fill(lang, t(lang, "Ce qu'elles montrent"))]);
        }
        let note = Note::Diagnosis {
            checks: lines(field(fields, "checks")),
            result,
            on_site_needed: field(fields, "on_site_needed") == "1",
            parts: lines(field(fields, "parts")),
        };
        Ok((TicketStep::Note(note), "diagnostic"))
    })
    .await
}

async fn intervention(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(number): Path<String>,
    PageForm(fields): PageForm<Fields>,
) -> PageResult {
    desk_step(&state, &viewer, &fields, &number, |lang, fields| {
        let technician = Reference::parse(field(fields, "technician")).ok();
        let from = paris_instant(field(fields, "from"));
        let to = paris_instant(field(fields, "to"));
        let mut wrong = Vec::new();
        if technician.is_none() {
            wrong.push(tf(
                lang,
                "« {field} » : choisissez le technicien.",
                &[("field", &t(lang, "Technicien"))],
            ));
        }
        for (value, label) in [
            (from, t(lang, "Du (heure de Paris)")),
            (to, t(lang, "Au (heure de Paris)")),
        ] {
            if value.is_none() {
                wrong.push(tf(
                    lang,
                    "« {field} » : une date et une heure sont attendues.",
                    &[("field", &label)],
                ));
            }
        }
        let (Some(technician), Some(from), Some(to)) = (technician, from, to) else {
            return Err(wrong);
        };
        let note = Note::Intervention {
            technician,
            from,
            to,
            parts: lines(field(fields, "parts")),
        };
        Ok((TicketStep::Note(note), "intervention"))
    })
    .await
}

async fn write_post_mortem(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(number): Path<String>,
    PageForm(fields): PageForm<Fields>,
) -> PageResult {
    desk_step(&state, &viewer, &fields, &number, |lang, fields| {
        let mut measures = Vec::new();
        let mut wrong = Vec::new();
        // Every row the form may show: three empty ones, or as many as the post-mortem holds.
        for row in 0..MAX_MEASURES {
            let action = field(fields, &format!("measure_{row}_action"));
            if action.is_empty() {
                continue;
            }
            let kind = match field(fields, &format!("measure_{row}_kind")) {
                "preventive" => MeasureKind::Preventive,
                _ => MeasureKind::Corrective,
            };
            let owner = field(fields, &format!("measure_{row}_owner"));
            let due = paris_instant(field(fields, &format!("measure_{row}_due")));
            let label = tf(lang, "Mesure {n}", &[("n", &(row + 1))]);
            if owner.is_empty() {
                wrong.push(tf(
                    lang,
                    "« {measure} » : son responsable est à remplir.",
                    &[("measure", &label)],
                ));
            }
            match due {
                Some(due) => measures.push(Measure {
                    kind,
                    action: action.to_owned(),
                    owner: owner.to_owned(),
                    due,
                }),
                None => wrong.push(tf(
                    lang,
                    "« {measure} » : son échéance est à remplir.",
                    &[("measure", &label)],
                )),
            }
        }
        if !wrong.is_empty() {
            return Err(wrong);
        }
        let text = PostMortemText {
            analysis: field(fields, "analysis").to_owned(),
            measures,
        };
        Ok((TicketStep::WritePostMortem(text), "post-mortem"))
    })
    .await
}

async fn share_post_mortem(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(number): Path<String>,
    PageForm(fields): PageForm<Fields>,
) -> PageResult {
    desk_step(&state, &viewer, &fields, &number, |_, _| {
        Ok((TicketStep::PublishPostMortem, "post-mortem-partage"))
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
struct CallQuery {
    client: Option<String>,
    site: Option<String>,
}

/// What a call's form holds, kept when it is refused.
#[derive(Debug, Default, Deserialize)]
struct CallForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    client: String,
    #[serde(default)]
    site: String,
    #[serde(default)]
    equipment: String,
    #[serde(default)]
    caller: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    symptom: String,
    #[serde(default)]
    impact: String,
    #[serde(default)]
    criticality: String,
}

async fn call_form(
    State(state): State<AppState>,
    viewer: Viewer,
    PageQuery(query): PageQuery<CallQuery>,
) -> PageResult {
    viewer.require_staff()?;
    let form = CallForm {
        client: query.client.unwrap_or_default(),
        site: query.site.unwrap_or_default(),
        ..CallForm::default()
    };
    render_call(&state, &viewer, &form, None).await
}

async fn render_call(
    state: &AppState,
    viewer: &Viewer,
    form: &CallForm,
    error: Option<String>,
) -> PageResult {
    let lang = viewer.lang;
    let actor = &viewer.caller.actor;
    let bounded = ListFilter {
        limit: Some(MAX_CHOICES),
        ..ListFilter::default()
    };
    let clients = state
        .store
        .list(actor, ObjectKind::Client, &bounded)
        .await?;
    let client = Reference::parse(form.client.trim()).ok();
    let (sites, contracts) = match &client {
        Some(client) => {
            let of_client = ListFilter {
                client: Some(client.clone()),
                ..bounded.clone()
            };
            (
                state
                    .store
                    .list(actor, ObjectKind::Site, &of_client)
                    .await?,
                state
                    .store
                    .list(actor, ObjectKind::Contract, &of_client)
                    .await?,
            )
        }
        None => (Vec::new(), Vec::new()),
    };
    let site = Reference::parse(form.site.trim()).ok();
    let equipment = match &site {
        Some(site) => {
            state
                .store
                .list(
                    actor,
                    ObjectKind::Equipment,
                    &ListFilter {
                        site: Some(site.clone()),
                        ..bounded.clone()
                    },
                )
                .await?
        }
        None => Vec::new(),
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let title = t(lang, "Nouveau ticket (appel)");
    let body = html! {
        main {
            p { a href="/console/tickets" { "← " (t(lang, "Tickets")) } }
            h1 { (title) }
            @if let Some(message) = &error { p.error role="alert" { (crate::web::render::plain(message)) } }
            // First the client and its site (their choices follow), then the call.
            form.filters #call-place method="get" action="/console/tickets/nouveau" {
                label { (t(lang, "Client")) (choices(lang, "call-client", "client", &clients, client.as_ref().map(|c| c.as_str()), t(lang, "Choisir…"))) }
                @if client.is_some() {
                    label { (t(lang, "Site")) (choices(lang, "call-site", "site", &sites, site.as_ref().map(|s| s.as_str()), t(lang, "Choisir…"))) }
                }
                button #choose-place type="submit" { (t(lang, "Choisir")) }
            }
            @if !contracts.is_empty() {
                div.panel #contracts {
                    h2 { (t(lang, "Contrat")) }
                    ul { @for record in &contracts {
                        @if let Record::Contract(contract) = record {
                            li { (contract.reference.as_str()) " — " (labels::contract_tier(lang, contract.tier))
                                @if !contract.options.is_empty() { " · " (contract.options.iter().map(|o| labels::contract_option(lang, *o)).collect::<Vec<_>>().join(", ")) } }
                        }
                    } }
                }
            }
            @if let (Some(client), Some(site)) = (&client, &site) {
                form.stack.panel #call-form method="post" action="/console/tickets/nouveau" {
                    input type="hidden" name="csrf" value=(viewer.csrf);
                    input type="hidden" name="client" value=(client.as_str());
                    input type="hidden" name="site" value=(site.as_str());
                    label for="caller" { (t(lang, "Appelant (nom, téléphone)")) }
                    input #caller type="text" name="caller" required maxlength="200" value=(form.caller);
                    label for="equipment" { (t(lang, "Équipement concerné")) }
                    (choices(lang, "equipment", "equipment", &equipment, Some(form.equipment.as_str()), t(lang, "Je ne sais pas / plusieurs équipements")))
                    label for="kind" { (t(lang, "Nature")) }
                    select #kind name="kind" {
                        option value="incident" selected[form.kind != "request"] { (t(lang, "Incident")) }
                        option value="request" selected[form.kind == "request"] { (t(lang, "Demande")) }
                    }
                    label for="symptom" { (t(lang, "Que se passe-t-il ?")) }
                    textarea #symptom name="symptom" required maxlength="4000" { (form.symptom) }
                    label for="impact" { (t(lang, "Quel est l'impact sur la surveillance ?")) }
                    select #impact name="impact" {
                        @for (impact, key) in IMPACTS {
                            option value=(key) selected[form.impact == key] { (impact_label(lang, impact)) }
                        }
                    }
                    label for="criticality" { (t(lang, "Criticité annoncée par l'appelant")) }
                    select #criticality name="criticality" {
                        option value="" { (t(lang, "Non précisée (dans le doute, la plus haute)")) }
                        option value="critical" selected[form.criticality == "critical"] { (t(lang, "Critique")) }
                        option value="standard" selected[form.criticality == "standard"] { (t(lang, "Standard")) }
                        option value="informative" selected[form.criticality == "informative"] { (t(lang, "Informative")) }
                    }
                    div.actions { button #open-call type="submit" { (t(lang, "Ouvrir le ticket")) } }
                }
            }
        }
    };
    Ok((status, page(state, viewer, title, Nav::Tickets, body)).into_response())
}

async fn open_call(
    State(state): State<AppState>,
    viewer: Viewer,
    PageForm(form): PageForm<CallForm>,
) -> PageResult {
    viewer.require_staff()?;
    viewer.check_form(&form.csrf)?;
    let lang = viewer.lang;
    let mut wrong = Vec::new();
    let client = Reference::parse(form.client.trim()).ok();
    let site = Reference::parse(form.site.trim()).ok();
    if client.is_none() || site.is_none() {
        wrong.push(t(lang, "Choisissez le client et le site.").to_owned());
    }
    if form.caller.trim().is_empty() {
        wrong.push(must_fill(lang, t(lang, "Appelant (nom, téléphone)")));
    }
    if form.symptom.trim().is_empty() {
        wrong.push(must_fill(lang, t(lang, "Que se passe-t-il ?")));
    }
    let (Some(client), Some(site), true) = (client, site, wrong.is_empty()) else {
        return render_call(&state, &viewer, &form, Some(wrong.join(" "))).await;
    };
    let report = Report {
        client,
        site: Some(site),
        equipment: Reference::parse(form.equipment.trim()).ok(),
        kind: if form.kind == "request" {
            Kind::Request
        } else {
            Kind::Incident
        },
        source: Source::Phone,
        symptom: form.symptom.trim().to_owned(),
        impact: IMPACTS
            .iter()
            .find(|(_, key)| *key == form.impact)
            .map(|(impact, _)| *impact),
        stated_criticality: match form.criticality.as_str() {
            "critical" => Some(StatedCriticality::Critical),
            "standard" => Some(StatedCriticality::Standard),
            "informative" => Some(StatedCriticality::Informative),
            _ => None,
        },
        reporter: Some(form.caller.trim().to_owned()),
        reply_to: None,
        alarm: None,
        topic: None,
    };
    match open_report(&state, &viewer.caller, report).await {
        Ok(change) => Ok(Redirect::to(&format!(
            "/console/tickets/{}?fait=ouvert-appel",
            change.ticket.number
        ))
        .into_response()),
        Err(error) => {
            let error = crate::error::ApiError::from(error);
            render_call(&state, &viewer, &form, Some(error.message)).await
        }
    }
}
