//! `service.tf` and `load_balancer.tf`: the service the stack agent wrote,
//! run on ECS Fargate in the private subnets behind an internet-facing
//! Application Load Balancer in the public ones.
//!
//! The container listens on the port read by [`crate::ask`] (the
//! Dockerfile's `EXPOSE`), which the task definition, the target group and
//! the security groups all take from one local value; the target group
//! checks the health path the service's files name. Traffic flows only
//! internet → ALB (80, and 443 with a certificate) → tasks (the container
//! port) → database; tasks reach out only on 443 (image pulls, Secrets
//! Manager, CloudWatch Logs, through the NAT gateways). The execution role
//! can read the database's secret and nothing else beyond the managed ECS
//! execution policy; the task role starts empty for the service's own
//! permissions.

use qlp_intent_spec::template::render as fill;

use crate::ask::{Ask, Service};
use crate::render::Module;
use crate::write::{Output, Variable, quote};

/// CPU units of a Fargate task, as AWS accepts them.
const FARGATE_CPU: &str = "[256, 512, 1024, 2048, 4096, 8192, 16384]";

const SERVICE_TF: &str = r#"locals {
  # From {{port_source}}.
  container_port = {{port}}
  # The health route the service's files name ("/" when they name none).
  health_check_path = {{health_path}}
}

resource "aws_ecs_cluster" "this" {
  name = var.name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_cloudwatch_log_group" "service" {
  name              = "/ecs/${var.name}"
  retention_in_days = var.log_retention_days
}

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

# Used by ECS to pull the image, write logs and read the task's secrets.
resource "aws_iam_role" "execution" {
  name               = "${var.name}-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}
{{secrets_policy}}
# The service's own identity: no permission until the service needs one.
resource "aws_iam_role" "task" {
  name               = "${var.name}-task"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_ecs_task_definition" "this" {
  family                   = var.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.task_cpu
  memory                   = var.task_memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  container_definitions = jsonencode([
    {
      name      = var.name
      image     = var.container_image
      essential = true
      portMappings = [
        {
          containerPort = local.container_port
          protocol      = "tcp"
        }
      ]
      environment = [
        {
          name  = "PORT"
          value = tostring(local.container_port)
        }
      ]{{container_secrets}}
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.service.name
          awslogs-region        = var.region
          awslogs-stream-prefix = "service"
        }
      }
    }
  ])
}

resource "aws_ecs_service" "this" {
  name                              = var.name
  cluster                           = aws_ecs_cluster.this.id
  task_definition                   = aws_ecs_task_definition.this.arn
  desired_count                     = var.desired_count
  launch_type                       = "FARGATE"
  health_check_grace_period_seconds = 60

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = aws_subnet.private[*].id
    security_groups  = [aws_security_group.service.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.this.arn
    container_name   = var.name
    container_port   = local.container_port
  }

  depends_on = [aws_lb_listener.http, aws_lb_listener.https]
}

resource "aws_security_group" "service" {
  name        = "${var.name}-service"
  description = "Tasks of ${var.name}: traffic from the load balancer only"
  vpc_id      = aws_vpc.this.id
}

resource "aws_vpc_security_group_ingress_rule" "service_from_alb" {
  security_group_id            = aws_security_group.service.id
  description                  = "Container port, from the load balancer"
  referenced_security_group_id = aws_security_group.alb.id
  ip_protocol                  = "tcp"
  from_port                    = local.container_port
  to_port                      = local.container_port
}

resource "aws_vpc_security_group_egress_rule" "service_https" {
  security_group_id = aws_security_group.service.id
  description       = "HTTPS out: image pulls, Secrets Manager, CloudWatch Logs"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}
"#;

const SECRETS_POLICY: &str = r#"
data "aws_iam_policy_document" "execution_secrets" {
  statement {
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.database_url.arn]
  }{{kms_statement}}
}

resource "aws_iam_role_policy" "execution_secrets" {
  name   = "read-database-url"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution_secrets.json
}
"#;

const KMS_STATEMENT: &str = r#"

  statement {
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.this.arn]
  }"#;

