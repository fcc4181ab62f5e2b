//! Writing the manifests under `k8s/` from the intent and the earlier
//! files.
//!
//! The objects are `qlp-infra-kit`'s ([`qlp_infra_kit::kube`]), built
//! from [`Settings`] resolved as the exporter resolves them: the name is
//! the intent's project name, the port the Dockerfile's `EXPOSE` (the
//! intent's port without one), the probes' path the health route the
//! sources define, the user the Dockerfile's non-root `USER`. The intent
//! adds:
//!
//! - an Ingress (`k8s/ingress.yaml`) when it names a host or domain
//!   (a `host`/`domain` constraint, or a name like `api.example.com`), or
//!   asks for public access (`public`, `internet`, `ingress`), then for
//!   `<name>.example.com`, a placeholder to change;
//! - for each secret the sources read (`DATABASE_URL`, `JWT_SECRET`,
//!   `AUTH_PASSWORD` and its `AUTH_USERNAME`), an environment variable
//!   taken from the Secret `<name>-secrets`, which is never written: the
//!   comment atop `deployment.yaml` says how to create it.
//!
//! `kustomization.yaml` lists every file, so `kubectl apply -k k8s/`
//! applies them.

use qlp_infra_kit::kube;
use qlp_infra_kit::project::{PUBLIC_WORDS, Project, Wants, is_secret};
use qlp_infra_kit::settings::Settings;
use qlp_infra_kit::yaml;
use qlp_sdk::{File, Intent, PluginError};
use serde_json::{Value, json};

/// The directory the manifests are written under.
pub const DIRECTORY: &str = "k8s";

/// The domain of the placeholder host of a public service whose intent
/// names none.
pub const PLACEHOLDER_DOMAIN: &str = "example.com";

/// The Secret the service's secrets are read from.
pub fn secret_name(settings: &Settings) -> String {
    format!("{}-secrets", settings.name)
}

/// The secrets the service reads, each as an environment variable of the
/// container: the sources' secrets, and a login name beside its password.
fn secret_variables(project: &Project<'_>) -> Vec<String> {
    project
        .env
        .iter()
        .filter(|name| {
            is_secret(name)
                || name
                    .strip_suffix("_USERNAME")
                    .is_some_and(|stem| project.reads(&format!("{stem}_PASSWORD")))
        })
        .cloned()
        .collect()
}

/// Renders every file under `k8s/`.
pub fn render(
    intent: &Intent,
    wants: &Wants,
    project: &Project<'_>,
    files: &[File],
) -> Result<Vec<File>, PluginError> {
    let mut options: Vec<(String, String)> = Vec::new();
    if project.port.is_none()
        && let Some(port) = wants.spec.port
    {
        options.push(("port".into(), port.to_string()));
    }
    let host = wants.host(intent).or_else(|| {
        wants
            .names(PUBLIC_WORDS)
            .then(|| format!("{}.{PLACEHOLDER_DOMAIN}", wants.spec.name))
    });
    if let Some(host) = host {
        options.push(("host".into(), host));
    }
    let (settings, _) = Settings::resolve(files, &wants.spec.name, &options, &[])?;

    let secrets = secret_variables(project);
    let mut deployment = kube::deployment(&settings);
    if !secrets.is_empty() {
        let env: Vec<Value> = secrets
            .iter()
            .map(|name| {
                json!({
                    "name": name,
                    "valueFrom": { "secretKeyRef": { "name": secret_name(&settings), "key": name } },
                })
            })
            .collect();
        deployment["spec"]["template"]["spec"]["containers"][0]["env"] = json!(env);
    }
    let deployment_comment = if secrets.is_empty() {
        format!("The {}'s pods.", wants.spec.title())
    } else {
        let literals: Vec<String> = secrets
            .iter()
            .map(|name| format!("  --from-literal={name}=..."))
            .collect();
        format!(
            "The {}'s pods. Their secrets come from the Secret {}, which\n\
             is not kept here; create it before applying:\n\
             kubectl create secret generic {} \\\n{}",
            wants.spec.title(),
            secret_name(&settings),
            secret_name(&settings),
            literals.join(" \\\n")
        )
    };

    let mut objects: Vec<(&str, Value, String)> = vec![
        (
            "configmap.yaml",
            kube::config_map(&settings),
            "The service's environment that is not secret.".to_string(),
        ),
        ("deployment.yaml", deployment, deployment_comment),
        (
            "service.yaml",
            kube::service(&settings),
            "The service inside the cluster.".to_string(),
        ),
        (
            "hpa.yaml",
            kube::autoscaler(&settings),
            "Scales the pods on CPU.".to_string(),
        ),
        (
            "pdb.yaml",
            kube::disruption_budget(&settings),
            "Keeps all but one pod up through node drains.".to_string(),
        ),
    ];
    if let Some(host) = &settings.host {
        let comment = if host.ends_with(PLACEHOLDER_DOMAIN) {
            format!("Routes {host} to the service: change the host to your domain.")
        } else {
            format!("Routes {host} to the service.")
        };
        objects.push(("ingress.yaml", kube::ingress(&settings), comment));
    }
    let names: Vec<&str> = objects.iter().map(|(file, _, _)| *file).collect();
    let kustomization = kube::kustomization(&names, None);
    let mut out: Vec<File> = objects
        .iter()
        .map(|(file, value, comment)| {
            File::text(
                format!("{DIRECTORY}/{file}"),
                yaml::to_yaml_commented(value, &[("apiVersion", comment.as_str())]),
            )
        })
        .collect();
    out.push(File::text(
        format!("{DIRECTORY}/kustomization.yaml"),
        yaml::to_yaml_commented(
            &kustomization,
            &[(
                "apiVersion",
                "kubectl apply -k k8s/ applies every manifest.",
            )],
        ),
    ));
    Ok(out)
}
