//! QLP validator `qlp/quality`: maintainability checks over a capsule —
//! functions too complex to test, public functions without documentation,
//! modules without tests, files too long to read, and copied blocks.
//!
//! It reads the capsule's `analyses` (what the analyzers measured:
//! functions with McCabe complexity and a documented flag, lines of code)
//! and the files themselves. Analyses exist only for languages with an
//! analyzer (Python today); for the other languages complexity and
//! documentation are not checked (the summary says which languages were
//! read without an analysis) and lines of code are counted from the file:
//! lines that are neither blank nor comment-only (`#` in Python; `//`, `/*`,
//! `*` elsewhere). Sources are chosen by extension as in [`layout`]; binary
//! files and files over [`MAX_SCAN_BYTES`] are skipped.
//!
//! # Rules
//!
//! | rule id | severity | what it reports |
//! |---|---|---|
//! | `quality/complexity` | medium above `complexity-warn` (10), high above `complexity-high` (20) | a function whose McCabe cyclomatic complexity exceeds the threshold, at its definition |
//! | `quality/undocumented-function` | low | a public function without a docstring/doc comment, outside test files; public means no `_`-prefixed name segment (Python, JavaScript, Rust, Java) or an upper-case initial (Go) |
//! | `quality/missing-tests` | low | a source module with functions that no test file tests, by the conventions in [`layout`] (Go: per package, reported at its first file) |
//! | `quality/no-tests` | high | a capsule with source modules and not a single test file (instead of one `missing-tests` per module) |
//! | `quality/long-file` | low above `max-file-lines` (500) lines of code, medium above twice that | a file too long to hold one responsibility |
//! | `quality/duplicate-block` | low | the same run of at least `duplicate-min-lines` (6) normalized lines in two places, reported at the later one ([`duplicates`]); test files are not compared, since arranged test cases repeat by design |
//!
//! Thresholds are operator configuration ([`settings`]).
//!
//! # Suppressing a finding
//!
//! A comment `qlp-ignore: <rule-id> <reason>` on the finding's line, or on
//! a comment-only line right above it, suppresses it ([`qlp_sdk::suppress`]); for a
//! finding about a whole file (`missing-tests`, `long-file`), a marker
//! anywhere in that file does. The reason is required; the summary counts
//! suppressed findings per rule.
//!
//! # Score
//!
//! `score = max(0, 100 − 10·high − 4·medium − 1·low)` over the findings
//! that were not suppressed ([`PENALTY_HIGH`], [`PENALTY_MEDIUM`],
//! [`PENALTY_LOW`]). Maintainability findings are many and individually
//! cheap, so the weights are lower than the security validator's.

pub mod duplicates;
pub mod layout;
pub mod settings;

use std::collections::{BTreeMap, BTreeSet};

use qlp_sdk::report::{self, Penalties, Suppressed};
use qlp_sdk::validator::{Capsule, Finding, PluginError, PluginInfo, Report, Severity, Validator};
use qlp_sdk::{Analysis, File, PluginKind};

use crate::layout::Lang;
use crate::settings::Settings;

/// The plugin's namespaced name.
pub const PLUGIN_NAME: &str = "qlp/quality";

/// The plugin's version.
pub const PLUGIN_VERSION: &str = "0.1.0";

/// The prefix of every rule id, as a suppression may omit it.
pub const RULE_NAMESPACE: &str = "quality";

/// Largest file read. Hand-written modules are far smaller; anything bigger
/// is generated data, where duplication and length say nothing.
pub const MAX_SCAN_BYTES: usize = 1024 * 1024;

/// Score lost per high finding (a capsule without tests, a function past
/// the high complexity threshold).
pub const PENALTY_HIGH: u8 = 10;
/// Score lost per medium finding.
pub const PENALTY_MEDIUM: u8 = 4;
/// Score lost per low finding: a missing docstring or test costs a point.
pub const PENALTY_LOW: u8 = 1;

