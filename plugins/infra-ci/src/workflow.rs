//! Writing `.github/workflows/ci.yml` for a project's stack.
//!
//! The `test` job runs what the stack agent's README says runs the tests:
//!
//! | stack | steps |
//! |---|---|
//! | Go | `actions/setup-go` from `go.mod`, `go vet ./...`, `go test ./...` |
//! | Node, TypeScript | `actions/setup-node`, `npm ci` (`npm install` without a lock file), `npm test` |
//! | Vite front-end | the same, and `npm run build` |
//! | Python | `actions/setup-python`, `pip install -r requirements.txt`, `pytest` |
//! | Rust | `cargo test` |
//! | static site | the pages checked by `html-validate` |
//!
//! Dependencies are cached (the setup actions' own caches, keyed on the
//! lock or manifest file; `actions/cache` for npm without a lock and for
//! Cargo). When a test reads `DATABASE_URL` from the environment, the job
//! gets the intent's database as a service container with a healthcheck,
//! reachable without a password on the runner's loopback, and the URL set.
//! A `docker` job builds the image (never pushing it) when there is a
//! Dockerfile. The token is read-only (`permissions: contents: read`),
//! every action is pinned to a major version, and a newer push to the same
//! branch cancels the older run.

use qlp_infra_kit::project::{Project, Stack, Wants};
use qlp_infra_kit::yaml;
use qlp_intent_spec::Database;
use qlp_sdk::File;
use serde_json::{Value, json};

/// The actions the workflow uses, each pinned to a major version: the
/// newest majors, which run on Node.js 24 (actionlint flags the majors on
/// the deprecated Node.js 20 runtime).
pub const CHECKOUT: &str = "actions/checkout@v6";
pub const SETUP_GO: &str = "actions/setup-go@v6";
pub const SETUP_NODE: &str = "actions/setup-node@v6";
pub const SETUP_PYTHON: &str = "actions/setup-python@v6";
pub const CACHE: &str = "actions/cache@v5";
pub const SETUP_BUILDX: &str = "docker/setup-buildx-action@v4";
pub const BUILD_PUSH: &str = "docker/build-push-action@v7";

/// Node.js release the jobs run on: the stack agents' Dockerfiles' `node:20`.
pub const NODE_VERSION: &str = "20";

/// Python release the jobs run on: the FastAPI agent's `python:3.11`.
pub const PYTHON_VERSION: &str = "3.11";

/// The HTML checker of a static site, pinned.
pub const HTML_VALIDATE: &str = "html-validate@8.24.1";

/// Whether a test file reads `DATABASE_URL` from the process environment
/// (not only sets it), so the tests need a running database.
pub fn tests_read_database(files: &[File]) -> bool {
    const READS: [&str; 5] = [
        "os.Getenv(\"DATABASE_URL\")",
        "os.environ[\"DATABASE_URL\"]",
        "os.environ.get(\"DATABASE_URL\")",
        "process.env.DATABASE_URL",
        "env::var(\"DATABASE_URL\")",
    ];
    files.iter().any(|file| {
        let path = file.path.as_str();
        let is_test = path.ends_with("_test.go")
            || path.contains("test/")
            || path.contains("tests/")
            || path.contains(".test.")
            || path
                .rsplit('/')
                .next()
                .is_some_and(|n| n.starts_with("test_") || n == "conftest.py");
        is_test
            && file
                .as_text()
                .is_some_and(|t| READS.iter().any(|r| reads(t, r)))
    })
}

/// Whether `text` has `access` other than as the target of an assignment
/// (`os.environ["DATABASE_URL"] = "memory://"` sets it for the tests).
fn reads(text: &str, access: &str) -> bool {
    text.match_indices(access).any(|(at, _)| {
        let after = text[at + access.len()..].trim_start();
        !after.starts_with('=') || after.starts_with("==")
    })
}

fn uses(action: &str) -> Value {
    json!({ "uses": action })
}

fn uses_with(name: &str, action: &str, with: Value) -> Value {
    json!({ "name": name, "uses": action, "with": with })
}

fn run(name: &str, command: &str) -> Value {
    json!({ "name": name, "run": command })
}

