//! Finding functions and their cyclomatic complexity, the way lizard does.
//!
//! Lizard reads a file as a stream of tokens without comments and runs a
//! small state machine per language over it; a function starts where the
//! machine says (`push_new_function`), ends where it says
//! (`end_of_function`), and every token of lizard's condition set seen in
//! between adds one to the complexity of the function being read (nested
//! functions are separate functions). This module holds that shared
//! bookkeeping ([`Ctx`], a port of lizard's `FileInfoBuilder`) and the
//! condition sets; the state machines are ported in [`golike`] (Go, Rust),
//! [`js`] (JavaScript, TypeScript) and [`java`].
//!
//! Condition tokens, as lizard 1.17.13 counts them:
//!
//! | language | tokens adding one |
//! |---|---|
//! | all | `if` `for` `while` `case` `catch` `&&` `\|\|` `?` |
//! | Rust | also `match` and `where` (one per `match`, not per arm; the `?` operator counts) |
//!
//! `else if` counts once (its `if`); `default`, `else`, Go `select` and
//! `switch` add nothing; every Go `case` (of `switch` and `select`) adds
//! one. In TypeScript `name?` is one token, so an optional member is no
//! ternary; `?.` and `??` count once per `?` elsewhere, as in lizard.

mod golike;
mod java;
mod js;

use crate::Lang;
use crate::lex::{Kind, Token};

/// One token as the readers see it.
#[derive(Debug, Clone, Copy)]
pub struct St<'a> {
    pub text: &'a str,
    /// The line lizard attributes the token to: its last line.
    pub line: u32,
    /// First token of its line (or spanning a line break).
    pub newline: bool,
    /// Index of the token in the lexer's list.
    pub index: usize,
    /// A string, char, template, regex or JSX literal.
    pub literal: bool,
}

/// A function found by a reader.
#[derive(Debug, Clone)]
pub struct Found {
    pub name: String,
    pub line: u32,
    pub ccn: u32,
    /// Index in the lexer's list of the token that opened the function.
    pub anchor: usize,
}

/// Deepest nesting of reader states (open braces and parentheses) kept.
/// Past it a reader stops descending and reads on at the same level, so a
/// file of ten thousand `{` costs no more memory than a sane one.
pub const MAX_READER_DEPTH: usize = 512;

enum Nest {
    Bare,
    Namespace(String),
    Function(usize),
}

/// Lizard's `FileInfoBuilder`: the function being read, the functions it
/// interrupts and the finished ones.
pub struct Ctx {
    /// Every function ever opened; index 0 is the file's global scope.
    arena: Vec<Found>,
    current: usize,
    stacked: Vec<usize>,
    done: Vec<usize>,
    nesting: Vec<Nest>,
    pending: Option<usize>,
    /// Whether `current` is a candidate not yet confirmed as a function.
    candidate: bool,
    line: u32,
    newline: bool,
    index: usize,
}

impl Ctx {
    fn new() -> Self {
        Self {
            arena: vec![Found {
                name: "*global*".into(),
                line: 0,
                ccn: 1,
                anchor: 0,
            }],
            current: 0,
            stacked: Vec::new(),
            done: Vec::new(),
            nesting: Vec::new(),
            pending: None,
            candidate: false,
            line: 0,
            newline: true,
            index: 0,
        }
    }

    fn is_global(&self, f: usize) -> bool {
        f == 0
    }

    fn with_namespace(&self, name: &str) -> String {
        let mut out = String::new();
        for nest in &self.nesting {
            match nest {
                Nest::Bare => {}
                Nest::Namespace(ns) if !ns.is_empty() => {
                    out.push_str(ns);
                    out.push_str("::");
                }
                Nest::Namespace(_) => {}
                Nest::Function(f) => {
                    out.push_str(&self.arena[*f].name);
                    out.push('.');
                }
            }
        }
        out.push_str(name);
        out
    }

    fn try_new_function(&mut self, name: &str) {
        let found = Found {
            name: self.with_namespace(name),
            line: self.line,
            ccn: 1,
            anchor: self.index,
        };
        // An unconfirmed candidate is referenced from nowhere: the next
        // candidate takes its place, so Java's candidate-per-identifier
        // costs one slot, not one per identifier.
        if self.candidate && self.current == self.arena.len() - 1 {
            self.arena[self.current] = found;
        } else {
            self.arena.push(found);
            self.current = self.arena.len() - 1;
        }
        self.candidate = true;
    }

