//! Kubernetes manifest rules, over the pod template of each workload
//! (`Pod`; `Deployment`, `StatefulSet`, `DaemonSet`, `ReplicaSet`, `Job`:
//! `spec.template.spec`; `CronJob`: `spec.jobTemplate.spec.template.spec`)
//! read with [`crate::yaml`]. Containers and init containers are checked
//! for security context and limits; probes are asked of long-running
//! workloads' containers only (not of `Job`/`CronJob`, nor init
//! containers).

use crate::rules::*;
use crate::yaml::{self, Node};

/// Workload kinds and the path from the document to their pod spec.
const WORKLOADS: [(&str, &[&str]); 7] = [
    ("Pod", &["spec"]),
    ("Deployment", &["spec", "template", "spec"]),
    ("StatefulSet", &["spec", "template", "spec"]),
    ("DaemonSet", &["spec", "template", "spec"]),
    ("ReplicaSet", &["spec", "template", "spec"]),
    ("Job", &["spec", "template", "spec"]),
    (
        "CronJob",
        &["spec", "jobTemplate", "spec", "template", "spec"],
    ),
];

/// Pod-level switches that share a host namespace.
const HOST_NAMESPACES: [&str; 3] = ["hostNetwork", "hostPID", "hostIPC"];

/// Whether a YAML file looks like Kubernetes manifests (an `apiVersion`
/// and a `kind` at the top level).
pub fn looks_like_manifest(text: &str) -> bool {
    text.lines().any(|l| l.starts_with("apiVersion:"))
        && text.lines().any(|l| l.starts_with("kind:"))
}

/// Whether a numeric user id is a non-root one.
fn non_root_uid(node: Option<&Node>) -> Option<bool> {
    node.and_then(Node::as_str)
        .and_then(|s| s.parse::<u64>().ok())
        .map(|uid| uid != 0)
}

/// Runs the Kubernetes rules over every document of a YAML file.
pub fn check(text: &str) -> Vec<Hit> {
    let mut hits = Vec::new();
    for doc in yaml::documents(text) {
        let Some(kind) = doc.get("kind").and_then(Node::as_str) else {
            continue;
        };
        let Some((_, path)) = WORKLOADS.iter().find(|(k, _)| *k == kind) else {
            continue;
        };
        let Some(pod) = doc.path(path) else { continue };
        let name = doc
            .path(&["metadata", "name"])
            .and_then(Node::as_str)
            .unwrap_or("(unnamed)");
        let batch = matches!(kind, "Job" | "CronJob");
        let pod_security = pod.get("securityContext");
        let pod_non_root = pod_security
            .and_then(|s| s.get("runAsNonRoot"))
            .is_some_and(Node::is_true);
        let pod_uid = non_root_uid(pod_security.and_then(|s| s.get("runAsUser")));

        for switch in HOST_NAMESPACES {
            if pod.get(switch).is_some_and(Node::is_true) {
                hits.push(hit(
                    K8S_HOST_NAMESPACE,
                    pod.line_of(switch).unwrap_or(0),
                    format!(
                        "{kind} `{name}` sets `{switch}: true`: its containers share the node's \
                         namespace and see its network, processes or IPC (CWE-668); remove it"
                    ),
                ));
            }
        }
        for (volume, line) in pod.get("volumes").map(Node::items).unwrap_or_default() {
            if let Some(host) = volume.get("hostPath") {
                let mount = host.get("path").and_then(Node::as_str).unwrap_or("?");
                hits.push(hit(
                    K8S_HOST_PATH,
                    volume.line_of("hostPath").unwrap_or(*line),
                    format!(
                        "{kind} `{name}` mounts the node's `{mount}` with `hostPath`: a \
                         compromised container reads or writes the host's files (CWE-668); use a \
                         PersistentVolumeClaim, a ConfigMap/Secret or an `emptyDir`"
                    ),
                ));
            }
        }
        let groups = [("containers", false), ("initContainers", true)];
        for (group, init) in groups {
            for (container, line) in pod.get(group).map(Node::items).unwrap_or_default() {
                let cname = container
                    .get("name")
                    .and_then(Node::as_str)
                    .unwrap_or("(unnamed)");
                let at = container.line_of("name").unwrap_or(*line);
                let security = container.get("securityContext");
                if security
                    .and_then(|s| s.get("privileged"))
                    .is_some_and(Node::is_true)
                {
                    hits.push(hit(
                        K8S_PRIVILEGED,
                        security.and_then(|s| s.line_of("privileged")).unwrap_or(at),
                        format!(
                            "container `{cname}` of {kind} `{name}` is privileged: it has every \
                             capability and the host's devices, so escaping to the node is \
                             trivial (CWE-250); remove `privileged: true` and add only the \
                             capabilities it needs"
                        ),
                    ));
                }
                let non_root = security
                    .and_then(|s| s.get("runAsNonRoot"))
                    .map(Node::is_true);
                let uid = non_root_uid(security.and_then(|s| s.get("runAsUser"))).or(pod_uid);
                let runs_as_non_root = match (non_root, uid) {
                    (_, Some(false)) => false,
                    (Some(v), _) => v,
                    (None, Some(true)) => true,
                    (None, None) => pod_non_root,
                };
                if !runs_as_non_root {
                    hits.push(hit(
                        K8S_RUN_AS_ROOT,
                        at,
                        format!(
                            "container `{cname}` of {kind} `{name}` may run as root: nothing sets \
                             `runAsNonRoot: true` or a non-zero `runAsUser` (CWE-250); set \
                             `securityContext.runAsNonRoot: true` on the pod or the container"
                        ),
                    ));
                }
                let limits = container.path(&["resources", "limits"]);
                if limits.and_then(|l| l.get("memory")).is_none() {
                    let what = if limits.is_none() {
                        "has no resource limits"
                    } else {
                        "has no memory limit"
                    };
                    hits.push(hit(
                        K8S_MISSING_LIMITS,
                        at,
                        format!(
                            "container `{cname}` of {kind} `{name}` {what}: one leak or load spike \
                             starves every pod on the node (CWE-770); set \
                             `resources.limits.memory` (and `cpu`) with matching requests"
                        ),
                    ));
                }
                if !init && !batch {
                    let missing: Vec<&str> = ["readinessProbe", "livenessProbe"]
                        .into_iter()
                        .filter(|p| container.get(p).is_none())
                        .collect();
                    if !missing.is_empty() {
                        hits.push(hit(
                            K8S_MISSING_PROBES,
                            at,
                            format!(
                                "container `{cname}` of {kind} `{name}` has no {}: Kubernetes \
                                 sends traffic to it before it is ready and never restarts it \
                                 when it hangs; add probes on the health endpoint",
                                missing.join(" or ")
                            ),
                        ));
                    }
                }
            }
        }
    }
    hits
}
