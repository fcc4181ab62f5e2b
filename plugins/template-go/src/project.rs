//! Rendering an [`IntentSpec`] into the files of a Go project.
//!
//! The fixed parts of the files live under `templates/` and are compiled
//! into the plugin; this module spells the spec's names the Go way
//! (`unit_price` → `UnitPrice`), writes the parts that follow the intent's
//! resources and fields (structs, validation, handlers, test bodies) and
//! decides which files exist. Struct fields are aligned as `gofmt` aligns
//! them, so the generated code is already formatted. Everything is derived
//! from the spec alone, in a fixed order, so one request always gives
//! byte-identical files.

mod protected;

use qlp_intent_spec::protection::Protection;
use qlp_intent_spec::readme;
use qlp_intent_spec::spec::english_list;
use qlp_intent_spec::template::{as_pairs, render};
use qlp_intent_spec::{Database, Field, FieldKind, IntentSpec, Resource, words};
use qlp_sdk::{File, PluginError};

/// The port the service listens on when the intent names none: the usual
/// port of a Go HTTP service.
pub const DEFAULT_PORT: u16 = 8080;

pub use qlp_intent_spec::readme::MAX_QUOTED_INTENT_CHARS;

mod tmpl {
    //! The template files, compiled into the plugin.

    pub const MAIN: &str = include_str!("../templates/main.go.tmpl");
    pub const CONFIG: &str = include_str!("../templates/config.go.tmpl");
    pub const SERVER: &str = include_str!("../templates/server.go.tmpl");
    pub const STORE: &str = include_str!("../templates/store.go.tmpl");
    pub const STORAGE_MEMORY: &str = include_str!("../templates/storage_memory.go.tmpl");
    pub const STORAGE_DATABASE: &str = include_str!("../templates/storage_database.go.tmpl");
    pub const AUTH: &str = include_str!("../templates/auth.go.tmpl");
    pub const HANDLERS: &str = include_str!("../templates/handlers.go.tmpl");
    pub const HELPERS_TEST: &str = include_str!("../templates/helpers_test.go.tmpl");
    pub const HEALTH_TEST: &str = include_str!("../templates/health_test.go.tmpl");
    pub const CONFIG_TEST: &str = include_str!("../templates/config_test.go.tmpl");
    pub const RESOURCE_TEST: &str = include_str!("../templates/resource_test.go.tmpl");
    pub const AUTH_TEST: &str = include_str!("../templates/auth_test.go.tmpl");
    pub const STORAGE_TEST: &str = include_str!("../templates/storage_test.go.tmpl");
    pub const DOCKERFILE: &str = include_str!("../templates/Dockerfile.tmpl");
    pub const DOCKERIGNORE: &str = include_str!("../templates/dockerignore.tmpl");
    pub const GITIGNORE: &str = include_str!("../templates/gitignore.tmpl");
    pub const README: &str = include_str!("../templates/README.md.tmpl");
    pub const README_AUTH: &str = include_str!("../templates/readme_auth.md.tmpl");
    pub const README_DATABASE: &str = include_str!("../templates/readme_database.md.tmpl");
    pub const HANDLERS_PROTECTED: &str = include_str!("../templates/handlers_protected.go.tmpl");
    pub const CRYPTO: &str = include_str!("../templates/crypto.go.tmpl");
    pub const AUDIT: &str = include_str!("../templates/audit.go.tmpl");
    pub const RETENTION: &str = include_str!("../templates/retention.go.tmpl");
}

/// Type names the generated package defines; a model must not take one.
const RESERVED_TYPE_NAMES: &[&str] = &[
    "AuditEntry",
    "AuditLog",
    "Claims",
    "Config",
    "ErrorResponse",
    "FieldCipher",
    "MemoryRepository",
    "Repository",
    "Server",
    "Stores",
    "TokenRequest",
    "TokenResponse",
];

/// Suffix added to a model name that would clash with a reserved one.
const TYPE_NAME_SUFFIX: &str = "Record";

/// Methods of the generated input types; a field must not take their name.
const RESERVED_FIELD_NAMES: &[&str] = &["CreatedAt", "ID", "Record", "Validate"];

/// Suffix added to a Go field name that would clash with a method.
const FIELD_NAME_SUFFIX: &str = "Value";

