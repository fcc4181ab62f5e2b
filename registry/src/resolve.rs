//! Resolution (`acme/pci-rules@^1.2` → one published version) and lock
//! files that pin each tier's plugins to exact digests.
//!
//! A spec is `namespace/name` (any version) or `namespace/name@<semver
//! requirement>`, with Cargo's meaning: `@1.2` and `@^1.2` are the same,
//! `@=1.2.3` is exact, `@>=1.0, <3` a range; pre-releases match only a
//! requirement that names one. Resolution picks the highest matching
//! version that is not yanked.
//!
//! # Lock file
//!
//! TOML (or the same shape in JSON):
//!
//! ```toml
//! version = 1
//!
//! [[tier.standard]]
//! name = "qlp/zip"
//! version = "0.1.0"
//! blake3 = "<64 hex>"
//! ```
//!
//! Resolving against a lock ([`Registry::resolve_locked`]) returns exactly
//! the locked version and digest, or an error when that version is gone,
//! yanked, or now has another digest. It does not fall back to another
//! version: a lock either holds or fails.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use semver::{Version, VersionReq};
use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::store::Registry;
use crate::wit::check_wit_served;
use crate::{Error, Result, validate_name};

/// The current lock file format.
pub const LOCK_FORMAT: u32 = 1;

/// The largest lock file accepted.
pub const MAX_LOCK_BYTES: usize = 1024 * 1024;

/// How many published versions a "no matching version" error lists.
const VERSIONS_SHOWN: usize = 8;

/// `name` or `name@requirement`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageSpec {
    pub name: String,
    pub requirement: VersionReq,
}

impl FromStr for PackageSpec {
    type Err = Error;
    fn from_str(spec: &str) -> Result<Self> {
        let bad = |reason: String| Error::InvalidSpec {
            spec: spec.to_owned(),
            reason,
        };
        let (name, requirement) = match spec.split_once('@') {
            Some((name, req)) => (
                name,
                req.parse::<VersionReq>()
                    .map_err(|e| bad(format!("`{req}` is not a version requirement: {e}")))?,
            ),
            None => (spec, VersionReq::STAR),
        };
        validate_name(name).map_err(|e| bad(e.to_string()))?;
        Ok(Self {
            name: name.to_owned(),
            requirement,
        })
    }
}

impl fmt::Display for PackageSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.name, self.requirement)
    }
}

/// One resolved package: the exact version and its component's blake3.
/// Also one entry of a [`Lock`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resolved {
    pub name: String,
    pub version: Version,
    pub blake3: Digest,
}

impl Registry {
    /// The highest unyanked version matching `spec` (`acme/pci-rules@^1.2`).
    pub fn resolve(&self, spec: &str) -> Result<Resolved> {
        self.resolve_spec(&spec.parse()?, None)
    }

    /// As [`Registry::resolve`], skipping versions whose WIT does not run on
    /// a host serving the versions of `host_wit` ([`check_wit_served`]).
    pub fn resolve_compatible(&self, spec: &str, host_wit: &[Version]) -> Result<Resolved> {
        self.resolve_spec(&spec.parse()?, Some(host_wit))
    }

