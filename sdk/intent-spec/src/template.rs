//! A minimal template engine for the agents' `templates/` files: every
//! `{{name}}` is replaced by the value given for `name`, in one pass, so a
//! value that itself contains `{{` (say, from the intent's text) is copied
//! as it is and never expanded.
//!
//! A placeholder without a value, or an unterminated one, is an error rather
//! than being left in the output: a generated file must never carry
//! template syntax.

use qlp_sdk::PluginError;

const OPEN: &str = "{{";
const CLOSE: &str = "}}";

/// Renders `template`, replacing each `{{name}}` by its value in `values`.
pub fn render(template: &str, values: &[(&str, &str)]) -> Result<String, PluginError> {
    let mut output = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find(OPEN) {
        output.push_str(&rest[..start]);
        let after_open = &rest[start + OPEN.len()..];
        let Some(end) = after_open.find(CLOSE) else {
            return Err(template_error("an unterminated `{{` placeholder"));
        };
        let name = &after_open[..end];
        let Some((_, value)) = values.iter().find(|(key, _)| *key == name) else {
            return Err(template_error(&format!(
                "no value for the placeholder `{name}`"
            )));
        };
        output.push_str(value);
        rest = &after_open[end + CLOSE.len()..];
    }
    output.push_str(rest);
    Ok(output)
}

/// Borrows owned placeholder values as the pairs [`render`] takes.
pub fn as_pairs<'v>(values: &'v [(&'static str, String)]) -> Vec<(&'static str, &'v str)> {
    values.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

fn template_error(detail: &str) -> PluginError {
    PluginError::new(
        "TEMPLATE_ERROR",
        format!("internal template error: {detail}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_replaced_once() {
        let rendered = render(
            "class {{model}}({{base}}):",
            &[("model", "Invoice"), ("base", "{{base}}")],
        )
        .expect("all values given");
        assert_eq!(rendered, "class Invoice({{base}}):");
    }

    #[test]
    fn single_braces_of_python_f_strings_are_kept() {
        let rendered = render(
            "f\"{{model}} {item_id} not found\"",
            &[("model", "Invoice")],
        )
        .expect("valid");
        assert_eq!(rendered, "f\"Invoice {item_id} not found\"");
    }

    #[test]
    fn a_missing_value_is_an_error() {
        let error = render("{{model}} {{other}}", &[("model", "Invoice")]).expect_err("missing");
        assert_eq!(error.code, "TEMPLATE_ERROR");
        assert!(error.message.contains("other"));
        assert_eq!(
            render("{{model", &[]).expect_err("unterminated").code,
            "TEMPLATE_ERROR"
        );
    }
}
