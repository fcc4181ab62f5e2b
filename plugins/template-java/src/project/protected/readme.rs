//! The README's "Data protection" section, and the lines the protection
//! adds to its other sections (features, how to run, configuration,
//! layout).

use qlp_intent_spec::protection::{KEY_VARIABLE, Protection, RETENTION_VARIABLE};
use qlp_intent_spec::spec::english_list;

use super::JavaResource;

/// What the protection adds to the README.
#[derive(Default)]
pub(crate) struct ReadmeExtra {
    pub feature_bullets: String,
    pub run_note: String,
    pub docker_env: String,
    pub config_rows: String,
    pub section: String,
    pub layout: String,
}

/// The README's additions for `protection`; empty without one.
pub(crate) fn readme_extra(protection: &Protection, resources: &[JavaResource<'_>]) -> ReadmeExtra {
    let mut extra = ReadmeExtra::default();
    if !protection.any() {
        return extra;
    }
    let reasons: String = protection
        .reasons
        .iter()
        .map(|r| format!("- {r}\n"))
        .collect();
    extra.section = format!(
        "## Data protection\n\n\
         The service protects the sensitive data it keeps because of:\n\n{reasons}\n\
         All of it is in the plain-Java core, applied by the services and tested by\n\
         their JUnit tests.\n\n"
    );
    if !protection.encrypted.is_empty() {
        encryption(protection, resources, &mut extra);
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
            english_list(&dropped)
        ));
    }
    if protection.audit {
        extra.feature_bullets.push_str(
            "- An audit trail: one JSON line per create, replace and delete, with the\n  \
             actor.\n",
        );
        extra.layout.push_str(
            "- `audit/`: `AuditTrail`, the audit trail the services write to;\n  \
             `web/Actor` gives it the request's actor.\n",
        );
        extra.section.push_str(
            "### Audit trail\n\n\
             Every create, replace and delete writes one JSON line to standard output,\n\
             with the time, the actor (the bearer token's subject, or `anonymous`\n\
             without one), the action, the resource, the record id and the outcome\n\
             (`success`, `invalid` or `not_found`). The values of a record are never\n\
             written to it.\n\n\
             ```json\n\
             {\"time\":\"2030-01-01T12:00:00Z\",\"actor\":\"clerk\",\"action\":\"create\",\"resource\":\"…\",\"record_id\":1,\"outcome\":\"success\"}\n\
             ```\n\n",
        );
    }
    if let Some(days) = protection.retention_days {
        retention(protection.audit, days, &mut extra);
    }
    extra
}

fn retention(audit: bool, days: u32, extra: &mut ReadmeExtra) {
    extra.feature_bullets.push_str(&format!(
        "- Retention: records older than `{RETENTION_VARIABLE}` days ({days} by\n  \
         default) are removed.\n"
    ));
    extra.config_rows.push_str(&format!(
        "| `{RETENTION_VARIABLE}` | Days a record is kept after its creation | {days} |\n"
    ));
    extra
        .layout
        .push_str("- `retention/`: `RetentionPolicy`, how long records are kept.\n");
    let purged = if audit {
        " Each removal is written to the audit trail (actor `retention`, action\n`expire`)."
    } else {
        ""
    };
    extra.section.push_str(&format!(
        "### Retention\n\n\
         Every record carries its creation time (`created_at`), which a replace\n\
         keeps. Records older than `{RETENTION_VARIABLE}` days ({days} by default,\n\
         set in `application.properties`; the environment variable overrides it)\n\
         are removed before each operation on their resource, so an expired record\n\
         is never served.{purged}\n\n"
    ));
}

fn encryption(protection: &Protection, resources: &[JavaResource<'_>], extra: &mut ReadmeExtra) {
    let mut rows = String::new();
    let mut masks = false;
    for resource in resources {
        for field in resource.encrypted(protection) {
            let masked = field.masked(protection, resource.plural());
            masks |= masked;
            rows.push_str(&format!(
                "| `/{}` | `{}` | {} |\n",
                resource.plural(),
                field.field.name,
                if masked {
                    "masked to its last four characters"
                } else {
                    "decrypted"
                }
            ));
        }
    }
    let card_note = if masks {
        "A card number is never returned whole: the API shows its last four\n\
         characters only, the rest replaced by `*` (PCI DSS 3.4.1).\n\n"
    } else {
        ""
    };
    extra
        .feature_bullets
        .push_str("- Sensitive fields stored encrypted (AES-256-GCM).\n");
    extra.run_note.push_str(&format!(
        "export {KEY_VARIABLE}=\"$(openssl rand -base64 32)\"  # see Data protection\n"
    ));
    extra.docker_env.push_str(&format!("-e {KEY_VARIABLE} "));
    extra.config_rows.push_str(&format!(
        "| `{KEY_VARIABLE}` | Key of the encrypted fields, 32 bytes in base64 (required) | none: the service refuses to start |\n"
    ));
    extra
        .layout
        .push_str("- `crypto/`: `FieldCipher`, the encryption of sensitive fields.\n");
    extra.section.push_str(&format!(
        "### Encrypted fields\n\n\
         These fields are stored encrypted with AES-256-GCM (the JDK's\n\
         `javax.crypto`, `AES/GCM/NoPadding`), each value with its own random\n\
         12-byte nonce, and decrypted only when the API returns the record:\n\n\
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
