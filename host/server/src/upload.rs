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
use qlp_contract::model::File;

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

/// The bounds one archive is read within.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Entries read, skipped ones included.
    pub entries: usize,
    /// Files kept.
    pub files: usize,
    /// Bytes of kept file content.
    pub unpacked_bytes: usize,
    /// Bytes decompressed from a tar.gz, skipped entries included.
    pub stream_bytes: u64,
}

/// The limits of `POST /v1/checks`.
pub const LIMITS: Limits = Limits {
    entries: MAX_ENTRIES,
    files: capsule::MAX_FILES,
    unpacked_bytes: MAX_UNPACKED_BYTES,
    stream_bytes: MAX_STREAM_BYTES,
};

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
    #[error("the archive has more than {0} entries")]
    TooManyEntries(usize),
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
            UploadError::TooManyEntries(_) | UploadError::TooLarge(_) => "ARCHIVE_TOO_LARGE",
            UploadError::Empty => "EMPTY_ARCHIVE",
        }
    }
}

/// The files of a zip or gzipped tar archive, within [`LIMITS`].
pub fn unpack(bytes: &[u8]) -> Result<Unpacked, UploadError> {
    unpack_within(bytes, LIMITS)
}

/// The files of a zip or gzipped tar archive, within `limits`.
pub fn unpack_within(bytes: &[u8], limits: Limits) -> Result<Unpacked, UploadError> {
    let mut out = Collector::new(limits);
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
struct Collector {
    limits: Limits,
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
    fn new(limits: Limits) -> Self {
        Self {
            limits,
            unpacked: Unpacked::default(),
            seen: Default::default(),
            entries: 0,
            bytes: 0,
        }
    }

    /// Counts an entry; decides from its name whether it is read.
    fn entry(&mut self, name: &str, regular: bool) -> Result<Entry, UploadError> {
        self.entries += 1;
        if self.entries > self.limits.entries {
            return Err(UploadError::TooManyEntries(self.limits.entries));
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
        if self.unpacked.files.len() >= self.limits.files {
            return Err(UploadError::TooLarge(format!(
                "the archive has more than {} files to check",
                self.limits.files
            )));
        }
        Ok(Entry::Keep(path.to_owned()))
    }

    /// Reads a kept entry's content, at most what the limit leaves.
    fn read(&mut self, path: String, reader: impl Read) -> Result<(), UploadError> {
        let room = self.limits.unpacked_bytes - self.bytes;
        let mut content = vec![];
        reader
            .take(room as u64 + 1)
            .read_to_end(&mut content)
            .map_err(|e| UploadError::Corrupt(format!("`{path}`: {e}")))?;
        if content.len() > room {
            return Err(UploadError::TooLarge(format!(
                "the files total more than {} bytes",
                self.limits.unpacked_bytes
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
    // At most one byte over the limit is inflated; whatever the reader
    // made of the stream (an error, or an end at an entry's boundary), an
    // archive that reached that byte is refused whole, so a cut never
    // passes for the end of the archive.
    let limit = out.limits.stream_bytes;
    let inflated = std::rc::Rc::new(std::cell::Cell::new(0u64));
    let stream = Counted {
        inner: flate2::read::GzDecoder::new(bytes).take(limit + 1),
        count: inflated.clone(),
    };
    let too_large =
        || UploadError::TooLarge(format!("the archive inflates to more than {limit} bytes"));
    let result = read_tar(tar::Archive::new(stream), out);
    if inflated.get() > limit {
        return Err(too_large());
    }
    result
}

fn read_tar(mut archive: tar::Archive<impl Read>, out: &mut Collector) -> Result<(), UploadError> {
    let corrupt = |e: std::io::Error| UploadError::Corrupt(e.to_string());
    for entry in archive.entries().map_err(corrupt)? {
        let entry = entry.map_err(corrupt)?;
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

/// A reader that counts the bytes read through it.
struct Counted<R> {
    inner: R,
    count: std::rc::Rc<std::cell::Cell<u64>>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
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
        assert_eq!(e, UploadError::TooManyEntries(MAX_ENTRIES));
    }

    const SMALL: Limits = Limits {
        entries: 4,
        files: 3,
        unpacked_bytes: 10,
        stream_bytes: 1 << 20,
    };

    #[test]
    fn each_limit_admits_its_bound_and_refuses_one_more() {
        // Entries, skipped ones counted.
        let at = [
            (".git/a", &b""[..]),
            (".git/b", b""),
            (".git/c", b""),
            ("a.py", b"1"),
        ];
        assert_eq!(unpack_within(&tar_gz(&at), SMALL).unwrap().files.len(), 1);
        let over = [&at[..], &[(".git/d", &b""[..])]].concat();
        let e = unpack_within(&tar_gz(&over), SMALL).unwrap_err();
        assert_eq!(e, UploadError::TooManyEntries(4));
        // Files kept.
        let files = [("a", &b"1"[..]), ("b", b"2"), ("c", b"3")];
        assert_eq!(
            unpack_within(&zip_of(&files), SMALL).unwrap().files.len(),
            3
        );
        let e = unpack_within(&zip_of(&[&files[..], &[("d", &b"4"[..])]].concat()), SMALL);
        assert_eq!(e.unwrap_err().code(), "ARCHIVE_TOO_LARGE");
        // Bytes of content, in either format.
        let ten = [("a", &b"12345"[..]), ("b", b"67890")];
        let eleven = [("a", &b"12345"[..]), ("b", b"678901")];
        for (fits, over) in [
            (tar_gz(&ten), tar_gz(&eleven)),
            (zip_of(&ten), zip_of(&eleven)),
        ] {
            assert_eq!(unpack_within(&fits, SMALL).unwrap().files.len(), 2);
            assert_eq!(
                unpack_within(&over, SMALL).unwrap_err().code(),
                "ARCHIVE_TOO_LARGE"
            );
        }
    }

    #[test]
    fn a_tar_inflating_past_the_stream_limit_is_refused_though_its_bulk_is_skipped() {
        let bulk = vec![0u8; 64 << 10];
        let bytes = tar_gz(&[("node_modules/big.bin", &bulk), ("a.py", b"1")]);
        let inflated = {
            let mut all = vec![];
            flate2::read::GzDecoder::new(&bytes[..])
                .read_to_end(&mut all)
                .unwrap();
            all.len() as u64
        };
        let exact = Limits {
            stream_bytes: inflated,
            ..LIMITS
        };
        assert_eq!(unpack_within(&bytes, exact).unwrap().files.len(), 1);
        // The reader stops after the first of the two end blocks: a limit
        // of exactly what it reads is a fit too.
        let read = Limits {
            stream_bytes: inflated - 512,
            ..LIMITS
        };
        assert_eq!(unpack_within(&bytes, read).unwrap().files.len(), 1);
        // Cut at the end of the last entry (where the end-of-archive
        // blocks begin), inside it, and inside the bulk: each is refused,
        // none passes for a shorter archive. (The reader stops at the
        // first of the two zero blocks that end an archive, so a cut in
        // the second loses nothing.)
        for cut in [1024, 1025, 2048, 32 << 10] {
            let short = Limits {
                stream_bytes: inflated - cut,
                ..LIMITS
            };
            let e = unpack_within(&bytes, short).unwrap_err();
            assert_eq!(e.code(), "ARCHIVE_TOO_LARGE", "cut {cut}: {e}");
        }
    }

    #[test]
    fn a_tar_with_a_broken_header_is_invalid_not_too_large() {
        let gz = flate2::write::GzEncoder::new(vec![], flate2::Compression::fast());
        let mut tar = tar::Builder::new(gz);
        let mut header = tar::Header::new_gnu();
        header.set_size(1);
        tar.append_data(&mut header, "a.py", &b"1"[..]).unwrap();
        let mut raw = tar.into_inner().unwrap().finish().unwrap();
        // Re-compress with the header's checksum field corrupted.
        let mut plain = vec![];
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut plain)
            .unwrap();
        plain[148..156].copy_from_slice(b"0000000\0");
        let mut gz = flate2::write::GzEncoder::new(vec![], flate2::Compression::fast());
        gz.write_all(&plain).unwrap();
        raw = gz.finish().unwrap();
        assert_eq!(unpack(&raw).unwrap_err().code(), "INVALID_ARCHIVE");
    }

    #[test]
    fn directory_entries_are_neither_files_nor_counted_as_skipped() {
        let mut zip = zip::ZipWriter::new(Cursor::new(vec![]));
        let options = zip::write::SimpleFileOptions::default();
        zip.add_directory("src/", options).unwrap();
        zip.start_file("src/a.py", options).unwrap();
        zip.write_all(b"1").unwrap();
        zip.add_symlink("src/link", "/etc/passwd", options).unwrap();
        let u = unpack(&zip.finish().unwrap().into_inner()).unwrap();
        assert_eq!(paths(&u), ["src/a.py"]);
        assert_eq!(u.skipped, 1, "the link, not the directory");

        let gz = flate2::write::GzEncoder::new(vec![], flate2::Compression::fast());
        let mut tar = tar::Builder::new(gz);
        let mut dir = tar::Header::new_gnu();
        dir.set_entry_type(tar::EntryType::Directory);
        dir.set_size(0);
        // A directory named without its trailing slash.
        tar.append_data(&mut dir, "src", std::io::empty()).unwrap();
        let mut file = tar::Header::new_gnu();
        file.set_size(1);
        tar.append_data(&mut file, "src/a.py", &b"1"[..]).unwrap();
        let u = unpack(&tar.into_inner().unwrap().finish().unwrap()).unwrap();
        assert_eq!(paths(&u), ["src/a.py"]);
        assert_eq!(u.skipped, 0);
    }
}