/// The steps of the `test` job after the checkout.
fn test_steps(stack: Stack, project: &Project<'_>) -> Vec<Value> {
    match stack {
        Stack::Go => vec![
            uses_with(
                "Set up Go",
                SETUP_GO,
                json!({ "go-version-file": "go.mod", "cache-dependency-path": "go.mod" }),
            ),
            run("Vet", "go vet ./..."),
            run("Test", "go test ./..."),
        ],
        Stack::Node | Stack::Frontend => {
            let mut steps = Vec::new();
            if project.npm_lock {
                steps.push(uses_with(
                    "Set up Node.js",
                    SETUP_NODE,
                    json!({ "node-version": NODE_VERSION, "cache": "npm" }),
                ));
                steps.push(run("Install dependencies", "npm ci"));
            } else {
                steps.push(uses_with(
                    "Set up Node.js",
                    SETUP_NODE,
                    json!({ "node-version": NODE_VERSION }),
                ));
                steps.push(uses_with(
                    "Cache npm downloads",
                    CACHE,
                    json!({
                        "path": "~/.npm",
                        "key": "npm-${{ runner.os }}-${{ hashFiles('package.json') }}",
                        "restore-keys": "npm-${{ runner.os }}-",
                    }),
                ));
                // No lock file to `npm ci` from: the manifest's ranges.
                steps.push(run(
                    "Install dependencies",
                    "npm install --no-audit --no-fund",
                ));
            }
            steps.push(run("Test", "npm test"));
            if stack == Stack::Frontend {
                steps.push(run("Build", "npm run build"));
            }
            steps
        }
        Stack::Python => vec![
            uses_with(
                "Set up Python",
                SETUP_PYTHON,
                json!({
                    "python-version": PYTHON_VERSION,
                    "cache": "pip",
                    "cache-dependency-path": "requirements.txt",
                }),
            ),
            run(
                "Install dependencies",
                "python -m pip install -r requirements.txt pytest",
            ),
            run("Test", "python -m pytest -q"),
        ],
        Stack::Rust => vec![
            uses_with(
                "Cache Cargo",
                CACHE,
                json!({
                    "path": "~/.cargo/registry\n~/.cargo/git\ntarget\n",
                    "key": "cargo-${{ runner.os }}-${{ hashFiles('Cargo.toml', 'Cargo.lock') }}",
                    "restore-keys": "cargo-${{ runner.os }}-",
                }),
            ),
            run("Test", "cargo test"),
        ],
        Stack::Static => vec![
            uses_with(
                "Set up Node.js",
                SETUP_NODE,
                json!({ "node-version": NODE_VERSION }),
            ),
            run(
                "Check the HTML",
                &format!("npx --yes {HTML_VALIDATE} \"**/*.html\""),
            ),
        ],
    }
}

/// The service container, job environment and readiness options for
/// `database`; `None` for SQLite (a file the tests create).
fn database_service(database: Database) -> Option<(Value, String)> {
    let health = |command: &str| {
        format!(
            "--health-cmd \"{command}\" --health-interval 5s --health-timeout 5s --health-retries 20"
        )
    };
    let (service, url) = match database {
        Database::Postgres => (
            json!({
                "image": "postgres:16",
                "env": { "POSTGRES_DB": "app", "POSTGRES_HOST_AUTH_METHOD": "trust" },
                "ports": ["5432:5432"],
                "options": health("pg_isready -U postgres"),
            }),
            "postgres://postgres@localhost:5432/app",
        ),
        Database::Mysql => (
            json!({
                "image": "mysql:8.4",
                "env": { "MYSQL_DATABASE": "app", "MYSQL_ALLOW_EMPTY_PASSWORD": "yes" },
                "ports": ["3306:3306"],
                "options": health("mysqladmin ping -h 127.0.0.1 --silent"),
            }),
            "mysql://root@127.0.0.1:3306/app",
        ),
        Database::Mongo => (
            json!({
                "image": "mongo:7.0",
                "ports": ["27017:27017"],
                "options": health("mongosh --quiet --eval 'db.adminCommand(1)'"),
            }),
            "mongodb://localhost:27017/app",
        ),
        Database::Sqlite => return None,
    };
    Some((service, url.to_string()))
}

/// The workflow's text.
pub fn render(wants: &Wants, project: &Project<'_>, tests_need_database: bool) -> String {
    let stack = project.stack.unwrap_or(Stack::Static);
    let mut steps = vec![uses(CHECKOUT)];
    steps.extend(test_steps(stack, project));
    let mut test = json!({
        "name": format!("Test ({})", stack.key()),
        "runs-on": "ubuntu-latest",
        "timeout-minutes": 20,
        "steps": steps,
    });
    let database = wants.database.filter(|_| tests_need_database);
    if let Some((service, url)) = database.and_then(database_service) {
        test["services"] = json!({ "db": service });
        test["env"] = json!({ "DATABASE_URL": url });
    }
    let mut jobs = json!({ "test": test });
    if project.dockerfile.is_some() {
        jobs["docker"] = json!({
            "name": "Docker image",
            "runs-on": "ubuntu-latest",
            "needs": "test",
            "timeout-minutes": 30,
            "steps": [
                uses(CHECKOUT),
                uses(SETUP_BUILDX),
                uses_with("Build the image", BUILD_PUSH, json!({
                    "context": ".",
                    "push": false,
                    "tags": format!("{}:ci", wants.spec.name),
                    "cache-from": "type=gha",
                    "cache-to": "type=gha,mode=max",
                })),
            ],
        });
    }
    let workflow = json!({
        "name": "CI",
        "on": { "push": { "branches": ["main"] }, "pull_request": {} },
        "permissions": { "contents": "read" },
        "concurrency": {
            "group": "ci-${{ github.ref }}",
            "cancel-in-progress": true,
        },
        "jobs": jobs,
    });
    let header = format!(
        "Runs the tests of the {} on every push to main and every pull request.",
        wants.spec.title()
    );
    yaml::to_yaml_commented(&workflow, &[("name", header.as_str())])
}
