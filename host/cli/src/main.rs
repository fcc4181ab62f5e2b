//! `qlp`: the QLP server and its command line. Every flag can also be set
//! from the environment variable named in its help.
//!
//! This file holds the command line's definitions; each command's work is
//! in its module under `cmd/`.

mod cmd;

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use qlp_server::server::{self, ServeOptions};
use qlp_server::telemetry::LogFormat;

#[derive(Parser)]
#[command(
    name = "qlp",
    version,
    long_version = qlp_builtin::LONG_VERSION,
    about = "QLP: intents in, validated capsules out, through sandboxed WebAssembly plugins"
)]
struct Cli {
    /// Log format.
    #[arg(long, global = true, env = "QLP_LOG_FORMAT", default_value = "pretty")]
    log_format: LogFormat,
    /// Export traces of the server (a span per request, intent, stage and
    /// plugin call) to this OpenTelemetry collector over OTLP/HTTP, e.g.
    /// `http://collector:4318`; `OTEL_SERVICE_NAME` names the service
    /// (`qlp`).
    #[arg(long, global = true, env = "OTEL_EXPORTER_OTLP_ENDPOINT")]
    otlp_endpoint: Option<String>,
    /// A PEM bundle of CA certificates trusted, beside the system's roots,
    /// by every connection qlp opens: webhooks, registries, the identity
    /// provider, plugins' HTTPS and `--server https://…`.
    #[arg(long, global = true, env = qlp_runtime::tls::CA_FILE_ENV)]
    ca_file: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(Box<ServeOptions>),
    /// Submit an intent to a server.
    Submit(SubmitArgs),
    /// Check a project QLP did not write: upload DIR, run the tier's
    /// analyzers, validators and gate, print the findings. Exits 0 when
    /// the gate passes, 3 when it fails.
    Check(CheckArgs),
    /// Measure what isolation costs: fresh instances, fuel, the pooling
    /// allocator, a reused instance, a whole pipeline, and intents under
    /// load through a `qlp serve` child process (method in
    /// `host/cli/src/bench.rs`). Prints Markdown tables of the figures; fails
    /// when an intent of the load case does not complete.
    Bench(BenchArgs),
    /// Manage signing keys.
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Build, inspect and list plugins.
    Plugin {
        #[command(subcommand)]
        command: PluginCommand,
    },
    /// Enterprise rule packs for the `qlp/rules` validator.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Manage a server's tenants (needs an admin key).
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// Manage a server's API keys (needs an admin key). Keys are read from
    /// `QLP_API_KEY`, else from the data directory's `admin.key`.
    ApiKey {
        #[command(subcommand)]
        command: ApiKeyCommand,
    },
    /// Check a server's audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Manage who may publish to a server's registry.
    Publisher {
        #[command(subcommand)]
        command: PublisherCommand,
    },
    /// Air-gapped install bundles: every signed plugin, the tiers, their
    /// lock and optionally compiled code, in one signed archive.
    Bundle {
        #[command(subcommand)]
        command: BundleCommand,
    },
}

#[derive(clap::Args)]
struct SubmitArgs {
    /// What to build, e.g. "Create a FastAPI service for invoices with JWT auth".
    description: String,
    /// The tier to run (starter, standard, enterprise, mission-critical).
    #[arg(long, env = "QLP_TIER")]
    tier: Option<String>,
    /// Wait for the intent to finish, showing each stage.
    #[arg(long)]
    wait: bool,
    /// Download the capsule's artifact here (implies --wait).
    #[arg(long)]
    out: Option<PathBuf>,
    /// How long --wait waits, in seconds.
    #[arg(long, env = "QLP_WAIT_TIMEOUT", default_value_t = 600)]
    timeout: u64,
    #[arg(long, env = "QLP_SERVER", default_value = "http://127.0.0.1:8080")]
    server: String,
}

