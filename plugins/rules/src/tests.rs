//! Tests of `qlp/rules`: no pack, a broken pack, the finding's fields and
//! message, suppressions, the score and garbage input.

use super::*;

const PACK: &str = r#"
rules:
  - id: acme/no-print-in-services
    message: Use the structured logger instead of print($ARG).
    severity: medium
    languages: [python]
    paths: { include: ["src/**"], exclude: ["**/tests/**"] }
    pattern: print($ARG)
    fix: logger.info($ARG)
    metadata: { tags: [logging], controls: ["SOC2 CC7.2"], cwe: ["CWE-532"] }
  - id: acme/no-private-key
    message: A private key is committed.
    severity: critical
    languages: [generic]
    pattern-regex: '-----BEGIN [A-Z ]*PRIVATE KEY-----'
"#;

#[test]
fn without_a_pack_the_score_is_100_and_the_summary_says_so() {
    for pack in [None, Some(""), Some("  \n")] {
        let report = check(&[File::text("src/a.py", "print(x)\n")], pack).unwrap();
        assert!(report.findings.is_empty());
        assert_eq!(report.score, 100);
        assert!(
            report.summary.starts_with("no rule pack configured"),
            "{}",
            report.summary
        );
    }
}

#[test]
fn a_broken_pack_is_an_error_naming_the_rule_and_reason() {
    let broken = PACK.replace("severity: critical", "severity: urgent");
    let err = check(&[], Some(broken.as_str())).unwrap_err();
    assert_eq!(err.code, INVALID_PACK);
    assert_eq!(
        err.message,
        "invalid rule pack (#1): rule `acme/no-private-key`: unknown severity `urgent` (info, low, medium, high, critical; or INFO, WARNING, ERROR)"
    );
    // The broken one of several packs is named by its place.
    let err = check(&[], [PACK, "", broken.as_str()]).unwrap_err();
    assert!(
        err.message
            .starts_with("invalid rule pack (#3): rule `acme/no-private-key`"),
        "{}",
        err.message
    );
}

#[test]
fn several_packs_run_as_one() {
    const SECOND: &str = "rules:\n  - id: corp/no-todo\n    message: TODO left\n    severity: low\n    languages: [generic]\n    pattern-regex: TODO\n";
    let files = [File::text("src/a.py", "print(x)  # TODO\n")];
    let report = check(&files, [PACK, SECOND]).unwrap();
    let mut ids: Vec<&str> = report.findings.iter().map(|f| f.rule_id.as_str()).collect();
    ids.sort();
    assert_eq!(ids, ["acme/no-print-in-services", "corp/no-todo"]);
    assert!(report.summary.contains("3 rules"), "{}", report.summary);
    assert_eq!(report.score, 100 - PENALTY_MEDIUM - PENALTY_LOW);
}

#[test]
fn findings_carry_the_enterprise_id_severity_line_and_full_message() {
    let files = [
        File::text("src/app.py", "import logging\n\nprint(order)\n"),
        File::text(
            "deploy/key.pem",
            "x\n-----BEGIN RSA PRIVATE KEY-----\nabc\n",
        ),
        File::text("src/tests/test_app.py", "print(order)\n"),
        File::text("README.md", "Call print(x) to debug.\n"),
    ];
    let report = check(&files, Some(PACK)).unwrap();
    let got: Vec<(&str, Severity, Option<&str>, Option<u32>)> = report
        .findings
        .iter()
        .map(|f| (f.rule_id.as_str(), f.severity, f.path(), f.line()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "acme/no-print-in-services",
                Severity::Medium,
                Some("src/app.py"),
                Some(3)
            ),
            (
                "acme/no-private-key",
                Severity::Critical,
                Some("deploy/key.pem"),
                Some(2)
            ),
        ]
    );
    assert_eq!(
        report.findings[0].message,
        "Use the structured logger instead of print(order). Fix: logger.info(order) [SOC2 CC7.2, CWE-532]"
    );
    assert_eq!(report.findings[1].message, "A private key is committed.");
    assert_eq!(report.score, 100 - PENALTY_MEDIUM - PENALTY_CRITICAL);
    assert_eq!(
        report.summary,
        "4 files checked against 2 rules: 2 findings: 1 critical, 1 medium"
    );
}

#[test]
fn clean_files_stay_silent() {
    let files = [
        File::text(
            "src/app.py",
            "import logging\nlog = logging.getLogger(__name__)\nlog.info('x')\n# print(x)\ns = 'print(x)'\n",
        ),
        File::text("deploy/config.yaml", "key: BEGIN PRIVATE\n"),
    ];
    let report = check(&files, Some(PACK)).unwrap();
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    assert_eq!(report.score, 100);
    assert_eq!(
        report.summary,
        "2 files checked against 2 rules: no findings"
    );
}

#[test]
fn qlp_ignore_suppresses_and_is_counted() {
    let files = [File::text(
        "src/app.py",
        "print(a)  # qlp-ignore: acme/no-print-in-services CLI entry point\n\
         # qlp-ignore: no-print-in-services banner shown once\n\
         print(b)\n\
         print(c)  # qlp-ignore: acme/no-print-in-services\n",
    )];
    let report = check(&files, Some(PACK)).unwrap();
    let lines: Vec<Option<u32>> = report.findings.iter().map(|f| f.line()).collect();
    assert_eq!(
        lines,
        [Some(4)],
        "a marker without a reason suppresses nothing"
    );
    assert!(
        report
            .summary
            .ends_with("; 2 suppressed (acme/no-print-in-services 2)"),
        "{}",
        report.summary
    );
}

#[test]
fn binary_and_oversized_files_are_skipped_and_counted() {
    let files = [
        File {
            path: "src/blob.py".into(),
            content: vec![0xff, 0xfe, b'p'],
        },
        File::text(
            "src/big.py",
            "print(x)\n".repeat(qlp_rules::MAX_FILE_BYTES / 8),
        ),
    ];
    let report = check(&files, Some(PACK)).unwrap();
    assert!(report.findings.is_empty());
    assert_eq!(
        report.summary,
        "0 files checked against 2 rules: no findings; 2 binary or oversized skipped"
    );
}

#[test]
fn score_floors_at_zero_and_info_is_free() {
    let finding = |severity| Finding::new("a/b", severity, String::new());
    assert_eq!(score(&vec![finding(Severity::Critical); 3]), 0);
    assert_eq!(score(&vec![finding(Severity::Info); 3]), 100);
    assert_eq!(
        score(&[finding(Severity::High), finding(Severity::Low)]),
        77
    );
}

#[test]
fn garbage_and_truncated_input_never_panics() {
    let garbage = "\u{0}\u{feff}print((((\"'`${ \n\t#/*** -----BEGIN\u{ffff}";
    let files: Vec<File> = ["a.py", "a.ts", "a.go", "a.rs", "A.java", "x"]
        .iter()
        .map(|p| File::text(format!("src/{p}"), garbage))
        .collect();
    assert!(check(&files, Some(PACK)).is_ok());
    for cut in 0..PACK.len() {
        if PACK.is_char_boundary(cut) {
            let _ = check(&files, Some(&PACK[..cut]));
        }
    }
    assert!(check(&files, Some(garbage)).is_err());
}
