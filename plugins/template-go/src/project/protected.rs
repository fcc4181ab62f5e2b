//! What the generated service does to protect sensitive data, as a
//! [`Protection`] asks (see `qlp_intent_spec::protection`): the parts of
//! the Go project that exist only then.
//!
//! - **Encryption**: `crypto.go` (AES-256-GCM from `crypto/aes` and
//!   `crypto/cipher`, a random 12-byte nonce per value, the key from
//!   `FIELD_ENCRYPTION_KEY`), called from `models.go` where a record is
//!   stored (`sealed`) and returned (`revealed`, card numbers masked to
//!   their last four characters). `config.go` refuses to start without a
//!   valid key.
//! - **Audit trail**: `audit.go`, one JSON line per create, replace and
//!   delete, written by the handlers; the actor is the token's subject,
//!   which `protect` puts in the request's context.
//! - **Retention**: records carry `created_at`; `retention.go` removes
//!   those older than `RECORD_RETENTION_DAYS` before each request to a
//!   resource, on the server's clock (`Server.now`, which tests replace).
//! - The handlers of [`tmpl::HANDLERS_PROTECTED`], a README section,
//!   `protection_test.go`.
//!
//! Nothing here is called for a [`Protection`] that asks for nothing, so
//! such projects stay byte-identical to those without this module.

use qlp_intent_spec::protection::{KEY_VARIABLE, Protection, RETENTION_VARIABLE};
use qlp_intent_spec::sensitive;
use qlp_intent_spec::template::{as_pairs, render};
use qlp_intent_spec::{FieldKind, IntentSpec};
use qlp_sdk::PluginError;

mod test_suite;

use super::{ConfigParts, GoField, GoResource, example_value, go_string, resource_values, tmpl};

/// The field key the generated tests configure: 32 bytes in base64, for
/// tests only.
const TEST_FIELD_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

/// A card number the generated tests store, and what the API shows of it.
const TEST_CARD_NUMBER: &str = "4111111111111234";

/// How many trailing characters of a card number the API shows (PCI DSS
/// 3.4.1 allows at most the last four digits).
const SHOWN_CARD_CHARS: usize = 4;

/// Whether a field holds a primary account number, which the API returns
/// masked: a name with the words `card` and `number`, or `pan`.
fn is_card_number(name: &str) -> bool {
    let words = sensitive::words(name);
    let has = |w: &str| words.iter().any(|x| x == w);
    (has("card") && has("number")) || has("pan")
}

/// `value` masked as the generated `maskCardNumber` masks it.
fn masked(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    let shown = if chars.len() > SHOWN_CARD_CHARS {
        SHOWN_CARD_CHARS
    } else {
        0
    };
    let hidden = chars.len() - shown;
    "*".repeat(hidden) + &chars[hidden..].iter().collect::<String>()
}

/// The fields of `resource` stored encrypted.
fn encrypted<'r, 'a>(
    resource: &'r GoResource<'a>,
    protection: &Protection,
) -> Vec<&'r GoField<'a>> {
    resource
        .fields
        .iter()
        .filter(|f| protection.encrypts(resource.plural(), &f.field.name))
        .collect()
}

