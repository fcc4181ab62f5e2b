//! `qlp api-key`: a server's API keys.

use qlp_cli::client::Client;

use crate::ApiKeyCommand;

/// `qlp api-key …`, through the admin API.
pub async fn run(command: ApiKeyCommand) -> anyhow::Result<()> {
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
            println!("{}", key.key);
            eprintln!(
                "key {} of tenant `{tenant}` created; it is shown only once, the server keeps only its digest",
                key.record.id
            );
            Ok(())
        }
        ApiKeyCommand::List { tenant, server } => {
            let keys = Client::new(&server).keys(tenant.as_deref()).await?;
            for k in keys.keys {
                let roles: Vec<&str> = k.roles.iter().map(|r| r.as_str()).collect();
                let state = if k.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                println!(
                    "{}\t{}\t{}\t{}\t{state}",
                    k.id,
                    k.tenant,
                    k.name,
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