    /// Resolution proper: the highest version of `spec.name` that matches,
    /// is not yanked and, given the versions a host serves, targets a
    /// compatible WIT.
    pub fn resolve_spec(
        &self,
        spec: &PackageSpec,
        host_wit: Option<&[Version]>,
    ) -> Result<Resolved> {
        let index = self.read_packages()?;
        let versions = index.packages.get(&spec.name);
        let chosen = versions
            .into_iter()
            .flatten()
            .rev()
            .find(|(version, record)| {
                spec.requirement.matches(version)
                    && !record.yanked
                    && host_wit.is_none_or(|host| check_wit_served(&record.wit, host).is_ok())
            });
        match chosen {
            Some((version, record)) => Ok(Resolved {
                name: spec.name.clone(),
                version: version.clone(),
                blake3: record.component.clone(),
            }),
            None => {
                let published: Vec<String> = versions
                    .into_iter()
                    .flatten()
                    .rev()
                    .take(VERSIONS_SHOWN)
                    .map(|(v, r)| {
                        let mut s = v.to_string();
                        if r.yanked {
                            s.push_str(" yanked");
                        }
                        if let Some(host) = host_wit
                            && check_wit_served(&r.wit, host).is_err()
                        {
                            s.push_str(&format!(" wit {}", r.wit));
                        }
                        s
                    })
                    .collect();
                let mut detail = if published.is_empty() {
                    " (nothing published)".to_owned()
                } else {
                    format!(" (published: {})", published.join(", "))
                };
                if let Some(host) = host_wit {
                    let served: Vec<String> = host.iter().map(|v| format!("@{v}")).collect();
                    detail.push_str(&format!(
                        " for a host serving qlp:plugin{}",
                        served.join(", ")
                    ));
                }
                Err(Error::NoMatchingVersion {
                    name: spec.name.clone(),
                    requirement: spec.requirement.to_string(),
                    detail,
                })
            }
        }
    }

    /// Exactly the locked version, if it is still published, not yanked,
    /// has the locked digest, and its component is still stored. Load it
    /// with [`Registry::load_package`], which verifies it.
    pub fn resolve_locked(&self, locked: &Resolved) -> Result<Resolved> {
        let index = self.read_packages()?;
        let gone = || Error::LockedVersionGone {
            name: locked.name.clone(),
            version: locked.version.to_string(),
        };
        let record = index.get(&locked.name, &locked.version).ok_or_else(gone)?;
        if record.yanked {
            return Err(Error::LockedVersionYanked {
                name: locked.name.clone(),
                version: locked.version.to_string(),
            });
        }
        if record.component != locked.blake3 {
            return Err(Error::LockedDigestChanged {
                name: locked.name.clone(),
                version: locked.version.to_string(),
                locked: locked.blake3.clone(),
                current: record.component.clone(),
            });
        }
        if !self.blob_store().has(&record.component)? {
            return Err(gone());
        }
        Ok(locked.clone())
    }

    /// Resolves each spec and records the result in `lock` under `tier`.
    pub fn lock_tier(&self, lock: &mut Lock, tier: &str, specs: &[&str]) -> Result<()> {
        let resolved = specs
            .iter()
            .map(|spec| self.resolve(spec))
            .collect::<Result<Vec<_>>>()?;
        for r in resolved {
            lock.insert(tier, r)?;
        }
        Ok(())
    }

    /// Checks every entry of a lock with [`Registry::resolve_locked`].
    pub fn check_lock(&self, lock: &Lock) -> Result<()> {
        for (_, entries) in lock.tiers() {
            for locked in entries {
                self.resolve_locked(locked)?;
            }
        }
        Ok(())
    }
}

/// Per tier, the exact plugins it runs; see the module documentation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lock {
    /// tier → entries, sorted by name, one per name.
    tiers: BTreeMap<String, Vec<Resolved>>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LockFile {
    version: u32,
    #[serde(default)]
    tier: BTreeMap<String, Vec<Resolved>>,
}

impl Lock {
    pub fn new() -> Self {
        Self::default()
    }

    /// Pins `entry` in `tier`, replacing (and returning) any entry of the
    /// same name there.
    pub fn insert(&mut self, tier: &str, entry: Resolved) -> Result<Option<Resolved>> {
        validate_tier(tier)?;
        validate_name(&entry.name)?;
        let entries = self.tiers.entry(tier.to_owned()).or_default();
        match entries.binary_search_by(|e| e.name.cmp(&entry.name)) {
            Ok(i) => Ok(Some(std::mem::replace(&mut entries[i], entry))),
            Err(i) => {
                entries.insert(i, entry);
                Ok(None)
            }
        }
    }

    /// The entry for `name` in `tier`.
    pub fn get(&self, tier: &str, name: &str) -> Option<&Resolved> {
        self.tier(tier).iter().find(|e| e.name == name)
    }

