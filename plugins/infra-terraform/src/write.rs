//! Writing HCL text: quoted strings, aligned attributes, and the
//! `variable` and `output` blocks of [`Variable`] and [`Output`], which
//! also feed `terraform.tfvars.example` and the README's tables.

/// An HCL string literal: quotes, backslashes and control characters
/// escaped, and `${`/`%{` doubled so that text from the intent is never
/// read as an interpolation or a directive.
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `["a", "b"]` of quoted strings.
pub fn string_list<S: AsRef<str>>(items: &[S]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| quote(i.as_ref())).collect();
    format!("[{}]", quoted.join(", "))
}

/// A map of strings written over several lines at `indent`, keys quoted
/// when they are not identifiers; `{}` when empty.
pub fn string_map(pairs: &[(String, String)], indent: usize) -> String {
    if pairs.is_empty() {
        return "{}".to_string();
    }
    let pad = " ".repeat(indent + 2);
    let keys: Vec<String> = pairs
        .iter()
        .map(|(k, _)| {
            let identifier = k.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if identifier { k.clone() } else { quote(k) }
        })
        .collect();
    let width = keys.iter().map(String::len).max().unwrap_or(0);
    let mut out = String::from("{\n");
    for (key, (_, value)) in keys.iter().zip(pairs) {
        out.push_str(&format!("{pad}{key:<width$} = {}\n", quote(value)));
    }
    out.push_str(&" ".repeat(indent));
    out.push('}');
    out
}

/// Attribute lines at `indent` with their `=` aligned, as `terraform fmt`
/// aligns consecutive single-line attributes. A value spanning lines ends
/// the alignment group it is in.
pub fn attributes(indent: usize, pairs: &[(&str, String)]) -> String {
    let pad = " ".repeat(indent);
    let mut out = String::new();
    let mut start = 0;
    while start < pairs.len() {
        let mut end = start;
        while end < pairs.len() && !pairs[end].1.contains('\n') {
            end += 1;
        }
        let group_end = if end == start { start + 1 } else { end };
        let width = pairs[start..group_end]
            .iter()
            .map(|(k, _)| k.len())
            .max()
            .unwrap_or(0);
        for (key, value) in &pairs[start..group_end] {
            out.push_str(&format!("{pad}{key:<width$} = {value}\n"));
        }
        start = group_end;
    }
    out
}

/// One input variable.
#[derive(Clone, Debug)]
pub struct Variable {
    pub name: &'static str,
    pub description: String,
    /// The type constraint, as HCL: `string`, `list(string)`.
    pub ty: &'static str,
    /// The default as HCL; `None` makes the variable required.
    pub default: Option<String>,
    pub sensitive: bool,
    /// (condition, error message) of each `validation` block.
    pub validations: Vec<(String, String)>,
    /// A value to show in `terraform.tfvars.example` instead of the
    /// default (for required variables and `null` defaults).
    pub example: Option<String>,
}

impl Variable {
    pub fn new(name: &'static str, ty: &'static str, description: impl Into<String>) -> Self {
        Self {
            name,
            description: description.into(),
            ty,
            default: None,
            sensitive: false,
            validations: Vec::new(),
            example: None,
        }
    }

    pub fn default(mut self, value: impl Into<String>) -> Self {
        self.default = Some(value.into());
        self
    }

    pub fn validation(mut self, condition: impl Into<String>, message: impl Into<String>) -> Self {
        self.validations.push((condition.into(), message.into()));
        self
    }

    pub fn example(mut self, value: impl Into<String>) -> Self {
        self.example = Some(value.into());
        self
    }

    /// The `variable` block.
    pub fn block(&self) -> String {
        let mut pairs = vec![
            ("description", quote(&self.description)),
            ("type", self.ty.to_string()),
        ];
        if let Some(default) = &self.default {
            pairs.push(("default", default.clone()));
        }
        if self.sensitive {
            pairs.push(("sensitive", "true".to_string()));
        }
        let mut out = format!("variable {} {{\n", quote(self.name));
        out.push_str(&attributes(2, &pairs));
        for (condition, message) in &self.validations {
            out.push_str("\n  validation {\n");
            out.push_str(&attributes(
                4,
                &[
                    ("condition", condition.clone()),
                    ("error_message", quote(message)),
                ],
            ));
            out.push_str("  }\n");
        }
        out.push_str("}\n");
        out
    }

    /// The lines of `terraform.tfvars.example`: the description as a
    /// comment, then the assignment (commented out for a `null` default
    /// without an example).
    pub fn tfvars(&self) -> String {
        let mut out = format!("# {}\n", self.description);
        match (&self.example, &self.default) {
            (Some(example), Some(default)) if default == "null" => {
                out.push_str(&format!("# {} = {example}\n", self.name));
            }
            (Some(example), _) => out.push_str(&format!("{} = {example}\n", self.name)),
            (None, Some(default)) => out.push_str(&format!("{} = {default}\n", self.name)),
            (None, None) => out.push_str(&format!("# {} = (required)\n", self.name)),
        }
        out
    }
}

/// One output value.
#[derive(Clone, Debug)]
pub struct Output {
    pub name: &'static str,
    pub description: String,
    /// The value expression.
    pub value: String,
    pub sensitive: bool,
}

impl Output {
    pub fn new(
        name: &'static str,
        value: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        Self {
            name,
            description: description.into(),
            value: value.into(),
            sensitive: false,
        }
    }

    /// The `output` block.
    pub fn block(&self) -> String {
        let mut pairs = vec![
            ("description", quote(&self.description)),
            ("value", self.value.clone()),
        ];
        if self.sensitive {
            pairs.push(("sensitive", "true".to_string()));
        }
        format!(
            "output {} {{\n{}}}\n",
            quote(self.name),
            attributes(2, &pairs)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intent_text_never_becomes_an_interpolation() {
        assert_eq!(
            quote("a \"b\" ${c} %{d} $e\n"),
            r#""a \"b\" $${c} %%{d} $e\n""#
        );
        assert_eq!(quote("back\\slash"), r#""back\\slash""#);
    }

    #[test]
    fn attributes_are_aligned_per_group() {
        let text = attributes(
            2,
            &[
                ("a", "1".into()),
                ("long_name", "2".into()),
                ("m", "{\n  x = 1\n}".into()),
                ("b", "3".into()),
            ],
        );
        assert_eq!(
            text,
            "  a         = 1\n  long_name = 2\n  m = {\n  x = 1\n}\n  b = 3\n"
        );
    }

    #[test]
    fn maps_quote_keys_that_are_not_identifiers() {
        let map = string_map(
            &[
                ("team".into(), "x".into()),
                ("cost:center".into(), "42".into()),
            ],
            0,
        );
        assert_eq!(
            map,
            "{\n  team          = \"x\"\n  \"cost:center\" = \"42\"\n}"
        );
    }
}
