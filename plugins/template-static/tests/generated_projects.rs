//! End-to-end check of what the agent promises: the generated sites are
//! valid and accessible. Each test writes a generated site into a
//! temporary directory and
//!
//! - runs the Nu HTML Checker (vnu, from the npm package `vnu-jar`) on its
//!   HTML, CSS and SVG, with warnings counted as failures;
//! - parses `index.html` and checks the accessibility rules of
//!   [`accessibility::RULES`] (the same list the generated README gives);
//! - checks that `js/main.js` parses (`node --check`).
//!
//! vnu-jar is installed with npm once, into a directory under cargo's
//! target dir (`qlp_agent_testkit::npm`); a later run reuses it. These
//! tests need Java 11 or newer, Node.js with npm, and the npm registry the
//! first time; without them they fail and say what to install.

mod accessibility;

use std::path::{Path, PathBuf};
use std::process::Command;

use qlp_agent_testkit::{intent, npm, text, write_project};
use qlp_plugin_template_static::generate_project;
use qlp_sdk::{File, Intent};

const NODE_HINT: &str =
    "install Node.js with npm (Debian: apt-get install nodejs npm; or run deploy/setup.sh)";
const JAVA_HINT: &str = "install Java 11 or newer for the Nu HTML Checker (Debian: apt-get install default-jre-headless; or run deploy/setup.sh)";

/// The checker's npm package, pinned so that its rules do not change
/// under the tests.
const VNU_PACKAGE: &str = "\"dependencies\": {\n    \"vnu-jar\": \"26.9.27\"\n  }\n}\n";

/// The files vnu checks: the page, its styles and its illustration.
const CHECKED_FILES: &[&str] = &["index.html", "css/styles.css", "images/hero.svg"];

fn scratch() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).to_path_buf()
}

/// The installed `vnu.jar`.
fn vnu_jar() -> PathBuf {
    let modules = npm::node_modules(&scratch(), VNU_PACKAGE, NODE_HINT);
    let jar = modules.join("vnu-jar/build/dist/vnu.jar");
    assert!(jar.exists(), "vnu-jar installed no {}", jar.display());
    jar
}

/// The command that runs vnu on the site's files in `dir`: errors and
/// warnings both fail, CSS and SVG are checked too, the report is JSON.
fn vnu_command(dir: &Path) -> Command {
    let mut command = Command::new("java");
    command
        .arg("-jar")
        .arg(vnu_jar())
        .args([
            "--Werror",
            "--also-check-css",
            "--also-check-svg",
            "--format",
            "json",
        ])
        .args(CHECKED_FILES)
        .current_dir(dir);
    command
}

/// Generates the site, validates it, checks its accessibility and its
/// script; returns the files and the page's text.
fn generated_site_passes(intent: &Intent) -> (Vec<File>, String) {
    let files = generate_project(intent).expect("the intent generates");
    let dir = tempfile::tempdir().expect("temporary directory");
    write_project(dir.path(), &files);

    let report = qlp_agent_testkit::run(vnu_command(dir.path()), JAVA_HINT);
    assert!(
        report.contains("\"messages\":[]"),
        "vnu reports problems:\n{report}"
    );
    let index = text(&files, "index.html").to_string();
    let violations = accessibility::check(&index);
    assert!(
        violations.is_empty(),
        "accessibility rules broken:\n{}\n\n{index}",
        violations.join("\n")
    );
    qlp_agent_testkit::run(
        npm::command(&scratch(), dir.path(), "node", &["--check", "js/main.js"]),
        NODE_HINT,
    );
    (files, index)
}

