//! The rule table of `qlp/secrets`, on the model gitleaks made familiar:
//! each [`Rule`] has a stable id and severity, keywords that must occur in
//! a line before its matcher runs, a matcher, and then the filters a
//! candidate must pass — an entropy floor, a checksum, value and path
//! allow-lists, and a second match that must sit within a few lines. The
//! table is documented, rule by rule, in the crate documentation; the
//! engine that applies it is [`crate::scan_text`].

use qlp_sdk::validator::Severity;

use crate::checksum::token_checksum_ok;
use crate::matchers::*;
use crate::{ENTROPY_THRESHOLD_BITS, redact};

/// One line as the matchers see it.
pub struct Line<'a> {
    pub text: &'a str,
    /// Whether the file format writes values without quotes (`.env`,
    /// YAML, INI, properties), see [`crate::allows_unquoted_values`].
    pub unquoted_values: bool,
}

/// A matcher: the first candidate of its shape on a line.
pub type Matcher = for<'a> fn(&Line<'a>) -> Option<Candidate<'a>>;

/// A second match a rule needs near its own: a matcher over raw lines and
/// how many lines above or below it may be.
#[derive(Clone, Copy)]
pub struct Nearby {
    pub within_lines: usize,
    pub matches: fn(&str) -> bool,
    /// What the second match is, for the message.
    pub what: &'static str,
}

/// A rule of the table.
#[derive(Clone, Copy)]
pub struct Rule {
    /// Stable id; other tools and suppressions name it.
    pub id: &'static str,
    pub severity: Severity,
    /// What a finding calls the secret, e.g. "GitHub token".
    pub label: &'static str,
    /// Lower-case substrings, one of which a line must contain before the
    /// matcher runs; empty means the matcher always runs.
    pub keywords: &'static [&'static str],
    pub matcher: Matcher,
    /// The captured secret needs a Shannon entropy above this many bits per
    /// character.
    pub min_entropy: Option<f64>,
    /// The captured secret must pass this structural check.
    pub checksum: Option<fn(&str) -> bool>,
    /// Case-insensitive substrings of the secret that mark a published
    /// example value.
    pub allow_values: &'static [&'static str],
    /// File name endings where the rule does not apply.
    pub allow_paths: &'static [&'static str],
    pub nearby: Option<Nearby>,
    /// Rules whose finding on the same line this one replaces.
    pub shadows: &'static [&'static str],
    /// The catch-all: runs only on lines where no other rule's matcher
    /// found a candidate (even one a filter then rejected).
    pub catch_all: bool,
}

/// Defaults for the optional parts of a rule.
const BASE: Rule = Rule {
    id: "",
    severity: Severity::High,
    label: "",
    keywords: &[],
    matcher: |_| None,
    min_entropy: None,
    checksum: None,
    allow_values: &[],
    allow_paths: &[],
    nearby: None,
    shadows: &[],
    catch_all: false,
};

/// A matcher from a `find_…` function that returns the token itself.
macro_rules! token {
    ($find:ident) => {
        |line: &Line<'_>| {
            $find(line.text).map(|secret| Candidate {
                secret,
                context: "",
            })
        }
    };
}

