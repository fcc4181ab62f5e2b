//! Start-up of `qlp serve`: open the data directory, import plugins into the
//! registry, load them, check the tiers against them, queue unfinished
//! intents again, and serve the API until SIGINT or SIGTERM.
//!
//! Data directory layout: `qlp.db` (SQLite), `registry/` (plugin blobs and
//! index), `cache/` (compiled components), `capsules/`, and whatever
//! directories the tiers file grants to plugins.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;

use crate::api::{self, AppState};
use crate::capsule::CapsuleDirs;
use crate::pipeline::{Dispatcher, Pipeline, Plugins};
use crate::runtime::{Runtime, RuntimeOptions};
use crate::store::Store;
use crate::tiers::Tiers;

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
}

/// Imports every component found in `dirs` into the registry. A component
/// that does not load is reported and skipped.
fn import_plugins(
    runtime: &Runtime,
    registry: &qlp_registry::Registry,
    dirs: &[PathBuf],
) -> anyhow::Result<()> {
    for dir in dirs {
        let entries = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read plugin directory {}", dir.display()))?;
        let mut paths: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "wasm"))
            .collect();
        paths.sort();
        for path in paths {
            let bytes =
                std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            match runtime.load(&bytes) {
                Ok(plugin) => {
                    let version = semver::Version::parse(&plugin.info.version)?;
                    match registry.publish(
                        &plugin.info.name,
                        &version,
                        plugin.info.kind.as_str(),
                        &bytes,
                    ) {
                        Ok(entry) => {
                            tracing::info!(plugin = %entry.name, version = %entry.version, digest = %entry.digest, "plugin imported")
                        }
                        Err(e) => {
                            tracing::error!(path = %path.display(), error = %e, "plugin not imported")
                        }
                    }
                }
                Err(e) => {
                    tracing::error!(path = %path.display(), error = %e, "plugin not imported")
                }
            }
        }
    }
    Ok(())
}

/// Loads the newest version of every plugin in the registry, re-checking
/// each blob's digest.
fn load_plugins(runtime: &Runtime, registry: &qlp_registry::Registry) -> anyhow::Result<Plugins> {
    let mut plugins = HashMap::new();
    for entry in registry.latest()? {
        let bytes = registry.read_blob(&entry.digest)?;
        let plugin = runtime
            .load(&bytes)
            .with_context(|| format!("cannot load {}@{}", entry.name, entry.version))?;
        if plugin.info.name != entry.name {
            anyhow::bail!(
                "registry entry {} holds a component that calls itself {}",
                entry.name,
                plugin.info.name
            );
        }
        plugins.insert(entry.name.clone(), Arc::new(plugin));
    }
    Ok(plugins)
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
            on_demand: false,
        },
    )?);
    let registry = qlp_registry::Registry::open(data.join("registry"))?;
    let plugins = {
        let runtime = runtime.clone();
        let dirs = options.plugin_dirs.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<Plugins> {
            import_plugins(&runtime, &registry, &dirs)?;
            load_plugins(&runtime, &registry)
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
