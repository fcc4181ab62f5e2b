//! QLP exporter `qlp/helm`: packages the capsule's service as a Helm chart
//! archive, ready for `helm install <release> <name>-<version>.tgz`.
//!
//! The artifact is `<name>-<version>.tgz`
//! (`application/vnd.cncf.helm.chart.content.v1.tar+gzip`, the media type
//! of a chart layer in an OCI registry), written reproducibly by
//! [`archive`], with the chart directory `<name>/` at its root:
//!
//! - `Chart.yaml`: `apiVersion: v2`, an application chart whose
//!   description is the intent's;
//! - `values.yaml`: every setting, commented, with the defaults derived
//!   from the capsule ([`values`]);
//! - `values.schema.json`: a JSON Schema (draft 7) of those values that
//!   Helm checks on install, upgrade, template and lint ([`schema`]);
//! - `templates/`: the Deployment (probes, resources, a writable `/tmp`
//!   and the hardened security context: non-root, read-only root file
//!   system, no privilege escalation, no capabilities, `RuntimeDefault`
//!   seccomp, no service-account token), the Service, the ConfigMap, and
//!   the optional Ingress, HorizontalPodAutoscaler and
//!   PodDisruptionBudget; a Secret is referenced by `existingSecret`,
//!   never created; `_helpers.tpl` and `NOTES.txt`.
//!
//! The templates are the files of this crate's `templates/` folder, with
//! `__CHART__` replaced by the chart's name in the names of the named
//! templates. The security context is written in the templates, not taken
//! from the values, so no values file can weaken it; only the user and
//! group ids are values.
//!
//! What is derived from the capsule, and the options shared with
//! `qlp/kubernetes`, are described in [`settings`] and in that crate: the
//! chart's name is the base name as a DNS label (or option `name`), the
//! port the Dockerfile's `EXPOSE` (8080 without), the health path
//! `/healthz` or `/health` when the files name one, the user the
//! Dockerfile's non-root `USER`. The same
//! capsule and options always give the same bytes.
//!
//! Options (all optional; a bad value gives `INVALID_OPTION`, an unknown
//! key a warning):
//!
//! | key | value | default |
//! |---|---|---|
//! | `name` | object name, a DNS label | the base name as a DNS label |
//! | `image` | image reference; its tag becomes the appVersion | `<name>:latest` |
//! | `port` | container port, 1-65535 | `EXPOSE`, else 8080 |
//! | `health-path` | absolute HTTP path | found route, else `/` for an nginx image, else `/healthz` |
//! | `run-as-user` | non-zero user and group id | `USER`, else 10001 |
//! | `replicas` | replicas, and the autoscaler's minimum, 1-100 | 2 |
//! | `max-replicas` | autoscaler maximum, `replicas`-100 | max(5, `replicas`) |
//! | `cpu-request`, `cpu-limit` | quantity | `100m`, `500m` |
//! | `memory-request`, `memory-limit` | quantity | `128Mi`, `256Mi` |
//! | `host` | DNS name (`*.` allowed): enables the Ingress | disabled |
//! | `ingress-class` | IngressClass name | cluster default |
//! | `tls-secret` | TLS Secret of the Ingress (needs `host`) | none |
//! | `existing-secret` | Secret whose keys become environment variables | none |
//! | `chart-version` | the chart's semantic version | `0.1.0` |
//! | `app-version` | the appVersion (`[A-Za-z0-9._-]`, at most 63) | the image's tag, else `latest` |

#[path = "../../kubernetes/src/archive.rs"]
pub mod archive;
pub use qlp_infra_kit::{settings, yaml};

use qlp_sdk::exporter::{Artifact, Capsule, ExportOptions, Exporter, PluginError, PluginInfo};
use qlp_sdk::{File, PluginKind};
use serde_json::{Value, json};
use settings::{CPU_TARGET_PERCENT, Settings};

/// Media type of the artifact: a Helm chart archive as an OCI layer.
pub const MEDIA_TYPE: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";

/// Chart version when the options give none.
pub const DEFAULT_CHART_VERSION: &str = "0.1.0";

/// appVersion when neither the options nor the image give one.
pub const DEFAULT_APP_VERSION: &str = "latest";

/// Longest chart description taken from the intent: Helm shows it in
/// listings, where a paragraph does not fit.
pub const MAX_DESCRIPTION_CHARS: usize = 200;

/// Kubernetes releases the chart supports: `autoscaling/v2` and
/// `policy/v1` are served from 1.23 on, and the chart is validated from
/// 1.25.
pub const KUBE_VERSION: &str = ">=1.25.0-0";

