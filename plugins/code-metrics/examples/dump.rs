//! Prints what `qlp/code-metrics` reports for the files given.
fn main() {
    for path in std::env::args().skip(1) {
        let content = std::fs::read(&path).expect("readable file");
        match qlp_plugin_code_metrics::analyze(&path, &content) {
            Ok(a) => {
                println!("{path}: {} code, {} comment, {} blank, doc coverage {:.2}", a.lines_of_code, a.comment_lines, a.blank_lines, a.doc_coverage);
                println!("  imports: {}", a.imports.join(", "));
                for f in a.functions {
                    println!("  {} {} cc={} documented={}", f.line, f.name, f.cyclomatic_complexity, f.documented);
                }
            }
            Err(e) => println!("{path}: {e:?}"),
        }
    }
}
