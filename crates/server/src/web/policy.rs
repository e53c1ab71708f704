//! The policy page of the console (issue 26, item 4): the policy in force, its text to edit
//! and save — checked first, applied at once without restart — and every version, each
//! restorable. Reading is for the staff; saving for administrators and the technical and
//! operations managers (`api/policy.rs` does both).

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use maud::html;
use serde::Deserialize;
use vigie_domain::access::Permission;

use crate::AppState;
use crate::api::policy::{policy_in_force, restore_version, save_and_apply};
use crate::web::i18n::{t, tf};
use crate::web::render::when;
use crate::web::{Nav, PageError, PageForm, PageResult, Viewer, page};

/// The versions the page lists (the API pages through all of them).
const LISTED: i64 = 50;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/politique", get(policy_page).post(save))
        .route("/console/politique/{version}", get(version_page))
        .route("/console/politique/{version}/restaurer", post(restore))
}

#[derive(Debug, Default, Deserialize)]
struct PolicyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    texte: String,
    #[serde(default)]
    note: String,
}

/// The text a first edition starts from: the configuration's policy file when there is one.
fn configuration_text(state: &AppState) -> String {
    if state.config.policy.is_empty() {
        return String::new();
    }
    match std::fs::metadata(&state.config.policy) {
        Ok(meta) if meta.len() <= vigie_store::policies::MAX_POLICY_BYTES as u64 => {
            std::fs::read_to_string(&state.config.policy).unwrap_or_default()
        }
        _ => String::new(),
    }
}

async fn policy_page(State(state): State<AppState>, viewer: Viewer) -> PageResult {
    render(&state, &viewer, None, None).await
}

/// The page, with `refused` (why a save was refused) and the text that was refused.
async fn render(
    state: &AppState,
    viewer: &Viewer,
    refused: Option<String>,
    draft: Option<&PolicyForm>,
) -> PageResult {
    viewer.require_staff()?;
    let lang = viewer.lang;
    let in_force = policy_in_force(state, &viewer.caller).await?;
    let versions = state
        .store
        .policy_versions(&viewer.caller.actor, None, LISTED)
        .await?;
    let editor = viewer.caller.actor.may(Permission::EditPolicy);
    let text = match (draft, &in_force.saved) {
        (Some(draft), _) => draft.texte.clone(),
        (None, Some(saved)) => saved.text.clone(),
        (None, None) => configuration_text(state),
    };
    let note = draft.map(|d| d.note.clone()).unwrap_or_default();
    let body = html! {
        main {
            p { a href="/console/astreintes" { "← " (t(lang, "Astreintes")) } }
            h1 { (t(lang, "Politique d'alarme et d'escalade")) }
            p #in-force.panel {
                @match &in_force.saved {
                    Some(saved) => {
                        (tf(lang, "Version {version} en vigueur, enregistrée le {at} par {by}.", &[
                            ("version", &saved.version.to_string()),
                            ("at", &when(saved.at_ms)),
                            ("by", &saved.by),
                        ]))
                        @if !saved.note.is_empty() { " « " (saved.note) " »" }
                    }
                    None => { (t(lang, "Politique du fichier de configuration (ou politique par défaut) : aucune version enregistrée depuis la console.")) }
                }
            }
            p.muted { (t(lang, "Le texte s'ajoute à la politique par défaut, comme le fichier de politique (docs/policy.md). Enregistrée, une version s'applique aussitôt, sans redémarrage : aux nouvelles alarmes, aux prochaines étapes d'escalade des alarmes ouvertes et aux seuils des sites ; les échéances déjà armées et les notifications envoyées restent.")) }
            @if let Some(refused) = &refused {
                p.error role="alert" { (refused) }
            }
            @if editor {
                form method="post" action="/console/politique" {
                    input type="hidden" name="csrf" value=(viewer.csrf);
                    label for="texte" { (t(lang, "Texte de la politique (TOML)")) }
                    textarea #texte.code name="texte" rows="24" spellcheck="false" { (text) }
                    label for="note" { (t(lang, "Pourquoi ce changement")) }
                    input #note type="text" name="note" maxlength="500" value=(note);
                    button type="submit" { (t(lang, "Vérifier, enregistrer et appliquer")) }
                }
            } @else {
                pre #texte.code { (text) }
                p.muted { (t(lang, "Seuls les administrateurs et les responsables technique et d'exploitation modifient la politique.")) }
            }
            h2 { (t(lang, "Versions")) }
            @if versions.is_empty() {
                p.panel { (t(lang, "Aucune version enregistrée.")) }
            } @else {
                div.table-wrap { table #versions {
                    thead { tr {
                        th scope="col" { (t(lang, "Version")) } th scope="col" { (t(lang, "Enregistrée")) }
                        th scope="col" { (t(lang, "Par")) } th scope="col" { (t(lang, "Note")) } th scope="col" { span.visually-hidden { (t(lang, "Action")) } }
                    } }
                    tbody { @for version in &versions {
                        tr data-version=(version.version) {
                            td { a href=(format!("/console/politique/{}", version.version)) { (version.version) } }
                            td { (when(version.at_ms)) }
                            td { (version.by) }
                            td {
                                (version.note)
                                @if let Some(from) = version.restored_from {
                                    " " span.muted { (tf(lang, "(copie de la version {version})", &[("version", &from.to_string())])) }
                                }
                            }
                            td {
                                @if editor && version.version != in_force.version {
                                    form.inline method="post" action=(format!("/console/politique/{}/restaurer", version.version)) {
                                        input type="hidden" name="csrf" value=(viewer.csrf);
                                        button type="submit" { (t(lang, "Restaurer")) }
                                    }
                                }
                            }
                        }
                    } }
                } }
            }
        }
    };
    let status = if refused.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        page(
            state,
            viewer,
            t(lang, "Politique d'alarme et d'escalade"),
            Nav::OnCall,
            body,
        ),
    )
        .into_response())
}

