//! Rendering an [`IntentSpec`] into the files of a Maven project.
//!
//! The fixed parts of the files live under `templates/` and are compiled
//! into the plugin: `templates/core/` holds the plain-Java core (no Spring
//! import), `templates/web/` the Spring layer, `templates/test/` the tests
//! of both. This module spells the spec's names the Java way (see
//! [`crate::java`]), writes the parts that follow the intent's resources
//! and fields (the model records, their validation, the test bodies) and
//! decides which files exist. Everything is derived from the spec alone, in
//! a fixed order, so one request always gives byte-identical files.

use qlp_intent_spec::protection::Protection;
use qlp_intent_spec::readme;
use qlp_intent_spec::spec::english_list;
use qlp_intent_spec::template::{as_pairs, render};
use qlp_intent_spec::{Database, Field, FieldKind, IntentSpec, Resource, words};
use qlp_sdk::{File, PluginError};

use crate::java;

mod protected;

/// The port the service listens on when the intent names none: Spring
/// Boot's own default.
pub const DEFAULT_PORT: u16 = 8080;

/// The Spring Boot release the `pom.xml` inherits from: a 3.x line, the
/// first to need Java 17 and use `jakarta.*`, which the web layer imports.
pub const SPRING_BOOT_VERSION: &str = "3.3.5";

/// The directory of the main sources, under which the package's folders go.
pub const MAIN_JAVA: &str = "src/main/java";

/// The directory of the test sources.
pub const TEST_JAVA: &str = "src/test/java";

/// The Spring layer's subpackage. It and `Application.java` are the only
/// sources that import Spring; everything else is the plain-Java core.
pub const WEB_PACKAGE: &str = "web";

/// The login the controller tests configure; the service reads its own
/// from the environment.
const TEST_USERNAME: &str = "clerk";
const TEST_PASSWORD: &str = "correct horse battery staple";
const TEST_SECRET: &str = "test-only-secret-of-at-least-32-characters";

mod tmpl {
    //! The template files, compiled into the plugin.

    pub const POM: &str = include_str!("../templates/pom.xml.tmpl");
    pub const PROPERTIES: &str = include_str!("../templates/application.properties.tmpl");
    pub const DOCKERFILE: &str = include_str!("../templates/Dockerfile.tmpl");
    pub const DOCKERIGNORE: &str = include_str!("../templates/dockerignore.tmpl");
    pub const GITIGNORE: &str = include_str!("../templates/gitignore.tmpl");
    pub const README: &str = include_str!("../templates/README.md.tmpl");
    pub const README_AUTH: &str = include_str!("../templates/readme_auth.md.tmpl");
    pub const README_DATABASE: &str = include_str!("../templates/readme_database.md.tmpl");

    pub const VALIDATION_EXCEPTION: &str =
        include_str!("../templates/core/ValidationException.java.tmpl");
    pub const BODY_READER: &str = include_str!("../templates/core/BodyReader.java.tmpl");
    pub const NOT_FOUND: &str = include_str!("../templates/core/NotFoundException.java.tmpl");
    pub const REPOSITORY: &str = include_str!("../templates/core/Repository.java.tmpl");
    pub const IN_MEMORY_REPOSITORY: &str =
        include_str!("../templates/core/InMemoryRepository.java.tmpl");
    pub const REPOSITORIES_MEMORY: &str =
        include_str!("../templates/core/Repositories_memory.java.tmpl");
    pub const REPOSITORIES_DATABASE: &str =
        include_str!("../templates/core/Repositories_database.java.tmpl");
    pub const SERVICE: &str = include_str!("../templates/core/Service.java.tmpl");
    pub const JWT: &str = include_str!("../templates/core/Jwt.java.tmpl");
    pub const AUTH_SETTINGS: &str = include_str!("../templates/core/AuthSettings.java.tmpl");
    pub const AUTH_SERVICE: &str = include_str!("../templates/core/AuthService.java.tmpl");

    pub const APPLICATION: &str = include_str!("../templates/web/Application.java.tmpl");
    pub const SERVICE_CONFIGURATION: &str =
        include_str!("../templates/web/ServiceConfiguration.java.tmpl");
    pub const API_EXCEPTION_HANDLER: &str =
        include_str!("../templates/web/ApiExceptionHandler.java.tmpl");
    pub const HEALTH_CONTROLLER: &str = include_str!("../templates/web/HealthController.java.tmpl");
    pub const CONTROLLER: &str = include_str!("../templates/web/Controller.java.tmpl");
    pub const AUTH_CONTROLLER: &str = include_str!("../templates/web/AuthController.java.tmpl");
    pub const BEARER_TOKEN_FILTER: &str =
        include_str!("../templates/web/BearerTokenFilter.java.tmpl");

