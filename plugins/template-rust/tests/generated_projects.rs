//! End-to-end check of what the agent promises: the generated projects
//! build without warnings and pass their own tests with the real Rust
//! toolchain. Each test writes a generated project into a temporary
//! directory outside this repository (the project is a workspace of its
//! own) and runs `cargo test` there.
//!
//! Every project is built into ONE target directory under cargo's target
//! dir, so the dependencies (axum, tokio, serde...) compile once for all of
//! them and later runs reuse them; only each project's own crate is
//! compiled per test. Warnings are errors (`RUSTFLAGS=-Dwarnings`), which
//! all the builds share, so the dependencies stay reusable.
//!
//! These tests need cargo with Rust 1.85 or newer, and the crates.io
//! registry the first time; without them they fail and say so.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use qlp_agent_testkit::{has, intent, text, write_project};
use qlp_plugin_template_rust::generate_project;
use qlp_sdk::{File, Intent};

const INSTALL_HINT: &str =
    "install Rust 1.85 or newer with cargo (https://rustup.rs, or run deploy/setup.sh)";

/// The target directory all generated projects share.
fn shared_target() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("generated-rust-target")
}

/// Generates the project, runs `cargo test` in it and returns the files
/// and cargo's output.
fn generated_project_passes(intent: &Intent) -> (Vec<File>, String) {
    let files = generate_project(intent).expect("the intent generates");
    let dir = tempfile::tempdir().expect("temporary directory");
    assert!(
        !dir.path().starts_with(env!("CARGO_MANIFEST_DIR")),
        "the project is written outside this repository"
    );
    write_project(dir.path(), &files);

    let mut command = Command::new(env!("CARGO"));
    command
        .args(["test", "--quiet"])
        .current_dir(dir.path())
        .env("CARGO_TARGET_DIR", shared_target())
        .env("RUSTFLAGS", "-Dwarnings")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        // The suites must not depend on the developer's environment.
        .env_remove("JWT_SECRET")
        .env_remove("AUTH_USERNAME")
        .env_remove("AUTH_PASSWORD")
        .env_remove("DATABASE_URL")
        .env_remove("FIELD_ENCRYPTION_KEY")
        .env_remove("RECORD_RETENTION_DAYS")
        .env_remove("PORT");
    let started = Instant::now();
    let report = qlp_agent_testkit::run(command, INSTALL_HINT);
    eprintln!(
        "cargo test in the generated {} took {:.1?}",
        text(&files, "Cargo.toml")
            .lines()
            .find(|l| l.starts_with("name = "))
            .unwrap_or_default(),
        started.elapsed()
    );
    let results: Vec<&str> = report
        .lines()
        .filter(|l| l.starts_with("test result:"))
        .collect();
    assert!(!results.is_empty(), "no test ran:\n{report}");
    for result in &results {
        assert!(
            result.starts_with("test result: ok.") && result.contains(" 0 ignored"),
            "{result}:\n{report}"
        );
    }
    (files, report)
}

/// How many tests passed, from cargo's `test result:` lines.
fn passed(report: &str) -> usize {
    report
        .lines()
        .filter_map(|l| l.strip_prefix("test result: ok. "))
        .filter_map(|rest| rest.split(' ').next()?.parse::<usize>().ok())
        .sum()
}

#[test]
fn a_warehouse_service_with_jwt_and_postgres_passes_its_tests() {
    let (files, report) = generated_project_passes(&intent(
        "Create a Rust axum service for warehouse inventory with JWT auth and PostgreSQL",
        &["Each inventory item has a SKU, a name, a quantity and a bin location"],
        &[("port", "9090")],
    ));
    let routes = text(&files, "src/routes/inventories.rs");
    assert!(routes.contains(".route(\"/inventories\", get(list).post(create))"));
    assert!(
        routes.contains(".route(\"/inventories/{id}\", get(read).put(replace).delete(remove))")
    );
    let models = text(&files, "src/models.rs");
    for line in [
        "pub struct Inventory {",
        "    pub sku: String,",
        "    pub quantity: i64,",
        "    pub bin_location: String,",
        "quantity: check_integer(problems, body, \"quantity\", true, true)",
    ] {
        assert!(models.contains(line), "models.rs has {line}:\n{models}");
    }
    assert!(text(&files, "src/lib.rs").contains("auth::require_user"));
    assert!(text(&files, "src/config.rs").contains("pub const DEFAULT_PORT: u16 = 9090;"));
    assert!(text(&files, "src/storage.rs").contains("[\"postgres\", \"postgresql\"]"));
    assert!(text(&files, "Cargo.toml").contains("hmac = \"0.12\""));
    assert!(passed(&report) >= 15, "{report}");
}

