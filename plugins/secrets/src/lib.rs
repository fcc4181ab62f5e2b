//! QLP validator `qlp/secrets`: finds credentials committed into a capsule's
//! files — private keys, cloud and SaaS keys, tokens, passwords in URLs and
//! hard-coded high-entropy values assigned to secret-sounding names — so
//! that a generated project never ships with a secret baked in.
//!
//! Every file whose content is valid UTF-8 and at most [`MAX_SCAN_BYTES`]
//! long is scanned line by line (a UTF-8 byte-order mark, CRLF line ends and
//! a last line without a newline are all handled, so line numbers are the
//! ones an editor shows). Binary and oversized files are not scanned; the
//! summary says how many were left out.
//!
//! # Rule model
//!
//! The rules are a table ([`rules::RULES`]) on the model of gitleaks: each
//! rule has keywords (a case-insensitive substring pre-filter: the matcher
//! runs only on lines containing one), a hand-written matcher
//! ([`matchers`]), and filters its candidate must pass — an entropy floor on
//! the captured secret, a structural checksum ([`checksum`]), a per-rule
//! allow-list of example values and of file names, and for multi-part rules
//! a second match within a few lines. A rule may *shadow* another on the
//! same line (the more specific finding replaces the general one).
//!
//! # Rules
//!
//! | rule id | severity | keywords | what it matches | filters |
//! |---|---|---|---|---|
//! | `secrets/private-key` | critical | `private key` | a PEM header `-----BEGIN [RSA \|EC \|DSA \|OPENSSH \|ENCRYPTED \|PGP ]PRIVATE KEY[ BLOCK]-----` | — |
//! | `secrets/aws-access-key-id` | critical | `akia`, `asia` | `AKIA`/`ASIA` and 16 upper-case letters or digits, as a whole word | value allow-list `EXAMPLE` |
//! | `secrets/aws-secret-access-key` | critical | `aws_secret_access_key` | a 40-character base64 value assigned to a name containing `aws_secret_access_key` | `EXAMPLE`; shadows `aws-secret-near-key-id` |
//! | `secrets/aws-secret-near-key-id` | critical | `secret` | a 40-character base64 value mixing cases and digits assigned to any name containing `secret` | entropy > 4.0; needs an AWS access key id within 5 lines |
//! | `secrets/github-token` | high | `ghp_`, …, `github_pat_` | `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_` and 36 letters or digits; `github_pat_` and 82 word characters | CRC32 checksum (classic tokens) |
//! | `secrets/npm-token` | high | `npm_` | `npm_` and 36 letters or digits | CRC32 checksum |
//! | `secrets/gitlab-token` | high | `glpat-`, `gldt-`, `glrt-` | the prefix and at least 20 of `[A-Za-z0-9_.-]` | entropy > 3.0 |
//! | `secrets/slack-token` | high | `xox` | `xoxa-`/`xoxb-`/`xoxp-`/`xoxr-`/`xoxs-` tokens | — |
//! | `secrets/slack-webhook` | high | `hooks.slack.com` | `hooks.slack.com/services/T…/B…/` and a 24-character secret | — |
//! | `secrets/stripe-key` | high | `_live_` | `sk_live_`/`rk_live_` and at least 24 letters or digits (test keys `sk_test_` are not secrets) | — |
//! | `secrets/google-api-key` | high | `aiza` | `AIza` and 35 characters of `[0-9A-Za-z_-]` | — |
//! | `secrets/gcp-service-account` | critical | `"private_key"` | the `"private_key": "-----BEGIN …PRIVATE KEY…"` field of a key file | needs `service_account` or `….iam.gserviceaccount.com` within 12 lines; shadows `private-key` |
//! | `secrets/azure-storage-key` | critical | `accountkey=` | `AccountKey=` and 88 base64 characters ending `==` | entropy > 4.5 |
//! | `secrets/openai-key` | high | `sk-` | `sk-` (`sk-proj-`, `sk-ant-api03-`, …) and 32 or more base64url characters mixing lower, upper and digits | entropy > 4.0 |
//! | `secrets/twilio-api-key` | high | `sk` | `SK` and 32 lower-case hex digits | entropy > 3.0 |
//! | `secrets/sendgrid-key` | high | `sg.` | `SG.` + 22 + `.` + 43 base64url characters | entropy > 4.0 |
//! | `secrets/pypi-token` | high | `pypi-ag` | `pypi-AgEIcHlwaS5vcmc` (or the test.pypi.org header) and 50 or more base64url characters | — |
//! | `secrets/database-url-password` | high | `://` | `postgres`/`mysql`/`mongodb[+srv]`/`redis`/`amqp`/`mssql`/… `://user:password@` | see below |
//! | `secrets/url-basic-auth` | high | `://` | `http[s]`/`ftp[s]://user:password@` | see below |
//! | `secrets/jwt` | medium | `eyj` | a signed JSON Web Token: three base64url segments, the first two starting `eyJ` | — |
//! | `secrets/high-entropy-assignment` | high | `secret`, `pass`, `token`, `key` | a hard-coded, random-looking value assigned to a secret-sounding name | entropy > [`ENTROPY_THRESHOLD_BITS`]; not in `*.example`, `*.sample`, `*.template`, `*.dist` files |
//!
//! A URL password is not reported when it is a placeholder (`${DB_PASS}`,
//! `<password>`, `****`, `{password}`, `%s`), equals the user name, is
//! shorter than [`matchers::URL_PASSWORD_MIN_CHARS`], is a well-known
//! default (`123456`, `p@ssw0rd`, …) or is made only of lower-case letters
//! (`postgres://app:postgres@db`, the development defaults of Compose files).
//!
//! **Checksums.** GitHub's classic tokens and npm tokens end with a base62
//! CRC32 of their random part ([`checksum`]). A token whose checksum does not
//! match was never issued — it is a placeholder, a made-up test value or a
//! truncated paste — and is not reported at all: reporting it at a lower
//! severity would only add noise, since it cannot authenticate anywhere.
//!
//! The last rule is the catch-all: it runs only on lines where no other
//! rule's matcher found a candidate, even one a filter then rejected (so a
//! GitHub token with a wrong checksum is not re-reported as "random"). It
//! looks at assignments `name = "value"`, `name: "value"`,
//! `"name": "value"`, `name := "value"`, `'name' => 'value'` (and
//! `name: Type = "value"` annotations); in `.env`, YAML, INI and properties
//! files also at unquoted values (`NAME=value`, `name: value`). It fires
//! when the name contains `secret`, `password`, `passwd`, `token`,
//! `api_key`, `apikey`, `access_key` or `private_key` (case and `_`/`-`
//! insensitive) but not `hash`, `digest`, `checksum`, `fingerprint`,
//! `public`, `nonce` or `key_id` (those hold digests, public values and
//! key identifiers), and the value
//! - has at least [`MIN_SECRET_VALUE_CHARS`] characters, all printable ASCII
//!   without blanks,
//! - mixes at least [`MIN_CHAR_CLASSES`] of lower-case letters, upper-case
//!   letters and digits,
//! - has a Shannon entropy above [`ENTROPY_THRESHOLD_BITS`] bits per character,
//! - is at least [`MIN_ALPHANUMERIC_PERCENT`] percent letters and digits,
//! - is not a URL, a file path, words or an identifier
//!   (`_EllipticCurvePrivateKey`, `caching_sha2_password`), nor an obvious
//!   placeholder or reference
//!   (`changeme`, `example`, `placeholder`, `your-…`, `<…>`, `${…}`,
//!   `os.environ`, `getenv`, `xxxx`, `test-only-…`, one repeated character…).
//!
//! Token-shaped matches that are obvious placeholders (such as the
//! documentation key `AKIAIOSFODNN7EXAMPLE`) are not reported either.
//!
//! Each rule is reported at most once per line. Messages show at most the
//! first [`REDACTED_PREFIX_CHARS`] characters of a secret, then `…`, and
//! carry CWE-798 (use of hard-coded credentials).
//!
//! # Files that are not scanned (global allow-list)
//!
//! Lock files (`package-lock.json`, `yarn.lock`, `Cargo.lock`, `go.sum`, …,
//! see [`GLOBAL_ALLOW_FILE_NAMES`]) hold integrity hashes that look random
//! and are generated, never hand-edited; minified and source-map files
//! (`*.min.js`, `*.min.css`, `*.map`) and vendored trees (`node_modules/`,
//! `vendor/`) are third-party code. Their count is in the summary. Test
//! fixtures are scanned like any other file: tests are where real keys get
//! pasted "just for now", and test values are recognised by their shape
//! instead (`sk_test_`, `EXAMPLE`, placeholders, wrong checksums).
//!
//! # Suppressing a finding
//!
//! - `qlp-ignore: <rule-id> <reason>` on the finding's line or on a comment
//!   line right above it ([`qlp_sdk::suppress`]; the rule id may omit
//!   `secrets/`; the reason is required). The summary counts these per rule.
//! - A line carrying `qlp:allow-secret`, `gitleaks:allow` (gitleaks) or
//!   `pragma: allowlist secret` (detect-secrets), and the line after
//!   `pragma: allowlist nextline secret`, is not scanned: code pasted from
//!   projects that use those tools keeps its reviewed exceptions.
//!
//! # Score
//!
//! The score starts at 100 and loses [`PENALTY_CRITICAL`], [`PENALTY_HIGH`],
//! [`PENALTY_MEDIUM`], [`PENALTY_LOW`] or [`PENALTY_INFO`] per finding of that
//! severity, down to 0.

