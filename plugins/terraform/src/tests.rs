//! Unit tests of `qlp/terraform`: which directory is the module and which
//! files it is made of, `NO_TERRAFORM` and option errors, what the README
//! says (and does not invent), reproducible bytes whatever the file order,
//! and hostile input that must not panic. The archive is checked against
//! python-hcl2 in `tests/validated.rs`.

use std::collections::BTreeMap;
use std::io::Read;

use super::*;
use crate::module::MAX_READ_BYTES;
use crate::readme::NO_DESCRIPTION;

fn options(base: &str, pairs: &[(&str, &str)]) -> ExportOptions {
    ExportOptions {
        base_name: base.into(),
        options: pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

/// The archive's entries by path.
fn unpack(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let mut entries = BTreeMap::new();
    for entry in archive.entries().expect("entries") {
        let mut entry = entry.expect("an entry");
        let path = entry.path().expect("a path").to_string_lossy().into_owned();
        let mut content = Vec::new();
        entry.read_to_end(&mut content).expect("the content");
        entries.insert(path, content);
    }
    entries
}

fn export(
    files: &[File],
    pairs: &[(&str, &str)],
) -> Result<BTreeMap<String, Vec<u8>>, PluginError> {
    export_files(files, &options("svc", pairs)).map(|a| unpack(&a.bytes))
}

fn readme(entries: &BTreeMap<String, Vec<u8>>) -> String {
    String::from_utf8(entries[README].clone()).expect("a UTF-8 README")
}

fn paths(entries: &BTreeMap<String, Vec<u8>>) -> Vec<&str> {
    entries.keys().map(String::as_str).collect()
}

const SMALL: &str = "variable \"name\" {\n  type = string\n}\n";

#[test]
fn the_module_is_packaged_with_its_lock_file_and_examples_only() {
    let files = [
        File::text("app/main.py", "print('hi')\n"),
        File::text("README.md", "# The project\n"),
        File::text("infra/main.tf", SMALL),
        File::text("infra/outputs.tf", "output \"x\" { value = 1 }\n"),
        File::text("infra/override.tf.json", "{\"locals\": {\"a\": 1}}"),
        File::text("infra/prod.tfvars.example", "name = \"x\"\n"),
        File::text("infra/prod.tfvars", "db_password = \"secret\"\n"),
        File::text("infra/.terraform.lock.hcl", "provider \"x\" {}\n"),
        File::text("infra/.terraform/modules/m/main.tf", SMALL),
        File::text("infra/modules/vpc/main.tf", SMALL),
        File::text("infra/notes.md", "notes\n"),
        File::text("infra/.tf", "not a module file\n"),
    ];
    let entries = export(&files, &[]).expect("an archive");
    assert_eq!(
        paths(&entries),
        [
            ".terraform.lock.hcl",
            "README.md",
            "main.tf",
            "modules/vpc/main.tf",
            "outputs.tf",
            "override.tf.json",
            "prod.tfvars.example",
        ]
    );
    assert_eq!(entries["main.tf"], SMALL.as_bytes());
}

#[test]
fn the_root_with_main_tf_wins_then_the_shallowest() {
    let root = |paths: &[&str]| {
        let files: Vec<File> = paths.iter().map(|p| File::text(*p, SMALL)).collect();
        module_root(&files)
    };
    assert_eq!(root(&["main.tf"]).as_deref(), Some(""));
    assert_eq!(
        root(&["terraform/modules/vpc/main.tf", "terraform/main.tf"]).as_deref(),
        Some("terraform")
    );
    assert_eq!(
        root(&["infra/variables.tf", "deploy/tf/main.tf"]).as_deref(),
        Some("deploy/tf"),
        "main.tf beats depth"
    );
    assert_eq!(
        root(&["b/x.tf", "a/y.tf", "a/deeper/z.tf"]).as_deref(),
        Some("a"),
        "without main.tf: the shallowest, then byte order"
    );
    assert_eq!(
        root(&["x/.terraform/providers/main.tf", "x/vpc.tf.json"]).as_deref(),
        Some("x")
    );
    assert_eq!(root(&["main.tfvars.example", "README.md"]), None);
}

#[test]
fn module_dir_picks_the_root() {
    let files = [
        File::text("main.tf", SMALL),
        File::text(
            "examples/basic/main.tf",
            "module \"m\" { source = \"../..\" }\n",
        ),
    ];
    let entries = export(&files, &[("module-dir", "examples/basic/")]).expect("an archive");
    assert_eq!(paths(&entries), ["README.md", "main.tf"]);
    assert!(readme(&entries).contains("`examples/basic/` of the capsule"));
    let entries = export(&files, &[("module-dir", ".")]).expect("an archive");
    assert_eq!(
        paths(&entries),
        ["README.md", "examples/basic/main.tf", "main.tf"]
    );
    assert!(readme(&entries).contains("the capsule's root directory"));
}

#[test]
fn no_terraform_says_what_it_looked_for() {
    let files = [File::text("app/main.py", ""), File::text("x.tfvars", "")];
    let error = export(&files, &[]).expect_err("no Terraform");
    assert_eq!(error.code, "NO_TERRAFORM");
    for looked_for in [
        "`*.tf`",
        "`*.tf.json`",
        "`terraform/`",
        "`infra/`",
        "capsule root",
    ] {
        assert!(error.message.contains(looked_for), "{}", error.message);
    }
    let error = export(&[File::text("main.tf", SMALL)], &[("module-dir", "infra")])
        .expect_err("no Terraform in infra/");
    assert_eq!(error.code, "NO_TERRAFORM");
    assert!(error.message.contains("`infra/`"), "{}", error.message);
    let error = export(&[File::text("infra/main.tf", SMALL)], &[("module-dir", "")])
        .expect_err("none at the root");
    assert_eq!(error.code, "NO_TERRAFORM");
}

#[test]
fn bad_options_and_paths_have_their_codes() {
    let files = [File::text("main.tf", SMALL)];
    for bad in ["/abs", "../up", "a//b", "a\\b"] {
        let error = export(&files, &[("module-dir", bad)]).expect_err(bad);
        assert_eq!(error.code, "INVALID_OPTION", "{bad}");
    }
    assert!(
        export(&files, &[("compression-level", "9")]).is_ok(),
        "unknown keys are ignored"
    );
    let dup = [File::text("main.tf", SMALL), File::text("main.tf", SMALL)];
    assert_eq!(export(&dup, &[]).expect_err("dup").code, "DUPLICATE_PATH");
    let bad = [File::text("main.tf", SMALL), File::text("a/./b.tf", SMALL)];
    assert_eq!(export(&bad, &[]).expect_err("bad").code, "INVALID_PATH");
}

#[test]
fn the_artifact_is_named_after_the_base_name() {
    let artifact = export_files(
        &[File::text("main.tf", SMALL)],
        &options("Invoices Service", &[]),
    )
    .expect("an artifact");
    assert_eq!(artifact.file_name, "Invoices-Service-terraform.tar.gz");
    assert_eq!(artifact.media_type, "application/gzip");
    let text = readme(&unpack(&artifact.bytes));
    assert!(
        text.starts_with("# Invoices-Service Terraform module\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "module \"Invoices-Service\" {\n  source = \"./Invoices-Service-terraform\"\n"
        ),
        "{text}"
    );
}

#[test]
fn the_readme_documents_variables_without_inventing() {
    let tf = r#"
terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = { source = "hashicorp/aws", version = "~> 5.0" }
    legacy = "1.2.3"
  }
}

variable "db_password" {
  type        = string
  description = <<-EOT
    Master password.

    # Rotate it yearly.
  EOT
  sensitive = true
  validation {
    condition     = length(var.db_password) >= 16
    error_message = "At least\n16 characters."
  }
}

variable "count_of" {
  type = number
}

variable "anything" {
  default = null
}

variable "subnets" {
  description = "Subnets."
  type = list(object({
    cidr = string
    az   = optional(string)
  }))
  default = [{ cidr = "10.0.0.0/24" }]
}

output "endpoint" {
  value     = aws_db_instance.this.endpoint
  sensitive = true
}

resource "aws_db_instance" "this" {}
resource "aws_db_instance" "replica" {}
resource "aws_vpc" "this" {}
data "aws_region" "current" {}
module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "5.8.1"
}
"#;
    let text = readme(&export(&[File::text("main.tf", tf)], &[]).expect("an archive"));
    let expected_parts = [
        "module \"svc\" {\n  source = \"./svc-terraform\"\n\n  count_of    = 0\n  db_password = var.db_password # sensitive: pass it in, never write it here\n}\n",
        "- Terraform: `>= 1.5`\n",
        "| `aws` | `hashicorp/aws` | `~> 5.0` |\n| `legacy` | - | `1.2.3` |\n",
        "| `aws_db_instance` | 2 | `replica`, `this` |\n| `aws_vpc` | 1 | `this` |\n",
        "## Data sources\n\n| Type | Count | Names |\n|---|---|---|\n| `aws_region` | 1 | `current` |\n",
        "| `vpc` | `terraform-aws-modules/vpc/aws` | `5.8.1` |\n",
        "### `anything`\n\nNo description given in the module.\n\n- Type: not declared (any value)\n- Default: `null`\n- Required: no\n- Sensitive: no\n",
        "### `count_of`\n\nNo description given in the module.\n\n- Type: `number`\n- Default: none\n- Required: yes\n- Sensitive: no\n",
        "### `db_password`\n\nMaster password.\n\n\\# Rotate it yearly.\n\n- Type: `string`\n- Default: none\n- Required: yes\n- Sensitive: yes\n- Validation: At least 16 characters.\n",
        "### `subnets`\n\nSubnets.\n\n- Type: `list(object({ cidr = string, az = optional(string) }))`\n- Default: `[{ cidr = \"10.0.0.0/24\" }]`\n",
        "## Outputs\n\n### `endpoint`\n\nNo description given in the module.\n\n- Sensitive: yes\n",
        "## Files\n\n- `main.tf`\n",
    ];
    for part in expected_parts {
        assert!(text.contains(part), "missing {part:?} in\n{text}");
    }
    let sections = [
        "## Usage",
        "## Requirements",
        "## Resources",
        "## Data sources",
        "## Modules",
        "## Inputs",
        "## Outputs",
        "## Files",
    ];
    let at: Vec<usize> = sections.iter().map(|s| text.find(s).expect(s)).collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "sections in order");
}

