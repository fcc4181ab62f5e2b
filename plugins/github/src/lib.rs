//! QLP delivery `qlp/github`: commits the capsule's files to a branch of a
//! GitHub repository through the REST API and opens a pull request.
//!
//! The artifact (`.tar.gz` or `.zip`) is unpacked with
//! `qlp_sdk::archive::unpack` (`INVALID_ARTIFACT`, `ARTIFACT_TOO_LARGE`).
//! Configuration: the secret `token` (`MISSING_SECRET`), sent only as
//! `Authorization: Bearer`; `api-url` (default `https://api.github.com`,
//! a GitHub Enterprise `https://host/api/v3` otherwise). The target's
//! `destination` is `owner/repo` (`INVALID_DESTINATION`). Options:
//! `branch` (default `qlp/<first 12 hex of blake3(qlp.delivery-key)>`),
//! `base` (default: the repository's default branch), `title` (of the
//! commit and pull request), `create-repository` = `true`|`false` (a
//! missing repository is created private with an initial commit, under
//! the organization `owner` or the token's user); bad values give
//! `INVALID_OPTION`.
//!
//! The branch holds exactly the capsule: its tree is built without a base
//! tree, so files of the base branch that the capsule lacks are deleted in
//! the pull request, which shows the whole difference between the capsule
//! and the base. UTF-8 files go inline in the tree request; others are
//! uploaded as blobs first, each one request of the host's 64 per call
//! ([`MAX_REQUESTS`]), so a capsule with too many binary files gives
//! `ARTIFACT_TOO_LARGE`.
//!
//! Repeatable: the commit message ends with the trailers
//! `QLP-Delivery-Key: <key>` and `QLP-Artifact-Blake3: <hex>`. When the
//! branch already exists and its head commit carries this delivery key and
//! digest (a resumed intent, or a ref created just before a crash), nothing
//! is uploaded: the pull request for head → base, open or not, is reused or
//! opened, and the receipt is the same. A branch whose head is anything
//! else gives `CONFLICT`, as does a `Reference already exists` race lost to
//! another commit.
//!
//! Receipt: location = the pull request's `html_url`; details `commit`,
//! `branch`, `pull-request` (its number). Answers: 401/403 →
//! `AUTH_FAILED`, 404 → `TARGET_NOT_FOUND`, 409/422 → `CONFLICT`, transport
//! failures and 5xx → `UNREACHABLE` (GETs are tried [`MAX_TRIES`] times),
//! anything else → `REJECTED`. The token never appears in a receipt, an
//! error or a log line.

use base64::Engine;
use qlp_sdk::archive::unpack::{self, Entry, Limits};
use qlp_sdk::delivery::{Artifact, Delivery, DeliveryTarget, PluginError, PluginInfo, Receipt};
use qlp_sdk::http::Request;
use qlp_sdk::{Capability, PluginKind};
use serde_json::{Value, json};

/// Configuration key of the API token.
pub const TOKEN_KEY: &str = "token";

/// The public GitHub API.
pub const DEFAULT_API_URL: &str = "https://api.github.com";

/// Requests one call may send: the host's cap per plugin call.
pub const MAX_REQUESTS: usize = 64;

/// Requests a delivery needs besides blob uploads (user, repository,
/// creation, refs, commits, tree, commit, ref, pull requests).
const FIXED_REQUESTS: usize = 14;

/// Largest request body: the host's cap per request, less room for JSON.
pub const MAX_BODY_BYTES: usize = (16 << 20) - (64 << 10);

/// Tries of a GET on transport errors and 5xx (writes are not retried:
/// they are not idempotent).
pub const MAX_TRIES: u32 = 3;

/// Longest branch name accepted, in bytes.
pub const MAX_BRANCH_BYTES: usize = 200;

/// Most bytes of an API answer quoted in an error.
const MAX_QUOTED_BYTES: usize = 300;

/// Options the host adds to every delivery start with this.
pub const HOST_OPTION_PREFIX: &str = "qlp.";

/// The delivery adapter.
pub struct GitHub;

impl Delivery for GitHub {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "qlp/github".into(),
            version: "0.1.0".into(),
            kind: PluginKind::Delivery,
            description: "Commits the capsule's files to a GitHub branch and opens a pull request."
                .into(),
            capabilities: vec![
                Capability::Http("api.github.com:443".into()),
                Capability::Secret(TOKEN_KEY.into()),
            ],
        }
    }

    fn deliver(artifact: Artifact, target: DeliveryTarget) -> Result<Receipt, PluginError> {
        deliver_with(&Settings::from_host()?, &artifact, &target)
    }
}

