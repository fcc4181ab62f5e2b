//! Tests of `qlp/quality`: a clean project of each stack stays silent, each
//! rule reports its planted problem at the right path and line, thresholds
//! follow the operator's configuration, and suppressions are counted.

use super::*;
use qlp_sdk::FunctionMetrics;

fn located(report: &Report) -> Vec<(&str, &str, Option<u32>, Severity)> {
    report
        .findings
        .iter()
        .map(|f| {
            (
                f.rule_id.as_str(),
                f.path().unwrap_or(""),
                f.line(),
                f.severity,
            )
        })
        .collect()
}

fn function(name: &str, line: u32, complexity: u32, documented: bool) -> FunctionMetrics {
    FunctionMetrics {
        name: name.into(),
        line,
        cyclomatic_complexity: complexity,
        documented,
    }
}

fn analysis(path: &str, loc: u32, functions: Vec<FunctionMetrics>) -> Analysis {
    let documented = functions.iter().filter(|f| f.documented).count();
    let coverage = if functions.is_empty() {
        1.0
    } else {
        documented as f32 / functions.len() as f32
    };
    Analysis {
        path: path.into(),
        language: "python".into(),
        lines_of_code: loc,
        comment_lines: 0,
        blank_lines: 0,
        functions,
        imports: vec![],
        doc_coverage: coverage,
    }
}

const SERVICE_PY: &str = r#""""Invoice service."""


def total(lines: list[dict]) -> int:
    """Sums the line amounts."""
    return sum(line["amount"] for line in lines)


def _round(value: float) -> int:
    return int(value)
"#;

const TEST_SERVICE_PY: &str = r#"from app.service import total


def test_total_sums_lines():
    assert total([{"amount": 2}, {"amount": 3}]) == 5
"#;

fn clean_python() -> (Vec<File>, Vec<Analysis>) {
    let files = vec![
        File::text("app/__init__.py", ""),
        File::text("app/service.py", SERVICE_PY),
        File::text("tests/test_service.py", TEST_SERVICE_PY),
    ];
    let analyses = vec![
        analysis("app/__init__.py", 0, vec![]),
        analysis(
            "app/service.py",
            6,
            vec![
                function("total", 4, 2, true),
                function("_round", 9, 1, false),
            ],
        ),
        analysis(
            "tests/test_service.py",
            3,
            vec![function("test_total_sums_lines", 4, 1, false)],
        ),
    ];
    (files, analyses)
}

#[test]
fn clean_projects_of_every_stack_have_no_findings() {
    let (mut files, analyses) = clean_python();
    files.extend([
        File::text(
            "web/src/money.ts",
            "export function cents(n: number): number {\n  return Math.round(n * 100);\n}\n",
        ),
        File::text(
            "web/test/money.test.ts",
            "import { cents } from \"../src/money\";\ntest(() => cents(1));\n",
        ),
        File::text(
            "svc/invoice.go",
            "package svc\n\n// Total sums.\nfunc Total(a, b int) int { return a + b }\n",
        ),
        File::text(
            "svc/invoice_test.go",
            "package svc\n\nfunc TestTotal(t *testing.T) {}\n",
        ),
        File::text(
            "core/src/lib.rs",
            "/// Adds.\npub fn add(a: i32, b: i32) -> i32 { a + b }\n#[cfg(test)]\nmod tests {}\n",
        ),
        File::text(
            "api/src/main/java/Invoice.java",
            "class Invoice { int total() { return 1; } }\n",
        ),
        File::text(
            "api/src/test/java/InvoiceTest.java",
            "class InvoiceTest { void t() { new Invoice(); } }\n",
        ),
    ]);
    let report = check(&files, &analyses, &Settings::default());
    assert_eq!(located(&report), [], "{:#?}", report.findings);
    assert_eq!(report.score, 100);
    assert_eq!(
        report.summary,
        "no quality findings; 1 of 1 public functions documented in analysed files; no analysis \
         for go, java, javascript, rust: complexity and documentation not checked there"
    );
}

// --- quality/complexity and quality/undocumented-function

#[test]
fn complex_functions_are_medium_above_warn_and_high_above_high() {
    let (files, mut analyses) = clean_python();
    analyses[1].functions = vec![
        function("total", 4, 10, true),
        function("Invoices.reconcile", 9, 11, true),
        function("migrate", 20, 21, true),
    ];
    let report = check(&files, &analyses, &Settings::default());
    assert_eq!(
        located(&report),
        [
            (
                "quality/complexity",
                "app/service.py",
                Some(9),
                Severity::Medium
            ),
            (
                "quality/complexity",
                "app/service.py",
                Some(20),
                Severity::High
            ),
        ]
    );
    assert!(
        report.findings[0]
            .message
            .contains("`Invoices.reconcile` has cyclomatic complexity 11 (threshold 10)")
    );
    assert_eq!(report.score, 100 - 4 - 10);
}

