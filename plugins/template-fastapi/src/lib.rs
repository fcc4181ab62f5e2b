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
//! Generation is deterministic: the same request gives byte-identical files.
//! A repair round (`iteration > 0`) regenerates the same project; the host
//! merges it with the files of other agents.
//!
//! Errors: `EMPTY_INTENT` when the description is blank.

pub mod project;
pub mod spec;

/// Word handling and the template engine, shared with the other stack
/// agents through `qlp-intent-spec`.
pub use qlp_intent_spec::{template, words};

use qlp_sdk::agent::{Agent, File, GenerationRequest, PluginError, PluginInfo};
use qlp_sdk::{Intent, PluginKind};

/// The plugin's namespaced name.
pub const PLUGIN_NAME: &str = "qlp/template-fastapi";

/// The plugin's version.
pub const PLUGIN_VERSION: &str = "0.1.0";

/// Generates the project files for an intent.
pub fn generate_project(intent: &Intent) -> Result<Vec<File>, PluginError> {
    let spec = spec::analyze(intent)?;
    project::render_project(&spec)
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
        let files = generate_project(&request.intent)?;
        qlp_sdk::agent::log_generated("generated FastAPI project", &files, request.iteration);
        Ok(files)
    }
}

qlp_sdk::export_agent!(TemplateFastapi);

#[cfg(test)]
mod tests {
    use super::*;

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
