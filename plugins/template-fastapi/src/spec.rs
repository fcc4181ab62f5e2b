//! Reading an intent into a [`ProjectSpec`]: which resources the service
//! exposes, and whether it needs JWT authentication and a database seam.
//!
//! The reading is `qlp-intent-spec`'s (see [`qlp_intent_spec::spec`]): the
//! same plural nouns, markers and fallback give the resources, and the same
//! words, negations and disabled constraint values give the features. This
//! agent differs in three places, kept here:
//!
//! - a resource has a Python model class instead of fields, and two nouns
//!   whose classes would be one give one resource;
//! - after a marker it takes the first noun, not the head of the phrase
//!   ("an API for warehouse inventory" gives `warehouses`), and it does not
//!   drop nouns that are field names;
//! - only a generic or a PostgreSQL word asks for a database
//!   ([`DATABASE_WORDS`]).

use crate::words;
use qlp_intent_spec::spec::{
    self as shared, AMOUNT_RESOURCES, AUTH_WORDS, PRICE_RESOURCES, mentions_any,
};
use qlp_sdk::{Intent, PluginError};

pub use qlp_intent_spec::spec::{FALLBACK_RESOURCE, MAX_RESOURCES};

/// Words that ask for a database: generic ones and PostgreSQL's names, the
/// database the generated project's `DATABASE_URL` seam is documented for.
const DATABASE_WORDS: &[&str] = &[
    "database",
    "databases",
    "db",
    "pg",
    "postgres",
    "postgresql",
    "sql",
];

/// Python names the generated modules import or define; a model class must
/// not shadow them.
const RESERVED_CLASS_NAMES: &[&str] = &[
    "Annotated",
    "Any",
    "APIRouter",
    "BaseModel",
    "ConfigDict",
    "ConfigError",
    "Credentials",
    "Depends",
    "FastAPI",
    "Field",
    "Generic",
    "HTTPException",
    "InMemoryRepository",
    "Iterator",
    "Lock",
    "Mapping",
    "Repository",
    "Request",
    "Response",
    "Settings",
    "TestClient",
    "TokenError",
    "TokenResponse",
    "TypeVar",
];

/// Suffix added to a model class name that would shadow a reserved name.
const CLASS_NAME_SUFFIX: &str = "Record";

/// The extra numeric field a model gets besides `name` and `description`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoneyField {
    /// No numeric field.
    None,
    /// `amount`, for things that are a sum of money (invoices, orders).
    Amount,
    /// `price`, for things that are sold (products, books).
    Price,
}

/// One resource of the generated API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// Lower-case plural: the URL segment, router module and test module name.
    pub plural: String,
    /// Lower-case singular, used in function names and prose.
    pub singular: String,
    /// Python class name of the stored model, e.g. `Invoice`.
    pub model: String,
    /// The numeric field the model carries, if any.
    pub money: MoneyField,
}

impl Resource {
    /// The resource named by a plural noun.
    pub fn from_plural(plural: &str) -> Self {
        let singular = words::singularize(plural);
        let mut model = words::capitalize(&singular);
        if RESERVED_CLASS_NAMES.contains(&model.as_str()) {
            model.push_str(CLASS_NAME_SUFFIX);
        }
        let money = if AMOUNT_RESOURCES.contains(&singular.as_str()) {
            MoneyField::Amount
        } else if PRICE_RESOURCES.contains(&singular.as_str()) {
            MoneyField::Price
        } else {
            MoneyField::None
        };
        Self {
            plural: plural.to_string(),
            singular,
            model,
            money,
        }
    }
}

/// What the generated project contains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectSpec {
    /// The resources, at least one, at most [`MAX_RESOURCES`].
    pub resources: Vec<Resource>,
    /// Whether resource routes require a JWT bearer token.
    pub auth: bool,
    /// Whether the project documents and checks `DATABASE_URL`.
    pub database: bool,
    /// The intent's description, trimmed, for the README.
    pub description: String,
}

/// Reads an intent. A description that is empty or only whitespace gives
/// `EMPTY_INTENT`.
pub fn analyze(intent: &Intent) -> Result<ProjectSpec, PluginError> {
    let description = intent.description.trim();
    if description.is_empty() {
        return Err(PluginError::new(
            "EMPTY_INTENT",
            "the intent has no description to generate a FastAPI service from",
        ));
    }

    let enabled = shared::enabled_constraints(intent);
    let feature_tokens = shared::feature_tokens(description, &intent.requirements, &enabled);

    Ok(ProjectSpec {
        resources: extract_resources(&words::tokenize(description)),
        auth: mentions_any(&feature_tokens, AUTH_WORDS),
        database: mentions_any(&feature_tokens, DATABASE_WORDS),
        description: description.to_string(),
    })
}

