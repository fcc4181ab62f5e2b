//! Rendering an [`Ask`] into the files of one Terraform root module under
//! `terraform/`.
//!
//! | file | holds | when |
//! |---|---|---|
//! | `versions.tf` | `required_version >= 1.5`, `hashicorp/aws ~> 5.0` (and `hashicorp/random ~> 3.6` for the database password) | always |
//! | `main.tf` | the AWS provider with default tags, shared data sources | always |
//! | `variables.tf` | every input, each with a description, a type and validations where a wrong value would only fail at apply time | always |
//! | `network.tf` | VPC, subnets, internet and NAT gateways, route tables ([`network`]) | a network |
//! | `service.tf` | ECS Fargate cluster, task definition, service, IAM roles, log group, security groups ([`service`]) | a service |
//! | `load_balancer.tf` | ALB, target group, listeners | a service |
//! | `logs.tf` | the log bucket of ALB and S3 access logs ([`storage`]) | a service, or access logging |
//! | `database.tf` | RDS instance, subnet group, security group, generated password kept in Secrets Manager ([`database`]) | a database |
//! | `storage.tf` | the S3 bucket: private, encrypted, versioned when asked ([`storage`]) | a bucket |
//! | `kms.tf` | a customer-managed key with rotation | a KMS key is asked for |
//! | `outputs.tf` | what callers and operators need: ids, endpoints, URLs | always |
//! | `terraform.tfvars.example` | every input with its default or an example ([`docs`]) | always |
//! | `README.md` | what was generated and why, inputs, outputs, usage ([`docs`]) | always |
//!
//! Every part adds its variables, outputs and resources to one [`Module`]
//! in a fixed order, so the same ask always gives the same bytes.

pub mod database;
pub mod docs;
pub mod network;
pub mod service;
pub mod storage;

use qlp_sdk::File;

use crate::ask::{self, Ask, MAX_NAME_CHARS};
use crate::write::{Output, Variable, quote, string_map};

/// Terraform versions accepted: 1.5 brought `check` blocks and the
/// validation functions the variables use.
pub const REQUIRED_VERSION: &str = ">= 1.5";

/// The AWS provider: major version 5, whose resource shapes (split S3
/// bucket resources, `aws_vpc_security_group_*_rule`) the files use.
pub const AWS_PROVIDER_VERSION: &str = "~> 5.0";

/// The random provider, for the database password.
pub const RANDOM_PROVIDER_VERSION: &str = "~> 3.6";

/// A Terraform root module being written.
#[derive(Default)]
pub struct Module {
    pub variables: Vec<Variable>,
    pub outputs: Vec<Output>,
    /// (file name under `terraform/`, HCL text), in order.
    pub files: Vec<(&'static str, String)>,
    /// Whether the random provider is needed.
    pub random: bool,
    /// Shared data sources `main.tf` declares, by name (`caller_identity`).
    pub data: Vec<&'static str>,
}

impl Module {
    fn file(&mut self, name: &'static str, text: String) {
        self.files.push((name, text));
    }