async fn save(
    State(state): State<AppState>,
    viewer: Viewer,
    PageForm(form): PageForm<PolicyForm>,
) -> PageResult {
    viewer.require_staff()?;
    viewer.check_form(&form.csrf)?;
    match save_and_apply(&state, &viewer.caller, &form.texte, &form.note, None).await {
        Ok(_) => Ok(Redirect::to("/console/politique").into_response()),
        Err(error) if error.status == StatusCode::UNPROCESSABLE_ENTITY => {
            render(&state, &viewer, Some(error.message), Some(&form)).await
        }
        Err(error) => Err(PageError::from(error)),
    }
}

async fn version_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(version): Path<i64>,
) -> PageResult {
    viewer.require_staff()?;
    let lang = viewer.lang;
    let saved = state
        .store
        .policy_version(&viewer.caller.actor, version)
        .await?
        .ok_or_else(PageError::not_found)?;
    let title = tf(
        lang,
        "Politique, version {version}",
        &[("version", &version.to_string())],
    );
    let body = html! {
        main {
            p { a href="/console/politique" { "← " (t(lang, "Politique d'alarme et d'escalade")) } }
            h1 { (title) }
            p.panel {
                (tf(lang, "Enregistrée le {at} par {by}.", &[("at", &when(saved.at_ms)), ("by", &saved.by)]))
                @if !saved.note.is_empty() { " « " (saved.note) " »" }
            }
            pre #texte.code { (saved.text) }
        }
    };
    Ok(page(&state, &viewer, &title, Nav::OnCall, body).into_response())
}

#[derive(Debug, Default, Deserialize)]
struct RestoreForm {
    #[serde(default)]
    csrf: String,
}

async fn restore(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(version): Path<i64>,
    PageForm(form): PageForm<RestoreForm>,
) -> PageResult {
    viewer.require_staff()?;
    viewer.check_form(&form.csrf)?;
    restore_version(&state, &viewer.caller, version, "").await?;
    Ok(Redirect::to("/console/politique").into_response())
}
