//! QLP delivery `qlp/webhook`: POSTs the artifact to an HTTP endpoint the
//! operator runs, signed like QLP's event webhooks (`host/server/src/webhooks.rs`).
//!
//! The target's `destination` is the receiver's URL (`http://…` or
//! `https://…`, at most [`MAX_URL_BYTES`], no spaces or control characters:
//! else `INVALID_DESTINATION`); the operator grants its `host:port` in the
//! tiers file (`http = [...]`). The request carries:
//! - the body: the artifact's bytes with its media type as `Content-Type`,
//!   or, with option `mode` = `link`, the JSON
//!   `{"artifact": <file name>, "blake3": <hex>, "url": <download-url>}`
//!   for artifacts too large to post. The link is the operator's: option
//!   `download-url` (an `http(s)` URL) names where the receiver fetches the
//!   artifact, which this adapter neither uploads nor checks;
//! - `QLP-Delivery-Key` (the host's `qlp.delivery-key`, stable per intent
//!   and artifact), `QLP-Artifact-Name` and `QLP-Artifact-Blake3` (hex, of
//!   the artifact's bytes). Header values are ASCII: other bytes of a name
//!   or key are percent-encoded;
//! - `X-QLP-Timestamp` (Unix seconds) and
//!   `X-QLP-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`,
//!   byte for byte the event webhooks' headers, names included, so a
//!   receiver verifies both with one routine. The secret is the operator's configuration `secret`
//!   (`MISSING_SECRET` when absent or empty: nothing is sent unsigned).
//!
//! The timestamp is the intent's creation time (host option
//! `qlp.created-at`): a WebAssembly plugin has no clock, and a fixed time
//! makes a repeated delivery byte-identical, signature included. Receivers
//! that refuse old timestamps must allow for how long an intent runs.
//!
//! Repeatable: a resumed intent delivers again with the same
//! `QLP-Delivery-Key`, body and signature; **receivers deduplicate on
//! `QLP-Delivery-Key`**, as they already must for retries. Within one call
//! the POST is tried up to [`MAX_ATTEMPTS`] times on transport errors, 5xx
//! and 429, honouring a `Retry-After` of up to [`MAX_RETRY_AFTER`] seconds
//! where the build can wait (natively); inside WebAssembly, which offers no
//! way to wait, a non-zero `Retry-After` ends the call with `UNREACHABLE`
//! naming the delay, and responses without it are retried at once.
//!
//! Outcome: 2xx → receipt with location = the URL and details `status`
//! and `attempts`; 401/403 → `AUTH_FAILED`; 404/410 → `TARGET_NOT_FOUND`;
//! 409 → `CONFLICT`; any other 4xx → `REJECTED` (status in the message);
//! still failing after the last try → `UNREACHABLE`. Other errors:
//! `INVALID_OPTION` (bad `mode` or `download-url`, missing host options),
//! `DIGEST_MISMATCH` (the host's `qlp.artifact-blake3` is not the digest of
//! the bytes received). The secret never appears in a receipt, an error or
//! a log line.

use std::time::Duration;

use hmac::{Hmac, Mac};
use qlp_sdk::delivery::{Artifact, Delivery, DeliveryTarget, PluginError, PluginInfo, Receipt};
use qlp_sdk::delivery_kit::{self, CREATED_AT, Options, invalid_option, missing_host_option};
use qlp_sdk::http::{Request, Response};
use qlp_sdk::{Capability, PluginKind};
use sha2::Sha256;

/// Configuration key of the signing secret.
pub const SECRET_KEY: &str = "secret";

/// The signature header, as QLP's event webhooks send it.
pub const SIGNATURE_HEADER: &str = "X-QLP-Signature";

/// The header of the signed timestamp, as QLP's event webhooks send it.
pub const TIMESTAMP_HEADER: &str = "X-QLP-Timestamp";

/// Tries of one POST within a call: enough to ride out a restart of the
/// receiver, few enough to stay far inside the host's 64 requests and
/// deadline per call.
pub const MAX_ATTEMPTS: u32 = 3;

/// Longest `Retry-After` honoured, in seconds: a longer one would spend
/// most of the call's deadline waiting; the call ends `UNREACHABLE`.
pub const MAX_RETRY_AFTER: u64 = 5;

/// Longest destination or download URL accepted, in bytes (the host's
/// limit for event webhook URLs).
pub const MAX_URL_BYTES: usize = 2048;

/// Most bytes of a receiver's answer quoted in an error.
const MAX_QUOTED_BYTES: usize = 200;

