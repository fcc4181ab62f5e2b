//! `qlp`: the QLP server and its command line. Every flag can also be set
//! from the environment variable named in its help.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use qlp_host::client::Client;
use qlp_host::runtime::build;
use qlp_host::server::{self, ServeOptions};

#[derive(Parser)]
#[command(
    name = "qlp",
    version,
    about = "QLP: intents in, validated capsules out, through sandboxed WebAssembly plugins"
)]
struct Cli {
    /// Log format.
    #[arg(long, global = true, env = "QLP_LOG_FORMAT", default_value = "pretty")]
    log_format: LogFormat,
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
    Serve {
        /// Address to listen on; port 0 picks a free one.
        #[arg(long, env = "QLP_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Where intents, capsules, plugins and caches are kept.
        #[arg(long, env = "QLP_DATA_DIR", default_value = ".qlp")]
        data_dir: PathBuf,
        /// Directories of built components (`*.wasm`) imported into the
        /// registry at start-up; repeat or separate with `:`.
        #[arg(long = "plugin-dir", env = "QLP_PLUGIN_DIRS", value_delimiter = ':')]
        plugin_dirs: Vec<PathBuf>,
        /// The tiers file; the shipped tiers when absent.
        #[arg(long, env = "QLP_TIERS")]
        tiers: Option<PathBuf>,
        /// Intents run at once.
        #[arg(long, env = "QLP_WORKERS", default_value_t = 2)]
        workers: usize,
        /// Where compiled components are cached (default: DATA_DIR/cache).
        /// Its artifacts are loaded as native code: only the server may be
        /// able to write there.
        #[arg(long, env = "QLP_CACHE_DIR")]
        cache_dir: Option<PathBuf>,
    },
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
    /// Build, inspect and list plugins.
    Plugin {
        #[command(subcommand)]
        command: PluginCommand,
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
    },
    /// List the plugins a server has loaded.
    List {
        #[arg(long, env = "QLP_SERVER", default_value = "http://127.0.0.1:8080")]
        server: String,
    },
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
    match cli.command {
        Command::Serve {
            listen,
            data_dir,
            plugin_dirs,
            tiers,
            workers,
            cache_dir,
        } => {
            server::serve(ServeOptions {
                listen,
                data_dir,
                plugin_dirs,
                tiers,
                workers,
                cache_dir,
            })
            .await
        }
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
                "failed" => anyhow::bail!(
                    "intent {id} failed: {}",
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
            if status == "gate_failed" {
                std::process::exit(3);
            }
            Ok(())
        }
        Command::Plugin {
            command: PluginCommand::Build { crates, out_dir },
        } => {
            let toolchain = build::Toolchain::detect()?;
            for dir in crates {
                let out = build::build(&toolchain, &dir, &out_dir)
                    .with_context(|| format!("building {}", dir.display()))?;
                println!("{}", out.display());
            }
            Ok(())
        }
        Command::Plugin {
            command: PluginCommand::List { server },
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
    }
}
