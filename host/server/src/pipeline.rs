//! The pipeline an intent runs: the stages of its tier's graph (agents,
//! analyzers, validators), each started once the stages it needs ended,
//! then the quality gate, the exporter and delivery.
//!
//! Every plugin call runs on a blocking thread (wasmtime calls are
//! synchronous and bounded by their epoch deadline) and is recorded as a
//! stage run with its timing, outcome and usage. A failing stage fails the
//! intent with the stage, the plugin and the cause named; the server goes
//! on.
//!
//! When the gate fails and the tier allows repair rounds, the findings go
//! back to the agents and the whole round runs again. A capsule that passes
//! waits for a person's approval where the tier or the gate asks for one,
//! then is delivered.
//!
//! Intents are durable jobs ([`Dispatcher`]): a worker claims one with a
//! lease and renews it; each completed stage's output is kept in the
//! database with the stage record, so a run that dies resumes at its first
//! unfinished stage, and a delivery that completed is never repeated.
//! Cancellation reaches a running plugin through its epoch callback.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use tokio::sync::Notify;

use crate::capsule::{
    self, Authored, CapsuleStore, FileEntry, IterationSummary, Manifest, ManifestGate,
    ManifestIntent, MergeError, PluginEntry,
};
use crate::catalog::{Catalog, Plugins, Source};
use crate::gate::{self, Decision, Verdict};
use crate::rulepacks::{self, Packs, RULES_PLUGIN};
use crate::store::{
    Actor, CapsuleRecord, ErrorInfo, IntentStatus, StageStatus, Store, UPLOAD_KEY, Unavailable,
};
use crate::tiers::{Stage, StageKind, Tier, Tiers};
use qlp_contract::model::{self, File, Intent, IntentKind, PluginKind, Validation};
use qlp_runtime::bindings::wit;
use qlp_runtime::limits::CallLimits;
use qlp_runtime::llm;
use qlp_runtime::{CallContext, CallError, Plugin, Runtime, Usage, Workspace};

/// The code of an intent whose stack no installed agent generates.
pub const UNSUPPORTED_STACK: &str = "UNSUPPORTED_STACK";

/// The author of a check's files in its manifest: they were uploaded.
pub const UPLOAD_AUTHOR: &str = "upload";

/// The blake3 of each file's contents, `None` for a file that cannot be
/// read (absent, or being replaced).
pub type Fingerprint = Vec<Option<blake3::Hash>>;

/// The [`Fingerprint`] of `files` as they are now.
pub fn fingerprint(files: &[PathBuf]) -> Fingerprint {
    files
        .iter()
        .map(|f| std::fs::read(f).ok().map(|b| blake3::hash(&b)))
        .collect()
}

/// Counts a reload as pending until dropped.
struct Pending<'a>(&'a std::sync::atomic::AtomicUsize);

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What a reload that read `before` and left `after` has loaded: `after`
/// when nothing changed while it ran, else `before`, so that whatever
/// changed meanwhile (its own import, or another replica's publish) is
/// looked at again rather than taken as loaded.
pub fn settled(before: Fingerprint, after: Fingerprint) -> Fingerprint {
    if before == after { after } else { before }
}

/// Everything a pipeline run needs.
pub struct Pipeline {
    pub runtime: Arc<Runtime>,
    /// The tiers in force and their plugins; [`Pipeline::reload`] replaces
    /// them. A run keeps the ones it started with.
    pub catalog: std::sync::RwLock<Arc<Catalog>>,
    /// Where the catalog's plugins come from.
    pub source: Source,
    /// Held by the reload in progress.
    pub reloading: Mutex<()>,
    /// What the last reload read of the files that may change behind the
    /// server's back ([`Source::watched`]), so that a change this server
    /// made and already loaded (a publish) is not loaded twice.
    pub loaded: Mutex<Fingerprint>,
    /// Reloads asked for and not finished: while one is, the watch waits
    /// for what it will have loaded.
    pub reloads_pending: std::sync::atomic::AtomicUsize,
    pub store: Store,
    pub data_dir: PathBuf,
    pub capsules: CapsuleStore,
    /// Plugin calls running at once across the server.
    pub calls: Arc<tokio::sync::Semaphore>,
    /// Set when the server is stopping: runs interrupted from now on are
    /// given back to the queue, not cancelled.
    pub stopping: AtomicBool,
}

/// Why an intent failed.
pub struct Failure {
    pub code: String,
    pub message: String,
}

/// The code of a request's planner call that found every plugin call slot
/// taken for [`PLAN_WAIT`].
pub const SERVER_BUSY: &str = "SERVER_BUSY";

/// How long a request (a submission, an analysis) waits for a plugin call
/// slot for its planner.
pub const PLAN_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// The code of a run interrupted by the server shutting down.
pub const INTERRUPTED: &str = "INTERRUPTED";

impl Failure {
    fn stage(stage: &str, plugin: &str, e: &CallError) -> Self {
        Self {
            code: e.code().to_owned(),
            message: format!("stage `{stage}` ({plugin}) failed: {e}"),
        }
    }

    fn host(e: impl std::fmt::Display) -> Self {
        Self {
            code: "HOST_ERROR".into(),
            message: e.to_string(),
        }
    }

    /// Whether the cause is the server's storage (a busy, full or
    /// read-only database or disk) or its shutting down, not the intent:
    /// the run is then released to resume later instead of failing the
    /// intent.
    pub fn is_transient(&self) -> bool {
        self.code == Unavailable::Busy.code()
            || self.code == Unavailable::Unwritable.code()
            || self.code == INTERRUPTED
    }

    /// A blocking task that did not return: cancelled when the server
    /// shuts down (transient: the intent resumes at the next start), or
    /// panicked.
    fn joined(e: tokio::task::JoinError) -> Self {
        if e.is_cancelled() {
            Self {
                code: INTERRUPTED.into(),
                message: "the server shut down during the stage".into(),
            }
        } else {
            Self::host(e)
        }
    }

    /// A store error: transient when the database is busy or unwritable.
    fn store(e: crate::store::Error) -> Self {
        match e.unavailable() {
            Some(why) => Self {
                code: why.code().into(),
                message: e.to_string(),
            },
            None => Self::host(e),
        }
    }

    /// A file system error while doing `what`: transient, like an
    /// unwritable database, when the disk is full or read-only.
    fn io(what: &str, e: &std::io::Error) -> Self {
        use std::io::ErrorKind::{QuotaExceeded, ReadOnlyFilesystem, StorageFull};
        let code = match e.kind() {
            StorageFull | QuotaExceeded | ReadOnlyFilesystem => Unavailable::Unwritable.code(),
            _ => "HOST_ERROR",
        };
        Self {
            code: code.into(),
            message: format!("{what}: {e}"),
        }
    }
}