#[derive(clap::Args)]
struct CheckArgs {
    /// The project's directory (version control, dependency and build
    /// directories are left out).
    dir: PathBuf,
    /// The tier whose analyzers, validators and gate run.
    #[arg(long, env = "QLP_TIER")]
    tier: Option<String>,
    /// Also write the findings as a SARIF 2.1.0 log here.
    #[arg(long)]
    sarif: Option<PathBuf>,
    /// How long to wait for the verdict, in seconds.
    #[arg(long, env = "QLP_WAIT_TIMEOUT", default_value_t = 600)]
    timeout: u64,
    #[arg(long, env = "QLP_SERVER", default_value = "http://127.0.0.1:8080")]
    server: String,
}

#[derive(clap::Args)]
struct BenchArgs {
    /// The trivial validator component timed by the call cases.
    #[arg(long, default_value = "target/test-plugins/qlp_fixture_noop.wasm")]
    validator: PathBuf,
    /// The first-party components, for the pipeline case.
    #[arg(long, default_value = "target/plugins")]
    plugin_dir: PathBuf,
    /// Timed calls per call case.
    #[arg(long, default_value_t = 5000)]
    iterations: usize,
    /// Timed intents for the pipeline case.
    #[arg(long, default_value_t = 50)]
    pipeline_iterations: usize,
    /// The trust policy the pipeline case loads plugins under.
    #[arg(long, env = "QLP_TRUST", default_value = "target/dev-trust.toml")]
    trust: PathBuf,
    /// Run only the cases whose name contains this text (to profile
    /// one case, for instance).
    #[arg(long)]
    only: Option<String>,
    /// The project the enterprise-tier check case uploads (about
    /// 5,800 lines of Rust, TypeScript and Java by default).
    #[arg(long, default_value = "plugins/code-metrics")]
    check_dir: PathBuf,
    /// Timed intents of the load case (standard tier through a `qlp
    /// serve` child process).
    #[arg(long, default_value_t = 640)]
    load_intents: usize,
    /// Clients of the load case submitting at once.
    #[arg(long, default_value_t = 64)]
    load_clients: usize,
    /// How the load case's clients learn that an intent ended.
    #[arg(long, value_enum, default_value_t = qlp_cli::bench::load::Watch::Poll)]
    load_watch: qlp_cli::bench::load::Watch,
    /// How the load case's server syncs its database (`qlp serve
    /// --db-sync`).
    #[arg(long, default_value = "full", value_parser = ["full", "normal"])]
    db_sync: String,
    /// The load case's server keeps its records in this PostgreSQL
    /// database (`qlp serve --database`) instead of a SQLite file: a new,
    /// empty one (`createdb`), since the server's first start makes the
    /// admin key the clients use.
    #[arg(long)]
    load_database: Option<String>,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk the hash chain of the audit trail in a data directory; exits 1
    /// naming the first entry that was edited, removed or re-chained.
    Verify {
        #[arg(long, env = "QLP_DATA_DIR", default_value = ".qlp")]
        data_dir: PathBuf,
        /// The server's `--database`, when not DATA_DIR/qlp.db.
        #[arg(long, env = "QLP_DATABASE", value_parser = qlp_server::store::Location::parse)]
        database: Option<qlp_server::store::Location>,
    },
}

#[derive(Subcommand)]
enum RulesCommand {
    /// Run every pack in DIR against the example files beside it: a
    /// `ruleid: ID` comment marks a line the rule must match, `ok: ID` one
    /// it must not. Exits 1 naming each rule and line that failed.
    Test { dir: PathBuf },
    /// Check one pack as a server loading it would: exits 1 naming the
    /// first broken rule and why.
    Check { pack: PathBuf },
    /// Sign a pack as the registry package NAME@VERSION (kind `rules`):
    /// checks it, then writes PACK's manifest and signature beside it
    /// (`acme.yaml` → `acme.manifest.json`, `acme.sig.json`), ready for
    /// `qlp plugin publish acme.yaml`.
    Sign {
        pack: PathBuf,
        /// The package name, `namespace/name`.
        #[arg(long)]
        name: String,
        #[arg(long)]
        version: semver::Version,
        #[arg(long, default_value = "")]
        description: String,
        /// The secret key file (`qlp key generate`).
        #[arg(long, env = "QLP_SIGNING_KEY")]
        key: PathBuf,
    },
}

