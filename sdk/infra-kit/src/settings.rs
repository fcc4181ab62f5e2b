//! What a deployment of the capsule's service needs to know, read from the
//! capsule and the export options: the service's name, image, port, health
//! path and user, its scaling and resources, and its optional Ingress host
//! and Secret.
//!
//! Derived from the capsule: the name from the base name ([`dns_label`]),
//! the port from the Dockerfile's `EXPOSE` ([`exposed_port`]), the health
//! path from the routes found in the files ([`health_path`]; `/` for an
//! nginx image without one, see [`serves_static_files`]) and the user from
//! the Dockerfile's `USER` ([`image_user`]). Every option overrides
//! what was derived and is checked ([`Settings::resolve`]); a bad value
//! gives `INVALID_OPTION`.
//!
//! `qlp/kubernetes` and `qlp/helm` resolve their export options here, so
//! both package the same service the same way (the option list is in each
//! crate's documentation); `qlp/k8s-manifests` resolves what it reads from
//! the intent through the same checks.

use qlp_sdk::{File, PluginError};

/// Longest Kubernetes object name used: a DNS-1123 label (Services need
/// it, and the container and port names follow it).
pub const MAX_NAME_CHARS: usize = 63;

/// Name used when the base name has no usable character.
pub const DEFAULT_NAME: &str = "service";

/// Prefix put before a name that starts with a digit: Service names are
/// DNS-1035 labels, which must start with a letter.
pub const DIGIT_PREFIX: &str = "app-";

/// Port the container listens on when no Dockerfile says (`EXPOSE`).
pub const DEFAULT_PORT: u16 = 8080;

/// Health path probed when the files name neither `/healthz` nor
/// `/health`.
pub const DEFAULT_HEALTH_PATH: &str = "/healthz";

/// Health path probed when the files name no health route and the image
/// serves static files with nginx: its index page, since nginx has no
/// health endpoint of its own.
pub const STATIC_HEALTH_PATH: &str = "/";

/// Health paths looked for in the files, preferred first.
pub const HEALTH_PATHS: [&str; 2] = ["/healthz", "/health"];

/// User id the container runs as when the Dockerfile names no non-root
/// user that can be resolved to a number: high enough to match no system
/// account of a base image.
pub const DEFAULT_USER: u32 = 10001;

/// Numeric ids of the unprivileged users that common base images define
/// by name (distroless, node, Debian's nobody, nginx-unprivileged).
pub const WELL_KNOWN_USERS: [(&str, u32); 4] = [
    ("nonroot", 65532),
    ("node", 1000),
    ("nobody", 65534),
    ("nginx", 101),
];

/// Replicas the service keeps (and the autoscaler's minimum) by default:
/// two, so one pod can be drained while the other serves.
pub const DEFAULT_REPLICAS: u32 = 2;

/// Autoscaler maximum by default.
pub const DEFAULT_MAX_REPLICAS: u32 = 5;

/// Largest replica count accepted: a guard against typos (`100` for `10`)
/// that would ask a cluster for far more than a generated service needs.
pub const MAX_REPLICAS: u32 = 100;

/// Average CPU utilization, in percent of the request, that the autoscaler
/// keeps.
pub const CPU_TARGET_PERCENT: u32 = 80;

/// Resource requests and limits by default: a small web service.
pub const DEFAULT_RESOURCES: Resources<'static> = Resources {
    cpu_request: "100m",
    cpu_limit: "500m",
    memory_request: "128Mi",
    memory_limit: "256Mi",
};

/// Longest image reference accepted; registries cap repository names at
/// 255 characters, a tag adds 128 and a digest 71.
pub const MAX_IMAGE_CHARS: usize = 512;

/// Longest DNS-1123 subdomain (host names, Secret and IngressClass names).
pub const MAX_SUBDOMAIN_CHARS: usize = 253;

