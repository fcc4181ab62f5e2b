//! QLP delivery `qlp/gitlab`: commits the capsule's files to a branch of a
//! GitLab project through the REST API (v4) and opens a merge request.
//!
//! The artifact (`.tar.gz` or `.zip`) is unpacked with
//! `qlp_sdk::archive::unpack` (`INVALID_ARTIFACT`, `ARTIFACT_TOO_LARGE`).
//! Configuration: the secret `token` (`MISSING_SECRET`), sent only as
//! `PRIVATE-TOKEN`; `api-url` (default `https://gitlab.com/api/v4`). The
//! target's `destination` is the project's path, `group/sub/project`
//! (`INVALID_DESTINATION`), URL-encoded as its id. Options: `branch`
//! (default `qlp/<first 12 hex of blake3(qlp.delivery-key)>`), `base`
//! (default: the project's default branch), `title` (of the commit and the
//! merge request), `create-repository` = `true`|`false` (a missing project
//! is created private with a README in its namespace, which must exist);
//! bad values give `INVALID_OPTION`.
//!
//! The branch holds exactly the capsule, as with `qlp/github`: one commit
//! on the base's head creates or updates every capsule file and deletes the
//! base's other files (listed first, 100 per request). The commit is made
//! with `start_branch` = base, which creates the branch and its commit in
//! one request: no branch can be left without the delivery's commit, which
//! a separate "create branch" request would risk on a crash. All files
//! travel in that one request, so they must fit the host's 16 MiB per
//! request once base64-encoded (`ARTIFACT_TOO_LARGE`).
//!
//! Repeatable: the commit message ends with the trailers
//! `QLP-Delivery-Key: <key>` and `QLP-Artifact-Blake3: <hex>`. When the
//! branch's head commit carries this delivery key and digest, nothing is
//! committed: the merge request for branch → base, open or not, is reused
//! or opened, and the receipt is the same. A branch whose head is anything
//! else gives `CONFLICT`.
//!
//! Receipt: location = the merge request's `web_url`; details `commit`,
//! `branch`, `merge-request` (its `iid`). Answers: 401/403 → `AUTH_FAILED`,
//! 404 → `TARGET_NOT_FOUND`, 409/422 → `CONFLICT`, transport failures and
//! 5xx → `UNREACHABLE` (GETs are tried [`MAX_TRIES`] times), anything else
//! → `REJECTED`. The token never appears in a receipt, an error or a log
//! line.

use base64::Engine;
use qlp_sdk::archive::unpack::{self, Entry, Limits};
use qlp_sdk::delivery::{Artifact, Delivery, DeliveryTarget, PluginError, PluginInfo, Receipt};
use qlp_sdk::delivery_kit::forge::{self, Api, Forge};
use qlp_sdk::delivery_kit::header;
use qlp_sdk::{Capability, PluginKind};
use serde_json::{Value, json};

pub use qlp_sdk::delivery_kit::forge::{
    MAX_BODY_BYTES, MAX_BRANCH_BYTES, MAX_REQUESTS, MAX_TRIES, Settings, TOKEN_KEY, carries,
    commit_message, default_branch,
};

/// The API of gitlab.com.
pub const DEFAULT_API_URL: &str = "https://gitlab.com/api/v4";

/// Most components of a project path (GitLab nests groups 20 deep).
pub const MAX_PATH_COMPONENTS: usize = 21;

/// Longest group or project name, in bytes (GitLab's own limit).
const MAX_NAME_BYTES: usize = 255;

/// How the GitLab REST API is called.
const GITLAB: Forge = Forge {
    name: "GitLab",
    token_header: "PRIVATE-TOKEN",
    token_scheme: "",
    headers: &[("Accept", "application/json")],
};

/// The delivery adapter.
pub struct GitLab;

impl Delivery for GitLab {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "qlp/gitlab".into(),
            version: "0.1.0".into(),
            kind: PluginKind::Delivery,
            description:
                "Commits the capsule's files to a GitLab branch and opens a merge request.".into(),
            capabilities: vec![
                Capability::Http("gitlab.com:443".into()),
                Capability::Secret(TOKEN_KEY.into()),
            ],
        }
    }

    fn deliver(artifact: Artifact, target: DeliveryTarget) -> Result<Receipt, PluginError> {
        let settings = Settings::from_host(DEFAULT_API_URL, "a GitLab access token")?;
        deliver_with(&settings, &artifact, &target)
    }
}

qlp_sdk::export_delivery!(GitLab);

/// A validated delivery; its target is the project's path,
/// `group/sub/project`.
pub type Plan = forge::Plan<String>;

/// Validates the target and the host's options.
pub fn plan(artifact: &Artifact, target: &DeliveryTarget) -> Result<Plan, PluginError> {
    forge::Plan::new(artifact, target, |destination| {
        let components: Vec<&str> = destination.split('/').collect();
        if components.len() < 2
            || components.len() > MAX_PATH_COMPONENTS
            || !components.iter().all(|c| forge::name_ok(c, MAX_NAME_BYTES))
        {
            return Err(PluginError::new(
                "INVALID_DESTINATION",
                format!(
                    "destination {destination:?} is not a project path `group/project` (letters, digits, `.`, `_`, `-`)"
                ),
            ));
        }
        Ok(destination.to_string())
    })
}

