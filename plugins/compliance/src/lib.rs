//! QLP validator `qlp/compliance`: checks a generated project against the
//! controls of PCI DSS (v4.0), HIPAA (the Security and Privacy Rules,
//! 45 CFR 164), GDPR and SOC 2 (Trust Services Criteria) that code can
//! show: sensitive data in logs, stored card verification codes, plain-text
//! transport, clear-text sensitive fields, audit logging, retention,
//! erasure and access control. Every message starts with the control ids
//! it maps to, e.g. `[PCI DSS 3.4.1, 3.5.1] card number (`card_number`)
//! written to a log …`; only the controls of the selected frameworks are
//! named.
//!
//! # Which frameworks run
//!
//! [`frameworks::select`]: the intent's `("compliance", concern)`
//! constraints (the planner's `payments` → PCI DSS, `health-data` → HIPAA,
//! `personal-data` → GDPR, or a framework named outright: `pci-dss`,
//! `hipaa`, `gdpr`, `soc2`), plus the operator's plugin setting
//! `frameworks` (comma-separated keys) for the tier. An unknown key in the
//! setting fails the stage with `INVALID_CONFIG`. With no framework
//! selected the report has score 100, no findings, and a summary saying so
//! and why. The data kinds a rule looks for are those of the selected
//! frameworks ([`data`]): card data for PCI DSS, health data for HIPAA,
//! personal data for GDPR; SOC 2 puts all of them in scope of
//! `unencrypted-at-rest`.
//!
//! # What is read
//!
//! Source files ([`scan`]) — Python, JavaScript/TypeScript, Go, Rust and
//! Java — are tokenized ([`lex`], comments dropped, strings whole, as in
//! `qlp/security`); configuration, table definitions and READMEs
//! ([`config`]) are read line by line. Test files (`tests/`, `test_*.py`,
//! `*_test.go`, `*.test.ts` …) are not read: they use made-up data on
//! purpose. Names are matched by their words (`cardNumber`, `card_number`),
//! so `card_id`, `masked_pan` or `email_template` are not sensitive data.
//! Routes are recognised as the shipped agents and common frameworks write
//! them: FastAPI/Flask decorators, Express/NestJS, Go `net/http` method
//! checks and gin/echo/chi, axum/actix, Spring/JAX-RS.
//!
//! # Rules
//!
//! | rule id | severity | controls | what it reports |
//! |---|---|---|---|
//! | `compliance/sensitive-data-logged` | high | PCI DSS 3.4.1, 3.5.1 (card number), 3.3.1 (CVV); HIPAA 164.502(b), 164.312(b); GDPR Art. 5(1)(f), Art. 32 | a logging or print call whose arguments (or interpolated names) hold data of a selected kind; not through `mask(…)`/`redact(…)`/`hash(…)` or indexed (`pan[-4:]`) |
//! | `compliance/cvv-stored` | critical | PCI DSS 3.3.1 | a model, struct, interface, schema or table field for a CVV/CVC/security code |
//! | `compliance/plaintext-transport` | high | PCI DSS 4.2.1; HIPAA 164.312(e)(1); GDPR Art. 32; SOC 2 CC6.7 | an `http://` or `ws://` URL to a public host (not loopback, private, single-label, `.local`/`.internal`, documentation or XML-namespace hosts) in code or configuration; `sslmode=disable`, `ssl=false` in a connection URL; TLS verification turned off (`verify=False`, `InsecureSkipVerify: true`, `rejectUnauthorized: false`, `NODE_TLS_REJECT_UNAUTHORIZED=0` …) |
//! | `compliance/unencrypted-at-rest` | high | PCI DSS 3.5.1; HIPAA 164.312(a)(2)(iv); GDPR Art. 32; SOC 2 CC6.1 | a stored field holding a card number, health data or a government id (email addresses and the like are not reported) in a file that shows no encryption, keyed hashing or tokenisation |
//! | `compliance/no-audit-logging` | medium | PCI DSS 10.2.1; HIPAA 164.312(b); SOC 2 CC7.2 | the project has routes that change data, no handler file logs the actor (`user`, `sub`, `principal` …) and no audit logger is called; about the project (no line) |
//! | `compliance/no-retention-policy` | medium | PCI DSS 3.2.1; HIPAA 164.316(b)(2); GDPR Art. 5(1)(e) | data of a selected kind is stored and no setting names a retention (`retention`, `*_ttl`, `expire…` not about tokens or sessions) and no README heading mentions retention; about the project |
//! | `compliance/no-erasure-endpoint` | medium | GDPR Art. 17 | a model holding personal data whose resource has no DELETE route; at the first such field |
//! | `compliance/no-access-control` | high | PCI DSS 7.2.1; HIPAA 164.312(a)(1); GDPR Art. 32; SOC 2 CC6.1 | routes change data and the project shows no authentication (middleware, dependency, decorator, JWT check, `Authorization` header read); at the first such route |
//!
//! A field counts as stored when it is declared in a model of a server-side
//! language, in a table definition, or in JavaScript in a project that
//! serves HTTP (a front-end's types describe what it shows, not what it
//! keeps). In Java a model is a class, an interface or a record, whose
//! components are its fields; a record declared inside a model is named
//! by both (`Card.Input`), so a resource's request body and its stored
//! record are one resource.
//!
//! # Suppressing a finding
//!
//! A comment `qlp-ignore: <rule-id> <reason>` on the finding's line or on
//! a comment line right above it ([`qlp_sdk::suppress`]); for the findings
//! about the whole project (`no-audit-logging`, `no-retention-policy`), in
//! any file of the project. The reason is required; the summary counts
//! suppressed findings per rule.
//!
//! # Score
//!
//! `score = max(0, 100 − 40·critical − 20·high − 10·medium − 3·low)`
//! ([`PENALTY_CRITICAL`] … [`PENALTY_LOW`]); 100 with no framework
//! selected.

