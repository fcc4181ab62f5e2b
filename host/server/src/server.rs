//! Start-up of `qlp serve`: open the data directory, import plugins into the
//! registry, load them, check the tiers against them, start the workers
//! (which resume this node's unfinished intents), and serve the API until
//! SIGINT or SIGTERM.
//!
//! Data directory layout: `qlp.db` (SQLite, unless `--database` names a
//! PostgreSQL server or another file), `registry/` (plugin blobs and
//! index), `cache/` (compiled components), `capsules/` (unless
//! `--capsule-dir` puts them elsewhere), `tiers.lock`,
//! `tiers.toml` when `qlp bundle import` installed one (see
//! [`crate::bundle`]), and whatever directories the tiers file grants to
//! plugins.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use crate::api::{self, AppState, RegistryState};
use crate::capsule::{CapsuleDirs, CapsuleStore};
use crate::catalog::{Catalog, Source};
use crate::pipeline::{Dispatcher, Pipeline};
use crate::publishers::Publishers;
use crate::store::{Durability, Location, Retention, Store};
use crate::tiers::Tiers;
use qlp_registry::TrustPolicy;
use qlp_runtime::{Runtime, RuntimeOptions};

/// Most intents waiting for a worker before submissions get 429.
pub const DEFAULT_MAX_QUEUED: u32 = 1000;

