//! Inline suppressions for validators: a comment
//! `qlp-ignore: <rule-id> <reason>` on the line of a finding, or alone on
//! the comment line right above it, suppresses findings of that rule there.
//! The rule id may be written in full (`security/sql-injection`) or without
//! the validator's namespace (`sql-injection`); several ids are separated
//! by commas. A marker without a reason suppresses nothing: a suppression
//! has to say why. Findings about a whole file (no line) are suppressed by
//! a marker anywhere in that file ([`is_suppressed_in_file`]).
//!
//! A project can also keep its accepted findings in a baseline file,
//! [`BASELINE_FILE`] (`.qlp-ignore`) at its root, one per line, so code it
//! did not write (or may not annotate) is checked without noise:
//!
//! ```text
//! # path[:line]        rule                     reason
//! app/db.py:12         security/sql-injection   the id is an enum the router checks
//! legacy/              quality/*                imported as is, rewrite tracked in ACME-42
//! vendor/lib.js        secrets/generic-api-key  a public test key
//! ```
//!
//! The path is a capsule path, or a directory ending in `/` covering every
//! file under it; `:line` narrows it to one line. The rule is written as
//! for markers, or `namespace/*` for every rule of a validator. The reason
//! is required: an entry without one covers nothing ([`Baseline`]).
//!
//! Validators count what they suppressed, per rule, in their summary, so a
//! report always says what was hidden and by which rule.

use crate::File;

/// The baseline file's path in a capsule.
pub const BASELINE_FILE: &str = ".qlp-ignore";

/// The most baseline entries read.
pub const MAX_BASELINE_ENTRIES: usize = 10_000;

/// The accepted findings of a project's [`BASELINE_FILE`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Baseline {
    entries: Vec<BaselineEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct BaselineEntry {
    path: String,
    line: Option<u32>,
    rule: String,
}

impl Baseline {
    /// The baseline of a capsule: its [`BASELINE_FILE`], if any.
    pub fn from_files(files: &[File]) -> Self {
        files
            .iter()
            .find(|f| f.path == BASELINE_FILE)
            .and_then(File::as_text)
            .map(Self::parse)
            .unwrap_or_default()
    }

    /// Reads a baseline's text; lines that are blank, comments (`#`) or
    /// lack a reason are skipped.
    pub fn parse(text: &str) -> Self {
        let entries = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter_map(|l| {
                let mut words = l.split_whitespace();
                let (place, rule) = (words.next()?, words.next()?);
                words.next()?;
                let (path, line) = match place.rsplit_once(':') {
                    Some((path, line)) if line.bytes().all(|b| b.is_ascii_digit()) => {
                        (path, Some(line.parse().ok()?))
                    }
                    _ => (place, None),
                };
                Some(BaselineEntry {
                    path: path.trim_start_matches("./").to_owned(),
                    line,
                    rule: rule.to_owned(),
                })
            })
            .take(MAX_BASELINE_ENTRIES)
            .collect();
        Self { entries }
    }

    /// How many entries it holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether a finding of `rule_id` (of the validator whose rules start
    /// with `namespace/`) in `path`, at `line` when it has one, is
    /// accepted.
    pub fn covers(&self, path: &str, line: Option<u32>, rule_id: &str, namespace: &str) -> bool {
        self.entries.iter().any(|e| {
            let path_fits = match e.path.strip_suffix('/') {
                Some(dir) => path
                    .strip_prefix(dir)
                    .is_some_and(|rest| rest.starts_with('/')),
                None => e.path == path,
            };
            let line_fits = e.line.is_none() || e.line == line;
            let short = rule_id
                .strip_prefix(namespace)
                .and_then(|r| r.strip_prefix('/'));
            let rule_fits = e.rule == rule_id
                || short == Some(e.rule.as_str())
                || e.rule
                    .strip_suffix("/*")
                    .is_some_and(|ns| rule_id.strip_prefix(ns).is_some_and(|r| r.starts_with('/')));
            path_fits && line_fits && rule_fits
        })
    }
}

/// The marker that opens a suppression.
pub const MARKER: &str = "qlp-ignore:";

/// What closes a comment and is not part of a reason.
const COMMENT_CLOSERS: [&str; 3] = ["*/", "-->", "#}"];

/// Beginnings of a line that holds only a comment, in the languages and
/// configuration formats QLP generates.
const COMMENT_STARTS: [&str; 6] = ["#", "//", "/*", "*", "--", "<!--"];

/// The rule ids a line's marker names, if it has a marker with a reason.
pub fn marker_rules(line: &str) -> Option<Vec<&str>> {
    let at = line.find(MARKER)?;
    let mut rest = &line[at + MARKER.len()..];
    for closer in COMMENT_CLOSERS {
        if let Some(end) = rest.find(closer) {
            rest = &rest[..end];
        }
    }
    let mut words = rest.split_whitespace();
    let ids = words.next()?;
    words.next()?;
    Some(ids.split(',').filter(|id| !id.is_empty()).collect())
}

