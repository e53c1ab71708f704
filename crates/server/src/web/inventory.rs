//! The inventory from the console: the records of each kind (a client, contract, contact, site,
//! equipment or staff member) page by page, and one record shown in the inventory file's own
//! TOML (docs/inventory.md) — created from a starting template, edited, or deleted after a
//! confirmation — through the same calls and checks as the API: the editor's permission, the
//! cross-record rules, the store's refusal of what is still referenced, the audit entry. A
//! refusal is shown with the store's reason, the text kept as typed, nothing changed.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use maud::{Markup, html};
use serde::Deserialize;
use vigie_domain::Reference;
use vigie_domain::access::Permission;
use vigie_domain::inventory::{ObjectKind, Record};
use vigie_store::{ListFilter, StoreError};

use crate::AppState;
use crate::api::inventory::{create_record, delete_record, record_from_body};
use crate::web::i18n::{Lang, t, tf};
use crate::web::labels;
use crate::web::render::url_encode;
use crate::web::{Nav, PageError, PageResult, Viewer, optional_reference, page};
use crate::web::{PageForm, PageQuery};

/// Records listed on one page of a kind.
const RECORDS_PAGE: i64 = 100;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/inventaire", get(kinds))
        .route("/console/inventaire/{kind}", get(records))
        // `nouvelle` is no kind's key, so this address names no record.
        .route(
            "/console/inventaire/nouvelle/{kind}",
            get(new_page).post(create),
        )
        .route(
            "/console/inventaire/{kind}/{reference}",
            get(edit_page).post(save),
        )
        .route(
            "/console/inventaire/{kind}/{reference}/suppression",
            get(delete_page).post(delete),
        )
}

fn kind_of(key: &str) -> Result<ObjectKind, PageError> {
    ObjectKind::ALL
        .into_iter()
        .find(|kind| kind.key() == key)
        .ok_or_else(PageError::not_found)
}

/// The inventory page of a record, for links from the other pages.
pub fn edit_link(kind: ObjectKind, reference: &Reference) -> String {
    format!(
        "/console/inventaire/{}/{}",
        kind.key(),
        url_encode(reference.as_str())
    )
}

/// The page that creates a record of `kind`, its template filled with `client` and `site`.
pub fn new_link(kind: ObjectKind, client: Option<&Reference>, site: Option<&Reference>) -> String {
    let mut link = format!("/console/inventaire/nouvelle/{}", kind.key());
    let mut separator = '?';
    for (name, value) in [("client", client), ("site", site)] {
        if let Some(value) = value {
            link.push_str(&format!("{separator}{name}={}", url_encode(value.as_str())));
            separator = '&';
        }
    }
    link
}

fn list_link(kind: ObjectKind) -> String {
    format!("/console/inventaire/{}", kind.key())
}

fn delete_link(kind: ObjectKind, reference: &Reference) -> String {
    format!("{}/suppression", edit_link(kind, reference))
}

