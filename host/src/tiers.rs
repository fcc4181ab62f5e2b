//! Tiers: the pipeline each kind of intent runs, as data.
//!
//! The shipped defaults are `host/tiers.toml`, embedded in the binary; an
//! operator replaces them with their own file. The file is checked when it
//! is loaded (syntax, names, gates) and again against the loaded plugins
//! ([`Tiers::check_plugins`]), so a typo is refused at start-up with the
//! tier and plugin named rather than found by the first intent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::model::PluginKind;

/// The tiers shipped with QLP.
pub const DEFAULT_TIERS: &str = include_str!("../tiers.toml");

/// The tier an intent runs when it names none.
pub const DEFAULT_TIER: &str = "standard";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read tiers file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid tiers file {origin}: {message}")]
    Parse { origin: String, message: String },
    #[error("tier `{tier}`: {message}")]
    Tier { tier: String, message: String },
}

/// The gate a capsule must pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Gate {
    /// Lowest acceptable quality score, 0–100.
    pub min_score: u8,
    /// Most critical findings a passing capsule may have.
    pub max_critical: u32,
}

/// One tier's pipeline.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    #[serde(default)]
    pub description: String,
    pub agents: Vec<String>,
    #[serde(default)]
    pub analyzers: Vec<String>,
    #[serde(default)]
    pub validators: Vec<String>,
    pub exporter: String,
    #[serde(default)]
    pub delivery: Option<String>,
    pub gate: Gate,
}

/// What the operator grants one plugin.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginGrant {
    /// A directory the plugin may write into (delivery adapters).
    #[serde(default)]
    pub directory: Option<PathBuf>,
    /// Configuration values only this plugin can read.
    #[serde(default)]
    pub config: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    tiers: BTreeMap<String, Tier>,
    #[serde(default)]
    plugins: BTreeMap<String, PluginGrant>,
}

/// The loaded tiers file.
#[derive(Debug, Clone)]
pub struct Tiers {
    pub tiers: BTreeMap<String, Tier>,
    pub grants: BTreeMap<String, PluginGrant>,
}

impl Tiers {
    /// The tiers shipped with QLP.
    pub fn defaults() -> Self {
        Self::parse(DEFAULT_TIERS, "(built-in)").expect("the built-in tiers are valid")
    }

    /// Reads an operator's tiers file.
    pub fn load(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, origin: &str) -> Result<Self, Error> {
        let file: File = toml::from_str(text).map_err(|e| Error::Parse {
            origin: origin.to_owned(),
            message: e.to_string(),
        })?;
        if file.tiers.is_empty() {
            return Err(Error::Parse {
                origin: origin.to_owned(),
                message: "no tiers are defined".into(),
            });
        }
        for (name, tier) in &file.tiers {
            let err = |message: String| Error::Tier {
                tier: name.clone(),
                message,
            };
            if tier.agents.is_empty() {
                return Err(err("names no agent".into()));
            }
            if tier.gate.min_score > 100 {
                return Err(err(format!(
                    "gate.min_score {} is over 100",
                    tier.gate.min_score
                )));
            }
        }
        Ok(Self {
            tiers: file.tiers,
            grants: file.plugins,
        })
    }

    pub fn get(&self, name: &str) -> Option<&Tier> {
        self.tiers.get(name)
    }

    /// Checks that every plugin a tier names is loaded and of the right
    /// kind.
    pub fn check_plugins(&self, kind_of: impl Fn(&str) -> Option<PluginKind>) -> Result<(), Error> {
        for (name, tier) in &self.tiers {
            let stages = tier
                .agents
                .iter()
                .map(|p| (p, PluginKind::Agent))
                .chain(tier.analyzers.iter().map(|p| (p, PluginKind::Analyzer)))
                .chain(tier.validators.iter().map(|p| (p, PluginKind::Validator)))
                .chain(std::iter::once((&tier.exporter, PluginKind::Exporter)))
                .chain(tier.delivery.iter().map(|p| (p, PluginKind::Delivery)));
            for (plugin, expected) in stages {
                match kind_of(plugin) {
                    None => {
                        return Err(Error::Tier {
                            tier: name.clone(),
                            message: format!("plugin `{plugin}` is not installed"),
                        });
                    }
                    Some(actual) if actual != expected => {
                        return Err(Error::Tier {
                            tier: name.clone(),
                            message: format!(
                                "plugin `{plugin}` is of kind {actual}, but is listed as kind {expected}"
                            ),
                        });
                    }
                    Some(_) => {}
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_tiers_define_the_four_tiers() {
        let tiers = Tiers::defaults();
        for name in ["starter", "standard", "enterprise", "mission-critical"] {
            assert!(tiers.get(name).is_some(), "missing tier {name}");
        }
        assert!(tiers.get(DEFAULT_TIER).is_some());
        // Gates tighten with the tier.
        let min = |t: &str| tiers.get(t).unwrap().gate.min_score;
        assert!(min("starter") < min("standard"));
        assert!(min("standard") < min("enterprise"));
        assert!(min("enterprise") < min("mission-critical"));
    }

    #[test]
    fn unknown_fields_and_bad_gates_are_refused() {
        let err = Tiers::parse("[tiers.x]\nagents=['a/b']\nexporter='a/z'\ngate={min_score=50,max_critical=0}\ncolour='red'\n", "t")
            .unwrap_err();
        assert!(err.to_string().contains("colour"), "{err}");
        let err = Tiers::parse(
            "[tiers.x]\nagents=['a/b']\nexporter='a/z'\ngate={min_score=150,max_critical=0}\n",
            "t",
        )
        .unwrap_err();
        assert!(err.to_string().contains("over 100"), "{err}");
        let err = Tiers::parse(
            "[tiers.x]\nagents=[]\nexporter='a/z'\ngate={min_score=50,max_critical=0}\n",
            "t",
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("tier `x`: names no agent"),
            "{err}"
        );
    }

    #[test]
    fn plugins_are_checked_by_name_and_kind() {
        let tiers = Tiers::defaults();
        let err = tiers.check_plugins(|_| None).unwrap_err().to_string();
        assert!(err.contains("is not installed"), "{err}");
        let err = tiers
            .check_plugins(|name| {
                Some(if name == "qlp/zip" {
                    PluginKind::Validator
                } else {
                    PluginKind::Agent
                })
            })
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("is of kind agent, but is listed as kind analyzer"),
            "{err}"
        );
    }
}