pub use qlp_sdk::source::code;
pub mod config;
pub mod data;
pub mod frameworks;
pub use qlp_sdk::source::lex;
pub mod project;
pub mod rules;
pub mod scan;

use std::collections::BTreeMap;

use qlp_sdk::report::{self, Penalties, Suppressed};
use qlp_sdk::validator::{
    Capsule, CapsuleView, Finding, PluginError, PluginInfo, Report, Validator,
};
use qlp_sdk::{File, PluginKind};

use crate::frameworks::Selection;
use crate::lex::Lang;
use crate::project::FileFacts;

/// The plugin's namespaced name.
pub const PLUGIN_NAME: &str = "qlp/compliance";

/// The plugin's version.
pub const PLUGIN_VERSION: &str = "0.1.0";

/// The prefix of every rule id, as a suppression may omit it.
pub const RULE_NAMESPACE: &str = "compliance";

/// Largest file read. Generated sources are far smaller; bigger files are
/// bundles or data, where a token scan spends the sandbox's fuel on bytes
/// nobody wrote by hand.
pub const MAX_SCAN_BYTES: usize = 1024 * 1024;

/// Score lost per critical finding (a stored CVV).
pub const PENALTY_CRITICAL: u8 = 40;
/// Score lost per high finding: data exposed in logs, on the wire or at
/// rest, or changed without authentication.
pub const PENALTY_HIGH: u8 = 20;
/// Score lost per medium finding: a missing process control (audit trail,
/// retention, erasure).
pub const PENALTY_MEDIUM: u8 = 10;
/// Score lost per low finding.
pub const PENALTY_LOW: u8 = 3;

/// The validator.
pub struct Compliance;

impl Validator for Compliance {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: PLUGIN_NAME.into(),
            version: PLUGIN_VERSION.into(),
            kind: PluginKind::Validator,
            description: "Checks PCI DSS, HIPAA, GDPR and SOC 2 controls in the generated \
                          project (sensitive data in logs, stored CVVs, plain-text transport, \
                          unencrypted sensitive fields, audit logging, retention, erasure, \
                          access control) for the frameworks the intent's compliance concerns \
                          or the operator's `frameworks` setting select; findings carry \
                          control ids."
                .into(),
            capabilities: vec![],
        }
    }

    fn validate(capsule: &Capsule<'_>) -> Result<Report, PluginError> {
        let capsule = capsule.view()?;
        let configured = qlp_sdk::config(frameworks::CONFIG_KEY);
        check(&capsule, configured.as_deref())
    }
}

