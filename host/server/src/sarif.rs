//! A capsule's validation reports as a SARIF 2.1.0 log
//! (`GET /v1/capsules/{id}/sarif`), the format code scanning services and
//! editors read.
//!
//! - One run per validator, its tool named and versioned as in the
//!   capsule's manifest; one rule per rule id it reported, at the highest
//!   severity it reported it, tagged with the CWE ids its findings' tags
//!   (`cwe:CWE-89`) and messages name (`external/cwe/cwe-89`) and carrying
//!   a `security-severity` score.
//! - Levels: critical and high are `error`, medium `warning`, low and info
//!   `note`; each result keeps QLP's severity in its properties.
//! - Locations are the capsule's relative paths, with the finding's region
//!   (start and end line and column, as a 0.2 validator reports them; the
//!   line alone from 0.1) and its snippet, or the start line's text.
//! - `partialFingerprints["qlpFindingHash/v1"]` hashes the rule id, the
//!   path, the finding's line text with its whitespace collapsed, and how
//!   many identical (rule, path, text) findings come before it in the
//!   file. It does not depend on line numbers, so a finding keeps its
//!   fingerprint when unrelated lines are added or removed around it, and
//!   consumers deduplicate it across capsules. A finding without a line
//!   hashes its rule, path and message.
//!
//! - A finding's fix is the result's `fixes`: one artifact change per file,
//!   each replacement a deleted region and the inserted text. Its tags are
//!   the result's `properties.tags`.
//!
//! Findings have no suppression field, so the log has no `suppressions`;
//! what a validator suppressed is in its summary, kept as the run's
//! `properties.summary`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Value, json};

use crate::capsule::Manifest;
use crate::store::CapsuleRecord;
use qlp_contract::model::{Finding, Fix, Region, Severity, Validation};

/// The media type of a SARIF log.
pub const MEDIA_TYPE: &str = "application/sarif+json";

/// The schema a log names.
pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The key of the fingerprint in `partialFingerprints`.
pub const FINGERPRINT: &str = "qlpFindingHash/v1";

/// The capsule's validations, or an error when its stored reports cannot
/// be read.
pub fn validations(capsule: &CapsuleRecord) -> serde_json::Result<Vec<Validation>> {
    serde_json::from_value(capsule.validations.clone())
}

/// The paths whose text the log quotes: every path a finding names.
pub fn paths(validations: &[Validation]) -> BTreeSet<String> {
    validations
        .iter()
        .flat_map(|v| &v.report.findings)
        .filter_map(|f| f.path.clone())
        .collect()
}

/// The SARIF log of `validations`, quoting lines of `texts` (a file's text
/// by path; a missing or binary file is quoted as nothing).
pub fn log(
    validations: &[Validation],
    manifest: Option<&Manifest>,
    texts: &HashMap<String, String>,
) -> Value {
    let version = |name: &str| {
        manifest
            .and_then(|m| m.plugins.iter().find(|p| p.name == name))
            .map(|p| p.version.clone())
    };
    let runs: Vec<Value> = validations
        .iter()
        .map(|v| run(v, version(&v.validator), texts))
        .collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": runs,
    })
}

