//! `qlp rules`: enterprise rule packs, tested, checked and signed.

use anyhow::Context;

use super::read_secret_key;
use crate::RulesCommand;

pub fn run(command: RulesCommand) -> anyhow::Result<()> {
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
                qlp_server::rulepacks::sign(&pack, &name, version, &description, &key)?;
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
