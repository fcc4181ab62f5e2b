//! Rendering an [`IntentSpec`] into the files of a TypeScript Node.js
//! project on Express.
//!
//! The fixed parts of the files live under `templates/` and are compiled
//! into the plugin; this module spells the spec's names the TypeScript way
//! (`inventory_items` → `inventoryItems`, `Inventory`), writes the parts
//! that follow the intent's resources and fields (interfaces, body parsing,
//! routers, test bodies) and decides which files exist. JSON field names
//! stay as the spec has them (`snake_case`), like in every QLP stack.
//! Everything is derived from the spec and its [`Protection`] alone, in a
//! fixed order, so one request always gives byte-identical files. What the
//! protection adds (encrypted fields, the audit trail, the retention) is
//! written by [`protection`]; without one, the files are those of a
//! service that stores what it is given.

mod protection;

use qlp_intent_spec::protection::Protection;
use qlp_intent_spec::readme;
use qlp_intent_spec::spec::english_list;
use qlp_intent_spec::template::{as_pairs, render};
use qlp_intent_spec::{Database, Field, FieldKind, IntentSpec, Resource, words};
use qlp_sdk::{File, PluginError};

/// The port the service listens on when the intent names none: the usual
/// port of an Express service.
pub const DEFAULT_PORT: u16 = 3000;

pub use qlp_intent_spec::readme::MAX_QUOTED_INTENT_CHARS;

mod tmpl {
    //! The template files, compiled into the plugin.

    pub const PACKAGE_JSON: &str = include_str!("../templates/package.json.tmpl");
    pub const TSCONFIG: &str = include_str!("../templates/tsconfig.json.tmpl");
    pub const CONFIG: &str = include_str!("../templates/src/config.ts.tmpl");
    pub const STORE: &str = include_str!("../templates/src/store.ts.tmpl");
    pub const STORAGE_MEMORY: &str = include_str!("../templates/src/storage_memory.ts.tmpl");
    pub const STORAGE_DATABASE: &str = include_str!("../templates/src/storage_database.ts.tmpl");
    pub const VALIDATION: &str = include_str!("../templates/src/validation.ts.tmpl");
    pub const HTTP: &str = include_str!("../templates/src/http.ts.tmpl");
    pub const AUTH: &str = include_str!("../templates/src/auth.ts.tmpl");
    pub const APP: &str = include_str!("../templates/src/app.ts.tmpl");
    pub const SERVER: &str = include_str!("../templates/src/server.ts.tmpl");
    pub const ROUTES: &str = include_str!("../templates/src/routes/resource.ts.tmpl");
    pub const HELPERS_TEST: &str = include_str!("../templates/test/helpers.ts.tmpl");
    pub const HEALTH_TEST: &str = include_str!("../templates/test/health.test.ts.tmpl");
    pub const CONFIG_TEST: &str = include_str!("../templates/test/config.test.ts.tmpl");
    pub const RESOURCE_TEST: &str = include_str!("../templates/test/resource.test.ts.tmpl");
    pub const AUTH_TEST: &str = include_str!("../templates/test/auth.test.ts.tmpl");
    pub const STORAGE_TEST: &str = include_str!("../templates/test/storage.test.ts.tmpl");
    pub const DOCKERFILE: &str = include_str!("../templates/Dockerfile.tmpl");
    pub const DOCKERIGNORE: &str = include_str!("../templates/dockerignore.tmpl");
    pub const GITIGNORE: &str = include_str!("../templates/gitignore.tmpl");
    pub const README: &str = include_str!("../templates/README.md.tmpl");
    pub const README_AUTH: &str = include_str!("../templates/readme_auth.md.tmpl");
    pub const README_DATABASE: &str = include_str!("../templates/readme_database.md.tmpl");
    pub const CRYPTO: &str = include_str!("../templates/src/crypto.ts.tmpl");
    pub const AUDIT: &str = include_str!("../templates/src/audit.ts.tmpl");
    pub const RETENTION: &str = include_str!("../templates/src/retention.ts.tmpl");
    pub const PROTECTED_ROUTES: &str =
        include_str!("../templates/src/routes/protected_resource.ts.tmpl");
    pub const PROTECTION_TEST: &str = include_str!("../templates/test/protection.test.ts.tmpl");
    pub const PROTECTION_KEY_TEST: &str = include_str!("../templates/test/protection_key.ts.tmpl");
    pub const PROTECTION_ENCRYPTION_TEST: &str =
        include_str!("../templates/test/protection_encryption.ts.tmpl");
    pub const PROTECTION_DROPPED_TEST: &str =
        include_str!("../templates/test/protection_dropped.ts.tmpl");
    pub const PROTECTION_AUDIT_TEST: &str =
        include_str!("../templates/test/protection_audit.ts.tmpl");
    pub const PROTECTION_RETENTION_TEST: &str =
        include_str!("../templates/test/protection_retention.ts.tmpl");
    pub const README_PROTECTION: &str = include_str!("../templates/readme_protection.md.tmpl");
}

