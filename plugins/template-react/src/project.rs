//! Rendering an [`IntentSpec`] into the files of a React single-page app
//! built with Vite and TypeScript.
//!
//! The fixed parts of the files live under `templates/` and are compiled
//! into the plugin; this module spells the spec's names the React way
//! (`inventories` → `InventoriesPage`, `InventoryForm`, `inventoriesApi`),
//! chooses each field's form control, writes the parts that follow the
//! intent's resources and fields (models, forms, pages, routes, test data)
//! and decides which files exist. JSON field names stay as the spec has
//! them (`snake_case`), as every QLP service agent serves them. Everything
//! is derived from the spec alone, in a fixed order, so one request always
//! gives byte-identical files.

use qlp_intent_spec::readme;
use qlp_intent_spec::spec::{MAX_NAME_LEN, english_list};
use qlp_intent_spec::template::{as_pairs, render};
use qlp_intent_spec::{Field, FieldKind, IntentSpec, Resource, TextFormat, words};
use qlp_sdk::{File, PluginError};

/// The port of Vite's development and preview server when the intent names
/// none: Vite's own default.
pub const DEFAULT_DEV_PORT: u16 = 5173;

/// The port the Docker image's nginx listens on: the unprivileged nginx
/// image cannot bind ports below 1024.
pub const CONTAINER_PORT: u16 = 8080;

pub use qlp_intent_spec::readme::MAX_QUOTED_INTENT_CHARS;

mod tmpl {
    //! The template files, compiled into the plugin.

    pub const PACKAGE_JSON: &str = include_str!("../templates/package.json.tmpl");
    pub const TSCONFIG: &str = include_str!("../templates/tsconfig.json.tmpl");
    pub const VITE_CONFIG: &str = include_str!("../templates/vite.config.ts.tmpl");
    pub const INDEX_HTML: &str = include_str!("../templates/index.html.tmpl");
    pub const ENV_EXAMPLE: &str = include_str!("../templates/env.example.tmpl");
    pub const MAIN: &str = include_str!("../templates/src/main.tsx.tmpl");
    pub const VITE_ENV: &str = include_str!("../templates/src/vite-env.d.ts.tmpl");
    pub const CONFIG: &str = include_str!("../templates/src/config.ts.tmpl");
    pub const STYLES: &str = include_str!("../templates/src/styles.css.tmpl");
    pub const ROUTES: &str = include_str!("../templates/src/routes.ts.tmpl");
    pub const FORMS: &str = include_str!("../templates/src/forms.ts.tmpl");
    pub const APP: &str = include_str!("../templates/src/App.tsx.tmpl");
    pub const CLIENT: &str = include_str!("../templates/src/api/client.ts.tmpl");
    pub const TOKEN: &str = include_str!("../templates/src/auth/token.ts.tmpl");
    pub const LOGIN_FORM: &str = include_str!("../templates/src/auth/LoginForm.tsx.tmpl");
    pub const HOME_PAGE: &str = include_str!("../templates/src/pages/HomePage.tsx.tmpl");
    pub const NOT_FOUND_PAGE: &str = include_str!("../templates/src/pages/NotFoundPage.tsx.tmpl");
    pub const LIST_PAGE: &str = include_str!("../templates/src/pages/ListPage.tsx.tmpl");
    pub const EDITOR_PAGE: &str = include_str!("../templates/src/pages/EditorPage.tsx.tmpl");
    pub const FORM: &str = include_str!("../templates/src/components/Form.tsx.tmpl");
    pub const TEST_SETUP: &str = include_str!("../templates/test/setup.ts.tmpl");
    pub const TEST_HELPERS: &str = include_str!("../templates/test/helpers.ts.tmpl");
    pub const ROUTES_TEST: &str = include_str!("../templates/test/routes.test.ts.tmpl");
    pub const APP_TEST: &str = include_str!("../templates/test/App.test.tsx.tmpl");
    pub const LIST_TEST: &str = include_str!("../templates/test/ListPage.test.tsx.tmpl");
    pub const FORM_TEST: &str = include_str!("../templates/test/Form.test.tsx.tmpl");
    pub const DOCKERFILE: &str = include_str!("../templates/Dockerfile.tmpl");
    pub const NGINX_CONF: &str = include_str!("../templates/nginx.conf.tmpl");
    pub const DOCKERIGNORE: &str = include_str!("../templates/dockerignore.tmpl");
    pub const GITIGNORE: &str = include_str!("../templates/gitignore.tmpl");
    pub const README: &str = include_str!("../templates/README.md.tmpl");
}

/// Names the generated modules define or import, the components' names
/// and the global types of the browser and of TypeScript; a model must not
/// shadow one.
const RESERVED_TYPE_NAMES: &[&str] = &[
    "ApiError",
    "App",
    "Array",
    "Boolean",
    "Call",
    "Date",
    "Document",
    "Element",
    "Error",
    "Event",
    "FormEvent",
    "Function",
    "Headers",
    "Home",
    "Login",
    "Map",
    "MouseEvent",
    "Node",
    "NotFound",
    "Number",
    "Object",
    "Omit",
    "Problems",
    "Promise",
    "Record",
    "Request",
    "ResourceApi",
    "ResourcePath",
    "Response",
    "Route",
    "Set",
    "State",
    "String",
    "Symbol",
    "Window",
];

/// Suffix added to a model name that would shadow a reserved one.
const TYPE_NAME_SUFFIX: &str = "Item";

/// Words in the description that make the app a dashboard in its title.
const DASHBOARD_WORDS: &[&str] = &["dashboard", "dashboards"];

/// The control a field is edited with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Control {
    /// `<input type="...">` other than a checkbox.
    Input(&'static str),
    /// `<textarea>`, for prose.
    TextArea,
    /// `<input type="checkbox">`, for flags.
    Checkbox,
}

