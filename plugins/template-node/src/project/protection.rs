//! What a [`Protection`] adds to the generated service: fields stored
//! encrypted with AES-256-GCM (`src/crypto.ts`, called from `models.ts`
//! where a record is stored), card numbers returned masked, an audit entry
//! for every change (`src/audit.ts`, called from the route handlers), the
//! retention of records (`src/retention.ts`, a `RECORD_RETENTION_DAYS`
//! setting), the tests of all three (`test/protection.test.ts`) and the
//! README's "Data protection" section.
//!
//! Every function here gives nothing (an empty string, no file) for what
//! the protection does not ask, so a service without one is written
//! exactly as before.

use qlp_intent_spec::protection::{KEY_VARIABLE, Protection, RETENTION_VARIABLE};
use qlp_intent_spec::template::{as_pairs, render};
use qlp_intent_spec::{FieldKind, IntentSpec, sensitive};
use qlp_sdk::PluginError;

use super::{TsResource, example_object, js_string, string_array, tmpl};

/// The card number in examples and tests: a test number of the card
/// schemes (Visa), never a real card.
pub(super) const EXAMPLE_CARD_NUMBER: &str = "4111111111111111";

/// The card number a test replaces it with (a Mastercard test number).
pub(super) const CHANGED_CARD_NUMBER: &str = "5555555555554444";

/// Whether a field holds a card number (a primary account number), which
/// the API returns masked: its name has the words `card` and `number`, or
/// `pan`.
pub(super) fn is_card_number(name: &str) -> bool {
    let words = sensitive::words(name);
    let has = |word: &str| words.iter().any(|w| w == word);
    has("pan") || (has("card") && has("number"))
}

/// A card number as the generated `maskCardNumber` shows it: every digit
/// but the last four replaced by `*`, anything else left out.
fn masked(card_number: &str) -> String {
    let digits: Vec<char> = card_number.chars().filter(char::is_ascii_digit).collect();
    let hidden = digits.len().saturating_sub(4);
    let shown: String = digits[hidden..].iter().collect();
    format!("{}{shown}", "*".repeat(hidden))
}

/// Whether the routes of `resource` read the configuration: for its key
/// or the retention.
fn needs_config(resource: &TsResource<'_>, protection: &Protection) -> bool {
    !resource.encrypted.is_empty() || protection.retention_days.is_some()
}

/// `src/crypto.ts`, `src/audit.ts` and `src/retention.ts`, as the
/// protection needs them.
pub(super) fn source_files(
    spec: &IntentSpec,
    protection: &Protection,
) -> Result<Vec<(String, String)>, PluginError> {
    let mut files = Vec::new();
    if !protection.encrypted.is_empty() {
        files.push(("src/crypto.ts".to_string(), render(tmpl::CRYPTO, &[])?));
    }
    if protection.audit {
        files.push(("src/audit.ts".to_string(), audit_ts(spec.auth)?));
    }
    if protection.retention_days.is_some() {
        files.push((
            "src/retention.ts".to_string(),
            render(tmpl::RETENTION, &[])?,
        ));
    }
    Ok(files)
}

/// `src/audit.ts`: the actor is the token's subject with authentication,
/// else anonymous.
fn audit_ts(auth: bool) -> Result<String, PluginError> {
    let values: [(&str, &str); 4] = if auth {
        [
            ("audit_imports", "import { verifyToken } from \"./auth\";\n"),
            (
                "actor_function",
                "\n/**\n \
                 * Who sent req: the subject of its bearer token, which requireUser has\n \
                 * checked before the routes run; anonymous without a valid one.\n \
                 */\n\
                 export function actorOf(req: Request, jwtSecret: string): string {\n  \
                 const [scheme, token] = (req.headers.authorization ?? \"\").split(\" \");\n  \
                 const claims = scheme.toLowerCase() === \"bearer\" && token ? verifyToken(token, jwtSecret) : undefined;\n  \
                 return claims?.sub ?? ANONYMOUS;\n\
                 }\n",
            ),
            ("audit_fields", "    private readonly jwtSecret: string,\n"),
            ("actor_args", ", this.jwtSecret"),
        ]
    } else {
        [
            ("audit_imports", ""),
            (
                "actor_function",
                "\n/** Who sent req: the service has no authentication, so always anonymous. */\n\
                 export function actorOf(_req: Request): string {\n  \
                 return ANONYMOUS;\n\
                 }\n",
            ),
            ("audit_fields", ""),
            ("actor_args", ""),
        ]
    };
    render(tmpl::AUDIT, &values)
}