const CONTAINER_SECRETS: &str = r#"
      secrets = [
        {
          name      = "DATABASE_URL"
          valueFrom = aws_secretsmanager_secret.database_url.arn
        }
      ]"#;

const LOAD_BALANCER_TF: &str = r#"resource "aws_lb" "this" {
  name                       = "${var.name}-alb"
  load_balancer_type         = "application"
  internal                   = false
  security_groups            = [aws_security_group.alb.id]
  subnets                    = aws_subnet.public[*].id
  drop_invalid_header_fields = true
  enable_deletion_protection = var.deletion_protection

  access_logs {
    bucket  = aws_s3_bucket.logs.id
    prefix  = "alb"
    enabled = true
  }

  depends_on = [aws_s3_bucket_policy.logs]
}

resource "aws_lb_target_group" "this" {
  name                 = "${var.name}-tg"
  port                 = local.container_port
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = aws_vpc.this.id
  deregistration_delay = 30

  health_check {
    path                = local.health_check_path
    matcher             = "200-399"
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }
}

# Plain HTTP to the service while no certificate is given.
resource "aws_lb_listener" "http" {
  count             = var.certificate_arn == null ? 1 : 0
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this.arn
  }
}

# With a certificate, HTTP only redirects to HTTPS.
resource "aws_lb_listener" "http_redirect" {
  count             = var.certificate_arn == null ? 0 : 1
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = "redirect"

    redirect {
      port        = "443"
      protocol    = "HTTPS"
      status_code = "HTTP_301"
    }
  }
}

resource "aws_lb_listener" "https" {
  count             = var.certificate_arn == null ? 0 : 1
  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this.arn
  }
}

resource "aws_security_group" "alb" {
  name        = "${var.name}-alb"
  description = "Load balancer of ${var.name}: HTTP and HTTPS from the allowed ranges"
  vpc_id      = aws_vpc.this.id
}

resource "aws_vpc_security_group_ingress_rule" "alb_http" {
  for_each          = toset(var.allowed_ingress_cidrs)
  security_group_id = aws_security_group.alb.id
  description       = "HTTP"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
}

resource "aws_vpc_security_group_ingress_rule" "alb_https" {
  for_each          = var.certificate_arn == null ? toset([]) : toset(var.allowed_ingress_cidrs)
  security_group_id = aws_security_group.alb.id
  description       = "HTTPS"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_egress_rule" "alb_to_service" {
  security_group_id            = aws_security_group.alb.id
  description                  = "Container port of the tasks"
  referenced_security_group_id = aws_security_group.service.id
  ip_protocol                  = "tcp"
  from_port                    = local.container_port
  to_port                      = local.container_port
}
"#;

pub fn render(ask: &Ask, service: &Service, module: &mut Module) {
    module.needs_data("partition");
    variables(service, module);

    let secrets_policy = if ask.database.is_some() {
        let kms = if ask.hardening.customer_managed_key {
            KMS_STATEMENT
        } else {
            ""
        };
        fill(SECRETS_POLICY, &[("kms_statement", kms)]).expect("complete template")
    } else {
        String::new()
    };
    let container_secrets = if ask.database.is_some() {
        CONTAINER_SECRETS
    } else {
        ""
    };
    let port = service.port.to_string();
    let health = quote(&service.health_path);
    let text = fill(
        SERVICE_TF,
        &[
            ("port_source", service.port_source),
            ("port", &port),
            ("health_path", &health),
            ("secrets_policy", &secrets_policy),
            ("container_secrets", container_secrets),
        ],
    )
    .expect("complete template");
    module.file("service.tf", text);
    module.file("load_balancer.tf", LOAD_BALANCER_TF.to_string());

    module.outputs.push(Output::new(
        "service_url",
        r#"var.certificate_arn == null ? "http://${aws_lb.this.dns_name}" : "https://${aws_lb.this.dns_name}""#,
        "URL the service answers on, through the load balancer (point a DNS name at it).",
    ));
    module.outputs.push(Output::new(
        "load_balancer_dns_name",
        "aws_lb.this.dns_name",
        "DNS name of the load balancer, for a CNAME or alias record.",
    ));
    module.outputs.push(Output::new(
        "load_balancer_zone_id",
        "aws_lb.this.zone_id",
        "Hosted zone of the load balancer, for a Route 53 alias record.",
    ));
    module.outputs.push(Output::new(
        "ecs_cluster_name",
        "aws_ecs_cluster.this.name",
        "Name of the ECS cluster.",
    ));
    module.outputs.push(Output::new(
        "ecs_service_name",
        "aws_ecs_service.this.name",
        "Name of the ECS service, for aws ecs update-service --force-new-deployment.",
    ));
    module.outputs.push(Output::new(
        "log_group_name",
        "aws_cloudwatch_log_group.service.name",
        "CloudWatch log group of the service's output.",
    ));
    module.outputs.push(Output::new(
        "task_role_arn",
        "aws_iam_role.task.arn",
        "Role the service runs as; attach the permissions it needs here.",
    ));
}

