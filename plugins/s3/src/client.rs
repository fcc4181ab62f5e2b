//! The S3 requests `qlp/s3` sends, signed with [`crate::sigv4`], and the
//! mapping of S3's answers to QLP's delivery error codes. The requests go
//! through a [`Transport`]: the host's `http` interface in a plugin, a real
//! server on loopback or a scripted one in tests.

use qlp_sdk::PluginError;
use qlp_sdk::http::{Request, Response};

use crate::settings::{Addressing, Plan, Settings};
use crate::sigv4::{self, Unsigned};

/// Requests one delivery may send, retries included: the host's cap on one
/// plugin call. [`crate::MAX_PARTS`] leaves room in it for the checks,
/// clean-ups and retries around the parts.
pub const MAX_REQUESTS: u32 = 64;

/// Tries of one request that met a transport failure or a 5xx: enough to
/// ride out a restart or a `SlowDown`, few enough to fail fast.
pub const MAX_ATTEMPTS: u32 = 3;

/// Pause before the first retry, doubled before the next, where the build
/// can wait ([`wait`]).
pub const RETRY_DELAY: std::time::Duration = std::time::Duration::from_millis(200);

/// Longest S3 error message quoted in a QLP error.
const MAX_QUOTED_BYTES: usize = 300;

/// Where requests go.
pub trait Transport {
    fn fetch(&mut self, request: &Request) -> Result<Response, String>;

    /// Pauses before a retry; scripted servers in tests need not.
    fn wait(&mut self, _delay: std::time::Duration) {}
}

/// The host's `http` interface, with its allow-list.
pub struct HostHttp;

impl Transport for HostHttp {
    fn fetch(&mut self, request: &Request) -> Result<Response, String> {
        qlp_sdk::http::fetch(request).map_err(|e| e.to_string())
    }

    fn wait(&mut self, delay: std::time::Duration) {
        wait(delay)
    }
}

/// Waits `delay` where the build can: natively it sleeps; a WebAssembly
/// plugin has no clock to wait on, so there a retry follows at once.
pub fn wait(delay: std::time::Duration) {
    #[cfg(target_arch = "wasm32")]
    let _ = delay;
    #[cfg(not(target_arch = "wasm32"))]
    std::thread::sleep(delay);
}

/// One request before signing.
pub struct Call {
    pub method: &'static str,
    /// The object key, or `None` for the bucket itself.
    pub key: Option<String>,
    pub query: Vec<(String, String)>,
    /// Headers beyond `host`, `x-amz-date` and `x-amz-content-sha256`.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Call {
    pub fn new(method: &'static str, key: Option<&str>) -> Self {
        Self {
            method,
            key: key.map(str::to_owned),
            query: vec![],
            headers: vec![],
            body: vec![],
        }
    }

    pub fn query(mut self, name: &str, value: &str) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn body(mut self, body: Vec<u8>) -> Self {
        self.body = body;
        self
    }
}

/// A signing client for one bucket, for the length of one delivery.
pub struct Client<'a, T: Transport> {
    transport: &'a mut T,
    settings: &'a Settings,
    bucket: &'a str,
    addressing: Addressing,
    amz_date: String,
    sent: u32,
}

impl<'a, T: Transport> Client<'a, T> {
    /// A client whose signatures use the server's own time, read from the
    /// `Date` of one unsigned `HEAD` of the bucket (a WebAssembly plugin
    /// has no clock, and S3 refuses a signature more than 15 minutes off
    /// its own time). Whatever that request's status, only its date is
    /// used; a server sending none is signed for at the intent's creation
    /// time (`qlp.created-at`), when the host gave it.
    pub fn connect(
        transport: &'a mut T,
        settings: &'a Settings,
        plan: &'a Plan,
    ) -> Result<Self, PluginError> {
        let (authority, path) = location(settings, plan.addressing, &plan.bucket, None);
        let probe = Request {
            method: "HEAD".into(),
            url: format!("{}://{authority}{path}", settings.endpoint.scheme),
            headers: vec![],
            body: vec![],
        };
        let mut sent = 0;
        let response = loop {
            sent += 1;
            match transport.fetch(&probe) {
                Ok(response) => break response,
                Err(e) if sent >= MAX_ATTEMPTS => {
                    return Err(unreachable(settings, &e, sent));
                }
                Err(_) => transport.wait(RETRY_DELAY * 2u32.pow(sent - 1)),
            }
        };
        let amz_date = header(&response, "date")
            .and_then(sigv4::amz_date_from_http_date)
            .or_else(|| plan.created_at.clone())
            .ok_or_else(|| {
                PluginError::new(
                    "REJECTED",
                    format!(
                        "{} sent no valid `Date` header and the host no `qlp.created-at`: no time to sign with",
                        settings.endpoint.url()
                    ),
                )
            })?;
        Ok(Self {
            transport,
            settings,
            bucket: &plan.bucket,
            addressing: plan.addressing,
            amz_date,
            sent,
        })
    }

