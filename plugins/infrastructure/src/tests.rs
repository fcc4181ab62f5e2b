//! Tests of `qlp/infrastructure`: the clean fixtures stay silent, the
//! planted ones give each rule at the right line and severity, each rule
//! fires on its problem and stays silent on what it cannot decide, the
//! HCL reader reads every block of the clean fixtures (its own tests are
//! in `qlp_sdk::hcl`), suppressions are counted, and no
//! input makes the validator panic.

use super::*;
use qlp_sdk::Severity;

const CLEAN_TF: &str = include_str!("../tests/fixtures/clean/main.tf");
const CLEAN_MULTICLOUD_TF: &str = include_str!("../tests/fixtures/clean/multicloud.tf");
const CLEAN_COMPOSE: &str = include_str!("../tests/fixtures/clean/docker-compose.yml");
const PLANTED_TF: &str = include_str!("../tests/fixtures/planted/main.tf");
const PLANTED_COMPOSE: &str = include_str!("../tests/fixtures/planted/docker-compose.yml");

/// (rule id, line) of every finding, in report order.
fn found(report: &Report) -> Vec<(&str, u32)> {
    report
        .findings
        .iter()
        .map(|f| (f.rule_id.as_str(), f.line().unwrap_or(0)))
        .collect()
}

/// (rule id, line) of the findings in one file.
fn hits(path: &str, text: &str) -> Vec<(String, u32)> {
    check(&[File::text(path, text)])
        .findings
        .into_iter()
        .map(|f| {
            let line = f.line().unwrap_or(0);
            (f.rule_id, line)
        })
        .collect()
}

/// The rule ids (without namespace) found in one Terraform snippet.
fn tf_rules(text: &str) -> Vec<String> {
    rules_of("main.tf", text)
}

fn rules_of(path: &str, text: &str) -> Vec<String> {
    hits(path, text)
        .into_iter()
        .map(|(id, _)| id.trim_start_matches("infrastructure/").to_string())
        .collect()
}

fn severity_at(report: &Report, line: u32) -> Severity {
    report
        .findings
        .iter()
        .find(|f| f.line() == Some(line))
        .map(|f| f.severity)
        .expect("a finding on that line")
}

#[test]
fn clean_terraform_and_compose_have_no_findings() {
    let report = check(&[
        File::text("infra/main.tf", CLEAN_TF),
        File::text("infra/multicloud.tf", CLEAN_MULTICLOUD_TF),
        File::text("docker-compose.yml", CLEAN_COMPOSE),
        File::text("README.md", "resource \"aws_s3_bucket\" \"x\" {}\n"),
        File::text(
            "deploy/k8s.yaml",
            "services:\n  app:\n    privileged: true\n",
        ),
    ]);
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    assert_eq!(report.score, 100);
    assert_eq!(report.summary, "3 files read: no findings");
    // Silence is not a reading failure: every top-level block was read.
    for text in [CLEAN_TF, CLEAN_MULTICLOUD_TF] {
        let written = text
            .lines()
            .filter(|l| l.starts_with(|c: char| c.is_ascii_alphabetic()) && l.ends_with('{'))
            .count();
        assert_eq!(hcl::parse(text).blocks.len(), written);
    }
}

