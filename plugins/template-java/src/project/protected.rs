//! The parts of the project that protect sensitive data, when
//! `qlp_intent_spec::protection` asks for any: the fields stored encrypted
//! (`crypto/FieldCipher`, AES-256-GCM on `javax.crypto`), the audit trail
//! (`audit/AuditTrail`, one JSON line per change) and the retention
//! (`retention/RetentionPolicy`, records removed once older than
//! `RECORD_RETENTION_DAYS`). All of it is in the plain-Java core, where the
//! services apply it and JUnit tests it; the web layer only passes the
//! request's actor. Without a protection none of this is written and
//! [`super`] renders the project as it always did.

use qlp_intent_spec::protection::{KEY_VARIABLE, Protection, RETENTION_VARIABLE};
use qlp_intent_spec::sensitive;
use qlp_sdk::PluginError;

use super::{JavaField, JavaResource, Project, resource_values, string_list};
use crate::java;

mod readme;
mod tests_java;

pub(super) use readme::readme_extra;
pub(super) use tests_java::service_test_java;

/// The templates of the protection, compiled into the plugin.
pub(super) mod tmpl {
    pub const FIELD_CIPHER: &str = include_str!("../../templates/protected/FieldCipher.java.tmpl");
    pub const AUDIT_TRAIL: &str = include_str!("../../templates/protected/AuditTrail.java.tmpl");
    pub const RETENTION_POLICY: &str =
        include_str!("../../templates/protected/RetentionPolicy.java.tmpl");
    pub const CONTROLLER: &str = include_str!("../../templates/protected/Controller.java.tmpl");
    pub const ACTOR: &str = include_str!("../../templates/protected/Actor.java.tmpl");
    pub const SERVICE: &str = include_str!("../../templates/protected/Service.java.tmpl");
    pub const MODEL: &str = include_str!("../../templates/protected/Model.java.tmpl");
    pub const TEST_KEYS: &str = include_str!("../../templates/protected/TestKeys.java.tmpl");
    pub const TEST_CLOCK: &str = include_str!("../../templates/protected/TestClock.java.tmpl");
    pub const FIELD_CIPHER_TEST: &str =
        include_str!("../../templates/protected/FieldCipherTest.java.tmpl");
    pub const AUDIT_TRAIL_TEST: &str =
        include_str!("../../templates/protected/AuditTrailTest.java.tmpl");
    pub const RETENTION_POLICY_TEST: &str =
        include_str!("../../templates/protected/RetentionPolicyTest.java.tmpl");
}

/// The field key of the generated tests: 32 bytes in base64 that say what
/// they are for. Never a default of the service, which has none.
pub(super) const TEST_KEY: &str = "dGVzdC1vbmx5LWZpZWxkLWtleS1vZi0zMi1ieXRlcyE=";

/// The time the generated tests create records at.
const TEST_CREATED_AT: &str = "2030-01-01T00:00:00Z";

/// How many trailing characters of a card number the API shows (PCI DSS
/// 3.4.1); `FieldCipher.CARD_DIGITS_SHOWN` in the generated code.
const CARD_DIGITS_SHOWN: usize = 4;

/// Whether a field holds a card number, which the API answers masked: its
/// name has the words `card` and `number`, or `pan`.
pub(super) fn is_card_number(name: &str) -> bool {
    let words = sensitive::words(name);
    let has = |w: &str| words.iter().any(|x| x == w);
    (has("card") && has("number")) || has("pan")
}

/// A card number as the generated `FieldCipher.maskCardNumber` shows it.
pub(super) fn mask(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() <= CARD_DIGITS_SHOWN {
        return "*".repeat(chars.len());
    }
    let shown: String = chars[chars.len() - CARD_DIGITS_SHOWN..].iter().collect();
    format!("{}{shown}", "*".repeat(chars.len() - CARD_DIGITS_SHOWN))
}

