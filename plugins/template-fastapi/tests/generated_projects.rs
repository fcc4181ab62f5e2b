//! End-to-end check of what the agent promises: the generated projects run.
//! Each test writes a generated project into a temporary directory and runs
//! its own pytest suite with `python3 -m pytest`.
//!
//! These tests need python3 with fastapi, httpx, pytest and pydantic; when
//! they are missing the tests fail and say what to install.

use std::path::{Component, Path};
use std::process::Command;

use qlp_plugin_template_fastapi::{generate_project, generate_repaired};
use qlp_sdk::{File, Finding, Intent, Severity};

const INSTALL_HINT: &str = "install python3 and the packages the generated projects test with: pip install fastapi httpx pytest uvicorn";

fn intent(description: &str) -> Intent {
    intent_with(description, &[])
}

/// The intent with `constraints`, such as the planner's compliance concern.
fn intent_with(description: &str, constraints: &[(&str, &str)]) -> Intent {
    Intent {
        id: "00000000-0000-0000-0000-000000000000".into(),
        description: description.into(),
        requirements: vec![],
        constraints: constraints
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect(),
        tier: "standard".into(),
    }
}

/// Fails the test, naming what to install, unless python3 can import what
/// the generated tests need.
fn require_python() {
    let output = Command::new("python3")
        .args(["-c", "import fastapi, httpx, pydantic, pytest"])
        .output()
        .unwrap_or_else(|error| panic!("cannot run python3 ({error}): {INSTALL_HINT}"));
    assert!(
        output.status.success(),
        "python3 lacks a package the generated tests need ({}): {INSTALL_HINT}",
        String::from_utf8_lossy(&output.stderr).trim()
    );
}

fn write_project(root: &Path, files: &[File]) {
    for file in files {
        let relative = Path::new(&file.path);
        assert!(
            relative
                .components()
                .all(|c| matches!(c, Component::Normal(_))),
            "{} is not a plain relative path",
            file.path
        );
        let path = root.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create directories");
        }
        std::fs::write(&path, &file.content).expect("write file");
    }
}

/// Generates the project for `description`, runs its test suite and returns
/// pytest's output; fails when the suite does not pass.
fn generated_suite_passes(description: &str) -> String {
    generated_files_pass(
        description,
        &generate_project(&intent(description)).expect("the intent generates"),
    )
}

/// [`generated_suite_passes`] for files already generated.
fn generated_files_pass(description: &str, files: &[File]) -> String {
    require_python();
    let dir = tempfile::tempdir().expect("temporary directory");
    write_project(dir.path(), files);
    let output = Command::new("python3")
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .current_dir(dir.path())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        // The suites must not depend on the developer's environment: no
        // login or secret is given, and a database URL is set that the
        // tests must ignore in favour of in-memory storage.
        .env_remove("JWT_SECRET")
        .env_remove("AUTH_USERNAME")
        .env_remove("AUTH_PASSWORD")
        .env("DATABASE_URL", "postgresql://unreachable.invalid/none")
        .output()
        .unwrap_or_else(|error| panic!("cannot run python3 -m pytest ({error}): {INSTALL_HINT}"));
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "the generated suite for {description:?} failed:\n{report}"
    );
    assert!(
        report.contains(" passed"),
        "pytest ran no tests for {description:?}:\n{report}"
    );
    assert!(
        !report.contains("skipped"),
        "the generated suite skipped tests:\n{report}"
    );
    report
}

#[test]
fn the_invoices_service_with_jwt_and_postgres_passes_its_tests() {
    let report = generated_suite_passes(
        "Create a FastAPI service for invoices with JWT auth and PostgreSQL",
    );
    assert!(
        report.contains("30 passed"),
        "every generated test ran:\n{report}"
    );
}

#[test]
fn a_plain_orders_service_passes_its_tests() {
    let report = generated_suite_passes("Build an API to manage customer orders");
    assert!(
        report.contains("14 passed"),
        "every generated test ran:\n{report}"
    );
}

#[test]
fn a_service_with_two_resources_and_auth_passes_its_tests() {
    generated_suite_passes("REST API for books and authors with token auth");
}

/// The text of the generated file at `path`.
fn text<'a>(files: &'a [File], path: &str) -> &'a str {
    files
        .iter()
        .find(|f| f.path == path)
        .and_then(File::as_text)
        .unwrap_or_else(|| panic!("{path} is generated"))
}

#[test]
fn a_payments_service_audits_every_change_and_expires_old_records() {
    let description = "A payments API for cards and charges with JWT auth";
    let files = generate_project(&intent_with(description, &[("compliance", "payments")]))
        .expect("the intent generates");
    let report = generated_files_pass(description, &files);
    assert!(
        report.contains("61 passed"),
        "every generated test ran:\n{report}"
    );
    let routes = text(&files, "app/routes/payments.py");
    assert!(
        routes.contains("audit(request, actor, \"create\", \"payments\", record.id, \"success\")")
    );
    assert!(routes.contains("Depends(require_user), Depends(purge_expired)"));
    assert!(text(&files, "app/config.py").contains("RECORD_RETENTION_DAYS"));
    let readme = text(&files, "README.md");
    for words in [
        "## Data protection",
        "the intent's compliance concern `payments`",
        "### Audit trail",
        "### Retention",
    ] {
        assert!(readme.contains(words), "README has {words}:\n{readme}");
    }
}

#[test]
fn a_health_records_service_without_auth_audits_anonymous_changes() {
    let description = "A patient records API for a clinic";
    let files = generate_project(&intent_with(description, &[("compliance", "health-data")]))
        .expect("the intent generates");
    let report = generated_files_pass(description, &files);
    assert!(report.contains(" passed"), "{report}");
    assert!(!files.iter().any(|f| f.path == "app/auth.py"));
    assert!(text(&files, "app/audit.py").contains("return ANONYMOUS_ACTOR"));
    assert!(text(&files, "tests/test_protection.py").contains("actor = \"anonymous\""));
}

#[test]
fn a_project_repaired_after_an_audit_finding_passes_its_tests() {
    let description = "Build an API to manage customer orders with a database";
    let finding = |rule_id: &str| Finding::new(rule_id, Severity::Medium, "…");
    let files = generate_repaired(
        &intent(description),
        &[finding("compliance/no-audit-logging")],
    )
    .expect("the intent generates");
    generated_files_pass(description, &files);
    assert!(text(&files, "app/routes/orders.py").contains("audit(request, actor"));
    assert!(!files.iter().any(|f| f.path == "app/retention.py"));
}
