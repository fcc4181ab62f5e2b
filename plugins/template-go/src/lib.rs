//! QLP agent `qlp/template-go`: generates a complete, runnable Go HTTP
//! service from an intent.
//!
//! The intent is read by `qlp-intent-spec`: its resources and their fields,
//! whether routes need JWT authentication, which database the
//! `DATABASE_URL` seam is for, the port and the project's name. The output
//! (see [`project`]) uses only the Go standard library (`net/http`, routed
//! by hand so that Go 1.19 builds it), keeps records in an in-memory
//! repository behind a `Repository` interface, validates every field, and
//! has `net/http/httptest` tests that pass as generated, a README, a
//! multi-stage Dockerfile running as a non-root user, and a `.gitignore`.
//!
//! Sensitive data is protected as `qlp_intent_spec::protection` says, from
//! the intent's compliance concerns and words and a repair round's
//! findings: fields stored encrypted (AES-256-GCM), an audit trail of every
//! change, a retention period (see `project::protected`). Without any of
//! them the project is exactly what it was without that reading.
//!
//! Generation is deterministic: the same request gives byte-identical files.
//! A repair round (`iteration > 0`) regenerates the project, with what its
//! findings ask for; the host merges it with the files of other agents.
//!
//! Errors: `EMPTY_INTENT` when the description is blank.

pub mod project;

use qlp_sdk::agent::{Agent, File, GenerationRequest, PluginError, PluginInfo};
use qlp_sdk::{Finding, Intent, PluginKind};

/// The plugin's namespaced name.
pub const PLUGIN_NAME: &str = "qlp/template-go";

/// The plugin's version.
pub const PLUGIN_VERSION: &str = "0.1.0";

/// Generates the project files for an intent, in a first round: no
/// findings.
pub fn generate_project(intent: &Intent) -> Result<Vec<File>, PluginError> {
    generate_repaired(intent, &[])
}

/// Generates the project files for an intent in a round that answers
/// `findings` (those of the compliance validator turn protections on).
pub fn generate_repaired(intent: &Intent, findings: &[Finding]) -> Result<Vec<File>, PluginError> {
    let mut spec = qlp_intent_spec::analyze(intent)?;
    let protection = qlp_intent_spec::protection::protect(intent, findings, &mut spec);
    project::render_project(&spec, &protection)
}

/// The agent's entry points, a thin layer over [`generate_project`].
pub struct TemplateGo;

impl Agent for TemplateGo {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: PLUGIN_NAME.into(),
            version: PLUGIN_VERSION.into(),
            kind: PluginKind::Agent,
            description: "Generates a runnable Go net/http service (CRUD handlers for the \
                          intent's resources and fields, validation, in-memory repository, \
                          httptest suite, Dockerfile, README) from an intent, with optional \
                          JWT auth and a DATABASE_URL storage seam."
                .into(),
            capabilities: vec![],
        }
    }

    fn generate(request: GenerationRequest) -> Result<Vec<File>, PluginError> {
        let files = generate_repaired(&request.intent, &request.findings)?;
        qlp_sdk::agent::log_generated("generated Go project", &files, request.iteration);
        Ok(files)
    }
}

qlp_sdk::export_agent!(TemplateGo);

#[cfg(test)]
mod tests {
    use super::*;

    fn text<'a>(files: &'a [File], path: &str) -> &'a str {
        qlp_agent_testkit::text(files, path)
    }

    #[test]
    fn a_repair_rounds_compliance_findings_turn_the_protections_on() {
        let intent = qlp_agent_testkit::intent(
            "A Go payments API for cards",
            &["Each card has a cardholder name, a card number and an expiry month"],
            &[],
        );
        let findings = qlp_agent_testkit::card_compliance_findings();
        let first = generate_project(&intent).expect("generates");
        let repaired = generate_repaired(&intent, &findings).expect("generates");

        for path in [
            "crypto.go",
            "audit.go",
            "retention.go",
            "protection_test.go",
        ] {
            assert!(
                !qlp_agent_testkit::has(&first, path),
                "{path} without findings"
            );
            assert!(
                qlp_agent_testkit::has(&repaired, path),
                "{path} answers them"
            );
        }
        let models = text(&repaired, "models.go");
        assert!(
            models.contains("fieldCipher.Encrypt(record.CardNumber)"),
            "{models}"
        );
        assert!(!text(&first, "models.go").contains("Encrypt"));
        assert!(text(&repaired, "cards_handlers.go").contains("s.audit(r, \"create\", \"cards\""));
        assert!(text(&repaired, "config.go").contains("RECORD_RETENTION_DAYS"));
        assert!(text(&repaired, "config.go").contains("FIELD_ENCRYPTION_KEY"));
        let readme = text(&repaired, "README.md");
        assert!(
            readme.contains("finding `compliance/unencrypted-at-rest`"),
            "{readme}"
        );
        assert!(!text(&first, "README.md").contains("Data protection"));
    }

    qlp_agent_testkit::agent_contract_tests! {
        agent: TemplateGo,
        name: "qlp/template-go",
        requirements: ["Each item has a SKU, a name and a quantity"],
        constraints: [("language", "Go")],
        generates: "Create a Go REST API for warehouse items with PostgreSQL and JWT auth",
        repairs: ("Build a Go API to manage customer orders", 2),
        blank: "  ",
    }
}
