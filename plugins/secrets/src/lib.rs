//! QLP validator `qlp/secrets`: finds credentials committed into a capsule's
//! files — private keys, cloud and SaaS keys, tokens and hard-coded
//! high-entropy values assigned to secret-sounding names — so that a
//! generated project never ships with a secret baked in.
//!
//! Every file whose content is valid UTF-8 and at most [`MAX_SCAN_BYTES`]
//! long is scanned line by line (a UTF-8 byte-order mark, CRLF line ends and
//! a last line without a newline are all handled, so line numbers are the
//! ones an editor shows). Binary and oversized files are not scanned; the
//! summary says how many were left out.
//!
//! # Rules
//!
//! | rule id | severity | what it matches |
//! |---|---|---|
//! | `secrets/private-key` | critical | a PEM header `-----BEGIN [RSA \|EC \|DSA \|OPENSSH \|ENCRYPTED \|PGP ]PRIVATE KEY[ BLOCK]-----` |
//! | `secrets/aws-access-key-id` | critical | `AKIA`/`ASIA` and 16 upper-case letters or digits, as a whole word |
//! | `secrets/aws-secret-access-key` | critical | a 40-character base64 value assigned to a name containing `aws_secret_access_key` |
//! | `secrets/github-token` | high | `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_` and 36 letters or digits; `github_pat_` and 82 word characters |
//! | `secrets/slack-token` | high | `xoxa-`/`xoxb-`/`xoxp-`/`xoxr-`/`xoxs-` tokens |
//! | `secrets/stripe-key` | high | `sk_live_`/`rk_live_` and at least 24 letters or digits |
//! | `secrets/google-api-key` | high | `AIza` and 35 characters of `[0-9A-Za-z_-]` |
//! | `secrets/jwt` | medium | a signed JSON Web Token: three base64url segments, the first two starting `eyJ` |
//! | `secrets/high-entropy-assignment` | high | a hard-coded, random-looking value assigned to a secret-sounding name |
//!
//! The last rule is the catch-all: it is not reported on a line where a more
//! specific rule already fired. It looks at assignments `name = "value"`,
//! `name: "value"`, `"name": "value"`, `name := "value"`, `'name' => 'value'`
//! (and `name: Type = "value"` annotations); in `.env`, YAML, INI and
//! properties files also at unquoted values (`NAME=value`, `name: value`).
//! It fires when the name contains `secret`, `password`, `passwd`, `token`,
//! `api_key`, `apikey`, `access_key` or `private_key` (case and `_`/`-`
//! insensitive) and the value
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
//! first [`REDACTED_PREFIX_CHARS`] characters of a secret, then `…`.
//!
//! # Suppressing a finding
//!
//! A line that contains the marker `qlp:allow-secret` (in practice inside a
//! comment, e.g. `API_TOKEN = "…"  # qlp:allow-secret`) is not reported.
//!
//! # Score
//!
//! The score starts at 100 and loses [`PENALTY_CRITICAL`], [`PENALTY_HIGH`],
//! [`PENALTY_MEDIUM`], [`PENALTY_LOW`] or [`PENALTY_INFO`] per finding of that
//! severity, down to 0.

use qlp_sdk::validator::{
    CapsuleView, Finding, PluginError, PluginInfo, Report, Severity, Validator,
};
use qlp_sdk::{File, PluginKind};

/// Largest file that is scanned. Generated sources and configuration are far
/// smaller; anything bigger is data or a bundle, and scanning it would spend
/// the sandbox's fuel on bytes that are not hand-written configuration.
pub const MAX_SCAN_BYTES: usize = 1024 * 1024;

/// A line containing this marker is never reported.
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

/// Characters after `AKIA`/`ASIA` in an AWS access key id.
const AWS_KEY_ID_TAIL_CHARS: usize = 16;
/// Length of an AWS secret access key.
const AWS_SECRET_CHARS: usize = 40;
/// Characters after `ghp_` and friends in a classic GitHub token.
const GITHUB_TOKEN_TAIL_CHARS: usize = 36;
/// Characters after `github_pat_` in a fine-grained GitHub token.
const GITHUB_PAT_TAIL_CHARS: usize = 82;
/// Shortest tail of a Slack token that is not a placeholder like `xoxb-...`.
const SLACK_MIN_TAIL_CHARS: usize = 10;
/// Shortest tail of a live Stripe key.
const STRIPE_MIN_TAIL_CHARS: usize = 24;
/// Characters after `AIza` in a Google API key.
const GOOGLE_KEY_TAIL_CHARS: usize = 35;
/// Shortest JWT header or payload segment: `{"alg":"none"}` already encodes
/// to 20 characters, so anything shorter is not a token.
const JWT_MIN_SEGMENT_CHARS: usize = 10;
/// Shortest JWT signature: HMAC-SHA256 gives 43; unsigned tokens (an empty
/// signature) carry no secret.
const JWT_MIN_SIGNATURE_CHARS: usize = 16;

