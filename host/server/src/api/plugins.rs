//! What the server runs: the loaded plugins with their grants, and the
//! tiers.

use axum::Json;
use axum::extract::State;

use super::{AppState, types};

/// The loaded plugins, each with what it declares and what its calls
/// actually get (`granted`: declared and granted; configuration by key
/// only, since values may be secrets).
#[utoipa::path(get, path = "/v1/plugins", tag = "plugins",
    responses((status = 200, description = "The plugins the tiers in force run, by name", body = types::PluginList)))]
pub(super) async fn list_plugins(State(state): State<AppState>) -> Json<types::PluginList> {
    let catalog = state.pipeline.catalog();
    let tiers = state.pipeline.tiers();
    let mut plugins: Vec<_> = catalog
        .plugins
        .values()
        .map(|p| {
            let grant = tiers.grants.get(&p.info.name).cloned().unwrap_or_default();
            let effective = grant.effective(&p.info.capabilities);
            types::PluginView {
                name: p.info.name.clone(),
                version: p.info.version.clone(),
                kind: p.info.kind,
                description: p.info.description.clone(),
                capabilities: p.info.capabilities.clone(),
                granted: types::Granted {
                    http: effective.http.to_vec(),
                    directory: effective
                        .directory
                        .map(|(dir, writable)| types::GrantedDirectory {
                            path: dir.display().to_string(),
                            writable,
                        }),
                    config: grant.config.keys().cloned().collect(),
                    secrets: effective
                        .secrets
                        .iter()
                        .map(|(k, _)| (*k).to_owned())
                        .collect(),
                },
                digest: p.digest.clone(),
                size: p.size as u64,
                wit: p.contract.version().to_owned(),
                languages: p.languages.clone(),
                extensions: p.extensions.clone(),
            }
        })
        .collect();
    plugins.sort_by(|a, b| a.name.cmp(&b.name));
    Json(types::PluginList { plugins })
}

/// The tiers in force: each one's stages in the order they may run, its
/// gate, repair rounds, approval and concurrency; and the planner.
#[utoipa::path(get, path = "/v1/tiers", tag = "plugins",
    responses((status = 200, description = "The configured tiers and planner", body = types::TierList)))]
pub(super) async fn list_tiers(State(state): State<AppState>) -> Json<types::TierList> {
    let tiers = state.pipeline.tiers();
    // Serializing derived types to JSON values cannot fail.
    fn value(v: &impl serde::Serialize) -> serde_json::Value {
        serde_json::to_value(v).unwrap_or_default()
    }
    let list = tiers
        .tiers
        .iter()
        .map(|(name, tier)| types::TierView {
            name: name.clone(),
            description: tier.description.clone(),
            stages: tier.order.iter().map(|&i| value(&tier.stages[i])).collect(),
            exporter: tier.exporters.first().cloned(),
            exporters: tier.exporters.clone(),
            delivery: tier.delivery.clone(),
            deliveries: tier.deliveries.iter().map(value).collect(),
            gate: value(&tier.gate),
            max_iterations: tier.max_iterations,
            approval: tier.approval,
            concurrency: tier.concurrency(),
            conflicts: value(&tier.conflicts),
        })
        .collect();
    Json(types::TierList {
        tiers: list,
        planner: tiers.planner.as_ref().map(|p| p.plugin.clone()),
    })
}
