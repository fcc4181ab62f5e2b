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
        let count = files.len().to_string();
        let iteration = request.iteration.to_string();
        qlp_sdk::log::info(
            "generated FastAPI project",
            &[("files", count.as_str()), ("iteration", iteration.as_str())],
        );
        Ok(files)
    }
}

qlp_sdk::export_agent!(TemplateFastapi);

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
                requirements: vec!["List endpoints return every record".into()],
                constraints: vec![("framework".into(), "FastAPI".into())],
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
        let info = TemplateFastapi::describe();
        assert_eq!(info.name, "qlp/template-fastapi");
        assert_eq!(info.version, "0.1.0");
        assert_eq!(info.kind, PluginKind::Agent);
        assert!(info.capabilities.is_empty());
    }

    #[test]
    fn the_same_request_gives_byte_identical_files() {
        let description = "Create a FastAPI service for invoices with JWT auth and PostgreSQL";
        let first = TemplateFastapi::generate(request(description, 0)).expect("generates");
        let second = TemplateFastapi::generate(request(description, 0)).expect("generates");
        assert_eq!(snapshot(&first), snapshot(&second));
    }

    #[test]
    fn a_repair_round_returns_the_same_project() {
        let description = "Build an API to manage customer orders";
        let first = TemplateFastapi::generate(request(description, 0)).expect("generates");
        let mut repair = request(description, 2);
        repair.files = first.clone();
        let repaired = TemplateFastapi::generate(repair).expect("generates");
        assert_eq!(snapshot(&repaired), snapshot(&first));
    }

    #[test]
    fn an_empty_intent_is_refused_with_empty_intent() {
        let error = TemplateFastapi::generate(request("  ", 0)).expect_err("blank intent");
        assert_eq!(error.code, "EMPTY_INTENT");
    }
}
