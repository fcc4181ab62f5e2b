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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::SecretKey;

    /// A package of `bytes` named `file_name`, signed by a new key.
    fn signed(file_name: &str, bytes: &[u8]) -> Package {
        let manifest = Manifest::new(
            "acme/check",
            semver::Version::new(1, 0, 0),
            crate::Kind::Validator,
            semver::Version::new(0, 1, 0),
            bytes,
        )
        .unwrap();
        let signature = SecretKey::generate().unwrap().sign(&manifest);
        Package {
            file_name: file_name.to_owned(),
            component: bytes.to_vec(),
            manifest: manifest.to_json_pretty().into_bytes(),
            signatures: Signature::list_to_json(&[signature]).into_bytes(),
        }
    }

    fn refusal(path: &Path) -> String {
        format!("{:#}", Package::read(path).unwrap_err())
    }

    #[test]
    fn a_written_package_is_three_files_that_read_back_as_they_were() {
        let dir = tempfile::tempdir().unwrap();
        let package = signed("acme_check.wasm", b"\0asm component bytes");
        let path = package.write_to(&dir.path().join("plugins")).unwrap();
        assert_eq!(path, dir.path().join("plugins/acme_check.wasm"));
        let (manifest, signatures) = sidecars(&path);
        assert_eq!(
            manifest,
            dir.path().join("plugins/acme_check.manifest.json")
        );
        assert_eq!(signatures, dir.path().join("plugins/acme_check.sig.json"));
        assert_eq!(std::fs::read(&manifest).unwrap(), package.manifest);
        assert_eq!(std::fs::read(&signatures).unwrap(), package.signatures);
        let mut names: Vec<_> = std::fs::read_dir(dir.path().join("plugins"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "acme_check.manifest.json",
                "acme_check.sig.json",
                "acme_check.wasm"
            ],
            "no temporary file is left behind"
        );
        assert_eq!(Package::read(&path).unwrap(), package);
    }

    #[test]
    fn nothing_unsigned_or_describing_other_bytes_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let package = signed("acme_check.wasm", b"the signed bytes");
        let path = package.write_to(dir.path()).unwrap();
        let (manifest, signatures) = sidecars(&path);

        std::fs::write(&signatures, "[]").unwrap();
        let refused = refusal(&path);
        assert!(
            refused.starts_with("UNSIGNED:") && refused.contains("no signature"),
            "{refused}"
        );

        std::fs::remove_file(&signatures).unwrap();
        let refused = refusal(&path);
        assert!(
            refused.starts_with("UNSIGNED:") && refused.contains("sig.json"),
            "{refused}"
        );

        let path = package.write_to(dir.path()).unwrap();
        std::fs::remove_file(&manifest).unwrap();
        let refused = refusal(&path);
        assert!(
            refused.starts_with("UNSIGNED:") && refused.contains("manifest.json"),
            "{refused}"
        );

        let path = package.write_to(dir.path()).unwrap();
        std::fs::write(&path, b"other bytes").unwrap();
        assert!(
            refusal(&path).starts_with("DIGEST_MISMATCH:"),
            "{}",
            refusal(&path)
        );
    }

    #[test]
    fn only_plain_component_and_rule_pack_names_are_packages() {
        let dir = tempfile::tempdir().unwrap();
        let rules = signed("acme_rules.yaml", b"rules: []");
        let path = rules.write_to(dir.path()).unwrap();
        assert_eq!(Package::read(&path).unwrap(), rules, "a rule pack");
        for name in [
            ".hidden.wasm",
            "-dash.wasm",
            "space d.wasm",
            "check.txt",
            ".wasm",
        ] {
            let refused = refusal(&dir.path().join(name));
            assert!(
                refused.contains("is not a component or rule pack file name"),
                "{name}: {refused}"
            );
        }
        assert!(safe_file_name(&format!("{}.wasm", "a".repeat(123))));
        assert!(!safe_file_name(&format!("{}.wasm", "a".repeat(124))));
        assert!(safe_file_name("a.wasm"));
    }
}
