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
        qlp_sdk::agent::log_generated("generated React project", &files, request.iteration);
        Ok(files)
    }
}

qlp_sdk::export_agent!(TemplateReact);

#[cfg(test)]
mod tests {
    use super::*;

    qlp_agent_testkit::agent_contract_tests! {
        agent: TemplateReact,
        name: "qlp/template-react",
        requirements: ["Each ticket has a title, a priority and a done flag"],
        constraints: [("framework", "React")],
        generates: "Build a React dashboard for support tickets with login",
        repairs: ("A React front-end for tickets", 1),
        blank: " \n",
    }
}
