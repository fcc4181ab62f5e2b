//! README pieces every stack agent writes the same way, whatever the
//! language: the quoted intent and its requirements, and, for the service
//! agents (`qlp/template-go`, `qlp/template-node`, `qlp/template-rust`),
//! the endpoint table, a model's field table, the `curl` example and the
//! rows and bullets for JWT authentication and `DATABASE_URL`.
//!
//! Each agent still owns its README template and every sentence that
//! names its language, files or libraries; what is here is text the
//! agents must agree on, because one intent gives the same API in each.

use crate::fields::{Field, FieldKind};
use crate::spec::Database;

/// Most characters of the intent quoted in the README. The quote is for
/// orientation; a longer description would push the usage instructions
/// far down the page.
pub const MAX_QUOTED_INTENT_CHARS: usize = 1000;

/// The endpoint-table row of the token endpoint, for services with JWT auth.
pub const TOKEN_ENDPOINT_ROW: &str = "| POST | `/auth/token` | Exchange `username` and `password` for a bearer token | 200, 400, 401, 503 |\n";

/// The `docker run` flags that pass the JWT settings into the container.
pub const AUTH_DOCKER_ENV: &str = "-e JWT_SECRET -e AUTH_USERNAME -e AUTH_PASSWORD ";

/// The configuration-table rows of the JWT settings.
pub const AUTH_CONFIG_ROWS: &str = "| `JWT_SECRET` | Key that signs and verifies tokens, at least 32 characters (required) | none: the service refuses to start |\n\
     | `JWT_EXPIRES_SECONDS` | Lifetime of an issued token | 3600 |\n\
     | `AUTH_USERNAME`, `AUTH_PASSWORD` | The login `POST /auth/token` accepts | none: the endpoint answers 503 |\n";

/// The intent as a Markdown block quote, cut at [`MAX_QUOTED_INTENT_CHARS`].
pub fn intent_quote(description: &str) -> String {
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

/// "With the requirements:" and a bullet per requirement, each on one
/// line; empty when there are none.
pub fn requirements_section(requirements: &[String]) -> String {
    let mut section = String::new();
    if !requirements.is_empty() {
        section.push_str("\nWith the requirements:\n\n");
        for requirement in requirements {
            section.push_str(&format!("- {}\n", requirement.replace('\n', " ")));
        }
    }
    section
}

/// A field's type in words, for a model's field table.
pub fn kind_doc(field: &Field) -> &'static str {
    match (field.kind, field.non_negative) {
        (FieldKind::Text, _) => "text",
        (FieldKind::Integer, true) => "whole number, 0 or more",
        (FieldKind::Integer, false) => "whole number",
        (FieldKind::Number, true) => "number, 0 or more",
        (FieldKind::Number, false) => "number",
        (FieldKind::Boolean, _) => "true or false",
    }
}

/// The endpoint-table rows of one resource's CRUD routes at `/{plural}`,
/// with the statuses each answers (401 too when `auth`). `singular` and
/// `a_singular` are the words for prose: "invoice", "an invoice".
pub fn endpoint_rows(plural: &str, singular: &str, a_singular: &str, auth: bool) -> String {
    let p = plural;
    let s = singular;
    let unauthorized = if auth { ", 401" } else { "" };
    format!(
        "| GET | `/{p}` | List every {s} | 200{unauthorized} |\n\
         | POST | `/{p}` | Create {a_singular} | 201, 400{unauthorized} |\n\
         | GET | `/{p}/{{id}}` | Get one {s} | 200{unauthorized}, 404 |\n\
         | PUT | `/{p}/{{id}}` | Replace {a_singular} | 200, 400{unauthorized}, 404 |\n\
         | DELETE | `/{p}/{{id}}` | Delete {a_singular} | 204{unauthorized}, 404 |\n"
    )
}

/// The field table of the model `model` served at `/{plural}`, saying
/// whether the intent named its fields, followed by a blank line.
pub fn model_doc<'f>(
    model: &str,
    plural: &str,
    fields_from_intent: bool,
    fields: impl IntoIterator<Item = &'f Field>,
) -> String {
    let origin = if fields_from_intent {
        "fields named by the intent"
    } else {
        "default fields, as the intent names none"
    };
    let mut doc = format!(
        "`{model}` (`/{plural}`, {origin}):\n\n\
         | Field | Type | Required |\n|---|---|---|\n\
         | `id` | whole number, assigned by the server | - |\n"
    );
    for field in fields {
        doc.push_str(&format!(
            "| `{}` | {} | {} |\n",
            field.name,
            kind_doc(field),
            if field.required { "yes" } else { "no" }
        ));
    }
    doc.push('\n');
    doc
}

/// Two `curl` commands, creating one record of `/{first}` from the JSON
/// `body` and listing them, with the bearer token when `auth`.
pub fn curl_example(port: &str, first: &str, auth: bool, body: &str) -> String {
    let auth_header = if auth {
        "-H \"Authorization: Bearer $TOKEN\" "
    } else {
        ""
    };
    format!(
        "curl -X POST localhost:{port}/{first} {auth_header}-H 'Content-Type: application/json' \\\n  \
         -d '{body}'\n\
         curl {auth_header}localhost:{port}/{first}\n"
    )
}

/// The feature bullet of a `DATABASE_URL` storage seam for `database`.
pub fn database_bullet(database: Database) -> String {
    format!(
        "- A storage seam selected by `DATABASE_URL`: in memory by default, {}\n  \
         once a repository for it is implemented.\n",
        database.title()
    )
}

/// The configuration-table row of `DATABASE_URL` for `database`.
pub fn database_config_row(database: Database) -> String {
    format!(
        "| `DATABASE_URL` | Storage: unset, empty or `memory://` for memory, `{}://...` for {} | in memory |\n",
        database.schemes()[0],
        database.title()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_intent_is_quoted_only_in_part() {
        let quote = intent_quote(&"x".repeat(MAX_QUOTED_INTENT_CHARS * 2));
        assert_eq!(quote.chars().count(), 2 + MAX_QUOTED_INTENT_CHARS + 1);
        assert!(quote.ends_with('…'));
        assert_eq!(intent_quote("one\n\ntwo  "), "> one\n>\n> two");
    }

    #[test]
    fn requirements_are_one_bullet_each() {
        assert_eq!(requirements_section(&[]), "");
        assert_eq!(
            requirements_section(&["a\nb".into(), "c".into()]),
            "\nWith the requirements:\n\n- a b\n- c\n"
        );
    }
}
