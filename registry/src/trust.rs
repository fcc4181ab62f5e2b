//! The operator's trust policy, and the one function that decides whether a
//! package may be published or loaded: [`TrustPolicy::verify`].
//!
//! # Policy file (TOML)
//!
//! ```toml
//! # Key ids refused even when listed below; takes effect on the next load.
//! revoked = ["9c1d2e3f4a5b6c7d"]
//!
//! # Development only: packages under these names need no signature. Each
//! # entry is `namespace/*` or an exact `namespace/name`; `*` is refused, and
//! # so is any entry overlapping a namespace a key below signs for.
//! allow_unsigned = ["local/*"]
//!
//! [[key]]
//! id = "3f2a0b1c4d5e6f70"            # first 16 hex of blake3(public key)
//! public_key = "<base64, 32 bytes>"   # as in the key file
//! namespaces = ["acme/*", "qlp/zip"]  # what it may sign
//! not_after = "2027-01-01T00:00:00Z"  # optional, RFC 3339 in UTC
//! release = true                      # optional: the operator's release
//!                                     # key (install bundles' tiers and
//!                                     # native code)
//!
//! [[key]]                             # a second key for acme/*: rotation
//! id = "..."
//! public_key = "..."
//! namespaces = ["acme/*"]
//! ```
//!
//! Unknown fields are refused (a misspelt `revokd` must not silently revoke
//! nothing), and so is a key whose id does not match its public key.
//!
//! # Verification
//!
//! [`TrustPolicy::verify`] checks, in order: the manifest is valid; the
//! component's blake3 and sha256 both match the manifest; then each
//! signature: its key is not revoked, is in the policy, the signature
//! verifies over the manifest, the key has not expired at `now`, and its
//! namespaces cover the package name. One signature passing every check is
//! enough. A package with no signatures passes only under an
//! `allow_unsigned` rule; a package that carries signatures must prove one,
//! relaxation or not.
//!
//! Expiry is checked at verification time, on every load: there is no
//! trusted timestamp of when a package was signed. Rotate by adding the new
//! key, adding its signature to published packages
//! ([`crate::Registry::add_signature`]), then letting the old key expire.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::time::SystemTime;

use semver::Version;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::digest::{ComponentDigests, Digest, Sha256Digest};
use crate::manifest::Manifest;
use crate::signing::{KeyId, MAX_SIGNATURES, PublicKey, Signature};
use crate::{Error, Result, valid_name_part, validate_name};

/// The largest policy file accepted.
pub const MAX_POLICY_BYTES: usize = 1024 * 1024;

/// Which plugin names a rule covers: every name in a namespace
/// (`acme/*`) or one exact name (`acme/pci-rules`). There is no wildcard
/// across namespaces.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NamePattern {
    Namespace(String),
    Exact(String),
}

impl NamePattern {
    pub fn matches(&self, name: &str) -> bool {
        match self {
            NamePattern::Namespace(ns) => name.split_once('/').is_some_and(|(n, _)| n == ns),
            NamePattern::Exact(exact) => name == exact,
        }
    }

    /// Whether some name matches both patterns.
    pub fn overlaps(&self, other: &NamePattern) -> bool {
        match (self, other) {
            (NamePattern::Namespace(a), NamePattern::Namespace(b)) => a == b,
            (NamePattern::Exact(a), NamePattern::Exact(b)) => a == b,
            (NamePattern::Namespace(_), NamePattern::Exact(name))
            | (NamePattern::Exact(name), NamePattern::Namespace(_)) => {
                self.matches(name) && other.matches(name)
            }
        }
    }
}

impl fmt::Display for NamePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NamePattern::Namespace(ns) => write!(f, "{ns}/*"),
            NamePattern::Exact(name) => f.write_str(name),
        }
    }
}

impl FromStr for NamePattern {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        if s == "*" || s.starts_with("*/") {
            return Err(Error::InvalidPolicy(format!(
                "`{s}` would cover every namespace; name each namespace (`acme/*`)"
            )));
        }
        if let Some(ns) = s.strip_suffix("/*") {
            return if valid_name_part(ns) {
                Ok(NamePattern::Namespace(ns.to_owned()))
            } else {
                Err(Error::InvalidPolicy(format!(
                    "`{}` is not a namespace pattern",
                    s.escape_debug()
                )))
            };
        }
        validate_name(s).map_err(|_| {
            Error::InvalidPolicy(format!(
                "`{}` is neither `namespace/*` nor a plugin name",
                s.escape_debug()
            ))
        })?;
        Ok(NamePattern::Exact(s.to_owned()))
    }
}

