//! Rendering a [`ProjectSpec`] into the files of a FastAPI project.
//!
//! The file texts live under `templates/` and are compiled into the plugin;
//! this module computes the values of their `{{placeholders}}` (including
//! the snippets that differ between projects with and without JWT auth or a
//! database) and decides which files exist. Everything is derived from the
//! spec alone, in a fixed order, so one request always gives byte-identical
//! files.

mod protected;

use crate::spec::{MoneyField, ProjectSpec, Resource};
use crate::template::render;
use crate::words;
use qlp_intent_spec::protection::Protection;
use qlp_intent_spec::readme;
use qlp_intent_spec::spec::english_list;
use qlp_sdk::{File, PluginError};

pub use qlp_intent_spec::readme::MAX_QUOTED_INTENT_CHARS;

mod tmpl {
    //! The template files, compiled into the plugin.

    pub const PACKAGE_INIT: &str = include_str!("../templates/app/__init__.py.tmpl");
    pub const MAIN: &str = include_str!("../templates/app/main.py.tmpl");
    pub const CONFIG: &str = include_str!("../templates/app/config.py.tmpl");
    pub const MODELS: &str = include_str!("../templates/app/models.py.tmpl");
    pub const MODEL: &str = include_str!("../templates/app/model.py.tmpl");
    pub const REPOSITORY: &str = include_str!("../templates/app/repository.py.tmpl");
    pub const STORAGE_MEMORY: &str = include_str!("../templates/app/storage_memory.py.tmpl");
    pub const STORAGE_DATABASE: &str = include_str!("../templates/app/storage_database.py.tmpl");
    pub const AUTH: &str = include_str!("../templates/app/auth.py.tmpl");
    pub const ROUTES_INIT: &str = include_str!("../templates/app/routes/__init__.py.tmpl");
    pub const ROUTES: &str = include_str!("../templates/app/routes/resource.py.tmpl");
    pub const TESTS_INIT: &str = include_str!("../templates/tests/__init__.py.tmpl");
    pub const CONFTEST: &str = include_str!("../templates/tests/conftest.py.tmpl");
    pub const CONFTEST_AUTH: &str = include_str!("../templates/tests/conftest_auth.py.tmpl");
    pub const TEST_HEALTH: &str = include_str!("../templates/tests/test_health.py.tmpl");
    pub const TEST_RESOURCE: &str = include_str!("../templates/tests/test_resource.py.tmpl");
    pub const TEST_AUTH: &str = include_str!("../templates/tests/test_auth.py.tmpl");
    pub const TEST_STORAGE: &str = include_str!("../templates/tests/test_storage.py.tmpl");
    pub const REQUIREMENTS: &str = include_str!("../templates/requirements.txt.tmpl");
    pub const DOCKERFILE: &str = include_str!("../templates/Dockerfile.tmpl");
    pub const DOCKERIGNORE: &str = include_str!("../templates/dockerignore.tmpl");
    pub const GITIGNORE: &str = include_str!("../templates/gitignore.tmpl");
    pub const PYTEST_INI: &str = include_str!("../templates/pytest.ini.tmpl");
    pub const README: &str = include_str!("../templates/README.md.tmpl");
    pub const README_AUTH: &str = include_str!("../templates/readme_auth.md.tmpl");
    pub const README_DATABASE: &str = include_str!("../templates/readme_database.md.tmpl");
    pub const REPOSITORY_RETAINED: &str =
        include_str!("../templates/app/repository_retained.py.tmpl");
    pub const CLOCK: &str = include_str!("../templates/app/clock.py.tmpl");
    pub const AUDIT: &str = include_str!("../templates/app/audit.py.tmpl");
    pub const RETENTION: &str = include_str!("../templates/app/retention.py.tmpl");
    pub const ROUTES_PROTECTED: &str =
        include_str!("../templates/app/routes/resource_protected.py.tmpl");
}

