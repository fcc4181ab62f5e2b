//! Deliveries pushed to the real `git http-backend` and read back with the
//! real git.

use std::collections::BTreeMap;
use std::path::Path;

use qlp_plugin_git::push::{HostHttp, Transport};
use qlp_plugin_git::{deliver_with, delivery_ref};
use qlp_sdk::delivery::{Artifact, DeliveryTarget, PluginError, Receipt};
use qlp_sdk::http::{Request, Response};

use crate::common::{
    Files, Server, bare_repository, capsule, checkout_files, git, git_available, tar_gz, target,
    zip,
};

const TOKEN: &str = "s3cr3t-t0ken";

fn no_config(_: &str) -> Option<String> {
    None
}

fn deliver(
    config: &dyn Fn(&str) -> Option<String>,
    artifact: &Artifact,
    target: &DeliveryTarget,
) -> Result<Receipt, PluginError> {
    qlp_sdk::http::allow_for_tests();
    deliver_with(&mut HostHttp, config, artifact, target)
}

fn detail<'a>(receipt: &'a Receipt, key: &str) -> &'a str {
    receipt
        .details
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {key} in {receipt:?}"))
}

/// Clones `branch` of `url` and checks every file and mode against `files`.
fn assert_clone_matches(url: &str, branch: &str, files: &Files) {
    let dir = tempfile::tempdir().unwrap();
    git(
        dir.path(),
        &["clone", "-q", "--branch", branch, url, "clone"],
    );
    let clone = dir.path().join("clone");
    let expected: BTreeMap<String, Vec<u8>> = files
        .iter()
        .map(|(path, content, _)| (path.clone(), content.clone()))
        .collect();
    assert_eq!(checkout_files(&clone), expected);
    let listing = git(&clone, &["ls-tree", "-r", "HEAD"]);
    for (path, _, executable) in files {
        let line = listing
            .lines()
            .find(|l| l.ends_with(&format!("\t{path}")))
            .unwrap();
        let mode = if *executable { "100755" } else { "100644" };
        assert!(line.starts_with(mode), "{line}");
    }
}

fn rev_count(repo: &Path, rev: &str) -> String {
    git(repo, &["rev-list", "--count", rev]).trim().to_string()
}

fn head(repo: &Path, rev: &str) -> String {
    git(repo, &["rev-parse", rev]).trim().to_string()
}