/// How `qlp serve` runs. Every flag has an environment variable.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeOptions {
    /// Address to listen on; port 0 picks a free one.
    #[arg(long, env = "QLP_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Where intents, capsules, plugins and caches are kept.
    #[arg(long, env = "QLP_DATA_DIR", default_value = ".qlp")]
    pub data_dir: PathBuf,
    /// Directories of built components (`*.wasm`) imported into the
    /// registry at start-up; repeat or separate with `:`.
    #[arg(long = "plugin-dir", env = "QLP_PLUGIN_DIRS", value_delimiter = ':')]
    pub plugin_dirs: Vec<PathBuf>,
    /// The tiers file; when absent, DATA_DIR/tiers.toml if an install
    /// bundle put one there, else the shipped tiers.
    #[arg(long, env = "QLP_TIERS")]
    pub tiers: Option<PathBuf>,
    /// Intents run at once by this server.
    #[arg(long, env = "QLP_WORKERS", default_value_t = 2)]
    pub workers: usize,
    /// Plugin calls running at once across all intents (0: one per CPU).
    #[arg(long, env = "QLP_MAX_CALLS", default_value_t = 0)]
    pub max_calls: usize,
    /// Most intents waiting for a worker; past it, submissions get 429
    /// with Retry-After and nothing is stored.
    #[arg(long, env = "QLP_MAX_QUEUED", default_value_t = DEFAULT_MAX_QUEUED)]
    pub max_queued: u32,
    /// This server's name in intent leases. Replicas sharing a database
    /// need distinct names; the default is generated once and kept in
    /// DATA_DIR/node-id.
    #[arg(long, env = "QLP_NODE_ID")]
    pub node_id: Option<String>,
    /// How long a worker's claim on an intent lasts without a heartbeat
    /// (renewed every third of it): a replica that dies has its intents
    /// taken over by the others after this.
    #[arg(long, env = "QLP_LEASE", default_value = "30s", value_parser = parse_lease)]
    pub lease: humantime::Duration,
    /// Where compiled components are cached (default: DATA_DIR/cache).
    /// Its artifacts are loaded as native code: only the server may be
    /// able to write there.
    #[arg(long, env = "QLP_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
    /// The trust policy (TOML): which keys may publish which namespaces.
    /// Without it no plugin is trusted.
    #[arg(long, env = "QLP_TRUST")]
    pub trust: Option<PathBuf>,
    /// The lock: the plugin versions each tier resolved to, written at
    /// every start and reload (default: DATA_DIR/tiers.lock).
    #[arg(long, env = "QLP_LOCK")]
    pub lock: Option<PathBuf>,
    /// Run exactly the versions of the lock, refusing to start when one is
    /// gone, yanked or changed, instead of resolving the tiers afresh.
    #[arg(long, env = "QLP_LOCKED")]
    pub locked: bool,
    /// The publishers file (TOML): who may publish and yank packages
    /// through the registry API, by the hash of their token (`qlp
    /// publisher add`). Without it the registry API is read-only.
    #[arg(long, env = "QLP_PUBLISHERS")]
    pub publishers: Option<PathBuf>,
    /// Webhook destinations allowed although they are not public
    /// (loopback, private networks), as `host:port`; repeat or separate
    /// with commas. Every other webhook URL must resolve to public
    /// addresses only.
    #[arg(
        long = "webhook-allow",
        env = "QLP_WEBHOOK_ALLOW",
        value_delimiter = ','
    )]
    pub webhook_allow: Vec<String>,
    /// Host names requests may be addressed to (the `Host` header), besides
    /// `localhost` and IP addresses, which are always answered; repeat or
    /// separate with commas. A request for any other name gets 421: a web
    /// page whose name was re-pointed at this server (DNS rebinding) is not
    /// answered.
    #[arg(
        long = "allowed-host",
        env = "QLP_ALLOWED_HOSTS",
        value_delimiter = ','
    )]
    pub allowed_hosts: Vec<String>,
    /// How far a database commit is on disk: `full` syncs every commit,
    /// so what was recorded survives a power loss; `normal` syncs at
    /// checkpoints, losing nothing on a crash of the process but possibly
    /// the last commits on a power loss.
    #[arg(long, env = "QLP_DB_SYNC", default_value = "full", value_parser = ["full", "normal"])]
    pub db_sync: String,
    /// How often records past their retention are pruned.
    #[arg(long, env = "QLP_PRUNE_EVERY", default_value = "1h")]
    pub prune_every: humantime::Duration,
    /// How long the stage outputs of a finished intent (every file of
    /// every stage, kept so an interrupted run can resume) are kept.
    #[arg(long, env = "QLP_KEEP_STAGE_OUTPUTS", default_value = "1d")]
    pub keep_stage_outputs: humantime::Duration,
    /// How long an Idempotency-Key replays its first answer.
    #[arg(long, env = "QLP_KEEP_IDEMPOTENCY_KEYS", default_value = "24h")]
    pub keep_idempotency_keys: humantime::Duration,
    /// How long the record of an ended webhook delivery is kept.
    #[arg(long, env = "QLP_KEEP_WEBHOOK_DELIVERIES", default_value = "7d")]
    pub keep_webhook_deliveries: humantime::Duration,
    /// How long finished intents and their capsules are kept; unset keeps
    /// them for ever. Delivered copies are not touched.
    #[arg(long, env = "QLP_KEEP_CAPSULES")]
    pub keep_capsules: Option<humantime::Duration>,
    /// Where intents and their records are kept: a PostgreSQL URL
    /// (`postgres://user:password@host:5432/qlp`, the database must
    /// exist), which several replicas may share, or a SQLite file
    /// (default: DATA_DIR/qlp.db).
    #[arg(long, env = "QLP_DATABASE", value_parser = Location::parse)]
    pub database: Option<Location>,
    /// Where capsule files and artifacts are kept (default:
    /// DATA_DIR/capsules). Replicas sharing a database share this
    /// directory too (a network file system, a ReadWriteMany volume), so
    /// any replica serves any capsule.
    #[arg(long, env = "QLP_CAPSULE_DIR", conflicts_with = "capsule_store")]
    pub capsule_dir: Option<PathBuf>,
    /// Capsule files and artifacts in S3-compatible object storage instead
    /// of a directory: `s3://BUCKET` or `s3://BUCKET/PREFIX`. The endpoint,
    /// region and credentials come from the usual variables
    /// (`AWS_ENDPOINT`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_ALLOW_HTTP=true` for an endpoint
    /// without TLS). Replicas share the bucket, so any replica serves any
    /// capsule; the bucket must answer at start.
    #[arg(long, env = "QLP_CAPSULE_STORE")]
    pub capsule_store: Option<String>,
    /// Where the plugin registry is kept (default: DATA_DIR/registry).
    /// Replicas share it like the capsule directory, so a package
    /// published or yanked through any replica is in every replica's
    /// registry.
    #[arg(long, env = "QLP_REGISTRY_DIR")]
    pub registry_dir: Option<PathBuf>,
    /// How often the registry's index and the tiers file are checked for
    /// changes made elsewhere (another replica's publish or yank, an edited
    /// or re-mounted tiers file); a change reloads the tiers and plugins as
    /// SIGHUP does. `0s` turns the check off.
    #[arg(long, env = "QLP_WATCH_EVERY", default_value = "5s")]
    pub watch_every: humantime::Duration,
    #[command(flatten)]
    pub sso: crate::sso::SsoOptions,
    #[command(flatten)]
    pub connections: ConnectionLimits,
    #[command(flatten)]
    pub tls: qlp_runtime::tls::ServeTls,
    /// Serve the first-party plugins built into this binary (when it has
    /// them: `qlp --version` says), trusted by their digests; plugins from
    /// --plugin-dir and the registry add to them.
    #[arg(long, env = "QLP_BUILTIN_PLUGINS", default_value_t = true, action = clap::ArgAction::Set)]
    pub builtin_plugins: bool,
    /// On SIGTERM, how long running intents may take to finish before they
    /// are given back to the queue for another replica or the next start.
    #[arg(long, env = "QLP_DRAIN_GRACE", default_value = "25s")]
    pub drain_grace: humantime::Duration,
}

