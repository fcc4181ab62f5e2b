//! The rules of `qlp/security`, each a function from a tokenized file to
//! hits. The rule table with CWE ids is in the crate documentation.

use crate::code::{Code, MAX_CALL_TOKENS, Value, is_built_string, value_of};
use crate::lex::{Kind, Lang, Tok};
use crate::rules::*;

/// One rule firing on one line, with its message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    pub rule: Rule,
    pub line: u32,
    pub message: String,
}

/// How many tokens around a wildcard CORS origin are searched for the
/// setting that allows credentials (the two usually sit in the same
/// options object, a few lines apart).
const CORS_CREDENTIALS_WINDOW: usize = 60;

/// Names of calls that run SQL text, by last segment: DB-API cursors,
/// SQLAlchemy, Django, pandas, node drivers and ORMs, Go `database/sql`,
/// JDBC/JPA, sqlx and rusqlite.
const SQL_SINKS: &[&str] = &[
    "execute",
    "executemany",
    "executescript",
    "exec_driver_sql",
    "raw",
    "extra",
    "text",
    "read_sql",
    "read_sql_query",
    "query",
    "query_as",
    "query_scalar",
    "query_row",
    "query_map",
    "execute_batch",
    "exec",
    "Exec",
    "Query",
    "QueryRow",
    "ExecContext",
    "QueryContext",
    "QueryRowContext",
    "Raw",
    "executeQuery",
    "executeUpdate",
    "executeLargeUpdate",
    "prepareStatement",
    "prepare",
    "createQuery",
    "createNativeQuery",
    "createSQLQuery",
    "$queryRawUnsafe",
    "$executeRawUnsafe",
    "queryRawUnsafe",
    "executeRawUnsafe",
];

/// Program names that run their `-c` argument as a shell command line.
const SHELLS: &[&str] = &[
    "sh",
    "bash",
    "zsh",
    "dash",
    "ksh",
    "/bin/sh",
    "/bin/bash",
    "/usr/bin/sh",
    "/usr/bin/bash",
    "/bin/zsh",
    "cmd",
    "cmd.exe",
    "powershell",
    "pwsh",
];

/// Calls whose `debug=True` turns on a web framework's debug mode:
/// `app.run` (Flask), `FastAPI`/`Starlette`/`Quart`/`Sanic`/`Litestar`
/// constructors, `uvicorn.run`, Werkzeug's `run_simple`.
const DEBUG_CALLS: &[&str] = &[
    "run",
    "FastAPI",
    "Starlette",
    "Quart",
    "Sanic",
    "Litestar",
    "Flask",
    "run_simple",
];

/// Words that make a hash call a password hash.
const PASSWORD_WORDS: &[&str] = &["password", "passwd", "passphrase", "pwd"];

/// Words that, next to a password word, name something that is not the
/// password itself (a reset token is random and may be hashed quickly).
const NOT_A_PASSWORD: &[&str] = &["reset", "token", "policy", "hint", "length", "url", "field"];

/// Runs every rule over one tokenized file.
pub fn check(lang: Lang, code: &Code<'_>) -> Vec<Hit> {
    let mut hits = Vec::new();
    sql_injection(lang, code, &mut hits);
    command_injection(lang, code, &mut hits);
    code_and_template_injection(lang, code, &mut hits);
    deserialization(lang, code, &mut hits);
    hashing(lang, code, &mut hits);
    ciphers(lang, code, &mut hits);
    tls(lang, code, &mut hits);
    debug_mode(lang, code, &mut hits);
    cors(lang, code, &mut hits);
    hits
}

fn hit(hits: &mut Vec<Hit>, rule: Rule, line: u32, message: String) {
    hits.push(Hit {
        rule,
        line,
        message,
    });
}

// ---------------------------------------------------------------------------
// security/sql-injection

/// Whether a string literal's content reads as an SQL statement.
pub fn looks_like_sql(content: &str) -> bool {
    let lower = content.to_ascii_lowercase();
    let lower = lower.split_whitespace().collect::<Vec<_>>().join(" ");
    (lower.contains("select ") && lower.contains(" from "))
        || lower.contains("insert into ")
        || (lower.starts_with("update ") && lower.contains(" set "))
        || lower.contains("delete from ")
        || lower.contains("drop table ")
}

/// Whether a format string has a placeholder a value is put into.
fn has_format_placeholder(content: &str) -> bool {
    content.contains('{') || content.contains('%')
}

fn sql_injection(lang: Lang, code: &Code<'_>, hits: &mut Vec<Hit>) {
    for (i, t) in code.toks.iter().enumerate() {
        if t.kind != Kind::Str || !looks_like_sql(t.content) {
            continue;
        }
        let Some((how, start)) = dynamic_sql(lang, code, i) else {
            continue;
        };
        let fix = "pass values as bound parameters (`?`, `%s`, `$1`, `:name`) instead";
        if let Some(open) = code.enclosing[start]
            && SQL_SINKS.contains(&code.callee_name(open))
        {
            let (callee, _) = code.callee(open);
            hit(
                hits,
                SQL_INJECTION,
                t.line,
                format!(
                    "SQL passed to `{callee}` is built with {how}: a value containing a quote \
                     changes the statement (CWE-89); {fix}"
                ),
            );
            continue;
        }
        // `query = f"…"` … `cursor.execute(query)`.
        let assigned = code
            .before(start, 1)
            .filter(|op| op.is_punct("=") || op.is_punct(":=") || op.is_punct("+="))
            .and_then(|_| code.before(start, 2))
            .filter(|name| name.kind == Kind::Ident);
        let Some(name) = assigned else { continue };
        let later = code.calls().filter(|&open| open > start).find(|&open| {
            SQL_SINKS.contains(&code.callee_name(open))
                && code
                    .args(open)
                    .first()
                    .is_some_and(|&arg| code.slice(arg).iter().any(|a| a.is_ident(name.text)))
        });
        if let Some(open) = later {
            let (callee, _) = code.callee(open);
            hit(
                hits,
                SQL_INJECTION,
                t.line,
                format!(
                    "`{}` is SQL built with {how} and run by `{callee}` on line {}: a value \
                     containing a quote changes the statement (CWE-89); {fix}",
                    name.text, code.toks[open].line
                ),
            );
        }
    }
}

