//! The WebAssembly runtime.
//!
//! One wasmtime [`Engine`] serves the whole process: component model on,
//! pooling allocator, epoch interruption driven by a ticker thread. A loaded
//! [`Plugin`] keeps an `InstancePre` for its world; every call gets a fresh
//! store and instance under [`CallLimits`], so no state leaks from one call
//! (or one intent) to the next, and a trap, a timeout or an invalid result
//! fails that call with a [`CallError`] naming the cause while the server
//! goes on. Compiled components are cached on disk (see [`cache`]).
//!
//! Every component is linked for the contract version it targets
//! ([`Contract`], read from its `qlp:contract` section or its imports) and
//! called through that version's bindings; the calls take and return one
//! set of types whichever it is.
//!
//! Where to look: `worlds` (each version's worlds, declared once);
//! `host_api` (what plugins may call: log and config, the workspace, and
//! 0.2's secrets, deadline and capsule) with `http`, `llm` and `wasi`
//! beside it, one capability per module, and `host_error` (their one
//! error); `limits` (fuel, memory, time, sizes); `cache`; `build` (`qlp
//! plugin build`). Process-wide pieces the server shares: `metrics` (the
//! Prometheus registry), `tls` (client and CA configuration), `net` (which
//! addresses may be reached for others), `durable` (crash-safe file
//! writes). The WIT bindings and domain types are `qlp-contract`'s.

pub mod build;
mod cache;
pub mod durable;
mod host_api;
mod host_error;
pub mod http;
pub mod limits;
pub mod llm;
pub mod metrics;
pub mod net;
pub mod tls;
mod wasi;
#[macro_use]
mod worlds;

pub use qlp_contract::text::mask;
pub use qlp_contract::{bindings, convert, model};
use qlp_contract::{size, text};

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use wasmtime::component::Component;
use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, Trap,
    UpdateDeadline,
};

use bindings::v0_2::wit as v0_2_wit;
use bindings::wit;
pub use cache::file_name as artifact_file_name;
pub use host_api::{State, Workspace};
pub use host_error::HostError;
pub use limits::CallLimits;
use limits::Limiter;
use model::{PluginInfo, PluginKind};
use qlp_contract::bindings::v0_2::Capsule;
use size::WireSize;
use worlds::{v0_1, v0_2};

/// How often the engine's epoch advances; the granularity of call
/// deadlines.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);

/// Most bytes of each pooled table reset in place between instances when
/// [`RuntimeOptions::keep_resident`] is set.
pub const KEEP_RESIDENT_TABLE: usize = 64 << 10;

/// Most bytes of dirty pages of each pooled memory reset in place between
/// instances, by default: enough for what a small plugin's call touches
/// (its stack top, data and first heap pages), so the next instance in
/// that slot takes no page faults and the slot needs no `madvise`. A call
/// that dirties more gives the rest back to the kernel as before. The cost
/// is at most this much resident memory per warm slot of the pool (64 MiB
/// over its 256 memories). 64 KiB and 1 MiB measured the same for a
/// trivial call (BENCHMARKS.md).
pub const KEEP_RESIDENT: usize = 256 << 10;

/// Instances the pooling allocator keeps slots for: the most plugin calls
/// that can run at once in this process.
pub const POOL_INSTANCES: u32 = 128;

/// Why loading a plugin failed.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("the component is {size} bytes, over the limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    #[error("not a WebAssembly component{0}")]
    NotAComponent(&'static str),
    #[error(
        "the component does not target a QLP world: it exports none of `generate`, `analyze`, `validate`, `export`, `deliver` with `describe`"
    )]
    UnknownWorld,
    #[error("the component cannot be linked as a QLP {kind}: {reason}")]
    Link { kind: PluginKind, reason: String },
    #[error("invalid component: {0}")]
    Invalid(String),
    #[error(
        "the component is stamped for `{0}`, a contract this host does not serve (it serves qlp:plugin@0.1.0 and @0.2.0)"
    )]
    UnknownContract(String),
    #[error("compiling the component took longer than {0:?}")]
    CompileTimeout(Duration),
    #[error("`describe` failed: {0}")]
    Describe(CallError),
    #[error("the component targets the {world} world but describes itself as a {declared}")]
    KindMismatch {
        world: PluginKind,
        declared: PluginKind,
    },
    #[error("invalid plugin version `{version}`: {reason}")]
    BadVersion { version: String, reason: String },
    #[error(
        "the component imports what its `describe()` does not declare, and nothing undeclared is linked: {}",
        .0.join("; ")
    )]
    Undeclared(Vec<String>),
}

/// Why a plugin call failed. Each variant has a stable [`CallError::code`].
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    #[error("the call exceeded its time limit of {0:?}")]
    Timeout(Duration),
    #[error("the plugin ran out of fuel ({0} units)")]
    OutOfFuel(u64),
    #[error("the plugin returned {size} bytes, over the limit of {limit} bytes")]
    OutputTooLarge { size: usize, limit: usize },
    #[error("the plugin's input is {size} bytes, over the limit of {limit} bytes")]
    InputTooLarge { size: usize, limit: usize },
    #[error("the plugin exceeded its memory limit of {0} bytes")]
    MemoryLimit(usize),
    #[error("the plugin overflowed its stack")]
    StackOverflow,
    #[error("the plugin trapped: {0}")]
    Trap(String),
    #[error("the plugin returned an invalid result: {0}")]
    InvalidOutput(String),
    #[error("{code}: {message}")]
    Plugin { code: String, message: String },
    #[error("the plugin is of kind `{actual}` where `{expected}` is required")]
    WrongKind {
        expected: PluginKind,
        actual: PluginKind,
    },
    #[error("the intent was cancelled")]
    Cancelled,
    #[error("the host failed: {0}")]
    Host(String),
}

