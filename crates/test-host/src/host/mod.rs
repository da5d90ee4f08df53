//! The test host: runs the real `pokefavs.wasm` the way Spin 4.0.2 does, in-process.
//!
//! - The component is compiled **once per test binary** (engine, component and a
//!   pre-linked `ProxyPre`), and instantiated **afresh for every request**, as Spin does.
//! - WASI p2 and `wasi:http` come from wasmtime-wasi / wasmtime-wasi-http; the Spin
//!   interfaces (`spin:sqlite@3.0.0`, `fermyon:spin/variables@2.0.0`) are ours, in
//!   [`sqlite`] and `variables`, generated from this crate's `wit/`.
//! - `spin.toml` is read like `spin up` reads it ([`manifest`]): the component's
//!   `sqlite_databases` grant and its variables decide what the guest may use.
//! - [`Faults`] lets a test make a chosen statement (or `open`) fail or trap.
//!
//! A request never panics the test because of the guest: a trap comes back as a
//! [`HostResponse`] with `trap: Some(..)` and status 500 (see there). `Host::request`
//! is sync and may be called from many threads at once; the request itself runs, as on
//! Spin, as a task on one multi-threaded runtime (a worker per core), and every SQLite
//! call on its blocking pool, so a request blocked on SQLite's busy timeout blocks no
//! other request.
//!
//! The component is `target/wasm32-wasip2/release/pokefavs.wasm` (under
//! `CARGO_TARGET_DIR` when set). `POKEFAVS_TEST_WASM=<file>` runs the tests against
//! another file (no staleness check), and `HostConfig::wasm_path` does the same per host.
//!
//! Where each part lives: `config` (what a test chooses), `temp_db` (test databases),
//! `compile` (the component compiled once, the engine, the linker), `instance` (one
//! instance's store), `run` (serving a request), `incoming` (the request as Spin hands
//! it over), `response` and `stats` (what a test gets back); the Spin interfaces in
//! `sqlite` and `variables`, as `manifest` grants them, with `faults` to inject. This
//! file holds [`Host`] itself: creating one as `spin up` would, and what it tells about
//! itself.

mod bindings;
mod compile;
mod config;
pub mod faults;
mod incoming;
mod instance;
pub mod manifest;
mod response;
mod run;
pub mod sqlite;
mod stats;
mod stderr;
mod temp_db;
mod variables;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};

use compile::{compiled, default_wasm_path, Compiled};

#[allow(unused_imports, reason = "for test modules that build parameters")]
pub use bindings::sqlite::{Error as SqliteError, Value as SqlValue};
pub use config::{HostConfig, StoreMode, TEST_JWT_SECRET};
#[allow(
    unused_imports,
    reason = "the fault vocabulary, for whichever test needs it"
)]
pub use faults::{io, libsql, messages, FaultAction, FaultTimes, FaultWhen, Faults};
pub use incoming::{spin_request, ClientAddr, CLIENT_ADDR, ORIGIN};
pub use manifest::Manifest;
pub use response::HostResponse;
pub use stats::{RequestStats, StatementRecord};
pub use temp_db::{temp_db, DbFile, TempDb};

/// Per-host state that every request of that host reads.
struct Shared {
    compiled: Arc<Compiled>,
    store: StoreMode,
    busy_timeout: Duration,
    component_id: String,
    allowed_databases: Vec<String>,
    databases: BTreeMap<String, PathBuf>,
    /// Component variables, already rendered.
    variables: BTreeMap<String, String>,
    /// The component's WASI environment.
    environment: Vec<(String, String)>,
    faults: Faults,
    db_path: PathBuf,
    /// Keeps the test databases (and their directories) while the host lives.
    _owners: Vec<TempDb>,
}

/// A Spin app with its database(s), ready to serve requests.
pub struct Host {
    shared: Arc<Shared>,
}

impl Host {
    /// Load the manifest, resolve variables and databases (failing like `spin up`
    /// would), and make sure the component is compiled.
    pub fn new(cfg: HostConfig) -> anyhow::Result<Host> {
        let manifest_text = match &cfg.manifest {
            Some(text) => text.clone(),
            None => {
                let path = crate::repo_root().join("spin.toml");
                std::fs::read_to_string(&path)
                    .with_context(|| format!("cannot read {}", path.display()))?
            }
        };
        let manifest = Manifest::parse(&manifest_text)?;
        let variables = manifest.resolve_variables(&cfg.variables)?;
        let mut environment: BTreeMap<String, String> = manifest.environment.clone();
        environment.extend(cfg.environment.iter().cloned());
        let environment: Vec<(String, String)> = environment.into_iter().collect();

        let allowed_databases = cfg
            .sqlite_databases
            .clone()
            .unwrap_or_else(|| manifest.sqlite_databases.clone());
        let mut databases = BTreeMap::new();
        databases.insert("default".to_string(), cfg.db_path.clone());
        for (label, path) in &cfg.databases {
            databases.insert(label.clone(), path.clone());
        }
        if cfg.check_databases {
            let missing: Vec<_> = allowed_databases
                .iter()
                .filter(|l| !databases.contains_key(*l))
                .collect();
            if !missing.is_empty() {
                bail!(
                    "One or more components use SQLite databases which are not defined: \
                     component {:?} uses {missing:?}",
                    manifest.component_id
                );
            }
        }

        if let Some(sql) = &cfg.startup_sql {
            let conn = rusqlite::Connection::open(&cfg.db_path)
                .with_context(|| format!("cannot open {}", cfg.db_path.display()))?;
            conn.execute_batch(sql)
                .context("startup SQL (like `spin up --sqlite`) failed")?;
        }

        let compiled = match &cfg.wasm_path {
            Some(path) => compiled(path, false),
            None => {
                let (path, check) = default_wasm_path();
                compiled(&path, check)
            }
        };

        Ok(Host {
            shared: Arc::new(Shared {
                compiled,
                store: cfg.store,
                busy_timeout: cfg.busy_timeout,
                component_id: manifest.component_id,
                allowed_databases,
                databases,
                variables,
                environment,
                faults: Faults::default(),
                db_path: cfg.db_path,
                _owners: cfg.owners,
            }),
        })
    }

    /// How long compiling the component took (once per test binary).
    pub fn compile_time(&self) -> Duration {
        self.shared.compiled.compile_time
    }

    /// The component file being run.
    pub fn wasm_path(&self) -> &Path {
        &self.shared.compiled.path
    }

    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// The file behind the `default` label.
    pub fn db_path(&self) -> &Path {
        &self.shared.db_path
    }

    /// The component variables as the guest will see them.
    pub fn variables(&self) -> &BTreeMap<String, String> {
        &self.shared.variables
    }
}
