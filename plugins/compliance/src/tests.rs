//! Tests of `qlp/compliance`: the fixture services (a compliant and a
//! non-compliant payments service in Python and in TypeScript) give exactly
//! the expected rule ids, lines and control ids; frameworks that are not
//! selected keep their rules silent; the operator's setting forces
//! frameworks; suppressions are counted; every language's routes, models
//! and logging calls are recognised; mangled input never panics.

use super::*;
use crate::data::Kind;
use crate::frameworks::Framework;
use qlp_sdk::Intent;
use qlp_sdk::Severity;

fn fixture(dir: &str) -> Vec<File> {
    fn walk(root: &std::path::Path, dir: &std::path::Path, out: &mut Vec<File>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("fixture directory")
            .map(|e| e.expect("entry").path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let relative = path.strip_prefix(root).expect("inside the fixture");
                out.push(File {
                    path: relative.to_string_lossy().replace('\\', "/"),
                    content: std::fs::read(&path).expect("fixture file"),
                });
            }
        }
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir);
    let mut files = Vec::new();
    walk(&root, &root, &mut files);
    assert!(!files.is_empty(), "{dir}");
    files
}

fn intent(concerns: &[&str]) -> Intent {
    Intent {
        id: "00000000-0000-0000-0000-000000000000".into(),
        description: "A payments service".into(),
        requirements: vec![],
        constraints: concerns
            .iter()
            .map(|c| ("compliance".to_string(), c.to_string()))
            .collect(),
        tier: "mission-critical".into(),
    }
}

fn capsule(concerns: &[&str], files: Vec<File>) -> CapsuleView {
    CapsuleView {
        intent: intent(concerns),
        files,
        analyses: vec![],
        validations: vec![],
        quality_score: None,
    }
}

fn run(concerns: &[&str], configured: Option<&str>, files: Vec<File>) -> Report {
    check(&capsule(concerns, files), configured).expect("valid configuration")
}

/// (rule id, path, line) of every finding.
fn found(report: &Report) -> Vec<(&str, &str, u32)> {
    report
        .findings
        .iter()
        .map(|f| {
            (
                f.rule_id.as_str(),
                f.path().unwrap_or(""),
                f.line().unwrap_or(0),
            )
        })
        .collect()
}

/// The message of the finding of `rule` at `path:line`.
fn message<'r>(report: &'r Report, rule: &str, path: &str, line: u32) -> &'r str {
    report
        .findings
        .iter()
        .find(|f| {
            f.rule_id == rule && f.path().unwrap_or("") == path && f.line().unwrap_or(0) == line
        })
        .map(|f| f.message.as_str())
        .unwrap_or_else(|| panic!("no {rule} at {path}:{line}"))
}

#[test]
fn the_non_compliant_python_service_breaks_each_control_where_planted() {
    let report = run(
        &["payments", "personal-data"],
        None,
        fixture("python/noncompliant"),
    );
    assert_eq!(
        found(&report),
        [
            ("compliance/no-audit-logging", "", 0),
            ("compliance/no-retention-policy", "", 0),
            ("compliance/plaintext-transport", ".env.example", 2),
            ("compliance/plaintext-transport", "app/main.py", 13),
            ("compliance/no-access-control", "app/main.py", 16),
            ("compliance/sensitive-data-logged", "app/main.py", 19),
            ("compliance/plaintext-transport", "app/main.py", 28),
            ("compliance/no-erasure-endpoint", "app/models.py", 12),
            ("compliance/unencrypted-at-rest", "app/models.py", 13),
            ("compliance/cvv-stored", "app/models.py", 14),
        ],
        "{}",
        report.summary
    );
    let severities: Vec<Severity> = report.findings.iter().map(|f| f.severity).collect();
    assert_eq!(
        severities,
        [
            Severity::Medium,
            Severity::Medium,
            Severity::High,
            Severity::High,
            Severity::High,
            Severity::High,
            Severity::High,
            Severity::Medium,
            Severity::High,
            Severity::Critical,
        ]
    );
    let control = |rule, path, line| {
        message(&report, rule, path, line)
            .split(']')
            .next()
            .unwrap_or("")
            .to_string()
            + "]"
    };
    assert_eq!(
        control("compliance/sensitive-data-logged", "app/main.py", 19),
        "[PCI DSS 3.4.1, 3.5.1; GDPR Art. 5(1)(f), Art. 32]"
    );
    assert_eq!(
        control("compliance/cvv-stored", "app/models.py", 14),
        "[PCI DSS 3.3.1]"
    );
    assert_eq!(
        control("compliance/unencrypted-at-rest", "app/models.py", 13),
        "[PCI DSS 3.5.1]"
    );
    assert_eq!(
        control("compliance/plaintext-transport", "app/main.py", 13),
        "[PCI DSS 4.2.1; GDPR Art. 32]"
    );
    assert_eq!(
        control("compliance/no-access-control", "app/main.py", 16),
        "[PCI DSS 7.2.1; GDPR Art. 32]"
    );
    assert_eq!(
        control("compliance/no-erasure-endpoint", "app/models.py", 12),
        "[GDPR Art. 17]"
    );
    assert_eq!(
        control("compliance/no-audit-logging", "", 0),
        "[PCI DSS 10.2.1]"
    );
    assert_eq!(
        control("compliance/no-retention-policy", "", 0),
        "[PCI DSS 3.2.1; GDPR Art. 5(1)(e)]"
    );
    let logged = message(
        &report,
        "compliance/sensitive-data-logged",
        "app/main.py",
        19,
    );
    assert!(
        logged.contains("`email`") && logged.contains("`card_number`"),
        "{logged}"
    );
    assert!(logged.contains("`logger.info`"), "{logged}");
    let transport = message(&report, "compliance/plaintext-transport", "app/main.py", 28);
    assert!(transport.contains("`verify`"), "{transport}");
    let database = message(&report, "compliance/plaintext-transport", ".env.example", 2);
    assert!(database.contains("sslmode=disable"), "{database}");
    // 40 (critical) + 6·20 (high) + 3·10 (medium) is more than 100.
    assert_eq!(report.score, 0);
    assert!(
        report.summary.starts_with(
            "frameworks: PCI DSS (intent: payments), GDPR (intent: personal-data); 4 files read: \
             10 findings: 1 critical, 6 high, 3 medium"
        ),
        "{}",
        report.summary
    );
}

