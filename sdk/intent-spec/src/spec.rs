//! The [`IntentSpec`] of an intent, and [`analyze`], which reads it.
//!
//! Resources come from the description only. They are, in order of first
//! appearance:
//!
//! 1. every plural noun that is not a stop word ("invoices and customers"
//!    gives two resources; "customer orders" gives `orders`, because the
//!    singular "customer" only qualifies it), with `users`/`accounts` kept
//!    only when nothing else is named, and without the nouns that are
//!    field names ("products with names and prices" is about products);
//! 2. if there is none, the head of the noun phrase after "for", "of",
//!    "manage" or "track", pluralized ("an API for warehouse inventory"
//!    gives `inventories`);
//! 3. if there is still none, `items`.
//!
//! Fields come from the description, the requirements and the `fields`
//! constraints (see [`crate::fields`]). A resource the intent gives no
//! fields gets `name` (required), `description` (optional) and, for things
//! that are a sum of money or sold, `amount` or `price`.
//!
//! Features are read from the description, the requirements and the named
//! constraints (name and value together, so `("database", "PostgreSQL")`
//! asks for a database) at once; a feature word right after "no", "not" or
//! "without" does not count ("without auth"), nor does a constraint whose
//! value is "none", "no", "off", "false" or "disabled".

use crate::fields::{self, Field, FieldKind, Mention};
use crate::words;
use qlp_sdk::{Intent, PluginError};

/// Most resources one generated service gets. Each adds handlers, a model
/// and tests; an intent that seems to name more is usually prose, and a
/// longer project is harder to review.
pub const MAX_RESOURCES: usize = 4;

/// Most fields one resource gets. More is usually a sentence misread as a
/// list, and a model that wide is better designed by hand.
pub const MAX_FIELDS: usize = 12;

/// The resource used when the intent names none.
pub const FALLBACK_RESOURCE: &str = "items";

/// Longest project name; it becomes a Go module path, an npm package name
/// and a Docker image name, which all have practical length limits.
pub const MAX_NAME_LEN: usize = 48;

/// Words that ask for JWT authentication.
pub const AUTH_WORDS: &[&str] = &[
    "auth",
    "authenticated",
    "authentication",
    "authorization",
    "bearer",
    "jwt",
    "jwts",
    "login",
    "oauth",
    "oauth2",
    "token",
    "tokens",
];

/// Words that ask for a database, and which one. Generic words give
/// PostgreSQL, the default.
const DATABASE_WORDS: &[(&str, Database)] = &[
    ("database", Database::Postgres),
    ("databases", Database::Postgres),
    ("db", Database::Postgres),
    ("mariadb", Database::Mysql),
    ("mongo", Database::Mongo),
    ("mongodb", Database::Mongo),
    ("mysql", Database::Mysql),
    ("pg", Database::Postgres),
    ("postgres", Database::Postgres),
    ("postgresql", Database::Postgres),
    ("sql", Database::Postgres),
    ("sqlite", Database::Sqlite),
    ("sqlite3", Database::Sqlite),
];

/// Words that cancel the feature word right after them.
const NEGATIONS: &[&str] = &["no", "not", "without"];

/// Constraint values that turn the named feature off, as in `("auth", "none")`.
pub const DISABLED_VALUES: &[&str] = &["", "disabled", "false", "n/a", "no", "none", "off"];

/// Constraint names that name the project.
const NAME_CONSTRAINTS: &[&str] = &["module", "name", "package", "project", "service"];

/// Singulars whose default model gets an `amount` field.
pub const AMOUNT_RESOURCES: &[&str] = &[
    "bill",
    "donation",
    "expense",
    "invoice",
    "order",
    "payment",
    "payout",
    "purchase",
    "quote",
    "refund",
    "sale",
    "transaction",
    "transfer",
];

/// Singulars whose default model gets a `price` field.
pub const PRICE_RESOURCES: &[&str] = &[
    "book",
    "course",
    "listing",
    "menu",
    "plan",
    "product",
    "service",
    "subscription",
    "ticket",
];

/// The database a `DATABASE_URL` seam is prepared for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Database {
    /// PostgreSQL, also the choice for "a database" in general.
    Postgres,
    /// MySQL or MariaDB.
    Mysql,
    /// SQLite.
    Sqlite,
    /// MongoDB.
    Mongo,
}

