//! Single sign-on: bearer JWTs from the enterprise's identity provider.
//!
//! A token is accepted when it is signed by a key of the provider's JWKS
//! (read from a file, for air-gapped sites, or fetched from an https URL),
//! with an asymmetric algorithm (RS*, PS*, ES256/384, EdDSA: never `none`
//! or a shared secret), by the configured issuer, for one of the
//! configured audiences, and inside its `exp`/`nbf` window (60 s of clock
//! skew allowed). Two configured claims name the tenant and the roles;
//! the caller is `sso:<sub>`.
//!
//! The key set is read at start (a server whose JWKS cannot be read does
//! not start), read again when a token names a key it does not hold (a
//! rotation at the provider) at most every [`MIN_REFRESH`], and when it is
//! older than [`MAX_AGE`]. A failed refresh keeps the keys in force.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use anyhow::Context;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind};

use crate::auth::{Caller, Role};

/// The shortest time between two reads of the key set.
pub const MIN_REFRESH: Duration = Duration::from_secs(30);
/// The key set is read again once it is this old.
pub const MAX_AGE: Duration = Duration::from_secs(15 * 60);
/// Clock skew allowed on `exp` and `nbf`, in seconds.
pub const LEEWAY_SECS: u64 = 60;
/// Largest JWKS document read.
const MAX_JWKS_BYTES: usize = 1 << 20;
/// Longest `sub` accepted.
const MAX_SUBJECT_CHARS: usize = 256;
/// How long fetching the key set may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// The algorithms a token may be signed with: public-key ones only, so a
/// public key can never be used as an HMAC secret.
const ALGORITHMS: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// The `qlp serve` flags of single sign-on. All of issuer, audience and
/// JWKS, or none of them.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct SsoOptions {
    /// The identity provider's issuer: tokens whose `iss` is exactly this
    /// are verified against `--sso-jwks`. Unset, only API keys are
    /// accepted.
    #[arg(long = "sso-issuer", env = "QLP_SSO_ISSUER")]
    pub issuer: Option<String>,
    /// The audiences accepted (`aud`); repeat or separate with commas.
    #[arg(long = "sso-audience", env = "QLP_SSO_AUDIENCE", value_delimiter = ',')]
    pub audiences: Vec<String>,
    /// The provider's signing keys: a JWKS file, or an https URL (plain
    /// http only to a loopback address).
    #[arg(long = "sso-jwks", env = "QLP_SSO_JWKS")]
    pub jwks: Option<String>,
    /// The claim naming the caller's tenant. A dotted path reaches into
    /// objects when no top-level claim has the whole name.
    #[arg(
        long = "sso-tenant-claim",
        env = "QLP_SSO_TENANT_CLAIM",
        default_value = "qlp_tenant"
    )]
    pub tenant_claim: String,
    /// The claim listing the caller's roles (an array, or a string of
    /// space-separated names), dotted like `--sso-tenant-claim`.
    #[arg(
        long = "sso-roles-claim",
        env = "QLP_SSO_ROLES_CLAIM",
        default_value = "qlp_roles"
    )]
    pub roles_claim: String,
    /// Only values of the roles claim starting with this prefix count,
    /// the prefix removed (`qlp-` maps the group `qlp-reviewer` to
    /// `reviewer`).
    #[arg(
        long = "sso-role-prefix",
        env = "QLP_SSO_ROLE_PREFIX",
        default_value = ""
    )]
    pub role_prefix: String,
    /// Let tokens grant `admin` (every tenant, keys and settings). Without
    /// it `admin` comes from API keys only.
    #[arg(long = "sso-allow-admin", env = "QLP_SSO_ALLOW_ADMIN")]
    pub allow_admin: bool,
}

/// Why a token was refused; each has a stable code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// Not a JWT, an algorithm outside [`ALGORITHMS`], or claims missing
    /// or of the wrong type.
    Malformed,
    /// No key of the provider has the token's `kid`.
    UnknownKey,
    BadSignature,
    WrongIssuer,
    WrongAudience,
    Expired,
    NotYetValid,
    /// The tenant claim is missing or names no tenant of this server.
    UnknownTenant,
}

