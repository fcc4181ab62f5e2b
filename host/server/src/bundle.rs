//! Air-gapped install bundles: `qlp bundle create` packs on a connected
//! machine everything a server needs, `qlp bundle import` verifies it
//! offline and installs it into a data directory.
//!
//! # Layout
//!
//! A tar archive (gzipped when its name ends in `.gz` or `.tgz`; import
//! detects gzip by its magic bytes) whose first two entries are
//!
//! - `index.json`: `{ "format": 1, "qlp": VERSION, "engine": HASH|null,
//!   "entries": [{ "path", "size", "blake3" }] }`, every other entry with
//!   its size and blake3;
//! - `index.sig.json`: one ed25519 [`Signature`] over the index's exact
//!   bytes ([`SecretKey::sign_bundle_index`]);
//!
//! then, each listed in the index:
//!
//! - `plugins/NAME.wasm`, `plugins/NAME.manifest.json`,
//!   `plugins/NAME.sig.json`: every signed plugin, as `qlp plugin sign`
//!   writes them ([`crate::packages`]); and `plugins/NAME.yaml` with the
//!   same sidecars: every signed rule pack, as `qlp rules sign` writes
//!   them ([`crate::rulepacks`]);
//! - `tiers.toml`: the tiers file; `tiers.lock`: per tier, the name,
//!   version and blake3 of every plugin it runs ([`Lock`]);
//! - `trust.toml`: the trust policy the bundle was made under, kept for
//!   the operator to compare; import never trusts it (a policy carried
//!   inside the thing it would vouch for vouches for nothing);
//! - with `--precompile`, `precompiled/ENGINE/BLAKE3.cwasm`: each
//!   component compiled by an engine whose compatibility hash
//!   ([`Runtime::engine_hash`]) is `ENGINE`.
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
//!    (`BUNDLE_DIGEST`); every listed entry present (`BUNDLE_TRUNCATED`).
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
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use qlp_registry::manifest::Manifest;
use qlp_registry::resolve::Resolved;
use qlp_registry::signing::{SecretKey, Signature};
use qlp_registry::trust::TrustPolicy;
use qlp_registry::{Digest, Lock, Registry};
use serde::{Deserialize, Serialize};

use crate::packages;
use crate::rulepacks;
use crate::tiers::Tiers;
use qlp_contract::model::PluginKind;
use qlp_runtime::{Runtime, RuntimeOptions};

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

const INDEX: &str = "index.json";
const INDEX_SIG: &str = "index.sig.json";
const TIERS: &str = "tiers.toml";
const LOCK: &str = "tiers.lock";
const TRUST: &str = "trust.toml";

/// Where `qlp serve` finds the tiers file and lock an import wrote, when
/// it is given no `--tiers`.
pub fn installed_tiers(data_dir: &Path) -> (PathBuf, PathBuf) {
    (data_dir.join(TIERS), data_dir.join(LOCK))
}

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
fn refuse(e: BundleError) -> anyhow::Error {
    anyhow::anyhow!("{}: {e}", e.code())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct IndexEntry {
    path: String,
    size: u64,
    blake3: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Index {
    format: u32,
    /// The `qlp` version that made the bundle (informational).
    qlp: String,
    /// The engine hash of the precompiled artifacts, if any (informational;
    /// each artifact's path carries its own).
    engine: Option<String>,
    entries: Vec<IndexEntry>,
}

/// What a path inside a bundle is; anything else is refused, so staging
/// never writes outside its directory.
#[derive(Debug, Clone, PartialEq, Eq)]
enum EntryKind {
    Tiers,
    Lock,
    Trust,
    Plugin(String),
    Precompiled { engine: String, digest: String },
}

/// A bundled package file's name without its extension (`.wasm` for a
/// component, `.yaml` for a rule pack).
fn stem(file: &str) -> &str {
    file.strip_suffix(".wasm")
        .or_else(|| file.strip_suffix(".yaml"))
        .unwrap_or(file)
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn classify(path: &str) -> Option<EntryKind> {
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

/// Checks the index signature: a known, unrevoked, unexpired key of
/// `policy` trusted for every name in `names`.
/// Returns whether the key is the operator's release key.
fn check_index_signature(
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
    let signature = options.key.sign_bundle_index(&index_bytes);
    let sig_bytes = serde_json::to_vec_pretty(&signature)?;

    let out = &options.out;
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
struct Staged {
    dir: tempfile::TempDir,
    index: Index,
    index_bytes: Vec<u8>,
    sig_bytes: Vec<u8>,
}

/// Reads the archive into `staging`, checking the index signature and
/// every entry against the index.
fn stage(
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
        qlp_registry::signing::MAX_SIGNATURES_BYTES as u64,
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

#[cfg(test)]
mod tests {
    use super::*;
    use qlp_registry::trust::TrustedKey;

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
