//! What QLP's delivery adapters (`plugins/git`, `plugins/github`,
//! `plugins/gitlab`, `plugins/webhook`) share, behind the SDK's
//! `delivery-kit` feature: reading a target's options ([`Options`]: the
//! host's `qlp.` options, a warning for any other key the adapter does not
//! know, the delivery key, the creation time, the artifact digest check,
//! `true`/`false` values), the operator's secret ([`secret`]) and keeping
//! secrets out of messages ([`redact`]). [`forge`] holds what the GitHub
//! and GitLab adapters share besides: the plan of a branch and its pull or
//! merge request, the commit trailers, and the REST API wrapper with its
//! error mapping.
//!
//! Codes: `INVALID_OPTION` for a missing or malformed option or host
//! option, `DIGEST_MISMATCH` when the host's digest is not that of the
//! bytes received, `MISSING_SECRET` when the operator configured no secret.

pub mod forge;

use crate::{Artifact, DeliveryTarget, PluginError};

/// Options the host adds to every delivery start with this; the tiers file
/// refuses them, so the operator cannot set them.
pub const HOST_OPTION_PREFIX: &str = "qlp.";

/// Host option naming the delivery whatever the attempt
/// (`<intent>/<artifact file name>`): the adapters' key for exactly once.
pub const DELIVERY_KEY: &str = "qlp.delivery-key";

/// Host option giving the blake3 of the artifact, in hex.
pub const ARTIFACT_BLAKE3: &str = "qlp.artifact-blake3";

/// Host option giving the capsule's creation time, Unix seconds: a plugin
/// has no clock, and a fixed time makes a repeated delivery identical.
pub const CREATED_AT: &str = "qlp.created-at";

/// A delivery target's options, as an adapter reads them.
#[derive(Clone, Copy, Debug)]
pub struct Options<'t> {
    options: &'t [(String, String)],
}

impl<'t> Options<'t> {
    /// The target's options. Every key that is neither a host option nor
    /// in `known` is logged as a warning and ignored: a typo in the tiers
    /// file should be seen, not fail a delivery.
    pub fn new(target: &'t DeliveryTarget, known: &[&str]) -> Self {
        for (key, _) in &target.options {
            if !key.starts_with(HOST_OPTION_PREFIX) && !known.contains(&key.as_str()) {
                crate::log::warn("unknown delivery option ignored", &[("option", key)]);
            }
        }
        Self {
            options: &target.options,
        }
    }

    /// The option's value (the last one, should a key come twice: the host
    /// passes each once).
    pub fn get(&self, key: &str) -> Option<&'t str> {
        self.options
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// [`DELIVERY_KEY`]: non-empty and without control characters, as it
    /// goes into headers and commit trailers; `INVALID_OPTION` otherwise.
    pub fn delivery_key(&self) -> Result<&'t str, PluginError> {
        self.get(DELIVERY_KEY)
            .filter(|k| !k.is_empty() && !k.chars().any(char::is_control))
            .ok_or_else(|| {
                invalid_option(format!(
                    "the host did not pass a usable `{DELIVERY_KEY}`; this adapter needs a QLP server that does"
                ))
            })
    }

    /// [`CREATED_AT`] in Unix seconds, if the host passed it;
    /// `INVALID_OPTION` when it is not a number.
    pub fn created_at(&self) -> Result<Option<u64>, PluginError> {
        self.get(CREATED_AT)
            .map(|text| {
                text.parse().map_err(|_| {
                    invalid_option(format!(
                        "host option `{CREATED_AT}` must be Unix seconds, not {text:?}"
                    ))
                })
            })
            .transpose()
    }

    /// The blake3 of the artifact's bytes in lowercase hex, checked against
    /// [`ARTIFACT_BLAKE3`] when the host passed it (`DIGEST_MISMATCH`).
    pub fn artifact_blake3(&self, artifact: &Artifact) -> Result<String, PluginError> {
        let blake3 = blake3::hash(&artifact.bytes).to_hex().to_string();
        match self.get(ARTIFACT_BLAKE3) {
            Some(claimed) if !claimed.eq_ignore_ascii_case(&blake3) => Err(PluginError::new(
                "DIGEST_MISMATCH",
                format!(
                    "the host's blake3 {claimed} is not that of the artifact received ({blake3})"
                ),
            )),
            _ => Ok(blake3),
        }
    }
}

