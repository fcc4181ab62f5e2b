//! What `qlp/quality` says about the projects QLP's own service agents
//! generate, with every file measured by the analyzer the tiers run on it
//! (`qlp/python` for Python, `qlp/code-metrics` for Go, TypeScript, Rust
//! and Java): no finding of medium severity or above, since the strictest
//! shipped gate (`mission-critical`) allows none. Every finding is printed
//! so a run shows the low ones that remain.
//!
//! Each agent is asked for a plain service, one with JWT auth and
//! PostgreSQL, and a payments and a health-data service with the compliance
//! concern the planner would pass, which turns on field encryption, the
//! audit trail and retention (`qlp_intent_spec::protection`).

use qlp_plugin_quality::settings::Settings;
use qlp_sdk::validator::Severity;
use qlp_sdk::{Analysis, File, Intent, PluginError};

/// Plain, and with JWT auth and a PostgreSQL seam.
const REQUIREMENT_SETS: [&[&str]; 2] = [
    &[],
    &[
        "Routes require JWT authentication",
        "Store data in PostgreSQL",
    ],
];

type Agent = fn(&Intent) -> Result<Vec<File>, PluginError>;

/// Every service agent: its name, the stack words of its intents, and its
/// entry point.
const AGENTS: [(&str, &str, Agent); 5] = [
    (
        "fastapi",
        "A Python FastAPI",
        qlp_plugin_template_fastapi::generate_project,
    ),
    ("go", "A Go", qlp_plugin_template_go::generate_project),
    (
        "node",
        "A TypeScript Node.js Express",
        qlp_plugin_template_node::generate_project,
    ),
    (
        "rust",
        "A Rust axum",
        qlp_plugin_template_rust::generate_project,
    ),
    (
        "java",
        "A Java Spring Boot",
        qlp_plugin_template_java::generate_project,
    ),
];

/// The agents whose projects must also reach [`MIN_SCORE`].
const SCORED_AGENTS: &[&str] = &["java", "rust"];

/// The least `qlp/quality` score a project of a [`SCORED_AGENTS`] agent
/// reaches.
const MIN_SCORE: u8 = 85;

/// What each intent asks for after the stack words, and the compliance
/// concern the planner finds in it.
const SUBJECTS: [(&str, Option<&str>); 3] = [
    ("API for invoices and customers", None),
    (
        "payments API for cards: each card has a cardholder name, a card number, a cvv and an \
         expiry month",
        Some("payments"),
    ),
    (
        "patient records API: each patient has a full name, a medical record number, a diagnosis \
         and a birth date",
        Some("health-data"),
    ),
];

/// The analysis of one file by the analyzer the tiers run on it, or none
/// for a file no analyzer reads.
fn analysis(file: &File) -> Option<Analysis> {
    let analyzed = if file.path.ends_with(".py") {
        qlp_plugin_python::analyze(&file.path, &file.content)
    } else if qlp_plugin_code_metrics::Lang::from_path(&file.path).is_some() {
        qlp_plugin_code_metrics::analyze(&file.path, &file.content)
    } else {
        return None;
    };
    Some(analyzed.unwrap_or_else(|e| panic!("{}: {} {}", file.path, e.code, e.message)))
}

/// Prints the report on one project and returns its findings of medium
/// severity or above, and its score.
fn serious_findings(name: &str, files: &[File]) -> (Vec<String>, u8) {
    let analyses: Vec<_> = files.iter().filter_map(analysis).collect();
    let report = qlp_plugin_quality::check(files, &analyses, &Settings::default());
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
            f.line().map_or(String::new(), |l| l.to_string()),
            f.message
        );
    }
    let serious = report
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::Medium)
        .map(|f| {
            format!(
                "{name}: {} {}:{}",
                f.rule_id,
                f.path().unwrap_or(""),
                f.line().unwrap_or(0)
            )
        })
        .collect();
    (serious, report.score)
}

#[test]
fn generated_projects_have_no_medium_or_higher_findings() {
    let mut serious = Vec::new();
    for (agent, stack, generate) in AGENTS {
        for (subject, concern) in SUBJECTS {
            for requirements in REQUIREMENT_SETS {
                let constraints: Vec<_> = concern.map(|c| ("compliance", c)).into_iter().collect();
                let mut intent = qlp_agent_testkit::intent(
                    &format!("{stack} {subject}"),
                    requirements,
                    &constraints,
                );
                intent.tier = "mission-critical".into();
                let files = generate(&intent).unwrap_or_else(|e| {
                    panic!("{agent} project for {}: {}", intent.description, e.message)
                });
                let name = format!(
                    "{agent} ({}, {} requirements)",
                    concern.unwrap_or("plain"),
                    requirements.len()
                );
                let (findings, score) = serious_findings(&name, &files);
                serious.extend(findings);
                if SCORED_AGENTS.contains(&agent) && score < MIN_SCORE {
                    serious.push(format!("{name}: score {score} below {MIN_SCORE}"));
                }
            }
        }
    }
    assert_eq!(serious, Vec::<String>::new());
}
