//! The [`Registry`]: packages kept as manifest + signatures + component,
//! all three as blobs in a [`BlobStore`], and an index naming them.
//!
//! Layout of a registry directory:
//!
//! - `blobs/<blake3>`: components, canonical manifests and signature lists
//!   (with [`Registry::open`]; another [`BlobStore`] may hold them instead);
//! - `packages.json`: name → version → `{kind, wit, component, size,
//!   manifest, signatures, yanked}`, the last three digests and a flag;
//! - `.lock`: held while an index is rewritten, so concurrent publishers
//!   (threads or processes) do not lose each other's updates.
//!
//! The index is a pointer, not a source of truth: [`Registry::load_package`]
//! re-hashes every blob, checks the manifest names the package it was filed
//! under, and re-runs [`TrustPolicy::verify`], so whoever can write the
//! directory can make loads fail but cannot make a forged package load.
//! Yanking hides a version from resolution ([`crate::resolve`]); its blobs
//! stay and it still loads by exact version.

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;
use std::time::SystemTime;

use semver::Version;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::blob::{BlobStore, DirBlobStore, MAX_BLOB_BYTES, get_verified, write_atomically};
use crate::digest::Digest;
use crate::manifest::{Kind, Manifest};
use crate::signing::{Signature, check_signature_count};
use crate::trust::{TrustPolicy, Verified};
use crate::{Error, Result};

/// A published package, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageEntry {
    pub name: String,
    pub version: Version,
    pub kind: Kind,
    /// The `qlp:plugin` version it targets.
    pub wit: Version,
    /// blake3 of the component.
    pub digest: Digest,
    pub size: u64,
    pub yanked: bool,
}

/// A package loaded and verified by [`Registry::load_package`].
#[derive(Debug, Clone)]
pub struct Package {
    pub entry: PackageEntry,
    pub manifest: Manifest,
    pub signatures: Vec<Signature>,
    /// The component's bytes, matching both digests of the manifest.
    pub component: Vec<u8>,
    /// Why the policy accepted it.
    pub verified: Verified,
}

/// The index's file name in a registry directory: rewritten (atomically)
/// by every publish and yank, so its contents are the registry's version.
pub const INDEX_FILE: &str = "packages.json";

/// The current `packages.json` format.
const PACKAGE_INDEX_FORMAT: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PackageIndex {
    format: u32,
    /// name → version → record
    pub(crate) packages: BTreeMap<String, BTreeMap<Version, PackageRecord>>,
}

impl Default for PackageIndex {
    fn default() -> Self {
        Self {
            format: PACKAGE_INDEX_FORMAT,
            packages: BTreeMap::new(),
        }
    }
}

