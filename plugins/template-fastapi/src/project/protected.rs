//! The audit trail and retention a [`Protection`] asks for (see
//! `qlp_intent_spec::protection`): the parts of the FastAPI project that
//! exist only then.
//!
//! - **Audit trail**: `app/audit.py`, one JSON line per create, replace and
//!   delete, written by the routes through `audit(...)`; the actor is the
//!   bearer token's subject (`require_user`), or `anonymous` without auth.
//! - **Retention**: records carry `created_at` (kept by the repository, not
//!   returned); `app/retention.py` removes those older than
//!   `RECORD_RETENTION_DAYS` before each request to a resource.
//! - **Clock**: `app/clock.py`; `app.state.clock` is what tests replace to
//!   move time forward.
//! - The routes of [`tmpl::ROUTES_PROTECTED`], a README section,
//!   `tests/test_protection.py`.
//!
//! The models hold no field of a sensitive kind, so nothing is encrypted.
//! Nothing here is called for a [`Protection`] that asks for nothing, so
//! such projects stay byte-identical to those without this module.

use qlp_intent_spec::protection::{MAX_RETENTION_DAYS, Protection, RETENTION_VARIABLE};
use qlp_sdk::PluginError;

mod test_suite;

use super::{article, tmpl};
use crate::spec::{ProjectSpec, Resource};
use crate::template::render;

/// `app/main.py`'s import of the audit log.
pub(super) fn main_audit_import(protection: &Protection) -> &'static str {
    if protection.audit {
        "from app.audit import AuditLog\n"
    } else {
        ""
    }
}

/// `app/main.py`'s import of the clock.
pub(super) fn main_clock_import(protection: &Protection) -> &'static str {
    if protection.any() {
        "from app.clock import utc_now\n"
    } else {
        ""
    }
}

/// The application state the protection uses, set in `create_app`.
pub(super) fn main_state_setup(protection: &Protection) -> &'static str {
    match (protection.any(), protection.audit) {
        (false, _) => "",
        (true, false) => "    app.state.clock = utc_now\n",
        (true, true) => "    app.state.clock = utc_now\n    app.state.audit_log = AuditLog()\n",
    }
}

/// The retention setting of `app/config.py`.
pub(super) fn extend_config(
    protection: &Protection,
    doc: &mut String,
    constants: &mut String,
    fields: &mut String,
    checks: &mut String,
    arguments: &mut String,
) {
    let Some(days) = protection.retention_days else {
        return;
    };
    doc.push_str(&format!(
        "- {RETENTION_VARIABLE}: how many days a record is kept after its creation,\n  \
         {days} by default; older records are removed (see app/retention.py).\n"
    ));
    constants.push_str(&format!(
        "\nDEFAULT_RECORD_RETENTION_DAYS = {days}\n\
         \"\"\"How long records are kept when {RETENTION_VARIABLE} is unset.\"\"\"\n\
         \n\
         MAX_RECORD_RETENTION_DAYS = {MAX_RETENTION_DAYS}\n\
         \"\"\"The longest retention accepted: 100 years.\"\"\"\n"
    ));
    fields.push_str("    record_retention_days: int\n");
    checks.push_str(&format!(
        "    record_retention_days = _positive_int(\n        \
         env, \"{RETENTION_VARIABLE}\", DEFAULT_RECORD_RETENTION_DAYS\n    \
         )\n    \
         if record_retention_days > MAX_RECORD_RETENTION_DAYS:\n        \
         raise ConfigError(f\"{RETENTION_VARIABLE} must be at most {{MAX_RECORD_RETENTION_DAYS}}\")\n"
    ));
    arguments.push_str("        record_retention_days=record_retention_days,\n");
}

/// `app/models.py`'s imports for the creation time.
pub(super) fn models_imports(protection: &Protection) -> &'static str {
    if protection.retention_days.is_some() {
        "from datetime import datetime\n\n"
    } else {
        ""
    }
}