pub const COMPLEXITY: &str = "quality/complexity";
pub const UNDOCUMENTED_FUNCTION: &str = "quality/undocumented-function";
pub const MISSING_TESTS: &str = "quality/missing-tests";
pub const NO_TESTS: &str = "quality/no-tests";
pub const LONG_FILE: &str = "quality/long-file";
pub const DUPLICATE_BLOCK: &str = "quality/duplicate-block";

/// Every rule id, in the order of the rule table.
pub const RULE_IDS: [&str; 6] = [
    COMPLEXITY,
    UNDOCUMENTED_FUNCTION,
    MISSING_TESTS,
    NO_TESTS,
    LONG_FILE,
    DUPLICATE_BLOCK,
];

/// The validator.
pub struct Quality;

impl Validator for Quality {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: PLUGIN_NAME.into(),
            version: PLUGIN_VERSION.into(),
            kind: PluginKind::Validator,
            description: "Reports complex and undocumented functions, modules without tests, \
                          long files and duplicated blocks, from the analyses and the files."
                .into(),
            capabilities: vec![],
        }
    }

    fn validate(capsule: &Capsule<'_>) -> Result<Report, PluginError> {
        let capsule = capsule.view()?;
        let settings = Settings::from_config(qlp_sdk::config)?;
        Ok(check(&capsule.files, &capsule.analyses, &settings))
    }
}

// Exported only in the component: natively the export symbols would clash
// with those of the agents and analyzers the integration tests link.
#[cfg(target_arch = "wasm32")]
qlp_sdk::export_validator!(Quality);

/// A source file of the capsule.
struct SourceFile<'a> {
    path: &'a str,
    lang: Lang,
    text: &'a str,
    test: bool,
    analysis: Option<&'a Analysis>,
}

/// Checks the files and analyses and builds the report.
pub fn check(files: &[File], analyses: &[Analysis], settings: &Settings) -> Report {
    let by_path: BTreeMap<&str, &Analysis> =
        analyses.iter().map(|a| (a.path.as_str(), a)).collect();
    let mut sources = Vec::new();
    for file in files {
        let Some(lang) = Lang::of_path(&file.path) else {
            continue;
        };
        let Some(text) = (file.content.len() <= MAX_SCAN_BYTES)
            .then(|| file.as_text())
            .flatten()
        else {
            continue;
        };
        sources.push(SourceFile {
            path: &file.path,
            lang,
            text: text.strip_prefix('\u{feff}').unwrap_or(text),
            test: layout::is_test(&file.path, lang),
            analysis: by_path.get(file.path.as_str()).copied(),
        });
    }

    let mut findings = Vec::new();
    for source in &sources {
        functions(source, settings, &mut findings);
        long_file(source, settings, &mut findings);
    }
    missing_tests(&sources, &mut findings);
    duplicate_blocks(&sources, settings, &mut findings);

    // Suppressions, then a stable order: by path, line, rule.
    let mut suppressed = Suppressed::default();
    let texts: BTreeMap<&str, Vec<&str>> = sources
        .iter()
        .map(|s| (s.path, s.text.lines().collect()))
        .collect();
    let baseline = qlp_sdk::suppress::Baseline::from_files(files);
    findings.retain(|f: &Finding| {
        let Some(path) = f.path() else {
            return true;
        };
        let inline = texts.get(path).is_some_and(|lines| match f.line() {
            Some(line) => qlp_sdk::suppress::is_suppressed(lines, line, &f.rule_id, RULE_NAMESPACE),
            None => qlp_sdk::suppress::is_suppressed_in_file(lines, &f.rule_id, RULE_NAMESPACE),
        });
        let hidden = inline || baseline.covers(path, f.line(), &f.rule_id, RULE_NAMESPACE);
        if hidden {
            suppressed.add(&f.rule_id);
        }
        !hidden
    });
    findings
        .sort_by(|a, b| (a.path(), a.line(), &a.rule_id).cmp(&(b.path(), b.line(), &b.rule_id)));

    let score = score(&findings);
    let mut summary = summary(&findings);
    let public: Vec<bool> = sources
        .iter()
        .filter(|s| !s.test)
        .filter_map(|s| s.analysis.map(|a| (s.lang, a)))
        .flat_map(|(lang, a)| {
            a.functions
                .iter()
                .filter(move |f| is_public(lang, &f.name))
                .map(|f| f.documented)
        })
        .collect();
    if !public.is_empty() {
        let documented = public.iter().filter(|d| **d).count();
        summary.push_str(&format!(
            "; {documented} of {} public functions documented in analysed files",
            public.len()
        ));
    }
    let unanalysed: BTreeSet<&str> = sources
        .iter()
        .filter(|s| s.analysis.is_none())
        .map(|s| s.lang.name())
        .collect();
    if !unanalysed.is_empty() {
        let names: Vec<&str> = unanalysed.into_iter().collect();
        summary.push_str(&format!(
            "; no analysis for {}: complexity and documentation not checked there",
            names.join(", ")
        ));
    }
    summary.push_str(&suppressed.note());
    Report {
        findings,
        score,
        summary,
    }
}

