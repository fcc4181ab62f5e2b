//! The artifact's files: a `.tar.gz` (`application/gzip`) or `.zip`
//! (`application/zip`) unpacked in memory into paths, bytes and the
//! executable bit, with everything a repository should not receive
//! refused as `INVALID_ARTIFACT`: absolute paths, `..`, a `.git`
//! component, the same path twice (or a file that is also another file's
//! directory), symbolic and hard links, devices and FIFOs, and archives
//! beyond [`MAX_UNPACKED_BYTES`] or [`MAX_ENTRIES`]. Directory entries are
//! skipped: git records directories only through the files in them.

use std::collections::BTreeSet;
use std::io::{Cursor, Read};

use qlp_sdk::PluginError;

use crate::object::FileEntry;

/// Most bytes all files of one artifact may unpack to: capsules are
/// source trees, far below this, and the whole of it, its objects and the
/// pack live in the plugin's memory at once.
pub const MAX_UNPACKED_BYTES: u64 = 64 << 20;

/// Most entries (files and directories) one artifact may hold, so a
/// pathological archive of empty entries cannot cost unbounded time.
pub const MAX_ENTRIES: usize = 20_000;

/// Longest path accepted, in bytes (Linux's `PATH_MAX`).
pub const MAX_PATH_BYTES: usize = 4096;

/// Media types this adapter unpacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    TarGz,
    Zip,
}

impl Format {
    /// The format of an artifact, by media type and, failing that, by file
    /// name; `None` for anything else (`UNSUPPORTED_ARTIFACT`).
    pub fn of(media_type: &str, file_name: &str) -> Option<Format> {
        let media_type = media_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match media_type.as_str() {
            "application/gzip" | "application/x-gzip" | "application/x-tar+gzip" => {
                return Some(Format::TarGz);
            }
            "application/zip" | "application/x-zip-compressed" => return Some(Format::Zip),
            _ => {}
        }
        let name = file_name.to_ascii_lowercase();
        if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
            Some(Format::TarGz)
        } else if name.ends_with(".zip") {
            Some(Format::Zip)
        } else {
            None
        }
    }
}

fn invalid(message: impl Into<String>) -> PluginError {
    PluginError::new("INVALID_ARTIFACT", message)
}

/// Unpacks the artifact into its files, in archive order.
pub fn unpack(format: Format, bytes: &[u8]) -> Result<Vec<FileEntry>, PluginError> {
    let files = match format {
        Format::TarGz => unpack_tar_gz(bytes)?,
        Format::Zip => unpack_zip(bytes)?,
    };
    check_paths(&files)?;
    Ok(files)
}

/// Tracks the entry count and the bytes unpacked so far.
struct Budget {
    entries: usize,
    bytes: u64,
}

impl Budget {
    fn entry(&mut self) -> Result<(), PluginError> {
        self.entries += 1;
        if self.entries > MAX_ENTRIES {
            return Err(invalid(format!(
                "the archive has more than {MAX_ENTRIES} entries"
            )));
        }
        Ok(())
    }

    /// Reads one entry's content, never more than the budget left.
    fn read(&mut self, reader: impl Read, path: &str) -> Result<Vec<u8>, PluginError> {
        let left = MAX_UNPACKED_BYTES - self.bytes;
        let mut content = Vec::new();
        reader
            .take(left + 1)
            .read_to_end(&mut content)
            .map_err(|e| invalid(format!("cannot read {path:?} from the archive: {e}")))?;
        self.bytes += content.len() as u64;
        if self.bytes > MAX_UNPACKED_BYTES {
            return Err(invalid(format!(
                "the archive unpacks to more than {MAX_UNPACKED_BYTES} bytes"
            )));
        }
        Ok(content)
    }
}

fn unpack_tar_gz(bytes: &[u8]) -> Result<Vec<FileEntry>, PluginError> {
    let broken = |e: std::io::Error| invalid(format!("not a readable .tar.gz: {e}"));
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let mut budget = Budget {
        entries: 0,
        bytes: 0,
    };
    let mut files = Vec::new();
    for entry in archive.entries().map_err(broken)? {
        let entry = entry.map_err(broken)?;
        budget.entry()?;
        let raw_path = entry.path_bytes().into_owned();
        let path = clean_path(&raw_path)?;
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            continue;
        }
        if !(kind.is_file() || kind == tar::EntryType::Continuous) {
            return Err(invalid(format!(
                "{path:?} is not a regular file (links, devices and FIFOs are refused)"
            )));
        }
        let executable = entry.header().mode().map_err(broken)? & 0o111 != 0;
        let content = budget.read(entry, &path)?;
        files.push(FileEntry {
            path,
            content,
            executable,
        });
    }
    Ok(files)
}

