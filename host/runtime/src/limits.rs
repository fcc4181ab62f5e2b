//! Limits every plugin call runs under, and the resource limiter that
//! enforces the memory and table caps while recording what was used.

use std::time::Duration;

use crate::model::PluginKind;

/// Memory one plugin instance may grow to. Parsing or archiving a generated
/// project fits comfortably; a few dozen concurrent calls still fit in a
/// server's memory.
pub const DEFAULT_MEMORY_LIMIT: usize = 256 << 20;

/// The most memory an operator may grant one call: the size of each slot
/// of the pooling allocator, which reserves address space (not memory) for
/// every slot up front.
pub const MAX_MEMORY_LIMIT: usize = 1 << 30;

/// The longest deadline an operator may give one call.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(600);

/// Bytes a call may receive (strings and byte lists of its arguments). A
/// capsule view carries every file, so this bounds the capsules a plugin is
/// asked about; larger inputs fail before the plugin is instantiated.
pub const DEFAULT_MAX_INPUT_BYTES: usize = 16 << 20;

/// Bytes a call may return. A generated project, a report or a receipt is
/// far smaller; exporters get [`DEFAULT_MAX_ARTIFACT_BYTES`].
pub const DEFAULT_MAX_OUTPUT_BYTES: usize = 8 << 20;

/// Bytes an exporter's artifact may have: an archive of a full capsule.
pub const DEFAULT_MAX_ARTIFACT_BYTES: usize = 16 << 20;

/// Compiling a component longer than this refuses it: a component built
/// to make the compiler work for minutes is a denial of service. First-party
/// plugins compile in under 3 s on 2 cores in a release build.
pub const MAX_COMPILE_TIME: Duration = Duration::from_secs(60);

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
    /// Wall-clock deadline, enforced by epoch interruption.
    pub timeout: Duration,
    /// Linear memory the instance may grow to.
    pub memory: usize,
    /// Fuel (roughly, wasm instructions) the call may burn, when the engine
    /// meters fuel; `None` is unmetered.
    pub fuel: Option<u64>,
    pub max_input: usize,
    pub max_output: usize,
}

/// Overrides of the defaults, per tier and per plugin, as written in the
/// tiers file (`limits = { timeout_ms = 5000, memory_mib = 64 }`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct LimitOverrides {
    pub timeout_ms: Option<u64>,
    pub memory_mib: Option<u64>,
    pub fuel: Option<u64>,
    pub max_input_mib: Option<u64>,
    pub max_output_mib: Option<u64>,
}

impl LimitOverrides {
    /// Refuses values outside what the host can enforce.
    pub fn check(&self) -> Result<(), String> {
        if let Some(ms) = self.timeout_ms
            && (ms == 0 || Duration::from_millis(ms) > MAX_TIMEOUT)
        {
            return Err(format!(
                "timeout_ms {ms} is not between 1 and {}",
                MAX_TIMEOUT.as_millis()
            ));
        }
        if let Some(mib) = self.memory_mib
            && (mib == 0 || mib > (MAX_MEMORY_LIMIT >> 20) as u64)
        {
            return Err(format!(
                "memory_mib {mib} is not between 1 and {}",
                MAX_MEMORY_LIMIT >> 20
            ));
        }
        if self.fuel == Some(0) {
            return Err("fuel 0 would refuse every call".into());
        }
        for (name, v) in [
            ("max_input_mib", self.max_input_mib),
            ("max_output_mib", self.max_output_mib),
        ] {
            if let Some(mib) = v
                && (mib == 0 || mib > 1024)
            {
                return Err(format!("{name} {mib} is not between 1 and 1024"));
            }
        }
        Ok(())
    }
}