    fn needs_data(&mut self, name: &'static str) {
        if !self.data.contains(&name) {
            self.data.push(name);
        }
    }
}

/// Every file of the configuration, paths under `terraform/`.
pub fn render(ask: &Ask) -> Vec<File> {
    let mut module = Module::default();
    common_variables(ask, &mut module);
    if let Some(network) = &ask.network {
        network::render(ask, network, &mut module);
    }
    if ask.hardening.customer_managed_key {
        storage::kms(&mut module);
    }
    if ask.service.is_some() || ask.database.is_some() {
        module.variables.push(
            Variable::new(
                "deletion_protection",
                "bool",
                "Whether the load balancer and the database refuse to be deleted; set to false \
                 before a deliberate terraform destroy.",
            )
            .default("true"),
        );
    }
    if ask.service.is_some() || (ask.hardening.access_logs && ask.bucket.is_some()) {
        storage::logs(ask, &mut module);
    }
    if let Some(service) = &ask.service {
        service::render(ask, service, &mut module);
    }
    if let Some(database) = ask.database {
        database::render(ask, database, &mut module);
    }
    if let Some(bucket) = &ask.bucket {
        storage::bucket(ask, bucket, &mut module);
    }

    let mut files = vec![
        File::text("terraform/versions.tf", versions(&module)),
        File::text("terraform/main.tf", main_tf(&module)),
        File::text(
            "terraform/variables.tf",
            join_blocks(module.variables.iter().map(Variable::block)),
        ),
    ];
    for (name, text) in &module.files {
        files.push(File::text(format!("terraform/{name}"), text.clone()));
    }
    files.push(File::text(
        "terraform/outputs.tf",
        join_blocks(module.outputs.iter().map(Output::block)),
    ));
    files.push(File::text(
        "terraform/terraform.tfvars.example",
        docs::tfvars(&module),
    ));
    files.push(File::text(
        "terraform/README.md",
        docs::readme(ask, &module),
    ));
    files
}

/// Blocks separated by one blank line.
pub fn join_blocks(blocks: impl Iterator<Item = String>) -> String {
    blocks.collect::<Vec<_>>().join("\n")
}

fn common_variables(ask: &Ask, module: &mut Module) {
    module.variables.push(
        Variable::new(
            "region",
            "string",
            "AWS region every resource is created in.",
        )
        .default(quote(&ask.region))
        .validation(
            r#"can(regex("^[a-z]{2}(-gov|-iso)?-[a-z]+-[0-9]$", var.region))"#,
            "region must be an AWS region name such as us-east-1.",
        ),
    );
    let name_pattern = format!("^[a-z]([a-z0-9-]{{0,{}}}[a-z0-9])?$", MAX_NAME_CHARS - 2);
    module.variables.push(
        Variable::new(
            "name",
            "string",
            format!(
                "Prefix of every resource name: lower-case letters, digits and hyphens, at most \
                 {MAX_NAME_CHARS} characters (load balancer names are capped at 32)."
            ),
        )
        .default(quote(&ask.name))
        .validation(
            format!("can(regex({}, var.name))", quote(&name_pattern)),
            format!(
                "name must start with a letter, use only a-z, 0-9 and -, not end with -, and \
                 have at most {MAX_NAME_CHARS} characters."
            ),
        ),
    );
    module.variables.push(
        Variable::new(
            "tags",
            "map(string)",
            "Tags added to every resource besides Project and ManagedBy.",
        )
        .default(string_map(&ask.tags, 2)),
    );
}

fn versions(module: &Module) -> String {
    let mut providers = format!(
        "    aws = {{\n      source  = \"hashicorp/aws\"\n      version = {}\n    }}\n",
        quote(AWS_PROVIDER_VERSION)
    );
    if module.random {
        providers.push_str(&format!(
            "    random = {{\n      source  = \"hashicorp/random\"\n      version = {}\n    }}\n",
            quote(RANDOM_PROVIDER_VERSION)
        ));
    }
    format!(
        "terraform {{\n  required_version = {}\n\n  required_providers {{\n{providers}  }}\n}}\n",
        quote(REQUIRED_VERSION)
    )
}

fn main_tf(module: &Module) -> String {
    let mut out = String::from(
        "provider \"aws\" {\n  region = var.region\n\n  default_tags {\n    tags = merge(\n      {\n        Project   = var.name\n        ManagedBy = \"terraform\"\n      },\n      var.tags,\n    )\n  }\n}\n",
    );
    for data in &module.data {
        let body = match *data {
            "availability_zones" => {
                "data \"aws_availability_zones\" \"available\" {\n  state = \"available\"\n\n  filter {\n    name   = \"opt-in-status\"\n    values = [\"opt-in-not-required\"]\n  }\n}\n"
            }
            "caller_identity" => "data \"aws_caller_identity\" \"current\" {}\n",
            "partition" => "data \"aws_partition\" \"current\" {}\n",
            "elb_service_account" => "data \"aws_elb_service_account\" \"main\" {}\n",
            other => unreachable!("unknown data source {other}"),
        };
        out.push('\n');
        out.push_str(body);
    }
    out
}

/// The name of the configuration's subject, for prose.
pub fn subject(ask: &Ask) -> String {
    let mut parts: Vec<String> = Vec::new();
    if ask.network.is_some() {
        parts.push("a VPC network".into());
    }
    if ask.service.is_some() {
        parts.push("an ECS Fargate service behind an Application Load Balancer".into());
    }
    if let Some(db) = ask.database {
        parts.push(format!("an RDS {} database", db.title()));
    }
    if let Some(bucket) = &ask.bucket {
        parts.push(format!("an S3 bucket for {}", bucket.purpose));
    }
    qlp_intent_spec::spec::english_list(&parts)
}

/// The smallest number of subnets per kind a part needs.
pub fn min_subnets(ask: &Ask) -> u8 {
    if ask.service.is_some() || ask.database.is_some() {
        2
    } else {
        1
    }
}

/// The upper bound of subnets per kind, for validations.
pub const MAX_SUBNETS: u8 = ask::MAX_SUBNETS_PER_TIER;