fn as_toml(value: &serde_json::Value) -> String {
    toml::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// The kind's name with a capital, for titles and headings.
fn kind_title(lang: Lang, kind: ObjectKind) -> String {
    let name = labels::object_kind(lang, kind);
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Refuses a staff member who may read the inventory but not change it, before anything is
/// read: what they may not do, they are told plainly (they are staff: nothing to hide).
fn require_editor(viewer: &Viewer) -> Result<(), PageError> {
    viewer.require_staff()?;
    if viewer.caller.actor.may(Permission::WriteInventory) {
        Ok(())
    } else {
        Err(PageError::new(
            StatusCode::FORBIDDEN,
            t(
                viewer.lang,
                "Vos droits permettent de lire l'inventaire, pas de le modifier.",
            ),
        ))
    }
}

/// The file's TOML a new record of `kind` starts from: its required fields empty or at their
/// default, the optional ones as comments, in the inventory file's own keys (docs/inventory.md).
/// `client` and `site` fill the owner when the page was opened from one.
fn template(kind: ObjectKind, client: Option<&Reference>, site: Option<&Reference>) -> String {
    let client = client.map(Reference::as_str).unwrap_or("");
    let site = site.map(Reference::as_str).unwrap_or("");
    match kind {
        ObjectKind::Client => "ref = \"\"\nname = \"\"\n".to_string(),
        ObjectKind::Contract => format!(
            "ref = \"\"\nclient = \"{client}\"\n\
             tier = \"standard\"  # standard | premium\n\
             options = [\"supervision\"]  # supervision, round_the_clock, dashboard, direct_notifications\n\
             # sla = {{ p1 = {{ take_charge = \"45min\", on_site = \"2h\" }} }}\n"
        ),
        ObjectKind::Contact => format!(
            "ref = \"\"\nclient = \"{client}\"\nname = \"\"\n\
             roles = [\"technical_contact\"]  # technical_contact, security_manager, cio, management\n\
             # email = \"\"\n# phone = \"\"\n"
        ),
        ObjectKind::Site => format!(
            "ref = \"\"\nclient = \"{client}\"\ncontract = \"\"\nname = \"\"\n\
             # address = \"\"\n\
             time_zone = \"Europe/Paris\"\n\
             criticality = \"standard\"  # standard | critical\n\
             offline_tolerance = 0\n\
             # security_manager = \"\"\n# technical_contact = \"\"\n"
        ),
        ObjectKind::Equipment => format!(
            "ref = \"\"\nsite = \"{site}\"\nname = \"\"\n\
             kind = \"camera\"  # camera, nvr, vms_server, switch, power_supply, access_control, other\n\
             # camera_role = \"priority\"\n# address = \"\"\n# parent = \"\"\n# model = \"\"\n# firmware = \"\"\n\
             checks = {{ ping = {{}} }}\n"
        ),
        ObjectKind::Territory => "ref = \"\"\nname = \"\"\n\
             sites = []  # les sites couverts, par référence\n\
             clients = []  # les clients dont tous les sites sont couverts\n"
            .to_string(),
        ObjectKind::Staff => "ref = \"\"\nname = \"\"\n\
             roles = [\"technician\"]  # technician, on_call_manager, technical_manager, operations_manager, referent_engineer, supervision, administrator\n\
             # email = \"\"\n# phone = \"\"\n# manager = \"\"\n"
            .to_string(),
    }
}

/// `/console/inventaire`: the kinds of records, each with its list and, for an editor, the
/// way to create one.
async fn kinds(State(state): State<AppState>, viewer: Viewer) -> PageResult {
    viewer.require_staff()?;
    let lang = viewer.lang;
    let may_edit = viewer.caller.actor.may(Permission::WriteInventory);
    let body = html! {
        main {
            h1 { (t(lang, "Inventaire")) }
            p.muted { (t(lang, "Au format du fichier d'inventaire (docs/inventory.md) ; chaque création, modification et suppression est vérifiée et inscrite au journal d'audit.")) }
            div.table-wrap { table {
                thead { tr { th scope="col" { (t(lang, "Type de fiche")) } th scope="col" { (t(lang, "Actions")) } } }
                tbody { @for kind in ObjectKind::ALL {
                    tr data-kind=(kind.key()) {
                        td { a href=(list_link(kind)) { (kind_title(lang, kind)) } }
                        td { @if may_edit { a.button id=(format!("new-{}", kind.key())) href=(new_link(kind, None, None)) { (t(lang, "Nouvelle fiche")) } } @else { "—" } }
                    }
                } }
            } }
        }
    };
    Ok(page(&state, &viewer, t(lang, "Inventaire"), Nav::Inventory, body).into_response())
}

#[derive(Debug, Deserialize)]
struct RecordsQuery {
    apres: Option<String>,
    fait: Option<String>,
}

/// What a list shows of a record besides its reference: its name, and the client or site it
/// belongs to.
fn described(record: &Record) -> (Option<&str>, Option<&Reference>) {
    match record {
        Record::Client(client) => (Some(client.name.as_str()), None),
        Record::Contract(contract) => (None, Some(&contract.client)),
        Record::Contact(contact) => (Some(contact.name.as_str()), Some(&contact.client)),
        Record::Site(site) => (Some(site.name.as_str()), Some(&site.client)),
        Record::Equipment(equipment) => (Some(equipment.name.as_str()), Some(&equipment.site)),
        Record::Staff(staff) => (Some(staff.name.as_str()), None),
        Record::Territory(territory) => (Some(territory.name.as_str()), None),
    }
}

/// `/console/inventaire/{kind}`: the records of one kind by reference, a page at a time.
async fn records(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(kind): Path<String>,
    PageQuery(query): PageQuery<RecordsQuery>,
) -> PageResult {
    viewer.require_staff()?;
    let kind = kind_of(&kind)?;
    let after = optional_reference(query.apres.as_deref())?;
    let records = state
        .store
        .list(
            &viewer.caller.actor,
            kind,
            &ListFilter {
                after: after.clone(),
                limit: Some(RECORDS_PAGE),
                ..ListFilter::default()
            },
        )
        .await?;
    let next = (records.len() as i64 == RECORDS_PAGE)
        .then(|| records.last().map(|r| r.reference().clone()))
        .flatten();
    let lang = viewer.lang;
    let may_edit = viewer.caller.actor.may(Permission::WriteInventory);
    let done = match query.fait.as_deref() {
        Some("supprime") => Some(t(lang, "Fiche supprimée.")),
        _ => None,
    };
    let owner = match kind {
        ObjectKind::Equipment => Some(t(lang, "Site")),
        ObjectKind::Client | ObjectKind::Staff | ObjectKind::Territory => None,
        _ => Some(t(lang, "Client")),
    };
    let title = tf(
        lang,
        "Inventaire : {kind}",
        &[("kind", &labels::object_kind(lang, kind))],
    );
    let body = html! {
        main {
            p { a href="/console/inventaire" { "← " (t(lang, "Inventaire")) } }
            h1 { (title) }
            @if let Some(done) = done { p.notice role="status" { (done) } }
            @if may_edit { div.actions { a.button #new-record href=(new_link(kind, None, None)) { (t(lang, "Nouvelle fiche")) } } }
            @if records.is_empty() { p.panel { (t(lang, "Aucune fiche.")) } }
            @else {
                div.table-wrap { table {
                    thead { tr {
                        th scope="col" { (t(lang, "Référence")) }
                        th scope="col" { (t(lang, "Nom")) }
                        @if let Some(owner) = owner { th scope="col" { (owner) } }
                    } }
                    tbody { @for record in &records {
                        @let (name, belongs) = described(record);
                        tr data-record=(record.reference().as_str()) {
                            td { a href=(edit_link(kind, record.reference())) { (record.reference().as_str()) } }
                            td { (name.unwrap_or("—")) }
                            @if owner.is_some() { td { (belongs.map(Reference::as_str).unwrap_or("—")) } }
                        }
                    } }
                } }
            }
            @if let Some(next) = &next {
                nav.pager { a href=(format!("{}?apres={}", list_link(kind), url_encode(next.as_str()))) { (t(lang, "Fiches suivantes")) } }
            }
        }
    };
    Ok(page(&state, &viewer, &title, Nav::Inventory, body).into_response())
}

#[derive(Debug, Deserialize)]
struct NewQuery {
    client: Option<String>,
    site: Option<String>,
}

/// `/console/inventaire/nouvelle/{kind}`: the form of a new record, from its template.
async fn new_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(kind): Path<String>,
    PageQuery(query): PageQuery<NewQuery>,
) -> PageResult {
    require_editor(&viewer)?;
    let kind = kind_of(&kind)?;
    // A malformed owner in the address is left out of the template rather than refused.
    let client = Reference::parse(query.client.as_deref().unwrap_or("")).ok();
    let site = Reference::parse(query.site.as_deref().unwrap_or("")).ok();
    render_new(
        &state,
        &viewer,
        kind,
        &template(kind, client.as_ref(), site.as_ref()),
        None,
    )
}

fn render_new(
    state: &AppState,
    viewer: &Viewer,
    kind: ObjectKind,
    text: &str,
    error: Option<(StatusCode, String)>,
) -> PageResult {
    let lang = viewer.lang;
    let title = tf(
        lang,
        "Nouvelle fiche : {kind}",
        &[("kind", &labels::object_kind(lang, kind))],
    );
    let status = error.as_ref().map(|(s, _)| *s).unwrap_or(StatusCode::OK);
    let body = html! {
        main {
            p { a href=(list_link(kind)) { "← " (tf(lang, "Inventaire : {kind}", &[("kind", &labels::object_kind(lang, kind))])) } }
            h1 { (title) }
            @if let Some((_, message)) = &error { p.error role="alert" { (crate::web::render::plain(message)) } }
            p.muted { (t(lang, "Au format du fichier d'inventaire (docs/inventory.md) : remplissez les champs entre guillemets ; les lignes commençant par « # » sont des champs facultatifs à décommenter. La création est vérifiée comme par l'API et inscrite au journal d'audit.")) }
            form.stack method="post" action=(new_link(kind, None, None)) {
                input type="hidden" name="csrf" value=(viewer.csrf);
                label for="record" { (t(lang, "Fiche")) }
                textarea #record.code name="record" rows="14" spellcheck="false" { (text) }
                div.actions {
                    button #create type="submit" { (t(lang, "Créer la fiche")) }
                    a href=(list_link(kind)) { (t(lang, "Annuler")) }
                }
            }
        }
    };
    Ok((status, page(state, viewer, &title, Nav::Inventory, body)).into_response())
}

#[derive(Debug, Deserialize)]
struct RecordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    record: String,
}

/// Reads the form's TOML into the JSON the API takes, or says why it cannot.
fn toml_value(viewer: &Viewer, text: &str) -> Result<serde_json::Value, (StatusCode, String)> {
    toml::from_str(text).map_err(|error| {
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            tf(
                viewer.lang,
                "TOML illisible : {reason}",
                &[("reason", &error.message())],
            ),
        )
    })
}

async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(kind): Path<String>,
    PageForm(form): PageForm<RecordForm>,
) -> PageResult {
    require_editor(&viewer)?;
    viewer.check_form(&form.csrf)?;
    let kind = kind_of(&kind)?;
    let value = match toml_value(&viewer, &form.record) {
        Ok(value) => value,
        Err(error) => return render_new(&state, &viewer, kind, &form.record, Some(error)),
    };
    match create_record(&state, &viewer.caller, kind, value).await {
        Ok(record) => Ok(Redirect::to(&format!(
            "{}?fait=cree",
            edit_link(kind, record.reference())
        ))
        .into_response()),
        Err(error) => render_new(
            &state,
            &viewer,
            kind,
            &form.record,
            Some((error.status, error.message)),
        ),
    }
}

