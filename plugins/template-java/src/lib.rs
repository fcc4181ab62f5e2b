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
//! Generation is deterministic: the same request gives byte-identical files.
//! A repair round (`iteration > 0`) regenerates the same project; the host
//! merges it with the files of other agents.
//!
//! Errors: `EMPTY_INTENT` when the description is blank.

pub mod java;
pub mod project;

use qlp_sdk::agent::{Agent, File, GenerationRequest, PluginError, PluginInfo};
use qlp_sdk::{Intent, PluginKind};

/// The plugin's namespaced name.
pub const PLUGIN_NAME: &str = "qlp/template-java";

/// The plugin's version.
pub const PLUGIN_VERSION: &str = "0.1.0";

/// Generates the project files for an intent.
pub fn generate_project(intent: &Intent) -> Result<Vec<File>, PluginError> {
    let spec = qlp_intent_spec::analyze(intent)?;
    project::render_project(&spec)
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
        let files = generate_project(&request.intent)?;
        qlp_sdk::agent::log_generated("generated Java project", &files, request.iteration);
        Ok(files)
    }
}

qlp_sdk::export_agent!(TemplateJava);

#[cfg(test)]
mod tests {
    use super::*;

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