#[test]
fn a_plain_recipes_service_has_no_auth_and_no_database() {
    let (files, report) = generated_project_passes(&intent(
        "A Rust REST API for recipes",
        &["Recipes have a title, servings and an optional cooking time"],
        &[("framework", "axum")],
    ));
    assert!(text(&files, "src/lib.rs").contains(".merge(routes::recipes::routes())"));
    let models = text(&files, "src/models.rs");
    assert!(models.contains("pub struct Recipe {"), "{models}");
    assert!(
        models.contains("    pub cooking_time: Option<String>,"),
        "{models}"
    );
    for absent in ["src/auth.rs", "tests/api/auth.rs"] {
        assert!(!has(&files, absent), "{absent} without auth or database");
    }
    let storage = text(&files, "tests/api/storage.rs");
    assert!(
        storage.contains("assert!(stores.recipes.list().is_empty());"),
        "the storage test checks the in-memory stores: {storage}"
    );
    for file in &files {
        let content = file.as_text().expect("text");
        for word in ["JWT_SECRET", "DATABASE_URL", "require_user", "hmac"] {
            assert!(!content.contains(word), "{} mentions {word}", file.path);
        }
    }
    assert!(text(&files, "src/config.rs").contains("pub const DEFAULT_PORT: u16 = 8080;"));
    assert!(passed(&report) >= 8, "{report}");
}

#[test]
fn a_library_with_two_resources_keyword_fields_and_sqlite_passes_its_tests() {
    let (files, _) = generated_project_passes(&intent(
        "Rust service for a library: books and authors, protected by bearer tokens",
        &[
            "Books have a title, an isbn, a page count and a type",
            "Authors have a full name, an optional biography and an active flag",
        ],
        &[("database", "SQLite"), ("project name", "city-library")],
    ));
    assert!(text(&files, "Cargo.toml").contains("name = \"city-library\""));
    assert!(text(&files, "src/main.rs").contains("use city_library::config::Config;"));
    for path in [
        "src/routes/books.rs",
        "src/routes/authors.rs",
        "tests/api/main.rs",
        "tests/api/books.rs",
        "tests/api/authors.rs",
        "tests/api/auth.rs",
        "tests/api/storage.rs",
    ] {
        assert!(has(&files, path), "{path} generated");
    }
    let models = text(&files, "src/models.rs");
    assert!(models.contains("    pub r#type: String,"), "{models}");
    assert!(models.contains("    pub page_count: i64,"), "{models}");
    assert!(models.contains("    pub active: bool,"), "{models}");
    assert!(text(&files, "tests/api/auth.rs").contains("&[\"/books\", \"/authors\"]"));
    assert!(text(&files, "src/storage.rs").contains("[\"sqlite\", \"sqlite3\"]"));
}

/// Each named test of the generated `tests/api/data_protection.rs`.
fn assert_tests(files: &[File], names: &[&str]) {
    let tests = text(files, "tests/api/data_protection.rs");
    for name in names {
        assert!(tests.contains(&format!("fn {name}()")), "{name}:\n{tests}");
    }
}

