//! Checking code QLP did not write: `POST /v1/checks`, `qlp check` and the
//! SARIF log of a capsule.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::{self, Server, stages};

fn qlp_check(server: &Server, dir: &Path, tier: &str, sarif: &Path) -> (i32, String) {
    let out = crate::support::qlp_command()
        .args(["check", dir.to_str().unwrap(), "--tier", tier, "--sarif"])
        .arg(sarif)
        .env("QLP_SERVER", &server.url)
        .env("QLP_API_KEY", &server.admin_key)
        .output()
        .expect("qlp check runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    (
        out.status.code().unwrap_or(-1),
        format!("{stdout}\n{stderr}"),
    )
}

/// Validates a SARIF log against the SARIF 2.1.0 schema (the OASIS
/// schema, `tests/data/sarif-2.1.0-rtm.5.json`) with Python's jsonschema.
pub(crate) fn assert_valid_sarif(log: &Path) {
    let schema = support::workspace().join("tests/data/sarif-2.1.0-rtm.5.json");
    let script = "import json, sys, jsonschema\n\
        schema = json.load(open(sys.argv[1]))\n\
        log = json.load(open(sys.argv[2]))\n\
        jsonschema.validators.validator_for(schema)(schema).validate(log)\n";
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(&schema)
        .arg(log)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "the SARIF log does not validate: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn results(log: &Value) -> Vec<(String, String, String, u64)> {
    let mut found = vec![];
    for run in log["runs"].as_array().unwrap() {
        let tool = run["tool"]["driver"]["name"].as_str().unwrap().to_owned();
        for r in run["results"].as_array().unwrap() {
            let location = &r["locations"][0]["physicalLocation"];
            found.push((
                tool.clone(),
                r["ruleId"].as_str().unwrap().to_owned(),
                location["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned(),
                location["region"]["startLine"].as_u64().unwrap_or(0),
            ));
        }
    }
    found
}

#[tokio::test]
async fn qlp_check_fails_a_leaky_project_passes_a_tidy_one_and_writes_valid_sarif() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_default(data.path());
    let fixtures = support::workspace().join("tests/data/checks");
    let out = tempfile::tempdir().unwrap();

    let sarif = out.path().join("leaky.sarif");
    let (code, output) = qlp_check(&server, &fixtures.join("leaky"), "standard", &sarif);
    assert_eq!(code, 3, "a failed gate exits 3:\n{output}");
    assert!(output.contains("secrets/aws-access-key-id"), "{output}");
    assert!(output.contains("gate failed"), "{output}");
    assert_valid_sarif(&sarif);
    let log: Value = serde_json::from_slice(&std::fs::read(&sarif).unwrap()).unwrap();
    let found = results(&log);
    assert!(
        found.contains(&(
            "qlp/secrets".into(),
            "secrets/aws-access-key-id".into(),
            "app/settings.py".into(),
            3
        )),
        "{found:?}"
    );
    assert!(
        found.contains(&(
            "qlp/security".into(),
            "security/sql-injection".into(),
            "app/db.py".into(),
            9
        )),
        "{found:?}"
    );
    let sql = log["runs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["results"].as_array().unwrap())
        .find(|r| r["ruleId"] == "security/sql-injection")
        .unwrap();
    assert_eq!(sql["level"], "error");
    assert!(
        sql["locations"][0]["physicalLocation"]["region"]["snippet"]["text"]
            .as_str()
            .unwrap()
            .contains("cursor.execute(f\"SELECT"),
        "{sql}"
    );

    let sarif = out.path().join("tidy.sarif");
    let (code, output) = qlp_check(&server, &fixtures.join("tidy"), "standard", &sarif);
    assert_eq!(code, 0, "a passed gate exits 0:\n{output}");
    assert!(output.contains("gate passed"), "{output}");
    assert_valid_sarif(&sarif);
    server.stop();
}

fn tar_gz(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(vec![], flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    for (path, content) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        let name = header.as_old_mut().name.as_mut();
        name[..path.len()].copy_from_slice(path.as_bytes());
        header.set_cksum();
        tar.append(&header, *content).unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap()
}

async fn post_check(
    http: &reqwest::Client,
    server: &Server,
    query: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    let response = http
        .post(server.endpoint(&format!("/v1/checks?{query}")))
        .body(body)
        .send()
        .await
        .expect("POST /v1/checks");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_check_runs_no_agent_exporter_or_delivery_and_stays_in_its_tenant() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_default(data.path());
    let archive = tar_gz(&[
        (
            "service/main.py",
            b"\"\"\"Entry point.\"\"\"\n\nprint('ok')\n",
        ),
        ("node_modules/dep/index.js", b"eval(process.argv[2])\n"),
    ]);
    let (status, body) = post_check(&server.http, &server, "tier=starter&name=svc", archive).await;
    assert_eq!(status, 202, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    let intent = server.wait(&id).await;
    assert_eq!(intent["kind"], "check", "{intent}");
    assert_eq!(intent["status"], "completed", "{intent}");
    assert_eq!(intent["description"], "Check of svc");
    for absent in ["plan", "generate", "export", "deliver"] {
        assert!(
            stages(&intent, absent).is_empty(),
            "no `{absent}` stage: {intent}"
        );
    }
    assert_eq!(stages(&intent, "gate").len(), 1);
    let capsule = server.get_json(&format!("/v1/capsules/{id}")).await;
    assert_eq!(capsule["artifacts"], serde_json::json!([]));
    // The upload's own files, skipped directories left out, authored by
    // the upload.
    let files = capsule["manifest"]["files"].as_array().unwrap();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0]["path"], "service/main.py");
    assert_eq!(files[0]["author"], "upload");
    assert_eq!(
        server
            .get_bytes(&format!("/v1/capsules/{id}/files/service/main.py"))
            .await,
        b"\"\"\"Entry point.\"\"\"\n\nprint('ok')\n"
    );

    // Another tenant sees neither the check nor its SARIF.
    server.create_tenant("other").await;
    let (_, other) = server.create_key("other", &["submitter", "auditor"]).await;
    for path in [
        format!("/v1/intents/{id}"),
        format!("/v1/capsules/{id}/sarif"),
    ] {
        let (status, _) = server.get_as(&other, &path).await;
        assert_eq!(status, 404, "{path}");
    }
    // Anonymous uploads are refused before the body is read.
    let (status, _) = post_check(
        &reqwest::Client::new(),
        &server,
        "",
        tar_gz(&[("a.py", b"1")]),
    )
    .await;
    assert_eq!(status, 401);
    server.stop();
}

#[tokio::test]
async fn bad_uploads_are_refused_with_their_codes_and_nothing_is_stored() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_default(data.path());
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "tier=starter",
            b"not an archive".to_vec(),
            415,
            "UNSUPPORTED_ARCHIVE",
        ),
        (
            "tier=starter",
            tar_gz(&[
                ("ok.py", b"1"),
                ("../../etc/cron.d/x", b"* * * * * root sh"),
            ]),
            422,
            "UNSAFE_PATH",
        ),
        (
            "tier=starter",
            tar_gz(&[(".git/HEAD", b"ref")]),
            422,
            "EMPTY_ARCHIVE",
        ),
        ("tier=nope", tar_gz(&[("a.py", b"1")]), 422, "UNKNOWN_TIER"),
        (
            "tier=starter&name=a%0Ab",
            tar_gz(&[("a.py", b"1")]),
            422,
            "INVALID_NAME",
        ),
        ("tier=starter&color=red", tar_gz(&[("a.py", b"1")]), 400, ""),
    ];
    for (query, body, status, code) in cases {
        let (got, answer) = post_check(&server.http, &server, query, body).await;
        assert_eq!(got, status, "{query}: {answer}");
        if !code.is_empty() {
            assert_eq!(answer["code"], code, "{query}: {answer}");
        }
    }
    // Over the size limit: 413 from the declared length, before the body
    // is read (the client sends a little of it and stops).
    {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let address = server.url.trim_start_matches("http://");
        let mut socket = tokio::net::TcpStream::connect(address).await.unwrap();
        let head = format!(
            "POST /v1/checks?tier=starter HTTP/1.1\r\nHost: {address}\r\n\
             Authorization: Bearer {}\r\nContent-Length: {}\r\n\r\n",
            server.admin_key,
            qlp_server::upload::MAX_ARCHIVE_BYTES + 1
        );
        socket.write_all(head.as_bytes()).await.unwrap();
        socket.write_all(&[0u8; 1024]).await.unwrap();
        socket.shutdown().await.unwrap();
        let mut answer = String::new();
        socket.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        assert!(answer.contains("PAYLOAD_TOO_LARGE"), "{answer}");
    }
    let listed = server.get_json("/v1/intents").await;
    assert_eq!(listed["intents"], serde_json::json!([]), "{listed}");
    server.stop();
}

