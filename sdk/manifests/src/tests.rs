//! Tests of the manifest reader: how versions order and requirements
//! become intervals per ecosystem (moved here with the reader from
//! `plugins/dependencies`), what each declaration is for ([`Kind`]), and
//! how lock files resolve requirements to installed versions.

use crate::manifest::{self, Kind, lock};
use crate::version::{Ecosystem, Version, requirement};

// --- versions

fn v(eco: Ecosystem, s: &str) -> Version {
    Version::parse(eco, s).unwrap_or_else(|| panic!("{s} parses"))
}

#[test]
fn versions_order_per_ecosystem() {
    use Ecosystem::*;
    let ordered = |eco: Ecosystem, list: &[&str]| {
        for pair in list.windows(2) {
            assert!(
                v(eco, pair[0]) < v(eco, pair[1]),
                "{eco:?}: {} < {}",
                pair[0],
                pair[1]
            );
        }
    };
    ordered(
        Npm,
        &[
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.1",
            "1.10.0",
        ],
    );
    ordered(
        PyPi,
        &[
            "1.0.dev1",
            "1.0a1",
            "1.0b2",
            "1.0rc1",
            "1.0",
            "1.0.post1",
            "1.0.1",
            "2",
        ],
    );
    ordered(
        Go,
        &[
            "v0.0.0-20210226172049-e18ecbb05110",
            "v0.0.1",
            "v0.17.0",
            "v2.0.0+incompatible",
        ],
    );
    ordered(
        Maven,
        &[
            "2.0-beta9",
            "2.0-rc1",
            "2.0",
            "2.0.1",
            "2.12.6",
            "2.12.6.1",
            "2.13.0",
        ],
    );
    assert_eq!(v(PyPi, "1.0"), v(PyPi, "1.0.0"));
    assert!(Version::parse(Npm, "latest").is_none());
}

#[test]
fn requirements_become_intervals() {
    use Ecosystem::*;
    let allows = |eco: Ecosystem, spec: &str, yes: &[&str], no: &[&str]| {
        let i = requirement(eco, spec).unwrap_or_else(|| panic!("{spec} parses"));
        for s in yes {
            assert!(i.contains(&v(eco, s)), "{spec} allows {s}");
        }
        for s in no {
            assert!(!i.contains(&v(eco, s)), "{spec} refuses {s}");
        }
    };
    allows(
        Npm,
        "^1.2.3",
        &["1.2.3", "1.9.9"],
        &["1.2.2", "2.0.0", "2.0.0-rc.1"],
    );
    allows(Npm, "^0.2.3", &["0.2.9"], &["0.3.0"]);
    allows(Npm, "~1.2", &["1.2.0", "1.2.9"], &["1.3.0"]);
    allows(Npm, "1.x", &["1.0.0", "1.99.0"], &["2.0.0"]);
    allows(Npm, ">=1.2.3 <2", &["1.5.0"], &["2.0.0", "1.2.2"]);
    allows(Npm, "1.2.3 - 2.3", &["2.3.9"], &["2.4.0"]);
    allows(Npm, "^1.0.0 || ^3.0.0", &["1.5.0", "3.1.0"], &["4.0.0"]);
    allows(Crates, "1.5", &["1.5.0", "1.9.0"], &["2.0.0", "1.4.9"]);
    allows(Crates, "=1.6.0", &["1.6.0"], &["1.6.1"]);
    allows(Crates, ">=0.4, <0.5", &["0.4.9"], &["0.5.0"]);
    allows(PyPi, "~=1.4.2", &["1.4.9"], &["1.5"]);
    allows(PyPi, "~=1.4", &["1.9"], &["2.0"]);
    allows(PyPi, "==1.2.*", &["1.2.0", "1.2.7"], &["1.3"]);
    allows(PyPi, ">=2.6,<3,!=2.7.0", &["2.6", "2.9.1"], &["3.0"]);
    allows(Maven, "[1.0,2.0)", &["1.0", "1.9.9"], &["2.0"]);
    allows(Maven, "(,1.0]", &["0.9", "1.0"], &["1.0.1"]);
    allows(Maven, "2.14.1", &["2.14.1"], &["2.14.2"]);
    assert_eq!(requirement(Npm, "latest"), None);
}

// --- kinds

/// Name, spec and kind of every declaration of a manifest.
fn kinds(path: &str, text: &str) -> Vec<(String, Option<String>, Kind)> {
    manifest::read(path, text)
        .unwrap_or_else(|| panic!("{path} is a manifest"))
        .into_iter()
        .map(|d| (d.name, d.spec, d.kind))
        .collect()
}

fn k(name: &str, spec: Option<&str>, kind: Kind) -> (String, Option<String>, Kind) {
    (name.to_string(), spec.map(str::to_string), kind)
}

