//! End-to-end check of what the agent promises: the generated projects'
//! plain-Java core compiles and passes its own JUnit 5 tests, with the
//! real JDK and JUnit. Each test writes a generated project into a
//! temporary directory, then:
//!
//! - checks that the core (every source but `Application.java` and the
//!   `web` package) imports nothing from Spring or Jakarta, and that each
//!   file's package and class match its path;
//! - compiles the core with `javac -Xlint:all -Werror`, compiles its tests
//!   against JUnit 5 and runs them with JUnit's console launcher;
//! - compiles the Spring files, main and test, against the declarations of
//!   the Spring API in `tests/data/spring-api-stand-in/` (Maven Central, and so
//!   Spring itself, cannot be reached here): that checks every name they
//!   use is declared and every type fits, though not Spring's behaviour,
//!   which `mvn test` in the generated project checks;
//! - parses `pom.xml` as XML.
//!
//! These tests need a JDK 17 or newer and Debian's JUnit 5
//! (`apt-get install -y default-jdk-headless junit5`, or deploy/setup.sh);
//! without them they fail and say so. `JUNIT_CONSOLE_JAR` may name the
//! console launcher's jar elsewhere. No network is used.

use std::path::{Path, PathBuf};
use std::process::Command;

use qlp_agent_testkit::{has, intent, text, write_project};
use qlp_plugin_template_java::{generate_project, generate_repaired};
use qlp_sdk::{File, Finding, Intent, Severity};

const JDK_HINT: &str = "install a JDK 17 or newer (Debian: apt-get install -y default-jdk-headless; \
                        or run deploy/setup.sh)";

const JUNIT_HINT: &str = "install JUnit 5 (Debian: apt-get install -y junit5, which provides \
                          /usr/share/java/junit-platform-console-standalone.jar; or run \
                          deploy/setup.sh), or set JUNIT_CONSOLE_JAR to the console launcher's jar";

/// Where Debian's `junit5` package puts JUnit's console launcher, whose
/// manifest brings the Jupiter API and engine onto the class path.
const DEBIAN_JUNIT_JAR: &str = "/usr/share/java/junit-platform-console-standalone.jar";

