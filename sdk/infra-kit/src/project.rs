//! What the earlier agents' files say about the project an infrastructure
//! agent adds to, and which infrastructure the intent asks for.
//!
//! [`Project::read`] finds the stack from the manifest files a stack agent
//! writes (`go.mod`, `package.json`, `requirements.txt`/`pyproject.toml`,
//! `Cargo.toml`, or only `index.html` for a static site), whether it has
//! tests, its Dockerfile's port and user (through [`crate::settings`]),
//! its health path and the environment variables its sources read.
//!
//! [`Wants::read`] reads the intent with the words the planner names
//! stacks by (`docker`, `compose`, `kubernetes`, `k8s`, `helm`, `ci`…),
//! through `qlp-intent-spec`'s feature tokens, so "without docker" turns a
//! word off as "without auth" does; it also takes the intent's database.

use qlp_intent_spec::spec::{enabled_constraints, feature_tokens, mentions_any};
use qlp_intent_spec::{Database, IntentSpec};
use qlp_sdk::{File, Intent};

use crate::settings;

/// Words that ask for containers to run the project locally.
pub const COMPOSE_WORDS: &[&str] = &["compose", "docker", "dockerized", "containerized"];

/// Words that ask for continuous integration.
pub const CI_WORDS: &[&str] = &[
    "ci",
    "github",
    "actions",
    "workflow",
    "workflows",
    "pipeline",
];

/// Words that ask for Kubernetes manifests: the planner's `kubernetes`
/// stack words, and the words of running on a cluster.
pub const KUBERNETES_WORDS: &[&str] = &[
    "kubernetes",
    "k8s",
    "helm",
    "kustomize",
    "cluster",
    "kubectl",
    "eks",
    "gke",
    "aks",
    "openshift",
];

/// Words that ask for the service to be reachable from outside a cluster.
pub const PUBLIC_WORDS: &[&str] = &[
    "public", "publicly", "internet", "ingress", "domain", "host",
];

/// The language or kind of the project, from its manifest files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stack {
    /// `go.mod`.
    Go,
    /// `package.json` of a service (Node.js, TypeScript).
    Node,
    /// `package.json` of a front-end built by Vite (React).
    Frontend,
    /// `requirements.txt` or `pyproject.toml`.
    Python,
    /// `Cargo.toml`.
    Rust,
    /// HTML files and nothing to build.
    Static,
}

impl Stack {
    /// A short lower-case name: `go`, `node`, `frontend`, `python`,
    /// `rust`, `static`.
    pub fn key(self) -> &'static str {
        match self {
            Self::Go => "go",
            Self::Node => "node",
            Self::Frontend => "frontend",
            Self::Python => "python",
            Self::Rust => "rust",
            Self::Static => "static",
        }
    }
}

/// What the earlier files say about the project.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Project<'a> {
    /// The stack, if the files are a project at all.
    pub stack: Option<Stack>,
    /// The Dockerfile's text, if there is one.
    pub dockerfile: Option<&'a str>,
    /// The port the Dockerfile exposes.
    pub port: Option<u16>,
    /// The non-root user id the image runs as.
    pub user: Option<u32>,
    /// The health path the sources define (`/healthz` or `/health`).
    pub health_path: Option<&'static str>,
    /// Whether the project has tests of its own (or, for a static site,
    /// pages an HTML checker can check).
    pub has_tests: bool,
    /// Whether `package-lock.json` is there (so `npm ci` can run).
    pub npm_lock: bool,
    /// The environment variables the sources read, sorted.
    pub env: Vec<String>,
}

impl<'a> Project<'a> {
    /// Reads the files an earlier agent wrote.
    pub fn read(files: &'a [File]) -> Self {
        let has = |path: &str| files.iter().any(|f| f.path == path);
        let text = |path: &str| {
            files
                .iter()
                .find(|f| f.path == path)
                .and_then(File::as_text)
                .unwrap_or("")
        };
        let package = text("package.json");
        let stack = if has("go.mod") {
            Some(Stack::Go)
        } else if has("Cargo.toml") {
            Some(Stack::Rust)
        } else if has("package.json") {
            Some(if package.contains("\"vite\"") {
                Stack::Frontend
            } else {
                Stack::Node
            })
        } else if has("requirements.txt") || has("pyproject.toml") {
            Some(Stack::Python)
        } else if files.iter().any(|f| f.path.ends_with(".html")) {
            Some(Stack::Static)
        } else {
            None
        };
        let has_tests = match stack {
            Some(Stack::Go) => files.iter().any(|f| f.path.ends_with("_test.go")),
            Some(Stack::Node | Stack::Frontend) => package.contains("\"test\":"),
            Some(Stack::Python) => files.iter().any(|f| is_python_test(&f.path)),
            Some(Stack::Rust) => files.iter().any(|f| {
                f.path.ends_with(".rs") && f.as_text().is_some_and(|t| t.contains("#[test]"))
            }),
            Some(Stack::Static) => true,
            None => false,
        };
        let dockerfile = settings::dockerfile(files);
        Self {
            stack,
            dockerfile,
            port: dockerfile.and_then(settings::exposed_port),
            user: dockerfile.and_then(settings::image_user),
            health_path: settings::health_path(files),
            has_tests,
            npm_lock: has("package-lock.json"),
            env: environment(files),
        }
    }

