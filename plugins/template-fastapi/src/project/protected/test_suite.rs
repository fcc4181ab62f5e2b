//! `tests/test_protection.py`: the generated project's own tests of its
//! audit trail (one entry per change, none per read, the actor, no record
//! values) and retention (a record past it is gone from the API and the
//! repository, driven by `app.state.clock`; the setting and its refusals).

use qlp_intent_spec::protection::{MAX_RETENTION_DAYS, Protection, RETENTION_VARIABLE};

use crate::project::sample_bodies;
use crate::spec::ProjectSpec;

/// The generated `tests/test_protection.py`; its tests use the first
/// resource.
pub(super) fn test_protection_py(spec: &ProjectSpec, protection: &Protection) -> String {
    let resource = &spec.resources[0];
    let plural = &resource.plural;
    let (new_body, changed_body) = sample_bodies(resource);
    let mut imports = vec![];
    let mut app_imports = vec![];
    let mut body = String::new();
    if spec.auth {
        imports.push("import os");
    }
    if protection.audit {
        imports.extend(["import io", "import json"]);
        app_imports.push("from app.audit import AuditLog");
        body.push_str(&audit_tests(spec, plural));
    }
    if let Some(days) = protection.retention_days {
        app_imports.push("from app.config import ConfigError, load_settings");
        body.push_str(&retention_tests(spec, plural, protection.audit, days));
    }
    imports.sort_unstable();
    imports.dedup();
    let mut standard: Vec<&str> = imports;
    let mut third_party = vec!["from fastapi.testclient import TestClient"];
    if protection.retention_days.is_some() {
        standard.push("from datetime import datetime, timedelta, timezone");
        third_party.insert(0, "import pytest");
    } else {
        standard.push("from datetime import datetime");
    }
    format!(
        "\"\"\"The service's data protection: the audit trail and the retention.\"\"\"\n\n\
         {}\n\n\
         NEW = {new_body}\n\
         CHANGED = {changed_body}\n\
         {body}",
        [standard, third_party, app_imports]
            .map(|section| section.join("\n"))
            .join("\n\n"),
    )
}

fn audit_tests(spec: &ProjectSpec, plural: &str) -> String {
    let actor = if spec.auth {
        "os.environ[\"AUTH_USERNAME\"]"
    } else {
        "\"anonymous\""
    };
    format!(
        "\n\n\
         def test_every_change_is_written_to_the_audit_trail(client: TestClient) -> None:\n    \
         trail = io.StringIO()\n    \
         client.app.state.audit_log = AuditLog(trail)\n    \
         created = client.post(\"/{plural}\", json=NEW)\n    \
         assert created.status_code == 201, created.text\n    \
         record_id = created.json()[\"id\"]\n    \
         assert client.get(f\"/{plural}/{{record_id}}\").status_code == 200\n    \
         assert client.put(f\"/{plural}/{{record_id}}\", json=CHANGED).status_code == 200\n    \
         assert client.put(\"/{plural}/999999\", json=CHANGED).status_code == 404\n    \
         assert client.post(\"/{plural}\", json={{}}).status_code == 422\n    \
         assert client.delete(f\"/{plural}/{{record_id}}\").status_code == 204\n\n    \
         entries = [json.loads(line) for line in trail.getvalue().splitlines()]\n    \
         actor = {actor}\n    \
         assert [\n        \
         (e[\"actor\"], e[\"action\"], e[\"resource\"], e[\"record_id\"], e[\"outcome\"])\n        \
         for e in entries\n    \
         ] == [\n        \
         (actor, \"create\", \"{plural}\", record_id, \"success\"),\n        \
         (actor, \"replace\", \"{plural}\", record_id, \"success\"),\n        \
         (actor, \"replace\", \"{plural}\", 999999, \"not_found\"),\n        \
         (actor, \"delete\", \"{plural}\", record_id, \"success\"),\n    \
         ]\n    \
         for entry in entries:\n        \
         assert datetime.fromisoformat(entry[\"time\"]).tzinfo is not None\n    \
         assert NEW[\"name\"] not in trail.getvalue(), \"the audit trail holds a record's values\"\n"
    )
}

fn retention_tests(spec: &ProjectSpec, plural: &str, audit: bool, days: u32) -> String {
    let (capture, check) = if audit {
        (
            "    trail = io.StringIO()\n    \
             client.app.state.audit_log = AuditLog(trail)\n",
            "    assert '\"actor\":\"retention\",\"action\":\"purge\"' in trail.getvalue()\n",
        )
    } else {
        ("", "")
    };
    let base_env = if spec.auth {
        "{\"JWT_SECRET\": os.environ[\"JWT_SECRET\"]}"
    } else {
        "{}"
    };
    let too_long = MAX_RETENTION_DAYS + 1;
    format!(
        "\n\n\
         def test_records_older_than_the_retention_are_removed(client: TestClient) -> None:\n    \
         start = datetime(2030, 1, 1, tzinfo=timezone.utc)\n    \
         clock = [start]\n    \
         client.app.state.clock = lambda: clock[0]\n\
         {capture}    \
         retention = timedelta(days=client.app.state.settings.record_retention_days)\n    \
         first = client.post(\"/{plural}\", json=NEW).json()\n    \
         clock[0] = start + retention / 2\n    \
         second = client.post(\"/{plural}\", json=NEW).json()\n    \
         # Replacing a record does not extend its life.\n    \
         assert client.put(f\"/{plural}/{{first['id']}}\", json=CHANGED).status_code == 200\n\n    \
         clock[0] = start + retention + timedelta(hours=1)\n    \
         assert [record[\"id\"] for record in client.get(\"/{plural}\").json()] == [second[\"id\"]]\n    \
         assert client.app.state.repositories[\"{plural}\"].get(first[\"id\"]) is None\n    \
         assert client.get(f\"/{plural}/{{first['id']}}\").status_code == 404\n\
         {check}\n    \
         clock[0] = start + retention * 3 / 2 + timedelta(hours=1)\n    \
         assert client.get(f\"/{plural}/{{second['id']}}\").status_code == 404\n\n\n\
         def test_the_creation_time_is_kept_but_not_returned(client: TestClient) -> None:\n    \
         created = client.post(\"/{plural}\", json=NEW).json()\n    \
         assert \"created_at\" not in created\n    \
         stored = client.app.state.repositories[\"{plural}\"].get(created[\"id\"])\n    \
         assert stored.created_at.tzinfo is not None\n\n\n\
         BASE_ENV: dict[str, str] = {base_env}\n\n\n\
         def test_the_retention_is_read_from_the_environment() -> None:\n    \
         assert load_settings(BASE_ENV).record_retention_days == {days}\n    \
         settings = load_settings({{**BASE_ENV, \"{RETENTION_VARIABLE}\": \"30\"}})\n    \
         assert settings.record_retention_days == 30\n\n\n\
         @pytest.mark.parametrize(\"value\", [\"0\", \"-1\", \"forever\", \"{too_long}\"])\n\
         def test_a_malformed_retention_is_refused(value: str) -> None:\n    \
         with pytest.raises(ConfigError, match=\"{RETENTION_VARIABLE}\"):\n        \
         load_settings({{**BASE_ENV, \"{RETENTION_VARIABLE}\": value}})\n"
    )
}
