//! The rules, applied to what every file said ([`crate::scan`],
//! [`crate::config`]) and to the selected frameworks: line rules (data in
//! logs, stored CVVs, plain-text transport, clear-text sensitive fields)
//! and project rules (audit logging, retention, erasure, access control),
//! which need the whole project to decide.

use crate::data::{self, Kind, Protected};
use crate::frameworks::{Framework, Selection};
use crate::lex::Lang;
use crate::rules::{
    self, CVV_STORED, Hit, NO_ACCESS_CONTROL, NO_AUDIT_LOGGING, NO_ERASURE_ENDPOINT,
    NO_RETENTION_POLICY, PLAINTEXT_TRANSPORT, SENSITIVE_DATA_LOGGED, UNENCRYPTED_AT_REST,
};
use crate::scan::{Facts, Field, Route};

/// What one file contributed.
pub struct FileFacts {
    pub path: String,
    /// `None` for configuration, schemas and documentation.
    pub lang: Option<Lang>,
    /// Table definitions (`.sql`, `.prisma`) hold stored data by nature.
    pub schema: bool,
    pub facts: Facts,
}

/// Words at the end of a model's name that do not name the resource
/// (`CardCreate`, `PatientInput`, `CustomerDTO`).
const MODEL_SUFFIXES: &[&str] = &[
    "create", "update", "input", "base", "model", "schema", "request", "response", "dto", "entity",
    "in", "out", "public", "db", "row", "table",
];

/// The resource a model stores, for matching against routes: `card` for
/// `CardCreate`.
pub fn resource_key(model: &str) -> String {
    let mut words = data::words(model);
    while words.len() > 1
        && words
            .last()
            .is_some_and(|w| MODEL_SUFFIXES.contains(&w.as_str()))
    {
        words.pop();
    }
    let key = words.join("");
    key.strip_suffix('s')
        .filter(|k| k.len() > 2)
        .unwrap_or(&key)
        .to_string()
}

/// `Card.cvv` or `cvv`.
fn field_label(field: &Field) -> String {
    if field.model.is_empty() {
        format!("`{}`", field.name)
    } else {
        format!("`{}.{}`", field.model, field.name)
    }
}

fn where_(path: &str, line: u32) -> String {
    format!("{path}:{line}")
}

fn hit(rule: rules::Rule, path: Option<&str>, line: u32, message: String) -> Hit {
    Hit {
        rule,
        path: path.map(str::to_string),
        line,
        message,
    }
}

/// The controls of `rule` for these frameworks only.
fn tag_for(rule: &rules::Rule, frameworks: &[Framework]) -> String {
    rules::tag(
        rule.controls
            .iter()
            .filter(|(f, _)| frameworks.contains(f))
            .copied(),
    )
}

/// Every hit of every rule, before suppression.
pub fn check(files: &[FileFacts], selection: &Selection) -> Vec<Hit> {
    let mut hits = Vec::new();
    if selection.is_empty() {
        return hits;
    }
    let routes: Vec<(&str, &Route)> = files
        .iter()
        .flat_map(|f| f.facts.routes.iter().map(move |r| (f.path.as_str(), r)))
        .collect();
    let has_schema = files.iter().any(|f| f.schema);
    // Front-end models describe what a browser shows, not what is stored:
    // JavaScript fields count only in a project that serves HTTP.
    let stored =
        |f: &FileFacts| f.lang != Some(Lang::JavaScript) || !routes.is_empty() || has_schema;
    let stored_fields: Vec<(&FileFacts, &Field)> = files
        .iter()
        .filter(|f| stored(f))
        .flat_map(|f| f.facts.fields.iter().map(move |x| (f, x)))
        .collect();
    line_rules(files, &stored_fields, selection, &mut hits);
    audit_and_access(files, &routes, selection, &mut hits);
    retention(files, &stored_fields, selection, &mut hits);
    erasure(&routes, &stored_fields, selection, &mut hits);
    hits
}