#[test]
fn every_terraform_rule_finds_its_planted_problem() {
    let report = check(&[File::text("infra/main.tf", PLANTED_TF)]);
    assert_eq!(
        found(&report),
        [
            ("infrastructure/tf-unpinned-provider", 3),
            ("infrastructure/tf-hardcoded-secret", 12),
            ("infrastructure/tf-hardcoded-secret", 13),
            ("infrastructure/tf-hardcoded-secret", 18),
            ("infrastructure/tf-unpinned-provider", 22),
            ("infrastructure/tf-unpinned-provider", 26),
            ("infrastructure/tf-logging-disabled", 29),
            ("infrastructure/tf-unencrypted-storage", 29),
            ("infrastructure/tf-public-bucket", 31),
            ("infrastructure/tf-public-bucket", 37),
            ("infrastructure/tf-no-deletion-protection", 40),
            ("infrastructure/tf-unencrypted-storage", 40),
            ("infrastructure/tf-hardcoded-secret", 44),
            ("infrastructure/tf-public-database", 45),
            ("infrastructure/tf-unencrypted-storage", 50),
            ("infrastructure/tf-unencrypted-storage", 55),
            ("infrastructure/tf-unencrypted-storage", 61),
            ("infrastructure/tf-open-ingress", 71),
            ("infrastructure/tf-open-ingress", 78),
            ("infrastructure/tf-open-ingress", 87),
            ("infrastructure/tf-open-ingress", 93),
            ("infrastructure/tf-logging-disabled", 102),
            ("infrastructure/tf-logging-disabled", 110),
            ("infrastructure/tf-imdsv1", 113),
            ("infrastructure/tf-imdsv1", 120),
            ("infrastructure/tf-public-bucket", 127),
            ("infrastructure/tf-open-ingress", 133),
            ("infrastructure/tf-public-database", 144),
            ("infrastructure/tf-public-bucket", 152),
            ("infrastructure/tf-open-ingress", 163),
            ("infrastructure/tf-public-database", 169),
            ("infrastructure/tf-hardcoded-secret", 174),
        ]
    );
    // SSH, every port, a range over 5432, RDP, SSH: critical; 8080-8090: high.
    for line in [71, 87, 93, 133, 163] {
        assert_eq!(
            severity_at(&report, line),
            Severity::Critical,
            "line {line}"
        );
    }
    assert_eq!(severity_at(&report, 78), Severity::High);
    let message = |line: u32| {
        report
            .findings
            .iter()
            .find(|f| f.line() == Some(line))
            .map(|f| f.message.as_str())
            .unwrap()
    };
    assert!(message(71).contains("port 22, including SSH 22 (CWE-284)"));
    assert!(message(93).contains("ports 5000-6000, including PostgreSQL 5432"));
    assert!(message(133).contains("RDP 3389"), "{}", message(133));
    assert!(message(37).contains("`block_public_policy`, `ignore_public_acls`"));
    assert!(message(50).contains("`storage_encrypted` is false (CWE-311)"));
    assert!(message(18).contains("variable `db_password`"));
    assert_eq!(severity_at(&report, 169), Severity::Critical);
    assert_eq!(report.score, 0);
}

#[test]
fn every_compose_rule_finds_its_planted_problem() {
    let report = check(&[File::text("docker-compose.yml", PLANTED_COMPOSE)]);
    assert_eq!(
        found(&report),
        [
            ("infrastructure/compose-unpinned-image", 3),
            ("infrastructure/compose-privileged", 4),
            ("infrastructure/compose-host-network", 5),
            ("infrastructure/compose-hardcoded-secret", 7),
            ("infrastructure/compose-hardcoded-secret", 8),
            ("infrastructure/compose-hardcoded-secret", 9),
            ("infrastructure/compose-docker-socket", 11),
            ("infrastructure/compose-unpinned-image", 13),
            ("infrastructure/compose-hardcoded-secret", 15),
            ("infrastructure/compose-exposed-database", 17),
            ("infrastructure/compose-exposed-database", 18),
            ("infrastructure/compose-exposed-database", 24),
            ("infrastructure/compose-docker-socket", 28),
        ]
    );
    assert_eq!(severity_at(&report, 4), Severity::Critical);
    assert_eq!(severity_at(&report, 11), Severity::Critical);
    assert_eq!(severity_at(&report, 5), Severity::High);
    assert_eq!(severity_at(&report, 7), Severity::High);
    assert_eq!(severity_at(&report, 3), Severity::Medium);
    assert_eq!(severity_at(&report, 17), Severity::Medium);
    let nine = &report.findings[5].message;
    assert!(
        nine.contains("`DATABASE_URL` is a URL with a literal password"),
        "{nine}"
    );
}