impl Pipeline {
    /// The tiers and plugins in force now.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog.read().expect("never poisoned").clone()
    }

    /// The tiers in force now.
    pub fn tiers(&self) -> Arc<Tiers> {
        self.catalog().tiers.clone()
    }

    /// Imports the plugin directories again, reads and checks the tiers
    /// file (the built-in tiers without one), resolves every tier's
    /// plugins, and puts the result in force for intents that start from
    /// now on; anything that fails a check changes nothing. Blocking.
    pub fn reload(&self) -> anyhow::Result<()> {
        // One reload at a time, so an older result never replaces a newer.
        let _one = self.reloading.lock().expect("never poisoned");
        let before = fingerprint(&self.source.watched());
        let loaded = self.reload_locked();
        *self.loaded.lock().expect("never poisoned") =
            settled(before, fingerprint(&self.source.watched()));
        loaded
    }

    fn reload_locked(&self) -> anyhow::Result<()> {
        let tiers = match &self.source.tiers {
            Some(path) => Tiers::load(path)?,
            None => Tiers::defaults(),
        };
        if tiers.uses_fuel() && !self.runtime.meters_fuel() {
            anyhow::bail!(
                "a fuel limit needs fuel metering, which is chosen at start-up: restart to add one"
            );
        }
        let catalog = Catalog::build(&self.runtime, &self.source, tiers)?;
        *self.catalog.write().expect("never poisoned") = Arc::new(catalog);
        Ok(())
    }

    /// [`Pipeline::reload`] on a blocking thread, the outcome logged with
    /// `why` it was asked for.
    pub fn reload_in_background(self: &Arc<Self>, why: &'static str) {
        let pipeline = self.clone();
        let handle = tokio::runtime::Handle::current();
        self.reloads_pending.fetch_add(1, Ordering::SeqCst);
        tokio::task::spawn_blocking(move || {
            let _pending = Pending(&pipeline.reloads_pending);
            let outcome = match pipeline.reload() {
                Ok(()) => {
                    tracing::info!(why, "tiers and plugins reloaded");
                    "ok".to_owned()
                }
                Err(e) => {
                    let reason = format!("{e:#}");
                    tracing::error!(
                        why,
                        error = reason,
                        "tiers file refused; the tiers in force stay"
                    );
                    format!("refused: {}", reason.chars().take(500).collect::<String>())
                }
            };
            // Which tiers and plugins run is a change of the server: it
            // goes into the audit trail, refused or not.
            let actor = Actor::server(crate::auth::DEFAULT_TENANT);
            let audited =
                handle.block_on(pipeline.store.audit(&actor, "tiers.reload", why, &outcome));
            if let Err(e) = audited {
                tracing::error!(error = %e, "the reload was not audited");
            }
        });
    }

    fn context(&self, tiers: &Tiers, plugin: &Plugin) -> Result<CallContext, Failure> {
        let grant = tiers
            .grants
            .get(&plugin.info.name)
            .cloned()
            .unwrap_or_default();
        // A capability reaches a call only when the plugin declared it and
        // the operator granted it.
        let effective = grant.effective(&plugin.info.capabilities);
        let mut ctx = CallContext {
            config: Arc::new(grant.config.clone()),
            secrets: Arc::new(
                effective
                    .secrets
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            ),
            workspace: None,
            http: None,
            cancel: None,
            llm: None,
        };
        if !effective.http.is_empty() {
            ctx.http = Some(Arc::new(grant.http_grant().map_err(Failure::host)?));
        }
        if let Some((dir, writable)) = effective.directory {
            let dir = self.data_dir.join(dir);
            std::fs::create_dir_all(&dir).map_err(Failure::host)?;
            let opened = cap_std::fs::Dir::open_ambient_dir(&dir, cap_std::ambient_authority())
                .map_err(|e| Failure::host(format!("cannot open {}: {e}", dir.display())))?;
            ctx.workspace = Some(Workspace {
                dir: opened,
                writable,
            });
        }
        Ok(ctx)
    }

    /// Runs the planner `tiers` configure on `intent` outside any stage, for
    /// `POST /v1/analyses` and submissions that name no tier. `None` when
    /// no planner is configured.
    pub async fn plan(
        &self,
        catalog: &Catalog,
        intent: &Intent,
    ) -> Result<Option<model::Plan>, Failure> {
        let Some(call) = self.planner_call(catalog, intent.into())? else {
            return Ok(None);
        };
        // A request's planner takes its turn among the server's plugin
        // calls (`--max-calls`) like any stage, waiting at most PLAN_WAIT.
        let _turn = match tokio::time::timeout(PLAN_WAIT, self.calls.acquire()).await {
            Ok(turn) => turn.map_err(Failure::host)?,
            Err(_) => {
                return Err(Failure {
                    code: SERVER_BUSY.into(),
                    message: format!(
                        "every plugin call slot (--max-calls) stayed taken for {} s",
                        PLAN_WAIT.as_secs()
                    ),
                });
            }
        };
        let runtime = self.runtime.clone();
        let plugin = call.plugin.clone();
        let (result, _) = tokio::task::spawn_blocking(move || {
            runtime.plan(&call.plugin, call.limits, call.ctx, &call.request)
        })
        .await
        .map_err(Failure::joined)?;
        result
            .map(Some)
            .map_err(|e| Failure::stage("plan", &plugin.info.name, &e))
    }

    /// The call of the catalog's planner, if any, on `intent`.
    fn planner_call(
        &self,
        catalog: &Catalog,
        intent: wit::Intent,
    ) -> Result<Option<PlannerCall>, Failure> {
        let tiers = &catalog.tiers;
        let (Some(config), Some(plugin)) = (&tiers.planner, &catalog.planner) else {
            return Ok(None);
        };
        let plugin = plugin.clone();
        Ok(Some(PlannerCall {
            ctx: self.context(tiers, &plugin)?,
            limits: tiers.plugin_limits(&config.plugin, PluginKind::Planner),
            request: wit::PlanningRequest {
                intent,
                tiers: tiers.planner_tiers(),
            },
            plugin,
        }))
    }

    /// Runs an intent `owner` claimed until it ends or waits for approval,
    /// and records the outcome unless the lease was lost meanwhile.
    /// Returns false when storage failed and the intent went back to the
    /// queue unfinished.
    pub async fn run(&self, intent: Intent, owner: &str, cancel: Arc<AtomicBool>) -> bool {
        let span = tracing::info_span!("intent", intent.id = %intent.id, tier = %intent.tier, node = owner);
        // The run continues the trace of the request that submitted it.
        if crate::telemetry::exporting()
            && let Ok(Some(parent)) = self.store.intent_trace_parent(&intent.id).await
        {
            crate::telemetry::continue_trace(&span, &parent);
        }
        tracing::Instrument::instrument(self.run_in_span(intent, owner, cancel), span).await
    }

    async fn run_in_span(&self, intent: Intent, owner: &str, cancel: Arc<AtomicBool>) -> bool {
        let id = intent.id.clone();
        tracing::info!(intent = %id, tier = %intent.tier, "pipeline started");
        let outcome = match Run::start(self, &intent, cancel).await {
            Ok(mut run) => {
                let outcome = run.stages().await;
                run.settle_tenant_tokens().await;
                outcome
            }
            Err(f) => Err(f),
        };
        if let Err(f) = &outcome
            && (f.is_transient()
                || (f.code == "CANCELLED" && self.stopping.load(Ordering::Relaxed)))
        {
            // Nothing is wrong with the intent: give it back to the queue,
            // to resume at its first unfinished stage once storage
            // recovers. Should the release fail too, the lease expires.
            tracing::warn!(intent = %id, code = %f.code, error = %f.message, "storage unavailable or server stopping; the intent will resume later");
            if let Err(e) = self.store.release(&id, owner).await {
                tracing::warn!(intent = %id, error = %e, "cannot release the intent; its lease will expire");
            }
            return false;
        }
        let mut receipts = vec![];
        let (status, error) = match outcome {
            Ok(Outcome::Completed(delivered)) => {
                receipts = delivered;
                (IntentStatus::Completed, None)
            }
            Ok(Outcome::GateFailed) => (IntentStatus::GateFailed, None),
            Ok(Outcome::AwaitingApproval) => (IntentStatus::AwaitingApproval, None),
            Ok(Outcome::Rejected) => (IntentStatus::Rejected, None),
            Err(f) => (
                if f.code == "CANCELLED" {
                    IntentStatus::Cancelled
                } else {
                    IntentStatus::Failed
                },
                Some(ErrorInfo {
                    code: f.code,
                    message: f.message,
                }),
            ),
        };
        qlp_runtime::metrics::intent_finished(&intent.tier, status.as_str());
        match self
            .store
            .finish_run(&id, owner, (status, error), &receipts)
            .await
        {
            Ok(true) => {
                tracing::info!(intent = %id, status = status.as_str(), "pipeline finished")
            }
            Ok(false) => {
                tracing::warn!(intent = %id, "the intent's lease passed to another worker; its outcome is theirs to record")
            }
            Err(e) => tracing::error!(intent = %id, error = %e, "cannot record intent outcome"),
        }
        true
    }
}

/// A planner call ready to make.
struct PlannerCall {
    plugin: Arc<Plugin>,
    ctx: CallContext,
    limits: CallLimits,
    request: wit::PlanningRequest,
}

/// How a run ended, short of a failure.
enum Outcome {
    /// Delivered (or nothing to deliver); the receipts of every artifact
    /// delivered, recorded with the intent's completion.
    Completed(Vec<serde_json::Value>),
    GateFailed,
    AwaitingApproval,
    Rejected,
}

/// One run of one intent: where it is and what earlier runs of it already
/// completed.
struct Run<'a> {
    p: &'a Pipeline,
    intent: &'a Intent,
    /// The tiers and plugins in force when the run started, its tier, and
    /// the plugins of its tier.
    catalog: Arc<Catalog>,
    tiers: Arc<Tiers>,
    tier: Tier,
    plugins: Arc<Plugins>,
    /// The intent as plugins see it: the user's, with the compliance
    /// constraints the planner found.
    run_intent: Intent,
    /// The last stage sequence number used.
    seq: AtomicI64,
    iteration: u32,
    /// Outputs of stages an earlier run completed, by key.
    done: Mutex<HashMap<String, serde_json::Value>>,
    cancel: Arc<AtomicBool>,
    /// The rule packs `qlp/rules` runs: the tier's, then the tenant's.
    packs: Packs,
    /// The tokens the intent may still spend on the model endpoint, over
    /// every stage and round of this run.
    llm_budget: Arc<llm::Budget>,
    /// The intent's tenant, whose tokens are counted; read only when a
    /// model endpoint is configured.
    tenant: String,
    /// What the run holds of its tenant's daily tokens, when a model
    /// endpoint is configured.
    llm_hold: Option<TokenHold>,
}

/// Tokens a run holds of its tenant's daily quota.
struct TokenHold {
    /// The UTC day, `YYYY-MM-DD`.
    day: String,
    held: u64,
}

