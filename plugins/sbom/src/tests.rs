//! Tests of `qlp/sbom`: each ecosystem's manifests become the components a
//! user reads (name, version or declared range, purl, scope, manifest),
//! locks give exact versions, the options are checked, and the same
//! capsule gives the same bytes whatever the order of its files. The
//! document is checked against the CycloneDX schema in `tests/`.

use serde_json::{Value, json};

use super::*;

fn options(pairs: &[(&str, &str)]) -> ExportOptions {
    ExportOptions {
        base_name: "invoices-service".into(),
        options: pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

fn export(files: &[File], pairs: &[(&str, &str)]) -> Vec<u8> {
    export_files(files, &options(pairs)).expect("exports").bytes
}

fn parse(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("the document is JSON")
}

/// The components of the SBOM of `files`, by purl, each reduced to what a
/// reader compares: name, group, version, scope and properties.
fn components(files: &[File], pairs: &[(&str, &str)]) -> Vec<Value> {
    let doc = parse(&export(files, pairs));
    let list = doc["components"].as_array().expect("components").clone();
    for c in &list {
        assert_eq!(c["type"], "library");
        assert_eq!(c["bom-ref"], c["purl"], "bom-ref is the purl");
    }
    list.into_iter()
        .map(|mut c| {
            let object = c.as_object_mut().expect("an object");
            object.remove("type");
            object.remove("bom-ref");
            c
        })
        .collect()
}

fn props(pairs: &[(&str, &str)]) -> Value {
    Value::Array(
        pairs
            .iter()
            .map(|(n, v)| json!({ "name": n, "value": v }))
            .collect(),
    )
}

// --- ecosystems

const REQUIREMENTS: &str = "\
# Runtime
fastapi==0.115.0
pydantic>=2.6,<3
uvicorn[standard]~=0.30.1 ; python_version >= \"3.10\"
SQLAlchemy==2.0.36
-r requirements-dev.txt
git+https://example.invalid/lib.git#egg=lib
";

const REQUIREMENTS_DEV: &str = "pytest==8.3.3\nhttpx==0.27.2\n";

const PYPROJECT: &str = r#"[project]
name = "invoices"
version = "0.1.0"
dependencies = [
    "fastapi==0.115.0",
    "typing_extensions>=4.12",
]

[project.optional-dependencies]
postgres = ["psycopg[binary]==3.2.3"]
"#;

#[test]
fn python_requirements_and_pyproject_become_pypi_components() {
    let got = components(
        &[
            File::text("requirements.txt", REQUIREMENTS),
            File::text("requirements-dev.txt", REQUIREMENTS_DEV),
            File::text("pyproject.toml", PYPROJECT),
        ],
        &[],
    );
    assert_eq!(
        got,
        [
            json!({ "name": "fastapi", "version": "0.115.0", "scope": "required",
                    "purl": "pkg:pypi/fastapi@0.115.0",
                    "properties": props(&[("qlp:manifest", "pyproject.toml"), ("qlp:manifest", "requirements.txt")]) }),
            json!({ "name": "httpx", "version": "0.27.2", "scope": "optional",
                    "purl": "pkg:pypi/httpx@0.27.2",
                    "properties": props(&[("qlp:manifest", "requirements-dev.txt")]) }),
            json!({ "name": "psycopg", "version": "3.2.3", "scope": "optional",
                    "purl": "pkg:pypi/psycopg@3.2.3",
                    "properties": props(&[("qlp:manifest", "pyproject.toml")]) }),
            json!({ "name": "pydantic", "scope": "required", "purl": "pkg:pypi/pydantic",
                    "properties": props(&[("qlp:declared-range", ">=2.6,<3"), ("qlp:manifest", "requirements.txt")]) }),
            json!({ "name": "pytest", "version": "8.3.3", "scope": "optional",
                    "purl": "pkg:pypi/pytest@8.3.3",
                    "properties": props(&[("qlp:manifest", "requirements-dev.txt")]) }),
            json!({ "name": "sqlalchemy", "version": "2.0.36", "scope": "required",
                    "purl": "pkg:pypi/sqlalchemy@2.0.36",
                    "properties": props(&[("qlp:manifest", "requirements.txt")]) }),
            json!({ "name": "typing-extensions", "scope": "required",
                    "purl": "pkg:pypi/typing-extensions",
                    "properties": props(&[("qlp:declared-range", ">=4.12"), ("qlp:manifest", "pyproject.toml")]) }),
            json!({ "name": "uvicorn", "scope": "required", "purl": "pkg:pypi/uvicorn",
                    "properties": props(&[("qlp:declared-range", "~=0.30.1"), ("qlp:manifest", "requirements.txt")]) }),
        ]
    );
}

const PACKAGE_JSON: &str = r#"{
  "name": "invoices-web",
  "version": "1.0.0",
  "private": true,
  "scripts": { "build": "tsc", "start": "node dist/server.js" },
  "dependencies": {
    "express": "^4.21.2",
    "@fastify/cors": "10.0.1",
    "zod": "3.23.8",
    "shared": "file:../shared"
  },
  "devDependencies": {
    "typescript": "~5.6.3",
    "@types/express": "^5.0.0"
  }
}
"#;

const PACKAGE_LOCK: &str = r#"{
  "name": "invoices-web",
  "version": "1.0.0",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "": {
      "name": "invoices-web",
      "dependencies": { "express": "^4.21.2" }
    },
    "node_modules/@types/express": { "version": "5.0.0", "dev": true },
    "node_modules/express": { "version": "4.21.2" },
    "node_modules/express/node_modules/debug": { "version": "2.6.9" },
    "node_modules/typescript": { "version": "5.6.3", "dev": true }
  }
}
"#;

