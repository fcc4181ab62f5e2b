//! Rule tests, as `semgrep --test` runs them: every `*.yaml`/`*.yml` pack
//! under a directory is checked against the example files beside it with
//! the same stem and another extension (`no-print.yaml` with
//! `no-print.py` and `no-print.ts`). In an example file a comment line
//!
//! - `ruleid: <id>` says the next line that is not a comment must be
//!   matched by that rule;
//! - `ok: <id>` says it must not be;
//!
//! and a match on a line with no annotation for its rule is a failure
//! too. Several ids may be given, separated by commas. `paths:` filters
//! are not applied to examples. A pack that does not parse fails, naming
//! the rule and the reason; a rule that no `ruleid:` annotation tests
//! fails as untested.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use crate::Pack;

/// Deepest directory level searched for packs.
pub const MAX_DEPTH: usize = 16;

/// Beginnings of a comment-only line.
const COMMENT_STARTS: [&str; 5] = ["#", "//", "/*", "--", "<!--"];

/// What one annotation expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    Match,
    NoMatch,
}

/// One expectation that did not hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The example file (or the pack, for a pack-level failure).
    pub file: PathBuf,
    /// 1-based line; 0 when about the whole rule.
    pub line: u32,
    pub expected: String,
}

/// The outcome of one rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleResult {
    pub id: String,
    /// Annotated lines checked.
    pub checked: usize,
    pub failures: Vec<Failure>,
}

impl RuleResult {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// The outcome of one pack file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackResult {
    pub path: PathBuf,
    /// Why the pack could not be read, naming the rule.
    pub error: Option<String>,
    pub examples: Vec<PathBuf>,
    pub rules: Vec<RuleResult>,
}

impl PackResult {
    pub fn passed(&self) -> bool {
        self.error.is_none() && self.rules.iter().all(RuleResult::passed)
    }
}

/// Everything [`run`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TestReport {
    pub packs: Vec<PackResult>,
    /// Directories that could not be read.
    pub errors: Vec<String>,
}

impl TestReport {
    /// Whether at least one pack was found and every rule of every pack
    /// passed.
    pub fn passed(&self) -> bool {
        !self.packs.is_empty()
            && self.errors.is_empty()
            && self.packs.iter().all(PackResult::passed)
    }
}

impl fmt::Display for TestReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.errors {
            writeln!(f, "error: {e}")?;
        }
        if self.packs.is_empty() {
            return writeln!(f, "no rule pack (*.yaml, *.yml) found");
        }
        let (mut passed, mut failed) = (0usize, 0usize);
        for pack in &self.packs {
            writeln!(f, "{}", pack.path.display())?;
            if let Some(error) = &pack.error {
                failed += 1;
                writeln!(f, "  FAIL {error}")?;
                continue;
            }
            for rule in &pack.rules {
                if rule.passed() {
                    passed += 1;
                    writeln!(f, "  ok   {} ({} lines checked)", rule.id, rule.checked)?;
                } else {
                    failed += 1;
                    writeln!(f, "  FAIL {}", rule.id)?;
                    for fail in &rule.failures {
                        if fail.line == 0 {
                            writeln!(f, "       {}: {}", fail.file.display(), fail.expected)?;
                        } else {
                            writeln!(
                                f,
                                "       {}:{}: {}",
                                fail.file.display(),
                                fail.line,
                                fail.expected
                            )?;
                        }
                    }
                }
            }
        }
        writeln!(f, "rules: {passed} passed, {failed} failed")
    }
}

/// Finds every pack under `dir` and tests it against its examples.
pub fn run(dir: &Path) -> TestReport {
    let mut report = TestReport::default();
    let mut files = Vec::new();
    walk(dir, 0, &mut files, &mut report.errors);
    files.sort();
    for pack in files.iter().filter(|p| is_pack(p)) {
        let examples: Vec<PathBuf> = files
            .iter()
            .filter(|f| {
                !is_pack(f) && f.parent() == pack.parent() && f.file_stem() == pack.file_stem()
            })
            .cloned()
            .collect();
        report.packs.push(test_pack(pack, examples));
    }
    report
}

fn is_pack(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}

fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>, errors: &mut Vec<String>) {
    if depth > MAX_DEPTH {
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            errors.push(format!("{}: {e}", dir.display()));
            return;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(t) if t.is_dir() => walk(&path, depth + 1, out, errors),
            Ok(t) if t.is_file() => out.push(path),
            _ => {}
        }
    }
}