fn line_rules(
    files: &[FileFacts],
    stored_fields: &[(&FileFacts, &Field)],
    selection: &Selection,
    hits: &mut Vec<Hit>,
) {
    for file in files {
        let path = Some(file.path.as_str());
        for logged in &file.facts.logged {
            let mut kinds: Vec<Kind> = logged
                .names
                .iter()
                .flat_map(|(_, k)| k.iter().copied())
                .filter(|k| k.in_scope(selection))
                .collect();
            kinds.sort();
            kinds.dedup();
            if kinds.is_empty() {
                continue;
            }
            let names: Vec<String> = logged
                .names
                .iter()
                .filter(|(_, k)| k.iter().any(|k| kinds.contains(k)))
                .map(|(n, _)| format!("`{n}`"))
                .collect();
            let nouns: Vec<&str> = kinds.iter().map(|k| k.noun()).collect();
            let tag = rules::tag(kinds.iter().map(|k| rules::logging_control(*k)));
            hits.push(hit(
                SENSITIVE_DATA_LOGGED,
                path,
                logged.line,
                format!(
                    "{tag} {} ({}) written to a log by `{}`: logs are copied, shipped and read \
                     far more widely than the data store; log a record id or a masked value \
                     instead",
                    nouns.join(" and "),
                    names.join(", "),
                    logged.callee
                ),
            ));
        }
        if PLAINTEXT_TRANSPORT.applies(selection) {
            for (line, what) in &file.facts.transport {
                hits.push(hit(
                    PLAINTEXT_TRANSPORT,
                    path,
                    *line,
                    format!(
                        "{} {what}: data sent this way can be read and changed on the network \
                         path; use https:// (TLS) and keep certificate verification on",
                        PLAINTEXT_TRANSPORT.tag(selection)
                    ),
                ));
            }
        }
    }
    // A resource's field is reported once, at its first declaration: the
    // stored record and its request body (`Card`, `CardInput`) are one
    // field.
    let mut seen: Vec<(String, String)> = Vec::new();
    for (file, field) in stored_fields {
        let key = (
            resource_key(&field.model),
            field.name.to_ascii_lowercase().replace('_', ""),
        );
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        let path = Some(file.path.as_str());
        if field.kinds.contains(&Kind::Cvv) && selection.has(Framework::PciDss) {
            hits.push(hit(
                CVV_STORED,
                path,
                field.line,
                format!(
                    "{} {} stores a card verification code: it must not be kept after \
                     authorisation, not even encrypted; pass it straight to the payment \
                     processor (or its hosted fields) and never persist it",
                    CVV_STORED.tag(selection),
                    field_label(field)
                ),
            ));
        }
        if file.facts.protection {
            continue;
        }
        let kind = field.kinds.iter().copied().find(|k| {
            (k.in_scope(selection) || selection.has(Framework::Soc2))
                && data::needs_encryption_at_rest(&field.name, *k)
        });
        if let Some(kind) = kind {
            let mut frameworks = vec![Framework::Soc2];
            frameworks.push(kind.framework());
            frameworks.retain(|f| selection.has(*f));
            hits.push(hit(
                UNENCRYPTED_AT_REST,
                path,
                field.line,
                format!(
                    "{} {} holds {} and nothing in this file encrypts, hashes or tokenises it: \
                     a copy of the database or a backup exposes it; encrypt the field (or store \
                     a token from a vault or the payment processor)",
                    tag_for(&UNENCRYPTED_AT_REST, &frameworks),
                    field_label(field),
                    kind.noun()
                ),
            ));
        }
    }
}