#[test]
fn the_compliant_python_service_has_no_findings() {
    let report = run(
        &["payments", "personal-data"],
        Some("hipaa,soc2"),
        fixture("python/compliant"),
    );
    assert_eq!(found(&report), [], "{:#?}", report.findings);
    assert_eq!(report.score, 100);
}

#[test]
fn the_non_compliant_typescript_service_breaks_each_control_where_planted() {
    let report = run(
        &["payments", "personal-data"],
        Some("soc2"),
        fixture("typescript/noncompliant"),
    );
    assert_eq!(
        found(&report),
        [
            ("compliance/no-audit-logging", "", 0),
            ("compliance/no-retention-policy", "", 0),
            ("compliance/plaintext-transport", "src/app.ts", 5),
            ("compliance/no-access-control", "src/app.ts", 10),
            ("compliance/sensitive-data-logged", "src/app.ts", 12),
            ("compliance/plaintext-transport", "src/app.ts", 17),
            ("compliance/no-erasure-endpoint", "src/models.ts", 4),
            ("compliance/unencrypted-at-rest", "src/models.ts", 5),
            ("compliance/cvv-stored", "src/models.ts", 6),
        ],
        "{}",
        report.summary
    );
    let control = |rule, path, line| {
        message(&report, rule, path, line)
            .split(']')
            .next()
            .unwrap_or("")
            .to_string()
            + "]"
    };
    assert_eq!(
        control("compliance/plaintext-transport", "src/app.ts", 17),
        "[PCI DSS 4.2.1; GDPR Art. 32; SOC 2 CC6.7]"
    );
    assert_eq!(
        control("compliance/unencrypted-at-rest", "src/models.ts", 5),
        "[PCI DSS 3.5.1; SOC 2 CC6.1]"
    );
    assert_eq!(
        control("compliance/no-access-control", "src/app.ts", 10),
        "[PCI DSS 7.2.1; GDPR Art. 32; SOC 2 CC6.1]"
    );
    assert_eq!(
        control("compliance/no-audit-logging", "", 0),
        "[PCI DSS 10.2.1; SOC 2 CC7.2]"
    );
    let logged = message(
        &report,
        "compliance/sensitive-data-logged",
        "src/app.ts",
        12,
    );
    assert!(
        logged.contains("`customer.email`") && logged.contains("`customer.cardNumber`"),
        "{logged}"
    );
    assert!(
        report.summary.contains("SOC 2 (operator configuration)"),
        "{}",
        report.summary
    );
}

#[test]
fn the_compliant_typescript_service_has_no_findings() {
    let report = run(
        &["payments", "personal-data"],
        Some("hipaa,soc2"),
        fixture("typescript/compliant"),
    );
    assert_eq!(found(&report), [], "{:#?}", report.findings);
}

