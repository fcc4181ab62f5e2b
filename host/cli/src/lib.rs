//! The `qlp` command line. `main.rs` holds its clap definitions and `cmd/`
//! one module per command; this library is what those commands share and
//! what the end-to-end tests drive: `client` (the server's HTTP API),
//! `scaffold` (`qlp plugin new`) and `bench` (`qlp bench`). Mirroring
//! through OCI registries is `qlp_registry::oci`.

pub mod bench;
pub mod client;
pub mod scaffold;