/// The JUnit console launcher's jar; fails saying what to install.
fn junit_jar() -> PathBuf {
    let jar = std::env::var_os("JUNIT_CONSOLE_JAR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEBIAN_JUNIT_JAR));
    assert!(jar.is_file(), "{} is missing: {JUNIT_HINT}", jar.display());
    jar
}

/// Whether a generated source belongs to the Spring layer, which is built
/// by Maven alone.
fn is_spring_side(path: &str) -> bool {
    path.contains("/web/") || path.ends_with("/Application.java")
}

/// A `-cp` value of several entries.
fn class_path(entries: &[&Path]) -> String {
    std::env::join_paths(entries)
        .expect("paths without the separator")
        .to_string_lossy()
        .into_owned()
}

/// Runs a JDK tool in `dir`; fails with its output, or with what to
/// install when it is missing.
fn jdk_tool(dir: &Path, program: &str, args: &[&str]) -> String {
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(dir)
        // The suites must not depend on the developer's environment.
        .env_remove("JWT_SECRET")
        .env_remove("DATABASE_URL")
        .env_remove("FIELD_ENCRYPTION_KEY")
        .env_remove("RECORD_RETENTION_DAYS")
        .env_remove("JAVA_TOOL_OPTIONS")
        .env_remove("CLASSPATH");
    qlp_agent_testkit::run(command, JDK_HINT)
}

/// Writes the paths, one a line, as an `@argfile` for `javac`.
fn argfile(dir: &Path, name: &str, paths: &[&str]) -> String {
    assert!(!paths.is_empty(), "no sources for {name}");
    std::fs::write(dir.join(name), paths.join("\n") + "\n").expect("write argfile");
    format!("@{name}")
}

/// The number before `what` in the console launcher's summary, e.g. `12`
/// in `[        12 tests successful      ]`.
fn summary_count(report: &str, what: &str) -> usize {
    report
        .lines()
        .find(|line| line.contains(what))
        .and_then(|line| {
            line.trim_start_matches(['[', ' '])
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no `{what}` in the JUnit summary:\n{report}"))
}

/// Each Java file declares the package its path names, and a top-level
/// type named as the file.
fn assert_packages_match_paths(files: &[File]) {
    for file in files.iter().filter(|f| f.path.ends_with(".java")) {
        let source = file.as_text().expect("text");
        let relative = file
            .path
            .strip_prefix("src/main/java/")
            .or_else(|| file.path.strip_prefix("src/test/java/"))
            .unwrap_or_else(|| panic!("{} is outside the Maven source folders", file.path));
        let (folder, name) = relative.rsplit_once('/').expect("a file in a package");
        let package = format!("package {};", folder.replace('/', "."));
        assert!(
            source.starts_with(&package),
            "{} starts with {package}",
            file.path
        );
        let class = name.trim_end_matches(".java");
        let declares = source.lines().any(|line| {
            let words: Vec<&str> = line
                .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                .filter(|w| !w.is_empty())
                .collect();
            words.windows(2).any(|pair| {
                ["class", "record", "interface", "enum"].contains(&pair[0]) && pair[1] == class
            })
        });
        assert!(declares, "{} declares {class}", file.path);
    }
}

/// Generates the project, checks what its files promise, compiles the
/// core and runs its JUnit 5 tests, and compiles the Spring files against
/// the API declarations; returns the files and the JUnit report.
fn generated_project_passes(intent: &Intent) -> (Vec<File>, String) {
    generated_files_pass(generate_project(intent).expect("the intent generates"))
}

/// [`generated_project_passes`] for files already generated.
fn generated_files_pass(files: Vec<File>) -> (Vec<File>, String) {
    let junit = junit_jar();
    let dir = tempfile::tempdir().expect("temporary directory");
    let root = dir.path();
    write_project(root, &files);
    assert_packages_match_paths(&files);
    check_pom(text(&files, "pom.xml"));

    let java_paths = |prefix: &str, spring: bool| -> Vec<&str> {
        files
            .iter()
            .map(|f| f.path.as_str())
            .filter(|p| p.starts_with(prefix) && p.ends_with(".java"))
            .filter(|p| is_spring_side(p) == spring)
            .collect()
    };
    let core_main = java_paths("src/main/java/", false);
    let core_test = java_paths("src/test/java/", false);
    for path in core_main.iter().chain(&core_test) {
        let source = text(&files, path);
        for spring in ["org.springframework", "jakarta."] {
            assert!(
                !source.contains(spring),
                "{path} is in the plain-Java core but mentions {spring}"
            );
        }
    }

    let out = root.join("out");
    let (main_out, test_out, stubs_out, web_out) = (
        out.join("main"),
        out.join("test"),
        out.join("stubs"),
        out.join("web"),
    );
    let strict = ["-encoding", "UTF-8", "-Xlint:all", "-Werror", "-proc:none"];

    let main_files = argfile(root, "core-main.txt", &core_main);
    let mut args: Vec<&str> = strict.to_vec();
    let main_dir = main_out.to_string_lossy();
    args.extend(["-d", &main_dir, &main_files]);
    jdk_tool(root, "javac", &args);

    let test_files = argfile(root, "core-test.txt", &core_test);
    let test_cp = class_path(&[&main_out, &junit]);
    let test_dir = test_out.to_string_lossy();
    let mut args: Vec<&str> = strict.to_vec();
    args.extend(["-cp", &test_cp, "-d", &test_dir, &test_files]);
    jdk_tool(root, "javac", &args);

    let run_cp = class_path(&[&main_out, &test_out]);
    let junit_arg = junit.to_string_lossy();
    let report = jdk_tool(
        root,
        "java",
        &[
            "-jar",
            &junit_arg,
            "--class-path",
            &run_cp,
            "--scan-class-path",
            "--disable-banner",
            "--disable-ansi-colors",
            "--details=tree",
            "--details-theme=ascii",
            "--fail-if-no-tests",
        ],
    );
    assert!(summary_count(&report, "tests successful") > 0, "{report}");
    assert_eq!(summary_count(&report, "tests failed"), 0, "{report}");
    assert_eq!(summary_count(&report, "tests skipped"), 0, "{report}");

    compile_spring_side(
        root,
        &files,
        &junit,
        [&main_out, &test_out, &stubs_out, &web_out],
    );
    (files, report)
}

/// Compiles `Application.java` and the `web` package, main and test,
/// against the Spring API declarations of `tests/data/spring-api-stand-in/`.
fn compile_spring_side(root: &Path, files: &[File], junit: &Path, out: [&Path; 4]) {
    let [main_out, test_out, stubs_out, web_out] = out;
    let api = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/spring-api-stand-in");
    let mut stubs: Vec<String> = Vec::new();
    let mut folders = vec![api];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("read spring-api-stand-in") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "java") {
                stubs.push(path.to_string_lossy().into_owned());
            }
        }
    }
    stubs.sort();
    let stub_refs: Vec<&str> = stubs.iter().map(String::as_str).collect();
    let stub_files = argfile(root, "spring-api.txt", &stub_refs);
    let stubs_dir = stubs_out.to_string_lossy();
    jdk_tool(root, "javac", &["-d", &stubs_dir, &stub_files]);

    let spring: Vec<&str> = files
        .iter()
        .map(|f| f.path.as_str())
        .filter(|p| p.ends_with(".java") && is_spring_side(p))
        .collect();
    let spring_files = argfile(root, "spring-side.txt", &spring);
    let cp = class_path(&[main_out, test_out, stubs_out, junit]);
    let web_dir = web_out.to_string_lossy();
    jdk_tool(
        root,
        "javac",
        &[
            "-encoding",
            "UTF-8",
            "-Xlint:all",
            "-Werror",
            "-proc:none",
            "-cp",
            &cp,
            "-d",
            &web_dir,
            &spring_files,
        ],
    );
}

