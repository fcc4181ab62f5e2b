//! Package URLs (<https://github.com/package-url/purl-spec>) of declared
//! dependencies, as each ecosystem's purl type spells them:
//!
//! | ecosystem | purl | name |
//! |---|---|---|
//! | PyPI | `pkg:pypi/<name>` | lower-cased, `_` → `-` |
//! | npm | `pkg:npm/<name>` or `pkg:npm/%40<scope>/<name>` | lower-cased |
//! | Go | `pkg:golang/<module path>` (the last segment is the name) | lower-cased |
//! | crates.io | `pkg:cargo/<name>` | as written |
//! | Maven | `pkg:maven/<groupId>/<artifactId>` | as written |
//!
//! Every segment and the version are percent-encoded except for the
//! unreserved characters `A-Z a-z 0-9 . - _ ~` (a Go `+incompatible`
//! becomes `%2Bincompatible`).

use qlp_manifests::Ecosystem;

/// A component's identity: its group (npm scope with `@`, Maven group),
/// its name, and its purl.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub group: Option<String>,
    pub name: String,
    pub purl: String,
}

/// The identity of package `name` of `ecosystem` at `version` (none for
/// a range).
pub fn identity(ecosystem: Ecosystem, name: &str, version: Option<&str>) -> Identity {
    let (kind, group, short, namespace): (&str, Option<String>, String, Vec<String>) =
        match ecosystem {
            Ecosystem::PyPi => {
                let name = name.to_ascii_lowercase().replace('_', "-");
                ("pypi", None, name, vec![])
            }
            Ecosystem::Npm => {
                let name = name.to_ascii_lowercase();
                match name.split_once('/').filter(|(s, _)| s.starts_with('@')) {
                    Some((scope, short)) => (
                        "npm",
                        Some(scope.to_string()),
                        short.to_string(),
                        vec![scope.to_string()],
                    ),
                    None => ("npm", None, name, vec![]),
                }
            }
            Ecosystem::Go => {
                let path = name.to_ascii_lowercase();
                let segments: Vec<String> = path.split('/').map(str::to_string).collect();
                let (last, namespace) = segments.split_last().expect("split gives one");
                ("golang", None, last.clone(), namespace.to_vec())
            }
            Ecosystem::Crates => ("cargo", None, name.to_string(), vec![]),
            Ecosystem::Maven => match name.split_once(':') {
                Some((group, artifact)) => (
                    "maven",
                    Some(group.to_string()),
                    artifact.to_string(),
                    vec![group.to_string()],
                ),
                None => ("maven", None, name.to_string(), vec![]),
            },
        };
    let mut purl = format!("pkg:{kind}/");
    for segment in &namespace {
        purl.push_str(&encode(segment));
        purl.push('/');
    }
    purl.push_str(&encode(&short));
    if let Some(version) = version {
        purl.push('@');
        purl.push_str(&encode(version));
    }
    // The component is named as the ecosystem names the package: a Go
    // module by its whole path, npm and Maven packages without the group.
    let name = match ecosystem {
        Ecosystem::Go => name.to_string(),
        _ => short,
    };
    Identity { group, name, purl }
}

/// Percent-encodes everything but the unreserved characters.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
