//! The tokenizer behind structural patterns: it splits source text (or a
//! rule's `pattern`) into identifiers, numbers, string literals,
//! punctuation and brackets, and drops comments and whitespace, with each
//! language's quoting — Python prefixes and triple quotes, JavaScript and
//! TypeScript template strings (with nested `${…}`), Go raw strings and
//! runes, Rust raw strings (`r#"…"#`), byte strings, chars and lifetimes,
//! Java text blocks. `generic` has no comments and double-quoted
//! strings on one line only.
//!
//! Source text never fails to tokenise: an unterminated string or comment
//! ends at the end of its line (or of the file, for the multi-line kinds).
//! A pattern must tokenise cleanly ([`Mode::Pattern`]); there `...` is an
//! ellipsis and `$NAME` (uppercase) a metavariable. JavaScript regular
//! expression literals are not recognised: their characters are read as
//! punctuation, so a quote inside one opens a string that ends with its
//! line.

use std::fmt;

use crate::lang::Language;

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Ident,
    Number,
    /// A whole string literal, prefix and quotes included.
    Str,
    Punct,
    /// `(`, `[` or `{`.
    Open,
    /// `)`, `]` or `}`.
    Close,
    /// `$NAME` in a pattern.
    Metavar,
    /// `...` in a pattern.
    Ellipsis,
}

/// One token: its kind, its byte range in the text, and whether a line
/// break separates it from the token before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
    pub newline_before: bool,
}

impl Token {
    /// The token's text in `src`.
    pub fn text<'a>(&self, src: &'a str) -> &'a str {
        &src[self.start..self.end]
    }
}

/// Whether the text being read is a file or a rule's pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Source,
    Pattern,
}

/// Why a pattern does not tokenise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenError {
    pub line: u32,
    pub column: u32,
    pub reason: &'static str,
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {} column {}: {}",
            self.line, self.column, self.reason
        )
    }
}

/// Punctuation read as one token, longest first.
const MULTI_PUNCT: [&str; 33] = [
    "...", "===", "!==", "**=", "<<=", ">>=", "==", "!=", "<=", ">=", "=>", "->", "::", ":=", "&&",
    "||", "**", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<", ">>", "++", "--", "?.", "??",
    "<-", "//",
];

