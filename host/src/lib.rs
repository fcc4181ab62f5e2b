//! QLP's host: the server that turns intents into capsules by running
//! sandboxed WebAssembly plugins, and the `qlp` command line.
//!
//! Where to look:
//! - serving: `server` (start-up, drain), `api` (REST, one module per
//!   resource group; the registry's routes in `api::registry`), `auth` and
//!   `sso` (who is calling), `policy` (tenant policies), `metrics`,
//!   `telemetry` (logs, and traces over OTLP);
//! - running intents: `pipeline` (the stage graph, repair rounds, durable
//!   jobs), `gate`, `capsule` (files, manifest), `tiers` (pipeline
//!   configuration, grants, `[stacks]`, `[llm]`), `catalog` (the plugin
//!   versions each tier resolves to, and the lock), `rulepacks`, `sarif`,
//!   `upload` (`POST /v1/checks`);
//! - the sandbox: `runtime` (wasmtime, limits, the contract's host side:
//!   `host`, `workspace`, `http`, `llm`, WASI), `net` (which addresses the
//!   server may reach for others), `tls`;
//! - storage: `store` (SQLite or PostgreSQL, by table group; the webhook
//!   outbox is written there), `capsule` (its files in a directory or an
//!   object store bucket), `webhooks` (sending), `durable` (crash-safe file
//!   writes), `faults` (crash points for fault-injection tests);
//! - plugins as packages: `packages` (signed plugins), `publishers`, `oci`
//!   (mirroring through an OCI registry), `bundle` (air-gapped installs),
//!   `scaffold` (`qlp plugin new`);
//! - the command line: `main.rs` (its definitions), `cmd/` (one module per
//!   command), `client` (the HTTP client), `bench`.

pub mod api;
pub mod auth;
pub mod bench;
pub mod bundle;
pub mod capsule;
pub mod catalog;
pub mod client;
pub mod durable;
pub mod faults;
pub mod gate;
pub mod metrics;
pub mod model;
pub mod net;
pub mod oci;
pub mod packages;
pub mod pipeline;
pub mod policy;
pub mod publishers;
pub mod rulepacks;
pub mod runtime;
pub mod sarif;
pub mod scaffold;
pub mod server;
pub mod sso;
pub mod store;
pub mod telemetry;
pub mod tiers;
pub mod tls;
pub mod upload;
pub mod webhooks;
