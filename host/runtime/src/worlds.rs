//! The contract's worlds, declared once. [`worlds!`] takes one line per
//! world (its kind, the generated world type, its `InstancePre` type and
//! the export that tells it apart) and writes everything the runtime does
//! the same way for each: the linker with the host's imports, the
//! pre-instantiated component, `describe`, and the table that reads a
//! component's world from its exports. What differs (a world's own calls:
//! `generate`, `validate`, …) stays in the runtime's methods.

/// Declares the worlds: `Kind: module::World, WorldPre, "export";` each.
macro_rules! worlds {
    ($($kind:ident: $module:ident :: $world:ident, $pre:ident, $export:literal;)+) => {
        /// A component linked for its world, ready to instantiate.
        enum Pre {
            $($kind($module::$pre<State>),)+
        }

        impl Pre {
            fn kind(&self) -> PluginKind {
                match self {
                    $(Pre::$kind(_) => PluginKind::$kind,)+
                }
            }

            /// Instantiates the component in `store` and asks it who it is.
            fn describe(&self, store: &mut Store<State>) -> wasmtime::Result<wit::PluginInfo> {
                match self {
                    $(Pre::$kind(pre) => pre.instantiate(&mut *store)?.call_describe(&mut *store),)+
                }
            }
        }

        /// One linker per world, holding the host's side of its imports.
        struct Linkers {
            $($module: Linker<State>,)+
        }

        impl Linkers {
            fn new(engine: &Engine) -> anyhow::Result<Self> {
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
            fn pre(&self, kind: PluginKind, component: &Component) -> wasmtime::Result<Pre> {
                Ok(match kind {
                    $(PluginKind::$kind => Pre::$kind($module::$pre::new(
                        self.$module.instantiate_pre(component)?,
                    )?),)+
                })
            }
        }

        /// The export that tells each world apart (every world exports
        /// `describe`).
        const WORLD_EXPORTS: [(&str, PluginKind); [$($export),+].len()] =
            [$(($export, PluginKind::$kind),)+];
    };
}
