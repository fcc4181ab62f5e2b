//! The checks every stack agent's `describe` and `generate` must pass, and
//! [`agent_contract_tests!`](crate::agent_contract_tests), which turns them
//! into one `#[test]` each inside an agent's unit tests.
//!
//! What an agent promises the host: `describe` names it as an agent of
//! version 0.1.0 that needs no capability; the same request gives
//! byte-identical files; a repair round (`iteration > 0`) returns the same
//! project, which the host merges with other agents' files; and a blank
//! description is refused with `EMPTY_INTENT`.

use qlp_sdk::agent::{Agent, File, GenerationRequest};
use qlp_sdk::{Intent, PluginKind};

/// Files as comparable (path, bytes) pairs; the bindings' `File` has no
/// `PartialEq`.
pub fn snapshot(files: &[File]) -> Vec<(String, Vec<u8>)> {
    files
        .iter()
        .map(|f| (f.path.clone(), f.content.clone()))
        .collect()
}

/// A first-round implementer's request for `intent`, at `iteration`.
pub fn request(intent: Intent, iteration: u32) -> GenerationRequest {
    GenerationRequest {
        intent,
        files: vec![],
        findings: vec![],
        iteration,
        role: "implementer".into(),
    }
}

/// `describe` gives `name`, version 0.1.0, the agent kind and no capability.
pub fn describe_names_the_agent<A: Agent>(name: &str) {
    let info = A::describe();
    assert_eq!(info.name, name);
    assert_eq!(info.version, "0.1.0");
    assert_eq!(info.kind, PluginKind::Agent);
    assert!(info.capabilities.is_empty());
}

/// Generating twice from the same intent gives the same files, byte for byte.
pub fn the_same_request_gives_byte_identical_files<A: Agent>(intent: &Intent) {
    let first = A::generate(request(intent.clone(), 0)).expect("generates");
    let second = A::generate(request(intent.clone(), 0)).expect("generates");
    assert_eq!(snapshot(&first), snapshot(&second));
}

/// A repair round at `iteration`, given the first round's files, returns
/// the same project.
pub fn a_repair_round_returns_the_same_project<A: Agent>(intent: &Intent, iteration: u32) {
    let first = A::generate(request(intent.clone(), 0)).expect("generates");
    let mut repair = request(intent.clone(), iteration);
    repair.files = first.clone();
    let repaired = A::generate(repair).expect("generates");
    assert_eq!(snapshot(&repaired), snapshot(&first));
}

/// An intent whose description is blank is refused with `EMPTY_INTENT`.
pub fn an_empty_intent_is_refused_with_empty_intent<A: Agent>(intent: &Intent) {
    let error = A::generate(request(intent.clone(), 0)).expect_err("blank intent");
    assert_eq!(error.code, "EMPTY_INTENT");
}

/// The four contract checks as `#[test]` functions, for use inside an
/// agent's `#[cfg(test)]` module. Every intent gets `requirements` and
/// `constraints`; `generates` is the description generated from twice,
/// `repairs` the description and iteration of a repair round, `blank` a
/// description with nothing in it.
///
/// ```ignore
/// qlp_agent_testkit::agent_contract_tests! {
///     agent: TemplateGo,
///     name: "qlp/template-go",
///     requirements: ["Each item has a SKU, a name and a quantity"],
///     constraints: [("language", "Go")],
///     generates: "Create a Go REST API for warehouse items with PostgreSQL and JWT auth",
///     repairs: ("Build a Go API to manage customer orders", 2),
///     blank: "  ",
/// }
/// ```
#[macro_export]
macro_rules! agent_contract_tests {
    (
        agent: $agent:ty,
        name: $name:expr,
        requirements: [$($requirement:expr),* $(,)?],
        constraints: [$($constraint:expr),* $(,)?],
        generates: $generates:expr,
        repairs: ($repairs:expr, $iteration:expr),
        blank: $blank:expr $(,)?
    ) => {
        fn contract_intent(description: &str) -> $crate::__sdk::Intent {
            $crate::intent(description, &[$($requirement),*], &[$($constraint),*])
        }

        #[test]
        fn describe_names_the_agent() {
            $crate::contract::describe_names_the_agent::<$agent>($name);
        }

        #[test]
        fn the_same_request_gives_byte_identical_files() {
            $crate::contract::the_same_request_gives_byte_identical_files::<$agent>(
                &contract_intent($generates),
            );
        }

        #[test]
        fn a_repair_round_returns_the_same_project() {
            $crate::contract::a_repair_round_returns_the_same_project::<$agent>(
                &contract_intent($repairs),
                $iteration,
            );
        }

        #[test]
        fn an_empty_intent_is_refused_with_empty_intent() {
            $crate::contract::an_empty_intent_is_refused_with_empty_intent::<$agent>(
                &contract_intent($blank),
            );
        }
    };
}
