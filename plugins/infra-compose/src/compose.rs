//! Writing `compose.yaml` and `.env.example` from the intent and the
//! earlier files.
//!
//! - The service (`app`, built from `Dockerfile`) publishes the port its
//!   Dockerfile exposes (the intent's port, else 8080, without `EXPOSE`)
//!   and gets the environment its sources read: `PORT`, a `DATABASE_URL`
//!   pointing at the database service, and every secret (`JWT_SECRET`,
//!   `AUTH_PASSWORD`…) as a required variable without a value. It also
//!   reads `.env` (`env_file`, the short form every Compose version
//!   reads), drops every capability and cannot gain privileges. A database
//!   the sources read no `DATABASE_URL` for is left out.
//! - The database (`db`) runs the [`server`] image pinned to a version,
//!   keeps its data in the named volume `db-data`, publishes no port (the
//!   service reaches it over the Compose network) and has a healthcheck;
//!   the service `depends_on` it with `condition: service_healthy`.
//!   SQLite needs no server: its file lives in the named volume
//!   `app-data`. An intent that names Redis gets a `cache` service too.
//! - `.env.example` lists every variable `compose.yaml` requires, empty,
//!   with how to make a value.

use qlp_infra_kit::project::{Project, Wants, is_secret};
use qlp_infra_kit::yaml;
use qlp_intent_spec::Database;
use qlp_sdk::File;
use serde_json::{Map, Value, json};

/// The port a service without `EXPOSE` and without a port in the intent
/// listens on.
pub const DEFAULT_PORT: u16 = 8080;

/// The database and user name the database service creates.
pub const DATABASE_NAME: &str = "app";

/// The Redis image, pinned like the database images.
pub const REDIS_IMAGE: &str = "redis:7.4.1-alpine";

/// The variable holding MySQL's root password, which its image requires.
const MYSQL_ROOT_PASSWORD: &str = "MYSQL_ROOT_PASSWORD";

/// A database server run by Compose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Server {
    /// The image, pinned to a release.
    pub image: &'static str,
    /// Where the image keeps its data.
    pub data_dir: &'static str,
    /// The port it listens on inside the network.
    pub port: u16,
    /// The variable holding the application user's password.
    pub password_variable: &'static str,
    /// The healthcheck command (`CMD-SHELL` form).
    pub healthcheck: &'static str,
}

/// The server of a database, `None` for SQLite (a file).
pub fn server(database: Database) -> Option<Server> {
    match database {
        Database::Postgres => Some(Server {
            image: "postgres:16.4-alpine",
            data_dir: "/var/lib/postgresql/data",
            port: 5432,
            password_variable: "POSTGRES_PASSWORD",
            healthcheck: "pg_isready -U app -d app",
        }),
        Database::Mysql => Some(Server {
            image: "mysql:8.4.3",
            data_dir: "/var/lib/mysql",
            port: 3306,
            password_variable: "MYSQL_PASSWORD",
            healthcheck: "mysqladmin ping -h 127.0.0.1 -u app --password=\"$$MYSQL_PASSWORD\" --silent",
        }),
        Database::Mongo => Some(Server {
            image: "mongo:7.0.15",
            data_dir: "/data/db",
            port: 27017,
            password_variable: "MONGO_PASSWORD",
            healthcheck: "mongosh --quiet --eval \"db.adminCommand('ping').ok\"",
        }),
        Database::Sqlite => None,
    }
}

/// Whether the intent names a database that runs as a server.
pub fn has_server(wants: &Wants) -> bool {
    wants.database.and_then(server).is_some() || wants.names(&["redis"])
}

/// `${NAME:?set NAME in .env}`: Compose refuses to start without it.
fn required(name: &str) -> String {
    format!("${{{name}:?set {name} in .env, see .env.example}}")
}

/// The `DATABASE_URL` the service gets for `database`.
fn database_url(database: Database, server: Option<Server>) -> String {
    let name = DATABASE_NAME;
    match (database, server) {
        (Database::Sqlite, _) | (_, None) => "sqlite:////data/app.db".to_string(),
        (Database::Mongo, Some(s)) => format!(
            "mongodb://{name}:${{{}}}@db:{}/{name}?authSource=admin",
            s.password_variable, s.port
        ),
        (_, Some(s)) => format!(
            "{}://{name}:${{{}}}@db:{}/{name}",
            database.schemes()[0],
            s.password_variable,
            s.port
        ),
    }
}

/// The database service's environment.
fn server_environment(database: Database, server: Server) -> Value {
    let password = required(server.password_variable);
    match database {
        Database::Postgres => json!({
            "POSTGRES_DB": DATABASE_NAME,
            "POSTGRES_USER": DATABASE_NAME,
            "POSTGRES_PASSWORD": password,
        }),
        Database::Mysql => json!({
            "MYSQL_DATABASE": DATABASE_NAME,
            "MYSQL_USER": DATABASE_NAME,
            "MYSQL_PASSWORD": password,
            "MYSQL_ROOT_PASSWORD": required(MYSQL_ROOT_PASSWORD),
        }),
        _ => json!({
            "MONGO_INITDB_DATABASE": DATABASE_NAME,
            "MONGO_INITDB_ROOT_USERNAME": DATABASE_NAME,
            "MONGO_INITDB_ROOT_PASSWORD": password,
        }),
    }
}