impl CallError {
    /// The stable code an API client sees.
    pub fn code(&self) -> &str {
        match self {
            Self::Timeout(_) => "TIMEOUT",
            Self::MemoryLimit(_) => "MEMORY_LIMIT",
            Self::OutOfFuel(_) => "OUT_OF_FUEL",
            Self::OutputTooLarge { .. } => "OUTPUT_TOO_LARGE",
            Self::InputTooLarge { .. } => "INPUT_TOO_LARGE",
            Self::StackOverflow => "STACK_OVERFLOW",
            Self::Trap(_) => "TRAP",
            Self::InvalidOutput(_) => "INVALID_OUTPUT",
            Self::Plugin { code, .. } => code,
            Self::WrongKind { .. } => "WRONG_KIND",
            Self::Cancelled => "CANCELLED",
            Self::Host(_) => "HOST_ERROR",
        }
    }

    /// This error with `secrets` masked in its words.
    pub fn masked(self, secrets: &[String]) -> Self {
        let mask = |t: String| text::mask(&t, secrets);
        match self {
            Self::Plugin { code, message } => Self::Plugin {
                code: mask(code),
                message: mask(message),
            },
            Self::Trap(m) => Self::Trap(mask(m)),
            Self::InvalidOutput(m) => Self::InvalidOutput(mask(m)),
            Self::Host(m) => Self::Host(mask(m)),
            other => other,
        }
    }

    fn from_plugin(code: &str, message: &str) -> Self {
        let code = text::sanitize(code, 64);
        let code = if code.is_empty() {
            "PLUGIN_ERROR".to_owned()
        } else {
            code
        };
        Self::Plugin {
            code,
            message: text::sanitize(message, 4096),
        }
    }
}

/// What a call used, for the stage record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Usage {
    pub wall_ms: u64,
    pub peak_memory_bytes: u64,
    /// Fuel burnt, when the engine meters fuel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fuel_consumed: Option<u64>,
    /// Tokens the call spent through `qlp:llm/chat`, when it asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub llm: Option<llm::Spent>,
}

/// Engine-wide choices, fixed for the life of the process.
#[derive(Debug, Clone, Copy)]
pub struct RuntimeOptions {
    /// Meter fuel on every call, so a call's instruction budget can be
    /// capped deterministically and what it burnt recorded. Costs some
    /// speed on every call (see BENCHMARKS.md); the server turns it on when
    /// a tier or plugin sets a fuel limit.
    pub fuel: bool,
    /// Use the on-demand allocator rather than the pooling allocator.
    pub on_demand: bool,
    /// Bytes of each pooled memory reset in place (copied back from the
    /// image or zeroed) instead of given back with `madvise` between
    /// instances: wasmtime's `linear_memory_keep_resident`, default
    /// [`KEEP_RESIDENT`].
    pub keep_resident: usize,
    /// With [`RuntimeOptions::keep_resident`]: find the pages an instance
    /// dirtied with Linux's `PAGEMAP_SCAN` (6.7 and later; ignored where
    /// unsupported) and reset only those, wherever they are in the memory.
    /// Without it, the lowest `keep_resident` bytes are reset whether they
    /// were touched or not.
    pub pagemap_scan: bool,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        Self {
            fuel: false,
            on_demand: false,
            keep_resident: KEEP_RESIDENT,
            pagemap_scan: true,
        }
    }
}

/// A version of `qlp:plugin` this host serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Contract {
    V0_1,
    V0_2,
}

impl Contract {
    /// Every version served, oldest first.
    pub const ALL: [Contract; 2] = [Contract::V0_1, Contract::V0_2];

    /// `0.1.0`, `0.2.0`.
    pub fn version(self) -> &'static str {
        match self {
            Contract::V0_1 => "0.1.0",
            Contract::V0_2 => "0.2.0",
        }
    }

    /// What [`CONTRACT_SECTION`] holds for this version:
    /// `qlp:plugin@0.2.0`.
    pub fn package(self) -> String {
        format!("qlp:plugin@{}", self.version())
    }

    fn from_package(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.package() == text)
    }
}

/// The custom section in which `qlp plugin build` stamps the contract a
/// component targets (`qlp:plugin@0.2.0`), so the host picks the bindings
/// before it instantiates anything.
pub const CONTRACT_SECTION: &str = "qlp:contract";

/// How the contract of a component was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Found {
    /// Its [`CONTRACT_SECTION`] names it.
    Stamped(Contract),
    /// Read from its imports: the versions to try, the likeliest first.
    Inferred(Contract),
}

impl Found {
    /// The versions to link the component as, in order: the stamped one
    /// alone, or the inferred one and then the others (a component that
    /// imports nothing of `qlp:plugin` may be of any version).
    fn candidates(self) -> Vec<Contract> {
        match self {
            Found::Stamped(c) => vec![c],
            Found::Inferred(c) => std::iter::once(c)
                .chain(Contract::ALL.into_iter().filter(|o| *o != c))
                .collect(),
        }
    }
}

/// The contract `bytes` targets: the stamp in its top-level
/// [`CONTRACT_SECTION`], or, for a component built without one, the
/// version of the `qlp:plugin` interfaces it imports (0.1.0 when it
/// imports none).
pub(crate) fn contract_of(bytes: &[u8], imports: &[String]) -> Result<Found, LoadError> {
    let mut depth = 0usize;
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        match payload.map_err(|e| LoadError::Invalid(e.to_string()))? {
            wasmparser::Payload::ModuleSection { .. }
            | wasmparser::Payload::ComponentSection { .. } => depth += 1,
            wasmparser::Payload::End(_) => depth = depth.saturating_sub(1),
            wasmparser::Payload::CustomSection(c) if depth == 0 && c.name() == CONTRACT_SECTION => {
                let text = String::from_utf8_lossy(c.data()).trim().to_owned();
                return Contract::from_package(&text)
                    .map(Found::Stamped)
                    .ok_or_else(|| LoadError::UnknownContract(text::sanitize(&text, 64)));
            }
            _ => {}
        }
    }
    let v0_2 = format!("@{}", Contract::V0_2.version());
    Ok(Found::Inferred(
        if imports
            .iter()
            .any(|i| i.starts_with("qlp:plugin/") && i.ends_with(&v0_2))
        {
            Contract::V0_2
        } else {
            Contract::V0_1
        },
    ))
}

