//! `network.tf`: the VPC, one subnet per zone of each kind asked for, an
//! internet gateway and public route table when there are public subnets,
//! NAT gateways (one shared, or one per zone) when private subnets need the
//! internet, a route table per private subnet, and the VPC's default
//! security group stripped of its rules so nothing lands in it by accident.

use crate::ask::{Ask, Network};
use crate::render::{MAX_SUBNETS, Module, min_subnets};
use crate::write::{Output, Variable, attributes, quote, string_list};

pub fn render(ask: &Ask, network: &Network, module: &mut Module) {
    let min = min_subnets(ask);
    module.needs_data("availability_zones");
    module.variables.push(
        Variable::new(
            "vpc_cidr",
            "string",
            "IPv4 CIDR block of the VPC, /16 to /24.",
        )
        .default(quote(&network.vpc_cidr.to_string()))
        .validation(
            r#"can(cidrhost(var.vpc_cidr, 0)) && can(regex("/(1[6-9]|2[0-4])$", var.vpc_cidr))"#,
            "vpc_cidr must be an IPv4 CIDR block between /16 and /24, such as 10.0.0.0/16.",
        ),
    );
    module.variables.push(
        Variable::new(
            "az_count",
            "number",
            "Number of availability zones the subnets are spread across, in the region's order.",
        )
        .default(network.az_count.to_string())
        .validation(
            format!("var.az_count >= {min} && var.az_count <= {MAX_SUBNETS} && floor(var.az_count) == var.az_count"),
            format!("az_count must be a whole number from {min} to {MAX_SUBNETS}."),
        ),
    );
    for (kind, subnets) in [("public", &network.public), ("private", &network.private)] {
        if subnets.is_empty() {
            continue;
        }
        let name = if kind == "public" {
            "public_subnet_cidrs"
        } else {
            "private_subnet_cidrs"
        };
        let blocks: Vec<String> = subnets.iter().map(ToString::to_string).collect();
        module.variables.push(
            Variable::new(
                name,
                "list(string)",
                format!(
                    "CIDR blocks of the {kind} subnets, one per availability zone in turn; each \
                     inside vpc_cidr."
                ),
            )
            .default(string_list(&blocks))
            .validation(
                format!(
                    "length(var.{name}) >= {min} && length(var.{name}) <= {MAX_SUBNETS} && \
                     alltrue([for c in var.{name} : can(cidrhost(c, 0))])"
                ),
                format!("{name} must hold {min} to {MAX_SUBNETS} IPv4 CIDR blocks."),
            ),
        );
    }
    if network.has_nat() {
        module.variables.push(
            Variable::new(
                "one_nat_gateway_per_az",
                "bool",
                "One NAT gateway per availability zone, so a zone's outage leaves the others \
                 their internet access; false shares one gateway, which costs less.",
            )
            .default(network.nat_per_az.to_string()),
        );
    }

    let mut text = String::from(
        "locals {\n  azs = slice(data.aws_availability_zones.available.names, 0, var.az_count)\n",
    );
    if network.has_nat() {
        text.push_str(
            "  nat_gateway_count = var.one_nat_gateway_per_az ? min(length(var.public_subnet_cidrs), var.az_count) : 1\n",
        );
    }
    text.push_str("}\n\n");
    text.push_str(
        "resource \"aws_vpc\" \"this\" {\n  cidr_block           = var.vpc_cidr\n  enable_dns_support   = true\n  enable_dns_hostnames = true\n\n  tags = {\n    Name = var.name\n  }\n}\n\n\
         # No rule at all: resources must name their own security groups.\n\
         resource \"aws_default_security_group\" \"default\" {\n  vpc_id = aws_vpc.this.id\n}\n",
    );
    if !network.public.is_empty() {
        text.push_str(&subnets("public", true));
        text.push_str(
            "\nresource \"aws_internet_gateway\" \"this\" {\n  vpc_id = aws_vpc.this.id\n\n  tags = {\n    Name = var.name\n  }\n}\n\n\
             resource \"aws_route_table\" \"public\" {\n  vpc_id = aws_vpc.this.id\n\n  tags = {\n    Name = \"${var.name}-public\"\n  }\n}\n\n\
             resource \"aws_route\" \"public_internet\" {\n  route_table_id         = aws_route_table.public.id\n  destination_cidr_block = \"0.0.0.0/0\"\n  gateway_id             = aws_internet_gateway.this.id\n}\n\n\
             resource \"aws_route_table_association\" \"public\" {\n  count          = length(aws_subnet.public)\n  subnet_id      = aws_subnet.public[count.index].id\n  route_table_id = aws_route_table.public.id\n}\n",
        );
    }
    if network.has_nat() {
        text.push_str(
            "\nresource \"aws_eip\" \"nat\" {\n  count  = local.nat_gateway_count\n  domain = \"vpc\"\n\n  tags = {\n    Name = \"${var.name}-nat-${count.index}\"\n  }\n\n  depends_on = [aws_internet_gateway.this]\n}\n\n\
             resource \"aws_nat_gateway\" \"this\" {\n  count         = local.nat_gateway_count\n  allocation_id = aws_eip.nat[count.index].id\n  subnet_id     = aws_subnet.public[count.index].id\n\n  tags = {\n    Name = \"${var.name}-nat-${count.index}\"\n  }\n\n  depends_on = [aws_internet_gateway.this]\n}\n",
        );
    }
    if !network.private.is_empty() {
        text.push_str(&subnets("private", false));
        text.push_str(
            "\nresource \"aws_route_table\" \"private\" {\n  count  = length(aws_subnet.private)\n  vpc_id = aws_vpc.this.id\n\n  tags = {\n    Name = \"${var.name}-private-${count.index}\"\n  }\n}\n",
        );
        if network.has_nat() {
            text.push_str(
                "\nresource \"aws_route\" \"private_nat\" {\n  count                  = length(aws_route_table.private)\n  route_table_id         = aws_route_table.private[count.index].id\n  destination_cidr_block = \"0.0.0.0/0\"\n  nat_gateway_id         = aws_nat_gateway.this[count.index % local.nat_gateway_count].id\n}\n",
            );
        }
        text.push_str(
            "\nresource \"aws_route_table_association\" \"private\" {\n  count          = length(aws_subnet.private)\n  subnet_id      = aws_subnet.private[count.index].id\n  route_table_id = aws_route_table.private[count.index].id\n}\n",
        );
    }
    module.file("network.tf", text);

    module
        .outputs
        .push(Output::new("vpc_id", "aws_vpc.this.id", "ID of the VPC."));
    module.outputs.push(Output::new(
        "vpc_cidr_block",
        "aws_vpc.this.cidr_block",
        "IPv4 CIDR block of the VPC.",
    ));
    if !network.public.is_empty() {
        module.outputs.push(Output::new(
            "public_subnet_ids",
            "aws_subnet.public[*].id",
            "IDs of the public subnets, in availability zone order.",
        ));
    }
    if !network.private.is_empty() {
        module.outputs.push(Output::new(
            "private_subnet_ids",
            "aws_subnet.private[*].id",
            "IDs of the private subnets, in availability zone order.",
        ));
        module.outputs.push(Output::new(
            "private_route_table_ids",
            "aws_route_table.private[*].id",
            "IDs of the private subnets' route tables, for VPC endpoints and peering routes.",
        ));
    }
    if network.has_nat() {
        module.outputs.push(Output::new(
            "nat_gateway_public_ips",
            "aws_eip.nat[*].public_ip",
            "Public addresses the private subnets reach the internet from, for allow-lists.",
        ));
    }
}

/// The `aws_subnet` resource of a kind. Public subnets give no public
/// address by default: only the load balancer and NAT gateways, which get
/// theirs explicitly, live there.
fn subnets(kind: &str, public: bool) -> String {
    let mut pairs = vec![
        ("count", format!("length(var.{kind}_subnet_cidrs)")),
        ("vpc_id", "aws_vpc.this.id".to_string()),
        (
            "cidr_block",
            format!("var.{kind}_subnet_cidrs[count.index]"),
        ),
        (
            "availability_zone",
            "local.azs[count.index % length(local.azs)]".to_string(),
        ),
    ];
    if public {
        pairs.push(("map_public_ip_on_launch", "false".to_string()));
    }
    format!(
        "\nresource \"aws_subnet\" \"{kind}\" {{\n{}\n  tags = {{\n    Name = \"${{var.name}}-{kind}-${{local.azs[count.index % length(local.azs)]}}\"\n    Tier = \"{kind}\"\n  }}\n}}\n",
        attributes(2, &pairs)
    )
}
