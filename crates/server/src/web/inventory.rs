//! Editing the inventory from the console: one record (a client, contract, contact, site,
//! equipment or staff member) shown in the inventory file's own TOML (docs/inventory.md), saved
//! through the same checks as the API — the editor's permission, the cross-record rules, the
//! audit entry — or refused with the reason and the text kept as typed.

use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use maud::html;
use serde::Deserialize;
use vigie_domain::Reference;
use vigie_domain::access::Permission;
use vigie_domain::inventory::ObjectKind;
use vigie_store::StoreError;

use crate::AppState;
use crate::api::inventory::record_from_body;
use crate::web::i18n::{t, tf};
use crate::web::labels;
use crate::web::render::url_encode;
use crate::web::{Nav, PageError, PageResult, Viewer, page};

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/console/inventaire/{kind}/{reference}",
        get(edit_page).post(save),
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

fn as_toml(value: &serde_json::Value) -> String {
    toml::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

#[derive(Debug, Deserialize)]
struct EditQuery {
    fait: Option<u8>,
}

async fn edit_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((kind, reference)): Path<(String, String)>,
    axum::extract::Query(query): axum::extract::Query<EditQuery>,
) -> PageResult {
    viewer.require_staff()?;
    let kind = kind_of(&kind)?;
    let reference = Reference::parse(&reference).map_err(|_| PageError::not_found())?;
    let record = state
        .store
        .get(&viewer.caller.actor, kind, &reference)
        .await?;
    let done = query.fait.map(|_| t(viewer.lang, "Fiche enregistrée."));
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
            h1 { (title) }
            @if let Some(done) = done { p.notice role="status" { (done) } }
            @if let Some((_, message)) = &error { p.error role="alert" { (message) } }
            p.muted { (t(lang, "Au format du fichier d'inventaire (docs/inventory.md). La référence ne se renomme pas ; chaque modification est vérifiée et inscrite au journal d'audit.")) }
            form.stack method="post" action=(edit_link(kind, reference)) {
                input type="hidden" name="csrf" value=(viewer.csrf);
                label for="record" { (t(lang, "Fiche")) }
                textarea #record.code name="record" rows="18" spellcheck="false" readonly[!may_edit] { (text) }
                @if may_edit { div.actions { button #save type="submit" { (t(lang, "Enregistrer")) } } }
                @else { p.muted { (t(lang, "Vos droits permettent de lire l'inventaire, pas de le modifier.")) } }
            }
        }
    };
    Ok((status, page(state, viewer, &title, Nav::Sites, body)).into_response())
}

#[derive(Debug, Deserialize)]
struct SaveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    record: String,
}

async fn save(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((kind, reference)): Path<(String, String)>,
    Form(form): Form<SaveForm>,
) -> PageResult {
    viewer.require_staff()?;
    viewer.check_form(&form.csrf)?;
    let kind = kind_of(&kind)?;
    let reference = Reference::parse(&reference).map_err(|_| PageError::not_found())?;
    // The record must exist and be visible: this page edits, it does not create.
    state
        .store
        .get(&viewer.caller.actor, kind, &reference)
        .await?;
    let refuse = |status: StatusCode, message: String| {
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
    let value: serde_json::Value = match toml::from_str(&form.record) {
        Ok(value) => value,
        Err(error) => {
            return refuse(
                StatusCode::UNPROCESSABLE_ENTITY,
                tf(
                    viewer.lang,
                    "TOML illisible : {reason}",
                    &[("reason", &error.message())],
                ),
            );
        }
    };
    let record = match record_from_body(kind, value, Some(&reference)) {
        Ok(record) => record,
        Err(error) => return refuse(error.status, error.message),
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
            refuse(error.status, error.message)
        }
    }
}