fn control(field: &Field) -> Control {
    match (field.kind, field.text_format()) {
        (FieldKind::Boolean, _) => Control::Checkbox,
        (FieldKind::Integer | FieldKind::Number, _) => Control::Input("number"),
        (_, Some(TextFormat::Email)) => Control::Input("email"),
        (_, Some(TextFormat::Url)) => Control::Input("url"),
        (_, Some(TextFormat::Phone)) => Control::Input("tel"),
        (_, Some(TextFormat::Date)) => Control::Input("date"),
        (_, Some(TextFormat::Long)) => Control::TextArea,
        (_, _) => Control::Input("text"),
    }
}

/// The control's element and `type` as the DOM reports them.
fn dom_kind(control: Control) -> (&'static str, &'static str) {
    match control {
        Control::Input(kind) => ("INPUT", kind),
        Control::TextArea => ("TEXTAREA", "textarea"),
        Control::Checkbox => ("INPUT", "checkbox"),
    }
}

/// The field's name in words, acronyms in capitals: `SKU`, `Unit price`.
fn label_base(field: &Field) -> String {
    field.label()
}

/// The label of the field's control; optional values say so.
fn label(field: &Field) -> String {
    if !field.required && field.kind != FieldKind::Boolean {
        format!("{} (optional)", label_base(field))
    } else {
        label_base(field)
    }
}

/// A JavaScript string literal of any text.
fn js_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether a name can be written bare as a property: the spec's field
/// names always can, but the check keeps the output valid regardless.
fn is_identifier(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A property key: `unit_price`, or quoted if it must be.
fn key(name: &str) -> String {
    if is_identifier(name) {
        name.to_string()
    } else {
        js_string(name)
    }
}

/// A property access: `values.unit_price`, or `values["..."]`; an object
/// ending in `?` gives an optional access, `record?.unit_price`.
fn access(object: &str, name: &str) -> String {
    match (is_identifier(name), object.ends_with('?')) {
        (true, _) => format!("{object}.{name}"),
        (false, true) => format!("{object}.[{}]", js_string(name)),
        (false, false) => format!("{object}[{}]", js_string(name)),
    }
}

/// A resource with its React and TypeScript names.
struct ReactResource<'a> {
    resource: &'a Resource,
    /// The model interface, e.g. `Invoice`; also the prefix of its form
    /// and editor components.
    model: String,
    /// The list page component, e.g. `InvoicesPage`.
    list_page: String,
    /// The API client constant, e.g. `invoicesApi`.
    api: String,
    /// The singular in words, e.g. `unit price`.
    singular_words: String,
    /// The plural in words.
    plural_words: String,
    /// The singular for HTML ids, e.g. `unit-price`.
    singular_id: String,
    /// The plural for HTML ids.
    plural_id: String,
}

impl<'a> ReactResource<'a> {
    fn new(resource: &'a Resource) -> Self {
        let mut model = words::pascal_case(&resource.singular);
        if RESERVED_TYPE_NAMES.contains(&model.as_str()) {
            model.push_str(TYPE_NAME_SUFFIX);
        }
        Self {
            resource,
            model,
            list_page: format!("{}Page", words::pascal_case(&resource.plural)),
            api: format!("{}Api", words::camel_case(&resource.plural)),
            singular_words: words::spaced(&resource.singular),
            plural_words: words::spaced(&resource.plural),
            singular_id: resource.singular.replace('_', "-"),
            plural_id: resource.plural.replace('_', "-"),
        }
    }

    fn plural(&self) -> &str {
        &self.resource.plural
    }

    fn fields(&self) -> &[Field] {
        &self.resource.fields
    }

    /// The HTML id of a field's control: `invoice-unit-price`.
    fn control_id(&self, field: &Field) -> String {
        format!("{}-{}", self.singular_id, field.name.replace('_', "-"))
    }

    /// The values every page and component template of the resource uses.
    fn values(&self) -> Vec<(&'static str, String)> {
        vec![
            ("Model", self.model.clone()),
            ("ListPage", self.list_page.clone()),
            ("api", self.api.clone()),
            ("plural", self.plural().to_string()),
            ("plural_id", self.plural_id.clone()),
            ("singular_id", self.singular_id.clone()),
            ("singular_words", self.singular_words.clone()),
            ("plural_words", self.plural_words.clone()),
            ("Plural_words", words::capitalize(&self.plural_words)),
            ("Singular_words", words::capitalize(&self.singular_words)),
            ("a_singular", self.resource.a_singular().replace('_', " ")),
        ]
    }
}

/// What a user types into the field's control in the tests and examples,
/// and what the API receives for it, as TypeScript.
fn example(field: &Field) -> (String, String) {
    match (field.kind, control(field)) {
        (FieldKind::Boolean, _) => ("true".into(), "true".into()),
        (FieldKind::Integer, _) => ("\"3\"".into(), "3".into()),
        (FieldKind::Number, _) => ("\"9.5\"".into(), "9.5".into()),
        (FieldKind::Text, control) => {
            let text = match control {
                Control::Input("email") => "ada@example.com".to_string(),
                Control::Input("url") => "https://example.com/".to_string(),
                Control::Input("tel") => "+1 555 0100".to_string(),
                Control::Input("date") => "2024-05-01".to_string(),
                _ => format!("example {}", field.spaced()),
            };
            (js_string(&text), js_string(&text))
        }
    }
}

/// The text a list shows for the field's example value.
fn shown_example(field: &Field) -> String {
    match field.kind {
        FieldKind::Boolean => js_string("Yes"),
        FieldKind::Integer => js_string("3"),
        FieldKind::Number => js_string("9.5"),
        FieldKind::Text => example(field).1,
    }
}

/// `{ name: "example name", price: 9.5 }`: the typed (`typed`) or the sent
/// values of every field.
fn example_object(resource: &ReactResource<'_>, typed: bool) -> String {
    let pairs: Vec<String> = resource
        .fields()
        .iter()
        .map(|f| {
            let (typed_value, sent_value) = example(f);
            let value = if typed { typed_value } else { sent_value };
            format!("{}: {value}", key(&f.name))
        })
        .collect();
    format!("{{ {} }}", pairs.join(", "))
}

