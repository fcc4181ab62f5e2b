//! Language models through the host: `qlp:llm/chat`
//! (`wit/qlp-llm@0.1.0`).
//!
//! The operator configures the endpoint, its models and token budgets, and
//! grants it to a plugin with `llm = true`; the plugin sends messages and
//! gets text back. It never sees the endpoint's address or key.
//!
//! ```ignore
//! use qlp_sdk::llm::{self, Message, Options};
//!
//! let answer = llm::complete(
//!     &[Message::system("You write Go."), Message::user("A health check handler.")],
//!     &Options::default(),
//! )?;
//! ```
//!
//! Outside WebAssembly (in a plugin's unit tests) there is no host: every
//! call answers [`Error::Unavailable`].

pub use crate::bindings::agent::qlp::llm::chat::{
    Completion, Error, Message, Options, Role, Usage,
};

impl Message {
    pub fn system(content: impl Into<String>) -> Self {
        Self {
            role: Role::System,
            content: content.into(),
        }
    }

    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: Role::User,
            content: content.into(),
        }
    }

    pub fn assistant(content: impl Into<String>) -> Self {
        Self {
            role: Role::Assistant,
            content: content.into(),
        }
    }
}

impl Default for Options {
    /// The operator's default model, as many tokens as the call may spend,
    /// the endpoint's temperature.
    fn default() -> Self {
        Self {
            model: None,
            max_tokens: None,
            temperature: None,
        }
    }
}

impl Error {
    /// A stable upper-case code for a stage error: `LLM_NOT_GRANTED`,
    /// `LLM_LIMIT_EXCEEDED`, `LLM_INVALID_INPUT` or `LLM_UNAVAILABLE`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::NotGranted(_) => "LLM_NOT_GRANTED",
            Error::LimitExceeded(_) => "LLM_LIMIT_EXCEEDED",
            Error::InvalidInput(_) => "LLM_INVALID_INPUT",
            Error::Unavailable(_) => "LLM_UNAVAILABLE",
        }
    }

    /// The host's words.
    pub fn message(&self) -> &str {
        match self {
            Error::NotGranted(m)
            | Error::LimitExceeded(m)
            | Error::InvalidInput(m)
            | Error::Unavailable(m) => m,
        }
    }
}

/// Asks the operator's model for one completion of `messages`.
pub fn complete(messages: &[Message], options: &Options) -> Result<Completion, Error> {
    #[cfg(target_arch = "wasm32")]
    {
        crate::bindings::agent::qlp::llm::chat::complete(messages, options)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = (messages, options);
        Err(Error::Unavailable(
            "no model endpoint outside the QLP host".into(),
        ))
    }
}
