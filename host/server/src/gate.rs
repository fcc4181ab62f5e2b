//! The quality gate: validator reports in, a score and a decision out.
//!
//! The score is the weighted mean of the validators' scores (each weight 1
//! unless the tier says otherwise; 100 when there are no validators). The
//! capsule fails when the score is under the tier's minimum, when a
//! required validator's own score is, or when findings of some severity
//! exceed the tier's maximum for it. A capsule that does not fail but
//! scores under `review_below` needs a person's review. Every reason names
//! what failed, so the user and the repairing agents can act on it.

use serde::{Deserialize, Serialize};

use crate::tiers::Gate;
use qlp_contract::model::{Severity, Validation};

/// What the gate decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Decision {
    Pass,
    Fail,
    /// Passes once a person approves.
    NeedsReview,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::NeedsReview => "needs-review",
        }
    }
}

/// The result of the quality gate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub score: u8,
    pub decision: Decision,
    /// Why the capsule failed or needs review; empty when it passed.
    pub reasons: Vec<String>,
}

impl Verdict {
    /// Whether the capsule cleared the gate, with or without a review.
    pub fn passed(&self) -> bool {
        self.decision != Decision::Fail
    }
}

const SEVERITIES: [Severity; 5] = [
    Severity::Critical,
    Severity::High,
    Severity::Medium,
    Severity::Low,
    Severity::Info,
];

fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::High => "high",
        Severity::Medium => "medium",
        Severity::Low => "low",
        Severity::Info => "info",
    }
}