pub const PRIVATE_KEY: Rule = Rule {
    id: "secrets/private-key",
    severity: Severity::Critical,
    label: "PEM private key",
    keywords: &["private key"],
    matcher: |line| {
        find_private_key(line.text).map(|kind| Candidate {
            secret: "-----BEGIN",
            context: kind,
        })
    },
    ..BASE
};
pub const AWS_ACCESS_KEY_ID: Rule = Rule {
    id: "secrets/aws-access-key-id",
    severity: Severity::Critical,
    label: "AWS access key id",
    keywords: &["akia", "asia"],
    matcher: token!(find_aws_access_key_id),
    allow_values: &["example"],
    ..BASE
};
pub const AWS_SECRET_ACCESS_KEY: Rule = Rule {
    id: "secrets/aws-secret-access-key",
    severity: Severity::Critical,
    label: "AWS secret access key",
    keywords: &["aws_secret_access_key", "aws-secret-access-key"],
    matcher: token!(find_aws_secret_access_key),
    allow_values: &["example"],
    shadows: &["secrets/aws-secret-near-key-id"],
    ..BASE
};
pub const GITHUB_TOKEN: Rule = Rule {
    id: "secrets/github-token",
    severity: Severity::High,
    label: "GitHub token",
    keywords: &["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"],
    matcher: token!(find_github_token),
    checksum: Some(token_checksum_ok),
    ..BASE
};
pub const SLACK_TOKEN: Rule = Rule {
    id: "secrets/slack-token",
    severity: Severity::High,
    label: "Slack token",
    keywords: &["xox"],
    matcher: token!(find_slack_token),
    ..BASE
};
pub const STRIPE_KEY: Rule = Rule {
    id: "secrets/stripe-key",
    severity: Severity::High,
    label: "live Stripe key",
    keywords: &["_live_"],
    matcher: token!(find_stripe_key),
    ..BASE
};
pub const GOOGLE_API_KEY: Rule = Rule {
    id: "secrets/google-api-key",
    severity: Severity::High,
    label: "Google API key",
    keywords: &["aiza"],
    matcher: token!(find_google_api_key),
    ..BASE
};
pub const JWT: Rule = Rule {
    id: "secrets/jwt",
    severity: Severity::Medium,
    label: "JSON Web Token",
    keywords: &["eyj"],
    matcher: token!(find_jwt),
    ..BASE
};
pub const HIGH_ENTROPY_ASSIGNMENT: Rule = Rule {
    id: "secrets/high-entropy-assignment",
    severity: Severity::High,
    label: "hard-coded random-looking value",
    keywords: &["secret", "pass", "token", "key"],
    matcher: |line| {
        find_high_entropy_assignment(line.text, line.unquoted_values).map(|hit| Candidate {
            secret: hit.value,
            context: hit.name,
        })
    },
    min_entropy: Some(ENTROPY_THRESHOLD_BITS),
    allow_paths: &[".example", ".sample", ".template", ".dist"],
    catch_all: true,
    ..BASE
};
pub const NPM_TOKEN: Rule = Rule {
    id: "secrets/npm-token",
    severity: Severity::High,
    label: "npm access token",
    keywords: &["npm_"],
    matcher: token!(find_npm_token),
    checksum: Some(token_checksum_ok),
    ..BASE
};
pub const GITLAB_TOKEN: Rule = Rule {
    id: "secrets/gitlab-token",
    severity: Severity::High,
    label: "GitLab token",
    keywords: &["glpat-", "gldt-", "glrt-"],
    matcher: token!(find_gitlab_token),
    min_entropy: Some(3.0),
    ..BASE
};
pub const OPENAI_KEY: Rule = Rule {
    id: "secrets/openai-key",
    severity: Severity::High,
    label: "OpenAI-style API key",
    keywords: &["sk-"],
    matcher: token!(find_openai_key),
    min_entropy: Some(4.0),
    ..BASE
};
pub const TWILIO_API_KEY: Rule = Rule {
    id: "secrets/twilio-api-key",
    severity: Severity::High,
    label: "Twilio API key",
    keywords: &["sk"],
    matcher: token!(find_twilio_api_key),
    min_entropy: Some(3.0),
    ..BASE
};
pub const SENDGRID_KEY: Rule = Rule {
    id: "secrets/sendgrid-key",
    severity: Severity::High,
    label: "SendGrid API key",
    keywords: &["sg."],
    matcher: token!(find_sendgrid_key),
    min_entropy: Some(4.0),
    ..BASE
};
pub const PYPI_TOKEN: Rule = Rule {
    id: "secrets/pypi-token",
    severity: Severity::High,
    label: "PyPI upload token",
    keywords: &["pypi-ag"],
    matcher: token!(find_pypi_token),
    ..BASE
};
pub const AZURE_STORAGE_KEY: Rule = Rule {
    id: "secrets/azure-storage-key",
    severity: Severity::Critical,
    label: "Azure storage account key",
    keywords: &["accountkey="],
    matcher: token!(find_azure_storage_key),
    min_entropy: Some(4.5),
    ..BASE
};
pub const GCP_SERVICE_ACCOUNT: Rule = Rule {
    id: "secrets/gcp-service-account",
    severity: Severity::Critical,
    label: "Google service-account private key",
    keywords: &["\"private_key\""],
    matcher: token!(find_gcp_service_account_key),
    nearby: Some(Nearby {
        within_lines: 12,
        matches: mentions_service_account,
        what: "a service-account key file",
    }),
    shadows: &["secrets/private-key"],
    ..BASE
};
pub const DATABASE_URL_PASSWORD: Rule = Rule {
    id: "secrets/database-url-password",
    severity: Severity::High,
    label: "database password",
    keywords: &["://"],
    matcher: |line| find_url_password(line.text, &DATABASE_SCHEMES),
    ..BASE
};
pub const URL_BASIC_AUTH: Rule = Rule {
    id: "secrets/url-basic-auth",
    severity: Severity::High,
    label: "password",
    keywords: &["://"],
    matcher: |line| find_url_password(line.text, &BASIC_AUTH_SCHEMES),
    ..BASE
};
pub const SLACK_WEBHOOK: Rule = Rule {
    id: "secrets/slack-webhook",
    severity: Severity::High,
    label: "Slack webhook URL",
    keywords: &["hooks.slack.com"],
    matcher: token!(find_slack_webhook),
    ..BASE
};
pub const AWS_SECRET_NEAR_KEY_ID: Rule = Rule {
    id: "secrets/aws-secret-near-key-id",
    severity: Severity::Critical,
    label: "AWS secret access key",
    keywords: &["secret"],
    matcher: |line| find_aws_secret_by_name(line.text),
    min_entropy: Some(4.0),
    allow_values: &["example"],
    nearby: Some(Nearby {
        within_lines: 5,
        matches: |l| find_aws_access_key_id(l).is_some(),
        what: "an AWS access key id",
    }),
    ..BASE
};

