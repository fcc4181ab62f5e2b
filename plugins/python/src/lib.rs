//! QLP analyzer `qlp/python`: measures Python sources with a real parser
//! (`rustpython-parser`). For each `.py`/`.pyi` file it reports code, comment
//! and blank lines, every function and method with its McCabe complexity and
//! whether it has a docstring, the imported modules and the docstring
//! coverage of functions and classes.
//!
//! Errors: `FILE_TOO_LARGE` (over [`MAX_FILE_BYTES`]), `NOT_UTF8`,
//! `SYNTAX_ERROR` (with the line) and `TOO_DEEPLY_NESTED` (see
//! [`screen::MAX_NESTING`] and [`screen::MAX_INDENT_DEPTH`]).

mod lines;
mod screen;
mod walk;

use qlp_sdk::PluginKind;
use qlp_sdk::analyzer::{Analysis, Analyzer, File, PluginError, PluginInfo};
use rustpython_parser::{Mode, ast, lexer, parse_tokens};

use lines::LineIndex;
use screen::{Screen, TooDeep};

/// Largest file analyzed. Hand-written Python modules are well under
/// 100 KiB; the cap bounds the memory the token stream and syntax tree of
/// one call can take.
pub const MAX_FILE_BYTES: usize = 4 << 20;

/// The `qlp/python` analyzer.
pub struct Python;

impl Analyzer for Python {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "qlp/python".into(),
            version: "0.1.0".into(),
            kind: PluginKind::Analyzer,
            description: "Measures Python sources with a real parser: lines, functions with \
                          McCabe complexity, docstrings and imports."
                .into(),
            capabilities: vec![],
        }
    }

    fn languages() -> Vec<String> {
        vec!["python".into()]
    }

    fn extensions() -> Vec<String> {
        vec!["py".into(), "pyi".into()]
    }

    fn analyze(file: File) -> Result<Analysis, PluginError> {
        analyze(&file.path, &file.content)
    }
}

qlp_sdk::export_analyzer!(Python);

/// Analyzes one Python file given as raw bytes.
pub fn analyze(path: &str, content: &[u8]) -> Result<Analysis, PluginError> {
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
    // A byte order mark is not part of the program.
    let source = source.strip_prefix('\u{feff}').unwrap_or(source);

    let lines = LineIndex::new(source);
    let mut screen = Screen::new(lexer::lex(source, Mode::Module), &lines);
    let parsed = parse_tokens(&mut screen, Mode::Module, path);
    if let Some(too_deep) = screen.too_deep() {
        let message = match too_deep {
            TooDeep::Indentation { line } => format!(
                "{path}: line {line}: more than {} levels of indentation",
                screen::MAX_INDENT_DEPTH
            ),
            TooDeep::Expression { line } => format!(
                "{path}: line {line}: the statement nests more deeply than the analyzer \
                 accepts (estimate over {})",
                screen::MAX_NESTING
            ),
        };
        return Err(PluginError::new("TOO_DEEPLY_NESTED", message));
    }
    let module = match parsed {
        Ok(ast::Mod::Module(module)) => module,
        Ok(_) => {
            return Err(PluginError::new(
                "SYNTAX_ERROR",
                format!("{path}: not a module"),
            ));
        }
        Err(err) => {
            let line = lines.line_of(u32::from(err.offset));
            return Err(PluginError::new(
                "SYNTAX_ERROR",
                format!("{path}: line {line}: {}", err.error),
            ));
        }
    };

    let counts = screen.tally().counts();
    let collected = walk::collect(&module.body, &lines);
    let units = collected.functions.len() + collected.classes as usize;
    let documented = collected.functions.iter().filter(|f| f.documented).count()
        + collected.documented_classes as usize;
    let doc_coverage = if units == 0 {
        1.0
    } else {
        documented as f32 / units as f32
    };

    Ok(Analysis {
        path: path.to_string(),
        language: "python".into(),
        lines_of_code: counts.code,
        comment_lines: counts.comment,
        blank_lines: counts.blank,
        functions: collected.functions,
        imports: collected.imports,
        doc_coverage,
    })
}

#[cfg(test)]
mod tests;
