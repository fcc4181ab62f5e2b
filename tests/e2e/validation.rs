//! What the shipped tiers validate: compliance checks that follow the
//! planner's reading of an intent, and an enterprise's own rule pack.

use std::path::Path;
use std::process::Command;

use serde_json::json;

use crate::support::{self, Server};

fn qlp(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_qlp"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("qlp runs");
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
    let findings = report(&capsule)["findings"].as_array().unwrap().clone();
    assert!(
        findings
            .iter()
            .any(|f| f["message"].as_str().unwrap().contains("PCI DSS")),
        "the planner's `payments` concern selects PCI DSS: {findings:?}"
    );
    server.wait_until(&plain, ended).await;
    let capsule = server.get_json(&format!("/v1/capsules/{plain}")).await;
    let report = report(&capsule);
    assert_eq!(report["findings"], json!([]), "{report}");
    assert_eq!(report["score"], 100);
    server.stop();
}