/// Type names the generated modules define or import, and the global
/// types of JavaScript; a model interface must not shadow one.
const RESERVED_TYPE_NAMES: &[&str] = &[
    "Answer",
    "Array",
    "AuditLog",
    "Body",
    "Boolean",
    "Buffer",
    "Claims",
    "Config",
    "ConfigError",
    "Date",
    "Dated",
    "DecryptionError",
    "Env",
    "Error",
    "ErrorBody",
    "Function",
    "Headers",
    "Map",
    "MemoryRepository",
    "NextFunction",
    "Number",
    "Object",
    "Problems",
    "Promise",
    "Record",
    "Repository",
    "Request",
    "RequestHandler",
    "Response",
    "Router",
    "Server",
    "Set",
    "Stores",
    "String",
    "Symbol",
    "TestServer",
];

/// Suffix added to a model name that would shadow a reserved one.
const TYPE_NAME_SUFFIX: &str = "Item";

/// Suffix of the type a repository keeps when it differs from what the API
/// returns (encrypted fields, a creation time): `CardRow`.
const STORED_SUFFIX: &str = "Row";

/// Prefix of that type instead when `<Model>Row` is another resource's
/// model (resources `invoices` and `invoice_rows`).
const STORED_PREFIX: &str = "Stored";

/// A resource with its TypeScript names.
struct TsResource<'a> {
    resource: &'a Resource,
    /// The interface, e.g. `Invoice`.
    model: String,
    /// The type the repository keeps: `InvoiceRow` (a row as stored) when
    /// the service protects its data, else the interface itself.
    stored: String,
    /// The plural in camel case, e.g. `invoices`: the `Stores` key and the
    /// router function's prefix.
    camel_plural: String,
    /// The fields stored encrypted.
    encrypted: Vec<&'a Field>,
    /// The card numbers among them, which the API returns masked.
    masked: Vec<&'a Field>,
}

impl<'a> TsResource<'a> {
    fn new(resource: &'a Resource, protection: &Protection) -> Self {
        let mut model = words::pascal_case(&resource.singular);
        if RESERVED_TYPE_NAMES.contains(&model.as_str()) {
            model.push_str(TYPE_NAME_SUFFIX);
        }
        let stored = if protection.any() {
            format!("{model}{STORED_SUFFIX}")
        } else {
            model.clone()
        };
        let encrypted: Vec<&Field> = resource
            .fields
            .iter()
            .filter(|f| protection.encrypts(&resource.plural, &f.name))
            .collect();
        let masked = encrypted
            .iter()
            .copied()
            .filter(|f| protection::is_card_number(&f.name))
            .collect();
        Self {
            resource,
            model,
            stored,
            camel_plural: words::camel_case(&resource.plural),
            encrypted,
            masked,
        }
    }

    /// The example value of a field in tests and documentation, as
    /// JavaScript and as JSON (they coincide for these values): a test card
    /// number for a masked card number, so that its last four digits show.
    fn example(&self, field: &Field, changed: bool) -> String {
        if self.masked.iter().any(|f| f.name == field.name) {
            let number = if changed {
                protection::CHANGED_CARD_NUMBER
            } else {
                protection::EXAMPLE_CARD_NUMBER
            };
            return js_string(number);
        }
        field.example_value(changed, js_string)
    }

    fn plural(&self) -> &str {
        &self.resource.plural
    }

    fn fields(&self) -> &[Field] {
        &self.resource.fields
    }

    /// `INVOICE_FIELDS`: the constant listing the JSON field names.
    fn fields_constant(&self) -> String {
        format!("{}_FIELDS", self.resource.singular.to_ascii_uppercase())
    }
}

fn base_type(field: &Field) -> &'static str {
    match field.kind {
        FieldKind::Text => "string",
        FieldKind::Integer | FieldKind::Number => "number",
        FieldKind::Boolean => "boolean",
    }
}

