//! Reading the dependency manifests of each stack into [`Dependency`]
//! entries with the line they are declared on.
//!
//! | file | ecosystem | what is read |
//! |---|---|---|
//! | `requirements*.txt` | PyPI | one PEP 508 requirement per line; options (`-r`, `-e`, `--hash`) and direct references (`name @ url`) are skipped |
//! | `pyproject.toml` | PyPI | `[project] dependencies`, `[project.optional-dependencies]`, Poetry's `[tool.poetry.dependencies]` and `[tool.poetry.group.*.dependencies]` (not `python`) |
//! | `package.json` | npm | `dependencies`, `devDependencies`, `optionalDependencies`; `file:`, `link:`, `workspace:`, git and URL specs are not registry versions |
//! | `go.mod` | Go | `require` lines and blocks |
//! | `Cargo.toml` | crates.io | every `*dependencies` table, inline tables and `[dependencies.name]` tables; `path`, `git` and `workspace = true` entries are not registry versions; `package = "…"` renames are followed |
//! | `package-lock.json`, `npm-shrinkwrap.json`, `yarn.lock` (v1) | npm | every locked package and its exact version |
//! | `Cargo.lock`, `poetry.lock` | crates.io, PyPI | every `[[package]]` and its exact version |
//! | `pom.xml` | Maven | every `<dependency>` with `groupId`, `artifactId` and `version`, `${property}` versions resolved from `<properties>`; a missing version (managed by a parent or BOM) is not read |
//!
//! What each declaration is for ([`Kind`]):
//!
//! | file | [`Kind::Dev`] | [`Kind::Optional`] | [`Kind::Build`] | [`Kind::Indirect`] |
//! |---|---|---|---|---|
//! | `requirements*.txt` | a name with `dev` or `test` after `requirements` (`requirements-dev.txt`) | | | |
//! | `pyproject.toml` | a `[project.optional-dependencies]` extra named with `dev` or `test`; Poetry's `dev-dependencies` and every group but `main` | other extras | | |
//! | `package.json` | `devDependencies` | `optionalDependencies` | | |
//! | `go.mod` | | | | a `// indirect` requirement |
//! | `Cargo.toml` | `dev-dependencies` | | `build-dependencies` | |
//! | `pom.xml` | `<scope>test</scope>` | `<optional>true</optional>` | | |
//!
//! Everything else is [`Kind::Normal`]. [`lock`] reads a lock file into a
//! [`Lock`] that resolves a manifest's requirement to the version
//! installed.

use std::collections::BTreeMap;

use crate::toml_lite::{self, Value};
use crate::version::{self, Ecosystem, Interval, Version};

/// How a requirement string is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// PEP 440 specifiers (`>=1.2,<2`).
    Pep440,
    /// Poetry's (`^1.2`, `~1.2`, `1.2.3` exact, `>=1,<2`).
    Poetry,
    Npm,
    Cargo,
    Go,
    Maven,
    /// An exact version from a lock file.
    Locked,
}

/// What a project declares a dependency for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// Needed to run (and build) the project.
    #[default]
    Normal,
    /// Needed only to develop or test it.
    Dev,
    /// Needed only to build it (Cargo build scripts).
    Build,
    /// An optional feature or extra.
    Optional,
    /// Recorded for a dependency of a dependency (go.mod `// indirect`).
    Indirect,
}

/// Whether a file, extra or group name says it is for development:
/// it mentions `dev` or `test`.
fn is_dev_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.contains("dev") || lower.contains("test")
}

/// One declared dependency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dependency {
    pub ecosystem: Ecosystem,
    pub style: Style,
    pub name: String,
    /// What it is declared for.
    pub kind: Kind,
    /// The version requirement as written; `None` when there is none.
    pub spec: Option<String>,
    /// Whether it comes from the registry (not a path, URL or workspace).
    pub registry: bool,
    /// 1-based line of the declaration.
    pub line: u32,
}

