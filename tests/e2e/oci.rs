//! Mirroring signed plugins through a real OCI registry: the CNCF
//! distribution registry (Debian's `docker-registry`, installed by
//! `deploy/setup.sh`) started on a loopback port for each test, either
//! open to all or requiring tokens from the Docker registry token flow
//! (`tests/servers/registry_token_server.py`).

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::{Loopback, Server, fixtures, plugins, test_file, trust};

/// How long the registry may take to answer `GET /v2/`.
const REGISTRY_START_TIMEOUT: Duration = Duration::from_secs(30);

const SECRETS: &str = "qlp_plugin_secrets";

/// The registry's name for itself in token auth: the `service` of its
/// challenges and the audience of the tokens it accepts.
const TOKEN_SERVICE: &str = "qlp-test-registry";
/// Who signs the tokens: their `iss`, which the registry checks.
const TOKEN_ISSUER: &str = "qlp-test-token-service";
/// How long the token service's log must be quiet before the requests it
/// printed are taken as all there are: its lines are printed before the
/// token is sent, so any still in flight are milliseconds behind.
const TOKEN_LOG_QUIET: Duration = Duration::from_millis(200);
/// The one user the token service knows, and their password.
const TOKEN_USER: &str = "mirror";
const TOKEN_PASSWORD: &str = "test-only-password";

/// `tests/servers/registry_token_server.py`: a Docker registry token
/// service that grants [`TOKEN_USER`] what it asks for and anonymous
/// requests `pull` only, signing with a key made at its start; killed when
/// dropped.
struct TokenService {
    server: Loopback,
    /// The self-signed certificate of its signing key, which the registry
    /// trusts as its `rootcertbundle`.
    cert: PathBuf,
    _dir: tempfile::TempDir,
}

impl TokenService {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("token-signer.pem");
        let script = test_file("servers/registry_token_server.py");
        let server = Loopback::start(
            "python3",
            &[
                path(&script),
                "--cert",
                path(&cert),
                "--service",
                TOKEN_SERVICE,
                "--issuer",
                TOKEN_ISSUER,
                "--user",
                &format!("{TOKEN_USER}:{TOKEN_PASSWORD}"),
            ],
        );
        assert!(cert.is_file(), "the token service wrote no certificate");
        Self {
            server,
            cert,
            _dir: dir,
        }
    }

    fn realm(&self) -> String {
        format!("{}/token", self.server.url)
    }

    /// The token requests answered since the last call, as
    /// `(token|refused, user or -, scope)`. The service prints before it
    /// answers, but its lines reach the test through a reader thread, so
    /// this waits until that has been quiet for [`TOKEN_LOG_QUIET`].
    fn requests(&self) -> Vec<(String, String, String)> {
        std::iter::from_fn(|| self.server.lines.recv_timeout(TOKEN_LOG_QUIET).ok())
            .map(|line| {
                let mut words = line.splitn(3, ' ').map(str::to_owned);
                let mut next = || words.next().unwrap_or_else(|| panic!("printed `{line}`"));
                (next(), next(), next())
            })
            .collect()
    }
}

/// The actions `scope` (`repository:NAME:ACTIONS`) asks for on
/// `repository`, sorted; none when it is about another one. The registry
/// lists them in no particular order.
fn actions(scope: &str, repository: &str) -> Vec<String> {
    let Some(actions) = scope
        .strip_prefix("repository:")
        .and_then(|rest| rest.strip_prefix(repository))
        .and_then(|rest| rest.strip_prefix(':'))
    else {
        return vec![];
    };
    let mut actions: Vec<String> = actions.split(',').map(str::to_owned).collect();
    actions.sort();
    actions
}

