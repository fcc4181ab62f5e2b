//! Structural patterns: a rule's `pattern` tokenised ([`crate::token`])
//! into a flat list of nodes — literal tokens, brackets, `$X`
//! metavariables, `...` ellipses and the string wildcard `"..."` — and
//! matched by backtracking over a file's tokens.
//!
//! - A literal token matches the same text (whitespace, line breaks and
//!   comments between tokens never matter).
//! - `$X` matches one identifier, number or string, or one balanced
//!   bracketed group (`(a, b)`), and binds it; a second `$X` must match
//!   the same token texts.
//! - `...` inside brackets matches any balanced sequence, including
//!   nothing; outside brackets it stops at the end of the statement (`;`,
//!   a line break outside brackets, or the enclosing closing bracket). A
//!   trailing `...` outside brackets takes the rest of the statement.
//! - `"..."` matches any string literal.
//! - A pattern starting with an identifier does not match after a member
//!   access (`.`, `?.`, `::`, `->`) or a definition keyword (`def`,
//!   `function`, `func`, `fn`): `print(...)` finds calls of `print`, not
//!   `log.print(x)` nor `def print(x)`.
//!
//! Matching one pattern over one file is bounded by [`MAX_MATCH_STEPS`].

use crate::lang::Language;
use crate::token::{self, Kind, Mode, Token};

/// Backtracking steps allowed for one pattern over one file. A pattern
/// with many ellipses inside a long bracketed group is polynomial in its
/// length; this bound keeps a hostile pattern from stalling a validation
/// (the matches found before it is reached are kept).
pub const MAX_MATCH_STEPS: u64 = 4_000_000;

/// Most tokens in one pattern. The matcher recurses once per pattern
/// token, so this bounds its stack depth (WebAssembly stacks are small);
/// real patterns have a few dozen.
pub const MAX_PATTERN_TOKENS: usize = 512;

/// Tokens after which a pattern that starts with an identifier does not
/// match: member access and definitions.
const NOT_AFTER: [&str; 8] = [".", "?.", "::", "->", "def", "function", "func", "fn"];

/// One node of a compiled pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Node {
    Tok(Kind, String),
    AnyString,
    Metavar(String),
    Ellipsis {
        top_level: bool,
    },
    /// A comma next to `...` inside brackets: `f(..., x)` also matches
    /// `f(x)`, and `f(x, ...)` matches `f(x)`.
    OptComma,
    Open(String),
    Close(String),
}

/// A compiled structural pattern for one language.
#[derive(Clone, Debug)]
pub struct Pattern {
    nodes: Vec<Node>,
}

/// A file tokenised for matching, with each opening bracket's partner.
pub struct Source<'a> {
    pub text: &'a str,
    pub tokens: Vec<Token>,
    partner: Vec<Option<usize>>,
}

impl<'a> Source<'a> {
    /// Tokenises `text` as `lang` (never fails).
    pub fn new(text: &'a str, lang: Language) -> Self {
        let tokens = token::tokenize(text, lang, Mode::Source).unwrap_or_default();
        let mut partner = vec![None; tokens.len()];
        let mut stack: Vec<usize> = Vec::new();
        for (i, t) in tokens.iter().enumerate() {
            match t.kind {
                Kind::Open => stack.push(i),
                Kind::Close => {
                    if let Some(&open) = stack.last()
                        && closes(t.text(text), tokens[open].text(text))
                    {
                        stack.pop();
                        partner[open] = Some(i);
                    }
                }
                _ => {}
            }
        }
        Source {
            text,
            tokens,
            partner,
        }
    }
}

fn closes(close: &str, open: &str) -> bool {
    matches!((open, close), ("(", ")") | ("[", "]") | ("{", "}"))
}

/// One match: token range `[start, end)` and the metavariable bindings
/// as (name, bound text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenMatch {
    pub start: usize,
    pub end: usize,
    pub bindings: Vec<(String, String)>,
}

