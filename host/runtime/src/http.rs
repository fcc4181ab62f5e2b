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
//!
//! `https` URLs are spoken over TLS (rustls), trusting the system's roots
//! and the operator's CA bundle ([`crate::tls`]); the certificate must name
//! the host of the URL.
//!
//! Time is bounded as a whole, not per read: a request (resolving,
//! connecting, the TLS handshake, sending and receiving) ends at
//! [`REQUEST_TIMEOUT`] or at the calling plugin's own deadline, whichever
//! comes first, so a server that drips one byte at a time cannot hold the
//! call, its thread or its call slot past either.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use crate::host_error::HostError;

/// Requests one plugin call may send: enough for a multipart upload or a
/// handful of REST calls of a delivery adapter.
pub const MAX_REQUESTS_PER_CALL: u32 = 64;

/// Bytes of one request body: one part of a multipart upload.
pub const MAX_REQUEST_BYTES: usize = 16 << 20;

/// Bytes of one response, head and body.
pub const MAX_RESPONSE_BYTES: usize = 4 << 20;

/// The longest one request may take from resolving its host to the last
/// byte of its response.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The start of the message of a request that ran out of time.
pub const TIMED_OUT: &str = "TIMEOUT";

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

/// A URL split for sending.
#[derive(Debug, PartialEq, Eq)]
struct Target {
    /// Over TLS (`https`).
    tls: bool,
    /// Lower-cased, without brackets for IPv6.
    host: String,
    port: u16,
    /// Path and query.
    path: String,
}

/// `http(s)://host[:port]/path?query` split into scheme, host, port and the
/// request target.
fn parse_url(url: &str) -> Result<Target, String> {
    let (tls, rest) = match url.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => (false, rest),
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("https") => (true, rest),
        Some((scheme, _)) => {
            return Err(format!(
                "scheme `{scheme}` is not supported: `http` and `https` only"
            ));
        }
        None => return Err(format!("`{url}` is not an absolute http URL")),
    };
    let default_port = if tls { 443 } else { 80 };
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
            .map_or(Ok(default_port), str::parse)
            .map_err(|_| "invalid port")?;
        (host.to_owned(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), p.parse().map_err(|_| "invalid port")?),
            None => (authority.to_owned(), default_port),
        }
    };
    if host.is_empty() {
        return Err("the URL has no host".into());
    }
    if target.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err("the URL's path has spaces or control characters".into());
    }
    Ok(Target {
        tls,
        host: host.to_ascii_lowercase(),
        port,
        path: target,
    })
}

/// The `host:port` a URL leads to, read as [`fetch`] reads it.
pub fn destination_of(url: &str) -> Result<Allowed, String> {
    parse_url(url).map(|t| Allowed {
        host: t.host,
        port: t.port,
    })
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Checks `host:port` against the grant and returns the address to connect
/// to, resolving the name by `deadline` at the latest.
fn destination(
    grant: &Grant,
    host: &str,
    port: u16,
    deadline: Instant,
) -> Result<SocketAddr, HostError> {
    let listed = |h: &str| grant.allowed.iter().any(|a| a.host == h && a.port == port);
    if !listed(host) {
        return Err(HostError::NotGranted(format!(
            "{DENIED}: {host}:{port} is not on this plugin's allow-list"
        )));
    }
    let addrs = resolve(host, port, deadline)?;
    if addrs.is_empty() {
        return Err(HostError::Unavailable(format!(
            "{host} resolves to no address"
        )));
    }
    for addr in &addrs {
        if !is_public(addr.ip()) && !listed(&addr.ip().to_string()) {
            return Err(HostError::NotGranted(format!(
                "{DENIED}: {host} resolves to {}, a non-public address that is not on the allow-list",
                addr.ip()
            )));
        }
    }
    Ok(addrs[0])
}

/// The addresses `host` resolves to, by `deadline` (and within
/// [`crate::net::RESOLVE_TIMEOUT`]). The system resolver cannot be
/// interrupted, so it runs on a thread of its own that is left to finish
/// when the answer comes too late.
fn resolve(host: &str, port: u16, deadline: Instant) -> Result<Vec<SocketAddr>, HostError> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let wait = left(deadline, host, port)?.min(crate::net::RESOLVE_TIMEOUT);
    let (tx, rx) = std::sync::mpsc::channel();
    let name = host.to_owned();
    std::thread::Builder::new()
        .name("qlp-resolve".into())
        .spawn(move || {
            let _ = tx.send(
                (name.as_str(), port)
                    .to_socket_addrs()
                    .map(|a| a.collect::<Vec<_>>()),
            );
        })
        .map_err(|e| HostError::Unavailable(format!("cannot resolve {host}: {e}")))?;
    match rx.recv_timeout(wait) {
        Ok(Ok(addrs)) => Ok(addrs),
        Ok(Err(e)) => Err(HostError::Unavailable(format!(
            "cannot resolve {host}: {e}"
        ))),
        Err(_) => Err(HostError::LimitExceeded(format!(
            "{TIMED_OUT}: resolving {host} took longer than {} ms",
            wait.as_millis()
        ))),
    }
}