/// A resource with its Go names.
struct GoResource<'a> {
    resource: &'a Resource,
    /// The struct type, e.g. `Invoice`.
    model: String,
    /// The plural in Pascal case, e.g. `Invoices`: the `Stores` field and
    /// the handler's name.
    plurals: String,
    fields: Vec<GoField<'a>>,
}

/// A field with its Go name.
struct GoField<'a> {
    field: &'a Field,
    /// The struct field, e.g. `UnitPrice`.
    name: String,
}

impl<'a> GoResource<'a> {
    fn new(resource: &'a Resource) -> Self {
        let mut model = words::pascal_case(&resource.singular);
        if RESERVED_TYPE_NAMES.contains(&model.as_str()) {
            model.push_str(TYPE_NAME_SUFFIX);
        }
        let fields = resource
            .fields
            .iter()
            .map(|field| {
                let mut name = words::pascal_case(&field.name);
                if RESERVED_FIELD_NAMES.contains(&name.as_str()) {
                    name.push_str(FIELD_NAME_SUFFIX);
                }
                GoField { field, name }
            })
            .collect();
        Self {
            resource,
            model,
            plurals: words::pascal_case(&resource.plural),
            fields,
        }
    }

    fn plural(&self) -> &str {
        &self.resource.plural
    }
}

impl GoField<'_> {
    fn base_type(&self) -> &'static str {
        match self.field.kind {
            FieldKind::Text => "string",
            FieldKind::Integer => "int64",
            FieldKind::Number => "float64",
            FieldKind::Boolean => "bool",
        }
    }

    /// The type in the stored record: optional values are pointers, so
    /// that an absent one is `null` in JSON; a flag is `false` when absent.
    fn record_type(&self) -> String {
        if self.field.required || self.field.kind == FieldKind::Boolean {
            self.base_type().to_string()
        } else {
            format!("*{}", self.base_type())
        }
    }

    fn tag(&self) -> String {
        format!("`json:\"{}\"`", self.field.name)
    }
}

/// Struct fields aligned in columns as `gofmt` writes them.
fn struct_fields(rows: &[(String, String, String)]) -> String {
    let name_width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    let type_width = rows.iter().map(|r| r.1.len()).max().unwrap_or(0);
    rows.iter()
        .map(|(name, ty, tag)| {
            if tag.is_empty() {
                format!("\t{name:<name_width$} {ty}\n")
            } else {
                format!("\t{name:<name_width$} {ty:<type_width$} {tag}\n")
            }
        })
        .collect()
}

/// A Go string literal; the spec's names and our example values are plain
/// ASCII, but quotes and backslashes are escaped all the same.
fn go_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A Go `[]string{...}` literal.
fn string_slice<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let quoted: Vec<String> = items.into_iter().map(go_string).collect();
    format!("[]string{{{}}}", quoted.join(", "))
}

/// The example value of a field in tests and documentation, as Go source
/// and as JSON (they coincide for these values).
fn example_value(field: &Field, changed: bool) -> String {
    field.example_value(changed, go_string)
}

/// `{"name": "example name", "price": 9.5}` as a Go map literal or JSON.
fn example_object(resource: &GoResource<'_>, changed: bool, go: bool) -> String {
    let pairs: Vec<String> = resource
        .fields
        .iter()
        .map(|f| {
            format!(
                "{}: {}",
                go_string(&f.field.name),
                example_value(f.field, changed)
            )
        })
        .collect();
    if go {
        format!("map[string]any{{{}}}", pairs.join(", "))
    } else {
        format!("{{{}}}", pairs.join(", "))
    }
}