/// Port the Service listens on by default.
pub const SERVICE_PORT: u16 = 80;

/// Options only this exporter reads.
pub const OWN_OPTIONS: [&str; 2] = ["chart-version", "app-version"];

/// The templates, by file name under `templates/`.
pub const TEMPLATES: [(&str, &str); 8] = [
    ("NOTES.txt", include_str!("../templates/NOTES.txt")),
    ("_helpers.tpl", include_str!("../templates/_helpers.tpl")),
    (
        "configmap.yaml",
        include_str!("../templates/configmap.yaml"),
    ),
    (
        "deployment.yaml",
        include_str!("../templates/deployment.yaml"),
    ),
    ("hpa.yaml", include_str!("../templates/hpa.yaml")),
    ("ingress.yaml", include_str!("../templates/ingress.yaml")),
    ("pdb.yaml", include_str!("../templates/pdb.yaml")),
    ("service.yaml", include_str!("../templates/service.yaml")),
];

/// The placeholder of the chart's name in [`TEMPLATES`].
pub const CHART_PLACEHOLDER: &str = "__CHART__";

/// The exporter.
pub struct Helm;

impl Exporter for Helm {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "qlp/helm".into(),
            version: "0.1.0".into(),
            kind: PluginKind::Exporter,
            description: "Packages the capsule's service as a hardened Helm chart.".into(),
            capabilities: vec![],
        }
    }

    fn export(capsule: &Capsule<'_>, options: ExportOptions) -> Result<Artifact, PluginError> {
        let capsule = capsule.view()?;
        export_files(&capsule.files, &capsule.intent.description, &options)
    }
}

qlp_sdk::export_exporter!(Helm);

/// The chart's own settings, beside the service's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chart {
    pub version: String,
    pub app_version: String,
    pub description: String,
}

/// Builds the artifact for the capsule's files, described by the intent's
/// description, under the given options.
pub fn export_files(
    files: &[File],
    description: &str,
    options: &ExportOptions,
) -> Result<Artifact, PluginError> {
    let (settings, own) =
        Settings::resolve(files, &options.base_name, &options.options, &OWN_OPTIONS)?;
    let chart = chart_settings(&settings, description, &own)?;
    let file_name = format!("{}-{}.tgz", settings.name, chart.version);
    archive::artifact(
        &settings,
        chart_files(&settings, &chart),
        MEDIA_TYPE,
        file_name,
        "helm chart packaged",
    )
}

fn invalid(message: String) -> PluginError {
    PluginError::new("INVALID_OPTION", message)
}

/// The chart's version, appVersion and description from the options, the
/// image and the intent.
pub fn chart_settings(
    settings: &Settings,
    description: &str,
    own: &[(String, String)],
) -> Result<Chart, PluginError> {
    let (_, tag, _) = settings::split_image(&settings.image);
    let mut chart = Chart {
        version: DEFAULT_CHART_VERSION.into(),
        app_version: if tag.is_empty() {
            DEFAULT_APP_VERSION.into()
        } else {
            tag.into()
        },
        description: chart_description(&settings.name, description),
    };
    for (key, value) in own {
        match key.as_str() {
            "chart-version" => {
                semver::Version::parse(value).map_err(|e| {
                    invalid(format!(
                        "option `chart-version` must be a semantic version such as `1.2.3`, not {value:?}: {e}"
                    ))
                })?;
                chart.version = value.clone();
            }
            _ => {
                let label_value = !value.is_empty()
                    && value.len() <= settings::MAX_NAME_CHARS
                    && value.starts_with(|c: char| c.is_ascii_alphanumeric())
                    && value.ends_with(|c: char| c.is_ascii_alphanumeric())
                    && value
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
                if !label_value {
                    return Err(invalid(format!(
                        "option `app-version` must be 1 to 63 letters, digits and `._-`, starting and ending with a letter or digit, not {value:?}"
                    )));
                }
                chart.app_version = value.clone();
            }
        }
    }
    Ok(chart)
}

/// The first line of the intent's description, cut at
/// [`MAX_DESCRIPTION_CHARS`]; a generic sentence when it is blank.
pub fn chart_description(name: &str, description: &str) -> String {
    let line = description.lines().map(str::trim).find(|l| !l.is_empty());
    match line {
        Some(line) if line.chars().count() > MAX_DESCRIPTION_CHARS => {
            let cut: String = line.chars().take(MAX_DESCRIPTION_CHARS - 3).collect();
            format!("{}...", cut.trim_end())
        }
        Some(line) => line.into(),
        None => format!("The {name} service, generated by QLP."),
    }
}

