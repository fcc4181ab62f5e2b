//! QLP analyzer `qlp/code-metrics`: measures Go, JavaScript (JSX),
//! TypeScript (TSX), Rust and Java sources with token-based readers
//! modelled on lizard 1.17.13, so that its function list and cyclomatic
//! complexities agree with lizard's (`tests/lizard.rs` checks that on real
//! code). No parser and no C code: each file is lexed ([`lex`]), the token
//! stream is read by a port of lizard's per-language state machine
//! ([`functions`]), and the rest is counted from the tokens.
//!
//! What is reported for each file:
//!
//! | field | rule |
//! |---|---|
//! | lines | blank: only whitespace; comment: only comment text; code: everything else (a line with code and a trailing comment is code; the lines of a multi-line string are code; a whitespace-only line inside a block comment is blank) — see [`lines`] |
//! | functions | Go `func` (methods `Type.Method`, closures `(anonymous)`), JS/TS `function`, class and object methods (`Class.method`), arrow functions (named after what they are assigned to), Rust `fn` (`Type::method` inside `impl` and `trait`), Java methods and constructors (`Class.method`) — see [`functions`] |
//! | cyclomatic complexity | 1 + lizard's condition tokens in the function's own body; words in comments, strings, templates, regexes and JSX text never count — see [`functions`] |
//! | documented | a doc comment directly above, attributes, annotations and decorators allowed between — see [`docs`] |
//! | imports | see [`imports`] |
//! | doc coverage | documented over all of named functions and class-like declarations (types, structs, enums, traits, classes, interfaces); anonymous functions are left out; 1.0 when there are none |
//!
//! Errors: `FILE_TOO_LARGE` (over [`MAX_FILE_BYTES`]), `NOT_UTF8`,
//! `UNSUPPORTED_LANGUAGE` (an extension this analyzer does not list). The
//! analysis never fails otherwise: the readers accept any token stream and
//! their nesting is capped ([`functions::MAX_READER_DEPTH`],
//! [`lex::MAX_LEX_NESTING`]).

pub mod docs;
pub mod functions;
pub mod imports;
pub mod lex;
pub mod lines;

use qlp_sdk::PluginKind;
use qlp_sdk::analyzer::{Analysis, Analyzer, File, FunctionMetrics, PluginError, PluginInfo};

/// Largest file analyzed. Hand-written sources are well under 1 MiB; the
/// cap bounds the memory of the token list of one call.
pub const MAX_FILE_BYTES: usize = 4 << 20;

/// A language this analyzer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Go,
    JavaScript,
    TypeScript,
    Rust,
    Java,
}

impl Lang {
    /// The language of a file extension (without the dot).
    pub fn from_extension(ext: &str) -> Option<Self> {
        Some(match ext.to_ascii_lowercase().as_str() {
            "go" => Lang::Go,
            "js" | "jsx" | "mjs" | "cjs" => Lang::JavaScript,
            "ts" | "tsx" | "mts" | "cts" => Lang::TypeScript,
            "rs" => Lang::Rust,
            "java" => Lang::Java,
            _ => return None,
        })
    }

    /// The language of a path, from its extension.
    pub fn from_path(path: &str) -> Option<Self> {
        let name = path.rsplit('/').next().unwrap_or(path);
        let (_, ext) = name.rsplit_once('.')?;
        Self::from_extension(ext)
    }

    /// The lower-case name reported in the analysis.
    pub fn name(self) -> &'static str {
        match self {
            Lang::Go => "go",
            Lang::JavaScript => "javascript",
            Lang::TypeScript => "typescript",
            Lang::Rust => "rust",
            Lang::Java => "java",
        }
    }

    pub fn is_js(self) -> bool {
        matches!(self, Lang::JavaScript | Lang::TypeScript)
    }
}

/// The extensions this analyzer lists.
pub const EXTENSIONS: &[&str] = &[
    "go", "js", "jsx", "mjs", "cjs", "ts", "tsx", "mts", "cts", "rs", "java",
];

