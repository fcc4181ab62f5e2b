//! Host-side bindings generated from `wit/qlp-plugin@0.1.0/`, one module
//! per world. The `agent` module also owns the shared `types` and `host`
//! interfaces; the other worlds reuse them, so a `File` or a `Finding` is one
//! Rust type whichever kind of plugin produced it.

pub mod agent {
    wasmtime::component::bindgen!({
        path: "../../wit/qlp-plugin@0.1.0",
        world: "agent",
    });
}

/// A world that reuses the `agent` module's shared interfaces.
macro_rules! world {
    ($module:ident, $world:literal) => {
        pub mod $module {
            wasmtime::component::bindgen!({
                path: "../../wit/qlp-plugin@0.1.0",
                world: $world,
                with: {
                    "qlp:plugin/types@0.1.0": super::agent::qlp::plugin::types,
                    "qlp:plugin/host@0.1.0": super::agent::qlp::plugin::host,
                    "qlp:plugin/http@0.1.0": super::agent::qlp::plugin::http,
                },
            });
        }
    };
}

world!(analyzer, "analyzer");
world!(validator, "validator");
world!(exporter, "exporter");
world!(delivery, "delivery");
world!(planner, "planner");

pub use agent::qlp::plugin::host::LogLevel;
pub use agent::qlp::plugin::types as wit;

/// `qlp:llm/chat` (`wit/qlp-llm@0.1.0`), linked into agents beside their
/// `qlp:plugin` world.
pub mod llm {
    wasmtime::component::bindgen!({
        path: "../../wit/qlp-llm@0.1.0",
        world: "imports",
    });
}

/// `qlp:plugin@0.2.0` (`wit/qlp-plugin@0.2.0/`), one module per world
/// as for 0.1.0. The agent world's `qlp:llm/chat` import is the `llm`
/// module's, so one implementation serves both versions; the `capsule`
/// resource is the host's [`Capsule`](v0_2::Capsule).
pub mod v0_2 {
    pub mod agent {
        wasmtime::component::bindgen!({
            path: "../../wit/qlp-plugin@0.2.0",
            world: "agent",
            with: {
                "qlp:llm/chat": super::super::llm::qlp::llm::chat,
                "qlp:plugin/types.capsule": crate::bindings::v0_2::Capsule,
            },
        });
    }

    /// A 0.2 world that reuses the `agent` module's shared interfaces.
    macro_rules! world {
        ($module:ident, $world:literal) => {
            pub mod $module {
                wasmtime::component::bindgen!({
                    path: "../../wit/qlp-plugin@0.2.0",
                    world: $world,
                    with: {
                        "qlp:plugin/types@0.2.0": super::agent::qlp::plugin::types,
                        "qlp:plugin/host@0.2.0": super::agent::qlp::plugin::host,
                        "qlp:plugin/secrets@0.2.0": super::agent::qlp::plugin::secrets,
                        "qlp:plugin/http@0.2.0": super::agent::qlp::plugin::http,
                    },
                });
            }
        };
    }

    world!(analyzer, "analyzer");
    world!(validator, "validator");
    world!(exporter, "exporter");
    world!(delivery, "delivery");
    world!(planner, "planner");

    pub use agent::qlp::plugin::host::LogLevel;
    pub use agent::qlp::plugin::types as wit;

    /// The host's side of `qlp:plugin/types@0.2.0.capsule`, valid for one
    /// call: the stage's [`CapsuleView`](crate::model::CapsuleView), shared,
    /// handed out one file at a time instead of copied whole into the
    /// plugin's memory.
    pub struct Capsule(std::sync::Arc<crate::model::CapsuleView>);

    impl Capsule {
        /// The capsule of `view`, whose files must be sorted by path (as
        /// `CapsuleView::new` keeps them; sorted here otherwise).
        pub fn new(view: std::sync::Arc<crate::model::CapsuleView>) -> Self {
            if view.files.is_sorted_by(|a, b| a.path <= b.path) {
                Self(view)
            } else {
                let mut owned = (*view).clone();
                owned.files.sort_by(|a, b| a.path.cmp(&b.path));
                Self(std::sync::Arc::new(owned))
            }
        }

        /// What the capsule holds.
        pub fn view(&self) -> &crate::model::CapsuleView {
            &self.0
        }

        /// Every file's path and size, in path order.
        pub fn entries(&self) -> Vec<wit::FileEntry> {
            self.0
                .files
                .iter()
                .map(|f| wit::FileEntry {
                    path: f.path.clone(),
                    size: f.content.len() as u64,
                })
                .collect()
        }
    }
}
