//! `qlp/gitlab` against `gitlab_api_stand_in` (tests/common): the requests
//! it sends, the branch, commit and merge request it leaves, repeats that
//! create nothing, and each error code.

use std::sync::{Arc, Mutex};

use common::{GitLab, Project, TOKEN, gitlab_api_stand_in};
use qlp_delivery_testkit::archives::{self, EntryType};
use qlp_delivery_testkit::{StandIn, blake3_hex, closed_url, target};
use qlp_plugin_gitlab::{GitLab as Adapter, Settings, default_branch, deliver_with};
use qlp_sdk::delivery::{Artifact, Delivery, DeliveryTarget, PluginError, Receipt};

mod common;

const KEY: &str = "5d0c6f3e-intent/invoices.zip";

const PROJECT: &str = "acme/billing/invoices";

const FILES: [(&str, &[u8]); 4] = [
    ("README.md", b"# Invoices\n"),
    ("app/main.py", b"print('hi')\n"),
    ("scripts/run.sh", b"#!/bin/sh\nexec python app/main.py\n"),
    ("static/logo.png", b"\x89PNG\r\n\x1a\n\xff\xfe binary"),
];

fn capsule() -> Artifact {
    archives::tar_gz(&FILES)
}

struct Stand {
    state: Arc<Mutex<GitLab>>,
    server: StandIn,
}

impl Stand {
    fn api(&self) -> String {
        format!("{}/api/v4", self.server.url())
    }
}

/// A stand-in holding `acme/billing/invoices`, whose main has a README and
/// an old file the capsule lacks.
fn stand() -> Stand {
    let state = Arc::new(Mutex::new(GitLab::default()));
    {
        let mut gitlab = state.lock().unwrap();
        gitlab.projects.insert(
            PROJECT.into(),
            Project::with_files(7, &[("README.md", b"# old\n"), ("old/notes.txt", b"x")]),
        );
        gitlab.namespaces.insert("acme".into(), 1);
        gitlab.namespaces.insert("acme/billing".into(), 2);
    }
    let server = gitlab_api_stand_in(state.clone());
    Stand { state, server }
}

fn deliver_to(
    api: &str,
    token: &str,
    artifact: &Artifact,
    target: &DeliveryTarget,
) -> Result<Receipt, PluginError> {
    qlp_sdk::http::allow_for_tests();
    deliver_with(&Settings::new(api, token), artifact, target)
}

fn deliver(stand: &Stand, project: &str, options: &[(&str, &str)]) -> Result<Receipt, PluginError> {
    let artifact = capsule();
    let target = target(project, KEY, &artifact.bytes, options);
    deliver_to(&stand.api(), TOKEN, &artifact, &target)
}

#[test]
fn the_capsule_becomes_a_branch_a_commit_and_a_merge_request() {
    let stand = stand();
    // Two entries per page: the base's listing takes several requests.
    stand.state.lock().unwrap().tree_page_size = 2;
    let receipt = deliver(&stand, PROJECT, &[("title", "Invoices service")]).expect("a receipt");
    let branch = default_branch(KEY);
    let gitlab = stand.state.lock().unwrap();
    let project = &gitlab.projects[PROJECT];

    let head = project.head(&branch);
    assert_eq!(head.parent.as_ref(), Some(&project.branches["main"]));
    assert_eq!(head.files.len(), FILES.len(), "old/notes.txt is deleted");
    for (path, content) in FILES {
        let (executable, stored) = &head.files[path];
        assert_eq!(stored, content, "{path}");
        assert_eq!(*executable, path.ends_with(".sh"), "{path}");
    }
    assert!(head.message.starts_with("Invoices service\n"));
    assert!(
        head.message
            .contains(&format!("\nQLP-Delivery-Key: {KEY}\n"))
    );
    let blake3 = blake3_hex(&capsule().bytes);
    assert!(
        head.message
            .contains(&format!("\nQLP-Artifact-Blake3: {blake3}\n"))
    );

    assert_eq!(project.merge_requests.len(), 1);
    let mr = &project.merge_requests[0];
    assert_eq!(
        (mr.source.as_str(), mr.target.as_str()),
        (branch.as_str(), "main")
    );
    assert_eq!(mr.title, "Invoices service");
    assert_eq!(
        receipt.location,
        "https://gitlab.example/acme/billing/invoices/-/merge_requests/1"
    );
    assert_eq!(
        receipt.details,
        [
            ("commit".to_string(), project.branches[&branch].clone()),
            ("branch".to_string(), branch.clone()),
            ("merge-request".to_string(), "1".to_string()),
        ]
    );

    let requests = stand.server.requests();
    let id = "acme%2Fbilling%2Finvoices";
    let calls: Vec<String> = requests
        .iter()
        .map(|r| format!("{} {}", r.method, r.path()))
        .collect();
    let encoded_branch = branch.replace('/', "%2F");
    assert_eq!(
        calls,
        [
            format!("GET /api/v4/projects/{id}"),
            format!("GET /api/v4/projects/{id}/repository/commits/{encoded_branch}"),
            format!("GET /api/v4/projects/{id}/repository/tree"),
            format!("GET /api/v4/projects/{id}/repository/tree"),
            format!("POST /api/v4/projects/{id}/repository/commits"),
            format!("GET /api/v4/projects/{id}/merge_requests"),
            format!("POST /api/v4/projects/{id}/merge_requests"),
        ]
    );
    for request in &requests {
        assert_eq!(request.header("private-token"), Some(TOKEN));
        assert_eq!(
            request.text().matches(TOKEN).count(),
            1,
            "token only in its header"
        );
        assert!(request.header("authorization").is_none());
    }
    let commit = requests[4].json();
    assert_eq!(commit["branch"], branch);
    assert_eq!(commit["start_branch"], "main");
    let actions: Vec<(String, String)> = commit["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["action"].as_str().unwrap().into(),
                a["file_path"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("update".to_string(), "README.md".to_string()),
            ("create".to_string(), "app/main.py".to_string()),
            ("create".to_string(), "scripts/run.sh".to_string()),
            ("create".to_string(), "static/logo.png".to_string()),
            ("delete".to_string(), "old/notes.txt".to_string()),
        ]
    );
    let listing = &requests[5];
    assert_eq!(listing.query("source_branch"), Some(branch.clone()));
    assert_eq!(listing.query("target_branch").as_deref(), Some("main"));
}

