//! End-to-end check of what the agent promises: the generated projects
//! type-check and pass their own tests with the real Node.js toolchain.
//! Each test writes a generated project into a temporary directory, links
//! in its dependencies and runs `npm test` and `npx tsc --noEmit` there.
//!
//! Dependencies are installed with `npm install` once per distinct set of
//! dependencies (every project this agent generates has the same set), into
//! a directory under cargo's target dir with its own npm cache, and linked
//! into each project as `node_modules` (`qlp_agent_testkit::npm`). A later
//! run reuses them.
//!
//! These tests need Node.js 18.17 or newer with npm, and the npm registry
//! the first time; without them they fail and say so.

use std::path::{Path, PathBuf};

use qlp_agent_testkit::{has, intent, npm, text, write_project};
use qlp_plugin_template_node::generate_project;
use qlp_sdk::{File, Intent};

const INSTALL_HINT: &str = "install Node.js 18.17 or newer with npm (Debian: apt-get install nodejs npm; or run deploy/setup.sh)";

fn scratch() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).to_path_buf()
}

/// Runs an npm tool in `dir` and returns its output; fails with the output
/// when it does not succeed, or with what to install when it is missing.
fn run(dir: &Path, program: &str, args: &[&str]) -> String {
    let mut command = npm::command(&scratch(), dir, program, args);
    command
        // The suites must not depend on the developer's environment.
        .env_remove("JWT_SECRET")
        .env_remove("AUTH_USERNAME")
        .env_remove("AUTH_PASSWORD")
        .env_remove("PORT")
        .env_remove("FIELD_ENCRYPTION_KEY")
        .env_remove("RECORD_RETENTION_DAYS")
        .env("DATABASE_URL", "postgres://unreachable.invalid/none");
    qlp_agent_testkit::run(command, INSTALL_HINT)
}

/// Generates the project, type-checks it and runs its tests; returns the
/// files and `npm test`'s output.
fn generated_project_passes(intent: &Intent) -> (Vec<File>, String) {
    let files = generate_project(intent).expect("the intent generates");
    let dir = tempfile::tempdir().expect("temporary directory");
    write_project(dir.path(), &files);
    let modules = npm::node_modules(&scratch(), text(&files, "package.json"), INSTALL_HINT);
    npm::link_node_modules(dir.path(), &modules);

    run(dir.path(), "npx", &["--no-install", "tsc", "--noEmit"]);
    let report = run(dir.path(), "npm", &["test"]);
    assert!(report.contains("# fail 0"), "a test failed:\n{report}");
    assert!(!report.contains("# pass 0"), "no test ran:\n{report}");
    assert!(
        report.contains("# skipped 0"),
        "a test was skipped:\n{report}"
    );
    (files, report)
}

#[test]
fn a_support_ticket_service_with_jwt_and_postgres_passes_its_tests() {
    let (files, report) = generated_project_passes(&intent(
        "Create a Node.js Express service in TypeScript for support tickets with JWT auth",
        &[
            "Each ticket has a title, a priority, an optional assignee and a resolved flag",
            "Tickets are stored in PostgreSQL",
        ],
        &[("port", "4100")],
    ));
    let app = text(&files, "src/app.ts");
    assert!(app.contains("app.use(\"/tickets\", requireUser(config), ticketsRouter(stores));"));
    assert!(app.contains("app.use(\"/auth\", authRouter(config));"));
    let models = text(&files, "src/models.ts");
    for line in [
        "export interface Ticket {",
        "  title: string;",
        "  priority: number;",
        "  assignee: string | null;",
        "  resolved: boolean;",
    ] {
        assert!(models.contains(line), "models.ts has {line}:\n{models}");
    }
    assert!(text(&files, "src/config.ts").contains("export const DEFAULT_PORT = 4100;"));
    assert!(text(&files, "src/storage.ts").contains("DATABASE_URL selects PostgreSQL"));
    for test in [
        "ok 1 - creates, lists, reads, replaces and deletes a ticket",
        "requires title",
        "refuses resource requests without a valid token",
        "needs a PostgreSQL repository",
    ] {
        assert!(report.contains(test), "{test} ran:\n{report}");
    }
}

#[test]
fn a_plain_recipes_service_has_no_auth_and_no_database() {
    let (files, report) = generated_project_passes(&intent(
        "A TypeScript REST API for recipes",
        &["Recipes have a title, servings and a cooking time in minutes"],
        &[("framework", "Express")],
    ));
    assert!(text(&files, "src/app.ts").contains("app.use(\"/recipes\", recipesRouter(stores));"));
    let models = text(&files, "src/models.ts");
    assert!(models.contains("  servings: string;") || models.contains("  servings: number;"));
    assert!(models.contains("  cooking_time: string;"), "{models}");
    for absent in ["src/auth.ts", "test/auth.test.ts", "test/storage.test.ts"] {
        assert!(!has(&files, absent), "{absent} without auth or database");
    }
    for file in &files {
        let content = file.as_text().expect("text");
        for word in ["JWT_SECRET", "DATABASE_URL", "requireUser"] {
            assert!(!content.contains(word), "{} mentions {word}", file.path);
        }
    }
    assert!(text(&files, "src/config.ts").contains("export const DEFAULT_PORT = 3000;"));
    assert!(report.contains("requires title"), "{report}");
}

