//! QLP exporter `qlp/zip`: packages every file of a capsule into one zip
//! archive, reproducibly, so the same capsule always gives byte-identical
//! archives (and the same content hash) whenever and wherever it is exported.
//!
//! Reproducibility comes from fixing everything that is not the content:
//! entries are sorted by path (byte order), every entry carries the
//! modification time 1980-01-01 00:00 (the earliest a zip can express) and
//! the unix permissions [`FILE_MODE`], and deflate runs at the fixed
//! [`DEFLATE_LEVEL`]. Entries sit at the archive root under their capsule
//! paths; no directory entries are written.
//!
//! Paths must be clean relative `/`-separated paths, since unzip tools
//! resolve anything else differently (or outside the target directory):
//! empty, absolute (`/x`, `C:/x`), `..`, `.` or empty components, backslashes
//! and NUL bytes are refused with `INVALID_PATH`; two files with one path
//! give `DUPLICATE_PATH`; a file whose path is also another file's directory
//! (`app` and `app/main.py`) gives `PATH_CONFLICT`. These rules, the entry
//! order and the base-name sanitizing live in `qlp_sdk::archive`, shared
//! with `qlp/tar-gz`.
//!
//! Options: `compression` = `deflate` (the default) or `stored`; any other
//! value gives `INVALID_OPTION`. Other option keys are ignored with a warning.
//! The artifact is `application/zip`, named `<base-name>.zip` with the base
//! name reduced to `[A-Za-z0-9._-]` (or `capsule` when nothing is left).

use std::io::{Cursor, Write};

// The path rules and base-name sanitizing are shared with the other archive
// exporters; re-exported so this crate's API stays as it was.
pub use qlp_sdk::archive::{
    DEFAULT_BASE_NAME, MAX_BASE_NAME_CHARS, check_path, check_unique, path_problem,
    sanitize_base_name,
};
use qlp_sdk::archive::{archive_error, artifact, sorted_entries};
use qlp_sdk::exporter::{Artifact, Capsule, ExportOptions, Exporter, PluginError, PluginInfo};
use qlp_sdk::{File, PluginKind};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

/// Media type of the artifact.
pub const MEDIA_TYPE: &str = "application/zip";

/// Unix permissions of every entry: owner read-write, everyone read. Fixed
/// so the archive does not depend on how the capsule was produced, and
/// without execute bits, which a generated file should not get implicitly.
pub const FILE_MODE: u32 = 0o644;

/// Deflate level: the common default of zlib and most zip tools, a good
/// size/speed balance. Fixed so archives stay identical across exports.
pub const DEFLATE_LEVEL: i64 = 6;

/// Key of the option choosing the compression.
pub const COMPRESSION_OPTION: &str = "compression";

/// How entries are compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// Deflate at [`DEFLATE_LEVEL`].
    Deflate,
    /// No compression.
    Stored,
}

/// The exporter.
pub struct Zip;

impl Exporter for Zip {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "qlp/zip".into(),
            version: "0.1.0".into(),
            kind: PluginKind::Exporter,
            description: "Packages a capsule as a reproducible zip archive.".into(),
            capabilities: vec![],
        }
    }

    fn export(capsule: &Capsule<'_>, options: ExportOptions) -> Result<Artifact, PluginError> {
        let capsule = capsule.view()?;
        export_files(&capsule.files, &options)
    }
}

qlp_sdk::export_exporter!(Zip);

/// Builds the artifact for the files under the given options.
pub fn export_files(files: &[File], options: &ExportOptions) -> Result<Artifact, PluginError> {
    let compression = compression_option(&options.options)?;
    let bytes = build_archive(files, compression)?;
    Ok(artifact(
        &options.base_name,
        ".zip",
        MEDIA_TYPE,
        files.len(),
        bytes,
    ))
}

/// The compression the options ask for; [`Compression::Deflate`] by default.
pub fn compression_option(options: &[(String, String)]) -> Result<Compression, PluginError> {
    let mut compression = Compression::Deflate;
    for (key, value) in options {
        if key != COMPRESSION_OPTION {
            qlp_sdk::log::warn("unknown export option ignored", &[("option", key)]);
            continue;
        }
        compression = match value.as_str() {
            "deflate" => Compression::Deflate,
            "stored" => Compression::Stored,
            other => {
                return Err(PluginError::new(
                    "INVALID_OPTION",
                    format!(
                        "option `{COMPRESSION_OPTION}` must be `deflate` or `stored`, not {other:?}"
                    ),
                ));
            }
        };
    }
    Ok(compression)
}