#[test]
fn a_repeated_delivery_creates_nothing_and_returns_the_same_receipt() {
    let stand = stand();
    let first = deliver(&stand, PROJECT, &[]).expect("a receipt");
    stand.server.clear();
    let again = deliver(&stand, PROJECT, &[]).expect("a repeated delivery");
    assert_eq!(
        (first.location, first.details),
        (again.location, again.details)
    );
    assert!(stand.server.requests().iter().all(|r| r.method == "GET"));
    let gitlab = stand.state.lock().unwrap();
    let project = &gitlab.projects[PROJECT];
    assert_eq!(project.merge_requests.len(), 1);
    assert_eq!(project.commits.len(), 2);
}

#[test]
fn a_branch_left_by_a_crash_gets_its_merge_request_and_nothing_else() {
    let stand = stand();
    let first = deliver(&stand, PROJECT, &[]).expect("a receipt");
    stand
        .state
        .lock()
        .unwrap()
        .projects
        .get_mut(PROJECT)
        .unwrap()
        .merge_requests
        .clear();
    stand.server.clear();
    let again = deliver(&stand, PROJECT, &[]).expect("a resumed delivery");
    assert_eq!(again.details[0], first.details[0]);
    let posts: Vec<String> = stand
        .server
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .map(|r| r.path().to_string())
        .collect();
    assert_eq!(
        posts,
        ["/api/v4/projects/acme%2Fbilling%2Finvoices/merge_requests"]
    );
}

#[test]
fn a_branch_holding_something_else_is_a_conflict() {
    let stand = stand();
    {
        let mut gitlab = stand.state.lock().unwrap();
        let project = gitlab.projects.get_mut(PROJECT).unwrap();
        let main = project.branches["main"].clone();
        project.branches.insert(default_branch(KEY), main);
    }
    let error = deliver(&stand, PROJECT, &[]).expect_err("a conflict");
    assert_eq!(error.code, "CONFLICT");
    assert!(stand.server.requests().iter().all(|r| r.method == "GET"));

    let stand = self::stand();
    deliver(&stand, PROJECT, &[]).expect("a receipt");
    let other = archives::zip(&[("README.md", b"other")]);
    let target = target(PROJECT, KEY, &other.bytes, &[]);
    let error = deliver_to(&stand.api(), TOKEN, &other, &target).expect_err("a conflict");
    assert_eq!(error.code, "CONFLICT");
}

#[test]
fn a_zip_artifact_and_an_explicit_branch_and_base_work_alike() {
    let stand = stand();
    {
        let mut gitlab = stand.state.lock().unwrap();
        let project = gitlab.projects.get_mut(PROJECT).unwrap();
        let main = project.branches["main"].clone();
        project.branches.insert("develop".into(), main);
    }
    let artifact = archives::zip(&FILES);
    let target = target(
        PROJECT,
        KEY,
        &artifact.bytes,
        &[("branch", "feature/invoices"), ("base", "develop")],
    );
    let receipt = deliver_to(&stand.api(), TOKEN, &artifact, &target).expect("a receipt");
    assert_eq!(receipt.details[1].1, "feature/invoices");
    let gitlab = stand.state.lock().unwrap();
    let project = &gitlab.projects[PROJECT];
    assert_eq!(project.head("feature/invoices").files.len(), FILES.len());
    assert_eq!(project.merge_requests[0].target, "develop");
}

