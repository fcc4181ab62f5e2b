//! The registry's REST API: publish signed packages, list and search them,
//! read their versions, manifests, signatures and components, yank and
//! unyank.
//!
//! Reads are open. Publishing and yanking need `Authorization: Bearer
//! TOKEN` of a publisher ([`crate::publishers`], checked by
//! [`super::access`] before the body is read) whose namespaces cover the
//! package; the package itself is then verified exactly as `qlp serve`
//! verifies a component it imports ([`crate::packages`]): the trust policy
//! (digests, signatures, keys, namespaces), the WIT version, and the
//! component loaded by the runtime against what its manifest says. Nothing
//! refused is stored. A stored package is loaded by the server at its next
//! start.
//!
//! `POST /v1/registry/packages` takes `application/json`:
//! `{"component": BASE64, "manifest": {…}, "signatures": […]}`, the
//! manifest and signatures as `qlp plugin sign` writes them.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Extension, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use qlp_registry::{Kind, Manifest, PackageEntry, Registry, Signature, TrustPolicy};
use semver::Version;
use serde::Deserialize;

use super::access::RequestId;
use super::extract::{Path, Query};
use super::types::{self, PublishBody};
use super::{ApiError, AppState};
use crate::packages::{self, SERVED_WIT};
use crate::publishers::{Publisher, Publishers};
use crate::store::Actor;
use qlp_runtime::Runtime;

/// Largest publish request: a component of the registry's size limit in
/// base64 (4/3 of it), plus room for the manifest and signatures.
pub const MAX_PUBLISH_BODY_BYTES: usize =
    (qlp_registry::MAX_BLOB_BYTES as usize).div_ceil(3) * 4 + 256 * 1024;

/// Most packages a search answers with.
pub const MAX_LISTED_PACKAGES: usize = 500;

/// Longest search string, in characters.
pub const MAX_QUERY_CHARS: usize = 128;

/// What the registry routes share: the server's registry and trust policy,
/// the publishers, and the runtime that checks a component against its
/// manifest.
pub struct RegistryState {
    pub registry: Registry,
    pub policy: TrustPolicy,
    pub publishers: Publishers,
    pub runtime: Arc<Runtime>,
}

/// This module's operations, for [`super::openapi`].
#[derive(utoipa::OpenApi)]
#[openapi(paths(publish, list, versions, package, component, yank, unyank))]
pub struct Doc;

/// The routes, to merge into the API's router.
pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route(
            "/v1/registry/packages",
            post(publish)
                .layer(DefaultBodyLimit::max(MAX_PUBLISH_BODY_BYTES))
                .get(list),
        )
        .route("/v1/registry/packages/{namespace}/{name}", get(versions))
        .route(
            "/v1/registry/packages/{namespace}/{name}/{version}",
            get(package),
        )
        .route(
            "/v1/registry/packages/{namespace}/{name}/{version}/component",
            get(component),
        )
        .route(
            "/v1/registry/packages/{namespace}/{name}/{version}/yank",
            post(yank),
        )
        .route(
            "/v1/registry/packages/{namespace}/{name}/{version}/unyank",
            post(unyank),
        )
}

/// The body limit of a request to `path` with `method`: the publish route
/// takes components, the checks route archives, every other route the
/// API's default.
pub fn body_limit(method: &axum::http::Method, path: &str) -> usize {
    match path {
        "/v1/registry/packages" if method == axum::http::Method::POST => MAX_PUBLISH_BODY_BYTES,
        "/v1/checks" if method == axum::http::Method::POST => crate::upload::MAX_ARCHIVE_BYTES,
        _ => super::MAX_BODY_BYTES,
    }
}

/// A registry error as the API answers it; refusals keep the registry's
/// and the trust policy's stable codes.
fn registry_error(e: qlp_registry::Error) -> ApiError {
    use qlp_registry::Error as E;
    let status = match &e {
        E::VersionConflict { .. } => StatusCode::CONFLICT,
        E::PackageNotFound { .. } => StatusCode::NOT_FOUND,
        E::ComponentTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        E::InvalidName(_)
        | E::InvalidManifest(_)
        | E::InvalidSignatures(_)
        | E::Trust(_)
        | E::WitIncompatible { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        _ => return ApiError::internal(format!("{}: {e}", e.code())),
    };
    ApiError::new(status, e.code(), e.to_string())
}

/// Runs registry work on a blocking thread: it reads and hashes files.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(ApiError::internal)?
}

