//! The test host: runs the real `pokefavs.wasm` the way Spin 4.0.2 does, in-process.
//!
//! - The component is compiled **once per test binary** (engine, component and a
//!   pre-linked `ProxyPre`), and instantiated **afresh for every request**, as Spin does.
//! - WASI p2 and `wasi:http` come from wasmtime-wasi / wasmtime-wasi-http; the Spin
//!   interfaces (`spin:sqlite@3.0.0`, `fermyon:spin/variables@2.0.0`) are ours, in
//!   [`sqlite`] and [`variables`], generated from this crate's `wit/`.
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

mod bindings;
pub mod faults;
pub mod manifest;
pub mod sqlite;
mod stderr;
mod variables;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{anyhow, bail, Context};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use stderr::CountingPipe;
use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

#[allow(unused_imports, reason = "for test modules that build parameters")]
pub use bindings::sqlite::{Error as SqliteError, Value as SqlValue};
#[allow(
    unused_imports,
    reason = "the fault vocabulary, for whichever test needs it"
)]
pub use faults::{io, libsql, messages, FaultAction, FaultTimes, FaultWhen, Faults};
pub use manifest::Manifest;

/// The `jwt_secret` that [`HostConfig::new`] provides: 40 bytes, above the 32-byte minimum.
pub const TEST_JWT_SECRET: &str = "test-secret-0123456789-abcdefghijklmnopq";

/// Where the fake client connects from, as Spin reports it in `spin-client-addr`.
pub const CLIENT_ADDR: &str = "127.0.0.1:54321";

/// A request extension that makes the fake client connect from another address. Spin
/// takes `spin-client-addr` from the socket and **appends** it after the client's own
/// header fields: a `spin-client-addr` the client sent stays in the request, before
/// Spin's (see [`spin_request`]).
#[derive(Debug, Clone)]
pub struct ClientAddr(pub String);
/// The origin Spin listens on by default (`spin up`).
pub const ORIGIN: &str = "http://127.0.0.1:3000";

/// How much of the guest's stderr/stdout one request may write before writes fail.
const PIPE_CAPACITY: usize = 4 << 20;
/// A request that takes longer than this is reported as a trap instead of hanging the
/// test suite (it cannot interrupt a guest spinning in pure wasm, only one that waits).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// Which kind of `spin:sqlite` backend the host pretends to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreMode {
    /// Spin's built-in SQLite (`spin up` default).
    Local,
    /// Spin pointed at sqld through a runtime config: some PRAGMAs are refused and error
    /// texts are wrapped (see [`sqlite::libsql_wrap`]).
    Libsql,
}

/// Everything a test can choose about its host.
#[derive(Debug, Clone)]
pub struct HostConfig {
    /// The file behind the `default` database label.
    pub db_path: PathBuf,
    pub store: StoreMode,
    /// Provided values of application variables (like `SPIN_VARIABLE_<NAME>`), by
    /// lowercase name; a later entry overrides an earlier one.
    pub variables: Vec<(String, String)>,
    /// Manifest text to use instead of the repository's `spin.toml`.
    pub manifest: Option<String>,
    /// Busy timeout of every connection the guest opens (Spin: 5 s).
    pub busy_timeout: Duration,
    /// Replaces the component's `sqlite_databases` grant from the manifest.
    pub sqlite_databases: Option<Vec<String>>,
    /// Databases configured besides `default` → `db_path` (like runtime-config
    /// `[sqlite_database.<label>]`); an entry for `default` overrides `db_path`.
    pub databases: Vec<(String, PathBuf)>,
    /// Fail `Host::new`, as `spin up` does, when a granted label has no database.
    /// Turn off to let `open` answer `no-such-database` instead.
    pub check_databases: bool,
    /// SQL run as one batch on the default database when the host is created, like
    /// `spin up --sqlite @file`.
    pub startup_sql: Option<String>,
    /// Another component file to run (no staleness check).
    pub wasm_path: Option<PathBuf>,
    /// WASI environment variables of the component, over the manifest's `environment`
    /// (like `spin up --env NAME=VALUE`); a later entry overrides an earlier one.
    pub environment: Vec<(String, String)>,
    /// Test databases that must live as long as the host.
    owners: Vec<TempDb>,
}