/// `INVALID_OPTION`: the host did not pass `key`, which this adapter needs.
pub fn missing_host_option(key: &str) -> PluginError {
    invalid_option(format!(
        "the host did not pass `{key}`; this adapter needs a QLP server that does"
    ))
}

/// `value` as `true` or `false`, `default` when absent; `INVALID_OPTION`
/// naming `what` (`` option `create-repository` ``) otherwise.
pub fn flag(what: &str, value: Option<&str>, default: bool) -> Result<bool, PluginError> {
    match value {
        None => Ok(default),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(other) => Err(invalid_option(format!(
            "{what} must be `true` or `false`, not {other:?}"
        ))),
    }
}

/// `INVALID_OPTION`: an option or configuration value is not usable.
pub fn invalid_option(message: impl Into<String>) -> PluginError {
    PluginError::new("INVALID_OPTION", message)
}

/// The operator's secret `key` ([`crate::secret`]); `MISSING_SECRET` when it
/// is absent or empty, with `hint` after the key in the message
/// (`" (a GitHub token)"`).
pub fn secret(key: &str, hint: &str) -> Result<String, PluginError> {
    crate::secret(key)
        .filter(|secret| !secret.is_empty())
        .ok_or_else(|| {
            PluginError::new(
                "MISSING_SECRET",
                format!("configure the secret `{key}`{hint}"),
            )
        })
}

/// `text` with every non-empty secret replaced by `placeholder`: for each
/// message that may quote a server, a transport error or a request.
pub fn redact<S: AsRef<str>>(text: &str, secrets: &[S], placeholder: &str) -> String {
    let mut text = text.to_string();
    for secret in secrets {
        let secret = secret.as_ref();
        if !secret.is_empty() {
            text = text.replace(secret, placeholder);
        }
    }
    text
}

/// The first header of that name in a response (any case), as sent.
pub fn header<'r>(response: &'r crate::http::Response, name: &str) -> Option<&'r str> {
    response
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(options: &[(&str, &str)]) -> DeliveryTarget {
        DeliveryTarget {
            destination: "d".into(),
            options: options
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    fn code<T>(result: Result<T, PluginError>) -> String {
        result.err().map(|e| e.code).unwrap_or_default()
    }

    #[test]
    fn host_options_are_read_and_checked() {
        let artifact = Artifact {
            media_type: "application/zip".into(),
            file_name: "a.zip".into(),
            bytes: vec![1, 2, 3],
        };
        let digest = blake3::hash(&[1, 2, 3]).to_hex().to_string();
        let t = target(&[
            (DELIVERY_KEY, "i/a.zip"),
            (CREATED_AT, "17"),
            (ARTIFACT_BLAKE3, &digest.to_uppercase()),
        ]);
        let options = Options::new(&t, &[]);
        assert_eq!(options.delivery_key().unwrap(), "i/a.zip");
        assert_eq!(options.created_at().unwrap(), Some(17));
        assert_eq!(options.artifact_blake3(&artifact).unwrap(), digest);

        let t = target(&[
            (DELIVERY_KEY, "a\nb"),
            (CREATED_AT, "x"),
            (ARTIFACT_BLAKE3, "00"),
        ]);
        let options = Options::new(&t, &[]);
        assert_eq!(code(options.delivery_key()), "INVALID_OPTION");
        assert_eq!(code(options.created_at()), "INVALID_OPTION");
        assert_eq!(code(options.artifact_blake3(&artifact)), "DIGEST_MISMATCH");

        let t = target(&[("mode", "a"), ("mode", "b")]);
        let options = Options::new(&t, &["mode"]);
        assert_eq!(options.get("mode"), Some("b"), "the last one wins");
        assert_eq!(code(options.delivery_key()), "INVALID_OPTION");
        assert_eq!(options.created_at().unwrap(), None);
        assert!(
            options.artifact_blake3(&artifact).is_ok(),
            "nothing to check"
        );
    }

    #[test]
    fn flags_are_true_or_false() {
        assert!(flag("x", None, true).unwrap());
        assert!(!flag("x", Some("false"), true).unwrap());
        assert!(flag("x", Some("true"), false).unwrap());
        assert_eq!(code(flag("x", Some("yes"), false)), "INVALID_OPTION");
    }

    #[test]
    fn every_secret_is_cut_out() {
        let text = redact("a tok and dG9r and tok", &["tok", "dG9r", ""], "[x]");
        assert_eq!(text, "a [x] and [x] and [x]");
        assert_eq!(redact("keep", &[""], "[x]"), "keep", "an empty secret");
    }
}