/// An element of an XML document.
#[derive(Debug)]
struct Element {
    name: String,
    children: Vec<Element>,
    text: String,
}

impl Element {
    fn child(&self, name: &str) -> &Element {
        self.children
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("<{}> has a <{name}>", self.name))
    }

    fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.name == name)
    }
}

/// Parses a well-formed XML document of the kind a `pom.xml` is: a prolog,
/// comments, elements with quoted attributes, text with the predefined or
/// numeric entities. Anything else, an unclosed or mismatched tag, a
/// duplicate attribute, a bare `&` or `<`, or more than one root is an
/// error.
fn parse_xml(source: &str) -> Result<Element, String> {
    let mut rest = source;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("<?") {
            let end = after.find("?>").ok_or("unterminated <?")?;
            rest = &after[end + 2..];
        } else if let Some(after) = rest.strip_prefix("<!--") {
            let end = after.find("-->").ok_or("unterminated comment")?;
            rest = &after[end + 3..];
        } else if let Some(after) = rest.strip_prefix("</") {
            let end = after.find('>').ok_or("unterminated end tag")?;
            let name = after[..end].trim();
            let element = stack.pop().ok_or(format!("</{name}> closes nothing"))?;
            if element.name != name {
                return Err(format!("<{}> is closed by </{name}>", element.name));
            }
            match stack.last_mut() {
                Some(parent) => parent.children.push(element),
                None if root.is_none() => root = Some(element),
                None => return Err("more than one root element".into()),
            }
            rest = &after[end + 1..];
        } else if let Some(after) = rest.strip_prefix('<') {
            let end = after.find('>').ok_or("unterminated start tag")?;
            let (tag, empty) = match after[..end].strip_suffix('/') {
                Some(tag) => (tag, true),
                None => (&after[..end], false),
            };
            let element = start_tag(tag)?;
            if stack.is_empty() && root.is_some() {
                return Err("more than one root element".into());
            }
            if empty {
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
            } else {
                stack.push(element);
            }
            rest = &after[end + 1..];
        } else {
            let end = rest.find('<').unwrap_or(rest.len());
            let text = &rest[..end];
            check_entities(text)?;
            match stack.last_mut() {
                Some(element) => element.text.push_str(text.trim()),
                None if text.trim().is_empty() => {}
                None => return Err(format!("text outside the root: {text:?}")),
            }
            rest = &rest[end..];
        }
    }
    if let Some(open) = stack.last() {
        return Err(format!("<{}> is never closed", open.name));
    }
    root.ok_or_else(|| "no root element".into())
}