#[test]
fn a_shop_with_two_resources_and_bearer_tokens_passes_its_tests() {
    let (files, report) = generated_project_passes(&intent(
        "Node service for a shop: products and orders, protected by bearer tokens",
        &[
            "Products have a name, a unit price and a stock count",
            "Orders have a customer email, a quantity and a paid flag",
        ],
        &[("database", "MongoDB"), ("project name", "corner-shop")],
    ));
    assert!(text(&files, "package.json").contains("\"name\": \"corner-shop\""));
    for path in [
        "src/routes/products.ts",
        "src/routes/orders.ts",
        "test/products.test.ts",
        "test/orders.test.ts",
    ] {
        assert!(has(&files, path), "{path} generated");
    }
    let models = text(&files, "src/models.ts");
    assert!(models.contains("  unit_price: number;"));
    assert!(models.contains("  customer_email: string;"));
    assert!(models.contains("  paid: boolean;"), "{models}");
    assert!(text(&files, "test/auth.test.ts").contains("[\"/products\", \"/orders\"]"));
    assert!(text(&files, "src/storage.ts").contains("[\"mongodb\", \"mongodb+srv\"]"));
    assert!(report.contains("creates, lists, reads, replaces and deletes an order"));
}

#[test]
fn an_intent_without_fields_gets_the_default_fields_and_passes() {
    let (files, _) = generated_project_passes(&intent("An Express API for invoices", &[], &[]));
    let models = text(&files, "src/models.ts");
    assert!(models.contains("  name: string;"), "{models}");
    assert!(models.contains("  description: string | null;"), "{models}");
    assert!(models.contains("  amount: number;"), "{models}");
}

#[test]
fn resources_named_like_the_generated_types_still_build_and_pass() {
    let (files, _) = generated_project_passes(&intent(
        "A Node service to manage configs and repositories",
        &[],
        &[],
    ));
    let models = text(&files, "src/models.ts");
    assert!(models.contains("export interface ConfigItem {"), "{models}");
    assert!(
        models.contains("export interface RepositoryItem {"),
        "{models}"
    );
}

#[test]
fn a_payments_service_encrypts_card_numbers_drops_the_cvv_audits_and_expires() {
    let (files, report) = generated_project_passes(&intent(
        "A Node.js API for cards. Each card has a cardholder name, a card number, a cvv \
         and an expiry month.",
        &["Routes require JWT authentication"],
        &[("compliance", "payments")],
    ));
    let models = text(&files, "src/models.ts");
    assert!(!models.contains("cvv"), "the cvv is not stored:\n{models}");
    assert!(models.contains("card_number: encryptField(key, input.card_number),"));
    assert!(models.contains("maskCardNumber(decryptField(key, stored.card_number))"));
    assert!(text(&files, "src/routes/cards.ts").contains("auditLog.record(req, \"delete\""));
    let readme = text(&files, "README.md");
    for line in [
        "## Data protection",
        "- the intent's compliance concern `payments`",
        "- `card_number` of `/cards`, returned masked to its last four digits",
        "- `cvv` of `/cards`: a card verification code must not be kept",
        "### Audit trail",
        "### Retention",
        "export FIELD_ENCRYPTION_KEY=\"$(openssl rand -base64 32)\"",
        "| `RECORD_RETENTION_DAYS` | Days a record is kept before it is deleted | 365 |",
    ] {
        assert!(readme.contains(line), "README has {line}:\n{readme}");
    }
    for test in [
        "stores card_number encrypted, never in clear text",
        "returns card_number decrypted, card numbers masked to their last four digits",
        "is required: a missing or malformed key is refused",
        "keeps the service from starting without it",
        "records every create, replace and delete with its actor and outcome",
        "purges cards older than the retention",
    ] {
        assert!(report.contains(test), "{test} ran:\n{report}");
    }
}

#[test]
fn a_health_records_service_encrypts_health_data_and_keeps_records_six_years() {
    let (files, report) = generated_project_passes(&intent(
        "A TypeScript API for the patients of a clinic",
        &[
            "Each patient has a full name, a diagnosis and an optional medical record number",
            "Keep records for 6 years",
        ],
        &[("compliance", "health-data")],
    ));
    let models = text(&files, "src/models.ts");
    for line in [
        "diagnosis: encryptField(key, input.diagnosis),",
        "medical_record_number: input.medical_record_number === null ? null : \
         encryptField(key, input.medical_record_number),",
        "diagnosis: decryptField(key, stored.diagnosis),",
    ] {
        assert!(models.contains(line), "models.ts has {line}:\n{models}");
    }
    assert!(!models.contains("encryptField(key, input.full_name)"));
    assert!(!models.contains("maskCardNumber"), "no card number to mask");
    assert!(text(&files, "src/config.ts").contains("export const DEFAULT_RETENTION_DAYS = 2190;"));
    // Health data is served to authenticated callers only, who the audit
    // trail names.
    assert!(text(&files, "src/audit.ts").contains("verifyToken(token, jwtSecret)"));
    for test in [
        "stores diagnosis and medical_record_number encrypted, never in clear text",
        "returns diagnosis and medical_record_number decrypted",
        "records every create, replace and delete with its actor and outcome",
        "keeps records RECORD_RETENTION_DAYS days, 2190 by default",
        "purges patients older than the retention",
    ] {
        assert!(report.contains(test), "{test} ran:\n{report}");
    }
}

#[test]
fn an_audit_log_the_intent_asks_for_names_anonymous_actors_without_auth() {
    let (files, report) = generated_project_passes(&intent(
        "A TypeScript REST API for recipes",
        &[
            "Recipes have a title and servings",
            "Keep an audit log of every change",
        ],
        &[],
    ));
    assert!(text(&files, "src/audit.ts").contains("return ANONYMOUS;"));
    for absent in ["src/auth.ts", "src/crypto.ts", "src/retention.ts"] {
        assert!(!has(&files, absent), "{absent} is not asked for");
    }
    assert!(
        report.contains("records every create, replace and delete with its actor and outcome"),
        "{report}"
    );
}
