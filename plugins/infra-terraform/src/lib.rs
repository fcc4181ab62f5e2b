//! QLP agent `qlp/terraform-aws`: Terraform for AWS, written under
//! `terraform/`, for what the intent asks and what the earlier agents
//! wrote.
//!
//! [`ask`] decides whether the intent calls for this agent at all (it
//! names Terraform, infrastructure as code, AWS or an AWS service; else the
//! agent returns no files) and reads what to provision: a VPC, an ECS
//! Fargate service behind an ALB for the service a stack agent wrote (its
//! port from the Dockerfile's `EXPOSE`, its health path from its routes),
//! an RDS database for the PostgreSQL or MySQL the intent names, an S3
//! bucket; with the CIDR blocks, zone and subnet counts, region, name and
//! tags the intent gives. An intent for infrastructure alone ("Terraform
//! for an AWS VPC with three private subnets", "an S3 bucket for static
//! assets with versioning") is served without any stack agent and gets
//! exactly that. [`render`] writes the files; [`repair`] says which
//! findings of `qlp/infrastructure` a repair round answers and how.
//!
//! Errors: `EMPTY_INTENT` for a blank description, `UNSUPPORTED_CLOUD`
//! when the intent asks for infrastructure on Google Cloud or Azure,
//! `INVALID_INTENT` for CIDR blocks or counts AWS would refuse.
//!
//! Generation is deterministic: the same request gives the same bytes.

pub mod ask;
pub mod net;
pub mod render;
pub mod repair;
pub mod write;

use qlp_sdk::PluginKind;
use qlp_sdk::agent::{Agent, File, GenerationRequest, PluginError, PluginInfo};

/// The plugin's namespaced name.
pub const PLUGIN_NAME: &str = "qlp/terraform-aws";

/// The plugin's version.
pub const PLUGIN_VERSION: &str = "0.1.0";

/// The files for a request: none when the intent does not call for
/// Terraform on AWS.
pub fn generate_terraform(request: &GenerationRequest) -> Result<Vec<File>, PluginError> {
    Ok(match ask::read(request)? {
        Some(ask) => render::render(&ask),
        None => Vec::new(),
    })
}

/// The agent's entry points, a thin layer over [`generate_terraform`].
pub struct TerraformAws;

impl Agent for TerraformAws {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: PLUGIN_NAME.into(),
            version: PLUGIN_VERSION.into(),
            kind: PluginKind::Agent,
            description: "Writes Terraform for AWS under terraform/: a VPC, an ECS Fargate \
                          service behind an ALB for the project's Dockerfile, the RDS database \
                          the intent names, S3 buckets; or only the network or bucket an \
                          infrastructure intent asks for. Repair rounds answer qlp/infrastructure \
                          findings."
                .into(),
            capabilities: vec![],
        }
    }

    fn generate(request: GenerationRequest) -> Result<Vec<File>, PluginError> {
        let files = generate_terraform(&request)?;
        qlp_sdk::agent::log_generated("generated Terraform", &files, request.iteration);
        Ok(files)
    }
}

// Exported only in the component: natively the export symbols would clash
// with those of the stack agent the tests link for its files.
#[cfg(target_arch = "wasm32")]
qlp_sdk::export_agent!(TerraformAws);

#[cfg(test)]
mod tests {
    use super::*;

    qlp_agent_testkit::agent_contract_tests! {
        agent: TerraformAws,
        name: "qlp/terraform-aws",
        requirements: ["Deploy it on AWS with Terraform"],
        constraints: [("cloud", "AWS")],
        generates: "A notes API with PostgreSQL on ECS Fargate",
        repairs: ("Terraform for an AWS VPC with three private subnets", 2),
        blank: "  ",
    }
}
