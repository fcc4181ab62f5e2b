//! Reading a capsule back out of an exported artifact (`.tar.gz` or
//! `.zip`), for delivery adapters that hand over files rather than the
//! archive (`qlp/github`, `qlp/gitlab`, `qlp/git`). Behind the SDK's
//! `unpack` feature, so that only those plugins link the readers.
//!
//! The artifact comes from an exporter of the same pipeline, but it is read
//! as untrusted input: a path that is empty, absolute, has `..`, `.` or
//! empty components, a backslash or a NUL byte ([`super::path_problem`]),
//! a control character, a `.git` component in any case (a capsule never
//! carries a repository's own metadata, and every caller writes into a
//! repository) or more than [`MAX_PATH_BYTES`], two entries with one path,
//! a file where another needs a directory, symbolic or hard links and
//! device, FIFO or socket entries are all refused with `INVALID_ARTIFACT`,
//! as is an archive that does not parse. Directory entries are skipped (a
//! repository has no empty directories); one leading `./` is tolerated, as
//! `tar -C dir .` writes it. Sizes are bounded by [`Limits`]: beyond them
//! `ARTIFACT_TOO_LARGE`, checked while inflating so a small archive cannot
//! expand without end.
//!
//! [`unpack`] picks the format from the media type or the file name
//! ([`Format::of`]) and returns the entries sorted by path (byte order).
//! [`strip_root`] then removes the one top-level directory an exporter may
//! wrap the files in (`capsule-1234/`), for adapters that offer it.

use std::collections::BTreeSet;
use std::io::{self, Read};

use crate::{Artifact, PluginError};

/// Bounds on what an artifact may unpack to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most entries of any kind (directories included).
    pub max_entries: usize,
    /// Largest single file, in bytes.
    pub max_file_bytes: u64,
    /// Largest sum of all files, in bytes.
    pub max_total_bytes: u64,
}

impl Default for Limits {
    /// 10 000 entries, 16 MiB per file, 64 MiB in all: a generated project
    /// is far smaller, and a plugin's memory stays well inside the host's
    /// sandbox limit even with the archive and its copy in memory.
    fn default() -> Self {
        Self {
            max_entries: 10_000,
            max_file_bytes: 16 << 20,
            max_total_bytes: 64 << 20,
        }
    }
}

/// Longest entry path accepted, in bytes: Linux's `PATH_MAX`, beyond which
/// no checkout could hold the file.
pub const MAX_PATH_BYTES: usize = 4096;

/// Room allowed for tar headers, long names and padding on top of the
/// files' own bytes while inflating: 8 KiB per entry.
const TAR_OVERHEAD_PER_ENTRY: u64 = 8 << 10;

/// One file of the unpacked capsule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Clean relative `/`-separated path.
    pub path: String,
    pub content: Vec<u8>,
    /// Whether the archive marked it executable (any `x` bit).
    pub executable: bool,
}

/// The archive formats QLP's exporters write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    TarGz,
    Zip,
}

impl Format {
    /// The format of an artifact, by media type (`application/gzip`,
    /// `application/x-gzip`, `application/x-tar+gzip`, `application/zip`)
    /// or else by file name (`.tar.gz`, `.tgz`, `.zip`).
    pub fn of(artifact: &Artifact) -> Option<Self> {
        let media_type = artifact.media_type.to_ascii_lowercase();
        let media_type = media_type.split(';').next().unwrap_or_default().trim();
        match media_type {
            "application/gzip"
            | "application/x-gzip"
            | "application/x-tar+gzip"
            | "application/x-gtar" => return Some(Self::TarGz),
            "application/zip" | "application/x-zip-compressed" => return Some(Self::Zip),
            _ => {}
        }
        let name = artifact.file_name.to_ascii_lowercase();
        if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
            Some(Self::TarGz)
        } else if name.ends_with(".zip") {
            Some(Self::Zip)
        } else {
            None
        }
    }
}

/// The artifact's files, checked and sorted by path.
pub fn unpack(artifact: &Artifact, limits: &Limits) -> Result<Vec<Entry>, PluginError> {
    match Format::of(artifact) {
        Some(Format::TarGz) => unpack_tar_gz(&artifact.bytes, limits),
        Some(Format::Zip) => unpack_zip(&artifact.bytes, limits),
        None => Err(invalid(format!(
            "{:?} ({}) is neither a .tar.gz nor a .zip archive",
            artifact.file_name, artifact.media_type
        ))),
    }
}