/// A rule: its stable id and the severity of its findings.
#[derive(Clone, Copy)]
pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
}

pub const PRIVATE_KEY: Rule = Rule {
    id: "secrets/private-key",
    severity: Severity::Critical,
};
pub const AWS_ACCESS_KEY_ID: Rule = Rule {
    id: "secrets/aws-access-key-id",
    severity: Severity::Critical,
};
pub const AWS_SECRET_ACCESS_KEY: Rule = Rule {
    id: "secrets/aws-secret-access-key",
    severity: Severity::Critical,
};
pub const GITHUB_TOKEN: Rule = Rule {
    id: "secrets/github-token",
    severity: Severity::High,
};
pub const SLACK_TOKEN: Rule = Rule {
    id: "secrets/slack-token",
    severity: Severity::High,
};
pub const STRIPE_KEY: Rule = Rule {
    id: "secrets/stripe-key",
    severity: Severity::High,
};
pub const GOOGLE_API_KEY: Rule = Rule {
    id: "secrets/google-api-key",
    severity: Severity::High,
};
pub const JWT: Rule = Rule {
    id: "secrets/jwt",
    severity: Severity::Medium,
};
pub const HIGH_ENTROPY_ASSIGNMENT: Rule = Rule {
    id: "secrets/high-entropy-assignment",
    severity: Severity::High,
};

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

    fn validate(capsule: CapsuleView) -> Result<Report, PluginError> {
        Ok(scan_files(&capsule.files))
    }
}

qlp_sdk::export_validator!(Secrets);

// ---------------------------------------------------------------------------
// Files and report.

/// Scans every file and builds the report.
pub fn scan_files(files: &[File]) -> Report {
    let mut findings = Vec::new();
    let mut not_scanned = 0usize;
    for file in files {
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
        findings.extend(scan_text(&file.path, text));
    }
    let score = score(&findings);
    let mut summary = summary(&findings);
    if not_scanned > 0 {
        let files = if not_scanned == 1 { "file" } else { "files" };
        summary.push_str(&format!(
            "; {not_scanned} {files} not scanned (binary or over {MAX_SCAN_BYTES} bytes)"
        ));
    }
    Report {
        findings,
        score,
        summary,
    }
}

/// Scans one text file; findings carry the path and the 1-based line.
pub fn scan_text(path: &str, text: &str) -> Vec<Finding> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let unquoted_values = allows_unquoted_values(path);
    let mut findings = Vec::new();
    for (index, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        for (rule, message) in scan_line(line, unquoted_values) {
            findings.push(Finding {
                rule_id: rule.id.into(),
                severity: rule.severity,
                message,
                path: Some(path.into()),
                line: Some(number),
            });
        }
    }
    findings
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