pub use qlp_sdk::delivery_kit::HOST_OPTION_PREFIX;

/// The delivery adapter.
pub struct Webhook;

impl Delivery for Webhook {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "qlp/webhook".into(),
            version: "0.1.0".into(),
            kind: PluginKind::Delivery,
            description: "POSTs the artifact, signed, to an HTTP endpoint.".into(),
            // The receiver is the operator's: the tiers file grants its
            // host; this only asks for outbound HTTP.
            capabilities: vec![
                Capability::Http("receiver.invalid:443".into()),
                Capability::Secret(SECRET_KEY.into()),
            ],
        }
    }

    fn deliver(artifact: Artifact, target: DeliveryTarget) -> Result<Receipt, PluginError> {
        let secret = secret_from_host()?;
        deliver_with(&secret, &artifact, &target, wait)
    }
}

qlp_sdk::export_delivery!(Webhook);

/// The signing secret from the operator's configuration.
pub fn secret_from_host() -> Result<String, PluginError> {
    delivery_kit::secret(SECRET_KEY, ": qlp/webhook sends nothing unsigned")
}

/// Waits `delay` where the build can and says whether it did: natively it
/// sleeps; WebAssembly plugins have no clock to wait on.
pub fn wait(delay: Duration) -> bool {
    #[cfg(target_arch = "wasm32")]
    {
        let _ = delay;
        false
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::thread::sleep(delay);
        true
    }
}

/// What goes in the body.
#[derive(Debug, PartialEq, Eq)]
pub enum Mode {
    /// The artifact's bytes.
    Body,
    /// A JSON link to where the operator published the artifact.
    Link { download_url: String },
}

/// A validated delivery.
#[derive(Debug, PartialEq, Eq)]
pub struct Plan {
    pub url: String,
    pub mode: Mode,
    pub delivery_key: String,
    pub blake3: String,
    pub timestamp: u64,
}

/// Validates the target and the host's options.
pub fn plan(artifact: &Artifact, target: &DeliveryTarget) -> Result<Plan, PluginError> {
    if let Some(problem) = url_problem(&target.destination) {
        return Err(PluginError::new(
            "INVALID_DESTINATION",
            format!("destination {:?} {problem}", target.destination),
        ));
    }
    let options = Options::new(target, &["mode", "download-url"]);
    let option = |key: &str| options.get(key);
    let mode = match option("mode").unwrap_or("body") {
        "body" => Mode::Body,
        "link" => {
            let download_url = option("download-url").ok_or_else(|| {
                invalid_option("option `mode` = `link` needs option `download-url`")
            })?;
            if let Some(problem) = url_problem(download_url) {
                return Err(invalid_option(format!(
                    "option `download-url` {download_url:?} {problem}"
                )));
            }
            Mode::Link {
                download_url: download_url.into(),
            }
        }
        other => {
            return Err(invalid_option(format!(
                "option `mode` must be `body` or `link`, not {other:?}"
            )));
        }
    };
    let delivery_key = options.delivery_key()?.to_string();
    let timestamp = options
        .created_at()?
        .ok_or_else(|| missing_host_option(CREATED_AT))?;
    let blake3 = options.artifact_blake3(artifact)?;
    Ok(Plan {
        url: target.destination.clone(),
        mode,
        delivery_key,
        blake3,
        timestamp,
    })
}

/// Why a URL is unacceptable, if it is.
pub fn url_problem(url: &str) -> Option<&'static str> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    match rest {
        None => Some("is not an http:// or https:// URL"),
        Some(_) if url.len() > MAX_URL_BYTES => Some("is too long"),
        Some(rest) if rest.is_empty() || rest.starts_with(['/', '?', '#']) => Some("has no host"),
        Some(_) if url.chars().any(|c| c.is_whitespace() || c.is_control()) => {
            Some("contains a space or control character")
        }
        Some(_) => None,
    }
}

/// `v1=` and the hex HMAC-SHA256 of `"<timestamp>.<body>"` under `secret`:
/// QLP's event webhook signature (`qlp_server::webhooks::sign`).
pub fn sign(secret: &str, timestamp: u64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("v1={hex}")
}