impl JavaResource<'_> {
    /// Whether the resource stores any field encrypted.
    pub(super) fn encrypts(&self, protection: &Protection) -> bool {
        protection.encrypts_any(self.plural())
    }

    /// The fields stored encrypted.
    pub(super) fn encrypted<'s>(&'s self, protection: &'s Protection) -> Vec<&'s JavaField<'s>> {
        self.fields
            .iter()
            .filter(|f| protection.encrypts(self.plural(), &f.field.name))
            .collect()
    }
}

impl JavaField<'_> {
    /// Whether the API answers this encrypted field masked.
    pub(super) fn masked(&self, protection: &Protection, plural: &str) -> bool {
        protection.encrypts(plural, &self.field.name) && is_card_number(&self.field.name)
    }
}

/// The core files of the protection: the cipher, the audit trail, the
/// retention, and their tests.
pub(super) fn core_files(p: &Project<'_>) -> Result<Vec<(String, String)>, PluginError> {
    let protection = p.protection;
    let first = p.resources[0].plural().to_string();
    let mut files = Vec::new();
    files.push((
        p.test("testing/TestClock.java"),
        p.render(tmpl::TEST_CLOCK, &[])?,
    ));
    if !protection.encrypted.is_empty() {
        files.push((
            p.main("crypto/FieldCipher.java"),
            p.render(tmpl::FIELD_CIPHER, &[])?,
        ));
        files.push((
            p.test("testing/TestKeys.java"),
            p.render(tmpl::TEST_KEYS, &[("test_key", TEST_KEY.into())])?,
        ));
        files.push((
            p.test("crypto/FieldCipherTest.java"),
            p.render(tmpl::FIELD_CIPHER_TEST, &[])?,
        ));
    }
    if protection.audit {
        files.push((
            p.main("audit/AuditTrail.java"),
            p.render(tmpl::AUDIT_TRAIL, &[("first_plural", first.clone())])?,
        ));
        files.push((
            p.test("audit/AuditTrailTest.java"),
            p.render(tmpl::AUDIT_TRAIL_TEST, &[("first_plural", first)])?,
        ));
        files.push((p.main("web/Actor.java"), p.render(tmpl::ACTOR, &[])?));
    }
    if let Some(days) = protection.retention_days {
        files.push((
            p.main("retention/RetentionPolicy.java"),
            p.render(
                tmpl::RETENTION_POLICY,
                &[("retention_days", days.to_string())],
            )?,
        ));
        files.push((
            p.test("retention/RetentionPolicyTest.java"),
            p.render(tmpl::RETENTION_POLICY_TEST, &[])?,
        ));
    }
    Ok(files)
}

/// The controller of a resource, which passes the request's actor to the
/// service when changes are audited.
pub(super) fn controller_java(
    p: &Project<'_>,
    resource: &JavaResource<'_>,
    auth_doc: &str,
) -> Result<String, PluginError> {
    let audit = p.protection.audit;
    let mut values = resource_values(resource);
    values.extend([
        ("auth_doc", auth_doc.to_string()),
        (
            "audit_doc",
            if audit {
                " and writes each change to the audit trail, with the actor of the request".into()
            } else {
                String::new()
            },
        ),
        (
            "servlet_import",
            if audit {
                "import jakarta.servlet.http.HttpServletRequest;\n".into()
            } else {
                String::new()
            },
        ),
        (
            "request_param",
            if audit {
                ", HttpServletRequest request".into()
            } else {
                String::new()
            },
        ),
        (
            "actor_arg",
            if audit {
                ", Actor.of(request)".into()
            } else {
                String::new()
            },
        ),
    ]);
    p.render(tmpl::CONTROLLER, &values)
}