impl Refused {
    pub fn code(self) -> &'static str {
        match self {
            Refused::Malformed => "TOKEN_MALFORMED",
            Refused::UnknownKey => "TOKEN_UNKNOWN_KEY",
            Refused::BadSignature => "TOKEN_BAD_SIGNATURE",
            Refused::WrongIssuer => "TOKEN_WRONG_ISSUER",
            Refused::WrongAudience => "TOKEN_WRONG_AUDIENCE",
            Refused::Expired => "TOKEN_EXPIRED",
            Refused::NotYetValid => "TOKEN_NOT_YET_VALID",
            Refused::UnknownTenant => "TOKEN_UNKNOWN_TENANT",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Refused::Malformed => "the token is not a JWT this server accepts",
            Refused::UnknownKey => "the token's key is not one of the identity provider's",
            Refused::BadSignature => "the token's signature does not verify",
            Refused::WrongIssuer => "the token was issued by another identity provider",
            Refused::WrongAudience => "the token is meant for another audience",
            Refused::Expired => "the token has expired",
            Refused::NotYetValid => "the token is not valid yet",
            Refused::UnknownTenant => "the token names no tenant of this server",
        }
    }
}

/// A verified token: who, and what the claims grant. The tenant still has
/// to exist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    pub tenant: String,
    pub subject: String,
    pub roles: BTreeSet<Role>,
}

impl Verified {
    pub fn into_caller(self) -> Caller {
        Caller {
            tenant: self.tenant,
            identity: format!("sso:{}", self.subject),
            roles: self.roles,
            request_id: String::new(),
        }
    }
}

/// Where the key set comes from.
#[derive(Clone, Debug)]
enum Source {
    File(PathBuf),
    Url(reqwest::Url),
}

/// One signing key of the provider.
struct Key {
    kid: Option<String>,
    /// The algorithms it verifies: those of its type, or the one its JWK
    /// pins.
    algs: Vec<Algorithm>,
    key: DecodingKey,
}

struct KeySet {
    keys: Vec<Key>,
    read_at: Instant,
}

/// The verifier the server holds when single sign-on is configured.
pub struct Sso {
    issuer: String,
    audiences: Vec<String>,
    tenant_claim: String,
    roles_claim: String,
    role_prefix: String,
    allow_admin: bool,
    source: Source,
    http: reqwest::Client,
    keys: RwLock<Arc<KeySet>>,
    /// When the key set was last read again or tried (`None`: not since
    /// the start).
    last_try: tokio::sync::Mutex<Option<Instant>>,
}