pub mod checksum;
pub mod matchers;
pub mod rules;
pub mod text;

use qlp_sdk::report::{self, Penalties, Suppressed};
use qlp_sdk::validator::{Capsule, Finding, PluginError, PluginInfo, Report, Validator};
use qlp_sdk::{File, PluginKind, Region};

pub use matchers::*;
pub use rules::{RULES, Rule};
pub use text::*;

/// Largest file that is scanned. Generated sources and configuration are far
/// smaller; anything bigger is data or a bundle, and scanning it would spend
/// the sandbox's fuel on bytes that are not hand-written configuration.
pub const MAX_SCAN_BYTES: usize = 1024 * 1024;

/// A line containing this marker is not scanned (the older QLP spelling;
/// see also [`FOREIGN_ALLOW_MARKERS`]).
pub const ALLOW_MARKER: &str = "qlp:allow-secret";

/// Shannon entropy, in bits per character, above which an assigned value
/// counts as random. English words and identifiers stay around 2.5–3.3
/// bits/char; a random 16-character alphanumeric string reaches about 3.7
/// (the maximum for 16 characters is 4), so 3.5 separates the two while
/// still catching the shortest generated keys.
pub const ENTROPY_THRESHOLD_BITS: f64 = 3.5;

/// Shortest value the high-entropy rule considers. Shorter values are
/// usually words or demo passwords, and entropy is meaningless on them.
pub const MIN_SECRET_VALUE_CHARS: usize = 16;

