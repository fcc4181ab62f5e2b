//! The parts of a validator's report that every validator computes the same
//! way: the score (100 minus a penalty per finding, by severity, floored at
//! 0), the count of findings by severity, and the count of suppressed
//! findings per rule. Each validator keeps its own [`Penalties`] and the
//! wording around these parts (what was read, what was skipped).

use std::collections::BTreeMap;

use crate::{Finding, Severity};

/// The score a finding of each severity costs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Penalties {
    pub critical: u8,
    pub high: u8,
    pub medium: u8,
    pub low: u8,
    pub info: u8,
}

impl Penalties {
    /// The score lost for one finding of this severity.
    pub const fn of(&self, severity: Severity) -> u8 {
        match severity {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
            Severity::Info => self.info,
        }
    }
}

/// 100 minus the penalties of all findings, floored at 0.
pub fn score(findings: &[Finding], penalties: &Penalties) -> u8 {
    let lost: u32 = findings
        .iter()
        .map(|f| u32::from(penalties.of(f.severity)))
        .sum();
    u8::try_from(100u32.saturating_sub(lost)).unwrap_or(0)
}

/// `none` when there is no finding, else the count by severity, most severe
/// first, e.g. `3 findings: 2 high, 1 medium`.
pub fn counts(findings: &[Finding], none: &str) -> String {
    if findings.is_empty() {
        return none.into();
    }
    let levels = [
        (Severity::Critical, "critical"),
        (Severity::High, "high"),
        (Severity::Medium, "medium"),
        (Severity::Low, "low"),
        (Severity::Info, "info"),
    ];
    let counts: Vec<String> = levels
        .iter()
        .filter_map(|(level, label)| {
            let n = findings.iter().filter(|f| f.severity == *level).count();
            (n > 0).then(|| format!("{n} {label}"))
        })
        .collect();
    let noun = if findings.len() == 1 {
        "finding"
    } else {
        "findings"
    };
    format!("{} {noun}: {}", findings.len(), counts.join(", "))
}

/// Findings left out of a report by a suppression marker (or a setting),
/// counted per rule id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Suppressed(BTreeMap<String, usize>);

impl Suppressed {
    /// Counts one suppressed finding of `rule`.
    pub fn add(&mut self, rule: &str) {
        match self.0.get_mut(rule) {
            Some(n) => *n += 1,
            None => {
                self.0.insert(rule.to_string(), 1);
            }
        }
    }

    /// How many findings were suppressed.
    pub fn total(&self) -> usize {
        self.0.values().sum()
    }

    /// The suffix a summary ends with: empty when nothing was suppressed,
    /// else `; 3 suppressed (container/latest-tag 1, container/root-user 2)`,
    /// rules in byte order.
    pub fn note(&self) -> String {
        if self.0.is_empty() {
            return String::new();
        }
        let per_rule: Vec<String> = self.0.iter().map(|(r, n)| format!("{r} {n}")).collect();
        format!("; {} suppressed ({})", self.total(), per_rule.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PENALTIES: Penalties = Penalties {
        critical: 40,
        high: 20,
        medium: 10,
        low: 5,
        info: 0,
    };

    fn finding(severity: Severity) -> Finding {
        Finding::new("x/rule", severity, String::new())
    }

    #[test]
    fn score_subtracts_each_penalty_and_floors_at_zero() {
        assert_eq!(score(&[], &PENALTIES), 100);
        let mixed = [
            finding(Severity::High),
            finding(Severity::Low),
            finding(Severity::Info),
        ];
        assert_eq!(score(&mixed, &PENALTIES), 75);
        assert_eq!(score(&vec![finding(Severity::Critical); 3], &PENALTIES), 0);
        assert_eq!(PENALTIES.of(Severity::Medium), 10);
    }

    #[test]
    fn counts_go_from_critical_to_info_and_skip_empty_levels() {
        assert_eq!(counts(&[], "no findings"), "no findings");
        assert_eq!(counts(&[finding(Severity::Low)], "-"), "1 finding: 1 low");
        let mixed = [
            finding(Severity::Info),
            finding(Severity::Medium),
            finding(Severity::Critical),
            finding(Severity::Medium),
        ];
        assert_eq!(
            counts(&mixed, "-"),
            "4 findings: 1 critical, 2 medium, 1 info"
        );
    }

    #[test]
    fn suppressed_findings_are_counted_per_rule_in_byte_order() {
        let mut suppressed = Suppressed::default();
        assert_eq!(suppressed.note(), "");
        suppressed.add("b/two");
        suppressed.add("a/one");
        suppressed.add("b/two");
        assert_eq!(suppressed.total(), 3);
        assert_eq!(suppressed.note(), "; 3 suppressed (a/one 1, b/two 2)");
    }
}