/// Every rule that fires on one line, each at most once, with its message.
pub fn scan_line(line: &str, unquoted_values: bool) -> Vec<(Rule, String)> {
    let mut hits = Vec::new();
    if line.contains(ALLOW_MARKER) {
        return hits;
    }
    if let Some(kind) = find_private_key(line) {
        let kind = if kind.is_empty() {
            String::new()
        } else {
            format!(" ({kind})")
        };
        hits.push((
            PRIVATE_KEY,
            format!(
                "a PEM private key{kind} is committed; remove it and load keys from a secret store"
            ),
        ));
    }
    if let Some(key) = find_aws_access_key_id(line) {
        hits.push((
            AWS_ACCESS_KEY_ID,
            format!("AWS access key id `{}` is hard-coded", redact(key)),
        ));
    }
    if let Some(key) = find_aws_secret_access_key(line) {
        hits.push((
            AWS_SECRET_ACCESS_KEY,
            format!("AWS secret access key `{}` is hard-coded", redact(key)),
        ));
    }
    if let Some(token) = find_github_token(line) {
        hits.push((
            GITHUB_TOKEN,
            format!("GitHub token `{}` is hard-coded", redact(token)),
        ));
    }
    if let Some(token) = find_slack_token(line) {
        hits.push((
            SLACK_TOKEN,
            format!("Slack token `{}` is hard-coded", redact(token)),
        ));
    }
    if let Some(key) = find_stripe_key(line) {
        hits.push((
            STRIPE_KEY,
            format!("live Stripe key `{}` is hard-coded", redact(key)),
        ));
    }
    if let Some(key) = find_google_api_key(line) {
        hits.push((
            GOOGLE_API_KEY,
            format!("Google API key `{}` is hard-coded", redact(key)),
        ));
    }
    if let Some(token) = find_jwt(line) {
        hits.push((
            JWT,
            format!("JSON Web Token `{}` is hard-coded", redact(token)),
        ));
    }
    if hits.is_empty()
        && let Some(found) = find_high_entropy_assignment(line, unquoted_values)
    {
        hits.push((
            HIGH_ENTROPY_ASSIGNMENT,
            format!(
                "`{}` is assigned a hard-coded random-looking value `{}` ({:.1} bits/char); \
                 read it from the environment or a secret store",
                found.name,
                redact(found.value),
                found.entropy
            ),
        ));
    }
    hits
}

/// At most [`REDACTED_PREFIX_CHARS`] characters of a secret, then `…`.
pub fn redact(secret: &str) -> String {
    let mut shown: String = secret.chars().take(REDACTED_PREFIX_CHARS).collect();
    shown.push('…');
    shown
}

/// Score lost for one finding of this severity.
pub fn penalty(severity: Severity) -> u8 {
    match severity {
        Severity::Critical => PENALTY_CRITICAL,
        Severity::High => PENALTY_HIGH,
        Severity::Medium => PENALTY_MEDIUM,
        Severity::Low => PENALTY_LOW,
        Severity::Info => PENALTY_INFO,
    }
}

/// 100 minus the penalties of all findings, floored at 0.
pub fn score(findings: &[Finding]) -> u8 {
    findings
        .iter()
        .fold(100u8, |score, f| score.saturating_sub(penalty(f.severity)))
}

/// "no secrets found", or e.g. "3 findings: 1 critical, 2 high".
pub fn summary(findings: &[Finding]) -> String {
    if findings.is_empty() {
        return "no secrets found".into();
    }
    let levels = [
        (Severity::Critical, "critical"),
        (Severity::High, "high"),
        (Severity::Medium, "medium"),
        (Severity::Low, "low"),
        (Severity::Info, "info"),
    ];
    let counts: Vec<String> = levels
        .iter()
        .filter_map(|(level, label)| {
            let n = findings.iter().filter(|f| f.severity == *level).count();
            (n > 0).then(|| format!("{n} {label}"))
        })
        .collect();
    let noun = if findings.len() == 1 {
        "finding"
    } else {
        "findings"
    };
    format!("{} {noun}: {}", findings.len(), counts.join(", "))
}

// ---------------------------------------------------------------------------
// Shared scanning helpers.

/// A byte of a word in the regular-expression sense (`\w`).
fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// A byte of base64url text.
fn is_base64url_byte(b: u8) -> bool {
    is_word_byte(b) || b == b'-'
}

/// Whether a word starts at `at` (nothing word-like right before it).
fn word_starts_at(bytes: &[u8], at: usize) -> bool {
    at == 0 || !is_word_byte(bytes[at - 1])
}

/// Whether a word ends right before `at`.
fn word_ends_at(bytes: &[u8], at: usize) -> bool {
    bytes.get(at).is_none_or(|b| !is_word_byte(*b))
}

/// Length of the run of bytes satisfying `accept` from `from` on.
fn run_len(bytes: &[u8], from: usize, accept: impl Fn(u8) -> bool) -> usize {
    bytes
        .get(from..)
        .map_or(0, |rest| rest.iter().take_while(|b| accept(**b)).count())
}

