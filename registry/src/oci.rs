//! Mirroring signed plugins through an OCI registry: `qlp plugin push` and
//! `qlp plugin pull`.
//!
//! A plugin travels as the WebAssembly OCI artifact that Spin, wasmCloud
//! and wkg share: an image manifest whose config is
//! `application/vnd.wasm.config.v0+json` and whose first layer is the
//! component (`application/wasm`). QLP adds its signed package manifest and
//! signatures (see [`crate::package`]) as two more layers with QLP media
//! types, so the registry carries everything the trust policy needs.
//!
//! Nothing pulled is trusted: every blob is checked against the sha256 of
//! its descriptor, the package is verified as `qlp serve` would verify it
//! (the host's `packages::verify`), and only then are the three files
//! written, each through a temporary file and a rename.
//!
//! The client speaks the OCI distribution API over `reqwest`: anonymous
//! access, HTTP basic credentials, and bearer tokens obtained from a
//! `WWW-Authenticate: Bearer` challenge; over https with the TLS client the
//! caller configures (the operator's CA bundle), or plain http for a
//! loopback registry or one marked insecure.

use std::collections::BTreeMap;
use std::fmt;

use std::str::FromStr;
use std::sync::Mutex;

use crate::Manifest;
use crate::package::{Package, coded, safe_file_name};
use anyhow::{Context, anyhow, bail, ensure};
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

/// The OCI image manifest, the only manifest type pushed or accepted.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// The config of a WebAssembly artifact (the CNCF Wasm OCI artifact layout).
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.wasm.config.v0+json";
/// The component layer.
pub const WASM_MEDIA_TYPE: &str = "application/wasm";
/// The layer holding `NAME.manifest.json`.
pub const QLP_MANIFEST_MEDIA_TYPE: &str = "application/vnd.qlp.plugin.manifest.v1+json";
/// The layer holding `NAME.sig.json`.
pub const QLP_SIGNATURES_MEDIA_TYPE: &str = "application/vnd.qlp.plugin.signatures.v1+json";

/// The largest image manifest accepted: the distribution spec asks
/// registries to accept manifests of at least 4 MiB, and ours are a few
/// hundred bytes, so a larger answer is not one of ours.
pub const MAX_MANIFEST_BYTES: usize = 4 * 1024 * 1024;
/// The largest config or sidecar layer accepted: a QLP manifest or
/// signature list is a few hundred bytes; the limit keeps a hostile
/// registry from making the client buffer an arbitrary blob.
pub const MAX_SMALL_BLOB_BYTES: usize = 64 * 1024;

const TITLE: &str = "org.opencontainers.image.title";
const VERSION: &str = "org.opencontainers.image.version";
const DESCRIPTION: &str = "org.opencontainers.image.description";

/// `host[:port]/repository[:tag]` or `host[:port]/repository@sha256:…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// `host` or `host:port`.
    pub registry: String,
    /// e.g. `qlp/secrets`.
    pub repository: String,
    /// A tag, or a `sha256:…` digest.
    pub reference: String,
}

impl Reference {
    fn is_digest(&self) -> bool {
        self.reference.starts_with("sha256:")
    }

