//! `github_api_stand_in`: exactly the GitHub REST endpoints `qlp/github`
//! calls, on loopback, backed by in-memory repositories, so a test checks
//! both the requests and the state they leave. It answers like GitHub for
//! what it implements (status codes, `message` fields, JSON shapes of the
//! fields the adapter reads) and 404 for anything else.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use base64::Engine;
use qlp_delivery_testkit::{Recorded, Reply, StandIn};
use serde_json::{Value, json};

pub const TOKEN: &str = "ghp_standInToken0123456789";
pub const LOGIN: &str = "octo";

#[derive(Clone, Debug, Default)]
pub struct Commit {
    pub message: String,
    pub tree: String,
    pub parents: Vec<String>,
}

/// A tree: path → (mode, content).
pub type Tree = BTreeMap<String, (String, Vec<u8>)>;

#[derive(Clone, Debug)]
pub struct Pull {
    pub number: u64,
    pub head: String,
    pub base: String,
    pub title: String,
    pub state: String,
}

#[derive(Clone, Debug, Default)]
pub struct Repo {
    pub default_branch: String,
    pub refs: BTreeMap<String, String>,
    pub commits: BTreeMap<String, Commit>,
    pub trees: BTreeMap<String, Tree>,
    pub blobs: BTreeMap<String, Vec<u8>>,
    pub pulls: Vec<Pull>,
}

impl Repo {
    /// A repository whose `main` holds one commit with a README.
    pub fn initialized() -> Self {
        let mut repo = Repo {
            default_branch: "main".into(),
            ..Repo::default()
        };
        let tree = Tree::from([(
            "README.md".to_string(),
            ("100644".to_string(), b"# hello\n".to_vec()),
        )]);
        let tree = repo.put_tree(tree);
        let commit = repo.put_commit(Commit {
            message: "Initial commit".into(),
            tree,
            parents: vec![],
        });
        repo.refs.insert("main".into(), commit);
        repo
    }

    fn put_tree(&mut self, tree: Tree) -> String {
        let sha = sha(&format!("tree {tree:?}"));
        self.trees.insert(sha.clone(), tree);
        sha
    }

    fn put_commit(&mut self, commit: Commit) -> String {
        let sha = sha(&format!("commit {commit:?} {}", self.commits.len()));
        self.commits.insert(sha.clone(), commit);
        sha
    }

    /// The tree at the head of `branch`.
    pub fn files(&self, branch: &str) -> Tree {
        let commit = &self.commits[&self.refs[branch]];
        self.trees[&commit.tree].clone()
    }

    /// The head commit of `branch`.
    pub fn head(&self, branch: &str) -> Commit {
        self.commits[&self.refs[branch]].clone()
    }
}

#[derive(Debug, Default)]
pub struct GitHub {
    /// `owner/repo` → repository.
    pub repos: BTreeMap<String, Repo>,
    /// Organizations repositories may be created in.
    pub orgs: Vec<String>,
    /// Answer `status` to every request whose method and path start so.
    pub fail: Option<(String, String, u16)>,
}

fn sha(text: &str) -> String {
    blake3::hash(text.as_bytes()).to_hex()[..40].to_string()
}

/// Starts `github_api_stand_in` over `state`.
pub fn github_api_stand_in(state: Arc<Mutex<GitHub>>) -> StandIn {
    StandIn::start("github_api_stand_in", move |request| {
        let mut github = state.lock().unwrap();
        answer(&mut github, request)
    })
}

fn message(status: u16, text: &str) -> Reply {
    Reply::json(status, &json!({ "message": text }))
}

fn answer(github: &mut GitHub, request: &Recorded) -> Reply {
    if request.header("authorization") != Some(&format!("Bearer {TOKEN}")) {
        return message(401, "Bad credentials");
    }
    let method = request.method.as_str();
    let path = request.path().to_string();
    if let Some((m, prefix, status)) = &github.fail
        && m == method
        && path.starts_with(prefix.as_str())
    {
        return message(*status, "injected failure");
    }
    let body = request.json();
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (method, parts.as_slice()) {
        ("GET", ["user"]) => Reply::json(200, &json!({ "login": LOGIN })),
        ("POST", ["user", "repos"]) => create(github, LOGIN, &body),
        ("POST", ["orgs", org, "repos"]) => {
            if github.orgs.iter().any(|o| o == org) {
                create(github, org, &body)
            } else {
                message(404, "Not Found")
            }
        }
        (_, ["repos", owner, name, rest @ ..]) => {
            let full = format!("{owner}/{name}");
            let Some(repo) = github.repos.get_mut(&full) else {
                return message(404, "Not Found");
            };
            repository(repo, owner, &full, method, rest, request, &body)
        }
        _ => message(404, "Not Found"),
    }
}

fn create(github: &mut GitHub, owner: &str, body: &Value) -> Reply {
    let name = body["name"].as_str().unwrap_or_default();
    let full = format!("{owner}/{name}");
    if github.repos.contains_key(&full) {
        return message(422, "Repository creation failed.");
    }
    assert_eq!(body["auto_init"], true, "the adapter needs a base branch");
    github.repos.insert(full.clone(), Repo::initialized());
    Reply::json(201, &json!({ "full_name": full, "default_branch": "main" }))
}

