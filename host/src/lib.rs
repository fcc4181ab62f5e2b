//! QLP's host: the server that turns intents into capsules by running
//! sandboxed WebAssembly plugins, and the `qlp` command line.
//!
//! Where to look: `api` (REST), `pipeline` (what an intent runs), `runtime`
//! (wasmtime, limits, the plugin contract's host side), `capsule` (files,
//! manifest), `store` (SQLite), `tiers` (pipeline configuration), `server`
//! (start-up), `client` (`qlp submit`), `packages` (signed plugins) and
//! `oci` (mirroring them through an OCI registry).

pub mod api;
pub mod bench;
pub mod bundle;
pub mod capsule;
pub mod catalog;
pub mod client;
pub mod gate;
pub mod model;
pub mod oci;
pub mod packages;
pub mod pipeline;
pub mod publishers;
pub mod runtime;
pub mod scaffold;
pub mod server;
pub mod store;
pub mod tiers;
pub mod webhooks;
