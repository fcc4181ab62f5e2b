//! Tests of the HCL reader: structure, values and lines, raw text of what
//! it does not evaluate, comments inside expressions, heredocs, the
//! blocks a module's documentation reads (`variable` with type
//! expressions and `validation`, `output`, `terraform` with
//! `required_providers`), rendering values back as HCL, and hostile input.

use super::*;

#[test]
fn the_hcl_reader_keeps_structure_values_and_lines() {
    let body = parse(
        "# comment\nresource \"aws_s3_bucket\" \"b\" { # trailing\n  bucket = \"a\\\"b\" // c\n  count  = 2\n  on     = true\n  tags = {\n    Name = \"x\", \"Team\" : \"y\"\n  }\n  list = [1, \"two\",\n    var.three]\n  /* block\n     comment */\n  expr = a.b == \"c\" ? 1 : 2\n  tpl  = \"${var.x}-y\"\n  esc  = \"$${literal}\"\n  doc  = <<-EOT\n    line ${1}\n  EOT\n  plain = <<EOT\nno interpolation\nEOT\n  nested \"label\" {\n    deep { x = null }\n  }\n}\nterraform {}\n",
    );
    assert_eq!(body.blocks.len(), 2);
    let r = &body.blocks[0];
    assert_eq!(
        (r.kind.as_str(), r.labels.clone(), r.line),
        (
            "resource",
            vec!["aws_s3_bucket".to_string(), "b".to_string()],
            2
        )
    );
    let b = &r.body;
    assert_eq!(b.get("bucket"), Some(&Value::Str("a\"b".into())));
    assert_eq!(b.attr("bucket").map(|a| a.line), Some(3));
    assert_eq!(b.get("count").and_then(Value::as_u32), Some(2));
    assert_eq!(b.get("on").and_then(Value::as_bool), Some(true));
    let tags = b.get("tags").unwrap();
    assert_eq!(tags.key("Team").and_then(Value::as_str), Some("y"));
    assert_eq!(
        tags,
        &Value::Object(vec![
            ("Name".into(), Value::Str("x".into()), 7),
            ("Team".into(), Value::Str("y".into()), 7)
        ])
    );
    assert_eq!(
        b.get("list"),
        Some(&Value::List(vec![
            (Value::Number("1".into()), 9),
            (Value::Str("two".into()), 9),
            (Value::Expr("var.three".into()), 10)
        ]))
    );
    assert_eq!(
        b.get("expr"),
        Some(&Value::Expr("a.b == \"c\" ? 1 : 2".into()))
    );
    assert_eq!(b.attr("expr").map(|a| a.line), Some(13));
    assert_eq!(b.get("tpl"), Some(&Value::Template("${var.x}-y".into())));
    assert_eq!(b.get("esc"), Some(&Value::Str("${literal}".into())));
    assert_eq!(b.get("doc"), Some(&Value::Template("line ${1}".into())));
    assert_eq!(b.get("plain"), Some(&Value::Str("no interpolation".into())));
    let nested = b.block("nested").unwrap();
    assert_eq!(
        (nested.labels.clone(), nested.line),
        (vec!["label".to_string()], 22)
    );
    let deep = nested.body.block("deep").unwrap();
    assert_eq!((deep.body.get("x"), deep.line), (Some(&Value::Null), 23));
    assert_eq!(body.blocks[1].kind, "terraform");
}

#[test]
fn the_hcl_reader_keeps_unevaluated_expressions_raw() {
    let body = parse(
        "a = merge(local.x, {\n  b = 1\n})\nc = [for s in var.l : upper(s)]\nd = {for k, v in var.m : k => v}\ne = -1\nf = jsonencode({ \"x\" = \"}\" })\ng = 1\n",
    );
    let get = |n: &str| body.get(n).cloned();
    assert_eq!(
        get("a"),
        Some(Value::Expr("merge(local.x, {\n  b = 1\n})".into()))
    );
    assert_eq!(
        get("c"),
        Some(Value::List(vec![(
            Value::Expr("for s in var.l : upper(s)".into()),
            4
        )]))
    );
    assert_eq!(
        get("d"),
        Some(Value::Expr("{for k, v in var.m : k => v}".into()))
    );
    assert_eq!(get("e"), Some(Value::Number("-1".into())));
    assert_eq!(
        get("f"),
        Some(Value::Expr("jsonencode({ \"x\" = \"}\" })".into()))
    );
    assert_eq!(body.attr("g").map(|a| a.line), Some(8));
}
#[test]
fn a_variable_block_keeps_its_type_expression_validation_and_heredoc() {
    let body = parse(
        r#"variable "subnets" {
  description = <<-EOT
    Subnets to create.
      One per availability zone.

    Indentation beyond the shared one stays.
  EOT
  type = list(object({
    cidr_block = string # IPv4 only
    az         = string // e.g. eu-west-1a
    public     = optional(bool, false) /* a NAT route otherwise */
  }))
  default   = [{ cidr_block = "10.0.0.0/24", az = "eu-west-1a" }]
  sensitive = false
  validation {
    condition     = alltrue([for s in var.subnets : can(cidrhost(s.cidr_block, 0))])
    error_message = "Every cidr_block must be a valid IPv4 CIDR."
  }
  validation {
    condition     = length(var.subnets) > 0
    error_message = "At least one subnet."
  }
}
"#,
    );
    let variable = &body.blocks[0];
    assert_eq!(
        (variable.kind.as_str(), variable.labels.as_slice()),
        ("variable", ["subnets".to_string()].as_slice())
    );
    let b = &variable.body;
    assert_eq!(
        b.get("description").and_then(Value::as_str),
        Some(
            "Subnets to create.\n  One per availability zone.\n\nIndentation beyond the shared one stays."
        )
    );
    let ty = b.get("type").expect("a type");
    assert_eq!(
        ty,
        &Value::Expr(
            "list(object({\n    cidr_block = string\n    az         = string\n    public     = optional(bool, false) \n  }))"
                .into()
        )
    );
    assert_eq!(
        ty.to_hcl(),
        "list(object({ cidr_block = string, az = string, public = optional(bool, false) }))"
    );
    assert_eq!(b.attr("default").map(|a| a.line), Some(13));
    assert_eq!(
        b.get("default").map(Value::to_hcl).as_deref(),
        Some(r#"[{ cidr_block = "10.0.0.0/24", az = "eu-west-1a" }]"#)
    );
    assert_eq!(b.get("sensitive").and_then(Value::as_bool), Some(false));
    let validations: Vec<_> = b.blocks_of("validation").collect();
    assert_eq!(validations.len(), 2);
    assert_eq!(
        validations[0]
            .body
            .get("error_message")
            .and_then(Value::as_str),
        Some("Every cidr_block must be a valid IPv4 CIDR.")
    );
    assert_eq!(validations[1].line, 19);
}