#[test]
fn rules_of_frameworks_not_selected_stay_silent() {
    // HIPAA only: the card and email data are not its concern, and GDPR's
    // erasure is not checked; transport, audit and access control are.
    let report = run(&["health-data"], None, fixture("python/noncompliant"));
    let rules: Vec<&str> = found(&report).iter().map(|f| f.0).collect();
    assert_eq!(
        rules,
        [
            "compliance/no-audit-logging",
            "compliance/plaintext-transport",
            "compliance/plaintext-transport",
            "compliance/no-access-control",
            "compliance/plaintext-transport",
        ],
        "{}",
        report.summary
    );
    assert!(
        report
            .findings
            .iter()
            .all(|f| f.message.starts_with("[HIPAA "))
    );
    // GDPR only: no CVV or card-number rule, no audit-logging rule.
    let report = run(&["personal-data"], None, fixture("python/noncompliant"));
    let rules: Vec<&str> = found(&report).iter().map(|f| f.0).collect();
    for silent in [
        "compliance/cvv-stored",
        "compliance/unencrypted-at-rest",
        "compliance/no-audit-logging",
    ] {
        assert!(!rules.contains(&silent), "{silent}: {rules:?}");
    }
    let logged = message(
        &report,
        "compliance/sensitive-data-logged",
        "app/main.py",
        19,
    );
    assert!(
        logged.starts_with("[GDPR Art. 5(1)(f), Art. 32] personal data (`email`)"),
        "{logged}"
    );
}

#[test]
fn without_a_framework_nothing_is_checked_and_the_summary_says_why() {
    let report = run(&[], None, fixture("python/noncompliant"));
    assert!(report.findings.is_empty());
    assert_eq!(report.score, 100);
    assert!(
        report
            .summary
            .starts_with("no compliance framework selected"),
        "{}",
        report.summary
    );
    assert!(
        report.summary.contains("`frameworks` setting is empty"),
        "{}",
        report.summary
    );
    let report = run(&["crypto-assets"], None, vec![]);
    assert!(
        report
            .summary
            .contains("compliance concerns with no framework here: crypto-assets"),
        "{}",
        report.summary
    );
}

#[test]
fn the_operator_setting_forces_frameworks_and_rejects_unknown_ones() {
    let report = run(&[], Some("pci-dss, SOC2"), fixture("python/noncompliant"));
    assert!(
        report.summary.starts_with(
            "frameworks: PCI DSS (operator configuration), SOC 2 (operator configuration)"
        ),
        "{}",
        report.summary
    );
    assert!(found(&report).contains(&("compliance/cvv-stored", "app/models.py", 14)));
    // The intent's concern and the setting name the same framework.
    let selection = frameworks::select(&intent(&["payments"]), Some("pci-dss")).expect("valid");
    assert_eq!(
        selection.describe(),
        "PCI DSS (intent: payments, operator configuration)"
    );
    let error =
        check(&capsule(&[], vec![]), Some("pci-dss,iso27001")).expect_err("unknown framework");
    assert_eq!(error.code, "INVALID_CONFIG");
    assert!(error.message.contains("iso27001"), "{}", error.message);
    // Explicit frameworks in the intent.
    let selection =
        frameworks::select(&intent(&["HIPAA", "soc2", "pci-dss"]), None).expect("valid");
    assert!(
        [Framework::PciDss, Framework::Hipaa, Framework::Soc2]
            .iter()
            .all(|f| selection.has(*f))
    );
    assert!(!selection.has(Framework::Gdpr));
}

#[test]
fn suppressions_are_honoured_and_counted() {
    let mut files = fixture("python/noncompliant");
    for file in &mut files {
        let text = file.as_text().expect("utf-8").to_string();
        if file.path == "app/models.py" {
            file.content = text
                .replace(
                    "    cvv = Column(String)",
                    "    # qlp-ignore: cvv-stored held only until the processor answers\n    cvv = Column(String)",
                )
                .into_bytes();
        } else if file.path == "README.md" {
            file.content = format!(
                "{text}\n<!-- qlp-ignore: compliance/no-audit-logging the gateway keeps the audit trail -->\n"
            )
            .into_bytes();
        }
    }
    let report = run(&["payments", "personal-data"], None, files);
    let rules: Vec<&str> = found(&report).iter().map(|f| f.0).collect();
    assert!(!rules.contains(&"compliance/cvv-stored"), "{rules:?}");
    assert!(!rules.contains(&"compliance/no-audit-logging"), "{rules:?}");
    assert_eq!(rules.len(), 8, "{rules:?}");
    assert!(
        report
            .summary
            .ends_with("; 2 suppressed (compliance/cvv-stored 1, compliance/no-audit-logging 1)"),
        "{}",
        report.summary
    );
}

