//! A small YAML emitter for manifests built as `serde_json` values: block
//! mappings and sequences, two-space indentation, and scalars written so
//! that every YAML 1.1 and 1.2 reader (kubectl, Helm, kustomize, PyYAML)
//! reads back exactly the JSON value.
//!
//! Output depends on the value alone: mapping keys are ordered by
//! [`key_order`] (`apiVersion`, `kind`, `metadata`, `name` first, then by
//! byte order) whatever the map's own order, so the same manifest always
//! gives the same bytes. A string is written plain only when it cannot be
//! read as anything else (see [`is_plain`]); every other string is written
//! JSON-quoted, which is valid YAML double-quoted style.
//!
//! Every plugin that writes manifests or Compose and workflow files
//! (`qlp/kubernetes`, `qlp/helm`, the infrastructure agents) writes them here.

use std::cmp::Ordering;

use serde_json::Value;

/// Keys written before all others, in this order: the conventional head of
/// a Kubernetes object and of a list item.
pub const LEADING_KEYS: [&str; 4] = ["apiVersion", "kind", "metadata", "name"];

/// Words that YAML 1.1 readers take as booleans or null when plain.
const RESERVED_WORDS: [&str; 11] = [
    "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", "",
];

/// The order of two mapping keys: [`LEADING_KEYS`] first, then byte order.
pub fn key_order(a: &str, b: &str) -> Ordering {
    let rank = |k: &str| {
        LEADING_KEYS
            .iter()
            .position(|l| *l == k)
            .unwrap_or(LEADING_KEYS.len())
    };
    rank(a).cmp(&rank(b)).then_with(|| a.cmp(b))
}

/// One YAML document for the value, ending with a newline.
pub fn to_yaml(value: &Value) -> String {
    to_yaml_commented(value, &[])
}

/// One YAML document for the value, with a `# ` comment line (or several,
/// split at `\n`) before each top-level key that `comments` names.
pub fn to_yaml_commented(value: &Value, comments: &[(&str, &str)]) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (i, (key, value)) in sorted(map).into_iter().enumerate() {
                if let Some((_, comment)) = comments.iter().find(|(k, _)| k == key) {
                    if i > 0 {
                        out.push('\n');
                    }
                    for line in comment.lines() {
                        out.push_str(if line.is_empty() { "#" } else { "# " });
                        out.push_str(line);
                        out.push('\n');
                    }
                }
                entry(&mut out, key, value, 0);
            }
        }
        Value::Array(items) if !items.is_empty() => sequence(&mut out, items, 0),
        scalar => {
            out.push_str(&inline(scalar));
            out.push('\n');
        }
    }
    out
}

fn sorted(map: &serde_json::Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    entries.sort_by(|a, b| key_order(a.0, b.0));
    entries
}

/// Whether a value is written on its key's line: scalars and empty
/// collections.
fn is_inline(value: &Value) -> bool {
    match value {
        Value::Object(map) => map.is_empty(),
        Value::Array(items) => items.is_empty(),
        _ => true,
    }
}

fn mapping(out: &mut String, map: &serde_json::Map<String, Value>, indent: usize) {
    for (key, value) in sorted(map) {
        entry(out, key, value, indent);
    }
}

fn entry(out: &mut String, key: &str, value: &Value, indent: usize) {
    push_indent(out, indent);
    out.push_str(&string(key));
    out.push(':');
    match value {
        value if is_inline(value) => {
            out.push(' ');
            out.push_str(&inline(value));
            out.push('\n');
        }
        Value::Object(map) => {
            out.push('\n');
            mapping(out, map, indent + 2);
        }
        Value::Array(items) => {
            out.push('\n');
            sequence(out, items, indent + 2);
        }
        _ => unreachable!("scalars are inline"),
    }
}

