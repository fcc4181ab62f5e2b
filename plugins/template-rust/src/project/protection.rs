//! The parts of the project that protect the sensitive data it keeps, from
//! a [`Protection`] (see `qlp_intent_spec::protection`): `src/crypto.rs`
//! (AES-256-GCM with the `aes-gcm` crate, card numbers answered masked),
//! `src/audit.rs` (one JSON line per change), `src/retention.rs` (records
//! older than `RECORD_RETENTION_DAYS` are purged), the routes of a
//! protected resource (`templates/src/routes/protected.rs.tmpl`), the
//! settings, the README section and `tests/api/data_protection.rs`.
//!
//! Nothing here is used when [`Protection::any`] is false: the project is
//! then byte for byte what it is without this module.

use qlp_intent_spec::protection::{KEY_VARIABLE, Protection, RETENTION_VARIABLE};
use qlp_intent_spec::spec::english_list;
use qlp_intent_spec::template::{as_pairs, render};
use qlp_intent_spec::{Field, FieldKind, IntentSpec, words};
use qlp_sdk::PluginError;

use super::{
    RUSTFMT_CHAIN_WIDTH, RUSTFMT_MAX_WIDTH, RustResource, example_object, rust_ident, rust_string,
    tmpl,
};

/// rustfmt's default width of a call's arguments kept on one line.
const RUSTFMT_CALL_WIDTH: usize = 60;

/// A field encryption key for the generated tests only: the bytes 0 to 31
/// in base64. The service reads its own from `FIELD_ENCRYPTION_KEY`.
const TEST_FIELD_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// The card number the generated tests and examples send: a test number
/// of the card schemes, never a real card.
pub(super) const EXAMPLE_CARD_NUMBER: &str = "4111111111111111";

/// The card number of a replacing request in the generated tests.
pub(super) const CHANGED_CARD_NUMBER: &str = "5555555555554444";

/// Type names the protected project's modules define; a model must not
/// shadow one when they are generated.
pub(super) const RESERVED_TYPE_NAMES: &[&str] =
    &["Actor", "AuditLog", "Dated", "DecryptError", "FieldKey"];

/// Whether a field holds a card number, which the API answers masked
/// (PCI DSS 3.4.1): its name has `card` and `number`, or `pan`.
pub(super) fn is_card_number(name: &str) -> bool {
    let parts: Vec<&str> = name.split('_').collect();
    (parts.contains(&"card") && parts.contains(&"number")) || parts.contains(&"pan")
}

/// Whether the resource's routes go through the protected template.
pub(super) fn resource_is_protected(protection: &Protection, plural: &str) -> bool {
    protection.audit || protection.retention_days.is_some() || protection.encrypts_any(plural)
}

/// Whether the service encrypts, audits or expires anything (a dropped
/// field alone changes only the spec).
pub(super) fn has_measures(protection: &Protection) -> bool {
    !protection.encrypted.is_empty() || protection.audit || protection.retention_days.is_some()
}

/// The `[dependencies]` the project adds to axum, serde and tokio.
pub(super) fn extra_dependencies(auth: bool, protection: &Protection) -> String {
    let encrypts = !protection.encrypted.is_empty();
    let mut lines = String::new();
    if encrypts {
        lines.push_str("aes-gcm = \"0.10\"\n");
    }
    if auth || encrypts {
        lines.push_str("base64 = \"0.22\"\n");
    }
    if auth {
        lines.push_str("hmac = \"0.12\"\nsha2 = \"0.10\"\n");
    }
    lines
}

/// The files only a protected project has, in `src/`.
pub(super) fn source_files(
    spec: &IntentSpec,
    protection: &Protection,
) -> Result<Vec<(String, String)>, PluginError> {
    let mut files = Vec::new();
    if protection.audit {
        files.push(("src/audit.rs".to_string(), audit_rs(spec.auth)?));
    }
    if !protection.encrypted.is_empty() {
        files.push(("src/crypto.rs".to_string(), render(tmpl::CRYPTO, &[])?));
    }
    if protection.retention_days.is_some() {
        files.push((
            "src/retention.rs".to_string(),
            render(tmpl::RETENTION, &[])?,
        ));
    }
    Ok(files)
}

fn audit_rs(auth: bool) -> Result<String, PluginError> {
    let (actor_doc, http_import, auth_import, extraction) = if auth {
        (
            "the subject of the request's bearer token",
            "{header, StatusCode}",
            "use crate::auth::verify_token;\n",
            "    /// The actor of the request; never rejects.\n    \
             async fn from_request_parts(\n        \
             parts: &mut Parts,\n        \
             state: &AppState,\n    \
             ) -> Result<Self, Self::Rejection> {\n        \
             // `require_user` has checked the token; its subject acts.\n        \
             let subject = parts\n            \
             .headers\n            \
             .get(header::AUTHORIZATION)\n            \
             .and_then(|value| value.to_str().ok())\n            \
             .and_then(|value| value.split_once(' '))\n            \
             .filter(|(scheme, _)| scheme.eq_ignore_ascii_case(\"bearer\"))\n            \
             .and_then(|(_, token)| {\n                \
             verify_token(token.trim(), &state.config.jwt_secret, now_seconds())\n            \
             })\n            \
             .map(|claims| claims.sub);\n        \
             Ok(Self(subject.unwrap_or_else(|| ANONYMOUS_ACTOR.into())))\n    \
             }\n",
        )
    } else {
        (
            "`anonymous`: the service has no authentication",
            "StatusCode",
            "",
            "    /// The actor of the request; never rejects.\n    \
             async fn from_request_parts(\n        \
             _parts: &mut Parts,\n        \
             _state: &AppState,\n    \
             ) -> Result<Self, Self::Rejection> {\n        \
             Ok(Self(ANONYMOUS_ACTOR.into()))\n    \
             }\n",
        )
    };
    render(
        tmpl::AUDIT,
        &[
            ("actor_doc", actor_doc),
            ("http_import", http_import),
            ("auth_import", auth_import),
            ("actor_extraction", extraction),
        ],
    )
}

