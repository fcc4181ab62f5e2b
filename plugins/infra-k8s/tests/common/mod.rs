//! Shared by the tests of `qlp/k8s-manifests`: every manifest is checked
//! strictly against the Kubernetes 1.25 and 1.37 API schemas by
//! `plugins/kubernetes/tests/validate_manifests.py` (kubernetes-validate
//! from PyPI, the exporter's script, used by path), `kubectl kustomize`
//! builds `k8s/`, and `qlp/container` finds nothing in `k8s/`. The tools
//! come from `deploy/setup.sh` (section 10); without them the tests say
//! so and pass, except under CI (`CI` set), where they fail.

#![allow(dead_code)]

use std::io::Write;
use std::path::Path;
use std::process::Command;

pub use qlp_agent_testkit::{intent, run, write_project};
use qlp_plugin_infra_k8s::generate_files;
use qlp_sdk::agent::GenerationRequest;
use qlp_sdk::{File, Intent};
use serde_json::Value;

const KUBERNETES_VERSIONS: &str = "1.25.0,1.37.0";

const HINT: &str = "install kubernetes-validate for python3 and kubectl (run deploy/setup.sh, or `python3 -m pip install kubernetes-validate==1.37.0`)";

/// Whether kubernetes-validate and kubectl run.
pub fn tools_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import kubernetes_validate, yaml"])
        .output()
        .is_ok_and(|o| o.status.success())
        && Command::new("kubectl")
            .args(["kustomize", "--help"])
            .output()
            .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none_or(|v| v.is_empty()),
            "the Kubernetes validators are missing under CI: {HINT}"
        );
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: kubernetes-validate is missing: {HINT}"
        );
    }
    ok
}

pub fn request(intent: Intent, files: Vec<File>, role: &str) -> GenerationRequest {
    GenerationRequest {
        intent,
        files,
        findings: vec![],
        iteration: 0,
        role: role.into(),
    }
}

/// The manifests for `project`, validated; returns them by file name
/// (`deployment.yaml`…) as JSON, with the files written.
pub fn validated(
    intent: Intent,
    project: Vec<File>,
) -> (Vec<File>, serde_json::Map<String, Value>) {
    let added =
        generate_files(&request(intent, project.clone(), "implementer")).expect("generates");
    assert!(!added.is_empty(), "manifests are written");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut all = project;
    all.extend(added.clone());
    write_project(dir.path(), &all);

    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../kubernetes/tests/validate_manifests.py");
    let mut validate = Command::new("python3");
    validate.arg(script).arg(KUBERNETES_VERSIONS);
    // The kustomization is kustomize's input, not an API object.
    for file in added
        .iter()
        .filter(|f| !f.path.ends_with("kustomization.yaml"))
    {
        validate.arg(dir.path().join(&file.path));
    }
    let parsed: Value = serde_json::from_str(&run(validate, HINT)).expect("JSON");
    let mut by_name = serde_json::Map::new();
    for (path, documents) in parsed.as_object().expect("map") {
        let name = path.rsplit('/').next().expect("name").to_string();
        by_name.insert(name, documents[0].clone());
    }
    let mut kustomize = Command::new("kubectl");
    kustomize.arg("kustomize").arg(dir.path().join("k8s"));
    let built = run(kustomize, HINT);
    assert_eq!(
        built.matches("\nkind: ").count() + usize::from(built.starts_with("kind: ")),
        added.len() - 1,
        "{built}"
    );

    let report = qlp_plugin_container::check(&all);
    let in_k8s: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.path().is_some_and(|p| p.starts_with("k8s/")))
        .collect();
    assert!(in_k8s.is_empty(), "{in_k8s:?}");
    (added, by_name)
}

/// What every deployment must be: probes on `health`, limits, non-root as
/// `user`, secrets only by reference.
pub fn check_deployment(
    manifests: &serde_json::Map<String, Value>,
    port: u16,
    health: &str,
    user: u64,
) {
    let pod = &manifests["deployment.yaml"]["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    assert_eq!(container["ports"][0]["containerPort"], port);
    for probe in ["startupProbe", "readinessProbe", "livenessProbe"] {
        assert_eq!(container[probe]["httpGet"]["path"], health, "{probe}");
    }
    assert!(container["resources"]["limits"]["memory"].is_string());
    assert!(container["resources"]["requests"]["cpu"].is_string());
    assert_eq!(pod["securityContext"]["runAsUser"], user);
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(
        container["securityContext"]["allowPrivilegeEscalation"],
        false
    );
    assert_eq!(container["securityContext"]["readOnlyRootFilesystem"], true);
    for variable in container["env"].as_array().into_iter().flatten() {
        assert!(
            variable.get("value").is_none(),
            "{variable}: no secret values"
        );
        assert!(variable["valueFrom"]["secretKeyRef"]["name"].is_string());
    }
    assert!(!manifests.contains_key("secret.yaml"));
}

/// The names of the secret variables the deployment references.
pub fn secret_refs(manifests: &serde_json::Map<String, Value>) -> Vec<String> {
    manifests["deployment.yaml"]["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| v["name"].as_str().expect("name").to_string())
        .collect()
}
