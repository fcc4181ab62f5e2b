//! `database.tf`: the database the intent names, on RDS in the private
//! subnets. Its storage is encrypted, it has no public address, deletion
//! protection and a final snapshot guard it, and only the service's
//! security group may reach its port. The master password is made by
//! `random_password` (never written in a file), and the whole
//! `DATABASE_URL` the stack agents' services read is kept in Secrets
//! Manager, from where ECS hands it to the tasks.

use qlp_intent_spec::Database;
use qlp_intent_spec::template::render as fill;

use crate::ask::Ask;
use crate::render::Module;
use crate::write::{Output, Variable, quote};

/// Storage of a new database in GiB: the least gp3 accepts.
const ALLOCATED_STORAGE_GIB: u32 = 20;

/// Ceiling of storage autoscaling in GiB.
const MAX_ALLOCATED_STORAGE_GIB: u32 = 100;

/// Instance class by default: the smallest Graviton class both engines run
/// on; raise it for production load.
const INSTANCE_CLASS: &str = "db.t4g.micro";

/// Days of automated backups by default.
const BACKUP_RETENTION_DAYS: u32 = 7;

/// Master user names the engines or RDS reserve.
const RESERVED_USERS: &str = r#"["admin", "postgres", "rdsadmin", "root", "mysql"]"#;

struct Engine {
    engine: &'static str,
    version: &'static str,
    port: u16,
    logs: &'static str,
    /// How `DATABASE_URL` is written, with `{{…}}` for the parts.
    url: &'static str,
}

fn engine(database: Database) -> Engine {
    match database {
        Database::Mysql => Engine {
            engine: "mysql",
            version: "8.0",
            port: 3306,
            logs: r#"["error", "slowquery"]"#,
            url: "mysql://${var.db_username}:${random_password.database.result}@${aws_db_instance.this.endpoint}/${var.db_name}?tls=true",
        },
        _ => Engine {
            engine: "postgres",
            version: "16",
            port: 5432,
            logs: r#"["postgresql", "upgrade"]"#,
            url: "postgres://${var.db_username}:${random_password.database.result}@${aws_db_instance.this.endpoint}/${var.db_name}?sslmode=require",
        },
    }
}

const DATABASE_TF: &str = r#"resource "aws_db_subnet_group" "this" {
  name       = "${var.name}-db"
  subnet_ids = aws_subnet.private[*].id
}

resource "aws_security_group" "database" {
  name        = "${var.name}-db"
  description = "{{title}} of ${var.name}: reachable from the service only"
  vpc_id      = aws_vpc.this.id
}
{{service_rules}}
# Letters, digits and URL-safe marks only, so the password needs no escaping
# inside DATABASE_URL.
resource "random_password" "database" {
  length           = 32
  special          = true
  override_special = "-_.~"
}

resource "aws_db_instance" "this" {
  identifier                      = "${var.name}-db"
  engine                          = "{{engine}}"
  engine_version                  = var.db_engine_version
  instance_class                  = var.db_instance_class
  allocated_storage               = var.db_allocated_storage
  max_allocated_storage           = var.db_max_allocated_storage
  storage_type                    = "gp3"
  storage_encrypted               = true{{kms_key}}
  db_name                         = var.db_name
  username                        = var.db_username
  password                        = random_password.database.result
  port                            = {{port}}
  db_subnet_group_name            = aws_db_subnet_group.this.name
  vpc_security_group_ids          = [aws_security_group.database.id]
  publicly_accessible             = false
  multi_az                        = var.db_multi_az
  backup_retention_period         = var.db_backup_retention_days
  copy_tags_to_snapshot           = true
  deletion_protection             = var.deletion_protection
  skip_final_snapshot             = false
  final_snapshot_identifier       = "${var.name}-db-final"
  auto_minor_version_upgrade      = true
  enabled_cloudwatch_logs_exports = {{logs}}
}

# The connection string the service reads as DATABASE_URL.
resource "aws_secretsmanager_secret" "database_url" {
  name_prefix             = "${var.name}/database-url-"
  description             = "DATABASE_URL of ${var.name}"
  recovery_window_in_days = 7{{secret_kms}}
}

resource "aws_secretsmanager_secret_version" "database_url" {
  secret_id     = aws_secretsmanager_secret.database_url.id
  secret_string = "{{url}}"
}
"#;

const SERVICE_RULES: &str = r#"
resource "aws_vpc_security_group_ingress_rule" "database_from_service" {
  security_group_id            = aws_security_group.database.id
  description                  = "{{title}}, from the service"
  referenced_security_group_id = aws_security_group.service.id
  ip_protocol                  = "tcp"
  from_port                    = {{port}}
  to_port                      = {{port}}
}

resource "aws_vpc_security_group_egress_rule" "service_to_database" {
  security_group_id            = aws_security_group.service.id
  description                  = "{{title}}"
  referenced_security_group_id = aws_security_group.database.id
  ip_protocol                  = "tcp"
  from_port                    = {{port}}
  to_port                      = {{port}}
}
"#;

