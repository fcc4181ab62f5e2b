//! Tests of `qlp/dependencies`: clean manifests of every stack stay silent,
//! planted unpinned, vulnerable and badly licensed dependencies are
//! reported at their manifest line, and the shipped database is
//! consistent. How versions order and requirements become intervals is
//! tested with the reader, in `sdk/manifests`.

use super::*;
use crate::version::requirement;

type Row = (String, String, u32, Severity);

/// Rule id, path, line and severity of each finding.
fn rows(report: &Report) -> Vec<Row> {
    report
        .findings
        .iter()
        .map(|f| {
            (
                f.rule_id.clone(),
                f.path().map(str::to_owned).unwrap_or_default(),
                f.line().unwrap_or(0),
                f.severity,
            )
        })
        .collect()
}

fn row(rule: &str, path: &str, line: u32, severity: Severity) -> Row {
    (rule.to_string(), path.to_string(), line, severity)
}

fn run(files: Vec<File>) -> Report {
    check(&files, &Database::shipped(), &Settings::default())
}

// --- clean manifests

const CLEAN_REQUIREMENTS: &str = "\
# Runtime
fastapi==0.115.0
pydantic>=2.6,<3
uvicorn[standard]~=0.30.1 ; python_version >= \"3.10\"
-r dev-requirements.txt
git+https://example.invalid/lib.git#egg=lib
PyYAML==6.0.1
";

const CLEAN_PYPROJECT: &str = r#"[project]
name = "invoices"
dependencies = [
    "fastapi==0.115.0",  # the API
    "Django>=4.2.3,<5",
]

[project.optional-dependencies]
test = ["pytest==8.3.2"]

[tool.poetry.dependencies]
python = "^3.11"
requests = "^2.31"
"#;

const CLEAN_PACKAGE_JSON: &str = r#"{
  "name": "invoices",
  "version": "1.0.0",
  "scripts": { "test": "node --test" },
  "dependencies": {
    "express": "^4.21.2",
    "lodash": "4.17.21",
    "local-lib": "file:../lib",
    "@types/node": "~20.11.0"
  },
  "devDependencies": {
    "typescript": "5.4.5"
  }
}
"#;

const CLEAN_GO_MOD: &str = "module example.com/invoices

go 1.22

require (
\tgithub.com/gin-gonic/gin v1.10.0
\tgolang.org/x/net v0.33.0 // indirect
)

require golang.org/x/text v0.21.0
";

const CLEAN_CARGO: &str = r#"[package]
name = "invoices"
version = "0.1.0"

[dependencies]
serde = { version = "1", features = ["derive"] }
regex = "1.10"
shared = { path = "../shared" }
tokio.workspace = true

[dev-dependencies.smallvec]
version = "1.13"
"#;

const CLEAN_POM: &str = r#"<project>
  <properties>
    <log4j.version>2.17.1</log4j.version>
  </properties>
  <dependencies>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-core</artifactId>
      <version>${log4j.version}</version>
    </dependency>
    <dependency>
      <groupId>org.springframework.boot</groupId>
      <artifactId>spring-boot-starter-web</artifactId>
    </dependency>
  </dependencies>
</project>
"#;

#[test]
fn clean_manifests_of_every_stack_have_no_findings() {
    let report = run(vec![
        File::text("requirements.txt", CLEAN_REQUIREMENTS),
        File::text("pyproject.toml", CLEAN_PYPROJECT),
        File::text("web/package.json", CLEAN_PACKAGE_JSON),
        File::text("svc/go.mod", CLEAN_GO_MOD),
        File::text("core/Cargo.toml", CLEAN_CARGO),
        File::text("api/pom.xml", CLEAN_POM),
        File::text("README.md", "requests==2.0.0\n"),
    ]);
    assert_eq!(rows(&report), [], "{:#?}", report.findings);
    assert_eq!(report.score, 100);
    assert_eq!(
        report.summary,
        "21 dependencies in 6 manifests: no findings"
    );
}