/// Resource requests and limits, as Kubernetes quantities.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resources<'a> {
    pub cpu_request: &'a str,
    pub cpu_limit: &'a str,
    pub memory_request: &'a str,
    pub memory_limit: &'a str,
}

/// Everything the packaging needs, resolved and checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Name of every object: a DNS-1035 label of at most 63 characters.
    pub name: String,
    /// Container image reference.
    pub image: String,
    /// Port the container listens on.
    pub port: u16,
    /// Path of the HTTP health endpoint the probes call.
    pub health_path: String,
    /// Non-zero user (and group) id the container runs as.
    pub user: u32,
    /// Replicas kept at least (the autoscaler's minimum).
    pub replicas: u32,
    /// Autoscaler maximum, at least `replicas`.
    pub max_replicas: u32,
    pub cpu_request: String,
    pub cpu_limit: String,
    pub memory_request: String,
    pub memory_limit: String,
    /// Host an Ingress routes to the service, if any.
    pub host: Option<String>,
    /// IngressClass of that Ingress; the cluster's default when `None`.
    pub ingress_class: Option<String>,
    /// TLS Secret of that Ingress, if it serves HTTPS.
    pub tls_secret: Option<String>,
    /// Secret whose keys become environment variables, if any.
    pub existing_secret: Option<String>,
}

impl Settings {
    /// Resolves the settings of the capsule's service: derived from the
    /// files and base name, then overridden by the options. Options in
    /// `own` are returned for the calling exporter to read; any other
    /// unknown option is ignored with a warning.
    pub fn resolve(
        files: &[File],
        base_name: &str,
        options: &[(String, String)],
        own: &[&str],
    ) -> Result<(Self, Vec<(String, String)>), PluginError> {
        let name = match options.iter().rev().find(|(key, _)| key == "name") {
            Some((key, value)) => check(key, value, name_problem(value))?.to_owned(),
            None => dns_label(base_name),
        };
        let dockerfile = dockerfile(files);
        let health_path = health_path(files).unwrap_or_else(|| {
            if dockerfile.is_some_and(serves_static_files) {
                STATIC_HEALTH_PATH
            } else {
                DEFAULT_HEALTH_PATH
            }
        });
        let mut settings = Settings {
            image: format!("{name}:latest"),
            name,
            port: dockerfile.and_then(exposed_port).unwrap_or(DEFAULT_PORT),
            health_path: health_path.into(),
            user: dockerfile.and_then(image_user).unwrap_or(DEFAULT_USER),
            replicas: DEFAULT_REPLICAS,
            max_replicas: DEFAULT_MAX_REPLICAS,
            cpu_request: DEFAULT_RESOURCES.cpu_request.into(),
            cpu_limit: DEFAULT_RESOURCES.cpu_limit.into(),
            memory_request: DEFAULT_RESOURCES.memory_request.into(),
            memory_limit: DEFAULT_RESOURCES.memory_limit.into(),
            host: None,
            ingress_class: None,
            tls_secret: None,
            existing_secret: None,
        };
        let mut max_replicas = None;
        let mut rest = Vec::new();
        for (key, value) in options {
            let value = value.as_str();
            match key.as_str() {
                "name" => {}
                "image" => settings.image = check(key, value, image_problem(value))?.into(),
                "port" => {
                    settings.port = parse_number(key, value, 1, u16::MAX.into())? as u16;
                }
                "health-path" => {
                    settings.health_path = check(key, value, http_path_problem(value))?.into();
                }
                "run-as-user" => {
                    settings.user = parse_number(key, value, 1, i32::MAX as u32)?;
                }
                "replicas" => settings.replicas = parse_number(key, value, 1, MAX_REPLICAS)?,
                "max-replicas" => {
                    max_replicas = Some(parse_number(key, value, 1, MAX_REPLICAS)?);
                }
                "cpu-request" => settings.cpu_request = quantity(key, value)?,
                "cpu-limit" => settings.cpu_limit = quantity(key, value)?,
                "memory-request" => settings.memory_request = quantity(key, value)?,
                "memory-limit" => settings.memory_limit = quantity(key, value)?,
                "host" => settings.host = Some(subdomain(key, value, true)?),
                "ingress-class" => settings.ingress_class = Some(subdomain(key, value, false)?),
                "tls-secret" => settings.tls_secret = Some(subdomain(key, value, false)?),
                "existing-secret" => {
                    settings.existing_secret = Some(subdomain(key, value, false)?);
                }
                other if own.contains(&other) => rest.push((key.clone(), value.into())),
                _ => qlp_sdk::log::warn("unknown export option ignored", &[("option", key)]),
            }
        }
        settings.max_replicas = max_replicas.unwrap_or(settings.replicas.max(DEFAULT_MAX_REPLICAS));
        if settings.max_replicas < settings.replicas {
            return Err(invalid(format!(
                "option `max-replicas` ({}) must not be below `replicas` ({})",
                settings.max_replicas, settings.replicas
            )));
        }
        for (what, request, limit) in [
            ("cpu", &settings.cpu_request, &settings.cpu_limit),
            ("memory", &settings.memory_request, &settings.memory_limit),
        ] {
            if quantity_value(request) > quantity_value(limit) {
                return Err(invalid(format!(
                    "option `{what}-request` ({request}) must not exceed `{what}-limit` ({limit})"
                )));
            }
        }
        if settings.tls_secret.is_some() && settings.host.is_none() {
            return Err(invalid(
                "option `tls-secret` needs option `host`: TLS is served by the Ingress",
            ));
        }
        Ok((settings, rest))
    }
}

