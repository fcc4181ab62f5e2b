//! `qlp/ci-workflow` over the Go agent's projects, and over hand-written
//! earlier files of the stacks whose agents are not linked here (a
//! Python project whose tests need a database, a Rust crate, a static
//! site), linted with actionlint (see `common`). Each test binary links
//! one stack agent: their component exports would clash.

mod common;

use common::{actions, check_common, commands, intent, linted_workflow, request, tools_available};
use qlp_plugin_infra_ci::generate_files;
use qlp_sdk::File;

#[test]
fn a_go_project_is_vetted_tested_and_its_image_built() {
    if !tools_available() {
        return;
    }
    let description = "Create a Go REST API for warehouse inventory with PostgreSQL and JWT auth";
    let project = qlp_plugin_template_go::generate_project(&intent(description, &[], &[]))
        .expect("generates");
    let workflow = linted_workflow(description, project);
    check_common(&workflow);
    assert_eq!(
        commands(&workflow, "test"),
        ["go vet ./...", "go test ./..."]
    );
    assert!(actions(&workflow, "test").contains(&"actions/setup-go@v6".to_string()));
    // The Go tests keep records in memory: no database service.
    assert!(workflow["jobs"]["test"].get("services").is_none());
    assert_eq!(workflow["jobs"]["docker"]["needs"], "test");
    assert_eq!(
        workflow["jobs"]["docker"]["steps"][2]["with"]["push"],
        false
    );
}

#[test]
fn tests_that_read_database_url_get_the_intents_database_as_a_service() {
    if !tools_available() {
        return;
    }
    let project = vec![
        File::text("requirements.txt", "fastapi\npsycopg[binary]\npytest\n"),
        File::text(
            "app/main.py",
            "import os\nURL = os.environ.get(\"DATABASE_URL\")\n",
        ),
        File::text(
            "tests/conftest.py",
            "import os\nDATABASE = os.environ[\"DATABASE_URL\"]\n",
        ),
        File::text(
            "tests/test_store.py",
            "def test_store():\n    assert True\n",
        ),
    ];
    for (description, image, url) in [
        ("A Python API for notes in MySQL", "mysql:8.4", "mysql://"),
        (
            "A Python API for notes in PostgreSQL",
            "postgres:16",
            "postgres://",
        ),
        (
            "A Python API for notes in MongoDB",
            "mongo:7.0",
            "mongodb://",
        ),
    ] {
        let workflow = linted_workflow(description, project.clone());
        check_common(&workflow);
        let test = &workflow["jobs"]["test"];
        assert_eq!(test["services"]["db"]["image"], image);
        assert!(
            test["env"]["DATABASE_URL"]
                .as_str()
                .expect("url")
                .starts_with(url)
        );
        assert_eq!(
            commands(&workflow, "test"),
            [
                "python -m pip install -r requirements.txt pytest",
                "python -m pytest -q"
            ]
        );
        assert_eq!(test["steps"][1]["with"]["cache"], "pip");
        assert!(workflow["jobs"].get("docker").is_none(), "no Dockerfile");
    }
}

#[test]
fn rust_and_static_projects_get_their_own_checks() {
    if !tools_available() {
        return;
    }
    let rust = vec![
        File::text(
            "Cargo.toml",
            "[package]\nname = \"notes\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        ),
        File::text("src/lib.rs", "#[test]\nfn works() {}\n"),
        File::text("Dockerfile", "FROM rust:1\nUSER 10001\nEXPOSE 8080\n"),
    ];
    let workflow = linted_workflow("A Rust API for notes", rust);
    check_common(&workflow);
    assert_eq!(commands(&workflow, "test"), ["cargo test"]);
    assert!(actions(&workflow, "test").contains(&"actions/cache@v5".to_string()));
    let site = vec![File::text(
        "index.html",
        "<!doctype html><title>x</title>\n",
    )];
    let workflow = linted_workflow("A static site for a bakery", site);
    check_common(&workflow);
    assert!(commands(&workflow, "test")[0].starts_with("npx --yes html-validate@"));
}

#[test]
fn nothing_is_written_without_a_tested_project_or_when_refused() {
    let go = intent("Create a Go API for notes, no CI", &[], &[]);
    let project = qlp_plugin_template_go::generate_project(&go).expect("generates");
    assert!(
        generate_files(&request(go, project))
            .expect("ok")
            .is_empty()
    );
    let docs = vec![File::text("README.md", "# notes\n")];
    let plain = intent("Create a Go API for notes", &[], &[]);
    assert!(
        generate_files(&request(plain.clone(), docs))
            .expect("ok")
            .is_empty()
    );
    let untested = vec![
        File::text("go.mod", "module notes\n"),
        File::text("main.go", "package main\n"),
    ];
    assert!(
        generate_files(&request(plain, untested))
            .expect("ok")
            .is_empty()
    );
}