#[test]
fn manifests_are_read_with_names_specs_and_lines() {
    let deps = manifest::read("requirements.txt", CLEAN_REQUIREMENTS).unwrap();
    let got: Vec<(&str, Option<&str>, u32)> = deps
        .iter()
        .map(|d| (d.name.as_str(), d.spec.as_deref(), d.line))
        .collect();
    assert_eq!(
        got,
        [
            ("fastapi", Some("==0.115.0"), 2),
            ("pydantic", Some(">=2.6,<3"), 3),
            ("uvicorn", Some("~=0.30.1"), 4),
            ("PyYAML", Some("==6.0.1"), 7),
        ]
    );
    let cargo = manifest::read("Cargo.toml", CLEAN_CARGO).unwrap();
    let got: Vec<(&str, Option<&str>, bool, u32)> = cargo
        .iter()
        .map(|d| (d.name.as_str(), d.spec.as_deref(), d.registry, d.line))
        .collect();
    assert_eq!(
        got,
        [
            ("serde", Some("1"), true, 6),
            ("regex", Some("1.10"), true, 7),
            ("shared", None, false, 8),
            ("smallvec", Some("1.13"), true, 12),
        ]
    );
    let npm = manifest::read("package.json", CLEAN_PACKAGE_JSON).unwrap();
    let lines: Vec<(&str, u32, bool)> = npm
        .iter()
        .map(|d| (d.name.as_str(), d.line, d.registry))
        .collect();
    assert_eq!(
        lines,
        [
            ("express", 6, true),
            ("lodash", 7, true),
            ("local-lib", 8, false),
            ("@types/node", 9, true),
            ("typescript", 12, true),
        ]
    );
    let pom = manifest::read("pom.xml", CLEAN_POM).unwrap();
    assert_eq!(pom.len(), 1);
    assert_eq!(
        (pom[0].name.as_str(), pom[0].spec.as_deref(), pom[0].line),
        ("org.apache.logging.log4j:log4j-core", Some("2.17.1"), 8)
    );
    assert!(manifest::read("src/main.py", "").is_none());
}

// --- dependencies/vulnerable

#[test]
fn vulnerable_python_requirements_are_reported_with_the_advisory_and_fix() {
    let text = "PyYAML==5.3\nDjango>=3.2,<3.3\nfastapi==0.109.0\n";
    let report = run(vec![File::text("requirements.txt", text)]);
    assert_eq!(
        rows(&report),
        [
            row(VULNERABLE, "requirements.txt", 1, Severity::Critical),
            row(VULNERABLE, "requirements.txt", 1, Severity::Critical),
            row(VULNERABLE, "requirements.txt", 2, Severity::High),
            row(VULNERABLE, "requirements.txt", 2, Severity::High),
            row(VULNERABLE, "requirements.txt", 2, Severity::Medium),
            row(VULNERABLE, "requirements.txt", 3, Severity::High),
        ]
    );
    let m = &report.findings[0].message;
    assert!(
        m.starts_with(
            "`PyYAML` pins 5.3, affected by CVE-2020-14343 (PyPI): arbitrary code execution"
        ),
        "{m}"
    );
    assert!(m.ends_with("require `5.4` or later"), "{m}");
    let m = &report.findings[2].message;
    assert!(
        m.contains(
            "`Django` `>=3.2,<3.3` allows versions affected by CVE-2022-34265 (PyPI), from 3.2: "
        ),
        "{m}"
    );
    assert!(
        m.ends_with("; raise the lower bound: require `3.2.14` or later"),
        "{m}"
    );
}

#[test]
fn vulnerable_npm_go_cargo_and_maven_dependencies_are_reported() {
    let package_json = r#"{
  "dependencies": {
    "lodash": "4.17.20",
    "jsonwebtoken": "^8.5.1"
  }
}"#;
    let go_mod = "module m\n\nrequire (\n\tgolang.org/x/net v0.16.0\n\tgithub.com/dgrijalva/jwt-go v3.2.0+incompatible\n)\n";
    let cargo =
        "[dependencies]\nsmallvec = \"=1.6.0\"\n\n[dependencies.hyper]\nversion = \"0.14.9\"\n";
    let pom = "<project><dependencies>\n<dependency>\n<groupId>org.apache.logging.log4j</groupId>\n<artifactId>log4j-core</artifactId>\n<version>2.14.1</version>\n</dependency>\n</dependencies></project>\n";
    let report = run(vec![
        File::text("package.json", package_json),
        File::text("go.mod", go_mod),
        File::text("Cargo.toml", cargo),
        File::text("pom.xml", pom),
    ]);
    let got: Vec<(String, u32, Severity, bool)> = report
        .findings
        .iter()
        .map(|f| {
            (
                f.path().map(str::to_owned).unwrap_or_default(),
                f.line().unwrap_or(0),
                f.severity,
                f.rule_id == VULNERABLE,
            )
        })
        .collect();
    let expect = |p: &str, l: u32, s: Severity| (p.to_string(), l, s, true);
    assert_eq!(
        got,
        [
            expect("package.json", 3, Severity::High),
            expect("package.json", 4, Severity::High),
            expect("go.mod", 4, Severity::High),
            expect("go.mod", 5, Severity::High),
            expect("Cargo.toml", 2, Severity::Critical),
            expect("Cargo.toml", 5, Severity::High),
            expect("pom.xml", 4, Severity::Critical),
        ]
    );
    let by_line = |path: &str, line: u32| {
        report
            .findings
            .iter()
            .find(|f| f.path() == Some(path) && f.line() == Some(line))
            .map(|f| f.message.clone())
            .unwrap_or_default()
    };
    assert!(by_line("package.json", 3).contains("CVE-2021-23337"));
    assert!(
        by_line("package.json", 4)
            .contains("`^8.5.1` allows only versions affected by CVE-2022-23540 (npm)"),
        "{}",
        by_line("package.json", 4)
    );
    assert!(by_line("go.mod", 5).ends_with("move to github.com/golang-jwt/jwt/v5"));
    assert!(by_line("pom.xml", 4).contains("Log4Shell"));
}