/// The files of a gzipped tar archive, checked and sorted by path.
pub fn unpack_tar_gz(bytes: &[u8], limits: &Limits) -> Result<Vec<Entry>, PluginError> {
    let budget = limits
        .max_total_bytes
        .saturating_add(TAR_OVERHEAD_PER_ENTRY.saturating_mul(limits.max_entries as u64 + 1));
    let inflated = Bounded {
        inner: flate2::read::GzDecoder::new(bytes),
        left: budget,
    };
    let mut archive = tar::Archive::new(inflated);
    let mut files = Files::new(limits);
    let entries = archive.entries().map_err(|e| read_error(&e))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| read_error(&e))?;
        let raw_path = entry.path_bytes().into_owned();
        let path = files.count(&raw_path)?;
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            continue;
        }
        if !(kind.is_file() || kind == tar::EntryType::Continuous) {
            return Err(invalid(format!(
                "{path:?} is not a regular file (tar entry type {:?})",
                kind.as_byte() as char
            )));
        }
        let size = entry.header().size().map_err(|e| read_error(&e))?;
        files.check_size(&path, size)?;
        let mut content = Vec::with_capacity(size as usize);
        entry
            .read_to_end(&mut content)
            .map_err(|e| read_error(&e))?;
        let executable = entry.header().mode().is_ok_and(|m| m & 0o111 != 0);
        files.push(path, content, executable)?;
    }
    files.finish()
}

/// The files of a zip archive, checked and sorted by path.
pub fn unpack_zip(bytes: &[u8], limits: &Limits) -> Result<Vec<Entry>, PluginError> {
    let mut archive = zip::ZipArchive::new(io::Cursor::new(bytes))
        .map_err(|e| invalid(format!("not a readable zip archive: {e}")))?;
    let mut files = Files::new(limits);
    for index in 0..archive.len() {
        let mut file = archive
            .by_index(index)
            .map_err(|e| invalid(format!("zip entry {index} is unreadable: {e}")))?;
        let path = files.count(file.name_raw())?;
        if file.is_symlink() {
            return Err(invalid(format!("{path:?} is a symbolic link")));
        }
        if file.is_dir() {
            continue;
        }
        // Zip has no entry types; a Unix mode may still say device or FIFO.
        let file_type = file.unix_mode().map_or(0, |m| m & S_IFMT);
        if file_type != 0 && file_type != S_IFREG {
            return Err(invalid(format!(
                "{path:?} is not a regular file (Unix file type {file_type:o})"
            )));
        }
        files.check_size(&path, file.size())?;
        let mut content = Vec::with_capacity(file.size() as usize);
        // The declared size is checked above; never read past it either.
        (&mut file)
            .take(limits.max_file_bytes + 1)
            .read_to_end(&mut content)
            .map_err(|e| invalid(format!("{path:?} cannot be inflated: {e}")))?;
        files.check_size(&path, content.len() as u64)?;
        let executable = file.unix_mode().is_some_and(|m| m & 0o111 != 0);
        files.push(path, content, executable)?;
    }
    files.finish()
}

/// The file-type bits of a Unix mode, and their value for a regular file.
const S_IFMT: u32 = 0o170000;
const S_IFREG: u32 = 0o100000;

/// The one top-level directory every entry sits under, if there is one
/// (an exporter's `capsule-1234/` wrapper); `None` when any file is at the
/// top or two directories are.
pub fn common_root(entries: &[Entry]) -> Option<&str> {
    let mut root = None;
    for entry in entries {
        let (top, _) = entry.path.split_once('/')?;
        match root {
            None => root = Some(top),
            Some(r) if r == top => {}
            Some(_) => return None,
        }
    }
    root
}

/// Removes the [`common_root`] from the front of every path and returns
/// it; leaves the entries as they are when there is none. Paths stay
/// distinct and in order: they all lose the same prefix.
pub fn strip_root(entries: &mut [Entry]) -> Option<String> {
    let root = common_root(entries)?.to_string();
    for entry in entries.iter_mut() {
        entry.path.drain(..=root.len());
    }
    Some(root)
}

/// The entries read so far and the limits they count against.
struct Files<'l> {
    limits: &'l Limits,
    entries: Vec<Entry>,
    seen: usize,
    total: u64,
}

impl<'l> Files<'l> {
    fn new(limits: &'l Limits) -> Self {
        Self {
            limits,
            entries: vec![],
            seen: 0,
            total: 0,
        }
    }

