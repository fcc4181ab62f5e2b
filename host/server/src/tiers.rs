//! Tiers: the pipeline each kind of intent runs, as data.
//!
//! The shipped defaults are `host/server/tiers.toml`, embedded in the
//! binary; an operator replaces them with their own file. The file is
//! checked when it is loaded (syntax, names, gates) and again against the
//! loaded plugins ([`Tiers::check_plugins`]), so a typo is refused at
//! start-up with the tier and plugin named rather than found by the first
//! intent. Beside it: `graph` (stages and their needs), `grants` (what
//! each plugin is given), `stacks` (which agent serves which stack) and
//! `llm` (the model endpoint).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use semver::VersionReq;
use serde::{Deserialize, Serialize};

use qlp_contract::model::{PluginKind, Severity};
use qlp_runtime::limits::{CallLimits, LimitOverrides};

/// The tiers shipped with QLP.
pub const DEFAULT_TIERS: &str = include_str!("../tiers.toml");

/// Most repair rounds a tier may allow: each is a full generation and
/// validation, and a generator that cannot fix its findings in five rounds
/// is not converging.
pub const MAX_ITERATIONS: u32 = 5;

mod grants;
mod graph;
mod llm;
mod stacks;

pub use grants::{Access, Effective, PluginGrant, Secret};
use grants::{read_config_files, read_secrets};
pub use graph::{Stage, StageKind, split_reference};
use graph::{ancestors, check_graph};
pub use stacks::{STACK_AGENT, StackAgent, Stacks, Unsupported};

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

/// Plugin calls of one intent that run at once by default.
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
    /// The tier's plugins as lists, which make the graph generate →
    /// analyze → validate; or filled in from `stages`.
    #[serde(default)]
    pub agents: Vec<String>,
    #[serde(default)]
    pub analyzers: Vec<String>,
    #[serde(default)]
    pub validators: Vec<String>,
    /// Rule packs of the registry (`acme/pci-rules`, `acme/base@^2`) that
    /// the tier's `qlp/rules` validator runs, besides its tenants' own.
    #[serde(default)]
    pub rules: Vec<String>,
    /// The tier's stages as a graph, when it gives one.
    #[serde(default)]
    pub stages: Vec<Stage>,
    /// `stages` in an order where every stage comes after those it needs.
    #[serde(skip)]
    pub order: Vec<usize>,
    /// The versions the tier accepts of its plugins, from references like
    /// `qlp/secrets@^1.2`; any version of a plugin not listed.
    #[serde(skip)]
    pub versions: BTreeMap<String, VersionReq>,
    /// The tier's one exporter; shorthand for a one-element `exporters`.
    #[serde(default, skip_serializing)]
    pub exporter: Option<String>,
    /// The exporters, run side by side once the gate has decided, each
    /// producing one artifact of the capsule; the first one's is the
    /// capsule's main artifact.
    #[serde(default)]
    pub exporters: Vec<String>,
    /// The delivery adapter of every artifact; shorthand for a one-element
    /// `deliveries`. Once loaded, the first delivery's adapter.
    #[serde(default)]
    pub delivery: Option<String>,
    /// Where the capsule's artifacts go once it passed its gate (and was
    /// approved): each entry an adapter, the exporters whose artifacts it
    /// takes, a destination and options.
    #[serde(default)]
    pub deliveries: Vec<Delivery>,
    pub gate: Gate,
    /// Repair rounds allowed after a failed gate: the findings go back to
    /// the agents, which produce the next iteration. At most
    /// [`MAX_ITERATIONS`].
    #[serde(default)]
    pub max_iterations: u32,
    /// Whether a person must approve every capsule before delivery.
    #[serde(default)]
    pub approval: bool,
    /// Separation of duties: whoever submitted an intent may not approve
    /// or reject its capsule.
    #[serde(default)]
    pub separate_duties: bool,
    /// The role of each agent (`architect`, `implementer`, `tests`,
    /// `security`, `documentation`), passed to it with every request.
    #[serde(default)]
    pub roles: BTreeMap<String, Role>,
    /// What happens when two agents of one round write the same path.
    #[serde(default)]
    pub conflicts: crate::capsule::Conflicts,
    /// Plugin calls of one intent that run at once;
    /// [`DEFAULT_CONCURRENCY`] when absent.
    #[serde(default)]
    pub concurrency: Option<u32>,
    /// Limits for every plugin call of this tier, over the defaults.
    #[serde(default)]
    pub limits: LimitOverrides,
    /// When an agent stage names [`STACK_AGENT`]: every agent the
    /// `[stacks]` table may choose for it.
    #[serde(skip)]
    pub stack_agents: Vec<String>,
}

/// One way out of a tier: an adapter and what it delivers where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delivery {
    /// The delivery adapter, e.g. `qlp/git` or `qlp/s3@^0.1`.
    pub plugin: String,
    /// The exporters whose artifacts it delivers, e.g. `["qlp/tar-gz"]`;
    /// every artifact when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<String>,
    /// The adapter's destination (a directory, a repository URL, a key
    /// prefix…), `{intent}` replaced by the intent's id; the intent's id
    /// when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    /// Options for the adapter. The host adds its own, named `qlp.…`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
}

impl Delivery {
    /// Every artifact to `plugin`, at its default destination.
    pub fn to(plugin: String) -> Self {
        Self {
            plugin,
            artifacts: vec![],
            destination: None,
            options: BTreeMap::new(),
        }
    }

    /// Whether it delivers the artifact of `exporter`.
    pub fn takes(&self, exporter: &str) -> bool {
        self.artifacts.is_empty() || self.artifacts.iter().any(|a| a == exporter)
    }

    /// Its destination for the intent `intent_id`.
    pub fn destination_for(&self, intent_id: &str) -> String {
        self.destination.as_deref().map_or_else(
            || intent_id.to_owned(),
            |d| d.replace("{intent}", intent_id),
        )
    }
}