// --- dependencies/unpinned

#[test]
fn unpinned_and_open_ended_requirements_are_reported_per_ecosystem() {
    let requirements = "requests\nflask>=2.0\nclick<9\n";
    let package_json = "{\n  \"dependencies\": {\n    \"left-pad\": \"*\",\n    \"debug\": \"latest\",\n    \"ms\": \">=2.0.0\"\n  }\n}\n";
    let cargo = "[dependencies]\nanyhow = \"*\"\nlog = \">=0.4\"\n";
    let pom = "<project><dependencies><dependency>\n<groupId>g</groupId>\n<artifactId>a</artifactId>\n<version>LATEST</version>\n</dependency></dependencies></project>\n";
    let report = run(vec![
        File::text("requirements-dev.txt", requirements),
        File::text("package.json", package_json),
        File::text("Cargo.toml", cargo),
        File::text("pom.xml", pom),
    ]);
    assert_eq!(
        rows(&report),
        [
            row(UNPINNED, "requirements-dev.txt", 1, Severity::Medium),
            row(UNPINNED, "requirements-dev.txt", 2, Severity::Low),
            row(UNPINNED, "package.json", 3, Severity::Medium),
            row(UNPINNED, "package.json", 4, Severity::Medium),
            row(UNPINNED, "package.json", 5, Severity::Low),
            row(UNPINNED, "Cargo.toml", 2, Severity::Medium),
            row(UNPINNED, "Cargo.toml", 3, Severity::Low),
            row(UNPINNED, "pom.xml", 3, Severity::Medium),
        ]
    );
    assert!(
        report.findings[0]
            .message
            .starts_with("`requests` has no version")
    );
    assert!(
        report.findings[1]
            .message
            .contains("`>=2.0` has no upper bound")
    );
}

// --- dependencies/license

#[test]
fn licences_outside_the_allow_list_are_reported_and_the_list_is_configurable() {
    let text = "mysql-connector-python==8.4.0\nfastapi==0.115.0\n";
    let files = vec![File::text("requirements.txt", text)];
    let report = run(files.clone());
    assert_eq!(
        rows(&report),
        [row(LICENSE, "requirements.txt", 1, Severity::Medium)]
    );
    assert!(
        report.findings[0]
            .message
            .contains("licensed `GPL-2.0-only`")
    );
    let settings =
        Settings::from_config(|key| (key == KEY_LICENSE_ALLOW).then(|| "MIT, GPL-2.0-only".into()));
    assert_eq!(settings.license_allow, ["MIT", "GPL-2.0-only"]);
    assert_eq!(rows(&check(&files, &Database::shipped(), &settings)), []);
    assert!(license_allowed("MIT OR Apache-2.0", &["Apache-2.0".into()]));
    assert!(!license_allowed("MIT AND GPL-3.0-only", &["MIT".into()]));
}

// --- suppressions

#[test]
fn suppressions_by_comment_and_by_ignored_advisory_are_counted() {
    let text = "# qlp-ignore: dependencies/vulnerable only yaml.safe_load is used\nPyYAML==5.3\nrequests  # qlp-ignore: unpinned constrained by the platform image\n";
    let package_json = "{\"dependencies\": {\"lodash\": \"4.17.20\"}}";
    let settings = Settings::from_config(|key| {
        (key == KEY_IGNORE_ADVISORIES).then(|| "CVE-2021-23337".into())
    });
    let report = check(
        &[
            File::text("requirements.txt", text),
            File::text("package.json", package_json),
        ],
        &Database::shipped(),
        &settings,
    );
    assert_eq!(rows(&report), []);
    assert_eq!(
        report.summary,
        "3 dependencies in 2 manifests: no findings; 4 suppressed (dependencies/unpinned 1, dependencies/vulnerable 3)"
    );
}