impl HostConfig {
    /// Defaults like a plain `spin up` of the repository with `jwt_secret` provided.
    pub fn new(db: impl Into<DbFile>) -> Self {
        let db = db.into();
        HostConfig {
            db_path: db.path,
            owners: db.owner.into_iter().collect(),
            store: StoreMode::Local,
            // Registrations are counted (every test that registers runs that statement)
            // but never refused: most tests register several users from one address.
            // The tests of the limit set their own.
            variables: vec![
                ("jwt_secret".to_string(), TEST_JWT_SECRET.to_string()),
                ("register_address_limit".to_string(), "1000000".to_string()),
            ],
            manifest: None,
            busy_timeout: Duration::from_millis(5000),
            sqlite_databases: None,
            databases: Vec::new(),
            check_databases: true,
            startup_sql: None,
            wasm_path: None,
            environment: Vec::new(),
        }
    }

    /// Set (or override) an environment variable of the component, as `spin up --env`.
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.environment.retain(|(n, _)| n != name);
        self.environment.push((name.to_string(), value.to_string()));
        self
    }

    /// Provide (or override) an application variable.
    pub fn variable(mut self, name: &str, value: &str) -> Self {
        self.variables.retain(|(n, _)| n != name);
        self.variables.push((name.to_string(), value.to_string()));
        self
    }

    /// Stop providing an application variable.
    pub fn without_variable(mut self, name: &str) -> Self {
        self.variables.retain(|(n, _)| n != name);
        self
    }

    /// Spin pointed at a libSQL server, deployed as the README says: with
    /// `POKEFAVS_DB_SYNCHRONOUS=server`, so that writes send no `PRAGMA synchronous`
    /// for the server to refuse.
    pub fn libsql(mut self) -> Self {
        self.store = StoreMode::Libsql;
        self.env("POKEFAVS_DB_SYNCHRONOUS", "server")
    }

    pub fn manifest(mut self, text: &str) -> Self {
        self.manifest = Some(text.to_string());
        self
    }

    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    pub fn sqlite_databases(mut self, labels: &[&str]) -> Self {
        self.sqlite_databases = Some(labels.iter().map(|l| l.to_string()).collect());
        self
    }

    /// Configure the database file behind `label`. An unopenable path (a directory,
    /// say) makes the first `execute` fail with `io("unable to open database file: ..")`:
    /// like Spin, `open` itself does not touch the file.
    pub fn database(mut self, label: &str, db: impl Into<DbFile>) -> Self {
        let db = db.into();
        self.databases.push((label.to_string(), db.path));
        self.owners.extend(db.owner);
        self
    }

    /// Run the repository's `migrations.sql` at host creation, like
    /// `spin up --sqlite @migrations.sql`.
    pub fn with_migrations(mut self) -> Self {
        let path = crate::repo_root().join("migrations.sql");
        let sql = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        self.startup_sql = Some(sql);
        self
    }
}

/// One `execute` call as the host saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct StatementRecord {
    pub sql: String,
    /// The parameters it was bound with, as SQLite values (the benchmark's native floor
    /// runs the same statement with them).
    pub params: Vec<rusqlite::types::Value>,
    /// `None` when it succeeded; else the error as the guest got it (`io(...)`,
    /// `AccessDenied`, ... or `trap`).
    pub error: Option<String>,
    /// True when a fault rule answered instead of SQLite.
    pub injected: bool,
    /// The connection's `PRAGMA synchronous` after the statement (0 OFF, 1 NORMAL,
    /// 2 FULL, 3 EXTRA), read by the host, not the guest; `None` where SQLite did not
    /// run it (a fault, a refusal).
    pub synchronous: Option<i64>,
    /// How long SQLite ran it on the blocking pool, waiting for a lock included.
    pub ran: Duration,
    /// How much of that it slept in the busy handler, waiting for a lock.
    pub waited: Duration,
    /// When the guest got its answer back (after the hand-offs).
    pub ended: Option<Instant>,
}

impl StatementRecord {
    pub fn failed(&self) -> bool {
        self.error.is_some()
    }

