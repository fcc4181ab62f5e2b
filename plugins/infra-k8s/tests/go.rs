//! `qlp/k8s-manifests` over the Go agent's projects: validated manifests
//! (see `common`), the Ingress the intent asks for, when nothing is
//! written, and a repair round. Each test binary links one stack agent:
//! their component exports would clash.

mod common;

use common::{check_deployment, intent, request, secret_refs, tools_available, validated};
use qlp_plugin_infra_k8s::generate_files;
use qlp_sdk::File;

const GO: &str = "Create a Go REST API for warehouse inventory with PostgreSQL and JWT auth, \
                  deployed to our Kubernetes cluster at inventory.acme.io";

#[test]
fn a_go_service_is_deployed_with_its_host_and_secret_references() {
    if !tools_available() {
        return;
    }
    let intent = intent(GO, &[], &[]);
    let project = qlp_plugin_template_go::generate_project(&intent).expect("generates");
    let (_, manifests) = validated(intent, project);
    // distroless `nonroot` is uid 65532; the Go service serves /health.
    check_deployment(&manifests, 8080, "/health", 65532);
    assert_eq!(
        manifests["ingress.yaml"]["spec"]["rules"][0]["host"],
        "inventory.acme.io"
    );
    let refs = secret_refs(&manifests);
    for name in [
        "DATABASE_URL",
        "JWT_SECRET",
        "AUTH_PASSWORD",
        "AUTH_USERNAME",
    ] {
        assert!(refs.contains(&name.to_string()), "{name} in {refs:?}");
    }
    assert_eq!(manifests["configmap.yaml"]["data"]["PORT"], "8080");
}

#[test]
fn the_architect_role_deploys_without_the_intent_naming_a_cluster() {
    let plain = intent("Create a Go API for notes", &[], &[]);
    let project = qlp_plugin_template_go::generate_project(&plain).expect("generates");
    let implementer = generate_files(&request(plain.clone(), project.clone(), "implementer"));
    assert!(implementer.expect("ok").is_empty());
    let architect = generate_files(&request(plain, project, "architect")).expect("ok");
    assert!(architect.iter().any(|f| f.path == "k8s/deployment.yaml"));
    assert!(
        !architect.iter().any(|f| f.path == "k8s/ingress.yaml"),
        "no host, not public"
    );
}

#[test]
fn nothing_is_written_when_refused_or_without_an_image() {
    let refused = intent("A Go API for notes, without kubernetes", &[], &[]);
    let project = qlp_plugin_template_go::generate_project(&refused).expect("generates");
    assert!(
        generate_files(&request(refused, project, "architect"))
            .expect("ok")
            .is_empty()
    );
    let bare = intent("A Go API for notes on k8s", &[], &[]);
    assert!(
        generate_files(&request(bare, vec![], "implementer"))
            .expect("ok")
            .is_empty()
    );
}

#[test]
fn a_repair_round_replaces_manifests_without_limits_running_as_root() {
    let intent = intent("A Go API for invoices on Kubernetes", &[], &[]);
    let mut project = qlp_plugin_template_go::generate_project(&intent).expect("generates");
    // Round 1 left a deployment (say, edited by hand) without limits or
    // probes, running as root.
    project.push(File::text(
        "k8s/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: invoices\nspec:\n  selector:\n    matchLabels:\n      app: invoices\n  template:\n    metadata:\n      labels:\n        app: invoices\n    spec:\n      containers:\n        - name: invoices\n          image: invoices:latest\n          securityContext:\n            runAsUser: 0\n",
    ));
    let before = qlp_plugin_container::check(&project);
    let rules: Vec<&str> = before.findings.iter().map(|f| f.rule_id.as_str()).collect();
    assert!(rules.contains(&"container/k8s-missing-limits"), "{rules:?}");
    assert!(rules.contains(&"container/k8s-run-as-root"), "{rules:?}");

    let mut repair = request(intent, project.clone(), "implementer");
    repair.iteration = 2;
    repair.findings = before.findings.clone();
    let written = generate_files(&repair).expect("generates");
    let mut merged: Vec<File> = project
        .into_iter()
        .filter(|f| !written.iter().any(|w| w.path == f.path))
        .collect();
    merged.extend(written);
    let after = qlp_plugin_container::check(&merged);
    let left: Vec<_> = after
        .findings
        .iter()
        .filter(|f| f.path().is_some_and(|p| p.starts_with("k8s/")))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
