//! `qlp tenant`: a server's tenants.

use anyhow::Context;
use qlp_cli::client::Client;

use crate::TenantCommand;

/// `qlp tenant …`, through the admin API.
pub async fn run(command: TenantCommand) -> anyhow::Result<()> {
    match command {
        TenantCommand::Create { id, server } => {
            Client::new(&server).create_tenant(&id).await?;
            eprintln!("tenant `{id}` created");
            Ok(())
        }
        TenantCommand::List { server } => {
            let tenants = Client::new(&server).tenants().await?;
            for t in tenants.tenants {
                println!("{}\t{}", t.id, t.created_at);
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