    pub const EXAMPLES: &str = include_str!("../templates/test/Examples.java.tmpl");
    pub const MODEL_TEST: &str = include_str!("../templates/test/ModelTest.java.tmpl");
    pub const SERVICE_TEST: &str = include_str!("../templates/test/ServiceTest.java.tmpl");
    pub const IN_MEMORY_REPOSITORY_TEST: &str =
        include_str!("../templates/test/InMemoryRepositoryTest.java.tmpl");
    pub const REPOSITORIES_TEST: &str =
        include_str!("../templates/test/RepositoriesTest.java.tmpl");
    pub const REPOSITORIES_MEMORY_TEST: &str =
        include_str!("../templates/test/RepositoriesTest_memory.java.tmpl");
    pub const API_EXCEPTION_HANDLER_TEST: &str =
        include_str!("../templates/test/ApiExceptionHandlerTest.java.tmpl");
    pub const AUTH_SERVICE_TEST: &str = include_str!("../templates/test/AuthServiceTest.java.tmpl");
    pub const CONTROLLER_TEST: &str = include_str!("../templates/test/ControllerTest.java.tmpl");
    pub const HEALTH_CONTROLLER_TEST: &str =
        include_str!("../templates/test/HealthControllerTest.java.tmpl");
    pub const AUTH_CONTROLLER_TEST: &str =
        include_str!("../templates/test/AuthControllerTest.java.tmpl");
}

/// A resource with its Java names.
struct JavaResource<'a> {
    resource: &'a Resource,
    /// The record class, e.g. `Invoice`.
    model: String,
    /// The plural as a member name, e.g. `invoices`: its field in
    /// `Repositories`.
    member: String,
    fields: Vec<JavaField<'a>>,
}

/// A field with its Java name.
struct JavaField<'a> {
    field: &'a Field,
    /// The record component, e.g. `unitPrice`.
    name: String,
}

impl<'a> JavaResource<'a> {
    fn new(resource: &'a Resource) -> Self {
        let mut taken: Vec<String> = Vec::new();
        let fields = resource
            .fields
            .iter()
            .map(|field| {
                let name = unique(java::member_name(&field.name), &taken);
                taken.push(name.clone());
                JavaField { field, name }
            })
            .collect();
        Self {
            resource,
            model: java::type_name(&resource.singular),
            member: java::member_name(&resource.plural),
            fields,
        }
    }

    fn plural(&self) -> &str {
        &self.resource.plural
    }

    /// The service's bean method in `ServiceConfiguration`: `invoiceService`.
    fn bean_name(&self) -> String {
        let mut chars = self.model.chars();
        let first = chars.next().map(|c| c.to_ascii_lowercase());
        format!(
            "{}{}Service",
            first.into_iter().collect::<String>(),
            chars.as_str()
        )
    }
}

/// `name`, or `name2`, `name3`... if it is already taken: two fields whose
/// names differ only by a suffix Java forced (`class` → `classValue` and
/// `class_value`) still get two components.
fn unique(name: String, taken: &[String]) -> String {
    if !taken.contains(&name) {
        return name;
    }
    (2..)
        .map(|n| format!("{name}{n}"))
        .find(|candidate| !taken.contains(candidate))
        .expect("an unused suffix exists")
}

impl JavaField<'_> {
    /// The component's type: optional values are boxed, so that an absent
    /// one is `null` in JSON; a flag is `false` when absent.
    fn java_type(&self) -> &'static str {
        let optional = !self.field.required;
        match (self.field.kind, optional) {
            (FieldKind::Text, _) => "String",
            (FieldKind::Integer, false) => "long",
            (FieldKind::Integer, true) => "Long",
            (FieldKind::Number, false) => "double",
            (FieldKind::Number, true) => "Double",
            (FieldKind::Boolean, _) => "boolean",
        }
    }

    /// The `BodyReader` call that reads and checks the field.
    fn reader_call(&self) -> String {
        let json = java::string(&self.field.name);
        let (required, non_negative) = (self.field.required, self.field.non_negative);
        match (self.field.kind, required) {
            (FieldKind::Text, _) => format!("reader.text({json}, {required})"),
            (FieldKind::Integer, true) => format!("reader.wholeNumber({json}, {non_negative})"),
            (FieldKind::Integer, false) => {
                format!("reader.optionalWholeNumber({json}, {non_negative})")
            }
            (FieldKind::Number, true) => format!("reader.number({json}, {non_negative})"),
            (FieldKind::Number, false) => format!("reader.optionalNumber({json}, {non_negative})"),
            (FieldKind::Boolean, _) => format!("reader.flag({json}, {required})"),
        }
    }

    /// The example value as Java source: whole numbers are `long`
    /// literals, the type the record hands back.
    fn java_example(&self, changed: bool) -> String {
        let value = self.field.example_value(changed, java::string);
        if self.field.kind == FieldKind::Integer {
            format!("{value}L")
        } else {
            value
        }
    }
}

/// A JSON string: the spec's names are plain ASCII, but quotes and
/// backslashes are escaped all the same.
fn json_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// `{"name": "example name", "price": 9.5}`: a body as JSON.
fn example_json(resource: &JavaResource<'_>, changed: bool) -> String {
    let pairs: Vec<String> = resource
        .fields
        .iter()
        .map(|f| {
            format!(
                "{}: {}",
                json_string(&f.field.name),
                f.field.example_value(changed, json_string)
            )
        })
        .collect();
    format!("{{{}}}", pairs.join(", "))
}

/// Java string literals joined by `, `: the inside of `List.of(...)`.
fn string_list<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    items
        .into_iter()
        .map(java::string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The project's layout and the values every template may use.
struct Project<'a> {
    spec: &'a IntentSpec,
    /// What the project does to protect sensitive data; nothing when
    /// `protection.any()` is false.
    protection: &'a Protection,
    resources: Vec<JavaResource<'a>>,
    package: String,
    title: String,
    port: String,
}