fn unpack_zip(bytes: &[u8]) -> Result<Vec<FileEntry>, PluginError> {
    let broken = |e: zip::result::ZipError| invalid(format!("not a readable .zip: {e}"));
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(broken)?;
    let mut budget = Budget {
        entries: 0,
        bytes: 0,
    };
    let mut files = Vec::new();
    for index in 0..archive.len() {
        budget.entry()?;
        let entry = archive.by_index(index).map_err(broken)?;
        let path = clean_path(entry.name_raw())?;
        if entry.is_dir() {
            continue;
        }
        let mode = entry.unix_mode();
        let file_type = mode.map(|m| m & 0o170000);
        if entry.is_symlink() || file_type.is_some_and(|t| t != 0 && t != 0o100000) {
            return Err(invalid(format!(
                "{path:?} is not a regular file (links, devices and FIFOs are refused)"
            )));
        }
        let executable = mode.is_some_and(|m| m & 0o111 != 0);
        let content = budget.read(entry, &path)?;
        files.push(FileEntry {
            path,
            content,
            executable,
        });
    }
    Ok(files)
}

/// A `/`-separated relative path without `.` components or trailing `/`;
/// refuses what could leave the repository or confuse git.
pub fn clean_path(raw: &[u8]) -> Result<String, PluginError> {
    let shown = String::from_utf8_lossy(raw);
    let text =
        std::str::from_utf8(raw).map_err(|_| invalid(format!("path {shown:?} is not UTF-8")))?;
    if text.len() > MAX_PATH_BYTES {
        return Err(invalid(format!("path {shown:?} is too long")));
    }
    if text.starts_with('/') || text.contains('\\') || text.as_bytes().get(1) == Some(&b':') {
        return Err(invalid(format!(
            "path {text:?} is absolute or not portable"
        )));
    }
    if text.chars().any(char::is_control) {
        return Err(invalid(format!(
            "path {text:?} contains a control character"
        )));
    }
    let mut parts = Vec::new();
    for part in text.split('/') {
        match part {
            "" | "." => continue,
            ".." => return Err(invalid(format!("path {text:?} has a `..` component"))),
            _ if part.eq_ignore_ascii_case(".git") => {
                return Err(invalid(format!("path {text:?} has a `.git` component")));
            }
            _ => parts.push(part),
        }
    }
    if parts.is_empty() {
        return Err(invalid(format!("path {text:?} names no file")));
    }
    Ok(parts.join("/"))
}

/// Refuses a path given twice and a file that is another file's directory.
fn check_paths(files: &[FileEntry]) -> Result<(), PluginError> {
    let mut seen = BTreeSet::new();
    for file in files {
        if !seen.insert(file.path.as_str()) {
            return Err(invalid(format!("{:?} appears twice", file.path)));
        }
    }
    for file in files {
        let mut dir = file.path.as_str();
        while let Some((parent, _)) = dir.rsplit_once('/') {
            if seen.contains(parent) {
                return Err(invalid(format!(
                    "{parent:?} is both a file and the directory of {:?}",
                    file.path
                )));
            }
            dir = parent;
        }
    }
    Ok(())
}

/// The single top-level directory every file is under, if there is one
/// (an exporter's `capsule-1234/` wrapper).
pub fn common_root(files: &[FileEntry]) -> Option<String> {
    let mut root: Option<&str> = None;
    for file in files {
        let (top, _) = file.path.split_once('/')?;
        match root {
            None => root = Some(top),
            Some(r) if r == top => {}
            Some(_) => return None,
        }
    }
    root.map(String::from)
}