impl CallLimits {
    /// The default limits for a kind of plugin.
    pub fn for_kind(kind: PluginKind) -> Self {
        let timeout = match kind {
            PluginKind::Agent => DEFAULT_AGENT_TIMEOUT,
            PluginKind::Analyzer | PluginKind::Validator | PluginKind::Planner => {
                DEFAULT_CHECK_TIMEOUT
            }
            PluginKind::Exporter | PluginKind::Delivery => DEFAULT_PACKAGE_TIMEOUT,
        };
        let max_output = match kind {
            PluginKind::Exporter => DEFAULT_MAX_ARTIFACT_BYTES,
            _ => DEFAULT_MAX_OUTPUT_BYTES,
        };
        Self {
            timeout,
            memory: DEFAULT_MEMORY_LIMIT,
            fuel: None,
            max_input: DEFAULT_MAX_INPUT_BYTES,
            max_output,
        }
    }

    /// These limits with `overrides` applied on top.
    pub fn with(mut self, overrides: &LimitOverrides) -> Self {
        if let Some(ms) = overrides.timeout_ms {
            self.timeout = Duration::from_millis(ms);
        }
        if let Some(mib) = overrides.memory_mib {
            self.memory = (mib as usize) << 20;
        }
        if let Some(fuel) = overrides.fuel {
            self.fuel = Some(fuel);
        }
        if let Some(mib) = overrides.max_input_mib {
            self.max_input = (mib as usize) << 20;
        }
        if let Some(mib) = overrides.max_output_mib {
            self.max_output = (mib as usize) << 20;
        }
        self
    }
}

/// Enforces [`CallLimits::memory`] over all of a store's memories together
/// (a component may define up to [`MAX_MEMORIES_PER_STORE`]) and the table
/// cap, and records the peak and whether a limit was hit, so the caller
/// can name it.
#[derive(Debug)]
pub struct Limiter {
    pub memory_limit: usize,
    /// The most the store's memories held together.
    pub peak_memory: usize,
    pub memory_exceeded: bool,
    /// What the store's memories hold together now.
    total_memory: usize,
}

impl Limiter {
    pub fn new(memory_limit: usize) -> Self {
        Self {
            memory_limit,
            peak_memory: 0,
            memory_exceeded: false,
            total_memory: 0,
        }
    }
}

impl wasmtime::ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // A memory never shrinks, and each one's growth is counted once.
        let total = self
            .total_memory
            .saturating_sub(current)
            .saturating_add(desired);
        if total > self.memory_limit {
            self.memory_exceeded = true;
            wasmtime::bail!(
                "memory limit of {} bytes exceeded: the plugin's memories would hold {total} together",
                self.memory_limit
            );
        }
        self.total_memory = total;
        self.peak_memory = self.peak_memory.max(total);
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
    super::text::sanitize(text, 256)
}

#[cfg(test)]
mod tests {
    use wasmtime::ResourceLimiter;

    use super::*;

    const MIB: usize = 1 << 20;

    #[test]
    fn the_memory_limit_holds_for_all_memories_together() {
        let mut limiter = Limiter::new(64 * MIB);
        // Two memories of 30 MiB each fit.
        assert!(limiter.memory_growing(0, 30 * MIB, None).unwrap());
        assert!(limiter.memory_growing(0, 30 * MIB, None).unwrap());
        assert_eq!(limiter.peak_memory, 60 * MIB);
        // The first growing to 34 MiB fills the limit exactly.
        assert!(limiter.memory_growing(30 * MIB, 34 * MIB, None).unwrap());
        assert_eq!(limiter.peak_memory, 64 * MIB);
        assert!(!limiter.memory_exceeded);
        // A third memory of one page does not fit, though alone it would.
        let error = limiter.memory_growing(0, 64 * 1024, None).unwrap_err();
        assert!(error.to_string().contains("together"), "{error}");
        assert!(limiter.memory_exceeded);
        assert_eq!(limiter.peak_memory, 64 * MIB);
    }

    #[test]
    fn one_memory_may_use_the_whole_limit_but_no_more() {
        let mut limiter = Limiter::new(8 * MIB);
        assert!(limiter.memory_growing(0, MIB, None).unwrap());
        assert!(limiter.memory_growing(MIB, 8 * MIB, None).unwrap());
        assert!(limiter.memory_growing(8 * MIB, 8 * MIB + 1, None).is_err());
    }
}