fn masks_any(resources: &[GoResource<'_>], protection: &Protection) -> bool {
    resources.iter().any(|r| {
        encrypted(r, protection)
            .iter()
            .any(|f| is_card_number(&f.field.name))
    })
}

/// `a`, `a and b`, `a, b and c` of the fields' JSON names in backquotes.
fn field_list(fields: &[&GoField<'_>]) -> String {
    let names: Vec<String> = fields
        .iter()
        .map(|f| format!("`{}`", f.field.name))
        .collect();
    qlp_intent_spec::spec::english_list(&names)
}

/// The placeholders of `auth.go`: with an audit trail, `protect` passes
/// the token's subject on to the handler.
pub(super) fn auth_values(protection: &Protection) -> [(&'static str, &'static str); 1] {
    let verify = if protection.audit {
        "\t\tclaims, err := verifyToken(token, s.cfg.JWTSecret, time.Now())\n\
         \t\tif err != nil {\n\
         \t\t\tunauthorized(w)\n\
         \t\t\treturn\n\
         \t\t}\n\
         \t\tnext(w, withActor(r, claims.Subject))\n"
    } else {
        "\t\tif _, err := verifyToken(token, s.cfg.JWTSecret, time.Now()); err != nil {\n\
         \t\t\tunauthorized(w)\n\
         \t\t\treturn\n\
         \t\t}\n\
         \t\tnext(w, r)\n"
    };
    [("verify_and_next", verify)]
}

/// The lines `auth_test.go`'s login-free environment adds: the field key.
pub(super) fn auth_test_env(protection: &Protection) -> &'static str {
    if protection.encrypted.is_empty() {
        ""
    } else {
        "\t\tif name == \"FIELD_ENCRYPTION_KEY\" {\n\t\t\treturn testFieldKey\n\t\t}\n"
    }
}

/// The settings of `config.go`: the field key and the retention.
pub(super) fn extend_config(parts: &mut ConfigParts, protection: &Protection) {
    if !protection.encrypted.is_empty() {
        parts.doc.push_str(&format!(
            "//   - {KEY_VARIABLE} (required): the key sensitive fields are stored\n\
             //     encrypted with, 32 random bytes in base64 (openssl rand -base64 32).\n"
        ));
        parts
            .fields
            .push(("FieldCipher".into(), "*FieldCipher".into(), String::new()));
        parts.functions.push_str(
            "\n// fieldCipherFrom makes the cipher of the key FIELD_ENCRYPTION_KEY holds.\n\
             func fieldCipherFrom(encoded string) (*FieldCipher, error) {\n\
             \tkey, err := ParseFieldKey(encoded)\n\
             \tif err != nil {\n\
             \t\treturn nil, err\n\
             \t}\n\
             \treturn NewFieldCipher(key)\n\
             }\n",
        );
        parts.checks.push_str(&format!(
            "\tfieldCipher, err := fieldCipherFrom(getenv(\"{KEY_VARIABLE}\"))\n\
             \tif err != nil {{\n\
             \t\treturn Config{{}}, err\n\
             \t}}\n\
             \tcfg.FieldCipher = fieldCipher\n"
        ));
    }
    if let Some(days) = protection.retention_days {
        parts.import("time");
        parts.constants.push_str(&format!(
            "\n// defaultRetentionDays is how long records are kept when\n\
             // {RETENTION_VARIABLE} is unset; maxRetentionDays (100 years) bounds it.\n\
             const (\n\
             \tdefaultRetentionDays = {days}\n\
             \tmaxRetentionDays     = {max}\n\
             )\n",
            max = qlp_intent_spec::protection::MAX_RETENTION_DAYS,
        ));
        parts.doc.push_str(&format!(
            "//   - {RETENTION_VARIABLE}: how many days records are kept, {days} by\n\
             //     default; older ones are removed (see retention.go).\n"
        ));
        parts.fields.push((
            "RecordRetention".into(),
            "time.Duration".into(),
            String::new(),
        ));
        parts.checks.push_str(&format!(
            "\tretention, err := retentionFrom(getenv(\"{RETENTION_VARIABLE}\"))\n\
             \tif err != nil {{\n\
             \t\treturn Config{{}}, err\n\
             \t}}\n\
             \tcfg.RecordRetention = retention\n"
        ));
        parts.functions.push_str(&format!(
            "\n// retentionFrom reads {RETENTION_VARIABLE}: the default when it is\n\
             // empty, else a whole number of days from 1 to maxRetentionDays.\n\
             func retentionFrom(raw string) (time.Duration, error) {{\n\
             \tif raw == \"\" {{\n\
             \t\treturn defaultRetentionDays * 24 * time.Hour, nil\n\
             \t}}\n\
             \tdays, err := strconv.Atoi(raw)\n\
             \tif err != nil || days < 1 || days > maxRetentionDays {{\n\
             \t\treturn 0, fmt.Errorf(\"{RETENTION_VARIABLE} must be a whole number of days from 1 to %d, not %q\", maxRetentionDays, raw)\n\
             \t}}\n\
             \treturn time.Duration(days) * 24 * time.Hour, nil\n\
             }}\n"
        ));
    }
}

/// `config_test.go`'s refused values of the protection's settings.
pub(super) fn config_refusals(protection: &Protection) -> Vec<(&'static str, &'static str)> {
    let mut refusals = vec![];
    if !protection.encrypted.is_empty() {
        refusals.extend([
            (KEY_VARIABLE, ""),
            (KEY_VARIABLE, "not base64!"),
            // 16 bytes: an AES-128 key, too short.
            (KEY_VARIABLE, "MDEyMzQ1Njc4OWFiY2RlZg=="),
        ]);
    }
    if protection.retention_days.is_some() {
        refusals.extend([
            (RETENTION_VARIABLE, "0"),
            (RETENTION_VARIABLE, "forever"),
            (RETENTION_VARIABLE, "36501"),
        ]);
    }
    refusals
}

/// The server's clock (every protection uses it: records' creation times,
/// audit entries) and audit log.
pub(super) fn extend_server(
    protection: &Protection,
    imports: &mut Vec<&str>,
    fields: &mut Vec<(String, String, String)>,
    init: &mut String,
) {
    if !protection.any() {
        return;
    }
    imports.push("time");
    fields.push(("now".into(), "func() time.Time".into(), String::new()));
    init.push_str("\ts.now = time.Now\n");
    if protection.audit {
        imports.push("os");
        fields.push(("auditLog".into(), "*AuditLog".into(), String::new()));
        init.push_str("\ts.auditLog = NewAuditLog(os.Stdout)\n");
    }
}

/// `models.go`'s imports.
pub(super) fn models_imports(protection: &Protection) -> &'static str {
    if protection.retention_days.is_some() {
        "import \"time\"\n\n"
    } else {
        ""
    }
}

