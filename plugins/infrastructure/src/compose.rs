//! Docker Compose rules, over each service of `services:` read with
//! [`crate::yaml`]. Values with `$` (Compose interpolation) are not
//! literals and never reported.

use crate::rules::*;
use crate::yaml::{self, Node};

/// Image names (the last path segment) of databases and caches, whose
/// port should stay on the host's loopback.
const DATABASE_IMAGES: [&str; 18] = [
    "postgres",
    "postgis",
    "postgresql",
    "timescaledb",
    "mysql",
    "mariadb",
    "mongo",
    "mongodb",
    "redis",
    "valkey",
    "memcached",
    "elasticsearch",
    "opensearch",
    "cassandra",
    "couchdb",
    "neo4j",
    "clickhouse-server",
    "server", // mcr.microsoft.com/mssql/server, checked with its path
];

/// Host addresses that keep a published port on the machine itself.
const LOOPBACK: [&str; 4] = ["127.0.0.1", "localhost", "::1", "[::1]"];

/// Whether a path names a Compose file: `docker-compose*.yml|yaml` or
/// `compose*.yml|yaml`.
pub fn is_compose_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    let Some(stem) = name
        .strip_suffix(".yml")
        .or_else(|| name.strip_suffix(".yaml"))
    else {
        return false;
    };
    let rest = stem
        .strip_prefix("docker-compose")
        .or_else(|| stem.strip_prefix("compose"));
    // `compose.prod.yml`, `docker-compose-ci.yml`; not `composer.yml`.
    rest.is_some_and(|r| r.is_empty() || r.starts_with(['.', '-', '_']))
}

/// The repository of an image reference, without tag or digest.
fn repository(image: &str) -> &str {
    let image = image.split('@').next().unwrap_or(image);
    match image.rfind(':') {
        Some(colon) if !image[colon..].contains('/') => &image[..colon],
        _ => image,
    }
}

/// Why an image reference floats (`None` when pinned or not literal).
fn unpinned(image: &str) -> Option<&'static str> {
    if image.contains('$') || image.contains('@') {
        return None;
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        None => Some("has no tag"),
        Some((_, "latest")) => Some("uses `latest`"),
        Some(_) => None,
    }
}

fn is_database(image: &str) -> bool {
    let repo = repository(image);
    let last = repo.rsplit('/').next().unwrap_or(repo);
    DATABASE_IMAGES.contains(&last) && (last != "server" || repo.contains("mssql"))
}

/// Whether a value is a literal (no Compose interpolation) with content.
fn literal(value: &str) -> bool {
    !value.trim().is_empty() && !value.contains('$')
}

/// Whether a URL carries a literal password (`scheme://user:pass@host`).
fn url_password(value: &str) -> bool {
    let Some((_, rest)) = value.split_once("://") else {
        return false;
    };
    let authority = rest.split('/').next().unwrap_or(rest);
    let Some((userinfo, _)) = authority.rsplit_once('@') else {
        return false;
    };
    userinfo
        .split_once(':')
        .is_some_and(|(_, password)| literal(password))
}

/// The host address a short-syntax port (`"127.0.0.1:5432:5432"`) is
/// published on; `""` for every interface.
fn host_address(spec: &str) -> &str {
    if let Some(rest) = spec.strip_prefix('[') {
        return rest.split(']').next().unwrap_or("");
    }
    let parts: Vec<&str> = spec.split(':').collect();
    if parts.len() == 3 { parts[0] } else { "" }
}

/// Runs the Compose rules over every document of a file.
pub fn check(text: &str) -> Vec<Hit> {
    let mut hits = Vec::new();
    for doc in yaml::documents(text) {
        let Some(Node::Map(services)) = doc.get("services") else {
            continue;
        };
        for (name, service, line) in services {
            check_service(name, service, *line, &mut hits);
        }
    }
    hits
}