#[test]
fn package_json_with_its_lock_becomes_npm_components_with_exact_versions() {
    let files = [
        File::text("web/package.json", PACKAGE_JSON),
        File::text("web/package-lock.json", PACKAGE_LOCK),
    ];
    assert_eq!(
        components(&files, &[]),
        [
            json!({ "group": "@fastify", "name": "cors", "version": "10.0.1", "scope": "required",
                    "purl": "pkg:npm/%40fastify/cors@10.0.1",
                    "properties": props(&[("qlp:manifest", "web/package.json")]) }),
            json!({ "group": "@types", "name": "express", "version": "5.0.0", "scope": "optional",
                    "purl": "pkg:npm/%40types/express@5.0.0",
                    "properties": props(&[("qlp:declared-range", "^5.0.0"), ("qlp:lock", "web/package-lock.json"), ("qlp:manifest", "web/package.json")]) }),
            json!({ "name": "express", "version": "4.21.2", "scope": "required",
                    "purl": "pkg:npm/express@4.21.2",
                    "properties": props(&[("qlp:declared-range", "^4.21.2"), ("qlp:lock", "web/package-lock.json"), ("qlp:manifest", "web/package.json")]) }),
            json!({ "name": "typescript", "version": "5.6.3", "scope": "optional",
                    "purl": "pkg:npm/typescript@5.6.3",
                    "properties": props(&[("qlp:declared-range", "~5.6.3"), ("qlp:lock", "web/package-lock.json"), ("qlp:manifest", "web/package.json")]) }),
            json!({ "name": "zod", "version": "3.23.8", "scope": "required",
                    "purl": "pkg:npm/zod@3.23.8",
                    "properties": props(&[("qlp:manifest", "web/package.json")]) }),
        ]
    );
    // Without the lock, ranges stay ranges.
    let unlocked = components(&files[..1], &[]);
    let express = &unlocked[2];
    assert_eq!(express["purl"], "pkg:npm/express");
    assert_eq!(express.get("version"), None);
    // Without development dependencies.
    let purls: Vec<Value> = components(&files, &[("include-dev", "false")])
        .into_iter()
        .map(|c| c["purl"].clone())
        .collect();
    assert_eq!(
        purls,
        [
            "pkg:npm/%40fastify/cors@10.0.1",
            "pkg:npm/express@4.21.2",
            "pkg:npm/zod@3.23.8"
        ]
    );
}

const GO_MOD: &str = "module example.com/invoices

go 1.22

require (
\tgithub.com/go-chi/chi/v5 v5.1.0
\tgithub.com/jackc/pgx/v5 v5.7.1
\tgithub.com/BurntSushi/toml v1.4.0
\tgithub.com/dgrijalva/jwt-go v3.2.0+incompatible
\tgolang.org/x/crypto v0.28.0 // indirect
)