    /// Counts one more entry and returns its checked path.
    fn count(&mut self, raw: &[u8]) -> Result<String, PluginError> {
        self.seen += 1;
        if self.seen > self.limits.max_entries {
            return Err(too_large(format!(
                "the archive holds more than {} entries",
                self.limits.max_entries
            )));
        }
        if raw.len() > MAX_PATH_BYTES {
            return Err(invalid(format!(
                "an entry path is longer than {MAX_PATH_BYTES} bytes"
            )));
        }
        let path = std::str::from_utf8(raw)
            .map_err(|_| invalid(format!("entry path {raw:?} is not UTF-8")))?;
        let path = path.strip_prefix("./").unwrap_or(path);
        // A directory entry ends with `/`; its path is checked without it.
        let path = path.strip_suffix('/').unwrap_or(path);
        if let Some(problem) = entry_path_problem(path) {
            return Err(invalid(format!("entry path {path:?} {problem}")));
        }
        Ok(path.to_string())
    }

    fn check_size(&mut self, path: &str, size: u64) -> Result<(), PluginError> {
        if size > self.limits.max_file_bytes {
            return Err(too_large(format!(
                "{path:?} is larger than {} bytes",
                self.limits.max_file_bytes
            )));
        }
        if self.total.saturating_add(size) > self.limits.max_total_bytes {
            return Err(too_large(format!(
                "the files add up to more than {} bytes",
                self.limits.max_total_bytes
            )));
        }
        Ok(())
    }

    fn push(
        &mut self,
        path: String,
        content: Vec<u8>,
        executable: bool,
    ) -> Result<(), PluginError> {
        self.total += content.len() as u64;
        self.entries.push(Entry {
            path,
            content,
            executable,
        });
        Ok(())
    }

    fn finish(mut self) -> Result<Vec<Entry>, PluginError> {
        self.entries
            .sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
        let paths: BTreeSet<&str> = self.entries.iter().map(|e| e.path.as_str()).collect();
        if let Some(pair) = self.entries.windows(2).find(|w| w[0].path == w[1].path) {
            return Err(invalid(format!(
                "two entries have the path {:?}",
                pair[0].path
            )));
        }
        for path in &paths {
            for (slash, _) in path.match_indices('/') {
                let parent = &path[..slash];
                if paths.contains(parent) {
                    return Err(invalid(format!(
                        "{parent:?} is a file but {path:?} needs it to be a directory"
                    )));
                }
            }
        }
        Ok(self.entries)
    }
}

/// Why an unpacked path cannot go into a repository: the archive rules
/// ([`super::path_problem`]), then control characters and `.git`.
fn entry_path_problem(path: &str) -> Option<&'static str> {
    super::path_problem(path).or_else(|| {
        if path.chars().any(char::is_control) {
            Some("contains a control character")
        } else if path.split('/').any(|c| c.eq_ignore_ascii_case(".git")) {
            Some("has a `.git` component")
        } else {
            None
        }
    })
}

/// A reader that fails with `FileTooLarge` once more than `left` bytes
/// came through: the bound on what a gzip stream may inflate to.
struct Bounded<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.left = self.left.checked_sub(n as u64).ok_or_else(|| {
            io::Error::new(io::ErrorKind::FileTooLarge, "the archive inflates too far")
        })?;
        Ok(n)
    }
}

fn read_error(error: &io::Error) -> PluginError {
    // The tar reader wraps errors of the stream it reads; look through it.
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if e.downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::FileTooLarge)
        {
            return too_large("the archive inflates beyond its size limit".into());
        }
        source = e.source();
    }
    if error.kind() == io::ErrorKind::FileTooLarge {
        return too_large("the archive inflates beyond its size limit".into());
    }
    invalid(format!("not a readable .tar.gz archive: {error}"))
}

/// `INVALID_ARTIFACT`: the artifact is not an archive of a clean capsule.
pub fn invalid(message: String) -> PluginError {
    PluginError::new("INVALID_ARTIFACT", message)
}

