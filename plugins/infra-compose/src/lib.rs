//! QLP agent `qlp/compose`: adds a `compose.yaml` and its `.env.example`
//! to the project a stack agent wrote, so `docker compose up` runs the
//! service with the database the intent names.
//!
//! When it writes (see [`applies`]): the intent does not refuse it
//! ("without docker", "no compose"), and either an earlier agent wrote a
//! Dockerfile (there is a service to build), or the intent names
//! docker/compose and a database (then only the database runs, for a
//! service started on the host). Otherwise it returns no files.
//!
//! What it writes is in [`compose`]: the service built from its
//! Dockerfile on the port the Dockerfile exposes, with the environment its
//! sources read; the database as a pinned image with a named volume and a
//! healthcheck that the service waits for; secrets only as required
//! variables (`${JWT_SECRET:?…}`) that `.env` gives, never as values.
//!
//! A repair round regenerates the same files from the same request; they
//! already satisfy `qlp/infrastructure`'s Compose rules, so a finding on
//! `compose.yaml` (say, from a file an earlier round or a person changed)
//! is answered by writing it again.
//!
//! Errors: `EMPTY_INTENT` when the description is blank.

pub mod compose;

use qlp_infra_kit::project::{COMPOSE_WORDS, Project, Wants};
use qlp_sdk::PluginKind;
use qlp_sdk::agent::{Agent, File, GenerationRequest, PluginError, PluginInfo};

/// The plugin's namespaced name.
pub const PLUGIN_NAME: &str = "qlp/compose";

/// The plugin's version.
pub const PLUGIN_VERSION: &str = "0.1.0";

/// Whether the agent writes anything for this intent and these files.
pub fn applies(wants: &Wants, project: &Project<'_>) -> bool {
    if wants.refuses(COMPOSE_WORDS) {
        return false;
    }
    let database_only = wants.names(COMPOSE_WORDS) && compose::has_server(wants);
    project.dockerfile.is_some() || database_only
}

/// The files for a request: `compose.yaml` and `.env.example`, or none.
pub fn generate_files(request: &GenerationRequest) -> Result<Vec<File>, PluginError> {
    let wants = Wants::read(&request.intent)?;
    let project = Project::read(&request.files);
    if !applies(&wants, &project) {
        return Ok(Vec::new());
    }
    Ok(compose::render(&wants, &project))
}

/// The agent's entry points, a thin layer over [`generate_files`].
pub struct Compose;

impl Agent for Compose {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: PLUGIN_NAME.into(),
            version: PLUGIN_VERSION.into(),
            kind: PluginKind::Agent,
            description: "Adds a compose.yaml (the service built from its Dockerfile, the \
                          intent's database pinned with a volume and a healthcheck, secrets \
                          as required variables) and a .env.example to a generated project."
                .into(),
            capabilities: vec![],
        }
    }

    fn generate(request: GenerationRequest) -> Result<Vec<File>, PluginError> {
        let files = generate_files(&request)?;
        qlp_sdk::agent::log_generated("generated compose files", &files, request.iteration);
        Ok(files)
    }
}

// Exported only in the component: natively the export symbols would clash
// with those of the stack agents the integration tests link.
#[cfg(target_arch = "wasm32")]
qlp_sdk::export_agent!(Compose);

#[cfg(test)]
mod tests {
    use super::*;

    qlp_agent_testkit::agent_contract_tests! {
        agent: Compose,
        name: "qlp/compose",
        requirements: ["Run it locally with docker compose"],
        constraints: [("database", "PostgreSQL")],
        generates: "Create a Go REST API for warehouse items with PostgreSQL and JWT auth",
        repairs: ("Build a Go API to manage customer orders in MySQL", 2),
        blank: "  ",
    }
}
