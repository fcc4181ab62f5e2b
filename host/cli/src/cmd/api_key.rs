//! `qlp api-key`: a server's API keys.

use anyhow::Context;
use qlp_cli::client::Client;
use serde_json::Value;

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
