//! What one source file says about compliance, read from its tokens
//! ([`crate::lex`], comments dropped, strings whole): logging calls and the
//! data they name, model fields, HTTP routes that change data, plain-HTTP
//! URLs and disabled TLS checks, and the signs of authentication, audit
//! logging, encryption and a retention setting. The rules in
//! [`crate::project`] judge these facts against the selected frameworks.

use crate::code::Code;
use crate::data::{self, Kind};
use crate::lex::{self, Lang, Tok};

/// A logging call that names sensitive data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Logged {
    pub line: u32,
    /// The callee as written: `logger.info`.
    pub callee: String,
    /// The sensitive names the arguments hold, with their kinds.
    pub names: Vec<(String, Vec<Kind>)>,
}

/// A field of a model, schema or table that holds sensitive data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    pub line: u32,
    pub name: String,
    /// The model (class, struct, interface, table) it belongs to; empty
    /// when it has no name.
    pub model: String,
    pub kinds: Vec<Kind>,
}

/// An HTTP route that changes data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub line: u32,
    /// `POST`, `PUT`, `PATCH` or `DELETE`.
    pub method: &'static str,
    /// What names the route's resource: its path pattern, the handler's or
    /// enclosing function's name (lower case); the file path is added by
    /// the caller.
    pub context: String,
}

/// Everything one file contributes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    pub logged: Vec<Logged>,
    pub fields: Vec<Field>,
    /// Plain-text transport: line and what was found.
    pub transport: Vec<(u32, String)>,
    pub routes: Vec<Route>,
    /// An authentication mechanism: middleware, dependency, decorator,
    /// token check or `Authorization` header read.
    pub auth: bool,
    /// An audit facility is called (a callee naming `audit`).
    pub audit_call: bool,
    /// A logging call names the actor (`user`, `sub`, `principal`, …).
    pub actor_logged: bool,
    /// Encryption, keyed hashing or tokenisation is used in this file.
    pub protection: bool,
    /// A data-retention setting is named (line).
    pub retention: Option<u32>,
}

/// Most tokens of one file read; the rest of a bigger file is skipped so
/// that a generated bundle cannot spend the sandbox's fuel.
pub const MAX_TOKENS: usize = 200_000;

/// Whether a path is a test file, which is not checked: tests log and
/// post made-up data on purpose.
pub fn is_test_path(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    let name = lower.rsplit('/').next().unwrap_or(&lower);
    let in_test_dir = lower
        .split('/')
        .rev()
        .skip(1)
        .any(|d| matches!(d, "test" | "tests" | "__tests__" | "spec" | "testdata"));
    in_test_dir
        || name.starts_with("test_")
        || name == "conftest.py"
        || name.ends_with("_test.go")
        || name.ends_with("_test.py")
        || [".test.", ".spec."].iter().any(|m| name.contains(m))
}

/// Reads one source file.
pub fn scan(lang: Lang, text: &str) -> Facts {
    let mut toks = lex::tokenize(lang, text);
    toks.truncate(MAX_TOKENS);
    let code = Code::new(lang, toks);
    let mut facts = Facts::default();
    logging(lang, &code, &mut facts);
    fields(lang, &code, text, &mut facts);
    routes(lang, &code, &mut facts);
    transport(lang, &code, &mut facts);
    signs(lang, &code, &mut facts);
    // Logging in, out or for a token changes no record.
    facts.routes.retain(|r| {
        ![
            "login", "logout", "signin", "sign-in", "token", "session", "/auth",
        ]
        .iter()
        .any(|m| r.context.contains(m))
    });
    facts.routes.sort_by_key(|r| (r.line, r.method));
    facts
        .routes
        .dedup_by(|a, b| a.line == b.line && a.method == b.method);
    facts
}