/// The time left before `deadline`, or the timeout message.
fn left(deadline: Instant, host: &str, port: u16) -> Result<Duration, HostError> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
        .ok_or_else(|| {
            HostError::LimitExceeded(format!(
                "{TIMED_OUT}: the request to {host}:{port} did not finish before its deadline"
            ))
        })
}

/// A connection whose socket can be given timeouts: plain or TLS.
trait Connection: Read + Write {
    fn socket(&self) -> &TcpStream;
}

impl Connection for TcpStream {
    fn socket(&self) -> &TcpStream {
        self
    }
}

impl Connection for rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    fn socket(&self) -> &TcpStream {
        &self.sock
    }
}

/// Sends `request` if `grant` allows it, giving up at `deadline` (the
/// calling plugin's own) or after [`REQUEST_TIMEOUT`].
pub fn fetch(grant: &Grant, request: Request, deadline: Instant) -> Result<Response, HostError> {
    fetch_until(
        grant,
        request,
        deadline.min(Instant::now() + REQUEST_TIMEOUT),
    )
}

/// [`fetch`] by `deadline` alone, without [`REQUEST_TIMEOUT`]: for the
/// host's own requests whose time the operator chose (a model endpoint).
pub fn fetch_until(
    grant: &Grant,
    request: Request,
    deadline: Instant,
) -> Result<Response, HostError> {
    if deadline <= Instant::now() {
        return Err(HostError::LimitExceeded(format!(
            "{TIMED_OUT}: the plugin's deadline has passed"
        )));
    }
    let method = request.method.to_ascii_uppercase();
    if !["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"].contains(&method.as_str()) {
        return Err(HostError::InvalidInput(format!(
            "method `{}` is not supported",
            super::text::sanitize(&method, 16)
        )));
    }
    if request.body.len() > MAX_REQUEST_BYTES {
        return Err(HostError::LimitExceeded(format!(
            "the request body is over {MAX_REQUEST_BYTES} bytes"
        )));
    }
    let Target {
        tls,
        host,
        port,
        path: target,
    } = parse_url(&request.url).map_err(HostError::InvalidInput)?;
    let addr = destination(grant, &host, port, deadline)?;

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
            return Err(HostError::InvalidInput(format!(
                "invalid header `{}`",
                super::text::sanitize(name, 64)
            )));
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

    let io = |e: std::io::Error| HostError::Unavailable(format!("{host}:{port}: {e}"));
    let socket = TcpStream::connect_timeout(&addr, left(deadline, &host, port)?).map_err(io)?;
    let _ = socket.set_nodelay(true);
    let raw = if tls {
        let name = rustls_pki_types::ServerName::try_from(host.clone()).map_err(|_| {
            HostError::InvalidInput(format!("`{host}` is not a valid TLS server name"))
        })?;
        let connection = rustls::ClientConnection::new(crate::tls::plugin_client_config(), name)
            .map_err(|e| HostError::Unavailable(format!("{host}:{port}: {e}")))?;
        let mut stream = rustls::StreamOwned::new(connection, socket);
        exchange(
            &mut stream,
            &[head.as_bytes(), &request.body],
            deadline,
            &host,
            port,
        )?
    } else {
        let mut stream = socket;
        exchange(
            &mut stream,
            &[head.as_bytes(), &request.body],
            deadline,
            &host,
            port,
        )?
    };
    parse_response(&raw, method == "HEAD").map_err(HostError::Unavailable)
}