#[derive(Subcommand)]
enum TenantCommand {
    /// Make a tenant: 1 to 63 of a-z, 0-9 and `-`.
    Create {
        id: String,
        #[arg(long, env = "QLP_SERVER", default_value = "http://127.0.0.1:8080")]
        server: String,
    },
    /// List the tenants.
    List {
        #[arg(long, env = "QLP_SERVER", default_value = "http://127.0.0.1:8080")]
        server: String,
    },
    /// Show a tenant's policy (tiers, compliance floors, quotas), or
    /// replace it with the JSON of `--set FILE` (`-` for standard input).
    Policy {
        id: String,
        #[arg(long, value_name = "FILE")]
        set: Option<PathBuf>,
        #[arg(long, env = "QLP_SERVER", default_value = "http://127.0.0.1:8080")]
        server: String,
    },
}

#[derive(Subcommand)]
enum ApiKeyCommand {
    /// Make a key; prints it once on stdout.
    Create {
        /// A name saying who or what uses the key.
        name: String,
        #[arg(long, default_value = "default")]
        tenant: String,
        /// admin, operator, submitter, reviewer or auditor; repeat for
        /// several.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// How long the key lives, e.g. `90d`; for ever when absent.
        #[arg(long)]
        expires_in: Option<String>,
        #[arg(long, env = "QLP_SERVER", default_value = "http://127.0.0.1:8080")]
        server: String,
    },
    /// List keys (never their secrets).
    List {
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long, env = "QLP_SERVER", default_value = "http://127.0.0.1:8080")]
        server: String,
    },
    /// Revoke a key by its id.
    Revoke {
        id: String,
        #[arg(long, env = "QLP_SERVER", default_value = "http://127.0.0.1:8080")]
        server: String,
    },
}