/// The dependencies a file declares, if it is a manifest this plugin reads.
pub fn read(path: &str, text: &str) -> Option<Vec<Dependency>> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let lower = name.to_ascii_lowercase();
    if lower.starts_with("requirements") && lower.ends_with(".txt") {
        let kind = if is_dev_name(&lower["requirements".len()..]) {
            Kind::Dev
        } else {
            Kind::Normal
        };
        Some(requirements_txt(text, kind))
    } else {
        match name {
            "package-lock.json" | "npm-shrinkwrap.json" => Some(package_lock(text)),
            "yarn.lock" => Some(yarn_lock(text)),
            "Cargo.lock" => Some(toml_lock(text, Ecosystem::Crates)),
            "poetry.lock" => Some(toml_lock(text, Ecosystem::PyPi)),
            "pyproject.toml" => Some(pyproject(text)),
            "package.json" => Some(package_json(text)),
            "go.mod" => Some(go_mod(text)),
            "Cargo.toml" => Some(cargo_toml(text)),
            "pom.xml" => Some(pom_xml(text)),
            _ => None,
        }
    }
}

/// The ecosystem whose versions a lock file at `path` pins, if it is one.
pub fn lock_ecosystem(path: &str) -> Option<Ecosystem> {
    match path.rsplit('/').next().unwrap_or(path) {
        "package-lock.json" | "npm-shrinkwrap.json" | "yarn.lock" => Some(Ecosystem::Npm),
        "Cargo.lock" => Some(Ecosystem::Crates),
        "poetry.lock" => Some(Ecosystem::PyPi),
        _ => None,
    }
}

fn locked(ecosystem: Ecosystem, name: &str, version: &str, line: u32) -> Dependency {
    Dependency {
        ecosystem,
        style: Style::Locked,
        name: name.to_string(),
        kind: Kind::Normal,
        spec: Some(version.to_string()),
        registry: true,
        line,
    }
}

/// `package-lock.json` and `npm-shrinkwrap.json`: the `packages` map of
/// lockfile versions 2 and 3 (`"node_modules/a/node_modules/b": { "version"
/// }`, every installed copy), or, in a version 1 file without it, the
/// top-level `dependencies` map (version 2 carries both; `packages` wins).
fn package_lock(text: &str) -> Vec<Dependency> {
    package_lock_entries(text)
        .into_iter()
        .map(|(dep, _)| dep)
        .collect()
}

