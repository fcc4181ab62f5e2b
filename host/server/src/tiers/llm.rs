//! `[llm]`: the model endpoint agents reach through `qlp:llm/chat`.
//!
//! ```toml
//! [llm]
//! url = "http://127.0.0.1:8081/v1"   # OpenAI-compatible: {url}/chat/completions
//! api_key = "env:QLP_LLM_API_KEY"    # or "file:PATH"; optional
//! models = ["qwen2.5-coder-7b"]      # allowed; the first is the default
//! max_tokens_per_call = 4096
//! max_tokens_per_intent = 65536
//! timeout_ms = 120000
//!
//! [plugins."qlp/llm-agent"]
//! llm = true
//! limits = { timeout_ms = 300000 }
//! ```

use std::net::ToSocketAddrs;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use super::grants::read_secret;
use qlp_runtime::http::{Allowed, Grant, destination_of};
use qlp_runtime::limits::MAX_TIMEOUT;
use qlp_runtime::llm::Endpoint;

/// The most tokens one completion may be allowed.
const MAX_TOKENS_PER_CALL: u32 = 1 << 20;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmConfig {
    url: String,
    #[serde(default)]
    api_key: Option<String>,
    models: Vec<String>,
    #[serde(default = "default_per_call")]
    max_tokens_per_call: u32,
    #[serde(default = "default_per_intent")]
    max_tokens_per_intent: u64,
    #[serde(default = "default_timeout_ms")]
    timeout_ms: u64,
}

fn default_per_call() -> u32 {
    4096
}

fn default_per_intent() -> u64 {
    65_536
}

fn default_timeout_ms() -> u64 {
    120_000
}

impl LlmConfig {
    /// The endpoint, checked, with its key read from the environment or a
    /// file (relative to `base`).
    pub fn endpoint(&self, base: Option<&Path>) -> Result<Endpoint, String> {
        let url = self.url.trim_end_matches('/').to_owned();
        let allowed = destination_of(&url).map_err(|e| format!("url `{url}`: {e}"))?;
        if self.models.is_empty() || self.models.iter().any(|m| m.trim().is_empty()) {
            return Err("models: name at least one model, none empty".into());
        }
        if self.max_tokens_per_call == 0 || self.max_tokens_per_call > MAX_TOKENS_PER_CALL {
            return Err(format!(
                "max_tokens_per_call {} is not between 1 and {MAX_TOKENS_PER_CALL}",
                self.max_tokens_per_call
            ));
        }
        if self.max_tokens_per_intent == 0 {
            return Err("max_tokens_per_intent is 0".into());
        }
        let timeout = Duration::from_millis(self.timeout_ms);
        if timeout.is_zero() || timeout > MAX_TIMEOUT {
            return Err(format!(
                "timeout_ms {} is not between 1 and {}",
                self.timeout_ms,
                MAX_TIMEOUT.as_millis()
            ));
        }
        let api_key = self
            .api_key
            .as_deref()
            .map(|source| read_secret("api_key", source, base))
            .transpose()?
            .map(|s| s.expose().to_owned());
        // The operator named this endpoint: it is reached at whatever
        // address its name has now, private or not, and only there.
        let mut destination = vec![allowed.clone()];
        if let Ok(addrs) = (allowed.host.as_str(), allowed.port).to_socket_addrs() {
            for addr in addrs {
                let ip = Allowed {
                    host: addr.ip().to_string(),
                    port: allowed.port,
                };
                if !destination.contains(&ip) {
                    destination.push(ip);
                }
            }
        }
        Ok(Endpoint {
            url,
            api_key,
            models: self.models.clone(),
            max_tokens_per_call: self.max_tokens_per_call,
            max_tokens_per_intent: self.max_tokens_per_intent,
            timeout,
            destination: Grant {
                allowed: destination,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(url: &str) -> LlmConfig {
        LlmConfig {
            url: url.into(),
            api_key: None,
            models: vec!["coder".into()],
            max_tokens_per_call: 100,
            max_tokens_per_intent: 1000,
            timeout_ms: 1000,
        }
    }

    #[test]
    fn the_endpoint_is_reached_at_its_host_and_port_only() {
        let e = config("http://127.0.0.1:8081/v1/").endpoint(None).unwrap();
        assert_eq!(e.url, "http://127.0.0.1:8081/v1");
        let hosts: Vec<String> = e
            .destination
            .allowed
            .iter()
            .map(|a| format!("{}:{}", a.host, a.port))
            .collect();
        assert_eq!(hosts, ["127.0.0.1:8081"]);
        let e = config("https://llm.example.com/v1").endpoint(None).unwrap();
        assert_eq!(e.destination.allowed[0].port, 443);
        assert_eq!(e.destination.allowed[0].host, "llm.example.com");
    }

    #[test]
    fn a_bad_configuration_is_refused_with_its_reason() {
        let refused = |c: LlmConfig| c.endpoint(None).unwrap_err();
        assert!(refused(config("ftp://x/v1")).contains("scheme `ftp` is not supported"));
        assert!(
            refused(config("http://user:pw@x/v1"))
                .contains("credentials in the URL are not allowed")
        );
        assert!(refused(config("http:///v1")).contains("no host"));
        assert!(
            refused(LlmConfig {
                models: vec![],
                ..config("http://x/v1")
            })
            .contains("models")
        );
        assert!(
            refused(LlmConfig {
                max_tokens_per_call: 0,
                ..config("http://x/v1")
            })
            .contains("max_tokens_per_call")
        );
        assert!(
            refused(LlmConfig {
                max_tokens_per_intent: 0,
                ..config("http://x/v1")
            })
            .contains("max_tokens_per_intent")
        );
        assert!(
            refused(LlmConfig {
                timeout_ms: 0,
                ..config("http://x/v1")
            })
            .contains("timeout_ms")
        );
        assert!(
            refused(LlmConfig {
                api_key: Some("sk-literal".into()),
                ..config("http://x/v1")
            })
            .contains("never the secret itself")
        );
    }

    #[test]
    fn the_key_is_read_from_the_environment_and_never_printed() {
        // SAFETY: this test alone sets this variable.
        unsafe { std::env::set_var("QLP_TEST_LLM_KEY_7", "sk-from-env") };
        let e = LlmConfig {
            api_key: Some("env:QLP_TEST_LLM_KEY_7".into()),
            ..config("http://127.0.0.1:9/v1")
        }
        .endpoint(None)
        .unwrap();
        assert_eq!(e.api_key.as_deref(), Some("sk-from-env"));
        assert!(!format!("{e:?}").contains("sk-from-env"));
    }
}
