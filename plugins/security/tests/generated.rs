//! The projects QLP's own agents generate, with and without JWT
//! authentication and a database seam, carry no high or critical
//! `qlp/security` finding; every finding is printed so a run shows the
//! medium and low ones too.

use qlp_sdk::validator::Severity;
use qlp_sdk::{File, Intent};

fn intent(description: &str, requirements: &[&str]) -> Intent {
    Intent {
        id: "00000000-0000-0000-0000-000000000000".into(),
        description: description.into(),
        requirements: requirements.iter().map(|r| r.to_string()).collect(),
        constraints: vec![],
        tier: "standard".into(),
    }
}

fn assert_no_serious_findings(name: &str, files: &[File]) {
    let report = qlp_plugin_security::scan_files(files);
    println!(
        "{name}: {} files, score {}: {}",
        files.len(),
        report.score,
        report.summary
    );
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
    let serious: Vec<(&str, Option<&str>, Option<u32>)> = report
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::High)
        .map(|f| (f.rule_id.as_str(), f.path(), f.line()))
        .collect();
    assert_eq!(serious, [], "{name}: {}", report.summary);
}

#[test]
fn generated_projects_have_no_high_or_critical_findings() {
    for requirements in [
        &[][..],
        &[
            "Routes require JWT authentication",
            "Store data in PostgreSQL",
        ][..],
    ] {
        let fastapi = qlp_plugin_template_fastapi::generate_project(&intent(
            "A FastAPI service for invoices with customers and line items",
            requirements,
        ))
        .expect("fastapi project");
        assert_no_serious_findings("fastapi", &fastapi);
        let go = qlp_plugin_template_go::generate_project(&intent(
            "A Go API for invoices and customers",
            requirements,
        ))
        .expect("go project");
        assert_no_serious_findings("go", &go);
        let node = qlp_plugin_template_node::generate_project(&intent(
            "An Express API for invoices and customers",
            requirements,
        ))
        .expect("node project");
        assert_no_serious_findings("node", &node);
    }
}