impl PackageIndex {
    pub(crate) fn get(&self, name: &str, version: &Version) -> Option<&PackageRecord> {
        self.packages.get(name).and_then(|v| v.get(version))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PackageRecord {
    pub(crate) kind: Kind,
    pub(crate) wit: Version,
    /// blake3 of the component.
    pub(crate) component: Digest,
    pub(crate) size: u64,
    /// blake3 of the manifest's canonical bytes.
    pub(crate) manifest: Digest,
    /// blake3 of the signatures file.
    pub(crate) signatures: Digest,
    pub(crate) yanked: bool,
}

impl PackageRecord {
    fn entry(&self, name: &str, version: &Version) -> PackageEntry {
        PackageEntry {
            name: name.to_owned(),
            version: version.clone(),
            kind: self.kind,
            wit: self.wit.clone(),
            digest: self.component.clone(),
            size: self.size,
            yanked: self.yanked,
        }
    }
}

/// A registry: an index in a directory and blobs in a [`BlobStore`].
#[derive(Debug)]
pub struct Registry {
    root: PathBuf,
    blobs: Box<dyn BlobStore>,
}

impl Registry {
    /// Opens (creating if needed) the registry rooted at `root`, with its
    /// blobs in `root/blobs`.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        let blobs = DirBlobStore::open(root.join("blobs"))?;
        Ok(Self {
            root,
            blobs: Box::new(blobs),
        })
    }

    /// Opens the registry with its index in `root` and its blobs in `blobs`.
    pub fn with_blob_store(root: impl Into<PathBuf>, blobs: Box<dyn BlobStore>) -> Result<Self> {
        let root = root.into();
        fs::create_dir_all(&root).map_err(|source| Error::Io {
            path: root.clone(),
            source,
        })?;
        Ok(Self { root, blobs })
    }

    pub fn blob_store(&self) -> &dyn BlobStore {
        self.blobs.as_ref()
    }

    /// The bytes of a blob, after checking they still hash to its digest.
    pub fn read_blob(&self, digest: &Digest) -> Result<Vec<u8>> {
        get_verified(self.blobs.as_ref(), digest)
    }

    // --- Signed packages --------------------------------------------------

    /// Publishes a package: verifies it against `policy` (digests, and a
    /// trusted signature or an `allow_unsigned` rule), then stores the
    /// component, the canonical manifest and the signatures, and indexes
    /// them. Publishing the identical package again is a no-op; the same
    /// name and version with another component or manifest is a
    /// [`Error::VersionConflict`].
    pub fn publish_package(
        &self,
        manifest: &Manifest,
        signatures: &[Signature],
        component: &[u8],
        policy: &TrustPolicy,
    ) -> Result<PackageEntry> {
        if component.len() as u64 > MAX_BLOB_BYTES {
            return Err(Error::ComponentTooLarge {
                size: component.len() as u64,
                limit: MAX_BLOB_BYTES,
            });
        }
        policy.verify(manifest, signatures, component, SystemTime::now())?;
        let canonical = manifest.canonical_bytes();
        let manifest_digest = Digest::of(&canonical);
        let (name, version) = (&manifest.name, &manifest.version);
        self.with_lock(|| {
            let mut index = self.read_packages()?;
            if let Some(existing) = index.get(name, version) {
                if existing.component == manifest.digests.blake3
                    && existing.manifest == manifest_digest
                {
                    return Ok(existing.entry(name, version));
                }
                return Err(Error::VersionConflict {
                    name: name.clone(),
                    version: version.to_string(),
                    existing: existing.component.clone(),
                });
            }
            let record = PackageRecord {
                kind: manifest.kind,
                wit: manifest.wit.clone(),
                component: self.blobs.put(component)?,
                size: component.len() as u64,
                manifest: self.blobs.put(&canonical)?,
                signatures: self
                    .blobs
                    .put(Signature::list_to_json(signatures).as_bytes())?,
                yanked: false,
            };
            let entry = record.entry(name, version);
            index
                .packages
                .entry(name.clone())
                .or_default()
                .insert(version.clone(), record);
            self.write_json(INDEX_FILE, &index)?;
            Ok(entry)
        })
    }

    /// Adds a signature to a published package (for key rotation: sign with
    /// the new key before the old one expires). The new signature must pass
    /// `policy` on its own; one by the same key replaces the old one.
    pub fn add_signature(
        &self,
        name: &str,
        version: &Version,
        signature: Signature,
        policy: &TrustPolicy,
    ) -> Result<Verified> {
        self.with_lock(|| {
            let mut index = self.read_packages()?;
            let record = index
                .get(name, version)
                .cloned()
                .ok_or_else(|| not_found(name, version))?;
            let manifest = self.read_manifest(name, version, &record)?;
            let component = get_verified(self.blobs.as_ref(), &record.component)?;
            let verified = policy.verify(
                &manifest,
                std::slice::from_ref(&signature),
                &component,
                SystemTime::now(),
            )?;
            let mut signatures = self.read_signatures(&record)?;
            signatures.retain(|s| s.key_id != signature.key_id);
            signatures.push(signature);
            check_signature_count(&signatures)?;
            let digest = self
                .blobs
                .put(Signature::list_to_json(&signatures).as_bytes())?;
            if let Some(r) = index
                .packages
                .get_mut(name)
                .and_then(|v| v.get_mut(version))
            {
                r.signatures = digest;
            }
            self.write_json(INDEX_FILE, &index)?;
            Ok(verified)
        })
    }

    /// Hides `name@version` from resolution. Its blobs stay, and loading it
    /// by exact version still works; a lock naming it is refused.
    pub fn yank(&self, name: &str, version: &Version) -> Result<()> {
        self.set_yanked(name, version, true)
    }

    /// Undoes [`Registry::yank`].
    pub fn unyank(&self, name: &str, version: &Version) -> Result<()> {
        self.set_yanked(name, version, false)
    }

    fn set_yanked(&self, name: &str, version: &Version, yanked: bool) -> Result<()> {
        self.with_lock(|| {
            let mut index = self.read_packages()?;
            let record = index
                .packages
                .get_mut(name)
                .and_then(|v| v.get_mut(version))
                .ok_or_else(|| not_found(name, version))?;
            if record.yanked != yanked {
                record.yanked = yanked;
                self.write_json(INDEX_FILE, &index)?;
            }
            Ok(())
        })
    }

    /// Every published version of every package, yanked ones included.
    pub fn packages(&self) -> Result<Vec<PackageEntry>> {
        Ok(self
            .read_packages()?
            .packages
            .iter()
            .flat_map(|(name, versions)| versions.iter().map(move |(v, r)| r.entry(name, v)))
            .collect())
    }

    /// The index entry of one package version. Not verified: use
    /// [`Registry::load_package`] before running it.
    pub fn package(&self, name: &str, version: &Version) -> Result<PackageEntry> {
        self.read_packages()?
            .get(name, version)
            .map(|r| r.entry(name, version))
            .ok_or_else(|| not_found(name, version))
    }

    /// Loads `name@version` and verifies it again: every blob re-hashed,
    /// the manifest checked against the index, and the whole package
    /// against `policy` as of now (a key expired or revoked since
    /// publishing refuses it).
    pub fn load_package(
        &self,
        name: &str,
        version: &Version,
        policy: &TrustPolicy,
    ) -> Result<Package> {
        let index = self.read_packages()?;
        let record = index
            .get(name, version)
            .ok_or_else(|| not_found(name, version))?;
        let manifest = self.read_manifest(name, version, record)?;
        let signatures = self.read_signatures(record)?;
        let component = get_verified(self.blobs.as_ref(), &record.component)?;
        let verified = policy.verify(&manifest, &signatures, &component, SystemTime::now())?;
        Ok(Package {
            entry: PackageEntry {
                name: manifest.name.clone(),
                version: manifest.version.clone(),
                kind: manifest.kind,
                wit: manifest.wit.clone(),
                digest: manifest.digests.blake3.clone(),
                size: component.len() as u64,
                yanked: record.yanked,
            },
            manifest,
            signatures,
            component,
            verified,
        })
    }

    /// The manifest a record points at, checked to be the one it was filed
    /// under.
    fn read_manifest(
        &self,
        name: &str,
        version: &Version,
        record: &PackageRecord,
    ) -> Result<Manifest> {
        let bytes = get_verified(self.blobs.as_ref(), &record.manifest)?;
        let manifest = Manifest::from_json(&bytes)?;
        if manifest.name != name
            || &manifest.version != version
            || manifest.kind != record.kind
            || manifest.wit != record.wit
        {
            return Err(Error::IndexMismatch {
                indexed: format!("{name}@{version} ({}, wit {})", record.kind, record.wit),
                found: format!(
                    "{}@{} ({}, wit {})",
                    manifest.name, manifest.version, manifest.kind, manifest.wit
                ),
            });
        }
        Ok(manifest)
    }

    fn read_signatures(&self, record: &PackageRecord) -> Result<Vec<Signature>> {
        let bytes = get_verified(self.blobs.as_ref(), &record.signatures)?;
        Signature::list_from_json(&bytes)
    }

    pub(crate) fn read_packages(&self) -> Result<PackageIndex> {
        let index: PackageIndex = self.read_json(INDEX_FILE)?.unwrap_or_default();
        if index.format != PACKAGE_INDEX_FORMAT {
            return Err(Error::CorruptIndex {
                path: self.root.join(INDEX_FILE),
                reason: format!(
                    "format {} is not {PACKAGE_INDEX_FORMAT}; a newer QLP wrote it",
                    index.format
                ),
            });
        }
        Ok(index)
    }

    // --- Files --------------------------------------------------------------

    fn read_json<T: DeserializeOwned>(&self, file: &str) -> Result<Option<T>> {
        let path = self.root.join(file);
        match fs::read(&path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes)
                    .map(Some)
                    .map_err(|e| Error::CorruptIndex {
                        path,
                        reason: e.to_string(),
                    })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(Error::Io { path, source }),
        }
    }

    fn write_json<T: Serialize>(&self, file: &str, value: &T) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(value).expect("an index always serializes");
        write_atomically(&self.root.join(file), &bytes)
    }

    /// Runs `f` holding an exclusive lock on `root/.lock`.
    fn with_lock<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let path = self.root.join(".lock");
        let io = |source| Error::Io {
            path: path.clone(),
            source,
        };
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io)?;
        file.lock().map_err(io)?;
        let result = f();
        // Closing the file releases the lock even if this fails.
        let _ = file.unlock();
        result
    }
}

fn not_found(name: &str, version: &Version) -> Error {
    Error::PackageNotFound {
        name: name.to_owned(),
        version: version.to_string(),
    }
}

#[cfg(test)]
mod tests;
