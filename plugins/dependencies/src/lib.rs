//! QLP validator `qlp/dependencies`: reads the dependency manifests of a
//! capsule (`requirements*.txt`, `pyproject.toml`, `package.json`,
//! `go.mod`, `Cargo.toml`, `pom.xml`) and their lock files
//! (`package-lock.json`, `yarn.lock`, `Cargo.lock`, `poetry.lock`; see
//! [`manifest`], read by the `qlp-manifests` library `qlp/sbom` shares) and
//! reports
//! versions that are not pinned down, licences outside the operator's
//! allow-list, and versions with known vulnerabilities from the advisory
//! database shipped inside the plugin ([`advisories`], `advisories.toml`),
//! so the check works air-gapped and is updated by publishing a new version.
//!
//! # Rules
//!
//! | rule id | severity | what it reports |
//! |---|---|---|
//! | `dependencies/vulnerable` | the advisory's; one step lower when the requirement also allows a fixed version | a requirement that pins an affected version, or allows one (its lowest allowed version is affected): the advisory id (CVE), what an attacker can do, and the version to move to |
//! | `dependencies/unpinned` | medium: no version, a wildcard (`*`, `x`, `latest` and other dist-tags, Maven `LATEST`/`RELEASE`); low: a range without an upper bound (`>=1.2`, `>1`, `[1.0,)`) | a requirement that lets the next install pick a different major version |
//! | `dependencies/license` | medium | a package whose licence (known from the database) is outside the allow-list |
//!
//! What counts as pinned, per ecosystem ([`version`] has the grammar):
//! - PyPI: `==`/`===` pins; a range with an upper bound (`>=2.6,<3`,
//!   `~=2.6`, `==2.*`) is accepted; `>=` alone is open-ended; no specifier
//!   is unpinned. Poetry's `^`/`~` are bounded.
//! - npm: exact versions, `^`, `~`, `1.2.x` and hyphen ranges are bounded
//!   (the lock file pins within them); `*`, `x`, `""` and dist-tags are
//!   wildcards; `>=` without `<` is open-ended. `file:`, `link:`,
//!   `workspace:`, git and URL specs are not registry versions.
//! - crates.io: a bare version is a caret requirement (bounded); `*` is a
//!   wildcard; a missing version on a registry dependency is unpinned.
//! - Go: `go.mod` versions are exact (minimal version selection); never
//!   unpinned.
//! - Maven: a soft requirement (`1.2.3`) is exact; `LATEST`/`RELEASE` are
//!   wildcards; ranges without an upper bound are open-ended; versions
//!   managed by a parent or BOM are not read.
//!
//! Where a lock file sits beside a manifest, the advisories are checked
//! against the lock's exact versions (transitive ones included) instead of
//! the manifest's ranges; unpinned ranges are still reported from the
//! manifest.
//!
//! A requirement without a lower bound (`<2`, `*`) is not checked against
//! the advisories: nothing says which versions it resolves to, and the
//! unpinned finding already asks for a version.
//!
//! # Configuration
//!
//! - `license-allow`: SPDX ids separated by commas or blanks; default
//!   [`DEFAULT_LICENSE_ALLOW`] (permissive and weak-copyleft-free licences).
//! - `ignore-advisories`: advisory ids (`CVE-2021-23337`) the operator has
//!   assessed as not applicable; their findings are suppressed and counted.
//!
//! # Suppressing a finding
//!
//! In manifests with comments, `qlp-ignore: <rule-id> <reason>` on the
//! line of the dependency or a comment line right above it (`#` in
//! requirements, TOML; `//` in go.mod; `<!-- … -->` in pom.xml). JSON has no
//! comments: for `package.json` use `ignore-advisories`. The summary counts
//! suppressed findings per rule.
//!
//! # Score
//!
//! `score = max(0, 100 − 40·critical − 20·high − 10·medium − 2·low)`
//! ([`PENALTY_CRITICAL`] … [`PENALTY_LOW`]). Open-ended ranges are low and
//! cheap because a lock file usually pins them; a known critical
//! vulnerability costs as much as a leaked key.

