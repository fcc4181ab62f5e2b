//! QLP agent `qlp/template-react`: generates a React single-page front-end
//! (Vite, TypeScript) from an intent.
//!
//! The intent is read by `qlp-intent-spec`: its resources and their fields,
//! whether the API needs a sign-in and the project's name. The output (see
//! [`project`]) has, per resource, a typed API client, a list page, a form
//! whose controls follow the fields' types (number inputs for quantities,
//! checkboxes for flags, email, URL, date and long-text controls by name)
//! and the routes to them; a sign-in form when the intent asks for
//! authentication; the API's base URL from `VITE_API_URL`; component tests
//! for Vitest and Testing Library that pass as generated (`npm test`); a
//! production build (`npm run build`); a README, a multi-stage Dockerfile
//! serving the built files with unprivileged nginx, and a `.gitignore`.
//!
//! The front-end speaks the API the service agents (`qlp/template-node`,
//! `qlp/template-go`, `qlp/template-rust`) generate for the same intent:
//! `/{resource}` and `/{resource}/{id}` with JSON bodies in the fields'
//! `snake_case` names, 400 answers naming each invalid field, and
//! `POST /auth/token` for a bearer token.
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
pub const PLUGIN_NAME: &str = "qlp/template-react";

/// The plugin's version.
pub const PLUGIN_VERSION: &str = "0.1.0";

/// Generates the project files for an intent.
pub fn generate_project(intent: &Intent) -> Result<Vec<File>, PluginError> {
    let spec = qlp_intent_spec::analyze(intent)?;
    project::render_project(&spec)
}

/// The agent's entry points, a thin layer over [`generate_project`].
pub struct TemplateReact;

impl Agent for TemplateReact {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: PLUGIN_NAME.into(),
            version: PLUGIN_VERSION.into(),
            kind: PluginKind::Agent,
            description: "Generates a React single-page front-end with Vite and TypeScript \
                          (pages, forms and routes for the intent's resources and fields, a \
                          typed API client configured by VITE_API_URL, Vitest component \
                          tests, Dockerfile, README) from an intent, with a sign-in form when \
                          the API needs authentication."
                .into(),
            capabilities: vec![],
        }
    }

    fn generate(request: GenerationRequest) -> Result<Vec<File>, PluginError> {
        let files = generate_project(&request.intent)?;
        let count = files.len().to_string();
        let iteration = request.iteration.to_string();
        qlp_sdk::log::info(
            "generated React project",
            &[("files", count.as_str()), ("iteration", iteration.as_str())],
        );
        Ok(files)
    }
}

qlp_sdk::export_agent!(TemplateReact);

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
                constraints: vec![("framework".into(), "React".into())],
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
        let info = TemplateReact::describe();
        assert_eq!(info.name, "qlp/template-react");
        assert_eq!(info.version, "0.1.0");
        assert_eq!(info.kind, PluginKind::Agent);
        assert!(info.capabilities.is_empty());
    }

    #[test]
    fn the_same_request_gives_byte_identical_files() {
        let description = "Build a React dashboard for support tickets with login";
        let first = TemplateReact::generate(request(description, 0)).expect("generates");
        let second = TemplateReact::generate(request(description, 0)).expect("generates");
        assert_eq!(snapshot(&first), snapshot(&second));
    }

    #[test]
    fn a_repair_round_returns_the_same_project() {
        let description = "A React front-end for tickets";
        let first = TemplateReact::generate(request(description, 0)).expect("generates");
        let mut repair = request(description, 1);
        repair.files = first.clone();
        let repaired = TemplateReact::generate(repair).expect("generates");
        assert_eq!(snapshot(&repaired), snapshot(&first));
    }

    #[test]
    fn an_empty_intent_is_refused_with_empty_intent() {
        let error = TemplateReact::generate(request(" \n", 0)).expect_err("blank intent");
        assert_eq!(error.code, "EMPTY_INTENT");
    }
}
