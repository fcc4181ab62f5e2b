//! A tier's stage graph: its stages, what each needs, and the checks
//! that make it a graph the pipeline can run (named, acyclic, agents
//! before analyzers before validators).

use std::collections::{BTreeMap, BTreeSet};

use semver::VersionReq;
use serde::Deserialize;

use qlp_contract::model::PluginKind;

/// What the plugins of a stage are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StageKind {
    Agent,
    Analyzer,
    Validator,
}

impl StageKind {
    pub fn plugin_kind(self) -> PluginKind {
        match self {
            Self::Agent => PluginKind::Agent,
            Self::Analyzer => PluginKind::Analyzer,
            Self::Validator => PluginKind::Validator,
        }
    }

    /// Agents come first, analyzers after them and validators last: a
    /// stage may need stages of its own rank or lower only.
    pub fn as_str(self) -> &'static str {
        self.plugin_kind().as_str()
    }

    fn rank(self) -> u8 {
        match self {
            Self::Agent => 0,
            Self::Analyzer => 1,
            Self::Validator => 2,
        }
    }
}

/// One stage of a tier's graph: the plugins it runs and the stages that
/// must end before it starts. An agent stage runs its agents in order, each
/// seeing the files of the ones before it and of every agent stage it
/// needs; an analyzer or validator stage runs its plugins side by side.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    pub name: String,
    pub kind: StageKind,
    pub plugins: Vec<String>,
    #[serde(default)]
    pub needs: Vec<String>,
}

/// A plugin reference of the tiers file, `name` or `name@requirement`
/// (`qlp/secrets@^1.2`, `acme/rules@=2.0.1`).
pub fn split_reference(reference: &str) -> Result<(String, Option<VersionReq>), String> {
    match reference.split_once('@') {
        None => Ok((reference.to_owned(), None)),
        Some((name, req)) => {
            let req = req
                .parse::<VersionReq>()
                .map_err(|e| format!("`{reference}`: `{req}` is not a version requirement: {e}"))?;
            Ok((name.to_owned(), Some(req)))
        }
    }
}

/// Names of the host's own steps, which a stage may not take.
pub(super) const RESERVED_STAGES: &[&str] = &["plan", "gate", "manifest", "export", "deliver"];

/// The indices of the stages `stage` needs, directly or through others;
/// every need names a stage.
pub(super) fn ancestors(stages: &[Stage], stage: usize) -> BTreeSet<usize> {
    let mut found = BTreeSet::new();
    let mut todo = vec![stage];
    while let Some(i) = todo.pop() {
        for need in &stages[i].needs {
            let j = stages
                .iter()
                .position(|s| &s.name == need)
                .expect("needs are checked");
            if found.insert(j) {
                todo.push(j);
            }
        }
    }
    found
}

/// Checks a tier's stage graph and returns its stages in an order where
/// each comes after every stage it needs (Kahn's algorithm). Refused:
/// duplicate or reserved names, unknown needs, a plugin named twice,
/// cycles and the stages behind them, a stage needing one of a later kind,
/// and an analyzer or validator stage that does not see every agent's
/// files.
pub(super) fn check_graph(stages: &[Stage]) -> Result<Vec<usize>, String> {
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    let mut plugins: BTreeMap<&str, &str> = BTreeMap::new();
    for (i, stage) in stages.iter().enumerate() {
        let name = stage.name.as_str();
        let valid = !name.is_empty()
            && name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !valid {
            return Err(format!(
                "stage name `{name}` must be 1 to 64 of a-z, 0-9, `-` and `_`"
            ));
        }
        if RESERVED_STAGES.contains(&name) {
            return Err(format!(
                "stage name `{name}` is reserved for the host's own step"
            ));
        }
        if index.insert(name, i).is_some() {
            return Err(format!("stage `{name}` is defined twice"));
        }
        if stage.plugins.is_empty() {
            return Err(format!("stage `{name}` names no plugin"));
        }
        for plugin in &stage.plugins {
            if let Some(other) = plugins.insert(plugin, name) {
                return Err(format!(
                    "plugin `{plugin}` is named by stage `{other}` and again by stage `{name}`"
                ));
            }
        }
    }
    for stage in stages {
        for need in &stage.needs {
            if need == &stage.name {
                return Err(format!("stage `{}` needs itself", stage.name));
            }
            let Some(&j) = index.get(need.as_str()) else {
                return Err(format!(
                    "stage `{}` needs `{need}`, which is not a stage of the tier",
                    stage.name
                ));
            };
            let other = &stages[j];
            if other.kind.rank() > stage.kind.rank() {
                return Err(format!(
                    "{} stage `{}` needs {} stage `{need}`, but {}s run before {}s",
                    stage.kind.as_str(),
                    stage.name,
                    other.kind.as_str(),
                    stage.kind.as_str(),
                    other.kind.as_str()
                ));
            }
        }
    }

    // Kahn: take stages whose needs are all taken.
    let mut waiting: Vec<usize> = stages.iter().map(|s| s.needs.len()).collect();
    let mut ready: std::collections::VecDeque<usize> =
        (0..stages.len()).filter(|&i| waiting[i] == 0).collect();
    let mut order = vec![];
    while let Some(i) = ready.pop_front() {
        order.push(i);
        for (j, s) in stages.iter().enumerate() {
            if s.needs.iter().any(|n| n == &stages[i].name) {
                waiting[j] -= 1;
                if waiting[j] == 0 {
                    ready.push_back(j);
                }
            }
        }
    }
    if order.len() < stages.len() {
        let left: Vec<usize> = (0..stages.len()).filter(|i| !order.contains(i)).collect();
        // Walk needs among the stages left until one repeats: that is a
        // cycle. Every stage left off it waits on a cycle, so never runs.
        let mut path = vec![left[0]];
        let cycle = loop {
            let last = *path.last().expect("never empty");
            let next = stages[last]
                .needs
                .iter()
                .map(|n| index[n.as_str()])
                .find(|j| left.contains(j))
                .expect("a stage left by Kahn needs another stage left");
            if let Some(at) = path.iter().position(|&p| p == next) {
                break path[at..].to_vec();
            }
            path.push(next);
        };
        let names: Vec<&str> = cycle
            .iter()
            .chain(std::iter::once(&cycle[0]))
            .map(|&i| stages[i].name.as_str())
            .collect();
        let mut message = format!("stages form a cycle: {}", names.join(" → "));
        let behind: Vec<String> = left
            .iter()
            .filter(|i| !cycle.contains(i))
            .map(|&i| format!("`{}`", stages[i].name))
            .collect();
        if !behind.is_empty() {
            message.push_str(&format!("; unreachable behind it: {}", behind.join(", ")));
        }
        return Err(message);
    }

    let agents: Vec<usize> = (0..stages.len())
        .filter(|&i| stages[i].kind == StageKind::Agent)
        .collect();
    if agents.is_empty() {
        return Err("has no agent stage".into());
    }
    for (i, stage) in stages.iter().enumerate() {
        if stage.kind == StageKind::Agent {
            continue;
        }
        let seen = ancestors(stages, i);
        if let Some(&a) = agents.iter().find(|a| !seen.contains(a)) {
            return Err(format!(
                "stage `{}` does not need agent stage `{}`, so it would not see that stage's files",
                stage.name, stages[a].name
            ));
        }
    }
    Ok(order)
}
