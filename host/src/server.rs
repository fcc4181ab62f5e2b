//! Start-up of `qlp serve`: open the data directory, import plugins into the
//! registry, load them, check the tiers against them, queue unfinished
//! intents again, and serve the API until SIGINT or SIGTERM.
//!
//! Data directory layout: `qlp.db` (SQLite), `registry/` (plugin blobs and
//! index), `cache/` (compiled components), `capsules/`, and whatever
//! directories the tiers file grants to plugins.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;

use crate::api::{self, AppState};
use crate::capsule::CapsuleDirs;
use crate::packages;
use crate::pipeline::{Dispatcher, Pipeline, Plugins};
use crate::runtime::{Runtime, RuntimeOptions};
use crate::store::Store;
use crate::tiers::Tiers;
use qlp_registry::TrustPolicy;

/// How `qlp serve` runs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// Components (`*.wasm`) to import into the registry at start-up.
    pub plugin_dirs: Vec<PathBuf>,
    /// The operator's tiers file; the shipped tiers when absent.
    pub tiers: Option<PathBuf>,
    pub workers: usize,
    /// Where compiled components are cached; `<data_dir>/cache` when absent.
    /// Artifacts found there are loaded as native code, so only the server
    /// may be able to write to it.
    pub cache_dir: Option<PathBuf>,
    /// The trust policy that decides which plugins may be imported and
    /// loaded. Without one no key is trusted and nothing loads.
    pub trust: Option<PathBuf>,
}

/// Everything `serve` builds before it binds: also used by tests.
pub async fn build(options: &ServeOptions) -> anyhow::Result<(AppState, Arc<Pipeline>)> {
    let data = &options.data_dir;
    std::fs::create_dir_all(data)
        .with_context(|| format!("cannot create data directory {}", data.display()))?;
    let tiers = match &options.tiers {
        Some(path) => Tiers::load(path)?,
        None => Tiers::defaults(),
    };
    let store = Store::open(&data.join("qlp.db"))
        .await
        .context("cannot open the database")?;
    let cache_dir = options
        .cache_dir
        .clone()
        .unwrap_or_else(|| data.join("cache"));
    let fuel = tiers.uses_fuel();
    if fuel {
        tracing::info!("fuel metering is on: a tier or plugin sets a fuel limit");
    }
    let runtime = Arc::new(Runtime::with_options(
        cache_dir,
        RuntimeOptions {
            fuel,
            ..RuntimeOptions::default()
        },
    )?);
    let registry = qlp_registry::Registry::open(data.join("registry"))?;
    let policy = match &options.trust {
        Some(path) => TrustPolicy::load(path)
            .with_context(|| format!("cannot load the trust policy {}", path.display()))?,
        None => {
            tracing::warn!("no trust policy (--trust): no plugin will be trusted");
            TrustPolicy::new()
        }
    };
    for rule in policy.allow_unsigned_rules() {
        tracing::warn!(%rule, "development relaxation on: unsigned plugins of this namespace are accepted");
    }
    let plugins = {
        let runtime = runtime.clone();
        let dirs = options.plugin_dirs.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<Plugins> {
            packages::import(&runtime, &registry, &policy, &dirs)?;
            packages::load(&runtime, &registry, &policy)
        })
        .await??
    };
    tiers.check_plugins(|name| plugins.get(name).map(|p| p.info.kind))?;
    for p in plugins.values() {
        tracing::info!(plugin = %p.info.name, version = %p.info.version, kind = %p.info.kind, "plugin loaded");
    }
    let capsules = CapsuleDirs::new(data);
    let plugins = Arc::new(plugins);
    let tiers = Arc::new(tiers);
    let pipeline = Arc::new(Pipeline {
        runtime,
        plugins: plugins.clone(),
        tiers: tiers.clone(),
        store: store.clone(),
        data_dir: data.to_owned(),
        capsules: capsules.clone(),
    });
    let dispatcher = Dispatcher::start(pipeline.clone(), options.workers);
    for record in store.unfinished_intents().await? {
        tracing::info!(intent = %record.intent.id, "resuming an intent accepted before the restart");
        store.requeue(&record.intent.id).await?;
        dispatcher.submit(record.intent).await?;
    }
    Ok((
        AppState {
            store,
            tiers,
            plugins,
            dispatcher,
            capsules,
        },
        pipeline,
    ))
}

/// Runs the server until SIGINT or SIGTERM.
pub async fn serve(options: ServeOptions) -> anyhow::Result<()> {
    let (state, _pipeline) = build(&options).await?;
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .with_context(|| format!("cannot listen on {}", options.listen))?;
    let addr = listener.local_addr()?;
    // Scripts and tests read this line to find an ephemeral port.
    println!("qlp listening on http://{addr}");
    tracing::info!(%addr, data_dir = %options.data_dir.display(), "serving");
    axum::serve(listener, api::router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutting down");
}

/// The default data directory: `$QLP_DATA_DIR` is read by the CLI; this is
/// the fallback.
pub fn default_data_dir() -> &'static Path {
    Path::new(".qlp")
}
