//! Projects uploaded to be checked (`POST /v1/checks`): a zip or a gzipped
//! tar, read into files under the rules a capsule's files follow.
//!
//! - The format is told by the first bytes, not by a header a client sets.
//! - Every path must pass [`capsule::check_path`] (relative, `/`-separated,
//!   no `..`, no absolute paths, no backslashes); one that does not refuses
//!   the whole archive, naming it. A path given twice refuses it too.
//! - Links (symbolic or hard), devices and other special entries are
//!   skipped, never followed, and so is everything under a directory of
//!   version control, dependencies or build output ([`SKIPPED_DIRS`]): a
//!   check reads the project's own files. The skipped count is returned.
//! - Limits: [`MAX_ENTRIES`] entries read, [`capsule::MAX_FILES`] files
//!   kept, [`MAX_UNPACKED_BYTES`] of kept content and, for a tar,
//!   [`MAX_STREAM_BYTES`] decompressed in all, each checked on the bytes actually read, so an
//!   entry whose declared size lies is caught when it overflows.

use std::io::{Cursor, Read};

use crate::capsule::{self, PathError};
use crate::model::File;

/// Largest archive accepted (the request body of `POST /v1/checks`).
pub const MAX_ARCHIVE_BYTES: usize = 32 << 20;

/// Most bytes of file content kept from one archive.
pub const MAX_UNPACKED_BYTES: usize = 48 << 20;

/// Most bytes decompressed from one archive, skipped entries included: a
/// small archive that inflates to gigabytes of skipped files is refused
/// too.
pub const MAX_STREAM_BYTES: u64 = 256 << 20;

/// Most entries read from one archive, skipped ones included.
pub const MAX_ENTRIES: usize = 50_000;

/// Directories whose contents a check skips wherever they are in the
/// project: version control, installed dependencies, caches and build
/// output.
pub const SKIPPED_DIRS: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    "node_modules",
    "__pycache__",
    ".venv",
    "venv",
    ".tox",
    ".mypy_cache",
    ".pytest_cache",
    "target",
];

/// The files of an uploaded project.
#[derive(Debug, Default)]
pub struct Unpacked {
    /// In the order the archive lists them.
    pub files: Vec<File>,
    /// Entries skipped: links, special files and [`SKIPPED_DIRS`].
    pub skipped: usize,
}

/// Why an upload was refused; each has a stable code.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UploadError {
    #[error("the body is neither a zip nor a gzipped tar archive")]
    NotAnArchive,
    #[error("the archive cannot be read: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Path(PathError),
    #[error("`{0}` is in the archive twice")]
    Duplicate(String),
    #[error("the archive has more than {MAX_ENTRIES} entries")]
    TooManyEntries,
    #[error("{0}")]
    TooLarge(String),
    #[error("the archive holds no file to check")]
    Empty,
}

impl UploadError {
    /// The stable code of the API's answer.
    pub fn code(&self) -> &'static str {
        match self {
            UploadError::NotAnArchive => "UNSUPPORTED_ARCHIVE",
            UploadError::Corrupt(_) => "INVALID_ARCHIVE",
            UploadError::Path(_) => "UNSAFE_PATH",
            UploadError::Duplicate(_) => "DUPLICATE_PATH",
            UploadError::TooManyEntries | UploadError::TooLarge(_) => "ARCHIVE_TOO_LARGE",
            UploadError::Empty => "EMPTY_ARCHIVE",
        }
    }
}

/// The files of a zip or gzipped tar archive.
pub fn unpack(bytes: &[u8]) -> Result<Unpacked, UploadError> {
    let mut out = Collector::default();
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        unpack_zip(bytes, &mut out)?;
    } else if bytes.starts_with(&[0x1f, 0x8b]) {
        unpack_tar_gz(bytes, &mut out)?;
    } else {
        return Err(UploadError::NotAnArchive);
    }
    if out.unpacked.files.is_empty() {
        return Err(UploadError::Empty);
    }
    Ok(out.unpacked)
}