/// The intent's model budget: what is `left` of its own, or less when its
/// tenant's daily quota has less to give, held back for this run. Held
/// and counted for every tenant, so that a quota set during the day
/// counts what was spent before it.
async fn hold_tenant_tokens(
    p: &Pipeline,
    intent: &Intent,
    tenant: &str,
    left: u64,
) -> Result<(llm::Budget, TokenHold), Failure> {
    let quota = p
        .store
        .tenant_policy(tenant)
        .await
        .map_err(Failure::store)?
        .and_then(|policy| policy.max_llm_tokens_per_day);
    let day = utc_day(std::time::SystemTime::now());
    let held = p
        .store
        .hold_llm_tokens(&intent.id, tenant, &day, left, quota.unwrap_or(u64::MAX))
        .await
        .map_err(Failure::store)?;
    let budget = match quota {
        Some(quota) if held < left => llm::Budget::capped(
            held,
            format!("the tenant's daily quota of {quota} tokens is spent"),
        ),
        _ => llm::Budget::new(held),
    };
    Ok((budget, TokenHold { day, held }))
}

/// The UTC day of `at`, `YYYY-MM-DD`.
fn utc_day(at: std::time::SystemTime) -> String {
    humantime::format_rfc3339_seconds(at).to_string()[..10].to_owned()
}

impl<'a> Run<'a> {
    async fn start(
        p: &'a Pipeline,
        intent: &'a Intent,
        cancel: Arc<AtomicBool>,
    ) -> Result<Self, Failure> {
        let catalog = p.catalog();
        let tiers = catalog.tiers.clone();
        let unknown = || Failure {
            code: "UNKNOWN_TIER".into(),
            message: format!("tier `{}` is no longer configured", intent.tier),
        };
        let tier = tiers.get(&intent.tier).cloned().ok_or_else(unknown)?;
        let plugins = catalog.tier_plugins(&intent.tier).ok_or_else(unknown)?;
        let packs = rule_packs(p, &catalog, intent, &plugins).await?;
        let done = p.store.outputs(&intent.id).await.map_err(Failure::store)?;
        // What the intent may still spend on the model endpoint: a resumed
        // intent keeps what its earlier runs' stages spent.
        let (llm_budget, tenant, llm_hold) = match &tiers.llm {
            Some(endpoint) => {
                let earlier = p.store.stages(&intent.id).await.map_err(Failure::store)?;
                let left = endpoint
                    .max_tokens_per_intent
                    .saturating_sub(llm_tokens_spent(&earlier));
                let tenant = p
                    .store
                    .intent_tenant(&intent.id)
                    .await
                    .map_err(Failure::store)?
                    .unwrap_or_default();
                let (budget, hold) = hold_tenant_tokens(p, intent, &tenant, left).await?;
                (budget, tenant, Some(hold))
            }
            None => (llm::Budget::new(0), String::new(), None),
        };
        let llm_budget = Arc::new(llm_budget);
        if !done.is_empty() {
            tracing::info!(intent = %intent.id, completed = done.len(), "resuming after the stages an earlier run completed");
        }
        Ok(Self {
            p,
            intent,
            catalog,
            tiers,
            tier,
            plugins,
            run_intent: intent.clone(),
            seq: AtomicI64::new(p.store.last_seq(&intent.id).await.map_err(Failure::store)?),
            iteration: 0,
            done: Mutex::new(done),
            cancel,
            packs,
            llm_budget,
            tenant,
            llm_hold,
        })
    }

    /// Gives back what the run held of its tenant's daily tokens and did
    /// not spend. Should that fail, the hold stays until the day ends.
    async fn settle_tenant_tokens(&self) {
        let Some(hold) = &self.llm_hold else {
            return;
        };
        let spent = hold.held.saturating_sub(self.llm_budget.left());
        if let Err(e) = self
            .p
            .store
            .settle_llm_tokens(&self.intent.id, &hold.day, spent)
            .await
        {
            tracing::warn!(intent = %self.intent.id, error = %e, "cannot settle the tenant's model tokens; the intent's hold stays until the day ends");
        }
    }

    /// The plugin `name` of the run's tier.
    fn plugin(&self, name: &str) -> Result<Arc<Plugin>, Failure> {
        self.plugins.get(name).cloned().ok_or_else(|| Failure {
            code: "PLUGIN_NOT_FOUND".into(),
            message: format!("plugin `{name}` is not installed"),
        })
    }