#[derive(Subcommand)]
enum PublisherCommand {
    /// Add a publisher to a publishers file (created if absent): generates
    /// its token, prints it once on stdout and stores only its hash.
    Add {
        /// The publisher's name, as the server logs it.
        name: String,
        /// Namespace patterns it may publish and yank, e.g. `acme/*`.
        #[arg(long = "namespace", required = true)]
        namespaces: Vec<String>,
        /// The publishers file `qlp serve --publishers` reads.
        #[arg(long, env = "QLP_PUBLISHERS")]
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum BundleCommand {
    /// Make a bundle on a connected machine (gzipped when OUT ends in .gz
    /// or .tgz). Every plugin must be signed and pass the trust policy.
    Create {
        out: PathBuf,
        /// Directories of signed components; repeat for several.
        #[arg(long = "plugin-dir", required = true)]
        plugin_dirs: Vec<PathBuf>,
        /// The tiers file the servers will run.
        #[arg(long, env = "QLP_TIERS")]
        tiers: PathBuf,
        /// The trust policy the plugins and the signing key must pass.
        #[arg(long, env = "QLP_TRUST")]
        trust: PathBuf,
        /// The secret key file that signs the bundle's index.
        #[arg(long, env = "QLP_SIGNING_KEY")]
        sign_with: PathBuf,
        /// Also carry every component compiled for this qlp's engine, so
        /// servers of the same build and configuration skip compiling.
        #[arg(long)]
        precompile: bool,
        /// A compile cache to reuse (default: a scratch one).
        #[arg(long, env = "QLP_CACHE_DIR")]
        cache_dir: Option<PathBuf>,
    },
    /// Verify a bundle offline and install it into a data directory; on
    /// any failure nothing is installed.
    Import {
        bundle: PathBuf,
        #[arg(long, env = "QLP_DATA_DIR", default_value = ".qlp")]
        data_dir: PathBuf,
        /// The trust policy the bundle and every plugin must pass.
        #[arg(long, env = "QLP_TRUST")]
        trust: PathBuf,
        /// The compile cache `qlp serve` uses (default: DATA_DIR/cache).
        #[arg(long, env = "QLP_CACHE_DIR")]
        cache_dir: Option<PathBuf>,
        /// The server's `--database`, whose audit trail records the
        /// import (default: DATA_DIR/qlp.db).
        #[arg(long, env = "QLP_DATABASE", value_parser = qlp_server::store::Location::parse)]
        database: Option<qlp_server::store::Location>,
    },
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Generate an ed25519 signing key: the secret in FILE (mode 0600, never
    /// overwritten), the public key in FILE.pub and on stdout.
    Generate { out: PathBuf },
    /// Trust a public key for some namespaces in a policy file (created if
    /// absent).
    Trust {
        /// The public key file (`FILE.pub` of `qlp key generate`).
        public: PathBuf,
        /// Namespace patterns the key may publish, e.g. `acme/*`.
        #[arg(long = "namespace", required = true)]
        namespaces: Vec<String>,
        #[arg(long)]
        policy: PathBuf,
        /// The operator's release key: install bundles it signs may bring
        /// the tiers and precompiled native code, not only packages.
        #[arg(long)]
        release: bool,
    },
}

#[derive(Subcommand)]
enum PluginCommand {
    /// Build plugin crates into components.
    Build {
        /// Plugin crate directories.
        #[arg(required = true)]
        crates: Vec<PathBuf>,
        /// Where the components are written.
        #[arg(long, env = "QLP_PLUGIN_OUT", default_value = "target/plugins")]
        out_dir: PathBuf,
        /// Sign each component with this secret key file as it is built.
        #[arg(long, env = "QLP_SIGNING_KEY")]
        sign_with: Option<PathBuf>,
    },
    /// Sign components: writes NAME.manifest.json (from the component's own
    /// describe()) and adds a signature to NAME.sig.json beside each.
    Sign {
        #[arg(required = true)]
        components: Vec<PathBuf>,
        /// The secret key file (`qlp key generate`).
        #[arg(long, env = "QLP_SIGNING_KEY")]
        key: PathBuf,
    },
    /// Push a signed component (with NAME.manifest.json and NAME.sig.json
    /// beside it) to an OCI registry as a WebAssembly artifact.
    Push {
        component: PathBuf,
        /// Where to, e.g. `registry.example.com/acme/rules:1.0.0`.
        reference: String,
        #[command(flatten)]
        registry: OciArgs,
    },
    /// Pull a plugin from an OCI registry, verify it against a trust
    /// policy as `qlp serve` would, and only then write NAME.wasm and its
    /// sidecars into a directory.
    Pull {
        /// e.g. `registry.example.com/acme/rules:1.0.0`.
        reference: String,
        #[arg(long, env = "QLP_PLUGIN_OUT")]
        out_dir: PathBuf,
        /// The trust policy the package must pass.
        #[arg(long, env = "QLP_TRUST")]
        trust: PathBuf,
        #[command(flatten)]
        registry: OciArgs,
    },
    /// List the plugins a server has loaded; with --registry, --kind or
    /// --query, search the packages of its registry instead.
    List {
        #[arg(long, env = "QLP_SERVER", default_value = "http://127.0.0.1:8080")]
        server: String,
        /// List the registry's packages rather than the loaded plugins.
        #[arg(long)]
        registry: bool,
        /// Only packages of this kind (implies --registry).
        #[arg(long, env = "QLP_PLUGIN_KIND")]
        kind: Option<String>,
        /// Only packages whose name contains this (implies --registry).
        #[arg(long, env = "QLP_PLUGIN_QUERY")]
        query: Option<String>,
    },
    /// Publish a signed component (NAME.manifest.json and NAME.sig.json
    /// beside it) to a server's registry. Unsigned components are refused
    /// before anything is sent.
    Publish {
        component: PathBuf,
        #[arg(long, env = "QLP_SERVER", default_value = "http://127.0.0.1:8080")]
        server: String,
        /// The publisher token (`qlp publisher add`); prefer the
        /// environment variable.
        #[arg(long, env = "QLP_PUBLISH_TOKEN", hide_env_values = true)]
        token: String,
    },
    /// Every version of a package in a server's registry, yanked ones
    /// marked.
    Versions {
        /// `namespace/name`.
        name: String,
        #[arg(long, env = "QLP_SERVER", default_value = "http://127.0.0.1:8080")]
        server: String,
    },
    /// Download NAME@VERSION from a server's registry, verify it against a
    /// trust policy as `qlp serve` would, and only then write NAME.wasm and
    /// its sidecars into a directory.
    Fetch {
        /// `namespace/name@version`.
        spec: String,
        #[arg(long, env = "QLP_PLUGIN_OUT")]
        out_dir: PathBuf,
        /// The trust policy the package must pass.
        #[arg(long, env = "QLP_TRUST")]
        trust: PathBuf,
        #[arg(long, env = "QLP_SERVER", default_value = "http://127.0.0.1:8080")]
        server: String,
    },
    /// Verify a signed component offline, as `qlp serve` does at import:
    /// signatures and trust policy, WIT version, and the component against
    /// its manifest. Exits 1 naming the rule that refused it.
    Verify {
        component: PathBuf,
        /// The trust policy.
        #[arg(long, env = "QLP_TRUST")]
        trust: PathBuf,
    },
    /// Yank NAME@VERSION in a server's registry (hidden from resolution,
    /// still fetchable by exact version), or unyank it with --undo.
    Yank {
        /// `namespace/name@version`.
        spec: String,
        /// Unyank instead.
        #[arg(long)]
        undo: bool,
        #[arg(long, env = "QLP_SERVER", default_value = "http://127.0.0.1:8080")]
        server: String,
        #[arg(long, env = "QLP_PUBLISH_TOKEN", hide_env_values = true)]
        token: String,
    },
    /// Write a new plugin crate: Cargo.toml, src/lib.rs implementing the
    /// kind's SDK trait with a unit test, and a README with the commands
    /// that build, sign and publish it.
    New {
        /// agent, analyzer, validator, exporter, delivery or planner.
        kind: String,
        /// `namespace/name`, e.g. `acme/no-todo`.
        name: String,
        /// Where to write it (default: ./NAMESPACE-NAME).
        #[arg(long, env = "QLP_PLUGIN_DIR_NEW")]
        dir: Option<PathBuf>,
    },
}

/// How `qlp plugin push` and `pull` reach a registry.
#[derive(clap::Args)]
struct OciArgs {
    /// Plain http to a registry that is not on loopback.
    #[arg(long, env = "QLP_OCI_INSECURE")]
    insecure: bool,
    /// HTTP basic user name (anonymous when unset).
    #[arg(long, env = "QLP_OCI_USERNAME")]
    username: Option<String>,
    /// HTTP basic password; prefer the environment variable.
    #[arg(long, env = "QLP_OCI_PASSWORD", hide_env_values = true)]
    password: Option<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // Only the server's spans are worth exporting.
    let otlp = match &cli.command {
        Command::Serve(_) => cli.otlp_endpoint.as_deref(),
        _ => None,
    };
    let _traces = qlp_server::telemetry::init(cli.log_format, otlp)?;
    qlp_runtime::tls::init(cli.ca_file.as_deref()).map_err(anyhow::Error::msg)?;
    match cli.command {
        Command::Serve(options) => server::serve(*options).await,
        Command::Submit(args) => cmd::submit::run(args).await,
        Command::Check(args) => cmd::check::run(args).await,
        Command::Bench(args) => cmd::bench::run(args).await,
        Command::Key { command } => cmd::key::run(command),
        Command::Plugin { command } => cmd::plugin::run(command).await,
        Command::Bundle { command } => cmd::bundle::run(command).await,
        Command::Audit { command } => cmd::audit::run(command).await,
        Command::Rules { command } => cmd::rules::run(command),
        Command::Tenant { command } => cmd::tenant::run(command).await,
        Command::ApiKey { command } => cmd::api_key::run(command).await,
        Command::Publisher { command } => cmd::publisher::run(command),
    }
}