fn check_service(name: &str, service: &Node, line: u32, hits: &mut Vec<Hit>) {
    let at = |key: &str| service.line_of(key).unwrap_or(line);
    let item_line = |key: &str, item: u32| if item == 0 { at(key) } else { item };

    if service.get("privileged").is_some_and(Node::is_true) {
        hits.push(hit(
            COMPOSE_PRIVILEGED,
            at("privileged"),
            format!(
                "service `{name}` is privileged: it has every capability and the host's \
                 devices, so escaping to the host is trivial (CWE-250); remove \
                 `privileged: true` and add only the `cap_add` it needs"
            ),
        ));
    }
    if service.get("network_mode").and_then(Node::as_str) == Some("host") {
        hits.push(hit(
            COMPOSE_HOST_NETWORK,
            at("network_mode"),
            format!(
                "service `{name}` uses `network_mode: host`: it shares the host's network \
                 stack and every port it opens is on the host's interfaces (CWE-668); use a \
                 Compose network and publish only the ports needed"
            ),
        ));
    }
    for (volume, l) in service.get("volumes").map(Node::items).unwrap_or_default() {
        let source = match volume {
            Node::Scalar(s) => s.split(':').next(),
            map => map.get("source").and_then(Node::as_str),
        };
        if source.is_some_and(|s| s.trim_end_matches('/').ends_with("docker.sock")) {
            hits.push(hit(
                COMPOSE_DOCKER_SOCKET,
                item_line("volumes", *l),
                format!(
                    "service `{name}` mounts the Docker socket: whoever controls the container \
                     controls the Docker daemon, i.e. root on the host (CWE-250); use a socket \
                     proxy that allows only the calls needed, or no socket at all"
                ),
            ));
        }
    }
    let image = service.get("image").and_then(Node::as_str);
    // With `build`, `image` names what is built here, not what is pulled.
    let built = service.get("build").is_some();
    if let Some(image) = image
        && !built
        && let Some(why) = unpinned(image)
    {
        hits.push(hit(
            COMPOSE_UNPINNED_IMAGE,
            at("image"),
            format!(
                "service `{name}`: image `{image}` {why}, so each pull may run different \
                 software (CWE-1357); pin a version tag, ideally with its `@sha256:` digest"
            ),
        ));
    }
    environment(name, service, at("environment"), hits);
    if let Some(image) = image
        && is_database(image)
    {
        for (port, l) in service.get("ports").map(Node::items).unwrap_or_default() {
            let (spec, address) = match port {
                Node::Scalar(s) if !s.contains('$') => (s.clone(), host_address(s).to_string()),
                Node::Map(_) => {
                    let ip = port.get("host_ip").and_then(Node::as_str).unwrap_or("");
                    let target = port.get("target").and_then(Node::as_str).unwrap_or("?");
                    (target.to_string(), ip.to_string())
                }
                _ => continue,
            };
            if LOOPBACK.contains(&address.as_str()) {
                continue;
            }
            hits.push(hit(
                COMPOSE_EXPOSED_DATABASE,
                item_line("ports", *l),
                format!(
                    "service `{name}` ({image}) publishes `{spec}` on every interface of the \
                     host: the database is reachable from the network (CWE-668); publish it on \
                     `127.0.0.1:` or drop `ports` and reach it over the Compose network"
                ),
            ));
        }
    }
}

fn environment(name: &str, service: &Node, line: u32, hits: &mut Vec<Hit>) {
    let entries: Vec<(String, String, u32)> = match service.get("environment") {
        Some(Node::Map(entries)) => entries
            .iter()
            .filter_map(|(k, v, l)| Some((k.clone(), v.as_str()?.to_string(), *l)))
            .collect(),
        Some(Node::Seq(items)) => items
            .iter()
            .filter_map(|(v, l)| {
                let (k, v) = v.as_str()?.split_once('=')?;
                Some((k.trim().to_string(), v.to_string(), *l))
            })
            .collect(),
        _ => return,
    };
    for (key, value, l) in entries {
        let why = if is_secret_name(&key) && literal(&value) {
            "is a literal"
        } else if url_password(&value) {
            "is a URL with a literal password"
        } else {
            continue;
        };
        hits.push(hit(
            COMPOSE_HARDCODED_SECRET,
            if l == 0 { line } else { l },
            format!(
                "service `{name}`: `{key}` {why}: the secret is in the repository and in \
                 `docker inspect` (CWE-798); write `{key}: ${{{key}:?}}` and set it in an \
                 untracked `.env`, or use Compose `secrets:`"
            ),
        ));
    }
}
