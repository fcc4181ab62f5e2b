//! Word handling for reading an intent: splitting free text into lower-case
//! tokens, the stop-word lists that keep technical vocabulary ("service",
//! "jwt", "postgres", "golang", "express") from being taken for a resource,
//! the small English singular/plural rules that turn `categories` into
//! `category`, and the casing helpers every stack needs (`unit_price` →
//! `UnitPrice`, `unitPrice`).
//!
//! The rules are deliberately simple and table-driven so that the same text
//! always gives the same names; they do not try to be a full inflector.

/// Shortest token that can name a resource. Shorter words ("id", "ui", "s"
/// left over from "invoice's") are almost never nouns worth an endpoint.
pub const MIN_RESOURCE_LEN: usize = 3;

/// Longest token that can name a resource. Longer runs of letters are
/// usually pasted identifiers or noise, and they would make unwieldy
/// identifiers and URLs.
pub const MAX_RESOURCE_LEN: usize = 32;

/// Words that never name a resource, by group: grammar, verbs of asking,
/// the vocabulary of web services, stacks, auth, storage and tooling.
const STOP_WORD_GROUPS: &[&[&str]] = &[
    GRAMMAR_WORDS,
    ASKING_WORDS,
    WEB_WORDS,
    STACK_WORDS,
    QUALITY_WORDS,
    AUTH_WORDS,
    STORAGE_WORDS,
    TOOLING_WORDS,
    TIME_WORDS,
    CLOUD_WORDS,
];

/// The groups of [`STOP_WORD_GROUPS`] that also keep a word out of a field
/// name: grammar and technical words read as prose ("and JWT auth"), while
/// qualities and tooling words make good fields ("full name", "status").
const PROSE_WORD_GROUPS: &[&[&str]] = &[
    GRAMMAR_WORDS,
    ASKING_WORDS,
    WEB_WORDS,
    STACK_WORDS,
    AUTH_WORDS,
    STORAGE_WORDS,
    CLOUD_WORDS,
];

/// Grammar.
const GRAMMAR_WORDS: &[&str] = &[
    "a", "about", "across", "all", "also", "an", "and", "any", "are", "as", "at", "be", "both",
    "but", "by", "can", "could", "do", "does", "each", "either", "etc", "every", "for", "from",
    "has", "have", "having", "i", "in", "into", "is", "it", "its", "like", "me", "must", "my",
    "need", "needs", "new", "no", "not", "of", "on", "or", "our", "per", "please", "plus",
    "should", "so", "some", "such", "than", "that", "the", "their", "them", "then", "these",
    "this", "those", "to", "us", "using", "via", "want", "wants", "was", "we", "which", "while",
    "who", "will", "with", "within", "without", "would", "you", "your",
];

/// Verbs of asking for software.
const ASKING_WORDS: &[&str] = &[
    "add",
    "adds",
    "allow",
    "allowing",
    "allows",
    "build",
    "builds",
    "create",
    "creates",
    "delete",
    "deletes",
    "design",
    "develop",
    "edit",
    "expose",
    "exposes",
    "exposing",
    "generate",
    "generates",
    "get",
    "gets",
    "handle",
    "handles",
    "handling",
    "implement",
    "implements",
    "let",
    "lets",
    "list",
    "lists",
    "make",
    "makes",
    "manage",
    "manages",
    "managing",
    "management",
    "provide",
    "provides",
    "providing",
    "read",
    "reads",
    "remove",
    "removes",
    "store",
    "stores",
    "storing",
    "support",
    "supports",
    "supporting",
    "track",
    "tracks",
    "tracking",
    "update",
    "updates",
    "use",
    "uses",
    "write",
    "writes",
];

/// Web services.
const WEB_WORDS: &[&str] = &[
    "api",
    "apis",
    "app",
    "apps",
    "application",
    "applications",
    "backend",
    "backends",
    "crud",
    "endpoint",
    "endpoints",
    "fastapi",
    "http",
    "https",
    "json",
    "microservice",
    "microservices",
    "openapi",
    "python",
    "rest",
    "restful",
    "route",
    "routes",
    "router",
    "routers",
    "server",
    "servers",
    "service",
    "services",
    "swagger",
    "web",
    "webservice",
];

