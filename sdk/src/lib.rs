//! The QLP plugin SDK.
//!
//! A plugin is a WebAssembly component targeting one world of the
//! `qlp:plugin` WIT package, contract 0.2.0 (`wit/qlp-plugin@0.2.0/`). With this crate its
//! author writes one trait impl and one macro call:
//!
//! ```ignore
//! use qlp_sdk::validator::{Capsule, Report, Validator};
//! use qlp_sdk::{PluginError, PluginInfo, PluginKind};
//!
//! struct NoTodo;
//!
//! impl Validator for NoTodo {
//!     fn describe() -> PluginInfo { /* ... */ }
//!     fn validate(capsule: &Capsule<'_>) -> Result<Report, PluginError> { /* ... */ }
//! }
//!
//! qlp_sdk::export_validator!(NoTodo);
//! ```
//!
//! The crate is built as a `cdylib` for `wasm32-unknown-unknown` and turned
//! into a component by `qlp plugin build`. The same code also compiles for
//! the host, so a plugin's logic can be unit-tested with `cargo test`; there
//! the host services ([`log`], [`config`], [`secret`]) fall back to stderr
//! and to environment variables.
//!
//! Validators and exporters read the [`Capsule`] the host holds, one file
//! at a time; agents get a [`GenerationRequest`](agent::GenerationRequest)
//! with the project's files read in. Findings are built with
//! [`Finding::new`] and placed with [`Finding::at`] or
//! [`Finding::at_region`]; host calls answer a [`HostError`]; secrets come
//! from [`secret`], never from [`config`]; [`remaining_time`] tells how long
//! the call has left.

extern crate self as qlp_sdk;

pub mod archive;
pub mod arena;
pub mod capsule;
#[cfg(feature = "delivery-kit")]
pub mod delivery_kit;
mod finding;
#[cfg(feature = "hcl")]
pub mod hcl;
mod host_error;
#[cfg(feature = "llm")]
pub mod llm;
#[cfg(not(target_arch = "wasm32"))]
mod native_http;
pub mod report;
#[cfg(feature = "source")]
pub mod source;
pub mod suppress;
#[cfg(feature = "yaml")]
pub mod yaml;

#[cfg(all(target_arch = "wasm32", feature = "arena"))]
#[global_allocator]
static ALLOCATOR: arena::Arena = arena::Arena::new();

#[doc(hidden)]
pub use wit_bindgen::rt as __rt;

/// Bindings generated from the WIT package, one module per world. Plugin
/// authors use the friendlier re-exports below.
#[allow(clippy::too_many_arguments)] // generated code mirrors the WIT records
pub mod bindings {
    /// The `agent` world; it also defines the shared `types`, `host`,
    /// `secrets` and `http` interfaces that the other worlds reuse, and
    /// imports the language model (`qlp:llm/chat`).
    pub mod agent {
        wit_bindgen::generate!({
            path: "../wit/qlp-plugin@0.2.0",
            world: "agent",
            runtime_path: "::qlp_sdk::__rt",
            pub_export_macro: true,
            export_macro_name: "export_agent_world",
            default_bindings_module: "::qlp_sdk::bindings::agent",
            generate_all,
        });
    }

