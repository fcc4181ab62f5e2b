//! The plugin contract as the host sees it.
//!
//! - `bindings`: the Rust types and traits wasmtime generates from the WIT
//!   worlds (`wit/`), one module per world;
//! - `model`: QLP's domain types, what the API returns, the store keeps and
//!   the pipeline passes around;
//! - `convert`: the one place generated values become domain values and
//!   back, so a new contract version changes this crate and no other;
//! - `size`: how many bytes a value is when it crosses the sandbox, for the
//!   per-call input and output caps;
//! - `text`: text that comes from a plugin, made safe to print.

pub mod bindings;
pub mod convert;
pub mod model;
pub mod size;
pub mod text;