/// The element a start tag's inside (`name attr="value" ...`) opens.
fn start_tag(tag: &str) -> Result<Element, String> {
    let tag = tag.trim();
    let name_end = tag.find(char::is_whitespace).unwrap_or(tag.len());
    let name = &tag[..name_end];
    let name_ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.:".contains(c));
    if !name_ok {
        return Err(format!("bad element name {name:?}"));
    }
    let mut attributes: Vec<&str> = Vec::new();
    let mut rest = tag[name_end..].trim_start();
    while !rest.is_empty() {
        let (attribute, after) = rest
            .split_once('=')
            .ok_or(format!("bad attribute in <{name}>"))?;
        let attribute = attribute.trim();
        let after = after.trim_start();
        let quote = after.chars().next().filter(|q| *q == '"' || *q == '\'');
        let quote = quote.ok_or(format!("unquoted attribute {attribute} in <{name}>"))?;
        let value_end = after[1..]
            .find(quote)
            .ok_or("unterminated attribute value")?;
        let value = &after[1..1 + value_end];
        if value.contains('<') {
            return Err(format!("`<` in attribute {attribute}"));
        }
        check_entities(value)?;
        if attributes.contains(&attribute) {
            return Err(format!("duplicate attribute {attribute} in <{name}>"));
        }
        attributes.push(attribute);
        rest = after[value_end + 2..].trim_start();
    }
    Ok(Element {
        name: name.to_string(),
        children: Vec::new(),
        text: String::new(),
    })
}

/// Every `&` starts a predefined or numeric entity.
fn check_entities(text: &str) -> Result<(), String> {
    for (index, _) in text.match_indices('&') {
        let entity = &text[index..];
        let end = entity.find(';').ok_or("a bare `&`")?;
        let name = &entity[1..end];
        let known = ["amp", "lt", "gt", "quot", "apos"].contains(&name)
            || name.strip_prefix('#').is_some_and(|n| {
                !n.is_empty() && n.chars().all(|c| c.is_ascii_hexdigit() || c == 'x')
            });
        if !known {
            return Err(format!("unknown entity &{name};"));
        }
    }
    Ok(())
}

/// The pom is well-formed XML inheriting a Spring Boot 3 parent, on Java
/// 17, with the three starters and no JWT library (the tokens are built on
/// `javax.crypto`).
fn check_pom(pom: &str) {
    let project = parse_xml(pom).unwrap_or_else(|e| panic!("pom.xml is not XML: {e}\n{pom}"));
    assert_eq!(project.name, "project");
    let parent = project.child("parent");
    assert_eq!(
        parent.child("artifactId").text,
        "spring-boot-starter-parent"
    );
    assert!(parent.child("version").text.starts_with("3."));
    assert_eq!(project.child("properties").child("java.version").text, "17");
    let dependencies: Vec<&str> = project
        .child("dependencies")
        .children_named("dependency")
        .map(|d| d.child("artifactId").text.as_str())
        .collect();
    assert_eq!(
        dependencies,
        [
            "spring-boot-starter-web",
            "spring-boot-starter-validation",
            "spring-boot-starter-test"
        ]
    );
}

fn main_java<'a>(files: &'a [File], package: &str, relative: &str) -> &'a str {
    text(
        files,
        &format!("src/main/java/{}/{relative}", package.replace('.', "/")),
    )
}

