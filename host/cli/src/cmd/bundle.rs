//! `qlp bundle`: air-gapped install bundles, made and imported.

use anyhow::Context;

use super::read_secret_key;
use crate::BundleCommand;

pub async fn run(command: BundleCommand) -> anyhow::Result<()> {
    match command {
        BundleCommand::Create {
            out,
            plugin_dirs,
            tiers,
            trust,
            sign_with,
            precompile,
            cache_dir,
        } => {
            let options = qlp_server::bundle::CreateOptions {
                out,
                plugin_dirs,
                tiers,
                trust,
                key: read_secret_key(&sign_with)?,
                precompile,
                engine: None,
                cache_dir,
            };
            let entries = qlp_server::bundle::create(&options)?;
            for (path, size) in &entries {
                eprintln!("{size:>10}  {path}");
            }
            println!("{}", options.out.display());
            Ok(())
        }
        BundleCommand::Import {
            bundle,
            data_dir,
            trust,
            cache_dir,
            database,
        } => {
            let imported = qlp_server::bundle::import(
                &bundle,
                &qlp_server::bundle::ImportOptions {
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
            let location = qlp_server::store::Location::chosen(database, &data_dir);
            let store =
                qlp_server::store::Store::connect(&location, qlp_server::store::Durability::Full)
                    .await
                    .with_context(|| format!("cannot open the database {}", location.display()))?;
            let actor = qlp_server::store::Actor {
                tenant: qlp_server::auth::DEFAULT_TENANT.into(),
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
    }
}