    fn confirm_new_function(&mut self) {
        self.candidate = false;
        self.pending = Some(self.current);
        self.arena[self.current].ccn = 1;
    }

    fn push_new_function(&mut self, name: &str) {
        self.stacked.push(self.current);
        self.try_new_function(name);
        self.confirm_new_function();
    }

    /// Takes back the function just pushed: it was no function after all.
    fn forget_function(&mut self) {
        self.candidate = false;
        self.current = self.stacked.pop().unwrap_or(0);
    }

    fn add_condition(&mut self) {
        let f = &mut self.arena[self.current];
        f.ccn = f.ccn.saturating_add(1);
    }

    fn add_to_function_name(&mut self, text: &str) {
        if self.arena[self.current].name.len() < 512 {
            self.arena[self.current].name.push_str(text);
        }
    }

    fn end_of_function(&mut self) {
        if !self.is_global(self.current) {
            self.done.push(self.current);
        }
        self.candidate = false;
        self.current = self.stacked.pop().unwrap_or(0);
    }

    fn add_bare_nesting(&mut self) {
        let nest = match self.pending.take() {
            Some(f) => Nest::Function(f),
            None => Nest::Bare,
        };
        self.nesting.push(nest);
    }

    fn add_namespace(&mut self, name: String) {
        self.pending = None;
        self.nesting.push(Nest::Namespace(name));
    }

    fn pop_nesting(&mut self) {
        self.pending = None;
        if let Some(Nest::Function(_)) = self.nesting.pop() {
            self.end_of_function();
            self.current = self
                .nesting
                .iter()
                .rev()
                .find_map(|n| match n {
                    Nest::Function(f) => Some(*f),
                    _ => None,
                })
                .unwrap_or(0);
        }
    }
}

/// Whether `text` is one of the language's condition tokens.
fn is_condition(lang: Lang, text: &str) -> bool {
    match text {
        "if" | "for" | "while" | "&&" | "||" | "?" | "catch" | "case" => true,
        "match" | "where" => lang == Lang::Rust,
        _ => false,
    }
}

/// The tokens lizard's readers see: no comments, with the line and
/// first-on-line flag of each.
pub fn stream<'a>(source: &'a str, tokens: &[Token]) -> Vec<St<'a>> {
    let mut out = Vec::with_capacity(tokens.len());
    let mut last_line = 0;
    for (index, tok) in tokens.iter().enumerate() {
        if tok.is_comment() {
            continue;
        }
        out.push(St {
            text: tok.text(source),
            line: tok.end_line,
            newline: tok.line != last_line || tok.end_line != tok.line,
            index,
            literal: tok.kind == Kind::Str,
        });
        last_line = tok.end_line;
    }
    out
}

/// Every function of the file, in the order lizard finishes them.
pub fn find(lang: Lang, source: &str, tokens: &[Token]) -> Vec<Found> {
    let stream = stream(source, tokens);
    let mut ctx = Ctx::new();
    match lang {
        Lang::Go | Lang::Rust => golike::read(lang, &stream, &mut ctx),
        Lang::JavaScript | Lang::TypeScript => js::read(lang, &stream, &mut ctx),
        Lang::Java => java::read(&stream, &mut ctx),
    }
    let mut found: Vec<Found> = ctx.done.iter().map(|&f| ctx.arena[f].clone()).collect();
    found.sort_by_key(|f| (f.line, f.anchor));
    found.dedup_by_key(|f| f.anchor);
    found
}

/// Feeds each token to the context (line, condition) and then to `reader`.
fn drive<'a>(
    lang: Lang,
    stream: &[St<'a>],
    ctx: &mut Ctx,
    mut reader: impl FnMut(&mut Ctx, St<'a>),
) {
    for &tok in stream {
        ctx.line = tok.line;
        ctx.newline = tok.newline;
        ctx.index = tok.index;
        if !tok.literal && is_condition(lang, tok.text) {
            ctx.add_condition();
        }
        reader(ctx, tok);
    }
}

/// Whether a token starts like an identifier (lizard's `token[0].isalpha()`
/// plus `_`).
fn is_identifier_start(text: &str) -> bool {
    text.chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
}