/// Every file of the chart, path under the chart directory and text.
pub fn chart_files(settings: &Settings, chart: &Chart) -> Vec<(String, String)> {
    let mut files = vec![
        (
            "Chart.yaml".to_string(),
            yaml::to_yaml(&chart_yaml(settings, chart)),
        ),
        ("values.yaml".to_string(), values_yaml(settings)),
        (
            "values.schema.json".to_string(),
            format!(
                "{}\n",
                serde_json::to_string_pretty(&schema()).expect("a JSON value serializes")
            ),
        ),
    ];
    for (file, template) in TEMPLATES {
        files.push((
            format!("templates/{file}"),
            template.replace(CHART_PLACEHOLDER, &settings.name),
        ));
    }
    files
}

/// `Chart.yaml`.
pub fn chart_yaml(settings: &Settings, chart: &Chart) -> Value {
    json!({
        "apiVersion": "v2",
        "name": settings.name,
        "description": chart.description,
        "type": "application",
        "version": chart.version,
        "appVersion": chart.app_version,
        "kubeVersion": KUBE_VERSION,
        "keywords": ["qlp"],
    })
}

/// The default values.
pub fn values(settings: &Settings) -> Value {
    let (repository, tag, digest) = settings::split_image(&settings.image);
    json!({
        "replicaCount": settings.replicas,
        "image": {
            "repository": repository,
            "tag": tag,
            "digest": digest,
            "pullPolicy": "IfNotPresent",
        },
        "imagePullSecrets": [],
        "nameOverride": "",
        "fullnameOverride": "",
        "podAnnotations": {},
        "podSecurityContext": {
            "runAsUser": settings.user,
            "runAsGroup": settings.user,
            "fsGroup": settings.user,
        },
        "containerPort": settings.port,
        "probes": { "path": settings.health_path },
        "env": {},
        "existingSecret": settings.existing_secret.as_deref().unwrap_or(""),
        "service": { "type": "ClusterIP", "port": SERVICE_PORT },
        "ingress": {
            "enabled": settings.host.is_some(),
            "className": settings.ingress_class.as_deref().unwrap_or(""),
            "annotations": {},
            "host": settings.host.as_deref().unwrap_or(""),
            "tls": { "secretName": settings.tls_secret.as_deref().unwrap_or("") },
        },
        "resources": {
            "requests": { "cpu": settings.cpu_request, "memory": settings.memory_request },
            "limits": { "cpu": settings.cpu_limit, "memory": settings.memory_limit },
        },
        "autoscaling": {
            "enabled": true,
            "minReplicas": settings.replicas,
            "maxReplicas": settings.max_replicas,
            "targetCPUUtilizationPercentage": CPU_TARGET_PERCENT,
        },
        "podDisruptionBudget": { "enabled": true, "maxUnavailable": 1 },
        "nodeSelector": {},
        "tolerations": [],
        "affinity": {},
    })
}

/// What each top-level value is for, written above it in `values.yaml`.
pub const VALUE_COMMENTS: [(&str, &str); 19] = [
    ("affinity", "Pod affinity and anti-affinity rules."),
    (
        "autoscaling",
        "A HorizontalPodAutoscaler on CPU; while enabled it owns the replica count.",
    ),
    (
        "containerPort",
        "The port the service listens on (also passed as PORT).",
    ),
    (
        "env",
        "Extra environment variables, name to value, kept in the ConfigMap.\nSecrets belong in existingSecret, not here.",
    ),
    (
        "existingSecret",
        "A Secret in the release's namespace whose keys become environment variables.",
    ),
    ("fullnameOverride", "Replaces the objects' name."),
    (
        "image",
        "The container image: repository:tag (tag defaults to the appVersion),\nor repository@digest when digest is set.",
    ),
    (
        "imagePullSecrets",
        "Secrets for pulling from a private registry.",
    ),
    (
        "ingress",
        "An Ingress routing host to the service; tls.secretName serves HTTPS.",
    ),
    (
        "nameOverride",
        "Replaces the chart's name in the objects' name.",
    ),
    ("nodeSelector", "Node labels the pods must run on."),
    ("podAnnotations", "Annotations of the pods."),
    (
        "podDisruptionBudget",
        "At most maxUnavailable pods down at once during voluntary disruptions.",
    ),
    (
        "podSecurityContext",
        "The non-root user, group and volume group the pods run as. The rest of\nthe security context is fixed by the templates.",
    ),
    (
        "probes",
        "The HTTP path of the startup, readiness and liveness probes.",
    ),
    ("replicaCount", "Pods kept when autoscaling is disabled."),
    (
        "resources",
        "CPU and memory per pod: requests are reserved, limits enforced.",
    ),
    ("service", "The Service in front of the pods."),
    ("tolerations", "Taints the pods tolerate."),
];

