//! The contract's worlds, declared once. Every version has the same six
//! worlds; [`worlds!`] writes, in the module of a version (whose
//! `agent` … `planner` are that version's bindings), everything the runtime
//! does the same way for each world: the linker with the host's imports
//! (and the module's `link_extra`), the pre-instantiated component and
//! `describe`. What differs (a world's own calls: `generate`, `validate`,
//! …) stays in the runtime's methods.

use crate::model::PluginKind;

/// The export that tells each world apart (every world exports
/// `describe`), the same in every contract version.
pub(crate) const WORLD_EXPORTS: [(&str, PluginKind); 6] = [
    ("generate", PluginKind::Agent),
    ("analyze", PluginKind::Analyzer),
    ("validate", PluginKind::Validator),
    ("export", PluginKind::Exporter),
    ("deliver", PluginKind::Delivery),
    ("plan", PluginKind::Planner),
];

/// The worlds of the version whose bindings are in scope.
macro_rules! worlds {
    () => {
        worlds! {
            Agent: agent::Agent, AgentPre;
            Analyzer: analyzer::Analyzer, AnalyzerPre;
            Validator: validator::Validator, ValidatorPre;
            Exporter: exporter::Exporter, ExporterPre;
            Delivery: delivery::Delivery, DeliveryPre;
            Planner: planner::Planner, PlannerPre;
        }
    };
    ($($kind:ident: $module:ident :: $world:ident, $pre:ident;)+) => {
        use wasmtime::component::{Component, HasSelf, Linker};
        use wasmtime::{Engine, Store};

        use crate::model::{PluginInfo, PluginKind};
        use crate::{State, wasi};

        /// A component linked for its world, ready to instantiate.
        pub(crate) enum Pre {
            $($kind($module::$pre<State>),)+
        }

        impl Pre {
            pub(crate) fn kind(&self) -> PluginKind {
                match self {
                    $(Pre::$kind(_) => PluginKind::$kind,)+
                }
            }

            /// Instantiates the component in `store` and asks it who it is.
            pub(crate) fn describe(&self, store: &mut Store<State>) -> wasmtime::Result<PluginInfo> {
                match self {
                    $(Pre::$kind(pre) => Ok(pre.instantiate(&mut *store)?.call_describe(&mut *store)?.into()),)+
                }
            }
        }

        /// One linker per world, holding the host's side of its imports.
        pub(crate) struct Linkers {
            $($module: Linker<State>,)+
        }

        impl Linkers {
            pub(crate) fn new(engine: &Engine) -> anyhow::Result<Self> {
                Ok(Self {
                    $($module: {
                        let mut linker = Linker::new(engine);
                        $module::$world::add_to_linker::<State, HasSelf<State>>(&mut linker, |s| s)?;
                        link_extra(PluginKind::$kind, &mut linker)?;
                        wasi::add_to_linker(&mut linker)?;
                        linker
                    },)+
                })
            }

            /// Links `component` as a plugin of `kind`.
            pub(crate) fn pre(&self, kind: PluginKind, component: &Component) -> wasmtime::Result<Pre> {
                Ok(match kind {
                    $(PluginKind::$kind => Pre::$kind($module::$pre::new(
                        self.$module.instantiate_pre(component)?,
                    )?),)+
                })
            }
        }
    };
}

/// The worlds of `qlp:plugin@0.1.0`. Agents import `qlp:llm/chat` beside
/// their world.
pub(crate) mod v0_1 {
    use crate::bindings::{agent, analyzer, delivery, exporter, planner, validator};

    worlds!();

    /// Imports a world has beyond its own package's: agents may call the
    /// language model (`qlp:llm`), granted per plugin.
    fn link_extra(kind: PluginKind, linker: &mut Linker<State>) -> wasmtime::Result<()> {
        if kind == PluginKind::Agent {
            crate::bindings::llm::qlp::llm::chat::add_to_linker::<State, HasSelf<State>>(
                linker,
                |s| s,
            )?;
        }
        Ok(())
    }
}

/// The worlds of `qlp:plugin@0.2.0`: the agent world names `qlp:llm/chat`
/// itself.
pub(crate) mod v0_2 {
    use crate::bindings::v0_2::{agent, analyzer, delivery, exporter, planner, validator};

    worlds!();

    fn link_extra(_: PluginKind, _: &mut Linker<State>) -> wasmtime::Result<()> {
        Ok(())
    }
}
