//! AWS Signature Version 4 for S3, as specified in "Authenticating Requests
//! (AWS Signature Version 4)" of the S3 API reference: a canonical request,
//! a string to sign over its SHA-256, and an HMAC-SHA256 key derived from
//! the secret, the day, the region and the service.
//!
//! Only the header form (`Authorization: AWS4-HMAC-SHA256 …`) with a signed
//! payload hash is built: every body QLP sends is in memory, so its
//! SHA-256 goes into `x-amz-content-sha256` and the server checks the body
//! against it. The tests reproduce the worked examples of the S3 API
//! reference.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The signing algorithm's name, first in the string to sign and the
/// `Authorization` header.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The service name in S3's credential scope.
pub const SERVICE: &str = "s3";

/// An access key. `Debug` shows none of it (the operator grants both the
/// id and the secret as secrets), so no part can reach a log line or an
/// error message through formatting.
#[derive(Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Sent as `x-amz-security-token` with temporary credentials.
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &"<redacted>")
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// One request to sign: everything the signature covers.
pub struct Unsigned<'a> {
    pub method: &'a str,
    /// The path as sent, already URI-encoded segment by segment.
    pub path: &'a str,
    /// Query parameters, not encoded; [`canonical_query`] encodes and sorts
    /// them, and the same text is what the request sends.
    pub query: &'a [(String, String)],
    /// Headers to sign, `host` among them; names in any case.
    pub headers: &'a [(String, String)],
    /// Hex SHA-256 of the body.
    pub payload_sha256: &'a str,
}

/// The `Authorization` header's value for `request` to `service` (S3's is
/// [`SERVICE`]), signed at `amz_date` (`YYYYMMDDTHHMMSSZ`) in `region`.
pub fn authorization(
    request: &Unsigned<'_>,
    credentials: &Credentials,
    region: &str,
    service: &str,
    amz_date: &str,
) -> String {
    let day = &amz_date[..amz_date.len().min(8)];
    let scope = format!("{day}/{region}/{service}/aws4_request");
    let (canonical, signed_headers) = canonical_request(request);
    let string_to_sign = format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let key = signing_key(&credentials.secret_access_key, day, region, service);
    let signature = hex(&hmac(&key, string_to_sign.as_bytes()));
    format!(
        "{ALGORITHM} Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
        credentials.access_key_id
    )
}

/// The canonical request and the `SignedHeaders` list.
pub fn canonical_request(request: &Unsigned<'_>) -> (String, String) {
    let mut headers: Vec<(String, String)> = request
        .headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), collapse_spaces(value)))
        .collect();
    headers.sort();
    let canonical_headers: String = headers
        .iter()
        .map(|(name, value)| format!("{name}:{value}\n"))
        .collect();
    let signed_headers = headers
        .iter()
        .map(|(name, _)| name.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let canonical = format!(
        "{}\n{}\n{}\n{canonical_headers}\n{signed_headers}\n{}",
        request.method,
        request.path,
        canonical_query(request.query),
        request.payload_sha256
    );
    (canonical, signed_headers)
}

/// Query parameters encoded and sorted by name, then value: the canonical
/// query string, and the query the request sends.
pub fn canonical_query(query: &[(String, String)]) -> String {
    let mut pairs: Vec<(String, String)> = query
        .iter()
        .map(|(k, v)| (uri_encode(k, true), uri_encode(v, true)))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// S3's URI encoding: every byte but the unreserved `A-Z a-z 0-9 - . _ ~`
/// as `%XX` upper-case; `/` kept when `slash` is false (object key paths).
pub fn uri_encode(text: &str, slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~')
            || (b == b'/' && !slash)
        {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The key that signs one day's requests in one region.
fn signing_key(secret: &str, day: &str, region: &str, service: &str) -> Vec<u8> {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), day.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, b"aws4_request")
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// Trims a header value and folds runs of spaces into one.
fn collapse_spaces(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Hex SHA-256 of `bytes`, as `x-amz-content-sha256` wants it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `Date: Sun, 06 Nov 1994 08:49:37 GMT` (the IMF-fixdate every HTTP/1.1
/// server sends) as `19941106T084937Z`. A WebAssembly plugin has no clock:
/// the server's own time is the one its signatures must agree with anyway.
pub fn amz_date_from_http_date(date: &str) -> Option<String> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (_, rest) = date.trim().split_once(", ")?;
    let mut parts = rest.split(' ');
    let day = parts.next()?;
    let month = parts.next()?;
    let year = parts.next()?;
    let time = parts.next()?;
    if parts.next() != Some("GMT") || parts.next().is_some() {
        return None;
    }
    let month = MONTHS.iter().position(|m| *m == month)? + 1;
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let hms: Vec<&str> = time.split(':').collect();
    if !digits(day, 2) || !digits(year, 4) || hms.len() != 3 || !hms.iter().all(|p| digits(p, 2)) {
        return None;
    }
    Some(format!(
        "{year}{month:02}{day}T{}{}{}Z",
        hms[0], hms[1], hms[2]
    ))
}

/// Unix seconds as `YYYYMMDDTHHMMSSZ` (UTC), for a time the host gave;
/// `None` before 1970 or past year 9999.
pub fn amz_date_from_unix(seconds: i64) -> Option<String> {
    if !(0..=253_402_300_799).contains(&seconds) {
        return None;
    }
    let days = seconds / 86_400;
    let rest = seconds % 86_400;
    // Howard Hinnant's civil_from_days, for the proleptic Gregorian calendar.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    Some(format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    ))
}