#[test]
fn required_providers_in_both_forms_and_required_version() {
    let body = parse(
        r#"terraform {
  required_version = ">= 1.5.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.40"
    }
    random = "~> 3.6" # the legacy form
  }

  backend "s3" {}
}
"#,
    );
    let terraform = body.block("terraform").expect("the terraform block");
    assert_eq!(
        terraform
            .body
            .get("required_version")
            .and_then(Value::as_str),
        Some(">= 1.5.0, < 2.0.0")
    );
    let providers = &terraform
        .body
        .block("required_providers")
        .expect("providers")
        .body;
    let aws = providers.get("aws").expect("aws");
    assert_eq!(
        aws.key("source").and_then(Value::as_str),
        Some("hashicorp/aws")
    );
    assert_eq!(aws.key("version").and_then(Value::as_str), Some("~> 5.40"));
    assert_eq!(
        providers.get("random").and_then(Value::as_str),
        Some("~> 3.6")
    );
    assert_eq!(
        terraform.body.block("backend").map(|b| b.labels.clone()),
        Some(vec!["s3".to_string()])
    );
}

#[test]
fn a_heredoc_without_a_dash_keeps_its_indentation() {
    let body = parse("a = <<EOT\n  two\n    four\nEOT\nb = <<-EOT\n\t\tx\n\t\t  y\n\tEOT\n");
    assert_eq!(
        body.get("a").and_then(Value::as_str),
        Some("  two\n    four")
    );
    assert_eq!(body.get("b").and_then(Value::as_str), Some("x\n  y"));
}

#[test]
fn comments_inside_an_expression_are_dropped_not_cut_at() {
    let body = parse(
        "a = merge( # first\n  local.x, /* inline */ local.y // last\n)\nb = \"# not a comment\" == local.z # one\nc = 1\n",
    );
    assert_eq!(
        body.get("a"),
        Some(&Value::Expr("merge(\n  local.x,  local.y\n)".into()))
    );
    assert_eq!(
        body.get("b"),
        Some(&Value::Expr("\"# not a comment\" == local.z".into()))
    );
    assert_eq!(body.attr("c").map(|a| a.line), Some(5));
}

#[test]
fn values_are_written_back_as_hcl() {
    let body = parse(
        "s = \"a \\\"q\\\" \\\\ $${x}\\n\"\nn = -1.5e3\nb = true\nz = null\nl = [\"x\", 2]\no = { \"a b\" = 1, c = { d = [] } }\ne = {}\nt = \"${var.x}-y\"\nx = max(\n  1,\n  2\n)\n",
    );
    let hcl = |name: &str| body.get(name).map(Value::to_hcl).unwrap_or_default();
    assert_eq!(hcl("s"), "\"a \\\"q\\\" \\\\ $${x}\\n\"");
    assert_eq!(hcl("n"), "-1.5e3");
    assert_eq!(hcl("b"), "true");
    assert_eq!(hcl("z"), "null");
    assert_eq!(hcl("l"), "[\"x\", 2]");
    assert_eq!(hcl("o"), "{ \"a b\" = 1, c = { d = [] } }");
    assert_eq!(hcl("e"), "{}");
    assert_eq!(hcl("t"), "\"${var.x}-y\"");
    assert_eq!(hcl("x"), "max(1, 2)");
}

#[test]
fn hostile_input_never_panics() {
    let deep = "a {".repeat(10 * MAX_NESTING) + &"[".repeat(10_000);
    let junk: Vec<u8> = (0..64 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let junk = String::from_utf8_lossy(&junk).into_owned();
    for text in [
        deep.as_str(),
        junk.as_str(),
        "variable \"x\" {\n  description = <<-EOT\n  never closed",
        "variable \"x\" {\n  type = object({\n",
        "x = \"unterminated\ny = /* open",
        "a = \"${\"",
        "é = 1\nb = \"é\" # é\n",
    ] {
        let body = parse(text);
        for attribute in &body.attributes {
            let _ = attribute.value.to_hcl();
        }
    }
}
