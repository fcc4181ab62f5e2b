//! The REST API's request and response bodies, typed. The handlers build
//! these, and the OpenAPI description ([`super::openapi`]) is derived from
//! them, so the description is what the server answers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::store::{Approval, CapsuleRecord, IntentRecord, StageRecord};

/// Every error: a stable code to match on and a sentence for people.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// e.g. `INTENT_NOT_FOUND`, `UNKNOWN_TIER`, `RATE_LIMITED`.
    pub code: String,
    pub message: String,
    /// The request's id (also its `X-Request-Id`), as the server's logs
    /// and traces name it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// `requirements` may be a list or one comma-separated string.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Requirements {
    List(Vec<String>),
    Text(String),
}

/// An intent as submitted (`POST /v1/intents`, `POST /v1/analyses`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitIntent {
    /// What to build, in words; 1 to 8,000 characters, not all blank.
    #[schema(min_length = 1, max_length = 8000, pattern = r"\S")]
    pub description: String,
    #[serde(default)]
    pub requirements: Option<Requirements>,
    /// e.g. `{"framework": "FastAPI", "database": "PostgreSQL"}`
    #[serde(default)]
    pub constraints: Option<BTreeMap<String, String>>,
    /// A configured tier; without one the planner recommends it.
    #[serde(default)]
    pub tier: Option<String>,
}

/// The answer to an accepted submission (202).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Accepted {
    pub id: String,
    /// Always `queued`.
    pub status: String,
    pub tier: String,
    pub links: AcceptedLinks,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AcceptedLinks {
    #[serde(rename = "self")]
    pub this: String,
    pub capsule: String,
}

/// `GET /v1/intents`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IntentList {
    pub intents: Vec<IntentRecord>,
}

/// `GET /v1/intents/{id}`: the intent with its stages.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IntentView {
    #[serde(flatten)]
    pub record: IntentRecord,
    pub stages: Vec<StageRecord>,
    /// Present once a capsule exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub links: Option<IntentLinks>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IntentLinks {
    pub capsule: String,
}

/// `POST /v1/analyses`: the planner's reading of an intent.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Analysis {
    /// The planner's plan: stack, components, compliance concerns,
    /// recommended tier.
    pub analysis: serde_json::Value,
    /// The tier that would run.
    pub tier: String,
    /// The agents that tier would run for this intent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agents: Option<Vec<String>>,
    /// Why no agent would serve this intent, when none would.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unsupported: Option<ErrorBody>,
}

/// A cancellation asked for (202 while the intent runs) or done (200).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Cancelled {
    pub id: String,
    /// `running` (202) or `cancelled` (200).
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancel_requested: Option<bool>,
}

/// An approval decision (`POST .../approve`, `POST .../reject`).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// Ignored: the decider is the caller.
    #[serde(default, rename = "by")]
    #[schema(value_type = Option<String>)]
    pub _by: Option<serde::de::IgnoredAny>,
    /// Up to 4,000 characters.
    #[serde(default)]
    pub comment: String,
}

/// The decision recorded.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Decided {
    pub id: String,
    /// `queued` (approved: delivery follows) or `rejected`.
    pub status: String,
    pub approval: Approval,
}

/// `GET /v1/audit`: a page of the trail, oldest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditPage {
    pub entries: Vec<crate::store::audit::Entry>,
    /// Pass as `after` for the next page; null on an empty page.
    pub next_after: Option<i64>,
}

/// A webhook to register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterWebhook {
    pub url: String,
    /// e.g. `intent.completed`, `intent.failed`, `*`.
    pub events: Vec<String>,
    /// The HMAC secret; generated when absent.
    #[serde(default)]
    pub secret: Option<String>,
}

/// A webhook just registered: the only time its secret is shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookCreated {
    #[serde(flatten)]
    pub webhook: crate::webhooks::Webhook,
    pub secret: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookList {
    pub webhooks: Vec<crate::webhooks::Webhook>,
}

/// A webhook's deliveries, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryList {
    pub deliveries: Vec<serde_json::Value>,
}

/// `GET /v1/capsules/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CapsuleView {
    #[serde(flatten)]
    pub capsule: CapsuleRecord,
    pub links: CapsuleLinks,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CapsuleLinks {
    pub download: String,
    pub artifacts: Vec<String>,
    pub files: String,
    pub sarif: String,
    pub intent: String,
}

/// `GET /v1/plugins`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PluginList {
    pub plugins: Vec<PluginView>,
}

/// A loaded plugin and what the operator granted it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PluginView {
    pub name: String,
    pub version: String,
    pub kind: qlp_contract::model::PluginKind,
    pub description: String,
    /// What the plugin declared it needs.
    pub capabilities: Vec<qlp_contract::model::Capability>,
    pub granted: Granted,
    /// The component's blake3.
    pub digest: String,
    pub size: u64,
    /// The `qlp:plugin` version the component targets, e.g. `0.2.0`.
    #[serde(default)]
    pub wit: String,
    /// The languages an analyzer reads.
    pub languages: Vec<String>,
    /// The file extensions an analyzer reads.
    pub extensions: Vec<String>,
}

