//! Choosing the agent by the stack an intent asks for. A tier whose agents
//! include [`STACK_AGENT`] runs, in its place, the agent the tiers file's
//! `[stacks]` table names for the stack the planner detected; an intent
//! whose stack no agent serves is refused with `UNSUPPORTED_STACK` instead
//! of being answered in another stack.
//!
//! ```toml
//! [stacks]
//! default = "qlp/template-fastapi"   # the planner named no decisive word
//! decisive = ["go", "python", "rust", "frontend", "cli", "cobol"]
//!
//! [[stacks.agents]]
//! agent = "qlp/template-go"
//! serves = ["go"]
//!
//! [[stacks.agents]]
//! agent = "qlp/template-node"
//! serves = ["node", "typescript"]
//! unless = ["frontend"]
//! ```
//!
//! The first entry some of whose `serves` words the planner's stack names,
//! and none of whose `unless` words, is chosen. Failing that, a stack that
//! names a `decisive` word (a language or kind of project) is unsupported;
//! one that names none gets the `default` agent.

use serde::Deserialize;

/// The agent name that stands for "the agent of the detected stack".
pub const STACK_AGENT: &str = "stack";

/// The `[stacks]` table.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Stacks {
    /// The agent for an intent whose stack names no decisive word.
    #[serde(default)]
    pub default: Option<String>,
    /// Words of the planner's stack that decide what is generated: an
    /// intent naming one that no agent serves is refused.
    #[serde(default)]
    pub decisive: Vec<String>,
    /// The agents and the stacks they serve, in order of preference.
    #[serde(default)]
    pub agents: Vec<StackAgent>,
}

/// One agent of the `[stacks]` table.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct StackAgent {
    pub agent: String,
    /// Stack words any one of which selects this agent.
    pub serves: Vec<String>,
    /// Stack words any one of which rules this agent out.
    #[serde(default)]
    pub unless: Vec<String>,
}

/// Why no agent serves an intent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    /// The decisive words of the intent's stack.
    pub detected: Vec<String>,
    /// Every stack word some agent serves.
    pub served: Vec<String>,
}

impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let detected = match self.detected.as_slice() {
            [] => "no stack".to_owned(),
            words => words.join(", "),
        };
        write!(
            f,
            "no installed agent generates this stack (detected: {detected}); agents serve: {}",
            self.served.join(", ")
        )
    }
}

impl Stacks {
    /// Every agent the table can choose, each once, in order.
    pub fn agent_names(&self) -> Vec<String> {
        let mut names: Vec<String> = vec![];
        for name in self.agents.iter().map(|a| &a.agent).chain(&self.default) {
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
        names
    }

    /// The agent for a planner's `stack`.
    pub fn choose(&self, stack: &[String]) -> Result<String, Unsupported> {
        let named = |words: &[String]| words.iter().any(|w| stack.contains(w));
        if let Some(entry) = self
            .agents
            .iter()
            .find(|a| named(&a.serves) && !named(&a.unless))
        {
            return Ok(entry.agent.clone());
        }
        let detected: Vec<String> = stack
            .iter()
            .filter(|w| self.decisive.contains(w))
            .cloned()
            .collect();
        match (&self.default, detected.is_empty()) {
            (Some(default), true) => Ok(default.clone()),
            _ => {
                let mut served: Vec<String> = vec![];
                for word in self.agents.iter().flat_map(|a| &a.serves) {
                    if !served.contains(word) {
                        served.push(word.clone());
                    }
                }
                Err(Unsupported { detected, served })
            }
        }
    }

    /// Checks the table on its own: every agent names what it serves.
    pub fn check(&self) -> Result<(), String> {
        if let Some(a) = self.agents.iter().find(|a| a.serves.is_empty()) {
            return Err(format!("agent `{}` serves no stack", a.agent));
        }
        if self.agents.is_empty() && self.default.is_none() {
            return Err("names no agent".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stacks() -> Stacks {
        toml::from_str(
            r#"
            default = "qlp/fastapi"
            decisive = ["go", "python", "node", "typescript", "frontend", "cobol", "cli"]
            [[agents]]
            agent = "qlp/go"
            serves = ["go"]
            [[agents]]
            agent = "qlp/node"
            serves = ["node", "typescript"]
            unless = ["frontend"]
            [[agents]]
            agent = "qlp/fastapi"
            serves = ["python"]
            unless = ["cli"]
            "#,
        )
        .unwrap()
    }

    fn words(w: &[&str]) -> Vec<String> {
        w.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_first_agent_serving_the_stack_is_chosen() {
        let s = stacks();
        assert_eq!(s.choose(&words(&["go", "service"])).unwrap(), "qlp/go");
        assert_eq!(
            s.choose(&words(&["typescript", "node", "service"]))
                .unwrap(),
            "qlp/node"
        );
        assert_eq!(
            s.choose(&words(&["python", "service", "postgresql"]))
                .unwrap(),
            "qlp/fastapi"
        );
    }

    #[test]
    fn no_decisive_word_gets_the_default_agent() {
        let s = stacks();
        assert_eq!(
            s.choose(&words(&["service", "postgresql"])).unwrap(),
            "qlp/fastapi"
        );
        assert_eq!(s.choose(&[]).unwrap(), "qlp/fastapi");
    }

    #[test]
    fn a_stack_no_agent_serves_is_unsupported_with_what_was_detected() {
        let s = stacks();
        let e = s.choose(&words(&["cobol", "service"])).unwrap_err();
        assert_eq!(e.detected, ["cobol"]);
        assert_eq!(e.served, ["go", "node", "typescript", "python"]);
        // An `unless` word rules an agent out rather than falling back.
        let e = s.choose(&words(&["typescript", "frontend"])).unwrap_err();
        assert_eq!(e.detected, ["typescript", "frontend"]);
        let e = s.choose(&words(&["python", "cli"])).unwrap_err();
        assert!(e.to_string().contains("detected: python, cli"), "{e}");
    }

    #[test]
    fn without_a_default_an_undecided_stack_is_unsupported() {
        let s = Stacks {
            default: None,
            ..stacks()
        };
        let e = s.choose(&words(&["service"])).unwrap_err();
        assert!(e.detected.is_empty());
        assert!(e.to_string().contains("detected: no stack"), "{e}");
    }

    #[test]
    fn the_agents_are_listed_once_each() {
        assert_eq!(
            stacks().agent_names(),
            ["qlp/go", "qlp/node", "qlp/fastapi"]
        );
    }

    #[test]
    fn an_agent_serving_nothing_is_refused() {
        let mut s = stacks();
        s.agents[0].serves.clear();
        assert_eq!(s.check().unwrap_err(), "agent `qlp/go` serves no stack");
    }
}