/// The `lib.rs` values: modules, the audit log in the state, `now_seconds`.
pub(super) fn lib_values(auth: bool, protection: &Protection) -> Vec<(&'static str, String)> {
    let audit = protection.audit;
    let encrypts = !protection.encrypted.is_empty();
    let retention = protection.retention_days.is_some();
    let mut before_config = String::new();
    if audit {
        before_config.push_str("pub mod audit;\n");
    }
    if auth {
        before_config.push_str("pub mod auth;\n");
    }
    let pick = |on: bool, text: &str| if on { text.to_string() } else { String::new() };
    let now_fn = pick(
        audit || retention,
        "\n/// Seconds since the Unix epoch: when a record is created, when a change\n\
         /// is audited.\n\
         pub fn now_seconds() -> u64 {\n    \
         std::time::SystemTime::now()\n        \
         .duration_since(std::time::UNIX_EPOCH)\n        \
         .map(|elapsed| elapsed.as_secs())\n        \
         .unwrap_or_default()\n\
         }\n",
    );
    vec![
        ("mods_before_config", before_config),
        ("mods_before_error", pick(encrypts, "pub mod crypto;\n")),
        (
            "mods_before_routes",
            pick(retention, "pub mod retention;\n"),
        ),
        ("audit_use", pick(audit, "use crate::audit::AuditLog;\n")),
        (
            "state_doc",
            if audit {
                "the configuration, the repositories and the audit trail".into()
            } else {
                "the configuration and the repositories".into()
            },
        ),
        ("state_fields", pick(audit, "    pub audit: AuditLog,\n")),
        (
            "state_values",
            pick(audit, "            audit: AuditLog::stdout(),\n"),
        ),
        ("now_fn", now_fn),
    ]
}

/// Settings of `config.rs`, each added to the part of the file it belongs
/// to.
#[derive(Default)]
pub(super) struct ConfigParts {
    pub doc: String,
    pub imports: String,
    pub constants: String,
    pub fields: String,
    pub values: String,
    /// Functions after `Config::from_env`, each reading one setting.
    pub functions: String,
}

pub(super) fn config_parts(protection: &Protection) -> ConfigParts {
    let mut parts = ConfigParts::default();
    if !protection.encrypted.is_empty() {
        parts.doc.push_str(&format!(
            "//! - `{KEY_VARIABLE}`: the key that encrypts sensitive fields at rest,\n\
             //!   32 random bytes in base64 (`openssl rand -base64 32`); required.\n"
        ));
        parts
            .imports
            .push_str("\nuse crate::crypto::{FieldKey, KEY_VARIABLE};\n");
        parts.fields.push_str("    pub field_key: FieldKey,\n");
        parts
            .values
            .push_str("            field_key: field_key_from(var(KEY_VARIABLE))?,\n");
        parts.functions.push_str(
            "\n/// Reads the field encryption key: 32 bytes in base64, required.\n\
             fn field_key_from(raw: Option<String>) -> Result<FieldKey, ConfigError> {\n    \
             raw.ok_or_else(|| \"must be set\".to_string())\n        \
             .and_then(|raw| FieldKey::from_base64(&raw))\n        \
             .map_err(|problem| {\n            \
             ConfigError(format!(\n                \
             \"{KEY_VARIABLE} {problem}: give 32 random bytes in base64 \\\n                 \
             (openssl rand -base64 32)\"\n            \
             ))\n        \
             })\n\
             }\n",
        );
    }
    if let Some(days) = protection.retention_days {
        parts.doc.push_str(&format!(
            "//! - `{RETENTION_VARIABLE}`: how many days a record is kept before it\n\
             //!   is deleted, [`DEFAULT_RECORD_RETENTION_DAYS`] by default.\n"
        ));
        parts.constants.push_str(&format!(
            "\n/// How long a record is kept when `{RETENTION_VARIABLE}` is unset, in\n\
             /// days: personal, health and card data must not be kept longer than\n\
             /// the purpose needs.\n\
             pub const DEFAULT_RECORD_RETENTION_DAYS: u32 = {days};\n"
        ));
        parts
            .fields
            .push_str("    pub record_retention_days: u32,\n");
        parts.values.push_str(&format!(
            "            record_retention_days: record_retention_days_from(var(\"{RETENTION_VARIABLE}\"))?,\n"
        ));
        parts.functions.push_str(&format!(
            "\n/// Reads `{RETENTION_VARIABLE}`: [`DEFAULT_RECORD_RETENTION_DAYS`] when\n\
             /// it is unset, else a positive number of days.\n\
             fn record_retention_days_from(raw: Option<String>) -> Result<u32, ConfigError> {{\n    \
             match raw {{\n        \
             None => Ok(DEFAULT_RECORD_RETENTION_DAYS),\n        \
             Some(raw) => raw\n            \
             .parse::<u32>()\n            \
             .ok()\n            \
             .filter(|&days| days > 0)\n            \
             .ok_or_else(|| {{\n                \
             ConfigError(format!(\n                    \
             \"{RETENTION_VARIABLE} must be a positive number of days, not {{raw:?}}\"\n                \
             ))\n            \
             }}),\n    \
             }}\n\
             }}\n"
        ));
    }
    parts
}

/// What a generated test sends for a field: a test card number for card
/// numbers, else the spec's example.
pub(super) fn example_value(field: &Field, changed: bool) -> Option<String> {
    if field.kind != FieldKind::Text || !is_card_number(&field.name) {
        return None;
    }
    let number = if changed {
        CHANGED_CARD_NUMBER
    } else {
        EXAMPLE_CARD_NUMBER
    };
    Some(rust_string(number))
}