/// What was read so far, with the counts the limits apply to.
#[derive(Default)]
struct Collector {
    unpacked: Unpacked,
    seen: std::collections::HashSet<String>,
    entries: usize,
    bytes: usize,
}

/// What to do with an entry, from its name and type.
enum Entry {
    Keep(String),
    Skip,
}

impl Collector {
    /// Counts an entry; decides from its name whether it is read.
    fn entry(&mut self, name: &str, regular: bool) -> Result<Entry, UploadError> {
        self.entries += 1;
        if self.entries > MAX_ENTRIES {
            return Err(UploadError::TooManyEntries);
        }
        let path = name.strip_prefix("./").unwrap_or(name);
        if path.is_empty() || path.ends_with('/') && !regular {
            return Ok(Entry::Skip);
        }
        // A path is checked before anything else, skipped or not: an
        // archive that names a file outside the project is refused whole.
        capsule::check_path(path.trim_end_matches('/')).map_err(UploadError::Path)?;
        let skipped_dir = path
            .split('/')
            .rev()
            .skip(1)
            .any(|dir| SKIPPED_DIRS.contains(&dir));
        if !regular || skipped_dir {
            self.unpacked.skipped += 1;
            return Ok(Entry::Skip);
        }
        if !self.seen.insert(path.to_owned()) {
            return Err(UploadError::Duplicate(path.to_owned()));
        }
        if self.unpacked.files.len() >= capsule::MAX_FILES {
            return Err(UploadError::TooLarge(format!(
                "the archive has more than {} files to check",
                capsule::MAX_FILES
            )));
        }
        Ok(Entry::Keep(path.to_owned()))
    }

    /// Reads a kept entry's content, at most what the limit leaves.
    fn read(&mut self, path: String, reader: impl Read) -> Result<(), UploadError> {
        let room = MAX_UNPACKED_BYTES - self.bytes;
        let mut content = vec![];
        reader
            .take(room as u64 + 1)
            .read_to_end(&mut content)
            .map_err(|e| UploadError::Corrupt(format!("`{path}`: {e}")))?;
        if content.len() > room {
            return Err(UploadError::TooLarge(format!(
                "the files total more than {MAX_UNPACKED_BYTES} bytes"
            )));
        }
        self.bytes += content.len();
        self.unpacked.files.push(File { path, content });
        Ok(())
    }
}

fn unpack_zip(bytes: &[u8], out: &mut Collector) -> Result<(), UploadError> {
    let corrupt = |e: zip::result::ZipError| UploadError::Corrupt(e.to_string());
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(corrupt)?;
    for i in 0..archive.len() {
        let entry = archive.by_index(i).map_err(corrupt)?;
        let name = std::str::from_utf8(entry.name_raw())
            .map_err(|_| UploadError::Corrupt(format!("entry {i} has a name that is not UTF-8")))?
            .to_owned();
        let regular = entry.is_file() && !entry.is_symlink();
        // Skipped entries are never inflated.
        if let Entry::Keep(path) = out.entry(&name, regular)? {
            out.read(path, entry)?;
        }
    }
    Ok(())
}

fn unpack_tar_gz(bytes: &[u8], out: &mut Collector) -> Result<(), UploadError> {
    let corrupt = |e: std::io::Error| UploadError::Corrupt(e.to_string());
    let stream = flate2::read::GzDecoder::new(bytes).take(MAX_STREAM_BYTES + 1);
    let mut archive = tar::Archive::new(stream);
    for entry in archive.entries().map_err(corrupt)? {
        let entry = entry.map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                UploadError::TooLarge(format!(
                    "the archive is truncated or inflates to more than {MAX_STREAM_BYTES} bytes"
                ))
            } else {
                corrupt(e)
            }
        })?;
        let name = std::str::from_utf8(&entry.path_bytes())
            .map_err(|_| UploadError::Corrupt("an entry's name is not UTF-8".into()))?
            .to_owned();
        let kind = entry.header().entry_type();
        let regular = kind.is_file() || kind.is_contiguous();
        if kind.is_dir() || kind.is_pax_global_extensions() {
            continue;
        }
        if let Entry::Keep(path) = out.entry(&name, regular)? {
            out.read(path, entry)?;
        }
    }
    Ok(())
}

