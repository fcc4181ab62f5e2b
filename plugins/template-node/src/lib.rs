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
        let count = files.len().to_string();
        let iteration = request.iteration.to_string();
        qlp_sdk::log::info(
            "generated Node.js project",
            &[("files", count.as_str()), ("iteration", iteration.as_str())],
        );
        Ok(files)
    }
}

qlp_sdk::export_agent!(TemplateNode);

#[cfg(test)]
mod tests {
    use super::*;

    /// Files as comparable (path, bytes) pairs; the bindings' `File` has no `PartialEq`.
    fn snapshot(files: &[File]) -> Vec<(String, Vec<u8>)> {
        files
            .iter()
            .map(|f| (f.path.clone(), f.content.clone()))
            .collect()
    }

    fn request(description: &str, iteration: u32) -> GenerationRequest {
        GenerationRequest {
            intent: Intent {
                id: "00000000-0000-0000-0000-000000000000".into(),
                description: description.into(),
                requirements: vec!["Each ticket has a title, a priority and a done flag".into()],
                constraints: vec![("framework".into(), "Express".into())],
                tier: "standard".into(),
            },
            files: vec![],
            findings: vec![],
            iteration,
            role: "implementer".into(),
        }
    }

    #[test]
    fn describe_names_the_agent() {
        let info = TemplateNode::describe();
        assert_eq!(info.name, "qlp/template-node");
        assert_eq!(info.version, "0.1.0");
        assert_eq!(info.kind, PluginKind::Agent);
        assert!(info.capabilities.is_empty());
    }

    #[test]
    fn the_same_request_gives_byte_identical_files() {
        let description = "Create a Node.js Express service for support tickets with JWT auth";
        let first = TemplateNode::generate(request(description, 0)).expect("generates");
        let second = TemplateNode::generate(request(description, 0)).expect("generates");
        assert_eq!(snapshot(&first), snapshot(&second));
    }

    #[test]
    fn a_repair_round_returns_the_same_project() {
        let description = "A TypeScript API for tickets";
        let first = TemplateNode::generate(request(description, 0)).expect("generates");
        let mut repair = request(description, 1);
        repair.files = first.clone();
        let repaired = TemplateNode::generate(repair).expect("generates");
        assert_eq!(snapshot(&repaired), snapshot(&first));
    }

    #[test]
    fn an_empty_intent_is_refused_with_empty_intent() {
        let error = TemplateNode::generate(request("\n", 0)).expect_err("blank intent");
        assert_eq!(error.code, "EMPTY_INTENT");
    }
}
