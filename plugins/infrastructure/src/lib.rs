//! QLP validator `qlp/infrastructure`: checks the infrastructure a capsule
//! declares — Terraform ([`terraform`], read with the SDK's small HCL
//! reader [`hcl`]) and Docker Compose files ([`compose`], read with the minimal
//! YAML reader in [`yaml`]) — for the mistakes that expose data or hosts:
//! unencrypted or public storage, databases and admin ports open to the
//! internet, missing audit logs, secrets written into the code, and
//! dependencies that float.
//!
//! Terraform files are `*.tf` (not `*.tf.json`); resources are matched by reference within
//! one directory (one module). Compose files are `docker-compose*.yml`,
//! `compose*.yml` (or `.yaml`) with a top-level `services:`. A rule that
//! meets a value it cannot evaluate (a variable, a function call, an
//! interpolation) stays silent.
//!
//! # Rules
//!
//! | rule id | severity | CWE | what it reports |
//! |---|---|---|---|
//! | `infrastructure/tf-unencrypted-storage` | high | CWE-311 | an `aws_s3_bucket` with neither an inline `server_side_encryption_configuration` nor an `aws_s3_bucket_server_side_encryption_configuration` naming it; `aws_db_instance`/`aws_rds_cluster` without `storage_encrypted = true` (not replicas, snapshot restores, Aurora members or Serverless v1); `aws_ebs_volume` (not from a snapshot) and `aws_efs_file_system` without `encrypted = true` |
//! | `infrastructure/tf-public-bucket` | critical | CWE-284 | S3 `acl = "public-read"`/`"public-read-write"` (inline or `aws_s3_bucket_acl`); an `aws_s3_bucket_public_access_block` with one of its four flags false or unset; Google `google_storage_bucket_iam_member`/`_binding` granting `allUsers`/`allAuthenticatedUsers`; Azure `azurerm_storage_container` with `container_access_type` `blob`/`container` |
//! | `infrastructure/tf-open-ingress` | high; critical when the ports include SSH 22, RDP 3389 or a database port (1433, 3306, 5432, 6379, 27017) | CWE-284 | ingress from `0.0.0.0/0` or `::/0` to any port but exactly 80 or 443: `aws_security_group` `ingress` blocks, `aws_security_group_rule` of type `ingress`, `aws_vpc_security_group_ingress_rule`; `google_compute_firewall` `source_ranges`; Azure inbound allow rules from `*`/`Internet` (`azurerm_network_security_rule`, `security_rule` blocks) |
//! | `infrastructure/tf-public-database` | critical | CWE-284 | `publicly_accessible = true` on `aws_db_instance`, `aws_rds_cluster_instance`, `aws_redshift_cluster`, `aws_dms_replication_instance`; a `google_sql_database_instance` authorizing `0.0.0.0/0`; an `azurerm_*_firewall_rule` from 0.0.0.0 to 255.255.255.255 |
//! | `infrastructure/tf-logging-disabled` | medium | CWE-778 | an `aws_s3_bucket` without a `logging` block or an `aws_s3_bucket_logging` naming it (log buckets are exempt: named `*log*` or a log destination); an application `aws_lb`/`aws_alb` without `access_logs { enabled = true }`; `aws_cloudtrail` with `enable_logging = false` |
//! | `infrastructure/tf-hardcoded-secret` | high | CWE-798 | an attribute or object key named like a secret (`password`, `*_password`, `secret`, `token`, `secret_key`, `access_key`, `api_key`, `private_key`) set to a string literal (not a reference, function or interpolation); a secret-named `variable` with a literal `default` |
//! | `infrastructure/tf-unpinned-provider` | low | CWE-1357 | a `required_providers` entry without `version`; a `module` from a registry without `version`, or from git without `?ref=` |
//! | `infrastructure/tf-no-deletion-protection` | low | — | `aws_db_instance`/`aws_rds_cluster` without `deletion_protection = true` (not replicas or Aurora members) |
//! | `infrastructure/tf-imdsv1` | medium | CWE-918 | `aws_instance`, `aws_launch_template`, `aws_launch_configuration` without `metadata_options { http_tokens = "required" }` (or the endpoint disabled) |
//! | `infrastructure/compose-privileged` | critical | CWE-250 | a service with `privileged: true` |
//! | `infrastructure/compose-host-network` | high | CWE-668 | a service with `network_mode: host` |
//! | `infrastructure/compose-docker-socket` | critical | CWE-250 | a volume whose source is the Docker socket (`/var/run/docker.sock`) |
//! | `infrastructure/compose-unpinned-image` | medium | CWE-1357 | an `image` without a tag or with `latest`, and no digest |
//! | `infrastructure/compose-hardcoded-secret` | high | CWE-798 | an `environment` entry named like a secret (`*_PASSWORD`, `*_SECRET`, `*_TOKEN`, `*_API_KEY`, …; not `*_FILE`) with a literal value (not `${VAR}`), or any value that is a URL with a literal password |
//! | `infrastructure/compose-exposed-database` | medium | CWE-668 | a published port of a database or cache image (`postgres`, `mysql`, `mariadb`, `mongo`, `redis`, …) whose host address is not `127.0.0.1`/`::1` |
//!
//! # Suppressing a finding
//!
//! A comment `qlp-ignore: <rule-id> <reason>` on the finding's line or a
//! comment line right above it ([`qlp_sdk::suppress`]). The reason is
//! required; the summary counts suppressed findings per rule.
//!
//! # Score
//!
//! `score = max(0, 100 − 40·critical − 20·high − 10·medium − 3·low)`
//! ([`PENALTY_CRITICAL`] … [`PENALTY_LOW`]).