#[test]
fn a_missing_project_is_created_only_when_asked() {
    let stand = stand();
    let error = deliver(&stand, "acme/billing/new", &[]).expect_err("no project");
    assert_eq!(error.code, "TARGET_NOT_FOUND");
    let receipt =
        deliver(&stand, "acme/billing/new", &[("create-repository", "true")]).expect("a receipt");
    assert_eq!(
        receipt.location,
        "https://gitlab.example/acme/billing/new/-/merge_requests/1"
    );
    let create = stand
        .server
        .requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.path() == "/api/v4/projects")
        .expect("a project creation");
    assert_eq!(create.json()["namespace_id"], 2);
    assert_eq!(create.json()["visibility"], "private");
    let error =
        deliver(&stand, "nobody/new", &[("create-repository", "true")]).expect_err("no namespace");
    assert_eq!(error.code, "TARGET_NOT_FOUND");
}

#[test]
fn each_failure_has_its_code_and_never_shows_the_token() {
    let stand = stand();
    let mut errors = vec![];
    let mut expect = |code: &str, result: Result<Receipt, PluginError>| {
        let error = result.expect_err(code);
        assert_eq!(error.code, code, "{}", error.message);
        errors.push(error);
    };
    let artifact = capsule();
    let to = target(PROJECT, KEY, &artifact.bytes, &[]);
    expect(
        "AUTH_FAILED",
        deliver_to(&stand.api(), "wrong-token", &artifact, &to),
    );
    for (method, path, status, code) in [
        ("GET", "projects/acme/billing/invoices", 403, "AUTH_FAILED"),
        ("GET", "projects/acme/billing/invoices", 503, "UNREACHABLE"),
        (
            "POST",
            "projects/acme/billing/invoices/repository/commits",
            409,
            "CONFLICT",
        ),
        (
            "POST",
            "projects/acme/billing/invoices/repository/commits",
            500,
            "UNREACHABLE",
        ),
        (
            "POST",
            "projects/acme/billing/invoices/merge_requests",
            422,
            "CONFLICT",
        ),
    ] {
        stand.state.lock().unwrap().fail = Some((method.into(), path.into(), status));
        stand.server.clear();
        expect(code, deliver(&stand, PROJECT, &[]));
        if status == 503 {
            assert_eq!(
                stand.server.requests().len(),
                3,
                "a GET is tried three times"
            );
        }
    }
    stand.state.lock().unwrap().fail = None;
    let fresh = self::stand();
    expect(
        "TARGET_NOT_FOUND",
        deliver(&fresh, PROJECT, &[("base", "release")]),
    );
    expect(
        "UNREACHABLE",
        deliver_to(&closed_url(), TOKEN, &artifact, &to),
    );

    fresh.server.clear();
    for hostile in [
        archives::hostile_tar_gz("link", EntryType::Symlink),
        archives::hostile_tar_gz("/etc/passwd", EntryType::Regular),
        archives::hostile_tar_gz("a/../../x", EntryType::Regular),
        archives::tar_gz(&[("a", b"1"), ("a", b"2")]),
    ] {
        let to = target(PROJECT, KEY, &hostile.bytes, &[]);
        expect(
            "INVALID_ARTIFACT",
            deliver_to(&fresh.api(), TOKEN, &hostile, &to),
        );
    }
    assert!(
        fresh.server.requests().is_empty(),
        "a bad artifact sends nothing"
    );
    for error in &errors {
        assert!(!error.message.contains(TOKEN), "{}", error.message);
    }
}

#[test]
fn through_the_plugin_interface_the_token_comes_from_configuration() {
    let stand = stand();
    qlp_sdk::http::allow_for_tests();
    let artifact = capsule();
    let to = target(PROJECT, KEY, &artifact.bytes, &[]);
    // The only test of this binary that touches the environment.
    unsafe {
        std::env::remove_var("QLP_PLUGIN_SECRET_TOKEN");
        std::env::set_var("QLP_PLUGIN_CONFIG_API_URL", stand.api());
    }
    let error = Adapter::deliver(artifact.clone(), to.clone()).expect_err("no token");
    assert_eq!(error.code, "MISSING_SECRET");
    assert!(stand.server.requests().is_empty());
    unsafe { std::env::set_var("QLP_PLUGIN_SECRET_TOKEN", TOKEN) };
    let receipt = Adapter::deliver(artifact, to).expect("a receipt");
    assert!(!format!("{receipt:?}").contains(TOKEN));
}