#[test]
fn python_declarations_are_runtime_optional_or_development() {
    assert_eq!(
        kinds("requirements-dev.txt", "pytest==8.3.2\nruff\n"),
        [
            k("pytest", Some("==8.3.2"), Kind::Dev),
            k("ruff", None, Kind::Dev)
        ]
    );
    assert_eq!(
        kinds("app/requirements.txt", "fastapi==0.115.0\n"),
        [k("fastapi", Some("==0.115.0"), Kind::Normal)]
    );
    let pyproject = r#"[project]
name = "invoices"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = [
    "fastapi>=0.115,<0.116",
    "SQLAlchemy[asyncio]==2.0.36",
]

[project.optional-dependencies]
postgres = ["psycopg[binary]~=3.2"]
test = ["pytest==8.3.2", "httpx==0.27.2"]

[build-system]
requires = ["hatchling"]
"#;
    assert_eq!(
        kinds("pyproject.toml", pyproject),
        [
            k("fastapi", Some(">=0.115,<0.116"), Kind::Normal),
            k("SQLAlchemy", Some("==2.0.36"), Kind::Normal),
            k("psycopg", Some("~=3.2"), Kind::Optional),
            k("pytest", Some("==8.3.2"), Kind::Dev),
            k("httpx", Some("==0.27.2"), Kind::Dev),
        ]
    );
    let poetry = r#"[tool.poetry.dependencies]
python = "^3.11"
requests = "^2.31"

[tool.poetry.group.docs.dependencies]
mkdocs = "1.6.1"
"#;
    assert_eq!(
        kinds("pyproject.toml", poetry),
        [
            k("requests", Some("^2.31"), Kind::Normal),
            k("mkdocs", Some("1.6.1"), Kind::Dev),
        ]
    );
}

#[test]
fn node_go_rust_and_java_declarations_have_their_kind() {
    let package_json = r#"{
  "name": "web",
  "dependencies": { "express": "^4.21.2", "@fastify/cors": "10.0.1" },
  "devDependencies": { "typescript": "5.6.3" },
  "optionalDependencies": { "fsevents": "~2.3.3" },
  "peerDependencies": { "react": ">=18" }
}"#;
    assert_eq!(
        kinds("package.json", package_json),
        [
            k("express", Some("^4.21.2"), Kind::Normal),
            k("@fastify/cors", Some("10.0.1"), Kind::Normal),
            k("typescript", Some("5.6.3"), Kind::Dev),
            k("fsevents", Some("~2.3.3"), Kind::Optional),
        ]
    );
    let go_mod = "module example.com/invoices\n\ngo 1.22\n\nrequire (\n\tgithub.com/go-chi/chi/v5 v5.1.0\n\tgolang.org/x/sys v0.26.0 // indirect\n)\n";
    assert_eq!(
        kinds("go.mod", go_mod),
        [
            k("github.com/go-chi/chi/v5", Some("v5.1.0"), Kind::Normal),
            k("golang.org/x/sys", Some("v0.26.0"), Kind::Indirect),
        ]
    );
    let cargo = r#"[package]
name = "invoices"
version = "0.1.0"

[dependencies]
axum = "0.7"
serde = { version = "1.0.210", features = ["derive"] }

[dev-dependencies]
tower = { version = "0.5", features = ["util"] }

[build-dependencies.cc]
version = "1.1"

[target.'cfg(unix)'.dependencies]
libc = "0.2"
"#;
    assert_eq!(
        kinds("Cargo.toml", cargo),
        [
            k("axum", Some("0.7"), Kind::Normal),
            k("serde", Some("1.0.210"), Kind::Normal),
            k("tower", Some("0.5"), Kind::Dev),
            k("cc", Some("1.1"), Kind::Build),
            k("libc", Some("0.2"), Kind::Normal),
        ]
    );
    let pom = r#"<project>
  <dependencies>
    <dependency>
      <groupId>org.springframework.boot</groupId>
      <artifactId>spring-boot-starter-web</artifactId>
      <version>3.3.5</version>
    </dependency>
    <dependency>
      <groupId>org.junit.jupiter</groupId>
      <artifactId>junit-jupiter</artifactId>
      <version>5.11.3</version>
      <scope>test</scope>
    </dependency>
    <dependency>
      <groupId>com.h2database</groupId>
      <artifactId>h2</artifactId>
      <version>2.3.232</version>
      <optional>true</optional>
    </dependency>
  </dependencies>
</project>"#;
    assert_eq!(
        kinds("pom.xml", pom),
        [
            k(
                "org.springframework.boot:spring-boot-starter-web",
                Some("3.3.5"),
                Kind::Normal
            ),
            k("org.junit.jupiter:junit-jupiter", Some("5.11.3"), Kind::Dev),
            k("com.h2database:h2", Some("2.3.232"), Kind::Optional),
        ]
    );
}

// --- lock files

/// The first dependency a manifest declares.
fn declared(path: &str, text: &str) -> manifest::Dependency {
    manifest::read(path, text).unwrap().remove(0)
}