/// The arguments after `stores` that `createApp` passes to the router of
/// `resource`.
pub(super) fn router_args(resource: &TsResource<'_>, protection: &Protection) -> String {
    let mut args = String::new();
    if !protection.any() {
        return args;
    }
    if needs_config(resource, protection) {
        args.push_str(", config");
    }
    if protection.audit {
        args.push_str(", auditLog");
    }
    args
}

/// The values of the protected routes template for `resource`.
pub(super) fn route_values(
    resource: &TsResource<'_>,
    protection: &Protection,
) -> Vec<(&'static str, String)> {
    let encrypts = !resource.encrypted.is_empty();
    let retains = protection.retention_days.is_some();
    let mut imports = String::new();
    let mut params = String::new();
    let mut setup = String::new();
    let mut doc = String::new();
    let (mut store_new, mut store_replace) = (String::new(), String::new());
    if protection.audit {
        imports.push_str("import { AuditLog } from \"../audit\";\n");
    }
    if needs_config(resource, protection) {
        imports.push_str("import { Config } from \"../config\";\n");
        params.push_str(", config: Config");
    }
    if protection.audit {
        params.push_str(", auditLog: AuditLog");
        doc.push_str(
            " * Every change, done or refused, is written to the audit trail (audit.ts).\n",
        );
    }
    if encrypts {
        setup.push_str("  const { fieldKey } = config;\n");
        store_new.push_str(", fieldKey");
        store_replace.push_str(", fieldKey");
    }
    if retains {
        setup.push_str("  router.use(expireRecords(repository, config.retentionDays));\n");
        store_new.push_str(", Date.now()");
        store_replace.push_str(", existing.created_at");
        doc.push_str(
            " * Expired records are purged before every request (retention.ts), and a\n \
             * replaced record keeps its creation time.\n",
        );
    }
    let audit = |indent: &str, action: &str, id: &str, outcome: &str| {
        if protection.audit {
            format!(
                "{indent}auditLog.record(req, \"{action}\", \"{}\", {id}, \"{outcome}\");\n",
                resource.plural()
            )
        } else {
            String::new()
        }
    };
    let retention_import = if retains {
        "import { expireRecords } from \"../retention\";\n"
    } else {
        ""
    };
    let show_args = if encrypts { ", fieldKey" } else { "" };
    vec![
        ("route_imports", imports),
        ("retention_import", retention_import.to_string()),
        ("route_doc", doc),
        ("router_params", params),
        ("router_setup", setup),
        ("show_args", show_args.to_string()),
        ("store_new_args", store_new),
        ("store_replace_args", store_replace),
        (
            "audit_create_invalid",
            audit("      ", "create", "null", "invalid"),
        ),
        (
            "audit_create",
            audit("    ", "create", "record.id", "success"),
        ),
        (
            "audit_replace_missing",
            audit("      ", "replace", "id ?? null", "not found"),
        ),
        (
            "audit_replace_invalid",
            audit("      ", "replace", "id", "invalid"),
        ),
        ("audit_replace", audit("    ", "replace", "id", "success")),
        (
            "audit_delete_missing",
            audit("      ", "delete", "id ?? null", "not found"),
        ),
        ("audit_delete", audit("    ", "delete", "id", "success")),
    ]
}

