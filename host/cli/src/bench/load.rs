//! The load case of `qlp bench`: standard-tier intents through the real
//! HTTP server, many clients at once.
//!
//! The case starts `qlp serve` as a child process (this executable, a
//! temporary data directory, an ephemeral loopback port, the first-party
//! plugins under the benchmark's trust policy, one worker per CPU), reads
//! its `qlp listening on URL` line and the admin key it keeps in its data
//! directory, and runs [`WARM_UP`] intents one after another so that every
//! component is compiled and every code path warm. Then `clients` client
//! tasks submit `intents` standard-tier intents between them
//! (`POST /v1/intents`, each description distinct) and follow each to its
//! end ([`Watch`]), one intent per client at a time. What the server
//! spends is read from `/proc`: CPU time (user + system, all threads)
//! before and after the timed intents, and the resident set's high-water
//! mark at the end. The server is then stopped with SIGTERM.
//!
//! Bounded: the timed phase gives up after [`LOAD_TIMEOUT`]; every intent
//! not completed by then, or ended otherwise than `completed`, counts as a
//! failure, and the case fails when there is one. Loopback only.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value, json};

/// How the clients learn that an intent ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Watch {
    /// `GET /v1/intents/{id}` every [`POLL_INTERVAL`].
    Poll,
    /// The intent's event stream, `GET /v1/intents/{id}/events`, read to
    /// its end. The server is started with one stream per client allowed
    /// to the tenant.
    Events,
}

/// What the load case runs.
pub struct LoadOptions {
    pub plugin_dir: PathBuf,
    pub trust: PathBuf,
    /// `--db-sync` of the server: `full` or `normal`.
    pub db_sync: String,
    /// A PostgreSQL URL the server keeps its records in, instead of SQLite.
    pub database: Option<String>,
    /// Timed intents, in all.
    pub intents: usize,
    /// Client tasks submitting at once.
    pub clients: usize,
    pub watch: Watch,
}

/// What one load run measured.
#[derive(Debug, Clone)]
pub struct Figures {
    pub clients: usize,
    pub intents: usize,
    pub completed: usize,
    /// Intents that did not end `completed` (in time, or at all).
    pub failures: usize,
    /// First submission to last completion.
    pub wall: Duration,
    pub p50: Duration,
    pub p95: Duration,
    /// The server's CPU time (user + system) over the timed intents,
    /// divided by the intents.
    pub cpu_per_intent: Duration,
    /// The server's peak resident set (`VmHWM`), in bytes.
    pub peak_rss: u64,
    /// The server's workers.
    pub workers: usize,
}

impl Figures {
    /// Completed intents per second of wall-clock time.
    pub fn throughput(&self) -> f64 {
        self.completed as f64 / self.wall.as_secs_f64().max(1e-9)
    }
}

/// Untimed intents run one at a time before the timed ones: enough for
/// every plugin of the standard tier to be compiled and called.
pub const WARM_UP: usize = 4;

/// How long the timed intents may take in all; what is not completed by
/// then is a failure. Keeps a broken server from holding the benchmark.
pub const LOAD_TIMEOUT: Duration = Duration::from_secs(600);

/// How long `qlp serve` may take to print its listening line: it loads
/// and, with an empty cache, compiles every first-party component first.
const START_TIMEOUT: Duration = Duration::from_secs(300);

/// How often a polling client asks for its intent. An intent under load
/// takes about a second, so this is about a tenth of its latency, and at
/// 64 clients 640 requests a second.
pub const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// Longest a single request may take before the client counts a failure.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// How long the server may take to exit after SIGTERM before it is killed.
/// Nothing runs by then, so its drain is immediate.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// Linux reports a process's CPU times in `/proc/<pid>/stat` in clock
/// ticks of `USER_HZ`, which is 100 on every architecture QLP runs on.
const USER_HZ: f64 = 100.0;

/// Failures whose reason is printed; the others are only counted.
const SHOWN_FAILURES: usize = 5;

/// The `qlp serve` child. Killed if dropped while still running (an error
/// path); [`Server::stop`] is the orderly way.
struct Server {
    child: Child,
    url: String,
    key: String,
}

