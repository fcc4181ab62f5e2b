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

use crate::model::{PluginKind, Severity};
use crate::runtime::limits::{CallLimits, LimitOverrides};

/// The tiers shipped with QLP.
pub const DEFAULT_TIERS: &str = include_str!("../tiers.toml");

/// Most repair rounds a tier may allow: each is a full generation and
/// validation, and a generator that cannot fix its findings in five rounds
/// is not converging.
pub const MAX_ITERATIONS: u32 = 5;

/// What an agent is asked to be in a tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Architect,
    Implementer,
    Tests,
    Security,
    Documentation,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Architect => "architect",
            Self::Implementer => "implementer",
            Self::Tests => "tests",
            Self::Security => "security",
            Self::Documentation => "documentation",
        }
    }
}

/// Analyzers or validators of one intent that run at once by default.
pub const DEFAULT_CONCURRENCY: u32 = 4;

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
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Gate {
    /// Lowest acceptable quality score, 0–100.
    pub min_score: u8,
    /// Most critical findings a passing capsule may have.
    #[serde(default)]
    pub max_critical: u32,
    /// Most findings a passing capsule may have per severity, e.g.
    /// `{ high = 0, medium = 10 }`; `critical` here overrides
    /// `max_critical`.
    #[serde(default)]
    pub max_findings: BTreeMap<Severity, u32>,
    /// Each validator's weight in the score (1 when not listed).
    #[serde(default)]
    pub weights: BTreeMap<String, u32>,
    /// Validators whose own score must reach `min_score`, whatever the
    /// others score.
    #[serde(default)]
    pub required: Vec<String>,
    /// Scores from `min_score` up to, not including, this one pass only
    /// after a person approves.
    #[serde(default)]
    pub review_below: Option<u8>,
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
    /// Repair rounds allowed after a failed gate: the findings go back to
    /// the agents, which produce the next iteration. At most
    /// [`MAX_ITERATIONS`].
    #[serde(default)]
    pub max_iterations: u32,
    /// Whether a person must approve every capsule before delivery.
    #[serde(default)]
    pub approval: bool,
    /// The role of each agent (`architect`, `implementer`, `tests`,
    /// `security`, `documentation`), passed to it with every request.
    #[serde(default)]
    pub roles: BTreeMap<String, Role>,
    /// What happens when two agents of one round write the same path.
    #[serde(default)]
    pub conflicts: crate::capsule::Conflicts,
    /// Plugin calls of one intent that run at once (analyzers, then
    /// validators); [`DEFAULT_CONCURRENCY`] when absent.
    #[serde(default)]
    pub concurrency: Option<u32>,
    /// Limits for every plugin call of this tier, over the defaults.
    #[serde(default)]
    pub limits: LimitOverrides,
}

impl Tier {
    /// Plugin calls of one intent that may run at once.
    pub fn concurrency(&self) -> usize {
        self.concurrency.unwrap_or(DEFAULT_CONCURRENCY).max(1) as usize
    }
}

/// Access to a granted directory.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Access {
    #[default]
    ReadOnly,
    ReadWrite,
}

/// What the operator grants one plugin.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginGrant {
    /// A directory the plugin may use (delivery adapters), relative to the
    /// data directory unless absolute.
    #[serde(default)]
    pub directory: Option<PathBuf>,
    /// What the plugin may do in `directory`; read-only unless granted.
    #[serde(default)]
    pub access: Access,
    /// Configuration values only this plugin can read.
    #[serde(default)]
    pub config: BTreeMap<String, String>,
    /// Limits for this plugin's calls, over the tier's.
    #[serde(default)]
    pub limits: LimitOverrides,
    /// `host:port` destinations the plugin may reach over HTTP.
    #[serde(default)]
    pub http: Vec<String>,
}

impl PluginGrant {
    /// The HTTP grant, parsed; checked when the tiers file is loaded.
    pub fn http_grant(&self) -> Result<crate::runtime::http::Grant, String> {
        let allowed = self
            .http
            .iter()
            .map(|s| s.parse())
            .collect::<Result<_, _>>()?;
        Ok(crate::runtime::http::Grant { allowed })
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    planner: Option<PlannerConfig>,
    tiers: BTreeMap<String, Tier>,
    #[serde(default)]
    plugins: BTreeMap<String, PluginGrant>,
}

/// The planner that reads every intent first and recommends a tier.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlannerConfig {
    pub plugin: String,
    /// The tiers it chooses from, from the least to the most demanding;
    /// every tier by its gate's minimum score when absent.
    #[serde(default)]
    pub tiers: Vec<String>,
}

