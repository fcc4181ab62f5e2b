//! The host side of the contract's imported interfaces: `host` (log and
//! config, for every plugin), `http`, `llm` and `workspace` (a granted
//! directory, for delivery adapters). Each capability is written once, on
//! [`State`], with a typed [`HostError`]; 0.1.0 gets the error's message,
//! 0.2.0 (`v0_2`, with `secrets`, `remaining-time` and the `capsule`
//! resource) the variant. Each call's state lives in [`State`].

mod v0_2;

use std::collections::BTreeMap;
use std::sync::Arc;

use super::bindings::llm::qlp::llm::chat;
use super::bindings::{LogLevel, agent, delivery};
use super::host_error::HostError;
use super::limits::{Limiter, MAX_LOG_LINES_PER_CALL, MAX_LOG_MESSAGE_BYTES};
use super::llm;
use super::text::{mask, sanitize};
use super::wasi::{HasWasi, Wasi};

/// The store data of one call.
pub struct State {
    pub plugin: Arc<str>,
    /// The operator's configuration for this plugin, without secrets.
    pub config: Arc<BTreeMap<String, String>>,
    /// The secrets the plugin declared and the operator granted, by key.
    pub secrets: Arc<BTreeMap<String, String>>,
    /// Their values, masked in the plugin's log lines.
    pub secret_values: Arc<Vec<String>>,
    pub limiter: Limiter,
    pub log_lines: u32,
    pub logs_dropped: u32,
    /// The directory granted to a delivery adapter, if any.
    pub workspace: Option<Workspace>,
    /// The hosts this plugin may reach over HTTP, if any.
    pub http: Option<Arc<super::http::Grant>>,
    pub http_requests: u32,
    /// When the call's deadline passes; host calls that block (HTTP) give
    /// up then too, since epoch interruption only stops wasm code.
    pub deadline: std::time::Instant,
    /// Set when the call stopped because its intent was cancelled.
    pub cancelled: bool,
    /// WASI for components built for wasm32-wasip2, made on first use.
    pub wasi: Option<Box<Wasi>>,
    /// The model endpoint, when granted, and what the call spent on it.
    pub llm: Option<llm::Grant>,
    pub llm_spent: llm::Spent,
    /// Host resources handed to a 0.2 plugin: the capsule of its call.
    pub table: wasmtime::component::ResourceTable,
    /// Bytes of the capsule's files read so far, against `max_input`.
    pub capsule_read: usize,
    pub max_input: usize,
}

impl HasWasi for State {
    fn wasi(&mut self) -> &mut Wasi {
        let deadline = self.deadline;
        self.wasi
            .get_or_insert_with(|| Box::new(Wasi::new(deadline)))
    }
}

/// A directory granted to a plugin, opened with cap-std: no path outside it
/// is reachable through it, whatever the plugin asks.
pub struct Workspace {
    pub dir: cap_std::fs::Dir,
    /// Whether the operator granted writing, and the plugin asked for it.
    pub writable: bool,
}

impl agent::qlp::plugin::types::Host for State {}

impl agent::qlp::plugin::host::Host for State {
    fn log(&mut self, level: LogLevel, message: String, fields: Vec<(String, String)>) {
        self.log_line(level, &message, &fields);
    }

    /// 0.1.0 reads secrets through `config`.
    fn config(&mut self, key: String) -> Option<String> {
        self.config
            .get(&key)
            .or_else(|| self.secrets.get(&key))
            .cloned()
    }
}

