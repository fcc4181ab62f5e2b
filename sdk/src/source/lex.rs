//! A small tokenizer for the languages the source validators read
//! (`qlp/security`, `qlp/compliance`): Python, JavaScript/TypeScript, Go,
//! Rust and Java. It is not a parser: it splits a file into identifiers,
//! numbers, string literals and punctuation, drops comments, and remembers
//! the 1-based line each token starts on. That is enough for the rules to
//! match calls and their arguments without being fooled by commented-out
//! code or by code-like text inside strings and docstrings.
//!
//! String literals keep their content and whether they interpolate values
//! (a Python f-string with `{…}`, a JavaScript template with `${…}`).
//! JavaScript regular-expression literals are recognised from the token
//! before them, so a quote inside `/'/g` does not open a string.

/// A language the tokenizer knows, chosen by file extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Python,
    JavaScript,
    Go,
    Rust,
    Java,
}

impl Lang {
    /// The language of a path, by extension; `None` for anything else.
    pub fn of_path(path: &str) -> Option<Lang> {
        let name = path.rsplit('/').next().unwrap_or(path);
        let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
        match ext.as_str() {
            "py" | "pyw" => Some(Lang::Python),
            "js" | "mjs" | "cjs" | "jsx" | "ts" | "mts" | "cts" | "tsx" => Some(Lang::JavaScript),
            "go" => Some(Lang::Go),
            "rs" => Some(Lang::Rust),
            "java" => Some(Lang::Java),
            _ => None,
        }
    }
}

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Ident,
    Num,
    Str,
    Punct,
}

/// One token. For a string literal `text` is the whole literal (prefix and
/// quotes included) and `content` what is between the quotes.
#[derive(Clone, Copy, Debug)]
pub struct Tok<'a> {
    pub kind: Kind,
    pub text: &'a str,
    pub content: &'a str,
    /// 1-based line the token starts on.
    pub line: u32,
    /// A string literal that interpolates values (`f"{x}"`, `` `${x}` ``).
    pub interpolated: bool,
}

impl Tok<'_> {
    /// Whether this is the identifier `name`.
    pub fn is_ident(&self, name: &str) -> bool {
        self.kind == Kind::Ident && self.text == name
    }

    /// Whether this is the punctuation `p`.
    pub fn is_punct(&self, p: &str) -> bool {
        self.kind == Kind::Punct && self.text == p
    }
}

/// Operators made of several characters, longest first, so that `==` is
/// never read as an assignment and `::` never as two type annotations.
const MULTI_PUNCT: [&str; 16] = [
    "===", "!==", "==", "!=", "<=", ">=", "=>", ":=", "::", "->", "+=", "-=", "&&", "||", "**",
    "${",
];

/// Punctuation after which a `/` in JavaScript starts a regular expression
/// rather than a division.
const REGEX_PRECEDERS: &[&str] = &[
    "(", ",", "=", ":", "[", "!", "&", "|", "?", "{", "}", ";", "&&", "||", "==", "===", "!=",
    "!==", "=>", "+", "-", "*", "%", "<", ">", "~", "^",
];

/// Keywords after which a `/` in JavaScript starts a regular expression.
const REGEX_KEYWORDS: &[&str] = &["return", "typeof", "case", "in", "of", "yield", "await"];

/// Splits `text` into tokens, dropping comments.
pub fn tokenize(lang: Lang, text: &str) -> Vec<Tok<'_>> {
    let mut lexer = Lexer {
        lang,
        text,
        bytes: text.as_bytes(),
        at: 0,
        line: 1,
        tokens: Vec::new(),
    };
    lexer.run();
    lexer.tokens
}

struct Lexer<'a> {
    lang: Lang,
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
    line: u32,
    tokens: Vec<Tok<'a>>,
}

impl<'a> Lexer<'a> {
    fn peek(&self, offset: usize) -> u8 {
        self.bytes.get(self.at + offset).copied().unwrap_or(0)
    }

    fn starts_with(&self, s: &str) -> bool {
        self.bytes[self.at..].starts_with(s.as_bytes())
    }

