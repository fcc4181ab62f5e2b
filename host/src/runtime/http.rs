//! The `http` host interface: outbound HTTP/1.1 for plugins the operator
//! granted hosts to, and nothing else.
//!
//! A request is allowed when its `host:port` is on the plugin's allow-list
//! *and* every address the name resolves to is either public or itself
//! listed (as `ip:port`): a name that resolves to loopback or a private
//! range does not open that range. The connection goes to the address that
//! was checked, never to a second resolution, and the host writes `Host`
//! itself, so neither DNS rebinding nor a forged `Host` header reaches
//! another server. Requests, bytes and time per call are capped.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// Requests one plugin call may send.
pub const MAX_REQUESTS_PER_CALL: u32 = 16;

/// Bytes of one request body.
pub const MAX_REQUEST_BYTES: usize = 1 << 20;

/// Bytes of one response, head and body.
pub const MAX_RESPONSE_BYTES: usize = 4 << 20;

/// Time to connect, and the most any read or write may wait.
pub const TIMEOUT: Duration = Duration::from_secs(5);

const DENIED: &str = "capability not granted";

/// One allowed destination: `host:port`, the host lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowed {
    pub host: String,
    pub port: u16,
}

impl std::str::FromStr for Allowed {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (host, port) = s
            .rsplit_once(':')
            .ok_or_else(|| format!("`{s}` is not host:port"))?;
        let port = port
            .parse()
            .map_err(|_| format!("`{s}` has an invalid port"))?;
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        if host.is_empty() || host.contains(['/', '@', ' ', '*']) {
            return Err(format!("`{s}` is not host:port"));
        }
        Ok(Self { host, port })
    }
}

/// The hosts one plugin may reach.
#[derive(Debug, Clone, Default)]
pub struct Grant {
    pub allowed: Vec<Allowed>,
}

pub struct Request {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Whether `ip` is on the public internet: one rule for every address the
/// server reaches on someone else's behalf (see [`crate::net`]).
pub use crate::net::is_public;

/// `http://host[:port]/path?query` split into host, port and the request
/// target.
fn parse_url(url: &str) -> Result<(String, u16, String), String> {
    let rest = match url.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
        Some((scheme, _)) => {
            return Err(format!(
                "scheme `{scheme}` is not supported: plain `http` only"
            ));
        }
        None => return Err(format!("`{url}` is not an absolute http URL")),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, target) = rest.split_at(end);
    let target = target.split('#').next().unwrap_or("");
    let target = if target.is_empty() || target.starts_with('?') {
        format!("/{target}")
    } else {
        target.to_owned()
    };
    if authority.contains('@') {
        return Err("credentials in the URL are not allowed".into());
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or("unclosed `[` in the URL")?;
        let port = after
            .strip_prefix(':')
            .map_or(Ok(80), str::parse)
            .map_err(|_| "invalid port")?;
        (host.to_owned(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), p.parse().map_err(|_| "invalid port")?),
            None => (authority.to_owned(), 80),
        }
    };
    if host.is_empty() {
        return Err("the URL has no host".into());
    }
    if target.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err("the URL's path has spaces or control characters".into());
    }
    Ok((host.to_ascii_lowercase(), port, target))
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Checks `host:port` against the grant and returns the address to connect
/// to.
fn destination(grant: &Grant, host: &str, port: u16) -> Result<SocketAddr, String> {
    let listed = |h: &str| grant.allowed.iter().any(|a| a.host == h && a.port == port);
    if !listed(host) {
        return Err(format!(
            "{DENIED}: {host}:{port} is not on this plugin's allow-list"
        ));
    }
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .collect();
    if addrs.is_empty() {
        return Err(format!("{host} resolves to no address"));
    }
    for addr in &addrs {
        if !is_public(addr.ip()) && !listed(&addr.ip().to_string()) {
            return Err(format!(
                "{DENIED}: {host} resolves to {}, a non-public address that is not on the allow-list",
                addr.ip()
            ));
        }
    }
    Ok(addrs[0])
}

