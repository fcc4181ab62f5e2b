//! Inline suppressions for validators: a comment
//! `qlp-ignore: <rule-id> <reason>` on the line of a finding, or alone on
//! the comment line right above it, suppresses findings of that rule there.
//! The rule id may be written in full (`security/sql-injection`) or without
//! the validator's namespace (`sql-injection`); several ids are separated
//! by commas. A marker without a reason suppresses nothing: a suppression
//! has to say why. Findings about a whole file (no line) are suppressed by
//! a marker anywhere in that file ([`is_suppressed_in_file`]).
//!
//! Validators count what they suppressed, per rule, in their summary, so a
//! report always says what was hidden and by which rule.

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