/// The words "Dashboard" or "App" after the resources: "Inventories
/// Dashboard", "Books and Authors App".
fn app_title(spec: &IntentSpec) -> String {
    let names: Vec<String> = spec
        .resources
        .iter()
        .map(|r| words::capitalize(&words::spaced(&r.plural)))
        .collect();
    let dashboard = words::tokenize(&spec.description)
        .iter()
        .any(|t| DASHBOARD_WORDS.contains(&t.as_str()));
    let kind = if dashboard { "Dashboard" } else { "App" };
    format!("{} {kind}", english_list(&names))
}

/// The project's name: the one the intent gives, else the spec's name
/// derived from the resources with `-app` for its `-service`.
fn project_name(spec: &IntentSpec) -> String {
    let plurals: Vec<&str> = spec.resources.iter().map(|r| r.plural.as_str()).collect();
    let derived = format!("{}-service", plurals.join("-"));
    let is_derived =
        spec.name == derived || (derived.len() > MAX_NAME_LEN && derived.starts_with(&spec.name));
    if !is_derived {
        return spec.name.clone();
    }
    let mut name: String = format!("{}-app", plurals.join("-"))
        .chars()
        .take(MAX_NAME_LEN)
        .collect();
    while name.ends_with('-') {
        name.pop();
    }
    name
}

/// Renders every file of the project described by `spec`.
pub fn render_project(spec: &IntentSpec) -> Result<Vec<File>, PluginError> {
    let resources: Vec<ReactResource<'_>> = spec.resources.iter().map(ReactResource::new).collect();
    let name = project_name(spec);
    let title = app_title(spec);
    let resource_list = spec.resource_list().replace('_', " ");
    let dev_port = spec.port.unwrap_or(DEFAULT_DEV_PORT).to_string();
    let resource_paths = resources
        .iter()
        .map(|r| js_string(r.plural()))
        .collect::<Vec<_>>()
        .join(", ");
    let first_path = resources[0].plural().to_string();

    let mut files = vec![
        (
            "package.json".to_string(),
            render(
                tmpl::PACKAGE_JSON,
                &[
                    ("name", &name),
                    ("title", &title),
                    ("resource_list", &resource_list),
                ],
            )?,
        ),
        ("tsconfig.json".to_string(), render(tmpl::TSCONFIG, &[])?),
        (
            "vite.config.ts".to_string(),
            render(tmpl::VITE_CONFIG, &[("dev_port", &dev_port)])?,
        ),
        (
            "index.html".to_string(),
            render(
                tmpl::INDEX_HTML,
                &[("title", &title), ("resource_list", &resource_list)],
            )?,
        ),
        (".env.example".to_string(), render(tmpl::ENV_EXAMPLE, &[])?),
        ("src/main.tsx".to_string(), render(tmpl::MAIN, &[])?),
        (
            "src/vite-env.d.ts".to_string(),
            render(tmpl::VITE_ENV, &[])?,
        ),
        (
            "src/config.ts".to_string(),
            render(
                tmpl::CONFIG,
                &[
                    ("title_literal", &js_string(&title)),
                    ("description_literal", &js_string(&spec.description)),
                ],
            )?,
        ),
        ("src/styles.css".to_string(), render(tmpl::STYLES, &[])?),
        (
            "src/routes.ts".to_string(),
            render(
                tmpl::ROUTES,
                &[
                    ("resource_paths", &resource_paths),
                    ("first_path", &first_path),
                ],
            )?,
        ),
        ("src/forms.ts".to_string(), render(tmpl::FORMS, &[])?),
        ("src/App.tsx".to_string(), app_tsx(spec, &resources)?),
        ("src/api/client.ts".to_string(), client_ts(spec)?),
        ("src/api/resources.ts".to_string(), resources_ts(&resources)),
        ("src/models.ts".to_string(), models_ts(&resources)),
    ];
    if spec.auth {
        files.push((
            "src/auth/token.ts".to_string(),
            render(tmpl::TOKEN, &[("name", &name)])?,
        ));
        files.push((
            "src/auth/LoginForm.tsx".to_string(),
            render(tmpl::LOGIN_FORM, &[])?,
        ));
    }
    files.push(("src/pages/HomePage.tsx".to_string(), home_tsx(&resources)?));
    files.push((
        "src/pages/NotFoundPage.tsx".to_string(),
        render(tmpl::NOT_FOUND_PAGE, &[])?,
    ));
    for resource in &resources {
        files.push((
            format!("src/pages/{}.tsx", resource.list_page),
            list_page_tsx(resource)?,
        ));
        files.push((
            format!("src/pages/{}Editor.tsx", resource.model),
            render(tmpl::EDITOR_PAGE, &as_pairs(&resource.values()))?,
        ));
        files.push((
            format!("src/components/{}Form.tsx", resource.model),
            form_tsx(resource)?,
        ));
    }

    files.push(("test/setup.ts".to_string(), render(tmpl::TEST_SETUP, &[])?));
    files.push((
        "test/helpers.ts".to_string(),
        render(tmpl::TEST_HELPERS, &[])?,
    ));
    files.push((
        "test/routes.test.ts".to_string(),
        render(
            tmpl::ROUTES_TEST,
            &[
                ("resource_paths", &resource_paths),
                ("first_path", &first_path),
            ],
        )?,
    ));
    files.push((
        "test/App.test.tsx".to_string(),
        app_test_tsx(spec, &resources)?,
    ));
    for resource in &resources {
        files.push((
            format!("test/{}.test.tsx", resource.list_page),
            list_test_tsx(resource)?,
        ));
        files.push((
            format!("test/{}Form.test.tsx", resource.model),
            form_test_tsx(resource)?,
        ));
    }

    let container_port = CONTAINER_PORT.to_string();
    files.push(("Dockerfile".to_string(), render(tmpl::DOCKERFILE, &[])?));
    files.push(("nginx.conf".to_string(), render(tmpl::NGINX_CONF, &[])?));
    files.push((
        ".dockerignore".to_string(),
        render(tmpl::DOCKERIGNORE, &[])?,
    ));
    files.push((".gitignore".to_string(), render(tmpl::GITIGNORE, &[])?));
    files.push((
        "README.md".to_string(),
        readme_md(spec, &resources, &name, &title, &dev_port, &container_port)?,
    ));

    Ok(files
        .into_iter()
        .map(|(path, content)| File::text(path, content))
        .collect())
}

