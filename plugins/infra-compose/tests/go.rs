//! `qlp/compose` over the Go agent's projects: Compose Specification
//! schema, references and `qlp/infrastructure` (see `common`), SQLite,
//! a database alone, a repair round and when nothing is written. Each
//! test binary links one stack agent: their component exports would clash.

mod common;

use common::{check_stack, request, tools_available, validate};
use qlp_agent_testkit::{intent, write_project};
use qlp_plugin_infra_compose::generate_files;
use qlp_sdk::File;

#[test]
fn the_go_service_runs_with_postgres() {
    check_stack(
        "go",
        qlp_plugin_template_go::generate_project,
        "Create a Go REST API for warehouse inventory with PostgreSQL and JWT auth",
    );
}

#[test]
fn a_database_alone_is_composed_when_the_intent_asks_without_a_dockerfile() {
    if !tools_available() {
        return;
    }
    let intent = intent(
        "Run PostgreSQL with docker compose for the notes service",
        &[],
        &[],
    );
    let files = generate_files(&request(intent, vec![], 0)).expect("generates");
    let dir = tempfile::tempdir().expect("temp dir");
    write_project(dir.path(), &files);
    let compose = validate(dir.path());
    assert!(compose["services"].get("app").is_none());
    assert_eq!(compose["services"]["db"]["ports"][0], "127.0.0.1:5432:5432");
}

#[test]
fn a_sqlite_service_keeps_its_file_in_a_declared_volume() {
    if !tools_available() {
        return;
    }
    let intent = intent("Create a Go API for notes kept in SQLite", &[], &[]);
    let project = qlp_plugin_template_go::generate_project(&intent).expect("generates");
    let mut all = project.clone();
    all.extend(generate_files(&request(intent, project, 0)).expect("generates"));
    let dir = tempfile::tempdir().expect("temp dir");
    write_project(dir.path(), &all);
    let compose = validate(dir.path());
    assert!(compose["services"].get("db").is_none());
    assert_eq!(compose["services"]["app"]["volumes"][0], "app-data:/data");
    assert!(compose["volumes"].get("app-data").is_some());
}

#[test]
fn a_repair_round_replaces_a_compose_file_the_validator_flags() {
    let intent = intent(
        "Create a Go REST API for invoices with PostgreSQL",
        &[],
        &[],
    );
    let mut project = qlp_plugin_template_go::generate_project(&intent).expect("generates");
    // Round 1 left a compose file that publishes the database and carries
    // its password (say, edited by hand).
    project.push(File::text(
        "compose.yaml",
        "services:\n  db:\n    image: postgres:16.4-alpine\n    ports:\n      - \"5432:5432\"\n    environment:\n      POSTGRES_PASSWORD: hunter2hunter2\n",
    ));
    let before = qlp_plugin_infrastructure::check(&project);
    let rules: Vec<&str> = before.findings.iter().map(|f| f.rule_id.as_str()).collect();
    assert!(
        rules.contains(&"infrastructure/compose-exposed-database"),
        "{rules:?}"
    );
    assert!(
        rules.contains(&"infrastructure/compose-hardcoded-secret"),
        "{rules:?}"
    );

    let mut repair = request(intent, project.clone(), 2);
    repair.findings = before.findings.clone();
    let written = generate_files(&repair).expect("generates");
    let mut merged: Vec<File> = project
        .into_iter()
        .filter(|f| !written.iter().any(|w| w.path == f.path))
        .collect();
    merged.extend(written);
    let after = qlp_plugin_infrastructure::check(&merged);
    assert!(
        after
            .findings
            .iter()
            .all(|f| f.path() != Some("compose.yaml")),
        "{:?}",
        after.findings
    );
}

#[test]
fn nothing_is_written_when_the_intent_refuses_or_there_is_nothing_to_run() {
    let go = intent(
        "Create a Go API for notes with PostgreSQL, without docker",
        &[],
        &[],
    );
    let project = qlp_plugin_template_go::generate_project(&go).expect("generates");
    assert!(
        generate_files(&request(go, project, 0))
            .expect("ok")
            .is_empty()
    );
    let bare = intent("Create a Go API for notes with PostgreSQL", &[], &[]);
    assert!(
        generate_files(&request(bare, vec![], 0))
            .expect("ok")
            .is_empty()
    );
}
