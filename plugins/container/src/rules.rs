//! The rules of `qlp/container`: ids, severities and CWE ids (the rule
//! table is in the crate documentation).

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

pub const ROOT_USER: Rule = Rule {
    id: "container/root-user",
    severity: Severity::High,
};
pub const UNPINNED_BASE_IMAGE: Rule = Rule {
    id: "container/unpinned-base-image",
    severity: Severity::Medium,
};
pub const SECRET_IN_BUILD: Rule = Rule {
    id: "container/secret-in-image",
    severity: Severity::High,
};
/// A secret-sounding build argument: visible in the history, but its value
/// is not in the Dockerfile.
pub const SECRET_BUILD_ARG: Rule = Rule {
    id: "container/secret-in-image",
    severity: Severity::Medium,
};
pub const MISSING_HEALTHCHECK: Rule = Rule {
    id: "container/missing-healthcheck",
    severity: Severity::Low,
};
pub const ADD_REMOTE_URL: Rule = Rule {
    id: "container/add-remote-url",
    severity: Severity::Medium,
};
pub const K8S_RUN_AS_ROOT: Rule = Rule {
    id: "container/k8s-run-as-root",
    severity: Severity::High,
};
pub const K8S_PRIVILEGED: Rule = Rule {
    id: "container/k8s-privileged",
    severity: Severity::Critical,
};
pub const K8S_HOST_NAMESPACE: Rule = Rule {
    id: "container/k8s-host-namespace",
    severity: Severity::High,
};
pub const K8S_HOST_PATH: Rule = Rule {
    id: "container/k8s-host-path",
    severity: Severity::High,
};
pub const K8S_MISSING_LIMITS: Rule = Rule {
    id: "container/k8s-missing-limits",
    severity: Severity::Medium,
};
pub const K8S_MISSING_PROBES: Rule = Rule {
    id: "container/k8s-missing-probes",
    severity: Severity::Low,
};

/// Every rule id, in the order of the rule table.
pub const RULE_IDS: [&str; 11] = [
    ROOT_USER.id,
    UNPINNED_BASE_IMAGE.id,
    SECRET_IN_BUILD.id,
    MISSING_HEALTHCHECK.id,
    ADD_REMOTE_URL.id,
    K8S_RUN_AS_ROOT.id,
    K8S_PRIVILEGED.id,
    K8S_HOST_NAMESPACE.id,
    K8S_HOST_PATH.id,
    K8S_MISSING_LIMITS.id,
    K8S_MISSING_PROBES.id,
];