fn client_ts(spec: &IntentSpec) -> Result<String, PluginError> {
    let values: [(&str, &str); 4] = if spec.auth {
        [
            (
                "client_doc",
                " with the signed-in user's bearer token, forgetting the token when the\n \
                 * API refuses it (401)",
            ),
            (
                "client_imports",
                "import { getToken, setToken } from \"../auth/token\";\n",
            ),
            (
                "client_auth_header",
                "  const token = getToken();\n  \
                 if (token !== null) {\n    \
                 headers.Authorization = `Bearer ${token}`;\n  \
                 }\n",
            ),
            (
                "client_unauthorized",
                "    if (response.status === 401) {\n      \
                 // The token expired or is not accepted: back to the sign-in form.\n      \
                 setToken(null);\n    \
                 }\n",
            ),
        ]
    } else {
        [
            ("client_doc", ""),
            ("client_imports", ""),
            ("client_auth_header", ""),
            ("client_unauthorized", ""),
        ]
    };
    render(tmpl::CLIENT, &values)
}

fn resources_ts(resources: &[ReactResource<'_>]) -> String {
    let mut types: Vec<String> = Vec::new();
    for resource in resources {
        types.push(resource.model.clone());
        types.push(format!("{}Input", resource.model));
    }
    let mut out = format!(
        "/** The API's resources: one client per collection path. */\n\
         import type {{ {} }} from \"../models\";\n\
         import {{ resourceApi }} from \"./client\";\n",
        types.join(", ")
    );
    for resource in resources {
        let p = resource.plural();
        out.push_str(&format!(
            "\n/** GET and POST /{p}; GET, PUT and DELETE /{p}/{{id}}. */\n\
             export const {} = resourceApi<{model}, {model}Input>(\"/{p}\");\n",
            resource.api,
            model = resource.model,
        ));
    }
    out
}

fn ts_type(field: &Field) -> &'static str {
    match field.kind {
        FieldKind::Text => "string",
        FieldKind::Integer | FieldKind::Number => "number",
        FieldKind::Boolean => "boolean",
    }
}

