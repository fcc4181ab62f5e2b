//! Naming the stack of an intent for choosing the agents that serve it:
//! the language (or language-like target such as Terraform) and the kind
//! of project (service, front-end, CLI, static site, infrastructure).
//!
//! Matching is by whole words of the normalised intent text (see
//! `text_of`), never by substring: "django" does not name Go, nor "mongo".
//! A few words are ambiguous in English and only count in context:
//!
//! - "go" names the language after "in", "a", "using", "with", "pure",
//!   "idiomatic" or "written", or before a word of software ("go api",
//!   "go service"); "ready to go" and "go live" do not;
//! - "react" does not count before "to" or "when" ("react to events");
//! - "spring" counts only in "spring boot".

/// Languages and language-like targets, in the order they are reported,
/// with the words that name them unambiguously.
const LANGUAGES: &[(&str, &[&str])] = &[
    ("go", &["golang"]),
    (
        "python",
        &[
            "python", "python3", "fastapi", "django", "flask", "pydantic",
        ],
    ),
    ("typescript", &["typescript", "ts", "nestjs", "deno"]),
    (
        "node",
        &["node", "nodejs", "express", "expressjs", "fastify", "npm"],
    ),
    ("javascript", &["javascript"]),
    ("rust", &["rust", "axum", "actix", "actix-web", "tokio"]),
    (
        "java",
        &[
            "java",
            "spring-boot",
            "springboot",
            "maven",
            "gradle",
            "jvm",
        ],
    ),
    ("kotlin", &["kotlin", "ktor"]),
    ("csharp", &["csharp", "dotnet", "asp-net"]),
    ("ruby", &["ruby", "rails"]),
    ("php", &["php", "laravel", "symfony"]),
    ("cobol", &["cobol", "mainframe", "cics"]),
    ("terraform", &["terraform", "opentofu", "hcl"]),
];

/// Kinds of project with the words and phrases that mark them, in the
/// order they are reported.
const KINDS: &[(&str, &[&str])] = &[
    (
        "infrastructure",
        &[
            "terraform",
            "opentofu",
            "cloudformation",
            "pulumi",
            "vpc",
            "helm",
            "infrastructure",
            "iac",
        ],
    ),
    (
        "frontend",
        &[
            "react",
            "vue",
            "angular",
            "svelte",
            "dashboard",
            "frontend",
            "front-end",
            "spa",
            "single page app",
            "single-page app",
            "single page application",
            "web ui",
        ],
    ),
    (
        "cli",
        &["cli", "command line", "command-line", "terminal tool"],
    ),
    (
        "static-site",
        &[
            "static site",
            "static website",
            "static page",
            "static html",
            "landing page",
            "brochure",
            "html page",
        ],
    ),
    (
        "service",
        &[
            "api",
            "apis",
            "rest",
            "restful",
            "service",
            "microservice",
            "microservices",
            "backend",
            "back-end",
            "server",
            "endpoint",
            "endpoints",
            "graphql",
            "grpc",
        ],
    ),
];

/// Clouds an infrastructure intent may target.
const CLOUDS: &[(&str, &[&str])] = &[
    ("aws", &["aws", "amazon"]),
    ("gcp", &["gcp", "google cloud"]),
    ("azure", &["azure"]),
];

/// Words before "go" that make it the language.
const GO_BEFORE: &[&str] = &[
    "a",
    "an",
    "in",
    "idiomatic",
    "pure",
    "using",
    "with",
    "written",
];

/// Words after "go" that make it the language.
const GO_AFTER: &[&str] = &[
    "api",
    "app",
    "application",
    "backend",
    "cli",
    "code",
    "http",
    "library",
    "microservice",
    "module",
    "program",
    "project",
    "rest",
    "server",
    "service",
    "web",
];

/// Whether the normalised text (words separated by single spaces, with a
/// space at each end) holds the word or phrase as whole words.
fn has(text: &str, phrase: &str) -> bool {
    text.contains(&format!(" {phrase} "))
}