/// Longest quoted value the assignment rules read. Credentials are shorter;
/// longer literals are text or embedded data (PEM blocks are caught by their
/// header), and the cap keeps scanning linear on pathological lines.
pub const MAX_SECRET_VALUE_CHARS: usize = 512;

/// How many of the classes lower-case letter, upper-case letter and digit a
/// value must mix to count as random. Generated keys mix at least two;
/// file names, URLs paths and prose usually use one.
pub const MIN_CHAR_CLASSES: usize = 2;

/// Share of letters and digits a value needs to count as a generated key.
/// Keys are (nearly) all alphanumeric, passwords carry a few symbols; values
/// made mostly of punctuation are test data or escapes, not credentials.
pub const MIN_ALPHANUMERIC_PERCENT: usize = 50;

/// How many characters of a secret a message may show, so the report itself
/// never leaks the secret.
pub const REDACTED_PREFIX_CHARS: usize = 4;

/// How far back, in bytes, the name of an assignment is looked for; names
/// are short, and the bound keeps long lines linear.
pub const NAME_LOOKBEHIND_BYTES: usize = 256;

/// Score lost per critical finding: a working key in the capsule is a
/// release blocker, so three of them bring the score near zero.
pub const PENALTY_CRITICAL: u8 = 40;
/// Score lost per high finding: a live token, but scoped or revocable.
pub const PENALTY_HIGH: u8 = 20;
/// Score lost per medium finding: a credential-shaped value, often a sample.
pub const PENALTY_MEDIUM: u8 = 10;
/// Score lost per low finding.
pub const PENALTY_LOW: u8 = 5;
/// Score lost per informational finding: none, it is advice.
pub const PENALTY_INFO: u8 = 0;