#[test]
fn a_library_with_books_loans_jwt_and_postgres_passes_its_tests() {
    let (files, report) = generated_project_passes(&intent(
        "Create a Java Spring Boot API for a library: books and loans, with JWT auth and PostgreSQL",
        &[
            "Books have a title, an isbn, a page count and an available flag",
            "Loans have a borrower name, a due date and an optional note",
        ],
        &[("language", "Java"), ("port", "9090")],
    ));
    let package = "com.example.booksloansservice";
    assert!(
        main_java(&files, package, "web/BookController.java")
            .contains("@RequestMapping(\"/books\")")
    );
    assert!(
        main_java(&files, package, "web/LoanController.java")
            .contains("@RequestMapping(\"/loans\")")
    );
    let book = main_java(&files, package, "model/Book.java");
    for expected in [
        "public record Book(",
        "String isbn,",
        "long pageCount,",
        "boolean available)",
        "json.put(\"page_count\", this.pageCount);",
        "reader.wholeNumber(\"page_count\", true)",
    ] {
        assert!(book.contains(expected), "Book.java has {expected}:\n{book}");
    }
    let loan = main_java(&files, package, "model/Loan.java");
    assert!(loan.contains("String borrowerName,"), "{loan}");
    assert!(loan.contains("reader.text(\"note\", false)"), "{loan}");
    assert!(
        text(&files, "src/main/resources/application.properties")
            .contains("server.port=${PORT:9090}\n")
    );
    assert!(text(&files, "Dockerfile").contains("EXPOSE 9090\n"));
    assert!(
        main_java(&files, package, "repository/Repositories.java")
            .contains("List.of(\"postgres\", \"postgresql\")")
    );
    assert!(
        main_java(&files, package, "web/ServiceConfiguration.java")
            .contains("AuthSettings.load(environment::getProperty)")
    );
    let readme = text(&files, "README.md");
    for expected in [
        "| GET | `/loans/{id}` | Get one loan | 200, 401, 404 |",
        "| `page_count` | whole number, 0 or more | yes |",
        "CI builds only the plain-Java core with `javac`",
        "mvn spring-boot:run",
    ] {
        assert!(readme.contains(expected), "README has {expected}");
    }
    for test in [
        "BookTest",
        "LoanServiceTest",
        "tokensNotSignedByTheServiceAreRefused()",
        "aPostgresUrlNeedsARepositoryAndOtherSchemesAreRefused()",
    ] {
        assert!(
            report.contains(&format!("{test} [OK]")),
            "{test} ran:\n{report}"
        );
    }
}

#[test]
fn a_clinic_appointments_service_with_sqlite_has_no_auth() {
    let (files, report) = generated_project_passes(&intent(
        "A clinic service in Java to book patient appointments",
        &[
            "Each appointment has a patient name, a doctor, a start time, a duration count and a confirmed flag",
            "Appointments are kept in SQLite",
        ],
        &[("project name", "City Clinic")],
    ));
    let package = "com.example.cityclinic";
    assert!(text(&files, "pom.xml").contains("<artifactId>city-clinic</artifactId>"));
    assert!(
        main_java(&files, package, "web/AppointmentController.java")
            .contains("@RequestMapping(\"/appointments\")")
    );
    let appointment = main_java(&files, package, "model/Appointment.java");
    for expected in [
        "String patientName,",
        "String startTime,",
        "long durationCount,",
        "boolean confirmed)",
    ] {
        assert!(appointment.contains(expected), "{expected}:\n{appointment}");
    }
    assert!(
        main_java(&files, package, "repository/Repositories.java")
            .contains("List.of(\"sqlite\", \"sqlite3\")")
    );
    for absent in [
        "auth/Jwt.java",
        "web/AuthController.java",
        "web/BearerTokenFilter.java",
    ] {
        let path = format!("src/main/java/{}/{absent}", package.replace('.', "/"));
        assert!(!has(&files, &path), "{absent} without auth");
    }
    assert!(
        text(&files, "src/main/resources/application.properties")
            .contains("spring.datasource.url=jdbc:sqlite:")
    );
    assert!(report.contains("aSqliteUrlNeedsARepositoryAndOtherSchemesAreRefused() [OK]"));
}

