//! The package as an artifact: the generated files under the directory
//! `<name>/`, in a reproducible gzipped tar archive written by
//! `qlp_sdk::archive::tar_gz` (entries sorted by path, regular files with
//! mode [`FILE_MODE`] and owner 0:0 without names, no time or name in the
//! gzip header). What this package fixes beyond that: ustar headers, the
//! time [`MTIME`] and the deflate level [`DEFLATE_LEVEL`].
//!
//! The paths are built by the exporter itself (never taken from the
//! capsule), so they are not checked here beyond what `tar` refuses.
//!
//! This file is shared, unchanged, by `qlp/kubernetes` and `qlp/helm`.

pub use qlp_sdk::archive::tar_gz::FILE_MODE;
use qlp_sdk::archive::tar_gz::{DEFAULT_LEVEL, HeaderFormat, TarGz};
use qlp_sdk::{Artifact, PluginError};

use crate::settings::Settings;

/// Modification time of every entry: 1980-01-01 00:00 UTC, as in the zip
/// exporter; `tar` warns of "implausibly old" times before it.
pub const MTIME: u64 = 315_532_800;

/// Deflate level: the common default of gzip and zlib.
pub const DEFLATE_LEVEL: u32 = DEFAULT_LEVEL;

/// How every archive of the package is written.
const WRITER: TarGz = TarGz {
    format: HeaderFormat::Ustar,
    mtime: MTIME,
    level: DEFLATE_LEVEL,
};

/// The artifact `file_name` of type `media_type` holding the files, each
/// a path relative to the service's directory and its text; logs
/// `message` with what was packaged.
pub fn artifact(
    settings: &Settings,
    files: Vec<(String, String)>,
    media_type: &str,
    file_name: String,
    message: &str,
) -> Result<Artifact, PluginError> {
    let entries: Vec<(String, String)> = files
        .into_iter()
        .map(|(path, text)| (format!("{}/{path}", settings.name), text))
        .collect();
    let bytes = WRITER.write(
        entries
            .iter()
            .map(|(path, text)| (path.as_str(), text.as_bytes())),
    )?;
    qlp_sdk::log::info(
        message,
        &[
            ("file", &file_name),
            ("image", &settings.image),
            ("port", &settings.port.to_string()),
            ("health-path", &settings.health_path),
            ("bytes", &bytes.len().to_string()),
        ],
    );
    Ok(Artifact {
        media_type: media_type.into(),
        file_name,
        bytes,
    })
}
