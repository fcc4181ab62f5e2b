//! Nothing unsigned, untrusted or tampered with runs: at import and again
//! at every load.

use std::path::Path;

use crate::support::{Server, eventually, fixtures, log_line, plugins, qlp_ok};

/// The first-party components with their signatures, copied into `dir`.
fn signed_first_party(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for entry in std::fs::read_dir(plugins()).unwrap().flatten() {
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
}

async fn loaded(server: &Server) -> Vec<String> {
    let listed = server.get_json("/v1/plugins").await;
    listed["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn unsigned_untrusted_and_mismatched_plugins_are_refused_at_import() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("components");
    signed_first_party(&dir);

    // Unsigned: the component alone.
    std::fs::copy(
        fixtures().join("qlp_fixture_noop.wasm"),
        dir.join("noop.wasm"),
    )
    .unwrap();
    // Signed, but by a key the policy does not know.
    let stranger = tmp.path().join("stranger.key");
    qlp_ok(&["key", "generate", stranger.to_str().unwrap()]);
    let trap = dir.join("trap.wasm");
    std::fs::copy(fixtures().join("qlp_fixture_trap.wasm"), &trap).unwrap();
    qlp_ok(&[
        "plugin",
        "sign",
        trap.to_str().unwrap(),
        "--key",
        stranger.to_str().unwrap(),
    ]);
    // Signed by the trusted key, but the manifest was edited afterwards.
    let spin = dir.join("spin.wasm");
    std::fs::copy(fixtures().join("qlp_fixture_spin.wasm"), &spin).unwrap();
    let manifest =
        std::fs::read_to_string(fixtures().join("qlp_fixture_spin.manifest.json")).unwrap();
    std::fs::write(
        dir.join("spin.manifest.json"),
        manifest.replace("Never returns", "Returns at once"),
    )
    .unwrap();
    std::fs::copy(
        fixtures().join("qlp_fixture_spin.sig.json"),
        dir.join("spin.sig.json"),
    )
    .unwrap();
    // Signed, but the component is not the one the manifest describes.
    let slow = dir.join("slow.wasm");
    std::fs::copy(fixtures().join("qlp_fixture_log_flood.wasm"), &slow).unwrap();
    std::fs::copy(
        fixtures().join("qlp_fixture_slow.manifest.json"),
        dir.join("slow.manifest.json"),
    )
    .unwrap();
    std::fs::copy(
        fixtures().join("qlp_fixture_slow.sig.json"),
        dir.join("slow.sig.json"),
    )
    .unwrap();

    let data = tmp.path().join("data");
    let server = Server::start(&data, &["--plugin-dir", dir.to_str().unwrap()]);
    assert_eq!(loaded(&server).await, crate::support::first_party_names());
    server.stop();

    let log = std::fs::read_to_string(data.join("server.log")).unwrap();
    let refusal = |file: &str| {
        log.lines()
            .find(|l| l.contains(file) && l.contains("plugin not imported"))
            .unwrap_or_else(|| panic!("no refusal logged for {file}:\n{log}"))
            .to_owned()
    };
    assert!(
        refusal("noop.wasm").contains("no signature"),
        "{}",
        refusal("noop.wasm")
    );
    assert!(
        refusal("trap.wasm").contains("key"),
        "{}",
        refusal("trap.wasm")
    );
    assert!(
        refusal("spin.wasm").contains("description") || refusal("spin.wasm").contains("signature"),
        "{}",
        refusal("spin.wasm")
    );
    assert!(
        refusal("slow.wasm").contains("manifest"),
        "{}",
        refusal("slow.wasm")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_component_changed_in_the_registry_is_refused_at_the_next_load() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("components");
    signed_first_party(&dir);
    for name in [
        "qlp_fixture_noop.wasm",
        "qlp_fixture_noop.manifest.json",
        "qlp_fixture_noop.sig.json",
    ] {
        std::fs::copy(fixtures().join(name), dir.join(name)).unwrap();
    }
    let data = tmp.path().join("data");
    let server = Server::start(&data, &["--plugin-dir", dir.to_str().unwrap()]);
    assert!(loaded(&server).await.contains(&"fixture/noop".to_owned()));
    server.stop();

    // Flip one byte of the stored component.
    let bytes = std::fs::read(fixtures().join("qlp_fixture_noop.wasm")).unwrap();
    let blob = data
        .join("registry/blobs")
        .join(blake3::hash(&bytes).to_hex().as_str());
    let mut stored = std::fs::read(&blob).expect("the component is stored under its blake3");
    let last = stored.len() - 1;
    stored[last] ^= 0xff;
    std::fs::write(&blob, stored).unwrap();

    let server = Server::start(&data, &[]);
    let names = loaded(&server).await;
    assert!(
        !names.contains(&"fixture/noop".to_owned()),
        "a tampered component was loaded"
    );
    assert!(names.contains(&"qlp/zip".to_owned()));
    server.stop();
    let log = std::fs::read_to_string(data.join("server.log")).unwrap();
    assert!(
        log.lines()
            .any(|l| l.contains("fixture/noop") && l.contains("refused at load")),
        "{log}"
    );
}

/// Copies a fixture's component and signed sidecars into `dir`.
fn copy_fixture(stem: &str, dir: &Path) {
    for suffix in [".wasm", ".manifest.json", ".sig.json"] {
        let name = format!("{stem}{suffix}");
        std::fs::copy(fixtures().join(&name), dir.join(&name)).unwrap();
    }
}

/// The version of `plugin` a completed intent's capsule manifest cites.
async fn version_used(server: &Server, id: &str, plugin: &str) -> String {
    let intent = server.wait(id).await;
    assert_eq!(intent["status"], "completed", "{intent:#}");
    let capsule = server.get_json(&format!("/v1/capsules/{id}")).await;
    capsule["manifest"]["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == plugin)
        .unwrap_or_else(|| panic!("{plugin} not in the manifest: {capsule:#}"))["version"]
        .as_str()
        .unwrap()
        .to_owned()
}

const VERSIONED_TIERS: &str = r#"
[tiers.pinned]
agents = ["qlp/template-fastapi"]
validators = ["fixture/noop@~0.1"]
exporter = "qlp/zip"
gate = { min_score = 0 }

[tiers.latest]
agents = ["qlp/template-fastapi"]
validators = ["fixture/noop@>=0.1"]
exporter = "qlp/zip"
gate = { min_score = 0 }
"#;

#[tokio::test(flavor = "multi_thread")]
async fn tiers_follow_their_version_requirements_and_a_new_version_needs_no_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("components");
    signed_first_party(&dir);
    copy_fixture("qlp_fixture_noop", &dir);
    let tiers = tmp.path().join("tiers.toml");
    std::fs::write(&tiers, VERSIONED_TIERS).unwrap();
    let data = tmp.path().join("data");
    let args = [
        "--plugin-dir",
        dir.to_str().unwrap(),
        "--tiers",
        tiers.to_str().unwrap(),
    ];
    let server = Server::start(&data, &args);
    let id = submit_to(&server, "latest").await;
    assert_eq!(version_used(&server, &id, "fixture/noop").await, "0.1.0");

    // The lock names each tier's version and digest.
    let lock = std::fs::read_to_string(data.join("tiers.lock")).unwrap();
    let v1 = std::fs::read(fixtures().join("qlp_fixture_noop.wasm")).unwrap();
    assert!(
        lock.contains("0.1.0") && lock.contains(blake3::hash(&v1).to_hex().as_str()),
        "{lock}"
    );

    // 0.2.0 arrives: after SIGHUP, no restart, `latest` runs it and
    // `pinned` (~0.1) stays on 0.1.0.
    copy_fixture("qlp_fixture_noop_next", &dir);
    server.signal("HUP");
    let id = eventually(
        "the new version picked up",
        std::time::Duration::from_secs(60),
        std::time::Duration::ZERO,
        || async {
            let id = submit_to(&server, "latest").await;
            (version_used(&server, &id, "fixture/noop").await == "0.2.0").then_some(id)
        },
    )
    .await;
    let capsule = server.get_json(&format!("/v1/capsules/{id}")).await;
    assert_eq!(
        capsule["validations"][0]["report"]["summary"],
        "fixture/noop 0.2.0"
    );
    let id = submit_to(&server, "pinned").await;
    assert_eq!(version_used(&server, &id, "fixture/noop").await, "0.1.0");
    let lock = std::fs::read_to_string(data.join("tiers.lock")).unwrap();
    assert!(lock.contains("0.2.0") && lock.contains("0.1.0"), "{lock}");

    // A requirement nothing published meets is refused on reload, named.
    std::fs::write(&tiers, VERSIONED_TIERS.replace(">=0.1", "^3")).unwrap();
    server.signal("HUP");
    let log = data.join("server.log");
    let line = log_line(
        &log,
        "tiers file refused",
        std::time::Duration::from_secs(60),
    )
    .await;
    assert!(
        line.contains("tier `latest`") && line.contains("fixture/noop") && line.contains("^3"),
        "{line}"
    );
    server.stop();

    // --locked runs the lock's versions, and refuses to start when one
    // is not published.
    std::fs::write(&tiers, VERSIONED_TIERS).unwrap();
    let locked: Vec<&str> = args.iter().copied().chain(["--locked"]).collect();
    let server = Server::start(&data, &locked);
    let id = submit_to(&server, "latest").await;
    assert_eq!(version_used(&server, &id, "fixture/noop").await, "0.2.0");
    server.stop();
    let lock_path = data.join("tiers.lock");
    let lock = std::fs::read_to_string(&lock_path).unwrap();
    std::fs::write(&lock_path, lock.replace("0.2.0", "0.9.0")).unwrap();
    let out = crate::support::qlp_command()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .arg("--trust")
        .arg(crate::support::trust())
        .args(&locked)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "started on a lock naming 0.9.0");
    assert!(
        stderr.contains("fixture/noop") && stderr.contains("0.9.0"),
        "{stderr}"
    );
}

async fn submit_to(server: &Server, tier: &str) -> String {
    server
        .submit(serde_json::json!({ "description": crate::INVOICES, "tier": tier }))
        .await
}