fn sequence(out: &mut String, items: &[Value], indent: usize) {
    for item in items {
        if is_inline(item) {
            push_indent(out, indent);
            out.push_str("- ");
            out.push_str(&inline(item));
            out.push('\n');
            continue;
        }
        // The item is written two columns deeper, then its first line's
        // indentation becomes the `- ` marker.
        let mut nested = String::new();
        match item {
            Value::Object(map) => mapping(&mut nested, map, indent + 2),
            Value::Array(items) => sequence(&mut nested, items, indent + 2),
            _ => unreachable!("scalars are inline"),
        }
        push_indent(out, indent);
        out.push_str("- ");
        out.push_str(&nested[indent + 2..]);
    }
}

fn push_indent(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// A scalar or empty collection on one line.
fn inline(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => string(s),
        Value::Array(_) => "[]".into(),
        Value::Object(_) => "{}".into(),
    }
}

/// A string, plain when [`is_plain`], JSON-quoted otherwise.
pub fn string(s: &str) -> String {
    if is_plain(s) {
        s.into()
    } else {
        serde_json::to_string(s).expect("a string serializes")
    }
}

/// Whether a string can be written without quotes: it starts with an
/// ASCII letter, holds only ASCII letters, digits and `._/-`, and is no
/// YAML 1.1 boolean or null word. Such a string cannot be read as a
/// number, a date, a boolean, null, an anchor, a tag or a comment.
pub fn is_plain(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '-'))
        && !RESERVED_WORDS.contains(&s.to_ascii_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn objects_are_written_in_block_style_with_leading_keys_first() {
        let value = json!({
            "spec": {
                "containers": [
                    {"ports": [{"containerPort": 8000, "name": "http"}], "name": "api", "args": []},
                ],
                "nodeSelector": {},
            },
            "metadata": {"name": "api", "labels": {"app.kubernetes.io/name": "api"}},
            "kind": "Deployment",
            "apiVersion": "apps/v1",
        });
        assert_eq!(
            to_yaml(&value),
            "apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  labels:
    app.kubernetes.io/name: api
spec:
  containers:
    - name: api
      args: []
      ports:
        - name: http
          containerPort: 8000
  nodeSelector: {}
"
        );
    }

    #[test]
    fn ambiguous_strings_are_quoted() {
        for (s, yaml) in [
            ("web", "web"),
            ("ALL", "ALL"),
            ("RuntimeDefault", "RuntimeDefault"),
            ("8080", "\"8080\""),
            ("/healthz", "\"/healthz\""),
            ("yes", "\"yes\""),
            ("Off", "\"Off\""),
            ("null", "\"null\""),
            ("", "\"\""),
            ("1e3", "\"1e3\""),
            ("0.1", "\"0.1\""),
            ("a: b", "\"a: b\""),
            ("#x", "\"#x\""),
            ("line\nbreak \"q\"", "\"line\\nbreak \\\"q\\\"\""),
            ("*.example.com", "\"*.example.com\""),
            ("image:1.0", "\"image:1.0\""),
        ] {
            assert_eq!(string(s), yaml, "{s:?}");
        }
    }

    #[test]
    fn nested_sequences_and_scalars_are_inline_where_they_fit() {
        let value = json!({"a": [[1, 2], [], [{"x": true}]], "b": null, "c": -1.5});
        assert_eq!(
            to_yaml(&value),
            "a:\n  - - 1\n    - 2\n  - []\n  - - x: true\nb: null\nc: -1.5\n"
        );
    }

    #[test]
    fn top_level_comments_precede_their_keys() {
        let value = json!({"replicaCount": 2, "image": {"repository": "api"}});
        assert_eq!(
            to_yaml_commented(
                &value,
                &[
                    ("image", "The image.\nPulled if absent."),
                    ("replicaCount", "Pods.")
                ]
            ),
            "# The image.\n# Pulled if absent.\nimage:\n  repository: api\n\n# Pods.\nreplicaCount: 2\n"
        );
    }
}
