//! Reading a rule pack: YAML text into compiled [`Rule`]s, refusing a
//! broken rule with its id (or its index when it has none) and the reason.
//! The YAML is checked first, event by event, for anchors' aliases and
//! nesting depth, so a hostile pack cannot expand into a billion nodes or
//! exhaust the stack before a single rule is read.

use std::collections::HashSet;
use std::fmt;

use regex::RegexBuilder;
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::{Yaml, YamlLoader};

use crate::glob::Glob;
use crate::lang::Language;
use crate::pattern::Pattern;
use crate::rule::{Matcher, Rule};
use crate::{Metadata, Pack, Severity};

/// Most rules in one pack: a pack is read on every validation.
pub const MAX_RULES: usize = 1_000;

/// Longest pattern, regex or glob, in bytes.
pub const MAX_PATTERN_BYTES: usize = 4 * 1024;

/// Largest pack, in bytes (1,000 rules of a few hundred bytes each).
pub const MAX_PACK_BYTES: usize = 2 * 1024 * 1024;

/// Deepest YAML nesting; a rule needs five levels.
pub const MAX_YAML_DEPTH: usize = 32;

/// Compiled size allowed for one regex (and for its lazy DFA's cache): a
/// `a{1000}{1000}` cannot allocate gigabytes.
pub const REGEX_SIZE_LIMIT: usize = 1024 * 1024;

/// Deepest regex nesting (groups, repetitions).
pub const REGEX_NEST_LIMIT: u32 = 64;

/// Longest rule id.
pub const MAX_ID_BYTES: usize = 128;

/// The keys a rule may have.
const RULE_KEYS: [&str; 12] = [
    "id",
    "message",
    "severity",
    "languages",
    "paths",
    "pattern",
    "pattern-regex",
    "pattern-either",
    "pattern-not",
    "pattern-not-regex",
    "fix",
    "metadata",
];

/// Why a pack was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PackError {
    #[error("the rule pack is not valid YAML: {0}")]
    Yaml(String),
    #[error("the rule pack is {0} bytes; at most {MAX_PACK_BYTES} are allowed")]
    TooLarge(usize),
    #[error("the rule pack must be a mapping with a `rules:` list{0}")]
    Shape(String),
    #[error("the rule pack has {0} rules; at most {MAX_RULES} are allowed")]
    TooManyRules(usize),
    #[error("rule {rule}: {problem}")]
    Rule { rule: RuleRef, problem: Problem },
}

/// How an error names a rule: its id, or its 1-based position when it has
/// no usable id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RuleRef {
    Id(String),
    Index(usize),
}

impl fmt::Display for RuleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleRef::Id(id) => write!(f, "`{id}`"),
            RuleRef::Index(i) => write!(f, "#{i} (no id)"),
        }
    }
}

