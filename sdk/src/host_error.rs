//! Why the host did not do what a plugin asked.

use std::fmt;

use crate::PluginError;
use crate::bindings::agent::qlp::plugin::types::HostError as Wire;

/// A refusal or failure of a host call (HTTP, the workspace, a capsule
/// read), by kind, so a plugin matches on the variant rather than on words:
/// contract 0.2.0's `host-error`.
///
/// A `?` in a plugin's entry point turns it into a [`PluginError`] whose
/// code names the kind (`NOT_GRANTED`, `LIMIT_EXCEEDED`, `INVALID_INPUT`,
/// `UNAVAILABLE`) and whose message is the host's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostError {
    /// The capability is not declared, or the operator did not grant it.
    NotGranted(String),
    /// A per-call limit is reached: requests, bytes, tokens, time.
    LimitExceeded(String),
    /// The request itself is wrong: a malformed URL, a path outside the
    /// directory, a file the capsule does not hold.
    InvalidInput(String),
    /// What the host depends on failed.
    Unavailable(String),
}

impl HostError {
    /// The kind, as the contract spells it: `not-granted`,
    /// `limit-exceeded`, `invalid-input` or `unavailable`.
    pub fn code(&self) -> &'static str {
        match self {
            HostError::NotGranted(_) => "not-granted",
            HostError::LimitExceeded(_) => "limit-exceeded",
            HostError::InvalidInput(_) => "invalid-input",
            HostError::Unavailable(_) => "unavailable",
        }
    }

    /// The host's words.
    pub fn message(&self) -> &str {
        match self {
            HostError::NotGranted(m)
            | HostError::LimitExceeded(m)
            | HostError::InvalidInput(m)
            | HostError::Unavailable(m) => m,
        }
    }
}

impl From<Wire> for HostError {
    fn from(e: Wire) -> Self {
        match e {
            Wire::NotGranted(m) => HostError::NotGranted(m),
            Wire::LimitExceeded(m) => HostError::LimitExceeded(m),
            Wire::InvalidInput(m) => HostError::InvalidInput(m),
            Wire::Unavailable(m) => HostError::Unavailable(m),
        }
    }
}

impl From<HostError> for PluginError {
    fn from(e: HostError) -> Self {
        PluginError::new(e.code().to_uppercase().replace('-', "_"), e.message())
    }
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for HostError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_keeps_its_words_and_becomes_a_plugin_error_naming_it() {
        let cases = [
            (
                Wire::NotGranted("no HTTP destination".into()),
                "not-granted",
                "NOT_GRANTED",
            ),
            (
                Wire::LimitExceeded("over 64 requests".into()),
                "limit-exceeded",
                "LIMIT_EXCEEDED",
            ),
            (
                Wire::InvalidInput("no file `x`".into()),
                "invalid-input",
                "INVALID_INPUT",
            ),
            (
                Wire::Unavailable("connection refused".into()),
                "unavailable",
                "UNAVAILABLE",
            ),
        ];
        for (wire, code, plugin_code) in cases {
            let words = match &wire {
                Wire::NotGranted(m)
                | Wire::LimitExceeded(m)
                | Wire::InvalidInput(m)
                | Wire::Unavailable(m) => m.clone(),
            };
            let e = HostError::from(wire);
            assert_eq!(e.code(), code);
            assert_eq!(e.message(), words);
            assert_eq!(e.to_string(), words);
            let plugin = PluginError::from(e);
            assert_eq!(
                (plugin.code.as_str(), plugin.message.as_str()),
                (plugin_code, words.as_str())
            );
        }
    }
}
