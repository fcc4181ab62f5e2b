//! `gitlab_api_stand_in`: exactly the GitLab REST (v4) endpoints
//! `qlp/gitlab` calls, on loopback under `/api/v4`, backed by in-memory
//! projects, so a test checks both the requests and the state they leave.
//! It answers like GitLab for what it implements (status codes, `message`
//! fields, pagination headers, the JSON fields the adapter reads) and is
//! as strict as GitLab about commit actions (`create` of an existing file
//! or `update` of a missing one fails the whole commit).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use base64::Engine;
use qlp_delivery_testkit::{Recorded, Reply, StandIn, percent_decode};
use serde_json::{Value, json};

pub const TOKEN: &str = "glpat-standInToken0123456789";

/// A tree: path → (executable, content).
pub type Tree = BTreeMap<String, (bool, Vec<u8>)>;

#[derive(Clone, Debug)]
pub struct Commit {
    pub message: String,
    pub files: Tree,
    pub parent: Option<String>,
}

#[derive(Clone, Debug)]
pub struct MergeRequest {
    pub iid: u64,
    pub source: String,
    pub target: String,
    pub title: String,
    pub state: String,
}

#[derive(Clone, Debug, Default)]
pub struct Project {
    pub id: u64,
    pub default_branch: String,
    pub branches: BTreeMap<String, String>,
    pub commits: BTreeMap<String, Commit>,
    pub merge_requests: Vec<MergeRequest>,
}

impl Project {
    /// A project whose `main` holds one commit with the given files.
    pub fn with_files(id: u64, files: &[(&str, &[u8])]) -> Self {
        let mut project = Project {
            id,
            default_branch: "main".into(),
            ..Project::default()
        };
        let files = files
            .iter()
            .map(|(p, c)| (p.to_string(), (false, c.to_vec())))
            .collect();
        let id = project.put(Commit {
            message: "Initial commit".into(),
            files,
            parent: None,
        });
        project.branches.insert("main".into(), id);
        project
    }

    fn put(&mut self, commit: Commit) -> String {
        let id = blake3::hash(format!("{commit:?} {}", self.commits.len()).as_bytes()).to_hex()
            [..40]
            .to_string();
        self.commits.insert(id.clone(), commit);
        id
    }

    /// The head commit of `branch`.
    pub fn head(&self, branch: &str) -> Commit {
        self.commits[&self.branches[branch]].clone()
    }
}

#[derive(Debug, Default)]
pub struct GitLab {
    /// Full path → project.
    pub projects: BTreeMap<String, Project>,
    /// Full path → namespace id.
    pub namespaces: BTreeMap<String, u64>,
    /// Entries per page of tree listings, whatever the client asks (0:
    /// the client's `per_page`).
    pub tree_page_size: usize,
    /// Answer `status` to every request whose method and path (decoded,
    /// after `/api/v4`) start so.
    pub fail: Option<(String, String, u16)>,
}

/// Starts `gitlab_api_stand_in` over `state`; its API is at `<url>/api/v4`.
pub fn gitlab_api_stand_in(state: Arc<Mutex<GitLab>>) -> StandIn {
    StandIn::start("gitlab_api_stand_in", move |request| {
        let mut gitlab = state.lock().unwrap();
        answer(&mut gitlab, request)
    })
}

fn message(status: u16, text: &str) -> Reply {
    Reply::json(status, &json!({ "message": text }))
}

fn answer(gitlab: &mut GitLab, request: &Recorded) -> Reply {
    if request.header("private-token") != Some(TOKEN) {
        return message(401, "401 Unauthorized");
    }
    let Some(raw) = request.path().strip_prefix("/api/v4/") else {
        return message(404, "404 Not Found");
    };
    // Segments decoded one by one: `%2F` inside a project id stays inside it.
    let parts: Vec<String> = raw.split('/').map(percent_decode).collect();
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    let method = request.method.as_str();
    if let Some((m, prefix, status)) = &gitlab.fail
        && m == method
        && parts.join("/").starts_with(prefix.as_str())
    {
        return message(*status, "injected failure");
    }
    let body = request.json();
    match (method, parts.as_slice()) {
        ("GET", ["namespaces", path]) => match gitlab.namespaces.get(*path) {
            Some(id) => Reply::json(200, &json!({ "id": id, "full_path": path })),
            None => message(404, "404 Namespace Not Found"),
        },
        ("POST", ["projects"]) => create(gitlab, &body),
        (_, ["projects", path, rest @ ..]) => {
            let page_size = gitlab.tree_page_size;
            let Some(project) = gitlab.projects.get_mut(*path) else {
                return message(404, "404 Project Not Found");
            };
            project_api(project, path, page_size, method, rest, request, &body)
        }
        _ => message(404, "404 Not Found"),
    }
}

fn create(gitlab: &mut GitLab, body: &Value) -> Reply {
    let Some((namespace, _)) = gitlab
        .namespaces
        .iter()
        .find(|(_, id)| body["namespace_id"] == json!(id))
    else {
        return message(404, "404 Namespace Not Found");
    };
    let path = format!("{namespace}/{}", body["path"].as_str().unwrap_or_default());
    if gitlab.projects.contains_key(&path) {
        return Reply::json(
            400,
            &json!({ "message": { "name": ["has already been taken"] } }),
        );
    }
    assert_eq!(
        body["initialize_with_readme"], true,
        "the adapter needs a base branch"
    );
    let id = 100 + gitlab.projects.len() as u64;
    gitlab.projects.insert(
        path.clone(),
        Project::with_files(id, &[("README.md", b"# new\n")]),
    );
    Reply::json(
        201,
        &json!({ "id": id, "path_with_namespace": path, "default_branch": "main" }),
    )
}

