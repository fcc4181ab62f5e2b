//! Reading the dependency manifests of a generated project: which packages
//! it declares, in which ecosystem, with which requirement, on which line,
//! for what use ([`manifest::Kind`]: runtime, development, build, optional,
//! indirect), and the exact versions its lock files record
//! ([`manifest::Lock`]).
//!
//! Two plugins read manifests: the validator `qlp/dependencies`
//! (`plugins/dependencies`: unpinned, vulnerable and badly licensed
//! dependencies) and the exporter `qlp/sbom` (`plugins/sbom`: a CycloneDX
//! bill of materials). Plugin crates cannot link each other (each carries
//! its component's export symbols), so the reading lives here, in a plain
//! library linked into both components. It calls no host service and
//! needs no dependency, so everything is tested natively.
//!
//! [`manifest`] has the table of files read; [`version`] orders versions
//! and turns requirements into intervals per ecosystem; [`toml_lite`] is
//! the line-keeping TOML subset both use.

pub mod manifest;
pub mod toml_lite;
pub mod version;

pub use manifest::{Dependency, Kind, Lock, Style};
pub use version::{Ecosystem, Interval, Version};

/// Largest manifest read; real ones are a few KiB.
pub const MAX_MANIFEST_BYTES: usize = 1024 * 1024;

/// Largest lock file [`text_of_lock`] reads. A real application's
/// `package-lock.json` runs to a few MiB; reading is linear, but the
/// tokens of a much larger one would use more memory than a plugin's
/// sandbox gives.
pub const MAX_LOCK_BYTES: usize = 8 * 1024 * 1024;

/// The text of a manifest: `None` when it is larger than
/// [`MAX_MANIFEST_BYTES`] or not UTF-8; a leading byte-order mark is
/// dropped.
pub fn text_of(content: &[u8]) -> Option<&str> {
    text_within(content, MAX_MANIFEST_BYTES)
}

/// The text of a lock file, as [`text_of`] but up to [`MAX_LOCK_BYTES`].
pub fn text_of_lock(content: &[u8]) -> Option<&str> {
    text_within(content, MAX_LOCK_BYTES)
}

fn text_within(content: &[u8], max: usize) -> Option<&str> {
    if content.len() > max {
        return None;
    }
    let text = std::str::from_utf8(content).ok()?;
    Some(text.strip_prefix('\u{feff}').unwrap_or(text))
}

#[cfg(test)]
mod tests;