    fn starts_with(&self, word: &str) -> bool {
        self.sql
            .trim_start()
            .get(..word.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(word))
    }
}

/// What the guest did with the Spin interfaces during one request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestStats {
    /// `Connection::open` calls (including refused ones).
    pub opens: usize,
    /// `execute` calls, in order, failed ones included.
    pub statements: Vec<StatementRecord>,
    /// `variables::get` calls.
    pub variable_gets: usize,
    /// The instance's linear memory at its largest, in bytes (all its memories together;
    /// wasm memories only grow, so this is what they had when the request ended).
    pub peak_memory_bytes: usize,
    /// How often the guest grew a memory past its initial size (`memory.grow`): each
    /// growth costs an `mprotect` now and another when Spin reuses the slot.
    pub memory_grows: usize,
    /// `write` calls on stderr, each a host call.
    pub stderr_writes: usize,
    /// `last-insert-rowid` and `changes` calls.
    pub other_calls: usize,
}

impl RequestStats {
    /// Calls into the Spin interfaces (`spin:sqlite`: open, execute, changes,
    /// last-insert-rowid; `fermyon:spin/variables`: get): what Spin charges a tracing
    /// span and, for a statement, two thread hand-offs.
    pub fn spin_calls(&self) -> usize {
        self.opens + self.statements.len() + self.other_calls + self.variable_gets
    }

    /// The SQL texts, in order.
    pub fn sql(&self) -> Vec<&str> {
        self.statements.iter().map(|s| s.sql.as_str()).collect()
    }

    /// How long this request held the database's write lock, if it wrote. In a
    /// `BEGIN IMMEDIATE … COMMIT` transaction: from the moment `BEGIN` came back with the
    /// lock to the moment `COMMIT` (or `ROLLBACK`) came back, every host call in between
    /// included. A single statement outside a transaction takes and releases the lock
    /// inside SQLite: its run time less what it slept waiting for the lock. Reads and
    /// `PRAGMA`s take no write lock.
    pub fn write_lock_held(&self) -> Option<Duration> {
        let mut held = Duration::ZERO;
        let mut wrote = false;
        let mut begun: Option<Instant> = None;
        for statement in &self.statements {
            if statement.failed() && begun.is_none() {
                continue;
            }
            if statement.starts_with("BEGIN") {
                begun = statement.ended;
            } else if statement.starts_with("COMMIT")
                || statement.starts_with("END")
                || statement.starts_with("ROLLBACK")
            {
                if let (Some(from), Some(to)) = (begun.take(), statement.ended) {
                    held += to.saturating_duration_since(from);
                    wrote = true;
                }
            } else if begun.is_none()
                && !statement.starts_with("SELECT")
                && !statement.starts_with("PRAGMA")
            {
                held += statement.ran.saturating_sub(statement.waited);
                wrote = true;
            }
        }
        wrote.then_some(held)
    }
}

/// The outcome of one request.
///
/// When the guest traps before sending a response, `status` is 500 with no headers
/// and an empty body (Spin answers 500 too), and `trap` holds wasmtime's error with
/// its wasm backtrace. When it traps after sending the head, `status`/`headers` are
/// the ones sent, `body` what arrived, and `trap` is set as well. A response the guest
/// set to an `error-code` is a 500 with `trap` describing the code.
#[derive(Debug, Clone)]
pub struct HostResponse {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
    pub trap: Option<String>,
    /// What the component wrote to stderr during this request.
    pub stderr: String,
    /// What the component wrote to stdout during this request.
    pub stdout: String,
    pub stats: RequestStats,
}

impl HostResponse {
    /// The body as UTF-8 (panics with the bytes otherwise).
    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body)
            .unwrap_or_else(|e| panic!("body is not UTF-8 ({e}): {:?}", self.body))
    }

    /// The body parsed as JSON (panics with the body otherwise).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}); status {}: {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The first value of a header, if present and ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The component compiled and linked, shared by all hosts of a test binary.
struct Compiled {
    pre: ProxyPre<InstanceState>,
    compile_time: Duration,
    path: PathBuf,
}

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

/// The data of one instance's `Store`.
struct InstanceState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    spin: SpinState,
    memory: MemoryMeter,
}