impl Tier {
    /// Checks the deliveries against the exporters: each takes at least
    /// one artifact that exists, and no adapter delivers one artifact
    /// twice (its record would be one).
    fn check_deliveries(&self) -> Result<(), String> {
        for (i, d) in self.deliveries.iter().enumerate() {
            if let Some(missing) = d.artifacts.iter().find(|a| !self.exporters.contains(a)) {
                return Err(format!(
                    "delivery `{}` takes the artifact of `{missing}`, which is not among its exporters",
                    d.plugin
                ));
            }
            if let Some(key) = d.options.keys().find(|k| k.starts_with("qlp.")) {
                return Err(format!(
                    "delivery `{}`: option `{key}`: options named `qlp.…` are the host's",
                    d.plugin
                ));
            }
            let twice = self.deliveries[..i].iter().any(|other| {
                other.plugin == d.plugin
                    && self.exporters.iter().any(|e| other.takes(e) && d.takes(e))
            });
            if twice {
                return Err(format!(
                    "delivery `{}` would deliver one artifact twice; give each entry its own `artifacts`",
                    d.plugin
                ));
            }
        }
        Ok(())
    }

    /// Plugin calls of one intent that may run at once.
    pub fn concurrency(&self) -> usize {
        self.concurrency.unwrap_or(DEFAULT_CONCURRENCY).max(1) as usize
    }

    /// Takes the version requirements off the tier's plugin references
    /// (`name@^1.2` → `name`) into `versions`.
    fn take_versions(&mut self) -> Result<(), String> {
        let mut versions: BTreeMap<String, VersionReq> = BTreeMap::new();
        let references = self
            .agents
            .iter_mut()
            .chain(self.analyzers.iter_mut())
            .chain(self.validators.iter_mut())
            .chain(self.stages.iter_mut().flat_map(|s| s.plugins.iter_mut()))
            .chain(self.exporters.iter_mut())
            .chain(self.deliveries.iter_mut().map(|d| &mut d.plugin))
            .chain(self.rules.iter_mut());
        for reference in references {
            let (name, req) = split_reference(reference)?;
            if let Some(req) = req {
                if let Some(other) = versions.get(&name)
                    && *other != req
                {
                    return Err(format!(
                        "plugin `{name}` is required both as {other} and as {req}"
                    ));
                }
                versions.insert(name.clone(), req);
            }
            *reference = name;
        }
        self.versions = versions;
        Ok(())
    }

    /// Refuses rule packs the tier could not run: more than
    /// [`MAX_PACKS`], one listed twice, or a tier without
    /// the `qlp/rules` validator.
    fn check_rules(&self) -> Result<(), String> {
        if self.rules.is_empty() {
            return Ok(());
        }
        if self.rules.len() > MAX_PACKS {
            return Err(format!(
                "lists {} rule packs; at most {MAX_PACKS}",
                self.rules.len()
            ));
        }
        if let Some((_, twice)) = self
            .rules
            .iter()
            .enumerate()
            .find(|(i, r)| self.rules[..*i].contains(r))
        {
            return Err(format!("lists rule pack `{twice}` twice"));
        }
        let runs_rules = self.validators.iter().any(|v| v == RULES_PLUGIN)
            || self.stages.iter().any(|s| {
                s.kind == StageKind::Validator && s.plugins.iter().any(|p| p == RULES_PLUGIN)
            });
        if !runs_rules {
            return Err(format!(
                "lists rule packs but no `{RULES_PLUGIN}` validator to run them"
            ));
        }
        Ok(())
    }

    /// Makes `stages` and the plugin lists describe the same graph (each
    /// from the other, whichever the file gave) and checks the graph.
    fn build_graph(&mut self) -> Result<(), String> {
        match (self.exporter.take(), self.exporters.is_empty()) {
            (Some(one), true) => self.exporters.push(one),
            (Some(_), false) => return Err("gives both `exporter` and `exporters`; use one".into()),
            (None, true) => return Err("names no exporter".into()),
            (None, false) => {}
        }
        match (self.delivery.take(), self.deliveries.is_empty()) {
            (Some(one), true) => self.deliveries.push(Delivery::to(one)),
            (Some(_), false) => {
                return Err("gives both `delivery` and `deliveries`; use one".into());
            }
            _ => {}
        }
        self.take_versions()?;
        self.check_deliveries()?;
        self.delivery = self.deliveries.first().map(|d| d.plugin.clone());
        self.check_rules()?;
        if let Some(twice) = self
            .exporters
            .iter()
            .enumerate()
            .find(|(i, e)| self.exporters[..*i].contains(e))
        {
            return Err(format!("lists exporter `{}` twice", twice.1));
        }
        let lists =
            !self.agents.is_empty() || !self.analyzers.is_empty() || !self.validators.is_empty();
        if self.stages.is_empty() {
            if self.agents.is_empty() {
                return Err("names no agent".into());
            }
            let mut stages = vec![Stage {
                name: "generate".into(),
                kind: StageKind::Agent,
                plugins: self.agents.clone(),
                needs: vec![],
            }];
            for (name, kind, plugins) in [
                ("analyze", StageKind::Analyzer, &self.analyzers),
                ("validate", StageKind::Validator, &self.validators),
            ] {
                if !plugins.is_empty() {
                    let before = stages.last().expect("generate comes first").name.clone();
                    stages.push(Stage {
                        name: name.into(),
                        kind,
                        plugins: plugins.clone(),
                        needs: vec![before],
                    });
                }
            }
            self.stages = stages;
        } else if lists {
            return Err(
                "gives both `stages` and agents/analyzers/validators lists; use one".into(),
            );
        }
        self.order = check_graph(&self.stages)?;
        if !lists {
            for &i in &self.order {
                let stage = &self.stages[i];
                match stage.kind {
                    StageKind::Agent => &mut self.agents,
                    StageKind::Analyzer => &mut self.analyzers,
                    StageKind::Validator => &mut self.validators,
                }
                .extend(stage.plugins.iter().cloned());
            }
        }
        Ok(())
    }

