//! A signed plugin as files: `NAME.wasm` (or a rule pack's `NAME.yaml`)
//! with `NAME.manifest.json` (its registry manifest) and `NAME.sig.json`
//! (its signatures) beside it. This is how a package is built, pushed,
//! pulled, fetched and imported; nothing is read as a package without its
//! signature, and nothing is written but through a temporary file and a
//! rename.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, ensure};

use crate::{Manifest, Signature};

/// `NAME.manifest.json` and `NAME.sig.json` beside `NAME.wasm`.
pub fn sidecars(component: &Path) -> (PathBuf, PathBuf) {
    (
        component.with_extension("manifest.json"),
        component.with_extension("sig.json"),
    )
}

/// A signed plugin as it travels: the component, `NAME.manifest.json` and
/// `NAME.sig.json`, byte for byte, and the component's file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub file_name: String,
    pub component: Vec<u8>,
    pub manifest: Vec<u8>,
    pub signatures: Vec<u8>,
}

impl Package {
    /// Reads a signed component and its sidecars; refuses a component
    /// without them, with no signature, or whose manifest describes other
    /// bytes, since nothing unsigned is mirrored.
    pub fn read(component: &Path) -> anyhow::Result<Self> {
        let file_name = component
            .file_name()
            .and_then(|n| n.to_str())
            .filter(|n| {
                safe_file_name(n)
                    || n.strip_suffix(".yaml")
                        .is_some_and(|stem| safe_file_name(&format!("{stem}.wasm")))
            })
            .ok_or_else(|| {
                anyhow!(
                    "{} is not a component or rule pack file name (NAME.wasm or NAME.yaml, letters, digits, `.`, `_`, `-`)",
                    component.display()
                )
            })?
            .to_owned();
        let (manifest_path, sig_path) = sidecars(component);
        let read = |path: &Path| {
            std::fs::read(path).map_err(|e| {
                if e.kind() == std::io::ErrorKind::NotFound {
                    anyhow!(
                        "UNSIGNED: {} has no {} beside it; sign it with `qlp plugin sign` before pushing",
                        component.display(),
                        path.display()
                    )
                } else {
                    anyhow!("cannot read {}: {e}", path.display())
                }
            })
        };
        let package = Self {
            file_name,
            component: std::fs::read(component)
                .with_context(|| format!("cannot read {}", component.display()))?,
            manifest: read(&manifest_path)?,
            signatures: read(&sig_path)?,
        };
        let (manifest, signatures) = package.parse()?;
        ensure!(
            !signatures.is_empty(),
            "UNSIGNED: {} carries no signature; sign it with `qlp plugin sign` before pushing",
            sig_path.display()
        );
        ensure!(
            manifest.digests.sha256 == crate::Sha256Digest::of(&package.component)
                && manifest.digests.blake3 == crate::Digest::of(&package.component),
            "DIGEST_MISMATCH: {} describes other bytes than {}; sign the component again",
            manifest_path.display(),
            component.display()
        );
        Ok(package)
    }

    /// The manifest and signatures, parsed.
    pub fn parse(&self) -> anyhow::Result<(Manifest, Vec<Signature>)> {
        let manifest = Manifest::from_json(&self.manifest).map_err(coded)?;
        let signatures = Signature::list_from_json(&self.signatures).map_err(coded)?;
        Ok((manifest, signatures))
    }

    /// Writes the three files into `dir`, each through a temporary file in
    /// `dir` and a rename; the component goes last, since a plugin
    /// directory is scanned for `*.wasm`. Returns the component's path.
    pub fn write_to(&self, dir: &Path) -> anyhow::Result<PathBuf> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let component = dir.join(&self.file_name);
        let (manifest, sigs) = sidecars(&component);
        let files = [
            (manifest, &self.manifest),
            (sigs, &self.signatures),
            (component.clone(), &self.component),
        ];
        let mut staged = Vec::new();
        for (path, bytes) in &files {
            let mut tmp = tempfile::NamedTempFile::new_in(dir)
                .with_context(|| format!("cannot create a file in {}", dir.display()))?;
            std::io::Write::write_all(&mut tmp, bytes)
                .and_then(|()| tmp.as_file().sync_all())
                .with_context(|| format!("cannot write {}", path.display()))?;
            staged.push((tmp, path));
        }
        for (tmp, path) in staged {
            tmp.persist(path)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        Ok(component)
    }
}

/// Whether `name` may be written as a component file: `NAME.wasm`, no
/// directory part, nothing hidden.
pub(crate) fn safe_file_name(name: &str) -> bool {
    name.len() <= 128
        && name.len() > ".wasm".len()
        && name.ends_with(".wasm")
        && !name.starts_with(['.', '-'])
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

/// A registry error shown with its stable code.
pub(crate) fn coded(e: crate::Error) -> anyhow::Error {
    anyhow!("{}: {e}", e.code())
}
