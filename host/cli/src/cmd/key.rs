//! `qlp key`: signing keys and the trust policies naming them.

use std::path::PathBuf;

use anyhow::Context;

use crate::KeyCommand;

pub fn run(command: KeyCommand) -> anyhow::Result<()> {
    match command {
        KeyCommand::Generate { out } => {
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
        KeyCommand::Trust {
            public,
            namespaces,
            policy,
            release,
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
    }
}
