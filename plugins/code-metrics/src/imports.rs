//! Imported modules, in order of appearance, without duplicates:
//!
//! | language | what is taken |
//! |---|---|
//! | Go | every import path (`import "a/b"`, `import ( x "a/b" )`) |
//! | JavaScript, TypeScript | the module of `import … from 'x'`, `import 'x'`, `export … from 'x'`, `import('x')`, `require('x')` |
//! | Rust | the root of each `use` path (`std::io::Read` → `std`); for the crate's own modules `crate::module` (`crate` for a `use crate::{…}` group); `extern crate x` → `x`; `self` and `super` paths are left out |
//! | Java | the imported name (`import a.b.C;` → `a.b.C`, `import static a.b.C.m;` → `a.b.C.m`, `import a.b.*;` → `a.b.*`) |

use crate::Lang;
use crate::lex::{Kind, Token};

/// Most tokens an import statement is scanned over.
const MAX_STATEMENT: usize = 512;

/// The imports of a file.
pub fn imports(lang: Lang, source: &str, tokens: &[Token]) -> Vec<String> {
    let code: Vec<(Kind, &str)> = tokens
        .iter()
        .filter(|t| !t.is_comment())
        .map(|t| (t.kind, t.text(source)))
        .collect();
    let mut out: Vec<String> = Vec::new();
    let mut add = |s: String| {
        if !s.is_empty() && !out.contains(&s) {
            out.push(s);
        }
    };
    for i in 0..code.len() {
        let (kind, text) = code[i];
        let prev = i.checked_sub(1).map(|p| code[p].1);
        if kind != Kind::Word || prev == Some(".") {
            continue;
        }
        match (lang, text) {
            (Lang::Go, "import") => {
                let mut j = i + 1;
                let grouped = code.get(j).map(|t| t.1) == Some("(");
                while j < code.len() && j < i + MAX_STATEMENT {
                    let (k, t) = code[j];
                    if k == Kind::Str {
                        add(unquote(t));
                        if !grouped {
                            break;
                        }
                    } else if t == ")" || t == ";" && !grouped {
                        break;
                    }
                    j += 1;
                }
            }
            (Lang::JavaScript | Lang::TypeScript, "import" | "export") => {
                let next = code.get(i + 1).copied();
                match next {
                    Some((Kind::Str, t)) if text == "import" => add(unquote(t)),
                    Some((_, "(")) if text == "import" => {
                        if let Some(&(Kind::Str, t)) = code.get(i + 2) {
                            add(unquote(t));
                        }
                    }
                    _ => {
                        for j in i + 1..code.len().min(i + MAX_STATEMENT) {
                            let t = code[j].1;
                            if t == ";" || (j > i + 1 && matches!(t, "import" | "export")) {
                                break;
                            }
                            if t == "from" {
                                if let Some(&(Kind::Str, m)) = code.get(j + 1) {
                                    add(unquote(m));
                                }
                                break;
                            }
                            if text == "export" && j == i + 1 && !matches!(t, "*" | "{" | "type") {
                                break;
                            }
                        }
                    }
                }
            }
            (Lang::JavaScript | Lang::TypeScript, "require") => {
                if code.get(i + 1).map(|t| t.1) == Some("(")
                    && let Some(&(Kind::Str, t)) = code.get(i + 2)
                {
                    add(unquote(t));
                }
            }
            (Lang::Rust, "use") => {
                let mut j = i + 1;
                if code.get(j).map(|t| t.1) == Some("::") {
                    j += 1;
                }
                if let Some(&(Kind::Word, root)) = code.get(j) {
                    match root {
                        "self" | "super" => {}
                        "crate" => match code.get(j + 2) {
                            Some(&(Kind::Word, m)) => add(format!("crate::{m}")),
                            // `use crate::{a, b}`: the crate itself.
                            _ => add("crate".to_string()),
                        },
                        _ => add(root.to_string()),
                    }
                }
            }
            (Lang::Rust, "extern") => {
                if code.get(i + 1).map(|t| t.1) == Some("crate")
                    && let Some(&(Kind::Word, name)) = code.get(i + 2)
                {
                    add(name.to_string());
                }
            }
            (Lang::Java, "import") => {
                let mut name = String::new();
                let mut j = i + 1;
                if code.get(j).map(|t| t.1) == Some("static") {
                    j += 1;
                }
                while j < code.len() && j < i + MAX_STATEMENT {
                    let t = code[j].1;
                    if t == ";" {
                        break;
                    }
                    name.push_str(t);
                    j += 1;
                }
                add(name);
            }
            _ => {}
        }
    }
    out
}

/// The text of a string literal without its quotes.
fn unquote(literal: &str) -> String {
    let inner = literal.strip_prefix(['"', '\'', '`']).unwrap_or(literal);
    inner
        .strip_suffix(['"', '\'', '`'])
        .unwrap_or(inner)
        .to_string()
}
