//! Behaviour of the Python analyzer on realistic and on broken input. Every
//! expected number below was counted by hand from the sample text.

use super::*;

/// A module with a documented class, a decorated static method, an async
/// method, nested functions, comprehensions, boolean operators, a `try` with
/// two handlers and a `match` statement. Line numbers are in the comments of
/// the assertions below.
const SAMPLE: &str = r##""""Invoice service: storage and pricing."""

import os
import os.path as osp
from typing import Optional, List
from .models import Invoice
from ..core import db
from . import helpers
import os, json

# Discount thresholds.
LIMITS = [n * 2 for n in range(10) if n % 2]


@dataclass
class InvoiceService:
    """Creates and prices invoices."""

    def __init__(self, store):
        self.store = store  # the backing store

    @staticmethod
    def total(items, discount=None):
        """Sum of the line items, minus the discount."""
        amount = sum(i.price * i.qty for i in items if i.qty > 0)
        if discount and discount > 0 or amount > 1000:
            amount -= discount or 0
        elif amount < 0:
            raise ValueError("negative")
        return amount

    async def fetch(self, ids):
        result = {}
        async for row in self.store.rows(ids):
            result[row.id] = row if row.valid else None
        try:
            await self.store.flush()
        except TimeoutError:
            pass
        except (OSError, ValueError) as err:
            # Storage failures are logged, not raised.
            log(err)
        return result


def classify(event):
    """Map an event to a label.

    Unknown events map to None.
    """

    def label(kind):
        while kind.startswith("_"):
            kind = kind[1:]
        return kind

    match event:
        case {"type": "created"}:
            return label("created")
        case {"type": t} if t in ("paid", "void"):
            return label(t)
        case _:
            return None


def outer():
    def inner():
        def innermost():
            assert True
            return [x for x in range(3) for y in range(x) if x if y]
        return innermost
    return inner
"##;

/// A function as `(name, line, complexity, documented)`, for comparing.
type Row = (String, u32, u32, bool);

fn metrics(name: &str, line: u32, complexity: u32, documented: bool) -> Row {
    (name.to_string(), line, complexity, documented)
}

fn rows(analysis: &Analysis) -> Vec<Row> {
    analysis
        .functions
        .iter()
        .map(|f| {
            (
                f.name.clone(),
                f.line,
                f.cyclomatic_complexity,
                f.documented,
            )
        })
        .collect()
}

fn analyze_text(text: &str) -> Result<Analysis, PluginError> {
    analyze("app/service.py", text.as_bytes())
}

#[test]
fn sample_functions_have_qualified_names_lines_and_complexity() {
    let analysis = analyze_text(SAMPLE).expect("the sample parses");
    assert_eq!(
        rows(&analysis),
        vec![
            // Line 19, no decisions.
            metrics("InvoiceService.__init__", 19, 1, false),
            // Line 23 (decorator on 22): generator `for` + `if` (2), `if` (1),
            // `and` + `or` (2), `discount or 0` (1), `elif` (1).
            metrics("InvoiceService.total", 23, 8, true),
            // `async for` (1), conditional expression (1), two handlers (2).
            metrics("InvoiceService.fetch", 32, 5, false),
            // Two `case` arms; the final `case _` adds nothing, nor does the
            // `while` of the nested `label`.
            metrics("classify", 46, 3, true),
            metrics("classify.label", 52, 2, false),
            metrics("outer", 66, 1, false),
            metrics("outer.inner", 67, 1, false),
            // Two comprehension `for`s and two `if`s; `assert` is no decision.
            metrics("outer.inner.innermost", 68, 5, false),
        ]
    );
}

#[test]
fn sample_imports_keep_first_appearance_order_and_relative_dots() {
    let analysis = analyze_text(SAMPLE).expect("the sample parses");
    assert_eq!(
        analysis.imports,
        vec!["os", "os.path", "typing", ".models", "..core", ".", "json"]
    );
}

#[test]
fn sample_lines_and_doc_coverage() {
    let analysis = analyze_text(SAMPLE).expect("the sample parses");
    assert_eq!(analysis.path, "app/service.py");
    assert_eq!(analysis.language, "python");
    // 72 lines: blank 2, 10, 13, 14, 18, 21, 31, 44, 45, 51, 56, 64, 65;
    // comment-only 11 and 41; the blank line 48 inside a docstring and the
    // code line 20 with a trailing comment are code.
    assert_eq!(analysis.blank_lines, 13);
    assert_eq!(analysis.comment_lines, 2);
    assert_eq!(analysis.lines_of_code, 57);
    // `total`, `classify` and the class are documented: 3 of 8 functions + 1 class.
    assert_eq!(analysis.doc_coverage, 3.0f32 / 9.0f32);
}

