//! Packaging and delivery as a user receives them: a tier that exports a
//! zip, a tar.gz and a Helm chart commits the capsule to a git repository
//! and uploads its artifacts to an S3-compatible bucket, each served on
//! loopback by the real thing (git's own `git http-backend`, moto's S3
//! server). A `kill -9` between a delivery and its record leaves one
//! commit and one upload, and no secret granted to an adapter shows up in
//! the logs, the database, the capsule or its receipts.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use crate::files_checked_against_manifest;
use crate::support::{Loopback, Server, plugins, stages, test_file};

/// Secrets planted in the adapters' grants: none may appear anywhere the
/// server writes.
const GIT_TOKEN: &str = "git-token-5f0c1e9d7a";
const S3_SECRET: &str = "s3-secret-b84e2c61f3";
const S3_KEY_ID: &str = "AKIAQLPTEST0001";

fn git(args: &[&str], dir: &Path) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// The tiers file of the test: three exporters, the tar.gz committed to
/// git, every artifact uploaded to S3.
fn tiers(dir: &Path, git_url: &str, s3_url: &str) -> std::path::PathBuf {
    let authority = |url: &str| url.trim_start_matches("http://").to_owned();
    let text = format!(
        r#"
[tiers.ship]
description = "Exports a zip, a tar.gz and a Helm chart; commits to git and uploads to S3."
agents = ["qlp/template-fastapi"]
validators = ["qlp/secrets"]
exporters = ["qlp/zip", "qlp/tar-gz", "qlp/helm"]
gate = {{ min_score = 0, max_critical = 0 }}
deliveries = [
    {{ plugin = "qlp/git", artifacts = ["qlp/tar-gz"], destination = "{git_url}/capsules.git", options = {{ branch = "capsules/{{intent}}" }} }},
    {{ plugin = "qlp/s3", destination = "capsules/{{intent}}" }},
]

[plugins."qlp/git"]
http = ["{git}"]
secrets = {{ token = "env:QLP_TEST_GIT_TOKEN" }}
config = {{ username = "qlp" }}

[plugins."qlp/s3"]
http = ["{s3}"]
config = {{ endpoint = "{s3_url}", bucket = "capsules" }}
secrets = {{ access-key-id = "env:QLP_TEST_S3_KEY_ID", secret-access-key = "env:QLP_TEST_S3_SECRET" }}
"#,
        git = authority(git_url),
        s3 = authority(s3_url),
    );
    let path = dir.join("ship-tiers.toml");
    std::fs::write(&path, text).unwrap();
    path
}

const SECRETS: [(&str, &str); 3] = [
    ("QLP_TEST_GIT_TOKEN", GIT_TOKEN),
    ("QLP_TEST_S3_KEY_ID", S3_KEY_ID),
    ("QLP_TEST_S3_SECRET", S3_SECRET),
];