    /// The entries of `tier`, sorted by name (empty if the tier is absent).
    pub fn tier(&self, tier: &str) -> &[Resolved] {
        self.tiers.get(tier).map_or(&[], Vec::as_slice)
    }

    pub fn tiers(&self) -> impl Iterator<Item = (&str, &[Resolved])> {
        self.tiers.iter().map(|(t, e)| (t.as_str(), e.as_slice()))
    }

    pub fn to_toml(&self) -> String {
        toml::to_string(&self.file()).expect("a lock always serializes")
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&self.file()).expect("a lock always serializes")
    }

    pub fn from_toml(text: &str) -> Result<Self> {
        check_size(text.len())?;
        Self::from_file(toml::from_str(text).map_err(|e| Error::InvalidLock(e.to_string()))?)
    }

    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        check_size(bytes.len())?;
        Self::from_file(
            serde_json::from_slice(bytes).map_err(|e| Error::InvalidLock(e.to_string()))?,
        )
    }

    fn file(&self) -> LockFile {
        LockFile {
            version: LOCK_FORMAT,
            tier: self.tiers.clone(),
        }
    }

    fn from_file(file: LockFile) -> Result<Self> {
        if file.version != LOCK_FORMAT {
            return Err(Error::InvalidLock(format!(
                "version {} is not {LOCK_FORMAT}",
                file.version
            )));
        }
        let mut lock = Lock::new();
        for (tier, entries) in file.tier {
            for entry in entries {
                let name = entry.name.clone();
                if lock
                    .insert(&tier, entry)
                    .map_err(|e| Error::InvalidLock(format!("tier {tier}: {e}")))?
                    .is_some()
                {
                    return Err(Error::InvalidLock(format!(
                        "tier {tier} locks {name} twice"
                    )));
                }
            }
        }
        Ok(lock)
    }
}

fn check_size(len: usize) -> Result<()> {
    if len > MAX_LOCK_BYTES {
        return Err(Error::InvalidLock(format!(
            "{len} bytes, over the {MAX_LOCK_BYTES}-byte limit"
        )));
    }
    Ok(())
}