qlp_sdk::export_delivery!(GitHub);

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
                    format!("configure the secret `{TOKEN_KEY}` (a GitHub token)"),
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
    pub owner: String,
    pub repo: String,
    pub branch: String,
    pub base: Option<String>,
    pub title: String,
    pub create_repository: bool,
    pub delivery_key: String,
    pub blake3: String,
}

/// Validates the target and the host's options.
pub fn plan(artifact: &Artifact, target: &DeliveryTarget) -> Result<Plan, PluginError> {
    let (owner, repo) = target
        .destination
        .split_once('/')
        .filter(|(o, r)| name_ok(o) && name_ok(r))
        .ok_or_else(|| {
            PluginError::new(
                "INVALID_DESTINATION",
                format!(
                    "destination {:?} is not `owner/repo` (letters, digits, `.`, `_`, `-`)",
                    target.destination
                ),
            )
        })?;
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
        owner: owner.into(),
        repo: repo.into(),
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
        && name.len() <= 100
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// A branch name git and URLs both take as is: `[A-Za-z0-9._/-]`, no
/// empty, `.`-led or `.lock` components, no `..`.
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
    let limits = Limits {
        max_file_bytes: (MAX_BODY_BYTES / 4 * 3) as u64,
        ..Limits::default()
    };
    let files = unpack::unpack(artifact, &limits)?;
    let mut api = Api::new(settings);
    let repo_path = format!("/repos/{}/{}", plan.owner, plan.repo);

    let repository = match api.get(&repo_path, "the repository")? {
        Some(repository) => repository,
        None if plan.create_repository => create_repository(&mut api, &plan)?,
        None => {
            return Err(PluginError::new(
                "TARGET_NOT_FOUND",
                format!(
                    "repository {}/{} does not exist or the token cannot see it; set option `create-repository` to `true` to create it",
                    plan.owner, plan.repo
                ),
            ));
        }
    };
    let base = match &plan.base {
        Some(base) => base.clone(),
        None => repository["default_branch"]
            .as_str()
            .unwrap_or("main")
            .to_string(),
    };

    let commit = match delivered_head(&mut api, &plan, &repo_path)? {
        Some(commit) => {
            qlp_sdk::log::info(
                "capsule already on its branch",
                &[("branch", &plan.branch), ("commit", &commit)],
            );
            commit
        }
        None => push_capsule(&mut api, &plan, &repo_path, &base, &files)?,
    };
    let (number, url) = pull_request(&mut api, &plan, &repo_path, &base)?;
    qlp_sdk::log::info(
        "capsule delivered",
        &[
            ("branch", &plan.branch),
            ("commit", &commit),
            ("pull-request", &number),
            ("files", &files.len().to_string()),
        ],
    );
    Ok(Receipt {
        location: url,
        details: vec![
            ("commit".into(), commit),
            ("branch".into(), plan.branch.clone()),
            ("pull-request".into(), number),
        ],
    })
}

fn create_repository(api: &mut Api<'_>, plan: &Plan) -> Result<Value, PluginError> {
    let user = api
        .get("/user", "the token's user")?
        .ok_or_else(|| PluginError::new("AUTH_FAILED", "the token has no user"))?;
    let path = if user["login"].as_str() == Some(plan.owner.as_str()) {
        "/user/repos".to_string()
    } else {
        format!("/orgs/{}/repos", plan.owner)
    };
    let body = json!({ "name": plan.repo, "private": true, "auto_init": true });
    let repository = api.send("POST", &path, &body, "creating the repository")?;
    qlp_sdk::log::info(
        "repository created",
        &[("repository", &format!("{}/{}", plan.owner, plan.repo))],
    );
    Ok(repository)
}

/// The head of the delivery branch when it already holds this delivery;
/// `CONFLICT` when it holds anything else.
fn delivered_head(
    api: &mut Api<'_>,
    plan: &Plan,
    repo_path: &str,
) -> Result<Option<String>, PluginError> {
    let ref_path = format!("{repo_path}/git/ref/heads/{}", plan.branch);
    let Some(reference) = api.get(&ref_path, "the delivery branch")? else {
        return Ok(None);
    };
    let sha = reference["object"]["sha"].as_str().unwrap_or_default();
    let commit = api
        .get(
            &format!("{repo_path}/git/commits/{sha}"),
            "the branch's head",
        )?
        .unwrap_or_default();
    match carries(commit["message"].as_str().unwrap_or_default(), plan) {
        (true, true) => Ok(Some(sha.to_string())),
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
                "branch {:?} exists and its head {sha} is not this delivery; choose another `branch`",
                plan.branch
            ),
        )),
    }
}

