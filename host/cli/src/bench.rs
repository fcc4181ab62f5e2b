//! `qlp bench`: what isolation costs, measured.
//!
//! Method. Every figure is the median of `iterations` timed repetitions,
//! after `iterations / 10` untimed ones that warm caches and the pooling
//! allocator's slots. All cases run in one process, one after another, on
//! the same input: a capsule view of one small file, the smallest validator
//! (`fixture/noop`: no findings, score 100), and for the pipeline case the
//! shipped standard tier. Times are wall-clock (`Instant`), one call at a
//! time, so they include what a caller waits for and nothing else.
//!
//! Cases:
//! - `fresh`: the path every intent takes: a new store with its memory
//!   limiter and epoch deadline, a new instance from the `InstancePre`,
//!   one `validate` call, result lifted and size-checked.
//! - `fresh, fuel metered`: the same on an engine that meters fuel.
//! - `fresh, on-demand allocator`: the same without the pooling allocator.
//! - `dirty pages reset in place`: the pooling allocator finding the pages
//!   an instance wrote with Linux's `PAGEMAP_SCAN` and copying or zeroing
//!   them back (the default, [`qlp_runtime::KEEP_RESIDENT`] bytes at
//!   most), against giving every page back with `madvise` and against
//!   resetting the lowest bytes with memset whether touched or not.
//! - `reused instance`: one instance, `validate` called again and again;
//!   what a fresh instance per call is compared against.
//! - `generate`: each stack agent (FastAPI, Go, Node, React, Rust, static
//!   site) generating the project of a typical intent of its stack, in a
//!   fresh instance per call: what one agent stage costs before the host
//!   stores anything.
//! - `standard pipeline`: a whole intent on the standard tier in process,
//!   SQLite writes included (the template agent's generation takes about
//!   a millisecond of it), with every commit synced (the default) and
//!   with commits synced at checkpoints only (`--db-sync normal`).
//! - `enterprise-tier check`: a project (`--check-dir`, about 5,800 lines
//!   of Rust, TypeScript and Java by default) checked as
//!   `POST /v1/checks` does, under the shipped enterprise tier: every
//!   analyzer and validator of the tier and the gate, SQLite writes
//!   included; `--pipeline-iterations` runs.
//! - `load through the HTTP server`: standard-tier intents submitted by
//!   `--load-clients` clients at once to a `qlp serve` child process over
//!   loopback, `--load-intents` in all, the server's database synced as
//!   `--db-sync` says. Reports throughput, latency percentiles, the
//!   server's CPU time per intent and its peak RSS instead of a median
//!   (method in [`load`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;

use qlp_contract::model::{CapsuleView, File, GenerationRequest, Intent, IntentKind, PluginKind};
use qlp_runtime::{CallContext, CallLimits, Plugin, Runtime, RuntimeOptions};

pub mod load;

/// The start of the load case's name, what `--only load` selects.
pub const LOAD_CASE: &str = "load through the HTTP server";

/// One measured case.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    pub iterations: usize,
    pub median: Duration,
    pub p90: Duration,
    /// The load case's figures, which replace the median.
    pub load: Option<load::Figures>,
}

impl Case {
    /// Intents of a load case that did not complete.
    pub fn failures(&self) -> usize {
        self.load.as_ref().map_or(0, |l| l.failures)
    }
}

fn summarize(name: &str, mut times: Vec<Duration>) -> Case {
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    Case {
        name: name.to_owned(),
        iterations: times.len(),
        median: at(0.5),
        p90: at(0.9),
        load: None,
    }
}

/// The intent of the runtime cases.
fn bench_intent(description: &str) -> Intent {
    Intent {
        id: "bench".into(),
        description: description.into(),
        requirements: vec![],
        constraints: vec![],
        tier: "standard".into(),
        kind: IntentKind::Generate,
    }
}

fn view() -> Arc<CapsuleView> {
    let file = File {
        path: "app/main.py".into(),
        content: b"print('hello')\n".to_vec(),
    };
    let intent = bench_intent("A FastAPI service for invoices");
    Arc::new(CapsuleView::project(intent, vec![file]))
}

fn load(runtime: &Runtime, component: &Path, kind: PluginKind) -> anyhow::Result<Plugin> {
    let bytes =
        std::fs::read(component).with_context(|| format!("cannot read {}", component.display()))?;
    let plugin = runtime.load(&bytes)?;
    anyhow::ensure!(
        plugin.info.kind == kind,
        "{} is not {}",
        component.display(),
        kind.as_str()
    );
    Ok(plugin)
}

