//! A throwaway PostgreSQL cluster for the tests, started by the test
//! process itself from Debian's server binaries (`deploy/setup.sh`
//! installs `postgresql`): one cluster per test process, listening on a
//! free loopback port, a fresh database per test. A watcher stops the
//! cluster and removes its directory when the test process ends, however
//! it ends.
//!
//! Shared by the store's unit tests (`host/server/src/store/tests.rs` includes
//! this file) and the end-to-end tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub struct Cluster {
    bin: PathBuf,
    port: u16,
    /// Keeps the data directory until the process ends.
    _dir: tempfile::TempDir,
    /// Runs the server's programs as this user when the tests run as root
    /// (PostgreSQL refuses to run as root).
    run_as: Option<String>,
}

/// The directory of PostgreSQL's server programs: the newest installed.
fn bin_dir() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|bin| bin.join("initdb").is_file())
        .collect();
    found.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    found.pop().expect(
        "PostgreSQL's server programs are not installed (/usr/lib/postgresql/*/bin): run deploy/setup.sh",
    )
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl Cluster {
    /// The test process's cluster, started at the first call.
    pub fn get() -> &'static Cluster {
        static CLUSTER: OnceLock<Cluster> = OnceLock::new();
        CLUSTER.get_or_init(Cluster::start)
    }

    /// `program` run as the cluster's user.
    fn as_user(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(program);
                c
            }
            None => Command::new(program),
        }
    }

    /// One of PostgreSQL's programs, run as the cluster's user.
    fn command(&self, program: &str) -> Command {
        self.as_user(self.bin.join(program))
    }

    fn start() -> Cluster {
        let bin = bin_dir();
        let dir = tempfile::Builder::new()
            .prefix("qlp-pg-")
            .tempdir()
            .expect("a temporary directory");
        let root = std::os::unix::fs::MetadataExt::uid(
            &std::fs::metadata("/proc/self").expect("/proc/self"),
        ) == 0;
        let run_as = root.then(|| "postgres".to_owned());
        if run_as.is_some() {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .expect("chown");
            assert!(
                status.success(),
                "cannot give the cluster's directory to postgres"
            );
        }
        let cluster = Cluster {
            bin,
            port: free_port(),
            _dir: dir,
            run_as,
        };
        let data = cluster._dir.path().join("data");
        let out = cluster
            .command("initdb")
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
            .output()
            .expect("initdb");
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        cluster.launch(&data);
        cluster
    }

    /// Starts the server under a shell that stops it once this process is
    /// gone, and waits until it accepts connections.
    fn launch(&self, data: &Path) {
        let postgres = self.bin.join("postgres");
        let log = self._dir.path().join("server.log");
        let script = format!(
            "{postgres} -D {data} -k {socket} -p {port} -c listen_addresses=127.0.0.1 \
             -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
             -c max_connections=400 >{log} 2>&1 & pg=$!; \
             while [ -d /proc/{parent} ] && kill -0 $pg 2>/dev/null; do sleep 0.5; done; \
             kill -INT $pg 2>/dev/null; wait $pg; rm -rf {dir}",
            postgres = postgres.display(),
            data = data.display(),
            socket = self._dir.path().display(),
            port = self.port,
            log = log.display(),
            parent = std::process::id(),
            dir = self._dir.path().display(),
        );
        let mut watcher = self
            .as_user("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start postgres");
        // Reaped should the server stop before the test process does.
        std::thread::spawn(move || watcher.wait());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = self
                .command("pg_isready")
                .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-q"])
                .status()
                .is_ok_and(|s| s.success());
            if ready {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "PostgreSQL did not start within 30 s: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The URL of a new, empty database of this cluster.
    pub fn database(&self) -> String {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!("qlp_test_{}", NEXT.fetch_add(1, Ordering::Relaxed));
        let out = self
            .command("createdb")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
            ])
            .arg(&name)
            .output()
            .expect("createdb");
        assert!(
            out.status.success(),
            "createdb {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }
}
