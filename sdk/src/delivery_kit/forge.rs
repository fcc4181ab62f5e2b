//! What `qlp/github` and `qlp/gitlab` share: both commit the capsule to a
//! branch through a forge's REST API and open a pull (merge) request, with
//! the same options, the same trailers and the same error mapping; only
//! the endpoints differ.
//!
//! [`Plan`] validates the options (`branch`, `base`, `title`,
//! `create-repository`) and the host's; the adapter parses its own
//! destination. The commit message ends with the trailers
//! `QLP-Delivery-Key` and `QLP-Artifact-Blake3` ([`commit_message`]), by
//! which a resumed delivery recognises its own commit ([`carries`]).
//! [`Api`] sends at most [`MAX_REQUESTS`] requests of at most
//! [`MAX_BODY_BYTES`], tries a GET [`MAX_TRIES`] times on transport errors
//! and 5xx, and maps answers: 401/403 → `AUTH_FAILED`, 404 →
//! `TARGET_NOT_FOUND`, 409/422 → `CONFLICT`, 5xx and transport failures →
//! `UNREACHABLE`, anything else → `REJECTED` ([`status_code`]). The token
//! never appears in an error.

use serde_json::Value;

use super::{Options, flag, invalid_option};
use crate::http::{Request, Response};
use crate::{Artifact, DeliveryTarget, PluginError};

/// Configuration key of the API token.
pub const TOKEN_KEY: &str = "token";

/// Requests one call may send: the host's cap per plugin call.
pub const MAX_REQUESTS: usize = 64;

/// Largest request body: the host's cap per request, less room for JSON.
pub const MAX_BODY_BYTES: usize = (16 << 20) - (64 << 10);

/// Tries of a GET on transport errors and 5xx (writes are not retried:
/// they are not idempotent).
pub const MAX_TRIES: u32 = 3;

/// Longest branch name accepted, in bytes.
pub const MAX_BRANCH_BYTES: usize = 200;

/// Most characters of an API answer quoted in an error.
const MAX_QUOTED_CHARS: usize = 300;

/// The options a forge adapter reads.
pub const OPTIONS: [&str; 4] = ["branch", "base", "title", "create-repository"];

/// The operator's configuration.
pub struct Settings {
    /// Without a trailing `/`.
    pub api_url: String,
    pub token: String,
}

impl Settings {
    /// From the host: the secret [`TOKEN_KEY`] (`MISSING_SECRET`,
    /// whose message says it is `token_is`) and the configuration `api-url`.
    pub fn from_host(default_api_url: &str, token_is: &str) -> Result<Self, PluginError> {
        let token = super::secret(TOKEN_KEY, &format!(" ({token_is})"))?;
        let api_url = crate::config("api-url").unwrap_or_else(|| default_api_url.into());
        Ok(Self::new(&api_url, &token))
    }

    pub fn new(api_url: &str, token: &str) -> Self {
        Self {
            api_url: api_url.trim_end_matches('/').into(),
            token: token.into(),
        }
    }
}

/// A validated delivery to the repository or project `target`.
#[derive(Debug, PartialEq, Eq)]
pub struct Plan<D> {
    pub target: D,
    pub branch: String,
    pub base: Option<String>,
    pub title: String,
    pub create_repository: bool,
    pub delivery_key: String,
    pub blake3: String,
}