    /// Moves to `to`, counting the newlines passed.
    fn advance_to(&mut self, to: usize) {
        let to = to.min(self.bytes.len());
        self.line += self.bytes[self.at..to]
            .iter()
            .filter(|b| **b == b'\n')
            .count() as u32;
        self.at = to;
    }

    fn push(&mut self, kind: Kind, start: usize, end: usize, line: u32) {
        self.tokens.push(Tok {
            kind,
            text: &self.text[start..end],
            content: "",
            line,
            interpolated: false,
        });
    }

    fn run(&mut self) {
        while self.at < self.bytes.len() {
            let b = self.bytes[self.at];
            if b == b'\n' {
                self.line += 1;
                self.at += 1;
            } else if b.is_ascii_whitespace() {
                self.at += 1;
            } else if self.comment() || self.string() {
                // Consumed by the call.
            } else if b.is_ascii_alphabetic() || b == b'_' || b == b'$' || b >= 0x80 {
                let end = self.at
                    + self.bytes[self.at..]
                        .iter()
                        .take_while(|c| {
                            c.is_ascii_alphanumeric() || **c == b'_' || **c == b'$' || **c >= 0x80
                        })
                        .count();
                self.push(Kind::Ident, self.at, end, self.line);
                self.at = end;
            } else if b.is_ascii_digit() {
                let end = self.at
                    + self.bytes[self.at..]
                        .iter()
                        .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_' || **c == b'.')
                        .count();
                self.push(Kind::Num, self.at, end, self.line);
                self.at = end;
            } else {
                let len = MULTI_PUNCT
                    .iter()
                    .find(|p| self.starts_with(p))
                    .map_or(1, |p| p.len());
                // A lone non-ASCII byte cannot occur here (handled as part of
                // identifiers), so `len` always ends on a char boundary.
                self.push(Kind::Punct, self.at, self.at + len, self.line);
                self.at += len;
            }
        }
    }

    /// Skips a comment at the cursor, if there is one.
    fn comment(&mut self) -> bool {
        let hash = self.lang == Lang::Python;
        if (hash && self.peek(0) == b'#') || (!hash && self.starts_with("//")) {
            let end = self.bytes[self.at..]
                .iter()
                .position(|c| *c == b'\n')
                .map_or(self.bytes.len(), |p| self.at + p);
            self.at = end;
            return true;
        }
        if !hash && self.starts_with("/*") {
            let end = self.text[self.at + 2..]
                .find("*/")
                .map_or(self.bytes.len(), |p| self.at + 2 + p + 2);
            self.advance_to(end);
            return true;
        }
        false
    }

    /// Reads a string (or JavaScript regular-expression) literal at the
    /// cursor, if there is one.
    fn string(&mut self) -> bool {
        match self.lang {
            Lang::Python => self.python_string(),
            Lang::JavaScript => self.js_string(),
            Lang::Go => self.go_string(),
            Lang::Rust => self.rust_string(),
            Lang::Java => self.java_string(),
        }
    }

    /// Pushes a string token from `start` (prefix included) whose content is
    /// `content_start..content_end`, ending at `end`.
    fn push_string(
        &mut self,
        start: usize,
        content: (usize, usize),
        end: usize,
        interpolated: bool,
    ) {
        let line = self.line;
        self.tokens.push(Tok {
            kind: Kind::Str,
            text: &self.text[start..end],
            content: &self.text[content.0..content.1],
            line,
            interpolated,
        });
        self.advance_to(end);
    }

    /// The end of a quoted body starting at `from` and closed by `quote`;
    /// backslash escapes when `escapes`; stops at a newline unless
    /// `multiline`. Returns (content end, literal end).
    fn scan_quoted(
        &self,
        from: usize,
        quote: &str,
        escapes: bool,
        multiline: bool,
    ) -> (usize, usize) {
        let mut i = from;
        let q = quote.as_bytes();
        while i < self.bytes.len() {
            let c = self.bytes[i];
            if escapes && c == b'\\' {
                i += 2;
                continue;
            }
            if c == b'\n' && !multiline {
                return (i, i);
            }
            if self.bytes[i..].starts_with(q) {
                return (i, i + q.len());
            }
            i += 1;
        }
        (self.bytes.len(), self.bytes.len())
    }