/// The zip archive of the files: entries sorted by path, fixed time and
/// permissions.
pub fn build_archive(files: &[File], compression: Compression) -> Result<Vec<u8>, PluginError> {
    let entries = sorted_entries(files)?;

    let (method, level) = match compression {
        Compression::Deflate => (CompressionMethod::Deflated, Some(DEFLATE_LEVEL)),
        Compression::Stored => (CompressionMethod::Stored, None),
    };
    let options = SimpleFileOptions::default()
        .compression_method(method)
        .compression_level(level)
        .last_modified_time(DateTime::default())
        .unix_permissions(FILE_MODE);

    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    for file in entries {
        writer
            .start_file(file.path.as_str(), options)
            .map_err(|e| archive_error(&file.path, e))?;
        writer
            .write_all(&file.content)
            .map_err(|e| archive_error(&file.path, e))?;
    }
    let archive = writer
        .finish()
        .map_err(|e| archive_error("the central directory", e))?;
    Ok(archive.into_inner())
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn capsule() -> Vec<File> {
        vec![
            File::text(
                "app/main.py",
                "from fastapi import FastAPI\n\napp = FastAPI()\n".repeat(20),
            ),
            File::text("README.md", "# Invoices\n"),
            File {
                path: "static/logo.png".into(),
                content: vec![0x89, b'P', b'N', b'G', 0, 1, 2, 255],
            },
            File::text("app/__init__.py", ""),
        ]
    }

    fn options(pairs: &[(&str, &str)]) -> ExportOptions {
        ExportOptions {
            base_name: "invoices-service".into(),
            options: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    fn read_back(bytes: &[u8]) -> Vec<(String, Vec<u8>, CompressionMethod)> {
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("a readable archive");
        (0..archive.len())
            .map(|i| {
                let mut entry = archive.by_index(i).expect("an entry");
                let mut content = Vec::new();
                entry.read_to_end(&mut content).expect("entry content");
                (entry.name().to_string(), content, entry.compression())
            })
            .collect()
    }

    fn code(result: Result<Vec<u8>, PluginError>) -> String {
        result.err().map(|e| e.code).unwrap_or_default()
    }

    #[test]
    fn archive_round_trips_every_file_sorted_by_path() {
        let files = capsule();
        let artifact = export_files(&files, &options(&[])).expect("an artifact");
        assert_eq!(artifact.media_type, "application/zip");
        assert_eq!(artifact.file_name, "invoices-service.zip");
        let entries = read_back(&artifact.bytes);
        let names: Vec<&str> = entries.iter().map(|(n, _, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "README.md",
                "app/__init__.py",
                "app/main.py",
                "static/logo.png"
            ]
        );
        for (name, content, _) in &entries {
            let original = files
                .iter()
                .find(|f| &f.path == name)
                .expect("a capsule file");
            assert_eq!(content, &original.content, "{name}");
        }
    }

    #[test]
    fn entries_carry_fixed_time_and_permissions() {
        let bytes = build_archive(&capsule(), Compression::Deflate).expect("an archive");
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("a readable archive");
        for i in 0..archive.len() {
            let entry = archive.by_index(i).expect("an entry");
            let time = entry.last_modified().expect("a modification time");
            assert_eq!(
                (
                    time.year(),
                    time.month(),
                    time.day(),
                    time.hour(),
                    time.minute()
                ),
                (1980, 1, 1, 0, 0)
            );
            assert_eq!(entry.unix_mode().map(|m| m & 0o777), Some(FILE_MODE));
        }
    }

    #[test]
    fn the_same_capsule_gives_byte_identical_archives_in_any_order() {
        let files = capsule();
        let mut reversed = files.clone();
        reversed.reverse();
        let first = build_archive(&files, Compression::Deflate).expect("an archive");
        let second = build_archive(&reversed, Compression::Deflate).expect("an archive");
        assert_eq!(first, second);
        let changed = {
            let mut f = files.clone();
            f[1] = File::text("README.md", "# Invoices!\n");
            build_archive(&f, Compression::Deflate).expect("an archive")
        };
        assert_ne!(first, changed);
    }

    #[test]
    fn stored_and_deflate_hold_the_same_content() {
        let deflated = build_archive(&capsule(), Compression::Deflate).expect("an archive");
        let stored = build_archive(&capsule(), Compression::Stored).expect("an archive");
        let deflated_entries = read_back(&deflated);
        let stored_entries = read_back(&stored);
        assert!(
            deflated_entries
                .iter()
                .all(|(_, _, m)| *m == CompressionMethod::Deflated)
        );
        assert!(
            stored_entries
                .iter()
                .all(|(_, _, m)| *m == CompressionMethod::Stored)
        );
        let contents = |e: &[(String, Vec<u8>, CompressionMethod)]| -> Vec<(String, Vec<u8>)> {
            e.iter().map(|(n, c, _)| (n.clone(), c.clone())).collect()
        };
        assert_eq!(contents(&deflated_entries), contents(&stored_entries));
        assert!(
            deflated.len() < stored.len(),
            "the repeated source compresses"
        );
    }

    #[test]
    fn compression_option_is_parsed_and_checked() {
        let parse = |v: &str| compression_option(&[("compression".into(), v.into())]);
        assert_eq!(compression_option(&[]).ok(), Some(Compression::Deflate));
        assert_eq!(parse("deflate").ok(), Some(Compression::Deflate));
        assert_eq!(parse("stored").ok(), Some(Compression::Stored));
        assert_eq!(
            parse("bzip2").err().map(|e| e.code).as_deref(),
            Some("INVALID_OPTION")
        );
        let stored =
            export_files(&capsule(), &options(&[("compression", "stored")])).expect("an artifact");
        assert!(
            read_back(&stored.bytes)
                .iter()
                .all(|(_, _, m)| *m == CompressionMethod::Stored)
        );
        let bad = export_files(&capsule(), &options(&[("compression", "Deflate")]));
        assert_eq!(bad.err().map(|e| e.code).as_deref(), Some("INVALID_OPTION"));
        let other_keys = compression_option(&[("level".into(), "9".into())]);
        assert_eq!(other_keys.ok(), Some(Compression::Deflate));
    }

    #[test]
    fn unsafe_paths_are_refused() {
        for bad in [
            "",
            "/etc/passwd",
            "C:/x.txt",
            "../x",
            "app/../../x",
            "a\\b",
            "a//b",
            "./a",
            "a/",
            "a\0b",
            "a/./b",
        ] {
            let files = [File::text(bad, "x")];
            assert_eq!(
                code(build_archive(&files, Compression::Stored)),
                "INVALID_PATH",
                "{bad:?}"
            );
        }
        for good in [
            "a",
            ".env",
            "app/main.py",
            "a..b/c",
            "deep/er/path/file.txt",
        ] {
            assert_eq!(path_problem(good), None, "{good:?}");
        }
    }

    #[test]
    fn duplicate_and_conflicting_paths_are_refused() {
        let duplicate = [
            File::text("a/b.py", "1"),
            File::text("c.py", ""),
            File::text("a/b.py", "2"),
        ];
        assert_eq!(
            code(build_archive(&duplicate, Compression::Deflate)),
            "DUPLICATE_PATH"
        );
        let conflict = [
            File::text("app", "1"),
            File::text("app-x", ""),
            File::text("app/main.py", "2"),
        ];
        assert_eq!(
            code(build_archive(&conflict, Compression::Deflate)),
            "PATH_CONFLICT"
        );
    }

    #[test]
    fn an_empty_capsule_gives_an_empty_archive() {
        let bytes = build_archive(&[], Compression::Deflate).expect("an archive");
        assert!(read_back(&bytes).is_empty());
    }

    #[test]
    fn base_names_are_sanitized() {
        assert_eq!(sanitize_base_name("invoices-service"), "invoices-service");
        assert_eq!(
            sanitize_base_name("Invoices Service v1.2"),
            "Invoices-Service-v1.2"
        );
        assert_eq!(sanitize_base_name("../../etc/passwd"), "etc-passwd");
        assert_eq!(sanitize_base_name("  façade  "), "fa-ade");
        assert_eq!(sanitize_base_name(""), "capsule");
        assert_eq!(sanitize_base_name("..."), "capsule");
        assert_eq!(sanitize_base_name("/"), "capsule");
        assert_eq!(
            sanitize_base_name(&"x".repeat(300)).len(),
            MAX_BASE_NAME_CHARS
        );
        let artifact = export_files(
            &[],
            &ExportOptions {
                base_name: "é".into(),
                options: vec![],
            },
        );
        assert_eq!(
            artifact.map(|a| a.file_name).ok().as_deref(),
            Some("capsule.zip")
        );
    }

    #[test]
    fn describe_names_the_plugin() {
        let info = Zip::describe();
        assert_eq!(info.name, "qlp/zip");
        assert_eq!(info.version, "0.1.0");
        assert!(matches!(info.kind, PluginKind::Exporter));
    }
}