/// The record structs of a protected resource: the stored one (encrypted
/// values; with its creation time when records expire) and the one the
/// API answers with, when they differ.
pub(super) fn record_structs(
    resource: &RustResource<'_>,
    retention: bool,
    answer_fields: &str,
    stored_fields: &str,
) -> String {
    let model = &resource.model;
    let singular = &resource.singular_words;
    let created = if retention {
        "    pub created_at: u64,\n"
    } else {
        ""
    };
    if resource.encrypted.is_empty() {
        return format!(
            "\n/// One {singular} as the API stores and returns it{}.\n\
             #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]\n\
             pub struct {model} {{\n{answer_fields}{created}}}\n",
            if retention {
                ", with its creation time\n/// (seconds since the Unix epoch)"
            } else {
                ""
            }
        );
    }
    let encrypted: Vec<String> = resource
        .encrypted
        .iter()
        .map(|f| format!("`{f}`"))
        .collect();
    let masked = if resource.masked.is_empty() {
        String::new()
    } else {
        "; card numbers masked to their\n/// last four digits".into()
    };
    format!(
        "\n/// One {singular} as the repository keeps it: {} encrypted (AES-256-GCM,\n\
         /// see `crypto.rs`), never in clear text.\n\
         #[derive(Debug, Clone, PartialEq)]\n\
         pub struct {stored} {{\n{created}{stored_fields}    pub id: u64,\n}}\n\
         \n\
         /// One {singular} as the API returns it: decrypted{masked}.\n\
         #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]\n\
         pub struct {model} {{\n{answer_fields}{created}}}\n",
        english_list(&encrypted),
        stored = resource.stored,
        // The id after the values, so that the two structs do not repeat
        // one run of field lines.
        stored_fields = stored_fields
            .strip_prefix("    pub id: u64,\n")
            .unwrap_or(stored_fields),
    )
}

/// `into_record` of a protected resource's input: encrypts, and stamps the
/// creation time when records expire.
pub(super) fn into_record_fn(resource: &RustResource<'_>, retention: bool) -> String {
    let mut params = String::from("id: u64");
    let mut doc = String::from("The record of these values under `id`");
    let mut moves = String::from("            id,\n");
    if retention {
        params.push_str(", created_at: u64");
        doc.push_str(", created at `created_at`");
    }
    if !resource.encrypted.is_empty() {
        params.push_str(", key: &FieldKey");
        doc.push_str(",\n    /// its sensitive fields encrypted under `key`");
    }
    for field in resource.fields() {
        let ident = rust_ident(&field.name);
        let value = match (resource.encrypts(&field.name), field.required) {
            (false, _) => format!("self.{ident}"),
            (true, true) => format!("encrypt(key, &self.{ident})"),
            (true, false) => format!("self.{ident}.map(|value| encrypt(key, &value))"),
        };
        moves.push_str(&format!("            {ident}: {value},\n"));
    }
    if retention {
        moves.push_str("            created_at,\n");
    }
    let stored = &resource.stored;
    let signature = format!("    pub fn into_record(self, {params}) -> {stored} {{");
    let signature = if signature.len() <= RUSTFMT_MAX_WIDTH {
        signature
    } else {
        let lines: String = params
            .split(", ")
            .map(|p| format!("        {p},\n"))
            .collect();
        format!("    pub fn into_record(\n        self,\n{lines}    ) -> {stored} {{")
    };
    format!(
        "\n    /// {doc}.\n\
         {signature}\n        \
         {stored} {{\n{moves}        }}\n    \
         }}\n"
    )
}

/// `to_answer` of a stored record with encrypted fields, and `Dated` when
/// records expire.
pub(super) fn record_impls(resource: &RustResource<'_>, retention: bool) -> String {
    let stored = &resource.stored;
    let mut out = String::new();
    if !resource.encrypted.is_empty() {
        let mut moves = String::from("            id: self.id,\n");
        for field in resource.fields() {
            let ident = rust_ident(&field.name);
            let masked = resource.masked.contains(&field.name);
            let value = match (resource.encrypts(&field.name), field.required, masked) {
                (true, true, false) => format!("decrypt(key, &self.{ident})?"),
                (true, true, true) => format!("mask_card_number(&decrypt(key, &self.{ident})?)"),
                (true, false, false) => format!("decrypt_optional(key, self.{ident}.as_deref())?"),
                (true, false, true) => format!(
                    "decrypt_optional(key, self.{ident}.as_deref())?\n                \
                     .map(|number| mask_card_number(&number))"
                ),
                (false, ..) if field.kind == FieldKind::Text => format!("self.{ident}.clone()"),
                (false, ..) => format!("self.{ident}"),
            };
            moves.push_str(&format!("            {ident}: {value},\n"));
        }
        if retention {
            moves.push_str("            created_at: self.created_at,\n");
        }
        let masked = if resource.masked.is_empty() {
            ""
        } else {
            "; card numbers masked"
        };
        out.push_str(&format!(
            "\nimpl {stored} {{\n    \
             /// The record as the API returns it: decrypted with `key`{masked}.\n    \
             /// Fails if a value does not decrypt with it.\n    \
             pub fn to_answer(&self, key: &FieldKey) -> Result<{model}, DecryptError> {{\n        \
             Ok({model} {{\n{moves}        }})\n    \
             }}\n\
             }}\n",
            model = resource.model,
        ));
    }
    if retention {
        out.push_str(&format!(
            "\nimpl Dated for {stored} {{\n    \
             /// The record's id.\n    \
             fn id(&self) -> u64 {{\n        \
             self.id\n    \
             }}\n\
             \n    \
             /// When the record was created, in seconds since the Unix epoch.\n    \
             fn created_at(&self) -> u64 {{\n        \
             self.created_at\n    \
             }}\n\
             }}\n"
        ));
    }
    out
}

