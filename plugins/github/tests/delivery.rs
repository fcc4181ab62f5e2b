//! `qlp/github` against `github_api_stand_in` (tests/common): the requests
//! it sends, the branch, commit and pull request it leaves, repeats that
//! create nothing, and each error code.

use std::sync::{Arc, Mutex};

use common::{GitHub, LOGIN, Repo, TOKEN, github_api_stand_in};
use qlp_delivery_testkit::archives::{self, EntryType};
use qlp_delivery_testkit::{StandIn, closed_url, target};
use qlp_plugin_github::{GitHub as Adapter, Settings, default_branch, deliver_with};
use qlp_sdk::delivery::{Artifact, Delivery, DeliveryTarget, PluginError, Receipt};

mod common;

const KEY: &str = "5d0c6f3e-intent/invoices.tar.gz";

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
    state: Arc<Mutex<GitHub>>,
    server: StandIn,
}

/// A stand-in holding `acme/invoices` (initialized, default branch main).
fn stand() -> Stand {
    let state = Arc::new(Mutex::new(GitHub::default()));
    state
        .lock()
        .unwrap()
        .repos
        .insert("acme/invoices".into(), Repo::initialized());
    let server = github_api_stand_in(state.clone());
    Stand { state, server }
}

fn deliver_to(
    url: &str,
    token: &str,
    artifact: &Artifact,
    target: &DeliveryTarget,
) -> Result<Receipt, PluginError> {
    qlp_sdk::http::allow_for_tests();
    deliver_with(&Settings::new(url, token), artifact, target)
}

fn deliver(
    stand: &Stand,
    destination: &str,
    options: &[(&str, &str)],
) -> Result<Receipt, PluginError> {
    let artifact = capsule();
    let target = target(destination, KEY, &artifact.bytes, options);
    deliver_to(&stand.server.url(), TOKEN, &artifact, &target)
}

#[test]
fn the_capsule_becomes_a_branch_a_commit_and_a_pull_request() {
    let stand = stand();
    let receipt =
        deliver(&stand, "acme/invoices", &[("title", "Invoices service")]).expect("a receipt");
    let branch = default_branch(KEY);
    let github = stand.state.lock().unwrap();
    let repo = &github.repos["acme/invoices"];

    // The branch: one commit on main's head holding exactly the capsule.
    let head = repo.head(&branch);
    assert_eq!(head.parents, [repo.refs["main"].clone()]);
    let files = repo.files(&branch);
    assert_eq!(
        files.len(),
        FILES.len(),
        "the capsule replaces the content: no README of main"
    );
    for (path, content) in FILES {
        let (mode, stored) = &files[path];
        assert_eq!(stored, content, "{path}");
        let executable = path.ends_with(".sh");
        assert_eq!(mode, if executable { "100755" } else { "100644" }, "{path}");
    }
    assert!(head.message.starts_with("Invoices service\n"));
    assert!(
        head.message
            .contains(&format!("\nQLP-Delivery-Key: {KEY}\n"))
    );
    let blake3 = qlp_delivery_testkit::blake3_hex(&capsule().bytes);
    assert!(
        head.message
            .contains(&format!("\nQLP-Artifact-Blake3: {blake3}\n"))
    );

    // One pull request, branch → main.
    assert_eq!(repo.pulls.len(), 1);
    let pull = &repo.pulls[0];
    assert_eq!(
        (pull.head.as_str(), pull.base.as_str()),
        (branch.as_str(), "main")
    );
    assert_eq!(pull.title, "Invoices service");
    assert_eq!(
        receipt.location,
        "https://github.example/acme/invoices/pull/1"
    );
    assert_eq!(
        receipt.details,
        [
            ("commit".to_string(), repo.refs[&branch].clone()),
            ("branch".to_string(), branch.clone()),
            ("pull-request".to_string(), "1".to_string()),
        ]
    );

    // The requests: GitHub's headers on each, the token only in Authorization.
    let requests = stand.server.requests();
    let calls: Vec<String> = requests
        .iter()
        .map(|r| format!("{} {}", r.method, r.path()))
        .collect();
    assert_eq!(
        calls,
        [
            "GET /repos/acme/invoices".to_string(),
            format!("GET /repos/acme/invoices/git/ref/heads/{branch}"),
            "GET /repos/acme/invoices/git/ref/heads/main".to_string(),
            "POST /repos/acme/invoices/git/blobs".to_string(),
            "POST /repos/acme/invoices/git/trees".to_string(),
            "POST /repos/acme/invoices/git/commits".to_string(),
            "POST /repos/acme/invoices/git/refs".to_string(),
            "GET /repos/acme/invoices/pulls".to_string(),
            "POST /repos/acme/invoices/pulls".to_string(),
        ],
        "only the binary file is uploaded as a blob"
    );
    for request in &requests {
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
        assert_eq!(
            request.header("accept"),
            Some("application/vnd.github+json")
        );
        assert_eq!(request.header("x-github-api-version"), Some("2022-11-28"));
        assert_eq!(request.header("user-agent"), Some("qlp"));
        assert_eq!(
            request.text().matches(TOKEN).count(),
            1,
            "token only in the auth header"
        );
    }
    let tree = requests[4].json();
    assert!(tree.get("base_tree").is_none());
    let pulls = &requests[7];
    assert_eq!(pulls.query("head"), Some(format!("acme:{branch}")));
    assert_eq!(pulls.query("base").as_deref(), Some("main"));
    let refs = requests[6].json();
    assert_eq!(refs["ref"], format!("refs/heads/{branch}"));
}

