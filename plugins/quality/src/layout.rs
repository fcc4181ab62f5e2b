//! How a capsule's files are laid out: which are source modules, which are
//! tests by each language's conventions, and whether a module has a test.
//!
//! | language | test files | a module counts as tested when |
//! |---|---|---|
//! | Python | `test_*.py`, `*_test.py`, `conftest.py`, anything under `tests/` or `test/` | a test file is named `test_<stem>.py`/`<stem>_test.py`, or imports it (`app.auth`, `from app import auth`) |
//! | JavaScript/TypeScript | `*.test.*`, `*.spec.*`, anything under `test/`, `tests/`, `__tests__/` | a test file is named `<stem>.test.*`/`<stem>.spec.*`, or imports a path ending `/<stem>` |
//! | Go | `*_test.go` | its package directory has a `_test.go` file (Go tests are per package) |
//! | Rust | `tests.rs`, anything under `tests/` | it holds `#[test]` or `#[cfg(test)]`, a test file names it (`::<stem>`), or it is `lib.rs`/`main.rs` and `tests/` has files |
//! | Java | `*Test.java`, `*Tests.java`, `*IT.java`, `Test*.java`, anything under `src/test/` | a test file is named after its class or mentions the class |
//!
//! Files that hold no function (`__init__.py`, declarations, constants),
//! type declarations (`.d.ts`) and tool configuration (`*.config.js`,
//! `setup.py`, `manage.py`, `conftest.py`) are not modules that need tests.

/// A language `qlp/quality` reads, chosen by extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Lang {
    Python,
    JavaScript,
    Go,
    Rust,
    Java,
}

impl Lang {
    /// The language of a path, by extension.
    pub fn of_path(path: &str) -> Option<Lang> {
        let ext = file_name(path).rsplit_once('.')?.1.to_ascii_lowercase();
        match ext.as_str() {
            "py" => Some(Lang::Python),
            "js" | "mjs" | "cjs" | "jsx" | "ts" | "mts" | "cts" | "tsx" => Some(Lang::JavaScript),
            "go" => Some(Lang::Go),
            "rs" => Some(Lang::Rust),
            "java" => Some(Lang::Java),
            _ => None,
        }
    }

    /// The analyzer's language name for it (`python`), as in `analysis.language`.
    pub fn name(self) -> &'static str {
        match self {
            Lang::Python => "python",
            Lang::JavaScript => "javascript",
            Lang::Go => "go",
            Lang::Rust => "rust",
            Lang::Java => "java",
        }
    }

    /// Prefixes of a comment-only line, for counting lines of code where no
    /// analyzer measured the file.
    pub fn comment_prefixes(self) -> &'static [&'static str] {
        match self {
            Lang::Python => &["#"],
            _ => &["//", "/*", "*"],
        }
    }
}

/// The last component of a path.
pub fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The file name without its (last) extension.
pub fn stem(path: &str) -> &str {
    let name = file_name(path);
    name.split_once('.').map_or(name, |(s, _)| s)
}

/// The directory of a path, `""` at the top.
pub fn dir(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

fn in_dir_named(path: &str, names: &[&str]) -> bool {
    let mut parts: Vec<&str> = path.split('/').collect();
    parts.pop();
    parts.iter().any(|p| names.contains(p))
}

/// Whether a source file is a test by its language's conventions.
pub fn is_test(path: &str, lang: Lang) -> bool {
    let name = file_name(path);
    match lang {
        Lang::Python => {
            name.starts_with("test_")
                || name.ends_with("_test.py")
                || name == "conftest.py"
                || in_dir_named(path, &["tests", "test"])
        }
        Lang::JavaScript => {
            name.contains(".test.")
                || name.contains(".spec.")
                || in_dir_named(path, &["test", "tests", "__tests__"])
        }
        Lang::Go => name.ends_with("_test.go"),
        Lang::Rust => name == "tests.rs" || in_dir_named(path, &["tests"]),
        Lang::Java => {
            let stem = stem(path);
            stem.ends_with("Test")
                || stem.ends_with("Tests")
                || stem.ends_with("IT")
                || stem.starts_with("Test")
                || path.contains("src/test/")
        }
    }
}

/// Whether a non-test source file is a module that should have tests: it
/// defines a function and is not declarations or tool configuration.
pub fn needs_tests(path: &str, lang: Lang, text: &str, analysed_functions: Option<usize>) -> bool {
    let name = file_name(path);
    let excluded = matches!(
        name,
        "__init__.py" | "setup.py" | "manage.py" | "conftest.py"
    ) || name.ends_with(".d.ts")
        || name.contains(".config.");
    if excluded {
        return false;
    }
    match (lang, analysed_functions) {
        (_, Some(n)) => n > 0,
        (Lang::Python, None) => text.contains("def "),
        (Lang::JavaScript, None) => text.contains("function") || text.contains("=>"),
        (Lang::Go, None) => text.contains("func "),
        (Lang::Rust, None) => text.contains("fn "),
        (Lang::Java, None) => true,
    }
}

/// Whether `word` occurs in `text` with no identifier character on either
/// side.
pub fn has_word(text: &str, word: &str) -> bool {
    if word.is_empty() {
        return false;
    }
    let ident = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    text.match_indices(word).any(|(at, _)| {
        !ident(text[..at].chars().next_back()) && !ident(text[at + word.len()..].chars().next())
    })
}

/// Whether the test file at `test_path` (text `test_text`) tests the module
/// at `path`, by name or by import.
pub fn tests_module(lang: Lang, path: &str, test_path: &str, test_text: &str) -> bool {
    let module = stem(path);
    let test = stem(test_path);
    match lang {
        Lang::Python => {
            if test == format!("test_{module}") || test == format!("{module}_test") {
                return true;
            }
            let without_ext = path.strip_suffix(".py").unwrap_or(path);
            let dotted = without_ext.replace('/', ".");
            let package = dir(path).replace('/', ".");
            has_word(test_text, &dotted)
                || test_text.lines().any(|line| {
                    let line = line.trim();
                    line.strip_prefix("from ")
                        .and_then(|rest| rest.strip_prefix(package.as_str()))
                        .and_then(|rest| rest.trim_start().strip_prefix("import "))
                        .is_some_and(|names| has_word(names, module))
                })
        }
        Lang::JavaScript => {
            if test == module {
                return true;
            }
            let needle = format!("/{module}");
            test_text.match_indices(&needle).any(|(at, _)| {
                let rest = &test_text[at + needle.len()..];
                rest.starts_with(['"', '\'', '`'])
                    || [".js", ".ts", ".mjs", ".cjs", ".jsx", ".tsx"]
                        .iter()
                        .any(|ext| rest.starts_with(ext))
            })
        }
        Lang::Go => dir(path) == dir(test_path),
        Lang::Rust => has_word(test_text, &format!("::{module}")) || test == module,
        Lang::Java => {
            test.strip_suffix("Test") == Some(module)
                || test.strip_suffix("Tests") == Some(module)
                || test.strip_suffix("IT") == Some(module)
                || test.strip_prefix("Test") == Some(module)
                || has_word(test_text, module)
        }
    }
}

/// Whether a Rust module carries its own unit tests.
pub fn has_inline_tests(lang: Lang, text: &str) -> bool {
    lang == Lang::Rust && (text.contains("#[test]") || text.contains("#[cfg(test)]"))
}
