//! The plugins each tier runs. Every plugin reference of the tiers file
//! (`qlp/secrets`, `acme/rules@^1.2`) is resolved against the registry to
//! the highest published, unyanked version that matches and targets a
//! `qlp:plugin` this host serves; each tier gets its own versions, so two
//! tiers may run two versions of one plugin. The result is written as a
//! lock (per tier: name, version, blake3), and a server started with
//! `--locked` runs exactly the locked versions or refuses to start.
//!
//! A catalog is built at start-up and again on SIGHUP, after importing the
//! plugin directories once more: a plugin published meanwhile is picked up
//! by the tiers whose requirements it matches, without a restart; a run
//! keeps the catalog it started with.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, anyhow};
use qlp_registry::resolve::PackageSpec;
use qlp_registry::{Lock, Registry, Resolved, TrustPolicy};
use semver::{Version, VersionReq};

use crate::packages::{self, SERVED_WIT};
use crate::rulepacks::{self, Packs, RulePack};
use crate::tiers::Tiers;
use qlp_runtime::{Plugin, Runtime};

/// The loaded plugins by name.
pub type Plugins = HashMap<String, Arc<Plugin>>;

/// Refuses a tier whose plugin writes through a language model when the
/// server has no model endpoint, or has not granted it to that plugin.
fn check_llm(tiers: &Tiers, tier: &str, plugin: &Plugin) -> anyhow::Result<()> {
    if !plugin.uses_llm {
        return Ok(());
    }
    let name = &plugin.info.name;
    if tiers.llm.is_none() {
        anyhow::bail!(
            "tier `{tier}`: `{name}` writes through a language model (it imports qlp:llm/chat), and no model endpoint is configured: add an [llm] table to the tiers file and `llm = true` to [plugins.\"{name}\"]"
        );
    }
    if !tiers.grants.get(name).is_some_and(|g| g.llm) {
        anyhow::bail!(
            "tier `{tier}`: `{name}` writes through a language model (it imports qlp:llm/chat), and is not granted the model endpoint: add `llm = true` to [plugins.\"{name}\"]"
        );
    }
    Ok(())
}

/// Where plugins come from and where the lock goes.
pub struct Source {
    /// The registry's directory.
    pub registry: PathBuf,
    pub policy: TrustPolicy,
    /// Directories of signed components imported at every build.
    pub plugin_dirs: Vec<PathBuf>,
    /// The lock file: written after resolving, or read with `locked`.
    pub lock: PathBuf,
    /// Run the locked versions instead of resolving.
    pub locked: bool,
    /// The tiers file, read again at every reload; the built-in tiers
    /// without one.
    pub tiers: Option<PathBuf>,
}

impl Source {
    /// What a reload reads that may change behind this server's back: the
    /// registry's index (another replica published or yanked) and the
    /// tiers file (edited, or a re-mounted ConfigMap).
    pub fn watched(&self) -> Vec<PathBuf> {
        std::iter::once(self.registry.join(qlp_registry::INDEX_FILE))
            .chain(self.tiers.clone())
            .collect()
    }
}

/// The tiers in force and the plugins they resolved to.
pub struct Catalog {
    pub tiers: Arc<Tiers>,
    /// Each tier's plugins by name, at the versions resolved for it.
    pub by_tier: BTreeMap<String, Arc<Plugins>>,
    /// The planner, at the version resolved for it.
    pub planner: Option<Arc<Plugin>>,
    /// The newest loadable version of every published plugin, and every
    /// version a tier resolved to: what `GET /v1/plugins` lists.
    pub plugins: Arc<Plugins>,
    /// Each tier's rule packs, in the order of its `rules`.
    pub tier_packs: BTreeMap<String, Packs>,
    /// The newest loadable version of every rule pack, by name: what a
    /// tenant's policy names.
    pub packs: BTreeMap<String, Arc<RulePack>>,
    pub lock: Lock,
}

/// The error of a tier plugin that does not resolve, saying where a
/// plugin can come from when none was found at all.
fn missing_plugin(tier: &str, e: &anyhow::Error) -> anyhow::Error {
    let cause = format!("{e:#}");
    if cause.contains("nothing published") {
        anyhow!(
            "tier `{tier}`: {cause}. A plugin comes from --plugin-dir DIR (signed by a key \
             the --trust policy trusts), a publish (`qlp plugin publish`), an install bundle \
             (`qlp bundle install`), or a qlp binary built with the first-party plugins \
             (`deploy/dev.sh release`; `qlp --version` says how many it carries)"
        )
    } else {
        anyhow!("tier `{tier}`: {cause}")
    }
}

