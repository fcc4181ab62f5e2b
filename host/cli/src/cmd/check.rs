//! `qlp check`: a project QLP did not write, through a tier's analyzers, validators and gate.

use std::time::Duration;

use anyhow::Context;
use qlp_cli::client::Client;

use crate::CheckArgs;

pub async fn run(args: CheckArgs) -> anyhow::Result<()> {
    let CheckArgs {
        dir,
        tier,
        sarif,
        timeout,
        server,
    } = args;
    let passed = check_command(&dir, tier.as_deref(), sarif.as_deref(), timeout, &server).await?;
    if !passed {
        std::process::exit(3);
    }
    Ok(())
}

/// `qlp check`: true when the gate passed.
async fn check_command(
    dir: &std::path::Path,
    tier: Option<&str>,
    sarif: Option<&std::path::Path>,
    timeout: u64,
    server: &str,
) -> anyhow::Result<bool> {
    let root = dir.to_owned();
    let archive = tokio::task::spawn_blocking(move || qlp_server::upload::pack_dir(&root))
        .await?
        .with_context(|| format!("cannot read {}", dir.display()))?;
    if archive.len() > qlp_server::upload::MAX_ARCHIVE_BYTES {
        anyhow::bail!(
            "{} packs to {} bytes, over the {} a check accepts",
            dir.display(),
            archive.len(),
            qlp_server::upload::MAX_ARCHIVE_BYTES
        );
    }
    let name = std::fs::canonicalize(dir)
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let client = Client::new(server);
    let id = client.submit_check(archive, tier, &name).await?;
    eprintln!("check {id}");
    let intent = client.wait(&id, Duration::from_secs(timeout)).await?;
    let status = intent.record.status.as_str();
    if status != "completed" && status != "gate_failed" {
        anyhow::bail!(
            "check {id} {status}: {}",
            intent
                .record
                .error
                .as_ref()
                .map_or("(no message)", |e| e.message.as_str())
        );
    }
    let capsule = client.capsule(&id).await?.capsule;
    for validation in capsule.validations.as_array().into_iter().flatten() {
        let report = &validation["report"];
        println!(
            "{}: score {}, {}",
            validation["validator"].as_str().unwrap_or("?"),
            report["score"],
            report["summary"].as_str().unwrap_or_default()
        );
        for f in report["findings"].as_array().into_iter().flatten() {
            let at = match (f["path"].as_str(), f["line"].as_u64()) {
                (Some(path), Some(line)) => format!("{path}:{line}"),
                (Some(path), None) => path.to_owned(),
                _ => "(project)".to_owned(),
            };
            println!(
                "  {:<8} {} {at}: {}",
                f["severity"].as_str().unwrap_or("?"),
                f["rule_id"].as_str().unwrap_or("?"),
                f["message"].as_str().unwrap_or_default()
            );
        }
    }
    let passed = capsule.gate_passed;
    println!(
        "quality score {}: gate {}",
        capsule.quality_score,
        if passed { "passed" } else { "failed" }
    );
    for reason in &capsule.gate_reasons {
        println!("  - {reason}");
    }
    if let Some(out) = sarif {
        let log = client.sarif(&id).await?;
        std::fs::write(out, serde_json::to_vec_pretty(&log)?)
            .with_context(|| format!("cannot write {}", out.display()))?;
        eprintln!("wrote {}", out.display());
    }
    Ok(passed)
}