/// Renders every file of the project described by `spec`, applying
/// `protection` (nothing changes when it asks for nothing; see
/// [`protected`]).
pub fn render_project(
    spec: &IntentSpec,
    protection: &Protection,
) -> Result<Vec<File>, PluginError> {
    let resources: Vec<GoResource<'_>> = spec.resources.iter().map(GoResource::new).collect();
    let title = spec.title();
    let resource_list = spec.resource_list();
    let port = spec.port.unwrap_or(DEFAULT_PORT).to_string();
    let common: [(&str, &str); 4] = [
        ("name", &spec.name),
        ("title", &title),
        ("resource_list", &resource_list),
        ("port", &port),
    ];

    let mut files = vec![
        (
            "go.mod".to_string(),
            format!("module {}\n\ngo 1.19\n", spec.name),
        ),
        ("main.go".to_string(), render(tmpl::MAIN, &common)?),
        (
            "config.go".to_string(),
            config_go(spec, protection, &title, &port)?,
        ),
        (
            "server.go".to_string(),
            server_go(spec, protection, &resources)?,
        ),
        ("models.go".to_string(), models_go(&resources, protection)),
        ("validation.go".to_string(), validation_go(&resources)),
        ("store.go".to_string(), render(tmpl::STORE, &[])?),
        ("storage.go".to_string(), storage_go(spec, &resources)?),
    ];
    if spec.auth {
        files.push((
            "auth.go".to_string(),
            render(tmpl::AUTH, &protected::auth_values(protection))?,
        ));
    }
    for resource in &resources {
        let handlers = if protection.any() {
            protected::handlers_go(resource, protection)?
        } else {
            render(tmpl::HANDLERS, &as_pairs(&resource_values(resource)))?
        };
        files.push((format!("{}_handlers.go", resource.plural()), handlers));
    }
    files.extend(protected::files(spec, protection, &resources)?);

    files.push((
        "helpers_test.go".to_string(),
        helpers_test_go(spec, protection)?,
    ));
    files.push((
        "health_test.go".to_string(),
        render(tmpl::HEALTH_TEST, &[])?,
    ));
    files.push((
        "config_test.go".to_string(),
        config_test_go(spec, protection, &title, &port)?,
    ));
    for resource in &resources {
        files.push((
            format!("{}_handlers_test.go", resource.plural()),
            resource_test_go(resource, protection)?,
        ));
    }
    if spec.auth {
        let paths: Vec<String> = resources
            .iter()
            .map(|r| format!("/{}", r.plural()))
            .collect();
        let paths = string_slice(paths.iter().map(String::as_str));
        files.push((
            "auth_test.go".to_string(),
            render(
                tmpl::AUTH_TEST,
                &[
                    ("protected_paths", &paths),
                    ("extra_test_env", protected::auth_test_env(protection)),
                ],
            )?,
        ));
    }
    if let Some(database) = spec.database {
        files.push((
            "storage_test.go".to_string(),
            render(tmpl::STORAGE_TEST, &as_pairs(&database_values(database)))?,
        ));
    }

    files.push((
        "README.md".to_string(),
        readme_md(spec, protection, &resources, &title, &port)?,
    ));
    files.push(("Dockerfile".to_string(), render(tmpl::DOCKERFILE, &common)?));
    files.push((
        ".dockerignore".to_string(),
        render(tmpl::DOCKERIGNORE, &common)?,
    ));
    files.push((".gitignore".to_string(), render(tmpl::GITIGNORE, &common)?));

    Ok(files
        .into_iter()
        .map(|(path, text)| File::text(path, text))
        .collect())
}

fn resource_values<'a>(resource: &'a GoResource<'a>) -> Vec<(&'static str, String)> {
    vec![
        ("plural", resource.plural().to_string()),
        ("singular", resource.resource.singular.clone()),
        ("a_singular", resource.resource.a_singular()),
        ("Model", resource.model.clone()),
        ("Plurals", resource.plurals.clone()),
    ]
}

fn database_driver(database: Database) -> &'static str {
    match database {
        Database::Postgres => "github.com/jackc/pgx",
        Database::Mysql => "github.com/go-sql-driver/mysql",
        Database::Sqlite => "modernc.org/sqlite",
        Database::Mongo => "go.mongodb.org/mongo-driver",
    }
}

fn database_values(database: Database) -> Vec<(&'static str, String)> {
    vec![
        ("database", database.title().to_string()),
        ("DatabaseKey", words::capitalize(database.key())),
        ("database_example", database.example_url().to_string()),
        (
            "database_schemes",
            string_slice(database.schemes().iter().copied()),
        ),
        ("database_driver", database_driver(database).to_string()),
    ]
}

/// The parts of `config.go` that depend on the intent.
#[derive(Default)]
struct ConfigParts {
    imports: String,
    constants: String,
    doc: String,
    fields: Vec<(String, String, String)>,
    reads: String,
    checks: String,
    /// Functions after `LoadConfig`, each reading one setting, so that
    /// `LoadConfig` stays a list of reads.
    functions: String,
}

impl ConfigParts {
    /// Imports `package` once.
    fn import(&mut self, package: &str) {
        let line = format!("\t\"{package}\"\n");
        if !self.imports.contains(&line) {
            self.imports.push_str(&line);
        }
    }
}

