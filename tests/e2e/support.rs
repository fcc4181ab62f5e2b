//! Starting the real `qlp` binary and talking to it over HTTP.
//!
//! The components the server loads are built once per run by
//! `deploy/dev.sh test` (into `target/plugins` and `target/test-plugins`);
//! `QLP_TEST_PLUGINS` and `QLP_TEST_FIXTURES` point elsewhere. A test fails
//! with that instruction when they are missing rather than passing vacuously.
//!
//! `QLP_TEST_STORE=postgres` runs every server a test starts on PostgreSQL
//! instead of SQLite (a database of the test process's cluster per data
//! directory, so a restarted server finds its records), to hold the second
//! store to the tests the first passes.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How long a server may take to start: the first starts of a run compile
/// every component (a few seconds to twenty each in a debug build, more
/// while other tests compile the same ones), about 35 first-party
/// plugins with the fixtures.
const START_TIMEOUT: Duration = Duration::from_secs(900);

/// How long an intent may take to finish.
pub const INTENT_TIMEOUT: Duration = Duration::from_secs(120);

pub use crate::paths::{fixtures, plugins, target_dir, test_tiers, trust, workspace};

/// The names of the first-party plugins built into [`plugins`], sorted,
/// as their signed manifests give them.
pub fn first_party_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(plugins())
        .expect("the plugin directory")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".manifest.json"))
        .map(|e| {
            let manifest: Value =
                serde_json::from_slice(&std::fs::read(e.path()).expect("a manifest"))
                    .expect("a JSON manifest");
            manifest["name"].as_str().expect("a name").to_owned()
        })
        .collect();
    names.sort();
    names
}

/// The `qlp` binary under test, as a command to add arguments to.
pub fn qlp_command() -> Command {
    Command::new(env!("CARGO_BIN_EXE_qlp"))
}

/// Runs `qlp ARGS` with the variables `env` set, to its end.
pub fn qlp_with(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    qlp_command()
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("qlp runs")
}

/// Runs `qlp ARGS` to its end.
pub fn qlp(args: &[&str]) -> std::process::Output {
    qlp_with(args, &[])
}

/// Runs `qlp ARGS`, which must succeed; returns its standard output.
pub fn qlp_ok(args: &[&str]) -> String {
    let out = qlp(args);
    assert!(
        out.status.success(),
        "qlp {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("qlp writes UTF-8")
}

/// Asks `probe` every `every` until it answers `Some`, and returns that;
/// fails the test naming `what` once `timeout` has passed.
pub async fn eventually<T, F, Fut>(
    what: &str,
    timeout: Duration,
    every: Duration,
    mut probe: F,
) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(Instant::now() < deadline, "{what}: not within {timeout:?}");
        tokio::time::sleep(every).await;
    }
}

/// The first line of the file at `path` (a server's log) that contains
/// `needle`, once there is one; fails the test after `timeout`.
pub async fn log_line(path: &Path, needle: &str, timeout: Duration) -> String {
    eventually(
        &format!("a line with `{needle}` in {}", path.display()),
        timeout,
        Duration::from_millis(100),
        || async {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            text.lines().find(|l| l.contains(needle)).map(str::to_owned)
        },
    )
    .await
}

/// A `qlp serve` that ended before it listened.
#[derive(Debug)]
pub struct NotStarted {
    /// How it ended (`None` when it had to be killed).
    pub status: Option<std::process::ExitStatus>,
    /// Its whole log.
    pub log: String,
}

/// A `qlp serve` process on an ephemeral loopback port.
pub struct Server {
    child: Child,
    pub url: String,
    /// A client presenting [`Server::admin_key`].
    pub http: reqwest::Client,
    /// The key the first start made: every role, tenant `default`.
    pub admin_key: String,
}

/// A client presenting `key` on every request.
pub fn client_with_key(key: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        reqwest::header::HeaderValue::from_str(&format!("Bearer {key}")).expect("a header value"),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("a client")
}