fn facts(path: &str, text: &str) -> scan::Facts {
    file_facts(path, text).expect("a file that is read").facts
}

#[test]
fn names_are_read_by_their_words() {
    assert_eq!(data::words("HTTPServerAddr"), ["http", "server", "addr"]);
    assert_eq!(data::words("cardNumber"), ["card", "number"]);
    assert_eq!(data::words("card_number2"), ["card", "number2"]);
    for (name, kinds) in [
        ("card_number", &[Kind::Card][..]),
        ("CardNumber", &[Kind::Card]),
        ("pan", &[Kind::Card]),
        ("cvv", &[Kind::Cvv]),
        ("securityCode", &[Kind::Cvv]),
        ("diagnosis", &[Kind::Health]),
        ("medical_record_number", &[Kind::Health]),
        ("ssn", &[Kind::Health, Kind::Personal]),
        ("email", &[Kind::Personal]),
        ("date_of_birth", &[Kind::Personal]),
        ("home_address", &[Kind::Personal]),
        ("remote_ip", &[Kind::Personal]),
        ("national_id", &[Kind::Personal]),
        ("card_id", &[]),
        ("masked_pan", &[]),
        ("card_token", &[]),
        ("email_template", &[]),
        ("listen_address", &[]),
        ("card", &[]),
        ("name", &[]),
        ("patient_id", &[]),
    ] {
        assert_eq!(data::classify(name, false), kinds, "{name}");
    }
    assert_eq!(data::classify("card", true), [Kind::Card]);
    assert_eq!(data::classify("patient", true), [Kind::Health]);
}

#[test]
fn logging_calls_are_recognised_in_every_language() {
    for (path, text, line) in [
        ("a.py", "print(card_number)\n", 1),
        (
            "a.py",
            "x = 1\nlogging.warning('x %s', patient.diagnosis)\n",
            2,
        ),
        ("a.py", "self.logger.info(f'{user.email} signed up')\n", 1),
        ("a.ts", "logger.info({ email });\n", 1),
        ("a.js", "console.log(`card ${card.number}`);\n", 1),
        (
            "a.go",
            "package main\nfunc f() {\n\tlog.Printf(\"%s\", in.CardNumber)\n}\n",
            3,
        ),
        (
            "a.go",
            "package main\nfunc f() { slog.Info(\"signup\", \"email\", u.Email) }\n",
            2,
        ),
        (
            "a.rs",
            "fn f() {\n    tracing::info!(\"card {card_number}\");\n}\n",
            2,
        ),
        ("a.rs", "fn f() { println!(\"{}\", patient.ssn); }\n", 1),
        (
            "A.java",
            "class A { void f() { log.info(\"x {}\", customer.getEmail()); System.out.println(ssn); } }\n",
            1,
        ),
    ] {
        let f = facts(path, text);
        assert_eq!(f.logged.len(), 1, "{path}: {text:?} {:?}", f.logged);
        assert_eq!(f.logged[0].line, line, "{text:?}");
    }
    for (path, text) in [
        ("a.py", "logger.info('card not found')\n"),
        ("a.py", "logger.info('charging %s', mask(card_number))\n"),
        ("a.py", "logger.info('ending %s', card_number[-4:])\n"),
        ("a.py", "# logger.info(card_number)\n"),
        ("a.py", "cards.append(card_number)\n"),
        (
            "a.go",
            "package main\nfunc f() { fmt.Fprintf(w, \"%s\", card.Number); err.Error() }\n",
        ),
        ("a.ts", "res.json({ email: user.email });\n"),
        ("a.py", "logger.info('customer %s', customer.id)\n"),
    ] {
        assert_eq!(facts(path, text).logged, [], "{path}: {text:?}");
    }
}

/// A file and the (line, field, model) expected of it.
type FieldCase = (
    &'static str,
    &'static str,
    &'static [(u32, &'static str, &'static str)],
);