fn variables(service: &Service, module: &mut Module) {
    let image = Variable::new(
        "container_image",
        "string",
        if service.has_dockerfile {
            "Image built from the project's Dockerfile and pushed to a registry the tasks can \
             pull from (ECR), pinned by tag or digest."
        } else {
            "Image of the service, pushed to a registry the tasks can pull from (ECR), pinned by \
             tag or digest."
        },
    )
    .validation(
        "length(var.container_image) > 0 && !endswith(var.container_image, \":latest\")",
        "container_image must name an image, pinned by a tag other than latest or by digest.",
    )
    .example(quote(
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/service:1.0.0",
    ));
    module.variables.push(image);
    module.variables.push(
        Variable::new(
            "desired_count",
            "number",
            "Number of tasks kept running; two or more keep the service up while one is replaced.",
        )
        .default("2")
        .validation(
            "var.desired_count >= 1 && var.desired_count <= 100 && floor(var.desired_count) == var.desired_count",
            "desired_count must be a whole number from 1 to 100.",
        ),
    );
    module.variables.push(
        Variable::new(
            "task_cpu",
            "number",
            "CPU units of a task (1024 = one vCPU).",
        )
        .default("256")
        .validation(
            format!("contains({FARGATE_CPU}, var.task_cpu)"),
            format!("task_cpu must be one of the Fargate sizes {FARGATE_CPU}."),
        ),
    );
    module.variables.push(
        Variable::new(
            "task_memory",
            "number",
            "Memory of a task in MiB; Fargate accepts 512-2048 for 256 CPU units, 1024-4096 for \
             512, and so on.",
        )
        .default("512")
        .validation(
            "var.task_memory >= 512 && var.task_memory <= 122880",
            "task_memory must be from 512 to 122880 MiB.",
        ),
    );
    module.variables.push(
        Variable::new(
            "cpu_architecture",
            "string",
            "CPU architecture the image is built for: X86_64 or ARM64.",
        )
        .default(quote("X86_64"))
        .validation(
            r#"contains(["X86_64", "ARM64"], var.cpu_architecture)"#,
            "cpu_architecture must be X86_64 or ARM64.",
        ),
    );
    module.variables.push(
        Variable::new(
            "certificate_arn",
            "string",
            "ACM certificate for HTTPS on the load balancer; with it HTTP redirects to HTTPS, \
             without it the service is served over plain HTTP.",
        )
        .default("null")
        .validation(
            r#"var.certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:", var.certificate_arn))"#,
            "certificate_arn must be the ARN of an ACM certificate.",
        )
        .example(quote(
            "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000",
        )),
    );
    module.variables.push(
        Variable::new(
            "allowed_ingress_cidrs",
            "list(string)",
            "IPv4 ranges allowed to reach the load balancer on 80 and 443; narrow it for an \
             internal service.",
        )
        .default(r#"["0.0.0.0/0"]"#)
        .validation(
            "length(var.allowed_ingress_cidrs) > 0 && alltrue([for c in var.allowed_ingress_cidrs : can(cidrhost(c, 0))])",
            "allowed_ingress_cidrs must hold at least one IPv4 CIDR block.",
        ),
    );
}