/// A component linked for its contract and world.
enum Pre {
    V0_1(v0_1::Pre),
    V0_2(v0_2::Pre),
}

impl Pre {
    fn kind(&self) -> PluginKind {
        match self {
            Pre::V0_1(pre) => pre.kind(),
            Pre::V0_2(pre) => pre.kind(),
        }
    }

    fn describe(&self, store: &mut Store<State>) -> wasmtime::Result<PluginInfo> {
        match self {
            Pre::V0_1(pre) => pre.describe(store),
            Pre::V0_2(pre) => pre.describe(store),
        }
    }
}

/// The linkers of every world of every contract served.
struct Linkers {
    v0_1: v0_1::Linkers,
    v0_2: v0_2::Linkers,
}

impl Linkers {
    fn new(engine: &Engine) -> anyhow::Result<Self> {
        Ok(Self {
            v0_1: v0_1::Linkers::new(engine)?,
            v0_2: v0_2::Linkers::new(engine)?,
        })
    }

    fn pre(
        &self,
        contract: Contract,
        kind: PluginKind,
        component: &Component,
    ) -> wasmtime::Result<Pre> {
        Ok(match contract {
            Contract::V0_1 => Pre::V0_1(self.v0_1.pre(kind, component)?),
            Contract::V0_2 => Pre::V0_2(self.v0_2.pre(kind, component)?),
        })
    }
}

/// A plugin's own error, of either contract.
trait PluginFailure {
    fn into_call_error(self) -> CallError;
}

impl PluginFailure for wit::PluginError {
    fn into_call_error(self) -> CallError {
        CallError::from_plugin(&self.code, &self.message)
    }
}

impl PluginFailure for bindings::v0_2::wit::PluginError {
    fn into_call_error(self) -> CallError {
        CallError::from_plugin(&self.code, &self.message)
    }
}

/// A plugin ready to be called.
pub struct Plugin {
    pub info: PluginInfo,
    /// blake3 of the component bytes.
    pub digest: String,
    pub size: usize,
    /// For analyzers: the file extensions they handle.
    pub extensions: Vec<String>,
    pub languages: Vec<String>,
    /// Whether the component imports `qlp:llm/chat`: it needs the model
    /// endpoint of `[llm]`.
    pub uses_llm: bool,
    /// The `qlp:plugin` version it targets.
    pub contract: Contract,
    pre: Pre,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("info", &self.info)
            .field("digest", &self.digest)
            .finish_non_exhaustive()
    }
}

/// Options of a call beyond its limits.
#[derive(Default)]
pub struct CallContext {
    /// Configuration values the operator assigned to this plugin.
    pub config: Arc<BTreeMap<String, String>>,
    /// The secrets it declared and the operator granted, by key: read
    /// through `secrets.get` (0.2) or `config` (0.1), and masked wherever
    /// the plugin's words leave the call: log lines, errors, receipts.
    pub secrets: Arc<BTreeMap<String, String>>,
    /// A directory granted to the plugin (delivery adapters).
    pub workspace: Option<Workspace>,
    /// The hosts the plugin may reach over HTTP.
    pub http: Option<Arc<http::Grant>>,
    /// Raised to cancel the call: the plugin is interrupted at its next
    /// epoch tick.
    pub cancel: Option<Arc<AtomicBool>>,
    /// The model endpoint, when the operator granted it (`llm = true`).
    pub llm: Option<llm::Grant>,
}

/// The process-wide runtime. Cheap to share behind an `Arc`.
pub struct Runtime {
    engine: Engine,
    linkers: Linkers,
    cache: cache::CompileCache,
    stop_ticker: Arc<AtomicBool>,
    fuel: bool,
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.stop_ticker.store(true, Ordering::Relaxed);
    }
}

fn engine_config(pooling: bool, options: &RuntimeOptions) -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    config.consume_fuel(options.fuel);
    config.max_wasm_stack(limits::MAX_WASM_STACK);
    if pooling {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(POOL_INSTANCES);
        pool.total_core_instances(POOL_INSTANCES * 4);
        pool.total_memories(POOL_INSTANCES * 2);
        pool.total_tables(POOL_INSTANCES * 4);
        pool.max_memory_size(limits::MAX_MEMORY_LIMIT);
        pool.table_elements(limits::DEFAULT_TABLE_ELEMENTS);
        pool.linear_memory_keep_resident(options.keep_resident);
        pool.table_keep_resident(options.keep_resident.min(KEEP_RESIDENT_TABLE));
        pool.pagemap_scan(if options.pagemap_scan {
            Enabled::Auto
        } else {
            Enabled::No
        });
        pool.max_core_instances_per_component(limits::MAX_INSTANCES_PER_STORE as u32);
        pool.max_memories_per_component(limits::MAX_MEMORIES_PER_STORE as u32);
        pool.max_tables_per_component(limits::MAX_TABLES_PER_STORE as u32);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    config
}

/// The interface through which agents reach the model endpoint.
pub const LLM_INTERFACE: &str = "qlp:llm/chat@";

/// Refuses a component that imports one of QLP's own capability interfaces
/// its `describe()` does not declare, every such import named, so nothing a
/// plugin did not declare is ever linked into it. What the operator granted
/// is checked on every call; a declared import the operator did not grant
/// answers `capability not granted`.
fn check_imports(
    imports: &[String],
    info: &PluginInfo,
    contract: Contract,
) -> Result<(), LoadError> {
    let declared = model::Declared::of(&info.capabilities);
    // 0.1 has no `secrets` interface, and its agents reach the model
    // without declaring it (their grant decides).
    let v0_2 = contract >= Contract::V0_2;
    let interfaces = [
        ("qlp:plugin/http@", declared.http, "an `http` capability"),
        (
            "qlp:plugin/workspace@",
            declared.directory(),
            "a `directory-read` or `directory-write` capability",
        ),
        (
            "qlp:plugin/secrets@",
            declared.secrets || !v0_2,
            "a `secret(KEY)` capability",
        ),
        (LLM_INTERFACE, declared.llm || !v0_2, "an `llm` capability"),
    ];
    let undeclared: Vec<String> = imports
        .iter()
        .flat_map(|import| {
            interfaces
                .iter()
                .filter(move |(prefix, declared, _)| !declared && import.starts_with(prefix))
                .map(move |(_, _, needs)| format!("`{import}` needs {needs}"))
        })
        .collect();
    if undeclared.is_empty() {
        Ok(())
    } else {
        Err(LoadError::Undeclared(undeclared))
    }
}

