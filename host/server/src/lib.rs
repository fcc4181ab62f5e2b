//! The QLP server: it turns intents into capsules by running sandboxed
//! WebAssembly plugins (through `qlp-runtime`) and keeps what it did.
//!
//! Where to look:
//! - serving: `server` (start-up, drain), `api` (REST, one module per
//!   resource group; the registry's routes in `api::registry`), `auth` and
//!   `sso` (who is calling), `policy` (tenant policies), `telemetry` (logs,
//!   and traces over OTLP);
//! - running intents: `pipeline` (the stage graph, repair rounds, durable
//!   jobs), `gate`, `capsule` (files, manifest), `tiers` (pipeline
//!   configuration, grants, `[stacks]`, `[llm]`), `catalog` (the plugin
//!   versions each tier resolves to, and the lock), `rulepacks`, `sarif`,
//!   `upload` (`POST /v1/checks`);
//! - storage: `store` (SQLite or PostgreSQL, by table group; the webhook
//!   outbox is written there), `capsule` (its files in a directory or an
//!   object store bucket), `webhooks` (sending), `faults` (crash points for
//!   fault-injection tests);
//! - plugins as packages: `packages` (signed plugins), `publishers`,
//!   `bundle` (air-gapped installs).
//!
//! Beside it: `qlp-contract` (the WIT bindings and domain types),
//! `qlp-runtime` (wasmtime, limits, the capabilities plugins call, metrics,
//! TLS and address rules) and `qlp-cli` (the `qlp` binary).

pub mod api;
pub mod auth;
pub mod bundle;
pub mod capsule;
pub mod catalog;
pub mod faults;
pub mod gate;
pub mod packages;
pub mod pipeline;
pub mod policy;
pub mod publishers;
pub mod rulepacks;
pub mod sarif;
pub mod server;
pub mod sso;
pub mod store;
pub mod telemetry;
pub mod tiers;
pub mod upload;
pub mod webhooks;