impl Serialize for NamePattern {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for NamePattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// A key the operator trusts, for some names, possibly until some time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedKey {
    pub key: PublicKey,
    pub namespaces: Vec<NamePattern>,
    /// The key vouches for nothing after this instant.
    pub not_after: Option<SystemTime>,
    /// The operator's release key: an install bundle it signs may bring
    /// the tiers the server runs and precompiled native code. A bundle
    /// signed by any other key brings only its packages.
    pub release: bool,
}

impl TrustedKey {
    /// Trusts `key` for the given patterns (`acme/*` or exact names).
    pub fn new(key: PublicKey, namespaces: &[&str]) -> Result<Self> {
        if namespaces.is_empty() {
            return Err(Error::InvalidPolicy(format!(
                "key {} covers no namespace",
                key.id()
            )));
        }
        Ok(Self {
            key,
            namespaces: namespaces
                .iter()
                .map(|p| p.parse())
                .collect::<Result<_>>()?,
            not_after: None,
            release: false,
        })
    }

    /// The same key, as the operator's release key.
    pub fn as_release(mut self) -> Self {
        self.release = true;
        self
    }

    /// The same key, expiring at `not_after`.
    pub fn expiring(mut self, not_after: SystemTime) -> Self {
        self.not_after = Some(not_after);
        self
    }

    pub fn covers(&self, name: &str) -> bool {
        self.namespaces.iter().any(|p| p.matches(name))
    }

    fn allowed(&self) -> String {
        join(&self.namespaces)
    }
}

/// Why a package was refused. Each variant has a stable code
/// ([`TrustError::code`]); the message names the key, rule or namespace.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TrustError {
    #[error("{package} carries no signature and no allow_unsigned rule covers it")]
    Unsigned { package: String },
    #[error("{package} is signed by key {key_id}, which the trust policy does not know")]
    UnknownKey { package: String, key_id: KeyId },
    #[error("{package} is signed by key {key_id}, which expired at {not_after}")]
    KeyExpired {
        package: String,
        key_id: KeyId,
        not_after: String,
    },
    #[error("{package} is signed by key {key_id}, which the trust policy revokes")]
    KeyRevoked { package: String, key_id: KeyId },
    #[error("key {key_id} may sign only {allowed}, not {package}")]
    NamespaceNotAllowed {
        package: String,
        key_id: KeyId,
        allowed: String,
    },
    #[error("the signature by key {key_id} on {package} is bad: {reason}")]
    BadSignature {
        package: String,
        key_id: KeyId,
        reason: String,
    },
    #[error(
        "the component of {package} does not match its manifest: {algorithm} {actual}, the manifest says {expected}"
    )]
    DigestMismatch {
        package: String,
        algorithm: &'static str,
        expected: String,
        actual: String,
    },
    #[error("{package} carries {count} signatures, over the limit of {limit}")]
    TooManySignatures {
        package: String,
        count: usize,
        limit: usize,
    },
    #[error("invalid manifest: {reason}")]
    InvalidManifest { reason: String },
}

impl TrustError {
    /// A stable, upper-case code.
    pub fn code(&self) -> &'static str {
        match self {
            TrustError::Unsigned { .. } => "UNSIGNED",
            TrustError::UnknownKey { .. } => "UNKNOWN_KEY",
            TrustError::KeyExpired { .. } => "KEY_EXPIRED",
            TrustError::KeyRevoked { .. } => "KEY_REVOKED",
            TrustError::NamespaceNotAllowed { .. } => "NAMESPACE_NOT_ALLOWED",
            TrustError::BadSignature { .. } => "BAD_SIGNATURE",
            TrustError::DigestMismatch { .. } => "DIGEST_MISMATCH",
            TrustError::TooManySignatures { .. } => "TOO_MANY_SIGNATURES",
            TrustError::InvalidManifest { .. } => "INVALID_MANIFEST",
        }
    }

    /// When every signature fails, the one reported is the one that got
    /// furthest, with a revocation always reported.
    fn rank(&self) -> u8 {
        match self {
            TrustError::KeyRevoked { .. } => 5,
            TrustError::NamespaceNotAllowed { .. } => 4,
            TrustError::KeyExpired { .. } => 3,
            TrustError::BadSignature { .. } => 2,
            _ => 1,
        }
    }
}