#[derive(Debug, Deserialize)]
struct EditQuery {
    fait: Option<String>,
}

async fn edit_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((kind, reference)): Path<(String, String)>,
    PageQuery(query): PageQuery<EditQuery>,
) -> PageResult {
    viewer.require_staff()?;
    let kind = kind_of(&kind)?;
    let reference = Reference::parse(&reference).map_err(|_| PageError::not_found())?;
    let record = state
        .store
        .get(&viewer.caller.actor, kind, &reference)
        .await?;
    let done = match query.fait.as_deref() {
        Some("cree") => Some(t(viewer.lang, "Fiche créée.")),
        Some(_) => Some(t(viewer.lang, "Fiche enregistrée.")),
        None => None,
    };
    render(
        &state,
        &viewer,
        kind,
        &reference,
        &as_toml(&record.to_json()),
        done,
        None,
    )
}

fn render(
    state: &AppState,
    viewer: &Viewer,
    kind: ObjectKind,
    reference: &Reference,
    text: &str,
    done: Option<&str>,
    error: Option<(StatusCode, String)>,
) -> PageResult {
    let may_edit = viewer.caller.actor.may(Permission::WriteInventory);
    let lang = viewer.lang;
    let title = tf(
        lang,
        "Inventaire : {kind} {reference}",
        &[
            ("kind", &labels::object_kind(lang, kind)),
            ("reference", reference),
        ],
    );
    let status = error.as_ref().map(|(s, _)| *s).unwrap_or(StatusCode::OK);
    let body = html! {
        main {
            p { a href=(list_link(kind)) { "← " (tf(lang, "Inventaire : {kind}", &[("kind", &labels::object_kind(lang, kind))])) } }
            h1 { (title) }
            @if let Some(done) = done { p.notice role="status" { (done) } }
            @if let Some((_, message)) = &error { p.error role="alert" { (crate::web::render::plain(message)) } }
            p.muted { (t(lang, "Au format du fichier d'inventaire (docs/inventory.md). La référence ne se renomme pas ; chaque modification est vérifiée et inscrite au journal d'audit.")) }
            form.stack method="post" action=(edit_link(kind, reference)) {
                input type="hidden" name="csrf" value=(viewer.csrf);
                label for="record" { (t(lang, "Fiche")) }
                textarea #record.code name="record" rows="18" spellcheck="false" readonly[!may_edit] { (text) }
                @if may_edit {
                    div.actions {
                        button #save type="submit" { (t(lang, "Enregistrer")) }
                        a.button.danger #delete href=(delete_link(kind, reference)) { (t(lang, "Supprimer la fiche")) }
                    }
                }
                @else { p.muted { (t(lang, "Vos droits permettent de lire l'inventaire, pas de le modifier.")) } }
            }
        }
    };
    Ok((status, page(state, viewer, &title, Nav::Inventory, body)).into_response())
}