impl Database {
    /// The product's name, for prose.
    pub fn title(self) -> &'static str {
        match self {
            Self::Postgres => "PostgreSQL",
            Self::Mysql => "MySQL",
            Self::Sqlite => "SQLite",
            Self::Mongo => "MongoDB",
        }
    }

    /// A short lower-case identifier: `postgres`, `mysql`, `sqlite`, `mongo`.
    pub fn key(self) -> &'static str {
        match self {
            Self::Postgres => "postgres",
            Self::Mysql => "mysql",
            Self::Sqlite => "sqlite",
            Self::Mongo => "mongo",
        }
    }

    /// The URL schemes that select it in `DATABASE_URL`.
    pub fn schemes(self) -> &'static [&'static str] {
        match self {
            Self::Postgres => &["postgres", "postgresql"],
            Self::Mysql => &["mysql", "mariadb"],
            Self::Sqlite => &["sqlite", "sqlite3"],
            Self::Mongo => &["mongodb", "mongodb+srv"],
        }
    }

    /// An example `DATABASE_URL`, for documentation.
    pub fn example_url(self) -> &'static str {
        match self {
            Self::Postgres => "postgres://user:password@localhost:5432/app",
            Self::Mysql => "mysql://user:password@localhost:3306/app",
            Self::Sqlite => "sqlite:///var/lib/app/app.db",
            Self::Mongo => "mongodb://localhost:27017/app",
        }
    }
}

/// One resource of the generated API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// Lower-case plural: the URL segment and the name of its files.
    pub plural: String,
    /// Lower-case singular, for type names and prose.
    pub singular: String,
    /// Its fields besides `id`, at least one required.
    pub fields: Vec<Field>,
    /// Whether the intent named the fields (otherwise they are the defaults).
    pub fields_from_intent: bool,
}

impl Resource {
    /// The resource named by a plural noun, with the default fields.
    pub fn from_plural(plural: &str) -> Self {
        let singular = words::singularize(plural);
        let fields = default_fields(&singular);
        Self {
            plural: plural.to_string(),
            singular,
            fields,
            fields_from_intent: false,
        }
    }

    /// The field a test or an example fills first: the first required text
    /// field, else the first required field.
    pub fn key_field(&self) -> &Field {
        self.fields
            .iter()
            .find(|f| f.required && f.kind == FieldKind::Text)
            .or_else(|| self.fields.iter().find(|f| f.required))
            .unwrap_or(&self.fields[0])
    }

    /// "a" or "an" and the singular: "an invoice", "a user".
    pub fn a_singular(&self) -> String {
        let article = if self.singular.starts_with(['a', 'e', 'i', 'o']) {
            "an"
        } else {
            "a"
        };
        format!("{article} {}", self.singular)
    }
}

/// `name`, `description` and, by the kind of thing, `amount` or `price`.
fn default_fields(singular: &str) -> Vec<Field> {
    let mut description = Field::new(&["description"], FieldKind::Text);
    description.required = false;
    let mut fields = vec![Field::new(&["name"], FieldKind::Text), description];
    if AMOUNT_RESOURCES.contains(&singular) {
        fields.push(Field::new(&["amount"], FieldKind::Number));
    } else if PRICE_RESOURCES.contains(&singular) {
        fields.push(Field::new(&["price"], FieldKind::Number));
    }
    fields
}

/// What a generated service contains, whatever its language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntentSpec {
    /// The resources, at least one, at most [`MAX_RESOURCES`].
    pub resources: Vec<Resource>,
    /// Whether resource routes require a JWT bearer token.
    pub auth: bool,
    /// The database the `DATABASE_URL` seam is for, if one was asked for.
    pub database: Option<Database>,
    /// The port asked for ("on port 9090", `("port", "9090")`), if any.
    pub port: Option<u16>,
    /// The project's name: lower-case letters, digits and `-`.
    pub name: String,
    /// The intent's description, trimmed, for the README.
    pub description: String,
    /// The intent's requirements, trimmed, without empty ones.
    pub requirements: Vec<String>,
}

impl IntentSpec {
    /// "invoices", "invoices and customers", "books, authors and loans".
    pub fn resource_list(&self) -> String {
        let names: Vec<String> = self.resources.iter().map(|r| r.plural.clone()).collect();
        english_list(&names)
    }

