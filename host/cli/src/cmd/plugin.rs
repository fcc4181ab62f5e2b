//! `qlp plugin`: build, sign, publish, fetch, verify and list plugins.

use anyhow::Context;
use qlp_cli::client::Client;
use qlp_runtime::build;

use super::read_secret_key;
use crate::{OciArgs, PluginCommand};

pub async fn run(command: PluginCommand) -> anyhow::Result<()> {
    match command {
        PluginCommand::Build {
            crates,
            out_dir,
            sign_with,
        } => {
            let toolchain = build::Toolchain::detect()?;
            let signer = match &sign_with {
                Some(path) => {
                    let (scratch, runtime) = scratch_runtime()?;
                    Some((read_secret_key(path)?, runtime, scratch))
                }
                None => None,
            };
            for dir in crates {
                let out = build::build(&toolchain, &dir, &out_dir)
                    .with_context(|| format!("building {}", dir.display()))?;
                if let Some((key, runtime, _)) = &signer {
                    qlp_server::packages::sign(runtime, &out, key)
                        .with_context(|| format!("signing {}", out.display()))?;
                }
                println!("{}", out.display());
            }
            Ok(())
        }
        PluginCommand::Sign { components, key } => {
            let key = read_secret_key(&key)?;
            let (_scratch, runtime) = scratch_runtime()?;
            for component in components {
                let (manifest, sigs) = qlp_server::packages::sign(&runtime, &component, &key)?;
                println!("{} {}", manifest.display(), sigs.display());
            }
            Ok(())
        }
        PluginCommand::Push {
            component,
            reference,
            registry,
        } => {
            let package = qlp_registry::package::Package::read(&component)?;
            let digest = registry.client(&reference)?.push(&package).await?;
            println!("{reference}@{digest}");
            Ok(())
        }
        PluginCommand::Pull {
            reference,
            out_dir,
            trust,
            registry,
        } => {
            let policy = qlp_registry::TrustPolicy::load(&trust)
                .with_context(|| format!("cannot load the trust policy {}", trust.display()))?;
            let package = registry.client(&reference)?.pull().await?;
            let (manifest, signatures) = package.parse()?;
            let (_scratch, runtime) = scratch_runtime()?;
            qlp_server::packages::verify(
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
        PluginCommand::List {
            server,
            registry,
            kind,
            query,
        } if registry || kind.is_some() || query.is_some() => {
            let listed = Client::new(&server)
                .registry_packages(kind.as_deref(), query.as_deref())
                .await?;
            for p in listed.packages {
                println!(
                    "{:<28} {:<8} {:<10} {} version(s)",
                    p.name,
                    p.latest.as_deref().unwrap_or("(yanked)"),
                    p.kind,
                    p.versions
                );
            }
            Ok(())
        }
        PluginCommand::List { server, .. } => {
            let plugins = Client::new(&server).plugins().await?;
            for p in plugins.plugins {
                println!(
                    "{:<28} {:<8} {:<10} wit {:<6} {}",
                    p.name,
                    p.version,
                    p.kind.as_str(),
                    p.wit,
                    &p.digest[..12.min(p.digest.len())]
                );
            }
            Ok(())
        }
        PluginCommand::Publish {
            component,
            server,
            token,
        } => {
            let package = qlp_registry::package::Package::read(&component)?;
            let (entry, replay) = Client::new(&server).publish(&package, &token).await?;
            let what = format!("{}@{}", entry.name, entry.version);
            println!("{what} {}", entry.digest);
            eprintln!(
                "{what} {}; the server loads it now, and the tiers that ask for it run it",
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
            for v in listed.versions {
                println!(
                    "{:<10} {:<10} wit {:<8} {}{}",
                    v.version,
                    v.kind,
                    v.wit,
                    v.digest,
                    if v.yanked { "  yanked" } else { "" }
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
            let manifest = qlp_registry::Manifest::from_json(&serde_json::to_vec(&meta.manifest)?)
                .map_err(|e| anyhow::anyhow!("{}: {e}", e.code()))?;
            let signatures =
                qlp_registry::Signature::list_from_json(&serde_json::to_vec(&meta.signatures)?)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", e.code()))?;
            anyhow::ensure!(
                manifest.name == name && manifest.version == version,
                "INDEX_MISMATCH: asked for {spec}, the server sent {}@{}",
                manifest.name,
                manifest.version
            );
            let (_scratch, runtime) = scratch_runtime()?;
            qlp_server::packages::verify(&runtime, &policy, &manifest, &signatures, &component)
                .with_context(|| format!("refused {spec}"))?;
            let package = qlp_registry::package::Package {
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
            let package = qlp_registry::package::Package::read(&component)?;
            let (manifest, signatures) = package.parse()?;
            let (_scratch, runtime) = scratch_runtime()?;
            let (verified, _) = qlp_server::packages::verify(
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
            let scaffold = qlp_cli::scaffold::write(kind, &name, dir.as_deref())?;
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
    }
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

impl OciArgs {
    fn client(self, reference: &str) -> anyhow::Result<qlp_registry::oci::Client> {
        let reference: qlp_registry::oci::Reference = reference.parse()?;
        let credentials = match (self.username, self.password) {
            (Some(user), Some(password)) => Some((user, password)),
            (None, None) => None,
            _ => anyhow::bail!("give both QLP_OCI_USERNAME and QLP_OCI_PASSWORD, or neither"),
        };
        qlp_registry::oci::Client::new(
            &reference,
            &qlp_registry::oci::Options {
                insecure: self.insecure,
                credentials,
            },
            qlp_runtime::tls::client_builder(),
        )
    }
}

/// A runtime for loading components once (signing, verifying), compiling
/// into a directory that lives as long as the runtime is used.
/// Bound as `(_scratch, runtime)`, the runtime is dropped first.
fn scratch_runtime() -> anyhow::Result<(tempfile::TempDir, qlp_runtime::Runtime)> {
    let scratch = tempfile::tempdir()?;
    let runtime = qlp_runtime::Runtime::new(scratch.path().to_owned())?;
    Ok((scratch, runtime))
}