/// The outcomes the protected handlers report (to the audit trail).
pub(super) fn models_constants(protection: &Protection) -> &'static str {
    if !protection.any() {
        return "";
    }
    "\n// The outcomes of a requested change, as the audit trail records them.\n\
     const (\n\
     \toutcomeSuccess  = \"success\"\n\
     \toutcomeInvalid  = \"invalid\"\n\
     \toutcomeNotFound = \"not_found\"\n\
     \toutcomeError    = \"error\"\n\
     )\n"
}

/// The lines of a model's doc comment saying what is stored encrypted.
pub(super) fn stored_doc(resource: &GoResource<'_>, protection: &Protection) -> String {
    let fields = encrypted(resource, protection);
    if fields.is_empty() {
        return String::new();
    }
    let verb = if fields.len() == 1 { "holds" } else { "hold" };
    format!(
        "// In the repository {} {verb} ciphertext: see sealed and revealed.\n",
        field_list(&fields)
    )
}

/// The methods that encrypt a model's sensitive fields where it is stored
/// and decrypt them where it is returned, and those of retention.
pub(super) fn model_methods(resource: &GoResource<'_>, protection: &Protection) -> String {
    let model = &resource.model;
    let singular = &resource.resource.singular;
    let mut out = String::new();
    let fields = encrypted(resource, protection);
    if !fields.is_empty() {
        let (mut seal, mut open, mut mask) = (String::new(), String::new(), String::new());
        for f in &fields {
            let name = &f.name;
            let suffix = if f.field.required { "" } else { "Optional" };
            for (out, method) in [(&mut seal, "Encrypt"), (&mut open, "Decrypt")] {
                out.push_str(&format!(
                    "\tif record.{name}, err = fieldCipher.{method}{suffix}(record.{name}); err != nil {{\n\
                     \t\treturn {model}{{}}, err\n\
                     \t}}\n"
                ));
            }
            if is_card_number(&f.field.name) {
                mask.push_str(&if f.field.required {
                    format!("\trecord.{name} = maskCardNumber(record.{name})\n")
                } else {
                    format!(
                        "\tif record.{name} != nil {{\n\
                         \t\tshown := maskCardNumber(*record.{name})\n\
                         \t\trecord.{name} = &shown\n\
                         \t}}\n"
                    )
                });
            }
        }
        let masked_note = if mask.is_empty() {
            String::new()
        } else {
            "; a card\n// number masked to its last four characters (PCI DSS 3.4.1)".to_string()
        };
        out.push_str(&format!(
            "\n// sealed is the {singular} as the repository keeps it: {list} encrypted\n\
             // with the field key (see crypto.go).\n\
             func (record {model}) sealed(fieldCipher *FieldCipher) ({model}, error) {{\n\
             \tvar err error\n\
             {seal}\
             \treturn record, nil\n\
             }}\n\
             \n\
             // revealed is the stored {singular} as the API returns it: decrypted{masked_note}.\n\
             func (record {model}) revealed(fieldCipher *FieldCipher) ({model}, error) {{\n\
             \tvar err error\n\
             {open}\
             {mask}\
             \treturn record, nil\n\
             }}\n",
            list = field_list(&fields),
        ));
    }
    if protection.retention_days.is_some() {
        out.push_str(&format!(
            "\n// recordID is the {singular}'s id, for retention.go.\n\
             func (record {model}) recordID() int64 {{\n\
             \treturn record.ID\n\
             }}\n\
             \n\
             // created is when the {singular} was created, for retention.go.\n\
             func (record {model}) created() time.Time {{\n\
             \treturn record.CreatedAt\n\
             }}\n"
        ));
    }
    out
}

