//! What a delivery is configured with: the operator's configuration of the
//! plugin (endpoint, region, bucket, credentials, multipart sizes) and the
//! tier's delivery target (key prefix, bucket, `overwrite`, storage class),
//! checked before any request is sent. The module doc of `lib.rs` lists
//! every key.

use qlp_sdk::PluginError;

use crate::sigv4::Credentials;

/// S3's smallest part but the last: smaller parts are refused with
/// `EntityTooSmall` when the upload completes.
pub const MIN_PART_SIZE: u64 = 5 << 20;

/// The largest body of one request, so the largest part and the largest
/// single `PUT`: the host's cap on one plugin HTTP request body (16 MiB),
/// far below S3's own 5 GiB.
pub const MAX_BODY: u64 = 16 << 20;

/// The part size when the operator sets none.
pub const DEFAULT_PART_SIZE: u64 = 8 << 20;

/// The size above which an artifact goes in parts when the operator sets
/// none; up to it, one `PUT`.
pub const DEFAULT_MULTIPART_THRESHOLD: u64 = 8 << 20;

/// Longest object key S3 accepts, in UTF-8 bytes.
pub const MAX_KEY_BYTES: usize = 1024;

/// The region signed for when the operator names none; S3-compatible
/// servers commonly accept it whatever their own.
pub const DEFAULT_REGION: &str = "us-east-1";

/// Configuration key of the access key's secret, granted as a secret.
pub const SECRET_KEY: &str = "secret-access-key";

/// Configuration key of the access key's id, granted as a secret too: it
/// names the account, and operators keep it beside the secret.
pub const KEY_ID_KEY: &str = "access-key-id";

/// Option (and configuration key) choosing virtual-hosted addressing.
pub const VIRTUAL_HOSTED: &str = "virtual-hosted";

/// Option setting the object's storage class.
pub const STORAGE_CLASS_OPTION: &str = "storage-class";

/// The storage classes S3 documents for `x-amz-storage-class`.
pub const STORAGE_CLASSES: &[&str] = &[
    "STANDARD",
    "REDUCED_REDUNDANCY",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER",
    "DEEP_ARCHIVE",
    "OUTPOSTS",
    "GLACIER_IR",
    "SNOW",
    "EXPRESS_ONEZONE",
];

/// Option allowing an existing object with other content to be replaced.
pub const OVERWRITE_OPTION: &str = "overwrite";

/// Option naming the bucket for this target, over the configured one.
pub const BUCKET_OPTION: &str = "bucket";

/// Options the host adds to every delivery start with this.
pub const HOST_OPTION_PREFIX: &str = "qlp.";

/// The host option carrying the artifact's blake3, in hex.
pub const DIGEST_OPTION: &str = "qlp.artifact-blake3";

/// The host option carrying the intent's creation time, in unix seconds.
pub const CREATED_AT_OPTION: &str = "qlp.created-at";

/// How the bucket is named in a request's URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addressing {
    /// `http://endpoint/bucket/key`: every S3-compatible server's form.
    Path,
    /// `http://bucket.endpoint/key`: AWS's preferred form; the operator
    /// grants the bucket's own host name.
    Virtual,
}

/// The server: scheme, host and port, as given in `endpoint`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub scheme: String,
    /// Host name or IP address; IPv6 without brackets.
    pub host: String,
    pub port: u16,
}

impl Endpoint {
    /// `host:port` for the URL and the signed `Host` header, the port
    /// always written: the host writes it too, and what is signed must be
    /// what is sent.
    pub fn authority(&self, bucket_prefix: Option<&str>) -> String {
        let host = match bucket_prefix {
            Some(bucket) => format!("{bucket}.{}", self.host),
            None if self.host.contains(':') => format!("[{}]", self.host),
            None => self.host.clone(),
        };
        format!("{host}:{}", self.port)
    }

    /// The endpoint as the operator would write it, for receipts and logs.
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.authority(None))
    }
}

/// The operator's configuration of the plugin.
#[derive(Debug, Clone)]
pub struct Settings {
    pub endpoint: Endpoint,
    pub region: String,
    /// The bucket unless a target names its own.
    pub bucket: Option<String>,
    /// The addressing unless a target chooses its own.
    pub addressing: Addressing,
    pub credentials: Credentials,
    pub part_size: u64,
    /// Artifacts over this many bytes go in parts.
    pub multipart_threshold: u64,
    /// Whether bodies carry `x-amz-checksum-sha256` (on by default; off
    /// for servers that refuse the header).
    pub checksum: bool,
}

