//! Rule packs as registry packages: an enterprise's `qlp/rules` YAML,
//! signed, versioned, published, yanked, mirrored and bundled like a plugin
//! (manifest kind `rules`), and assigned to tiers (the tiers file's
//! `rules`) and to tenants (their policy's `rules`).
//!
//! A pack is checked whole whenever it is signed, published, imported or
//! loaded: a broken rule refuses the package with the rule and the reason
//! named (`INVALID_RULES`), so no pack reaches an intent broken. When an
//! intent runs, the `qlp/rules` validator of its tier gets the tier's packs
//! and then its tenant's as the configuration values `pack.1`, `pack.2`…
//! (besides a `pack` the operator configured for the plugin itself).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use qlp_registry::manifest::{Kind, Manifest};
use qlp_registry::signing::{SecretKey, Signature};
use qlp_registry::trust::TrustPolicy;
use qlp_registry::{Registry, check_wit};
use semver::Version;

use crate::packages::{RULES_WIT, sidecars};

pub use crate::tiers::{MAX_PACKS, RULES_PLUGIN};

/// The refusal code of a pack that does not compile.
pub const INVALID_RULES: &str = "INVALID_RULES";

/// A verified, compiled-once pack of the registry.
#[derive(Debug)]
pub struct RulePack {
    pub name: String,
    pub version: Version,
    /// The blake3 of its YAML, as its manifest names it.
    pub digest: String,
    pub text: String,
}

/// The configuration key the `n`th pack (from 1) reaches `qlp/rules`
/// under.
pub fn config_key(n: usize) -> String {
    format!("pack.{n}")
}

/// Checks a pack's bytes: UTF-8, within the rule engine's limits
/// ([`qlp_rules::pack::MAX_PACK_BYTES`], rules, patterns), and every rule
/// compiles. The error names the first broken rule and why.
pub fn check(bytes: &[u8]) -> Result<&str, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "the pack is not UTF-8".to_owned())?;
    qlp_rules::Pack::parse(text).map_err(|e| e.to_string())?;
    Ok(text)
}

/// Verifies a rules package as it is published or imported: the trust
/// policy (digests, signatures, keys, namespaces), the contract version,
/// then the pack itself. A refusal starts with its stable code.
pub fn verify(
    policy: &TrustPolicy,
    manifest: &Manifest,
    signatures: &[Signature],
    pack: &[u8],
) -> anyhow::Result<qlp_registry::Verified> {
    anyhow::ensure!(
        manifest.kind == Kind::Rules,
        "MANIFEST_MISMATCH: `{}` is a {} package, not a rule pack",
        manifest.name,
        manifest.kind
    );
    let verified = policy
        .verify(manifest, signatures, pack, std::time::SystemTime::now())
        .map_err(|e| anyhow::anyhow!("{}: {e}", e.code()))?;
    check_wit(&manifest.wit, &RULES_WIT).map_err(|e| anyhow::anyhow!("{}: {e}", e.code()))?;
    check(pack).map_err(|e| anyhow::anyhow!("{INVALID_RULES}: {}: {e}", manifest.name))?;
    Ok(verified)
}

/// Loads one version of a rules package, verified again against the
/// policy as of now and compiled.
pub fn load_one(
    registry: &Registry,
    policy: &TrustPolicy,
    name: &str,
    version: &Version,
) -> anyhow::Result<RulePack> {
    let package = registry.load_package(name, version, policy)?;
    anyhow::ensure!(
        package.manifest.kind == Kind::Rules,
        "`{name}` is a {} package, not a rule pack",
        package.manifest.kind
    );
    let text = check(&package.component).map_err(|e| anyhow::anyhow!("{INVALID_RULES}: {e}"))?;
    Ok(RulePack {
        name: name.to_owned(),
        version: version.clone(),
        digest: package.manifest.digests.blake3.to_string(),
        text: text.to_owned(),
    })
}

/// `qlp rules sign`: checks the pack, then writes its manifest (kind
/// `rules`) and a signature beside it, adding to signatures already made
/// over the same manifest.
pub fn sign(
    pack: &Path,
    name: &str,
    version: Version,
    description: &str,
    key: &SecretKey,
) -> anyhow::Result<(PathBuf, PathBuf)> {
    let bytes = std::fs::read(pack).with_context(|| format!("cannot read {}", pack.display()))?;
    check(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", pack.display()))?;
    let mut manifest = Manifest::new(name, version, Kind::Rules, RULES_WIT, &bytes)?;
    manifest.description = description.to_owned();
    manifest.validate()?;
    crate::packages::write_signed(pack, &manifest, key)
}

/// The signed rule packs of a plugin directory: `NAME.yaml` files with a
/// `NAME.manifest.json` beside them, by name. Other YAML is not a package.
pub fn packs_in(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read plugin directory {}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml") && sidecars(p).0.is_file())
        .collect();
    paths.sort();
    Ok(paths)
}

/// Imports every signed pack of `dirs` that the policy accepts; the others
/// are logged with the reason and skipped, as plugins are
/// ([`crate::packages::import`]).
pub fn import(registry: &Registry, policy: &TrustPolicy, dirs: &[PathBuf]) -> anyhow::Result<()> {
    for dir in dirs {
        for path in packs_in(dir)? {
            match import_one(registry, policy, &path) {
                Ok(entry) => {
                    tracing::info!(pack = %entry.name, version = %entry.version, digest = %entry.digest, "rule pack imported")
                }
                Err(e) => {
                    tracing::error!(path = %path.display(), error = format!("{e:#}"), "rule pack not imported")
                }
            }
        }
    }
    Ok(())
}

/// Imports one signed pack of a plugin directory into the registry.
pub fn import_one(
    registry: &Registry,
    policy: &TrustPolicy,
    path: &Path,
) -> anyhow::Result<qlp_registry::PackageEntry> {
    let read = |p: &Path| std::fs::read(p).with_context(|| format!("cannot read {}", p.display()));
    let (manifest_path, sig_path) = sidecars(path);
    let pack = read(path)?;
    let manifest = Manifest::from_json(&read(&manifest_path)?)?;
    let signatures = Signature::list_from_json(&read(&sig_path)?)?;
    verify(policy, &manifest, &signatures, &pack)?;
    Ok(registry.publish_package(&manifest, &signatures, &pack, policy)?)
}

/// The packs of a catalog, shared by the runs that use them.
pub type Packs = Vec<Arc<RulePack>>;

#[cfg(test)]
mod tests {
    use super::*;

    const PACK: &str = "rules:\n  - id: acme/no-print\n    message: no print\n    severity: low\n    languages: [python]\n    pattern: print(...)\n";

    #[test]
    fn a_pack_is_checked_whole_and_a_broken_rule_named() {
        assert_eq!(check(PACK.as_bytes()), Ok(PACK));
        let broken = PACK.replace("severity: low", "severity: fatal");
        let error = check(broken.as_bytes()).unwrap_err();
        assert!(error.contains("`acme/no-print`"), "{error}");
        assert!(check(&[0xff, 0xfe]).unwrap_err().contains("UTF-8"));
        let big = format!("{PACK}#{}", "x".repeat(qlp_rules::pack::MAX_PACK_BYTES));
        assert!(check(big.as_bytes()).unwrap_err().contains("bytes"));
    }

    #[test]
    fn packs_reach_the_validator_under_numbered_keys() {
        assert_eq!(config_key(1), "pack.1");
        assert_eq!(config_key(12), "pack.12");
    }
}