/// The request a plan sends (the same on every try).
pub fn request(secret: &str, artifact: &Artifact, plan: &Plan) -> Request {
    let (content_type, body) = match &plan.mode {
        Mode::Body => (artifact.media_type.clone(), artifact.bytes.clone()),
        Mode::Link { download_url } => (
            "application/json".to_string(),
            serde_json::json!({
                "artifact": artifact.file_name,
                "blake3": plan.blake3,
                "url": download_url,
            })
            .to_string()
            .into_bytes(),
        ),
    };
    let content_type = if content_type.is_empty() {
        "application/octet-stream".to_string()
    } else {
        header_value(&content_type)
    };
    let signature = sign(secret, plan.timestamp, &body);
    Request {
        method: "POST".into(),
        url: plan.url.clone(),
        headers: vec![
            ("Content-Type".into(), content_type),
            ("User-Agent".into(), "qlp".into()),
            ("QLP-Delivery-Key".into(), header_value(&plan.delivery_key)),
            (
                "QLP-Artifact-Name".into(),
                header_value(&artifact.file_name),
            ),
            ("QLP-Artifact-Blake3".into(), plan.blake3.clone()),
            (TIMESTAMP_HEADER.into(), plan.timestamp.to_string()),
            (SIGNATURE_HEADER.into(), signature),
        ],
        body,
    }
}

