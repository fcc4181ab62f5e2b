//! The hardened Kubernetes objects of a capsule's service, built as JSON
//! values from its [`Settings`] (write them with [`crate::yaml`]): a
//! ConfigMap with its environment, a Deployment with startup, readiness
//! and liveness probes on the health path, resource requests and limits,
//! a writable `/tmp` and the security context of [`pod_security_context`]
//! and [`container_security_context`] (non-root, read-only root file
//! system, no privilege escalation, no capabilities, `RuntimeDefault`
//! seccomp, no service-account token), a ClusterIP Service, a
//! HorizontalPodAutoscaler, a PodDisruptionBudget and an Ingress.
//!
//! The exporter `qlp/kubernetes` packages them as they are; the agent
//! `qlp/k8s-manifests` adds what it reads from the intent (Secret
//! references for the service's secrets) to the same objects.

use serde_json::{Value, json};

use crate::settings::{CPU_TARGET_PERCENT, Settings};

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

/// The name and labels of every object.
pub fn metadata(settings: &Settings) -> Value {
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

/// The ConfigMap: the service's environment (`PORT`).
pub fn config_map(settings: &Settings) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(settings),
        "data": { "PORT": settings.port.to_string() },
    })
}

/// An HTTP probe of the health path on the port named `http`.
pub fn probe(settings: &Settings, period: u32, failures: u32) -> Value {
    json!({
        "httpGet": { "path": settings.health_path, "port": "http" },
        "periodSeconds": period,
        "timeoutSeconds": 2,
        "failureThreshold": failures,
    })
}

/// The Deployment of the service's pods.
pub fn deployment(settings: &Settings) -> Value {
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

/// The ClusterIP Service on [`SERVICE_PORT`].
pub fn service(settings: &Settings) -> Value {
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

/// The HorizontalPodAutoscaler on CPU.
pub fn autoscaler(settings: &Settings) -> Value {
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

/// The PodDisruptionBudget allowing one pod down at a time.
pub fn disruption_budget(settings: &Settings) -> Value {
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

/// The Ingress routing `settings.host` to the Service.
pub fn ingress(settings: &Settings) -> Value {
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

/// The `kustomization.yaml` object listing `resources` (file names, in
/// order), with the namespace it sets on every object if one is given.
pub fn kustomization(resources: &[&str], namespace: Option<&str>) -> Value {
    let mut kustomization = json!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": resources,
    });
    if let Some(namespace) = namespace {
        kustomization["namespace"] = json!(namespace);
    }
    kustomization
}
