//! The rules of `qlp/security`: stable ids, severities and the CWE each one
//! maps to (the column contract 0.2 will carry as a field of its own).

use qlp_sdk::validator::Severity;

/// A rule: its stable id, the severity of its findings and its CWE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
    /// The CWE id, e.g. `CWE-89`.
    pub cwe: &'static str,
}

pub const SQL_INJECTION: Rule = Rule {
    id: "security/sql-injection",
    severity: Severity::High,
    cwe: "CWE-89",
};
pub const COMMAND_INJECTION: Rule = Rule {
    id: "security/command-injection",
    severity: Severity::High,
    cwe: "CWE-78",
};
pub const CODE_INJECTION: Rule = Rule {
    id: "security/code-injection",
    severity: Severity::High,
    cwe: "CWE-95",
};
pub const TEMPLATE_INJECTION: Rule = Rule {
    id: "security/template-injection",
    severity: Severity::High,
    cwe: "CWE-94",
};
pub const UNSAFE_DESERIALIZATION: Rule = Rule {
    id: "security/unsafe-deserialization",
    severity: Severity::High,
    cwe: "CWE-502",
};
pub const WEAK_HASH: Rule = Rule {
    id: "security/weak-hash",
    severity: Severity::Medium,
    cwe: "CWE-328",
};
pub const WEAK_PASSWORD_HASH: Rule = Rule {
    id: "security/weak-password-hash",
    severity: Severity::High,
    cwe: "CWE-916",
};
pub const WEAK_CIPHER: Rule = Rule {
    id: "security/weak-cipher",
    severity: Severity::High,
    cwe: "CWE-327",
};
pub const TLS_VERIFICATION_DISABLED: Rule = Rule {
    id: "security/tls-verification-disabled",
    severity: Severity::High,
    cwe: "CWE-295",
};
pub const DEBUG_ENABLED: Rule = Rule {
    id: "security/debug-enabled",
    severity: Severity::Medium,
    cwe: "CWE-489",
};
/// A wildcard origin without credentials.
pub const PERMISSIVE_CORS: Rule = Rule {
    id: "security/permissive-cors",
    severity: Severity::Medium,
    cwe: "CWE-942",
};
/// A wildcard (or reflected) origin together with credentials.
pub const PERMISSIVE_CORS_CREDENTIALS: Rule = Rule {
    id: "security/permissive-cors",
    severity: Severity::High,
    cwe: "CWE-942",
};

/// Every rule id, in the order of the rule table.
pub const RULE_IDS: [&str; 11] = [
    SQL_INJECTION.id,
    COMMAND_INJECTION.id,
    CODE_INJECTION.id,
    TEMPLATE_INJECTION.id,
    UNSAFE_DESERIALIZATION.id,
    WEAK_HASH.id,
    WEAK_PASSWORD_HASH.id,
    WEAK_CIPHER.id,
    TLS_VERIFICATION_DISABLED.id,
    DEBUG_ENABLED.id,
    PERMISSIVE_CORS.id,
];
