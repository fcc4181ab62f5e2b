//! Air-gapped install bundles, as a format: one archive holding signed
//! packages, a tiers file and its lock, and optionally precompiled code,
//! under a signed index. This module writes a bundle ([`write`]) and reads
//! one back into a staging directory ([`stage`]), checking its index
//! signature and every entry; what a server does with the staged entries
//! (verifying each package, the tiers against the plugins, installing) is
//! the host's `bundle` module.
//!
//! # Layout
//!
//! A tar archive (gzipped when its name ends in `.gz` or `.tgz`; reading
//! detects gzip by its magic bytes) whose first two entries are
//!
//! - `index.json`: `{ "format": 1, "qlp": VERSION, "engine": HASH|null,
//!   "entries": [{ "path", "size", "blake3" }] }`, every other entry with
//!   its size and blake3;
//! - `index.sig.json`: one ed25519 [`Signature`] over the index's exact
//!   bytes ([`SecretKey::sign_bundle_index`]);
//!
//! then, each listed in the index ([`classify`] names what may be there):
//!
//! - `plugins/NAME.wasm`, `plugins/NAME.manifest.json`,
//!   `plugins/NAME.sig.json`: every signed plugin, as `qlp plugin sign`
//!   writes them ([`crate::package`]); and `plugins/NAME.yaml` with the
//!   same sidecars: every signed rule pack;
//! - `tiers.toml`: the tiers file; `tiers.lock`: per tier, the name,
//!   version and blake3 of every plugin it runs;
//! - `trust.toml`: the trust policy the bundle was made under, kept for
//!   the operator to compare; a reader never trusts it (a policy carried
//!   inside the thing it would vouch for vouches for nothing);
//! - `precompiled/ENGINE/BLAKE3.cwasm`: a component compiled by an engine
//!   whose compatibility hash is `ENGINE`.
//!
//! # What staging checks
//!
//! The index signature, against the operator's policy: a known, unrevoked
//! and unexpired key ([`check_index_signature`]; the host checks again,
//! once it knows the bundle's plugins, that the key is trusted for the
//! namespace of every one). Then every entry: listed in the index
//! (`BUNDLE_UNLISTED`), once (`BUNDLE_DUPLICATE`), with the listed size
//! (`BUNDLE_SIZE`) and blake3 (`BUNDLE_DIGEST`); every listed entry present
//! (`BUNDLE_TRUNCATED`).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Seek, Write};
use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::signing::{SecretKey, Signature};
use crate::trust::TrustPolicy;

/// The index format this QLP writes and reads.
pub const FORMAT: u32 = 1;

/// The largest index accepted; it is read before its signature is checked,
/// so it must be bounded (an entry line is about 150 bytes).
pub const MAX_INDEX_BYTES: u64 = 4 * 1024 * 1024;

/// The most entries a bundle may hold: three per plugin plus an artifact
/// leaves room for thousands of plugins.
pub const MAX_ENTRIES: usize = 10_000;

/// The largest entry accepted. Components are capped by the registry
/// (64 MiB); a compiled artifact can be several times its component.
pub const MAX_ENTRY_BYTES: u64 = 512 * 1024 * 1024;

pub const INDEX: &str = "index.json";
pub const INDEX_SIG: &str = "index.sig.json";
pub const TIERS: &str = "tiers.toml";
pub const LOCK: &str = "tiers.lock";
pub const TRUST: &str = "trust.toml";

/// Why a bundle was refused. Every variant names the entry at fault and
/// has a stable code ([`BundleError::code`]).
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("entry `{entry}`: {reason}")]
    Signature { entry: String, reason: String },
    #[error("entry `{entry}`: blake3 is {actual}, the index lists {expected}")]
    Digest {
        entry: String,
        expected: String,
        actual: String,
    },
    #[error("entry `{entry}`: {actual} bytes, the index lists {expected}")]
    Size {
        entry: String,
        expected: u64,
        actual: u64,
    },
    #[error("entry `{entry}`: {reason}")]
    Truncated { entry: String, reason: String },
    #[error("entry `{entry}` is not listed in the signed index")]
    Unlisted { entry: String },
    #[error("entry `{entry}` appears twice")]
    Duplicate { entry: String },
    #[error("entry `{entry}`: {reason}")]
    Malformed { entry: String, reason: String },
    #[error("entry `{entry}`: the component has no signed manifest beside it ({reason})")]
    Unsigned { entry: String, reason: String },
    #[error("entry `{entry}`: {reason}")]
    Plugin { entry: String, reason: String },
    #[error("entry `{entry}`: {reason}")]
    Tiers { entry: String, reason: String },
    #[error("entry `{entry}`: {reason}")]
    Lock { entry: String, reason: String },
    #[error("entry `{entry}`: {reason}")]
    Conflict { entry: String, reason: String },
}

