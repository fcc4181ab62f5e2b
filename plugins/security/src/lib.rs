//! QLP validator `qlp/security`: static checks over a capsule's source
//! files for the mistakes that turn a generated service into an incident —
//! injection (SQL, shell commands, code and templates), unsafe
//! deserialisation, weak hashing and ciphers, disabled TLS verification,
//! debug modes and permissive CORS.
//!
//! Source files are chosen by extension: Python (`.py`), JavaScript and
//! TypeScript (`.js`, `.mjs`, `.cjs`, `.jsx`, `.ts`, `.mts`, `.cts`,
//! `.tsx`), Go (`.go`), Rust (`.rs`) and Java (`.java`). Each is tokenized
//! ([`lex`]): comments are dropped and string literals are single tokens,
//! so commented-out code, docstrings and strings that merely mention
//! `eval(` are never reported; nor are definitions (`def exec(…)`, a
//! JavaScript method `exec(…) {`). The rules ([`checks`]) match calls, their
//! callee names and what their arguments are: a fixed literal, or a value
//! built from variables (an f-string, a template literal with `${…}`,
//! concatenation, `%` or `.format()`, a format call). Other text files
//! (`.env`, Dockerfiles, YAML, nginx configuration, Java properties) are read
//! line by line for the few rules that live there ([`config`]). Binary files
//! and files over [`MAX_SCAN_BYTES`] are skipped and counted in the summary.
//! Binding a server to `0.0.0.0` is not a finding: it is how a container
//! listens.
//!
//! The rules are patterns, not data-flow analysis: `os.system(cmd)` is
//! reported whether or not `cmd` can hold user input, and the message says
//! what to use instead. Run over CPython 3.11's standard library, npm's
//! bundled `node_modules` and Go 1.19's source tree (2.6 million lines; the
//! ignored `corpus` test does it), every remaining finding matched its
//! rule's documented pattern.
//!
//! # Rules
//!
//! CWE ids are in every message and in this table, so contract 0.2's CWE
//! field is a mechanical mapping.
//!
//! | rule id | severity | CWE | what it matches |
//! |---|---|---|---|
//! | `security/sql-injection` | high | CWE-89 | an SQL literal (`SELECT … FROM`, `INSERT INTO`, `UPDATE … SET`, `DELETE FROM`, `DROP TABLE`) built with an f-string, a `${}` template, `%`, `.format()`, concatenation with a non-literal, `fmt.Sprintf`/`String.format`/`format!`, passed to an SQL call (`execute`, `executemany`, `raw`, `text`, `read_sql`, `query`, `Query`, `Exec`, `QueryRow`, `executeQuery`, `prepareStatement`, `createQuery`, `$queryRawUnsafe`, sqlx `query`…) directly or through a variable assigned before it; tagged templates (`sql\`…${id}\``, `$queryRaw\`…\``) bind their values and are not reported |
//! | `security/command-injection` | high | CWE-78 | Python `subprocess.*(…, shell=True)` and `os.system`/`os.popen`/`subprocess.getoutput` with a non-literal command; Node `exec`/`execSync` from `child_process` with a non-literal command, `spawn`/`execFile` with `shell: true`; Go `exec.Command("sh", "-c", x)`, Java `new ProcessBuilder("sh", "-c", x)` and `Runtime.getRuntime().exec(x)`; Rust `Command::new("sh").arg("-c").arg(format!(…))` |
//! | `security/code-injection` | high | CWE-95 | `eval`/`exec` (Python), `eval`, `new Function`, string `setTimeout`/`setInterval`, `vm.runIn*Context` (JavaScript), `ScriptEngine.eval` (Java), each with a non-literal argument |
//! | `security/template-injection` | high | CWE-94 | a template compiled from a non-literal: Flask `render_template_string`, Jinja2 `Template`/`from_string`, `ejs`/`pug`/`Handlebars`/`_.template`/`nunjucks.renderString` |
//! | `security/unsafe-deserialization` | high | CWE-502 | `pickle`/`cPickle`/`dill`/`marshal` `load(s)`, `jsonpickle.decode`, `shelve.open`, `read_pickle`, `yaml.load` without `SafeLoader`/`CSafeLoader`/`BaseLoader`, `yaml.unsafe_load`, `np.load(allow_pickle=True)`, `torch.load` without `weights_only=True`; Java `new ObjectInputStream`/`new XMLDecoder`; node-serialize `unserialize` |
//! | `security/weak-hash` | medium | CWE-328 | MD5 or SHA-1: `hashlib.md5/sha1/new("md5")`, `crypto.createHash("md5")`, Go `md5.New/Sum`, `sha1.New/Sum`, Java `MessageDigest.getInstance("MD5")`, `DigestUtils.md5Hex`, Rust `Md5::new`, `md5::compute`, `Sha1::digest`; not when `usedforsecurity=False` is passed |
//! | `security/weak-password-hash` | high | CWE-916 | any of those, or a fast SHA-2/SHA-3/BLAKE2 hash, where the call or its line mentions a password (`password`, `passwd`, `passphrase`, `pwd`) |
//! | `security/weak-cipher` | high | CWE-327 | DES/3DES, RC4, RC2, Blowfish or ECB mode: PyCryptodome `DES.new`/`ARC4.new`/`MODE_ECB`, `cryptography` `modes.ECB`/`algorithms.TripleDES`, Node `createCipher` (no IV) and `createCipheriv("des-…"/"rc4"/"…-ecb")`, Go `des.NewCipher`/`rc4.NewCipher`, Java `Cipher.getInstance("DES…"/"…/ECB/…"/"AES")`, Rust `Des`/`TdesEde3`/`Rc4`/`Blowfish::new` |
//! | `security/tls-verification-disabled` | high | CWE-295 | `verify=False`, `ssl._create_unverified_context`, `CERT_NONE`, `check_hostname = False`; `InsecureSkipVerify: true`; `rejectUnauthorized: false`, `strictSSL: false`, `NODE_TLS_REJECT_UNAUTHORIZED = "0"` (also in `.env`, Dockerfiles, YAML); `danger_accept_invalid_certs(true)`, `danger_accept_invalid_hostnames(true)`, `SslVerifyMode::NONE`; Java `NoopHostnameVerifier`, `TrustAllStrategy`; `PYTHONHTTPSVERIFY=0` in configuration |
//! | `security/debug-enabled` | medium | CWE-489 | Python `debug=True` passed to a web framework (`app.run`, `uvicorn.run`, `Flask`, `FastAPI`, `Starlette`, `Quart`, `Sanic`, `Litestar`, `run_simple`; not `asyncio.run`, not a parameter default), `app.debug = True`, a top-level `DEBUG = True` (Django/Flask settings); Go `gin.SetMode(gin.DebugMode)`; `debug=true` in Spring `application*.properties`/`.yml` |
//! | `security/permissive-cors` | medium, high with credentials | CWE-942 | every origin allowed: `allow_origins=["*"]` (high with `allow_credentials=True`), Flask-CORS `CORS(app)` without `origins`, `cors()` without options or with `origin: "*"`/`origin: true` (high with `credentials: true`), the header `Access-Control-Allow-Origin: *` (in code or nginx-style configuration), Go `AllowedOrigins: []string{"*"}` (high with `AllowCredentials: true` nearby), tower-http `CorsLayer::permissive()` (`very_permissive()`: high), Spring `@CrossOrigin` without origins and `allowedOrigins("*")` |
//!
//! Each rule is reported at most once per line.
//!
//! # Suppressing a finding
//!
//! A comment `qlp-ignore: <rule-id> <reason>` on the finding's line, or on
//! a comment-only line right above it, suppresses that rule there, e.g.
//! `digest = hashlib.md5(body)  # qlp-ignore: security/weak-hash ETag, not
//! a security use` (see [`qlp_sdk::suppress`]). The reason is required. The summary
//! counts suppressed findings per rule.
//!
//! # Score
//!
//! `score = max(0, 100 − 40·critical − 20·high − 10·medium − 5·low)`
//! over the findings that were not suppressed ([`PENALTY_CRITICAL`] …
//! [`PENALTY_INFO`]); 100 means no finding.