/// `text` with every byte outside visible ASCII and space, and `%`
/// itself, percent-encoded: safe as a header value.
pub fn header_value(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if (0x20..0x7f).contains(&byte) && byte != b'%' {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Delivers with the given secret; `wait` pauses before a retry the
/// receiver asked to delay ([`wait`] in production).
pub fn deliver_with(
    secret: &str,
    artifact: &Artifact,
    target: &DeliveryTarget,
    wait: impl Fn(Duration) -> bool,
) -> Result<Receipt, PluginError> {
    let plan = plan(artifact, target)?;
    let request = request(secret, artifact, &plan);
    let redact = |text: &str| delivery_kit::redact(text, &[secret], "[secret]");
    let mut last_failure = String::new();
    for attempt in 1..=MAX_ATTEMPTS {
        let response = match qlp_sdk::http::fetch(&request) {
            Ok(response) => response,
            Err(error) => {
                last_failure = redact(error.message());
                qlp_sdk::log::warn(
                    "webhook attempt failed",
                    &[("attempt", &attempt.to_string()), ("error", &last_failure)],
                );
                continue;
            }
        };
        let status = response.status;
        if (200..300).contains(&status) {
            qlp_sdk::log::info(
                "artifact delivered",
                &[
                    ("status", &status.to_string()),
                    ("attempts", &attempt.to_string()),
                    ("bytes", &request.body.len().to_string()),
                ],
            );
            return Ok(Receipt {
                location: plan.url,
                details: vec![
                    ("status".into(), status.to_string()),
                    ("attempts".into(), attempt.to_string()),
                ],
            });
        }
        let said = redact(&quote(&response));
        let failure =
            |code: &str| PluginError::new(code, format!("the receiver answered {status}{said}"));
        match status {
            401 | 403 => return Err(failure("AUTH_FAILED")),
            404 | 410 => return Err(failure("TARGET_NOT_FOUND")),
            409 => return Err(failure("CONFLICT")),
            429 | 500..=599 => {}
            _ => return Err(failure("REJECTED")),
        }
        last_failure = format!("status {status}{said}");
        qlp_sdk::log::warn(
            "webhook attempt failed",
            &[
                ("attempt", &attempt.to_string()),
                ("status", &status.to_string()),
            ],
        );
        if attempt == MAX_ATTEMPTS {
            break;
        }
        if let Some(seconds) = retry_after(&response)
            && seconds > 0
        {
            if seconds > MAX_RETRY_AFTER {
                return Err(unreachable(
                    attempt,
                    &format!(
                        "{last_failure}; it asks to retry after {seconds} s, more than the {MAX_RETRY_AFTER} s waited within one delivery"
                    ),
                ));
            }
            if !wait(Duration::from_secs(seconds)) {
                return Err(unreachable(
                    attempt,
                    &format!(
                        "{last_failure}; it asks to retry after {seconds} s, and a plugin cannot wait"
                    ),
                ));
            }
        }
    }
    Err(unreachable(MAX_ATTEMPTS, &last_failure))
}

/// `Retry-After` in seconds, when given as a number (an HTTP date is
/// ignored: without a clock it cannot be compared).
fn retry_after(response: &Response) -> Option<u64> {
    delivery_kit::header(response, "retry-after").and_then(|v| v.trim().parse().ok())
}

/// `: "<start of the body>"` when the receiver said something.
fn quote(response: &Response) -> String {
    let text = String::from_utf8_lossy(&response.body);
    let text: String = text
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_QUOTED_BYTES)
        .collect();
    if text.trim().is_empty() {
        String::new()
    } else {
        format!(": {:?}", text.trim())
    }
}

fn unreachable(attempts: u32, last: &str) -> PluginError {
    PluginError::new(
        "UNREACHABLE",
        format!("the receiver was not reached after {attempts} tries: {last}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(destination: &str, options: &[(&str, &str)]) -> DeliveryTarget {
        DeliveryTarget {
            destination: destination.into(),
            options: options
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    fn artifact() -> Artifact {
        Artifact {
            media_type: "application/zip".into(),
            file_name: "a.zip".into(),
            bytes: vec![1, 2, 3],
        }
    }

    const HOST: [(&str, &str); 2] = [("qlp.delivery-key", "i/a.zip"), ("qlp.created-at", "17")];

    fn code<T: std::fmt::Debug>(result: Result<T, PluginError>) -> String {
        result.err().map(|e| e.code).unwrap_or_default()
    }

    #[test]
    fn the_signature_is_the_event_webhooks_one() {
        // The vector of host/server/src/webhooks.rs's own test, its HMAC computed
        // independently (Python's hmac module).
        assert_eq!(
            sign(
                "secret-secret-secret",
                1_700_000_000,
                b"{\"event\":\"intent.completed\"}"
            ),
            "v1=1a45316d32f1bf0890b95a2b3b6f35b4803053690b5940978484ab08334f7ef7"
        );
    }

    #[test]
    fn destinations_must_be_http_urls() {
        for bad in [
            "",
            "ftp://x",
            "http://",
            "https:///x",
            "http://a b",
            "http://a\n",
            "x",
        ] {
            assert_eq!(
                code(plan(&artifact(), &target(bad, &HOST))),
                "INVALID_DESTINATION",
                "{bad:?}"
            );
        }
        let long = format!("http://a/{}", "x".repeat(MAX_URL_BYTES));
        assert_eq!(url_problem(&long), Some("is too long"));
        for good in [
            "http://127.0.0.1:8080/hook",
            "https://hooks.example.com/qlp?x=1",
        ] {
            assert_eq!(url_problem(good), None, "{good:?}");
        }
    }

    #[test]
    fn options_and_host_options_are_checked() {
        let url = "http://h/x";
        let plan_of = |options: &[(&str, &str)]| {
            let mut all = HOST.to_vec();
            all.extend_from_slice(options);
            plan(&artifact(), &target(url, &all))
        };
        assert_eq!(plan_of(&[]).expect("a plan").mode, Mode::Body);
        assert_eq!(
            plan_of(&[("mode", "link"), ("download-url", "https://d/a.zip")])
                .expect("a plan")
                .mode,
            Mode::Link {
                download_url: "https://d/a.zip".into()
            }
        );
        assert_eq!(code(plan_of(&[("mode", "link")])), "INVALID_OPTION");
        assert_eq!(
            code(plan_of(&[("mode", "link"), ("download-url", "file:///a")])),
            "INVALID_OPTION"
        );
        assert_eq!(code(plan_of(&[("mode", "inline")])), "INVALID_OPTION");
        assert_eq!(
            code(plan_of(&[("qlp.artifact-blake3", "00")])),
            "DIGEST_MISMATCH"
        );
        let digest = blake3::hash(&[1, 2, 3]).to_hex().to_string();
        assert!(plan_of(&[("qlp.artifact-blake3", &digest)]).is_ok());
        assert_eq!(
            code(plan(&artifact(), &target(url, &[("qlp.created-at", "1")]))),
            "INVALID_OPTION"
        );
        assert_eq!(
            code(plan(
                &artifact(),
                &target(url, &[("qlp.delivery-key", "k"), ("qlp.created-at", "x")])
            )),
            "INVALID_OPTION"
        );
    }

    #[test]
    fn header_values_stay_ascii() {
        assert_eq!(header_value("i/façade.zip"), "i/fa%C3%A7ade.zip");
        assert_eq!(header_value("a\r\nX: y%"), "a%0D%0AX: y%25");
    }

    #[test]
    fn describe_asks_for_http_and_the_secret() {
        let info = Webhook::describe();
        assert_eq!(info.name, "qlp/webhook");
        assert!(matches!(info.kind, PluginKind::Delivery));
        assert!(
            info.capabilities
                .iter()
                .any(|c| matches!(c, Capability::Secret(k) if k == SECRET_KEY))
        );
        assert!(
            info.capabilities
                .iter()
                .any(|c| matches!(c, Capability::Http(_)))
        );
    }
}