/// If the SQL literal at `i` is part of a string built from values, how it
/// is built and the index where that expression starts.
fn dynamic_sql(lang: Lang, code: &Code<'_>, i: usize) -> Option<(&'static str, usize)> {
    let t = &code.toks[i];
    // A tagged template (`sql\`… ${id}\``, Prisma's `$queryRaw\`…\``) hands
    // its values to the tag, which binds them as parameters.
    let tagged = lang == Lang::JavaScript
        && t.text.starts_with('`')
        && code.before(i, 1).is_some_and(|p| p.kind == Kind::Ident);
    if t.interpolated && tagged {
        return None;
    }
    if t.interpolated {
        let how = if lang == Lang::Python {
            "an f-string"
        } else {
            "a template literal"
        };
        return Some((how, i));
    }
    // A format call whose first argument is this literal.
    if let Some(open) = code.enclosing[i]
        && open + 1 == i
    {
        let name = code.callee_name(open);
        let (callee, start) = code.callee(open);
        let formats = matches!(
            callee.as_str(),
            "fmt.Sprintf" | "String.format" | "format" | "formatted"
        ) || (name == "format" && lang == Lang::Rust);
        if formats && has_format_placeholder(t.content) {
            let more_args = code.args(open).len() > 1;
            if more_args || (lang == Lang::Rust && t.content.contains('{')) {
                return Some(("a format call", start));
            }
        }
    }
    // Python `%` formatting and `.format(…)`.
    if code.punct_at(i + 1, "%") {
        return Some(("`%` formatting", i));
    }
    if code.punct_at(i + 1, ".") && code.ident_at(i + 2, "format") {
        return Some(("`.format()`", i));
    }
    // Concatenation with something that is not a literal.
    let mut start = i;
    while code.punct_at(start.wrapping_sub(1), "+")
        && code.before(start, 2).is_some_and(|p| p.kind == Kind::Str)
    {
        start -= 2;
    }
    if code.punct_at(start.wrapping_sub(1), "+") {
        return Some(("string concatenation", start));
    }
    let mut j = i;
    while code.punct_at(j + 1, "+") {
        match code.tok(j + 2) {
            Some(next) if next.kind == Kind::Str && !next.interpolated => j += 2,
            Some(_) => return Some(("string concatenation", start)),
            None => break,
        }
    }
    None
}

// ---------------------------------------------------------------------------
// security/command-injection

