//! QLP agent `qlp/template-rust`: generates a complete, runnable Rust HTTP
//! service on axum, tokio and serde from an intent.
//!
//! The intent is read by `qlp-intent-spec`: its resources and their fields,
//! whether routes need JWT authentication, which database the
//! `DATABASE_URL` seam is for, the port and the project's name. The output
//! (see [`project`]) has one route module per resource, validation of
//! every field with 400 answers naming each invalid one, an in-memory
//! repository behind a `Repository` trait, HS256 bearer tokens built on
//! `hmac` and `sha2` when asked for, tests that call the router with
//! `tower::ServiceExt::oneshot` and pass as generated (`cargo test`), a
//! README, a multi-stage Dockerfile running as a non-root user, and a
//! `.gitignore`. The project is a workspace of its own, so it builds
//! wherever it is written.
//!
//! Sensitive data is protected as `qlp_intent_spec::protection` decides
//! from the intent's compliance concerns, its words and a repair round's
//! findings: fields stored encrypted with AES-256-GCM (card numbers
//! answered masked), card verification codes never stored, an audit entry
//! per change and a retention period (see `project::protection`). Without
//! any of them the project is unchanged.
//!
//! Generation is deterministic: the same request gives byte-identical files.
//! A repair round (`iteration > 0`) regenerates the project with the
//! measures its findings ask for; the host merges it with the files of
//! other agents.
//!
//! Errors: `EMPTY_INTENT` when the description is blank.

pub mod project;

use qlp_intent_spec::protection::protect;
use qlp_sdk::agent::{Agent, File, GenerationRequest, PluginError, PluginInfo};
use qlp_sdk::{Finding, Intent, PluginKind};

/// The plugin's namespaced name.
pub const PLUGIN_NAME: &str = "qlp/template-rust";

/// The plugin's version.
pub const PLUGIN_VERSION: &str = "0.1.0";

/// Generates the project files for an intent, protecting sensitive data
/// as its compliance concerns and words ask (see [`generate_repaired`]).
pub fn generate_project(intent: &Intent) -> Result<Vec<File>, PluginError> {
    generate_repaired(intent, &[])
}

/// Generates the project files for an intent in a round whose validators
/// reported `findings`: a compliance finding (`unencrypted-at-rest`,
/// `no-audit-logging`, `no-retention-policy`, `cvv-stored`) turns on the
/// measure that answers it, as `qlp_intent_spec::protection` reads them.
pub fn generate_repaired(intent: &Intent, findings: &[Finding]) -> Result<Vec<File>, PluginError> {
    let mut spec = qlp_intent_spec::analyze(intent)?;
    let protection = protect(intent, findings, &mut spec);
    project::render_project(&spec, &protection)
}

/// The agent's entry points, a thin layer over [`generate_project`].
pub struct TemplateRust;

impl Agent for TemplateRust {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: PLUGIN_NAME.into(),
            version: PLUGIN_VERSION.into(),
            kind: PluginKind::Agent,
            description: "Generates a runnable Rust HTTP service on axum (routes for the \
                          intent's resources and fields, validation, in-memory repository \
                          behind a trait, cargo tests, Dockerfile, README) from an intent, \
                          with optional JWT auth and a DATABASE_URL storage seam."
                .into(),
            capabilities: vec![],
        }
    }

    fn generate(request: GenerationRequest) -> Result<Vec<File>, PluginError> {
        let files = generate_repaired(&request.intent, &request.findings)?;
        qlp_sdk::agent::log_generated("generated Rust project", &files, request.iteration);
        Ok(files)
    }
}

qlp_sdk::export_agent!(TemplateRust);

#[cfg(test)]
mod tests {
    use super::*;

    qlp_agent_testkit::agent_contract_tests! {
        agent: TemplateRust,
        name: "qlp/template-rust",
        requirements: ["Each ticket has a title, a priority and a done flag"],
        constraints: [("framework", "axum")],
        generates: "Create a Rust axum service for support tickets with JWT auth",
        repairs: ("A Rust API for tickets", 1),
        blank: "\n",
    }

    const CARDS: &str = "A payments API for cards. Each card has a cardholder name, a card \
                         number and an expiry month.";

    #[test]
    fn compliance_findings_of_a_repair_round_turn_the_measures_on() {
        use qlp_agent_testkit::contract::snapshot;
        use qlp_agent_testkit::{has, text};
        let intent = qlp_agent_testkit::intent(CARDS, &["Routes require JWT authentication"], &[]);
        let findings = qlp_agent_testkit::card_compliance_findings();
        let repaired = generate_repaired(&intent, &findings).expect("generates");
        for path in [
            "src/crypto.rs",
            "src/audit.rs",
            "src/retention.rs",
            "tests/api/data_protection.rs",
        ] {
            assert!(has(&repaired, path), "{path}");
        }
        let models = text(&repaired, "src/models.rs");
        assert!(
            models.contains("card_number: encrypt(key, &self.card_number),"),
            "{models}"
        );
        assert!(models.contains("pub struct CardRow {"), "{models}");
        let routes = text(&repaired, "src/routes/cards.rs");
        assert!(routes.contains("audit(&state.audit, &actor, \"create\", \"cards\", id, status);"));
        assert!(routes.contains("purge_expired(&state);"), "{routes}");
        assert!(text(&repaired, "src/config.rs").contains("\"RECORD_RETENTION_DAYS\""));
        assert!(text(&repaired, "Cargo.toml").contains("aes-gcm = \"0.10\""));
        let readme = text(&repaired, "README.md");
        assert!(readme.contains("## Data protection"), "{readme}");
        assert!(
            readme.contains("- finding `compliance/unencrypted-at-rest`"),
            "{readme}"
        );

        // Without the findings nothing of it is generated.
        let first = generate_project(&intent).expect("generates");
        let again = generate_repaired(&intent, &[]).expect("generates");
        assert_eq!(snapshot(&first), snapshot(&again));
        for path in ["src/crypto.rs", "src/audit.rs", "src/retention.rs"] {
            assert!(!has(&first, path), "{path}");
        }
        for file in &first {
            let content = file.as_text().expect("text");
            for word in ["encrypt", "audit", "RECORD_RETENTION_DAYS", "aes-gcm"] {
                assert!(!content.contains(word), "{} mentions {word}", file.path);
            }
        }
    }
}
