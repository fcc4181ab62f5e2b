//! Generated services protect the sensitive data they keep: a payments
//! intent passes the compliance checks of the strictest shipped tier in
//! its first round, whatever its stack; and when the operator enforces a
//! framework the intent never named, the stack's agent answers the
//! compliance findings in a repair round.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::support::{Server, stages};

/// The compliance report of a capsule.
fn compliance(capsule: &Value) -> Value {
    capsule["validations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["validator"] == "qlp/compliance")
        .expect("the tier runs qlp/compliance")["report"]
        .clone()
}

/// The text of a capsule's file.
async fn file(server: &Server, id: &str, path: &str) -> String {
    let bytes = server
        .get_bytes(&format!("/v1/capsules/{id}/files/{path}"))
        .await;
    String::from_utf8(bytes).unwrap()
}

/// The capsule's paths.
fn paths(capsule: &Value) -> Vec<String> {
    capsule["manifest"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_payments_intent_passes_compliance_on_mission_critical_in_each_service_stack() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_default(data.path());
    let mut submitted = vec![];
    for (language, agent) in [
        ("Go", "qlp/template-go"),
        ("TypeScript Node.js Express", "qlp/template-node"),
        ("Rust axum", "qlp/template-rust"),
        ("Java Spring Boot", "qlp/template-java"),
    ] {
        let id = server
            .submit(json!({
                "description": format!(
                    "A {language} payments API for cards: each card has a cardholder name, \
                     a card number, a cvv and an expiry month"
                ),
                "tier": "mission-critical",
            }))
            .await;
        submitted.push((id, agent));
    }
    // Mission-critical holds a capsule that passed for a person's approval.
    let ended = |intent: &Value| {
        matches!(
            intent["status"].as_str(),
            Some("awaiting_approval" | "completed" | "gate_failed" | "failed")
        )
    };
    for (id, agent) in submitted {
        let intent = server.wait_until(&id, ended).await;
        let capsule = server.get_json(&format!("/v1/capsules/{id}")).await;
        let report = compliance(&capsule);
        assert_eq!(report["findings"], json!([]), "{agent}: {report:#}");
        assert!(
            report["summary"]
                .as_str()
                .unwrap()
                .contains("PCI DSS (intent: payments)"),
            "{agent}: {report:#}"
        );
        assert_eq!(intent["status"], "awaiting_approval", "{agent}: {intent:#}");
        let generated: Vec<&str> = stages(&intent, "generate")
            .iter()
            .map(|s| s["plugin"].as_str().unwrap())
            .collect();
        assert_eq!(generated[0], agent, "{intent:#}");
        // Passed in its first round: nothing needed repairing.
        assert_eq!(capsule["manifest"]["gate"]["iteration"], 0, "{agent}");
        // The card verification code the intent named is not stored, and
        // the README says what is protected and why.
        let readme = file(&server, &id, "README.md").await;
        assert!(readme.contains("Data protection"), "{agent}: {readme}");
        assert!(readme.contains("FIELD_ENCRYPTION_KEY"), "{agent}: {readme}");
        assert!(
            readme.contains("RECORD_RETENTION_DAYS"),
            "{agent}: {readme}"
        );
    }
    server.stop();
}

/// A tiers file whose tiers `pci-go`, `pci-node` and `pci-rust` run one
/// stack agent
/// and `qlp/compliance` with PCI DSS enforced by the operator, a gate that
/// allows no finding, and two repair rounds. No planner: the intent
/// carries no compliance concern, so round 0 does not know of PCI DSS.
fn enforced_tiers(dir: &Path) -> PathBuf {
    let tier = |name: &str, agent: &str| {
        format!(
            "[tiers.{name}]\n\
             agents = [\"{agent}\"]\n\
             validators = [\"qlp/compliance\"]\n\
             exporter = \"qlp/zip\"\n\
             gate = {{ min_score = 95, max_critical = 0, max_findings = {{ high = 0, medium = 0 }} }}\n\
             max_iterations = 2\n\n"
        )
    };
    let text = format!(
        "{}{}{}[plugins.\"qlp/compliance\"]\nconfig = {{ frameworks = \"pci-dss\" }}\n",
        tier("pci-go", "qlp/template-go"),
        tier("pci-node", "qlp/template-node"),
        tier("pci-rust", "qlp/template-rust"),
    );
    let path = dir.join("tiers.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread")]
async fn an_enforced_framework_is_met_in_a_repair_round_by_each_stacks_agent() {
    let dir = tempfile::tempdir().unwrap();
    let tiers = enforced_tiers(dir.path());
    let server = Server::start_default_with(
        &dir.path().join("data"),
        &["--tiers", tiers.to_str().unwrap()],
    );
    for (tier, agent, model) in [
        ("pci-go", "qlp/template-go", "models.go"),
        ("pci-node", "qlp/template-node", "src/models.ts"),
        ("pci-rust", "qlp/template-rust", "src/models.rs"),
    ] {
        let id = server
            .submit(json!({
                "description": "An API for cards: each card has a cardholder name, a card number, \
                                a cvv and an expiry month",
                "tier": tier,
            }))
            .await;
        let intent = server.wait(&id).await;
        assert_eq!(intent["status"], "completed", "{agent}: {intent:#}");
        // Round 0 stored the card number in clear text, kept the CVV, and
        // had no audit trail, retention or authentication: the gate
        // failed on those findings. Round 1 answered each.
        let gates = stages(&intent, "gate");
        assert_eq!(gates.len(), 2, "{agent}: {intent:#}");
        assert_eq!(gates[0]["status"], "failed", "{agent}");
        assert_eq!(gates[1]["status"], "succeeded", "{agent}");
        let generated: Vec<(u64, &str)> = stages(&intent, "generate")
            .iter()
            .map(|s| {
                (
                    s["iteration"].as_u64().unwrap(),
                    s["plugin"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(generated, [(0, agent), (1, agent)], "{intent:#}");
        let capsule = server.get_json(&format!("/v1/capsules/{id}")).await;
        let gate = &capsule["manifest"]["gate"];
        assert_eq!(gate["iterations"][0]["decision"], "fail", "{gate:#}");
        assert_eq!(gate["iterations"][1]["decision"], "pass", "{gate:#}");
        let report = compliance(&capsule);
        assert_eq!(report["findings"], json!([]), "{agent}: {report:#}");
        assert!(
            report["summary"]
                .as_str()
                .unwrap()
                .contains("PCI DSS (operator configuration)"),
            "{report:#}"
        );
        // What changed: the model keeps no CVV and stores the card number
        // through the field encryption; the README says why.
        let models = file(&server, &id, model).await;
        assert!(!models.to_lowercase().contains("cvv"), "{agent}: {models}");
        assert!(
            paths(&capsule).iter().any(|p| p.contains("crypto")),
            "{agent}: {:?}",
            paths(&capsule)
        );
        let readme = file(&server, &id, "README.md").await;
        assert!(
            readme.contains("compliance/unencrypted-at-rest"),
            "{agent}: {readme}"
        );
    }
    server.stop();
}
