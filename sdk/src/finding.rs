//! Building and reading findings without naming the record's fields.
//!
//! Where a finding points changes shape between contract versions (0.1.0
//! has a path and a line, 0.2.0 a location with a region); a plugin that
//! builds findings with [`Finding::new`] and [`Finding::at`] and reads them
//! with [`Finding::path`] and [`Finding::line`] compiles against either.
//!
//! ```
//! use qlp_sdk::{Finding, Severity};
//!
//! let finding = Finding::new("acme/no-todo", Severity::Low, "a TODO is left").at("app.py", 3);
//! assert_eq!(finding.path(), Some("app.py"));
//! assert_eq!(finding.line(), Some(3));
//! ```

use crate::{Finding, Severity};

impl Finding {
    /// A finding of `rule_id` about the whole capsule (no file); place it
    /// with [`at`](Self::at), [`in_file`](Self::in_file) or
    /// [`located`](Self::located).
    pub fn new(rule_id: impl Into<String>, severity: Severity, message: impl Into<String>) -> Self {
        Self {
            rule_id: rule_id.into(),
            severity,
            message: message.into(),
            path: None,
            line: None,
        }
    }

    /// At `line` (1-based) of the file at `path`.
    pub fn at(self, path: impl Into<String>, line: u32) -> Self {
        self.located(Some(path.into()), Some(line))
    }

    /// About the whole file at `path`.
    pub fn in_file(self, path: impl Into<String>) -> Self {
        self.located(Some(path.into()), None)
    }

    /// In the file at `path`, if any, at `line`, if any; a line without a
    /// path places nothing.
    pub fn located(self, path: Option<String>, line: Option<u32>) -> Self {
        let line = path.as_ref().and(line);
        Self { path, line, ..self }
    }

    /// The file the finding is in.
    pub fn path(&self) -> Option<&str> {
        self.path.as_deref()
    }

    /// The 1-based line the finding starts at.
    pub fn line(&self) -> Option<u32> {
        self.line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finding_is_placed_in_a_file_at_a_line_or_nowhere() {
        let bare = Finding::new("r/x", Severity::High, "m");
        assert_eq!((bare.path(), bare.line()), (None, None));
        assert_eq!(
            (bare.rule_id.as_str(), bare.severity, bare.message.as_str()),
            ("r/x", Severity::High, "m")
        );

        let at = bare.clone().at("a/b.py", 7);
        assert_eq!((at.path(), at.line()), (Some("a/b.py"), Some(7)));

        let file = bare.clone().in_file("Dockerfile");
        assert_eq!((file.path(), file.line()), (Some("Dockerfile"), None));

        let nowhere = bare.located(None, Some(4));
        assert_eq!((nowhere.path(), nowhere.line()), (None, None));
    }
}