#[test]
fn model_fields_are_recognised_in_every_language() {
    let cases: [FieldCase; 7] = [
        (
            "models.py",
            "class Card(BaseModel):\n    cvv: str\n\n    def f(self, pan: str):\n        email: str = ''\n",
            &[(2, "cvv", "Card")],
        ),
        (
            "models.go",
            "package main\n\ntype Card struct {\n\tID  int64\n\tCvv string `json:\"cvv\"`\n}\n",
            &[(5, "Cvv", "Card")],
        ),
        (
            "models.rs",
            "#[derive(Debug)]\npub struct Patient {\n    pub id: u64,\n    pub diagnosis: String,\n}\nfn f(email: &str) {}\n",
            &[(4, "diagnosis", "Patient")],
        ),
        (
            "Customer.java",
            "@Entity\npublic class Customer {\n    @Id\n    private Long id;\n    @Column\n    private String email;\n    public String getEmail() { return email; }\n}\n",
            &[(6, "email", "Customer")],
        ),
        (
            "models.ts",
            "const UserSchema = new Schema({\n  email: { type: String },\n  phone: String,\n});\n",
            &[(2, "email", "UserSchema"), (3, "phone", "UserSchema")],
        ),
        (
            "schema.sql",
            "CREATE TABLE IF NOT EXISTS customers (\n  id SERIAL PRIMARY KEY,\n  email TEXT NOT NULL,\n  PRIMARY KEY (id)\n);\nSELECT email FROM customers;\n",
            &[(3, "email", "customers")],
        ),
        (
            "schema.prisma",
            "model Patient {\n  id Int @id\n  diagnosis String\n}\n",
            &[(3, "diagnosis", "Patient")],
        ),
    ];
    for (path, text, expected) in cases {
        let read = facts(path, text);
        let fields: Vec<(u32, &str, &str)> = read
            .fields
            .iter()
            .map(|f| (f.line, f.name.as_str(), f.model.as_str()))
            .collect();
        assert_eq!(fields, expected, "{path}");
    }
}

/// (line, name, model) of the sensitive fields read from a Java file.
fn java_fields(text: &str) -> Vec<(u32, String, String)> {
    facts("src/main/java/com/example/model/Card.java", text)
        .fields
        .into_iter()
        .map(|f| (f.line, f.name, f.model))
        .collect()
}

fn field(line: u32, name: &str, model: &str) -> (u32, String, String) {
    (line, name.to_string(), model.to_string())
}

#[test]
fn java_record_components_are_model_fields() {
    // One line, several lines, annotations with arguments, a compact
    // constructor and a member record named by its enclosing record.
    let card = "package com.example.model;\n\
                \n\
                public record Card(\n\
                \x20       long id,\n\
                \x20       @JsonProperty(\"card_number\") @NotNull String cardNumber,\n\
                \x20       @Size(min = 3, max = 4) String cvv,\n\
                \x20       Map<String, List<String>> tags, String email) implements Serializable {\n\
                \x20   public static final Set<String> FIELDS = Set.of(\"card_number\");\n\
                \x20   public Card {\n\
                \x20       String diagnosis = cardNumber.trim();\n\
                \x20   }\n\
                \x20   public record Input(String cardNumber, String phone) {}\n\
                }\n";
    assert_eq!(
        java_fields(card),
        [
            field(5, "cardNumber", "Card"),
            field(6, "cvv", "Card"),
            field(7, "email", "Card"),
            field(12, "cardNumber", "Card.Input"),
            field(12, "phone", "Card.Input"),
        ]
    );
    // Generic records, a record inside a class (with the class's own
    // field), records at the end of a file, a local record.
    let nested = "public class Patients {\n\
                  \x20   private String ssn;\n\
                  \x20   record Page<T extends Comparable<T>>(List<T> items, int total, String diagnosis) {}\n\
                  \x20   static record Entry(@NotNull\n\
                  \x20       String medicalRecordNumber) implements Comparable<Entry> {\n\
                  \x20       public int compareTo(Entry o) { return 0; }\n\
                  \x20   }\n\
                  \x20   void f() { record Row(String email) {} }\n\
                  }\n\
                  record Empty() {}\n\
                  record Patient(String birthDate) {}\n";
    assert_eq!(
        java_fields(nested),
        [
            field(2, "ssn", "Patients"),
            field(3, "diagnosis", "Patients.Page"),
            field(5, "medicalRecordNumber", "Patients.Entry"),
            field(8, "email", "Row"),
            field(11, "birthDate", "Patient"),
        ]
    );
}

#[test]
fn record_as_an_identifier_is_not_a_declaration() {
    // The Java agent's repository and audit trail call their variables
    // and a method `record`; none of these declares a record, and none of
    // the names after them is a field.
    let uses = "public class AuditTrail {\n\
                \x20   public void record(String email, String cardNumber) {\n\
                \x20       T record = build.apply(cardNumber);\n\
                \x20       records.put(id, record);\n\
                \x20       records.values().removeIf(record -> record.email() != null);\n\
                \x20       if (record instanceof Card(String cardNumber, String cvv)) {}\n\
                \x20       audit.record(email, \"create\");\n\
                \x20       this.record (cvv);\n\
                \x20       return record;\n\
                \x20   }\n\
                \x20   boolean replace(long id, T record);\n\
                \x20   Object record(String diagnosis) { return record; }\n\
                }\n\
                record\n";
    assert_eq!(java_fields(uses), []);
    // Broken headers are no records, and never panic.
    for broken in [
        "record A(String cvv] x) {}\n",
        "record A<T>>(String cvv) {}\n",
        "record A(String cvv;\n",
        "record A(@X({\"a\"}) String cvv\n",
        "record A<(String cvv) {}\n",
    ] {
        let _ = java_fields(broken);
    }
    assert_eq!(java_fields("record A(String cvv;\n"), []);
}

