//! Git's smart HTTP protocol, push side (protocol v0 `receive-pack`), over
//! a [`Transport`]: the host's `http` interface in production
//! ([`HostHttp`]), anything in tests.
//!
//! `GET <url>/info/refs?service=git-receive-pack` gives the ref
//! advertisement; `POST <url>/git-receive-pack` sends the ref update
//! commands and the pack and answers with `report-status`. HTTP answers
//! become this crate's error codes here ([`status_error`]), and every
//! message leaving this module has the credentials cut out
//! ([`Remote::redact`]).

use base64::Engine as _;
use qlp_sdk::PluginError;
use qlp_sdk::delivery_kit::header;
use qlp_sdk::http::{Request, Response};

use crate::object::ObjectId;
use crate::pktline::{self, Advertisement, Report};

/// How requests reach the remote.
pub trait Transport {
    fn send(&mut self, request: &Request) -> Result<Response, String>;
}

/// The host's `http` interface (`qlp_sdk::http::fetch`).
pub struct HostHttp;

impl Transport for HostHttp {
    fn send(&mut self, request: &Request) -> Result<Response, String> {
        qlp_sdk::http::fetch(request).map_err(|e| e.to_string())
    }
}

/// Longest piece of a server's error text quoted in a message.
pub const MAX_QUOTED_BYTES: usize = 300;

/// Sent as `User-Agent`, so the remote's logs say who pushed.
pub const USER_AGENT: &str = concat!("qlp-git/", env!("CARGO_PKG_VERSION"));

/// How the host's `http` interface starts the message of a request to a
/// host the operator did not grant: retrying cannot help.
pub const NOT_GRANTED: &str = "capability not granted";

/// Whether an error is the host refusing the remote outright.
pub fn is_not_granted(error: &PluginError) -> bool {
    error.message.contains(NOT_GRANTED)
}

/// One ref update: `<old> <new> <ref>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub old: ObjectId,
    pub new: ObjectId,
    pub name: String,
}

/// A repository at a smart-HTTP URL, with optional HTTP Basic credentials.
pub struct Remote<'t, T: Transport> {
    transport: &'t mut T,
    url: String,
    /// The `Authorization` header's value, if a token was configured.
    authorization: Option<String>,
    /// Strings that must never appear in a message: the token and the
    /// encoded credentials.
    secrets: Vec<String>,
}

impl<'t, T: Transport> Remote<'t, T> {
    /// `url` without a trailing `/`; credentials only with a token.
    pub fn new(transport: &'t mut T, url: &str, username: &str, token: Option<&str>) -> Self {
        let mut secrets = Vec::new();
        let authorization = token.map(|token| {
            let encoded =
                base64::engine::general_purpose::STANDARD.encode(format!("{username}:{token}"));
            secrets.push(token.to_string());
            secrets.push(encoded.clone());
            format!("Basic {encoded}")
        });
        Remote {
            transport,
            url: url.trim_end_matches('/').to_string(),
            authorization,
            secrets,
        }
    }

    /// Removes every secret from `text`.
    pub fn redact(&self, text: &str) -> String {
        qlp_sdk::delivery_kit::redact(text, &self.secrets, "[redacted]")
    }

    fn error(&self, code: &str, message: String) -> PluginError {
        PluginError::new(code, self.redact(&message))
    }