impl Runtime {
    /// Creates the engine, the linkers of every world and the epoch ticker.
    /// Compiled components are cached under `cache_dir`.
    pub fn new(cache_dir: PathBuf) -> anyhow::Result<Self> {
        Self::with_options(cache_dir, RuntimeOptions::default())
    }

    /// [`Runtime::new`] with engine-wide options.
    pub fn with_options(cache_dir: PathBuf, options: RuntimeOptions) -> anyhow::Result<Self> {
        let pooled = if options.on_demand {
            None
        } else {
            match Engine::new(&engine_config(true, &options)) {
                Ok(engine) => Some(engine),
                Err(e) => {
                    tracing::warn!(error = %e, "pooling allocator unavailable; falling back to on-demand allocation");
                    None
                }
            }
        };
        let engine = match pooled {
            Some(engine) => engine,
            None => {
                Engine::new(&engine_config(false, &options)).map_err(|e| anyhow::anyhow!("{e}"))?
            }
        };
        let linkers = Linkers::new(&engine)?;
        let stop_ticker = Arc::new(AtomicBool::new(false));
        {
            let engine = engine.clone();
            let stop = stop_ticker.clone();
            std::thread::Builder::new()
                .name("qlp-epoch".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(EPOCH_TICK);
                        engine.increment_epoch();
                    }
                })?;
        }
        let cache = cache::CompileCache::new(cache_dir, &engine)?;
        Ok(Self {
            engine,
            linkers,
            cache,
            stop_ticker,
            fuel: options.fuel,
        })
    }

    /// Compiles (or loads from the cache) a component, checks which world it
    /// targets, and asks it to describe itself.
    pub fn load(&self, bytes: &[u8]) -> Result<Plugin, LoadError> {
        if bytes.len() > limits::MAX_COMPONENT_SIZE {
            return Err(LoadError::TooLarge {
                size: bytes.len(),
                limit: limits::MAX_COMPONENT_SIZE,
            });
        }
        if !wasmparser::Parser::is_component(bytes) {
            return Err(LoadError::NotAComponent(
                if wasmparser::Parser::is_core_wasm(bytes) {
                    " (it is a core module: run it through `qlp plugin build`)"
                } else {
                    ""
                },
            ));
        }
        // Malformed input is refused by the validator, before the compiler
        // sees it.
        let mut validator =
            wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all());
        validator
            .validate_all(bytes)
            .map_err(|e| LoadError::Invalid(format!("malformed component: {e}")))?;
        let digest = blake3::hash(bytes).to_hex().to_string();
        let component = self.compile(&digest, bytes)?;
        let kind = self.world_of(&component)?;
        let imports: Vec<String> = component
            .component_type()
            .imports(&self.engine)
            .map(|(import, _)| import.to_owned())
            .collect();
        // The first version the component links as; the error of the
        // likeliest when none does.
        let mut linked: Option<Result<(Contract, Pre), wasmtime::Error>> = None;
        for contract in contract_of(bytes, &imports)?.candidates() {
            match self.linkers.pre(contract, kind, &component) {
                Ok(pre) => {
                    linked = Some(Ok((contract, pre)));
                    break;
                }
                Err(e) if linked.is_none() => linked = Some(Err(e)),
                Err(_) => {}
            }
        }
        let (contract, pre) = linked
            .expect("there is at least one candidate")
            .map_err(|e| LoadError::Link {
                kind,
                reason: format!("{e:#}"),
            })?;
        let mut plugin = Plugin {
            info: PluginInfo {
                name: String::new(),
                version: String::new(),
                kind,
                description: String::new(),
                capabilities: vec![],
            },
            digest,
            size: bytes.len(),
            extensions: vec![],
            languages: vec![],
            uses_llm: false,
            contract,
            pre,
        };
        let limits = CallLimits::for_kind(PluginKind::Validator);
        let info = self
            .describe(&plugin, limits)
            .map_err(LoadError::Describe)?;
        if info.kind != kind {
            return Err(LoadError::KindMismatch {
                world: kind,
                declared: info.kind,
            });
        }
        if let Err(e) = semver::Version::parse(&info.version) {
            return Err(LoadError::BadVersion {
                version: info.version,
                reason: e.to_string(),
            });
        }
        if kind == PluginKind::Analyzer {
            let (languages, extensions) = self
                .analyzer_coverage(&plugin, limits)
                .map_err(LoadError::Describe)?;
            plugin.languages = languages;
            plugin.extensions = extensions;
        }
        check_imports(&imports, &info, contract)?;
        plugin.uses_llm = imports.iter().any(|i| i.starts_with(LLM_INTERFACE));
        plugin.info = info;
        Ok(plugin)
    }

    /// Compiles on a separate thread and gives up after
    /// [`limits::MAX_COMPILE_TIME`]. Cranelift cannot be interrupted, so the
    /// thread finishes in the background; the component is refused either way.
    fn compile(&self, digest: &str, bytes: &[u8]) -> Result<Component, LoadError> {
        if let Some(component) = self.cache.load(&self.engine, digest) {
            return Ok(component);
        }
        let (tx, rx) = std::sync::mpsc::channel();
        let engine = self.engine.clone();
        let cache = self.cache.clone();
        let digest = digest.to_owned();
        let bytes = bytes.to_vec();
        std::thread::Builder::new()
            .name("qlp-compile".into())
            .spawn(move || {
                let _ = tx.send(cache.compile_and_store(&engine, &digest, &bytes));
            })
            .map_err(|e| LoadError::Invalid(format!("cannot start the compiler: {e}")))?;
        match rx.recv_timeout(limits::MAX_COMPILE_TIME) {
            Ok(result) => result.map_err(LoadError::Invalid),
            Err(_) => Err(LoadError::CompileTimeout(limits::MAX_COMPILE_TIME)),
        }
    }

    fn world_of(&self, component: &Component) -> Result<PluginKind, LoadError> {
        let ty = component.component_type();
        let exports: Vec<String> = ty
            .exports(&self.engine)
            .map(|(name, _)| name.to_owned())
            .collect();
        let has = |n: &str| exports.iter().any(|e| e == n);
        if !has("describe") {
            return Err(LoadError::UnknownWorld);
        }
        worlds::WORLD_EXPORTS
            .into_iter()
            .find(|(name, _)| has(name))
            .map(|(_, kind)| kind)
            .ok_or(LoadError::UnknownWorld)
    }

    /// Runs `f` in a fresh store under `limits`, classifying any failure.
    ///
    /// `input` is the size of the call's arguments: over
    /// [`CallLimits::max_input`] the plugin is not even instantiated. The
    /// result is measured against [`CallLimits::max_output`] as soon as it
    /// is lifted.
    fn call<R: WireSize>(
        &self,
        plugin: &Plugin,
        limits: CallLimits,
        ctx: CallContext,
        input: usize,
        f: impl FnOnce(&mut Store<State>) -> wasmtime::Result<R>,
    ) -> (Result<R, CallError>, Usage) {
        if input > limits.max_input {
            let e = CallError::InputTooLarge {
                size: input,
                limit: limits.max_input,
            };
            return (Err(e), Usage::default());
        }
        if ctx
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
        {
            return (Err(CallError::Cancelled), Usage::default());
        }
        let started = Instant::now();
        let state = State {
            plugin: plugin.info.name.as_str().into(),
            config: ctx.config,
            secret_values: Arc::new(ctx.secrets.values().cloned().collect()),
            secrets: ctx.secrets,
            limiter: Limiter::new(limits.memory),
            log_lines: 0,
            logs_dropped: 0,
            workspace: ctx.workspace,
            http: ctx.http,
            http_requests: 0,
            deadline: started + limits.timeout,
            cancelled: false,
            wasi: None,
            llm: ctx.llm,
            llm_spent: llm::Spent::default(),
            table: Default::default(),
            capsule_read: 0,
            max_input: limits.max_input,
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limiter);
        let ticks = (limits.timeout.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64;
        match ctx.cancel {
            // A cancellable call looks at its flag on every tick, and at the
            // clock: ticks that pass while the plugin waits in a host call
            // (HTTP) are not seen one by one, so counting them would
            // stretch the deadline by every wait.
            Some(flag) => {
                let deadline = started + limits.timeout;
                store.set_epoch_deadline(1);
                store.epoch_deadline_callback(move |mut cx| {
                    if flag.load(Ordering::Relaxed) {
                        cx.data_mut().cancelled = true;
                        return Ok(UpdateDeadline::Interrupt);
                    }
                    Ok(if Instant::now() >= deadline {
                        UpdateDeadline::Interrupt
                    } else {
                        UpdateDeadline::Continue(1)
                    })
                });
            }
            None => {
                store.set_epoch_deadline(ticks);
                store.epoch_deadline_trap();
            }
        }
        let fuel = limits.fuel.unwrap_or(u64::MAX);
        if self.fuel
            && let Err(e) = store.set_fuel(fuel)
        {
            return (
                Err(CallError::Host(format!("cannot set fuel: {e}"))),
                Usage::default(),
            );
        }
        let result = f(&mut store);
        let fuel_consumed = if self.fuel {
            store.get_fuel().ok().map(|left| fuel - left)
        } else {
            None
        };
        let state = store.data();
        if state.logs_dropped > 0 {
            tracing::warn!(plugin = %plugin.info.name, dropped = state.logs_dropped, "plugin log lines over the per-call limit were dropped");
        }
        let spent = state.llm_spent;
        let usage = Usage {
            wall_ms: started.elapsed().as_millis() as u64,
            peak_memory_bytes: state.limiter.peak_memory as u64,
            fuel_consumed,
            llm: (spent.completions > 0).then_some(spent),
        };
        let result = result.map_err(|e| {
            if state.cancelled {
                return CallError::Cancelled;
            }
            if state.limiter.memory_exceeded {
                return CallError::MemoryLimit(limits.memory);
            }
            match e.downcast_ref::<Trap>() {
                Some(Trap::Interrupt) => CallError::Timeout(limits.timeout),
                Some(Trap::StackOverflow) => CallError::StackOverflow,
                Some(Trap::OutOfFuel) => CallError::OutOfFuel(fuel),
                Some(trap) => CallError::Trap(trap.to_string()),
                // Lifting a result checks UTF-8, enum and flag ranges: a
                // failure there is the plugin's invalid output.
                None => {
                    let msg = format!("{e:#}");
                    if msg.contains("invalid")
                        || msg.contains("out of bounds")
                        || msg.contains("utf-8")
                    {
                        CallError::InvalidOutput(text::sanitize(&msg, 1024))
                    } else {
                        CallError::Trap(text::sanitize(&msg, 1024))
                    }
                }
            }
        });
        // Epoch interruption stops wasm code, not a host wait; a wait is
        // cut at the deadline, and a call still running then has had its
        // time.
        let result = result.and_then(|r| {
            if started.elapsed() >= limits.timeout {
                return Err(CallError::Timeout(limits.timeout));
            }
            let size = r.wire_size();
            if size > limits.max_output {
                Err(CallError::OutputTooLarge {
                    size,
                    limit: limits.max_output,
                })
            } else {
                Ok(r)
            }
        });
        // `returned`: the call ran to its end, with a result or the
        // plugin's own error (the stage metrics carry its code); else how
        // the sandbox stopped it.
        crate::metrics::plugin_call(
            &plugin.info.name,
            plugin.info.kind.as_str(),
            result.as_ref().map_or_else(CallError::code, |_| "returned"),
            started.elapsed(),
            usage.fuel_consumed,
            usage.peak_memory_bytes,
        );
        (result, usage)
    }

    fn describe(&self, plugin: &Plugin, limits: CallLimits) -> Result<PluginInfo, CallError> {
        let (r, _) = self.call(plugin, limits, CallContext::default(), 0, |store| {
            plugin.pre.describe(store)
        });
        let info = r?;
        if info.name.is_empty() || info.name.len() > 128 || info.name.chars().any(char::is_control)
        {
            return Err(CallError::InvalidOutput(format!(
                "invalid plugin name `{}`",
                text::sanitize(&info.name, 128)
            )));
        }
        Ok(info)
    }

    fn analyzer_coverage(
        &self,
        plugin: &Plugin,
        limits: CallLimits,
    ) -> Result<(Vec<String>, Vec<String>), CallError> {
        let ctx = CallContext::default;
        let (r, _) = match &plugin.pre {
            Pre::V0_1(v0_1::Pre::Analyzer(pre)) => self.call(plugin, limits, ctx(), 0, |store| {
                let inst = pre.instantiate(&mut *store)?;
                Ok((
                    inst.call_languages(&mut *store)?,
                    inst.call_extensions(&mut *store)?,
                ))
            }),
            Pre::V0_2(v0_2::Pre::Analyzer(pre)) => self.call(plugin, limits, ctx(), 0, |store| {
                let inst = pre.instantiate(&mut *store)?;
                Ok((
                    inst.call_languages(&mut *store)?,
                    inst.call_extensions(&mut *store)?,
                ))
            }),
            _ => return Err(wrong_kind(PluginKind::Analyzer, plugin)),
        };
        let (languages, extensions) = r?;
        let norm = |v: Vec<String>| {
            v.into_iter()
                .map(|s| s.trim_start_matches('.').to_ascii_lowercase())
                .collect()
        };
        Ok((norm(languages), norm(extensions)))
    }

    /// Asks an agent to generate files. A 0.1 agent gets the project's
    /// files copied into its request and each finding's path and line; a
    /// 0.2 agent reads the project through its capsule and gets every
    /// finding whole.
    pub fn generate(
        &self,
        plugin: &Plugin,
        limits: CallLimits,
        ctx: CallContext,
        request: &model::GenerationRequest,
    ) -> (Result<Vec<model::File>, CallError>, Usage) {
        match &plugin.pre {
            Pre::V0_1(v0_1::Pre::Agent(pre)) => {
                let request = wit::GenerationRequest::from(request);
                let input = request.wire_size();
                let (r, usage) = self.call(plugin, limits, ctx, input, |store| {
                    pre.instantiate(&mut *store)?
                        .call_generate(&mut *store, &request)
                });
                (
                    flatten(r).map(|f| f.into_iter().map(Into::into).collect()),
                    usage,
                )
            }
            Pre::V0_2(v0_2::Pre::Agent(pre)) => {
                let input = request.wire_size() - request.project.content_bytes();
                let (request, project) = convert::v0_2::generation(request);
                let (r, usage) = self.call(plugin, limits, ctx, input, |store| {
                    let project = store.data_mut().table.push(project)?;
                    pre.instantiate(&mut *store)?
                        .call_generate(&mut *store, &request, project)
                });
                let files = |f: Vec<_>| {
                    f.into_iter()
                        .map(|f: v0_2_wit::File| wit::File::from(f).into())
                        .collect()
                };
                (flatten(r).map(files), usage)
            }
            _ => (Err(wrong_kind(PluginKind::Agent, plugin)), Usage::default()),
        }
    }

    /// Asks an analyzer to measure one file.
    pub fn analyze(
        &self,
        plugin: &Plugin,
        limits: CallLimits,
        ctx: CallContext,
        file: &wit::File,
    ) -> (Result<model::Analysis, CallError>, Usage) {
        let input = file.wire_size();
        let (r, usage) = match &plugin.pre {
            Pre::V0_1(v0_1::Pre::Analyzer(pre)) => {
                let (r, usage) = self.call(plugin, limits, ctx, input, |store| {
                    pre.instantiate(&mut *store)?
                        .call_analyze(&mut *store, file)
                });
                (flatten(r), usage)
            }
            Pre::V0_2(v0_2::Pre::Analyzer(pre)) => {
                let file = v0_2_wit::File::from(file.clone());
                let (r, usage) = self.call(plugin, limits, ctx, input, |store| {
                    pre.instantiate(&mut *store)?
                        .call_analyze(&mut *store, &file)
                });
                (flatten(r).map(wit::Analysis::from), usage)
            }
            _ => {
                let e = wrong_kind(PluginKind::Analyzer, plugin);
                return (Err(e), Usage::default());
            }
        };
        (
            r.map(|a| convert::analysis_from_wit(a, &plugin.info.name)),
            usage,
        )
    }

    /// Runs `call` on a 0.2 plugin with `view` as the capsule it reads.
    /// `input` is the rest of the call's input: the files' contents are
    /// counted as they are read.
    fn with_capsule<R: WireSize>(
        &self,
        plugin: &Plugin,
        limits: CallLimits,
        ctx: CallContext,
        view: &Arc<model::CapsuleView>,
        input: usize,
        call: impl FnOnce(
            &mut Store<State>,
            wasmtime::component::Resource<Capsule>,
        ) -> wasmtime::Result<R>,
    ) -> (Result<R, CallError>, Usage) {
        let capsule = Capsule::new(view.clone());
        let input = input + view.wire_size() - view.content_bytes();
        self.call(plugin, limits, ctx, input, |store| {
            let capsule = store.data_mut().table.push(capsule)?;
            call(store, capsule)
        })
    }

    /// Asks a validator for its report on a capsule: a 0.1 validator gets
    /// the view copied whole, a 0.2 one reads it through its capsule.
    pub fn validate(
        &self,
        plugin: &Plugin,
        limits: CallLimits,
        ctx: CallContext,
        view: &Arc<model::CapsuleView>,
    ) -> (Result<model::Report, CallError>, Usage) {
        let (r, usage) = match &plugin.pre {
            Pre::V0_1(v0_1::Pre::Validator(pre)) => {
                let view = wit::CapsuleView::from(&**view);
                let input = view.wire_size();
                let (r, usage) = self.call(plugin, limits, ctx, input, |store| {
                    pre.instantiate(&mut *store)?
                        .call_validate(&mut *store, &view)
                });
                (flatten(r).map(model::Report::from), usage)
            }
            Pre::V0_2(v0_2::Pre::Validator(pre)) => {
                let (r, usage) =
                    self.with_capsule(plugin, limits, ctx, view, 0, |store, capsule| {
                        pre.instantiate(&mut *store)?
                            .call_validate(&mut *store, capsule)
                    });
                (flatten(r).map(model::Report::from), usage)
            }
            _ => {
                let e = wrong_kind(PluginKind::Validator, plugin);
                return (Err(e), Usage::default());
            }
        };
        let r = r.and_then(|report| {
            if report.score > 100 {
                Err(CallError::InvalidOutput(format!(
                    "score {} is over 100",
                    report.score
                )))
            } else {
                Ok(report)
            }
        });
        (r, usage)
    }

    /// Asks an exporter to package a capsule.
    pub fn export(
        &self,
        plugin: &Plugin,
        limits: CallLimits,
        ctx: CallContext,
        view: &Arc<model::CapsuleView>,
        options: &wit::ExportOptions,
    ) -> (Result<model::Artifact, CallError>, Usage) {
        match &plugin.pre {
            Pre::V0_1(v0_1::Pre::Exporter(pre)) => {
                let view = wit::CapsuleView::from(&**view);
                let input = view.wire_size() + options.wire_size();
                let (r, usage) = self.call(plugin, limits, ctx, input, |store| {
                    pre.instantiate(&mut *store)?
                        .call_export(&mut *store, &view, options)
                });
                (flatten(r).map(Into::into), usage)
            }
            Pre::V0_2(v0_2::Pre::Exporter(pre)) => {
                let input = options.wire_size();
                let options = v0_2_wit::ExportOptions::from(options.clone());
                let (r, usage) =
                    self.with_capsule(plugin, limits, ctx, view, input, |store, capsule| {
                        pre.instantiate(&mut *store)?
                            .call_export(&mut *store, capsule, &options)
                    });
                (flatten(r).map(|a| wit::Artifact::from(a).into()), usage)
            }
            _ => (
                Err(wrong_kind(PluginKind::Exporter, plugin)),
                Usage::default(),
            ),
        }
    }

    /// The hash of this engine's configuration that names its compiled
    /// artifacts in the cache (see [`cache`]): artifacts under another hash
    /// are never loaded by this runtime.
    pub fn engine_hash(&self) -> &str {
        self.cache.engine_hash()
    }

    /// Where this runtime caches the compiled component whose blake3 is
    /// `digest` (the file exists once it has loaded that component).
    pub fn artifact_path(&self, digest: &str) -> PathBuf {
        self.cache.path(digest)
    }

    /// Whether the engine meters fuel (chosen when it was created).
    pub fn meters_fuel(&self) -> bool {
        self.fuel
    }

    /// Asks a planner to read an intent.
    pub fn plan(
        &self,
        plugin: &Plugin,
        limits: CallLimits,
        ctx: CallContext,
        request: &wit::PlanningRequest,
    ) -> (Result<model::Plan, CallError>, Usage) {
        let input = request.wire_size();
        let (r, usage) = match &plugin.pre {
            Pre::V0_1(v0_1::Pre::Planner(pre)) => {
                let (r, usage) = self.call(plugin, limits, ctx, input, |store| {
                    pre.instantiate(&mut *store)?
                        .call_plan(&mut *store, request)
                });
                (flatten(r), usage)
            }
            Pre::V0_2(v0_2::Pre::Planner(pre)) => {
                let request = v0_2_wit::PlanningRequest::from(request.clone());
                let (r, usage) = self.call(plugin, limits, ctx, input, |store| {
                    pre.instantiate(&mut *store)?
                        .call_plan(&mut *store, &request)
                });
                (flatten(r).map(wit::Plan::from), usage)
            }
            _ => {
                let e = wrong_kind(PluginKind::Planner, plugin);
                return (Err(e), Usage::default());
            }
        };
        (r.map(model::Plan::from), usage)
    }

    /// Asks a delivery adapter to hand an artifact over.
    pub fn deliver(
        &self,
        plugin: &Plugin,
        limits: CallLimits,
        ctx: CallContext,
        artifact: &wit::Artifact,
        target: &wit::DeliveryTarget,
    ) -> (Result<model::Receipt, CallError>, Usage) {
        let secrets: Vec<String> = ctx.secrets.values().cloned().collect();
        let input = artifact.wire_size() + target.wire_size();
        let (r, usage) = match &plugin.pre {
            Pre::V0_1(v0_1::Pre::Delivery(pre)) => {
                let (r, usage) = self.call(plugin, limits, ctx, input, |store| {
                    pre.instantiate(&mut *store)?
                        .call_deliver(&mut *store, artifact, target)
                });
                (flatten(r), usage)
            }
            Pre::V0_2(v0_2::Pre::Delivery(pre)) => {
                let artifact = v0_2_wit::Artifact::from(artifact.clone());
                let target = v0_2_wit::DeliveryTarget::from(target.clone());
                let (r, usage) = self.call(plugin, limits, ctx, input, |store| {
                    pre.instantiate(&mut *store)?
                        .call_deliver(&mut *store, &artifact, &target)
                });
                (flatten(r).map(wit::Receipt::from), usage)
            }
            _ => {
                let e = wrong_kind(PluginKind::Delivery, plugin);
                return (Err(e), Usage::default());
            }
        };
        let r = r.map(|receipt| {
            let receipt = model::Receipt::from(receipt);
            let mask = |t: &str| text::mask(t, &secrets);
            model::Receipt {
                location: mask(&receipt.location),
                details: receipt
                    .details
                    .iter()
                    .map(|(k, v)| (mask(k), mask(v)))
                    .collect(),
            }
        });
        (r.map_err(|e| e.masked(&secrets)), usage)
    }
}