fn first_on_line(toks: &[Tok<'_>], i: usize) -> bool {
    i == 0 || toks.get(i - 1).is_some_and(|p| p.line < toks[i].line)
}

// ---------------------------------------------------------------------
// Logging calls

/// Level names of logging methods (compared in lower case).
const LOG_LEVELS: &[&str] = &[
    "debug",
    "info",
    "warn",
    "warning",
    "error",
    "critical",
    "exception",
    "fatal",
    "trace",
    "log",
    "print",
    "println",
    "printf",
    "fatalf",
    "fatalln",
    "errorf",
    "infof",
    "warnf",
    "debugf",
    "infow",
    "errorw",
    "warnw",
    "debugw",
    "panicf",
];

/// Logging libraries and objects, as receivers of a level method.
const LOG_RECEIVERS: &[&str] = &[
    "console", "slog", "tracing", "winston", "pino", "zap", "sugar", "logrus", "zerolog",
];

/// Rust macros that log or print.
const LOG_MACROS: &[&str] = &[
    "println", "eprintln", "print", "eprint", "info", "warn", "error", "debug", "trace", "dbg",
];

/// Whether the call opened at `open` writes a log line or prints.
pub fn is_log_call(lang: Lang, code: &Code<'_>, open: usize) -> bool {
    let (callee, _) = code.callee(open);
    let segments: Vec<String> = callee
        .split(['.', ':'])
        .filter(|s| !s.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let Some(last) = segments.last() else {
        return false;
    };
    let is_macro = code.punct_at(open.wrapping_sub(1), "!");
    if segments.len() == 1 {
        return match lang {
            Lang::Python => last == "print",
            Lang::Rust => is_macro && LOG_MACROS.contains(&last.as_str()),
            Lang::Go => last == "println" || last == "print",
            Lang::JavaScript | Lang::Java => false,
        };
    }
    if lang == Lang::Rust && is_macro && LOG_MACROS.contains(&last.as_str()) {
        return true;
    }
    if !LOG_LEVELS.contains(&last.as_str()) {
        return false;
    }
    let receivers = &segments[..segments.len() - 1];
    receivers.iter().any(|s| {
        s == "log"
            || s == "logging"
            || s.ends_with("logger")
            || s.ends_with("_log")
            || LOG_RECEIVERS.contains(&s.as_str())
            || (s == "fmt" && last.starts_with("print"))
    }) || (receivers.iter().any(|s| s == "system")
        && receivers.iter().any(|s| s == "out" || s == "err"))
}

/// The identifiers inside `{…}` of a format string or template:
/// `card.number` gives `card`, `number` and `card.number`.
fn braced_names(content: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = content;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        let inner = &after[..close];
        let path: Vec<&str> = inner
            .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
            .next()
            .unwrap_or("")
            .split('.')
            .filter(|s| !s.is_empty())
            .collect();
        names.extend(path.iter().map(|s| s.to_string()));
        if path.len() >= 2 {
            names.push(path[path.len() - 2..].join("."));
        }
        rest = &after[close + 1..];
    }
    names
}

/// Callee words that protect a value before it is logged
/// (`mask(card_number)`, `redact(email)`).
const PROTECTING_CALLS: &[&str] = &[
    "mask",
    "redact",
    "hash",
    "encrypt",
    "last4",
    "tokenize",
    "tokenise",
    "truncate",
    "scrub",
    "anonymize",
    "anonymise",
    "pseudonymize",
    "pseudonymise",
    "sanitize",
    "sanitise",
];

/// The names an argument range of the log call opened at `log_open`
/// refers to: identifiers, member accesses `a.b`, and names interpolated into
/// strings; not values passed through a masking call or indexed
/// (`card_number[-4:]`).
fn names_in(lang: Lang, code: &Code<'_>, log_open: usize, range: (usize, usize)) -> Vec<String> {
    let mut names = Vec::new();
    for j in range.0..range.1.min(code.toks.len()) {
        let t = &code.toks[j];
        let protected = || {
            code.punct_at(j + 1, "[")
                || enclosing_calls(code, j)
                    .take_while(|&o| o != log_open)
                    .any(|o| {
                        let callee = code.callee_name(o).to_ascii_lowercase();
                        PROTECTING_CALLS.iter().any(|p| callee.contains(p))
                    })
        };
        match t.kind {
            lex::Kind::Ident => {
                if code.punct_at(j + 1, "(") || protected() {
                    continue;
                }
                names.push(t.text.to_string());
                if j >= 2
                    && code.punct_at(j - 1, ".")
                    && code.tok(j - 2).is_some_and(|p| p.kind == lex::Kind::Ident)
                {
                    names.push(format!("{}.{}", code.toks[j - 2].text, t.text));
                }
            }
            lex::Kind::Str if (t.interpolated || lang == Lang::Rust) && !protected() => {
                names.extend(braced_names(t.content));
            }
            _ => {}
        }
    }
    names
}

/// Words that name who acted, in a log call that records an action.
const ACTOR_WORDS: &[&str] = &[
    "user",
    "username",
    "actor",
    "sub",
    "subject",
    "principal",
    "claims",
    "identity",
    "caller",
    "operator",
    "who",
    "uid",
];

fn logging(lang: Lang, code: &Code<'_>, facts: &mut Facts) {
    for open in code.calls() {
        let (callee, _) = code.callee(open);
        if callee.to_ascii_lowercase().contains("audit") {
            facts.audit_call = true;
        }
        if !is_log_call(lang, code, open) {
            continue;
        }
        let mut sensitive: Vec<(String, Vec<Kind>)> = Vec::new();
        for arg in code.args(open) {
            for name in names_in(lang, code, open, arg) {
                let words = data::words(&name);
                if words.iter().any(|w| ACTOR_WORDS.contains(&w.as_str())) {
                    facts.actor_logged = true;
                }
                let kinds = data::classify(&name, true);
                if !kinds.is_empty() && !sensitive.iter().any(|(n, _)| *n == name) {
                    sensitive.push((name, kinds));
                }
            }
        }
        // `card.number` already says what `card` would.
        let joined: Vec<String> = sensitive
            .iter()
            .filter(|(n, _)| n.contains('.'))
            .map(|(n, _)| n.clone())
            .collect();
        sensitive.retain(|(n, _)| {
            n.contains('.') || !joined.iter().any(|j| j.split('.').any(|p| p == n))
        });
        if !sensitive.is_empty() {
            facts.logged.push(Logged {
                line: code.toks[open].line,
                callee,
                names: sensitive,
            });
        }
    }
}

// ---------------------------------------------------------------------
// Model fields

fn push_field(facts: &mut Facts, line: u32, name: &str, model: &str) {
    let kinds = data::classify(name, false);
    if !kinds.is_empty() {
        facts.fields.push(Field {
            line,
            name: name.to_string(),
            model: model.to_string(),
            kinds,
        });
    }
}

/// Callees that declare a column in a Python model (`Column`,
/// `mapped_column`, Django's `*Field`, pydantic's `Field`).
fn is_python_column(name: &str) -> bool {
    name == "Column" || name == "mapped_column" || name.ends_with("Field")
}

fn fields(lang: Lang, code: &Code<'_>, text: &str, facts: &mut Facts) {
    if lang == Lang::Python {
        python_fields(code, text, facts);
    } else {
        brace_fields(lang, code, facts);
    }
}

/// Python class attributes: `email: str`, `email = Column(…)` directly in
/// a class body (indentation decides, so method bodies are left out).
fn python_fields(code: &Code<'_>, text: &str, facts: &mut Facts) {
    let lines: Vec<&str> = text.lines().collect();
    let indent = |line: u32| -> usize {
        lines
            .get((line as usize).wrapping_sub(1))
            .map_or(0, |l| l.len() - l.trim_start().len())
    };
    // (is a class, indentation, name)
    let mut scopes: Vec<(bool, usize, &str)> = Vec::new();
    let toks = &code.toks;
    for i in 0..toks.len() {
        let t = &toks[i];
        if t.kind != lex::Kind::Ident || !first_on_line(toks, i) || code.enclosing[i].is_some() {
            continue;
        }
        let at = indent(t.line);
        while scopes.last().is_some_and(|s| s.1 >= at) {
            scopes.pop();
        }
        let next = code.tok(i + 1);
        let is_async_def = t.is_ident("async") && code.ident_at(i + 1, "def");
        if t.is_ident("class") || t.is_ident("def") || is_async_def {
            let name_at = if is_async_def { i + 2 } else { i + 1 };
            let name = code.tok(name_at).map_or("", |n| n.text);
            scopes.push((t.is_ident("class"), at, name));
            continue;
        }
        let Some(&(true, _, model)) = scopes.last() else {
            continue;
        };
        let annotated = next.is_some_and(|n| n.is_punct(":"))
            && code.tok(i + 2).is_some_and(|n| n.kind == lex::Kind::Ident);
        let column = next.is_some_and(|n| n.is_punct("="))
            && code.tok(i + 2).is_some_and(|n| n.kind == lex::Kind::Ident)
            && (i + 3..(i + 8).min(toks.len()))
                .find(|&j| toks[j].is_punct("("))
                .is_some_and(|open| is_python_column(code.callee_name(open)));
        if annotated || column {
            push_field(facts, t.line, t.text, model);
        }
    }
}

/// Modifiers that may come before a field's name.
const FIELD_MODIFIERS: &[&str] = &[
    "pub",
    "readonly",
    "public",
    "private",
    "protected",
    "declare",
    "static",
    "final",
    "transient",
    "volatile",
];

/// Fields of brace-delimited models: Go and Rust structs, TypeScript
/// interfaces, type literals and classes, Mongoose/Sequelize schema
/// objects, Java classes, interfaces and records (a record's components
/// are its fields; [`java_record`]).
fn brace_fields(lang: Lang, code: &Code<'_>, facts: &mut Facts) {
    let toks = &code.toks;
    // For each open brace, the model it opens, if it opens one.
    let mut stack: Vec<Option<String>> = Vec::new();
    // The `{` of the Java record whose header was just read, and the
    // record's name.
    let mut record_body: Option<(usize, String)> = None;
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        if t.is_punct("{") || t.is_punct("${") {
            let model = match record_body.take_if(|(open, _)| *open == i) {
                Some((_, name)) => Some(name),
                None => model_opened(lang, code, i),
            };
            stack.push(model);
            i += 1;
            continue;
        }
        if t.is_punct("}") {
            stack.pop();
            i += 1;
            continue;
        }
        if lang == Lang::Java
            && let Some(record) = java_record(code, i)
        {
            // A member record is named by its enclosing model, as Java
            // does (`Card.Input`): the request body of a resource is the
            // same resource.
            let name = match stack.last() {
                Some(Some(outer)) if !outer.is_empty() => format!("{outer}.{}", record.name),
                _ => record.name.to_string(),
            };
            for at in record.components {
                push_field(facts, toks[at].line, toks[at].text, &name);
            }
            record_body = Some((record.body, name));
            // The header is read: its components are not class fields.
            i = record.body;
            continue;
        }
        let here = i;
        i += 1;
        let Some(Some(model)) = stack.last() else {
            continue;
        };
        if !first_on_line(toks, here) {
            continue;
        }
        if let Some(name_at) = field_name_at(lang, code, here) {
            let name = toks[name_at].text;
            let model = model.clone();
            push_field(facts, toks[name_at].line, name, &model);
        }
    }
}