    fn send(
        &mut self,
        method: &str,
        url: String,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<Response, PluginError> {
        let mut all: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        all.push(("User-Agent".into(), USER_AGENT.into()));
        if let Some(value) = &self.authorization {
            all.push(("Authorization".into(), value.clone()));
        }
        let request = Request {
            method: method.into(),
            url: url.clone(),
            headers: all,
            body,
        };
        let response = self.transport.send(&request).map_err(|e| {
            let hint = if e.starts_with(NOT_GRANTED) {
                "; the operator grants this plugin the remote's host:port with `http = [\"host:port\"]` in the tiers file"
            } else {
                ""
            };
            self.error("UNREACHABLE", format!("{method} {url} failed: {e}{hint}"))
        })?;
        if !(200..300).contains(&response.status) {
            let (code, message) = status_error(
                response.status,
                &self.url,
                self.authorization.is_some(),
                &response.body,
            );
            return Err(self.error(code, message));
        }
        Ok(response)
    }

    /// The remote's refs and capabilities.
    pub fn advertisement(&mut self) -> Result<Advertisement, PluginError> {
        let url = format!("{}/info/refs?service=git-receive-pack", self.url);
        let response = self.send("GET", url, &[("Accept", "*/*")], Vec::new())?;
        let content_type = header(&response, "content-type")
            .unwrap_or_default()
            .to_ascii_lowercase();
        if !content_type.starts_with("application/x-git-receive-pack-advertisement") {
            return Err(self.error(
                "PROTOCOL_ERROR",
                format!(
                    "{} is not a smart-HTTP git repository accepting pushes (content type {content_type:?})",
                    self.url
                ),
            ));
        }
        pktline::parse_advertisement(&response.body).map_err(|e| {
            self.error(
                "PROTOCOL_ERROR",
                format!("the ref advertisement of {} is malformed: {e}", self.url),
            )
        })
    }

    /// Sends the commands (the first carrying `capabilities`) and the pack
    /// (none for deletions only); returns the server's report.
    pub fn push(
        &mut self,
        commands: &[Command],
        capabilities: &[&str],
        pack: Option<&[u8]>,
    ) -> Result<Report, PluginError> {
        let body = request_body(commands, capabilities, pack);
        let url = format!("{}/git-receive-pack", self.url);
        let response = self.send(
            "POST",
            url,
            &[
                ("Content-Type", "application/x-git-receive-pack-request"),
                ("Accept", "application/x-git-receive-pack-result"),
            ],
            body,
        )?;
        pktline::parse_report(&response.body).map_err(|e| {
            self.error(
                "PROTOCOL_ERROR",
                format!("the push status from {} is malformed: {e}", self.url),
            )
        })
    }
}

/// The body of a `git-receive-pack` request: one pkt-line per command, the
/// first with `\0<capabilities>`, a flush, then the pack.
pub fn request_body(commands: &[Command], capabilities: &[&str], pack: Option<&[u8]>) -> Vec<u8> {
    let mut body = Vec::new();
    for (i, command) in commands.iter().enumerate() {
        let mut line = format!("{} {} {}", command.old, command.new, command.name).into_bytes();
        if i == 0 {
            line.push(0);
            line.extend_from_slice(capabilities.join(" ").as_bytes());
        }
        line.push(b'\n');
        pktline::write_line(&mut body, &line);
    }
    pktline::write_flush(&mut body);
    if let Some(pack) = pack {
        body.extend_from_slice(pack);
    }
    body
}

/// The error code and message for an HTTP status outside 2xx.
pub fn status_error(
    status: u16,
    url: &str,
    with_token: bool,
    body: &[u8],
) -> (&'static str, String) {
    let said = quote(body);
    match status {
        401 | 403 if with_token => (
            "AUTH_FAILED",
            format!("{url} refused the configured credentials (HTTP {status}){said}"),
        ),
        401 | 403 => (
            "AUTH_FAILED",
            format!(
                "{url} needs credentials (HTTP {status}); configure `token` (and `username`){said}"
            ),
        ),
        404 => (
            "TARGET_NOT_FOUND",
            format!("no git repository at {url} (HTTP 404)"),
        ),
        500..=599 => (
            "UNREACHABLE",
            format!("{url} failed with HTTP {status}{said}"),
        ),
        _ => (
            "PROTOCOL_ERROR",
            format!("{url} answered HTTP {status}{said}"),
        ),
    }
}

/// `: <text>` for the start of a server's printable answer, or nothing.
fn quote(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(MAX_QUOTED_BYTES)]);
    let text: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let text = text.trim();
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_carries_capabilities_on_the_first_command_only() {
        let a = ObjectId([1; 20]);
        let b = ObjectId([2; 20]);
        let body = request_body(
            &[
                Command {
                    old: ObjectId::ZERO,
                    new: a,
                    name: "refs/heads/main".into(),
                },
                Command {
                    old: b,
                    new: a,
                    name: "refs/qlp/x".into(),
                },
            ],
            &["report-status", "atomic"],
            Some(b"PACK"),
        );
        let lines = pktline::read_lines(&body[..body.len() - 4]).unwrap();
        assert_eq!(
            lines[0],
            pktline::Pkt::Data(
                format!(
                    "{} {a} refs/heads/main\0report-status atomic\n",
                    ObjectId::ZERO
                )
                .as_bytes()
            )
        );
        assert_eq!(
            lines[1],
            pktline::Pkt::Data(format!("{b} {a} refs/qlp/x\n").as_bytes())
        );
        assert_eq!(lines[2], pktline::Pkt::Flush);
        assert!(body.ends_with(b"0000PACK"));
    }

    #[test]
    fn statuses_map_to_the_documented_codes() {
        let code = |status| status_error(status, "http://h/r.git", true, b"").0;
        assert_eq!(code(401), "AUTH_FAILED");
        assert_eq!(code(403), "AUTH_FAILED");
        assert_eq!(code(404), "TARGET_NOT_FOUND");
        assert_eq!(code(500), "UNREACHABLE");
        assert_eq!(code(503), "UNREACHABLE");
        assert_eq!(code(302), "PROTOCOL_ERROR");
        let (_, message) = status_error(500, "u", false, b"boom\n\x1b[31m");
        assert_eq!(message, "u failed with HTTP 500: boom  [31m");
    }

    struct Echo;

    impl Transport for Echo {
        fn send(&mut self, request: &Request) -> Result<Response, String> {
            // A server that quotes the credentials back.
            let auth = request
                .headers
                .iter()
                .find(|(k, _)| k == "Authorization")
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            Err(format!("connection reset after {auth} and s3cret"))
        }
    }

    #[test]
    fn credentials_never_reach_a_message() {
        let mut echo = Echo;
        let mut remote = Remote::new(&mut echo, "http://h/r.git/", "qlp", Some("s3cret"));
        let error = remote.advertisement().unwrap_err();
        assert_eq!(error.code, "UNREACHABLE");
        assert!(!error.message.contains("s3cret"), "{}", error.message);
        let encoded = base64::engine::general_purpose::STANDARD.encode("qlp:s3cret");
        assert!(!error.message.contains(&encoded), "{}", error.message);
        assert!(error.message.contains("[redacted]"));
        assert!(error.message.contains("http://h/r.git/info/refs"));
    }
}
