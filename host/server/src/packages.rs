//! Plugin packages on the host side: signing a built component, importing
//! signed components into the registry, and loading them back, so nothing
//! unsigned or tampered with runs.
//!
//! A component `NAME.wasm` travels with two files beside it:
//! `NAME.manifest.json` (the registry manifest) and `NAME.sig.json` (its
//! signatures); `qlp plugin sign` writes both. The manifest must agree with
//! what the component says of itself in `describe()`, and the trust policy
//! decides at import and again at every load.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use qlp_registry::manifest::{Capability as ManifestCapability, Kind, Manifest};
use qlp_registry::signing::{SecretKey, Signature};
use qlp_registry::trust::TrustPolicy;
use qlp_registry::{Registry, check_wit, check_wit_served};
use semver::Version;

use qlp_contract::model::Capability;
use qlp_runtime::{Plugin, Runtime};

/// The `qlp:plugin` versions this host serves (its runtime's
/// `Contract::ALL`), oldest first.
pub const SERVED_WIT: [Version; 2] = [Version::new(0, 1, 0), Version::new(0, 2, 0)];

/// The contract version a rule pack's manifest names: a pack is data read
/// by `qlp/rules`, which it has always been written for.
pub const RULES_WIT: Version = Version::new(0, 1, 0);

/// The version of `qlp:plugin` a loaded component targets.
pub fn wit_of(plugin: &Plugin) -> Version {
    Version::parse(plugin.contract.version()).expect("contract versions are semantic versions")
}

pub use qlp_registry::package::sidecars;

fn capability(c: &Capability) -> anyhow::Result<ManifestCapability> {
    let text = match c {
        Capability::DirectoryRead => "directory-read".to_owned(),
        Capability::DirectoryWrite => "directory-write".to_owned(),
        Capability::Http(target) => format!("http:{target}"),
        Capability::Secret(key) => format!("secret:{key}"),
        Capability::Llm => "llm".to_owned(),
    };
    text.parse().map_err(|e| anyhow::anyhow!("{e}"))
}

/// The manifest of a loaded component, from its own `describe()`.
pub fn manifest_of(plugin: &Plugin, bytes: &[u8]) -> anyhow::Result<Manifest> {
    let version = Version::parse(&plugin.info.version)?;
    let mut manifest = Manifest::new(
        &plugin.info.name,
        version,
        Kind::from(plugin.info.kind),
        wit_of(plugin),
        bytes,
    )?;
    manifest.description = plugin.info.description.clone();
    for c in &plugin.info.capabilities {
        manifest
            .capabilities
            .insert(capability(c).with_context(|| format!("{} declares", plugin.info.name))?);
    }
    Ok(manifest)
}

/// Refuses a manifest that says something else than the component.
pub fn check_matches(manifest: &Manifest, plugin: &Plugin, bytes: &[u8]) -> anyhow::Result<()> {
    let own = manifest_of(plugin, bytes)?;
    let mismatch = |what: &str, m: String, c: String| {
        anyhow::anyhow!("the manifest's {what} is `{m}` but the component declares `{c}`")
    };
    if manifest.name != own.name {
        return Err(mismatch("name", manifest.name.clone(), own.name));
    }
    if manifest.version != own.version {
        return Err(mismatch(
            "version",
            manifest.version.to_string(),
            own.version.to_string(),
        ));
    }
    if manifest.kind != own.kind {
        return Err(mismatch(
            "kind",
            format!("{:?}", manifest.kind),
            format!("{:?}", own.kind),
        ));
    }
    if manifest.capabilities != own.capabilities {
        return Err(mismatch(
            "capabilities",
            format!("{:?}", manifest.capabilities),
            format!("{:?}", own.capabilities),
        ));
    }
    if manifest.digests != own.digests {
        bail!("the manifest's digests are not those of the component");
    }
    check_contract(manifest, plugin)?;
    Ok(())
}

/// Checks that a manifest names the contract its component targets (a
/// 0.1.0 component under a manifest saying 0.2.0 is refused with
/// `WIT_INCOMPATIBLE`, both versions named).
pub fn check_contract(manifest: &Manifest, plugin: &Plugin) -> qlp_registry::Result<()> {
    check_wit(&manifest.wit, &wit_of(plugin))
}

/// Verifies a package as `qlp serve` does before it imports one: the
/// trust policy (digests, signatures, keys, namespaces), then that the
/// component loads and its manifest says what it declares. A refusal
/// starts with the registry's stable code, e.g. `UNKNOWN_KEY: …`.
pub fn verify(
    runtime: &Runtime,
    policy: &TrustPolicy,
    manifest: &Manifest,
    signatures: &[Signature],
    component: &[u8],
) -> anyhow::Result<(qlp_registry::Verified, Plugin)> {
    let verified = policy
        .verify(
            manifest,
            signatures,
            component,
            std::time::SystemTime::now(),
        )
        .map_err(|e| anyhow::anyhow!("{}: {e}", e.code()))?;
    check_wit_served(&manifest.wit, &SERVED_WIT)
        .map_err(|e| anyhow::anyhow!("{}: {e}", e.code()))?;
    let plugin = runtime
        .load(component)
        .map_err(|e| anyhow::anyhow!("INVALID_COMPONENT: the component does not load: {e:#}"))?;
    check_contract(manifest, &plugin).map_err(|e| anyhow::anyhow!("{}: {e}", e.code()))?;
    check_matches(manifest, &plugin, component)
        .map_err(|e| anyhow::anyhow!("MANIFEST_MISMATCH: {e:#}"))?;
    Ok((verified, plugin))
}