/// Counts the linear memory an instance asks for: every growth, the initial one
/// included, passes through here. It refuses nothing; the pool's limits do that.
#[derive(Default)]
struct MemoryMeter {
    bytes: usize,
    grows: usize,
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

struct SpinState {
    shared: Arc<Shared>,
    stats: RequestStats,
    /// Connections the guest holds now (Spin caps them per instance).
    live_connections: usize,
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

    /// Serve one request with a fresh instance. Callable from many threads at once;
    /// from inside a tokio runtime it runs on a helper thread.
    pub fn request(&self, req: http::Request<Vec<u8>>) -> HostResponse {
        if tokio::runtime::Handle::try_current().is_ok() {
            // block_on cannot nest in a runtime; a scoped thread has none.
            return std::thread::scope(|s| {
                s.spawn(|| self.request_blocking(req))
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p))
            });
        }
        self.request_blocking(req)
    }

    fn request_blocking(&self, req: http::Request<Vec<u8>>) -> HostResponse {
        // As Spin serves a request: a task on a multi-threaded runtime with a worker per
        // core, whose host calls hand SQLite's work to the runtime's blocking pool. The
        // calling thread only waits, like the client of a real server.
        let host = Host {
            shared: self.shared.clone(),
        };
        let task = spin_runtime().spawn(async move { host.request_async(req).await });
        RUNTIME
            .with(|rt| rt.block_on(task))
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
    }

    /// The async form of [`Host::request`], for callers that run their own tokio
    /// runtime (e.g. a benchmark).
    pub async fn request_async(&self, req: http::Request<Vec<u8>>) -> HostResponse {
        let stderr = CountingPipe::new(PIPE_CAPACITY);
        let stdout = MemoryOutputPipe::new(PIPE_CAPACITY);
        let mut store = self.new_store(stdout.clone(), stderr.clone());

        let outcome = tokio::time::timeout(REQUEST_TIMEOUT, async {
            let incoming = spin_request(req);
            let (sender, receiver) = tokio::sync::oneshot::channel();
            let data = store.data_mut();
            let prepared = data
                .http()
                .new_incoming_request(Scheme::Http, incoming)
                .and_then(|r| Ok((r, data.http().new_response_outparam(sender)?)));
            let (req, out) = match prepared {
                Ok(v) => v,
                Err(e) => panic!("host could not build the wasi-http request: {e:?}"),
            };

            let pre = self.shared.compiled.pre.clone();
            // The task owns the store: it is dropped as soon as the guest returns or
            // traps, which drops the response sender and wakes `receiver` below.
            let mut task = AbortOnDrop(tokio::spawn(async move {
                let result = async {
                    let proxy = pre.instantiate_async(&mut store).await?;
                    proxy
                        .wasi_http_incoming_handler()
                        .call_handle(&mut store, req, out)
                        .await
                }
                .await;
                let mut stats = std::mem::take(&mut store.data_mut().spin.stats);
                stats.peak_memory_bytes = store.data().memory.bytes;
                stats.memory_grows = store.data().memory.grows;
                drop(store);
                (result, stats)
            }));

            let mut response = match receiver.await {
                Ok(Ok(resp)) => {
                    let (parts, body) = resp.into_parts();
                    // The guest may still be writing the body: collect while the task runs.
                    let (body, body_error) = match body.collect().await {
                        Ok(collected) => (collected.to_bytes().to_vec(), None),
                        Err(e) => (Vec::new(), Some(format!("response body failed: {e:?}"))),
                    };
                    HostResponse {
                        status: parts.status.as_u16(),
                        headers: parts.headers,
                        body,
                        trap: body_error,
                        stderr: String::new(),
                        stdout: String::new(),
                        stats: RequestStats::default(),
                    }
                }
                Ok(Err(code)) => synthetic_500(format!("guest answered with error-code {code:?}")),
                // The sender was dropped unused: the guest trapped or returned without
                // a response; the task's result says which.
                Err(_) => synthetic_500("guest returned without setting a response".to_string()),
            };

            let (result, stats) = (&mut task.0)
                .await
                .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
            response.stats = stats;
            if let Err(e) = result {
                response.trap = Some(format!("{e:?}"));
            }
            response
        })
        .await;

        let mut response = outcome.unwrap_or_else(|_| {
            synthetic_500(format!("request did not finish within {REQUEST_TIMEOUT:?}"))
        });
        response.stderr = String::from_utf8_lossy(&stderr.contents()).into_owned();
        response.stats.stderr_writes = stderr.writes();
        response.stdout = String::from_utf8_lossy(&stdout.contents()).into_owned();
        response
    }

    /// Instantiate the component and drop it without a request: measures the fixed
    /// per-request cost of the host.
    pub fn instantiate_idle(&self) {
        let mut store = self.new_store(
            MemoryOutputPipe::new(PIPE_CAPACITY),
            CountingPipe::new(PIPE_CAPACITY),
        );
        let pre = self.shared.compiled.pre.clone();
        let instantiate = async move {
            pre.instantiate_async(&mut store)
                .await
                .map(drop)
                .unwrap_or_else(|e| panic!("instantiation failed: {e:?}"));
        };
        if tokio::runtime::Handle::try_current().is_ok() {
            std::thread::scope(|s| {
                s.spawn(|| RUNTIME.with(|rt| rt.block_on(instantiate)))
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p))
            })
        } else {
            RUNTIME.with(|rt| rt.block_on(instantiate))
        }
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

    fn new_store(&self, stdout: MemoryOutputPipe, stderr: CountingPipe) -> Store<InstanceState> {
        let wasi = WasiCtx::builder()
            .stdout(stdout)
            .stderr(stderr)
            .envs(&self.shared.environment)
            .build();
        let mut store = Store::new(
            self.shared.compiled.pre.engine(),
            InstanceState {
                wasi,
                http: WasiHttpCtx::new(),
                table: ResourceTable::new(),
                spin: SpinState {
                    shared: self.shared.clone(),
                    stats: RequestStats::default(),
                    live_connections: 0,
                },
                memory: MemoryMeter::default(),
            },
        );
        store.limiter(|state| &mut state.memory);
        store
    }
}

