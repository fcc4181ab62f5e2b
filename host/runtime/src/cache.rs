//! The on-disk cache of compiled components.
//!
//! Compiling a component with Cranelift takes from milliseconds to seconds;
//! a restart should not pay it again. Artifacts are stored as
//! `<blake3 of the component>-<engine hash>.cwasm`, where the engine hash
//! covers wasmtime's version and every setting that affects compiled code
//! (`Engine::precompile_compatibility_hash`), so an artifact compiled by
//! another configuration is never loaded: it simply is not found.

use std::hash::{Hash, Hasher};
use std::path::PathBuf;

use wasmtime::Engine;
use wasmtime::component::Component;

/// The file an artifact of the component `digest` (its blake3) compiled
/// by the engine configuration `engine_hash` is stored under.
pub fn file_name(digest: &str, engine_hash: &str) -> String {
    format!("{digest}-{engine_hash}.cwasm")
}

#[derive(Clone)]
pub struct CompileCache {
    dir: PathBuf,
    engine_hash: String,
}

/// Feeds `Hash` output into blake3, so the engine hash is stable across
/// processes (std's `DefaultHasher` makes no such promise).
struct Blake3Hasher(blake3::Hasher);

impl Hasher for Blake3Hasher {
    fn finish(&self) -> u64 {
        let bytes = self.0.finalize();
        u64::from_le_bytes(bytes.as_bytes()[..8].try_into().expect("8 bytes"))
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

impl CompileCache {
    pub fn new(dir: PathBuf, engine: &Engine) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        let mut hasher = Blake3Hasher(blake3::Hasher::new());
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let engine_hash = hasher.0.finalize().to_hex()[..16].to_owned();
        Ok(Self { dir, engine_hash })
    }

    pub(crate) fn path(&self, digest: &str) -> PathBuf {
        self.dir.join(file_name(digest, &self.engine_hash))
    }

    /// This engine configuration's hash, as it appears in file names.
    pub fn engine_hash(&self) -> &str {
        &self.engine_hash
    }

    /// The compiled component for `digest`, if this engine configuration
    /// compiled it before.
    pub fn load(&self, engine: &Engine, digest: &str) -> Option<Component> {
        let path = self.path(digest);
        if !path.exists() {
            return None;
        }
        // SAFETY: the file is one this cache wrote from `Component::serialize`
        // under a name that binds it to this engine configuration, inside a
        // directory only the server writes to.
        match unsafe { Component::deserialize_file(engine, &path) } {
            Ok(component) => Some(component),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "ignoring unreadable compiled artifact");
                None
            }
        }
    }

    /// Compiles `bytes` (whose blake3 is `digest`) and stores the result.
    pub fn compile_and_store(
        &self,
        engine: &Engine,
        digest: &str,
        bytes: &[u8],
    ) -> Result<Component, String> {
        let path = self.path(digest);
        let component = Component::new(engine, bytes).map_err(|e| format!("{e:#}"))?;
        match component.serialize() {
            Ok(compiled) => {
                if let Err(e) = crate::durable::replace_file(&path, &compiled) {
                    tracing::warn!(path = %path.display(), error = %e, "could not cache a compiled component");
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not serialize a compiled component"),
        }
        Ok(component)
    }
}
