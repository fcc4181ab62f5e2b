//! `qlp/s3` against a real S3-compatible server on loopback: moto's
//! (`python3 -m moto.server`, PyPI `moto[server]`, pinned in
//! `deploy/setup.sh`), started by each test on a free port and killed when
//! the test ends. Moto checks every request's Signature V4 against the
//! access keys of its IAM users once its first few unauthenticated actions
//! (the test creating those users) are spent. Buckets are created over
//! HTTP with a signed `PUT /bucket`, and what was delivered is read back
//! with a signed `GET` and compared byte for byte. Without moto each test
//! says SKIPPED, and fails under CI.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use qlp_delivery_testkit::{blake3_hex, closed_url, tool_available};
use qlp_plugin_s3::client::{Call, Client, HostHttp, Transport, header};
use qlp_plugin_s3::settings::{self, Settings};
use qlp_plugin_s3::sigv4::{self, Credentials, Unsigned};
use qlp_plugin_s3::{DIGEST_HEADER, deliver_with};
use qlp_sdk::http::{Request, Response};
use qlp_sdk::{Artifact, DeliveryTarget, PluginError, Receipt};

/// How long moto may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The actions moto serves before it checks signatures: the IAM calls of
/// [`Moto::start`].
const UNAUTHENTICATED_ACTIONS: usize = 5;

/// The bucket every test delivers to.
const BUCKET: &str = "artifacts";

/// An access key of a moto IAM user.
#[derive(Clone)]
struct Key {
    id: String,
    secret: String,
}