/// Aborts the guest's task when a request is abandoned (timeout), so it does not
/// linger on the calling thread's runtime.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn synthetic_500(trap: String) -> HostResponse {
    HostResponse {
        status: 500,
        headers: http::HeaderMap::new(),
        body: Vec::new(),
        trap: Some(trap),
        stderr: String::new(),
        stdout: String::new(),
        stats: RequestStats::default(),
    }
}

/// The runtime requests run on, shaped like Spin's: tokio's multi-threaded scheduler with
/// one worker per core (Spin's default), so a guest's host calls cost the same thread
/// hand-offs as on `spin up`.
fn spin_runtime() -> &'static tokio::runtime::Runtime {
    static SPIN: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    SPIN.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("spin-worker")
            .build()
            .expect("cannot build the host's multi-threaded runtime")
    })
}

thread_local! {
    /// One current-thread runtime per calling thread: requests from different test
    /// threads never wait on each other's blocking SQLite calls.
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("cannot build a tokio runtime for the test host");
}

/// Turn a test's request into what Spin 4.0.2 hands the component: an absolute URI
/// on 127.0.0.1:3000 with the path as sent, plus Spin's `spin-*` headers, appended after
/// the client's own fields as Spin does (`crates/trigger-http`, `wasi.rs` and
/// `headers.rs`: the request's fields are copied first, then Spin's are appended), so a
/// client that sends its own `spin-client-addr` is seen with two values, its own first.
pub fn spin_request(req: http::Request<Vec<u8>>) -> http::Request<Full<Bytes>> {
    let (mut parts, body) = req.into_parts();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|pq| pq.as_str().to_string())
        .unwrap_or_else(|| "/".to_string());
    let full_url = format!("{ORIGIN}{path_and_query}");
    parts.uri = full_url
        .parse()
        .unwrap_or_else(|e| panic!("request path {path_and_query:?} makes a bad URI: {e}"));
    let path = parts.uri.path().to_string();
    let client_addr = parts
        .extensions
        .get::<ClientAddr>()
        .map_or(CLIENT_ADDR.to_string(), |addr| addr.0.clone());

    let headers = &mut parts.headers;
    let mut set = |name: &'static str, value: &str| {
        let value = http::HeaderValue::from_str(value)
            .unwrap_or_else(|e| panic!("bad value for header {name}: {value:?}: {e}"));
        headers.append(name, value);
    };
    set("spin-full-url", &full_url);
    set("spin-path-info", &path);
    set("spin-matched-route", "/...");
    set("spin-raw-component-route", "/...");
    set("spin-component-route", "");
    set("spin-base-path", "/");
    set("spin-client-addr", &client_addr);
    // What any real client sends; left alone when the test chose its own.
    if !headers.contains_key(http::header::HOST) {
        headers.insert(
            http::header::HOST,
            http::HeaderValue::from_static("127.0.0.1:3000"),
        );
    }
    if !body.is_empty()
        && !headers.contains_key(http::header::CONTENT_LENGTH)
        && !headers.contains_key(http::header::TRANSFER_ENCODING)
    {
        headers.insert(
            http::header::CONTENT_LENGTH,
            http::HeaderValue::from(body.len()),
        );
    }
    http::Request::from_parts(parts, Full::new(Bytes::from(body)))
}

