//! The advisory database shipped with the plugin: `advisories.toml` at the
//! crate root, compiled in with `include_str!` so the validator works
//! air-gapped. Its format is described at the top of that file; updating
//! it means publishing a new plugin version.

use std::collections::BTreeMap;

use qlp_sdk::validator::Severity;

use crate::toml_lite::{self, Value};
use crate::version::{Ecosystem, Interval, Version, affected_range};

/// The database's text.
pub const DATABASE: &str = include_str!("../advisories.toml");

/// One known vulnerability of one package.
#[derive(Clone, Debug)]
pub struct Advisory {
    pub id: String,
    pub package: String,
    pub ecosystem: Ecosystem,
    /// Affected ranges, each with the text it was read from.
    pub affected: Vec<(Interval, String)>,
    pub fixed: Vec<Version>,
    pub severity: Severity,
    pub summary: String,
    pub advice: Option<String>,
}

impl Advisory {
    /// Whether `v` is inside an affected range.
    pub fn affects(&self, v: &Version) -> bool {
        self.affected.iter().any(|(range, _)| range.contains(v))
    }
}

/// The database, read.
#[derive(Debug, Default)]
pub struct Database {
    /// Advisories by ecosystem and normalized package name.
    pub advisories: BTreeMap<(Ecosystem, String), Vec<Advisory>>,
    /// Licences by ecosystem and normalized package name.
    pub licenses: BTreeMap<(Ecosystem, String), String>,
}

/// Parses a severity name.
pub fn severity(name: &str) -> Option<Severity> {
    match name {
        "critical" => Some(Severity::Critical),
        "high" => Some(Severity::High),
        "medium" => Some(Severity::Medium),
        "low" => Some(Severity::Low),
        "info" => Some(Severity::Info),
        _ => None,
    }
}

impl Database {
    /// Reads a database; an entry that does not parse is an error naming it
    /// (the shipped database is checked by a test, so this never fails at
    /// run time).
    pub fn parse(text: &str) -> Result<Database, String> {
        let mut groups: BTreeMap<(String, usize), BTreeMap<String, (Value, u32)>> = BTreeMap::new();
        for entry in toml_lite::entries(text) {
            groups
                .entry((entry.table.clone(), entry.index))
                .or_default()
                .insert(entry.key, (entry.value, entry.line));
        }
        let mut db = Database::default();
        for ((table, _), fields) in groups {
            let line = fields.values().map(|(_, l)| *l).min().unwrap_or(0);
            let text_of = |key: &str| -> Result<String, String> {
                fields
                    .get(key)
                    .and_then(|(v, _)| v.as_str())
                    .map(str::to_string)
                    .ok_or_else(|| {
                        format!("[[{table}]] at line {line}: `{key}` is missing or not a string")
                    })
            };
            let list_of = |key: &str| -> Result<Vec<String>, String> {
                match fields.get(key) {
                    Some((Value::Array(items), _)) => {
                        Ok(items.iter().map(|(s, _)| s.clone()).collect())
                    }
                    _ => Err(format!(
                        "[[{table}]] at line {line}: `{key}` is missing or not an array"
                    )),
                }
            };
            let ecosystem_name = text_of("ecosystem")?;
            let ecosystem = Ecosystem::from_name(&ecosystem_name)
                .ok_or_else(|| format!("line {line}: unknown ecosystem `{ecosystem_name}`"))?;
            match table.as_str() {
                "advisory" => {
                    let id = text_of("id")?;
                    let package = text_of("package")?;
                    let affected = list_of("affected")?
                        .into_iter()
                        .map(|r| {
                            affected_range(ecosystem, &r)
                                .map(|i| (i, r.clone()))
                                .ok_or_else(|| {
                                    format!("{id} ({package}): affected range `{r}` does not parse")
                                })
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    let fixed = list_of("fixed")?
                        .into_iter()
                        .map(|v| {
                            Version::parse(ecosystem, &v).ok_or_else(|| {
                                format!("{id} ({package}): fixed version `{v}` does not parse")
                            })
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    let severity_name = text_of("severity")?;
                    let severity = severity(&severity_name)
                        .ok_or_else(|| format!("{id}: unknown severity `{severity_name}`"))?;
                    if affected.is_empty() {
                        return Err(format!("{id} ({package}): no affected range"));
                    }
                    let advisory = Advisory {
                        summary: text_of("summary")?,
                        advice: text_of("advice").ok(),
                        id,
                        package: package.clone(),
                        ecosystem,
                        affected,
                        fixed,
                        severity,
                    };
                    db.advisories
                        .entry((ecosystem, ecosystem.normalize(&package)))
                        .or_default()
                        .push(advisory);
                }
                "package" => {
                    let name = text_of("name")?;
                    db.licenses
                        .insert((ecosystem, ecosystem.normalize(&name)), text_of("license")?);
                }
                other => return Err(format!("line {line}: unknown table [[{other}]]")),
            }
        }
        Ok(db)
    }

    /// The shipped database.
    pub fn shipped() -> Database {
        // Checked by `the_shipped_database_parses_and_is_consistent`.
        Database::parse(DATABASE).unwrap_or_default()
    }

    /// The advisories of a package.
    pub fn for_package(&self, ecosystem: Ecosystem, name: &str) -> &[Advisory] {
        self.advisories
            .get(&(ecosystem, ecosystem.normalize(name)))
            .map_or(&[], Vec::as_slice)
    }

    /// The licence of a package, when known.
    pub fn license(&self, ecosystem: Ecosystem, name: &str) -> Option<&str> {
        self.licenses
            .get(&(ecosystem, ecosystem.normalize(name)))
            .map(String::as_str)
    }
}

/// Whether an SPDX expression is allowed by an allow-list: every id of an
/// `AND`, any id of an `OR` (parentheses are ignored, `WITH` exceptions are
/// read as part of the id before them).
pub fn license_allowed(expression: &str, allowed: &[String]) -> bool {
    let cleaned = expression.replace(['(', ')'], " ");
    cleaned.split(" OR ").any(|alternative| {
        alternative.split(" AND ").all(|id| {
            let id = id.split(" WITH ").next().unwrap_or(id).trim();
            allowed.iter().any(|a| a.eq_ignore_ascii_case(id))
        })
    })
}