fn check_namespace(publisher: &Publisher, package: &str) -> Result<(), ApiError> {
    if publisher.may_publish(package) {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "NAMESPACE_NOT_ALLOWED_FOR_PUBLISHER",
        format!(
            "publisher `{}` may publish only {}, not {package}",
            publisher.name,
            publisher.namespaces_text()
        ),
    ))
}

fn entry_json(e: &PackageEntry) -> types::PackageVersion {
    types::PackageVersion {
        name: e.name.clone(),
        version: e.version.to_string(),
        kind: e.kind.as_str().to_owned(),
        wit: e.wit.to_string(),
        digest: e.digest.to_string(),
        size: e.size,
        yanked: e.yanked,
    }
}

/// `POST /v1/registry/packages`.
#[utoipa::path(post, path = "/v1/registry/packages", tag = "registry", request_body = PublishBody,
    responses(
        (status = 200, description = "Published before: the same version again", body = types::PackageVersion),
        (status = 201, description = "Published", body = types::PackageVersion,
            headers(("Location" = String, description = "The version"))),
        (status = 409, description = "The version exists with other contents", body = types::ErrorBody),
        (status = 422, description = "Refused: signatures, trust policy, WIT version, component or manifest", body = types::ErrorBody),
    ))]
async fn publish(
    State(state): State<AppState>,
    Extension(publisher): Extension<Publisher>,
    Extension(request): Extension<RequestId>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let reg = state.registry.clone();
    let body: PublishBody = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            format!(
                "expected {{\"component\": BASE64, \"manifest\": {{…}}, \"signatures\": […]}}: {e}"
            ),
        )
    })?;
    let component = base64::engine::general_purpose::STANDARD
        .decode(body.component.as_bytes())
        .map_err(|e| {
            ApiError::invalid("INVALID_REQUEST", format!("`component` is not base64: {e}"))
        })?;
    let manifest_bytes = serde_json::to_vec(&body.manifest).map_err(ApiError::internal)?;
    let manifest = Manifest::from_json(&manifest_bytes).map_err(registry_error)?;
    let signatures_bytes = serde_json::to_vec(&body.signatures).map_err(ApiError::internal)?;
    let signatures = Signature::list_from_json(&signatures_bytes).map_err(registry_error)?;
    check_namespace(&publisher, &manifest.name)?;

    let package = format!("{}@{}", manifest.name, manifest.version);
    let result = blocking(move || {
        verify(&reg, &manifest, &signatures, &component)?;
        let existed = reg
            .registry
            .package(&manifest.name, &manifest.version)
            .is_ok();
        let entry = reg
            .registry
            .publish_package(&manifest, &signatures, &component, &reg.policy)
            .map_err(registry_error)?;
        Ok((entry, existed))
    })
    .await;
    match result {
        Ok((entry, existed)) => {
            tracing::info!(publisher = %publisher.name, %package, digest = %entry.digest, replay = existed, "package published");
            if !existed {
                let actor = publisher_actor(&publisher, &request);
                state
                    .store
                    .audit(&actor, "package.publish", &package, "ok")
                    .await?;
                // Tiers whose requirements the new version matches run it
                // from their next intent on.
                state.pipeline.reload_in_background("package published");
            }
            let status = if existed {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            let location = format!("/v1/registry/packages/{}/{}", entry.name, entry.version);
            Ok((
                status,
                [(header::LOCATION, location)],
                Json(entry_json(&entry)),
            )
                .into_response())
        }
        Err(e) => {
            tracing::warn!(publisher = %publisher.name, %package, code = e.code, reason = %e.message, "package refused");
            Err(e)
        }
    }
}

