//! Rendering an [`IntentSpec`] into the files of a Rust HTTP service on
//! axum.
//!
//! The fixed parts of the files live under `templates/` and are compiled
//! into the plugin; this module spells the spec's names the Rust way
//! (`inventory_items` → `InventoryItem`, raw identifiers for keywords),
//! writes the parts that follow the intent's resources and fields (models
//! and their reading, routes, stores, test bodies) and decides which files
//! exist. JSON field names stay as the spec has them (`snake_case`), like
//! in every QLP stack. Everything is derived from the spec alone, in a
//! fixed order, so one request always gives byte-identical files.

mod protection;

use qlp_intent_spec::protection::Protection;
use qlp_intent_spec::readme;
use qlp_intent_spec::spec::english_list;
use qlp_intent_spec::template::{as_pairs, render};
use qlp_intent_spec::{Database, Field, FieldKind, IntentSpec, Resource, words};
use qlp_sdk::{File, PluginError};

/// The port the service listens on when the intent names none, as the Go
/// agent's services do.
pub const DEFAULT_PORT: u16 = 8080;

/// rustfmt's default line width, which the generated code keeps where its
/// length depends on the intent's names.
const RUSTFMT_MAX_WIDTH: usize = 100;

/// rustfmt's default width of a method chain kept on one line.
const RUSTFMT_CHAIN_WIDTH: usize = 60;

pub use qlp_intent_spec::readme::MAX_QUOTED_INTENT_CHARS;

mod tmpl {
    //! The template files, compiled into the plugin.

    pub const CARGO_TOML: &str = include_str!("../templates/Cargo.toml.tmpl");
    pub const MAIN: &str = include_str!("../templates/src/main.rs.tmpl");
    pub const LIB: &str = include_str!("../templates/src/lib.rs.tmpl");
    pub const CONFIG: &str = include_str!("../templates/src/config.rs.tmpl");
    pub const ERROR: &str = include_str!("../templates/src/error.rs.tmpl");
    pub const VALIDATION: &str = include_str!("../templates/src/validation.rs.tmpl");
    pub const STORE: &str = include_str!("../templates/src/store.rs.tmpl");
    pub const STORAGE_MEMORY: &str = include_str!("../templates/src/storage_memory.rs.tmpl");
    pub const STORAGE_DATABASE: &str = include_str!("../templates/src/storage_database.rs.tmpl");
    pub const AUTH: &str = include_str!("../templates/src/auth.rs.tmpl");
    pub const ROUTES: &str = include_str!("../templates/src/routes/resource.rs.tmpl");
    pub const COMMON_TEST: &str = include_str!("../templates/tests/common.rs.tmpl");
    pub const HEALTH_TEST: &str = include_str!("../templates/tests/health.rs.tmpl");
    pub const CONFIG_TEST: &str = include_str!("../templates/tests/config.rs.tmpl");
    pub const RESOURCE_TEST: &str = include_str!("../templates/tests/resource.rs.tmpl");
    pub const AUTH_TEST: &str = include_str!("../templates/tests/auth.rs.tmpl");
    pub const STORAGE_TEST: &str = include_str!("../templates/tests/storage.rs.tmpl");
    pub const STORAGE_MEMORY_TEST: &str = include_str!("../templates/tests/storage_memory.rs.tmpl");
    pub const ERROR_TEST: &str = include_str!("../templates/tests/error.rs.tmpl");
    pub const STORE_TEST: &str = include_str!("../templates/tests/store.rs.tmpl");
    pub const VALIDATION_TEST: &str = include_str!("../templates/tests/validation.rs.tmpl");
    pub const CRYPTO_TEST: &str = include_str!("../templates/tests/crypto.rs.tmpl");
    pub const AUDIT_TEST: &str = include_str!("../templates/tests/audit.rs.tmpl");
    pub const RETENTION_TEST: &str = include_str!("../templates/tests/retention.rs.tmpl");
    pub const DOCKERFILE: &str = include_str!("../templates/Dockerfile.tmpl");
    pub const DOCKERIGNORE: &str = include_str!("../templates/dockerignore.tmpl");
    pub const GITIGNORE: &str = include_str!("../templates/gitignore.tmpl");
    pub const README: &str = include_str!("../templates/README.md.tmpl");
    pub const CRYPTO: &str = include_str!("../templates/src/crypto.rs.tmpl");
    pub const AUDIT: &str = include_str!("../templates/src/audit.rs.tmpl");
    pub const RETENTION: &str = include_str!("../templates/src/retention.rs.tmpl");
    pub const PROTECTED_ROUTES: &str = include_str!("../templates/src/routes/protected.rs.tmpl");
}

/// Type names the generated modules define or import, and the prelude's;
/// a model must not shadow one.
const RESERVED_TYPE_NAMES: &[&str] = &[
    "ApiError",
    "AppState",
    "Arc",
    "Body",
    "Box",
    "Bytes",
    "Claims",
    "Config",
    "ConfigError",
    "Err",
    "Error",
    "Header",
    "Json",
    "Map",
    "MemoryRepository",
    "Method",
    "Mutex",
    "Next",
    "None",
    "Ok",
    "Option",
    "Path",
    "Problems",
    "Records",
    "Repository",
    "Request",
    "Response",
    "Result",
    "Router",
    "Self",
    "Some",
    "State",
    "StatusCode",
    "Stores",
    "String",
    "TokenAnswer",
    "Value",
    "Vec",
];

/// Suffix added to a model name that would shadow a reserved one.
const TYPE_NAME_SUFFIX: &str = "Item";

/// Rust keywords a field may be named; they are written as raw identifiers.
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "do", "dyn",
    "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let",
    "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref", "return",
    "static", "struct", "trait", "true", "try", "type", "typeof", "unsafe", "unsized", "use",
    "virtual", "where", "while", "yield",
];

/// Keywords that cannot be raw identifiers; a field so named gets a `_`
/// and keeps its JSON name through `#[serde(rename)]`.
const UNRAWABLE: &[&str] = &["crate", "self", "super", "Self"];

/// Test file names the project uses itself; a resource's tests take
/// another name.
const RESERVED_TEST_NAMES: &[&str] = &[
    "audit",
    "auth",
    "common",
    "config",
    "crypto",
    "data_protection",
    "error",
    "health",
    "models",
    "retention",
    "storage",
    "store",
    "validation",
];

