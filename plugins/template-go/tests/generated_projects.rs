//! End-to-end check of what the agent promises: the generated projects
//! build and pass their own tests with the real Go toolchain. Each test
//! writes a generated project into a temporary directory and runs
//! `gofmt -l`, `go vet ./...` and `go test ./...` in it.
//!
//! These tests need Go 1.19 or newer (`apt-get install golang-go`, or
//! deploy/setup.sh); without it they fail and say so. The generated
//! projects have no dependencies, so no network is used.

use std::path::Path;
use std::process::Command;

use qlp_agent_testkit::{has, intent, text, write_project};
use qlp_plugin_template_go::{generate_project, generate_repaired};
use qlp_sdk::{File, Finding, Intent, Severity};

const INSTALL_HINT: &str =
    "install Go 1.19 or newer (Debian: apt-get install golang-go; or run deploy/setup.sh)";

/// Runs a Go tool in `dir` and returns its output; fails naming the tool's
/// output when it does not succeed, or what to install when it is missing.
fn go_tool(dir: &Path, program: &str, args: &[&str]) -> String {
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("go-build-cache");
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(dir)
        // No network and no module downloads: the projects use the
        // standard library only.
        .env("GOFLAGS", "-mod=mod")
        .env("GOPROXY", "off")
        .env("GOCACHE", &cache)
        .env("CGO_ENABLED", "0")
        // The suites must not depend on the developer's environment.
        .env_remove("JWT_SECRET")
        .env_remove("AUTH_USERNAME")
        .env_remove("AUTH_PASSWORD")
        .env("DATABASE_URL", "postgres://unreachable.invalid/none");
    qlp_agent_testkit::run(command, INSTALL_HINT)
}

/// Generates the project, checks it is gofmt-clean, vets it and runs its
/// tests verbosely; returns the files and `go test -v`'s output.
fn generated_project_passes(intent: &Intent) -> (Vec<File>, String) {
    generated_files_pass(generate_project(intent).expect("the intent generates"))
}

/// [`generated_project_passes`] for files already generated.
fn generated_files_pass(files: Vec<File>) -> (Vec<File>, String) {
    let dir = tempfile::tempdir().expect("temporary directory");
    write_project(dir.path(), &files);
    let unformatted = go_tool(dir.path(), "gofmt", &["-l", "."]);
    assert!(
        unformatted.trim().is_empty(),
        "gofmt would change: {unformatted}"
    );
    go_tool(dir.path(), "go", &["vet", "./..."]);
    let report = go_tool(dir.path(), "go", &["test", "-count=1", "-v", "./..."]);
    assert!(report.contains("--- PASS"), "no test ran:\n{report}");
    assert!(
        !report.contains("--- SKIP"),
        "a test was skipped:\n{report}"
    );
    (files, report)
}

/// The text with every run of spaces and tabs made one space, so that
/// assertions do not depend on gofmt's column alignment.
fn squeezed(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        out.push_str(&line.split_whitespace().collect::<Vec<_>>().join(" "));
        out.push('\n');
    }
    out
}

#[test]
fn the_warehouse_inventory_service_with_jwt_and_postgres_passes_its_tests() {
    let (files, report) = generated_project_passes(&intent(
        "Create a Go REST API for warehouse inventory with PostgreSQL and JWT auth",
        &[
            "Each inventory item has a SKU, a name, a quantity and a bin location",
            "Only authenticated clerks may change stock",
        ],
        &[("language", "Go"), ("port", "9090")],
    ));
    let server = text(&files, "server.go");
    assert!(server.contains("s.mux.Handle(\"/inventories\", s.protect(s.handleInventories))"));
    assert!(server.contains("s.mux.HandleFunc(\"/auth/token\", s.handleToken)"));
    let models = squeezed(text(&files, "models.go"));
    for field in [
        "Sku string `json:\"sku\"`",
        "Quantity int64 `json:\"quantity\"`",
        "BinLocation string `json:\"bin_location\"`",
    ] {
        assert!(models.contains(field), "models.go has {field}:\n{models}");
    }
    assert!(text(&files, "config.go").contains("const defaultPort = \"9090\""));
    assert!(text(&files, "storage.go").contains("DATABASE_URL selects PostgreSQL"));
    for test in [
        "TestInventoriesCreateListGetReplaceDelete",
        "TestInventoriesRequireTheirRequiredFields/bin_location",
        "TestResourcesRefuseRequestsWithoutAValidToken",
        "TestAPostgresURLNeedsARepositoryAndOtherSchemesAreRefused",
    ] {
        assert!(
            report.contains(&format!("--- PASS: {test}")),
            "{test} ran:\n{report}"
        );
    }
}

