//! Content digests: blake3 (how the registry names blobs) and sha256 (what
//! OCI registries name them by). Both are written as 64 lower-case hex
//! characters and refuse anything else when parsed or deserialized, so a
//! digest read from an untrusted file can always be used as a file name.
//!
//! [`ComponentDigests`] is the pair a [`crate::Manifest`] carries for its
//! component.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::Digest as _;

/// A blake3 digest, written as 64 lower-case hex characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Digest(String);

impl Digest {
    /// The digest of some bytes.
    pub fn of(bytes: &[u8]) -> Self {
        Self(blake3::hash(bytes).to_hex().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Parses a hex digest as written by [`Digest::as_str`].
    pub fn parse(hex: &str) -> Option<Self> {
        is_hex_256(hex).then(|| Self(hex.to_owned()))
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Digest {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if is_hex_256(&s) {
            Ok(Self(s))
        } else {
            Err(format!(
                "`{}` is not a blake3 digest (64 lower-case hex characters)",
                s.escape_debug()
            ))
        }
    }
}

impl From<Digest> for String {
    fn from(d: Digest) -> String {
        d.0
    }
}

/// A sha256 digest, written as 64 lower-case hex characters (without the
/// `sha256:` prefix OCI puts in front; see [`Sha256Digest::oci`]).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sha256Digest(String);

impl Sha256Digest {
    /// The digest of some bytes.
    pub fn of(bytes: &[u8]) -> Self {
        Self(hex(&sha2::Sha256::digest(bytes)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Parses a hex digest as written by [`Sha256Digest::as_str`].
    pub fn parse(hex: &str) -> Option<Self> {
        is_hex_256(hex).then(|| Self(hex.to_owned()))
    }

    /// The OCI form, `sha256:<hex>`.
    pub fn oci(&self) -> String {
        format!("sha256:{}", self.0)
    }
}

impl fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Sha256Digest {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if is_hex_256(&s) {
            Ok(Self(s))
        } else {
            Err(format!(
                "`{}` is not a sha256 digest (64 lower-case hex characters)",
                s.escape_debug()
            ))
        }
    }
}

impl From<Sha256Digest> for String {
    fn from(d: Sha256Digest) -> String {
        d.0
    }
}

/// The digests of a component, as its manifest records them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentDigests {
    pub blake3: Digest,
    pub sha256: Sha256Digest,
}

impl ComponentDigests {
    /// Both digests of some bytes.
    pub fn of(bytes: &[u8]) -> Self {
        Self {
            blake3: Digest::of(bytes),
            sha256: Sha256Digest::of(bytes),
        }
    }
}

fn is_hex_256(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Lower-case hex of some bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_parse_only_from_hex() {
        let d = Digest::of(b"x");
        assert_eq!(Digest::parse(d.as_str()), Some(d));
        assert_eq!(Digest::parse("../../etc/passwd"), None);
        assert_eq!(Digest::parse(&"A".repeat(64)), None);
    }

    #[test]
    fn deserializing_refuses_what_is_not_a_digest() {
        let d: Digest = serde_json::from_str(&format!("\"{}\"", Digest::of(b"x"))).unwrap();
        assert_eq!(d, Digest::of(b"x"));
        let err = serde_json::from_str::<Digest>("\"../../etc/passwd\"").unwrap_err();
        assert!(err.to_string().contains("not a blake3 digest"), "{err}");
        assert!(serde_json::from_str::<Sha256Digest>("\"sha256:00\"").is_err());
    }

    #[test]
    fn sha256_matches_the_known_vector() {
        // FIPS 180-2 test vector for "abc".
        let d = Sha256Digest::of(b"abc");
        assert_eq!(
            d.as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(d.oci(), format!("sha256:{d}"));
    }
}
