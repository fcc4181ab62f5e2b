//! Reproducible gzipped tar archives: the same entries always give the
//! same bytes, whenever and wherever they are written. `qlp/tar-gz` writes
//! a capsule's files with it, `qlp/kubernetes` and `qlp/helm` the files
//! they generate. Behind the SDK's `tar-gz` feature, so that only the
//! plugins which write one link `tar` and `flate2`.
//!
//! Everything that is not the content is fixed: entries are sorted by path
//! (byte order); every entry is a regular file with the permissions
//! [`FILE_MODE`], owner and group [`OWNER_ID`] with no user or group names,
//! and the modification time the exporter picks ([`TarGz::mtime`]); the
//! gzip header carries no file name, no comment, time 0 and the "unknown"
//! operating system, and deflate runs at one level ([`TarGz::level`]). No
//! directory entries are written, so extracting tools create directories
//! as they would for any new directory.
//!
//! A path longer than the 100 bytes a header's name field holds is written
//! in full in a GNU long-name (`././@LongLink`) entry just before its file
//! (a [`HeaderFormat::Ustar`] header first tries its prefix field), which
//! GNU tar, bsdtar, Python's `tarfile` and the `tar` crate all read.
//!
//! Paths are written as given: check capsule paths first with
//! [`super::sorted_entries`].

use flate2::{Compression, GzBuilder};
use tar::{EntryType, Header};

use super::archive_error;
use crate::PluginError;

/// Unix permissions of every entry: owner read-write, everyone read. Fixed
/// so the archive does not depend on how its files were produced, and
/// without execute bits, which a generated file should not get implicitly.
pub const FILE_MODE: u32 = 0o644;

/// Owner and group id of every entry: 0, with empty user and group names,
/// as `tar --owner=0 --group=0 --numeric-owner` writes. Extracting as an
/// ordinary user gives the files to that user.
pub const OWNER_ID: u64 = 0;

/// Deflate level of the common default of gzip and zlib, a good size/speed
/// balance.
pub const DEFAULT_LEVEL: u32 = 6;

/// Highest deflate level gzip knows; `0` stores without compressing.
pub const MAX_LEVEL: u32 = 9;

/// The gzip header's value for "operating system unknown": the archive
/// does not say where it was made.
const UNKNOWN_OS: u8 = 255;

/// The tar header format of every entry. Both read everywhere; they differ
/// in the header's magic bytes, so an exporter keeps the one it started
/// with to keep its archives' bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderFormat {
    /// GNU tar headers.
    Gnu,
    /// POSIX ustar headers.
    Ustar,
}

/// How an exporter writes its archives: what is fixed for it, beyond what
/// is fixed for all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TarGz {
    /// Header format of every entry.
    pub format: HeaderFormat,
    /// Modification time of every entry, in seconds since the Unix epoch.
    pub mtime: u64,
    /// Deflate level, 0 to [`MAX_LEVEL`]; higher values count as
    /// [`MAX_LEVEL`].
    pub level: u32,
}

impl TarGz {
    /// The gzipped tar archive of the entries, each a path and its content,
    /// in path order whatever order they come in.
    pub fn write<'a>(
        &self,
        entries: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    ) -> Result<Vec<u8>, PluginError> {
        let mut entries: Vec<(&str, &[u8])> = entries.into_iter().collect();
        entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        let gzip = GzBuilder::new()
            .mtime(0)
            .operating_system(UNKNOWN_OS)
            .write(Vec::new(), Compression::new(self.level.min(MAX_LEVEL)));
        let mut builder = tar::Builder::new(gzip);
        for (path, content) in entries {
            let mut header = match self.format {
                HeaderFormat::Gnu => Header::new_gnu(),
                HeaderFormat::Ustar => Header::new_ustar(),
            };
            header.set_entry_type(EntryType::Regular);
            header.set_size(content.len() as u64);
            header.set_mode(FILE_MODE);
            header.set_uid(OWNER_ID);
            header.set_gid(OWNER_ID);
            header.set_mtime(self.mtime);
            // Sets the path (through a GNU long-name entry when it is
            // longer than the header holds) and the checksum.
            builder
                .append_data(&mut header, path, content)
                .map_err(|e| archive_error(path, e))?;
        }
        let gzip = builder
            .into_inner()
            .map_err(|e| archive_error("the end of the archive", e))?;
        gzip.finish()
            .map_err(|e| archive_error("the gzip trailer", e))
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    const GNU: TarGz = TarGz {
        format: HeaderFormat::Gnu,
        mtime: 0,
        level: DEFAULT_LEVEL,
    };

    fn long_path() -> String {
        format!("{}/end.txt", "directory".repeat(15))
    }

    /// Path, content, mode, owner, group and time of every entry, in
    /// archive order.
    fn read_back(bytes: &[u8]) -> Vec<(String, Vec<u8>, u32, u64, u64, u64)> {
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
        archive
            .entries()
            .expect("a tar archive")
            .map(|entry| {
                let mut entry = entry.expect("an entry");
                let header = entry.header().clone();
                assert_eq!(header.entry_type(), EntryType::Regular);
                let mut content = Vec::new();
                entry.read_to_end(&mut content).expect("the content");
                (
                    entry.path().expect("a path").display().to_string(),
                    content,
                    header.mode().expect("a mode"),
                    header.uid().expect("a uid"),
                    header.gid().expect("a gid"),
                    header.mtime().expect("a time"),
                )
            })
            .collect()
    }

    #[test]
    fn entries_are_sorted_with_fixed_metadata_and_full_long_paths() {
        let long = long_path();
        assert!(long.len() > 100);
        let entries = [
            ("b", &b"2"[..]),
            (long.as_str(), b"deep"),
            ("a/z", b""),
            ("B", b"1"),
        ];
        for format in [HeaderFormat::Gnu, HeaderFormat::Ustar] {
            let writer = TarGz {
                format,
                mtime: 315_532_800,
                level: MAX_LEVEL + 1,
            };
            let read = read_back(&writer.write(entries).expect("an archive"));
            let paths: Vec<&str> = read.iter().map(|e| e.0.as_str()).collect();
            assert_eq!(paths, ["B", "a/z", "b", long.as_str()], "{format:?}");
            for (path, content, mode, uid, gid, mtime) in &read {
                let given = entries.iter().find(|e| e.0 == path).expect("given");
                assert_eq!(content.as_slice(), given.1, "{path}");
                assert_eq!((*mode, *uid, *gid), (FILE_MODE, OWNER_ID, OWNER_ID));
                assert_eq!(*mtime, 315_532_800, "{path}");
            }
        }
    }

    #[test]
    fn the_same_entries_give_the_same_bytes_in_any_order() {
        let long = long_path();
        let entries = [("x", &b"1"[..]), (long.as_str(), b"2"), ("a", b"3")];
        let mut reversed = entries;
        reversed.reverse();
        let first = GNU.write(entries).expect("an archive");
        assert_eq!(first, GNU.write(reversed).expect("an archive"));
        let ustar = TarGz {
            format: HeaderFormat::Ustar,
            ..GNU
        };
        assert_ne!(first, ustar.write(entries).expect("an archive"));
    }

    #[test]
    fn the_gzip_header_carries_no_name_and_no_time() {
        let bytes = GNU.write([("a", &b"a"[..])]).expect("an archive");
        assert_eq!(bytes[..3], [0x1f, 0x8b, 8], "gzip, deflate");
        assert_eq!(bytes[3], 0, "no name, comment or extra field");
        assert_eq!(bytes[4..8], [0, 0, 0, 0], "no modification time");
        assert_eq!(bytes[9], UNKNOWN_OS);
    }
}