#[test]
fn operator_thresholds_change_what_is_reported() {
    let (files, mut analyses) = clean_python();
    analyses[1].functions = vec![function("total", 4, 7, true)];
    let strict = Settings::from_config(|key| match key {
        settings::KEY_COMPLEXITY_WARN => Some("5".into()),
        settings::KEY_COMPLEXITY_HIGH => Some("6".into()),
        _ => None,
    })
    .unwrap();
    let report = check(&files, &analyses, &strict);
    assert_eq!(
        located(&report),
        [(
            "quality/complexity",
            "app/service.py",
            Some(4),
            Severity::High
        )]
    );
    assert_eq!(
        Settings::from_config(|_| None).unwrap(),
        Settings::default()
    );
}

#[test]
fn invalid_configuration_fails_with_the_key_named() {
    let bad =
        Settings::from_config(|key| (key == settings::KEY_MAX_FILE_LINES).then(|| "many".into()));
    let err = bad.unwrap_err();
    assert_eq!(err.code, "INVALID_CONFIG");
    assert!(err.message.contains("`max-file-lines`"), "{}", err.message);
    let inverted =
        Settings::from_config(|key| (key == settings::KEY_COMPLEXITY_HIGH).then(|| "8".into()));
    assert!(
        inverted
            .unwrap_err()
            .message
            .contains("must be above `complexity-warn` (10)")
    );
    let zero =
        Settings::from_config(|key| (key == settings::KEY_DUPLICATE_MIN_LINES).then(|| "0".into()));
    assert_eq!(zero.unwrap_err().code, "INVALID_CONFIG");
}

#[test]
fn undocumented_public_functions_are_reported_outside_tests() {
    let (files, mut analyses) = clean_python();
    analyses[1].functions = vec![
        function("total", 4, 1, false),
        function("Invoice.__init__", 6, 1, false),
        function("Invoice.send", 8, 1, false),
        function("_round", 9, 1, false),
    ];
    let report = check(&files, &analyses, &Settings::default());
    assert_eq!(
        located(&report),
        [
            (
                "quality/undocumented-function",
                "app/service.py",
                Some(4),
                Severity::Low
            ),
            (
                "quality/undocumented-function",
                "app/service.py",
                Some(8),
                Severity::Low
            ),
        ]
    );
    assert!(is_public(Lang::Go, "Server.Handle"));
    assert!(!is_public(Lang::Go, "Server.handle"));
    assert!(!is_public(Lang::JavaScript, "(anonymous)"));
    assert!(!is_public(Lang::JavaScript, "Router.(anonymous)"));
}

// --- quality/missing-tests and quality/no-tests

#[test]
fn modules_without_tests_are_reported_per_language_convention() {
    let (mut files, mut analyses) = clean_python();
    files.push(File::text(
        "app/billing.py",
        "def bill():\n    \"\"\"Bills.\"\"\"\n",
    ));
    analyses.push(analysis(
        "app/billing.py",
        2,
        vec![function("bill", 1, 1, true)],
    ));
    files.push(File::text(
        "app/models.py",
        "class Invoice:\n    total: int\n",
    ));
    analyses.push(analysis("app/models.py", 2, vec![]));
    files.extend([
        File::text("web/src/app.ts", "export const app = () => 1;\n"),
        File::text("web/src/util.ts", "export function pad() { return 1; }\n"),
        File::text(
            "web/test/app.spec.ts",
            "import { app } from '../src/app.js';\n",
        ),
        File::text("svc/a.go", "package svc\nfunc A() {}\n"),
        File::text("svc/b.go", "package svc\nfunc B() {}\n"),
        File::text("svc/store/s.go", "package store\nfunc S() {}\n"),
        File::text("svc/store/s_test.go", "package store\n"),
    ]);
    let report = check(&files, &analyses, &Settings::default());
    let missing: Vec<(&str, &str)> = located(&report)
        .into_iter()
        .map(|(rule, path, _, _)| (rule, path))
        .collect();
    assert_eq!(
        missing,
        [
            ("quality/missing-tests", "app/billing.py"),
            ("quality/missing-tests", "svc/a.go"),
            ("quality/missing-tests", "web/src/util.ts"),
        ]
    );
    assert!(report.findings[1].message.contains("Go package `svc`"));
}

#[test]
fn a_project_without_any_test_is_one_high_finding() {
    let files = vec![
        File::text("main.go", "package main\nfunc main() {}\n"),
        File::text("util.go", "package main\nfunc pad() {}\n"),
    ];
    let report = check(&files, &[], &Settings::default());
    assert_eq!(
        located(&report),
        [("quality/no-tests", "main.go", None, Severity::High)]
    );
    assert!(
        report.findings[0]
            .message
            .contains("2 source modules and no test file")
    );
}