/// Adds the settings of the key and the retention to `config.ts`'s parts:
/// its doc, `Config` fields, constants, the values `loadConfig` returns and
/// the function reading each setting.
pub(super) fn config_parts(protection: &Protection, parts: [&mut String; 5]) {
    let [doc, fields, constants, values, functions] = parts;
    if !protection.encrypted.is_empty() {
        doc.push_str(&format!(
            " * - {KEY_VARIABLE} (required): the key that encrypts sensitive fields,\n \
             *   32 random bytes in base64 (openssl rand -base64 32); see crypto.ts.\n"
        ));
        fields.push_str("  fieldKey: Buffer;\n");
        constants.push_str(
            "\n/** The length of FIELD_ENCRYPTION_KEY once decoded: a key of AES-256. */\n\
             export const FIELD_KEY_BYTES = 32;\n\
             \n\
             /** Standard base64, as `openssl rand -base64 32` prints it. */\n\
             const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;\n",
        );
        values.push_str("    fieldKey: fieldKeyFrom(env.FIELD_ENCRYPTION_KEY),\n");
        functions.push_str(
            "\n/** Reads FIELD_ENCRYPTION_KEY, which must be FIELD_KEY_BYTES bytes in standard base64. */\n\
             function fieldKeyFrom(raw: string | undefined): Buffer {\n  \
             const encodedKey = raw ?? \"\";\n  \
             const fieldKey = Buffer.from(encodedKey, \"base64\");\n  \
             if (!BASE64.test(encodedKey) || fieldKey.length !== FIELD_KEY_BYTES) {\n    \
             throw new ConfigError(\n      \
             `FIELD_ENCRYPTION_KEY must be set to ${FIELD_KEY_BYTES} random bytes in base64 (openssl rand -base64 32)`,\n    \
             );\n  \
             }\n  \
             return fieldKey;\n\
             }\n",
        );
    }
    if let Some(days) = protection.retention_days {
        doc.push_str(&format!(
            " * - {RETENTION_VARIABLE}: how many days a record is kept before it is\n \
             *   deleted, {days} by default; see retention.ts.\n"
        ));
        fields.push_str("  retentionDays: number;\n");
        constants.push_str(&format!(
            "\n/** How many days a record is kept when {RETENTION_VARIABLE} is unset. */\n\
             export const DEFAULT_RETENTION_DAYS = {days};\n"
        ));
        values.push_str("    retentionDays: retentionDaysFrom(env.RECORD_RETENTION_DAYS),\n");
        functions.push_str(
            "\n/** Reads RECORD_RETENTION_DAYS: DEFAULT_RETENTION_DAYS when it is unset, else a whole number of days, 1 or more. */\n\
             function retentionDaysFrom(raw: string | undefined): number {\n  \
             const retentionDays = raw ? Number(raw) : DEFAULT_RETENTION_DAYS;\n  \
             if (!Number.isInteger(retentionDays) || retentionDays < 1) {\n    \
             throw new ConfigError(\n      \
             `RECORD_RETENTION_DAYS must be a whole number of days, 1 or more, not ${JSON.stringify(raw)}`,\n    \
             );\n  \
             }\n  \
             return retentionDays;\n\
             }\n",
        );
    }
}

