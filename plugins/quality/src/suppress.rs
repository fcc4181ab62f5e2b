//! Inline suppressions: a comment `qlp-ignore: <rule-id> <reason>` on the
//! line of a finding, or alone on the line above it, suppresses findings of
//! that rule there. The rule id may be written in full
//! (`security/sql-injection`) or without the validator's namespace
//! (`sql-injection`); several ids are separated by commas. A marker without
//! a reason suppresses nothing: a suppression has to say why.

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

/// Whether a finding of `rule_id` on 1-based `line` of a file split into
/// `lines` is suppressed; `namespace` is the validator's rule prefix
/// (`security`).
pub fn is_suppressed(lines: &[&str], line: u32, rule_id: &str, namespace: &str) -> bool {
    let names = |marker_line: &str| {
        marker_rules(marker_line).is_some_and(|ids| {
            ids.iter().any(|id| {
                *id == rule_id
                    || rule_id
                        .strip_prefix(namespace)
                        .and_then(|r| r.strip_prefix('/'))
                        == Some(id)
            })
        })
    };
    let index = line as usize;
    let this = index.checked_sub(1).and_then(|i| lines.get(i));
    let above = index.checked_sub(2).and_then(|i| lines.get(i));
    this.is_some_and(|l| names(l))
        || above.is_some_and(|l| {
            let trimmed = l.trim_start();
            COMMENT_STARTS.iter().any(|s| trimmed.starts_with(s)) && names(l)
        })
}
