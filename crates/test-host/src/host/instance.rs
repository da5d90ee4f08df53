//! One instance's state: the data of its wasmtime `Store` (WASI, `wasi:http`, the
//! host's per-request Spin state and stats) and the meter of its linear memory.
//! A fresh store is made for every request ([`new_store`]).

use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime::Store;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use super::stats::RequestStats;
use super::stderr::CountingPipe;
use super::Shared;

/// The data of one instance's `Store`.
pub(super) struct InstanceState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    pub(super) table: ResourceTable,
    pub(super) spin: SpinState,
    pub(super) memory: MemoryMeter,
}

/// Counts the linear memory an instance asks for: every growth, the initial one
/// included, passes through here. It refuses nothing; the pool's limits do that.
#[derive(Default)]
pub(super) struct MemoryMeter {
    pub(super) bytes: usize,
    pub(super) grows: usize,
}

impl wasmtime::ResourceLimiter for MemoryMeter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.bytes += desired.saturating_sub(current);
        if current > 0 {
            self.grows += 1;
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        _desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(true)
    }
}

pub(super) struct SpinState {
    pub(super) shared: Arc<Shared>,
    pub(super) stats: RequestStats,
    /// Connections the guest holds now (Spin caps them per instance).
    pub(super) live_connections: usize,
}

impl WasiView for InstanceState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for InstanceState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: Default::default(),
        }
    }
}

/// A fresh store for one instance of the host's component, writing its stdout and
/// stderr to the given pipes.
pub(super) fn new_store(
    shared: &Arc<Shared>,
    stdout: MemoryOutputPipe,
    stderr: CountingPipe,
) -> Store<InstanceState> {
    let wasi = WasiCtx::builder()
        .stdout(stdout)
        .stderr(stderr)
        .envs(&shared.environment)
        .build();
    let mut store = Store::new(
        shared.compiled.pre.engine(),
        InstanceState {
            wasi,
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            spin: SpinState {
                shared: shared.clone(),
                stats: RequestStats::default(),
                live_connections: 0,
            },
            memory: MemoryMeter::default(),
        },
    );
    store.limiter(|state| &mut state.memory);
    store
}