/// Most tokens of a Java record header (`record Name<…>(…) implements … {`)
/// read; a longer one is not taken for a record, which keeps the scan
/// linear on malformed input that repeats `record X(`.
pub const MAX_RECORD_HEADER_TOKENS: usize = 2_000;

/// A Java record declaration (Java 16+).
struct JavaRecord<'a> {
    name: &'a str,
    /// Token index of each component's name.
    components: Vec<usize>,
    /// Token index of the `{` opening its body.
    body: usize,
}

/// The record declared at token `i`: `record Name(Type a, @Ann Type b)`,
/// with type parameters (`record Page<T>(List<T> items)`) and an
/// `implements` clause, followed by its body. `record` is a contextual
/// keyword, so a variable, parameter or method named `record`
/// (`T record = …`, `void record(…)`, `record.id()`, `record -> …`) is
/// not a declaration: a declaration is `record`, a name, then `<` or `(`,
/// and a `{` after the components.
fn java_record<'a>(code: &Code<'a>, i: usize) -> Option<JavaRecord<'a>> {
    let toks = &code.toks;
    if !toks[i].is_ident("record")
        || code.punct_at(i.wrapping_sub(1), ".")
        || code.punct_at(i.wrapping_sub(1), "::")
    {
        return None;
    }
    let name = code.tok(i + 1).filter(|t| t.kind == lex::Kind::Ident)?;
    let end = (i + MAX_RECORD_HEADER_TOKENS).min(toks.len());
    let stops = |t: &Tok<'_>| ["{", "}", ";", "=", "->"].iter().any(|p| t.is_punct(p));
    let mut j = i + 2;
    // Type parameters: `<T extends Comparable<T>>` (`>>` is two tokens).
    if code.punct_at(j, "<") {
        let mut depth = 0usize;
        loop {
            let t = toks[..end].get(j)?;
            if stops(t) || t.is_punct("(") || t.is_punct(")") {
                return None;
            }
            if t.is_punct("<") {
                depth += 1;
            } else if t.is_punct(">") {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            j += 1;
        }
        j += 1;
    }
    if !code.punct_at(j, "(") {
        return None;
    }
    // Components, split at commas outside brackets, annotation arguments
    // and type arguments (`Map<String, Object> data`); the name is the
    // last token of each.
    let mut components = Vec::new();
    let mut parens = 0usize;
    let mut angles = 0usize;
    let mut start = j + 1;
    j += 1;
    loop {
        let t = toks[..end].get(j)?;
        if parens == 0 {
            if stops(t) {
                return None;
            }
            if t.is_punct("<") {
                angles += 1;
            } else if t.is_punct(">") {
                angles = angles.saturating_sub(1);
            }
        }
        let closes = t.is_punct(")") && parens == 0;
        if closes || (t.is_punct(",") && parens == 0 && angles == 0) {
            let last = &toks[j - 1];
            if j >= start + 2 && last.kind == lex::Kind::Ident {
                components.push(j - 1);
            }
            start = j + 1;
            if closes {
                break;
            }
        } else if t.is_punct("(") || t.is_punct("[") || t.is_punct("{") {
            parens += 1;
        } else if t.is_punct(")") || t.is_punct("]") || t.is_punct("}") {
            parens = parens.saturating_sub(1);
        }
        j += 1;
    }
    // `implements A, B<C>` up to the body.
    j += 1;
    loop {
        let t = toks[..end].get(j)?;
        if t.is_punct("{") {
            break;
        }
        if stops(t) || t.is_punct("(") || t.is_punct(")") {
            return None;
        }
        j += 1;
    }
    Some(JavaRecord {
        name: name.text,
        components,
        body: j,
    })
}

