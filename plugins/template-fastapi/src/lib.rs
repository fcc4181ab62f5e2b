//! QLP agent `qlp/template-fastapi`: generates a complete, runnable FastAPI
//! service from an intent.
//!
//! The intent's description names the resources ("invoices", "customer
//! orders"); the description, requirements and constraints together decide
//! whether the service gets JWT authentication ("JWT", "auth", "token") and
//! a `DATABASE_URL` storage seam ("PostgreSQL", "database"). The output is a
//! project with CRUD routers, pydantic v2 models, an in-memory repository, a
//! pytest suite that passes as generated, a `requirements.txt`, a Dockerfile
//! and a README. See [`spec`] for how resources are read and [`project`] for
//! the files.
//!
//! The records keep no field of a sensitive kind (they have a name, a
//! description and an amount or price), so of the protection
//! `qlp_intent_spec::protection` reads from the intent's compliance
//! concerns, its words and a repair round's findings, the service applies
//! the audit trail of every change and the retention period (see
//! `project::protected`). Without them the project is exactly what it was
//! without that reading.
//!
//! Generation is deterministic: the same request gives byte-identical files.
//! A repair round (`iteration > 0`) regenerates the project, with what its
//! findings ask for; the host merges it with the files of other agents.
//!
//! Errors: `EMPTY_INTENT` when the description is blank.

pub mod project;
pub mod spec;

/// Word handling and the template engine, shared with the other stack
/// agents through `qlp-intent-spec`.
pub use qlp_intent_spec::{template, words};

use qlp_intent_spec::protection::{Protection, protect};
use qlp_sdk::agent::{Agent, File, GenerationRequest, PluginError, PluginInfo};
use qlp_sdk::{Finding, Intent, PluginKind};

/// The plugin's namespaced name.
pub const PLUGIN_NAME: &str = "qlp/template-fastapi";

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
    let spec = spec::analyze(intent)?;
    // The shared reading of the intent's fields decides what to encrypt or
    // drop; this agent's models hold none of those fields, so only the
    // audit trail and the retention apply.
    let mut fields = qlp_intent_spec::analyze(intent)?;
    let protection = Protection {
        encrypted: vec![],
        dropped: vec![],
        ..protect(intent, findings, &mut fields)
    };
    project::render_project(&spec, &protection)
}

/// The agent's entry points, a thin layer over [`generate_project`].
pub struct TemplateFastapi;

impl Agent for TemplateFastapi {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: PLUGIN_NAME.into(),
            version: PLUGIN_VERSION.into(),
            kind: PluginKind::Agent,
            description: "Generates a runnable FastAPI service (CRUD routes, pydantic models, \
                          pytest suite, Dockerfile, README) from an intent, with optional JWT \
                          auth and a DATABASE_URL storage seam."
                .into(),
            capabilities: vec![],
        }
    }

    fn generate(request: GenerationRequest) -> Result<Vec<File>, PluginError> {
        let files = generate_repaired(&request.intent, &request.findings)?;
        qlp_sdk::agent::log_generated("generated FastAPI project", &files, request.iteration);
        Ok(files)
    }
}

qlp_sdk::export_agent!(TemplateFastapi);

#[cfg(test)]
mod tests {
    use super::*;
    use qlp_agent_testkit::{has, text};

    #[test]
    fn a_repair_rounds_compliance_findings_turn_the_protections_on() {
        let intent = qlp_agent_testkit::intent("An API for cards and their payments", &[], &[]);
        let findings = qlp_agent_testkit::card_compliance_findings();
        let first = generate_project(&intent).expect("generates");
        let repaired = generate_repaired(&intent, &findings).expect("generates");

        for path in [
            "app/audit.py",
            "app/retention.py",
            "app/clock.py",
            "tests/test_protection.py",
        ] {
            assert!(!has(&first, path), "{path} without findings");
            assert!(has(&repaired, path), "{path} answers them");
        }
        let routes = text(&repaired, "app/routes/cards.py");
        assert!(
            routes.contains("audit(request, actor, \"delete\", \"cards\", item_id, \"success\")")
        );
        assert!(routes.contains("Depends(purge_expired)"));
        assert!(!text(&first, "app/routes/cards.py").contains("audit"));
        assert!(text(&repaired, "app/config.py").contains("RECORD_RETENTION_DAYS"));
        let readme = text(&repaired, "README.md");
        assert!(
            readme.contains("finding `compliance/no-audit-logging`"),
            "{readme}"
        );
        assert!(!text(&first, "README.md").contains("Data protection"));
    }

    qlp_agent_testkit::agent_contract_tests! {
        agent: TemplateFastapi,
        name: "qlp/template-fastapi",
        requirements: ["List endpoints return every record"],
        constraints: [("framework", "FastAPI")],
        generates: "Create a FastAPI service for invoices with JWT auth and PostgreSQL",
        repairs: ("Build an API to manage customer orders", 2),
        blank: "  ",
    }
}
