//! A minimal YAML reader for Kubernetes manifests and Docker Compose files
//! (`qlp/container`, `qlp/infrastructure`): block mappings and sequences by
//! indentation (including a sequence at its key's indentation and mappings
//! started on a `- ` line), one-line flow sequences and mappings of
//! scalars, quoted and plain scalars, comments, and several documents
//! separated by `---`. Block scalars (`|`, `>`) are read as opaque values;
//! anchors, aliases, tags and multi-line flow collections are not supported
//! (their text is kept as a scalar). Every node keeps its 1-based line.

/// A YAML node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    /// Keys in order, each with its value and the key's line.
    Map(Vec<(String, Node, u32)>),
    /// Items, each with its line.
    Seq(Vec<(Node, u32)>),
    Scalar(String),
    Null,
}

impl Node {
    /// The value of `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries) => entries.iter().find(|(k, _, _)| k == key).map(|(_, v, _)| v),
            _ => None,
        }
    }

    /// The line of `key` in a mapping.
    pub fn line_of(&self, key: &str) -> Option<u32> {
        match self {
            Node::Map(entries) => entries
                .iter()
                .find(|(k, _, _)| k == key)
                .map(|(_, _, l)| *l),
            _ => None,
        }
    }

    /// Follows a path of keys.
    pub fn path(&self, keys: &[&str]) -> Option<&Node> {
        keys.iter().try_fold(self, |node, key| node.get(key))
    }

    /// The scalar text, if this is a scalar.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// Whether this is the scalar `true` (YAML 1.2 core schema).
    pub fn is_true(&self) -> bool {
        matches!(self.as_str(), Some("true" | "True" | "TRUE"))
    }

    /// The items of a sequence.
    pub fn items(&self) -> &[(Node, u32)] {
        match self {
            Node::Seq(items) => items,
            _ => &[],
        }
    }
}

/// A significant line: indentation, text without comment, 1-based number.
#[derive(Clone, Debug)]
struct Line {
    indent: usize,
    text: String,
    number: u32,
}

/// Reads every document of a YAML stream.
pub fn documents(text: &str) -> Vec<Node> {
    let mut docs = Vec::new();
    let mut current: Vec<Line> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        if raw.starts_with("---") || raw.starts_with("...") {
            if !current.is_empty() {
                docs.push(parse(&mut std::mem::take(&mut current)));
            }
            continue;
        }
        let without_comment = strip_comment(raw);
        let text = without_comment.trim_end();
        if text.trim().is_empty() {
            continue;
        }
        let indent = text.len() - text.trim_start().len();
        current.push(Line {
            indent,
            text: text.trim_start().to_string(),
            number,
        });
    }
    if !current.is_empty() {
        docs.push(parse(&mut current));
    }
    docs
}

fn parse(lines: &mut [Line]) -> Node {
    let mut i = 0;
    let mut root: Option<Node> = None;
    // Lines a badly indented block left over are read as blocks of their
    // own; their keys join the document's top-level mapping.
    while i < lines.len() {
        let before = i;
        let indent = lines[i].indent;
        let node = block(lines, &mut i, indent);
        root = Some(match (root, node) {
            (None, node) => node,
            (Some(Node::Map(mut a)), Node::Map(b)) => {
                a.extend(b);
                Node::Map(a)
            }
            (Some(a), _) => a,
        });
        if i == before {
            i += 1;
        }
    }
    root.unwrap_or(Node::Null)
}

/// The text before a ` #` comment that is outside quotes.
fn strip_comment(line: &str) -> &str {
    let mut quote: Option<char> = None;
    let mut prev = ' ';
    for (at, c) in line.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if (c == '"' || c == '\'')
                && (prev == ' '
                    || prev == ':'
                    || prev == '-'
                    || prev == '['
                    || prev == ','
                    || at == 0) =>
            {
                quote = Some(c)
            }
            None if c == '#' && (at == 0 || prev.is_whitespace()) => return &line[..at],
            None => {}
        }
        prev = c;
    }
    line
}

fn is_seq_item(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

/// Splits `key: value` at the first `: ` (or a final `:`) outside quotes.
fn split_key(text: &str) -> Option<(String, &str)> {
    let mut quote: Option<char> = None;
    let bytes = text.as_bytes();
    for (at, c) in text.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if (c == '"' || c == '\'') && at == 0 => quote = Some(c),
            None if c == ':' && (at + 1 == text.len() || bytes[at + 1] == b' ') => {
                let key = unquote(text[..at].trim());
                return Some((key, text[at + 1..].trim()));
            }
            None if c == '{' || c == '[' => return None,
            None => {}
        }
    }
    None
}