fn finding(
    rule: &str,
    severity: Severity,
    path: &str,
    line: Option<u32>,
    message: String,
) -> Finding {
    Finding::new(rule, severity, message).located(Some(path.into()), line)
}

/// The name analyzers give a function without one.
pub const ANONYMOUS: &str = "(anonymous)";

/// Whether a function name (qualified, `Class.method`) is public in its
/// language. Anonymous functions (closures, arrow functions passed as
/// arguments, reported as `(anonymous)`) have no name to document.
pub fn is_public(lang: Lang, name: &str) -> bool {
    if name.ends_with(ANONYMOUS) {
        return false;
    }
    match lang {
        Lang::Go => name
            .rsplit('.')
            .next()
            .and_then(|n| n.chars().next())
            .is_some_and(char::is_uppercase),
        _ => !name.split('.').any(|segment| segment.starts_with('_')),
    }
}

fn functions(source: &SourceFile<'_>, settings: &Settings, out: &mut Vec<Finding>) {
    let Some(analysis) = source.analysis else {
        return;
    };
    for function in &analysis.functions {
        let cc = function.cyclomatic_complexity;
        let band = if cc > settings.complexity_high {
            Some((Severity::High, settings.complexity_high))
        } else if cc > settings.complexity_warn {
            Some((Severity::Medium, settings.complexity_warn))
        } else {
            None
        };
        if let Some((severity, threshold)) = band {
            out.push(finding(
                COMPLEXITY,
                severity,
                source.path,
                Some(function.line),
                format!(
                    "`{}` has cyclomatic complexity {cc} (threshold {threshold}): each decision \
                     adds a path to test and to reason about; extract the branches into smaller \
                     functions or replace condition chains with a lookup",
                    function.name
                ),
            ));
        }
        if !source.test && !function.documented && is_public(source.lang, &function.name) {
            out.push(finding(
                UNDOCUMENTED_FUNCTION,
                Severity::Low,
                source.path,
                Some(function.line),
                format!(
                    "public function `{}` has no documentation: say what it does, what it \
                     returns and what it raises in a docstring or doc comment",
                    function.name
                ),
            ));
        }
    }
}

/// Lines of code: the analysis's count, or non-blank, non-comment lines.
fn lines_of_code(source: &SourceFile<'_>) -> u32 {
    if let Some(analysis) = source.analysis {
        return analysis.lines_of_code;
    }
    let prefixes = source.lang.comment_prefixes();
    let n = source
        .text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !prefixes.iter().any(|p| l.starts_with(p)))
        .count();
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn long_file(source: &SourceFile<'_>, settings: &Settings, out: &mut Vec<Finding>) {
    let loc = lines_of_code(source);
    let max = settings.max_file_lines;
    let severity = if loc > max.saturating_mul(2) {
        Severity::Medium
    } else if loc > max {
        Severity::Low
    } else {
        return;
    };
    out.push(finding(
        LONG_FILE,
        severity,
        source.path,
        None,
        format!(
            "{loc} lines of code (limit {max}): a file this long usually mixes responsibilities; \
             split it into modules along them"
        ),
    ));
}