pub mod advisories;
pub use qlp_manifests::manifest::allowed;
pub use qlp_manifests::{MAX_MANIFEST_BYTES, manifest, toml_lite, version};

use qlp_sdk::report::{self, Penalties, Suppressed};
use qlp_sdk::validator::{Capsule, Finding, PluginError, PluginInfo, Report, Severity, Validator};
use qlp_sdk::{File, PluginKind};

use crate::advisories::{Database, license_allowed};
use crate::manifest::{Dependency, Style};
use crate::version::{Ecosystem, Interval};

/// The plugin's namespaced name.
pub const PLUGIN_NAME: &str = "qlp/dependencies";

/// The plugin's version.
pub const PLUGIN_VERSION: &str = "0.1.0";

/// The prefix of every rule id, as a suppression may omit it.
pub const RULE_NAMESPACE: &str = "dependencies";

pub const VULNERABLE: &str = "dependencies/vulnerable";
pub const UNPINNED: &str = "dependencies/unpinned";
pub const LICENSE: &str = "dependencies/license";

/// Every rule id, in the order of the rule table.
pub const RULE_IDS: [&str; 3] = [VULNERABLE, UNPINNED, LICENSE];

/// Config key: the licence allow-list.
pub const KEY_LICENSE_ALLOW: &str = "license-allow";
/// Config key: advisory ids to suppress.
pub const KEY_IGNORE_ADVISORIES: &str = "ignore-advisories";

/// Licences allowed unless the operator says otherwise: permissive
/// licences and MPL-2.0 (file-level copyleft, no obligation on the rest of
/// a service). GPL, LGPL and AGPL need a decision, so they are reported.
pub const DEFAULT_LICENSE_ALLOW: [&str; 13] = [
    "MIT",
    "Apache-2.0",
    "BSD-2-Clause",
    "BSD-3-Clause",
    "ISC",
    "0BSD",
    "Unlicense",
    "Zlib",
    "PSF-2.0",
    "Python-2.0",
    "MPL-2.0",
    "CC0-1.0",
    "BSL-1.0",
];

/// Score lost per critical finding.
pub const PENALTY_CRITICAL: u8 = 40;
/// Score lost per high finding.
pub const PENALTY_HIGH: u8 = 20;
/// Score lost per medium finding.
pub const PENALTY_MEDIUM: u8 = 10;
/// Score lost per low finding.
pub const PENALTY_LOW: u8 = 2;

/// What the operator configured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub license_allow: Vec<String>,
    pub ignore_advisories: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            license_allow: DEFAULT_LICENSE_ALLOW
                .iter()
                .map(|s| s.to_string())
                .collect(),
            ignore_advisories: Vec::new(),
        }
    }
}

impl Settings {
    /// Reads the settings through `get` (the host's `config` in a component).
    pub fn from_config(get: impl Fn(&str) -> Option<String>) -> Settings {
        let list = |raw: String| -> Vec<String> {
            raw.split([',', ' ', '\n', '\t'])
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        };
        let mut settings = Settings::default();
        if let Some(raw) = get(KEY_LICENSE_ALLOW) {
            settings.license_allow = list(raw);
        }
        if let Some(raw) = get(KEY_IGNORE_ADVISORIES) {
            settings.ignore_advisories = list(raw);
        }
        settings
    }
}

/// The validator.
pub struct Dependencies;

impl Validator for Dependencies {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: PLUGIN_NAME.into(),
            version: PLUGIN_VERSION.into(),
            kind: PluginKind::Validator,
            description: "Reports unpinned versions, licences outside the allow-list and \
                          known-vulnerable versions (from an advisory database shipped with the \
                          plugin) in requirements.txt, pyproject.toml, package.json, go.mod, \
                          Cargo.toml and pom.xml."
                .into(),
            capabilities: vec![],
        }
    }

    fn validate(capsule: &Capsule<'_>) -> Result<Report, PluginError> {
        let capsule = capsule.view()?;
        let settings = Settings::from_config(qlp_sdk::config);
        Ok(check(&capsule.files, &Database::shipped(), &settings))
    }
}