fn run(v: &Validation, version: Option<String>, texts: &HashMap<String, String>) -> Value {
    // One rule per rule id, at the highest severity reported, with every
    // CWE id its messages name.
    let mut rules: BTreeMap<&str, (Severity, BTreeSet<String>)> = BTreeMap::new();
    for f in &v.report.findings {
        let rule = rules
            .entry(f.rule_id.as_str())
            .or_insert((f.severity, BTreeSet::new()));
        rule.0 = rule.0.max(f.severity);
        rule.1.extend(cwe_ids(&f.message));
        rule.1.extend(f.tags.iter().flat_map(|t| cwe_ids(t)));
    }
    let index: HashMap<&str, usize> = rules.keys().enumerate().map(|(i, r)| (*r, i)).collect();
    let mut seen: HashMap<(String, String, String), usize> = HashMap::new();
    let results: Vec<Value> = v
        .report
        .findings
        .iter()
        .map(|f| {
            let line_text = line_of(f, texts);
            let fingerprint = fingerprint(f, line_text, &mut seen);
            let mut result = json!({
                "ruleId": f.rule_id,
                "ruleIndex": index[f.rule_id.as_str()],
                "level": level(f.severity),
                "message": { "text": f.message },
                "partialFingerprints": { FINGERPRINT: fingerprint },
                "properties": { "severity": severity_name(f.severity) },
            });
            if let Some(path) = &f.path {
                let mut location = json!({ "artifactLocation": { "uri": uri(path) } });
                let region = f.region.or(f.line.map(|start_line| Region {
                    start_line,
                    start_column: None,
                    end_line: None,
                    end_column: None,
                }));
                if let Some(region) = region.filter(|r| r.start_line > 0) {
                    let mut region = region_json(&region);
                    if let Some(text) = f.snippet.as_deref().or(line_text) {
                        region["snippet"] = json!({ "text": text });
                    }
                    location["region"] = region;
                }
                result["locations"] = json!([{ "physicalLocation": location }]);
            }
            if let Some(fix) = &f.fix {
                result["fixes"] = json!([fix_json(fix)]);
            }
            if !f.tags.is_empty() {
                result["properties"]["tags"] = json!(f.tags);
            }
            result
        })
        .collect();
    let rules: Vec<Value> = rules
        .iter()
        .map(|(id, (severity, cwes))| {
            let mut tags: Vec<String> = vec![];
            if !cwes.is_empty() {
                tags.push("security".into());
            }
            tags.extend(
                cwes.iter()
                    .map(|c| format!("external/cwe/{}", c.to_lowercase())),
            );
            json!({
                "id": id,
                "name": id,
                "shortDescription": { "text": id },
                "defaultConfiguration": { "level": level(*severity) },
                "properties": {
                    "tags": tags,
                    "security-severity": security_severity(*severity),
                },
            })
        })
        .collect();
    let mut driver = json!({
        "name": v.validator,
        "rules": rules,
    });
    if let Some(version) = version {
        driver["version"] = json!(version);
    }
    json!({
        "tool": { "driver": driver },
        "results": results,
        "columnKind": "unicodeCodePoints",
        "properties": {
            "score": v.report.score,
            "summary": v.report.summary,
        },
    })
}

/// A relative path as a URI reference: each segment percent-encoded where
/// it must be.
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The text of the finding's line, without its line ending.
fn line_of<'t>(f: &Finding, texts: &'t HashMap<String, String>) -> Option<&'t str> {
    let line = f.line.filter(|&l| l > 0)? as usize;
    let text = texts.get(f.path.as_deref()?)?;
    text.lines().nth(line - 1).map(|l| l.trim_end_matches('\r'))
}

