//! `qlp/ci-workflow` over the Node agent's projects (see `common`).

mod common;

use common::{check_common, commands, intent, linted_workflow};

#[test]
fn a_node_project_installs_and_runs_npm_test() {
    if !common::tools_available() {
        return;
    }
    let description = "A Node.js TypeScript API for orders stored in MySQL";
    let project = qlp_plugin_template_node::generate_project(&intent(description, &[], &[]))
        .expect("generates");
    let locked = project.iter().any(|f| f.path == "package-lock.json");
    let workflow = linted_workflow(description, project);
    check_common(&workflow);
    let install = if locked {
        "npm ci"
    } else {
        "npm install --no-audit --no-fund"
    };
    assert_eq!(commands(&workflow, "test"), [install, "npm test"]);
    assert!(workflow["jobs"]["docker"].is_object());
}
