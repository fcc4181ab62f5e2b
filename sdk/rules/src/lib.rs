//! Enterprise validation rules written in YAML, in the shape of Semgrep's
//! rule files, so that an organisation can enforce its own conventions
//! without writing a plugin:
//!
//! ```yaml
//! rules:
//!   - id: acme/no-print-in-services        # [a-z0-9._/-]+, unique in the pack
//!     message: Use the structured logger; print() output is lost in production.
//!     severity: medium                      # info|low|medium|high|critical, or INFO/WARNING/ERROR
//!     languages: [python]                   # python, javascript, typescript, go, rust, java, generic
//!     paths: { include: ["src/**"], exclude: ["**/tests/**"] }
//!     pattern: print(...)                   # or pattern-regex, or pattern-either; pattern-not optional
//!     fix: logger.info(...)
//!     metadata: { tags: [logging], controls: ["SOC2 CC7.2"], cwe: ["CWE-532"] }
//! ```
//!
//! [`Pack::parse`] reads and compiles a pack ([`pack`] lists every reason
//! a rule is refused, and the limits); [`Pack::check`] matches one file
//! and returns [`Match`]es; [`testing::run`] checks rules against
//! annotated example files, as `semgrep --test` does. The QLP validator
//! `qlp/rules` runs a pack over a capsule; `qlp rules test` runs the
//! tests.
//!
//! # Patterns
//!
//! - `pattern-regex`: a regular expression ([`regex`] crate syntax, `^`/`$`
//!   at line ends) over the whole file; named groups `(?P<NAME>…)` bind
//!   `$NAME` for the message.
//! - `pattern`: a structural pattern over tokens ([`pattern`]): `$X`
//!   binds one identifier, literal or bracketed group, `...` matches any
//!   balanced sequence, `"..."` any string; whitespace and comments never
//!   matter, and code inside strings or comments never matches.
//! - `pattern-either`: a list of `- pattern: …` / `- pattern-regex: …`.
//! - `pattern-not` / `pattern-not-regex`: a match inside a span that one
//!   of these matches is dropped.
//!
//! `generic` rules read every file; others read files whose extension is
//! of one of their languages ([`Language::of_path`]).
//!
//! # Why tokens and not syntax trees
//!
//! Semgrep and ast-grep match syntax trees from tree-sitter grammars.
//! Each grammar is a generated C parser (megabytes of parse tables for
//! TypeScript) on top of tree-sitter's C runtime: linking them would need
//! a C toolchain and a libc for `wasm32-unknown-unknown`, which QLP
//! plugins are built for without either, add a grammar per language to
//! every build, and put C parsers of untrusted input inside the host's
//! CLI. This crate is pure Rust: one tokenizer of a few hundred lines for
//! all seven languages; the `qlp/rules` component is about 1.8 MB, most
//! of it the regex engine and its Unicode tables.
//!
//! What tokens cannot express: `$X` binds one token or one bracketed group,
//! not an arbitrary expression (`$X == $X` does not match `a.b == a.b`);
//! there is no notion of statements beyond `;`, line breaks and brackets,
//! so a top-level `...` does not cross a line and JavaScript method chains
//! broken over lines do not match a one-line pattern; no equivalences
//! (`import a as b`, keyword argument order, `x == y` vs `y == x`), no
//! `pattern-inside`, `metavariable-regex`, taint or data flow; and a
//! pattern is not checked to be valid code. Rules that need these belong
//! in a validator plugin.
//!
//! # YAML
//!
//! Packs are read with `yaml-rust2` (0.11): pure Rust, no `unsafe` C
//! translation, maintained, and it builds for `wasm32-unknown-unknown`;
//! 0.11 shares `hashlink` with the rest of the tree, so it adds only
//! itself and `arraydeque`. `serde_yaml` is deprecated and, like its fork
//! `serde_norway`, built on `unsafe-libyaml` (libyaml translated to unsafe
//! Rust) plus serde; `serde_yml` is unmaintained; `saphyr` is the
//! successor of `yaml-rust2` but brings `saphyr-parser`, `ordered-float`
//! and a newer `hashlink`. Rules are read from the YAML tree by hand, so
//! unknown keys are named in the error.

pub mod glob;
pub mod lang;
pub mod pack;
pub mod pattern;
pub mod rule;
pub mod testing;
pub mod token;

pub use crate::lang::Language;
pub use crate::pack::{PackError, Problem, RuleRef};
pub use crate::rule::Rule;

use crate::rule::FileView;

/// Largest file checked; larger files (bundles, generated code, data)
/// are skipped.
pub const MAX_FILE_BYTES: usize = 1024 * 1024;