    /// Whether the registry is on this machine, where plain http is fine.
    pub fn is_loopback(&self) -> bool {
        let host = match self.registry.rsplit_once(':') {
            Some((host, port)) if !port.contains(']') => host,
            _ => &self.registry,
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sep = if self.is_digest() { '@' } else { ':' };
        write!(
            f,
            "{}/{}{sep}{}",
            self.registry, self.repository, self.reference
        )
    }
}

impl FromStr for Reference {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> anyhow::Result<Self> {
        let invalid = |why: &str| anyhow!("invalid OCI reference `{s}`: {why}");
        let (registry, rest) = s
            .split_once('/')
            .ok_or_else(|| invalid("expected host[:port]/repository[:tag]"))?;
        let registry_ok = !registry.is_empty()
            && registry
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
            && (registry.contains(['.', ':']) || registry == "localhost");
        if !registry_ok {
            return Err(invalid(
                "the part before the first `/` must be a registry host, e.g. `ghcr.io` or `127.0.0.1:5000`",
            ));
        }
        let (repository, reference) = if let Some((repo, digest)) = rest.split_once('@') {
            let hex = digest
                .strip_prefix("sha256:")
                .ok_or_else(|| invalid("only sha256 digests are supported"))?;
            if hex.len() != 64 || !hex.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')) {
                return Err(invalid("a sha256 digest is 64 lower-case hex digits"));
            }
            (repo, digest.to_owned())
        } else {
            match rest.rsplit_once(':') {
                Some((repo, tag)) if !tag.contains('/') => {
                    let tag_ok = tag.len() <= 128
                        && tag
                            .chars()
                            .next()
                            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
                        && tag
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
                    if !tag_ok {
                        return Err(invalid(
                            "a tag is up to 128 letters, digits, `_`, `.` and `-`, not starting with `.` or `-`",
                        ));
                    }
                    (repo, tag.to_owned())
                }
                _ => (rest, "latest".to_owned()),
            }
        };
        let component_ok = |c: &str| {
            c.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
                && c.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
                && c.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
        };
        if repository.is_empty() || !repository.split('/').all(component_ok) {
            return Err(invalid(
                "the repository is `/`-separated lower-case letters, digits, `.`, `_` and `-`",
            ));
        }
        Ok(Self {
            registry: registry.to_owned(),
            repository: repository.to_owned(),
            reference,
        })
    }
}

/// An OCI content descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Descriptor {
    fn of(media_type: &str, bytes: &[u8]) -> Self {
        Self {
            media_type: media_type.to_owned(),
            digest: sha256(bytes),
            size: bytes.len() as u64,
            annotations: BTreeMap::new(),
        }
    }

    fn titled(mut self, title: &str) -> Self {
        self.annotations.insert(TITLE.to_owned(), title.to_owned());
        self
    }
}

/// An OCI image manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    pub schema_version: u32,
    #[serde(default)]
    pub media_type: Option<String>,
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// The config blob of a WebAssembly artifact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WasmConfig {
    pub architecture: String,
    pub os: String,
    #[serde(default)]
    pub layer_digests: Vec<String>,
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{:x}", sha2::Sha256::digest(bytes))
}

impl Package {
    /// The image manifest and config blob that describe this package.
    pub fn image(&self, manifest: &Manifest) -> (ImageManifest, Vec<u8>) {
        let stem = self.file_name.trim_end_matches(".wasm");
        let layers = vec![
            Descriptor::of(WASM_MEDIA_TYPE, &self.component).titled(&self.file_name),
            Descriptor::of(QLP_MANIFEST_MEDIA_TYPE, &self.manifest)
                .titled(&format!("{stem}.manifest.json")),
            Descriptor::of(QLP_SIGNATURES_MEDIA_TYPE, &self.signatures)
                .titled(&format!("{stem}.sig.json")),
        ];
        let config = WasmConfig {
            architecture: "wasm".to_owned(),
            os: "wasip2".to_owned(),
            layer_digests: layers.iter().map(|l| l.digest.clone()).collect(),
        };
        let config = serde_json::to_vec(&config).expect("a config always serializes");
        let mut annotations = BTreeMap::new();
        annotations.insert(TITLE.to_owned(), manifest.name.clone());
        annotations.insert(VERSION.to_owned(), manifest.version.to_string());
        if !manifest.description.is_empty() {
            annotations.insert(DESCRIPTION.to_owned(), manifest.description.clone());
        }
        let image = ImageManifest {
            schema_version: 2,
            media_type: Some(MANIFEST_MEDIA_TYPE.to_owned()),
            config: Descriptor::of(CONFIG_MEDIA_TYPE, &config),
            layers,
            annotations,
        };
        (image, config)
    }
}