/// Every object version in the bucket: key → sizes, one per upload.
fn bucket_versions(s3_url: &str) -> BTreeMap<String, Vec<u64>> {
    let out = Command::new("python3")
        .arg(test_file("servers/s3_server.py"))
        .args(["--versions", s3_url, "capsules"])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// Every file under `dir`, recursively, as bytes.
fn every_file(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = vec![];
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push((path.display().to_string(), std::fs::read(&path).unwrap()));
            }
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_capsule_is_committed_to_git_and_uploaded_to_s3_once_even_after_a_kill_during_delivery() {
    let work = tempfile::tempdir().unwrap();
    let repos = work.path().join("repos");
    std::fs::create_dir_all(&repos).unwrap();
    git(
        &[
            "init",
            "--quiet",
            "--bare",
            "--initial-branch=main",
            "capsules.git",
        ],
        &repos,
    );
    let git_server = Loopback::start(
        "python3",
        &[
            test_file("servers/git_http_server.py").to_str().unwrap(),
            "--root",
            repos.to_str().unwrap(),
            "--port",
            "0",
            "--user",
            "qlp",
            "--password",
            GIT_TOKEN,
        ],
    );
    let s3 = Loopback::start(
        "python3",
        &[
            test_file("servers/s3_server.py").to_str().unwrap(),
            "--bucket",
            "capsules",
        ],
    );
    let tiers = tiers(work.path(), &git_server.url, &s3.url);
    let data = work.path().join("data");
    let plugin_dir = plugins();
    let args = [
        "--plugin-dir",
        plugin_dir.to_str().unwrap(),
        "--tiers",
        tiers.to_str().unwrap(),
    ];

    // The server aborts right after the first delivery (the commit), before
    // the host records it.
    let mut env = SECRETS.to_vec();
    env.push(("QLP_FAULTS", "commit:deliver:1"));
    let mut server = Server::start_env(&data, &args, &env);
    let id = server
        .submit(json!({
            "description": "Create a FastAPI service for shipments with JWT auth",
            "requirements": ["each shipment has a tracking number and a weight"],
            "tier": "ship",
        }))
        .await;
    assert!(
        server.exited_within(crate::support::INTENT_TIMEOUT),
        "the crash point was not reached"
    );
    let branch = format!("capsules/{id}");
    let bare = repos.join("capsules.git");
    assert_eq!(
        git(&["rev-list", "--count", &branch], &bare),
        "1",
        "the commit landed before the crash"
    );

    // Restarted, the intent resumes at the unrecorded delivery.
    let server = Server::start_env(&data, &args, &SECRETS);
    let intent = server.wait(&id).await;
    assert_eq!(intent["status"], "completed", "{intent:#}");
    let delivers: Vec<&str> = stages(&intent, "deliver")
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert!(
        delivers.starts_with(&["interrupted", "succeeded"]),
        "{delivers:?}"
    );

    // One commit on the branch, holding exactly the capsule's files.
    assert_eq!(
        git(&["rev-list", "--count", &branch], &bare),
        "1",
        "one commit"
    );
    let refs = git(&["for-each-ref", "refs/qlp/deliveries/"], &bare);
    assert_eq!(refs.lines().count(), 1, "one delivery ref: {refs}");
    let clone = work.path().join("clone");
    git(
        &[
            "clone",
            "--quiet",
            "--branch",
            &branch,
            bare.to_str().unwrap(),
            clone.to_str().unwrap(),
        ],
        work.path(),
    );
    let zip = server
        .get_bytes(&format!("/v1/capsules/{id}/download"))
        .await;
    let (manifest, entries) = files_checked_against_manifest(&zip);
    for file in manifest["files"].as_array().unwrap() {
        let path = file["path"].as_str().unwrap();
        let cloned = std::fs::read(clone.join(path))
            .unwrap_or_else(|e| panic!("{path} is not in the clone: {e}"));
        assert_eq!(
            blake3::hash(&cloned).to_hex().as_str(),
            file["blake3"].as_str().unwrap(),
            "{path}"
        );
    }
    let tracked = git(&["ls-files"], &clone);
    assert_eq!(
        tracked.lines().count(),
        entries.len() + 1,
        "the capsule's files and its manifest, nothing else: {tracked}"
    );
    let message = git(&["log", "-1", "--format=%B"], &clone);
    assert!(
        message.contains(&format!("QLP-Delivery: {id}/")),
        "{message}"
    );

    // One upload of each artifact, byte for byte what the capsule holds.
    let capsule = server.get_json(&format!("/v1/capsules/{id}")).await;
    let artifacts = capsule["artifacts"].as_array().expect("artifacts");
    assert_eq!(artifacts.len(), 3, "{capsule:#}");
    let versions = bucket_versions(&s3.url);
    for artifact in artifacts {
        let name = artifact["file_name"].as_str().unwrap();
        let bytes = server
            .get_bytes(&format!("/v1/capsules/{id}/artifacts/{name}"))
            .await;
        let key = format!("capsules/{id}/{name}");
        assert_eq!(
            versions.get(&key),
            Some(&vec![bytes.len() as u64]),
            "one upload of {key}: {versions:?}"
        );
        let object = Command::new("python3")
            .arg(test_file("servers/s3_server.py"))
            .args(["--get", &s3.url, "capsules", &key])
            .output()
            .expect("python3 runs");
        assert!(
            object.status.success(),
            "{}",
            String::from_utf8_lossy(&object.stderr)
        );
        assert_eq!(
            blake3::hash(&object.stdout),
            blake3::hash(&bytes),
            "{key} holds other bytes than the capsule's artifact"
        );
    }
    assert_eq!(versions.len(), 3, "{versions:?}");

    // The Helm chart that went out validates with Helm's own engine.
    let chart = artifacts
        .iter()
        .find(|a| a["file_name"].as_str().unwrap().ends_with(".tgz"))
        .expect("a chart");
    let chart_bytes = server
        .get_bytes(&format!(
            "/v1/capsules/{id}/artifacts/{}",
            chart["file_name"].as_str().unwrap()
        ))
        .await;
    check_chart(work.path(), &chart_bytes);

    // The receipts say where each artifact went.
    let receipts = capsule["receipts"].as_array().expect("receipts");
    let adapters: Vec<&str> = receipts
        .iter()
        .map(|r| r["adapter"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        adapters,
        ["qlp/git", "qlp/s3", "qlp/s3", "qlp/s3"],
        "{capsule:#}"
    );
    assert!(
        receipts[0]["location"]
            .as_str()
            .unwrap()
            .ends_with(&format!("capsules.git#{branch}")),
        "{receipts:?}"
    );
    server.stop();

    // No granted secret went into anything the server wrote.
    for (path, bytes) in every_file(&data) {
        for (_, secret) in SECRETS {
            assert!(!contains(&bytes, secret), "{path} holds a granted secret");
        }
    }
    let record = serde_json::to_string(&(&intent, &capsule)).unwrap();
    for (_, secret) in SECRETS {
        assert!(!record.contains(secret), "the API shows a granted secret");
    }
}

/// Loads, lints and renders the chart with Helm's own engine
/// (plugins/helm/tests/render_chart.py).
fn check_chart(dir: &Path, chart: &[u8]) {
    let path = dir.join("chart.tgz");
    std::fs::write(&path, chart).unwrap();
    let request = json!({ "chart": path, "versions": ["1.37.0"], "cases": [{ "values": {} }] });
    let out = crate::support::python(
        &crate::support::workspace().join("plugins/helm/tests/render_chart.py"),
        request.to_string().as_bytes(),
    );
    let rendered: Value = serde_json::from_slice(&out).expect("JSON");
    assert!(
        rendered["cases"][0]["manifests"].is_object(),
        "{rendered:#}"
    );
}

/// `qlp` with `args`, its environment cleared of QLP settings but for
/// `env`: exit status, stdout and stderr.
fn qlp_cli(args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let out = crate::support::qlp_command()
        .args(args)
        .env_remove("QLP_CA_FILE")
        .envs(env.iter().copied())
        .output()
        .expect("qlp runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn the_server_speaks_https_and_the_cli_trusts_it_through_the_operators_ca() {
    let data = tempfile::tempdir().unwrap();
    let tls = |name: &str| test_file(&format!("data/tls/{name}")).display().to_string();
    let (cert, key, ca) = (
        tls("server-test-only.pem"),
        tls("server-test-only.key"),
        tls("ca-test-only.pem"),
    );
    let plugin_dir = plugins();
    let server = Server::start(
        data.path(),
        &[
            "--plugin-dir",
            plugin_dir.to_str().unwrap(),
            "--tls-cert",
            &cert,
            "--tls-key",
            &key,
        ],
    );
    assert!(
        server.url.starts_with("https://127.0.0.1:"),
        "{}",
        server.url
    );
    let admin = server.admin_key.clone();
    let submit = |url: &str, env: &[(&str, &str)]| {
        let mut all = vec![("QLP_API_KEY", admin.as_str())];
        all.extend_from_slice(env);
        qlp_cli(
            &[
                "submit",
                "Create a FastAPI service for parcels",
                "--server",
                url,
            ],
            &all,
        )
    };

    // With the CA that signed the server's certificate: accepted.
    let (ok, id, err) = submit(&server.url, &[("QLP_CA_FILE", ca.as_str())]);
    assert!(ok, "{err}");
    assert_eq!(id.trim().len(), 36, "an intent id: {id}");

    // Without it, the system roots do not vouch for the server.
    let (ok, _, err) = submit(&server.url, &[]);
    assert!(!ok, "the CLI trusted an unknown CA");
    assert!(err.to_lowercase().contains("certificate"), "{err}");

    // Plain http to the https port is not answered as http.
    let plain = server.url.replace("https://", "http://");
    let (ok, _, _) = submit(&plain, &[("QLP_CA_FILE", ca.as_str())]);
    assert!(!ok, "plain http was answered on the https port");
    drop(server);
}

#[test]
fn a_server_certificate_without_its_key_stops_the_start_with_the_reason() {
    let data = tempfile::tempdir().unwrap();
    let cert = test_file("data/tls/server-test-only.pem");
    let wrong_key = data.path().join("key.pem");
    std::fs::write(&wrong_key, "not a key\n").unwrap();
    let outcome = Server::try_start_env(
        data.path(),
        &[
            "--plugin-dir",
            plugins().to_str().unwrap(),
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            wrong_key.to_str().unwrap(),
        ],
        &[],
    );
    let Err(crate::support::NotStarted { log, .. }) = outcome else {
        panic!("the server started without a usable key");
    };
    assert!(
        log.contains("--tls-key") && log.contains("key.pem"),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_granted_secret_an_adapter_leaks_is_masked_in_its_log_receipt_and_error() {
    const TOKEN: &str = "leaked-token-93c1d7e2";
    let work = tempfile::tempdir().unwrap();
    let tiers = work.path().join("leaky-tiers.toml");
    std::fs::write(
        &tiers,
        r#"
[tiers.leaky]
agents = ["qlp/template-fastapi"]
validators = ["qlp/secrets"]
exporter = "qlp/zip"
gate = { min_score = 0, max_critical = 0 }
deliveries = [{ plugin = "fixture/leaky-delivery" }]

[tiers.leaky-failing]
agents = ["qlp/template-fastapi"]
validators = ["qlp/secrets"]
exporter = "qlp/zip"
gate = { min_score = 0, max_critical = 0 }
deliveries = [{ plugin = "fixture/leaky-delivery", options = { fail = "true" } }]

[plugins."fixture/leaky-delivery"]
secrets = { token = "env:QLP_TEST_LEAKED_TOKEN" }
"#,
    )
    .unwrap();
    let dirs = format!(
        "{}:{}",
        plugins().display(),
        crate::support::fixtures().display()
    );
    let data = work.path().join("data");
    let server = Server::start_env(
        &data,
        &["--plugin-dir", &dirs, "--tiers", tiers.to_str().unwrap()],
        &[("QLP_TEST_LEAKED_TOKEN", TOKEN)],
    );
    let description = "Create a FastAPI service for parcels";
    let delivered = server
        .submit(json!({ "description": description, "tier": "leaky" }))
        .await;
    let refused = server
        .submit(json!({ "description": description, "tier": "leaky-failing" }))
        .await;
    let delivered_intent = server.wait(&delivered).await;
    assert_eq!(
        delivered_intent["status"], "completed",
        "{delivered_intent:#}"
    );
    let capsule = server.get_json(&format!("/v1/capsules/{delivered}")).await;
    let receipt = &capsule["receipts"][0];
    // The adapter did read the secret: its words carry the mask instead.
    assert_eq!(
        receipt["location"].as_str().unwrap(),
        format!(
            "https://user:***@example.com/{}",
            capsule["artifacts"][0]["file_name"].as_str().unwrap()
        ),
        "{capsule:#}"
    );
    assert_eq!(receipt["details"][0], json!(["token", "***"]), "{receipt}");
    let refused_intent = server.wait(&refused).await;
    assert_eq!(refused_intent["status"], "failed", "{refused_intent:#}");
    assert_eq!(refused_intent["error"]["code"], "AUTH_FAILED");
    let message = refused_intent["error"]["message"].as_str().unwrap();
    assert!(message.contains("refused token ***"), "{message}");
    server.stop();

    let log = std::fs::read_to_string(data.join("server.log")).unwrap();
    assert!(
        log.contains("delivering with token ***"),
        "the log line was dropped"
    );
    for (path, bytes) in every_file(&data) {
        assert!(!contains(&bytes, TOKEN), "{path} holds the granted secret");
    }
    let record = serde_json::to_string(&(&delivered_intent, &refused_intent, &capsule)).unwrap();
    assert!(!record.contains(TOKEN));
}
