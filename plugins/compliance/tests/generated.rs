//! What `qlp/compliance` says about the projects QLP's own agents generate
//! for a payments intent and a health-data intent, with the compliance
//! concerns the planner finds in them and with every framework forced by
//! the operator: no critical finding (the agents'
//! projects are meant to pass the strictest tier); every finding is
//! printed so a run shows what remains.

use qlp_plugin_compliance::check;
use qlp_sdk::validator::{Report, Severity};
use qlp_sdk::{CapsuleView, File, Intent, PlanningRequest, PluginError};

/// The payments intent: cards with a number, charges with a customer's
/// email address.
const PAYMENTS: &str = "A payments API for cards and charges. Each card has a cardholder name, \
                        a card number and an expiry month. Each charge has an amount, a \
                        currency and a customer email.";

/// The health-data intent: patients with personal and health data.
const HEALTH: &str = "A patient records API for a clinic. Each patient has a full name, an \
                      email, a diagnosis, a medical record number and a birth date.";

/// The intent as the host passes it: the planner's compliance concerns
/// become `("compliance", concern)` constraints.
fn intent(description: &str, requirements: &[&str]) -> Intent {
    let mut intent = Intent {
        id: "00000000-0000-0000-0000-000000000000".into(),
        description: description.into(),
        requirements: requirements.iter().map(|r| r.to_string()).collect(),
        constraints: vec![],
        tier: "mission-critical".into(),
    };
    let plan = qlp_plugin_planner::plan(&PlanningRequest {
        intent: intent.clone(),
        tiers: vec![
            "standard".into(),
            "enterprise".into(),
            "mission-critical".into(),
        ],
    });
    intent.constraints = plan
        .compliance
        .into_iter()
        .map(|c| ("compliance".to_string(), c))
        .collect();
    intent
}

type Agent = fn(&Intent) -> Result<Vec<File>, PluginError>;

/// Every shipped agent, by name.
const AGENTS: [(&str, Agent); 7] = [
    ("fastapi", qlp_plugin_template_fastapi::generate_project),
    ("go", qlp_plugin_template_go::generate_project),
    ("java", qlp_plugin_template_java::generate_project),
    ("node", qlp_plugin_template_node::generate_project),
    ("react", qlp_plugin_template_react::generate_project),
    ("rust", qlp_plugin_template_rust::generate_project),
    ("static", qlp_plugin_template_static::generate_project),
];

/// Agents that apply the protection the intent's concerns ask for
/// (`qlp_intent_spec::protection`): their projects have no finding at all,
/// and never store a card verification code.
const PROTECTING_AGENTS: &[&str] = &["fastapi", "go", "java", "node", "rust"];

/// Every framework, as an operator would force them on the strictest tier.
const EVERY_FRAMEWORK: &str = "pci-dss,hipaa,gdpr,soc2";

fn report(intent: &Intent, files: Vec<File>) -> Report {
    report_with(intent, files, None)
}

fn report_with(intent: &Intent, files: Vec<File>, configured: Option<&str>) -> Report {
    let capsule = CapsuleView {
        intent: intent.clone(),
        files,
        analyses: vec![],
        validations: vec![],
        quality_score: None,
    };
    check(&capsule, configured).expect("a valid configuration")
}

fn print(name: &str, report: &Report) {
    println!("{name}: score {}: {}", report.score, report.summary);
    for f in &report.findings {
        println!(
            "  {} {:?} {}:{} {}",
            f.rule_id,
            f.severity,
            f.path().unwrap_or("(project)"),
            f.line().unwrap_or(0),
            f.message
        );
    }
}