// --- the database

#[test]
fn the_shipped_database_parses_and_is_consistent() {
    let db = Database::parse(advisories::DATABASE).expect("the shipped database parses");
    let advisories: Vec<&advisories::Advisory> = db.advisories.values().flatten().collect();
    assert!(advisories.len() >= 35, "{}", advisories.len());
    for a in &advisories {
        assert!(
            a.id.starts_with("CVE-") || a.id.starts_with("RUSTSEC-"),
            "{}",
            a.id
        );
        assert!(!a.summary.is_empty(), "{}", a.id);
        assert!(
            a.fixed.len() == a.affected.len() || (a.fixed.is_empty() && a.advice.is_some()),
            "{} {}",
            a.id,
            a.package
        );
        for f in &a.fixed {
            assert!(
                !a.affects(f),
                "{} {}: fixed {} is inside an affected range",
                a.id,
                a.package,
                f.text
            );
        }
    }
    for eco in [
        Ecosystem::Npm,
        Ecosystem::Crates,
        Ecosystem::PyPi,
        Ecosystem::Go,
        Ecosystem::Maven,
    ] {
        assert!(
            advisories.iter().any(|a| a.ecosystem == eco),
            "{eco:?} has advisories"
        );
    }
    assert_eq!(db.license(Ecosystem::PyPi, "pyyaml"), Some("MIT"));
}

#[test]
fn a_broken_database_entry_is_named() {
    let broken = "[[advisory]]\nid = \"CVE-1\"\npackage = \"x\"\necosystem = \"npm\"\naffected = [\"<1.x.y\"]\nfixed = []\nseverity = \"high\"\nsummary = \"s\"\n";
    let err = Database::parse(broken).unwrap_err();
    assert!(
        err.contains("CVE-1 (x): affected range `<1.x.y` does not parse"),
        "{err}"
    );
    let unknown = "[[package]]\necosystem = \"cpan\"\nname = \"x\"\nlicense = \"MIT\"\n";
    assert!(
        Database::parse(unknown)
            .unwrap_err()
            .contains("unknown ecosystem `cpan`")
    );
}

#[test]
fn score_and_summary() {
    let report = run(vec![File::text(
        "requirements.txt",
        "PyYAML==5.3\nflask>=2\n",
    )]);
    assert_eq!(report.score, 100 - 40 - 40 - 2);
    assert_eq!(
        report.summary,
        "2 dependencies in 1 manifest: 3 findings: 2 critical, 1 low"
    );
    assert_eq!(run(vec![]).summary, "no dependency manifest found");
}

#[test]
fn every_rule_id_is_documented() {
    let docs = include_str!("lib.rs");
    for id in RULE_IDS {
        assert!(docs.contains(&format!("| `{id}` |")), "{id}");
    }
}

#[test]
fn describe_names_the_plugin() {
    let info = Dependencies::describe();
    assert_eq!(info.name, "qlp/dependencies");
    assert!(matches!(info.kind, PluginKind::Validator));
}

#[test]
fn a_large_capsule_is_checked_quickly() {
    let requirements: String = (0..2_000)
        .map(|i| format!("package-{i}=={i}.0.{i}\n"))
        .collect();
    let package: String = format!(
        "{{\"dependencies\": {{{}}}}}",
        (0..1_000)
            .map(|i| format!("\"pkg-{i}\": \"^{i}.1.0\""))
            .collect::<Vec<_>>()
            .join(",\n")
    );
    let mut files = vec![
        File::text("requirements.txt", requirements),
        File::text("package.json", package),
    ];
    files.extend((0..40).map(|i| File::text(format!("src/m{i}.py"), "x = 1\n".repeat(50))));
    let start = std::time::Instant::now();
    let report = run(files);
    println!(
        "qlp/dependencies checked 3,000 dependencies (5,000 lines with sources) in {:.2} ms (native, this build profile)",
        start.elapsed().as_secs_f64() * 1e3
    );
    assert_eq!(report.findings.len(), 0, "{}", report.summary);
}