impl Pattern {
    /// Compiles `text` for `lang`: it must tokenise, its brackets must
    /// balance, and it must hold more than ellipses.
    pub fn compile(text: &str, lang: Language) -> Result<Pattern, String> {
        let tokens = token::tokenize(text, lang, Mode::Pattern).map_err(|e| e.to_string())?;
        if tokens.len() > MAX_PATTERN_TOKENS {
            return Err(format!(
                "the pattern has {} tokens; at most {MAX_PATTERN_TOKENS} are allowed",
                tokens.len()
            ));
        }
        let mut nodes = Vec::with_capacity(tokens.len());
        let mut stack: Vec<&str> = Vec::new();
        for t in &tokens {
            let s = t.text(text);
            let node = match t.kind {
                Kind::Open => {
                    stack.push(s);
                    Node::Open(s.into())
                }
                Kind::Close => {
                    let Some(open) = stack.pop() else {
                        return Err(format!("unbalanced `{s}`"));
                    };
                    if !closes(s, open) {
                        return Err(format!("`{open}` closed by `{s}`"));
                    }
                    Node::Close(s.into())
                }
                Kind::Metavar => Node::Metavar(s.into()),
                Kind::Ellipsis => Node::Ellipsis {
                    top_level: stack.is_empty(),
                },
                Kind::Str
                    if s.len() == 5
                        && s.starts_with(['"', '\'', '`'])
                        && s.get(1..4) == Some("...") =>
                {
                    Node::AnyString
                }
                kind => Node::Tok(kind, s.into()),
            };
            nodes.push(node);
        }
        if let Some(open) = stack.last() {
            return Err(format!("unclosed `{open}`"));
        }
        let inner_ellipsis =
            |n: Option<&Node>| matches!(n, Some(Node::Ellipsis { top_level: false }));
        for i in 0..nodes.len() {
            if matches!(&nodes[i], Node::Tok(Kind::Punct, t) if t == ",")
                && (inner_ellipsis(i.checked_sub(1).and_then(|j| nodes.get(j)))
                    || inner_ellipsis(nodes.get(i + 1)))
            {
                nodes[i] = Node::OptComma;
            }
        }
        if nodes.iter().all(|n| matches!(n, Node::Ellipsis { .. })) {
            return Err("the pattern is empty or only `...`".into());
        }
        Ok(Pattern { nodes })
    }

    /// Every match in `source`, by start token.
    pub fn find_all(&self, source: &Source<'_>) -> Vec<TokenMatch> {
        let mut m = Matcher {
            nodes: &self.nodes,
            src: source,
            steps: MAX_MATCH_STEPS,
            binds: Vec::new(),
        };
        let first_ident = match self.nodes.first() {
            Some(Node::Tok(Kind::Ident, t)) => Some(t.as_str()),
            _ => None,
        };
        let mut out = Vec::new();
        for start in 0..source.tokens.len() {
            if m.steps == 0 {
                break;
            }
            if let Some(first) = first_ident {
                if source.tokens[start].text(source.text) != first {
                    continue;
                }
                if start > 0 && NOT_AFTER.contains(&source.tokens[start - 1].text(source.text)) {
                    continue;
                }
            }
            m.binds.clear();
            if let Some(end) = m.at(0, start)
                && end > start
            {
                let bindings = m
                    .binds
                    .iter()
                    .map(|(name, s, e)| (name.to_string(), source.unit_text(*s, *e)))
                    .collect();
                out.push(TokenMatch {
                    start,
                    end,
                    bindings,
                });
            }
        }
        out
    }
}

impl Source<'_> {
    /// The text of tokens `[s, e)`: their source text from the first
    /// token's start to the last one's end.
    fn unit_text(&self, s: usize, e: usize) -> String {
        self.text[self.tokens[s].start..self.tokens[e - 1].end].to_string()
    }

    fn tok(&self, i: usize) -> &str {
        self.tokens[i].text(self.text)
    }

    /// The end of the unit starting at `i`: past a bracketed group, or
    /// the next token.
    fn unit_end(&self, i: usize) -> usize {
        self.partner[i].map_or(i + 1, |p| p + 1)
    }
}