#[test]
fn generated_projects_have_no_critical_findings() {
    let requirements = [
        "Routes require JWT authentication",
        "Store data in PostgreSQL",
    ];
    for (label, description, concern) in [
        ("payments", PAYMENTS, "payments"),
        ("health", HEALTH, "health-data"),
    ] {
        let intent = intent(description, &requirements);
        assert!(
            intent.constraints.iter().any(|(_, c)| c == concern),
            "{label}: {:?}",
            intent.constraints
        );
        for ((agent, generate), configured) in AGENTS
            .iter()
            .flat_map(|a| [(*a, None), (*a, Some(EVERY_FRAMEWORK))])
        {
            let files = generate(&intent).expect("project");
            let report = report_with(&intent, files, configured);
            let forced = if configured.is_some() { "+all" } else { "" };
            print(&format!("{label}{forced}/{agent}"), &report);
            let critical: Vec<_> = report
                .findings
                .iter()
                .filter(|f| f.severity == Severity::Critical)
                .map(|f| (f.rule_id.as_str(), f.path(), f.line()))
                .collect();
            assert_eq!(critical, [], "{label}/{agent}: {}", report.summary);
            if PROTECTING_AGENTS.contains(&agent) {
                assert!(
                    report.findings.is_empty(),
                    "{label}/{agent}: {}",
                    report.summary
                );
                assert_eq!(report.score, 100, "{label}/{agent}");
            }
        }
    }
}

/// The agents generate what the intent asks for: a card verification code
/// named as a field is stored, and the critical finding says so. (PCI DSS
/// forbids keeping it after authorisation; the agents do not refuse it.)
#[test]
fn a_cvv_the_intent_asks_to_store_is_reported_as_critical() {
    let intent = intent(
        "A payments API for cards. Each card has a card number, a cvv and an expiry month.",
        &["Routes require JWT authentication"],
    );
    for (agent, generate) in AGENTS {
        let files = generate(&intent).expect("project");
        let report = report(&intent, files);
        let stores_cvv = report
            .findings
            .iter()
            .any(|f| f.rule_id == "compliance/cvv-stored" && f.severity == Severity::Critical);
        println!("{agent}: cvv stored: {stores_cvv}");
        // The back-ends keep the field unless they apply the payments
        // concern's protection, which drops it; the FastAPI agent ignores
        // field lists, and the front-ends store nothing.
        let expected =
            matches!(agent, "go" | "node" | "rust") && !PROTECTING_AGENTS.contains(&agent);
        assert_eq!(stores_cvv, expected, "{agent}: {}", report.summary);
    }
}

/// Without the payments concern the Java agent keeps the card number in
/// clear text in its model record and sets no retention (its token's
/// `expiresSeconds` is not one); an operator who forces PCI DSS is told so
/// at the record component, once for the record and its request body
/// (`Card.Input`).
#[test]
fn the_unprotected_java_project_stores_the_card_number_in_clear() {
    let mut intent = intent(PAYMENTS, &["Routes require JWT authentication"]);
    intent.constraints.retain(|(_, c)| c != "payments");
    assert!(
        !intent.constraints.iter().any(|(k, _)| k == "compliance"),
        "{:?}",
        intent.constraints
    );
    let files = qlp_plugin_template_java::generate_project(&intent).expect("project");
    let model = files
        .iter()
        .find(|f| f.path.ends_with("/model/Card.java"))
        .expect("the card model")
        .clone();
    let text = model.as_text().expect("utf-8");
    let line = text
        .lines()
        .position(|l| l.trim() == "String cardNumber,")
        .expect("the card number component") as u32
        + 1;
    let path = model.path.clone();

    let report = report_with(&intent, files, Some("pci-dss"));
    print("payments-unprotected+pci-dss/java", &report);
    let at_rest: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.rule_id == "compliance/unencrypted-at-rest")
        .collect();
    assert_eq!(at_rest.len(), 1, "{}", report.summary);
    assert_eq!(
        (at_rest[0].path(), at_rest[0].line()),
        (Some(path.as_str()), Some(line))
    );
    assert!(
        at_rest[0].message.contains("`Card.cardNumber`"),
        "{}",
        at_rest[0].message
    );
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.rule_id == "compliance/no-retention-policy"),
        "{}",
        report.summary
    );
    // Nothing is reported without a framework.
    assert!(report_with(&intent, vec![model], None).findings.is_empty());
}
