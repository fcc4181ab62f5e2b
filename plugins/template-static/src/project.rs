//! Rendering a [`Site`] into the files of a static landing page.
//!
//! The fixed parts live under `templates/` and are compiled into the
//! plugin; this module writes the parts that follow the intent (the
//! navigation, the sections, the contact form's fields, the README's
//! tables), escapes every text from the intent for HTML, and decides the
//! illustration's colours from the title. Everything is derived from the
//! site alone, in a fixed order, so one request always gives
//! byte-identical files.

use qlp_intent_spec::spec::english_list;
use qlp_intent_spec::template::render;
use qlp_intent_spec::{Field, FieldKind, TextFormat};
use qlp_sdk::{File, PluginError};

use crate::site::Site;

/// Where the contact form posts. A static host cannot receive it; the
/// README says to point it at a form handler.
pub const FORM_ACTION: &str = "/contact";

/// Most characters of a text control's value, as every QLP service bounds
/// a text field: enough for a message, and a bound on what a handler must
/// accept.
pub const MAX_TEXT_LENGTH: usize = 2000;

/// Most characters of the `<meta name="description">`; search engines cut
/// longer descriptions.
pub const MAX_META_DESCRIPTION_CHARS: usize = 160;

/// Most characters of the intent quoted in the README.
pub const MAX_QUOTED_INTENT_CHARS: usize = 1000;

/// Colour sets of the illustration (background, sun, hills, front hills),
/// chosen by the title so that different sites look different. Each keeps
/// the shapes distinct from each other.
const PALETTES: &[[&str; 4]] = &[
    ["#e8f0fb", "#f4b942", "#7fa7d9", "#1a56b8"],
    ["#fdf1e6", "#e8743b", "#c9a27e", "#7a4b2a"],
    ["#eaf6ef", "#f2c94c", "#6fbf8e", "#23744a"],
    ["#f3eefa", "#f29e4c", "#a98bd4", "#5b3a91"],
];

mod tmpl {
    //! The template files, compiled into the plugin.

    pub const INDEX_HTML: &str = include_str!("../templates/index.html.tmpl");
    pub const STYLES: &str = include_str!("../templates/css/styles.css.tmpl");
    pub const MAIN_JS: &str = include_str!("../templates/js/main.js.tmpl");
    pub const HERO_SVG: &str = include_str!("../templates/images/hero.svg.tmpl");
    pub const README: &str = include_str!("../templates/README.md.tmpl");
    pub const DOCKERFILE: &str = include_str!("../templates/Dockerfile.tmpl");
    pub const DOCKERIGNORE: &str = include_str!("../templates/dockerignore.tmpl");
    pub const GITIGNORE: &str = include_str!("../templates/gitignore.tmpl");
}

/// Text escaped for HTML content and quoted attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Text on one line, at most `max` characters, with an ellipsis if cut.
fn one_line(text: &str, max: usize) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= max {
        return line;
    }
    let mut cut: String = line.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// The `type` of a field's `<input>`, or `None` for a `<textarea>`.
fn input_type(field: &Field) -> Option<&'static str> {
    match (field.kind, field.text_format()) {
        (FieldKind::Boolean, _) => Some("checkbox"),
        (FieldKind::Integer | FieldKind::Number, _) => Some("number"),
        (_, Some(TextFormat::Long)) => None,
        (_, Some(TextFormat::Email)) => Some("email"),
        (_, Some(TextFormat::Url)) => Some("url"),
        (_, Some(TextFormat::Phone)) => Some("tel"),
        (_, Some(TextFormat::Date)) => Some("date"),
        (_, _) => Some("text"),
    }
}

/// The browser's autofill token for a field, where one fits its name.
fn autocomplete(field: &Field) -> Option<&'static str> {
    match field.name.as_str() {
        "name" | "full_name" | "your_name" => Some("name"),
        "first_name" | "given_name" => Some("given-name"),
        "last_name" | "family_name" | "surname" => Some("family-name"),
        "company" | "organization" | "organisation" | "company_name" => Some("organization"),
        _ => match field.text_format() {
            Some(TextFormat::Email) => Some("email"),
            Some(TextFormat::Phone) => Some("tel"),
            Some(TextFormat::Url) => Some("url"),
            _ => None,
        },
    }
}

/// The HTML id of a field's control: `contact-unit-price`.
pub fn control_id(field: &Field) -> String {
    format!("contact-{}", field.name.replace('_', "-"))
}