impl Catalog {
    /// Imports the plugin directories, resolves every tier's references
    /// (or takes the lock's), loads what they resolved to, checks each
    /// tier against its plugins, and writes the lock. Blocking: it may
    /// compile components.
    pub fn build(runtime: &Runtime, source: &Source, tiers: Tiers) -> anyhow::Result<Self> {
        let registry = Registry::open(&source.registry)?;
        packages::import(runtime, &registry, &source.policy, &source.plugin_dirs)?;
        rulepacks::import(&registry, &source.policy, &source.plugin_dirs)?;
        let locked = if source.locked {
            let text = std::fs::read_to_string(&source.lock).with_context(|| {
                format!(
                    "--locked: cannot read the lock {}; start once without --locked to write it",
                    source.lock.display()
                )
            })?;
            Some(Lock::from_toml(&text).with_context(|| {
                format!("--locked: the lock {} is invalid", source.lock.display())
            })?)
        } else {
            None
        };

        // What each tier runs.
        let mut lock = Lock::new();
        for (tier_name, tier) in &tiers.tiers {
            for name in tier.plugin_names().into_iter().chain(&tier.rules) {
                let resolved = match &locked {
                    Some(previous) => {
                        let entry = previous.get(tier_name, name).ok_or_else(|| {
                            anyhow!(
                                "tier `{tier_name}`: plugin `{name}` is not in the lock {}; start without --locked to resolve it",
                                source.lock.display()
                            )
                        })?;
                        registry
                            .resolve_locked(entry)
                            .with_context(|| format!("tier `{tier_name}` (--locked)"))?
                    }
                    None => resolve(&registry, name, tier.versions.get(name.as_str()))
                        .map_err(|e| missing_plugin(tier_name, &e))?,
                };
                lock.insert(tier_name, resolved)?;
            }
        }
        let planner = match &tiers.planner {
            Some(config) => Some(
                resolve(&registry, &config.plugin, config.version.as_ref()).context("planner")?,
            ),
            None => None,
        };

        // Load the newest version of everything, as before, and each
        // version a tier or the planner resolved to.
        let mut loaded: HashMap<(String, Version), Arc<Plugin>> = HashMap::new();
        let mut refused: HashMap<(String, Version), String> = HashMap::new();
        let mut newest: BTreeMap<String, Version> = BTreeMap::new();
        let mut newest_packs: BTreeMap<String, Version> = BTreeMap::new();
        for entry in registry.packages()?.into_iter().filter(|e| !e.yanked) {
            let newest = if entry.kind.is_component() {
                &mut newest
            } else {
                &mut newest_packs
            };
            let slot = newest
                .entry(entry.name.clone())
                .or_insert_with(|| entry.version.clone());
            if entry.version > *slot {
                *slot = entry.version.clone();
            }
        }
        let is_pack = |tier: &str, name: &str| {
            tiers
                .get(tier)
                .is_some_and(|t| t.rules.iter().any(|r| r == name))
        };
        let (locked_packs, locked_plugins): (Vec<_>, Vec<_>) = lock
            .tiers()
            .flat_map(|(tier, entries)| entries.iter().map(move |r| (tier, r)))
            .partition(|(tier, r)| is_pack(tier, &r.name));
        let wanted: BTreeSet<(String, Version)> = newest
            .into_iter()
            .chain(
                locked_plugins
                    .iter()
                    .map(|(_, r)| *r)
                    .chain(planner.as_ref())
                    .map(|r| (r.name.clone(), r.version.clone())),
            )
            .collect();
        let wanted_packs: BTreeSet<(String, Version)> = newest_packs
            .iter()
            .map(|(n, v)| (n.clone(), v.clone()))
            .chain(
                locked_packs
                    .iter()
                    .map(|(_, r)| (r.name.clone(), r.version.clone())),
            )
            .collect();
        let mut loaded_packs: HashMap<(String, Version), Arc<RulePack>> = HashMap::new();
        for (name, version) in wanted_packs {
            match rulepacks::load_one(&registry, &source.policy, &name, &version) {
                Ok(pack) => {
                    loaded_packs.insert((name, version), Arc::new(pack));
                }
                Err(e) => {
                    let reason = format!("{e:#}");
                    tracing::error!(pack = %name, %version, error = %reason, "rule pack refused at load");
                    refused.insert((name, version), reason);
                }
            }
        }
        for (name, version) in wanted {
            match packages::load_one(runtime, &registry, &source.policy, &name, &version) {
                Ok(plugin) => {
                    loaded.insert((name, version), Arc::new(plugin));
                }
                Err(e) => {
                    let reason = format!("{e:#}");
                    tracing::error!(plugin = %name, %version, error = %reason, "plugin refused at load");
                    refused.insert((name, version), reason);
                }
            }
        }
        let pick = |r: &Resolved| -> anyhow::Result<Arc<Plugin>> {
            let key = (r.name.clone(), r.version.clone());
            loaded.get(&key).cloned().ok_or_else(|| {
                anyhow!(
                    "plugin `{}` {} was refused at load: {}",
                    r.name,
                    r.version,
                    refused.get(&key).map_or("not loaded", String::as_str)
                )
            })
        };
        let mut by_tier = BTreeMap::new();
        let mut tier_packs: BTreeMap<String, Packs> = BTreeMap::new();
        for (tier_name, entries) in lock.tiers() {
            let mut plugins = Plugins::new();
            for r in entries {
                if is_pack(tier_name, &r.name) {
                    continue;
                }
                let plugin = pick(r).with_context(|| format!("tier `{tier_name}`"))?;
                check_llm(&tiers, tier_name, &plugin)?;
                plugins.insert(r.name.clone(), plugin);
            }
            by_tier.insert(tier_name.to_owned(), Arc::new(plugins));
            // The tier's packs, in its `rules` order.
            let tier = tiers.get(tier_name).expect("a tier of the lock");
            let mut packs = Packs::new();
            for name in &tier.rules {
                let r = entries.iter().find(|r| r.name == *name).ok_or_else(|| {
                    anyhow!("tier `{tier_name}`: rule pack `{name}` is not resolved")
                })?;
                let key = (r.name.clone(), r.version.clone());
                let pack = loaded_packs.get(&key).cloned().ok_or_else(|| {
                    anyhow!(
                        "tier `{tier_name}`: rule pack `{}` {} was refused at load: {}",
                        r.name,
                        r.version,
                        refused.get(&key).map_or("not loaded", String::as_str)
                    )
                })?;
                packs.push(pack);
            }
            tier_packs.insert(tier_name.to_owned(), packs);
        }
        let packs: BTreeMap<String, Arc<RulePack>> = newest_packs
            .into_iter()
            .filter_map(|(name, version)| {
                let pack = loaded_packs.get(&(name.clone(), version))?.clone();
                Some((name, pack))
            })
            .collect();
        let planner = planner
            .as_ref()
            .map(|r| pick(r).context("planner"))
            .transpose()?;
        tiers.check_plugins(|tier, name| match tier {
            Some(tier) => by_tier
                .get(tier)
                .and_then(|p| p.get(name))
                .map(|p| p.info.kind),
            None => planner.as_ref().map(|p| p.info.kind),
        })?;

        // Listed: the newest loaded version of each plugin.
        let mut plugins = Plugins::new();
        for ((name, version), plugin) in &loaded {
            let newer = plugins
                .get(name)
                .is_none_or(|p| Version::parse(&p.info.version).is_ok_and(|v| v < *version));
            if newer {
                plugins.insert(name.clone(), plugin.clone());
            }
        }
        if !source.locked {
            write_lock(&source.lock, &lock)?;
        }
        for (tier, entries) in lock.tiers() {
            for r in entries {
                tracing::debug!(%tier, plugin = %r.name, version = %r.version, digest = %r.blake3, "resolved");
            }
        }
        Ok(Self {
            tiers: Arc::new(tiers),
            by_tier,
            planner,
            plugins: Arc::new(plugins),
            tier_packs,
            packs,
            lock,
        })
    }

    /// The plugins `tier` runs, if it is a tier of this catalog.
    pub fn tier_plugins(&self, tier: &str) -> Option<Arc<Plugins>> {
        self.by_tier.get(tier).cloned()
    }
}

/// The highest published, unyanked version of `name` matching `req` (any,
/// when `None`) whose `qlp:plugin` version this host serves.
fn resolve(registry: &Registry, name: &str, req: Option<&VersionReq>) -> anyhow::Result<Resolved> {
    let spec = PackageSpec {
        name: name.to_owned(),
        requirement: req.cloned().unwrap_or(VersionReq::STAR),
    };
    Ok(registry.resolve_spec(&spec, Some(&SERVED_WIT))?)
}

/// Writes the lock through a temporary file and a rename.
fn write_lock(path: &Path, lock: &Lock) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write the lock in {}", dir.display()))?;
    std::io::Write::write_all(
        &mut tmp,
        format!(
            "# Written by qlp serve: the plugin versions each tier resolved to.\n# `qlp serve --locked` runs exactly these.\n{}",
            lock.to_toml()
        )
        .as_bytes(),
    )?;
    tmp.persist(path)
        .with_context(|| format!("cannot write the lock {}", path.display()))?;
    Ok(())
}