/// The first token that starts, as a whole word, with one of `prefixes` and
/// continues with a run of `accept` bytes whose length is exactly `exact`
/// (or at least `min` when `exact` is `None`), ending on a word boundary.
/// Obvious placeholders are skipped.
fn find_prefixed<'a>(
    line: &'a str,
    prefixes: &[&str],
    accept: impl Fn(u8) -> bool + Copy,
    min: usize,
    exact: Option<usize>,
) -> Option<&'a str> {
    let bytes = line.as_bytes();
    for prefix in prefixes {
        for (start, _) in line.match_indices(prefix) {
            if !word_starts_at(bytes, start) {
                continue;
            }
            let tail_start = start + prefix.len();
            let tail = run_len(bytes, tail_start, accept);
            let end = tail_start + tail;
            let length_ok = match exact {
                Some(n) => tail == n,
                None => tail >= min,
            };
            if length_ok && word_ends_at(bytes, end) && !is_placeholder(&line[tail_start..end]) {
                return Some(&line[start..end]);
            }
        }
    }
    None
}

/// Whether a value is an obvious placeholder or a reference to a secret kept
/// elsewhere rather than a secret.
pub fn is_placeholder(value: &str) -> bool {
    const WORDS: [&str; 20] = [
        "changeme",
        "change-me",
        "change_me",
        "changethis",
        "change-this",
        "change_this",
        "example",
        "placeholder",
        "redacted",
        "replace-me",
        "replace_me",
        "xxxx",
        "****",
        "...",
        "os.environ",
        "getenv",
        "process.env",
        "env(",
        "secretsmanager",
        "vault:",
    ];
    const PREFIXES: [&str; 9] = [
        "your-",
        "your_",
        "test-only",
        "test_only",
        "dummy",
        "fake",
        "sample",
        "${",
        "{{",
    ];
    let lower = value.trim().to_ascii_lowercase();
    let mut chars = lower.chars();
    let Some(first) = chars.next() else {
        return true;
    };
    chars.all(|c| c == first)
        || (lower.starts_with('<') && lower.ends_with('>'))
        || lower.starts_with('$')
        || lower.starts_with("%(")
        || WORDS.iter().any(|w| lower.contains(w))
        || PREFIXES.iter().any(|p| lower.starts_with(p))
}

/// Shannon entropy of the characters of `s`, in bits per character.
pub fn shannon_entropy(s: &str) -> f64 {
    let mut chars: Vec<char> = s.chars().collect();
    if chars.is_empty() {
        return 0.0;
    }
    chars.sort_unstable();
    let total = chars.len() as f64;
    chars
        .chunk_by(|a, b| a == b)
        .map(|run| {
            let p = run.len() as f64 / total;
            -p * p.log2()
        })
        .sum()
}

/// How many of lower-case letters, upper-case letters and digits occur.
fn char_classes(s: &str) -> usize {
    let lower = s.bytes().any(|b| b.is_ascii_lowercase());
    let upper = s.bytes().any(|b| b.is_ascii_uppercase());
    let digit = s.bytes().any(|b| b.is_ascii_digit());
    usize::from(lower) + usize::from(upper) + usize::from(digit)
}

// ---------------------------------------------------------------------------
// Matchers, one per rule.

/// `secrets/private-key`: the kind (`RSA`, `EC`, ..., or empty) of the first
/// PEM private key header on the line.
pub fn find_private_key(line: &str) -> Option<&'static str> {
    const BEGIN: &str = "-----BEGIN ";
    const KINDS: [&str; 7] = ["RSA ", "EC ", "DSA ", "OPENSSH ", "ENCRYPTED ", "PGP ", ""];
    for (start, _) in line.match_indices(BEGIN) {
        let rest = &line[start + BEGIN.len()..];
        for kind in KINDS {
            let Some(after) = rest
                .strip_prefix(kind)
                .and_then(|r| r.strip_prefix("PRIVATE KEY"))
            else {
                continue;
            };
            let after = after.strip_prefix(" BLOCK").unwrap_or(after);
            if after.starts_with("-----") {
                return Some(kind.trim_end());
            }
        }
    }
    None
}

/// `secrets/aws-access-key-id`: `AKIA`/`ASIA` and 16 of `[A-Z0-9]`.
pub fn find_aws_access_key_id(line: &str) -> Option<&str> {
    find_prefixed(
        line,
        &["AKIA", "ASIA"],
        |b| b.is_ascii_uppercase() || b.is_ascii_digit(),
        0,
        Some(AWS_KEY_ID_TAIL_CHARS),
    )
}

