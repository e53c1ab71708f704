//! Inventory endpoints: `/api/v1/{clients,contacts,contracts,staff,sites,equipment}` with list,
//! get, create, replace and delete, plus the whole inventory as a file (export and import).
//! A client user asking for another client's object gets 404, exactly as for one that does not
//! exist; the store filters, these handlers only make sure nothing leaks before it does.

use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use vigie_domain::Reference;
use vigie_domain::access::Permission;
use vigie_domain::inventory::file::{self, InventoryFile};
use vigie_domain::inventory::{ObjectKind, Record};
use vigie_store::{ListFilter, StoreError};

use crate::AppState;
use crate::api::{JsonBody, QueryParams, read_body};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Detail};

/// The URL segment of each kind.
pub fn collection(kind: ObjectKind) -> &'static str {
    kind.plural()
}

pub fn routes(state: &AppState) -> Router<AppState> {
    let mut router = Router::new()
        .route("/api/v1/inventory/export", get(export))
        .route(
            "/api/v1/inventory/import",
            post(import).layer(DefaultBodyLimit::max(state.config.server.max_import_bytes)),
        );
    for kind in ObjectKind::ALL {
        let base = format!("/api/v1/{}", collection(kind));
        router = router
            .route(
                &base,
                get(
                    move |state: State<AppState>,
                          caller: Caller,
                          params: QueryParams<ListParams>| {
                        list(kind, state, caller, params)
                    },
                )
                .post(
                    move |state: State<AppState>,
                          caller: Caller,
                          body: JsonBody<serde_json::Value>| {
                        create(kind, state, caller, body)
                    },
                ),
            )
            .route(
                &format!("{base}/{{reference}}"),
                get(
                    move |state: State<AppState>, caller: Caller, path: Path<String>| {
                        fetch(kind, state, caller, path)
                    },
                )
                .put(
                    move |state: State<AppState>,
                          caller: Caller,
                          path: Path<String>,
                          body: JsonBody<serde_json::Value>| {
                        replace(kind, state, caller, path, body)
                    },
                )
                .delete(
                    move |state: State<AppState>, caller: Caller, path: Path<String>| {
                        remove(kind, state, caller, path)
                    },
                ),
            );
    }
    router
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    client: Option<String>,
    site: Option<String>,
    after: Option<String>,
    limit: Option<i64>,
}

#[derive(Debug, Serialize)]
struct Page {
    items: Vec<serde_json::Value>,
    /// Pass as `after` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_after: Option<String>,
}

/// A reference from a path or a parameter; one that cannot exist is simply not found.
fn path_reference(text: &str) -> ApiResult<Reference> {
    Reference::parse(text).map_err(|_| ApiError::not_found())
}

async fn list(
    kind: ObjectKind,
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(params): QueryParams<ListParams>,
) -> ApiResult<Json<Page>> {
    let visibility = caller.actor.visibility();
    let client = params.client.as_deref().map(path_reference).transpose()?;
    // Filtering on a client or site one cannot see is asking about it: 404, as for any object.
    if let Some(client) = &client
        && !visibility.sees(client)
    {
        return Err(ApiError::not_found());
    }
    let site = params.site.as_deref().map(path_reference).transpose()?;
    if let Some(site) = &site {
        state
            .store
            .get(&caller.actor, ObjectKind::Site, site)
            .await?;
    }
    let after = match params.after.as_deref() {
        Some(after) => Some(
            Reference::parse(after)
                .map_err(|e| ApiError::bad_request(format!("paramètre after : {e}")))?,
        ),
        None => None,
    };
    let limit = params
        .limit
        .unwrap_or(vigie_store::DEFAULT_PAGE_SIZE)
        .clamp(1, vigie_store::MAX_PAGE_SIZE);
    let records = state
        .store
        .list(
            &caller.actor,
            kind,
            &ListFilter {
                client,
                site,
                after,
                limit: Some(limit),
            },
        )
        .await?;
    let next_after = (records.len() as i64 == limit)
        .then(|| records.last().map(|r| r.reference().to_string()))
        .flatten();
    Ok(Json(Page {
        items: records.iter().map(Record::to_json).collect(),
        next_after,
    }))
}

async fn fetch(
    kind: ObjectKind,
    State(state): State<AppState>,
    caller: Caller,
    Path(reference): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let reference = path_reference(&reference)?;
    Ok(Json(
        state
            .store
            .get(&caller.actor, kind, &reference)
            .await?
            .to_json(),
    ))
}

/// Reads a body into a record of `kind`, taking its reference from the path when absent.
pub(crate) fn record_from_body(
    kind: ObjectKind,
    mut body: serde_json::Value,
    path: Option<&Reference>,
) -> ApiResult<Record> {
    if let (Some(path), Some(object)) = (path, body.as_object_mut()) {
        match object.get("ref") {
            None => {
                object.insert("ref".into(), serde_json::Value::String(path.to_string()));
            }
            Some(serde_json::Value::String(r)) if r == path.as_str() => {}
            Some(_) => {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid",
                    "la référence du corps diffère de celle de l'adresse : une référence ne se renomme pas",
                ));
            }
        }
    }
    Record::from_json(kind, body).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            format!(
                "{} : {}",
                kind.french(),
                vigie_domain::text::french_serde_message(without_position(&e.to_string()))
            ),
        )
    })
}