/// Most matches reported for one rule in one file: past that, a rule
/// matches everything and more of the same tells nothing.
pub const MAX_MATCHES_PER_RULE: usize = 100;

/// Longest snippet kept in a [`Match`], in bytes.
pub const MAX_SNIPPET_BYTES: usize = 200;

/// How serious a finding is: the one severity every QLP crate shares.
pub use qlp_types::Severity;

/// What a rule says about itself beyond its message. Other metadata keys
/// (Semgrep's `references`, `confidence`, …) are accepted and ignored.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Metadata {
    pub tags: Vec<String>,
    /// Compliance control ids (`SOC2 CC7.2`, `PCI DSS 3.5.1`).
    pub controls: Vec<String>,
    /// CWE ids (`CWE-532`).
    pub cwe: Vec<String>,
}

/// One rule matching one place in one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Match {
    pub rule_id: String,
    pub severity: Severity,
    /// 1-based line and column (in characters) of the match's start.
    pub line: u32,
    pub column: u32,
    /// The matched text, cut at [`MAX_SNIPPET_BYTES`].
    pub snippet: String,
    /// The rule's message with `$X` replaced by what `$X` bound.
    pub message: String,
    /// The rule's fix, substituted likewise.
    pub fix: Option<String>,
    pub metadata: Metadata,
}

/// A compiled rule pack.
#[derive(Clone, Debug)]
pub struct Pack {
    rules: Vec<Rule>,
}

impl Pack {
    /// Reads and compiles a pack; the first broken rule refuses it.
    pub fn parse(yaml: &str) -> Result<Pack, PackError> {
        pack::parse(yaml)
    }

    /// The rules, in pack order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Adds `other`'s rules after this pack's, so several packs run as
    /// one.
    pub fn extend(&mut self, other: Pack) {
        self.rules.extend(other.rules);
    }

    /// The matches in one file, by line, column and rule id. Files over
    /// [`MAX_FILE_BYTES`] and files no rule's language and paths cover
    /// get none.
    pub fn check(&self, path: &str, content: &str) -> Vec<Match> {
        self.check_with(path, content, true)
    }

    /// [`Pack::check`], optionally ignoring `paths:` (rule tests name
    /// their example files freely).
    pub(crate) fn check_with(&self, path: &str, content: &str, use_paths: bool) -> Vec<Match> {
        if content.len() > MAX_FILE_BYTES {
            return Vec::new();
        }
        let path = path.replace('\\', "/");
        let file_lang = Language::of_path(&path);
        let mut file = FileView::new(content);
        let mut lines: Option<Vec<usize>> = None;
        let mut out = Vec::new();
        for rule in &self.rules {
            let Some(lang) = rule.language_for(file_lang) else {
                continue;
            };
            if use_paths && !rule.admits_path(&path) {
                continue;
            }
            let spans = rule.spans(&mut file, lang);
            if spans.is_empty() {
                continue;
            }
            let starts = lines.get_or_insert_with(|| line_starts(content));
            for span in spans.into_iter().take(MAX_MATCHES_PER_RULE) {
                let (line, column) = position(content, starts, span.start);
                out.push(Match {
                    rule_id: rule.id.clone(),
                    severity: rule.severity,
                    line,
                    column,
                    snippet: cut(&content[span.start..span.end], MAX_SNIPPET_BYTES).to_string(),
                    message: substitute(&rule.message, &span.bindings),
                    fix: rule.fix.as_deref().map(|f| substitute(f, &span.bindings)),
                    metadata: rule.metadata.clone(),
                });
            }
        }
        out.sort_by(|a, b| (a.line, a.column, &a.rule_id).cmp(&(b.line, b.column, &b.rule_id)));
        out
    }
}

/// Byte offsets where lines start.
fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}

/// 1-based line and character column of a byte offset.
fn position(text: &str, starts: &[usize], offset: usize) -> (u32, u32) {
    let line = starts.partition_point(|&s| s <= offset).max(1);
    let start = starts[line - 1];
    let column = text.get(start..offset).map_or(1, |s| s.chars().count() + 1);
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
    )
}

/// `text` cut to at most `max` bytes on a character boundary.
fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Replaces each bound `$NAME` in `text` by its binding; unbound names
/// stay as written.
pub fn substitute(text: &str, bindings: &[(String, String)]) -> String {
    if bindings.is_empty() || !text.contains('$') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let len = after
            .bytes()
            .take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_')
            .count();
        let name = &rest[at..at + 1 + len];
        match bindings.iter().find(|(n, _)| n == name) {
            Some((_, value)) if len > 0 => out.push_str(value),
            _ => out.push_str(name),
        }
        rest = &rest[at + 1 + len..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests;