/// Every prefix of `text` (at char boundaries, every `step` bytes), and
/// `text` with one troublesome character inserted at each of those points:
/// the truncated and half-edited files a validator must survive, since a
/// panic inside the component is a trap that fails the stage.
fn mangled(text: &str, step: usize) -> Vec<String> {
    const INSERTS: [&str; 13] = [
        "\"", "'", "`", "(", ")", "[", "{", "}", "\\", "/*", "#", "é\n", "- ",
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
fn truncated_and_mangled_manifests_never_panic() {
    let samples = [
        ("requirements.txt", CLEAN_REQUIREMENTS),
        ("pyproject.toml", CLEAN_PYPROJECT),
        ("package.json", CLEAN_PACKAGE_JSON),
        ("go.mod", CLEAN_GO_MOD),
        ("Cargo.toml", CLEAN_CARGO),
        ("pom.xml", CLEAN_POM),
        ("package-lock.json", PACKAGE_LOCK),
        ("yarn.lock", "\"@a/b@^1\", c@2:\n  version \"1.0.0\"\n"),
        ("advisories.toml", &advisories::DATABASE[..2_000]),
    ];
    let db = Database::shipped();
    let settings = Settings::default();
    let mut checked = 0;
    for (path, sample) in samples {
        for text in mangled(sample, 2) {
            let _ = check(&[File::text(path, text.clone())], &db, &settings);
            let _ = Database::parse(&text);
            checked += 1;
        }
    }
    for spec in [
        "[",
        "[é",
        "(,",
        "^",
        "~",
        "1 - ",
        ">=",
        "==.*",
        "~=1",
        "^18446744073709551615",
        "1.2.3 - 18446744073709551615.x",
    ] {
        for eco in [
            Ecosystem::Npm,
            Ecosystem::Crates,
            Ecosystem::PyPi,
            Ecosystem::Go,
            Ecosystem::Maven,
        ] {
            let _ = requirement(eco, spec);
        }
    }
    assert!(checked > 1_000, "{checked}");
}

// --- lock files

const PACKAGE_LOCK: &str = r#"{
  "name": "web",
  "lockfileVersion": 3,
  "packages": {
    "": {
      "dependencies": { "express": "^4.21.2" }
    },
    "node_modules/express": {
      "version": "4.21.2",
      "dependencies": { "qs": "6.13.0" }
    },
    "node_modules/qs": {
      "version": "6.13.0"
    },
    "node_modules/express/node_modules/qs": {
      "version": "6.9.6"
    }
  }
}
"#;

#[test]
fn lock_files_pin_the_versions_the_advisories_are_checked_against() {
    let package_json = "{\n  \"dependencies\": {\n    \"express\": \"^4.17.1\"\n  }\n}\n";
    let yarn = "# yarn lockfile v1\n\n\"@scope/pkg@^1.0.0\":\n  version \"1.0.3\"\n\nlodash@^4.17.0, lodash@^4.17.20:\n  version \"4.17.20\"\n  resolved \"https://registry.yarnpkg.com/lodash/-/lodash-4.17.20.tgz\"\n";
    let cargo_lock = "version = 3\n\n[[package]]\nname = \"smallvec\"\nversion = \"1.6.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n";
    let report = run(vec![
        File::text("web/package.json", package_json),
        File::text("web/package-lock.json", PACKAGE_LOCK),
        File::text("ui/yarn.lock", yarn),
        File::text("core/Cargo.lock", cargo_lock),
    ]);
    // express ^4.17.1 allows affected versions, but the lock installed
    // 4.21.2: only the nested qs 6.9.6 the lock shows is reported.
    assert_eq!(
        rows(&report),
        [
            row(VULNERABLE, "web/package-lock.json", 15, Severity::High),
            row(VULNERABLE, "ui/yarn.lock", 6, Severity::High),
            row(VULNERABLE, "core/Cargo.lock", 4, Severity::Critical),
        ]
    );
    assert!(
        report.findings[0]
            .message
            .starts_with("`qs` is locked at 6.9.6, affected by CVE-2022-24999 (npm)"),
        "{}",
        report.findings[0].message
    );
    let v2 = PACKAGE_LOCK.replace(
        "  \"packages\": {",
        "  \"dependencies\": { \"qs\": { \"version\": \"6.9.6\" } },\n  \"packages\": {",
    );
    let from_v2 = manifest::read("package-lock.json", &v2).unwrap();
    assert_eq!(
        from_v2.len(),
        3,
        "a version 2 lock is read once, from `packages`"
    );
    let yarn_deps = manifest::read("yarn.lock", yarn).unwrap();
    let names: Vec<(&str, Option<&str>)> = yarn_deps
        .iter()
        .map(|d| (d.name.as_str(), d.spec.as_deref()))
        .collect();
    assert_eq!(
        names,
        [("@scope/pkg", Some("1.0.3")), ("lodash", Some("4.17.20"))]
    );
}