async fn save(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((kind, reference)): Path<(String, String)>,
    PageForm(form): PageForm<RecordForm>,
) -> PageResult {
    viewer.require_staff()?;
    viewer.check_form(&form.csrf)?;
    let kind = kind_of(&kind)?;
    let reference = Reference::parse(&reference).map_err(|_| PageError::not_found())?;
    // The record must exist and be visible: this page edits, creating is the new record's.
    state
        .store
        .get(&viewer.caller.actor, kind, &reference)
        .await?;
    let refuse = |(status, message): (StatusCode, String)| {
        render(
            &state,
            &viewer,
            kind,
            &reference,
            &form.record,
            None,
            Some((status, message)),
        )
    };
    let value = match toml_value(&viewer, &form.record) {
        Ok(value) => value,
        Err(error) => return refuse(error),
    };
    let record = match record_from_body(kind, value, Some(&reference)) {
        Ok(record) => record,
        Err(error) => return refuse((error.status, error.message)),
    };
    match state
        .store
        .put(&viewer.caller.actor, record, viewer.caller.now_ms)
        .await
    {
        Ok(_) => {
            Ok(Redirect::to(&format!("{}?fait=1", edit_link(kind, &reference))).into_response())
        }
        Err(StoreError::NotFound) => Err(PageError::not_found()),
        Err(error) => {
            let error = crate::error::ApiError::from(error);
            refuse((error.status, error.message))
        }
    }
}