/// `secrets/aws-secret-access-key`: a 40-character base64 value assigned to
/// a name containing `aws_secret_access_key`, quoted or not.
pub fn find_aws_secret_access_key(line: &str) -> Option<&str> {
    assignments(line)
        .into_iter()
        .map(|a| (a.name, a.value))
        .find_map(|(name, value)| {
            let name = name.to_ascii_lowercase().replace('-', "_");
            let base64 = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'+' | b'=');
            (name.contains("aws_secret_access_key")
                && value.len() == AWS_SECRET_CHARS
                && value.bytes().all(base64)
                && !is_placeholder(value))
            .then_some(value)
        })
}

/// `secrets/github-token`: a classic (`ghp_`, `gho_`, `ghu_`, `ghs_`,
/// `ghr_`) or fine-grained (`github_pat_`) GitHub token.
pub fn find_github_token(line: &str) -> Option<&str> {
    find_prefixed(
        line,
        &["ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
        |b| b.is_ascii_alphanumeric(),
        0,
        Some(GITHUB_TOKEN_TAIL_CHARS),
    )
    .or_else(|| {
        find_prefixed(
            line,
            &["github_pat_"],
            is_word_byte,
            0,
            Some(GITHUB_PAT_TAIL_CHARS),
        )
    })
}

/// `secrets/slack-token`: `xoxa-`, `xoxb-`, `xoxp-`, `xoxr-` or `xoxs-` and
/// a tail of letters, digits and dashes.
pub fn find_slack_token(line: &str) -> Option<&str> {
    find_prefixed(
        line,
        &["xoxa-", "xoxb-", "xoxp-", "xoxr-", "xoxs-"],
        |b| b.is_ascii_alphanumeric() || b == b'-',
        SLACK_MIN_TAIL_CHARS,
        None,
    )
}

/// `secrets/stripe-key`: a live secret (`sk_live_`) or restricted
/// (`rk_live_`) Stripe key.
pub fn find_stripe_key(line: &str) -> Option<&str> {
    find_prefixed(
        line,
        &["sk_live_", "rk_live_"],
        |b| b.is_ascii_alphanumeric(),
        STRIPE_MIN_TAIL_CHARS,
        None,
    )
}

/// `secrets/google-api-key`: `AIza` and 35 of `[0-9A-Za-z_-]`.
pub fn find_google_api_key(line: &str) -> Option<&str> {
    let bytes = line.as_bytes();
    for (start, _) in line.match_indices("AIza") {
        if start > 0 && is_base64url_byte(bytes[start - 1]) {
            continue;
        }
        let tail = run_len(bytes, start + 4, is_base64url_byte);
        let end = start + 4 + tail;
        if tail == GOOGLE_KEY_TAIL_CHARS && !is_placeholder(&line[start + 4..end]) {
            return Some(&line[start..end]);
        }
    }
    None
}

/// `secrets/jwt`: `eyJ….eyJ….signature` in base64url, with plausible
/// segment lengths.
pub fn find_jwt(line: &str) -> Option<&str> {
    let bytes = line.as_bytes();
    for (start, _) in line.match_indices("eyJ") {
        if start > 0 && is_base64url_byte(bytes[start - 1]) {
            continue;
        }
        let header = run_len(bytes, start, is_base64url_byte);
        let payload_start = start + header + 1;
        if header < JWT_MIN_SEGMENT_CHARS
            || bytes.get(start + header) != Some(&b'.')
            || !line[payload_start..].starts_with("eyJ")
        {
            continue;
        }
        let payload = run_len(bytes, payload_start, is_base64url_byte);
        let signature_start = payload_start + payload + 1;
        if payload < JWT_MIN_SEGMENT_CHARS || bytes.get(payload_start + payload) != Some(&b'.') {
            continue;
        }
        let signature = run_len(bytes, signature_start, is_base64url_byte);
        if signature >= JWT_MIN_SIGNATURE_CHARS {
            return Some(&line[start..signature_start + signature]);
        }
    }
    None
}

/// What [`find_high_entropy_assignment`] found.
#[derive(Debug, PartialEq)]
pub struct EntropyHit<'a> {
    pub name: &'a str,
    pub value: &'a str,
    pub entropy: f64,
}

/// `secrets/high-entropy-assignment`: the first assignment of a random-looking
/// literal to a secret-sounding name. Unquoted values count only when
/// `unquoted_values` is set (`.env`, YAML, INI, properties).
pub fn find_high_entropy_assignment(line: &str, unquoted_values: bool) -> Option<EntropyHit<'_>> {
    assignments(line)
        .into_iter()
        .filter(|a| (a.quoted || unquoted_values) && is_secret_name(a.name))
        .find_map(|a| {
            let entropy = secret_value_entropy(a.value)?;
            Some(EntropyHit {
                name: a.name,
                value: a.value,
                entropy,
            })
        })
}