/// The PostgreSQL database a server on `data_dir` keeps its records in when
/// the run asks for that store (`QLP_TEST_STORE=postgres`) and the test
/// names no database itself: one per data directory, made at its first
/// start.
fn postgres_for(data_dir: &Path, args: &[&str]) -> Option<String> {
    use std::collections::HashMap;
    use std::sync::{LazyLock, Mutex};
    static DATABASES: LazyLock<Mutex<HashMap<PathBuf, String>>> = LazyLock::new(Mutex::default);
    if std::env::var("QLP_TEST_STORE").as_deref() != Ok("postgres") || args.contains(&"--database")
    {
        return None;
    }
    let mut databases = DATABASES.lock().unwrap_or_else(|e| e.into_inner());
    let url = databases
        .entry(data_dir.to_owned())
        .or_insert_with(|| crate::postgres::Cluster::get().database());
    Some(url.clone())
}

impl Server {
    /// Starts the server on `data_dir` with `args` after the common ones.
    pub fn start(data_dir: &Path, args: &[&str]) -> Self {
        Self::start_env(data_dir, args, &[])
    }

    /// Starts the server on `data_dir` with `args` after the common ones
    /// and `env` added to its environment.
    pub fn start_env(data_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Self {
        match Self::try_start_env(data_dir, args, env) {
            Ok(server) => server,
            Err(NotStarted { status, log }) => {
                panic!("qlp did not start (exit: {status:?}); its log:\n{log}")
            }
        }
    }

    /// `start_env`, for a start that may end before the server listens:
    /// a crash point armed through `QLP_FAULTS` can be reached while the
    /// server resumes its queue, before it prints its address.
    pub fn try_start_env(
        data_dir: &Path,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Result<Self, NotStarted> {
        let cache = target_dir().join("qlp-test-cache");
        let database = postgres_for(data_dir, args);
        let mut child = qlp_command()
            .envs(env.iter().copied())
            .args(["--log-format", "json", "serve", "--listen", "127.0.0.1:0"])
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--cache-dir")
            .arg(&cache)
            // A test giving its own trust policy replaces the default.
            .args(if args.contains(&"--trust") {
                vec![]
            } else {
                vec!["--trust".into(), trust()]
            })
            // The plugins a test serves are the ones it names; a binary
            // built with plugins inside serves them only where a test asks.
            .args(if args.iter().any(|a| a.starts_with("--builtin-plugins")) {
                None
            } else {
                Some("--builtin-plugins=false")
            })
            // A stopping server gives its running intents this long.
            .args(if args.iter().any(|a| a.starts_with("--drain-grace")) {
                None
            } else {
                Some("--drain-grace=2s")
            })
            .args(database.iter().flat_map(|url| ["--database", url.as_str()]))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start qlp");

        // The server prints its address on stdout once it is listening.
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("qlp listening on ") {
                    let _ = tx.send(url.trim().to_owned());
                }
            }
        });
        let stderr = child.stderr.take().expect("piped stderr");
        let log_path = data_dir.join("server.log");
        std::fs::create_dir_all(data_dir).expect("data dir");
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .expect("server log");
        // Drains the server's log even when the copy cannot be written
        // (a test that fills the disk), so the server never blocks on it.
        let copier = std::thread::spawn(move || {
            use std::io::{Read, Write};
            let mut stderr = stderr;
            let mut buf = [0u8; 8192];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let _ = log.write_all(&buf[..n]);
            }
        });

        let url = match rx.recv_timeout(START_TIMEOUT) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                let status = child.wait().ok();
                // The whole log, its last lines (the reason) included.
                let _ = copier.join();
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                return Err(NotStarted { status, log });
            }
        };
        let admin_key = std::fs::read_to_string(data_dir.join("admin.key"))
            .expect("the first start keeps an admin key in the data directory")
            .trim()
            .to_owned();
        Ok(Self {
            child,
            url,
            http: client_with_key(&admin_key),
            admin_key,
        })
    }

    /// Starts the server with the first-party plugins and shipped tiers.
    pub fn start_default(data_dir: &Path) -> Self {
        Self::start_default_with(data_dir, &[])
    }

    /// `start_default` with `args` after the common ones.
    pub fn start_default_with(data_dir: &Path, args: &[&str]) -> Self {
        let plugins = plugins();
        let mut all = vec!["--plugin-dir", plugins.to_str().expect("utf-8 path")];
        all.extend_from_slice(args);
        Self::start(data_dir, &all)
    }

    /// Starts the server with the fixtures too, on the test tiers.
    pub fn start_with_fixtures(data_dir: &Path) -> Self {
        let tiers = test_tiers();
        Self::start_with_fixtures_on(data_dir, &tiers, &[])
    }

    /// Starts the server with the fixtures too, on the tiers file `tiers`,
    /// with `args` after the common ones.
    pub fn start_with_fixtures_on(data_dir: &Path, tiers: &Path, args: &[&str]) -> Self {
        let dirs = format!("{}:{}", plugins().display(), fixtures().display());
        let mut all = vec![
            "--plugin-dir",
            &dirs,
            "--tiers",
            tiers.to_str().expect("utf-8 path"),
        ];
        all.extend_from_slice(args);
        Self::start(data_dir, &all)
    }

    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(self.endpoint(path))
            .send()
            .await
            .expect("GET")
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.expect("JSON body")
    }

    pub async fn get_bytes(&self, path: &str) -> Vec<u8> {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.bytes().await.expect("body").to_vec()
    }

    /// Submits an intent and returns its id.
    pub async fn submit(&self, body: Value) -> String {
        let response = self
            .http
            .post(self.endpoint("/v1/intents"))
            .json(&body)
            .send()
            .await
            .expect("POST");
        assert_eq!(response.status(), 202, "POST /v1/intents {body}");
        let body: Value = response.json().await.expect("JSON body");
        body["id"].as_str().expect("an id").to_owned()
    }

    /// Polls the intent until it reaches a final status and returns it.
    pub async fn wait(&self, id: &str) -> Value {
        self.wait_until(id, |intent| {
            matches!(
                intent["status"].as_str(),
                Some("completed" | "gate_failed" | "failed" | "rejected" | "cancelled")
            )
        })
        .await
    }

    /// Polls the intent until `done` holds for it and returns it.
    pub async fn wait_until(&self, id: &str, done: impl Fn(&Value) -> bool) -> Value {
        self.wait_until_as(&self.admin_key, id, done).await
    }

    /// `wait_until`, reading the intent with `key`.
    pub async fn wait_until_as(&self, key: &str, id: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + INTENT_TIMEOUT;
        loop {
            let (status, intent) = self.get_as(key, &format!("/v1/intents/{id}")).await;
            assert_eq!(status, 200, "GET /v1/intents/{id}");
            if done(&intent) {
                return intent;
            }
            assert!(
                Instant::now() < deadline,
                "intent {id} did not get there: {intent:#}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// POSTs a JSON body; returns the status and the JSON answer.
    pub async fn post_json(&self, path: &str, body: Value) -> (u16, Value) {
        self.post_json_as(&self.admin_key, path, body).await
    }

    /// `post_json` presenting `key` instead of the admin key.
    pub async fn post_json_as(&self, key: &str, path: &str, body: Value) -> (u16, Value) {
        let response = client_with_key(key)
            .post(self.endpoint(path))
            .json(&body)
            .send()
            .await
            .expect("POST");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// A GET presenting `key`: the status and the JSON body (null if none).
    pub async fn get_as(&self, key: &str, path: &str) -> (u16, Value) {
        let response = client_with_key(key)
            .get(self.endpoint(path))
            .send()
            .await
            .expect("GET");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Makes a tenant through the admin API (an existing one is kept).
    pub async fn create_tenant(&self, id: &str) {
        let (status, body) = self.post_json("/v1/tenants", json!({ "id": id })).await;
        assert!(
            status == 201 || status == 409,
            "POST /v1/tenants: {status} {body}"
        );
    }

    /// Makes a key of `tenant` with `roles` through the admin API; returns
    /// its id and the key.
    pub async fn create_key(&self, tenant: &str, roles: &[&str]) -> (String, String) {
        let (status, body) = self
            .post_json(
                "/v1/keys",
                json!({ "tenant": tenant, "name": roles.join("+"), "roles": roles }),
            )
            .await;
        assert_eq!(status, 201, "POST /v1/keys: {body}");
        (
            body["id"].as_str().expect("an id").to_owned(),
            body["key"].as_str().expect("a key").to_owned(),
        )
    }

    /// Sends the server a signal, e.g. `HUP`.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill");
        assert!(status.success(), "kill -{name} failed");
    }

    /// Kills the server with SIGKILL: no shutdown code runs.
    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }

    /// Waits for the server to exit by itself (an armed crash point), up to
    /// `timeout`; returns whether it did.
    pub fn exited_within(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Stops the server with SIGTERM and waits for it to exit.
    pub fn stop(mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                assert!(status.success(), "qlp exited with {status} on SIGTERM");
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("qlp did not stop within 30 s of SIGTERM");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Every stage record of an intent named `name`, in order.
pub fn stages<'a>(intent: &'a Value, name: &str) -> Vec<&'a Value> {
    intent["stages"]
        .as_array()
        .map(|stages| stages.iter().filter(|s| s["stage"] == name).collect())
        .unwrap_or_default()
}

/// The stage records of an intent, by stage name.
pub fn stage<'a>(intent: &'a Value, name: &str) -> &'a Value {
    intent["stages"]
        .as_array()
        .and_then(|stages| stages.iter().find(|s| s["stage"] == name))
        .unwrap_or_else(|| panic!("intent has no `{name}` stage: {intent:#}"))
}

/// Who wrote `path` of a capsule, as its manifest says.
pub fn author(capsule: &Value, path: &str) -> Option<Value> {
    capsule["manifest"]["files"]
        .as_array()?
        .iter()
        .find(|f| f["path"] == path)
        .map(|f| f["author"].clone())
}

/// A server of `tests/servers` (or any program printing
/// `listening on URL` as its first line) run on loopback for one test, and
/// killed when dropped.
pub struct Loopback {
    child: Child,
    /// The URL it listens on.
    pub url: String,
    /// Its later stdout lines.
    pub lines: mpsc::Receiver<String>,
}

impl Loopback {
    /// Starts `program` with `args` and waits (up to the start timeout)
    /// for its `listening on URL` line.
    pub fn start(program: &str, args: &[&str]) -> Self {
        Self::start_in(program, args, None, &[])
    }

    /// [`Loopback::start`] in the directory `cwd`, with `env` added.
    pub fn start_in(
        program: &str,
        args: &[&str],
        cwd: Option<&Path>,
        env: &[(&str, &str)],
    ) -> Self {
        let mut command = Command::new(program);
        if let Some(dir) = cwd {
            command.current_dir(dir);
        }
        let mut child = command
            .envs(env.iter().copied())
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
        let stdout = child.stdout.take().expect("piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // The first line saying `listening on URL`; a program may print
        // others before it.
        let deadline = Instant::now() + START_TIMEOUT;
        let url = loop {
            let line = rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .unwrap_or_else(|_| panic!("{program} {args:?} did not say where it listens"));
            if let Some((_, url)) = line.split_once("listening on ") {
                break url.trim().to_owned();
            }
        };
        Self {
            child,
            url,
            lines: rx,
        }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.url
            .rsplit(':')
            .next()
            .and_then(|p| p.trim_end_matches('/').parse().ok())
            .expect("a URL with a port")
    }

    /// The lines it printed so far.
    pub fn printed(&self) -> Vec<String> {
        self.lines.try_iter().collect()
    }
}

impl Drop for Loopback {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A file of `tests/`.
pub fn test_file(path: &str) -> PathBuf {
    workspace().join("tests").join(path)
}

/// Runs `python3 script` with `input` on its stdin; its stdout, after
/// asserting it succeeded (its stderr in the message otherwise).
pub fn python(script: &Path, input: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("the input is written");
    let out = child.wait_with_output().expect("python3 ends");
    assert!(
        out.status.success(),
        "{} failed: {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}
