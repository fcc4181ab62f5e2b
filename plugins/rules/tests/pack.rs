//! `qlp/rules` with an operator's pack (`tests/data/pack.yaml`) over a
//! small capsule in Python, Go and TypeScript: each rule reports its
//! planted line with its severity, the clean files stay silent, and the
//! pack reaches the plugin through its `pack` configuration value.

use qlp_plugin_rules::{PLUGIN_NAME, Rules, check};
use qlp_sdk::File;
use qlp_sdk::Intent;
use qlp_sdk::validator::{Capsule, CapsuleView, Severity, Validator};

const PACK: &str = include_str!("data/pack.yaml");

fn planted() -> Vec<File> {
    vec![
        File::text(
            "app/client.py",
            "import requests\n\n\ndef get(u):\n    return requests.get(u)\n\n\ndef ok(u):\n    return requests.get(u, timeout=3)\n",
        ),
        File::text(
            "store/invoices.go",
            "package store\n\nfunc q(db *sql.DB, id string) {\n\tdb.Query(fmt.Sprintf(\"SELECT * FROM t WHERE id = %s\", id))\n}\n",
        ),
        File::text(
            "src/handler.ts",
            "export function h() {\n  console.log(\"x\");\n  const k = \"AKIAIOSFODNN7EXAMPLE\";\n}\n",
        ),
        File::text("scripts/dev.ts", "console.log(\"outside src\");\n"),
    ]
}

#[test]
fn each_rule_reports_its_planted_line() {
    let report = check(&planted(), Some(PACK)).unwrap();
    let mut got: Vec<(&str, Severity, &str, u32)> = report
        .findings
        .iter()
        .map(|f| {
            (
                f.rule_id.as_str(),
                f.severity,
                f.path().unwrap_or(""),
                f.line().unwrap_or(0),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            (
                "acme/go-sql-sprintf",
                Severity::High,
                "store/invoices.go",
                4
            ),
            (
                "acme/no-aws-access-key",
                Severity::Critical,
                "src/handler.ts",
                3
            ),
            (
                "acme/no-console-in-services",
                Severity::Low,
                "src/handler.ts",
                2
            ),
            (
                "acme/requests-without-timeout",
                Severity::Medium,
                "app/client.py",
                5
            ),
        ]
    );
    let messages: Vec<&str> = report.findings.iter().map(|f| f.message.as_str()).collect();
    assert!(messages.contains(&"requests.get has no timeout. Fix: requests.get(u, timeout=10)"));
    assert!(messages.contains(&"SQL built with fmt.Sprintf is passed to db.Query. [CWE-89]"));
    assert!(messages.contains(
        &"An AWS access key id is committed in source; rotate it. [PCI DSS 3.5.1, CWE-798]"
    ));
    assert_eq!(report.score, 100 - 40 - 20 - 10 - 3);
}

#[test]
fn clean_files_stay_silent() {
    let files = [
        File::text(
            "app/client.py",
            "import requests\nrequests.post(u, json=b, timeout=5)\n# requests.get(u)\n",
        ),
        File::text(
            "store/invoices.go",
            "package store\n\nfunc q(db *sql.DB, id string) {\n\tdb.Query(\"SELECT * FROM t WHERE id = $1\", id)\n}\n",
        ),
        File::text(
            "src/handler.ts",
            "logger.info(\"x\");\nconst k = process.env.AWS_ACCESS_KEY_ID;\n",
        ),
    ];
    let report = check(&files, Some(PACK)).unwrap();
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    assert_eq!(report.score, 100);
}

#[test]
fn the_pack_comes_from_the_plugin_configuration() {
    assert_eq!(Rules::describe().name, PLUGIN_NAME);
    let capsule = CapsuleView {
        intent: Intent {
            id: "00000000-0000-0000-0000-000000000000".into(),
            description: "invoices".into(),
            requirements: vec![],
            constraints: vec![],
            tier: "enterprise".into(),
        },
        files: planted(),
        analyses: vec![],
        validations: vec![],
        quality_score: None,
    };
    // Natively `qlp_sdk::config("pack")` reads QLP_PLUGIN_CONFIG_PACK; this
    // is the only test of the binary that sets it.
    // SAFETY: no other thread of this test binary reads the environment.
    unsafe { std::env::set_var("QLP_PLUGIN_CONFIG_PACK", PACK) };
    let report = Rules::validate(&Capsule::from(&capsule)).unwrap();
    assert_eq!(report.findings.len(), 4);
}
