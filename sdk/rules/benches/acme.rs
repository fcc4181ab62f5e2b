//! How long the `examples/acme` packs take over about 5,000 lines of
//! Python, TypeScript and Go (the examples repeated), natively. Run with
//! `cargo bench -p qlp-rules`.

use std::path::Path;
use std::time::Instant;

use qlp_rules::Pack;

/// Lines per example file (five files).
const LINES: usize = 1_000;
const ROUNDS: u32 = 20;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/acme");
    let mut packs = Vec::new();
    let mut sources: Vec<(String, String)> = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("examples/acme")
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        let text = std::fs::read_to_string(&path).expect("readable example");
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".yaml") {
            packs.push(Pack::parse(&text).expect("the example pack parses"));
            continue;
        }
        let mut big = String::new();
        while big.lines().count() < LINES {
            big.push_str(&text);
        }
        sources.push((format!("src/{name}"), big));
    }
    let lines: usize = sources.iter().map(|(_, s)| s.lines().count()).sum();
    let rules: usize = packs.iter().map(|p| p.rules().len()).sum();
    let mut matches = 0;
    let start = Instant::now();
    for _ in 0..ROUNDS {
        matches = 0;
        for pack in &packs {
            for (path, text) in &sources {
                matches += pack.check(path, text).len();
            }
        }
    }
    let per_round = start.elapsed() / ROUNDS;
    println!(
        "{rules} rules over {} files, {lines} lines: {matches} matches in {per_round:?} per run",
        sources.len()
    );
}