fn config_go(
    spec: &IntentSpec,
    protection: &Protection,
    title: &str,
    port: &str,
) -> Result<String, PluginError> {
    let mut parts = ConfigParts {
        fields: vec![
            ("AppName".into(), "string".into(), String::new()),
            ("Port".into(), "string".into(), String::new()),
        ],
        ..ConfigParts::default()
    };
    if spec.database.is_some() {
        parts
            .doc
            .push_str("//   - DATABASE_URL: where records are kept; see storage.go.\n");
        parts
            .fields
            .push(("DatabaseURL".into(), "string".into(), String::new()));
        parts
            .reads
            .push_str("\tcfg.DatabaseURL = getenv(\"DATABASE_URL\")\n");
    }
    if spec.auth {
        auth_config(&mut parts);
    }
    protected::extend_config(&mut parts, protection);
    render(
        tmpl::CONFIG,
        &[
            ("title", title),
            ("port", port),
            ("config_imports", &parts.imports),
            ("config_constants", &parts.constants),
            ("config_doc", &parts.doc),
            ("config_fields", &struct_fields(&parts.fields)),
            ("config_reads", &parts.reads),
            ("config_checks", &parts.checks),
            ("config_functions", &parts.functions),
        ],
    )
}

/// The JWT settings of `config.go`.
fn auth_config(parts: &mut ConfigParts) {
    parts.import("time");
    parts.constants.push_str(
        "\n// minSecretLength is the shortest JWT_SECRET accepted: an HS256 key shorter\n\
         // than the hash's 32 bytes weakens the signature (RFC 7518, section 3.2).\n\
         const minSecretLength = 32\n\
         \n\
         // defaultTokenTTL is the lifetime of an issued token: an hour bounds the use\n\
         // of a leaked token without asking for frequent logins.\n\
         const defaultTokenTTL = time.Hour\n",
    );
    parts.doc.push_str(
        "//   - JWT_SECRET (required): the key that signs and verifies tokens, a\n\
         //     random value of at least 32 characters.\n\
         //   - JWT_EXPIRES_SECONDS: the lifetime of an issued token, 3600 by default.\n\
         //   - AUTH_USERNAME, AUTH_PASSWORD: the login POST /auth/token accepts;\n\
         //     without them it answers 503.\n",
    );
    for (name, ty) in [
        ("JWTSecret", "string"),
        ("TokenTTL", "time.Duration"),
        ("AuthUsername", "string"),
        ("AuthPassword", "string"),
    ] {
        parts.fields.push((name.into(), ty.into(), String::new()));
    }
    parts.reads.push_str(
        "\tcfg.JWTSecret = getenv(\"JWT_SECRET\")\n\
         \tcfg.AuthUsername = getenv(\"AUTH_USERNAME\")\n\
         \tcfg.AuthPassword = getenv(\"AUTH_PASSWORD\")\n",
    );
    parts.checks.push_str(
        "\tif len(cfg.JWTSecret) < minSecretLength {\n\
         \t\treturn Config{}, fmt.Errorf(\"JWT_SECRET must be set to a random value of at least %d characters\", minSecretLength)\n\
         \t}\n\
         \ttokenTTL, err := tokenTTLFrom(getenv(\"JWT_EXPIRES_SECONDS\"))\n\
         \tif err != nil {\n\
         \t\treturn Config{}, err\n\
         \t}\n\
         \tcfg.TokenTTL = tokenTTL\n",
    );
    parts.functions.push_str(
        "\n// tokenTTLFrom reads JWT_EXPIRES_SECONDS: the default when it is empty,\n\
         // else a positive number of seconds.\n\
         func tokenTTLFrom(raw string) (time.Duration, error) {\n\
         \tif raw == \"\" {\n\
         \t\treturn defaultTokenTTL, nil\n\
         \t}\n\
         \tseconds, err := strconv.Atoi(raw)\n\
         \tif err != nil || seconds < 1 {\n\
         \t\treturn 0, fmt.Errorf(\"JWT_EXPIRES_SECONDS must be a positive number of seconds, not %q\", raw)\n\
         \t}\n\
         \treturn time.Duration(seconds) * time.Second, nil\n\
         }\n",
    );
}