/// A test database: a file in a directory of its own under `<target>/tmp/pokefavs-test-dbs`,
/// removed with everything beside it (WAL, SHM, a test's other files) when the last
/// owner lets go of it: the test, or the [`Host`] it was given to. A failing test's
/// directory is kept, and its path printed, when `POKEFAVS_KEEP_DB=1`.
#[derive(Clone)]
pub struct TempDb(Arc<TempDbFile>);

struct TempDbFile {
    dir: Option<tempfile::TempDir>,
    path: PathBuf,
}

impl Drop for TempDbFile {
    fn drop(&mut self) {
        let keep = std::env::var_os("POKEFAVS_KEEP_DB").is_some_and(|v| v == "1");
        if keep && std::thread::panicking() {
            if let Some(dir) = self.dir.take() {
                let _ = dir.keep();
                eprintln!("test database kept: {}", self.path.display());
            }
        }
    }
}

impl std::fmt::Debug for TempDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TempDb({})", self.0.path.display())
    }
}

impl std::ops::Deref for TempDb {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0.path
    }
}

impl AsRef<Path> for TempDb {
    fn as_ref(&self) -> &Path {
        &self.0.path
    }
}

/// A fresh test database named after `tag` (see [`TempDb`]).
pub fn temp_db(tag: &str) -> TempDb {
    let root = crate::target_dir().join("tmp/pokefavs-test-dbs");
    std::fs::create_dir_all(&root)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", root.display()));
    let dir = tempfile::Builder::new()
        .prefix(&format!("{tag}-"))
        .tempdir_in(&root)
        .unwrap_or_else(|e| panic!("cannot create a test directory in {}: {e}", root.display()));
    let path = dir.path().join(format!("{tag}.db"));
    TempDb(Arc::new(TempDbFile {
        dir: Some(dir),
        path,
    }))
}

/// Where a database file is, and the [`TempDb`] to keep alive with the host, if any.
pub struct DbFile {
    path: PathBuf,
    owner: Option<TempDb>,
}

impl From<TempDb> for DbFile {
    fn from(db: TempDb) -> Self {
        DbFile {
            path: db.to_path_buf(),
            owner: Some(db),
        }
    }
}

impl From<&TempDb> for DbFile {
    fn from(db: &TempDb) -> Self {
        db.clone().into()
    }
}

impl From<PathBuf> for DbFile {
    fn from(path: PathBuf) -> Self {
        DbFile { path, owner: None }
    }
}

impl From<&PathBuf> for DbFile {
    fn from(path: &PathBuf) -> Self {
        path.clone().into()
    }
}

impl From<&Path> for DbFile {
    fn from(path: &Path) -> Self {
        path.to_path_buf().into()
    }
}

/// The component to run and whether it must be newer than the sources.
fn default_wasm_path() -> (PathBuf, bool) {
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
fn compiled(path: &Path, check_fresh: bool) -> Arc<Compiled> {
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