fn project_api(
    project: &mut Project,
    path: &str,
    page_size: usize,
    method: &str,
    rest: &[&str],
    request: &Recorded,
    body: &Value,
) -> Reply {
    match (method, rest) {
        ("GET", []) => Reply::json(
            200,
            &json!({ "id": project.id, "path_with_namespace": path, "default_branch": project.default_branch }),
        ),
        ("GET", ["repository", "commits", reference]) => {
            let id = project
                .branches
                .get(*reference)
                .cloned()
                .unwrap_or_else(|| reference.to_string());
            match project.commits.get(&id) {
                Some(commit) => Reply::json(200, &json!({ "id": id, "message": commit.message })),
                None => message(404, "404 Commit Not Found"),
            }
        }
        ("GET", ["repository", "tree"]) => {
            assert_eq!(request.query("recursive").as_deref(), Some("true"));
            let reference = request.query("ref").unwrap_or_default();
            let Some(head) = project.branches.get(&reference) else {
                return message(404, "404 Tree Not Found");
            };
            let mut entries = vec![];
            let mut dirs = std::collections::BTreeSet::new();
            for file in project.commits[head].files.keys() {
                for (slash, _) in file.match_indices('/') {
                    dirs.insert(file[..slash].to_string());
                }
                entries.push(json!({ "path": file, "type": "blob" }));
            }
            entries.extend(dirs.iter().map(|d| json!({ "path": d, "type": "tree" })));
            let per_page: usize = match page_size {
                0 => request
                    .query("per_page")
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(20),
                n => n,
            };
            let page: usize = request
                .query("page")
                .and_then(|p| p.parse().ok())
                .unwrap_or(1);
            let chunk: Vec<Value> = entries
                .iter()
                .skip((page - 1) * per_page)
                .take(per_page)
                .cloned()
                .collect();
            let next = if page * per_page < entries.len() {
                (page + 1).to_string()
            } else {
                String::new()
            };
            Reply::json(200, &Value::Array(chunk)).with_header("X-Next-Page", &next)
        }
        ("POST", ["repository", "commits"]) => commit(project, body),
        ("GET", ["merge_requests"]) => {
            let source = request.query("source_branch");
            let target = request.query("target_branch");
            let state = request.query("state").unwrap_or_else(|| "all".into());
            let found: Vec<Value> = project
                .merge_requests
                .iter()
                .rev()
                .filter(|m| source.as_ref().is_none_or(|s| *s == m.source))
                .filter(|m| target.as_ref().is_none_or(|t| *t == m.target))
                .filter(|m| state == "all" || m.state == state)
                .map(|m| mr_json(path, m))
                .collect();
            Reply::json(200, &Value::Array(found))
        }
        ("POST", ["merge_requests"]) => {
            let source = body["source_branch"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let target = body["target_branch"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            if !project.branches.contains_key(&source) || !project.branches.contains_key(&target) {
                return message(422, "Source branch does not exist");
            }
            if let Some(open) = project
                .merge_requests
                .iter()
                .find(|m| m.source == source && m.state == "opened")
            {
                return Reply::json(
                    409,
                    &json!({ "message": [format!("Another open merge request already exists for this source branch: !{}", open.iid)] }),
                );
            }
            let mr = MergeRequest {
                iid: project.merge_requests.len() as u64 + 1,
                source,
                target,
                title: body["title"].as_str().unwrap_or_default().into(),
                state: "opened".into(),
            };
            project.merge_requests.push(mr.clone());
            Reply::json(201, &mr_json(path, &mr))
        }
        _ => message(404, "404 Not Found"),
    }
}

fn commit(project: &mut Project, body: &Value) -> Reply {
    let branch = body["branch"].as_str().unwrap_or_default().to_string();
    let start = body["start_branch"].as_str();
    if project.branches.contains_key(&branch) && start.is_some() {
        return message(
            400,
            &format!(
                "A branch called '{branch}' already exists. Switch to that branch in order to make changes"
            ),
        );
    }
    let from = start.unwrap_or(&branch);
    let Some(parent) = project.branches.get(from).cloned() else {
        return message(
            400,
            "You can only create or edit files when you are on a branch",
        );
    };
    let mut files = project.commits[&parent].files.clone();
    for action in body["actions"].as_array().cloned().unwrap_or_default() {
        let path = action["file_path"].as_str().unwrap_or_default().to_string();
        let content = || {
            assert_eq!(action["encoding"], "base64");
            base64::engine::general_purpose::STANDARD
                .decode(action["content"].as_str().unwrap_or_default())
                .expect("base64 content")
        };
        let executable = action["execute_filemode"].as_bool().unwrap_or(false);
        match action["action"].as_str().unwrap_or_default() {
            "create" if files.contains_key(&path) => {
                return message(400, "A file with this name already exists");
            }
            "update" | "delete" if !files.contains_key(&path) => {
                return message(400, "A file with this name doesn't exist");
            }
            "create" | "update" => {
                files.insert(path, (executable, content()));
            }
            "delete" => {
                files.remove(&path);
            }
            other => return message(400, &format!("unknown action {other}")),
        }
    }
    let id = project.put(Commit {
        message: body["commit_message"].as_str().unwrap_or_default().into(),
        files,
        parent: Some(parent),
    });
    project.branches.insert(branch, id.clone());
    Reply::json(201, &json!({ "id": id }))
}

fn mr_json(path: &str, mr: &MergeRequest) -> Value {
    json!({
        "iid": mr.iid,
        "web_url": format!("https://gitlab.example/{path}/-/merge_requests/{}", mr.iid),
        "state": mr.state,
        "title": mr.title,
        "source_branch": mr.source,
        "target_branch": mr.target,
    })
}