/// The model a `{` at `i` opens: `type Name struct {`, `struct Name {`,
/// `interface Name {`, `class Name … {`, `type Name = {`, `Schema({`,
/// `define("name", {`.
fn model_opened(lang: Lang, code: &Code<'_>, i: usize) -> Option<String> {
    let ident = |j: usize| code.tok(j).filter(|t| t.kind == lex::Kind::Ident);
    match lang {
        Lang::Go => {
            if code.ident_at(i.wrapping_sub(1), "struct") {
                let name = ident(i.wrapping_sub(2)).map_or("", |t| t.text);
                return Some(name.to_string());
            }
            None
        }
        Lang::Rust => {
            if code.ident_at(i.wrapping_sub(2), "struct") {
                return ident(i - 1).map(|t| t.text.to_string());
            }
            None
        }
        Lang::JavaScript | Lang::Java => {
            // Back over the declaration's line: `export interface Name
            // extends Base {`, `class Name implements X {`.
            let line = code.toks[i].line;
            let mut j = i;
            while j > 0 && code.toks[j - 1].line == line {
                j -= 1;
                let t = &code.toks[j];
                if t.is_ident("interface") || t.is_ident("class") {
                    return ident(j + 1).map(|n| n.text.to_string());
                }
            }
            if code.punct_at(i.wrapping_sub(1), "=") && code.ident_at(i.wrapping_sub(3), "type") {
                return ident(i - 2).map(|t| t.text.to_string());
            }
            if lang == Lang::JavaScript
                && let Some(open) = code.enclosing[i]
            {
                let callee = code.callee_name(open);
                let schema = open + 1 == i && matches!(callee, "Schema" | "init");
                let define = callee == "define" && code.args(open).get(1).is_some_and(|a| a.0 == i);
                if schema || define {
                    let (_, start) = code.callee(open);
                    let start = if code.ident_at(start.wrapping_sub(1), "new") {
                        start - 1
                    } else {
                        start
                    };
                    let name = if define {
                        code.tok(open + 1)
                            .filter(|t| t.kind == lex::Kind::Str)
                            .map_or("", |t| t.content)
                    } else if code.punct_at(start.wrapping_sub(1), "=") {
                        ident(start.wrapping_sub(2)).map_or("", |t| t.text)
                    } else {
                        ""
                    };
                    return Some(name.to_string());
                }
            }
            None
        }
        Lang::Python => None,
    }
}