#[test]
fn a_package_lock_resolves_direct_dependencies_to_their_top_level_copy() {
    let lock_text = r#"{
  "name": "web",
  "lockfileVersion": 3,
  "packages": {
    "": { "dependencies": { "express": "^4.21.2", "@types/node": "~20.11.0" } },
    "node_modules/express": { "version": "4.21.2" },
    "node_modules/express/node_modules/qs": { "version": "6.9.6" },
    "node_modules/qs": { "version": "6.13.0" },
    "node_modules/@types/node": { "version": "20.11.30" }
  }
}"#;
    let npm = lock("web/package-lock.json", lock_text).unwrap();
    assert_eq!(npm.ecosystem, Ecosystem::Npm);
    assert_eq!(npm.versions["qs"], ["6.13.0"], "nested copies are not read");
    let express = declared(
        "package.json",
        r#"{"dependencies": {"express": "^4.21.2"}}"#,
    );
    assert_eq!(npm.resolve(&express), Some("4.21.2"));
    let types = declared(
        "package.json",
        r#"{"dependencies": {"@types/node": "~20.11.0"}}"#,
    );
    assert_eq!(npm.resolve(&types), Some("20.11.30"));
    // A lock older than the manifest says nothing about the next install.
    let stale = declared("package.json", r#"{"dependencies": {"express": "^5.0.0"}}"#);
    assert_eq!(npm.resolve(&stale), None);
    let absent = declared("package.json", r#"{"dependencies": {"zod": "3.23.8"}}"#);
    assert_eq!(npm.resolve(&absent), None);
    // Another ecosystem's dependency is never resolved by it.
    let crate_dep = declared("Cargo.toml", "[dependencies]\nexpress = \"4\"\n");
    assert_eq!(npm.resolve(&crate_dep), None);
    // A version 1 lock: its top-level `dependencies` map.
    let v1 = r#"{ "lockfileVersion": 1, "dependencies": {
      "express": { "version": "4.17.1", "dependencies": { "qs": { "version": "6.7.0" } } } } }"#;
    let v1 = lock("package-lock.json", v1).unwrap();
    assert_eq!(v1.resolve(&express), None, "4.17.1 is outside ^4.21.2");
    assert_eq!(v1.versions.keys().collect::<Vec<_>>(), ["express"]);
}

#[test]
fn cargo_poetry_and_yarn_locks_pick_the_version_the_requirement_allows() {
    let cargo_lock = r#"# This file is automatically @generated by Cargo.
version = 4

[[package]]
name = "invoices"
version = "0.1.0"
dependencies = ["axum", "syn 1.0.109", "syn 2.0.87"]

[[package]]
name = "axum"
version = "0.7.9"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "edca88bc138befd0323b20752846e6587272d3b03b0343c8ea28a6f819e6e71f"

[[package]]
name = "syn"
version = "1.0.109"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "syn"
version = "2.0.87"
source = "registry+https://github.com/rust-lang/crates.io-index"
"#;
    let lock_c = lock("Cargo.lock", cargo_lock).unwrap();
    assert_eq!(lock_c.versions["syn"], ["1.0.109", "2.0.87"]);
    let resolve = |manifest: &str| lock_c.resolve(&declared("Cargo.toml", manifest));
    assert_eq!(resolve("[dependencies]\naxum = \"0.7\"\n"), Some("0.7.9"));
    assert_eq!(resolve("[dependencies]\nsyn = \"1\"\n"), Some("1.0.109"));
    assert_eq!(resolve("[dependencies]\nsyn = \"2.0\"\n"), Some("2.0.87"));
    assert_eq!(resolve("[dependencies]\nsyn = \"*\"\n"), Some("2.0.87"));
    assert_eq!(
        resolve("[dependencies]\nsyn = { path = \"../syn\" }\n"),
        None,
        "a path dependency is not a registry version"
    );

    let poetry_lock = "[[package]]\nname = \"Flask\"\nversion = \"3.0.3\"\n\n[[package]]\nname = \"requests\"\nversion = \"2.32.3\"\n";
    let lock_p = lock("poetry.lock", poetry_lock).unwrap();
    let flask = declared(
        "pyproject.toml",
        "[tool.poetry.dependencies]\nflask = \"^3.0\"\n",
    );
    assert_eq!(
        lock_p.resolve(&flask),
        Some("3.0.3"),
        "PyPI names compare normalized"
    );

    let yarn = "# yarn lockfile v1\n\n\"@scope/pkg@^1.0.0\":\n  version \"1.0.3\"\n\nlodash@^4.17.0, lodash@^4.17.20:\n  version \"4.17.21\"\n";
    let lock_y = lock("ui/yarn.lock", yarn).unwrap();
    let scoped = declared(
        "package.json",
        r#"{"dependencies": {"@scope/pkg": "^1.0.0"}}"#,
    );
    assert_eq!(lock_y.resolve(&scoped), Some("1.0.3"));
    assert!(
        lock("package.json", "{}").is_none(),
        "a manifest is not a lock"
    );
}

#[test]
fn texts_over_the_limit_or_not_utf8_are_not_read() {
    assert_eq!(
        crate::text_of(b"\xef\xbb\xbfflask==3.0.3\n"),
        Some("flask==3.0.3\n")
    );
    assert_eq!(crate::text_of(b"\xff\xfe"), None);
    let big = vec![b' '; crate::MAX_MANIFEST_BYTES + 1];
    assert_eq!(crate::text_of(&big), None);
    assert!(crate::text_of_lock(&big).is_some());
}
