//! The words every QLP crate shares, each defined once: the kinds of
//! plugin ([`PluginKind`]) and the severity of a finding ([`Severity`]).
//! The host's domain types, the registry's manifests and the rule engine
//! use these; the WIT contract has its own generated copies, converted at
//! its one boundary (`qlp-contract`'s `convert`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What a plugin does in the pipeline: the world it implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum PluginKind {
    Agent,
    Analyzer,
    Validator,
    Exporter,
    Delivery,
    Planner,
}

impl PluginKind {
    /// Every kind, in pipeline order.
    pub const ALL: [PluginKind; 6] = [
        PluginKind::Agent,
        PluginKind::Analyzer,
        PluginKind::Validator,
        PluginKind::Exporter,
        PluginKind::Delivery,
        PluginKind::Planner,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Agent => "agent",
            Self::Analyzer => "analyzer",
            Self::Validator => "validator",
            Self::Exporter => "exporter",
            Self::Delivery => "delivery",
            Self::Planner => "planner",
        }
    }
}

impl fmt::Display for PluginKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a kind (or a severity); says what was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unknown(pub String);

impl fmt::Display for Unknown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown `{}`", self.0.escape_debug())
    }
}

impl std::error::Error for Unknown {}

impl FromStr for PluginKind {
    type Err = Unknown;
    fn from_str(s: &str) -> Result<Self, Unknown> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| Unknown(s.to_owned()))
    }
}

/// How serious a finding is, from `info` to `critical`; ordered, so
/// `severity >= Severity::High` reads as it says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// Every severity, least serious first.
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = Unknown;
    fn from_str(s: &str) -> Result<Self, Unknown> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| Unknown(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back_as_written_and_nothing_else_reads() {
        for kind in PluginKind::ALL {
            assert_eq!(kind.as_str().parse::<PluginKind>(), Ok(kind));
            assert_eq!(kind.to_string(), kind.as_str());
        }
        for severity in Severity::ALL {
            assert_eq!(severity.as_str().parse::<Severity>(), Ok(severity));
            assert_eq!(severity.to_string(), severity.as_str());
        }
        assert_eq!("Agent".parse::<PluginKind>(), Err(Unknown("Agent".into())));
        assert_eq!("rules".parse::<PluginKind>(), Err(Unknown("rules".into())));
        assert_eq!(
            "warning".parse::<Severity>(),
            Err(Unknown("warning".into()))
        );
    }

    #[test]
    fn severities_are_ordered_from_info_to_critical() {
        assert!(Severity::ALL.windows(2).all(|w| w[0] < w[1]));
        assert!(Severity::Critical >= Severity::High);
    }
}