/// Markers of other scanners that exempt the line carrying them: gitleaks'
/// and detect-secrets'.
pub const FOREIGN_ALLOW_MARKERS: [&str; 2] = ["gitleaks:allow", "pragma: allowlist secret"];

/// detect-secrets' marker that exempts the line below it.
pub const ALLOW_NEXT_LINE_MARKER: &str = "pragma: allowlist nextline secret";

/// The prefix of every rule id, as a `qlp-ignore` suppression may omit it.
pub const RULE_NAMESPACE: &str = "secrets";

/// File names that are never scanned: lock files, whose integrity hashes
/// look random and which tools, not people, write.
pub const GLOBAL_ALLOW_FILE_NAMES: [&str; 16] = [
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "bun.lock",
    "cargo.lock",
    "poetry.lock",
    "pipfile.lock",
    "uv.lock",
    "composer.lock",
    "gemfile.lock",
    "go.sum",
    "flake.lock",
    "mix.lock",
    "pubspec.lock",
    "podfile.lock",
];

/// File name endings never scanned: minified bundles and source maps.
pub const GLOBAL_ALLOW_SUFFIXES: [&str; 3] = [".min.js", ".min.css", ".map"];

/// Directories never scanned: vendored third-party code.
pub const GLOBAL_ALLOW_DIRS: [&str; 2] = ["node_modules/", "vendor/"];

/// The validator.
pub struct Secrets;

impl Validator for Secrets {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "qlp/secrets".into(),
            version: "0.1.0".into(),
            kind: PluginKind::Validator,
            description: "Finds private keys, cloud keys, tokens and high-entropy secrets.".into(),
            capabilities: vec![],
        }
    }

    fn validate(capsule: &Capsule<'_>) -> Result<Report, PluginError> {
        let capsule = capsule.view()?;
        Ok(scan_files(&capsule.files))
    }
}

qlp_sdk::export_validator!(Secrets);

// ---------------------------------------------------------------------------
// Files and report.

/// Whether a path is on the global allow-list (lock files, minified and
/// vendored code).
pub fn is_globally_allowed(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    let name = lower.rsplit('/').next().unwrap_or(&lower);
    GLOBAL_ALLOW_FILE_NAMES.contains(&name)
        || GLOBAL_ALLOW_SUFFIXES.iter().any(|s| name.ends_with(s))
        || GLOBAL_ALLOW_DIRS
            .iter()
            .any(|d| lower.starts_with(d) || lower.contains(&format!("/{d}")))
}

/// Scans every file and builds the report.
pub fn scan_files(files: &[File]) -> Report {
    let mut findings = Vec::new();
    let mut not_scanned = 0usize;
    let mut allow_listed = 0usize;
    let mut suppressed = Suppressed::default();
    let baseline = qlp_sdk::suppress::Baseline::from_files(files);
    for file in files {
        if is_globally_allowed(&file.path) {
            allow_listed += 1;
            continue;
        }
        if file.content.len() > MAX_SCAN_BYTES {
            not_scanned += 1;
            qlp_sdk::log::info(
                "file too large to scan for secrets",
                &[("path", &file.path)],
            );
            continue;
        }
        let Some(text) = file.as_text() else {
            not_scanned += 1;
            qlp_sdk::log::debug(
                "binary file not scanned for secrets",
                &[("path", &file.path)],
            );
            continue;
        };
        let scanned = scan_text_counting(&file.path, text);
        for finding in scanned.findings {
            if baseline.covers(&file.path, finding.line(), &finding.rule_id, RULE_NAMESPACE) {
                suppressed.add(&finding.rule_id);
            } else {
                findings.push(finding);
            }
        }
        for id in scanned.suppressed {
            suppressed.add(id);
        }
    }
    let score = score(&findings);
    let mut summary = summary(&findings);
    summary.push_str(&suppressed.note());
    if not_scanned > 0 {
        let files = if not_scanned == 1 { "file" } else { "files" };
        summary.push_str(&format!(
            "; {not_scanned} {files} not scanned (binary or over {MAX_SCAN_BYTES} bytes)"
        ));
    }
    if allow_listed > 0 {
        let files = if allow_listed == 1 { "file" } else { "files" };
        summary.push_str(&format!(
            "; {allow_listed} {files} allow-listed (lock, minified or vendored)"
        ));
    }
    Report {
        findings,
        score,
        summary,
    }
}