#[test]
fn java_records_are_checked_like_every_model() {
    let path = "src/main/java/com/example/model/Card.java";
    let card = "package com.example.model;\n\
                \n\
                public record Card(long id, String cardholderName, String cardNumber,\n\
                \x20       String cvv, String expiryMonth) {}\n";
    let report = run(&["payments"], None, vec![File::text(path, card)]);
    let rules: Vec<(&str, &str, u32)> = found(&report)
        .into_iter()
        .filter(|(rule, _, _)| *rule != "compliance/no-retention-policy")
        .collect();
    assert_eq!(
        rules,
        [
            ("compliance/unencrypted-at-rest", path, 3),
            ("compliance/cvv-stored", path, 4),
        ]
    );
    assert!(
        message(&report, "compliance/unencrypted-at-rest", path, 3).contains("`Card.cardNumber`")
    );
    assert!(found(&report).contains(&("compliance/no-retention-policy", "", 0)));

    // A compact constructor or an accessor that encrypts protects the
    // file, as a cipher call does in any language; a `sealed` interface
    // the record implements does not.
    let unprotected = |text: &str| {
        run(&["payments"], None, vec![File::text(path, text)])
            .findings
            .iter()
            .any(|f| f.rule_id == "compliance/unencrypted-at-rest")
    };
    for protecting in [
        "public record Card(String cardNumber) {\n    public Card {\n        cardNumber = FieldCipher.encrypt(cardNumber);\n    }\n}\n",
        "public record Card(String cardNumber) {\n    public String cardNumber() { return vault.decrypt(cardNumber); }\n}\n",
        "public record Card(String cardNumber) {\n    static Card of(String number) { return new Card(tokenizer.tokenize(number)); }\n}\n",
        "import javax.crypto.Mac;\npublic record Card(String cardNumber) {\n    static Card of(String n, Mac mac) { return new Card(hex(mac.doFinal(n.getBytes()))); }\n}\n",
        "public record Card(@Convert(converter = CardNumberEncryptor.class) String cardNumber) {}\n",
    ] {
        assert!(!unprotected(protecting), "{protecting}");
    }
    for exposing in [
        "public sealed interface Method permits Card {}\nrecord Card(String cardNumber) implements Method {}\n",
        "public non-sealed class Base {}\nrecord Card(String cardNumber) {}\n",
    ] {
        assert!(unprotected(exposing), "{exposing}");
    }
}

/// A file and the (line, method) of the routes expected of it.
type RouteCase = (&'static str, &'static str, &'static [(u32, &'static str)]);

#[test]
fn data_changing_routes_are_recognised_in_every_language() {
    let cases: [RouteCase; 8] = [
        (
            "app.py",
            "@router.get('/x')\ndef a(): ...\n@router.delete('/{id}')\ndef b(): ...\n@bp.route('/x', methods=['GET', 'POST'])\ndef c(): ...\n@router.post('/token')\ndef login(): ...\n",
            &[(3, "DELETE"), (5, "POST")],
        ),
        (
            "routes.ts",
            "import { Router } from \"express\";\nrouter.post(\"/\", h);\nrouter.get(\"/:id\", h);\nrouter.delete(\"/:id\", h);\n",
            &[(2, "POST"), (4, "DELETE")],
        ),
        (
            "client.ts",
            "export const remove = (id: number) => api.delete(`/cards/${id}`);\naxios.post(\"/cards\", body);\n",
            &[],
        ),
        (
            "handlers.go",
            "package main\nfunc (s *Server) handleCards(w http.ResponseWriter, r *http.Request) {\n\tswitch r.Method {\n\tcase http.MethodPost:\n\tdefault:\n\t\tmethodNotAllowed(w, http.MethodGet, http.MethodPost)\n\t}\n\treq, _ := http.NewRequest(http.MethodDelete, u, nil)\n}\nfunc routes() { mux.HandleFunc(\"PUT /cards/{id}\", h); r.DELETE(\"/cards/:id\", h) }\n",
            &[(4, "POST"), (10, "DELETE"), (10, "PUT")],
        ),
        (
            "routes.rs",
            "pub fn routes() -> Router<AppState> {\n    Router::new()\n        .route(\"/cards\", get(list).post(create))\n        .route(\"/cards/{id}\", get(read).delete(remove))\n}\nfn f() { client.post(url); }\n",
            &[(3, "POST"), (4, "DELETE")],
        ),
        (
            "api.rs",
            "#[post(\"/cards\")]\nasync fn create() {}\n",
            &[(1, "POST")],
        ),
        (
            "CardController.java",
            "@RestController\nclass CardController {\n  @PostMapping(\"/cards\")\n  Card create() {}\n  @DeleteMapping\n  void remove() {}\n  @GET\n  Card read() {}\n}\n",
            &[(3, "POST"), (5, "DELETE")],
        ),
        (
            "test/cards.test.ts",
            "import express from \"express\";\nrouter.post(\"/x\", h);\n",
            &[],
        ),
    ];
    for (path, text, expected) in cases {
        let routes: Vec<(u32, &str)> = file_facts(path, text)
            .map(|f| f.facts.routes.iter().map(|r| (r.line, r.method)).collect())
            .unwrap_or_default();
        assert_eq!(routes, expected, "{path}");
    }
}

