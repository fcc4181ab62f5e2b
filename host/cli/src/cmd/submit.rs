//! `qlp submit`: an intent to a server, optionally waited for and downloaded.

use std::time::Duration;

use qlp_cli::client::Client;

use crate::SubmitArgs;

pub async fn run(args: SubmitArgs) -> anyhow::Result<()> {
    let SubmitArgs {
        description,
        tier,
        wait,
        out,
        timeout,
        server,
    } = args;
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