impl Sso {
    /// The verifier `options` configure, its key set read; `None` when
    /// single sign-on is not configured.
    pub async fn from_options(options: &SsoOptions) -> anyhow::Result<Option<Arc<Sso>>> {
        let (issuer, jwks) = match (&options.issuer, &options.jwks) {
            (None, None) if options.audiences.is_empty() => return Ok(None),
            (Some(issuer), Some(jwks)) if !options.audiences.is_empty() => (issuer, jwks),
            _ => anyhow::bail!(
                "single sign-on needs all of --sso-issuer, --sso-audience and --sso-jwks"
            ),
        };
        anyhow::ensure!(!issuer.is_empty(), "--sso-issuer is empty");
        let source = source(jwks)?;
        let http = qlp_runtime::tls::client_builder()
            .timeout(FETCH_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let keys = read(&source, &http)
            .await
            .with_context(|| format!("cannot read the identity provider's keys from {jwks}"))?;
        anyhow::ensure!(
            !keys.is_empty(),
            "{jwks} holds no signing key this server can use (RSA, EC P-256/P-384 or Ed25519)"
        );
        tracing::info!(issuer, keys = keys.len(), jwks, "single sign-on configured");
        Ok(Some(Arc::new(Sso {
            issuer: issuer.clone(),
            audiences: options.audiences.clone(),
            tenant_claim: options.tenant_claim.clone(),
            roles_claim: options.roles_claim.clone(),
            role_prefix: options.role_prefix.clone(),
            allow_admin: options.allow_admin,
            source,
            http,
            keys: RwLock::new(Arc::new(KeySet {
                keys,
                read_at: Instant::now(),
            })),
            last_try: tokio::sync::Mutex::new(None),
        })))
    }

    /// Whether `token` is shaped like a JWT (three dot-separated parts),
    /// so it is this verifier's business rather than an API key's.
    pub fn looks_like_jwt(token: &str) -> bool {
        token.split('.').count() == 3
    }

    /// Verifies `token` and reads its tenant, subject and roles.
    pub async fn verify(&self, token: &str) -> Result<Verified, Refused> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| Refused::Malformed)?;
        if !ALGORITHMS.contains(&header.alg) {
            return Err(Refused::Malformed);
        }
        let stale = self.key_set().read_at.elapsed() >= MAX_AGE;
        let mut found = self.find(header.kid.as_deref(), header.alg);
        if found.is_none() || stale {
            self.refresh().await;
            found = self.find(header.kid.as_deref(), header.alg);
        }
        let keys = found.ok_or(Refused::UnknownKey)?;
        let mut validation = Validation::new(header.alg);
        validation.leeway = LEEWAY_SECS;
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&self.audiences);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // Without a `kid`, every key of the algorithm's family is tried.
        let mut refused = Refused::BadSignature;
        for key in keys {
            match jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation) {
                Ok(data) => return self.claims(&data.claims),
                Err(e) => {
                    refused = match e.kind() {
                        ErrorKind::InvalidSignature => continue,
                        ErrorKind::ExpiredSignature => Refused::Expired,
                        ErrorKind::ImmatureSignature => Refused::NotYetValid,
                        ErrorKind::InvalidIssuer => Refused::WrongIssuer,
                        ErrorKind::InvalidAudience => Refused::WrongAudience,
                        _ => Refused::Malformed,
                    };
                    break;
                }
            }
        }
        Err(refused)
    }

    /// The tenant, subject and roles the verified `claims` name.
    fn claims(&self, claims: &serde_json::Value) -> Result<Verified, Refused> {
        let subject = claims
            .get("sub")
            .and_then(|s| s.as_str())
            .filter(|s| {
                !s.is_empty()
                    && s.chars().count() <= MAX_SUBJECT_CHARS
                    && !s.chars().any(char::is_control)
            })
            .ok_or(Refused::Malformed)?;
        let tenant = claim(claims, &self.tenant_claim)
            .and_then(|t| t.as_str())
            .filter(|t| crate::auth::valid_tenant(t))
            .ok_or(Refused::UnknownTenant)?;
        let names: Vec<&str> = match claim(claims, &self.roles_claim) {
            None | Some(serde_json::Value::Null) => vec![],
            Some(serde_json::Value::String(s)) => s.split_whitespace().collect(),
            Some(serde_json::Value::Array(items)) => {
                items.iter().filter_map(|v| v.as_str()).collect()
            }
            Some(_) => return Err(Refused::Malformed),
        };
        let roles = names
            .into_iter()
            .filter_map(|n| n.strip_prefix(self.role_prefix.as_str()))
            .filter_map(Role::parse)
            .filter(|r| *r != Role::Admin || self.allow_admin)
            .collect();
        Ok(Verified {
            tenant: tenant.to_owned(),
            subject: subject.to_owned(),
            roles,
        })
    }

    fn key_set(&self) -> Arc<KeySet> {
        self.keys.read().expect("never poisoned").clone()
    }

    /// The keys a token of `alg` naming `kid` may be verified with.
    fn find(&self, kid: Option<&str>, alg: Algorithm) -> Option<Vec<DecodingKey>> {
        let set = self.key_set();
        let keys: Vec<DecodingKey> = set
            .keys
            .iter()
            .filter(|k| kid.is_none() || k.kid.as_deref() == kid)
            .filter(|k| k.algs.contains(&alg))
            .map(|k| k.key.clone())
            .collect();
        (!keys.is_empty()).then_some(keys)
    }

    /// Reads the key set again unless it was tried less than
    /// [`MIN_REFRESH`] ago; keeps the old one when the read fails.
    async fn refresh(&self) {
        let mut last = self.last_try.lock().await;
        if last.is_some_and(|at| at.elapsed() < MIN_REFRESH) {
            return;
        }
        *last = Some(Instant::now());
        match read(&self.source, &self.http).await {
            Ok(keys) if !keys.is_empty() => {
                tracing::info!(keys = keys.len(), "identity provider keys read again");
                *self.keys.write().expect("never poisoned") = Arc::new(KeySet {
                    keys,
                    read_at: Instant::now(),
                });
            }
            Ok(_) => tracing::warn!(
                "the identity provider's JWKS holds no usable key; keeping the keys in force"
            ),
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), "cannot read the identity provider's keys; keeping the keys in force")
            }
        }
    }
}