pub mod compose;
pub mod rules;
pub mod terraform;
pub use qlp_sdk::{hcl, yaml};

use qlp_sdk::report::{self, Penalties, Suppressed};
use qlp_sdk::validator::{Capsule, Finding, PluginError, PluginInfo, Report, Validator};
use qlp_sdk::{File, PluginKind};

use crate::rules::Hit;
use crate::terraform::TfFile;

/// The plugin's namespaced name.
pub const PLUGIN_NAME: &str = "qlp/infrastructure";

/// The plugin's version.
pub const PLUGIN_VERSION: &str = "0.1.0";

/// The prefix of every rule id, as a suppression may omit it.
pub const RULE_NAMESPACE: &str = "infrastructure";

/// Largest file read; hand-written Terraform and Compose files are tens of
/// KiB, and a bigger one is generated and not what this validator judges.
pub const MAX_SCAN_BYTES: usize = 1024 * 1024;

/// Score lost per critical finding (a public bucket or database).
pub const PENALTY_CRITICAL: u8 = 40;
/// Score lost per high finding.
pub const PENALTY_HIGH: u8 = 20;
/// Score lost per medium finding.
pub const PENALTY_MEDIUM: u8 = 10;
/// Score lost per low finding.
pub const PENALTY_LOW: u8 = 3;

/// The validator.
pub struct Infrastructure;

impl Validator for Infrastructure {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: PLUGIN_NAME.into(),
            version: PLUGIN_VERSION.into(),
            kind: PluginKind::Validator,
            description: "Checks Terraform (encrypted and private storage, no databases or \
                          admin ports open to the internet, access and audit logs, no \
                          hard-coded secrets, pinned providers and modules, IMDSv2) and Docker \
                          Compose files (no privileged services, host network or Docker \
                          socket, pinned images, no literal secrets, databases on loopback)."
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
qlp_sdk::export_validator!(Infrastructure);

/// Whether a path names a Terraform file.
pub fn is_terraform_file(path: &str) -> bool {
    path.to_ascii_lowercase().ends_with(".tf")
}

/// A file's text, if this validator reads it: a Terraform or Compose file
/// within [`MAX_SCAN_BYTES`], UTF-8, without its byte-order mark.
fn readable(file: &File) -> Option<&str> {
    if file.content.len() > MAX_SCAN_BYTES
        || !(is_terraform_file(&file.path) || compose::is_compose_file(&file.path))
    {
        return None;
    }
    let text = file.as_text()?;
    Some(text.strip_prefix('\u{feff}').unwrap_or(text))
}

/// Checks every file and builds the report.
pub fn check(files: &[File]) -> Report {
    // (index into `files`, text) of every file read.
    let mut read: Vec<(usize, &str)> = Vec::new();
    let mut terraform_files = Vec::new();
    let mut hits: Vec<(usize, Hit)> = Vec::new();
    for (index, file) in files.iter().enumerate() {
        let Some(text) = readable(file) else { continue };
        let slot = read.len();
        read.push((index, text));
        if is_terraform_file(&file.path) {
            terraform_files.push((
                slot,
                TfFile {
                    path: &file.path,
                    body: hcl::parse(text),
                },
            ));
        } else {
            hits.extend(compose::check(text).into_iter().map(|h| (slot, h)));
        }
    }
    let (slots, tf): (Vec<usize>, Vec<TfFile<'_>>) = terraform_files.into_iter().unzip();
    hits.extend(
        terraform::check(&tf)
            .into_iter()
            .map(|(file, h)| (slots[file], h)),
    );
    hits.sort_by(|(fa, a), (fb, b)| (fa, a.line, a.rule.id).cmp(&(fb, b.line, b.rule.id)));

    let mut findings = Vec::new();
    let mut suppressed = Suppressed::default();
    let lines: Vec<Vec<&str>> = read
        .iter()
        .map(|(_, text)| text.lines().collect())
        .collect();
    let baseline = qlp_sdk::suppress::Baseline::from_files(files);
    for (slot, hit) in hits {
        let path = &files[read[slot].0].path;
        if qlp_sdk::suppress::is_suppressed(&lines[slot], hit.line, hit.rule.id, RULE_NAMESPACE)
            || baseline.covers(path, Some(hit.line), hit.rule.id, RULE_NAMESPACE)
        {
            suppressed.add(hit.rule.id);
            continue;
        }
        findings.push(
            Finding::new(hit.rule.id, hit.rule.severity, hit.message).at(path.clone(), hit.line),
        );
    }
    let score = score(&findings);
    let mut summary = if read.is_empty() {
        "no Terraform or Docker Compose file found".to_string()
    } else {
        let noun = if read.len() == 1 { "file" } else { "files" };
        format!("{} {noun} read: {}", read.len(), summary(&findings))
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