#[test]
fn a_bakery_landing_page_is_valid_and_accessible() {
    let (files, index) = generated_site_passes(&intent(
        "A static landing page for Sunny Side Bakery with our menu, opening hours and a \
         contact form with name, email, phone and message",
        &[
            "Show the opening hours from Monday to Saturday",
            "The menu lists breads & pastries",
        ],
        &[],
    ));
    for expected in [
        "<title>Sunny Side Bakery</title>",
        "<h1 id=\"top-heading\">Sunny Side Bakery</h1>",
        "<li><a href=\"#menu\">Menu</a></li>",
        "<h2 id=\"hours-heading\">Opening hours</h2>",
        "<p>Show the opening hours from Monday to Saturday.</p>",
        "<p>The menu lists breads &amp; pastries.</p>",
        "type=\"tel\" autocomplete=\"tel\"",
        "<textarea id=\"contact-message\" name=\"message\"",
    ] {
        assert!(index.contains(expected), "{expected} in:\n{index}");
    }
    let readme = text(&files, "README.md");
    assert!(
        readme.contains("Sections: About, Menu, Opening hours and Contact,"),
        "{readme}"
    );
    assert!(text(&files, "Dockerfile").contains("nginx-unprivileged"));
}

#[test]
fn a_consultancy_page_takes_its_name_sections_and_form_fields_from_constraints() {
    let (files, index) = generated_site_passes(&intent(
        "Landing page for a consultancy with services, testimonials, team and FAQ",
        &["Services include audits and training"],
        &[
            ("company", "Acme Consulting"),
            (
                "contact fields",
                "name, company, email, budget:float, optional website, newsletter flag",
            ),
        ],
    ));
    assert!(index.contains("<h1 id=\"top-heading\">Acme Consulting</h1>"));
    for id in ["services", "testimonials", "team", "faq", "contact"] {
        assert!(
            index.contains(&format!(
                "<section id=\"{id}\" aria-labelledby=\"{id}-heading\">"
            )),
            "section {id} in:\n{index}"
        );
    }
    for expected in [
        "autocomplete=\"organization\"",
        "type=\"number\" step=\"any\" min=\"0\" required",
        "<label for=\"contact-website\">Website</label>",
        "type=\"url\" autocomplete=\"url\"",
        "type=\"checkbox\" value=\"yes\"",
    ] {
        assert!(index.contains(expected), "{expected} in:\n{index}");
    }
    assert!(
        !index.contains("id=\"contact-message\""),
        "only the fields asked for"
    );
    assert!(text(&files, "README.md").contains("| `budget` | `number` input | yes |"));
}

#[test]
fn a_page_that_names_nothing_still_has_about_contact_and_the_default_form() {
    let (_, index) = generated_site_passes(&intent("A static page", &[], &[]));
    assert!(index.contains("<h1 id=\"top-heading\">Welcome</h1>"));
    for id in ["contact-name", "contact-email", "contact-message"] {
        assert!(index.contains(&format!("id=\"{id}\"")), "{id} in:\n{index}");
    }
}

#[test]
fn the_checks_refuse_a_broken_page() {
    let files = generate_project(&intent("A landing page for a florist", &[], &[]))
        .expect("the intent generates");
    let index = text(&files, "index.html");
    let alt_start = index.find(" alt=\"").expect("the hero has alt text");
    let alt_end = alt_start + 6 + index[alt_start + 6..].find('"').expect("closing quote");
    let broken = format!("{}{}", &index[..alt_start], &index[alt_end + 1..])
        .replace("<h2 id=\"about-heading\">", "<h2 id=\"top-heading\">");
    let dir = tempfile::tempdir().expect("temporary directory");
    write_project(dir.path(), &files);
    std::fs::write(dir.path().join("index.html"), &broken).expect("write");

    let output = vnu_command(dir.path())
        .output()
        .unwrap_or_else(|error| panic!("cannot run java ({error}): {JAVA_HINT}"));
    let report = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "vnu accepted a broken page");
    assert!(report.contains("Duplicate ID"), "{report}");
    assert!(report.contains("alt"), "{report}");

    let violations = accessibility::check(&broken).join("\n");
    assert!(violations.contains("duplicate id"), "{violations}");
    assert!(violations.contains("without alt"), "{violations}");
}
