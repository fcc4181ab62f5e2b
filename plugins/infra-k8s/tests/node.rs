//! `qlp/k8s-manifests` over the Node agent's projects (see `common`).

mod common;

use common::{check_deployment, intent, secret_refs, validated};

#[test]
fn a_public_node_service_gets_a_placeholder_host() {
    if !common::tools_available() {
        return;
    }
    let intent = intent(
        "A Node.js TypeScript API for orders in MySQL on k8s, publicly reachable",
        &[],
        &[],
    );
    let project = qlp_plugin_template_node::generate_project(&intent).expect("generates");
    let (_, manifests) = validated(intent, project);
    // The node image's `node` user is uid 1000; the service serves /health.
    check_deployment(&manifests, 3000, "/health", 1000);
    let host = manifests["ingress.yaml"]["spec"]["rules"][0]["host"]
        .as_str()
        .expect("host");
    assert!(host.ends_with(".example.com"), "{host}");
    assert_eq!(secret_refs(&manifests), ["DATABASE_URL"]);
}