fn invalid(message: impl Into<String>) -> PluginError {
    PluginError::new("INVALID_OPTION", message)
}

fn check<'a>(key: &str, value: &'a str, problem: Option<&str>) -> Result<&'a str, PluginError> {
    match problem {
        None => Ok(value),
        Some(problem) => Err(invalid(format!("option `{key}` {problem}, not {value:?}"))),
    }
}

/// An integer option between `min` and `max`.
pub fn parse_number(key: &str, value: &str, min: u32, max: u32) -> Result<u32, PluginError> {
    value
        .parse::<u32>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| {
            invalid(format!(
                "option `{key}` must be a whole number from {min} to {max}, not {value:?}"
            ))
        })
}

/// The base name as a DNS-1035 label: lower-cased, other characters than
/// `a-z0-9` turned into `-` (runs collapsed, none at either end), prefixed
/// with [`DIGIT_PREFIX`] when it starts with a digit, at most
/// [`MAX_NAME_CHARS`]; [`DEFAULT_NAME`] when nothing is left.
pub fn dns_label(base_name: &str) -> String {
    let mut name = String::new();
    for c in base_name.chars() {
        let c = c.to_ascii_lowercase();
        let c = if c.is_ascii_lowercase() || c.is_ascii_digit() {
            c
        } else {
            '-'
        };
        if !(c == '-' && (name.is_empty() || name.ends_with('-'))) {
            name.push(c);
        }
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert_str(0, DIGIT_PREFIX);
    }
    name.truncate(MAX_NAME_CHARS);
    let name = name.trim_end_matches('-');
    if name.is_empty() {
        DEFAULT_NAME.into()
    } else {
        name.into()
    }
}

/// Why a value is not a usable object name (a DNS-1035 label of at most
/// [`MAX_NAME_CHARS`]), if it is not.
pub fn name_problem(value: &str) -> Option<&'static str> {
    if value.is_empty() || value.len() > MAX_NAME_CHARS || dns_label(value) != value {
        Some("must be 1 to 63 lower-case letters, digits and inner `-`, starting with a letter")
    } else {
        None
    }
}

