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
use qlp_sdk::http::{Request, Response};
use qlp_sdk::{Capability, PluginKind};
use serde_json::{Value, json};

/// Configuration key of the API token.
pub const TOKEN_KEY: &str = "token";

/// The API of gitlab.com.
pub const DEFAULT_API_URL: &str = "https://gitlab.com/api/v4";

/// Requests one call may send: the host's cap per plugin call.
pub const MAX_REQUESTS: usize = 64;

/// Largest request body: the host's cap per request, less room for JSON.
pub const MAX_BODY_BYTES: usize = (16 << 20) - (64 << 10);

/// Tries of a GET on transport errors and 5xx (writes are not retried:
/// they are not idempotent).
pub const MAX_TRIES: u32 = 3;

/// Longest branch name accepted, in bytes.
pub const MAX_BRANCH_BYTES: usize = 200;

/// Most components of a project path (GitLab nests groups 20 deep).
pub const MAX_PATH_COMPONENTS: usize = 21;

/// Most bytes of an API answer quoted in an error.
const MAX_QUOTED_BYTES: usize = 300;

/// Options the host adds to every delivery start with this.
pub const HOST_OPTION_PREFIX: &str = "qlp.";

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
        deliver_with(&Settings::from_host()?, &artifact, &target)
    }
}

qlp_sdk::export_delivery!(GitLab);

/// The operator's configuration.
pub struct Settings {
    /// Without a trailing `/`.
    pub api_url: String,
    pub token: String,
}

impl Settings {
    /// From `qlp_sdk::config`.
    pub fn from_host() -> Result<Self, PluginError> {
        let token = qlp_sdk::config(TOKEN_KEY)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                PluginError::new(
                    "MISSING_SECRET",
                    format!("configure the secret `{TOKEN_KEY}` (a GitLab access token)"),
                )
            })?;
        let api_url = qlp_sdk::config("api-url").unwrap_or_else(|| DEFAULT_API_URL.into());
        Ok(Self::new(&api_url, &token))
    }

    pub fn new(api_url: &str, token: &str) -> Self {
        Self {
            api_url: api_url.trim_end_matches('/').into(),
            token: token.into(),
        }
    }
}

/// A validated delivery.
#[derive(Debug, PartialEq, Eq)]
pub struct Plan {
    /// `group/sub/project`.
    pub project: String,
    pub branch: String,
    pub base: Option<String>,
    pub title: String,
    pub create_repository: bool,
    pub delivery_key: String,
    pub blake3: String,
}

/// Validates the target and the host's options.
pub fn plan(artifact: &Artifact, target: &DeliveryTarget) -> Result<Plan, PluginError> {
    let components: Vec<&str> = target.destination.split('/').collect();
    if components.len() < 2
        || components.len() > MAX_PATH_COMPONENTS
        || !components.iter().all(|c| name_ok(c))
    {
        return Err(PluginError::new(
            "INVALID_DESTINATION",
            format!(
                "destination {:?} is not a project path `group/project` (letters, digits, `.`, `_`, `-`)",
                target.destination
            ),
        ));
    }
    let option = |key: &str| {
        target
            .options
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    for (key, _) in &target.options {
        if !key.starts_with(HOST_OPTION_PREFIX)
            && !["branch", "base", "title", "create-repository"].contains(&key.as_str())
        {
            qlp_sdk::log::warn("unknown delivery option ignored", &[("option", key)]);
        }
    }
    let delivery_key = option("qlp.delivery-key")
        .filter(|k| !k.is_empty() && !k.chars().any(char::is_control))
        .ok_or_else(|| invalid_option("the host did not pass a usable `qlp.delivery-key`".into()))?
        .to_string();
    let blake3 = blake3::hash(&artifact.bytes).to_hex().to_string();
    if let Some(claimed) = option("qlp.artifact-blake3")
        && !claimed.eq_ignore_ascii_case(&blake3)
    {
        return Err(PluginError::new(
            "DIGEST_MISMATCH",
            format!("the host's blake3 {claimed} is not that of the artifact received ({blake3})"),
        ));
    }
    let branch = match option("branch") {
        Some(branch) => checked_branch("branch", branch)?,
        None => default_branch(&delivery_key),
    };
    let base = option("base")
        .map(|b| checked_branch("base", b))
        .transpose()?;
    let title = match option("title") {
        Some(title) if !title.trim().is_empty() && !title.contains(['\r', '\n']) => {
            title.trim().to_string()
        }
        Some(_) => {
            return Err(invalid_option(
                "option `title` must be one non-empty line".into(),
            ));
        }
        None => format!("QLP: {}", artifact.file_name),
    };
    let create_repository = match option("create-repository").unwrap_or("false") {
        "true" => true,
        "false" => false,
        other => {
            return Err(invalid_option(format!(
                "option `create-repository` must be `true` or `false`, not {other:?}"
            )));
        }
    };
    Ok(Plan {
        project: target.destination.clone(),
        branch,
        base,
        title,
        create_repository,
        delivery_key,
        blake3,
    })
}

/// `qlp/` and the first 12 hex digits of the delivery key's blake3.
pub fn default_branch(delivery_key: &str) -> String {
    format!(
        "qlp/{}",
        &blake3::hash(delivery_key.as_bytes()).to_hex()[..12]
    )
}

fn name_ok(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// A branch name git and URLs both take: `[A-Za-z0-9._/-]`, no empty,
/// `.`-led or `.lock` components, no `..`.
fn checked_branch(option: &str, branch: &str) -> Result<String, PluginError> {
    let ok = !branch.is_empty()
        && branch.len() <= MAX_BRANCH_BYTES
        && !branch.contains("..")
        && branch
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '-'))
        && branch
            .split('/')
            .all(|c| !c.is_empty() && !c.starts_with('.') && !c.ends_with(".lock"));
    if ok {
        Ok(branch.into())
    } else {
        Err(invalid_option(format!(
            "option `{option}` {branch:?} is not a plain branch name"
        )))
    }
}

