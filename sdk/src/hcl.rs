//! A small HCL reader for Terraform files: blocks with labels, nested
//! blocks, attributes whose values are strings, numbers, bools, `null`,
//! lists, objects and heredocs, and the three comment styles (`#`, `//`,
//! `/* */`). What it cannot evaluate (references, function calls, type
//! expressions, operators, `for` expressions, interpolated strings) is kept
//! as raw text, without its comments ([`Value::Expr`], [`Value::Template`]),
//! so a rule can tell "unknown" from "absent". Every attribute, block and
//! object entry keeps its 1-based line. The reader never fails: a line it
//! cannot read is skipped, an unterminated construct ends at the end of the
//! file.
//!
//! `qlp/infrastructure` judges Terraform with it and `qlp/terraform`
//! documents a module with it (`variable` blocks with their type
//! expressions and nested `validation` blocks, heredoc descriptions,
//! `output`, `terraform { required_providers { … } }`). [`Value::to_hcl`]
//! writes a value back as HCL text. Behind the SDK's `hcl` feature.

/// Deepest nesting of blocks, lists and objects read as structure; deeper
/// text is kept as raw text, so hostile input cannot exhaust the stack.
pub const MAX_NESTING: usize = 64;

/// The body of a file or of a block.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Body {
    pub attributes: Vec<Attribute>,
    pub blocks: Vec<Block>,
}

/// `name = value`.
#[derive(Clone, Debug, PartialEq)]
pub struct Attribute {
    pub name: String,
    pub value: Value,
    pub line: u32,
}

/// `kind "label" … { body }`.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub kind: String,
    pub labels: Vec<String>,
    pub body: Body,
    pub line: u32,
}

/// An attribute value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A string or heredoc without interpolation, escapes resolved.
    Str(String),
    /// A string or heredoc with `${…}` or `%{…}`: its raw text.
    Template(String),
    /// A number literal, as written.
    Number(String),
    Bool(bool),
    Null,
    /// Items, each with its line.
    List(Vec<(Value, u32)>),
    /// Keys in order, each with its value and the key's line.
    Object(Vec<(String, Value, u32)>),
    /// Any other expression, as written.
    Expr(String),
}

impl Body {
    /// The attribute `name`.
    pub fn attr(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// The value of attribute `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.attr(name).map(|a| &a.value)
    }

    /// The nested blocks of one kind.
    pub fn blocks_of<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Block> + 'a {
        self.blocks.iter().filter(move |b| b.kind == kind)
    }

    /// The first nested block of one kind.
    pub fn block(&self, kind: &str) -> Option<&Block> {
        self.blocks.iter().find(|b| b.kind == kind)
    }

    /// Whether a `dynamic "kind"` block may generate blocks of this kind
    /// (whose content this reader cannot know).
    pub fn has_dynamic(&self, kind: &str) -> bool {
        self.blocks_of("dynamic")
            .any(|b| b.labels.first().is_some_and(|l| l == kind))
    }
}

impl Value {
    /// The text of a literal string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The text of a string or heredoc, interpolated or not.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Str(s) | Value::Template(s) => Some(s),
            _ => None,
        }
    }

    /// The value written back as HCL on one line: strings quoted and
    /// escaped (a template's text, kept as written, only gets its line
    /// breaks escaped), lists as `[a, b]`, objects as
    /// `{ k = v, … }` (keys quoted unless they are identifiers), an
    /// expression as written with its line breaks folded into spaces and,
    /// inside brackets, into the `,` separators HCL needs on one line.
    pub fn to_hcl(&self) -> String {
        match self {
            Value::Str(s) => quote(s),
            Value::Template(s) => format!("\"{}\"", s.replace('\n', "\\n")),
            Value::Number(n) => n.clone(),
            Value::Bool(b) => b.to_string(),
            Value::Null => "null".into(),
            Value::List(items) => {
                let items: Vec<String> = items.iter().map(|(v, _)| v.to_hcl()).collect();
                format!("[{}]", items.join(", "))
            }
            Value::Object(entries) if entries.is_empty() => "{}".into(),
            Value::Object(entries) => {
                let entries: Vec<String> = entries
                    .iter()
                    .map(|(k, v, _)| {
                        let key = if is_identifier(k) {
                            k.clone()
                        } else {
                            quote(k)
                        };
                        format!("{key} = {}", v.to_hcl())
                    })
                    .collect();
                format!("{{ {} }}", entries.join(", "))
            }
            Value::Expr(raw) => one_line(raw),
        }
    }

    /// A literal bool, or a string HCL converts to one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            Value::Str(s) if s == "true" => Some(true),
            Value::Str(s) if s == "false" => Some(false),
            _ => None,
        }
    }

    /// A literal whole number (or a string of one, as HCL converts).
    pub fn as_u32(&self) -> Option<u32> {
        match self {
            Value::Number(n) | Value::Str(n) => n.trim().parse().ok(),
            _ => None,
        }
    }

    /// The items of a list.
    pub fn items(&self) -> &[(Value, u32)] {
        match self {
            Value::List(items) => items,
            _ => &[],
        }
    }

    /// The value of `key` in an object.
    pub fn key(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(entries) => entries.iter().find(|(k, _, _)| k == key).map(|(_, v, _)| v),
            _ => None,
        }
    }
}

