//! The package manifest: what a plugin is, what it asks for, and the digests
//! of its component.
//!
//! A manifest is JSON. Unknown fields are refused (a field no signature
//! covers must not slip through), and so is anything over
//! [`MAX_MANIFEST_BYTES`]:
//!
//! ```json
//! {
//!   "name": "acme/pci-rules",
//!   "version": "1.2.0",
//!   "kind": "validator",
//!   "wit": "0.1.0",
//!   "capabilities": ["http:api.example.com:443", "secret:TOKEN"],
//!   "description": "PCI DSS rules for generated services.",
//!   "authors": ["Acme Security <security@acme.example>"],
//!   "license": "Apache-2.0",
//!   "digests": { "blake3": "<64 hex>", "sha256": "<64 hex>" }
//! }
//! ```
//!
//! `capabilities`, `authors` and `license` may be left out (empty, empty,
//! none).
//!
//! # Canonical bytes
//!
//! A signature is made over [`Manifest::signing_message`]: the ASCII
//! context string [`SIGNING_CONTEXT`] (`qlp-manifest-v1` and a newline,
//! which keeps a manifest signature from being valid for anything else)
//! followed by [`Manifest::canonical_bytes`]: the manifest as compact JSON
//! (no whitespace) with
//!
//! - the keys in exactly the order above: `name`, `version`, `kind`, `wit`,
//!   `capabilities`, `description`, `authors`, `license`, `digests`
//!   (`blake3`, then `sha256`);
//! - every key present, `license` as `null` when there is none;
//! - `capabilities` sorted by their string form, without duplicates;
//!   `authors` in the order given;
//! - strings escaped as `serde_json` does: `"` and `\` escaped, no other
//!   escapes (control characters are refused by validation), non-ASCII
//!   written as UTF-8.
//!
//! So the same manifest always signs to the same bytes, however its file was
//! laid out; `canonical_bytes_are_pinned` in the tests holds the format
//! still.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use semver::Version;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::digest::ComponentDigests;
use crate::{Error, Result, validate_name};

/// Prepended to the canonical bytes before signing, so a signature over a
/// manifest cannot be replayed as a signature over anything else QLP signs
/// later. Changing the canonical form means a new context string.
pub const SIGNING_CONTEXT: &[u8] = b"qlp-manifest-v1\n";

/// The largest manifest file accepted: a manifest is a few hundred bytes of
/// metadata, and this bounds what parsing an untrusted one may cost.
pub const MAX_MANIFEST_BYTES: usize = 64 * 1024;

/// The most capabilities a manifest may ask for; the WIT contract has four
/// kinds, so even a generous HTTP allow-list stays far below this.
pub const MAX_CAPABILITIES: usize = 64;

/// The longest description, in bytes: it is shown in listings, not read as
/// documentation.
pub const MAX_DESCRIPTION_LEN: usize = 4096;

/// The most authors, and the longest author or license string, in bytes.
pub const MAX_AUTHORS: usize = 32;
pub const MAX_FIELD_LEN: usize = 256;

/// The longest secret key name a `secret:` capability may use.
pub const MAX_SECRET_NAME_LEN: usize = 128;

/// What a plugin does in the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Agent,
    Analyzer,
    Validator,
    Exporter,
    Delivery,
    Planner,
    /// Not a component: a rule pack (the YAML `qlp/rules` runs), signed,
    /// versioned and distributed like a plugin.
    Rules,
}

impl Kind {
    /// The kinds of plugin components.
    pub const ALL: [Kind; 6] = [
        Kind::Agent,
        Kind::Analyzer,
        Kind::Validator,
        Kind::Exporter,
        Kind::Delivery,
        Kind::Planner,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Agent => "agent",
            Kind::Analyzer => "analyzer",
            Kind::Validator => "validator",
            Kind::Exporter => "exporter",
            Kind::Delivery => "delivery",
            Kind::Planner => "planner",
            Kind::Rules => "rules",
        }
    }

    /// Whether packages of this kind are WebAssembly components.
    pub fn is_component(self) -> bool {
        self != Kind::Rules
    }
}