impl Runtime {
    /// For `qlp bench`: instantiates a validator once and times `n` calls
    /// of `validate` on that one instance, the cost a fresh instance per
    /// call is compared against. Never used to serve intents: state would
    /// leak from one call to the next.
    pub fn bench_reused_instance(
        &self,
        plugin: &Plugin,
        view: &Arc<model::CapsuleView>,
        n: usize,
    ) -> anyhow::Result<Vec<Duration>> {
        let limits = CallLimits::for_kind(PluginKind::Validator);
        let fail = |e: wit::PluginError| wasmtime::format_err!("{}", e.message);
        let (r, _) = match &plugin.pre {
            Pre::V0_1(v0_1::Pre::Validator(pre)) => {
                let view = wit::CapsuleView::from(&**view);
                self.call(plugin, limits, CallContext::default(), 0, |store| {
                    store.set_epoch_deadline(u64::MAX / 2);
                    let instance = pre.instantiate(&mut *store)?;
                    let mut times = Vec::with_capacity(n);
                    for _ in 0..n {
                        let started = Instant::now();
                        instance.call_validate(&mut *store, &view)?.map_err(fail)?;
                        times.push(started.elapsed());
                    }
                    Ok(BenchTimes(times))
                })
            }
            Pre::V0_2(v0_2::Pre::Validator(pre)) => {
                let fail = |e: v0_2_wit::PluginError| wasmtime::format_err!("{}", e.message);
                let capsule = Capsule::new(view.clone());
                self.call(plugin, limits, CallContext::default(), 0, |store| {
                    store.set_epoch_deadline(u64::MAX / 2);
                    let capsule = store.data_mut().table.push(capsule)?;
                    let instance = pre.instantiate(&mut *store)?;
                    let mut times = Vec::with_capacity(n);
                    for _ in 0..n {
                        let borrowed = wasmtime::component::Resource::new_borrow(capsule.rep());
                        let started = Instant::now();
                        instance
                            .call_validate(&mut *store, borrowed)?
                            .map_err(fail)?;
                        times.push(started.elapsed());
                    }
                    Ok(BenchTimes(times))
                })
            }
            _ => anyhow::bail!("{} is not a validator", plugin.info.name),
        };
        Ok(r.map_err(|e| anyhow::anyhow!("{e}"))?.0)
    }
}

