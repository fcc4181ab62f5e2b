//! QLP analyzer `__NAME__`: measures source files.

use qlp_sdk::PluginKind;
use qlp_sdk::analyzer::{Analysis, Analyzer, File, PluginError, PluginInfo};

pub struct __TYPE__;

impl Analyzer for __TYPE__ {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "__NAME__".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            kind: PluginKind::Analyzer,
            description: "Counts lines of shell scripts.".into(),
            capabilities: vec![],
        }
    }

    fn languages() -> Vec<String> {
        vec!["shell".into()]
    }

    fn extensions() -> Vec<String> {
        vec!["sh".into()]
    }

    fn analyze(file: File) -> Result<Analysis, PluginError> {
        let text = String::from_utf8(file.content)
            .map_err(|_| PluginError { code: "NOT_UTF8".into(), message: format!("{} is not UTF-8", file.path) })?;
        Ok(measure(&file.path, &text))
    }
}

/// Lines of code, comments and blanks: replace with your own measures.
pub fn measure(path: &str, text: &str) -> Analysis {
    let (mut code, mut comments, mut blank) = (0, 0, 0);
    for line in text.lines().map(str::trim) {
        if line.is_empty() {
            blank += 1;
        } else if line.starts_with('#') {
            comments += 1;
        } else {
            code += 1;
        }
    }
    Analysis {
        path: path.into(),
        language: "shell".into(),
        lines_of_code: code,
        comment_lines: comments,
        blank_lines: blank,
        functions: vec![],
        imports: vec![],
        doc_coverage: 0.0,
    }
}

qlp_sdk::export_analyzer!(__TYPE__);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_counted_by_what_they_hold() {
        let a = measure("run.sh", "#!/bin/sh\n\necho hi\n");
        assert_eq!((a.lines_of_code, a.comment_lines, a.blank_lines), (1, 1, 1));
        assert_eq!(__TYPE__::describe().name, "__NAME__");
    }
}
