//! QLP validator `qlp/container`: checks how a capsule will run —
//! Dockerfiles ([`dockerfile`]) and Kubernetes manifests ([`k8s`], read
//! with the minimal YAML reader in [`yaml`]) — for the container mistakes
//! that turn one bug into a host compromise or an outage: running as
//! root, floating base images, secrets baked into images, no health
//! checks, privileged pods, host mounts and namespaces, no resource limits
//! and no probes.
//!
//! Dockerfiles are `Dockerfile`, `Dockerfile.*`, `*.dockerfile` and
//! `Containerfile`. Kubernetes manifests are `.yaml`/`.yml` files with a
//! top-level `apiVersion:` and `kind:`; Compose files, Helm templates
//! (`{{ … }}` is not YAML) and Kustomize overlays are not read.
//!
//! # Rules
//!
//! | rule id | severity | CWE | what it reports |
//! |---|---|---|---|
//! | `container/root-user` | high | CWE-250 | the final stage has no `USER`, or its last `USER` is `root`/`0` |
//! | `container/unpinned-base-image` | medium | CWE-1357 | a `FROM` image without a tag or with `latest` and no digest (`scratch`, earlier stages and `$ARG` images are not) |
//! | `container/secret-in-image` | high; medium for `ARG` | CWE-538 | `ENV` setting a secret-sounding name (`PASSWORD`, `SECRET`, `TOKEN`, `API_KEY`, `PRIVATE_KEY`, `ACCESS_KEY`); `ARG` declaring one; `COPY`/`ADD` of `.env`, `id_rsa`, `*.pem`, `*.key`, `.npmrc`, `.pypirc`, `.netrc`, `credentials` |
//! | `container/missing-healthcheck` | low | — | the final stage has no `HEALTHCHECK` (exempt with a `qlp-ignore` comment anywhere in the file naming the reason) |
//! | `container/add-remote-url` | medium | CWE-494 | `ADD https://…` without `--checksum=` |
//! | `container/k8s-run-as-root` | high | CWE-250 | a container with neither `runAsNonRoot: true` nor a non-zero `runAsUser` (own or the pod's), or with `runAsUser: 0` |
//! | `container/k8s-privileged` | critical | CWE-250 | `securityContext.privileged: true` |
//! | `container/k8s-host-namespace` | high | CWE-668 | `hostNetwork`, `hostPID` or `hostIPC: true` |
//! | `container/k8s-host-path` | high | CWE-668 | a `hostPath` volume |
//! | `container/k8s-missing-limits` | medium | CWE-770 | a container without `resources.limits.memory` |
//! | `container/k8s-missing-probes` | low | — | a long-running container without a readiness or liveness probe |
//!
//! # Suppressing a finding
//!
//! A comment `qlp-ignore: <rule-id> <reason>` on the finding's line or a
//! comment line right above it ([`qlp_sdk::suppress`]); for the image-wide
//! `container/missing-healthcheck`, anywhere in the Dockerfile. The reason
//! is required; the summary counts suppressed findings per rule.
//!
//! # Score
//!
//! `score = max(0, 100 − 40·critical − 20·high − 10·medium − 3·low)`
//! ([`PENALTY_CRITICAL`] … [`PENALTY_LOW`]).

pub mod dockerfile;
pub mod k8s;
pub mod rules;
pub use qlp_sdk::yaml;

use qlp_sdk::report::{self, Penalties, Suppressed};
use qlp_sdk::validator::{Capsule, Finding, PluginError, PluginInfo, Report, Validator};
use qlp_sdk::{File, PluginKind};

use crate::rules::{Hit, MISSING_HEALTHCHECK};

/// The plugin's namespaced name.
pub const PLUGIN_NAME: &str = "qlp/container";

/// The plugin's version.
pub const PLUGIN_VERSION: &str = "0.1.0";

/// The prefix of every rule id, as a suppression may omit it.
pub const RULE_NAMESPACE: &str = "container";

/// Largest file read; Dockerfiles and manifests are a few KiB.
pub const MAX_SCAN_BYTES: usize = 1024 * 1024;