/// The values of `BearerTokenFilter` that store the token's subject for
/// the audit trail; what the filter always had otherwise.
pub(super) fn filter_values(p: &Project<'_>) -> Vec<(&'static str, String)> {
    let check = "if (auth.subject(authorization, Instant.now().getEpochSecond()).isEmpty())";
    if p.protection.audit {
        vec![
            ("filter_imports", "import java.util.Optional;\n".into()),
            (
                "subject_check",
                "Optional<String> subject = auth.subject(authorization, Instant.now().getEpochSecond());\n        \
                 if (subject.isEmpty())"
                    .into(),
            ),
            (
                "subject_store",
                "        request.setAttribute(Actor.ATTRIBUTE, subject.get());\n".into(),
            ),
        ]
    } else {
        vec![
            ("filter_imports", String::new()),
            ("subject_check", check.into()),
            ("subject_store", String::new()),
        ]
    }
}

/// The values of `Repository` and `InMemoryRepository` that remove
/// expired records; empty without a retention.
pub(super) fn repository_values(p: &Project<'_>, in_memory: bool) -> Vec<(&'static str, String)> {
    if p.protection.retention_days.is_none() {
        return vec![
            ("purge_imports", String::new()),
            ("purge_method", String::new()),
        ];
    }
    let method = if in_memory {
        "\n    /** Removes every record {@code test} accepts; returns them, oldest first. */\n\
         \x20   @Override\n\
         \x20   public synchronized List<T> removeIf(Predicate<T> test) {\n\
         \x20       List<T> removed = new ArrayList<>();\n\
         \x20       records.values().removeIf(record -> {\n\
         \x20           if (test.test(record)) {\n\
         \x20               removed.add(record);\n\
         \x20               return true;\n\
         \x20           }\n\
         \x20           return false;\n\
         \x20       });\n\
         \x20       return removed;\n\
         \x20   }\n"
    } else {
        "\n    /** Removes every record {@code test} accepts; returns them, oldest first. */\n\
         \x20   List<T> removeIf(Predicate<T> test);\n"
    };
    vec![
        (
            "purge_imports",
            "import java.util.function.Predicate;\n".into(),
        ),
        ("purge_method", method.into()),
    ]
}

