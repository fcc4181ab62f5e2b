//! QLP exporter `qlp/kubernetes`: packages the capsule's service as plain
//! Kubernetes manifests with a `kustomization.yaml`, ready for
//! `kubectl apply -k <name>/` once the archive is unpacked.
//!
//! The artifact is `<base-name>-k8s.tar.gz` (`application/gzip`, written
//! by [`archive`], reproducibly) holding, under the directory `<name>/`:
//!
//! - `configmap.yaml`: the service's environment (`PORT`);
//! - `deployment.yaml`: the pods, with startup, readiness and liveness
//!   probes on the health path, resource requests and limits, a writable
//!   `/tmp` and the hardened security context of [`pod_security_context`]
//!   and [`container_security_context`] (non-root, read-only root file
//!   system, no privilege escalation, no capabilities, `RuntimeDefault`
//!   seccomp); no service-account token is mounted;
//! - `service.yaml`: a ClusterIP Service on port 80;
//! - `hpa.yaml`: a HorizontalPodAutoscaler on CPU (the Deployment leaves
//!   its replica count to it);
//! - `pdb.yaml`: a PodDisruptionBudget allowing one pod down at a time;
//! - `ingress.yaml`, with option `host` only;
//! - `kustomization.yaml`, listing the others.
//!
//! What is derived from the capsule is described in [`settings`]: the name
//! (every object's) is the base name as a DNS label, the port the
//! Dockerfile's `EXPOSE` (8080 without), the health path `/healthz` or
//! `/health` when the files name one (`/healthz` without), the user the
//! Dockerfile's non-root `USER` (10001 without). The same capsule and
//! options always give the same bytes.
//!
//! Options (all optional; a bad value gives `INVALID_OPTION`, an unknown
//! key a warning):
//!
//! | key | value | default |
//! |---|---|---|
//! | `name` | object name, a DNS label | the base name as a DNS label |
//! | `image` | image reference | `<name>:latest` |
//! | `port` | container port, 1-65535 | `EXPOSE`, else 8080 |
//! | `health-path` | absolute HTTP path | found route, else `/` for an nginx image, else `/healthz` |
//! | `run-as-user` | non-zero user and group id | `USER`, else 10001 |
//! | `replicas` | minimum replicas, 1-100 | 2 |
//! | `max-replicas` | autoscaler maximum, `replicas`-100 | max(5, `replicas`) |
//! | `cpu-request`, `cpu-limit` | quantity | `100m`, `500m` |
//! | `memory-request`, `memory-limit` | quantity | `128Mi`, `256Mi` |
//! | `host` | DNS name (`*.` allowed): adds the Ingress | none |
//! | `ingress-class` | IngressClass name | cluster default |
//! | `tls-secret` | TLS Secret of the Ingress (needs `host`) | none |
//! | `existing-secret` | Secret whose keys become environment variables | none |
//! | `namespace` | namespace set by the kustomization | none |

pub mod archive;

pub use qlp_infra_kit::kube::{
    SERVICE_PORT, STARTUP_FAILURES, STARTUP_PERIOD_SECONDS, TMP_SIZE_LIMIT,
    container_security_context, labels, pod_security_context, selector,
};
use qlp_infra_kit::kube::{
    autoscaler, config_map, deployment, disruption_budget, ingress, kustomization, service,
};
pub use qlp_infra_kit::{settings, yaml};

use qlp_sdk::exporter::{Artifact, Capsule, ExportOptions, Exporter, PluginError, PluginInfo};
use qlp_sdk::{File, PluginKind};
use serde_json::Value;
use settings::Settings;

/// Media type of the artifact.
pub const MEDIA_TYPE: &str = "application/gzip";

/// The option only this exporter reads.
pub const NAMESPACE_OPTION: &str = "namespace";

/// The exporter.
pub struct Kubernetes;

impl Exporter for Kubernetes {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "qlp/kubernetes".into(),
            version: "0.1.0".into(),
            kind: PluginKind::Exporter,
            description: "Packages the capsule's service as hardened Kubernetes manifests with a kustomization.".into(),
            capabilities: vec![],
        }
    }

    fn export(capsule: &Capsule<'_>, options: ExportOptions) -> Result<Artifact, PluginError> {
        let capsule = capsule.view()?;
        export_files(&capsule.files, &options)
    }
}

qlp_sdk::export_exporter!(Kubernetes);

/// Builds the artifact for the capsule's files under the given options.
pub fn export_files(files: &[File], options: &ExportOptions) -> Result<Artifact, PluginError> {
    let (settings, own) = Settings::resolve(
        files,
        &options.base_name,
        &options.options,
        &[NAMESPACE_OPTION],
    )?;
    let mut namespace = None;
    for (_, value) in own {
        let problem = settings::subdomain_problem(&value, false)
            .or_else(|| {
                value
                    .contains('.')
                    .then_some("must be a DNS label (no `.`)")
            })
            .or_else(|| {
                (value.len() > settings::MAX_NAME_CHARS)
                    .then_some("must have at most 63 characters")
            });
        if let Some(problem) = problem {
            return Err(PluginError::new(
                "INVALID_OPTION",
                format!("option `{NAMESPACE_OPTION}` {problem}, not {value:?}"),
            ));
        }
        namespace = Some(value);
    }
    archive::artifact(
        &settings,
        package(&settings, namespace.as_deref()),
        MEDIA_TYPE,
        format!("{}-k8s.tar.gz", settings.name),
        "kubernetes manifests packaged",
    )
}

/// Every file of the package, name and YAML text, in kustomization order.
pub fn package(settings: &Settings, namespace: Option<&str>) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = manifests(settings)
        .iter()
        .map(|(file, value)| (file.to_string(), yaml::to_yaml(value)))
        .collect();
    let resources: Vec<&str> = files.iter().map(|(file, _)| file.as_str()).collect();
    let kustomization = kustomization(&resources, namespace);
    files.push(("kustomization.yaml".into(), yaml::to_yaml(&kustomization)));
    files
}

/// Every manifest, file name and object.
pub fn manifests(settings: &Settings) -> Vec<(&'static str, Value)> {
    let mut manifests = vec![
        ("configmap.yaml", config_map(settings)),
        ("deployment.yaml", deployment(settings)),
        ("service.yaml", service(settings)),
        ("hpa.yaml", autoscaler(settings)),
        ("pdb.yaml", disruption_budget(settings)),
    ];
    if settings.host.is_some() {
        manifests.push(("ingress.yaml", ingress(settings)));
    }
    manifests
}

#[cfg(test)]
mod tests;