#[test]
fn python_imports_count_as_testing_a_module() {
    let text = "from app.routes import invoices, customers\nimport app.auth\n";
    assert!(layout::tests_module(
        Lang::Python,
        "app/routes/invoices.py",
        "tests/test_api.py",
        text
    ));
    assert!(layout::tests_module(
        Lang::Python,
        "app/auth.py",
        "tests/test_api.py",
        text
    ));
    assert!(!layout::tests_module(
        Lang::Python,
        "app/authz.py",
        "tests/test_api.py",
        text
    ));
    assert!(layout::tests_module(
        Lang::Python,
        "app/storage.py",
        "tests/test_storage.py",
        ""
    ));
    assert!(layout::is_test("tests/conftest.py", Lang::Python));
    assert!(layout::is_test("src/__tests__/x.tsx", Lang::JavaScript));
    assert!(!layout::is_test("app/testing.py", Lang::Python));
}

// --- quality/long-file

#[test]
fn long_files_are_low_above_the_limit_and_medium_above_twice_it() {
    let settings = Settings {
        max_file_lines: 10,
        ..Settings::default()
    };
    let body = |name: &str, n: usize| -> String {
        (0..n)
            .map(|i| format!("// note\nlet {name}{i} = {i};\n\n"))
            .collect()
    };
    let files = vec![
        File::text("src/ok.ts", body("ok", 10)),
        File::text("src/long.ts", body("long", 11)),
        File::text("src/huge.ts", body("huge", 21)),
        File::text(
            "test/all.test.ts",
            "import '../src/ok';\nimport '../src/long';\nimport '../src/huge';\n",
        ),
    ];
    let report = check(&files, &[], &settings);
    assert_eq!(
        located(&report),
        [
            ("quality/long-file", "src/huge.ts", None, Severity::Medium),
            ("quality/long-file", "src/long.ts", None, Severity::Low),
        ]
    );
    assert!(
        report.findings[1]
            .message
            .starts_with("11 lines of code (limit 10)")
    );
}

// --- quality/duplicate-block

const COPIED: &str = "    total = 0
    for line in invoice.lines:
        if line.amount < 0:
            raise ValueError(\"negative amount\")
        total += line.amount * line.quantity
    invoice.total = total
    return invoice
";

#[test]
fn duplicated_blocks_are_reported_once_at_the_later_copy() {
    let a = format!("def price(invoice):\n    \"\"\"Prices.\"\"\"\n{COPIED}");
    let b = format!(
        "import os\n\n\ndef reprice(invoice):\n    # same again\n{COPIED}\n\ndef other():\n    pass\n"
    );
    let files = vec![
        File::text("app/a.py", a),
        File::text("app/b.py", b),
        File::text(
            "tests/test_ab.py",
            format!("from app import a, b\n{COPIED}{COPIED}"),
        ),
    ];
    let report = check(&files, &[], &Settings::default());
    let dups: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.rule_id == DUPLICATE_BLOCK)
        .collect();
    assert_eq!(dups.len(), 1, "{dups:#?}");
    assert_eq!(dups[0].path(), Some("app/b.py"));
    assert_eq!(dups[0].line(), Some(6));
    assert!(
        dups[0]
            .message
            .contains("lines 6–12 repeat 7 lines of `app/a.py` (lines 3–9)"),
        "{}",
        dups[0].message
    );
}

#[test]
fn short_repeats_braces_and_imports_are_not_duplicates() {
    let braces = "}\n}\n});\n}\n)\n]\n}\n}\n";
    let imports = "import os\nimport sys\nimport json\nimport re\nimport io\nimport abc\n";
    let five = "a = compute(1)\nb = compute(2)\nc = compute(3)\nd = compute(4)\ne = compute(5)\n";
    let files = [braces, imports, five];
    let sources: Vec<duplicates::Source<'_>> = files
        .iter()
        .chain(files.iter())
        .enumerate()
        .map(|(i, text)| duplicates::Source {
            path: ["x.py", "y.py", "z.py", "x2.py", "y2.py", "z2.py"][i],
            lang: Lang::Python,
            text,
        })
        .collect();
    assert_eq!(duplicates::find(&sources, 6), []);
    assert_eq!(duplicates::find(&sources, 5).len(), 1);
}

#[test]
fn a_block_repeated_inside_one_file_is_found_but_not_an_overlap_with_itself() {
    let repeated: String = (0..8).map(|_| "value = value + 1\n").collect();
    let sources = [duplicates::Source {
        path: "a.py",
        lang: Lang::Python,
        text: &repeated,
    }];
    let found = duplicates::find(&sources, 4);
    assert_eq!(found.len(), 1);
    assert_eq!((found[0].lines, found[0].first_lines), ((5, 8), (1, 4)));
}