impl From<qlp_types::PluginKind> for Kind {
    fn from(kind: qlp_types::PluginKind) -> Self {
        match kind {
            qlp_types::PluginKind::Agent => Kind::Agent,
            qlp_types::PluginKind::Analyzer => Kind::Analyzer,
            qlp_types::PluginKind::Validator => Kind::Validator,
            qlp_types::PluginKind::Exporter => Kind::Exporter,
            qlp_types::PluginKind::Delivery => Kind::Delivery,
            qlp_types::PluginKind::Planner => Kind::Planner,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Kind::ALL
            .into_iter()
            .chain([Kind::Rules])
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                Error::InvalidManifest(format!(
                    "unknown kind `{}`: expected agent, analyzer, validator, exporter, delivery, planner or rules",
                    s.escape_debug()
                ))
            })
    }
}

/// A capability a plugin asks for, mirroring the WIT `capability` variant.
/// Written as `directory-read`, `directory-write`, `http:<host>:<port>`
/// (host a lower-case DNS name, an IPv4 address or a bracketed IPv6 address)
/// `secret:<KEY>` (letters, digits, `_`, `.`, `-`) or `llm` (contract
/// 0.2: the operator's language model). Only the canonical
/// spelling parses (`http:API.example.com:0443` does not), so one capability
/// has one string and one place in the canonical order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Capability {
    DirectoryRead,
    DirectoryWrite,
    Http { host: String, port: u16 },
    Secret(String),
    Llm,
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Capability::DirectoryRead => f.write_str("directory-read"),
            Capability::DirectoryWrite => f.write_str("directory-write"),
            Capability::Http { host, port } => write!(f, "http:{host}:{port}"),
            Capability::Secret(key) => write!(f, "secret:{key}"),
            Capability::Llm => f.write_str("llm"),
        }
    }
}

impl FromStr for Capability {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = |why: &str| {
            Error::InvalidManifest(format!("invalid capability `{}`: {why}", s.escape_debug()))
        };
        let cap = match s {
            "directory-read" => Capability::DirectoryRead,
            "directory-write" => Capability::DirectoryWrite,
            "llm" => Capability::Llm,
            _ => {
                if let Some(rest) = s.strip_prefix("http:") {
                    let (host, port) = rest
                        .rsplit_once(':')
                        .ok_or_else(|| bad("expected http:<host>:<port>"))?;
                    if !valid_host(host) {
                        return Err(bad("the host is not a lower-case DNS name or IP address"));
                    }
                    let port: u16 = port.parse().map_err(|_| bad("the port is not a number"))?;
                    if port == 0 {
                        return Err(bad("port 0"));
                    }
                    Capability::Http {
                        host: host.to_owned(),
                        port,
                    }
                } else if let Some(key) = s.strip_prefix("secret:") {
                    if key.is_empty()
                        || key.len() > MAX_SECRET_NAME_LEN
                        || !key
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
                    {
                        return Err(bad(
                            "secret names are 1 to 128 letters, digits, `_`, `.` and `-`",
                        ));
                    }
                    Capability::Secret(key.to_owned())
                } else {
                    return Err(bad(
                        "expected directory-read, directory-write, http:<host>:<port>, secret:<KEY> or llm",
                    ));
                }
            }
        };
        if cap.to_string() != s {
            return Err(bad(&format!("not in canonical form (`{cap}`)")));
        }
        Ok(cap)
    }
}

/// Ordered by string form, which is the order of the canonical encoding;
/// adding a variant later does not reorder existing capabilities.
impl Ord for Capability {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.to_string().cmp(&other.to_string())
    }
}

impl PartialOrd for Capability {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Serialize for Capability {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Capability {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A lower-case DNS name (labels of letters, digits and inner `-`), an IPv4
/// address, or an IPv6 address in brackets, each in its canonical spelling.
/// No wildcards.
fn valid_host(host: &str) -> bool {
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return inner
            .parse::<std::net::Ipv6Addr>()
            .is_ok_and(|ip| ip.to_string() == inner);
    }
    if host
        .split('.')
        .all(|l| l.bytes().all(|b| b.is_ascii_digit()))
    {
        return host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.to_string() == host);
    }
    host.len() <= 253
        && host.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        })
}

/// A package manifest. See the module documentation for the JSON form and
/// the canonical bytes a signature covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// `namespace/name`.
    pub name: String,
    pub version: Version,
    pub kind: Kind,
    /// The `qlp:plugin` WIT version the component targets.
    pub wit: Version,
    #[serde(default)]
    pub capabilities: BTreeSet<Capability>,
    pub description: String,
    #[serde(default)]
    pub authors: Vec<String>,
    /// An SPDX license expression.
    #[serde(default)]
    pub license: Option<String>,
    /// The digests of the component this manifest describes.
    pub digests: ComponentDigests,
}