fn audit_and_access(
    files: &[FileFacts],
    routes: &[(&str, &Route)],
    selection: &Selection,
    hits: &mut Vec<Hit>,
) {
    let Some((first_path, first)) = routes.first() else {
        return;
    };
    let others = routes.len() - 1;
    let and_others = match others {
        0 => String::new(),
        1 => " and 1 other".into(),
        n => format!(" and {n} others"),
    };
    if NO_AUDIT_LOGGING.applies(selection) {
        let audit_call = files.iter().any(|f| f.facts.audit_call);
        let actor_logged = files
            .iter()
            .filter(|f| routes.iter().any(|(p, _)| *p == f.path))
            .any(|f| f.facts.actor_logged);
        if !audit_call && !actor_logged {
            hits.push(hit(
                NO_AUDIT_LOGGING,
                None,
                0,
                format!(
                    "{} the project changes data over HTTP ({} route at {}{and_others}) but \
                     keeps no audit trail: no handler file logs who made a change and no audit \
                     logger is called; record the actor, action, resource and outcome of every \
                     change",
                    NO_AUDIT_LOGGING.tag(selection),
                    first.method,
                    where_(first_path, first.line)
                ),
            ));
        }
    }
    if NO_ACCESS_CONTROL.applies(selection) && !files.iter().any(|f| f.facts.auth) {
        hits.push(hit(
            NO_ACCESS_CONTROL,
            Some(first_path),
            first.line,
            format!(
                "{} this {} route{and_others} change data, and the project has no \
                 authentication: no auth middleware, dependency, decorator or token check; \
                 anyone who reaches the service can change records; require an authenticated \
                 caller on every route that changes data",
                NO_ACCESS_CONTROL.tag(selection),
                first.method
            ),
        ));
    }
}

fn retention(
    files: &[FileFacts],
    stored_fields: &[(&FileFacts, &Field)],
    selection: &Selection,
    hits: &mut Vec<Hit>,
) {
    if files.iter().any(|f| f.facts.retention.is_some()) {
        return;
    }
    let mut kinds: Vec<Kind> = Vec::new();
    let mut evidence = None;
    for (file, field) in stored_fields {
        for kind in &field.kinds {
            if *kind != Kind::Cvv && kind.in_scope(selection) && !kinds.contains(kind) {
                kinds.push(*kind);
                evidence.get_or_insert((*file, *field));
            }
        }
    }
    let Some((file, field)) = evidence else {
        return;
    };
    kinds.sort();
    let mut frameworks: Vec<Framework> = kinds.iter().map(|k| k.framework()).collect();
    frameworks.dedup();
    let nouns: Vec<&str> = kinds.iter().map(|k| k.noun()).collect();
    hits.push(hit(
        NO_RETENTION_POLICY,
        None,
        0,
        format!(
            "{} {} {} stored (e.g. {} at {}) but no retention period is set: no setting named \
             `retention`, `ttl` or `expire` for records and no retention section in the README; \
             decide how long records are kept and delete or anonymise them after that",
            tag_for(&NO_RETENTION_POLICY, &frameworks),
            nouns.join(" and "),
            if nouns.len() == 1 { "is" } else { "are" },
            field_label(field),
            where_(&file.path, field.line)
        ),
    ));
}

fn erasure(
    routes: &[(&str, &Route)],
    stored_fields: &[(&FileFacts, &Field)],
    selection: &Selection,
    hits: &mut Vec<Hit>,
) {
    if !selection.has(Framework::Gdpr) {
        return;
    }
    let deletes: Vec<String> = routes
        .iter()
        .filter(|(_, r)| r.method == "DELETE")
        .map(|(p, r)| format!("{} {}", p.to_ascii_lowercase(), r.context))
        .collect();
    let mut reported: Vec<String> = Vec::new();
    for (file, field) in stored_fields {
        if !field.kinds.contains(&Kind::Personal) {
            continue;
        }
        let key = resource_key(&field.model);
        if reported.contains(&key) {
            continue;
        }
        // `RecordItem` is erased by a route of `/records`.
        let head = data::words(&field.model)
            .into_iter()
            .next()
            .unwrap_or_default();
        let same_file = format!("{} ", file.path.to_ascii_lowercase());
        let erasable = deletes.iter().any(|d| {
            key.is_empty()
                || d.contains(&key)
                || (head.len() > 2 && d.contains(&head))
                || d.starts_with(&same_file)
        });
        if erasable {
            continue;
        }
        reported.push(key.clone());
        let resource = if field.model.is_empty() {
            "its record".to_string()
        } else {
            format!("a {key}")
        };
        hits.push(hit(
            NO_ERASURE_ENDPOINT,
            Some(&file.path),
            field.line,
            format!(
                "{} {} is personal data, and no DELETE route removes {resource}: data subjects \
                 have the right to erasure; add a DELETE route (or an erasure job) for it",
                NO_ERASURE_ENDPOINT.tag(selection),
                field_label(field)
            ),
        ));
    }
}