// Exported only in the component: natively the export symbols would clash
// with those of the agents the integration tests link.
#[cfg(target_arch = "wasm32")]
qlp_sdk::export_validator!(Compliance);

/// Checks a capsule with the frameworks its intent and the operator's
/// `frameworks` setting (`configured`) select.
pub fn check(capsule: &CapsuleView, configured: Option<&str>) -> Result<Report, PluginError> {
    let selection = frameworks::select(&capsule.intent, configured)?;
    Ok(check_files(&capsule.files, &selection))
}

/// What one file contributes, or `None` for a file that is not read.
pub fn file_facts(path: &str, text: &str) -> Option<FileFacts> {
    if scan::is_test_path(path) {
        return None;
    }
    let (lang, schema, facts) = if let Some(lang) = Lang::of_path(path) {
        (Some(lang), false, scan::scan(lang, text))
    } else if config::is_schema(path) {
        (None, true, config::scan_schema(text))
    } else if config::is_config(path) {
        (None, false, config::scan_config(text))
    } else if config::is_documentation(path) {
        let facts = scan::Facts {
            retention: config::retention_heading(text),
            ..scan::Facts::default()
        };
        (None, false, facts)
    } else {
        return None;
    };
    Some(FileFacts {
        path: path.to_string(),
        lang,
        schema,
        facts,
    })
}

/// Checks every file against the selected frameworks and builds the
/// report.
pub fn check_files(files: &[File], selection: &Selection) -> Report {
    let mut summary = if selection.is_empty() {
        "no compliance framework selected, so no control was checked: the intent has no \
         `compliance` constraint (payments, health-data, personal-data, or a framework) and the \
         operator's `frameworks` setting is empty"
            .to_string()
    } else {
        format!("frameworks: {}", selection.describe())
    };
    if !selection.unknown_concerns.is_empty() {
        summary.push_str(&format!(
            "; compliance concerns with no framework here: {}",
            selection.unknown_concerns.join(", ")
        ));
    }
    if selection.is_empty() {
        return Report {
            findings: vec![],
            score: 100,
            summary,
        };
    }
    let mut texts: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut facts = Vec::new();
    for file in files {
        if file.content.len() > MAX_SCAN_BYTES {
            continue;
        }
        let Some(text) = file.as_text() else { continue };
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        if let Some(f) = file_facts(&file.path, text) {
            texts.insert(&file.path, text.lines().collect());
            facts.push(f);
        }
    }
    let mut hits = project::check(&facts, selection);
    hits.sort_by(|a, b| (&a.path, a.line, a.rule.id).cmp(&(&b.path, b.line, b.rule.id)));
    let mut findings = Vec::new();
    let mut suppressed = Suppressed::default();
    let baseline = qlp_sdk::suppress::Baseline::from_files(files);
    for hit in hits {
        let line = (hit.line > 0).then_some(hit.line);
        let in_baseline = hit
            .path
            .as_deref()
            .is_some_and(|path| baseline.covers(path, line, hit.rule.id, RULE_NAMESPACE));
        let is_suppressed = in_baseline
            || match &hit.path {
                Some(path) if hit.line > 0 => texts.get(path.as_str()).is_some_and(|lines| {
                    qlp_sdk::suppress::is_suppressed(lines, hit.line, hit.rule.id, RULE_NAMESPACE)
                }),
                _ => texts.values().any(|lines| {
                    qlp_sdk::suppress::is_suppressed_in_file(lines, hit.rule.id, RULE_NAMESPACE)
                }),
            };
        if is_suppressed {
            suppressed.add(hit.rule.id);
            continue;
        }
        findings.push(
            Finding::new(hit.rule.id, hit.rule.severity, hit.message)
                .located(hit.path, (hit.line > 0).then_some(hit.line)),
        );
    }
    let noun = if facts.len() == 1 { "file" } else { "files" };
    summary.push_str(&format!(
        "; {} {noun} read: {}",
        facts.len(),
        counts(&findings)
    ));
    summary.push_str(&suppressed.note());
    Report {
        score: score(&findings),
        findings,
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
pub fn counts(findings: &[Finding]) -> String {
    report::counts(findings, "no findings")
}

#[cfg(test)]
mod tests;
