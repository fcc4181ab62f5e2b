//! What the README says about a module, read from its root directory's
//! files: variables, outputs, required providers and Terraform version,
//! resources and data sources by type, and the modules it calls.
//! `*.tf` files are read with the SDK's HCL reader ([`qlp_sdk::hcl`]),
//! `*.tf.json` files (Terraform's JSON syntax) are turned into the same
//! [`Body`] first ([`json_body`]). Nothing is evaluated: a type, a default
//! or a source is shown as written.

use qlp_sdk::hcl::{self, Block, Body, Value};

/// Largest file read for the README, as in `qlp/infrastructure`:
/// hand-written Terraform files are tens of KiB, and a bigger one is
/// generated and would only be skimmed by the HCL reader. Larger files are
/// packaged all the same and listed as not read.
pub const MAX_READ_BYTES: usize = 1024 * 1024;

/// An input variable.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Variable {
    pub name: String,
    /// The type expression on one line, if declared.
    pub type_expr: Option<String>,
    pub description: Option<String>,
    /// The default on one line, if any (`null` counts: the variable is then
    /// optional).
    pub default: Option<String>,
    pub sensitive: bool,
    /// The `error_message` of each `validation` block (empty when a block
    /// has none that is a literal).
    pub validations: Vec<String>,
}

impl Variable {
    /// Whether a caller must set it: it has no default.
    pub fn required(&self) -> bool {
        self.default.is_none()
    }
}

/// An output value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Output {
    pub name: String,
    pub description: Option<String>,
    pub sensitive: bool,
}

/// A `required_providers` entry.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Provider {
    /// The local name, e.g. `aws`.
    pub name: String,
    /// e.g. `hashicorp/aws`.
    pub source: Option<String>,
    /// The version constraint, e.g. `~> 5.0`.
    pub version: Option<String>,
}

/// A `module` block of the documented module.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ModuleCall {
    pub name: String,
    pub source: Option<String>,
    pub version: Option<String>,
}

/// Why a packaged file was not read for the README.
#[derive(Clone, Debug, PartialEq)]
pub struct Unread {
    /// Its path in the archive.
    pub path: String,
    pub reason: String,
}

/// What the README documents about one module.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Module {
    /// Sorted by name; the first declaration of a name wins.
    pub variables: Vec<Variable>,
    /// Sorted by name.
    pub outputs: Vec<Output>,
    /// Every `required_version` constraint, in file order.
    pub required_versions: Vec<String>,
    /// Sorted by local name.
    pub providers: Vec<Provider>,
    /// `(type, names)` sorted by type, names sorted.
    pub resources: Vec<(String, Vec<String>)>,
    /// `(type, names)` sorted by type, names sorted.
    pub data_sources: Vec<(String, Vec<String>)>,
    /// Sorted by name.
    pub modules: Vec<ModuleCall>,
    pub unread: Vec<Unread>,
}

/// Reads the module from its root files, each `(path in the archive,
/// content)`, in any order: `*.tf` and `*.tf.json` are read, other files
/// (lock file, `*.tfvars.example`) are not part of the interface.
pub fn read(files: &[(&str, &[u8])]) -> Module {
    let mut files: Vec<&(&str, &[u8])> = files.iter().collect();
    files.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut module = Module::default();
    let mut bodies = Vec::new();
    for &&(path, content) in &files {
        let json = path.ends_with(".tf.json");
        if !(json || path.ends_with(".tf")) {
            continue;
        }
        let unread = |reason: &str| Unread {
            path: path.to_string(),
            reason: reason.to_string(),
        };
        if content.len() > MAX_READ_BYTES {
            module.unread.push(unread(&format!(
                "larger than {} KiB",
                MAX_READ_BYTES / 1024
            )));
            continue;
        }
        let Ok(text) = std::str::from_utf8(content) else {
            module.unread.push(unread("not UTF-8 text"));
            continue;
        };
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        if json {
            match serde_json::from_str::<serde_json::Value>(text) {
                Ok(value) => bodies.push(json_body(&value)),
                Err(error) => module
                    .unread
                    .push(unread(&format!("not valid JSON: {error}"))),
            }
        } else {
            bodies.push(hcl::parse(text));
        }
    }
    for body in &bodies {
        module.add(body);
    }
    module.variables.sort_by(|a, b| a.name.cmp(&b.name));
    module.outputs.sort_by(|a, b| a.name.cmp(&b.name));
    module.providers.sort_by(|a, b| a.name.cmp(&b.name));
    module.modules.sort_by(|a, b| a.name.cmp(&b.name));
    for (_, names) in module.resources.iter_mut().chain(&mut module.data_sources) {
        names.sort();
        names.dedup();
    }
    module.resources.sort();
    module.data_sources.sort();
    module
}

