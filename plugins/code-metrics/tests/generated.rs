//! What `qlp/code-metrics` makes of the projects QLP's own agents generate
//! (Go, Node/TypeScript, Rust, React): every source file is analyzed
//! without error, and every function declared at the start of a line
//! (`func`, `fn` with a body, `function`, `const name = (…) =>`) is among the
//! functions reported, at its line.

use qlp_plugin_code_metrics::{Lang, analyze};
use qlp_sdk::{File, Intent};

fn intent(description: &str, requirements: &[&str]) -> Intent {
    Intent {
        id: "00000000-0000-0000-0000-000000000000".into(),
        description: description.into(),
        requirements: requirements.iter().map(|r| r.to_string()).collect(),
        constraints: vec![],
        tier: "enterprise".into(),
    }
}

/// Whether a trimmed line opens a function, by its first words.
fn declares_function(lang: Lang, line: &str) -> bool {
    let mut words: Vec<&str> = line.split_whitespace().collect();
    let modifiers = [
        "pub",
        "pub(crate)",
        "async",
        "const",
        "unsafe",
        "export",
        "default",
        "static",
    ];
    while words.first().is_some_and(|w| modifiers.contains(w)) {
        words.remove(0);
    }
    let first = words.first().copied().unwrap_or("");
    match lang {
        Lang::Go => first == "func",
        // A declaration without a body (`fn f();` in a trait) is no function.
        Lang::Rust => first == "fn" && !line.ends_with(';'),
        Lang::JavaScript | Lang::TypeScript => {
            first == "function"
                || first.starts_with("function(")
                || (line.starts_with("const ") || line.starts_with("export const "))
                    && line.contains("=>")
                    && line.trim_end().ends_with('{')
        }
        Lang::Java => false,
    }
}

fn check(project: &str, files: &[File]) {
    let mut analyzed = 0;
    for file in files {
        let Some(lang) = Lang::from_path(&file.path) else {
            continue;
        };
        let analysis = analyze(&file.path, &file.content)
            .unwrap_or_else(|e| panic!("{project}: {}: {} {}", file.path, e.code, e.message));
        analyzed += 1;
        let text = String::from_utf8_lossy(&file.content);
        let lines: Vec<u32> = analysis.functions.iter().map(|f| f.line).collect();
        for (n, line) in text.lines().enumerate() {
            let n = n as u32 + 1;
            if declares_function(lang, line.trim()) {
                assert!(
                    lines.contains(&n),
                    "{project}: {}:{n}: `{}` is not among the functions found: {:?}",
                    file.path,
                    line.trim(),
                    analysis.functions
                );
            }
        }
        println!(
            "{project}: {} ({}): {} functions, {} code lines, doc coverage {:.2}",
            file.path,
            analysis.language,
            analysis.functions.len(),
            analysis.lines_of_code,
            analysis.doc_coverage
        );
    }
    assert!(analyzed > 0, "{project}: no source file analyzed");
}

#[test]
fn generated_projects_are_analyzed_with_every_function_found() {
    for requirements in [
        &[][..],
        &[
            "Routes require JWT authentication",
            "Store data in PostgreSQL",
        ][..],
    ] {
        let go = qlp_plugin_template_go::generate_project(&intent(
            "A Go API for invoices",
            requirements,
        ))
        .expect("go project");
        check("go", &go);
        let node = qlp_plugin_template_node::generate_project(&intent(
            "A Node API for invoices",
            requirements,
        ))
        .expect("node project");
        check("node", &node);
        let rust = qlp_plugin_template_rust::generate_project(&intent(
            "A Rust API for invoices",
            requirements,
        ))
        .expect("rust project");
        check("rust", &rust);
        let react = qlp_plugin_template_react::generate_project(&intent(
            "A React app for invoices",
            requirements,
        ))
        .expect("react project");
        check("react", &react);
    }
}
