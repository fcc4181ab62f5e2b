//! The matchers of the rules in [`crate::rules`]: hand-written scanners,
//! one per token shape, each returning the first candidate on a line. They
//! check shape only (prefix, alphabet, length, word boundaries, obvious
//! placeholders); entropy, checksums, allow-lists and second matches are
//! applied by the rule table.

use crate::text::*;

/// Characters after `AKIA`/`ASIA` in an AWS access key id.
pub const AWS_KEY_ID_TAIL_CHARS: usize = 16;
/// Length of an AWS secret access key.
pub const AWS_SECRET_CHARS: usize = 40;
/// Characters after `ghp_` and friends in a classic GitHub token.
pub const GITHUB_TOKEN_TAIL_CHARS: usize = 36;
/// Characters after `github_pat_` in a fine-grained GitHub token.
pub const GITHUB_PAT_TAIL_CHARS: usize = 82;
/// Shortest tail of a Slack token that is not a placeholder like `xoxb-...`.
pub const SLACK_MIN_TAIL_CHARS: usize = 10;
/// Shortest tail of a live Stripe key.
pub const STRIPE_MIN_TAIL_CHARS: usize = 24;
/// Characters after `AIza` in a Google API key.
pub const GOOGLE_KEY_TAIL_CHARS: usize = 35;
/// Shortest JWT header or payload segment: `{"alg":"none"}` already encodes
/// to 20 characters, so anything shorter is not a token.
pub const JWT_MIN_SEGMENT_CHARS: usize = 10;
/// Shortest JWT signature: HMAC-SHA256 gives 43; unsigned tokens (an empty
/// signature) carry no secret.
pub const JWT_MIN_SIGNATURE_CHARS: usize = 16;

// Matchers of the original rules.

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

// ---------------------------------------------------------------------------
// Matchers of the provider rules added with the rule table.

/// Characters after `npm_` in an npm access token.
pub const NPM_TOKEN_TAIL_CHARS: usize = 36;
/// Shortest tail of a GitLab personal, deploy or runner token.
pub const GITLAB_MIN_TAIL_CHARS: usize = 20;
/// Shortest body of an OpenAI-style `sk-…` key (legacy keys have 48).
pub const OPENAI_MIN_TAIL_CHARS: usize = 32;
/// Hexadecimal digits after `SK` in a Twilio API key.
pub const TWILIO_KEY_HEX_CHARS: usize = 32;
/// Characters of the id and of the secret part of a SendGrid key.
pub const SENDGRID_PARTS_CHARS: (usize, usize) = (22, 43);
/// Shortest tail of a PyPI upload token after its macaroon header.
pub const PYPI_MIN_TAIL_CHARS: usize = 50;
/// Characters of an Azure storage account key: 64 bytes in base64.
pub const AZURE_STORAGE_KEY_CHARS: usize = 88;
/// Characters of the secret at the end of a Slack incoming-webhook URL.
pub const SLACK_WEBHOOK_SECRET_CHARS: usize = 24;
/// Shortest Slack workspace or channel id in a webhook URL (`T…`, `B…`).
pub const SLACK_ID_MIN_CHARS: usize = 8;
/// Shortest password in a URL that is reported; shorter ones are demo
/// values (`pw`, `1234`).
pub const URL_PASSWORD_MIN_CHARS: usize = 6;

/// A candidate secret and, for the message, what it belongs to (an
/// assigned name, a URL scheme, a key kind; may be empty).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate<'a> {
    pub secret: &'a str,
    pub context: &'a str,
}

/// `secrets/npm-token`: `npm_` and 36 base62 characters (the last 6 are a
/// checksum, see [`crate::checksum`]).
pub fn find_npm_token(line: &str) -> Option<&str> {
    find_prefixed(
        line,
        &["npm_"],
        |b| b.is_ascii_alphanumeric(),
        0,
        Some(NPM_TOKEN_TAIL_CHARS),
    )
}

/// `secrets/gitlab-token`: a personal (`glpat-`), deploy (`gldt-`) or
/// runner (`glrt-`) token.
pub fn find_gitlab_token(line: &str) -> Option<&str> {
    find_prefixed(
        line,
        &["glpat-", "gldt-", "glrt-"],
        |b| is_base64url_byte(b) || b == b'.',
        GITLAB_MIN_TAIL_CHARS,
        None,
    )
}

