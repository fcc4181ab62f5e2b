//! Air-gapped install bundles: `qlp bundle create` packs on a connected
//! machine everything a server needs, `qlp bundle import` verifies it
//! offline and installs it into a data directory.
//!
//! The format (the archive's layout, its signed index, and reading it back
//! with every entry checked) is `qlp_registry::bundle`; this module gathers
//! what goes in and decides what comes out.
//!
//! # What import checks, before anything is activated
//!
//! 1. The index signature, against the operator's policy (`--trust`): the
//!    key must be known, unrevoked and unexpired, and trusted for the
//!    namespace of *every* plugin in the bundle. The index vouches for the
//!    tiers file and the precompiled native code as well as for the
//!    plugins, so a key trusted only for `acme/*` cannot ship a bundle
//!    that installs `qlp/*` plugins or code compiled from them.
//! 2. Every entry: listed in the index (`BUNDLE_UNLISTED`), once
//!    (`BUNDLE_DUPLICATE`), with the listed size (`BUNDLE_SIZE`) and blake3
//!    (`BUNDLE_DIGEST`); every listed entry present (`BUNDLE_TRUNCATED`)
//!    (both 1 and 2 by `qlp_registry::bundle::stage`).
//! 3. Every plugin as `qlp serve` checks one at import
//!    ([`packages::verify`]): the policy, then the component against its
//!    manifest (`BUNDLE_PLUGIN`, or `BUNDLE_UNSIGNED` without signatures);
//!    every rule pack likewise, every rule compiled
//!    ([`rulepacks::verify`]);
//!    the tiers against the plugins (`BUNDLE_TIERS`); the lock against the
//!    tiers and plugins (`BUNDLE_LOCK`); no version already installed with
//!    other contents (`BUNDLE_CONFLICT`).
//!
//! A bundle signed by a key the policy marks `release = true` (the
//! operator's release key) installs everything below. One signed by any
//! other trusted key (a vendor's, trusted only for its namespace) installs
//! only its packages: the tiers and lock in force stay, and its
//! precompiled native code is skipped, the components being compiled from
//! their verified bytes instead.
//!
//! Entries are staged in a temporary directory inside the data directory;
//! only when every check passed are the plugins published into
//! `DATA_DIR/registry`, the tiers and lock written to `DATA_DIR/tiers.toml`
//! (which `qlp serve` runs when given no `--tiers`) and `DATA_DIR/tiers.lock`
//! (the lock `qlp serve` reads with `--locked`, in the format it writes),
//! and the precompiled artifacts whose engine hash is the
//! running engine's copied into the compile cache; the others are skipped
//! with a log line and the components are compiled on first load.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::Context;
use qlp_registry::manifest::Manifest;
use qlp_registry::resolve::Resolved;
use qlp_registry::signing::{SecretKey, Signature};
use qlp_registry::trust::TrustPolicy;
use qlp_registry::{Digest, Lock, Registry};

use qlp_registry::bundle::{
    BundleError, EntryKind, INDEX, INDEX_SIG, LOCK, TIERS, TRUST, check_index_signature, classify,
    refuse, stage, stem,
};

use crate::packages;
use crate::rulepacks;
use crate::tiers::Tiers;
use qlp_contract::model::PluginKind;
use qlp_runtime::{Runtime, RuntimeOptions};

/// Where `qlp serve` finds the tiers file and lock an import wrote, when
/// it is given no `--tiers`.
pub fn installed_tiers(data_dir: &Path) -> (PathBuf, PathBuf) {
    (data_dir.join(TIERS), data_dir.join(LOCK))
}