/// Languages, frameworks and kinds of project: the stack is chosen by
/// the planner, it is never a resource.
const STACK_WORDS: &[&str] = &[
    "angular",
    "axum",
    "cli",
    "django",
    "express",
    "expressjs",
    "fastify",
    "flask",
    "frontend",
    "gin",
    "go",
    "golang",
    "java",
    "javascript",
    "js",
    "kotlin",
    "library",
    "mux",
    "net",
    "node",
    "nodejs",
    "npm",
    "react",
    "rust",
    "spring",
    "stdlib",
    "standard",
    "svelte",
    "ts",
    "typescript",
    "vue",
];

/// Qualities.
const QUALITY_WORDS: &[&str] = &[
    "async",
    "asynchronous",
    "basic",
    "complete",
    "full",
    "minimal",
    "production",
    "ready",
    "secure",
    "security",
    "simple",
    "small",
    "sync",
];

/// Auth.
const AUTH_WORDS: &[&str] = &[
    "auth",
    "auths",
    "authentication",
    "authenticated",
    "authorization",
    "bearer",
    "jwt",
    "jwts",
    "login",
    "logins",
    "oauth",
    "oauth2",
    "password",
    "passwords",
    "token",
    "tokens",
];

/// Storage.
const STORAGE_WORDS: &[&str] = &[
    "database",
    "databases",
    "db",
    "mariadb",
    "mongo",
    "mongodb",
    "mysql",
    "persistence",
    "pg",
    "postgres",
    "postgresql",
    "redis",
    "sql",
    "sqlite",
    "storage",
];

/// Tooling and engineering.
const TOOLING_WORDS: &[&str] = &[
    "config",
    "configuration",
    "container",
    "containers",
    "detail",
    "details",
    "docker",
    "dockerfile",
    "docs",
    "documentation",
    "error",
    "errors",
    "feature",
    "features",
    "field",
    "fields",
    "filter",
    "filtering",
    "filters",
    "header",
    "headers",
    "health",
    "ids",
    "k8s",
    "kubernetes",
    "logging",
    "logs",
    "metrics",
    "model",
    "models",
    "monitoring",
    "operation",
    "operations",
    "option",
    "options",
    "pagination",
    "parameters",
    "params",
    "pydantic",
    "pytest",
    "queries",
    "request",
    "requests",
    "requirement",
    "requirements",
    "response",
    "responses",
    "schema",
    "schemas",
    "setting",
    "settings",
    "sorting",
    "status",
    "test",
    "testing",
    "tests",
    "type",
    "types",
    "unit",
    "uvicorn",
    "validation",
    "validations",
    "version",
    "versions",
];

/// Clouds, their services and infrastructure as code: where a service is
/// deployed is never one of its resources ("deployed on AWS with
/// Terraform" names no `aws` resource, though the word ends in `s`).
const CLOUD_WORDS: &[&str] = &[
    "amazon",
    "aws",
    "azure",
    "cloud",
    "ec2",
    "ecs",
    "eks",
    "fargate",
    "gcp",
    "iac",
    "infrastructure",
    "opentofu",
    "rds",
    "s3",
    "terraform",
    "tofu",
    "vpc",
    "vpcs",
];

/// Units of time, as in "tokens that expire after 30 minutes".
const TIME_WORDS: &[&str] = &[
    "days", "hours", "minutes", "months", "seconds", "weeks", "years",
];

/// Plural nouns that name a resource only when the intent names no other
/// one: "invoices for users" is about invoices, "manage users" about users.
pub const WEAK_RESOURCES: &[&str] = &["accounts", "users"];

/// Words between a marker ("for", "manage") and the noun it introduces.
const FILLER_WORDS: &[&str] = &[
    "a", "an", "the", "my", "our", "your", "their", "simple", "basic", "small", "new", "tiny",
];

