//! The token stream between the lexer and the parser. On the way through it
//! tallies code and comment lines and bounds how deeply the file nests, so
//! that neither the parser's tree nor the recursive walk over it (nor the
//! recursive drop of it) can overflow the plugin's stack.
//!
//! The nesting bound is an over-estimate computed from tokens alone: every
//! open bracket is one level, and so is every operator since the last comma,
//! semicolon or assignment of the same bracket, since a chain like
//! `1 + 1 + ... + 1` nests one tree level per operator. Expressions inside
//! f-string replacement fields are estimated from their characters.

use rustpython_parser::Tok;
use rustpython_parser::lexer::LexResult;

use crate::lines::{LineIndex, LineTally};

/// Deepest indentation accepted, in blocks. CPython's tokenizer refuses
/// more than 100 levels too ("too many levels of indentation"), so no
/// working Python file is turned away.
pub const MAX_INDENT_DEPTH: u32 = 100;

/// Largest nesting estimate accepted for one statement. Each level costs
/// the parser's tree, the metrics walk and the drop of the tree a few stack
/// frames; 1 MiB of wasm stack holds this many with a wide margin, while
/// hand-written code stays far below it (a 200-term `+` chain is 200).
pub const MAX_NESTING: u32 = 1000;

/// Why the stream was cut short.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TooDeep {
    Indentation { line: u32 },
    Expression { line: u32 },
}

/// An iterator over lexer results that the parser consumes.
pub struct Screen<'a, I> {
    tokens: I,
    lines: &'a LineIndex,
    tally: LineTally,
    indent: u32,
    /// Operators since the last separator, per open bracket; the first entry
    /// is the statement outside any bracket.
    chains: Vec<u32>,
    chain_sum: u32,
    too_deep: Option<TooDeep>,
}

impl<'a, I: Iterator<Item = LexResult>> Screen<'a, I> {
    pub fn new(tokens: I, lines: &'a LineIndex) -> Self {
        Self {
            tokens,
            lines,
            tally: LineTally::new(lines),
            indent: 0,
            chains: vec![0],
            chain_sum: 0,
            too_deep: None,
        }
    }

    /// The line tally of every token that went through.
    pub fn tally(&self) -> &LineTally {
        &self.tally
    }

    /// Set when the stream was cut because the file nests too deeply.
    pub fn too_deep(&self) -> Option<TooDeep> {
        self.too_deep
    }

    /// Updates the nesting state with one token; the nesting estimate after it.
    fn nest(&mut self, tok: &Tok) -> u32 {
        match tok {
            Tok::Newline => {
                self.chains.clear();
                self.chains.push(0);
                self.chain_sum = 0;
            }
            Tok::Indent => self.indent += 1,
            Tok::Dedent => self.indent = self.indent.saturating_sub(1),
            Tok::Lpar | Tok::Lsqb | Tok::Lbrace => self.chains.push(0),
            Tok::Rpar | Tok::Rsqb | Tok::Rbrace => {
                if self.chains.len() > 1 {
                    let inner = self.chains.pop().unwrap_or(0);
                    self.chain_sum -= inner;
                }
                // `f(x)(y)` and `a[0][1]` nest one level per closed bracket.
                self.bump();
            }
            Tok::Comma
            | Tok::Semi
            | Tok::Equal
            | Tok::PlusEqual
            | Tok::MinusEqual
            | Tok::StarEqual
            | Tok::SlashEqual
            | Tok::DoubleSlashEqual
            | Tok::PercentEqual
            | Tok::AtEqual
            | Tok::AmperEqual
            | Tok::VbarEqual
            | Tok::CircumflexEqual
            | Tok::LeftShiftEqual
            | Tok::RightShiftEqual
            | Tok::DoubleStarEqual => {
                if let Some(top) = self.chains.last_mut() {
                    self.chain_sum -= *top;
                    *top = 0;
                }
            }
            Tok::Plus
            | Tok::Minus
            | Tok::Star
            | Tok::Slash
            | Tok::DoubleSlash
            | Tok::Percent
            | Tok::At
            | Tok::DoubleStar
            | Tok::Vbar
            | Tok::Amper
            | Tok::CircumFlex
            | Tok::Tilde
            | Tok::LeftShift
            | Tok::RightShift
            | Tok::Less
            | Tok::Greater
            | Tok::EqEqual
            | Tok::NotEqual
            | Tok::LessEqual
            | Tok::GreaterEqual
            | Tok::Dot
            | Tok::Not
            | Tok::And
            | Tok::Or
            | Tok::If
            | Tok::Lambda
            | Tok::Await
            | Tok::Yield
            | Tok::ColonEqual
            | Tok::In
            | Tok::Is
            | Tok::For => self.bump(),
            Tok::String { value, kind, .. } if kind.is_any_fstring() => {
                return self.estimate() + fstring_nesting(value);
            }
            _ => {}
        }
        self.estimate()
    }

    fn bump(&mut self) {
        if let Some(top) = self.chains.last_mut() {
            *top += 1;
            self.chain_sum += 1;
        }
    }

    fn estimate(&self) -> u32 {
        crate::lines::to_u32(self.chains.len()) + self.chain_sum
    }
}

impl<I: Iterator<Item = LexResult>> Iterator for Screen<'_, I> {
    type Item = LexResult;

    fn next(&mut self) -> Option<LexResult> {
        if self.too_deep.is_some() {
            return None;
        }
        let item = self.tokens.next()?;
        if let Ok((tok, range)) = &item {
            self.tally.record(self.lines, tok, *range);
            let estimate = self.nest(tok);
            let line = self.lines.line_of(u32::from(range.start()));
            if self.indent > MAX_INDENT_DEPTH {
                self.too_deep = Some(TooDeep::Indentation { line });
                return None;
            }
            if estimate > MAX_NESTING {
                self.too_deep = Some(TooDeep::Expression { line });
                return None;
            }
        }
        Some(item)
    }
}

/// Nesting estimate of the replacement fields of an f-string body: per
/// field, one level per brace, bracket or operator character in it.
fn fstring_nesting(body: &str) -> u32 {
    let mut depth = 0u32;
    let mut field = 0u32;
    let mut worst = 0u32;
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if depth == 0 && chars.peek() == Some(&'{') => {
                chars.next();
            }
            '{' => {
                depth += 1;
                field += 1;
            }
            '}' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    worst = worst.max(field);
                    field = 0;
                }
            }
            '+' | '-' | '*' | '/' | '%' | '@' | '&' | '|' | '^' | '~' | '<' | '>' | '.' | '('
            | '[' | '='
                if depth > 0 =>
            {
                field += 1;
            }
            _ => {}
        }
    }
    worst.max(field)
}

#[cfg(test)]
mod tests {
    use super::fstring_nesting;

    #[test]
    fn fstring_estimate_ignores_literal_text_and_escaped_braces() {
        assert_eq!(fstring_nesting("<a href='/x/y.html'>{{literal}}</a>"), 0);
        assert_eq!(fstring_nesting("total: {a + b.c} of {n}"), 3);
    }
}
