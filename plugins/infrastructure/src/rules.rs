//! The rules of `qlp/infrastructure`: ids and severities (the rule table,
//! with CWE ids, is in the crate documentation).

use qlp_sdk::validator::Severity;

/// A rule: its stable id and the severity of its findings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
}

/// One rule firing on one line of one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    pub rule: Rule,
    pub line: u32,
    pub message: String,
}

/// A hit of `rule` on `line`.
pub fn hit(rule: Rule, line: u32, message: String) -> Hit {
    Hit {
        rule,
        line,
        message,
    }
}

const fn rule(id: &'static str, severity: Severity) -> Rule {
    Rule { id, severity }
}

pub const TF_UNENCRYPTED_STORAGE: Rule =
    rule("infrastructure/tf-unencrypted-storage", Severity::High);
pub const TF_PUBLIC_BUCKET: Rule = rule("infrastructure/tf-public-bucket", Severity::Critical);
pub const TF_OPEN_INGRESS: Rule = rule("infrastructure/tf-open-ingress", Severity::High);
/// Open ingress reaching SSH, RDP or a database port.
pub const TF_OPEN_INGRESS_ADMIN: Rule = rule("infrastructure/tf-open-ingress", Severity::Critical);
pub const TF_PUBLIC_DATABASE: Rule = rule("infrastructure/tf-public-database", Severity::Critical);
pub const TF_LOGGING_DISABLED: Rule = rule("infrastructure/tf-logging-disabled", Severity::Medium);
pub const TF_HARDCODED_SECRET: Rule = rule("infrastructure/tf-hardcoded-secret", Severity::High);
pub const TF_UNPINNED_PROVIDER: Rule = rule("infrastructure/tf-unpinned-provider", Severity::Low);
pub const TF_NO_DELETION_PROTECTION: Rule =
    rule("infrastructure/tf-no-deletion-protection", Severity::Low);
pub const TF_IMDSV1: Rule = rule("infrastructure/tf-imdsv1", Severity::Medium);
pub const COMPOSE_PRIVILEGED: Rule = rule("infrastructure/compose-privileged", Severity::Critical);
pub const COMPOSE_HOST_NETWORK: Rule = rule("infrastructure/compose-host-network", Severity::High);
pub const COMPOSE_DOCKER_SOCKET: Rule =
    rule("infrastructure/compose-docker-socket", Severity::Critical);
pub const COMPOSE_UNPINNED_IMAGE: Rule =
    rule("infrastructure/compose-unpinned-image", Severity::Medium);
pub const COMPOSE_HARDCODED_SECRET: Rule =
    rule("infrastructure/compose-hardcoded-secret", Severity::High);
pub const COMPOSE_EXPOSED_DATABASE: Rule =
    rule("infrastructure/compose-exposed-database", Severity::Medium);

/// Every rule id, in the order of the rule table.
pub const RULE_IDS: [&str; 15] = [
    TF_UNENCRYPTED_STORAGE.id,
    TF_PUBLIC_BUCKET.id,
    TF_OPEN_INGRESS.id,
    TF_PUBLIC_DATABASE.id,
    TF_LOGGING_DISABLED.id,
    TF_HARDCODED_SECRET.id,
    TF_UNPINNED_PROVIDER.id,
    TF_NO_DELETION_PROTECTION.id,
    TF_IMDSV1.id,
    COMPOSE_PRIVILEGED.id,
    COMPOSE_HOST_NETWORK.id,
    COMPOSE_DOCKER_SOCKET.id,
    COMPOSE_UNPINNED_IMAGE.id,
    COMPOSE_HARDCODED_SECRET.id,
    COMPOSE_EXPOSED_DATABASE.id,
];

/// Whether a setting's name (`db_password`, `POSTGRES_PASSWORD`,
/// `secret_key`, `api-token`) names a secret. Names that only describe one
/// (`password_length`, `TOKEN_TTL`, `POSTGRES_PASSWORD_FILE`) do not: the
/// secret word must end the name.
pub fn is_secret_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let words: Vec<&str> = lower
        .split(['_', '-', '.'])
        .filter(|w| !w.is_empty())
        .collect();
    let Some(last) = words.last() else {
        return false;
    };
    // Tokens that only make a request idempotent (`creation_token` of an
    // EFS file system, `client_token`) guard nothing.
    let before = words.len().checked_sub(2).map(|i| words[i]);
    if *last == "token" && matches!(before, Some("creation" | "client" | "idempotency")) {
        return false;
    }
    if matches!(
        *last,
        "password" | "passwd" | "pwd" | "secret" | "token" | "apikey"
    ) {
        return true;
    }
    *last == "key"
        && matches!(
            before,
            Some("secret" | "access" | "api" | "private" | "signing")
        )
}
