//! `qlp/ci-workflow` over the FastAPI agent's projects (see `common`).

mod common;

use common::{check_common, commands, intent, linted_workflow};

#[test]
fn a_fastapi_project_runs_pytest() {
    if !common::tools_available() {
        return;
    }
    let description = "A FastAPI service for recipes with a PostgreSQL database and JWT auth";
    let project = qlp_plugin_template_fastapi::generate_project(&intent(description, &[], &[]))
        .expect("generates");
    let workflow = linted_workflow(description, project);
    check_common(&workflow);
    assert_eq!(
        commands(&workflow, "test"),
        [
            "python -m pip install -r requirements.txt pytest",
            "python -m pytest -q"
        ]
    );
    // The generated tests keep records in memory.
    assert!(workflow["jobs"]["test"].get("services").is_none());
}
