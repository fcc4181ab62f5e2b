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
use qlp_sdk::delivery_kit::forge::{self, Api, Forge};
use qlp_sdk::{Capability, PluginKind};
use serde_json::{Value, json};

pub use qlp_sdk::delivery_kit::forge::{
    MAX_BODY_BYTES, MAX_BRANCH_BYTES, MAX_REQUESTS, MAX_TRIES, Settings, TOKEN_KEY, carries,
    commit_message, default_branch,
};

/// The public GitHub API.
pub const DEFAULT_API_URL: &str = "https://api.github.com";

/// Requests a delivery needs besides blob uploads (user, repository,
/// creation, refs, commits, tree, commit, ref, pull requests).
const FIXED_REQUESTS: usize = 14;

/// Longest owner or repository name, in bytes (GitHub's own limit).
const MAX_NAME_BYTES: usize = 100;

/// How the GitHub REST API is called.
const GITHUB: Forge = Forge {
    name: "GitHub",
    token_header: "Authorization",
    token_scheme: "Bearer ",
    headers: &[
        ("Accept", "application/vnd.github+json"),
        ("X-GitHub-Api-Version", "2022-11-28"),
    ],
};

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
        let settings = Settings::from_host(DEFAULT_API_URL, "a GitHub token")?;
        deliver_with(&settings, &artifact, &target)
    }
}

qlp_sdk::export_delivery!(GitHub);

/// The repository a delivery goes to.
#[derive(Debug, PartialEq, Eq)]
pub struct Repository {
    pub owner: String,
    pub repo: String,
}

/// A validated delivery.
pub type Plan = forge::Plan<Repository>;

/// Validates the target and the host's options.
pub fn plan(artifact: &Artifact, target: &DeliveryTarget) -> Result<Plan, PluginError> {
    forge::Plan::new(artifact, target, |destination| {
        destination
            .split_once('/')
            .filter(|(o, r)| forge::name_ok(o, MAX_NAME_BYTES) && forge::name_ok(r, MAX_NAME_BYTES))
            .map(|(owner, repo)| Repository {
                owner: owner.into(),
                repo: repo.into(),
            })
            .ok_or_else(|| {
                PluginError::new(
                    "INVALID_DESTINATION",
                    format!(
                        "destination {destination:?} is not `owner/repo` (letters, digits, `.`, `_`, `-`)"
                    ),
                )
            })
    })
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
    let mut api = Api::new(settings, &GITHUB);
    let repo_path = format!("/repos/{}/{}", plan.target.owner, plan.target.repo);

    let repository = match api.get(&repo_path, "the repository")? {
        Some(repository) => repository,
        None if plan.create_repository => create_repository(&mut api, &plan)?,
        None => {
            return Err(PluginError::new(
                "TARGET_NOT_FOUND",
                format!(
                    "repository {}/{} does not exist or the token cannot see it; set option `create-repository` to `true` to create it",
                    plan.target.owner, plan.target.repo
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
    let Repository { owner, repo } = &plan.target;
    let path = if user["login"].as_str() == Some(owner.as_str()) {
        "/user/repos".to_string()
    } else {
        format!("/orgs/{owner}/repos")
    };
    let body = json!({ "name": repo, "private": true, "auto_init": true });
    let repository = api.send("POST", &path, &body, "creating the repository")?;
    qlp_sdk::log::info(
        "repository created",
        &[("repository", &format!("{owner}/{repo}"))],
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
        plan.target.owner, plan.branch
    );
    let body = json!({
        "title": plan.title,
        "head": plan.branch,
        "base": base,
        "body": plan.description(),
    });
    let open = format!("{repo_path}/pulls");
    let pull = api.reuse_or_open(
        &list,
        &open,
        &body,
        ("pull requests", "opening the pull request"),
    )?;
    Ok(number_and_url(&pull))
}

fn number_and_url(pull: &Value) -> (String, String) {
    (
        pull["number"].as_u64().unwrap_or_default().to_string(),
        pull["html_url"].as_str().unwrap_or_default().to_string(),
    )
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
            (plan.target.owner.as_str(), plan.target.repo.as_str()),
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
