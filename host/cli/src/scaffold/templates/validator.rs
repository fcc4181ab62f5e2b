//! QLP validator `__NAME__`: checks a capsule's files and scores them.

use qlp_sdk::validator::{Capsule, Finding, PluginError, PluginInfo, Report, Severity, Validator};
use qlp_sdk::{File, PluginKind, Region};

pub struct __TYPE__;

impl Validator for __TYPE__ {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "__NAME__".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            kind: PluginKind::Validator,
            description: "Flags lines left marked TODO.".into(),
            capabilities: vec![],
        }
    }

    fn validate(capsule: &Capsule<'_>) -> Result<Report, PluginError> {
        let mut findings = vec![];
        // One file at a time: the host holds the capsule.
        for entry in capsule.files() {
            let content = capsule.read(&entry.path)?;
            findings.extend(check(&[File { path: entry.path, content }]));
        }
        let score = 100u8.saturating_sub(10 * findings.len().min(10) as u8);
        Ok(Report {
            summary: format!("{} line(s) marked TODO", findings.len()),
            findings,
            score,
        })
    }
}

/// One finding per line containing `TODO`: replace with your own rules.
pub fn check(files: &[File]) -> Vec<Finding> {
    let mut findings = vec![];
    for file in files {
        let Ok(text) = std::str::from_utf8(&file.content) else {
            continue;
        };
        for (i, line) in text.lines().enumerate() {
            if let Some(at) = line.find("TODO") {
                let message = "a line is left marked TODO";
                let start = line[..at].chars().count() as u32 + 1;
                let region = Region::columns(i as u32 + 1, start, start + 4);
                findings.push(
                    Finding::new("todo/marker", Severity::Low, message)
                        .at_region(&file.path, region)
                        .snippet(line.trim()),
                );
            }
        }
    }
    findings
}

qlp_sdk::export_validator!(__TYPE__);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_todo_is_found_with_its_file_and_line() {
        let files = vec![File {
            path: "app.py".into(),
            content: b"import os\n# TODO: auth\n".to_vec(),
        }];
        let findings = check(&files);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].path(), Some("app.py"));
        assert_eq!(findings[0].line(), Some(2));
        assert_eq!(findings[0].region().unwrap().start_column, Some(3));
        assert_eq!(findings[0].snippet.as_deref(), Some("# TODO: auth"));
        assert_eq!(__TYPE__::describe().name, "__NAME__");
    }
}