/// The modules of `src/` whose tests do not depend on the intent's
/// resources, each tested by `tests/api/<module>.rs`: the name and the
/// template of each, for the modules the project has.
fn module_tests(protection: &Protection) -> Vec<(&'static str, &'static str)> {
    let mut tests = vec![
        ("error", tmpl::ERROR_TEST),
        ("store", tmpl::STORE_TEST),
        ("validation", tmpl::VALIDATION_TEST),
    ];
    if protection.audit {
        tests.push(("audit", tmpl::AUDIT_TEST));
    }
    if !protection.encrypted.is_empty() {
        tests.push(("crypto", tmpl::CRYPTO_TEST));
    }
    if protection.retention_days.is_some() {
        tests.push(("retention", tmpl::RETENTION_TEST));
    }
    tests
}

/// A Rust identifier for a `snake_case` name.
fn rust_ident(name: &str) -> String {
    if UNRAWABLE.contains(&name) {
        format!("{name}_")
    } else if KEYWORDS.contains(&name) {
        format!("r#{name}")
    } else if name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("n_{name}")
    } else {
        name.to_string()
    }
}

/// Whether serde would name the identifier's field differently from
/// `name` (it strips `r#` itself).
fn needs_rename(name: &str) -> bool {
    rust_ident(name).trim_start_matches("r#") != name
}

/// A Rust string literal.
fn rust_string(text: &str) -> String {
    format!("{text:?}")
}

/// A resource with its Rust names.
struct RustResource<'a> {
    resource: &'a Resource,
    /// The record struct, e.g. `Invoice`.
    model: String,
    /// The module, the `Stores` field and the test file: `invoices`.
    module: String,
    /// The singular for function names: `invoice`.
    singular_ident: String,
    singular_words: String,
    /// The struct the repository keeps: the model, or `InvoiceRow` when
    /// fields are stored encrypted.
    stored: String,
    /// The fields stored encrypted.
    encrypted: Vec<String>,
    /// The encrypted card numbers, answered masked.
    masked: Vec<String>,
    /// Whether its routes encrypt, audit or purge.
    protected: bool,
}

impl<'a> RustResource<'a> {
    fn new(resource: &'a Resource, protection: &Protection) -> Self {
        let mut model = words::pascal_case(&resource.singular);
        if RESERVED_TYPE_NAMES.contains(&model.as_str())
            || (protection.any() && protection::RESERVED_TYPE_NAMES.contains(&model.as_str()))
        {
            model.push_str(TYPE_NAME_SUFFIX);
        }
        let encrypted: Vec<String> = resource
            .fields
            .iter()
            .filter(|f| protection.encrypts(&resource.plural, &f.name))
            .map(|f| f.name.clone())
            .collect();
        let masked = encrypted
            .iter()
            .filter(|name| protection::is_card_number(name))
            .cloned()
            .collect();
        let stored = if encrypted.is_empty() {
            model.clone()
        } else {
            format!("{model}Row")
        };
        Self {
            resource,
            model,
            module: rust_ident(&resource.plural),
            singular_ident: resource.singular.clone(),
            singular_words: words::spaced(&resource.singular),
            stored,
            encrypted,
            masked,
            protected: protection::resource_is_protected(protection, &resource.plural),
        }
    }

    /// Whether the field is stored encrypted.
    fn encrypts(&self, field: &str) -> bool {
        self.encrypted.iter().any(|f| f == field)
    }

    fn plural(&self) -> &str {
        &self.resource.plural
    }

    fn fields(&self) -> &[Field] {
        &self.resource.fields
    }

    /// The file name of its tests, without `.rs`.
    fn test_name(&self) -> String {
        if RESERVED_TEST_NAMES.contains(&self.plural()) {
            format!("{}_routes", self.plural())
        } else {
            self.plural().to_string()
        }
    }

    /// `{Invoice, InvoiceInput}` for a `use` of the models.
    fn model_import(&self) -> String {
        format!("{{{model}, {model}Input}}", model = self.model)
    }
}

fn rust_type(field: &Field) -> String {
    let base = match field.kind {
        FieldKind::Text => "String",
        FieldKind::Integer => "i64",
        FieldKind::Number => "f64",
        FieldKind::Boolean => return "bool".into(),
    };
    if field.required {
        base.into()
    } else {
        format!("Option<{base}>")
    }
}

/// The example value of a field in tests and documentation, as JSON.
fn example_value(field: &Field, changed: bool) -> String {
    field.example_value(changed, rust_string)
}

/// `{"name": "example name", "price": 9.5}`.
fn example_object(resource: &RustResource<'_>, changed: bool) -> String {
    let pairs: Vec<String> = resource
        .fields()
        .iter()
        .map(|f| {
            let value = if resource.masked.contains(&f.name) {
                protection::example_value(f, changed)
            } else {
                None
            };
            let value = value.unwrap_or_else(|| example_value(f, changed));
            format!("{}: {}", rust_string(&f.name), value)
        })
        .collect();
    format!("{{{}}}", pairs.join(", "))
}