impl BundleError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Signature { .. } => "BUNDLE_SIGNATURE",
            Self::Digest { .. } => "BUNDLE_DIGEST",
            Self::Size { .. } => "BUNDLE_SIZE",
            Self::Truncated { .. } => "BUNDLE_TRUNCATED",
            Self::Unlisted { .. } => "BUNDLE_UNLISTED",
            Self::Duplicate { .. } => "BUNDLE_DUPLICATE",
            Self::Malformed { .. } => "BUNDLE_MALFORMED",
            Self::Unsigned { .. } => "BUNDLE_UNSIGNED",
            Self::Plugin { .. } => "BUNDLE_PLUGIN",
            Self::Tiers { .. } => "BUNDLE_TIERS",
            Self::Lock { .. } => "BUNDLE_LOCK",
            Self::Conflict { .. } => "BUNDLE_CONFLICT",
        }
    }

    /// The entry the error is about.
    pub fn entry(&self) -> &str {
        match self {
            Self::Signature { entry, .. }
            | Self::Digest { entry, .. }
            | Self::Size { entry, .. }
            | Self::Truncated { entry, .. }
            | Self::Unlisted { entry }
            | Self::Duplicate { entry }
            | Self::Malformed { entry, .. }
            | Self::Unsigned { entry, .. }
            | Self::Plugin { entry, .. }
            | Self::Tiers { entry, .. }
            | Self::Lock { entry, .. }
            | Self::Conflict { entry, .. } => entry,
        }
    }
}

/// A refusal as an `anyhow` error whose message starts with the code.
pub fn refuse(e: BundleError) -> anyhow::Error {
    anyhow::anyhow!("{}: {e}", e.code())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexEntry {
    pub path: String,
    pub size: u64,
    pub blake3: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Index {
    pub format: u32,
    /// The `qlp` version that made the bundle (informational).
    pub qlp: String,
    /// The engine hash of the precompiled artifacts, if any (informational;
    /// each artifact's path carries its own).
    pub engine: Option<String>,
    pub entries: Vec<IndexEntry>,
}

/// What a path inside a bundle is; anything else is refused, so staging
/// never writes outside its directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    Tiers,
    Lock,
    Trust,
    Plugin(String),
    Precompiled { engine: String, digest: String },
}

/// A bundled package file's name without its extension (`.wasm` for a
/// component, `.yaml` for a rule pack).
pub fn stem(file: &str) -> &str {
    file.strip_suffix(".wasm")
        .or_else(|| file.strip_suffix(".yaml"))
        .unwrap_or(file)
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

pub fn classify(path: &str) -> Option<EntryKind> {
    match path {
        TIERS => return Some(EntryKind::Tiers),
        LOCK => return Some(EntryKind::Lock),
        TRUST => return Some(EntryKind::Trust),
        _ => {}
    }
    if let Some(file) = path.strip_prefix("plugins/") {
        let ok = !file.starts_with('.')
            && file
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
            && [".wasm", ".yaml", ".manifest.json", ".sig.json"]
                .iter()
                .any(|ext| file.len() > ext.len() && file.ends_with(ext));
        return ok.then(|| EntryKind::Plugin(file.to_owned()));
    }
    let rest = path.strip_prefix("precompiled/")?;
    let (engine, file) = rest.split_once('/')?;
    let digest = file.strip_suffix(".cwasm")?;
    (is_hex(engine, 16) && is_hex(digest, 64)).then(|| EntryKind::Precompiled {
        engine: engine.to_owned(),
        digest: digest.to_owned(),
    })
}

/// Checks the index signature: a known, unrevoked, unexpired key of
/// `policy` trusted for every name in `names`.
/// Returns whether the key is the operator's release key.
pub fn check_index_signature(
    policy: &TrustPolicy,
    index: &[u8],
    signature: &Signature,
    names: &[(String, String)],
) -> Result<bool, BundleError> {
    let bad = |reason: String| BundleError::Signature {
        entry: INDEX_SIG.to_owned(),
        reason,
    };
    let key = policy
        .keys()
        .find(|k| *k.key.id() == signature.key_id)
        .ok_or_else(|| {
            bad(format!(
                "the index is signed by key {}, which the trust policy does not know",
                signature.key_id
            ))
        })?;
    if policy.is_revoked(&signature.key_id) {
        return Err(bad(format!(
            "the index is signed by key {}, which the trust policy revokes",
            signature.key_id
        )));
    }
    if let Some(not_after) = key.not_after
        && std::time::SystemTime::now() > not_after
    {
        return Err(bad(format!(
            "the index is signed by key {}, which expired at {}",
            signature.key_id,
            humantime::format_rfc3339_seconds(not_after)
        )));
    }
    key.key
        .verify_bundle_index(index, signature)
        .map_err(|e| bad(format!("key {}: {e}", signature.key_id)))?;
    for (entry, name) in names {
        if !key.covers(name) {
            return Err(BundleError::Signature {
                entry: entry.clone(),
                reason: format!(
                    "the bundle is signed by key {}, which the trust policy does not trust for `{name}`",
                    signature.key_id
                ),
            });
        }
    }
    Ok(key.release)
}

fn open_archive(path: &Path) -> anyhow::Result<tar::Archive<Box<dyn Read>>> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut magic = [0u8; 2];
    let gzip = file.read_exact(&mut magic).is_ok() && magic == [0x1f, 0x8b];
    file.rewind()?;
    let reader: Box<dyn Read> = if gzip {
        Box::new(flate2::read::GzDecoder::new(std::io::BufReader::new(file)))
    } else {
        Box::new(std::io::BufReader::new(file))
    };
    Ok(tar::Archive::new(reader))
}

/// Reads one entry's data, at most `limit` bytes; a short read is a
/// truncation.
fn read_entry(
    entry: &mut tar::Entry<'_, Box<dyn Read>>,
    path: &str,
    limit: u64,
) -> Result<Vec<u8>, BundleError> {
    let size = entry.header().size().map_err(|e| BundleError::Malformed {
        entry: path.to_owned(),
        reason: e.to_string(),
    })?;
    if size > limit {
        return Err(BundleError::Malformed {
            entry: path.to_owned(),
            reason: format!("{size} bytes, over the {limit}-byte limit"),
        });
    }
    let mut bytes = Vec::with_capacity(size as usize);
    entry
        .take(limit)
        .read_to_end(&mut bytes)
        .map_err(|e| BundleError::Truncated {
            entry: path.to_owned(),
            reason: format!("cannot read it: {e}"),
        })?;
    if (bytes.len() as u64) < size {
        return Err(BundleError::Truncated {
            entry: path.to_owned(),
            reason: format!("the archive ends after {} of its {size} bytes", bytes.len()),
        });
    }
    Ok(bytes)
}

/// An archive entry with its path.
type NamedEntry<'a> = (String, tar::Entry<'a, Box<dyn Read>>);