#[test]
fn a_plain_orders_service_has_no_auth_and_no_database() {
    let (files, report) = generated_project_passes(&intent(
        "Build a Go microservice to manage customer orders",
        &["Orders have a customer name, a total and an optional note"],
        &[],
    ));
    assert!(text(&files, "server.go").contains("s.mux.HandleFunc(\"/orders\", s.handleOrders)"));
    let models = squeezed(text(&files, "models.go"));
    assert!(models.contains("type Order struct"));
    assert!(models.contains("Note *string `json:\"note\"`"));
    assert!(models.contains("Total float64 `json:\"total\"`"));
    for absent in ["auth.go", "auth_test.go", "storage_test.go"] {
        assert!(!has(&files, absent), "{absent} without auth or database");
    }
    for file in &files {
        let content = file.as_text().expect("text");
        for word in ["JWT_SECRET", "DATABASE_URL", "protect("] {
            assert!(!content.contains(word), "{} mentions {word}", file.path);
        }
    }
    assert!(text(&files, "config.go").contains("const defaultPort = \"8080\""));
    assert!(report.contains("--- PASS: TestOrdersRefuseInvalidValues/total_negative"));
}

#[test]
fn a_library_with_two_resources_and_token_auth_passes_its_tests() {
    let (files, report) = generated_project_passes(&intent(
        "Go service for a library: books and authors, protected by bearer tokens",
        &[
            "Books have a title, an isbn, a page count and an available flag",
            "Authors have a full name and an optional biography",
        ],
        &[("database", "SQLite"), ("project name", "city-library")],
    ));
    assert_eq!(text(&files, "go.mod"), "module city-library\n\ngo 1.19\n");
    for path in [
        "books_handlers.go",
        "authors_handlers.go",
        "books_handlers_test.go",
        "authors_handlers_test.go",
    ] {
        assert!(has(&files, path), "{path} generated");
    }
    let models = squeezed(text(&files, "models.go"));
    assert!(models.contains("PageCount int64 `json:\"page_count\"`"));
    assert!(models.contains("FullName string `json:\"full_name\"`"));
    assert!(text(&files, "auth_test.go").contains("[]string{\"/books\", \"/authors\"}"));
    assert!(text(&files, "storage.go").contains("[]string{\"sqlite\", \"sqlite3\"}"));
    assert!(report.contains("--- PASS: TestAuthorsCreateListGetReplaceDelete"));
    assert!(text(&files, "README.md").contains("| `page_count` | whole number, 0 or more | yes |"));
}

#[test]
fn an_intent_without_fields_gets_the_default_fields_and_passes() {
    let (files, _) = generated_project_passes(&intent("A Go API for invoices", &[], &[]));
    let models = squeezed(text(&files, "models.go"));
    assert!(models.contains("Name string `json:\"name\"`"), "{models}");
    assert!(
        models.contains("Amount float64 `json:\"amount\"`"),
        "{models}"
    );
}

#[test]
fn resources_named_like_the_generated_types_still_build_and_pass() {
    let (files, _) = generated_project_passes(&intent(
        "A Go service to manage configs and repositories",
        &[],
        &[],
    ));
    let models = text(&files, "models.go");
    assert!(models.contains("type ConfigRecord struct"), "{models}");
    assert!(models.contains("type RepositoryRecord struct"), "{models}");
    assert!(
        text(&files, "server.go")
            .contains("s.mux.HandleFunc(\"/repositories\", s.handleRepositories)")
    );
}