/// Tier names: letters, digits, `-` and `_`, as in the tiers file.
fn validate_tier(tier: &str) -> Result<()> {
    if !tier.is_empty()
        && tier.len() <= 64
        && tier
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        Ok(())
    } else {
        Err(Error::InvalidLock(format!(
            "`{}` is not a tier name (letters, digits, `-`, `_`)",
            tier.escape_debug()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::testing::{key, manifest_for};
    use crate::trust::testing::policy_for;

    fn v(s: &str) -> Version {
        s.parse().unwrap()
    }

    /// A registry with acme/rules 1.0.0, 1.2.0, 1.2.5, 1.3.0-beta.1, 2.0.0,
    /// all signed by key 1.
    fn registry() -> (tempfile::TempDir, Registry, crate::TrustPolicy) {
        let dir = tempfile::tempdir().unwrap();
        let reg = Registry::open(dir.path()).unwrap();
        let k = key(1);
        let policy = policy_for(&[(&k, &["acme/*"])]);
        for version in ["1.0.0", "1.2.0", "1.2.5", "1.3.0-beta.1", "2.0.0"] {
            let bytes = format!("rules {version}");
            let m = manifest_for("acme/rules", version, bytes.as_bytes());
            reg.publish_package(&m, &[k.sign(&m)], bytes.as_bytes(), &policy)
                .unwrap();
        }
        (dir, reg, policy)
    }

    #[test]
    fn specs_parse() {
        let s: PackageSpec = "acme/pci-rules@^1.2".parse().unwrap();
        assert_eq!(s.name, "acme/pci-rules");
        assert_eq!(s.requirement, VersionReq::parse("^1.2").unwrap());
        let any: PackageSpec = "acme/pci-rules".parse().unwrap();
        assert_eq!(any.requirement, VersionReq::STAR);
        for bad in ["acme", "acme/x@", "acme/x@banana", "ACME/x@1", "@1.0"] {
            let err = bad.parse::<PackageSpec>().unwrap_err();
            assert_eq!(err.code(), "INVALID_SPEC", "{bad}");
        }
    }

    #[test]
    fn resolve_picks_the_highest_matching_version() {
        let (_dir, reg, _) = registry();
        for (spec, expected) in [
            ("acme/rules@^1.2", "1.2.5"),
            ("acme/rules@1.2", "1.2.5"),
            ("acme/rules@~1.2.0", "1.2.5"),
            ("acme/rules@=1.2.0", "1.2.0"),
            ("acme/rules@^1", "1.2.5"),
            ("acme/rules@>=1.3.0-beta.1, <2", "1.3.0-beta.1"),
            ("acme/rules", "2.0.0"),
            ("acme/rules@*", "2.0.0"),
        ] {
            let r = reg.resolve(spec).unwrap();
            assert_eq!(r.version, v(expected), "{spec}");
            assert_eq!(r.blake3, Digest::of(format!("rules {expected}").as_bytes()));
        }
        let err = reg.resolve("acme/rules@^3").unwrap_err();
        assert_eq!(err.code(), "NO_MATCHING_VERSION");
        assert!(err.to_string().contains("2.0.0, 1.3.0-beta.1"), "{err}");
        let err = reg.resolve("acme/absent").unwrap_err();
        assert!(err.to_string().contains("nothing published"), "{err}");
    }

    #[test]
    fn yanked_versions_are_skipped() {
        let (_dir, reg, policy) = registry();
        reg.yank("acme/rules", &v("1.2.5")).unwrap();
        assert_eq!(reg.resolve("acme/rules@^1.2").unwrap().version, v("1.2.0"));
        reg.yank("acme/rules", &v("1.2.0")).unwrap();
        let err = reg.resolve("acme/rules@~1.2").unwrap_err();
        assert!(err.to_string().contains("1.2.5 yanked"), "{err}");
        // Still loadable by exact version, blob and all.
        let p = reg
            .load_package("acme/rules", &v("1.2.5"), &policy)
            .unwrap();
        assert!(p.entry.yanked);
        assert_eq!(p.component, b"rules 1.2.5");
        reg.unyank("acme/rules", &v("1.2.5")).unwrap();
        assert_eq!(reg.resolve("acme/rules@^1.2").unwrap().version, v("1.2.5"));
    }

    #[test]
    fn resolve_compatible_skips_other_wit_versions() {
        let (_dir, reg, policy) = registry();
        let k = key(1);
        let mut m = manifest_for("acme/rules", "1.4.0", b"rules 1.4.0");
        m.wit = v("0.2.0");
        reg.publish_package(&m, &[k.sign(&m)], b"rules 1.4.0", &policy)
            .unwrap();
        assert_eq!(reg.resolve("acme/rules@^1").unwrap().version, v("1.4.0"));
        let r = reg
            .resolve_compatible("acme/rules@^1", &[v("0.1.3")])
            .unwrap();
        assert_eq!(r.version, v("1.2.5"));
        let err = reg
            .resolve_compatible("acme/rules@=1.4.0", &[v("0.1.0")])
            .unwrap_err();
        assert!(err.to_string().contains("1.4.0 wit 0.2.0"), "{err}");
        // A host serving both contracts takes the newest.
        let r = reg
            .resolve_compatible("acme/rules@^1", &[v("0.1.0"), v("0.2.0")])
            .unwrap();
        assert_eq!(r.version, v("1.4.0"));
    }

    fn sample_lock(reg: &Registry) -> Lock {
        let mut lock = Lock::new();
        reg.lock_tier(&mut lock, "standard", &["acme/rules@^1.2"])
            .unwrap();
        reg.lock_tier(&mut lock, "mission-critical", &["acme/rules@=1.0.0"])
            .unwrap();
        lock
    }

    #[test]
    fn locks_round_trip_through_toml_and_json() {
        let (_dir, reg, _) = registry();
        let lock = sample_lock(&reg);
        let toml = lock.to_toml();
        assert!(toml.contains("[[tier.standard]]"), "{toml}");
        assert!(toml.contains("version = 1"), "{toml}");
        assert_eq!(Lock::from_toml(&toml).unwrap(), lock);
        assert_eq!(Lock::from_json(lock.to_json().as_bytes()).unwrap(), lock);
        let standard = lock.get("standard", "acme/rules").unwrap();
        assert_eq!(standard.version, v("1.2.5"));
        assert_eq!(standard.blake3, Digest::of(b"rules 1.2.5"));
        assert_eq!(lock.tier("mission-critical")[0].version, v("1.0.0"));
        assert!(lock.tier("absent").is_empty());
    }

    #[test]
    fn resolving_against_a_lock_returns_exactly_the_locked_digest() {
        let (dir, reg, policy) = registry();
        let lock = sample_lock(&reg);
        reg.check_lock(&lock).unwrap();
        // A newer matching version does not move the lock.
        let k = key(1);
        let m = manifest_for("acme/rules", "1.2.9", b"rules 1.2.9");
        reg.publish_package(&m, &[k.sign(&m)], b"rules 1.2.9", &policy)
            .unwrap();
        let locked = lock.get("standard", "acme/rules").unwrap();
        assert_eq!(reg.resolve_locked(locked).unwrap(), *locked);

        // Yanked.
        reg.yank("acme/rules", &v("1.2.5")).unwrap();
        let err = reg.resolve_locked(locked).unwrap_err();
        assert_eq!(err.code(), "LOCKED_VERSION_YANKED", "{err}");
        assert!(reg.check_lock(&lock).is_err());
        reg.unyank("acme/rules", &v("1.2.5")).unwrap();

        // Changed: the lock names another digest than the registry holds.
        let mut changed = locked.clone();
        changed.blake3 = Digest::of(b"something else");
        let err = reg.resolve_locked(&changed).unwrap_err();
        assert_eq!(err.code(), "LOCKED_DIGEST_CHANGED", "{err}");
        assert!(err.to_string().contains(locked.blake3.as_str()), "{err}");

        // Gone: a version never published, or whose blob was deleted.
        let mut missing = locked.clone();
        missing.version = v("1.2.6");
        assert_eq!(
            reg.resolve_locked(&missing).unwrap_err().code(),
            "LOCKED_VERSION_GONE"
        );
        std::fs::remove_file(dir.path().join("blobs").join(locked.blake3.as_str())).unwrap();
        assert_eq!(
            reg.resolve_locked(locked).unwrap_err().code(),
            "LOCKED_VERSION_GONE"
        );
    }

    #[test]
    fn lock_files_refuse_mistakes() {
        let d = Digest::of(b"x");
        let entry =
            |name: &str| format!("name = \"{name}\"\nversion = \"1.0.0\"\nblake3 = \"{d}\"\n");
        for (what, text) in [
            ("future format", format!("version = 2\n[[tier.a]]\n{}", entry("acme/x"))),
            ("no format", format!("[[tier.a]]\n{}", entry("acme/x"))),
            ("bad name", format!("version = 1\n[[tier.a]]\n{}", entry("x"))),
            (
                "twice",
                format!("version = 1\n[[tier.a]]\n{}[[tier.a]]\n{}", entry("acme/x"), entry("acme/x")),
            ),
            ("bad digest", "version = 1\n[[tier.a]]\nname = \"acme/x\"\nversion = \"1.0.0\"\nblake3 = \"../x\"\n".to_owned()),
            ("unknown field", format!("version = 1\n[[tier.a]]\n{}yanked = false\n", entry("acme/x"))),
            ("bad tier", format!("version = 1\n[[tier.\"a b\"]]\n{}", entry("acme/x"))),
        ] {
            let err = Lock::from_toml(&text).unwrap_err();
            assert_eq!(err.code(), "INVALID_LOCK", "{what}: {err}");
        }
    }
}