/// The verified, staged contents of a bundle.
pub struct Staged {
    /// Holds `entries/PATH` for every entry, checked against the index.
    pub dir: tempfile::TempDir,
    pub index: Index,
    /// The index and its signature as the archive held them.
    pub index_bytes: Vec<u8>,
    pub sig_bytes: Vec<u8>,
}

/// Reads the archive into `staging`, checking the index signature and
/// every entry against the index.
pub fn stage(
    bundle: &Path,
    policy: &TrustPolicy,
    staging: tempfile::TempDir,
) -> anyhow::Result<Staged> {
    let mut archive = open_archive(bundle)?;
    let mut entries = archive
        .entries()
        .with_context(|| format!("cannot read {}", bundle.display()))?;
    let mut next = |last: &str| -> Result<Option<NamedEntry<'_>>, BundleError> {
        match entries.next() {
            None => Ok(None),
            Some(Err(e)) => Err(BundleError::Truncated {
                entry: last.to_owned(),
                reason: format!("the archive breaks off after it: {e}"),
            }),
            Some(Ok(entry)) => {
                let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
                if entry.header().entry_type() != tar::EntryType::Regular {
                    return Err(BundleError::Malformed {
                        entry: path,
                        reason: "not a regular file".into(),
                    });
                }
                Ok(Some((path, entry)))
            }
        }
    };
    let mut fixed = |want: &str, last: &str, limit: u64| -> Result<Vec<u8>, BundleError> {
        match next(last)? {
            Some((path, mut entry)) if path == want => read_entry(&mut entry, &path, limit),
            Some((path, _)) => Err(BundleError::Malformed {
                entry: path,
                reason: format!("`{want}` must come here; is this an install bundle?"),
            }),
            None => Err(BundleError::Truncated {
                entry: want.to_owned(),
                reason: "missing: the archive ends before it".into(),
            }),
        }
    };
    let index_bytes = fixed(INDEX, "(start of the archive)", MAX_INDEX_BYTES).map_err(refuse)?;
    let sig_bytes = fixed(
        INDEX_SIG,
        INDEX,
        crate::signing::MAX_SIGNATURES_BYTES as u64,
    )
    .map_err(refuse)?;
    let malformed = |entry: &str, reason: String| {
        refuse(BundleError::Malformed {
            entry: entry.to_owned(),
            reason,
        })
    };
    let index: Index =
        serde_json::from_slice(&index_bytes).map_err(|e| malformed(INDEX, e.to_string()))?;
    let signature: Signature =
        serde_json::from_slice(&sig_bytes).map_err(|e| malformed(INDEX_SIG, e.to_string()))?;
    // Signature first: nothing else in an unsigned index is worth reading.
    check_index_signature(policy, &index_bytes, &signature, &[]).map_err(refuse)?;
    if index.format != FORMAT {
        return Err(malformed(
            INDEX,
            format!("format {}, this qlp reads {FORMAT}", index.format),
        ));
    }
    if index.entries.len() > MAX_ENTRIES {
        return Err(malformed(INDEX, format!("over {MAX_ENTRIES} entries")));
    }
    let mut listed: BTreeMap<&str, &IndexEntry> = BTreeMap::new();
    for e in &index.entries {
        if classify(&e.path).is_none() {
            return Err(malformed(
                &e.path,
                "not a path an install bundle holds".into(),
            ));
        }
        if listed.insert(e.path.as_str(), e).is_some() {
            return Err(refuse(BundleError::Duplicate {
                entry: e.path.clone(),
            }));
        }
    }
    for required in [TIERS, LOCK] {
        if !listed.contains_key(required) {
            return Err(malformed(INDEX, format!("lists no `{required}`")));
        }
    }

    let mut last = INDEX_SIG.to_owned();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    while let Some((path, mut entry)) = next(&last).map_err(refuse)? {
        let Some(listing) = listed.get(path.as_str()) else {
            return Err(refuse(BundleError::Unlisted { entry: path }));
        };
        if !seen.insert(path.clone()) {
            return Err(refuse(BundleError::Duplicate { entry: path }));
        }
        let header_size = entry.header().size().unwrap_or(u64::MAX);
        if header_size != listing.size {
            return Err(refuse(BundleError::Size {
                entry: path,
                expected: listing.size,
                actual: header_size,
            }));
        }
        let bytes = read_entry(&mut entry, &path, MAX_ENTRY_BYTES).map_err(refuse)?;
        let actual = blake3::hash(&bytes).to_hex().to_string();
        if actual != listing.blake3 {
            return Err(refuse(BundleError::Digest {
                entry: path,
                expected: listing.blake3.clone(),
                actual,
            }));
        }
        let target = staging.path().join("entries").join(&path);
        std::fs::create_dir_all(target.parent().expect("entries have a parent"))?;
        std::fs::write(&target, &bytes)
            .with_context(|| format!("cannot stage {}", target.display()))?;
        last = path;
    }
    if let Some(missing) = listed.keys().find(|p| !seen.contains(**p)) {
        return Err(refuse(BundleError::Truncated {
            entry: (*missing).to_owned(),
            reason: "listed in the index but not in the archive".into(),
        }));
    }
    Ok(Staged {
        dir: staging,
        index,
        index_bytes,
        sig_bytes,
    })
}