fn test_pack(path: &Path, examples: Vec<PathBuf>) -> PackResult {
    let mut result = PackResult {
        path: path.to_path_buf(),
        error: None,
        examples: examples.clone(),
        rules: Vec::new(),
    };
    let pack = match std::fs::read_to_string(path)
        .map_err(|e| e.to_string())
        .and_then(|text| Pack::parse(&text).map_err(|e| e.to_string()))
    {
        Ok(pack) => pack,
        Err(e) => {
            result.error = Some(e);
            return result;
        }
    };
    let mut rules: BTreeMap<&str, RuleResult> = pack
        .rules()
        .iter()
        .map(|r| {
            (
                r.id.as_str(),
                RuleResult {
                    id: r.id.clone(),
                    checked: 0,
                    failures: Vec::new(),
                },
            )
        })
        .collect();
    // Rules with at least one `ruleid:` annotation.
    let mut tested: BTreeSet<String> = BTreeSet::new();
    for example in &examples {
        let text = match std::fs::read(example) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) => {
                for r in rules.values_mut() {
                    r.failures.push(Failure {
                        file: example.clone(),
                        line: 0,
                        expected: format!("readable example file: {e}"),
                    });
                }
                continue;
            }
        };
        let annotations = annotations(&text);
        let name = example.to_string_lossy();
        let matches = pack.check_with(&name, &text, false);
        for (&(line, ref id), &expect) in &annotations {
            let Some(result) = rules.get_mut(id.as_str()) else {
                // An annotation for a rule of another pack: reported on
                // every rule would be noise; name it once on the first.
                if let Some(first) = rules.values_mut().next() {
                    first.failures.push(Failure {
                        file: example.clone(),
                        line,
                        expected: format!("annotation names `{id}`, which is not in this pack"),
                    });
                }
                continue;
            };
            result.checked += 1;
            let matched = matches.iter().any(|m| m.line == line && m.rule_id == *id);
            match (expect, matched) {
                (Expect::Match, true) => {}
                (Expect::Match, false) => result.failures.push(Failure {
                    file: example.clone(),
                    line,
                    expected: format!("expected `{id}` to match this line; it did not"),
                }),
                (Expect::NoMatch, false) => {}
                (Expect::NoMatch, true) => result.failures.push(Failure {
                    file: example.clone(),
                    line,
                    expected: format!("expected `{id}` not to match this line (ok:); it did"),
                }),
            }
            if expect == Expect::Match {
                tested.insert(id.clone());
            }
        }
        for m in &matches {
            if annotations.contains_key(&(m.line, m.rule_id.clone())) {
                continue;
            }
            if let Some(result) = rules.get_mut(m.rule_id.as_str()) {
                result.failures.push(Failure {
                    file: example.clone(),
                    line: m.line,
                    expected: format!(
                        "unexpected match of `{}` on a line without a `ruleid:` annotation: {}",
                        m.rule_id,
                        m.snippet.lines().next().unwrap_or("")
                    ),
                });
            }
        }
    }
    for (id, result) in rules.iter_mut() {
        if !tested.contains(*id) {
            let file = if examples.is_empty() {
                path.to_path_buf()
            } else {
                examples[0].clone()
            };
            result.failures.push(Failure {
                file,
                line: 0,
                expected: if examples.is_empty() {
                    "an example file beside the pack with the same stem".into()
                } else {
                    format!("at least one `ruleid: {id}` annotation; the rule is untested")
                },
            });
        }
    }
    result.rules = pack
        .rules()
        .iter()
        .filter_map(|r| rules.remove(r.id.as_str()))
        .collect();
    result
}