/// What `qlp serve` checks before importing a component, with each
/// refusal's stable code: the trust policy, the WIT version, then the
/// component as the runtime loads it against its manifest.
fn verify(
    reg: &RegistryState,
    manifest: &Manifest,
    signatures: &[Signature],
    component: &[u8],
) -> Result<(), ApiError> {
    if component.len() as u64 > qlp_registry::MAX_BLOB_BYTES {
        return Err(registry_error(qlp_registry::Error::ComponentTooLarge {
            size: component.len() as u64,
            limit: qlp_registry::MAX_BLOB_BYTES,
        }));
    }
    reg.policy
        .verify(
            manifest,
            signatures,
            component,
            std::time::SystemTime::now(),
        )
        .map_err(|e| registry_error(e.into()))?;
    qlp_registry::check_wit_served(&manifest.wit, &SERVED_WIT).map_err(registry_error)?;
    if !manifest.kind.is_component() {
        // A rule pack: every rule must compile, or the package is refused
        // naming the first broken one.
        return crate::rulepacks::check(component).map(drop).map_err(|e| {
            ApiError::invalid(
                crate::rulepacks::INVALID_RULES,
                format!("{}: {e}", manifest.name),
            )
        });
    }
    let plugin = reg.runtime.load(component).map_err(|e| {
        ApiError::invalid(
            "INVALID_COMPONENT",
            format!("the component does not load: {e:#}"),
        )
    })?;
    packages::check_contract(manifest, &plugin).map_err(registry_error)?;
    packages::check_matches(manifest, &plugin, component)
        .map_err(|e| ApiError::invalid("MANIFEST_MISMATCH", format!("{e:#}")))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only packages of this kind (`agent`, `validator`, …, `rules`).
    kind: Option<String>,
    /// Only packages whose name contains this.
    q: Option<String>,
}

/// `GET /v1/registry/packages?kind=K&q=TEXT`: every package, newest
/// unyanked version as `latest` (null when all are yanked).
#[utoipa::path(get, path = "/v1/registry/packages", tag = "registry", params(ListQuery),
    responses(
        (status = 200, description = "Packages by name", body = types::PackageList),
        (status = 422, description = "`INVALID_KIND`, `QUERY_TOO_LONG`", body = types::ErrorBody),
    ))]
async fn list(
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> Result<Json<types::PackageList>, ApiError> {
    let kind = match query.kind.as_deref().filter(|k| !k.is_empty()) {
        Some(k) => Some(k.parse::<Kind>().map_err(|_| {
            let known: Vec<&str> = Kind::ALL
                .iter()
                .chain(&[Kind::Rules])
                .map(|k| k.as_str())
                .collect();
            ApiError::invalid(
                "INVALID_KIND",
                format!("unknown kind `{k}`; known kinds: {}", known.join(", ")),
            )
        })?),
        None => None,
    };
    let q = query.q.unwrap_or_default().to_lowercase();
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::invalid(
            "QUERY_TOO_LONG",
            format!("the search is over {MAX_QUERY_CHARS} characters"),
        ));
    }
    let reg = state.registry.clone();
    let entries = blocking(move || reg.registry.packages().map_err(registry_error)).await?;
    let mut by_name: std::collections::BTreeMap<String, Vec<PackageEntry>> = Default::default();
    for e in entries {
        by_name.entry(e.name.clone()).or_default().push(e);
    }
    let packages: Vec<types::PackageSummary> = by_name
        .into_iter()
        .filter(|(name, _)| name.contains(&q))
        .filter_map(|(name, mut versions)| {
            versions.sort_by(|a, b| a.version.cmp(&b.version));
            let newest = versions.last()?;
            let latest = versions.iter().rev().find(|e| !e.yanked);
            let shown = latest.unwrap_or(newest);
            if kind.is_some_and(|k| k != shown.kind) {
                return None;
            }
            Some(types::PackageSummary {
                kind: shown.kind.as_str().to_owned(),
                latest: latest.map(|e| e.version.to_string()),
                wit: shown.wit.to_string(),
                digest: latest.map(|e| e.digest.to_string()),
                versions: versions.len(),
                name,
            })
        })
        .take(MAX_LISTED_PACKAGES)
        .collect();
    Ok(Json(types::PackageList { packages }))
}

fn version_of(text: &str) -> Result<Version, ApiError> {
    Version::parse(text).map_err(|e| {
        ApiError::invalid(
            "INVALID_VERSION",
            format!("`{text}` is not a semantic version: {e}"),
        )
    })
}

