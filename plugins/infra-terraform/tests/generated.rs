//! The generated Terraform over several intents, checked with real tools:
//!
//! - every file parses with python-hcl2 8.1.4 (PyPI, installed by
//!   `deploy/setup.sh` section 14), and `tests/check_terraform.py` checks
//!   that every variable has a description and a type and every reference
//!   (`var.`, `local.`, `data.`, resources, `module.`, outputs) resolves.
//!   No terraform or tofu binary is installable here, so `terraform
//!   validate` is not run. Without python-hcl2 these checks print
//!   `SKIPPED` and pass, except under CI (`CI` set), where they fail;
//! - QLP's own `qlp/infrastructure` validator, linked natively, finds no
//!   high or critical finding, and a repair round fixes what it reports.
//!
//! The intents: a Go service with PostgreSQL (its files from
//! `qlp/template-go`), "Terraform for an AWS VPC", a VPC with three private
//! subnets, an S3 bucket for static assets, and a GCP intent, refused.

use std::io::Write;
use std::path::Path;
use std::process::Command;

use qlp_agent_testkit::{assert_rendered_cleanly, intent, text, write_project};
use qlp_plugin_infra_terraform::TerraformAws;
use qlp_sdk::agent::Agent;
use qlp_sdk::validator::{Finding, Severity};
use qlp_sdk::{File, GenerationRequest, Intent};

const HCL2_HINT: &str = "install python-hcl2 for python3 (run deploy/setup.sh, or `python3 -m pip install python-hcl2==8.1.4`)";

/// Whether python-hcl2 imports; when it does not, panics under CI and says
/// SKIPPED elsewhere.
fn hcl2_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import hcl2"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none_or(|v| v.is_empty()),
            "python-hcl2 is missing under CI: {HCL2_HINT}"
        );
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: python-hcl2 is missing: {HCL2_HINT}"
        );
    }
    ok
}

fn request(
    intent: Intent,
    files: Vec<File>,
    findings: Vec<Finding>,
    iteration: u32,
) -> GenerationRequest {
    GenerationRequest {
        intent,
        files,
        findings,
        iteration,
        role: "implementer".into(),
    }
}

fn generate(request: GenerationRequest) -> Vec<File> {
    TerraformAws::generate(request).expect("generates")
}