/// Line that pins the tests to in-memory storage whatever the shell's
/// DATABASE_URL says.
const MEMORY_ENV_SETUP: &str = "# The tests always use in-memory storage, whatever DATABASE_URL the shell sets.\n\
                                os.environ[\"DATABASE_URL\"] = \"memory://\"\n";

const IMPORT_NOTE: &str = "  # noqa: E402 - the environment above must be set first";

/// Renders every file of the project described by `spec`, applying
/// `protection`'s audit trail and retention (nothing changes when it asks
/// for neither; see [`protected`]).
pub fn render_project(
    spec: &ProjectSpec,
    protection: &Protection,
) -> Result<Vec<File>, PluginError> {
    let title = title(&spec.resources);
    let resource_list = resource_list(&spec.resources);
    let common: [(&str, &str); 2] = [("title", &title), ("resource_list", &resource_list)];

    let mut files = vec![
        (
            "app/__init__.py".to_string(),
            render(tmpl::PACKAGE_INIT, &common)?,
        ),
        (
            "app/main.py".to_string(),
            main_py(spec, protection, &title)?,
        ),
        (
            "app/config.py".to_string(),
            config_py(spec, protection, &title)?,
        ),
        ("app/models.py".to_string(), models_py(spec, protection)?),
        (
            "app/repository.py".to_string(),
            if protection.retention_days.is_some() {
                render(tmpl::REPOSITORY_RETAINED, &[])?
            } else {
                render(tmpl::REPOSITORY, &[])?
            },
        ),
        ("app/storage.py".to_string(), storage_py(spec)?),
    ];
    if spec.auth {
        files.push(("app/auth.py".to_string(), render(tmpl::AUTH, &[])?));
    }
    files.push((
        "app/routes/__init__.py".to_string(),
        render(tmpl::ROUTES_INIT, &common)?,
    ));
    for resource in &spec.resources {
        let routes = if protection.any() {
            protected::routes_py(spec, protection, resource)?
        } else {
            routes_py(spec, resource)?
        };
        files.push((format!("app/routes/{}.py", resource.plural), routes));
    }
    files.extend(protected::files(spec, protection)?);

    files.push((
        "tests/__init__.py".to_string(),
        render(tmpl::TESTS_INIT, &common)?,
    ));
    files.push(("tests/conftest.py".to_string(), conftest_py(spec)?));
    let health_client = if spec.auth {
        "anonymous_client"
    } else {
        "client"
    };
    files.push((
        "tests/test_health.py".to_string(),
        render(tmpl::TEST_HEALTH, &[("health_client", health_client)])?,
    ));
    for resource in &spec.resources {
        files.push((
            format!("tests/test_{}.py", resource.plural),
            test_resource_py(resource)?,
        ));
    }
    if spec.auth {
        let paths = join_mapped(&spec.resources, ", ", |r| format!("\"/{}\"", r.plural));
        files.push((
            "tests/test_auth.py".to_string(),
            render(tmpl::TEST_AUTH, &[("protected_paths", &paths)])?,
        ));
    }
    if spec.database {
        files.push(("tests/test_storage.py".to_string(), test_storage_py(spec)?));
    }

    files.push((
        "requirements.txt".to_string(),
        render(tmpl::REQUIREMENTS, &[])?,
    ));
    files.push(("Dockerfile".to_string(), render(tmpl::DOCKERFILE, &common)?));
    files.push((
        ".dockerignore".to_string(),
        render(tmpl::DOCKERIGNORE, &[])?,
    ));
    files.push((".gitignore".to_string(), render(tmpl::GITIGNORE, &[])?));
    files.push(("pytest.ini".to_string(), render(tmpl::PYTEST_INI, &[])?));
    files.push((
        "README.md".to_string(),
        readme_md(spec, protection, &title, &resource_list)?,
    ));

    Ok(files
        .into_iter()
        .map(|(path, text)| File::text(path, text))
        .collect())
}