/// The token index of a field's name in the declaration starting at `i`
/// (the first token of its line, inside a model's braces).
fn field_name_at(lang: Lang, code: &Code<'_>, i: usize) -> Option<usize> {
    let toks = &code.toks;
    let line = toks[i].line;
    let mut j = i;
    // Decorators and annotations: `@Column()`, `@NotNull`.
    while code.punct_at(j, "@") {
        j += 2;
        if code.punct_at(j, "(") {
            j = code.close_of(j) + 1;
        }
    }
    while code
        .tok(j)
        .is_some_and(|t| FIELD_MODIFIERS.contains(&t.text))
    {
        j += 1;
        if code.punct_at(j, "(") {
            // `pub(crate)`
            j = code.close_of(j) + 1;
        }
    }
    let t = code.tok(j)?;
    if t.kind != lex::Kind::Ident || t.line != line {
        return None;
    }
    let next = code.tok(j + 1)?;
    match lang {
        Lang::Go => {
            let typed = next.kind == lex::Kind::Ident || next.is_punct("*") || next.is_punct("[");
            (typed && next.line == line).then_some(j)
        }
        Lang::Rust => next.is_punct(":").then_some(j),
        Lang::JavaScript => {
            let colon = next.is_punct(":")
                || ((next.is_punct("?") || next.is_punct("!")) && code.punct_at(j + 2, ":"));
            colon.then_some(j)
        }
        Lang::Java => {
            // `Type name;` or `Type<A> name = …;`: the identifier before
            // the first `;` or `=` of the line, with no `(` before it.
            let mut k = j;
            while let Some(t) = code.tok(k) {
                if t.line != line || t.is_punct("(") || t.is_punct("{") {
                    return None;
                }
                if t.is_punct(";") || t.is_punct("=") {
                    return (k > j + 1 && toks[k - 1].kind == lex::Kind::Ident).then(|| k - 1);
                }
                k += 1;
            }
            None
        }
        Lang::Python => None,
    }
}

// ---------------------------------------------------------------------
// Routes

const MUTATING: [&str; 4] = ["POST", "PUT", "PATCH", "DELETE"];

fn method_of(word: &str) -> Option<&'static str> {
    let upper = word.to_ascii_uppercase();
    let upper = upper.strip_prefix("METHOD").unwrap_or(&upper);
    MUTATING.iter().copied().find(|m| *m == upper)
}

/// The first string argument of the call opened at `open`, if it is a
/// path (`/…`).
fn path_arg<'a>(code: &Code<'a>, open: usize) -> Option<&'a str> {
    let first = code.tok(open + 1)?;
    (first.kind == lex::Kind::Str && first.content.starts_with('/')).then_some(first.content)
}

/// Whether a JavaScript file serves HTTP (rather than calling an API).
fn js_serves_http(code: &Code<'_>) -> bool {
    code.toks.iter().any(|t| {
        (t.kind == lex::Kind::Str
            && [
                "express",
                "fastify",
                "koa-router",
                "@koa/router",
                "hono",
                "@nestjs/common",
            ]
            .contains(&t.content))
            || t.is_ident("Router")
            || t.is_ident("express")
    })
}

