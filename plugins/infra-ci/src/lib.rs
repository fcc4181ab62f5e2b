//! QLP agent `qlp/ci-workflow`: adds `.github/workflows/ci.yml`, a GitHub
//! Actions workflow that runs the generated project's own tests for the
//! stack an earlier agent wrote.
//!
//! When it writes (see [`applies`]): the earlier files are a project of a
//! known stack with tests of its own (a static site counts: its pages are
//! checked), and the intent does not refuse it ("without CI", "no GitHub
//! Actions"). Otherwise it returns no files.
//!
//! What it writes is in [`workflow`]: a `test` job per stack (Go, Node or
//! TypeScript, a Vite front-end, Python, Rust, a static site) with
//! dependency caching, a service container for the intent's database when
//! the tests read `DATABASE_URL`, and a `docker` job building the image
//! when there is a Dockerfile; the token can only read the repository and
//! every action is pinned to a major version.
//!
//! A repair round regenerates the same workflow from the same request.
//!
//! Errors: `EMPTY_INTENT` when the description is blank.

pub mod workflow;

use qlp_infra_kit::project::{CI_WORDS, Project, Wants};
use qlp_sdk::PluginKind;
use qlp_sdk::agent::{Agent, File, GenerationRequest, PluginError, PluginInfo};

/// The plugin's namespaced name.
pub const PLUGIN_NAME: &str = "qlp/ci-workflow";

/// The plugin's version.
pub const PLUGIN_VERSION: &str = "0.1.0";

/// Where the workflow is written.
pub const WORKFLOW_PATH: &str = ".github/workflows/ci.yml";

/// Whether the agent writes anything for this intent and these files.
pub fn applies(wants: &Wants, project: &Project<'_>) -> bool {
    !wants.refuses(CI_WORDS) && project.stack.is_some() && project.has_tests
}

/// The files for a request: the workflow, or none.
pub fn generate_files(request: &GenerationRequest) -> Result<Vec<File>, PluginError> {
    let wants = Wants::read(&request.intent)?;
    let project = Project::read(&request.files);
    if !applies(&wants, &project) {
        return Ok(Vec::new());
    }
    let tests_need_database = workflow::tests_read_database(&request.files);
    Ok(vec![File::text(
        WORKFLOW_PATH,
        workflow::render(&wants, &project, tests_need_database),
    )])
}

/// The agent's entry points, a thin layer over [`generate_files`].
pub struct CiWorkflow;

impl Agent for CiWorkflow {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: PLUGIN_NAME.into(),
            version: PLUGIN_VERSION.into(),
            kind: PluginKind::Agent,
            description: "Adds a GitHub Actions workflow running the generated project's own \
                          tests for its stack (with caching and a database service when the \
                          tests need one) and building its Docker image."
                .into(),
            capabilities: vec![],
        }
    }

    fn generate(request: GenerationRequest) -> Result<Vec<File>, PluginError> {
        let files = generate_files(&request)?;
        qlp_sdk::agent::log_generated("generated CI workflow", &files, request.iteration);
        Ok(files)
    }
}

// Exported only in the component: natively the export symbols would clash
// with those of the stack agents the integration tests link.
#[cfg(target_arch = "wasm32")]
qlp_sdk::export_agent!(CiWorkflow);

#[cfg(test)]
mod tests {
    use super::*;

    qlp_agent_testkit::agent_contract_tests! {
        agent: CiWorkflow,
        name: "qlp/ci-workflow",
        requirements: ["Run the tests on every pull request"],
        constraints: [("ci", "GitHub Actions")],
        generates: "Create a Go REST API for warehouse items with PostgreSQL",
        repairs: ("Build a Go API to manage customer orders", 2),
        blank: "  ",
    }
}