/// Why a value is not a DNS-1123 subdomain (lower-case labels of `a-z0-9`
/// and inner `-`, joined by `.`), if it is not; `wildcard` admits a first
/// label `*` (`*.example.com`).
pub fn subdomain_problem(value: &str, wildcard: bool) -> Option<&'static str> {
    let body = match value.strip_prefix("*.") {
        Some(rest) if wildcard => rest,
        _ => value,
    };
    if value.is_empty() {
        Some("must not be empty")
    } else if value.len() > MAX_SUBDOMAIN_CHARS {
        Some("must have at most 253 characters")
    } else if body.split('.').any(|label| {
        label.is_empty()
            || label.len() > MAX_NAME_CHARS
            || label.starts_with('-')
            || label.ends_with('-')
            || !label
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    }) {
        Some(
            "must be a DNS name: lower-case letters, digits, `-` and `.`, labels of 1 to 63 characters not starting or ending with `-`",
        )
    } else {
        None
    }
}

fn subdomain(key: &str, value: &str, wildcard: bool) -> Result<String, PluginError> {
    check(key, value, subdomain_problem(value, wildcard)).map(str::to_owned)
}

/// Why a value is not a usable image reference, if it is not: at most
/// [`MAX_IMAGE_CHARS`] characters of `A-Za-z0-9` and `._-/:@`, starting
/// with a letter or digit.
pub fn image_problem(value: &str) -> Option<&'static str> {
    if value.is_empty() || value.len() > MAX_IMAGE_CHARS {
        Some("must be an image reference of 1 to 512 characters")
    } else if !value.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        Some("must start with a letter or digit")
    } else if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._-/:@".contains(c))
    {
        Some("may only hold letters, digits and `._-/:@`")
    } else {
        None
    }
}

/// Why a value is not an absolute HTTP path, if it is not.
pub fn http_path_problem(value: &str) -> Option<&'static str> {
    if !value.starts_with('/') || value.len() > 1024 {
        Some("must be an absolute path such as `/healthz`")
    } else if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/-._~%!$&'()*+,;=:@?".contains(c))
    {
        Some("may only hold URL path characters")
    } else {
        None
    }
}

/// Binary and decimal suffixes of Kubernetes quantities, with their
/// factors.
const QUANTITY_SUFFIXES: [(&str, f64); 14] = [
    ("Ki", 1024.0),
    ("Mi", 1048576.0),
    ("Gi", 1073741824.0),
    ("Ti", 1099511627776.0),
    ("Pi", 1125899906842624.0),
    ("Ei", 1152921504606846976.0),
    ("m", 1e-3),
    ("k", 1e3),
    ("M", 1e6),
    ("G", 1e9),
    ("T", 1e12),
    ("P", 1e15),
    ("E", 1e18),
    ("", 1.0),
];

/// The value of a Kubernetes quantity (`100m`, `0.5`, `256Mi`, `1G`), if
/// it is one and positive. Exponent forms (`1e3`) are not accepted.
pub fn quantity_value(value: &str) -> Option<f64> {
    let (number, factor) = QUANTITY_SUFFIXES
        .iter()
        .find_map(|(suffix, factor)| value.strip_suffix(suffix).map(|n| (n, *factor)))?;
    let digits_ok = !number.is_empty()
        && number.chars().all(|c| c.is_ascii_digit() || c == '.')
        && number.matches('.').count() <= 1
        && number.chars().any(|c| c.is_ascii_digit());
    if !digits_ok || value.len() > 32 {
        return None;
    }
    let amount: f64 = number.parse().ok()?;
    (amount > 0.0).then_some(amount * factor)
}

fn quantity(key: &str, value: &str) -> Result<String, PluginError> {
    match quantity_value(value) {
        Some(_) => Ok(value.into()),
        None => Err(invalid(format!(
            "option `{key}` must be a positive Kubernetes quantity such as `250m`, `1` or `512Mi`, not {value:?}"
        ))),
    }
}