require github.com/google/uuid v1.6.0
";

#[test]
fn go_mod_requirements_become_golang_components_and_indirect_ones_are_not_direct() {
    let doc = parse(&export(&[File::text("go.mod", GO_MOD)], &[]));
    let purls: Vec<&str> = doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["purl"].as_str().unwrap())
        .collect();
    assert_eq!(
        purls,
        [
            "pkg:golang/github.com/burntsushi/toml@v1.4.0",
            "pkg:golang/github.com/dgrijalva/jwt-go@v3.2.0%2Bincompatible",
            "pkg:golang/github.com/go-chi/chi/v5@v5.1.0",
            "pkg:golang/github.com/google/uuid@v1.6.0",
            "pkg:golang/github.com/jackc/pgx/v5@v5.7.1",
            "pkg:golang/golang.org/x/crypto@v0.28.0",
        ]
    );
    let toml = &doc["components"][0];
    assert_eq!(toml["name"], "github.com/BurntSushi/toml");
    assert_eq!(toml["version"], "v1.4.0");
    let depends_on = doc["dependencies"][0]["dependsOn"].as_array().unwrap();
    assert_eq!(doc["dependencies"][0]["ref"], "capsule:invoices-service");
    assert_eq!(depends_on.len(), 5, "all but the indirect x/crypto");
    assert!(!depends_on.contains(&json!("pkg:golang/golang.org/x/crypto@v0.28.0")));
}

const CARGO_TOML: &str = r#"[package]
name = "invoices"
version = "0.1.0"
edition = "2021"

[dependencies]
axum = "0.7"
serde = { version = "1.0.210", features = ["derive"] }
tokio = { version = "=1.41.1", features = ["full"] }
shared = { path = "../shared" }

[dev-dependencies]
tower = { version = "0.5", features = ["util"] }
"#;

const CARGO_LOCK: &str = r#"# This file is automatically @generated by Cargo.
# It is not intended for manual editing.
version = 4

[[package]]
name = "axum"
version = "0.7.9"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "invoices"
version = "0.1.0"

[[package]]
name = "serde"
version = "1.0.215"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "tokio"
version = "1.41.1"
source = "registry+https://github.com/rust-lang/crates.io-index"
"#;

#[test]
fn cargo_toml_and_its_lock_become_cargo_components() {
    let got = components(
        &[
            File::text("Cargo.toml", CARGO_TOML),
            File::text("Cargo.lock", CARGO_LOCK),
        ],
        &[],
    );
    assert_eq!(
        got,
        [
            json!({ "name": "axum", "version": "0.7.9", "scope": "required",
                    "purl": "pkg:cargo/axum@0.7.9",
                    "properties": props(&[("qlp:declared-range", "0.7"), ("qlp:lock", "Cargo.lock"), ("qlp:manifest", "Cargo.toml")]) }),
            json!({ "name": "serde", "version": "1.0.215", "scope": "required",
                    "purl": "pkg:cargo/serde@1.0.215",
                    "properties": props(&[("qlp:declared-range", "1.0.210"), ("qlp:lock", "Cargo.lock"), ("qlp:manifest", "Cargo.toml")]) }),
            json!({ "name": "tokio", "version": "1.41.1", "scope": "required",
                    "purl": "pkg:cargo/tokio@1.41.1",
                    "properties": props(&[("qlp:manifest", "Cargo.toml")]) }),
            json!({ "name": "tower", "scope": "optional", "purl": "pkg:cargo/tower",
                    "properties": props(&[("qlp:declared-range", "0.5"), ("qlp:manifest", "Cargo.toml")]) }),
        ]
    );
}

const POM: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>com.example</groupId>
  <artifactId>invoices</artifactId>
  <version>0.1.0</version>
  <properties>
    <jackson.version>2.18.1</jackson.version>
  </properties>
  <dependencies>
    <dependency>
      <groupId>com.fasterxml.jackson.core</groupId>
      <artifactId>jackson-databind</artifactId>
      <version>${jackson.version}</version>
    </dependency>
    <dependency>
      <groupId>org.postgresql</groupId>
      <artifactId>postgresql</artifactId>
      <version>[42.7,43)</version>
    </dependency>
    <dependency>
      <groupId>org.springframework.boot</groupId>
      <artifactId>spring-boot-starter-web</artifactId>
    </dependency>
    <dependency>
      <groupId>org.junit.jupiter</groupId>
      <artifactId>junit-jupiter</artifactId>
      <version>5.11.3</version>
      <scope>test</scope>
    </dependency>
  </dependencies>
