//! Reproducible gzipped tar archives: the same entries always give the
//! same bytes. Entries are sorted by path and written as ustar regular
//! files with the fixed time [`MTIME`], mode [`FILE_MODE`] and owner 0:0
//! without names; the gzip header carries no time, no file name and the
//! "unknown" operating system, and deflate runs at [`DEFLATE_LEVEL`].
//!
//! The paths are built by the exporter itself (never taken from the
//! capsule), so they are not checked here beyond what `tar` refuses.
//!
//! This file is shared, unchanged, by `qlp/kubernetes` and `qlp/helm`.

use flate2::{Compression, GzBuilder};
use qlp_sdk::PluginError;

/// Modification time of every entry: 1980-01-01 00:00 UTC, as in the zip
/// exporter; `tar` warns of "implausibly old" times before it.
pub const MTIME: u64 = 315_532_800;

/// Permissions of every entry: owner read-write, everyone read.
pub const FILE_MODE: u32 = 0o644;

/// Deflate level: the common default of gzip and zlib.
pub const DEFLATE_LEVEL: u32 = 6;

/// The gzip header's value for "operating system unknown".
const UNKNOWN_OS: u8 = 255;

/// The `.tar.gz` of the entries, each a path and its content.
pub fn tar_gz(entries: &[(String, Vec<u8>)]) -> Result<Vec<u8>, PluginError> {
    let mut entries: Vec<&(String, Vec<u8>)> = entries.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let gzip = GzBuilder::new()
        .operating_system(UNKNOWN_OS)
        .write(Vec::new(), Compression::new(DEFLATE_LEVEL));
    let mut tar = tar::Builder::new(gzip);
    for (path, content) in entries {
        let mut header = tar::Header::new_ustar();
        header.set_size(content.len() as u64);
        header.set_mode(FILE_MODE);
        header.set_mtime(MTIME);
        header.set_uid(0);
        header.set_gid(0);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, path, content.as_slice())
            .map_err(|e| archive_error(path, e))?;
    }
    let gzip = tar
        .into_inner()
        .map_err(|e| archive_error("the end of the archive", e))?;
    gzip.finish()
        .map_err(|e| archive_error("the gzip trailer", e))
}

fn archive_error(what: &str, error: impl std::fmt::Display) -> PluginError {
    PluginError::new(
        "ARCHIVE_FAILED",
        format!("cannot write {what} into the archive: {error}"),
    )
}
