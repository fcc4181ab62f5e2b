//! The example pack in `examples/acme` passes its own rule tests: every
//! rule matches every `ruleid:` line and nothing else.

use std::path::Path;

use qlp_rules::testing;

#[test]
fn the_acme_example_pack_passes_its_rule_tests() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/acme");
    let report = testing::run(&dir);
    println!("{report}");
    assert!(report.passed(), "{report}");
    let ids: Vec<&str> = report
        .packs
        .iter()
        .flat_map(|p| p.rules.iter().map(|r| r.id.as_str()))
        .collect();
    assert_eq!(
        ids,
        [
            "acme/no-aws-access-key",
            "acme/no-console-in-services",
            "acme/requests-without-timeout",
            "acme/go-sql-sprintf",
        ]
    );
    assert!(report.packs.iter().all(|p| !p.examples.is_empty()));
}