/// `values.yaml`: the default values with a comment above each.
pub fn values_yaml(settings: &Settings) -> String {
    format!(
        "# Default values of the {} chart; values.schema.json describes each.\n\n{}",
        settings.name,
        yaml::to_yaml_commented(&values(settings), &VALUE_COMMENTS)
    )
}

fn object(properties: Value, required: &[&str]) -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": required,
        "properties": properties,
    })
}

fn string_map() -> Value {
    json!({ "type": "object", "additionalProperties": { "type": "string" } })
}

fn quantity() -> Value {
    json!({
        "type": ["string", "number"],
        "pattern": "^[0-9]+(\\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$",
    })
}

fn integer(minimum: u64, maximum: u64) -> Value {
    json!({ "type": "integer", "minimum": minimum, "maximum": maximum })
}

/// `values.schema.json`: what each value may be.
pub fn schema() -> Value {
    let uid = integer(1, i32::MAX as u64);
    let port = integer(1, 65535);
    let resources = object(json!({ "cpu": quantity(), "memory": quantity() }), &[]);
    let mut schema = object(
        json!({
            "global": { "type": "object" },
            "replicaCount": integer(1, settings::MAX_REPLICAS.into()),
            "image": object(json!({
                "repository": { "type": "string", "minLength": 1 },
                "tag": { "type": "string" },
                "digest": { "type": "string", "pattern": "^([A-Za-z0-9_+.-]+:[A-Fa-f0-9]{32,})?$" },
                "pullPolicy": { "enum": ["Always", "IfNotPresent", "Never"] },
            }), &["repository", "pullPolicy"]),
            "imagePullSecrets": {
                "type": "array",
                "items": object(json!({ "name": { "type": "string", "minLength": 1 } }), &["name"]),
            },
            "nameOverride": { "type": "string", "maxLength": 63 },
            "fullnameOverride": { "type": "string", "maxLength": 63 },
            "podAnnotations": string_map(),
            "podSecurityContext": object(
                json!({ "runAsUser": uid.clone(), "runAsGroup": uid.clone(), "fsGroup": uid }),
                &["runAsUser", "runAsGroup", "fsGroup"],
            ),
            "containerPort": port.clone(),
            "probes": object(
                json!({ "path": { "type": "string", "pattern": "^/" } }),
                &["path"],
            ),
            "env": {
                "type": "object",
                "propertyNames": { "pattern": "^[A-Za-z_][A-Za-z0-9_]*$" },
                "additionalProperties": { "type": "string" },
            },
            "existingSecret": { "type": "string" },
            "service": object(json!({
                "type": { "enum": ["ClusterIP", "NodePort", "LoadBalancer"] },
                "port": port,
            }), &["type", "port"]),
            "ingress": {
                "type": "object",
                "additionalProperties": false,
                "required": ["enabled"],
                "properties": {
                    "enabled": { "type": "boolean" },
                    "className": { "type": "string" },
                    "annotations": string_map(),
                    "host": { "type": "string" },
                    "tls": object(json!({ "secretName": { "type": "string" } }), &[]),
                },
                "if": { "properties": { "enabled": { "const": true } } },
                "then": {
                    "required": ["host"],
                    "properties": { "host": { "minLength": 1 } },
                },
            },
            "resources": object(json!({ "requests": resources.clone(), "limits": resources }), &[]),
            "autoscaling": object(json!({
                "enabled": { "type": "boolean" },
                "minReplicas": integer(1, settings::MAX_REPLICAS.into()),
                "maxReplicas": integer(1, settings::MAX_REPLICAS.into()),
                "targetCPUUtilizationPercentage": integer(1, 100),
            }), &["enabled"]),
            "podDisruptionBudget": object(json!({
                "enabled": { "type": "boolean" },
                "maxUnavailable": {
                    "type": ["integer", "string"],
                    "minimum": 1,
                    "pattern": "^[0-9]+%$",
                },
            }), &["enabled"]),
            "nodeSelector": string_map(),
            "tolerations": { "type": "array", "items": { "type": "object" } },
            "affinity": { "type": "object" },
        }),
        &[
            "replicaCount",
            "image",
            "podSecurityContext",
            "containerPort",
            "probes",
            "service",
            "ingress",
            "resources",
            "autoscaling",
            "podDisruptionBudget",
        ],
    );
    schema["$schema"] = json!("http://json-schema.org/draft-07/schema#");
    schema["title"] = json!("Values of a QLP service chart");
    schema
}

#[cfg(test)]
mod tests;