/// A path segment for GitLab's URLs: `/` as `%2F` (the other characters
/// that names and branches may hold need no encoding).
pub fn encode(segment: &str) -> String {
    segment.replace('/', "%2F")
}

/// Delivers with the given settings.
pub fn deliver_with(
    settings: &Settings,
    artifact: &Artifact,
    target: &DeliveryTarget,
) -> Result<Receipt, PluginError> {
    let plan = plan(artifact, target)?;
    let files = unpack::unpack(artifact, &Limits::default())?;
    let encoded: usize = files.iter().map(|f| f.content.len().div_ceil(3) * 4).sum();
    if encoded > MAX_BODY_BYTES {
        return Err(unpack::too_large(format!(
            "the capsule's files take {encoded} bytes base64-encoded; one GitLab commit request holds at most {MAX_BODY_BYTES}"
        )));
    }
    let mut api = Api::new(settings, &GITLAB);
    let project_path = format!("/projects/{}", encode(&plan.target));

    let project = match api.get(&project_path, "the project")? {
        Some(project) => project,
        None if plan.create_repository => create_project(&mut api, &plan)?,
        None => {
            return Err(PluginError::new(
                "TARGET_NOT_FOUND",
                format!(
                    "project {} does not exist or the token cannot see it; set option `create-repository` to `true` to create it",
                    plan.target
                ),
            ));
        }
    };
    let base = match &plan.base {
        Some(base) => base.clone(),
        None => project["default_branch"]
            .as_str()
            .unwrap_or("main")
            .to_string(),
    };

    let commit = match delivered_head(&mut api, &plan, &project_path)? {
        Some(commit) => {
            qlp_sdk::log::info(
                "capsule already on its branch",
                &[("branch", &plan.branch), ("commit", &commit)],
            );
            commit
        }
        None => commit_capsule(&mut api, &plan, &project_path, &base, &files)?,
    };
    let (iid, url) = merge_request(&mut api, &plan, &project_path, &base)?;
    qlp_sdk::log::info(
        "capsule delivered",
        &[
            ("branch", &plan.branch),
            ("commit", &commit),
            ("merge-request", &iid),
            ("files", &files.len().to_string()),
        ],
    );
    Ok(Receipt {
        location: url,
        details: vec![
            ("commit".into(), commit),
            ("branch".into(), plan.branch.clone()),
            ("merge-request".into(), iid),
        ],
    })
}

fn create_project(api: &mut Api<'_>, plan: &Plan) -> Result<Value, PluginError> {
    let (namespace, name) = plan.target.rsplit_once('/').unwrap_or_default();
    let found = api
        .get(
            &format!("/namespaces/{}", encode(namespace)),
            "the namespace",
        )?
        .ok_or_else(|| {
            PluginError::new(
                "TARGET_NOT_FOUND",
                format!("namespace {namespace} does not exist; QLP creates projects, not groups"),
            )
        })?;
    let body = json!({
        "name": name,
        "path": name,
        "namespace_id": found["id"],
        "visibility": "private",
        "initialize_with_readme": true,
    });
    let project = api.send("POST", "/projects", &body, "creating the project")?;
    qlp_sdk::log::info("project created", &[("project", &plan.target)]);
    Ok(project)
}

/// The head of the delivery branch when it already holds this delivery;
/// `CONFLICT` when it holds anything else.
fn delivered_head(
    api: &mut Api<'_>,
    plan: &Plan,
    project_path: &str,
) -> Result<Option<String>, PluginError> {
    let path = format!("{project_path}/repository/commits/{}", encode(&plan.branch));
    let Some(commit) = api.get(&path, "the delivery branch")? else {
        return Ok(None);
    };
    let id = commit["id"].as_str().unwrap_or_default().to_string();
    match carries(commit["message"].as_str().unwrap_or_default(), plan) {
        (true, true) => Ok(Some(id)),
        (true, false) => Err(PluginError::new(
            "CONFLICT",
            format!(
                "branch {:?} holds this delivery with another artifact digest",
                plan.branch
            ),
        )),
        _ => Err(PluginError::new(
            "CONFLICT",
            format!(
                "branch {:?} exists and its head {id} is not this delivery; choose another `branch`",
                plan.branch
            ),
        )),
    }
}

