//! End-to-end check of what the agent promises: the generated projects
//! pass their own component tests and build for production with the real
//! Node.js toolchain. Each test writes a generated project into a temporary
//! directory, links in its dependencies and runs `npm test` (Vitest) and
//! `npm run build` (tsc, then Vite) there.
//!
//! Dependencies are installed with `npm install` once per distinct set of
//! dependencies (every project this agent generates has the same set), into
//! a directory under cargo's target dir with its own npm cache, and linked
//! into each project as `node_modules` (`qlp_agent_testkit::npm`). A later
//! run reuses them.
//!
//! These tests need Node.js 18.18 or newer with npm, and the npm registry
//! the first time; without them they fail and say so.

use std::path::{Path, PathBuf};

use qlp_agent_testkit::{has, intent, npm, text, write_project};
use qlp_plugin_template_react::generate_project;
use qlp_sdk::{File, Intent};

const INSTALL_HINT: &str = "install Node.js 18.18 or newer with npm (Debian: apt-get install nodejs npm; or run deploy/setup.sh)";

fn scratch() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).to_path_buf()
}

/// Runs an npm tool in `dir` and returns its output; fails with the output
/// when it does not succeed, or with what to install when it is missing.
fn run(dir: &Path, program: &str, args: &[&str]) -> String {
    let mut command = npm::command(&scratch(), dir, program, args);
    // The build must not depend on the developer's environment.
    command.env_remove("VITE_API_URL");
    qlp_agent_testkit::run(command, INSTALL_HINT)
}

/// Generates the project, runs its tests and builds it; returns the files
/// and Vitest's verbose report.
fn generated_project_passes(intent: &Intent) -> (Vec<File>, String) {
    let files = generate_project(intent).expect("the intent generates");
    let dir = tempfile::tempdir().expect("temporary directory");
    write_project(dir.path(), &files);
    let modules = npm::node_modules(&scratch(), text(&files, "package.json"), INSTALL_HINT);
    npm::link_node_modules(dir.path(), &modules);

    let report = run(dir.path(), "npm", &["test", "--", "--reporter=verbose"]);
    assert!(report.contains(" passed"), "no test ran:\n{report}");
    for word in ["failed", "skipped", "todo"] {
        assert!(!report.contains(word), "a test {word}:\n{report}");
    }
    run(dir.path(), "npm", &["run", "build"]);
    let built =
        std::fs::read_to_string(dir.path().join("dist/index.html")).expect("dist/index.html");
    assert!(
        built.contains("<script type=\"module\" crossorigin src=\"/assets/"),
        "the build links its bundle:\n{built}"
    );
    (files, report)
}

/// The text of every file the app is built from or documented by; the
/// tests are left out, as they check that the app sends no credentials.
fn app_text(files: &[File]) -> String {
    files
        .iter()
        .filter(|f| !f.path.starts_with("test/"))
        .filter_map(File::as_text)
        .collect()
}

#[test]
fn a_warehouse_inventory_dashboard_with_login_passes_and_builds() {
    let (files, report) = generated_project_passes(&intent(
        "Build a React dashboard for warehouse inventory with login",
        &["Each inventory item has a SKU, a name, a quantity, a unit price and a bin location"],
        &[],
    ));
    let routes = text(&files, "src/routes.ts");
    assert!(routes.contains("export const RESOURCE_PATHS = [\"inventories\"] as const;"));
    let form = text(&files, "src/components/InventoryForm.tsx");
    for expected in [
        "<label htmlFor=\"inventory-sku\">SKU</label>",
        "<label htmlFor=\"inventory-quantity\">Quantity</label>",
        "readInteger(problems, \"quantity\", values.quantity, true, true)",
        "readNumber(problems, \"unit_price\", values.unit_price, true, true)",
        "<label htmlFor=\"inventory-bin-location\">Bin location</label>",
    ] {
        assert!(form.contains(expected), "{expected} in:\n{form}");
    }
    let models = text(&files, "src/models.ts");
    assert!(models.contains("export interface Inventory {"));
    assert!(models.contains("  quantity: number;"));
    assert!(text(&files, "src/api/resources.ts").contains(
        "export const inventoriesApi = resourceApi<Inventory, InventoryInput>(\"/inventories\");"
    ));
    for path in [
        "src/auth/LoginForm.tsx",
        "src/auth/token.ts",
        "src/pages/InventoriesPage.tsx",
        "src/pages/InventoryEditor.tsx",
    ] {
        assert!(has(&files, path), "{path} generated");
    }
    assert!(
        text(&files, "src/api/client.ts").contains("headers.Authorization = `Bearer ${token}`;")
    );
    assert!(text(&files, "src/config.ts").contains("\"Inventories Dashboard\""));
    for test in [
        "labels the Quantity control (INPUT, type number)",
        "sends the typed values as the API takes them",
        "signs in with a token from POST /auth/token and sends it with every request",
        "goes back to the sign-in form when the API refuses the token",
        "lists the inventories the API returns",
    ] {
        assert!(report.contains(test), "{test} ran:\n{report}");
    }
}

