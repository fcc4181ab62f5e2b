//! QLP's plugin store.
//!
//! Components are kept content-addressed: a blob's file name is the blake3
//! digest of its bytes, and every read re-hashes the bytes and refuses a blob
//! whose content no longer matches its name (a file changed on disk). An
//! index maps plugin name and version to a digest. Publishing a version that
//! already exists with other content is refused, so a name and version always
//! mean the same bytes.
//!
//! The host decides what a component *is* (it instantiates it and asks
//! `describe()`); this crate only stores what it is told and guarantees the
//! bytes it hands back are the bytes that were stored.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Errors of the plugin store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("i/o error on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the registry index {path} is corrupt: {source}")]
    CorruptIndex {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("blob {digest} is missing from the registry")]
    MissingBlob { digest: Digest },
    #[error("blob {expected} was changed on disk: its content now hashes to {actual}")]
    Tampered { expected: Digest, actual: Digest },
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
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A blake3 digest, written as 64 lower-case hex characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
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
        (hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
        .then(|| Self(hex.to_owned()))
    }
}

impl std::fmt::Display for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One published plugin version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub name: String,
    pub version: semver::Version,
    /// `agent`, `analyzer`, `validator`, `exporter` or `delivery`.
    pub kind: String,
    pub digest: Digest,
    pub size: u64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Index {
    /// name → version → entry
    plugins: BTreeMap<String, BTreeMap<semver::Version, Entry>>,
}

/// A registry kept in a directory: `blobs/<digest>` and `index.json`.
#[derive(Debug)]
pub struct Registry {
    root: PathBuf,
}

impl Registry {
    /// Opens (creating if needed) the registry rooted at `root`.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        let blobs = root.join("blobs");
        fs::create_dir_all(&blobs).map_err(|source| Error::Io {
            path: blobs,
            source,
        })?;
        Ok(Self { root })
    }

    fn index_path(&self) -> PathBuf {
        self.root.join("index.json")
    }

    fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.root.join("blobs").join(digest.as_str())
    }

    fn read_index(&self) -> Result<Index> {
        let path = self.index_path();
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|source| Error::CorruptIndex { path, source }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Index::default()),
            Err(source) => Err(Error::Io { path, source }),
        }
    }

    fn write_index(&self, index: &Index) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(index).expect("the index always serializes");
        write_atomically(&self.index_path(), &bytes)
    }

    /// Stores a component under its digest and records it as `name@version`.
    /// Publishing the same bytes again is a no-op.
    pub fn publish(
        &self,
        name: &str,
        version: &semver::Version,
        kind: &str,
        bytes: &[u8],
    ) -> Result<Entry> {
        validate_name(name)?;
        let digest = Digest::of(bytes);
        let mut index = self.read_index()?;
        if let Some(existing) = index.plugins.get(name).and_then(|v| v.get(version)) {
            if existing.digest != digest {
                return Err(Error::VersionConflict {
                    name: name.to_owned(),
                    version: version.to_string(),
                    existing: existing.digest.clone(),
                });
            }
            return Ok(existing.clone());
        }
        let path = self.blob_path(&digest);
        if !path.exists() {
            write_atomically(&path, bytes)?;
        }
        let entry = Entry {
            name: name.to_owned(),
            version: version.clone(),
            kind: kind.to_owned(),
            digest,
            size: bytes.len() as u64,
        };
        index
            .plugins
            .entry(name.to_owned())
            .or_default()
            .insert(version.clone(), entry.clone());
        self.write_index(&index)?;
        Ok(entry)
    }

    /// The newest version of every plugin.
    pub fn latest(&self) -> Result<Vec<Entry>> {
        Ok(self
            .read_index()?
            .plugins
            .into_values()
            .filter_map(|versions| versions.into_values().next_back())
            .collect())
    }

    /// Every published version of every plugin.
    pub fn list(&self) -> Result<Vec<Entry>> {
        Ok(self
            .read_index()?
            .plugins
            .into_values()
            .flat_map(|v| v.into_values())
            .collect())
    }

    /// The bytes of a blob, after checking they still hash to its digest.
    pub fn read_blob(&self, digest: &Digest) -> Result<Vec<u8>> {
        let path = self.blob_path(digest);
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::MissingBlob {
                    digest: digest.clone(),
                });
            }
            Err(source) => return Err(Error::Io { path, source }),
        };
        let actual = Digest::of(&bytes);
        if &actual != digest {
            return Err(Error::Tampered {
                expected: digest.clone(),
                actual,
            });
        }
        Ok(bytes)
    }
}