fn tokens(text: &str) -> Vec<&str> {
    text.split_whitespace().collect()
}

/// Whether "go" is used as the language's name.
fn names_go(words: &[&str]) -> bool {
    words.iter().enumerate().any(|(i, word)| {
        *word == "go"
            && ((i > 0 && GO_BEFORE.contains(&words[i - 1]))
                || words.get(i + 1).is_some_and(|next| GO_AFTER.contains(next)))
    })
}

/// Whether "react" names the library rather than the verb.
pub fn names_react(text: &str) -> bool {
    let words = tokens(text);
    words.iter().enumerate().any(|(i, word)| {
        (*word == "react" || *word == "reactjs")
            && !matches!(words.get(i + 1), Some(&"to") | Some(&"when"))
    })
}

/// The languages, kinds of project and clouds the normalised text names,
/// in that order, each once.
pub fn detect(text: &str) -> Vec<String> {
    let words = tokens(text);
    let mut found: Vec<String> = Vec::new();
    for (name, names) in LANGUAGES {
        let named = names.iter().any(|w| has(text, w))
            || (*name == "go" && names_go(&words))
            || (*name == "java" && has(text, "spring boot"));
        if named {
            found.push((*name).to_owned());
        }
    }
    for (kind, marks) in KINDS {
        let marked = marks
            .iter()
            .any(|m| has(text, m) && (*m != "react" || names_react(text)));
        if marked {
            found.push((*kind).to_owned());
        }
    }
    for (cloud, names) in CLOUDS {
        if names.iter().any(|w| has(text, w)) {
            found.push((*cloud).to_owned());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text as `text_of` normalises it.
    fn normalised(text: &str) -> String {
        let cleaned: String = text
            .to_lowercase()
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || c == '-' {
                    c
                } else {
                    ' '
                }
            })
            .collect();
        format!(
            " {} ",
            cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
        )
    }

    fn stack(text: &str) -> Vec<String> {
        detect(&normalised(text))
    }

    #[test]
    fn each_stack_of_the_issue_is_named() {
        let cases: &[(&str, &[&str])] = &[
            (
                "Create a Go REST API for inventory management",
                &["go", "service"],
            ),
            ("Build a React dashboard", &["frontend"]),
            ("Create a Node.js Express service", &["node", "service"]),
            ("A Rust CLI tool", &["rust", "cli"]),
            ("a static landing page", &["static-site"]),
            (
                "Terraform for an AWS VPC",
                &["terraform", "infrastructure", "aws"],
            ),
            (
                "A TypeScript API on Fastify",
                &["typescript", "node", "service"],
            ),
            ("A Java Spring Boot service", &["java", "service"]),
            ("A FastAPI service for invoices", &["python", "service"]),
            ("Payroll in COBOL on a mainframe", &["cobol"]),
        ];
        for (intent, expected) in cases {
            assert_eq!(stack(intent), *expected, "{intent}");
        }
    }

    #[test]
    fn go_is_named_only_as_the_language() {
        assert_eq!(stack("A service in Go")[0], "go");
        assert_eq!(stack("golang microservice")[0], "go");
        assert_eq!(stack("Write it in idiomatic Go, please")[0], "go");
        for intent in [
            "A Django service with MongoDB",
            "We go live next week with this service",
            "An API that is ready to go",
            "A go-to list of mongo tips",
            "Track cargo shipments",
        ] {
            let found = stack(intent);
            assert!(!found.contains(&"go".to_owned()), "{intent}: {found:?}");
            assert!(!found.contains(&"rust".to_owned()), "{intent}: {found:?}");
        }
        assert_eq!(
            stack("A Django service with MongoDB"),
            ["python", "service"]
        );
    }

    #[test]
    fn react_as_a_verb_and_spring_as_a_season_do_not_count() {
        assert!(names_react(&normalised("Build a React dashboard")));
        assert!(!names_react(&normalised(
            "A service that can react to events"
        )));
        assert_eq!(stack("A spring sale landing page"), ["static-site"]);
    }
}
