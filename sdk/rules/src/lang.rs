//! The languages a rule can name (`languages: [python, go]`) and which
//! files each one covers, by extension. `generic` covers every file and
//! tokenises it without comments and with double-quoted strings only.

use std::fmt;

/// A language of a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Language {
    Python,
    JavaScript,
    TypeScript,
    Go,
    Rust,
    Java,
    /// Any file.
    Generic,
}

impl Language {
    /// Every language, in the order of the documentation.
    pub const ALL: [Language; 7] = [
        Language::Python,
        Language::JavaScript,
        Language::TypeScript,
        Language::Go,
        Language::Rust,
        Language::Java,
        Language::Generic,
    ];

    /// The language a rule names; Semgrep's aliases (`py`, `js`, `ts`,
    /// `golang`, `regex`, `none`) are accepted.
    pub fn from_name(name: &str) -> Option<Language> {
        Some(match name.to_ascii_lowercase().as_str() {
            "python" | "py" => Language::Python,
            "javascript" | "js" => Language::JavaScript,
            "typescript" | "ts" => Language::TypeScript,
            "go" | "golang" => Language::Go,
            "rust" | "rs" => Language::Rust,
            "java" => Language::Java,
            "generic" | "regex" | "none" => Language::Generic,
            _ => return None,
        })
    }

    /// The language of a path by its extension; `None` when no specific
    /// language covers it (only `generic` rules read it then).
    pub fn of_path(path: &str) -> Option<Language> {
        let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
        let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
        Some(match ext.as_str() {
            "py" | "pyi" | "pyw" => Language::Python,
            "js" | "mjs" | "cjs" | "jsx" => Language::JavaScript,
            "ts" | "mts" | "cts" | "tsx" => Language::TypeScript,
            "go" => Language::Go,
            "rs" => Language::Rust,
            "java" => Language::Java,
            _ => return None,
        })
    }

    /// The canonical name.
    pub fn name(self) -> &'static str {
        match self {
            Language::Python => "python",
            Language::JavaScript => "javascript",
            Language::TypeScript => "typescript",
            Language::Go => "go",
            Language::Rust => "rust",
            Language::Java => "java",
            Language::Generic => "generic",
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_extensions() {
        assert_eq!(Language::from_name("golang"), Some(Language::Go));
        assert_eq!(Language::from_name("Python"), Some(Language::Python));
        assert_eq!(Language::from_name("cobol"), None);
        assert_eq!(Language::of_path("src/app.tsx"), Some(Language::TypeScript));
        assert_eq!(Language::of_path("a/b.PY"), Some(Language::Python));
        assert_eq!(Language::of_path("Makefile"), None);
        for lang in Language::ALL {
            assert_eq!(Language::from_name(lang.name()), Some(lang));
        }
    }
}