/// `…/suppression`: what is about to be deleted, and the button that does it. Following the
/// link changes nothing; only the form's button deletes.
async fn delete_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((kind, reference)): Path<(String, String)>,
) -> PageResult {
    require_editor(&viewer)?;
    let kind = kind_of(&kind)?;
    let reference = Reference::parse(&reference).map_err(|_| PageError::not_found())?;
    let record = state
        .store
        .get(&viewer.caller.actor, kind, &reference)
        .await?;
    Ok(render_delete(&state, &viewer, &record, None))
}

fn render_delete(
    state: &AppState,
    viewer: &Viewer,
    record: &Record,
    error: Option<(StatusCode, String)>,
) -> axum::response::Response {
    let lang = viewer.lang;
    let kind = record.kind();
    let reference = record.reference();
    let title = tf(
        lang,
        "Supprimer : {kind} {reference}",
        &[
            ("kind", &labels::object_kind(lang, kind)),
            ("reference", reference),
        ],
    );
    let status = error.as_ref().map(|(s, _)| *s).unwrap_or(StatusCode::OK);
    let body: Markup = html! {
        main {
            p { a href=(edit_link(kind, reference)) { "← " (t(lang, "Retour à la fiche")) } }
            h1 { (title) }
            @if let Some((_, message)) = &error {
                p.error role="alert" { (crate::web::render::plain(message)) " " (t(lang, "Rien n'a été supprimé.")) }
            }
            p { (t(lang, "La fiche sera supprimée de l'inventaire ; la suppression est inscrite au journal d'audit avec la fiche telle qu'elle était. Une fiche encore utilisée par d'autres (sites, équipements, utilisateurs…) ne peut pas être supprimée.")) }
            pre.panel.code { (as_toml(&record.to_json())) }
            form.stack method="post" action=(delete_link(kind, reference)) {
                input type="hidden" name="csrf" value=(viewer.csrf);
                div.actions {
                    button.danger #confirm-delete type="submit" { (t(lang, "Supprimer définitivement")) }
                    a href=(edit_link(kind, reference)) { (t(lang, "Annuler")) }
                }
            }
        }
    };
    (status, page(state, viewer, &title, Nav::Inventory, body)).into_response()
}