impl Project<'_> {
    /// A path under the package's main sources: `web/BookController.java`.
    fn main(&self, relative: &str) -> String {
        format!("{MAIN_JAVA}/{}/{relative}", self.package.replace('.', "/"))
    }

    /// A path under the package's test sources.
    fn test(&self, relative: &str) -> String {
        format!("{TEST_JAVA}/{}/{relative}", self.package.replace('.', "/"))
    }

    /// Renders a template with the project's common values and `extra`.
    fn render(
        &self,
        template: &str,
        extra: &[(&'static str, String)],
    ) -> Result<String, PluginError> {
        let mut values: Vec<(&'static str, String)> = vec![
            ("package", self.package.clone()),
            ("name", self.spec.name.clone()),
            ("title", self.title.clone()),
            ("resource_list", self.spec.resource_list()),
            ("port", self.port.clone()),
        ];
        values.extend(extra.iter().cloned());
        render(template, &as_pairs(&values))
    }

    /// The `, properties = {...}` of the `@WebMvcTest`s: the test login and
    /// an in-memory `DATABASE_URL`, whatever the developer's environment.
    fn test_properties(&self) -> String {
        let mut properties: Vec<String> = Vec::new();
        if self.spec.auth {
            properties.extend([
                format!("JWT_SECRET={TEST_SECRET}"),
                format!("AUTH_USERNAME={TEST_USERNAME}"),
                format!("AUTH_PASSWORD={TEST_PASSWORD}"),
            ]);
        }
        if self.spec.database.is_some() {
            properties.push("DATABASE_URL=".into());
        }
        properties.extend(protected::test_properties(self.protection));
        if properties.is_empty() {
            String::new()
        } else {
            let lines: Vec<String> = properties
                .iter()
                .map(|p| format!("            {}", java::string(p)))
                .collect();
            format!(
                ",\n        properties = {{\n{}\n        }}",
                lines.join(",\n")
            )
        }
    }
}

/// Renders every file of the project described by `spec`, protecting
/// sensitive data as `protection` says (see [`protected`]).
pub fn render_project(
    spec: &IntentSpec,
    protection: &Protection,
) -> Result<Vec<File>, PluginError> {
    let project = Project {
        spec,
        protection,
        resources: spec.resources.iter().map(JavaResource::new).collect(),
        package: java::package_name(&spec.name),
        title: spec.title(),
        port: spec.port.unwrap_or(DEFAULT_PORT).to_string(),
    };
    let p = &project;

    let mut files: Vec<(String, String)> = vec![
        ("pom.xml".into(), pom_xml(p)?),
        (
            "src/main/resources/application.properties".into(),
            application_properties(p)?,
        ),
    ];

    // The Spring layer.
    files.push((
        p.main("Application.java"),
        p.render(tmpl::APPLICATION, &[])?,
    ));
    files.push((
        p.main("web/ServiceConfiguration.java"),
        service_configuration(p)?,
    ));
    files.push((
        p.main("web/ApiExceptionHandler.java"),
        p.render(tmpl::API_EXCEPTION_HANDLER, &[])?,
    ));
    let health_doc = if spec.auth {
        ", open without a token"
    } else {
        ""
    };
    files.push((
        p.main("web/HealthController.java"),
        p.render(
            tmpl::HEALTH_CONTROLLER,
            &[("health_doc", health_doc.into())],
        )?,
    ));
    let controller_auth_doc = if spec.auth {
        ", behind the bearer token that {@link BearerTokenFilter} checks"
    } else {
        ""
    };
    for resource in &p.resources {
        let controller = if protection.any() {
            protected::controller_java(p, resource, controller_auth_doc)?
        } else {
            let mut values = resource_values(resource);
            values.push(("auth_doc", controller_auth_doc.into()));
            p.render(tmpl::CONTROLLER, &values)?
        };
        files.push((
            p.main(&format!("web/{}Controller.java", resource.model)),
            controller,
        ));
    }
    if spec.auth {
        files.push((
            p.main("web/AuthController.java"),
            p.render(tmpl::AUTH_CONTROLLER, &[])?,
        ));
        let protected: Vec<String> = p
            .resources
            .iter()
            .map(|r| format!("/{}", r.plural()))
            .collect();
        files.push((
            p.main("web/BearerTokenFilter.java"),
            p.render(tmpl::BEARER_TOKEN_FILTER, &{
                let mut values = protected::filter_values(p);
                values.push(("protected", english_list(&protected)));
                values
            })?,
        ));
    }

    // The plain-Java core.
    for resource in &p.resources {
        let model = if protection.any() {
            protected::model_java(p, resource)?
        } else {
            model_java(p, resource)
        };
        files.push((p.main(&format!("model/{}.java", resource.model)), model));
    }
    files.push((
        p.main("validation/BodyReader.java"),
        p.render(tmpl::BODY_READER, &[])?,
    ));
    files.push((
        p.main("validation/ValidationException.java"),
        p.render(tmpl::VALIDATION_EXCEPTION, &[])?,
    ));
    files.push((
        p.main("repository/Repository.java"),
        p.render(tmpl::REPOSITORY, &protected::repository_values(p, false))?,
    ));
    files.push((
        p.main("repository/InMemoryRepository.java"),
        p.render(
            tmpl::IN_MEMORY_REPOSITORY,
            &protected::repository_values(p, true),
        )?,
    ));
    files.push((
        p.main("repository/Repositories.java"),
        repositories_java(p)?,
    ));
    files.push((
        p.main("service/NotFoundException.java"),
        p.render(tmpl::NOT_FOUND, &[])?,
    ));
    for resource in &p.resources {
        let service = if protection.any() {
            protected::service_java(p, resource)?
        } else {
            p.render(tmpl::SERVICE, &resource_values(resource))?
        };
        files.push((
            p.main(&format!("service/{}Service.java", resource.model)),
            service,
        ));
    }
    if spec.auth {
        files.push((p.main("auth/Jwt.java"), p.render(tmpl::JWT, &[])?));
        files.push((
            p.main("auth/AuthSettings.java"),
            p.render(tmpl::AUTH_SETTINGS, &[])?,
        ));
        files.push((
            p.main("auth/AuthService.java"),
            p.render(tmpl::AUTH_SERVICE, &[])?,
        ));
    }

    // The protection's core files and their tests.
    if protection.any() {
        files.extend(protected::core_files(p)?);
    }
    core_tests(p, &mut files)?;

    // The tests of the Spring layer.
    for resource in &p.resources {
        files.push((
            p.test(&format!("web/{}ControllerTest.java", resource.model)),
            controller_test_java(p, resource)?,
        ));
    }
    files.push((
        p.test("web/ApiExceptionHandlerTest.java"),
        p.render(tmpl::API_EXCEPTION_HANDLER_TEST, &[])?,
    ));
    let health_suffix = if spec.auth { "WithoutAToken" } else { "" };
    files.push((
        p.test("web/HealthControllerTest.java"),
        p.render(
            tmpl::HEALTH_CONTROLLER_TEST,
            &[
                ("test_properties", p.test_properties()),
                ("health_suffix", health_suffix.into()),
            ],
        )?,
    ));
    if spec.auth {
        let paths: Vec<String> = p
            .resources
            .iter()
            .map(|r| format!("/{}", r.plural()))
            .collect();
        let array = format!(
            "new String[] {{{}}}",
            string_list(paths.iter().map(String::as_str))
        );
        files.push((
            p.test("web/AuthControllerTest.java"),
            p.render(
                tmpl::AUTH_CONTROLLER_TEST,
                &[
                    ("test_properties", p.test_properties()),
                    ("protected_array", array),
                ],
            )?,
        ));
    }

    files.push(("README.md".into(), readme_md(p)?));
    files.push(("Dockerfile".into(), p.render(tmpl::DOCKERFILE, &[])?));
    files.push((".dockerignore".into(), p.render(tmpl::DOCKERIGNORE, &[])?));
    files.push((".gitignore".into(), p.render(tmpl::GITIGNORE, &[])?));

    Ok(files
        .into_iter()
        .map(|(path, text)| File::text(path, text))
        .collect())
}

/// The tests of the plain-Java core: per resource its examples, model
/// and service tests, then the repository's and the settings'.
fn core_tests(p: &Project<'_>, files: &mut Vec<(String, String)>) -> Result<(), PluginError> {
    let (spec, protection) = (p.spec, p.protection);
    for resource in &p.resources {
        files.push((
            p.test(&format!("model/{}Examples.java", resource.model)),
            examples_java(p, resource)?,
        ));
        files.push((
            p.test(&format!("model/{}Test.java", resource.model)),
            model_test_java(p, resource)?,
        ));
        let service_test = if protection.any() {
            protected::service_test_java(p, resource)?
        } else {
            let mut values = resource_values(resource);
            values.push(("key_field", resource.resource.key_field().name.clone()));
            p.render(tmpl::SERVICE_TEST, &values)?
        };
        files.push((
            p.test(&format!("service/{}ServiceTest.java", resource.model)),
            service_test,
        ));
    }
    files.push((
        p.test("repository/InMemoryRepositoryTest.java"),
        p.render(tmpl::IN_MEMORY_REPOSITORY_TEST, &[])?,
    ));
    let repositories_test = match spec.database {
        Some(database) => p.render(tmpl::REPOSITORIES_TEST, &database_values(database))?,
        None => {
            let checks: String = p
                .resources
                .iter()
                .map(|r| {
                    format!(
                        "        assertTrue(first.{0}.list().isEmpty(), \"{1} start empty\");\n        \
                         assertNotSame(first.{0}, second.{0}, \"{1} are not shared\");\n",
                        r.member,
                        r.plural()
                    )
                })
                .collect();
            p.render(tmpl::REPOSITORIES_MEMORY_TEST, &[("memory_checks", checks)])?
        }
    };
    files.push((
        p.test("repository/RepositoriesTest.java"),
        repositories_test,
    ));
    if spec.auth {
        files.push((
            p.test("auth/AuthServiceTest.java"),
            p.render(tmpl::AUTH_SERVICE_TEST, &[])?,
        ));
    }
    Ok(())
}

fn resource_values(resource: &JavaResource<'_>) -> Vec<(&'static str, String)> {
    vec![
        ("plural", resource.plural().to_string()),
        ("singular", resource.resource.singular.clone()),
        ("a_singular", resource.resource.a_singular()),
        ("Model", resource.model.clone()),
    ]
}

/// The Maven coordinates of a driver for `database`, and the Spring
/// property that would point at it.
fn database_driver(database: Database) -> (&'static str, &'static str) {
    match database {
        Database::Postgres => (
            "`org.postgresql:postgresql` with `spring-boot-starter-jdbc`",
            "spring.datasource.url=jdbc:postgresql://localhost:5432/app",
        ),
        Database::Mysql => (
            "`com.mysql:mysql-connector-j` with `spring-boot-starter-jdbc`",
            "spring.datasource.url=jdbc:mysql://localhost:3306/app",
        ),
        Database::Sqlite => (
            "`org.xerial:sqlite-jdbc` with `spring-boot-starter-jdbc`",
            "spring.datasource.url=jdbc:sqlite:/var/lib/app/app.db",
        ),
        Database::Mongo => (
            "`spring-boot-starter-data-mongodb`",
            "spring.data.mongodb.uri=mongodb://localhost:27017/app",
        ),
    }
}

fn database_values(database: Database) -> Vec<(&'static str, String)> {
    let (driver, property) = database_driver(database);
    vec![
        ("database", database.title().to_string()),
        ("DatabaseKey", words::capitalize(database.key())),
        ("database_example", database.example_url().to_string()),
        (
            "database_schemes",
            string_list(database.schemes().iter().copied()),
        ),
        ("database_driver", driver.replace('`', "")),
        ("database_driver_md", driver.to_string()),
        ("spring_property", property.to_string()),
    ]
}

fn pom_xml(p: &Project<'_>) -> Result<String, PluginError> {
    let description = format!("{}: {}, generated by QLP.", p.title, p.spec.resource_list());
    p.render(
        tmpl::POM,
        &[
            ("spring_boot_version", SPRING_BOOT_VERSION.into()),
            ("group", java::PACKAGE_GROUP.into()),
            ("title_xml", java::xml_text(&p.title)),
            ("description_xml", java::xml_text(&description)),
        ],
    )
}

fn application_properties(p: &Project<'_>) -> Result<String, PluginError> {
    let mut extra = String::new();
    if p.spec.auth {
        extra.push_str(
            "\n\n# The JWT settings come from the environment only, never from this file:\n\
             # JWT_SECRET (required, at least 32 characters), JWT_EXPIRES_SECONDS,\n\
             # AUTH_USERNAME and AUTH_PASSWORD. See auth/AuthSettings.java.",
        );
    }
    if let Some(database) = p.spec.database {
        let (driver, property) = database_driver(database);
        extra.push_str(&format!(
            "\n\n# DATABASE_URL selects the storage (see repository/Repositories.java):\n\
             # unset, empty or memory:// keeps records in memory; {scheme}://...\n\
             # selects {title} once a repository for it is implemented. Then add\n\
             # {driver} to pom.xml and\n\
             # point Spring at the same database:\n\
             # {property}",
            scheme = database.schemes()[0],
            title = database.title(),
            driver = driver.replace('`', ""),
        ));
    }
    extra.push_str(&protected::properties_extra(p.protection));
    let mut text = p.render(tmpl::PROPERTIES, &[("properties_extra", extra)])?;
    text.push('\n');
    Ok(text)
}

fn service_configuration(p: &Project<'_>) -> Result<String, PluginError> {
    let mut imports: Vec<String> = vec![format!("{}.repository.Repositories", p.package)];
    for resource in &p.resources {
        imports.push(format!("{}.service.{}Service", p.package, resource.model));
    }
    if p.spec.auth {
        imports.push(format!("{}.auth.AuthService", p.package));
        imports.push(format!("{}.auth.AuthSettings", p.package));
    }
    let protection = p.protection.any().then(|| protected::beans(p));
    if let Some(beans) = &protection {
        imports.extend(beans.imports.iter().cloned());
    }
    imports.sort_by_key(|i| (i.starts_with("java."), i.clone()));
    let imports: String = imports.iter().map(|i| format!("import {i};\n")).collect();
    let uses_environment = p.spec.auth
        || p.spec.database.is_some()
        || !p.protection.encrypted.is_empty()
        || p.protection.retention_days.is_some();
    let environment_import = if uses_environment {
        "import org.springframework.core.env.Environment;\n"
    } else {
        ""
    };

    let mut doc = String::from(
        " * Wires the plain-Java core into Spring: the repositories and a service\n * per resource",
    );
    if p.spec.auth {
        doc.push_str(", and the token service");
    }
    if p.protection.any() {
        doc.push_str(",\n * with what protects the data they keep");
    }
    doc.push_str(".\n");
    if uses_environment {
        doc.push_str(
            " * Settings are read from Spring's Environment, which holds the\n \
             * environment variables, when the service starts: a missing or\n \
             * malformed one stops it.\n",
        );
    }

    let mut beans = String::new();
    match p.spec.database {
        Some(_) => beans.push_str(
            "    /** The repositories that DATABASE_URL selects; in memory when it is unset. */\n\
             \x20   @Bean\n\
             \x20   public Repositories repositories(Environment environment) {\n\
             \x20       return Repositories.select(environment.getProperty(\"DATABASE_URL\", \"\"));\n\
             \x20   }\n",
        ),
        None => beans.push_str(
            "    /** Empty in-memory repositories. */\n\
             \x20   @Bean\n\
             \x20   public Repositories repositories() {\n\
             \x20       return Repositories.inMemory();\n\
             \x20   }\n",
        ),
    }
    if let Some(protection) = &protection {
        beans.push_str(&protection.beans);
    }
    for resource in &p.resources {
        let dependencies = if p.protection.any() {
            protected::service_dependencies(p.protection, resource)
        } else {
            vec![]
        };
        let parameters: String = dependencies
            .iter()
            .map(|(ty, name)| format!(", {ty} {name}"))
            .collect();
        let arguments: String = dependencies
            .iter()
            .map(|(_, name)| format!(", {name}"))
            .collect();
        beans.push_str(&format!(
            "\n    /** The service of the {plural}, on their repository. */\n\
             \x20   @Bean\n\
             \x20   public {model}Service {bean}(Repositories repositories{parameters}) {{\n\
             \x20       return new {model}Service(repositories.{member}{arguments});\n\
             \x20   }}\n",
            model = resource.model,
            plural = resource.plural(),
            bean = resource.bean_name(),
            member = resource.member,
        ));
    }
    if p.spec.auth {
        beans.push_str(
            "\n    /** Fails at start-up without a JWT_SECRET of at least 32 characters. */\n\
             \x20   @Bean\n\
             \x20   public AuthService authService(Environment environment) {\n\
             \x20       return new AuthService(AuthSettings.load(environment::getProperty));\n\
             \x20   }\n",
        );
    }
    p.render(
        tmpl::SERVICE_CONFIGURATION,
        &[
            ("imports", imports),
            ("environment_import", environment_import.into()),
            ("class_doc", doc),
            ("beans", beans),
        ],
    )
}

fn repositories_java(p: &Project<'_>) -> Result<String, PluginError> {
    let mut model_imports: Vec<String> = p
        .resources
        .iter()
        .map(|r| format!("import {}.model.{};\n", p.package, r.model))
        .collect();
    model_imports.sort();
    let fields: Vec<String> = p
        .resources
        .iter()
        .map(|r| {
            format!(
                "    /** The repository of {}. */\n    public final Repository<{}> {};\n",
                r.plural(),
                r.model,
                r.member
            )
        })
        .collect();
    let fields = fields.join("\n");
    let parameters: Vec<String> = p
        .resources
        .iter()
        .map(|r| format!("Repository<{}> {}", r.model, r.member))
        .collect();
    let assignments: String = p
        .resources
        .iter()
        .map(|r| format!("        this.{0} = {0};\n", r.member))
        .collect();
    let memory: Vec<&str> = p
        .resources
        .iter()
        .map(|_| "new InMemoryRepository<>()")
        .collect();
    let mut values = vec![
        ("model_imports", model_imports.concat()),
        ("repository_fields", fields),
        ("constructor_parameters", parameters.join(", ")),
        ("constructor_assignments", assignments),
        ("memory_arguments", memory.join(", ")),
    ];
    match p.spec.database {
        Some(database) => {
            values.extend(database_values(database));
            p.render(tmpl::REPOSITORIES_DATABASE, &values)
        }
        None => p.render(tmpl::REPOSITORIES_MEMORY, &values),
    }
}

/// The record of one resource, its `Input` and their JSON mapping. The
/// reads of `Input.parse` are the constructor's arguments, so that no
/// local variable can shadow a field whatever it is called.
fn model_java(p: &Project<'_>, resource: &JavaResource<'_>) -> String {
    let model = &resource.model;
    let singular = &resource.resource.singular;
    let a_singular = resource.resource.a_singular();
    let package = &p.package;

    let components = |with_id: bool| -> String {
        let mut list: Vec<String> = Vec::new();
        if with_id {
            list.push("long id".into());
        }
        list.extend(
            resource
                .fields
                .iter()
                .map(|f| format!("{} {}", f.java_type(), f.name)),
        );
        list.join(",\n        ")
    };
    let json_names = string_list(resource.fields.iter().map(|f| f.field.name.as_str()));
    let puts: String = resource
        .fields
        .iter()
        .map(|f| {
            format!(
                "        json.put({}, this.{});\n",
                java::string(&f.field.name),
                f.name
            )
        })
        .collect();
    let reads: Vec<String> = resource.fields.iter().map(JavaField::reader_call).collect();
    let copies: Vec<String> = resource
        .fields
        .iter()
        .map(|f| format!("this.{}", f.name))
        .collect();

    format!(
        "package {package}.model;\n\
         \n\
         import {package}.validation.BodyReader;\n\
         import java.util.LinkedHashMap;\n\
         import java.util.Map;\n\
         import java.util.Set;\n\
         \n\
         /**\n \
         * One {singular} as the API stores and returns it; {{@link Input}} is the\n \
         * body of a request that creates or replaces {a_singular}. Optional values\n \
         * are {{@code null}} when absent, and an absent flag is {{@code false}}.\n \
         * Plain Java: the web layer maps it to and from JSON.\n \
         */\n\
         public record {model}(\n        \
         {record_components}) {{\n    \
         /** The JSON names of the fields a body may carry. */\n    \
         public static final Set<String> FIELDS = Set.of({json_names});\n\
         \n    \
         /** The record as a JSON object, under the fields' JSON names. */\n    \
         public Map<String, Object> toJson() {{\n        \
         Map<String, Object> json = new LinkedHashMap<>();\n        \
         json.put(\"id\", this.id);\n\
         {puts}        \
         return json;\n    \
         }}\n\
         \n    \
         /** A valid request body: the values of {a_singular} without its id. */\n    \
         public record Input(\n            \
         {input_components}) {{\n        \
         /**\n         \
         * Reads and validates a JSON body, throwing a ValidationException\n         \
         * that names every invalid field.\n         \
         */\n        \
         public static Input parse(Map<String, Object> json) {{\n            \
         BodyReader reader = new BodyReader(json, FIELDS);\n            \
         Input input = new Input(\n                    \
         {reads});\n            \
         reader.finish();\n            \
         return input;\n        \
         }}\n\
         \n        \
         /** The {singular} with the given id and these values. */\n        \
         public {model} withId(long id) {{\n            \
         return new {model}(id, {copies});\n        \
         }}\n    \
         }}\n\
         }}\n",
        record_components = components(true),
        input_components = components(false).replace("\n        ", "\n            "),
        reads = reads.join(",\n                    "),
        copies = copies.join(", "),
    )
}

fn examples_java(p: &Project<'_>, resource: &JavaResource<'_>) -> Result<String, PluginError> {
    let puts = |changed: bool| -> String {
        resource
            .fields
            .iter()
            .map(|f| {
                format!(
                    "        json.put({}, {});\n",
                    java::string(&f.field.name),
                    f.java_example(changed)
                )
            })
            .collect()
    };
    let mut values = resource_values(resource);
    values.extend([("valid_puts", puts(false)), ("changed_puts", puts(true))]);
    p.render(tmpl::EXAMPLES, &values)
}

fn model_test_java(p: &Project<'_>, resource: &JavaResource<'_>) -> Result<String, PluginError> {
    let mut invalid = String::new();
    let mut uses_text = false;
    for f in &resource.fields {
        let json = java::string(&f.field.name);
        let mut case = |value: &str| {
            invalid.push_str(&format!(
                "        expectProblem(with(valid(), {json}, {value}), {json});\n"
            ));
        };
        match f.field.kind {
            FieldKind::Text => {
                if f.field.required {
                    case("\"  \"");
                }
                case("\"x\".repeat(BodyReader.MAX_TEXT_LENGTH + 1)");
                uses_text = true;
            }
            FieldKind::Integer => {
                if f.field.non_negative {
                    case("-1L");
                }
                case("2.5");
            }
            FieldKind::Number => {
                if f.field.non_negative {
                    case("-1.0");
                }
                case("\"not a number\"");
            }
            FieldKind::Boolean => case("\"yes\""),
        }
    }
    let key = resource.resource.key_field();
    let wrong_type = if key.kind == FieldKind::Text {
        "42"
    } else {
        "\"not a value\""
    };
    let required: Vec<&str> = resource
        .fields
        .iter()
        .filter(|f| f.field.required)
        .map(|f| f.field.name.as_str())
        .collect();
    let mut required_sorted = required.clone();
    required_sorted.sort_unstable();
    let optional = resource
        .fields
        .iter()
        .filter(|f| !f.field.required)
        .map(|f| f.field.name.as_str());
    let mut protection_values: Vec<(&'static str, String)> = if p.protection.any() {
        protected::model_test_values(p, resource)
    } else {
        vec![
            ("protection_imports", String::new()),
            ("java_imports", String::new()),
            ("test_members", String::new()),
            ("expected_extra", String::new()),
            ("changed_expected_extra", String::new()),
            ("answer_1", ".withId(1).toJson()".into()),
            ("answer_2", ".withId(2).toJson()".into()),
        ]
    };
    // The protection's imports come first: `crypto`, `testing` sort before
    // `validation`.
    let mut test_imports = protection_values.remove(0).1;
    if uses_text {
        test_imports.push_str(&format!("import {}.validation.BodyReader;\n", p.package));
    }
    let mut values = resource_values(resource);
    values.extend(protection_values);
    values.extend([
        ("test_imports", test_imports),
        ("required_list", string_list(required.iter().copied())),
        (
            "required_sorted",
            string_list(required_sorted.iter().copied()),
        ),
        ("optional_list", string_list(optional)),
        ("invalid_cases", invalid),
        ("key_field", key.name.clone()),
        ("wrong_type_value", wrong_type.to_string()),
    ]);
    p.render(tmpl::MODEL_TEST, &values)
}

fn controller_test_java(
    p: &Project<'_>,
    resource: &JavaResource<'_>,
) -> Result<String, PluginError> {
    let (auth_imports, auth_members, call_doc, authorize) = if p.spec.auth {
        (
            format!(
                "import {}.auth.AuthService;\nimport java.time.Instant;\n",
                p.package
            ),
            "\n    @Autowired\n    private AuthService auth;\n".to_string(),
            " with a valid bearer token",
            format!(
                "\n                .header(\"Authorization\", \"Bearer \" + auth.issueToken(\n                        \
                 {}, {}, Instant.now().getEpochSecond()).orElseThrow())",
                java::string(TEST_USERNAME),
                java::string(TEST_PASSWORD)
            ),
        )
    } else {
        (String::new(), String::new(), "", String::new())
    };
    let mut values = resource_values(resource);
    values.extend([
        ("auth_imports", auth_imports),
        ("auth_members", auth_members),
        ("call_doc", call_doc.to_string()),
        ("authorize", authorize),
        ("test_properties", p.test_properties()),
        ("valid_json", java::string(&example_json(resource, false))),
        ("changed_json", java::string(&example_json(resource, true))),
        ("key_field", resource.resource.key_field().name.clone()),
    ]);
    values.extend(protected::controller_test_values(p, resource));
    p.render(tmpl::CONTROLLER_TEST, &values)
}

fn readme_md(p: &Project<'_>) -> Result<String, PluginError> {
    let spec = p.spec;
    let mut feature_bullets = String::new();
    let mut run_note = String::new();
    let mut docker_env = String::new();
    let mut endpoint_rows = String::new();
    let mut auth_section = String::new();
    let mut config_rows = String::new();
    let mut database_section = String::new();
    let mut layout_extra = String::new();
    let first = p.resources[0].plural();

    if spec.auth {
        feature_bullets.push_str(
            "- JWT (HS256) bearer-token authentication on every resource endpoint, on\n  \
             the JDK's `javax.crypto`; the signing key comes from `JWT_SECRET`.\n",
        );
        run_note.push_str(
            "# JWT_SECRET, AUTH_USERNAME and AUTH_PASSWORD must be set first: see Authentication.\n",
        );
        docker_env.push_str(readme::AUTH_DOCKER_ENV);
        endpoint_rows.push_str(readme::TOKEN_ENDPOINT_ROW);
        let paths: Vec<String> = p
            .resources
            .iter()
            .map(|r| format!("`/{}`", r.plural()))
            .collect();
        auth_section = render(
            tmpl::README_AUTH,
            &[
                ("first", first),
                ("protected", &english_list(&paths)),
                ("port", &p.port),
            ],
        )?;
        config_rows.push_str(readme::AUTH_CONFIG_ROWS);
        layout_extra.push_str(
            "- `auth/`: JWT issue and verification (`Jwt`), the settings from the\n  \
             environment (`AuthSettings`) and `AuthService`, which\n  \
             `web/AuthController` and `web/BearerTokenFilter` use.\n",
        );
    }
    if let Some(database) = spec.database {
        feature_bullets.push_str(&readme::database_bullet(database));
        config_rows.push_str(&readme::database_config_row(database));
        database_section = render(tmpl::README_DATABASE, &as_pairs(&database_values(database)))?;
    }

    let mut model_docs = String::new();
    for resource in &p.resources {
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
    let extra = protected::readme_extra(p.protection, &p.resources);
    feature_bullets.push_str(&extra.feature_bullets);
    run_note.push_str(&extra.run_note);
    docker_env.push_str(&extra.docker_env);
    config_rows.push_str(&extra.config_rows);
    auth_section.push_str(&extra.section);
    layout_extra.push_str(&extra.layout);
    let curl_example = readme::curl_example(
        &p.port,
        first,
        spec.auth,
        &example_json(&p.resources[0], false),
    );

    p.render(
        tmpl::README,
        &[
            ("intent_quote", readme::intent_quote(&spec.description)),
            (
                "requirements_section",
                readme::requirements_section(&spec.requirements),
            ),
            ("feature_bullets", feature_bullets),
            ("run_note", run_note),
            ("curl_example", curl_example),
            ("docker_env", docker_env),
            ("endpoint_rows", endpoint_rows),
            ("model_docs", format!("{}\n", model_docs.trim_end())),
            ("auth_section", auth_section),
            ("config_rows", config_rows),
            ("database_section", database_section),
            ("package_path", p.package.replace('.', "/")),
            ("layout_extra", layout_extra),
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

    fn all_text(files: &[File]) -> String {
        files.iter().filter_map(File::as_text).collect()
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
            ("Notes kept in MongoDB", &[][..]),
        ] {
            qlp_agent_testkit::assert_rendered_cleanly(&files_for(description, requirements));
        }
    }

    #[test]
    fn protected_projects_render_cleanly_too() {
        for (description, concern) in [
            (
                "A payments API for cards with a card number and a cvv",
                "payments",
            ),
            (
                "Patients with a diagnosis, kept in PostgreSQL",
                "health-data",
            ),
            ("Notes with a title", "gdpr"),
        ] {
            let intent = qlp_agent_testkit::intent(description, &[], &[("compliance", concern)]);
            let files = crate::generate_project(&intent).expect("generates");
            qlp_agent_testkit::assert_rendered_cleanly(&files);
            assert!(
                files.iter().any(|f| f
                    .as_text()
                    .is_some_and(|t| t.contains("## Data protection"))),
                "{concern}"
            );
        }
    }

    #[test]
    fn card_numbers_are_masked_to_their_last_four_characters() {
        assert_eq!(protected::mask("4111111111111111"), "************1111");
        assert_eq!(protected::mask("123"), "***");
        assert!(protected::is_card_number("card_number"));
        assert!(protected::is_card_number("pan"));
        assert!(!protected::is_card_number("cardholder_name"));
    }

    #[test]
    fn a_model_never_takes_a_reserved_class_name() {
        let files = files_for("A service to manage strings and repositories", &[]);
        let all = all_text(&files);
        assert!(
            all.contains("public record StringRecord("),
            "String is renamed"
        );
        assert!(all.contains("public record RepositoryRecord("));
    }

    #[test]
    fn a_field_named_like_a_keyword_keeps_its_json_name() {
        let files = files_for(
            "An API for lessons",
            &["Lessons have a class, a default and a class value"],
        );
        let all = all_text(&files);
        assert!(all.contains("String classValue,"), "{all}");
        assert!(all.contains("String classValue2"), "{all}");
        assert!(all.contains("json.put(\"class\", this.classValue);"));
    }

    #[test]
    fn spring_appears_only_in_the_application_and_the_web_package() {
        let files = files_for("Invoices with JWT auth and MySQL", &[]);
        for file in &files {
            let spring_side =
                file.path.contains("/web/") || file.path.ends_with("/Application.java");
            let text = file.as_text().expect("text");
            if file.path.ends_with(".java") && !spring_side {
                assert!(
                    !text.contains("org.springframework") && !text.contains("jakarta."),
                    "{} imports Spring",
                    file.path
                );
            }
        }
    }
}