/// Uploads blobs, the tree and the commit, and creates the branch.
fn push_capsule(
    api: &mut Api<'_>,
    plan: &Plan,
    repo_path: &str,
    base: &str,
    files: &[Entry],
) -> Result<String, PluginError> {
    let binary = files
        .iter()
        .filter(|f| std::str::from_utf8(&f.content).is_err())
        .count();
    if binary + FIXED_REQUESTS > MAX_REQUESTS {
        return Err(unpack::too_large(format!(
            "{binary} files are not UTF-8 and each needs its own upload; at most {} fit in one delivery",
            MAX_REQUESTS - FIXED_REQUESTS
        )));
    }
    let base_ref = api
        .get(
            &format!("{repo_path}/git/ref/heads/{base}"),
            "the base branch",
        )?
        .ok_or_else(|| {
            PluginError::new(
                "TARGET_NOT_FOUND",
                format!("the base branch {base:?} does not exist"),
            )
        })?;
    let parent = base_ref["object"]["sha"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    let mut tree = Vec::with_capacity(files.len());
    for file in files {
        let mode = if file.executable { "100755" } else { "100644" };
        let entry = match std::str::from_utf8(&file.content) {
            Ok(text) => json!({ "path": file.path, "mode": mode, "type": "blob", "content": text }),
            Err(_) => {
                let body = json!({
                    "content": base64::engine::general_purpose::STANDARD.encode(&file.content),
                    "encoding": "base64",
                });
                let blob = api.send(
                    "POST",
                    &format!("{repo_path}/git/blobs"),
                    &body,
                    "uploading a file",
                )?;
                json!({ "path": file.path, "mode": mode, "type": "blob", "sha": blob["sha"] })
            }
        };
        tree.push(entry);
    }
    let tree = api.send(
        "POST",
        &format!("{repo_path}/git/trees"),
        &json!({ "tree": tree }),
        "writing the tree",
    )?;
    let commit = api.send(
        "POST",
        &format!("{repo_path}/git/commits"),
        &json!({ "message": commit_message(plan), "tree": tree["sha"], "parents": [parent] }),
        "writing the commit",
    )?;
    let sha = commit["sha"].as_str().unwrap_or_default().to_string();
    let body = json!({ "ref": format!("refs/heads/{}", plan.branch), "sha": sha });
    match api.send(
        "POST",
        &format!("{repo_path}/git/refs"),
        &body,
        "creating the branch",
    ) {
        Ok(_) => Ok(sha),
        // Created meanwhile: by this delivery before a crash, or by someone else.
        Err(error) if error.code == "CONFLICT" => {
            delivered_head(api, plan, repo_path)?.ok_or(error)
        }
        Err(error) => Err(error),
    }
}

/// The pull request for branch → base (any state), reused or opened:
/// its number and URL.
fn pull_request(
    api: &mut Api<'_>,
    plan: &Plan,
    repo_path: &str,
    base: &str,
) -> Result<(String, String), PluginError> {
    let list = format!(
        "{repo_path}/pulls?head={}:{}&base={base}&state=all",
        plan.owner, plan.branch
    );
    let found = |pulls: Option<Value>| {
        pulls
            .as_ref()
            .and_then(|p| p.as_array())
            .and_then(|p| p.first())
            .map(number_and_url)
    };
    if let Some(existing) = found(api.get(&list, "pull requests")?) {
        return Ok(existing);
    }
    let body = json!({
        "title": plan.title,
        "head": plan.branch,
        "base": base,
        "body": format!("Delivered by QLP.\n\nQLP-Delivery-Key: {}\nQLP-Artifact-Blake3: {}\n", plan.delivery_key, plan.blake3),
    });
    match api.send(
        "POST",
        &format!("{repo_path}/pulls"),
        &body,
        "opening the pull request",
    ) {
        Ok(pull) => Ok(number_and_url(&pull)),
        Err(error) if error.code == "CONFLICT" => {
            found(api.get(&list, "pull requests")?).ok_or(error)
        }
        Err(error) => Err(error),
    }
}

fn number_and_url(pull: &Value) -> (String, String) {
    (
        pull["number"].as_u64().unwrap_or_default().to_string(),
        pull["html_url"].as_str().unwrap_or_default().to_string(),
    )
}

/// The GitHub REST API as this adapter uses it.
struct Api<'s> {
    settings: &'s Settings,
    sent: usize,
}

impl<'s> Api<'s> {
    fn new(settings: &'s Settings) -> Self {
        Self { settings, sent: 0 }
    }