/// `ARTIFACT_TOO_LARGE`: the artifact unpacks beyond [`Limits`].
pub fn too_large(message: String) -> PluginError {
    PluginError::new("ARTIFACT_TOO_LARGE", message)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn tar_gz(entries: &[(&[u8], tar::EntryType, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, kind, content) in entries {
            let mut header = tar::Header::new_gnu();
            // Written raw so that hostile names reach the archive.
            header.as_old_mut().name[..path.len()].copy_from_slice(path);
            header.set_entry_type(*kind);
            header.set_size(content.len() as u64);
            header.set_mode(if path.ends_with(b".sh") { 0o755 } else { 0o644 });
            header.set_cksum();
            builder.append(&header, *content).unwrap();
        }
        let tar = builder.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&tar).unwrap();
        gz.finish().unwrap()
    }

    fn code(result: Result<Vec<Entry>, PluginError>) -> String {
        result.err().map(|e| e.code).unwrap_or_default()
    }

    const FILE: tar::EntryType = tar::EntryType::Regular;

    #[test]
    fn tar_gz_files_come_back_sorted_with_their_executable_bit() {
        let bytes = tar_gz(&[
            (b"./src/", tar::EntryType::Directory, b""),
            (b"src/main.rs", FILE, b"fn main() {}"),
            (b"run.sh", FILE, b"#!/bin/sh"),
        ]);
        let entries = unpack_tar_gz(&bytes, &Limits::default()).expect("entries");
        assert_eq!(
            entries,
            [
                Entry {
                    path: "run.sh".into(),
                    content: b"#!/bin/sh".to_vec(),
                    executable: true
                },
                Entry {
                    path: "src/main.rs".into(),
                    content: b"fn main() {}".to_vec(),
                    executable: false
                },
            ]
        );
    }

    #[test]
    fn hostile_tar_entries_are_invalid() {
        for bad in [
            &[(b"/etc/passwd" as &[u8], FILE, b"x" as &[u8])][..],
            &[(b"../up", FILE, b"x")],
            &[(b"a/../../up", FILE, b"x")],
            &[(b"a", FILE, b"1"), (b"a", FILE, b"2")],
            &[(b"a", FILE, b"1"), (b"a/b", FILE, b"2")],
            &[(b"link", tar::EntryType::Symlink, b"")],
            &[(b"hard", tar::EntryType::Link, b"")],
            &[(b"fifo", tar::EntryType::Fifo, b"")],
            &[(b"a\\b", FILE, b"")],
        ] {
            let bytes = tar_gz(bad);
            assert_eq!(
                code(unpack_tar_gz(&bytes, &Limits::default())),
                "INVALID_ARTIFACT",
                "{bad:?}"
            );
        }
        assert_eq!(
            code(unpack_tar_gz(b"not gzip", &Limits::default())),
            "INVALID_ARTIFACT"
        );
    }

    #[test]
    fn sizes_are_bounded_while_inflating() {
        let limits = Limits {
            max_entries: 3,
            max_file_bytes: 100,
            max_total_bytes: 150,
        };
        let big = vec![b'a'; 101];
        let bytes = tar_gz(&[(b"a", FILE, &big)]);
        assert_eq!(code(unpack_tar_gz(&bytes, &limits)), "ARTIFACT_TOO_LARGE");
        let fifty = vec![b'a'; 80];
        let bytes = tar_gz(&[(b"a", FILE, &fifty), (b"b", FILE, &fifty)]);
        assert_eq!(code(unpack_tar_gz(&bytes, &limits)), "ARTIFACT_TOO_LARGE");
        let bytes = tar_gz(&[
            (b"a", FILE, b""),
            (b"b", FILE, b""),
            (b"c", FILE, b""),
            (b"d", FILE, b""),
        ]);
        assert_eq!(code(unpack_tar_gz(&bytes, &limits)), "ARTIFACT_TOO_LARGE");
        // A 4 MiB GNU long name, which a tar reader holds in memory: refused
        // while inflating, before it is read whole.
        let bomb = tar_gz(&[(
            b"././@LongLink",
            tar::EntryType::GNULongName,
            &vec![b'a'; 4 << 20],
        )]);
        assert!(bomb.len() < 64 << 10, "a small archive");
        let tiny = Limits {
            max_entries: 1,
            max_file_bytes: 10,
            max_total_bytes: 10,
        };
        let result = unpack_tar_gz(&bomb, &tiny);
        assert_eq!(code(result.clone()), "ARTIFACT_TOO_LARGE", "{result:?}");
    }

    fn zip(entries: &[(&str, &[u8])], symlink: Option<&str>) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().unix_permissions(0o755);
        for (path, content) in entries {
            writer.start_file(*path, options).unwrap();
            writer.write_all(content).unwrap();
        }
        if let Some(path) = symlink {
            writer.add_symlink(path, "/etc/passwd", options).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    #[test]
    fn zip_files_come_back_sorted_and_hostile_ones_are_invalid() {
        let bytes = zip(&[("b.txt", b"b"), ("a/x.sh", b"x")], None);
        let entries = unpack_zip(&bytes, &Limits::default()).expect("entries");
        let paths: Vec<&str> = entries.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["a/x.sh", "b.txt"]);
        assert!(entries[0].executable);
        for bad in [
            zip(&[("../x", b"")], None),
            zip(&[("/x", b"")], None),
            zip(&[("a", b""), ("a/b", b"")], None),
            zip(&[], Some("link")),
        ] {
            assert_eq!(
                code(unpack_zip(&bad, &Limits::default())),
                "INVALID_ARTIFACT"
            );
        }
        let limits = Limits {
            max_file_bytes: 4,
            ..Limits::default()
        };
        let bytes = zip(&[("a", b"12345")], None);
        assert_eq!(code(unpack_zip(&bytes, &limits)), "ARTIFACT_TOO_LARGE");
    }

    #[test]
    fn repository_metadata_control_characters_and_overlong_paths_are_invalid() {
        let long = "a/".repeat(MAX_PATH_BYTES / 2) + "b";
        for bad in [".git/config", "a/.GIT/x", "src/.git", "a\nb", "tab\there"] {
            let bytes = tar_gz(&[(bad.as_bytes(), FILE, b"x")]);
            assert_eq!(
                code(unpack_tar_gz(&bytes, &Limits::default())),
                "INVALID_ARTIFACT",
                "{bad:?}"
            );
            let bytes = zip(&[(bad, b"x")], None);
            assert_eq!(
                code(unpack_zip(&bytes, &Limits::default())),
                "INVALID_ARTIFACT",
                "{bad:?}"
            );
        }
        let bytes = zip(&[(long.as_str(), b"x")], None);
        assert_eq!(
            code(unpack_zip(&bytes, &Limits::default())),
            "INVALID_ARTIFACT"
        );
        let device = tar_gz(&[(b"d", tar::EntryType::Char, b"")]);
        assert_eq!(
            code(unpack_tar_gz(&device, &Limits::default())),
            "INVALID_ARTIFACT"
        );
        // Only a whole `.git` component: dotfiles of git's are capsule files.
        let bytes = tar_gz(&[(b".gitignore", FILE, b""), (b".github/ci.yml", FILE, b"")]);
        let entries = unpack_tar_gz(&bytes, &Limits::default()).expect("entries");
        assert_eq!(entries.len(), 2);
    }

    #[test]
    fn a_zip_entry_whose_unix_mode_is_a_fifo_is_invalid() {
        // The zip writer keeps permission bits only; the file type goes
        // into the central directory's external attributes by hand.
        let mut bytes = zip(&[("fifo", b"")], None);
        let central = bytes
            .windows(4)
            .position(|w| w == b"PK\x01\x02")
            .expect("a central directory entry");
        bytes[central + 38..central + 42].copy_from_slice(&(0o010644u32 << 16).to_le_bytes());
        assert_eq!(
            code(unpack_zip(&bytes, &Limits::default())),
            "INVALID_ARTIFACT"
        );
    }

    #[test]
    fn a_single_top_level_directory_is_found_and_stripped() {
        let file = |path: &str| Entry {
            path: path.into(),
            content: vec![],
            executable: false,
        };
        let mut files = vec![file("capsule-1/a"), file("capsule-1/b/c")];
        assert_eq!(common_root(&files), Some("capsule-1"));
        assert_eq!(strip_root(&mut files).as_deref(), Some("capsule-1"));
        assert_eq!(files[0].path, "a");
        assert_eq!(files[1].path, "b/c");
        assert_eq!(common_root(&[file("a/x"), file("b/y")]), None);
        assert_eq!(common_root(&[file("a/x"), file("top")]), None);
        assert_eq!(common_root(&[]), None);
        let mut two = vec![file("a/x"), file("b/y")];
        assert_eq!(strip_root(&mut two), None);
        assert_eq!(two[0].path, "a/x", "nothing stripped");
    }

    #[test]
    fn the_format_comes_from_the_media_type_or_the_name() {
        let artifact = |media_type: &str, file_name: &str| Artifact {
            media_type: media_type.into(),
            file_name: file_name.into(),
            bytes: vec![],
        };
        assert_eq!(
            Format::of(&artifact("application/gzip", "x")),
            Some(Format::TarGz)
        );
        assert_eq!(
            Format::of(&artifact("application/zip", "x")),
            Some(Format::Zip)
        );
        assert_eq!(
            Format::of(&artifact("application/octet-stream", "a.TGZ")),
            Some(Format::TarGz)
        );
        assert_eq!(Format::of(&artifact("", "a.zip")), Some(Format::Zip));
        assert_eq!(
            Format::of(&artifact("application/octet-stream", "c.tar.gz")),
            Some(Format::TarGz)
        );
        assert_eq!(Format::of(&artifact("text/plain", "sbom.json")), None);
        assert_eq!(Format::of(&artifact("text/plain", "a.txt")), None);
        assert_eq!(
            code(unpack(&artifact("text/plain", "a.txt"), &Limits::default())),
            "INVALID_ARTIFACT"
        );
    }
}