impl Server {
    fn start(options: &LoadOptions, scratch: &Path, workers: usize) -> anyhow::Result<Self> {
        let data = scratch.join("data");
        let mut command = Command::new(std::env::current_exe()?);
        command
            .arg("serve")
            .arg("--listen=127.0.0.1:0")
            .arg("--data-dir")
            .arg(&data)
            .arg("--cache-dir")
            .arg(scratch.join("cache"))
            .arg("--plugin-dir")
            .arg(&options.plugin_dir)
            .arg("--trust")
            .arg(&options.trust)
            .arg("--builtin-plugins=false")
            .arg(format!("--db-sync={}", options.db_sync))
            .arg(format!("--workers={workers}"))
            .arg("--node-id=bench")
            .args(
                options
                    .database
                    .iter()
                    .map(|url| format!("--database={url}")),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if options.watch == Watch::Events {
            command.arg(format!("--max-streams-per-tenant={}", options.clients));
        }
        if std::env::var_os("QLP_LOG").is_none() {
            command.env("QLP_LOG", "warn");
        }
        let mut child = command.spawn().context("cannot start `qlp serve`")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        // Reads the listening line, then keeps draining stdout so the
        // server never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(url) = line.strip_prefix("qlp listening on ")
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(url.trim().to_owned());
                }
            }
        });
        let mut server = Self {
            child,
            url: String::new(),
            key: String::new(),
        };
        server.url = rx
            .recv_timeout(START_TIMEOUT)
            .context("`qlp serve` did not print its listening line")?;
        let key = std::fs::read_to_string(data.join(qlp_server::auth::ADMIN_KEY_FILE))
            .context("cannot read the server's admin key")?;
        server.key = key.trim().to_owned();
        Ok(server)
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, then waits for the exit.
    fn stop(mut self) -> anyhow::Result<()> {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid().to_string())
            .status()
            .context("cannot run kill")?;
        anyhow::ensure!(status.success(), "kill -TERM {} failed", self.pid());
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                anyhow::ensure!(status.success(), "`qlp serve` exited with {status}");
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        anyhow::bail!("`qlp serve` did not stop within {STOP_TIMEOUT:?} of SIGTERM")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// User plus system CPU time of every thread of `pid` so far.
fn cpu_time(pid: u32) -> anyhow::Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name (field 2) may hold spaces; fields after it are
    // plain. utime and stime are fields 14 and 15, counted from 1.
    let rest = stat.rsplit_once(')').context("malformed stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| -> anyhow::Result<u64> {
        Ok(fields.get(i - 3).context("short stat")?.parse::<u64>()?)
    };
    Ok(Duration::from_secs_f64(
        (ticks(14)? + ticks(15)?) as f64 / USER_HZ,
    ))
}

/// The peak resident set of `pid` (`VmHWM`), in bytes.
fn peak_rss(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .context("no VmHWM")?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse::<u64>()?;
    Ok(kib * 1024)
}

/// A client of the child server.
struct Client {
    http: reqwest::Client,
    url: String,
}

impl Client {
    fn new(server: &Server, clients: usize) -> anyhow::Result<Self> {
        let mut headers = reqwest::header::HeaderMap::new();
        let mut auth = reqwest::header::HeaderValue::from_str(&format!("Bearer {}", server.key))?;
        auth.set_sensitive(true);
        headers.insert(reqwest::header::AUTHORIZATION, auth);
        Ok(Self {
            http: reqwest::Client::builder()
                .default_headers(headers)
                .pool_max_idle_per_host(clients)
                .timeout(REQUEST_TIMEOUT)
                .no_proxy()
                .build()?,
            url: server.url.clone(),
        })
    }

    async fn submit(&self, description: &str) -> anyhow::Result<String> {
        let resp = self
            .http
            .post(format!("{}/v1/intents", self.url))
            .json(&json!({ "description": description, "tier": "standard" }))
            .send()
            .await?;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        anyhow::ensure!(status.is_success(), "submission got {status}: {body}");
        Ok(body["id"].as_str().context("no id")?.to_owned())
    }

    async fn status(&self, id: &str) -> anyhow::Result<Value> {
        let resp = self
            .http
            .get(format!("{}/v1/intents/{id}", self.url))
            .send()
            .await?;
        let status = resp.status();
        anyhow::ensure!(status.is_success(), "GET intent got {status}");
        Ok(resp.json().await?)
    }