fn server_go(
    spec: &IntentSpec,
    protection: &Protection,
    resources: &[GoResource<'_>],
) -> Result<String, PluginError> {
    let mut imports = vec![
        "encoding/json",
        "errors",
        "io",
        "net/http",
        "strconv",
        "strings",
    ];
    let mut fields: Vec<(String, String, String)> = [
        ("cfg", "Config"),
        ("stores", "*Stores"),
        ("mux", "*http.ServeMux"),
    ]
    .iter()
    .map(|(name, ty)| (name.to_string(), ty.to_string(), String::new()))
    .collect();
    let mut init = String::new();
    protected::extend_server(protection, &mut imports, &mut fields, &mut init);
    imports.sort_unstable();
    let imports: String = imports.iter().map(|i| format!("\t\"{i}\"\n")).collect();
    let mut routes = String::new();
    if spec.auth {
        routes.push_str("\ts.mux.HandleFunc(\"/auth/token\", s.handleToken)\n");
    }
    for resource in resources {
        let (collection, one) = (
            format!("s.handle{}", resource.plurals),
            format!("s.handle{}ByID", resource.model),
        );
        let plural = resource.plural();
        if spec.auth {
            routes.push_str(&format!(
                "\ts.mux.Handle(\"/{plural}\", s.protect({collection}))\n\
                 \ts.mux.Handle(\"/{plural}/\", s.protect({one}))\n"
            ));
        } else {
            routes.push_str(&format!(
                "\ts.mux.HandleFunc(\"/{plural}\", {collection})\n\
                 \ts.mux.HandleFunc(\"/{plural}/\", {one})\n"
            ));
        }
    }
    render(
        tmpl::SERVER,
        &[
            ("server_imports", &imports),
            ("server_fields", &struct_fields(&fields)),
            ("server_init", &init),
            ("routes", &routes),
        ],
    )
}

fn models_go(resources: &[GoResource<'_>], protection: &Protection) -> String {
    let mut out = String::from("package main\n\n");
    out.push_str(protected::models_imports(protection));
    out.push_str(
        "// The records of each resource as the API stores and returns them, and\n\
         // the request bodies that create or replace them. Optional values are\n\
         // pointers, so that an absent value is null in JSON.\n",
    );
    out.push_str(protected::models_constants(protection));
    for resource in resources {
        let model = &resource.model;
        let singular = &resource.resource.singular;
        let a_singular = resource.resource.a_singular();

        let mut record = vec![(
            "ID".to_string(),
            "int64".to_string(),
            "`json:\"id\"`".to_string(),
        )];
        record.extend(
            resource
                .fields
                .iter()
                .map(|f| (f.name.clone(), f.record_type(), f.tag())),
        );
        if protection.retention_days.is_some() {
            record.push((
                "CreatedAt".into(),
                "time.Time".into(),
                "`json:\"created_at\"`".into(),
            ));
        }
        let input: Vec<(String, String, String)> = resource
            .fields
            .iter()
            .map(|f| (f.name.clone(), format!("*{}", f.base_type()), f.tag()))
            .collect();

        let mut checks = String::new();
        let mut assignments = String::new();
        for f in &resource.fields {
            let (name, json, required) = (&f.name, go_string(&f.field.name), f.field.required);
            let non_negative = f.field.non_negative;
            checks.push_str(&match f.field.kind {
                FieldKind::Text => {
                    format!("\tcheckText(problems, {json}, in.{name}, {required})\n")
                }
                FieldKind::Integer => format!(
                    "\tcheckInteger(problems, {json}, in.{name}, {required}, {non_negative})\n"
                ),
                FieldKind::Number => format!(
                    "\tcheckNumber(problems, {json}, in.{name}, {required}, {non_negative})\n"
                ),
                FieldKind::Boolean => {
                    format!("\tcheckBoolean(problems, {json}, in.{name}, {required})\n")
                }
            });
            assignments.push_str(&if f.field.kind == FieldKind::Boolean {
                format!("\trecord.{name} = in.{name} != nil && *in.{name}\n")
            } else if f.field.required {
                format!("\trecord.{name} = *in.{name}\n")
            } else {
                format!("\trecord.{name} = in.{name}\n")
            });
        }

        out.push_str(&format!(
            "\n// {model} is one {singular} as the API stores and returns it.\n\
             {stored_doc}\
             type {model} struct {{\n{record}}}\n\
             \n\
             // {model}Input is the body of a request that creates or replaces {a_singular}.\n\
             type {model}Input struct {{\n{input}}}\n\
             \n\
             // Validate returns what is wrong with the input, by field name; nothing\n\
             // when it is valid.\n\
             func (in {model}Input) Validate() map[string]string {{\n\
             \tproblems := map[string]string{{}}\n\
             {checks}\
             \treturn problems\n\
             }}\n\
             \n\
             // Record is the {singular} with the given id and the input's values; the\n\
             // input must be valid.\n\
             func (in {model}Input) Record(id int64) {model} {{\n\
             \trecord := {model}{{ID: id}}\n\
             {assignments}\
             \treturn record\n\
             }}\n",
            record = struct_fields(&record),
            input = struct_fields(&input),
            stored_doc = protected::stored_doc(resource, protection),
        ));
        out.push_str(&protected::model_methods(resource, protection));
    }
    out
}

fn validation_go(resources: &[GoResource<'_>]) -> String {
    let uses = |kind: FieldKind| {
        resources
            .iter()
            .flat_map(|r| &r.fields)
            .any(|f| f.field.kind == kind)
    };
    let mut out = String::from("package main\n");
    if uses(FieldKind::Text) {
        out.push_str(
            "\nimport (\n\t\"fmt\"\n\t\"strings\"\n\t\"unicode/utf8\"\n)\n\
             \n\
             // maxTextLength bounds a text field, in characters: enough for a name or\n\
             // a note, and a bound on what one record can make the server keep.\n\
             const maxTextLength = 2000\n",
        );
    }
    out.push_str(
        "\n// The checks of the request bodies' fields. Each records what is wrong\n\
         // with one field in problems, by the field's JSON name.\n",
    );
    if uses(FieldKind::Text) {
        out.push_str(
            "\n// checkText: required text must be present and not blank, and no text may\n\
             // be longer than maxTextLength.\n\
             func checkText(problems map[string]string, name string, value *string, required bool) {\n\
             \tswitch {\n\
             \tcase value == nil:\n\
             \t\tif required {\n\
             \t\t\tproblems[name] = \"is required\"\n\
             \t\t}\n\
             \tcase required && strings.TrimSpace(*value) == \"\":\n\
             \t\tproblems[name] = \"must not be empty\"\n\
             \tcase utf8.RuneCountInString(*value) > maxTextLength:\n\
             \t\tproblems[name] = fmt.Sprintf(\"must be at most %d characters\", maxTextLength)\n\
             \t}\n\
             }\n",
        );
    }
    for (kind, function, ty, what) in [
        (FieldKind::Integer, "checkInteger", "int64", "whole number"),
        (FieldKind::Number, "checkNumber", "float64", "number"),
    ] {
        if uses(kind) {
            out.push_str(&format!(
                "\n// {function}: a required {what} must be present, and may have to be\n\
                 // zero or more.\n\
                 func {function}(problems map[string]string, name string, value *{ty}, required, nonNegative bool) {{\n\
                 \tswitch {{\n\
                 \tcase value == nil:\n\
                 \t\tif required {{\n\
                 \t\t\tproblems[name] = \"is required\"\n\
                 \t\t}}\n\
                 \tcase nonNegative && *value < 0:\n\
                 \t\tproblems[name] = \"must be zero or more\"\n\
                 \t}}\n\
                 }}\n"
            ));
        }
    }
    if uses(FieldKind::Boolean) {
        out.push_str(
            "\n// checkBoolean: a required flag must be present.\n\
             func checkBoolean(problems map[string]string, name string, value *bool, required bool) {\n\
             \tif value == nil && required {\n\
             \t\tproblems[name] = \"is required\"\n\
             \t}\n\
             }\n",
        );
    }
    out
}

fn storage_go(spec: &IntentSpec, resources: &[GoResource<'_>]) -> Result<String, PluginError> {
    let fields: Vec<(String, String, String)> = resources
        .iter()
        .map(|r| {
            (
                r.plurals.clone(),
                format!("Repository[{}]", r.model),
                String::new(),
            )
        })
        .collect();
    let memory: String = resources
        .iter()
        .map(|r| {
            format!(
                "\tstores.{} = NewMemoryRepository[{}]()\n",
                r.plurals, r.model
            )
        })
        .collect();
    let stores_fields = struct_fields(&fields);
    let mut values = vec![("stores_fields", stores_fields), ("stores_memory", memory)];
    match spec.database {
        Some(database) => {
            values.extend(database_values(database));
            render(tmpl::STORAGE_DATABASE, &as_pairs(&values))
        }
        None => render(tmpl::STORAGE_MEMORY, &as_pairs(&values)),
    }
}

fn helpers_test_go(spec: &IntentSpec, protection: &Protection) -> Result<String, PluginError> {
    let [imports, constants, test_env, call_doc, call_authorization] = if spec.auth {
        [
            ("helpers_imports", "\t\"time\"\n"),
            (
                "helpers_constants",
                "\n// The login and signing secret the tests configure; the service reads its\n\
                 // own from the environment.\n\
                 const (\n\
                 \ttestSecret   = \"test-only-secret-of-at-least-32-characters\"\n\
                 \ttestUsername = \"clerk\"\n\
                 \ttestPassword = \"correct horse battery staple\"\n\
                 )\n\
                 \n\
                 // validToken is a token the test server accepts.\n\
                 func validToken(t *testing.T) string {\n\
                 \tt.Helper()\n\
                 \tnow := time.Now()\n\
                 \ttoken, err := signToken(Claims{Subject: testUsername, IssuedAt: now.Unix(), ExpiresAt: now.Add(time.Hour).Unix()}, testSecret)\n\
                 \tif err != nil {\n\
                 \t\tt.Fatal(err)\n\
                 \t}\n\
                 \treturn token\n\
                 }\n",
            ),
            (
                "test_env",
                "\tswitch name {\n\
                 \tcase \"JWT_SECRET\":\n\
                 \t\treturn testSecret\n\
                 \tcase \"AUTH_USERNAME\":\n\
                 \t\treturn testUsername\n\
                 \tcase \"AUTH_PASSWORD\":\n\
                 \t\treturn testPassword\n\
                 \t}\n",
            ),
            ("call_doc", " with a valid bearer token"),
            ("call_authorization", "\"Bearer \"+validToken(t)"),
        ]
    } else {
        [
            ("helpers_imports", ""),
            ("helpers_constants", ""),
            ("test_env", ""),
            ("call_doc", ""),
            ("call_authorization", "\"\""),
        ]
    };
    let (mut constants, mut test_env) = (constants.1.to_string(), test_env.1.to_string());
    protected::extend_test_env(protection, &mut constants, &mut test_env);
    render(
        tmpl::HELPERS_TEST,
        &[
            imports,
            ("helpers_constants", &constants),
            ("test_env", &test_env),
            call_doc,
            call_authorization,
        ],
    )
}

fn config_test_go(
    spec: &IntentSpec,
    protection: &Protection,
    title: &str,
    port: &str,
) -> Result<String, PluginError> {
    let mut refusals = vec![("PORT", "eighty"), ("PORT", "70000")];
    if spec.auth {
        refusals.extend([
            ("JWT_SECRET", ""),
            ("JWT_SECRET", "too-short"),
            ("JWT_EXPIRES_SECONDS", "0"),
            ("JWT_EXPIRES_SECONDS", "soon"),
        ]);
    }
    refusals.extend(protected::config_refusals(protection));
    let refusals: String = refusals
        .iter()
        .map(|(variable, value)| {
            format!("\t\t{{{}, {}}},\n", go_string(variable), go_string(value))
        })
        .collect();
    render(
        tmpl::CONFIG_TEST,
        &[
            ("title", title),
            ("port", port),
            ("config_refusals", &refusals),
        ],
    )
}

fn resource_test_go(
    resource: &GoResource<'_>,
    protection: &Protection,
) -> Result<String, PluginError> {
    let mut invalid = String::new();
    let mut uses_strings = false;
    for f in &resource.fields {
        let name = &f.field.name;
        let json = go_string(name);
        match f.field.kind {
            FieldKind::Text => {
                if f.field.required {
                    invalid.push_str(&format!(
                        "\t\t{{{}, {json}, \"  \"}},\n",
                        go_string(&format!("{name} blank"))
                    ));
                }
                invalid.push_str(&format!(
                    "\t\t{{{}, {json}, strings.Repeat(\"x\", maxTextLength+1)}},\n",
                    go_string(&format!("{name} too long"))
                ));
                uses_strings = true;
            }
            FieldKind::Integer | FieldKind::Number if f.field.non_negative => {
                invalid.push_str(&format!(
                    "\t\t{{{}, {json}, -1}},\n",
                    go_string(&format!("{name} negative"))
                ));
            }
            _ => {}
        }
    }
    let key = resource
        .fields
        .iter()
        .find(|f| f.field.name == resource.resource.key_field().name)
        .expect("the key field is one of the fields");
    let wrong_type = if key.field.kind == FieldKind::Text {
        "42"
    } else {
        "\"not a value\""
    };
    let required = string_slice(
        resource
            .fields
            .iter()
            .filter(|f| f.field.required)
            .map(|f| f.field.name.as_str()),
    );
    let mut values = resource_values(resource);
    values.extend([
        (
            "test_imports",
            if uses_strings { "\t\"strings\"\n" } else { "" }.to_string(),
        ),
        ("valid_body", example_object(resource, false, true)),
        ("changed_body", example_object(resource, true, true)),
        ("required_list", required),
        ("invalid_cases", invalid),
        ("key_field", key.field.name.clone()),
        ("wrong_type_value", wrong_type.to_string()),
        (
            "shown_valid",
            protected::shown_body(resource, protection, false),
        ),
        (
            "shown_changed",
            protected::shown_body(resource, protection, true),
        ),
    ]);
    render(tmpl::RESOURCE_TEST, &as_pairs(&values))
}

fn readme_md(
    spec: &IntentSpec,
    protection: &Protection,
    resources: &[GoResource<'_>],
    title: &str,
    port: &str,
) -> Result<String, PluginError> {
    let mut feature_bullets = String::new();
    let mut run_note = String::new();
    let mut docker_env = String::new();
    let mut endpoint_rows = String::new();
    let mut auth_section = String::new();
    let mut config_rows = String::new();
    let mut database_section = String::new();
    let mut layout_extra = String::new();
    let first = resources[0].plural();

    if spec.auth {
        feature_bullets.push_str(
            "- JWT (HS256) bearer-token authentication on every resource endpoint, built\n  \
             on the standard library; the signing key comes from `JWT_SECRET`.\n",
        );
        run_note.push_str(
            "# JWT_SECRET, AUTH_USERNAME and AUTH_PASSWORD must be set first: see Authentication.\n",
        );
        docker_env.push_str(readme::AUTH_DOCKER_ENV);
        endpoint_rows.push_str(readme::TOKEN_ENDPOINT_ROW);
        let paths: Vec<String> = resources
            .iter()
            .map(|r| format!("`/{}`", r.plural()))
            .collect();
        auth_section = render(
            tmpl::README_AUTH,
            &[
                ("first", first),
                ("protected", &english_list(&paths)),
                ("port", port),
            ],
        )?;
        config_rows.push_str(readme::AUTH_CONFIG_ROWS);
        layout_extra
            .push_str("- `auth.go`: JWT issue and verification, the token endpoint, `protect`.\n");
    }
    if let Some(database) = spec.database {
        feature_bullets.push_str(&readme::database_bullet(database));
        config_rows.push_str(&readme::database_config_row(database));
        database_section = render(tmpl::README_DATABASE, &as_pairs(&database_values(database)))?;
    }
    if protection.any() {
        let extra = protected::readme_extra(protection, resources);
        feature_bullets.push_str(&extra.feature_bullets);
        run_note.push_str(&extra.run_note);
        docker_env.push_str(&extra.docker_env);
        config_rows.push_str(&extra.config_rows);
        auth_section.push_str(&extra.section);
        layout_extra.push_str(&extra.layout);
    }

    let mut model_docs = String::new();
    for resource in resources {
        endpoint_rows.push_str(&readme::endpoint_rows(
            resource.plural(),
            &resource.resource.singular,
            &resource.resource.a_singular(),
            spec.auth,
        ));
        model_docs.push_str(&readme::model_doc(
            &resource.model,
            resource.plural(),
            resource.resource.fields_from_intent,
            resource.fields.iter().map(|f| f.field),
        ));
    }

    let curl_example = readme::curl_example(
        port,
        first,
        spec.auth,
        &example_object(&resources[0], false, false),
    );

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
            ("run_note", &run_note),
            ("curl_example", &curl_example),
            ("docker_env", &docker_env),
            ("endpoint_rows", &endpoint_rows),
            ("model_docs", &format!("{}\n", model_docs.trim_end())),
            ("auth_section", &auth_section),
            ("config_rows", &config_rows),
            ("database_section", &database_section),
            ("layout_extra", &layout_extra),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
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
                "A service for tasks",
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

    #[test]
    fn a_model_never_takes_a_reserved_type_name() {
        let files = files_for("A service to manage configs and repositories", &[]);
        let all: String = files.iter().filter_map(File::as_text).collect();
        assert!(
            all.contains("ConfigRecord") || all.contains("ConfigItem"),
            "Config is renamed"
        );
    }
}