impl Settings {
    /// Reads the configuration through `config` (the host's, or a map in
    /// tests). Errors are `INVALID_OPTION`, or `MISSING_SECRET` without the
    /// access key, and never quote a secret.
    pub fn from_config(config: impl Fn(&str) -> Option<String>) -> Result<Self, PluginError> {
        let required = |key: &str| {
            config(key)
                .filter(|v| !v.trim().is_empty())
                .ok_or_else(|| invalid_config(format!("configuration `{key}` is not set")))
        };
        let endpoint = parse_endpoint(&required("endpoint")?)
            .map_err(|why| invalid_config(format!("configuration `endpoint` {why}")))?;
        let region = config("region").unwrap_or_else(|| DEFAULT_REGION.into());
        if region.is_empty()
            || !region
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(invalid_config(
                "configuration `region` must be letters, digits and `-`, e.g. `eu-west-1`",
            ));
        }
        let bucket = match config("bucket") {
            Some(bucket) => Some(
                checked_bucket(bucket)
                    .map_err(|why| invalid_config(format!("configuration `bucket` {why}")))?,
            ),
            None => None,
        };
        let addressing = match config(VIRTUAL_HOSTED) {
            None => Addressing::Path,
            Some(value) => {
                addressing(&value).map_err(|why| invalid_config(format!("configuration {why}")))?
            }
        };
        let secret = |key: &str| {
            config(key).filter(|v| !v.is_empty()).ok_or_else(|| {
                PluginError::new(
                    "MISSING_SECRET",
                    format!("the secret `{key}` is not granted to this plugin"),
                )
            })
        };
        let access_key_id = secret(KEY_ID_KEY)?;
        let secret_access_key = secret(SECRET_KEY)?;
        let credentials = Credentials {
            access_key_id,
            secret_access_key,
            session_token: config("session-token").filter(|t| !t.is_empty()),
        };
        let header_safe = |v: &str| v.bytes().all(|b| (b' '..=b'~').contains(&b));
        if !header_safe(&credentials.access_key_id)
            || !credentials.session_token.as_deref().is_none_or(header_safe)
        {
            return Err(invalid_config(
                "configuration `access-key-id` and `session-token` must be printable ASCII",
            ));
        }
        let size = |key: &str, default: u64| {
            match config(key) {
            None => Ok(default),
            Some(text) => text
                .parse::<u64>()
                .ok()
                .filter(|n| (MIN_PART_SIZE..=MAX_BODY).contains(n))
                .ok_or_else(|| {
                    invalid_config(format!(
                        "configuration `{key}` must be a number of bytes from {MIN_PART_SIZE} to {MAX_BODY}, not {text:?}"
                    ))
                }),
        }
        };
        let part_size = size("part-size", DEFAULT_PART_SIZE)?;
        let multipart_threshold = size("multipart-threshold", DEFAULT_MULTIPART_THRESHOLD)?;
        let checksum = match config("checksum-sha256").as_deref() {
            None | Some("true") => true,
            Some("false") => false,
            Some(other) => {
                return Err(invalid_config(format!(
                    "configuration `checksum-sha256` must be `true` or `false`, not {other:?}"
                )));
            }
        };
        Ok(Self {
            endpoint,
            region,
            bucket,
            addressing,
            credentials,
            part_size,
            multipart_threshold,
            checksum,
        })
    }
}

/// Where one artifact goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub bucket: String,
    pub key: String,
    pub overwrite: bool,
    pub addressing: Addressing,
    /// `x-amz-storage-class`, when the target sets one.
    pub storage_class: Option<String>,
    /// The digest the host computed, when it sent one.
    pub expected_blake3: Option<String>,
    /// The intent's creation time as `YYYYMMDDTHHMMSSZ`, when the host
    /// sent it: the signing time of last resort.
    pub created_at: Option<String>,
}

/// Checks the target and file name and works out the bucket and key.
pub fn plan(
    settings: &Settings,
    file_name: &str,
    destination: &str,
    options: &[(String, String)],
) -> Result<Plan, PluginError> {
    if let Some(problem) = prefix_problem(destination) {
        return Err(PluginError::new(
            "INVALID_DESTINATION",
            format!("destination {destination:?} {problem}"),
        ));
    }
    if let Some(problem) = file_name_problem(file_name) {
        return Err(PluginError::new(
            "INVALID_FILE_NAME",
            format!("artifact file name {file_name:?} {problem}"),
        ));
    }
    let mut bucket = settings.bucket.clone();
    let mut overwrite = false;
    let mut addressing_chosen = settings.addressing;
    let mut storage_class = None;
    let mut expected_blake3 = None;
    let mut created_at = None;
    for (key, value) in options {
        match key.as_str() {
            OVERWRITE_OPTION => {
                overwrite = match value.as_str() {
                    "true" => true,
                    "false" => false,
                    other => {
                        return Err(invalid_option(format!(
                            "option `{OVERWRITE_OPTION}` must be `true` or `false`, not {other:?}"
                        )));
                    }
                }
            }
            BUCKET_OPTION => {
                bucket =
                    Some(checked_bucket(value.clone()).map_err(|why| {
                        invalid_option(format!("option `{BUCKET_OPTION}` {why}"))
                    })?);
            }
            VIRTUAL_HOSTED => {
                addressing_chosen =
                    addressing(value).map_err(|why| invalid_option(format!("option {why}")))?;
            }
            STORAGE_CLASS_OPTION => {
                if !STORAGE_CLASSES.contains(&value.as_str()) {
                    return Err(invalid_option(format!(
                        "option `{STORAGE_CLASS_OPTION}` must be one of {}, not {value:?}",
                        STORAGE_CLASSES.join(", ")
                    )));
                }
                storage_class = Some(value.clone());
            }
            DIGEST_OPTION => expected_blake3 = Some(value.to_ascii_lowercase()),
            CREATED_AT_OPTION => {
                created_at = value
                    .parse::<i64>()
                    .ok()
                    .and_then(crate::sigv4::amz_date_from_unix);
            }
            other if other.starts_with(HOST_OPTION_PREFIX) => {}
            other => qlp_sdk::log::warn("unknown delivery option ignored", &[("option", other)]),
        }
    }
    let bucket = bucket.ok_or_else(|| {
        invalid_config(format!(
            "no bucket: set configuration `bucket` or the target's option `{BUCKET_OPTION}`"
        ))
    })?;
    if addressing_chosen == Addressing::Virtual && bucket.contains('.') {
        return Err(invalid_config(format!(
            "bucket {bucket:?} has a `.`, which virtual-hosted addressing cannot name; set `{VIRTUAL_HOSTED} = false`"
        )));
    }
    let key = if destination.is_empty() {
        file_name.to_string()
    } else {
        format!("{destination}/{file_name}")
    };
    if key.len() > MAX_KEY_BYTES {
        return Err(PluginError::new(
            "INVALID_DESTINATION",
            format!("the object key would be over {MAX_KEY_BYTES} bytes"),
        ));
    }
    Ok(Plan {
        bucket,
        key,
        overwrite,
        addressing: addressing_chosen,
        storage_class,
        expected_blake3,
        created_at,
    })
}

