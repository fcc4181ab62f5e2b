//! Agreement with lizard 1.17.13 (installed by `deploy/setup.sh`): per
//! language, lizard and `qlp/code-metrics` read the same real code, their
//! functions are matched by (file, start line), and the test asserts that
//! at least 90% of lizard's functions are matched and that the cyclomatic
//! complexity agrees on at least 95% of the matched ones.
//!
//! The corpus: Go's standard library (`net/http`, `encoding/json`,
//! `strings`), npm's own JavaScript, Rust's `core` (`str`, `slice`, `iter`,
//! `option.rs`, `result.rs`), and for TypeScript and Java the sources under
//! `tests/corpus/`. Without lizard the test prints a note and passes, except
//! under `CI=true`, where it fails.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use qlp_plugin_code_metrics::analyze;

const MIN_MATCHED: f64 = 0.90;
const MIN_AGREEING: f64 = 0.95;

/// How to run lizard, if it is installed.
fn lizard() -> Option<Vec<String>> {
    let candidates: [&[&str]; 2] = [&["lizard"], &["python3", "-m", "lizard"]];
    for cmd in candidates {
        let ok = Command::new(cmd[0])
            .args(&cmd[1..])
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return Some(cmd.iter().map(|s| s.to_string()).collect());
        }
    }
    None
}

fn files_under(dir: &Path, ext: &str, recursive: bool, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            if recursive {
                files_under(&path, ext, recursive, out);
            }
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
}

/// The corpus of one language; empty when it is not on this machine.
fn corpus(lang: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    match lang {
        "go" => {
            for dir in ["net/http", "encoding/json", "strings"] {
                let dir = Path::new("/usr/lib/go-1.19/src").join(dir);
                files_under(&dir, "go", false, &mut out);
            }
        }
        "javascript" => files_under(
            Path::new("/usr/lib/node_modules/npm/lib"),
            "js",
            true,
            &mut out,
        ),
        "rust" => {
            let core = Path::new("/usr/lib/rustlib/src/rust/library/core/src");
            for dir in ["str", "slice", "iter"] {
                files_under(&core.join(dir), "rs", true, &mut out);
            }
            for file in ["option.rs", "result.rs"] {
                let path = core.join(file);
                if path.is_file() {
                    out.push(path);
                }
            }
        }
        "typescript" => files_under(
            &crate_dir.join("tests/corpus/typescript"),
            "ts",
            true,
            &mut out,
        ),
        "java" => files_under(&crate_dir.join("tests/corpus/java"), "java", true, &mut out),
        _ => {}
    }
    out
}

/// Splits one CSV line of lizard's output (quoted fields hold no quotes).
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    fields.push(field);
    fields
}

/// lizard's functions: (file, start line) → (name, complexity).
fn run_lizard(
    cmd: &[String],
    lang: &str,
    files: &[PathBuf],
) -> HashMap<(String, u32), (String, u32)> {
    let mut out = HashMap::new();
    for chunk in files.chunks(200) {
        let output = Command::new(&cmd[0])
            .args(&cmd[1..])
            .args(["--csv", "-l", lang])
            .args(chunk)
            .output()
            .expect("lizard runs");
        let text = String::from_utf8_lossy(&output.stdout);
        for line in text.lines() {
            let f = csv_fields(line);
            if f.len() < 11 {
                continue;
            }
            let (Ok(ccn), Ok(start)) = (f[1].parse::<u32>(), f[9].parse::<u32>()) else {
                continue;
            };
            out.insert((f[6].clone(), start), (f[7].clone(), ccn));
        }
    }
    out
}

struct Agreement {
    lizard: usize,
    matched: usize,
    agreeing: usize,
}

fn compare(cmd: &[String], lang: &str) -> Option<Agreement> {
    let files = corpus(lang);
    if files.is_empty() {
        println!("{lang}: no corpus on this machine, skipped");
        return None;
    }
    let lizard_lang = match lang {
        "go" => "go",
        "javascript" => "javascript",
        "typescript" => "typescript",
        "rust" => "rust",
        _ => "java",
    };
    let theirs = run_lizard(cmd, lizard_lang, &files);
    let mut ours: HashMap<(String, u32), (String, u32)> = HashMap::new();
    for file in &files {
        let path = file.to_string_lossy().to_string();
        let content = std::fs::read(file).expect("corpus file");
        let analysis = analyze(&path, &content).expect("corpus file is analyzed");
        for f in analysis.functions {
            ours.insert((path.clone(), f.line), (f.name, f.cyclomatic_complexity));
        }
    }
    let verbose = std::env::var_os("LIZARD_DIFF").is_some();
    let mut result = Agreement {
        lizard: theirs.len(),
        matched: 0,
        agreeing: 0,
    };
    let mut keys: Vec<_> = theirs.keys().collect();
    keys.sort();
    for key in keys {
        let (name, ccn) = &theirs[key];
        match ours.get(key) {
            Some((our_name, our_ccn)) => {
                result.matched += 1;
                if our_ccn == ccn {
                    result.agreeing += 1;
                } else if verbose {
                    println!(
                        "  {}:{} {name} lizard {ccn}, ours {our_name} {our_ccn}",
                        key.0, key.1
                    );
                }
            }
            None if verbose => println!("  {}:{} {name} ({ccn}) not found", key.0, key.1),
            None => {}
        }
    }
    println!(
        "{lang}: {} files, lizard {} functions, ours {}, matched {} ({:.1}%), complexity agrees on {} ({:.1}%)",
        files.len(),
        result.lizard,
        ours.len(),
        result.matched,
        100.0 * result.matched as f64 / result.lizard.max(1) as f64,
        result.agreeing,
        100.0 * result.agreeing as f64 / result.matched.max(1) as f64,
    );
    Some(result)
}

#[test]
fn functions_and_complexity_agree_with_lizard() {
    let Some(cmd) = lizard() else {
        let message = "lizard is not installed (deploy/setup.sh installs lizard==1.17.13 with pip)";
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{message}");
        }
        println!("skipped: {message}");
        return;
    };
    let mut failures = Vec::new();
    for lang in ["go", "javascript", "typescript", "rust", "java"] {
        let Some(a) = compare(&cmd, lang) else {
            continue;
        };
        assert!(
            a.lizard > 0,
            "{lang}: lizard found no function in the corpus"
        );
        let matched = a.matched as f64 / a.lizard as f64;
        let agreeing = a.agreeing as f64 / a.matched.max(1) as f64;
        if matched < MIN_MATCHED {
            failures.push(format!(
                "{lang}: {:.1}% of lizard's functions matched",
                100.0 * matched
            ));
        }
        if agreeing < MIN_AGREEING {
            failures.push(format!(
                "{lang}: complexity agrees on {:.1}%",
                100.0 * agreeing
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("; "));
}
