//! QLP validator `qlp/rules`: runs the operator's own rule pack — YAML in
//! Semgrep's rule shape, read and matched by [`qlp_rules`] — over a
//! capsule's files, so that an enterprise enforces its conventions
//! without writing a plugin.
//!
//! The packs are the plugin's configuration values `pack` (the text of the
//! pack file the operator configured for the plugin) and `pack.1`,
//! `pack.2`… (the registry's rule packs the host assigns to the intent's
//! tier and tenant); they run as one. Without any the plugin reports
//! score 100 and says no rule pack is configured. A pack that does not parse fails the stage with an error
//! naming the rule and the reason (code [`INVALID_PACK`]): a typo in a
//! rule never silently disables it.
//!
//! # Findings
//!
//! | finding field | from the rule |
//! |---|---|
//! | rule id | `id`, as the pack spells it (`acme/no-print-in-services`) |
//! | severity | `severity`: info, low, medium, high, critical (Semgrep's `INFO`/`WARNING`/`ERROR` are low/medium/high) |
//! | path, line | the file and the 1-based line where the match starts |
//! | message | `message` with `$X` replaced by what `$X` matched, then `Fix: …` when the rule has a `fix`, then `[controls…, CWE…]` from `metadata.controls` and `metadata.cwe` |
//!
//! Files are chosen per rule by extension (`languages`) and `paths`;
//! binary files and files over [`qlp_rules::MAX_FILE_BYTES`] are skipped
//! and counted in the summary.
//!
//! # Suppressing a finding
//!
//! A comment `qlp-ignore: <rule-id> <reason>` on the finding's line or a
//! comment line right above it ([`qlp_sdk::suppress`]); the rule id may
//! omit its prefix up to the first `/` (`no-print-in-services`). The
//! reason is required; the summary counts suppressed findings per rule.
//!
//! # Score
//!
//! `score = max(0, 100 − 40·critical − 20·high − 10·medium − 3·low)`
//! ([`PENALTY_CRITICAL`] … [`PENALTY_LOW`]); info findings cost nothing.

use qlp_rules::{Match, Pack};
use qlp_sdk::report::{self, Penalties, Suppressed};
use qlp_sdk::validator::{Capsule, Finding, PluginError, PluginInfo, Report, Severity, Validator};
use qlp_sdk::{File, PluginKind};

/// The plugin's namespaced name.
pub const PLUGIN_NAME: &str = "qlp/rules";

/// The plugin's version.
pub const PLUGIN_VERSION: &str = "0.1.0";

/// The configuration key holding the pack's YAML text.
pub const CONFIG_PACK: &str = "pack";

/// The most numbered packs (`pack.1`…) read.
pub const MAX_ASSIGNED_PACKS: usize = 64;

/// The error code of a pack that does not parse.
pub const INVALID_PACK: &str = "INVALID_RULE_PACK";

/// Score lost per critical finding.
pub const PENALTY_CRITICAL: u8 = 40;
/// Score lost per high finding.
pub const PENALTY_HIGH: u8 = 20;
/// Score lost per medium finding.
pub const PENALTY_MEDIUM: u8 = 10;
/// Score lost per low finding.
pub const PENALTY_LOW: u8 = 3;

/// The validator.
pub struct Rules;

impl Validator for Rules {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: PLUGIN_NAME.into(),
            version: PLUGIN_VERSION.into(),
            kind: PluginKind::Validator,
            description: "Runs the operator's rule pack (Semgrep-style YAML: regex and token \
                          patterns with metavariables, per language and path) over the \
                          capsule's files."
                .into(),
            capabilities: vec![],
        }
    }

    fn validate(capsule: &Capsule<'_>) -> Result<Report, PluginError> {
        let capsule = capsule.view()?;
        let mut packs: Vec<String> = qlp_sdk::config(CONFIG_PACK).into_iter().collect();
        for n in 1..=MAX_ASSIGNED_PACKS {
            match qlp_sdk::config(&format!("{CONFIG_PACK}.{n}")) {
                Some(pack) => packs.push(pack),
                None => break,
            }
        }
        check(&capsule.files, packs.iter().map(String::as_str))
    }
}