    /// "Invoices Service", "Books and Authors Service".
    pub fn title(&self) -> String {
        let names: Vec<String> = self
            .resources
            .iter()
            .map(|r| words::capitalize(&r.plural))
            .collect();
        format!("{} Service", english_list(&names))
    }
}

/// "a", "a and b", "a, b and c".
pub fn english_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [only] => only.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Reads an intent. A description that is empty or only whitespace gives
/// `EMPTY_INTENT`.
pub fn analyze(intent: &Intent) -> Result<IntentSpec, PluginError> {
    let description = intent.description.trim();
    if description.is_empty() {
        return Err(PluginError::new(
            "EMPTY_INTENT",
            "the intent has no description to generate a service from",
        ));
    }
    let requirements: Vec<String> = intent
        .requirements
        .iter()
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
        .collect();

    let enabled = enabled_constraints(intent);
    let feature_tokens = feature_tokens(description, &requirements, &enabled);

    let candidates = extract_resources(&words::tokenize(description));
    let mentions = field_mentions(description, &requirements, &enabled, &candidates);
    let resources = attach_fields(candidates, mentions);

    Ok(IntentSpec {
        name: project_name(&enabled, &resources),
        port: port(&enabled, &feature_tokens),
        auth: mentions_any(&feature_tokens, AUTH_WORDS),
        database: database(&feature_tokens),
        resources,
        description: description.to_string(),
        requirements,
    })
}

/// The named constraints whose value does not turn them off: a constraint
/// counts by its name and value together, e.g. `("database", "PostgreSQL")`,
/// unless the value is one of [`DISABLED_VALUES`], e.g. `("auth", "none")`.
pub fn enabled_constraints(intent: &Intent) -> Vec<&(String, String)> {
    intent
        .constraints
        .iter()
        .filter(|(_, value)| !DISABLED_VALUES.contains(&value.trim().to_ascii_lowercase().as_str()))
        .collect()
}

/// The tokens features are read from: the description's, then each
/// requirement's and each enabled constraint's name and value. A separator
/// (an empty token) before each text keeps a negation at the end of one
/// text from cancelling a feature word at the start of the next.
pub fn feature_tokens(
    description: &str,
    requirements: &[String],
    enabled: &[&(String, String)],
) -> Vec<String> {
    let mut tokens = words::tokenize(description);
    for text in requirements.iter().cloned().chain(
        enabled
            .iter()
            .map(|(name, value)| format!("{name} {value}")),
    ) {
        tokens.push(String::new());
        tokens.extend(words::tokenize(&text));
    }
    tokens
}

/// The plural nouns of a description's tokens that name resources, in
/// order, repeats included: rule 1 of the module documentation.
pub fn named_plurals(tokens: &[String]) -> Vec<&str> {
    let mut strong: Vec<&str> = Vec::new();
    let mut weak: Vec<&str> = Vec::new();
    for token in tokens {
        if !words::is_name_like(token) || words::is_stop_word(token) || !words::is_plural(token) {
            continue;
        }
        let list = if words::WEAK_RESOURCES.contains(&token.as_str()) {
            &mut weak
        } else {
            &mut strong
        };
        list.push(token);
    }
    if strong.is_empty() { weak } else { strong }
}

/// The resources named by the tokens of a description (see the module
/// documentation for the rules), with their default fields.
pub fn extract_resources(tokens: &[String]) -> Vec<Resource> {
    let mut resources: Vec<Resource> = Vec::new();
    for plural in named_plurals(tokens) {
        let resource = Resource::from_plural(plural);
        let seen = resources.iter().any(|r| r.singular == resource.singular);
        if !seen {
            resources.push(resource);
        }
    }
    if resources.is_empty()
        && let Some(head) = noun_phrase_after_marker(tokens).and_then(<[String]>::last)
    {
        resources.push(Resource::from_plural(&words::pluralize(head)));
    }
    if resources.is_empty() {
        resources.push(Resource::from_plural(FALLBACK_RESOURCE));
    }
    resources
}

/// The first noun phrase that follows a marker word ("for", "of",
/// "manage", "track"), past filler words: "for warehouse inventory" gives
/// `["warehouse", "inventory"]`, whose head is the last word.
pub fn noun_phrase_after_marker(tokens: &[String]) -> Option<&[String]> {
    let is_noun = |token: &str| {
        words::is_name_like(token) && !words::is_stop_word(token) && !words::is_marker(token)
    };
    for (index, token) in tokens.iter().enumerate() {
        if !words::is_marker(token) {
            continue;
        }
        let mut start = index + 1;
        while start < tokens.len() && words::is_filler(&tokens[start]) {
            start += 1;
        }
        let mut end = start;
        while end < tokens.len() && is_noun(&tokens[end]) {
            end += 1;
        }
        if end > start {
            return Some(&tokens[start..end]);
        }
    }
    None
}