#[test]
fn an_orders_api_with_fields_from_requirements_has_no_auth_and_no_database() {
    let (files, report) = generated_project_passes(&intent(
        "Build a Java microservice to manage customer orders",
        &["Orders have a customer name, a total, a quantity and an optional note"],
        &[],
    ));
    let package = "com.example.ordersservice";
    assert!(
        main_java(&files, package, "web/OrderController.java")
            .contains("@RequestMapping(\"/orders\")")
    );
    let order = main_java(&files, package, "model/Order.java");
    for expected in [
        "String customerName,",
        "double total,",
        "long quantity,",
        "String note)",
        "Set.of(\"customer_name\", \"total\", \"quantity\", \"note\")",
    ] {
        assert!(order.contains(expected), "{expected}:\n{order}");
    }
    for file in &files {
        let content = file.as_text().expect("text");
        for word in ["JWT_SECRET", "DATABASE_URL", "BearerTokenFilter", "jjwt"] {
            assert!(!content.contains(word), "{} mentions {word}", file.path);
        }
    }
    assert!(
        text(&files, "src/main/resources/application.properties")
            .contains("server.port=${PORT:8080}")
    );
    let dockerfile = text(&files, "Dockerfile");
    for expected in [
        "FROM maven:3-eclipse-temurin-17 AS build",
        "FROM eclipse-temurin:17-jre",
        "USER app:app",
        "EXPOSE 8080",
    ] {
        assert!(dockerfile.contains(expected), "Dockerfile has {expected}");
    }
    assert!(text(&files, ".gitignore").contains("target/\n.idea/\n"));
    assert!(report.contains("invalidValuesAreRefusedNamingTheField() [OK]"));
}

#[test]
fn resources_and_fields_named_like_java_keywords_and_classes_still_compile_and_pass() {
    let (files, _) = generated_project_passes(&intent(
        "A Java API for classes and records",
        &["Classes have a default, a package and a public flag"],
        &[],
    ));
    let package = "com.example.classesrecordsservice";
    let class = main_java(&files, package, "model/ClassRecord.java");
    for expected in [
        "public record ClassRecord(",
        "String defaultValue,",
        "String packageValue,",
        "boolean publicValue)",
        "json.put(\"default\", this.defaultValue);",
    ] {
        assert!(class.contains(expected), "{expected}:\n{class}");
    }
    assert!(
        main_java(&files, package, "web/ClassRecordController.java")
            .contains("@RequestMapping(\"/classes\")")
    );
    assert!(has(
        &files,
        "src/main/java/com/example/classesrecordsservice/model/RecordRecord.java"
    ));
}

#[test]
fn the_xml_check_refuses_what_is_not_well_formed() {
    assert!(parse_xml("<?xml version=\"1.0\"?>\n<a x=\"1\"><b/><c>t &amp; u</c></a>\n").is_ok());
    for broken in [
        "<a><b></a></b>",
        "<a>",
        "<a></a><b></b>",
        "<a x=1></a>",
        "<a x=\"1\" x=\"2\"></a>",
        "<a>fish & chips</a>",
        "text<a></a>",
    ] {
        assert!(parse_xml(broken).is_err(), "{broken} is refused");
    }
}

/// The project's package, from where `Application.java` is.
fn package_of(files: &[File]) -> String {
    let application = files
        .iter()
        .find_map(|f| f.path.strip_suffix("/Application.java"))
        .expect("an Application.java");
    application
        .strip_prefix("src/main/java/")
        .expect("under the main sources")
        .replace('/', ".")
}

/// Asserts that each JUnit test ran and passed.
fn assert_passed(report: &str, tests: &[&str]) {
    for test in tests {
        assert!(
            report.contains(&format!("{test} [OK]")),
            "{test} ran:\n{report}"
        );
    }
}