/// `GET /v1/registry/packages/{namespace}/{name}`: every version, yanked
/// ones flagged.
#[utoipa::path(get, path = "/v1/registry/packages/{namespace}/{name}", tag = "registry", params(("namespace" = String, Path, pattern = "^[a-z][a-z0-9-]{0,63}$"), ("name" = String, Path, pattern = "^[a-z][a-z0-9-]{0,63}$")),
    responses(
        (status = 200, description = "Every version, newest first", body = types::PackageVersions),
        (status = 404, description = "`PACKAGE_NOT_FOUND`", body = types::ErrorBody),
        (status = 422, description = "`INVALID_NAME`", body = types::ErrorBody),
    ))]
async fn versions(
    State(state): State<AppState>,
    Path((namespace, name)): Path<(String, String)>,
) -> Result<Json<types::PackageVersions>, ApiError> {
    let full = format!("{namespace}/{name}");
    qlp_registry::validate_name(&full).map_err(registry_error)?;
    let reg = state.registry.clone();
    let wanted = full.clone();
    let mut versions: Vec<PackageEntry> = blocking(move || {
        Ok(reg
            .registry
            .packages()
            .map_err(registry_error)?
            .into_iter()
            .filter(|e| e.name == wanted)
            .collect())
    })
    .await?;
    if versions.is_empty() {
        return Err(ApiError::not_found(
            "PACKAGE_NOT_FOUND",
            format!("{full} is not in the registry"),
        ));
    }
    versions.sort_by(|a, b| b.version.cmp(&a.version));
    let latest = versions
        .iter()
        .find(|e| !e.yanked)
        .map(|e| e.version.to_string());
    Ok(Json(types::PackageVersions {
        name: full,
        latest,
        versions: versions.iter().map(entry_json).collect(),
    }))
}

/// Loads a package, re-verifying its blobs and signatures.
async fn load(
    state: &AppState,
    namespace: String,
    name: String,
    version: &str,
) -> Result<qlp_registry::Package, ApiError> {
    let full = format!("{namespace}/{name}");
    qlp_registry::validate_name(&full).map_err(registry_error)?;
    let version = version_of(version)?;
    let reg = state.registry.clone();
    blocking(move || {
        reg.registry
            .load_package(&full, &version, &reg.policy)
            .map_err(registry_error)
    })
    .await
}

/// `GET …/{namespace}/{name}/{version}`: the manifest and signatures.
#[utoipa::path(get, path = "/v1/registry/packages/{namespace}/{name}/{version}", tag = "registry", params(("namespace" = String, Path, pattern = "^[a-z][a-z0-9-]{0,63}$"), ("name" = String, Path, pattern = "^[a-z][a-z0-9-]{0,63}$"), ("version" = String, Path, description = "A semantic version", example = "1.2.0")),
    responses(
        (status = 200, description = "The version's entry, manifest and signatures", body = types::PackageDetail),
        (status = 404, description = "`PACKAGE_NOT_FOUND`", body = types::ErrorBody),
        (status = 422, description = "`INVALID_NAME`, `INVALID_VERSION`", body = types::ErrorBody),
    ))]
async fn package(
    State(state): State<AppState>,
    Path((namespace, name, version)): Path<(String, String, String)>,
) -> Result<Json<types::PackageDetail>, ApiError> {
    let package = load(&state, namespace, name, &version).await?;
    Ok(Json(types::PackageDetail {
        entry: entry_json(&package.entry),
        manifest: serde_json::to_value(&package.manifest).map_err(ApiError::internal)?,
        signatures: serde_json::to_value(&package.signatures).map_err(ApiError::internal)?,
    }))
}

/// `GET …/{version}/component`: the component, its digests checked again
/// just before sending.
#[utoipa::path(get, path = "/v1/registry/packages/{namespace}/{name}/{version}/component", tag = "registry", params(("namespace" = String, Path, pattern = "^[a-z][a-z0-9-]{0,63}$"), ("name" = String, Path, pattern = "^[a-z][a-z0-9-]{0,63}$"), ("version" = String, Path, description = "A semantic version", example = "1.2.0")),
    responses(
        (status = 200, description = "The WebAssembly component, its digests checked", body = types::Binary, content_type = "application/wasm"),
        (status = 404, description = "`PACKAGE_NOT_FOUND`", body = types::ErrorBody),
        (status = 422, description = "`INVALID_NAME`, `INVALID_VERSION`", body = types::ErrorBody),
    ))]