/// The record of one resource as stored: the encrypted fields hold
/// ciphertext, and the record its creation time. `Input.seal` encrypts
/// (`Input.withId` when nothing is), `toJson` decrypts and masks.
pub(super) fn model_java(
    p: &Project<'_>,
    resource: &JavaResource<'_>,
) -> Result<String, PluginError> {
    let protection = p.protection;
    let singular = &resource.resource.singular;
    let package = &p.package;
    let encrypts = resource.encrypts(protection);
    let plural = resource.plural();

    let components = |stored: bool| -> String {
        let mut list: Vec<String> = Vec::new();
        if stored {
            list.push("long id".into());
        }
        list.extend(
            resource
                .fields
                .iter()
                .map(|f| format!("{} {}", f.java_type(), f.name)),
        );
        if stored {
            list.push("Instant createdAt".into());
        }
        list.join(",\n        ")
    };
    let json_names = string_list(resource.fields.iter().map(|f| f.field.name.as_str()));
    let mut puts = String::new();
    for f in &resource.fields {
        let value = if f.masked(protection, plural) {
            format!(
                "FieldCipher.maskCardNumber(cipher.decrypt(this.{}))",
                f.name
            )
        } else if protection.encrypts(plural, &f.field.name) {
            format!("cipher.decrypt(this.{})", f.name)
        } else {
            format!("this.{}", f.name)
        };
        puts.push_str(&format!(
            "        json.put({}, {value});\n",
            java::string(&f.field.name)
        ));
    }
    let reads: Vec<String> = resource.fields.iter().map(JavaField::reader_call).collect();
    let copies: Vec<String> = resource
        .fields
        .iter()
        .map(|f| {
            if protection.encrypts(plural, &f.field.name) {
                format!("cipher.encrypt(this.{})", f.name)
            } else {
                format!("this.{}", f.name)
            }
        })
        .collect();
    let encrypted_names: Vec<String> = resource
        .encrypted(protection)
        .iter()
        .map(|f| format!("{{@code {}}}", f.name))
        .collect();

    let (crypto_import, stored_doc, to_json, store) = if encrypts {
        (
            format!("import {package}.crypto.FieldCipher;\n"),
            format!(
                "\n * Stored encrypted: {} hold{} the ciphertext that {{@link FieldCipher}}\n \
                 * makes, never the value; {{@link #toJson}} decrypts {}.",
                qlp_intent_spec::spec::english_list(&encrypted_names),
                if encrypted_names.len() == 1 { "s" } else { "" },
                if encrypted_names.len() == 1 {
                    "it"
                } else {
                    "them"
                },
            ),
            "toJson(FieldCipher cipher)",
            "seal(long id, Instant createdAt, FieldCipher cipher)",
        )
    } else {
        (
            String::new(),
            String::new(),
            "toJson()",
            "withId(long id, Instant createdAt)",
        )
    };
    let mask_doc = if resource.fields.iter().any(|f| f.masked(protection, plural)) {
        " A card\n     * number is shown by its last four characters only (PCI DSS 3.4.1)."
    } else {
        ""
    };
    let store_doc = if encrypts {
        "The {singular} to store, with the given id and creation time: the\n         \
         * sensitive values are encrypted, each with its own nonce."
    } else {
        "The {singular} to store, with the given id and creation time."
    }
    .replace("{singular}", singular);

    let mut values = resource_values(resource);
    values.extend([
        ("crypto_import", crypto_import),
        ("stored_doc", stored_doc),
        ("record_components", components(true)),
        ("json_names", json_names),
        ("mask_doc", mask_doc.to_string()),
        ("to_json", to_json.to_string()),
        ("puts", puts),
        (
            "input_components",
            components(false).replace("\n        ", "\n            "),
        ),
        ("reads", reads.join(",\n                    ")),
        ("store_doc", store_doc),
        ("store", store.to_string()),
        ("copies", copies.join(", ")),
    ]);
    p.render(tmpl::MODEL, &values)
}

/// The `ModelTest` values that read the stored record back as the API
/// answers it: with its creation time, decrypted, card numbers masked.
pub(super) fn model_test_values(
    p: &Project<'_>,
    resource: &JavaResource<'_>,
) -> Vec<(&'static str, String)> {
    let protection = p.protection;
    let encrypts = resource.encrypts(protection);
    let answer = |n: u32| {
        if encrypts {
            format!(".seal({n}, CREATED_AT, TestKeys.CIPHER).toJson(TestKeys.CIPHER)")
        } else {
            format!(".withId({n}, CREATED_AT).toJson()")
        }
    };
    let masked: Vec<&JavaField<'_>> = resource
        .fields
        .iter()
        .filter(|f| f.masked(protection, resource.plural()))
        .collect();
    let extra = |map: &str, body: &str| -> String {
        let mut lines = format!("        {map}.put(\"created_at\", CREATED_AT.toString());\n");
        for f in &masked {
            let json = java::string(&f.field.name);
            lines.push_str(&format!(
                "        {map}.put({json}, FieldCipher.maskCardNumber((String) {body}().get({json})));\n"
            ));
        }
        lines
    };
    let mut imports = String::new();
    if !masked.is_empty() {
        imports.push_str(&format!("import {}.crypto.FieldCipher;\n", p.package));
    }
    if encrypts {
        imports.push_str(&format!("import {}.testing.TestKeys;\n", p.package));
    }
    vec![
        ("protection_imports", imports),
        ("java_imports", "import java.time.Instant;\n".into()),
        (
            "test_members",
            format!(
                "    private static final Instant CREATED_AT = Instant.parse(\"{TEST_CREATED_AT}\");\n\n"
            ),
        ),
        ("expected_extra", extra("expected", "valid")),
        (
            "changed_expected_extra",
            extra("changedExpected", "changed"),
        ),
        ("answer_1", answer(1)),
        ("answer_2", answer(2)),
    ]
}