/// The loaded tiers file.
#[derive(Debug, Clone)]
pub struct Tiers {
    pub planner: Option<PlannerConfig>,
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
            tier.limits
                .check()
                .map_err(|m| err(format!("limits: {m}")))?;
            let gate = &tier.gate;
            if gate.min_score > 100 {
                return Err(err(format!(
                    "gate.min_score {} is over 100",
                    gate.min_score
                )));
            }
            if let Some(r) = gate.review_below
                && (r <= gate.min_score || r > 100)
            {
                return Err(err(format!(
                    "gate.review_below {r} must be above min_score {} and at most 100",
                    gate.min_score
                )));
            }
            for v in gate.weights.keys().chain(&gate.required) {
                if !tier.validators.contains(v) {
                    return Err(err(format!(
                        "gate names validator `{v}`, which is not among the tier's validators"
                    )));
                }
            }
            if gate.weights.values().all(|w| *w == 0) && !gate.weights.is_empty() {
                return Err(err("gate.weights are all zero".into()));
            }
            if let Some(a) = tier.roles.keys().find(|a| !tier.agents.contains(a)) {
                return Err(err(format!(
                    "roles names `{a}`, which is not among the tier's agents"
                )));
            }
            if tier.concurrency == Some(0) {
                return Err(err("concurrency must be at least 1".into()));
            }
            if tier.max_iterations > MAX_ITERATIONS {
                return Err(err(format!(
                    "max_iterations {} is over the most allowed, {MAX_ITERATIONS}",
                    tier.max_iterations
                )));
            }
        }
        if let Some(p) = &file.planner {
            for t in &p.tiers {
                if !file.tiers.contains_key(t) {
                    return Err(Error::Parse {
                        origin: origin.to_owned(),
                        message: format!("planner.tiers names tier `{t}`, which is not defined"),
                    });
                }
            }
        }
        for (name, grant) in &file.plugins {
            grant.http_grant().map_err(|m| Error::Parse {
                origin: origin.to_owned(),
                message: format!("plugin `{name}`: http: {m}"),
            })?;
            grant.limits.check().map_err(|m| Error::Parse {
                origin: origin.to_owned(),
                message: format!("plugin `{name}`: limits: {m}"),
            })?;
        }
        Ok(Self {
            planner: file.planner,
            tiers: file.tiers,
            grants: file.plugins,
        })
    }

    pub fn get(&self, name: &str) -> Option<&Tier> {
        self.tiers.get(name)
    }

    /// The tiers the planner chooses from, from the least to the most
    /// demanding: the ones it is configured with, or all of them by the
    /// gate's minimum score, then by name.
    pub fn planner_tiers(&self) -> Vec<String> {
        if let Some(p) = &self.planner
            && !p.tiers.is_empty()
        {
            return p.tiers.clone();
        }
        let mut names: Vec<(&u8, &String)> = self
            .tiers
            .iter()
            .map(|(name, t)| (&t.gate.min_score, name))
            .collect();
        names.sort();
        names.into_iter().map(|(_, n)| n.clone()).collect()
    }

    /// The limits of a call of `plugin` (of `kind`) in `tier`: the defaults
    /// for the kind, then the tier's overrides, then the plugin's.
    pub fn limits(&self, tier: &Tier, plugin: &str, kind: PluginKind) -> CallLimits {
        let limits = CallLimits::for_kind(kind).with(&tier.limits);
        match self.grants.get(plugin) {
            Some(grant) => limits.with(&grant.limits),
            None => limits,
        }
    }

    /// The limits of a call of `plugin` (of `kind`) outside any tier: the
    /// defaults for the kind, then the plugin's.
    pub fn plugin_limits(&self, plugin: &str, kind: PluginKind) -> CallLimits {
        let limits = CallLimits::for_kind(kind);
        match self.grants.get(plugin) {
            Some(grant) => limits.with(&grant.limits),
            None => limits,
        }
    }

    /// Whether any tier or plugin caps fuel, so the engine must meter it.
    pub fn uses_fuel(&self) -> bool {
        self.tiers.values().any(|t| t.limits.fuel.is_some())
            || self.grants.values().any(|g| g.limits.fuel.is_some())
    }

    /// Checks that every plugin a tier names is loaded and of the right
    /// kind.
    pub fn check_plugins(&self, kind_of: impl Fn(&str) -> Option<PluginKind>) -> Result<(), Error> {
        if let Some(PlannerConfig {
            plugin: planner, ..
        }) = &self.planner
        {
            match kind_of(planner) {
                Some(PluginKind::Planner) => {}
                found => {
                    return Err(Error::Parse {
                        origin: "tiers".into(),
                        message: match found {
                            None => format!("planner `{planner}` is not installed"),
                            Some(k) => format!(
                                "planner `{planner}` is of kind {k}, but is named as the planner"
                            ),
                        },
                    });
                }
            }
        }
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

    const WITH_LIMITS: &str = r#"
        [tiers.t]
        agents = ["a/agent"]
        exporter = "a/zip"
        gate = { min_score = 0, max_critical = 0 }
        limits = { timeout_ms = 1500, memory_mib = 32 }

        [plugins."a/agent"]
        limits = { memory_mib = 128, fuel = 1000 }
    "#;

    #[test]
    fn limits_apply_defaults_then_the_tier_then_the_plugin() {
        let tiers = Tiers::parse(WITH_LIMITS, "test").unwrap();
        let tier = tiers.get("t").unwrap();
        let agent = tiers.limits(tier, "a/agent", PluginKind::Agent);
        assert_eq!(agent.timeout, std::time::Duration::from_millis(1500));
        assert_eq!(agent.memory, 128 << 20);
        assert_eq!(agent.fuel, Some(1000));
        let zip = tiers.limits(tier, "a/zip", PluginKind::Exporter);
        assert_eq!(zip.memory, 32 << 20);
        assert_eq!(zip.fuel, None);
        assert_eq!(
            zip.max_output,
            CallLimits::for_kind(PluginKind::Exporter).max_output
        );
        assert!(tiers.uses_fuel());
        assert!(!Tiers::defaults().uses_fuel());
    }

    #[test]
    fn limits_the_host_cannot_enforce_are_refused_with_the_tier_named() {
        let text = WITH_LIMITS.replace("memory_mib = 32", "memory_mib = 4096");
        let err = Tiers::parse(&text, "test").unwrap_err().to_string();
        assert!(
            err.contains("tier `t`") && err.contains("memory_mib 4096"),
            "{err}"
        );
        let text = WITH_LIMITS.replace("fuel = 1000", "fuel = 0");
        let err = Tiers::parse(&text, "test").unwrap_err().to_string();
        assert!(err.contains("a/agent") && err.contains("fuel"), "{err}");
        let text = WITH_LIMITS.replace("timeout_ms = 1500", "timeout_secs = 1");
        assert!(
            Tiers::parse(&text, "test").is_err(),
            "an unknown limit was accepted"
        );
    }

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
    fn gates_and_repair_rounds_are_checked_with_the_tier_named() {
        let tier = |extra: &str| {
            format!("[tiers.t]\nagents=['a/b']\nvalidators=['a/v']\nexporter='a/z'\n{extra}\n")
        };
        let refused = |extra: &str| Tiers::parse(&tier(extra), "t").unwrap_err().to_string();
        let err = refused("gate={min_score=50, weights={'a/w'=2}}");
        assert!(err.contains("tier `t`") && err.contains("`a/w`"), "{err}");
        let err = refused("gate={min_score=50, required=['a/x']}");
        assert!(err.contains("`a/x`"), "{err}");
        let err = refused("gate={min_score=50, review_below=40}");
        assert!(err.contains("review_below 40"), "{err}");
        let err = refused("gate={min_score=50}\nmax_iterations=6");
        assert!(err.contains("max_iterations 6"), "{err}");
        let err = refused("gate={min_score=50}\nconcurrency=0");
        assert!(err.contains("concurrency must be at least 1"), "{err}");
        let err = refused("gate={min_score=50}\nroles={'a/x'='tests'}");
        assert!(err.contains("roles names `a/x`"), "{err}");
        let ok = Tiers::parse(
            &tier("gate={min_score=50, review_below=80, weights={'a/v'=3}, required=['a/v'], max_findings={high=1}}\nmax_iterations=5\napproval=true"),
            "t",
        )
        .unwrap();
        let t = ok.get("t").unwrap();
        assert_eq!(t.max_iterations, 5);
        assert!(t.approval);
        assert_eq!(t.gate.max_findings.get(&Severity::High), Some(&1));
        let mission = Tiers::defaults();
        let mission = mission.get("mission-critical").unwrap();
        assert!(mission.approval && mission.max_iterations == MAX_ITERATIONS);
    }

    #[test]
    fn the_planner_chooses_among_defined_tiers_only() {
        let text = "[planner]\nplugin='qlp/planner'\ntiers=['t', 'nope']\n[tiers.t]\nagents=['a/b']\nexporter='a/z'\ngate={min_score=50}\n";
        let err = Tiers::parse(text, "f").unwrap_err().to_string();
        assert!(err.contains("`nope`"), "{err}");
        let shipped = Tiers::defaults();
        assert_eq!(
            shipped.planner_tiers(),
            ["starter", "standard", "enterprise", "mission-critical"]
        );
        let err = shipped
            .check_plugins(|_| Some(PluginKind::Validator))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("planner `qlp/planner` is of kind validator"),
            "{err}"
        );
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
                Some(match name {
                    "qlp/zip" => PluginKind::Validator,
                    "qlp/planner" => PluginKind::Planner,
                    _ => PluginKind::Agent,
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