#[test]
fn a_bookshop_front_end_without_auth_has_no_sign_in() {
    let (files, report) = generated_project_passes(&intent(
        "A React front-end for a bookshop: books and authors",
        &[
            "Books have a title, an isbn, a page count, a price and a bestseller flag",
            "Authors have a full name, an email, a website and an optional biography",
        ],
        &[("port", "4173")],
    ));
    for path in [
        "src/pages/BooksPage.tsx",
        "src/pages/AuthorsPage.tsx",
        "src/components/BookForm.tsx",
        "src/components/AuthorForm.tsx",
        "test/BookForm.test.tsx",
        "test/AuthorsPage.test.tsx",
    ] {
        assert!(has(&files, path), "{path} generated");
    }
    for absent in ["src/auth/LoginForm.tsx", "src/auth/token.ts"] {
        assert!(!has(&files, absent), "{absent} without auth");
    }
    let everything = app_text(&files);
    for word in ["Authorization", "LoginForm", "/auth/token", "Sign in"] {
        assert!(!everything.contains(word), "{word} appears without auth");
    }
    let authors = text(&files, "src/components/AuthorForm.tsx");
    assert!(authors.contains("type=\"email\""), "{authors}");
    assert!(authors.contains("type=\"url\""), "{authors}");
    assert!(authors.contains("<textarea"), "{authors}");
    assert!(authors.contains("Biography (optional)"), "{authors}");
    let books = text(&files, "src/components/BookForm.tsx");
    assert!(books.contains("type=\"checkbox\""), "{books}");
    assert!(
        books.contains("<label htmlFor=\"book-isbn\">ISBN</label>"),
        "{books}"
    );
    assert!(text(&files, "vite.config.ts").contains("server: { port: 4173 },"));
    let app = text(&files, "src/App.tsx");
    assert!(app.contains("route.resource === \"books\""));
    assert!(app.contains("route.resource === \"authors\""));
    for test in [
        "needs no sign-in and sends no credentials",
        "links to Books from the navigation",
        "links to Authors from the navigation",
        "refuses to send an author without its required fields",
        "labels the Email control (INPUT, type email)",
    ] {
        assert!(report.contains(test), "{test} ran:\n{report}");
    }
}

#[test]
fn an_intent_without_fields_gets_the_default_fields_and_its_own_name() {
    let (files, report) = generated_project_passes(&intent(
        "Vite React app to track expenses",
        &[],
        &[("project name", "Team Expenses")],
    ));
    assert!(text(&files, "package.json").contains("\"name\": \"team-expenses\""));
    let models = text(&files, "src/models.ts");
    assert!(models.contains("  name: string;"), "{models}");
    assert!(models.contains("  description: string | null;"), "{models}");
    assert!(models.contains("  amount: number;"), "{models}");
    assert!(text(&files, "README.md").contains("docker build --build-arg VITE_API_URL="));
    assert!(report.contains("labels the Description (optional) control (TEXTAREA, type textarea)"));
}
