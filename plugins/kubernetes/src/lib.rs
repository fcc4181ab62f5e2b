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
pub mod settings;
pub mod yaml;

use qlp_sdk::exporter::{Artifact, CapsuleView, ExportOptions, Exporter, PluginError, PluginInfo};
use qlp_sdk::{File, PluginKind};
use serde_json::{Value, json};
use settings::{CPU_TARGET_PERCENT, Settings};

/// Media type of the artifact.
pub const MEDIA_TYPE: &str = "application/gzip";

/// Port the Service listens on; it forwards to the container's named
/// port `http`.
pub const SERVICE_PORT: u16 = 80;

/// Size cap of the writable `/tmp`, so a runaway process fills no node
/// disk.
pub const TMP_SIZE_LIMIT: &str = "64Mi";

/// Startup probe failures tolerated, every [`STARTUP_PERIOD_SECONDS`]: a
/// service gets a minute to start before it is restarted.
pub const STARTUP_FAILURES: u32 = 30;

/// Seconds between startup probes.
pub const STARTUP_PERIOD_SECONDS: u32 = 2;

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

    fn export(capsule: CapsuleView, options: ExportOptions) -> Result<Artifact, PluginError> {
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
    let mut kustomization = json!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": resources,
    });
    if let Some(namespace) = namespace {
        kustomization["namespace"] = json!(namespace);
    }
    files.push(("kustomization.yaml".into(), yaml::to_yaml(&kustomization)));
    files
}

/// The labels of every object.
pub fn labels(settings: &Settings) -> Value {
    json!({
        "app.kubernetes.io/name": settings.name,
        "app.kubernetes.io/managed-by": "qlp",
    })
}

/// The labels that select the service's pods.
pub fn selector(settings: &Settings) -> Value {
    json!({ "app.kubernetes.io/name": settings.name })
}

fn metadata(settings: &Settings) -> Value {
    json!({ "name": settings.name, "labels": labels(settings) })
}

/// The pod's security context: a fixed non-root user, group and volume
/// group, and the runtime's default seccomp profile.
pub fn pod_security_context(settings: &Settings) -> Value {
    json!({
        "runAsNonRoot": true,
        "runAsUser": settings.user,
        "runAsGroup": settings.user,
        "fsGroup": settings.user,
        "seccompProfile": { "type": "RuntimeDefault" },
    })
}

/// The container's security context: what the restricted Pod Security
/// Standard asks, and a read-only root file system.
pub fn container_security_context() -> Value {
    json!({
        "runAsNonRoot": true,
        "readOnlyRootFilesystem": true,
        "allowPrivilegeEscalation": false,
        "privileged": false,
        "capabilities": { "drop": ["ALL"] },
        "seccompProfile": { "type": "RuntimeDefault" },
    })
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

fn config_map(settings: &Settings) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(settings),
        "data": { "PORT": settings.port.to_string() },
    })
}

fn probe(settings: &Settings, period: u32, failures: u32) -> Value {
    json!({
        "httpGet": { "path": settings.health_path, "port": "http" },
        "periodSeconds": period,
        "timeoutSeconds": 2,
        "failureThreshold": failures,
    })
}

fn deployment(settings: &Settings) -> Value {
    let mut env_from = vec![json!({ "configMapRef": { "name": settings.name } })];
    if let Some(secret) = &settings.existing_secret {
        env_from.push(json!({ "secretRef": { "name": secret } }));
    }
    let container = json!({
        "name": settings.name,
        "image": settings.image,
        "imagePullPolicy": "IfNotPresent",
        "ports": [{ "name": "http", "containerPort": settings.port, "protocol": "TCP" }],
        "envFrom": env_from,
        "startupProbe": probe(settings, STARTUP_PERIOD_SECONDS, STARTUP_FAILURES),
        "readinessProbe": probe(settings, 10, 3),
        "livenessProbe": probe(settings, 20, 3),
        "resources": {
            "requests": { "cpu": settings.cpu_request, "memory": settings.memory_request },
            "limits": { "cpu": settings.cpu_limit, "memory": settings.memory_limit },
        },
        "securityContext": container_security_context(),
        "volumeMounts": [{ "name": "tmp", "mountPath": "/tmp" }],
    });
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(settings),
        "spec": {
            "revisionHistoryLimit": 5,
            "selector": { "matchLabels": selector(settings) },
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": { "maxSurge": 1, "maxUnavailable": 0 },
            },
            "template": {
                "metadata": { "labels": labels(settings) },
                "spec": {
                    "automountServiceAccountToken": false,
                    "securityContext": pod_security_context(settings),
                    "containers": [container],
                    "volumes": [{ "name": "tmp", "emptyDir": { "sizeLimit": TMP_SIZE_LIMIT } }],
                },
            },
        },
    })
}

fn service(settings: &Settings) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(settings),
        "spec": {
            "type": "ClusterIP",
            "selector": selector(settings),
            "ports": [{ "name": "http", "port": SERVICE_PORT, "targetPort": "http", "protocol": "TCP" }],
        },
    })
}

fn autoscaler(settings: &Settings) -> Value {
    json!({
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": metadata(settings),
        "spec": {
            "scaleTargetRef": { "apiVersion": "apps/v1", "kind": "Deployment", "name": settings.name },
            "minReplicas": settings.replicas,
            "maxReplicas": settings.max_replicas,
            "metrics": [{
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": { "type": "Utilization", "averageUtilization": CPU_TARGET_PERCENT },
                },
            }],
        },
    })
}

fn disruption_budget(settings: &Settings) -> Value {
    json!({
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": metadata(settings),
        "spec": {
            "maxUnavailable": 1,
            "selector": { "matchLabels": selector(settings) },
        },
    })
}

fn ingress(settings: &Settings) -> Value {
    let mut spec = json!({
        "rules": [{
            "host": settings.host,
            "http": {
                "paths": [{
                    "path": "/",
                    "pathType": "Prefix",
                    "backend": { "service": { "name": settings.name, "port": { "name": "http" } } },
                }],
            },
        }],
    });
    if let Some(class) = &settings.ingress_class {
        spec["ingressClassName"] = json!(class);
    }
    if let Some(secret) = &settings.tls_secret {
        spec["tls"] = json!([{ "hosts": [settings.host], "secretName": secret }]);
    }
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": metadata(settings),
        "spec": spec,
    })
}

#[cfg(test)]
mod tests;