/// What a client may hold of the server: connections, and the time it may
/// take to send a request.
#[derive(clap::Args, Clone, Debug)]
pub struct ConnectionLimits {
    /// Open connections at most; past it, a new connection is closed at
    /// once (and logged), so idle or slow clients cannot take every slot.
    #[arg(long, env = "QLP_MAX_CONNECTIONS", default_value_t = 1024)]
    pub max_connections: usize,
    /// Time a client has to send a request's headers, from the moment it
    /// connects or its previous answer was sent; then the connection is
    /// closed. A client sending headers a byte at a time is cut off here.
    #[arg(long, env = "QLP_HEADER_TIMEOUT", default_value = "10s")]
    pub header_timeout: humantime::Duration,
    /// Longest pause between two pieces of a request body; then the
    /// request fails.
    #[arg(long, env = "QLP_BODY_TIMEOUT", default_value = "30s")]
    pub body_timeout: humantime::Duration,
    /// Event streams (`GET /v1/intents/{id}/events`) open at once, in all;
    /// past it, 429 `TOO_MANY_STREAMS`.
    #[arg(long, env = "QLP_MAX_STREAMS", default_value_t = 256)]
    pub max_streams: usize,
    /// Event streams one tenant may hold open at once.
    #[arg(long, env = "QLP_MAX_STREAMS_PER_TENANT", default_value_t = 32)]
    pub max_streams_per_tenant: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            max_connections: 1024,
            header_timeout: Duration::from_secs(10).into(),
            body_timeout: Duration::from_secs(30).into(),
            max_streams: 256,
            max_streams_per_tenant: 32,
        }
    }
}

/// How long a stopping server waits for requests in flight (an event
/// stream never ends by itself) before it closes their connections.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// The shortest `--lease`: a heartbeat every second at least.
pub const MIN_LEASE: Duration = Duration::from_secs(3);

