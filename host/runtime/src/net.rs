//! Which network addresses the server itself may reach on someone else's
//! behalf (a webhook URL a user registered, a URL a plugin fetches): the
//! public internet only, unless the operator lists a destination. Loopback,
//! private, link-local, shared, benchmarking, reserved and documentation
//! space, and the IPv6 ranges that embed or translate IPv4 (mapped,
//! IPv4-compatible, NAT64, 6to4), are refused, so a registered URL cannot
//! reach the server's own ports, the cloud metadata service or the
//! internal network in any spelling.
//!
//! Hosts are parsed as browsers parse them (WHATWG URL), so `2130706433`,
//! `0x7f000001` and `127.1` are all 127.0.0.1 before they are checked, and
//! a name is checked by every address it resolves to.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

/// How long resolving a destination may take.
pub const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// Whether `ip` is on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let s = v6.segments();
            let first = s[0];
            // ::/96, IPv4-compatible (deprecated) and the unspecified and
            // loopback addresses among them.
            let ipv4_compatible = s[..6].iter().all(|&x| x == 0);
            // 64:ff9b::/96 and 64:ff9b:1::/48, NAT64 translation.
            let nat64 = first == 0x0064 && s[1] == 0xff9b;
            !(ipv4_compatible
                || nat64
                || first == 0x2002 // 6to4
                || (first == 0x2001 && s[1] < 0x0200) // 2001::/23, IETF protocol assignments (Teredo, benchmarking…)
                || (first == 0x2001 && s[1] == 0x0db8) // documentation
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link-local
                || (first & 0xffc0) == 0xfec0) // site-local (deprecated)
        }
    }
}

fn is_public_v4(v4: Ipv4Addr) -> bool {
    let [a, b, c, _] = v4.octets();
    !(v4.is_loopback()
        || v4.is_private()
        || v4.is_link_local()
        || v4.is_unspecified()
        || v4.is_broadcast()
        || v4.is_multicast()
        || v4.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240) // reserved
}

/// Destinations the operator allows even when they are not public, as
/// `host:port` (a name as written in the URL, or an address).
#[derive(Debug, Clone, Default)]
pub struct Allowed(Vec<String>);

impl Allowed {
    pub fn new(destinations: impl IntoIterator<Item = String>) -> Self {
        Self(
            destinations
                .into_iter()
                .map(|d| d.trim().to_ascii_lowercase())
                .filter(|d| !d.is_empty())
                .collect(),
        )
    }

    fn allows(&self, host: &str, port: u16) -> bool {
        let wanted = format!("{}:{port}", host.to_ascii_lowercase());
        self.0.contains(&wanted)
    }
}

/// Why a destination may not be reached.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("`{0}` is not a URL with a host")]
    NoHost(String),
    #[error(
        "`{host}` resolves to {addr}, which is not a public address; an operator can allow `{host}:{port}`"
    )]
    NotPublic {
        host: String,
        addr: IpAddr,
        port: u16,
    },
    #[error("`{0}` does not resolve")]
    Unresolved(String),
}

/// The addresses `url` may be reached at: every address its host resolves
/// to, each checked. Fails when any is not public (a name that resolves to
/// one private address among public ones is refused too, since the
/// connection may go to either) and the destination is not allowed.
pub async fn check(url: &reqwest::Url, allowed: &Allowed) -> Result<Vec<SocketAddr>, Refused> {
    let port = url
        .port_or_known_default()
        .ok_or_else(|| Refused::NoHost(url.to_string()))?;
    let (host, addrs): (String, Vec<SocketAddr>) = match url.host() {
        Some(url::Host::Ipv4(ip)) => (ip.to_string(), vec![SocketAddr::new(ip.into(), port)]),
        Some(url::Host::Ipv6(ip)) => (format!("[{ip}]"), vec![SocketAddr::new(ip.into(), port)]),
        Some(url::Host::Domain(name)) => {
            let resolved =
                tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((name, port)))
                    .await
                    .ok()
                    .and_then(Result::ok)
                    .map(|a| a.collect::<Vec<_>>())
                    .filter(|a| !a.is_empty())
                    .ok_or_else(|| Refused::Unresolved(name.to_owned()))?;
            (name.to_owned(), resolved)
        }
        None => return Err(Refused::NoHost(url.to_string())),
    };
    if allowed.allows(&host, port) {
        return Ok(addrs);
    }
    if let Some(bad) = addrs.iter().find(|a| !is_public(a.ip())) {
        return Err(Refused::NotPublic {
            host,
            addr: bad.ip(),
            port,
        });
    }
    Ok(addrs)
}

/// `url` with any user name and password replaced by `***`, for showing.
pub fn masked(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) if !parsed.username().is_empty() || parsed.password().is_some() => {
            let _ = parsed.set_username("***");
            let _ = parsed.set_password(None);
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn special_purpose_ranges_are_not_public() {
        for s in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "192.0.0.8",
            "198.18.0.1",
            "198.19.255.255",
            "240.0.0.1",
            "255.255.255.255",
            "192.0.2.1",
            "::1",
            "::",
            "::ffff:127.0.0.1",
            "::127.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b:1::1",
            "2002:7f00:1::",
            "2001:db8::1",
            "2001::1",
            "fc00::1",
            "fe80::1",
            "ff02::1",
        ] {
            assert!(!is_public(ip(s)), "{s} was taken for public");
        }
        for s in ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "198.20.0.1"] {
            assert!(is_public(ip(s)), "{s} was taken for special");
        }
    }

    #[tokio::test]
    async fn every_spelling_of_loopback_is_refused_and_an_allowed_one_passes() {
        let none = Allowed::default();
        for url in [
            "http://127.0.0.1:8080/x",
            "http://2130706433:8080/x",
            "http://0x7f000001:8080/x",
            "http://127.1:8080/x",
            "http://[::ffff:127.0.0.1]:8080/x",
            "http://[64:ff9b::7f00:1]:8080/x",
            "http://localhost:8080/x",
            "http://169.254.169.254/latest/meta-data/",
        ] {
            let parsed = reqwest::Url::parse(url).unwrap();
            let refused = check(&parsed, &none).await.unwrap_err();
            assert!(
                matches!(refused, Refused::NotPublic { .. }),
                "{url}: {refused:?}"
            );
        }
        let allowed = Allowed::new(["127.0.0.1:8080".to_owned()]);
        let url = reqwest::Url::parse("http://2130706433:8080/x").unwrap();
        assert_eq!(
            check(&url, &allowed).await.unwrap(),
            ["127.0.0.1:8080".parse::<SocketAddr>().unwrap()]
        );
        // Another port of the same host is not allowed.
        let url = reqwest::Url::parse("http://127.0.0.1:8081/x").unwrap();
        assert!(check(&url, &allowed).await.is_err());
    }

    #[test]
    fn credentials_are_masked() {
        assert_eq!(
            masked("http://user:s3cret@hooks.example.com/x"),
            "http://***@hooks.example.com/x"
        );
        assert_eq!(
            masked("http://hooks.example.com/x"),
            "http://hooks.example.com/x"
        );
    }
}