/// The annotations of an example file: (target line, rule id) → what is
/// expected there.
fn annotations(text: &str) -> BTreeMap<(u32, String), Expect> {
    let mut out = BTreeMap::new();
    let mut pending: Vec<(String, Expect)> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let trimmed = line.trim_start();
        let comment = COMMENT_STARTS.iter().find(|s| trimmed.starts_with(**s));
        if let Some(start) = comment {
            let body = trimmed[start.len()..].trim_start();
            let body = body
                .trim_end()
                .trim_end_matches("*/")
                .trim_end_matches("-->")
                .trim_end();
            for (prefix, expect) in [("ruleid:", Expect::Match), ("ok:", Expect::NoMatch)] {
                if let Some(ids) = body.strip_prefix(prefix) {
                    for id in ids.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                        pending.push((id.to_string(), expect));
                    }
                }
            }
            continue;
        }
        if trimmed.is_empty() {
            continue;
        }
        for (id, expect) in pending.drain(..) {
            out.insert((number, id), expect);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_point_at_the_next_code_line() {
        let text = "# ruleid: a, b\n\n# a comment\nx = 1\n// ok: c\ny()\n/* ruleid: d */\nz\n";
        let got: Vec<((u32, String), Expect)> = annotations(text).into_iter().collect();
        assert_eq!(
            got,
            [
                ((4, "a".into()), Expect::Match),
                ((4, "b".into()), Expect::Match),
                ((6, "c".into()), Expect::NoMatch),
                ((8, "d".into()), Expect::Match),
            ]
        );
    }

    fn write(dir: &Path, name: &str, text: &str) {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    const PACK: &str = "rules:
  - id: t/eval
    message: no eval
    severity: high
    languages: [python]
    pattern: eval(...)
  - id: t/loose
    message: any call named exec
    severity: low
    languages: [python]
    pattern-regex: exec
";

    #[test]
    fn a_missed_line_and_an_over_match_fail_with_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "nested/calls.yaml", PACK);
        write(
            dir.path(),
            "nested/calls.py",
            "# ruleid: t/eval\neval(x)\n# ruleid: t/eval\nevaluate(x)\n# ruleid: t/loose\nexec(y)\n# ok: t/loose\nexecutor = 1\nprint('exec')\n",
        );
        let report = run(dir.path());
        assert!(!report.passed());
        let pack = &report.packs[0];
        assert_eq!(pack.examples, [dir.path().join("nested/calls.py")]);
        let eval = &pack.rules[0];
        assert_eq!((eval.id.as_str(), eval.checked), ("t/eval", 2));
        assert_eq!(eval.failures.len(), 1);
        assert_eq!(eval.failures[0].line, 4);
        assert!(
            eval.failures[0]
                .expected
                .contains("expected `t/eval` to match")
        );
        let loose = &pack.rules[1];
        let lines: Vec<u32> = loose.failures.iter().map(|f| f.line).collect();
        assert_eq!(lines, [8, 9], "{:#?}", loose.failures);
        assert!(loose.failures[0].expected.contains("not to match"));
        assert!(loose.failures[1].expected.contains("unexpected match"));
        let text = report.to_string();
        assert!(text.contains("FAIL t/eval"), "{text}");
        assert!(
            text.contains("calls.py:4: expected `t/eval` to match this line"),
            "{text}"
        );
        assert!(
            text.contains("calls.py:9: unexpected match of `t/loose`"),
            "{text}"
        );
        assert!(text.ends_with("rules: 0 passed, 2 failed\n"), "{text}");
    }

    #[test]
    fn a_passing_pack_passes() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "calls.yml", PACK);
        write(
            dir.path(),
            "calls.py",
            "# ruleid: t/eval\neval(x)\n# ruleid: t/loose\nexec(y)\n# ok: t/eval\nevaluate(x)\n",
        );
        let report = run(dir.path());
        assert!(report.passed(), "{report}");
        assert!(report.to_string().ends_with("rules: 2 passed, 0 failed\n"));
    }

    #[test]
    fn broken_packs_untested_rules_and_empty_directories_fail() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "bad.yaml",
            "rules:\n  - id: t/bad\n    message: m\n    severity: severe\n    languages: [go]\n    pattern: x\n",
        );
        write(dir.path(), "lonely.yaml", PACK);
        write(dir.path(), "untested.yaml", PACK);
        write(dir.path(), "untested.py", "# ruleid: t/eval\neval(1)\n");
        let report = run(dir.path());
        assert!(!report.passed());
        let bad = &report.packs[0];
        assert_eq!(
            bad.error.as_deref(),
            Some(
                "rule `t/bad`: unknown severity `severe` (info, low, medium, high, critical; or INFO, WARNING, ERROR)"
            )
        );
        assert!(
            report
                .to_string()
                .contains("FAIL rule `t/bad`: unknown severity")
        );
        let lonely = &report.packs[1];
        assert!(
            lonely
                .rules
                .iter()
                .all(|r| r.failures[0].expected.contains("example file"))
        );
        let untested = &report.packs[2];
        assert!(untested.rules[0].passed());
        assert!(
            untested.rules[1].failures[0]
                .expected
                .contains("`ruleid: t/loose`")
        );

        let empty = tempfile::tempdir().unwrap();
        let report = run(empty.path());
        assert!(!report.passed());
        assert_eq!(report.to_string(), "no rule pack (*.yaml, *.yml) found\n");
        let missing = run(&empty.path().join("nope"));
        assert!(!missing.passed());
        assert!(missing.to_string().starts_with("error: "));
    }
}