/// The stack agents the generation cases time, each with a typical
/// intent of its stack.
const STACK_AGENTS: [(&str, &str); 7] = [
    (
        "qlp_plugin_template_fastapi",
        "Create a FastAPI service for invoices with JWT auth and PostgreSQL",
    ),
    (
        "qlp_plugin_template_go",
        "Create a Go REST API for warehouse inventory with PostgreSQL",
    ),
    (
        "qlp_plugin_template_node",
        "Create a Node.js Express service in TypeScript for customer orders with JWT auth",
    ),
    (
        "qlp_plugin_template_react",
        "Build a React dashboard to track sales orders and customers",
    ),
    (
        "qlp_plugin_template_rust",
        "A Rust axum service for library books with PostgreSQL",
    ),
    (
        "qlp_plugin_template_static",
        "A static landing page for a bakery with opening hours and a contact form",
    ),
    (
        "qlp_plugin_template_java",
        "A Java Spring Boot service for hotel reservations and guests with JWT auth",
    ),
];

/// The start of the generation cases' names, what `--only generate`
/// selects.
pub const GENERATE_CASE: &str = "generate";

/// Timed generations of `description` by `plugin`, each in a fresh
/// instance, and the number of files one writes.
fn generations(
    runtime: &Runtime,
    plugin: &Plugin,
    description: &str,
    iterations: usize,
) -> anyhow::Result<(Vec<Duration>, usize)> {
    let request = GenerationRequest {
        project: Arc::new(CapsuleView::project(bench_intent(description), vec![])),
        findings: vec![],
        iteration: 0,
        role: String::new(),
    };
    let limits = CallLimits::for_kind(PluginKind::Agent);
    let mut times = Vec::with_capacity(iterations);
    let mut written = 0;
    for i in 0..iterations + iterations / 10 {
        let started = Instant::now();
        let (r, _) = runtime.generate(plugin, limits, CallContext::default(), &request);
        let elapsed = started.elapsed();
        written = r?.len();
        if i >= iterations / 10 {
            times.push(elapsed);
        }
    }
    Ok((times, written))
}

fn fresh_calls(
    runtime: &Runtime,
    plugin: &Plugin,
    iterations: usize,
) -> anyhow::Result<Vec<Duration>> {
    let view = view();
    let limits = CallLimits::for_kind(PluginKind::Validator);
    let mut times = Vec::with_capacity(iterations);
    for i in 0..iterations + iterations / 10 {
        let started = Instant::now();
        let (r, _) = runtime.validate(plugin, limits, CallContext::default(), &view);
        let elapsed = started.elapsed();
        r?;
        if i >= iterations / 10 {
            times.push(elapsed);
        }
    }
    Ok(times)
}

/// The name of the case that checks a project under the enterprise tier.
pub const CHECK_CASE: &str = "enterprise-tier check: every analyzer, validator and the gate";

/// What a pipeline case runs.
enum Work {
    /// The standard tier's intent for a FastAPI service.
    Intent,
    /// A check of `files` (the upload's JSON) under `tier`.
    Check {
        tier: &'static str,
        files: serde_json::Value,
    },
}

/// What `qlp bench` needs.
pub struct Options {
    /// The trivial validator's component.
    pub validator: PathBuf,
    /// The first-party components, for the pipeline case.
    pub plugin_dir: PathBuf,
    pub iterations: usize,
    pub pipeline_iterations: usize,
    /// The trust policy the pipeline case loads plugins under.
    pub trust: PathBuf,
    /// Only the cases whose name contains this.
    pub only: Option<String>,
    /// The project the check case uploads.
    pub check_dir: PathBuf,
    /// Timed intents of the load case.
    pub load_intents: usize,
    /// Clients submitting at once in the load case.
    pub load_clients: usize,
    /// How the load case's clients follow their intents.
    pub load_watch: load::Watch,
    /// `--db-sync` of the load case's server: `full` or `normal`.
    pub db_sync: String,
    /// The load case's PostgreSQL database, instead of SQLite.
    pub load_database: Option<String>,
}