#[tokio::test]
async fn a_check_replayed_under_its_idempotency_key_is_one_check() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_default(data.path());
    let archive = tar_gz(&[("lib.py", b"\"\"\"Nothing.\"\"\"\n")]);
    let post = |body: Vec<u8>| {
        server
            .http
            .post(server.endpoint("/v1/checks?tier=starter"))
            .header("idempotency-key", "ci-run-42")
            .body(body)
            .send()
    };
    let first = post(archive.clone()).await.unwrap();
    assert_eq!(first.status(), 202);
    let first: Value = first.json().await.unwrap();
    let again = post(archive).await.unwrap();
    assert_eq!(again.status(), 202);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(first["id"], again["id"]);
    let other = post(tar_gz(&[("lib.py", b"x = 2\n")])).await.unwrap();
    assert_eq!(other.status(), 422);
    let other: Value = other.json().await.unwrap();
    assert_eq!(other["code"], "IDEMPOTENCY_KEY_REUSED");
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_baseline_file_accepts_findings_with_a_reason_and_the_report_counts_them() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_default(data.path());
    let project = tempfile::tempdir().unwrap();
    let leaky = support::workspace().join("tests/data/checks/leaky");
    for entry in walk(&leaky) {
        let to = project.path().join(entry.strip_prefix(&leaky).unwrap());
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&entry, &to).unwrap();
    }
    std::fs::write(
        project.path().join(".qlp-ignore"),
        "# accepted findings\n\
         app/settings.py:3  secrets/aws-access-key-id  AWS's documented example key\n\
         app/               sql-injection              reviewed: the id is validated upstream\n\
         app/db.py          security/weak-hash\n",
    )
    .unwrap();
    let sarif = project.path().join("out.sarif");
    let (_, output) = qlp_check(&server, project.path(), "standard", &sarif);
    assert!(
        output.contains("suppressed (secrets/aws-access-key-id 1)"),
        "{output}"
    );
    assert!(
        output.contains("suppressed (security/sql-injection 1)"),
        "{output}"
    );
    let log: Value = serde_json::from_slice(&std::fs::read(&sarif).unwrap()).unwrap();
    let found = results(&log);
    assert!(
        !found
            .iter()
            .any(|(_, rule, _, _)| rule == "secrets/aws-access-key-id"
                || rule == "security/sql-injection"),
        "{found:?}"
    );
    server.stop();
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = vec![];
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