/// Every field the description, requirements and `fields` constraints
/// name, with the candidate resource each belongs to.
fn field_mentions(
    description: &str,
    requirements: &[String],
    constraints: &[&(String, String)],
    candidates: &[Resource],
) -> Vec<Mention> {
    let resource_words: Vec<(String, String)> = candidates
        .iter()
        .map(|r| (r.singular.clone(), r.plural.clone()))
        .collect();
    let mut mentions = fields::from_text(description, &resource_words);
    for requirement in requirements {
        mentions.extend(fields::from_text(requirement, &resource_words));
    }
    for (name, value) in constraints {
        if let Some(found) = fields::from_constraint(name, value, &resource_words) {
            mentions.extend(found);
        }
    }
    mentions
}

/// Drops candidate resources that are really field names, caps the list at
/// [`MAX_RESOURCES`], and gives each resource the fields named for it (a
/// field with no resource goes to the first).
fn attach_fields(candidates: Vec<Resource>, mentions: Vec<Mention>) -> Vec<Resource> {
    let field_names: Vec<&str> = mentions.iter().map(|m| m.field.name.as_str()).collect();
    let kept: Vec<usize> = (0..candidates.len())
        .filter(|&i| {
            let r = &candidates[i];
            !field_names.contains(&r.plural.as_str()) && !field_names.contains(&r.singular.as_str())
        })
        .take(MAX_RESOURCES)
        .collect();
    let kept = if kept.is_empty() { vec![0] } else { kept };

    let mut resources: Vec<Resource> = kept.iter().map(|&i| candidates[i].clone()).collect();
    let mut named: Vec<Vec<Field>> = vec![Vec::new(); resources.len()];
    for mention in mentions {
        let target = mention
            .resource
            .and_then(|i| kept.iter().position(|&k| k == i))
            .unwrap_or(0);
        let list = &mut named[target];
        if list.len() < MAX_FIELDS && !list.iter().any(|f| f.name == mention.field.name) {
            list.push(mention.field);
        }
    }
    for (resource, mut fields) in resources.iter_mut().zip(named) {
        if fields.is_empty() {
            continue;
        }
        if !fields.iter().any(|f| f.required) {
            fields[0].required = true;
        }
        resource.fields = fields;
        resource.fields_from_intent = true;
    }
    resources
}

/// Whether any of `wanted` occurs in `tokens` other than right after a
/// negation.
pub fn mentions_any(tokens: &[String], wanted: &[&str]) -> bool {
    tokens
        .iter()
        .enumerate()
        .any(|(index, token)| wanted.contains(&token.as_str()) && !negated(tokens, index))
}

fn negated(tokens: &[String], index: usize) -> bool {
    index > 0 && NEGATIONS.contains(&tokens[index - 1].as_str())
}

/// The database asked for: the first specific product named, else
/// PostgreSQL for a generic word, else none.
fn database(tokens: &[String]) -> Option<Database> {
    let mut generic = None;
    for (index, token) in tokens.iter().enumerate() {
        if negated(tokens, index) {
            continue;
        }
        let Some((word, database)) = DATABASE_WORDS.iter().find(|(w, _)| w == token) else {
            continue;
        };
        if matches!(*word, "database" | "databases" | "db" | "sql") {
            generic = generic.or(Some(*database));
        } else {
            return Some(*database);
        }
    }
    generic
}

/// The port of a `port` constraint, else the number after the word "port"
/// in the text.
fn port(constraints: &[&(String, String)], tokens: &[String]) -> Option<u16> {
    let valid = |text: &str| text.trim().parse::<u16>().ok().filter(|&p| p > 0);
    constraints
        .iter()
        .filter(|(name, _)| words::tokenize(name).iter().any(|w| w == "port"))
        .find_map(|(_, value)| valid(value))
        .or_else(|| {
            tokens
                .windows(2)
                .find(|pair| pair[0] == "port")
                .and_then(|pair| valid(&pair[1]))
        })
}

