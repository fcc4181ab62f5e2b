//! Which compliance frameworks a run checks, and why: the intent's
//! compliance concerns (the planner's `payments`, `health-data`,
//! `personal-data`, which the host passes as `("compliance", …)`
//! constraints, or a framework named outright) and the operator's
//! `frameworks` setting for the tier. The data kinds each framework
//! protects are in [`crate::data`].

use qlp_sdk::{Intent, PluginError};

/// The constraint name under which the host passes compliance concerns.
pub const CONSTRAINT: &str = "compliance";

/// The configuration key through which the operator forces frameworks on a
/// tier: a comma-separated list of `pci-dss`, `hipaa`, `gdpr`, `soc2`.
pub const CONFIG_KEY: &str = "frameworks";

/// A compliance framework whose controls the rules map to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Framework {
    PciDss,
    Hipaa,
    Gdpr,
    Soc2,
}

impl Framework {
    /// Every framework, in the order messages list them.
    pub const ALL: [Framework; 4] = [
        Framework::PciDss,
        Framework::Hipaa,
        Framework::Gdpr,
        Framework::Soc2,
    ];

    /// The framework's name as control ids are written: `PCI DSS 3.4.1`.
    pub fn title(self) -> &'static str {
        match self {
            Framework::PciDss => "PCI DSS",
            Framework::Hipaa => "HIPAA",
            Framework::Gdpr => "GDPR",
            Framework::Soc2 => "SOC 2",
        }
    }

    /// The framework's key in configuration and constraints: `pci-dss`.
    pub fn key(self) -> &'static str {
        match self {
            Framework::PciDss => "pci-dss",
            Framework::Hipaa => "hipaa",
            Framework::Gdpr => "gdpr",
            Framework::Soc2 => "soc2",
        }
    }

    /// The framework a key or an intent's concern names (case and `_`/` `
    /// for `-` do not matter), if any.
    pub fn from_name(name: &str) -> Option<Framework> {
        let name = name.trim().to_ascii_lowercase().replace(['_', ' '], "-");
        Some(match name.as_str() {
            "pci-dss" | "pci" | "pcidss" | "payments" => Framework::PciDss,
            "hipaa" | "health-data" => Framework::Hipaa,
            "gdpr" | "personal-data" => Framework::Gdpr,
            "soc2" | "soc-2" => Framework::Soc2,
            _ => return None,
        })
    }
}

/// The frameworks a run checks, each with why it was selected, and the
/// intent's concerns that map to none.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    /// Selected frameworks in [`Framework::ALL`] order, each with its reason
    /// (`intent: payments`, `operator configuration`).
    pub frameworks: Vec<(Framework, String)>,
    /// Concerns of the intent that name no framework this plugin knows.
    pub unknown_concerns: Vec<String>,
}

impl Selection {
    /// A selection of exactly these frameworks (for tests and tools).
    pub fn of(frameworks: &[Framework]) -> Selection {
        let mut selection = Selection::default();
        for f in frameworks {
            selection.add(*f, "selected".into());
        }
        selection
    }

    fn add(&mut self, framework: Framework, why: String) {
        if let Some((_, reasons)) = self.frameworks.iter_mut().find(|(f, _)| *f == framework) {
            if !reasons.split(", ").any(|r| r == why) {
                reasons.push_str(", ");
                reasons.push_str(&why);
            }
            return;
        }
        self.frameworks.push((framework, why));
        self.frameworks.sort_by_key(|(f, _)| *f);
    }

    /// Whether `framework` is selected.
    pub fn has(&self, framework: Framework) -> bool {
        self.frameworks.iter().any(|(f, _)| *f == framework)
    }

    pub fn is_empty(&self) -> bool {
        self.frameworks.is_empty()
    }

    /// `PCI DSS (intent: payments), SOC 2 (operator configuration)`.
    pub fn describe(&self) -> String {
        self.frameworks
            .iter()
            .map(|(f, why)| format!("{} ({why})", f.title()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The frameworks the intent's `compliance` constraints and the operator's
/// `frameworks` setting select. An unknown name in the operator's setting
/// is an error (a typo must not switch a framework off silently); an
/// unknown concern of the intent is only reported in the summary.
pub fn select(intent: &Intent, configured: Option<&str>) -> Result<Selection, PluginError> {
    let mut selection = Selection::default();
    for (name, value) in &intent.constraints {
        if !name.trim().eq_ignore_ascii_case(CONSTRAINT) {
            continue;
        }
        match Framework::from_name(value) {
            Some(framework) => selection.add(framework, format!("intent: {}", value.trim())),
            None => selection.unknown_concerns.push(value.trim().to_string()),
        }
    }
    for name in configured
        .unwrap_or("")
        .split([',', ' ', '\n', '\t'])
        .filter(|s| !s.is_empty())
    {
        let framework = Framework::from_name(name).ok_or_else(|| {
            PluginError::new(
                "INVALID_CONFIG",
                format!(
                    "`{CONFIG_KEY}` names `{name}`; the known frameworks are pci-dss, hipaa, \
                     gdpr and soc2"
                ),
            )
        })?;
        selection.add(framework, "operator configuration".into());
    }
    Ok(selection)
}
