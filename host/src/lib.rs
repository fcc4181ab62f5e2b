//! QLP's host: the server that turns intents into capsules by running
//! sandboxed WebAssembly plugins, and the `qlp` command line.
//!
//! Where to look: `api` (REST, with the registry's routes in
//! `api::registry`), `pipeline` (what an intent runs: the stage graph,
//! repair rounds, durable jobs), `gate`, `runtime` (wasmtime, limits, WASI,
//! the plugin contract's host side), `capsule` (files, manifest), `store`
//! (SQLite), `webhooks`, `tiers` (pipeline configuration), `catalog` (the
//! plugin versions each tier resolves to, and the lock), `server`
//! (start-up), `client` (`qlp submit`), `durable` (crash-safe file writes), `faults` (crash points for
//! fault-injection tests), `net` (which addresses the server may reach for
//! others), `packages` (signed plugins),
//! `publishers` (who may publish), `scaffold` (`qlp plugin new`), `oci`
//! (mirroring plugins through an OCI registry) and `bundle` (air-gapped
//! installs).

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
pub mod tiers;
pub mod tls;
pub mod upload;
pub mod webhooks;
