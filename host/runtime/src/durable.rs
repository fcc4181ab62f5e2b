//! Writes that survive a crash or a power loss: a file is written under a
//! temporary name, synced, and renamed over its final name, and the
//! directory holding it is synced, so a reader (or the database row that
//! names the file) never finds half a file or none where one was.
//!
//! Used for capsules (`capsule`) and compiled components
//! (`runtime::cache`); the delivery workspace does the same through its
//! capability handle (`runtime::host_api`).

use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` and syncs it, without making it durable in
/// its directory yet (see [`sync_dir`]).
pub fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_synced_mode(path, bytes, 0o666)
}

/// [`write_synced`], creating the file with `mode` (less the umask).
fn write_synced_mode(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Syncs a directory, so the entries created, renamed or removed in it
/// survive a power loss.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// Swaps two directory entries in one step (Linux `renameat2` with
/// `RENAME_EXCHANGE`): each name always names one of the two.
pub fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).map_err(std::io::Error::from)
}

/// Replaces `path` with `bytes` atomically and durably: through a
/// temporary sibling, removed again if anything fails.
pub fn replace_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    replace_file_mode(path, bytes, 0o666)
}

/// [`replace_file`] for a secret: readable and writable by the owner only,
/// from its first byte.
pub fn replace_secret_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    replace_file_mode(path, bytes, 0o600)
}

fn replace_file_mode(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    // A leftover of an interrupted write may have another mode.
    let _ = std::fs::remove_file(&tmp);
    let result = write_synced_mode(&tmp, bytes, mode).and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result?;
    match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(dir) => sync_dir(dir),
        None => sync_dir(Path::new(".")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exchange_swaps_two_directories() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::create_dir(&a).unwrap();
        std::fs::create_dir(&b).unwrap();
        std::fs::write(a.join("from-a"), b"").unwrap();
        std::fs::write(b.join("from-b"), b"").unwrap();
        exchange(&a, &b).unwrap();
        assert!(a.join("from-b").exists() && b.join("from-a").exists());
    }

    #[test]
    fn replace_file_leaves_the_new_content_and_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.bin");
        std::fs::write(&path, b"old").unwrap();
        replace_file(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["a.bin"]);
    }

    #[test]
    fn a_failed_replace_keeps_the_old_file_and_removes_the_temporary_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.bin");
        std::fs::write(&path, b"old").unwrap();
        // A directory in the way of the rename.
        let blocked = dir.path().join("blocked");
        std::fs::create_dir(&blocked).unwrap();
        std::fs::write(blocked.join("inside"), b"x").unwrap();
        assert!(replace_file(&blocked, b"new").is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert!(names.iter().all(|n| !n.contains(".tmp-")), "{names:?}");
    }
}
