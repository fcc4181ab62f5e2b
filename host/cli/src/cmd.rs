//! What each `qlp` command does, one module per command; their flags are
//! defined in `main.rs`.

pub mod api_key;
pub mod audit;
pub mod bench;
pub mod bundle;
pub mod check;
pub mod key;
pub mod plugin;
pub mod publisher;
pub mod rules;
pub mod submit;
pub mod tenant;

use anyhow::Context;

/// The signing key in the file at `path`.
fn read_secret_key(path: &std::path::Path) -> anyhow::Result<qlp_registry::SecretKey> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(qlp_registry::SecretKey::parse(&text)?)
}