</project>
"#;

#[test]
fn pom_xml_becomes_maven_components_with_their_group() {
    let got = components(&[File::text("api/pom.xml", POM)], &[]);
    assert_eq!(
        got,
        [
            json!({ "group": "com.fasterxml.jackson.core", "name": "jackson-databind",
                    "version": "2.18.1", "scope": "required",
                    "purl": "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.18.1",
                    "properties": props(&[("qlp:manifest", "api/pom.xml")]) }),
            json!({ "group": "org.junit.jupiter", "name": "junit-jupiter",
                    "version": "5.11.3", "scope": "optional",
                    "purl": "pkg:maven/org.junit.jupiter/junit-jupiter@5.11.3",
                    "properties": props(&[("qlp:manifest", "api/pom.xml")]) }),
            json!({ "group": "org.postgresql", "name": "postgresql", "scope": "required",
                    "purl": "pkg:maven/org.postgresql/postgresql",
                    "properties": props(&[("qlp:declared-range", "[42.7,43)"), ("qlp:manifest", "api/pom.xml")]) }),
        ]
    );
}

// --- the document

/// A capsule with a manifest of every ecosystem, and some other files.
fn capsule() -> Vec<File> {
    vec![
        File::text("README.md", "# Invoices\n"),
        File::text("requirements.txt", REQUIREMENTS),
        File::text("requirements-dev.txt", REQUIREMENTS_DEV),
        File::text("pyproject.toml", PYPROJECT),
        File::text("web/package.json", PACKAGE_JSON),
        File::text("web/package-lock.json", PACKAGE_LOCK),
        File::text("svc/go.mod", GO_MOD),
        File::text("core/Cargo.toml", CARGO_TOML),
        File::text("Cargo.lock", CARGO_LOCK),
        File::text("api/pom.xml", POM),
        File::text("web/node_modules/express/package.json", PACKAGE_JSON),
        File::text("app/main.py", "print('hello')\n"),
    ]
}

#[test]
fn the_document_names_the_capsule_the_tool_and_what_the_capsule_depends_on() {
    let bytes = export(&capsule(), &[]);
    let doc = parse(&bytes);
    assert_eq!(doc["bomFormat"], "CycloneDX");
    assert_eq!(doc["specVersion"], "1.5");
    assert_eq!(doc["version"], 1);
    assert_eq!(doc.get("timestamp"), None);
    assert_eq!(doc["metadata"].get("timestamp"), None);
    assert_eq!(
        doc["metadata"]["component"],
        json!({ "type": "application", "bom-ref": "capsule:invoices-service", "name": "invoices-service" })
    );
    assert_eq!(
        doc["metadata"]["tools"]["components"],
        json!([{ "type": "application", "name": "qlp/sbom", "version": PLUGIN_VERSION }])
    );
    let refs: Vec<&str> = doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["bom-ref"].as_str().unwrap())
        .collect();
    let mut sorted = refs.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(refs, sorted, "sorted by bom-ref, without duplicates");
    // The core crate is locked by the workspace's root Cargo.lock; the
    // copy under node_modules is an installed package's, not read.
    assert!(refs.contains(&"pkg:cargo/axum@0.7.9"), "{refs:?}");
    assert_eq!(refs.len(), 8 + 5 + 6 + 4 + 3, "{refs:?}");
    let depends_on = doc["dependencies"][0]["dependsOn"].as_array().unwrap();
    assert_eq!(depends_on.len(), refs.len() - 1, "all but the indirect one");
    let serial = doc["serialNumber"].as_str().unwrap();
    let uuid = serial.strip_prefix("urn:uuid:").expect("a UUID URN");
    let groups: Vec<usize> = uuid.split('-').map(str::len).collect();
    assert_eq!(groups, [8, 4, 4, 4, 12]);
    assert_eq!(&uuid[14..15], "5", "version 5 layout");
    assert!(
        matches!(&uuid[19..20], "8" | "9" | "a" | "b"),
        "RFC 4122 variant"
    );
    assert!(bytes.ends_with(b"}\n"));
}