fn field_html(field: &Field) -> String {
    let id = control_id(field);
    let name = escape_html(&field.name);
    let problem_id = format!("{id}-problem");
    let required_note = if field.required {
        " <span class=\"required-note\">(required)</span>"
    } else {
        ""
    };
    let label = format!(
        "<label for=\"{id}\">{}{required_note}</label>",
        escape_html(&field.label())
    );
    let mut attributes = format!("id=\"{id}\" name=\"{name}\"");
    let control = match input_type(field) {
        None => {
            attributes.push_str(&format!(" rows=\"5\" maxlength=\"{MAX_TEXT_LENGTH}\""));
            if field.required {
                attributes.push_str(" required");
            }
            format!("<textarea {attributes} aria-describedby=\"{problem_id}\"></textarea>")
        }
        Some(kind) => {
            attributes.push_str(&format!(" type=\"{kind}\""));
            if kind == "checkbox" {
                attributes.push_str(" value=\"yes\"");
            }
            if let Some(token) = autocomplete(field) {
                attributes.push_str(&format!(" autocomplete=\"{token}\""));
            }
            match field.kind {
                FieldKind::Integer => attributes.push_str(" step=\"1\""),
                FieldKind::Number => attributes.push_str(" step=\"any\""),
                _ => {}
            }
            if field.non_negative && matches!(field.kind, FieldKind::Integer | FieldKind::Number) {
                attributes.push_str(" min=\"0\"");
            }
            if field.kind == FieldKind::Text && kind != "date" {
                attributes.push_str(&format!(" maxlength=\"{MAX_TEXT_LENGTH}\""));
            }
            if field.required {
                attributes.push_str(" required");
            }
            format!("<input {attributes} aria-describedby=\"{problem_id}\">")
        }
    };
    let problem = format!("<p id=\"{problem_id}\" class=\"problem\" hidden></p>");
    if field.kind == FieldKind::Boolean {
        format!(
            "          <div class=\"field checkbox\">\n            \
             {control}\n            {label}\n            {problem}\n          \
             </div>\n"
        )
    } else {
        format!(
            "          <div class=\"field\">\n            \
             {label}\n            {control}\n            {problem}\n          \
             </div>\n"
        )
    }
}

fn paragraphs_html(paragraphs: &[String], indent: &str) -> String {
    paragraphs
        .iter()
        .map(|p| format!("{indent}<p>{}</p>\n", escape_html(p)))
        .collect()
}

/// A stable choice among `count` by the text: the same title always gets
/// the same palette.
fn pick(text: &str, count: usize) -> usize {
    // FNV-1a: stable across platforms and releases, unlike std's hasher.
    let mut hash: u32 = 0x811c_9dc5;
    for byte in text.bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash as usize % count
}

fn control_doc(field: &Field) -> String {
    match input_type(field) {
        None => "text area".into(),
        Some("number") if field.kind == FieldKind::Integer => "number input, whole numbers".into(),
        Some(kind) => format!("`{kind}` input"),
    }
}

