//! The database file under the server's feet. SQLite keeps writing through
//! the descriptors it has open whatever happens to the path: a file made
//! read-only (`chmod a-w`, `chattr +i`, a read-only remount) would go on
//! taking commits into its WAL, and a file moved or removed would take them
//! into an inode nobody will ever open again. The guard looks at the path
//! before a pooled connection is handed out and, while the file is not the
//! writable file the server opened, makes every connection query-only:
//! writes fail with `SQLITE_READONLY` (answered `503 STORE_UNAVAILABLE`),
//! reads go on. Once the file is back and writable the same connections
//! write again, without a restart.
//!
//! A *different* file at the path (a restored backup, a copy) is not taken
//! up by a running server: its connections, and its WAL, belong to the old
//! inode, and mixing the two corrupts both. Writes stay refused and the
//! operator restarts the server to open the new file.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

/// How long one look at the path stands for: the guard costs two system
/// calls per this interval, not per query.
pub const RECHECK: Duration = Duration::from_millis(200);

/// What the guard last saw at the database path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FileState {
    /// The file the server opened, writable by it.
    Writable,
    /// The file the server opened, but the server may not write it: its
    /// mode, an immutable flag or a read-only file system.
    ReadOnly,
    /// Nothing at the path: moved away or removed.
    Removed,
    /// Another file at the path than the one the server opened.
    Replaced,
}

impl FileState {
    const ALL: [Self; 4] = [
        Self::Writable,
        Self::ReadOnly,
        Self::Removed,
        Self::Replaced,
    ];

    fn from_u8(n: u8) -> Self {
        Self::ALL[usize::from(n)]
    }

    fn as_u8(self) -> u8 {
        self as u8
    }

    /// What an operator reads in the log when the file enters this state.
    fn explanation(self) -> &'static str {
        match self {
            Self::Writable => "the database file is writable again: writes resume",
            Self::ReadOnly => {
                "the database file is read-only: writes are refused until it is writable"
            }
            Self::Removed => {
                "the database file was moved or removed: writes are refused until it is back"
            }
            Self::Replaced => {
                "another file took the database file's place: writes are refused; restart the server to open it"
            }
        }
    }
}

/// The identity of the file the server opened, and what the path shows now.
#[derive(Debug)]
pub struct FileGuard {
    path: PathBuf,
    opened: (u64, u64),
    started: Instant,
    state: AtomicU8,
    /// Milliseconds after `started` of the last look.
    looked: AtomicU64,
    /// Whether any state but `Writable` was ever seen: until then,
    /// connections are handed out untouched.
    ever_degraded: AtomicBool,
}

impl FileGuard {
    /// Guards the file now at `path`, writable as the server just opened
    /// it.
    pub fn new(path: &Path) -> std::io::Result<Self> {
        let meta = std::fs::metadata(path)?;
        Ok(Self {
            path: path.to_owned(),
            opened: (meta.dev(), meta.ino()),
            started: Instant::now(),
            state: AtomicU8::new(FileState::Writable.as_u8()),
            looked: AtomicU64::new(0),
            ever_degraded: AtomicBool::new(false),
        })
    }

    /// The state of the file, looked at again when the last look is older
    /// than [`RECHECK`].
    pub fn state(&self) -> FileState {
        self.state_at(self.millis())
    }

    /// [`FileGuard::state`] at `now`, milliseconds after the guard began.
    fn state_at(&self, now: u64) -> FileState {
        let since = now.saturating_sub(self.looked.load(Ordering::Acquire));
        if since < RECHECK.as_millis() as u64 {
            return FileState::from_u8(self.state.load(Ordering::Acquire));
        }
        self.look_at(now)
    }

    /// Looks at the path now, whatever the last look saw.
    #[cfg(test)]
    fn look(&self) -> FileState {
        self.look_at(self.millis())
    }

    fn look_at(&self, now: u64) -> FileState {
        let seen = self.observe();
        self.looked.store(now, Ordering::Release);
        let before = FileState::from_u8(self.state.swap(seen.as_u8(), Ordering::AcqRel));
        if seen != FileState::Writable {
            self.ever_degraded.store(true, Ordering::Release);
        }
        if before != seen {
            let path = self.path.display();
            if seen == FileState::Writable {
                tracing::warn!(%path, "{}", seen.explanation());
            } else {
                tracing::error!(%path, state = ?seen, "{}", seen.explanation());
            }
        }
        seen
    }

    /// Whether connections must be told the state: false until the file
    /// was once seen not writable, so a healthy server pays nothing more.
    pub fn ever_degraded(&self) -> bool {
        self.ever_degraded.load(Ordering::Acquire)
    }

    fn observe(&self) -> FileState {
        // Not found, or the path cannot be looked at (a directory made
        // unreadable): nothing says the file is still the one the server
        // writes.
        let Ok(meta) = std::fs::metadata(&self.path) else {
            return FileState::Removed;
        };
        if (meta.dev(), meta.ino()) != self.opened {
            return FileState::Replaced;
        }
        match rustix::fs::access(&self.path, rustix::fs::Access::WRITE_OK) {
            Ok(()) => FileState::Writable,
            Err(_) => FileState::ReadOnly,
        }
    }

    fn millis(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }
}

/// Hooks of the connection pool.
impl FileGuard {
    /// A new connection: refused when another file took the path (it would
    /// read that file while the others read the old one), query-only while
    /// the file may not be written.
    pub(super) async fn on_connect(&self, conn: &mut super::Conn) -> Result<(), sqlx::Error> {
        match self.state() {
            FileState::Writable => Ok(()),
            FileState::Replaced => Err(sqlx::Error::Io(std::io::Error::other(
                FileState::Replaced.explanation(),
            ))),
            FileState::ReadOnly | FileState::Removed => query_only(conn, true).await,
        }
    }