/// A literal string attribute.
fn text(body: &Body, name: &str) -> Option<String> {
    body.get(name).and_then(Value::as_text).map(str::to_string)
}

/// The block's first label.
fn label(block: &Block) -> Option<&str> {
    block.labels.first().map(String::as_str)
}

/// Adds `names` to the entry of `kind` in `by_type`.
fn add_named(by_type: &mut Vec<(String, Vec<String>)>, kind: &str, name: &str) {
    match by_type.iter_mut().find(|(k, _)| k == kind) {
        Some((_, names)) => names.push(name.to_string()),
        None => by_type.push((kind.to_string(), vec![name.to_string()])),
    }
}

impl Module {
    /// Adds what one file declares.
    fn add(&mut self, body: &Body) {
        for block in &body.blocks {
            match block.kind.as_str() {
                "variable" => {
                    let Some(name) = label(block) else { continue };
                    if self.variables.iter().any(|v| v.name == name) {
                        continue;
                    }
                    let b = &block.body;
                    self.variables.push(Variable {
                        name: name.to_string(),
                        type_expr: b.get("type").map(type_text),
                        description: text(b, "description"),
                        default: b.get("default").map(Value::to_hcl),
                        sensitive: b.get("sensitive").and_then(Value::as_bool) == Some(true),
                        validations: b
                            .blocks_of("validation")
                            .map(|v| text(&v.body, "error_message").unwrap_or_default())
                            .collect(),
                    });
                }
                "output" => {
                    let Some(name) = label(block) else { continue };
                    if self.outputs.iter().any(|o| o.name == name) {
                        continue;
                    }
                    self.outputs.push(Output {
                        name: name.to_string(),
                        description: text(&block.body, "description"),
                        sensitive: block.body.get("sensitive").and_then(Value::as_bool)
                            == Some(true),
                    });
                }
                "terraform" => self.add_settings(&block.body),
                "resource" | "data" => {
                    let [kind, name, ..] = block.labels.as_slice() else {
                        continue;
                    };
                    let by_type = if block.kind == "resource" {
                        &mut self.resources
                    } else {
                        &mut self.data_sources
                    };
                    add_named(by_type, kind, name);
                }
                "module" => {
                    let Some(name) = label(block) else { continue };
                    if self.modules.iter().any(|m| m.name == name) {
                        continue;
                    }
                    self.modules.push(ModuleCall {
                        name: name.to_string(),
                        source: text(&block.body, "source"),
                        version: text(&block.body, "version"),
                    });
                }
                _ => {}
            }
        }
    }

    /// Adds a `terraform` block's version constraint and providers.
    fn add_settings(&mut self, body: &Body) {
        if let Some(version) = text(body, "required_version") {
            self.required_versions.push(version);
        }
        for providers in body.blocks_of("required_providers") {
            for attribute in &providers.body.attributes {
                if self.providers.iter().any(|p| p.name == attribute.name) {
                    continue;
                }
                let (source, version) = match &attribute.value {
                    Value::Object(_) => (
                        attribute.value.key("source").and_then(Value::as_text),
                        attribute.value.key("version").and_then(Value::as_text),
                    ),
                    // The form before Terraform 0.13: a version alone.
                    other => (None, other.as_text()),
                };
                self.providers.push(Provider {
                    name: attribute.name.clone(),
                    source: source.map(str::to_string),
                    version: version.map(str::to_string),
                });
            }
        }
    }
}

