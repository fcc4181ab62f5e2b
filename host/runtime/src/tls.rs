//! TLS for every connection the host opens: webhooks, identity-provider
//! keys, registries and OCI, the `qlp` client commands and plugins' HTTP.
//!
//! Servers are trusted by the system's roots plus the operator's own CA
//! bundle, a PEM file named by `QLP_CA_FILE` (`--ca-file`): an air-gapped
//! site runs its own CA and names it once for every client. The bundle is
//! read once per process, at start ([`init`]), so a missing or malformed
//! file stops the process with the reason instead of failing every later
//! connection.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

/// The environment variable naming the operator's CA bundle.
pub const CA_FILE_ENV: &str = "QLP_CA_FILE";

struct Trust {
    /// The operator's certificates, DER.
    extra: Vec<CertificateDer<'static>>,
}

static TRUST: OnceLock<Trust> = OnceLock::new();
static PLUGIN_CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();

/// The certificates of a PEM bundle; at least one, or the reason.
pub fn read_bundle(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let text = std::fs::read(path).map_err(|e| format!("CA bundle {}: {e}", path.display()))?;
    let certs = CertificateDer::pem_slice_iter(&text)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("CA bundle {}: not PEM certificates: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "CA bundle {}: no `BEGIN CERTIFICATE` block",
            path.display()
        ));
    }
    Ok(certs)
}

/// Reads the operator's CA bundle from `file`, or from `QLP_CA_FILE` when
/// `file` is `None`. Call once at start; later calls keep the first
/// answer.
pub fn init(file: Option<&Path>) -> Result<(), String> {
    if TRUST.get().is_some() {
        return Ok(());
    }
    let extra = match file.map(Path::to_path_buf).or_else(configured_file) {
        Some(path) => read_bundle(&path)?,
        None => vec![],
    };
    let _ = TRUST.set(Trust { extra });
    Ok(())
}

/// The bundle `QLP_CA_FILE` names, if any.
fn configured_file() -> Option<PathBuf> {
    std::env::var_os(CA_FILE_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

fn trust() -> &'static Trust {
    TRUST.get_or_init(|| {
        // `init` reports a bad bundle at start; a process that skipped it
        // trusts the system roots alone rather than panicking mid-request.
        let extra = configured_file()
            .and_then(|p| read_bundle(&p).ok())
            .unwrap_or_default();
        Trust { extra }
    })
}

/// A reqwest client builder trusting the system roots and the operator's
/// CA bundle. Every reqwest client of the host starts here.
pub fn client_builder() -> reqwest::ClientBuilder {
    let mut builder = reqwest::Client::builder();
    for cert in &trust().extra {
        if let Ok(cert) = reqwest::Certificate::from_der(cert) {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder
}

/// The rustls configuration of plugins' outbound HTTPS: the system roots
/// and the operator's bundle.
pub fn plugin_client_config() -> Arc<rustls::ClientConfig> {
    PLUGIN_CONFIG
        .get_or_init(|| Arc::new(client_config(&trust().extra)))
        .clone()
}

/// A rustls client configuration trusting the system's roots and `extra`.
fn client_config(extra: &[CertificateDer<'static>]) -> rustls::ClientConfig {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for error in &native.errors {
        tracing::warn!(%error, "a system root certificate could not be read");
    }
    let (added, ignored) = roots.add_parsable_certificates(native.certs);
    tracing::debug!(added, ignored, "system root certificates");
    for cert in extra {
        if let Err(error) = roots.add(cert.clone()) {
            tracing::warn!(%error, "a certificate of the CA bundle was not accepted");
        }
    }
    // The one provider built in (ring, as for reqwest), with its default
    // protocol versions: TLS 1.2 and 1.3.
    rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth()
}

/// What `qlp serve` needs to speak HTTPS.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct ServeTls {
    /// Serve HTTPS with this certificate chain (PEM, the server's own
    /// certificate first); needs --tls-key.
    #[arg(long, env = "QLP_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, env = "QLP_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

impl ServeTls {
    /// The TLS configuration to serve with, if HTTPS was asked for; the
    /// reason when a file is missing or does not hold what it should.
    pub fn server_config(&self) -> Result<Option<Arc<rustls::ServerConfig>>, String> {
        let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) else {
            return Ok(None);
        };
        let chain = read_bundle(cert).map_err(|e| e.replace("CA bundle", "--tls-cert"))?;
        let key = rustls_pki_types::PrivateKeyDer::from_pem_file(key)
            .map_err(|e| format!("--tls-key {}: no private key: {e}", key.display()))?;
        let mut config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| format!("--tls-cert and --tls-key do not make a usable pair: {e}"))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Some(Arc::new(config)))
    }
}
