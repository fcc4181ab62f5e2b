//! `protection_test.go`: the generated project's own tests of its data
//! protection. They look into the repository (the stored value is
//! ciphertext that decrypts to what was sent), at the API's answers
//! (decrypted, card numbers masked), at the configuration (no start
//! without a valid key), at the audit trail (one entry per change, none
//! per read) and at retention (a record past it is gone, driven by the
//! server's clock).

use std::collections::BTreeSet;

use qlp_intent_spec::IntentSpec;
use qlp_intent_spec::protection::{KEY_VARIABLE, Protection, RETENTION_VARIABLE};

use super::{GoResource, TEST_CARD_NUMBER, encrypted, go_string, is_card_number, masked};
use crate::project::example_value;
use qlp_intent_spec::FieldKind;

/// The generated `protection_test.go`.
pub(super) fn protection_test_go(
    spec: &IntentSpec,
    protection: &Protection,
    resources: &[GoResource<'_>],
) -> String {
    let mut imports: BTreeSet<&str> = ["net/http", "testing"].into();
    let mut body = String::new();
    if !protection.encrypted.is_empty() {
        imports.extend(["fmt", "strings"]);
        body.push_str(&cipher_tests());
        for resource in resources {
            if !encrypted(resource, protection).is_empty() {
                body.push_str(&stored_encrypted_test(resource, protection));
            }
        }
    }
    let first = &resources[0];
    if protection.audit {
        imports.extend(["bytes", "encoding/json", "strings", "time"]);
        body.push_str(&audit_test(spec, first));
    }
    if let Some(days) = protection.retention_days {
        imports.insert("time");
        if protection.audit {
            imports.extend(["bytes", "strings"]);
        }
        body.push_str(&retention_test(first, protection.audit, days));
    }
    let imports: String = imports.iter().map(|i| format!("\t\"{i}\"\n")).collect();
    format!("package main\n\nimport (\n{imports})\n{body}")
}

fn cipher_tests() -> String {
    format!(
        "\n// expectSealed checks that a stored value is ciphertext that decrypts to\n\
         // the value sent.\n\
         func expectSealed(t *testing.T, server *Server, field, stored string, sent any) {{\n\
         \tt.Helper()\n\
         \tplaintext := fmt.Sprint(sent)\n\
         \tif strings.Contains(stored, plaintext) {{\n\
         \t\tt.Errorf(\"%s is stored in clear text: %q\", field, stored)\n\
         \t}}\n\
         \topened, err := server.cfg.FieldCipher.Decrypt(stored)\n\
         \tif err != nil || opened != plaintext {{\n\
         \t\tt.Errorf(\"%s does not decrypt to the value sent: %q, %v\", field, opened, err)\n\
         \t}}\n\
         }}\n\
         \n\
         func TestEachValueIsEncryptedWithItsOwnNonceAndOnlyThisKeyOpensIt(t *testing.T) {{\n\
         \tfieldCipher := newTestServer(t).cfg.FieldCipher\n\
         \tfirst, err := fieldCipher.Encrypt(\"same value\")\n\
         \tif err != nil {{\n\
         \t\tt.Fatal(err)\n\
         \t}}\n\
         \tsecond, err := fieldCipher.Encrypt(\"same value\")\n\
         \tif err != nil {{\n\
         \t\tt.Fatal(err)\n\
         \t}}\n\
         \tif first == second {{\n\
         \t\tt.Fatal(\"one value encrypts to the same ciphertext twice\")\n\
         \t}}\n\
         \totherKey, err := NewFieldCipher([]byte(\"another-key-of-thirty-two-bytes!\"))\n\
         \tif err != nil {{\n\
         \t\tt.Fatal(err)\n\
         \t}}\n\
         \tif _, err := otherKey.Decrypt(first); err == nil {{\n\
         \t\tt.Fatal(\"another key decrypts the value\")\n\
         \t}}\n\
         \ttampered := []byte(first)\n\
         \tat := len(ciphertextPrefix) + 2\n\
         \tif tampered[at] == 'A' {{\n\
         \t\ttampered[at] = 'B'\n\
         \t}} else {{\n\
         \t\ttampered[at] = 'A'\n\
         \t}}\n\
         \tif _, err := fieldCipher.Decrypt(string(tampered)); err == nil {{\n\
         \t\tt.Fatal(\"an altered value decrypts\")\n\
         \t}}\n\
         }}\n\
         \n\
         func TestTheServiceRefusesToStartWithoutAValidFieldKey(t *testing.T) {{\n\
         \tfor _, key := range []string{{\"\", \"not base64!\", \"MDEyMzQ1Njc4OWFiY2RlZg==\"}} {{\n\
         \t\t_, err := LoadConfig(envWith(map[string]string{{\"{KEY_VARIABLE}\": key}}))\n\
         \t\tif err == nil || !strings.Contains(err.Error(), \"{KEY_VARIABLE}\") {{\n\
         \t\t\tt.Errorf(\"key %q: error %v, want one naming {KEY_VARIABLE}\", key, err)\n\
         \t\t}}\n\
         \t}}\n\
         }}\n"
    )
}

fn stored_encrypted_test(resource: &GoResource<'_>, protection: &Protection) -> String {
    let (model, plural, plurals, singular) = (
        &resource.model,
        resource.plural(),
        &resource.plurals,
        &resource.resource.singular,
    );
    let mut sent = format!("valid{model}()");
    let mut sealed = String::new();
    let mut shown = String::new();
    for f in encrypted(resource, protection) {
        let json = go_string(&f.field.name);
        let stored = if f.field.required {
            format!("stored.{}", f.name)
        } else {
            format!("*stored.{}", f.name)
        };
        sealed.push_str(&format!(
            "\texpectSealed(t, server, {json}, {stored}, body[{json}])\n"
        ));
        let want = if is_card_number(&f.field.name) && f.field.kind == FieldKind::Text {
            sent = format!("with({sent}, {json}, {})", go_string(TEST_CARD_NUMBER));
            go_string(&masked(TEST_CARD_NUMBER))
        } else {
            format!("body[{json}]")
        };
        shown.push_str(&format!(
            "\t\tif answer[{json}] != {want} {{\n\
             \t\t\tt.Errorf(\"answer %d: %s is %v, want %v\", i, {json}, answer[{json}], {want})\n\
             \t\t}}\n"
        ));
    }
    format!(
        "\nfunc Test{plurals}KeepSensitiveFieldsEncryptedAndAnswerThemDecrypted(t *testing.T) {{\n\
         \tserver := newTestServer(t)\n\
         \tbody := {sent}\n\
         \tcreated := call(t, server, http.MethodPost, \"/{plural}\", body)\n\
         \texpectStatus(t, created, http.StatusCreated)\n\
         \tstored, found := server.stores.{plurals}.Get(1)\n\
         \tif !found {{\n\
         \t\tt.Fatal(\"the {singular} is not stored\")\n\
         \t}}\n\
         {sealed}\
         \tlisted := decodeList(t, call(t, server, http.MethodGet, \"/{plural}\", nil))\n\
         \tif len(listed) != 1 {{\n\
         \t\tt.Fatalf(\"listed %d {plural}, want 1\", len(listed))\n\
         \t}}\n\
         \tfetched := decodeObject(t, call(t, server, http.MethodGet, \"/{plural}/1\", nil))\n\
         \tfor i, answer := range []map[string]any{{decodeObject(t, created), fetched, listed[0]}} {{\n\
         {shown}\
         \t}}\n\
         }}\n"
    )
}

fn audit_test(spec: &IntentSpec, resource: &GoResource<'_>) -> String {
    let (model, plural) = (&resource.model, resource.plural());
    let actor = if spec.auth {
        "testUsername"
    } else {
        "anonymousActor"
    };
    let entries: String = [
        ("create", 1, "outcomeSuccess"),
        ("replace", 1, "outcomeSuccess"),
        ("replace", 9, "outcomeNotFound"),
        ("create", 0, "outcomeInvalid"),
        ("delete", 1, "outcomeSuccess"),
    ]
    .iter()
    .map(|(action, id, outcome)| {
        format!(
            "\t\t{{Actor: {actor}, Action: \"{action}\", Resource: \"{plural}\", RecordID: {id}, Outcome: {outcome}}},\n"
        )
    })
    .collect();
    let no_values = resource
        .fields
        .iter()
        .find(|f| f.field.kind == FieldKind::Text)
        .map(|f| {
            let value = example_value(f.field, false);
            format!(
                "\tif strings.Contains(trail.String(), {value}) {{\n\
                 \t\tt.Error(\"the audit trail holds a value of a record\")\n\
                 \t}}\n"
            )
        })
        .unwrap_or_default();
    format!(
        "\nfunc TestEveryChangeIsWrittenToTheAuditTrail(t *testing.T) {{\n\
         \tserver := newTestServer(t)\n\
         \tvar trail bytes.Buffer\n\
         \tserver.auditLog = NewAuditLog(&trail)\n\
         \texpectStatus(t, call(t, server, http.MethodPost, \"/{plural}\", valid{model}()), http.StatusCreated)\n\
         \texpectStatus(t, call(t, server, http.MethodGet, \"/{plural}/1\", nil), http.StatusOK)\n\
         \texpectStatus(t, call(t, server, http.MethodPut, \"/{plural}/1\", changed{model}()), http.StatusOK)\n\
         \texpectStatus(t, call(t, server, http.MethodPut, \"/{plural}/9\", changed{model}()), http.StatusNotFound)\n\
         \texpectStatus(t, call(t, server, http.MethodPost, \"/{plural}\", \"{{not json\"), http.StatusBadRequest)\n\
         \texpectStatus(t, call(t, server, http.MethodDelete, \"/{plural}/1\", nil), http.StatusNoContent)\n\
         \twant := []AuditEntry{{\n\
         {entries}\
         \t}}\n\
         \tlines := strings.Split(strings.TrimSpace(trail.String()), \"\\n\")\n\
         \tif len(lines) != len(want) {{\n\
         \t\tt.Fatalf(\"%d audit entries, want %d (one per change, none per read):\\n%s\", len(lines), len(want), trail.String())\n\
         \t}}\n\
         \tfor i, line := range lines {{\n\
         \t\tvar entry AuditEntry\n\
         \t\tif err := json.Unmarshal([]byte(line), &entry); err != nil {{\n\
         \t\t\tt.Fatalf(\"entry %d is not JSON (%v): %s\", i, err, line)\n\
         \t\t}}\n\
         \t\tif _, err := time.Parse(time.RFC3339Nano, entry.Time); err != nil {{\n\
         \t\t\tt.Errorf(\"entry %d has no valid time: %s\", i, line)\n\
         \t\t}}\n\
         \t\tentry.Time = \"\"\n\
         \t\tif entry != want[i] {{\n\
         \t\t\tt.Errorf(\"entry %d is %+v, want %+v\", i, entry, want[i])\n\
         \t\t}}\n\
         \t}}\n\
         {no_values}\
         }}\n"
    )
}

fn retention_test(resource: &GoResource<'_>, audit: bool, days: u32) -> String {
    let (model, plural, plurals, singular) = (
        &resource.model,
        resource.plural(),
        &resource.plurals,
        &resource.resource.singular,
    );
    let (capture, check_trail) = if audit {
        (
            "\tvar trail bytes.Buffer\n\
             \tserver.auditLog = NewAuditLog(&trail)\n",
            "\tif !strings.Contains(trail.String(), `\"actor\":\"retention\",\"action\":\"purge\"`) {\n\
             \t\tt.Errorf(\"the removal is not in the audit trail:\\n%s\", trail.String())\n\
             \t}\n",
        )
    } else {
        ("", "")
    };
    format!(
        "\nfunc TestRecordsOlderThanTheRetentionAreRemoved(t *testing.T) {{\n\
         \tserver := newTestServer(t)\n\
         {capture}\
         \tstart := time.Date(2030, time.January, 1, 0, 0, 0, 0, time.UTC)\n\
         \tnow := start\n\
         \tserver.now = func() time.Time {{ return now }}\n\
         \texpectStatus(t, call(t, server, http.MethodPost, \"/{plural}\", valid{model}()), http.StatusCreated)\n\
         \tnow = start.Add(server.cfg.RecordRetention / 2)\n\
         \texpectStatus(t, call(t, server, http.MethodPost, \"/{plural}\", valid{model}()), http.StatusCreated)\n\
         \t// Replacing a record does not extend its life.\n\
         \texpectStatus(t, call(t, server, http.MethodPut, \"/{plural}/1\", changed{model}()), http.StatusOK)\n\
         \n\
         \tnow = start.Add(server.cfg.RecordRetention + time.Hour)\n\
         \tlisted := decodeList(t, call(t, server, http.MethodGet, \"/{plural}\", nil))\n\
         \tif len(listed) != 1 || listed[0][\"id\"] != float64(2) {{\n\
         \t\tt.Fatalf(\"after the retention the list is %v, want only the second {singular}\", listed)\n\
         \t}}\n\
         \tif _, found := server.stores.{plurals}.Get(1); found {{\n\
         \t\tt.Fatal(\"the expired {singular} is still stored\")\n\
         \t}}\n\
         \texpectStatus(t, call(t, server, http.MethodGet, \"/{plural}/1\", nil), http.StatusNotFound)\n\
         {check_trail}\
         \n\
         \tnow = start.Add(server.cfg.RecordRetention*3/2 + time.Hour)\n\
         \texpectStatus(t, call(t, server, http.MethodGet, \"/{plural}/2\", nil), http.StatusNotFound)\n\
         }}\n\
         \n\
         func TestTheRetentionIsReadFromTheEnvironment(t *testing.T) {{\n\
         \tcfg, err := LoadConfig(testEnv)\n\
         \tif err != nil {{\n\
         \t\tt.Fatal(err)\n\
         \t}}\n\
         \tif cfg.RecordRetention != {days}*24*time.Hour {{\n\
         \t\tt.Errorf(\"the default retention is %v, want {days} days\", cfg.RecordRetention)\n\
         \t}}\n\
         \tcfg, err = LoadConfig(envWith(map[string]string{{\"{RETENTION_VARIABLE}\": \"30\"}}))\n\
         \tif err != nil {{\n\
         \t\tt.Fatal(err)\n\
         \t}}\n\
         \tif cfg.RecordRetention != 30*24*time.Hour {{\n\
         \t\tt.Errorf(\"{RETENTION_VARIABLE}=30 gives %v\", cfg.RecordRetention)\n\
         \t}}\n\
         }}\n"
    )
}