/// The entries of [`package_lock`], each with whether it is installed at
/// the top of `node_modules` (where a direct dependency of the project
/// resolves): a `packages` key `node_modules/<name>`, or any entry of a
/// version 1 `dependencies` map (its nested copies are not read).
fn package_lock_entries(text: &str) -> Vec<(Dependency, bool)> {
    let tokens = json_tokens(text);
    let mut by_section: [Vec<(Dependency, bool)>; 2] = [Vec::new(), Vec::new()];
    let mut depth = 0usize;
    let mut section: Option<String> = None;
    let mut package: Option<(String, u32, bool)> = None;
    for i in 0..tokens.len() {
        match &tokens[i].0 {
            Json::Punct('{') | Json::Punct('[') => depth += 1,
            Json::Punct('}') | Json::Punct(']') => {
                depth = depth.saturating_sub(1);
                if depth < 2 {
                    section = None;
                }
                if depth < 3 {
                    package = None;
                }
            }
            Json::Str(key) if tokens.get(i + 1).is_some_and(|t| t.0 == Json::Punct(':')) => {
                let opens = tokens.get(i + 2).is_some_and(|t| t.0 == Json::Punct('{'));
                match depth {
                    1 if opens && (key == "packages" || key == "dependencies") => {
                        section = Some(key.clone());
                    }
                    2 if opens && section.is_some() => {
                        let name = key.rsplit("node_modules/").next().unwrap_or(key);
                        let top = section.as_deref() == Some("dependencies")
                            || key
                                .strip_prefix("node_modules/")
                                .is_some_and(|rest| !rest.contains("/node_modules/"));
                        package = (!name.is_empty()).then(|| (name.to_string(), tokens[i].1, top));
                    }
                    3 if key == "version" => {
                        if let (Some((name, line, top)), Some((Json::Str(version), _))) =
                            (&package, tokens.get(i + 2))
                        {
                            let slot = usize::from(section.as_deref() == Some("dependencies"));
                            by_section[slot]
                                .push((locked(Ecosystem::Npm, name, version, *line), *top));
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    let [packages, dependencies] = by_section;
    if packages.is_empty() {
        dependencies
    } else {
        packages
    }
}

/// `yarn.lock` (version 1): `"name@range", "name@other":` headers followed
/// by an indented `version "x.y.z"` line.
fn yarn_lock(text: &str) -> Vec<Dependency> {
    let mut out = Vec::new();
    let mut current: Option<(String, u32)> = None;
    for (index, raw) in text.lines().enumerate() {
        if raw.starts_with('#') || raw.trim().is_empty() {
            continue;
        }
        if !raw.starts_with(' ') {
            let first = raw.trim_end_matches(':').split(", ").next().unwrap_or("");
            let first = first.trim_matches('"');
            // The name is before the last `@` (a scope's `@` comes first).
            current = first
                .rfind('@')
                .filter(|at| *at > 0)
                .map(|at| (first[..at].to_string(), line_no(index)));
            continue;
        }
        if let Some(version) = raw.trim().strip_prefix("version ")
            && let Some((name, line)) = current.take()
        {
            out.push(locked(
                Ecosystem::Npm,
                &name,
                version.trim_matches('"'),
                line,
            ));
        }
    }
    out
}

/// `Cargo.lock` and `poetry.lock`: `[[package]]` tables with `name` and
/// `version`.
fn toml_lock(text: &str, ecosystem: Ecosystem) -> Vec<Dependency> {
    let entries = toml_lite::entries(text);
    let mut out = Vec::new();
    for entry in entries
        .iter()
        .filter(|e| e.table == "package" && e.key == "name")
    {
        let version = entries
            .iter()
            .find(|e| e.table == "package" && e.index == entry.index && e.key == "version")
            .and_then(|e| e.value.as_str());
        if let (Some(name), Some(version)) = (entry.value.as_str(), version) {
            out.push(locked(ecosystem, name, version, entry.line));
        }
    }
    out
}

fn line_no(index: usize) -> u32 {
    u32::try_from(index + 1).unwrap_or(u32::MAX)
}

/// A PEP 508 requirement: name, specifier (without extras and markers), or
/// `None` for a direct reference or something that is not a requirement.
pub fn pep508(requirement: &str) -> Option<(String, Option<String>)> {
    let requirement = requirement.split(';').next()?.trim();
    let end = requirement
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(requirement.len());
    let name = &requirement[..end];
    if name.is_empty() {
        return None;
    }
    let mut rest = requirement[end..].trim_start();
    if rest.starts_with('[') {
        rest = rest[rest.find(']')? + 1..].trim_start();
    }
    if rest.starts_with('@') {
        return None;
    }
    let spec = rest
        .trim_start_matches('(')
        .trim_end_matches(')')
        .replace(' ', "");
    Some((name.to_string(), (!spec.is_empty()).then_some(spec)))
}

fn requirements_txt(text: &str, kind: Kind) -> Vec<Dependency> {
    let mut out = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = match raw.find(" #") {
            Some(at) => &raw[..at],
            None => raw,
        }
        .trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('-') || line.contains("://")
        {
            continue;
        }
        if let Some((name, spec)) = pep508(line) {
            out.push(Dependency {
                ecosystem: Ecosystem::PyPi,
                style: Style::Pep440,
                name,
                kind,
                spec,
                registry: true,
                line: line_no(index),
            });
        }
    }
    out
}

fn pyproject(text: &str) -> Vec<Dependency> {
    let mut out = Vec::new();
    for entry in toml_lite::entries(text) {
        let pep621 = (entry.table == "project" && entry.key == "dependencies")
            || entry.table == "project.optional-dependencies";
        if pep621 {
            let kind = if entry.table == "project" {
                Kind::Normal
            } else if is_dev_name(&entry.key) {
                Kind::Dev
            } else {
                Kind::Optional
            };
            if let Value::Array(items) = &entry.value {
                for (item, line) in items {
                    if let Some((name, spec)) = pep508(item) {
                        out.push(Dependency {
                            ecosystem: Ecosystem::PyPi,
                            style: Style::Pep440,
                            name,
                            kind,
                            spec,
                            registry: true,
                            line: *line,
                        });
                    }
                }
            }
            continue;
        }
        let poetry = entry.table == "tool.poetry.dependencies"
            || entry.table == "tool.poetry.dev-dependencies"
            || (entry.table.starts_with("tool.poetry.group.")
                && entry.table.ends_with(".dependencies"));
        if poetry && entry.key != "python" {
            let kind = match entry.table.as_str() {
                "tool.poetry.dependencies" | "tool.poetry.group.main.dependencies" => Kind::Normal,
                _ => Kind::Dev,
            };
            let (spec, registry) = match &entry.value {
                Value::Str(s) => (Some(s.clone()), true),
                Value::Table(_) => (
                    entry.value.get("version").map(str::to_string),
                    entry.value.get("path").is_none()
                        && entry.value.get("git").is_none()
                        && entry.value.get("url").is_none(),
                ),
                _ => (None, false),
            };
            out.push(Dependency {
                ecosystem: Ecosystem::PyPi,
                style: Style::Poetry,
                name: entry.key.clone(),
                kind,
                spec,
                registry,
                line: entry.line,
            });
        }
    }
    out
}

/// A JSON token with its line: a string's content, or one of `{}[]:,`, or
/// another scalar's text.
#[derive(Debug, PartialEq)]
enum Json {
    Str(String),
    Punct(char),
    Scalar,
}

fn json_tokens(text: &str) -> Vec<(Json, u32)> {
    let mut out = Vec::new();
    let mut line = 1u32;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => line += 1,
            '"' => {
                let mut s = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some(e) = chars.next() {
                                s.push(e);
                            }
                        }
                        '"' => break,
                        '\n' => {
                            line += 1;
                            break;
                        }
                        c => s.push(c),
                    }
                }
                out.push((Json::Str(s), line));
            }
            '{' | '}' | '[' | ']' | ':' | ',' => out.push((Json::Punct(c), line)),
            c if c.is_whitespace() => {}
            _ => {
                while chars
                    .peek()
                    .is_some_and(|n| !matches!(n, ',' | '}' | ']' | '\n') && !n.is_whitespace())
                {
                    chars.next();
                }
                out.push((Json::Scalar, line));
            }
        }
    }
    out
}