    /// A world that reuses the `agent` world's shared interfaces, so a
    /// `File` or a `Finding` is one Rust type in every world.
    macro_rules! world {
        ($(#[$doc:meta])* $module:ident, $world:literal, $export_macro:literal, $bindings:literal) => {
            $(#[$doc])*
            pub mod $module {
                wit_bindgen::generate!({
                    path: "../wit/qlp-plugin@0.2.0",
                    world: $world,
                    runtime_path: "::qlp_sdk::__rt",
                    pub_export_macro: true,
                    export_macro_name: $export_macro,
                    default_bindings_module: $bindings,
                    with: {
                        "qlp:plugin/types@0.2.0": crate::bindings::agent::qlp::plugin::types,
                        "qlp:plugin/host@0.2.0": crate::bindings::agent::qlp::plugin::host,
                        "qlp:plugin/secrets@0.2.0": crate::bindings::agent::qlp::plugin::secrets,
                        "qlp:plugin/http@0.2.0": crate::bindings::agent::qlp::plugin::http,
                    },
                });
            }
        };
    }

    world!(
        /// The `analyzer` world.
        analyzer, "analyzer", "export_analyzer", "::qlp_sdk::bindings::analyzer"
    );
    world!(
        /// The `validator` world.
        validator, "validator", "export_validator_world", "::qlp_sdk::bindings::validator"
    );
    world!(
        /// The `exporter` world.
        exporter, "exporter", "export_exporter_world", "::qlp_sdk::bindings::exporter"
    );
    world!(
        /// The `delivery` world.
        delivery, "delivery", "export_delivery", "::qlp_sdk::bindings::delivery"
    );
    world!(
        /// The `planner` world.
        planner, "planner", "export_planner", "::qlp_sdk::bindings::planner"
    );
}

pub use bindings::analyzer::export_analyzer;
pub use bindings::delivery::export_delivery;
pub use bindings::planner::export_planner;

pub use agent::GenerationRequest;
pub use bindings::agent::qlp::plugin::types::{
    Analysis, Artifact, Capability, DeliveryTarget, ExportOptions, File, Finding, Fix,
    FunctionMetrics, Intent, Location, Plan, PlanningRequest, PluginError, PluginInfo, PluginKind,
    Receipt, Region, Replacement, Report, Severity, Validation,
};
pub use capsule::{Capsule, CapsuleView, FileEntry};
pub use host_error::HostError;

/// Planners read an intent before anything runs and recommend a tier.
pub mod planner {
    pub use crate::bindings::planner::Guest as Planner;
    pub use crate::{Intent, Plan, PlanningRequest, PluginError, PluginInfo};
}

/// Agents generate or repair project files.
pub mod agent {
    pub use crate::{File, Finding, Intent, PluginError, PluginInfo};

    /// What an agent is asked to do.
    #[derive(Clone, Debug)]
    pub struct GenerationRequest {
        pub intent: Intent,
        /// The files written so far by earlier agents and rounds, sorted by
        /// path (read from the project the host holds).
        pub files: Vec<File>,
        /// Findings of the previous round, for a repair round; empty on
        /// the first.
        pub findings: Vec<Finding>,
        /// 0 for the first round, then 1, 2, ... for repair rounds.
        pub iteration: u32,
        /// The role the tier gives this agent: `architect`, `implementer`,
        /// `tests`, `security` or `documentation`; empty when it gives none.
        pub role: String,
    }

    /// An agent: exported with [`export_agent!`](crate::export_agent).
    pub trait Agent {
        /// Name, version, kind and the capabilities it asks for.
        fn describe() -> PluginInfo;
        /// The files this agent writes or replaces.
        fn generate(request: GenerationRequest) -> Result<Vec<File>, PluginError>;
    }

    /// The request the host sent, with the project's files read in, one
    /// at a time.
    #[doc(hidden)]
    pub fn __request(
        request: crate::bindings::agent::qlp::plugin::types::GenerationRequest,
        project: &crate::capsule::HostCapsule,
    ) -> Result<GenerationRequest, PluginError> {
        let files = crate::Capsule::Host(project).read_files()?;
        Ok(GenerationRequest {
            intent: request.intent,
            files,
            findings: request.findings,
            iteration: request.iteration,
            role: request.role,
        })
    }

    /// Logs at info level that an agent produced `files` in round
    /// `iteration` (0 for the first, more for repairs), under `message`
    /// ("generated Go project"), with their count.
    pub fn log_generated(message: &str, files: &[File], iteration: u32) {
        let count = files.len().to_string();
        let iteration = iteration.to_string();
        crate::log::info(
            message,
            &[("files", count.as_str()), ("iteration", iteration.as_str())],
        );
    }
}

/// Analyzers measure source files.
pub mod analyzer {
    pub use crate::bindings::analyzer::Guest as Analyzer;
    pub use crate::{Analysis, File, FunctionMetrics, PluginError, PluginInfo};
}

/// Validators check a capsule and score it.
pub mod validator {
    pub use crate::{Capsule, CapsuleView, Finding, PluginError, PluginInfo, Report, Severity};

    /// A validator: exported with [`export_validator!`](crate::export_validator).
    pub trait Validator {
        /// Name, version, kind and the capabilities it asks for.
        fn describe() -> PluginInfo;
        /// Checks the capsule: its findings, a score from 0 (worst) to 100
        /// and a summary.
        fn validate(capsule: &Capsule<'_>) -> Result<Report, PluginError>;
    }
}

/// Exporters package a capsule.
pub mod exporter {
    pub use crate::{Artifact, Capsule, CapsuleView, ExportOptions, PluginError, PluginInfo};

    /// An exporter: exported with [`export_exporter!`](crate::export_exporter).
    pub trait Exporter {
        /// Name, version, kind and the capabilities it asks for.
        fn describe() -> PluginInfo;
        /// Packages the capsule as one artifact.
        fn export(capsule: &Capsule<'_>, options: ExportOptions) -> Result<Artifact, PluginError>;
    }
}

/// Exports an [`agent::Agent`] as the component's `agent` world.
#[macro_export]
macro_rules! export_agent {
    ($ty:ty) => {
        const _: () = {
            struct QlpAgentWorld;

            impl $crate::bindings::agent::Guest for QlpAgentWorld {
                fn describe() -> $crate::PluginInfo {
                    <$ty as $crate::agent::Agent>::describe()
                }

                fn generate(
                    request: $crate::bindings::agent::qlp::plugin::types::GenerationRequest,
                    project: &$crate::capsule::HostCapsule,
                ) -> ::core::result::Result<::std::vec::Vec<$crate::File>, $crate::PluginError>
                {
                    <$ty as $crate::agent::Agent>::generate($crate::agent::__request(
                        request, project,
                    )?)
                }
            }

            $crate::bindings::agent::export_agent_world!(QlpAgentWorld);
        };
    };
}

/// Exports a [`validator::Validator`] as the component's `validator` world.
#[macro_export]
macro_rules! export_validator {
    ($ty:ty) => {
        const _: () = {
            struct QlpValidatorWorld;

            impl $crate::bindings::validator::Guest for QlpValidatorWorld {
                fn describe() -> $crate::PluginInfo {
                    <$ty as $crate::validator::Validator>::describe()
                }

                fn validate(
                    capsule: &$crate::capsule::HostCapsule,
                ) -> ::core::result::Result<$crate::Report, $crate::PluginError> {
                    <$ty as $crate::validator::Validator>::validate(&$crate::Capsule::Host(capsule))
                }
            }

            $crate::bindings::validator::export_validator_world!(QlpValidatorWorld);
        };
    };
}

/// Exports an [`exporter::Exporter`] as the component's `exporter` world.
#[macro_export]
macro_rules! export_exporter {
    ($ty:ty) => {
        const _: () = {
            struct QlpExporterWorld;

            impl $crate::bindings::exporter::Guest for QlpExporterWorld {
                fn describe() -> $crate::PluginInfo {
                    <$ty as $crate::exporter::Exporter>::describe()
                }

                fn export(
                    capsule: &$crate::capsule::HostCapsule,
                    options: $crate::ExportOptions,
                ) -> ::core::result::Result<$crate::Artifact, $crate::PluginError> {
                    <$ty as $crate::exporter::Exporter>::export(
                        &$crate::Capsule::Host(capsule),
                        options,
                    )
                }
            }

            $crate::bindings::exporter::export_exporter_world!(QlpExporterWorld);
        };
    };
}

/// Delivery adapters hand an artifact over.
pub mod delivery {
    pub use crate::bindings::delivery::Guest as Delivery;
    pub use crate::{Artifact, DeliveryTarget, PluginError, PluginInfo, Receipt};

    /// The directory the host granted to this plugin.
    pub mod workspace {
        use crate::bindings::delivery::qlp::plugin::workspace as host;

        /// Writes (creates or replaces) a file under the granted directory.
        pub fn write_file(path: &str, contents: &[u8]) -> Result<(), crate::HostError> {
            host::write_file(path, contents).map_err(crate::HostError::from)
        }

        /// Reads a whole file from the granted directory.
        pub fn read_file(path: &str) -> Result<Vec<u8>, crate::HostError> {
            host::read_file(path).map_err(crate::HostError::from)
        }

        /// Whether something exists at the path in the granted directory.
        pub fn exists(path: &str) -> Result<bool, crate::HostError> {
            host::exists(path).map_err(crate::HostError::from)
        }
    }
}

impl PluginError {
    /// A plugin error with a stable code and a message for the user.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
        }
    }
}

impl File {
    /// A file from a path and UTF-8 text.
    pub fn text(path: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            content: text.into().into_bytes(),
        }
    }

    /// The content as text, if it is valid UTF-8.
    pub fn as_text(&self) -> Option<&str> {
        std::str::from_utf8(&self.content).ok()
    }
}

/// Structured logging into the server's log, attributed to this plugin.
pub mod log {
    use crate::bindings::agent::qlp::plugin::host::LogLevel;