/// A `docker-registry serve` process storing into a temporary directory;
/// killed when dropped.
struct Registry {
    child: Child,
    /// `127.0.0.1:PORT`.
    host: String,
    /// The registry's storage root.
    storage: PathBuf,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Registry {
    fn start() -> Self {
        Self::start_with(None)
    }

    /// Starts a registry that, given `tokens`, accepts only requests
    /// carrying a token that service signed (its `auth: token` config).
    fn start_with(tokens: Option<&TokenService>) -> Self {
        let binary = std::env::var_os("QLP_TEST_OCI_REGISTRY")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/usr/bin/docker-registry"));
        assert!(
            binary.is_file(),
            "no OCI registry at {}: install Debian's docker-registry with `deploy/setup.sh` \
             (or set QLP_TEST_OCI_REGISTRY)",
            binary.display()
        );
        let dir = tempfile::tempdir().unwrap();
        let storage = dir.path().join("storage");
        // The registry cannot be told to pick a port and report it, so take
        // a free one and hand it over.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let host = format!("127.0.0.1:{port}");
        let config = dir.path().join("config.yml");
        let mut yaml = format!(
            "version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: false\nhttp:\n  addr: {host}\n",
            storage.display()
        );
        if let Some(tokens) = tokens {
            yaml.push_str(&format!(
                "auth:\n  token:\n    realm: {}\n    service: {TOKEN_SERVICE}\n    issuer: {TOKEN_ISSUER}\n    rootcertbundle: {}\n",
                tokens.realm(),
                tokens.cert.display()
            ));
        }
        std::fs::write(&config, yaml).unwrap();
        let log = dir.path().join("registry.log");
        let child = Command::new(&binary)
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("cannot start the registry");
        let mut registry = Self {
            child,
            host,
            storage,
            log,
            _dir: dir,
        };
        // With token auth even `GET /v2/` wants a token.
        registry.wait_ready(if tokens.is_some() { 401 } else { 200 });
        registry
    }

    fn wait_ready(&mut self, ready: u16) {
        let deadline = Instant::now() + REGISTRY_START_TIMEOUT;
        let url = format!("http://{}/v2/", self.host);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "the registry exited with {status}; its log:\n{}",
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            if status_of(&url).is_ok_and(|status| status == ready) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the registry did not answer {url}; its log:\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The file holding blob `digest` (`sha256:…`) in the registry's storage.
    fn blob_file(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").expect("a sha256 digest");
        self.storage
            .join("docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    fn reference(&self, repository: &str) -> String {
        format!("{}/{repository}", self.host)
    }

    /// Whether anything was ever written to `repository`: the registry
    /// creates its directory at the first upload.
    fn has_repository(&self, repository: &str) -> bool {
        self.storage
            .join("docker/registry/v2/repositories")
            .join(repository)
            .exists()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The status of a plain blocking `GET url`, so polling the registry needs
/// no async runtime.
fn status_of(url: &str) -> std::io::Result<u16> {
    use std::io::Write;
    let rest = url.strip_prefix("http://").expect("an http url");
    let (host, path) = rest.split_once('/').expect("a path");
    let mut stream = std::net::TcpStream::connect(host)?;
    write!(
        stream,
        "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    Ok(answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0))
}

fn qlp(args: &[&str]) -> Output {
    qlp_as(None, args)
}

/// Runs `qlp` with `QLP_OCI_USERNAME` and `QLP_OCI_PASSWORD` set to
/// `credentials`, or neither.
fn qlp_as(credentials: Option<(&str, &str)>, args: &[&str]) -> Output {
    let mut command = crate::support::qlp_command();
    command
        .args(args)
        .env_remove("QLP_OCI_USERNAME")
        .env_remove("QLP_OCI_PASSWORD");
    if let Some((user, password)) = credentials {
        command
            .env("QLP_OCI_USERNAME", user)
            .env("QLP_OCI_PASSWORD", password);
    }
    command.output().unwrap()
}

fn succeeds(args: &[&str]) -> String {
    succeeds_as(None, args)
}

fn succeeds_as(credentials: Option<(&str, &str)>, args: &[&str]) -> String {
    let out = qlp_as(credentials, args);
    assert!(
        out.status.success(),
        "qlp {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn fails(args: &[&str]) -> String {
    let out = qlp(args);
    assert!(!out.status.success(), "qlp {args:?} succeeded");
    String::from_utf8(out.stderr).unwrap()
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Pushes `component`; returns its reference by digest.
fn push(component: &Path, reference: &str) -> String {
    push_as(None, component, reference)
}

fn push_as(credentials: Option<(&str, &str)>, component: &Path, reference: &str) -> String {
    let out = succeeds_as(credentials, &["plugin", "push", path(component), reference]);
    let digest = out
        .trim()
        .strip_prefix(&format!("{reference}@"))
        .unwrap_or_else(|| panic!("push printed {out}"));
    let (repository, _tag) = reference.rsplit_once(':').unwrap();
    format!("{repository}@{digest}")
}

fn pull(reference: &str, out_dir: &Path, policy: &Path) -> Output {
    pull_as(None, reference, out_dir, policy)
}

fn pull_as(
    credentials: Option<(&str, &str)>,
    reference: &str,
    out_dir: &Path,
    policy: &Path,
) -> Output {
    qlp_as(
        credentials,
        &[
            "plugin",
            "pull",
            reference,
            "--out-dir",
            path(out_dir),
            "--trust",
            path(policy),
        ],
    )
}

/// The names of the files in `dir`, sorted; none when it does not exist.
fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn sha256_of_file(p: &Path) -> String {
    let mut bytes = vec![];
    std::fs::File::open(p)
        .unwrap()
        .read_to_end(&mut bytes)
        .unwrap();
    qlp_registry::oci::sha256(&bytes)
}

/// Checks that a successful pull of qlp/secrets 0.1.0 into `pulled` wrote
/// exactly the signed package, byte for byte; returns the file names.
fn assert_pulled_secrets(out: &Output, pulled: &Path) -> Vec<String> {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("qlp/secrets@0.1.0 verified"), "{stderr}");
    // Files are named from the signed manifest, not the pushed file name.
    let suffixes = [".manifest.json", ".sig.json", ".wasm"];
    let names: Vec<String> = suffixes
        .iter()
        .map(|s| format!("qlp_secrets-0.1.0{s}"))
        .collect();
    assert_eq!(files(pulled), names, "only the package is written");
    for (name, suffix) in names.iter().zip(suffixes) {
        assert_eq!(
            std::fs::read(pulled.join(name)).unwrap(),
            std::fs::read(plugins().join(format!("{SECRETS}{suffix}"))).unwrap(),
            "{name} differs after the round trip"
        );
    }
    names
}

/// Starts a fresh server whose only copy of qlp/secrets is the one pulled
/// into `pulled` (the other first-party plugins it needs from their own
/// directory, made under `tmp`) and checks that it loads it.
async fn assert_a_fresh_server_loads(pulled: &Path, tmp: &Path) {
    let others = tmp.join("others");
    std::fs::create_dir_all(&others).unwrap();
    for entry in std::fs::read_dir(plugins()).unwrap().flatten() {
        if !entry.file_name().to_string_lossy().starts_with(SECRETS) {
            std::fs::copy(entry.path(), others.join(entry.file_name())).unwrap();
        }
    }
    let dirs = format!("{}:{}", pulled.display(), others.display());
    let server = Server::start(&tmp.join("data"), &["--plugin-dir", &dirs]);
    let listed = server.get_json("/v1/plugins").await;
    let secrets = listed["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "qlp/secrets")
        .unwrap_or_else(|| panic!("qlp/secrets is not loaded: {listed:#}"))
        .clone();
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(plugins().join(format!("{SECRETS}.manifest.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(
        secrets["digest"], manifest["digests"]["blake3"],
        "{secrets:#}"
    );
    assert_eq!(secrets["version"], "0.1.0");
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pushed_plugin_pulls_back_byte_for_byte_and_a_fresh_server_loads_it() {
    let registry = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let reference = registry.reference("qlp/secrets:0.1.0");
    push(&plugins().join(format!("{SECRETS}.wasm")), &reference);

    let pulled = tmp.path().join("pulled");
    let out = pull(&reference, &pulled, &trust());
    let names = assert_pulled_secrets(&out, &pulled);

    // Pushing again is idempotent: the blobs are there, the tag moves to
    // the same manifest, which can also be pulled by its digest.
    let by_digest = push(&plugins().join(format!("{SECRETS}.wasm")), &reference);
    let again = tmp.path().join("by-digest");
    let out = pull(&by_digest, &again, &trust());
    assert!(
        out.status.success(),
        "{by_digest}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(files(&again), names);

    assert_a_fresh_server_loads(&pulled, tmp.path()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_blob_changed_inside_the_registry_fails_the_pull_and_writes_nothing() {
    let registry = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let component = plugins().join(format!("{SECRETS}.wasm"));
    let reference = registry.reference("qlp/secrets:0.1.0");
    push(&component, &reference);

    // Same length, one byte different: only the digest can tell.
    let digest = sha256_of_file(&component);
    let blob = registry.blob_file(&digest);
    let mut bytes = std::fs::read(&blob).expect("the component blob in storage");
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&blob, &bytes).unwrap();

    let out_dir = tmp.path().join("pulled");
    let out = pull(&reference, &out_dir, &trust());
    assert!(!out.status.success(), "a tampered blob was accepted");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("TAMPERED_BLOB")
            && stderr.contains(&digest)
            && stderr.contains("application/wasm")
            && stderr.contains(&reference),
        "{stderr}"
    );
    assert!(
        files(&out_dir).is_empty(),
        "files were written: {:?}",
        files(&out_dir)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_package_the_policy_does_not_trust_is_refused_with_the_rule_named() {
    let registry = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let reference = registry.reference("qlp/secrets:0.1.0");
    push(&plugins().join(format!("{SECRETS}.wasm")), &reference);

    // A policy trusting another key only.
    let other = tmp.path().join("other.key");
    succeeds(&["key", "generate", path(&other)]);
    let policy = tmp.path().join("other-trust.toml");
    succeeds(&[
        "key",
        "trust",
        &format!("{}.pub", other.display()),
        "--namespace",
        "qlp/*",
        "--policy",
        path(&policy),
    ]);
    // The development key, but not for the `qlp` namespace.
    let narrow = tmp.path().join("narrow-trust.toml");
    let dev = std::fs::read_to_string(trust()).unwrap();
    assert!(dev.contains(r#""qlp/*", "#), "{dev}");
    std::fs::write(&narrow, dev.replace(r#""qlp/*", "#, "")).unwrap();

    for (policy, rule) in [(&policy, "UNKNOWN_KEY"), (&narrow, "NAMESPACE_NOT_ALLOWED")] {
        let out_dir = tmp.path().join(rule);
        let out = pull(&reference, &out_dir, policy);
        assert!(!out.status.success(), "{rule}: the pull was accepted");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(rule) && stderr.contains(&reference),
            "{stderr}"
        );
        assert!(files(&out_dir).is_empty(), "{rule}: {:?}", files(&out_dir));
    }

    // A manifest edited after signing travels intact through the registry
    // (its digests still match the component) but its signature does not.
    let edited = tmp.path().join("edited");
    std::fs::create_dir_all(&edited).unwrap();
    for suffix in [".wasm", ".sig.json"] {
        std::fs::copy(
            plugins().join(format!("{SECRETS}{suffix}")),
            edited.join(format!("{SECRETS}{suffix}")),
        )
        .unwrap();
    }
    let manifest =
        std::fs::read_to_string(plugins().join(format!("{SECRETS}.manifest.json"))).unwrap();
    std::fs::write(
        edited.join(format!("{SECRETS}.manifest.json")),
        manifest.replace("Finds private keys", "Finds nothing"),
    )
    .unwrap();
    let reference = registry.reference("qlp/secrets:edited");
    push(&edited.join(format!("{SECRETS}.wasm")), &reference);
    let out_dir = tmp.path().join("edited-pull");
    let stderr = fails(&[
        "plugin",
        "pull",
        &reference,
        "--out-dir",
        path(&out_dir),
        "--trust",
        path(&trust()),
    ]);
    assert!(stderr.contains("BAD_SIGNATURE"), "{stderr}");
    assert!(files(&out_dir).is_empty(), "{:?}", files(&out_dir));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unsigned_component_is_not_pushed() {
    let registry = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let unsigned = tmp.path().join("noop.wasm");
    std::fs::copy(fixtures().join("qlp_fixture_noop.wasm"), &unsigned).unwrap();
    let reference = registry.reference("fixture/noop:0.1.0");

    let stderr = fails(&["plugin", "push", path(&unsigned), &reference]);
    assert!(
        stderr.contains("UNSIGNED") && stderr.contains("qlp plugin sign"),
        "{stderr}"
    );
    // Nothing reached the registry.
    let status = status_of(&format!(
        "http://{}/v2/fixture/noop/manifests/0.1.0",
        registry.host
    ))
    .unwrap();
    assert_eq!(status, 404);

    // A signature list with no signature in it is no better.
    std::fs::copy(
        fixtures().join("qlp_fixture_noop.manifest.json"),
        tmp.path().join("noop.manifest.json"),
    )
    .unwrap();
    std::fs::write(tmp.path().join("noop.sig.json"), "[]").unwrap();
    let stderr = fails(&["plugin", "push", path(&unsigned), &reference]);
    assert!(stderr.contains("UNSIGNED"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_registry_requiring_tokens_takes_a_push_with_credentials_and_gives_it_back() {
    let tokens = TokenService::start();
    let registry = Registry::start_with(Some(&tokens));
    let tmp = tempfile::tempdir().unwrap();
    let credentials = Some((TOKEN_USER, TOKEN_PASSWORD));
    let reference = registry.reference("qlp/secrets:0.1.0");
    push_as(
        credentials,
        &plugins().join(format!("{SECRETS}.wasm")),
        &reference,
    );

    // Every token went to the user, for the registry's own service, and
    // the upload's challenge asked for both actions: a scope cut to `pull`
    // could not have pushed.
    let asked = tokens.requests();
    assert!(
        asked
            .iter()
            .all(|(verdict, user, _)| verdict == "token" && user == TOKEN_USER),
        "{asked:?}"
    );
    assert!(
        asked
            .iter()
            .any(|(_, _, scope)| actions(scope, "qlp/secrets") == ["pull", "push"]),
        "no token was asked for pull and push: {asked:?}"
    );

    let pulled = tmp.path().join("pulled");
    let out = pull_as(credentials, &reference, &pulled, &trust());
    assert_pulled_secrets(&out, &pulled);
    let asked = tokens.requests();
    assert!(
        !asked.is_empty()
            && asked.iter().all(|(verdict, user, scope)| verdict == "token"
                && user == TOKEN_USER
                && actions(scope, "qlp/secrets") == ["pull"]),
        "a pull asks for pull only: {asked:?}"
    );
    assert_a_fresh_server_loads(&pulled, tmp.path()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_password_is_refused_by_the_token_service_and_nothing_is_written() {
    let tokens = TokenService::start();
    let registry = Registry::start_with(Some(&tokens));
    let tmp = tempfile::tempdir().unwrap();
    let component = plugins().join(format!("{SECRETS}.wasm"));
    let reference = registry.reference("qlp/secrets:0.1.0");
    let wrong = Some((TOKEN_USER, "not-the-password"));

    let out = qlp_as(wrong, &["plugin", "push", path(&component), &reference]);
    assert!(
        !out.status.success(),
        "a push with a wrong password succeeded"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "the token service {} answered 401",
            tokens.realm()
        )) && stderr.contains(&reference),
        "{stderr}"
    );
    assert!(
        !stderr.contains("not-the-password"),
        "the password was shown: {stderr}"
    );
    assert!(
        !registry.has_repository("qlp/secrets"),
        "something was pushed"
    );
    let asked = tokens.requests();
    assert!(
        !asked.is_empty()
            && asked
                .iter()
                .all(|(verdict, user, _)| verdict == "refused" && user == TOKEN_USER),
        "{asked:?}"
    );

    // With the package in the registry, a pull with the wrong password is
    // refused the same way and writes nothing.
    push_as(Some((TOKEN_USER, TOKEN_PASSWORD)), &component, &reference);
    let out_dir = tmp.path().join("pulled");
    let out = pull_as(wrong, &reference, &out_dir, &trust());
    assert!(
        !out.status.success(),
        "a pull with a wrong password succeeded"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "the token service {} answered 401",
            tokens.realm()
        )),
        "{stderr}"
    );
    assert!(files(&out_dir).is_empty(), "{:?}", files(&out_dir));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_anonymous_push_to_a_registry_requiring_tokens_is_refused() {
    let tokens = TokenService::start();
    let registry = Registry::start_with(Some(&tokens));
    let tmp = tempfile::tempdir().unwrap();
    let component = plugins().join(format!("{SECRETS}.wasm"));
    let reference = registry.reference("qlp/secrets:0.1.0");

    let stderr = fails(&["plugin", "push", path(&component), &reference]);
    assert!(
        stderr.contains("the registry answered 401") && stderr.contains(&reference),
        "{stderr}"
    );
    assert!(
        !registry.has_repository("qlp/secrets"),
        "something was pushed"
    );
    // The token service was asked without credentials, and its token
    // (pull only) did not satisfy the upload's `pull,push` challenge.
    let asked = tokens.requests();
    assert!(
        asked
            .iter()
            .all(|(verdict, user, _)| verdict == "token" && user == "-")
            && asked
                .iter()
                .any(|(_, _, scope)| actions(scope, "qlp/secrets") == ["pull", "push"]),
        "{asked:?}"
    );

    // Pulling needs no credentials: the service grants `pull` to anyone.
    push_as(Some((TOKEN_USER, TOKEN_PASSWORD)), &component, &reference);
    let pulled = tmp.path().join("pulled");
    let out = pull(&reference, &pulled, &trust());
    assert_pulled_secrets(&out, &pulled);
}
