//! What the shipped tiers validate: compliance checks that follow the
//! planner's reading of an intent, and an enterprise's own rule pack.

use std::path::Path;

use serde_json::json;

use crate::support::{self, Server};

fn qlp(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let out = support::qlp_with(args, env);
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// A tiers file whose tier `custom` runs `qlp/rules` with `pack`.
fn tiers_with_pack(dir: &Path, pack: &Path) -> std::path::PathBuf {
    let path = dir.join("tiers.toml");
    std::fs::write(
        &path,
        format!(
            "[tiers.custom]\n\
             agents = [\"qlp/template-fastapi\"]\n\
             analyzers = [\"qlp/python\"]\n\
             validators = [\"qlp/secrets\", \"qlp/rules\"]\n\
             exporter = \"qlp/zip\"\n\
             gate = {{ min_score = 50, max_critical = 0, max_findings = {{ high = 0 }} }}\n\
             [plugins.\"qlp/rules\"]\n\
             config_files = {{ pack = \"{}\" }}\n",
            pack.display()
        ),
    )
    .unwrap();
    path
}

#[tokio::test]
async fn the_readme_rule_pack_is_tested_loaded_and_fails_a_check_with_its_own_rule_ids() {
    let root = support::workspace();
    let pack = root.join("tests/data/rules/acme.yaml");
    let text = std::fs::read_to_string(&pack).unwrap();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    assert!(
        readme.contains(&format!("```yaml\n{text}```")),
        "the README shows tests/data/rules/acme.yaml as it is"
    );
    let (code, output) = qlp(
        &[
            "rules",
            "test",
            root.join("tests/data/rules").to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("rules: 3 passed, 0 failed"), "{output}");

    let data = tempfile::tempdir().unwrap();
    let tiers = tiers_with_pack(data.path(), &pack);
    let server = Server::start_default_with(data.path(), &["--tiers", tiers.to_str().unwrap()]);
    let (code, output) = qlp(
        &[
            "check",
            root.join("tests/data/checks/acme-service")
                .to_str()
                .unwrap(),
            "--tier",
            "custom",
        ],
        &[
            ("QLP_SERVER", &server.url),
            ("QLP_API_KEY", &server.admin_key),
        ],
    );
    assert_eq!(
        code, 3,
        "the enterprise's high finding fails the gate:\n{output}"
    );
    assert!(
        output.contains("high     acme/go-sql-sprintf store/orders.go:12"),
        "{output}"
    );
    assert!(
        output.contains("medium   acme/no-print-in-services services/ship.py:6"),
        "{output}"
    );
    assert!(output.contains("Fix: logger.info(...)"), "{output}");
    server.stop();
}

#[test]
fn a_broken_rule_is_refused_when_the_pack_is_checked_or_loaded_naming_the_rule() {
    let dir = tempfile::tempdir().unwrap();
    let pack = dir.path().join("broken.yaml");
    std::fs::write(
        &pack,
        "rules:\n  - id: acme/ok\n    message: m\n    severity: low\n    languages: [generic]\n    pattern-regex: 'a+'\n  \
         - id: acme/unclosed\n    message: m\n    severity: high\n    languages: [python]\n    pattern-regex: '(unclosed'\n",
    )
    .unwrap();
    let (code, output) = qlp(&["rules", "check", pack.to_str().unwrap()], &[]);
    assert_eq!(code, 1, "{output}");
    assert!(output.contains("acme/unclosed"), "{output}");

    // A server given the pack refuses to start, naming the rule.
    let tiers = tiers_with_pack(dir.path(), &pack);
    let plugins = support::plugins();
    let (code, output) = qlp(
        &[
            "serve",
            "--data-dir",
            dir.path().join("data").to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--plugin-dir",
            plugins.to_str().unwrap(),
            "--tiers",
            tiers.to_str().unwrap(),
        ],
        &[],
    );
    assert_ne!(code, 0, "{output}");
    assert!(
        output.contains("rule pack") && output.contains("acme/unclosed"),
        "{output}"
    );
}

#[tokio::test]
async fn a_payments_intent_gets_pci_dss_checks_on_mission_critical_and_a_plain_one_none() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_default(data.path());
    let payments = server
        .submit(json!({
            "description": "Create a Go service for card payments: each payment has a card number, an amount and a merchant",
            "tier": "mission-critical",
        }))
        .await;
    let plain = server
        .submit(json!({
            "description": "Create a Go service for a warehouse inventory of parts",
            "tier": "mission-critical",
        }))
        .await;
    let report = |capsule: &serde_json::Value| {
        capsule["validations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["validator"] == "qlp/compliance")
            .expect("the tier runs qlp/compliance")["report"]
            .clone()
    };
    // Mission-critical holds a passed capsule for approval.
    let ended = |intent: &serde_json::Value| {
        matches!(
            intent["status"].as_str(),
            Some("awaiting_approval" | "completed" | "gate_failed" | "failed")
        )
    };
    server.wait_until(&payments, ended).await;
    let capsule = server.get_json(&format!("/v1/capsules/{payments}")).await;
    let payments_report = report(&capsule);
    assert!(
        payments_report["summary"]
            .as_str()
            .unwrap()
            .contains("frameworks: PCI DSS (intent: payments)"),
        "the planner's `payments` concern selects PCI DSS: {payments_report:#}"
    );
    server.wait_until(&plain, ended).await;
    let capsule = server.get_json(&format!("/v1/capsules/{plain}")).await;
    let report = report(&capsule);
    assert_eq!(report["findings"], json!([]), "{report}");
    assert_eq!(report["score"], 100);
    server.stop();
}

/// `qlp` with `args`, expected to succeed; its stdout.
fn qlp_ok(args: &[&str], env: &[(&str, &str)]) -> String {
    let (code, output) = qlp(args, env);
    assert_eq!(code, 0, "qlp {args:?}: {output}");
    output
}

/// A tiers file: `custom` runs `qlp/rules` with no pack of its own;
/// `packed`, written only when `packed` is true, runs the registry's
/// `acme/rules` too.
fn tiers_for_registry_packs(path: &Path, packed: bool) {
    let tier = |name: &str, rules: &str| {
        format!(
            "[tiers.{name}]\n\
             agents = [\"qlp/template-fastapi\"]\n\
             validators = [\"qlp/secrets\", \"qlp/rules\"]\n\
             exporter = \"qlp/zip\"\n\
             gate = {{ min_score = 50, max_critical = 0, max_findings = {{ high = 0 }} }}\n\
             {rules}\n"
        )
    };
    let mut text = tier("custom", "");
    if packed {
        text.push_str(&tier("packed", "rules = [\"acme/rules@^1\"]"));
    }
    std::fs::write(path, text).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_published_rule_pack_fails_its_tenants_checks_and_a_tiers_and_a_broken_one_is_refused() {
    let root = support::workspace();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let path = |p: &Path| p.to_str().unwrap().to_owned();
    // The enterprise's key, trusted for `acme/*` beside the development key.
    let key = dir.join("acme.key");
    qlp_ok(&["key", "generate", &path(&key)], &[]);
    let trust = dir.join("trust.toml");
    std::fs::copy(support::trust(), &trust).unwrap();
    qlp_ok(
        &[
            "key",
            "trust",
            &format!("{}.pub", path(&key)),
            "--namespace",
            "acme/*",
            "--policy",
            &path(&trust),
        ],
        &[],
    );
    let publishers = dir.join("publishers.toml");
    let token = qlp_ok(
        &[
            "publisher",
            "add",
            "acme-security",
            "--namespace",
            "acme/*",
            "--file",
            &path(&publishers),
        ],
        &[],
    );
    let token = token.lines().next().unwrap().trim().to_owned();

    // The README's pack, tested, then signed as a registry package.
    qlp_ok(
        &["rules", "test", &path(&root.join("tests/data/rules"))],
        &[],
    );
    let pack = dir.join("acme.yaml");
    std::fs::copy(root.join("tests/data/rules/acme.yaml"), &pack).unwrap();
    qlp_ok(
        &[
            "rules",
            "sign",
            &path(&pack),
            "--name",
            "acme/rules",
            "--version",
            "1.0.0",
            "--key",
            &path(&key),
        ],
        &[],
    );
    // A broken rule is refused when signing, naming the rule.
    let broken = dir.join("broken.yaml");
    std::fs::write(
        &broken,
        "rules:\n  - id: acme/unclosed\n    message: m\n    severity: high\n    languages: [python]\n    pattern-regex: '(unclosed'\n",
    )
    .unwrap();
    let (code, output) = qlp(
        &[
            "rules",
            "sign",
            &path(&broken),
            "--name",
            "acme/broken",
            "--version",
            "1.0.0",
            "--key",
            &path(&key),
        ],
        &[],
    );
    assert_ne!(code, 0, "{output}");
    assert!(output.contains("acme/unclosed"), "{output}");

    let data = dir.join("data");
    let tiers = dir.join("tiers.toml");
    tiers_for_registry_packs(&tiers, false);
    let server = Server::start_default_with(
        &data,
        &[
            "--tiers",
            &path(&tiers),
            "--trust",
            &path(&trust),
            "--publishers",
            &path(&publishers),
        ],
    );
    let env = [
        ("QLP_SERVER", server.url.as_str()),
        ("QLP_PUBLISH_TOKEN", token.as_str()),
    ];
    qlp_ok(&["plugin", "publish", &path(&pack)], &env);
    let listed = server.get_json("/v1/registry/packages?kind=rules").await;
    assert_eq!(listed["packages"][0]["name"], "acme/rules", "{listed}");

    // A broken pack signed by hand (as a compromised or careless build
    // might) is refused at publish with the rule named, and not stored.
    let text = std::fs::read(&broken).unwrap();
    let secret = qlp_registry::SecretKey::parse(&std::fs::read_to_string(&key).unwrap()).unwrap();
    let manifest = qlp_registry::Manifest::new(
        "acme/broken",
        semver::Version::new(1, 0, 0),
        qlp_registry::Kind::Rules,
        qlp_server::packages::RULES_WIT,
        &text,
    )
    .unwrap();
    let response = server
        .http
        .post(server.endpoint("/v1/registry/packages"))
        .bearer_auth(&token)
        .json(&json!({
            "component": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &text),
            "manifest": serde_json::from_str::<serde_json::Value>(&manifest.to_json_pretty()).unwrap(),
            "signatures": serde_json::from_str::<serde_json::Value>(
                &qlp_registry::Signature::list_to_json(&[secret.sign(&manifest)])
            ).unwrap(),
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], "INVALID_RULES", "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("acme/unclosed"),
        "{body}"
    );
    let listed = server.get_json("/v1/registry/packages?kind=rules").await;
    assert_eq!(listed["packages"].as_array().unwrap().len(), 1, "{listed}");

    // The pack, assigned to tenant acme, fails acme's check with its own
    // rule ids; the default tenant's check of the same project runs none
    // of them. The catalog picks the pack up in the background.
    server.create_tenant("acme").await;
    let (_, submitter) = server.create_key("acme", &["submitter"]).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let response = server
            .http
            .put(server.endpoint("/v1/tenants/acme/policy"))
            .json(&json!({ "rules": ["acme/rules"] }))
            .send()
            .await
            .unwrap();
        if response.status() == 200 {
            break;
        }
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["code"], "UNKNOWN_RULE_PACK", "{body}");
        assert!(
            std::time::Instant::now() < deadline,
            "the pack never loaded"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let project = path(&root.join("tests/data/checks/acme-service"));
    let check = |key: &str, tier: &str| {
        qlp(
            &["check", &project, "--tier", tier],
            &[("QLP_SERVER", &server.url), ("QLP_API_KEY", key)],
        )
    };
    let (code, output) = check(&submitter, "custom");
    assert_eq!(code, 3, "{output}");
    assert!(
        output.contains("high     acme/go-sql-sprintf store/orders.go:12"),
        "{output}"
    );
    let (code, output) = check(&server.admin_key, "custom");
    assert_eq!(code, 0, "{output}");
    assert!(!output.contains("acme/"), "{output}");
    // The capsule's manifest names the pack and its digest.
    let (_, intents) = server.get_as(&submitter, "/v1/intents").await;
    let id = intents["intents"][0]["id"].as_str().unwrap().to_owned();
    let (_, capsule) = server
        .get_as(&submitter, &format!("/v1/capsules/{id}"))
        .await;
    let manifest = std::fs::read(pack.with_extension("manifest.json")).unwrap();
    let digest =
        serde_json::from_slice::<serde_json::Value>(&manifest).unwrap()["digests"]["blake3"]
            .clone();
    assert!(
        capsule["manifest"]["plugins"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "acme/rules" && p["kind"] == "rules" && p["digest"] == digest),
        "{capsule:#}"
    );

    // A tier assigning the pack runs it for every tenant.
    tiers_for_registry_packs(&tiers, true);
    server.signal("HUP");
    support::eventually(
        "the tier `packed` in force after SIGHUP",
        std::time::Duration::from_secs(60),
        std::time::Duration::from_millis(200),
        || async {
            let tiers = server.get_json("/v1/tiers").await;
            let packed = tiers["tiers"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["name"] == "packed");
            packed.then_some(())
        },
    )
    .await;
    let (code, output) = check(&server.admin_key, "packed");
    assert_eq!(code, 3, "{output}");
    assert!(output.contains("acme/no-print-in-services"), "{output}");
    // Both reloads (after the publish, on SIGHUP) are audited.
    let audit = server.get_json("/v1/audit").await;
    let reloads: Vec<(&str, &str)> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "tiers.reload")
        .map(|e| {
            (
                e["target"].as_str().unwrap(),
                e["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        reloads.contains(&("package published", "ok")),
        "{reloads:?}"
    );
    assert!(reloads.contains(&("SIGHUP", "ok")), "{reloads:?}");
    server.stop();
}