/// Words after which a singular noun names the resource when the intent has
/// no plural noun at all: "an API for inventory", "manage stock".
const MARKER_WORDS: &[&str] = &["for", "manage", "managing", "of", "track", "tracking"];

/// Plurals that the suffix rules would get wrong, with their singulars.
const IRREGULAR_PLURALS: &[(&str, &str)] = &[
    ("analyses", "analysis"),
    ("buses", "bus"),
    ("caches", "cache"),
    ("calories", "calorie"),
    ("children", "child"),
    ("cookies", "cookie"),
    ("heroes", "hero"),
    ("indices", "index"),
    ("men", "man"),
    ("menus", "menu"),
    ("movies", "movie"),
    ("people", "person"),
    ("potatoes", "potato"),
    ("series", "series"),
    ("species", "species"),
    ("statuses", "status"),
    ("tomatoes", "tomato"),
    ("women", "woman"),
    ("zombies", "zombie"),
];

/// Splits text into lower-case ASCII alphanumeric tokens; every other
/// character separates tokens.
pub fn tokenize(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|token| !token.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

/// Whether the token never names a resource.
pub fn is_stop_word(token: &str) -> bool {
    STOP_WORD_GROUPS.iter().any(|group| group.contains(&token))
}

/// Whether the token is a verb of asking for software ("create",
/// "tracking"), which may still qualify a noun in a field name.
pub fn is_asking_word(token: &str) -> bool {
    ASKING_WORDS.contains(&token)
}

/// Whether the token reads as grammar or technical vocabulary, so that a
/// list part containing it is prose rather than a field name.
pub fn is_prose_word(token: &str) -> bool {
    PROSE_WORD_GROUPS.iter().any(|group| group.contains(&token))
}

/// Whether the token may stand between a marker word and its noun.
pub fn is_filler(token: &str) -> bool {
    FILLER_WORDS.contains(&token)
}

/// Whether the token introduces the noun that follows it.
pub fn is_marker(token: &str) -> bool {
    MARKER_WORDS.contains(&token)
}

/// Whether the token can become an identifier in every generated language,
/// a file name and a URL segment as it is: ASCII letters and digits, starting with a letter,
/// of a sensible length.
pub fn is_name_like(token: &str) -> bool {
    let starts_with_letter = token.chars().next().is_some_and(|c| c.is_ascii_lowercase());
    starts_with_letter
        && (MIN_RESOURCE_LEN..=MAX_RESOURCE_LEN).contains(&token.len())
        && token
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

/// Whether a lower-case word reads as an English plural: a known irregular
/// plural, or a word ending in `s` that does not end in `ss`, `us` or `is`
/// ("address", "status", "analysis" are singular).
pub fn is_plural(word: &str) -> bool {
    if IRREGULAR_PLURALS.iter().any(|(plural, _)| *plural == word) {
        return true;
    }
    word.len() > 1
        && word.ends_with('s')
        && !word.ends_with("ss")
        && !word.ends_with("us")
        && !word.ends_with("is")
}

/// The singular of a lower-case plural: irregulars from the table, then
/// `-ies` → `-y`, `-sses`/`-shes`/`-ches`/`-xes` → drop `-es`, else drop the
/// final `s`. A word that is not plural is returned unchanged.
pub fn singularize(word: &str) -> String {
    if let Some((_, singular)) = IRREGULAR_PLURALS.iter().find(|(plural, _)| *plural == word) {
        return (*singular).to_string();
    }
    if !is_plural(word) {
        return word.to_string();
    }
    if let Some(stem) = word.strip_suffix("ies")
        && stem.len() >= 2
    {
        return format!("{stem}y");
    }
    for suffix in ["sses", "shes", "ches", "xes"] {
        if word.ends_with(suffix) {
            return word[..word.len() - 2].to_string();
        }
    }
    word[..word.len() - 1].to_string()
}

/// The plural of a lower-case singular: irregulars from the table, then a
/// consonant + `y` → `-ies`, `s`/`x`/`z`/`ch`/`sh` → `-es`, else `-s`.
pub fn pluralize(word: &str) -> String {
    if let Some((plural, _)) = IRREGULAR_PLURALS
        .iter()
        .find(|(_, singular)| *singular == word)
    {
        return (*plural).to_string();
    }
    let bytes = word.as_bytes();
    if let [.., before, b'y'] = bytes
        && !b"aeiou".contains(before)
    {
        return format!("{}ies", &word[..word.len() - 1]);
    }
    if ["s", "x", "z", "ch", "sh"]
        .iter()
        .any(|suffix| word.ends_with(suffix))
    {
        return format!("{word}es");
    }
    format!("{word}s")
}

/// The word with its first letter in upper case: `invoice` → `Invoice`.
pub fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

/// `unit_price` → `UnitPrice`: every `_`-separated part capitalized.
pub fn pascal_case(snake: &str) -> String {
    snake.split('_').map(capitalize).collect()
}

/// `unit_price` → `unitPrice`: like [`pascal_case`] with the first part
/// left in lower case.
pub fn camel_case(snake: &str) -> String {
    let mut parts = snake.split('_');
    let first = parts.next().unwrap_or_default().to_string();
    first + &parts.map(capitalize).collect::<String>()
}

/// `unit_price` → `unit price`, for prose.
pub fn spaced(snake: &str) -> String {
    snake.replace('_', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenize_lowercases_and_splits_on_punctuation() {
        assert_eq!(
            tokenize("Create a FastAPI service for invoices, with JWT-auth!"),
            [
                "create", "a", "fastapi", "service", "for", "invoices", "with", "jwt", "auth"
            ]
        );
        assert_eq!(tokenize("  élan  "), ["lan"]);
        assert!(tokenize("   ").is_empty());
    }

    #[test]
    fn singularize_handles_common_english_plurals() {
        let cases = [
            ("invoices", "invoice"),
            ("orders", "order"),
            ("categories", "category"),
            ("addresses", "address"),
            ("boxes", "box"),
            ("branches", "branch"),
            ("dishes", "dish"),
            ("people", "person"),
            ("movies", "movie"),
            ("statuses", "status"),
            ("prizes", "prize"),
            ("courses", "course"),
            ("mp3s", "mp3"),
        ];
        for (plural, singular) in cases {
            assert_eq!(singularize(plural), singular, "singular of {plural}");
        }
    }

    #[test]
    fn singular_words_are_not_taken_for_plurals() {
        for word in ["address", "status", "analysis", "customer", "inventory"] {
            assert!(!is_plural(word), "{word} is singular");
            assert_eq!(singularize(word), word);
        }
    }

    #[test]
    fn pluralize_inverts_singularize_for_regular_nouns() {
        for plural in [
            "invoices",
            "categories",
            "addresses",
            "boxes",
            "branches",
            "days",
            "people",
        ] {
            assert_eq!(pluralize(&singularize(plural)), plural);
        }
        assert_eq!(pluralize("inventory"), "inventories");
    }

    #[test]
    fn casing_helpers_join_snake_case_parts() {
        assert_eq!(pascal_case("unit_price"), "UnitPrice");
        assert_eq!(camel_case("unit_price"), "unitPrice");
        assert_eq!(camel_case("sku"), "sku");
        assert_eq!(spaced("warehouse_location"), "warehouse location");
    }

    #[test]
    fn stack_words_are_never_resources() {
        for word in ["go", "golang", "express", "typescript", "node", "mongodb"] {
            assert!(is_stop_word(word), "{word} is a stop word");
        }
    }

    #[test]
    fn cloud_words_are_never_resources() {
        for word in ["aws", "ecs", "rds", "vpcs", "terraform"] {
            assert!(
                is_stop_word(word) && is_prose_word(word),
                "{word} is a stop word"
            );
        }
    }

    #[test]
    fn names_must_start_with_a_letter_and_fit_the_length_limits() {
        assert!(is_name_like("invoices"));
        assert!(is_name_like("mp3s"));
        assert!(!is_name_like("3ds"));
        assert!(!is_name_like("id"));
        assert!(!is_name_like(&"a".repeat(MAX_RESOURCE_LEN + 1)));
    }
}
