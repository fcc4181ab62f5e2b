//! Navigation over a token stream: calls, their callee names and their
//! arguments, and what kind of value an argument is. The rules of
//! `qlp/security` and `qlp/compliance` are written in these terms.

use super::lex::{Kind, Lang, Tok};

/// Most tokens a call's argument list is followed over; longer argument
/// lists are cut, which keeps every rule linear on malformed input.
pub const MAX_CALL_TOKENS: usize = 400;

/// Keywords that, right before a name, make `name(…)` a definition rather
/// than a call.
const DEFINITION_KEYWORDS: [&str; 4] = ["def", "function", "fn", "func"];

/// A tokenized file with the index of the call each token sits inside.
pub struct Code<'a> {
    pub toks: Vec<Tok<'a>>,
    /// For each token, the index of the innermost `(` enclosing it.
    pub enclosing: Vec<Option<usize>>,
    /// The `(` of every call, in order (definitions left out).
    call_opens: Vec<usize>,
}

impl<'a> Code<'a> {
    pub fn new(lang: Lang, toks: Vec<Tok<'a>>) -> Self {
        let mut enclosing = Vec::with_capacity(toks.len());
        let mut stack: Vec<usize> = Vec::new();
        let mut closes = vec![usize::MAX; toks.len()];
        for (i, t) in toks.iter().enumerate() {
            if t.is_punct(")")
                && let Some(open) = stack.pop()
            {
                closes[open] = i;
            }
            enclosing.push(stack.last().copied());
            if t.is_punct("(") {
                stack.push(i);
            }
        }
        let mut code = Code {
            toks,
            enclosing,
            call_opens: Vec::new(),
        };
        let toks = &code.toks;
        code.call_opens = (1..toks.len())
            .filter(|&i| {
                toks[i].is_punct("(")
                    && (toks[i - 1].kind == Kind::Ident
                        || (toks[i - 1].is_punct("!") && i >= 2 && toks[i - 2].kind == Kind::Ident))
            })
            .filter(|&i| {
                let (_, start) = code.callee(i);
                let defined = start > 0 && DEFINITION_KEYWORDS.contains(&toks[start - 1].text);
                // In JavaScript and Java, `name(…) {` declares a method.
                let after = toks.get(closes[i].wrapping_add(1));
                let method = matches!(lang, Lang::JavaScript | Lang::Java)
                    && after.is_some_and(|t| t.is_punct("{") || t.is_ident("throws"));
                !defined && !method
            })
            .collect();
        code
    }

    /// Whether the call opened at `open` belongs to a definition's
    /// parameter list (`def f(verify=False)`), found through
    /// [`Code::enclosing`].
    pub fn in_definition(&self, i: usize) -> bool {
        self.enclosing[i].is_some_and(|open| {
            let (_, start) = self.callee(open);
            start > 0 && DEFINITION_KEYWORDS.contains(&self.toks[start - 1].text)
        })
    }