    /// A pooled connection about to be handed out: told whether it may
    /// write, once the file was ever seen not writable.
    pub(super) async fn on_acquire(&self, conn: &mut super::Conn) -> Result<(), sqlx::Error> {
        let state = self.state();
        if self.ever_degraded() {
            query_only(conn, state != FileState::Writable).await?;
        }
        Ok(())
    }
}

async fn query_only(conn: &mut super::Conn, on: bool) -> Result<(), sqlx::Error> {
    let pragma = if on {
        "PRAGMA query_only = ON"
    } else {
        "PRAGMA query_only = OFF"
    };
    sqlx::query(pragma).execute(conn).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guard_tells_a_moved_replaced_or_returned_file_apart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("qlp.db");
        std::fs::write(&path, b"db").unwrap();
        let guard = FileGuard::new(&path).unwrap();
        assert_eq!(guard.state(), FileState::Writable);
        assert!(!guard.ever_degraded());

        let away = dir.path().join("away.db");
        std::fs::rename(&path, &away).unwrap();
        assert_eq!(guard.look(), FileState::Removed);
        assert!(guard.ever_degraded());

        std::fs::write(&path, b"db").unwrap();
        assert_eq!(guard.look(), FileState::Replaced);

        std::fs::rename(&away, &path).unwrap();
        assert_eq!(guard.look(), FileState::Writable);
        assert!(guard.ever_degraded(), "once degraded, connections are told");
    }

    #[test]
    fn the_log_tells_an_operator_what_each_state_asks_of_them() {
        let says = |state: FileState, what: &str| {
            assert!(state.explanation().contains(what), "{state:?}: {what}");
        };
        says(FileState::Writable, "writes resume");
        says(FileState::ReadOnly, "until it is writable");
        says(FileState::Removed, "until it is back");
        says(FileState::Replaced, "restart the server");
    }

    async fn insert(conn: &mut crate::store::Conn) -> Result<(), sqlx::Error> {
        sqlx::query("INSERT INTO t VALUES (1)")
            .execute(conn)
            .await
            .map(|_| ())
    }

    #[tokio::test]
    async fn connections_are_query_only_while_the_file_is_away_and_refused_once_replaced() {
        use sqlx::{ConnectOptions, Connection};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("qlp.db");
        sqlx::any::install_default_drivers();
        let url = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .to_url_lossy();
        let mut conn = crate::store::Conn::connect(url.as_str()).await.unwrap();
        sqlx::query("CREATE TABLE t (x)")
            .execute(&mut conn)
            .await
            .unwrap();
        let guard = FileGuard::new(&path).unwrap();
        guard.on_connect(&mut conn).await.unwrap();
        guard.on_acquire(&mut conn).await.unwrap();
        insert(&mut conn).await.unwrap();

        let away = dir.path().join("away.db");
        std::fs::rename(&path, &away).unwrap();
        assert_eq!(guard.look(), FileState::Removed);
        guard.on_connect(&mut conn).await.unwrap();
        let refused = insert(&mut conn).await.unwrap_err();
        assert!(refused.to_string().contains("readonly"), "{refused}");

        std::fs::rename(&away, &path).unwrap();
        assert_eq!(guard.look(), FileState::Writable);
        guard.on_acquire(&mut conn).await.unwrap();
        insert(&mut conn).await.unwrap();

        std::fs::rename(&path, &away).unwrap();
        assert_eq!(guard.look(), FileState::Removed);
        guard.on_acquire(&mut conn).await.unwrap();
        assert!(insert(&mut conn).await.is_err(), "query-only once acquired");

        std::fs::copy(&away, &path).unwrap();
        assert_eq!(guard.look(), FileState::Replaced);
        let refused = guard.on_connect(&mut conn).await.unwrap_err();
        assert!(refused.to_string().contains("restart"), "{refused}");
    }

    #[test]
    fn a_look_stands_for_the_recheck_interval_then_the_path_is_looked_at_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("qlp.db");
        std::fs::write(&path, b"db").unwrap();
        let guard = FileGuard::new(&path).unwrap();
        let recheck = RECHECK.as_millis() as u64;
        assert_eq!(guard.look_at(1000), FileState::Writable);
        std::fs::remove_file(&path).unwrap();
        assert_eq!(
            guard.state_at(1000 + recheck - 1),
            FileState::Writable,
            "within the interval"
        );
        assert_eq!(
            guard.state_at(1000 + recheck),
            FileState::Removed,
            "after it"
        );
    }

    #[test]
    fn a_file_the_server_may_not_write_is_read_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("qlp.db");
        std::fs::write(&path, b"db").unwrap();
        let guard = FileGuard::new(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
        if guard.look() == FileState::Writable {
            // Modes do not bind root; an immutable file does, where the
            // file system has the flag (the e2e test mounts a tmpfs for it).
            let chattr = |flag| {
                std::process::Command::new("chattr")
                    .arg(flag)
                    .arg(&path)
                    .status()
                    .is_ok_and(|s| s.success())
            };
            if chattr("+i") {
                let seen = guard.look();
                assert!(chattr("-i"));
                assert_eq!(seen, FileState::ReadOnly);
            } else {
                eprintln!("no immutable flag on {}: mode checked only", path.display());
            }
        } else {
            assert_eq!(guard.look(), FileState::ReadOnly);
        }
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(guard.look(), FileState::Writable);
    }
}
