//! Thresholds the operator may set for `qlp/quality` in the tiers file
//! (`[plugins."qlp/quality"] config = { complexity-warn = "8" }`). Every key
//! is optional; a value that is not a positive whole number, or a high
//! complexity threshold not above the warning one, fails the stage with
//! `INVALID_CONFIG` rather than silently checking something else.

use qlp_sdk::PluginError;

/// Config key: complexity above which a function is a medium finding.
pub const KEY_COMPLEXITY_WARN: &str = "complexity-warn";
/// Config key: complexity above which a function is a high finding.
pub const KEY_COMPLEXITY_HIGH: &str = "complexity-high";
/// Config key: lines of code above which a file is a finding.
pub const KEY_MAX_FILE_LINES: &str = "max-file-lines";
/// Config key: shortest duplicated run of normalized lines reported.
pub const KEY_DUPLICATE_MIN_LINES: &str = "duplicate-min-lines";

/// McCabe's own recommendation, and lizard's and most linters' default
/// warning level: above 10 a function has more paths than a reader (or a
/// test suite) keeps track of.
pub const DEFAULT_COMPLEXITY_WARN: u32 = 10;
/// Twice the warning level: the band where defect rates climb steeply and
/// the function should be split before anything else is added to it.
pub const DEFAULT_COMPLEXITY_HIGH: u32 = 20;
/// A module longer than this usually holds more than one responsibility;
/// generated modules stay well under it.
pub const DEFAULT_MAX_FILE_LINES: u32 = 500;
/// Six lines is the smallest run that is a real copied block rather than a
/// recurring idiom (a guard clause and its return, a closing sequence).
pub const DEFAULT_DUPLICATE_MIN_LINES: u32 = 6;

/// The thresholds one validation uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    pub complexity_warn: u32,
    pub complexity_high: u32,
    pub max_file_lines: u32,
    pub duplicate_min_lines: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            complexity_warn: DEFAULT_COMPLEXITY_WARN,
            complexity_high: DEFAULT_COMPLEXITY_HIGH,
            max_file_lines: DEFAULT_MAX_FILE_LINES,
            duplicate_min_lines: DEFAULT_DUPLICATE_MIN_LINES,
        }
    }
}

impl Settings {
    /// Reads the thresholds through `get` (the host's `config` in a
    /// component), falling back to the defaults for absent keys.
    pub fn from_config(get: impl Fn(&str) -> Option<String>) -> Result<Settings, PluginError> {
        let read = |key: &str, default: u32| -> Result<u32, PluginError> {
            match get(key) {
                None => Ok(default),
                Some(raw) => match raw.trim().parse::<u32>() {
                    Ok(n) if n > 0 => Ok(n),
                    _ => Err(PluginError::new(
                        "INVALID_CONFIG",
                        format!("`{key}` must be a positive whole number, not `{raw}`"),
                    )),
                },
            }
        };
        let settings = Settings {
            complexity_warn: read(KEY_COMPLEXITY_WARN, DEFAULT_COMPLEXITY_WARN)?,
            complexity_high: read(KEY_COMPLEXITY_HIGH, DEFAULT_COMPLEXITY_HIGH)?,
            max_file_lines: read(KEY_MAX_FILE_LINES, DEFAULT_MAX_FILE_LINES)?,
            duplicate_min_lines: read(KEY_DUPLICATE_MIN_LINES, DEFAULT_DUPLICATE_MIN_LINES)?,
        };
        if settings.complexity_high <= settings.complexity_warn {
            return Err(PluginError::new(
                "INVALID_CONFIG",
                format!(
                    "`{KEY_COMPLEXITY_HIGH}` ({}) must be above `{KEY_COMPLEXITY_WARN}` ({})",
                    settings.complexity_high, settings.complexity_warn
                ),
            ));
        }
        Ok(settings)
    }
}