fn command_injection(lang: Lang, code: &Code<'_>, hits: &mut Vec<Hit>) {
    let js_aliases = if lang == Lang::JavaScript {
        child_process_aliases(code)
    } else {
        Vec::new()
    };
    for open in code.calls() {
        let (callee, start) = code.callee(open);
        let name = code.callee_name(open);
        let args = code.args(open);
        let first = args
            .first()
            .map_or(Value::Empty, |&a| value_of(code.slice(a)));
        let line = code.toks[open].line;
        let qualifier = callee
            .strip_suffix(name)
            .unwrap_or("")
            .trim_end_matches(['.', ':']);
        let message = |what: &str, fix: &str| {
            format!(
                "{what} runs a command line built from values through a shell: a value \
                 containing `;`, `|` or `$(…)` runs commands of its own (CWE-78); {fix}"
            )
        };
        let argv_fix = "pass the program and its arguments as a list without a shell";
        match lang {
            Lang::Python => {
                let subprocess = qualifier == "subprocess"
                    || matches!(name, "Popen" | "check_output" | "check_call");
                if subprocess
                    && matches!(
                        name,
                        "run" | "call" | "check_call" | "check_output" | "Popen"
                    )
                    && code
                        .kwarg(&args, "shell")
                        .is_some_and(|v| code.is_word(v, "True"))
                    && first == Value::Dynamic
                {
                    hit(
                        hits,
                        COMMAND_INJECTION,
                        line,
                        message(&format!("`{callee}(…, shell=True)`"), argv_fix),
                    );
                } else if (matches!(
                    callee.as_str(),
                    "os.system"
                        | "os.popen"
                        | "subprocess.getoutput"
                        | "subprocess.getstatusoutput"
                        | "commands.getoutput"
                )) && first == Value::Dynamic
                {
                    hit(
                        hits,
                        COMMAND_INJECTION,
                        line,
                        message(
                            &format!("`{callee}`"),
                            "use `subprocess.run([...])` with an argument list",
                        ),
                    );
                }
            }
            Lang::JavaScript => {
                // `exec(…)` imported by name, or `cp.exec(…)` on an alias;
                // never `pattern.exec(…)` on a regular expression.
                let on_expression = code.before(start, 1).is_some_and(|t| t.is_punct("."));
                let from_child_process =
                    (qualifier.is_empty() && !on_expression && !js_aliases.is_empty())
                        || js_aliases.iter().any(|a| a == qualifier);
                if from_child_process
                    && matches!(name, "exec" | "execSync")
                    && first == Value::Dynamic
                {
                    hit(
                        hits,
                        COMMAND_INJECTION,
                        line,
                        message(
                            &format!("`{callee}`"),
                            "use `execFile`/`spawn` with an argument array",
                        ),
                    );
                } else if from_child_process
                    && matches!(name, "spawn" | "spawnSync" | "execFile" | "execFileSync")
                    && first == Value::Dynamic
                    && args.iter().any(|&a| code.has_pair(a, "shell", "true"))
                {
                    hit(
                        hits,
                        COMMAND_INJECTION,
                        line,
                        message(
                            &format!("`{callee}` with `shell: true`"),
                            "drop `shell: true` and pass arguments as an array",
                        ),
                    );
                }
            }
            Lang::Java => {
                if name == "exec"
                    && code.before(start, 2).is_some_and(|t| t.is_punct(")"))
                    && code
                        .before(start, 4)
                        .is_some_and(|t| t.is_ident("getRuntime"))
                    && first == Value::Dynamic
                {
                    hit(
                        hits,
                        COMMAND_INJECTION,
                        line,
                        message(
                            "`Runtime.exec`",
                            "use `ProcessBuilder` with a fixed program and separate arguments",
                        ),
                    );
                }
            }
            Lang::Rust => {
                if callee.ends_with("Command::new")
                    && shell_literal(code.slice(args.first().copied().unwrap_or((0, 0))))
                {
                    // The rest of the statement: `.arg("-c").arg(format!(…))`.
                    let end = (open + MAX_CALL_TOKENS).min(code.toks.len());
                    let stmt: Vec<&Tok<'_>> = code.toks[open..end]
                        .iter()
                        .take_while(|t| !t.is_punct(";"))
                        .collect();
                    let dash_c = stmt
                        .iter()
                        .position(|t| t.kind == Kind::Str && t.content == "-c");
                    if let Some(at) = dash_c
                        && stmt[at..].iter().any(|t| {
                            t.is_ident("format") || (t.kind == Kind::Str && t.interpolated)
                        }) | stmt[at..].windows(4).any(|w| {
                            w[0].is_ident("arg")
                                && w[1].is_punct("(")
                                && w[2].kind == Kind::Ident
                                && w[3].is_punct(")")
                        })
                    {
                        hit(
                            hits,
                            COMMAND_INJECTION,
                            line,
                            message(
                                "`Command::new(shell).arg(\"-c\")`",
                                "run the program directly with `Command::new(program).args(…)`",
                            ),
                        );
                    }
                }
            }
            Lang::Go => {}
        }
        // `exec.Command("sh", "-c", cmd)`, `new ProcessBuilder("sh", "-c", cmd)`,
        // `spawn("sh", ["-c", cmd])` share one shape.
        if matches!(name, "Command" | "CommandContext" | "ProcessBuilder") {
            let values: Vec<&[Tok<'_>]> = args.iter().map(|&a| code.slice(a)).collect();
            if let Some(at) = values
                .windows(2)
                .position(|w| shell_literal(w[0]) && literal_is(w[1], "-c"))
                && values
                    .get(at + 2)
                    .is_some_and(|v| value_of(v) == Value::Dynamic)
            {
                hit(
                    hits,
                    COMMAND_INJECTION,
                    line,
                    message(
                        &format!("`{callee}(shell, \"-c\", …)`"),
                        "run the program directly with separate, fixed arguments",
                    ),
                );
            }
        }
    }
}

/// Whether an argument is a literal naming a shell.
fn shell_literal(toks: &[Tok<'_>]) -> bool {
    toks.len() == 1 && toks[0].kind == Kind::Str && SHELLS.contains(&toks[0].content)
}

fn literal_is(toks: &[Tok<'_>], value: &str) -> bool {
    toks.len() == 1 && toks[0].kind == Kind::Str && toks[0].content == value
}

/// Names `child_process` is bound to in a JavaScript file (empty when the
/// file does not use it): `require("child_process")`, `import * as cp
/// from "node:child_process"`, plus the conventional names.
fn child_process_aliases(code: &Code<'_>) -> Vec<String> {
    let toks = &code.toks;
    let mut aliases = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        if t.kind != Kind::Str || !matches!(t.content, "child_process" | "node:child_process") {
            continue;
        }
        if aliases.is_empty() {
            aliases.extend(["child_process", "cp", "childProcess"].map(String::from));
        }
        if code.punct_at(i.wrapping_sub(1), "(")
            && code.ident_at(i.wrapping_sub(2), "require")
            && code.punct_at(i.wrapping_sub(3), "=")
            && let Some(name) = code.before(i, 4).filter(|n| n.kind == Kind::Ident)
        {
            aliases.push(name.text.to_string());
        }
        if code.ident_at(i.wrapping_sub(1), "from")
            && let Some(name) = code.before(i, 2).filter(|n| n.kind == Kind::Ident)
        {
            aliases.push(name.text.to_string());
        }
    }
    aliases
}

// ---------------------------------------------------------------------------
// security/code-injection, security/template-injection

fn code_and_template_injection(lang: Lang, code: &Code<'_>, hits: &mut Vec<Hit>) {
    let jinja = lang == Lang::Python && code.mentions("jinja2");
    let script_engine = lang == Lang::Java && code.mentions("ScriptEngine");
    for open in code.calls() {
        let (callee, start) = code.callee(open);
        let name = code.callee_name(open);
        let args = code.args(open);
        let first = args
            .first()
            .map_or(Value::Empty, |&a| value_of(code.slice(a)));
        let line = code.toks[open].line;
        let unqualified = callee == name
            && !code.before(start, 1).is_some_and(|t| {
                t.is_ident("def")
                    || t.is_ident("function")
                    || t.is_ident("fn")
                    || t.is_ident("func")
            });
        let eval_message = |what: &str| {
            format!(
                "{what} runs code built from a value: input reaching it executes as code on the \
                 server (CWE-95); parse the data instead (`json.loads`, `ast.literal_eval`, \
                 `JSON.parse`) or dispatch on an allow-list"
            )
        };
        let template_message = |what: &str| {
            format!(
                "{what} compiles a template from a value: input reaching it can run template \
                 expressions on the server (CWE-94); load templates from files and pass user \
                 values only as render context"
            )
        };
        match lang {
            Lang::Python => {
                if unqualified && matches!(name, "eval" | "exec") && first == Value::Dynamic {
                    hit(
                        hits,
                        CODE_INJECTION,
                        line,
                        eval_message(&format!("`{name}()`")),
                    );
                }
                let template = name == "render_template_string"
                    || (jinja
                        && (matches!(callee.as_str(), "Template" | "jinja2.Template")
                            || name == "from_string"));
                if template && first == Value::Dynamic {
                    hit(
                        hits,
                        TEMPLATE_INJECTION,
                        line,
                        template_message(&format!("`{callee}`")),
                    );
                }
            }
            Lang::JavaScript => {
                if (unqualified || callee == "window.eval" || callee == "globalThis.eval")
                    && name == "eval"
                    && first == Value::Dynamic
                {
                    hit(hits, CODE_INJECTION, line, eval_message("`eval()`"));
                } else if name == "Function"
                    && code.is_new(open)
                    && args
                        .iter()
                        .any(|&a| value_of(code.slice(a)) == Value::Dynamic)
                {
                    hit(
                        hits,
                        CODE_INJECTION,
                        line,
                        eval_message("`new Function(…)`"),
                    );
                } else if matches!(name, "setTimeout" | "setInterval")
                    && args
                        .first()
                        .is_some_and(|&a| is_built_string(code.slice(a)))
                {
                    hit(
                        hits,
                        CODE_INJECTION,
                        line,
                        eval_message(&format!("`{name}` with a string")),
                    );
                } else if matches!(
                    callee.as_str(),
                    "vm.runInNewContext"
                        | "vm.runInThisContext"
                        | "vm.runInContext"
                        | "vm.compileFunction"
                ) && first == Value::Dynamic
                {
                    hit(
                        hits,
                        CODE_INJECTION,
                        line,
                        eval_message(&format!("`{callee}`")),
                    );
                }
                let template = matches!(
                    callee.as_str(),
                    "ejs.render"
                        | "ejs.compile"
                        | "pug.render"
                        | "pug.compile"
                        | "Handlebars.compile"
                        | "handlebars.compile"
                        | "_.template"
                        | "nunjucks.renderString"
                        | "lodash.template"
                );
                if template && first == Value::Dynamic {
                    hit(
                        hits,
                        TEMPLATE_INJECTION,
                        line,
                        template_message(&format!("`{callee}`")),
                    );
                }
            }
            Lang::Java => {
                if script_engine && name == "eval" && !unqualified && first == Value::Dynamic {
                    hit(
                        hits,
                        CODE_INJECTION,
                        line,
                        eval_message("`ScriptEngine.eval`"),
                    );
                }
            }
            Lang::Go | Lang::Rust => {}
        }
    }
}

// ---------------------------------------------------------------------------
// security/unsafe-deserialization

fn deserialization(lang: Lang, code: &Code<'_>, hits: &mut Vec<Hit>) {
    for open in code.calls() {
        let (callee, _) = code.callee(open);
        let name = code.callee_name(open);
        let line = code.toks[open].line;
        let args = code.args(open);
        let message = |what: &str, fix: &str| {
            format!(
                "{what} rebuilds arbitrary objects from its input: crafted data runs code while \
                 it is read (CWE-502); {fix}"
            )
        };
        match lang {
            Lang::Python => {
                let pickle = matches!(
                    callee.as_str(),
                    "pickle.loads"
                        | "pickle.load"
                        | "cPickle.loads"
                        | "cPickle.load"
                        | "_pickle.loads"
                        | "dill.loads"
                        | "dill.load"
                        | "marshal.loads"
                        | "marshal.load"
                        | "jsonpickle.decode"
                        | "pd.read_pickle"
                        | "pandas.read_pickle"
                        | "shelve.open"
                );
                if pickle {
                    hit(
                        hits,
                        UNSAFE_DESERIALIZATION,
                        line,
                        message(
                            &format!("`{callee}`"),
                            "exchange data as JSON (or another data-only format) and validate it",
                        ),
                    );
                    continue;
                }
                let yaml_load = matches!(callee.as_str(), "yaml.load" | "yaml.load_all");
                let safe_loader = code.slice((open, code.close_of(open))).iter().any(|t| {
                    t.kind == Kind::Ident
                        && matches!(t.text, "SafeLoader" | "CSafeLoader" | "BaseLoader")
                });
                if (yaml_load && !safe_loader)
                    || matches!(callee.as_str(), "yaml.unsafe_load" | "yaml.unsafe_load_all")
                {
                    hit(
                        hits,
                        UNSAFE_DESERIALIZATION,
                        line,
                        message(
                            &format!("`{callee}` without `SafeLoader`"),
                            "use `yaml.safe_load(…)`",
                        ),
                    );
                } else if matches!(callee.as_str(), "np.load" | "numpy.load")
                    && code
                        .kwarg(&args, "allow_pickle")
                        .is_some_and(|v| code.is_word(v, "True"))
                {
                    hit(
                        hits,
                        UNSAFE_DESERIALIZATION,
                        line,
                        message(
                            &format!("`{callee}(…, allow_pickle=True)`"),
                            "store arrays without object dtype and load with `allow_pickle=False`",
                        ),
                    );
                } else if callee == "torch.load"
                    && !code
                        .kwarg(&args, "weights_only")
                        .is_some_and(|v| code.is_word(v, "True"))
                {
                    hit(
                        hits,
                        UNSAFE_DESERIALIZATION,
                        line,
                        message(
                            "`torch.load` without `weights_only=True`",
                            "pass `weights_only=True`",
                        ),
                    );
                }
            }
            Lang::Java => {
                if matches!(name, "ObjectInputStream" | "XMLDecoder") && code.is_new(open) {
                    hit(
                        hits,
                        UNSAFE_DESERIALIZATION,
                        line,
                        message(
                            &format!("`new {name}`"),
                            "read a data format (JSON with a fixed schema) or install an `ObjectInputFilter` allow-list",
                        ),
                    );
                }
            }
            Lang::JavaScript => {
                if name == "unserialize" {
                    hit(
                        hits,
                        UNSAFE_DESERIALIZATION,
                        line,
                        message(
                            &format!("`{callee}`"),
                            "use `JSON.parse` and validate the result",
                        ),
                    );
                }
            }
            Lang::Go | Lang::Rust => {}
        }
    }
}

// ---------------------------------------------------------------------------
// security/weak-hash, security/weak-password-hash

/// Which hash a call computes, and whether it is broken (MD5/SHA-1) or
/// merely fast (SHA-2/3, BLAKE2).
fn hash_of(lang: Lang, code: &Code<'_>, open: usize) -> Option<(&'static str, bool)> {
    let (callee, _) = code.callee(open);
    let args = code.args(open);
    let first_str = args
        .first()
        .and_then(|&a| code.slice(a).first())
        .filter(|t| t.kind == Kind::Str)
        .map(|t| t.content.to_ascii_lowercase().replace(['-', '_'], ""));
    let by_name = |name: &str| -> Option<(&'static str, bool)> {
        match name {
            "md5" | "md4" | "md2" => Some(("MD5", true)),
            "sha1" | "sha" => Some(("SHA-1", true)),
            "sha224" | "sha256" | "sha384" | "sha512" | "sha3256" | "sha3512" | "blake2b"
            | "blake2s" => Some(("a fast SHA-2/SHA-3/BLAKE2 hash", false)),
            _ => None,
        }
    };
    let c = callee.as_str();
    match lang {
        Lang::Python => match c {
            "hashlib.new" => by_name(first_str.as_deref()?),
            _ => by_name(c.strip_prefix("hashlib.")?),
        },
        Lang::JavaScript => {
            if code.callee_name(open) == "createHash" {
                by_name(first_str.as_deref()?)
            } else {
                None
            }
        }
        Lang::Go => match c {
            "md5.New" | "md5.Sum" => Some(("MD5", true)),
            "sha1.New" | "sha1.Sum" => Some(("SHA-1", true)),
            "sha256.New" | "sha256.Sum256" | "sha512.New" | "sha512.Sum512" => {
                Some(("a fast SHA-2 hash", false))
            }
            _ => None,
        },
        Lang::Java => match code.callee_name(open) {
            "getInstance" if c.ends_with("MessageDigest.getInstance") => {
                by_name(first_str.as_deref()?)
            }
            "md5Hex" | "md5" if c.starts_with("DigestUtils") => Some(("MD5", true)),
            "sha1Hex" | "sha1" if c.starts_with("DigestUtils") => Some(("SHA-1", true)),
            "sha256Hex" if c.starts_with("DigestUtils") => Some(("a fast SHA-2 hash", false)),
            _ => None,
        },
        Lang::Rust => {
            let mut parts = c.rsplit("::");
            let last = parts.next()?;
            let owner = parts.next()?;
            if !matches!(last, "new" | "digest" | "compute" | "new_with_prefix") {
                return None;
            }
            by_name(&owner.to_ascii_lowercase())
        }
    }
}

fn hashing(lang: Lang, code: &Code<'_>, hits: &mut Vec<Hit>) {
    for open in code.calls() {
        let Some((hash, broken)) = hash_of(lang, code, open) else {
            continue;
        };
        let args = code.args(open);
        if code
            .kwarg(&args, "usedforsecurity")
            .is_some_and(|v| code.is_word(v, "False"))
        {
            continue;
        }
        let line = code.toks[open].line;
        let close = code.close_of(open);
        // The call's own tokens and the rest of the lines it spans.
        let mut from = open;
        while from > 0 && code.toks[from - 1].line == line {
            from -= 1;
        }
        let end_line = code.toks[close].line;
        let mut to = close;
        while to + 1 < code.toks.len() && code.toks[to + 1].line == end_line {
            to += 1;
        }
        let about_passwords = code.toks[from..=to].iter().any(|t| {
            let lower = if t.kind == Kind::Str {
                t.content
            } else {
                t.text
            }
            .to_ascii_lowercase();
            t.kind != Kind::Punct
                && PASSWORD_WORDS.iter().any(|w| lower.contains(w))
                && !NOT_A_PASSWORD.iter().any(|w| lower.contains(w))
        });
        let (callee, _) = code.callee(open);
        if about_passwords {
            hit(
                hits,
                WEAK_PASSWORD_HASH,
                line,
                format!(
                    "`{callee}` hashes a password with {hash}: fast hashes are brute-forced at \
                     billions of guesses per second (CWE-916); use a slow, salted password hash \
                     (Argon2id, bcrypt, scrypt or PBKDF2 with a high iteration count)"
                ),
            );
        } else if broken {
            hit(
                hits,
                WEAK_HASH,
                line,
                format!(
                    "`{callee}` uses {hash}, which is broken for security (collisions are \
                     practical) (CWE-328); use SHA-256 or better, or mark a non-security use \
                     (`usedforsecurity=False`, or a `qlp-ignore` comment with the reason)"
                ),
            );
        }
    }
}

// ---------------------------------------------------------------------------
// security/weak-cipher

/// Why a cipher name (`des-ede3-cbc`, `AES/ECB/PKCS5Padding`, `RC4`) is
/// weak, if it is.
pub fn weak_cipher(name: &str, lang: Lang) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    if lower.starts_with("des") || lower.starts_with("3des") || lower.starts_with("tripledes") {
        Some("DES/3DES (64-bit blocks, broken key sizes)")
    } else if lower.starts_with("rc4") || lower.starts_with("arc4") || lower.starts_with("arcfour")
    {
        Some("RC4 (biased keystream)")
    } else if lower.starts_with("rc2") || lower.starts_with("bf") || lower.starts_with("blowfish") {
        Some("a 64-bit block cipher (RC2/Blowfish)")
    } else if lower.contains("-ecb") || lower.contains("/ecb") || lower.ends_with("ecb") {
        Some("ECB mode (identical blocks encrypt identically)")
    } else if lang == Lang::Java && lower == "aes" {
        Some("`AES` without a mode, which Java runs in ECB mode")
    } else {
        None
    }
}

fn ciphers(lang: Lang, code: &Code<'_>, hits: &mut Vec<Hit>) {
    let fix = "use an authenticated cipher: AES-GCM or ChaCha20-Poly1305 with a fresh nonce";
    let report = |hits: &mut Vec<Hit>, line: u32, what: String, why: &str| {
        hit(
            hits,
            WEAK_CIPHER,
            line,
            format!("{what} uses {why} (CWE-327); {fix}"),
        );
    };
    for open in code.calls() {
        let (callee, _) = code.callee(open);
        let name = code.callee_name(open);
        let line = code.toks[open].line;
        let first_str = code
            .args(open)
            .first()
            .and_then(|&a| code.slice(a).first())
            .filter(|t| t.kind == Kind::Str)
            .map(|t| t.content);
        match lang {
            Lang::Python => {
                let weak = match callee.as_str() {
                    "DES.new" | "DES3.new" => Some("DES/3DES (64-bit blocks, broken key sizes)"),
                    "ARC4.new" => Some("RC4 (biased keystream)"),
                    "Blowfish.new" | "ARC2.new" => Some("a 64-bit block cipher (RC2/Blowfish)"),
                    "modes.ECB" => Some("ECB mode (identical blocks encrypt identically)"),
                    "algorithms.TripleDES" => Some("DES/3DES (64-bit blocks, broken key sizes)"),
                    "algorithms.ARC4" => Some("RC4 (biased keystream)"),
                    "algorithms.Blowfish" => Some("a 64-bit block cipher (RC2/Blowfish)"),
                    _ => None,
                };
                if let Some(why) = weak {
                    report(hits, line, format!("`{callee}`"), why);
                }
            }
            Lang::JavaScript => {
                if name == "createCipher" || name == "createDecipher" {
                    report(
                        hits,
                        line,
                        format!("`{name}`"),
                        "a key derived without salt or IV (deprecated API)",
                    );
                } else if matches!(name, "createCipheriv" | "createDecipheriv")
                    && let Some(why) = first_str.and_then(|s| weak_cipher(s, lang))
                {
                    report(hits, line, format!("`{name}`"), why);
                }
            }
            Lang::Go => {
                let weak = match callee.as_str() {
                    "des.NewCipher" | "des.NewTripleDESCipher" => {
                        Some("DES/3DES (64-bit blocks, broken key sizes)")
                    }
                    "rc4.NewCipher" => Some("RC4 (biased keystream)"),
                    "blowfish.NewCipher" => Some("a 64-bit block cipher (RC2/Blowfish)"),
                    _ => None,
                };
                if let Some(why) = weak {
                    report(hits, line, format!("`{callee}`"), why);
                }
            }
            Lang::Java => {
                if callee.ends_with("Cipher.getInstance")
                    && let Some(why) = first_str.and_then(|s| weak_cipher(s, lang))
                {
                    report(hits, line, "`Cipher.getInstance`".into(), why);
                }
            }
            Lang::Rust => {
                let owner = callee.rsplit("::").nth(1).unwrap_or("");
                let weak = match owner {
                    "Des" | "TdesEde3" | "TdesEde2" => {
                        Some("DES/3DES (64-bit blocks, broken key sizes)")
                    }
                    "Rc4" => Some("RC4 (biased keystream)"),
                    "Blowfish" => Some("a 64-bit block cipher (RC2/Blowfish)"),
                    _ => None,
                };
                if let Some(why) = weak
                    && matches!(name, "new" | "new_from_slice" | "new_from_slices")
                {
                    report(hits, line, format!("`{callee}`"), why);
                }
            }
        }
    }
    // Constants rather than calls: `AES.MODE_ECB`, `ecb::Encryptor`.
    for t in &code.toks {
        if lang == Lang::Python && t.is_ident("MODE_ECB") {
            report(
                hits,
                t.line,
                "`MODE_ECB`".into(),
                "ECB mode (identical blocks encrypt identically)",
            );
        }
    }
}

// ---------------------------------------------------------------------------
// security/tls-verification-disabled

fn tls(lang: Lang, code: &Code<'_>, hits: &mut Vec<Hit>) {
    let toks = &code.toks;
    let message = |what: &str, fix: &str| {
        format!(
            "{what} turns off TLS certificate verification: anyone on the network path can \
             impersonate the server and read or change the traffic (CWE-295); {fix}"
        )
    };
    for (i, t) in toks.iter().enumerate() {
        if code.in_definition(i) {
            // A parameter default (`def connect(verify=False)`) is not a use.
            continue;
        }
        // `name = value` or an object key `name: value`; `a.name : value`
        // is the end of a ternary, not a key.
        let assigns = |value: &str| {
            let key = code.punct_at(i + 1, ":") && !code.punct_at(i.wrapping_sub(1), ".");
            (code.punct_at(i + 1, "=") || key) && code.ident_at(i + 2, value)
        };
        let found = match lang {
            Lang::Python => {
                if t.is_ident("verify")
                    && assigns("False")
                    && code.enclosing[i].is_none_or(|o| code.callee_name(o) != "decode")
                {
                    Some((
                        "`verify=False`",
                        "remove it, or point `verify=` at a CA bundle for a private CA",
                    ))
                } else if t.is_ident("_create_unverified_context")
                    && !code.before(i, 1).is_some_and(|p| p.is_ident("def"))
                {
                    Some((
                        "`ssl._create_unverified_context`",
                        "use `ssl.create_default_context()`",
                    ))
                } else if t.is_ident("CERT_NONE") && sets_value(code, i) {
                    Some((
                        "`ssl.CERT_NONE`",
                        "keep `CERT_REQUIRED`; load a private CA with `load_verify_locations`",
                    ))
                } else if t.is_ident("check_hostname") && assigns("False") {
                    Some(("`check_hostname = False`", "leave hostname checking on"))
                } else {
                    None
                }
            }
            Lang::Go => (t.is_ident("InsecureSkipVerify") && assigns("true")).then_some((
                "`InsecureSkipVerify: true`",
                "remove it; add a private CA to `RootCAs` instead",
            )),
            Lang::JavaScript => {
                if (t.is_ident("rejectUnauthorized") || t.is_ident("strictSSL")) && assigns("false")
                {
                    Some((
                        "`rejectUnauthorized: false`",
                        "remove it; pass a private CA with the `ca` option",
                    ))
                } else if (t.is_ident("NODE_TLS_REJECT_UNAUTHORIZED")
                    || (t.kind == Kind::Str && t.content == "NODE_TLS_REJECT_UNAUTHORIZED"))
                    && toks[i + 1..]
                        .iter()
                        .take(3)
                        .skip_while(|n| n.is_punct("]"))
                        .take(2)
                        .collect::<Vec<_>>()
                        .as_slice()
                        .windows(2)
                        .any(|w| {
                            w[0].is_punct("=")
                                && matches!(w[1].kind, Kind::Str | Kind::Num)
                                && w[1].text.trim_matches(['"', '\'', '`']) == "0"
                        })
                {
                    Some((
                        "`NODE_TLS_REJECT_UNAUTHORIZED = \"0\"`",
                        "remove it; use `NODE_EXTRA_CA_CERTS` for a private CA",
                    ))
                } else {
                    None
                }
            }
            Lang::Rust => {
                if (t.is_ident("danger_accept_invalid_certs")
                    || t.is_ident("danger_accept_invalid_hostnames"))
                    && code.punct_at(i + 1, "(")
                    && code.ident_at(i + 2, "true")
                {
                    Some((
                        "`danger_accept_invalid_certs(true)`",
                        "remove it; add a private CA with `add_root_certificate`",
                    ))
                } else if t.is_ident("SslVerifyMode")
                    && code.punct_at(i + 1, "::")
                    && code.ident_at(i + 2, "NONE")
                {
                    Some(("`SslVerifyMode::NONE`", "use `SslVerifyMode::PEER`"))
                } else {
                    None
                }
            }
            Lang::Java => {
                let import_line = || {
                    let mut j = i;
                    while j > 0 && toks[j - 1].line == t.line {
                        j -= 1;
                    }
                    toks[j].is_ident("import")
                };
                (t.kind == Kind::Ident
                    && matches!(
                        t.text,
                        "NoopHostnameVerifier" | "ALLOW_ALL_HOSTNAME_VERIFIER" | "TrustAllStrategy"
                    )
                    && !import_line())
                .then_some((
                    "an accept-everything trust strategy or hostname verifier",
                    "use the default `SSLContext`; add a private CA to a trust store",
                ))
            }
        };
        if let Some((what, fix)) = found {
            hit(hits, TLS_VERIFICATION_DISABLED, t.line, message(what, fix));
        }
    }
}

// ---------------------------------------------------------------------------
// security/debug-enabled

fn debug_mode(lang: Lang, code: &Code<'_>, hits: &mut Vec<Hit>) {
    let message = |what: &str| {
        format!(
            "{what} enables debug mode: tracebacks, settings and (with Werkzeug) an interactive \
             console are shown to anyone who triggers an error (CWE-489); read it from the \
             environment and keep it off in production"
        )
    };
    for (i, t) in code.toks.iter().enumerate() {
        match lang {
            Lang::Python => {
                if !(code.punct_at(i + 1, "=") && code.ident_at(i + 2, "True")) {
                    continue;
                }
                let first_on_line = code.before(i, 1).is_none_or(|p| p.line != t.line);
                let web_call = code.enclosing[i].is_some_and(|o| {
                    let (callee, _) = code.callee(o);
                    DEBUG_CALLS.contains(&code.callee_name(o)) && !callee.starts_with("asyncio.")
                });
                let attribute =
                    code.punct_at(i.wrapping_sub(1), ".") && code.enclosing[i].is_none();
                if t.is_ident("debug") && (web_call || attribute) && !code.in_definition(i) {
                    let what = code.enclosing[i].map_or("`debug = True`".to_string(), |o| {
                        format!("`{}(debug=True)`", code.callee(o).0)
                    });
                    hit(hits, DEBUG_ENABLED, t.line, message(&what));
                } else if t.is_ident("DEBUG") && first_on_line && code.enclosing[i].is_none() {
                    hit(hits, DEBUG_ENABLED, t.line, message("`DEBUG = True`"));
                }
            }
            Lang::Go
                if t.is_ident("DebugMode")
                    && code.punct_at(i.wrapping_sub(1), ".")
                    && code.enclosing[i].is_some_and(|o| code.callee_name(o) == "SetMode") =>
            {
                hit(
                    hits,
                    DEBUG_ENABLED,
                    t.line,
                    message("`gin.SetMode(gin.DebugMode)`"),
                );
            }
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------
// security/permissive-cors

fn cors(lang: Lang, code: &Code<'_>, hits: &mut Vec<Hit>) {
    let toks = &code.toks;
    let report = |hits: &mut Vec<Hit>, line: u32, what: &str, credentials: bool| {
        let (severity_rule, why) = if credentials {
            (
                PERMISSIVE_CORS_CREDENTIALS,
                "together with credentials, so any web site can make logged-in requests and \
                 read the answers",
            )
        } else {
            (
                PERMISSIVE_CORS,
                "so any web site can call this API from a visitor's browser and read the \
                 answers",
            )
        };
        hit(
            hits,
            severity_rule,
            line,
            format!(
                "{what} allows every origin {why} (CWE-942); list the front-end origins that may call it"
            ),
        );
    };
    let near = |i: usize, name: &str, value: &str| {
        let lo = i.saturating_sub(CORS_CREDENTIALS_WINDOW);
        let hi = (i + CORS_CREDENTIALS_WINDOW).min(toks.len());
        code.has_pair((lo, hi), name, value)
    };
    // `Access-Control-Allow-Origin: *` set by hand, in any language.
    for (i, t) in toks.iter().enumerate() {
        if t.kind == Kind::Str
            && t.content
                .eq_ignore_ascii_case("access-control-allow-origin")
        {
            let value = toks[i + 1..].iter().take(3).find(|n| n.kind == Kind::Str);
            if value.is_some_and(|v| v.content == "*") {
                let credentials = toks.windows(2).any(|w| {
                    w[0].kind == Kind::Str
                        && w[0]
                            .content
                            .eq_ignore_ascii_case("access-control-allow-credentials")
                });
                report(
                    hits,
                    t.line,
                    "the header `Access-Control-Allow-Origin: *`",
                    credentials,
                );
            }
        }
    }
    match lang {
        Lang::Python => {
            for open in code.calls() {
                let args = code.args(open);
                let (callee, _) = code.callee(open);
                let line = code.toks[open].line;
                if let Some(origins) = code.kwarg(&args, "allow_origins")
                    && code
                        .slice(origins)
                        .iter()
                        .any(|t| t.kind == Kind::Str && t.content == "*")
                {
                    let credentials = code
                        .kwarg(&args, "allow_credentials")
                        .is_some_and(|v| code.is_word(v, "True"));
                    report(hits, line, "`allow_origins=[\"*\"]`", credentials);
                } else if callee == "CORS" && code.mentions("flask_cors") {
                    let origins = code
                        .kwarg(&args, "origins")
                        .or_else(|| code.kwarg(&args, "resources"));
                    let wildcard = origins.is_none_or(|o| {
                        code.slice(o)
                            .iter()
                            .any(|t| t.kind == Kind::Str && t.content == "*")
                    });
                    if wildcard {
                        let credentials = code
                            .kwarg(&args, "supports_credentials")
                            .is_some_and(|v| code.is_word(v, "True"));
                        report(hits, line, "`CORS(app)` without `origins`", credentials);
                    }
                }
            }
        }
        Lang::JavaScript => {
            for open in code.calls() {
                if code.callee(open).0 != "cors" {
                    continue;
                }
                let args = code.args(open);
                let line = code.toks[open].line;
                match args.first() {
                    None => report(hits, line, "`cors()` without options", false),
                    Some(&a) => {
                        let wildcard =
                            code.has_pair(a, "origin", "*") || code.has_pair(a, "origin", "true");
                        if wildcard {
                            let credentials = code.has_pair(a, "credentials", "true");
                            report(hits, line, "`cors({ origin: \"*\" })`", credentials);
                        }
                    }
                }
            }
        }
        Lang::Go => {
            for (i, t) in toks.iter().enumerate() {
                if !(t.is_ident("AllowedOrigins") || t.is_ident("AllowOrigins"))
                    || !code.punct_at(i + 1, ":")
                {
                    continue;
                }
                let value_star = toks[i + 2..]
                    .iter()
                    .take(6)
                    .any(|v| v.kind == Kind::Str && v.content == "*");
                if value_star {
                    let credentials = near(i, "AllowCredentials", "true");
                    report(
                        hits,
                        t.line,
                        "`AllowedOrigins: []string{\"*\"}`",
                        credentials,
                    );
                }
            }
        }
        Lang::Rust => {
            for (i, t) in toks.iter().enumerate() {
                if t.is_ident("CorsLayer") && code.punct_at(i + 1, "::") {
                    if code.ident_at(i + 2, "permissive") {
                        report(hits, t.line, "`CorsLayer::permissive()`", false);
                    } else if code.ident_at(i + 2, "very_permissive") {
                        report(hits, t.line, "`CorsLayer::very_permissive()`", true);
                    }
                }
            }
        }
        Lang::Java => {
            for (i, t) in toks.iter().enumerate() {
                if t.is_ident("CrossOrigin") && code.punct_at(i.wrapping_sub(1), "@") {
                    let has_args = code.punct_at(i + 1, "(");
                    let origins_given = has_args
                        && code
                            .slice((i + 1, code.close_of(i + 1)))
                            .iter()
                            .any(|a| a.kind == Kind::Str && a.content != "*");
                    if !origins_given {
                        let credentials = near(i, "allowCredentials", "true");
                        report(hits, t.line, "`@CrossOrigin` without origins", credentials);
                    }
                } else if t.is_ident("allowedOrigins")
                    && code.punct_at(i + 1, "(")
                    && code
                        .tok(i + 2)
                        .is_some_and(|v| v.kind == Kind::Str && v.content == "*")
                {
                    let credentials = toks.windows(3).any(|w| {
                        w[0].is_ident("allowCredentials")
                            && w[1].is_punct("(")
                            && w[2].is_ident("true")
                    });
                    report(hits, t.line, "`allowedOrigins(\"*\")`", credentials);
                }
            }
        }
    }
}

/// Whether the (possibly `module.`-qualified) name ending at `i` is being
/// assigned or passed (`x = ssl.CERT_NONE`, `cert_reqs=ssl.CERT_NONE`,
/// `f(ssl.CERT_NONE)`), not compared (`mode == ssl.CERT_NONE`).
fn sets_value(code: &Code<'_>, i: usize) -> bool {
    let mut start = i;
    while code.punct_at(start.wrapping_sub(1), ".")
        && code.before(start, 2).is_some_and(|t| t.kind == Kind::Ident)
    {
        start -= 2;
    }
    code.before(start, 1)
        .is_some_and(|t| matches!(t.text, "=" | ":" | "," | "(") && t.kind == Kind::Punct)
}
