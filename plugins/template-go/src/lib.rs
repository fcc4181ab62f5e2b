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
//! Generation is deterministic: the same request gives byte-identical files.
//! A repair round (`iteration > 0`) regenerates the same project; the host
//! merges it with the files of other agents.
//!
//! Errors: `EMPTY_INTENT` when the description is blank.

pub mod project;

use qlp_sdk::agent::{Agent, File, GenerationRequest, PluginError, PluginInfo};
use qlp_sdk::{Intent, PluginKind};

/// The plugin's namespaced name.
pub const PLUGIN_NAME: &str = "qlp/template-go";

/// The plugin's version.
pub const PLUGIN_VERSION: &str = "0.1.0";

/// Generates the project files for an intent.
pub fn generate_project(intent: &Intent) -> Result<Vec<File>, PluginError> {
    let spec = qlp_intent_spec::analyze(intent)?;
    project::render_project(&spec)
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
        let files = generate_project(&request.intent)?;
        qlp_sdk::agent::log_generated("generated Go project", &files, request.iteration);
        Ok(files)
    }
}

qlp_sdk::export_agent!(TemplateGo);

#[cfg(test)]
mod tests {
    use super::*;

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