/// A moto server; dropped, it is killed.
struct Moto {
    child: Child,
    url: String,
    /// A user allowed everything on S3.
    allowed: Key,
    /// A user with no policy: every S3 action is denied.
    denied: Key,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Moto {
    /// Starts moto, or returns `None` (SKIPPED) where it is not installed.
    fn start() -> Option<Self> {
        let mut probe = Command::new("python3");
        probe.args(["-c", "import moto.server, flask"]);
        if !tool_available(
            probe,
            "moto[server]",
            "deploy/setup.sh installs it (python3 -m pip install 'moto[server]==5.2.5')",
        ) {
            return None;
        }
        qlp_sdk::http::allow_for_tests();
        let port = free_port();
        let child = Command::new("python3")
            .args(["-m", "moto.server", "-H", "127.0.0.1", "-p"])
            .arg(port.to_string())
            .env(
                "INITIAL_NO_AUTH_ACTION_COUNT",
                UNAUTHENTICATED_ACTIONS.to_string(),
            )
            .env("MOTO_ALLOW_NONEXISTENT_REGION", "true")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 starts moto.server");
        let mut moto = Moto {
            child,
            url: format!("http://127.0.0.1:{port}"),
            allowed: Key {
                id: String::new(),
                secret: String::new(),
            },
            denied: Key {
                id: String::new(),
                secret: String::new(),
            },
        };
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        let started = Instant::now();
        while TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err() {
            if let Ok(Some(status)) = moto.child.try_wait() {
                panic!("moto.server exited at start: {status}");
            }
            assert!(
                started.elapsed() < START_TIMEOUT,
                "moto.server did not listen within {START_TIMEOUT:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        // The unauthenticated actions: two users, one with S3 rights.
        moto.iam(&[("Action", "CreateUser"), ("UserName", "deliverer")]);
        moto.allowed = moto.access_key("deliverer");
        let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
        moto.iam(&[
            ("Action", "PutUserPolicy"),
            ("UserName", "deliverer"),
            ("PolicyName", "s3"),
            ("PolicyDocument", policy),
        ]);
        moto.iam(&[("Action", "CreateUser"), ("UserName", "nobody")]);
        moto.denied = moto.access_key("nobody");
        // From here on every request is checked: the bucket is created with
        // a signed PUT, and versioned so a test can tell an upload happened.
        let settings = moto.settings(&[]);
        let answer = moto.signed(&settings, Call::new("PUT", None));
        assert_eq!(answer.status, 200, "create bucket: {}", text(&answer));
        let versioning = Call::new("PUT", None).query("versioning", "").body(
            b"<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>".to_vec(),
        );
        let answer = moto.signed(&settings, versioning);
        assert_eq!(answer.status, 200, "versioning: {}", text(&answer));
        Some(moto)
    }

    /// One IAM query action, signed for the `iam` service (moto routes on
    /// the credential scope; it does not check these signatures yet).
    fn iam(&self, params: &[(&str, &str)]) -> String {
        let mut form: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{k}={}", sigv4::uri_encode(v, true)))
            .collect();
        form.push("Version=2010-05-08".into());
        let body = form.join("&").into_bytes();
        let payload = sigv4::sha256_hex(&body);
        let authority = self.url.trim_start_matches("http://").to_string();
        let amz_date = "20261206T000000Z".to_string();
        let mut headers = vec![
            (
                "content-type".to_string(),
                "application/x-www-form-urlencoded".to_string(),
            ),
            ("host".to_string(), authority),
            ("x-amz-date".to_string(), amz_date.clone()),
            ("x-amz-content-sha256".to_string(), payload.clone()),
        ];
        let authorization = sigv4::authorization(
            &Unsigned {
                method: "POST",
                path: "/",
                query: &[],
                headers: &headers,
                payload_sha256: &payload,
            },
            &Credentials {
                access_key_id: "setup".into(),
                secret_access_key: "setup".into(),
                session_token: None,
            },
            "us-east-1",
            "iam",
            &amz_date,
        );
        headers.retain(|(k, _)| k != "host");
        headers.push(("authorization".into(), authorization));
        let response = qlp_sdk::http::fetch(&Request {
            method: "POST".into(),
            url: format!("{}/", self.url),
            headers,
            body,
        })
        .expect("moto answers IAM");
        let body = text(&response);
        assert_eq!(response.status, 200, "{params:?}: {body}");
        body
    }

    fn access_key(&self, user: &str) -> Key {
        let body = self.iam(&[("Action", "CreateAccessKey"), ("UserName", user)]);
        Key {
            id: xml(&body, "AccessKeyId"),
            secret: xml(&body, "SecretAccessKey"),
        }
    }

    /// The operator's configuration of `qlp/s3` for this server, with the
    /// allowed user's key unless `change` says otherwise.
    fn settings(&self, change: &[(&str, &str)]) -> Settings {
        let mut config = vec![
            ("endpoint".to_string(), self.url.clone()),
            ("bucket".to_string(), BUCKET.to_string()),
            ("access-key-id".to_string(), self.allowed.id.clone()),
            ("secret-access-key".to_string(), self.allowed.secret.clone()),
        ];
        for (key, value) in change {
            config.retain(|(k, _)| k != key);
            config.push((key.to_string(), value.to_string()));
        }
        Settings::from_config(|key| {
            config
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
        })
        .expect("valid settings")
    }

    /// Sends one signed request to the bucket.
    fn signed(&self, settings: &Settings, call: Call) -> Response {
        let plan = settings::plan(settings, "probe", "", &[]).expect("a plan");
        let mut http = HostHttp;
        let mut client = Client::connect(&mut http, settings, &plan).expect("moto answers");
        client.send(call).expect("moto answers")
    }

    /// The object at `key`, read back with a signed GET.
    fn get(&self, key: &str) -> Response {
        let response = self.signed(&self.settings(&[]), Call::new("GET", Some(key)));
        assert_eq!(response.status, 200, "GET {key}: {}", text(&response));
        response
    }

    /// The object's headers, from a signed HEAD.
    fn head(&self, key: &str) -> Response {
        let response = self.signed(&self.settings(&[]), Call::new("HEAD", Some(key)));
        assert_eq!(response.status, 200, "HEAD {key}");
        response
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

fn text(response: &Response) -> String {
    String::from_utf8_lossy(&response.body).into_owned()
}

fn xml(body: &str, tag: &str) -> String {
    qlp_plugin_s3::client::xml_text(body, tag).unwrap_or_else(|| panic!("no <{tag}> in {body}"))
}

/// The host's HTTP, with every request's method and query recorded.
#[derive(Default)]
struct Recording {
    sent: Vec<String>,
}

impl Transport for Recording {
    fn fetch(&mut self, request: &Request) -> Result<Response, String> {
        let query = request.url.split_once('?').map(|(_, q)| q).unwrap_or("");
        self.sent
            .push(format!("{} {query}", request.method).trim().to_owned());
        qlp_sdk::http::fetch(request).map_err(|e| e.to_string())
    }

    fn wait(&mut self, delay: Duration) {
        qlp_plugin_s3::client::wait(delay)
    }
}

impl Recording {
    /// Whether anything but reads was sent.
    fn wrote(&self) -> bool {
        self.sent
            .iter()
            .any(|r| !r.starts_with("HEAD") && !r.starts_with("GET"))
    }
}

fn artifact(file_name: &str, bytes: Vec<u8>) -> Artifact {
    Artifact {
        media_type: "application/zip".into(),
        file_name: file_name.into(),
        bytes,
    }
}

/// The target the host would pass for `artifact`, with the test's options.
fn target(prefix: &str, artifact: &Artifact, options: &[(&str, &str)]) -> DeliveryTarget {
    let key = format!("intent-1/{}", artifact.file_name);
    qlp_delivery_testkit::target(prefix, &key, &artifact.bytes, options)
}

/// Bytes that no two tests share and that do not compress to nothing.
fn bytes(len: usize, seed: u8) -> Vec<u8> {
    let mut state = u32::from(seed).wrapping_mul(2_654_435_761) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect()
}

fn detail<'r>(receipt: &'r Receipt, name: &str) -> &'r str {
    receipt
        .details
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} in {:?}", receipt.details))
}

fn deliver(
    transport: &mut impl Transport,
    settings: &Settings,
    artifact: &Artifact,
    target: &DeliveryTarget,
) -> Result<Receipt, PluginError> {
    deliver_with(transport, settings, artifact, target)
}

/// Delivers `artifact` twice and checks the object read back, that the
/// second delivery wrote nothing and returned the same receipt.
fn delivered_once(moto: &Moto, artifact: &Artifact, prefix: &str) -> Receipt {
    let settings = moto.settings(&[]);
    let target = target(prefix, artifact, &[]);
    let key = format!("{prefix}/{}", artifact.file_name);
    let mut first = Recording::default();
    let receipt = deliver(&mut first, &settings, artifact, &target).expect("delivered");
    assert_eq!(receipt.location, format!("s3://{BUCKET}/{key}"));
    assert_eq!(detail(&receipt, "bytes"), artifact.bytes.len().to_string());
    assert_eq!(detail(&receipt, "media-type"), "application/zip");

    let stored = moto.get(&key);
    assert!(
        stored.body == artifact.bytes,
        "the object read back is the artifact, byte for byte"
    );
    let before = moto.head(&key);
    assert_eq!(
        header(&before, DIGEST_HEADER),
        Some(blake3_hex(&artifact.bytes).as_str())
    );
    let version = header(&before, "x-amz-version-id")
        .expect("a versioned bucket")
        .to_owned();
    assert_eq!(detail(&receipt, "version-id"), version);

    let mut again = Recording::default();
    let repeat = deliver(&mut again, &settings, artifact, &target).expect("a repeat succeeds");
    assert_eq!(
        (&repeat.location, &repeat.details),
        (&receipt.location, &receipt.details),
        "the same receipt"
    );
    assert!(!again.wrote(), "the repeat only looked: {:?}", again.sent);
    let after = moto.head(&key);
    for name in ["x-amz-version-id", "etag", "last-modified"] {
        assert_eq!(header(&after, name), header(&before, name), "{name}");
    }
    for secret in [&moto.allowed.secret, &moto.denied.secret] {
        assert!(!format!("{receipt:?}").contains(secret.as_str()));
    }
    receipt
}

#[test]
fn a_small_artifact_is_put_read_back_and_a_repeat_uploads_nothing() {
    let Some(moto) = Moto::start() else { return };
    let artifact = artifact("invoices.zip", bytes(40_000, 1));
    let receipt = delivered_once(&moto, &artifact, "releases/2026");
    assert_eq!(detail(&receipt, "parts"), "1");

    // Other content at a key is a conflict, left alone, unless overwrite.
    let settings = moto.settings(&[]);
    let theirs = Call::new("PUT", Some("taken/app.zip")).body(b"someone else's".to_vec());
    assert_eq!(moto.signed(&settings, theirs).status, 200);
    let ours = self::artifact("app.zip", bytes(1000, 3));
    let mut http = Recording::default();
    let error =
        deliver(&mut http, &settings, &ours, &target("taken", &ours, &[])).expect_err("a conflict");
    assert_eq!(error.code, "CONFLICT", "{}", error.message);
    assert!(!http.wrote(), "{:?}", http.sent);
    assert_eq!(moto.get("taken/app.zip").body, b"someone else's");
    deliver(
        &mut HostHttp,
        &settings,
        &ours,
        &target("taken", &ours, &[("overwrite", "true")]),
    )
    .expect("replaced with overwrite");
    assert!(moto.get("taken/app.zip").body == ours.bytes);
}

#[test]
fn a_twelve_mib_artifact_goes_in_parts_and_reads_back_whole() {
    let Some(moto) = Moto::start() else { return };
    let artifact = artifact("service.tar.gz", bytes(12 << 20, 2));
    let receipt = delivered_once(&moto, &artifact, "big");
    assert_eq!(detail(&receipt, "parts"), "2", "8 MiB and 4 MiB");
    assert!(
        detail(&receipt, "etag").ends_with("-2"),
        "{}",
        detail(&receipt, "etag")
    );
    let uploads = moto.signed(
        &moto.settings(&[]),
        Call::new("GET", None).query("uploads", ""),
    );
    assert!(
        !text(&uploads).contains("<UploadId>"),
        "no unfinished upload is left: {}",
        text(&uploads)
    );
}

#[test]
fn refusals_have_their_codes_and_never_quote_a_secret() {
    let Some(moto) = Moto::start() else { return };
    let artifact = artifact("a.zip", bytes(100, 4));
    let wrong_secret = "not-the-secret-at-all-0123456789";
    let cases = [
        (
            moto.settings(&[("secret-access-key", wrong_secret)]),
            "AUTH_FAILED",
        ),
        (
            moto.settings(&[
                ("access-key-id", &moto.denied.id),
                ("secret-access-key", &moto.denied.secret),
            ]),
            "AUTH_FAILED",
        ),
        (
            moto.settings(&[("bucket", "no-such-bucket")]),
            "TARGET_NOT_FOUND",
        ),
        (moto.settings(&[("endpoint", &closed_url())]), "UNREACHABLE"),
    ];
    for (settings, code) in cases {
        let error = deliver(
            &mut HostHttp,
            &settings,
            &artifact,
            &target("refused", &artifact, &[]),
        )
        .expect_err(code);
        assert_eq!(error.code, code, "{}", error.message);
        for secret in [wrong_secret, &moto.allowed.secret, &moto.denied.secret] {
            assert!(!error.message.contains(secret), "{}", error.message);
        }
    }
    // The wrong signature is named with S3's own code.
    let error = deliver(
        &mut HostHttp,
        &moto.settings(&[("secret-access-key", wrong_secret)]),
        &artifact,
        &target("refused", &artifact, &[]),
    )
    .expect_err("refused");
    assert!(
        error.message.contains("SignatureDoesNotMatch") || error.message.contains("HTTP 403"),
        "{}",
        error.message
    );
}
