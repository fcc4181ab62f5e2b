//! Rules shared by exporters that package a capsule's files into one
//! archive (`qlp/zip`, `qlp/tar-gz`), so every archive format accepts and
//! refuses the same capsules, orders entries the same way and names its
//! artifact the same way. The exporters themselves (`plugins/zip`,
//! `plugins/targz`) only write their format.
//!
//! Paths must be clean relative `/`-separated paths, since extracting tools
//! resolve anything else differently (or outside the target directory):
//! empty, absolute (`/x`, `C:/x`), `..`, `.` or empty components, backslashes
//! and NUL bytes are refused with `INVALID_PATH`; two files with one path
//! give `DUPLICATE_PATH`; a file whose path is also another file's directory
//! (`app` and `app/main.py`) gives `PATH_CONFLICT`. [`sorted_entries`] runs
//! all three checks and returns the files sorted by path (byte order), the
//! order that makes archives reproducible. [`artifact`] names and logs the
//! result the same way for every format.
//!
//! With the `tar-gz` feature, the module `tar_gz` writes reproducible `.tar.gz`
//! archives; with the `unpack` feature, the module `unpack` reads `.tar.gz`
//! and `.zip` artifacts back into checked files.

use std::collections::BTreeSet;

use crate::{Artifact, File, PluginError};

#[cfg(feature = "tar-gz")]
pub mod tar_gz;
#[cfg(feature = "unpack")]
pub mod unpack;

/// File name (without extension) used when the requested base name has no
/// usable character left after sanitizing.
pub const DEFAULT_BASE_NAME: &str = "capsule";

/// Longest base name kept. File systems cap names at 255 bytes; 100 leaves
/// room for the extension and for a delivery adapter's own suffixes.
pub const MAX_BASE_NAME_CHARS: usize = 100;

/// Why a capsule path cannot become an archive entry, if it cannot.
pub fn path_problem(path: &str) -> Option<&'static str> {
    let bytes = path.as_bytes();
    let drive = bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':';
    if path.is_empty() {
        Some("is empty")
    } else if path.starts_with('/') || drive {
        Some("is absolute")
    } else if path.contains('\\') {
        Some("contains a backslash")
    } else if path.contains('\0') {
        Some("contains a NUL byte")
    } else if path.split('/').any(|c| c == "..") {
        Some("contains a `..` component")
    } else if path.split('/').any(|c| c.is_empty() || c == ".") {
        Some("contains an empty or `.` component")
    } else {
        None
    }
}

/// Checks one capsule path (`INVALID_PATH`).
pub fn check_path(path: &str) -> Result<(), PluginError> {
    match path_problem(path) {
        None => Ok(()),
        Some(problem) => Err(PluginError::new(
            "INVALID_PATH",
            format!("file path {path:?} {problem}"),
        )),
    }
}

/// Checks that no two files share a path (`DUPLICATE_PATH`) and that no file
/// sits where another file needs a directory (`PATH_CONFLICT`).
pub fn check_unique(files: &[&File]) -> Result<(), PluginError> {
    let mut paths = BTreeSet::new();
    for file in files {
        if !paths.insert(file.path.as_str()) {
            return Err(PluginError::new(
                "DUPLICATE_PATH",
                format!("the capsule holds two files at {:?}", file.path),
            ));
        }
    }
    for path in &paths {
        for (slash, _) in path.match_indices('/') {
            let parent = &path[..slash];
            if paths.contains(parent) {
                return Err(PluginError::new(
                    "PATH_CONFLICT",
                    format!("{parent:?} is a file but {path:?} needs it to be a directory"),
                ));
            }
        }
    }
    Ok(())
}

/// The files as archive entries: every path checked ([`check_path`], then
/// [`check_unique`]) and the files sorted by path in byte order, whatever
/// order the capsule listed them in.
pub fn sorted_entries(files: &[File]) -> Result<Vec<&File>, PluginError> {
    for file in files {
        check_path(&file.path)?;
    }
    let mut entries: Vec<&File> = files.iter().collect();
    check_unique(&entries)?;
    entries.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    Ok(entries)
}