/// The stored fields a model adds: its creation time, never returned.
pub(super) fn stored_fields(protection: &Protection) -> &'static str {
    if protection.retention_days.is_some() {
        "    created_at: datetime = Field(exclude=True)\n    \
         \"\"\"When the record was created, for the retention; not returned.\"\"\"\n"
    } else {
        ""
    }
}

/// The routes of one resource, with the audit trail and retention.
pub(super) fn routes_py(
    spec: &ProjectSpec,
    protection: &Protection,
    resource: &Resource,
) -> Result<String, PluginError> {
    let plural = &resource.plural;
    let retention = protection.retention_days.is_some();
    let mut imports = vec![
        format!("from app.models import {0}, {0}Create", resource.model),
        "from app.repository import Repository".to_string(),
    ];
    let mut notes = String::new();
    let mut dependencies = vec![];
    if spec.auth {
        imports.push("from app.auth import require_user".into());
        dependencies.push("Depends(require_user)");
    }
    if protection.audit {
        imports.push("from app.audit import Actor, audit".into());
        notes.push_str("\n\nEvery change is written to the audit trail (see app/audit.py).");
    }
    if retention {
        imports.push("from app.clock import now".into());
        imports.push("from app.retention import purge_expired".into());
        dependencies.push("Depends(purge_expired)");
        notes.push_str(
            "\n\nRecords older than the retention are removed before each request (see\n\
             app/retention.py).",
        );
    }
    if spec.auth {
        notes.insert_str(
            0,
            "\n\nEvery endpoint requires a bearer token (see app/auth.py).",
        );
    }
    if !notes.is_empty() {
        notes.push('\n');
    }
    let router_dependencies = if dependencies.is_empty() {
        String::new()
    } else {
        format!(", dependencies=[{}]", dependencies.join(", "))
    };
    let audit = |action: &str, id: &str, outcome: &str, indent: &str| {
        if protection.audit {
            format!(
                "{indent}audit(request, actor, \"{action}\", \"{plural}\", {id}, \"{outcome}\")\n"
            )
        } else {
            String::new()
        }
    };
    let (create_params, change_params) = match (protection.audit, retention) {
        (true, _) => (
            ", request: Request, actor: Actor",
            ", request: Request, actor: Actor",
        ),
        (false, true) => (", request: Request", ""),
        (false, false) => ("", ""),
    };
    imports.sort();
    let app_imports: String = imports.iter().map(|i| format!("{i}\n")).collect();
    let a_singular = format!("{} {}", article(&resource.singular), resource.singular);
    render(
        tmpl::ROUTES_PROTECTED,
        &[
            ("plural", plural),
            ("singular", &resource.singular),
            ("a_singular", &a_singular),
            ("Model", &resource.model),
            ("auth_note", ""),
            ("protection_note", &notes),
            ("app_imports", &app_imports),
            ("router_dependencies", &router_dependencies),
            ("create_params", create_params),
            ("change_params", change_params),
            (
                "created_at_argument",
                if retention {
                    ", created_at=now(request)"
                } else {
                    ""
                },
            ),
            (
                "audit_create",
                &audit("create", "record.id", "success", "    "),
            ),
            (
                "audit_update_missing",
                &audit("replace", "item_id", "not_found", "        "),
            ),
            (
                "audit_update",
                &audit("replace", "item_id", "success", "    "),
            ),
            (
                "audit_delete_missing",
                &audit("delete", "item_id", "not_found", "        "),
            ),
            (
                "audit_delete",
                &audit("delete", "item_id", "success", "    "),
            ),
        ],
    )
}

