//! Capsules: the record, its SARIF log, its artifacts and its files.

use std::collections::HashMap;

use super::extract::Path;
use axum::Json;
use axum::extract::{Extension, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::intents::visible_intent;
use super::{AppState, types};

use super::ApiError;

use crate::auth::Caller;

/// The capsule of intent `id`, if the caller may see the intent; 404
/// `CAPSULE_NOT_FOUND` otherwise, as for an intent that has none.
pub(super) async fn capsule_record(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<crate::store::CapsuleRecord, ApiError> {
    let visible = match visible_intent(state, caller, id).await {
        Ok(_) => state.store.get_capsule(id).await?,
        Err(e) if e.status == StatusCode::NOT_FOUND => None,
        Err(e) => return Err(e),
    };
    visible.ok_or_else(|| {
        ApiError::not_found(
            "CAPSULE_NOT_FOUND",
            format!("no capsule for intent `{id}` (it may still be running)"),
        )
    })
}

#[utoipa::path(get, path = "/v1/capsules/{id}", tag = "capsules", params(("id" = String, Path)),
    responses(
        (status = 200, description = "The capsule: files, reports, score, verdict, manifest", body = types::CapsuleView),
        (status = 404, description = "`CAPSULE_NOT_FOUND`", body = types::ErrorBody),
    ))]
pub(super) async fn get_capsule(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<types::CapsuleView>, ApiError> {
    let capsule = capsule_record(&state, &caller, &id).await?;
    let artifacts: Vec<String> = capsule
        .artifacts
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["file_name"].as_str())
        .map(|name| format!("/v1/capsules/{id}/artifacts/{name}"))
        .collect();
    let links = types::CapsuleLinks {
        download: format!("/v1/capsules/{id}/download"),
        artifacts,
        files: format!("/v1/capsules/{id}/files/"),
        sarif: format!("/v1/capsules/{id}/sarif"),
        intent: format!("/v1/intents/{id}"),
    };
    Ok(Json(types::CapsuleView { capsule, links }))
}

/// The capsule's validation reports as a SARIF 2.1.0 log.
#[utoipa::path(get, path = "/v1/capsules/{id}/sarif", tag = "capsules", params(("id" = String, Path)),
    responses(
        (status = 200, description = "The validation findings as SARIF 2.1.0", body = Object, content_type = "application/sarif+json"),
        (status = 404, description = "`CAPSULE_NOT_FOUND`", body = types::ErrorBody),
    ))]
pub(super) async fn capsule_sarif(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let capsule = capsule_record(&state, &caller, &id).await?;
    let validations = crate::sarif::validations(&capsule).map_err(ApiError::internal)?;
    let manifest: Option<crate::capsule::Manifest> =
        serde_json::from_value(capsule.manifest.clone()).ok();
    let mut texts = HashMap::new();
    for path in crate::sarif::paths(&validations) {
        if let Ok(Some(bytes)) = state.capsules.file(&id, &path).await
            && let Ok(text) = String::from_utf8(bytes)
        {
            texts.insert(path, text);
        }
    }
    let log = crate::sarif::log(&validations, manifest.as_ref(), &texts);
    Ok((
        [(header::CONTENT_TYPE, crate::sarif::MEDIA_TYPE)],
        Json(log),
    )
        .into_response())
}

/// The capsule's main artifact (its tier's first exporter's).
#[utoipa::path(get, path = "/v1/capsules/{id}/download", tag = "capsules", params(("id" = String, Path)),
    responses(
        (status = 200, description = "The main artifact", body = types::Binary, content_type = "*/*"),
        (status = 404, description = "`CAPSULE_NOT_FOUND`, `ARTIFACT_NOT_FOUND`", body = types::ErrorBody),
    ))]
pub(super) async fn download_capsule(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let capsule = capsule_record(&state, &caller, &id).await?;
    let (Some(name), Some(media_type)) = (capsule.artifact_name, capsule.artifact_type) else {
        return Err(ApiError::not_found(
            "ARTIFACT_NOT_FOUND",
            "this capsule has no exported artifact",
        ));
    };
    artifact_response(&state, &id, name, media_type).await
}

/// Any artifact of the capsule, by file name.
#[utoipa::path(get, path = "/v1/capsules/{id}/artifacts/{name}", tag = "capsules",
    params(("id" = String, Path), ("name" = String, Path)),
    responses(
        (status = 200, description = "One exporter's artifact", body = types::Binary, content_type = "*/*"),
        (status = 404, description = "`CAPSULE_NOT_FOUND`, `ARTIFACT_NOT_FOUND`", body = types::ErrorBody),
    ))]
pub(super) async fn capsule_artifact(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let capsule = capsule_record(&state, &caller, &id).await?;
    let media_type = capsule
        .artifacts
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| a["file_name"] == name.as_str())
        .and_then(|a| a["media_type"].as_str())
        .ok_or_else(|| {
            ApiError::not_found(
                "ARTIFACT_NOT_FOUND",
                format!("this capsule has no artifact `{name}`"),
            )
        })?
        .to_owned();
    artifact_response(&state, &id, name, media_type).await
}

pub(super) async fn artifact_response(
    state: &AppState,
    id: &str,
    name: String,
    media_type: String,
) -> Result<Response, ApiError> {
    let bytes = state
        .capsules
        .artifact(id, &name)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| {
            ApiError::internal(format!(
                "capsule `{id}` lists artifact `{name}`, which is missing"
            ))
        })?;
    Ok((
        [
            (header::CONTENT_TYPE, media_type),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

#[utoipa::path(get, path = "/v1/capsules/{id}/files/{path}", tag = "capsules",
    params(("id" = String, Path), ("path" = String, Path, description = "A file's path in the capsule")),
    responses(
        (status = 200, description = "The file: text (`text/plain; charset=utf-8`), or bytes (`application/octet-stream`)", body = types::Binary, content_type = "*/*"),
        (status = 404, description = "`CAPSULE_NOT_FOUND`, `FILE_NOT_FOUND`", body = types::ErrorBody),
    ))]
pub(super) async fn capsule_file(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, path)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    capsule_record(&state, &caller, &id).await?;
    let not_found = || {
        ApiError::not_found(
            "FILE_NOT_FOUND",
            format!("capsule `{id}` has no file `{path}`"),
        )
    };
    // A directory of the capsule is not a file of it.
    let bytes = state
        .capsules
        .file(&id, &path)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(not_found)?;
    let media_type = if std::str::from_utf8(&bytes).is_ok() {
        "text/plain; charset=utf-8"
    } else {
        "application/octet-stream"
    };
    Ok(([(header::CONTENT_TYPE, media_type)], bytes).into_response())
}