struct Matcher<'p, 's> {
    nodes: &'p [Node],
    src: &'s Source<'s>,
    steps: u64,
    /// Metavariable name and bound token range.
    binds: Vec<(&'p str, usize, usize)>,
}

impl<'p> Matcher<'p, '_> {
    /// Matches nodes from `pi` at token `si`; the end token on success.
    fn at(&mut self, pi: usize, si: usize) -> Option<usize> {
        if self.steps == 0 {
            return None;
        }
        self.steps -= 1;
        let nodes = self.nodes;
        let Some(node) = nodes.get(pi) else {
            return Some(si);
        };
        let src = self.src;
        let tok = src.tokens.get(si);
        match node {
            Node::Tok(_, text) => {
                let t = tok?;
                (!matches!(t.kind, Kind::Open | Kind::Close) && src.tok(si) == text)
                    .then_some(())?;
                self.at(pi + 1, si + 1)
            }
            Node::AnyString => {
                (tok?.kind == Kind::Str).then_some(())?;
                self.at(pi + 1, si + 1)
            }
            Node::Open(text) => {
                let t = tok?;
                (t.kind == Kind::Open && src.tok(si) == text && src.partner[si].is_some())
                    .then_some(())?;
                self.at(pi + 1, si + 1)
            }
            Node::Close(text) => {
                let t = tok?;
                (t.kind == Kind::Close && src.tok(si) == text).then_some(())?;
                self.at(pi + 1, si + 1)
            }
            Node::OptComma => {
                if tok.is_some_and(|t| t.kind == Kind::Punct) && src.tok(si) == "," {
                    let saved = self.binds.len();
                    if let Some(end) = self.at(pi + 1, si + 1) {
                        return Some(end);
                    }
                    self.binds.truncate(saved);
                }
                self.at(pi + 1, si)
            }
            Node::Metavar(name) => {
                let t = tok?;
                let end = match t.kind {
                    Kind::Ident | Kind::Number | Kind::Str => si + 1,
                    Kind::Open => src.partner[si]? + 1,
                    _ => return None,
                };
                if let Some(&(_, bs, be)) = self.binds.iter().find(|(n, _, _)| n == name) {
                    let same = be - bs == end - si
                        && (0..end - si).all(|k| src.tok(bs + k) == src.tok(si + k));
                    if !same {
                        return None;
                    }
                    return self.at(pi + 1, end);
                }
                let saved = self.binds.len();
                self.binds.push((name.as_str(), si, end));
                let r = self.at(pi + 1, end);
                if r.is_none() {
                    self.binds.truncate(saved);
                }
                r
            }
            Node::Ellipsis { top_level } => {
                let top = *top_level;
                let can_skip = |j: usize| -> bool {
                    let Some(t) = src.tokens.get(j) else {
                        return false;
                    };
                    t.kind != Kind::Close
                        && !(top && (t.newline_before && j > si || src.tok(j) == ";"))
                };
                let mut j = si;
                if top && pi + 1 == nodes.len() {
                    while can_skip(j) {
                        j = src.unit_end(j);
                    }
                    return Some(j);
                }
                loop {
                    if top && src.tokens.get(j).is_some_and(|t| t.newline_before) {
                        return None;
                    }
                    let saved = self.binds.len();
                    if let Some(end) = self.at(pi + 1, j) {
                        return Some(end);
                    }
                    self.binds.truncate(saved);
                    if self.steps == 0 || !can_skip(j) {
                        return None;
                    }
                    j = src.unit_end(j);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The matched texts of `pattern` in `code`.
    fn found(pattern: &str, code: &str, lang: Language) -> Vec<String> {
        let p = Pattern::compile(pattern, lang).unwrap();
        let src = Source::new(code, lang);
        p.find_all(&src)
            .iter()
            .map(|m| src.unit_text(m.start, m.end))
            .collect()
    }

    fn py(pattern: &str, code: &str) -> Vec<String> {
        found(pattern, code, Language::Python)
    }

    #[test]
    fn literal_tokens_ignore_whitespace_and_comments() {
        assert_eq!(
            py(
                "os.system(cmd)",
                "os . system(  # run\n cmd)\nos.system(other)"
            ),
            ["os . system(  # run\n cmd)"]
        );
    }

    #[test]
    fn ellipsis_inside_brackets_matches_any_balanced_sequence() {
        let code = "print()\nprint(a, (b, c), [d])\nprint(x\n  , y)\n";
        assert_eq!(
            py("print(...)", code),
            ["print()", "print(a, (b, c), [d])", "print(x\n  , y)"]
        );
        assert_eq!(
            py(
                "requests.get(..., timeout=$T, ...)",
                "requests.get(u, verify=False, timeout=5)\nrequests.get(u)"
            ),
            ["requests.get(u, verify=False, timeout=5)"]
        );
    }

    #[test]
    fn top_level_ellipsis_stays_in_the_statement() {
        assert_eq!(
            found(
                "password = ...",
                "password = get(x) + 1; y = 2\npassword = 'a'\n",
                Language::JavaScript
            ),
            ["password = get(x) + 1", "password = 'a'"]
        );
        // `...` does not run into the next line to find `commit`.
        assert!(py("db.begin() ... db.commit()", "db.begin()\ndb.commit()").is_empty());
        assert_eq!(
            py("f(..., x)", "f(x)\nf(a, b, x)\nf(a)"),
            ["f(x)", "f(a, b, x)"]
        );
        assert_eq!(py("a ... c", "a b c"), ["a b c"]);
    }

    #[test]
    fn metavariables_bind_one_token_or_a_group_and_must_agree() {
        assert_eq!(
            py("$X == $X", "a == a\na == b\nf(1) == f(1)\n(1, 2) == (1, 2)"),
            ["a == a", "(1, 2) == (1, 2)"]
        );
        let p = Pattern::compile("$FN($ARG)", Language::Go).unwrap();
        let src = Source::new("log.Println(msg)", Language::Go);
        let m = p.find_all(&src);
        assert_eq!(m.len(), 1);
        assert_eq!(
            m[0].bindings,
            [
                ("$FN".to_string(), "Println".to_string()),
                ("$ARG".to_string(), "msg".to_string())
            ]
        );
        // A metavariable does not bind punctuation.
        assert!(py("x = $V", "x = -1").is_empty());
    }

    #[test]
    fn metavariable_consistency_backtracks_through_ellipses() {
        assert_eq!(
            py("f($A, ..., $A)", "f(x, y, z, x)\nf(x, y)"),
            ["f(x, y, z, x)"]
        );
    }

    #[test]
    fn string_wildcard_matches_any_literal() {
        assert_eq!(
            found(
                "fetch(\"...\")",
                "fetch('/a'); fetch(`/b`); fetch(url)",
                Language::TypeScript
            ),
            ["fetch('/a')", "fetch(`/b`)"]
        );
    }

    #[test]
    fn identifiers_after_member_access_or_definitions_do_not_start_a_match() {
        assert_eq!(
            py("print(...)", "log.print(x)\ndef print(x): pass\nprint(y)"),
            ["print(y)"]
        );
    }

    #[test]
    fn strings_and_comments_do_not_match_code_patterns() {
        assert!(py("eval(...)", "s = 'eval(x)'  # eval(y)\n\"\"\"eval(z)\"\"\"").is_empty());
    }

    #[test]
    fn compile_errors_say_why() {
        assert_eq!(
            Pattern::compile("f(x", Language::Python).unwrap_err(),
            "unclosed `(`"
        );
        assert_eq!(
            Pattern::compile("f(x]", Language::Python).unwrap_err(),
            "`(` closed by `]`"
        );
        assert_eq!(
            Pattern::compile("x)", Language::Python).unwrap_err(),
            "unbalanced `)`"
        );
        assert!(Pattern::compile("...", Language::Python).is_err());
        assert!(Pattern::compile("", Language::Python).is_err());
        assert!(
            Pattern::compile("f('x)", Language::Python)
                .unwrap_err()
                .contains("unterminated string")
        );
    }

    #[test]
    fn a_hostile_pattern_is_cut_off_by_the_step_budget() {
        let pattern = format!("f({} b)", "... a ".repeat(12));
        let code = format!("f({})", "a, ".repeat(3000));
        let p = Pattern::compile(&pattern, Language::Python).unwrap();
        let src = Source::new(&code, Language::Python);
        assert!(p.find_all(&src).is_empty());
    }
}