fn without_position(message: &str) -> &str {
    message
        .rfind(" at line ")
        .map(|i| &message[..i])
        .unwrap_or(message)
}

fn location(kind: ObjectKind, reference: &Reference) -> String {
    format!("/api/v1/{}/{reference}", collection(kind))
}

async fn create(
    kind: ObjectKind,
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<serde_json::Value>,
) -> ApiResult<Response> {
    let record = create_record(&state, &caller, kind, body).await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location(kind, record.reference()))],
        Json(record.to_json()),
    )
        .into_response())
}

/// Creates a record of `kind` from its JSON (API and console alike): the editor's permission,
/// a reference not taken yet, then the store's cross-record checks and its audit entry.
pub(crate) async fn create_record(
    state: &AppState,
    caller: &Caller,
    kind: ObjectKind,
    body: serde_json::Value,
) -> ApiResult<Record> {
    // Checked before anything is looked up, so that a refusal says nothing about what exists.
    if !caller.actor.may(Permission::WriteInventory) {
        return Err(StoreError::Forbidden(
            "vos droits ne permettent pas de modifier l'inventaire".into(),
        )
        .into());
    }
    let record = record_from_body(kind, body, None)?;
    let reference = record.reference().clone();
    match state.store.get(&caller.actor, kind, &reference).await {
        Ok(_) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                format!(
                    "{} « {reference} » existe déjà (PUT pour le remplacer)",
                    kind.french()
                ),
            ));
        }
        Err(StoreError::NotFound) => {}
        Err(other) => return Err(other.into()),
    }
    state
        .store
        .put(&caller.actor, record.clone(), caller.now_ms)
        .await?;
    Ok(record)
}

async fn replace(
    kind: ObjectKind,
    State(state): State<AppState>,
    caller: Caller,
    Path(reference): Path<String>,
    JsonBody(body): JsonBody<serde_json::Value>,
) -> ApiResult<Response> {
    let reference = path_reference(&reference)?;
    let exists = match state.store.get(&caller.actor, kind, &reference).await {
        Ok(_) => true,
        // Not visible: a client user learns nothing (404); an editor may create it.
        Err(StoreError::NotFound) if caller.actor.may(Permission::WriteInventory) => false,
        Err(other) => return Err(other.into()),
    };
    let record = record_from_body(kind, body, Some(&reference))?;
    state
        .store
        .put(&caller.actor, record.clone(), caller.now_ms)
        .await?;
    let status = if exists {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(record.to_json())).into_response())
}

async fn remove(
    kind: ObjectKind,
    State(state): State<AppState>,
    caller: Caller,
    Path(reference): Path<String>,
) -> ApiResult<StatusCode> {
    let reference = path_reference(&reference)?;
    delete_record(&state, &caller, kind, &reference).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes a record (API and console alike): visible to the caller first (another client's is
/// not found), then the store's permission check, its refusal of what is still referenced,
/// and its audit entry.
pub(crate) async fn delete_record(
    state: &AppState,
    caller: &Caller,
    kind: ObjectKind,
    reference: &Reference,
) -> Result<(), StoreError> {
    state.store.get(&caller.actor, kind, reference).await?;
    state
        .store
        .delete(&caller.actor, kind, reference, caller.now_ms)
        .await
}

async fn export(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let inventory = state.store.export(&caller.actor).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/toml; charset=utf-8")],
        file::write(&inventory),
    )
        .into_response())
}

#[derive(Debug, Serialize)]
struct ImportOutcome {
    created: usize,
    updated: usize,
    unchanged: usize,
}

async fn import(
    State(state): State<AppState>,
    caller: Caller,
    request: Request,
) -> ApiResult<Json<ImportOutcome>> {
    if !caller.actor.may(Permission::WriteInventory) {
        return Err(StoreError::Forbidden(
            "vos droits ne permettent pas de modifier l'inventaire".into(),
        )
        .into());
    }
    let bytes = read_body(request, &state).await?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| ApiError::bad_request("le fichier d'inventaire doit être en UTF-8"))?;
    let file_errors = |errors: Vec<file::FileError>| ApiError {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: "invalid_file",
        message: format!(
            "fichier d'inventaire refusé : {} erreur(s), rien n'a été modifié",
            errors.len()
        ),
        details: errors
            .into_iter()
            .map(|e| Detail {
                line: Some(e.line),
                object: None,
                field: None,
                message: e.message,
            })
            .collect(),
        retry_after_seconds: None,
    };
    let parsed = InventoryFile::parse(text).map_err(file_errors)?;
    parsed
        .check(&state.store.known_objects(&caller.actor).await?)
        .map_err(file_errors)?;
    let report = state
        .store
        .import(&caller.actor, &parsed.inventory, caller.now_ms)
        .await?;
    Ok(Json(ImportOutcome {
        created: report.created,
        updated: report.updated,
        unchanged: report.unchanged,
    }))
}