impl Manifest {
    /// A manifest for `component`, with its digests filled in and nothing
    /// else asked for.
    pub fn new(
        name: &str,
        version: Version,
        kind: Kind,
        wit: Version,
        component: &[u8],
    ) -> Result<Self> {
        validate_name(name)?;
        Ok(Self {
            name: name.to_owned(),
            version,
            kind,
            wit,
            capabilities: BTreeSet::new(),
            description: String::new(),
            authors: Vec::new(),
            license: None,
            digests: ComponentDigests::of(component),
        })
    }

    /// Parses and validates a manifest file.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        if bytes.len() > MAX_MANIFEST_BYTES {
            return Err(Error::InvalidManifest(format!(
                "{} bytes, over the {MAX_MANIFEST_BYTES}-byte limit",
                bytes.len()
            )));
        }
        let manifest: Manifest =
            serde_json::from_slice(bytes).map_err(|e| Error::InvalidManifest(e.to_string()))?;
        manifest.validate()?;
        Ok(manifest)
    }

    /// The manifest as a human-readable JSON file.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).expect("a manifest always serializes")
    }

    /// The canonical encoding (see the module documentation).
    pub fn canonical_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a manifest always serializes")
    }

    /// What a signature is made over: [`SIGNING_CONTEXT`] then
    /// [`Manifest::canonical_bytes`].
    pub fn signing_message(&self) -> Vec<u8> {
        let mut message = SIGNING_CONTEXT.to_vec();
        message.extend_from_slice(&self.canonical_bytes());
        message
    }

    /// Checks what the types cannot: the name, and the size and characters
    /// of the free-text fields.
    pub fn validate(&self) -> Result<()> {
        validate_name(&self.name)?;
        let bad = |msg: String| Err(Error::InvalidManifest(format!("{}: {msg}", self.name)));
        if !self.kind.is_component() && !self.capabilities.is_empty() {
            return bad("a rule pack asks for no capabilities".into());
        }
        if self.capabilities.len() > MAX_CAPABILITIES {
            return bad(format!(
                "{} capabilities, over the limit of {MAX_CAPABILITIES}",
                self.capabilities.len()
            ));
        }
        if self.description.len() > MAX_DESCRIPTION_LEN {
            return bad(format!(
                "the description is over {MAX_DESCRIPTION_LEN} bytes"
            ));
        }
        if self
            .description
            .chars()
            .any(|c| c.is_control() && c != '\n')
        {
            return bad("the description holds control characters".into());
        }
        if self.authors.len() > MAX_AUTHORS {
            return bad(format!("more than {MAX_AUTHORS} authors"));
        }
        for (field, value) in self
            .authors
            .iter()
            .map(|a| ("an author", a))
            .chain(self.license.iter().map(|l| ("the license", l)))
        {
            if value.trim().is_empty()
                || value.len() > MAX_FIELD_LEN
                || value.chars().any(char::is_control)
            {
                return bad(format!(
                    "{field} must be 1 to {MAX_FIELD_LEN} bytes without control characters"
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Manifest {
        let mut m = Manifest::new(
            "acme/pci-rules",
            "1.2.0".parse().unwrap(),
            Kind::Validator,
            "0.1.0".parse().unwrap(),
            b"component",
        )
        .unwrap();
        m.capabilities = ["secret:TOKEN", "http:api.example.com:443", "directory-read"]
            .into_iter()
            .map(|c| c.parse().unwrap())
            .collect();
        m.description = "PCI rules".into();
        m.authors = vec!["Acme <sec@acme.example>".into()];
        m.license = Some("Apache-2.0".into());
        m
    }

    #[test]
    fn json_round_trips() {
        let m = sample();
        assert_eq!(
            Manifest::from_json(m.to_json_pretty().as_bytes()).unwrap(),
            m
        );
    }

    #[test]
    fn canonical_bytes_are_pinned() {
        // The exact bytes a signature covers. Changing them breaks every
        // signature ever made: that needs a new SIGNING_CONTEXT, not an edit.
        let m = sample();
        let expected = format!(
            concat!(
                r#"{{"name":"acme/pci-rules","version":"1.2.0","kind":"validator","wit":"0.1.0","#,
                r#""capabilities":["directory-read","http:api.example.com:443","secret:TOKEN"],"#,
                r#""description":"PCI rules","authors":["Acme <sec@acme.example>"],"#,
                r#""license":"Apache-2.0","digests":{{"blake3":"{}","sha256":"{}"}}}}"#
            ),
            m.digests.blake3, m.digests.sha256
        );
        assert_eq!(String::from_utf8(m.canonical_bytes()).unwrap(), expected);
        assert!(m.signing_message().starts_with(b"qlp-manifest-v1\n{"));
    }

    #[test]
    fn canonical_bytes_ignore_layout_and_capability_order() {
        let m = sample();
        let reordered = format!(
            r#"
            {{
              "digests": {{ "sha256": "{}", "blake3": "{}" }},
              "license": "Apache-2.0",
              "authors": ["Acme <sec@acme.example>"],
              "description": "PCI rules",
              "capabilities": ["secret:TOKEN", "directory-read", "http:api.example.com:443"],
              "wit": "0.1.0",
              "kind": "validator",
              "version": "1.2.0",
              "name": "acme/pci-rules"
            }}"#,
            m.digests.sha256, m.digests.blake3
        );
        let parsed = Manifest::from_json(reordered.as_bytes()).unwrap();
        assert_eq!(parsed.canonical_bytes(), m.canonical_bytes());
    }

    #[test]
    fn optional_fields_default_and_license_is_null_in_canonical_form() {
        let m = Manifest::new(
            "qlp/zip",
            "0.1.0".parse().unwrap(),
            Kind::Exporter,
            "0.1.0".parse().unwrap(),
            b"z",
        )
        .unwrap();
        let json = format!(
            r#"{{"name":"qlp/zip","version":"0.1.0","kind":"exporter","wit":"0.1.0","description":"","digests":{{"blake3":"{}","sha256":"{}"}}}}"#,
            m.digests.blake3, m.digests.sha256
        );
        let parsed = Manifest::from_json(json.as_bytes()).unwrap();
        assert_eq!(parsed, m);
        let canonical = String::from_utf8(parsed.canonical_bytes()).unwrap();
        assert!(canonical.contains(r#""capabilities":[]"#), "{canonical}");
        assert!(canonical.contains(r#""license":null"#), "{canonical}");
    }

    #[test]
    fn unknown_fields_and_bad_values_are_refused() {
        let m = sample();
        let mut value = serde_json::to_value(&m).unwrap();
        value["unsigned_extra"] = "x".into();
        let err = Manifest::from_json(&serde_json::to_vec(&value).unwrap()).unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");

        for (field, bad) in [
            ("name", serde_json::json!("Acme/PCI")),
            ("kind", serde_json::json!("compiler")),
            ("version", serde_json::json!("1.2")),
            ("wit", serde_json::json!("latest")),
            ("capabilities", serde_json::json!(["network"])),
            ("description", serde_json::json!("bell\u{7}")),
            ("authors", serde_json::json!([""])),
            (
                "digests",
                serde_json::json!({"blake3": "00", "sha256": "00"}),
            ),
        ] {
            let mut value = serde_json::to_value(&m).unwrap();
            value[field] = bad;
            let err = Manifest::from_json(&serde_json::to_vec(&value).unwrap()).unwrap_err();
            assert!(
                matches!(err, Error::InvalidManifest(_) | Error::InvalidName(_)),
                "{field}: {err}"
            );
        }
        let huge = vec![b' '; MAX_MANIFEST_BYTES + 1];
        assert!(Manifest::from_json(&huge).is_err());
    }

    #[test]
    fn capabilities_parse_only_in_canonical_form() {
        for good in [
            "directory-read",
            "directory-write",
            "http:api.example.com:443",
            "http:127.0.0.1:8080",
            "http:[::1]:81",
            "secret:TOKEN",
            "secret:db.password-2",
        ] {
            let cap: Capability = good.parse().unwrap();
            assert_eq!(cap.to_string(), good);
        }
        for bad in [
            "network",
            "http:api.example.com",
            "http:API.example.com:443",
            "http:api.example.com:0443",
            "http:api.example.com:0",
            "http:*.example.com:443",
            "http:-bad.example.com:443",
            "http:[::0001]:81",
            "http:127.000.0.1:80",
            "http:1.2.3:80",
            "secret:",
            "secret:a b",
            "directory-write ",
        ] {
            assert!(bad.parse::<Capability>().is_err(), "{bad} parsed");
        }
    }
}