    /// Every plugin the tier runs, by name: its stages' (every agent the
    /// stack may choose in place of [`STACK_AGENT`]), its exporter and its
    /// delivery adapter.
    pub fn plugin_names(&self) -> BTreeSet<&String> {
        self.stages
            .iter()
            .flat_map(|s| &s.plugins)
            .filter(|p| *p != STACK_AGENT)
            .chain(&self.stack_agents)
            .chain(&self.exporters)
            .chain(self.deliveries.iter().map(|d| &d.plugin))
            .collect()
    }

    /// Whether an agent stage runs the agent of the detected stack.
    pub fn uses_stack(&self) -> bool {
        self.stages
            .iter()
            .any(|s| s.kind == StageKind::Agent && s.plugins.iter().any(|p| p == STACK_AGENT))
    }

    /// This tier with `agents` in place of [`STACK_AGENT`], each agent
    /// once per stage: an agent the stage also names itself runs where the
    /// stack put it.
    pub fn with_stack_agents(&self, agents: &[String]) -> Tier {
        let mut tier = self.clone();
        let splice = |names: &mut Vec<String>| {
            let mut spliced: Vec<String> = vec![];
            for name in names.drain(..) {
                let chosen = if name == STACK_AGENT {
                    agents.to_vec()
                } else {
                    vec![name]
                };
                for name in chosen {
                    if !spliced.contains(&name) {
                        spliced.push(name);
                    }
                }
            }
            *names = spliced;
        };
        for stage in &mut tier.stages {
            if stage.plugins.iter().any(|p| p == STACK_AGENT) {
                splice(&mut stage.plugins);
            }
        }
        if tier.agents.iter().any(|p| p == STACK_AGENT) {
            splice(&mut tier.agents);
        }
        tier
    }

    /// The tier as a check runs it (`POST /v1/checks`): its analyzer and
    /// validator stages and its gate. A check's project is uploaded, not
    /// generated, and its verdict is the result, so there are no agents,
    /// repair rounds, exporters, approval or delivery. A stage that needed
    /// an agent stage needs what that stage needed instead.
    pub fn for_check(&self) -> Tier {
        let kept: Vec<usize> = (0..self.stages.len())
            .filter(|&i| self.stages[i].kind != StageKind::Agent)
            .collect();
        let stages = kept
            .iter()
            .map(|&i| Stage {
                needs: self
                    .ancestors(i)
                    .into_iter()
                    .filter(|&j| self.stages[j].kind != StageKind::Agent)
                    .map(|j| self.stages[j].name.clone())
                    .collect(),
                ..self.stages[i].clone()
            })
            .collect();
        let order = self
            .order
            .iter()
            .filter_map(|i| kept.iter().position(|k| k == i))
            .collect();
        Tier {
            agents: vec![],
            stages,
            order,
            exporter: None,
            exporters: vec![],
            delivery: None,
            deliveries: vec![],
            max_iterations: 0,
            approval: false,
            ..self.clone()
        }
    }

    /// The indices of the stages `stage` needs, directly or through others.
    pub fn ancestors(&self, stage: usize) -> BTreeSet<usize> {
        ancestors(&self.stages, stage)
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
    #[serde(default)]
    stacks: Option<Stacks>,
    #[serde(default)]
    llm: Option<llm::LlmConfig>,
}

/// The planner that reads every intent first and recommends a tier.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlannerConfig {
    pub plugin: String,
    /// The planner versions accepted, from `plugin = "name@^1"`.
    #[serde(skip)]
    pub version: Option<VersionReq>,
    /// The tiers it chooses from, from the least to the most demanding;
    /// every tier by its gate's minimum score when absent.
    #[serde(default)]
    pub tiers: Vec<String>,
}

/// The first-party validator that runs enterprise rule packs.
pub const RULES_PLUGIN: &str = "qlp/rules";

/// The most rule packs one intent runs (a tier's and its tenant's
/// together).
pub const MAX_PACKS: usize = 32;

/// The configuration key of its rule pack.
pub const RULES_PACK_KEY: &str = "pack";