/// The parameters of a `WWW-Authenticate: Bearer …` challenge (RFC 7235
/// auth-params): `key=token` or `key="quoted string"`, separated by commas
/// that are not inside quotes, so that `scope="repository:a:pull,push"`
/// keeps both actions. A backslash in a quoted string escapes the next
/// character.
fn challenge_params(challenge: &str) -> BTreeMap<String, String> {
    let mut params = BTreeMap::new();
    let mut chars = challenge.chars().peekable();
    loop {
        while chars.next_if(|c| *c == ',' || c.is_whitespace()).is_some() {}
        let key: String =
            std::iter::from_fn(|| chars.next_if(|c| *c != '=' && *c != ',')).collect();
        if key.is_empty() && chars.peek().is_none() {
            return params;
        }
        if chars.next_if_eq(&'=').is_none() {
            // A bare token without a value: skip it.
            continue;
        }
        let mut value = String::new();
        if chars.next_if_eq(&'"').is_some() {
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => value.extend(chars.next()),
                    c => value.push(c),
                }
            }
        } else {
            value = std::iter::from_fn(|| chars.next_if(|c| *c != ',')).collect();
        }
        params.insert(key.trim().to_owned(), value.trim().to_owned());
    }
}

/// How to reach a registry.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Plain http even for a registry that is not on loopback.
    pub insecure: bool,
    /// HTTP basic credentials (`QLP_OCI_USERNAME`, `QLP_OCI_PASSWORD`).
    pub credentials: Option<(String, String)>,
}

/// A client for one repository of one registry.
pub struct Client {
    http: reqwest::Client,
    base: String,
    reference: Reference,
    credentials: Option<(String, String)>,
    bearer: Mutex<Option<String>>,
}

impl Client {
    /// A client of `reference`'s repository; `http` carries the caller's
    /// TLS configuration (the operator's CA bundle).
    pub fn new(
        reference: &Reference,
        options: &Options,
        http: reqwest::ClientBuilder,
    ) -> anyhow::Result<Self> {
        // A registry on loopback, or one the operator marks insecure, is
        // spoken to in plain http; every other one over TLS.
        let scheme = if options.insecure || reference.is_loopback() {
            "http"
        } else {
            "https"
        };
        Ok(Self {
            http: http
                .user_agent(concat!("qlp/", env!("CARGO_PKG_VERSION")))
                .build()?,
            base: format!(
                "{scheme}://{}/v2/{}",
                reference.registry, reference.repository
            ),
            reference: reference.clone(),
            credentials: options.credentials.clone(),
            bearer: Mutex::new(None),
        })
    }