/// Sections of `package.json` whose versions are installed.
const NPM_SECTIONS: [&str; 3] = ["dependencies", "devDependencies", "optionalDependencies"];

fn package_json(text: &str) -> Vec<Dependency> {
    let tokens = json_tokens(text);
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i].0 {
            Json::Punct('{') | Json::Punct('[') => depth += 1,
            Json::Punct('}') | Json::Punct(']') => depth = depth.saturating_sub(1),
            Json::Str(key)
                if depth == 1
                    && NPM_SECTIONS.contains(&key.as_str())
                    && tokens.get(i + 1).is_some_and(|t| t.0 == Json::Punct(':'))
                    && tokens.get(i + 2).is_some_and(|t| t.0 == Json::Punct('{')) =>
            {
                let mut j = i + 3;
                while j + 2 < tokens.len() && tokens[j].0 != Json::Punct('}') {
                    if let (Json::Str(name), Json::Punct(':'), Json::Str(spec)) =
                        (&tokens[j].0, &tokens[j + 1].0, &tokens[j + 2].0)
                    {
                        let registry = ![
                            "file:",
                            "link:",
                            "workspace:",
                            "git",
                            "http:",
                            "https:",
                            "github:",
                            "npm:",
                        ]
                        .iter()
                        .any(|p| spec.starts_with(p))
                            && !spec.contains('/');
                        out.push(Dependency {
                            ecosystem: Ecosystem::Npm,
                            style: Style::Npm,
                            name: name.clone(),
                            kind: match key.as_str() {
                                "devDependencies" => Kind::Dev,
                                "optionalDependencies" => Kind::Optional,
                                _ => Kind::Normal,
                            },
                            spec: Some(spec.clone()),
                            registry,
                            line: tokens[j].1,
                        });
                        j += 3;
                    } else {
                        j += 1;
                    }
                }
                // Past the section's closing brace, which its opening one
                // (never counted in `depth`) matches.
                i = j + 1;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

fn go_mod(text: &str) -> Vec<Dependency> {
    let mut out = Vec::new();
    let mut in_require = false;
    for (index, raw) in text.lines().enumerate() {
        let (line, comment) = raw.split_once("//").unwrap_or((raw, ""));
        let line = line.trim();
        let kind = if comment.split([' ', ';', '\t']).any(|w| w == "indirect") {
            Kind::Indirect
        } else {
            Kind::Normal
        };
        let body = if in_require {
            if line == ")" {
                in_require = false;
                continue;
            }
            line
        } else if let Some(rest) = line.strip_prefix("require") {
            let rest = rest.trim();
            if rest == "(" {
                in_require = true;
                continue;
            }
            rest
        } else {
            continue;
        };
        let mut words = body.split_whitespace();
        if let (Some(module), Some(version)) = (words.next(), words.next()) {
            out.push(Dependency {
                ecosystem: Ecosystem::Go,
                style: Style::Go,
                name: module.to_string(),
                kind,
                spec: Some(version.to_string()),
                registry: true,
                line: line_no(index),
            });
        }
    }
    out
}

fn is_dependency_table(table: &str) -> bool {
    table == "dependencies"
        || table == "dev-dependencies"
        || table == "build-dependencies"
        || table == "workspace.dependencies"
        || (table.starts_with("target.")
            && (table.ends_with(".dependencies")
                || table.ends_with(".dev-dependencies")
                || table.ends_with(".build-dependencies")))
}

/// What a Cargo dependency table is for.
fn cargo_kind(table: &str) -> Kind {
    if table.ends_with("dev-dependencies") {
        Kind::Dev
    } else if table.ends_with("build-dependencies") {
        Kind::Build
    } else {
        Kind::Normal
    }
}

fn cargo_toml(text: &str) -> Vec<Dependency> {
    let mut out = Vec::new();
    let entries = toml_lite::entries(text);
    for entry in &entries {
        if is_dependency_table(&entry.table) {
            let (spec, registry, name) = match &entry.value {
                Value::Str(s) => (Some(s.clone()), true, entry.key.clone()),
                Value::Table(_) => {
                    let v = &entry.value;
                    let local = v.get("path").is_some()
                        || v.get("git").is_some()
                        || v.get("workspace") == Some("true");
                    (
                        v.get("version").map(str::to_string),
                        !local,
                        v.get("package").unwrap_or(&entry.key).to_string(),
                    )
                }
                _ => continue,
            };
            out.push(Dependency {
                ecosystem: Ecosystem::Crates,
                style: Style::Cargo,
                name,
                kind: cargo_kind(&entry.table),
                spec,
                registry,
                line: entry.line,
            });
            continue;
        }
        // `[dependencies.serde]` with `version = "1"`.
        if entry.key == "version"
            && let Some((table, dep)) = entry.table.rsplit_once('.')
            && is_dependency_table(table)
        {
            let sibling = |key: &str| {
                entries
                    .iter()
                    .find(|e| e.table == entry.table && e.key == key)
                    .and_then(|e| e.value.as_str().map(str::to_string))
            };
            out.push(Dependency {
                ecosystem: Ecosystem::Crates,
                style: Style::Cargo,
                name: sibling("package").unwrap_or_else(|| dep.to_string()),
                kind: cargo_kind(table),
                spec: entry.value.as_str().map(str::to_string),
                registry: sibling("path").is_none() && sibling("git").is_none(),
                line: entry.line,
            });
        }
    }
    out
}

/// The text of the first `<tag>…</tag>` in `block`, and its offset.
fn xml_text<'a>(block: &'a str, tag: &str) -> Option<(&'a str, usize)> {
    let open = format!("<{tag}>");
    let start = block.find(&open)? + open.len();
    let end = block[start..].find("</")? + start;
    Some((block[start..end].trim(), start))
}

fn pom_xml(text: &str) -> Vec<Dependency> {
    // Properties: `<properties><x.version>1.2</x.version></properties>`.
    let mut properties: Vec<(String, String)> = Vec::new();
    if let Some((block, _)) = xml_text_block(text, "properties") {
        let mut rest = block;
        while let Some(open) = rest.find('<') {
            let after = &rest[open + 1..];
            let Some(close) = after.find('>') else { break };
            let name = &after[..close];
            if name.starts_with('/') || name.starts_with('!') {
                rest = &after[close + 1..];
                continue;
            }
            let body = &after[close + 1..];
            let Some(end) = body.find("</") else { break };
            properties.push((name.to_string(), body[..end].trim().to_string()));
            rest = &body[end..];
        }
    }
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(start) = text[from..].find("<dependency>").map(|s| s + from) {
        let Some(end) = text[start..].find("</dependency>").map(|e| e + start) else {
            break;
        };
        let block = &text[start..end];
        from = end;
        let (Some((group, _)), Some((artifact, offset))) =
            (xml_text(block, "groupId"), xml_text(block, "artifactId"))
        else {
            continue;
        };
        let Some((version, _)) = xml_text(block, "version") else {
            continue;
        };
        let version = match version.strip_prefix("${").and_then(|v| v.strip_suffix('}')) {
            Some(property) => match properties.iter().find(|(k, _)| k == property) {
                Some((_, v)) => v.clone(),
                None => continue,
            },
            None => version.to_string(),
        };
        let line = line_no(text[..start + offset].matches('\n').count());
        let kind = if xml_text(block, "scope").is_some_and(|(s, _)| s == "test") {
            Kind::Dev
        } else if xml_text(block, "optional").is_some_and(|(o, _)| o == "true") {
            Kind::Optional
        } else {
            Kind::Normal
        };
        out.push(Dependency {
            ecosystem: Ecosystem::Maven,
            style: Style::Maven,
            name: format!("{group}:{artifact}"),
            kind,
            spec: Some(version),
            registry: true,
            line,
        });
    }
    out
}

/// The inner text of the first `<tag>…</tag>` block, and its offset.
fn xml_text_block<'a>(text: &'a str, tag: &str) -> Option<(&'a str, usize)> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = text.find(&open)? + open.len();
    let end = text[start..].find(&close)? + start;
    Some((&text[start..end], start))
}