/// The loaded tiers file.
#[derive(Debug, Clone)]
pub struct Tiers {
    pub planner: Option<PlannerConfig>,
    pub tiers: BTreeMap<String, Tier>,
    pub grants: BTreeMap<String, PluginGrant>,
    /// Which agent serves which stack, for tiers that name [`STACK_AGENT`].
    pub stacks: Option<Stacks>,
    /// The model endpoint of `[llm]`, if one is configured.
    pub llm: Option<std::sync::Arc<qlp_runtime::llm::Endpoint>>,
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
        let base = path.parent().unwrap_or(Path::new("."));
        Self::parse_in(&text, &path.display().to_string(), Some(base))
    }

    /// Parses a tiers file's text; `config_files` need a file to be
    /// relative to ([`Tiers::load`]).
    pub fn parse(text: &str, origin: &str) -> Result<Self, Error> {
        Self::parse_in(text, origin, None)
    }

    fn parse_in(text: &str, origin: &str, base: Option<&Path>) -> Result<Self, Error> {
        let mut file: File = toml::from_str(text).map_err(|e| Error::Parse {
            origin: origin.to_owned(),
            message: e.to_string(),
        })?;
        if file.tiers.is_empty() {
            return Err(Error::Parse {
                origin: origin.to_owned(),
                message: "no tiers are defined".into(),
            });
        }
        // The versions the `[stacks]` table asks of its agents.
        let mut stack_versions = BTreeMap::new();
        if let Some(stacks) = &mut file.stacks {
            let parse_err = |message: String| Error::Parse {
                origin: origin.to_owned(),
                message: format!("stacks: {message}"),
            };
            stacks.check().map_err(parse_err)?;
            for reference in stacks
                .agents
                .iter_mut()
                .map(|a| &mut a.agent)
                .chain(stacks.default.iter_mut())
            {
                let (name, req) = split_reference(reference).map_err(parse_err)?;
                if let Some(req) = req {
                    stack_versions.insert(name.clone(), req);
                }
                *reference = name;
            }
        }
        for (name, tier) in &mut file.tiers {
            let err = |message: String| Error::Tier {
                tier: name.clone(),
                message,
            };
            tier.build_graph().map_err(err)?;
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
            if tier.uses_stack() {
                let Some(stacks) = &file.stacks else {
                    return Err(err(format!(
                        "runs the agent of the detected stack (`{STACK_AGENT}`), but the file has no [stacks] table"
                    )));
                };
                if file.planner.is_none() {
                    return Err(err(format!(
                        "runs the agent of the detected stack (`{STACK_AGENT}`), which needs a [planner] to detect it"
                    )));
                }
                tier.versions.extend(stack_versions.clone());
                tier.stack_agents = stacks.agent_names();
            }
            if let Some(a) = tier
                .roles
                .keys()
                .find(|a| !tier.agents.contains(a) && !tier.stack_agents.contains(a))
            {
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
        if let Some(p) = &mut file.planner {
            let (name, version) = split_reference(&p.plugin).map_err(|message| Error::Parse {
                origin: origin.to_owned(),
                message: format!("planner: {message}"),
            })?;
            p.plugin = name;
            p.version = version;
            for t in &p.tiers {
                if !file.tiers.contains_key(t) {
                    return Err(Error::Parse {
                        origin: origin.to_owned(),
                        message: format!("planner.tiers names tier `{t}`, which is not defined"),
                    });
                }
            }
        }
        for (name, grant) in &mut file.plugins {
            read_config_files(grant, base)
                .and_then(|()| read_secrets(grant, base))
                .map_err(|m| Error::Parse {
                    origin: origin.to_owned(),
                    message: format!("plugin `{name}`: {m}"),
                })?;
            if name == RULES_PLUGIN
                && let Some(pack) = grant.config.get(RULES_PACK_KEY)
            {
                // A broken rule is refused now, naming the rule, never
                // when an intent runs it.
                qlp_rules::Pack::parse(pack).map_err(|e| Error::Parse {
                    origin: origin.to_owned(),
                    message: format!("plugin `{name}`: rule pack: {e}"),
                })?;
            }
            grant.http_grant().map_err(|m| Error::Parse {
                origin: origin.to_owned(),
                message: format!("plugin `{name}`: http: {m}"),
            })?;
            grant.limits.check().map_err(|m| Error::Parse {
                origin: origin.to_owned(),
                message: format!("plugin `{name}`: limits: {m}"),
            })?;
        }
        let llm = match &file.llm {
            Some(config) => Some(std::sync::Arc::new(config.endpoint(base).map_err(|m| {
                Error::Parse {
                    origin: origin.to_owned(),
                    message: format!("llm: {m}"),
                }
            })?)),
            None => None,
        };
        if llm.is_none()
            && let Some((name, _)) = file.plugins.iter().find(|(_, g)| g.llm)
        {
            return Err(Error::Parse {
                origin: origin.to_owned(),
                message: format!(
                    "plugin `{name}`: llm = true, but the file has no [llm] table naming the model endpoint"
                ),
            });
        }
        Ok(Self {
            planner: file.planner,
            tiers: file.tiers,
            grants: file.plugins,
            stacks: file.stacks,
            llm,
        })
    }

    /// The agents `tier` runs for a planner's `stack`, in place of
    /// [`STACK_AGENT`]: `None` when the tier names its agents itself.
    pub fn stack_agents(
        &self,
        tier: &Tier,
        stack: &[String],
    ) -> Option<Result<Vec<String>, Unsupported>> {
        if !tier.uses_stack() {
            return None;
        }
        let stacks = self.stacks.as_ref()?;
        Some(stacks.choose(stack))
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

    /// Every tier from the least to the most demanding: the planner's
    /// order, then the tiers it does not choose from by the gate's minimum
    /// score and name. Compliance floors compare tiers by it.
    pub fn by_demand(&self) -> Vec<String> {
        let mut order = self.planner_tiers();
        let mut rest: Vec<(&u8, &String)> = self
            .tiers
            .iter()
            .filter(|(name, _)| !order.contains(name))
            .map(|(name, t)| (&t.gate.min_score, name))
            .collect();
        rest.sort();
        order.extend(rest.into_iter().map(|(_, n)| n.clone()));
        order
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
    /// kind: `kind_of(Some(tier), name)` for a tier's plugin,
    /// `kind_of(None, name)` for the planner.
    pub fn check_plugins(
        &self,
        kind_of: impl Fn(Option<&str>, &str) -> Option<PluginKind>,
    ) -> Result<(), Error> {
        if let Some(PlannerConfig {
            plugin: planner, ..
        }) = &self.planner
        {
            match kind_of(None, planner) {
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
                .stages
                .iter()
                .flat_map(|s| {
                    s.plugins
                        .iter()
                        .filter(|p| *p != STACK_AGENT)
                        .map(move |p| (s.name.as_str(), p, s.kind.plugin_kind()))
                })
                .chain(
                    tier.stack_agents
                        .iter()
                        .map(|p| ("stacks", p, PluginKind::Agent)),
                )
                .chain(
                    tier.exporters
                        .iter()
                        .map(|p| ("export", p, PluginKind::Exporter)),
                )
                .chain(
                    tier.deliveries
                        .iter()
                        .map(|d| ("deliver", &d.plugin, PluginKind::Delivery)),
                );
            for (stage, plugin, expected) in stages {
                let message = match kind_of(Some(name), plugin) {
                    None => format!("stage `{stage}`: plugin `{plugin}` is not installed"),
                    Some(actual) if actual != expected => format!(
                        "stage `{stage}`: plugin `{plugin}` is of kind {actual}, but is listed as kind {expected}"
                    ),
                    Some(_) => continue,
                };
                return Err(Error::Tier {
                    tier: name.clone(),
                    message,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qlp_contract::model::Capability;

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
    fn a_tier_running_the_stack_agent_needs_a_stacks_table_and_a_planner() {
        let tier = r#"
            [tiers.t]
            agents = ["stack"]
            exporter = "a/zip"
            gate = { min_score = 0, max_critical = 0 }
        "#;
        let stacks = r#"
            [stacks]
            default = "a/py@^1"
            [[stacks.agents]]
            agent = "a/go"
            serves = ["go"]
        "#;
        let planner = "[planner]\nplugin = \"a/planner\"\n";
        let err = Tiers::parse(&format!("{planner}{tier}"), "t").unwrap_err();
        assert!(err.to_string().contains("no [stacks] table"), "{err}");
        let err = Tiers::parse(&format!("{tier}{stacks}"), "t").unwrap_err();
        assert!(err.to_string().contains("needs a [planner]"), "{err}");

        let tiers = Tiers::parse(&format!("{planner}{tier}{stacks}"), "t").unwrap();
        let t = tiers.get("t").unwrap();
        assert!(t.uses_stack());
        // Every agent the table may choose is loaded for the tier, with
        // the versions the table asks for.
        let names: Vec<&str> = t.plugin_names().iter().map(|s| s.as_str()).collect();
        assert_eq!(names, ["a/go", "a/py", "a/zip"]);
        assert_eq!(t.versions["a/py"].to_string(), "^1");
        let go = tiers.stack_agents(t, &["go".into()]).unwrap().unwrap();
        assert_eq!(t.with_stack_agents(&go).agents, ["a/go"]);
        assert_eq!(t.with_stack_agents(&go).stages[0].plugins, ["a/go"]);
        // Several agents take the place of `stack`, in order, and one the
        // tier also names runs once, where the stack put it.
        let mut both = t.clone();
        both.agents = vec!["a/lint".into(), STACK_AGENT.into(), "a/py".into()];
        both.stages[0].plugins = both.agents.clone();
        let chosen = both.with_stack_agents(&["a/go".into(), "a/py".into()]);
        assert_eq!(chosen.agents, ["a/lint", "a/go", "a/py"]);
        assert_eq!(chosen.stages[0].plugins, ["a/lint", "a/go", "a/py"]);
        // The stack agents must be agents.
        let err = tiers
            .check_plugins(|_, name| {
                Some(match name {
                    "a/go" => PluginKind::Validator,
                    "a/zip" => PluginKind::Exporter,
                    "a/planner" => PluginKind::Planner,
                    _ => PluginKind::Agent,
                })
            })
            .unwrap_err();
        assert!(err.to_string().contains("`a/go` is of kind"), "{err}");
    }

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
    fn deliveries_route_artifacts_by_exporter_with_their_own_destination() {
        let tier = |extra: &str| {
            format!(
                "[tiers.t]\nagents=['a/b']\nexporters=['a/zip', 'a/tgz@^1']\ngate={{min_score=50}}\n{extra}\n"
            )
        };
        let parse = |extra: &str| Tiers::parse(&tier(extra), "t");
        let ok = parse(
            "deliveries=[{plugin='a/git@^2', artifacts=['a/tgz'], destination='http://git/{intent}.git', options={branch='main'}}, {plugin='a/s3'}]",
        )
        .unwrap();
        let t = ok.get("t").unwrap();
        assert_eq!(t.deliveries.len(), 2);
        let (git, s3) = (&t.deliveries[0], &t.deliveries[1]);
        assert_eq!(git.plugin, "a/git", "the version is taken off");
        assert_eq!(t.versions["a/git"].to_string(), "^2");
        assert!(git.takes("a/tgz") && !git.takes("a/zip"));
        assert!(s3.takes("a/tgz") && s3.takes("a/zip"));
        assert_eq!(git.destination_for("i-1"), "http://git/i-1.git");
        assert_eq!(s3.destination_for("i-1"), "i-1");
        assert_eq!(t.delivery.as_deref(), Some("a/git"));
        assert!(t.plugin_names().contains(&"a/s3".to_owned()));
        assert!(t.for_check().deliveries.is_empty());

        // The shorthand is one delivery of every artifact.
        let one = parse("delivery='a/fs'").unwrap();
        assert_eq!(
            one.get("t").unwrap().deliveries,
            [Delivery::to("a/fs".into())]
        );

        let refused = |extra: &str| parse(extra).unwrap_err().to_string();
        let err = refused("delivery='a/fs'\ndeliveries=[{plugin='a/s3'}]");
        assert!(err.contains("both `delivery` and `deliveries`"), "{err}");
        let err = refused("deliveries=[{plugin='a/s3', artifacts=['a/helm']}]");
        assert!(
            err.contains("`a/helm`") && err.contains("not among its exporters"),
            "{err}"
        );
        let err = refused("deliveries=[{plugin='a/s3', options={'qlp.delivery-key'='x'}}]");
        assert!(err.contains("are the host's"), "{err}");
        let err = refused("deliveries=[{plugin='a/s3', artifacts=['a/zip']}, {plugin='a/s3'}]");
        assert!(err.contains("one artifact twice"), "{err}");
        // The same adapter twice, for different artifacts, is fine.
        parse("deliveries=[{plugin='a/s3', artifacts=['a/zip']}, {plugin='a/s3', artifacts=['a/tgz']}]")
            .unwrap();
        let err = refused("deliveries=[{plugin='a/s3', bucket='x'}]");
        assert!(err.contains("bucket"), "{err}");
    }

    #[test]
    fn secrets_come_from_the_environment_or_files_and_reach_only_declaring_plugins() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("token"), "file-secret\n").unwrap();
        // SAFETY: the variable is unique to this test.
        unsafe { std::env::set_var("QLP_TEST_SECRET_7f3a", "env-secret") };
        let text = "[tiers.t]\nagents=['a/b']\nexporter='a/z'\ngate={min_score=50}\n\
                    [plugins.'a/d']\nsecrets={token='file:token', key='env:QLP_TEST_SECRET_7f3a'}\nconfig={bucket='b'}\n";
        let tiers = Tiers::parse_in(text, "t", Some(dir.path())).unwrap();
        let grant = &tiers.grants["a/d"];
        assert_eq!(grant.secret_values["token"].expose(), "file-secret");
        assert_eq!(grant.secret_values["key"].expose(), "env-secret");
        assert!(!format!("{grant:?}").contains("secret\""), "{grant:?}");
        assert!(!format!("{grant:?}").contains("env-secret"));

        let declared = [Capability::Secret("token".into())];
        assert_eq!(
            grant.effective(&declared).secrets,
            [("token", "file-secret")]
        );
        assert!(
            grant.effective(&[]).secrets.is_empty(),
            "not declared, not given"
        );
        let undeclared_key = [Capability::Secret("other".into())];
        assert!(grant.effective(&undeclared_key).secrets.is_empty());

        let refused = |secrets: &str| {
            let text = text.replace(
                "secrets={token='file:token', key='env:QLP_TEST_SECRET_7f3a'}",
                secrets,
            );
            Tiers::parse_in(&text, "t", Some(dir.path()))
                .unwrap_err()
                .to_string()
        };
        let err = refused("secrets={token='hunter2'}");
        assert!(
            err.contains("env:NAME") && !err.contains("hunter2"),
            "{err}"
        );
        let err = refused("secrets={token='env:QLP_TEST_UNSET_9b1c'}");
        assert!(err.contains("`QLP_TEST_UNSET_9b1c` is not set"), "{err}");
        let err = refused("secrets={token='file:missing'}");
        assert!(err.contains("cannot read"), "{err}");
        let err = refused("secrets={bucket='env:QLP_TEST_SECRET_7f3a'}");
        assert!(err.contains("both config and secrets"), "{err}");
        std::fs::write(dir.path().join("empty"), "\n").unwrap();
        let err = refused("secrets={token='file:empty'}");
        assert!(err.contains("is empty"), "{err}");
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
            .check_plugins(|_, _| Some(PluginKind::Validator))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("planner `qlp/planner` is of kind validator"),
            "{err}"
        );
    }

    #[test]
    fn a_capability_needs_the_declaration_and_the_grant() {
        let grant = PluginGrant {
            directory: Some("out".into()),
            access: Access::ReadWrite,
            http: vec!["example.com:80".into()],
            ..PluginGrant::default()
        };
        let nothing = grant.effective(&[]);
        assert_eq!(nothing.http, [] as [String; 0]);
        assert_eq!(nothing.directory, None);
        let read = grant.effective(&[Capability::DirectoryRead]);
        assert_eq!(read.directory, Some((Path::new("out"), false)));
        let write = grant.effective(&[Capability::DirectoryWrite, Capability::Http("x:1".into())]);
        assert_eq!(write.directory, Some((Path::new("out"), true)));
        assert_eq!(write.http, ["example.com:80"]);
        let read_only = PluginGrant {
            access: Access::ReadOnly,
            ..grant.clone()
        };
        assert_eq!(
            read_only.effective(&[Capability::DirectoryWrite]).directory,
            Some((Path::new("out"), false))
        );
        assert_eq!(
            PluginGrant::default()
                .effective(&[Capability::DirectoryWrite])
                .directory,
            None
        );
    }

    #[test]
    fn a_tier_names_one_exporter_or_a_list_of_distinct_ones() {
        let parse = |exports: &str| {
            Tiers::parse(
                &format!("[tiers.x]\nagents=['a/b']\n{exports}\ngate={{min_score=0}}\n"),
                "t",
            )
        };
        let one = parse("exporter='a/zip'").unwrap();
        assert_eq!(one.tiers["x"].exporters, ["a/zip"]);
        let two = parse("exporters=['a/zip', 'a/helm@^1']").unwrap();
        assert_eq!(two.tiers["x"].exporters, ["a/zip", "a/helm"]);
        assert_eq!(two.tiers["x"].versions["a/helm"].to_string(), "^1");
        assert!(two.tiers["x"].plugin_names().iter().any(|n| *n == "a/helm"));
        for (exports, expected) in [
            ("", "tier `x`: names no exporter"),
            ("exporters=[]", "tier `x`: names no exporter"),
            (
                "exporter='a/zip'\nexporters=['a/tar']",
                "tier `x`: gives both `exporter` and `exporters`",
            ),
            (
                "exporters=['a/zip', 'a/zip@^1']",
                "tier `x`: lists exporter `a/zip` twice",
            ),
        ] {
            let err = parse(exports).unwrap_err().to_string();
            assert!(err.contains(expected), "{exports}: {err}");
        }
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
        let err = tiers.check_plugins(|_, _| None).unwrap_err().to_string();
        assert!(err.contains("is not installed"), "{err}");
        let err = tiers
            .check_plugins(|_, name| {
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

    /// A tier of `stages` (TOML array-of-tables bodies, one per stage).
    fn graph(stages: &[&str]) -> Result<Tiers, String> {
        let mut text = String::from("[tiers.g]\nexporter='a/z'\ngate={min_score=0}\n");
        for body in stages {
            text.push_str("[[tiers.g.stages]]\n");
            text.push_str(body);
            text.push('\n');
        }
        Tiers::parse(&text, "f").map_err(|e| e.to_string())
    }

    const SCAFFOLD: &str = "name='scaffold'\nkind='agent'\nplugins=['a/gen']";

    #[test]
    fn a_stage_graph_runs_each_stage_after_the_ones_it_needs() {
        let tiers = graph(&[
            "name='check'\nkind='validator'\nplugins=['a/v']\nneeds=['measure','docs']",
            "name='docs'\nkind='agent'\nplugins=['a/docs']\nneeds=['scaffold']",
            "name='measure'\nkind='analyzer'\nplugins=['a/py']\nneeds=['docs']",
            SCAFFOLD,
        ])
        .unwrap();
        let tier = tiers.get("g").unwrap();
        let names: Vec<&str> = tier
            .order
            .iter()
            .map(|&i| tier.stages[i].name.as_str())
            .collect();
        assert_eq!(names, ["scaffold", "docs", "measure", "check"]);
        // The lists follow the graph, so gates and roles can name them.
        assert_eq!(tier.agents, ["a/gen", "a/docs"]);
        assert_eq!(tier.analyzers, ["a/py"]);
        assert_eq!(tier.validators, ["a/v"]);
        assert_eq!(tier.ancestors(0), BTreeSet::from([1, 2, 3]));
    }

    #[test]
    fn a_check_runs_the_graph_without_its_agents_packaging_or_delivery() {
        let tiers = graph(&[
            "name='check'\nkind='validator'\nplugins=['a/v']\nneeds=['measure','docs']",
            "name='docs'\nkind='agent'\nplugins=['a/docs']\nneeds=['scaffold']",
            "name='measure'\nkind='analyzer'\nplugins=['a/py']\nneeds=['docs']",
            "name='lint'\nkind='validator'\nplugins=['a/l']\nneeds=['docs']",
            SCAFFOLD,
        ])
        .unwrap();
        let mut tier = tiers.get("g").unwrap().clone();
        tier.max_iterations = 2;
        tier.approval = true;
        tier.delivery = Some("a/fs".into());
        let check = tier.for_check();
        let stages: Vec<(&str, Vec<&str>)> = check
            .order
            .iter()
            .map(|&i| {
                let s = &check.stages[i];
                (
                    s.name.as_str(),
                    s.needs.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        // `check` needed `docs` (an agent): it keeps what `docs` led to.
        assert_eq!(
            stages,
            [
                ("measure", vec![]),
                ("lint", vec![]),
                ("check", vec!["measure"])
            ]
        );
        assert!(check.exporters.is_empty() && check.exporter.is_none());
        assert_eq!(check.delivery, None);
        assert_eq!((check.max_iterations, check.approval), (0, false));
        assert_eq!(check.gate.min_score, tier.gate.min_score);
    }

    #[test]
    fn config_files_are_read_beside_the_tiers_file_and_their_errors_named() {
        let dir = tempfile::tempdir().unwrap();
        let tier =
            "[tiers.t]\nagents = ['a/agent']\nexporter = 'a/zip'\ngate = { min_score = 0 }\n";
        std::fs::write(dir.path().join("note.txt"), "hello").unwrap();
        let write = |grant: &str| {
            let path = dir.path().join("tiers.toml");
            std::fs::write(&path, format!("{tier}[plugins.\"a/agent\"]\n{grant}\n")).unwrap();
            Tiers::load(&path).map_err(|e| e.to_string())
        };
        let loaded = write("config_files = { note = 'note.txt' }").unwrap();
        assert_eq!(loaded.grants["a/agent"].config["note"], "hello");
        let err = write("config_files = { note = 'missing.txt' }").unwrap_err();
        assert!(err.contains("config_files.note: cannot read"), "{err}");
        let err =
            write("config = { note = 'x' }\nconfig_files = { note = 'note.txt' }").unwrap_err();
        assert!(
            err.contains("`note` is in both config and config_files"),
            "{err}"
        );
        // Text without a file has nothing to be relative to.
        let err = Tiers::parse(
            &format!("{tier}[plugins.\"a/agent\"]\nconfig_files = {{ note = 'note.txt' }}\n"),
            "text",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("relative to a tiers file"), "{err}");
        // A rule pack with a broken rule refuses the file, naming the rule.
        std::fs::write(
            dir.path().join("pack.yaml"),
            "rules:\n  - id: acme/bad\n    message: m\n    severity: low\n    languages: [generic]\n    pattern-regex: '('\n",
        )
        .unwrap();
        let path = dir.path().join("tiers.toml");
        std::fs::write(
            &path,
            format!("{tier}[plugins.\"qlp/rules\"]\nconfig_files = {{ pack = 'pack.yaml' }}\n"),
        )
        .unwrap();
        let err = Tiers::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("rule pack") && err.contains("acme/bad"),
            "{err}"
        );
    }

    #[test]
    fn the_lists_make_the_linear_graph() {
        let tiers = Tiers::defaults();
        let tier = tiers.get("standard").unwrap();
        let stages: Vec<(&str, StageKind, Vec<&str>)> = tier
            .order
            .iter()
            .map(|&i| {
                let s = &tier.stages[i];
                (
                    s.name.as_str(),
                    s.kind,
                    s.needs.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            stages,
            [
                ("generate", StageKind::Agent, vec![]),
                ("analyze", StageKind::Analyzer, vec!["generate"]),
                ("validate", StageKind::Validator, vec!["analyze"]),
            ]
        );
    }

    #[test]
    fn bad_graphs_are_refused_with_the_tier_and_stage_named() {
        let refused = |stages: &[&str], expected: &str| {
            let err = graph(stages).unwrap_err();
            assert!(
                err.contains("tier `g`") && err.contains(expected),
                "expected `{expected}` in: {err}"
            );
        };
        refused(
            &[
                SCAFFOLD,
                "name='a'\nkind='validator'\nplugins=['a/v1']\nneeds=['scaffold','b']",
                "name='b'\nkind='validator'\nplugins=['a/v2']\nneeds=['c']",
                "name='c'\nkind='validator'\nplugins=['a/v3']\nneeds=['b']",
            ],
            "stages form a cycle: b → c → b; unreachable behind it: `a`",
        );
        refused(
            &[
                SCAFFOLD,
                "name='v'\nkind='validator'\nplugins=['a/v']\nneeds=['scafold']",
            ],
            "stage `v` needs `scafold`, which is not a stage of the tier",
        );
        refused(
            &[
                SCAFFOLD,
                "name='docs'\nkind='agent'\nplugins=['a/docs']",
                "name='v'\nkind='validator'\nplugins=['a/v']\nneeds=['scaffold']",
            ],
            "stage `v` does not need agent stage `docs`",
        );
        refused(
            &[
                SCAFFOLD,
                "name='v'\nkind='validator'\nplugins=['a/v']\nneeds=['scaffold']",
                "name='fix'\nkind='agent'\nplugins=['a/fix']\nneeds=['v']",
            ],
            "agent stage `fix` needs validator stage `v`",
        );
        refused(
            &["name='v'\nkind='validator'\nplugins=['a/v']"],
            "has no agent stage",
        );
        refused(
            &[SCAFFOLD, "name='scaffold'\nkind='agent'\nplugins=['a/b']"],
            "stage `scaffold` is defined twice",
        );
        refused(
            &[
                SCAFFOLD,
                "name='gate'\nkind='validator'\nplugins=['a/v']\nneeds=['scaffold']",
            ],
            "`gate` is reserved",
        );
        refused(
            &[
                SCAFFOLD,
                "name='v'\nkind='validator'\nplugins=['a/gen']\nneeds=['scaffold']",
            ],
            "plugin `a/gen` is named by stage `scaffold` and again by stage `v`",
        );
        let err = graph(&[SCAFFOLD, "name='x'\nkind='exporter'\nplugins=['a/z']"]).unwrap_err();
        assert!(err.contains("unknown variant `exporter`"), "{err}");
        let err = Tiers::parse(
            "[tiers.g]\nagents=['a/b']\nexporter='a/z'\ngate={min_score=0}\n[[tiers.g.stages]]\nname='s'\nkind='agent'\nplugins=['a/c']\n",
            "f",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("both `stages` and"), "{err}");
    }

    #[test]
    fn a_plugin_of_the_wrong_kind_names_its_stage() {
        let tiers = graph(&[
            SCAFFOLD,
            "name='measure'\nkind='analyzer'\nplugins=['a/py']\nneeds=['scaffold']",
        ])
        .unwrap();
        let err = tiers
            .check_plugins(|_, name| {
                Some(match name {
                    "a/z" => PluginKind::Exporter,
                    _ => PluginKind::Agent,
                })
            })
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("tier `g`: stage `measure`: plugin `a/py` is of kind agent, but is listed as kind analyzer"),
            "{err}"
        );
    }

    #[test]
    fn version_requirements_come_off_the_references() {
        let text = "[planner]\nplugin='qlp/planner@^0.1'\n[tiers.t]\nagents=['a/gen@^1.2']\nvalidators=['a/v@=2.0.1']\nexporter='a/zip'\ngate={min_score=0, weights={'a/v'=2}}\n";
        let tiers = Tiers::parse(text, "f").unwrap();
        let t = tiers.get("t").unwrap();
        assert_eq!(t.agents, ["a/gen"]);
        assert_eq!(t.stages[0].plugins, ["a/gen"]);
        assert_eq!(t.versions["a/gen"].to_string(), "^1.2");
        assert_eq!(t.versions["a/v"].to_string(), "=2.0.1");
        assert!(!t.versions.contains_key("a/zip"));
        let planner = tiers.planner.as_ref().unwrap();
        assert_eq!(planner.plugin, "qlp/planner");
        assert_eq!(planner.version.as_ref().unwrap().to_string(), "^0.1");

        let err = Tiers::parse(&text.replace("=2.0.1", "two"), "f")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`two` is not a version requirement"), "{err}");
        let err = Tiers::parse(
            &text.replace("exporter='a/zip'", "exporter='a/zip'\ndelivery='a/gen@^2'"),
            "f",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("`a/gen` is required both as ^1.2 and as ^2"),
            "{err}"
        );
    }

    #[test]
    fn registry_rule_packs_need_the_rules_validator_and_come_once_with_their_versions() {
        let tier = |extra: &str| {
            format!(
                "[tiers.t]\nagents = [\"a/gen\"]\nvalidators = [\"qlp/rules\"]\nexporter = \"a/zip\"\ngate = {{ min_score = 0 }}\n{extra}\n"
            )
        };
        let tiers = Tiers::parse(&tier("rules = [\"acme/pci@^1.2\", \"acme/base\"]"), "t").unwrap();
        let t = tiers.get("t").unwrap();
        assert_eq!(t.rules, ["acme/pci", "acme/base"]);
        assert_eq!(t.versions["acme/pci"].to_string(), "^1.2");
        assert!(!t.plugin_names().contains(&"acme/pci".to_owned()));
        let err = |text: String| Tiers::parse(&text, "t").unwrap_err().to_string();
        let e = err(tier("rules = [\"acme/pci\", \"acme/pci\"]"));
        assert!(e.contains("`acme/pci` twice"), "{e}");
        let many: Vec<String> = (0..=MAX_PACKS).map(|i| format!("\"acme/p{i}\"")).collect();
        let e = err(tier(&format!("rules = [{}]", many.join(", "))));
        assert!(e.contains("at most"), "{e}");
        let e = err(tier("rules = [\"acme/pci\"]").replace(
            "validators = [\"qlp/rules\"]",
            "validators = [\"qlp/secrets\"]",
        ));
        assert!(e.contains("no `qlp/rules` validator"), "{e}");
        // A graph tier runs them when a validator stage has `qlp/rules`.
        let graph = "[tiers.g]\nexporter = \"a/zip\"\ngate = { min_score = 0 }\nrules = [\"acme/pci\"]\n\
            [[tiers.g.stages]]\nname = \"gen\"\nkind = \"agent\"\nplugins = [\"a/gen\"]\n\
            [[tiers.g.stages]]\nname = \"check\"\nkind = \"validator\"\nplugins = [\"qlp/rules\"]\nneeds = [\"gen\"]\n";
        assert!(
            Tiers::parse(graph, "g").is_ok(),
            "{:?}",
            Tiers::parse(graph, "g").err()
        );
    }

    #[test]
    fn a_plugin_granted_the_model_endpoint_needs_an_llm_table() {
        let text = "[plugins.\"acme/writer\"]\nllm = true\n\n[tiers.t]\nagents = [\"acme/writer\"]\nexporter = \"a/z\"\ngate = { min_score = 50 }\n";
        let err = Tiers::parse(text, "test").unwrap_err().to_string();
        assert!(
            err.contains("plugin `acme/writer`") && err.contains("no [llm] table"),
            "{err}"
        );
        let with_endpoint =
            format!("[llm]\nurl = \"http://127.0.0.1:9/v1\"\nmodels = [\"m\"]\n\n{text}");
        let tiers = Tiers::parse(&with_endpoint, "test").unwrap();
        assert!(tiers.grants["acme/writer"].llm);
        assert_eq!(tiers.llm.as_ref().unwrap().models, ["m"]);
    }
}
