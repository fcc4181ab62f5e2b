//! What the operator grants each plugin in the tiers file: a directory,
//! hosts, configuration, secrets (read from the environment or files,
//! never printed) and limits; and what of it a plugin's calls get.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use qlp_contract::model::{Capability, Declared};
use qlp_runtime::limits::LimitOverrides;

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
    /// Configuration values read from files (relative to the tiers file's
    /// directory unless absolute) when the tiers file is loaded, e.g. the
    /// rule pack of `qlp/rules`: `config_files = { pack = "acme.yaml" }`.
    #[serde(default, skip_serializing)]
    pub config_files: BTreeMap<String, PathBuf>,
    /// Limits for this plugin's calls, over the tier's.
    #[serde(default)]
    pub limits: LimitOverrides,
    /// `host:port` destinations the plugin may reach over HTTP.
    #[serde(default)]
    pub http: Vec<String>,
    /// Secrets for this plugin, each `key = "env:NAME"` or
    /// `key = "file:PATH"` (relative to the tiers file's directory), read
    /// when the tiers file is loaded, so that no secret is written in it.
    /// A plugin reads one through `config(key)` only when it declared
    /// `secret(key)`, and the value is masked in its log lines, errors and
    /// receipts.
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
    /// The values of `secrets`, read at load.
    #[serde(skip)]
    pub secret_values: BTreeMap<String, Secret>,
    /// The model endpoint of `[llm]`, through `qlp:llm/chat` (agents).
    #[serde(default)]
    pub llm: bool,
}

/// A secret value: never printed, not even by `{:?}`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The value, for the one plugin it is granted to.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Reads a grant's `secrets` into its `secret_values`.
pub(super) fn read_secrets(grant: &mut PluginGrant, base: Option<&Path>) -> Result<(), String> {
    for (key, source) in &grant.secrets {
        if grant.config.contains_key(key) {
            return Err(format!("`{key}` is in both config and secrets"));
        }
        let value = read_secret(&format!("secrets.{key}"), source, base)?;
        grant.secret_values.insert(key.clone(), value);
    }
    Ok(())
}

/// The secret `source` names: `env:NAME` or `file:PATH` (relative to
/// `base`). `what` names it in errors; the value never appears there.
pub(super) fn read_secret(what: &str, source: &str, base: Option<&Path>) -> Result<Secret, String> {
    let value = if let Some(var) = source.strip_prefix("env:") {
        std::env::var(var)
            .map_err(|_| format!("{what}: the environment variable `{var}` is not set"))?
    } else if let Some(file) = source.strip_prefix("file:") {
        let path = base.map_or_else(|| PathBuf::from(file), |b| b.join(file));
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("{what}: cannot read {}: {e}", path.display()))?;
        text.trim_end_matches(['\r', '\n']).to_owned()
    } else {
        return Err(format!(
            "{what}: write `env:NAME` or `file:PATH`, never the secret itself"
        ));
    };
    if value.is_empty() {
        return Err(format!("{what}: the secret is empty"));
    }
    Ok(Secret(value))
}

impl PluginGrant {
    /// The HTTP grant, parsed; checked when the tiers file is loaded.
    pub fn http_grant(&self) -> Result<qlp_runtime::http::Grant, String> {
        let allowed = self
            .http
            .iter()
            .map(|s| s.parse())
            .collect::<Result<_, _>>()?;
        Ok(qlp_runtime::http::Grant { allowed })
    }

    /// What a plugin declaring `capabilities` actually gets: a capability
    /// needs both the declaration and the operator's grant, and writing
    /// needs `directory-write` and `read-write`.
    pub fn effective(&self, capabilities: &[Capability]) -> Effective<'_> {
        let declared = Declared::of(capabilities);
        let secrets = capabilities
            .iter()
            .filter_map(|c| match c {
                Capability::Secret(key) => self
                    .secret_values
                    .get_key_value(key)
                    .map(|(k, v)| (k.as_str(), v.expose())),
                _ => None,
            })
            .collect();
        Effective {
            secrets,
            http: if declared.http { &self.http } else { &[] },
            directory: self
                .directory
                .as_deref()
                .filter(|_| declared.directory())
                .map(|dir| {
                    let writable = declared.directory_write && self.access == Access::ReadWrite;
                    (dir, writable)
                }),
        }
    }
}

/// A plugin's grant as its calls see it ([`PluginGrant::effective`]).
#[derive(Debug, PartialEq, Eq)]
pub struct Effective<'a> {
    /// The secrets it may read: declared and granted.
    pub secrets: Vec<(&'a str, &'a str)>,
    /// The `host:port` destinations it may reach.
    pub http: &'a [String],
    /// The directory it may use, and whether it may write there.
    pub directory: Option<(&'a Path, bool)>,
}

/// Reads a grant's `config_files` into its `config`.
pub(super) fn read_config_files(
    grant: &mut PluginGrant,
    base: Option<&Path>,
) -> Result<(), String> {
    for (key, file) in std::mem::take(&mut grant.config_files) {
        let Some(base) = base else {
            return Err(format!(
                "config_files.{key}: files are read relative to a tiers file"
            ));
        };
        if grant.config.contains_key(&key) {
            return Err(format!("`{key}` is in both config and config_files"));
        }
        let path = base.join(&file);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("config_files.{key}: cannot read {}: {e}", path.display()))?;
        grant.config.insert(key, text);
    }
    Ok(())
}