#[test]
fn a_payments_service_encrypts_and_masks_card_numbers_drops_the_cvv_audits_and_expires() {
    let (files, report) = generated_project_passes(&intent(
        "A Rust payments API for cards with JWT auth",
        &["Each card has a cardholder name, a card number, a cvv and an expiry month"],
        &[("compliance", "payments")],
    ));
    let models = text(&files, "src/models.rs");
    for line in [
        "pub struct CardRow {",
        "card_number: encrypt(key, &self.card_number),",
        "card_number: mask_card_number(&decrypt(key, &self.card_number)?),",
        "impl Dated for CardRow {",
    ] {
        assert!(models.contains(line), "models.rs has {line}:\n{models}");
    }
    assert!(
        !models.contains("cvv"),
        "the cvv is never stored:\n{models}"
    );
    assert!(text(&files, "src/crypto.rs").contains("Aes256Gcm::generate_nonce(&mut OsRng)"));
    assert!(text(&files, "Cargo.toml").contains("aes-gcm = \"0.10\"\nbase64 = \"0.22\"\nhmac"));
    // The actor of an audit entry is the token's subject.
    assert!(text(&files, "src/audit.rs").contains("verify_token("));
    assert_tests(
        &files,
        &[
            "sensitive_fields_are_stored_encrypted_and_answered_decrypted",
            "each_value_gets_its_own_nonce_and_needs_the_key",
            "a_missing_or_malformed_key_is_refused",
            "every_change_writes_one_audit_entry",
            "records_older_than_the_retention_are_purged",
        ],
    );
    let readme = text(&files, "README.md");
    for part in [
        "## Data protection",
        "- the intent's compliance concern `payments`",
        "masked to the last\n  four digits",
        "`cards.cvv`",
        "openssl rand -base64 32",
    ] {
        assert!(readme.contains(part), "README has {part}:\n{readme}");
    }
    assert!(passed(&report) >= 20, "{report}");
}

#[test]
fn a_health_records_service_encrypts_health_data() {
    let (files, report) = generated_project_passes(&intent(
        "A Rust API for patient records",
        &[
            "Each patient has a full name, a diagnosis, an optional allergy note and a medical \
             record number",
        ],
        &[("compliance", "health-data")],
    ));
    let models = text(&files, "src/models.rs");
    for line in [
        "diagnosis: encrypt(key, &self.diagnosis),",
        "allergy_note: self.allergy_note.map(|value| encrypt(key, &value)),",
        "medical_record_number: encrypt(key, &self.medical_record_number),",
        "diagnosis: decrypt(key, &self.diagnosis)?,",
        "full_name: self.full_name,",
    ] {
        assert!(models.contains(line), "models.rs has {line}:\n{models}");
    }
    assert!(!models.contains("mask_card_number"), "{models}");
    assert_tests(
        &files,
        &[
            "sensitive_fields_are_stored_encrypted_and_answered_decrypted",
            "a_missing_or_malformed_key_is_refused",
            "every_change_writes_one_audit_entry",
            "records_older_than_the_retention_are_purged",
        ],
    );
    let readme = text(&files, "README.md");
    assert!(readme.contains("- the intent's compliance concern `health-data`"));
    assert!(passed(&report) >= 15, "{report}");
}

#[test]
fn an_intent_asking_for_an_audit_log_and_a_retention_gets_them_without_encryption() {
    let (files, _) = generated_project_passes(&intent(
        "A Rust API for medical appointments",
        &[
            "Each medical appointment has a title and a room number",
            "Keep an audit log of every change",
            "Records are deleted after 30 days",
        ],
        &[],
    ));
    assert!(!has(&files, "src/auth.rs"));
    assert!(!has(&files, "src/crypto.rs"));
    assert!(text(&files, "src/audit.rs").contains("Ok(Self(ANONYMOUS_ACTOR.into()))"));
    assert!(
        text(&files, "src/config.rs")
            .contains("pub const DEFAULT_RECORD_RETENTION_DAYS: u32 = 30;")
    );
    assert!(!text(&files, "Cargo.toml").contains("aes-gcm"));
    assert_tests(
        &files,
        &[
            "every_change_writes_one_audit_entry",
            "records_older_than_the_retention_are_purged",
        ],
    );
}