    /// Sends a request built by `build`, with credentials; answers a
    /// bearer challenge once by fetching a token and sending again.
    async fn send(
        &self,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> anyhow::Result<reqwest::Response> {
        let authorize = |request: reqwest::RequestBuilder| {
            let bearer = self.bearer.lock().expect("bearer lock").clone();
            match (&bearer, &self.credentials) {
                (Some(token), _) => request.bearer_auth(token),
                (None, Some((user, password))) => request.basic_auth(user, Some(password)),
                (None, None) => request,
            }
        };
        let response = authorize(build(&self.http)).send().await?;
        if response.status() != reqwest::StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        let Some(challenge) = response
            .headers()
            .get(reqwest::header::WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
        else {
            return Ok(response);
        };
        let token = self.token(challenge).await?;
        *self.bearer.lock().expect("bearer lock") = Some(token);
        Ok(authorize(build(&self.http)).send().await?)
    }

    /// Fetches a token from the realm a bearer challenge names.
    async fn token(&self, challenge: &str) -> anyhow::Result<String> {
        let mut params = challenge_params(challenge);
        let realm = params
            .remove("realm")
            .ok_or_else(|| anyhow!("{}: a bearer challenge without a realm", self.reference))?;
        let mut request = self.http.get(&realm).query(&params);
        if let Some((user, password)) = &self.credentials {
            request = request.basic_auth(user, Some(password));
        }
        let response = request.send().await?;
        ensure!(
            response.status().is_success(),
            "{}: the token service {realm} answered {}",
            self.reference,
            response.status()
        );
        let body: serde_json::Value = response.json().await?;
        body["token"]
            .as_str()
            .or(body["access_token"].as_str())
            .map(str::to_owned)
            .ok_or_else(|| {
                anyhow!(
                    "{}: the token service {realm} gave no token",
                    self.reference
                )
            })
    }

    /// Pushes `package` under the reference's tag; returns the digest of
    /// the image manifest.
    pub async fn push(&self, package: &Package) -> anyhow::Result<String> {
        ensure!(
            !self.reference.is_digest(),
            "push to a tag, not a digest: {}",
            self.reference
        );
        let (manifest, _) = package.parse()?;
        ensure!(
            manifest.kind.is_component(),
            "`{}` is a rule pack: rule packs travel through a server's registry (`qlp plugin publish`) and bundles, not OCI",
            manifest.name
        );
        let (image, config) = package.image(&manifest);
        self.push_blob(&image.config, &config).await?;
        let contents = [&package.component, &package.manifest, &package.signatures];
        for (layer, bytes) in image.layers.iter().zip(contents) {
            self.push_blob(layer, bytes).await?;
        }
        let body = serde_json::to_vec(&image)?;
        let url = format!("{}/manifests/{}", self.base, self.reference.reference);
        let response = self
            .send(|http| {
                http.put(&url)
                    .header(reqwest::header::CONTENT_TYPE, MANIFEST_MEDIA_TYPE)
                    .body(body.clone())
            })
            .await
            .with_context(|| format!("cannot push the manifest of {}", self.reference))?;
        expect(response, reqwest::StatusCode::CREATED, || {
            format!("pushing the manifest of {}", self.reference)
        })
        .await?;
        Ok(sha256(&body))
    }

    /// Uploads one blob monolithically unless the registry has it.
    async fn push_blob(&self, descriptor: &Descriptor, bytes: &[u8]) -> anyhow::Result<()> {
        let what = || {
            format!(
                "blob {} ({}) of {}",
                descriptor.digest, descriptor.media_type, self.reference
            )
        };
        let url = format!("{}/blobs/{}", self.base, descriptor.digest);
        let head = self
            .send(|http| http.head(&url))
            .await
            .with_context(|| format!("cannot check {}", what()))?;
        if head.status().is_success() {
            return Ok(());
        }
        let start = format!("{}/blobs/uploads/", self.base);
        let response = self
            .send(|http| http.post(&start))
            .await
            .with_context(|| format!("cannot start uploading {}", what()))?;
        let response = expect(response, reqwest::StatusCode::ACCEPTED, || {
            format!("starting the upload of {}", what())
        })
        .await?;
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| anyhow!("the registry gave no upload location for {}", what()))?;
        let location = response.url().join(location)?;
        let body = bytes.to_vec();
        let response = self
            .send(|http| {
                http.put(location.clone())
                    .query(&[("digest", &descriptor.digest)])
                    .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                    .body(body.clone())
            })
            .await
            .with_context(|| format!("cannot upload {}", what()))?;
        expect(response, reqwest::StatusCode::CREATED, || {
            format!("uploading {}", what())
        })
        .await?;
        Ok(())
    }

    /// Pulls the package the reference names, checking every blob against
    /// its descriptor. The package is not yet verified against a trust
    /// policy: see the host's `packages::verify`.
    pub async fn pull(&self) -> anyhow::Result<Package> {
        let url = format!("{}/manifests/{}", self.base, self.reference.reference);
        let response = self
            .send(|http| {
                http.get(&url)
                    .header(reqwest::header::ACCEPT, MANIFEST_MEDIA_TYPE)
            })
            .await
            .with_context(|| format!("cannot fetch the manifest of {}", self.reference))?;
        let response = expect(response, reqwest::StatusCode::OK, || {
            format!("fetching the manifest of {}", self.reference)
        })
        .await?;
        let body = read_limited(response, MAX_MANIFEST_BYTES)
            .await
            .with_context(|| format!("the manifest of {}", self.reference))?;
        if self.reference.is_digest() {
            let actual = sha256(&body);
            ensure!(
                actual == self.reference.reference,
                "TAMPERED_BLOB: the manifest of {} hashes to {actual}",
                self.reference
            );
        }
        let image: ImageManifest = serde_json::from_slice(&body).with_context(|| {
            format!(
                "the manifest of {} is not an OCI image manifest",
                self.reference
            )
        })?;
        ensure!(
            image.schema_version == 2
                && image
                    .media_type
                    .as_deref()
                    .is_none_or(|m| m == MANIFEST_MEDIA_TYPE),
            "{} is a {}, not an OCI image manifest",
            self.reference,
            image
                .media_type
                .as_deref()
                .unwrap_or("manifest of schema version 1")
        );
        ensure!(
            image.config.media_type == CONFIG_MEDIA_TYPE,
            "{} is not a WebAssembly artifact: its config is {}, not {CONFIG_MEDIA_TYPE}",
            self.reference,
            image.config.media_type
        );
        let config = self.blob(&image.config, MAX_SMALL_BLOB_BYTES).await?;
        let config: WasmConfig = serde_json::from_slice(&config)
            .with_context(|| format!("the config of {} is not a wasm config", self.reference))?;
        ensure!(
            config.architecture == "wasm",
            "{}: the config's architecture is `{}`, not `wasm`",
            self.reference,
            config.architecture
        );
        let layer = |media_type: &str| {
            let mut found = image.layers.iter().filter(|l| l.media_type == media_type);
            match (found.next(), found.next()) {
                (Some(layer), None) => Ok(layer),
                (None, _) => Err(anyhow!(
                    "{} has no {media_type} layer: it is not a signed QLP plugin",
                    self.reference
                )),
                (Some(_), Some(_)) => Err(anyhow!(
                    "{} has more than one {media_type} layer",
                    self.reference
                )),
            }
        };
        if let Some(other) = image.layers.iter().find(|l| {
            ![
                WASM_MEDIA_TYPE,
                QLP_MANIFEST_MEDIA_TYPE,
                QLP_SIGNATURES_MEDIA_TYPE,
            ]
            .contains(&l.media_type.as_str())
        }) {
            bail!(
                "{} has a layer of unexpected media type {}",
                self.reference,
                other.media_type
            );
        }
        let wasm = layer(WASM_MEDIA_TYPE)?;
        let limit = usize::try_from(crate::MAX_BLOB_BYTES).unwrap_or(usize::MAX);
        let component = self.blob(wasm, limit).await?;
        let manifest = self
            .blob(layer(QLP_MANIFEST_MEDIA_TYPE)?, MAX_SMALL_BLOB_BYTES)
            .await?;
        let signatures = self
            .blob(layer(QLP_SIGNATURES_MEDIA_TYPE)?, MAX_SMALL_BLOB_BYTES)
            .await?;
        let parsed = Manifest::from_json(&manifest).map_err(coded)?;
        // Named from the signed manifest, never from the image's
        // annotations, which nobody signed: `acme/rules` 1.2.0 is
        // `acme_rules-1.2.0.wasm`.
        let file_name = format!("{}-{}.wasm", parsed.name.replace('/', "_"), parsed.version);
        ensure!(
            safe_file_name(&file_name),
            "{}: plugin name `{}` does not make a file name",
            self.reference,
            parsed.name
        );
        Ok(Package {
            file_name,
            component,
            manifest,
            signatures,
        })
    }

    /// Fetches one blob and checks its size and sha256 against `descriptor`.
    async fn blob(&self, descriptor: &Descriptor, limit: usize) -> anyhow::Result<Vec<u8>> {
        let what = format!(
            "blob {} ({}) of {}",
            descriptor.digest, descriptor.media_type, self.reference
        );
        ensure!(
            descriptor.digest.starts_with("sha256:"),
            "{what}: only sha256 digests are supported"
        );
        ensure!(
            descriptor.size <= limit as u64,
            "BLOB_TOO_LARGE: {what} is {} bytes, over the {limit}-byte limit",
            descriptor.size
        );
        let url = format!("{}/blobs/{}", self.base, descriptor.digest);
        let response = self
            .send(|http| http.get(&url))
            .await
            .with_context(|| format!("cannot fetch {what}"))?;
        let response = expect(response, reqwest::StatusCode::OK, || {
            format!("fetching {what}")
        })
        .await?;
        let bytes = read_limited(response, limit)
            .await
            .with_context(|| what.clone())?;
        let actual = sha256(&bytes);
        ensure!(
            actual == descriptor.digest && bytes.len() as u64 == descriptor.size,
            "TAMPERED_BLOB: {what} was changed: its content ({} bytes) hashes to {actual}",
            bytes.len()
        );
        Ok(bytes)
    }
}

/// Fails with the registry's own error message unless `response` has
/// status `wanted`.
async fn expect(
    response: reqwest::Response,
    wanted: reqwest::StatusCode,
    doing: impl FnOnce() -> String,
) -> anyhow::Result<reqwest::Response> {
    if response.status() == wanted {
        return Ok(response);
    }
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    let detail: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    let message = detail["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            format!(
                "{} {}",
                e["code"].as_str().unwrap_or(""),
                e["message"].as_str().unwrap_or("")
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    bail!(
        "{}: the registry answered {status}{}",
        doing(),
        if message.is_empty() {
            String::new()
        } else {
            format!(" ({message})")
        }
    )
}

/// Reads a response body, refusing one longer than `limit`.
async fn read_limited(mut response: reqwest::Response, limit: usize) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        ensure!(
            bytes.len() + chunk.len() <= limit,
            "BLOB_TOO_LARGE: the registry sent more than {limit} bytes"
        );
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenges_keep_every_action_of_their_scope() {
        let params = challenge_params(
            r#"realm="https://auth.example.com/token",service="registry.example.com",scope="repository:acme/rules:pull,push""#,
        );
        assert_eq!(params["realm"], "https://auth.example.com/token");
        assert_eq!(params["service"], "registry.example.com");
        assert_eq!(params["scope"], "repository:acme/rules:pull,push");
        let params = challenge_params(
            r#" realm=https://a/t , error="insufficient_scope", note="a \"quoted\" word",bare"#,
        );
        assert_eq!(params["realm"], "https://a/t");
        assert_eq!(params["error"], "insufficient_scope");
        assert_eq!(params["note"], r#"a "quoted" word"#);
        assert!(!params.contains_key("bare"));
        assert!(challenge_params("").is_empty());
    }

    fn parse(s: &str) -> Reference {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e:#}"))
    }

    #[test]
    fn references_name_registry_repository_and_tag() {
        let r = parse("127.0.0.1:5000/qlp/secrets:0.1.0");
        assert_eq!(r.registry, "127.0.0.1:5000");
        assert_eq!(r.repository, "qlp/secrets");
        assert_eq!(r.reference, "0.1.0");
        assert!(r.is_loopback());
        assert_eq!(r.to_string(), "127.0.0.1:5000/qlp/secrets:0.1.0");

        let r = parse("registry.example.com/acme/plugins/rules");
        assert_eq!(r.reference, "latest");
        assert!(!r.is_loopback());

        let digest = format!("sha256:{}", "a".repeat(64));
        let r = parse(&format!("localhost:5000/qlp/zip@{digest}"));
        assert_eq!(r.reference, digest);
        assert!(r.is_loopback());
        assert_eq!(r.to_string(), format!("localhost:5000/qlp/zip@{digest}"));
    }

    #[test]
    fn malformed_references_are_refused_with_the_reason() {
        for (bad, why) in [
            ("qlp/secrets:0.1.0", "registry host"),
            ("secrets", "host[:port]/repository"),
            ("127.0.0.1:5000/", "repository"),
            ("127.0.0.1:5000/QLP/secrets", "repository"),
            ("127.0.0.1:5000/qlp//secrets", "repository"),
            ("127.0.0.1:5000/qlp/secrets:-bad", "tag"),
            ("127.0.0.1:5000/qlp/secrets:", "tag"),
            ("127.0.0.1:5000/qlp/secrets@md5:abc", "sha256"),
            ("127.0.0.1:5000/qlp/secrets@sha256:abc", "64"),
        ] {
            let err = bad.parse::<Reference>().expect_err(bad).to_string();
            assert!(err.contains(bad) && err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn registries_are_reached_over_tls_unless_on_loopback_or_marked_insecure() {
        let remote = parse("ghcr.io/acme/rules:1.0.0");
        let client = Client::new(&remote, &Options::default(), reqwest::Client::builder()).unwrap();
        assert_eq!(client.base, "https://ghcr.io/v2/acme/rules");
        let insecure = Options {
            insecure: true,
            ..Options::default()
        };
        let client = Client::new(&remote, &insecure, reqwest::Client::builder()).unwrap();
        assert_eq!(client.base, "http://ghcr.io/v2/acme/rules");
        let local = Client::new(
            &parse("127.0.0.1:5000/a/b"),
            &Options::default(),
            reqwest::Client::builder(),
        )
        .unwrap();
        assert_eq!(local.base, "http://127.0.0.1:5000/v2/a/b");
        assert!(parse("[::1]:5000/a/b").is_loopback());
        assert!(parse("localhost/a/b").is_loopback());
        assert!(!parse("127.example.com/a/b").is_loopback());
        assert!(!parse("localhost.example.com:5000/a/b").is_loopback());
    }

    #[test]
    fn the_image_manifest_is_a_wasm_artifact_with_qlp_layers() {
        let component = b"\0asm\x0d\0\x01\0".to_vec();
        let manifest = Manifest::new(
            "qlp/secrets",
            semver::Version::new(0, 1, 0),
            crate::Kind::Validator,
            semver::Version::new(0, 1, 0),
            &component,
        )
        .unwrap();
        let package = Package {
            file_name: "qlp_plugin_secrets.wasm".to_owned(),
            component: component.clone(),
            manifest: manifest.to_json_pretty().into_bytes(),
            signatures: b"[]".to_vec(),
        };
        let (image, config) = package.image(&manifest);
        let json = serde_json::to_value(&image).unwrap();
        assert_eq!(json["schemaVersion"], 2);
        assert_eq!(json["mediaType"], MANIFEST_MEDIA_TYPE);
        assert_eq!(json["config"]["mediaType"], CONFIG_MEDIA_TYPE);
        assert_eq!(json["config"]["digest"], sha256(&config));
        assert_eq!(json["config"]["size"], config.len());
        let layers = json["layers"].as_array().unwrap();
        let types: Vec<_> = layers.iter().map(|l| l["mediaType"].clone()).collect();
        assert_eq!(
            types,
            [
                WASM_MEDIA_TYPE,
                QLP_MANIFEST_MEDIA_TYPE,
                QLP_SIGNATURES_MEDIA_TYPE
            ]
        );
        assert_eq!(layers[0]["digest"], sha256(&component));
        assert_eq!(layers[0]["size"], component.len());
        assert_eq!(layers[0]["annotations"][TITLE], "qlp_plugin_secrets.wasm");
        assert_eq!(
            layers[1]["annotations"][TITLE],
            "qlp_plugin_secrets.manifest.json"
        );
        assert_eq!(
            layers[2]["annotations"][TITLE],
            "qlp_plugin_secrets.sig.json"
        );
        assert_eq!(json["annotations"][TITLE], "qlp/secrets");
        assert_eq!(json["annotations"][VERSION], "0.1.0");

        let config: serde_json::Value = serde_json::from_slice(&config).unwrap();
        assert_eq!(config["architecture"], "wasm");
        assert_eq!(config["os"], "wasip2");
        let digests: Vec<_> = layers.iter().map(|l| l["digest"].clone()).collect();
        assert_eq!(config["layerDigests"].as_array().unwrap(), &digests);
    }

    #[test]
    fn only_plain_component_file_names_are_written() {
        assert!(safe_file_name("qlp_plugin_secrets.wasm"));
        for bad in [
            "../x.wasm",
            "a/b.wasm",
            ".wasm",
            ".hidden.wasm",
            "x.so",
            "-x.wasm",
        ] {
            assert!(!safe_file_name(bad), "{bad}");
        }
    }
}