    fn next_seq(&self) -> i64 {
        self.seq.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// What a call of `plugin` in this run is granted, cancellable with
    /// the run.
    fn context(&self, plugin: &Plugin) -> Result<CallContext, Failure> {
        let mut ctx = self.p.context(&self.tiers, plugin)?;
        ctx.cancel = Some(self.cancel.clone());
        if let Some(endpoint) = &self.tiers.llm
            && self
                .tiers
                .grants
                .get(&plugin.info.name)
                .is_some_and(|g| g.llm)
        {
            ctx.llm = Some(llm::Grant {
                endpoint: endpoint.clone(),
                budget: self.llm_budget.clone(),
            });
        }
        if plugin.info.name == RULES_PLUGIN && !self.packs.is_empty() {
            let mut config = (*ctx.config).clone();
            for (i, pack) in self.packs.iter().enumerate() {
                config.insert(rulepacks::config_key(i + 1), pack.text.clone());
            }
            ctx.config = Arc::new(config);
        }
        Ok(ctx)
    }

    fn check_cancelled(&self) -> Result<(), Failure> {
        if self.cancel.load(Ordering::Relaxed) {
            return Err(Failure {
                code: "CANCELLED".into(),
                message: "the intent was cancelled".into(),
            });
        }
        Ok(())
    }

    /// The output an earlier run kept under `key`, if any.
    fn earlier<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, Failure> {
        self.done
            .lock()
            .expect("never poisoned")
            .get(key)
            .map(|v| serde_json::from_value(v.clone()))
            .transpose()
            .map_err(|e| Failure::host(format!("stored output `{key}` is unreadable: {e}")))
    }

    /// Runs one plugin call as a recorded stage whose output is kept under
    /// `key`; a stage an earlier run completed is not run again. The stage
    /// and its call are spans of the intent's trace.
    #[tracing::instrument(
        name = "stage",
        skip_all,
        fields(stage = stage, plugin = %plugin.info.name, iteration = self.iteration)
    )]
    async fn stage<T: Serialize + DeserializeOwned + Send + 'static>(
        &self,
        key: String,
        stage: &str,
        plugin: &Arc<Plugin>,
        call: impl FnOnce(&Runtime, &Plugin) -> (Result<T, CallError>, Usage) + Send + 'static,
        detail: impl FnOnce(&T) -> serde_json::Value,
    ) -> Result<T, Failure> {
        if let Some(value) = self.earlier(&key)? {
            return Ok(value);
        }
        self.check_cancelled()?;
        let store = &self.p.store;
        let intent_id = self.intent.id.as_str();
        // Plugin calls across the server are bounded; the stage starts
        // when it gets its turn.
        let _turn = self.p.calls.acquire().await.map_err(Failure::host)?;
        let seq = self.next_seq();
        let id = store
            .start_stage(
                intent_id,
                seq,
                self.iteration,
                stage,
                Some(&plugin.info.name),
            )
            .await
            .map_err(Failure::store)?;
        let runtime = self.p.runtime.clone();
        let p = plugin.clone();
        let span = tracing::info_span!(
            "plugin.call",
            plugin = %plugin.info.name,
            version = %plugin.info.version,
            outcome = tracing::field::Empty,
            peak_memory_bytes = tracing::field::Empty,
            fuel_consumed = tracing::field::Empty,
        );
        let in_call = span.clone();
        let called = tokio::task::spawn_blocking(move || in_call.in_scope(|| call(&runtime, &p)));
        let (result, usage) = match called.await {
            Ok(done) => done,
            Err(e) if e.is_cancelled() => return Err(Failure::joined(e)),
            Err(e) => (
                Err(CallError::Host(format!("plugin call panicked: {e}"))),
                Usage::default(),
            ),
        };
        span.record(
            "outcome",
            result.as_ref().map_or_else(|e| e.code(), |_| "ok"),
        );
        span.record("peak_memory_bytes", usage.peak_memory_bytes);
        if let Some(fuel) = usage.fuel_consumed {
            span.record("fuel_consumed", fuel);
        }
        if let Some(l) = usage.llm {
            qlp_runtime::metrics::llm_tokens(
                &self.tenant,
                &plugin.info.name,
                l.prompt_tokens,
                l.completion_tokens,
            );
        }
        qlp_runtime::metrics::stage(
            stage,
            &plugin.info.name,
            result.as_ref().map_or_else(|e| e.code(), |_| "ok"),
            std::time::Duration::from_millis(usage.wall_ms),
        );
        match result {
            Ok(value) => {
                let mut d = detail(&value);
                d["peak_memory_bytes"] = json!(usage.peak_memory_bytes);
                if let Some(fuel) = usage.fuel_consumed {
                    d["fuel_consumed"] = json!(fuel);
                }
                if let Some(llm) = usage.llm {
                    d["llm"] = json!(llm);
                }
                let output = serde_json::to_value(&value).map_err(Failure::host)?;
                crate::faults::point("commit", stage);
                store
                    .complete_stage(
                        id,
                        (StageStatus::Succeeded, usage.wall_ms, None, d),
                        (intent_id, &key, &output),
                    )
                    .await
                    .map_err(Failure::store)?;
                crate::faults::point("recorded", stage);
                self.done
                    .lock()
                    .expect("never poisoned")
                    .insert(key, output);
                Ok(value)
            }
            // Stopped because the server is stopping: not the plugin's
            // failure; the stage runs again when the intent resumes.
            Err(CallError::Cancelled) if self.p.stopping.load(Ordering::Relaxed) => {
                let message = format!(
                    "stage `{stage}` ({}) was interrupted: the server is stopping; it runs again when the intent resumes",
                    plugin.info.name
                );
                store
                    .finish_stage(
                        id,
                        StageStatus::Interrupted,
                        usage.wall_ms,
                        Some(ErrorInfo {
                            code: INTERRUPTED.into(),
                            message: message.clone(),
                        }),
                        Some(serde_json::to_value(usage).map_err(Failure::host)?),
                    )
                    .await
                    .map_err(Failure::store)?;
                Err(Failure {
                    code: INTERRUPTED.into(),
                    message,
                })
            }
            Err(e) => {
                let failure = Failure::stage(stage, &plugin.info.name, &e);
                tracing::warn!(intent = intent_id, stage, plugin = %plugin.info.name, code = e.code(), error = %e, "stage failed");
                store
                    .finish_stage(
                        id,
                        StageStatus::Failed,
                        usage.wall_ms,
                        Some(ErrorInfo {
                            code: e.code().to_owned(),
                            message: e.to_string(),
                        }),
                        Some(serde_json::to_value(usage).map_err(Failure::host)?),
                    )
                    .await
                    .map_err(Failure::store)?;
                Err(failure)
            }
        }
    }

    /// A step of the host's own (the gate, the manifest, a skipped
    /// delivery) computed once and kept under `key`; recorded as a stage
    /// (with the plugin it stands for, if any) when `record` says so.
    async fn step<T: Serialize + DeserializeOwned>(
        &self,
        key: &str,
        record: Option<(&str, Option<&str>)>,
        compute: impl FnOnce() -> (T, StageStatus, Option<ErrorInfo>, serde_json::Value),
    ) -> Result<T, Failure> {
        if let Some(value) = self.earlier(key)? {
            return Ok(value);
        }
        let (value, status, error, detail) = compute();
        let output = serde_json::to_value(&value).map_err(Failure::host)?;
        let store = &self.p.store;
        let intent_id = self.intent.id.as_str();
        match record {
            Some((stage, plugin)) => {
                let seq = self.next_seq();
                let id = store
                    .start_stage(intent_id, seq, self.iteration, stage, plugin)
                    .await
                    .map_err(Failure::store)?;
                store
                    .complete_stage(id, (status, 0, error, detail), (intent_id, key, &output))
                    .await
                    .map_err(Failure::store)?;
            }
            None => store
                .put_output(intent_id, key, &output)
                .await
                .map_err(Failure::store)?,
        }
        self.done
            .lock()
            .expect("never poisoned")
            .insert(key.to_owned(), output);
        Ok(value)
    }

    /// Generation, analysis, validation and the gate for one iteration:
    /// the tier's stages, each started once every stage it needs ended,
    /// at most the tier's concurrency of plugin calls at a time.
    async fn iteration(
        &self,
        project: &mut Authored,
        findings: &[model::Finding],
        ran: &mut Vec<Arc<Plugin>>,
    ) -> Result<Round, Failure> {
        let tier = self.tier.clone();
        let stages = &tier.stages;
        project.new_round();
        let base = std::mem::take(project);
        let findings: Arc<Vec<model::Finding>> = Arc::new(findings.to_vec());
        let turns = tokio::sync::Semaphore::new(tier.concurrency());

        // Where each stage is in the tier's order, and what ended.
        let mut rank = vec![0; stages.len()];
        for (at, &i) in tier.order.iter().enumerate() {
            rank[i] = at;
        }
        let mut waiting: Vec<usize> = stages.iter().map(|s| s.needs.len()).collect();
        let mut outputs: Vec<Option<StageOutput>> = (0..stages.len()).map(|_| None).collect();
        let mut running = futures_util::stream::FuturesUnordered::new();
        let mut failure: Option<(usize, Failure)> = None;
        let mut ready: Vec<usize> = tier
            .order
            .iter()
            .copied()
            .filter(|&i| waiting[i] == 0)
            .collect();
        loop {
            for i in ready.drain(..) {
                let input = self.stage_input(&tier, i, &base, &outputs)?;
                running.push(self.run_stage(i, input, findings.clone(), &turns));
            }
            let Some((i, result)) = futures_util::StreamExt::next(&mut running).await else {
                break;
            };
            match result {
                Ok(output) => {
                    outputs[i] = Some(output);
                    // Nothing new starts once a stage failed; the running
                    // ones end and are recorded first.
                    if failure.is_none() {
                        for &j in &tier.order {
                            if stages[j].needs.contains(&stages[i].name) {
                                waiting[j] -= 1;
                                if waiting[j] == 0 {
                                    ready.push(j);
                                }
                            }
                        }
                    }
                }
                Err(f) => {
                    if failure.as_ref().is_none_or(|(r, _)| rank[i] < *r) {
                        failure = Some((rank[i], f));
                    }
                }
            }
        }
        if let Some((_, f)) = failure {
            return Err(f);
        }

        // The round's files: every agent stage's, merged in the tier's
        // order; the analyses and reports of every other stage.
        *project = compose(&tier, &base, &outputs, tier.order.iter().copied())?;
        if project.files.is_empty() {
            return Err(Failure {
                code: "EMPTY_PROJECT".into(),
                message: "the agents generated no files".into(),
            });
        }
        let files: Vec<File> = project.files.values().cloned().collect();
        let mut analyses: Vec<model::Analysis> = vec![];
        let mut analysis_errors = vec![];
        let mut validations: Vec<Validation> = vec![];
        for &i in &tier.order {
            match outputs[i].take().expect("every stage ended") {
                StageOutput::Agents(written) => {
                    for (plugin, _) in written {
                        push_once(ran, plugin);
                    }
                }
                StageOutput::Analyses(runs) => {
                    for (plugin, (done, errors)) in runs {
                        analyses.extend(done);
                        analysis_errors.extend(errors);
                        push_once(ran, plugin);
                    }
                }
                StageOutput::Reports(reports) => {
                    for (plugin, report) in reports {
                        validations.push(Validation {
                            validator: plugin.info.name.clone(),
                            report,
                        });
                        push_once(ran, plugin);
                    }
                }
            }
        }
        analyses.sort_by(|a, b| a.path.cmp(&b.path));
        let it = self.iteration;

        // The quality gate.
        let verdict: Verdict = self
            .step(&format!("{it}/gate"), Some(("gate", None)), || {
                let verdict = gate::evaluate(&tier.gate, &validations);
                qlp_runtime::metrics::gate_verdict(&self.intent.tier, verdict.decision.as_str());
                let failed = verdict.decision == Decision::Fail;
                let detail = json!({
                    "score": verdict.score,
                    "decision": verdict.decision,
                    "passed": verdict.passed(),
                    "reasons": verdict.reasons,
                    "min_score": tier.gate.min_score,
                    "max_critical": tier.gate.max_critical,
                });
                (
                    verdict.clone(),
                    if failed {
                        StageStatus::Failed
                    } else {
                        StageStatus::Succeeded
                    },
                    failed.then(|| ErrorInfo {
                        code: "GATE_FAILED".into(),
                        message: verdict.reasons.join("; "),
                    }),
                    detail,
                )
            })
            .await?;
        Ok(Round {
            files,
            analyses,
            analysis_errors,
            validations,
            verdict,
        })
    }

    /// What stage `i` starts from, given the outputs of the stages it
    /// needs (all ended).
    fn stage_input(
        &self,
        tier: &Tier,
        i: usize,
        base: &Authored,
        outputs: &[Option<StageOutput>],
    ) -> Result<StageInput, Failure> {
        let ancestors = tier.ancestors(i);
        let before: Vec<usize> = tier
            .order
            .iter()
            .copied()
            .filter(|j| ancestors.contains(j))
            .collect();
        let project = compose(tier, base, outputs, before.iter().copied())?;
        if tier.stages[i].kind == StageKind::Agent {
            return Ok(StageInput::Project(project));
        }
        // Every agent stage is among those an analyzer or validator stage
        // needs (the tier's check), so this is the round's project.
        if project.files.is_empty() {
            return Err(Failure {
                code: "EMPTY_PROJECT".into(),
                message: "the agents generated no files".into(),
            });
        }
        let mut analyses: Vec<model::Analysis> = vec![];
        for &j in &before {
            if let Some(StageOutput::Analyses(runs)) = &outputs[j] {
                for (_, (done, _)) in runs {
                    analyses.extend(done.iter().cloned());
                }
            }
        }
        analyses.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(StageInput::Capsule {
            files: project.files.into_values().collect(),
            analyses,
        })
    }

    /// Runs stage `i` of the tier from `input`.
    async fn run_stage(
        &self,
        i: usize,
        input: StageInput,
        findings: Arc<Vec<model::Finding>>,
        turns: &tokio::sync::Semaphore,
    ) -> (usize, Result<StageOutput, Failure>) {
        let stage = &self.tier.stages[i];
        let result = match input {
            StageInput::Project(project) => self
                .agent_stage(stage, project, &findings, turns)
                .await
                .map(StageOutput::Agents),
            StageInput::Capsule { files, analyses } => match stage.kind {
                StageKind::Analyzer => self
                    .analyzer_stage(stage, &files, turns)
                    .await
                    .map(StageOutput::Analyses),
                _ => self
                    .validator_stage(stage, &files, &analyses, turns)
                    .await
                    .map(StageOutput::Reports),
            },
        };
        (i, result)
    }

    /// An agent stage: its agents in order, each seeing the files of those
    /// before it and the findings of the previous iteration; the tier's
    /// rule settles two agents writing one path.
    async fn agent_stage(
        &self,
        stage: &Stage,
        mut project: Authored,
        findings: &[model::Finding],
        turns: &tokio::sync::Semaphore,
    ) -> Result<Vec<(Arc<Plugin>, Vec<File>)>, Failure> {
        let it = self.iteration;
        let tier = &self.tier;
        let mut written = vec![];
        for (n, name) in stage.plugins.iter().enumerate() {
            let plugin = self.plugin(name)?;
            let ctx = self.context(&plugin)?;
            let written_so_far = project.files.values().cloned().collect();
            let request = model::GenerationRequest {
                project: Arc::new(model::CapsuleView::project(
                    self.run_intent.clone(),
                    written_so_far,
                )),
                findings: findings.to_vec(),
                iteration: it,
                role: tier.roles.get(name).map_or("", |r| r.as_str()).to_owned(),
            };
            let limits = self.tiers.limits(tier, name, PluginKind::Agent);
            let files: Vec<File> = {
                let _turn = turns.acquire().await.map_err(Failure::host)?;
                self.stage(
                    format!("{it}/{}/{n}", stage.name),
                    &stage.name,
                    &plugin,
                    move |rt, p| rt.generate(p, limits, ctx, &request),
                    |files: &Vec<File>| json!({ "files": files.len() }),
                )
                .await?
            };
            let merged = project
                .merge(name, files.clone(), tier.conflicts)
                .map_err(|e| merge_failure(&stage.name, name, e))?;
            if !merged.replaced.is_empty() || !merged.kept.is_empty() {
                tracing::info!(intent = %self.intent.id, agent = %name, replaced = ?merged.replaced, kept = ?merged.kept, "agents wrote the same paths");
            }
            written.push((plugin, files));
        }
        Ok(written)
    }

    /// An analyzer stage: each file goes to the stage's first analyzer that
    /// handles its extension; the analyzers run side by side.
    async fn analyzer_stage(
        &self,
        stage: &Stage,
        files: &[File],
        turns: &tokio::sync::Semaphore,
    ) -> Result<Vec<(Arc<Plugin>, AnalyzerOutput)>, Failure> {
        let it = self.iteration;
        let tier = &self.tier;
        let mut assigned: std::collections::HashSet<&str> = Default::default();
        let mut runs = vec![];
        for name in &stage.plugins {
            let plugin = self.plugin(name)?;
            let mine: Vec<wit::File> = files
                .iter()
                .filter(|f| {
                    let ext = f
                        .path
                        .rsplit_once('.')
                        .map(|(_, e)| e.to_ascii_lowercase())
                        .unwrap_or_default();
                    plugin.extensions.contains(&ext) && !assigned.contains(f.path.as_str())
                })
                .map(Into::into)
                .collect();
            if mine.is_empty() {
                continue;
            }
            assigned.extend(
                files
                    .iter()
                    .filter(|f| mine.iter().any(|m| m.path == f.path))
                    .map(|f| f.path.as_str()),
            );
            let base = self.context(&plugin)?;
            let (ctx_config, ctx_secrets, ctx_http, ctx_cancel) =
                (base.config, base.secrets, base.http, base.cancel);
            let limits = self.tiers.limits(tier, name, PluginKind::Analyzer);
            runs.push(async move {
                let _turn = turns.acquire().await.map_err(Failure::host)?;
                let result = self.stage(
                    format!("{it}/{}/{name}", stage.name),
                    &stage.name,
                    &plugin,
                    move |rt, p| {
                        let mut usage = Usage::default();
                        let mut done = vec![];
                        let mut errors = vec![];
                        for file in &mine {
                            let ctx = CallContext { config: ctx_config.clone(), secrets: ctx_secrets.clone(), workspace: None, http: ctx_http.clone(), cancel: ctx_cancel.clone(), llm: None };
                            let (r, u) = rt.analyze(p, limits, ctx, file);
                            usage.wall_ms += u.wall_ms;
                            usage.peak_memory_bytes = usage.peak_memory_bytes.max(u.peak_memory_bytes);
                            if let Some(f) = u.fuel_consumed {
                                usage.fuel_consumed = Some(usage.fuel_consumed.unwrap_or(0) + f);
                            }
                            match r {
                                Ok(mut a) => {
                                    a.path = file.path.clone();
                                    done.push(a);
                                }
                                // The plugin's own verdict on a file (a syntax
                                // error, say) is a result, not a failure.
                                Err(CallError::Plugin { code, message }) => {
                                    errors.push(json!({ "path": file.path, "code": code, "message": message }))
                                }
                                Err(e) => return (Err(e), usage),
                            }
                        }
                        (Ok((done, errors)), usage)
                    },
                    |(done, errors): &AnalyzerOutput| {
                        json!({ "files": done.len(), "errors": errors.len() })
                    },
                )
                .await;
                result.map(|r| (plugin, r))
            });
        }
        // Every run ends (and is recorded) before the first failure, in the
        // stage's order, is reported.
        futures_util::future::join_all(runs)
            .await
            .into_iter()
            .collect()
    }

    /// A validator stage: its validators side by side, on the round's
    /// files and the analyses of the stages it needs.
    async fn validator_stage(
        &self,
        stage: &Stage,
        files: &[File],
        analyses: &[model::Analysis],
        turns: &tokio::sync::Semaphore,
    ) -> Result<Vec<(Arc<Plugin>, model::Report)>, Failure> {
        let it = self.iteration;
        let tier = &self.tier;
        let mut runs = vec![];
        // One view for the stage, shared by its validators.
        let view = Arc::new(model::CapsuleView::new(
            self.run_intent.clone(),
            files.to_vec(),
            analyses.to_vec(),
            vec![],
            None,
        ));
        for name in &stage.plugins {
            let plugin = self.plugin(name)?;
            let ctx = self.context(&plugin)?;
            let v = view.clone();
            let limits = self.tiers.limits(tier, name, PluginKind::Validator);
            runs.push(async move {
                let _turn = turns.acquire().await.map_err(Failure::host)?;
                let report = self
                    .stage(
                        format!("{it}/{}/{name}", stage.name),
                        &stage.name,
                        &plugin,
                        move |rt, p| rt.validate(p, limits, ctx, &v),
                        |r: &model::Report| json!({ "score": r.score, "findings": r.findings.len() }),
                    )
                    .await?;
                Ok::<_, Failure>((plugin, report))
            });
        }
        futures_util::future::join_all(runs)
            .await
            .into_iter()
            .collect()
    }

    /// Runs the tier's exporters side by side, at most the tier's
    /// concurrency at once, on the packaged capsule. Every exporter has
    /// ended and been recorded before a failure is reported. The artifacts
    /// come back in the tier's order, each with a distinct, plain file name.
    async fn export(
        &self,
        tier: &Tier,
        exporters: &[Arc<Plugin>],
        packaged: &[File],
        analyses: &[model::Analysis],
        validations: &[Validation],
        score: u8,
    ) -> Result<Vec<model::Artifact>, Failure> {
        use futures_util::StreamExt;
        let export_view = Arc::new(model::CapsuleView::new(
            self.run_intent.clone(),
            packaged.to_vec(),
            analyses.to_vec(),
            validations.to_vec(),
            Some(score),
        ));
        let options = wit::ExportOptions {
            base_name: base_name(self.intent),
            options: vec![],
        };
        // Collected before they are driven: a lazy `map` inside the stream
        // would make the future not provably `Send`.
        let calls: Vec<_> = exporters.iter().enumerate().map(|(i, exporter)| {
            let (view, options) = (export_view.clone(), options.clone());
            let limits = self
                .tiers
                .limits(tier, &exporter.info.name, PluginKind::Exporter);
            // The main exporter keeps the key it had before a tier could
            // have several, so stored runs resume.
            let key = match i {
                0 => "export".to_owned(),
                _ => format!("export/{}", exporter.info.name),
            };
            async move {
                let ctx = self.context(exporter)?;
                self.stage(
                    key,
                    "export",
                    exporter,
                    move |rt, p| rt.export(p, limits, ctx, &view, &options),
                    |a: &model::Artifact| json!({ "file_name": a.file_name, "media_type": a.media_type, "bytes": a.bytes.len() }),
                )
                .await
            }
        }).collect();
        let results: Vec<Result<model::Artifact, Failure>> = futures_util::stream::iter(calls)
            .buffered(tier.concurrency())
            .collect()
            .await;
        let mut artifacts: Vec<model::Artifact> = Vec::with_capacity(results.len());
        for (result, exporter) in results.into_iter().zip(exporters) {
            let artifact = result?;
            let name = &artifact.file_name;
            let problem = if capsule::check_path(name).is_err() || name.contains('/') {
                Some("invalid artifact file name".to_owned())
            } else if artifacts.iter().any(|a| a.file_name == *name) {
                Some(format!("another exporter already produced `{name}`"))
            } else {
                None
            };
            if let Some(problem) = problem {
                return Err(Failure {
                    code: "INVALID_OUTPUT".into(),
                    message: format!("stage `export` ({}) failed: {problem}", exporter.info.name),
                });
            }
            artifacts.push(artifact);
        }
        Ok(artifacts)
    }

    /// The planner reads the intent first (its plan is on the record);
    /// its compliance concerns reach every plugin as `("compliance", …)`
    /// constraints, and a tier that runs the agent of the detected stack
    /// gets it.
    async fn plan_and_choose_agent(&mut self, ran: &mut Vec<Arc<Plugin>>) -> Result<(), Failure> {
        let p = self.p;
        let intent = self.intent;
        let id = intent.id.as_str();
        let mut plan: Option<model::Plan> = None;
        if let Some(call) = p.planner_call(&self.catalog, wit::Intent::from(&self.run_intent))? {
            let PlannerCall {
                plugin,
                mut ctx,
                limits,
                request,
            } = call;
            ctx.cancel = Some(self.cancel.clone());
            plan = Some(
                self.stage(
                    "plan".into(),
                    "plan",
                    &plugin,
                    move |rt, p| rt.plan(p, limits, ctx, &request),
                    |plan: &model::Plan| serde_json::to_value(plan).unwrap_or_default(),
                )
                .await?,
            );
            push_once(ran, plugin);
        }
        let (stack, compliance) = plan.map(|p| (p.stack, p.compliance)).unwrap_or_default();
        for concern in compliance {
            let constraint = ("compliance".to_owned(), concern);
            if !self.run_intent.constraints.contains(&constraint) {
                self.run_intent.constraints.push(constraint);
            }
        }
        if let Some(chosen) = self.tiers.stack_agents(&self.tier, &stack) {
            let agents = chosen.map_err(|e| Failure {
                code: UNSUPPORTED_STACK.into(),
                message: e.to_string(),
            })?;
            tracing::info!(intent = id, agents = ?agents, stack = ?stack, "agents chosen for the detected stack");
            self.tier = self.tier.with_stack_agents(&agents);
        }
        Ok(())
    }

    /// Runs the intent from its first unfinished stage to its end.
    async fn stages(&mut self) -> Result<Outcome, Failure> {
        let p = self.p;
        let intent = self.intent;
        let id = intent.id.as_str();
        let mut ran: Vec<Arc<Plugin>> = vec![];
        let mut project = Authored::default();
        let mut findings: Vec<model::Finding> = vec![];
        let mut history: Vec<IterationSummary> = vec![];

        if intent.kind == IntentKind::Check {
            // A check's project is the upload, as it was accepted; its
            // tier runs without agents, packaging or delivery.
            let upload: Vec<File> = self.earlier(UPLOAD_KEY)?.ok_or_else(|| Failure {
                code: "UPLOAD_MISSING".into(),
                message: "the check's uploaded files are not stored".into(),
            })?;
            project
                .merge(UPLOAD_AUTHOR, upload, self.tier.conflicts)
                .map_err(|e| merge_failure("upload", UPLOAD_AUTHOR, e))?;
            self.tier = self.tier.for_check();
        } else {
            self.plan_and_choose_agent(&mut ran).await?;
        }
        let tier = self.tier.clone();

        // Rounds of generation and validation until the gate passes or the
        // tier's repair rounds run out.
        let Round {
            files,
            analyses,
            analysis_errors,
            validations,
            verdict,
        } = loop {
            let round = self.iteration(&mut project, &findings, &mut ran).await?;
            let verdict = &round.verdict;
            history.push(IterationSummary {
                iteration: self.iteration,
                score: verdict.score,
                decision: verdict.decision.as_str().into(),
                findings: round
                    .validations
                    .iter()
                    .map(|v| v.report.findings.len())
                    .sum(),
            });
            if verdict.decision != Decision::Fail || self.iteration >= tier.max_iterations {
                break round;
            }
            findings = round
                .validations
                .iter()
                .flat_map(|v| v.report.findings.iter().cloned())
                .collect();
            self.iteration += 1;
            tracing::info!(
                intent = id,
                iteration = self.iteration,
                findings = findings.len(),
                "gate failed; starting a repair round"
            );
        };
        let stopped = match verdict.decision {
            Decision::Pass => "the gate passed".to_owned(),
            Decision::NeedsReview => "the gate asks for a review".to_owned(),
            Decision::Fail if tier.max_iterations == 0 => {
                "the gate failed and the tier allows no repair rounds".to_owned()
            }
            Decision::Fail => format!(
                "the gate still failed after {} repair round{}",
                tier.max_iterations,
                if tier.max_iterations == 1 { "" } else { "s" }
            ),
        };
        let needs_approval =
            verdict.passed() && (tier.approval || verdict.decision == Decision::NeedsReview);

        // The manifest, then the exporters, each packaging it with the files.
        let exporters = tier
            .exporters
            .iter()
            .map(|name| self.plugin(name))
            .collect::<Result<Vec<_>, _>>()?;
        let mut plugin_entries: Vec<PluginEntry> = ran
            .iter()
            .chain(&exporters)
            .map(|p| plugin_entry(p))
            .collect();
        if verdict.passed() {
            let mut adapters: Vec<&String> = tier.deliveries.iter().map(|d| &d.plugin).collect();
            adapters.dedup();
            for name in adapters {
                plugin_entries.push(plugin_entry(&*self.plugin(name)?));
            }
        }
        // The rule packs `qlp/rules` ran, named and digested like plugins.
        if ran.iter().any(|p| p.info.name == RULES_PLUGIN) {
            plugin_entries.extend(self.packs.iter().map(|pack| PluginEntry {
                name: pack.name.clone(),
                version: pack.version.to_string(),
                kind: "rules".into(),
                digest: pack.digest.clone(),
            }));
        }
        let manifest: Manifest = self
            .step("manifest", None, || {
                let manifest = Manifest {
                    format: capsule::MANIFEST_FORMAT.into(),
                    intent: ManifestIntent {
                        id: intent.id.clone(),
                        description: intent.description.clone(),
                        tier: intent.tier.clone(),
                    },
                    created_at: crate::store::now(),
                    quality_score: verdict.score,
                    gate: ManifestGate {
                        passed: verdict.passed(),
                        decision: verdict.decision.as_str().into(),
                        reasons: verdict.reasons.clone(),
                        iteration: history.last().map_or(0, |h| h.iteration),
                        stopped,
                        iterations: history.clone(),
                    },
                    files: files
                        .iter()
                        .map(|f| FileEntry {
                            author: project.authors.get(&f.path).cloned(),
                            ..FileEntry::of(f)
                        })
                        .collect(),
                    plugins: plugin_entries,
                };
                (manifest, StageStatus::Succeeded, None, json!({}))
            })
            .await?;
        let manifest_text = serde_json::to_string_pretty(&manifest).expect("manifests serialize");
        let mut packaged = files.clone();
        packaged.push(File {
            path: capsule::MANIFEST_NAME.into(),
            content: manifest_text.into_bytes(),
        });
        let artifacts = self
            .export(
                &tier,
                &exporters,
                &packaged,
                &analyses,
                &validations,
                verdict.score,
            )
            .await?;

        // Store the capsule before delivering it, so it is visible whatever
        // delivery does. Rewriting it on a resumed run gives the same files.
        p.capsules
            .write(id, packaged.clone(), artifacts.clone())
            .await
            .map_err(|e| Failure::io("cannot write the capsule", &e))?;
        let receipts = artifacts
            .iter()
            .enumerate()
            .map(|(i, a)| self.earlier::<model::Receipt>(&deliver_key(i, a)))
            .collect::<Result<Option<Vec<_>>, _>>()?;
        // Listed on the capsule and told to the delivery adapter.
        let digests: Vec<String> = artifacts
            .iter()
            .map(|a| blake3::hash(&a.bytes).to_hex().to_string())
            .collect();
        let listed: Vec<serde_json::Value> = artifacts
            .iter()
            .zip(&exporters)
            .zip(&digests)
            .map(|((a, exporter), digest)| {
                json!({
                    "file_name": a.file_name,
                    "media_type": a.media_type,
                    "exporter": exporter.info.name,
                    "bytes": a.bytes.len(),
                    "blake3": digest,
                })
            })
            .collect();
        p.store
            .insert_capsule(&CapsuleRecord {
                intent_id: id.to_owned(),
                tier: intent.tier.clone(),
                quality_score: verdict.score,
                gate_passed: verdict.passed(),
                gate_reasons: verdict.reasons.clone(),
                files: serde_json::to_value(&manifest.files).expect("serializes"),
                analyses: serde_json::to_value(&analyses).expect("serializes"),
                analysis_errors: serde_json::Value::Array(analysis_errors),
                validations: serde_json::to_value(&validations).expect("serializes"),
                manifest: serde_json::to_value(&manifest).expect("serializes"),
                artifact_name: artifacts.first().map(|a| a.file_name.clone()),
                artifact_type: artifacts.first().map(|a| a.media_type.clone()),
                artifacts: serde_json::Value::Array(listed),
                receipt: receipts
                    .as_ref()
                    .and_then(|r| r.first())
                    .map(|r| serde_json::to_value(r).expect("serializes")),
                receipts: serde_json::to_value(receipts.unwrap_or_default()).expect("serializes"),
                created_at: manifest.created_at.clone(),
            })
            .await
            .map_err(Failure::store)?;

        if intent.kind == IntentKind::Check {
            // A check ends with its verdict: nothing to approve or deliver.
            return Ok(if verdict.passed() {
                Outcome::Completed(vec![])
            } else {
                Outcome::GateFailed
            });
        }
        if !verdict.passed() {
            if let Some(name) = tier.deliveries.first().map(|d| &d.plugin) {
                self.step("deliver-skipped", Some(("deliver", Some(name))), || {
                    let reason = json!({ "reason": "the capsule failed its gate" });
                    ((), StageStatus::Skipped, None, reason)
                })
                .await?;
            }
            return Ok(Outcome::GateFailed);
        }

        // A person decides, when the tier or the gate asks for it.
        if needs_approval {
            let record = p.store.get_intent(id).await.map_err(Failure::store)?;
            match record.and_then(|r| r.approval) {
                None => {
                    tracing::info!(intent = id, "capsule awaits approval");
                    return Ok(Outcome::AwaitingApproval);
                }
                Some(a) if a.decision != "approved" => return Ok(Outcome::Rejected),
                Some(_) => {}
            }
        }

        // Delivery, one artifact after the other, each through the
        // deliveries that take it. Each one's output is kept like any
        // stage's, so a resumed intent never delivers one twice.
        let created_at = unix_seconds(&manifest.created_at);
        let mut delivered = vec![];
        for (route, delivery) in tier.deliveries.iter().enumerate() {
            let plugin = self.plugin(&delivery.plugin)?;
            let limits = self
                .tiers
                .limits(&tier, &plugin.info.name, PluginKind::Delivery);
            let taken = artifacts
                .iter()
                .zip(&digests)
                .zip(&exporters)
                .enumerate()
                .filter(|(_, (_, exporter))| delivery.takes(&exporter.info.name));
            for (i, ((artifact, digest), _)) in taken {
                let ctx = self.context(&plugin)?;
                let mut options: Vec<(String, String)> = delivery
                    .options
                    .iter()
                    .map(|(k, v)| (k.clone(), v.replace("{intent}", &intent.id)))
                    .collect();
                options.extend(delivery_options(&intent.id, artifact, digest, created_at));
                let target = wit::DeliveryTarget {
                    destination: delivery.destination_for(&intent.id),
                    options,
                };
                let wit_artifact = wit::Artifact::from(artifact);
                let file_name = artifact.file_name.clone();
                let key = match route {
                    0 => deliver_key(i, artifact),
                    _ => format!("deliver/{}/{}", plugin.info.name, artifact.file_name),
                };
                let receipt: model::Receipt = self
                    .stage(
                        key,
                        "deliver",
                        &plugin,
                        move |rt, p| rt.deliver(p, limits, ctx, &wit_artifact, &target),
                        |r: &model::Receipt| json!({ "artifact": file_name, "location": r.location }),
                    )
                    .await?;
                let mut value = serde_json::to_value(&receipt).expect("serializes");
                if tier.deliveries.len() > 1 {
                    value["adapter"] = json!(plugin.info.name);
                    value["artifact"] = json!(artifact.file_name);
                }
                delivered.push(value);
            }
        }
        Ok(Outcome::Completed(delivered))
    }
}