// Exported only in the component, like the other validators.
#[cfg(target_arch = "wasm32")]
qlp_sdk::export_validator!(Rules);

/// Runs `packs` (YAML texts; blank ones are skipped) as one over `files`.
pub fn check<'a>(
    files: &[File],
    packs: impl IntoIterator<Item = &'a str>,
) -> Result<Report, PluginError> {
    let mut all: Option<Pack> = None;
    for (i, text) in packs.into_iter().enumerate() {
        if text.trim().is_empty() {
            continue;
        }
        let pack = Pack::parse(text).map_err(|e| {
            PluginError::new(INVALID_PACK, format!("invalid rule pack (#{}): {e}", i + 1))
        })?;
        match all.as_mut() {
            Some(all) => all.extend(pack),
            None => all = Some(pack),
        }
    }
    let Some(pack) = all else {
        return Ok(Report {
            findings: vec![],
            score: 100,
            summary: "no rule pack configured (set the `pack` configuration value)".into(),
        });
    };
    Ok(check_pack(files, &pack))
}

/// Runs a parsed pack over `files`.
pub fn check_pack(files: &[File], pack: &Pack) -> Report {
    let mut findings = Vec::new();
    let mut suppressed = Suppressed::default();
    let baseline = qlp_sdk::suppress::Baseline::from_files(files);
    let mut skipped = 0usize;
    for file in files {
        let Some(text) = file
            .as_text()
            .filter(|t| t.len() <= qlp_rules::MAX_FILE_BYTES)
        else {
            skipped += 1;
            continue;
        };
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let matches = pack.check(&file.path, text);
        if matches.is_empty() {
            continue;
        }
        let lines: Vec<&str> = text.lines().collect();
        for m in matches {
            let namespace = m.rule_id.split_once('/').map_or("", |(ns, _)| ns);
            if qlp_sdk::suppress::is_suppressed(&lines, m.line, &m.rule_id, namespace)
                || baseline.covers(&file.path, Some(m.line), &m.rule_id, namespace)
            {
                suppressed.add(&m.rule_id);
                continue;
            }
            findings.push(
                Finding::new(m.rule_id.clone(), severity(m.severity), message(&m))
                    .at(file.path.clone(), m.line),
            );
        }
    }
    let rules = pack.rules().len();
    let mut summary = format!(
        "{} {} checked against {rules} {}: {}",
        files.len() - skipped,
        if files.len() - skipped == 1 {
            "file"
        } else {
            "files"
        },
        if rules == 1 { "rule" } else { "rules" },
        summary(&findings)
    );
    if skipped > 0 {
        summary.push_str(&format!("; {skipped} binary or oversized skipped"));
    }
    summary.push_str(&suppressed.note());
    Report {
        score: score(&findings),
        findings,
        summary,
    }
}

/// The finding's message: the rule's, its fix, then its control and CWE
/// ids in brackets.
pub fn message(m: &Match) -> String {
    let mut out = m.message.trim().to_string();
    if let Some(fix) = m.fix.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
        out.push_str(&format!(" Fix: {fix}"));
    }
    let ids: Vec<&str> = m
        .metadata
        .controls
        .iter()
        .chain(&m.metadata.cwe)
        .map(String::as_str)
        .collect();
    if !ids.is_empty() {
        out.push_str(&format!(" [{}]", ids.join(", ")));
    }
    out
}

/// The contract's severity of a rule's.
pub fn severity(s: qlp_rules::Severity) -> Severity {
    match s {
        qlp_rules::Severity::Info => Severity::Info,
        qlp_rules::Severity::Low => Severity::Low,
        qlp_rules::Severity::Medium => Severity::Medium,
        qlp_rules::Severity::High => Severity::High,
        qlp_rules::Severity::Critical => Severity::Critical,
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