/// `qlp plugin sign`: writes the manifest and a signature beside
/// `component`, adding to signatures already there (a rotation signs with
/// both keys).
pub fn sign(
    runtime: &Runtime,
    component: &Path,
    key: &SecretKey,
) -> anyhow::Result<(PathBuf, PathBuf)> {
    let bytes =
        std::fs::read(component).with_context(|| format!("cannot read {}", component.display()))?;
    let plugin = runtime
        .load(&bytes)
        .with_context(|| format!("{} does not load", component.display()))?;
    let manifest = manifest_of(&plugin, &bytes)?;
    write_signed(component, &manifest, key)
}

/// Writes `manifest` and a signature by `key` beside `package` (a
/// component or a rule pack), keeping the signatures already made over
/// the same manifest by other keys (a rotation signs with both).
pub fn write_signed(
    package: &Path,
    manifest: &Manifest,
    key: &SecretKey,
) -> anyhow::Result<(PathBuf, PathBuf)> {
    let (manifest_path, sig_path) = sidecars(package);
    let mut signatures = match std::fs::read(&sig_path) {
        Ok(existing)
            if std::fs::read(&manifest_path).ok().as_deref()
                == Some(manifest.to_json_pretty().as_bytes()) =>
        {
            Signature::list_from_json(&existing)?
        }
        _ => vec![],
    };
    signatures.retain(|s| s.key_id != *key.id());
    signatures.push(key.sign(manifest));
    std::fs::write(&manifest_path, manifest.to_json_pretty())?;
    std::fs::write(&sig_path, Signature::list_to_json(&signatures))?;
    Ok((manifest_path, sig_path))
}

/// The components (`*.wasm`) of a plugin directory, by name.
pub fn components_in(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read plugin directory {}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "wasm"))
        .collect();
    paths.sort();
    Ok(paths)
}

/// Imports every component of `dirs` that the policy accepts; the others
/// are logged with the rule that refused them and skipped.
pub fn import(
    runtime: &Runtime,
    registry: &Registry,
    policy: &TrustPolicy,
    dirs: &[PathBuf],
) -> anyhow::Result<()> {
    for dir in dirs {
        for path in components_in(dir)? {
            match import_one(runtime, registry, policy, &path) {
                Ok(entry) => {
                    tracing::info!(plugin = %entry.name, version = %entry.version, digest = %entry.digest, "plugin imported")
                }
                Err(e) => {
                    tracing::error!(path = %path.display(), error = format!("{e:#}"), "plugin not imported")
                }
            }
        }
    }
    Ok(())
}

fn import_one(
    runtime: &Runtime,
    registry: &Registry,
    policy: &TrustPolicy,
    path: &Path,
) -> anyhow::Result<qlp_registry::PackageEntry> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let plugin = runtime.load(&bytes)?;
    let (manifest_path, sig_path) = sidecars(path);
    let (manifest, signatures) = match std::fs::read(&manifest_path) {
        Ok(text) => {
            let manifest = Manifest::from_json(&text)?;
            let signatures = match std::fs::read(&sig_path) {
                Ok(text) => Signature::list_from_json(&text)?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => vec![],
                Err(e) => {
                    return Err(e).with_context(|| format!("cannot read {}", sig_path.display()));
                }
            };
            (manifest, signatures)
        }
        // No manifest: the component is unsigned; the policy may still let
        // it through for a development namespace it names.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            (manifest_of(&plugin, &bytes)?, vec![])
        }
        Err(e) => {
            return Err(e).with_context(|| format!("cannot read {}", manifest_path.display()));
        }
    };
    check_matches(&manifest, &plugin, &bytes)?;
    Ok(registry.publish_package(&manifest, &signatures, &bytes, policy)?)
}

/// Loads one version of a package, re-checking its digests and signatures
/// against the policy before compiling it, and its manifest against what
/// the component declares.
pub fn load_one(
    runtime: &Runtime,
    registry: &Registry,
    policy: &TrustPolicy,
    name: &str,
    version: &Version,
) -> anyhow::Result<Plugin> {
    let package = registry.load_package(name, version, policy)?;
    let plugin = runtime.load(&package.component)?;
    check_matches(&package.manifest, &plugin, &package.component)?;
    Ok(plugin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_versions_served_are_the_runtimes_contracts() {
        let runtime: Vec<Version> = qlp_runtime::Contract::ALL
            .map(|c| Version::parse(c.version()).unwrap())
            .into();
        assert_eq!(runtime, SERVED_WIT);
    }
}
