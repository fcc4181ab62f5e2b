//! QLP agent `qlp/template-node`: generates a complete, runnable TypeScript
//! Node.js service on Express from an intent.
//!
//! The intent is read by `qlp-intent-spec`: its resources and their fields,
//! whether routes need JWT authentication, which database the
//! `DATABASE_URL` seam is for, the port and the project's name. The output
//! (see [`project`]) has one Express router per resource, validation of
//! every field, an in-memory repository behind a `Repository` interface,
//! tests for Node's built-in `node:test` runner that pass as generated
//! (`npm test`), a README, a multi-stage Dockerfile running as a non-root
//! user, and a `.gitignore`. Its dependencies are kept to `express`,
//! `typescript` and their type definitions.
//!
//! Sensitive data is protected as `qlp-intent-spec`'s
//! [`protect`](qlp_intent_spec::protection::protect) decides from the
//! intent's compliance concerns, its words and a repair round's findings:
//! fields stored encrypted with AES-256-GCM (`node:crypto`, no new
//! dependency) and card numbers returned masked, card verification codes
//! not stored, an audit trail of every change and a retention of records
//! (see `project::protection`). Without any, the service stores what it
//! is given.
//!
//! Generation is deterministic: the same request gives byte-identical files.
//! A repair round (`iteration > 0`) regenerates the project with what its
//! findings ask for; the host merges it with the files of other agents.
//!
//! Errors: `EMPTY_INTENT` when the description is blank.

pub mod project;

use qlp_sdk::agent::{Agent, File, GenerationRequest, PluginError, PluginInfo};
use qlp_sdk::{Finding, Intent, PluginKind};

/// The plugin's namespaced name.
pub const PLUGIN_NAME: &str = "qlp/template-node";

/// The plugin's version.
pub const PLUGIN_VERSION: &str = "0.1.0";

/// Generates the project files for an intent, as a first round does (no
/// findings).
pub fn generate_project(intent: &Intent) -> Result<Vec<File>, PluginError> {
    generate_repaired(intent, &[])
}

/// Generates the project files for an intent in a round that answers
/// `findings`: those of `qlp/compliance` turn on the protection they ask
/// for (encryption, audit trail, retention, no stored CVV).
pub fn generate_repaired(intent: &Intent, findings: &[Finding]) -> Result<Vec<File>, PluginError> {
    let mut spec = qlp_intent_spec::analyze(intent)?;
    let protection = qlp_intent_spec::protection::protect(intent, findings, &mut spec);
    project::render_project(&spec, &protection)
}

/// The agent's entry points, a thin layer over [`generate_repaired`].
pub struct TemplateNode;

impl Agent for TemplateNode {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: PLUGIN_NAME.into(),
            version: PLUGIN_VERSION.into(),
            kind: PluginKind::Agent,
            description: "Generates a runnable TypeScript Node.js service on Express (routers \
                          for the intent's resources and fields, validation, in-memory \
                          repository, node:test suite, Dockerfile, README) from an intent, with \
                          optional JWT auth and a DATABASE_URL storage seam."
                .into(),
            capabilities: vec![],
        }
    }

    fn generate(request: GenerationRequest) -> Result<Vec<File>, PluginError> {
        let files = generate_repaired(&request.intent, &request.findings)?;
        qlp_sdk::agent::log_generated("generated Node.js project", &files, request.iteration);
        Ok(files)
    }
}

qlp_sdk::export_agent!(TemplateNode);

#[cfg(test)]
mod tests {
    use super::*;

    qlp_agent_testkit::agent_contract_tests! {
        agent: TemplateNode,
        name: "qlp/template-node",
        requirements: ["Each ticket has a title, a priority and a done flag"],
        constraints: [("framework", "Express")],
        generates: "Create a Node.js Express service for support tickets with JWT auth",
        repairs: ("A TypeScript API for tickets", 1),
        blank: "\n",
    }

    use qlp_agent_testkit::{has, intent, text};

    #[test]
    fn a_repair_round_applies_the_protection_its_compliance_findings_ask_for() {
        let intent = intent(
            "A TypeScript API for cards. Each card has a cardholder name and a card number.",
            &[],
            &[],
        );
        let findings = qlp_agent_testkit::card_compliance_findings();

        let repaired = generate_repaired(&intent, &findings).expect("generates");
        for path in [
            "src/crypto.ts",
            "src/audit.ts",
            "src/retention.ts",
            "test/protection.test.ts",
        ] {
            assert!(has(&repaired, path), "{path} in the repaired project");
        }
        let models = text(&repaired, "src/models.ts");
        assert!(
            models.contains("card_number: encryptField(key, input.card_number),"),
            "{models}"
        );
        assert!(models.contains("maskCardNumber(decryptField(key, stored.card_number))"));
        assert!(!models.contains("encryptField(key, input.cardholder_name)"));
        let routes = text(&repaired, "src/routes/cards.ts");
        assert!(
            routes.contains("auditLog.record(req, \"create\", \"cards\", record.id, \"success\");")
        );
        assert!(routes.contains("router.use(expireRecords(repository, config.retentionDays));"));
        assert!(text(&repaired, "src/config.ts").contains("RECORD_RETENTION_DAYS"));
        let readme = text(&repaired, "README.md");
        assert!(readme.contains("## Data protection"), "{readme}");
        assert!(
            readme.contains("finding `compliance/no-audit-logging`"),
            "{readme}"
        );
        assert!(readme.contains("openssl rand -base64 32"), "{readme}");

        let first = generate_project(&intent).expect("generates");
        for path in ["src/crypto.ts", "src/audit.ts", "src/retention.ts"] {
            assert!(!has(&first, path), "{path} without findings");
        }
        let all: String = first.iter().filter_map(File::as_text).collect();
        for word in [
            "encryptField",
            "auditLog",
            "RECORD_RETENTION_DAYS",
            "Data protection",
        ] {
            assert!(!all.contains(word), "{word} without findings");
        }
        let again: String = generate_repaired(&intent, &[])
            .expect("generates")
            .iter()
            .filter_map(File::as_text)
            .collect();
        assert_eq!(again, all, "no findings is a first round");
    }
}
