//! The JUnit test of a protected resource's service: the CRUD tests the
//! unprotected service has, and a test per measure (the stored value is
//! ciphertext and the answer its plaintext or mask, each change audited,
//! expired records removed), driven by an in-memory repository the test
//! inspects and a clock it moves.

use qlp_sdk::PluginError;

use super::{JavaResource, Project, mask, resource_values};
use crate::java;

const SERVICE_TEST: &str = include_str!("../../../templates/protected/ServiceTest.java.tmpl");
const ENCRYPTION_TEST: &str =
    include_str!("../../../templates/protected/ServiceTest_encryption.java.tmpl");
const AUDIT_TEST: &str = include_str!("../../../templates/protected/ServiceTest_audit.java.tmpl");
const RETENTION_TEST: &str =
    include_str!("../../../templates/protected/ServiceTest_retention.java.tmpl");

/// The retention the service tests use, short enough to step over.
const TEST_RETENTION_DAYS: u32 = 30;

/// A card number the tests store, whose last four digits the answer shows.
const TEST_CARD_NUMBER: &str = "4111111111111111";

/// The `{{Model}}ServiceTest.java` of a protected resource.
pub(crate) fn service_test_java(
    p: &Project<'_>,
    resource: &JavaResource<'_>,
) -> Result<String, PluginError> {
    let protection = p.protection;
    let package = &p.package;
    let plural = resource.plural();
    let encrypts = resource.encrypts(protection);
    let audit = protection.audit;
    let retention = protection.retention_days.is_some();
    let actor = if audit { ", ACTOR" } else { "" };

    let key = resource.resource.key_field();
    let key_masked = resource
        .fields
        .iter()
        .any(|f| f.field.name == key.name && f.masked(protection, plural));
    let key_json = java::string(&key.name);
    let key_answer = if key_masked {
        format!("FieldCipher.maskCardNumber((String) valid().get({key_json}))")
    } else {
        format!("valid().get({key_json})")
    };

    let mut imports = vec![
        format!("{package}.model.{}", resource.model),
        format!("{package}.repository.InMemoryRepository"),
        format!("{package}.testing.TestClock"),
        format!("{package}.validation.ValidationException"),
    ];
    let mut constants = String::new();
    let mut members = String::new();
    let mut arguments = String::new();
    let mut tests = String::new();
    let mut common = resource_values(resource);
    common.push(("actor", actor.to_string()));
    if key_masked {
        imports.push(format!("{package}.crypto.FieldCipher"));
    }
    if encrypts {
        imports.push(format!("{package}.testing.TestKeys"));
        arguments.push_str(", TestKeys.CIPHER");
        tests.push_str(&encryption_test(p, resource, &common)?);
    }
    if audit {
        imports.push(format!("{package}.audit.AuditTrail"));
        constants.push_str(&format!(
            "    private static final String ACTOR = {};\n",
            java::string("clerk")
        ));
        members.push_str("    private final List<String> auditLines = new ArrayList<>();\n");
        arguments.push_str(", new AuditTrail(auditLines::add, clock)");
        tests.push_str(&p.render(AUDIT_TEST, &common)?);
    }
    if retention {
        imports.push(format!("{package}.retention.RetentionPolicy"));
        constants.push_str(&format!(
            "    private static final long RETENTION_DAYS = {TEST_RETENTION_DAYS};\n"
        ));
        arguments.push_str(", RetentionPolicy.ofDays(RETENTION_DAYS)");
        let expire_check = if audit {
            format!(
                "        assertTrue(auditLines.get(auditLines.size() - 1).contains(\n                \
                 \"\\\"actor\\\":\\\"retention\\\",\\\"action\\\":\\\"expire\\\",\\\"resource\\\":\\\"{plural}\\\",\\\"record_id\\\":1,\\\"outcome\\\":\\\"success\\\"\"),\n                \
                 () -> String.join(\"\\n\", auditLines));\n"
            )
        } else {
            String::new()
        };
        let mut values = common.clone();
        values.push(("expire_check", expire_check));
        tests.push_str(&p.render(RETENTION_TEST, &values)?);
    }
    arguments.push_str(", clock");
    imports.sort();
    let imports: String = imports.iter().map(|i| format!("import {i};\n")).collect();

    let mut values = common;
    values.extend([
        ("imports", imports),
        (
            "util_imports",
            if audit {
                "import java.util.ArrayList;\n".into()
            } else {
                String::new()
            },
        ),
        ("constants", constants),
        ("members", members),
        ("arguments", arguments),
        ("key_field", key.name.clone()),
        ("key_answer", key_answer),
        ("protection_tests", tests),
    ]);
    p.render(SERVICE_TEST, &values)
}

/// The test that the repository holds ciphertext and the API its
/// plaintext, or the last four characters of a card number.
fn encryption_test(
    p: &Project<'_>,
    resource: &JavaResource<'_>,
    common: &[(&'static str, String)],
) -> Result<String, PluginError> {
    let plural = resource.plural();
    let mut body_puts = String::new();
    let mut checks = String::new();
    for f in resource.encrypted(p.protection) {
        let json = java::string(&f.field.name);
        let stored = format!("stored.{}()", f.name);
        if f.masked(p.protection, plural) {
            body_puts.push_str(&format!(
                "        body.put({json}, {});\n",
                java::string(TEST_CARD_NUMBER)
            ));
        }
        checks.push_str(&format!(
            "        assertNotEquals(body.get({json}), {stored});\n        \
             assertFalse({stored}.contains((String) body.get({json})), {stored});\n        \
             assertEquals(body.get({json}), TestKeys.CIPHER.decrypt({stored}));\n"
        ));
        if f.masked(p.protection, plural) {
            checks.push_str(&format!(
                "        assertEquals({}, answer.get({json}), \"a card number is masked\");\n",
                java::string(&mask(TEST_CARD_NUMBER))
            ));
        } else {
            checks.push_str(&format!(
                "        assertEquals(body.get({json}), answer.get({json}));\n"
            ));
        }
    }
    let mut values = common.to_vec();
    values.extend([("body_puts", body_puts), ("field_checks", checks)]);
    p.render(ENCRYPTION_TEST, &values)
}