/// The import of the encryption functions into `models.ts`, if a field is
/// encrypted.
pub(super) fn models_import(resources: &[TsResource<'_>]) -> String {
    if resources.iter().all(|r| r.encrypted.is_empty()) {
        return String::new();
    }
    let mask = if resources.iter().any(|r| !r.masked.is_empty()) {
        ", maskCardNumber"
    } else {
        ""
    };
    format!("import {{ decryptField, encryptField{mask} }} from \"./crypto\";\n")
}

/// The stored record of `resource` in `models.ts` and the two functions
/// between it and the API's: `store<Model>` encrypts and dates, `show<Model>`
/// decrypts and masks.
pub(super) fn stored_model(resource: &TsResource<'_>, protection: &Protection) -> String {
    let (model, stored) = (&resource.model, &resource.stored);
    let singular = &resource.resource.singular;
    let retains = protection.retention_days.is_some();
    if resource.encrypted.is_empty() && !retains {
        return format!(
            "\n/** One {singular} as the repository keeps it: as the API returns it. */\n\
             export type {stored} = {model};\n\
             \n\
             /** The record to keep for input under id. */\n\
             export function store{model}(id: number, input: {model}Input): {stored} {{\n  \
             return {{ id, ...input }};\n\
             }}\n\
             \n\
             /** A kept {singular} as the API returns it. */\n\
             export function show{model}(stored: {stored}): {model} {{\n  \
             return stored;\n\
             }}\n"
        );
    }
    let encrypted: Vec<String> = resource
        .encrypted
        .iter()
        .map(|f| format!("`{}`", f.name))
        .collect();
    let encrypted_list = qlp_intent_spec::spec::english_list(&encrypted);
    let mut what = String::new();
    if !encrypted.is_empty() {
        what.push_str(&format!(
            " * - {encrypted_list}: encrypted with AES-256-GCM (crypto.ts), never clear text;\n"
        ));
    }
    if retains {
        what.push_str(
            " * - `created_at`: when it was created, in milliseconds since the epoch, for\n \
             *   the retention (retention.ts).\n",
        );
    }
    let mut interface = String::from("  id: number;\n");
    let mut stores = String::new();
    let mut shows = String::from("    id: stored.id,\n");
    for field in resource.fields() {
        let name = &field.name;
        let nullable = !field.required && field.kind != FieldKind::Boolean;
        let ty = super::base_type(field);
        let ty = if nullable {
            format!("{ty} | null")
        } else {
            ty.to_string()
        };
        if !resource.encrypted.iter().any(|f| f.name == *name) {
            interface.push_str(&format!("  {name}: {ty};\n"));
            shows.push_str(&format!("    {name}: stored.{name},\n"));
            continue;
        }
        interface.push_str(&format!(
            "  /** AES-256-GCM: base64 of nonce, tag and ciphertext. */\n  {name}: {ty};\n"
        ));
        let clear = if resource.masked.iter().any(|f| f.name == *name) {
            format!("maskCardNumber(decryptField(key, stored.{name}))")
        } else {
            format!("decryptField(key, stored.{name})")
        };
        if nullable {
            stores.push_str(&format!(
                "    {name}: input.{name} === null ? null : encryptField(key, input.{name}),\n"
            ));
            shows.push_str(&format!(
                "    {name}: stored.{name} === null ? null : {clear},\n"
            ));
        } else {
            stores.push_str(&format!("    {name}: encryptField(key, input.{name}),\n"));
            shows.push_str(&format!("    {name}: {clear},\n"));
        }
    }
    let (mut params, mut show_params) = (String::new(), String::new());
    if !resource.encrypted.is_empty() {
        params.push_str(", key: Buffer");
        show_params.push_str(", key: Buffer");
    }
    if retains {
        interface.push_str("  created_at: number;\n");
        params.push_str(", createdAt: number");
        stores.push_str("    created_at: createdAt,\n");
    }
    let mut shown = Vec::new();
    if !encrypted.is_empty() {
        shown.push(format!("{encrypted_list} decrypted"));
    }
    if !resource.masked.is_empty() {
        shown.push("card numbers masked to their last four digits".to_string());
    }
    if retains {
        shown.push("without `created_at`".to_string());
    }
    format!(
        "\n/**\n * One {singular} as the repository keeps it:\n{what} */\n\
         export interface {stored} {{\n{interface}}}\n\
         \n\
         /** The record to keep for input under id. */\n\
         export function store{model}(id: number, input: {model}Input{params}): {stored} {{\n  \
         return {{\n    \
         id,\n    \
         ...input,\n\
         {stores}  \
         }};\n\
         }}\n\
         \n\
         /** A kept {singular} as the API returns it: {}. */\n\
         export function show{model}(stored: {stored}{show_params}): {model} {{\n  \
         return {{\n\
         {shows}  \
         }};\n\
         }}\n",
        shown.join(", ")
    )
}

/// The constant of the test key in `test/helpers.ts`, if a field is
/// encrypted.
pub(super) fn test_key_constant(protection: &Protection) -> &'static str {
    if protection.encrypted.is_empty() {
        return "";
    }
    "\n/** The field encryption key the tests configure: 32 bytes in base64, made up for the tests. */\n\
     export const TEST_FIELD_KEY = Buffer.alloc(32, 7).toString(\"base64\");\n"
}

