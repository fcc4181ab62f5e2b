//! QLP agent `qlp/template-java`: generates a Java 17 Spring Boot REST
//! service with the Maven layout from an intent.
//!
//! The intent is read by `qlp-intent-spec`: its resources and their fields,
//! whether routes need JWT authentication, which database the
//! `DATABASE_URL` seam is for, the port and the project's name. The output
//! (see [`project`]) has two halves. A plain-Java core that imports nothing
//! from Spring: a record per resource that validates a JSON body in plain
//! Java methods, a generic in-memory repository instantiated per resource,
//! a service per resource and, with auth, HS256 JWTs on `javax.crypto`;
//! its JUnit 5 tests need only the JDK and JUnit. And a thin Spring Boot
//! web layer over it (`Application.java` and the `web` package): one
//! `@RestController` per resource, the error answers, the bearer-token
//! filter, and `@WebMvcTest` MockMvc tests. Also a `pom.xml`, a README, a
//! multi-stage Dockerfile running as a non-root user and a `.gitignore`;
//! [`java`] spells the spec's names as Java identifiers.
//!
//! Sensitive data is protected as `qlp_intent_spec::protection` says, from
//! the intent's compliance concerns and words and a repair round's
//! findings: fields stored encrypted (AES-256-GCM on `javax.crypto`), an
//! audit trail of every change, a retention period, all in the plain-Java
//! core (see `project::protected`). Without any of them the project is
//! exactly what it was without that reading.
//!
//! Generation is deterministic: the same request gives byte-identical files.
//! A repair round (`iteration > 0`) regenerates the project, with what its
//! findings ask for; the host merges it with the files of other agents.
//!
//! Errors: `EMPTY_INTENT` when the description is blank.

pub mod java;
pub mod project;

use qlp_sdk::agent::{Agent, File, GenerationRequest, PluginError, PluginInfo};
use qlp_sdk::{Finding, Intent, PluginKind};

/// The plugin's namespaced name.
pub const PLUGIN_NAME: &str = "qlp/template-java";

/// The plugin's version.
pub const PLUGIN_VERSION: &str = "0.1.0";

/// Generates the project files for an intent, in a first round: no
/// findings.
pub fn generate_project(intent: &Intent) -> Result<Vec<File>, PluginError> {
    generate_repaired(intent, &[])
}

/// Generates the project files for an intent in a round that answers
/// `findings`: those of the compliance validator turn protections on.
pub fn generate_repaired(intent: &Intent, findings: &[Finding]) -> Result<Vec<File>, PluginError> {
    let mut spec = qlp_intent_spec::analyze(intent)?;
    let protection = qlp_intent_spec::protection::protect(intent, findings, &mut spec);
    project::render_project(&spec, &protection)
}

/// The agent's entry points, a thin layer over [`generate_project`].
pub struct TemplateJava;

impl Agent for TemplateJava {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: PLUGIN_NAME.into(),
            version: PLUGIN_VERSION.into(),
            kind: PluginKind::Agent,
            description: "Generates a Java 17 Spring Boot REST service with the Maven layout \
                          (a controller per resource of the intent over a plain-Java core of \
                          validated models, in-memory repositories and services, JUnit 5 and \
                          MockMvc tests, Dockerfile, README), with optional JWT auth and a \
                          DATABASE_URL storage seam."
                .into(),
            capabilities: vec![],
        }
    }

    fn generate(request: GenerationRequest) -> Result<Vec<File>, PluginError> {
        let files = generate_repaired(&request.intent, &request.findings)?;
        qlp_sdk::agent::log_generated("generated Java project", &files, request.iteration);
        Ok(files)
    }
}

qlp_sdk::export_agent!(TemplateJava);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repair_rounds_compliance_findings_turn_the_protections_on() {
        let intent = qlp_agent_testkit::intent(
            "A Java payments API for cards",
            &["Each card has a cardholder name, a card number and an expiry month"],
            &[],
        );
        let findings = qlp_agent_testkit::card_compliance_findings();
        let first = generate_project(&intent).expect("generates");
        let repaired = generate_repaired(&intent, &findings).expect("generates");
        let main = repaired
            .iter()
            .find_map(|f| f.path.strip_suffix("/Application.java"))
            .expect("an Application.java")
            .to_string();
        for file in [
            "crypto/FieldCipher.java",
            "audit/AuditTrail.java",
            "retention/RetentionPolicy.java",
            "web/Actor.java",
        ] {
            let path = format!("{main}/{file}");
            assert!(
                !qlp_agent_testkit::has(&first, &path),
                "{path} without findings"
            );
            assert!(
                qlp_agent_testkit::has(&repaired, &path),
                "{path} answers them"
            );
        }
        let text = |files: &[File], file: &str| {
            qlp_agent_testkit::text(files, &format!("{main}/{file}")).to_string()
        };
        let card = text(&repaired, "model/Card.java");
        assert!(card.contains("cipher.encrypt(this.cardNumber)"), "{card}");
        assert!(!text(&first, "model/Card.java").contains("cipher"));
        assert!(
            text(&repaired, "service/CardService.java")
                .contains("audit.record(actor, \"delete\", RESOURCE, id, AuditTrail.SUCCESS);")
        );
        let properties =
            qlp_agent_testkit::text(&repaired, "src/main/resources/application.properties");
        assert!(
            properties.contains("RECORD_RETENTION_DAYS=365"),
            "{properties}"
        );
        assert!(properties.contains("FIELD_ENCRYPTION_KEY"), "{properties}");
        let readme = qlp_agent_testkit::text(&repaired, "README.md");
        for reason in [
            "finding `compliance/unencrypted-at-rest`",
            "finding `compliance/no-audit-logging`",
            "finding `compliance/no-retention-policy`",
        ] {
            assert!(readme.contains(reason), "{reason}:\n{readme}");
        }
        assert!(!qlp_agent_testkit::text(&first, "README.md").contains("Data protection"));
    }

    qlp_agent_testkit::agent_contract_tests! {
        agent: TemplateJava,
        name: "qlp/template-java",
        requirements: ["Each item has a SKU, a name and a quantity"],
        constraints: [("language", "Java")],
        generates: "Create a Java Spring Boot API for warehouse items with PostgreSQL and JWT auth",
        repairs: ("Build a Java service to manage customer orders", 2),
        blank: "  ",
    }
}