/// Reads a Terraform file.
pub fn parse(text: &str) -> Body {
    let line_starts = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(at, _)| at + 1))
        .collect();
    let mut parser = Parser {
        src: text,
        bytes: text.as_bytes(),
        pos: 0,
        depth: 0,
        line_starts,
    };
    parser.body(false)
}

struct Parser<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    depth: usize,
    line_starts: Vec<usize>,
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

/// A frame of [`Parser::skip_quoted`]: inside a string, or inside an
/// interpolation at some brace depth.
enum Frame {
    Str,
    Interp(u32),
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.pos + ahead).copied()
    }

    fn starts_with(&self, s: &str) -> bool {
        self.bytes[self.pos.min(self.bytes.len())..].starts_with(s.as_bytes())
    }

    fn line(&self, at: usize) -> u32 {
        let n = self.line_starts.partition_point(|&s| s <= at);
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    /// Moves to the next `\n` (not past it).
    fn skip_to_line_end(&mut self) {
        while let Some(c) = self.peek() {
            if c == b'\n' {
                break;
            }
            self.pos += 1;
        }
    }

    /// Skips a `/* */` comment starting at `pos`.
    fn skip_block_comment(&mut self) {
        self.pos += 2;
        while self.pos < self.bytes.len() && !self.starts_with("*/") {
            self.pos += 1;
        }
        self.pos = (self.pos + 2).min(self.bytes.len());
    }

    /// Skips spaces and comments, not newlines.
    fn skip_inline(&mut self) {
        while let Some(c) = self.peek() {
            match c {
                b' ' | b'\t' | b'\r' => self.pos += 1,
                b'#' => self.skip_to_line_end(),
                b'/' if self.peek_at(1) == Some(b'/') => self.skip_to_line_end(),
                b'/' if self.peek_at(1) == Some(b'*') => self.skip_block_comment(),
                _ => break,
            }
        }
    }

    /// Skips spaces, comments and newlines.
    fn skip_all(&mut self) {
        loop {
            self.skip_inline();
            if self.peek() == Some(b'\n') {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    /// Skips the rest of a line a rule cannot use, and its newline.
    fn skip_line(&mut self) {
        self.skip_to_line_end();
        self.pos = (self.pos + 1).min(self.bytes.len());
    }

    fn ident(&mut self) -> &str {
        let start = self.pos;
        while self.peek().is_some_and(is_ident) {
            self.pos += 1;
        }
        &self.src[start..self.pos]
    }

    /// The statements of a body, up to its closing `}` (consumed) when
    /// `in_block`, or to the end of the file.
    fn body(&mut self, in_block: bool) -> Body {
        let mut body = Body::default();
        loop {
            self.skip_all();
            let Some(c) = self.peek() else { break };
            if c == b'}' {
                self.pos += 1;
                if in_block {
                    break;
                }
                continue;
            }
            if !is_ident_start(c) {
                self.skip_line();
                continue;
            }
            let start = self.pos;
            let name = self.ident().to_string();
            let line = self.line(start);
            self.skip_inline();
            match self.peek() {
                Some(b'=') if self.peek_at(1) != Some(b'=') => {
                    self.pos += 1;
                    let value = self.value();
                    body.attributes.push(Attribute { name, value, line });
                    self.skip_inline();
                    if !matches!(self.peek(), None | Some(b'\n' | b'}')) {
                        self.skip_line();
                    }
                }
                Some(b'"' | b'{') | Some(b'a'..=b'z' | b'A'..=b'Z' | b'_') => {
                    let mut labels = Vec::new();
                    loop {
                        self.skip_inline();
                        match self.peek() {
                            Some(b'"') => match self.quoted() {
                                Some(Value::Str(s) | Value::Template(s)) => labels.push(s),
                                _ => break,
                            },
                            Some(c) if is_ident_start(c) => labels.push(self.ident().to_string()),
                            _ => break,
                        }
                    }
                    if self.peek() != Some(b'{') {
                        self.skip_line();
                        continue;
                    }
                    self.pos += 1;
                    let inner = if self.depth >= MAX_NESTING {
                        self.skip_nested(b'{', b'}');
                        Body::default()
                    } else {
                        self.depth += 1;
                        let inner = self.body(true);
                        self.depth -= 1;
                        inner
                    };
                    body.blocks.push(Block {
                        kind: name,
                        labels,
                        body: inner,
                        line,
                    });
                }
                _ => self.skip_line(),
            }
        }
        body
    }

    /// Skips to the bracket closing one already opened (consumed), or to
    /// the end of the file.
    fn skip_nested(&mut self, open: u8, close: u8) {
        let mut depth = 1u32;
        while let Some(c) = self.peek() {
            if c == b'"' {
                if !self.skip_quoted() {
                    self.skip_to_line_end();
                }
                continue;
            }
            self.pos += 1;
            if c == open {
                depth += 1;
            } else if c == close {
                depth -= 1;
                if depth == 0 {
                    return;
                }
            }
        }
    }

    /// Whether the value that just ended is followed by something that
    /// ends a value.
    fn at_value_end(&self) -> bool {
        matches!(
            self.peek(),
            None | Some(b'\n' | b',' | b'}' | b']' | b')' | b'#')
        ) || self.starts_with("//")
            || self.starts_with("/*")
    }

    /// An attribute value, list item or object value.
    fn value(&mut self) -> Value {
        self.skip_inline();
        let start = self.pos;
        if self.depth < MAX_NESTING {
            if let Some(value) = self.literal() {
                let end = self.pos;
                self.skip_inline();
                if self.at_value_end() {
                    self.pos = end;
                    return value;
                }
            }
            self.pos = start;
        }
        self.expression()
    }

    /// A literal value at `pos`, or `None` (then `pos` is unspecified).
    fn literal(&mut self) -> Option<Value> {
        match self.peek()? {
            b'"' => self.quoted(),
            b'<' if self.peek_at(1) == Some(b'<') => self.heredoc(),
            b'[' => {
                self.depth += 1;
                let list = self.list();
                self.depth -= 1;
                list
            }
            b'{' => {
                self.depth += 1;
                let object = self.object();
                self.depth -= 1;
                object
            }
            b'0'..=b'9' => Some(self.number()),
            b'-' if self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) => Some(self.number()),
            c if is_ident_start(c) => match self.ident() {
                "true" => Some(Value::Bool(true)),
                "false" => Some(Value::Bool(false)),
                "null" => Some(Value::Null),
                _ => None,
            },
            _ => None,
        }
    }

    fn number(&mut self) -> Value {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_digit() || c == b'.' || c == b'e' || c == b'E')
        {
            self.pos += 1;
            if matches!(self.bytes.get(self.pos - 1), Some(b'e' | b'E'))
                && matches!(self.peek(), Some(b'+' | b'-'))
            {
                self.pos += 1;
            }
        }
        Value::Number(self.src[start..self.pos].to_string())
    }

    fn list(&mut self) -> Option<Value> {
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            self.skip_all();
            match self.peek()? {
                b']' => {
                    self.pos += 1;
                    return Some(Value::List(items));
                }
                _ => {
                    let line = self.line(self.pos);
                    items.push((self.value(), line));
                    self.skip_all();
                    match self.peek()? {
                        b',' => self.pos += 1,
                        b']' => {}
                        _ => return None,
                    }
                }
            }
        }
    }

    fn object(&mut self) -> Option<Value> {
        self.pos += 1;
        let mut entries = Vec::new();
        loop {
            self.skip_all();
            let c = self.peek()?;
            if c == b'}' {
                self.pos += 1;
                return Some(Value::Object(entries));
            }
            let line = self.line(self.pos);
            let key = match c {
                b'"' => match self.quoted()? {
                    Value::Str(s) => s,
                    _ => return None,
                },
                c if is_ident_start(c) => self.ident().to_string(),
                _ => return None,
            };
            self.skip_inline();
            match self.peek()? {
                b'=' | b':' => self.pos += 1,
                _ => return None,
            }
            let value = self.value();
            entries.push((key, value, line));
            self.skip_inline();
            match self.peek()? {
                b',' => self.pos += 1,
                b'\n' | b'}' => {}
                _ => return None,
            }
        }
    }

    /// Skips a quoted string at `pos` with its nested interpolations and
    /// strings; `false` if a newline inside the string or the end of the
    /// file comes first.
    fn skip_quoted(&mut self) -> bool {
        let mut stack = vec![Frame::Str];
        self.pos += 1;
        while let Some(top) = stack.last_mut() {
            let Some(c) = self.peek() else { return false };
            match top {
                Frame::Str => match c {
                    b'\\' => self.pos += 2,
                    b'"' => {
                        self.pos += 1;
                        stack.pop();
                    }
                    b'\n' => return false,
                    b'$' | b'%' if self.peek_at(1) == Some(c) && self.peek_at(2) == Some(b'{') => {
                        self.pos += 3;
                    }
                    b'$' | b'%' if self.peek_at(1) == Some(b'{') => {
                        self.pos += 2;
                        stack.push(Frame::Interp(1));
                    }
                    _ => self.pos += 1,
                },
                Frame::Interp(depth) => {
                    self.pos += 1;
                    match c {
                        b'"' => stack.push(Frame::Str),
                        b'{' => *depth += 1,
                        b'}' => {
                            *depth -= 1;
                            if *depth == 0 {
                                stack.pop();
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        self.pos = self.pos.min(self.bytes.len());
        true
    }

    /// A quoted string at `pos`: [`Value::Str`] or [`Value::Template`].
    fn quoted(&mut self) -> Option<Value> {
        let start = self.pos;
        if !self.skip_quoted() {
            return None;
        }
        let raw = self.src.get(start + 1..self.pos - 1).unwrap_or_default();
        if is_template(raw) {
            return Some(Value::Template(raw.to_string()));
        }
        let mut out = String::with_capacity(raw.len());
        let mut chars = raw.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('"') => out.push('"'),
                Some('\\') => out.push('\\'),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            }
        }
        Some(Value::Str(out.replace("$${", "${").replace("%%{", "%{")))
    }

    /// A heredoc at `pos` (`<<EOT` or `<<-EOT`), up to its closing marker
    /// or the end of the file.
    fn heredoc(&mut self) -> Option<Value> {
        self.pos += 2;
        let indented = self.peek() == Some(b'-');
        if indented {
            self.pos += 1;
        }
        if !self.peek().is_some_and(is_ident_start) {
            return None;
        }
        let marker = self.ident().to_string();
        self.skip_inline();
        if self.peek() != Some(b'\n') {
            return None;
        }
        self.pos += 1;
        let mut lines = Vec::new();
        while self.pos < self.bytes.len() {
            let start = self.pos;
            self.skip_to_line_end();
            let line = self.src.get(start..self.pos).unwrap_or_default();
            if line.trim() == marker {
                let text = if indented {
                    dedent(&lines)
                } else {
                    lines.join("\n")
                };
                return Some(if is_template(&text) {
                    Value::Template(text)
                } else {
                    Value::Str(text)
                });
            }
            lines.push(line);
            self.pos = (self.pos + 1).min(self.bytes.len());
        }
        Some(Value::Template(if indented {
            dedent(&lines)
        } else {
            lines.join("\n")
        }))
    }

    /// Raw text of an expression, up to a newline, `,` or an unopened
    /// closing bracket outside brackets and strings.
    fn expression(&mut self) -> Value {
        let start = self.pos;
        let mut depth = 0u32;
        while let Some(c) = self.peek() {
            match c {
                b'"' => {
                    if !self.skip_quoted() {
                        self.skip_to_line_end();
                    }
                    continue;
                }
                b'<' if self.peek_at(1) == Some(b'<')
                    && self
                        .peek_at(2)
                        .is_some_and(|c| c == b'-' || is_ident_start(c)) =>
                {
                    let at = self.pos;
                    if self.heredoc().is_none() {
                        self.pos = at + 2;
                    }
                    continue;
                }
                b'#' => self.skip_to_line_end(),
                b'/' if self.peek_at(1) == Some(b'/') => self.skip_to_line_end(),
                b'/' if self.peek_at(1) == Some(b'*') => {
                    self.skip_block_comment();
                    continue;
                }
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' if depth == 0 => break,
                b')' | b']' | b'}' => depth -= 1,
                b',' | b'\n' if depth == 0 => break,
                _ => {}
            }
            if self.peek() == Some(b'\n') && depth == 0 {
                break;
            }
            self.pos = (self.pos + 1).min(self.bytes.len());
        }
        let raw = self.src.get(start..self.pos).unwrap_or_default();
        Value::Expr(strip_comments(raw).trim().to_string())
    }
}

/// Whether string text holds an interpolation or directive (`${`, `%{`,
/// not their `$${`, `%%{` escapes).
fn is_template(raw: &str) -> bool {
    let b = raw.as_bytes();
    (0..b.len().saturating_sub(1))
        .any(|i| (b[i] == b'$' || b[i] == b'%') && b[i + 1] == b'{' && (i == 0 || b[i - 1] != b[i]))
}

/// An expression's text without its comments: a `#` or `//` comment up to
/// its line's end (the line break stays), a `/* */` comment entirely.
/// Quoted strings, with their escapes and interpolations, are kept whole.
fn strip_comments(raw: &str) -> String {
    let b = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let mut kept = 0;
    let mut i = 0;
    let mut quote = false;
    while i < b.len() {
        match b[i] {
            b'\\' if quote => i += 1,
            b'"' => quote = !quote,
            b'\n' => quote = false,
            b'#' | b'/' if !quote && (b[i] == b'#' || b.get(i + 1) == Some(&b'/')) => {
                out.push_str(raw[kept..i].trim_end_matches([' ', '\t']));
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                kept = i;
                continue;
            }
            b'/' if !quote && b.get(i + 1) == Some(&b'*') => {
                out.push_str(&raw[kept..i]);
                i = raw[i + 2..]
                    .find("*/")
                    .map_or(b.len(), |end| i + 2 + end + 2);
                kept = i;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out.push_str(raw.get(kept..).unwrap_or_default());
    out
}

/// The lines of a `<<-` heredoc without the indentation they all share
/// (blank lines do not count), as Terraform reads them.
fn dedent(lines: &[&str]) -> String {
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start_matches([' ', '\t']).len())
        .min()
        .unwrap_or(0);
    let lines: Vec<&str> = lines
        .iter()
        .map(|l| l.get(indent..).unwrap_or_else(|| l.trim_start()))
        .collect();
    lines.join("\n")
}

/// Whether `text` is an HCL identifier (an object key that needs no quotes).
fn is_identifier(text: &str) -> bool {
    text.bytes().next().is_some_and(is_ident_start) && text.bytes().all(is_ident)
}

/// A string literal of `text`: `"`, `\\`, control characters, `${` and
/// `%{` escaped.
fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out = out.replace("${", "$${").replace("%{", "%%{");
    out.push('"');
    out
}

/// An expression's raw text on one line: each line break with the spaces
/// around it becomes `, ` where it separates items inside brackets (no `,`
/// or opening bracket before it, no closing bracket after it), nothing
/// just inside `(…)` and `[…]`, else one space; runs of spaces outside
/// quoted strings become one.
fn one_line(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut depth = 0i64;
    for line in raw.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(last) = out.chars().last() {
            let first = line.chars().next();
            let closing = matches!(first, Some(')' | ']' | '}'));
            let separator = if matches!(last, '(' | '[') || matches!(first, Some(')' | ']')) {
                ""
            } else if depth > 0 && !matches!(last, ',' | '{') && !closing {
                ", "
            } else {
                " "
            };
            out.push_str(separator);
        }
        let mut quote = false;
        let mut escaped = false;
        let mut space = false;
        for c in line.chars() {
            match c {
                _ if escaped => escaped = false,
                '\\' if quote => escaped = true,
                '"' => quote = !quote,
                '(' | '[' | '{' if !quote => depth += 1,
                ')' | ']' | '}' if !quote => depth -= 1,
                _ => {}
            }
            let blank = !quote && (c == ' ' || c == '\t');
            if !(blank && space) {
                out.push(if blank { ' ' } else { c });
            }
            space = blank;
        }
    }
    out
}

#[cfg(test)]
mod tests;