/// The files that exist only for a protection.
pub(super) fn files(
    spec: &ProjectSpec,
    protection: &Protection,
) -> Result<Vec<(String, String)>, PluginError> {
    let mut files = vec![];
    if !protection.any() {
        return Ok(files);
    }
    files.push(("app/clock.py".to_string(), render(tmpl::CLOCK, &[])?));
    if protection.audit {
        let (import, dependency) = if spec.auth {
            (
                "from app.auth import require_user\n",
                "Actor = Annotated[str, Depends(require_user)]\n\
                 \"\"\"Who makes the request: the bearer token's subject.\"\"\"\n",
            )
        } else {
            (
                "",
                "def anonymous_actor() -> str:\n    \
                 \"\"\"The actor of a request: anonymous, as the service has no authentication.\"\"\"\n    \
                 return ANONYMOUS_ACTOR\n\
                 \n\
                 \n\
                 Actor = Annotated[str, Depends(anonymous_actor)]\n\
                 \"\"\"Who makes the request.\"\"\"\n",
            )
        };
        files.push((
            "app/audit.py".to_string(),
            render(
                tmpl::AUDIT,
                &[("actor_import", import), ("actor_dependency", dependency)],
            )?,
        ));
    }
    if protection.retention_days.is_some() {
        let (import, purge) = if protection.audit {
            (
                "from app.audit import audit\n",
                "    for resource, repository in request.app.state.repositories.items():\n        \
                 for record_id in repository.purge_created_before(cutoff):\n            \
                 audit(request, RETENTION_ACTOR, \"purge\", resource, record_id, \"success\")\n",
            )
        } else {
            (
                "",
                "    for repository in request.app.state.repositories.values():\n        \
                 repository.purge_created_before(cutoff)\n",
            )
        };
        let mut text = render(
            tmpl::RETENTION,
            &[("audit_import", import), ("purge_loop", purge)],
        )?;
        if protection.audit {
            text = text.replace(
                "from app.config import Settings\n",
                "from app.config import Settings\n\n\
                 RETENTION_ACTOR = \"retention\"\n\
                 \"\"\"The actor of the removal of expired records in the audit trail.\"\"\"\n",
            );
        }
        files.push(("app/retention.py".to_string(), text));
    }
    files.push((
        "tests/test_protection.py".to_string(),
        test_suite::test_protection_py(spec, protection),
    ));
    Ok(files)
}

/// What the README adds for a protection.
pub(super) struct ReadmeExtra {
    pub feature_bullets: String,
    pub config_rows: String,
    pub section: String,
    pub layout: String,
}

/// The README's "Data protection" section and the lines elsewhere.
pub(super) fn readme_extra(protection: &Protection) -> ReadmeExtra {
    let reasons: String = protection
        .reasons
        .iter()
        .map(|r| format!("- {r}\n"))
        .collect();
    let mut extra = ReadmeExtra {
        feature_bullets: String::new(),
        config_rows: String::new(),
        section: format!(
            "## Data protection\n\n\
             The service keeps an audit trail and a retention period because of:\n\n\
             {reasons}\n\
             Its records hold a name, a description and an amount or price: no card\n\
             number, health data or government id, so no field needs encryption at rest.\n\
             Do not put such data in the description.\n\n"
        ),
        layout: "- `app/clock.py`: the clock that stamps records and audit entries.\n".into(),
    };
    if protection.audit {
        extra
            .feature_bullets
            .push_str("- An audit trail: one JSON line per create, replace and delete.\n");
        extra
            .layout
            .push_str("- `app/audit.py`: the audit trail.\n");
        extra.section.push_str(
            "### Audit trail\n\n\
             Every create, replace and delete writes one JSON line to standard output,\n\
             with the time, the actor (the bearer token's subject, or `anonymous` without\n\
             authentication), the action, the resource, the record id and the outcome\n\
             (`success` or `not_found`; a body that fails validation changes nothing and\n\
             is answered 422). The values of a record are never written to it.\n\n\
             ```json\n\
             {\"time\":\"2030-01-01T12:00:00+00:00\",\"actor\":\"admin\",\"action\":\"create\",\"resource\":\"…\",\"record_id\":1,\"outcome\":\"success\"}\n\
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
            .push_str("- `app/retention.py`: the removal of expired records.\n");
        let purged = if protection.audit {
            " Each removal is written to the audit trail (actor `retention`)."
        } else {
            ""
        };
        extra.section.push_str(&format!(
            "### Retention\n\n\
             Every record keeps its creation time. Records older than\n\
             `{RETENTION_VARIABLE}` days ({days} by default) are removed before each\n\
             request to a resource, so an expired record is never served.{purged}\n\n"
        ));
    }
    extra
}
