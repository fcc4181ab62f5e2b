//! Plain HTTP/1.1 for a plugin's native unit tests, so that an adapter can be
//! tested against a real server on loopback. Off until a test calls
//! [`allow_for_tests`]; never compiled into a WebAssembly plugin, where the
//! host's `http` interface, with its allow-list, is the only way out.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::HostError;
use crate::http::{Request, Response};

static ALLOWED: AtomicBool = AtomicBool::new(false);

/// Lets `qlp_sdk::http::fetch` send real plain-HTTP requests in this test
/// process.
pub fn allow_for_tests() {
    ALLOWED.store(true, Ordering::SeqCst);
}

pub(crate) fn fetch(request: &Request) -> Result<Response, HostError> {
    if !ALLOWED.load(Ordering::SeqCst) {
        return Err(HostError::NotGranted(
            "capability not granted: HTTP is only available inside QLP".into(),
        ));
    }
    let rest = request
        .url
        .strip_prefix("http://")
        .ok_or_else(|| HostError::InvalidInput("plain `http` only".into()))?;
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, target) = rest.split_at(end);
    let target = if target.is_empty() { "/" } else { target };
    let io = |e: std::io::Error| HostError::Unavailable(format!("{authority}: {e}"));
    let mut stream = TcpStream::connect(authority).map_err(io)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(io)?;
    let mut head = format!(
        "{} {target} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\nContent-Length: {}\r\n",
        request.method,
        request.body.len()
    );
    for (name, value) in &request.headers {
        let lower = name.to_ascii_lowercase();
        if !["host", "connection", "content-length", "transfer-encoding"].contains(&lower.as_str())
        {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).map_err(io)?;
    stream.write_all(&request.body).map_err(io)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(io)?;
    parse(&raw, request.method.eq_ignore_ascii_case("HEAD")).map_err(HostError::Unavailable)
}

fn parse(raw: &[u8], head_only: bool) -> Result<Response, String> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("the response has no complete head")?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or("invalid status line")?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let mut body = raw[end + 4..].to_vec();
    if head_only {
        body.clear();
    } else if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        body = dechunk(&body)?;
    } else if let Some(len) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        body.truncate(len);
    }
    Ok(Response {
        status,
        headers,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = vec![];
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("truncated chunked body")?;
        let size_text = String::from_utf8_lossy(&data[..line_end]);
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| "invalid chunk size")?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if data.len() < size + 2 {
            return Err("truncated chunked body".into());
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}