/// Reads `--lease`, refusing one shorter than [`MIN_LEASE`].
fn parse_lease(text: &str) -> Result<humantime::Duration, String> {
    let lease: humantime::Duration = text.parse().map_err(|e| format!("{e}"))?;
    if Duration::from(lease) < MIN_LEASE {
        return Err(format!(
            "{lease} is too short: heartbeats renew it every third, so it must be at least {}",
            humantime::format_duration(MIN_LEASE)
        ));
    }
    Ok(lease)
}

impl ServeOptions {
    /// What `qlp serve ARGS` would run with: the flags' defaults with
    /// `args` over them, for what builds a server in its own process (`qlp
    /// bench`, in-process tests) without repeating every default.
    pub fn from_args<I, T>(args: I) -> anyhow::Result<Self>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        #[derive(clap::Parser)]
        struct Serve {
            #[command(flatten)]
            options: ServeOptions,
        }
        let args = std::iter::once(std::ffi::OsString::from("serve"))
            .chain(args.into_iter().map(Into::into));
        Ok(<Serve as clap::Parser>::try_parse_from(args)?.options)
    }

    /// The retention the flags set.
    pub fn retention(&self) -> Retention {
        Retention {
            stage_outputs: self.keep_stage_outputs.into(),
            idempotency_keys: self.keep_idempotency_keys.into(),
            webhook_deliveries: self.keep_webhook_deliveries.into(),
            capsules: self.keep_capsules.map(Into::into),
        }
    }
}

/// Where `options` keep capsules: the object store of `--capsule-store`,
/// checked to answer now, else `--capsule-dir` or the data directory's.
async fn capsule_store(options: &ServeOptions) -> anyhow::Result<CapsuleStore> {
    if let Some(url) = &options.capsule_store {
        let bucket = crate::capsule::objects::Bucket::open(url)?;
        bucket.check().await.with_context(|| {
            format!("the capsule store {url} does not answer (--capsule-store, AWS_* variables)")
        })?;
        return Ok(CapsuleStore::Bucket(bucket));
    }
    Ok(CapsuleStore::Dir(match &options.capsule_dir {
        Some(dir) => CapsuleDirs::at(dir.clone()),
        None => CapsuleDirs::new(&options.data_dir),
    }))
}

/// Prunes what the retention no longer keeps, every `every`, for as long
/// as the server runs; capsule directories go after their rows.
fn start_pruning(store: Store, capsules: CapsuleStore, retention: Retention, every: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match store.prune(&retention, std::time::SystemTime::now()).await {
                Ok(pruned) => {
                    for id in &pruned.intents {
                        if let Err(e) = capsules.remove(id).await {
                            tracing::warn!(intent = %id, error = %e, "cannot remove a pruned capsule's files");
                        }
                    }
                    tracing::info!(
                        stage_outputs = pruned.stage_outputs,
                        idempotency_keys = pruned.idempotency_keys,
                        webhook_deliveries = pruned.webhook_deliveries,
                        intents = pruned.intents.len(),
                        "pruned records past their retention"
                    );
                }
                Err(e) => tracing::warn!(error = %e, "pruning failed; the next pass tries again"),
            }
        }
    });
}

/// Makes the data directory the server's alone (0700) and its database
/// files readable by the server only (0600): they hold every tenant's
/// intents, capsules and webhook secrets.
fn restrict_permissions(data: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let set = |path: &Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .with_context(|| format!("cannot restrict the permissions of {}", path.display()))
    };
    set(data, 0o700)?;
    for name in ["qlp.db", "qlp.db-wal", "qlp.db-shm"] {
        let path = data.join(name);
        if path.exists() {
            set(&path, 0o600)?;
        }
    }
    Ok(())
}

/// On the first start (a store without keys), makes the admin key, keeps
/// it 0600 in the data directory and prints it once.
async fn first_admin_key(store: &Store, data: &Path) -> anyhow::Result<()> {
    let file = data.join(crate::auth::ADMIN_KEY_FILE);
    let made = store
        .bootstrap_admin(|token| {
            qlp_runtime::durable::replace_secret_file(&file, format!("{token}\n").as_bytes())
        })
        .await
        .context("cannot make the first admin key")?;
    if let Some(token) = made {
        tracing::info!(file = %file.display(), "first start: made the admin key of tenant `default`");
        println!(
            "qlp admin key (shown once; also kept in {}): {token}",
            file.display()
        );
    }
    Ok(())
}

