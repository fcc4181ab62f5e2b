//! QLP's plugin store and supply-chain core.
//!
//! A plugin travels as a *package*: a [`Manifest`] (name, version, kind, the
//! WIT version it targets, the capabilities it asks for, and the blake3 and
//! sha256 digests of its component), one or more [`Signature`]s over the
//! manifest's canonical bytes, and the component itself. Because the
//! manifest carries the component's digests, a signature vouches for both.
//!
//! Where to look:
//! - [`manifest`]: the manifest, its JSON form and its canonical signing bytes.
//! - [`signing`]: ed25519 keys, their text files, and signatures.
//! - [`trust`]: the operator's [`TrustPolicy`] (TOML) and
//!   [`TrustPolicy::verify`], which decides whether a package may load.
//! - [`blob`]: the [`BlobStore`] trait and its directory implementation.
//! - [`store`]: the [`Registry`]: publishing, yanking and loading packages,
//!   every load re-checking digests and signatures.
//! - [`resolve`]: `name@requirement` resolution and [`Lock`] files.
//! - [`wit`]: whether a plugin's `qlp:plugin` version runs on this host.
//! - [`package`]: a signed package as files (`NAME.wasm` with its
//!   manifest and signatures beside it), read and written.
//! - [`oci`]: mirroring packages through an OCI registry.
//! - [`bundle`]: air-gapped install bundles: writing one, and reading one
//!   back with its index signature and every entry checked.
//!
//! Nothing read back from storage is trusted: blobs are re-hashed, manifests
//! re-verified against the policy, and the index is only a pointer that the
//! signed manifest must agree with.

pub mod blob;
pub mod bundle;
pub mod digest;
pub mod manifest;
pub mod oci;
pub mod package;
pub mod resolve;
pub mod signing;
pub mod store;
pub mod trust;
pub mod wit;

use std::path::PathBuf;

pub use blob::{BlobStore, DirBlobStore, MAX_BLOB_BYTES};
pub use digest::{ComponentDigests, Digest, Sha256Digest};
pub use manifest::{Capability, Kind, Manifest};
pub use resolve::{Lock, PackageSpec, Resolved};
pub use signing::{KeyId, PublicKey, SecretKey, Signature};
pub use store::{INDEX_FILE, Package, PackageEntry, Registry};
pub use trust::{NamePattern, TrustBasis, TrustError, TrustPolicy, TrustedKey, Verified};
pub use wit::{check_wit, check_wit_served};

/// Errors of the plugin store. Each has a stable code ([`Error::code`]) for
/// the API and the CLI to show; refusals by the trust policy keep theirs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("i/o error on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the registry index {path} is corrupt: {reason}")]
    CorruptIndex { path: PathBuf, reason: String },
    #[error("blob {digest} is missing from the registry")]
    MissingBlob { digest: Digest },
    #[error("blob {expected} was changed in storage: its content now hashes to {actual}")]
    Tampered { expected: Digest, actual: Digest },
    #[error("blob {digest} is larger than the {limit}-byte limit")]
    BlobTooLarge { digest: Digest, limit: u64 },
    #[error("the component is {size} bytes, over the {limit}-byte limit")]
    ComponentTooLarge { size: u64, limit: u64 },
    #[error(
        "{name}@{version} is already published with digest {existing}; a version cannot be republished with other content"
    )]
    VersionConflict {
        name: String,
        version: String,
        existing: Digest,
    },
    #[error(
        "invalid plugin name `{0}`: expected `namespace/name` in lower-case letters, digits and `-`"
    )]
    InvalidName(String),
    #[error("invalid manifest: {0}")]
    InvalidManifest(String),
    #[error("invalid key: {0}")]
    InvalidKey(String),
    #[error("invalid signature list: {0}")]
    InvalidSignatures(String),
    #[error("invalid trust policy: {0}")]
    InvalidPolicy(String),
    #[error("cannot generate a key: the system random number generator failed: {0}")]
    Random(String),
    #[error(transparent)]
    Trust(#[from] TrustError),
    #[error(
        "the plugin targets qlp:plugin@{plugin} but this host serves qlp:plugin@{host}; {rule}"
    )]
    WitIncompatible {
        plugin: semver::Version,
        host: semver::Version,
        rule: &'static str,
    },
    #[error("the registry's index maps {indexed} to a manifest for {found}")]
    IndexMismatch { indexed: String, found: String },
    #[error("{name}@{version} is not in the registry")]
    PackageNotFound { name: String, version: String },
    #[error("invalid package spec `{spec}`: {reason}")]
    InvalidSpec { spec: String, reason: String },
    #[error("no published, unyanked version of {name} matches `{requirement}`{detail}")]
    NoMatchingVersion {
        name: String,
        requirement: String,
        detail: String,
    },
    #[error("invalid lock: {0}")]
    InvalidLock(String),
    #[error("the locked {name}@{version} is no longer in the registry")]
    LockedVersionGone { name: String, version: String },
    #[error("the locked {name}@{version} has been yanked")]
    LockedVersionYanked { name: String, version: String },
    #[error("the locked {name}@{version} was {locked} and is now {current}")]
    LockedDigestChanged {
        name: String,
        version: String,
        locked: Digest,
        current: Digest,
    },
}