/// The capsule's Dockerfile: `Dockerfile` at the root if there is one,
/// else the first (by path) file named `Dockerfile`, `Dockerfile.*` or
/// `*.Dockerfile`.
pub fn dockerfile(files: &[File]) -> Option<&str> {
    let is_dockerfile = |path: &str| {
        let name = path.rsplit('/').next().unwrap_or(path);
        name == "Dockerfile"
            || name.starts_with("Dockerfile.")
            || name.to_ascii_lowercase().ends_with(".dockerfile")
    };
    files
        .iter()
        .find(|f| f.path == "Dockerfile")
        .or_else(|| {
            files
                .iter()
                .filter(|f| is_dockerfile(&f.path))
                .min_by(|a, b| a.path.cmp(&b.path))
        })
        .and_then(File::as_text)
}

/// The instructions of a Dockerfile's final stage (after its last `FROM`),
/// each as (upper-cased keyword, arguments).
fn final_stage(dockerfile: &str) -> Vec<(String, &str)> {
    let mut stage = Vec::new();
    for line in dockerfile.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (keyword, args) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let keyword = keyword.to_ascii_uppercase();
        if keyword == "FROM" {
            stage.clear();
        }
        stage.push((keyword, args.trim()));
    }
    stage
}

/// Whether the final stage of a Dockerfile serves files with nginx (an
/// `nginx` image, such as `nginxinc/nginx-unprivileged`).
pub fn serves_static_files(dockerfile: &str) -> bool {
    final_stage(dockerfile)
        .first()
        .is_some_and(|(keyword, args)| keyword == "FROM" && args.contains("nginx"))
}

/// The first port the final stage of a Dockerfile exposes (`EXPOSE 8000`
/// or `EXPOSE 8000/tcp`); ports given by variables are skipped.
pub fn exposed_port(dockerfile: &str) -> Option<u16> {
    final_stage(dockerfile)
        .into_iter()
        .filter(|(keyword, _)| keyword == "EXPOSE")
        .flat_map(|(_, args)| args.split_whitespace())
        .find_map(|port| {
            let (number, protocol) = port.split_once('/').unwrap_or((port, "tcp"));
            let number: u16 = number.parse().ok()?;
            (number != 0 && protocol.eq_ignore_ascii_case("tcp")).then_some(number)
        })
}

/// The non-root user id the final stage of a Dockerfile runs as: its
/// `USER` when numeric, the `--uid`/`-u` given to `useradd`/`adduser` for
/// that user, or a [`WELL_KNOWN_USERS`] id. `None` for root, no `USER`, or
/// a name that cannot be resolved.
pub fn image_user(dockerfile: &str) -> Option<u32> {
    let user = final_stage(dockerfile)
        .into_iter()
        .rev()
        .find(|(keyword, _)| keyword == "USER")
        .map(|(_, args)| args.split(':').next().unwrap_or(args).trim().to_owned())?;
    let id = match user.parse::<u32>() {
        Ok(id) => Some(id),
        Err(_) => created_uid(dockerfile, &user).or_else(|| {
            WELL_KNOWN_USERS
                .iter()
                .find(|(name, _)| *name == user)
                .map(|(_, id)| *id)
        }),
    };
    id.filter(|&id| id != 0 && id <= i32::MAX as u32)
}

/// The id a `useradd`/`adduser` command in the Dockerfile gives `user`.
fn created_uid(dockerfile: &str, user: &str) -> Option<u32> {
    dockerfile.lines().find_map(|line| {
        let words: Vec<&str> = line.split_whitespace().collect();
        let command = words
            .iter()
            .position(|w| *w == "useradd" || *w == "adduser")?;
        let words = &words[command..];
        let end = words
            .iter()
            .position(|w| *w == "&&" || *w == ";")
            .unwrap_or(words.len());
        let words = &words[..end];
        if words.last() != Some(&user) {
            return None;
        }
        words.windows(2).find_map(|pair| match pair {
            [flag, id] if *flag == "--uid" || *flag == "-u" => id.parse().ok(),
            _ => pair[0]
                .strip_prefix("--uid=")
                .and_then(|id| id.parse().ok()),
        })
    })
}

