//! What a generated service does to protect the sensitive data it keeps:
//! which fields it stores encrypted, which it never stores, whether every
//! change goes to an audit trail, and how long records are kept.
//!
//! # When
//!
//! - **The intent's compliance concerns.** The host passes the planner's
//!   concerns as `("compliance", concern)` constraints (`payments`,
//!   `health-data`, `personal-data`, or a framework named outright:
//!   `pci-dss`, `hipaa`, `gdpr`, `soc2`). Any of them turns on all three
//!   measures.
//! - **The intent's own words**, read as features are read (so "no audit
//!   log" does not count): "encrypt…" encrypts the sensitive fields,
//!   "audit" keeps an audit trail, "retention"/"retain" or a period ("keep
//!   records for 90 days") sets a retention.
//! - **A repair round's findings** from `qlp/compliance`, for the controls
//!   an operator enforces although the intent never named them:
//!   `compliance/unencrypted-at-rest` encrypts the field it names (and every
//!   other sensitive one), `compliance/no-audit-logging` turns on the audit
//!   trail, `compliance/no-retention-policy` sets the retention, and
//!   `compliance/cvv-stored` stops storing card verification codes.
//!
//! # What
//!
//! - **Encrypted fields**: those [`crate::sensitive`] finds must not be
//!   stored in clear text (card numbers, health data, government ids). Each
//!   becomes a text field (an identifier such as a medical record number is
//!   text that may start with a zero), stored encrypted with AES-256-GCM
//!   under the key in [`KEY_VARIABLE`].
//! - **Dropped fields**: a card verification code is never stored (PCI DSS
//!   3.3.1) once card data is in scope.
//! - **Audit trail**: who (the token's subject, or `anonymous`), what
//!   (create, replace, delete), which record and the outcome, one entry per
//!   change.
//! - **Retention**: records older than [`RETENTION_VARIABLE`] days (default
//!   [`DEFAULT_RETENTION_DAYS`], or the period the intent gives) are
//!   removed.
//! - **Access control**: a compliance concern, or a
//!   `compliance/no-access-control` finding, turns on the JWT authentication
//!   of the resource routes (`IntentSpec::auth`) the agents already write.
//!
//! Deterministic like the rest of the reading: the same intent and findings
//! give the same protection.

use qlp_sdk::{Finding, Intent};

use crate::fields::FieldKind;
use crate::sensitive::{self, Kind};
use crate::spec::{IntentSpec, enabled_constraints, feature_tokens, mentions_any};

/// The environment variable holding the field encryption key: 32 bytes,
/// base64.
pub const KEY_VARIABLE: &str = "FIELD_ENCRYPTION_KEY";

/// The environment variable holding the retention period in days.
pub const RETENTION_VARIABLE: &str = "RECORD_RETENTION_DAYS";

/// The retention when neither the intent nor the operator gives one.
pub const DEFAULT_RETENTION_DAYS: u32 = 365;

/// The longest retention the intent can ask for: 100 years.
pub const MAX_RETENTION_DAYS: u32 = 36_500;

/// Compliance concerns and frameworks that turn every measure on.
const CONCERNS: &[&str] = &[
    "payments",
    "health-data",
    "personal-data",
    "pci-dss",
    "hipaa",
    "gdpr",
    "soc2",
];

/// Concerns that put card data in scope, so that a verification code is
/// never stored.
const CARD_CONCERNS: &[&str] = &["payments", "pci-dss", "soc2"];

/// The protection a generated service applies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Protection {
    /// Fields stored encrypted, as (resource plural, field name).
    pub encrypted: Vec<(String, String)>,
    /// Fields the intent named that are not stored, as (resource plural,
    /// field name).
    pub dropped: Vec<(String, String)>,
    /// Whether every change is written to the audit trail.
    pub audit: bool,
    /// The retention in days, when records expire.
    pub retention_days: Option<u32>,
    /// Why, one line each, for the README: "the intent's compliance concern
    /// `payments`", "finding `compliance/no-audit-logging`".
    pub reasons: Vec<String>,
}