fn repository(
    repo: &mut Repo,
    owner: &str,
    full: &str,
    method: &str,
    rest: &[&str],
    request: &Recorded,
    body: &Value,
) -> Reply {
    match (method, rest) {
        ("GET", []) => Reply::json(
            200,
            &json!({ "full_name": full, "default_branch": repo.default_branch }),
        ),
        ("GET", ["git", "ref", "heads", branch @ ..]) => match repo.refs.get(&branch.join("/")) {
            Some(sha) => Reply::json(
                200,
                &json!({ "ref": format!("refs/heads/{}", branch.join("/")), "object": { "sha": sha, "type": "commit" } }),
            ),
            None => message(404, "Not Found"),
        },
        ("GET", ["git", "commits", sha]) => match repo.commits.get(*sha) {
            Some(commit) => Reply::json(
                200,
                &json!({
                    "sha": sha,
                    "message": commit.message,
                    "tree": { "sha": commit.tree },
                    "parents": commit.parents.iter().map(|p| json!({ "sha": p })).collect::<Vec<_>>(),
                }),
            ),
            None => message(404, "Not Found"),
        },
        ("POST", ["git", "blobs"]) => {
            assert_eq!(body["encoding"], "base64");
            let content = base64::engine::general_purpose::STANDARD
                .decode(body["content"].as_str().unwrap_or_default())
                .expect("base64 content");
            let sha = sha(&format!("blob {content:?}"));
            repo.blobs.insert(sha.clone(), content);
            Reply::json(201, &json!({ "sha": sha }))
        }
        ("POST", ["git", "trees"]) => {
            if body.get("base_tree").is_some() {
                return message(422, "the stand-in builds whole trees only");
            }
            let mut tree = Tree::new();
            for entry in body["tree"].as_array().cloned().unwrap_or_default() {
                let path = entry["path"].as_str().unwrap_or_default().to_string();
                let mode = entry["mode"].as_str().unwrap_or_default().to_string();
                let content = match (entry["content"].as_str(), entry["sha"].as_str()) {
                    (Some(text), None) => text.as_bytes().to_vec(),
                    (None, Some(sha)) => match repo.blobs.get(sha) {
                        Some(content) => content.clone(),
                        None => return message(422, "BadObjectState"),
                    },
                    _ => return message(422, "Invalid tree info"),
                };
                tree.insert(path, (mode, content));
            }
            let sha = repo.put_tree(tree);
            Reply::json(201, &json!({ "sha": sha }))
        }
        ("POST", ["git", "commits"]) => {
            let tree = body["tree"].as_str().unwrap_or_default().to_string();
            let parents: Vec<String> = body["parents"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .filter_map(|p| p.as_str().map(String::from))
                .collect();
            if !repo.trees.contains_key(&tree)
                || parents.iter().any(|p| !repo.commits.contains_key(p))
            {
                return message(422, "Tree SHA does not exist");
            }
            let sha = repo.put_commit(Commit {
                message: body["message"].as_str().unwrap_or_default().into(),
                tree,
                parents,
            });
            Reply::json(201, &json!({ "sha": sha }))
        }
        ("POST", ["git", "refs"]) => {
            let name = body["ref"].as_str().unwrap_or_default();
            let Some(branch) = name.strip_prefix("refs/heads/") else {
                return message(422, "Reference name is invalid");
            };
            let sha = body["sha"].as_str().unwrap_or_default();
            if repo.refs.contains_key(branch) {
                return message(422, "Reference already exists");
            }
            if !repo.commits.contains_key(sha) {
                return message(422, "Object does not exist");
            }
            repo.refs.insert(branch.into(), sha.into());
            Reply::json(201, &json!({ "ref": name, "object": { "sha": sha } }))
        }
        ("GET", ["pulls"]) => {
            let head = request.query("head").unwrap_or_default();
            let base = request.query("base");
            let state = request.query("state").unwrap_or_else(|| "open".into());
            let pulls: Vec<Value> = repo
                .pulls
                .iter()
                .rev()
                .filter(|p| format!("{owner}:{}", p.head) == head || head.is_empty())
                .filter(|p| base.as_ref().is_none_or(|b| *b == p.base))
                .filter(|p| state == "all" || p.state == state)
                .map(|p| pull_json(full, p))
                .collect();
            Reply::json(200, &Value::Array(pulls))
        }
        ("POST", ["pulls"]) => {
            let head = body["head"].as_str().unwrap_or_default().to_string();
            let base = body["base"].as_str().unwrap_or_default().to_string();
            if !repo.refs.contains_key(&head) || !repo.refs.contains_key(&base) {
                return message(422, "Validation Failed");
            }
            if repo
                .pulls
                .iter()
                .any(|p| p.head == head && p.base == base && p.state == "open")
            {
                return message(422, "A pull request already exists");
            }
            let pull = Pull {
                number: repo.pulls.len() as u64 + 1,
                head,
                base,
                title: body["title"].as_str().unwrap_or_default().into(),
                state: "open".into(),
            };
            repo.pulls.push(pull.clone());
            Reply::json(201, &pull_json(full, &pull))
        }
        _ => message(404, "Not Found"),
    }
}

fn pull_json(full: &str, pull: &Pull) -> Value {
    json!({
        "number": pull.number,
        "html_url": format!("https://github.example/{full}/pull/{}", pull.number),
        "state": pull.state,
        "title": pull.title,
        "head": { "ref": pull.head },
        "base": { "ref": pull.base },
    })
}