/// Capabilities granted: the declared ones the tiers file allows.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Granted {
    /// Hosts the plugin may reach.
    pub http: Vec<String>,
    pub directory: Option<GrantedDirectory>,
    /// Names of the configuration keys given.
    pub config: Vec<String>,
    /// Names of the secrets given (never their values).
    pub secrets: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GrantedDirectory {
    pub path: String,
    pub writable: bool,
}

/// `GET /v1/tiers`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TierList {
    pub tiers: Vec<TierView>,
    /// The planner plugin, when one is configured.
    pub planner: Option<String>,
}

/// A configured tier: its stages in the order they start.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TierView {
    pub name: String,
    pub description: String,
    /// Each stage: name, plugin, what it needs and runs after.
    pub stages: Vec<serde_json::Value>,
    /// The first exporter.
    pub exporter: Option<String>,
    pub exporters: Vec<String>,
    /// The first delivery.
    pub delivery: Option<String>,
    pub deliveries: Vec<serde_json::Value>,
    /// The quality gate's thresholds.
    pub gate: serde_json::Value,
    pub max_iterations: u32,
    /// Whether a person approves delivery.
    pub approval: bool,
    /// Plugin calls of one intent that may run at once.
    pub concurrency: usize,
    /// How files two agents both wrote are settled.
    pub conflicts: serde_json::Value,
}

/// `GET /healthz`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or `degraded` while the database file is not writable.
    pub status: String,
    /// The SQLite file's state; absent on PostgreSQL.
    pub database: Option<crate::store::FileState>,
    /// Plugins loaded.
    pub plugins: usize,
}

/// `GET /readyz`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready` (200) or `not-ready` (503).
    pub status: String,
    pub plugins: usize,
    /// Why it is not ready.
    pub problems: Vec<String>,
}

/// A tenant to create.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTenant {
    /// 1 to 63 of a-z, 0-9 and `-`.
    pub id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TenantCreated {
    pub id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TenantList {
    pub tenants: Vec<TenantSummary>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TenantSummary {
    pub id: String,
    pub created_at: String,
}

/// An API key to create.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    pub tenant: String,
    /// 1 to 200 printable characters.
    pub name: String,
    /// `admin`, `operator`, `submitter`, `reviewer`, `auditor`.
    pub roles: Vec<String>,
    /// e.g. `90d`; at most five years. Without it the key does not expire.
    #[serde(default)]
    pub expires_in: Option<String>,
}

/// A key just created: the only time its secret is shown.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct KeyCreated {
    #[serde(flatten)]
    pub record: crate::store::KeyRecord,
    /// The bearer token.
    pub key: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct KeyList {
    pub keys: Vec<crate::store::KeyRecord>,
}

/// A package version in the registry.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PackageVersion {
    pub name: String,
    pub version: String,
    pub kind: String,
    /// The WIT contract version it targets.
    pub wit: String,
    pub digest: String,
    pub size: u64,
    pub yanked: bool,
}

/// The answer to a yank or unyank.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct YankState {
    pub name: String,
    pub version: String,
    pub yanked: bool,
}

/// A package to publish: the component with its manifest and signatures.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishBody {
    /// The component, base64 (standard alphabet, padded).
    pub component: String,
    /// The package manifest (`qlp.json`).
    pub manifest: serde_json::Value,
    /// Ed25519 signatures over the manifest and component.
    pub signatures: serde_json::Value,
}

/// `GET /v1/registry/packages`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PackageList {
    pub packages: Vec<PackageSummary>,
}

/// A package: its newest unyanked version as `latest` (null when all are
/// yanked).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PackageSummary {
    pub name: String,
    pub kind: String,
    pub latest: Option<String>,
    pub wit: String,
    pub digest: Option<String>,
    /// How many versions are published, yanked ones included.
    pub versions: usize,
}

/// `GET /v1/registry/packages/{namespace}/{name}`: newest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PackageVersions {
    pub name: String,
    pub latest: Option<String>,
    pub versions: Vec<PackageVersion>,
}

/// `GET /v1/registry/packages/{namespace}/{name}/{version}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PackageDetail {
    pub entry: PackageVersion,
    pub manifest: serde_json::Value,
    pub signatures: serde_json::Value,
}

/// Bytes as they are: an archive, an artifact, a component.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct Binary(pub Vec<u8>);

/// One server-sent event of an intent's stream. `event` is
/// `stage.started`, `stage.finished`, `iteration`, `gate` or `status`;
/// `data` is JSON (a stage record, `{"iteration"}`, the gate's verdict, or
/// `{"status", "error"}`).
#[derive(ToSchema)]
pub struct StreamEvent {
    pub event: String,
    /// Resumes the stream after this event (`Last-Event-ID`).
    pub id: Option<String>,
    pub data: String,
}