/// Seconds since the Unix epoch of an RFC 3339 time; 0 when it is not one.
fn unix_seconds(rfc3339: &str) -> u64 {
    humantime::parse_rfc3339(rfc3339)
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs())
}

/// What the host tells every delivery adapter besides the operator's
/// options: a key that names this delivery whatever the attempt (the
/// intent and the artifact's file name), the artifact's blake3, and the
/// capsule's creation time (unix seconds, the same on every attempt, for
/// adapters that date what they write, such as a commit). The delivery
/// contract: delivering the same key with the same digest again succeeds
/// with the same receipt and delivers nothing twice, so a run resumed
/// after a crash between the adapter's work and the host's record of it
/// repeats the delivery safely.
fn delivery_options(
    intent_id: &str,
    artifact: &model::Artifact,
    digest: &str,
    created_at: u64,
) -> Vec<(String, String)> {
    vec![
        (
            DELIVERY_KEY_OPTION.into(),
            format!("{intent_id}/{}", artifact.file_name),
        ),
        (ARTIFACT_DIGEST_OPTION.into(), digest.to_owned()),
        (CREATED_AT_OPTION.into(), created_at.to_string()),
    ]
}

/// The delivery option giving the capsule's creation time, unix seconds.
pub const CREATED_AT_OPTION: &str = "qlp.created-at";

