//! The host side of the contract's imported interfaces: `host` (log and
//! config, for every plugin) and `workspace` (a granted directory, for
//! delivery adapters). Each call's state lives in [`State`].

use std::collections::BTreeMap;
use std::sync::Arc;

use super::bindings::{LogLevel, agent, delivery};
use super::limits::{Limiter, MAX_LOG_LINES_PER_CALL, MAX_LOG_MESSAGE_BYTES};

/// The store data of one call.
pub struct State {
    pub plugin: Arc<str>,
    pub config: Arc<BTreeMap<String, String>>,
    pub limiter: Limiter,
    pub log_lines: u32,
    pub logs_dropped: u32,
    /// The directory granted to a delivery adapter, if any.
    pub workspace: Option<cap_std::fs::Dir>,
}

/// Removes control characters (ANSI escapes included) and cuts the text to
/// `max` bytes on a character boundary, so a plugin cannot forge log lines
/// or colour the operator's terminal.
pub fn sanitize(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max));
    for c in text.chars() {
        let c = if c.is_control() { ' ' } else { c };
        if out.len() + c.len_utf8() > max {
            out.push('…');
            break;
        }
        out.push(c);
    }
    out
}

impl agent::qlp::plugin::types::Host for State {}

impl agent::qlp::plugin::host::Host for State {
    fn log(&mut self, level: LogLevel, message: String, fields: Vec<(String, String)>) {
        if self.log_lines >= MAX_LOG_LINES_PER_CALL {
            self.logs_dropped += 1;
            return;
        }
        self.log_lines += 1;
        let message = sanitize(&message, MAX_LOG_MESSAGE_BYTES);
        let fields: Vec<String> = fields
            .iter()
            .take(16)
            .map(|(k, v)| format!("{}={}", sanitize(k, 64), sanitize(v, 256)))
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

    fn config(&mut self, key: String) -> Option<String> {
        self.config.get(&key).cloned()
    }
}

/// Largest file a delivery adapter may read back through the workspace.
pub const MAX_WORKSPACE_READ: u64 = 64 << 20;

impl State {
    fn workspace(&self) -> Result<&cap_std::fs::Dir, String> {
        self.workspace
            .as_ref()
            .ok_or_else(|| "no directory was granted to this plugin".to_owned())
    }
}

/// Checks a guest-supplied relative path before handing it to cap-std, which
/// also refuses escapes; this gives the plugin a clear message.
fn relative_path(path: &str) -> Result<&std::path::Path, String> {
    let p = std::path::Path::new(path);
    if path.is_empty() || path.contains('\0') || path.contains('\\') || p.is_absolute() {
        return Err(format!(
            "path `{}` is not a relative path",
            sanitize(path, 256)
        ));
    }
    if path
        .split('/')
        .any(|c| c.is_empty() || c == "." || c == "..")
    {
        return Err(format!(
            "path `{}` may not contain empty, `.` or `..` components",
            sanitize(path, 256)
        ));
    }
    Ok(p)
}

impl delivery::qlp::plugin::workspace::Host for State {
    fn write_file(&mut self, path: String, contents: Vec<u8>) -> Result<(), String> {
        let dir = self.workspace()?;
        let rel = relative_path(&path)?;
        if let Some(parent) = rel.parent().filter(|p| !p.as_os_str().is_empty()) {
            dir.create_dir_all(parent)
                .map_err(|e| format!("cannot create `{}`: {e}", parent.display()))?;
        }
        dir.write(rel, &contents)
            .map_err(|e| format!("cannot write `{path}`: {e}"))
    }

    fn read_file(&mut self, path: String) -> Result<Vec<u8>, String> {
        let dir = self.workspace()?;
        let rel = relative_path(&path)?;
        let meta = dir
            .metadata(rel)
            .map_err(|e| format!("cannot read `{path}`: {e}"))?;
        if meta.len() > MAX_WORKSPACE_READ {
            return Err(format!(
                "`{path}` is larger than {MAX_WORKSPACE_READ} bytes"
            ));
        }
        dir.read(rel)
            .map_err(|e| format!("cannot read `{path}`: {e}"))
    }

    fn exists(&mut self, path: String) -> Result<bool, String> {
        let dir = self.workspace()?;
        let rel = relative_path(&path)?;
        Ok(dir.exists(rel))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_strips_escapes_and_newlines() {
        assert_eq!(sanitize("a\x1b[31mred\nline", 100), "a [31mred line");
    }

    #[test]
    fn sanitize_cuts_on_a_char_boundary() {
        assert_eq!(sanitize("ééé", 4), "éé…");
    }

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
}