#[test]
fn the_same_capsule_gives_the_same_bytes_in_any_file_order() {
    let files = capsule();
    let first = export(&files, &[]);
    assert_eq!(export(&files, &[]), first, "twice");
    let mut reversed = files.clone();
    reversed.reverse();
    assert_eq!(export(&reversed, &[]), first, "reversed");
    let mut rotated = files.clone();
    rotated.rotate_left(5);
    assert_eq!(export(&rotated, &[]), first, "rotated");
    assert_eq!(
        export(
            &files,
            &[("format", "cyclonedx-json"), ("qlp.delivery-key", "x")]
        ),
        first,
        "the default format, host options ignored"
    );
    // Different content, different serial number.
    let fewer = export(&files[..4], &[]);
    assert_ne!(parse(&fewer)["serialNumber"], parse(&first)["serialNumber"]);
}

#[test]
fn a_capsule_without_manifests_gives_an_empty_bill_of_materials() {
    let doc = parse(&export(&[File::text("index.html", "<p>hi</p>")], &[]));
    assert_eq!(doc["components"], json!([]));
    assert_eq!(doc["dependencies"][0]["dependsOn"], json!([]));
}

// --- options and artifact

#[test]
fn the_artifact_is_named_after_the_base_name() {
    let mut opts = options(&[]);
    opts.base_name = "Invoices Service!".into();
    let artifact = export_files(&capsule(), &opts).unwrap();
    assert_eq!(artifact.file_name, "Invoices-Service.cdx.json");
    assert_eq!(artifact.media_type, "application/vnd.cyclonedx+json");
    let doc = parse(&artifact.bytes);
    assert_eq!(doc["metadata"]["component"]["name"], "Invoices-Service");
}

#[test]
fn bad_options_are_refused() {
    for pairs in [
        [("format", "spdx-json")],
        [("format", "")],
        [("include-dev", "yes")],
        [("include-dev", "")],
    ] {
        let err = export_files(&capsule(), &options(&pairs)).unwrap_err();
        assert_eq!(err.code, "INVALID_OPTION", "{pairs:?}");
        assert!(err.message.contains(pairs[0].0), "{}", err.message);
    }
    assert_eq!(
        settings(&[("include-dev".into(), "false".into())]).unwrap(),
        Settings { include_dev: false }
    );
}

#[test]
fn describe_names_the_exporter() {
    let info = Sbom::describe();
    assert_eq!(info.name, "qlp/sbom");
    assert_eq!(info.kind, PluginKind::Exporter);
    assert!(info.capabilities.is_empty());
}

#[test]
fn purls_encode_what_is_not_unreserved() {
    use qlp_manifests::Ecosystem;
    assert_eq!(
        purl::identity(Ecosystem::PyPi, "Django_Rest.framework", Some("3.15.2")).purl,
        "pkg:pypi/django-rest.framework@3.15.2"
    );
    assert_eq!(
        purl::identity(Ecosystem::Npm, "@Babel/Core", None).purl,
        "pkg:npm/%40babel/core"
    );
    assert_eq!(
        purl::identity(Ecosystem::Maven, "org.example:lib", Some("1.0 beta")).purl,
        "pkg:maven/org.example/lib@1.0%20beta"
    );
    assert_eq!(
        purl::identity(Ecosystem::Crates, "serde_json", Some("1.0.132")).purl,
        "pkg:cargo/serde_json@1.0.132"
    );
}

#[test]
fn the_serial_number_is_a_version_5_layout_of_the_content_hash() {
    let a = bom::serial_number(b"one");
    assert_eq!(a, bom::serial_number(b"one"));
    assert_ne!(a, bom::serial_number(b"two"));
    let hex = blake3::hash(b"one").to_hex();
    // The first 12 hex digits are the hash's own.
    assert_eq!(&a[9..17], &hex[..8]);
    assert_eq!(a.len(), "urn:uuid:".len() + 36);
}
