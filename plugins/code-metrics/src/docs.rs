//! Documentation and names: whether a declaration carries a doc comment,
//! the qualified names of methods (`Type.Method` in Go, `Type::method` in
//! Rust, `Class.method` in JavaScript, TypeScript and Java) and the
//! class-like declarations counted in the doc coverage.
//!
//! A declaration is documented when the nearest token above its first line
//! is a doc comment ending on the line directly above (Go: any comment
//! block; Rust: `///`, `/** */`; JavaScript, TypeScript and Java: `/** */`),
//! skipping lines of attributes, annotations and decorators (lines opening
//! with `#` in Rust, `@` elsewhere). A Rust `#[doc = …]` attribute documents
//! too.

use crate::Lang;
use crate::functions::Found;
use crate::lex::{Kind, Token};

/// Most attribute lines walked over above one declaration.
const MAX_ATTRIBUTE_LINES: usize = 64;

/// Longest header (tokens between the previous `;`, `{` or `}` and a `{`)
/// read to name an `impl`, `trait` or `class` block.
const MAX_HEADER: usize = 64;

/// Index of the first token on `line` or below.
fn first_on_line(tokens: &[Token], line: u32) -> usize {
    tokens.partition_point(|t| t.line < line)
}

/// Whether the declaration starting on `line` is documented.
pub fn documented(lang: Lang, source: &str, tokens: &[Token], line: u32) -> bool {
    let mut i = first_on_line(tokens, line);
    for _ in 0..MAX_ATTRIBUTE_LINES {
        if i == 0 || i > tokens.len() {
            return false;
        }
        let prev = tokens[i - 1];
        let here = tokens.get(i).map_or(line, |t| t.line);
        if let Kind::Comment { doc, .. } = prev.kind {
            let adjacent = prev.end_line + 1 >= here;
            return adjacent && (doc || lang == Lang::Go);
        }
        let j = first_on_line(tokens, prev.line);
        let first = tokens[j].text(source);
        let attribute = match lang {
            Lang::Rust => first == "#",
            Lang::Go => false,
            _ => first == "@",
        };
        if !attribute {
            return false;
        }
        if lang == Lang::Rust {
            let words: Vec<&str> = tokens[j..i.min(j + 4)]
                .iter()
                .map(|t| t.text(source))
                .collect();
            if words.starts_with(&["#", "[", "doc"]) {
                return true;
            }
        }
        i = j;
    }
    false
}

/// Qualifies method names and fills in anonymous ones.
pub fn qualify(lang: Lang, source: &str, tokens: &[Token], found: &mut [Found]) {
    let scopes = match lang {
        Lang::Rust | Lang::JavaScript | Lang::TypeScript => block_scopes(lang, source, tokens),
        _ => Vec::new(),
    };
    for f in found.iter_mut() {
        match lang {
            Lang::Go => {
                if let Some(receiver) = go_receiver(source, tokens, f.anchor)
                    && !f.name.is_empty()
                {
                    f.name = format!("{receiver}.{}", f.name);
                }
            }
            Lang::Java => f.name = f.name.replace("::", "."),
            Lang::Rust | Lang::JavaScript | Lang::TypeScript => {
                let scope = scopes.get(f.anchor).and_then(Option::as_deref);
                if let Some(scope) = scope
                    && !f.name.is_empty()
                    && f.name != "(anonymous)"
                    && !f.name.contains('.')
                {
                    let sep = if lang == Lang::Rust { "::" } else { "." };
                    f.name = format!("{scope}{sep}{}", f.name);
                }
            }
        }
        if lang == Lang::TypeScript && f.name.ends_with('?') {
            // lizard's TypeScript token `name?` of an optional method.
            f.name.pop();
        }
        if f.name.is_empty() {
            f.name = "(anonymous)".into();
        }
    }
}

fn next_code(tokens: &[Token], from: usize) -> Option<usize> {
    (from..tokens.len()).find(|&i| !tokens[i].is_comment())
}

/// The receiver type of a Go method whose `func` is at `anchor`.
fn go_receiver(source: &str, tokens: &[Token], anchor: usize) -> Option<String> {
    if tokens.get(anchor)?.text(source) != "func" {
        return None;
    }
    let open = next_code(tokens, anchor + 1)?;
    if tokens[open].text(source) != "(" {
        return None;
    }
    let mut depth = 0i32;
    let mut square = 0i32;
    let mut words = Vec::new();
    let mut close = None;
    for (i, tok) in tokens.iter().enumerate().skip(open).take(MAX_HEADER) {
        match tok.text(source) {
            "(" => depth += 1,
            ")" => {
                depth -= 1;
                if depth == 0 {
                    close = Some(i);
                    break;
                }
            }
            "[" => square += 1,
            "]" => square -= 1,
            text if tok.kind == Kind::Word && square == 0 => words.push(text),
            _ => {}
        }
    }
    let name = next_code(tokens, close? + 1)?;
    let after = next_code(tokens, name + 1)?;
    if tokens[name].kind != Kind::Word || !matches!(tokens[after].text(source), "(" | "[") {
        return None;
    }
    let ty = if words.len() >= 2 {
        words[1]
    } else {
        *words.first()?
    };
    Some(ty.to_string())
}

