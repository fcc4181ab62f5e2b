//! Dockerfile rules. A Dockerfile is read as instructions: comment lines
//! dropped, `\` continuations joined, each instruction keeping the line it
//! starts on. Only the final stage (after the last `FROM`) decides the
//! user and the health check of the image that runs; base images, secrets
//! and remote `ADD`s are checked in every stage.

use crate::rules::*;

/// One instruction: keyword (upper-cased), arguments, 1-based line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instruction {
    pub keyword: String,
    pub args: String,
    pub line: u32,
}

/// Words that make an `ENV`/`ARG` name secret-sounding.
pub const SECRET_WORDS: [&str; 8] = [
    "PASSWORD",
    "PASSWD",
    "SECRET",
    "TOKEN",
    "API_KEY",
    "APIKEY",
    "PRIVATE_KEY",
    "ACCESS_KEY",
];

/// Files that are credentials when copied into an image.
const SECRET_FILES: [&str; 8] = [
    ".env",
    "id_rsa",
    "id_ed25519",
    ".npmrc",
    ".pypirc",
    ".netrc",
    "credentials",
    ".git-credentials",
];

/// Whether a path names a Dockerfile.
pub fn is_dockerfile(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    name == "dockerfile"
        || name.starts_with("dockerfile.")
        || name.ends_with(".dockerfile")
        || name == "containerfile"
}

/// The instructions of a Dockerfile.
pub fn instructions(text: &str) -> Vec<Instruction> {
    let mut out = Vec::new();
    let mut pending: Option<(String, u32)> = None;
    for (index, raw) in text.lines().enumerate() {
        let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let line = raw.trim();
        if line.starts_with('#') || (line.is_empty() && pending.is_none()) {
            continue;
        }
        let (body, continues) = match line.strip_suffix('\\') {
            Some(body) => (body.trim_end(), true),
            None => (line, false),
        };
        let (mut text, start) = pending.take().unwrap_or_else(|| (String::new(), number));
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(body);
        if continues {
            pending = Some((text, start));
            continue;
        }
        let (keyword, args) = text.split_once(char::is_whitespace).unwrap_or((&text, ""));
        out.push(Instruction {
            keyword: keyword.to_ascii_uppercase(),
            args: args.trim().to_string(),
            line: start,
        });
    }
    out
}

/// Whether a variable name sounds like it holds a secret.
pub fn secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase().replace('-', "_");
    SECRET_WORDS.iter().any(|w| upper.contains(w))
}

/// The `NAME=value` (or legacy `NAME value`) pairs of an `ENV`/`ARG`.
fn assignments(keyword: &str, args: &str) -> Vec<(String, Option<String>)> {
    if !args.contains('=') {
        let mut words = args.splitn(2, char::is_whitespace);
        let name = words.next().unwrap_or("").to_string();
        let value = words
            .next()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty());
        // `ARG NAME` declares without a value; legacy `ENV NAME value` sets one.
        return vec![(name, if keyword == "ARG" { None } else { value })];
    }
    args.split_whitespace()
        .map(|pair| match pair.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.trim_matches(['"', '\'']).to_string())),
            None => (pair.to_string(), None),
        })
        .collect()
}