/// Runs every case, or those [`Options::only`] selects.
pub async fn run(options: &Options) -> anyhow::Result<Vec<Case>> {
    let wanted = |name: &str| {
        options
            .only
            .as_ref()
            .is_none_or(|o| name.contains(o.as_str()))
    };
    let scratch = tempfile::tempdir()?;
    let mut cases = vec![];
    let n = options.iterations;
    let pooled = |keep_resident, pagemap_scan| RuntimeOptions {
        keep_resident,
        pagemap_scan,
        ..RuntimeOptions::default()
    };
    for (name, runtime_options) in [
        (
            "fresh instance + call (limits, epoch deadline, pooling, dirty pages reset in place)",
            RuntimeOptions::default(),
        ),
        (
            "fresh instance + call, fuel metered",
            RuntimeOptions {
                fuel: true,
                ..RuntimeOptions::default()
            },
        ),
        (
            "fresh instance + call, on-demand allocator",
            RuntimeOptions {
                on_demand: true,
                ..RuntimeOptions::default()
            },
        ),
        (
            "fresh instance + call, pooling, every page given back with madvise",
            pooled(0, false),
        ),
        (
            "fresh instance + call, pooling, lowest 1 MiB reset with memset",
            pooled(1 << 20, false),
        ),
        (
            "fresh instance + call, dirty pages reset in place up to 64 KiB",
            pooled(64 << 10, true),
        ),
        (
            "fresh instance + call, dirty pages reset in place up to 1 MiB",
            pooled(1 << 20, true),
        ),
    ] {
        if !wanted(name) {
            continue;
        }
        let runtime = Runtime::with_options(scratch.path().join("cache"), runtime_options)?;
        let plugin = load(&runtime, &options.validator, PluginKind::Validator)?;
        cases.push(summarize(name, fresh_calls(&runtime, &plugin, n)?));
    }

    let name = "call on a reused instance";
    if wanted(name) {
        let runtime = Runtime::new(scratch.path().join("cache"))?;
        let plugin = load(&runtime, &options.validator, PluginKind::Validator)?;
        let mut times = runtime.bench_reused_instance(&plugin, &view(), n + n / 10)?;
        times.drain(..n / 10);
        cases.push(summarize(name, times));
    }
    if wanted(GENERATE_CASE) {
        let runtime = Runtime::new(scratch.path().join("cache"))?;
        for (stem, description) in STACK_AGENTS {
            let component = options.plugin_dir.join(format!("{stem}.wasm"));
            let plugin = load(&runtime, &component, PluginKind::Agent)?;
            let (times, files) = generations(&runtime, &plugin, description, (n / 50).max(20))?;
            let name = format!(
                "{GENERATE_CASE}: {} in a fresh instance, {files} files (\"{description}\")",
                plugin.info.name
            );
            cases.push(summarize(&name, times));
        }
    }
    for (name, sync) in [
        ("standard-tier pipeline, in process", "full"),
        (
            "standard-tier pipeline, commits synced at checkpoints only",
            "normal",
        ),
    ] {
        if wanted(name) {
            let data = scratch.path().join(sync);
            cases.push(summarize(
                name,
                pipeline(options, &data, sync, &Work::Intent).await?,
            ));
        }
    }
    if wanted(CHECK_CASE) {
        let dir = options.check_dir.clone();
        let unpacked = tokio::task::spawn_blocking(move || {
            qlp_server::upload::pack_dir(&dir)
                .map_err(anyhow::Error::from)
                .and_then(|a| qlp_server::upload::unpack(&a).map_err(anyhow::Error::from))
        })
        .await??;
        let lines: usize = unpacked
            .files
            .iter()
            .map(|f| f.content.iter().filter(|&&b| b == b'\n').count())
            .sum();
        let work = Work::Check {
            tier: "enterprise",
            files: serde_json::to_value(&unpacked.files)?,
        };
        let data = scratch.path().join("check");
        let times = pipeline(options, &data, "full", &work).await?;
        let name = format!(
            "{CHECK_CASE} ({} files, {lines} lines of {})",
            unpacked.files.len(),
            options.check_dir.display()
        );
        cases.push(summarize(&name, times));
    }
    let name = match &options.load_database {
        None => format!(
            "{LOAD_CASE}, {} clients, SQLite --db-sync {}",
            options.load_clients, options.db_sync
        ),
        Some(_) => format!("{LOAD_CASE}, {} clients, PostgreSQL", options.load_clients),
    };
    if wanted(&name) {
        let load = load::LoadOptions {
            plugin_dir: options.plugin_dir.clone(),
            trust: options.trust.clone(),
            db_sync: options.db_sync.clone(),
            database: options.load_database.clone(),
            intents: options.load_intents,
            clients: options.load_clients,
            watch: options.load_watch,
        };
        let figures = load::run(&load, &scratch.path().join("load")).await?;
        cases.push(Case {
            name,
            iterations: figures.intents,
            median: figures.p50,
            p90: figures.p95,
            load: Some(figures),
        });
    }
    anyhow::ensure!(!cases.is_empty(), "no case matches {:?}", options.only);
    Ok(cases)
}

