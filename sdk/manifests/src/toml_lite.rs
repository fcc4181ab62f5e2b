//! A reader for the subset of TOML that manifests and the advisory
//! database use, keeping the line of every entry (which a full TOML parser
//! would not give back): `[table]` and `[[array-of-tables]]` headers,
//! `key = value` with bare or quoted keys, and values that are basic or
//! literal strings, inline tables (`{ version = "1", features = [...] }`)
//! on one line, arrays of strings (over several lines), numbers and
//! booleans. Multi-line strings and dotted keys are read as opaque values.

/// A value as far as this reader understands it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Str(String),
    /// Strings of an array, each with its 1-based line.
    Array(Vec<(String, u32)>),
    /// Keys and string values of an inline table; non-string values are
    /// kept as their source text.
    Table(Vec<(String, String)>),
    /// Anything else, as written.
    Other(String),
}

impl Value {
    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A key of an inline table.
    pub fn get(&self, key: &str) -> Option<&str> {
        match self {
            Value::Table(pairs) => pairs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str()),
            _ => None,
        }
    }
}

/// One `key = value` of a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The header it is under (`tool.poetry.dependencies`), `""` at the top.
    pub table: String,
    /// For `[[name]]` headers: which element (0-based) of that array.
    pub index: usize,
    pub key: String,
    pub value: Value,
    /// 1-based line of the key.
    pub line: u32,
}

/// Reads every entry of a document, in order.
pub fn entries(text: &str) -> Vec<Entry> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut table = String::new();
    let mut counts: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut index = 0;
    let mut i = 0;
    while i < lines.len() {
        let number = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let line = strip_comment(lines[i]).trim();
        i += 1;
        if line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix("[[").and_then(|l| l.strip_suffix("]]")) {
            table = unquote_key(name.trim());
            let n = counts.entry(table.clone()).or_insert(0);
            index = *n;
            *n += 1;
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            table = name.trim().to_string();
            index = 0;
            continue;
        }
        let Some((key, rest)) = split_key(line) else {
            continue;
        };
        let rest = rest.trim();
        let value = if let Some(first) = rest.strip_prefix('[') {
            // An array, possibly over several lines.
            let mut items = Vec::new();
            let mut body = first.to_string();
            let mut body_line = number;
            loop {
                let (strings, closed) = array_strings(&body);
                items.extend(strings.into_iter().map(|s| (s, body_line)));
                if closed || i >= lines.len() {
                    break;
                }
                body = strip_comment(lines[i]).to_string();
                body_line = u32::try_from(i + 1).unwrap_or(u32::MAX);
                i += 1;
            }
            Value::Array(items)
        } else if let Some(inner) = rest
            .strip_prefix('{')
            .and_then(|r| r.trim_end().strip_suffix('}'))
        {
            Value::Table(inline_table(inner))
        } else if let Some((s, _)) = read_string(rest) {
            Value::Str(s)
        } else {
            Value::Other(rest.to_string())
        };
        out.push(Entry {
            table: table.clone(),
            index,
            key,
            value,
            line: number,
        });
    }
    out
}

/// The line without a trailing `#` comment (a `#` inside a string stays).
pub fn strip_comment(line: &str) -> &str {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (at, c) in line.char_indices() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' && q == '"' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
            }
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == '#' => return &line[..at],
            None => {}
        }
    }
    line
}

fn unquote_key(key: &str) -> String {
    let key = key.trim();
    read_string(key).map_or_else(|| key.to_string(), |(s, _)| s)
}

/// Splits `key = rest` at the first `=` outside quotes.
fn split_key(line: &str) -> Option<(String, &str)> {
    if let Some((key, used)) = read_string(line) {
        let rest = line[used..].trim_start().strip_prefix('=')?;
        return Some((key, rest));
    }
    let (key, rest) = line.split_once('=')?;
    let key = key.trim();
    (!key.is_empty()).then(|| (key.to_string(), rest))
}

/// A basic (`"…"`, with escapes) or literal (`'…'`) string at the start of
/// `s`, and how many bytes it took.
pub fn read_string(s: &str) -> Option<(String, usize)> {
    let quote = s.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let mut out = String::new();
    let mut chars = s.char_indices().skip(1);
    while let Some((at, c)) = chars.next() {
        if c == quote {
            return Some((out, at + 1));
        }
        if c == '\\' && quote == '"' {
            if let Some((_, e)) = chars.next() {
                out.push(match e {
                    'n' => '\n',
                    't' => '\t',
                    other => other,
                });
            }
            continue;
        }
        out.push(c);
    }
    None
}

/// The strings of an array body, and whether its `]` was reached.
fn array_strings(body: &str) -> (Vec<String>, bool) {
    let mut out = Vec::new();
    let mut rest = body;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
        if rest.is_empty() {
            return (out, false);
        }
        if rest.starts_with(']') {
            return (out, true);
        }
        match read_string(rest) {
            Some((s, used)) => {
                out.push(s);
                rest = &rest[used..];
            }
            None => {
                // A non-string element: skip to the next separator.
                let end = rest.find([',', ']']).unwrap_or(rest.len());
                if end == 0 {
                    rest = &rest[1..];
                } else {
                    rest = &rest[end..];
                }
            }
        }
    }
}

/// The `key = value` pairs of an inline table body.
fn inline_table(inner: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = inner.trim();
    while !rest.is_empty() {
        let Some((key, after)) = split_key(rest) else {
            break;
        };
        let after = after.trim_start();
        let (value, used) = if let Some((s, used)) = read_string(after) {
            (s, used)
        } else {
            // A bare value or a nested array/table: up to the next
            // top-level comma.
            let mut depth = 0i32;
            let end = after
                .char_indices()
                .find(|&(_, c)| {
                    match c {
                        '[' | '{' => depth += 1,
                        ']' | '}' => depth -= 1,
                        _ => {}
                    }
                    c == ',' && depth == 0
                })
                .map_or(after.len(), |(at, _)| at);
            (after[..end].trim().to_string(), end)
        };
        out.push((key, value));
        rest = after[used..]
            .trim_start()
            .trim_start_matches(',')
            .trim_start();
    }
    out
}