/// Applies `gate` to the validators' reports.
pub fn evaluate(gate: &Gate, validations: &[Validation]) -> Verdict {
    let weight = |name: &str| u64::from(gate.weights.get(name).copied().unwrap_or(1));
    let total: u64 = validations.iter().map(|v| weight(&v.validator)).sum();
    let score = if total == 0 {
        100
    } else {
        let sum: u64 = validations
            .iter()
            .map(|v| weight(&v.validator) * u64::from(v.report.score))
            .sum();
        ((sum as f64 / total as f64).round() as u64).min(100) as u8
    };
    let mut reasons = vec![];
    if score < gate.min_score {
        reasons.push(format!(
            "quality score {score} is below the tier's minimum of {}",
            gate.min_score
        ));
    }
    for name in &gate.required {
        match validations.iter().find(|v| &v.validator == name) {
            Some(v) if v.report.score < gate.min_score => reasons.push(format!(
                "required validator {name} scored {}, below the tier's minimum of {}",
                v.report.score, gate.min_score
            )),
            Some(_) => {}
            None => reasons.push(format!("required validator {name} reported nothing")),
        }
    }
    for severity in SEVERITIES {
        let max = match (gate.max_findings.get(&severity), severity) {
            (Some(max), _) => *max,
            (None, Severity::Critical) => gate.max_critical,
            (None, _) => continue,
        };
        let found: Vec<String> = validations
            .iter()
            .flat_map(|v| v.report.findings.iter().map(move |f| (v, f)))
            .filter(|(_, f)| f.severity == severity)
            .map(|(v, f)| {
                let at = match (&f.path, f.line) {
                    (Some(p), Some(l)) => format!(" at {p}:{l}"),
                    (Some(p), None) => format!(" in {p}"),
                    _ => String::new(),
                };
                format!("{} ({}){at}", f.rule_id, v.validator)
            })
            .collect();
        if found.len() as u64 > u64::from(max) {
            reasons.push(format!(
                "{} {} finding{} over the tier's maximum of {max}: {}",
                found.len(),
                severity_name(severity),
                if found.len() == 1 { "" } else { "s" },
                found.join(", ")
            ));
        }
    }
    let decision = if !reasons.is_empty() {
        Decision::Fail
    } else if gate.review_below.is_some_and(|r| score < r) {
        reasons.push(format!(
            "quality score {score} is below {}, where the tier asks for a review",
            gate.review_below.unwrap_or_default()
        ));
        Decision::NeedsReview
    } else {
        Decision::Pass
    };
    Verdict {
        score,
        decision,
        reasons,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qlp_contract::model::{Finding, Report};

    fn validation(name: &str, score: u8, severities: &[Severity]) -> Validation {
        Validation {
            validator: name.into(),
            report: Report {
                findings: severities
                    .iter()
                    .map(|&severity| Finding {
                        path: Some("keys/id_rsa".into()),
                        line: Some(3),
                        ..Finding::new("secrets/private-key", severity, "m")
                    })
                    .collect(),
                score,
                summary: String::new(),
            },
        }
    }

    fn gate(min_score: u8, max_critical: u32) -> Gate {
        Gate {
            min_score,
            max_critical,
            ..Gate::default()
        }
    }

    #[test]
    fn the_score_is_the_rounded_mean_of_validator_scores() {
        let g = gate(70, 0);
        assert_eq!(evaluate(&g, &[]).score, 100);
        let v = evaluate(&g, &[validation("a", 80, &[]), validation("b", 61, &[])]);
        assert_eq!(v.score, 71);
        assert_eq!(v.decision, Decision::Pass);
    }

    #[test]
    fn weights_shift_the_score() {
        let mut g = gate(70, 0);
        g.weights.insert("a".into(), 3);
        let v = evaluate(&g, &[validation("a", 90, &[]), validation("b", 50, &[])]);
        // (3·90 + 1·50) / 4 = 80
        assert_eq!(v.score, 80);
    }

    #[test]
    fn a_low_score_fails_with_the_reason() {
        let v = evaluate(&gate(70, 0), &[validation("a", 69, &[])]);
        assert_eq!(v.decision, Decision::Fail);
        assert_eq!(
            v.reasons,
            vec!["quality score 69 is below the tier's minimum of 70"]
        );
    }

    #[test]
    fn a_required_validator_cannot_be_outvoted() {
        let mut g = gate(70, 0);
        g.required.push("qlp/secrets".into());
        g.weights.insert("qlp/style".into(), 9);
        let v = evaluate(
            &g,
            &[
                validation("qlp/style", 100, &[]),
                validation("qlp/secrets", 40, &[]),
            ],
        );
        assert_eq!(v.score, 94);
        assert_eq!(v.decision, Decision::Fail);
        assert_eq!(
            v.reasons,
            vec!["required validator qlp/secrets scored 40, below the tier's minimum of 70"]
        );
    }

    #[test]
    fn critical_findings_fail_the_gate_naming_file_and_line() {
        let v = evaluate(
            &gate(0, 0),
            &[validation(
                "qlp/secrets",
                60,
                &[Severity::Critical, Severity::High],
            )],
        );
        assert_eq!(v.decision, Decision::Fail);
        assert_eq!(
            v.reasons,
            vec![
                "1 critical finding over the tier's maximum of 0: secrets/private-key (qlp/secrets) at keys/id_rsa:3"
            ]
        );
        let v = evaluate(
            &gate(0, 1),
            &[validation("qlp/secrets", 60, &[Severity::Critical])],
        );
        assert!(v.passed());
    }

    #[test]
    fn findings_are_capped_per_severity() {
        let mut g = gate(0, 5);
        g.max_findings.insert(Severity::High, 1);
        let v = evaluate(
            &g,
            &[validation("a", 90, &[Severity::High, Severity::High])],
        );
        assert_eq!(v.decision, Decision::Fail);
        assert!(v.reasons[0].starts_with("2 high findings over the tier's maximum of 1"));
    }

    #[test]
    fn a_middling_score_needs_review() {
        let mut g = gate(70, 0);
        g.review_below = Some(90);
        let v = evaluate(&g, &[validation("a", 80, &[])]);
        assert_eq!(v.decision, Decision::NeedsReview);
        assert!(v.passed());
        assert_eq!(
            v.reasons,
            vec!["quality score 80 is below 90, where the tier asks for a review"]
        );
        assert_eq!(
            evaluate(&g, &[validation("a", 95, &[])]).decision,
            Decision::Pass
        );
        assert_eq!(
            evaluate(&g, &[validation("a", 60, &[])]).decision,
            Decision::Fail
        );
    }
}
