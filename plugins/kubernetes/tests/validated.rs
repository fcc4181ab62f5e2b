//! The exported manifests are valid Kubernetes objects: every manifest of
//! the archive is checked, strictly, against the API schemas of the oldest
//! and the newest Kubernetes release that `kubernetes-validate` (PyPI)
//! ships, and what a YAML reader makes of each file must be exactly the
//! object the exporter built. The capsules are the template files of QLP's
//! FastAPI, Go and static-site agents (see [`template_capsule`]) as well
//! as option-rich ones.
//!
//! The kustomization is built with real kustomize (`kubectl kustomize`),
//! and what it builds is validated and compared the same way.
//!
//! `kubernetes-validate` and `kubectl` are installed by `deploy/setup.sh`.
//! Without them the tests say so and pass, except under CI (`CI` set),
//! where they fail.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use qlp_plugin_kubernetes::settings::Settings;
use qlp_plugin_kubernetes::{export_files, manifests};
use qlp_sdk::File;
use qlp_sdk::exporter::ExportOptions;
use serde_json::Value;

mod common;

use common::options;

/// Kubernetes releases validated against: the oldest and the newest
/// schema set of kubernetes-validate 1.37.
const KUBERNETES_VERSIONS: &str = "1.25.0,1.37.0";

const VALIDATOR_HINT: &str = "install kubernetes-validate for python3 (run deploy/setup.sh, or `python3 -m pip install kubernetes-validate==1.37.0`)";

const KUBECTL_HINT: &str =
    "install kubectl (run deploy/setup.sh, or `apt-get install kubernetes-client`)";

/// Whether `command` runs and succeeds; when it does not, panics under CI
/// and says SKIPPED elsewhere.
fn available(mut command: Command, what: &str, hint: &str) -> bool {
    let ok = command.output().is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none_or(|v| v.is_empty()),
            "{what} is missing under CI: {hint}"
        );
        // Straight to the process's stderr: the test harness would swallow
        // an eprintln! of a passing test.
        let _ = writeln!(std::io::stderr(), "SKIPPED: {what} is missing: {hint}");
    }
    ok
}

/// Whether kubernetes-validate and kubectl (for its kustomize) can run.
fn tools_available() -> bool {
    let mut validator = Command::new("python3");
    validator.args(["-c", "import kubernetes_validate, yaml"]);
    let mut kubectl = Command::new("kubectl");
    kubectl.args(["kustomize", "--help"]);
    available(validator, "kubernetes-validate", VALIDATOR_HINT)
        && available(kubectl, "kubectl", KUBECTL_HINT)
}

/// Runs the schema validation over the files; returns what a YAML reader
/// made of each, by path.
fn validate(paths: &[&Path]) -> serde_json::Map<String, Value> {
    let output = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/validate_manifests.py"))
        .arg(KUBERNETES_VERSIONS)
        .args(paths)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "the manifests are invalid:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the validator's JSON")
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

    let manifest_paths: Vec<&Path> = manifest_files.iter().map(|p| p.as_path()).collect();
    let parsed = validate(&manifest_paths);

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

    // Real kustomize (kubectl's) builds the package; what it builds is
    // valid too, and is the objects built, in the namespace if one is set.
    let service_dir = kustomization[0].parent().expect("the service directory");
    let built = Command::new("kubectl")
        .arg("kustomize")
        .arg(service_dir)
        .output()
        .expect("kubectl runs");
    assert!(
        built.status.success(),
        "kustomize refuses the package:\n{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let built_path = dir.path().join("built.yaml");
    std::fs::write(&built_path, &built.stdout).expect("write the build");
    let built = validate(&[&built_path]);
    let mut built: Vec<Value> = built[built_path.to_str().expect("a UTF-8 path")]
        .as_array()
        .expect("documents")
        .clone();
    let namespace = options
        .options
        .iter()
        .find(|(k, _)| k == "namespace")
        .map(|(_, v)| v.clone());
    let mut want: Vec<Value> = expected
        .iter()
        .map(|(_, object)| {
            let mut object = object.clone();
            if let Some(namespace) = &namespace {
                object["metadata"]["namespace"] = Value::String(namespace.clone());
            }
            object
        })
        .collect();
    let by_kind = |a: &Value, b: &Value| a["kind"].to_string().cmp(&b["kind"].to_string());
    built.sort_by(by_kind);
    want.sort_by(by_kind);
    assert_eq!(built, want, "kustomize builds the objects");

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
    if !tools_available() {
        return;
    }
    export_and_validate(&[], &options("invoices", &[]));
}

#[test]
fn every_option_validates() {
    if !tools_available() {
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
    if !tools_available() {
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