/// The payments intent as the host passes it: the planner's concern
/// `payments` as a constraint.
#[test]
fn a_payments_service_encrypts_card_numbers_drops_the_cvv_audits_and_expires() {
    let (files, report) = generated_project_passes(&intent(
        "A Java payments API for cards with JWT auth",
        &[
            "Each card has a cardholder name, a card number, a cvv and an expiry month",
            "Payments have an amount, a currency and a customer email",
        ],
        &[("compliance", "payments")],
    ));
    let package = &package_of(&files);
    let card = main_java(&files, package, "model/Card.java");
    for expected in [
        "String cardNumber,",
        "Instant createdAt)",
        "cipher.encrypt(this.cardNumber)",
        "FieldCipher.maskCardNumber(cipher.decrypt(this.cardNumber))",
        "json.put(\"cardholder_name\", this.cardholderName);",
    ] {
        assert!(card.contains(expected), "Card.java has {expected}:\n{card}");
    }
    assert!(
        !card.to_lowercase().contains("cvv"),
        "the cvv is not stored:\n{card}"
    );
    assert!(
        main_java(&files, package, "crypto/FieldCipher.java").contains("\"AES/GCM/NoPadding\"")
    );
    let service = main_java(&files, package, "service/CardService.java");
    assert!(
        service.contains(
            "audit.record(actor, \"create\", RESOURCE, created.id(), AuditTrail.SUCCESS);"
        ),
        "{service}"
    );
    assert!(
        main_java(&files, package, "web/BearerTokenFilter.java")
            .contains("request.setAttribute(Actor.ATTRIBUTE, subject.get());")
    );
    assert!(
        text(&files, "src/main/resources/application.properties")
            .contains("\nRECORD_RETENTION_DAYS=365\n")
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
        "| `FIELD_ENCRYPTION_KEY` |",
    ] {
        assert!(readme.contains(words), "README has {words}:\n{readme}");
    }
    assert_passed(
        &report,
        &[
            "sensitiveFieldsAreStoredEncryptedAndAnsweredDecrypted()",
            "everyChangeIsWrittenToTheAuditTrail()",
            "recordsOlderThanTheRetentionAreRemoved()",
            "aMissingOrMalformedKeyIsRefused()",
            "anotherKeyOrAChangedValueIsRefused()",
            "cardNumbersAreShownByTheirLastFourCharactersOnly()",
            "theRetentionIsReadFromTheEnvironment()",
            "aValidBodyGivesARecordWithItsValuesUnderTheirJsonNames()",
            "PaymentServiceTest",
            "tokensNotSignedByTheServiceAreRefused()",
        ],
    );
}

#[test]
fn a_health_records_service_encrypts_health_data_audits_and_keeps_records_seven_years() {
    let (files, report) = generated_project_passes(&intent(
        "A Java patient records API for a clinic",
        &[
            "Each record has a full name, a diagnosis, a medical record number and an optional note",
            "Keep records for 7 years",
        ],
        &[("compliance", "health-data")],
    ));
    let package = &package_of(&files);
    let record = main_java(&files, package, "model/RecordRecord.java");
    for expected in [
        "cipher.encrypt(this.diagnosis)",
        "cipher.encrypt(this.medicalRecordNumber)",
        "json.put(\"diagnosis\", cipher.decrypt(this.diagnosis));",
        "json.put(\"full_name\", this.fullName);",
    ] {
        assert!(record.contains(expected), "{expected}:\n{record}");
    }
    assert!(!record.contains("maskCardNumber"), "{record}");
    assert!(
        main_java(&files, package, "retention/RetentionPolicy.java")
            .contains("DEFAULT_DAYS = 2555;")
    );
    assert!(
        text(&files, "README.md").contains("| `/records` | `diagnosis` | decrypted |"),
        "{}",
        text(&files, "README.md")
    );
    assert_passed(
        &report,
        &[
            "sensitiveFieldsAreStoredEncryptedAndAnsweredDecrypted()",
            "everyChangeIsWrittenToTheAuditTrail()",
            "recordsOlderThanTheRetentionAreRemoved()",
            "anEntryIsOneJsonLineWithWhoDidWhatToWhichRecord()",
            "aMalformedRetentionIsRefused()",
        ],
    );
}

#[test]
fn a_project_repaired_after_compliance_findings_passes_its_tests() {
    let finding = |rule_id: &str, message: &str| Finding::new(rule_id, Severity::Medium, message);
    let files = generate_repaired(
        &intent(
            "A Java API for bank accounts",
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
    let package = &package_of(&files);
    assert!(
        main_java(&files, package, "model/Account.java")
            .contains("cipher.encrypt(this.routingCode)")
    );
    assert!(
        main_java(&files, package, "web/Actor.java").contains("AuditTrail.ANONYMOUS"),
        "without auth the actor is anonymous"
    );
    assert!(!has(
        &files,
        &format!(
            "src/main/java/{}/web/BearerTokenFilter.java",
            package.replace('.', "/")
        )
    ));
    assert_passed(
        &report,
        &[
            "sensitiveFieldsAreStoredEncryptedAndAnsweredDecrypted()",
            "everyChangeIsWrittenToTheAuditTrail()",
            "recordsOlderThanTheRetentionAreRemoved()",
        ],
    );
}