/// Writes a bundle of `entries` (path and bytes, in order) to `out`
/// under an index signed with `key`, through a temporary file beside it,
/// so `out` is either complete or absent. Returns each entry's path and
/// size as written, the index and its signature first.
pub fn write(
    out: &Path,
    entries: Vec<(String, Vec<u8>)>,
    engine: Option<String>,
    key: &SecretKey,
) -> anyhow::Result<Vec<(String, u64)>> {
    let index = Index {
        format: FORMAT,
        qlp: env!("CARGO_PKG_VERSION").to_owned(),
        engine,
        entries: entries
            .iter()
            .map(|(path, bytes)| IndexEntry {
                path: path.clone(),
                size: bytes.len() as u64,
                blake3: blake3::hash(bytes).to_hex().to_string(),
            })
            .collect(),
    };
    let index_bytes = serde_json::to_vec_pretty(&index)?;
    let signature = key.sign_bundle_index(&index_bytes);
    let sig_bytes = serde_json::to_vec_pretty(&signature)?;

    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    let name = out.to_string_lossy();
    let gzip = name.ends_with(".gz") || name.ends_with(".tgz");
    let file = tmp.reopen()?;
    let writer: Box<dyn Write> = if gzip {
        Box::new(flate2::write::GzEncoder::new(
            file,
            flate2::Compression::default(),
        ))
    } else {
        Box::new(file)
    };
    let mut builder = tar::Builder::new(writer);
    let all = [
        (INDEX.to_owned(), index_bytes),
        (INDEX_SIG.to_owned(), sig_bytes),
    ]
    .into_iter()
    .chain(entries);
    let mut listing = vec![];
    for (path, bytes) in all {
        let mut header = tar::Header::new_ustar();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_cksum();
        builder.append_data(&mut header, &path, bytes.as_slice())?;
        listing.push((path, bytes.len() as u64));
    }
    let mut writer = builder.into_inner()?;
    writer.flush()?;
    drop(writer);
    tmp.persist(out)
        .with_context(|| format!("cannot write {}", out.display()))?;
    Ok(listing)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trust::TrustedKey;

    #[test]
    fn only_bundle_paths_are_accepted() {
        assert_eq!(classify("tiers.toml"), Some(EntryKind::Tiers));
        assert_eq!(
            classify("plugins/qlp_plugin_zip.sig.json"),
            Some(EntryKind::Plugin("qlp_plugin_zip.sig.json".into()))
        );
        let digest = "ab".repeat(32);
        assert!(matches!(
            classify(&format!("precompiled/0123456789abcdef/{digest}.cwasm")),
            Some(EntryKind::Precompiled { .. })
        ));
        for bad in [
            "../tiers.toml",
            "/etc/passwd",
            "plugins/../qlp.db",
            "plugins/.wasm",
            "plugins/a/b.wasm",
            "plugins/x.txt",
            "registry/packages.json",
            "precompiled/../x.cwasm",
            "precompiled/0123456789abcdef/../../qlp.db.cwasm",
            "index.json",
        ] {
            assert_eq!(classify(bad), None, "{bad} was accepted");
        }
    }

    fn policy_with(key: &SecretKey, namespaces: &[&str]) -> TrustPolicy {
        let mut policy = TrustPolicy::new();
        policy
            .add_key(TrustedKey::new(key.public_key(), namespaces).expect("key"))
            .expect("add");
        policy
    }

    #[test]
    fn the_index_key_must_be_trusted_for_every_bundled_plugin() {
        let key = SecretKey::from_seed(&[3; 32]);
        let index = br#"{"format":1}"#;
        let signature = key.sign_bundle_index(index);
        let names = vec![
            ("plugins/a.wasm".to_owned(), "acme/a".to_owned()),
            ("plugins/b.wasm".to_owned(), "qlp/zip".to_owned()),
        ];
        let code = |policy: &TrustPolicy, index: &[u8]| {
            check_index_signature(policy, index, &signature, &names)
                .map_err(|e| (e.code(), e.entry().to_owned()))
        };
        // Trusted, and told whether it is the release key.
        assert_eq!(
            code(&policy_with(&key, &["acme/*", "qlp/*"]), index),
            Ok(false)
        );
        let mut release = TrustPolicy::new();
        release
            .add_key(
                TrustedKey::new(key.public_key(), &["acme/*", "qlp/*"])
                    .expect("key")
                    .as_release(),
            )
            .expect("add");
        assert_eq!(code(&release, index), Ok(true));
        // Trusted for one namespace only: refused, naming the other plugin.
        assert_eq!(
            code(&policy_with(&key, &["acme/*"]), index),
            Err(("BUNDLE_SIGNATURE", "plugins/b.wasm".to_owned()))
        );
        // Another index, an unknown key, a revoked key, an expired key.
        let sig = Err(("BUNDLE_SIGNATURE", INDEX_SIG.to_owned()));
        let all = policy_with(&key, &["acme/*", "qlp/*"]);
        assert_eq!(code(&all, br#"{"format":2}"#), sig);
        assert_eq!(code(&TrustPolicy::new(), index), sig);
        let mut revoked = all.clone();
        revoked.revoke(key.id().clone());
        assert_eq!(code(&revoked, index), sig);
        let mut expired = TrustPolicy::new();
        expired
            .add_key(
                TrustedKey::new(key.public_key(), &["acme/*", "qlp/*"])
                    .expect("key")
                    .expiring(std::time::SystemTime::UNIX_EPOCH),
            )
            .expect("add");
        assert_eq!(code(&expired, index), sig);
    }
}
