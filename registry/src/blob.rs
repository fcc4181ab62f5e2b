//! Where bytes live: the [`BlobStore`] trait, keyed by blake3 digest, and
//! [`DirBlobStore`], a directory of files named by digest. An object-store
//! backend implements the same three methods.
//!
//! A backend is *not* trusted to return the right bytes: the registry
//! re-hashes everything it reads ([`get_verified`]), so a backend needs no
//! integrity checks of its own and a compromised one can only make reads
//! fail.

use std::fmt;
use std::fs;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::digest::Digest;
use crate::{Error, Result};

/// The largest blob the registry reads: above the host's 50 MiB component
/// limit, so every loadable component fits, and it bounds what reading a
/// file planted in storage may allocate.
pub const MAX_BLOB_BYTES: u64 = 64 * 1024 * 1024;

/// Content-addressed storage.
pub trait BlobStore: Send + Sync + fmt::Debug {
    /// Stores `bytes` under their blake3 digest and returns it. Storing the
    /// same bytes again is harmless.
    fn put(&self, bytes: &[u8]) -> Result<Digest>;

    /// The bytes stored under `digest`, or `None`. May refuse blobs over
    /// [`MAX_BLOB_BYTES`] with [`Error::BlobTooLarge`].
    fn get(&self, digest: &Digest) -> Result<Option<Vec<u8>>>;

    /// Whether something is stored under `digest`.
    fn has(&self, digest: &Digest) -> Result<bool>;
}

/// The bytes under `digest`, after checking they hash to it.
pub fn get_verified(store: &dyn BlobStore, digest: &Digest) -> Result<Vec<u8>> {
    let bytes = store.get(digest)?.ok_or_else(|| Error::MissingBlob {
        digest: digest.clone(),
    })?;
    if bytes.len() as u64 > MAX_BLOB_BYTES {
        return Err(Error::BlobTooLarge {
            digest: digest.clone(),
            limit: MAX_BLOB_BYTES,
        });
    }
    let actual = Digest::of(&bytes);
    if &actual != digest {
        return Err(Error::Tampered {
            expected: digest.clone(),
            actual,
        });
    }
    Ok(bytes)
}

/// Blobs as files `<dir>/<digest>`, written through a temporary file and a
/// rename so a reader never sees half a blob.
#[derive(Debug, Clone)]
pub struct DirBlobStore {
    dir: PathBuf,
}

impl DirBlobStore {
    /// Opens (creating if needed) the store in `dir`.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(|source| Error::Io {
            path: dir.clone(),
            source,
        })?;
        Ok(Self { dir })
    }

    /// Where the blob for `digest` is (or would be) kept. A [`Digest`] is
    /// always 64 hex characters, so this never leaves `dir`.
    pub fn path(&self, digest: &Digest) -> PathBuf {
        self.dir.join(digest.as_str())
    }
}

impl BlobStore for DirBlobStore {
    fn put(&self, bytes: &[u8]) -> Result<Digest> {
        let digest = Digest::of(bytes);
        // Rewrite a blob that is missing or was changed in place; leave a
        // good one alone.
        let intact = match get_verified(self, &digest) {
            Ok(_) => true,
            Err(
                Error::MissingBlob { .. } | Error::Tampered { .. } | Error::BlobTooLarge { .. },
            ) => false,
            Err(e) => return Err(e),
        };
        if !intact {
            write_atomically(&self.path(&digest), bytes)?;
        }
        Ok(digest)
    }

    fn get(&self, digest: &Digest) -> Result<Option<Vec<u8>>> {
        let path = self.path(digest);
        let io = |source| Error::Io {
            path: path.clone(),
            source,
        };
        let file = match fs::File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(e)),
        };
        let too_large = || Error::BlobTooLarge {
            digest: digest.clone(),
            limit: MAX_BLOB_BYTES,
        };
        if file.metadata().map_err(io)?.len() > MAX_BLOB_BYTES {
            return Err(too_large());
        }
        // The file may grow after the check: never read past the limit.
        let mut bytes = Vec::new();
        file.take(MAX_BLOB_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        if bytes.len() as u64 > MAX_BLOB_BYTES {
            return Err(too_large());
        }
        Ok(Some(bytes))
    }

    fn has(&self, digest: &Digest) -> Result<bool> {
        let path = self.path(digest);
        match fs::metadata(&path) {
            Ok(meta) => Ok(meta.is_file()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(source) => Err(Error::Io { path, source }),
        }
    }
}

/// Writes through a temporary file in the same directory and renames it into
/// place, so a reader never sees a half-written file. The temporary name is
/// unique per process and call, so concurrent writers do not collide.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp-{}-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("blob"),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_get_has() {
        let dir = tempfile::tempdir().unwrap();
        let store = DirBlobStore::open(dir.path().join("blobs")).unwrap();
        let d = store.put(b"hello").unwrap();
        assert_eq!(d, Digest::of(b"hello"));
        assert!(store.has(&d).unwrap());
        assert_eq!(get_verified(&store, &d).unwrap(), b"hello");
        let missing = Digest::of(b"absent");
        assert!(!store.has(&missing).unwrap());
        assert!(store.get(&missing).unwrap().is_none());
        assert!(matches!(
            get_verified(&store, &missing),
            Err(Error::MissingBlob { .. })
        ));
    }

    #[test]
    fn a_changed_blob_is_refused_and_healed_by_putting_it_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = DirBlobStore::open(dir.path()).unwrap();
        let d = store.put(b"original").unwrap();
        fs::write(store.path(&d), b"changed").unwrap();
        assert!(matches!(
            get_verified(&store, &d),
            Err(Error::Tampered { .. })
        ));
        store.put(b"original").unwrap();
        assert_eq!(get_verified(&store, &d).unwrap(), b"original");
    }

    #[test]
    fn an_oversized_planted_file_is_refused_without_reading_it_all() {
        let dir = tempfile::tempdir().unwrap();
        let store = DirBlobStore::open(dir.path()).unwrap();
        let d = Digest::of(b"small");
        let file = fs::File::create(store.path(&d)).unwrap();
        file.set_len(MAX_BLOB_BYTES + 10).unwrap();
        assert!(matches!(store.get(&d), Err(Error::BlobTooLarge { .. })));
    }
}