#[test]
fn a_repeated_delivery_creates_nothing_and_returns_the_same_receipt() {
    let stand = stand();
    let first = deliver(&stand, "acme/invoices", &[]).expect("a receipt");
    stand.server.clear();
    let again = deliver(&stand, "acme/invoices", &[]).expect("a repeated delivery");
    assert_eq!(
        (first.location, first.details),
        (again.location, again.details)
    );
    let requests = stand.server.requests();
    assert!(
        requests.iter().all(|r| r.method == "GET"),
        "nothing is written again"
    );
    let github = stand.state.lock().unwrap();
    let repo = &github.repos["acme/invoices"];
    assert_eq!(repo.pulls.len(), 1);
    assert_eq!(repo.commits.len(), 2, "main's commit and the delivery's");
}

#[test]
fn a_branch_left_by_a_crash_gets_its_pull_request_and_nothing_else() {
    let stand = stand();
    let first = deliver(&stand, "acme/invoices", &[]).expect("a receipt");
    // As if the process died after creating the ref: no pull request yet.
    stand
        .state
        .lock()
        .unwrap()
        .repos
        .get_mut("acme/invoices")
        .unwrap()
        .pulls
        .clear();
    stand.server.clear();
    let again = deliver(&stand, "acme/invoices", &[]).expect("a resumed delivery");
    assert_eq!(again.details[0], first.details[0], "the same commit");
    let posts: Vec<String> = stand
        .server
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .map(|r| r.path().to_string())
        .collect();
    assert_eq!(posts, ["/repos/acme/invoices/pulls"]);
}

#[test]
fn a_branch_holding_something_else_is_a_conflict() {
    let stand = stand();
    {
        let mut github = stand.state.lock().unwrap();
        let repo = github.repos.get_mut("acme/invoices").unwrap();
        let main = repo.refs["main"].clone();
        repo.refs.insert(default_branch(KEY), main);
    }
    let error = deliver(&stand, "acme/invoices", &[]).expect_err("a conflict");
    assert_eq!(error.code, "CONFLICT");
    assert!(stand.server.requests().iter().all(|r| r.method == "GET"));

    // The same delivery key with another artifact is a conflict too.
    let stand = self::stand();
    deliver(&stand, "acme/invoices", &[]).expect("a receipt");
    let other = archives::tar_gz(&[("README.md", b"other")]);
    let target = target("acme/invoices", KEY, &other.bytes, &[]);
    let error = deliver_to(&stand.server.url(), TOKEN, &other, &target).expect_err("a conflict");
    assert_eq!(error.code, "CONFLICT");
}

#[test]
fn a_zip_artifact_and_an_explicit_branch_and_base_work_alike() {
    let stand = stand();
    {
        let mut github = stand.state.lock().unwrap();
        let repo = github.repos.get_mut("acme/invoices").unwrap();
        let main = repo.refs["main"].clone();
        repo.refs.insert("develop".into(), main);
    }
    let artifact = archives::zip(&FILES);
    let target = target(
        "acme/invoices",
        KEY,
        &artifact.bytes,
        &[("branch", "feature/invoices"), ("base", "develop")],
    );
    let receipt = deliver_to(&stand.server.url(), TOKEN, &artifact, &target).expect("a receipt");
    assert_eq!(receipt.details[1].1, "feature/invoices");
    let github = stand.state.lock().unwrap();
    let repo = &github.repos["acme/invoices"];
    assert_eq!(repo.files("feature/invoices").len(), FILES.len());
    assert_eq!(repo.pulls[0].base, "develop");
}