#[test]
fn an_empty_module_says_so() {
    let text = readme(&export(&[File::text("main.tf", "locals {}\n")], &[]).expect("an archive"));
    for part in [
        "The module has no required variables.",
        "- Terraform: not constrained (no `required_version`)",
        "No `required_providers` are declared.",
        "The module declares no resources.",
        "The module declares no variables.",
        "The module declares no outputs.",
    ] {
        assert!(text.contains(part), "missing {part:?} in\n{text}");
    }
    assert!(!text.contains(NO_DESCRIPTION));
}

#[test]
fn json_configuration_is_documented_too() {
    let json = r#"{
      "terraform": {"required_version": ">= 1.6", "required_providers": {"google": {"source": "hashicorp/google", "version": "~> 6.0"}}},
      "variable": {"project": {"type": "string", "description": "GCP project."}, "labels": {"type": "map(string)", "default": {"team": "core"}}},
      "resource": {"google_storage_bucket": {"assets": {"name": "${var.project}-assets"}, "logs": [{"name": "x"}]}},
      "output": {"bucket": {"value": "${google_storage_bucket.assets.url}", "description": "Bucket URL.", "sensitive": false}}
    }"#;
    let text = readme(&export(&[File::text("gcp/main.tf.json", json)], &[]).expect("an archive"));
    for part in [
        "- Terraform: `>= 1.6`",
        "| `google` | `hashicorp/google` | `~> 6.0` |",
        "| `google_storage_bucket` | 2 | `assets`, `logs` |",
        "### `labels`\n\nNo description given in the module.\n\n- Type: `map(string)`\n- Default: `{ team = \"core\" }`\n- Required: no\n",
        "### `project`\n\nGCP project.\n\n- Type: `string`\n- Default: none\n- Required: yes\n",
        "### `bucket`\n\nBucket URL.\n\n- Sensitive: no\n",
        "  project = \"…\"\n",
    ] {
        assert!(text.contains(part), "missing {part:?} in\n{text}");
    }
}