/// The `ControllerTest` values: what the API answers for the example
/// bodies when it masks card numbers.
pub(super) fn controller_test_values(
    p: &Project<'_>,
    resource: &JavaResource<'_>,
) -> Vec<(&'static str, String)> {
    let plural = resource.plural();
    let masks = resource
        .fields
        .iter()
        .any(|f| f.masked(p.protection, plural));
    if !masks {
        return vec![
            ("answer_constants", String::new()),
            ("valid_answer", "VALID".into()),
            ("changed_answer", "CHANGED".into()),
        ];
    }
    let answer = |changed: bool| -> String {
        let pairs: Vec<String> = resource
            .fields
            .iter()
            .map(|f| {
                let value = if f.masked(p.protection, plural) {
                    let example = f.field.example_value(changed, |s| s.to_string());
                    super::json_string(&mask(&example))
                } else {
                    f.field.example_value(changed, super::json_string)
                };
                format!("{}: {value}", super::json_string(&f.field.name))
            })
            .collect();
        java::string(&format!("{{{}}}", pairs.join(", ")))
    };
    vec![
        (
            "answer_constants",
            format!(
                "    /** The answers: card numbers are masked. */\n    \
                 private static final String VALID_ANSWER = {};\n    \
                 private static final String CHANGED_ANSWER = {};\n",
                answer(false),
                answer(true)
            ),
        ),
        ("valid_answer", "VALID_ANSWER".into()),
        ("changed_answer", "CHANGED_ANSWER".into()),
    ]
}

/// The `@WebMvcTest` properties the protection needs: the test field key.
pub(super) fn test_properties(protection: &Protection) -> Vec<String> {
    if protection.encrypted.is_empty() {
        vec![]
    } else {
        vec![format!("{KEY_VARIABLE}={TEST_KEY}")]
    }
}