/// What `qlp bundle create` is given.
pub struct CreateOptions {
    pub out: PathBuf,
    pub plugin_dirs: Vec<PathBuf>,
    pub tiers: PathBuf,
    pub trust: PathBuf,
    pub key: SecretKey,
    pub precompile: bool,
    /// The engine that precompiles; `None` for the one `qlp serve` builds
    /// for this tiers file (fuel metering on when a tier caps fuel).
    pub engine: Option<RuntimeOptions>,
    /// A compile cache to reuse (`qlp serve --cache-dir`); a scratch one
    /// when `None`.
    pub cache_dir: Option<PathBuf>,
}

/// One package (a component or a rule pack) going into a bundle.
struct Packed {
    file: String,
    manifest: Manifest,
    signatures: Vec<Signature>,
    component: Vec<u8>,
    manifest_bytes: Vec<u8>,
    sig_bytes: Vec<u8>,
}

/// Reads the package at `path` with its sidecars, not yet verified:
/// refused when unsigned (`BUNDLE_UNSIGNED`), when its file name cannot be
/// bundled, or when `packed` already holds its name or file name.
fn read_package(path: &Path, packed: &[Packed]) -> anyhow::Result<Packed> {
    let component = read_file(path)?;
    let (manifest_path, sig_path) = packages::sidecars(path);
    let (manifest_bytes, sig_bytes) = match (
        std::fs::read(&manifest_path),
        std::fs::read(&sig_path),
    ) {
        (Ok(m), Ok(s)) => (m, s),
        _ => anyhow::bail!(
            "BUNDLE_UNSIGNED: {} is not signed (no {} and {} beside it): sign it with `qlp plugin sign` or `qlp rules sign`",
            path.display(),
            manifest_path.display(),
            sig_path.display()
        ),
    };
    let manifest = Manifest::from_json(&manifest_bytes)
        .with_context(|| format!("{}", manifest_path.display()))?;
    let signatures =
        Signature::list_from_json(&sig_bytes).with_context(|| format!("{}", sig_path.display()))?;
    anyhow::ensure!(
        !signatures.is_empty(),
        "BUNDLE_UNSIGNED: {} carries no signature",
        sig_path.display()
    );
    let file = path
        .file_name()
        .and_then(|f| f.to_str())
        .context("a package file name is not UTF-8")?
        .to_owned();
    anyhow::ensure!(
        classify(&format!("plugins/{file}")).is_some(),
        "{}: a bundled file name may only use letters, digits, `.`, `_` and `-`",
        path.display()
    );
    if let Some(other) = packed
        .iter()
        .find(|p| p.manifest.name == manifest.name || stem(&p.file) == stem(&file))
    {
        anyhow::bail!(
            "{} and {} are both `{}` (or share a file name): give each package once",
            other.file,
            path.display(),
            manifest.name
        );
    }
    Ok(Packed {
        file,
        manifest,
        signatures,
        component,
        manifest_bytes,
        sig_bytes,
    })
}

/// The lock of `tiers` over the plugins `by_name` (name → version,
/// blake3), as `qlp serve` writes it ([`crate::catalog`]): per tier, every
/// plugin its stages, exporter and delivery run. Fails naming a plugin
/// the tiers run but `by_name` lacks, or whose version a tier's (or the
/// planner's) requirement refuses.
fn lock_of(
    tiers: &Tiers,
    by_name: &BTreeMap<String, (semver::Version, Digest)>,
) -> Result<Lock, String> {
    let find = |owner: &str, name: &str, req: Option<&semver::VersionReq>| {
        let (version, blake3) = by_name.get(name).ok_or_else(|| {
            format!("{owner} runs plugin `{name}`, which the bundle does not carry")
        })?;
        match req {
            Some(req) if !req.matches(version) => Err(format!(
                "{owner} wants `{name}@{req}`, but the bundle carries {version}"
            )),
            _ => Ok((version.clone(), blake3.clone())),
        }
    };
    if let Some(planner) = &tiers.planner {
        find("the planner", &planner.plugin, planner.version.as_ref())?;
    }
    let mut lock = Lock::new();
    for (tier_name, tier) in &tiers.tiers {
        for name in tier.plugin_names().into_iter().chain(&tier.rules) {
            let owner = format!("tier `{tier_name}`");
            let (version, blake3) = find(&owner, name, tier.versions.get(name.as_str()))?;
            lock.insert(
                tier_name,
                Resolved {
                    name: name.clone(),
                    version,
                    blake3,
                },
            )
            .map_err(|e| e.to_string())?;
        }
    }
    Ok(lock)
}