/// "Invoices Service", "Invoices and Customers Service".
fn title(resources: &[Resource]) -> String {
    let names: Vec<String> = resources
        .iter()
        .map(|r| words::capitalize(&r.plural))
        .collect();
    format!("{} Service", english_list(&names))
}

/// "invoices", "invoices and customers", "books, authors and loans".
fn resource_list(resources: &[Resource]) -> String {
    let names: Vec<String> = resources.iter().map(|r| r.plural.clone()).collect();
    english_list(&names)
}

fn join_mapped(resources: &[Resource], separator: &str, f: impl Fn(&Resource) -> String) -> String {
    resources.iter().map(f).collect::<Vec<_>>().join(separator)
}

/// "a" or "an" before a lower-case noun (by its first letter; "u" takes "a"
/// as in "a user").
fn article(noun: &str) -> &'static str {
    if noun.starts_with(['a', 'e', 'i', 'o']) {
        "an"
    } else {
        "a"
    }
}

fn main_py(
    spec: &ProjectSpec,
    protection: &Protection,
    title: &str,
) -> Result<String, PluginError> {
    let auth_router_import = if spec.auth {
        "from app.auth import router as auth_router\n"
    } else {
        ""
    };
    let router_imports = spec
        .resources
        .iter()
        .map(|r| {
            format!(
                "from app.routes.{0} import router as {0}_router\n",
                r.plural
            )
        })
        .collect::<String>();
    let mut router_includes = String::new();
    if spec.auth {
        router_includes.push_str("    app.include_router(auth_router)\n");
    }
    for resource in &spec.resources {
        router_includes.push_str(&format!(
            "    app.include_router({}_router)\n",
            resource.plural
        ));
    }
    render(
        tmpl::MAIN,
        &[
            ("title", title),
            ("auth_router_import", auth_router_import),
            ("router_imports", &router_imports),
            ("router_includes", &router_includes),
            ("audit_import", protected::main_audit_import(protection)),
            ("clock_import", protected::main_clock_import(protection)),
            ("state_setup", protected::main_state_setup(protection)),
        ],
    )
}

fn config_py(
    spec: &ProjectSpec,
    protection: &Protection,
    title: &str,
) -> Result<String, PluginError> {
    let mut doc = String::from("- APP_NAME: title of the OpenAPI documentation.\n");
    let mut fields = String::new();
    let mut checks = String::new();
    let mut arguments = String::new();
    let mut constants = String::new();
    let mut helpers = String::new();
    if spec.database {
        doc.push_str(
            "- DATABASE_URL: where records are stored. Unset, empty or `memory://` keeps\n  \
             them in memory (lost on restart); `postgresql://...` selects PostgreSQL once a\n  \
             PostgreSQL repository is implemented in app/storage.py.\n",
        );
        fields.push_str("    database_url: str | None\n");
        arguments.push_str("        database_url=env.get(\"DATABASE_URL\") or None,\n");
    }
    if spec.auth {
        doc.push_str(
            "- JWT_SECRET (required): the key that signs and verifies tokens. Use a long\n  \
             random value and keep it out of the code and the image.\n\
             - JWT_EXPIRES_SECONDS: lifetime of an issued token, 3600 by default.\n\
             - AUTH_USERNAME, AUTH_PASSWORD: the login that POST /auth/token accepts;\n  \
             without them the endpoint answers 503.\n",
        );
        constants.push_str(
            "\nDEFAULT_JWT_EXPIRES_SECONDS = 3600\n\
             \"\"\"Token lifetime: one hour bounds the use of a leaked token without frequent logins.\"\"\"\n",
        );
        fields.push_str(
            "    jwt_secret: str = field(repr=False)\n    \
             jwt_expires_seconds: int\n    \
             auth_username: str | None\n    \
             auth_password: str | None = field(repr=False)\n",
        );
        checks.push_str(
            "    jwt_secret = env.get(\"JWT_SECRET\", \"\")\n    \
             if not jwt_secret:\n        \
             raise ConfigError(\"JWT_SECRET must be set to a long random value\")\n",
        );
        arguments.push_str(
            "        jwt_secret=jwt_secret,\n        \
             jwt_expires_seconds=_positive_int(env, \"JWT_EXPIRES_SECONDS\", DEFAULT_JWT_EXPIRES_SECONDS),\n        \
             auth_username=env.get(\"AUTH_USERNAME\") or None,\n        \
             auth_password=env.get(\"AUTH_PASSWORD\") or None,\n",
        );
    }
    protected::extend_config(
        protection,
        &mut doc,
        &mut constants,
        &mut fields,
        &mut checks,
        &mut arguments,
    );
    if spec.auth || protection.retention_days.is_some() {
        helpers.push_str(
            "\n\ndef _positive_int(env: Mapping[str, str], name: str, default: int) -> int:\n    \
             \"\"\"The positive whole number in `env[name]`, or `default` when it is unset.\"\"\"\n    \
             raw = env.get(name)\n    \
             if raw is None or raw == \"\":\n        \
             return default\n    \
             try:\n        \
             value = int(raw)\n    \
             except ValueError:\n        \
             raise ConfigError(f\"{name} must be a whole number, not {raw!r}\") from None\n    \
             if value <= 0:\n        \
             raise ConfigError(f\"{name} must be positive\")\n    \
             return value\n",
        );
    }
    let dataclass_imports = if spec.auth {
        "dataclass, field"
    } else {
        "dataclass"
    };
    let text = render(
        tmpl::CONFIG,
        &[
            ("title", title),
            ("config_doc", &doc),
            ("dataclass_imports", dataclass_imports),
            ("config_constants", &constants),
            ("settings_fields", &fields),
            ("settings_checks", &checks),
            ("settings_arguments", &arguments),
            ("config_helpers", &helpers),
        ],
    )?;
    // The template ends with a newline after the helpers placeholder; when
    // the helpers end with their own newline the file would end in a blank
    // line.
    Ok(format!("{}\n", text.trim_end()))
}