/// For every token, the name of the `impl`/`trait` (Rust) or `class`
/// (JavaScript, TypeScript) block it lies directly in, if any.
fn block_scopes(lang: Lang, source: &str, tokens: &[Token]) -> Vec<Option<String>> {
    let mut out = Vec::with_capacity(tokens.len());
    let mut stack: Vec<Option<String>> = Vec::new();
    let mut header_start = 0;
    for (i, tok) in tokens.iter().enumerate() {
        out.push(stack.last().cloned().flatten());
        if tok.is_comment() {
            continue;
        }
        match tok.text(source) {
            "{" => {
                let from = header_start.max(i.saturating_sub(MAX_HEADER));
                let header: Vec<&str> = tokens[from..i]
                    .iter()
                    .filter(|t| !t.is_comment())
                    .map(|t| t.text(source))
                    .collect();
                stack.push(scope_name(lang, &header));
                header_start = i + 1;
            }
            "}" => {
                stack.pop();
                header_start = i + 1;
            }
            ";" => header_start = i + 1,
            _ => {}
        }
    }
    out
}

fn is_ident(text: &str) -> bool {
    text.chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_' || c == '$')
}

/// The name of the block a header opens, if it is an `impl`, `trait` or
/// `class`.
fn scope_name(lang: Lang, header: &[&str]) -> Option<String> {
    if lang == Lang::Rust {
        if let Some(p) = header.iter().position(|&t| t == "trait") {
            return header
                .get(p + 1)
                .filter(|t| is_ident(t))
                .map(|t| t.to_string());
        }
        let p = header.iter().position(|&t| t == "impl")?;
        let mut i = p + 1;
        // Generic parameters of the impl.
        if header.get(i) == Some(&"<") {
            let mut depth = 0;
            while i < header.len() {
                match header[i] {
                    "<" => depth += 1,
                    ">" => depth -= 1,
                    _ => {}
                }
                i += 1;
                if depth == 0 {
                    break;
                }
            }
        }
        // `impl Trait for Type`: the type after `for`.
        let mut depth = 0;
        for (k, &t) in header.iter().enumerate().skip(i) {
            match t {
                "<" => depth += 1,
                ">" => depth -= 1,
                "for" if depth == 0 => {
                    i = k + 1;
                    break;
                }
                "where" if depth == 0 => break,
                _ => {}
            }
        }
        let mut last = None;
        while i < header.len() {
            let t = header[i];
            if matches!(t, "&" | "&&" | "mut" | "dyn" | "::") || t.starts_with('\'') {
                i += 1;
            } else if is_ident(t) {
                last = Some(t);
                if header.get(i + 1) == Some(&"::") {
                    i += 2;
                } else {
                    break;
                }
            } else {
                break;
            }
        }
        return last.map(str::to_string);
    }
    let p = header.iter().position(|&t| t == "class")?;
    if p > 0 && header[p - 1] == "." {
        return None;
    }
    header
        .get(p + 1)
        .filter(|t| is_ident(t) && !matches!(**t, "extends" | "implements"))
        .map(|t| t.trim_end_matches('?').to_string())
}

/// Lines of the class-like declarations of the file (types, structs,
/// traits, classes, interfaces), for the doc coverage.
pub fn class_lines(lang: Lang, source: &str, tokens: &[Token]) -> Vec<u32> {
    let code: Vec<&Token> = tokens.iter().filter(|t| !t.is_comment()).collect();
    let mut out = Vec::new();
    let mut depth = 0i32;
    for (k, tok) in code.iter().enumerate() {
        let text = tok.text(source);
        match text {
            "{" => depth += 1,
            "}" => depth -= 1,
            _ => {}
        }
        let keyword = match lang {
            Lang::Go => text == "type" && depth == 0,
            Lang::Rust => matches!(text, "struct" | "enum" | "trait"),
            Lang::Java => matches!(text, "class" | "interface" | "enum" | "record"),
            Lang::JavaScript | Lang::TypeScript => text == "class",
        };
        if !keyword || tok.kind != Kind::Word {
            continue;
        }
        let before = k.checked_sub(1).map(|p| code[p].text(source));
        if before == Some(".") || before == Some("::") {
            continue;
        }
        let next = code.get(k + 1).map(|t| (t.kind, t.text(source)));
        if let Some((Kind::Word, name)) = next
            && !matches!(name, "extends" | "implements")
        {
            out.push(tok.line);
        }
    }
    out
}