/// The handlers of one resource with encryption, audit trail and
/// retention as `protection` asks.
pub(super) fn handlers_go(
    resource: &GoResource<'_>,
    protection: &Protection,
) -> Result<String, PluginError> {
    let (model, plural, singular) = (
        &resource.model,
        resource.plural(),
        &resource.resource.singular,
    );
    let audit = |action: &str, id: &str| {
        if protection.audit {
            format!("\t\ts.audit(r, \"{action}\", \"{plural}\", {id}, outcome)\n")
        } else {
            String::new()
        }
    };
    let call = |results: &str, call: String| {
        if protection.audit {
            format!("{results} := {call}")
        } else {
            call
        }
    };
    let retention = protection.retention_days.is_some();
    let seal_and_show = if encrypted(resource, protection).is_empty() {
        format!(
            "\n// seal{model} is the {singular} as it is stored: as given, nothing of it\n\
             // is encrypted.\n\
             func (s *Server) seal{model}(record {model}) ({model}, error) {{\n\
             \treturn record, nil\n\
             }}\n\
             \n\
             // show{model} is the stored {singular} as the API returns it: as stored.\n\
             func (s *Server) show{model}(record {model}) ({model}, error) {{\n\
             \treturn record, nil\n\
             }}\n"
        )
    } else {
        format!(
            "\n// seal{model} is the {singular} as it is stored: its sensitive fields\n\
             // encrypted (see models.go).\n\
             func (s *Server) seal{model}(record {model}) ({model}, error) {{\n\
             \treturn record.sealed(s.cfg.FieldCipher)\n\
             }}\n\
             \n\
             // show{model} is the stored {singular} as the API returns it.\n\
             func (s *Server) show{model}(record {model}) ({model}, error) {{\n\
             \treturn record.revealed(s.cfg.FieldCipher)\n\
             }}\n"
        )
    };
    let mut values = resource_values(resource);
    values.extend([
        (
            "purge_call",
            if retention {
                "\ts.purgeExpired()\n"
            } else {
                ""
            }
            .to_string(),
        ),
        (
            "create_call",
            call("id, outcome", format!("s.create{model}(w, r)")),
        ),
        ("audit_create", audit("create", "id")),
        (
            "replace_call",
            call("outcome", format!("s.replace{model}(w, r, id)")),
        ),
        ("audit_replace", audit("replace", "id")),
        (
            "delete_call",
            call("outcome", format!("s.delete{model}(w, id)")),
        ),
        ("audit_delete", audit("delete", "id")),
        (
            "stamp_created",
            if retention {
                "\trecord.CreatedAt = s.now().UTC()\n"
            } else {
                ""
            }
            .to_string(),
        ),
        (
            "keep_created",
            if retention {
                format!(
                    "\texisting, found := s.stores.{plurals}.Get(id)\n\
                     \tif !found {{\n\
                     \t\twriteError(w, http.StatusNotFound, \"{singular} not found\")\n\
                     \t\treturn outcomeNotFound\n\
                     \t}}\n\
                     \trecord.CreatedAt = existing.CreatedAt\n",
                    plurals = resource.plurals
                )
            } else {
                String::new()
            },
        ),
        ("seal_and_show", seal_and_show),
    ]);
    render(tmpl::HANDLERS_PROTECTED, &as_pairs(&values))
}