/// The interval a dependency's requirement allows, when it can be read.
pub fn allowed(dep: &Dependency) -> Option<Interval> {
    let spec = dep.spec.as_deref()?;
    match dep.style {
        Style::Pep440 => version::requirement(Ecosystem::PyPi, spec),
        Style::Poetry => {
            if spec.starts_with(['^', '~', '*']) || spec.starts_with(|c: char| c.is_ascii_digit()) {
                // Poetry's bare version is exact, as npm's is.
                version::requirement(Ecosystem::Npm, &spec.replace(',', " "))
            } else {
                version::requirement(Ecosystem::PyPi, spec)
            }
        }
        Style::Npm => version::requirement(Ecosystem::Npm, spec),
        Style::Cargo => version::requirement(Ecosystem::Crates, spec),
        Style::Go => version::requirement(Ecosystem::Go, spec),
        Style::Maven => version::requirement(Ecosystem::Maven, spec),
        Style::Locked => Version::parse(dep.ecosystem, spec).map(Interval::exact),
    }
}

/// The exact versions one lock file records, by package, for resolving
/// the requirements of the manifests it locks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lock {
    pub ecosystem: Ecosystem,
    /// Versions by normalized name ([`Ecosystem::normalize`]), as written,
    /// without duplicates. For `package-lock.json` only the copies at the
    /// top of `node_modules`, where a direct dependency is installed.
    pub versions: BTreeMap<String, Vec<String>>,
}

