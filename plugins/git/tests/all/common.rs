//! Helpers: the real git, the loopback smart-HTTP server and artifacts.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Cursor, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use qlp_sdk::delivery::{Artifact, DeliveryTarget};

const GIT_HINT: &str =
    "install git with git-http-backend (run deploy/setup.sh, or `apt-get install git`)";
const PYTHON_HINT: &str = "install python3 (run deploy/setup.sh)";

/// How long the server may take to say where it listens.
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// Whether `command` runs and succeeds; when it does not, panics under CI
/// and says SKIPPED elsewhere.
fn available(mut command: Command, what: &str, hint: &str) -> bool {
    let ok = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none_or(|v| v.is_empty()),
            "{what} is missing under CI: {hint}"
        );
        // Straight to the process's stderr: the test harness would swallow
        // an eprintln! of a passing test.
        let _ = writeln!(std::io::stderr(), "SKIPPED: {what} is missing: {hint}");
    }
    ok
}

/// Whether git (and, for the server, git-http-backend and python3) run.
pub fn git_available(with_server: bool) -> bool {
    let mut git = Command::new("git");
    git.arg("--version");
    if !available(git, "git", GIT_HINT) {
        return false;
    }
    if !with_server {
        return true;
    }
    let mut backend = Command::new("sh");
    backend.args(["-c", "test -x \"$(git --exec-path)/git-http-backend\""]);
    let mut python = Command::new("python3");
    python.arg("--version");
    available(backend, "git-http-backend", GIT_HINT) && available(python, "python3", PYTHON_HINT)
}

/// Runs git in `dir` with a fixed identity and no user configuration;
/// panics unless it succeeds; returns stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    git_with(dir, args, &[], None)
}

/// [`git`] with extra environment and standard input.
pub fn git_with(dir: &Path, args: &[&str], env: &[(&str, &str)], stdin: Option<&[u8]>) -> String {
    let mut command = Command::new("git");
    command
        .current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_AUTHOR_NAME", "Someone")
        .env("GIT_AUTHOR_EMAIL", "someone@example.com")
        .env("GIT_COMMITTER_NAME", "Someone")
        .env("GIT_COMMITTER_EMAIL", "someone@example.com")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("git runs");
    let mut input = child.stdin.take().expect("stdin");
    let data = stdin.map(<[u8]>::to_vec).unwrap_or_default();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let output = child.wait_with_output().expect("git runs");
    writer.join().expect("stdin written");
    assert!(
        output.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

/// A bare repository `name` under `root`, with `main` as its HEAD.
pub fn bare_repository(root: &Path, name: &str) -> PathBuf {
    let path = root.join(name);
    git(
        root,
        &["init", "-q", "--bare", "--initial-branch=main", name],
    );
    path
}

/// `tests/servers/git_http_server.py` on a free loopback port, stopped
/// (SIGTERM, then kill) when dropped.
pub struct Server {
    child: Child,
    pub base: String,
}

impl Server {
    /// Serves the repositories under `root`; with `auth`, only to those
    /// HTTP Basic credentials.
    pub fn start(root: &Path, auth: Option<(&str, &str)>) -> Server {
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/servers/git_http_server.py");
        let mut command = Command::new("python3");
        command
            .arg(script)
            .arg("--root")
            .arg(root)
            .args(["--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some((user, password)) = auth {
            command.args(["--user", user, "--password", password]);
        }
        let mut child = command.spawn().expect("python3 runs");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = match rx.recv_timeout(START_TIMEOUT) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the git server did not start within {START_TIMEOUT:?}");
            }
        };
        let base = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        Server { child, base }
    }

    /// The URL of repository `name`.
    pub fn url(&self, name: &str) -> String {
        format!("{}/{name}", self.base)
    }
}

impl Server {
    /// Sends SIGTERM and waits up to 5 s: its exit status, or `None` if it
    /// had to be killed.
    pub fn terminate(&mut self) -> Option<std::process::ExitStatus> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.terminate();
        }
    }
}

/// Files of a test capsule: path, bytes, executable.
pub type Files = Vec<(String, Vec<u8>, bool)>;

/// A capsule with nested directories, an executable, binary content and
/// names that exercise git's tree order.
pub fn capsule(variant: &str) -> Files {
    vec![
        (
            "README.md".into(),
            format!("# {variant}\n").into_bytes(),
            false,
        ),
        ("app/main.py".into(), b"print('hi')\n".to_vec(), false),
        (
            "app.txt".into(),
            b"a file beside the directory\n".to_vec(),
            false,
        ),
        ("app-b/x".into(), b"x\n".to_vec(), false),
        ("bin/run.sh".into(), b"#!/bin/sh\necho run\n".to_vec(), true),
        (
            "data/blob.bin".into(),
            (0..=255u8).cycle().take(5000).collect(),
            false,
        ),
        ("empty".into(), Vec::new(), false),
    ]
}

/// A .tar.gz of the files under `root/` (when given), as the tar-gz
/// exporter would write it.
pub fn tar_gz(files: &Files, root: Option<&str>) -> Artifact {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut builder = tar::Builder::new(gz);
    for (path, content, executable) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(if *executable { 0o755 } else { 0o644 });
        let path = match root {
            Some(root) => format!("{root}/{path}"),
            None => path.clone(),
        };
        builder
            .append_data(&mut header, path, content.as_slice())
            .expect("tar entry");
    }
    Artifact {
        media_type: "application/gzip".into(),
        file_name: "capsule.tar.gz".into(),
        bytes: builder.into_inner().unwrap().finish().unwrap(),
    }
}

/// A .zip of the files at its root.
pub fn zip(files: &Files) -> Artifact {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (path, content, executable) in files {
        let options = zip::write::SimpleFileOptions::default().unix_permissions(if *executable {
            0o755
        } else {
            0o644
        });
        writer
            .start_file(path.as_str(), options)
            .expect("zip entry");
        writer.write_all(content).expect("zip entry");
    }
    Artifact {
        media_type: "application/zip".into(),
        file_name: "capsule.zip".into(),
        bytes: writer.finish().unwrap().into_inner(),
    }
}

/// A delivery target with the host's options for `key`.
pub fn target(url: &str, key: &str, options: &[(&str, &str)]) -> DeliveryTarget {
    let mut all = vec![
        ("qlp.delivery-key".to_string(), key.to_string()),
        (
            "qlp.artifact-blake3".to_string(),
            blake3::hash(key.as_bytes()).to_hex().to_string(),
        ),
        ("qlp.created-at".to_string(), "1700000000".to_string()),
    ];
    all.extend(options.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    DeliveryTarget {
        destination: url.into(),
        options: all,
    }
}

/// Every file of a checkout but `.git`, by `/`-separated path.
pub fn checkout_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).expect("a directory") {
            let path = entry.expect("an entry").path();
            if path.file_name().is_some_and(|n| n == ".git") {
                continue;
            }
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                let relative = path
                    .strip_prefix(base)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(relative, std::fs::read(&path).expect("readable"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}