pub mod checks;
pub use qlp_sdk::source::code;
pub mod config;
pub use qlp_sdk::source::lex;
pub mod rules;

use qlp_sdk::report::{self, Penalties, Suppressed};
use qlp_sdk::validator::{Capsule, Finding, PluginError, PluginInfo, Report, Validator};
use qlp_sdk::{File, PluginKind};

use crate::checks::Hit;
use crate::code::Code;
use crate::lex::Lang;

/// The plugin's namespaced name.
pub const PLUGIN_NAME: &str = "qlp/security";

/// The plugin's version.
pub const PLUGIN_VERSION: &str = "0.1.0";

/// The prefix of every rule id, as a suppression may omit it.
pub const RULE_NAMESPACE: &str = "security";

/// Largest file that is scanned. Generated sources are far smaller; bigger
/// files are bundles or data, where a token scan spends the sandbox's fuel
/// on bytes nobody wrote by hand.
pub const MAX_SCAN_BYTES: usize = 1024 * 1024;

/// Score lost per critical finding.
pub const PENALTY_CRITICAL: u8 = 40;
/// Score lost per high finding: an exploitable pattern (injection, disabled
/// TLS), so five of them bring the score to zero.
pub const PENALTY_HIGH: u8 = 20;
/// Score lost per medium finding: a weakness that needs another mistake to
/// be exploited (MD5 outside passwords, debug mode, wildcard CORS).
pub const PENALTY_MEDIUM: u8 = 10;
/// Score lost per low finding.
pub const PENALTY_LOW: u8 = 5;
/// Score lost per informational finding: none, it is advice.
pub const PENALTY_INFO: u8 = 0;