/// Whether a line's marker names `rule_id` (in full, or without the
/// `namespace/` prefix).
fn names(marker_line: &str, rule_id: &str, namespace: &str) -> bool {
    marker_rules(marker_line).is_some_and(|ids| {
        ids.iter().any(|id| {
            *id == rule_id
                || rule_id
                    .strip_prefix(namespace)
                    .and_then(|r| r.strip_prefix('/'))
                    == Some(id)
        })
    })
}

/// Whether a finding of `rule_id` on 1-based `line` of a file split into
/// `lines` is suppressed; `namespace` is the validator's rule prefix
/// (`security`).
pub fn is_suppressed(lines: &[&str], line: u32, rule_id: &str, namespace: &str) -> bool {
    let index = line as usize;
    let this = index.checked_sub(1).and_then(|i| lines.get(i));
    let above = index.checked_sub(2).and_then(|i| lines.get(i));
    this.is_some_and(|l| names(l, rule_id, namespace))
        || above.is_some_and(|l| {
            let trimmed = l.trim_start();
            COMMENT_STARTS.iter().any(|s| trimmed.starts_with(s)) && names(l, rule_id, namespace)
        })
}

/// Whether a finding of `rule_id` about a whole file is suppressed: a
/// marker naming it anywhere in the file.
pub fn is_suppressed_in_file(lines: &[&str], rule_id: &str, namespace: &str) -> bool {
    lines.iter().any(|l| names(l, rule_id, namespace))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_baseline_accepts_by_path_line_rule_and_directory_and_needs_reasons() {
        let baseline = Baseline::parse(
            "# accepted findings\n\
             app/db.py:12  security/sql-injection  the id is an enum\n\
             legacy/       quality/*               imported as is\n\
             ./vendor/x.js generic-api-key         a public test key\n\
             app/no.py     security/weak-hash\n\
             \n",
        );
        assert_eq!(baseline.len(), 3, "the entry without a reason is skipped");
        let covers = |path, line, rule: &str| {
            let ns = rule.split('/').next().unwrap();
            baseline.covers(path, line, rule, ns)
        };
        assert!(covers("app/db.py", Some(12), "security/sql-injection"));
        assert!(!covers("app/db.py", Some(13), "security/sql-injection"));
        assert!(!covers("app/db.py", Some(12), "security/command-injection"));
        assert!(!covers("app/db.pyc", Some(12), "security/sql-injection"));
        assert!(covers("legacy/a/b.py", Some(1), "quality/long-function"));
        assert!(covers("legacy/c.py", None, "quality/undocumented"));
        assert!(!covers("legacyx/c.py", None, "quality/undocumented"));
        assert!(!covers("legacy/c.py", None, "security/sql-injection"));
        assert!(covers("vendor/x.js", Some(3), "secrets/generic-api-key"));
        assert!(!covers("app/no.py", Some(1), "security/weak-hash"));
    }

    #[test]
    fn the_baseline_is_the_capsule_root_file() {
        let files = [
            File::text("sub/.qlp-ignore", "a.py x/y reason"),
            File::text(".qlp-ignore", "a.py x/y reason"),
        ];
        let baseline = Baseline::from_files(&files);
        assert!(baseline.covers("a.py", None, "x/y", "x"));
        assert!(Baseline::from_files(&files[..1]).is_empty());
    }

    #[test]
    fn markers_are_read_from_any_comment_style_and_need_a_reason() {
        assert_eq!(
            marker_rules("x  // qlp-ignore: security/a,b reason here"),
            Some(vec!["security/a", "b"])
        );
        assert_eq!(
            marker_rules("/* qlp-ignore: security/a reason */"),
            Some(vec!["security/a"])
        );
        assert_eq!(
            marker_rules("<!-- qlp-ignore: deps/x assessed -->"),
            Some(vec!["deps/x"])
        );
        assert_eq!(marker_rules("/* qlp-ignore: security/a */"), None);
        assert_eq!(marker_rules("no marker"), None);
    }

    #[test]
    fn a_marker_covers_its_line_and_the_line_below_a_comment_only_line() {
        let lines = [
            "a = md5(x)  # qlp-ignore: security/weak-hash etag",
            "b = md5(y)",
            "# qlp-ignore: weak-hash cache key",
            "c = md5(z)",
        ];
        let hidden = |line| is_suppressed(&lines, line, "security/weak-hash", "security");
        assert!(hidden(1));
        assert!(
            !hidden(2),
            "a marker on a code line does not reach the next line"
        );
        assert!(hidden(4));
        assert!(!is_suppressed(
            &lines,
            4,
            "security/sql-injection",
            "security"
        ));
        assert!(!is_suppressed(&lines, 0, "security/weak-hash", "security"));
        assert!(!is_suppressed(&lines, 99, "security/weak-hash", "security"));
    }

    #[test]
    fn file_level_markers_count_anywhere_in_the_file() {
        let lines = [
            "FROM x",
            "# qlp-ignore: container/missing-healthcheck probes",
        ];
        assert!(is_suppressed_in_file(
            &lines,
            "container/missing-healthcheck",
            "container"
        ));
        assert!(!is_suppressed_in_file(
            &lines,
            "container/root-user",
            "container"
        ));
    }
}
