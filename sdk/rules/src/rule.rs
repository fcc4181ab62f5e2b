//! A compiled rule and how it matches one file: its positive matcher
//! (`pattern`, `pattern-regex` or `pattern-either`), minus the spans a
//! `pattern-not`/`pattern-not-regex` covers, with metavariables bound.

use regex::Regex;

use crate::glob::Glob;
use crate::lang::Language;
use crate::pattern::{Pattern, Source};
use crate::{Metadata, Severity};

/// A rule of a pack, compiled.
#[derive(Clone, Debug)]
pub struct Rule {
    pub id: String,
    pub message: String,
    pub severity: Severity,
    pub languages: Vec<Language>,
    pub include: Vec<Glob>,
    pub exclude: Vec<Glob>,
    pub fix: Option<String>,
    pub metadata: Metadata,
    pub(crate) matcher: Matcher,
    pub(crate) not: Vec<Matcher>,
}

/// What finds the spans of a rule.
#[derive(Clone, Debug)]
pub(crate) enum Matcher {
    Regex(Regex),
    /// A structural pattern compiled for each language of the rule.
    Pattern(Vec<(Language, Pattern)>),
    Either(Vec<Matcher>),
}

/// A span found in a file: byte range and metavariable bindings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    pub start: usize,
    pub end: usize,
    pub bindings: Vec<(String, String)>,
}

/// A file tokenised lazily, once, for the language a rule reads it as.
pub(crate) struct FileView<'a> {
    pub text: &'a str,
    sources: Vec<(Language, Source<'a>)>,
}

impl<'a> FileView<'a> {
    pub fn new(text: &'a str) -> Self {
        FileView {
            text,
            sources: Vec::new(),
        }
    }

    fn source(&mut self, lang: Language) -> &Source<'a> {
        let at = match self.sources.iter().position(|(l, _)| *l == lang) {
            Some(at) => at,
            None => {
                self.sources.push((lang, Source::new(self.text, lang)));
                self.sources.len() - 1
            }
        };
        &self.sources[at].1
    }
}

impl Rule {
    /// Whether the rule reads a file at `path` in `lang` (its language by
    /// extension), and as which language; paths are not consulted.
    pub fn language_for(&self, lang: Option<Language>) -> Option<Language> {
        match lang {
            Some(l) if self.languages.contains(&l) => Some(l),
            _ if self.languages.contains(&Language::Generic) => Some(Language::Generic),
            _ => None,
        }
    }

    /// Whether `paths: { include, exclude }` admit `path`.
    pub fn admits_path(&self, path: &str) -> bool {
        (self.include.is_empty() || self.include.iter().any(|g| g.matches(path)))
            && !self.exclude.iter().any(|g| g.matches(path))
    }

    /// The spans of this rule in a file read as `lang`.
    pub(crate) fn spans(&self, file: &mut FileView<'_>, lang: Language) -> Vec<Span> {
        let mut found = self.matcher.spans(file, lang);
        if !self.not.is_empty() {
            let negatives: Vec<Span> = self.not.iter().flat_map(|m| m.spans(file, lang)).collect();
            found.retain(|s| {
                !negatives
                    .iter()
                    .any(|n| n.start <= s.start && s.end <= n.end)
            });
        }
        found.sort_by_key(|s| (s.start, s.end));
        found.dedup_by(|a, b| a.start == b.start && a.end == b.end);
        found
    }
}

impl Matcher {
    fn spans(&self, file: &mut FileView<'_>, lang: Language) -> Vec<Span> {
        match self {
            Matcher::Regex(re) => regex_spans(re, file.text),
            Matcher::Pattern(per_lang) => {
                let Some((_, pattern)) = per_lang.iter().find(|(l, _)| *l == lang) else {
                    return Vec::new();
                };
                let source = file.source(lang);
                pattern
                    .find_all(source)
                    .into_iter()
                    .map(|m| Span {
                        start: source.tokens[m.start].start,
                        end: source.tokens[m.end - 1].end,
                        bindings: m.bindings,
                    })
                    .collect()
            }
            Matcher::Either(all) => all.iter().flat_map(|m| m.spans(file, lang)).collect(),
        }
    }
}

/// Non-empty regex matches; named groups bind `$NAME`.
fn regex_spans(re: &Regex, text: &str) -> Vec<Span> {
    let named: Vec<&str> = re.capture_names().flatten().collect();
    if named.is_empty() {
        return re
            .find_iter(text)
            .filter(|m| !m.is_empty())
            .map(|m| Span {
                start: m.start(),
                end: m.end(),
                bindings: Vec::new(),
            })
            .collect();
    }
    re.captures_iter(text)
        .filter_map(|c| {
            let whole = c.get(0)?;
            (!whole.is_empty()).then(|| Span {
                start: whole.start(),
                end: whole.end(),
                bindings: named
                    .iter()
                    .filter_map(|n| c.name(n).map(|m| (format!("${n}"), m.as_str().to_string())))
                    .collect(),
            })
        })
        .collect()
}
