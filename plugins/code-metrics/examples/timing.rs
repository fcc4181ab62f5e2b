//! Prints how long `qlp/code-metrics` takes, natively, to analyze about
//! 5,000 lines of each language. The text is real code: the crate's
//! TypeScript and Java corpus, and Go, JavaScript and Rust files of the
//! machine's toolchains where present, repeated to 5,000 lines.
//!
//! Run with `cargo run --release -p qlp-plugin-code-metrics --example timing`.

use std::time::Instant;

use qlp_plugin_code_metrics::analyze;

const LINES: usize = 5_000;
const ROUNDS: u32 = 20;

fn sample(path: &str, text: &str) {
    let mut source = String::new();
    while source.lines().count() < LINES {
        source.push_str(text);
        source.push('\n');
    }
    let lines = source.lines().count();
    let start = Instant::now();
    let mut functions = 0;
    for _ in 0..ROUNDS {
        let analysis = analyze(path, source.as_bytes()).expect("analysis");
        functions = analysis.functions.len();
    }
    let per_call = start.elapsed() / ROUNDS;
    println!(
        "{path}: {lines} lines, {functions} functions: {:.2} ms per analysis",
        per_call.as_secs_f64() * 1000.0
    );
}

fn main() {
    sample(
        "corpus.ts",
        include_str!("../tests/corpus/typescript/cac/Command.ts"),
    );
    sample(
        "corpus.java",
        include_str!("../tests/corpus/java/org/example/util/JsonTokenizer.java"),
    );
    for (path, file) in [
        ("corpus.go", "/usr/lib/go-1.19/src/strings/strings.go"),
        ("corpus.js", "/usr/lib/node_modules/npm/lib/npm.js"),
        (
            "corpus.rs",
            "/usr/lib/rustlib/src/rust/library/core/src/option.rs",
        ),
    ] {
        match std::fs::read_to_string(file) {
            Ok(text) => sample(path, &text),
            Err(_) => println!("{path}: {file} is not on this machine"),
        }
    }
}