/// A path segment for GitLab's URLs: `/` as `%2F` (the other characters
/// that names and branches may hold need no encoding).
pub fn encode(segment: &str) -> String {
    segment.replace('/', "%2F")
}

/// The commit message: the title and the trailers that identify the
/// delivery.
pub fn commit_message(plan: &Plan) -> String {
    format!(
        "{}\n\nDelivered by QLP.\n\nQLP-Delivery-Key: {}\nQLP-Artifact-Blake3: {}\n",
        plan.title, plan.delivery_key, plan.blake3
    )
}

/// Whether a commit message carries this delivery's key, and its digest.
pub fn carries(message: &str, plan: &Plan) -> (bool, bool) {
    let has = |line: String| message.lines().any(|l| l.trim_end() == line);
    (
        has(format!("QLP-Delivery-Key: {}", plan.delivery_key)),
        has(format!("QLP-Artifact-Blake3: {}", plan.blake3)),
    )
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
    let mut api = Api::new(settings);
    let project_path = format!("/projects/{}", encode(&plan.project));

    let project = match api.get(&project_path, "the project")? {
        Some((project, _)) => project,
        None if plan.create_repository => create_project(&mut api, &plan)?,
        None => {
            return Err(PluginError::new(
                "TARGET_NOT_FOUND",
                format!(
                    "project {} does not exist or the token cannot see it; set option `create-repository` to `true` to create it",
                    plan.project
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
    let (namespace, name) = plan.project.rsplit_once('/').unwrap_or_default();
    let (found, _) = api
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
    qlp_sdk::log::info("project created", &[("project", &plan.project)]);
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
    let Some((commit, _)) = api.get(&path, "the delivery branch")? else {
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
        let (entries, response) = api.get(&path, "the base branch")?.ok_or_else(|| {
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
        match header(&response, "x-next-page").filter(|p| !p.is_empty()) {
            Some(next) if next.chars().all(|c| c.is_ascii_digit()) => page = next,
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
    let found = |requests: Option<(Value, Response)>| {
        requests
            .as_ref()
            .and_then(|(r, _)| r.as_array())
            .and_then(|r| r.first())
            .map(iid_and_url)
    };
    if let Some(existing) = found(api.get(&list, "merge requests")?) {
        return Ok(existing);
    }
    let body = json!({
        "source_branch": plan.branch,
        "target_branch": base,
        "title": plan.title,
        "description": format!("Delivered by QLP.\n\nQLP-Delivery-Key: {}\nQLP-Artifact-Blake3: {}\n", plan.delivery_key, plan.blake3),
    });
    let path = format!("{project_path}/merge_requests");
    match api.send("POST", &path, &body, "opening the merge request") {
        Ok(request) => Ok(iid_and_url(&request)),
        Err(error) if error.code == "CONFLICT" => {
            found(api.get(&list, "merge requests")?).ok_or(error)
        }
        Err(error) => Err(error),
    }
}

fn iid_and_url(request: &Value) -> (String, String) {
    (
        request["iid"].as_u64().unwrap_or_default().to_string(),
        request["web_url"].as_str().unwrap_or_default().to_string(),
    )
}

fn header(response: &Response, name: &str) -> Option<String> {
    response
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim().to_string())
}

/// The GitLab REST API as this adapter uses it.
struct Api<'s> {
    settings: &'s Settings,
    sent: usize,
}

impl<'s> Api<'s> {
    fn new(settings: &'s Settings) -> Self {
        Self { settings, sent: 0 }
    }

    /// A GET: `None` on 404, the JSON and the response on 2xx.
    fn get(&mut self, path: &str, what: &str) -> Result<Option<(Value, Response)>, PluginError> {
        let mut last = String::new();
        for _ in 0..MAX_TRIES {
            match self.fetch("GET", path, Vec::new()) {
                Err(error) => last = error,
                Ok((_, r)) if r.status >= 500 => last = format!("status {}", r.status),
                Ok((_, r)) if r.status == 404 => return Ok(None),
                Ok((body, r)) if (200..300).contains(&r.status) => return Ok(Some((body, r))),
                Ok((body, r)) => return Err(self.status_error(r.status, &body, what)),
            }
        }
        Err(self.unreachable(what, &last))
    }

    /// A write with a JSON body: the JSON answer on 2xx.
    fn send(
        &mut self,
        method: &str,
        path: &str,
        body: &Value,
        what: &str,
    ) -> Result<Value, PluginError> {
        match self.fetch(method, path, body.to_string().into_bytes()) {
            Err(error) => Err(self.unreachable(what, &error)),
            Ok((body, r)) if (200..300).contains(&r.status) => Ok(body),
            Ok((body, r)) => Err(self.status_error(r.status, &body, what)),
        }
    }

    fn fetch(
        &mut self,
        method: &str,
        path: &str,
        body: Vec<u8>,
    ) -> Result<(Value, Response), String> {
        if self.sent >= MAX_REQUESTS {
            return Err(format!("more than {MAX_REQUESTS} requests would be needed"));
        }
        if body.len() > MAX_BODY_BYTES {
            return Err(format!(
                "a request of {} bytes is over the host's limit",
                body.len()
            ));
        }
        self.sent += 1;
        let request = Request {
            method: method.into(),
            url: format!("{}{path}", self.settings.api_url),
            headers: vec![
                ("PRIVATE-TOKEN".into(), self.settings.token.clone()),
                ("Accept".into(), "application/json".into()),
                ("User-Agent".into(), "qlp".into()),
                ("Content-Type".into(), "application/json".into()),
            ],
            body,
        };
        let response = qlp_sdk::http::fetch(&request).map_err(|e| self.redact(&e))?;
        let body = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
        Ok((body, response))
    }

    fn status_error(&self, status: u16, body: &Value, what: &str) -> PluginError {
        let code = match status {
            401 | 403 => "AUTH_FAILED",
            404 => "TARGET_NOT_FOUND",
            409 | 422 => "CONFLICT",
            500..=599 => "UNREACHABLE",
            _ => "REJECTED",
        };
        // GitLab says `message` (text, list or object) or `error`.
        let said = match (&body["message"], &body["error"]) {
            (Value::String(text), _) | (_, Value::String(text)) => text.clone(),
            (Value::Null, _) => String::new(),
            (other, _) => other.to_string(),
        };
        let said: String = said
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_QUOTED_BYTES)
            .collect();
        PluginError::new(
            code,
            self.redact(&format!("{what}: GitLab answered {status} {said:?}")),
        )
    }

    fn unreachable(&self, what: &str, last: &str) -> PluginError {
        PluginError::new(
            "UNREACHABLE",
            self.redact(&format!("{what}: GitLab was not reached: {last}")),
        )
    }

    fn redact(&self, text: &str) -> String {
        text.replace(&self.settings.token, "[token]")
    }
}

fn invalid_option(message: String) -> PluginError {
    PluginError::new("INVALID_OPTION", message)
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
        assert_eq!(plan.project, "acme/billing/invoices");
        assert_eq!(encode(&plan.project), "acme%2Fbilling%2Finvoices");
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