    fn write(level: LogLevel, message: &str, fields: &[(&str, &str)]) {
        #[cfg(target_arch = "wasm32")]
        {
            let fields: Vec<(String, String)> = fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            crate::bindings::agent::qlp::plugin::host::log(level, message, &fields);
        }
        #[cfg(not(target_arch = "wasm32"))]
        eprintln!("[{level:?}] {message} {fields:?}");
    }

    pub fn debug(message: &str, fields: &[(&str, &str)]) {
        write(LogLevel::Debug, message, fields)
    }
    pub fn info(message: &str, fields: &[(&str, &str)]) {
        write(LogLevel::Info, message, fields)
    }
    pub fn warn(message: &str, fields: &[(&str, &str)]) {
        write(LogLevel::Warn, message, fields)
    }
    pub fn error(message: &str, fields: &[(&str, &str)]) {
        write(LogLevel::Error, message, fields)
    }
}

/// Outbound HTTP to the hosts the operator allowed for this plugin. A plugin
/// that uses it declares `Capability::Http(..)` in `describe()`; the operator
/// grants hosts in the tiers file (`http = ["api.example.com:80"]`).
pub mod http {
    pub use crate::bindings::agent::qlp::plugin::http::{Request, Response};

    #[cfg(not(target_arch = "wasm32"))]
    pub use crate::native_http::allow_for_tests;