/// The paths of the files (blobs) on `base`, page by page.
fn base_files(
    api: &mut Api<'_>,
    project_path: &str,
    base: &str,
) -> Result<Vec<String>, PluginError> {
    let mut paths = vec![];
    let mut page = "1".to_string();
    loop {
        let path = format!(
            "{project_path}/repository/tree?ref={}&recursive=true&per_page=100&page={page}",
            encode(base)
        );
        let (entries, response) = api.get_response(&path, "the base branch")?.ok_or_else(|| {
            PluginError::new(
                "TARGET_NOT_FOUND",
                format!("the base branch {base:?} does not exist"),
            )
        })?;
        for entry in entries.as_array().into_iter().flatten() {
            if entry["type"] == "blob"
                && let Some(path) = entry["path"].as_str()
            {
                paths.push(path.to_string());
            }
        }
        match header(&response, "x-next-page")
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            Some(next) if next.chars().all(|c| c.is_ascii_digit()) => page = next.to_string(),
            _ => return Ok(paths),
        }
    }
}

/// Creates the branch from `base` with one commit holding the capsule.
fn commit_capsule(
    api: &mut Api<'_>,
    plan: &Plan,
    project_path: &str,
    base: &str,
    files: &[Entry],
) -> Result<String, PluginError> {
    let existing = base_files(api, project_path, base)?;
    let mut actions: Vec<Value> = files
        .iter()
        .map(|file| {
            let action = if existing.contains(&file.path) {
                "update"
            } else {
                "create"
            };
            json!({
                "action": action,
                "file_path": file.path,
                "content": base64::engine::general_purpose::STANDARD.encode(&file.content),
                "encoding": "base64",
                "execute_filemode": file.executable,
            })
        })
        .collect();
    for path in &existing {
        if !files.iter().any(|f| &f.path == path) {
            actions.push(json!({ "action": "delete", "file_path": path }));
        }
    }
    let body = json!({
        "branch": plan.branch,
        "start_branch": base,
        "commit_message": commit_message(plan),
        "actions": actions,
    });
    let path = format!("{project_path}/repository/commits");
    match api.send("POST", &path, &body, "committing the capsule") {
        Ok(commit) => Ok(commit["id"].as_str().unwrap_or_default().to_string()),
        // The branch appeared meanwhile: this delivery before a crash, or
        // someone else's.
        Err(error) if matches!(error.code.as_str(), "CONFLICT" | "REJECTED") => {
            delivered_head(api, plan, project_path)?.ok_or(error)
        }
        Err(error) => Err(error),
    }
}

/// The merge request for branch → base (any state), reused or opened: its
/// iid and URL.
fn merge_request(
    api: &mut Api<'_>,
    plan: &Plan,
    project_path: &str,
    base: &str,
) -> Result<(String, String), PluginError> {
    let list = format!(
        "{project_path}/merge_requests?source_branch={}&target_branch={}&state=all",
        plan.branch, base
    );
    let body = json!({
        "source_branch": plan.branch,
        "target_branch": base,
        "title": plan.title,
        "description": plan.description(),
    });
    let open = format!("{project_path}/merge_requests");
    let request = api.reuse_or_open(
        &list,
        &open,
        &body,
        ("merge requests", "opening the merge request"),
    )?;
    Ok(iid_and_url(&request))
}

fn iid_and_url(request: &Value) -> (String, String) {
    (
        request["iid"].as_u64().unwrap_or_default().to_string(),
        request["web_url"].as_str().unwrap_or_default().to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(destination: &str, options: &[(&str, &str)]) -> DeliveryTarget {
        let mut all = vec![("qlp.delivery-key".to_string(), "i/a.zip".to_string())];
        all.extend(options.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        DeliveryTarget {
            destination: destination.into(),
            options: all,
        }
    }

    fn artifact() -> Artifact {
        Artifact {
            media_type: "application/zip".into(),
            file_name: "a.zip".into(),
            bytes: vec![1],
        }
    }

    fn code<T: std::fmt::Debug>(result: Result<T, PluginError>) -> String {
        result.err().map(|e| e.code).unwrap_or_default()
    }

    #[test]
    fn destinations_are_project_paths() {
        for bad in [
            "", "p", "g/", "/p", "g//p", "g/../p", "g p/x", "g/p?x", "g/p%2Fq",
        ] {
            assert_eq!(
                code(plan(&artifact(), &target(bad, &[]))),
                "INVALID_DESTINATION",
                "{bad:?}"
            );
        }
        let plan = plan(&artifact(), &target("acme/billing/invoices", &[])).expect("a plan");
        assert_eq!(plan.target, "acme/billing/invoices");
        assert_eq!(encode(&plan.target), "acme%2Fbilling%2Finvoices");
        assert_eq!(plan.branch, default_branch("i/a.zip"));
    }

    #[test]
    fn options_are_checked() {
        let of = |options: &[(&str, &str)]| plan(&artifact(), &target("g/p", options));
        for bad in [
            ("branch", "a..b"),
            ("branch", "a b"),
            ("base", "x.lock"),
            ("title", ""),
            ("create-repository", "1"),
        ] {
            assert_eq!(code(of(&[bad])), "INVALID_OPTION", "{bad:?}");
        }
        assert_eq!(
            code(of(&[("qlp.artifact-blake3", "00")])),
            "DIGEST_MISMATCH"
        );
        let message = commit_message(&of(&[]).expect("a plan"));
        assert_eq!(carries(&message, &of(&[]).expect("a plan")), (true, true));
    }
}