/// Every rule, in the order findings on one line are reported; the
/// catch-all comes last.
pub const RULES: [Rule; 21] = [
    PRIVATE_KEY,
    AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY,
    AWS_SECRET_NEAR_KEY_ID,
    GITHUB_TOKEN,
    NPM_TOKEN,
    GITLAB_TOKEN,
    SLACK_TOKEN,
    SLACK_WEBHOOK,
    STRIPE_KEY,
    GOOGLE_API_KEY,
    GCP_SERVICE_ACCOUNT,
    AZURE_STORAGE_KEY,
    OPENAI_KEY,
    TWILIO_API_KEY,
    SENDGRID_KEY,
    PYPI_TOKEN,
    DATABASE_URL_PASSWORD,
    URL_BASIC_AUTH,
    JWT,
    HIGH_ENTROPY_ASSIGNMENT,
];

/// The message of a finding of `rule` for `candidate` (whose entropy is
/// `entropy`). Secrets are shown redacted ([`redact`]).
pub fn message(rule: &Rule, candidate: &Candidate<'_>, entropy: f64) -> String {
    let shown = redact(candidate.secret);
    let text = if rule.id == PRIVATE_KEY.id || rule.id == GCP_SERVICE_ACCOUNT.id {
        let kind = if candidate.context.is_empty() {
            String::new()
        } else {
            format!(" ({})", candidate.context)
        };
        format!(
            "a {}{kind} is committed; remove it and load keys from a secret store",
            rule.label
        )
    } else if rule.catch_all {
        format!(
            "`{}` is assigned a hard-coded random-looking value `{shown}` ({entropy:.1} bits/char); \
             read it from the environment or a secret store",
            candidate.context
        )
    } else if rule.id == DATABASE_URL_PASSWORD.id || rule.id == URL_BASIC_AUTH.id {
        format!(
            "{} `{shown}` is hard-coded in a `{}://` URL; read it from the environment",
            rule.label, candidate.context
        )
    } else {
        format!("{} `{shown}` is hard-coded", rule.label)
    };
    format!("{text} (CWE-798)")
}