/// The files that exist only for a protection: `crypto.go`, `audit.go`,
/// `retention.go` and `protection_test.go`.
pub(super) fn files(
    spec: &IntentSpec,
    protection: &Protection,
    resources: &[GoResource<'_>],
) -> Result<Vec<(String, String)>, PluginError> {
    let mut files = vec![];
    if !protection.any() {
        return Ok(files);
    }
    if !protection.encrypted.is_empty() {
        let mask = if masks_any(resources, protection) {
            "\n// maskCardNumber shows a card number as PCI DSS 3.4.1 allows: every\n\
             // character but the last four replaced by '*', all of them when it is that\n\
             // short.\n\
             func maskCardNumber(number string) string {\n\
             \trunes := []rune(number)\n\
             \tshown := 0\n\
             \tif len(runes) > 4 {\n\
             \t\tshown = 4\n\
             \t}\n\
             \treturn strings.Repeat(\"*\", len(runes)-shown) + string(runes[len(runes)-shown:])\n\
             }\n"
        } else {
            ""
        };
        files.push((
            "crypto.go".to_string(),
            render(tmpl::CRYPTO, &[("mask_function", mask)])?,
        ));
    }
    if protection.audit {
        let (import, with_actor) = if spec.auth {
            (
                "\t\"context\"\n",
                "// withActor returns r carrying the authenticated subject, for the audit\n\
                 // trail.\n\
                 func withActor(r *http.Request, subject string) *http.Request {\n\
                 \treturn r.WithContext(context.WithValue(r.Context(), actorKey{}, subject))\n\
                 }\n\n",
            )
        } else {
            ("", "")
        };
        files.push((
            "audit.go".to_string(),
            render(
                tmpl::AUDIT,
                &[("audit_context_import", import), ("with_actor", with_actor)],
            )?,
        ));
    }
    if protection.retention_days.is_some() {
        files.push((
            "retention.go".to_string(),
            retention_go(protection, resources)?,
        ));
    }
    files.push((
        "protection_test.go".to_string(),
        test_suite::protection_test_go(spec, protection, resources),
    ));
    Ok(files)
}

fn retention_go(
    protection: &Protection,
    resources: &[GoResource<'_>],
) -> Result<String, PluginError> {
    let calls: String = resources
        .iter()
        .map(|r| {
            if protection.audit {
                format!(
                    "\ts.auditPurged(\"{}\", purgeBefore(s.stores.{}, cutoff))\n",
                    r.plural(),
                    r.plurals
                )
            } else {
                format!("\tpurgeBefore(s.stores.{}, cutoff)\n", r.plurals)
            }
        })
        .collect();
    let audit_purged = if protection.audit {
        "\n// retentionActor is the actor of the removal of expired records.\n\
         const retentionActor = \"retention\"\n\
         \n\
         // auditPurged records the removal of expired records in the audit trail.\n\
         func (s *Server) auditPurged(resource string, ids []int64) {\n\
         \tfor _, id := range ids {\n\
         \t\ts.auditLog.Record(AuditEntry{\n\
         \t\t\tTime:     s.now().UTC().Format(time.RFC3339Nano),\n\
         \t\t\tActor:    retentionActor,\n\
         \t\t\tAction:   \"purge\",\n\
         \t\t\tResource: resource,\n\
         \t\t\tRecordID: id,\n\
         \t\t\tOutcome:  outcomeSuccess,\n\
         \t\t})\n\
         \t}\n\
         }\n"
    } else {
        ""
    };
    render(
        tmpl::RETENTION,
        &[("purge_calls", &calls), ("audit_purged", audit_purged)],
    )
}

/// The test environment's field key, in `helpers_test.go`.
pub(super) fn extend_test_env(
    protection: &Protection,
    constants: &mut String,
    test_env: &mut String,
) {
    if protection.encrypted.is_empty() {
        return;
    }
    constants.push_str(&format!(
        "\n// testFieldKey is the field encryption key the tests configure (32 bytes\n\
         // in base64); the service reads its own from the environment.\n\
         const testFieldKey = \"{TEST_FIELD_KEY}\"\n"
    ));
    let case = format!("\tcase \"{KEY_VARIABLE}\":\n\t\treturn testFieldKey\n");
    if let Some(open) = test_env.strip_suffix("\t}\n") {
        *test_env = format!("{open}{case}\t}}\n");
    } else {
        test_env.push_str(&format!(
            "\tif name == \"{KEY_VARIABLE}\" {{\n\t\treturn testFieldKey\n\t}}\n"
        ));
    }
}

/// The body the API answers for the valid (or changed) example body: card
/// numbers masked.
pub(super) fn shown_body(
    resource: &GoResource<'_>,
    protection: &Protection,
    changed: bool,
) -> String {
    let model = &resource.model;
    let mut body = if changed {
        format!("changed{model}()")
    } else {
        format!("valid{model}()")
    };
    for f in encrypted(resource, protection) {
        if is_card_number(&f.field.name) && f.field.kind == FieldKind::Text {
            let example = example_value(f.field, changed);
            let plain = example.trim_matches('"');
            body = format!(
                "with({body}, {}, {})",
                go_string(&f.field.name),
                go_string(&masked(plain))
            );
        }
    }
    body
}

/// What the README adds for a protection.
pub(super) struct ReadmeExtra {
    pub feature_bullets: String,
    pub run_note: String,
    pub docker_env: String,
    pub config_rows: String,
    pub section: String,
    pub layout: String,
}

/// The README's "Data protection" section and the lines elsewhere.
pub(super) fn readme_extra(protection: &Protection, resources: &[GoResource<'_>]) -> ReadmeExtra {
    let mut extra = ReadmeExtra {
        feature_bullets: String::new(),
        run_note: String::new(),
        docker_env: String::new(),
        config_rows: String::new(),
        section: "## Data protection\n\n".to_string(),
        layout: String::new(),
    };
    let reasons: Vec<String> = protection
        .reasons
        .iter()
        .map(|r| format!("- {r}\n"))
        .collect();
    extra.section.push_str(&format!(
        "The service protects the sensitive data it keeps because of:\n\n{}\n",
        reasons.concat()
    ));
    if !protection.encrypted.is_empty() {
        readme_encryption(protection, resources, &mut extra);
    }
    if !protection.dropped.is_empty() {
        let dropped: Vec<String> = protection
            .dropped
            .iter()
            .map(|(plural, field)| format!("`{field}` of `/{plural}`"))
            .collect();
        extra.section.push_str(&format!(
            "### Fields not stored\n\n\
             The intent names {}, a card verification code: PCI DSS 3.3.1 forbids\n\
             keeping it after authorisation, even encrypted, so the service has no such\n\
             field and refuses a body that sends it (400). Pass it straight to the\n\
             payment processor.\n\n",
            qlp_intent_spec::spec::english_list(&dropped)
        ));
    }
    if protection.audit {
        extra
            .feature_bullets
            .push_str("- An audit trail: one JSON line per create, replace and delete.\n");
        extra.layout.push_str("- `audit.go`: the audit trail.\n");
        extra.section.push_str(
            "### Audit trail\n\n\
             Every create, replace and delete writes one JSON line to standard output\n\
             (the service's own log goes to standard error), with the time, the actor\n\
             (the token's subject, or `anonymous` without authentication), the action,\n\
             the resource, the record id and the outcome (`success`, `invalid`,\n\
             `not_found` or `error`). The values of a record are never written to it.\n\n\
             ```json\n\
             {\"time\":\"2030-01-01T12:00:00Z\",\"actor\":\"admin\",\"action\":\"create\",\"resource\":\"…\",\"record_id\":1,\"outcome\":\"success\"}\n\
             ```\n\n",
        );
    }
    if let Some(days) = protection.retention_days {
        extra.feature_bullets.push_str(&format!(
            "- Retention: records older than `{RETENTION_VARIABLE}` ({days} days by\n  \
             default) are removed.\n"
        ));
        extra.config_rows.push_str(&format!(
            "| `{RETENTION_VARIABLE}` | Days a record is kept after its creation | {days} |\n"
        ));
        extra
            .layout
            .push_str("- `retention.go`: the removal of expired records.\n");
        let purged = if protection.audit {
            " Each removal is written to the audit trail (actor `retention`)."
        } else {
            ""
        };
        extra.section.push_str(&format!(
            "### Retention\n\n\
             Every record carries its creation time (`created_at`). Records older than\n\
             `{RETENTION_VARIABLE}` days ({days} by default) are removed before each\n\
             request to a resource, so an expired record is never served.{purged}\n\n"
        ));
    }
    extra
}

fn readme_encryption(
    protection: &Protection,
    resources: &[GoResource<'_>],
    extra: &mut ReadmeExtra,
) {
    let mut rows = String::new();
    for resource in resources {
        for f in encrypted(resource, protection) {
            let shown = if is_card_number(&f.field.name) {
                "masked to its last four characters"
            } else {
                "decrypted"
            };
            rows.push_str(&format!(
                "| `/{}` | `{}` | {shown} |\n",
                resource.plural(),
                f.field.name
            ));
        }
    }
    let card_note = if masks_any(resources, protection) {
        "A card number is never returned whole: the API shows its last four\n\
         characters and masks the rest with `*` (PCI DSS 3.4.1), in every answer.\n\n"
    } else {
        ""
    };
    extra.feature_bullets.push_str(&format!(
        "- Sensitive fields stored encrypted (AES-256-GCM, key in `{KEY_VARIABLE}`).\n"
    ));
    extra.run_note.push_str(&format!(
        "export {KEY_VARIABLE}=\"$(openssl rand -base64 32)\"  # see Data protection\n"
    ));
    extra.docker_env.push_str(&format!("-e {KEY_VARIABLE} "));
    extra.config_rows.push_str(&format!(
        "| `{KEY_VARIABLE}` | Key of the encrypted fields, 32 bytes in base64 (required) | none: the service refuses to start |\n"
    ));
    extra
        .layout
        .push_str("- `crypto.go`: the encryption of sensitive fields.\n");
    extra.section.push_str(&format!(
        "### Encrypted fields\n\n\
         These fields are stored encrypted with AES-256-GCM (Go's `crypto/aes` and\n\
         `crypto/cipher`), each value with its own random 12-byte nonce, and\n\
         decrypted only when the API returns the record:\n\n\
         | Resource | Field | Returned |\n|---|---|---|\n{rows}\n\
         {card_note}\
         The key is `{KEY_VARIABLE}`: 32 random bytes in base64. Without it, or\n\
         with a malformed one, the service refuses to start. Create one with\n\n\
         ```sh\n\
         export {KEY_VARIABLE}=\"$(openssl rand -base64 32)\"\n\
         ```\n\n\
         and keep it in a secret store: records encrypted under a lost key cannot be\n\
         read, and anyone with the key and a copy of the data can read them.\n\n"
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_numbers_are_masked_to_their_last_four_characters() {
        assert!(is_card_number("card_number"));
        assert!(is_card_number("pan"));
        assert!(!is_card_number("cardholder_name"));
        assert_eq!(masked("4111111111111234"), "************1234");
        assert_eq!(masked("123"), "***");
    }
}
