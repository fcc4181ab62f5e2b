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
//! Generation is deterministic: the same request gives byte-identical files.
//! A repair round (`iteration > 0`) regenerates the same project; the host
//! merges it with the files of other agents.
//!
//! Errors: `EMPTY_INTENT` when the description is blank.

pub mod project;

use qlp_sdk::agent::{Agent, File, GenerationRequest, PluginError, PluginInfo};
use qlp_sdk::{Intent, PluginKind};

/// The plugin's namespaced name.
pub const PLUGIN_NAME: &str = "qlp/template-node";

/// The plugin's version.
pub const PLUGIN_VERSION: &str = "0.1.0";

/// Generates the project files for an intent.
pub fn generate_project(intent: &Intent) -> Result<Vec<File>, PluginError> {
    let spec = qlp_intent_spec::analyze(intent)?;
    project::render_project(&spec)
}

/// The agent's entry points, a thin layer over [`generate_project`].
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
        let files = generate_project(&request.intent)?;
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
}