/// The payments intent as the host passes it: the planner's concern
/// `payments` as a constraint.
#[test]
fn a_payments_service_encrypts_card_numbers_drops_the_cvv_audits_and_expires() {
    let (files, report) = generated_project_passes(&intent(
        "A Go payments API for cards with JWT auth",
        &[
            "Each card has a cardholder name, a card number, a cvv and an expiry month",
            "Payments have an amount, a currency and a customer email",
        ],
        &[("compliance", "payments")],
    ));
    let models = squeezed(text(&files, "models.go"));
    assert!(
        models.contains("CardNumber string `json:\"card_number\"`"),
        "{models}"
    );
    assert!(!models.contains("Cvv"), "the cvv is not stored:\n{models}");
    assert!(
        models.contains("fieldCipher.Encrypt(record.CardNumber)"),
        "{models}"
    );
    assert!(
        models.contains("maskCardNumber(record.CardNumber)"),
        "{models}"
    );
    assert!(
        models.contains("CreatedAt time.Time `json:\"created_at\"`"),
        "{models}"
    );
    assert!(text(&files, "crypto.go").contains("cipher.NewGCM(block)"));
    assert!(text(&files, "config.go").contains("RECORD_RETENTION_DAYS"));
    assert!(
        text(&files, "cards_handlers.go")
            .contains("s.audit(r, \"create\", \"cards\", id, outcome)")
    );
    let readme = text(&files, "README.md");
    for words in [
        "## Data protection",
        "the intent's compliance concern `payments`",
        "| `/cards` | `card_number` | masked to its last four characters |",
        "`cvv` of `/cards`",
        "openssl rand -base64 32",
        "### Audit trail",
        "### Retention",
    ] {
        assert!(readme.contains(words), "README has {words}:\n{readme}");
    }
    for test in [
        "TestCardsKeepSensitiveFieldsEncryptedAndAnswerThemDecrypted",
        "TestEachValueIsEncryptedWithItsOwnNonceAndOnlyThisKeyOpensIt",
        "TestTheServiceRefusesToStartWithoutAValidFieldKey",
        "TestEveryChangeIsWrittenToTheAuditTrail",
        "TestRecordsOlderThanTheRetentionAreRemoved",
        "TestTheRetentionIsReadFromTheEnvironment",
        "TestResourcesRefuseRequestsWithoutAValidToken",
        "TestCardsCreateListGetReplaceDelete",
        "TestPaymentsCreateListGetReplaceDelete",
    ] {
        assert!(
            report.contains(&format!("--- PASS: {test}")),
            "{test} ran:\n{report}"
        );
    }
}

#[test]
fn a_health_records_service_encrypts_health_data_audits_the_callers_changes_and_expires() {
    let (files, report) = generated_project_passes(&intent(
        "A Go patient records API for a clinic",
        &[
            "Each record has a full name, a diagnosis, a medical record number and an optional note",
            "Keep records for 7 years",
        ],
        &[("compliance", "health-data")],
    ));
    let models = squeezed(text(&files, "models.go"));
    for field in [
        "Diagnosis string `json:\"diagnosis\"`",
        "MedicalRecordNumber string `json:\"medical_record_number\"`",
        "fieldCipher.Encrypt(record.Diagnosis)",
        "fieldCipher.Decrypt(record.MedicalRecordNumber)",
    ] {
        assert!(models.contains(field), "models.go has {field}:\n{models}");
    }
    assert!(!models.contains("Encrypt(record.FullName)"), "{models}");
    assert!(!text(&files, "crypto.go").contains("maskCardNumber"));
    assert!(text(&files, "config.go").contains("defaultRetentionDays = 2555"));
    // HIPAA 164.312(a)(1): health data is served to authenticated callers,
    // and the audit trail names them.
    assert!(text(&files, "auth.go").contains("next(w, withActor(r, claims.Subject))"));
    assert!(text(&files, "README.md").contains("| `/records` | `diagnosis` | decrypted |"));
    for test in [
        "TestRecordsKeepSensitiveFieldsEncryptedAndAnswerThemDecrypted",
        "TestEveryChangeIsWrittenToTheAuditTrail",
        "TestRecordsOlderThanTheRetentionAreRemoved",
        "TestConfigRefusesMalformedValues",
    ] {
        assert!(
            report.contains(&format!("--- PASS: {test}")),
            "{test} ran:\n{report}"
        );
    }
}

#[test]
fn a_project_repaired_after_compliance_findings_passes_its_tests() {
    let finding = |rule_id: &str, message: &str| Finding::new(rule_id, Severity::Medium, message);
    let files = generate_repaired(
        &intent(
            "A Go API for bank accounts protected by bearer tokens",
            &["Each account has an owner, a routing code and an optional balance"],
            &[],
        ),
        &[
            finding(
                "compliance/unencrypted-at-rest",
                "`Account.RoutingCode` holds …",
            ),
            finding("compliance/no-audit-logging", "…"),
            finding("compliance/no-retention-policy", "…"),
        ],
    )
    .expect("generates");
    let (files, report) = generated_files_pass(files);
    assert!(text(&files, "models.go").contains("fieldCipher.Encrypt(record.RoutingCode)"));
    assert!(text(&files, "auth.go").contains("next(w, withActor(r, claims.Subject))"));
    for test in [
        "TestAccountsKeepSensitiveFieldsEncryptedAndAnswerThemDecrypted",
        "TestEveryChangeIsWrittenToTheAuditTrail",
        "TestRecordsOlderThanTheRetentionAreRemoved",
    ] {
        assert!(
            report.contains(&format!("--- PASS: {test}")),
            "{test} ran:\n{report}"
        );
    }
}