/// The resources named by the tokens of a description (see the module
/// documentation for how this differs from `qlp-intent-spec`), at most
/// [`MAX_RESOURCES`].
pub fn extract_resources(tokens: &[String]) -> Vec<Resource> {
    let mut resources: Vec<Resource> = Vec::new();
    for plural in shared::named_plurals(tokens) {
        let resource = Resource::from_plural(plural);
        let seen = resources
            .iter()
            .any(|r| r.singular == resource.singular || r.model == resource.model);
        if !seen && resources.len() < MAX_RESOURCES {
            resources.push(resource);
        }
    }
    if resources.is_empty()
        && let Some(noun) = shared::noun_phrase_after_marker(tokens).and_then(<[String]>::first)
    {
        resources.push(Resource::from_plural(&words::pluralize(noun)));
    }
    if resources.is_empty() {
        resources.push(Resource::from_plural(FALLBACK_RESOURCE));
    }
    resources
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
        extract_resources(&words::tokenize(description))
            .into_iter()
            .map(|r| r.plural)
            .collect()
    }

    #[test]
    fn the_invoices_intent_gives_invoice_resource_with_auth_and_database() {
        let spec = analyze(&intent(
            "Create a FastAPI service for invoices with JWT auth and PostgreSQL",
        ))
        .expect("a valid intent");
        assert_eq!(spec.resources.len(), 1);
        let invoices = &spec.resources[0];
        assert_eq!(
            (invoices.plural.as_str(), invoices.singular.as_str()),
            ("invoices", "invoice")
        );
        assert_eq!(invoices.model, "Invoice");
        assert_eq!(invoices.money, MoneyField::Amount);
        assert!(spec.auth);
        assert!(spec.database);
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
    fn singular_and_plural_of_one_noun_give_one_resource() {
        assert_eq!(
            plurals("invoices API: list invoices, get one invoice's details"),
            ["invoices"]
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
    fn technical_plurals_are_not_resources() {
        assert_eq!(
            plurals(
                "FastAPI service with tests, endpoints, docs and tokens that expire in 30 minutes"
            ),
            [FALLBACK_RESOURCE]
        );
    }

    #[test]
    fn a_singular_noun_after_a_marker_is_pluralized() {
        assert_eq!(plurals("Create an API for inventory"), ["inventories"]);
        assert_eq!(plurals("a service for a simple blog"), ["blogs"]);
    }

    #[test]
    fn nothing_recognisable_falls_back_to_items() {
        let resources = extract_resources(&words::tokenize("Create a FastAPI service"));
        assert_eq!(resources.len(), 1);
        assert_eq!(resources[0].plural, "items");
        assert_eq!(resources[0].model, "Item");
        assert_eq!(plurals("FastAPI app with JWT auth"), ["items"]);
    }

    #[test]
    fn model_names_never_shadow_imported_python_names() {
        let responses = Resource::from_plural("requests");
        assert_eq!(responses.model, "RequestRecord");
        assert_eq!(Resource::from_plural("products").money, MoneyField::Price);
        assert_eq!(Resource::from_plural("notes").money, MoneyField::None);
    }

    #[test]
    fn features_are_read_from_requirements_and_constraints_too() {
        let mut with_requirements = intent("Create a FastAPI service for notes");
        assert!(!analyze(&with_requirements).expect("valid").auth);
        with_requirements.requirements = vec!["Endpoints require a bearer token".into()];
        with_requirements.constraints = vec![("storage".into(), "Postgres".into())];
        let spec = analyze(&with_requirements).expect("valid");
        assert!(spec.auth);
        assert!(spec.database);
        assert_eq!(spec.resources[0].plural, "notes");
    }

    #[test]
    fn a_constraint_counts_by_name_unless_its_value_turns_it_off() {
        let mut notes = intent("Create a FastAPI service for notes");
        notes.constraints = vec![
            ("database".into(), "yes".into()),
            ("auth".into(), "None".into()),
        ];
        let spec = analyze(&notes).expect("valid");
        assert!(spec.database);
        assert!(!spec.auth);
    }

    #[test]
    fn negated_features_are_not_added() {
        let spec = analyze(&intent("Notes API without auth and no database")).expect("valid");
        assert!(!spec.auth);
        assert!(!spec.database);
    }

    #[test]
    fn a_blank_description_is_refused() {
        for description in ["", "   \n\t"] {
            let error = analyze(&intent(description)).expect_err("blank intent");
            assert_eq!(error.code, "EMPTY_INTENT");
        }
    }
}