/// `secrets/openai-key`: `sk-` (also `sk-proj-`, `sk-svcacct-`,
/// `sk-ant-api03-`) and a long run of base64url characters mixing
/// lower-case, upper-case and digits. Kebab-case identifiers starting
/// `sk-` never mix all three.
pub fn find_openai_key(line: &str) -> Option<&str> {
    let bytes = line.as_bytes();
    for (start, _) in line.match_indices("sk-") {
        if start > 0 && (is_base64url_byte(bytes[start - 1]) || bytes[start - 1] == b'.') {
            continue;
        }
        let tail = run_len(bytes, start + 3, is_base64url_byte);
        let end = start + 3 + tail;
        let body = &line[start + 3..end];
        if tail >= OPENAI_MIN_TAIL_CHARS
            && char_classes(body) == 3
            && !reads_as_words(body)
            && !is_placeholder(body)
        {
            return Some(&line[start..end]);
        }
    }
    None
}

/// `secrets/twilio-api-key`: `SK` and 32 lower-case hexadecimal digits.
pub fn find_twilio_api_key(line: &str) -> Option<&str> {
    find_prefixed(
        line,
        &["SK"],
        |b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        0,
        Some(TWILIO_KEY_HEX_CHARS),
    )
}

/// `secrets/sendgrid-key`: `SG.`, 22 and then 43 base64url characters
/// separated by a dot.
pub fn find_sendgrid_key(line: &str) -> Option<&str> {
    let bytes = line.as_bytes();
    let (id_chars, secret_chars) = SENDGRID_PARTS_CHARS;
    for (start, _) in line.match_indices("SG.") {
        if start > 0 && is_base64url_byte(bytes[start - 1]) {
            continue;
        }
        let id = run_len(bytes, start + 3, is_base64url_byte);
        let dot = start + 3 + id;
        if id != id_chars || bytes.get(dot) != Some(&b'.') {
            continue;
        }
        let secret = run_len(bytes, dot + 1, is_base64url_byte);
        let end = dot + 1 + secret;
        if secret == secret_chars && !is_placeholder(&line[dot + 1..end]) {
            return Some(&line[start..end]);
        }
    }
    None
}

/// `secrets/pypi-token`: a pypi.org or test.pypi.org upload token, whose
/// macaroon header is fixed (`pypi-AgEIcHlwaS5vcmc…`).
pub fn find_pypi_token(line: &str) -> Option<&str> {
    find_prefixed(
        line,
        &["pypi-AgEIcHlwaS5vcmc", "pypi-AgENdGVzdC5weXBpLm9yZw"],
        is_base64url_byte,
        PYPI_MIN_TAIL_CHARS,
        None,
    )
}

/// `secrets/azure-storage-key`: the `AccountKey=` of an Azure storage
/// connection string, 88 base64 characters ending `==`.
pub fn find_azure_storage_key(line: &str) -> Option<&str> {
    const FIELD: &str = "AccountKey=";
    let bytes = line.as_bytes();
    for (start, _) in line.match_indices(FIELD) {
        let from = start + FIELD.len();
        let len = run_len(bytes, from, |b| {
            b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')
        });
        let key = &line[from..from + len];
        if len == AZURE_STORAGE_KEY_CHARS && key.ends_with("==") && !is_placeholder(key) {
            return Some(key);
        }
    }
    None
}

/// `secrets/gcp-service-account`: the `"private_key"` field of a Google
/// service-account key file, whose value is a PEM key. Returns the value
/// from `-----BEGIN` to the closing quote (or the end of the line).
pub fn find_gcp_service_account_key(line: &str) -> Option<&str> {
    const FIELD: &str = "\"private_key\"";
    let at = line.find(FIELD)?;
    let rest = line[at + FIELD.len()..].trim_start();
    let rest = rest.strip_prefix(':')?.trim_start().strip_prefix('"')?;
    if !rest.starts_with("-----BEGIN") || !rest.contains("PRIVATE KEY") {
        return None;
    }
    Some(rest.split('"').next().unwrap_or(rest))
}

/// Whether a line says it belongs to a Google service-account key file.
pub fn mentions_service_account(line: &str) -> bool {
    line.contains("service_account") || line.contains(".iam.gserviceaccount.com")
}

