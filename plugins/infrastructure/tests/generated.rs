//! What `qlp/infrastructure` says about the projects QLP's own agents
//! generate: no high or critical finding; every finding is printed so a
//! run shows the medium and low ones. No agent writes Terraform or a
//! Compose file yet; this holds the first one that does to the rules.

use qlp_plugin_infrastructure::check;
use qlp_sdk::validator::Severity;
use qlp_sdk::{File, Intent, PluginError};

fn intent(description: &str, requirements: &[&str]) -> Intent {
    Intent {
        id: "00000000-0000-0000-0000-000000000000".into(),
        description: description.into(),
        requirements: requirements.iter().map(|r| r.to_string()).collect(),
        constraints: vec![],
        tier: "enterprise".into(),
    }
}

fn assert_no_serious_findings(name: &str, files: &[File]) {
    let report = check(files);
    println!("{name}: score {}: {}", report.score, report.summary);
    for f in &report.findings {
        println!(
            "  {} {:?} {}:{} {}",
            f.rule_id,
            f.severity,
            f.path().unwrap_or(""),
            f.line().unwrap_or(0),
            f.message
        );
    }
    let serious: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::High)
        .map(|f| (f.rule_id.as_str(), f.path(), f.line()))
        .collect();
    assert_eq!(serious, [], "{name}: {}", report.summary);
}

type Agent = fn(&Intent) -> Result<Vec<File>, PluginError>;

#[test]
fn generated_projects_have_no_high_or_critical_findings() {
    let agents: [(&str, &str, Agent); 6] = [
        (
            "fastapi",
            "A FastAPI service for invoices",
            qlp_plugin_template_fastapi::generate_project,
        ),
        (
            "go",
            "A Go API for invoices",
            qlp_plugin_template_go::generate_project,
        ),
        (
            "node",
            "An Express API for invoices",
            qlp_plugin_template_node::generate_project,
        ),
        (
            "react",
            "A React app for invoices",
            qlp_plugin_template_react::generate_project,
        ),
        (
            "rust",
            "A Rust axum service for invoices",
            qlp_plugin_template_rust::generate_project,
        ),
        (
            "static",
            "A landing page for an invoicing product",
            qlp_plugin_template_static::generate_project,
        ),
    ];
    for requirements in [
        &[][..],
        &[
            "Routes require JWT authentication",
            "Store data in PostgreSQL",
        ][..],
    ] {
        for (name, description, generate) in agents {
            let files = generate(&intent(description, requirements))
                .unwrap_or_else(|e| panic!("{name} project: {}", e.message));
            assert_no_serious_findings(name, &files);
        }
    }
}