fn fingerprint(
    f: &Finding,
    line_text: Option<&str>,
    seen: &mut HashMap<(String, String, String), usize>,
) -> String {
    let path = f.path.clone().unwrap_or_default();
    let text = match line_text {
        Some(text) => text.split_whitespace().collect::<Vec<_>>().join(" "),
        None => format!("message:{}", f.message),
    };
    let n = seen
        .entry((f.rule_id.clone(), path.clone(), text.clone()))
        .or_insert(0);
    let occurrence = *n;
    *n += 1;
    let mut hasher = blake3::Hasher::new_derive_key("qlp sarif finding fingerprint v1");
    for part in [f.rule_id.as_str(), &path, &text, &occurrence.to_string()] {
        hasher.update(&(part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    hasher.finalize().to_hex()[..32].to_owned()
}

/// The CWE ids a message names, as `CWE-<n>`.
/// A region as SARIF writes it: only the bounds that are known.
fn region_json(r: &Region) -> Value {
    let mut region = json!({ "startLine": r.start_line });
    let bounds = [
        ("startColumn", r.start_column),
        ("endLine", r.end_line),
        ("endColumn", r.end_column),
    ];
    for (name, value) in bounds {
        if let Some(value) = value.filter(|&v| v > 0) {
            region[name] = json!(value);
        }
    }
    region
}

/// A fix as SARIF writes it: its replacements grouped by file, in the
/// order the validator gave them.
fn fix_json(fix: &Fix) -> Value {
    let mut changes: Vec<(&str, Vec<Value>)> = vec![];
    for r in &fix.replacements {
        let replacement = json!({
            "deletedRegion": region_json(&r.region),
            "insertedContent": { "text": r.text },
        });
        match changes.iter_mut().find(|(path, _)| *path == r.path) {
            Some((_, list)) => list.push(replacement),
            None => changes.push((&r.path, vec![replacement])),
        }
    }
    let changes: Vec<Value> = changes
        .into_iter()
        .map(|(path, replacements)| {
            json!({
                "artifactLocation": { "uri": uri(path) },
                "replacements": replacements,
            })
        })
        .collect();
    json!({
        "description": { "text": fix.description },
        "artifactChanges": changes,
    })
}

fn cwe_ids(message: &str) -> Vec<String> {
    let mut found = vec![];
    let mut rest = message;
    while let Some(at) = rest.find("CWE-") {
        let digits: String = rest[at + 4..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if !digits.is_empty() {
            found.push(format!("CWE-{digits}"));
        }
        rest = &rest[at + 4..];
    }
    found
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// The score code scanning services rank security results by (0.0–10.0).
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::High => "high",
        Severity::Medium => "medium",
        Severity::Low => "low",
        Severity::Info => "info",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qlp_contract::model::Report;

    fn finding(rule: &str, severity: Severity, path: &str, line: u32, message: &str) -> Finding {
        Finding {
            path: Some(path.into()),
            line: Some(line),
            ..Finding::new(rule, severity, message)
        }
    }

    fn validation(findings: Vec<Finding>) -> Validation {
        Validation {
            validator: "qlp/security".into(),
            report: Report {
                findings,
                score: 60,
                summary: "2 findings; 1 suppressed (security/debug-mode)".into(),
            },
        }
    }

    fn fingerprints(log: &Value) -> Vec<String> {
        log["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r["partialFingerprints"][FINGERPRINT]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    }

    #[test]
    fn results_carry_rule_level_location_snippet_and_cwe_tags() {
        let texts = HashMap::from([(
            "app/db.py".to_owned(),
            "import os\nq = f\"SELECT * FROM t WHERE id={id}\"\r\n".to_owned(),
        )]);
        let v = validation(vec![
            finding(
                "security/sql-injection",
                Severity::High,
                "app/db.py",
                2,
                "SQL built from input (CWE-89)",
            ),
            finding(
                "security/sql-injection",
                Severity::Critical,
                "app/db.py",
                2,
                "again (CWE-89)",
            ),
            finding("security/debug", Severity::Low, "app/db.py", 1, "debug on"),
        ]);
        let log = log(&[v], None, &texts);
        assert_eq!(log["version"], "2.1.0");
        let run = &log["runs"][0];
        assert_eq!(run["tool"]["driver"]["name"], "qlp/security");
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[1]["id"], "security/sql-injection");
        assert_eq!(rules[1]["defaultConfiguration"]["level"], "error");
        assert_eq!(rules[1]["properties"]["security-severity"], "9.5");
        assert_eq!(
            rules[1]["properties"]["tags"],
            json!(["security", "external/cwe/cwe-89"])
        );
        assert_eq!(rules[0]["properties"]["tags"], json!([]));
        let r = &run["results"][0];
        assert_eq!(r["ruleIndex"], 1);
        assert_eq!(r["level"], "error");
        let region = &r["locations"][0]["physicalLocation"]["region"];
        assert_eq!(region["startLine"], 2);
        assert_eq!(
            region["snippet"]["text"],
            "q = f\"SELECT * FROM t WHERE id={id}\""
        );
        assert_eq!(run["results"][2]["level"], "note");
        assert_eq!(
            run["properties"]["summary"],
            "2 findings; 1 suppressed (security/debug-mode)"
        );
    }

    #[test]
    fn fingerprints_survive_unrelated_edits_and_tell_repeats_apart() {
        let before =
            HashMap::from([("a.py".to_owned(), "eval(x)\nprint(1)\neval(x)\n".to_owned())]);
        let after = HashMap::from([(
            "a.py".to_owned(),
            "# new header\n\nimport sys\n    eval(x)\nprint(1)\neval(x)\n".to_owned(),
        )]);
        let at = |lines: [u32; 2]| {
            validation(
                lines
                    .iter()
                    .map(|&l| finding("security/eval", Severity::High, "a.py", l, "eval (CWE-95)"))
                    .collect(),
            )
        };
        let first = fingerprints(&log(&[at([1, 3])], None, &before));
        let second = fingerprints(&log(&[at([4, 6])], None, &after));
        assert_eq!(first, second, "moved lines keep their fingerprints");
        assert_ne!(
            first[0], first[1],
            "two identical findings in one file differ"
        );
        // The same line under another rule or in another file differs.
        let other_rule = fingerprints(&log(
            &[validation(vec![finding(
                "security/exec",
                Severity::High,
                "a.py",
                1,
                "m",
            )])],
            None,
            &before,
        ));
        assert_ne!(other_rule[0], first[0]);
        // A changed line is a new finding.
        let changed = HashMap::from([("a.py".to_owned(), "eval(y)\n".to_owned())]);
        let third = fingerprints(&log(
            &[validation(vec![finding(
                "security/eval",
                Severity::High,
                "a.py",
                1,
                "m",
            )])],
            None,
            &changed,
        ));
        assert_ne!(third[0], first[0]);
    }

    #[test]
    fn a_finding_without_a_line_has_no_region_and_paths_are_uri_encoded() {
        let v = validation(vec![Finding {
            path: Some("my app/ü.py".into()),
            ..Finding::new("quality/missing-tests", Severity::Medium, "no tests")
        }]);
        let log = log(&[v], None, &HashMap::new());
        let location = &log["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
        assert_eq!(location["artifactLocation"]["uri"], "my%20app/%C3%BC.py");
        assert!(location.get("region").is_none());
    }

    #[test]
    fn cwe_ids_are_read_from_messages() {
        assert_eq!(
            cwe_ids("x (CWE-79, CWE-80) CWE- CWE-x"),
            ["CWE-79", "CWE-80"]
        );
    }

    #[test]
    fn a_rich_finding_keeps_its_region_snippet_fix_and_tags() {
        let region = Region {
            start_line: 4,
            start_column: Some(9),
            end_line: Some(4),
            end_column: Some(29),
        };
        let rich = Finding {
            path: Some("app/db.py".into()),
            line: Some(4),
            region: Some(region),
            snippet: Some("query = \"SELECT \" + name".into()),
            fix: Some(Fix {
                description: "bind the value".into(),
                replacements: vec![
                    qlp_contract::model::Replacement {
                        path: "app/db.py".into(),
                        region,
                        text: "\"SELECT ?\", (name,)".into(),
                    },
                    qlp_contract::model::Replacement {
                        path: "app/db.py".into(),
                        region: Region {
                            start_line: 1,
                            start_column: Some(1),
                            end_line: None,
                            end_column: Some(1),
                        },
                        text: "import sqlite3\n".into(),
                    },
                ],
            }),
            tags: vec!["cwe:CWE-89".into(), "owasp:A03:2021".into()],
            ..Finding::new(
                "sql/concatenation",
                Severity::High,
                "SQL built by concatenation",
            )
        };
        let texts = HashMap::from([("app/db.py".to_owned(), "a\nb\nc\nline four\n".to_owned())]);
        let log = log(&[validation(vec![rich])], None, &texts);
        let result = &log["runs"][0]["results"][0];
        let got = &result["locations"][0]["physicalLocation"]["region"];
        assert_eq!(got["startLine"], 4);
        assert_eq!(got["startColumn"], 9);
        assert_eq!(got["endLine"], 4);
        assert_eq!(got["endColumn"], 29);
        // The validator's snippet, not the line's text.
        assert_eq!(got["snippet"]["text"], "query = \"SELECT \" + name");
        let fix = &result["fixes"][0];
        assert_eq!(fix["description"]["text"], "bind the value");
        let changes = fix["artifactChanges"].as_array().unwrap();
        assert_eq!(changes.len(), 1, "one change per file");
        assert_eq!(changes[0]["artifactLocation"]["uri"], "app/db.py");
        let replacements = changes[0]["replacements"].as_array().unwrap();
        assert_eq!(replacements[0]["deletedRegion"]["startColumn"], 9);
        assert_eq!(
            replacements[0]["insertedContent"]["text"],
            "\"SELECT ?\", (name,)"
        );
        assert!(replacements[1]["deletedRegion"].get("endLine").is_none());
        assert_eq!(result["properties"]["tags"][1], "owasp:A03:2021");
        let rule_tags = &log["runs"][0]["tool"]["driver"]["rules"][0]["properties"]["tags"];
        assert!(
            rule_tags
                .as_array()
                .unwrap()
                .contains(&json!("external/cwe/cwe-89")),
            "{rule_tags}"
        );
    }
}