impl<D> Plan<D> {
    /// Validates the target: its destination with `destination` (which
    /// gives `INVALID_DESTINATION`), then the options and the host's.
    pub fn new(
        artifact: &Artifact,
        target: &DeliveryTarget,
        destination: impl FnOnce(&str) -> Result<D, PluginError>,
    ) -> Result<Self, PluginError> {
        let parsed = destination(&target.destination)?;
        let options = Options::new(target, &OPTIONS);
        let delivery_key = options.delivery_key()?.to_string();
        let blake3 = options.artifact_blake3(artifact)?;
        let branch = match options.get("branch") {
            Some(branch) => checked_branch("branch", branch)?,
            None => default_branch(&delivery_key),
        };
        let base = options
            .get("base")
            .map(|b| checked_branch("base", b))
            .transpose()?;
        let title = match options.get("title") {
            Some(title) if !title.trim().is_empty() && !title.contains(['\r', '\n']) => {
                title.trim().to_string()
            }
            Some(_) => return Err(invalid_option("option `title` must be one non-empty line")),
            None => format!("QLP: {}", artifact.file_name),
        };
        let create_repository = flag(
            "option `create-repository`",
            options.get("create-repository"),
            false,
        )?;
        Ok(Plan {
            target: parsed,
            branch,
            base,
            title,
            create_repository,
            delivery_key,
            blake3,
        })
    }

    /// The body of the pull or merge request: who delivered and the
    /// trailers.
    pub fn description(&self) -> String {
        format!(
            "Delivered by QLP.\n\nQLP-Delivery-Key: {}\nQLP-Artifact-Blake3: {}\n",
            self.delivery_key, self.blake3
        )
    }
}

/// The commit message: the title and the trailers that identify the
/// delivery.
pub fn commit_message<D>(plan: &Plan<D>) -> String {
    format!("{}\n\n{}", plan.title, plan.description())
}

/// Whether a commit message carries this delivery's key, and its digest.
pub fn carries<D>(message: &str, plan: &Plan<D>) -> (bool, bool) {
    let has = |line: String| message.lines().any(|l| l.trim_end() == line);
    (
        has(format!("QLP-Delivery-Key: {}", plan.delivery_key)),
        has(format!("QLP-Artifact-Blake3: {}", plan.blake3)),
    )
}

/// `qlp/` and the first 12 hex digits of the delivery key's blake3.
pub fn default_branch(delivery_key: &str) -> String {
    format!(
        "qlp/{}",
        &blake3::hash(delivery_key.as_bytes()).to_hex()[..12]
    )
}

/// Whether `name` is a usable owner, group or repository name: 1 to
/// `max_bytes` of `[A-Za-z0-9._-]`, not `.` or `..`.
pub fn name_ok(name: &str, max_bytes: usize) -> bool {
    !name.is_empty()
        && name.len() <= max_bytes
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// A branch name git and URLs both take as is: `[A-Za-z0-9._/-]`, no
/// empty, `.`-led or `.lock` components, no `..`; `INVALID_OPTION` naming
/// `option` otherwise.
pub fn checked_branch(option: &str, branch: &str) -> Result<String, PluginError> {
    let ok = !branch.is_empty()
        && branch.len() <= MAX_BRANCH_BYTES
        && !branch.contains("..")
        && branch
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '-'))
        && branch
            .split('/')
            .all(|c| !c.is_empty() && !c.starts_with('.') && !c.ends_with(".lock"));
    if ok {
        Ok(branch.into())
    } else {
        Err(invalid_option(format!(
            "option `{option}` {branch:?} is not a plain branch name"
        )))
    }
}

/// The error code of an API answer outside 2xx.
pub fn status_code(status: u16) -> &'static str {
    match status {
        401 | 403 => "AUTH_FAILED",
        404 => "TARGET_NOT_FOUND",
        409 | 422 => "CONFLICT",
        500..=599 => "UNREACHABLE",
        _ => "REJECTED",
    }
}

/// What an API error answer says, printable and cut to 300 characters: its
/// `message` (text, or a list or object as JSON) or else its `error`.
pub fn said(body: &Value) -> String {
    let said = match (&body["message"], &body["error"]) {
        (Value::String(text), _) | (_, Value::String(text)) => text.clone(),
        (Value::Null, _) => String::new(),
        (other, _) => other.to_string(),
    };
    said.chars()
        .filter(|c| !c.is_control())
        .take(MAX_QUOTED_CHARS)
        .collect()
}