/// Why a package was accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustBasis {
    /// Signed by these trusted keys (every signature that passed).
    Signed { keys: Vec<KeyId> },
    /// Unsigned, under this development rule.
    UnsignedAllowed { rule: NamePattern },
    /// Built into the `qlp` binary: trusted by the digest the binary
    /// carries, the binary itself being the root of trust.
    BuiltIn,
}

/// A package the policy accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub name: String,
    pub version: Version,
    pub digests: ComponentDigests,
    pub basis: TrustBasis,
}

/// Which keys may sign which names; see the module documentation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustPolicy {
    keys: BTreeMap<KeyId, TrustedKey>,
    revoked: BTreeSet<KeyId>,
    allow_unsigned: Vec<NamePattern>,
    /// Packages trusted by their exact blake3, whatever their signatures:
    /// the plugins built into the binary. Never read from or written to a
    /// policy file.
    pinned: BTreeMap<(String, Version), Digest>,
}

impl TrustPolicy {
    /// A policy that trusts nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key. Refuses a key already present, and one overlapping an
    /// `allow_unsigned` rule.
    pub fn add_key(&mut self, key: TrustedKey) -> Result<()> {
        let id = key.key.id().clone();
        if self.keys.contains_key(&id) {
            return Err(Error::InvalidPolicy(format!("key {id} is listed twice")));
        }
        for rule in &self.allow_unsigned {
            check_no_overlap(rule, &key)?;
        }
        self.keys.insert(id, key);
        Ok(())
    }

    /// Trusts exactly the package `name` `version` whose component has
    /// `blake3`: a plugin built into the binary. Another component under
    /// that name and version is judged by the rest of the policy.
    pub fn pin(&mut self, name: &str, version: &Version, blake3: Digest) {
        self.pinned
            .insert((name.to_owned(), version.clone()), blake3);
    }

    /// Revokes a key: nothing it signed verifies any more.
    pub fn revoke(&mut self, id: KeyId) {
        self.revoked.insert(id);
    }

    /// The development relaxations: namespaces whose unsigned packages are
    /// accepted. A server logs each at start-up.
    pub fn allow_unsigned_rules(&self) -> &[NamePattern] {
        &self.allow_unsigned
    }

    /// Lets packages under `pattern` (`local/*` or an exact name) go
    /// unsigned. For development; refuses `*` and any namespace a trusted
    /// key signs for.
    pub fn allow_unsigned(&mut self, pattern: &str) -> Result<()> {
        let rule: NamePattern = pattern.parse()?;
        for key in self.keys.values() {
            check_no_overlap(&rule, key)?;
        }
        if !self.allow_unsigned.contains(&rule) {
            self.allow_unsigned.push(rule);
        }
        Ok(())
    }

    pub fn keys(&self) -> impl Iterator<Item = &TrustedKey> {
        self.keys.values()
    }

    pub fn is_revoked(&self, id: &KeyId) -> bool {
        self.revoked.contains(id)
    }

    /// Parses a policy file (see the module documentation).
    pub fn from_toml(text: &str) -> Result<Self> {
        if text.len() > MAX_POLICY_BYTES {
            return Err(Error::InvalidPolicy(format!(
                "over the {MAX_POLICY_BYTES}-byte limit"
            )));
        }
        let file: PolicyFile =
            toml::from_str(text).map_err(|e| Error::InvalidPolicy(e.to_string()))?;
        let mut policy = TrustPolicy::new();
        for k in file.keys {
            let key = PublicKey::from_base64(&k.public_key)
                .map_err(|e| Error::InvalidPolicy(format!("key {}: {e}", k.id)))?;
            if key.id() != &k.id {
                return Err(Error::InvalidPolicy(format!(
                    "key {} has the public key of {}",
                    k.id,
                    key.id()
                )));
            }
            let not_after = k
                .not_after
                .map(|t| {
                    humantime::parse_rfc3339(&t).map_err(|e| {
                        Error::InvalidPolicy(format!(
                            "key {}: not_after `{t}` is not an RFC 3339 time in UTC \
                             (like 2027-01-01T00:00:00Z): {e}",
                            k.id
                        ))
                    })
                })
                .transpose()?;
            let namespaces: Vec<&str> = k.namespaces.iter().map(String::as_str).collect();
            let mut trusted = TrustedKey::new(key, &namespaces)
                .map_err(|e| Error::InvalidPolicy(format!("key {}: {e}", k.id)))?;
            trusted.not_after = not_after;
            trusted.release = k.release;
            policy.add_key(trusted)?;
        }
        for id in file.revoked {
            policy.revoke(id);
        }
        for rule in &file.allow_unsigned {
            policy.allow_unsigned(rule)?;
        }
        Ok(policy)
    }

