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

use wasmtime::component::{HasData, Linker, Resource, ResourceTable};
use wasmtime_wasi::p2::bindings::{cli, clocks, filesystem, random, sync};
use wasmtime_wasi::p2::{DynPollable, Pollable, subscribe};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

/// A call's WASI context, the resources its guest holds and the call's
/// deadline, which ends every wait.
pub struct Wasi {
    ctx: WasiCtx,
    table: ResourceTable,
    deadline: Instant,
}

impl Wasi {
    /// Nothing granted: no arguments, environment, preopened directories or
    /// sockets; clocks and random are allowed.
    pub fn new(deadline: Instant) -> Self {
        Self {
            ctx: WasiCtxBuilder::new().build(),
            table: ResourceTable::new(),
            deadline,
        }
    }
}

/// The store data of a call that may link WASI: it hands out its [`Wasi`],
/// made on first use.
pub trait HasWasi: Send + 'static {
    fn wasi(&mut self) -> &mut Wasi;
}

impl WasiView for Wasi {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.ctx,
            table: &mut self.table,
        }
    }
}

struct Data;

impl HasData for Data {
    type Data<'a> = &'a mut Wasi;
}

struct Table;

impl HasData for Table {
    type Data<'a> = &'a mut ResourceTable;
}

/// Adds the WASI interfaces a plugin may import to `linker`.
pub fn add_to_linker<T: HasWasi>(l: &mut Linker<T>) -> wasmtime::Result<()> {
    use wasmtime_wasi::cli::{WasiCli, WasiCliView as _};
    use wasmtime_wasi::clocks::{WasiClocks, WasiClocksView as _};
    use wasmtime_wasi::filesystem::{WasiFilesystem, WasiFilesystemView as _};
    use wasmtime_wasi::random::WasiRandom;

    sync::io::error::add_to_linker::<T, Table>(l, |s| &mut s.wasi().table)?;
    sync::io::poll::add_to_linker::<T, Table>(l, |s| &mut s.wasi().table)?;
    sync::io::streams::add_to_linker::<T, Table>(l, |s| &mut s.wasi().table)?;
    clocks::wall_clock::add_to_linker::<T, WasiClocks>(l, |s| s.wasi().clocks())?;
    clocks::monotonic_clock::add_to_linker::<T, Data>(l, |s| s.wasi())?;
    random::random::add_to_linker::<T, WasiRandom>(l, |s| s.wasi().ctx.random())?;
    random::insecure::add_to_linker::<T, WasiRandom>(l, |s| s.wasi().ctx.random())?;
    random::insecure_seed::add_to_linker::<T, WasiRandom>(l, |s| s.wasi().ctx.random())?;
    cli::exit::add_to_linker::<T, WasiCli>(l, |s| s.wasi().cli())?;
    cli::environment::add_to_linker::<T, WasiCli>(l, |s| s.wasi().cli())?;
    cli::stdin::add_to_linker::<T, WasiCli>(l, |s| s.wasi().cli())?;
    cli::stdout::add_to_linker::<T, WasiCli>(l, |s| s.wasi().cli())?;
    cli::stderr::add_to_linker::<T, WasiCli>(l, |s| s.wasi().cli())?;
    cli::terminal_input::add_to_linker::<T, WasiCli>(l, |s| s.wasi().cli())?;
    cli::terminal_output::add_to_linker::<T, WasiCli>(l, |s| s.wasi().cli())?;
    cli::terminal_stdin::add_to_linker::<T, WasiCli>(l, |s| s.wasi().cli())?;
    cli::terminal_stdout::add_to_linker::<T, WasiCli>(l, |s| s.wasi().cli())?;
    cli::terminal_stderr::add_to_linker::<T, WasiCli>(l, |s| s.wasi().cli())?;
    filesystem::preopens::add_to_linker::<T, WasiFilesystem>(l, |s| s.wasi().filesystem())?;
    sync::filesystem::types::add_to_linker::<T, WasiFilesystem>(l, |s| s.wasi().filesystem())?;
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

impl Wasi {
    /// A pollable ready after `nanos`, or at the call's deadline if that
    /// comes first.
    fn wait(&mut self, nanos: u64) -> wasmtime::Result<Resource<DynPollable>> {
        let now = Instant::now();
        let wanted = std::time::Duration::from_nanos(nanos);
        let left = self.deadline.saturating_duration_since(now);
        let until = tokio::time::Instant::from_std(now + wanted.min(left));
        let table = &mut self.table;
        let resource = table.push(Until(until))?;
        subscribe(table, resource)
    }
}

impl clocks::monotonic_clock::Host for Wasi {
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