/// URL schemes of databases and message brokers.
pub const DATABASE_SCHEMES: [&str; 13] = [
    "postgres",
    "postgresql",
    "mysql",
    "mariadb",
    "mongodb",
    "mongodb+srv",
    "redis",
    "rediss",
    "amqp",
    "amqps",
    "mssql",
    "sqlserver",
    "cockroachdb",
];

/// URL schemes whose user information is HTTP basic or FTP authentication.
pub const BASIC_AUTH_SCHEMES: [&str; 4] = ["http", "https", "ftp", "ftps"];

/// Passwords that are well-known development defaults, not secrets.
const DEFAULT_PASSWORDS: [&str; 6] = [
    "123456",
    "12345678",
    "password1",
    "p@ssw0rd",
    "passw0rd",
    "s3cret",
];

/// The first `scheme://user:password@host` on the line whose scheme is one
/// of `schemes`: the password and the scheme. Placeholders (`${DB_PASS}`,
/// `<password>`, `****`), passwords equal to the user, development
/// defaults, and passwords made only of lower-case letters (`postgres`,
/// `secret`, `apppassword`) are not candidates.
pub fn find_url_password<'a>(line: &'a str, schemes: &[&str]) -> Option<Candidate<'a>> {
    let bytes = line.as_bytes();
    for (sep, _) in line.match_indices("://") {
        let scheme_len = bytes[..sep]
            .iter()
            .rev()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'.' | b'-'))
            .count();
        let scheme = &line[sep - scheme_len..sep];
        if !schemes.iter().any(|s| scheme.eq_ignore_ascii_case(s)) {
            continue;
        }
        let from = sep + 3;
        let userinfo_len = run_len(bytes, from, |b| {
            b.is_ascii_graphic() && !matches!(b, b'/' | b'@' | b'"' | b'\'' | b'`' | b'?' | b'#')
        });
        if bytes.get(from + userinfo_len) != Some(&b'@') {
            continue;
        }
        let userinfo = &line[from..from + userinfo_len];
        let Some((user, password)) = userinfo.split_once(':') else {
            continue;
        };
        let lower = password.to_ascii_lowercase();
        if password.len() < URL_PASSWORD_MIN_CHARS
            || password == user
            || is_placeholder(password)
            || password.starts_with(['{', '%', '*'])
            || password.bytes().all(|b| b.is_ascii_lowercase())
            || DEFAULT_PASSWORDS.contains(&lower.as_str())
        {
            continue;
        }
        return Some(Candidate {
            secret: password,
            context: scheme,
        });
    }
    None
}

/// `secrets/slack-webhook`: `hooks.slack.com/services/T…/B…/` and a
/// 24-character secret.
pub fn find_slack_webhook(line: &str) -> Option<&str> {
    const PATH: &str = "hooks.slack.com/services/";
    let bytes = line.as_bytes();
    for (start, _) in line.match_indices(PATH) {
        let mut at = start + PATH.len();
        let mut ok = true;
        for lead in [b'T', b'B'] {
            let id = run_len(bytes, at, |b| b.is_ascii_uppercase() || b.is_ascii_digit());
            if bytes.get(at) != Some(&lead)
                || id < SLACK_ID_MIN_CHARS
                || bytes.get(at + id) != Some(&b'/')
            {
                ok = false;
                break;
            }
            at += id + 1;
        }
        let secret = run_len(bytes, at, |b| b.is_ascii_alphanumeric());
        if ok && secret == SLACK_WEBHOOK_SECRET_CHARS && !is_placeholder(&line[at..at + secret]) {
            return Some(&line[start..at + secret]);
        }
    }
    None
}

/// `secrets/aws-secret-near-key-id`: a 40-character base64 value mixing
/// cases and digits, assigned to a name containing `secret` (for example
/// `secretAccessKey`, `AWS_SECRET`). The rule table then requires an AWS
/// access key id within a few lines.
pub fn find_aws_secret_by_name(line: &str) -> Option<Candidate<'_>> {
    assignments(line).into_iter().find_map(|a| {
        let squashed = a.name.to_ascii_lowercase();
        let base64 = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'+' | b'=');
        (squashed.contains("secret")
            && a.value.len() == AWS_SECRET_CHARS
            && a.value.bytes().all(base64)
            && char_classes(a.value) == 3
            && !is_placeholder(a.value))
        .then_some(Candidate {
            secret: a.value,
            context: a.name,
        })
    })
}