/// Standard-tier intents run one after another in process, on a database
/// that syncs commits as `db_sync` says.
async fn pipeline(
    options: &Options,
    scratch: &Path,
    db_sync: &str,
    work: &Work,
) -> anyhow::Result<Vec<Duration>> {
    let serve = qlp_server::server::ServeOptions::from_args([
        std::ffi::OsStr::new("--listen"),
        "127.0.0.1:0".as_ref(),
        "--data-dir".as_ref(),
        scratch.join("data").as_os_str(),
        "--plugin-dir".as_ref(),
        options.plugin_dir.as_os_str(),
        // The benchmark runs each intent itself, with no worker racing it.
        "--workers".as_ref(),
        "0".as_ref(),
        "--node-id".as_ref(),
        "bench".as_ref(),
        "--cache-dir".as_ref(),
        scratch.join("cache").as_os_str(),
        "--trust".as_ref(),
        options.trust.as_os_str(),
        "--db-sync".as_ref(),
        db_sync.as_ref(),
        "--watch-every".as_ref(),
        "0s".as_ref(),
        "--builtin-plugins".as_ref(),
        "false".as_ref(),
    ])?;
    let (state, pipeline) = qlp_server::server::build(&serve).await?;
    let n = options.pipeline_iterations;
    let mut times = vec![];
    for i in 0..n + n / 10 {
        let actor = qlp_server::store::Actor::server(qlp_server::auth::DEFAULT_TENANT);
        let intent = match work {
            Work::Intent => {
                let intent = Intent {
                    id: uuid::Uuid::new_v4().to_string(),
                    description: "Create a FastAPI service for invoices with JWT auth".into(),
                    requirements: vec![],
                    constraints: vec![],
                    tier: "standard".into(),
                    kind: Default::default(),
                };
                state.store.insert_intent(&intent, &actor).await?;
                intent
            }
            Work::Check { tier, files } => {
                let intent = Intent {
                    id: uuid::Uuid::new_v4().to_string(),
                    description: "Check of the benchmark project".into(),
                    requirements: vec![],
                    constraints: vec![],
                    tier: (*tier).into(),
                    kind: qlp_contract::model::IntentKind::Check,
                };
                state
                    .store
                    .insert_check(&intent, &actor, files, None)
                    .await?;
                intent
            }
        };
        let id = intent.id.clone();
        let started = Instant::now();
        let claimed = state
            .store
            .claim("bench", qlp_server::pipeline::LEASE)
            .await?
            .context("the intent was not claimable")?;
        pipeline
            .run(claimed, "bench", std::sync::Arc::default())
            .await;
        let elapsed = started.elapsed();
        let record = state
            .store
            .get_intent(&id)
            .await?
            .context("the intent vanished")?;
        anyhow::ensure!(
            matches!(
                record.status,
                qlp_server::store::IntentStatus::Completed
                    | qlp_server::store::IntentStatus::GateFailed
            ),
            "the benchmark intent did not complete: {:?}",
            record.error
        );
        if i >= n / 10 {
            times.push(elapsed);
        }
    }
    Ok(times)
}

/// The cases as a Markdown table, with each median's ratio to the first;
/// load cases in a second table of their own figures.
pub fn table(cases: &[Case]) -> String {
    let (loads, timed): (Vec<&Case>, Vec<&Case>) = cases.iter().partition(|c| c.load.is_some());
    let mut out = String::new();
    if let Some(first) = timed.first() {
        let base = first.median.as_secs_f64();
        out.push_str(
            "| case | iterations | median | p90 | median / first |\n|---|---:|---:|---:|---:|\n",
        );
        for c in &timed {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {:.2} |\n",
                c.name,
                c.iterations,
                human(c.median),
                human(c.p90),
                c.median.as_secs_f64() / base
            ));
        }
    }
    if !loads.is_empty() {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(
            "| case | workers | intents | completed / s | p50 | p95 | server CPU / intent | server peak RSS | failures |\n\
             |---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
        );
        for c in loads {
            let Some(l) = &c.load else { continue };
            out.push_str(&format!(
                "| {} | {} | {} | {:.1} | {} | {} | {} | {:.1} MiB | {} |\n",
                c.name,
                l.workers,
                l.intents,
                l.throughput(),
                human(l.p50),
                human(l.p95),
                human(l.cpu_per_intent),
                l.peak_rss as f64 / f64::from(1 << 20),
                l.failures
            ));
        }
    }
    out
}

fn human(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1000.0 {
        format!("{us:.1} µs")
    } else {
        format!("{:.2} ms", us / 1000.0)
    }
}