/// What is wrong with one rule.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("missing `id`")]
    MissingId,
    #[error("invalid id `{0}`: use [a-z0-9._/-], at most {MAX_ID_BYTES} bytes")]
    InvalidId(String),
    #[error("duplicate id (also rule #{0})")]
    DuplicateId(usize),
    #[error("missing `{0}`")]
    Missing(&'static str),
    #[error("`{key}` must be {expected}")]
    WrongType { key: String, expected: &'static str },
    #[error("unknown key `{0}`")]
    UnknownKey(String),
    #[error("unknown severity `{0}` (info, low, medium, high, critical; or INFO, WARNING, ERROR)")]
    UnknownSeverity(String),
    #[error("unknown language `{0}` (python, javascript, typescript, go, rust, java, generic)")]
    UnknownLanguage(String),
    #[error("no pattern: give one of `pattern`, `pattern-regex`, `pattern-either`")]
    NoPattern,
    #[error("two kinds of pattern: {0} (give exactly one)")]
    SeveralPatterns(String),
    #[error("`{key}` is {len} bytes; at most {MAX_PATTERN_BYTES} are allowed")]
    TooLong { key: String, len: usize },
    #[error("`{key}`: invalid regex: {reason}")]
    Regex { key: String, reason: String },
    #[error("`{key}` does not tokenise as {lang}: {reason}")]
    Pattern {
        key: String,
        lang: Language,
        reason: String,
    },
    #[error("invalid glob `{glob}`: {reason}")]
    Glob { glob: String, reason: String },
}

/// Parses and compiles a pack.
pub(crate) fn parse(text: &str) -> Result<Pack, PackError> {
    if text.len() > MAX_PACK_BYTES {
        return Err(PackError::TooLarge(text.len()));
    }
    preflight(text)?;
    let docs = YamlLoader::load_from_str(text).map_err(|e| PackError::Yaml(e.to_string()))?;
    let doc = match docs.as_slice() {
        [doc] => doc,
        [] => return Err(PackError::Shape(" (the text is empty)".into())),
        _ => return Err(PackError::Shape(" (found several YAML documents)".into())),
    };
    let Yaml::Hash(top) = doc else {
        return Err(PackError::Shape(String::new()));
    };
    for key in top.keys() {
        if key.as_str() != Some("rules") {
            return Err(PackError::Shape(format!(
                " (unknown top-level key `{}`)",
                scalar(key).unwrap_or_else(|| "?".into())
            )));
        }
    }
    let Some(Yaml::Array(items)) = top.get(&Yaml::String("rules".into())) else {
        return Err(PackError::Shape(String::new()));
    };
    if items.len() > MAX_RULES {
        return Err(PackError::TooManyRules(items.len()));
    }
    let mut rules = Vec::with_capacity(items.len());
    let mut seen: HashSet<String> = HashSet::new();
    for (index, item) in items.iter().enumerate() {
        let rule = read_rule(index + 1, item)?;
        if !seen.insert(rule.id.clone()) {
            let first = rules
                .iter()
                .position(|r: &Rule| r.id == rule.id)
                .unwrap_or(0)
                + 1;
            return Err(PackError::Rule {
                rule: RuleRef::Id(rule.id),
                problem: Problem::DuplicateId(first),
            });
        }
        rules.push(rule);
    }
    Ok(Pack { rules })
}

/// Refuses aliases (the loader copies the anchored node at each alias:
/// nine lines of `&a [*b, *b, …]` are gigabytes) and deep nesting (the
/// loader recurses per level) before loading.
fn preflight(text: &str) -> Result<(), PackError> {
    let mut parser = Parser::new_from_str(text);
    let mut depth = 0usize;
    loop {
        let (event, mark) = parser
            .next_token()
            .map_err(|e| PackError::Yaml(e.to_string()))?;
        match event {
            Event::StreamEnd => return Ok(()),
            Event::Alias(_) => {
                return Err(PackError::Yaml(format!(
                    "line {}: aliases (`*name`) are not supported in rule packs",
                    mark.line()
                )));
            }
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                depth += 1;
                if depth > MAX_YAML_DEPTH {
                    return Err(PackError::Yaml(format!(
                        "line {}: nested more than {MAX_YAML_DEPTH} levels deep",
                        mark.line()
                    )));
                }
            }
            Event::SequenceEnd | Event::MappingEnd => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
}

/// A scalar as text (`pattern: 42` is the pattern `42`).
fn scalar(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A scalar or a list of scalars, as a list.
fn strings(y: &Yaml) -> Option<Vec<String>> {
    match y {
        Yaml::Array(items) => items.iter().map(scalar).collect(),
        other => scalar(other).map(|s| vec![s]),
    }
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_BYTES
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._/-".contains(&b))
}

/// The severity a rule names; Semgrep's `INFO`/`WARNING`/`ERROR` map to
/// low/medium/high.
pub fn parse_severity(s: &str) -> Option<Severity> {
    Some(match s {
        "info" => Severity::Info,
        "low" | "INFO" => Severity::Low,
        "medium" | "WARNING" => Severity::Medium,
        "high" | "ERROR" => Severity::High,
        "critical" => Severity::Critical,
        _ => return None,
    })
}

fn read_rule(index: usize, item: &Yaml) -> Result<Rule, PackError> {
    let Yaml::Hash(map) = item else {
        return Err(PackError::Rule {
            rule: RuleRef::Index(index),
            problem: Problem::WrongType {
                key: "rules[]".into(),
                expected: "a mapping",
            },
        });
    };
    let get = |key: &str| map.get(&Yaml::String(key.into()));
    // The id first, so that every other problem can name the rule.
    let id = match get("id") {
        None | Some(Yaml::Null) => {
            return Err(PackError::Rule {
                rule: RuleRef::Index(index),
                problem: Problem::MissingId,
            });
        }
        Some(y) => match scalar(y) {
            Some(id) if valid_id(&id) => id,
            other => {
                return Err(PackError::Rule {
                    rule: RuleRef::Index(index),
                    problem: Problem::InvalidId(other.unwrap_or_default()),
                });
            }
        },
    };
    let fail = |problem: Problem| PackError::Rule {
        rule: RuleRef::Id(id.clone()),
        problem,
    };
    for key in map.keys() {
        let name = scalar(key).unwrap_or_default();
        if !RULE_KEYS.contains(&name.as_str()) {
            return Err(fail(Problem::UnknownKey(name)));
        }
    }
    let text = |key: &'static str| -> Result<Option<String>, PackError> {
        match get(key) {
            None | Some(Yaml::Null) => Ok(None),
            Some(y) => scalar(y).map(Some).ok_or_else(|| {
                fail(Problem::WrongType {
                    key: key.into(),
                    expected: "text",
                })
            }),
        }
    };
    let message = text("message")?.ok_or_else(|| fail(Problem::Missing("message")))?;
    let severity_text = text("severity")?.ok_or_else(|| fail(Problem::Missing("severity")))?;
    let severity = parse_severity(&severity_text)
        .ok_or_else(|| fail(Problem::UnknownSeverity(severity_text)))?;
    let language_names = match get("languages") {
        None | Some(Yaml::Null) => return Err(fail(Problem::Missing("languages"))),
        Some(y) => strings(y).ok_or_else(|| {
            fail(Problem::WrongType {
                key: "languages".into(),
                expected: "a list of language names",
            })
        })?,
    };
    if language_names.is_empty() {
        return Err(fail(Problem::Missing("languages")));
    }
    let mut languages = Vec::new();
    for name in language_names {
        let lang =
            Language::from_name(&name).ok_or_else(|| fail(Problem::UnknownLanguage(name)))?;
        if !languages.contains(&lang) {
            languages.push(lang);
        }
    }
    let (include, exclude) = match get("paths") {
        None | Some(Yaml::Null) => (Vec::new(), Vec::new()),
        Some(Yaml::Hash(paths)) => {
            for key in paths.keys() {
                let name = scalar(key).unwrap_or_default();
                if name != "include" && name != "exclude" {
                    return Err(fail(Problem::UnknownKey(format!("paths.{name}"))));
                }
            }
            let globs = |key: &str| -> Result<Vec<Glob>, PackError> {
                let Some(y) = paths.get(&Yaml::String(key.into())) else {
                    return Ok(Vec::new());
                };
                let list = strings(y).ok_or_else(|| {
                    fail(Problem::WrongType {
                        key: format!("paths.{key}"),
                        expected: "a list of globs",
                    })
                })?;
                list.iter()
                    .map(|g| {
                        if g.len() > MAX_PATTERN_BYTES {
                            return Err(fail(Problem::TooLong {
                                key: format!("paths.{key}"),
                                len: g.len(),
                            }));
                        }
                        Glob::new(g).map_err(|reason| {
                            fail(Problem::Glob {
                                glob: g.clone(),
                                reason,
                            })
                        })
                    })
                    .collect()
            };
            (globs("include")?, globs("exclude")?)
        }
        Some(_) => {
            return Err(fail(Problem::WrongType {
                key: "paths".into(),
                expected: "a mapping with `include` and/or `exclude`",
            }));
        }
    };
    let compile = Compiler {
        languages: &languages,
        fail: &fail,
    };
    let kinds: Vec<&str> = ["pattern", "pattern-regex", "pattern-either"]
        .into_iter()
        .filter(|k| get(k).is_some())
        .collect();
    let matcher = match kinds.as_slice() {
        [] => return Err(fail(Problem::NoPattern)),
        [kind] => compile.matcher(kind, get(kind).unwrap_or(&Yaml::Null))?,
        several => {
            let names: Vec<String> = several.iter().map(|k| format!("`{k}`")).collect();
            return Err(fail(Problem::SeveralPatterns(names.join(" and "))));
        }
    };
    let mut not = Vec::new();
    for key in ["pattern-not", "pattern-not-regex"] {
        if let Some(y) = get(key) {
            not.push(compile.matcher(key, y)?);
        }
    }
    let fix = text("fix")?;
    let metadata = match get("metadata") {
        None | Some(Yaml::Null) => Metadata::default(),
        Some(Yaml::Hash(meta)) => {
            let list = |key: &str| -> Result<Vec<String>, PackError> {
                match meta.get(&Yaml::String(key.into())) {
                    None | Some(Yaml::Null) => Ok(Vec::new()),
                    Some(y) => strings(y).ok_or_else(|| {
                        fail(Problem::WrongType {
                            key: format!("metadata.{key}"),
                            expected: "a list of text",
                        })
                    }),
                }
            };
            Metadata {
                tags: list("tags")?,
                controls: list("controls")?,
                cwe: list("cwe")?,
            }
        }
        Some(_) => {
            return Err(fail(Problem::WrongType {
                key: "metadata".into(),
                expected: "a mapping",
            }));
        }
    };
    Ok(Rule {
        id,
        message,
        severity,
        languages,
        include,
        exclude,
        fix,
        metadata,
        matcher,
        not,
    })
}

/// Compiles the pattern keys of one rule.
struct Compiler<'a, F: Fn(Problem) -> PackError> {
    languages: &'a [Language],
    fail: &'a F,
}

impl<F: Fn(Problem) -> PackError> Compiler<'_, F> {
    fn text(&self, key: &str, y: &Yaml) -> Result<String, PackError> {
        let s = scalar(y).ok_or_else(|| {
            (self.fail)(Problem::WrongType {
                key: key.into(),
                expected: "text",
            })
        })?;
        if s.len() > MAX_PATTERN_BYTES {
            return Err((self.fail)(Problem::TooLong {
                key: key.into(),
                len: s.len(),
            }));
        }
        Ok(s)
    }

    fn matcher(&self, key: &str, y: &Yaml) -> Result<Matcher, PackError> {
        match key {
            "pattern" | "pattern-not" => {
                let text = self.text(key, y)?;
                let mut per_lang = Vec::with_capacity(self.languages.len());
                for &lang in self.languages {
                    let p = Pattern::compile(&text, lang).map_err(|reason| {
                        (self.fail)(Problem::Pattern {
                            key: key.into(),
                            lang,
                            reason,
                        })
                    })?;
                    per_lang.push((lang, p));
                }
                Ok(Matcher::Pattern(per_lang))
            }
            "pattern-regex" | "pattern-not-regex" => {
                let text = self.text(key, y)?;
                RegexBuilder::new(&text)
                    .multi_line(true)
                    .size_limit(REGEX_SIZE_LIMIT)
                    .dfa_size_limit(REGEX_SIZE_LIMIT)
                    .nest_limit(REGEX_NEST_LIMIT)
                    .build()
                    .map(Matcher::Regex)
                    .map_err(|e| {
                        (self.fail)(Problem::Regex {
                            key: key.into(),
                            reason: e.to_string(),
                        })
                    })
            }
            "pattern-either" => {
                let Yaml::Array(items) = y else {
                    return Err((self.fail)(Problem::WrongType {
                        key: key.into(),
                        expected: "a list of `pattern:`/`pattern-regex:` entries",
                    }));
                };
                if items.is_empty() {
                    return Err((self.fail)(Problem::NoPattern));
                }
                let mut all = Vec::with_capacity(items.len());
                for item in items {
                    let Yaml::Hash(entry) = item else {
                        return Err((self.fail)(Problem::WrongType {
                            key: key.into(),
                            expected: "a list of `pattern:`/`pattern-regex:` entries",
                        }));
                    };
                    let mut keys = entry.iter();
                    let (Some((k, v)), None) = (keys.next(), keys.next()) else {
                        return Err((self.fail)(Problem::WrongType {
                            key: key.into(),
                            expected: "a list of entries with one key each",
                        }));
                    };
                    let name = scalar(k).unwrap_or_default();
                    if !matches!(
                        name.as_str(),
                        "pattern" | "pattern-regex" | "pattern-either"
                    ) {
                        return Err((self.fail)(Problem::UnknownKey(format!("{key}[].{name}"))));
                    }
                    all.push(self.matcher(&name, v)?);
                }
                Ok(Matcher::Either(all))
            }
            _ => Err((self.fail)(Problem::UnknownKey(key.into()))),
        }
    }
}
