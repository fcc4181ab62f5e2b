//! How long `qlp/infrastructure` takes natively on about 5,000 lines of
//! Terraform (the clean fixture module copied into thirteen directories)
//! and a Compose file. Run with
//! `cargo run --release -p qlp-plugin-infrastructure --example check_time`.

use std::time::Instant;

use qlp_plugin_infrastructure::check;
use qlp_sdk::File;

/// Timed runs; the median is printed.
const RUNS: usize = 21;

fn main() {
    let modules = [
        include_str!("../tests/fixtures/clean/main.tf"),
        include_str!("../tests/fixtures/clean/multicloud.tf"),
    ];
    let mut files = Vec::new();
    for n in 0..13 {
        for (i, text) in modules.iter().enumerate() {
            files.push(File::text(format!("infra/env{n}/file{i}.tf"), *text));
        }
    }
    let lines: usize = files
        .iter()
        .map(|f| f.as_text().unwrap_or_default().lines().count())
        .sum();
    files.push(File::text(
        "docker-compose.yml",
        include_str!("../tests/fixtures/clean/docker-compose.yml"),
    ));
    let mut times: Vec<f64> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            let report = check(&files);
            assert!(report.findings.is_empty(), "{}", report.summary);
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!(
        "qlp/infrastructure: {lines} lines of Terraform in {} files: median {:.2} ms, \
         fastest {:.2} ms over {RUNS} runs (native)",
        files.len() - 1,
        times[RUNS / 2],
        times[0]
    );
}
