//! Unit tests of the manifests and the archive. The schema validation of
//! every manifest against real Kubernetes schemas is in
//! `tests/validated.rs`.

#[path = "../tests/common/mod.rs"]
mod common;

use common::unpack;
use serde_json::Value;

use super::*;

fn capsule() -> Vec<File> {
    vec![
        File::text(
            "Dockerfile",
            "FROM python:3.11-slim\nRUN useradd --uid 10001 app\nUSER app\nEXPOSE 8000\n",
        ),
        File::text(
            "app/main.py",
            "@app.get(\"/health\")\ndef health():\n    return {}\n",
        ),
    ]
}

fn options(pairs: &[(&str, &str)]) -> ExportOptions {
    common::options("Invoices Service", pairs)
}

fn settings(pairs: &[(&str, &str)]) -> Settings {
    let options = options(pairs);
    Settings::resolve(&capsule(), &options.base_name, &options.options, &[])
        .expect("valid settings")
        .0
}

fn workloads<'a>(manifests: &'a [(&str, Value)]) -> Vec<&'a Value> {
    manifests
        .iter()
        .map(|(_, m)| m)
        .filter(|m| m["kind"] == "Deployment")
        .collect()
}

#[test]
fn the_archive_holds_every_manifest_under_the_service_directory() {
    let artifact = export_files(&capsule(), &options(&[])).expect("an artifact");
    assert_eq!(artifact.media_type, "application/gzip");
    assert_eq!(artifact.file_name, "invoices-service-k8s.tar.gz");
    let entries = unpack(&artifact.bytes);
    let paths: Vec<&str> = entries.iter().map(|(p, ..)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "invoices-service/configmap.yaml",
            "invoices-service/deployment.yaml",
            "invoices-service/hpa.yaml",
            "invoices-service/kustomization.yaml",
            "invoices-service/pdb.yaml",
            "invoices-service/service.yaml",
        ]
    );
    for (path, _, mode, mtime) in &entries {
        assert_eq!((*mode, *mtime), (0o644, archive::MTIME), "{path}");
    }
    let kustomization = &entries[3].1;
    assert_eq!(
        kustomization,
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  \
         - configmap.yaml\n  - deployment.yaml\n  - service.yaml\n  - hpa.yaml\n  - pdb.yaml\n"
    );
}

#[test]
fn the_same_capsule_gives_the_same_bytes() {
    let first = export_files(&capsule(), &options(&[("host", "invoices.example.com")]))
        .expect("an artifact");
    let mut reversed = capsule();
    reversed.reverse();
    let second = export_files(&reversed, &options(&[("host", "invoices.example.com")]))
        .expect("an artifact");
    assert_eq!(first.bytes, second.bytes);
    let other = export_files(&capsule(), &options(&[("host", "billing.example.com")]))
        .expect("an artifact");
    assert_ne!(first.bytes, other.bytes);
}

#[test]
fn every_workload_is_hardened() {
    for pairs in [
        &[][..],
        &[("existing-secret", "env"), ("host", "a.example.com")][..],
    ] {
        let manifests = manifests(&settings(pairs));
        let workloads = workloads(&manifests);
        assert_eq!(workloads.len(), 1);
        for workload in workloads {
            let pod = &workload["spec"]["template"]["spec"];
            assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
            assert_eq!(pod["securityContext"]["runAsUser"], 10001);
            assert_eq!(
                pod["securityContext"]["seccompProfile"]["type"],
                "RuntimeDefault"
            );
            assert_eq!(pod["automountServiceAccountToken"], false);
            for container in pod["containers"].as_array().expect("containers") {
                let security = &container["securityContext"];
                assert_eq!(security["runAsNonRoot"], true);
                assert_eq!(security["readOnlyRootFilesystem"], true);
                assert_eq!(security["allowPrivilegeEscalation"], false);
                assert_eq!(security["capabilities"]["drop"], serde_json::json!(["ALL"]));
                assert_eq!(security["seccompProfile"]["type"], "RuntimeDefault");
                for probe in ["startupProbe", "readinessProbe", "livenessProbe"] {
                    assert_eq!(container[probe]["httpGet"]["path"], "/health", "{probe}");
                }
                let resources = &container["resources"];
                for key in ["requests", "limits"] {
                    assert!(resources[key]["cpu"].is_string(), "{key}");
                    assert!(resources[key]["memory"].is_string(), "{key}");
                }
            }
        }
    }
}

#[test]
fn the_port_and_health_path_are_derived_and_wired() {
    let manifests = manifests(&settings(&[]));
    let deployment = workloads(&manifests)[0];
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["ports"][0]["containerPort"], 8000);
    assert_eq!(container["image"], "invoices-service:latest");
    let config = &manifests[0].1;
    assert_eq!(config["data"]["PORT"], "8000");
    let without = export_files(&[], &options(&[])).expect("an artifact");
    let deployment = &unpack(&without.bytes)[1].1;
    assert!(deployment.contains("containerPort: 8080\n"), "{deployment}");
    assert!(deployment.contains("path: \"/healthz\"\n"), "{deployment}");
}

#[test]
fn ingress_secret_and_namespace_follow_the_options() {
    let artifact = export_files(
        &capsule(),
        &options(&[
            ("host", "invoices.example.com"),
            ("ingress-class", "nginx"),
            ("tls-secret", "invoices-tls"),
            ("existing-secret", "invoices-env"),
            ("namespace", "billing"),
            ("image", "ghcr.io/acme/invoices:1.2.0"),
        ]),
    )
    .expect("an artifact");
    let entries = unpack(&artifact.bytes);
    let text = |name: &str| {
        entries
            .iter()
            .find(|(p, ..)| p.ends_with(name))
            .map(|(_, t, ..)| t.as_str())
            .unwrap_or_else(|| panic!("{name}"))
    };
    let ingress = text("/ingress.yaml");
    for expected in [
        "host: invoices.example.com",
        "ingressClassName: nginx",
        "secretName: invoices-tls",
    ] {
        assert!(ingress.contains(expected), "{expected} in {ingress}");
    }
    assert!(text("/kustomization.yaml").contains("namespace: billing\n"));
    assert!(text("/kustomization.yaml").contains("- ingress.yaml\n"));
    let deployment = text("/deployment.yaml");
    assert!(deployment.contains("name: invoices-env\n"), "{deployment}");
    assert!(deployment.contains("image: \"ghcr.io/acme/invoices:1.2.0\"\n"));
    let bad = export_files(&capsule(), &options(&[("namespace", "a.b")]));
    let error = bad.expect_err("refused");
    assert_eq!(error.code, "INVALID_OPTION");
    assert!(
        error.message.contains("option `namespace`"),
        "{}",
        error.message
    );
}

#[test]
fn the_deployment_leaves_replicas_to_the_autoscaler() {
    let manifests = manifests(&settings(&[("replicas", "3"), ("max-replicas", "7")]));
    let deployment = workloads(&manifests)[0];
    assert!(deployment["spec"].get("replicas").is_none());
    let hpa = &manifests
        .iter()
        .find(|(f, _)| *f == "hpa.yaml")
        .expect("hpa")
        .1;
    assert_eq!(hpa["spec"]["minReplicas"], 3);
    assert_eq!(hpa["spec"]["maxReplicas"], 7);
}

#[test]
fn describe_names_the_plugin() {
    let info = Kubernetes::describe();
    assert_eq!(info.name, "qlp/kubernetes");
    assert!(matches!(info.kind, PluginKind::Exporter));
}
