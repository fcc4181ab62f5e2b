//! QLP planner `__NAME__`: reads an intent and recommends a tier.

use qlp_sdk::PluginKind;
use qlp_sdk::planner::{Plan, Planner, PlanningRequest, PluginError, PluginInfo};

pub struct __TYPE__;

impl Planner for __TYPE__ {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "__NAME__".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            kind: PluginKind::Planner,
            description: "Recommends a tier by the length of the intent.".into(),
            capabilities: vec![],
        }
    }

    fn plan(request: PlanningRequest) -> Result<Plan, PluginError> {
        let tier = recommend(&request.intent.description, &request.tiers);
        Ok(Plan {
            complexity: 0.5,
            recommended_tier: tier.clone(),
            justification: vec![format!("{tier}: chosen by the length of the description")],
            stack: vec![],
            constraints: request.intent.constraints,
            compliance: vec![],
            estimated_files: 1,
            estimated_stages: 1,
        })
    }
}

/// The first tier offered for a short intent, the last for a long one:
/// replace with your own reading.
pub fn recommend(description: &str, tiers: &[String]) -> String {
    let pick = if description.len() > 200 { tiers.last() } else { tiers.first() };
    pick.cloned().unwrap_or_else(|| "standard".into())
}

qlp_sdk::export_planner!(__TYPE__);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_intent_gets_the_first_tier() {
        let tiers = vec!["starter".to_owned(), "enterprise".to_owned()];
        assert_eq!(recommend("a todo app", &tiers), "starter");
        assert_eq!(recommend(&"x".repeat(300), &tiers), "enterprise");
        assert_eq!(__TYPE__::describe().name, "__NAME__");
    }
}
