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
//!
//! An entry with `adds = true` adds to the project rather than being it:
//! Terraform for the service, say. It runs after the chosen agent when the
//! stack names it ("a Go service on AWS with Terraform" gets the Go agent,
//! then the Terraform agent), and alone when no other entry serves the
//! stack and it serves every decisive word the stack names ("Terraform for
//! an AWS VPC"); after the `default` agent when the stack names no decisive
//! word.
//!
//! ```toml
//! [[stacks.agents]]
//! agent = "qlp/terraform-aws"
//! serves = ["terraform", "infrastructure"]
//! adds = true
//! ```

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
    /// Whether the agent adds to the project another agent generates
    /// (infrastructure for it) rather than generating the project.
    #[serde(default)]
    pub adds: bool,
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

    /// The agents for a planner's `stack`, in the order they run: the
    /// project's agent, then the agents that add to it.
    pub fn choose(&self, stack: &[String]) -> Result<Vec<String>, Unsupported> {
        let named = |words: &[String]| words.iter().any(|w| stack.contains(w));
        let serving = |a: &&StackAgent| named(&a.serves) && !named(&a.unless);
        let mut adding: Vec<String> = vec![];
        for entry in self.agents.iter().filter(|a| a.adds).filter(serving) {
            if !adding.contains(&entry.agent) {
                adding.push(entry.agent.clone());
            }
        }
        if let Some(entry) = self.agents.iter().filter(|a| !a.adds).find(serving) {
            let mut agents = vec![entry.agent.clone()];
            agents.extend(adding.into_iter().filter(|a| *a != entry.agent));
            return Ok(agents);
        }
        let detected: Vec<String> = stack
            .iter()
            .filter(|w| self.decisive.contains(w))
            .cloned()
            .collect();
        let served_by_adding = |word: &String| {
            self.agents
                .iter()
                .any(|a| a.adds && adding.contains(&a.agent) && a.serves.contains(word))
        };
        if !adding.is_empty() && !detected.is_empty() && detected.iter().all(served_by_adding) {
            return Ok(adding);
        }
        match (&self.default, detected.is_empty()) {
            (Some(default), true) => {
                let mut agents = vec![default.clone()];
                agents.extend(adding.into_iter().filter(|a| a != default));
                Ok(agents)
            }
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
        assert_eq!(s.choose(&words(&["go", "service"])).unwrap(), ["qlp/go"]);
        assert_eq!(
            s.choose(&words(&["typescript", "node", "service"]))
                .unwrap(),
            ["qlp/node"]
        );
        assert_eq!(
            s.choose(&words(&["python", "service", "postgresql"]))
                .unwrap(),
            ["qlp/fastapi"]
        );
    }

    #[test]
    fn no_decisive_word_gets_the_default_agent() {
        let s = stacks();
        assert_eq!(
            s.choose(&words(&["service", "postgresql"])).unwrap(),
            ["qlp/fastapi"]
        );
        assert_eq!(s.choose(&[]).unwrap(), ["qlp/fastapi"]);
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

    /// The shipped shape: Terraform adds to a service, or is the project
    /// when only infrastructure is asked for.
    fn with_terraform() -> Stacks {
        let mut s = stacks();
        s.decisive.extend(words(&["terraform", "infrastructure"]));
        s.agents.insert(
            0,
            StackAgent {
                agent: "qlp/terraform".into(),
                serves: words(&["terraform", "infrastructure"]),
                unless: vec![],
                adds: true,
            },
        );
        s
    }

    #[test]
    fn an_adding_agent_runs_after_the_projects_agent() {
        let s = with_terraform();
        assert_eq!(
            s.choose(&words(&[
                "go",
                "terraform",
                "infrastructure",
                "service",
                "aws"
            ]))
            .unwrap(),
            ["qlp/go", "qlp/terraform"]
        );
        // Not named: not added.
        assert_eq!(s.choose(&words(&["go", "service"])).unwrap(), ["qlp/go"]);
    }

    #[test]
    fn an_adding_agent_alone_serves_only_the_words_it_serves() {
        let s = with_terraform();
        assert_eq!(
            s.choose(&words(&["terraform", "infrastructure", "aws"]))
                .unwrap(),
            ["qlp/terraform"]
        );
        // A decisive word it does not serve is still unsupported, never
        // answered with infrastructure alone.
        let e = s
            .choose(&words(&["cobol", "terraform", "infrastructure"]))
            .unwrap_err();
        assert_eq!(e.detected, ["cobol", "terraform", "infrastructure"]);
        assert!(e.served.contains(&"terraform".to_string()), "{e}");
        // An `unless` word of the project's agent does not let the adding
        // agent stand in for it.
        let e = s
            .choose(&words(&["typescript", "frontend", "terraform"]))
            .unwrap_err();
        assert_eq!(e.detected, ["typescript", "frontend", "terraform"]);
    }

    #[test]
    fn an_adding_agent_on_an_undecided_stack_follows_the_default() {
        let mut s = with_terraform();
        s.agents[0].serves = words(&["aws"]);
        assert_eq!(
            s.choose(&words(&["aws", "service"])).unwrap(),
            ["qlp/fastapi", "qlp/terraform"]
        );
        // An agent that both adds and is the default runs once.
        s.default = Some("qlp/terraform".into());
        assert_eq!(s.choose(&words(&["aws"])).unwrap(), ["qlp/terraform"]);
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