    fn python_string(&mut self) -> bool {
        // Up to two prefix letters among r, b, f, u (any case).
        let prefix = self.bytes[self.at..]
            .iter()
            .take(3)
            .take_while(|c| matches!(c.to_ascii_lowercase(), b'r' | b'b' | b'f' | b'u'))
            .count();
        if prefix > 2 {
            return false;
        }
        let quote_at = self.at + prefix;
        let q = self.bytes.get(quote_at).copied().unwrap_or(0);
        if q != b'"' && q != b'\'' {
            return false;
        }
        let letters = self.text[self.at..quote_at].to_ascii_lowercase();
        let raw = letters.contains('r');
        let fstring = letters.contains('f');
        let triple = self.bytes[quote_at..].starts_with(&[q, q, q]);
        let quote = if triple {
            if q == b'"' { "\"\"\"" } else { "'''" }
        } else if q == b'"' {
            "\""
        } else {
            "'"
        };
        let from = quote_at + quote.len();
        // Raw strings still cannot end on an escaped quote.
        let (content_end, end) = self.scan_quoted(from, quote, true, triple);
        let content = &self.text[from..content_end];
        let interpolated = fstring && has_placeholder(content);
        let _ = raw;
        self.push_string(self.at, (from, content_end), end, interpolated);
        true
    }

    fn js_string(&mut self) -> bool {
        let q = self.peek(0);
        if q == b'"' || q == b'\'' {
            let (ce, end) =
                self.scan_quoted(self.at + 1, if q == b'"' { "\"" } else { "'" }, true, false);
            self.push_string(self.at, (self.at + 1, ce), end, false);
            return true;
        }
        if q == b'`' {
            let (ce, end) = self.scan_template(self.at + 1);
            let interpolated = self.text[self.at + 1..ce].contains("${");
            self.push_string(self.at, (self.at + 1, ce), end, interpolated);
            return true;
        }
        if q == b'/' && self.regex_allowed() {
            let mut i = self.at + 1;
            let mut in_class = false;
            while i < self.bytes.len() {
                match self.bytes[i] {
                    b'\\' => i += 1,
                    b'[' => in_class = true,
                    b']' => in_class = false,
                    b'/' if !in_class => break,
                    b'\n' => return false,
                    _ => {}
                }
                i += 1;
            }
            let end = (i + 1).min(self.bytes.len());
            let end = end
                + self.bytes[end..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphabetic())
                    .count();
            // A regular expression is kept as a (non-interpolated) string so
            // that rules never read its body as code.
            self.push_string(self.at, (self.at + 1, i.min(self.bytes.len())), end, false);
            return true;
        }
        false
    }

    /// The end of a JavaScript template literal body starting at `from`:
    /// `${…}` expressions are skipped with brace counting so that a nested
    /// backtick string does not close the outer one.
    fn scan_template(&self, from: usize) -> (usize, usize) {
        let mut i = from;
        let mut depth = 0usize;
        while i < self.bytes.len() {
            let c = self.bytes[i];
            if c == b'\\' {
                i += 2;
                continue;
            }
            if depth == 0 {
                if c == b'`' {
                    return (i, i + 1);
                }
                if c == b'$' && self.bytes.get(i + 1) == Some(&b'{') {
                    depth = 1;
                    i += 2;
                    continue;
                }
            } else if c == b'{' {
                depth += 1;
            } else if c == b'}' {
                depth -= 1;
            } else if c == b'`' || c == b'"' || c == b'\'' {
                let quote = [c];
                let quote = std::str::from_utf8(&quote).unwrap_or("`");
                let (_, end) = self.scan_quoted(i + 1, quote, true, c == b'`');
                i = end;
                continue;
            }
            i += 1;
        }
        (self.bytes.len(), self.bytes.len())
    }