/// The delivery option naming a delivery whatever the attempt.
pub const DELIVERY_KEY_OPTION: &str = "qlp.delivery-key";

/// The delivery option giving the artifact's blake3, in hex.
pub const ARTIFACT_DIGEST_OPTION: &str = "qlp.artifact-blake3";

/// Where the delivery of a capsule's `i`th artifact keeps its output: the
/// main artifact's under `deliver`, as before a tier could have several.
fn deliver_key(i: usize, artifact: &model::Artifact) -> String {
    match i {
        0 => "deliver".into(),
        _ => format!("deliver/{}", artifact.file_name),
    }
}

/// What an analyzer produced: its analyses and the files it refused.
type AnalyzerOutput = (Vec<model::Analysis>, Vec<serde_json::Value>);

/// What one round of generation, analysis, validation and the gate made.
struct Round {
    /// The project's files after every agent stage of the round.
    files: Vec<File>,
    /// Every analyzer's measures, by path.
    analyses: Vec<model::Analysis>,
    /// The files analyzers failed on, and why.
    analysis_errors: Vec<serde_json::Value>,
    validations: Vec<Validation>,
    verdict: Verdict,
}

/// What a stage of a round starts from.
enum StageInput {
    /// For an agent stage: the project as the agent stages it needs left it.
    Project(Authored),
    /// For the others: the round's files, and the analyses of the stages
    /// it needs.
    Capsule {
        files: Vec<File>,
        analyses: Vec<model::Analysis>,
    },
}

