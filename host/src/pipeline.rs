//! The pipeline an intent runs: agents, analyzers, validators, the quality
//! gate, the exporter and delivery, in that order, as its tier names them.
//!
//! Every plugin call runs on a blocking thread (wasmtime calls are
//! synchronous and bounded by their epoch deadline) and is recorded as a
//! stage run with its timing, outcome and usage before the next begins. A
//! failing stage fails the intent with the stage, the plugin and the cause
//! named; the server goes on. Intents are queued to a fixed number of
//! workers; at start-up, intents a previous process accepted but did not
//! finish are queued again.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::json;
use tokio::sync::mpsc;

use crate::capsule::{
    self, CapsuleDirs, FileEntry, Manifest, ManifestGate, ManifestIntent, PluginEntry,
};
use crate::model::{self, Capability, File, Intent, PluginKind, Severity, Validation};
use crate::runtime::bindings::wit;
use crate::runtime::{CallContext, CallError, Plugin, Runtime, Usage, Workspace};
use crate::store::{CapsuleRecord, ErrorInfo, IntentStatus, StageStatus, Store};
use crate::tiers::{Access, Gate, Tier, Tiers};

/// The loaded plugins by name.
pub type Plugins = HashMap<String, Arc<Plugin>>;

/// Intents waiting for a worker beyond those running. Submissions wait for
/// room rather than being dropped.
pub const QUEUE_CAPACITY: usize = 1024;

/// Everything a pipeline run needs.
pub struct Pipeline {
    pub runtime: Arc<Runtime>,
    pub plugins: Arc<Plugins>,
    pub tiers: Arc<Tiers>,
    pub store: Store,
    pub data_dir: PathBuf,
    pub capsules: CapsuleDirs,
}

/// Why an intent failed.
struct Failure {
    code: String,
    message: String,
}

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
}

/// The result of the quality gate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub score: u8,
    pub passed: bool,
    pub reasons: Vec<String>,
}

/// Combines validator reports into a score and a verdict: the score is the
/// rounded mean of the validators' scores (100 when there are none); the
/// capsule passes when the score reaches the gate's minimum and the critical
/// findings do not exceed its maximum. Each reason names what failed.
pub fn gate(gate: &Gate, validations: &[Validation]) -> Verdict {
    let score = if validations.is_empty() {
        100
    } else {
        let sum: u32 = validations.iter().map(|v| u32::from(v.report.score)).sum();
        ((sum as f64 / validations.len() as f64).round() as u32).min(100) as u8
    };
    let mut reasons = vec![];
    if score < gate.min_score {
        reasons.push(format!(
            "quality score {score} is below the tier's minimum of {}",
            gate.min_score
        ));
    }
    let critical: Vec<String> = validations
        .iter()
        .flat_map(|v| v.report.findings.iter().map(move |f| (v, f)))
        .filter(|(_, f)| f.severity == Severity::Critical)
        .map(|(v, f)| {
            let at = match (&f.path, f.line) {
                (Some(p), Some(l)) => format!(" at {p}:{l}"),
                (Some(p), None) => format!(" in {p}"),
                _ => String::new(),
            };
            format!("{} ({}){at}", f.rule_id, v.validator)
        })
        .collect();
    if critical.len() as u32 > gate.max_critical {
        reasons.push(format!(
            "{} critical finding{} over the tier's maximum of {}: {}",
            critical.len(),
            if critical.len() == 1 { "" } else { "s" },
            gate.max_critical,
            critical.join(", ")
        ));
    }
    Verdict {
        score,
        passed: reasons.is_empty(),
        reasons,
    }
}

impl Pipeline {
    fn plugin(&self, name: &str) -> Result<Arc<Plugin>, Failure> {
        self.plugins.get(name).cloned().ok_or_else(|| Failure {
            code: "PLUGIN_NOT_FOUND".into(),
            message: format!("plugin `{name}` is not installed"),
        })
    }