fn models_ts(resources: &[ReactResource<'_>]) -> String {
    let mut out = String::from(
        "/**\n \
         * The records of each resource as the API returns them, and the values\n \
         * that create or replace one. Optional values are null when absent; a\n \
         * flag is false when absent.\n \
         */\n",
    );
    for resource in resources {
        let model = &resource.model;
        let mut interface = String::from("  id: number;\n");
        for field in resource.fields() {
            let nullable = !field.required && field.kind != FieldKind::Boolean;
            let null = if nullable { " | null" } else { "" };
            interface.push_str(&format!(
                "  {}: {}{null};\n",
                key(&field.name),
                ts_type(field)
            ));
        }
        out.push_str(&format!(
            "\n/** One {s} as the API returns it. */\n\
             export interface {model} {{\n{interface}}}\n\
             \n\
             /** The values that create or replace {a}. */\n\
             export type {model}Input = Omit<{model}, \"id\">;\n",
            s = resource.singular_words,
            a = resource.resource.a_singular().replace('_', " "),
        ));
    }
    out
}

fn app_tsx(spec: &IntentSpec, resources: &[ReactResource<'_>]) -> Result<String, PluginError> {
    let mut page_imports = String::new();
    let mut nav_items = String::new();
    let mut page_cases = String::new();
    for resource in resources {
        let p = resource.plural();
        page_imports.push_str(&format!(
            "import {{ {model}Editor }} from \"./pages/{model}Editor\";\n\
             import {{ {list} }} from \"./pages/{list}\";\n",
            model = resource.model,
            list = resource.list_page,
        ));
        nav_items.push_str(&format!(
            "            <li>\n              \
             <a\n                \
             href={{routeHref({{ view: \"list\", resource: \"{p}\" }})}}\n                \
             aria-current={{route.view !== \"home\" && route.view !== \"not-found\" && route.resource === \"{p}\" ? \"page\" : undefined}}\n              \
             >\n                \
             {}\n              \
             </a>\n            \
             </li>\n",
            words::capitalize(&resource.plural_words),
        ));
        page_cases.push_str(&format!(
            "  if (route.resource === \"{p}\") {{\n    \
             return route.view === \"list\" ? (\n      \
             <{list} />\n    \
             ) : (\n      \
             <{model}Editor key={{routeHref(route)}} id={{route.view === \"edit\" ? route.id : undefined}} />\n    \
             );\n  \
             }}\n",
            list = resource.list_page,
            model = resource.model,
        ));
    }
    let (app_doc, auth_imports, auth_gate, sign_out) = if spec.auth {
        (
            ", or the sign-in form while no one is signed in",
            "import { LoginForm } from \"./auth/LoginForm\";\n\
             import { setToken, useToken } from \"./auth/token\";\n",
            "  const token = useToken();\n  \
             if (token === null) {\n    \
             return (\n      \
             <>\n        \
             <header className=\"app-header\">\n          \
             <span className=\"brand\">{APP_TITLE}</span>\n        \
             </header>\n        \
             <main id=\"main\" tabIndex={-1}>\n          \
             <LoginForm />\n        \
             </main>\n      \
             </>\n    \
             );\n  \
             }\n",
            "        <button type=\"button\" className=\"secondary\" onClick={() => setToken(null)}>\n          \
             Sign out\n        \
             </button>\n",
        )
    } else {
        ("", "", "", "")
    };
    render(
        tmpl::APP,
        &[
            (
                "resource_list",
                &english_list(
                    &resources
                        .iter()
                        .map(|r| r.plural_words.clone())
                        .collect::<Vec<_>>(),
                ),
            ),
            ("app_doc", app_doc),
            ("page_imports", &page_imports),
            ("auth_imports", auth_imports),
            ("auth_gate", auth_gate),
            ("nav_items", &nav_items),
            ("sign_out", sign_out),
            ("page_cases", &page_cases),
        ],
    )
}

fn home_tsx(resources: &[ReactResource<'_>]) -> Result<String, PluginError> {
    let cards: String = resources
        .iter()
        .map(|r| {
            format!(
                "        <li className=\"card\">\n          \
                 <h2>\n            \
                 <a href={{routeHref({{ view: \"list\", resource: \"{p}\" }})}}>{title}</a>\n          \
                 </h2>\n          \
                 <p>Create, browse, edit and delete {words}.</p>\n        \
                 </li>\n",
                p = r.plural(),
                title = words::capitalize(&r.plural_words),
                words = r.plural_words,
            )
        })
        .collect();
    render(tmpl::HOME_PAGE, &[("cards", &cards)])
}

fn list_page_tsx(resource: &ReactResource<'_>) -> Result<String, PluginError> {
    let mut header_cells = String::new();
    let mut row_cells = String::new();
    for field in resource.fields() {
        header_cells.push_str(&format!(
            "              <th scope=\"col\">{}</th>\n",
            label_base(field)
        ));
        let value = access("record", &field.name);
        let shown = match field.kind {
            FieldKind::Boolean => format!("{value} ? \"Yes\" : \"No\""),
            _ if field.required => value,
            _ => format!("{value} ?? \"\""),
        };
        row_cells.push_str(&format!("                <td>{{{shown}}}</td>\n"));
    }
    let mut values = resource.values();
    values.extend([("header_cells", header_cells), ("row_cells", row_cells)]);
    render(tmpl::LIST_PAGE, &as_pairs(&values))
}

fn form_tsx(resource: &ReactResource<'_>) -> Result<String, PluginError> {
    let uses = |kind: FieldKind| resource.fields().iter().any(|f| f.kind == kind);
    let mut imports: Vec<&str> = Vec::new();
    if uses(FieldKind::Text) {
        imports.push("MAX_TEXT_LENGTH");
    }
    imports.push("problemOf");
    for (kind, function) in [
        (FieldKind::Integer, "readInteger"),
        (FieldKind::Number, "readNumber"),
        (FieldKind::Text, "readText"),
    ] {
        if uses(kind) {
            imports.push(function);
        }
    }

    let mut value_fields = String::new();
    let mut initial_values = String::new();
    let mut read_values = String::new();
    let mut controls = String::new();
    for field in resource.fields() {
        let name = &field.name;
        let k = key(name);
        let json = js_string(name);
        let current = access("values", name);
        let stored = access("record", name);
        let maybe = access("record?", name);
        let required = field.required;
        value_fields.push_str(&format!(
            "  {k}: {};\n",
            if field.kind == FieldKind::Boolean {
                "boolean"
            } else {
                "string"
            }
        ));
        initial_values.push_str(&match (field.kind, required) {
            (FieldKind::Boolean, _) => format!("    {k}: {maybe} ?? false,\n"),
            (FieldKind::Text, _) => format!("    {k}: {maybe} ?? \"\",\n"),
            (_, true) => format!("    {k}: record === undefined ? \"\" : String({stored}),\n"),
            (_, false) => format!(
                "    {k}: record === undefined || {stored} === null ? \"\" : String({stored}),\n"
            ),
        });
        let non_negative = field.non_negative;
        read_values.push_str(&match field.kind {
            FieldKind::Boolean => format!("    {k}: {current},\n"),
            FieldKind::Text => {
                format!("    {k}: readText(problems, {json}, {current}, {required}),\n")
            }
            FieldKind::Integer => format!(
                "    {k}: readInteger(problems, {json}, {current}, {required}, {non_negative}),\n"
            ),
            FieldKind::Number => format!(
                "    {k}: readNumber(problems, {json}, {current}, {required}, {non_negative}),\n"
            ),
        });
        controls.push_str(&control_jsx(resource, field));
    }
    let field_list = english_list(
        &resource
            .fields()
            .iter()
            .map(|f| f.spaced())
            .collect::<Vec<_>>(),
    );
    let mut values = resource.values();
    values.extend([
        ("field_list", field_list),
        ("form_imports", imports.join(", ")),
        ("value_fields", value_fields),
        ("initial_values", initial_values),
        ("read_values", read_values),
        ("controls", controls),
    ]);
    render(tmpl::FORM, &as_pairs(&values))
}

/// One field's control in the form, with its label and its problem.
fn control_jsx(resource: &ReactResource<'_>, field: &Field) -> String {
    let id = resource.control_id(field);
    let json = js_string(&field.name);
    let current = access("values", &field.name);
    let problem_id = format!("{id}-problem");
    let problem_line = format!(
        "        {{problem({json}) !== undefined && (\n          \
         <p id=\"{problem_id}\" className=\"problem\">\n            \
         {label} {{problem({json})}}\n          \
         </p>\n        \
         )}}\n",
        label = label_base(field),
    );
    let invalid = format!(
        "          aria-invalid={{problem({json}) !== undefined}}\n          \
         aria-describedby={{problem({json}) !== undefined ? \"{problem_id}\" : undefined}}\n"
    );
    match control(field) {
        Control::Checkbox => format!(
            "      <div className=\"field checkbox\">\n        \
             <input\n          \
             id=\"{id}\"\n          \
             name={json}\n          \
             type=\"checkbox\"\n          \
             checked={{{current}}}\n          \
             onChange={{(event) => change({json}, event.target.checked)}}\n{invalid}        \
             />\n        \
             <label htmlFor=\"{id}\">{label}</label>\n{problem_line}      \
             </div>\n",
            label = label(field),
        ),
        Control::TextArea => format!(
            "      <div className=\"field\">\n        \
             <label htmlFor=\"{id}\">{label}</label>\n        \
             <textarea\n          \
             id=\"{id}\"\n          \
             name={json}\n          \
             rows={{4}}\n{required}          \
             maxLength={{MAX_TEXT_LENGTH}}\n          \
             value={{{current}}}\n          \
             onChange={{(event) => change({json}, event.target.value)}}\n{invalid}        \
             />\n{problem_line}      \
             </div>\n",
            label = label(field),
            required = if field.required {
                "          required\n"
            } else {
                ""
            },
        ),
        Control::Input(kind) => {
            let mut attributes = String::new();
            if field.required {
                attributes.push_str("          required\n");
            }
            match field.kind {
                FieldKind::Integer => {
                    attributes.push_str("          inputMode=\"numeric\"\n          step={1}\n");
                }
                FieldKind::Number => {
                    attributes
                        .push_str("          inputMode=\"decimal\"\n          step=\"any\"\n");
                }
                _ => {}
            }
            if field.non_negative && matches!(field.kind, FieldKind::Integer | FieldKind::Number) {
                attributes.push_str("          min={0}\n");
            }
            if field.kind == FieldKind::Text && kind != "date" {
                attributes.push_str("          maxLength={MAX_TEXT_LENGTH}\n");
            }
            format!(
                "      <div className=\"field\">\n        \
                 <label htmlFor=\"{id}\">{label}</label>\n        \
                 <input\n          \
                 id=\"{id}\"\n          \
                 name={json}\n          \
                 type=\"{kind}\"\n{attributes}          \
                 value={{{current}}}\n          \
                 onChange={{(event) => change({json}, event.target.value)}}\n{invalid}        \
                 />\n{problem_line}      \
                 </div>\n",
                label = label(field),
            )
        }
    }
}

fn app_test_tsx(spec: &IntentSpec, resources: &[ReactResource<'_>]) -> Result<String, PluginError> {
    let first = &resources[0];
    let nav_table = format!(
        "[{}]",
        resources
            .iter()
            .map(|r| format!(
                "[{}, {}]",
                js_string(&words::capitalize(&r.plural_words)),
                js_string(r.plural())
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let first_path = first.plural();
    let (test_imports, render_doc, render_setup, auth_tests) = if spec.auth {
        (
            "import { setToken } from \"../src/auth/token\";\n".to_string(),
            ", signed in",
            "  setToken(\"test-token\");\n",
            format!(
                "\n  it(\"asks to sign in before showing anything else\", () => {{\n    \
                 window.location.hash = \"#/{first_path}\";\n    \
                 render(<App />);\n    \
                 expect(screen.getByRole(\"heading\", {{ level: 1, name: \"Sign in\" }})).toBeTruthy();\n    \
                 expect(screen.queryByRole(\"navigation\")).toBeNull();\n  \
                 }});\n\
                 \n  \
                 it(\"signs in with a token from POST /auth/token and sends it with every request\", async () => {{\n    \
                 const calls = stubFetch((call) =>\n      \
                 call.url.endsWith(\"/auth/token\")\n        \
                 ? jsonResponse(200, {{ access_token: \"token-from-api\", token_type: \"Bearer\", expires_in: 3600 }})\n        \
                 : jsonResponse(200, []),\n    \
                 );\n    \
                 window.location.hash = \"#/{first_path}\";\n    \
                 render(<App />);\n    \
                 fireEvent.change(screen.getByLabelText(\"Username\"), {{ target: {{ value: \"clerk\" }} }});\n    \
                 fireEvent.change(screen.getByLabelText(\"Password\"), {{ target: {{ value: \"correct horse\" }} }});\n    \
                 fireEvent.click(screen.getByRole(\"button\", {{ name: \"Sign in\" }}));\n    \
                 expect(await screen.findByText(\"No {words} yet.\")).toBeTruthy();\n    \
                 expect(calls[0]).toMatchObject({{\n      \
                 method: \"POST\",\n      \
                 url: `${{API_URL}}/auth/token`,\n      \
                 body: {{ username: \"clerk\", password: \"correct horse\" }},\n    \
                 }});\n    \
                 expect(calls[1].headers.Authorization).toBe(\"Bearer token-from-api\");\n  \
                 }});\n\
                 \n  \
                 it(\"says when the username or password is wrong\", async () => {{\n    \
                 stubFetch(() => jsonResponse(401, {{ error: \"wrong username or password\" }}));\n    \
                 render(<App />);\n    \
                 fireEvent.change(screen.getByLabelText(\"Username\"), {{ target: {{ value: \"clerk\" }} }});\n    \
                 fireEvent.change(screen.getByLabelText(\"Password\"), {{ target: {{ value: \"wrong\" }} }});\n    \
                 fireEvent.click(screen.getByRole(\"button\", {{ name: \"Sign in\" }}));\n    \
                 expect((await screen.findByRole(\"alert\")).textContent).toBe(\"Wrong username or password.\");\n    \
                 expect(screen.queryByRole(\"navigation\")).toBeNull();\n  \
                 }});\n\
                 \n  \
                 it(\"goes back to the sign-in form when the API refuses the token\", async () => {{\n    \
                 stubFetch(() => jsonResponse(401, {{ error: \"a valid bearer token is required\" }}));\n    \
                 renderAt(\"#/{first_path}\");\n    \
                 expect(await screen.findByRole(\"heading\", {{ level: 1, name: \"Sign in\" }})).toBeTruthy();\n  \
                 }});\n\
                 \n  \
                 it(\"signs out\", () => {{\n    \
                 stubFetch(() => jsonResponse(200, []));\n    \
                 renderAt(\"#/\");\n    \
                 fireEvent.click(screen.getByRole(\"button\", {{ name: \"Sign out\" }}));\n    \
                 expect(screen.getByRole(\"heading\", {{ level: 1, name: \"Sign in\" }})).toBeTruthy();\n  \
                 }});\n",
                words = first.plural_words,
            ),
        )
    } else {
        (
            String::new(),
            "",
            "",
            format!(
                "\n  it(\"needs no sign-in and sends no credentials\", async () => {{\n    \
                 const calls = stubFetch(() => jsonResponse(200, []));\n    \
                 renderAt(\"#/{first_path}\");\n    \
                 expect(await screen.findByText(\"No {words} yet.\")).toBeTruthy();\n    \
                 expect(screen.queryByLabelText(\"Password\")).toBeNull();\n    \
                 expect(calls[0].headers.Authorization).toBeUndefined();\n    \
                 fireEvent.click(screen.getByRole(\"link\", {{ name: \"Skip to content\" }}));\n    \
                 expect(document.activeElement?.id).toBe(\"main\");\n  \
                 }});\n",
                words = first.plural_words,
            ),
        )
    };
    render(
        tmpl::APP_TEST,
        &[
            ("test_imports", &test_imports),
            ("nav_table", &nav_table),
            ("render_doc", render_doc),
            ("render_setup", render_setup),
            ("first_path", first_path),
            ("first_singular_words", &first.singular_words),
            (
                "first_singular_title",
                &words::capitalize(&first.singular_words),
            ),
            ("auth_tests", &auth_tests),
        ],
    )
}

fn list_test_tsx(resource: &ReactResource<'_>) -> Result<String, PluginError> {
    let sample = example_object(resource, false);
    let record_literal = format!("{{ id: 1, {}", &sample[2..]);
    let mut values = resource.values();
    values.extend([
        ("record_const", "SAMPLE".to_string()),
        ("record_literal", record_literal),
        ("shown_value", shown_example(resource.resource.key_field())),
    ]);
    render(tmpl::LIST_TEST, &as_pairs(&values))
}

fn form_test_tsx(resource: &ReactResource<'_>) -> Result<String, PluginError> {
    let controls_table = format!(
        "[\n{}]",
        resource
            .fields()
            .iter()
            .map(|f| {
                let (element, kind) = dom_kind(control(f));
                format!(
                    "  [{}, {}, {}],\n",
                    js_string(&label(f)),
                    js_string(element),
                    js_string(kind)
                )
            })
            .collect::<String>()
    );
    let mut fill_in = String::new();
    let mut initial_checks = String::new();
    for field in resource.fields() {
        let label = js_string(&label(field));
        if field.kind == FieldKind::Boolean {
            fill_in.push_str(&format!(
                "  fireEvent.click(screen.getByLabelText({label}));\n"
            ));
            initial_checks.push_str(&format!(
                "    expect((screen.getByLabelText({label}) as HTMLInputElement).checked).toBe(true);\n"
            ));
        } else {
            let typed = access("TYPED", &field.name);
            fill_in.push_str(&format!(
                "  fireEvent.change(screen.getByLabelText({label}), {{ target: {{ value: {typed} }} }});\n"
            ));
            initial_checks.push_str(&format!(
                "    expect((screen.getByLabelText({label}) as HTMLInputElement).value).toBe({typed});\n"
            ));
        }
    }

    let required: Vec<&Field> = resource
        .fields()
        .iter()
        .filter(|f| f.required && f.kind != FieldKind::Boolean)
        .collect();
    let required_test = if required.is_empty() {
        String::new()
    } else {
        let expectations: String = required
            .iter()
            .map(|f| {
                format!(
                    "    expect(screen.getByText({})).toBeTruthy();\n",
                    js_string(&format!("{} is required", label_base(f)))
                )
            })
            .collect();
        format!(
            "\n  it(\"refuses to send {a} without its required fields\", async () => {{\n    \
             const onSubmit = vi.fn(async () => {{}});\n    \
             render(<{model}Form onSubmit={{onSubmit}} />);\n    \
             fireEvent.click(screen.getByRole(\"button\", {{ name: \"Save {s}\" }}));\n    \
             expect(await screen.findByRole(\"alert\")).toBeTruthy();\n\
             {expectations}    \
             expect(onSubmit).not.toHaveBeenCalled();\n  \
             }});\n",
            a = resource.resource.a_singular().replace('_', " "),
            model = resource.model,
            s = resource.singular_words,
        )
    };

    let mut read_checks = String::new();
    let read = format!("read{}", resource.model);
    let mut refuse = |name: &str, value: &str, problem: &str| {
        read_checks.push_str(&format!(
            "    expect({read}({{ ...TYPED, {k}: {value} }})).toEqual({{ problems: {{ {k}: {problem} }} }});\n",
            k = key(name),
            value = js_string(value),
            problem = js_string(problem),
        ));
    };
    for field in resource.fields() {
        match field.kind {
            FieldKind::Text if field.required => refuse(&field.name, "   ", "is required"),
            FieldKind::Integer => {
                refuse(&field.name, "1.5", "must be a whole number");
                if field.non_negative {
                    refuse(&field.name, "-1", "must be zero or more");
                }
            }
            FieldKind::Number => {
                refuse(&field.name, "ten", "must be a number");
                if field.non_negative {
                    refuse(&field.name, "-0.5", "must be zero or more");
                }
            }
            _ => {}
        }
    }
    for field in resource.fields() {
        if !field.required && field.kind != FieldKind::Boolean {
            read_checks.push_str(&format!(
                "    expect({read}({{ ...TYPED, {k}: \"\" }})).toEqual({{ input: {{ ...SENT, {k}: null }} }});\n",
                k = key(&field.name),
            ));
        }
    }

    let key_field = resource.resource.key_field();
    let mut values = resource.values();
    values.extend([
        ("controls_table", controls_table),
        ("typed_values", example_object(resource, true)),
        ("sent_values", example_object(resource, false)),
        ("fill_in", fill_in),
        ("initial_checks", initial_checks),
        ("required_test", required_test),
        ("key_name", key(&key_field.name)),
        ("key_label", label(key_field)),
        ("read_checks", read_checks),
    ]);
    render(tmpl::FORM_TEST, &as_pairs(&values))
}

fn control_doc(field: &Field) -> String {
    match control(field) {
        Control::Checkbox => "checkbox".into(),
        Control::TextArea => "text area".into(),
        Control::Input("number") if field.kind == FieldKind::Integer => {
            "number input, whole numbers".into()
        }
        Control::Input(kind) => format!("`{kind}` input"),
    }
}

fn readme_md(
    spec: &IntentSpec,
    resources: &[ReactResource<'_>],
    name: &str,
    title: &str,
    dev_port: &str,
    container_port: &str,
) -> Result<String, PluginError> {
    let mut route_rows = String::from("| `#/` | Overview with a card per resource |\n");
    let mut api_rows = String::new();
    let mut form_docs = String::new();
    for resource in resources {
        let p = resource.plural();
        route_rows.push_str(&format!(
            "| `#/{p}` | List of {w}, with delete buttons |\n\
             | `#/{p}/new` | Form for a new {s} |\n\
             | `#/{p}/{{id}}` | Form to edit {s} `{{id}}` |\n",
            w = resource.plural_words,
            s = resource.singular_words,
        ));
        api_rows.push_str(&format!(
            "| `GET /{p}`, `POST /{p}` | `{list}`, `{model}Editor` |\n\
             | `GET /{p}/{{id}}`, `PUT /{p}/{{id}}`, `DELETE /{p}/{{id}}` | `{model}Editor`, `{list}` |\n",
            list = resource.list_page,
            model = resource.model,
        ));
        form_docs.push_str(&format!(
            "`{model}Form` (`src/components/{model}Form.tsx`):\n\n\
             | Field | Control | Required |\n|---|---|---|\n",
            model = resource.model
        ));
        for field in resource.fields() {
            form_docs.push_str(&format!(
                "| `{}` | {} | {} |\n",
                field.name,
                control_doc(field),
                if field.required { "yes" } else { "no" }
            ));
        }
        form_docs.push('\n');
    }
    let (auth_bullet, auth_section, auth_layout): (&str, &str, &str) = if spec.auth {
        (
            "- A sign-in form: `POST /auth/token` with `username` and `password` gives\n  \
             a bearer token, sent with every request and kept in `sessionStorage`\n  \
             until the tab closes, the user signs out or the API answers 401.\n",
            "\n## Sign-in\n\n\
             The API requires a bearer token. The app shows only the sign-in form\n\
             until `POST /auth/token` accepts a username and password and answers\n\
             `{\"access_token\": \"...\"}`; the token is then sent as\n\
             `Authorization: Bearer ...` with every request. A 401 answer (an\n\
             expired token) forgets it and shows the form again. The token lives in\n\
             `sessionStorage`, never in the code or the build.\n",
            "- `src/auth/`: the token store (`token.ts`) and the sign-in form.\n",
        )
    } else {
        ("", "", "")
    };
    render(
        tmpl::README,
        &[
            ("title", title),
            ("name", name),
            ("resource_list", &spec.resource_list().replace('_', " ")),
            ("intent_quote", &readme::intent_quote(&spec.description)),
            (
                "requirements_section",
                &readme::requirements_section(&spec.requirements),
            ),
            ("auth_bullet", auth_bullet),
            ("dev_port", dev_port),
            ("container_port", container_port),
            ("route_rows", &route_rows),
            ("api_rows", &api_rows),
            ("form_docs", &format!("{}\n", form_docs.trim_end())),
            ("auth_section", auth_section),
            ("auth_layout", auth_layout),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use qlp_agent_testkit::text;
    use qlp_intent_spec::analyze;

    fn files_for(description: &str, requirements: &[&str]) -> Vec<File> {
        let intent = qlp_agent_testkit::intent(description, requirements, &[]);
        render_project(&analyze(&intent).expect("valid intent")).expect("renders")
    }

    #[test]
    fn no_template_syntax_survives_and_files_end_with_one_newline() {
        for (description, requirements) in [
            ("A React dashboard for invoices with login", &[][..]),
            (
                "A React app for tasks",
                &["Tasks have a title, a due date and a done flag"][..],
            ),
            (
                "React front-end for books and authors",
                &["Authors have a name, an email and an optional biography"][..],
            ),
        ] {
            qlp_agent_testkit::assert_rendered_cleanly(&files_for(description, requirements));
        }
    }

    #[test]
    fn controls_follow_the_fields_types_and_names() {
        let files = files_for(
            "React app for contacts",
            &[
                "Contacts have a name, an email, a phone number, a website, a birth date, \
               an optional notes, an age and a verified flag",
            ],
        );
        let form = text(&files, "src/components/ContactForm.tsx");
        for expected in [
            "type=\"email\"",
            "type=\"tel\"",
            "type=\"url\"",
            "type=\"date\"",
            "<textarea",
            "type=\"number\"",
            "type=\"checkbox\"",
            "<label htmlFor=\"contact-email\">Email</label>",
            "<label htmlFor=\"contact-notes\">Notes (optional)</label>",
        ] {
            assert!(form.contains(expected), "{expected} in:\n{form}");
        }
    }

    #[test]
    fn a_model_never_takes_a_reserved_type_name() {
        let files = files_for("A React app to manage states and events", &[]);
        let models = text(&files, "src/models.ts");
        assert!(models.contains("export interface StateItem {"), "{models}");
        assert!(models.contains("export interface EventItem {"), "{models}");
    }

    #[test]
    fn the_name_says_app_unless_the_intent_names_the_project() {
        let files = files_for("A React dashboard for invoices", &[]);
        assert!(text(&files, "package.json").contains("\"name\": \"invoices-app\""));
        assert!(text(&files, "src/config.ts").contains("\"Invoices Dashboard\""));
    }

    #[test]
    fn text_from_the_intent_is_a_safe_string_literal() {
        assert_eq!(
            js_string("say \"hi\"\n\\ </script>"),
            "\"say \\\"hi\\\"\\n\\\\ </script>\""
        );
    }
}