/// The service of a resource: it seals what it stores, answers records
/// decrypted, audits every change and removes expired records before each
/// operation.
pub(super) fn service_java(
    p: &Project<'_>,
    resource: &JavaResource<'_>,
) -> Result<String, PluginError> {
    let protection = p.protection;
    let audit = protection.audit;
    let retention = protection.retention_days.is_some();
    let encrypts = resource.encrypts(protection);
    let model = &resource.model;
    let package = &p.package;
    let when = |on: bool, text: &str| if on { text.to_string() } else { String::new() };

    let mut imports = vec![format!("{package}.model.{model}")];
    imports.push(format!("{package}.repository.Repository"));
    if audit {
        imports.push(format!("{package}.audit.AuditTrail"));
        imports.push(format!("{package}.validation.ValidationException"));
    }
    if encrypts {
        imports.push(format!("{package}.crypto.FieldCipher"));
    }
    if retention {
        imports.push(format!("{package}.retention.RetentionPolicy"));
        imports.push("java.time.Instant".into());
    }
    imports.extend(["java.time.Clock", "java.util.List", "java.util.Map"].map(String::from));
    imports.sort();
    let imports: String = imports.iter().map(|i| format!("import {i};\n")).collect();

    let mut members = Vec::new();
    let mut doc = Vec::new();
    if encrypts {
        members.push(("FieldCipher", "cipher"));
        doc.push("its sensitive fields are stored encrypted by {@link FieldCipher}");
    }
    if audit {
        members.push(("AuditTrail", "audit"));
        doc.push("every change is written to the {@link AuditTrail}");
    }
    if retention {
        members.push(("RetentionPolicy", "retention"));
        doc.push(
            "records older than the {@link RetentionPolicy} are removed before each operation",
        );
    }
    members.push(("Clock", "clock"));
    let fields: String = members
        .iter()
        .map(|(ty, name)| format!("    private final {ty} {name};\n"))
        .collect();
    let params: String = members
        .iter()
        .map(|(ty, name)| format!(", {ty} {name}"))
        .collect();
    let assignments: String = members
        .iter()
        .map(|(_, name)| format!("        this.{name} = {name};\n"))
        .collect();

    let actor = when(audit, ", String actor");
    let purge = when(retention, "        purgeExpired();\n");
    let answer = if encrypts {
        "record.toJson(cipher)"
    } else {
        "record.toJson()"
    };
    let cipher_arg = when(encrypts, ", cipher");
    let store = if encrypts { "seal" } else { "withId" };
    let parse = |action: &str, id: &str| {
        if audit {
            format!("parse(json, actor, \"{action}\", {id})")
        } else {
            format!("{model}.Input.parse(json)")
        }
    };
    let audit_line = |action: &str, id: &str, outcome: &str| {
        when(
            audit,
            &format!(
                "        audit.record(actor, \"{action}\", RESOURCE, {id}, AuditTrail.{outcome});\n"
            ),
        )
    };
    let not_found = |action: &str| {
        if audit {
            format!(
                "{{\n            audit.record(actor, \"{action}\", RESOURCE, id, AuditTrail.NOT_FOUND);\n            \
                 throw notFound(id);\n        }}"
            )
        } else {
            "{\n            throw notFound(id);\n        }".to_string()
        }
    };

    let actor_doc = when(audit, " {@code actor} is who asks, for the audit trail.");

    let mut values = resource_values(resource);
    values.extend([
        ("imports", imports),
        ("protection_doc", capitalize_first(&doc.join(";\n * "))),
        ("fields", fields),
        ("params", params),
        ("assignments", assignments),
        ("purge", purge),
        ("actor", actor),
        ("actor_doc", actor_doc),
        ("parse_create", parse("create", "null")),
        ("parse_replace", parse("replace", "id")),
        ("store", store.to_string()),
        ("cipher_arg", cipher_arg),
        (
            "audit_create",
            audit_line("create", "created.id()", "SUCCESS"),
        ),
        ("audit_replace", audit_line("replace", "id", "SUCCESS")),
        ("audit_delete", audit_line("delete", "id", "SUCCESS")),
        ("not_found_replace", not_found("replace")),
        ("not_found_delete", not_found("delete")),
        ("helpers", service_helpers(resource, audit, retention)),
        ("answer", answer.to_string()),
    ]);
    p.render(tmpl::SERVICE, &values)
}

/// The service's `purgeExpired` (with a retention) and `parse` (with an
/// audit trail, which records a refused body).
fn service_helpers(resource: &JavaResource<'_>, audit: bool, retention: bool) -> String {
    let model = &resource.model;
    let plural = resource.plural();
    let mut helpers = String::new();
    if retention {
        let expire_audit = if audit {
            format!(
                "        for ({model} record : expired) {{\n            \
                 audit.record(AuditTrail.RETENTION, \"expire\", RESOURCE, record.id(), AuditTrail.SUCCESS);\n        \
                 }}\n"
            )
        } else {
            String::new()
        };
        helpers.push_str(&format!(
            "\n    /**\n     * Removes the {plural} older than the retention{}; returns how many.\n     */\n    \
             public int purgeExpired() {{\n        \
             Instant now = clock.instant();\n        \
             List<{model}> expired = repository.removeIf(record -> retention.expired(record.createdAt(), now));\n\
             {expire_audit}        \
             return expired.size();\n    \
             }}\n",
            if audit {
                ", each removal written to\n     * the audit trail"
            } else {
                ""
            }
        ));
    }
    if audit {
        helpers.push_str(&format!(
            "\n    /** The valid body of a change; a refused one is audited as invalid. */\n    \
             private {model}.Input parse(Map<String, Object> json, String actor, String action, Long id) {{\n        \
             try {{\n            \
             return {model}.Input.parse(json);\n        \
             }} catch (ValidationException invalid) {{\n            \
             audit.record(actor, action, RESOURCE, id, AuditTrail.INVALID);\n            \
             throw invalid;\n        \
             }}\n    \
             }}\n"
        ));
    }
    helpers
}