/// Tokenises `src` as `lang`. In [`Mode::Source`] this never fails.
pub fn tokenize(src: &str, lang: Language, mode: Mode) -> Result<Vec<Token>, TokenError> {
    let mut lexer = Lexer {
        src,
        bytes: src.as_bytes(),
        pos: 0,
        lang,
        mode,
        tokens: Vec::new(),
        newline: false,
        error: None,
    };
    lexer.run();
    match lexer.error {
        Some(offset_reason) if mode == Mode::Pattern => {
            let (line, column) = line_col(src, offset_reason.0);
            Err(TokenError {
                line,
                column,
                reason: offset_reason.1,
            })
        }
        _ => Ok(lexer.tokens),
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(src: &str, offset: usize) -> (u32, u32) {
    let offset = offset.min(src.len());
    let before = &src.as_bytes()[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let column = src
        .get(line_start..offset)
        .map_or(offset - line_start, |s| s.chars().count())
        + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
    )
}

struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    lang: Language,
    mode: Mode,
    tokens: Vec<Token>,
    newline: bool,
    /// The first problem: byte offset and reason.
    error: Option<(usize, &'static str)>,
}

fn is_ident_start(c: char, lang: Language) -> bool {
    c == '_'
        || c.is_alphabetic()
        || (c == '$'
            && matches!(
                lang,
                Language::JavaScript | Language::TypeScript | Language::Java
            ))
}

fn is_ident_continue(c: char, lang: Language) -> bool {
    is_ident_start(c, lang) || c.is_alphanumeric()
}

impl Lexer<'_> {
    fn peek(&self, ahead: usize) -> u8 {
        self.bytes.get(self.pos + ahead).copied().unwrap_or(0)
    }

    fn char_at(&self, pos: usize) -> Option<char> {
        self.src.get(pos..).and_then(|s| s.chars().next())
    }

    fn fail(&mut self, at: usize, reason: &'static str) {
        if self.error.is_none() {
            self.error = Some((at, reason));
        }
    }

    fn push(&mut self, kind: Kind, start: usize) {
        self.tokens.push(Token {
            kind,
            start,
            end: self.pos,
            newline_before: self.newline,
        });
        self.newline = false;
    }

    fn run(&mut self) {
        while self.pos < self.bytes.len() {
            let start = self.pos;
            let Some(c) = self.char_at(start) else {
                // Not on a character boundary: cannot happen for &str input,
                // but never loop forever.
                self.pos += 1;
                continue;
            };
            if c == '\n' {
                self.newline = true;
                self.pos += 1;
            } else if c.is_whitespace() {
                self.pos += c.len_utf8();
            } else if self.comment() {
                // consumed
            } else if self.string() {
                self.push(Kind::Str, start);
            } else if self.mode == Mode::Pattern && c == '$' && self.metavar() {
                self.push(Kind::Metavar, start);
            } else if is_ident_start(c, self.lang) {
                self.pos += c.len_utf8();
                while let Some(c) = self.char_at(self.pos) {
                    if !is_ident_continue(c, self.lang) {
                        break;
                    }
                    self.pos += c.len_utf8();
                }
                // A string prefix (`f"…"`, `r#"…"#`, `b'…'`) turns the
                // identifier into the start of a string.
                if self.prefixed_string(start) {
                    self.push(Kind::Str, start);
                } else {
                    self.push(Kind::Ident, start);
                }
            } else if c.is_ascii_digit() {
                self.number();
                self.push(Kind::Number, start);
            } else if matches!(c, '(' | '[' | '{') {
                self.pos += 1;
                self.push(Kind::Open, start);
            } else if matches!(c, ')' | ']' | '}') {
                self.pos += 1;
                self.push(Kind::Close, start);
            } else {
                let rest = &self.src[start..];
                let multi = MULTI_PUNCT.iter().find(|p| {
                    rest.starts_with(**p) && !(**p == "//" && self.lang != Language::Python)
                });
                let len = multi.map_or(c.len_utf8(), |p| p.len());
                self.pos += len;
                let kind = if self.mode == Mode::Pattern && multi == Some(&"...") {
                    Kind::Ellipsis
                } else {
                    Kind::Punct
                };
                self.push(kind, start);
            }
        }
    }

    /// Skips a comment at the current position, if there is one.
    fn comment(&mut self) -> bool {
        let (b0, b1) = (self.peek(0), self.peek(1));
        match self.lang {
            Language::Generic => false,
            Language::Python => {
                if b0 == b'#' {
                    self.skip_line();
                    true
                } else {
                    false
                }
            }
            _ => {
                if b0 == b'/' && b1 == b'/' {
                    self.skip_line();
                    true
                } else if b0 == b'/' && b1 == b'*' {
                    let start = self.pos;
                    self.pos += 2;
                    let nests = self.lang == Language::Rust;
                    let mut depth = 1usize;
                    while self.pos < self.bytes.len() {
                        let (c0, c1) = (self.peek(0), self.peek(1));
                        if c0 == b'*' && c1 == b'/' {
                            self.pos += 2;
                            depth -= 1;
                            if depth == 0 {
                                return true;
                            }
                        } else if nests && c0 == b'/' && c1 == b'*' {
                            self.pos += 2;
                            depth += 1;
                        } else {
                            if c0 == b'\n' {
                                self.newline = true;
                            }
                            self.pos += 1;
                        }
                    }
                    self.fail(start, "unterminated block comment");
                    true
                } else {
                    false
                }
            }
        }
    }

    fn skip_line(&mut self) {
        while self.pos < self.bytes.len() && self.bytes[self.pos] != b'\n' {
            self.pos += 1;
        }
    }

    /// `$` followed by an uppercase name.
    fn metavar(&mut self) -> bool {
        let name_len = self.bytes[self.pos + 1..]
            .iter()
            .take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || **b == b'_')
            .count();
        let first = self.peek(1);
        let next = self.char_at(self.pos + 1 + name_len);
        if name_len == 0
            || first.is_ascii_digit()
            || next.is_some_and(|c| is_ident_continue(c, self.lang) && c != '$')
        {
            return false;
        }
        self.pos += 1 + name_len;
        true
    }

    fn number(&mut self) {
        let start = self.pos;
        self.pos += 1;
        while self.pos < self.bytes.len() {
            let b = self.bytes[self.pos];
            let prev = self.bytes[self.pos - 1];
            let hex = self.src[start..self.pos].starts_with("0x")
                || self.src[start..self.pos].starts_with("0X");
            let continues = b.is_ascii_alphanumeric()
                || b == b'_'
                || (b == b'.' && self.peek(1).is_ascii_digit())
                || ((b == b'+' || b == b'-') && (prev == b'e' || prev == b'E') && !hex);
            if continues {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    /// A string literal starting at the current position (no prefix).
    fn string(&mut self) -> bool {
        let b = self.peek(0);
        match (self.lang, b) {
            (Language::Generic, b'"') => self.quoted(b'"', false, true),
            (Language::Generic, _) => false,
            (Language::Python, b'"' | b'\'') => self.python_string(),
            (Language::JavaScript | Language::TypeScript, b'"' | b'\'') => {
                self.quoted(b, true, false)
            }
            (Language::JavaScript | Language::TypeScript, b'`') => self.template(),
            (Language::Go, b'"' | b'\'') => self.quoted(b, true, false),
            (Language::Go, b'`') => self.raw_until(1, "`"),
            (Language::Java, b'"') if self.src[self.pos..].starts_with("\"\"\"") => {
                self.triple("\"\"\"")
            }
            (Language::Java, b'"' | b'\'') => self.quoted(b, true, false),
            (Language::Rust, b'"') => self.quoted(b'"', true, true),
            (Language::Rust, b'\'') => self.rust_char(),
            _ => false,
        }
    }

    /// A string opened by an identifier just read (from `start`): Python
    /// `rb"…"`/`f'''…'''`, Rust `b"…"`, `r#"…"#`, `b'x'`.
    fn prefixed_string(&mut self, start: usize) -> bool {
        let prefix = &self.src[start..self.pos];
        let next = self.peek(0);
        match self.lang {
            Language::Python => {
                let lower = prefix.to_ascii_lowercase();
                let ok = matches!(
                    lower.as_str(),
                    "r" | "u" | "b" | "f" | "br" | "rb" | "fr" | "rf" | "t" | "tr" | "rt"
                );
                ok && matches!(next, b'"' | b'\'') && self.python_string()
            }
            Language::Rust => match prefix {
                "b" if next == b'\'' => self.quoted(b'\'', true, false),
                "b" | "c" if next == b'"' => self.quoted(b'"', true, true),
                "r" | "br" | "cr" if next == b'"' || next == b'#' => {
                    let hashes = self.bytes[self.pos..]
                        .iter()
                        .take_while(|b| **b == b'#')
                        .count();
                    if self.peek(hashes) != b'"' {
                        return false;
                    }
                    let closer = format!("\"{}", "#".repeat(hashes));
                    self.raw_until(hashes + 1, &closer)
                }
                _ => false,
            },
            _ => false,
        }
    }

    /// A Python string at a quote: triple-quoted or on one line.
    fn python_string(&mut self) -> bool {
        let rest = &self.src[self.pos..];
        if rest.starts_with("\"\"\"") {
            self.triple("\"\"\"")
        } else if rest.starts_with("'''") {
            self.triple("'''")
        } else {
            self.quoted(self.peek(0), true, false)
        }
    }

    /// A string up to the unescaped `quote`; on one line unless
    /// `multiline`. An unterminated one ends at its line (or the file).
    fn quoted(&mut self, quote: u8, escapes: bool, multiline: bool) -> bool {
        let start = self.pos;
        self.pos += 1;
        while self.pos < self.bytes.len() {
            let b = self.bytes[self.pos];
            if escapes && b == b'\\' {
                self.pos = (self.pos + 2).min(self.bytes.len());
                while !self.src.is_char_boundary(self.pos) {
                    self.pos += 1;
                }
            } else if b == quote {
                self.pos += 1;
                return true;
            } else if b == b'\n' && !multiline {
                if self.lang == Language::Generic {
                    // A lone quote in prose: punctuation, not a string.
                    self.pos = start;
                    return false;
                }
                self.fail(start, "unterminated string");
                return true;
            } else {
                self.pos += 1;
            }
        }
        if self.lang == Language::Generic {
            self.pos = start;
            return false;
        }
        self.fail(start, "unterminated string");
        true
    }

    /// A string from `"""`/`'''` to the same closer, escapes honoured.
    fn triple(&mut self, closer: &str) -> bool {
        let start = self.pos;
        self.pos += closer.len();
        while self.pos < self.bytes.len() {
            if self.bytes[self.pos] == b'\\' {
                self.pos = (self.pos + 2).min(self.bytes.len());
                while !self.src.is_char_boundary(self.pos) {
                    self.pos += 1;
                }
            } else if self.bytes[self.pos..].starts_with(closer.as_bytes()) {
                self.pos += closer.len();
                return true;
            } else {
                self.pos += 1;
            }
        }
        self.fail(start, "unterminated triple-quoted string");
        true
    }

    /// A raw string: skip `open_len` bytes, then up to `closer`.
    fn raw_until(&mut self, open_len: usize, closer: &str) -> bool {
        let start = self.pos;
        self.pos += open_len;
        match self.src[self.pos..].find(closer) {
            Some(at) => self.pos += at + closer.len(),
            None => {
                self.pos = self.bytes.len();
                self.fail(start, "unterminated raw string");
            }
        }
        true
    }

    /// A JavaScript template string, `${…}` nesting included.
    fn template(&mut self) -> bool {
        let start = self.pos;
        self.pos += 1;
        // Brace depths of the `${` currently open.
        let mut depth: Vec<usize> = Vec::new();
        while self.pos < self.bytes.len() {
            let b = self.bytes[self.pos];
            match depth.last_mut() {
                None => match b {
                    b'\\' => self.pos += 1,
                    b'`' => {
                        self.pos += 1;
                        return true;
                    }
                    b'$' if self.peek(1) == b'{' => {
                        depth.push(0);
                        self.pos += 1;
                    }
                    _ => {}
                },
                Some(d) => match b {
                    b'{' => *d += 1,
                    b'}' if *d == 0 => {
                        depth.pop();
                    }
                    b'}' => *d -= 1,
                    _ => {}
                },
            }
            self.pos += 1;
        }
        self.pos = self.bytes.len();
        self.fail(start, "unterminated template string");
        true
    }

    /// A Rust char literal (`'a'`, `'\n'`, `'\u{1F600}'`), or `false` for
    /// a lifetime (`'a`), which is read as `'` and an identifier.
    fn rust_char(&mut self) -> bool {
        let start = self.pos;
        if self.peek(1) == b'\\' {
            return self.quoted(b'\'', true, false);
        }
        let Some(c) = self.char_at(start + 1) else {
            return false;
        };
        if self.bytes.get(start + 1 + c.len_utf8()) == Some(&b'\'') {
            self.pos = start + 2 + c.len_utf8();
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(src: &str, lang: Language) -> Vec<&str> {
        tokenize(src, lang, Mode::Source)
            .unwrap()
            .iter()
            .map(|t| t.text(src))
            .collect()
    }

    #[test]
    fn python_quoting_and_comments() {
        let src = "x = f'''a\n# not a comment\n''' + rb\"\\\"q\" # gone\ny = 'it''s'";
        assert_eq!(
            texts(src, Language::Python),
            [
                "x",
                "=",
                "f'''a\n# not a comment\n'''",
                "+",
                "rb\"\\\"q\"",
                "y",
                "=",
                "'it'",
                "'s'"
            ]
        );
    }

    #[test]
    fn javascript_templates_nest() {
        let src = "const s = `a ${f(`b ${c}`)} d`; // end\n/* block */ x";
        assert_eq!(
            texts(src, Language::TypeScript),
            ["const", "s", "=", "`a ${f(`b ${c}`)} d`", ";", "x"]
        );
        assert_eq!(
            texts("$http.get()", Language::JavaScript),
            ["$http", ".", "get", "(", ")"]
        );
    }

    #[test]
    fn go_raw_strings_and_runes() {
        let src = "s := `raw \\ \"x\"\nline` + '\\'' // c";
        assert_eq!(
            texts(src, Language::Go),
            ["s", ":=", "`raw \\ \"x\"\nline`", "+", "'\\''"]
        );
    }

    #[test]
    fn rust_raw_strings_chars_and_lifetimes() {
        let src =
            "fn f<'a>(x: &'a str) { r#\"a \"quoted\" b\"# ; 'c'; b'\\n'; /* /* nested */ */ }";
        assert_eq!(
            texts(src, Language::Rust),
            [
                "fn",
                "f",
                "<",
                "'",
                "a",
                ">",
                "(",
                "x",
                ":",
                "&",
                "'",
                "a",
                "str",
                ")",
                "{",
                "r#\"a \"quoted\" b\"#",
                ";",
                "'c'",
                ";",
                "b'\\n'",
                ";",
                "}"
            ]
        );
    }

    #[test]
    fn java_text_blocks() {
        let src = "String q = \"\"\"\n  SELECT \"x\"\n\"\"\";";
        assert_eq!(
            texts(src, Language::Java),
            ["String", "q", "=", "\"\"\"\n  SELECT \"x\"\n\"\"\"", ";"]
        );
    }

    #[test]
    fn generic_keeps_lone_quotes_as_punctuation() {
        assert_eq!(
            texts("don't \"x y\"", Language::Generic),
            ["don", "'", "t", "\"x y\""]
        );
    }

    #[test]
    fn numbers_and_operators() {
        assert_eq!(
            texts("a === 1.5e-3 && b != 0xFF", Language::JavaScript),
            ["a", "===", "1.5e-3", "&&", "b", "!=", "0xFF"]
        );
    }

    #[test]
    fn patterns_have_metavariables_and_ellipses() {
        let src = "$X.get(..., $URL_2)";
        let toks = tokenize(src, Language::Python, Mode::Pattern).unwrap();
        let kinds: Vec<Kind> = toks.iter().map(|t| t.kind).collect();
        assert_eq!(
            kinds,
            [
                Kind::Metavar,
                Kind::Punct,
                Kind::Ident,
                Kind::Open,
                Kind::Ellipsis,
                Kind::Punct,
                Kind::Metavar,
                Kind::Close
            ]
        );
        // Lowercase after `$` is not a metavariable.
        let toks = tokenize("$x", Language::JavaScript, Mode::Pattern).unwrap();
        assert_eq!(toks[0].kind, Kind::Ident);
    }

    #[test]
    fn unterminated_pattern_strings_are_errors_source_is_not() {
        let err = tokenize("foo(\"abc)", Language::Python, Mode::Pattern).unwrap_err();
        assert_eq!(
            (err.line, err.column, err.reason),
            (1, 5, "unterminated string")
        );
        assert!(tokenize("/* open", Language::Go, Mode::Pattern).is_err());
        assert!(tokenize("foo(\"abc)\nbar()", Language::Python, Mode::Source).is_ok());
    }

    #[test]
    fn newlines_are_recorded() {
        let toks = tokenize("a\n  b c", Language::Python, Mode::Source).unwrap();
        let nl: Vec<bool> = toks.iter().map(|t| t.newline_before).collect();
        assert_eq!(nl, [false, true, false]);
    }

    #[test]
    fn line_and_column_count_characters() {
        assert_eq!(line_col("ab\ncé d", 7), (2, 4));
        assert_eq!(line_col("x", 0), (1, 1));
    }
}