/// This node's lease name: the one given, else the one kept in the data
/// directory (created on first start).
fn node_id(options: &ServeOptions) -> anyhow::Result<String> {
    if let Some(id) = &options.node_id {
        return Ok(id.clone());
    }
    let path = options.data_dir.join("node-id");
    match std::fs::read_to_string(&path) {
        Ok(id) if !id.trim().is_empty() => Ok(id.trim().to_owned()),
        _ => {
            let id = format!("node-{}", uuid::Uuid::new_v4());
            std::fs::write(&path, &id)
                .with_context(|| format!("cannot write {}", path.display()))?;
            Ok(id)
        }
    }
}

/// The tiers file in force: `--tiers`, else the one an install bundle put
/// in the data directory, else none (the shipped tiers).
fn tiers_path(options: &ServeOptions) -> Option<PathBuf> {
    options.tiers.clone().or_else(|| {
        let (installed, _) = crate::bundle::installed_tiers(&options.data_dir);
        installed.is_file().then_some(installed)
    })
}

/// The directory the built-in plugins are written to on every start.
pub const BUILTIN_DIR: &str = "builtin-plugins";

/// Writes the plugins built into this binary ([`qlp_builtin`]) into
/// DATA_DIR/builtin-plugins, replacing what an earlier start (maybe of
/// another build) left, and trusts each by the digest of the bytes the
/// binary carries. `None` when the binary has none.
fn install_builtin(data: &Path, policy: &mut TrustPolicy) -> anyhow::Result<Option<PathBuf>> {
    let files = qlp_builtin::files();
    if files.is_empty() {
        return Ok(None);
    }
    let dir = data.join(BUILTIN_DIR);
    let staging = data.join(format!("{BUILTIN_DIR}.new"));
    let write = || -> std::io::Result<()> {
        if staging.exists() {
            std::fs::remove_dir_all(&staging)?;
        }
        std::fs::create_dir_all(&staging)?;
        for (name, bytes) in files {
            std::fs::write(staging.join(name), bytes)?;
        }
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::rename(&staging, &dir)
    };
    write().with_context(|| format!("cannot write the built-in plugins to {}", dir.display()))?;
    let mut pinned = 0;
    for (name, component) in files.iter().filter(|(n, _)| n.ends_with(".wasm")) {
        let sidecar = format!("{}.manifest.json", name.trim_end_matches(".wasm"));
        let Some((_, manifest)) = files.iter().find(|(n, _)| *n == sidecar) else {
            anyhow::bail!(
                "the built-in plugin {name} has no {sidecar}: this binary was built from an incomplete plugin directory"
            );
        };
        let manifest = qlp_registry::manifest::Manifest::from_json(manifest)
            .with_context(|| format!("the built-in {sidecar}"))?;
        policy.pin(
            &manifest.name,
            &manifest.version,
            qlp_registry::Digest::of(component),
        );
        pinned += 1;
    }
    tracing::info!(plugins = pinned, dir = %dir.display(), "built-in plugins");
    Ok(Some(dir))
}

/// The store `--database` names, else DATA_DIR/qlp.db, migrated.
async fn open_store(options: &ServeOptions) -> anyhow::Result<Store> {
    let durability = match options.db_sync.as_str() {
        "normal" => Durability::Normal,
        _ => Durability::Full,
    };
    let location = Location::chosen(options.database.clone(), &options.data_dir);
    let store = Store::connect(&location, durability)
        .await
        .with_context(|| format!("cannot open the database {}", location.display()))?;
    tracing::info!(database = %location.display(), "records kept");
    Ok(store)
}