fn routes(lang: Lang, code: &Code<'_>, facts: &mut Facts) {
    let toks = &code.toks;
    let js_server = lang == Lang::JavaScript && js_serves_http(code);
    for open in code.calls() {
        let name = code.callee_name(open);
        let (callee, start) = code.callee(open);
        let line = toks[open].line;
        let decorated = code.punct_at(start.wrapping_sub(1), "@");
        let mut push = |method: &'static str, context: String| {
            facts.routes.push(Route {
                line,
                method,
                context: context.to_ascii_lowercase(),
            });
        };
        match lang {
            Lang::Python => {
                // `@router.post("/…")`, `@app.route("/…", methods=["POST"])`
                if !decorated || !callee.contains('.') {
                    continue;
                }
                let handler = next_def_name(code, open);
                if let Some(method) = method_of(name) {
                    push(
                        method,
                        format!("{} {handler}", path_arg(code, open).unwrap_or("")),
                    );
                } else if name == "route" {
                    let args = code.args(open);
                    if let Some(methods) = code.kwarg(&args, "methods") {
                        for t in code.slice(methods) {
                            if let Some(m) = (t.kind == lex::Kind::Str)
                                .then(|| method_of(t.content))
                                .flatten()
                            {
                                push(
                                    m,
                                    format!("{} {handler}", path_arg(code, open).unwrap_or("")),
                                );
                            }
                        }
                    }
                }
            }
            Lang::JavaScript => {
                if decorated {
                    // NestJS `@Post()`, `@Delete(":id")`.
                    if let Some(method) =
                        method_of(name).filter(|_| name.starts_with(char::is_uppercase))
                    {
                        push(method, callee);
                    }
                    continue;
                }
                if !js_server || !callee.contains('.') {
                    continue;
                }
                if let Some(method) =
                    method_of(name).filter(|_| name.chars().all(|c| c.is_ascii_lowercase()))
                    && let Some(path) = path_arg(code, open)
                {
                    push(method, path.to_string());
                }
            }
            Lang::Go => {
                // gin/echo `r.POST("/…")`, chi `r.Post("/…")`.
                if callee.contains('.')
                    && let Some(method) = method_of(name)
                    && let Some(path) = path_arg(code, open)
                {
                    push(method, format!("{path} {}", enclosing_func(code, open)));
                }
            }
            Lang::Rust => {
                // axum `.route("/x", get(a).post(b))`, `web::post()`.
                let Some(method) =
                    method_of(name).filter(|_| name.chars().all(|c| c.is_ascii_lowercase()))
                else {
                    continue;
                };
                if callee.starts_with("web::") {
                    push(method, String::new());
                    continue;
                }
                let route = enclosing_calls(code, open).find(|&o| code.callee_name(o) == "route");
                if let Some(route) = route {
                    let handler = code.tok(open + 1).map_or("", |t| t.text);
                    push(
                        method,
                        format!("{} {handler}", path_arg(code, route).unwrap_or("")),
                    );
                }
            }
            Lang::Java => {
                // Spring `@PostMapping("/…")`.
                if decorated && let Some(m) = name.strip_suffix("Mapping").and_then(method_of) {
                    push(m, path_arg(code, open).unwrap_or("").to_string());
                }
            }
        }
    }
    for (i, t) in toks.iter().enumerate() {
        let line = t.line;
        match lang {
            // Go: `case http.MethodDelete:`, `r.Method == "POST"`, and Go
            // 1.22 patterns `"DELETE /cards/{id}"`; not a client request.
            Lang::Go => {
                let method = if t.kind == lex::Kind::Ident
                    && code.punct_at(i.wrapping_sub(1), ".")
                    && code.ident_at(i.wrapping_sub(2), "http")
                {
                    method_of(t.text).filter(|_| t.text.starts_with("Method"))
                } else if t.kind == lex::Kind::Str {
                    let pattern = t.content.split_once(" /").and_then(|(m, _)| method_of(m));
                    let compared = code
                        .before(i, 1)
                        .is_some_and(|p| p.is_ident("case") || p.is_punct("=="));
                    pattern.or_else(|| compared.then(|| method_of(t.content)).flatten())
                } else {
                    None
                };
                let Some(method) = method else { continue };
                // Inside a call it is an argument: a client request
                // (`http.NewRequest(http.MethodPost, …)`) or the list of
                // allowed methods of a 405 answer.
                let in_call = code.enclosing[i].is_some();
                if !in_call || t.kind == lex::Kind::Str && t.content.contains(" /") {
                    facts.routes.push(Route {
                        line,
                        method,
                        context: format!("{} {}", t.content, enclosing_func(code, i))
                            .to_ascii_lowercase(),
                    });
                }
            }
            // actix `#[post("/…")]`, JAX-RS `@POST`.
            Lang::Rust | Lang::Java => {
                let attribute = (lang == Lang::Rust
                    && code.punct_at(i.wrapping_sub(1), "[")
                    && code.punct_at(i.wrapping_sub(2), "#")
                    && code.punct_at(i + 1, "("))
                    || (lang == Lang::Java
                        && code.punct_at(i.wrapping_sub(1), "@")
                        && t.text.chars().all(|c| c.is_ascii_uppercase()));
                let mapping = lang == Lang::Java
                    && code.punct_at(i.wrapping_sub(1), "@")
                    && !code.punct_at(i + 1, "(");
                let method = if mapping {
                    t.text.strip_suffix("Mapping").and_then(method_of)
                } else if attribute {
                    method_of(t.text)
                } else {
                    None
                };
                if t.kind == lex::Kind::Ident
                    && let Some(method) = method
                {
                    let path = code
                        .tok(i + 2)
                        .filter(|s| s.kind == lex::Kind::Str)
                        .map_or("", |s| s.content);
                    facts.routes.push(Route {
                        line,
                        method,
                        context: path.to_ascii_lowercase(),
                    });
                }
            }
            _ => {}
        }
    }
}

/// The `(` of every call enclosing token `i`, innermost first.
fn enclosing_calls<'c>(code: &'c Code<'_>, i: usize) -> impl Iterator<Item = usize> + 'c {
    let mut at = code.enclosing.get(i).copied().flatten();
    std::iter::from_fn(move || {
        let open = at?;
        at = code.enclosing.get(open).copied().flatten();
        Some(open)
    })
}

/// The name of the Python function defined after a decorator call.
fn next_def_name<'a>(code: &Code<'a>, open: usize) -> &'a str {
    let end = (open + 200).min(code.toks.len());
    (open..end)
        .find(|&j| code.toks[j].is_ident("def"))
        .and_then(|j| code.tok(j + 1))
        .map_or("", |t| t.text)
}

/// The name of the Go function (or method) token `i` is in: the last
/// `func` before it.
fn enclosing_func<'a>(code: &Code<'a>, i: usize) -> &'a str {
    let Some(f) = (0..i.min(code.toks.len()))
        .rev()
        .find(|&j| code.toks[j].is_ident("func"))
    else {
        return "";
    };
    let mut j = f + 1;
    if code.punct_at(j, "(") {
        j = code.close_of(j) + 1;
    }
    code.tok(j)
        .filter(|t| t.kind == lex::Kind::Ident)
        .map_or("", |t| t.text)
}

// ---------------------------------------------------------------------
// Transport

/// What a URL, database URL or connection string in a string literal or
/// configuration value gives away, if anything: a plain-HTTP URL to a
/// host that is not local, or TLS turned off.
pub fn insecure_text(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    for scheme in ["http://", "ws://"] {
        let mut from = 0;
        while let Some(at) = lower[from..].find(scheme) {
            let start = from + at;
            from = start + scheme.len();
            // `https://` does not contain `http://`, but `xhttp://` would.
            if start > 0 && lower.as_bytes()[start - 1].is_ascii_alphanumeric() {
                continue;
            }
            let host = host_of(&lower[from..]);
            if !is_local_or_reserved(host) {
                return Some(format!("the plain-text URL `{scheme}{host}`"));
            }
        }
    }
    if lower.contains("sslmode=disable") || lower.contains("sslmode: disable") {
        return Some("`sslmode=disable`".into());
    }
    if lower.contains("://") {
        for setting in ["ssl=false", "usessl=false", "tls=false", "encrypt=false"] {
            if lower
                .match_indices(setting)
                .any(|(at, _)| at > 0 && matches!(lower.as_bytes()[at - 1], b'?' | b'&' | b';'))
            {
                return Some(format!("`{setting}` in a connection URL"));
            }
        }
    }
    None
}