    /// Sends one request. Outside WebAssembly (in unit tests) every request
    /// fails, as there is no host to grant it, unless the test called
    /// [`allow_for_tests`]: then plain-HTTP requests go straight out, so an
    /// adapter's own tests can talk to a real server on loopback.
    pub fn fetch(request: &Request) -> Result<Response, crate::HostError> {
        #[cfg(target_arch = "wasm32")]
        {
            crate::bindings::agent::qlp::plugin::http::fetch(request)
                .map_err(crate::HostError::from)
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            crate::native_http::fetch(request)
        }
    }

    /// A `GET` of `url` with no extra headers.
    pub fn get(url: &str) -> Result<Response, crate::HostError> {
        fetch(&Request {
            method: "GET".into(),
            url: url.into(),
            headers: vec![],
            body: vec![],
        })
    }
}

/// A configuration value the operator assigned to this plugin.
///
/// Outside WebAssembly (in a plugin's own unit tests) it reads the
/// environment variable `QLP_PLUGIN_CONFIG_<KEY>` with the key upper-cased and
/// `-` and `.` turned into `_`.
pub fn config(key: &str) -> Option<String> {
    #[cfg(target_arch = "wasm32")]
    {
        crate::bindings::agent::qlp::plugin::host::config(key)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::env::var(format!("QLP_PLUGIN_CONFIG_{}", env_name(key))).ok()
    }
}

/// The secret the operator stores under `key` for this plugin, which
/// declared it with `Capability::Secret(key)` and was granted it in the
/// tiers file (`secrets = { KEY = "file:…" }`); `None` otherwise.
///
/// Secrets are not configuration: [`config`] never answers one. The host
/// masks a secret's value in everything the plugin logs or returns.
///
/// Outside WebAssembly it reads `QLP_PLUGIN_SECRET_<KEY>`, named as
/// [`config`] names its variables.
pub fn secret(key: &str) -> Option<String> {
    #[cfg(target_arch = "wasm32")]
    {
        crate::bindings::agent::qlp::plugin::secrets::get(key).ok()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::env::var(format!("QLP_PLUGIN_SECRET_{}", env_name(key))).ok()
    }
}

/// The time this call has left before the host interrupts it: a plugin
/// with optional work (one more lookup, one more repair) checks it first.
///
/// Outside WebAssembly there is no deadline: [`Duration::MAX`].
///
/// [`Duration::MAX`]: std::time::Duration::MAX
pub fn remaining_time() -> std::time::Duration {
    #[cfg(target_arch = "wasm32")]
    {
        std::time::Duration::from_millis(crate::bindings::agent::qlp::plugin::host::remaining_time())
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::time::Duration::MAX
    }
}

/// `key` as the tail of an environment variable's name: upper case, `-`
/// and `.` as `_`.
#[cfg(not(target_arch = "wasm32"))]
fn env_name(key: &str) -> String {
    key.chars()
        .map(|c| match c {
            '-' | '.' => '_',
            c => c.to_ascii_uppercase(),
        })
        .collect()
}

/// The README's example is compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeExample;