/// What a stage of a round produced, by plugin in the stage's order.
enum StageOutput {
    Agents(Vec<(Arc<Plugin>, Vec<File>)>),
    Analyses(Vec<(Arc<Plugin>, AnalyzerOutput)>),
    Reports(Vec<(Arc<Plugin>, model::Report)>),
}

/// `base` with the files of the agent stages among `stages` merged in, in
/// that order, under the tier's rule.
fn compose(
    tier: &Tier,
    base: &Authored,
    outputs: &[Option<StageOutput>],
    stages: impl Iterator<Item = usize>,
) -> Result<Authored, Failure> {
    let mut project = base.clone();
    for i in stages {
        if let Some(StageOutput::Agents(written)) = &outputs[i] {
            for (plugin, files) in written {
                project
                    .merge(&plugin.info.name, files.clone(), tier.conflicts)
                    .map_err(|e| merge_failure(&tier.stages[i].name, &plugin.info.name, e))?;
            }
        }
    }
    Ok(project)
}

/// The tokens the stages of `records` spent on the model endpoint, as
/// recorded under `detail.llm`.
fn llm_tokens_spent(records: &[crate::store::StageRecord]) -> u64 {
    records
        .iter()
        .filter_map(|r| r.detail.as_ref()?.get("llm"))
        .map(|l| {
            let n = |k: &str| l.get(k).and_then(serde_json::Value::as_u64).unwrap_or(0);
            n("prompt_tokens").saturating_add(n("completion_tokens"))
        })
        .fold(0, u64::saturating_add)
}

fn merge_failure(stage: &str, agent: &str, e: MergeError) -> Failure {
    Failure {
        code: match e {
            MergeError::Conflict { .. } => "WRITE_CONFLICT".into(),
            MergeError::Path(_) => "INVALID_OUTPUT".into(),
        },
        message: format!("stage `{stage}` ({agent}) failed: {e}"),
    }
}

/// The rule packs an intent's `qlp/rules` runs: its tier's, then those
/// its tenant's policy names (the newest loaded version of each), each
/// once. None when the tier does not run `qlp/rules`.
async fn rule_packs(
    p: &Pipeline,
    catalog: &Catalog,
    intent: &Intent,
    plugins: &Plugins,
) -> Result<Packs, Failure> {
    if !plugins.contains_key(RULES_PLUGIN) {
        return Ok(Packs::new());
    }
    let mut packs = catalog
        .tier_packs
        .get(&intent.tier)
        .cloned()
        .unwrap_or_default();
    let policy = p
        .store
        .intent_tenant_policy(&intent.id)
        .await
        .map_err(Failure::store)?;
    for name in &policy.rules {
        let pack = catalog.packs.get(name).ok_or_else(|| Failure {
            code: "RULE_PACK_MISSING".into(),
            message: format!(
                "the tenant's rule pack `{name}` is not published (or was yanked or refused at load)"
            ),
        })?;
        if !packs.iter().any(|p| p.name == pack.name) {
            packs.push(pack.clone());
        }
    }
    Ok(packs)
}

