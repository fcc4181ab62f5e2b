//! Building and reading findings.
//!
//! A finding names its rule, severity and message, and where it is: a file
//! and a region of it (lines and columns, 1-based, as SARIF counts). It may
//! carry the text it points at, a fix, and tags (`cwe:CWE-798`,
//! `owasp:A02:2021`, `pci-dss:3.5.1`).
//!
//! ```
//! use qlp_sdk::{Finding, Region, Severity};
//!
//! let finding = Finding::new("acme/no-todo", Severity::Low, "a TODO is left")
//!     .at_region("app.py", Region::columns(3, 5, 9))
//!     .snippet("TODO")
//!     .tag("acme:hygiene");
//! assert_eq!(finding.path(), Some("app.py"));
//! assert_eq!(finding.line(), Some(3));
//! ```

use crate::{Finding, Fix, Location, Region, Replacement, Severity};

impl Region {
    /// The whole of line `line` (1-based).
    pub fn line(line: u32) -> Self {
        Self {
            start_line: line,
            start_column: None,
            end_line: None,
            end_column: None,
        }
    }

    /// Columns `start..end` of line `line` (1-based; `end` is the column
    /// after the last character).
    pub fn columns(line: u32, start: u32, end: u32) -> Self {
        Self {
            start_line: line,
            start_column: Some(start),
            end_line: Some(line),
            end_column: Some(end),
        }
    }
}

impl Fix {
    /// A fix described in words, replacing one region of one file with
    /// `text`; add more with [`replace`](Self::replace).
    pub fn new(
        description: impl Into<String>,
        path: impl Into<String>,
        region: Region,
        text: impl Into<String>,
    ) -> Self {
        Self {
            description: description.into(),
            replacements: vec![],
        }
        .replace(path, region, text)
    }

    /// One more replacement.
    pub fn replace(
        mut self,
        path: impl Into<String>,
        region: Region,
        text: impl Into<String>,
    ) -> Self {
        self.replacements.push(Replacement {
            path: path.into(),
            region,
            text: text.into(),
        });
        self
    }
}

impl Finding {
    /// A finding of `rule_id` about the whole capsule (no file); place it
    /// with [`at`](Self::at), [`at_region`](Self::at_region),
    /// [`in_file`](Self::in_file) or [`located`](Self::located).
    pub fn new(rule_id: impl Into<String>, severity: Severity, message: impl Into<String>) -> Self {
        Self {
            rule_id: rule_id.into(),
            severity,
            message: message.into(),
            location: None,
            snippet: None,
            fix: None,
            tags: vec![],
        }
    }

    /// At `line` (1-based) of the file at `path`.
    pub fn at(self, path: impl Into<String>, line: u32) -> Self {
        self.at_region(path, Region::line(line))
    }

    /// At `region` of the file at `path`.
    pub fn at_region(self, path: impl Into<String>, region: Region) -> Self {
        Self {
            location: Some(Location {
                path: path.into(),
                region: Some(region),
            }),
            ..self
        }
    }

    /// About the whole file at `path`.
    pub fn in_file(self, path: impl Into<String>) -> Self {
        self.located(Some(path.into()), None)
    }

    /// In the file at `path`, if any, at `line`, if any; a line without a
    /// path places nothing.
    pub fn located(self, path: Option<String>, line: Option<u32>) -> Self {
        let location = path.map(|path| Location {
            path,
            region: line.map(Region::line),
        });
        Self { location, ..self }
    }

    /// The text at the location, as the validator saw it (a few lines at
    /// most; mask any secret in it first).
    pub fn snippet(self, text: impl Into<String>) -> Self {
        Self {
            snippet: Some(text.into()),
            ..self
        }
    }

    /// A change that would resolve the finding.
    pub fn fix(self, fix: Fix) -> Self {
        Self {
            fix: Some(fix),
            ..self
        }
    }

    /// One more classification: `cwe:CWE-798`, `owasp:A02:2021`, a
    /// compliance control id, or a free word.
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }

    /// The file the finding is in.
    pub fn path(&self) -> Option<&str> {
        self.location.as_ref().map(|l| l.path.as_str())
    }

    /// The 1-based line the finding starts at.
    pub fn line(&self) -> Option<u32> {
        self.region().map(|r| r.start_line)
    }

    /// The stretch of the file the finding is about.
    pub fn region(&self) -> Option<&Region> {
        self.location.as_ref().and_then(|l| l.region.as_ref())
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
        assert!(bare.snippet.is_none() && bare.fix.is_none() && bare.tags.is_empty());

        let at = bare.clone().at("a/b.py", 7);
        assert_eq!((at.path(), at.line()), (Some("a/b.py"), Some(7)));
        assert_eq!(at.region().unwrap().start_column, None);

        let file = bare.clone().in_file("Dockerfile");
        assert_eq!((file.path(), file.line()), (Some("Dockerfile"), None));

        let nowhere = bare.clone().located(None, Some(4));
        assert_eq!((nowhere.path(), nowhere.line()), (None, None));
        let located = bare.located(Some("x.go".into()), Some(4));
        assert_eq!((located.path(), located.line()), (Some("x.go"), Some(4)));
    }

    #[test]
    fn a_finding_carries_columns_a_snippet_a_fix_and_tags() {
        let region = Region::columns(3, 5, 9);
        assert_eq!(
            (
                region.start_line,
                region.start_column,
                region.end_line,
                region.end_column
            ),
            (3, Some(5), Some(3), Some(9))
        );
        let fix =
            Fix::new("drop it", "app.py", region, "").replace("app.py", Region::line(1), "# ok\n");
        let finding = Finding::new("acme/todo", Severity::Low, "a TODO")
            .at_region("app.py", region)
            .snippet("TODO")
            .fix(fix)
            .tag("cwe:CWE-546")
            .tag("acme:hygiene");
        assert_eq!(finding.line(), Some(3));
        assert_eq!(finding.region().unwrap().end_column, Some(9));
        assert_eq!(finding.snippet.as_deref(), Some("TODO"));
        let fix = finding.fix.as_ref().unwrap();
        assert_eq!(fix.description, "drop it");
        let texts: Vec<&str> = fix.replacements.iter().map(|r| r.text.as_str()).collect();
        assert_eq!(texts, ["", "# ok\n"]);
        assert_eq!(fix.replacements[1].region.start_line, 1);
        assert_eq!(finding.tags, ["cwe:CWE-546", "acme:hygiene"]);
    }
}