/// The project's name from a `name`/`project`/`module` constraint, else
/// from the resources: `invoices-service`.
fn project_name(constraints: &[&(String, String)], resources: &[Resource]) -> String {
    let named = constraints
        .iter()
        .filter(|(name, _)| {
            let name_words = words::tokenize(name);
            !name_words.is_empty()
                && name_words
                    .iter()
                    .all(|w| NAME_CONSTRAINTS.contains(&w.as_str()) || w == "name")
        })
        .map(|(_, value)| slug(value))
        .find(|s| !s.is_empty());
    named.unwrap_or_else(|| {
        let plurals: Vec<&str> = resources.iter().map(|r| r.plural.as_str()).collect();
        slug(&format!("{}-service", plurals.join("-")))
    })
}

/// Lower-case ASCII letters and digits joined by single `-`, starting with
/// a letter, at most [`MAX_NAME_LEN`] characters.
fn slug(text: &str) -> String {
    let joined = words::tokenize(text).join("-");
    let trimmed = joined.trim_start_matches(|c: char| !c.is_ascii_lowercase());
    let mut name: String = trimmed.chars().take(MAX_NAME_LEN).collect();
    while name.ends_with('-') {
        name.pop();
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intent(description: &str) -> Intent {
        Intent {
            id: "00000000-0000-0000-0000-000000000000".into(),
            description: description.into(),
            requirements: vec![],
            constraints: vec![],
            tier: "standard".into(),
        }
    }

    fn plurals(description: &str) -> Vec<String> {
        analyze(&intent(description))
            .expect("valid")
            .resources
            .into_iter()
            .map(|r| r.plural)
            .collect()
    }

    fn field_names(resource: &Resource) -> Vec<&str> {
        resource.fields.iter().map(|f| f.name.as_str()).collect()
    }

    #[test]
    fn the_warehouse_intent_reads_resource_fields_auth_and_database() {
        let mut warehouse =
            intent("Create a Go REST API for warehouse inventory with PostgreSQL and JWT auth");
        warehouse.requirements = vec![
            "Each inventory item has a SKU, a name, a quantity and a bin location".into(),
            "Only authenticated clerks may change stock".into(),
        ];
        warehouse.constraints = vec![("port".into(), "9090".into())];
        let spec = analyze(&warehouse).expect("valid");
        assert_eq!(spec.resources.len(), 1);
        let inventory = &spec.resources[0];
        assert_eq!(inventory.plural, "inventories");
        assert_eq!(
            field_names(inventory),
            ["sku", "name", "quantity", "bin_location"]
        );
        assert!(inventory.fields_from_intent);
        assert!(spec.auth);
        assert_eq!(spec.database, Some(Database::Postgres));
        assert_eq!(spec.port, Some(9090));
        assert_eq!(spec.name, "inventories-service");
        assert_eq!(spec.requirements.len(), 2);
    }

    #[test]
    fn a_singular_qualifier_does_not_become_a_resource() {
        assert_eq!(
            plurals("Build an API to manage customer orders"),
            ["orders"]
        );
    }

    #[test]
    fn several_plural_nouns_give_several_resources_in_order() {
        assert_eq!(
            plurals("REST API for invoices and customers"),
            ["invoices", "customers"]
        );
        assert_eq!(
            plurals("Service for categories, addresses and boxes"),
            ["categories", "addresses", "boxes"]
        );
    }

    #[test]
    fn resources_are_capped() {
        let many = plurals("books authors shelves readers loans fines branches");
        assert_eq!(many.len(), MAX_RESOURCES);
        assert_eq!(many[0], "books");
    }

    #[test]
    fn users_only_count_when_nothing_else_is_named() {
        assert_eq!(plurals("invoices for users with JWT login"), ["invoices"]);
        assert_eq!(plurals("A service to manage users"), ["users"]);
    }

    #[test]
    fn stack_words_and_technical_plurals_are_not_resources() {
        assert_eq!(
            plurals("Node.js Express TypeScript service with tests, endpoints and tokens"),
            [FALLBACK_RESOURCE]
        );
        assert_eq!(plurals("Create a Golang API for notes"), ["notes"]);
    }

    #[test]
    fn the_head_of_a_compound_after_a_marker_is_the_resource() {
        assert_eq!(plurals("Create an API for inventory"), ["inventories"]);
        assert_eq!(plurals("an API for warehouse inventory"), ["inventories"]);
        assert_eq!(plurals("a service for a simple blog"), ["blogs"]);
    }

    #[test]
    fn plural_field_names_are_not_resources() {
        let spec = analyze(&intent(
            "API for recipes with fields: title, ingredients and steps",
        ))
        .expect("valid");
        assert_eq!(spec.resources.len(), 1);
        assert_eq!(spec.resources[0].plural, "recipes");
        assert_eq!(
            field_names(&spec.resources[0]),
            ["title", "ingredients", "steps"]
        );
    }

    #[test]
    fn fields_go_to_the_resource_they_are_named_for() {
        let mut library = intent("A library API for books and authors");
        library.requirements = vec![
            "Books have a title, an isbn and a page count".into(),
            "Authors have a full name and an optional biography".into(),
        ];
        let spec = analyze(&library).expect("valid");
        assert_eq!(
            field_names(&spec.resources[0]),
            ["title", "isbn", "page_count"]
        );
        assert_eq!(spec.resources[0].fields[2].kind, FieldKind::Integer);
        assert_eq!(field_names(&spec.resources[1]), ["full_name", "biography"]);
        assert!(!spec.resources[1].fields[1].required);
    }

    #[test]
    fn a_resource_without_named_fields_gets_the_defaults() {
        let spec = analyze(&intent("Create a service for invoices")).expect("valid");
        let invoices = &spec.resources[0];
        assert_eq!(field_names(invoices), ["name", "description", "amount"]);
        assert!(!invoices.fields_from_intent);
        assert!(!invoices.fields[1].required);
        assert_eq!(invoices.key_field().name, "name");
        assert_eq!(
            field_names(&Resource::from_plural("products")),
            ["name", "description", "price"]
        );
    }

    #[test]
    fn at_least_one_field_is_required() {
        let mut flags = intent("API for tasks");
        flags.constraints = vec![("fields".into(), "done, archived".into())];
        let spec = analyze(&flags).expect("valid");
        let required: Vec<bool> = spec.resources[0]
            .fields
            .iter()
            .map(|f| f.required)
            .collect();
        assert_eq!(required, [true, false]);
    }

    #[test]
    fn features_are_read_from_requirements_and_constraints_too() {
        let mut notes = intent("Create a service for notes");
        let spec = analyze(&notes).expect("valid");
        assert!(!spec.auth);
        assert_eq!(spec.database, None);
        notes.requirements = vec!["Endpoints require a bearer token".into()];
        notes.constraints = vec![("storage".into(), "MySQL".into())];
        let spec = analyze(&notes).expect("valid");
        assert!(spec.auth);
        assert_eq!(spec.database, Some(Database::Mysql));
    }

    #[test]
    fn a_constraint_counts_by_name_unless_its_value_turns_it_off() {
        let mut notes = intent("Create a service for notes");
        notes.constraints = vec![
            ("database".into(), "yes".into()),
            ("auth".into(), "None".into()),
        ];
        let spec = analyze(&notes).expect("valid");
        assert_eq!(spec.database, Some(Database::Postgres));
        assert!(!spec.auth);
    }

    #[test]
    fn negated_features_are_not_added() {
        let spec = analyze(&intent("Notes API without auth and no database")).expect("valid");
        assert!(!spec.auth);
        assert_eq!(spec.database, None);
    }

    #[test]
    fn a_specific_database_wins_over_a_generic_word() {
        let spec = analyze(&intent("notes kept in a database, SQLite is fine")).expect("valid");
        assert_eq!(spec.database, Some(Database::Sqlite));
    }

    #[test]
    fn the_port_and_name_come_from_text_or_constraints() {
        let spec = analyze(&intent("A notes API listening on port 3001")).expect("valid");
        assert_eq!(spec.port, Some(3001));
        assert_eq!(spec.name, "notes-service");
        let mut named = intent("A notes API");
        named.constraints = vec![
            ("project name".into(), "Team Notes!".into()),
            ("port".into(), "99999".into()),
        ];
        let spec = analyze(&named).expect("valid");
        assert_eq!(spec.name, "team-notes");
        assert_eq!(spec.port, None, "a port out of range is ignored");
    }

    #[test]
    fn a_blank_description_is_refused() {
        for description in ["", "   \n\t"] {
            let error = analyze(&intent(description)).expect_err("blank intent");
            assert_eq!(error.code, "EMPTY_INTENT");
        }
    }
}