/// Everything `serve` builds before it binds: also used by tests.
pub async fn build(options: &ServeOptions) -> anyhow::Result<(AppState, Arc<Pipeline>)> {
    let data = &options.data_dir;
    std::fs::create_dir_all(data)
        .with_context(|| format!("cannot create data directory {}", data.display()))?;
    let tiers = match tiers_path(options) {
        Some(path) => {
            if options.tiers.is_none() {
                tracing::info!(tiers = %path.display(), "using the tiers an install bundle put in the data directory");
            }
            Tiers::load(&path)?
        }
        None => Tiers::defaults(),
    };
    let store = open_store(options).await?;
    // Before the plugins, which take longer: a store that does not answer
    // stops the start at once.
    let capsules = capsule_store(options).await?;
    tracing::info!(capsules = %capsules.location(), "capsules kept");
    restrict_permissions(data)?;
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
    let registry_dir = options
        .registry_dir
        .clone()
        .unwrap_or_else(|| data.join("registry"));
    let registry = qlp_registry::Registry::open(&registry_dir)?;
    let publishers = match &options.publishers {
        Some(path) => {
            let publishers = Publishers::load(path)?;
            if publishers.is_empty() {
                tracing::warn!(file = %path.display(), "the publishers file names no publisher: nothing can be published");
            }
            publishers
        }
        None => Publishers::default(),
    };
    let mut policy = match &options.trust {
        Some(path) => TrustPolicy::load(path)
            .with_context(|| format!("cannot load the trust policy {}", path.display()))?,
        None => TrustPolicy::new(),
    };
    let builtin = if options.builtin_plugins {
        install_builtin(data, &mut policy)?
    } else {
        None
    };
    if options.trust.is_none() {
        match &builtin {
            Some(_) => {
                tracing::info!("no trust policy (--trust): only the built-in plugins are trusted")
            }
            None => tracing::warn!(
                "no trust policy (--trust), and this binary has no built-in plugins: no plugin will be trusted"
            ),
        }
    }
    for rule in policy.allow_unsigned_rules() {
        tracing::warn!(%rule, "development relaxation on: unsigned plugins of this namespace are accepted");
    }
    let registry = Arc::new(RegistryState {
        registry,
        policy: policy.clone(),
        publishers,
        runtime: runtime.clone(),
    });
    let source = Source {
        registry: registry_dir,
        policy,
        plugin_dirs: builtin
            .into_iter()
            .chain(options.plugin_dirs.iter().cloned())
            .collect(),
        lock: options
            .lock
            .clone()
            .unwrap_or_else(|| data.join("tiers.lock")),
        locked: options.locked,
        tiers: tiers_path(options),
    };
    let before = crate::pipeline::fingerprint(&source.watched());
    let (catalog, source) = {
        let runtime = runtime.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<(Catalog, Source)> {
            Ok((Catalog::build(&runtime, &source, tiers)?, source))
        })
        .await??
    };
    let loaded = crate::pipeline::settled(before, crate::pipeline::fingerprint(&source.watched()));
    for p in catalog.plugins.values() {
        tracing::info!(plugin = %p.info.name, version = %p.info.version, kind = %p.info.kind, "plugin loaded");
    }
    let pipeline = Arc::new(Pipeline {
        runtime,
        catalog: std::sync::RwLock::new(Arc::new(catalog)),
        source,
        reloading: Default::default(),
        loaded: std::sync::Mutex::new(loaded),
        reloads_pending: Default::default(),
        store: store.clone(),
        data_dir: data.to_owned(),
        capsules: capsules.clone(),
        calls: Arc::new(tokio::sync::Semaphore::new(match options.max_calls {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        })),
        stopping: Default::default(),
    });
    let node = node_id(options)?;
    tracing::info!(%node, "claiming intents as this node");
    let dispatcher = Dispatcher::start(
        pipeline.clone(),
        options.workers,
        node,
        options.lease.into(),
    )
    .await?;
    if options.workers > 0 {
        crate::webhooks::start_sender(
            store.clone(),
            qlp_runtime::net::Allowed::new(options.webhook_allow.clone()),
        );
        start_pruning(
            store.clone(),
            capsules.clone(),
            options.retention(),
            options.prune_every.into(),
        );
    }
    Ok((
        AppState {
            store,
            dispatcher,
            capsules,
            max_queued: options.max_queued,
            pipeline: pipeline.clone(),
            registry,
            webhook_allow: qlp_runtime::net::Allowed::new(options.webhook_allow.clone()),
            sso: crate::sso::Sso::from_options(&options.sso).await?,
            streams: Arc::new(api::Streams::new(
                options.connections.max_streams,
                options.connections.max_streams_per_tenant,
            )),
            allowed_hosts: Arc::new(
                options
                    .allowed_hosts
                    .iter()
                    .map(|h| h.trim().to_ascii_lowercase())
                    .collect(),
            ),
        },
        pipeline,
    ))
}