fn missing_tests(sources: &[SourceFile<'_>], out: &mut Vec<Finding>) {
    let tests: Vec<&SourceFile<'_>> = sources.iter().filter(|s| s.test).collect();
    let modules: Vec<&SourceFile<'_>> = sources
        .iter()
        .filter(|s| {
            !s.test
                && layout::needs_tests(
                    s.path,
                    s.lang,
                    s.text,
                    s.analysis.map(|a| a.functions.len()),
                )
        })
        .collect();
    if modules.is_empty() {
        return;
    }
    if tests.is_empty() {
        out.push(finding(
            NO_TESTS,
            Severity::High,
            modules[0].path,
            None,
            format!(
                "the project has {} source modules and no test file: nothing shows the code \
                 works or keeps working; add tests next to the code by the stack's convention \
                 (`tests/test_*.py`, `*_test.go`, `*.test.ts`)",
                modules.len()
            ),
        ));
        return;
    }
    let mut go_packages_seen = BTreeSet::new();
    for module in modules {
        if layout::has_inline_tests(module.lang, module.text) {
            continue;
        }
        let lib_with_integration_tests = module.lang == Lang::Rust
            && matches!(layout::file_name(module.path), "lib.rs" | "main.rs")
            && tests.iter().any(|t| t.lang == Lang::Rust);
        let tested = lib_with_integration_tests
            || tests.iter().any(|t| {
                t.lang == module.lang
                    && layout::tests_module(module.lang, module.path, t.path, t.text)
            });
        if tested {
            continue;
        }
        let what = if module.lang == Lang::Go {
            let package = layout::dir(module.path);
            if !go_packages_seen.insert(package) {
                continue;
            }
            let shown = if package.is_empty() { "." } else { package };
            format!(
                "Go package `{shown}` has no `_test.go` file: add table-driven tests for its \
                 exported functions"
            )
        } else {
            format!(
                "`{}` has no test: no test file is named after it or imports it; add one that \
                 exercises its public functions",
                module.path
            )
        };
        out.push(finding(
            MISSING_TESTS,
            Severity::Low,
            module.path,
            None,
            what,
        ));
    }
}

fn duplicate_blocks(sources: &[SourceFile<'_>], settings: &Settings, out: &mut Vec<Finding>) {
    let compared: Vec<duplicates::Source<'_>> = sources
        .iter()
        .filter(|s| !s.test)
        .map(|s| duplicates::Source {
            path: s.path,
            lang: s.lang,
            text: s.text,
        })
        .collect();
    for dup in duplicates::find(&compared, settings.duplicate_min_lines as usize) {
        out.push(finding(
            DUPLICATE_BLOCK,
            Severity::Low,
            &dup.path,
            Some(dup.lines.0),
            format!(
                "lines {}–{} repeat {} lines of `{}` (lines {}–{}): a fix made in one copy will \
                 be missed in the other; extract the block into a shared function",
                dup.lines.0,
                dup.lines.1,
                dup.length,
                dup.first_path,
                dup.first_lines.0,
                dup.first_lines.1
            ),
        ));
    }
}

/// The score a finding of each severity costs; no quality rule is
/// critical, and a critical finding would cost what a high one does.
pub const PENALTIES: Penalties = Penalties {
    critical: PENALTY_HIGH,
    high: PENALTY_HIGH,
    medium: PENALTY_MEDIUM,
    low: PENALTY_LOW,
    info: 0,
};

/// 100 minus the penalties of all findings, floored at 0.
pub fn score(findings: &[Finding]) -> u8 {
    report::score(findings, &PENALTIES)
}

/// `no quality findings`, or the count by severity.
pub fn summary(findings: &[Finding]) -> String {
    report::counts(findings, "no quality findings")
}

#[cfg(test)]
mod tests;