/// A JavaScript string literal; the spec's names and our example values
/// are plain ASCII, but quotes and backslashes are escaped all the same.
fn js_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A JavaScript array literal of strings.
fn string_array<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let quoted: Vec<String> = items.into_iter().map(js_string).collect();
    format!("[{}]", quoted.join(", "))
}

/// `{ name: "example name", price: 9.5 }` as a JavaScript object literal,
/// or `{"name": "example name", "price": 9.5}` as JSON.
fn example_object(resource: &TsResource<'_>, changed: bool, json: bool) -> String {
    let pairs: Vec<String> = resource
        .fields()
        .iter()
        .map(|f| {
            let key = if json {
                js_string(&f.name)
            } else {
                f.name.clone()
            };
            format!("{key}: {}", resource.example(f, changed))
        })
        .collect();
    if json {
        format!("{{{}}}", pairs.join(", "))
    } else {
        format!("{{ {} }}", pairs.join(", "))
    }
}

/// The test files `npm test` runs, compiled, in the order they are written.
fn test_files(spec: &IntentSpec, protection: &Protection) -> Vec<String> {
    let mut names = vec!["health".to_string(), "config".to_string()];
    names.extend(spec.resources.iter().map(|r| r.plural.clone()));
    if spec.auth {
        names.push("auth".into());
    }
    if spec.database.is_some() {
        names.push("storage".into());
    }
    if protection.any() {
        names.push("protection".into());
    }
    names
}

/// Renders every file of the project described by `spec`, protecting its
/// data as `protection` says.
pub fn render_project(
    spec: &IntentSpec,
    protection: &Protection,
) -> Result<Vec<File>, PluginError> {
    let mut resources: Vec<TsResource<'_>> = spec
        .resources
        .iter()
        .map(|r| TsResource::new(r, protection))
        .collect();
    let models: Vec<String> = resources.iter().map(|r| r.model.clone()).collect();
    for resource in &mut resources {
        if resource.stored != resource.model && models.contains(&resource.stored) {
            resource.stored = format!("{STORED_PREFIX}{}", resource.model);
        }
    }
    let title = spec.title();
    let resource_list = spec.resource_list();
    let port = spec.port.unwrap_or(DEFAULT_PORT).to_string();
    let compiled_tests: Vec<String> = test_files(spec, protection)
        .iter()
        .map(|name| format!("dist/test/{name}.test.js"))
        .collect();
    let compiled_tests = compiled_tests.join(" ");
    let common: [(&str, &str); 5] = [
        ("name", &spec.name),
        ("title", &title),
        ("resource_list", &resource_list),
        ("port", &port),
        ("test_files", &compiled_tests),
    ];

    let mut files = vec![
        (
            "package.json".to_string(),
            render(tmpl::PACKAGE_JSON, &common)?,
        ),
        ("tsconfig.json".to_string(), render(tmpl::TSCONFIG, &[])?),
    ];
    files.extend(source_files(spec, protection, &resources, &title, &port)?);
    files.extend(test_sources(spec, protection, &resources, &title, &port)?);
    files.push((
        "README.md".to_string(),
        readme_md(spec, protection, &resources, &title, &port)?,
    ));
    files.push(("Dockerfile".to_string(), render(tmpl::DOCKERFILE, &common)?));
    files.push((
        ".dockerignore".to_string(),
        render(tmpl::DOCKERIGNORE, &[])?,
    ));
    files.push((".gitignore".to_string(), render(tmpl::GITIGNORE, &[])?));

    Ok(files
        .into_iter()
        .map(|(path, text)| File::text(path, text))
        .collect())
}