    fn context(&self, plugin: &Plugin) -> Result<CallContext, Failure> {
        let grant = self
            .tiers
            .grants
            .get(&plugin.info.name)
            .cloned()
            .unwrap_or_default();
        let mut ctx = CallContext {
            config: Arc::new(grant.config.clone()),
            workspace: None,
            http: None,
        };
        // HTTP is linked for plugins that declare it and were granted hosts.
        let asks_http = plugin
            .info
            .capabilities
            .iter()
            .any(|c| matches!(c, Capability::Http(_)));
        if asks_http && !grant.http.is_empty() {
            ctx.http = Some(Arc::new(grant.http_grant().map_err(Failure::host)?));
        }
        // A directory is linked only when the plugin asked for it and the
        // operator granted it; writing needs both to say so.
        let asks = |cap: Capability| plugin.info.capabilities.contains(&cap);
        let asks_read = asks(Capability::DirectoryRead);
        let asks_write = asks(Capability::DirectoryWrite);
        if (asks_read || asks_write)
            && let Some(dir) = grant.directory
        {
            let dir = if dir.is_absolute() {
                dir
            } else {
                self.data_dir.join(dir)
            };
            std::fs::create_dir_all(&dir).map_err(Failure::host)?;
            let opened = cap_std::fs::Dir::open_ambient_dir(&dir, cap_std::ambient_authority())
                .map_err(|e| Failure::host(format!("cannot open {}: {e}", dir.display())))?;
            ctx.workspace = Some(Workspace {
                dir: opened,
                writable: asks_write && grant.access == Access::ReadWrite,
            });
        }
        Ok(ctx)
    }