fn money_field_name(money: MoneyField) -> Option<&'static str> {
    match money {
        MoneyField::None => None,
        MoneyField::Amount => Some("amount"),
        MoneyField::Price => Some("price"),
    }
}

fn models_py(spec: &ProjectSpec, protection: &Protection) -> Result<String, PluginError> {
    let mut classes = String::new();
    for resource in &spec.resources {
        let money_field = match money_field_name(resource.money) {
            Some(name) => format!("    {name}: float = Field(ge=0, allow_inf_nan=False)\n"),
            None => String::new(),
        };
        let a_singular = format!("{} {}", article(&resource.singular), resource.singular);
        classes.push_str(&render(
            tmpl::MODEL,
            &[
                ("Model", &resource.model),
                ("a_singular", &a_singular),
                ("A_singular", &words::capitalize(&a_singular)),
                ("money_field", &money_field),
                ("stored_fields", protected::stored_fields(protection)),
            ],
        )?);
    }
    render(
        tmpl::MODELS,
        &[
            ("model_classes", classes.trim_end()),
            ("models_imports", protected::models_imports(protection)),
        ],
    )
}

fn storage_py(spec: &ProjectSpec) -> Result<String, PluginError> {
    let models = join_mapped(&spec.resources, ", ", |r| r.model.clone());
    let model_import = format!("from app.models import {models}\n");
    let entries = spec
        .resources
        .iter()
        .map(|r| {
            format!(
                "        \"{}\": InMemoryRepository({}),\n",
                r.plural, r.model
            )
        })
        .collect::<String>();
    let template = if spec.database {
        tmpl::STORAGE_DATABASE
    } else {
        tmpl::STORAGE_MEMORY
    };
    render(
        template,
        &[
            ("model_import", &model_import),
            ("memory_entries", &entries),
        ],
    )
}