/// The variables `.env` must give, in order, with how to make a value.
type Required = Vec<(String, &'static str)>;

fn require(list: &mut Required, name: &str, hint: &'static str) {
    if !list.iter().any(|(n, _)| n == name) {
        list.push((name.to_string(), hint));
    }
}

/// Renders `compose.yaml` and `.env.example`.
pub fn render(wants: &Wants, project: &Project<'_>) -> Vec<File> {
    let mut services = Map::new();
    let mut volumes = Map::new();
    let mut needed: Required = Vec::new();
    // A database the service does not read `DATABASE_URL` for would run
    // unused: the intent's database counts when the service reads it, or
    // when there is no service and the database is all there is to run.
    let database = wants
        .database
        .filter(|_| project.dockerfile.is_none() || project.reads("DATABASE_URL"));
    let server = database.and_then(server);

    if let (Some(database), Some(server)) = (database, server) {
        require(
            &mut needed,
            server.password_variable,
            "the database user's password: openssl rand -hex 24",
        );
        if database == Database::Mysql {
            require(
                &mut needed,
                MYSQL_ROOT_PASSWORD,
                "MySQL's root password, which the service never uses: openssl rand -hex 24",
            );
        }
        services.insert(
            "db".into(),
            json!({
                "image": server.image,
                "restart": "unless-stopped",
                "environment": server_environment(database, server),
                "volumes": [format!("db-data:{}", server.data_dir)],
                "healthcheck": {
                    "test": ["CMD-SHELL", server.healthcheck],
                    "interval": "5s",
                    "timeout": "5s",
                    "retries": 20,
                    "start_period": "10s",
                },
            }),
        );
        volumes.insert("db-data".into(), json!({}));
    }
    if wants.names(&["redis"]) {
        services.insert(
            "cache".into(),
            json!({
                "image": REDIS_IMAGE,
                "restart": "unless-stopped",
                "command": ["redis-server", "--appendonly", "yes"],
                "volumes": ["cache-data:/data"],
                "healthcheck": {
                    "test": ["CMD", "redis-cli", "ping"],
                    "interval": "5s",
                    "timeout": "3s",
                    "retries": 20,
                },
            }),
        );
        volumes.insert("cache-data".into(), json!({}));
    }

    if project.dockerfile.is_some() {
        let port = project.port.or(wants.spec.port).unwrap_or(DEFAULT_PORT);
        let mut environment = Map::new();
        if project.reads("PORT") {
            environment.insert("PORT".into(), json!(port.to_string()));
        }
        if let Some(database) = database {
            environment.insert("DATABASE_URL".into(), json!(database_url(database, server)));
        }
        if wants.names(&["redis"]) {
            environment.insert("REDIS_URL".into(), json!("redis://cache:6379/0"));
        }
        for name in project
            .env
            .iter()
            .filter(|n| is_secret(n) && *n != "DATABASE_URL")
        {
            environment.insert(name.clone(), json!(required(name)));
            require(&mut needed, name, secret_hint(name));
        }
        // A login name goes with its password: required like it.
        for name in project.env.iter().filter(|n| n.ends_with("_USERNAME")) {
            let password = name.replace("_USERNAME", "_PASSWORD");
            if project.reads(&password) {
                environment.insert(name.clone(), json!(required(name)));
                require(&mut needed, name, "the login name the service accepts");
            }
        }
        let mut app = json!({
            "build": { "context": ".", "dockerfile": "Dockerfile" },
            "image": format!("{}:local", wants.spec.name),
            "restart": "unless-stopped",
            "ports": [format!("{port}:{port}")],
            "env_file": [".env"],
            "environment": environment,
            "cap_drop": ["ALL"],
            "security_opt": ["no-new-privileges:true"],
        });
        let mut depends = Map::new();
        if server.is_some() {
            depends.insert("db".into(), json!({ "condition": "service_healthy" }));
        }
        if wants.names(&["redis"]) {
            depends.insert("cache".into(), json!({ "condition": "service_healthy" }));
        }
        if !depends.is_empty() {
            app["depends_on"] = Value::Object(depends);
        }
        if database == Some(Database::Sqlite) {
            app["volumes"] = json!(["app-data:/data"]);
            volumes.insert("app-data".into(), json!({}));
        }
        services.insert("app".into(), app);
    } else if let Some(db) = services.get_mut("db") {
        // No service to build: the database is for a service run on the
        // host, so it listens on the loopback interface only.
        let port = server.map_or(0, |s| s.port);
        db["ports"] = json!([format!("127.0.0.1:{port}:{port}")]);
    }

    let mut document = json!({ "services": services });
    if !volumes.is_empty() {
        document["volumes"] = Value::Object(volumes);
    }
    let header = format!(
        "Runs {} with docker compose: `cp .env.example .env`, fill in the\n\
         values, then `docker compose up --build`.",
        if project.dockerfile.is_some() {
            format!("the {}", wants.spec.title())
        } else {
            "the database of the service".to_string()
        }
    );
    let compose = yaml::to_yaml_commented(&document, &[("services", header.as_str())]);
    vec![
        File::text("compose.yaml", compose),
        File::text(".env.example", env_example(&needed, database, server)),
    ]
}

fn secret_hint(name: &str) -> &'static str {
    if name.contains("PASSWORD") {
        "a password of your choosing"
    } else {
        "a random value of at least 32 characters: openssl rand -hex 32"
    }
}

fn env_example(needed: &Required, database: Option<Database>, server: Option<Server>) -> String {
    let mut out = String::from(
        "# Variables compose.yaml requires. Copy this file to .env (never commit\n\
         # .env) and give each a value; docker compose refuses to start without.\n",
    );
    for (name, hint) in needed {
        out.push_str(&format!("\n# {hint}\n{name}=\n"));
    }
    if let (Some(database), Some(_)) = (database, server) {
        out.push_str(&format!(
            "\n# The service reaches {} at {}, built from the password above.\n",
            database.title(),
            database_url(database, server)
        ));
    }
    out
}