    /// Reads a policy file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text)
    }

    /// The policy as a file [`TrustPolicy::from_toml`] reads back.
    pub fn to_toml(&self) -> String {
        let file = PolicyFile {
            revoked: self.revoked.iter().cloned().collect(),
            allow_unsigned: self.allow_unsigned.iter().map(|r| r.to_string()).collect(),
            keys: self
                .keys
                .values()
                .map(|k| KeyEntry {
                    id: k.key.id().clone(),
                    public_key: k.key.to_base64(),
                    namespaces: k.namespaces.iter().map(|p| p.to_string()).collect(),
                    not_after: k
                        .not_after
                        .map(|t| humantime::format_rfc3339(t).to_string()),
                    release: k.release,
                })
                .collect(),
        };
        toml::to_string(&file).expect("a policy always serializes")
    }

    /// Decides whether `component`, described by `manifest` and carrying
    /// `signatures`, may be published or loaded at `now`.
    pub fn verify(
        &self,
        manifest: &Manifest,
        signatures: &[Signature],
        component: &[u8],
        now: SystemTime,
    ) -> Result<Verified, TrustError> {
        manifest
            .validate()
            .map_err(|e| TrustError::InvalidManifest {
                reason: e.to_string(),
            })?;
        let name = &manifest.name;
        let package = format!("{name}@{}", manifest.version);
        if signatures.len() > MAX_SIGNATURES {
            return Err(TrustError::TooManySignatures {
                package,
                count: signatures.len(),
                limit: MAX_SIGNATURES,
            });
        }
        let mismatch = |algorithm, expected: &str, actual: String| TrustError::DigestMismatch {
            package: package.clone(),
            algorithm,
            expected: expected.to_owned(),
            actual,
        };
        let blake3 = Digest::of(component);
        if blake3 != manifest.digests.blake3 {
            return Err(mismatch(
                "blake3",
                manifest.digests.blake3.as_str(),
                blake3.to_string(),
            ));
        }
        let sha256 = Sha256Digest::of(component);
        if sha256 != manifest.digests.sha256 {
            return Err(mismatch(
                "sha256",
                manifest.digests.sha256.as_str(),
                sha256.to_string(),
            ));
        }
        let verified = |basis| Verified {
            name: name.clone(),
            version: manifest.version.clone(),
            digests: manifest.digests.clone(),
            basis,
        };
        // The component's blake3 is the manifest's (checked above).
        if self.pinned.get(&(name.clone(), manifest.version.clone())) == Some(&blake3) {
            return Ok(verified(TrustBasis::BuiltIn));
        }

        if signatures.is_empty() {
            return match self.allow_unsigned.iter().find(|r| r.matches(name)) {
                Some(rule) => Ok(verified(TrustBasis::UnsignedAllowed { rule: rule.clone() })),
                None => Err(TrustError::Unsigned { package }),
            };
        }

        let mut accepted = Vec::new();
        let mut refusal: Option<TrustError> = None;
        for signature in signatures {
            match self.check_signature(manifest, &package, signature, now) {
                Ok(id) => {
                    if !accepted.contains(&id) {
                        accepted.push(id);
                    }
                }
                Err(e) => {
                    if refusal.as_ref().is_none_or(|r| e.rank() > r.rank()) {
                        refusal = Some(e);
                    }
                }
            }
        }
        if accepted.is_empty() {
            Err(refusal.expect("at least one signature was refused"))
        } else {
            Ok(verified(TrustBasis::Signed { keys: accepted }))
        }
    }

    /// One signature, against every rule; the id of its key if it passes.
    fn check_signature(
        &self,
        manifest: &Manifest,
        package: &str,
        signature: &Signature,
        now: SystemTime,
    ) -> Result<KeyId, TrustError> {
        let key_id = &signature.key_id;
        if self.revoked.contains(key_id) {
            return Err(TrustError::KeyRevoked {
                package: package.to_owned(),
                key_id: key_id.clone(),
            });
        }
        let Some(trusted) = self.keys.get(key_id) else {
            return Err(TrustError::UnknownKey {
                package: package.to_owned(),
                key_id: key_id.clone(),
            });
        };
        trusted
            .key
            .verify(manifest, signature)
            .map_err(|reason| TrustError::BadSignature {
                package: package.to_owned(),
                key_id: key_id.clone(),
                reason,
            })?;
        if let Some(not_after) = trusted.not_after
            && now > not_after
        {
            return Err(TrustError::KeyExpired {
                package: package.to_owned(),
                key_id: key_id.clone(),
                not_after: humantime::format_rfc3339(not_after).to_string(),
            });
        }
        if !trusted.covers(&manifest.name) {
            return Err(TrustError::NamespaceNotAllowed {
                package: package.to_owned(),
                key_id: key_id.clone(),
                allowed: trusted.allowed(),
            });
        }
        Ok(key_id.clone())
    }
}