/// The intent as a Markdown block quote, cut at [`MAX_QUOTED_INTENT_CHARS`].
fn intent_quote(description: &str) -> String {
    let mut text: String = description.chars().take(MAX_QUOTED_INTENT_CHARS).collect();
    if description.chars().count() > MAX_QUOTED_INTENT_CHARS {
        text.push('…');
    }
    text.lines()
        .map(|line| {
            let line = line.trim_end();
            if line.is_empty() {
                ">".to_string()
            } else {
                format!("> {line}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Renders every file of the site.
pub fn render_site(site: &Site) -> Result<Vec<File>, PluginError> {
    let title = escape_html(&site.title);
    let (sections, contact) = site.sections.split_at(site.sections.len() - 1);
    let contact = &contact[0];

    let nav_items: String = site
        .sections
        .iter()
        .map(|s| {
            format!(
                "          <li><a href=\"#{}\">{}</a></li>\n",
                s.id,
                escape_html(&s.heading)
            )
        })
        .collect();
    let sections_html: String = sections
        .iter()
        .map(|s| {
            format!(
                "      <section id=\"{id}\" aria-labelledby=\"{id}-heading\">\n        \
                 <h2 id=\"{id}-heading\">{heading}</h2>\n\
                 {paragraphs}      \
                 </section>\n",
                id = s.id,
                heading = escape_html(&s.heading),
                paragraphs = paragraphs_html(&s.paragraphs, "        "),
            )
        })
        .collect();
    let form_fields: String = site.contact_fields.iter().map(field_html).collect();
    let index = render(
        tmpl::INDEX_HTML,
        &[
            ("title", &title),
            (
                "meta_description",
                &escape_html(&one_line(&site.description, MAX_META_DESCRIPTION_CHARS)),
            ),
            ("nav_items", &nav_items),
            (
                "lead",
                &escape_html(&one_line(&site.description, usize::MAX)),
            ),
            (
                "hero_alt",
                &escape_html(&format!(
                    "An illustration of a sun over rolling hills, the banner of {}",
                    site.title
                )),
            ),
            ("sections", &sections_html),
            (
                "contact_paragraphs",
                &paragraphs_html(&contact.paragraphs, "        "),
            ),
            ("form_action", FORM_ACTION),
            ("form_fields", &form_fields),
        ],
    )?;

    let palette = PALETTES[pick(&site.title, PALETTES.len())];
    let sun_x = (420 + pick(&site.name, 160)).to_string();
    let hero = render(
        tmpl::HERO_SVG,
        &[
            ("background", palette[0]),
            ("sun", palette[1]),
            ("hills", palette[2]),
            ("front", palette[3]),
            ("sun_x", &sun_x),
        ],
    )?;

    Ok(vec![
        File::text("index.html", index),
        File::text("css/styles.css", render(tmpl::STYLES, &[])?),
        File::text("js/main.js", render(tmpl::MAIN_JS, &[])?),
        File::text("images/hero.svg", hero),
        File::text("README.md", readme_md(site)?),
        File::text("Dockerfile", render(tmpl::DOCKERFILE, &[])?),
        File::text(".dockerignore", render(tmpl::DOCKERIGNORE, &[])?),
        File::text(".gitignore", render(tmpl::GITIGNORE, &[])?),
    ])
}

fn readme_md(site: &Site) -> Result<String, PluginError> {
    let mut requirements_section = String::new();
    if !site.requirements.is_empty() {
        requirements_section.push_str("\nWith the requirements:\n\n");
        for requirement in &site.requirements {
            requirements_section.push_str(&format!("- {}\n", one_line(requirement, usize::MAX)));
        }
    }
    let section_list = english_list(
        &site
            .sections
            .iter()
            .map(|s| s.heading.clone())
            .collect::<Vec<_>>(),
    );
    let field_list = english_list(
        &site
            .contact_fields
            .iter()
            .map(|f| f.spaced())
            .collect::<Vec<_>>(),
    );
    let field_rows: String = site
        .contact_fields
        .iter()
        .map(|f| {
            format!(
                "| `{}` | {} | {} |\n",
                f.name,
                control_doc(f),
                if f.required { "yes" } else { "no" }
            )
        })
        .collect();
    render(
        tmpl::README,
        &[
            ("title", &site.title),
            ("name", &site.name),
            ("intent_quote", &intent_quote(&site.description)),
            ("requirements_section", &requirements_section),
            ("section_list", &section_list),
            ("field_list", &field_list),
            ("form_action", FORM_ACTION),
            ("field_rows", &field_rows),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::read_site;
    use qlp_intent_spec::analyze;
    use qlp_sdk::Intent;

    fn files_for(description: &str, requirements: &[&str]) -> Vec<File> {
        let intent = Intent {
            id: "00000000-0000-0000-0000-000000000000".into(),
            description: description.into(),
            requirements: requirements.iter().map(|r| r.to_string()).collect(),
            constraints: vec![],
            tier: "starter".into(),
        };
        render_site(&read_site(&intent, &analyze(&intent).expect("valid"))).expect("renders")
    }

    #[test]
    fn text_from_the_intent_is_escaped() {
        let files = files_for(
            "Landing page for <Tom & Jerry's> \"Diner\" with a menu",
            &["The menu shows <b>prices</b>"],
        );
        let index = files[0].as_text().expect("text");
        assert!(!index.contains("<b>"), "{index}");
        assert!(index.contains("&lt;b&gt;prices&lt;/b&gt;"), "{index}");
        assert!(index.contains("&amp;"), "{index}");
    }

    #[test]
    fn no_template_syntax_survives_and_files_end_with_one_newline() {
        for file in files_for("A static landing page for a bakery with opening hours", &[]) {
            let content = file.as_text().expect("text");
            assert!(
                !content.contains("{{"),
                "{} keeps template syntax",
                file.path
            );
            assert!(
                content.ends_with('\n') && !content.ends_with("\n\n"),
                "{} ends with one newline",
                file.path
            );
        }
    }

    #[test]
    fn controls_follow_the_fields() {
        let files = files_for(
            "Landing page for Acme",
            &[
                "The contact form has a name, an email, a phone, a budget, a message and a newsletter flag",
            ],
        );
        let index = files[0].as_text().expect("text");
        for expected in [
            "<input id=\"contact-name\" name=\"name\" type=\"text\" autocomplete=\"name\"",
            "type=\"email\" autocomplete=\"email\"",
            "type=\"tel\" autocomplete=\"tel\"",
            "type=\"number\" step=\"any\" min=\"0\" required",
            "<textarea id=\"contact-message\"",
            "type=\"checkbox\" value=\"yes\"",
            "<label for=\"contact-email\">Email <span class=\"required-note\">(required)</span></label>",
        ] {
            assert!(index.contains(expected), "{expected} in:\n{index}");
        }
    }
}