/// A type as written: an expression on one line, or the text of a string
/// (Terraform's JSON syntax, and Terraform before 0.12, write types as
/// strings).
fn type_text(value: &Value) -> String {
    match value {
        Value::Str(s) => s.clone(),
        other => other.to_hcl(),
    }
}

/// How many labels blocks of each kind carry in Terraform's JSON syntax,
/// where each label is one level of object keys.
fn json_labels(kind: &str) -> usize {
    match kind {
        "resource" | "data" => 2,
        "variable" | "output" | "module" | "provider" => 1,
        _ => 0,
    }
}

/// A `*.tf.json` document as the [`Body`] the HCL reader would give for
/// the same configuration: top-level keys are block kinds, with as many
/// levels of keys as labels ([`json_labels`]); a block may also be an
/// array of bodies. Inside `terraform`, `required_providers` is a block.
/// Lines are 0: JSON values carry none here.
pub fn json_body(value: &serde_json::Value) -> Body {
    let mut body = Body::default();
    let serde_json::Value::Object(top) = value else {
        return body;
    };
    for (kind, value) in top {
        json_blocks(kind, json_labels(kind), Vec::new(), value, &mut body.blocks);
    }
    body
}

/// Pushes the blocks of `kind` found under `value` with `labels` so far
/// and `more` labels still to read.
fn json_blocks(
    kind: &str,
    more: usize,
    labels: Vec<String>,
    value: &serde_json::Value,
    out: &mut Vec<Block>,
) {
    match value {
        serde_json::Value::Array(items) => {
            for item in items {
                json_blocks(kind, more, labels.clone(), item, out);
            }
        }
        serde_json::Value::Object(entries) if more > 0 => {
            for (key, inner) in entries {
                let mut labels = labels.clone();
                labels.push(key.clone());
                json_blocks(kind, more - 1, labels, inner, out);
            }
        }
        serde_json::Value::Object(entries) => {
            let mut body = Body::default();
            for (name, inner) in entries {
                let nested = matches!(
                    (kind, name.as_str()),
                    ("terraform", "required_providers" | "backend" | "cloud")
                        | ("variable", "validation")
                );
                if nested {
                    let more = usize::from(name == "backend");
                    json_blocks(name, more, Vec::new(), inner, &mut body.blocks);
                } else {
                    let value = if kind == "variable" && name == "type" {
                        match inner {
                            serde_json::Value::String(s) => Value::Expr(s.clone()),
                            other => json_value(other),
                        }
                    } else {
                        json_value(inner)
                    };
                    body.attributes.push(hcl::Attribute {
                        name: name.clone(),
                        value,
                        line: 0,
                    });
                }
            }
            out.push(Block {
                kind: kind.to_string(),
                labels,
                body,
                line: 0,
            });
        }
        _ => {}
    }
}

/// A JSON value as an HCL value: a string holding `${` or `%{` is a
/// template, as Terraform reads it.
fn json_value(value: &serde_json::Value) -> Value {
    match value {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => Value::Number(n.to_string()),
        serde_json::Value::String(s) if s.contains("${") || s.contains("%{") => {
            Value::Template(s.clone())
        }
        serde_json::Value::String(s) => Value::Str(s.clone()),
        serde_json::Value::Array(items) => {
            Value::List(items.iter().map(|v| (json_value(v), 0)).collect())
        }
        serde_json::Value::Object(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| (k.clone(), json_value(v), 0))
                .collect(),
        ),
    }
}