    pub fn tok(&self, i: usize) -> Option<&Tok<'a>> {
        self.toks.get(i)
    }

    /// The token `back` places before `i`, if any.
    pub fn before(&self, i: usize, back: usize) -> Option<&Tok<'a>> {
        i.checked_sub(back).and_then(|j| self.toks.get(j))
    }

    /// Whether the token at `i` is the punctuation `p`.
    pub fn punct_at(&self, i: usize, p: &str) -> bool {
        self.tok(i).is_some_and(|t| t.is_punct(p))
    }

    /// Whether the token at `i` is the identifier `name`.
    pub fn ident_at(&self, i: usize, name: &str) -> bool {
        self.tok(i).is_some_and(|t| t.is_ident(name))
    }

    /// Indexes of every `(` that opens a call (an identifier, or a Rust
    /// macro `name!`, right before it), definitions left out.
    pub fn calls(&self) -> impl Iterator<Item = usize> + '_ {
        self.call_opens.iter().copied()
    }

    /// The callee of the call opened at `open`, qualified as written:
    /// `subprocess.run`, `Command::new`, `format` (for `format!`).
    /// Returns the name and the index of its first token.
    pub fn callee(&self, open: usize) -> (String, usize) {
        let mut j = open;
        if self.punct_at(j.wrapping_sub(1), "!") {
            j -= 1;
        }
        let mut parts: Vec<&str> = Vec::new();
        while let Some(t) = self.before(j, 1) {
            if t.kind != Kind::Ident {
                break;
            }
            parts.push(t.text);
            j -= 1;
            match self.before(j, 1) {
                Some(sep) if sep.is_punct(".") || sep.is_punct("::") => {
                    if self.before(j, 2).is_some_and(|t| t.kind == Kind::Ident) {
                        parts.push(sep.text);
                        j -= 1;
                        continue;
                    }
                    break;
                }
                _ => break,
            }
        }
        parts.reverse();
        (parts.concat(), j)
    }

    /// The last segment of the callee of the call opened at `open`.
    pub fn callee_name(&self, open: usize) -> &'a str {
        let mut j = open;
        if self.punct_at(j.wrapping_sub(1), "!") {
            j -= 1;
        }
        self.before(j, 1)
            .filter(|t| t.kind == Kind::Ident)
            .map_or("", |t| t.text)
    }

    /// Index of the `)` closing the `(` at `open` (or the last token
    /// looked at, for an unclosed call).
    pub fn close_of(&self, open: usize) -> usize {
        let mut depth = 0usize;
        let end = (open + MAX_CALL_TOKENS).min(self.toks.len());
        for i in open..end {
            let t = &self.toks[i];
            if t.kind != Kind::Punct {
                continue;
            }
            match t.text {
                "(" | "[" | "{" | "${" => depth += 1,
                ")" | "]" | "}" => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return i;
                    }
                }
                _ => {}
            }
        }
        end.saturating_sub(1)
    }

    /// The arguments of the call opened at `open`, as token index ranges,
    /// split at top-level commas.
    pub fn args(&self, open: usize) -> Vec<(usize, usize)> {
        let close = self.close_of(open);
        let mut args = Vec::new();
        let mut depth = 0usize;
        let mut start = open + 1;
        for i in open + 1..close {
            let t = &self.toks[i];
            if t.kind != Kind::Punct {
                continue;
            }
            match t.text {
                "(" | "[" | "{" => depth += 1,
                ")" | "]" | "}" => depth = depth.saturating_sub(1),
                "," if depth == 0 => {
                    if start < i {
                        args.push((start, i));
                    }
                    start = i + 1;
                }
                _ => {}
            }
        }
        if start < close {
            args.push((start, close));
        }
        args
    }

    /// The tokens of an argument range.
    pub fn slice(&self, range: (usize, usize)) -> &[Tok<'a>] {
        &self.toks[range.0..range.1.min(self.toks.len())]
    }

    /// The value of the keyword argument `name` (`name=value` in Python,
    /// `name: value` in an object literal), if one of `args` is one.
    pub fn kwarg(&self, args: &[(usize, usize)], name: &str) -> Option<(usize, usize)> {
        args.iter().find_map(|&(s, e)| {
            let first = self.tok(s)?;
            let sep = self.tok(s + 1)?;
            (first.is_ident(name) && (sep.is_punct("=") || sep.is_punct(":")) && s + 2 < e)
                .then_some((s + 2, e))
        })
    }

    /// Whether a token range is exactly the identifier `value`.
    pub fn is_word(&self, range: (usize, usize), value: &str) -> bool {
        let toks = self.slice(range);
        toks.len() == 1 && toks[0].is_ident(value)
    }

    /// Whether a token range names a single `name: value` pair anywhere in
    /// it (in an object literal or a struct literal).
    pub fn has_pair(&self, range: (usize, usize), name: &str, value: &str) -> bool {
        let toks = self.slice(range);
        toks.windows(3).any(|w| {
            w[0].is_ident(name)
                && (w[1].is_punct(":") || w[1].is_punct("="))
                && (w[2].is_ident(value) || (w[2].kind == Kind::Str && w[2].content == value))
        })
    }

    /// Whether the call opened at `open` is preceded by `new` (`new X(`).
    pub fn is_new(&self, open: usize) -> bool {
        let (_, start) = self.callee(open);
        self.before(start, 1).is_some_and(|t| t.is_ident("new"))
    }

    /// Whether any identifier of the file is `name`.
    pub fn mentions(&self, name: &str) -> bool {
        self.toks.iter().any(|t| t.is_ident(name))
    }

    /// Whether any string literal of the file is exactly `content`.
    pub fn has_string(&self, content: &str) -> bool {
        self.toks
            .iter()
            .any(|t| t.kind == Kind::Str && t.content == content)
    }
}

/// What an argument is, as far as injection is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    /// Nothing.
    Empty,
    /// String literals only (concatenated, or in a list), nothing
    /// interpolated: the value is fixed in the source.
    Literal,
    /// Anything else: a variable, a call, an interpolated or concatenated
    /// string.
    Dynamic,
}

/// Classifies an argument's tokens.
pub fn value_of(toks: &[Tok<'_>]) -> Value {
    if toks.is_empty() {
        return Value::Empty;
    }
    let mut strings = 0;
    for t in toks {
        match t.kind {
            Kind::Str if !t.interpolated => strings += 1,
            Kind::Punct
                if matches!(t.text, "+" | "[" | "]" | "(" | ")" | "," | "&" | "{" | "}") => {}
            _ => return Value::Dynamic,
        }
    }
    if strings == 0 {
        Value::Dynamic
    } else {
        Value::Literal
    }
}

/// Whether an argument's tokens build a string from values: an
/// interpolated literal, a literal concatenated with something that is not
/// a literal, Python `%` formatting or `.format(…)`.
pub fn is_built_string(toks: &[Tok<'_>]) -> bool {
    // The value starts with a string: a function or an arrow function that
    // merely contains strings is not one.
    if toks.first().is_none_or(|t| t.kind != Kind::Str) {
        return false;
    }
    let has_string = true;
    toks.iter().any(|t| t.kind == Kind::Str && t.interpolated)
        || (has_string
            && value_of(toks) == Value::Dynamic
            && toks.iter().any(|t| t.is_punct("+") || t.is_punct("%")))
        || toks
            .windows(2)
            .any(|w| w[0].is_punct(".") && w[1].is_ident("format"))
        || toks.windows(2).any(|w| {
            (w[0].is_ident("format") || w[0].is_ident("Sprintf"))
                && (w[1].is_punct("!") || w[1].is_punct("("))
        })
}