// Exported only in the component: natively the export symbols would clash
// with those of the agents the integration tests link.
#[cfg(target_arch = "wasm32")]
qlp_sdk::export_validator!(Dependencies);

/// Checks every manifest among `files` and builds the report.
pub fn check(files: &[File], db: &Database, settings: &Settings) -> Report {
    // Directories whose versions a lock file pins, per ecosystem: there
    // the lock's exact versions are checked against the advisories, not
    // the manifest's ranges.
    let locked_dirs: Vec<(&str, Ecosystem)> = files
        .iter()
        .filter_map(|f| manifest::lock_ecosystem(&f.path).map(|e| (dir_of(&f.path), e)))
        .collect();
    let mut findings = Vec::new();
    let mut suppressed = Suppressed::default();
    let baseline = qlp_sdk::suppress::Baseline::from_files(files);
    let mut manifests = 0usize;
    let mut dependencies = 0usize;
    for file in files {
        let Some(text) = qlp_manifests::text_of(&file.content) else {
            continue;
        };
        let Some(deps) = manifest::read(&file.path, text) else {
            continue;
        };
        manifests += 1;
        dependencies += deps.len();
        let lines: Vec<&str> = text.lines().collect();
        for dep in deps {
            let lock_decides = dep.style != Style::Locked
                && locked_dirs.contains(&(dir_of(&file.path), dep.ecosystem));
            for (rule, severity, message, advisory) in check_dependency(&dep, db, settings) {
                if lock_decides && rule == VULNERABLE {
                    continue;
                }
                let ignored_advisory = advisory
                    .as_deref()
                    .is_some_and(|id| settings.ignore_advisories.iter().any(|i| i == id));
                if ignored_advisory
                    || qlp_sdk::suppress::is_suppressed(&lines, dep.line, rule, RULE_NAMESPACE)
                    || baseline.covers(&file.path, Some(dep.line), rule, RULE_NAMESPACE)
                {
                    suppressed.add(rule);
                    continue;
                }
                findings
                    .push(Finding::new(rule, severity, message).at(file.path.clone(), dep.line));
            }
        }
    }
    let score = score(&findings);
    let mut summary = if manifests == 0 {
        "no dependency manifest found".to_string()
    } else {
        let noun = if manifests == 1 {
            "manifest"
        } else {
            "manifests"
        };
        format!(
            "{dependencies} dependencies in {manifests} {noun}: {}",
            summary(&findings)
        )
    };
    summary.push_str(&suppressed.note());
    Report {
        findings,
        score,
        summary,
    }
}

/// The directory of a path, `""` at the top.
fn dir_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

/// One step less severe: for a requirement that also allows a fixed
/// version, which the lock file may already have chosen.
fn one_lower(severity: Severity) -> Severity {
    match severity {
        Severity::Critical => Severity::High,
        Severity::High => Severity::Medium,
        Severity::Medium | Severity::Low => Severity::Low,
        Severity::Info => Severity::Info,
    }
}

/// Why a registry requirement is not pinned down, and how badly.
pub fn unpinned(dep: &Dependency, interval: Option<&Interval>) -> Option<(Severity, String)> {
    if !dep.registry || matches!(dep.style, Style::Go | Style::Locked) {
        return None;
    }
    let Some(spec) = dep.spec.as_deref().map(str::trim) else {
        return Some((Severity::Medium, "has no version".into()));
    };
    let wildcard = matches!(spec, "" | "*" | "x" | "X" | "latest" | "LATEST" | "RELEASE")
        || (dep.style == Style::Npm
            && spec.starts_with(|c: char| c.is_ascii_alphabetic())
            && !spec.starts_with('v'));
    if wildcard {
        let what = if spec.is_empty() { "\"\"" } else { spec };
        return Some((Severity::Medium, format!("asks for `{what}`, any version")));
    }
    let interval = interval?;
    if interval.pinned().is_none() && interval.upper.is_none() {
        return Some((Severity::Low, format!("`{spec}` has no upper bound")));
    }
    None
}