fn unquote(s: &str) -> String {
    let s = s.trim();
    if s.len() >= 2
        && ((s.starts_with('"') && s.ends_with('"')) || (s.starts_with('\'') && s.ends_with('\'')))
    {
        s[1..s.len() - 1].to_string()
    } else {
        s.to_string()
    }
}

/// A one-line value: a flow collection of scalars or a scalar.
fn inline(value: &str) -> Node {
    if let Some(inner) = value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
        return Node::Seq(
            split_flow(inner)
                .into_iter()
                .map(|item| (Node::Scalar(unquote(item)), 0))
                .collect(),
        );
    }
    if let Some(inner) = value.strip_prefix('{').and_then(|v| v.strip_suffix('}')) {
        return Node::Map(
            split_flow(inner)
                .into_iter()
                .filter_map(|pair| {
                    let (k, v) = pair.split_once(':')?;
                    Some((unquote(k), inline(v.trim()), 0))
                })
                .collect(),
        );
    }
    if value.is_empty() || value == "~" || value == "null" {
        Node::Null
    } else {
        Node::Scalar(unquote(value))
    }
}

/// Items of a flow collection body, split at top-level commas.
fn split_flow(inner: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (at, c) in inner.char_indices() {
        match c {
            '[' | '{' => depth += 1,
            ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(inner[start..at].trim());
                start = at + 1;
            }
            _ => {}
        }
    }
    let last = inner[start..].trim();
    if !last.is_empty() {
        out.push(last);
    }
    out
}

/// Reads the block at `indent` starting at `lines[*i]`.
fn block(lines: &mut [Line], i: &mut usize, indent: usize) -> Node {
    if *i >= lines.len() {
        return Node::Null;
    }
    if is_seq_item(&lines[*i].text) {
        let mut items = Vec::new();
        while *i < lines.len() && lines[*i].indent == indent && is_seq_item(&lines[*i].text) {
            let number = lines[*i].number;
            let rest = lines[*i].text[1..].trim_start().to_string();
            if rest.is_empty() {
                *i += 1;
                let child = match lines.get(*i) {
                    Some(next) if next.indent > indent => {
                        let child_indent = next.indent;
                        block(lines, i, child_indent)
                    }
                    _ => Node::Null,
                };
                items.push((child, number));
            } else if split_key(&rest).is_some() || is_seq_item(&rest) {
                // `- key: value` starts a mapping (or `- - x` a sequence)
                // whose column is where `key` is.
                let offset = lines[*i].text.len() - rest.len();
                lines[*i].indent = indent + offset;
                lines[*i].text = rest;
                let child_indent = lines[*i].indent;
                items.push((block(lines, i, child_indent), number));
            } else {
                items.push((inline(&rest), number));
                *i += 1;
            }
        }
        return Node::Seq(items);
    }
    let mut entries = Vec::new();
    while *i < lines.len() && lines[*i].indent == indent && !is_seq_item(&lines[*i].text) {
        let number = lines[*i].number;
        let Some((key, value)) = split_key(&lines[*i].text).map(|(k, v)| (k, v.to_string())) else {
            // Not a mapping entry: a stray scalar line; skip it.
            *i += 1;
            continue;
        };
        *i += 1;
        let node = if value.is_empty() {
            match lines.get(*i) {
                Some(next) if next.indent > indent => {
                    let child_indent = next.indent;
                    block(lines, i, child_indent)
                }
                // A sequence may sit at its key's indentation.
                Some(next) if next.indent == indent && is_seq_item(&next.text) => {
                    block(lines, i, indent)
                }
                _ => Node::Null,
            }
        } else if value.starts_with('|') || value.starts_with('>') {
            while *i < lines.len() && lines[*i].indent > indent {
                *i += 1;
            }
            Node::Scalar(String::new())
        } else {
            inline(&value)
        };
        entries.push((key, node, number));
    }
    // Deeper lines that belong to nothing (bad indentation) are skipped so
    // the caller can continue.
    if entries.is_empty() && *i < lines.len() && lines[*i].indent > indent {
        *i += 1;
    }
    Node::Map(entries)
}

#[cfg(test)]
mod tests;
