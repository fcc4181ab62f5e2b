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
        let count = files.len().to_string();
        let iteration = request.iteration.to_string();
        qlp_sdk::log::info(
            "generated Go project",
            &[("files", count.as_str()), ("iteration", iteration.as_str())],
        );
        Ok(files)
    }
}

qlp_sdk::export_agent!(TemplateGo);

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
                requirements: vec!["Each item has a SKU, a name and a quantity".into()],
                constraints: vec![("language".into(), "Go".into())],
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
        let info = TemplateGo::describe();
        assert_eq!(info.name, "qlp/template-go");
        assert_eq!(info.version, "0.1.0");
        assert_eq!(info.kind, PluginKind::Agent);
        assert!(info.capabilities.is_empty());
    }

    #[test]
    fn the_same_request_gives_byte_identical_files() {
        let description = "Create a Go REST API for warehouse items with PostgreSQL and JWT auth";
        let first = TemplateGo::generate(request(description, 0)).expect("generates");
        let second = TemplateGo::generate(request(description, 0)).expect("generates");
        assert_eq!(snapshot(&first), snapshot(&second));
    }

    #[test]
    fn a_repair_round_returns_the_same_project() {
        let description = "Build a Go API to manage customer orders";
        let first = TemplateGo::generate(request(description, 0)).expect("generates");
        let mut repair = request(description, 2);
        repair.files = first.clone();
        let repaired = TemplateGo::generate(repair).expect("generates");
        assert_eq!(snapshot(&repaired), snapshot(&first));
    }

    #[test]
    fn an_empty_intent_is_refused_with_empty_intent() {
        let error = TemplateGo::generate(request("  ", 0)).expect_err("blank intent");
        assert_eq!(error.code, "EMPTY_INTENT");
    }
}