/// The import of the test key into a test file, if a field is encrypted.
pub(super) fn test_key_import(protection: &Protection) -> &'static str {
    if protection.encrypted.is_empty() {
        ""
    } else {
        "TEST_FIELD_KEY, "
    }
}

/// The test key as one more property of an environment literal, if a
/// field is encrypted.
pub(super) fn test_key_env(protection: &Protection) -> &'static str {
    if protection.encrypted.is_empty() {
        ""
    } else {
        ", FIELD_ENCRYPTION_KEY: TEST_FIELD_KEY"
    }
}

/// The tests' environment `env` (an object literal) with the test key, if
/// a field is encrypted.
pub(super) fn test_env(protection: &Protection, env: &str) -> String {
    if protection.encrypted.is_empty() {
        env.to_string()
    } else if env == "{}" {
        "{ FIELD_ENCRYPTION_KEY: TEST_FIELD_KEY }".to_string()
    } else {
        let open = env.strip_suffix(" }").unwrap_or(env);
        format!("{open}, FIELD_ENCRYPTION_KEY: TEST_FIELD_KEY }}")
    }
}

/// The masked card numbers the API returns for the example body (or the
/// changed one), as properties that override the body's: `, card_number:
/// "************1111"`.
pub(super) fn masked_overrides(resource: &TsResource<'_>, changed: bool) -> String {
    resource
        .masked
        .iter()
        .map(|f| {
            let number = if changed {
                CHANGED_CARD_NUMBER
            } else {
                EXAMPLE_CARD_NUMBER
            };
            format!(", {}: {}", f.name, js_string(&masked(number)))
        })
        .collect()
}