// --- suppressions

#[test]
fn suppressions_apply_per_line_and_per_file_and_are_counted() {
    let (mut files, mut analyses) = clean_python();
    files[1] = File::text(
        "app/service.py",
        "# qlp-ignore: quality/complexity a state machine reads best as one function\ndef run():\n    pass\n\n\ndef go():  # qlp-ignore: undocumented-function\n    pass\n",
    );
    analyses[1].functions = vec![function("run", 2, 30, true), function("go", 6, 1, false)];
    files.push(File::text(
        "app/cli.py",
        "# qlp-ignore: quality/missing-tests exercised by the end-to-end suite\ndef main():\n    pass\n",
    ));
    let report = check(&files, &analyses, &Settings::default());
    assert_eq!(
        located(&report),
        [(
            "quality/undocumented-function",
            "app/service.py",
            Some(6),
            Severity::Low
        )]
    );
    assert!(
        report
            .summary
            .ends_with("; 2 suppressed (quality/complexity 1, quality/missing-tests 1)"),
        "{}",
        report.summary
    );
}

// --- report

#[test]
fn score_weights_findings_and_floors_at_zero() {
    let f = |severity| Finding::new(COMPLEXITY, severity, String::new());
    assert_eq!(
        score(&[f(Severity::High), f(Severity::Medium), f(Severity::Low)]),
        85
    );
    assert_eq!(score(&vec![f(Severity::High); 11]), 0);
    assert_eq!(summary(&[f(Severity::Low)]), "1 finding: 1 low");
}

#[test]
fn every_rule_id_is_documented() {
    let docs = include_str!("lib.rs");
    for id in RULE_IDS {
        assert!(docs.contains(&format!("| `{id}` |")), "{id}");
    }
}

#[test]
fn describe_names_the_plugin() {
    let info = Quality::describe();
    assert_eq!(info.name, "qlp/quality");
    assert!(matches!(info.kind, PluginKind::Validator));
}

#[test]
fn a_five_thousand_line_capsule_is_checked_quickly() {
    let mut files = Vec::new();
    let mut analyses = Vec::new();
    let mut lines = 0;
    let mut i = 0;
    while lines < 5_000 {
        let body: String = (0..100)
            .map(|j| {
                format!("def f{i}_{j}(x):\n    \"\"\"Doc.\"\"\"\n    return x * {j} + {i}\n\n")
            })
            .collect();
        lines += body.lines().count();
        let path = format!("app/m{i}.py");
        analyses.push(analysis(
            &path,
            300,
            (0..100)
                .map(|j| function(&format!("f{i}_{j}"), j * 4 + 1, 1, true))
                .collect(),
        ));
        files.push(File::text(path, body));
        files.push(File::text(
            format!("tests/test_m{i}.py"),
            format!("from app import m{i}\n"),
        ));
        i += 1;
    }
    let start = std::time::Instant::now();
    let report = check(&files, &analyses, &Settings::default());
    let elapsed = start.elapsed();
    println!(
        "qlp/quality checked {lines} lines in {} files in {:.2} ms (native, this build profile)",
        files.len(),
        elapsed.as_secs_f64() * 1e3
    );
    assert_eq!(located(&report), []);
}

/// Every prefix of `text` (at char boundaries, every `step` bytes), and
/// `text` with one troublesome character inserted at each of those points:
/// the truncated and half-edited files a validator must survive, since a
/// panic inside the component is a trap that fails the stage.
fn mangled(text: &str, step: usize) -> Vec<String> {
    const INSERTS: [&str; 13] = [
        "\"", "'", "`", "(", ")", "[", "{", "}", "\\", "/*", "#", "é\n", "- ",
    ];
    let mut out = Vec::new();
    let cuts = (0..=text.len())
        .step_by(step)
        .filter(|i| text.is_char_boundary(*i));
    for (n, cut) in cuts.enumerate() {
        out.push(text[..cut].to_string());
        let insert = INSERTS[n % INSERTS.len()];
        out.push(format!("{}{insert}{}", &text[..cut], &text[cut..]));
    }
    out
}

#[test]
fn truncated_and_mangled_sources_never_panic() {
    let samples = [SERVICE_PY, TEST_SERVICE_PY, COPIED];
    let mut checked = 0;
    for sample in samples {
        for text in mangled(sample, 3) {
            let files = [
                File::text("app/x.py", text.clone()),
                File::text("src/x.ts", text.clone()),
                File::text("x.go", text.clone()),
                File::text("tests/test_x.py", text),
            ];
            let settings = Settings {
                duplicate_min_lines: 2,
                ..Settings::default()
            };
            let _ = check(&files, &[], &settings);
            checked += 1;
        }
    }
    assert!(checked > 100, "{checked}");
}