impl State {
    /// One of the plugin's log lines into the server's log: capped in
    /// number, stripped of control characters, secrets masked.
    fn log_line(&mut self, level: LogLevel, message: &str, fields: &[(String, String)]) {
        if self.log_lines >= MAX_LOG_LINES_PER_CALL {
            self.logs_dropped += 1;
            return;
        }
        self.log_lines += 1;
        let secrets = &self.secret_values;
        let message = sanitize(&mask(message, secrets), MAX_LOG_MESSAGE_BYTES);
        let fields: Vec<String> = fields
            .iter()
            .take(16)
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    sanitize(&mask(k, secrets), 64),
                    sanitize(&mask(v, secrets), 256)
                )
            })
            .collect();
        let fields = fields.join(" ");
        let plugin = &*self.plugin;
        match level {
            LogLevel::Trace => tracing::trace!(target: "qlp::plugin", plugin, fields, "{message}"),
            LogLevel::Debug => tracing::debug!(target: "qlp::plugin", plugin, fields, "{message}"),
            LogLevel::Info => tracing::info!(target: "qlp::plugin", plugin, fields, "{message}"),
            LogLevel::Warn => tracing::warn!(target: "qlp::plugin", plugin, fields, "{message}"),
            LogLevel::Error => tracing::error!(target: "qlp::plugin", plugin, fields, "{message}"),
        }
    }

    /// One outbound request, if the grant allows it and the call has
    /// requests left.
    fn http_fetch(
        &mut self,
        request: super::http::Request,
    ) -> Result<super::http::Response, HostError> {
        use super::http;
        let Some(grant) = self.http.clone() else {
            return Err(HostError::NotGranted(
                "capability not granted: no HTTP destination was granted to this plugin".into(),
            ));
        };
        if self.http_requests >= http::MAX_REQUESTS_PER_CALL {
            return Err(HostError::LimitExceeded(format!(
                "over {} HTTP requests in one call",
                http::MAX_REQUESTS_PER_CALL
            )));
        }
        self.http_requests += 1;
        let url = sanitize(&request.url, 256);
        let result = http::fetch(&grant, request, self.deadline);
        match &result {
            Ok(r) => {
                tracing::info!(target: "qlp::plugin", plugin = &*self.plugin, %url, status = r.status, "http request")
            }
            Err(e) => {
                tracing::warn!(target: "qlp::plugin", plugin = &*self.plugin, %url, error = %e, "http request refused or failed")
            }
        }
        result
    }
}

impl agent::qlp::plugin::http::Host for State {
    fn fetch(
        &mut self,
        request: agent::qlp::plugin::http::Request,
    ) -> Result<agent::qlp::plugin::http::Response, String> {
        let request = super::http::Request {
            method: request.method,
            url: request.url,
            headers: request.headers,
            body: request.body,
        };
        self.http_fetch(request)
            .map(|r| agent::qlp::plugin::http::Response {
                status: r.status,
                headers: r.headers,
                body: r.body,
            })
            .map_err(String::from)
    }
}

impl chat::Host for State {
    fn complete(
        &mut self,
        messages: Vec<chat::Message>,
        options: chat::Options,
    ) -> Result<chat::Completion, chat::Error> {
        let Some(grant) = self.llm.clone() else {
            return Err(chat::Error::NotGranted(
                "no model endpoint was granted to this plugin".into(),
            ));
        };
        let result = llm::complete(
            &grant,
            messages,
            options,
            self.deadline,
            &mut self.llm_spent,
        );
        match &result {
            Ok(c) => tracing::info!(
                target: "qlp::plugin",
                plugin = &*self.plugin,
                model = %c.model,
                prompt_tokens = c.usage.prompt_tokens,
                completion_tokens = c.usage.completion_tokens,
                "model completion"
            ),
            Err(e) => {
                tracing::warn!(target: "qlp::plugin", plugin = &*self.plugin, error = ?e, "model completion refused or failed")
            }
        }
        result
    }
}

/// Largest file a delivery adapter may read back through the workspace.
pub const MAX_WORKSPACE_READ: u64 = 64 << 20;

impl State {
    fn workspace(&self) -> Result<&cap_std::fs::Dir, HostError> {
        self.workspace.as_ref().map(|w| &w.dir).ok_or_else(|| {
            HostError::NotGranted(
                "capability not granted: no directory was granted to this plugin".to_owned(),
            )
        })
    }

    fn writable_workspace(&self) -> Result<&cap_std::fs::Dir, HostError> {
        match &self.workspace {
            Some(w) if w.writable => Ok(&w.dir),
            Some(_) => Err(HostError::NotGranted(
                "capability not granted: the directory was granted read-only".to_owned(),
            )),
            None => self.workspace(),
        }
    }
}