/// Adds a plugin to the list of those that ran, once.
fn push_once(ran: &mut Vec<Arc<Plugin>>, plugin: Arc<Plugin>) {
    if !ran.iter().any(|p| Arc::ptr_eq(p, &plugin)) {
        ran.push(plugin);
    }
}

fn plugin_entry(p: &Plugin) -> PluginEntry {
    PluginEntry {
        name: p.info.name.clone(),
        version: p.info.version.clone(),
        kind: p.info.kind.to_string(),
        digest: p.digest.clone(),
    }
}

/// A file-name-safe name for the artifact: `capsule-<first 8 of the id>`.
fn base_name(intent: &Intent) -> String {
    format!("capsule-{}", intent.id.chars().take(8).collect::<String>())
}

/// How long a worker's claim on an intent lasts without a heartbeat. A
/// worker that dies is replaced after this; one that lives renews every
/// third of it.
pub const LEASE: Duration = Duration::from_secs(30);

/// How often an idle worker looks for work it was not woken for: intents
/// whose lease expired, or that another replica accepted.
pub const POLL: Duration = Duration::from_millis(500);

/// The lease owner name of `node`'s `i`th worker.
pub fn worker_id(node: &str, i: usize) -> String {
    format!("{node}/w{i}")
}

/// How long a worker waits after storage failed under a run before it
/// claims again: a full disk or a read-only database does not recover in
/// milliseconds, and retrying at once would only fill the log.
pub const STORAGE_PAUSE: Duration = Duration::from_secs(2);

/// Runs intents from the database on a fixed number of workers. Intents
/// are jobs: a worker claims one with a lease, renews it while running,
/// and another worker takes it over once the lease expires.
#[derive(Clone)]
pub struct Dispatcher {
    wake: Arc<Notify>,
    running: Arc<Mutex<HashMap<String, Arc<AtomicBool>>>>,
    /// Set by [`Dispatcher::drain`]: workers claim nothing more.
    stopping: Arc<AtomicBool>,
    /// How long a claim lasts without a heartbeat ([`LEASE`] unless the
    /// operator set `--lease`).
    lease: Duration,
}

impl Dispatcher {
    /// Releases `node`'s earlier leases (it restarted, so they are dead)
    /// and starts `workers` workers claiming intents as `node/w<i>`. A
    /// lease belongs to one worker: should a worker stall past its lease,
    /// another worker of the same node that takes the intent over is not
    /// mistaken for it, and the stalled one learns at its next heartbeat
    /// that the intent is no longer its.
    pub async fn start(
        pipeline: Arc<Pipeline>,
        workers: usize,
        node: String,
        lease: Duration,
    ) -> anyhow::Result<Self> {
        let released = pipeline.store.release_leases(&node).await?;
        if released > 0 {
            tracing::info!(
                intents = released,
                "resuming intents this node was running before it stopped"
            );
        }
        let this = Self {
            wake: Arc::new(Notify::new()),
            running: Arc::default(),
            stopping: Arc::default(),
            lease,
        };
        for i in 0..workers {
            let (this, pipeline, worker) = (this.clone(), pipeline.clone(), worker_id(&node, i));
            tokio::spawn(async move { this.work(&pipeline, &worker).await });
        }
        Ok(this)
    }

    async fn work(&self, pipeline: &Pipeline, node: &str) {
        loop {
            if self.stopping.load(Ordering::Relaxed) {
                return;
            }
            let intent = match pipeline.store.claim(node, self.lease).await {
                Ok(Some(intent)) => intent,
                Ok(None) => {
                    tokio::select! {
                        _ = self.wake.notified() => {}
                        _ = tokio::time::sleep(POLL) => {}
                    }
                    continue;
                }
                Err(e) => {
                    tracing::error!(error = %e, "cannot claim an intent");
                    tokio::time::sleep(POLL).await;
                    continue;
                }
            };
            let id = intent.id.clone();
            let cancel = Arc::new(AtomicBool::new(false));
            self.running
                .lock()
                .expect("the running map is never poisoned")
                .insert(id.clone(), cancel.clone());
            let heartbeat = {
                let (store, id, node, cancel) = (
                    pipeline.store.clone(),
                    id.clone(),
                    node.to_owned(),
                    cancel.clone(),
                );
                let lease = self.lease;
                tokio::spawn(async move {
                    loop {
                        tokio::time::sleep(lease / 3).await;
                        match store.heartbeat(&id, &node, lease).await {
                            Ok(Some(false)) => {}
                            Ok(Some(true)) => cancel.store(true, Ordering::Relaxed),
                            Ok(None) => {
                                tracing::warn!(intent = %id, "lost the lease; stopping");
                                cancel.store(true, Ordering::Relaxed);
                            }
                            Err(e) => tracing::error!(intent = %id, error = %e, "heartbeat failed"),
                        }
                    }
                })
            };
            let finished = pipeline.run(intent, node, cancel).await;
            heartbeat.abort();
            self.running
                .lock()
                .expect("the running map is never poisoned")
                .remove(&id);
            if !finished {
                // Storage failed under the run: give it time to recover
                // rather than claiming the same intent again at once.
                tokio::time::sleep(STORAGE_PAUSE).await;
            }
        }
    }

    /// Stops the workers for a shutdown: nothing more is claimed, the
    /// intents running get `grace` to finish, and those still running then
    /// are interrupted at their next stage and given back to the queue for
    /// another replica (or this node's next start) to resume. Returns how
    /// many were given back.
    pub async fn drain(&self, pipeline: &Pipeline, grace: Duration) -> usize {
        self.stopping.store(true, Ordering::Relaxed);
        pipeline.stopping.store(true, Ordering::Relaxed);
        self.wake.notify_waiters();
        let running = || {
            self.running
                .lock()
                .expect("the running map is never poisoned")
                .len()
        };
        let deadline = tokio::time::Instant::now() + grace;
        while running() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let left = running();
        if left > 0 {
            tracing::warn!(
                intents = left,
                "intents still running at the end of the grace period; giving them back to the queue"
            );
            for flag in self
                .running
                .lock()
                .expect("the running map is never poisoned")
                .values()
            {
                flag.store(true, Ordering::Relaxed);
            }
            // A stage in a plugin call stops at its next epoch tick; one in
            // a host wait at its deadline. Whatever has not released by
            // then expires with its lease.
            let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
            while running() > 0 && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        left
    }

    /// Whether [`Dispatcher::drain`] began.
    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Relaxed)
    }

    /// Wakes a worker: an intent was queued.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Interrupts an intent this process is running. Other replicas see
    /// the request at their next heartbeat.
    pub fn cancel(&self, id: &str) {
        if let Some(flag) = self
            .running
            .lock()
            .expect("the running map is never poisoned")
            .get(id)
        {
            flag.store(true, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StageRecord;

    fn record(status: StageStatus, detail: Option<serde_json::Value>) -> StageRecord {
        StageRecord {
            seq: 1,
            iteration: 0,
            stage: "generate".into(),
            plugin: Some("qlp/llm-agent".into()),
            status,
            started_at: String::new(),
            finished_at: None,
            duration_ms: None,
            error: None,
            detail,
        }
    }

    #[test]
    fn a_resumed_intent_counts_the_tokens_its_earlier_stages_spent() {
        let records = [
            // A completed stage records its usage beside its own detail.
            record(
                StageStatus::Succeeded,
                Some(
                    json!({ "files": 3, "llm": { "completions": 1, "prompt_tokens": 700, "completion_tokens": 300 } }),
                ),
            ),
            // A failed or interrupted one records the call's usage.
            record(
                StageStatus::Failed,
                Some(
                    json!({ "wall_ms": 5, "llm": { "completions": 2, "prompt_tokens": 40, "completion_tokens": 2 } }),
                ),
            ),
            record(StageStatus::Succeeded, Some(json!({ "files": 1 }))),
            record(StageStatus::Running, None),
        ];
        assert_eq!(llm_tokens_spent(&records), 1042);
        assert_eq!(llm_tokens_spent(&[]), 0);
    }

    #[test]
    fn a_change_made_while_a_reload_ran_is_looked_at_again() {
        let (a, b) = (Some(blake3::hash(b"a")), Some(blake3::hash(b"b")));
        assert_eq!(settled(vec![a, None], vec![a, None]), vec![a, None]);
        assert_eq!(settled(vec![a, None], vec![b, None]), vec![a, None]);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("index.json");
        let files = [file.clone(), dir.path().join("absent")];
        std::fs::write(&file, "a").unwrap();
        assert_eq!(fingerprint(&files), vec![a, None]);
    }

    #[test]
    fn a_days_tokens_are_counted_by_utc_date() {
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_796_601_599);
        assert_eq!(utc_day(at), "2026-12-06");
        assert_eq!(
            utc_day(at + std::time::Duration::from_secs(1)),
            "2026-12-07"
        );
    }
}