fn read_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// The engine `qlp serve` builds for `tiers`.
fn serve_engine(tiers: &Tiers) -> RuntimeOptions {
    RuntimeOptions {
        fuel: tiers.uses_fuel(),
        ..RuntimeOptions::default()
    }
}

/// `qlp bundle create`: verifies every plugin of the plugin directories
/// against the trust policy, and writes the bundle (through a temporary
/// file, so `out` is either complete or absent). Returns the index.
pub fn create(options: &CreateOptions) -> anyhow::Result<Vec<(String, u64)>> {
    let tiers_text = std::fs::read_to_string(&options.tiers)
        .with_context(|| format!("cannot read {}", options.tiers.display()))?;
    let tiers = Tiers::parse(&tiers_text, &options.tiers.display().to_string())?;
    let trust_text = read_file(&options.trust)?;
    let policy = TrustPolicy::load(&options.trust)
        .with_context(|| format!("cannot load the trust policy {}", options.trust.display()))?;
    let scratch = tempfile::tempdir()?;
    let runtime = Runtime::with_options(
        options
            .cache_dir
            .clone()
            .unwrap_or_else(|| scratch.path().join("cache")),
        options.engine.unwrap_or_else(|| serve_engine(&tiers)),
    )?;

    let mut packed: Vec<Packed> = vec![];
    let mut kinds: BTreeMap<String, PluginKind> = BTreeMap::new();
    for dir in &options.plugin_dirs {
        for path in packages::components_in(dir)? {
            let p = read_package(&path, &packed)?;
            let (_, plugin) =
                packages::verify(&runtime, &policy, &p.manifest, &p.signatures, &p.component)
                    .with_context(|| format!("{} is refused", path.display()))?;
            kinds.insert(p.manifest.name.clone(), plugin.info.kind);
            packed.push(p);
        }
    }
    anyhow::ensure!(
        !packed.is_empty(),
        "no plugin (`*.wasm`) in the plugin directories"
    );
    for dir in &options.plugin_dirs {
        for path in rulepacks::packs_in(dir)? {
            let p = read_package(&path, &packed)?;
            rulepacks::verify(&policy, &p.manifest, &p.signatures, &p.component)
                .with_context(|| format!("{} is refused", path.display()))?;
            packed.push(p);
        }
    }
    tiers.check_plugins(|_, name| kinds.get(name).copied())?;
    let by_name = packed
        .iter()
        .map(|p| {
            (
                p.manifest.name.clone(),
                (
                    p.manifest.version.clone(),
                    p.manifest.digests.blake3.clone(),
                ),
            )
        })
        .collect();
    let lock = lock_of(&tiers, &by_name).map_err(anyhow::Error::msg)?;
    // The bundle would be refused at import by this same policy otherwise.
    let names: Vec<(String, String)> = packed
        .iter()
        .map(|p| (p.file.clone(), p.manifest.name.clone()))
        .collect();
    let probe = options.key.sign_bundle_index(b"");
    check_index_signature(&policy, b"", &probe, &names).map_err(|e| {
        anyhow::anyhow!(
            "the signing key is not one {} trusts for every plugin: {e}",
            options.trust.display()
        )
    })?;

    let mut entries: Vec<(String, Vec<u8>)> = vec![];
    for p in &packed {
        let stem = stem(&p.file);
        entries.push((format!("plugins/{}", p.file), p.component.clone()));
        entries.push((
            format!("plugins/{stem}.manifest.json"),
            p.manifest_bytes.clone(),
        ));
        entries.push((format!("plugins/{stem}.sig.json"), p.sig_bytes.clone()));
    }
    entries.push((TIERS.to_owned(), tiers_text.into_bytes()));
    entries.push((LOCK.to_owned(), lock.to_toml().into_bytes()));
    entries.push((TRUST.to_owned(), trust_text));
    let engine = if options.precompile {
        for p in packed.iter().filter(|p| p.manifest.kind.is_component()) {
            // `verify` loaded every component: its artifact is in the cache.
            let digest = p.manifest.digests.blake3.as_str();
            let artifact = read_file(&runtime.artifact_path(digest))?;
            entries.push((
                format!("precompiled/{}/{digest}.cwasm", runtime.engine_hash()),
                artifact,
            ));
        }
        Some(runtime.engine_hash().to_owned())
    } else {
        None
    };
    qlp_registry::bundle::write(&options.out, entries, engine, &options.key)
}