/// Checks a guest-supplied relative path before handing it to cap-std, which
/// also refuses escapes; this gives the plugin a clear message.
fn relative_path(path: &str) -> Result<&std::path::Path, HostError> {
    let p = std::path::Path::new(path);
    if path.is_empty() || path.contains('\0') || path.contains('\\') || p.is_absolute() {
        return Err(HostError::InvalidInput(format!(
            "path `{}` is not a relative path",
            sanitize(path, 256)
        )));
    }
    if path
        .split('/')
        .any(|c| c.is_empty() || c == "." || c == "..")
    {
        return Err(HostError::InvalidInput(format!(
            "path `{}` may not contain empty, `.` or `..` components",
            sanitize(path, 256)
        )));
    }
    Ok(p)
}

/// A failed file operation: a path that is not there is the plugin's
/// mistake, anything else the host's.
fn io_error(what: String, e: std::io::Error) -> HostError {
    let message = format!("{what}: {e}");
    if e.kind() == std::io::ErrorKind::NotFound {
        HostError::InvalidInput(message)
    } else {
        HostError::Unavailable(message)
    }
}

impl delivery::qlp::plugin::workspace::Host for State {
    fn write_file(&mut self, path: String, contents: Vec<u8>) -> Result<(), String> {
        self.workspace_write(path, contents).map_err(String::from)
    }

    fn read_file(&mut self, path: String) -> Result<Vec<u8>, String> {
        self.workspace_read(path).map_err(String::from)
    }

    fn exists(&mut self, path: String) -> Result<bool, String> {
        self.workspace_exists(path).map_err(String::from)
    }
}