/// The base name reduced to `[A-Za-z0-9._-]`: other characters become `-`,
/// runs of `-` collapse, leading and trailing `-` and `.` go (no hidden or
/// option-like names), at most [`MAX_BASE_NAME_CHARS`] characters; falls
/// back to [`DEFAULT_BASE_NAME`]. The exporter appends its extension.
pub fn sanitize_base_name(base_name: &str) -> String {
    let mut name = String::new();
    for c in base_name.chars() {
        let c = if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
            c
        } else {
            '-'
        };
        if !(c == '-' && name.ends_with('-')) {
            name.push(c);
        }
    }
    let name: String = name
        .trim_matches(['-', '.'])
        .chars()
        .take(MAX_BASE_NAME_CHARS)
        .collect();
    let name = name.trim_end_matches(['-', '.']);
    if name.is_empty() {
        DEFAULT_BASE_NAME.into()
    } else {
        name.into()
    }
}

/// The artifact of an archive of the capsule's files: named
/// `<sanitized base name><extension>` ([`sanitize_base_name`]), of type
/// `media_type`, holding `bytes`; logs what was archived (`entries` files).
pub fn artifact(
    base_name: &str,
    extension: &str,
    media_type: &str,
    entries: usize,
    bytes: Vec<u8>,
) -> Artifact {
    let file_name = format!("{}{extension}", sanitize_base_name(base_name));
    crate::log::info(
        "capsule archived",
        &[
            ("file", &file_name),
            ("entries", &entries.to_string()),
            ("bytes", &bytes.len().to_string()),
        ],
    );
    Artifact {
        media_type: media_type.into(),
        file_name,
        bytes,
    }
}

/// `ARCHIVE_FAILED`: the archive writer could not write `what` (a path,
/// or a part of the archive such as its trailer).
pub fn archive_error(what: &str, error: impl std::fmt::Display) -> PluginError {
    PluginError::new(
        "ARCHIVE_FAILED",
        format!("cannot write {what} into the archive: {error}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(files: &[File]) -> String {
        sorted_entries(files)
            .err()
            .map(|e| e.code)
            .unwrap_or_default()
    }

    #[test]
    fn entries_come_back_sorted_by_path_bytes() {
        let files = [
            File::text("b", ""),
            File::text("a/z", ""),
            File::text("B", ""),
            File::text("a-b", ""),
            File::text("é", ""),
        ];
        let entries = sorted_entries(&files).expect("valid paths");
        let paths: Vec<&str> = entries.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["B", "a-b", "a/z", "b", "é"]);
    }

    #[test]
    fn each_rule_has_its_code() {
        for bad in [
            "", "/x", "C:/x", "../x", "a\\b", "a//b", "./a", "a/", "a\0b",
        ] {
            assert_eq!(code(&[File::text(bad, "")]), "INVALID_PATH", "{bad:?}");
        }
        assert_eq!(
            code(&[File::text("a", "1"), File::text("a", "2")]),
            "DUPLICATE_PATH"
        );
        assert_eq!(
            code(&[File::text("a/b/c", ""), File::text("a/b", "")]),
            "PATH_CONFLICT"
        );
        assert_eq!(code(&[File::text("a.b/c", ""), File::text("a", "")]), "");
    }

    #[test]
    fn an_invalid_path_is_reported_before_a_duplicate() {
        let files = [
            File::text("a", ""),
            File::text("a", ""),
            File::text("/b", ""),
        ];
        assert_eq!(code(&files), "INVALID_PATH");
    }

    #[test]
    fn base_names_are_sanitized() {
        assert_eq!(
            sanitize_base_name("Invoices Service v1.2"),
            "Invoices-Service-v1.2"
        );
        assert_eq!(sanitize_base_name("../../etc/passwd"), "etc-passwd");
        assert_eq!(sanitize_base_name("-rf"), "rf");
        assert_eq!(sanitize_base_name("é"), DEFAULT_BASE_NAME);
        assert_eq!(
            sanitize_base_name(&"x".repeat(300)).len(),
            MAX_BASE_NAME_CHARS
        );
    }
}