/// How one forge's API is called: its name in messages, the header that
/// carries the token (and the scheme before it), and the headers sent
/// besides `User-Agent` and `Content-Type`.
pub struct Forge {
    pub name: &'static str,
    pub token_header: &'static str,
    pub token_scheme: &'static str,
    pub headers: &'static [(&'static str, &'static str)],
}

/// A forge's REST API as the adapters use it: JSON in, JSON out, requests
/// counted against [`MAX_REQUESTS`].
pub struct Api<'s> {
    settings: &'s Settings,
    forge: &'s Forge,
    sent: usize,
}

impl<'s> Api<'s> {
    pub fn new(settings: &'s Settings, forge: &'s Forge) -> Self {
        Self {
            settings,
            forge,
            sent: 0,
        }
    }

    /// A GET: `None` on 404, the JSON on 2xx.
    pub fn get(&mut self, path: &str, what: &str) -> Result<Option<Value>, PluginError> {
        Ok(self.get_response(path, what)?.map(|(body, _)| body))
    }

    /// A GET: `None` on 404, the JSON and the response (its headers) on
    /// 2xx; tried [`MAX_TRIES`] times on transport errors and 5xx.
    pub fn get_response(
        &mut self,
        path: &str,
        what: &str,
    ) -> Result<Option<(Value, Response)>, PluginError> {
        let mut last = String::new();
        for _ in 0..MAX_TRIES {
            match self.fetch("GET", path, Vec::new()) {
                Err(error) => last = error,
                Ok((_, r)) if r.status >= 500 => last = format!("status {}", r.status),
                Ok((_, r)) if r.status == 404 => return Ok(None),
                Ok((body, r)) if (200..300).contains(&r.status) => return Ok(Some((body, r))),
                Ok((body, r)) => return Err(self.status_error(r.status, &body, what)),
            }
        }
        Err(self.unreachable(what, &last))
    }

    /// A write with a JSON body: the JSON answer on 2xx.
    pub fn send(
        &mut self,
        method: &str,
        path: &str,
        body: &Value,
        what: &str,
    ) -> Result<Value, PluginError> {
        match self.fetch(method, path, body.to_string().into_bytes()) {
            Err(error) => Err(self.unreachable(what, &error)),
            Ok((body, r)) if (200..300).contains(&r.status) => Ok(body),
            Ok((body, r)) => Err(self.status_error(r.status, &body, what)),
        }
    }

    /// The first item the GET `list` answers, else the one the POST to
    /// `open` of `body` creates; when that POST is a `CONFLICT` (opened
    /// meanwhile, by someone else or by this delivery before a crash), the
    /// first item `list` answers then. A pull or merge request is reused
    /// so, whatever its state, and never opened twice.
    pub fn reuse_or_open(
        &mut self,
        list: &str,
        open: &str,
        body: &Value,
        (listing, opening): (&str, &str),
    ) -> Result<Value, PluginError> {
        let first = |items: Option<Value>| {
            items
                .as_ref()
                .and_then(|items| items.as_array())
                .and_then(|items| items.first())
                .cloned()
        };
        if let Some(existing) = first(self.get(list, listing)?) {
            return Ok(existing);
        }
        match self.send("POST", open, body, opening) {
            Ok(opened) => Ok(opened),
            Err(error) if error.code == "CONFLICT" => first(self.get(list, listing)?).ok_or(error),
            Err(error) => Err(error),
        }
    }