/// `tests/api/main.rs`: one test binary whose modules are the test files,
/// so that the tests link once rather than once per file.
fn test_main_rs(
    spec: &IntentSpec,
    resources: &[RustResource<'_>],
    protection: &Protection,
) -> String {
    let mut modules: Vec<String> = vec!["common".to_string()];
    modules.extend(test_files(spec, resources, protection));
    // In name order, as rustfmt orders them.
    modules.sort();
    let mut out = String::from(
        "//! The service's tests, in one binary: each module tests one part of the\n\
         //! API by calling the router in process (see `common.rs`).\n\n",
    );
    for module in modules {
        let ident = rust_ident(&module);
        if ident != module {
            out.push_str(&format!("#[path = \"{module}.rs\"]\n"));
        }
        out.push_str(&format!("mod {ident};\n"));
    }
    out
}

/// The test modules of the project, without `.rs`.
fn test_files(
    spec: &IntentSpec,
    resources: &[RustResource<'_>],
    protection: &Protection,
) -> Vec<String> {
    let mut names = vec![
        "health".to_string(),
        "config".to_string(),
        "models".to_string(),
    ];
    names.extend(
        module_tests(protection)
            .iter()
            .map(|(module, _)| module.to_string()),
    );
    names.extend(resources.iter().map(RustResource::test_name));
    if spec.auth {
        names.push("auth".into());
    }
    names.push("storage".into());
    if protection::has_measures(protection) {
        names.push("data_protection".into());
    }
    names
}

fn database_driver(database: Database) -> &'static str {
    match database {
        Database::Postgres => "`sqlx` with its `postgres` feature, or `tokio-postgres`",
        Database::Mysql => "`sqlx` with its `mysql` feature",
        Database::Sqlite => "`sqlx` with its `sqlite` feature, or `rusqlite`",
        Database::Mongo => "the `mongodb` crate",
    }
}

fn database_values(database: Database) -> Vec<(&'static str, String)> {
    let schemes: Vec<String> = database.schemes().iter().map(|s| rust_string(s)).collect();
    vec![
        ("database", database.title().to_string()),
        ("database_key", database.key().to_string()),
        ("database_example", database.example_url().to_string()),
        ("database_schemes", format!("[{}]", schemes.join(", "))),
        ("database_driver", database_driver(database).to_string()),
    ]
}

/// Renders every file of the project described by `spec`, protecting its
/// data as `protection` says (nothing changes without a measure).
pub fn render_project(
    spec: &IntentSpec,
    protection: &Protection,
) -> Result<Vec<File>, PluginError> {
    let resources: Vec<RustResource<'_>> = spec
        .resources
        .iter()
        .map(|r| RustResource::new(r, protection))
        .collect();
    let title = spec.title();
    let resource_list = spec.resource_list();
    let port = spec.port.unwrap_or(DEFAULT_PORT).to_string();
    let crate_name = spec.name.replace('-', "_");
    let common = [
        ("name", spec.name.clone()),
        ("crate_name", crate_name.clone()),
        ("title", title.clone()),
        ("resource_list", resource_list.clone()),
        ("port", port.clone()),
    ];

    let mut values = common.to_vec();
    values.push((
        "auth_dependencies",
        protection::extra_dependencies(spec.auth, protection),
    ));
    let mut files = vec![
        (
            "Cargo.toml".to_string(),
            render(tmpl::CARGO_TOML, &as_pairs(&values))?,
        ),
        (
            "src/main.rs".to_string(),
            render(tmpl::MAIN, &as_pairs(&common))?,
        ),
        (
            "src/lib.rs".to_string(),
            lib_rs(spec, &resources, &title, protection)?,
        ),
        (
            "src/config.rs".to_string(),
            config_rs(spec, &title, &port, protection)?,
        ),
        ("src/error.rs".to_string(), render(tmpl::ERROR, &[])?),
        (
            "src/validation.rs".to_string(),
            render(tmpl::VALIDATION, &[])?,
        ),
        (
            "src/models.rs".to_string(),
            models_rs(&resources, protection),
        ),
        ("src/store.rs".to_string(), render(tmpl::STORE, &[])?),
        ("src/storage.rs".to_string(), storage_rs(spec, &resources)?),
        ("src/routes/mod.rs".to_string(), routes_mod_rs(&resources)),
    ];
    if spec.auth {
        files.push(("src/auth.rs".to_string(), render(tmpl::AUTH, &[])?));
    }
    files.extend(protection::source_files(spec, protection)?);
    for resource in &resources {
        let content = if resource.protected {
            protection::routes_rs(resource, protection, resource_values(resource))?
        } else {
            render(tmpl::ROUTES, &as_pairs(&resource_values(resource)))?
        };
        files.push((format!("src/routes/{}.rs", resource.plural()), content));
    }

    files.extend(test_files_rs(spec, &resources, protection, &title, &port)?);

    files.push((
        "Dockerfile".to_string(),
        render(tmpl::DOCKERFILE, &as_pairs(&common))?,
    ));
    files.push((
        ".dockerignore".to_string(),
        render(tmpl::DOCKERIGNORE, &[])?,
    ));
    files.push((".gitignore".to_string(), render(tmpl::GITIGNORE, &[])?));
    files.push((
        "README.md".to_string(),
        readme_md(spec, &resources, &title, &port, protection)?,
    ));

    Ok(files
        .into_iter()
        .map(|(path, content)| File::text(path, content))
        .collect())
}

/// The files of `tests/api/`.
fn test_files_rs(
    spec: &IntentSpec,
    resources: &[RustResource<'_>],
    protection: &Protection,
    title: &str,
    port: &str,
) -> Result<Vec<(String, String)>, PluginError> {
    let crate_name = spec.name.replace('-', "_");
    let mut files = vec![
        (
            "tests/api/main.rs".to_string(),
            test_main_rs(spec, resources, protection),
        ),
        (
            "tests/api/common.rs".to_string(),
            common_test_rs(spec, &crate_name, protection)?,
        ),
        (
            "tests/api/health.rs".to_string(),
            render(tmpl::HEALTH_TEST, &[])?,
        ),
        (
            "tests/api/config.rs".to_string(),
            config_test_rs(spec, &crate_name, title, port, protection)?,
        ),
    ];
    files.push((
        "tests/api/models.rs".to_string(),
        models_test_rs(resources, &crate_name),
    ));
    for (module, template) in module_tests(protection) {
        files.push((
            format!("tests/api/{module}.rs"),
            render(template, &[("crate_name", &crate_name)])?,
        ));
    }
    for resource in resources {
        files.push((
            format!("tests/api/{}.rs", resource.test_name()),
            resource_test_rs(resource, &crate_name)?,
        ));
    }
    if spec.auth {
        let paths: Vec<String> = resources
            .iter()
            .map(|r| rust_string(&format!("/{}", r.plural())))
            .collect();
        files.push((
            "tests/api/auth.rs".to_string(),
            render(
                tmpl::AUTH_TEST,
                &[
                    ("crate_name", &crate_name),
                    ("protected_paths", &format!("[{}]", paths.join(", "))),
                ],
            )?,
        ));
    }
    let storage_test = match spec.database {
        Some(database) => {
            let mut values = database_values(database);
            values.push(("crate_name", crate_name.clone()));
            render(tmpl::STORAGE_TEST, &as_pairs(&values))?
        }
        None => {
            let empty_checks: String = resources
                .iter()
                .map(|r| format!("    assert!(stores.{}.list().is_empty());\n", r.module))
                .collect();
            render(
                tmpl::STORAGE_MEMORY_TEST,
                &[("crate_name", &crate_name), ("empty_checks", &empty_checks)],
            )?
        }
    };
    files.push(("tests/api/storage.rs".to_string(), storage_test));
    if protection::has_measures(protection) {
        files.push((
            "tests/api/data_protection.rs".to_string(),
            protection::data_protection_test(spec, resources, protection, &crate_name),
        ));
    }
    Ok(files)
}

/// `tests/api/models.rs`: each resource's input reads a valid body and
/// names every problem of an invalid one; an unprotected input becomes the
/// record of its id.
fn models_test_rs(resources: &[RustResource<'_>], crate_name: &str) -> String {
    let mut out = String::from(
        "//! The reading of request bodies in `models.rs`: each resource's input\n\
         //! takes a valid body and names every problem of an invalid one.\n\
         \n\
         use serde_json::{json, Map, Value};\n",
    );
    for resource in resources {
        out.push_str(&format!(
            "use {crate_name}::models::{}Input;\n",
            resource.model
        ));
    }
    out.push_str(
        "\n/// The JSON object `value` as a request body.\n\
         fn object(value: Value) -> Map<String, Value> {\n    \
         value.as_object().expect(\"an object\").clone()\n\
         }\n",
    );
    for resource in resources {
        let required: Vec<String> = resource
            .fields()
            .iter()
            .filter(|f| f.required)
            .map(|f| rust_string(&f.name))
            .collect();
        // The value read back: the first required text, else the whole input.
        let mut checks =
            match resource.fields().iter().find(|f| {
                f.required && f.kind == FieldKind::Text && !resource.masked.contains(&f.name)
            }) {
                Some(field) => format!(
                    "    assert_eq!(input.{}, {});\n",
                    rust_ident(&field.name),
                    example_value(field, false)
                ),
                None => format!(
                    "    assert_eq!({}Input::parse(&body), Ok(input.clone()));\n",
                    resource.model
                ),
            };
        if !resource.protected {
            checks.push_str("    assert_eq!(input.into_record(7).id, 7);\n");
        }
        out.push_str(&format!(
            "\n#[test]\n\
             fn reads_{singular}_bodies_and_names_each_problem() {{\n    \
             const REQUIRED: &[&str] = &[{required}];\n    \
             let body = object(json!({valid}));\n    \
             let input = {model}Input::parse(&body).expect(\"a valid body\");\n\
             {checks}    \
             let mut wrong = body.clone();\n    \
             wrong.insert(\"not_a_field_of_this_resource\".into(), json!(1));\n    \
             for name in REQUIRED {{\n        \
             wrong.remove(*name);\n    \
             }}\n    \
             let problems = {model}Input::parse(&wrong).expect_err(\"an invalid body\");\n    \
             assert_eq!(problems[\"not_a_field_of_this_resource\"], \"is not a known field\");\n    \
             for name in REQUIRED {{\n        \
             assert_eq!(problems[*name], \"is required\", \"{{name}}\");\n    \
             }}\n    \
             assert_eq!(problems.len(), REQUIRED.len() + 1, \"{{problems:?}}\");\n\
             }}\n",
            singular = resource.singular_ident,
            required = required.join(", "),
            valid = example_object(resource, false),
            model = resource.model,
        ));
    }
    out
}

fn resource_values(resource: &RustResource<'_>) -> Vec<(&'static str, String)> {
    vec![
        ("Model", resource.model.clone()),
        ("model_import", resource.model_import()),
        ("field", resource.module.clone()),
        ("plural", resource.plural().to_string()),
        ("singular_words", resource.singular_words.clone()),
        ("singular_ident", resource.singular_ident.clone()),
        (
            "a_singular",
            resource.resource.a_singular().replace('_', " "),
        ),
    ]
}

fn lib_rs(
    spec: &IntentSpec,
    resources: &[RustResource<'_>],
    title: &str,
    protection: &Protection,
) -> Result<String, PluginError> {
    let merges: Vec<String> = resources
        .iter()
        .map(|r| format!(".merge(routes::{}::routes())", r.module))
        .collect();
    let chain = format!("Router::new(){}", merges.concat());
    let resource_merges = if chain.len() <= RUSTFMT_CHAIN_WIDTH {
        merges.concat()
    } else {
        merges.iter().map(|m| format!("\n        {m}")).collect()
    };
    let paths: Vec<String> = resources
        .iter()
        .map(|r| format!("`/{p}` and `/{p}/{{id}}`", p = r.plural()))
        .collect();
    let mut route_doc = english_list(&paths);
    let (protect, auth_merge) = if spec.auth {
        route_doc.push_str(" (with a bearer token) and `/auth/token`");
        (
            "    let resources = resources.route_layer(axum::middleware::from_fn_with_state(\n        \
             state.clone(),\n        \
             auth::require_user,\n    \
             ));\n",
            "        .merge(auth::routes())\n",
        )
    } else {
        ("", "")
    };
    let mut values = protection::lib_values(spec.auth, protection);
    values.extend([
        ("title", title.to_string()),
        ("resource_list", spec.resource_list()),
        ("route_doc", route_doc),
        ("resource_merges", resource_merges),
        ("protect", protect.to_string()),
        ("auth_merge", auth_merge.to_string()),
    ]);
    render(tmpl::LIB, &as_pairs(&values))
}

fn routes_mod_rs(resources: &[RustResource<'_>]) -> String {
    let mut out = String::from("//! The routes of each resource, one module per resource.\n\n");
    // In name order, as rustfmt orders them.
    let mut sorted: Vec<&RustResource<'_>> = resources.iter().collect();
    sorted.sort_by(|a, b| a.module.cmp(&b.module));
    for resource in sorted {
        if resource.module != resource.plural() {
            out.push_str(&format!("#[path = \"{}.rs\"]\n", resource.plural()));
        }
        out.push_str(&format!("pub mod {};\n", resource.module));
    }
    out
}

fn config_rs(
    spec: &IntentSpec,
    title: &str,
    port: &str,
    protection: &Protection,
) -> Result<String, PluginError> {
    let mut doc = String::new();
    let mut constants = String::new();
    let mut fields = String::new();
    let mut values = String::new();
    // Functions after `Config::from_env`, each reading one setting, so that
    // `from_env` stays a list of settings.
    let mut functions = String::new();
    if spec.auth {
        doc.push_str(
            "//! - `JWT_SECRET`: the key that signs and verifies tokens, at least\n\
             //!   [`MIN_SECRET_LENGTH`] characters; required.\n\
             //! - `JWT_EXPIRES_SECONDS`: the lifetime of an issued token,\n\
             //!   [`DEFAULT_TOKEN_TTL_SECONDS`] by default.\n\
             //! - `AUTH_USERNAME`, `AUTH_PASSWORD`: the login `POST /auth/token`\n\
             //!   accepts; without them it answers 503.\n",
        );
        constants.push_str(
            "\n/// The shortest accepted `JWT_SECRET`: an HMAC-SHA256 key shorter than 32\n\
             /// bytes weakens the signature (RFC 7518, section 3.2).\n\
             pub const MIN_SECRET_LENGTH: usize = 32;\n\
             \n\
             /// The lifetime of an issued token: an hour bounds the use of a leaked\n\
             /// token without asking for frequent logins.\n\
             pub const DEFAULT_TOKEN_TTL_SECONDS: u64 = 3600;\n",
        );
        fields.push_str(
            "    pub jwt_secret: String,\n    \
             pub token_ttl_seconds: u64,\n    \
             pub auth_username: Option<String>,\n    \
             pub auth_password: Option<String>,\n",
        );
        values.push_str(
            "            jwt_secret: jwt_secret_from(var(\"JWT_SECRET\"))?,\n            \
             token_ttl_seconds: token_ttl_seconds_from(var(\"JWT_EXPIRES_SECONDS\"))?,\n            \
             auth_username: var(\"AUTH_USERNAME\"),\n            \
             auth_password: var(\"AUTH_PASSWORD\"),\n",
        );
        functions.push_str(
            "\n/// Reads `JWT_SECRET`, which must be set to at least\n\
             /// [`MIN_SECRET_LENGTH`] characters.\n\
             fn jwt_secret_from(raw: Option<String>) -> Result<String, ConfigError> {\n    \
             raw.filter(|secret| secret.chars().count() >= MIN_SECRET_LENGTH)\n        \
             .ok_or_else(|| {\n            \
             ConfigError(format!(\n                \
             \"JWT_SECRET must be set to a random value of at least {MIN_SECRET_LENGTH} characters\"\n            \
             ))\n        \
             })\n\
             }\n\
             \n\
             /// Reads `JWT_EXPIRES_SECONDS`: [`DEFAULT_TOKEN_TTL_SECONDS`] when it is\n\
             /// unset, else a positive number of seconds.\n\
             fn token_ttl_seconds_from(raw: Option<String>) -> Result<u64, ConfigError> {\n    \
             match raw {\n        \
             None => Ok(DEFAULT_TOKEN_TTL_SECONDS),\n        \
             Some(raw) => raw\n            \
             .parse::<u64>()\n            \
             .ok()\n            \
             .filter(|&seconds| seconds > 0)\n            \
             .ok_or_else(|| {\n                \
             ConfigError(format!(\n                    \
             \"JWT_EXPIRES_SECONDS must be a positive number of seconds, not {raw:?}\"\n                \
             ))\n            \
             }),\n    \
             }\n\
             }\n",
        );
    }
    if spec.database.is_some() {
        doc.push_str(
            "//! - `DATABASE_URL`: the storage (see `storage.rs`); in memory when unset.\n",
        );
        fields.push_str("    pub database_url: Option<String>,\n");
        values.push_str("            database_url: var(\"DATABASE_URL\"),\n");
    }
    let extra = protection::config_parts(protection);
    doc.push_str(&extra.doc);
    constants.push_str(&extra.constants);
    fields.push_str(&extra.fields);
    values.push_str(&extra.values);
    functions.push_str(&extra.functions);
    render(
        tmpl::CONFIG,
        &[
            ("title", title),
            ("port", port),
            ("config_doc", &doc),
            ("config_imports", &extra.imports),
            ("config_constants", &constants),
            ("config_fields", &fields),
            ("config_values", &values),
            ("config_functions", &functions),
        ],
    )
}

fn models_rs(resources: &[RustResource<'_>], protection: &Protection) -> String {
    let retention = protection.retention_days.is_some();
    let uses = |kind: FieldKind| {
        resources
            .iter()
            .flat_map(|r| r.fields())
            .any(|f| f.kind == kind)
    };
    let mut imports: Vec<&str> = Vec::new();
    for (kind, function) in [
        (FieldKind::Boolean, "check_boolean"),
        (FieldKind::Integer, "check_integer"),
        (FieldKind::Number, "check_number"),
        (FieldKind::Text, "check_text"),
    ] {
        if uses(kind) {
            imports.push(function);
        }
    }
    imports.extend(["read_body", "Body"]);
    let (crypto_use, retention_use) = protection::model_imports(resources, retention);
    let mut out = format!(
        "//! The records of each resource as the API stores and returns them, and\n\
         //! the reading of the request bodies that create or replace them.\n\
         //! Optional values are `null` when absent; a flag is `false` when absent.\n\
         \n\
         use serde::{{Deserialize, Serialize}};\n\
         \n\
         {crypto_use}use crate::error::Problems;\n\
         {retention_use}use crate::validation::{{{}}};\n",
        imports.join(", ")
    );
    for resource in resources {
        out.push_str(&model_rs(resource, retention));
    }
    out
}

/// The structs of one resource and their methods.
fn model_rs(resource: &RustResource<'_>, retention: bool) -> String {
    let model = &resource.model;
    let singular = &resource.singular_words;
    let a_singular = resource.resource.a_singular().replace('_', " ");
    let mut record_fields = String::from("    pub id: u64,\n");
    let mut stored_fields = String::from("    pub id: u64,\n");
    let mut input_fields = String::new();
    let mut reads = String::new();
    let mut moves = String::new();
    for field in resource.fields() {
        let ident = rust_ident(&field.name);
        let ty = rust_type(field);
        let rename = if needs_rename(&field.name) {
            format!("    #[serde(rename = {})]\n", rust_string(&field.name))
        } else {
            String::new()
        };
        record_fields.push_str(&format!("{rename}    pub {ident}: {ty},\n"));
        stored_fields.push_str(&format!("    pub {ident}: {ty},\n"));
        input_fields.push_str(&format!("    pub {ident}: {ty},\n"));
        let json = rust_string(&field.name);
        let required = field.required;
        let non_negative = field.non_negative;
        let check = match field.kind {
            FieldKind::Text => format!("check_text(problems, body, {json}, {required})"),
            FieldKind::Integer => {
                format!("check_integer(problems, body, {json}, {required}, {non_negative})")
            }
            FieldKind::Number => {
                format!("check_number(problems, body, {json}, {required}, {non_negative})")
            }
            FieldKind::Boolean => format!("check_boolean(problems, body, {json}, {required})"),
        };
        let finish = match (field.kind, required) {
            (FieldKind::Boolean, _) => ".unwrap_or(false)",
            (_, true) => ".unwrap_or_default()",
            (_, false) => "",
        };
        let line = format!("            {ident}: {check}{finish},");
        if line.len() <= RUSTFMT_MAX_WIDTH || finish.is_empty() {
            reads.push_str(&format!("{line}\n"));
        } else {
            reads.push_str(&format!(
                "            {ident}: {check}\n                {finish},\n"
            ));
        }
        moves.push_str(&format!("            {ident}: self.{ident},\n"));
    }
    let names: Vec<String> = resource
        .fields()
        .iter()
        .map(|f| rust_string(&f.name))
        .collect();
    let (records, into_record, impls) = if resource.protected {
        (
            protection::record_structs(resource, retention, &record_fields, &stored_fields),
            protection::into_record_fn(resource, retention),
            protection::record_impls(resource, retention),
        )
    } else {
        (
            format!(
                "\n/// One {singular} as the API stores and returns it.\n\
                 #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]\n\
                 pub struct {model} {{\n{record_fields}}}\n"
            ),
            format!(
                "\n    /// The record of these values under `id`.\n    \
                 pub fn into_record(self, id: u64) -> {model} {{\n        \
                 {model} {{\n            \
                 id,\n{moves}        }}\n    \
                 }}\n"
            ),
            String::new(),
        )
    };
    format!(
        "{records}\
         \n\
         /// The values of a request body that creates or replaces {a_singular}.\n\
         #[derive(Debug, Clone, PartialEq)]\n\
         pub struct {model}Input {{\n{input_fields}}}\n\
         \n\
         impl {model}Input {{\n    \
         /// The JSON names of the fields.\n    \
         pub const FIELDS: &'static [&'static str] ={fields_break}&[{names}];\n\
         \n    \
         /// Reads a request body: its values, or what is wrong with them by\n    \
         /// field name.\n    \
         pub fn parse(body: &Body) -> Result<Self, Problems> {{\n        \
         read_body(body, Self::FIELDS, |problems| Self {{\n{reads}        }})\n    \
         }}\n\
         {into_record}\
         }}\n\
         {impls}",
        names = names.join(", "),
        fields_break = fields_break(&names.join(", ")),
    )
}

/// What follows `=` in the `FIELDS` constant: a space, or a line break
/// where rustfmt would put one.
fn fields_break(names: &str) -> &'static str {
    let line = "    pub const FIELDS: &'static [&'static str] = &[];".len() + names.len();
    if line <= RUSTFMT_MAX_WIDTH {
        " "
    } else {
        "\n        "
    }
}

fn storage_rs(spec: &IntentSpec, resources: &[RustResource<'_>]) -> Result<String, PluginError> {
    let mut models: Vec<String> = resources.iter().map(|r| r.stored.clone()).collect();
    // In name order, as rustfmt orders them.
    models.sort();
    let model_import = if models.len() == 1 {
        models[0].clone()
    } else {
        format!("{{{}}}", models.join(", "))
    };
    let stores_fields: String = resources
        .iter()
        .map(|r| format!("    pub {}: Arc<dyn Repository<{}>>,\n", r.module, r.stored))
        .collect();
    let stores_memory: String = resources
        .iter()
        .map(|r| {
            format!(
                "            {}: Arc::new(MemoryRepository::new()),\n",
                r.module
            )
        })
        .collect();
    let mut values = vec![
        ("model_import", model_import),
        ("stores_fields", stores_fields),
        ("stores_memory", stores_memory),
    ];
    match spec.database {
        Some(database) => {
            values.extend(database_values(database));
            render(tmpl::STORAGE_DATABASE, &as_pairs(&values))
        }
        None => render(tmpl::STORAGE_MEMORY, &as_pairs(&values)),
    }
}

fn common_test_rs(
    spec: &IntentSpec,
    crate_name: &str,
    protection: &Protection,
) -> Result<String, PluginError> {
    let imports = format!("use {crate_name}::auth::{{now_seconds, sign_token, Claims}};\n");
    let mut values: [(&str, &str); 6] = if spec.auth {
        [
            ("crate_name", crate_name),
            ("helpers_imports", &imports),
            (
                "helpers_constants",
                "\n/// The signing secret and login the tests configure; the service reads\n\
                 /// its own from the environment.\n\
                 pub const TEST_SECRET: &str = \"test-only-secret-of-at-least-32-characters\";\n\
                 pub const TEST_USERNAME: &str = \"clerk\";\n\
                 pub const TEST_PASSWORD: &str = \"correct horse battery staple\";\n\
                 \n\
                 /// A token the test app accepts.\n\
                 pub fn valid_token() -> String {\n    \
                 let now = now_seconds();\n    \
                 let claims = Claims {\n        \
                 sub: TEST_USERNAME.into(),\n        \
                 iat: now,\n        \
                 exp: now + 3600,\n    \
                 };\n    \
                 sign_token(&claims, TEST_SECRET)\n\
                 }\n",
            ),
            (
                "test_config_body",
                "    Config::from_env(|name| {\n        \
                 let value = match name {\n            \
                 \"JWT_SECRET\" => TEST_SECRET,\n            \
                 \"AUTH_USERNAME\" => TEST_USERNAME,\n            \
                 \"AUTH_PASSWORD\" => TEST_PASSWORD,\n            \
                 _ => return None,\n        \
                 };\n        \
                 Some(value.to_string())\n    \
                 })\n    \
                 .expect(\"the test configuration is valid\")\n",
            ),
            ("call_doc", " with a valid bearer token"),
            (
                "call_body",
                "    call_with(\n        \
                 app,\n        \
                 method,\n        \
                 path,\n        \
                 body,\n        \
                 Some(format!(\"Bearer {}\", valid_token())),\n    \
                 )\n    \
                 .await\n",
            ),
        ]
    } else {
        [
            ("crate_name", crate_name),
            ("helpers_imports", ""),
            ("helpers_constants", ""),
            (
                "test_config_body",
                "    Config::from_env(|_| None).expect(\"the test configuration is valid\")\n",
            ),
            ("call_doc", ""),
            (
                "call_body",
                "    call_with(app, method, path, body, None).await\n",
            ),
        ]
    };
    let (key_constant, config_body) =
        protection::common_test_values(values[3].1, spec.auth, !protection.encrypted.is_empty());
    let constants = format!("{}{key_constant}", values[2].1);
    values[2].1 = &constants;
    values[3].1 = &config_body;
    render(tmpl::COMMON_TEST, &values)
}

fn config_test_rs(
    spec: &IntentSpec,
    crate_name: &str,
    title: &str,
    port: &str,
    protection: &Protection,
) -> Result<String, PluginError> {
    let mut refusals = vec![("PORT", "eighty"), ("PORT", "70000"), ("PORT", "0")];
    let mut required = Vec::new();
    if spec.auth {
        refusals.extend([
            ("JWT_SECRET", ""),
            ("JWT_SECRET", "too-short"),
            ("JWT_EXPIRES_SECONDS", "0"),
            ("JWT_EXPIRES_SECONDS", "soon"),
        ]);
        required
            .push("(\"JWT_SECRET\", \"test-only-secret-of-at-least-32-characters\")".to_string());
    }
    let (more_required, more_refusals) = protection::config_test_additions(protection);
    required.extend(more_required);
    refusals.extend(more_refusals);
    let one_line = required.join(", ");
    let required =
        if "const REQUIRED: &[(&str, &str)] = &[];".len() + one_line.len() <= RUSTFMT_MAX_WIDTH {
            one_line
        } else {
            let lines: String = required.iter().map(|r| format!("    {r},\n")).collect();
            format!("\n{lines}")
        };
    let refusals: Vec<String> = refusals
        .iter()
        .map(|(variable, value)| format!("({}, {})", rust_string(variable), rust_string(value)))
        .collect();
    let one_line = format!("[{}]", refusals.join(", "));
    let refusals = if "    for (variable, value) in  {".len() + one_line.len() <= RUSTFMT_MAX_WIDTH
    {
        one_line
    } else {
        let lines: String = refusals.iter().map(|r| format!("        {r},\n")).collect();
        format!("[\n{lines}    ]")
    };
    render(
        tmpl::CONFIG_TEST,
        &[
            ("crate_name", crate_name),
            ("title", title),
            ("port", port),
            ("required_env", &required),
            ("config_refusals", &refusals),
        ],
    )
}

fn resource_test_rs(resource: &RustResource<'_>, crate_name: &str) -> Result<String, PluginError> {
    let mut invalid = String::new();
    let mut uses_text_limit = false;
    for field in resource.fields() {
        let json = rust_string(&field.name);
        let mut case = |value: &str| {
            invalid.push_str(&format!("        ({json}, json!({value})),\n"));
        };
        match field.kind {
            FieldKind::Text => {
                if field.required {
                    case("\"  \"");
                }
                case("\"x\".repeat(MAX_TEXT_LENGTH + 1)");
                case("42");
                uses_text_limit = true;
            }
            FieldKind::Integer => {
                if field.non_negative {
                    case("-1");
                }
                case("1.5");
                case("\"3\"");
            }
            FieldKind::Number => {
                if field.non_negative {
                    case("-0.5");
                }
                case("\"9.5\"");
            }
            FieldKind::Boolean => case("\"yes\""),
        }
    }
    let required: Vec<String> = resource
        .fields()
        .iter()
        .filter(|f| f.required)
        .map(|f| rust_string(&f.name))
        .collect();
    let optional: Vec<&Field> = resource.fields().iter().filter(|f| !f.required).collect();
    let optional_test = if optional.is_empty() {
        String::new()
    } else {
        let removals: String = optional
            .iter()
            .map(|f| format!("    body.remove({});\n", rust_string(&f.name)))
            .collect();
        let checks: String = optional
            .iter()
            .map(|f| {
                let absent = if f.kind == FieldKind::Boolean {
                    "json!(false)"
                } else {
                    "Value::Null"
                };
                format!(
                    "    assert_eq!(created[{}], {absent}, \"{{created}}\");\n",
                    rust_string(&f.name)
                )
            })
            .collect();
        format!(
            "\n#[tokio::test]\n\
             async fn accepts_a_body_without_its_optional_fields() {{\n    \
             let mut body = valid_body().as_object().expect(\"an object\").clone();\n\
             {removals}    \
             let (status, created) = call(\n        \
             &test_app(),\n        \
             Method::POST,\n        \
             \"/{p}\",\n        \
             Some(Value::Object(body)),\n    \
             )\n    \
             .await;\n    \
             assert_eq!(status, StatusCode::CREATED, \"{{created}}\");\n\
             {checks}}}\n",
            p = resource.plural(),
        )
    };
    let mut test_imports = String::new();
    if !resource.masked.is_empty() {
        test_imports.push_str(&format!("use {crate_name}::crypto::mask_card_number;\n"));
    }
    if uses_text_limit {
        test_imports.push_str(&format!("use {crate_name}::validation::MAX_TEXT_LENGTH;\n"));
    }
    if !test_imports.is_empty() {
        test_imports.insert(0, '\n');
    }
    let mut values = resource_values(resource);
    values.extend([
        ("test_imports", test_imports),
        ("valid_body", example_object(resource, false)),
        ("changed_body", example_object(resource, true)),
        ("required_list", format!("[{}]", required.join(", "))),
        ("invalid_cases", invalid),
        ("optional_test", optional_test),
        ("assert_holds", protection::assert_holds(resource)),
    ]);
    render(tmpl::RESOURCE_TEST, &as_pairs(&values))
}

fn readme_md(
    spec: &IntentSpec,
    resources: &[RustResource<'_>],
    title: &str,
    port: &str,
    protection: &Protection,
) -> Result<String, PluginError> {
    let mut feature_bullets = String::new();
    let mut run_note = String::new();
    let mut docker_env = String::new();
    let mut endpoint_rows = String::new();
    let mut auth_section = String::new();
    let mut config_rows = String::new();
    let mut database_section = String::new();
    let mut layout_extra = String::new();
    let mut dependency_note = String::new();
    let first = resources[0].plural();

    if spec.auth {
        feature_bullets.push_str(
            "- JWT (HS256) bearer-token authentication on every resource endpoint,\n  \
             built on `hmac` and `sha2`; the signing key comes from `JWT_SECRET`.\n",
        );
        dependency_note.push_str(", with `hmac`, `sha2` and `base64` for the tokens");
        run_note.push_str(
            "export JWT_SECRET=\"$(openssl rand -hex 32)\" AUTH_USERNAME=clerk AUTH_PASSWORD='choose one'\n",
        );
        docker_env.push_str(readme::AUTH_DOCKER_ENV);
        endpoint_rows.push_str(readme::TOKEN_ENDPOINT_ROW);
        let paths: Vec<String> = resources
            .iter()
            .map(|r| format!("`/{}`", r.plural()))
            .collect();
        auth_section = format!(
            "\n## Authentication\n\n\
             Every request to {} needs `Authorization: Bearer <token>`;\n\
             without a valid, unexpired token the answer is 401. Get a token with\n\
             the configured login:\n\n\
             ```sh\n\
             TOKEN=$(curl -s -X POST localhost:{port}/auth/token -H 'Content-Type: application/json' \\\n  \
             -d \"{{\\\"username\\\": \\\"$AUTH_USERNAME\\\", \\\"password\\\": \\\"$AUTH_PASSWORD\\\"}}\" | sed 's/.*\"access_token\":\"\\([^\"]*\\)\".*/\\1/')\n\
             curl -H \"Authorization: Bearer $TOKEN\" localhost:{port}/{first}\n\
             ```\n\n\
             Tokens are HS256 JSON Web Tokens signed with `JWT_SECRET`; only HS256\n\
             is accepted, never `none`. The secret is read from the environment and\n\
             never written in the code.\n",
            english_list(&paths)
        );
        config_rows.push_str(readme::AUTH_CONFIG_ROWS);
        layout_extra.push_str(
            "- `src/auth.rs`: JWT issue and verification, the token route, `require_user`.\n",
        );
    }
    if let Some(database) = spec.database {
        feature_bullets.push_str(&readme::database_bullet(database));
        config_rows.push_str(&readme::database_config_row(database));
        database_section = database_readme(database);
    }

    let mut model_docs = String::new();
    for resource in resources {
        endpoint_rows.push_str(&readme::endpoint_rows(
            resource.plural(),
            &resource.singular_words,
            &resource.resource.a_singular().replace('_', " "),
            spec.auth,
        ));
        model_docs.push_str(&readme::model_doc(
            &resource.model,
            resource.plural(),
            resource.resource.fields_from_intent,
            resource.fields(),
        ));
    }

    let curl_example = readme::curl_example(
        port,
        first,
        spec.auth,
        &example_object(&resources[0], false),
    );
    let protected = protection::readme_parts(spec, resources, protection);
    feature_bullets.push_str(&protected.feature);
    dependency_note.push_str(&protected.dependency);
    run_note.push_str(&protected.run);
    docker_env.push_str(&protected.docker);
    config_rows.push_str(&protected.config_rows);
    layout_extra.push_str(&protected.layout);
    let test_list: Vec<String> = test_files(spec, resources, protection)
        .iter()
        .map(|name| format!("`{name}.rs`"))
        .collect();
    layout_extra.push_str(&format!(
        "- `tests/api/`: the tests, one binary (`main.rs`) whose modules are\n  {}.\n",
        english_list(&test_list)
    ));

    render(
        tmpl::README,
        &[
            ("title", title),
            ("name", &spec.name),
            ("port", port),
            ("resource_list", &spec.resource_list()),
            ("intent_quote", &readme::intent_quote(&spec.description)),
            (
                "requirements_section",
                &readme::requirements_section(&spec.requirements),
            ),
            ("feature_bullets", &feature_bullets),
            ("dependency_note", &dependency_note),
            ("run_note", &run_note),
            ("curl_example", &curl_example),
            ("docker_env", &docker_env),
            ("endpoint_rows", &endpoint_rows),
            ("model_docs", &format!("{}\n", model_docs.trim_end())),
            ("auth_section", &auth_section),
            ("config_rows", &config_rows),
            ("database_section", &database_section),
            ("protection_section", &protected.section),
            ("layout_extra", &layout_extra),
        ],
    )
}

/// The README's "Database" section.
fn database_readme(database: Database) -> String {
    format!(
        "\n## Database\n\n\
         The intent asks for {db}. Every handler goes through the `Repository`\n\
         trait of `src/store.rs`, and `src/storage.rs` alone decides which\n\
         implementation backs each resource, from `DATABASE_URL`:\n\n\
         - unset, empty or `memory://`: in memory, lost on restart (the default,\n  \
         and what the tests use);\n\
         - `{example}`: {db}. The project has no database driver yet, so with\n  \
         such a URL the service refuses to start rather than silently keep\n  \
         records in memory. Implement `Repository` in `src/storage.rs`\n  \
         (`database_stores`) with a driver such as {driver}.\n",
        db = database.title(),
        example = database.example_url(),
        driver = database_driver(database),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use qlp_agent_testkit::text;
    use qlp_intent_spec::analyze;

    fn files_for(description: &str, requirements: &[&str]) -> Vec<File> {
        let intent = qlp_agent_testkit::intent(description, requirements, &[]);
        render_project(
            &analyze(&intent).expect("valid intent"),
            &Protection::default(),
        )
        .expect("renders")
    }

    #[test]
    fn no_template_syntax_survives_and_files_end_with_one_newline() {
        for (description, requirements) in [
            ("An API for invoices with JWT auth and PostgreSQL", &[][..]),
            (
                "A Rust service for tasks",
                &["Tasks have a title and a done flag"][..],
            ),
            (
                "Books and authors with SQLite",
                &["Books have a title and a page count"][..],
            ),
        ] {
            qlp_agent_testkit::assert_rendered_cleanly(&files_for(description, requirements));
        }
    }

    fn protected_files(description: &str, concern: &str) -> (Vec<File>, Protection) {
        let intent = qlp_agent_testkit::intent(description, &[], &[("compliance", concern)]);
        let mut spec = analyze(&intent).expect("valid intent");
        let protection = qlp_intent_spec::protection::protect(&intent, &[], &mut spec);
        (
            render_project(&spec, &protection).expect("renders"),
            protection,
        )
    }

    #[test]
    fn a_payments_concern_encrypts_masks_and_drops_the_cvv() {
        let (files, protection) = protected_files(
            "A payments API for cards. Each card has a cardholder name, a card number, a \
             cvv and an optional pan.",
            "payments",
        );
        qlp_agent_testkit::assert_rendered_cleanly(&files);
        assert_eq!(protection.dropped, [("cards".into(), "cvv".into())]);
        let models = text(&files, "src/models.rs");
        assert!(!models.contains("cvv"), "{models}");
        for line in [
            "use crate::crypto::{decrypt, decrypt_optional, encrypt, mask_card_number, \
             DecryptError, FieldKey};",
            "pan: self.pan.map(|value| encrypt(key, &value)),",
            "pan: decrypt_optional(key, self.pan.as_deref())?\n                \
             .map(|number| mask_card_number(&number)),",
            "cardholder_name: self.cardholder_name.clone(),",
        ] {
            assert!(models.contains(line), "models.rs has {line}:\n{models}");
        }
        let storage = text(&files, "src/storage.rs");
        assert!(
            storage.contains("Arc<dyn Repository<CardRow>>"),
            "{storage}"
        );
        let tests = text(&files, "tests/api/cards.rs");
        assert!(tests.contains("const MASKED: &[&str] = &[\"card_number\", \"pan\"];"));
        assert!(
            tests.contains("\"card_number\": \"4111111111111111\""),
            "{tests}"
        );
        let config = text(&files, "tests/api/config.rs");
        assert!(config.contains("(\"FIELD_ENCRYPTION_KEY\", crate::common::TEST_FIELD_KEY)"));
        assert!(
            config.contains("(\"RECORD_RETENTION_DAYS\", \"0\")"),
            "{config}"
        );
    }

    #[test]
    fn a_concern_reserves_the_names_of_the_protection_types() {
        let (files, _) = protected_files("A health API for actors with a diagnosis", "hipaa");
        let models = text(&files, "src/models.rs");
        assert!(models.contains("pub struct ActorItem {"), "{models}");
        // Without a concern the name is the model's own.
        let files = files_for("A Rust API for actors", &[]);
        let models = text(&files, "src/models.rs");
        assert!(models.contains("pub struct Actor {"), "{models}");
    }

    #[test]
    fn keyword_fields_become_raw_identifiers_with_their_json_names() {
        let files = files_for(
            "A Rust API for shipments",
            &["Shipments have a type, a ref and a self link"],
        );
        let models = text(&files, "src/models.rs");
        assert!(models.contains("pub r#type: String,"), "{models}");
        assert!(models.contains("pub r#ref: String,"), "{models}");
        assert_eq!(rust_ident("self"), "self_");
        assert!(needs_rename("self") && !needs_rename("type"));
    }

    #[test]
    fn a_model_never_takes_a_reserved_type_name() {
        let files = files_for("A Rust service to manage configs and values", &[]);
        let models = text(&files, "src/models.rs");
        assert!(models.contains("pub struct ConfigItem {"), "{models}");
        assert!(models.contains("pub struct ValueItem {"), "{models}");
    }
}