pub fn render(ask: &Ask, database: Database, module: &mut Module) {
    let e = engine(database);
    module.random = true;
    variables(ask, database, &e, module);
    let port = e.port.to_string();
    let title = database.title();
    let service_rules = if ask.service.is_some() {
        fill(SERVICE_RULES, &[("title", title), ("port", &port)]).expect("complete template")
    } else {
        String::new()
    };
    let cmk = ask.hardening.customer_managed_key;
    let text = fill(
        DATABASE_TF,
        &[
            ("title", title),
            ("service_rules", &service_rules),
            ("engine", e.engine),
            (
                "kms_key",
                if cmk {
                    "\n  kms_key_id                      = aws_kms_key.this.arn"
                } else {
                    ""
                },
            ),
            ("port", &port),
            ("logs", e.logs),
            (
                "secret_kms",
                if cmk {
                    "\n  kms_key_id              = aws_kms_key.this.arn"
                } else {
                    ""
                },
            ),
            ("url", e.url),
        ],
    )
    .expect("complete template");
    module.file("database.tf", text);

    module.outputs.push(Output::new(
        "db_address",
        "aws_db_instance.this.address",
        format!("Host name of the {title} database, reachable inside the VPC only."),
    ));
    module.outputs.push(Output::new(
        "db_port",
        "aws_db_instance.this.port",
        format!("Port of the {title} database."),
    ));
    module.outputs.push(Output::new(
        "database_url_secret_arn",
        "aws_secretsmanager_secret.database_url.arn",
        "Secrets Manager secret holding DATABASE_URL (the password is in it, not in any output).",
    ));
    module.outputs.push(Output::new(
        "db_security_group_id",
        "aws_security_group.database.id",
        "Security group of the database, for granting another client access.",
    ));
}

/// `inventories-service` → `inventories_service`: a database name both
/// engines accept.
fn db_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if !out.starts_with(|c: char| c.is_ascii_alphabetic()) {
        out.insert_str(0, "app_");
    }
    out.truncate(63);
    out
}

fn variables(ask: &Ask, database: Database, e: &Engine, module: &mut Module) {
    let title = database.title();
    module.variables.push(
        Variable::new(
            "db_engine_version",
            "string",
            format!("{title} engine version; a major version lets RDS pick its newest minor one."),
        )
        .default(quote(e.version)),
    );
    module.variables.push(
        Variable::new(
            "db_instance_class",
            "string",
            "RDS instance class of the database.",
        )
        .default(quote(INSTANCE_CLASS))
        .validation(
            r#"can(regex("^db\\.[a-z0-9]+\\.[a-z0-9]+$", var.db_instance_class))"#,
            "db_instance_class must be an RDS instance class such as db.t4g.micro.",
        ),
    );
    module.variables.push(
        Variable::new(
            "db_allocated_storage",
            "number",
            "Storage of the database in GiB at creation.",
        )
        .default(ALLOCATED_STORAGE_GIB.to_string())
        .validation(
            "var.db_allocated_storage >= 20 && var.db_allocated_storage <= 65536",
            "db_allocated_storage must be from 20 to 65536 GiB.",
        ),
    );
    module.variables.push(
        Variable::new(
            "db_max_allocated_storage",
            "number",
            "Ceiling in GiB up to which RDS grows the storage by itself.",
        )
        .default(MAX_ALLOCATED_STORAGE_GIB.to_string())
        .validation(
            "var.db_max_allocated_storage >= 20 && var.db_max_allocated_storage <= 65536",
            "db_max_allocated_storage must be from 20 to 65536 GiB.",
        ),
    );
    module.variables.push(
        Variable::new(
            "db_name",
            "string",
            "Name of the database created in the instance.",
        )
        .default(quote(&db_name(&ask.name)))
        .validation(
            r#"can(regex("^[A-Za-z][A-Za-z0-9_]{0,62}$", var.db_name))"#,
            "db_name must start with a letter and hold only letters, digits and underscores (at most 63).",
        ),
    );
    module.variables.push(
        Variable::new(
            "db_username",
            "string",
            "Master user of the database; its password is generated and kept in Secrets Manager.",
        )
        .default(quote("app"))
        .validation(
            format!(
                r#"can(regex("^[a-z][a-z0-9_]{{0,15}}$", var.db_username)) && !contains({RESERVED_USERS}, var.db_username)"#
            ),
            "db_username must be 1-16 lower-case letters, digits or underscores, start with a letter, and not be a reserved name.",
        ),
    );
    module.variables.push(
        Variable::new(
            "db_multi_az",
            "bool",
            "A standby in a second availability zone that RDS fails over to.",
        )
        .default(ask.high_availability.to_string()),
    );
    module.variables.push(
        Variable::new(
            "db_backup_retention_days",
            "number",
            "Days automated backups are kept (point-in-time recovery within them).",
        )
        .default(BACKUP_RETENTION_DAYS.to_string())
        .validation(
            "var.db_backup_retention_days >= 1 && var.db_backup_retention_days <= 35",
            "db_backup_retention_days must be from 1 to 35.",
        ),
    );
}