    /// Whether the sources read `name` from the environment.
    pub fn reads(&self, name: &str) -> bool {
        self.env.iter().any(|n| n == name)
    }
}

fn is_python_test(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    path.ends_with(".py") && (name.starts_with("test_") || name.ends_with("_test.py"))
}

/// Source files whose quoted names count as environment variables.
const SOURCE_EXTENSIONS: &[&str] = &[".go", ".ts", ".js", ".py", ".rs"];

/// Whether a path is a test, whose names are fixtures rather than what the
/// service reads.
fn is_test_path(path: &str) -> bool {
    path.starts_with("test/")
        || path.starts_with("tests/")
        || path.contains("/test/")
        || path.contains("/tests/")
        || path.ends_with("_test.go")
        || path.contains(".test.")
        || is_python_test(path)
}

/// The environment variables the service's sources name: every quoted
/// `UPPER_SNAKE` name (with at least one `_`) and `"PORT"`, and every such
/// name read as `env.NAME`, in a source file that is not a test. The stack agents read their configuration
/// through one function per project, so the names stand quoted there.
fn environment(files: &[File]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for file in files {
        if !SOURCE_EXTENSIONS.iter().any(|e| file.path.ends_with(e)) || is_test_path(&file.path) {
            continue;
        }
        let Some(text) = file.as_text() else { continue };
        // `env.NAME`, as TypeScript reads `process.env` or an object.
        for part in text.split("env.").skip(1) {
            let name: String = part
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if is_env_name(&name) && !names.contains(&name) {
                names.push(name);
            }
        }
        for quote in ['"', '\''] {
            for (index, part) in text.split(quote).enumerate() {
                if index % 2 == 1 && is_env_name(part) && !names.iter().any(|n| n == part) {
                    names.push(part.to_string());
                }
            }
        }
    }
    names.sort();
    names
}

fn is_env_name(text: &str) -> bool {
    let valid = text.len() <= 64
        && text.starts_with(|c: char| c.is_ascii_uppercase())
        && text
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && !text.ends_with('_')
        && !text.contains("__");
    valid && (text == "PORT" || text.contains('_'))
}

/// Whether an environment variable holds a secret: keys, passwords,
/// tokens, and `DATABASE_URL`, which carries the database's credentials.
pub fn is_secret(name: &str) -> bool {
    name == "DATABASE_URL"
        || ["SECRET", "PASSWORD", "TOKEN", "KEY"]
            .iter()
            .any(|word| name.split('_').any(|part| part == *word))
}

/// What the intent asks of the infrastructure agents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wants {
    /// The words the intent's description, requirements and constraints
    /// are read from (`qlp-intent-spec`'s feature tokens).
    tokens: Vec<String>,
    /// The database the intent names, if any.
    pub database: Option<Database>,
    /// The spec of the intent, as the stack agents read it.
    pub spec: IntentSpec,
}

impl Wants {
    /// Reads the intent; `EMPTY_INTENT` for a blank description.
    pub fn read(intent: &Intent) -> Result<Self, qlp_sdk::PluginError> {
        let spec = qlp_intent_spec::analyze(intent)?;
        let enabled = enabled_constraints(intent);
        let tokens = feature_tokens(&spec.description, &spec.requirements, &enabled);
        Ok(Self {
            tokens,
            database: spec.database,
            spec,
        })
    }

    /// Whether any of `words` is named, other than right after "no",
    /// "not" or "without".
    pub fn names(&self, words: &[&str]) -> bool {
        mentions_any(&self.tokens, words)
    }

    /// Whether any of `words` is named right after "no", "not" or
    /// "without": the intent turns that infrastructure off.
    pub fn refuses(&self, words: &[&str]) -> bool {
        self.tokens.windows(2).any(|pair| {
            ["no", "not", "without"].contains(&pair[0].as_str())
                && words.contains(&pair[1].as_str())
        })
    }

