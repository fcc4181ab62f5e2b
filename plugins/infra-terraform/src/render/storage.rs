//! S3 and KMS: `storage.tf` (the bucket the intent asks for), `logs.tf`
//! (where the load balancer and S3 write their access logs) and `kms.tf`
//! (the customer-managed key, when one is asked for).
//!
//! Every bucket is private (all four public access switches on, object
//! ACLs disabled), encrypted, and refuses requests that are not over TLS.
//! The asked-for bucket is encrypted with SSE-S3, or with the
//! customer-managed key when there is one; the log bucket always uses
//! SSE-S3, the only encryption ALB access logs accept.

use qlp_intent_spec::template::render as fill;

use crate::ask::{Ask, Bucket, is_bucket_name};
use crate::render::Module;
use crate::write::{Output, Variable, quote};

/// Days log objects (and the service's log group) are kept by default.
const LOG_RETENTION_DAYS: u32 = 90;

/// Days an overwritten or deleted version is kept by default.
const NONCURRENT_VERSION_DAYS: u32 = 90;

/// Retention periods CloudWatch Logs accepts.
const LOG_GROUP_RETENTIONS: &str = "[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]";

/// The parts every bucket has, for the resource `{{id}}`.
const PRIVATE_BUCKET: &str = r#"resource "aws_s3_bucket_ownership_controls" "{{id}}" {
  bucket = aws_s3_bucket.{{id}}.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "{{id}}" {
  bucket                  = aws_s3_bucket.{{id}}.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "{{id}}" {
  bucket = aws_s3_bucket.{{id}}.id

  rule {
    apply_server_side_encryption_by_default {
{{encryption}}    }{{bucket_key}}
  }
}
"#;

const DENY_INSECURE: &str = r#"  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.{{id}}.arn, "${aws_s3_bucket.{{id}}.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
"#;

fn private_bucket(id: &str, kms: bool) -> String {
    let (encryption, bucket_key) = if kms {
        (
            "      sse_algorithm     = \"aws:kms\"\n      kms_master_key_id = aws_kms_key.this.arn\n",
            "\n    bucket_key_enabled = true",
        )
    } else {
        ("      sse_algorithm = \"AES256\"\n", "")
    };
    fill(
        PRIVATE_BUCKET,
        &[
            ("id", id),
            ("encryption", encryption),
            ("bucket_key", bucket_key),
        ],
    )
    .expect("complete template")
}

fn deny_insecure(id: &str) -> String {
    fill(DENY_INSECURE, &[("id", id)]).expect("complete template")
}

/// `logs.tf`: the log bucket, with the grants of whoever writes to it.
pub fn logs(ask: &Ask, module: &mut Module) {
    module.needs_data("caller_identity");
    module.variables.push(
        Variable::new(
            "log_retention_days",
            "number",
            "Days access logs and the service's logs are kept.",
        )
        .default(LOG_RETENTION_DAYS.to_string())
        .validation(
            format!("contains({LOG_GROUP_RETENTIONS}, var.log_retention_days)"),
            "log_retention_days must be a retention CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ...).",
        ),
    );
    let mut text = String::from(
        "# Access logs of the load balancer and the buckets; never logs its own access.\n\
         resource \"aws_s3_bucket\" \"logs\" {\n  bucket_prefix = \"${var.name}-logs-\"\n}\n\n",
    );
    text.push_str(&private_bucket("logs", false));
    text.push_str(
        "\nresource \"aws_s3_bucket_lifecycle_configuration\" \"logs\" {\n  bucket = aws_s3_bucket.logs.id\n\n  rule {\n    id     = \"expire-logs\"\n    status = \"Enabled\"\n\n    filter {}\n\n    expiration {\n      days = var.log_retention_days\n    }\n  }\n}\n",
    );
    text.push_str("\ndata \"aws_iam_policy_document\" \"logs\" {\n");
    text.push_str(&deny_insecure("logs"));
    if ask.service.is_some() {
        module.needs_data("elb_service_account");
        text.push_str(
            r#"
  # Regions opened before August 2022 deliver as the regional ELB account,
  # newer ones as the log delivery service.
  statement {
    sid       = "LoadBalancerAccessLogs"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.logs.arn}/alb/AWSLogs/${data.aws_caller_identity.current.account_id}/*"]

    principals {
      type        = "AWS"
      identifiers = [data.aws_elb_service_account.main.arn]
    }
  }

  statement {
    sid       = "LoadBalancerLogDelivery"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.logs.arn}/alb/AWSLogs/${data.aws_caller_identity.current.account_id}/*"]

    principals {
      type        = "Service"
      identifiers = ["logdelivery.elasticloadbalancing.amazonaws.com"]
    }
  }
"#,
        );
    }
    if ask.hardening.access_logs && ask.bucket.is_some() {
        text.push_str(
            r#"
  statement {
    sid       = "S3ServerAccessLogs"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.logs.arn}/s3-access/*"]

    principals {
      type        = "Service"
      identifiers = ["logging.s3.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
"#,
        );
    }
    text.push_str(
        "}\n\nresource \"aws_s3_bucket_policy\" \"logs\" {\n  bucket = aws_s3_bucket.logs.id\n  policy = data.aws_iam_policy_document.logs.json\n\n  depends_on = [aws_s3_bucket_public_access_block.logs]\n}\n",
    );
    module.file("logs.tf", text);
    module.outputs.push(Output::new(
        "log_bucket_name",
        "aws_s3_bucket.logs.id",
        "Bucket the access logs are written to.",
    ));
}

/// `storage.tf`: the bucket the intent asks for.
pub fn bucket(ask: &Ask, bucket: &Bucket, module: &mut Module) {
    let cmk = ask.hardening.customer_managed_key;
    let mut name = Variable::new(
        "bucket_name",
        "string",
        "Globally unique name of the bucket; null lets AWS pick one starting with the name \
         prefix.",
    )
    .validation(
        r#"var.bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))"#,
        "bucket_name must be 3-63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit.",
    );
    name = match bucket.name.as_deref().filter(|n| is_bucket_name(n)) {
        Some(given) => name.default(quote(given)),
        None => name
            .default("null")
            .example(quote(&format!("{}-{}", ask.name, "123456789012"))),
    };
    module.variables.push(name);
    module.variables.push(
        Variable::new(
            "versioning_enabled",
            "bool",
            "Keep every version of every object, so an overwrite or delete can be undone.",
        )
        .default(bucket.versioning.to_string()),
    );
    module.variables.push(
        Variable::new(
            "noncurrent_version_retention_days",
            "number",
            "Days an overwritten or deleted version is kept before it expires (with versioning).",
        )
        .default(NONCURRENT_VERSION_DAYS.to_string())
        .validation(
            "var.noncurrent_version_retention_days >= 1 && floor(var.noncurrent_version_retention_days) == var.noncurrent_version_retention_days",
            "noncurrent_version_retention_days must be a whole number of days, 1 or more.",
        ),
    );

    let mut text = format!(
        "# {}.\nresource \"aws_s3_bucket\" \"this\" {{\n  bucket        = var.bucket_name\n  bucket_prefix = var.bucket_name == null ? \"${{var.name}}-\" : null\n}}\n\n",
        capitalized(&bucket.purpose)
    );
    text.push_str(&private_bucket("this", cmk));
    text.push_str(
        r#"
# Suspended rather than disabled when off: a bucket that once kept
# versions can only suspend versioning.
resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id

  versioning_configuration {
    status = var.versioning_enabled ? "Enabled" : "Suspended"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    id     = "tidy"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_retention_days
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

data "aws_iam_policy_document" "this" {
"#,
    );
    text.push_str(&deny_insecure("this"));
    text.push_str(
        "}\n\nresource \"aws_s3_bucket_policy\" \"this\" {\n  bucket = aws_s3_bucket.this.id\n  policy = data.aws_iam_policy_document.this.json\n\n  depends_on = [aws_s3_bucket_public_access_block.this]\n}\n",
    );
    if ask.hardening.access_logs {
        text.push_str(
            "\nresource \"aws_s3_bucket_logging\" \"this\" {\n  bucket        = aws_s3_bucket.this.id\n  target_bucket = aws_s3_bucket.logs.id\n  target_prefix = \"s3-access/${var.name}/\"\n\n  depends_on = [aws_s3_bucket_policy.logs]\n}\n",
        );
    }
    module.file("storage.tf", text);
    module.outputs.push(Output::new(
        "bucket_name",
        "aws_s3_bucket.this.id",
        "Name of the bucket.",
    ));
    module.outputs.push(Output::new(
        "bucket_arn",
        "aws_s3_bucket.this.arn",
        "ARN of the bucket, for IAM policies.",
    ));
    module.outputs.push(Output::new(
        "bucket_regional_domain_name",
        "aws_s3_bucket.this.bucket_regional_domain_name",
        "Regional domain name of the bucket, for a CloudFront origin.",
    ));
}

/// `kms.tf`: one customer-managed key with yearly rotation.
pub fn kms(module: &mut Module) {
    module.file(
        "kms.tf",
        "# Encrypts the buckets, the database and its secret; rotated every year.\n\
         resource \"aws_kms_key\" \"this\" {\n  description             = \"Data of ${var.name}\"\n  enable_key_rotation     = true\n  deletion_window_in_days = 30\n}\n\n\
         resource \"aws_kms_alias\" \"this\" {\n  name          = \"alias/${var.name}\"\n  target_key_id = aws_kms_key.this.key_id\n}\n"
            .to_string(),
    );
    module.outputs.push(Output::new(
        "kms_key_arn",
        "aws_kms_key.this.arn",
        "ARN of the customer-managed key.",
    ));
}

fn capitalized(text: &str) -> String {
    qlp_intent_spec::words::capitalize(text)
}
