//! QLP agent `qlp/k8s-manifests`: adds Kubernetes manifests under `k8s/`
//! to the project a stack agent wrote, so `kubectl apply -k k8s/` deploys
//! the service.
//!
//! When it writes (see [`applies`]): an earlier agent wrote a Dockerfile
//! (there is an image to deploy), the intent does not refuse Kubernetes
//! ("without kubernetes"), and either the intent names it (`kubernetes`,
//! `k8s`, `helm`, `kustomize`, `cluster`, `kubectl`, `eks`, `gke`, `aks`,
//! `openshift`: the planner's `kubernetes` stack words and the words of
//! running on a cluster) or the tier gives this agent the role
//! `architect`, whose job is the deployment. Otherwise no files.
//!
//! What it writes is in [`manifests`]: the same hardened objects the
//! `qlp/kubernetes` exporter packages (both build them with
//! `qlp-infra-kit`), from the same reading of the files (port from
//! `EXPOSE`, user from `USER`, probes on the health path the sources
//! define), plus what the intent says: an Ingress for the host or domain
//! it names (or for public access), and the service's secrets
//! (`DATABASE_URL`, `JWT_SECRET`…) as references to a Secret that is
//! never written.
//!
//! A repair round regenerates the same files from the same request; they
//! already satisfy `qlp/container`'s Kubernetes rules, so a finding on a
//! `k8s/` file (say, a manifest an earlier round or a person left without
//! limits or running as root) is answered by writing it again.
//!
//! Errors: `EMPTY_INTENT` when the description is blank.

pub mod manifests;

use qlp_infra_kit::project::{KUBERNETES_WORDS, Project, Wants};
use qlp_sdk::PluginKind;
use qlp_sdk::agent::{Agent, File, GenerationRequest, PluginError, PluginInfo};

/// The plugin's namespaced name.
pub const PLUGIN_NAME: &str = "qlp/k8s-manifests";

/// The plugin's version.
pub const PLUGIN_VERSION: &str = "0.1.0";

/// The role that makes the agent write without the intent naming a
/// cluster.
pub const ARCHITECT_ROLE: &str = "architect";

/// Whether the agent writes anything for this request.
pub fn applies(wants: &Wants, project: &Project<'_>, role: &str) -> bool {
    project.dockerfile.is_some()
        && !wants.refuses(KUBERNETES_WORDS)
        && (wants.names(KUBERNETES_WORDS) || role == ARCHITECT_ROLE)
}

/// The files for a request: the manifests under `k8s/`, or none.
pub fn generate_files(request: &GenerationRequest) -> Result<Vec<File>, PluginError> {
    let wants = Wants::read(&request.intent)?;
    let project = Project::read(&request.files);
    if !applies(&wants, &project, &request.role) {
        return Ok(Vec::new());
    }
    manifests::render(&request.intent, &wants, &project, &request.files)
}

/// The agent's entry points, a thin layer over [`generate_files`].
pub struct K8sManifests;

impl Agent for K8sManifests {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: PLUGIN_NAME.into(),
            version: PLUGIN_VERSION.into(),
            kind: PluginKind::Agent,
            description: "Adds hardened Kubernetes manifests (Deployment with probes, limits \
                          and a non-root security context, Service, Ingress, ConfigMap, Secret \
                          references, kustomization) under k8s/ to a generated service."
                .into(),
            capabilities: vec![],
        }
    }

    fn generate(request: GenerationRequest) -> Result<Vec<File>, PluginError> {
        let files = generate_files(&request)?;
        qlp_sdk::agent::log_generated("generated Kubernetes manifests", &files, request.iteration);
        Ok(files)
    }
}

// Exported only in the component: natively the export symbols would clash
// with those of the stack agents the integration tests link.
#[cfg(target_arch = "wasm32")]
qlp_sdk::export_agent!(K8sManifests);

#[cfg(test)]
mod tests {
    use super::*;

    qlp_agent_testkit::agent_contract_tests! {
        agent: K8sManifests,
        name: "qlp/k8s-manifests",
        requirements: ["Deploy it to our Kubernetes cluster"],
        constraints: [("host", "warehouse.example.com")],
        generates: "Create a Go REST API for warehouse items with PostgreSQL and JWT auth",
        repairs: ("Build a Go API to manage customer orders on k8s", 2),
        blank: "  ",
    }
}
