//! The component compiled and linked once per test binary ([`Compiled`]): which file
//! to run (and whether it is older than the sources), the wasmtime engine shaped like
//! Spin's, and the linker with WASI p2, `wasi:http` and our Spin interfaces.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{anyhow, bail};
use wasmtime::component::{HasSelf, Linker};
use wasmtime::Engine;
use wasmtime_wasi_http::p2::bindings::ProxyPre;

use super::bindings;
use super::instance::InstanceState;

/// The component compiled and linked, shared by all hosts of a test binary.
pub(super) struct Compiled {
    pub(super) pre: ProxyPre<InstanceState>,
    pub(super) compile_time: Duration,
    pub(super) path: PathBuf,
}

/// The component to run and whether it must be newer than the sources.
pub(super) fn default_wasm_path() -> (PathBuf, bool) {
    if let Some(path) = std::env::var_os("POKEFAVS_TEST_WASM") {
        return (PathBuf::from(path), false);
    }
    let target = crate::target_dir();
    (target.join("wasm32-wasip2/release/pokefavs.wasm"), true)
}

/// The newest modification time among the component's sources, with the file.
fn newest_source() -> Option<(SystemTime, PathBuf)> {
    fn walk(dir: &Path, newest: &mut Option<(SystemTime, PathBuf)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, newest);
            } else {
                consider(&path, newest);
            }
        }
    }
    fn consider(path: &Path, newest: &mut Option<(SystemTime, PathBuf)>) {
        if let Ok(modified) = std::fs::metadata(path).and_then(|m| m.modified()) {
            if newest.as_ref().is_none_or(|(t, _)| modified > *t) {
                *newest = Some((modified, path.to_path_buf()));
            }
        }
    }
    let root = crate::repo_root();
    let mut newest = None;
    walk(&root.join("src"), &mut newest);
    consider(&root.join("migrations.sql"), &mut newest);
    // Not Cargo.toml: most edits there (dev-dependencies, test profiles) leave the
    // component as it is, and cargo then rightly does not relink it.
    consider(&root.join("build.rs"), &mut newest);
    // The component embeds the OpenAPI document.
    consider(&root.join("openapi.json"), &mut newest);
    newest
}

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut config = wasmtime::Config::new();
        config.parallel_compilation(true);
        // Spin instantiates from a pool of pre-reserved slots, like this; the default
        // on-demand allocator would map and unmap every instance's memory per request
        // and make the host, not the component, the cost being measured. The counts
        // cover the most instances alive at once here: the 32-client benchmark, or two
        // test threads each running 16 client threads.
        let mut pool = wasmtime::PoolingAllocationConfig::new();
        pool.total_component_instances(256)
            .total_core_instances(4096)
            .total_memories(1024)
            .total_tables(4096)
            .max_memory_size(256 << 20)
            // Spin's own settings (spin-core's engine config): reset the first 2 MiB of
            // a returned linear memory and 512 KiB of its tables with memset and keep
            // them mapped, instead of handing the pages back to the kernel and faulting
            // them in again on the next request.
            .linear_memory_keep_resident(2 << 20)
            .table_keep_resident(512 << 10);
        config.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pool));
        Engine::new(&config).expect("cannot create the wasmtime engine")
    })
}

/// Compile and link the component at `path`, once per test binary.
pub(super) fn compiled(path: &Path, check_fresh: bool) -> Arc<Compiled> {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, Arc<Compiled>>>> = OnceLock::new();
    // Holding the lock while compiling makes every other test wait for the one
    // compilation instead of starting its own. A panic while compiling (a missing or
    // stale file) poisons nothing worth keeping, so poison is ignored.
    let mut cache = CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if let Some(c) = cache.get(path) {
        return c.clone();
    }
    let c = Arc::new(compile(path, check_fresh).unwrap_or_else(|e| panic!("{e:#}")));
    cache.insert(path.to_path_buf(), c.clone());
    c
}

fn compile(path: &Path, check_fresh: bool) -> anyhow::Result<Compiled> {
    let built = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .map_err(|e| {
            anyhow!(
                "the component {} is missing ({e}): run `cargo build --target wasm32-wasip2 --release` first",
                path.display()
            )
        })?;
    if check_fresh {
        if let Some((newest, source)) = newest_source() {
            if newest > built {
                bail!(
                    "the component {} is stale: {} is newer; rebuild it with \
                     `cargo build --target wasm32-wasip2 --release`",
                    path.display(),
                    source.display()
                );
            }
        }
    }

    let engine = engine();
    let started = Instant::now();
    let component = wasmtime::component::Component::from_file(engine, path)
        .map_err(|e| anyhow!("cannot compile {}: {e:?}", path.display()))?;
    let compile_time = started.elapsed();

    let mut linker: Linker<InstanceState> = Linker::new(engine);
    link(&mut linker).map_err(|e| anyhow!("cannot build the linker: {e:?}"))?;
    let pre = linker
        .instantiate_pre(&component)
        .and_then(ProxyPre::new)
        .map_err(|e| {
            let imports: Vec<String> = component
                .component_type()
                .imports(engine)
                .map(|(name, _)| name.to_string())
                .collect();
            anyhow!(
                "{} cannot be linked against the test host (an import the host does not \
                 provide?): {e:?}\ncomponent imports: {imports:#?}",
                path.display()
            )
        })?;
    Ok(Compiled {
        pre,
        compile_time,
        path: path.to_path_buf(),
    })
}

/// All of WASI p2, `wasi:http`, and our Spin interfaces.
fn link(linker: &mut Linker<InstanceState>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_async(linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(linker)?;
    bindings::sqlite::add_to_linker::<_, HasSelf<InstanceState>>(linker, |s| s)?;
    bindings::variables::add_to_linker::<_, HasSelf<InstanceState>>(linker, |s| s)?;
    Ok(())
}
