//! The lexer shared by every language: splits a source into words,
//! numbers, strings, punctuation and comments, each with the lines it
//! spans. It knows each language's comments (nested block comments in Rust,
//! doc comments), strings (Go raw strings, JavaScript template literals with
//! `${}` nesting, Rust raw strings and char literals against lifetimes, Java
//! text blocks), JavaScript regex literals and JSX (tags and text are
//! literals, the code in their braces is code). Punctuation is grouped as
//! lizard groups it (`&&`, `||`, `=>`, `::`, but `?` alone), so that the
//! readers in [`crate::functions`] see the token stream lizard's readers see.
//!
//! The lexer never fails: an unterminated string or comment runs to the end
//! of the text.

use crate::Lang;

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An identifier or keyword (a Rust lifetime `'a` is one too).
    Word,
    Number,
    /// A string, char, template or regex literal.
    Str,
    Punct,
    /// A comment; `doc` when the language's doc syntax marks it
    /// (`///`, `//!`, `/** */`, `/*! */`).
    Comment {
        doc: bool,
        line_comment: bool,
    },
}

/// One token: its kind, byte range and first and last line (1-based).
#[derive(Debug, Clone, Copy)]
pub struct Token {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
    pub line: u32,
    pub end_line: u32,
}

impl Token {
    pub fn text<'a>(&self, source: &'a str) -> &'a str {
        source.get(self.start..self.end).unwrap_or("")
    }

    pub fn is_comment(&self) -> bool {
        matches!(self.kind, Kind::Comment { .. })
    }
}

/// Deepest `${}` / nested-comment nesting followed. Past it the lexer stops
/// tracking depth (the literal or comment then closes early), which bounds
/// the state kept for adversarial input.
pub const MAX_LEX_NESTING: usize = 256;

/// Punctuation lizard reads as one token, longest first.
const COMBINED: &[&str] = &[
    "<<=", ">>=", "===", "!==", "...", "||", "&&", "==", "!=", "<=", ">=", "->", "=>", "++", "--",
    "+=", "-=", "*=", "/=", "^=", "&=", "|=", ":=", "::", "**",
];

/// Splits `source` into tokens. With `jsx` (`.js`, `.jsx`, `.tsx` files) a
/// `<` where an expression starts opens a JSX element: its tags and text
/// become string tokens, the code of its `{…}` is lexed as code (without
/// the braces, as lizard's JSX reader drops them).
pub fn lex(source: &str, lang: Lang, jsx: bool) -> Vec<Token> {
    Lexer {
        src: source.as_bytes(),
        lang,
        jsx: jsx && lang.is_js(),
        modes: Vec::new(),
        pos: 0,
        line: 1,
        tokens: Vec::new(),
    }
    .run()
}

/// Where the lexer is inside JSX; no mode is plain code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Code inside `{…}` of an element, with its open braces.
    Code(u32),
    /// Inside `<name …` up to `>` or `/>`.
    Tag,
    /// Between an element's `>` and its closing tag.
    Children,
}

struct Lexer<'a> {
    src: &'a [u8],
    lang: Lang,
    jsx: bool,
    modes: Vec<Mode>,
    pos: usize,
    line: u32,
    tokens: Vec<Token>,
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

