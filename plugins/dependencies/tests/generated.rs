//! What `qlp/dependencies` says about the manifests QLP's own agents
//! generate: no high or critical finding; every finding is printed so a
//! run shows the medium and low ones.

use qlp_plugin_dependencies::advisories::Database;
use qlp_plugin_dependencies::{Settings, check};
use qlp_sdk::validator::Severity;
use qlp_sdk::{File, Intent};

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
    let report = check(files, &Database::shipped(), &Settings::default());
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

#[test]
fn generated_manifests_have_no_high_or_critical_findings() {
    for requirements in [
        &[][..],
        &[
            "Routes require JWT authentication",
            "Store data in PostgreSQL",
        ][..],
    ] {
        let fastapi = qlp_plugin_template_fastapi::generate_project(&intent(
            "A FastAPI service for invoices",
            requirements,
        ))
        .expect("fastapi project");
        assert_no_serious_findings("fastapi", &fastapi);
        let go = qlp_plugin_template_go::generate_project(&intent(
            "A Go API for invoices",
            requirements,
        ))
        .expect("go project");
        assert_no_serious_findings("go", &go);
        let node = qlp_plugin_template_node::generate_project(&intent(
            "An Express API for invoices",
            requirements,
        ))
        .expect("node project");
        assert_no_serious_findings("node", &node);
    }
}