async fn component(
    State(state): State<AppState>,
    Path((namespace, name, version)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let package = load(&state, namespace, name, &version).await?;
    let disposition = format!(
        "attachment; filename=\"{}.wasm\"",
        package.entry.name.replace('/', "_")
    );
    Ok((
        [
            (header::CONTENT_TYPE, "application/wasm".to_owned()),
            (header::ETAG, format!("\"{}\"", package.entry.digest)),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        package.component,
    )
        .into_response())
}

#[utoipa::path(post, path = "/v1/registry/packages/{namespace}/{name}/{version}/yank", tag = "registry", params(("namespace" = String, Path, pattern = "^[a-z][a-z0-9-]{0,63}$"), ("name" = String, Path, pattern = "^[a-z][a-z0-9-]{0,63}$"), ("version" = String, Path, description = "A semantic version", example = "1.2.0")),
    responses(
        (status = 200, description = "The version's state", body = types::YankState),
        (status = 403, description = "`NAMESPACE_NOT_ALLOWED_FOR_PUBLISHER`", body = types::ErrorBody),
        (status = 404, description = "`PACKAGE_NOT_FOUND`", body = types::ErrorBody),
        (status = 422, description = "`INVALID_NAME`, `INVALID_VERSION`", body = types::ErrorBody),
    ))]
async fn yank(
    state: State<AppState>,
    publisher: Extension<Publisher>,
    request: Extension<RequestId>,
    path: Path<(String, String, String)>,
) -> Result<Json<types::YankState>, ApiError> {
    set_yanked(state, publisher, request, path, true).await
}

#[utoipa::path(post, path = "/v1/registry/packages/{namespace}/{name}/{version}/unyank", tag = "registry", params(("namespace" = String, Path, pattern = "^[a-z][a-z0-9-]{0,63}$"), ("name" = String, Path, pattern = "^[a-z][a-z0-9-]{0,63}$"), ("version" = String, Path, description = "A semantic version", example = "1.2.0")),
    responses(
        (status = 200, description = "The version's state", body = types::YankState),
        (status = 403, description = "`NAMESPACE_NOT_ALLOWED_FOR_PUBLISHER`", body = types::ErrorBody),
        (status = 404, description = "`PACKAGE_NOT_FOUND`", body = types::ErrorBody),
        (status = 422, description = "`INVALID_NAME`, `INVALID_VERSION`", body = types::ErrorBody),
    ))]
async fn unyank(
    state: State<AppState>,
    publisher: Extension<Publisher>,
    request: Extension<RequestId>,
    path: Path<(String, String, String)>,
) -> Result<Json<types::YankState>, ApiError> {
    set_yanked(state, publisher, request, path, false).await
}

/// A publisher as the audit trail records it: server-wide (no tenant).
fn publisher_actor(publisher: &Publisher, RequestId(request): &RequestId) -> Actor {
    Actor {
        tenant: String::new(),
        identity: format!("publisher:{}", publisher.name),
        request_id: request.clone(),
    }
}

/// `POST …/{version}/yank` and `/unyank`.
async fn set_yanked(
    State(state): State<AppState>,
    Extension(publisher): Extension<Publisher>,
    Extension(request): Extension<RequestId>,
    Path((namespace, name, version)): Path<(String, String, String)>,
    yanked: bool,
) -> Result<Json<types::YankState>, ApiError> {
    let reg = state.registry.clone();
    let full = format!("{namespace}/{name}");
    qlp_registry::validate_name(&full).map_err(registry_error)?;
    check_namespace(&publisher, &full)?;
    let version = version_of(&version)?;
    let (n, v) = (full.clone(), version.clone());
    blocking(move || {
        if yanked {
            reg.registry.yank(&n, &v)
        } else {
            reg.registry.unyank(&n, &v)
        }
        .map_err(registry_error)
    })
    .await?;
    tracing::info!(publisher = %publisher.name, package = %format!("{full}@{version}"), yanked, "package yank changed");
    let action = if yanked {
        "package.yank"
    } else {
        "package.unyank"
    };
    state
        .store
        .audit(
            &publisher_actor(&publisher, &request),
            action,
            &format!("{full}@{version}"),
            "ok",
        )
        .await?;
    state.pipeline.reload_in_background("package yank changed");
    Ok(Json(types::YankState {
        name: full,
        version: version.to_string(),
        yanked,
    }))
}
