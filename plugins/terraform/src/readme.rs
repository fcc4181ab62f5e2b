//! The README.md written at the archive's root: how to call the module, and
//! what [`crate::module::Module`] read of it. Everything comes from the
//! module's own files; where they say nothing (a variable or output without
//! a description, no `required_version`) the README says so rather than
//! inventing text. Variables and outputs are sections (`### \`name\``)
//! followed by one `- Key: value` line per fact, so a description may span
//! paragraphs and a reader (the test's `check_module.py`) can take the
//! README apart again.

use std::fmt::Write as _;

use crate::module::{Module, Variable};

/// What the README says of a variable or output without a description.
pub const NO_DESCRIPTION: &str = "No description given in the module.";

/// What the README needs besides the module.
pub struct Context<'a> {
    /// The sanitized base name: the README's title and the module's name in
    /// the usage example.
    pub name: &'a str,
    /// The directory the archive is meant to be extracted into, relative
    /// to the calling configuration (`<name>-terraform`).
    pub directory: &'a str,
    /// The module's directory in the capsule, `""` for its root.
    pub module_dir: &'a str,
    /// Every packaged file's path in the archive, sorted, README excluded.
    pub files: &'a [String],
}

/// The README's text.
pub fn render(module: &Module, context: &Context<'_>) -> String {
    let mut out = String::new();
    let from = if context.module_dir.is_empty() {
        "the capsule's root directory".to_string()
    } else {
        format!("`{}/` of the capsule", context.module_dir)
    };
    let _ = writeln!(out, "# {} Terraform module\n", context.name);
    let _ = writeln!(
        out,
        "Packaged by QLP from {from}. This README is generated from the module's \
         files; what they do not say is marked as such.\n"
    );
    usage(&mut out, module, context);
    requirements(&mut out, module);
    by_type(&mut out, "Resources", "resources", &module.resources);
    if !module.data_sources.is_empty() {
        by_type(
            &mut out,
            "Data sources",
            "data sources",
            &module.data_sources,
        );
    }
    if !module.modules.is_empty() {
        out.push_str("## Modules\n\n| Name | Source | Version |\n|---|---|---|\n");
        for call in &module.modules {
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                code(&call.name),
                call.source.as_deref().map_or("not a literal".into(), code),
                call.version.as_deref().map_or("-".into(), code),
            );
        }
        out.push('\n');
    }
    inputs(&mut out, module);
    outputs(&mut out, module);
    out.push_str("## Files\n\n");
    for file in context.files {
        let _ = writeln!(out, "- {}", code(file));
    }
    if !module.unread.is_empty() {
        out.push_str("\n## Files not read for this README\n\n");
        for unread in &module.unread {
            let _ = writeln!(out, "- {}: {}", code(&unread.path), unread.reason);
        }
    }
    out
}

/// The `module` block that calls this module with its required variables.
fn usage(out: &mut String, module: &Module, context: &Context<'_>) {
    let required: Vec<&Variable> = module.variables.iter().filter(|v| v.required()).collect();
    out.push_str("## Usage\n\n");
    let _ = writeln!(
        out,
        "Extract the archive into `{}/` next to your configuration, then:\n",
        context.directory
    );
    let _ = writeln!(out, "```hcl\nmodule \"{}\" {{", identifier(context.name));
    let _ = writeln!(out, "  source = \"./{}\"", context.directory);
    if !required.is_empty() {
        out.push('\n');
        let width = required.iter().map(|v| v.name.len()).max().unwrap_or(0);
        for variable in &required {
            let (value, note) = if variable.sensitive {
                (
                    format!("var.{}", variable.name),
                    " # sensitive: pass it in, never write it here",
                )
            } else {
                (placeholder(variable.type_expr.as_deref()).to_string(), "")
            };
            let _ = writeln!(out, "  {:width$} = {value}{note}", variable.name);
        }
    }
    out.push_str("}\n```\n\n");
    if required.is_empty() {
        out.push_str("The module has no required variables.\n\n");
    } else {
        out.push_str(
            "Only the required variables are set above; replace each placeholder. \
             The others are listed under Inputs.\n\n",
        );
    }
}

/// A value of the type's kind for the usage example.
fn placeholder(type_expr: Option<&str>) -> &'static str {
    let head = type_expr
        .unwrap_or("any")
        .split(|c: char| c == '(' || c.is_whitespace())
        .next()
        .unwrap_or("");
    match head {
        "string" => "\"…\"",
        "number" => "0",
        "bool" => "false",
        "list" | "set" | "tuple" => "[]",
        "map" | "object" => "{}",
        _ => "null",
    }
}