/// Score lost per critical finding (a privileged container).
pub const PENALTY_CRITICAL: u8 = 40;
/// Score lost per high finding.
pub const PENALTY_HIGH: u8 = 20;
/// Score lost per medium finding.
pub const PENALTY_MEDIUM: u8 = 10;
/// Score lost per low finding.
pub const PENALTY_LOW: u8 = 3;

/// The validator.
pub struct Container;

impl Validator for Container {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: PLUGIN_NAME.into(),
            version: PLUGIN_VERSION.into(),
            kind: PluginKind::Validator,
            description: "Checks Dockerfiles (non-root user, pinned base image, no secrets in \
                          layers, health check, no unverified remote ADD) and Kubernetes \
                          manifests (runAsNonRoot, no privileged containers or host paths, \
                          resource limits, probes)."
                .into(),
            capabilities: vec![],
        }
    }

    fn validate(capsule: &Capsule<'_>) -> Result<Report, PluginError> {
        let capsule = capsule.view()?;
        Ok(check(&capsule.files))
    }
}

// Exported only in the component: natively the export symbols would clash
// with those of the agents the integration tests link.
#[cfg(target_arch = "wasm32")]
qlp_sdk::export_validator!(Container);

/// The hits of one file, sorted by line and rule; `None` when the file is
/// neither a Dockerfile nor a Kubernetes manifest.
pub fn scan_text(path: &str, text: &str) -> Option<Vec<Hit>> {
    let lower = path.to_ascii_lowercase();
    let mut hits = if dockerfile::is_dockerfile(path) {
        dockerfile::check(text)
    } else if (lower.ends_with(".yaml") || lower.ends_with(".yml"))
        && k8s::looks_like_manifest(text)
    {
        k8s::check(text)
    } else {
        return None;
    };
    hits.sort_by(|a, b| (a.line, a.rule.id).cmp(&(b.line, b.rule.id)));
    Some(hits)
}

/// Checks every file and builds the report.
pub fn check(files: &[File]) -> Report {
    let mut findings = Vec::new();
    let mut suppressed = Suppressed::default();
    let baseline = qlp_sdk::suppress::Baseline::from_files(files);
    let mut read = 0usize;
    for file in files {
        if file.content.len() > MAX_SCAN_BYTES {
            continue;
        }
        let Some(text) = file.as_text() else { continue };
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let Some(hits) = scan_text(&file.path, text) else {
            continue;
        };
        read += 1;
        let lines: Vec<&str> = text.lines().collect();
        for hit in hits {
            let image_wide_exemption = hit.rule == MISSING_HEALTHCHECK
                && qlp_sdk::suppress::is_suppressed_in_file(&lines, hit.rule.id, RULE_NAMESPACE);
            if image_wide_exemption
                || qlp_sdk::suppress::is_suppressed(&lines, hit.line, hit.rule.id, RULE_NAMESPACE)
                || baseline.covers(&file.path, Some(hit.line), hit.rule.id, RULE_NAMESPACE)
            {
                suppressed.add(hit.rule.id);
                continue;
            }
            findings.push(
                Finding::new(hit.rule.id, hit.rule.severity, hit.message)
                    .at(file.path.clone(), hit.line),
            );
        }
    }
    let score = score(&findings);
    let mut summary = if read == 0 {
        "no Dockerfile or Kubernetes manifest found".to_string()
    } else {
        let noun = if read == 1 { "file" } else { "files" };
        format!("{read} {noun} read: {}", summary(&findings))
    };
    summary.push_str(&suppressed.note());
    Report {
        findings,
        score,
        summary,
    }
}

/// The score a finding of each severity costs.
pub const PENALTIES: Penalties = Penalties {
    critical: PENALTY_CRITICAL,
    high: PENALTY_HIGH,
    medium: PENALTY_MEDIUM,
    low: PENALTY_LOW,
    info: 0,
};

/// 100 minus the penalties of all findings, floored at 0.
pub fn score(findings: &[Finding]) -> u8 {
    report::score(findings, &PENALTIES)
}

/// `no findings`, or the count by severity.
pub fn summary(findings: &[Finding]) -> String {
    report::counts(findings, "no findings")
}

#[cfg(test)]
mod tests;