/// Sends `request` if `grant` allows it, giving up at `deadline` (the
/// calling plugin's own).
pub fn fetch(grant: &Grant, request: Request, deadline: Instant) -> Result<Response, String> {
    let remaining = deadline
        .saturating_duration_since(Instant::now())
        .min(TIMEOUT);
    if remaining.is_zero() {
        return Err("the plugin's deadline has passed".into());
    }
    let method = request.method.to_ascii_uppercase();
    if !["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"].contains(&method.as_str()) {
        return Err(format!(
            "method `{}` is not supported",
            super::host_api::sanitize(&method, 16)
        ));
    }
    if request.body.len() > MAX_REQUEST_BYTES {
        return Err(format!(
            "the request body is over {MAX_REQUEST_BYTES} bytes"
        ));
    }
    let (host, port, target) = parse_url(&request.url)?;
    let addr = destination(grant, &host, port)?;

    let mut head = format!("{method} {target} HTTP/1.1\r\n");
    let host_header = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.clone()
    };
    head.push_str(&format!(
        "Host: {host_header}:{port}\r\nConnection: close\r\n"
    ));
    head.push_str(&format!("Content-Length: {}\r\n", request.body.len()));
    for (name, value) in &request.headers {
        if !is_token(name) || value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
            return Err(format!(
                "invalid header `{}`",
                super::host_api::sanitize(name, 64)
            ));
        }
        // The host owns these: a plugin cannot redirect or smuggle with them.
        if ["host", "content-length", "connection", "transfer-encoding"]
            .contains(&name.to_ascii_lowercase().as_str())
        {
            continue;
        }
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");

    let io = |e: std::io::Error| format!("{host}:{port}: {e}");
    let mut stream = TcpStream::connect_timeout(&addr, remaining).map_err(io)?;
    stream.set_read_timeout(Some(remaining)).map_err(io)?;
    stream.set_write_timeout(Some(remaining)).map_err(io)?;
    stream.write_all(head.as_bytes()).map_err(io)?;
    stream.write_all(&request.body).map_err(io)?;
    let mut raw = Vec::new();
    stream
        .take(MAX_RESPONSE_BYTES as u64 + 1)
        .read_to_end(&mut raw)
        .map_err(io)?;
    if raw.len() > MAX_RESPONSE_BYTES {
        return Err(format!(
            "the response from {host}:{port} is over {MAX_RESPONSE_BYTES} bytes"
        ));
    }
    parse_response(&raw, method == "HEAD")
}

fn parse_response(raw: &[u8], head_only: bool) -> Result<Response, String> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("the response has no complete head")?;
    let head = std::str::from_utf8(&raw[..end]).map_err(|_| "the response head is not UTF-8")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .filter(|_| status_line.starts_with("HTTP/1."))
        .ok_or_else(|| {
            format!(
                "invalid status line `{}`",
                super::host_api::sanitize(status_line, 64)
            )
        })?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let mut body = raw[end + 4..].to_vec();
    if head_only {
        body.clear();
    } else if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        body = dechunk(&body)?;
    } else if let Some(len) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        if body.len() < len {
            return Err("the response ended before its Content-Length".into());
        }
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
        let size_text = std::str::from_utf8(&data[..line_end]).map_err(|_| "invalid chunk size")?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(list: &[&str]) -> Grant {
        Grant {
            allowed: list.iter().map(|s| s.parse().unwrap()).collect(),
        }
    }

    #[test]
    fn private_and_loopback_ranges_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:4700::1111", "8.8.8.8"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn urls_split_into_host_port_and_target() {
        assert_eq!(
            parse_url("http://Example.com/a?b=1#frag").unwrap(),
            ("example.com".into(), 80, "/a?b=1".into())
        );
        assert_eq!(
            parse_url("http://127.0.0.1:8080").unwrap(),
            ("127.0.0.1".into(), 8080, "/".into())
        );
        assert_eq!(
            parse_url("http://[::1]:81/x").unwrap(),
            ("::1".into(), 81, "/x".into())
        );
        assert!(
            parse_url("https://example.com/")
                .unwrap_err()
                .contains("plain `http` only")
        );
        assert!(parse_url("http://user:pw@example.com/").is_err());
        assert!(parse_url("http://example.com/a b").is_err());
        assert!(parse_url("file:///etc/passwd").is_err());
    }

    #[test]
    fn only_listed_destinations_resolving_to_allowed_addresses_pass() {
        let g = grant(&["localhost:8080", "127.0.0.1:9090"]);
        // Listed by name, but the name resolves to loopback, which is not.
        let err = destination(&g, "localhost", 8080).unwrap_err();
        assert!(
            err.starts_with(DENIED) && err.contains("non-public"),
            "{err}"
        );
        // Listed as the address itself.
        assert_eq!(
            destination(&g, "127.0.0.1", 9090).unwrap(),
            "127.0.0.1:9090".parse().unwrap()
        );
        // Same address, another port.
        assert!(
            destination(&g, "127.0.0.1", 9091)
                .unwrap_err()
                .contains("allow-list")
        );
        assert!(
            destination(&g, "10.0.0.1", 80)
                .unwrap_err()
                .contains("allow-list")
        );
    }

    #[test]
    fn chunked_bodies_are_reassembled() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n";
        let r = parse_response(raw, false).unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, &b"hello world"[..]));
        assert!(
            parse_response(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
                false
            )
            .is_err()
        );
        assert!(parse_response(b"garbage", false).is_err());
    }
}