    /// Follows `id` until it ends or `deadline`; returns its last record.
    async fn wait(&self, id: &str, watch: Watch, deadline: Instant) -> anyhow::Result<Value> {
        loop {
            anyhow::ensure!(Instant::now() < deadline, "timed out");
            match watch {
                Watch::Poll => tokio::time::sleep(POLL_INTERVAL).await,
                Watch::Events => {
                    // The stream ends once the intent has; a broken one is
                    // opened again after the look below.
                    let resp = self
                        .http
                        .get(format!("{}/v1/intents/{id}/events", self.url))
                        .header("accept", "text/event-stream")
                        .timeout(deadline.saturating_duration_since(Instant::now()))
                        .send()
                        .await?;
                    anyhow::ensure!(resp.status().is_success(), "events got {}", resp.status());
                    let mut resp = resp;
                    while resp.chunk().await?.is_some() {}
                }
            }
            let record = self.status(id).await?;
            let finished = !matches!(record["status"].as_str(), Some("queued" | "running") | None);
            if finished {
                return Ok(record);
            }
        }
    }

    /// Submits one intent and follows it; its latency when it completed.
    async fn one(
        &self,
        description: &str,
        watch: Watch,
        deadline: Instant,
    ) -> anyhow::Result<Duration> {
        let started = Instant::now();
        let id = self.submit(description).await?;
        let record = self.wait(&id, watch, deadline).await?;
        let elapsed = started.elapsed();
        anyhow::ensure!(
            record["status"] == "completed",
            "intent {id} ended {}: {}",
            record["status"],
            record["error"]
        );
        Ok(elapsed)
    }
}

/// Runs the load case (module docs).
pub async fn run(options: &LoadOptions, scratch: &Path) -> anyhow::Result<Figures> {
    anyhow::ensure!(
        options.clients > 0 && options.intents > 0,
        "the load case needs clients and intents"
    );
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let server = tokio::task::block_in_place(|| Server::start(options, scratch, workers))?;
    let client = Arc::new(Client::new(&server, options.clients)?);
    let warm_deadline = Instant::now() + LOAD_TIMEOUT;
    for i in 0..WARM_UP {
        client
            .one(&description("warm-up", i), options.watch, warm_deadline)
            .await
            .context("a warm-up intent failed")?;
    }

    let pid = server.pid();
    // For a profiler to attach to the server for the timed phase only.
    tracing::info!(pid, url = %server.url, "the timed load begins");
    let cpu_before = cpu_time(pid)?;
    let started = Instant::now();
    let deadline = started + LOAD_TIMEOUT;
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..options.clients {
        let (client, next, watch, n) =
            (client.clone(), next.clone(), options.watch, options.intents);
        tasks.spawn(async move {
            let mut latencies = vec![];
            let mut errors = vec![];
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n || Instant::now() >= deadline {
                    break;
                }
                match client.one(&description("load", i), watch, deadline).await {
                    Ok(t) => latencies.push(t),
                    Err(e) => errors.push(format!("{e:#}")),
                }
            }
            (latencies, errors, Instant::now())
        });
    }
    let mut latencies = vec![];
    let mut errors = vec![];
    let mut last = started;
    while let Some(done) = tasks.join_next().await {
        let (l, e, at) = done?;
        latencies.extend(l);
        errors.extend(e);
        last = last.max(at);
    }
    let wall = last - started;
    let cpu = cpu_time(pid)?.saturating_sub(cpu_before);
    tracing::info!(pid, "the timed load ended");
    let rss = peak_rss(pid)?;
    tokio::task::block_in_place(|| server.stop())?;

    let completed = latencies.len();
    let failures = options.intents - completed;
    for e in errors.iter().take(SHOWN_FAILURES) {
        tracing::error!(error = %e, "a load intent failed");
    }
    if failures > errors.len() {
        tracing::error!(
            intents = failures - errors.len(),
            "intents not submitted before the load case timed out"
        );
    }
    latencies.sort();
    let at = |q: f64| {
        latencies
            .get(((latencies.len().max(1) - 1) as f64 * q).round() as usize)
            .copied()
            .unwrap_or_default()
    };
    Ok(Figures {
        clients: options.clients,
        intents: options.intents,
        completed,
        failures,
        wall,
        p50: at(0.5),
        p95: at(0.95),
        cpu_per_intent: cpu / u32::try_from(options.intents).unwrap_or(u32::MAX),
        peak_rss: rss,
        workers,
    })
}

/// A distinct description for each intent, all for the same stack.
fn description(phase: &str, i: usize) -> String {
    format!("Create a FastAPI service for invoices with JWT auth ({phase} {i})")
}