/// Whether a key of the JWK type `params` can verify `alg`: an RSA key
/// never verifies an EC signature, a P-256 key never an ES384 one.
fn fits(params: &AlgorithmParameters, alg: Algorithm) -> bool {
    use jsonwebtoken::jwk::EllipticCurve;
    match params {
        AlgorithmParameters::RSA(_) => matches!(
            alg,
            Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512
        ),
        AlgorithmParameters::EllipticCurve(p) => matches!(
            (&p.curve, alg),
            (EllipticCurve::P256, Algorithm::ES256) | (EllipticCurve::P384, Algorithm::ES384)
        ),
        AlgorithmParameters::OctetKeyPair(p) => {
            p.curve == EllipticCurve::Ed25519 && alg == Algorithm::EdDSA
        }
        AlgorithmParameters::OctetKey(_) => false,
    }
}

/// The claim `name`: a top-level one of that whole name, else the dotted
/// path through objects (`realm_access.roles`).
fn claim<'a>(claims: &'a serde_json::Value, name: &str) -> Option<&'a serde_json::Value> {
    if let Some(v) = claims.get(name) {
        return Some(v);
    }
    name.split('.').try_fold(claims, |v, part| v.get(part))
}

/// Where `--sso-jwks` points: an https URL, an http URL to a loopback
/// address, or a file.
fn source(jwks: &str) -> anyhow::Result<Source> {
    if !jwks.contains("://") {
        return Ok(Source::File(PathBuf::from(jwks)));
    }
    let url = reqwest::Url::parse(jwks).with_context(|| format!("--sso-jwks {jwks}"))?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    match url.scheme() {
        "https" => Ok(Source::Url(url)),
        "http" if loopback => Ok(Source::Url(url)),
        "http" => anyhow::bail!(
            "--sso-jwks {jwks}: keys fetched over plain http could be replaced on the way; use https"
        ),
        other => anyhow::bail!("--sso-jwks {jwks}: `{other}` URLs are not supported"),
    }
}

/// Reads and parses the key set.
async fn read(source: &Source, http: &reqwest::Client) -> anyhow::Result<Vec<Key>> {
    let bytes = match source {
        Source::File(path) => {
            let bytes = tokio::fs::read(path)
                .await
                .with_context(|| format!("cannot read {}", path.display()))?;
            anyhow::ensure!(bytes.len() <= MAX_JWKS_BYTES, "the JWKS is over 1 MiB");
            bytes
        }
        Source::Url(url) => {
            let mut response = http.get(url.clone()).send().await?.error_for_status()?;
            let mut bytes = Vec::new();
            while let Some(chunk) = response.chunk().await? {
                bytes.extend_from_slice(&chunk);
                anyhow::ensure!(bytes.len() <= MAX_JWKS_BYTES, "the JWKS is over 1 MiB");
            }
            bytes
        }
    };
    parse(&bytes)
}

/// The signing keys of a JWKS document. Keys this server cannot use
/// (symmetric, encryption-only, unknown types or curves) are skipped, so
/// one exotic key does not lock every user out.
fn parse(bytes: &[u8]) -> anyhow::Result<Vec<Key>> {
    #[derive(serde::Deserialize)]
    struct Document {
        keys: Vec<serde_json::Value>,
    }
    let document: Document = serde_json::from_slice(bytes).context("not a JWKS document")?;
    let mut keys = vec![];
    for value in document.keys {
        let Ok(jwk) = serde_json::from_value::<Jwk>(value) else {
            continue;
        };
        if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
            continue;
        }
        let pinned = jwk.common.key_algorithm.map(|a| format!("{a:?}"));
        let algs: Vec<Algorithm> = ALGORITHMS
            .into_iter()
            .filter(|a| fits(&jwk.algorithm, *a))
            .filter(|a| pinned.as_ref().is_none_or(|p| *p == format!("{a:?}")))
            .collect();
        if algs.is_empty() {
            continue;
        }
        let Ok(key) = DecodingKey::from_jwk(&jwk) else {
            continue;
        };
        keys.push(Key {
            kid: jwk.common.key_id.clone(),
            algs,
            key,
        });
    }
    Ok(keys)
}

#[cfg(test)]
#[path = "sso/tests.rs"]
mod tests;
