//! The projects QLP's own agents generate, with and without JWT
//! authentication and a database seam, carry no `qlp/secrets` finding at
//! all: a generated project reads every credential from its environment.
//! Findings are printed before the assertion so a failing run shows them.

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

fn assert_no_findings(name: &str, files: &[File]) {
    let report = qlp_plugin_secrets::scan_files(files);
    println!(
        "{name}: {} files, score {}: {}",
        files.len(),
        report.score,
        report.summary
    );
    let found: Vec<(&str, Option<&str>, Option<u32>, &str)> = report
        .findings
        .iter()
        .map(|f| (f.rule_id.as_str(), f.path(), f.line(), f.message.as_str()))
        .collect();
    assert_eq!(found, [], "{name}: {}", report.summary);
    assert_eq!(report.score, 100, "{name}");
}

type Agent = fn(&Intent) -> Result<Vec<File>, PluginError>;

#[test]
fn generated_projects_have_no_secret_findings() {
    let agents: [(&str, Agent, &str); 6] = [
        (
            "fastapi",
            qlp_plugin_template_fastapi::generate_project,
            "A FastAPI service for invoices with customers and line items",
        ),
        (
            "go",
            qlp_plugin_template_go::generate_project,
            "A Go API for invoices and customers",
        ),
        (
            "node",
            qlp_plugin_template_node::generate_project,
            "An Express API for invoices and customers",
        ),
        (
            "react",
            qlp_plugin_template_react::generate_project,
            "A React dashboard for invoices",
        ),
        (
            "rust",
            qlp_plugin_template_rust::generate_project,
            "A Rust API for invoices and customers",
        ),
        (
            "static",
            qlp_plugin_template_static::generate_project,
            "A static site for an invoicing product",
        ),
    ];
    for requirements in [
        &[][..],
        &[
            "Routes require JWT authentication",
            "Store data in PostgreSQL",
        ][..],
    ] {
        for (name, generate, description) in agents {
            let files = generate(&intent(description, requirements)).expect(name);
            assert_no_findings(name, &files);
        }
    }
}
