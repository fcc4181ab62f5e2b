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
        let count = files.len().to_string();
        let iteration = request.iteration.to_string();
        qlp_sdk::log::info(
            "generated Rust project",
            &[("files", count.as_str()), ("iteration", iteration.as_str())],
        );
        Ok(files)
    }
}

qlp_sdk::export_agent!(TemplateRust);

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
                constraints: vec![("framework".into(), "axum".into())],
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
        let info = TemplateRust::describe();
        assert_eq!(info.name, "qlp/template-rust");
        assert_eq!(info.version, "0.1.0");
        assert_eq!(info.kind, PluginKind::Agent);
        assert!(info.capabilities.is_empty());
    }

    #[test]
    fn the_same_request_gives_byte_identical_files() {
        let description = "Create a Rust axum service for support tickets with JWT auth";
        let first = TemplateRust::generate(request(description, 0)).expect("generates");
        let second = TemplateRust::generate(request(description, 0)).expect("generates");
        assert_eq!(snapshot(&first), snapshot(&second));
    }

    #[test]
    fn a_repair_round_returns_the_same_project() {
        let description = "A Rust API for tickets";
        let first = TemplateRust::generate(request(description, 0)).expect("generates");
        let mut repair = request(description, 1);
        repair.files = first.clone();
        let repaired = TemplateRust::generate(repair).expect("generates");
        assert_eq!(snapshot(&repaired), snapshot(&first));
    }

    #[test]
    fn an_empty_intent_is_refused_with_empty_intent() {
        let error = TemplateRust::generate(request("\n", 0)).expect_err("blank intent");
        assert_eq!(error.code, "EMPTY_INTENT");
    }
}