/// The `use` lines `models.rs` adds for the protected resources.
pub(super) fn model_imports(resources: &[RustResource<'_>], retention: bool) -> (String, String) {
    let fields = || {
        resources
            .iter()
            .flat_map(|r| r.fields().iter().map(move |f| (r, f)))
            .filter(|(r, f)| r.encrypts(&f.name))
    };
    let mut crypto: Vec<&str> = Vec::new();
    if fields().any(|(_, f)| f.required) {
        crypto.push("decrypt");
    }
    if fields().any(|(_, f)| !f.required) {
        crypto.push("decrypt_optional");
    }
    if fields().next().is_some() {
        crypto.push("encrypt");
    }
    if fields().any(|(r, f)| r.masked.contains(&f.name)) {
        crypto.push("mask_card_number");
    }
    let crypto_line = if crypto.is_empty() {
        String::new()
    } else {
        crypto.extend(["DecryptError", "FieldKey"]);
        format!("use crate::crypto::{{{}}};\n", crypto.join(", "))
    };
    let retention_line = if retention {
        "use crate::retention::Dated;\n".to_string()
    } else {
        String::new()
    };
    (crypto_line, retention_line)
}

/// The routes of a protected resource.
pub(super) fn routes_rs(
    resource: &RustResource<'_>,
    protection: &Protection,
    mut values: Vec<(&'static str, String)>,
) -> Result<String, PluginError> {
    let audit = protection.audit;
    let retention = protection.retention_days.is_some();
    let encrypts = !resource.encrypted.is_empty();
    let model = &resource.model;
    let plural = resource.plural();

    let pick = |on: bool, text: String| if on { text } else { String::new() };
    let audit_call =
        |action: &str| audit_line("    ", &format!("&actor, \"{action}\", \"{plural}\", id"));
    let mut context = String::new();
    let mut create_args = String::from("id");
    let mut replace_args = String::from("existing.id");
    if retention {
        context.push_str("    let now = now_seconds();\n");
        create_args.push_str(", now");
        replace_args.push_str(", existing.created_at");
    }
    if encrypts {
        context.push_str("    let key = &state.config.field_key;\n");
        create_args.push_str(", key");
        replace_args.push_str(", &state.config.field_key");
    }
    // The answer of `list`, as rustfmt lays the chain out.
    let chain = format!("answers.collect::<Result<Vec<{model}>, ApiError>>().map(Json)");
    let list_answer = if chain.len() <= RUSTFMT_CHAIN_WIDTH {
        chain
    } else {
        format!(
            "answers\n        \
             .collect::<Result<Vec<{model}>, ApiError>>()\n        \
             .map(Json)"
        )
    };
    values.extend([
        ("list_answer", list_answer),
        ("protection_doc", routes_doc(resource, protection)),
        ("crate_imports", routes_imports(resource, protection)),
        (
            "purge",
            pick(retention, "    purge_expired(&state);\n".into()),
        ),
        ("actor_param", pick(audit, "    actor: Actor,\n".into())),
        (
            "audit_create",
            pick(
                audit,
                format!(
                    "    let id = result.as_ref().ok().map(|record| record.id);\n    \
                     let status = status_of(&result, StatusCode::CREATED);\n{}",
                    audit_call("create")
                ),
            ),
        ),
        (
            "audit_replace",
            pick(
                audit,
                format!(
                    "    let status = status_of(&result, StatusCode::OK);\n{}",
                    audit_call("replace")
                ),
            ),
        ),
        (
            "audit_remove",
            pick(
                audit,
                format!(
                    "    let status = status_of(&result, StatusCode::NO_CONTENT);\n{}",
                    audit_call("delete")
                ),
            ),
        ),
        ("record_context", context),
        ("create_args", create_args),
        ("replace_args", replace_args),
        ("replace_signature", replace_signature(model)),
        ("answer_fn", answer_fn(resource)),
        ("purge_fn", purge_fn(resource, retention, audit)),
    ]);
    render(tmpl::PROTECTED_ROUTES, &as_pairs(&values))
}

/// The module documentation's lines on what the routes protect.
fn routes_doc(resource: &RustResource<'_>, protection: &Protection) -> String {
    let audit = protection.audit;
    let retention = protection.retention_days.is_some();
    let encrypts = !resource.encrypted.is_empty();
    let mut doc = Vec::new();
    if encrypts {
        let fields: Vec<String> = resource
            .encrypted
            .iter()
            .map(|f| format!("`{f}`"))
            .collect();
        let masked = if resource.masked.is_empty() {
            ""
        } else {
            " (card numbers masked)"
        };
        doc.push(format!(
            "//! {} stored encrypted and answered decrypted{masked}.\n",
            english_list(&fields)
        ));
    }
    if audit {
        doc.push(
            "//! Every create, replace and delete writes an audit entry (`audit.rs`).\n".into(),
        );
    }
    if retention {
        doc.push(
            "//! Records older than the retention are purged before each request\n\
             //! (`retention.rs`).\n"
                .into(),
        );
    }

    doc.concat()
}

/// The `use crate::…` lines of a protected resource's routes.
fn routes_imports(resource: &RustResource<'_>, protection: &Protection) -> String {
    let audit = protection.audit;
    let retention = protection.retention_days.is_some();
    let encrypts = !resource.encrypted.is_empty();
    let model = &resource.model;
    let stored = &resource.stored;
    let mut imports = String::new();
    if audit {
        imports.push_str("use crate::audit::{audit, status_of, Actor};\n");
    }
    imports.push_str("use crate::error::ApiError;\n");
    let models = if encrypts {
        format!("{{{model}, {model}Input, {stored}}}")
    } else {
        resource.model_import()
    };
    imports.push_str(&format!("use crate::models::{models};\n"));
    if retention {
        imports.push_str("use crate::retention;\n");
    }
    imports.push_str("use crate::validation::parse_object;\n");
    imports.push_str(if retention {
        "use crate::{find_record, now_seconds, parse_id, remove_record, store_replacement, AppState};\n"
    } else {
        "use crate::{find_record, parse_id, remove_record, store_replacement, AppState};\n"
    });

    imports
}

/// The signature of `replace_record`, on one line if it fits.
fn replace_signature(model: &str) -> String {
    let signature = format!(
        "fn replace_record(state: &AppState, id: Option<u64>, body: &Bytes) -> Result<{model}, ApiError> {{"
    );
    if signature.len() <= RUSTFMT_MAX_WIDTH {
        signature
    } else {
        format!(
            "fn replace_record(\n    \
             state: &AppState,\n    \
             id: Option<u64>,\n    \
             body: &Bytes,\n\
             ) -> Result<{model}, ApiError> {{"
        )
    }
}

/// `answer`: the record as the API answers it.
fn answer_fn(resource: &RustResource<'_>) -> String {
    let (model, stored) = (&resource.model, &resource.stored);
    if !resource.encrypted.is_empty() {
        format!(
            "\n/// The record as the API answers it: decrypted{}.\n\
             fn answer(state: &AppState, record: &{stored}) -> Result<{model}, ApiError> {{\n    \
             Ok(record.to_answer(&state.config.field_key)?)\n\
             }}\n",
            if resource.masked.is_empty() {
                ""
            } else {
                ", card numbers masked"
            }
        )
    } else {
        format!(
            "\n/// The record as the API answers it: as stored.\n\
             fn answer(_state: &AppState, record: &{model}) -> Result<{model}, ApiError> {{\n    \
             Ok(record.clone())\n\
             }}\n"
        )
    }
}

/// `purge_expired` of a resource's routes, when records expire.
fn purge_fn(resource: &RustResource<'_>, retention: bool, audit: bool) -> String {
    let plural = resource.plural();
    if retention {
        let audit_purged = if audit {
            format!(
                "    for id in purged {{\n        \
                 let (actor, status) = (Actor::system(), StatusCode::NO_CONTENT);\n{}    \
                 }}\n",
                audit_line(
                    "        ",
                    &format!("&actor, \"purge\", \"{plural}\", Some(id)")
                )
            )
        } else {
            String::new()
        };
        let purge = if audit {
            "    let purged = retention::purge_expired(store, days, now_seconds());\n"
        } else {
            "    retention::purge_expired(store, days, now_seconds());\n"
        };
        format!(
            "\n/// Deletes the {} older than the retention (`{RETENTION_VARIABLE}`).\n\
             fn purge_expired(state: &AppState) {{\n    \
             let store = state.stores.{}.as_ref();\n    \
             let days = state.config.record_retention_days;\n\
             {purge}{audit_purged}}}\n",
            words::spaced(plural),
            resource.module,
        )
    } else {
        String::new()
    }
}

/// A call of `audit(&state.audit, {args}, status);` at `indent`, on one
/// line or one argument a line, as rustfmt lays it out.
fn audit_line(indent: &str, args: &str) -> String {
    let args = format!("&state.audit, {args}, status");
    let line = format!("{indent}audit({args});");
    if args.len() <= RUSTFMT_CALL_WIDTH && line.len() <= RUSTFMT_MAX_WIDTH {
        return format!("{line}\n");
    }
    let lines: String = args
        .split(", ")
        .map(|arg| format!("{indent}    {arg},\n"))
        .collect();
    format!("{indent}audit(\n{lines}{indent});\n")
}

/// `common.rs` with the test key: its constant, and the configuration
/// that sets it.
pub(super) fn common_test_values(
    auth_config_body: &str,
    auth: bool,
    encrypts: bool,
) -> (String, String) {
    if !encrypts {
        return (String::new(), auth_config_body.to_string());
    }
    let constant = format!(
        "\n/// The field encryption key the tests configure (32 bytes in base64);\n\
         /// the service reads its own from the environment.\n\
         pub const TEST_FIELD_KEY: &str = \"{TEST_FIELD_KEY}\";\n"
    );
    let body = if auth {
        auth_config_body.replace(
            "            _ => return None,\n",
            &format!(
                "            \"{KEY_VARIABLE}\" => TEST_FIELD_KEY,\n            _ => return None,\n"
            ),
        )
    } else {
        format!(
            "    Config::from_env(|name| (name == \"{KEY_VARIABLE}\").then(|| TEST_FIELD_KEY.to_string()))\n        \
             .expect(\"the test configuration is valid\")\n"
        )
    };
    (constant, body)
}

/// What `tests/api/config.rs` adds: settings every valid configuration
/// needs, and malformed values it must refuse.
pub(super) fn config_test_additions(
    protection: &Protection,
) -> (Vec<String>, Vec<(&'static str, &'static str)>) {
    let mut required = Vec::new();
    let mut refusals = Vec::new();
    if !protection.encrypted.is_empty() {
        required.push(format!(
            "(\"{KEY_VARIABLE}\", crate::common::TEST_FIELD_KEY)"
        ));
        refusals.extend([
            (KEY_VARIABLE, ""),
            (KEY_VARIABLE, "not base64!"),
            // Base64 of 16 bytes: an AES-128 key, too short.
            (KEY_VARIABLE, "AAECAwQFBgcICQoLDA0ODw=="),
        ]);
    }
    if protection.retention_days.is_some() {
        refusals.extend([(RETENTION_VARIABLE, "0"), (RETENTION_VARIABLE, "forever")]);
    }
    (required, refusals)
}

/// `assert_holds` of a resource's tests: card numbers are answered
/// masked.
pub(super) fn assert_holds(resource: &RustResource<'_>) -> String {
    if resource.masked.is_empty() {
        return "/// Asserts that `record` holds every field of `body`.\n\
                fn assert_holds(record: &Value, body: &Value) {\n    \
                for (name, value) in body.as_object().expect(\"an object\") {\n        \
                assert_eq!(&record[name], value, \"{name} in {record}\");\n    \
                }\n\
                }\n"
        .to_string();
    }
    let masked: Vec<String> = resource.masked.iter().map(|f| rust_string(f)).collect();
    format!(
        "/// The fields the API answers masked to their last four digits.\n\
         const MASKED: &[&str] = &[{}];\n\
         \n\
         /// Asserts that `record` holds every field of `body`, card numbers\n\
         /// masked.\n\
         fn assert_holds(record: &Value, body: &Value) {{\n    \
         for (name, value) in body.as_object().expect(\"an object\") {{\n        \
         let expected = match value.as_str() {{\n            \
         Some(text) if MASKED.contains(&name.as_str()) => json!(mask_card_number(text)),\n            \
         _ => value.clone(),\n        \
         }};\n        \
         assert_eq!(record[name], expected, \"{{name}} in {{record}}\");\n    \
         }}\n\
         }}\n",
        masked.join(", ")
    )
}

/// `tests/api/data_protection.rs`: the stored values are ciphertext and
/// the answers decrypted (masked for card numbers), a missing or malformed
/// key is refused, every change is audited, expired records are purged.
pub(super) fn data_protection_test(
    spec: &IntentSpec,
    resources: &[RustResource<'_>],
    protection: &Protection,
    crate_name: &str,
) -> String {
    let mut uses = vec![
        "use axum::http::{Method, StatusCode};".to_string(),
        "use serde_json::Value;".to_string(),
        String::new(),
    ];
    let mut common = vec!["call", "test_config"];
    let mut tests = String::new();
    let mut crate_uses: Vec<String> = vec![
        format!("use {crate_name}::storage::Stores;"),
        format!("use {crate_name}::{{app, AppState}};"),
    ];
    if let Some(resource) = resources.iter().find(|r| !r.encrypted.is_empty()) {
        crate_uses.push(format!(
            "use {crate_name}::crypto::{{decrypt, encrypt, FieldKey}};"
        ));
        crate_uses.push(format!("use {crate_name}::config::Config;"));
        if spec.auth {
            common.push("TEST_SECRET");
        }
        tests.push_str(&encryption_tests(resource, spec.auth));
    }
    let first = &resources[0];
    if protection.audit {
        crate_uses.push(format!("use {crate_name}::audit::{{rfc3339, AuditLog}};"));
        if spec.auth {
            common.push("TEST_USERNAME");
        }
        tests.push_str(&audit_test(first, spec.auth));
    }
    if let Some(days) = protection.retention_days {
        crate_uses.push(format!(
            "use {crate_name}::config::DEFAULT_RECORD_RETENTION_DAYS;"
        ));
        crate_uses.push(format!(
            "use {crate_name}::retention::{{expired, SECONDS_PER_DAY}};"
        ));
        tests.push_str(&retention_tests(first, protection.audit, days));
    }
    common.sort_by_key(|name| (name.starts_with(char::is_uppercase), *name));
    uses.push(format!("use crate::common::{{{}}};", common.join(", ")));
    crate_uses.sort();
    crate_uses.dedup();
    uses.extend(crate_uses);
    format!(
        "//! Data protection: what the service does to the sensitive data it keeps\n\
         //! (see the README's \"Data protection\").\n\
         \n\
         {}\n{tests}",
        uses.join("\n")
    )
}

/// The JSON of a valid body, as `serde_json::json!` takes it.
fn body_of(resource: &RustResource<'_>) -> String {
    format!("serde_json::json!({})", example_object(resource, false))
}

fn encryption_tests(resource: &RustResource<'_>, auth: bool) -> String {
    let plural = resource.plural();
    let mut checks = String::new();
    for field in resource.fields() {
        if !resource.encrypts(&field.name) {
            continue;
        }
        let ident = rust_ident(&field.name);
        let plain = if resource.masked.contains(&field.name) {
            EXAMPLE_CARD_NUMBER.to_string()
        } else {
            format!("example {}", field.spaced())
        };
        let stored = if field.required {
            format!("&stored.{ident}")
        } else {
            format!("stored.{ident}.as_deref().expect(\"stored\")")
        };
        let answered = if resource.masked.contains(&field.name) {
            let shown = plain.len() - 4;
            rust_string(&format!("{}{}", "*".repeat(shown), &plain[shown..]))
        } else {
            "plain".to_string()
        };
        checks.push_str(&format!(
            "    let plain = {plain:?};\n    \
             assert_encrypted({stored}, plain);\n    \
             assert_eq!(created[{json}], {answered});\n",
            json = rust_string(&field.name),
        ));
    }
    let jwt = if auth {
        "            \"JWT_SECRET\" => Some(TEST_SECRET.to_string()),\n"
    } else {
        ""
    };
    format!(
        "\n/// Asserts that `stored` does not show `plain` and decrypts to it.\n\
         fn assert_encrypted(stored: &str, plain: &str) {{\n    \
         assert!(!stored.contains(plain), \"stored in clear: {{stored}}\");\n    \
         let key = test_config().field_key;\n    \
         assert_eq!(decrypt(&key, stored).expect(\"decrypts\"), plain);\n\
         }}\n\
         \n\
         #[tokio::test]\n\
         async fn sensitive_fields_are_stored_encrypted_and_answered_decrypted() {{\n    \
         let stores = Stores::memory();\n    \
         let app = app(AppState::new(test_config(), stores.clone()));\n    \
         let body = {body};\n    \
         let (status, created) = call(&app, Method::POST, \"/{plural}\", Some(body)).await;\n    \
         assert_eq!(status, StatusCode::CREATED, \"{{created}}\");\n    \
         let stored = stores.{module}.get(1).expect(\"stored\");\n\
         {checks}    \
         let (_, read) = call(&app, Method::GET, \"/{plural}/1\", None).await;\n    \
         assert_eq!(read, created);\n\
         }}\n\
         \n\
         #[test]\n\
         fn each_value_gets_its_own_nonce_and_needs_the_key() {{\n    \
         let key = test_config().field_key;\n    \
         let (first, second) = (encrypt(&key, \"same\"), encrypt(&key, \"same\"));\n    \
         assert_ne!(first, second);\n    \
         assert_eq!(decrypt(&key, &first).expect(\"decrypts\"), \"same\");\n    \
         // 32 zero bytes: another valid key.\n    \
         let other = FieldKey::from_base64(&format!(\"{{}}=\", \"A\".repeat(43))).expect(\"a key\");\n    \
         assert!(decrypt(&other, &first).is_err());\n    \
         assert!(decrypt(&key, \"bm90IGEgY2lwaGVydGV4dA==\").is_err());\n\
         }}\n\
         \n\
         #[test]\n\
         fn a_missing_or_malformed_key_is_refused() {{\n    \
         // Unset, empty, not base64, and 16 bytes (an AES-128 key).\n    \
         for key in [\n        \
         None,\n        \
         Some(\"\"),\n        \
         Some(\"not base64!\"),\n        \
         Some(\"AAECAwQFBgcICQoLDA0ODw==\"),\n    \
         ] {{\n        \
         let refused = Config::from_env(|name| match name {{\n            \
         \"{KEY_VARIABLE}\" => key.map(str::to_string),\n{jwt}            \
         _ => None,\n        \
         }});\n        \
         let error = refused.err().expect(\"refused\").to_string();\n        \
         assert!(error.contains(\"{KEY_VARIABLE}\"), \"{{key:?}}: {{error}}\");\n    \
         }}\n\
         }}\n",
        body = body_of(resource),
        module = resource.module,
    )
}

fn audit_test(resource: &RustResource<'_>, auth: bool) -> String {
    let plural = resource.plural();
    let actor = if auth {
        "TEST_USERNAME"
    } else {
        "\"anonymous\""
    };
    format!(
        "\n/// An audit entry's action, outcome and record id.\n\
         fn summary(entry: &Value) -> (String, String, Option<u64>) {{\n    \
         let text = |name: &str| entry[name].as_str().unwrap_or_default().to_string();\n    \
         (text(\"action\"), text(\"outcome\"), entry[\"record_id\"].as_u64())\n\
         }}\n\
         \n\
         #[tokio::test]\n\
         async fn every_change_writes_one_audit_entry() {{\n    \
         let mut state = AppState::new(test_config(), Stores::memory());\n    \
         state.audit = AuditLog::in_memory();\n    \
         let log = state.audit.clone();\n    \
         let app = app(state);\n    \
         let body = {body};\n    \
         let path = \"/{plural}/1\";\n    \
         let (status, _) = call(&app, Method::POST, \"/{plural}\", Some(body.clone())).await;\n    \
         assert_eq!(status, StatusCode::CREATED);\n    \
         let (status, _) = call(&app, Method::GET, path, None).await;\n    \
         assert_eq!(status, StatusCode::OK);\n    \
         let (status, _) = call(&app, Method::PUT, path, Some(body)).await;\n    \
         assert_eq!(status, StatusCode::OK);\n    \
         let (status, _) = call(&app, Method::DELETE, path, None).await;\n    \
         assert_eq!(status, StatusCode::NO_CONTENT);\n    \
         let (status, _) = call(&app, Method::DELETE, path, None).await;\n    \
         assert_eq!(status, StatusCode::NOT_FOUND);\n\
         \n    \
         // One entry per change, none for the read.\n    \
         let entries = log.entries();\n    \
         let what: Vec<(String, String, Option<u64>)> = entries.iter().map(summary).collect();\n    \
         let expected = [\n        \
         (\"create\", \"success\"),\n        \
         (\"replace\", \"success\"),\n        \
         (\"delete\", \"success\"),\n        \
         (\"delete\", \"failure\"),\n    \
         ]\n    \
         .map(|(action, outcome)| (action.to_string(), outcome.to_string(), Some(1)));\n    \
         assert_eq!(what, expected);\n    \
         for entry in &entries {{\n        \
         assert_eq!(entry[\"actor\"], {actor}, \"{{entry}}\");\n        \
         assert_eq!(entry[\"resource\"], \"{plural}\", \"{{entry}}\");\n        \
         let time = entry[\"time\"].as_str().expect(\"a time\");\n        \
         assert!(time.len() == 20 && time.ends_with('Z'), \"{{entry}}\");\n    \
         }}\n    \
         assert_eq!(entries[3][\"status\"], 404);\n    \
         assert_eq!(rfc3339(0), \"1970-01-01T00:00:00Z\");\n    \
         assert_eq!(rfc3339(951_825_600), \"2000-02-29T12:00:00Z\");\n\
         }}\n",
        body = body_of(resource),
    )
}

fn retention_tests(resource: &RustResource<'_>, audit: bool, days: u32) -> String {
    let plural = resource.plural();
    let (state_setup, audit_check) = if audit {
        (
            "    let mut state = AppState::new(test_config(), stores.clone());\n    \
             state.audit = AuditLog::in_memory();\n    \
             let log = state.audit.clone();\n    \
             let app = app(state);\n"
                .to_string(),
            format!(
                "    let purges: Vec<Value> = log\n        \
                 .entries()\n        \
                 .into_iter()\n        \
                 .filter(|e| e[\"action\"] == \"purge\")\n        \
                 .collect();\n    \
                 assert_eq!(purges.len(), 1, \"{{purges:?}}\");\n    \
                 assert_eq!(purges[0][\"record_id\"], 1);\n    \
                 assert_eq!(purges[0][\"actor\"], \"system\");\n    \
                 assert_eq!(purges[0][\"resource\"], \"{plural}\");\n"
            ),
        )
    } else {
        (
            "    let app = app(AppState::new(test_config(), stores.clone()));\n".to_string(),
            String::new(),
        )
    };
    format!(
        "\n#[tokio::test]\n\
         async fn records_older_than_the_retention_are_purged() {{\n    \
         let stores = Stores::memory();\n\
         {state_setup}    \
         let body = {body};\n    \
         for _ in 0..2 {{\n        \
         let (status, _) = call(&app, Method::POST, \"/{plural}\", Some(body.clone())).await;\n        \
         assert_eq!(status, StatusCode::CREATED);\n    \
         }}\n    \
         // The first record was created longer ago than the retention.\n    \
         let mut old = stores.{module}.get(1).expect(\"stored\");\n    \
         let retention = u64::from(test_config().record_retention_days) * SECONDS_PER_DAY;\n    \
         old.created_at -= retention + 1;\n    \
         assert!(stores.{module}.replace(1, old));\n\
         \n    \
         let (status, listed) = call(&app, Method::GET, \"/{plural}\", None).await;\n    \
         assert_eq!(status, StatusCode::OK);\n    \
         let ids: Vec<&Value> = listed\n        \
         .as_array()\n        \
         .expect(\"a list\")\n        \
         .iter()\n        \
         .map(|r| &r[\"id\"])\n        \
         .collect();\n    \
         assert_eq!(ids, [2], \"{{listed}}\");\n    \
         assert!(stores.{module}.get(1).is_none());\n    \
         let (status, _) = call(&app, Method::GET, \"/{plural}/1\", None).await;\n    \
         assert_eq!(status, StatusCode::NOT_FOUND);\n\
         {audit_check}}}\n\
         \n\
         #[test]\n\
         fn a_record_expires_once_older_than_the_retention() {{\n    \
         assert!(!expired(1_000, 1, 1_000 + SECONDS_PER_DAY));\n    \
         assert!(expired(1_000, 1, 1_000 + SECONDS_PER_DAY + 1));\n    \
         assert_eq!(DEFAULT_RECORD_RETENTION_DAYS, {days});\n    \
         let config = test_config();\n    \
         assert_eq!(config.record_retention_days, DEFAULT_RECORD_RETENTION_DAYS);\n\
         }}\n",
        body = body_of(resource),
        module = resource.module,
    )
}

/// README pieces: feature bullet, dependency note, run and Docker
/// settings, configuration rows, layout lines and the "Data protection"
/// section.
#[derive(Default)]
pub(super) struct ReadmeParts {
    pub feature: String,
    pub dependency: String,
    pub run: String,
    pub docker: String,
    pub config_rows: String,
    pub layout: String,
    pub section: String,
}

pub(super) fn readme_parts(
    spec: &IntentSpec,
    resources: &[RustResource<'_>],
    protection: &Protection,
) -> ReadmeParts {
    let mut parts = ReadmeParts::default();
    if !protection.any() {
        return parts;
    }
    let mut measures: Vec<String> = Vec::new();
    let mut bullets = String::new();
    if !protection.encrypted.is_empty() {
        bullets.push_str(&encryption_readme(
            spec,
            resources,
            protection,
            &mut parts,
            &mut measures,
        ));
    }
    if !protection.dropped.is_empty() {
        let fields: Vec<String> = protection
            .dropped
            .iter()
            .map(|(plural, field)| format!("`{plural}.{field}`"))
            .collect();
        bullets.push_str(&format!(
            "- **Not stored**: {}.\n  A card verification code must not be kept after\n  \
             authorisation, not even encrypted (PCI DSS 3.3.1): pass it straight to\n  \
             the payment processor. A request body carrying it is refused as an\n  \
             unknown field.\n",
            english_list(&fields)
        ));
    }
    if protection.audit {
        measures.push("an audit trail of every change".into());
        parts
            .layout
            .push_str("- `src/audit.rs`: the audit trail, one JSON line per change.\n");
        let (actor, example_actor) = if spec.auth {
            ("the subject (`sub`) of the bearer token", "clerk")
        } else {
            (
                "`anonymous` (the service has no authentication)",
                "anonymous",
            )
        };
        bullets.push_str(&format!(
            "- **Audit trail**: every create, replace and delete, successful or not,\n  \
             writes one JSON line to standard output (`src/audit.rs`):\n  \
             `{{\"time\":\"2024-05-17T08:30:00Z\",\"actor\":\"{example_actor}\",\"action\":\"create\",\"resource\":\"{}\",\"record_id\":1,\"outcome\":\"success\",\"status\":201}}`.\n  \
             The actor is {actor};\n  \
             records purged by the retention are logged with the actor `system`.\n  \
             Entries name records by id and never hold a field's value; keep them\n  \
             where the application cannot change them.\n",
            resources[0].plural()
        ));
    }
    if let Some(days) = protection.retention_days {
        measures.push("a retention period".into());
        parts.layout.push_str(
            "- `src/retention.rs`: the retention period and the purge of expired records.\n",
        );
        parts.config_rows.push_str(&format!(
            "| `{RETENTION_VARIABLE}` | Days a record is kept before it is deleted | {days} |\n"
        ));
        bullets.push_str(&format!(
            "- **Retention**: each record carries its creation time (`created_at`,\n  \
             seconds since the Unix epoch) and is deleted `{RETENTION_VARIABLE}` days\n  \
             after it ({days} by default): the records of a resource older than that\n  \
             are purged before every request to it (`src/retention.rs`).\n"
        ));
    }
    if !measures.is_empty() {
        parts.feature = format!("- Data protection: {}.\n", english_list(&measures));
    }
    let reasons: String = protection
        .reasons
        .iter()
        .map(|reason| format!("- {reason}\n"))
        .collect();
    let key = if protection.encrypted.is_empty() {
        String::new()
    } else {
        format!(
            "\nSet the key before starting the service; without a valid one (32 bytes\n\
             in base64) it refuses to start and says why:\n\
             \n\
             ```sh\n\
             export {KEY_VARIABLE}=\"$(openssl rand -base64 32)\"\n\
             ```\n\
             \n\
             Keep the key in a secret manager, never in the repository or the\n\
             image, and keep it safe: values encrypted under a lost key cannot be\n\
             read back.\n"
        )
    };
    parts.section = format!(
        "\n## Data protection\n\n\
         The service protects the sensitive data it keeps, because of:\n\n\
         {reasons}\n\
         {bullets}{key}"
    );
    parts
}

/// The README pieces of field encryption.
fn encryption_readme(
    spec: &IntentSpec,
    resources: &[RustResource<'_>],
    protection: &Protection,
    parts: &mut ReadmeParts,
    measures: &mut Vec<String>,
) -> String {
    let mut bullets = String::new();
    measures.push("sensitive fields encrypted at rest".into());
    parts.dependency.push_str(if spec.auth {
        ", and `aes-gcm` for field encryption"
    } else {
        ", with `aes-gcm` and `base64` for field encryption"
    });
    parts.run.push_str(&format!(
        "export {KEY_VARIABLE}=\"$(openssl rand -base64 32)\"\n"
    ));
    parts.docker.push_str(&format!("-e {KEY_VARIABLE} "));
    parts.config_rows.push_str(&format!(
        "| `{KEY_VARIABLE}` | Key that encrypts sensitive fields: 32 random bytes in base64 (`openssl rand -base64 32`); required | none |\n"
    ));
    parts
        .layout
        .push_str("- `src/crypto.rs`: AES-256-GCM field encryption and card-number masking.\n");
    let fields: Vec<String> = protection
        .encrypted
        .iter()
        .map(|(plural, field)| format!("`{plural}.{field}`"))
        .collect();
    let masked: Vec<String> = resources
        .iter()
        .flat_map(|r| {
            r.masked
                .iter()
                .map(move |f| format!("`{}.{f}`", r.plural()))
        })
        .collect();
    bullets.push_str(&format!(
        "- **Encrypted at rest**: {}.\n  Each value is encrypted with AES-256-GCM\n  \
         (the `aes-gcm` crate, `src/crypto.rs`) under its own random 12-byte\n  \
         nonce, with the key in `{KEY_VARIABLE}`; the repository holds only\n  \
         the ciphertext, so a copy of the storage or a backup does not show\n  \
         the values. The API answers them decrypted.\n",
        english_list(&fields)
    ));
    if !masked.is_empty() {
        bullets.push_str(&format!(
            "- **Card numbers masked**: {} {} answered masked to the last\n  \
             four digits (`************1111`), never in full (PCI DSS 3.4.1).\n",
            english_list(&masked),
            if masked.len() == 1 { "is" } else { "are" }
        ));
    }
    bullets
}