/// Runs the server until SIGINT or SIGTERM; SIGHUP reloads the tiers file
/// and the plugin directories.
pub async fn serve(options: ServeOptions) -> anyhow::Result<()> {
    anyhow::ensure!(options.workers > 0, "--workers must be at least 1");
    let (state, pipeline) = build(&options).await?;
    first_admin_key(&state.store, &options.data_dir).await?;
    watch_for_changes(&pipeline, options.watch_every.into());
    reload_on_hangup(pipeline)?;
    let tls = options
        .tls
        .server_config()
        .map_err(anyhow::Error::msg)?
        .map(tokio_rustls::TlsAcceptor::from);
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .with_context(|| format!("cannot listen on {}", options.listen))?;
    let addr = listener.local_addr()?;
    // Handlers first: a SIGTERM that follows the line below at once still
    // shuts down cleanly instead of killing the process.
    let shutdown = shutdown_signal()?;
    // Scripts and tests read this line to find an ephemeral port.
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!("qlp listening on {scheme}://{addr}");
    tracing::info!(%addr, data_dir = %options.data_dir.display(), "serving");
    let (dispatcher, pipeline) = (state.dispatcher.clone(), state.pipeline.clone());
    let app = api::router(state).layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
        options.connections.body_timeout.into(),
    ));
    // On SIGTERM the workers stop claiming at once (and /readyz says so)
    // and running intents get the grace period, while requests in flight
    // finish.
    let grace: Duration = options.drain_grace.into();
    let (drain_tx, drain_rx) = tokio::sync::oneshot::channel();
    let draining = async move {
        shutdown.await;
        tracing::info!(
            "stopping: no new intents are claimed; requests and stages in flight finish"
        );
        let task = tokio::spawn(async move { dispatcher.drain(&pipeline, grace).await });
        let _ = drain_tx.send(task);
    };
    serve_connections(listener, tls, app, &options.connections, draining).await;
    if let Ok(task) = drain_rx.await {
        let given_back = task.await.unwrap_or(0);
        tracing::info!(given_back, "stopped");
    }
    Ok(())
}