/// The host of a URL's remainder after `scheme://`.
fn host_of(rest: &str) -> &str {
    let rest = rest.rsplit_once('@').map_or(rest, |(_, h)| {
        // Only userinfo before the first `/` counts.
        if h.len() < rest.len() && !rest[..rest.len() - h.len()].contains('/') {
            h
        } else {
            rest
        }
    });
    let end = rest
        .find(|c: char| {
            !(c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_' || c == '[' || c == ']')
        })
        .unwrap_or(rest.len());
    let host = &rest[..end];
    // `[::1]:8080`: keep the bracketed address whole.
    if host.starts_with('[') {
        return rest.find(']').map_or(host, |e| &rest[..=e]);
    }
    host
}

/// Host suffixes of documentation, tests and XML namespaces.
const RESERVED_SUFFIXES: &[&str] = &[
    ".localhost",
    ".local",
    ".internal",
    ".svc",
    ".test",
    ".example",
    ".invalid",
    "example.com",
    "example.org",
    "example.net",
];

/// Hosts that name a schema or namespace, never a server that is called.
const NAMESPACE_HOSTS: &[&str] = &[
    "www.w3.org",
    "w3.org",
    "json-schema.org",
    "schemas.xmlsoap.org",
    "schemas.microsoft.com",
    "schemas.android.com",
    "purl.org",
    "xmlns.com",
    "xmlns.jcp.org",
    "java.sun.com",
    "ns.adobe.com",
    "www.apache.org",
    "maven.apache.org",
];

/// Whether a host is loopback, private, a single-label service name, a
/// reserved documentation name, a namespace URI or not a literal host (a
/// placeholder): nothing crosses a public network in clear text.
fn is_local_or_reserved(host: &str) -> bool {
    let host = host.trim_matches(['[', ']']);
    // Empty (a placeholder follows), an IPv6 literal, or a single-label
    // service or container name.
    if host.is_empty() || host.contains(':') || !host.contains('.') {
        return true;
    }
    let octets: Vec<u8> = host.split('.').filter_map(|p| p.parse().ok()).collect();
    if octets.len() == 4 {
        return matches!(
            octets[..],
            [127, ..] | [10, ..] | [0, ..] | [192, 168, ..] | [169, 254, ..]
        ) || (octets[0] == 172 && (16..32).contains(&octets[1]));
    }
    RESERVED_SUFFIXES.iter().any(|s| host.ends_with(s)) || NAMESPACE_HOSTS.contains(&host)
}

fn transport(lang: Lang, code: &Code<'_>, facts: &mut Facts) {
    let toks = &code.toks;
    let mut push = |line: u32, what: String| {
        if !facts.transport.iter().any(|(l, _)| *l == line) {
            facts.transport.push((line, what));
        }
    };
    for (i, t) in toks.iter().enumerate() {
        if t.kind == lex::Kind::Str {
            if let Some(what) = insecure_text(t.content) {
                push(t.line, what);
            }
            if t.content == "NODE_TLS_REJECT_UNAUTHORIZED"
                && code.punct_at(i + 2, "=")
                && code
                    .tok(i + 3)
                    .is_some_and(|v| v.kind == lex::Kind::Str && v.content == "0")
            {
                push(
                    t.line,
                    "`NODE_TLS_REJECT_UNAUTHORIZED = \"0\"` (certificate checks off)".into(),
                );
            }
            continue;
        }
        if t.kind != lex::Kind::Ident {
            continue;
        }
        let value = |v: &str| code.tok(i + 2).is_some_and(|n| n.is_ident(v));
        let assigned = code.punct_at(i + 1, "=") || code.punct_at(i + 1, ":");
        let off = match (lang, t.text) {
            (Lang::Python, "verify") => assigned && value("False") && code.enclosing[i].is_some(),
            (Lang::Python, "check_hostname") => assigned && value("False"),
            (Lang::Python, "_create_unverified_context" | "CERT_NONE") => true,
            (Lang::Go, "InsecureSkipVerify") => assigned && value("true"),
            (Lang::JavaScript, "rejectUnauthorized" | "strictSSL") => assigned && value("false"),
            (Lang::Rust, "danger_accept_invalid_certs" | "danger_accept_invalid_hostnames") => {
                code.punct_at(i + 1, "(") && value("true")
            }
            (Lang::Java, "NoopHostnameVerifier" | "TrustAllStrategy") => true,
            _ => false,
        };
        if off {
            push(
                t.line,
                format!("`{}` (TLS certificate verification turned off)", t.text),
            );
        }
    }
    facts.transport.sort();
}

// ---------------------------------------------------------------------
// Signs: authentication, encryption, retention

/// Pieces of names (lower case, `_` removed) that mark an authentication
/// mechanism.
const AUTH_MARKS: &[&str] = &[
    "requireuser",
    "requireauth",
    "requirelogin",
    "loginrequired",
    "jwtrequired",
    "authenticate",
    "authmiddleware",
    "authguard",
    "useguards",
    "verifytoken",
    "verifyjwt",
    "currentuser",
    "isauthenticated",
    "preauthorize",
    "rolesallowed",
    "securityfilterchain",
    "authorizehttprequests",
    "oauth2passwordbearer",
    "httpbearer",
    "apikeyheader",
    "basicauth",
    "checkauth",
    "ensureauth",
    "expressjwt",
    "jwtauth",
    "bearerauth",
];

/// Words that mark encryption, keyed hashing or tokenisation.
const PROTECTION_WORDS: &[&str] = &[
    "encrypt",
    "encrypted",
    "encryption",
    "encryptor",
    "encryptors",
    "decrypt",
    "cipher",
    "fernet",
    "aes",
    "aesgcm",
    "kms",
    "bcrypt",
    "argon2",
    "scrypt",
    "pbkdf2",
    "hmac",
    "hashed",
    "hashlib",
    "hashpw",
    "tokenize",
    "tokenized",
    "tokenization",
    "tokenise",
    "tokenised",
    "vault",
    "pgcrypto",
    "seal",
    "sealed",
];

/// Whether a name (split into words) names a data-retention setting.
pub fn is_retention_name(name: &str) -> bool {
    let words = data::words(name);
    if words.iter().any(|w| w == "retention" || w == "retain") {
        return true;
    }
    let expiry = words.iter().any(|w| {
        matches!(
            w.as_str(),
            "ttl" | "expire" | "expires" | "expiry" | "expiration" | "purge"
        )
    });
    let not_data = words.iter().any(|w| {
        matches!(
            w.as_str(),
            "token"
                | "jwt"
                | "session"
                | "cookie"
                | "cache"
                | "password"
                | "otp"
                | "link"
                | "lock"
                | "access"
                | "refresh"
                | "auth"
                | "login"
                | "reset"
                | "verification"
                | "invite"
                | "card"
                | "month"
                | "year"
                | "date"
                | "signature"
                | "url"
                | "presigned"
                | "csrf"
                | "nonce"
                | "key"
                | "secret"
                | "cert"
                | "certificate"
                | "at"
                | "in"
        )
    });
    // `expiresSeconds`, `DEFAULT_EXPIRY_MINUTES`: a lifetime in seconds or
    // minutes that names no subject is a token's or a link's; records are
    // kept for days (`RECORD_TTL_SECONDS` names its subject).
    let sub_day = |w: &str| matches!(w, "seconds" | "secs" | "minutes" | "mins" | "ms" | "millis");
    let lifetime = words.last().is_some_and(|w| sub_day(w))
        && words.iter().all(|w| {
            sub_day(w)
                || matches!(
                    w.as_str(),
                    "ttl"
                        | "expire"
                        | "expires"
                        | "expiry"
                        | "expiration"
                        | "default"
                        | "max"
                        | "min"
                )
        });
    expiry && words.len() > 1 && !not_data && !lifetime
}

/// Whether the Java identifier at `i` is the `sealed` (or `non-sealed`)
/// class modifier, which restricts subclasses and has nothing to do with
/// sealing data: `sealed interface Payment permits Card`. A variable
/// `sealed` (`byte[] sealed = cipher.doFinal(…)`) is followed by
/// punctuation, the modifier by a keyword or another modifier.
fn is_java_sealed_modifier(code: &Code<'_>, i: usize) -> bool {
    code.toks[i].text == "sealed" && code.tok(i + 1).is_some_and(|n| n.kind == lex::Kind::Ident)
}

fn signs(lang: Lang, code: &Code<'_>, facts: &mut Facts) {
    for (i, t) in code.toks.iter().enumerate() {
        match t.kind {
            lex::Kind::Ident => {
                let joined = t.text.to_ascii_lowercase().replace('_', "");
                if AUTH_MARKS.iter().any(|m| joined.contains(m)) {
                    facts.auth = true;
                }
                let words = data::words(t.text);
                if words.iter().any(|w| PROTECTION_WORDS.contains(&w.as_str()))
                    && !(lang == Lang::Java && is_java_sealed_modifier(code, i))
                {
                    facts.protection = true;
                }
                // `javax.crypto` (`Cipher`, `Mac` for HMAC, `SecretKeySpec`):
                // Java names its algorithms in strings (`"HmacSHA256"`), so
                // the package is the sign.
                if lang == Lang::Java
                    && t.text == "crypto"
                    && code.punct_at(i.wrapping_sub(1), ".")
                    && code.ident_at(i.wrapping_sub(2), "javax")
                {
                    facts.protection = true;
                }
                if facts.retention.is_none() && is_retention_name(t.text) {
                    facts.retention = Some(t.line);
                }
                // `jwt.verify(…)`, `jwt.decode`, `jwt.Parse`, Go's
                // `s.protect(handler)` wrapper of the shipped agent.
                let after_jwt = code.punct_at(i.wrapping_sub(1), ".")
                    && code
                        .tok(i.wrapping_sub(2))
                        .is_some_and(|p| p.text.eq_ignore_ascii_case("jwt"));
                if after_jwt && matches!(t.text, "verify" | "decode" | "Parse" | "ParseWithClaims")
                {
                    facts.auth = true;
                }
                if lang == Lang::Go && t.text == "protect" && code.punct_at(i + 1, "(") {
                    facts.auth = true;
                }
            }
            lex::Kind::Str => {
                let content = t.content.trim();
                if [
                    "authorization",
                    "jsonwebtoken",
                    "x-api-key",
                    "passport",
                    "express-jwt",
                ]
                .iter()
                .any(|m| content.eq_ignore_ascii_case(m))
                {
                    facts.auth = true;
                }
                if facts.retention.is_none()
                    && !content.contains(' ')
                    && content.len() < 64
                    && is_retention_name(content)
                {
                    facts.retention = Some(t.line);
                }
            }
            _ => {}
        }
    }
}