    /// The first host name the intent gives: a `host`/`domain` constraint,
    /// else a word of the description with a dot and a known top-level
    /// label (`api.example.com`).
    pub fn host(&self, intent: &Intent) -> Option<String> {
        let valid = |text: &str| {
            let text = text.trim().trim_end_matches('.').to_ascii_lowercase();
            settings::subdomain_problem(&text, true)
                .is_none()
                .then_some(text)
                .filter(|t| t.contains('.'))
        };
        let named = enabled_constraints(intent)
            .into_iter()
            .filter(|(name, _)| {
                let name = name.to_ascii_lowercase();
                name.contains("host") || name.contains("domain")
            })
            .find_map(|(_, value)| valid(value));
        named.or_else(|| {
            std::iter::once(intent.description.as_str())
                .chain(intent.requirements.iter().map(String::as_str))
                .flat_map(str::split_whitespace)
                .map(|word| word.trim_matches(|c: char| !c.is_ascii_alphanumeric()))
                .filter(|word| {
                    word.rsplit('.').next().is_some_and(|tld| {
                        [
                            "com", "org", "net", "io", "dev", "app", "cloud", "internal", "local",
                        ]
                        .contains(&tld.to_ascii_lowercase().as_str())
                    })
                })
                .find_map(valid)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intent(description: &str, constraints: &[(&str, &str)]) -> Intent {
        Intent {
            id: "00000000-0000-0000-0000-000000000000".into(),
            description: description.into(),
            requirements: vec![],
            constraints: constraints
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            tier: "standard".into(),
        }
    }

    #[test]
    fn the_stack_comes_from_the_manifest_files() {
        type Case<'a> = (&'a [(&'a str, &'a str)], Option<Stack>, bool);
        let cases: [Case<'_>; 6] = [
            (
                &[("go.mod", "module x\n"), ("main_test.go", "")],
                Some(Stack::Go),
                true,
            ),
            (
                &[("package.json", "{\"scripts\": {\"test\": \"node --test\"}}")],
                Some(Stack::Node),
                true,
            ),
            (
                &[("package.json", "{\"devDependencies\": {\"vite\": \"5\"}}")],
                Some(Stack::Frontend),
                false,
            ),
            (
                &[
                    ("requirements.txt", "fastapi\n"),
                    ("tests/test_health.py", ""),
                ],
                Some(Stack::Python),
                true,
            ),
            (
                &[("index.html", "<!doctype html>")],
                Some(Stack::Static),
                true,
            ),
            (&[("README.md", "# notes")], None, false),
        ];
        for (files, stack, tests) in cases {
            let files: Vec<File> = files.iter().map(|(p, t)| File::text(*p, *t)).collect();
            let project = Project::read(&files);
            assert_eq!(project.stack, stack, "{files:?}");
            assert_eq!(project.has_tests, tests, "{files:?}");
        }
    }

    #[test]
    fn the_environment_is_what_non_test_sources_quote() {
        let files = vec![
            File::text(
                "config.go",
                "cfg.Port = getenv(\"PORT\")\nx := getenv(\"DATABASE_URL\")\ny := \"JWT_SECRET\"\nz := \"GET\"\n",
            ),
            File::text(
                "src/config.ts",
                "const port = env.PORT;\nconst key = process.env.AUTH_PASSWORD;\n",
            ),
            File::text("config_test.go", "t.Setenv(\"TEST_ONLY_VALUE\", \"x\")\n"),
            File::text("README.md", "set \"DOC_ONLY\"\n"),
        ];
        let project = Project::read(&files);
        assert_eq!(
            project.env,
            ["AUTH_PASSWORD", "DATABASE_URL", "JWT_SECRET", "PORT"]
        );
        assert!(is_secret("DATABASE_URL") && is_secret("JWT_SECRET") && is_secret("AUTH_PASSWORD"));
        assert!(!is_secret("PORT") && !is_secret("JWT_EXPIRES_SECONDS"));
    }

    #[test]
    fn words_count_unless_negated_and_hosts_are_read() {
        let wants = Wants::read(&intent(
            "A Go API for notes on Kubernetes, without docker",
            &[],
        ))
        .expect("valid");
        assert!(wants.names(KUBERNETES_WORDS));
        assert!(!wants.names(&["docker"]));
        assert!(wants.refuses(COMPOSE_WORDS));
        let public = intent("A notes API served publicly at api.notes.example.com.", &[]);
        let wants = Wants::read(&public).expect("valid");
        assert_eq!(
            wants.host(&public).as_deref(),
            Some("api.notes.example.com")
        );
        let named = intent("A notes API", &[("domain", "Notes.Example.org")]);
        assert_eq!(
            Wants::read(&named).expect("valid").host(&named).as_deref(),
            Some("notes.example.org")
        );
        assert_eq!(wants.host(&intent("see main.go", &[])), None);
    }
}
