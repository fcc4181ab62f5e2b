//! The exported manifests are valid Kubernetes objects: every manifest of
//! the archive is checked, strictly, against the API schemas of the oldest
//! and the newest Kubernetes release that `kubernetes-validate` (PyPI)
//! ships, and what a YAML reader makes of each file must be exactly the
//! object the exporter built. The capsules are the template files of QLP's
//! FastAPI, Go and static-site agents (see [`template_capsule`]) as well
//! as option-rich ones.
//!
//! `kubernetes-validate` is installed by `deploy/setup.sh`. Without it the
//! tests say so and pass, except under CI (`CI` set), where they fail.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use qlp_plugin_kubernetes::settings::Settings;
use qlp_plugin_kubernetes::{export_files, manifests};
use qlp_sdk::File;
use qlp_sdk::exporter::ExportOptions;
use serde_json::Value;

/// Kubernetes releases validated against: the oldest and the newest
/// schema set of kubernetes-validate 1.37.
const KUBERNETES_VERSIONS: &str = "1.25.0,1.37.0";

const HINT: &str = "install kubernetes-validate for python3 (run deploy/setup.sh, or `python3 -m pip install kubernetes-validate==1.37.0`)";

/// Whether the validator can run; panics when it cannot under CI.
fn validator_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import kubernetes_validate, yaml"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none_or(|v| v.is_empty()),
            "kubernetes-validate is missing under CI: {HINT}"
        );
        // Straight to the process's stderr: the test harness would swallow
        // an eprintln! of a passing test.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: kubernetes-validate is missing: {HINT}"
        );
    }
    ok
}