#[test]
fn transport_checks_spare_local_hosts_namespaces_and_comments() {
    for (path, text, line) in [
        ("a.py", "URL = 'http://api.partner.com/v1'\n", 1),
        (
            "a.go",
            "package main\nvar c = &tls.Config{InsecureSkipVerify: true}\n",
            2,
        ),
        (
            "a.rs",
            "fn f() { Client::builder().danger_accept_invalid_certs(true); }\n",
            1,
        ),
        (
            "a.ts",
            "process.env[\"NODE_TLS_REJECT_UNAUTHORIZED\"] = \"0\";\n",
            1,
        ),
        (
            "A.java",
            "class A { Object v = new NoopHostnameVerifier(); }\n",
            1,
        ),
        (
            "config.yaml",
            "db:\n  url: postgres://u@db.corp.com/app?ssl=false\n",
            2,
        ),
        (
            "docker-compose.yml",
            "environment:\n  - NODE_TLS_REJECT_UNAUTHORIZED=0\n",
            2,
        ),
        ("a.py", "WS = 'ws://stream.partner.com/feed'\n", 1),
    ] {
        let f = facts(path, text);
        assert_eq!(
            f.transport.iter().map(|t| t.0).collect::<Vec<_>>(),
            [line],
            "{path}: {text:?}"
        );
    }
    for (path, text) in [
        (
            "a.py",
            "URL = 'https://api.partner.com'\nLOCAL = 'http://localhost:8000'\n",
        ),
        (
            "a.py",
            "# see http://api.partner.com\nA = 'http://127.0.0.1:9000'\nB = 'http://api:8000'\n",
        ),
        (
            "a.ts",
            "const ns = \"http://www.w3.org/2000/svg\";\nconst d = \"http://api.example.com\";\n",
        ),
        ("a.py", "C = 'http://10.0.0.5/x'\nD = f'http://{host}/x'\n"),
        (
            ".env",
            "API=http://billing.svc.cluster.local\n# API=http://partner.com\n",
        ),
        ("package.json", "{\"homepage\": \"http://project.org\"}\n"),
        ("a.py", "requests.get(url, verify=True)\n"),
    ] {
        let transport = file_facts(path, text).map(|f| f.facts.transport);
        assert_eq!(transport.unwrap_or_default(), [], "{path}: {text:?}");
    }
}

#[test]
fn signs_of_auth_audit_encryption_and_retention() {
    assert!(facts("a.py", "x = Depends(require_user)\n").auth);
    assert!(
        facts(
            "a.go",
            "package main\nfunc f() { r.Header.Get(\"Authorization\") }\n"
        )
        .auth
    );
    assert!(facts("a.ts", "jwt.verify(token, secret);\n").auth);
    assert!(!facts("a.py", "passport_number = Column(String)\n").auth);
    assert!(facts("a.ts", "auditLog.write(user, 'create');\n").audit_call);
    assert!(facts("a.py", "logger.info('%s deleted %s', current_user, id)\n").actor_logged);
    assert!(facts("a.py", "f = Fernet(key)\n").protection);
    assert!(!facts("a.rs", "let m: HashMap<u64, Card> = HashMap::new();\n").protection);
    assert!(facts("a.py", "RECORD_TTL_DAYS = 30\n").retention.is_some());
    assert!(
        facts("a.py", "RECORD_TTL_SECONDS = 86400\n")
            .retention
            .is_some()
    );
    assert!(
        facts(".env", "DATA_RETENTION_DAYS=365\n")
            .retention
            .is_some()
    );
    assert!(
        facts("README.md", "# Svc\n\n## Data retention\n")
            .retention
            .is_some()
    );
    for not_retention in [
        "JWT_EXPIRES_SECONDS = 3600\n",
        "expires_in = 3600\n",
        "token_ttl = 60\n",
        "expiry_month = 1\n",
        "expires_seconds = settings.expires_seconds()\n",
        "DEFAULT_EXPIRES_SECONDS = 3600\n",
    ] {
        assert_eq!(
            facts("a.py", not_retention).retention,
            None,
            "{not_retention}"
        );
    }
}