#[test]
fn crlf_line_breaks_count_like_lf() {
    let crlf = SAMPLE.replace('\n', "\r\n");
    let lf = analyze_text(SAMPLE).expect("the sample parses");
    let analysis = analyze_text(&crlf).expect("the CRLF sample parses");
    assert_eq!(
        (
            analysis.lines_of_code,
            analysis.comment_lines,
            analysis.blank_lines
        ),
        (lf.lines_of_code, lf.comment_lines, lf.blank_lines)
    );
    assert_eq!(rows(&analysis), rows(&lf));
}

#[test]
fn empty_file_has_nothing_and_full_coverage() {
    let analysis = analyze_text("").expect("an empty module parses");
    assert_eq!(
        (
            analysis.lines_of_code,
            analysis.comment_lines,
            analysis.blank_lines
        ),
        (0, 0, 0)
    );
    assert!(analysis.functions.is_empty());
    assert!(analysis.imports.is_empty());
    assert_eq!(analysis.doc_coverage, 1.0);
}

#[test]
fn module_without_functions_counts_comments_and_blanks() {
    let analysis = analyze_text("# a\n\n    # b\nX = 1  # c\n").expect("parses");
    assert_eq!(
        (
            analysis.lines_of_code,
            analysis.comment_lines,
            analysis.blank_lines
        ),
        (1, 2, 1)
    );
    assert_eq!(analysis.doc_coverage, 1.0);
}

#[test]
fn syntax_error_reports_its_line() {
    let err = analyze_text("x = 1\ny = 2\ndef broken(:\n    pass\n").expect_err("invalid");
    assert_eq!(err.code, "SYNTAX_ERROR");
    assert!(err.message.contains("line 3:"), "{}", err.message);
}

#[test]
fn unclosed_bracket_is_a_syntax_error() {
    let err = analyze_text("items = [1, 2,\n").expect_err("invalid");
    assert_eq!(err.code, "SYNTAX_ERROR");
}

#[test]
fn invalid_utf8_is_refused_with_its_line() {
    let err = analyze("bad.py", b"x = 1\ny = '\xff'\n").expect_err("not UTF-8");
    assert_eq!(err.code, "NOT_UTF8");
    assert!(err.message.contains("line 2"), "{}", err.message);
}

#[test]
fn oversized_file_is_refused() {
    let content = vec![b'#'; MAX_FILE_BYTES + 1];
    let err = analyze("big.py", &content).expect_err("too large");
    assert_eq!(err.code, "FILE_TOO_LARGE");
}

#[test]
fn byte_order_mark_is_ignored() {
    let analysis = analyze("bom.py", "\u{feff}import os\n".as_bytes()).expect("parses");
    assert_eq!(analysis.imports, vec!["os"]);
    assert_eq!(analysis.lines_of_code, 1);
}

#[test]
fn very_long_operator_chain_is_refused_not_overflowing() {
    let text = format!("x = 0\ny = {}1\n", "1 + ".repeat(20_000));
    let err = analyze_text(&text).expect_err("too deep");
    assert_eq!(err.code, "TOO_DEEPLY_NESTED");
    assert!(err.message.contains("line 2:"), "{}", err.message);
}

#[test]
fn indentation_beyond_the_limit_is_refused() {
    let mut text = String::new();
    for depth in 0..=screen::MAX_INDENT_DEPTH {
        text.push_str(&" ".repeat(depth as usize));
        text.push_str("if x:\n");
    }
    text.push_str(&" ".repeat(screen::MAX_INDENT_DEPTH as usize + 1));
    text.push_str("pass\n");
    let err = analyze_text(&text).expect_err("too deep");
    assert_eq!(err.code, "TOO_DEEPLY_NESTED");
}

#[test]
fn nesting_just_under_the_limit_fits_in_a_plugin_sized_stack() {
    // Worst accepted shapes: a long operator chain inside a function nested
    // as deeply as the indentation limit allows, and a bracket pyramid.
    let depth = screen::MAX_INDENT_DEPTH as usize;
    let mut text = String::new();
    for level in 0..depth {
        text.push_str(&" ".repeat(level));
        text.push_str("def f():\n");
    }
    let chain = screen::MAX_NESTING as usize - 10;
    text.push_str(&" ".repeat(depth));
    text.push_str(&format!("return {}1\n", "1 + ".repeat(chain)));
    text.push_str(&format!(
        "y = {}1{}\n",
        "[".repeat(chain),
        "]".repeat(chain)
    ));
    // The host gives a plugin 1 MiB of stack; a debug build here uses far
    // more stack per frame than the optimized wasm build.
    let analysis = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || analyze_text(&text))
        .expect("thread starts")
        .join()
        .expect("no stack overflow")
        .expect("accepted");
    assert_eq!(analysis.functions.len(), depth);
}

#[test]
fn plugin_claims_python_files() {
    assert_eq!(Python::languages(), vec!["python"]);
    assert_eq!(Python::extensions(), vec!["py", "pyi"]);
    assert_eq!(Python::describe().name, "qlp/python");
}