/// What `qlp bundle import` is given.
pub struct ImportOptions {
    pub data_dir: PathBuf,
    pub trust: PathBuf,
    /// The compile cache (`qlp serve --cache-dir`); `DATA_DIR/cache` when
    /// `None`.
    pub cache_dir: Option<PathBuf>,
}

/// What an import installed.
#[derive(Debug)]
pub struct Imported {
    /// name, version, blake3 of each plugin.
    pub plugins: Vec<(String, semver::Version, String)>,
    /// Precompiled artifacts copied into the cache.
    pub artifacts_installed: usize,
    /// Precompiled artifacts skipped: of another engine configuration, or
    /// in a bundle not signed by a release key.
    pub artifacts_skipped: usize,
    /// Whether the bundle's tiers and lock were installed: only a bundle
    /// signed by the operator's release key replaces them.
    pub tiers_installed: bool,
}

/// `qlp bundle import`: verifies the whole bundle offline, then installs
/// it into the data directory (see the module documentation). On any
/// refusal the data directory is as it was, bar an empty directory
/// created for it.
pub fn import(bundle: &Path, options: &ImportOptions) -> anyhow::Result<Imported> {
    let policy = TrustPolicy::load(&options.trust)
        .with_context(|| format!("cannot load the trust policy {}", options.trust.display()))?;
    let data = &options.data_dir;
    std::fs::create_dir_all(data)
        .with_context(|| format!("cannot create data directory {}", data.display()))?;
    let staging = tempfile::Builder::new()
        .prefix(".bundle-import-")
        .tempdir_in(data)
        .with_context(|| format!("cannot stage in {}", data.display()))?;
    let staged = stage(bundle, &policy, staging)?;
    let root = staged.dir.path().join("entries");
    let signature: Signature = serde_json::from_slice(&staged.sig_bytes)?;

    // Plugins: the names first, for the signing key's namespaces.
    let mut components: Vec<String> = vec![];
    let mut artifacts: Vec<(String, String, String)> = vec![];
    for e in &staged.index.entries {
        match classify(&e.path) {
            Some(EntryKind::Plugin(file)) if file.ends_with(".wasm") || file.ends_with(".yaml") => {
                components.push(file)
            }
            Some(EntryKind::Precompiled { engine, digest }) => {
                artifacts.push((e.path.clone(), engine, digest))
            }
            _ => {}
        }
    }
    let mut packages = vec![];
    for file in &components {
        let entry = format!("plugins/{file}");
        let stem = stem(file);
        let (manifest_entry, sig_entry) = (
            format!("plugins/{stem}.manifest.json"),
            format!("plugins/{stem}.sig.json"),
        );
        let unsigned = |reason: String| {
            refuse(BundleError::Unsigned {
                entry: entry.clone(),
                reason,
            })
        };
        let manifest_bytes = std::fs::read(root.join(&manifest_entry))
            .map_err(|_| unsigned(format!("no `{manifest_entry}`")))?;
        let sig_bytes = std::fs::read(root.join(&sig_entry))
            .map_err(|_| unsigned(format!("no `{sig_entry}`")))?;
        let manifest = Manifest::from_json(&manifest_bytes).map_err(|e| {
            refuse(BundleError::Plugin {
                entry: manifest_entry.clone(),
                reason: format!("{}: {e}", e.code()),
            })
        })?;
        let signatures = Signature::list_from_json(&sig_bytes).map_err(|e| {
            refuse(BundleError::Plugin {
                entry: sig_entry.clone(),
                reason: format!("{}: {e}", e.code()),
            })
        })?;
        if signatures.is_empty() {
            return Err(unsigned(format!("`{sig_entry}` holds no signature")));
        }
        packages.push((entry, manifest, signatures));
    }
    let names: Vec<(String, String)> = packages
        .iter()
        .map(|(entry, m, _)| (entry.clone(), m.name.clone()))
        .collect();
    let release =
        check_index_signature(&policy, &staged.index_bytes, &signature, &names).map_err(refuse)?;
    if !release {
        tracing::warn!(key = %signature.key_id, "the bundle is not signed by a release key: only its packages are installed, not its tiers, lock or native code");
    }

    let tiers_text = std::fs::read_to_string(root.join(TIERS)).map_err(|e| {
        refuse(BundleError::Tiers {
            entry: TIERS.into(),
            reason: e.to_string(),
        })
    })?;
    let tiers = Tiers::parse(&tiers_text, "the bundle's tiers.toml").map_err(|e| {
        refuse(BundleError::Tiers {
            entry: TIERS.into(),
            reason: e.to_string(),
        })
    })?;
    // The engine `qlp serve` will build for these tiers; its compile cache
    // for the checks is a scratch one, thrown away with the staging.
    let runtime = Runtime::with_options(staged.dir.path().join("cache"), serve_engine(&tiers))?;
    let bundled: BTreeSet<&str> = packages
        .iter()
        .map(|(_, m, _)| m.digests.blake3.as_str())
        .collect();
    let mut install = vec![];
    let mut skipped = 0;
    for (entry, engine, digest) in artifacts {
        if !bundled.contains(digest.as_str()) {
            return Err(refuse(BundleError::Malformed {
                entry,
                reason: "an artifact of no component the bundle carries".into(),
            }));
        }
        if !release {
            // Native code runs outside the sandbox's checks of a component:
            // only the operator's release key may vouch for it.
            skipped += 1;
        } else if engine == runtime.engine_hash() {
            // Verification below loads it instead of compiling: it is code
            // the signed index vouches for, for this very engine.
            std::fs::copy(root.join(&entry), runtime.artifact_path(&digest))?;
            install.push((entry, digest));
        } else {
            tracing::info!(
                %entry,
                bundle_engine = %engine,
                engine = %runtime.engine_hash(),
                "precompiled artifact is for another engine configuration: skipped, the component is compiled on first load"
            );
            skipped += 1;
        }
    }

    let mut kinds: BTreeMap<String, PluginKind> = BTreeMap::new();
    let mut names: BTreeSet<String> = BTreeSet::new();
    let mut verified = vec![];
    for (entry, manifest, signatures) in packages {
        let component = std::fs::read(root.join(&entry))?;
        let refused = |e: anyhow::Error| {
            refuse(BundleError::Plugin {
                entry: entry.clone(),
                reason: format!("{e:#}"),
            })
        };
        // The file's extension says what the manifest must say.
        let pack = entry.ends_with(".yaml");
        if pack == manifest.kind.is_component() {
            return Err(refused(anyhow::anyhow!(
                "MANIFEST_MISMATCH: the manifest's kind is {}",
                manifest.kind
            )));
        }
        if pack {
            rulepacks::verify(&policy, &manifest, &signatures, &component).map_err(refused)?;
        } else {
            let (_, plugin) =
                packages::verify(&runtime, &policy, &manifest, &signatures, &component)
                    .map_err(refused)?;
            kinds.insert(manifest.name.clone(), plugin.info.kind);
        }
        if !names.insert(manifest.name.clone()) {
            return Err(refuse(BundleError::Duplicate { entry }));
        }
        verified.push((entry, manifest, signatures, component));
    }
    tiers
        .check_plugins(|_, name| kinds.get(name).copied())
        .map_err(|e| {
            refuse(BundleError::Tiers {
                entry: TIERS.into(),
                reason: e.to_string(),
            })
        })?;
    let by_name = verified
        .iter()
        .map(|(_, m, _, _)| {
            (
                m.name.clone(),
                (m.version.clone(), m.digests.blake3.clone()),
            )
        })
        .collect();
    let lock_text = std::fs::read_to_string(root.join(LOCK))?;
    let lock_error = |reason: String| {
        refuse(BundleError::Lock {
            entry: LOCK.into(),
            reason,
        })
    };
    let lock = Lock::from_toml(&lock_text).map_err(|e| lock_error(e.to_string()))?;
    let expected = lock_of(&tiers, &by_name).map_err(lock_error)?;
    if lock != expected {
        return Err(lock_error(
            "it does not pin exactly the bundled plugins the tiers run".into(),
        ));
    }
    let registry_dir = data.join("registry");
    if registry_dir.exists() {
        let registry = Registry::open(&registry_dir)?;
        for (entry, m, _, _) in &verified {
            if let Ok(existing) = registry.package(&m.name, &m.version)
                && existing.digest != m.digests.blake3
            {
                return Err(refuse(BundleError::Conflict {
                    entry: entry.clone(),
                    reason: format!(
                        "{}@{} is already installed with component {}",
                        m.name, m.version, existing.digest
                    ),
                }));
            }
        }
    }
    // Everything checked: activate.
    let registry = Registry::open(&registry_dir)?;
    let mut plugins = vec![];
    for (_, manifest, signatures, component) in &verified {
        let entry = registry.publish_package(manifest, signatures, component, &policy)?;
        tracing::info!(plugin = %entry.name, version = %entry.version, digest = %entry.digest, "plugin imported");
        plugins.push((entry.name, entry.version, entry.digest.to_string()));
    }
    let cache_dir = options
        .cache_dir
        .clone()
        .unwrap_or_else(|| data.join("cache"));
    if !install.is_empty() {
        std::fs::create_dir_all(&cache_dir)
            .with_context(|| format!("cannot create {}", cache_dir.display()))?;
    }
    for (entry, digest) in &install {
        let name = qlp_runtime::artifact_file_name(digest, runtime.engine_hash());
        place(&root.join(entry), &cache_dir.join(name))?;
    }
    let record = data.join("bundle");
    std::fs::create_dir_all(&record)?;
    std::fs::write(record.join(INDEX), &staged.index_bytes)?;
    std::fs::write(record.join(INDEX_SIG), &staged.sig_bytes)?;
    if root.join(TRUST).exists() {
        std::fs::copy(root.join(TRUST), record.join(TRUST))?;
    }
    if release {
        let (tiers_path, lock_path) = installed_tiers(data);
        place(&root.join(TIERS), &tiers_path)?;
        place(&root.join(LOCK), &lock_path)?;
    }
    Ok(Imported {
        plugins,
        artifacts_installed: install.len(),
        artifacts_skipped: skipped,
        tiers_installed: release,
    })
}

/// Copies `from` to `to` through a temporary file beside `to`, so `to` is
/// never half-written.
fn place(from: &Path, to: &Path) -> anyhow::Result<()> {
    let tmp = to.with_extension(format!("tmp-{}", std::process::id()));
    std::fs::copy(from, &tmp)
        .and_then(|_| std::fs::rename(&tmp, to))
        .with_context(|| format!("cannot write {}", to.display()))?;
    Ok(())
}
