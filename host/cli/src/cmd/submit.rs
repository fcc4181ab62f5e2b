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
    let status = intent.record.status.as_str();
    match status {
        "failed" | "cancelled" => anyhow::bail!(
            "intent {id} {status}: {}",
            intent
                .record
                .error
                .as_ref()
                .map_or("(no message)", |e| e.message.as_str())
        ),
        _ => {
            let capsule = client.capsule(&id).await?.capsule;
            eprintln!(
                "{status}: quality score {}, gate {}",
                capsule.quality_score,
                if capsule.gate_passed {
                    "passed"
                } else {
                    "failed"
                }
            );
            for reason in &capsule.gate_reasons {
                eprintln!("  - {reason}");
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