/// `test/protection.test.ts`: the tests of each measure the protection
/// takes.
pub(super) fn test_ts(
    spec: &IntentSpec,
    protection: &Protection,
    resources: &[TsResource<'_>],
) -> Result<String, PluginError> {
    let encrypts = !protection.encrypted.is_empty();
    let retains = protection.retention_days.is_some();
    let first = &resources[0];
    let mut node_imports = String::new();
    let mut path_import = "";
    let mut src_imports = String::new();
    let mut helpers = vec!["call", "TEST_ENV"];
    let mut sections = String::new();
    if protection.audit {
        src_imports.push_str("import { AuditLog } from \"../src/audit\";\n");
    }
    let config_error = if encrypts || retains {
        "ConfigError, "
    } else {
        ""
    };
    src_imports.push_str(&format!(
        "import {{ {config_error}Env, loadConfig }} from \"../src/config\";\n"
    ));
    if encrypts {
        node_imports.push_str("import { spawnSync } from \"node:child_process\";\n");
        path_import = "import { join } from \"node:path\";\n";
        src_imports.push_str(
            "import { decryptField, DecryptionError, encryptField, maskCardNumber } from \"../src/crypto\";\n",
        );
        helpers.push("TEST_FIELD_KEY");
        sections.push_str(&render(tmpl::PROTECTION_KEY_TEST, &[])?);
        for resource in resources.iter().filter(|r| !r.encrypted.is_empty()) {
            sections.push_str(&encryption_test(resource)?);
        }
    }
    for resource in resources {
        sections.push_str(&dropped_test(resource, protection)?);
    }
    if retains {
        src_imports.push_str("import { Dated, DAY_MS, purgeExpired } from \"../src/retention\";\n");
        src_imports.push_str("import { MemoryRepository } from \"../src/store\";\n");
    }
    let mut values = super::resource_values(first);
    values.extend([
        ("valid_body", example_object(first, false, false)),
        ("changed_body", example_object(first, true, false)),
    ]);
    let mut audit_log_arg = String::new();
    if protection.audit {
        let actor = if spec.auth {
            helpers.push("TEST_USERNAME");
            "TEST_USERNAME"
        } else {
            "\"anonymous\""
        };
        let secret = if spec.auth { "config.jwtSecret, " } else { "" };
        audit_log_arg = format!(", new AuditLog({secret}(line) => auditLines.push(line))");
        let mut audit = values.clone();
        audit.push(("actor", actor.to_string()));
        sections.push_str(&render(tmpl::PROTECTION_AUDIT_TEST, &as_pairs(&audit))?);
    }
    if let Some(days) = protection.retention_days {
        values.push(("retention_days", days.to_string()));
        sections.push_str(&render(
            tmpl::PROTECTION_RETENTION_TEST,
            &as_pairs(&values),
        )?);
    }
    helpers.push("TestServer");
    render(
        tmpl::PROTECTION_TEST,
        &[
            ("node_imports", &node_imports),
            ("path_import", path_import),
            ("src_imports", &src_imports),
            ("helper_imports", &helpers.join(", ")),
            ("audit_log_arg", &audit_log_arg),
            ("sections", &sections),
        ],
    )
}

/// The test that the fields of `resource` the protection drops are
/// refused; nothing when it drops none.
fn dropped_test(resource: &TsResource<'_>, protection: &Protection) -> Result<String, PluginError> {
    let dropped: Vec<String> = protection
        .dropped
        .iter()
        .filter(|(plural, _)| plural == resource.plural())
        .map(|(_, field)| field.clone())
        .collect();
    if dropped.is_empty() {
        return Ok(String::new());
    }
    let mut values = super::resource_values(resource);
    values.extend([
        ("valid_body", example_object(resource, false, false)),
        (
            "dropped_words",
            qlp_intent_spec::spec::english_list(&dropped),
        ),
        (
            "dropped_list",
            string_array(dropped.iter().map(String::as_str)),
        ),
    ]);
    render(tmpl::PROTECTION_DROPPED_TEST, &as_pairs(&values))
}

/// The tests that `resource`'s encrypted fields are stored encrypted and
/// returned decrypted (card numbers masked).
fn encryption_test(resource: &TsResource<'_>) -> Result<String, PluginError> {
    let names: Vec<&str> = resource.encrypted.iter().map(|f| f.name.as_str()).collect();
    let words = qlp_intent_spec::spec::english_list(
        &names.iter().map(|n| n.to_string()).collect::<Vec<_>>(),
    );
    let (masked_words, masked_asserts) = if resource.masked.is_empty() {
        (String::new(), String::new())
    } else {
        let asserts: String = resource
            .masked
            .iter()
            .map(|f| {
                format!(
                    "      assert.equal(created.body.{}, {});\n",
                    f.name,
                    js_string(&masked(EXAMPLE_CARD_NUMBER))
                )
            })
            .collect();
        (
            ", card numbers masked to their last four digits".to_string(),
            asserts,
        )
    };
    let mut values = super::resource_values(resource);
    values.extend([
        ("valid_body", example_object(resource, false, false)),
        ("encrypted_list", string_array(names.iter().copied())),
        ("encrypted_words", words),
        ("masked_words", masked_words),
        ("masked_valid", masked_overrides(resource, false)),
        ("masked_asserts", masked_asserts),
    ]);
    render(tmpl::PROTECTION_ENCRYPTION_TEST, &as_pairs(&values))
}

/// What the README says of the protection, by the template part it goes
/// in.
#[derive(Default)]
pub(super) struct ReadmeParts {
    pub feature_bullets: String,
    pub run_note: String,
    pub docker_env: String,
    pub config_rows: String,
    pub layout_extra: String,
    /// The "Data protection" section, ending with a blank line.
    pub section: String,
}

/// The README's parts for the protection; all empty without one.
pub(super) fn readme_parts(
    spec: &IntentSpec,
    protection: &Protection,
    resources: &[TsResource<'_>],
) -> Result<ReadmeParts, PluginError> {
    let mut parts = ReadmeParts::default();
    if !protection.any() {
        return Ok(parts);
    }
    let reasons: String = protection
        .reasons
        .iter()
        .map(|r| format!("- {r}\n"))
        .collect();
    let mut encryption = String::new();
    let mut dropped = String::new();
    let mut audit = String::new();
    let mut retention = String::new();
    if !protection.encrypted.is_empty() {
        let fields: Vec<String> = resources
            .iter()
            .flat_map(|r| {
                r.encrypted
                    .iter()
                    .map(move |f| format!("`{}.{}`", r.plural(), f.name))
            })
            .collect();
        let masked = if resources.iter().any(|r| !r.masked.is_empty()) {
            "; card numbers are returned masked"
        } else {
            ""
        };
        parts.feature_bullets.push_str(&format!(
            "- Sensitive fields ({}) stored encrypted with AES-256-GCM\n  \
             (`node:crypto`){masked}.\n",
            fields.join(", ")
        ));
        parts.run_note.push_str(&format!(
            "# {KEY_VARIABLE} must be set first: see Data protection.\n"
        ));
        parts.docker_env.push_str(&format!("-e {KEY_VARIABLE} "));
        parts.config_rows.push_str(&format!(
            "| `{KEY_VARIABLE}` | Key that encrypts sensitive fields: 32 random bytes, base64 (required) | none: the service refuses to start |\n"
        ));
        parts
            .layout_extra
            .push_str("- `src/crypto.ts`: AES-256-GCM field encryption and card-number masking.\n");
        encryption = encryption_readme(resources);
    }
    for (plural, field) in &protection.dropped {
        dropped.push_str(&format!(
            "- `{field}` of `/{plural}`: a card verification code must not be kept after\n  \
             authorisation, not even encrypted (PCI DSS 3.3.1); pass it straight to the\n  \
             payment processor instead.\n"
        ));
    }
    if !dropped.is_empty() {
        dropped = format!(
            "### Fields not stored\n\nThe intent named them, but the service does not keep them:\n\n{dropped}\n"
        );
    }
    if protection.audit {
        parts
            .feature_bullets
            .push_str("- An audit trail of every change, as JSON lines on stdout.\n");
        parts
            .layout_extra
            .push_str("- `src/audit.ts`: the audit trail, written from the route handlers.\n");
        audit = audit_readme(spec, resources);
    }
    if let Some(days) = protection.retention_days {
        parts.feature_bullets.push_str(&format!(
            "- Records deleted after `{RETENTION_VARIABLE}` days ({days} by default).\n"
        ));
        parts.config_rows.push_str(&format!(
            "| `{RETENTION_VARIABLE}` | Days a record is kept before it is deleted | {days} |\n"
        ));
        parts
            .layout_extra
            .push_str("- `src/retention.ts`: the deletion of expired records.\n");
        retention = format!(
            "### Retention\n\n\
             Every record carries its creation time. Records older than\n\
             `{RETENTION_VARIABLE}` days ({days} unless set) are deleted before each request\n\
             to their resource is handled, so they are never returned or changed;\n\
             replacing a record keeps its creation time. Set the period your\n\
             records policy requires.\n\n"
        );
    }
    let section = render(
        tmpl::README_PROTECTION,
        &[
            ("reasons", &reasons),
            ("encryption", &encryption),
            ("dropped", &dropped),
            ("audit", &audit),
            ("retention", &retention),
        ],
    )?;
    parts.section = format!("{}\n\n", section.trim_end());
    Ok(parts)
}

/// The README's "Encrypted fields" part.
fn encryption_readme(resources: &[TsResource<'_>]) -> String {
    let mut list = String::new();
    for resource in resources {
        for field in &resource.encrypted {
            let masked = if resource.masked.iter().any(|f| f.name == field.name) {
                ", returned masked to its last four digits"
            } else {
                ""
            };
            list.push_str(&format!(
                "- `{}` of `/{}`{masked}\n",
                field.name,
                resource.plural()
            ));
        }
    }
    let masked_note = if resources.iter().any(|r| !r.masked.is_empty()) {
        format!(
            " Card numbers are\n\
             returned masked to their last four digits (`{}`): once\n\
             stored, the full number is never displayed (PCI DSS 3.4.1).",
            masked(EXAMPLE_CARD_NUMBER)
        )
    } else {
        String::new()
    };
    format!(
        "### Encrypted fields\n\n\
         {list}\n\
         Each is stored encrypted with AES-256-GCM (`node:crypto`, see\n\
         `src/crypto.ts`) under a random 12-byte nonce per value, so a copy of the\n\
         records or a backup holds no clear text and a changed value fails to\n\
         decrypt. The API decrypts them when it returns a record.{masked_note}\n\
         \n\
         The key is `{KEY_VARIABLE}`: 32 random bytes in base64. The service\n\
         refuses to start when it is missing or malformed. Create one with\n\
         \n\
         ```sh\n\
         export {KEY_VARIABLE}=\"$(openssl rand -base64 32)\"\n\
         ```\n\
         \n\
         and keep it in a secret store, never in the repository: without it the\n\
         encrypted values cannot be read, and changing it needs the stored values\n\
         encrypted again under the new key.\n\n"
    )
}

/// The README's "Audit trail" part, with an example entry.
fn audit_readme(spec: &IntentSpec, resources: &[TsResource<'_>]) -> String {
    let actor = if spec.auth {
        "the subject (`sub`) of the request's bearer token"
    } else {
        "`anonymous`, as the service has no authentication"
    };
    let example_actor = if spec.auth { "clerk" } else { "anonymous" };
    format!(
        "### Audit trail\n\n\
         Every create, replace and delete, done or refused, writes one line of\n\
         JSON to stdout (`src/audit.ts`):\n\
         \n\
         ```json\n\
         {{\"time\":\"2025-01-01T12:00:00.000Z\",\"actor\":\"{example_actor}\",\"action\":\"create\",\"resource\":\"{}\",\"record_id\":1,\"outcome\":\"success\"}}\n\
         ```\n\
         \n\
         `actor` is {actor}; `outcome` is `success`,\n\
         `invalid` or `not found`. Entries never hold a record's values. Ship\n\
         stdout to storage that keeps the trail apart from the records and\n\
         append-only.\n\n",
        resources[0].plural()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_numbers_are_named_as_such() {
        for name in ["card_number", "pan", "primary_card_number"] {
            assert!(is_card_number(name), "{name}");
        }
        for name in ["card_id", "cardholder_name", "number", "diagnosis"] {
            assert!(!is_card_number(name), "{name}");
        }
    }

    #[test]
    fn a_masked_card_number_shows_its_last_four_digits() {
        assert_eq!(masked(EXAMPLE_CARD_NUMBER), "************1111");
        assert_eq!(masked("4111 1111"), "****1111");
        assert_eq!(masked("12"), "12");
    }

    #[test]
    fn the_test_key_joins_the_tests_environment() {
        let p = Protection {
            encrypted: vec![("cards".into(), "card_number".into())],
            ..Protection::default()
        };
        assert_eq!(
            test_env(&p, "{}"),
            "{ FIELD_ENCRYPTION_KEY: TEST_FIELD_KEY }"
        );
        assert_eq!(
            test_env(&p, "{ JWT_SECRET: TEST_SECRET }"),
            "{ JWT_SECRET: TEST_SECRET, FIELD_ENCRYPTION_KEY: TEST_FIELD_KEY }"
        );
        assert_eq!(test_env(&Protection::default(), "{}"), "{}");
    }
}