#[test]
fn a_tar_gz_lands_in_an_empty_repository_once() {
    if !git_available(true) {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let repo = bare_repository(root.path(), "team/app.git");
    let server = Server::start(root.path(), None);
    let url = server.url("team/app.git");
    let files = capsule("tar");
    let artifact = tar_gz(&files, Some("capsule-1234"));
    let key = "intent-1/capsule.tar.gz";
    let target = target(&url, key, &[]);

    let receipt = deliver(&no_config, &artifact, &target).expect("delivered");
    assert_eq!(receipt.location, format!("{url}#main"));
    assert_eq!(detail(&receipt, "branch"), "main");
    assert_eq!(detail(&receipt, "files"), files.len().to_string());
    assert_eq!(detail(&receipt, "already-delivered"), "false");
    assert_eq!(detail(&receipt, "delivery-ref"), delivery_ref(key));
    let commit = detail(&receipt, "commit").to_string();
    assert_eq!(head(&repo, "main"), commit);
    assert_eq!(head(&repo, &delivery_ref(key)), commit);
    assert_eq!(rev_count(&repo, "main"), "1");
    assert_clone_matches(&url, "main", &files);
    let message = git(&repo, &["log", "-1", "--format=%an <%ae> %at%n%B", "main"]);
    assert!(
        message
            .starts_with("QLP <qlp@localhost> 1700000000\nQLP capsule intent-1/capsule.tar.gz\n")
    );
    assert!(
        message.contains("\nQLP-Delivery: intent-1/capsule.tar.gz\n"),
        "{message}"
    );
    assert!(message.contains("\nQLP-Artifact-Blake3: "), "{message}");
    git(&repo, &["fsck", "--strict", "--no-dangling"]);

    // A resumed intent delivers again: nothing new, the same commit.
    let again = deliver(&no_config, &artifact, &target).expect("delivered again");
    assert_eq!(detail(&again, "already-delivered"), "true");
    assert_eq!(detail(&again, "commit"), commit);
    assert_eq!(again.location, receipt.location);
    assert_eq!(head(&repo, "main"), commit);
    assert_eq!(rev_count(&repo, "main"), "1");
}

#[test]
fn a_zip_lands_on_an_existing_branch_and_on_a_new_one() {
    if !git_available(true) {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let repo = bare_repository(root.path(), "existing.git");
    let server = Server::start(root.path(), None);
    let url = server.url("existing.git");
    // Someone's history, pushed with the real git.
    let work = tempfile::tempdir().unwrap();
    git(work.path(), &["init", "-q", "--initial-branch=main"]);
    std::fs::write(work.path().join("OLD.md"), "old\n").unwrap();
    git(work.path(), &["add", "OLD.md"]);
    git(work.path(), &["commit", "-q", "-m", "old"]);
    git(work.path(), &["push", "-q", &url, "main"]);
    let old_head = head(&repo, "main");

    let files = capsule("zip");
    let artifact = zip(&files);
    let receipt = deliver(
        &no_config,
        &artifact,
        &target(&url, "intent-2/capsule.zip", &[]),
    )
    .expect("delivered");
    let commit = detail(&receipt, "commit").to_string();
    assert_eq!(head(&repo, "main"), commit);
    assert_eq!(head(&repo, "main^"), old_head, "the old head is the parent");
    assert_eq!(rev_count(&repo, "main"), "2");
    assert_clone_matches(&url, "main", &files);

    // A branch that does not exist yet starts with an orphan commit.
    let branch = deliver(
        &no_config,
        &artifact,
        &target(&url, "intent-3/capsule.zip", &[("branch", "qlp/release")]),
    )
    .expect("delivered");
    assert_eq!(branch.location, format!("{url}#qlp/release"));
    assert_eq!(rev_count(&repo, "qlp/release"), "1");
    assert_eq!(head(&repo, "main"), commit, "main is untouched");
    assert_clone_matches(&url, "qlp/release", &files);
}

#[test]
fn the_same_delivery_to_two_fresh_repositories_is_the_same_commit() {
    if !git_available(true) {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    bare_repository(root.path(), "one.git");
    bare_repository(root.path(), "two.git");
    let server = Server::start(root.path(), None);
    let artifact = tar_gz(&capsule("same"), None);
    let commits: Vec<String> = ["one.git", "two.git"]
        .iter()
        .map(|name| {
            let target = target(&server.url(name), "intent-4/c.tar.gz", &[]);
            let receipt = deliver(&no_config, &artifact, &target).expect("delivered");
            detail(&receipt, "commit").to_string()
        })
        .collect();
    assert_eq!(commits[0], commits[1]);
}

/// The host's HTTP, with a push by someone else between reading the refs
/// and pushing.
struct Interloper<'a> {
    work: &'a Path,
    url: String,
    pushed: bool,
}

impl Transport for Interloper<'_> {
    fn send(&mut self, request: &Request) -> Result<Response, String> {
        if request.method == "POST" && !self.pushed {
            self.pushed = true;
            std::fs::write(self.work.join("RACE.md"), "me first\n").unwrap();
            git(self.work, &["add", "RACE.md"]);
            git(self.work, &["commit", "-q", "-m", "race"]);
            git(self.work, &["push", "-q", &self.url, "main"]);
        }
        HostHttp.send(request)
    }
}

#[test]
fn a_push_by_someone_else_in_between_is_a_conflict_and_nothing_is_recorded() {
    if !git_available(true) {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let repo = bare_repository(root.path(), "race.git");
    let server = Server::start(root.path(), None);
    let url = server.url("race.git");
    let work = tempfile::tempdir().unwrap();
    git(work.path(), &["init", "-q", "--initial-branch=main"]);
    std::fs::write(work.path().join("A.md"), "a\n").unwrap();
    git(work.path(), &["add", "A.md"]);
    git(work.path(), &["commit", "-q", "-m", "a"]);
    git(work.path(), &["push", "-q", &url, "main"]);

    qlp_sdk::http::allow_for_tests();
    let key = "intent-5/c.tar.gz";
    let mut interloper = Interloper {
        work: work.path(),
        url: url.clone(),
        pushed: false,
    };
    let artifact = tar_gz(&capsule("race"), None);
    let target = target(&url, key, &[]);
    let error = deliver_with(&mut interloper, &no_config, &artifact, &target).unwrap_err();
    assert_eq!(error.code, "CONFLICT", "{}", error.message);
    assert_eq!(
        head(&repo, "main"),
        head(work.path(), "main"),
        "their push stands"
    );
    let refs = git(&repo, &["for-each-ref", "--format=%(refname)"]);
    assert!(
        !refs.contains(&delivery_ref(key)),
        "no delivery recorded: {refs}"
    );

    // Delivering again builds on the new head.
    let receipt = deliver(&no_config, &artifact, &target).expect("delivered");
    assert_eq!(head(&repo, "main^"), head(work.path(), "main"));
    assert_eq!(detail(&receipt, "already-delivered"), "false");
}

#[test]
fn credentials_are_sent_checked_and_never_shown() {
    if !git_available(true) {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let repo = bare_repository(root.path(), "private.git");
    let server = Server::start(root.path(), Some(("deployer", TOKEN)));
    let url = server.url("private.git");
    let artifact = tar_gz(&capsule("auth"), None);
    let target = target(&url, "intent-6/c.tar.gz", &[]);

    let error = deliver(&no_config, &artifact, &target).unwrap_err();
    assert_eq!(error.code, "AUTH_FAILED", "{}", error.message);
    assert!(error.message.contains("token"), "{}", error.message);

    let wrong = |key: &str| match key {
        "username" => Some("deployer".to_string()),
        "token" => Some(format!("{TOKEN}-wrong")),
        _ => None,
    };
    let error = deliver(&wrong, &artifact, &target).unwrap_err();
    assert_eq!(error.code, "AUTH_FAILED");
    assert!(!error.message.contains(TOKEN), "{}", error.message);

    let right = |key: &str| match key {
        "username" => Some("deployer".to_string()),
        "token" => Some(TOKEN.to_string()),
        _ => None,
    };
    let receipt = deliver(&right, &artifact, &target).expect("delivered");
    assert_eq!(head(&repo, "main"), detail(&receipt, "commit"));
    let shown = format!("{receipt:?}");
    assert!(!shown.contains(TOKEN), "{shown}");

    // The real git agrees that these credentials are the ones needed.
    let authed = server
        .base
        .replacen("http://", &format!("http://deployer:{TOKEN}@"), 1);
    assert_clone_matches(&format!("{authed}/private.git"), "main", &capsule("auth"));

    // Nothing listening: the error names the URL, never the token.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = format!("http://{}/private.git", listener.local_addr().unwrap());
    drop(listener);
    let error = deliver(&right, &artifact, &crate::common::target(&closed, "k", &[])).unwrap_err();
    assert_eq!(error.code, "UNREACHABLE", "{}", error.message);
    assert!(error.message.contains(&closed), "{}", error.message);
    assert!(!error.message.contains(TOKEN), "{}", error.message);
}

#[test]
fn a_missing_repository_is_target_not_found() {
    if !git_available(true) {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let server = Server::start(root.path(), None);
    let artifact = tar_gz(&capsule("missing"), None);
    let target = target(&server.url("nowhere.git"), "intent-7/c.tar.gz", &[]);
    let error = deliver(&no_config, &artifact, &target).unwrap_err();
    assert_eq!(error.code, "TARGET_NOT_FOUND", "{}", error.message);
}

#[test]
fn the_server_answers_concurrent_requests_and_stops_on_sigterm() {
    if !git_available(true) {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    bare_repository(root.path(), "busy.git");
    let mut server = Server::start(root.path(), None);
    let url = server.url("busy.git");
    qlp_sdk::http::allow_for_tests();
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    qlp_sdk::http::get(&format!("{url}/info/refs?service=git-receive-pack"))
                        .expect("an answer")
                        .status
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    assert_eq!(statuses, [200; 4]);
    let status = server.terminate().expect("stopped by SIGTERM");
    assert!(status.success(), "{status:?}");
}