#[test]
fn the_same_capsule_in_any_order_gives_the_same_bytes() {
    let files = vec![
        File::text("infra/main.tf", SMALL),
        File::text(
            "infra/variables.tf",
            "variable \"b\" {}\nvariable \"a\" { default = 1 }\n",
        ),
        File::text(
            "infra/outputs.tf",
            "output \"z\" { value = 1 }\noutput \"y\" { value = 2 }\n",
        ),
        File::text("infra/modules/x/main.tf", SMALL),
        File::text("infra/.terraform.lock.hcl", "# lock\n"),
        File::text("app.py", ""),
    ];
    let bytes = |files: &[File]| {
        export_files(files, &options("svc", &[]))
            .expect("an archive")
            .bytes
    };
    let first = bytes(&files);
    assert_eq!(bytes(&files), first);
    let mut shuffled = files.clone();
    shuffled.reverse();
    shuffled.swap(0, 3);
    assert_eq!(bytes(&shuffled), first);
}

#[test]
fn hostile_files_are_packaged_without_panicking() {
    let huge = "# padding\n".repeat(MAX_READ_BYTES / 10 + 1) + "variable \"hidden\" {}\n";
    let junk: Vec<u8> = (0..100_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    let deep = "a {".repeat(100_000);
    let files = vec![
        File::text(
            "tf/main.tf",
            "variable \"ok\" {\n  description = \"fine\"\n}\n",
        ),
        File::text("tf/huge.tf", huge.clone()),
        File {
            path: "tf/junk.tf".into(),
            content: junk.clone(),
        },
        File::text("tf/lossy.tf", String::from_utf8_lossy(&junk).into_owned()),
        File::text("tf/deep.tf", deep),
        File::text(
            "tf/open.tf",
            "variable \"open\" {\n  description = <<-EOT\n  never ends\n",
        ),
        File::text("tf/open2.tf", "resource \"aws_vpc\" \"v\" {\n  tags = {\n"),
        File::text("tf/bad.tf.json", "{\"variable\": [1, 2, {\"x\": "),
        File::text("tf/odd.tf.json", "[\"not\", \"an\", \"object\"]"),
    ];
    let entries = export(&files, &[]).expect("an archive");
    assert_eq!(entries["huge.tf"], huge.as_bytes());
    assert_eq!(entries["junk.tf"], junk);
    let text = readme(&entries);
    assert!(text.contains("### `ok`"), "{text}");
    assert!(!text.contains("`hidden`"), "{text}");
    for part in [
        "## Files not read for this README\n",
        "- `huge.tf`: larger than 1024 KiB\n",
        "- `junk.tf`: not UTF-8 text\n",
        "- `bad.tf.json`: not valid JSON",
    ] {
        assert!(text.contains(part), "missing {part:?} in\n{text}");
    }
}