/// The validator.
pub struct Security;

impl Validator for Security {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: PLUGIN_NAME.into(),
            version: PLUGIN_VERSION.into(),
            kind: PluginKind::Validator,
            description: "Finds SQL, command, code and template injection, unsafe \
                          deserialisation, weak hashing and ciphers, disabled TLS verification, \
                          debug modes and permissive CORS in Python, JavaScript/TypeScript, Go, \
                          Rust and Java; findings carry CWE ids."
                .into(),
            capabilities: vec![],
        }
    }

    fn validate(capsule: &Capsule<'_>) -> Result<Report, PluginError> {
        let capsule = capsule.view()?;
        Ok(scan_files(&capsule.files))
    }
}

// Exported only in the component: natively the export symbols would clash
// with those of the agents the generator tests link beside this crate.
#[cfg(target_arch = "wasm32")]
qlp_sdk::export_validator!(Security);

/// Scans every file and builds the report.
pub fn scan_files(files: &[File]) -> Report {
    let mut findings = Vec::new();
    let mut suppressed = Suppressed::default();
    let baseline = qlp_sdk::suppress::Baseline::from_files(files);
    let mut not_scanned = 0usize;
    for file in files {
        let text = (file.content.len() <= MAX_SCAN_BYTES)
            .then(|| file.as_text())
            .flatten();
        let Some(text) = text else {
            not_scanned += 1;
            continue;
        };
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let lines: Vec<&str> = text.lines().collect();
        for hit in scan_text(&file.path, text) {
            if qlp_sdk::suppress::is_suppressed(&lines, hit.line, hit.rule.id, RULE_NAMESPACE)
                || baseline.covers(&file.path, Some(hit.line), hit.rule.id, RULE_NAMESPACE)
            {
                suppressed.add(hit.rule.id);
                continue;
            }
            findings.push(finding(&file.path, &lines, hit));
        }
    }
    let score = score(&findings);
    let mut summary = summary(&findings);
    summary.push_str(&suppressed.note());
    if not_scanned > 0 {
        let noun = if not_scanned == 1 { "file" } else { "files" };
        summary.push_str(&format!(
            "; {not_scanned} {noun} not scanned (binary or over {MAX_SCAN_BYTES} bytes)"
        ));
    }
    Report {
        findings,
        score,
        summary,
    }
}

/// The finding of `hit` in the file at `path` (its `lines`): tagged with
/// the rule's CWE id, quoting the line (trimmed, at most 200 characters).
pub fn finding(path: &str, lines: &[&str], hit: Hit) -> Finding {
    let finding = Finding::new(hit.rule.id, hit.rule.severity, hit.message)
        .at(path, hit.line)
        .tag(format!("cwe:{}", hit.rule.cwe));
    let quoted = (hit.line as usize)
        .checked_sub(1)
        .and_then(|i| lines.get(i))
        .map(|l| l.trim().chars().take(200).collect::<String>())
        .filter(|l| !l.is_empty());
    match quoted {
        Some(line) => finding.snippet(line),
        None => finding,
    }
}

/// The rule hits of one file, sorted by line and rule, each rule at most
/// once per line; suppressions are not applied here.
pub fn scan_text(path: &str, text: &str) -> Vec<Hit> {
    let mut hits = match Lang::of_path(path) {
        Some(lang) => checks::check(lang, &Code::new(lang, lex::tokenize(lang, text))),
        None => config::check(path, text),
    };
    hits.sort_by(|a, b| (a.line, a.rule.id).cmp(&(b.line, b.rule.id)));
    hits.dedup_by(|a, b| a.line == b.line && a.rule.id == b.rule.id);
    hits
}

/// The score a finding of each severity costs.
pub const PENALTIES: Penalties = Penalties {
    critical: PENALTY_CRITICAL,
    high: PENALTY_HIGH,
    medium: PENALTY_MEDIUM,
    low: PENALTY_LOW,
    info: PENALTY_INFO,
};

/// 100 minus the penalties of all findings, floored at 0.
pub fn score(findings: &[Finding]) -> u8 {
    report::score(findings, &PENALTIES)
}

/// `no security findings`, or the count by severity, e.g.
/// `3 findings: 2 high, 1 medium`.
pub fn summary(findings: &[Finding]) -> String {
    report::counts(findings, "no security findings")
}

#[cfg(test)]
mod tests;
