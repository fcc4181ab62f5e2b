//! The exported chart works with Helm itself: the archive is loaded and
//! linted strictly, its values.schema.json is a valid draft-7 JSON Schema
//! that accepts values.yaml and that Helm uses to refuse bad values, and
//! every object it renders, for the defaults and for values that turn each
//! optional part on or off, is valid against the Kubernetes API schemas of
//! the oldest and newest release kubernetes-validate ships, with the
//! hardened security context in every workload.
//!
//! Helm runs in-process through helm-python-sdk (Helm 4's Go SDK as a
//! shared library; no package registry here ships a helm binary), from
//! `tests/render_chart.py`. It and kubernetes-validate are installed by
//! `deploy/setup.sh`. Without them the tests say so and pass, except under
//! CI (`CI` set), where they fail.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use qlp_plugin_helm::export_files;
use qlp_sdk::File;
use qlp_sdk::exporter::ExportOptions;
use serde_json::{Value, json};

#[path = "../../kubernetes/tests/common/mod.rs"]
mod common;

/// Kubernetes releases validated against: the oldest and the newest
/// schema set of kubernetes-validate 1.37.
const KUBERNETES_VERSIONS: [&str; 2] = ["1.25.0", "1.37.0"];

const HINT: &str = "install helm-python-sdk and kubernetes-validate for python3 (run deploy/setup.sh, or `python3 -m pip install helm-python-sdk==0.2.2 kubernetes-validate==1.37.0`)";

/// Whether Helm and the validator can run; panics when they cannot under
/// CI.
fn tools_available() -> bool {
    let ok = Command::new("python3")
        .args([
            "-c",
            "import helm_python, kubernetes_validate, jsonschema, yaml",
        ])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none_or(|v| v.is_empty()),
            "Helm or kubernetes-validate is missing under CI: {HINT}"
        );
        // Straight to the process's stderr: the test harness would swallow
        // an eprintln! of a passing test.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: Helm or kubernetes-validate is missing: {HINT}"
        );
    }
    ok
}

fn options(pairs: &[(&str, &str)]) -> ExportOptions {
    common::options("Shop Front", pairs)
}

fn capsule() -> Vec<File> {
    vec![
        File::text(
            "Dockerfile",
            "FROM node:20-bookworm-slim\nUSER node\nENV PORT=3000\nEXPOSE 3000\n",
        ),
        File::text(
            "src/app.ts",
            "app.get(\"/healthz\", (_req, res) => res.json({ status: \"ok\" }));\n",
        ),
    ]
}

/// Exports the capsule's chart, then has Helm lint it and render it with
/// each of `cases`; returns each case's outcome.
fn render(files: &[File], options: &ExportOptions, cases: &[Value]) -> Vec<Value> {
    let artifact = export_files(files, "A shop front for a bakery", options).expect("a chart");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let chart = dir.path().join(&artifact.file_name);
    std::fs::write(&chart, &artifact.bytes).expect("write the chart");
    let request = json!({
        "chart": chart,
        "versions": KUBERNETES_VERSIONS,
        "cases": cases.iter().map(|values| json!({ "values": values })).collect::<Vec<_>>(),
    });
    let mut child = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/render_chart.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(request.to_string().as_bytes())
        .expect("send the request");
    let output = child.wait_with_output().expect("python3 ends");
    assert!(
        output.status.success(),
        "Helm or the Kubernetes schemas refuse the chart:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let response: Value = serde_json::from_slice(&output.stdout).expect("the script's JSON");
    response["cases"].as_array().expect("cases").clone()
}

/// The rendered objects of one kind.
fn objects<'a>(case: &'a Value, kind: &str) -> Vec<&'a Value> {
    case["manifests"]
        .as_object()
        .unwrap_or_else(|| panic!("rendered manifests in {case}"))
        .values()
        .flat_map(|documents| documents.as_array().expect("documents"))
        .filter(|object| object["kind"] == kind)
        .collect()
}

fn assert_hardened(deployment: &Value) {
    let pod = &deployment["spec"]["template"]["spec"];
    assert_eq!(pod["automountServiceAccountToken"], false);
    let security = &pod["securityContext"];
    assert_eq!(security["runAsNonRoot"], true);
    assert_eq!(security["seccompProfile"]["type"], "RuntimeDefault");
    for container in pod["containers"].as_array().expect("containers") {
        let security = &container["securityContext"];
        assert_eq!(security["runAsNonRoot"], true);
        assert_eq!(security["readOnlyRootFilesystem"], true);
        assert_eq!(security["allowPrivilegeEscalation"], false);
        assert_eq!(security["capabilities"]["drop"], json!(["ALL"]));
        assert_eq!(security["seccompProfile"]["type"], "RuntimeDefault");
    }
}