#[test]
fn unencrypted_storage_follows_bucket_references_and_stays_silent_on_unknowns() {
    let bucket = "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"invoices-b\"\n  logging { target_bucket = \"logs\" }\n}\n";
    assert_eq!(tf_rules(bucket), ["tf-unencrypted-storage"]);
    let by_reference = "resource \"aws_s3_bucket_server_side_encryption_configuration\" \"b\" {\n  bucket = aws_s3_bucket.b.id\n}\n";
    let by_name = "resource \"aws_s3_bucket_server_side_encryption_configuration\" \"b\" {\n  bucket = \"invoices-b\"\n}\n";
    let by_variable = "resource \"aws_s3_bucket_server_side_encryption_configuration\" \"b\" {\n  bucket = var.bucket\n}\n";
    let other_bucket = "resource \"aws_s3_bucket_server_side_encryption_configuration\" \"b\" {\n  bucket = aws_s3_bucket.other.id\n}\n";
    for (companion, want) in [
        (by_reference, &[][..]),
        (by_name, &[][..]),
        (by_variable, &[][..]),
        (other_bucket, &["tf-unencrypted-storage"][..]),
    ] {
        assert_eq!(
            tf_rules(&format!("{bucket}{companion}")),
            want,
            "{companion}"
        );
    }
    // The companion in another module does not count.
    let report = check(&[
        File::text("a/main.tf", bucket),
        File::text("b/main.tf", by_reference),
    ]);
    assert_eq!(
        found(&report),
        [("infrastructure/tf-unencrypted-storage", 1)]
    );

    let db = |extra: &str| {
        format!(
            "resource \"aws_db_instance\" \"d\" {{\n  engine = \"postgres\"\n  deletion_protection = true\n{extra}}}\n"
        )
    };
    assert_eq!(tf_rules(&db("")), ["tf-unencrypted-storage"]);
    assert_eq!(
        tf_rules(&db("  storage_encrypted = true\n")),
        Vec::<String>::new()
    );
    assert_eq!(
        tf_rules(&db("  storage_encrypted = var.encrypted\n")),
        Vec::<String>::new()
    );
    assert_eq!(
        hits("main.tf", &db("  storage_encrypted = \"false\"\n")),
        [("infrastructure/tf-unencrypted-storage".to_string(), 4)]
    );
    assert_eq!(
        tf_rules("resource \"aws_db_instance\" \"m\" {\n  engine = \"aurora-mysql\"\n}\n"),
        Vec::<String>::new()
    );
    assert_eq!(
        tf_rules(
            "resource \"aws_rds_cluster\" \"s\" {\n  engine_mode = \"serverless\"\n  deletion_protection = true\n}\n"
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        tf_rules("resource \"aws_ebs_volume\" \"v\" {\n  snapshot_id = \"snap-1\"\n}\n"),
        Vec::<String>::new()
    );
    assert_eq!(
        tf_rules("resource \"aws_efs_file_system\" \"f\" {\n  encrypted = true\n}\n"),
        Vec::<String>::new()
    );
}

#[test]
fn public_buckets_are_found_for_aws_google_and_azure() {
    assert_eq!(
        tf_rules("resource \"aws_s3_bucket_acl\" \"a\" {\n  acl = \"public-read-write\"\n}\n"),
        ["tf-public-bucket"]
    );
    assert_eq!(
        tf_rules("resource \"aws_s3_bucket_acl\" \"a\" {\n  acl = \"private\"\n}\n"),
        Vec::<String>::new()
    );
    assert_eq!(
        tf_rules(
            "resource \"aws_s3_bucket_public_access_block\" \"p\" {\n  block_public_acls = true\n  block_public_policy = true\n  ignore_public_acls = true\n  restrict_public_buckets = var.strict\n}\n"
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        tf_rules(
            "resource \"google_storage_bucket_iam_binding\" \"b\" {\n  members = [\"group:a@example.com\", \"allAuthenticatedUsers\"]\n}\n"
        ),
        ["tf-public-bucket"]
    );
    assert_eq!(
        tf_rules(
            "resource \"azurerm_storage_container\" \"c\" {\n  container_access_type = \"container\"\n}\n"
        ),
        ["tf-public-bucket"]
    );
}

#[test]
fn open_ingress_grades_ports_and_ignores_the_web_and_unknowns() {
    let rule = |protocol: &str, from: &str, to: &str, cidr: &str| {
        let text = format!(
            "resource \"aws_security_group_rule\" \"r\" {{\n  type = \"ingress\"\n  protocol = {protocol}\n  from_port = {from}\n  to_port = {to}\n  cidr_blocks = [{cidr}]\n}}\n"
        );
        check(&[File::text("sg.tf", text)])
            .findings
            .iter()
            .map(|f| f.severity)
            .collect::<Vec<_>>()
    };
    assert_eq!(rule("\"tcp\"", "443", "443", "\"0.0.0.0/0\""), []);
    assert_eq!(rule("\"tcp\"", "80", "80", "\"0.0.0.0/0\""), []);
    assert_eq!(
        rule("\"tcp\"", "80", "443", "\"0.0.0.0/0\""),
        [Severity::High]
    );
    assert_eq!(
        rule("\"tcp\"", "3306", "3306", "\"0.0.0.0/0\""),
        [Severity::Critical]
    );
    assert_eq!(rule("\"tcp\"", "6379", "6379", "\"10.0.0.0/8\""), []);
    assert_eq!(rule("\"tcp\"", "var.port", "var.port", "\"0.0.0.0/0\""), []);
    assert_eq!(rule("\"icmp\"", "-1", "-1", "\"0.0.0.0/0\""), []);
    assert_eq!(rule("\"-1\"", "0", "0", "var.cidr"), []);
    assert_eq!(rule("var.protocol", "22", "22", "\"0.0.0.0/0\""), []);
    let egress = "resource \"aws_security_group_rule\" \"r\" {\n  type = \"egress\"\n  protocol = \"-1\"\n  from_port = 0\n  to_port = 0\n  cidr_blocks = [\"0.0.0.0/0\"]\n}\n";
    assert_eq!(tf_rules(egress), Vec::<String>::new());
    let google = |allow: &str| {
        tf_rules(&format!(
            "resource \"google_compute_firewall\" \"f\" {{\n  source_ranges = [\"0.0.0.0/0\"]\n  allow {{\n{allow}\n  }}\n}}\n"
        ))
    };
    assert_eq!(
        google("protocol = \"tcp\"\nports = [\"443\"]"),
        Vec::<String>::new()
    );
    assert_eq!(google("protocol = \"tcp\""), ["tf-open-ingress"]);
    assert_eq!(google("protocol = \"icmp\""), Vec::<String>::new());
    assert_eq!(
        google("protocol = \"tcp\"\nports = var.ports"),
        Vec::<String>::new()
    );
}

#[test]
fn public_databases_are_found() {
    assert_eq!(
        tf_rules("resource \"aws_redshift_cluster\" \"r\" {\n  publicly_accessible = true\n}\n"),
        ["tf-public-database"]
    );
    assert_eq!(
        tf_rules(
            "resource \"aws_rds_cluster_instance\" \"r\" {\n  publicly_accessible = var.public\n}\n"
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        tf_rules(
            "resource \"azurerm_mysql_firewall_rule\" \"r\" {\n  start_ip_address = \"10.0.0.1\"\n  end_ip_address = \"255.255.255.255\"\n}\n"
        ),
        Vec::<String>::new()
    );
}

#[test]
fn logging_rules_exempt_log_buckets_and_network_load_balancers() {
    let encrypted = |name: &str| {
        format!(
            "resource \"aws_s3_bucket\" \"{name}\" {{\n  server_side_encryption_configuration {{\n    rule {{}}\n  }}\n}}\n"
        )
    };
    assert_eq!(tf_rules(&encrypted("data")), ["tf-logging-disabled"]);
    assert_eq!(tf_rules(&encrypted("audit_logs")), Vec::<String>::new());
    let target = format!(
        "{}{}resource \"aws_s3_bucket_logging\" \"l\" {{\n  bucket = aws_s3_bucket.data.id\n  target_bucket = aws_s3_bucket.archive.id\n}}\n",
        encrypted("data"),
        encrypted("archive")
    );
    assert_eq!(tf_rules(&target), Vec::<String>::new());
    assert_eq!(
        tf_rules("resource \"aws_lb\" \"n\" {\n  load_balancer_type = \"network\"\n}\n"),
        Vec::<String>::new()
    );
    assert_eq!(
        hits("lb.tf", "resource \"aws_alb\" \"a\" {\n  name = \"a\"\n}\n"),
        [("infrastructure/tf-logging-disabled".to_string(), 1)]
    );
    assert_eq!(
        tf_rules(
            "resource \"aws_lb\" \"a\" {\n  access_logs {\n    bucket = \"l\"\n    enabled = var.logs\n  }\n}\n"
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        tf_rules("resource \"aws_cloudtrail\" \"t\" {\n  enable_logging = var.on\n}\n"),
        Vec::<String>::new()
    );
}

#[test]
fn hardcoded_secrets_are_literals_only() {
    let attr =
        |name: &str, value: &str| tf_rules(&format!("provider \"x\" {{\n  {name} = {value}\n}}\n"));
    assert_eq!(attr("token", "\"ghp_0123456789\""), ["tf-hardcoded-secret"]);
    assert_eq!(
        attr("admin_password", "\"P@ssw0rd\""),
        ["tf-hardcoded-secret"]
    );
    assert_eq!(attr("token", "var.token"), Vec::<String>::new());
    assert_eq!(attr("token", "\"${var.token}\""), Vec::<String>::new());
    assert_eq!(
        attr("password", "data.aws_ssm_parameter.db.value"),
        Vec::<String>::new()
    );
    assert_eq!(attr("password", "file(\"pw.txt\")"), Vec::<String>::new());
    assert_eq!(attr("password", "\"\""), Vec::<String>::new());
    assert_eq!(attr("password_length", "\"16\""), Vec::<String>::new());
    assert_eq!(attr("http_tokens", "\"required\""), Vec::<String>::new());
    assert_eq!(
        attr("creation_token", "\"shared-efs\""),
        Vec::<String>::new()
    );
    assert_eq!(
        attr("public_key", "\"ssh-ed25519 AAAA\""),
        Vec::<String>::new()
    );
    assert_eq!(
        tf_rules("output \"password\" {\n  value = \"shown\"\n}\n"),
        Vec::<String>::new()
    );
    assert_eq!(
        tf_rules("resource \"x\" \"y\" {\n  tags = { Secret = \"none\" }\n}\n"),
        Vec::<String>::new()
    );
    assert_eq!(
        tf_rules("variable \"api_token\" {\n  default = \"\"\n}\n"),
        Vec::<String>::new()
    );
    assert_eq!(
        tf_rules("locals {\n  settings = [{ secret = \"abc\" }]\n}\n"),
        ["tf-hardcoded-secret"]
    );
}

#[test]
fn unpinned_providers_and_modules() {
    let module = |source: &str, extra: &str| {
        tf_rules(&format!(
            "module \"m\" {{\n  source = \"{source}\"\n{extra}}}\n"
        ))
    };
    assert_eq!(module("hashicorp/consul/aws", ""), ["tf-unpinned-provider"]);
    assert_eq!(
        module("app.terraform.io/example/vpc/aws", ""),
        ["tf-unpinned-provider"]
    );
    assert_eq!(
        module(
            "hashicorp/consul/aws//modules/server",
            "  version = \"0.11.0\"\n"
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        module("git::https://example.com/vpc.git", ""),
        ["tf-unpinned-provider"]
    );
    assert_eq!(
        module("git@github.com:example/vpc.git?ref=v1.0.0", ""),
        Vec::<String>::new()
    );
    assert_eq!(module("../modules/vpc", ""), Vec::<String>::new());
    assert_eq!(
        module("https://example.com/vpc-module-1.0.zip", ""),
        Vec::<String>::new()
    );
    assert_eq!(
        module("s3::https://s3.amazonaws.com/bucket/vpc.zip", ""),
        Vec::<String>::new()
    );
}

#[test]
fn imdsv1_is_reported_unless_tokens_are_required_or_the_endpoint_is_off() {
    let instance = |options: &str| {
        tf_rules(&format!(
            "resource \"aws_instance\" \"i\" {{\n{options}}}\n"
        ))
    };
    assert_eq!(instance(""), ["tf-imdsv1"]);
    assert_eq!(
        instance(
            "  dynamic \"metadata_options\" {\n    for_each = [var.metadata]\n    content {}\n  }\n"
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        instance("  metadata_options {\n    http_endpoint = \"enabled\"\n  }\n"),
        ["tf-imdsv1"]
    );
    assert_eq!(
        instance("  metadata_options {\n    http_tokens = \"required\"\n  }\n"),
        Vec::<String>::new()
    );
    assert_eq!(
        instance("  metadata_options {\n    http_endpoint = \"disabled\"\n  }\n"),
        Vec::<String>::new()
    );
    assert_eq!(
        instance("  metadata_options {\n    http_tokens = var.tokens\n  }\n"),
        Vec::<String>::new()
    );
}

#[test]
fn compose_rules_read_both_syntaxes_and_skip_interpolation() {
    let compose = |service: &str| rules_of("compose.yaml", &format!("services:\n  s:\n{service}"));
    assert_eq!(
        compose("    image: nginx:1.27\n    privileged: false\n    network_mode: bridge\n"),
        Vec::<String>::new()
    );
    assert_eq!(compose("    image: ${IMAGE}\n"), Vec::<String>::new());
    assert_eq!(
        compose("    image: localhost:5000/app\n"),
        ["compose-unpinned-image"]
    );
    assert_eq!(
        compose("    image: localhost:5000/app:2.1\n"),
        Vec::<String>::new()
    );
    assert_eq!(
        compose("    build: .\n    image: invoices-api\n"),
        Vec::<String>::new()
    );
    assert_eq!(
        compose("    image: mongo:7\n    ports: [\"27017:27017\"]\n"),
        ["compose-exposed-database"]
    );
    assert_eq!(
        compose("    image: mongo-express:1.0\n    ports: [\"8081:8081\"]\n"),
        Vec::<String>::new()
    );
    assert_eq!(
        compose(
            "    image: mcr.microsoft.com/mssql/server:2022-latest\n    ports:\n      - \"[::1]:1433:1433\"\n"
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        compose(
            "    image: a:1\n    environment:\n      API_KEY: ${API_KEY}\n      SESSION_SECRET: \"\"\n      SECRET_KEY_FILE: /run/secrets/key\n"
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        compose("    image: a:1\n    environment:\n      - \"STRIPE_API_KEY=sk_test_123\"\n"),
        ["compose-hardcoded-secret"]
    );
    assert_eq!(
        compose(
            "    image: a:1\n    volumes:\n      - ./data:/data\n      - type: volume\n        source: data\n        target: /data\n"
        ),
        Vec::<String>::new()
    );
    // Not a Compose file by name: not read.
    assert_eq!(
        rules_of("services.yml", "services:\n  s:\n    privileged: true\n"),
        Vec::<String>::new()
    );
    assert!(compose::is_compose_file("deploy/docker-compose.prod.yaml"));
    assert!(compose::is_compose_file("compose.override.yml"));
    assert!(!compose::is_compose_file("docker-compose.json"));
    assert!(!compose::is_compose_file("config/composer.yml"));
}

#[test]
fn suppressions_are_counted() {
    let tf = "\
resource \"aws_instance\" \"bastion\" { # qlp-ignore: tf-imdsv1 the AMI enforces IMDSv2
  ami = \"ami-1\"
}
";
    let compose = "\
services:
  db:
    image: postgres:16
    ports:
      # qlp-ignore: infrastructure/compose-exposed-database CI service container
      - \"5432:5432\"
      # qlp-ignore: compose-exposed-database
      - \"5433:5432\"
";
    let report = check(&[
        File::text("main.tf", tf),
        File::text("docker-compose.yaml", compose),
    ]);
    assert_eq!(
        found(&report),
        [("infrastructure/compose-exposed-database", 8)],
        "a marker needs a reason"
    );
    assert_eq!(
        report.summary,
        "2 files read: 1 finding: 1 medium; 2 suppressed (infrastructure/compose-exposed-database 1, infrastructure/tf-imdsv1 1)"
    );
}

#[test]
fn score_and_summary() {
    let report = check(&[File::text(
        "main.tf",
        "resource \"aws_ebs_volume\" \"v\" {\n  encrypted = false\n}\n",
    )]);
    assert_eq!(report.score, 100 - PENALTY_HIGH);
    assert_eq!(report.summary, "1 file read: 1 finding: 1 high");
    assert_eq!(
        check(&[]).summary,
        "no Terraform or Docker Compose file found"
    );
    assert_eq!(
        check(&[File::text("compose.yml", PLANTED_COMPOSE)]).score,
        0
    );
}

#[test]
fn every_rule_id_is_documented() {
    let docs = include_str!("lib.rs");
    for id in rules::RULE_IDS {
        assert!(docs.contains(&format!("| `{id}` |")), "{id}");
        assert!(id.starts_with(RULE_NAMESPACE), "{id}");
    }
}

#[test]
fn describe_names_the_plugin() {
    let info = Infrastructure::describe();
    assert_eq!(
        (info.name.as_str(), info.version.as_str()),
        ("qlp/infrastructure", "0.1.0")
    );
    assert!(matches!(info.kind, PluginKind::Validator));
}

/// Every prefix of `text` (at char boundaries, every `step` bytes), and
/// `text` with one troublesome character inserted at each of those points:
/// the truncated and half-edited files a validator must survive, since a
/// panic inside the component is a trap that fails the stage.
fn mangled(text: &str, step: usize) -> Vec<String> {
    const INSERTS: [&str; 16] = [
        "\"", "'", "`", "(", ")", "[", "{", "}", "\\", "/*", "#", "é\n", "- ", "${", "<<EOT\n", "=",
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
fn truncated_and_mangled_files_never_panic() {
    let mut checked = 0;
    for (path, sample, step) in [
        ("main.tf", PLANTED_TF, 3),
        ("main.tf", CLEAN_TF, 7),
        ("docker-compose.yml", PLANTED_COMPOSE, 2),
    ] {
        for text in mangled(sample, step) {
            let _ = check(&[File::text(path, text)]);
            checked += 1;
        }
    }
    for hostile in [
        "[".repeat(10_000),
        "a = ".to_string() + &"[".repeat(10_000),
        "a {".repeat(10_000),
        "a = {".repeat(10_000),
        "x = \"${".repeat(5_000),
        "x = <<".to_string(),
        "\"".repeat(1_000),
        "é = é".to_string(),
        "a = \"\\é\"\n".to_string(),
    ] {
        let _ = check(&[File::text("main.tf", hostile)]);
        checked += 1;
    }
    assert!(checked > 2_000, "{checked}");
}