/// Whether an assigned name sounds like it holds a secret.
pub fn is_secret_name(name: &str) -> bool {
    const WORDS: [&str; 7] = [
        "secret",
        "password",
        "passwd",
        "token",
        "apikey",
        "accesskey",
        "privatekey",
    ];
    let squashed: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    WORDS.iter().any(|w| squashed.contains(w))
}

/// The entropy of a value that looks like a generated secret, or `None` when
/// it does not (too short, not printable ASCII without blanks — generated
/// keys are —, too few character classes, mostly punctuation, a URL, words, a
/// path, a placeholder, or entropy at or under the threshold). A path is a
/// value starting with `./`, `../`, `~/` or `/x/`, or one holding a `/` but
/// no upper-case letter (URL paths such as `api/v1/auth/token`; base64 keys
/// that contain `/` practically always mix cases).
pub fn secret_value_entropy(value: &str) -> Option<f64> {
    let is_path = value.starts_with("./")
        || value.starts_with("../")
        || value.starts_with("~/")
        || (value.starts_with('/') && value[1..].contains('/'))
        || (value.contains('/') && !value.bytes().any(|b| b.is_ascii_uppercase()));
    if value.len() < MIN_SECRET_VALUE_CHARS
        || !value.bytes().all(|b| b.is_ascii_graphic())
        || char_classes(value) < MIN_CHAR_CLASSES
        || value.bytes().filter(u8::is_ascii_alphanumeric).count() * 100
            < value.len() * MIN_ALPHANUMERIC_PERCENT
        || value.contains("://")
        || is_path
        || reads_as_words(value)
        || is_placeholder(value)
    {
        return None;
    }
    let entropy = shannon_entropy(value);
    (entropy > ENTROPY_THRESHOLD_BITS).then_some(entropy)
}

/// Whether a value reads as words or an identifier (`challengePassword`,
/// `_EllipticCurvePrivateKey`, `caching_sha2_password`): split at `_`, `-`,
/// `.` and before each upper-case letter, every piece is a word — at most one
/// capital, then lower-case letters, then maybe digits — or a number. Random
/// strings rarely split like that: their capitals sit side by side and their
/// digits fall between letters.
pub fn reads_as_words(value: &str) -> bool {
    fn is_word(piece: &[u8]) -> bool {
        let rest = match piece.first() {
            Some(b) if b.is_ascii_uppercase() => &piece[1..],
            _ => piece,
        };
        let letters = rest.iter().take_while(|b| b.is_ascii_lowercase()).count();
        let digits_only = rest[letters..].iter().all(u8::is_ascii_digit);
        digits_only && (letters > 0 || (rest.len() == piece.len() && !piece.is_empty()))
    }
    let bytes = value.as_bytes();
    if !bytes
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
    {
        return false;
    }
    let mut start = 0;
    for i in 0..=bytes.len() {
        let boundary = i == bytes.len()
            || matches!(bytes[i], b'_' | b'-' | b'.')
            || (bytes[i].is_ascii_uppercase() && i > start);
        if boundary {
            if i > start && !is_word(&bytes[start..i]) {
                return false;
            }
            start = if i < bytes.len() && !bytes[i].is_ascii_uppercase() {
                i + 1
            } else {
                i
            };
        }
    }
    true
}

/// One `name <separator> value` pair found on a line.
#[derive(Debug, PartialEq)]
pub struct Assignment<'a> {
    pub name: &'a str,
    pub value: &'a str,
    /// Whether the value was a quoted literal.
    pub quoted: bool,
}