async fn delete(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((kind, reference)): Path<(String, String)>,
    PageForm(form): PageForm<RecordForm>,
) -> PageResult {
    require_editor(&viewer)?;
    viewer.check_form(&form.csrf)?;
    let kind = kind_of(&kind)?;
    let reference = Reference::parse(&reference).map_err(|_| PageError::not_found())?;
    match delete_record(&state, &viewer.caller, kind, &reference).await {
        Ok(()) => Ok(Redirect::to(&format!("{}?fait=supprime", list_link(kind))).into_response()),
        Err(StoreError::NotFound) => Err(PageError::not_found()),
        Err(error) => {
            // Still referenced, most often: the store's reason, and the record as it stays.
            let error = crate::error::ApiError::from(error);
            let record = state
                .store
                .get(&viewer.caller.actor, kind, &reference)
                .await?;
            Ok(render_delete(
                &state,
                &viewer,
                &record,
                Some((error.status, error.message)),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_template_filled_in_is_a_record_of_its_kind() {
        for kind in ObjectKind::ALL {
            let text = template(kind, None, None)
                .replacen("ref = \"\"", "ref = \"NOUVELLE-FICHE\"", 1)
                .replacen("name = \"\"", "name = \"Nom\"", 1)
                .replacen("client = \"\"", "client = \"CLI-A\"", 1)
                .replacen("contract = \"\"", "contract = \"CTR-A\"", 1)
                .replacen("site = \"\"", "site = \"SITE-A\"", 1);
            let value: serde_json::Value = toml::from_str(&text).unwrap();
            let record = record_from_body(kind, value, None)
                .unwrap_or_else(|error| panic!("{kind:?}: {}\n{text}", error.message));
            assert_eq!(record.kind(), kind);
            assert_eq!(record.reference().as_str(), "NOUVELLE-FICHE");
        }
    }

    #[test]
    fn a_template_opened_from_a_site_names_its_owners() {
        let client = Reference::parse("CLI-BNF").unwrap();
        let site = Reference::parse("BNF-PAR-OPERA").unwrap();
        let text = template(ObjectKind::Equipment, Some(&client), Some(&site));
        assert!(text.contains("site = \"BNF-PAR-OPERA\""), "{text}");
        assert_eq!(
            new_link(ObjectKind::Equipment, Some(&client), Some(&site)),
            "/console/inventaire/nouvelle/equipment?client=CLI-BNF&site=BNF-PAR-OPERA"
        );
    }
}
