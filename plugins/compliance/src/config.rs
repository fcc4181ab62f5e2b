//! Files that are not source code, read line by line: configuration
//! (`.env`, YAML, TOML, JSON, INI, properties, Dockerfiles, Compose files)
//! for plain-text URLs, disabled TLS and retention settings; table
//! definitions (`.sql`, Prisma `schema.prisma`) for sensitive columns; and
//! documentation (`README*`, `docs/*.md`) for a data-retention section.
//! Lines starting with `#`, `//`, `;` or `--` are comments.

use crate::scan::{self, Facts, Field};

/// Extensions of configuration files; documentation and lock files are
/// not configuration.
const CONFIG_EXTENSIONS: [&str; 12] = [
    "env",
    "yml",
    "yaml",
    "conf",
    "ini",
    "properties",
    "sh",
    "bash",
    "toml",
    "cfg",
    "json",
    "service",
];

/// Manifests and lock files: their URLs are package metadata, not where
/// the service sends data.
const NOT_CONFIG: [&str; 6] = [
    "package.json",
    "package-lock.json",
    "composer.json",
    "pnpm-lock.yaml",
    "cargo.toml",
    "pyproject.toml",
];

/// Environment variables whose value `0` turns certificate checks off.
const TLS_OFF_VARIABLES: [&str; 2] = ["NODE_TLS_REJECT_UNAUTHORIZED", "PYTHONHTTPSVERIFY"];

fn file_name(path: &str) -> String {
    path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase()
}

/// Whether a path is a configuration file.
pub fn is_config(path: &str) -> bool {
    let name = file_name(path);
    let ext = name.rsplit_once('.').map(|(_, e)| e);
    if NOT_CONFIG.contains(&name.as_str()) || name.starts_with("tsconfig") {
        return false;
    }
    name.starts_with(".env")
        || name.starts_with("dockerfile")
        || name == "containerfile"
        || name.starts_with("nginx")
        || ext.is_some_and(|e| CONFIG_EXTENSIONS.contains(&e))
}

/// Whether a path is a table definition (`.sql`, `.prisma`).
pub fn is_schema(path: &str) -> bool {
    let name = file_name(path);
    name.ends_with(".sql") || name.ends_with(".prisma")
}

/// Whether a path is documentation that may describe a retention policy.
pub fn is_documentation(path: &str) -> bool {
    let name = file_name(path);
    let lower = path.to_ascii_lowercase();
    name.starts_with("readme")
        || ((lower.starts_with("docs/") || lower.contains("/docs/")) && name.ends_with(".md"))
        || name.starts_with("privacy")
        || name.starts_with("retention")
}

fn is_comment(trimmed: &str) -> bool {
    ["#", "//", ";", "--"]
        .iter()
        .any(|c| trimmed.starts_with(c))
}

fn number(index: usize) -> u32 {
    u32::try_from(index + 1).unwrap_or(u32::MAX)
}

/// The key of a `KEY=value`, `key: value` or `key = value` line.
fn key_of(trimmed: &str) -> Option<&str> {
    let trimmed = trimmed.strip_prefix("export ").unwrap_or(trimmed);
    let trimmed = trimmed.trim_start_matches(['-', ' ']);
    let end = trimmed.find(['=', ':'])?;
    let key = trimmed[..end].trim().trim_matches(['"', '\'']);
    (!key.is_empty() && !key.contains(' ')).then_some(key)
}

/// Reads one configuration file.
pub fn scan_config(text: &str) -> Facts {
    let mut facts = Facts::default();
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || is_comment(trimmed) {
            continue;
        }
        let line_no = number(index);
        if let Some(what) = scan::insecure_text(trimmed) {
            facts.transport.push((line_no, what));
        } else if let Some(variable) = TLS_OFF_VARIABLES.iter().find(|v| {
            trimmed.find(*v).is_some_and(|at| {
                let rest = trimmed[at + v.len()..].trim_start_matches(['"', '\'', ' ']);
                let rest = rest.strip_prefix(['=', ':']).unwrap_or(rest);
                rest.trim_start_matches(['"', '\'', ' ']).starts_with('0')
            })
        }) {
            facts.transport.push((
                line_no,
                format!("`{variable}=0` (TLS certificate verification turned off)"),
            ));
        }
        if facts.retention.is_none()
            && let Some(key) = key_of(trimmed)
            && scan::is_retention_name(key)
        {
            facts.retention = Some(line_no);
        }
    }
    facts
}

/// Words that open a table constraint rather than a column.
const SQL_NOT_COLUMNS: [&str; 8] = [
    "primary",
    "foreign",
    "constraint",
    "unique",
    "check",
    "index",
    "key",
    "exclude",
];

/// Reads the columns of `CREATE TABLE` statements and the fields of
/// Prisma models.
pub fn scan_schema(text: &str) -> Facts {
    let mut facts = Facts::default();
    let mut table: Option<String> = None;
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || is_comment(trimmed) {
            continue;
        }
        let lower = trimmed.to_ascii_lowercase();
        let words: Vec<&str> = trimmed.split_whitespace().collect();
        if lower.starts_with("create table") {
            let name = words
                .iter()
                .skip(2)
                .find(|w| !matches!(w.to_ascii_lowercase().as_str(), "if" | "not" | "exists"))
                .map(|w| {
                    w.trim_end_matches('(')
                        .trim_matches(['"', '`', '[', ']'])
                        .rsplit('.')
                        .next()
                        .unwrap_or("")
                        .to_string()
                });
            table = name;
            continue;
        }
        if words.first() == Some(&"model") && trimmed.ends_with('{') {
            table = words.get(1).map(|w| w.to_string());
            continue;
        }
        if trimmed.starts_with(')') || trimmed.starts_with('}') {
            table = None;
            continue;
        }
        let Some(model) = &table else { continue };
        let Some(first) = words.first() else { continue };
        let column = first.trim_matches(['"', '`', '[', ']', ',', '(']);
        if column.starts_with('@')
            || SQL_NOT_COLUMNS.contains(&column.to_ascii_lowercase().as_str())
        {
            continue;
        }
        let kinds = crate::data::classify(column, false);
        if !kinds.is_empty() {
            facts.fields.push(Field {
                line: number(index),
                name: column.to_string(),
                model: model.clone(),
                kinds,
            });
        }
        if lower.contains("pgp_sym_encrypt") || lower.contains("encrypted") {
            facts.protection = true;
        }
        if trimmed.ends_with(");") {
            table = None;
        }
    }
    facts
}

/// The line of a documentation heading about data retention, if any.
pub fn retention_heading(text: &str) -> Option<u32> {
    text.lines().enumerate().find_map(|(index, line)| {
        let trimmed = line.trim_start();
        let heading = trimmed.starts_with('#') || trimmed.starts_with("<h");
        (heading && trimmed.to_ascii_lowercase().contains("retention")).then(|| number(index))
    })
}