fn capitalize_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => "Records carry their creation time".into(),
    }
}

/// The beans of `ServiceConfiguration` the services need, and their
/// imports.
pub(super) struct Beans {
    pub imports: Vec<String>,
    pub beans: String,
}

/// What a resource's service is built with besides its repository, as
/// (type, bean name), in the order of its constructor's parameters.
pub(super) fn service_dependencies(
    protection: &Protection,
    resource: &JavaResource<'_>,
) -> Vec<(&'static str, &'static str)> {
    let mut list = Vec::new();
    if resource.encrypts(protection) {
        list.push(("FieldCipher", "fieldCipher"));
    }
    if protection.audit {
        list.push(("AuditTrail", "auditTrail"));
    }
    if protection.retention_days.is_some() {
        list.push(("RetentionPolicy", "retentionPolicy"));
    }
    list.push(("Clock", "clock"));
    list
}

/// The beans of the protection in `ServiceConfiguration`.
pub(super) fn beans(p: &Project<'_>) -> Beans {
    let protection = p.protection;
    let package = &p.package;
    let mut imports = vec!["java.time.Clock".to_string()];
    let mut beans = String::from(
        "\n    /** The clock records are created by: the system's, in UTC. */\n\
         \x20   @Bean\n\
         \x20   public Clock clock() {\n\
         \x20       return Clock.systemUTC();\n\
         \x20   }\n",
    );
    if !protection.encrypted.is_empty() {
        imports.push(format!("{package}.crypto.FieldCipher"));
        beans.push_str(&format!(
            "\n    /** Fails at start-up without a {KEY_VARIABLE} of 32 bytes in base64. */\n\
             \x20   @Bean\n\
             \x20   public FieldCipher fieldCipher(Environment environment) {{\n\
             \x20       return FieldCipher.load(environment::getProperty);\n\
             \x20   }}\n"
        ));
    }
    if protection.audit {
        imports.push(format!("{package}.audit.AuditTrail"));
        beans.push_str(
            "\n    /** The audit trail, one JSON line per change on standard output. */\n\
             \x20   @Bean\n\
             \x20   public AuditTrail auditTrail(Clock clock) {\n\
             \x20       return AuditTrail.toStandardOutput(clock);\n\
             \x20   }\n",
        );
    }
    if protection.retention_days.is_some() {
        imports.push(format!("{package}.retention.RetentionPolicy"));
        beans.push_str(&format!(
            "\n    /** {RETENTION_VARIABLE}; fails at start-up on a malformed value. */\n\
             \x20   @Bean\n\
             \x20   public RetentionPolicy retentionPolicy(Environment environment) {{\n\
             \x20       return RetentionPolicy.load(environment::getProperty);\n\
             \x20   }}\n"
        ));
    }
    Beans { imports, beans }
}

/// The lines `application.properties` gains.
pub(super) fn properties_extra(protection: &Protection) -> String {
    let mut extra = String::new();
    if !protection.encrypted.is_empty() {
        extra.push_str(&format!(
            "\n\n# {KEY_VARIABLE} (required: 32 random bytes in base64, from\n\
             # openssl rand -base64 32) encrypts the sensitive fields; it comes from the\n\
             # environment only, never from this file. See crypto/FieldCipher.java."
        ));
    }
    if let Some(days) = protection.retention_days {
        extra.push_str(&format!(
            "\n\n# Records older than this many days are removed (retention/RetentionPolicy.java);\n\
             # the {RETENTION_VARIABLE} environment variable overrides it.\n\
             {RETENTION_VARIABLE}={days}"
        ));
    }
    extra
}
