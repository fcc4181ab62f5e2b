//! Shared helpers of the generator tests.

use qlp_sdk::validator::Severity;
use qlp_sdk::{File, Intent};

/// The requirement sets each agent is asked for: plain, and with JWT auth
/// and a PostgreSQL seam.
pub const REQUIREMENT_SETS: [&[&str]; 2] = [
    &[],
    &[
        "Routes require JWT authentication",
        "Store data in PostgreSQL",
    ],
];

pub fn intent(description: &str, requirements: &[&str]) -> Intent {
    Intent {
        id: "00000000-0000-0000-0000-000000000000".into(),
        description: description.into(),
        requirements: requirements.iter().map(|r| r.to_string()).collect(),
        constraints: vec![],
        tier: "standard".into(),
    }
}

/// Prints every finding (so a run shows the medium and low ones too) and
/// fails on a high or critical one.
pub fn assert_no_serious_findings(files: &[File]) {
    let report = qlp_plugin_security::scan_files(files);
    println!("{} files: {}", files.len(), report.summary);
    for f in &report.findings {
        println!(
            "  {} {:?} {}:{} {}",
            f.rule_id,
            f.severity,
            f.path.as_deref().unwrap_or(""),
            f.line.unwrap_or(0),
            f.message
        );
    }
    let serious: Vec<(&str, Option<&str>, Option<u32>)> = report
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::High)
        .map(|f| (f.rule_id.as_str(), f.path.as_deref(), f.line))
        .collect();
    assert_eq!(serious, [], "{}", report.summary);
}
