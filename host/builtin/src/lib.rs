//! The first-party plugins built into a `qlp` binary: each component with
//! its manifest and signatures, by file name. Empty unless the binary was
//! built with `QLP_EMBED_PLUGINS` naming a directory of built plugins
//! (`deploy/dev.sh release` does).
//!
//! A built-in plugin is trusted by its digest: the binary carries the
//! bytes, so whoever trusts the binary trusts them, and no private key is
//! needed where it runs.

include!(concat!(env!("OUT_DIR"), "/files.rs"));

// `FILES`, and `LONG_VERSION`: the version with the number of built-in
// plugins, for `qlp --version`.

/// The embedded files: `(file name, bytes)`, sorted by name.
pub fn files() -> &'static [(&'static str, &'static [u8])] {
    FILES
}
