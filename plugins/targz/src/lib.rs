//! QLP exporter `qlp/tar-gz`: packages every file of a capsule into one
//! gzipped tar archive, reproducibly, so the same capsule always gives
//! byte-identical archives (and the same content hash) whenever and wherever
//! it is exported. `plugins/zip` is the same exporter for zip.
//!
//! Reproducibility comes from fixing everything that is not the content:
//! entries are sorted by path (byte order); every entry is a regular file
//! with the permissions [`FILE_MODE`], owner and group 0 with no user or
//! group names, and the modification time [`MTIME`] (the Unix epoch); the
//! gzip header carries no file name and a zero time, and deflate runs at one
//! level ([`DEFAULT_LEVEL`] unless the `compression-level` option picks
//! another). Entries sit at the archive root under their capsule paths; no
//! directory entries are written, so extracting tools create directories
//! as they would for any new directory.
//!
//! The archive is written by `qlp_sdk::archive::tar_gz`, which
//! `qlp/kubernetes` and `qlp/helm` use too. Headers are GNU tar headers. A
//! path longer than the 100 bytes a header holds is written in full in a
//! GNU long-name (`././@LongLink`) entry just before its file, which GNU
//! tar, bsdtar, Python's `tarfile` and the `tar` crate all read.
//!
//! Paths follow the rules every archive exporter shares
//! (`qlp_sdk::archive`): empty, absolute, `..`, `.` or empty components,
//! backslashes and NUL bytes give `INVALID_PATH`; two files with one path
//! give `DUPLICATE_PATH`; a file whose path is also another file's directory
//! gives `PATH_CONFLICT`.
//!
//! Options: `compression-level` = one digit from `0` (no compression) to `9`
//! (smallest); anything else gives `INVALID_OPTION`. Other option keys are
//! ignored with a warning. The artifact is `application/gzip`, named
//! `<base-name>.tar.gz` with the base name sanitized as `qlp/zip` does
//! (`qlp_sdk::archive::sanitize_base_name`).

use qlp_sdk::archive::tar_gz::{self, HeaderFormat};
pub use qlp_sdk::archive::tar_gz::{DEFAULT_LEVEL, FILE_MODE, MAX_LEVEL, OWNER_ID};
use qlp_sdk::archive::{artifact, sorted_entries};
use qlp_sdk::exporter::{Artifact, Capsule, ExportOptions, Exporter, PluginError, PluginInfo};
use qlp_sdk::{File, PluginKind};

/// Media type of the artifact.
pub const MEDIA_TYPE: &str = "application/gzip";

/// Extension appended to the sanitized base name.
pub const EXTENSION: &str = ".tar.gz";

/// Modification time of every entry, in seconds since the Unix epoch: the
/// epoch itself. A capsule has no meaningful file times, and any real time
/// would make two exports of one capsule differ.
pub const MTIME: u64 = 0;

/// Key of the option choosing the deflate level.
pub const LEVEL_OPTION: &str = "compression-level";

/// The exporter.
pub struct TarGz;

impl Exporter for TarGz {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "qlp/tar-gz".into(),
            version: "0.1.0".into(),
            kind: PluginKind::Exporter,
            description: "Packages a capsule as a reproducible gzipped tar archive.".into(),
            capabilities: vec![],
        }
    }

    fn export(capsule: &Capsule<'_>, options: ExportOptions) -> Result<Artifact, PluginError> {
        let capsule = capsule.view()?;
        export_files(&capsule.files, &options)
    }
}

qlp_sdk::export_exporter!(TarGz);

/// Builds the artifact for the files under the given options.
pub fn export_files(files: &[File], options: &ExportOptions) -> Result<Artifact, PluginError> {
    let level = level_option(&options.options)?;
    let bytes = build_archive(files, level)?;
    Ok(artifact(
        &options.base_name,
        EXTENSION,
        MEDIA_TYPE,
        files.len(),
        bytes,
    ))
}

/// The deflate level the options ask for; [`DEFAULT_LEVEL`] by default.
/// The value must be exactly one digit, so `"09"` or `" 9"` are refused
/// rather than guessed at.
pub fn level_option(options: &[(String, String)]) -> Result<u32, PluginError> {
    let mut level = DEFAULT_LEVEL;
    for (key, value) in options {
        if key != LEVEL_OPTION {
            qlp_sdk::log::warn("unknown export option ignored", &[("option", key)]);
            continue;
        }
        level = match value.as_bytes() {
            [digit @ b'0'..=b'9'] => u32::from(digit - b'0'),
            _ => {
                return Err(PluginError::new(
                    "INVALID_OPTION",
                    format!(
                        "option `{LEVEL_OPTION}` must be a digit from 0 to {MAX_LEVEL}, not {value:?}"
                    ),
                ));
            }
        };
    }
    Ok(level)
}

/// The gzipped tar archive of the files at deflate `level` (0 to
/// [`MAX_LEVEL`]; higher values count as [`MAX_LEVEL`]): entries sorted by
/// path, fixed time, owner and permissions.
pub fn build_archive(files: &[File], level: u32) -> Result<Vec<u8>, PluginError> {
    let entries = sorted_entries(files)?;
    let writer = tar_gz::TarGz {
        format: HeaderFormat::Gnu,
        mtime: MTIME,
        level,
    };
    writer.write(
        entries
            .into_iter()
            .map(|file| (file.path.as_str(), file.content.as_slice())),
    )
}

#[cfg(test)]
mod tests;