fn routes_py(spec: &ProjectSpec, resource: &Resource) -> Result<String, PluginError> {
    let (auth_note, auth_import, router_dependencies) = if spec.auth {
        (
            "\n\nEvery endpoint requires a bearer token (see app/auth.py).\n",
            "from app.auth import require_user\n",
            ", dependencies=[Depends(require_user)]",
        )
    } else {
        ("", "", "")
    };
    let a_singular = format!("{} {}", article(&resource.singular), resource.singular);
    render(
        tmpl::ROUTES,
        &[
            ("plural", &resource.plural),
            ("singular", &resource.singular),
            ("a_singular", &a_singular),
            ("Model", &resource.model),
            ("auth_note", auth_note),
            ("auth_import", auth_import),
            ("router_dependencies", router_dependencies),
        ],
    )
}

fn conftest_py(spec: &ProjectSpec) -> Result<String, PluginError> {
    if spec.auth {
        let database_setup = if spec.database { MEMORY_ENV_SETUP } else { "" };
        return render(tmpl::CONFTEST_AUTH, &[("database_setup", database_setup)]);
    }
    let (env_imports, env_setup, import_note) = if spec.database {
        ("\nimport os", format!("\n{MEMORY_ENV_SETUP}"), IMPORT_NOTE)
    } else {
        ("", String::new(), "")
    };
    render(
        tmpl::CONFTEST,
        &[
            ("env_imports", env_imports),
            ("env_setup", &env_setup),
            ("import_note", import_note),
        ],
    )
}

/// Python literals of the bodies the resource tests send: a new record and
/// a changed one.
fn sample_bodies(resource: &Resource) -> (String, String) {
    let singular = &resource.singular;
    let money = money_field_name(resource.money);
    let new_money = money
        .map(|name| format!(", \"{name}\": 120.5"))
        .unwrap_or_default();
    let changed_money = money
        .map(|name| format!(", \"{name}\": 99.0"))
        .unwrap_or_default();
    (
        format!(
            "{{\"name\": \"First {singular}\", \"description\": \"Created by the test suite\"{new_money}}}"
        ),
        format!("{{\"name\": \"Renamed {singular}\", \"description\": None{changed_money}}}"),
    )
}

fn test_resource_py(resource: &Resource) -> Result<String, PluginError> {
    let (new_body, changed_body) = sample_bodies(resource);
    let money_test = match money_field_name(resource.money) {
        Some(name) => format!(
            "\n\n\ndef test_create_with_negative_{name}_returns_422(client: TestClient) -> None:\n    \
             response = client.post(\"/{plural}\", json={{**NEW, \"{name}\": -1}})\n    \
             assert response.status_code == 422",
            plural = resource.plural
        ),
        None => String::new(),
    };
    render(
        tmpl::TEST_RESOURCE,
        &[
            ("plural", &resource.plural),
            ("singular", &resource.singular),
            (
                "a_singular",
                &format!("{} {}", article(&resource.singular), resource.singular),
            ),
            ("new_body", &new_body),
            ("changed_body", &changed_body),
            ("money_test", &money_test),
        ],
    )
}

fn test_storage_py(spec: &ProjectSpec) -> Result<String, PluginError> {
    let (os_import, base_env) = if spec.auth {
        (
            "import os\n\n",
            "{\"JWT_SECRET\": os.environ[\"JWT_SECRET\"]}",
        )
    } else {
        ("", "{}")
    };
    let keys = join_mapped(&spec.resources, ", ", |r| format!("\"{}\"", r.plural));
    render(
        tmpl::TEST_STORAGE,
        &[
            ("os_import", os_import),
            ("base_env", base_env),
            ("resource_keys", &keys),
        ],
    )
}