impl State {
    /// Writes through a temporary file renamed into place: a reader never
    /// sees half a file, and an existing hard link to a file elsewhere is
    /// replaced rather than written through. A symbolic link is refused
    /// rather than followed or replaced.
    fn workspace_write(&mut self, path: String, contents: Vec<u8>) -> Result<(), HostError> {
        let dir = self.writable_workspace()?;
        let rel = relative_path(&path)?;
        if dir
            .symlink_metadata(rel)
            .is_ok_and(|m| m.file_type().is_symlink())
        {
            return Err(HostError::InvalidInput(format!(
                "cannot write `{path}`: it is a symbolic link"
            )));
        }
        if let Some(parent) = rel.parent().filter(|p| !p.as_os_str().is_empty()) {
            dir.create_dir_all(parent)
                .map_err(|e| io_error(format!("cannot create `{}`", parent.display()), e))?;
        }
        let name = rel.file_name().and_then(|n| n.to_str()).unwrap_or("file");
        // One temporary name per file, not per process: a write that a
        // crash cut short leaves it behind, and the retry of the same
        // delivery (which resumes after any crash) clears it instead of
        // leaving a second one beside the file.
        let tmp = rel.with_file_name(format!(".{name}.qlp-tmp"));
        // Synced before the rename and the directory after it: a delivery
        // the host records as done survives a power loss.
        let parent = rel.parent().filter(|p| !p.as_os_str().is_empty());
        match dir.remove_file(&tmp) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(io_error(format!("cannot write `{path}`"), e));
            }
            _ => {}
        }
        let mut create = cap_std::fs::OpenOptions::new();
        create.write(true).create_new(true);
        dir.open_with(&tmp, &create)
            .and_then(|mut file| {
                std::io::Write::write_all(&mut file, &contents)?;
                file.sync_all()
            })
            .and_then(|()| dir.rename(&tmp, dir, rel))
            .and_then(|()| {
                // Opened for reading: a directory handle kept for lookups
                // (O_PATH) cannot be synced.
                dir.open(parent.unwrap_or(std::path::Path::new(".")))?
                    .sync_all()
            })
            .map_err(|e| {
                let _ = dir.remove_file(&tmp);
                io_error(format!("cannot write `{path}`"), e)
            })
    }

    fn workspace_read(&mut self, path: String) -> Result<Vec<u8>, HostError> {
        let dir = self.workspace()?;
        let rel = relative_path(&path)?;
        let meta = dir
            .metadata(rel)
            .map_err(|e| io_error(format!("cannot read `{path}`"), e))?;
        if meta.len() > MAX_WORKSPACE_READ {
            return Err(HostError::LimitExceeded(format!(
                "`{path}` is larger than {MAX_WORKSPACE_READ} bytes"
            )));
        }
        dir.read(rel)
            .map_err(|e| io_error(format!("cannot read `{path}`"), e))
    }

    fn workspace_exists(&mut self, path: String) -> Result<bool, HostError> {
        let dir = self.workspace()?;
        let rel = relative_path(&path)?;
        Ok(dir.exists(rel))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_path_refuses_escapes() {
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a/./b",
            "a\\b",
            "a\0b",
        ] {
            assert!(relative_path(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(relative_path("out/capsule.zip").is_ok());
    }

    pub(super) fn state(dir: &std::path::Path, writable: bool) -> State {
        let dir = cap_std::fs::Dir::open_ambient_dir(dir, cap_std::ambient_authority()).unwrap();
        State {
            plugin: "test/plugin".into(),
            config: Arc::default(),
            secrets: Arc::default(),
            secret_values: Arc::default(),
            limiter: Limiter::new(1 << 20),
            log_lines: 0,
            logs_dropped: 0,
            workspace: Some(Workspace { dir, writable }),
            http: None,
            http_requests: 0,
            deadline: std::time::Instant::now(),
            cancelled: false,
            wasi: None,
            llm: None,
            llm_spent: llm::Spent::default(),
            table: Default::default(),
            capsule_read: 0,
            max_input: 1 << 20,
        }
    }

    use delivery::qlp::plugin::workspace::Host as _;

    #[test]
    fn a_read_only_grant_refuses_writes_and_allows_reads() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("in.txt"), "hello").unwrap();
        let mut s = state(tmp.path(), false);
        let err = s.write_file("out.txt".into(), b"x".to_vec()).unwrap_err();
        assert!(err.contains("read-only"), "{err}");
        assert!(!tmp.path().join("out.txt").exists());
        assert_eq!(s.read_file("in.txt".into()).unwrap(), b"hello");
    }

    #[test]
    fn writing_a_hard_link_replaces_it_and_leaves_the_other_file_alone() {
        let tmp = tempfile::tempdir().unwrap();
        let granted = tmp.path().join("granted");
        std::fs::create_dir(&granted).unwrap();
        let outside = tmp.path().join("outside.txt");
        std::fs::write(&outside, "original").unwrap();
        std::fs::hard_link(&outside, granted.join("linked.txt")).unwrap();
        let mut s = state(&granted, true);
        s.write_file("linked.txt".into(), b"replaced".to_vec())
            .unwrap();
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "original");
        assert_eq!(
            std::fs::read_to_string(granted.join("linked.txt")).unwrap(),
            "replaced"
        );
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(&granted).unwrap().count(), 1);
    }

    #[test]
    fn a_write_cut_short_by_a_crash_leaves_nothing_once_retried() {
        let tmp = tempfile::tempdir().unwrap();
        // What a crash in the middle of writing `out/a.zip` leaves.
        std::fs::create_dir(tmp.path().join("out")).unwrap();
        std::fs::write(tmp.path().join("out/.a.zip.qlp-tmp"), b"hal").unwrap();
        let mut s = state(tmp.path(), true);
        s.write_file("out/a.zip".into(), b"whole".to_vec()).unwrap();
        let names: Vec<_> = std::fs::read_dir(tmp.path().join("out"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["a.zip"]);
        assert_eq!(
            std::fs::read(tmp.path().join("out/a.zip")).unwrap(),
            b"whole"
        );
    }

    #[test]
    fn without_a_grant_every_call_is_refused() {
        let mut s = state(std::path::Path::new("."), true);
        s.workspace = None;
        assert!(
            s.write_file("a".into(), vec![])
                .unwrap_err()
                .contains("capability not granted")
        );
        assert!(
            s.read_file("a".into())
                .unwrap_err()
                .contains("capability not granted")
        );
        assert!(
            s.exists("a".into())
                .unwrap_err()
                .contains("capability not granted")
        );
    }
}
