//! Rules for configuration files that are not source code: `.env` files,
//! Dockerfiles, YAML, TOML, JSON, INI, shell scripts, nginx-style
//! configuration and Spring `application*.properties`/`.yml` ([`is_config`];
//! documentation is not read). They are read line by line; lines starting
//! with `#` (or `//`, `;`) are comments.

use crate::checks::Hit;
use crate::rules::{DEBUG_ENABLED, PERMISSIVE_CORS, TLS_VERIFICATION_DISABLED};

/// Environment variables whose value `0` turns certificate checks off, with
/// the advice for each.
const TLS_OFF_VARIABLES: [(&str, &str); 2] = [
    (
        "NODE_TLS_REJECT_UNAUTHORIZED",
        "remove it; use `NODE_EXTRA_CA_CERTS` for a private CA",
    ),
    (
        "PYTHONHTTPSVERIFY",
        "remove it; add a private CA to the system trust store",
    ),
];

/// Extensions of the configuration files these rules read; documentation
/// (`.md`, `.txt`, `.html`) that merely mentions a setting is not read.
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

/// Whether a path is a configuration file: a listed extension, a `.env`
/// file, a Dockerfile, an nginx/Apache file.
pub fn is_config(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    let ext = name.rsplit_once('.').map(|(_, e)| e);
    name.starts_with(".env")
        || name.starts_with("dockerfile")
        || name == "containerfile"
        || name == ".htaccess"
        || name.starts_with("nginx")
        || ext.is_some_and(|e| CONFIG_EXTENSIONS.contains(&e))
}

/// Runs the configuration rules over one text file (nothing for a file
/// that is not configuration).
pub fn check(path: &str, text: &str) -> Vec<Hit> {
    if !is_config(path) {
        return Vec::new();
    }
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    let spring = name.starts_with("application")
        && [".properties", ".yml", ".yaml"]
            .iter()
            .any(|ext| name.ends_with(ext));
    let mut hits = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let trimmed = line.trim();
        if ["#", "//", ";"].iter().any(|c| trimmed.starts_with(c)) {
            continue;
        }
        for (variable, fix) in TLS_OFF_VARIABLES {
            if let Some(at) = trimmed.find(variable)
                && value_after(&trimmed[at + variable.len()..]) == Some("0")
            {
                hits.push(Hit {
                    rule: TLS_VERIFICATION_DISABLED,
                    line: number,
                    message: format!(
                        "`{variable}=0` turns off TLS certificate verification for the whole \
                         process: anyone on the network path can impersonate the servers it \
                         calls (CWE-295); {fix}"
                    ),
                });
            }
        }
        let lower = trimmed.to_ascii_lowercase();
        let header = "access-control-allow-origin";
        if let Some(at) = lower.find(header)
            && value_after(&trimmed[at + header.len()..]) == Some("*")
        {
            hits.push(Hit {
                rule: PERMISSIVE_CORS,
                line: number,
                message: "the header `Access-Control-Allow-Origin: *` allows every origin, so \
                          any web site can call this service from a visitor's browser and read \
                          the answers (CWE-942); list the front-end origins that may call it"
                    .into(),
            });
        }
        if spring && trimmed.starts_with("debug") && value_after(&trimmed[5..]) == Some("true") {
            hits.push(Hit {
                rule: DEBUG_ENABLED,
                line: number,
                message: "`debug=true` turns on Spring Boot's debug mode, which logs auto-\
                          configuration and request details (CWE-489); leave it off outside \
                          development"
                    .into(),
            });
        }
    }
    hits
}

/// The value after a key: skips quotes, blanks and one separator (`=`,
/// `:`), then returns the value up to a blank, quote or `;`.
fn value_after(rest: &str) -> Option<&str> {
    let rest = rest.trim_start_matches(['"', '\'']).trim_start();
    let rest = rest
        .strip_prefix('=')
        .or_else(|| rest.strip_prefix(':'))
        .unwrap_or(rest);
    let rest = rest.trim_start().trim_start_matches(['"', '\'']);
    let end = rest
        .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ';' | ','))
        .unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}