#[test]
fn front_end_models_are_not_stored_data() {
    // A React app's types describe what it shows: no project routes, no
    // storage finding.
    let files = vec![File::text(
        "src/models.ts",
        "export interface Card {\n  id: number;\n  card_number: string;\n  cvv: string;\n}\n",
    )];
    let report = run(&["payments"], None, files);
    assert_eq!(found(&report), []);
}

#[test]
fn erasure_is_matched_to_the_resource_holding_the_data() {
    let model = File::text(
        "src/models.ts",
        "export interface RecordItem {\n  id: number;\n  email: string;\n}\n",
    );
    let routes = |method: &str| {
        File::text(
            "src/routes/records.ts",
            format!("import {{ Router }} from \"express\";\nrouter.{method}(\"/:id\", remove);\n"),
        )
    };
    let erasure = |files| -> Vec<u32> {
        run(&["personal-data"], None, files)
            .findings
            .iter()
            .filter(|f| f.rule_id == "compliance/no-erasure-endpoint")
            .map(|f| f.line().unwrap_or(0))
            .collect()
    };
    assert!(erasure(vec![model.clone(), routes("delete")]).is_empty());
    assert_eq!(erasure(vec![model, routes("put")]), [3]);
    assert_eq!(project::resource_key("CardCreate"), "card");
    assert_eq!(project::resource_key("PatientsTable"), "patient");
}

#[test]
fn every_rule_id_is_documented_and_describe_names_the_plugin() {
    let doc = include_str!("lib.rs");
    for rule in rules::RULES {
        assert!(doc.contains(&format!("`{}`", rule.id)), "{}", rule.id);
        assert!(rule.id.starts_with("compliance/"));
    }
    let info = Compliance::describe();
    assert_eq!(info.name, "qlp/compliance");
    assert_eq!(info.version, "0.1.0");
    assert_eq!(info.kind, PluginKind::Validator);
    assert!(info.capabilities.is_empty());
}

/// Every prefix of `text` cut every `step` bytes, and each with a stray
/// quote, bracket or comment opener inserted there.
fn mangled(text: &str, step: usize) -> Vec<String> {
    const INSERTS: [&str; 13] = [
        "\"", "'", "`", "(", ")", "[", "{", "}", "\\", "/*", "#", "é\n", "@",
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
    let selection = Selection::of(&Framework::ALL);
    let mut checked = 0;
    for dir in [
        "python/noncompliant",
        "python/compliant",
        "typescript/noncompliant",
        "typescript/compliant",
    ] {
        for file in fixture(dir) {
            let text = file.as_text().expect("utf-8").to_string();
            for (n, variant) in mangled(&text, 3).into_iter().enumerate() {
                // Read as every kind of file the plugin knows.
                let paths = [
                    "a.py",
                    "a.ts",
                    "a.go",
                    "a.rs",
                    "A.java",
                    "a.yaml",
                    "s.sql",
                    "README.md",
                ];
                let path = paths[n % paths.len()];
                let _ = check_files(&[File::text(path, variant)], &selection);
                checked += 1;
            }
        }
    }
    assert!(checked > 1_000, "{checked}");
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let report = check_files(
        &[File {
            path: "a.py".into(),
            content: garbage,
        }],
        &selection,
    );
    assert!(report.findings.is_empty());
}

#[test]
fn score_and_summary() {
    let finding = |severity| Finding::new("compliance/x", severity, String::new());
    assert_eq!(score(&[]), 100);
    assert_eq!(
        score(&[finding(Severity::Critical), finding(Severity::Medium)]),
        50
    );
    assert_eq!(
        score(&[finding(Severity::High), finding(Severity::Low)]),
        77
    );
    assert_eq!(score(&vec![finding(Severity::Critical); 3]), 0);
    assert_eq!(
        counts(&[finding(Severity::High), finding(Severity::Medium)]),
        "2 findings: 1 high, 1 medium"
    );
}