/// A project directory as the gzipped tar `qlp check` uploads: its
/// regular files in path order, under the rules [`unpack`] applies
/// (links are not followed; [`SKIPPED_DIRS`] are left out).
pub fn pack_dir(dir: &std::path::Path) -> std::io::Result<Vec<u8>> {
    fn walk(
        dir: &std::path::Path,
        prefix: &str,
        out: &mut Vec<(String, std::path::PathBuf)>,
    ) -> std::io::Result<()> {
        let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            let path = format!("{prefix}{name}");
            let kind = entry.file_type()?;
            if kind.is_dir() && !SKIPPED_DIRS.contains(&name.as_str()) {
                walk(&entry.path(), &format!("{path}/"), out)?;
            } else if kind.is_file() {
                out.push((path, entry.path()));
            }
        }
        Ok(())
    }
    let mut files = vec![];
    walk(dir, "", &mut files)?;
    let gz = flate2::write::GzEncoder::new(vec![], flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    for (path, source) in files {
        let content = std::fs::read(&source)?;
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        tar.append_data(&mut header, &path, content.as_slice())?;
    }
    tar.into_inner()?.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn tar_gz(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let gz = flate2::write::GzEncoder::new(vec![], flate2::Compression::fast());
        let mut tar = tar::Builder::new(gz);
        for (path, content) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_size(content.len() as u64);
            header.set_mode(0o644);
            header.set_entry_type(tar::EntryType::Regular);
            // `append_data` refuses `..`; the header is written raw so
            // hostile archives can be built.
            let name = header.as_old_mut().name.as_mut();
            name[..path.len()].copy_from_slice(path.as_bytes());
            header.set_cksum();
            tar.append(&header, *content).unwrap();
        }
        tar.into_inner().unwrap().finish().unwrap()
    }

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(vec![]));
        for (path, content) in entries {
            zip.start_file(*path, zip::write::SimpleFileOptions::default())
                .unwrap();
            zip.write_all(content).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    fn paths(u: &Unpacked) -> Vec<&str> {
        u.files.iter().map(|f| f.path.as_str()).collect()
    }

    #[test]
    fn both_formats_give_the_files_with_their_content() {
        let entries: &[(&str, &[u8])] = &[("app/main.py", b"print(1)\n"), ("README.md", b"# x\n")];
        for bytes in [tar_gz(entries), zip_of(entries)] {
            let u = unpack(&bytes).unwrap();
            assert_eq!(paths(&u), ["app/main.py", "README.md"]);
            assert_eq!(u.files[0].content, b"print(1)\n");
            assert_eq!(u.skipped, 0);
        }
    }

    #[test]
    fn a_leading_dot_slash_is_dropped() {
        let u = unpack(&tar_gz(&[("./src/lib.rs", b"fn a() {}\n")])).unwrap();
        assert_eq!(paths(&u), ["src/lib.rs"]);
    }

    #[test]
    fn an_escaping_path_refuses_the_whole_archive() {
        for bad in ["../etc/passwd", "/etc/passwd", "a/../../b", "a\\b"] {
            let entries: &[(&str, &[u8])] = &[("ok.py", b"x = 1\n"), (bad, b"x")];
            for bytes in [tar_gz(entries), zip_of(entries)] {
                let e = unpack(&bytes).unwrap_err();
                assert_eq!(e.code(), "UNSAFE_PATH", "{bad}: {e}");
            }
        }
    }

    #[test]
    fn the_manifest_name_is_reserved() {
        let e = unpack(&zip_of(&[(capsule::MANIFEST_NAME, b"{}")])).unwrap_err();
        assert_eq!(e.code(), "UNSAFE_PATH");
    }

    #[test]
    fn dependency_and_vcs_directories_are_skipped_anywhere() {
        let u = unpack(&tar_gz(&[
            ("src/app.ts", b"export {}\n"),
            ("node_modules/left-pad/index.js", b"module.exports = 1\n"),
            ("web/node_modules/x/y.js", b"1\n"),
            (".git/config", b"[core]\n"),
            ("target/debug/app", b"\x7fELF"),
            // A file named like a skipped directory is a file.
            ("docs/target", b"the target audience\n"),
        ]))
        .unwrap();
        assert_eq!(paths(&u), ["src/app.ts", "docs/target"]);
        assert_eq!(u.skipped, 4);
    }

    #[test]
    fn links_are_skipped_not_followed() {
        let gz = flate2::write::GzEncoder::new(vec![], flate2::Compression::fast());
        let mut tar = tar::Builder::new(gz);
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Symlink);
        header.set_size(0);
        tar.append_link(&mut header, "secrets", "/etc/shadow")
            .unwrap();
        let mut header = tar::Header::new_gnu();
        header.set_size(4);
        tar.append_data(&mut header, "main.go", &b"pack"[..])
            .unwrap();
        let bytes = tar.into_inner().unwrap().finish().unwrap();
        let u = unpack(&bytes).unwrap();
        assert_eq!(paths(&u), ["main.go"]);
        assert_eq!(u.skipped, 1);
    }

    #[test]
    fn a_packed_directory_unpacks_to_its_own_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("src/deep")).unwrap();
        std::fs::create_dir_all(root.join("node_modules/x")).unwrap();
        std::fs::write(root.join("src/deep/a.go"), "package deep\n").unwrap();
        std::fs::write(root.join("go.mod"), "module m\n").unwrap();
        std::fs::write(root.join("node_modules/x/i.js"), "1").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", root.join("passwd")).unwrap();
        let u = unpack(&pack_dir(root).unwrap()).unwrap();
        assert_eq!(paths(&u), ["go.mod", "src/deep/a.go"]);
        assert_eq!(u.files[1].content, b"package deep\n");
    }

    #[test]
    fn a_path_given_twice_is_refused() {
        let e = unpack(&tar_gz(&[("a.py", b"1"), ("a.py", b"2")])).unwrap_err();
        assert_eq!(e, UploadError::Duplicate("a.py".into()));
    }

    #[test]
    fn other_bytes_empty_archives_and_corrupt_ones_get_their_codes() {
        assert_eq!(
            unpack(b"just text").unwrap_err().code(),
            "UNSUPPORTED_ARCHIVE"
        );
        assert_eq!(unpack(&zip_of(&[])).unwrap_err().code(), "EMPTY_ARCHIVE");
        let mut truncated = zip_of(&[("a.py", &[b'x'; 4096])]);
        truncated.truncate(truncated.len() / 2);
        assert_eq!(unpack(&truncated).unwrap_err().code(), "INVALID_ARCHIVE");
        let mut gz = tar_gz(&[("a.py", &[b'x'; 4096])]);
        gz.truncate(40);
        assert!(unpack(&gz).is_err());
    }

    #[test]
    fn content_over_the_limit_is_refused_on_the_bytes_read() {
        let big = vec![b'a'; MAX_UNPACKED_BYTES / 2 + 1];
        let e = unpack(&tar_gz(&[("a.txt", &big), ("b.txt", &big)])).unwrap_err();
        assert_eq!(e.code(), "ARCHIVE_TOO_LARGE", "{e}");
        let e = unpack(&zip_of(&[("a.txt", &big), ("b.txt", &big)])).unwrap_err();
        assert_eq!(e.code(), "ARCHIVE_TOO_LARGE", "{e}");
    }

    #[test]
    fn too_many_entries_are_refused_even_when_skipped() {
        let names: Vec<String> = (0..=MAX_ENTRIES).map(|i| format!(".git/o/{i}")).collect();
        let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
        let e = unpack(&tar_gz(&entries)).unwrap_err();
        assert_eq!(e, UploadError::TooManyEntries);
    }
}
