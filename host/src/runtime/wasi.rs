//! WASI 0.2 for third-party components built for `wasm32-wasip2`, linked
//! with nothing granted.
//!
//! Linked: clocks, random, `wasi:io`, `wasi:cli` (no arguments, an empty
//! environment, stdin closed, stdout and stderr discarded) and
//! `wasi:filesystem` with no preopened directory, so a component that
//! imports them, as Rust's std for wasip2 does, loads and finds nothing
//! there. Not linked: sockets and anything else; a component that imports
//! them is refused at load with the import named (wasmtime's linker error:
//! "component imports instance `wasi:sockets/…`, but a matching
//! implementation was not found in the linker").
//!
//! The monotonic clock is QLP's own: every wait it hands out ends at the
//! call's deadline at the latest. Epoch interruption stops wasm code, not a
//! host wait, so a plugin that sleeps must not be able to hold its thread
//! past its time.

use std::sync::OnceLock;
use std::time::Instant;

use wasmtime::component::{HasData, HasSelf, Linker, Resource, ResourceTable};
use wasmtime_wasi::p2::bindings::{cli, clocks, filesystem, random, sync};
use wasmtime_wasi::p2::{DynPollable, Pollable, subscribe};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::host_api::State;

/// A call's WASI context and the resources its guest holds.
pub struct Wasi {
    ctx: WasiCtx,
    table: ResourceTable,
}

impl State {
    fn wasi(&mut self) -> &mut Wasi {
        self.wasi.get_or_insert_with(|| {
            Box::new(Wasi {
                // Nothing granted: no arguments, environment, preopened
                // directories or sockets; clocks and random are allowed.
                ctx: WasiCtxBuilder::new().build(),
                table: ResourceTable::new(),
            })
        })
    }
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        let wasi = self.wasi();
        WasiCtxView {
            ctx: &mut wasi.ctx,
            table: &mut wasi.table,
        }
    }
}

struct Table;

impl HasData for Table {
    type Data<'a> = &'a mut ResourceTable;
}

/// Adds the WASI interfaces a plugin may import to `linker`.
pub fn add_to_linker(l: &mut Linker<State>) -> wasmtime::Result<()> {
    use wasmtime_wasi::cli::{WasiCli, WasiCliView as _};
    use wasmtime_wasi::clocks::{WasiClocks, WasiClocksView as _};
    use wasmtime_wasi::filesystem::{WasiFilesystem, WasiFilesystemView as _};
    use wasmtime_wasi::random::WasiRandom;

    sync::io::error::add_to_linker::<State, Table>(l, |s| &mut s.wasi().table)?;
    sync::io::poll::add_to_linker::<State, Table>(l, |s| &mut s.wasi().table)?;
    sync::io::streams::add_to_linker::<State, Table>(l, |s| &mut s.wasi().table)?;
    clocks::wall_clock::add_to_linker::<State, WasiClocks>(l, |s| s.clocks())?;
    clocks::monotonic_clock::add_to_linker::<State, HasSelf<State>>(l, |s| s)?;
    random::random::add_to_linker::<State, WasiRandom>(l, |s| s.wasi().ctx.random())?;
    random::insecure::add_to_linker::<State, WasiRandom>(l, |s| s.wasi().ctx.random())?;
    random::insecure_seed::add_to_linker::<State, WasiRandom>(l, |s| s.wasi().ctx.random())?;
    cli::exit::add_to_linker::<State, WasiCli>(l, |s| s.cli())?;
    cli::environment::add_to_linker::<State, WasiCli>(l, |s| s.cli())?;
    cli::stdin::add_to_linker::<State, WasiCli>(l, |s| s.cli())?;
    cli::stdout::add_to_linker::<State, WasiCli>(l, |s| s.cli())?;
    cli::stderr::add_to_linker::<State, WasiCli>(l, |s| s.cli())?;
    cli::terminal_input::add_to_linker::<State, WasiCli>(l, |s| s.cli())?;
    cli::terminal_output::add_to_linker::<State, WasiCli>(l, |s| s.cli())?;
    cli::terminal_stdin::add_to_linker::<State, WasiCli>(l, |s| s.cli())?;
    cli::terminal_stdout::add_to_linker::<State, WasiCli>(l, |s| s.cli())?;
    cli::terminal_stderr::add_to_linker::<State, WasiCli>(l, |s| s.cli())?;
    filesystem::preopens::add_to_linker::<State, WasiFilesystem>(l, |s| s.filesystem())?;
    sync::filesystem::types::add_to_linker::<State, WasiFilesystem>(l, |s| s.filesystem())?;
    Ok(())
}

/// The process's reference instant for the monotonic clock.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// A wait that ends at an instant.
struct Until(tokio::time::Instant);

#[wasmtime_wasi::async_trait]
impl Pollable for Until {
    async fn ready(&mut self) {
        tokio::time::sleep_until(self.0).await;
    }
}

impl State {
    /// A pollable ready after `nanos`, or at the call's deadline if that
    /// comes first.
    fn wait(&mut self, nanos: u64) -> wasmtime::Result<Resource<DynPollable>> {
        let now = Instant::now();
        let wanted = std::time::Duration::from_nanos(nanos);
        let left = self.deadline.saturating_duration_since(now);
        let until = tokio::time::Instant::from_std(now + wanted.min(left));
        let table = &mut self.wasi().table;
        let resource = table.push(Until(until))?;
        subscribe(table, resource)
    }
}

impl clocks::monotonic_clock::Host for State {
    fn now(&mut self) -> wasmtime::Result<u64> {
        Ok(u64::try_from(epoch().elapsed().as_nanos()).unwrap_or(u64::MAX))
    }

    fn resolution(&mut self) -> wasmtime::Result<u64> {
        Ok(1)
    }

    fn subscribe_instant(&mut self, when: u64) -> wasmtime::Result<Resource<DynPollable>> {
        let now = clocks::monotonic_clock::Host::now(self)?;
        self.wait(when.saturating_sub(now))
    }

    fn subscribe_duration(&mut self, duration: u64) -> wasmtime::Result<Resource<DynPollable>> {
        self.wait(duration)
    }
}