    /// A GET: `None` on 404, the JSON on 2xx.
    fn get(&mut self, path: &str, what: &str) -> Result<Option<Value>, PluginError> {
        let mut last = String::new();
        for _ in 0..MAX_TRIES {
            match self.fetch("GET", path, Vec::new()) {
                Err(error) => last = error,
                Ok((status, _)) if status >= 500 => last = format!("status {status}"),
                Ok((404, _)) => return Ok(None),
                Ok((status, body)) if (200..300).contains(&status) => return Ok(Some(body)),
                Ok((status, body)) => return Err(self.status_error(status, &body, what)),
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
            Ok((status, body)) if (200..300).contains(&status) => Ok(body),
            Ok((status, body)) => Err(self.status_error(status, &body, what)),
        }
    }

    fn fetch(&mut self, method: &str, path: &str, body: Vec<u8>) -> Result<(u16, Value), String> {
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
                (
                    "Authorization".into(),
                    format!("Bearer {}", self.settings.token),
                ),
                ("Accept".into(), "application/vnd.github+json".into()),
                ("X-GitHub-Api-Version".into(), "2022-11-28".into()),
                ("User-Agent".into(), "qlp".into()),
                ("Content-Type".into(), "application/json".into()),
            ],
            body,
        };
        let response = qlp_sdk::http::fetch(&request).map_err(|e| self.redact(&e))?;
        let body = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
        Ok((response.status, body))
    }

    fn status_error(&self, status: u16, body: &Value, what: &str) -> PluginError {
        let code = match status {
            401 | 403 => "AUTH_FAILED",
            404 => "TARGET_NOT_FOUND",
            409 | 422 => "CONFLICT",
            500..=599 => "UNREACHABLE",
            _ => "REJECTED",
        };
        let said: String = body["message"]
            .as_str()
            .unwrap_or_default()
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_QUOTED_BYTES)
            .collect();
        PluginError::new(
            code,
            self.redact(&format!("{what}: GitHub answered {status} {said:?}")),
        )
    }

    fn unreachable(&self, what: &str, last: &str) -> PluginError {
        PluginError::new(
            "UNREACHABLE",
            self.redact(&format!("{what}: GitHub was not reached: {last}")),
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
        let mut all = vec![("qlp.delivery-key".to_string(), "i/a.tar.gz".to_string())];
        all.extend(options.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        DeliveryTarget {
            destination: destination.into(),
            options: all,
        }
    }

    fn artifact() -> Artifact {
        Artifact {
            media_type: "application/gzip".into(),
            file_name: "a.tar.gz".into(),
            bytes: vec![1],
        }
    }

    fn code<T: std::fmt::Debug>(result: Result<T, PluginError>) -> String {
        result.err().map(|e| e.code).unwrap_or_default()
    }

    #[test]
    fn destinations_are_owner_slash_repo() {
        for bad in ["", "o", "o/", "/r", "o/r/x", "o/..", "o r/x", "o/r?x"] {
            assert_eq!(
                code(plan(&artifact(), &target(bad, &[]))),
                "INVALID_DESTINATION",
                "{bad:?}"
            );
        }
        let plan = plan(&artifact(), &target("acme/invoices.api", &[])).expect("a plan");
        assert_eq!(
            (plan.owner.as_str(), plan.repo.as_str()),
            ("acme", "invoices.api")
        );
        assert_eq!(plan.branch, default_branch("i/a.tar.gz"));
        assert_eq!(plan.branch.len(), "qlp/".len() + 12);
        assert_eq!(plan.base, None);
        assert!(!plan.create_repository);
    }

    #[test]
    fn options_are_checked() {
        let of = |options: &[(&str, &str)]| plan(&artifact(), &target("o/r", options));
        for bad in [
            ("branch", "a..b"),
            ("branch", "a b"),
            ("branch", "/a"),
            ("branch", "a/.x"),
            ("branch", "x.lock"),
            ("base", ""),
            ("title", "two\nlines"),
            ("create-repository", "yes"),
        ] {
            assert_eq!(code(of(&[bad])), "INVALID_OPTION", "{bad:?}");
        }
        let explicit = of(&[
            ("branch", "feature/qlp-1"),
            ("base", "develop"),
            ("title", "Invoices"),
            ("create-repository", "true"),
        ])
        .expect("a plan");
        assert_eq!(explicit.branch, "feature/qlp-1");
        assert_eq!(explicit.base.as_deref(), Some("develop"));
        assert!(explicit.create_repository);
        assert_eq!(
            code(of(&[("qlp.artifact-blake3", "00")])),
            "DIGEST_MISMATCH"
        );
        assert_eq!(
            code(plan(
                &artifact(),
                &DeliveryTarget {
                    destination: "o/r".into(),
                    options: vec![]
                }
            )),
            "INVALID_OPTION"
        );
    }

    #[test]
    fn the_commit_message_carries_the_delivery() {
        let plan = plan(&artifact(), &target("o/r", &[("title", "Invoices")])).expect("a plan");
        let message = commit_message(&plan);
        assert!(message.starts_with("Invoices\n\n"));
        assert_eq!(carries(&message, &plan), (true, true));
        assert_eq!(
            carries("Invoices\n\nQLP-Delivery-Key: other\n", &plan),
            (false, false)
        );
    }
}