/// Answers HTTP/1.1 on `listener` with `app` until `shutdown`, within
/// `limits`, then lets the requests in flight finish for at most
/// [`DRAIN_TIMEOUT`].
async fn serve_connections(
    listener: tokio::net::TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    app: axum::Router,
    limits: &ConnectionLimits,
    shutdown: impl std::future::Future<Output = ()>,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let header_timeout: Duration = limits.header_timeout.into();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors, or a connection reset before it
                // was accepted: the listener itself is fine.
                Err(e) => {
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::warn!(%peer, max = limits.max_connections, "connection closed: the server holds its most connections (--max-connections)");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        let http = {
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new())
                .header_read_timeout(header_timeout);
            http
        };
        match &tls {
            None => {
                let connection =
                    graceful.watch(http.serve_connection(TokioIo::new(stream), service));
                tokio::spawn(async move {
                    if let Err(e) = connection.await {
                        tracing::debug!(%peer, error = %e, "connection ended");
                    }
                    drop(slot);
                });
            }
            Some(acceptor) => {
                // The handshake runs on the connection's own task, within
                // the header timeout, so a client that never finishes it
                // holds only its own slot.
                let (acceptor, watcher) = (acceptor.clone(), graceful.watcher());
                tokio::spawn(async move {
                    let handshake = tokio::time::timeout(header_timeout, acceptor.accept(stream));
                    match handshake.await {
                        Ok(Ok(stream)) => {
                            let connection =
                                watcher.watch(http.serve_connection(TokioIo::new(stream), service));
                            if let Err(e) = connection.await {
                                tracing::debug!(%peer, error = %e, "connection ended");
                            }
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                    drop(slot);
                });
            }
        }
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(DRAIN_TIMEOUT) => {
            tracing::warn!("requests still in flight after {DRAIN_TIMEOUT:?}; closing their connections");
        }
    }
}

/// On every SIGHUP, imports the plugin directories again, re-reads the
/// tiers file and resolves the tiers' plugins afresh. Anything that fails
/// its checks is refused with the reason logged, and what is in force
/// stays.
fn reload_on_hangup(pipeline: Arc<Pipeline>) -> anyhow::Result<()> {
    let mut hangups = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    tokio::spawn(async move {
        while hangups.recv().await.is_some() {
            pipeline.reload_in_background("SIGHUP");
        }
    });
    Ok(())
}

/// Every `every`, hashes what a reload reads that may change behind this
/// server's back ([`crate::catalog::Source::watched`]); a difference from
/// what the last reload read reloads the tiers and plugins, as SIGHUP
/// does. A change this server made and loaded itself (a publish, a yank)
/// is no difference. Comparing contents, not modification times, holds on
/// network file systems whose times are cached or coarse.
fn watch_for_changes(pipeline: &Arc<Pipeline>, every: std::time::Duration) {
    if every.is_zero() {
        return;
    }
    let pipeline = pipeline.clone();
    let files = pipeline.source.watched();
    tokio::spawn(async move {
        let mut asked: Option<crate::pipeline::Fingerprint> = None;
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            // A reload asked for (a publish here) is looked at once done.
            if pipeline
                .reloads_pending
                .load(std::sync::atomic::Ordering::SeqCst)
                > 0
            {
                continue;
            }
            let files = files.clone();
            let Ok(now) =
                tokio::task::spawn_blocking(move || crate::pipeline::fingerprint(&files)).await
            else {
                continue;
            };
            let loaded = pipeline.loaded.lock().expect("never poisoned").clone();
            // Asked once per change: a reload in progress has not recorded
            // what it read yet.
            if now != loaded && asked.as_ref() != Some(&now) {
                asked = Some(now);
                pipeline.reload_in_background("the registry or the tiers file changed");
            }
        }
    });
}

/// Installs the SIGINT and SIGTERM handlers now; the future ends at the
/// first of them.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        tracing::info!("shutting down");
    })
}

/// The default data directory: `$QLP_DATA_DIR` is read by the CLI; this is
/// the fallback.
pub fn default_data_dir() -> &'static Path {
    Path::new(".qlp")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_shorter_than_a_heartbeat_a_second_is_refused() {
        assert_eq!(
            parse_lease("3s").map(Duration::from),
            Ok(Duration::from_secs(3))
        );
        assert_eq!(
            parse_lease("2m").map(Duration::from),
            Ok(Duration::from_secs(120))
        );
        let short = parse_lease("2999ms").unwrap_err();
        assert!(short.contains("at least 3s"), "{short}");
        assert!(parse_lease("soon").is_err());
    }
}
