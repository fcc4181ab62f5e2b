//! The rules of `qlp/compliance`: ids, severities and the controls each
//! one maps to per framework (the rule table is in the crate
//! documentation). A message starts with the controls of the selected
//! frameworks only: `[PCI DSS 4.2.1; GDPR Art. 32] …`.

use qlp_sdk::validator::Severity;

use crate::data::Kind;
use crate::frameworks::{Framework, Selection};

/// A rule: its stable id, the severity of its findings and the controls it
/// checks, per framework.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
    pub controls: &'static [(Framework, &'static str)],
}

impl Rule {
    /// Whether any framework of this rule is selected.
    pub fn applies(&self, selection: &Selection) -> bool {
        self.controls.iter().any(|(f, _)| selection.has(*f))
    }

    /// `[PCI DSS 4.2.1; HIPAA 164.312(e)(1)]`: the controls of the selected
    /// frameworks.
    pub fn tag(&self, selection: &Selection) -> String {
        tag(self
            .controls
            .iter()
            .filter(|(f, _)| selection.has(*f))
            .copied())
    }
}

/// `[PCI DSS 3.4.1; GDPR Art. 32]` for a list of controls.
pub fn tag(controls: impl Iterator<Item = (Framework, &'static str)>) -> String {
    let parts: Vec<String> = controls
        .map(|(f, ids)| format!("{} {ids}", f.title()))
        .collect();
    format!("[{}]", parts.join("; "))
}

/// The controls that forbid writing a kind of data to logs.
pub fn logging_control(kind: Kind) -> (Framework, &'static str) {
    match kind {
        Kind::Card => (Framework::PciDss, "3.4.1, 3.5.1"),
        Kind::Cvv => (Framework::PciDss, "3.3.1"),
        Kind::Health => (Framework::Hipaa, "164.502(b), 164.312(b)"),
        Kind::Personal => (Framework::Gdpr, "Art. 5(1)(f), Art. 32"),
    }
}

/// One rule firing on one line of one file (line 0: about the project).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    pub rule: Rule,
    pub path: Option<String>,
    pub line: u32,
    pub message: String,
}

pub const SENSITIVE_DATA_LOGGED: Rule = Rule {
    id: "compliance/sensitive-data-logged",
    severity: Severity::High,
    controls: &[
        (Framework::PciDss, "3.4.1, 3.5.1"),
        (Framework::Hipaa, "164.502(b), 164.312(b)"),
        (Framework::Gdpr, "Art. 5(1)(f), Art. 32"),
    ],
};
pub const CVV_STORED: Rule = Rule {
    id: "compliance/cvv-stored",
    severity: Severity::Critical,
    controls: &[(Framework::PciDss, "3.3.1")],
};
pub const PLAINTEXT_TRANSPORT: Rule = Rule {
    id: "compliance/plaintext-transport",
    severity: Severity::High,
    controls: &[
        (Framework::PciDss, "4.2.1"),
        (Framework::Hipaa, "164.312(e)(1)"),
        (Framework::Gdpr, "Art. 32"),
        (Framework::Soc2, "CC6.7"),
    ],
};
pub const UNENCRYPTED_AT_REST: Rule = Rule {
    id: "compliance/unencrypted-at-rest",
    severity: Severity::High,
    controls: &[
        (Framework::PciDss, "3.5.1"),
        (Framework::Hipaa, "164.312(a)(2)(iv)"),
        (Framework::Gdpr, "Art. 32"),
        (Framework::Soc2, "CC6.1"),
    ],
};
pub const NO_AUDIT_LOGGING: Rule = Rule {
    id: "compliance/no-audit-logging",
    severity: Severity::Medium,
    controls: &[
        (Framework::PciDss, "10.2.1"),
        (Framework::Hipaa, "164.312(b)"),
        (Framework::Soc2, "CC7.2"),
    ],
};
pub const NO_RETENTION_POLICY: Rule = Rule {
    id: "compliance/no-retention-policy",
    severity: Severity::Medium,
    controls: &[
        (Framework::PciDss, "3.2.1"),
        (Framework::Hipaa, "164.316(b)(2)"),
        (Framework::Gdpr, "Art. 5(1)(e)"),
    ],
};
pub const NO_ERASURE_ENDPOINT: Rule = Rule {
    id: "compliance/no-erasure-endpoint",
    severity: Severity::Medium,
    controls: &[(Framework::Gdpr, "Art. 17")],
};
pub const NO_ACCESS_CONTROL: Rule = Rule {
    id: "compliance/no-access-control",
    severity: Severity::High,
    controls: &[
        (Framework::PciDss, "7.2.1"),
        (Framework::Hipaa, "164.312(a)(1)"),
        (Framework::Gdpr, "Art. 32"),
        (Framework::Soc2, "CC6.1"),
    ],
};

/// Every rule, in the order of the rule table.
pub const RULES: [Rule; 8] = [
    SENSITIVE_DATA_LOGGED,
    CVV_STORED,
    PLAINTEXT_TRANSPORT,
    UNENCRYPTED_AT_REST,
    NO_AUDIT_LOGGING,
    NO_RETENTION_POLICY,
    NO_ERASURE_ENDPOINT,
    NO_ACCESS_CONTROL,
];