/// `namespace/name`, each part lower-case ASCII letters, digits and `-`,
/// starting with a letter.
fn validate_name(name: &str) -> Result<()> {
    let part_ok = |p: &str| {
        p.len() <= 64
            && p.starts_with(|c: char| c.is_ascii_lowercase())
            && p.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    };
    match name.split_once('/') {
        Some((ns, n)) if part_ok(ns) && part_ok(n) => Ok(()),
        _ => Err(Error::InvalidName(name.to_owned())),
    }
}

/// Writes through a temporary file in the same directory and renames it into
/// place, so a reader never sees a half-written file.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("blob"),
        std::process::id()
    ));
    let mut file = fs::File::create(&tmp).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.sync_all().map_err(io)?;
    fs::rename(&tmp, path).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> semver::Version {
        s.parse().unwrap()
    }

    #[test]
    fn publish_then_read_back_the_same_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let reg = Registry::open(dir.path()).unwrap();
        let entry = reg
            .publish("qlp/zip", &v("0.1.0"), "exporter", b"component")
            .unwrap();
        assert_eq!(entry.digest, Digest::of(b"component"));
        assert_eq!(reg.read_blob(&entry.digest).unwrap(), b"component");
        // Reopening sees the same index.
        let reg = Registry::open(dir.path()).unwrap();
        assert_eq!(reg.latest().unwrap(), vec![entry]);
    }

    #[test]
    fn latest_picks_the_highest_semver_not_the_last_published() {
        let dir = tempfile::tempdir().unwrap();
        let reg = Registry::open(dir.path()).unwrap();
        reg.publish("qlp/zip", &v("0.10.0"), "exporter", b"ten")
            .unwrap();
        reg.publish("qlp/zip", &v("0.9.0"), "exporter", b"nine")
            .unwrap();
        let latest = reg.latest().unwrap();
        assert_eq!(latest.len(), 1);
        assert_eq!(latest[0].version, v("0.10.0"));
        assert_eq!(reg.list().unwrap().len(), 2);
    }

    #[test]
    fn a_version_cannot_be_republished_with_other_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let reg = Registry::open(dir.path()).unwrap();
        reg.publish("qlp/zip", &v("1.0.0"), "exporter", b"one")
            .unwrap();
        // Same bytes: fine.
        reg.publish("qlp/zip", &v("1.0.0"), "exporter", b"one")
            .unwrap();
        let err = reg
            .publish("qlp/zip", &v("1.0.0"), "exporter", b"two")
            .unwrap_err();
        assert!(matches!(err, Error::VersionConflict { .. }), "{err}");
    }

    #[test]
    fn a_blob_changed_on_disk_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let reg = Registry::open(dir.path()).unwrap();
        let entry = reg
            .publish("acme/rules", &v("1.0.0"), "validator", b"original")
            .unwrap();
        fs::write(
            dir.path().join("blobs").join(entry.digest.as_str()),
            b"modified",
        )
        .unwrap();
        let err = reg.read_blob(&entry.digest).unwrap_err();
        assert!(matches!(err, Error::Tampered { .. }), "{err}");
    }

    #[test]
    fn names_must_be_namespaced() {
        let dir = tempfile::tempdir().unwrap();
        let reg = Registry::open(dir.path()).unwrap();
        for bad in [
            "zip",
            "/zip",
            "qlp/",
            "QLP/zip",
            "qlp/zip/extra",
            "qlp/../x",
            "qlp/9zip",
        ] {
            let err = reg.publish(bad, &v("1.0.0"), "exporter", b"x").unwrap_err();
            assert!(matches!(err, Error::InvalidName(_)), "{bad}: {err}");
        }
    }

    #[test]
    fn digests_parse_only_from_hex() {
        let d = Digest::of(b"x");
        assert_eq!(Digest::parse(d.as_str()), Some(d));
        assert_eq!(Digest::parse("../../etc/passwd"), None);
    }
}