/// The files under `src/`, by path.
fn source_files(
    spec: &IntentSpec,
    protection: &Protection,
    resources: &[TsResource<'_>],
    title: &str,
    port: &str,
) -> Result<Vec<(String, String)>, PluginError> {
    let resource_list = spec.resource_list();
    let mut files = vec![
        ("src/server.ts".to_string(), render(tmpl::SERVER, &[])?),
        (
            "src/app.ts".to_string(),
            app_ts(spec, protection, resources, &resource_list)?,
        ),
        (
            "src/config.ts".to_string(),
            config_ts(spec, protection, title, port)?,
        ),
        ("src/http.ts".to_string(), render(tmpl::HTTP, &[])?),
        (
            "src/models.ts".to_string(),
            models_ts(resources, protection),
        ),
        (
            "src/validation.ts".to_string(),
            render(tmpl::VALIDATION, &[])?,
        ),
        ("src/store.ts".to_string(), render(tmpl::STORE, &[])?),
        ("src/storage.ts".to_string(), storage_ts(spec, resources)?),
    ];
    files.extend(protection::source_files(spec, protection)?);
    if spec.auth {
        files.push(("src/auth.ts".to_string(), render(tmpl::AUTH, &[])?));
    }
    for resource in resources {
        let text = if protection.any() {
            let mut values = resource_values(resource);
            values.extend(protection::route_values(resource, protection));
            render(tmpl::PROTECTED_ROUTES, &as_pairs(&values))?
        } else {
            render(tmpl::ROUTES, &as_pairs(&resource_values(resource)))?
        };
        files.push((format!("src/routes/{}.ts", resource.plural()), text));
    }
    Ok(files)
}

/// The files under `test/`, by path.
fn test_sources(
    spec: &IntentSpec,
    protection: &Protection,
    resources: &[TsResource<'_>],
    title: &str,
    port: &str,
) -> Result<Vec<(String, String)>, PluginError> {
    let mut files = vec![
        ("test/helpers.ts".to_string(), helpers_ts(spec, protection)?),
        (
            "test/health.test.ts".to_string(),
            render(tmpl::HEALTH_TEST, &[])?,
        ),
        (
            "test/config.test.ts".to_string(),
            config_test_ts(spec, title, port)?,
        ),
    ];
    for resource in resources {
        files.push((
            format!("test/{}.test.ts", resource.plural()),
            resource_test_ts(resource)?,
        ));
    }
    if spec.auth {
        let paths: Vec<String> = resources
            .iter()
            .map(|r| format!("/{}", r.plural()))
            .collect();
        let paths = string_array(paths.iter().map(String::as_str));
        files.push((
            "test/auth.test.ts".to_string(),
            render(
                tmpl::AUTH_TEST,
                &[
                    ("protected_paths", &paths),
                    ("key_import", protection::test_key_import(protection)),
                    ("key_env", protection::test_key_env(protection)),
                ],
            )?,
        ));
    }
    if let Some(database) = spec.database {
        files.push((
            "test/storage.test.ts".to_string(),
            render(tmpl::STORAGE_TEST, &as_pairs(&database_values(database)))?,
        ));
    }
    if protection.any() {
        files.push((
            "test/protection.test.ts".to_string(),
            protection::test_ts(spec, protection, resources)?,
        ));
    }
    Ok(files)
}

fn resource_values(resource: &TsResource<'_>) -> Vec<(&'static str, String)> {
    vec![
        ("plural", resource.plural().to_string()),
        ("singular", resource.resource.singular.clone()),
        ("a_singular", resource.resource.a_singular()),
        ("Model", resource.model.clone()),
        ("camelPlural", resource.camel_plural.clone()),
    ]
}

fn database_driver(database: Database) -> &'static str {
    match database {
        Database::Postgres => "`pg`",
        Database::Mysql => "`mysql2`",
        Database::Sqlite => "`better-sqlite3`",
        Database::Mongo => "`mongodb`",
    }
}

fn database_values(database: Database) -> Vec<(&'static str, String)> {
    let schemes: Vec<String> = database.schemes().iter().map(|s| js_string(s)).collect();
    vec![
        ("database", database.title().to_string()),
        ("database_example", database.example_url().to_string()),
        ("database_schemes", schemes.join(", ")),
        ("database_driver", database_driver(database).to_string()),
    ]
}

fn app_ts(
    spec: &IntentSpec,
    protection: &Protection,
    resources: &[TsResource<'_>],
    resource_list: &str,
) -> Result<String, PluginError> {
    let mut auth_import = String::new();
    let mut app_params = String::new();
    if protection.audit {
        auth_import.push_str("import { AuditLog } from \"./audit\";\n");
        let secret = if spec.auth { "config.jwtSecret" } else { "" };
        app_params = format!(", auditLog: AuditLog = new AuditLog({secret})");
    }
    if spec.auth {
        auth_import.push_str("import { authRouter, requireUser } from \"./auth\";\n");
    }
    let mut router_imports = String::new();
    let mut mounts = String::new();
    if spec.auth {
        mounts.push_str("  app.use(\"/auth\", authRouter(config));\n");
    }
    for resource in resources {
        let (plural, router) = (
            resource.plural(),
            format!("{}Router", resource.camel_plural),
        );
        router_imports.push_str(&format!(
            "import {{ {router} }} from \"./routes/{plural}\";\n"
        ));
        let guard = if spec.auth {
            "requireUser(config), "
        } else {
            ""
        };
        let args = protection::router_args(resource, protection);
        mounts.push_str(&format!(
            "  app.use(\"/{plural}\", {guard}{router}(stores{args}));\n"
        ));
    }
    render(
        tmpl::APP,
        &[
            ("auth_import", &auth_import),
            ("app_params", &app_params),
            ("router_imports", &router_imports),
            ("mounts", &mounts),
            ("resource_list", resource_list),
        ],
    )
}

fn config_ts(
    spec: &IntentSpec,
    protection: &Protection,
    title: &str,
    port: &str,
) -> Result<String, PluginError> {
    let mut doc = String::new();
    let mut fields = String::new();
    let mut constants = String::new();
    let mut values = String::new();
    // Functions after `loadConfig`, each reading one setting, so that
    // `loadConfig` stays a list of settings.
    let mut functions = String::new();
    if spec.database.is_some() {
        doc.push_str(" * - DATABASE_URL: where records are kept; see storage.ts.\n");
        fields.push_str("  databaseUrl?: string;\n");
        values.push_str("    databaseUrl: env.DATABASE_URL || undefined,\n");
    }
    if spec.auth {
        doc.push_str(
            " * - JWT_SECRET (required): the key that signs and verifies tokens, a\n \
             *   random value of at least 32 characters.\n \
             * - JWT_EXPIRES_SECONDS: the lifetime of an issued token, 3600 by default.\n \
             * - AUTH_USERNAME, AUTH_PASSWORD: the login POST /auth/token accepts;\n \
             *   without them it answers 503.\n",
        );
        fields.push_str(
            "  jwtSecret: string;\n  tokenTtlSeconds: number;\n  \
             authUsername?: string;\n  authPassword?: string;\n",
        );
        constants.push_str(
            "\n/**\n \
             * The shortest JWT_SECRET accepted: an HS256 key shorter than the hash's\n \
             * 32 bytes weakens the signature (RFC 7518, section 3.2).\n \
             */\n\
             export const MIN_SECRET_LENGTH = 32;\n\
             \n\
             /**\n \
             * The lifetime of an issued token: an hour bounds the use of a leaked\n \
             * token without asking for frequent logins.\n \
             */\n\
             export const DEFAULT_TOKEN_TTL_SECONDS = 3600;\n",
        );
        values.push_str(
            "    jwtSecret: jwtSecretFrom(env.JWT_SECRET),\n    \
             tokenTtlSeconds: tokenTtlSecondsFrom(env.JWT_EXPIRES_SECONDS),\n    \
             authUsername: env.AUTH_USERNAME || undefined,\n    \
             authPassword: env.AUTH_PASSWORD || undefined,\n",
        );
        functions.push_str(
            "\n/** Reads JWT_SECRET, which must be set and at least MIN_SECRET_LENGTH characters long. */\n\
             function jwtSecretFrom(raw: string | undefined): string {\n  \
             const jwtSecret = raw ?? \"\";\n  \
             if (jwtSecret.length < MIN_SECRET_LENGTH) {\n    \
             throw new ConfigError(`JWT_SECRET must be set to a random value of at least ${MIN_SECRET_LENGTH} characters`);\n  \
             }\n  \
             return jwtSecret;\n\
             }\n\
             \n\
             /** Reads JWT_EXPIRES_SECONDS: DEFAULT_TOKEN_TTL_SECONDS when it is unset, else a positive number of seconds. */\n\
             function tokenTtlSecondsFrom(raw: string | undefined): number {\n  \
             const tokenTtlSeconds = raw ? Number(raw) : DEFAULT_TOKEN_TTL_SECONDS;\n  \
             if (!Number.isInteger(tokenTtlSeconds) || tokenTtlSeconds < 1) {\n    \
             throw new ConfigError(\n      \
             `JWT_EXPIRES_SECONDS must be a positive number of seconds, not ${JSON.stringify(raw)}`,\n    \
             );\n  \
             }\n  \
             return tokenTtlSeconds;\n\
             }\n",
        );
    }
    protection::config_parts(
        protection,
        [
            &mut doc,
            &mut fields,
            &mut constants,
            &mut values,
            &mut functions,
        ],
    );
    render(
        tmpl::CONFIG,
        &[
            ("title", title),
            ("port", port),
            ("config_doc", &doc),
            ("config_fields", &fields),
            ("config_constants", &constants),
            ("config_values", &values),
            ("config_functions", &functions),
        ],
    )
}

fn models_ts(resources: &[TsResource<'_>], protection: &Protection) -> String {
    let uses = |kind: FieldKind| {
        resources
            .iter()
            .flat_map(|r| r.fields())
            .any(|f| f.kind == kind)
    };
    let mut imports = vec!["Body"];
    for (kind, function) in [
        (FieldKind::Boolean, "checkBoolean"),
        (FieldKind::Integer, "checkInteger"),
        (FieldKind::Number, "checkNumber"),
        (FieldKind::Text, "checkText"),
    ] {
        if uses(kind) {
            imports.push(function);
        }
    }
    imports.extend(["checkUnknown", "Problems"]);
    let doc = if protection.any() {
        " * The records of each resource as the API returns them and as the\n \
         * repository keeps them (store<Model> and show<Model> go from one to the\n \
         * other), and the reading of the request bodies that create or replace\n \
         * them. Optional values are null when absent; a flag is false when absent.\n"
    } else {
        " * The records of each resource as the API stores and returns them, and the\n \
         * reading of the request bodies that create or replace them. Optional\n \
         * values are null when absent; a flag is false when absent.\n"
    };
    let mut out = format!(
        "/**\n\
         {doc} \
         */\n\
         {}import {{ {} }} from \"./validation\";\n",
        protection::models_import(resources),
        imports.join(", ")
    );
    for resource in resources {
        let model = &resource.model;
        let singular = &resource.resource.singular;
        let a_singular = resource.resource.a_singular();
        let constant = resource.fields_constant();
        let mut interface = String::from("  id: number;\n");
        let mut checks = String::new();
        let mut assignments = String::new();
        for field in resource.fields() {
            let (name, ty, required) = (&field.name, base_type(field), field.required);
            let json = js_string(name);
            let nullable = !required && field.kind != FieldKind::Boolean;
            interface.push_str(&if nullable {
                format!("  {name}: {ty} | null;\n")
            } else {
                format!("  {name}: {ty};\n")
            });
            checks.push_str(&match field.kind {
                FieldKind::Text => {
                    format!("    {name}: checkText(problems, fields, {json}, {required}),\n")
                }
                FieldKind::Integer => format!(
                    "    {name}: checkInteger(problems, fields, {json}, {required}, {}),\n",
                    field.non_negative
                ),
                FieldKind::Number => format!(
                    "    {name}: checkNumber(problems, fields, {json}, {required}, {}),\n",
                    field.non_negative
                ),
                FieldKind::Boolean => {
                    format!("    {name}: checkBoolean(problems, fields, {json}, {required}),\n")
                }
            });
            assignments.push_str(&if field.kind == FieldKind::Boolean {
                format!("      {name}: values.{name} ?? false,\n")
            } else if required {
                format!("      {name}: values.{name} as {ty},\n")
            } else {
                format!("      {name}: values.{name} ?? null,\n")
            });
        }
        let names = string_array(resource.fields().iter().map(|f| f.name.as_str()));
        let role = if protection.any() {
            "returns"
        } else {
            "stores and returns"
        };
        out.push_str(&format!(
            "\n/** One {singular} as the API {role} it. */\n\
             export interface {model} {{\n{interface}}}\n\
             \n\
             /** The fields of {a_singular} that a request body sets. */\n\
             export type {model}Input = Omit<{model}, \"id\">;\n\
             \n\
             /** The JSON names of {a_singular}'s fields. */\n\
             export const {constant}: readonly string[] = {names};\n\
             \n\
             /**\n \
             * Reads a request body that creates or replaces {a_singular}: its values,\n \
             * or what is wrong with them by field name.\n \
             */\n\
             export function parse{model}Input(body: unknown): {{ input: {model}Input }} | {{ problems: Problems }} {{\n  \
             if (typeof body !== \"object\" || body === null || Array.isArray(body)) {{\n    \
             return {{ problems: {{ body: \"must be a JSON object\" }} }};\n  \
             }}\n  \
             const fields = body as Body;\n  \
             const problems: Problems = {{}};\n  \
             checkUnknown(problems, fields, {constant});\n  \
             const values = {{\n\
             {checks}  \
             }};\n  \
             if (Object.keys(problems).length > 0) {{\n    \
             return {{ problems }};\n  \
             }}\n  \
             return {{\n    \
             input: {{\n\
             {assignments}    \
             }},\n  \
             }};\n\
             }}\n"
        ));
        if protection.any() {
            out.push_str(&protection::stored_model(resource, protection));
        }
    }
    out
}

fn storage_ts(spec: &IntentSpec, resources: &[TsResource<'_>]) -> Result<String, PluginError> {
    let models: Vec<&str> = resources.iter().map(|r| r.stored.as_str()).collect();
    let stores_fields: String = resources
        .iter()
        .map(|r| format!("  {}: Repository<{}>;\n", r.camel_plural, r.stored))
        .collect();
    let stores_memory: String = resources
        .iter()
        .map(|r| {
            format!(
                "    {}: new MemoryRepository<{}>(),\n",
                r.camel_plural, r.stored
            )
        })
        .collect();
    let mut values = vec![
        ("model_imports", models.join(", ")),
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

fn helpers_ts(spec: &IntentSpec, protection: &Protection) -> Result<String, PluginError> {
    let values: [(&str, &str); 5] = if spec.auth {
        [
            (
                "helpers_imports",
                "import { signToken } from \"../src/auth\";\n",
            ),
            (
                "helpers_constants",
                "\n/** The login and signing secret the tests configure; the service reads its own from the environment. */\n\
                 export const TEST_SECRET = \"test-only-secret-of-at-least-32-characters\";\n\
                 export const TEST_USERNAME = \"clerk\";\n\
                 export const TEST_PASSWORD = \"correct horse battery staple\";\n\
                 \n\
                 /** A token the test server accepts. */\n\
                 export function validToken(): string {\n  \
                 const now = Math.floor(Date.now() / 1000);\n  \
                 return signToken({ sub: TEST_USERNAME, iat: now, exp: now + 3600 }, TEST_SECRET);\n\
                 }\n",
            ),
            (
                "test_env",
                "{ JWT_SECRET: TEST_SECRET, AUTH_USERNAME: TEST_USERNAME, AUTH_PASSWORD: TEST_PASSWORD }",
            ),
            (
                "call_doc",
                " with a valid bearer token unless told otherwise",
            ),
            ("default_authorization", "`Bearer ${validToken()}`"),
        ]
    } else {
        [
            ("helpers_imports", ""),
            ("helpers_constants", ""),
            ("test_env", "{}"),
            ("call_doc", ""),
            ("default_authorization", "null"),
        ]
    };
    let constants = format!(
        "{}{}",
        values[1].1,
        protection::test_key_constant(protection)
    );
    let env = protection::test_env(protection, values[2].1);
    render(
        tmpl::HELPERS_TEST,
        &[
            values[0],
            ("helpers_constants", &constants),
            ("test_env", &env),
            values[3],
            values[4],
        ],
    )
}

fn config_test_ts(spec: &IntentSpec, title: &str, port: &str) -> Result<String, PluginError> {
    let mut refusals = vec![("PORT", "eighty"), ("PORT", "70000")];
    if spec.auth {
        refusals.extend([
            ("JWT_SECRET", ""),
            ("JWT_SECRET", "too-short"),
            ("JWT_EXPIRES_SECONDS", "0"),
            ("JWT_EXPIRES_SECONDS", "soon"),
        ]);
    }
    let refusals: Vec<String> = refusals
        .iter()
        .map(|(variable, value)| format!("[{}, {}]", js_string(variable), js_string(value)))
        .collect();
    render(
        tmpl::CONFIG_TEST,
        &[
            ("title", title),
            ("port", port),
            ("config_refusals", &format!("[{}]", refusals.join(", "))),
        ],
    )
}

fn resource_test_ts(resource: &TsResource<'_>) -> Result<String, PluginError> {
    let mut invalid: Vec<String> = Vec::new();
    let mut uses_text_limit = false;
    for field in resource.fields() {
        let json = js_string(&field.name);
        match field.kind {
            FieldKind::Text => {
                if field.required {
                    invalid.push(format!("[{json}, \"  \"]"));
                }
                invalid.push(format!("[{json}, \"x\".repeat(MAX_TEXT_LENGTH + 1)]"));
                invalid.push(format!("[{json}, 42]"));
                uses_text_limit = true;
            }
            FieldKind::Integer => {
                if field.non_negative {
                    invalid.push(format!("[{json}, -1]"));
                }
                invalid.push(format!("[{json}, 1.5]"));
                invalid.push(format!("[{json}, \"3\"]"));
            }
            FieldKind::Number => {
                if field.non_negative {
                    invalid.push(format!("[{json}, -0.5]"));
                }
                invalid.push(format!("[{json}, \"9.5\"]"));
            }
            FieldKind::Boolean => invalid.push(format!("[{json}, \"yes\"]")),
        }
    }
    let required = string_array(
        resource
            .fields()
            .iter()
            .filter(|f| f.required)
            .map(|f| f.name.as_str()),
    );
    let mut values = resource_values(resource);
    values.extend([
        (
            "test_imports",
            if uses_text_limit {
                "import { MAX_TEXT_LENGTH } from \"../src/validation\";\n"
            } else {
                ""
            }
            .to_string(),
        ),
        ("valid_body", example_object(resource, false, false)),
        ("changed_body", example_object(resource, true, false)),
        (
            "masked_valid",
            protection::masked_overrides(resource, false),
        ),
        (
            "masked_changed",
            protection::masked_overrides(resource, true),
        ),
        ("required_list", required),
        ("invalid_cases", format!("[{}]", invalid.join(", "))),
    ]);
    render(tmpl::RESOURCE_TEST, &as_pairs(&values))
}

fn readme_md(
    spec: &IntentSpec,
    protection: &Protection,
    resources: &[TsResource<'_>],
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
             on `node:crypto`; the signing key comes from `JWT_SECRET`.\n",
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
        layout_extra.push_str(
            "- `src/auth.ts`: JWT issue and verification, the token route, `requireUser`.\n",
        );
    }
    if let Some(database) = spec.database {
        feature_bullets.push_str(&readme::database_bullet(database));
        config_rows.push_str(&readme::database_config_row(database));
        database_section = render(tmpl::README_DATABASE, &as_pairs(&database_values(database)))?;
    }
    let protected = protection::readme_parts(spec, protection, resources)?;
    feature_bullets.push_str(&protected.feature_bullets);
    run_note.push_str(&protected.run_note);
    docker_env.push_str(&protected.docker_env);
    config_rows.push_str(&protected.config_rows);
    layout_extra.push_str(&protected.layout_extra);

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
            resource.fields(),
        ));
    }

    let curl_example = readme::curl_example(
        port,
        first,
        spec.auth,
        &example_object(&resources[0], false, true),
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
            ("protection_section", &protected.section),
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
    fn a_protected_project_is_rendered_cleanly_too() {
        for (description, requirements, concern) in [
            (
                "A payments API for cards with JWT auth and PostgreSQL",
                &["Cards have a card number, a cvv and an owner"][..],
                "payments",
            ),
            (
                "A service for patients",
                &["Patients have a name and an optional diagnosis"][..],
                "health-data",
            ),
        ] {
            let intent =
                qlp_agent_testkit::intent(description, requirements, &[("compliance", concern)]);
            let mut spec = analyze(&intent).expect("valid intent");
            let protection = qlp_intent_spec::protection::protect(&intent, &[], &mut spec);
            assert!(protection.any(), "{concern}");
            let files = render_project(&spec, &protection).expect("renders");
            qlp_agent_testkit::assert_rendered_cleanly(&files);
        }
    }

    #[test]
    fn a_stored_row_type_never_takes_another_resources_model_name() {
        let intent = qlp_agent_testkit::intent(
            "An API for invoices",
            &["Keep an audit log of every change"],
            &[],
        );
        let mut spec = analyze(&intent).expect("valid intent");
        let protection = qlp_intent_spec::protection::protect(&intent, &[], &mut spec);
        spec.resources
            .push(qlp_intent_spec::Resource::from_plural("invoice_rows"));
        let files = render_project(&spec, &protection).expect("renders");
        let models: String = files
            .iter()
            .filter(|f| f.path == "src/models.ts")
            .filter_map(File::as_text)
            .collect();
        assert!(models.contains("export interface InvoiceRow {"), "{models}");
        assert!(
            models.contains("export type StoredInvoice = Invoice;"),
            "{models}"
        );
        assert!(
            models.contains("export type InvoiceRowRow = InvoiceRow;"),
            "{models}"
        );
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