/// `virtual-hosted = true|false` as an addressing, or why not.
fn addressing(value: &str) -> Result<Addressing, String> {
    match value {
        "true" => Ok(Addressing::Virtual),
        "false" => Ok(Addressing::Path),
        other => Err(format!(
            "`{VIRTUAL_HOSTED}` must be `true` or `false`, not {other:?}"
        )),
    }
}

/// `http://host[:port]` or `https://…`, nothing after the authority but an
/// optional `/`.
pub fn parse_endpoint(text: &str) -> Result<Endpoint, String> {
    let (scheme, rest) = text
        .split_once("://")
        .ok_or("must be an absolute URL such as `http://minio.internal:9000`")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        _ => return Err(format!("has scheme {scheme:?}; use `http` or `https`")),
    };
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.is_empty()
        || authority.contains(['/', '?', '#', '@'])
        || authority.contains(char::is_whitespace)
    {
        return Err(
            "must be a scheme and `host[:port]` only, without a path, query or user".into(),
        );
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or("has an unclosed `[`")?;
        (host, after.strip_prefix(':'))
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let port = match port {
        None => default_port,
        Some(p) => p
            .parse()
            .ok()
            .filter(|p| *p != 0)
            .ok_or("has an invalid port")?,
    };
    if host.is_empty() {
        return Err("has no host".into());
    }
    Ok(Endpoint {
        scheme,
        host: host.to_ascii_lowercase(),
        port,
    })
}

/// A bucket name S3 accepts: 3 to 63 lower-case letters, digits, `.` and
/// `-`, starting and ending with a letter or digit, without `..`.
pub fn checked_bucket(name: String) -> Result<String, String> {
    let ok = (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
        && !name.contains("..");
    if ok {
        Ok(name)
    } else {
        Err(format!(
            "{name:?} is not a bucket name (3 to 63 lower-case letters, digits, `.` and `-`)"
        ))
    }
}

/// Why a key prefix is unacceptable, if it is. Empty means the bucket's
/// root. The rules are the file system's, so a prefix means the same
/// wherever an artifact is delivered, and no key has `.`/`..` segments that
/// tools unpacking a bucket would resolve.
pub fn prefix_problem(prefix: &str) -> Option<&'static str> {
    if prefix.is_empty() {
        None
    } else if prefix.len() > MAX_KEY_BYTES {
        Some("is too long")
    } else if prefix.starts_with('/') {
        Some("starts with `/`")
    } else {
        prefix.split('/').find_map(segment_problem)
    }
}

/// Why a file name is not a single safe key segment, if it is not.
pub fn file_name_problem(file_name: &str) -> Option<&'static str> {
    if file_name.contains('/') {
        Some("contains a `/`")
    } else {
        segment_problem(file_name)
    }
}

fn segment_problem(segment: &str) -> Option<&'static str> {
    if segment.is_empty() {
        Some("has an empty segment")
    } else if segment == "." || segment == ".." {
        Some("has a `.` or `..` segment")
    } else if segment.contains('\\') {
        Some("contains a backslash")
    } else if segment.chars().any(char::is_control) {
        Some("contains a control character")
    } else {
        None
    }
}

/// A bad or missing configuration value: `INVALID_OPTION`, as for a bad
/// target option, naming the key.
fn invalid_config(message: impl Into<String>) -> PluginError {
    PluginError::new("INVALID_OPTION", message)
}

fn invalid_option(message: impl Into<String>) -> PluginError {
    PluginError::new("INVALID_OPTION", message)
}
