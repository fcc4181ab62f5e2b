//! Why the host did not do what a plugin asked: the one error every host
//! capability returns. Contract 0.2 hands it to the plugin as the typed
//! `host-error` variant; 0.1, which has strings, gets its message.

/// A refusal or failure of a host call, by kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    /// Not declared, or not granted by the operator.
    #[error("{0}")]
    NotGranted(String),
    /// A per-call limit is reached: requests, bytes, tokens, time.
    #[error("{0}")]
    LimitExceeded(String),
    /// The request itself is wrong.
    #[error("{0}")]
    InvalidInput(String),
    /// What the host depends on failed.
    #[error("{0}")]
    Unavailable(String),
}

impl From<HostError> for String {
    fn from(e: HostError) -> Self {
        e.to_string()
    }
}