fn options(base_name: &str, pairs: &[(&str, &str)]) -> ExportOptions {
    ExportOptions {
        base_name: base_name.into(),
        options: pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

/// Unpacks the archive into `dir`; returns the unpacked files.
fn unpack(bytes: &[u8], dir: &Path) -> Vec<PathBuf> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    archive.unpack(dir).expect("the archive unpacks");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("the unpacked directory") {
        let sub = entry.expect("an entry").path();
        for file in std::fs::read_dir(&sub).expect("the service directory") {
            files.push(file.expect("a file").path());
        }
    }
    files.sort();
    files
}

/// Exports the capsule, validates every manifest and checks that each
/// file reads back as the object built; returns the objects by file name.
fn export_and_validate(files: &[File], options: &ExportOptions) -> Vec<(String, Value)> {
    let artifact = export_files(files, options).expect("an artifact");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let unpacked = unpack(&artifact.bytes, dir.path());
    let (manifest_files, kustomization): (Vec<&PathBuf>, Vec<&PathBuf>) = unpacked
        .iter()
        .partition(|p| !p.ends_with("kustomization.yaml"));
    assert_eq!(kustomization.len(), 1, "one kustomization in {unpacked:?}");

    let output = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/validate_manifests.py"))
        .arg(KUBERNETES_VERSIONS)
        .args(&manifest_files)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "the manifests are invalid:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let parsed: serde_json::Map<String, Value> =
        serde_json::from_slice(&output.stdout).expect("the validator's JSON");

    let settings = Settings::resolve(files, &options.base_name, &options.options, &["namespace"])
        .expect("valid settings")
        .0;
    let expected = manifests(&settings);
    assert_eq!(parsed.len(), expected.len(), "{:?}", parsed.keys());
    for (file, object) in &expected {
        let path = dir.path().join(&settings.name).join(file);
        let documents = &parsed[path.to_str().expect("a UTF-8 path")];
        assert_eq!(documents, &Value::Array(vec![object.clone()]), "{file}");
    }

    let kustomization = std::fs::read_to_string(kustomization[0]).expect("kustomization");
    let listed: Vec<&str> = kustomization
        .lines()
        .filter_map(|l| l.strip_prefix("  - "))
        .collect();
    let mut names: Vec<String> = manifest_files
        .iter()
        .map(|p| {
            p.file_name()
                .expect("a name")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    let mut listed_sorted: Vec<String> = listed.iter().map(|s| s.to_string()).collect();
    listed_sorted.sort();
    assert_eq!(
        listed_sorted, names,
        "the kustomization lists every manifest"
    );

    expected
        .into_iter()
        .map(|(file, object)| (file.to_string(), object))
        .collect()
}

/// A capsule of an agent's template files, as generated: every file under
/// `plugins/template-<agent>/templates/`, without `.tmpl`, with `{{port}}`
/// filled in. (Linking the agents themselves is not possible: each plugin
/// crate exports the same component entry points.)
fn template_capsule(agent: &str, port: &str) -> Vec<File> {
    fn walk(dir: &Path, root: &Path, port: &str, files: &mut Vec<File>) {
        for entry in std::fs::read_dir(dir).expect("the template directory") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                walk(&path, root, port, files);
                continue;
            }
            let relative = path.strip_prefix(root).expect("under the root");
            let relative = relative.to_str().expect("a UTF-8 path");
            let text = std::fs::read_to_string(&path).expect("a text template");
            files.push(File::text(
                relative.strip_suffix(".tmpl").unwrap_or(relative),
                text.replace("{{port}}", port)
                    .replace("{{name}}", "service"),
            ));
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(format!("template-{agent}"))
        .join("templates");
    let mut files = Vec::new();
    walk(&root, &root, port, &mut files);
    files.sort_by(|a, b| a.path.cmp(&b.path));
    assert!(files.iter().any(|f| f.path == "Dockerfile"), "{agent}");
    files
}

fn container(objects: &[(String, Value)]) -> &Value {
    let deployment = &objects
        .iter()
        .find(|(f, _)| f == "deployment.yaml")
        .expect("a deployment")
        .1;
    &deployment["spec"]["template"]["spec"]["containers"][0]
}

#[test]
fn a_plain_capsule_validates() {
    if !validator_available() {
        return;
    }
    export_and_validate(&[], &options("invoices", &[]));
}

#[test]
fn every_option_validates() {
    if !validator_available() {
        return;
    }
    let objects = export_and_validate(
        &[File::text(
            "Dockerfile",
            "FROM scratch\nUSER 4000\nEXPOSE 9000\n",
        )],
        &options(
            "Billing API (v2)",
            &[
                (
                    "image",
                    "registry.example.com:5000/acme/billing@sha256:0123abcd",
                ),
                ("health-path", "/status/live"),
                ("replicas", "3"),
                ("max-replicas", "12"),
                ("cpu-request", "0.25"),
                ("cpu-limit", "1"),
                ("memory-request", "300M"),
                ("memory-limit", "1Gi"),
                ("host", "*.billing.example.com"),
                ("ingress-class", "nginx"),
                ("tls-secret", "billing-tls"),
                ("existing-secret", "billing-env"),
                ("namespace", "finance"),
            ],
        ),
    );
    assert!(objects.iter().any(|(f, _)| f == "ingress.yaml"));
    let container = container(&objects);
    assert_eq!(container["ports"][0]["containerPort"], 9000);
    assert_eq!(
        container["livenessProbe"]["httpGet"]["path"],
        "/status/live"
    );
}

#[test]
fn agent_projects_validate_with_their_port_health_path_and_user() {
    if !validator_available() {
        return;
    }
    let fastapi = template_capsule("fastapi", "8000");
    let go = template_capsule("go", "9090");
    let site = template_capsule("static", "8080");
    for (files, base_name, port, health, user) in [
        (&fastapi, "invoices-api", 8000, "/health", 10001),
        (&go, "tasks", 9090, "/health", 65532),
        (&site, "bakery-site", 8080, "/", 101),
    ] {
        let objects = export_and_validate(files, &options(base_name, &[]));
        let container = container(&objects);
        assert_eq!(container["ports"][0]["containerPort"], port, "{base_name}");
        assert_eq!(
            container["readinessProbe"]["httpGet"]["path"], health,
            "{base_name}"
        );
        let deployment = &objects[1].1;
        assert_eq!(
            deployment["spec"]["template"]["spec"]["securityContext"]["runAsUser"], user,
            "{base_name}"
        );
    }
}