/// Removes `root/` from the front of every path.
pub fn strip_root(files: &mut [FileEntry], root: &str) {
    let prefix = format!("{root}/");
    for file in files {
        if let Some(rest) = file.path.strip_prefix(&prefix) {
            file.path = rest.to_string();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn tar_gz(entries: &[(&str, &[u8], u32, tar::EntryType)]) -> Vec<u8> {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let mut builder = tar::Builder::new(gz);
        for (path, content, mode, kind) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(*kind);
            header.set_mode(*mode);
            header.set_size(content.len() as u64);
            // `set_path` refuses `..`; write the raw name as a hostile
            // archive would.
            let name = &mut header.as_old_mut().name;
            name[..path.len()].copy_from_slice(path.as_bytes());
            if *kind == tar::EntryType::Symlink {
                header.set_link_name("target").unwrap();
            }
            header.set_cksum();
            builder.append(&header, *content).unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap()
    }

    fn zip_of(entries: &[(&str, &[u8], u32)]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (path, content, mode) in entries {
            // Stored: deflating the bound-sized entries would dominate the
            // test's time in a debug build.
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Stored)
                .unix_permissions(*mode);
            writer.start_file(*path, options).unwrap();
            writer.write_all(content).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    const FILE: tar::EntryType = tar::EntryType::Regular;

    fn code<T>(result: Result<T, PluginError>) -> String {
        result.err().map(|e| e.code).unwrap_or_default()
    }

    #[test]
    fn a_tar_gz_gives_its_files_with_the_executable_bit() {
        let bytes = tar_gz(&[
            ("./app/", b"", 0o755, tar::EntryType::Directory),
            ("./app/main.py", b"print(1)\n", 0o644, FILE),
            ("./app/run.sh", b"#!/bin/sh\n", 0o755, FILE),
        ]);
        let files = unpack(Format::TarGz, &bytes).unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].path, "app/main.py");
        assert!(!files[0].executable);
        assert_eq!(files[1].path, "app/run.sh");
        assert!(files[1].executable);
        assert_eq!(files[1].content, b"#!/bin/sh\n");
    }

    #[test]
    fn a_zip_gives_its_files_with_the_executable_bit() {
        let bytes = zip_of(&[("a.txt", b"a", 0o644), ("bin/x", b"x", 0o755)]);
        let files = unpack(Format::Zip, &bytes).unwrap();
        assert_eq!(files.len(), 2);
        assert!(!files[0].executable);
        assert!(files[1].executable);
        assert_eq!(files[1].path, "bin/x");
    }

    #[test]
    fn hostile_entries_are_invalid_artifacts() {
        for bad in [
            "/etc/passwd",
            "a/../../b",
            "../x",
            ".git/config",
            "a/.GIT/x",
        ] {
            let bytes = tar_gz(&[(bad, b"x", 0o644, FILE)]);
            assert_eq!(
                code(unpack(Format::TarGz, &bytes)),
                "INVALID_ARTIFACT",
                "{bad}"
            );
        }
        let link = tar_gz(&[("l", b"", 0o777, tar::EntryType::Symlink)]);
        assert_eq!(code(unpack(Format::TarGz, &link)), "INVALID_ARTIFACT");
        let device = tar_gz(&[("d", b"", 0o600, tar::EntryType::Char)]);
        assert_eq!(code(unpack(Format::TarGz, &device)), "INVALID_ARTIFACT");
        let twice = tar_gz(&[("a", b"1", 0o644, FILE), ("./a", b"2", 0o644, FILE)]);
        assert_eq!(code(unpack(Format::TarGz, &twice)), "INVALID_ARTIFACT");
        let nested = tar_gz(&[("a", b"1", 0o644, FILE), ("a/b", b"2", 0o644, FILE)]);
        assert_eq!(code(unpack(Format::TarGz, &nested)), "INVALID_ARTIFACT");
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        writer
            .add_symlink("l", "target", zip::write::SimpleFileOptions::default())
            .unwrap();
        let zip_link = writer.finish().unwrap().into_inner();
        assert_eq!(code(unpack(Format::Zip, &zip_link)), "INVALID_ARTIFACT");
        assert_eq!(code(unpack(Format::Zip, b"not a zip")), "INVALID_ARTIFACT");
        assert_eq!(code(unpack(Format::TarGz, b"not gzip")), "INVALID_ARTIFACT");
    }

    #[test]
    fn archives_beyond_the_bounds_are_refused() {
        let big = vec![0u8; (MAX_UNPACKED_BYTES / 2 + 1) as usize];
        let bytes = zip_of(&[("a", &big, 0o644), ("b", &big, 0o644)]);
        let error = unpack(Format::Zip, &bytes).unwrap_err();
        assert_eq!(error.code, "INVALID_ARTIFACT");
        assert!(error.message.contains("more than"), "{}", error.message);

        let names: Vec<String> = (0..=MAX_ENTRIES).map(|i| format!("f{i}")).collect();
        let entries: Vec<(&str, &[u8], u32)> = names
            .iter()
            .map(|n| (n.as_str(), &b""[..], 0o644))
            .collect();
        let error = unpack(Format::Zip, &zip_of(&entries)).unwrap_err();
        assert!(error.message.contains("entries"), "{}", error.message);
    }

    #[test]
    fn formats_come_from_the_media_type_or_the_file_name() {
        assert_eq!(Format::of("application/gzip", "x"), Some(Format::TarGz));
        assert_eq!(Format::of("application/zip", "x"), Some(Format::Zip));
        assert_eq!(
            Format::of("application/octet-stream", "c.tar.gz"),
            Some(Format::TarGz)
        );
        assert_eq!(Format::of("", "c.zip"), Some(Format::Zip));
        assert_eq!(Format::of("text/plain", "sbom.json"), None);
    }

    #[test]
    fn a_single_top_level_directory_is_found_and_stripped() {
        let file = |path: &str| FileEntry {
            path: path.into(),
            content: vec![],
            executable: false,
        };
        let mut files = vec![file("capsule-1/a"), file("capsule-1/b/c")];
        assert_eq!(common_root(&files).as_deref(), Some("capsule-1"));
        strip_root(&mut files, "capsule-1");
        assert_eq!(files[0].path, "a");
        assert_eq!(files[1].path, "b/c");
        assert_eq!(common_root(&[file("a/x"), file("b/y")]), None);
        assert_eq!(common_root(&[file("a/x"), file("top")]), None);
        assert_eq!(common_root(&[]), None);
    }
}