/// `required_version` and the providers.
fn requirements(out: &mut String, module: &Module) {
    out.push_str("## Requirements\n\n");
    if module.required_versions.is_empty() {
        out.push_str("- Terraform: not constrained (no `required_version`)\n\n");
    } else {
        let versions: Vec<String> = module.required_versions.iter().map(|v| code(v)).collect();
        let _ = writeln!(out, "- Terraform: {}\n", versions.join(" and "));
    }
    if module.providers.is_empty() {
        out.push_str("No `required_providers` are declared.\n\n");
        return;
    }
    out.push_str("| Provider | Source | Version |\n|---|---|---|\n");
    for provider in &module.providers {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            code(&provider.name),
            provider.source.as_deref().map_or("-".into(), code),
            provider
                .version
                .as_deref()
                .map_or("not constrained".into(), code),
        );
    }
    out.push('\n');
}

/// A table of blocks by type with their count and names.
fn by_type(out: &mut String, title: &str, noun: &str, by_type: &[(String, Vec<String>)]) {
    let _ = writeln!(out, "## {title}\n");
    if by_type.is_empty() {
        let _ = writeln!(out, "The module declares no {noun}.\n");
        return;
    }
    out.push_str("| Type | Count | Names |\n|---|---|---|\n");
    for (kind, names) in by_type {
        let names: Vec<String> = names.iter().map(|n| code(n)).collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            code(kind),
            names.len(),
            names.join(", ")
        );
    }
    out.push('\n');
}

fn inputs(out: &mut String, module: &Module) {
    out.push_str("## Inputs\n\n");
    if module.variables.is_empty() {
        out.push_str("The module declares no variables.\n\n");
    }
    for variable in &module.variables {
        let _ = writeln!(out, "### {}\n", code(&variable.name));
        description(out, variable.description.as_deref());
        let _ = writeln!(
            out,
            "- Type: {}",
            variable
                .type_expr
                .as_deref()
                .map_or("not declared (any value)".into(), code)
        );
        let _ = writeln!(
            out,
            "- Default: {}",
            variable.default.as_deref().map_or("none".into(), code)
        );
        let _ = writeln!(out, "- Required: {}", yes(variable.required()));
        let _ = writeln!(out, "- Sensitive: {}", yes(variable.sensitive));
        for message in &variable.validations {
            if message.is_empty() {
                out.push_str("- Validation: a condition whose message is not a literal\n");
            } else {
                let _ = writeln!(out, "- Validation: {}", one_line(message));
            }
        }
        out.push('\n');
    }
}

fn outputs(out: &mut String, module: &Module) {
    out.push_str("## Outputs\n\n");
    if module.outputs.is_empty() {
        out.push_str("The module declares no outputs.\n\n");
    }
    for output in &module.outputs {
        let _ = writeln!(out, "### {}\n", code(&output.name));
        description(out, output.description.as_deref());
        let _ = writeln!(out, "- Sensitive: {}\n", yes(output.sensitive));
    }
}

/// A description as written (trailing spaces and blank lines dropped, a
/// line starting with `#` escaped so it stays text), or [`NO_DESCRIPTION`].
fn description(out: &mut String, text: Option<&str>) {
    let text = text.map(str::trim).filter(|t| !t.is_empty());
    let Some(text) = text else {
        let _ = writeln!(out, "{NO_DESCRIPTION}\n");
        return;
    };
    for line in text.lines() {
        let line = line.trim_end();
        if line.starts_with('#') {
            out.push('\\');
        }
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
}

fn yes(flag: bool) -> &'static str {
    if flag { "yes" } else { "no" }
}

/// Text on one line, its line breaks as spaces.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Inline code of `text` on one line (line breaks become spaces): a fence
/// one backtick longer than the longest run inside, with spaces when the
/// text touches a backtick.
pub fn code(text: &str) -> String {
    let text = text.replace(['\r', '\n'], " ");
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    if text.starts_with('`') || text.ends_with('`') {
        format!("{fence} {text} {fence}")
    } else {
        format!("{fence}{text}{fence}")
    }
}

/// The base name as an HCL identifier for the `module` block: characters
/// other than letters, digits, `_` and `-` become `_`, and a name not
/// starting with a letter gets `m_` in front.
pub fn identifier(name: &str) -> String {
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        name
    } else {
        format!("m_{name}")
    }
}