/// What scanning one file gives: its findings, and the rule id of each
/// finding a `qlp-ignore` marker suppressed.
pub struct Scanned {
    pub findings: Vec<Finding>,
    pub suppressed: Vec<&'static str>,
}

/// Scans one text file; findings carry the path and the 1-based line.
/// Suppressed findings are left out.
pub fn scan_text(path: &str, text: &str) -> Vec<Finding> {
    scan_text_counting(path, text).findings
}

/// Whether a line is exempt by a marker on it or on the line above.
fn is_exempt(lines: &[&str], index: usize) -> bool {
    let line = lines[index];
    line.contains(ALLOW_MARKER)
        || FOREIGN_ALLOW_MARKERS.iter().any(|m| line.contains(m))
        || index
            .checked_sub(1)
            .is_some_and(|above| lines[above].contains(ALLOW_NEXT_LINE_MARKER))
}

/// Applies the rule table to one file; see the crate documentation for
/// the order of the filters.
pub fn scan_text_counting(path: &str, text: &str) -> Scanned {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let unquoted_values = allows_unquoted_values(path);
    let lower_path = path.to_ascii_lowercase();
    let rules: Vec<&Rule> = RULES
        .iter()
        .filter(|r| !r.allow_paths.iter().any(|p| lower_path.ends_with(p)))
        .collect();
    let lines: Vec<&str> = text
        .split('\n')
        .map(|raw| raw.strip_suffix('\r').unwrap_or(raw))
        .collect();
    let mut scanned = Scanned {
        findings: Vec::new(),
        suppressed: Vec::new(),
    };
    let mut lower = String::new();
    for (index, &line) in lines.iter().enumerate() {
        if is_exempt(&lines, index) {
            continue;
        }
        lower.clear();
        lower.extend(line.chars().map(|c| c.to_ascii_lowercase()));
        let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let view = rules::Line {
            text: line,
            unquoted_values,
        };
        let mut hits: Vec<(&Rule, String, Option<Region>, String)> = Vec::new();
        let mut matched = false;
        for rule in &rules {
            if (rule.catch_all && matched)
                || (!rule.keywords.is_empty() && !rule.keywords.iter().any(|k| lower.contains(k)))
            {
                continue;
            }
            let Some(candidate) = (rule.matcher)(&view) else {
                continue;
            };
            match passes_filters(rule, &candidate, &lines, index) {
                Ok(entropy) => hits.push((
                    rule,
                    rules::message(rule, &candidate, entropy),
                    columns(line, candidate.secret, number),
                    masked(line, candidate.secret),
                )),
                Err(Rejected::NoSecondMatch) => continue,
                Err(Rejected::Value) => {}
            }
            matched = true;
        }
        let shadowed: Vec<&str> = hits.iter().flat_map(|(r, ..)| r.shadows).copied().collect();
        for (rule, message, region, snippet) in hits {
            if shadowed.contains(&rule.id) {
                continue;
            }
            if qlp_sdk::suppress::is_suppressed(&lines, number, rule.id, RULE_NAMESPACE) {
                scanned.suppressed.push(rule.id);
                continue;
            }
            let finding = Finding::new(rule.id, rule.severity, message);
            let finding = match region {
                Some(region) => finding.at_region(path, region),
                None => finding.at(path, number),
            };
            scanned
                .findings
                .push(finding.snippet(snippet).tag(CWE_HARD_CODED_CREDENTIALS));
        }
    }
    scanned
}

