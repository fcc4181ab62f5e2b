//! `qlp`: the QLP server and its command line. Every flag can also be set
//! from the environment variable named in its help.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use qlp_host::client::Client;
use qlp_host::runtime::build;
use qlp_host::server::{self, ServeOptions};
use serde_json::Value;

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
    /// A PEM bundle of CA certificates trusted, beside the system's roots,
    /// by every connection qlp opens: webhooks, registries, the identity
    /// provider, plugins' HTTPS and `--server https://…`.
    #[arg(long, global = true, env = qlp_host::tls::CA_FILE_ENV)]
    ca_file: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Pretty,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(Box<ServeOptions>),
    /// Submit an intent to a server.
    Submit {
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
    },
    /// Check a project QLP did not write: upload DIR, run the tier's
    /// analyzers, validators and gate, print the findings. Exits 0 when
    /// the gate passes, 3 when it fails.
    Check {
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
    },
    /// Measure what isolation costs: fresh instances, fuel, the pooling
    /// allocator, a reused instance, a whole pipeline, and intents under
    /// load through a `qlp serve` child process (method in
    /// `host/src/bench.rs`). Prints Markdown tables of the figures; fails
    /// when an intent of the load case does not complete.
    Bench {
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
        #[arg(long, value_enum, default_value_t = qlp_host::bench::load::Watch::Poll)]
        load_watch: qlp_host::bench::load::Watch,
        /// How the load case's server syncs its database (`qlp serve
        /// --db-sync`).
        #[arg(long, default_value = "full", value_parser = ["full", "normal"])]
        db_sync: String,
    },
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

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk the hash chain of the audit trail in a data directory; exits 1
    /// naming the first entry that was edited, removed or re-chained.
    Verify {
        #[arg(long, env = "QLP_DATA_DIR", default_value = ".qlp")]
        data_dir: PathBuf,
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

/// `namespace/name@version` → its two parts, the version checked.
fn name_at_version(spec: &str) -> anyhow::Result<(String, semver::Version)> {
    let (name, version) = spec
        .split_once('@')
        .with_context(|| format!("`{spec}`: expected NAMESPACE/NAME@VERSION"))?;
    qlp_registry::validate_name(name).map_err(|e| anyhow::anyhow!("{}: {e}", e.code()))?;
    let version = semver::Version::parse(version)
        .with_context(|| format!("`{version}` is not a semantic version"))?;
    Ok((name.to_owned(), version))
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

impl OciArgs {
    fn client(self, reference: &str) -> anyhow::Result<qlp_host::oci::Client> {
        let reference: qlp_host::oci::Reference = reference.parse()?;
        let credentials = match (self.username, self.password) {
            (Some(user), Some(password)) => Some((user, password)),
            (None, None) => None,
            _ => anyhow::bail!("give both QLP_OCI_USERNAME and QLP_OCI_PASSWORD, or neither"),
        };
        qlp_host::oci::Client::new(
            &reference,
            &qlp_host::oci::Options {
                insecure: self.insecure,
                credentials,
            },
        )
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("QLP_LOG").unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("info,qlp=info,tower_http=warn,sqlx=warn")
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Pretty => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    qlp_host::tls::init(cli.ca_file.as_deref()).map_err(anyhow::Error::msg)?;
    match cli.command {
        Command::Serve(options) => server::serve(*options).await,
        Command::Submit {
            description,
            tier,
            wait,
            out,
            timeout,
            server,
        } => {
            let client = Client::new(&server);
            let id = client.submit(&description, tier.as_deref()).await?;
            println!("{id}");
            if !wait && out.is_none() {
                return Ok(());
            }
            let intent = client.wait(&id, Duration::from_secs(timeout)).await?;
            let status = intent["status"].as_str().unwrap_or("unknown");
            match status {
                "failed" | "cancelled" => anyhow::bail!(
                    "intent {id} {status}: {}",
                    intent["error"]["message"]
                        .as_str()
                        .unwrap_or("(no message)")
                ),
                _ => {
                    let capsule = client.capsule(&id).await?;
                    eprintln!(
                        "{status}: quality score {}, gate {}",
                        capsule["quality_score"],
                        if capsule["gate_passed"] == true {
                            "passed"
                        } else {
                            "failed"
                        }
                    );
                    for reason in capsule["gate_reasons"].as_array().into_iter().flatten() {
                        eprintln!("  - {}", reason.as_str().unwrap_or_default());
                    }
                }
            }
            if let Some(out) = out {
                let bytes = client.download(&id, &out).await?;
                eprintln!("wrote {} ({bytes} bytes)", out.display());
            }
            match status {
                "gate_failed" | "rejected" => std::process::exit(3),
                "awaiting_approval" => {
                    eprintln!(
                        "awaiting approval: POST {server}/v1/intents/{id}/approve (or /reject) with {{\"by\": \"…\"}}"
                    );
                    std::process::exit(4)
                }
                _ => Ok(()),
            }
        }
        Command::Check {
            dir,
            tier,
            sarif,
            timeout,
            server,
        } => {
            let passed =
                check_command(&dir, tier.as_deref(), sarif.as_deref(), timeout, &server).await?;
            if !passed {
                std::process::exit(3);
            }
            Ok(())
        }
        Command::Bench {
            validator,
            plugin_dir,
            iterations,
            pipeline_iterations,
            trust,
            only,
            check_dir,
            load_intents,
            load_clients,
            load_watch,
            db_sync,
        } => {
            anyhow::ensure!(
                iterations >= 10 && pipeline_iterations >= 1,
                "too few iterations to take a median"
            );
            anyhow::ensure!(
                load_intents >= 1 && load_clients >= 1,
                "the load case needs at least one intent and one client"
            );
            let options = qlp_host::bench::Options {
                validator,
                plugin_dir,
                iterations,
                pipeline_iterations,
                trust,
                only,
                check_dir,
                load_intents,
                load_clients,
                load_watch,
                db_sync,
            };
            let cases = qlp_host::bench::run(&options).await?;
            print!("{}", qlp_host::bench::table(&cases));
            let failures: usize = cases.iter().map(qlp_host::bench::Case::failures).sum();
            anyhow::ensure!(failures == 0, "{failures} load intents did not complete");
            Ok(())
        }
        Command::Key {
            command: KeyCommand::Generate { out },
        } => {
            let key = qlp_registry::SecretKey::generate()?;
            key.write_new_file(&out)
                .with_context(|| format!("cannot write {}", out.display()))?;
            let public = key.public_key().to_text();
            let pub_path = PathBuf::from(format!("{}.pub", out.display()));
            std::fs::write(&pub_path, format!("{public}\n"))?;
            println!("{public}");
            eprintln!(
                "secret key in {}, public key in {}",
                out.display(),
                pub_path.display()
            );
            Ok(())
        }
        Command::Key {
            command:
                KeyCommand::Trust {
                    public,
                    namespaces,
                    policy,
                    release,
                },
        } => {
            let text = std::fs::read_to_string(&public)
                .with_context(|| format!("cannot read {}", public.display()))?;
            let key = qlp_registry::PublicKey::parse(&text)?;
            let mut trust = if policy.exists() {
                qlp_registry::TrustPolicy::load(&policy)?
            } else {
                qlp_registry::TrustPolicy::new()
            };
            let patterns: Vec<&str> = namespaces.iter().map(String::as_str).collect();
            if !trust.keys().any(|k| k.key.id() == key.id()) {
                let mut trusted = qlp_registry::TrustedKey::new(key, &patterns)?;
                if release {
                    trusted = trusted.as_release();
                }
                trust.add_key(trusted)?;
            }
            std::fs::write(&policy, trust.to_toml())?;
            Ok(())
        }
        Command::Plugin {
            command: PluginCommand::Sign { components, key },
        } => {
            let key = read_secret_key(&key)?;
            let scratch = tempfile::tempdir()?;
            let runtime = qlp_host::runtime::Runtime::new(scratch.path().to_owned())?;
            for component in components {
                let (manifest, sigs) = qlp_host::packages::sign(&runtime, &component, &key)?;
                println!("{} {}", manifest.display(), sigs.display());
            }
            Ok(())
        }
        Command::Plugin {
            command:
                PluginCommand::Build {
                    crates,
                    out_dir,
                    sign_with,
                },
        } => {
            let toolchain = build::Toolchain::detect()?;
            let signer = match &sign_with {
                Some(path) => {
                    let scratch = tempfile::tempdir()?;
                    let runtime = qlp_host::runtime::Runtime::new(scratch.path().to_owned())?;
                    Some((read_secret_key(path)?, runtime, scratch))
                }
                None => None,
            };
            for dir in crates {
                let out = build::build(&toolchain, &dir, &out_dir)
                    .with_context(|| format!("building {}", dir.display()))?;
                if let Some((key, runtime, _)) = &signer {
                    qlp_host::packages::sign(runtime, &out, key)
                        .with_context(|| format!("signing {}", out.display()))?;
                }
                println!("{}", out.display());
            }
            Ok(())
        }
        Command::Plugin {
            command:
                PluginCommand::Push {
                    component,
                    reference,
                    registry,
                },
        } => {
            let package = qlp_host::oci::Package::read(&component)?;
            let digest = registry.client(&reference)?.push(&package).await?;
            println!("{reference}@{digest}");
            Ok(())
        }
        Command::Plugin {
            command:
                PluginCommand::Pull {
                    reference,
                    out_dir,
                    trust,
                    registry,
                },
        } => {
            let policy = qlp_registry::TrustPolicy::load(&trust)
                .with_context(|| format!("cannot load the trust policy {}", trust.display()))?;
            let package = registry.client(&reference)?.pull().await?;
            let (manifest, signatures) = package.parse()?;
            let scratch = tempfile::tempdir()?;
            let runtime = qlp_host::runtime::Runtime::new(scratch.path().to_owned())?;
            qlp_host::packages::verify(
                &runtime,
                &policy,
                &manifest,
                &signatures,
                &package.component,
            )
            .with_context(|| format!("refused {reference}"))?;
            let path = package.write_to(&out_dir)?;
            println!("{}", path.display());
            eprintln!("{}@{} verified", manifest.name, manifest.version);
            Ok(())
        }
        Command::Bundle {
            command:
                BundleCommand::Create {
                    out,
                    plugin_dirs,
                    tiers,
                    trust,
                    sign_with,
                    precompile,
                    cache_dir,
                },
        } => {
            let options = qlp_host::bundle::CreateOptions {
                out,
                plugin_dirs,
                tiers,
                trust,
                key: read_secret_key(&sign_with)?,
                precompile,
                engine: None,
                cache_dir,
            };
            let entries = qlp_host::bundle::create(&options)?;
            for (path, size) in &entries {
                eprintln!("{size:>10}  {path}");
            }
            println!("{}", options.out.display());
            Ok(())
        }
        Command::Bundle {
            command:
                BundleCommand::Import {
                    bundle,
                    data_dir,
                    trust,
                    cache_dir,
                },
        } => {
            let imported = qlp_host::bundle::import(
                &bundle,
                &qlp_host::bundle::ImportOptions {
                    data_dir: data_dir.clone(),
                    trust,
                    cache_dir,
                },
            )
            .with_context(|| format!("refused {}", bundle.display()))?;
            for (name, version, digest) in &imported.plugins {
                println!("{name} {version} {digest}");
            }
            // The server's audit trail records what was installed under it.
            let store = qlp_host::store::Store::open(&data_dir.join("qlp.db")).await?;
            let actor = qlp_host::store::Actor {
                tenant: qlp_host::auth::DEFAULT_TENANT.into(),
                identity: "cli:bundle-import".into(),
                request_id: String::new(),
            };
            let installed: Vec<String> = imported
                .plugins
                .iter()
                .map(|(name, version, _)| format!("{name}@{version}"))
                .collect();
            store
                .audit(
                    &actor,
                    "bundle.import",
                    &bundle.display().to_string(),
                    &format!("ok: {}", installed.join(", ")),
                )
                .await?;
            eprintln!(
                "{} packages imported into {}; precompiled artifacts: {} installed, {} skipped; {}",
                imported.plugins.len(),
                data_dir.display(),
                imported.artifacts_installed,
                imported.artifacts_skipped,
                if imported.tiers_installed {
                    "tiers and lock installed"
                } else {
                    "tiers and lock NOT installed: the bundle is not signed by a release key (`qlp key trust --release`)"
                }
            );
            Ok(())
        }
        Command::Plugin {
            command:
                PluginCommand::List {
                    server,
                    registry,
                    kind,
                    query,
                },
        } if registry || kind.is_some() || query.is_some() => {
            let listed = Client::new(&server)
                .registry_packages(kind.as_deref(), query.as_deref())
                .await?;
            for p in listed["packages"].as_array().into_iter().flatten() {
                println!(
                    "{:<28} {:<8} {:<10} {} version(s)",
                    p["name"].as_str().unwrap_or(""),
                    p["latest"].as_str().unwrap_or("(yanked)"),
                    p["kind"].as_str().unwrap_or(""),
                    p["versions"]
                );
            }
            Ok(())
        }
        Command::Plugin {
            command: PluginCommand::List { server, .. },
        } => {
            let plugins = Client::new(&server).plugins().await?;
            for p in plugins["plugins"].as_array().into_iter().flatten() {
                println!(
                    "{:<28} {:<8} {:<10} {}",
                    p["name"].as_str().unwrap_or(""),
                    p["version"].as_str().unwrap_or(""),
                    p["kind"].as_str().unwrap_or(""),
                    &p["digest"].as_str().unwrap_or("")
                        [..12.min(p["digest"].as_str().unwrap_or("").len())]
                );
            }
            Ok(())
        }
        Command::Plugin {
            command:
                command @ (PluginCommand::Publish { .. }
                | PluginCommand::Versions { .. }
                | PluginCommand::Fetch { .. }
                | PluginCommand::Verify { .. }
                | PluginCommand::Yank { .. }
                | PluginCommand::New { .. }),
        } => registry_command(command).await,
        Command::Audit { command } => audit_command(command).await,
        Command::Rules { command } => rules_command(command),
        Command::Tenant { command } => tenant_command(command).await,
        Command::ApiKey { command } => api_key_command(command).await,
        Command::Publisher {
            command:
                PublisherCommand::Add {
                    name,
                    namespaces,
                    file,
                },
        } => {
            let token = qlp_host::publishers::add(&file, &name, &namespaces)?;
            println!("{token}");
            eprintln!(
                "publisher `{name}` added to {}; the token above is shown only once and stored nowhere (only its hash is in the file)",
                file.display()
            );
            Ok(())
        }
    }
}

/// `qlp rules …`.
fn rules_command(command: RulesCommand) -> anyhow::Result<()> {
    match command {
        RulesCommand::Test { dir } => {
            let report = qlp_rules::testing::run(&dir);
            print!("{report}");
            if !report.passed() {
                std::process::exit(1);
            }
            Ok(())
        }
        RulesCommand::Sign {
            pack,
            name,
            version,
            description,
            key,
        } => {
            let key = read_secret_key(&key)?;
            let (manifest, sigs) =
                qlp_host::rulepacks::sign(&pack, &name, version, &description, &key)?;
            println!("{} {}", manifest.display(), sigs.display());
            Ok(())
        }
        RulesCommand::Check { pack } => {
            let text = std::fs::read_to_string(&pack)
                .with_context(|| format!("cannot read {}", pack.display()))?;
            match qlp_rules::Pack::parse(&text) {
                Ok(p) => {
                    println!("{}: {} rules", pack.display(), p.rules().len());
                    Ok(())
                }
                Err(e) => {
                    eprintln!("{}: {e}", pack.display());
                    std::process::exit(1)
                }
            }
        }
    }
}

/// `qlp check`: true when the gate passed.
async fn check_command(
    dir: &std::path::Path,
    tier: Option<&str>,
    sarif: Option<&std::path::Path>,
    timeout: u64,
    server: &str,
) -> anyhow::Result<bool> {
    let root = dir.to_owned();
    let archive = tokio::task::spawn_blocking(move || qlp_host::upload::pack_dir(&root))
        .await?
        .with_context(|| format!("cannot read {}", dir.display()))?;
    if archive.len() > qlp_host::upload::MAX_ARCHIVE_BYTES {
        anyhow::bail!(
            "{} packs to {} bytes, over the {} a check accepts",
            dir.display(),
            archive.len(),
            qlp_host::upload::MAX_ARCHIVE_BYTES
        );
    }
    let name = std::fs::canonicalize(dir)
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let client = Client::new(server);
    let id = client.submit_check(archive, tier, &name).await?;
    eprintln!("check {id}");
    let intent = client.wait(&id, Duration::from_secs(timeout)).await?;
    let status = intent["status"].as_str().unwrap_or("unknown");
    if status != "completed" && status != "gate_failed" {
        anyhow::bail!(
            "check {id} {status}: {}",
            intent["error"]["message"]
                .as_str()
                .unwrap_or("(no message)")
        );
    }
    let capsule = client.capsule(&id).await?;
    for validation in capsule["validations"].as_array().into_iter().flatten() {
        let report = &validation["report"];
        println!(
            "{}: score {}, {}",
            validation["validator"].as_str().unwrap_or("?"),
            report["score"],
            report["summary"].as_str().unwrap_or_default()
        );
        for f in report["findings"].as_array().into_iter().flatten() {
            let at = match (f["path"].as_str(), f["line"].as_u64()) {
                (Some(path), Some(line)) => format!("{path}:{line}"),
                (Some(path), None) => path.to_owned(),
                _ => "(project)".to_owned(),
            };
            println!(
                "  {:<8} {} {at}: {}",
                f["severity"].as_str().unwrap_or("?"),
                f["rule_id"].as_str().unwrap_or("?"),
                f["message"].as_str().unwrap_or_default()
            );
        }
    }
    let passed = capsule["gate_passed"] == true;
    println!(
        "quality score {}: gate {}",
        capsule["quality_score"],
        if passed { "passed" } else { "failed" }
    );
    for reason in capsule["gate_reasons"].as_array().into_iter().flatten() {
        println!("  - {}", reason.as_str().unwrap_or_default());
    }
    if let Some(out) = sarif {
        let log = client.sarif(&id).await?;
        std::fs::write(out, serde_json::to_vec_pretty(&log)?)
            .with_context(|| format!("cannot write {}", out.display()))?;
        eprintln!("wrote {}", out.display());
    }
    Ok(passed)
}

/// `qlp audit …`.
async fn audit_command(command: AuditCommand) -> anyhow::Result<()> {
    let AuditCommand::Verify { data_dir } = command;
    let db = data_dir.join("qlp.db");
    anyhow::ensure!(db.is_file(), "no database at {}", db.display());
    let store = qlp_host::store::Store::open_read_only(&db).await?;
    let verified = store.verify_audit().await?;
    match verified.broken {
        None => {
            println!(
                "audit trail intact: {} entries, head {}",
                verified.entries, verified.head
            );
            Ok(())
        }
        Some(broken) => {
            eprintln!(
                "audit trail broken at entry {}: {} ({} entries before it hold)",
                broken.seq, broken.reason, verified.entries
            );
            std::process::exit(1);
        }
    }
}

/// `qlp tenant …`, through the admin API.
async fn tenant_command(command: TenantCommand) -> anyhow::Result<()> {
    match command {
        TenantCommand::Create { id, server } => {
            Client::new(&server).create_tenant(&id).await?;
            eprintln!("tenant `{id}` created");
            Ok(())
        }
        TenantCommand::List { server } => {
            let tenants = Client::new(&server).tenants().await?;
            for t in tenants["tenants"].as_array().into_iter().flatten() {
                println!(
                    "{}\t{}",
                    t["id"].as_str().unwrap_or("?"),
                    t["created_at"].as_str().unwrap_or("")
                );
            }
            Ok(())
        }
        TenantCommand::Policy { id, set, server } => {
            let set = match set {
                None => None,
                Some(path) => {
                    let text = if path.as_os_str() == "-" {
                        std::io::read_to_string(std::io::stdin())?
                    } else {
                        std::fs::read_to_string(&path)
                            .with_context(|| format!("cannot read {}", path.display()))?
                    };
                    Some(
                        serde_json::from_str::<serde_json::Value>(&text)
                            .with_context(|| format!("{} is not JSON", path.display()))?,
                    )
                }
            };
            let policy = Client::new(&server)
                .tenant_policy(&id, set.as_ref())
                .await?;
            println!("{}", serde_json::to_string_pretty(&policy)?);
            Ok(())
        }
    }
}

/// `qlp api-key …`, through the admin API.
async fn api_key_command(command: ApiKeyCommand) -> anyhow::Result<()> {
    match command {
        ApiKeyCommand::Create {
            name,
            tenant,
            roles,
            expires_in,
            server,
        } => {
            let key = Client::new(&server)
                .create_key(&tenant, &name, &roles, expires_in.as_deref())
                .await?;
            println!(
                "{}",
                key["key"].as_str().context("the server returned no key")?
            );
            eprintln!(
                "key {} of tenant `{tenant}` created; it is shown only once, the server keeps only its digest",
                key["id"].as_str().unwrap_or("?")
            );
            Ok(())
        }
        ApiKeyCommand::List { tenant, server } => {
            let keys = Client::new(&server).keys(tenant.as_deref()).await?;
            for k in keys["keys"].as_array().into_iter().flatten() {
                let roles: Vec<&str> = k["roles"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                let state = if k["revoked_at"].is_string() {
                    "revoked"
                } else {
                    "active"
                };
                println!(
                    "{}\t{}\t{}\t{}\t{state}",
                    k["id"].as_str().unwrap_or("?"),
                    k["tenant"].as_str().unwrap_or("?"),
                    k["name"].as_str().unwrap_or(""),
                    roles.join(","),
                );
            }
            Ok(())
        }
        ApiKeyCommand::Revoke { id, server } => {
            Client::new(&server).revoke_key(&id).await?;
            eprintln!("key {id} revoked");
            Ok(())
        }
    }
}

async fn registry_command(command: PluginCommand) -> anyhow::Result<()> {
    match command {
        PluginCommand::Publish {
            component,
            server,
            token,
        } => {
            let package = qlp_host::oci::Package::read(&component)?;
            let (entry, replay) = Client::new(&server).publish(&package, &token).await?;
            let what = format!(
                "{}@{}",
                entry["name"].as_str().unwrap_or(""),
                entry["version"].as_str().unwrap_or("")
            );
            println!("{what} {}", entry["digest"].as_str().unwrap_or(""));
            eprintln!(
                "{what} {}; servers load it at their next start",
                if replay {
                    "was already published with this content"
                } else {
                    "published"
                }
            );
            Ok(())
        }
        PluginCommand::Versions { name, server } => {
            let listed = Client::new(&server).versions(&name).await?;
            for v in listed["versions"].as_array().into_iter().flatten() {
                println!(
                    "{:<10} {:<10} wit {:<8} {}{}",
                    v["version"].as_str().unwrap_or(""),
                    v["kind"].as_str().unwrap_or(""),
                    v["wit"].as_str().unwrap_or(""),
                    v["digest"].as_str().unwrap_or(""),
                    if v["yanked"] == true { "  yanked" } else { "" }
                );
            }
            Ok(())
        }
        PluginCommand::Fetch {
            spec,
            out_dir,
            trust,
            server,
        } => {
            let (name, version) = name_at_version(&spec)?;
            let policy = qlp_registry::TrustPolicy::load(&trust)
                .with_context(|| format!("cannot load the trust policy {}", trust.display()))?;
            let (meta, component) = Client::new(&server)
                .fetch(&name, &version.to_string())
                .await?;
            let manifest =
                qlp_registry::Manifest::from_json(&serde_json::to_vec(&meta["manifest"])?)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", e.code()))?;
            let signatures =
                qlp_registry::Signature::list_from_json(&serde_json::to_vec(&meta["signatures"])?)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", e.code()))?;
            anyhow::ensure!(
                manifest.name == name && manifest.version == version,
                "INDEX_MISMATCH: asked for {spec}, the server sent {}@{}",
                manifest.name,
                manifest.version
            );
            let scratch = tempfile::tempdir()?;
            let runtime = qlp_host::runtime::Runtime::new(scratch.path().to_owned())?;
            qlp_host::packages::verify(&runtime, &policy, &manifest, &signatures, &component)
                .with_context(|| format!("refused {spec}"))?;
            let package = qlp_host::oci::Package {
                // Named as `qlp plugin pull` names it, from the signed manifest.
                file_name: format!("{}-{}.wasm", name.replace('/', "_"), version),
                component,
                manifest: manifest.to_json_pretty().into_bytes(),
                signatures: qlp_registry::Signature::list_to_json(&signatures).into_bytes(),
            };
            let path = package.write_to(&out_dir)?;
            println!("{}", path.display());
            eprintln!("{spec} verified");
            Ok(())
        }
        PluginCommand::Verify { component, trust } => {
            let policy = qlp_registry::TrustPolicy::load(&trust)
                .with_context(|| format!("cannot load the trust policy {}", trust.display()))?;
            let package = qlp_host::oci::Package::read(&component)?;
            let (manifest, signatures) = package.parse()?;
            let scratch = tempfile::tempdir()?;
            let runtime = qlp_host::runtime::Runtime::new(scratch.path().to_owned())?;
            let (verified, _) = qlp_host::packages::verify(
                &runtime,
                &policy,
                &manifest,
                &signatures,
                &package.component,
            )?;
            println!(
                "{}@{} {} wit {}: verified ({:?})",
                manifest.name, manifest.version, manifest.kind, manifest.wit, verified.basis
            );
            Ok(())
        }
        PluginCommand::Yank {
            spec,
            undo,
            server,
            token,
        } => {
            let (name, version) = name_at_version(&spec)?;
            Client::new(&server)
                .yank(&name, &version.to_string(), undo, &token)
                .await?;
            eprintln!("{spec} {}", if undo { "unyanked" } else { "yanked" });
            Ok(())
        }
        PluginCommand::New { kind, name, dir } => {
            let kind: qlp_registry::Kind = kind.parse().map_err(|_| {
                anyhow::anyhow!(
                    "unknown kind `{kind}`: agent, analyzer, validator, exporter, delivery or planner"
                )
            })?;
            let scaffold = qlp_host::scaffold::write(kind, &name, dir.as_deref())?;
            println!("{}", scaffold.dir.display());
            match &scaffold.sdk {
                Some(root) => eprintln!("{kind} {name}: uses the SDK of {}", root.display()),
                None => eprintln!(
                    "{kind} {name}: point `qlp-sdk` in {} at the QLP SDK before building",
                    scaffold.dir.join("Cargo.toml").display()
                ),
            }
            eprintln!(
                "build it with `qlp plugin build {}`",
                scaffold.dir.display()
            );
            Ok(())
        }
        _ => unreachable!("not a registry command"),
    }
}

fn read_secret_key(path: &std::path::Path) -> anyhow::Result<qlp_registry::SecretKey> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(qlp_registry::SecretKey::parse(&text)?)
}