impl Lock {
    /// The locked version of a declared dependency: among the versions
    /// locked for its name, those its requirement allows (all of them if
    /// the requirement cannot be read), the highest. `None` when the lock
    /// is of another ecosystem, does not hold the package, or holds only
    /// versions outside the requirement (a stale lock says nothing about
    /// what the next install picks).
    pub fn resolve(&self, dep: &Dependency) -> Option<&str> {
        if dep.ecosystem != self.ecosystem || !dep.registry {
            return None;
        }
        let candidates = self.versions.get(&dep.ecosystem.normalize(&dep.name))?;
        let interval = allowed(dep);
        candidates
            .iter()
            .filter_map(|text| Some((Version::parse(dep.ecosystem, text)?, text)))
            .filter(|(v, _)| interval.as_ref().is_none_or(|i| i.contains(v)))
            .max_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)))
            .map(|(_, text)| text.as_str())
    }
}

/// The lock a file at `path` is, if it is one this module reads
/// (`package-lock.json`, `npm-shrinkwrap.json`, `yarn.lock`, `Cargo.lock`,
/// `poetry.lock`).
pub fn lock(path: &str, text: &str) -> Option<Lock> {
    let ecosystem = lock_ecosystem(path)?;
    let entries: Vec<Dependency> = match path.rsplit('/').next().unwrap_or(path) {
        "package-lock.json" | "npm-shrinkwrap.json" => package_lock_entries(text)
            .into_iter()
            .filter(|(_, top)| *top)
            .map(|(dep, _)| dep)
            .collect(),
        _ => read(path, text)?,
    };
    let mut versions: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for dep in entries {
        let Some(version) = dep.spec else { continue };
        let slot = versions.entry(ecosystem.normalize(&dep.name)).or_default();
        if !slot.contains(&version) {
            slot.push(version);
        }
    }
    Some(Lock {
        ecosystem,
        versions,
    })
}