/// The findings of one dependency: rule, severity, message and, for a
/// vulnerability, the advisory id.
pub fn check_dependency(
    dep: &Dependency,
    db: &Database,
    settings: &Settings,
) -> Vec<(&'static str, Severity, String, Option<String>)> {
    let mut out = Vec::new();
    let interval = allowed(dep);
    if let Some((severity, why)) = unpinned(dep, interval.as_ref()) {
        let fix = match dep.ecosystem {
            Ecosystem::PyPi => "pin it (`==x.y.z`) or bound it (`>=x.y,<x+1`)",
            Ecosystem::Npm => {
                "use an exact version or a caret range (`^x.y.z`) and commit the lock file"
            }
            Ecosystem::Crates => "give a version (`\"x.y\"`) and commit Cargo.lock",
            _ => "give an exact version",
        };
        out.push((
            UNPINNED,
            severity,
            format!(
                "`{}` {why}: the next install may pick a new major version with breaking \
                 changes or a compromised release; {fix}",
                dep.name
            ),
            None,
        ));
    }
    if let Some(license) = db.license(dep.ecosystem, &dep.name)
        && !license_allowed(license, &settings.license_allow)
    {
        out.push((
            LICENSE,
            Severity::Medium,
            format!(
                "`{}` is licensed `{license}`, which is not in the allowed licences ({}): get \
                 the licence approved and add it to `{KEY_LICENSE_ALLOW}`, or replace the package",
                dep.name,
                settings.license_allow.join(", ")
            ),
            None,
        ));
    }
    let Some(interval) = interval.filter(|i| i.lower.is_some()) else {
        return out;
    };
    let spec = dep.spec.as_deref().unwrap_or("");
    for advisory in db.for_package(dep.ecosystem, &dep.name) {
        if !advisory
            .affected
            .iter()
            .any(|(range, _)| range.intersects(&interval))
        {
            continue;
        }
        let lowest = interval.lower.as_ref().map(|b| &b.version);
        let fix_in_range = advisory
            .fixed
            .iter()
            .filter(|f| interval.contains(f) && !advisory.affects(f))
            .min();
        let next_fix = advisory
            .fixed
            .iter()
            .filter(|f| lowest.is_none_or(|l| *f > l) && !advisory.affects(f))
            .min();
        let remedy = match (next_fix, &advisory.advice) {
            (_, Some(advice)) => advice.clone(),
            (Some(f), None) => format!("require `{}` or later", f.text),
            (None, None) => "no fixed release is known; replace the package".into(),
        };
        let id = format!("{} ({})", advisory.id, advisory.ecosystem.name());
        let (severity, what, remedy) = match (interval.pinned(), fix_in_range) {
            (Some(v), _) => {
                let how = if dep.style == Style::Locked {
                    "is locked at"
                } else {
                    "pins"
                };
                (
                    advisory.severity,
                    format!("`{}` {how} {}, affected by {id}", dep.name, v.text),
                    remedy,
                )
            }
            (None, Some(_)) => (
                one_lower(advisory.severity),
                format!(
                    "`{}` `{spec}` allows versions affected by {id}, from {}",
                    dep.name,
                    lowest.map_or("the lowest", |l| l.text.as_str())
                ),
                format!("raise the lower bound: {remedy}"),
            ),
            (None, None) => (
                advisory.severity,
                format!(
                    "`{}` `{spec}` allows only versions affected by {id}",
                    dep.name
                ),
                remedy,
            ),
        };
        out.push((
            VULNERABLE,
            severity,
            format!("{what}: {}; {remedy}", advisory.summary),
            Some(advisory.id.clone()),
        ));
    }
    out
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