/// The `qlp/code-metrics` analyzer.
pub struct CodeMetrics;

impl Analyzer for CodeMetrics {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "qlp/code-metrics".into(),
            version: "0.1.0".into(),
            kind: PluginKind::Analyzer,
            description: "Measures Go, JavaScript, TypeScript, Rust and Java sources: lines, \
                          functions with cyclomatic complexity as lizard counts it, doc \
                          comments and imports."
                .into(),
            capabilities: vec![],
        }
    }

    fn languages() -> Vec<String> {
        ["go", "javascript", "typescript", "rust", "java"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    fn extensions() -> Vec<String> {
        EXTENSIONS.iter().map(|s| s.to_string()).collect()
    }

    fn analyze(file: File) -> Result<Analysis, PluginError> {
        analyze(&file.path, &file.content)
    }
}

qlp_sdk::export_analyzer!(CodeMetrics);

/// Analyzes one file given as raw bytes; its language comes from the
/// extension of `path`.
pub fn analyze(path: &str, content: &[u8]) -> Result<Analysis, PluginError> {
    let Some(lang) = Lang::from_path(path) else {
        return Err(PluginError::new(
            "UNSUPPORTED_LANGUAGE",
            format!("{path}: not a Go, JavaScript, TypeScript, Rust or Java file"),
        ));
    };
    if content.len() > MAX_FILE_BYTES {
        return Err(PluginError::new(
            "FILE_TOO_LARGE",
            format!(
                "{path}: {} bytes, more than the {MAX_FILE_BYTES} bytes analyzed",
                content.len()
            ),
        ));
    }
    let source = std::str::from_utf8(content).map_err(|err| {
        let line = content[..err.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        PluginError::new(
            "NOT_UTF8",
            format!("{path}: line {line} is not valid UTF-8"),
        )
    })?;
    Ok(analyze_source(path, lang, source))
}

/// Analyzes one source text of a known language.
pub fn analyze_source(path: &str, lang: Lang, source: &str) -> Analysis {
    // A byte order mark is not part of the program.
    let source = source.strip_prefix('\u{feff}').unwrap_or(source);
    let jsx = path
        .rsplit_once('.')
        .is_some_and(|(_, ext)| matches!(ext, "js" | "jsx" | "mjs" | "cjs" | "tsx"));
    let tokens = lex::lex(source, lang, jsx);
    let counts = lines::count(source, &tokens);
    let mut found = functions::find(lang, source, &tokens);
    docs::qualify(lang, source, &tokens, &mut found);
    let functions: Vec<FunctionMetrics> = found
        .iter()
        .map(|f| FunctionMetrics {
            name: f.name.clone(),
            line: f.line,
            cyclomatic_complexity: f.ccn,
            documented: docs::documented(lang, source, &tokens, decl_line(&tokens, f)),
        })
        .collect();
    let classes: Vec<bool> = docs::class_lines(lang, source, &tokens)
        .into_iter()
        .map(|line| docs::documented(lang, source, &tokens, line))
        .collect();
    let named: Vec<&FunctionMetrics> = functions
        .iter()
        .filter(|f| f.name != "(anonymous)")
        .collect();
    let units = named.len() + classes.len();
    let documented =
        named.iter().filter(|f| f.documented).count() + classes.iter().filter(|&&d| d).count();
    let doc_coverage = if units == 0 {
        1.0
    } else {
        documented as f32 / units as f32
    };
    Analysis {
        path: path.to_string(),
        language: lang.name().into(),
        lines_of_code: counts.code,
        comment_lines: counts.comment,
        blank_lines: counts.blank,
        functions,
        imports: imports::imports(lang, source, &tokens),
        doc_coverage,
    }
}

/// The first line of a function's declaration: the line of the token that
/// opened it.
fn decl_line(tokens: &[lex::Token], f: &functions::Found) -> u32 {
    tokens.get(f.anchor).map_or(f.line, |t| t.line)
}

#[cfg(test)]
mod tests;