/// The preferred [`HEALTH_PATHS`] entry that some text file of the
/// capsule names as a whole path (`"/health"`, `'/healthz'`,
/// `` `/health` ``; not `/healthcheck` nor `/api/health`).
pub fn health_path(files: &[File]) -> Option<&'static str> {
    HEALTH_PATHS.into_iter().find(|path| {
        files
            .iter()
            .filter_map(File::as_text)
            .any(|text| names_path(text, path))
    })
}

/// Whether `text` holds `path` delimited as a whole path.
fn names_path(text: &str, path: &str) -> bool {
    let continues_path = |c: char| c.is_ascii_alphanumeric() || "-_/.".contains(c);
    text.match_indices(path).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + path.len()..].chars().next();
        matches!(before, Some('"' | '\'' | '`' | ' ' | '(' | '\t'))
            && !after.is_some_and(continues_path)
    })
}

/// The image reference split into repository, tag and digest (`""` when
/// absent): `registry:5000/team/app:1.2@sha256:...`.
pub fn split_image(image: &str) -> (&str, &str, &str) {
    let (rest, digest) = image.split_once('@').unwrap_or((image, ""));
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    match rest[last_slash..].rfind(':') {
        Some(colon) => {
            let colon = last_slash + colon;
            (&rest[..colon], &rest[colon + 1..], digest)
        }
        None => (rest, "", digest),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(files: &[File], options: &[(&str, &str)]) -> Result<Settings, PluginError> {
        let options: Vec<(String, String)> = options
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::resolve(files, "Invoices Service", &options, &[]).map(|(s, _)| s)
    }

    fn error(files: &[File], options: &[(&str, &str)]) -> String {
        match resolve(files, options) {
            Err(e) => format!("{}: {}", e.code, e.message),
            Ok(s) => panic!("{options:?} accepted: {s:?}"),
        }
    }

    #[test]
    fn weird_base_names_become_dns_labels() {
        assert_eq!(dns_label("invoices-service"), "invoices-service");
        assert_eq!(dns_label("Invoices Service v1.2"), "invoices-service-v1-2");
        assert_eq!(dns_label("../../etc/passwd"), "etc-passwd");
        assert_eq!(dns_label("  façade__API  "), "fa-ade-api");
        assert_eq!(dns_label("2fa-gateway"), "app-2fa-gateway");
        assert_eq!(dns_label("---"), DEFAULT_NAME);
        assert_eq!(dns_label(""), DEFAULT_NAME);
        assert_eq!(dns_label("日本語"), DEFAULT_NAME);
        let long = dns_label(&format!("{}-{}", "a".repeat(62), "b".repeat(10)));
        assert_eq!(long, "a".repeat(62), "cut at 63, no trailing dash");
        for weird in ["A_B.C", "9", "x".repeat(300).as_str(), "-a-", "Ünïcödé!"] {
            let name = dns_label(weird);
            assert!(name.len() <= MAX_NAME_CHARS, "{name}");
            assert!(name.starts_with(|c: char| c.is_ascii_lowercase()), "{name}");
            assert_eq!(subdomain_problem(&name, false), None, "{name}");
        }
    }

    #[test]
    fn the_port_comes_from_the_final_stage_expose() {
        assert_eq!(exposed_port("FROM python\nEXPOSE 8000\n"), Some(8000));
        assert_eq!(exposed_port("FROM x\nexpose 3000/tcp 9090\n"), Some(3000));
        assert_eq!(exposed_port("FROM x\nEXPOSE 53/udp 8081\n"), Some(8081));
        assert_eq!(exposed_port("FROM x\nEXPOSE $PORT\n"), None);
        assert_eq!(
            exposed_port("FROM b AS build\nEXPOSE 9999\nFROM r\nEXPOSE 7000\n"),
            Some(7000)
        );
        assert_eq!(exposed_port("FROM b\nEXPOSE 9999\nFROM r\n"), None);
        let files = [
            File::text("app/main.py", "print()"),
            File::text("Dockerfile", "FROM python\nEXPOSE 8000\n"),
        ];
        assert_eq!(resolve(&files, &[]).unwrap().port, 8000);
        assert_eq!(resolve(&files[..1], &[]).unwrap().port, DEFAULT_PORT);
        let nested = [File::text("deploy/api.Dockerfile", "FROM x\nEXPOSE 4000\n")];
        assert_eq!(resolve(&nested, &[]).unwrap().port, 4000);
        assert_eq!(resolve(&files, &[("port", "9000")]).unwrap().port, 9000);
    }

    #[test]
    fn the_health_path_comes_from_the_routes() {
        let with = |text: &str| health_path(&[File::text("src/app.ts", text)]);
        assert_eq!(with("app.get(\"/health\", h)"), Some("/health"));
        assert_eq!(with("mux.HandleFunc(\"/healthz\", h)"), Some("/healthz"));
        assert_eq!(
            with("@app.get('/health')\n@app.get('/healthz')"),
            Some("/healthz")
        );
        assert_eq!(with("app.get(\"/healthcheck\")"), None);
        assert_eq!(with("app.get(\"/api/health\")"), None);
        assert_eq!(with("| GET | `/health` | probe |"), Some("/health"));
        assert_eq!(with("nothing here"), None);
        assert_eq!(resolve(&[], &[]).unwrap().health_path, DEFAULT_HEALTH_PATH);
    }

    #[test]
    fn the_user_comes_from_the_dockerfile() {
        let fastapi = "FROM python\nRUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin app\nUSER app\n";
        assert_eq!(image_user(fastapi), Some(10001));
        assert_eq!(image_user("FROM nginx\nUSER 101\n"), Some(101));
        assert_eq!(image_user("FROM d\nUSER nonroot:nonroot\n"), Some(65532));
        assert_eq!(image_user("FROM n\nUSER node\n"), Some(1000));
        assert_eq!(
            image_user("FROM a\nRUN adduser -D -u 2000 web && true\nUSER web\n"),
            Some(2000)
        );
        assert_eq!(image_user("FROM x\nUSER root\n"), None);
        assert_eq!(image_user("FROM x\nUSER 0\n"), None);
        assert_eq!(image_user("FROM x\nUSER someone\n"), None);
        assert_eq!(image_user("FROM x\n"), None);
        assert_eq!(resolve(&[], &[]).unwrap().user, DEFAULT_USER);
        assert_eq!(resolve(&[], &[("run-as-user", "4242")]).unwrap().user, 4242);
        assert!(error(&[], &[("run-as-user", "0")]).starts_with("INVALID_OPTION"));
    }

    #[test]
    fn the_name_option_replaces_the_base_name() {
        let named = resolve(&[], &[("name", "billing")]).unwrap();
        assert_eq!(
            (named.name.as_str(), named.image.as_str()),
            ("billing", "billing:latest")
        );
        for bad in ["Billing", "2fa", "a_b", "", "-a", &"a".repeat(64)] {
            let message = error(&[], &[("name", bad)]);
            assert!(
                message.contains("option `name` must be 1 to 63"),
                "{bad:?}: {message}"
            );
        }
    }

    #[test]
    fn defaults_describe_a_small_service() {
        let settings = resolve(&[], &[]).unwrap();
        assert_eq!(settings.name, "invoices-service");
        assert_eq!(settings.image, "invoices-service:latest");
        assert_eq!((settings.replicas, settings.max_replicas), (2, 5));
        assert_eq!(settings.host, None);
        let scaled = resolve(&[], &[("replicas", "8")]).unwrap();
        assert_eq!((scaled.replicas, scaled.max_replicas), (8, 8));
    }

    #[test]
    fn bad_options_are_refused_with_a_clear_message() {
        for (option, expected) in [
            (
                ("port", "0"),
                "option `port` must be a whole number from 1 to 65535",
            ),
            (("port", "http"), "option `port` must be a whole number"),
            (("replicas", "1000"), "from 1 to 100"),
            (("image", "my image"), "option `image` may only hold"),
            (("image", ""), "option `image` must be an image reference"),
            (("image", "-rm"), "must start with a letter or digit"),
            (("health-path", "healthz"), "must be an absolute path"),
            (("host", "Example.COM"), "option `host` must be a DNS name"),
            (("host", "a..b"), "must be a DNS name"),
            (("existing-secret", "*.x"), "must be a DNS name"),
            (
                ("cpu-limit", "lots"),
                "option `cpu-limit` must be a positive Kubernetes quantity",
            ),
            (("memory-request", "0Mi"), "positive Kubernetes quantity"),
            (("memory-request", "1e3"), "positive Kubernetes quantity"),
        ] {
            let message = error(&[], &[option]);
            assert!(message.starts_with("INVALID_OPTION: "), "{message}");
            assert!(message.contains(expected), "{option:?}: {message}");
        }
        let message = error(&[], &[("replicas", "4"), ("max-replicas", "3")]);
        assert!(
            message.contains("must not be below `replicas`"),
            "{message}"
        );
        let message = error(&[], &[("cpu-request", "2"), ("cpu-limit", "1500m")]);
        assert!(message.contains("must not exceed `cpu-limit`"), "{message}");
        let message = error(&[], &[("tls-secret", "tls")]);
        assert!(message.contains("needs option `host`"), "{message}");
    }

    #[test]
    fn good_options_are_taken() {
        let settings = resolve(
            &[],
            &[
                ("image", "registry.example.com:5000/team/invoices:1.4.2"),
                ("host", "*.invoices.example.com"),
                ("memory-limit", "1Gi"),
                ("cpu-request", "0.25"),
                ("existing-secret", "invoices-env"),
                ("unknown", "ignored"),
            ],
        )
        .unwrap();
        assert_eq!(
            settings.image,
            "registry.example.com:5000/team/invoices:1.4.2"
        );
        assert_eq!(settings.host.as_deref(), Some("*.invoices.example.com"));
        assert_eq!(settings.memory_limit, "1Gi");
        assert_eq!(settings.cpu_request, "0.25");
        assert_eq!(settings.existing_secret.as_deref(), Some("invoices-env"));
        let (_, own) = Settings::resolve(
            &[],
            "x",
            &[("namespace".into(), "prod".into())],
            &["namespace"],
        )
        .unwrap();
        assert_eq!(own, [("namespace".to_string(), "prod".to_string())]);
    }

    #[test]
    fn quantities_compare_by_value() {
        assert_eq!(quantity_value("100m"), Some(0.1));
        assert_eq!(quantity_value("1Ki"), Some(1024.0));
        assert!(quantity_value("1G") < quantity_value("1Gi"));
        assert_eq!(quantity_value("Mi"), None);
        assert_eq!(quantity_value("1.2.3"), None);
        assert_eq!(quantity_value("-1"), None);
    }

    #[test]
    fn images_split_into_repository_tag_and_digest() {
        assert_eq!(split_image("app:latest"), ("app", "latest", ""));
        assert_eq!(split_image("app"), ("app", "", ""));
        assert_eq!(
            split_image("reg:5000/team/app"),
            ("reg:5000/team/app", "", "")
        );
        assert_eq!(
            split_image("reg:5000/app:1.2@sha256:ab"),
            ("reg:5000/app", "1.2", "sha256:ab")
        );
        assert_eq!(split_image("app@sha256:ab"), ("app", "", "sha256:ab"));
    }
}
