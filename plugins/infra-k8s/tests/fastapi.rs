//! `qlp/k8s-manifests` over the FastAPI agent's projects (see `common`).

mod common;

use common::{check_deployment, intent, secret_refs, validated};

#[test]
fn a_fastapi_service_runs_as_the_uid_its_dockerfile_creates() {
    if !common::tools_available() {
        return;
    }
    let intent = intent(
        "A FastAPI service for recipes with JWT auth, deployed on a cluster",
        &[],
        &[("domain", "recipes.example.org")],
    );
    let project = qlp_plugin_template_fastapi::generate_project(&intent).expect("generates");
    let (_, manifests) = validated(intent, project);
    // `useradd --uid 10001 … app`, EXPOSE 8000, GET /health.
    check_deployment(&manifests, 8000, "/health", 10001);
    assert_eq!(
        manifests["ingress.yaml"]["spec"]["rules"][0]["host"],
        "recipes.example.org"
    );
    let refs = secret_refs(&manifests);
    assert!(
        refs.contains(&"JWT_SECRET".to_string()) && !refs.contains(&"DATABASE_URL".to_string()),
        "{refs:?}"
    );
}