/// The weakness every finding of this validator is an instance of.
pub const CWE_HARD_CODED_CREDENTIALS: &str = "cwe:CWE-798";

/// The columns of `secret` within `line` (line `number`), when it is a
/// stretch of it.
fn columns(line: &str, secret: &str, number: u32) -> Option<Region> {
    let offset = (secret.as_ptr() as usize).checked_sub(line.as_ptr() as usize)?;
    let end = offset.checked_add(secret.len())?;
    if end > line.len() || !line.is_char_boundary(offset) || secret.is_empty() {
        return None;
    }
    let start = line[..offset].chars().count() as u32 + 1;
    Some(Region::columns(
        number,
        start,
        start + secret.chars().count() as u32,
    ))
}

/// `line` as a finding quotes it: trimmed, cut to 200 characters, the
/// secret found in it and every other stretch that could be one (8 or more
/// characters, letters and digits mixed, between blanks, quotes or
/// `=:,;`) shortened to its first [`REDACTED_PREFIX_CHARS`] characters and
/// `…`.
pub fn masked(line: &str, secret: &str) -> String {
    let line = if secret.is_empty() {
        line.trim().to_owned()
    } else {
        line.trim().replace(secret, &redact(secret))
    };
    let line: String = line.chars().take(200).collect();
    let mut out = String::with_capacity(line.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        let letters = word.chars().any(|c| c.is_alphabetic());
        let digits = word.chars().any(|c| c.is_ascii_digit());
        if word.chars().count() >= 8 && letters && digits {
            out.push_str(&redact(word));
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in line.chars() {
        if c.is_whitespace() || "\"'`=:,;()[]{}<>".contains(c) {
            flush(&mut word, &mut out);
            out.push(c);
        } else {
            word.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// Why a rule's filters rejected a candidate.
enum Rejected {
    /// The value itself: an allow-listed example, too little entropy, a
    /// wrong checksum. The line still belongs to the rule, so the
    /// catch-all does not report it.
    Value,
    /// A multi-part rule found no second match; the catch-all may still
    /// report the value.
    NoSecondMatch,
}

/// The entropy of a candidate that passes its rule's filters: value
/// allow-list, entropy floor, checksum and second match.
fn passes_filters(
    rule: &Rule,
    candidate: &Candidate<'_>,
    lines: &[&str],
    index: usize,
) -> Result<f64, Rejected> {
    let secret = candidate.secret;
    if !rule.allow_values.is_empty() {
        let lower = secret.to_ascii_lowercase();
        if rule.allow_values.iter().any(|v| lower.contains(v)) {
            return Err(Rejected::Value);
        }
    }
    let entropy = shannon_entropy(secret);
    if rule.min_entropy.is_some_and(|floor| entropy <= floor)
        || rule.checksum.is_some_and(|ok| !ok(secret))
    {
        return Err(Rejected::Value);
    }
    if let Some(nearby) = rule.nearby {
        let from = index.saturating_sub(nearby.within_lines);
        let to = (index + nearby.within_lines + 1).min(lines.len());
        if !lines[from..to].iter().any(|l| (nearby.matches)(l)) {
            return Err(Rejected::NoSecondMatch);
        }
    }
    Ok(entropy)
}

/// Whether the file format writes values without quotes: `.env`, YAML, INI
/// and Java properties files.
pub fn allows_unquoted_values(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    name == ".env"
        || name.starts_with(".env.")
        || [".env", ".yml", ".yaml", ".ini", ".properties"]
            .iter()
            .any(|ext| name.ends_with(ext))
}

/// At most [`REDACTED_PREFIX_CHARS`] characters of a secret, then `…`.
pub fn redact(secret: &str) -> String {
    let mut shown: String = secret.chars().take(REDACTED_PREFIX_CHARS).collect();
    shown.push('…');
    shown
}

/// The score lost per finding, by severity.
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

/// "no secrets found", or e.g. "3 findings: 1 critical, 2 high".
pub fn summary(findings: &[Finding]) -> String {
    report::counts(findings, "no secrets found")
}

#[cfg(test)]
mod tests;