impl Protection {
    /// Whether `field` of the resource `plural` is stored encrypted.
    pub fn encrypts(&self, plural: &str, field: &str) -> bool {
        self.encrypted
            .iter()
            .any(|(p, f)| p == plural && f == field)
    }

    /// Whether any field of the resource `plural` is stored encrypted.
    pub fn encrypts_any(&self, plural: &str) -> bool {
        self.encrypted.iter().any(|(p, _)| p == plural)
    }

    /// Whether the service does anything beyond storing what it is given.
    pub fn any(&self) -> bool {
        !self.encrypted.is_empty()
            || !self.dropped.is_empty()
            || self.audit
            || self.retention_days.is_some()
    }
}

/// What to protect for `intent` in a round with `findings`, with `spec`
/// changed to match: encrypted fields become text, dropped fields are
/// removed (a resource keeps at least one field).
pub fn protect(intent: &Intent, findings: &[Finding], spec: &mut IntentSpec) -> Protection {
    let mut protection = Protection::default();
    let enabled = enabled_constraints(intent);
    let concerns: Vec<&str> = enabled
        .iter()
        .filter(|(name, _)| name.trim().eq_ignore_ascii_case("compliance"))
        .map(|(_, value)| value.trim())
        .filter(|value| CONCERNS.contains(&value.to_ascii_lowercase().as_str()))
        .collect();
    let tokens = feature_tokens(&intent.description, &intent.requirements, &enabled);

    let mut encrypt = false;
    let mut drop_cvv = false;
    let mut retention = None;
    for concern in &concerns {
        let concern = concern.to_ascii_lowercase();
        protection
            .reasons
            .push(format!("the intent's compliance concern `{concern}`"));
        drop_cvv |= CARD_CONCERNS.contains(&concern.as_str());
    }
    if !concerns.is_empty() {
        encrypt = true;
        protection.audit = true;
        retention = Some(DEFAULT_RETENTION_DAYS);
        spec.auth = true;
    }
    if mentions_any(&tokens, &["encrypt", "encrypted", "encryption"]) {
        encrypt = true;
        protection
            .reasons
            .push("the intent asks for encryption".into());
    }
    if mentions_any(&tokens, &["audit", "audited", "auditing"]) {
        protection.audit = true;
        protection
            .reasons
            .push("the intent asks for an audit trail".into());
    }
    let period = retention_period(&tokens);
    if period.is_some() || mentions_any(&tokens, &["retention", "retain", "retained"]) {
        retention = Some(period.unwrap_or(DEFAULT_RETENTION_DAYS));
        protection
            .reasons
            .push("the intent sets a retention".into());
    }

    let mut named_fields: Vec<String> = vec![];
    for finding in findings {
        let reason = format!("finding `{}`", finding.rule_id);
        let answered = match finding.rule_id.as_str() {
            "compliance/unencrypted-at-rest" => {
                encrypt = true;
                named_fields.extend(named_field(&finding.message));
                true
            }
            "compliance/no-audit-logging" => {
                protection.audit = true;
                true
            }
            "compliance/no-retention-policy" => {
                retention = retention.or(Some(DEFAULT_RETENTION_DAYS));
                true
            }
            "compliance/cvv-stored" => {
                drop_cvv = true;
                true
            }
            "compliance/no-access-control" => {
                spec.auth = true;
                true
            }
            _ => false,
        };
        if answered && !protection.reasons.contains(&reason) {
            protection.reasons.push(reason);
        }
    }
    protection.retention_days = retention;

    for resource in &mut spec.resources {
        if drop_cvv {
            let (codes, kept): (Vec<_>, Vec<_>) = resource
                .fields
                .iter()
                .cloned()
                .partition(|f| sensitive::classify(&f.name, false).contains(&Kind::Cvv));
            // A resource that would have no field left keeps its fields:
            // the validator then reports the code, and nothing is half-done.
            if !codes.is_empty() && !kept.is_empty() {
                resource.fields = kept;
                protection
                    .dropped
                    .extend(codes.into_iter().map(|f| (resource.plural.clone(), f.name)));
            }
        }
        if !encrypt {
            continue;
        }
        for field in &mut resource.fields {
            let sensitive = sensitive::classify(&field.name, false)
                .into_iter()
                .any(|kind| sensitive::needs_encryption_at_rest(&field.name, kind));
            if sensitive || named_fields.contains(&field.name) {
                field.kind = FieldKind::Text;
                field.non_negative = false;
                protection
                    .encrypted
                    .push((resource.plural.clone(), field.name.clone()));
            }
        }
    }
    protection
}