/// Runs the Dockerfile rules.
pub fn check(text: &str) -> Vec<Hit> {
    let ins = instructions(text);
    let mut hits = Vec::new();
    let stages: Vec<String> = ins
        .iter()
        .filter(|i| i.keyword == "FROM")
        .filter_map(|i| {
            let words: Vec<&str> = i.args.split_whitespace().collect();
            let at = words.iter().position(|w| w.eq_ignore_ascii_case("as"))?;
            words.get(at + 1).map(|s| s.to_ascii_lowercase())
        })
        .collect();
    for i in &ins {
        match i.keyword.as_str() {
            "FROM" => {
                let image = i
                    .args
                    .split_whitespace()
                    .find(|w| !w.starts_with("--"))
                    .unwrap_or("");
                let lower = image.to_ascii_lowercase();
                if image.is_empty()
                    || lower == "scratch"
                    || stages.contains(&lower)
                    || image.contains('$')
                {
                    continue;
                }
                let (without_digest, digest) = match image.split_once('@') {
                    Some((name, d)) => (name, Some(d)),
                    None => (image, None),
                };
                let last = without_digest.rsplit('/').next().unwrap_or(without_digest);
                let tag = last.split_once(':').map(|(_, t)| t);
                if digest.is_none() && tag.is_none_or(|t| t == "latest") {
                    let floats = if tag.is_none() {
                        "has no tag, so it means `latest`"
                    } else {
                        "floats with `latest`"
                    };
                    hits.push(hit(
                        UNPINNED_BASE_IMAGE,
                        i.line,
                        format!(
                            "base image `{image}` {floats}: rebuilds pick up whatever was pushed \
                             last, unreviewed (CWE-1357); pin a version tag (`python:3.12-slim`) \
                             or a digest (`@sha256:…`)"
                        ),
                    ));
                }
            }
            "ENV" | "ARG" => {
                for (name, value) in assignments(&i.keyword, &i.args) {
                    if !secret_name(&name) {
                        continue;
                    }
                    let (rule, what) = match (&i.keyword[..], &value) {
                        ("ENV", Some(v)) if !v.is_empty() => (
                            SECRET_IN_BUILD,
                            format!(
                                "`ENV {name}` bakes a value into every layer and `docker inspect`"
                            ),
                        ),
                        ("ARG", _) => (
                            SECRET_BUILD_ARG,
                            format!(
                                "`ARG {name}` passes a secret as a build argument, which `docker history` shows"
                            ),
                        ),
                        _ => continue,
                    };
                    hits.push(hit(
                        rule,
                        i.line,
                        format!(
                            "{what} (CWE-538); pass it at run time from the orchestrator's \
                             secret store, or at build time with `RUN --mount=type=secret`"
                        ),
                    ));
                }
            }
            "COPY" | "ADD" => {
                let sources: Vec<&str> = i
                    .args
                    .split_whitespace()
                    .filter(|w| !w.starts_with("--"))
                    .collect();
                let sources = &sources[..sources.len().saturating_sub(1)];
                for source in sources {
                    let name = source
                        .trim_matches(['"', '[', ']', ','])
                        .rsplit('/')
                        .next()
                        .unwrap_or("");
                    let secret = SECRET_FILES.contains(&name)
                        || name.starts_with(".env.")
                        || name.ends_with(".pem")
                        || name.ends_with(".key");
                    if secret && !name.ends_with(".example") {
                        hits.push(hit(
                            SECRET_IN_BUILD,
                            i.line,
                            format!(
                                "`{} {source}` copies a credential file into the image, where \
                                 anyone who can pull it can read it (CWE-538); mount it at run \
                                 time, and list it in `.dockerignore`",
                                i.keyword
                            ),
                        ));
                    }
                }
                let remote = sources
                    .iter()
                    .any(|s| s.starts_with("http://") || s.starts_with("https://"));
                if i.keyword == "ADD" && remote && !i.args.contains("--checksum=") {
                    hits.push(hit(
                        ADD_REMOTE_URL,
                        i.line,
                        "`ADD` of a URL downloads into the image without checking what arrived \
                         (CWE-494); use `ADD --checksum=sha256:…` or download with `curl` and \
                         verify the checksum in the same `RUN`"
                            .into(),
                    ));
                }
            }
            _ => {}
        }
    }
    // The final stage: its user and health check are the image's.
    let Some(last_from) = ins.iter().rposition(|i| i.keyword == "FROM") else {
        return hits;
    };
    let final_stage = &ins[last_from..];
    let from_line = ins[last_from].line;
    match final_stage.iter().rev().find(|i| i.keyword == "USER") {
        None => hits.push(hit(
            ROOT_USER,
            from_line,
            "the image runs as root (no `USER` in the final stage): a compromised process owns \
             the container and is one kernel bug from the host (CWE-250); create an \
             unprivileged user and switch to it with `USER`"
                .into(),
        )),
        Some(user) => {
            let name = user.args.split(':').next().unwrap_or("").trim();
            if name == "root" || name == "0" {
                hits.push(hit(
                    ROOT_USER,
                    user.line,
                    format!(
                        "`USER {}` runs the image as root (CWE-250); switch to an unprivileged \
                         user",
                        user.args
                    ),
                ));
            }
        }
    }
    if !final_stage.iter().any(|i| i.keyword == "HEALTHCHECK") {
        hits.push(hit(
            MISSING_HEALTHCHECK,
            from_line,
            "the final stage has no `HEALTHCHECK`: Docker and Compose cannot tell a hung \
             service from a healthy one; add one, or document the exemption (an orchestrator's \
             probes, a distroless image without a shell) with a `qlp-ignore` comment"
                .into(),
        ));
    }
    hits
}