    /// Requests sent so far, the time probe included.
    pub fn sent(&self) -> u32 {
        self.sent
    }

    /// Signs and sends `call`, up to [`MAX_ATTEMPTS`] times while the
    /// connection fails or the server answers 5xx. A transport failure on
    /// the last try is `UNREACHABLE`; otherwise the last response is
    /// returned whatever its status.
    pub fn send(&mut self, call: Call) -> Result<Response, PluginError> {
        let request = self.sign(call);
        let mut attempt = 0;
        loop {
            if self.sent >= MAX_REQUESTS {
                return Err(PluginError::new(
                    "REJECTED",
                    format!("a delivery may send at most {MAX_REQUESTS} requests"),
                ));
            }
            self.sent += 1;
            attempt += 1;
            let outcome = self.transport.fetch(&request);
            let retry = match &outcome {
                Ok(response) => response.status >= 500,
                Err(_) => true,
            };
            if !retry || attempt >= MAX_ATTEMPTS {
                return outcome.map_err(|e| unreachable(self.settings, &e, attempt));
            }
            qlp_sdk::log::warn(
                "S3 request failed, retrying",
                &[
                    ("method", request.method.as_str()),
                    ("attempt", &attempt.to_string()),
                ],
            );
            self.transport.wait(RETRY_DELAY * 2u32.pow(attempt - 1));
        }
    }

    /// The request `call` stands for, signed.
    fn sign(&self, call: Call) -> Request {
        let (authority, path) = location(
            self.settings,
            self.addressing,
            self.bucket,
            call.key.as_deref(),
        );
        let payload_sha256 = sigv4::sha256_hex(&call.body);
        let mut headers = call.headers;
        headers.push(("host".into(), authority.clone()));
        headers.push(("x-amz-date".into(), self.amz_date.clone()));
        headers.push(("x-amz-content-sha256".into(), payload_sha256.clone()));
        if let Some(token) = &self.settings.credentials.session_token {
            headers.push(("x-amz-security-token".into(), token.clone()));
        }
        let authorization = sigv4::authorization(
            &Unsigned {
                method: call.method,
                path: &path,
                query: &call.query,
                headers: &headers,
                payload_sha256: &payload_sha256,
            },
            &self.settings.credentials,
            &self.settings.region,
            sigv4::SERVICE,
            &self.amz_date,
        );
        // The host writes `Host` itself, from the URL: the same text.
        headers.retain(|(name, _)| name != "host");
        headers.push(("authorization".into(), authorization));
        let query = sigv4::canonical_query(&call.query);
        let url = format!(
            "{}://{authority}{path}{}{query}",
            self.settings.endpoint.scheme,
            if query.is_empty() { "" } else { "?" }
        );
        Request {
            method: call.method.into(),
            url,
            headers,
            body: call.body,
        }
    }
}

/// The authority and path of the bucket or one of its objects.
fn location(
    settings: &Settings,
    addressing: Addressing,
    bucket: &str,
    key: Option<&str>,
) -> (String, String) {
    let key = key.map(|k| sigv4::uri_encode(k, false)).unwrap_or_default();
    match addressing {
        Addressing::Path => {
            let path = if key.is_empty() {
                format!("/{bucket}")
            } else {
                format!("/{bucket}/{key}")
            };
            (settings.endpoint.authority(None), path)
        }
        Addressing::Virtual => (settings.endpoint.authority(Some(bucket)), format!("/{key}")),
    }
}