#[test]
fn a_missing_repository_is_created_only_when_asked() {
    let stand = stand();
    let error = deliver(&stand, "octo/new-service", &[]).expect_err("no repository");
    assert_eq!(error.code, "TARGET_NOT_FOUND");

    let receipt = deliver(
        &stand,
        &format!("{LOGIN}/new-service"),
        &[("create-repository", "true")],
    )
    .expect("a receipt");
    assert_eq!(
        receipt.location,
        "https://github.example/octo/new-service/pull/1"
    );
    assert!(
        stand
            .server
            .requests()
            .iter()
            .any(|r| r.method == "POST" && r.path() == "/user/repos")
    );

    stand.state.lock().unwrap().orgs.push("acme".into());
    deliver(&stand, "acme/billing", &[("create-repository", "true")]).expect("a receipt");
    assert!(
        stand
            .server
            .requests()
            .iter()
            .any(|r| r.path() == "/orgs/acme/repos")
    );
    let github = stand.state.lock().unwrap();
    assert_eq!(github.repos["acme/billing"].pulls.len(), 1);
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
    let to = target("acme/invoices", KEY, &artifact.bytes, &[]);
    expect(
        "AUTH_FAILED",
        deliver_to(&stand.server.url(), "wrong-token", &artifact, &to),
    );
    for (method, path, status, code) in [
        ("GET", "/repos/acme/invoices", 403, "AUTH_FAILED"),
        ("GET", "/repos/acme/invoices", 500, "UNREACHABLE"),
        ("POST", "/repos/acme/invoices/git/trees", 422, "CONFLICT"),
        ("POST", "/repos/acme/invoices/git/commits", 409, "CONFLICT"),
        ("POST", "/repos/acme/invoices/git/blobs", 502, "UNREACHABLE"),
        ("POST", "/repos/acme/invoices/pulls", 400, "REJECTED"),
    ] {
        stand.state.lock().unwrap().fail = Some((method.into(), path.into(), status));
        stand.server.clear();
        expect(code, deliver(&stand, "acme/invoices", &[]));
        if status == 500 {
            assert_eq!(
                stand.server.requests().len(),
                3,
                "a GET is tried three times"
            );
        }
    }
    stand.state.lock().unwrap().fail = None;
    // A fresh repository: the one above holds the delivery by now.
    let fresh = self::stand();
    expect(
        "TARGET_NOT_FOUND",
        deliver(&fresh, "acme/invoices", &[("base", "release")]),
    );
    expect(
        "UNREACHABLE",
        deliver_to(&closed_url(), TOKEN, &artifact, &to),
    );

    stand.server.clear();
    for kind in [EntryType::Symlink, EntryType::Link] {
        let hostile = archives::hostile_tar_gz("link", kind);
        let to = target("acme/invoices", KEY, &hostile.bytes, &[]);
        expect(
            "INVALID_ARTIFACT",
            deliver_to(&stand.server.url(), TOKEN, &hostile, &to),
        );
    }
    for path in ["/etc/passwd", "../escape"] {
        let hostile = archives::hostile_tar_gz(path, EntryType::Regular);
        let to = target("acme/invoices", KEY, &hostile.bytes, &[]);
        expect(
            "INVALID_ARTIFACT",
            deliver_to(&stand.server.url(), TOKEN, &hostile, &to),
        );
    }
    assert!(
        stand.server.requests().is_empty(),
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
    let to = target("acme/invoices", KEY, &artifact.bytes, &[]);
    // The only test of this binary that touches the environment.
    unsafe {
        std::env::remove_var("QLP_PLUGIN_SECRET_TOKEN");
        std::env::set_var("QLP_PLUGIN_CONFIG_API_URL", stand.server.url());
    }
    let error = Adapter::deliver(artifact.clone(), to.clone()).expect_err("no token");
    assert_eq!(error.code, "MISSING_SECRET");
    assert!(stand.server.requests().is_empty());
    unsafe { std::env::set_var("QLP_PLUGIN_SECRET_TOKEN", TOKEN) };
    let receipt = Adapter::deliver(artifact, to).expect("a receipt");
    assert!(!format!("{receipt:?}").contains(TOKEN));
}