impl Error {
    /// A stable, upper-case code naming the kind of failure.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Io { .. } => "IO",
            Error::CorruptIndex { .. } => "CORRUPT_INDEX",
            Error::MissingBlob { .. } => "MISSING_BLOB",
            Error::Tampered { .. } => "TAMPERED_BLOB",
            Error::BlobTooLarge { .. } => "BLOB_TOO_LARGE",
            Error::ComponentTooLarge { .. } => "COMPONENT_TOO_LARGE",
            Error::VersionConflict { .. } => "VERSION_CONFLICT",
            Error::InvalidName(_) => "INVALID_NAME",
            Error::InvalidManifest(_) => "INVALID_MANIFEST",
            Error::InvalidKey(_) => "INVALID_KEY",
            Error::InvalidSignatures(_) => "INVALID_SIGNATURES",
            Error::InvalidPolicy(_) => "INVALID_POLICY",
            Error::Random(_) => "RANDOM_UNAVAILABLE",
            Error::Trust(e) => e.code(),
            Error::WitIncompatible { .. } => "WIT_INCOMPATIBLE",
            Error::IndexMismatch { .. } => "INDEX_MISMATCH",
            Error::PackageNotFound { .. } => "PACKAGE_NOT_FOUND",
            Error::InvalidSpec { .. } => "INVALID_SPEC",
            Error::NoMatchingVersion { .. } => "NO_MATCHING_VERSION",
            Error::InvalidLock(_) => "INVALID_LOCK",
            Error::LockedVersionGone { .. } => "LOCKED_VERSION_GONE",
            Error::LockedVersionYanked { .. } => "LOCKED_VERSION_YANKED",
            Error::LockedDigestChanged { .. } => "LOCKED_DIGEST_CHANGED",
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The longest namespace or plugin name part: names appear in file names,
/// logs and lock files, and nothing legitimate needs more.
pub const MAX_NAME_PART_LEN: usize = 64;

/// Checks a plugin name: `namespace/name`, each part lower-case ASCII
/// letters, digits and `-`, starting with a letter, at most
/// [`MAX_NAME_PART_LEN`] characters.
pub fn validate_name(name: &str) -> Result<()> {
    match name.split_once('/') {
        Some((ns, n)) if valid_name_part(ns) && valid_name_part(n) => Ok(()),
        _ => Err(Error::InvalidName(name.to_owned())),
    }
}

/// One part of a plugin name (a namespace, or the name within it).
pub(crate) fn valid_name_part(p: &str) -> bool {
    p.len() <= MAX_NAME_PART_LEN
        && p.starts_with(|c: char| c.is_ascii_lowercase())
        && p.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}
