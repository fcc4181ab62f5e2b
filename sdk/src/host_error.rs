//! Why the host did not do what a plugin asked.

use std::fmt;

/// A refusal or failure of a host call (HTTP, the workspace, a capsule
/// read), by kind, so a plugin matches on the variant rather than on words.
///
/// Contract 0.2.0 hands the kind over; under 0.1.0 the host gives words
/// only, and the SDK reads a refusal of an undeclared or ungranted
/// capability (`capability not granted: …`) as
/// [`NotGranted`](HostError::NotGranted), a deadline or cap
/// (`TIMEOUT: …`, `over … in one call`) as
/// [`LimitExceeded`](HostError::LimitExceeded), and anything else as
/// [`Unavailable`](HostError::Unavailable).
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

    /// A contract 0.1.0 host's words, read as a kind.
    pub(crate) fn from_words(words: String) -> Self {
        if words.starts_with("capability not granted") {
            HostError::NotGranted(words)
        } else if words.starts_with("TIMEOUT:") || words.starts_with("over ") {
            HostError::LimitExceeded(words)
        } else {
            HostError::Unavailable(words)
        }
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
    fn a_hosts_words_are_read_as_a_kind_and_shown_unchanged() {
        let cases = [
            ("capability not granted: no HTTP destination", "not-granted"),
            ("TIMEOUT: no answer within 30 s", "limit-exceeded"),
            ("over 64 HTTP requests in one call", "limit-exceeded"),
            ("example.com:443: connection refused", "unavailable"),
        ];
        for (words, code) in cases {
            let e = HostError::from_words(words.into());
            assert_eq!(e.code(), code, "{words}");
            assert_eq!(e.to_string(), words);
            assert_eq!(e.message(), words);
        }
        assert_eq!(HostError::InvalidInput("x".into()).code(), "invalid-input");
    }
}