    fn fetch(
        &mut self,
        method: &str,
        path: &str,
        body: Vec<u8>,
    ) -> Result<(Value, Response), String> {
        if self.sent >= MAX_REQUESTS {
            return Err(format!("more than {MAX_REQUESTS} requests would be needed"));
        }
        if body.len() > MAX_BODY_BYTES {
            return Err(format!(
                "a request of {} bytes is over the host's limit",
                body.len()
            ));
        }
        self.sent += 1;
        let mut headers = vec![(
            self.forge.token_header.to_string(),
            format!("{}{}", self.forge.token_scheme, self.settings.token),
        )];
        headers.extend(
            self.forge
                .headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        headers.push(("User-Agent".into(), "qlp".into()));
        headers.push(("Content-Type".into(), "application/json".into()));
        let request = Request {
            method: method.into(),
            url: format!("{}{path}", self.settings.api_url),
            headers,
            body,
        };
        let response = crate::http::fetch(&request).map_err(|e| self.redact(e.message()))?;
        let body = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
        Ok((body, response))
    }

    fn status_error(&self, status: u16, body: &Value, what: &str) -> PluginError {
        let message = format!(
            "{what}: {} answered {status} {:?}",
            self.forge.name,
            said(body)
        );
        PluginError::new(status_code(status), self.redact(&message))
    }

    fn unreachable(&self, what: &str, last: &str) -> PluginError {
        let message = format!("{what}: {} was not reached: {last}", self.forge.name);
        PluginError::new("UNREACHABLE", self.redact(&message))
    }

    fn redact(&self, text: &str) -> String {
        super::redact(text, &[&self.settings.token], "[token]")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn target(options: &[(&str, &str)]) -> DeliveryTarget {
        let mut all = vec![("qlp.delivery-key".to_string(), "i/a.zip".to_string())];
        all.extend(options.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        DeliveryTarget {
            destination: "o/r".into(),
            options: all,
        }
    }

    fn artifact() -> Artifact {
        Artifact {
            media_type: "application/zip".into(),
            file_name: "a.zip".into(),
            bytes: vec![1],
        }
    }

    fn plan(options: &[(&str, &str)]) -> Result<Plan<String>, PluginError> {
        Plan::new(&artifact(), &target(options), |d| Ok(d.to_string()))
    }

    #[test]
    fn the_destination_is_parsed_first() {
        let refused = Plan::<()>::new(&artifact(), &target(&[("branch", "a..b")]), |_| {
            Err(PluginError::new("INVALID_DESTINATION", "no"))
        });
        assert_eq!(
            refused.err().map(|e| e.code).as_deref(),
            Some("INVALID_DESTINATION")
        );
        let plan = plan(&[]).expect("a plan");
        assert_eq!(plan.target, "o/r");
        assert_eq!(plan.branch, default_branch("i/a.zip"));
        assert_eq!(plan.title, "QLP: a.zip");
        assert_eq!((plan.base, plan.create_repository), (None, false));
    }

    #[test]
    fn the_trailers_identify_the_delivery() {
        let plan = plan(&[("title", " Invoices ")]).expect("a plan");
        let message = commit_message(&plan);
        assert!(
            message.starts_with("Invoices\n\nDelivered by QLP.\n\n"),
            "{message}"
        );
        assert!(message.ends_with(&plan.description()));
        assert_eq!(carries(&message, &plan), (true, true));
        assert_eq!(
            carries("x\n\nQLP-Delivery-Key: i/a.zip\n", &plan),
            (true, false)
        );
    }

    #[test]
    fn answers_map_to_codes_and_quotes() {
        for (status, code) in [
            (401, "AUTH_FAILED"),
            (403, "AUTH_FAILED"),
            (404, "TARGET_NOT_FOUND"),
            (409, "CONFLICT"),
            (422, "CONFLICT"),
            (502, "UNREACHABLE"),
            (400, "REJECTED"),
            (410, "REJECTED"),
        ] {
            assert_eq!(status_code(status), code, "{status}");
        }
        assert_eq!(said(&json!({ "message": "no\nway" })), "noway");
        assert_eq!(said(&json!({ "error": "bad" })), "bad");
        assert_eq!(said(&json!({ "message": ["a"] })), "[\"a\"]");
        assert_eq!(said(&Value::Null), "");
        assert_eq!(said(&json!({ "message": "x".repeat(400) })).len(), 300);
    }
}
