//! Limits every plugin call runs under, and the resource limiter that
//! enforces the memory and table caps while recording what was used.

use std::time::Duration;

use crate::model::PluginKind;

/// Memory one plugin instance may grow to. Parsing or archiving a generated
/// project fits comfortably; a few dozen concurrent calls still fit in a
/// server's memory.
pub const DEFAULT_MEMORY_LIMIT: usize = 256 << 20;

/// Table elements one instance may hold. Rust components need a few hundred
/// for indirect calls; the cap stops a guest from growing tables to exhaust
/// host memory.
pub const DEFAULT_TABLE_ELEMENTS: usize = 10_000;

/// Core instances, tables and memories a single component may create. A
/// component built by `qlp plugin build` uses a handful of each.
pub const MAX_INSTANCES_PER_STORE: usize = 20;
pub const MAX_TABLES_PER_STORE: usize = 20;
pub const MAX_MEMORIES_PER_STORE: usize = 10;

/// Wall-clock budget of one agent call: generation may build a whole
/// project.
pub const DEFAULT_AGENT_TIMEOUT: Duration = Duration::from_secs(30);

/// Wall-clock budget of one analyzer or validator call: each looks at one
/// file or one capsule and should answer in milliseconds.
pub const DEFAULT_CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// Wall-clock budget of one exporter or delivery call: compressing and
/// writing an archive of a generated project.
pub const DEFAULT_PACKAGE_TIMEOUT: Duration = Duration::from_secs(10);

/// Log lines one call may write; the rest are counted and dropped, so a
/// chatty or hostile plugin cannot flood the server's log.
pub const MAX_LOG_LINES_PER_CALL: u32 = 200;

/// Bytes of one log message kept; longer messages are cut.
pub const MAX_LOG_MESSAGE_BYTES: usize = 2048;

/// Largest component accepted. First-party plugins are well under 5 MiB.
pub const MAX_COMPONENT_SIZE: usize = 50 << 20;

/// The wasm stack a call may use before it traps with a stack overflow
/// rather than take down the host thread.
pub const MAX_WASM_STACK: usize = 1 << 20;

/// The limits of one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallLimits {
    pub timeout: Duration,
    pub memory: usize,
}

impl CallLimits {
    /// The default limits for a kind of plugin.
    pub fn for_kind(kind: PluginKind) -> Self {
        let timeout = match kind {
            PluginKind::Agent => DEFAULT_AGENT_TIMEOUT,
            PluginKind::Analyzer | PluginKind::Validator => DEFAULT_CHECK_TIMEOUT,
            PluginKind::Exporter | PluginKind::Delivery => DEFAULT_PACKAGE_TIMEOUT,
        };
        Self {
            timeout,
            memory: DEFAULT_MEMORY_LIMIT,
        }
    }
}

/// Enforces [`CallLimits::memory`] and the table cap, and records the peak
/// memory and whether a limit was hit, so the caller can name it.
#[derive(Debug)]
pub struct Limiter {
    pub memory_limit: usize,
    pub peak_memory: usize,
    pub memory_exceeded: bool,
}

impl Limiter {
    pub fn new(memory_limit: usize) -> Self {
        Self {
            memory_limit,
            peak_memory: 0,
            memory_exceeded: false,
        }
    }
}

impl wasmtime::ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_limit {
            self.memory_exceeded = true;
            wasmtime::bail!(
                "memory limit of {} bytes exceeded (asked for {desired})",
                self.memory_limit
            );
        }
        self.peak_memory = self.peak_memory.max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > DEFAULT_TABLE_ELEMENTS {
            wasmtime::bail!(
                "table limit of {DEFAULT_TABLE_ELEMENTS} elements exceeded (asked for {desired})"
            );
        }
        Ok(true)
    }

    fn instances(&self) -> usize {
        MAX_INSTANCES_PER_STORE
    }

    fn tables(&self) -> usize {
        MAX_TABLES_PER_STORE
    }

    fn memories(&self) -> usize {
        MAX_MEMORIES_PER_STORE
    }
}

/// Text from a plugin, made safe to put in an error message or a log line:
/// control characters replaced, cut to a few hundred bytes.
pub fn sanitize_for_message(text: &str) -> String {
    super::host_api::sanitize(text, 256)
}
