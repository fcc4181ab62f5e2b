//! Running QLP as an operator does: the one `qlp` binary, with the
//! first-party plugins built into it, serves intents on a fresh data
//! directory with no plugin directory, trust policy or tiers file.

use std::process::Command;
use std::time::Duration;

use serde_json::json;

use crate::support::{INTENT_TIMEOUT, Loopback, client_with_key};

/// `qlp --version`, which names how many plugins the binary carries.
fn builtin_plugins() -> usize {
    let out = Command::new(env!("CARGO_BIN_EXE_qlp"))
        .arg("--version")
        .output()
        .expect("qlp runs");
    let text = String::from_utf8_lossy(&out.stdout);
    text.split('(')
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("`qlp --version` said `{text}`"))
}

#[tokio::test(flavor = "multi_thread")]
async fn qlp_serve_alone_serves_an_intent_end_to_end_on_a_fresh_data_directory() {
    if builtin_plugins() == 0 {
        let why = "this qlp binary has no built-in plugins: build it with QLP_EMBED_PLUGINS \
                   (deploy/dev.sh test and deploy/dev.sh release do)";
        assert!(std::env::var_os("CI").is_none(), "{why}");
        eprintln!("SKIPPED: {why}");
        return;
    }
    let cwd = tempfile::tempdir().unwrap();
    // Nothing but a free port: the data directory is ./.qlp, the tiers are
    // the shipped ones, the plugins and their trust come from the binary.
    // Only the compiled components are shared with the other tests, which
    // compiled them already (a debug build takes seconds for each).
    let cache = crate::support::target_dir().join("qlp-test-cache");
    let server = Loopback::start_in(
        env!("CARGO_BIN_EXE_qlp"),
        &["serve", "--listen", "127.0.0.1:0"],
        Some(cwd.path()),
        &[("QLP_CACHE_DIR", cache.to_str().unwrap())],
    );
    let data = cwd.path().join(".qlp");
    let key = std::fs::read_to_string(data.join("admin.key")).expect("the first start's admin key");
    let http = client_with_key(key.trim());
    let submitted: serde_json::Value = http
        .post(format!("{}/v1/intents", server.url))
        .json(&json!({ "description": "Create a FastAPI service for parcels with JWT auth" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = submitted["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{submitted}"));
    let started = std::time::Instant::now();
    let intent = loop {
        let intent: serde_json::Value = http
            .get(format!("{}/v1/intents/{id}", server.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let status = intent["status"].as_str().unwrap_or_default().to_owned();
        if !["queued", "running"].contains(&status.as_str()) {
            break intent;
        }
        assert!(started.elapsed() < INTENT_TIMEOUT, "{intent:#}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(intent["status"], "completed", "{intent:#}");
    // Delivered where the shipped tiers deliver: DATA_DIR/deliveries.
    let delivered = data.join("deliveries").join(id);
    let names: Vec<String> = std::fs::read_dir(&delivered)
        .unwrap_or_else(|e| panic!("{}: {e}", delivered.display()))
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().any(|n| n.ends_with(".zip")), "{names:?}");
    // The shipped tiers' plugins came from the binary, trusted by digest.
    let plugins: serde_json::Value = http
        .get(format!("{}/v1/plugins", server.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = plugins["plugins"]
        .as_array()
        .expect("plugins")
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for shipped in [
        "qlp/planner",
        "qlp/template-fastapi",
        "qlp/secrets",
        "qlp/zip",
        "qlp/filesystem",
    ] {
        assert!(
            names.contains(&shipped),
            "{shipped} is not served: {names:?}"
        );
    }
}