    /// Whether a `/` at the cursor starts a regular expression, judged from
    /// the token before it.
    fn regex_allowed(&self) -> bool {
        match self.tokens.last() {
            None => true,
            Some(t) if t.kind == Kind::Punct => REGEX_PRECEDERS.contains(&t.text),
            Some(t) if t.kind == Kind::Ident => REGEX_KEYWORDS.contains(&t.text),
            Some(_) => false,
        }
    }

    fn go_string(&mut self) -> bool {
        match self.peek(0) {
            b'"' => {
                let (ce, end) = self.scan_quoted(self.at + 1, "\"", true, false);
                self.push_string(self.at, (self.at + 1, ce), end, false);
                true
            }
            b'`' => {
                let (ce, end) = self.scan_quoted(self.at + 1, "`", false, true);
                self.push_string(self.at, (self.at + 1, ce), end, false);
                true
            }
            b'\'' => {
                let (ce, end) = self.scan_quoted(self.at + 1, "'", true, false);
                self.push_string(self.at, (self.at + 1, ce), end, false);
                true
            }
            _ => false,
        }
    }

    fn rust_string(&mut self) -> bool {
        let mut i = self.at;
        if self.peek(0) == b'b' {
            i += 1;
        }
        if self.bytes.get(i) == Some(&b'r') {
            let hashes = self.bytes[i + 1..]
                .iter()
                .take_while(|c| **c == b'#')
                .count();
            if self.bytes.get(i + 1 + hashes) == Some(&b'"') {
                let from = i + 2 + hashes;
                let close = format!("\"{}", "#".repeat(hashes));
                let (ce, end) = self.scan_quoted(from, &close, false, true);
                self.push_string(self.at, (from, ce), end, false);
                return true;
            }
            return false;
        }
        match self.bytes.get(i) {
            Some(b'"') => {
                let (ce, end) = self.scan_quoted(i + 1, "\"", true, true);
                self.push_string(self.at, (i + 1, ce), end, false);
                true
            }
            Some(b'\'') => {
                // A char literal (`'a'`, `'\n'`, `'\u{1F600}'`) or a lifetime
                // (`'a`), which is left to the identifier branch.
                let rest = &self.bytes[i + 1..];
                let end = if rest.first() == Some(&b'\\') {
                    rest.iter()
                        .skip(2)
                        .position(|c| *c == b'\'')
                        .map(|p| i + 1 + 2 + p + 1)
                } else {
                    let ch = self.text[i + 1..].chars().next().map_or(1, char::len_utf8);
                    (rest.get(ch) == Some(&b'\'')).then_some(i + 1 + ch + 1)
                };
                match end {
                    Some(end) if end - i <= 12 => {
                        self.push_string(self.at, (i + 1, end - 1), end, false);
                        true
                    }
                    _ => {
                        // A lifetime: the quote is punctuation.
                        self.push(Kind::Punct, i, i + 1, self.line);
                        self.at = i + 1;
                        true
                    }
                }
            }
            _ => false,
        }
    }

    fn java_string(&mut self) -> bool {
        if self.starts_with("\"\"\"") {
            let (ce, end) = self.scan_quoted(self.at + 3, "\"\"\"", true, true);
            self.push_string(self.at, (self.at + 3, ce), end, false);
            return true;
        }
        match self.peek(0) {
            b'"' => {
                let (ce, end) = self.scan_quoted(self.at + 1, "\"", true, false);
                self.push_string(self.at, (self.at + 1, ce), end, false);
                true
            }
            b'\'' => {
                let (ce, end) = self.scan_quoted(self.at + 1, "'", true, false);
                self.push_string(self.at, (self.at + 1, ce), end, false);
                true
            }
            _ => false,
        }
    }
}

/// Whether a Python f-string body holds a `{…}` replacement field (`{{` is a
/// literal brace).
fn has_placeholder(content: &str) -> bool {
    let bytes = content.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'{' {
            if bytes.get(i + 1) == Some(&b'{') {
                i += 2;
                continue;
            }
            return true;
        }
        i += 1;
    }
    false
}