#[test]
fn the_chart_lints_renders_and_validates_with_every_part() {
    if !tools_available() {
        return;
    }
    let digest = format!("sha256:{}", "ab".repeat(32));
    let cases = render(
        &capsule(),
        &options(&[]),
        &[
            json!({}),
            json!({
                "ingress": {
                    "enabled": true,
                    "host": "shop.example.com",
                    "className": "nginx",
                    "annotations": { "cert-manager.io/cluster-issuer": "letsencrypt" },
                    "tls": { "secretName": "shop-tls" },
                },
                "existingSecret": "shop-env",
                "autoscaling": { "enabled": false },
                "podDisruptionBudget": { "enabled": false },
                "env": { "LOG_LEVEL": "debug" },
                "image": { "repository": "ghcr.io/acme/shop", "digest": digest },
                "imagePullSecrets": [{ "name": "ghcr" }],
                "nodeSelector": { "kubernetes.io/os": "linux" },
                "replicaCount": 3,
            }),
        ],
    );

    let defaults = &cases[0];
    let deployments = objects(defaults, "Deployment");
    assert_eq!(deployments.len(), 1);
    let deployment = deployments[0];
    assert_hardened(deployment);
    assert_eq!(deployment["metadata"]["name"], "demo-shop-front");
    assert!(
        deployment["spec"].get("replicas").is_none(),
        "the autoscaler owns the replica count"
    );
    let pod = &deployment["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsUser"], 1000, "USER node");
    let container = &pod["containers"][0];
    assert_eq!(container["image"], "shop-front:latest");
    assert_eq!(container["ports"][0]["containerPort"], 3000);
    assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(container["resources"]["limits"]["memory"], "256Mi");
    assert_eq!(objects(defaults, "ConfigMap")[0]["data"]["PORT"], "3000");
    assert_eq!(
        objects(defaults, "Service")[0]["spec"]["ports"][0]["port"],
        80
    );
    assert_eq!(objects(defaults, "HorizontalPodAutoscaler").len(), 1);
    assert_eq!(objects(defaults, "PodDisruptionBudget").len(), 1);
    assert!(objects(defaults, "Ingress").is_empty());
    let notes = defaults["notes"].as_str().expect("notes");
    assert!(
        notes.contains("port-forward service/demo-shop-front 8080:80"),
        "{notes}"
    );

    let full = &cases[1];
    let deployment = objects(full, "Deployment")[0];
    assert_hardened(deployment);
    assert_eq!(deployment["spec"]["replicas"], 3);
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["image"], format!("ghcr.io/acme/shop@{digest}"));
    assert_eq!(container["envFrom"][1]["secretRef"]["name"], "shop-env");
    assert_eq!(objects(full, "ConfigMap")[0]["data"]["LOG_LEVEL"], "debug");
    let ingress = objects(full, "Ingress")[0];
    assert_eq!(ingress["spec"]["rules"][0]["host"], "shop.example.com");
    assert_eq!(ingress["spec"]["tls"][0]["secretName"], "shop-tls");
    assert_eq!(ingress["spec"]["ingressClassName"], "nginx");
    assert!(objects(full, "HorizontalPodAutoscaler").is_empty());
    assert!(objects(full, "PodDisruptionBudget").is_empty());
    let notes = full["notes"].as_str().expect("notes");
    assert!(notes.contains("https://shop.example.com/"), "{notes}");
}

#[test]
fn the_values_schema_refuses_bad_values() {
    if !tools_available() {
        return;
    }
    let bad = [
        json!({ "replicaCount": "three" }),
        json!({ "containerPort": 0 }),
        json!({ "podSecurityContext": { "runAsUser": 0 } }),
        json!({ "ingress": { "enabled": true } }),
        json!({ "service": { "type": "ExternalName" } }),
        json!({ "resources": { "limits": { "memory": "lots" } } }),
        json!({ "probes": { "path": "healthz" } }),
        json!({ "env": { "NOT-A-NAME": "x" } }),
        json!({ "image": { "digest": "latest" } }),
        json!({ "replicas": 2 }),
    ];
    let cases = render(&capsule(), &options(&[]), &bad);
    for (values, case) in bad.iter().zip(&cases) {
        assert!(
            case.get("rejected").is_some(),
            "{values} was accepted: {case}"
        );
    }
}

#[test]
fn options_become_values_that_render() {
    if !tools_available() {
        return;
    }
    let cases = render(
        &capsule(),
        &options(&[
            ("image", "registry.example.com:5000/shop/front:2.4.1"),
            ("host", "*.shop.example.com"),
            ("tls-secret", "wildcard-tls"),
            ("existing-secret", "front-env"),
            ("replicas", "4"),
            ("max-replicas", "10"),
            ("port", "8443"),
            ("health-path", "/ready"),
            ("run-as-user", "4242"),
            ("cpu-request", "250m"),
            ("chart-version", "1.2.3-rc.1"),
        ]),
        &[json!({})],
    );
    let deployment = objects(&cases[0], "Deployment")[0];
    assert_hardened(deployment);
    let pod = &deployment["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsUser"], 4242);
    let container = &pod["containers"][0];
    assert_eq!(
        container["image"],
        "registry.example.com:5000/shop/front:2.4.1"
    );
    assert_eq!(container["ports"][0]["containerPort"], 8443);
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/ready");
    assert_eq!(container["resources"]["requests"]["cpu"], "250m");
    assert_eq!(container["envFrom"][1]["secretRef"]["name"], "front-env");
    assert_eq!(
        deployment["metadata"]["labels"]["app.kubernetes.io/version"],
        "2.4.1"
    );
    assert_eq!(
        deployment["metadata"]["labels"]["helm.sh/chart"],
        "shop-front-1.2.3-rc.1"
    );
    let hpa = objects(&cases[0], "HorizontalPodAutoscaler")[0];
    assert_eq!(
        (
            hpa["spec"]["minReplicas"].clone(),
            hpa["spec"]["maxReplicas"].clone()
        ),
        (json!(4), json!(10))
    );
    let ingress = objects(&cases[0], "Ingress")[0];
    assert_eq!(ingress["spec"]["rules"][0]["host"], "*.shop.example.com");
    assert_eq!(ingress["spec"]["tls"][0]["secretName"], "wildcard-tls");
}