/// Parses and cross-checks the files with python-hcl2; returns the
/// checker's summary, or `None` when the tool is missing.
fn check_with_hcl2(files: &[File]) -> Option<serde_json::Value> {
    if !hcl2_available() {
        return None;
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    write_project(dir.path(), files);
    let output = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/check_terraform.py"))
        .arg(dir.path().join("terraform"))
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "the Terraform does not check out:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(serde_json::from_slice(&output.stdout).expect("the checker's JSON"))
}

/// The findings of `qlp/infrastructure` on the files.
fn validate(files: &[File]) -> Vec<Finding> {
    qlp_plugin_infrastructure::check(files).findings
}

fn assert_no_high_or_critical(findings: &[Finding]) {
    let severe: Vec<String> = findings
        .iter()
        .filter(|f| matches!(f.severity, Severity::High | Severity::Critical))
        .map(|f| format!("{} {:?}:{:?} {}", f.rule_id, f.path(), f.line(), f.message))
        .collect();
    assert!(
        severe.is_empty(),
        "high or critical findings:\n{}",
        severe.join("\n")
    );
}

fn names(summary: &serde_json::Value, key: &str) -> Vec<String> {
    summary[key]
        .as_array()
        .expect("a list")
        .iter()
        .map(|v| v.as_str().expect("a string").to_string())
        .collect()
}

fn paths(files: &[File]) -> Vec<&str> {
    files.iter().map(|f| f.path.as_str()).collect()
}

#[test]
fn a_go_service_with_postgresql_runs_on_fargate_with_rds() {
    let go_intent = intent(
        "Create a Go REST API for warehouse inventory with PostgreSQL, deployed on AWS with Terraform",
        &["Each inventory item has a SKU, a name and a quantity"],
        &[("port", "9090")],
    );
    let stack_files =
        qlp_plugin_template_go::generate_project(&go_intent).expect("the Go agent generates");
    let files = generate(request(go_intent, stack_files.clone(), vec![], 0));
    assert_rendered_cleanly(&files);
    assert!(
        files.iter().all(|f| f.path.starts_with("terraform/")),
        "{:?}",
        paths(&files)
    );
    for own in [
        "versions.tf",
        "main.tf",
        "variables.tf",
        "network.tf",
        "service.tf",
        "load_balancer.tf",
        "logs.tf",
        "database.tf",
        "outputs.tf",
        "terraform.tfvars.example",
        "README.md",
    ] {
        assert!(
            files.iter().any(|f| f.path == format!("terraform/{own}")),
            "{own}"
        );
    }

    assert!(
        text(&files, "terraform/variables.tf").contains("default     = \"inventories-service\""),
        "the stack agent's project name"
    );
    let service = text(&files, "terraform/service.tf");
    assert!(
        service.contains("container_port = 9090"),
        "the Dockerfile's EXPOSE 9090"
    );
    assert!(
        service.contains("health_check_path = \"/health\""),
        "the Go service's route"
    );
    assert!(service.contains("valueFrom = aws_secretsmanager_secret.database_url.arn"));
    let database = text(&files, "terraform/database.tf");
    assert!(database.contains("engine                          = \"postgres\""));
    assert!(database.contains("publicly_accessible             = false"));
    assert!(database.contains("password                        = random_password.database.result"));
    assert!(database.contains("referenced_security_group_id = aws_security_group.service.id"));
    assert!(text(&files, "terraform/versions.tf").contains("version = \"~> 5.0\""));
    assert!(
        !text(&files, "terraform/variables.tf").contains("password\" {"),
        "the password is generated, not an input"
    );

    let findings = validate(&[stack_files, files.clone()].concat());
    assert_no_high_or_critical(&findings);
    assert!(findings.is_empty(), "{findings:?}");

    if let Some(summary) = check_with_hcl2(&files) {
        let resources = names(&summary, "resources");
        for wanted in [
            "aws_vpc.this",
            "aws_nat_gateway.this",
            "aws_ecs_service.this",
            "aws_lb.this",
            "aws_lb_target_group.this",
            "aws_db_instance.this",
            "aws_db_subnet_group.this",
            "aws_iam_role.execution",
            "aws_cloudwatch_log_group.service",
            "random_password.database",
        ] {
            assert!(
                resources.contains(&wanted.to_string()),
                "{wanted} in {resources:?}"
            );
        }
        assert!(names(&summary, "variables").contains(&"container_image".to_string()));
    }
}

#[test]
fn terraform_for_an_aws_vpc_is_a_network_alone() {
    let files = generate(request(
        intent("Terraform for an AWS VPC", &[], &[]),
        vec![],
        vec![],
        0,
    ));
    assert_rendered_cleanly(&files);
    let produced = paths(&files);
    assert!(produced.contains(&"terraform/network.tf"));
    for absent in ["service.tf", "database.tf", "storage.tf", "logs.tf"] {
        assert!(
            !produced.contains(&format!("terraform/{absent}").as_str()),
            "{absent}"
        );
    }
    let variables = text(&files, "terraform/variables.tf");
    assert!(variables.contains("default     = \"10.0.0.0/16\""));
    assert!(
        variables.contains("default     = 2"),
        "two zones by default"
    );
    assert!(text(&files, "terraform/network.tf").contains("resource \"aws_nat_gateway\""));
    assert!(validate(&files).is_empty());
    if let Some(summary) = check_with_hcl2(&files) {
        let resources = names(&summary, "resources");
        assert!(
            resources
                .iter()
                .all(|r| !r.starts_with("aws_ecs") && !r.starts_with("aws_db"))
        );
        assert!(resources.contains(&"aws_internet_gateway.this".to_string()));
    }
}

#[test]
fn a_vpc_with_three_private_subnets_and_given_values_gets_exactly_those() {
    let files = generate(request(
        intent(
            "Terraform for an AWS VPC 10.42.0.0/16 with three private subnets in eu-central-1",
            &["Tag everything with team=platform"],
            &[],
        ),
        vec![],
        vec![],
        0,
    ));
    let variables = text(&files, "terraform/variables.tf");
    assert!(variables.contains("\"10.42.128.0/20\", \"10.42.144.0/20\", \"10.42.160.0/20\""));
    assert!(variables.contains("default     = \"eu-central-1\""));
    assert!(variables.contains("team = \"platform\""));
    assert!(!variables.contains("public_subnet_cidrs"));
    let network = text(&files, "terraform/network.tf");
    assert!(!network.contains("aws_internet_gateway") && !network.contains("aws_nat_gateway"));
    assert!(validate(&files).is_empty());
    if let Some(summary) = check_with_hcl2(&files) {
        assert!(names(&summary, "outputs").contains(&"private_subnet_ids".to_string()));
    }
}

#[test]
fn an_s3_bucket_intent_gets_a_bucket_and_round_two_fixes_the_finding() {
    let bucket_intent = intent("an S3 bucket for static assets with versioning", &[], &[]);
    let first = generate(request(bucket_intent.clone(), vec![], vec![], 0));
    assert_eq!(
        paths(&first),
        [
            "terraform/versions.tf",
            "terraform/main.tf",
            "terraform/variables.tf",
            "terraform/storage.tf",
            "terraform/outputs.tf",
            "terraform/terraform.tfvars.example",
            "terraform/README.md",
        ]
    );
    let storage = text(&first, "terraform/storage.tf");
    for wanted in [
        "resource \"aws_s3_bucket_public_access_block\" \"this\"",
        "resource \"aws_s3_bucket_server_side_encryption_configuration\" \"this\"",
        "resource \"aws_s3_bucket_versioning\" \"this\"",
    ] {
        assert!(storage.contains(wanted), "{wanted}");
    }
    assert!(text(&first, "terraform/variables.tf").contains("default     = true"));
    let findings = validate(&first);
    assert_no_high_or_critical(&findings);
    let rules: Vec<&str> = findings.iter().map(|f| f.rule_id.as_str()).collect();
    assert_eq!(
        rules,
        ["infrastructure/tf-logging-disabled"],
        "the bucket logs nothing yet"
    );
    check_with_hcl2(&first);

    let second = generate(request(bucket_intent.clone(), first.clone(), findings, 1));
    assert!(text(&second, "terraform/storage.tf").contains("resource \"aws_s3_bucket_logging\""));
    assert!(validate(&second).is_empty(), "{:?}", validate(&second));
    if let Some(summary) = check_with_hcl2(&second) {
        assert!(names(&summary, "resources").contains(&"aws_s3_bucket.logs".to_string()));
    }

    let third = generate(request(bucket_intent, second.clone(), vec![], 2));
    assert_eq!(
        qlp_agent_testkit::contract::snapshot(&third),
        qlp_agent_testkit::contract::snapshot(&second),
        "a later round keeps the fix"
    );
}

#[test]
fn an_encryption_finding_brings_a_customer_managed_key() {
    let db_intent = intent("Terraform for an AWS MySQL database", &[], &[]);
    let first = generate(request(db_intent.clone(), vec![], vec![], 0));
    let finding = Finding::new(
        "infrastructure/tf-unencrypted-storage",
        Severity::High,
        "database `aws_db_instance.this` is not encrypted with a customer key",
    )
    .at("terraform/database.tf", 1);
    let second = generate(request(db_intent, first, vec![finding], 1));
    assert!(text(&second, "terraform/kms.tf").contains("enable_key_rotation     = true"));
    assert!(text(&second, "terraform/database.tf").contains("kms_key_id"));
    assert!(validate(&second).is_empty(), "{:?}", validate(&second));
    check_with_hcl2(&second);
}

#[test]
fn a_gcp_intent_is_refused_naming_what_is_served() {
    let error = TerraformAws::generate(request(
        intent(
            "Terraform for a GKE cluster on Google Cloud with Cloud SQL",
            &[],
            &[],
        ),
        vec![],
        vec![],
        0,
    ))
    .expect_err("GCP is not served");
    assert_eq!(error.code, "UNSUPPORTED_CLOUD");
    assert!(error.message.contains("Google Cloud"), "{}", error.message);
    assert!(error.message.contains("AWS only"), "{}", error.message);
}

#[test]
fn a_service_intent_without_infrastructure_words_gets_no_files() {
    let go_intent = intent("Create a Go REST API for notes with PostgreSQL", &[], &[]);
    let stack_files = qlp_plugin_template_go::generate_project(&go_intent).expect("generates");
    assert!(generate(request(go_intent, stack_files, vec![], 0)).is_empty());
}