/// Writes `parts` and reads the whole response, each read and write
/// waiting only for what is left before `deadline`.
fn exchange(
    stream: &mut impl Connection,
    parts: &[&[u8]],
    deadline: Instant,
    host: &str,
    port: u16,
) -> Result<Vec<u8>, HostError> {
    let io = |e: std::io::Error| HostError::Unavailable(format!("{host}:{port}: {e}"));
    let waiting = |e: &std::io::Error| {
        matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock
                | std::io::ErrorKind::TimedOut
                | std::io::ErrorKind::Interrupted
        )
    };
    for mut part in parts.iter().copied() {
        while !part.is_empty() {
            let wait = left(deadline, host, port)?;
            stream.socket().set_write_timeout(Some(wait)).map_err(io)?;
            match stream.write(part) {
                Ok(0) => {
                    return Err(HostError::Unavailable(format!(
                        "{host}:{port}: the connection closed"
                    )));
                }
                Ok(n) => part = &part[n..],
                Err(e) if waiting(&e) => {}
                Err(e) => return Err(io(e)),
            }
        }
    }
    stream.flush().map_err(io)?;
    let mut raw = Vec::new();
    let mut buf = vec![0u8; 16 << 10];
    loop {
        let wait = left(deadline, host, port)?;
        stream.socket().set_read_timeout(Some(wait)).map_err(io)?;
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                raw.extend_from_slice(&buf[..n]);
                if raw.len() > MAX_RESPONSE_BYTES {
                    return Err(HostError::LimitExceeded(format!(
                        "the response from {host}:{port} is over {MAX_RESPONSE_BYTES} bytes"
                    )));
                }
            }
            Err(e) if waiting(&e) => {}
            // A TLS server that closes without `close_notify`, as many do
            // after `Connection: close`; the response's own framing still
            // decides whether it is complete.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !raw.is_empty() => break,
            Err(e) => return Err(io(e)),
        }
    }
    Ok(raw)
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
                super::text::sanitize(status_line, 64)
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
        let target = |tls, host: &str, port, path: &str| Target {
            tls,
            host: host.into(),
            port,
            path: path.into(),
        };
        assert_eq!(
            parse_url("http://Example.com/a?b=1#frag").unwrap(),
            target(false, "example.com", 80, "/a?b=1")
        );
        assert_eq!(
            parse_url("http://127.0.0.1:8080").unwrap(),
            target(false, "127.0.0.1", 8080, "/")
        );
        assert_eq!(
            parse_url("http://[::1]:81/x").unwrap(),
            target(false, "::1", 81, "/x")
        );
        assert_eq!(
            parse_url("HTTPS://example.com?q").unwrap(),
            target(true, "example.com", 443, "/?q")
        );
        assert_eq!(
            parse_url("https://[::1]/x").unwrap(),
            target(true, "::1", 443, "/x")
        );
        assert!(
            parse_url("ftp://example.com/")
                .unwrap_err()
                .contains("`http` and `https` only")
        );
        assert!(parse_url("http://user:pw@example.com/").is_err());
        assert!(parse_url("http://example.com/a b").is_err());
        assert!(parse_url("file:///etc/passwd").is_err());
    }

    #[test]
    fn only_listed_destinations_resolving_to_allowed_addresses_pass() {
        let g = grant(&["localhost:8080", "127.0.0.1:9090"]);
        let destination = |g: &Grant, host: &str, port| {
            destination(g, host, port, Instant::now() + Duration::from_secs(5))
        };
        // Listed by name, but the name resolves to loopback, which is not.
        let err = destination(&g, "localhost", 8080).unwrap_err();
        assert!(
            matches!(&err, HostError::NotGranted(m) if m.starts_with(DENIED) && m.contains("non-public")),
            "{err:?}"
        );
        // Listed as the address itself.
        assert_eq!(
            destination(&g, "127.0.0.1", 9090).unwrap(),
            "127.0.0.1:9090".parse().unwrap()
        );
        // Same address, another port.
        assert!(matches!(
            destination(&g, "127.0.0.1", 9091).unwrap_err(),
            HostError::NotGranted(m) if m.contains("allow-list")
        ));
        assert!(matches!(
            destination(&g, "10.0.0.1", 80).unwrap_err(),
            HostError::NotGranted(m) if m.contains("allow-list")
        ));
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
