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
//! Generation is deterministic: the same request gives byte-identical files.
//! A repair round (`iteration > 0`) regenerates the same project; the host
//! merges it with the files of other agents.
//!
//! Errors: `EMPTY_INTENT` when the description is blank.

pub mod project;

use qlp_sdk::agent::{Agent, File, GenerationRequest, PluginError, PluginInfo};
use qlp_sdk::{Intent, PluginKind};

/// The plugin's namespaced name.
pub const PLUGIN_NAME: &str = "qlp/template-rust";

/// The plugin's version.
pub const PLUGIN_VERSION: &str = "0.1.0";

/// Generates the project files for an intent.
pub fn generate_project(intent: &Intent) -> Result<Vec<File>, PluginError> {
    let spec = qlp_intent_spec::analyze(intent)?;
    project::render_project(&spec)
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
        let files = generate_project(&request.intent)?;
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
}
