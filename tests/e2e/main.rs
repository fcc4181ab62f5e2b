//! End-to-end tests: the real `qlp` binary, real components, real HTTP.

mod bundle;
mod checks;
mod contract;
mod delivery;
mod jobs;
mod llm;
mod oci;
mod openapi;
mod operate;
mod paths;
mod postgres;
mod protection;
mod publish;
mod registry;
mod reliability;
mod replicas;
mod sandbox;
mod stacks;
mod support;
mod tenancy;
mod traces;
mod validation;

use std::collections::BTreeMap;
use std::io::Read;
use std::process::Command;

use serde_json::{Value, json};
use support::{Server, stage};

const INVOICES: &str = "Create a FastAPI service for invoices with JWT auth and PostgreSQL";

/// Reads every entry of a zip archive.
fn unzip(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip archive");
    let mut entries = BTreeMap::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).expect("zip entry");
        if entry.is_dir() {
            continue;
        }
        let mut content = vec![];
        entry.read_to_end(&mut content).expect("zip entry content");
        entries.insert(entry.name().to_owned(), content);
    }
    entries
}

/// The manifest of a capsule's zip and its other files, after checking
/// that the manifest lists exactly them, each with its size and blake3.
fn files_checked_against_manifest(zip: &[u8]) -> (Value, BTreeMap<String, Vec<u8>>) {
    let mut entries = unzip(zip);
    let manifest: Value = serde_json::from_slice(
        &entries
            .remove(".qlcapsule-manifest.json")
            .expect("the zip holds the manifest"),
    )
    .expect("manifest is JSON");
    let listed = manifest["files"].as_array().expect("manifest files");
    assert_eq!(
        listed.len(),
        entries.len(),
        "manifest and zip list different files"
    );
    for file in listed {
        let path = file["path"].as_str().unwrap();
        let content = entries
            .get(path)
            .unwrap_or_else(|| panic!("{path} is in the manifest, not in the zip"));
        assert_eq!(
            file["size"].as_u64().unwrap(),
            content.len() as u64,
            "{path}"
        );
        assert_eq!(
            file["blake3"].as_str().unwrap(),
            blake3::hash(content).to_hex().as_str(),
            "{path}"
        );
    }
    (manifest, entries)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_capsule_directory_is_not_a_file_and_the_data_directory_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_default(data.path());
    let id = server
        .submit(json!({ "description": INVOICES, "tier": "starter" }))
        .await;
    assert_eq!(server.wait(&id).await["status"], "completed");
    for dir in ["app", "app/routes"] {
        let response = server.get(&format!("/v1/capsules/{id}/files/{dir}")).await;
        assert_eq!(response.status(), 404, "{dir}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "FILE_NOT_FOUND", "{dir}: {body}");
    }
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(data.path()), 0o700);
    assert_eq!(mode(&data.path().join("qlp.db")), 0o600);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_intent_becomes_a_capsule_whose_files_match_the_manifest_and_whose_tests_pass() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_default(data.path());

    let health = server.get_json("/healthz").await;
    assert_eq!(health["status"], "ok", "{health}");

    let id = server
        .submit(json!({ "description": INVOICES, "tier": "standard" }))
        .await;
    let intent = server.wait(&id).await;
    assert_eq!(intent["status"], "completed", "{intent:#}");
    for name in [
        "plan", "generate", "analyze", "validate", "gate", "export", "deliver",
    ] {
        let s = stage(&intent, name);
        assert_eq!(s["status"], "succeeded", "{s:#}");
        assert!(
            s["started_at"].is_string() && s["finished_at"].is_string(),
            "{s:#}"
        );
    }

    // The analyzer measured the generated Python with a parser.
    let capsule = server.get_json(&format!("/v1/capsules/{id}")).await;
    assert_eq!(
        capsule["gate_passed"], true,
        "{:#}",
        capsule["gate_reasons"]
    );
    let analyses = capsule["analyses"].as_array().expect("analyses");
    let main = analyses
        .iter()
        .find(|a| a["path"] == "app/main.py")
        .expect("app/main.py analysed");
    assert_eq!(main["language"], "python");
    assert!(main["lines_of_code"].as_u64().unwrap() > 0, "{main:#}");
    assert!(!main["imports"].as_array().unwrap().is_empty(), "{main:#}");

    // Every file of the zip is in the manifest with its blake3 and size, and
    // every file of the manifest is in the zip.
    let zip = server
        .get_bytes(&format!("/v1/capsules/{id}/download"))
        .await;
    let (manifest, entries) = files_checked_against_manifest(&zip);
    // The resource named in the intent shaped the project.
    assert!(
        entries.contains_key("app/routes/invoices.py"),
        "{:?}",
        entries.keys()
    );
    // The same bytes are served file by file.
    let routes = server
        .get_bytes(&format!("/v1/capsules/{id}/files/app/routes/invoices.py"))
        .await;
    assert_eq!(&routes, &entries["app/routes/invoices.py"]);

    // The manifest names every plugin that ran, with the digest the server
    // loaded.
    let loaded = server.get_json("/v1/plugins").await;
    let digest_of = |name: &str| {
        loaded["plugins"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| p["digest"].clone())
    };
    let ran: Vec<&str> = manifest["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for name in [
        "qlp/template-fastapi",
        "qlp/python",
        "qlp/secrets",
        "qlp/zip",
    ] {
        assert!(
            ran.contains(&name),
            "{name} missing from the manifest's plugins: {ran:?}"
        );
    }
    for p in manifest["plugins"].as_array().unwrap() {
        assert_eq!(
            Some(p["digest"].clone()),
            digest_of(p["name"].as_str().unwrap()),
            "{p}"
        );
        assert!(p["version"].is_string(), "{p}");
    }

    // The delivery adapter wrote the same artifact into its granted directory.
    let location = capsule["receipt"]["location"]
        .as_str()
        .expect("a delivery receipt");
    let delivered = std::fs::read(data.path().join("deliveries").join(location))
        .expect("the delivered artifact");
    assert_eq!(delivered, zip);

    // The generated project's own tests pass.
    let project = tempfile::tempdir().unwrap();
    for (path, content) in &entries {
        let dest = project.path().join(path);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::write(dest, content).unwrap();
    }
    let pytest = Command::new("python3")
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .current_dir(project.path())
        .output()
        .expect("python3 runs (deploy/setup.sh installs it with pytest, fastapi and httpx)");
    assert!(
        pytest.status.success(),
        "the generated project's tests failed:\n{}\n{}",
        String::from_utf8_lossy(&pytest.stdout),
        String::from_utf8_lossy(&pytest.stderr)
    );
    assert!(String::from_utf8_lossy(&pytest.stdout).contains("passed"));
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_planted_private_key_is_found_with_file_and_line_and_fails_the_gate() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_with_fixtures(data.path());

    let id = server
        .submit(json!({ "description": INVOICES, "tier": "leaky" }))
        .await;
    let intent = server.wait(&id).await;
    assert_eq!(intent["status"], "gate_failed", "{intent:#}");
    assert_eq!(stage(&intent, "gate")["detail"]["passed"], false);
    assert!(
        intent["stages"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["stage"] != "deliver" || s["status"] == "skipped"),
        "a capsule that failed its gate was delivered: {intent:#}"
    );
    assert!(
        !data.path().join("deliveries").join(&id).exists(),
        "a capsule that failed its gate was delivered"
    );

    let capsule = server.get_json(&format!("/v1/capsules/{id}")).await;
    assert_eq!(capsule["gate_passed"], false);
    let findings: Vec<&Value> = capsule["validations"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|v| v["report"]["findings"].as_array().unwrap())
        .filter(|f| f["rule_id"] == "secrets/private-key")
        .collect();
    assert_eq!(findings.len(), 1, "{:#}", capsule["validations"]);
    assert_eq!(findings[0]["path"], "app/deploy_key.py");
    assert_eq!(findings[0]["line"], 4);
    assert_eq!(findings[0]["severity"], "critical");

    let reasons: Vec<&str> = capsule["gate_reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("secrets/private-key") && r.contains("app/deploy_key.py:4")),
        "the gate's reasons do not name the finding: {reasons:?}"
    );
    // The planted file is in the capsule, and so in the manifest.
    let planted = server
        .get_bytes(&format!("/v1/capsules/{id}/files/app/deploy_key.py"))
        .await;
    assert!(String::from_utf8_lossy(&planted).contains("PRIVATE KEY"));
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restart_keeps_every_intent_and_capsule() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_with_fixtures(data.path());
    let passed = server.submit(json!({ "description": INVOICES })).await;
    let failed = server
        .submit(json!({ "description": "A FastAPI service for orders", "tier": "leaky" }))
        .await;
    server.wait(&passed).await;
    server.wait(&failed).await;

    let before_list = server.get_json("/v1/intents").await;
    let mut before = vec![];
    for id in [&passed, &failed] {
        before.push((
            server.get_json(&format!("/v1/intents/{id}")).await,
            server.get_json(&format!("/v1/capsules/{id}")).await,
            server
                .get_bytes(&format!("/v1/capsules/{id}/download"))
                .await,
        ));
    }
    server.stop();

    let server = Server::start_with_fixtures(data.path());
    assert_eq!(server.get_json("/v1/intents").await, before_list);
    for (id, (intent, capsule, zip)) in [&passed, &failed].into_iter().zip(before) {
        assert_eq!(server.get_json(&format!("/v1/intents/{id}")).await, intent);
        assert_eq!(
            server.get_json(&format!("/v1/capsules/{id}")).await,
            capsule
        );
        assert_eq!(
            server
                .get_bytes(&format!("/v1/capsules/{id}/download"))
                .await,
            zip
        );
    }
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trapping_or_looping_plugin_fails_its_stage_and_the_server_keeps_serving() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_with_fixtures(data.path());

    let trapped = server
        .submit(json!({ "description": INVOICES, "tier": "trapping" }))
        .await;
    let spun = server
        .submit(json!({ "description": INVOICES, "tier": "spinning" }))
        .await;
    let fine = server.submit(json!({ "description": INVOICES })).await;

    let intent = server.wait(&trapped).await;
    assert_eq!(intent["status"], "failed", "{intent:#}");
    let validate = stage(&intent, "validate");
    assert_eq!(validate["status"], "failed");
    assert_eq!(validate["error"]["code"], "TRAP", "{validate:#}");
    assert_eq!(validate["plugin"], "fixture/trap");
    assert_eq!(intent["error"]["code"], "TRAP");
    assert!(
        intent["error"]["message"]
            .as_str()
            .unwrap()
            .contains("fixture/trap"),
        "{intent:#}"
    );

    let intent = server.wait(&spun).await;
    assert_eq!(intent["status"], "failed", "{intent:#}");
    let validate = stage(&intent, "validate");
    assert_eq!(validate["error"]["code"], "TIMEOUT", "{validate:#}");
    // Interrupted at the validators' deadline (2 s), not long after.
    assert!(
        validate["duration_ms"].as_i64().unwrap() < 10_000,
        "{validate:#}"
    );

    let intent = server.wait(&fine).await;
    assert_eq!(intent["status"], "completed", "{intent:#}");
    // No capsule for a failed intent, with a code saying so.
    let response = server.get(&format!("/v1/capsules/{trapped}")).await;
    assert_eq!(response.status(), 404);
    assert_eq!(
        response.json::<Value>().await.unwrap()["code"],
        "CAPSULE_NOT_FOUND"
    );
    // And the server still takes new work.
    let after = server
        .submit(json!({ "description": "A FastAPI service for customers" }))
        .await;
    assert_eq!(server.wait(&after).await["status"], "completed");
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_requests_get_a_stable_code_and_store_nothing() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_default(data.path());
    let post = |body: String, content_type: &'static str| {
        let request = server
            .http
            .post(server.endpoint("/v1/intents"))
            .header("content-type", content_type)
            .body(body);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let body: Value = response.json().await.expect("errors are JSON");
            assert!(
                body["message"].as_str().is_some_and(|m| !m.is_empty()),
                "{body}"
            );
            (status, body["code"].as_str().unwrap_or_default().to_owned())
        }
    };
    let json = "application/json";
    assert_eq!(
        post(json!({ "description": "" }).to_string(), json).await,
        (422, "EMPTY_DESCRIPTION".into())
    );
    assert_eq!(
        post(json!({ "description": " \n\t" }).to_string(), json).await,
        (422, "EMPTY_DESCRIPTION".into())
    );
    assert_eq!(
        post(
            json!({ "description": INVOICES, "tier": "platinum" }).to_string(),
            json
        )
        .await,
        (422, "UNKNOWN_TIER".into())
    );
    let huge = json!({ "description": "x".repeat(1 << 20) }).to_string();
    assert_eq!(post(huge, json).await, (413, "PAYLOAD_TOO_LARGE".into()));
    assert_eq!(
        post("{\"description\": ".into(), json).await,
        (400, "INVALID_JSON".into())
    );
    assert_eq!(
        post(json!({ "tier": "standard" }).to_string(), json)
            .await
            .1,
        "INVALID_REQUEST"
    );
    assert_eq!(
        post(json!({ "description": INVOICES }).to_string(), "text/plain")
            .await
            .1,
        "UNSUPPORTED_MEDIA_TYPE"
    );

    let listed = server.get_json("/v1/intents").await;
    assert_eq!(
        listed["intents"],
        json!([]),
        "a refused request stored an intent"
    );
    let response = server.get("/v1/intents/no-such-intent").await;
    assert_eq!(response.status(), 404);
    assert_eq!(
        response.json::<Value>().await.unwrap()["code"],
        "INTENT_NOT_FOUND"
    );
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_submits_waits_and_downloads() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_default(data.path());
    let out = data.path().join("capsule.zip");
    let submit = tokio::process::Command::new(env!("CARGO_BIN_EXE_qlp"))
        .args(["submit", INVOICES, "--tier", "starter", "--wait"])
        .arg("--out")
        .arg(&out)
        .env("QLP_SERVER", &server.url)
        // The key the first start kept there, as a newcomer's `qlp` finds it.
        .env("QLP_DATA_DIR", data.path())
        .env_remove("QLP_API_KEY")
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&submit.stderr);
    assert!(submit.status.success(), "qlp submit failed: {stderr}");
    let id = String::from_utf8_lossy(&submit.stdout).trim().to_owned();
    assert_eq!(
        server.get_json(&format!("/v1/intents/{id}")).await["tier"],
        "starter"
    );
    assert!(stderr.contains("gate passed"), "{stderr}");
    // --wait follows the event stream: one line per finished stage, in the
    // order the server recorded them.
    let intent = server.get_json(&format!("/v1/intents/{id}")).await;
    let recorded: Vec<String> = intent["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{} {}",
                s["stage"].as_str().unwrap(),
                s["plugin"].as_str().unwrap_or("-")
            )
        })
        .collect();
    let shown: Vec<String> = stderr
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("ok "))
        .map(|l| l.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(shown, recorded, "{stderr}");
    assert!(recorded.len() >= 6, "{recorded:?}");
    // The tiers the bar is sized from.
    let tiers = server.get_json("/v1/tiers").await;
    let starter = tiers["tiers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "starter")
        .unwrap();
    let stage_names: Vec<&str> = starter["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(stage_names, ["generate", "analyze", "validate"]);
    assert_eq!(tiers["planner"], "qlp/planner");
    let downloaded = std::fs::read(&out).expect("--out wrote the artifact");
    assert_eq!(
        downloaded,
        server
            .get_bytes(&format!("/v1/capsules/{id}/download"))
            .await
    );

    let list = tokio::process::Command::new(env!("CARGO_BIN_EXE_qlp"))
        .args(["plugin", "list", "--server", &server.url])
        .env("QLP_API_KEY", &server.admin_key)
        .output()
        .await
        .unwrap();
    assert!(list.status.success());
    let listing = String::from_utf8_lossy(&list.stdout);
    for name in [
        "qlp/template-fastapi",
        "qlp/python",
        "qlp/secrets",
        "qlp/zip",
        "qlp/filesystem",
    ] {
        assert!(
            listing.contains(name),
            "{name} missing from `qlp plugin list`:\n{listing}"
        );
    }
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idempotency_key_replays_the_first_response_and_refuses_another_body() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_default(data.path());
    let body = json!({ "description": INVOICES, "tier": "starter" });
    let (status, replayed, first) = post_on(&server, "order-42", body.clone()).await;
    assert_eq!((status, replayed), (202, false), "{first}");
    let (status, replayed, again) = post_on(&server, "order-42", body.clone()).await;
    assert_eq!((status, replayed), (202, true), "{again}");
    assert_eq!(again, first, "a retry got another response");

    let (status, _, other) = post_on(
        &server,
        "order-42",
        json!({ "description": "Something else" }),
    )
    .await;
    assert_eq!(status, 422, "{other}");
    assert_eq!(other["code"], "IDEMPOTENCY_KEY_REUSED");
    let (status, _, bad) = post_on(&server, "", body.clone()).await;
    assert_eq!(
        (status, bad["code"].as_str()),
        (400, Some("INVALID_IDEMPOTENCY_KEY"))
    );

    let id = first["id"].as_str().unwrap();
    server.wait(id).await;
    assert_eq!(
        server.get_json("/v1/intents").await["intents"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "a retry ran twice"
    );
    server.stop();

    // The key outlives a restart.
    let server = Server::start_default(data.path());
    let (status, replayed, after) = post_on(&server, "order-42", body).await;
    assert_eq!((status, replayed), (202, true));
    assert_eq!(after["id"], first["id"]);
    server.stop();
}

async fn post_on(server: &Server, key: &str, body: Value) -> (u16, bool, Value) {
    let response = server
        .http
        .post(server.endpoint("/v1/intents"))
        .header("Idempotency-Key", key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let replayed = response.headers().get("idempotent-replayed").is_some();
    (status, replayed, response.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_tar_gz_artifact_extracts_with_the_system_tar_to_the_manifests_files() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_with_fixtures(data.path());
    let id = server
        .submit(json!({ "description": INVOICES, "tier": "archives" }))
        .await;
    let intent = server.wait(&id).await;
    assert_eq!(intent["status"], "completed", "{intent:#}");
    let capsule = server.get_json(&format!("/v1/capsules/{id}")).await;
    let listed = capsule["artifacts"].as_array().unwrap();
    let tgz = listed
        .iter()
        .find(|a| a["file_name"].as_str().unwrap().ends_with(".tar.gz"))
        .unwrap_or_else(|| panic!("no tar.gz among {listed:#?}"));
    assert_eq!(tgz["media_type"], "application/gzip");
    let name = tgz["file_name"].as_str().unwrap();
    let bytes = server
        .get_bytes(&format!("/v1/capsules/{id}/artifacts/{name}"))
        .await;
    assert_eq!(tgz["blake3"], blake3::hash(&bytes).to_hex().as_str());

    let zip = server
        .get_bytes(&format!("/v1/capsules/{id}/download"))
        .await;
    let (_, files) = files_checked_against_manifest(&zip);
    let out = tempfile::tempdir().unwrap();
    let archive = out.path().join(name);
    std::fs::write(&archive, &bytes).unwrap();
    let extracted = out.path().join("x");
    std::fs::create_dir(&extracted).unwrap();
    let tar = Command::new("tar")
        .arg("-xzf")
        .arg(&archive)
        .arg("-C")
        .arg(&extracted)
        .output()
        .unwrap();
    assert!(
        tar.status.success(),
        "{}",
        String::from_utf8_lossy(&tar.stderr)
    );
    for (path, content) in &files {
        let got = std::fs::read(extracted.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(&got, content, "{path}");
    }
    let manifest = extracted.join(".qlcapsule-manifest.json");
    assert!(manifest.is_file(), "the tar.gz holds the manifest");

    // The deployment packages come alongside, each with its media type.
    let media = |suffix: &str| {
        listed
            .iter()
            .find(|a| a["file_name"].as_str().unwrap().ends_with(suffix))
            .unwrap_or_else(|| panic!("no {suffix} among {listed:#?}"))["media_type"]
            .clone()
    };
    assert_eq!(media("-k8s.tar.gz"), "application/gzip");
    let chart = listed
        .iter()
        .find(|a| a["exporter"] == "qlp/helm")
        .unwrap_or_else(|| panic!("no chart among {listed:#?}"));
    assert_eq!(
        chart["media_type"],
        "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
    );
    let name = chart["file_name"].as_str().unwrap();
    let bytes = server
        .get_bytes(&format!("/v1/capsules/{id}/artifacts/{name}"))
        .await;
    std::fs::write(out.path().join(name), &bytes).unwrap();
    let listing = Command::new("tar")
        .arg("-tzf")
        .arg(out.path().join(name))
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout);
    assert!(
        listing.lines().any(|l| l.ends_with("/Chart.yaml"))
            && listing
                .lines()
                .any(|l| l.ends_with("/templates/deployment.yaml")),
        "{listing}"
    );
    server.stop();
}