    /// Runs one plugin call as a recorded stage.
    async fn stage<T: Send + 'static>(
        &self,
        seq: &mut i64,
        intent_id: &str,
        stage: &str,
        plugin: &Arc<Plugin>,
        call: impl FnOnce(&Runtime, &Plugin) -> (Result<T, CallError>, Usage) + Send + 'static,
        detail: impl FnOnce(&T) -> serde_json::Value,
    ) -> Result<T, Failure> {
        *seq += 1;
        let id = self
            .store
            .start_stage(intent_id, *seq, stage, Some(&plugin.info.name))
            .await
            .map_err(Failure::host)?;
        let runtime = self.runtime.clone();
        let p = plugin.clone();
        let (result, usage) = tokio::task::spawn_blocking(move || call(&runtime, &p))
            .await
            .unwrap_or_else(|e| {
                (
                    Err(CallError::Host(format!("plugin call panicked: {e}"))),
                    Usage::default(),
                )
            });
        match result {
            Ok(value) => {
                let mut d = detail(&value);
                d["peak_memory_bytes"] = json!(usage.peak_memory_bytes);
                if let Some(fuel) = usage.fuel_consumed {
                    d["fuel_consumed"] = json!(fuel);
                }
                self.store
                    .finish_stage(id, StageStatus::Succeeded, usage.wall_ms, None, Some(d))
                    .await
                    .map_err(Failure::host)?;
                Ok(value)
            }
            Err(e) => {
                let failure = Failure::stage(stage, &plugin.info.name, &e);
                tracing::warn!(intent = intent_id, stage, plugin = %plugin.info.name, code = e.code(), error = %e, "stage failed");
                self.store
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
                    .map_err(Failure::host)?;
                Err(failure)
            }
        }
    }

    /// Runs an intent to the end and records its outcome.
    pub async fn run(&self, intent: Intent) {
        let id = intent.id.clone();
        tracing::info!(intent = %id, tier = %intent.tier, "pipeline started");
        if let Err(e) = self
            .store
            .set_status(&id, IntentStatus::Running, None)
            .await
        {
            tracing::error!(intent = %id, error = %e, "cannot mark intent running");
            return;
        }
        let outcome = self.run_stages(&intent).await;
        let (status, error) = match outcome {
            Ok(true) => (IntentStatus::Completed, None),
            Ok(false) => (IntentStatus::GateFailed, None),
            Err(f) => (
                IntentStatus::Failed,
                Some(ErrorInfo {
                    code: f.code,
                    message: f.message,
                }),
            ),
        };
        tracing::info!(intent = %id, status = status.as_str(), "pipeline finished");
        if let Err(e) = self.store.set_status(&id, status, error).await {
            tracing::error!(intent = %id, error = %e, "cannot record intent outcome");
        }
    }

    /// Returns whether the capsule passed its gate.
    async fn run_stages(&self, intent: &Intent) -> Result<bool, Failure> {
        let tier: Tier = self
            .tiers
            .get(&intent.tier)
            .cloned()
            .ok_or_else(|| Failure {
                code: "UNKNOWN_TIER".into(),
                message: format!("tier `{}` is no longer configured", intent.tier),
            })?;
        let id = intent.id.as_str();
        let wit_intent = wit::Intent::from(intent);
        let mut seq = 0;
        let mut ran: Vec<Arc<Plugin>> = vec![];

        // Agents.
        let mut project: BTreeMap<String, File> = BTreeMap::new();
        for name in &tier.agents {
            let plugin = self.plugin(name)?;
            let ctx = self.context(&plugin)?;
            let request = wit::GenerationRequest {
                intent: wit_intent.clone(),
                files: project.values().map(Into::into).collect(),
                findings: vec![],
                iteration: 0,
            };
            let limits = self
                .tiers
                .limits(&tier, &plugin.info.name, PluginKind::Agent);
            let files = self
                .stage(
                    &mut seq,
                    id,
                    "generate",
                    &plugin,
                    move |rt, p| rt.generate(p, limits, ctx, &request),
                    |files| json!({ "files": files.len() }),
                )
                .await?;
            capsule::merge(&mut project, files).map_err(|e| Failure {
                code: "INVALID_OUTPUT".into(),
                message: format!("stage `generate` ({name}) failed: {e}"),
            })?;
            ran.push(plugin);
        }
        if project.is_empty() {
            return Err(Failure {
                code: "EMPTY_PROJECT".into(),
                message: "the agents generated no files".into(),
            });
        }
        let files: Vec<File> = project.into_values().collect();

        // Analyzers: each file goes to the first analyzer of the tier that
        // handles its extension.
        let mut analyses = vec![];
        let mut analysis_errors = vec![];
        for name in &tier.analyzers {
            let plugin = self.plugin(name)?;
            let base = self.context(&plugin)?;
            let (ctx_config, ctx_http) = (base.config, base.http);
            let mine: Vec<wit::File> = files
                .iter()
                .filter(|f| {
                    let ext = f
                        .path
                        .rsplit_once('.')
                        .map(|(_, e)| e.to_ascii_lowercase())
                        .unwrap_or_default();
                    plugin.extensions.contains(&ext)
                        && !analyses.iter().any(|a: &model::Analysis| a.path == f.path)
                })
                .map(Into::into)
                .collect();
            if mine.is_empty() {
                continue;
            }
            let limits = self
                .tiers
                .limits(&tier, &plugin.info.name, PluginKind::Analyzer);
            let (done, errors) = self
                .stage(
                    &mut seq,
                    id,
                    "analyze",
                    &plugin,
                    move |rt, p| {
                        let mut usage = Usage::default();
                        let mut done = vec![];
                        let mut errors = vec![];
                        for file in &mine {
                            let ctx = CallContext { config: ctx_config.clone(), workspace: None, http: ctx_http.clone() };
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
                    |(done, errors): &(Vec<model::Analysis>, Vec<serde_json::Value>)| {
                        json!({ "files": done.len(), "errors": errors.len() })
                    },
                )
                .await?;
            analyses.extend(done);
            analysis_errors.extend(errors);
            ran.push(plugin);
        }

        // Validators.
        let mut validations: Vec<Validation> = vec![];
        let view = |validations: &[Validation], files: &[File], quality_score: Option<u8>| {
            wit::CapsuleView {
                intent: wit_intent.clone(),
                files: files.iter().map(Into::into).collect(),
                analyses: analyses.iter().map(Into::into).collect(),
                validations: validations.iter().map(Into::into).collect(),
                quality_score,
            }
        };
        for name in &tier.validators {
            let plugin = self.plugin(name)?;
            let ctx = self.context(&plugin)?;
            let v = view(&[], &files, None);
            let limits = self
                .tiers
                .limits(&tier, &plugin.info.name, PluginKind::Validator);
            let report = self
                .stage(
                    &mut seq,
                    id,
                    "validate",
                    &plugin,
                    move |rt, p| rt.validate(p, limits, ctx, &v),
                    |r: &model::Report| json!({ "score": r.score, "findings": r.findings.len() }),
                )
                .await?;
            validations.push(Validation {
                validator: plugin.info.name.clone(),
                report,
            });
            ran.push(plugin);
        }

        // The quality gate.
        seq += 1;
        let gate_id = self
            .store
            .start_stage(id, seq, "gate", None)
            .await
            .map_err(Failure::host)?;
        let verdict = gate(&tier.gate, &validations);
        self.store
            .finish_stage(
                gate_id,
                if verdict.passed { StageStatus::Succeeded } else { StageStatus::Failed },
                0,
                (!verdict.passed).then(|| ErrorInfo { code: "GATE_FAILED".into(), message: verdict.reasons.join("; ") }),
                Some(json!({ "score": verdict.score, "passed": verdict.passed, "min_score": tier.gate.min_score, "max_critical": tier.gate.max_critical })),
            )
            .await
            .map_err(Failure::host)?;

        // The manifest, then the exporter, which packages it with the files.
        let exporter = self.plugin(&tier.exporter)?;
        let mut plugin_entries: Vec<PluginEntry> = ran
            .iter()
            .chain(std::iter::once(&exporter))
            .map(|p| plugin_entry(p))
            .collect();
        if let (true, Some(delivery)) = (verdict.passed, &tier.delivery) {
            plugin_entries.push(plugin_entry(&*self.plugin(delivery)?));
        }
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
                passed: verdict.passed,
                reasons: verdict.reasons.clone(),
            },
            files: files.iter().map(FileEntry::of).collect(),
            plugins: plugin_entries,
        };
        let manifest_text = serde_json::to_string_pretty(&manifest).expect("manifests serialize");
        let mut packaged = files.clone();
        packaged.push(File {
            path: capsule::MANIFEST_NAME.into(),
            content: manifest_text.clone().into_bytes(),
        });
        let export_view = view(&validations, &packaged, Some(verdict.score));
        let options = wit::ExportOptions {
            base_name: base_name(intent),
            options: vec![],
        };
        let ctx = self.context(&exporter)?;
        let limits = self
            .tiers
            .limits(&tier, &exporter.info.name, PluginKind::Exporter);
        let artifact = self
            .stage(
                &mut seq,
                id,
                "export",
                &exporter,
                move |rt, p| rt.export(p, limits, ctx, &export_view, &options),
                |a: &model::Artifact| json!({ "file_name": a.file_name, "media_type": a.media_type, "bytes": a.bytes.len() }),
            )
            .await?;
        if capsule::check_path(&artifact.file_name).is_err() || artifact.file_name.contains('/') {
            return Err(Failure {
                code: "INVALID_OUTPUT".into(),
                message: format!(
                    "stage `export` ({}) failed: invalid artifact file name",
                    exporter.info.name
                ),
            });
        }

        // Store the capsule before delivering it, so it is visible whatever
        // delivery does.
        {
            let dirs = self.capsules.clone();
            let (id, packaged, name, bytes) = (
                id.to_owned(),
                packaged.clone(),
                artifact.file_name.clone(),
                artifact.bytes.clone(),
            );
            tokio::task::spawn_blocking(move || dirs.write(&id, &packaged, Some((&name, &bytes))))
                .await
                .map_err(Failure::host)?
                .map_err(|e| Failure::host(format!("cannot write the capsule: {e}")))?;
        }
        self.store
            .insert_capsule(&CapsuleRecord {
                intent_id: id.to_owned(),
                tier: intent.tier.clone(),
                quality_score: verdict.score,
                gate_passed: verdict.passed,
                gate_reasons: verdict.reasons.clone(),
                files: serde_json::to_value(&manifest.files).expect("serializes"),
                analyses: serde_json::to_value(&analyses).expect("serializes"),
                analysis_errors: serde_json::Value::Array(analysis_errors),
                validations: serde_json::to_value(&validations).expect("serializes"),
                manifest: serde_json::to_value(&manifest).expect("serializes"),
                artifact_name: Some(artifact.file_name.clone()),
                artifact_type: Some(artifact.media_type.clone()),
                receipt: None,
                created_at: manifest.created_at.clone(),
            })
            .await
            .map_err(Failure::host)?;

        // Delivery, for capsules that passed.
        if let Some(name) = &tier.delivery {
            let plugin = self.plugin(name)?;
            if !verdict.passed {
                seq += 1;
                let sid = self
                    .store
                    .start_stage(id, seq, "deliver", Some(name))
                    .await
                    .map_err(Failure::host)?;
                self.store
                    .finish_stage(
                        sid,
                        StageStatus::Skipped,
                        0,
                        None,
                        Some(json!({ "reason": "the capsule failed its gate" })),
                    )
                    .await
                    .map_err(Failure::host)?;
                return Ok(false);
            }
            let ctx = self.context(&plugin)?;
            let target = wit::DeliveryTarget {
                destination: intent.id.clone(),
                options: vec![],
            };
            let wit_artifact = wit::Artifact::from(&artifact);
            let limits = self
                .tiers
                .limits(&tier, &plugin.info.name, PluginKind::Delivery);
            let receipt = self
                .stage(
                    &mut seq,
                    id,
                    "deliver",
                    &plugin,
                    move |rt, p| rt.deliver(p, limits, ctx, &wit_artifact, &target),
                    |r: &model::Receipt| json!({ "location": r.location }),
                )
                .await?;
            self.store
                .set_receipt(id, &serde_json::to_value(&receipt).expect("serializes"))
                .await
                .map_err(Failure::host)?;
        }
        Ok(verdict.passed)
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

/// Queues intents to a fixed number of workers.
#[derive(Clone)]
pub struct Dispatcher {
    tx: mpsc::Sender<Intent>,
}

impl Dispatcher {
    /// Starts `workers` workers running intents through `pipeline`.
    pub fn start(pipeline: Arc<Pipeline>, workers: usize) -> Self {
        let (tx, rx) = mpsc::channel::<Intent>(QUEUE_CAPACITY);
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        for _ in 0..workers.max(1) {
            let rx = rx.clone();
            let pipeline = pipeline.clone();
            tokio::spawn(async move {
                loop {
                    let next = rx.lock().await.recv().await;
                    let Some(intent) = next else { break };
                    pipeline.run(intent).await;
                }
            });
        }
        Self { tx }
    }

    /// Queues an intent, waiting for room if the queue is full.
    pub async fn submit(&self, intent: Intent) -> anyhow::Result<()> {
        self.tx
            .send(intent)
            .await
            .map_err(|_| anyhow::anyhow!("the worker pool has stopped"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Finding, Report};

    fn validation(score: u8, severities: &[Severity]) -> Validation {
        Validation {
            validator: "qlp/secrets".into(),
            report: Report {
                findings: severities
                    .iter()
                    .map(|&severity| Finding {
                        rule_id: "secrets/private-key".into(),
                        severity,
                        message: "m".into(),
                        path: Some("keys/id_rsa".into()),
                        line: Some(3),
                    })
                    .collect(),
                score,
                summary: String::new(),
            },
        }
    }

    #[test]
    fn the_score_is_the_rounded_mean_of_validator_scores() {
        let g = Gate {
            min_score: 70,
            max_critical: 0,
        };
        assert_eq!(gate(&g, &[]).score, 100);
        assert_eq!(
            gate(&g, &[validation(80, &[]), validation(61, &[])]).score,
            71
        );
        assert!(gate(&g, &[validation(80, &[]), validation(61, &[])]).passed);
    }

    #[test]
    fn a_low_score_fails_with_the_reason() {
        let v = gate(
            &Gate {
                min_score: 70,
                max_critical: 0,
            },
            &[validation(69, &[])],
        );
        assert!(!v.passed);
        assert_eq!(
            v.reasons,
            vec!["quality score 69 is below the tier's minimum of 70"]
        );
    }

    #[test]
    fn critical_findings_fail_the_gate_naming_file_and_line() {
        let v = gate(
            &Gate {
                min_score: 0,
                max_critical: 0,
            },
            &[validation(60, &[Severity::Critical, Severity::High])],
        );
        assert!(!v.passed);
        assert_eq!(
            v.reasons,
            vec![
                "1 critical finding over the tier's maximum of 0: secrets/private-key (qlp/secrets) at keys/id_rsa:3"
            ]
        );
        let v = gate(
            &Gate {
                min_score: 0,
                max_critical: 1,
            },
            &[validation(60, &[Severity::Critical])],
        );
        assert!(v.passed);
    }
}