fn readme_md(
    spec: &ProjectSpec,
    protection: &Protection,
    title: &str,
    resource_list: &str,
) -> Result<String, PluginError> {
    let mut feature_bullets = String::new();
    let mut run_note = String::new();
    let mut docker_env = String::new();
    let mut endpoint_rows = String::new();
    let mut auth_section = String::new();
    let mut config_rows = String::new();
    let mut database_section = String::new();
    let mut layout_extra = String::new();
    let unauthorized = if spec.auth { ", 401" } else { "" };

    if spec.auth {
        feature_bullets.push_str(
            "- JWT (HS256) bearer-token authentication on every resource endpoint, built on\n  \
             the Python standard library; the signing key comes from `JWT_SECRET`.\n",
        );
        run_note.push_str(
            "# JWT_SECRET, AUTH_USERNAME and AUTH_PASSWORD must be set first: see Authentication.\n",
        );
        docker_env.push_str("-e JWT_SECRET -e AUTH_USERNAME -e AUTH_PASSWORD ");
        endpoint_rows.push_str(
            "| POST | `/auth/token` | Exchange `username` and `password` for a bearer token | 200, 401, 422, 503 |\n",
        );
        let first = spec
            .resources
            .first()
            .map_or("items", |r| r.plural.as_str());
        let paths: Vec<String> = spec
            .resources
            .iter()
            .map(|r| format!("`/{}`", r.plural))
            .collect();
        let protected = english_list(&paths);
        auth_section = render(
            tmpl::README_AUTH,
            &[("first", first), ("protected", &protected)],
        )?;
        config_rows.push_str(
            "| `JWT_SECRET` | Key that signs and verifies tokens (required) | none: the service refuses to start |\n\
             | `JWT_EXPIRES_SECONDS` | Lifetime of an issued token | 3600 |\n\
             | `AUTH_USERNAME`, `AUTH_PASSWORD` | The login `POST /auth/token` accepts | none: the endpoint answers 503 |\n",
        );
        layout_extra.push_str(
            "- `app/auth.py`: JWT issue and verification, the token endpoint, `require_user`.\n",
        );
    }
    if spec.database {
        feature_bullets.push_str(
            "- A storage seam selected by `DATABASE_URL`: in memory by default, PostgreSQL\n  \
             once a PostgreSQL repository is implemented.\n",
        );
        config_rows.push_str(
            "| `DATABASE_URL` | Storage: unset, empty or `memory://` for memory, `postgresql://...` for PostgreSQL | in memory |\n",
        );
        database_section = render(tmpl::README_DATABASE, &[])?;
    }
    if protection.any() {
        let extra = protected::readme_extra(protection);
        feature_bullets.push_str(&extra.feature_bullets);
        config_rows.push_str(&extra.config_rows);
        auth_section.push_str(&extra.section);
        layout_extra.push_str(&extra.layout);
    }

    let mut model_docs = String::new();
    for resource in &spec.resources {
        let a_singular = format!("{} {}", article(&resource.singular), resource.singular);
        let p = &resource.plural;
        endpoint_rows.push_str(&format!(
            "| GET | `/{p}` | List every {s} | 200{unauthorized} |\n\
             | POST | `/{p}` | Create {a_singular} | 201{unauthorized}, 422 |\n\
             | GET | `/{p}/{{id}}` | Get one {s} | 200{unauthorized}, 404 |\n\
             | PUT | `/{p}/{{id}}` | Replace {a_singular} | 200{unauthorized}, 404, 422 |\n\
             | DELETE | `/{p}/{{id}}` | Delete {a_singular} | 204{unauthorized}, 404 |\n",
            s = resource.singular,
        ));
        let money_doc = match money_field_name(resource.money) {
            Some(name) => format!(", `{name}` (number, 0 or more)"),
            None => String::new(),
        };
        model_docs.push_str(&format!(
            "- `{model}` (`/{p}`): `id` (integer, assigned by the server), `name` (text,\n  \
             1 to 200 characters), `description` (optional text, up to 2000 characters){money_doc}.\n",
            model = resource.model,
        ));
    }
    let mut money_names: Vec<String> = spec
        .resources
        .iter()
        .filter_map(|r| money_field_name(r.money))
        .map(|n| format!("`{n}`"))
        .collect();
    money_names.sort();
    money_names.dedup();
    let money_rule = if money_names.is_empty() {
        String::new()
    } else {
        format!(", a negative {}", money_names.join(" or "))
    };
    let image_name = format!(
        "{}-service",
        join_mapped(&spec.resources, "-", |r| r.plural.clone())
    );

    render(
        tmpl::README,
        &[
            ("title", title),
            ("resource_list", resource_list),
            ("intent_quote", &readme::intent_quote(&spec.description)),
            ("feature_bullets", &feature_bullets),
            ("run_note", &run_note),
            ("image_name", &image_name),
            ("docker_env", &docker_env),
            ("endpoint_rows", &endpoint_rows),
            ("money_rule", &money_rule),
            ("model_docs", &model_docs),
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
    use crate::spec::analyze;
    use qlp_agent_testkit::text;

    fn files_for(description: &str) -> Vec<File> {
        let intent = qlp_agent_testkit::intent(description, &[], &[]);
        render_project(
            &analyze(&intent).expect("valid intent"),
            &Protection::default(),
        )
        .expect("renders")
    }

    fn paths(files: &[File]) -> Vec<&str> {
        files.iter().map(|f| f.path.as_str()).collect()
    }

    const INVOICES_INTENT: &str =
        "Create a FastAPI service for invoices with JWT auth and PostgreSQL";

    #[test]
    fn the_invoices_intent_gives_a_complete_project_with_auth() {
        let files = files_for(INVOICES_INTENT);
        assert_eq!(
            paths(&files),
            [
                "app/__init__.py",
                "app/main.py",
                "app/config.py",
                "app/models.py",
                "app/repository.py",
                "app/storage.py",
                "app/auth.py",
                "app/routes/__init__.py",
                "app/routes/invoices.py",
                "tests/__init__.py",
                "tests/conftest.py",
                "tests/test_health.py",
                "tests/test_invoices.py",
                "tests/test_auth.py",
                "tests/test_storage.py",
                "requirements.txt",
                "Dockerfile",
                ".dockerignore",
                ".gitignore",
                "pytest.ini",
                "README.md",
            ]
        );
        let models = text(&files, "app/models.py");
        assert!(models.contains("class InvoiceCreate(BaseModel):"));
        assert!(models.contains("class Invoice(InvoiceCreate):"));
        let routes = text(&files, "app/routes/invoices.py");
        assert!(routes.contains("prefix=\"/invoices\""));
        assert!(routes.contains("dependencies=[Depends(require_user)]"));
        assert!(text(&files, "app/main.py").contains("app.include_router(auth_router)"));
    }

    #[test]
    fn jwt_files_are_generated_only_when_asked_for() {
        let files = files_for("Build an API to manage customer orders");
        let generated = paths(&files);
        assert!(generated.contains(&"app/routes/orders.py"));
        assert!(generated.contains(&"tests/test_orders.py"));
        for absent in ["app/auth.py", "tests/test_auth.py", "tests/test_storage.py"] {
            assert!(
                !generated.contains(&absent),
                "{absent} without auth or database"
            );
        }
        for file in &files {
            let content = file.as_text().expect("text");
            assert!(
                !content.contains("JWT_SECRET"),
                "{} mentions JWT_SECRET",
                file.path
            );
            assert!(
                !content.contains("require_user"),
                "{} mentions require_user",
                file.path
            );
            assert!(
                !content.contains("DATABASE_URL"),
                "{} mentions DATABASE_URL",
                file.path
            );
        }
    }

    #[test]
    fn the_signing_secret_is_only_read_from_the_environment() {
        let files = files_for(INVOICES_INTENT);
        for file in &files {
            let content = file.as_text().expect("text");
            for line in content.lines().filter(|line| line.contains("JWT_SECRET")) {
                let assigns_literal =
                    line.contains("JWT_SECRET=\"") || line.contains("JWT_SECRET = \"");
                assert!(!assigns_literal, "{}: {line}", file.path);
            }
        }
        let conftest = text(&files, "tests/conftest.py");
        assert!(conftest.contains("os.environ.setdefault(\"JWT_SECRET\", \"test-only-secret\")"));
        let config = text(&files, "app/config.py");
        assert!(config.contains("env.get(\"JWT_SECRET\", \"\")"));
        assert!(config.contains("raise ConfigError(\"JWT_SECRET must be set"));
        let auth = text(&files, "app/auth.py");
        for module in [
            "import hmac",
            "import hashlib",
            "import base64",
            "import json",
            "import time",
        ] {
            assert!(auth.contains(module), "auth.py uses {module}");
        }
        assert!(!auth.contains("import jwt"), "no third-party JWT library");
    }

    #[test]
    fn a_database_intent_documents_database_url_and_keeps_tests_in_memory() {
        let files = files_for(INVOICES_INTENT);
        assert!(text(&files, "README.md").contains("## Database"));
        assert!(text(&files, "app/config.py").contains("DATABASE_URL"));
        assert!(text(&files, "app/storage.py").contains("MEMORY_URL = \"memory://\""));
        assert!(
            text(&files, "tests/conftest.py")
                .contains("os.environ[\"DATABASE_URL\"] = \"memory://\"")
        );
        let requirements = text(&files, "requirements.txt");
        for driver in ["psycopg", "asyncpg", "sqlalchemy"] {
            assert!(
                !requirements.to_lowercase().contains(driver),
                "no {driver} dependency"
            );
        }
    }

    #[test]
    fn requirements_and_dockerfile_follow_the_contract() {
        let files = files_for("Build an API to manage customer orders");
        let requirements = text(&files, "requirements.txt");
        for package in [
            "fastapi>=",
            "uvicorn>=",
            "pydantic>=2",
            "httpx>=",
            "pytest>=",
        ] {
            assert!(
                requirements.contains(package),
                "requirements.txt pins {package}"
            );
        }
        let dockerfile = text(&files, "Dockerfile");
        assert!(dockerfile.contains("FROM python:3.11-slim"));
        assert!(
            dockerfile.contains("\nUSER app\n"),
            "runs as a non-root user"
        );
        assert!(dockerfile.contains("\"uvicorn\", \"app.main:app\""));
        let readme = text(&files, "README.md");
        for section in [
            "## Run locally",
            "## Test",
            "## Endpoints",
            "python -m pytest",
            "`/orders/{id}`",
        ] {
            assert!(readme.contains(section), "README has {section}");
        }
    }

    #[test]
    fn several_resources_get_their_own_routers_and_tests() {
        let files = files_for("REST API for books and authors with token auth");
        let generated = paths(&files);
        for path in [
            "app/routes/books.py",
            "app/routes/authors.py",
            "tests/test_books.py",
            "tests/test_authors.py",
        ] {
            assert!(generated.contains(&path), "{path} generated");
        }
        assert!(text(&files, "app/models.py").contains("price: float"));
        assert!(
            text(&files, "tests/test_auth.py")
                .contains("PROTECTED_PATHS = [\"/books\", \"/authors\"]")
        );
        assert!(
            text(&files, "app/__init__.py").starts_with("\"\"\"Books and Authors Service.\n"),
            "the package is titled after its resources"
        );
    }

    #[test]
    fn no_template_syntax_survives_rendering() {
        for description in [
            INVOICES_INTENT,
            "Build an API to manage customer orders",
            "notes with a database",
        ] {
            qlp_agent_testkit::assert_rendered_cleanly(&files_for(description));
        }
    }

    #[test]
    fn the_readme_quotes_a_long_intent_only_in_part() {
        let description = format!("Invoices {}", "x".repeat(MAX_QUOTED_INTENT_CHARS * 2));
        let readme = text(&files_for(&description), "README.md").to_string();
        let quote = readme
            .lines()
            .find(|line| line.starts_with("> "))
            .expect("a quote");
        assert_eq!(quote.chars().count(), 2 + MAX_QUOTED_INTENT_CHARS + 1);
        assert!(quote.ends_with('…'));
    }
}