/// Every assignment on a line: a name (an identifier, or a quoted key)
/// followed by `=`, `:`, `:=` or `=>` and a value (a quoted literal, or the
/// next whitespace-free word). Comparisons (`==`, `!=`, `<=`, ...), compound
/// assignments and paths (`::`) are not assignments.
pub fn assignments(line: &str) -> Vec<Assignment<'_>> {
    let bytes = line.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let prev = i.checked_sub(1).map(|p| bytes[p]);
        let next = bytes.get(i + 1).copied();
        let value_start = match bytes[i] {
            b'=' => {
                let operator = matches!(
                    prev,
                    Some(
                        b'=' | b'!'
                            | b'<'
                            | b'>'
                            | b'+'
                            | b'-'
                            | b'*'
                            | b'/'
                            | b'%'
                            | b'&'
                            | b'|'
                            | b'^'
                            | b'~'
                            | b':'
                    )
                );
                if operator || next == Some(b'=') {
                    i += 1;
                    continue;
                }
                if next == Some(b'>') { i + 2 } else { i + 1 }
            }
            b':' => {
                if prev == Some(b':') || next == Some(b':') {
                    i += 1;
                    continue;
                }
                if next == Some(b'=') { i + 2 } else { i + 1 }
            }
            _ => {
                i += 1;
                continue;
            }
        };
        let name = name_before(line, i, bytes[i] == b'=');
        let value = value_after(line, value_start);
        i = value_start;
        if let (Some(name), Some((value, quoted, end))) = (name, value) {
            found.push(Assignment {
                name,
                value,
                quoted,
            });
            if quoted {
                i = end;
            }
        }
    }
    found
}

/// A byte of an assigned name: identifiers, dotted paths and dashed keys.
fn is_name_byte(b: u8) -> bool {
    is_word_byte(b) || matches!(b, b'.' | b'-' | b'$')
}

fn is_quote(b: u8) -> bool {
    matches!(b, b'"' | b'\'' | b'`')
}

/// The name assigned to by the separator at `sep`: a quoted key made of
/// name characters (quoted prose is not a key), the
/// identifier right before it or, before `=`, the name of a `name: Type`
/// annotation.
fn name_before(line: &str, sep: usize, equals: bool) -> Option<&str> {
    let bytes = line.as_bytes();
    let floor = sep.saturating_sub(NAME_LOOKBEHIND_BYTES);
    let mut end = sep;
    while end > floor && matches!(bytes[end - 1], b' ' | b'\t') {
        end -= 1;
    }
    let last = *bytes.get(end.checked_sub(1)?)?;
    if is_quote(last) {
        let close = end - 1;
        let open = (floor..close).rev().find(|&p| bytes[p] == last)?;
        let key = &line[open + 1..close];
        return (!key.is_empty() && key.bytes().all(is_name_byte)).then_some(key);
    }
    let mut start = end;
    while start > floor && is_name_byte(bytes[start - 1]) {
        start -= 1;
    }
    if equals && let Some(annotated) = annotated_name(line, start, floor) {
        return Some(annotated);
    }
    (start < end).then(|| &line[start..end])
}

/// For `name: Type = value`, the `name`, given where `Type` starts.
fn annotated_name(line: &str, type_start: usize, floor: usize) -> Option<&str> {
    let bytes = line.as_bytes();
    let mut p = type_start;
    while p > floor {
        p -= 1;
        match bytes[p] {
            b':' if p > floor && bytes[p - 1] == b':' => p -= 1,
            b':' => {
                let mut end = p;
                while end > floor && matches!(bytes[end - 1], b' ' | b'\t') {
                    end -= 1;
                }
                let mut start = end;
                while start > floor && is_name_byte(bytes[start - 1]) {
                    start -= 1;
                }
                return (start < end).then(|| &line[start..end]);
            }
            b'=' | b';' | b',' | b'(' | b'{' | b'"' | b'\'' | b'`' => return None,
            _ => {}
        }
    }
    None
}

/// The value starting at `from` (after blanks): a quoted literal of at most
/// [`MAX_SECRET_VALUE_CHARS`] bytes, or the next whitespace-free word without
/// a trailing `,` or `;`. Returns the value, whether it was quoted, and where
/// it ends.
fn value_after(line: &str, from: usize) -> Option<(&str, bool, usize)> {
    let bytes = line.as_bytes();
    let mut start = from;
    while start < bytes.len() && matches!(bytes[start], b' ' | b'\t') {
        start += 1;
    }
    let first = *bytes.get(start)?;
    if is_quote(first) {
        let limit = bytes.len().min(start + 1 + MAX_SECRET_VALUE_CHARS);
        let mut j = start + 1;
        while j < limit {
            match bytes[j] {
                b'\\' => j += 2,
                b if b == first => return Some((&line[start + 1..j], true, j + 1)),
                _ => j += 1,
            }
        }
        return None;
    }
    let len = run_len(bytes, start, |b| !b.is_ascii_whitespace());
    let value = line[start..start + len].trim_end_matches([',', ';']);
    (!value.is_empty()).then_some((value, false, start + len))
}

#[cfg(test)]
mod tests;