/// A response header's value, by name in any case.
pub fn header<'r>(response: &'r Response, name: &str) -> Option<&'r str> {
    response
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Whether the status is 2xx.
pub fn success(response: &Response) -> bool {
    (200..300).contains(&response.status)
}

/// The text of the first `<tag>…</tag>` in an XML body, entities decoded.
pub fn xml_text(xml: &str, tag: &str) -> Option<String> {
    xml_blocks(xml, tag).into_iter().next().map(unescape)
}

/// The inner text of every `<tag>…</tag>`, in order, not decoded.
pub fn xml_blocks<'x>(xml: &'x str, tag: &str) -> Vec<&'x str> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let mut blocks = vec![];
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        let Some(end) = after.find(&close) else { break };
        blocks.push(&after[..end]);
        rest = &after[end + close.len()..];
    }
    blocks
}

/// XML's five named entities and numeric references.
pub fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let decoded = after.find(';').and_then(|semi| {
            let entity = &after[..semi];
            let ch = match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => entity
                    .strip_prefix("#x")
                    .map(|h| u32::from_str_radix(h, 16))
                    .or_else(|| entity.strip_prefix('#').map(str::parse::<u32>))
                    .and_then(Result::ok)
                    .and_then(char::from_u32),
            };
            ch.map(|c| (c, semi))
        });
        match decoded {
            Some((c, semi)) => {
                out.push(c);
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// XML-escapes text for a request body.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// What S3's refusal of `operation` means for QLP: the delivery error
/// codes, with S3's own code and message quoted (never a header of the
/// request, so never a credential).
pub fn refusal(operation: &str, response: &Response) -> PluginError {
    let body = String::from_utf8_lossy(&response.body);
    let s3_code = xml_text(&body, "Code").unwrap_or_default();
    let s3_message = xml_text(&body, "Message").unwrap_or_default();
    let code = refusal_code(response.status, &s3_code);
    let mut detail = format!("{operation}: HTTP {}", response.status);
    if !s3_code.is_empty() {
        detail.push_str(&format!(" {}", sanitize(&s3_code)));
    }
    if !s3_message.is_empty() {
        detail.push_str(&format!(": {}", sanitize(&s3_message)));
    }
    if let Some(region) = header(response, "x-amz-bucket-region") {
        detail.push_str(&format!(" (the bucket is in region {})", sanitize(region)));
    }
    PluginError::new(code, detail)
}

/// The QLP code for an S3 status and error code.
pub fn refusal_code(status: u16, s3_code: &str) -> &'static str {
    match s3_code {
        "AccessDenied"
        | "SignatureDoesNotMatch"
        | "InvalidAccessKeyId"
        | "InvalidToken"
        | "ExpiredToken"
        | "TokenRefreshRequired"
        | "AccountProblem"
        | "AllAccessDisabled"
        | "InvalidSecurity"
        | "RequestTimeTooSkewed" => "AUTH_FAILED",
        "NoSuchBucket"
        | "PermanentRedirect"
        | "AuthorizationHeaderMalformed"
        | "IllegalLocationConstraintException" => "TARGET_NOT_FOUND",
        "PreconditionFailed" | "ConditionalRequestConflict" | "OperationAborted" => "CONFLICT",
        "BadDigest" | "InvalidDigest" | "XAmzContentSHA256Mismatch" => "DIGEST_MISMATCH",
        "SlowDown" | "ServiceUnavailable" | "InternalError" => "UNREACHABLE",
        _ => match status {
            401 | 403 => "AUTH_FAILED",
            301 | 307 | 404 => "TARGET_NOT_FOUND",
            409 | 412 => "CONFLICT",
            500..=599 => "UNREACHABLE",
            _ => "REJECTED",
        },
    }
}

fn unreachable(settings: &Settings, error: &str, attempts: u32) -> PluginError {
    PluginError::new(
        "UNREACHABLE",
        format!(
            "{} (after {attempts} tries): {}",
            settings.endpoint.url(),
            sanitize(error)
        ),
    )
}

/// Control characters out, length capped: S3's text is the server's.
fn sanitize(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if out.len() > MAX_QUOTED_BYTES {
        let mut end = MAX_QUOTED_BYTES;
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
        out.push('…');
    }
    out
}