struct BenchTimes(Vec<Duration>);

impl WireSize for BenchTimes {
    fn wire_size(&self) -> usize {
        0
    }
}

fn wrong_kind(expected: PluginKind, plugin: &Plugin) -> CallError {
    CallError::WrongKind {
        expected,
        actual: plugin.pre.kind(),
    }
}

fn flatten<T, E: PluginFailure>(r: Result<Result<T, E>, CallError>) -> Result<T, CallError> {
    r?.map_err(PluginFailure::into_call_error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::Capability;

    fn info(capabilities: Vec<Capability>) -> PluginInfo {
        PluginInfo {
            name: "acme/plugin".into(),
            version: "1.0.0".into(),
            kind: PluginKind::Agent,
            description: String::new(),
            capabilities,
        }
    }

    fn check(
        imports: &[&str],
        capabilities: Vec<Capability>,
        contract: Contract,
    ) -> Result<(), String> {
        let imports: Vec<String> = imports.iter().map(|i| (*i).to_owned()).collect();
        check_imports(&imports, &info(capabilities), contract).map_err(|e| e.to_string())
    }

    #[test]
    fn each_capability_interface_needs_its_declaration() {
        let cases = [
            (
                "qlp:plugin/http@0.2.0",
                Capability::Http("a.example:443".into()),
                "`http`",
            ),
            (
                "qlp:plugin/workspace@0.2.0",
                Capability::DirectoryRead,
                "`directory-read`",
            ),
            (
                "qlp:plugin/secrets@0.2.0",
                Capability::Secret("KEY".into()),
                "`secret(KEY)`",
            ),
            ("qlp:llm/chat@0.1.0", Capability::Llm, "`llm`"),
        ];
        for (import, capability, needs) in cases {
            let err =
                check(&[import, "qlp:plugin/host@0.2.0"], vec![], Contract::V0_2).unwrap_err();
            assert!(err.contains(import) && err.contains(needs), "{err}");
            assert!(!err.contains("qlp:plugin/host"), "{err}");
            check(&[import], vec![capability], Contract::V0_2).unwrap();
        }
        check(
            &["qlp:plugin/workspace@0.2.0"],
            vec![Capability::DirectoryWrite],
            Contract::V0_2,
        )
        .unwrap();
    }

    #[test]
    fn a_0_1_agent_reaches_the_model_without_declaring_it_but_not_http() {
        check(&["qlp:llm/chat@0.1.0"], vec![], Contract::V0_1).unwrap();
        let err = check(&["qlp:plugin/http@0.1.0"], vec![], Contract::V0_1).unwrap_err();
        assert!(err.contains("`http`"), "{err}");
    }

    #[test]
    fn every_undeclared_import_is_named() {
        let err = check(
            &["qlp:plugin/http@0.2.0", "qlp:plugin/secrets@0.2.0"],
            vec![],
            Contract::V0_2,
        )
        .unwrap_err();
        assert!(
            err.contains("http@0.2.0") && err.contains("secrets@0.2.0"),
            "{err}"
        );
    }

    #[test]
    fn contract_versions_name_their_package() {
        assert_eq!(Contract::V0_2.package(), "qlp:plugin@0.2.0");
        assert_eq!(
            Contract::from_package("qlp:plugin@0.1.0"),
            Some(Contract::V0_1)
        );
        assert_eq!(Contract::from_package("qlp:plugin@0.3.0"), None);
    }
}