fn check_no_overlap(rule: &NamePattern, key: &TrustedKey) -> Result<()> {
    match key.namespaces.iter().find(|p| p.overlaps(rule)) {
        Some(p) => Err(Error::InvalidPolicy(format!(
            "allow_unsigned `{rule}` overlaps `{p}`, which key {} signs for: \
             unsigned packages would be accepted where signatures are expected",
            key.key.id()
        ))),
        None => Ok(()),
    }
}

fn join(patterns: &[NamePattern]) -> String {
    patterns
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The policy file as written.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    revoked: Vec<KeyId>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    allow_unsigned: Vec<String>,
    #[serde(default, rename = "key")]
    keys: Vec<KeyEntry>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyEntry {
    id: KeyId,
    public_key: String,
    namespaces: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    not_after: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    release: bool,
}

#[cfg(test)]
pub(crate) mod testing;

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::testing::policy_for;
    use super::*;
    use crate::signing::testing::{key, manifest_for};

    fn now() -> SystemTime {
        humantime::parse_rfc3339("2026-06-01T00:00:00Z").unwrap()
    }

    fn refusal(
        policy: &TrustPolicy,
        manifest: &Manifest,
        sigs: &[Signature],
        bytes: &[u8],
    ) -> TrustError {
        policy.verify(manifest, sigs, bytes, now()).unwrap_err()
    }

    #[test]
    fn a_trusted_signature_is_accepted() {
        let k = key(1);
        let policy = policy_for(&[(&k, &["acme/*"])]);
        let m = manifest_for("acme/rules", "1.0.0", b"component");
        let v = policy
            .verify(&m, &[k.sign(&m)], b"component", now())
            .unwrap();
        assert_eq!(v.name, "acme/rules");
        assert_eq!(v.digests, m.digests);
        assert_eq!(
            v.basis,
            TrustBasis::Signed {
                keys: vec![k.id().clone()]
            }
        );
    }

    #[test]
    fn unsigned_is_refused() {
        let policy = policy_for(&[(&key(1), &["acme/*"])]);
        let m = manifest_for("acme/rules", "1.0.0", b"c");
        let e = refusal(&policy, &m, &[], b"c");
        assert_eq!(e.code(), "UNSIGNED");
        assert!(e.to_string().contains("acme/rules@1.0.0"), "{e}");
    }

    #[test]
    fn an_unknown_key_is_refused() {
        let policy = policy_for(&[(&key(1), &["acme/*"])]);
        let stranger = key(9);
        let m = manifest_for("acme/rules", "1.0.0", b"c");
        let e = refusal(&policy, &m, &[stranger.sign(&m)], b"c");
        assert_eq!(e.code(), "UNKNOWN_KEY");
        assert!(e.to_string().contains(stranger.id().as_str()), "{e}");
    }

    #[test]
    fn a_signature_by_another_key_under_a_trusted_id_is_bad() {
        let trusted = key(1);
        let policy = policy_for(&[(&trusted, &["acme/*"])]);
        let m = manifest_for("acme/rules", "1.0.0", b"c");
        let mut forged = key(9).sign(&m);
        forged.key_id = trusted.id().clone();
        let e = refusal(&policy, &m, &[forged], b"c");
        assert_eq!(e.code(), "BAD_SIGNATURE");
        assert!(e.to_string().contains(trusted.id().as_str()), "{e}");
    }

    #[test]
    fn an_expired_key_is_refused_and_a_live_one_accepted() {
        let k = key(1);
        let mut policy = TrustPolicy::new();
        let expiry = humantime::parse_rfc3339("2026-01-01T00:00:00Z").unwrap();
        policy
            .add_key(
                TrustedKey::new(k.public_key(), &["acme/*"])
                    .unwrap()
                    .expiring(expiry),
            )
            .unwrap();
        let m = manifest_for("acme/rules", "1.0.0", b"c");
        let sigs = [k.sign(&m)];
        let e = refusal(&policy, &m, &sigs, b"c");
        assert_eq!(e.code(), "KEY_EXPIRED");
        assert!(e.to_string().contains("2026-01-01T00:00:00Z"), "{e}");
        // Up to and including the instant of expiry, the key is good.
        policy.verify(&m, &sigs, b"c", expiry).unwrap();
        policy
            .verify(&m, &sigs, b"c", expiry - Duration::from_secs(86_400))
            .unwrap();
    }

    #[test]
    fn a_revoked_key_is_refused_even_with_a_valid_signature() {
        let k = key(1);
        let mut policy = policy_for(&[(&k, &["acme/*"])]);
        policy.revoke(k.id().clone());
        let m = manifest_for("acme/rules", "1.0.0", b"c");
        let e = refusal(&policy, &m, &[k.sign(&m)], b"c");
        assert_eq!(e.code(), "KEY_REVOKED");
        assert!(e.to_string().contains(k.id().as_str()), "{e}");
    }

    #[test]
    fn a_key_signs_only_its_namespaces() {
        let k = key(1);
        let policy = policy_for(&[(&k, &["acme/*", "qlp/zip"])]);
        let zip = manifest_for("qlp/zip", "1.0.0", b"c");
        policy.verify(&zip, &[k.sign(&zip)], b"c", now()).unwrap();

        for other in ["qlp/secrets", "evil/rules", "acmex/rules"] {
            let m = manifest_for(other, "1.0.0", b"c");
            let e = refusal(&policy, &m, &[k.sign(&m)], b"c");
            assert_eq!(e.code(), "NAMESPACE_NOT_ALLOWED", "{other}");
            let msg = e.to_string();
            assert!(
                msg.contains(other) && msg.contains("acme/*, qlp/zip"),
                "{msg}"
            );
        }
    }

    #[test]
    fn up_to_the_most_signatures_are_read_and_one_more_is_refused() {
        let k = key(1);
        let policy = policy_for(&[(&k, &["acme/*"])]);
        let m = manifest_for("acme/rules", "1.0.0", b"c");
        let mut sigs = vec![k.sign(&m); MAX_SIGNATURES];
        policy.verify(&m, &sigs, b"c", now()).unwrap();
        sigs.push(k.sign(&m));
        let e = refusal(&policy, &m, &sigs, b"c");
        assert_eq!(e.code(), "TOO_MANY_SIGNATURES");
    }

    #[test]
    fn a_pinned_component_is_trusted_unsigned_and_only_with_its_own_digest() {
        let mut policy = TrustPolicy::new();
        let m = manifest_for("qlp/zip", "1.0.0", b"built in");
        policy.pin("qlp/zip", &m.version, Digest::of(b"built in"));
        let v = policy.verify(&m, &[], b"built in", now()).unwrap();
        assert_eq!(v.basis, TrustBasis::BuiltIn);
        // Other bytes under the same name and version: the pin says nothing.
        let other = manifest_for("qlp/zip", "1.0.0", b"other");
        assert_eq!(refusal(&policy, &other, &[], b"other").code(), "UNSIGNED");
        // Another version of the pinned bytes: not pinned either.
        let later = manifest_for("qlp/zip", "1.0.1", b"built in");
        assert_eq!(
            refusal(&policy, &later, &[], b"built in").code(),
            "UNSIGNED"
        );
        // A manifest lying about the bytes is refused by digest first.
        let e = refusal(&policy, &m, &[], b"tampered");
        assert_eq!(e.code(), "DIGEST_MISMATCH");
        // Pins never reach a policy file.
        assert!(!policy.to_toml().contains("qlp/zip"));
    }

    #[test]
    fn a_tampered_component_is_refused_by_each_digest() {
        let k = key(1);
        let policy = policy_for(&[(&k, &["acme/*"])]);
        let m = manifest_for("acme/rules", "1.0.0", b"original");
        let sigs = [k.sign(&m)];
        let e = refusal(&policy, &m, &sigs, b"tampered");
        assert_eq!(e.code(), "DIGEST_MISMATCH");
        assert!(e.to_string().contains("blake3"), "{e}");

        // A manifest whose blake3 matches but sha256 does not (a signer's
        // mistake or a forged manifest) is refused too.
        let mut half = m.clone();
        half.digests.sha256 = Sha256Digest::of(b"other");
        let e = refusal(&policy, &half, &[k.sign(&half)], b"original");
        assert_eq!(e.code(), "DIGEST_MISMATCH");
        assert!(e.to_string().contains("sha256"), "{e}");
    }

    #[test]
    fn a_tampered_manifest_is_refused() {
        let k = key(1);
        let policy = policy_for(&[(&k, &["acme/*"])]);
        let m = manifest_for("acme/rules", "1.0.0", b"c");
        let sigs = [k.sign(&m)];
        let mut changes: Vec<Manifest> = Vec::new();
        let mut more_caps = m.clone();
        more_caps
            .capabilities
            .insert("http:evil.example:443".parse().unwrap());
        changes.push(more_caps);
        let mut bumped = m.clone();
        bumped.version = "1.0.1".parse().unwrap();
        changes.push(bumped);
        let mut kind = m.clone();
        kind.kind = crate::Kind::Delivery;
        changes.push(kind);
        let mut wit = m.clone();
        wit.wit = "0.2.0".parse().unwrap();
        changes.push(wit);
        for changed in changes {
            let e = refusal(&policy, &changed, &sigs, b"c");
            assert_eq!(e.code(), "BAD_SIGNATURE", "{e}");
        }
    }

    #[test]
    fn rotation_two_keys_for_one_namespace_both_accepted() {
        let old = key(1);
        let new = key(2);
        let policy = policy_for(&[(&old, &["acme/*"]), (&new, &["acme/*"])]);
        let m = manifest_for("acme/rules", "1.0.0", b"c");
        policy.verify(&m, &[old.sign(&m)], b"c", now()).unwrap();
        policy.verify(&m, &[new.sign(&m)], b"c", now()).unwrap();
        let both = policy
            .verify(&m, &[old.sign(&m), new.sign(&m)], b"c", now())
            .unwrap();
        assert_eq!(
            both.basis,
            TrustBasis::Signed {
                keys: vec![old.id().clone(), new.id().clone()]
            }
        );
    }

    #[test]
    fn one_good_signature_is_enough_and_the_furthest_refusal_is_reported() {
        let good = key(1);
        let revoked = key(2);
        let mut policy = policy_for(&[(&good, &["acme/*"]), (&revoked, &["acme/*"])]);
        policy.revoke(revoked.id().clone());
        let m = manifest_for("acme/rules", "1.0.0", b"c");
        policy
            .verify(
                &m,
                &[key(9).sign(&m), revoked.sign(&m), good.sign(&m)],
                b"c",
                now(),
            )
            .unwrap();
        let e = refusal(&policy, &m, &[key(9).sign(&m), revoked.sign(&m)], b"c");
        assert_eq!(e.code(), "KEY_REVOKED");
    }

    #[test]
    fn dev_relaxation_covers_only_the_named_namespace() {
        let k = key(1);
        let mut policy = policy_for(&[(&k, &["acme/*"])]);
        policy.allow_unsigned("local/*").unwrap();
        let local = manifest_for("local/scratch", "0.1.0", b"c");
        let v = policy.verify(&local, &[], b"c", now()).unwrap();
        assert_eq!(
            v.basis,
            TrustBasis::UnsignedAllowed {
                rule: "local/*".parse().unwrap()
            }
        );
        // Other namespaces still need signatures.
        for name in ["acme/rules", "localx/scratch", "qlp/zip"] {
            let m = manifest_for(name, "0.1.0", b"c");
            assert_eq!(refusal(&policy, &m, &[], b"c").code(), "UNSIGNED", "{name}");
        }
        // Digests are still checked, and a signature that is carried must
        // still verify.
        assert_eq!(
            refusal(&policy, &local, &[], b"x").code(),
            "DIGEST_MISMATCH"
        );
        assert_eq!(
            refusal(&policy, &local, &[key(9).sign(&local)], b"c").code(),
            "UNKNOWN_KEY"
        );
    }

    #[test]
    fn dev_relaxation_never_covers_everything_or_a_signed_namespace() {
        let k = key(1);
        let mut policy = policy_for(&[(&k, &["acme/*", "qlp/zip"])]);
        for bad in [
            "*",
            "*/*",
            "*/x",
            "acme/*",
            "acme/rules",
            "qlp/*",
            "qlp/zip",
            "Local/*",
            "local/",
        ] {
            assert!(
                matches!(policy.allow_unsigned(bad), Err(Error::InvalidPolicy(_))),
                "{bad}"
            );
        }
        policy.allow_unsigned("qlp/dev-only").unwrap();
        // And a key may not be added over an unsigned rule.
        let err = policy
            .add_key(TrustedKey::new(key(2).public_key(), &["qlp/*"]).unwrap())
            .unwrap_err();
        assert!(err.to_string().contains("qlp/dev-only"), "{err}");
    }

    #[test]
    fn the_policy_file_round_trips() {
        let a = key(1);
        let b = key(2);
        let text = format!(
            r#"
revoked = ["{revoked}"]
allow_unsigned = ["local/*"]

[[key]]
id = "{a_id}"
public_key = "{a_pk}"
namespaces = ["acme/*", "qlp/zip"]
not_after = "2027-01-01T00:00:00Z"
release = true

[[key]]
id = "{b_id}"
public_key = "{b_pk}"
namespaces = ["acme/*"]
"#,
            revoked = key(3).id(),
            a_id = a.id(),
            a_pk = a.public_key().to_base64(),
            b_id = b.id(),
            b_pk = b.public_key().to_base64(),
        );
        let policy = TrustPolicy::from_toml(&text).unwrap();
        assert_eq!(policy.keys().count(), 2);
        assert!(policy.is_revoked(key(3).id()));
        let a_trusted = policy.keys().find(|k| k.key.id() == a.id()).unwrap();
        assert_eq!(
            a_trusted.not_after,
            Some(humantime::parse_rfc3339("2027-01-01T00:00:00Z").unwrap())
        );
        // Only the key marked so is the release key.
        assert!(a_trusted.release);
        assert!(
            !policy
                .keys()
                .find(|k| k.key.id() == b.id())
                .unwrap()
                .release
        );
        let again = TrustPolicy::from_toml(&policy.to_toml()).unwrap();
        assert_eq!(again, policy);
        assert_eq!(policy.to_toml().matches("release = true").count(), 1);

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("trust.toml");
        std::fs::write(&path, policy.to_toml()).unwrap();
        assert_eq!(TrustPolicy::load(&path).unwrap(), policy);
    }

    #[test]
    fn the_policy_file_refuses_mistakes() {
        let a = key(1);
        let entry = |id: &str, pk: &str, extra: &str| {
            format!(
                "[[key]]\nid = \"{id}\"\npublic_key = \"{pk}\"\nnamespaces = [\"acme/*\"]\n{extra}"
            )
        };
        let (id, pk) = (a.id().to_string(), a.public_key().to_base64());
        for (what, text) in [
            ("unknown field", "revokd = []\n".to_owned()),
            ("unknown key field", entry(&id, &pk, "trusted = true\n")),
            ("id mismatch", entry(key(2).id().as_str(), &pk, "")),
            ("bad key", entry(&id, "AAAA", "")),
            (
                "local time",
                entry(&id, &pk, "not_after = \"2027-01-01T00:00:00+02:00\"\n"),
            ),
            ("date only", entry(&id, &pk, "not_after = \"2027-01-01\"\n")),
            ("everything", "allow_unsigned = [\"*\"]\n".to_owned()),
            (
                "duplicate",
                format!("{}{}", entry(&id, &pk, ""), entry(&id, &pk, "")),
            ),
            (
                "no namespaces",
                format!("[[key]]\nid = \"{id}\"\npublic_key = \"{pk}\"\nnamespaces = []\n"),
            ),
            (
                "glob",
                format!(
                    "[[key]]\nid = \"{id}\"\npublic_key = \"{pk}\"\nnamespaces = [\"acme/pci-*\"]\n"
                ),
            ),
        ] {
            let err = TrustPolicy::from_toml(&text).unwrap_err();
            assert!(matches!(err, Error::InvalidPolicy(_)), "{what}: {err}");
        }
    }
}