impl Lexer<'_> {
    fn peek(&self, off: usize) -> u8 {
        self.src.get(self.pos + off).copied().unwrap_or(0)
    }

    fn starts(&self, s: &str) -> bool {
        self.src[self.pos..].starts_with(s.as_bytes())
    }

    /// Moves to `to`, counting the line breaks passed.
    fn advance_to(&mut self, to: usize) {
        let to = to.min(self.src.len());
        self.line += self.src[self.pos..to]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u32;
        self.pos = to;
    }

    fn push(&mut self, kind: Kind, start: usize, start_line: u32) {
        self.tokens.push(Token {
            kind,
            start,
            end: self.pos,
            line: start_line,
            end_line: self.line,
        });
    }

    fn prev_significant(&self) -> Option<&Token> {
        self.tokens.iter().rev().find(|t| !t.is_comment())
    }

    fn run(mut self) -> Vec<Token> {
        while self.pos < self.src.len() {
            let b = self.src[self.pos];
            match self.modes.last().copied() {
                Some(Mode::Tag) => {
                    self.jsx_tag();
                    continue;
                }
                Some(Mode::Children) => {
                    self.jsx_children();
                    continue;
                }
                _ => {}
            }
            if b.is_ascii_whitespace() {
                if b == b'\n' {
                    self.line += 1;
                }
                self.pos += 1;
                continue;
            }
            if let Some(Mode::Code(braces)) = self.modes.last_mut() {
                if b == b'{' {
                    *braces += 1;
                } else if b == b'}' {
                    *braces -= 1;
                    if *braces == 0 {
                        // The brace that closes the code of an element.
                        self.modes.pop();
                        self.pos += 1;
                        continue;
                    }
                }
            }
            let start = self.pos;
            let line = self.line;
            if b == b'<' && self.jsx_starts() {
                self.pos += 1;
                self.modes.push(Mode::Tag);
                self.push(Kind::Str, start, line);
                continue;
            }
            let kind = self.one(b);
            if self.pos == start {
                // Every branch consumes; this keeps the loop finite regardless.
                self.advance_to(start + 1);
            }
            self.push(kind, start, line);
        }
        self.tokens
    }

    /// Whether a `<` here opens a JSX element: in a JSX file, where an
    /// expression starts, before a tag name or `>` (a fragment).
    fn jsx_starts(&self) -> bool {
        let next = self.peek(1);
        self.jsx
            && self.modes.len() < MAX_LEX_NESTING
            && (next.is_ascii_alphabetic() || next == b'>')
            && self.regex_allowed()
    }

    /// One piece of a JSX tag: a name, `=`, a string, `>` or `/>`, or the
    /// `{` that opens code.
    fn jsx_tag(&mut self) {
        while self.pos < self.src.len() && self.src[self.pos].is_ascii_whitespace() {
            self.advance_to(self.pos + 1);
        }
        if self.pos >= self.src.len() {
            return;
        }
        let start = self.pos;
        let line = self.line;
        match self.src[self.pos] {
            b'{' => {
                self.pos += 1;
                self.modes.push(Mode::Code(1));
                return;
            }
            b'>' => {
                self.pos += 1;
                self.modes.pop();
                self.modes.push(Mode::Children);
            }
            b'/' if self.peek(1) == b'>' => {
                self.pos += 2;
                self.modes.pop();
            }
            q @ (b'"' | b'\'') => {
                self.advance_to(self.pos + 1);
                let end = self.src[self.pos..]
                    .iter()
                    .position(|&b| b == q)
                    .map_or(self.src.len(), |n| self.pos + n + 1);
                self.advance_to(end);
            }
            _ => {
                self.pos += 1;
                while self.pos < self.src.len() {
                    let b = self.src[self.pos];
                    if b.is_ascii_whitespace() || matches!(b, b'>' | b'/' | b'{' | b'"' | b'\'') {
                        break;
                    }
                    self.pos += 1;
                }
            }
        }
        self.push(Kind::Str, start, line);
    }

    /// One piece of an element's children: text, a nested element, the
    /// `{` that opens code, or the closing tag.
    fn jsx_children(&mut self) {
        let start = self.pos;
        let line = self.line;
        if self.starts("</") {
            let end = self.src[self.pos..]
                .iter()
                .position(|&b| b == b'>')
                .map_or(self.src.len(), |n| self.pos + n + 1);
            self.advance_to(end);
            self.modes.pop();
            self.push(Kind::Str, start, line);
            return;
        }
        match self.src[self.pos] {
            b'<' if self.modes.len() < MAX_LEX_NESTING => {
                self.pos += 1;
                self.modes.push(Mode::Tag);
                self.push(Kind::Str, start, line);
            }
            b'{' if self.modes.len() < MAX_LEX_NESTING => {
                self.pos += 1;
                self.modes.push(Mode::Code(1));
            }
            _ => {
                // Text up to the next element or code; whitespace around it
                // is no token.
                let end = self.src[self.pos + 1..]
                    .iter()
                    .position(|&b| b == b'<' || b == b'{')
                    .map_or(self.src.len(), |n| self.pos + 1 + n);
                let text = &self.src[self.pos..end];
                let lead = text.iter().take_while(|b| b.is_ascii_whitespace()).count();
                let trail = text
                    .iter()
                    .rev()
                    .take_while(|b| b.is_ascii_whitespace())
                    .count();
                if lead == text.len() {
                    self.advance_to(end);
                    return;
                }
                self.advance_to(self.pos + lead);
                let (start, line) = (self.pos, self.line);
                self.advance_to(end - trail);
                self.push(Kind::Str, start, line);
                self.advance_to(end);
            }
        }
    }

    /// Reads one token starting at the current byte `b`.
    fn one(&mut self, b: u8) -> Kind {
        let lang = self.lang;
        if self.starts("//") {
            let doc = match lang {
                Lang::Rust => (self.starts("///") && !self.starts("////")) || self.starts("//!"),
                _ => false,
            };
            let end = self.src[self.pos..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(self.src.len(), |n| self.pos + n);
            // A trailing carriage return belongs to the line break.
            let end = if end > self.pos && self.src.get(end - 1) == Some(&b'\r') {
                end - 1
            } else {
                end
            };
            self.advance_to(end);
            return Kind::Comment {
                doc,
                line_comment: true,
            };
        }
        if self.starts("/*") {
            let doc = (self.starts("/**") && !self.starts("/**/"))
                || (lang == Lang::Rust && self.starts("/*!"));
            self.block_comment();
            return Kind::Comment {
                doc,
                line_comment: false,
            };
        }
        match b {
            b'"' => {
                if lang == Lang::Java && self.starts("\"\"\"") {
                    self.advance_to(self.pos + 3);
                    self.until_unescaped(b"\"\"\"", true);
                } else {
                    self.advance_to(self.pos + 1);
                    self.until_unescaped(b"\"", lang == Lang::Rust);
                }
                Kind::Str
            }
            b'\'' => self.quote(),
            b'`' if matches!(lang, Lang::Go) => {
                self.advance_to(self.pos + 1);
                let end = self.src[self.pos..]
                    .iter()
                    .position(|&b| b == b'`')
                    .map_or(self.src.len(), |n| self.pos + n + 1);
                self.advance_to(end);
                Kind::Str
            }
            b'`' if lang.is_js() => {
                self.advance_to(self.pos + 1);
                self.template();
                Kind::Str
            }
            b'/' if lang.is_js() && self.regex_allowed() => {
                if self.regex() {
                    Kind::Str
                } else {
                    self.punct()
                }
            }
            b'r' | b'b' if lang == Lang::Rust && self.rust_prefixed_string() => Kind::Str,
            b'0'..=b'9' => {
                self.number();
                Kind::Number
            }
            b'.' if self.peek(1).is_ascii_digit() => {
                self.number();
                Kind::Number
            }
            _ if is_word_byte(b) || (b == b'$' && lang != Lang::Rust && lang != Lang::Go) => {
                self.word();
                // lizard's TypeScript reader takes `name?` as one token, so
                // an optional member is no ternary.
                if lang == Lang::TypeScript && self.peek(0) == b'?' {
                    self.pos += 1;
                }
                Kind::Word
            }
            b'<' if lang == Lang::Java && self.java_wildcard() => Kind::Punct,
            _ => self.punct(),
        }
    }

    fn word(&mut self) {
        while self.pos < self.src.len() {
            let b = self.src[self.pos];
            let dollar = b == b'$' && !matches!(self.lang, Lang::Rust | Lang::Go);
            if is_word_byte(b) || dollar {
                self.pos += 1;
            } else if self.lang == Lang::Rust && b == b'#' && self.src[..self.pos].ends_with(b"r") {
                // A raw identifier `r#type`.
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    fn number(&mut self) {
        while self.pos < self.src.len() {
            let b = self.src[self.pos];
            if is_word_byte(b) || (b == b'.' && self.peek(1).is_ascii_digit()) {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    fn punct(&mut self) -> Kind {
        for combined in COMBINED {
            if self.starts(combined) {
                self.pos += combined.len();
                return Kind::Punct;
            }
        }
        // One character, whole (a stray non-ASCII byte is taken with its
        // continuation bytes).
        self.pos += 1;
        while self.pos < self.src.len() && (self.src[self.pos] & 0xC0) == 0x80 {
            self.pos += 1;
        }
        Kind::Punct
    }

    /// `<?>` and `<? extends T>` as one token, as lizard reads Java generics.
    fn java_wildcard(&mut self) -> bool {
        let rest = &self.src[self.pos + 1..];
        let mut i = 0;
        let skip_ws = |i: &mut usize| {
            while rest.get(*i).is_some_and(|b| b.is_ascii_whitespace()) {
                *i += 1;
            }
        };
        skip_ws(&mut i);
        if rest.get(i) != Some(&b'?') {
            return false;
        }
        i += 1;
        let after_q = i;
        skip_ws(&mut i);
        if rest[i.min(rest.len())..].starts_with(b"extends") {
            let mut j = i + 7;
            let ws_start = j;
            skip_ws(&mut j);
            let word_start = j;
            while rest.get(j).is_some_and(|&b| is_word_byte(b)) {
                j += 1;
            }
            if j > word_start && word_start > ws_start {
                i = j;
                skip_ws(&mut i);
            } else {
                i = after_q;
                skip_ws(&mut i);
            }
        }
        if rest.get(i) == Some(&b'>') {
            self.advance_to(self.pos + 1 + i + 1);
            true
        } else {
            false
        }
    }

    fn block_comment(&mut self) {
        self.advance_to(self.pos + 2);
        let nested = self.lang == Lang::Rust;
        let mut depth = 1usize;
        let mut i = self.pos;
        while i < self.src.len() {
            if self.src[i..].starts_with(b"*/") {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    break;
                }
            } else if nested && self.src[i..].starts_with(b"/*") && depth < MAX_LEX_NESTING {
                depth += 1;
                i += 2;
            } else {
                i += 1;
            }
        }
        self.advance_to(i);
    }

    /// Moves past the closing `close`, skipping backslash escapes; without
    /// `multiline` a line break ends the literal too.
    fn until_unescaped(&mut self, close: &[u8], multiline: bool) {
        let mut i = self.pos;
        while i < self.src.len() {
            if self.src[i] == b'\\' {
                i += 2;
            } else if self.src[i..].starts_with(close) {
                i += close.len();
                break;
            } else if !multiline && self.src[i] == b'\n' {
                break;
            } else {
                i += 1;
            }
        }
        self.advance_to(i);
    }

    /// A `'` literal: a string in JavaScript, a char in Go and Java, a char
    /// or a lifetime / label in Rust.
    fn quote(&mut self) -> Kind {
        if self.lang == Lang::Rust {
            let b1 = self.peek(1);
            if b1 != b'\\' && (is_word_byte(b1)) {
                // `'a'` is a char, `'a` or `'static` a lifetime.
                let mut j = self.pos + 1;
                // The first character, whole.
                j += 1;
                while j < self.src.len() && (self.src[j] & 0xC0) == 0x80 {
                    j += 1;
                }
                if self.src.get(j) != Some(&b'\'') {
                    self.pos += 1;
                    self.word();
                    return Kind::Word;
                }
            }
        }
        self.advance_to(self.pos + 1);
        self.until_unescaped(b"'", false);
        Kind::Str
    }

    /// `r"…"`, `r#"…"#`, `b"…"`, `br#"…"#`, `b'x'`: reads it and says so.
    fn rust_prefixed_string(&mut self) -> bool {
        let mut i = self.pos;
        if self.src[i] == b'b' {
            i += 1;
            if self.src.get(i) == Some(&b'\'') {
                self.pos = i;
                self.quote();
                return true;
            }
        }
        let raw = self.src.get(i) == Some(&b'r');
        if raw {
            i += 1;
        }
        let mut hashes = 0;
        while raw && self.src.get(i) == Some(&b'#') {
            hashes += 1;
            i += 1;
        }
        if self.src.get(i) != Some(&b'"') || i == self.pos {
            return false;
        }
        if !raw {
            self.advance_to(i + 1);
            self.until_unescaped(b"\"", true);
            return true;
        }
        let mut close = vec![b'"'];
        close.extend(std::iter::repeat_n(b'#', hashes));
        let body = i + 1;
        let end = self.src[body..]
            .windows(close.len())
            .position(|w| w == close.as_slice())
            .map_or(self.src.len(), |n| body + n + close.len());
        self.advance_to(end);
        true
    }

    /// The rest of a template literal after its opening backtick, with the
    /// code of `${}` substitutions (strings, comments, templates inside).
    fn template(&mut self) {
        // Stack of open contexts: `true` for a template, `false` for a brace
        // inside a substitution.
        let mut stack = vec![true];
        let mut i = self.pos;
        while i < self.src.len() && !stack.is_empty() {
            let b = self.src[i];
            let in_template = *stack.last().unwrap_or(&true);
            if in_template {
                match b {
                    b'\\' => i += 2,
                    b'`' => {
                        stack.pop();
                        i += 1;
                    }
                    b'$' if self.src.get(i + 1) == Some(&b'{') && stack.len() < MAX_LEX_NESTING => {
                        stack.push(false);
                        i += 2;
                    }
                    _ => i += 1,
                }
            } else {
                match b {
                    b'{' if stack.len() < MAX_LEX_NESTING => {
                        stack.push(false);
                        i += 1;
                    }
                    b'}' => {
                        stack.pop();
                        i += 1;
                    }
                    b'`' if stack.len() < MAX_LEX_NESTING => {
                        stack.push(true);
                        i += 1;
                    }
                    b'"' | b'\'' => {
                        i += 1;
                        while i < self.src.len() && self.src[i] != b && self.src[i] != b'\n' {
                            i += if self.src[i] == b'\\' { 2 } else { 1 };
                        }
                        i += 1;
                    }
                    _ => i += 1,
                }
            }
        }
        self.advance_to(i);
    }

    /// Whether a `/` here may open a regex literal: not after a value.
    fn regex_allowed(&self) -> bool {
        if self.starts("/=")
            && self
                .prev_significant()
                .is_some_and(|t| t.kind != Kind::Punct)
        {
            return false;
        }
        match self.prev_significant() {
            None => true,
            Some(t) => match t.kind {
                Kind::Word => {
                    let text = std::str::from_utf8(&self.src[t.start..t.end]).unwrap_or("");
                    matches!(
                        text,
                        "return"
                            | "typeof"
                            | "case"
                            | "do"
                            | "else"
                            | "in"
                            | "of"
                            | "new"
                            | "delete"
                            | "void"
                            | "throw"
                            | "yield"
                            | "await"
                    )
                }
                Kind::Number | Kind::Str => false,
                Kind::Punct => {
                    let text = &self.src[t.start..t.end];
                    !matches!(text, b")" | b"]" | b"}" | b"++" | b"--")
                }
                Kind::Comment { .. } => true,
            },
        }
    }

    /// A regex literal on one line: reads it and says so.
    fn regex(&mut self) -> bool {
        let mut i = self.pos + 1;
        let mut class = false;
        while i < self.src.len() {
            match self.src[i] {
                b'\\' => i += 2,
                b'\n' => return false,
                b'[' => {
                    class = true;
                    i += 1;
                }
                b']' => {
                    class = false;
                    i += 1;
                }
                b'/' if !class => {
                    i += 1;
                    while i < self.src.len() && is_word_byte(self.src[i]) {
                        i += 1;
                    }
                    self.advance_to(i);
                    return true;
                }
                _ => i += 1,
            }
        }
        false
    }
}