/// The field an `unencrypted-at-rest` message names, in snake case: the
/// part after the dot of its first quoted `Model.Field`.
fn named_field(message: &str) -> Option<String> {
    let quoted = message.split('`').nth(1)?;
    let field = quoted.rsplit('.').next()?;
    let words = sensitive::words(field);
    (!words.is_empty()).then(|| words.join("_"))
}

/// A period the intent gives for keeping records: a number then `day(s)`,
/// `week(s)`, `month(s)` or `year(s)`, within a few words after "keep",
/// "retain", "retention", "delete" or "purge". In days, capped at
/// [`MAX_RETENTION_DAYS`].
fn retention_period(tokens: &[String]) -> Option<u32> {
    const MARKS: &[&str] = &[
        "keep",
        "kept",
        "retain",
        "retained",
        "retention",
        "delete",
        "deleted",
        "purge",
        "purged",
    ];
    for (i, token) in tokens.iter().enumerate() {
        if !MARKS.contains(&token.as_str()) {
            continue;
        }
        let window = &tokens[i + 1..tokens.len().min(i + 9)];
        for pair in window.windows(2) {
            let Ok(n) = pair[0].parse::<u32>() else {
                continue;
            };
            let per = match pair[1].as_str() {
                "day" | "days" => 1,
                "week" | "weeks" => 7,
                "month" | "months" => 30,
                "year" | "years" => 365,
                _ => continue,
            };
            if n > 0 {
                return Some(n.saturating_mul(per).min(MAX_RETENTION_DAYS));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use qlp_sdk::Severity;

    fn intent(description: &str, requirements: &[&str], constraints: &[(&str, &str)]) -> Intent {
        Intent {
            id: "i".into(),
            description: description.into(),
            requirements: requirements.iter().map(|s| s.to_string()).collect(),
            constraints: constraints
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            tier: "standard".into(),
        }
    }

    fn finding(rule: &str, message: &str) -> Finding {
        Finding::new(rule, Severity::Medium, message)
    }

    const CARDS: &str = "A payments API for cards. Each card has a cardholder name, a card \
                         number, a cvv and an expiry month.";

    fn field_names(spec: &IntentSpec, plural: &str) -> Vec<String> {
        let r = spec.resources.iter().find(|r| r.plural == plural).unwrap();
        r.fields.iter().map(|f| f.name.clone()).collect()
    }

    #[test]
    fn a_payments_concern_encrypts_card_numbers_drops_the_cvv_audits_and_expires() {
        let intent = intent(CARDS, &[], &[("compliance", "payments")]);
        let mut spec = crate::analyze(&intent).unwrap();
        assert!(field_names(&spec, "cards").contains(&"cvv".to_string()));
        let p = protect(&intent, &[], &mut spec);
        assert_eq!(p.encrypted, [("cards".into(), "card_number".into())]);
        assert_eq!(p.dropped, [("cards".into(), "cvv".into())]);
        assert!(!field_names(&spec, "cards").contains(&"cvv".to_string()));
        assert!(p.audit);
        assert_eq!(p.retention_days, Some(DEFAULT_RETENTION_DAYS));
        assert!(p.encrypts("cards", "card_number"));
        assert!(!p.encrypts("cards", "cardholder_name"));
        assert!(p.encrypts_any("cards"));
        assert_eq!(p.reasons, ["the intent's compliance concern `payments`"]);
        assert!(
            spec.auth,
            "card data is served to authenticated callers only"
        );
    }

    #[test]
    fn without_a_concern_or_a_finding_nothing_changes() {
        let intent = intent(CARDS, &[], &[]);
        let mut spec = crate::analyze(&intent).unwrap();
        let before = spec.clone();
        let p = protect(&intent, &[], &mut spec);
        assert_eq!(p, Protection::default());
        assert!(!p.any());
        assert_eq!(spec, before);
        // A disabled concern counts as none.
        let intent = self::intent(CARDS, &[], &[("compliance", "none")]);
        assert!(!protect(&intent, &[], &mut spec).any());
    }

    #[test]
    fn health_data_is_encrypted_and_becomes_text() {
        let intent = intent(
            "A patient records API. Each record has a full name, a diagnosis and a medical \
             record number.",
            &[],
            &[("compliance", "health-data")],
        );
        let mut spec = crate::analyze(&intent).unwrap();
        let p = protect(&intent, &[], &mut spec);
        assert!(p.encrypts("records", "diagnosis"), "{p:?}");
        assert!(p.encrypts("records", "medical_record_number"), "{p:?}");
        assert!(!p.encrypts("records", "full_name"), "{p:?}");
        let records = spec
            .resources
            .iter()
            .find(|r| r.plural == "records")
            .unwrap();
        for field in &records.fields {
            if p.encrypts("records", &field.name) {
                assert_eq!(field.kind, FieldKind::Text, "{field:?}");
            }
        }
        // Health data puts no card data in scope: nothing is dropped.
        assert!(p.dropped.is_empty());
    }

    #[test]
    fn findings_of_a_repair_round_turn_on_what_they_ask_for() {
        let intent = intent(CARDS, &[], &[]);
        let mut spec = crate::analyze(&intent).unwrap();
        let p = protect(
            &intent,
            &[finding(
                "compliance/no-audit-logging",
                "[PCI DSS 10.2.1] the project changes data…",
            )],
            &mut spec,
        );
        assert!(p.audit);
        assert!(p.encrypted.is_empty() && p.retention_days.is_none());
        assert_eq!(p.reasons, ["finding `compliance/no-audit-logging`"]);

        let p = protect(
            &intent,
            &[
                finding(
                    "compliance/unencrypted-at-rest",
                    "[SOC 2 CC6.1] `Card.CardNumber` holds card number and nothing…",
                ),
                finding("compliance/no-retention-policy", "…"),
                finding("compliance/cvv-stored", "…"),
                finding("quality/long-function", "…"),
            ],
            &mut spec,
        );
        assert!(!spec.auth);
        assert!(p.encrypts("cards", "card_number"));
        assert_eq!(p.retention_days, Some(DEFAULT_RETENTION_DAYS));
        assert_eq!(p.dropped, [("cards".into(), "cvv".into())]);
        assert!(!p.audit);
        assert_eq!(p.reasons.len(), 3, "{:?}", p.reasons);
        protect(
            &intent,
            &[finding("compliance/no-access-control", "…")],
            &mut spec,
        );
        assert!(spec.auth);
    }

    #[test]
    fn a_field_named_by_a_finding_is_encrypted_even_if_not_recognised() {
        let intent = intent(
            "An API for accounts. Each account has an owner and a routing code.",
            &[],
            &[],
        );
        let mut spec = crate::analyze(&intent).unwrap();
        let p = protect(
            &intent,
            &[finding(
                "compliance/unencrypted-at-rest",
                "`Account.RoutingCode` holds …",
            )],
            &mut spec,
        );
        assert!(p.encrypts("accounts", "routing_code"), "{p:?}");
        assert!(!p.encrypts("accounts", "owner"), "{p:?}");
    }

    #[test]
    fn the_intents_words_ask_for_each_measure_alone() {
        let mut spec = crate::analyze(&intent(CARDS, &[], &[])).unwrap();
        let p = protect(
            &intent(CARDS, &["Keep an audit log of every change"], &[]),
            &[],
            &mut spec,
        );
        assert!(p.audit && p.encrypted.is_empty() && p.retention_days.is_none());
        let p = protect(
            &intent(CARDS, &["Encrypt card numbers at rest"], &[]),
            &[],
            &mut spec,
        );
        assert!(p.encrypts("cards", "card_number") && !p.audit);
        // Encryption alone does not drop what the intent asked to store.
        assert!(p.dropped.is_empty());
        let p = protect(
            &intent(CARDS, &["Records are deleted after 90 days"], &[]),
            &[],
            &mut spec,
        );
        assert_eq!(p.retention_days, Some(90));
        let p = protect(
            &intent(CARDS, &["Keep records for 7 years"], &[]),
            &[],
            &mut spec,
        );
        assert_eq!(p.retention_days, Some(7 * 365));
        let p = protect(
            &intent(CARDS, &["No audit log is needed"], &[]),
            &[],
            &mut spec,
        );
        assert!(!p.audit, "a negated feature does not count");
    }

    #[test]
    fn each_measure_alone_is_a_protection() {
        let one = |p: Protection| assert!(p.any(), "{p:?}");
        one(Protection {
            encrypted: vec![("cards".into(), "card_number".into())],
            ..Protection::default()
        });
        one(Protection {
            dropped: vec![("cards".into(), "cvv".into())],
            ..Protection::default()
        });
        one(Protection {
            audit: true,
            ..Protection::default()
        });
        one(Protection {
            retention_days: Some(30),
            ..Protection::default()
        });
        let p = Protection {
            encrypted: vec![("cards".into(), "card_number".into())],
            ..Protection::default()
        };
        assert!(p.encrypts_any("cards") && !p.encrypts_any("charges"));
    }

    #[test]
    fn a_resource_of_verification_codes_alone_keeps_its_fields() {
        let intent = intent(
            "An API for checks. Each check has a cvv and a security code.",
            &[],
            &[("compliance", "payments")],
        );
        let mut spec = crate::analyze(&intent).unwrap();
        let before = field_names(&spec, "checks");
        let p = protect(&intent, &[], &mut spec);
        assert_eq!(field_names(&spec, "checks"), before);
        assert!(p.dropped.is_empty(), "{p:?}");
        // With one other field, both codes go.
        let intent = self::intent(
            "An API for checks. Each check has a cvv, a security code and an amount.",
            &[],
            &[("compliance", "payments")],
        );
        let mut spec = crate::analyze(&intent).unwrap();
        let p = protect(&intent, &[], &mut spec);
        assert_eq!(field_names(&spec, "checks"), ["amount"]);
        assert_eq!(p.dropped.len(), 2, "{p:?}");
    }

    #[test]
    fn retention_periods_are_read_in_days_and_capped() {
        let t = |s: &str| crate::words::tokenize(s);
        assert_eq!(retention_period(&t("keep 30 days")), Some(30));
        assert_eq!(retention_period(&t("a fleet of 3 trucks 5 days old")), None);
        assert_eq!(retention_period(&t("retain data for 2 weeks")), Some(14));
        assert_eq!(retention_period(&t("purge after 3 months")), Some(90));
        assert_eq!(
            retention_period(&t("keep it 1000 years")),
            Some(MAX_RETENTION_DAYS)
        );
        assert_eq!(retention_period(&t("keep 0 days")), None);
        assert_eq!(retention_period(&t("5 days keep")), None);
        assert_eq!(retention_period(&t("keep the 3 reports")), None);
    }
}
