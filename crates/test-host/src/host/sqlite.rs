//! `spin:sqlite/sqlite@3.0.0` over rusqlite, as Spin 4.0.x does it (crates
//! `sqlite-inproc` + `factor-sqlite`), plus the libSQL (sqld) flavour of its errors.
//!
//! Every `open` makes a new connection owned by the guest's resource (the file itself
//! is opened on first use, as Spin does); it is closed when the guest drops the
//! resource or the instance dies, which is what rolls back a transaction left open by
//! a trap.
//!
//! **Cost as Spin charges it.** Spin's `InProcConnection::query` runs every statement
//! on tokio's blocking pool (`spawn_blocking`) and awaits it: two thread hand-offs per
//! statement, which on a real `spin up` cost far more than SQLite itself. This host does
//! the same, so a benchmark on it charges a route for each statement it runs. As in
//! Spin, the lazy connect runs on the calling thread, and `changes` /
//! `last-insert-rowid` lock the connection inline.

use std::cell::Cell;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wasmtime::component::Resource;

use super::bindings::sqlite::{self, Error, QueryResult, RowResult, Value};
use super::config::StoreMode;
use super::faults::{FaultAction, Fired};
use super::instance::InstanceState;
use super::stats::StatementRecord;

/// A rusqlite connection shared with the blocking task that runs a statement on it.
type Shared = Arc<Mutex<rusqlite::Connection>>;

/// The host side of a `connection` resource.
///
/// Like Spin's `InProcConnection`, the SQLite file is opened lazily, on the first call
/// that needs it: `open` itself never touches the file, so a database that cannot be
/// opened shows up as `io(..)` from the first `execute` (and as a trap from
/// `changes`/`last-insert-rowid`, which have no error case).
pub struct Connection {
    path: PathBuf,
    store: StoreMode,
    conn: Option<Shared>,
}

impl Connection {
    fn new(path: PathBuf, store: StoreMode) -> Self {
        Connection {
            path,
            store,
            conn: None,
        }
    }

    /// The rusqlite connection, opened on first use with rusqlite's defaults and a busy
    /// handler that behaves as the configured busy timeout (Spin relies on rusqlite's
    /// default of 5 s); each statement sets the timeout on its thread (see `busy_wait`).
    fn get(&mut self) -> Result<Shared, Error> {
        if let Some(conn) = &self.conn {
            return Ok(conn.clone());
        }
        let conn = rusqlite::Connection::open(&self.path).map_err(|e| Error::Io(e.to_string()))?;
        // SQLite's own busy-timeout handler, step for step, but one that also says how
        // long a statement waited for the lock (see `busy_wait`).
        conn.busy_handler(Some(busy_wait))
            .map_err(|e| Error::Io(e.to_string()))?;
        // The bundled SQLite of rusqlite (Spin's, and ours) is built with
        // SQLITE_DEFAULT_FOREIGN_KEYS=1; a libSQL server starts every connection with
        // SQLite's own default, foreign keys off. A component that relies on
        // `ON DELETE CASCADE` silently loses it there.
        if self.store == StoreMode::Libsql {
            conn.pragma_update(None, "foreign_keys", false)
                .map_err(|e| Error::Io(e.to_string()))?;
        }
        let conn = Arc::new(Mutex::new(conn));
        self.conn = Some(conn.clone());
        Ok(conn)
    }
}

thread_local! {
    /// The busy timeout of the statement running on this thread.
    static TIMEOUT: Cell<Duration> = const { Cell::new(Duration::from_secs(5)) };
    /// How long the statement running on this thread has slept waiting for a lock.
    static WAITED: Cell<Duration> = const { Cell::new(Duration::ZERO) };
}

/// SQLite's default busy handler (`sqliteDefaultBusyCallback`, what `busy_timeout`
/// installs): sleeps 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, then 100 ms at a time until
/// the timeout is spent. Also adds each sleep to [`WAITED`], so that the host can tell a
/// statement's time waiting for the write lock from its time holding it.
fn busy_wait(count: i32) -> bool {
    const DELAYS: [u64; 12] = [1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100];
    const TOTALS: [u64; 12] = [0, 1, 3, 8, 18, 33, 53, 78, 103, 128, 178, 228];
    let count = usize::try_from(count).unwrap_or(0);
    let timeout = TIMEOUT.with(Cell::get).as_millis() as u64;
    let (mut delay, prior) = match DELAYS.get(count) {
        Some(delay) => (*delay, TOTALS[count]),
        None => (100, TOTALS[11] + 100 * (count as u64 - 11)),
    };
    if prior + delay > timeout {
        delay = timeout.saturating_sub(prior);
        if delay == 0 {
            return false;
        }
    }
    std::thread::sleep(Duration::from_millis(delay));
    WAITED.with(|w| w.set(w.get() + Duration::from_millis(delay)));
    true
}

/// Locks a connection; a statement that panicked cannot have left rusqlite's state
/// half-changed in a way the next statement would trust, and SQLite reports its own
/// errors, so poison is ignored.
fn lock(conn: &Shared) -> std::sync::MutexGuard<'_, rusqlite::Connection> {
    conn.lock().unwrap_or_else(|p| p.into_inner())
}

/// Spin refuses more live connections than this per instance.
const MAX_CONNECTIONS: usize = 256;

/// Run one statement and collect every row.
fn run(
    conn: &rusqlite::Connection,
    sql: &str,
    parameters: Vec<Value>,
) -> Result<QueryResult, rusqlite::Error> {
    let mut stmt = conn.prepare(sql)?;
    let columns: Vec<String> = stmt.column_names().into_iter().map(String::from).collect();
    let params = rusqlite::params_from_iter(parameters.into_iter().map(to_sql));
    let mut rows = stmt.query(params)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let values = (0..columns.len())
            .map(|i| row.get_ref(i).and_then(|v| from_sql(i, v)))
            .collect::<Result<Vec<_>, _>>()?;
        out.push(RowResult { values });
    }
    Ok(QueryResult { columns, rows: out })
}

fn to_sql(value: Value) -> rusqlite::types::Value {
    use rusqlite::types::Value as V;
    match value {
        Value::Integer(i) => V::Integer(i),
        Value::Real(f) => V::Real(f),
        Value::Text(s) => V::Text(s),
        Value::Blob(b) => V::Blob(b),
        Value::Null => V::Null,
    }
}

fn from_sql(column: usize, value: rusqlite::types::ValueRef<'_>) -> rusqlite::Result<Value> {
    use rusqlite::types::ValueRef as V;
    Ok(match value {
        V::Integer(i) => Value::Integer(i),
        V::Real(f) => Value::Real(f),
        // Text must reach the guest byte for byte; invalid UTF-8 is an error rather
        // than a silently "repaired" string.
        V::Text(t) => Value::Text(String::from_utf8(t.to_vec()).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(
                column,
                rusqlite::types::Type::Text,
                Box::new(e),
            )
        })?),
        V::Blob(b) => Value::Blob(b.to_vec()),
        V::Null => Value::Null,
    })
}

/// The name of SQLite's primary result code, as libSQL prints it.
pub fn primary_code_name(code: i32) -> &'static str {
    match code & 0xff {
        1 => "SQLITE_ERROR",
        2 => "SQLITE_INTERNAL",
        3 => "SQLITE_PERM",
        4 => "SQLITE_ABORT",
        5 => "SQLITE_BUSY",
        6 => "SQLITE_LOCKED",
        7 => "SQLITE_NOMEM",
        8 => "SQLITE_READONLY",
        9 => "SQLITE_INTERRUPT",
        10 => "SQLITE_IOERR",
        11 => "SQLITE_CORRUPT",
        12 => "SQLITE_NOTFOUND",
        13 => "SQLITE_FULL",
        14 => "SQLITE_CANTOPEN",
        15 => "SQLITE_PROTOCOL",
        16 => "SQLITE_EMPTY",
        17 => "SQLITE_SCHEMA",
        18 => "SQLITE_TOOBIG",
        19 => "SQLITE_CONSTRAINT",
        20 => "SQLITE_MISMATCH",
        21 => "SQLITE_MISUSE",
        22 => "SQLITE_NOLFS",
        23 => "SQLITE_AUTH",
        24 => "SQLITE_FORMAT",
        25 => "SQLITE_RANGE",
        26 => "SQLITE_NOTADB",
        _ => "SQLITE_ERROR",
    }
}

/// The primary code that SQLite would report with this message; used for injected
/// errors, which come as text only.
pub fn code_name_for_message(message: &str) -> &'static str {
    let m = message.to_ascii_lowercase();
    if m.contains("constraint failed") {
        "SQLITE_CONSTRAINT"
    } else if m.contains("database is locked") {
        "SQLITE_BUSY"
    } else if m.contains("database table is locked") {
        "SQLITE_LOCKED"
    } else if m.contains("disk i/o error") {
        "SQLITE_IOERR"
    } else if m.contains("database or disk is full") {
        "SQLITE_FULL"
    } else if m.contains("attempt to write a readonly database") {
        "SQLITE_READONLY"
    } else if m.contains("unable to open database file") {
        "SQLITE_CANTOPEN"
    } else if m.contains("malformed") {
        "SQLITE_CORRUPT"
    } else {
        "SQLITE_ERROR"
    }
}

/// How sqld (through Spin's libSQL client) reports a SQLite error.
pub fn libsql_wrap(code_name: &str, message: &str) -> String {
    format!(
        "Hrana: `cursor error: `error at step 0: (error code: {code_name}) `SQLite error: {message}```"
    )
}

/// True for the PRAGMAs that sqld refuses with "unsupported statement": the server
/// owns the journal mode, the busy timeout and the sync level.
pub fn libsql_refuses(sql: &str) -> bool {
    let s = sql.trim_start();
    let Some(keyword) = s.get(..6) else {
        return false;
    };
    if !keyword.eq_ignore_ascii_case("pragma") {
        return false;
    }
    let rest = &s[6..];
    if !rest.starts_with(|c: char| c.is_whitespace()) {
        return false;
    }
    let name: String = rest
        .trim_start()
        .chars()
        .take_while(|c| !(c.is_whitespace() || matches!(c, '=' | '(' | ';')))
        .collect();
    // `main.journal_mode`, `"journal_mode"`: only the last part counts.
    let name = name.rsplit('.').next().unwrap_or("");
    let name = name.trim_matches(|c| matches!(c, '"' | '`' | '[' | ']' | '\''));
    ["journal_mode", "busy_timeout", "synchronous"]
        .iter()
        .any(|p| name.eq_ignore_ascii_case(p))
}

/// Spin's error for a rusqlite failure: `io(text)`, the text being SQLite's message.
fn local_error(err: &rusqlite::Error) -> Error {
    Error::Io(err.to_string())
}

fn libsql_error(err: &rusqlite::Error) -> Error {
    let code = match err {
        rusqlite::Error::SqliteFailure(e, _) => primary_code_name(e.extended_code),
        _ => "SQLITE_ERROR",
    };
    Error::Io(libsql_wrap(code, &err.to_string()))
}

/// An injected error as the guest sees it in the given mode. In libSQL mode a SQLite
/// message is wrapped as the server's cursor error; a text that is already in the
/// client's envelope (`Hrana: …`, see [`super::faults::libsql`]) passes as it is.
fn injected_error(mode: StoreMode, error: Error) -> Error {
    match (mode, error) {
        (StoreMode::Libsql, Error::Io(text)) if !text.starts_with("Hrana: ") => {
            Error::Io(libsql_wrap(code_name_for_message(&text), &text))
        }
        (_, error) => error,
    }
}

fn error_text(error: &Error) -> String {
    match error {
        Error::Io(text) => format!("io({text})"),
        other => format!("{other:?}"),
    }
}

fn trap(fired: &Fired, what: &str) -> wasmtime::Error {
    wasmtime::Error::msg(format!("injected trap at {what} (rule {})", fired.rule))
}

impl sqlite::HostConnection for InstanceState {
    async fn open(
        &mut self,
        database: String,
    ) -> wasmtime::Result<Result<Resource<Connection>, Error>> {
        self.spin.stats.opens += 1;
        let shared = self.spin.shared.clone();
        if let Some(fired) = shared.faults.check_open() {
            match fired.action {
                FaultAction::Trap => return Err(trap(&fired, &format!("open({database:?})"))),
                FaultAction::Fail(error) => {
                    return Ok(Err(injected_error(shared.store, error)));
                }
            }
        }
        // factor-sqlite: the manifest grant is checked first, then the runtime config.
        if !shared.allowed_databases.contains(&database) {
            return Ok(Err(Error::AccessDenied));
        }
        let Some(path) = shared.databases.get(&database) else {
            return Ok(Err(Error::NoSuchDatabase));
        };
        if self.spin.live_connections >= MAX_CONNECTIONS {
            return Ok(Err(Error::Io("too many connections opened".to_string())));
        }
        self.spin.live_connections += 1;
        let conn = Connection::new(path.clone(), shared.store);
        Ok(Ok(self.table.push(conn)?))
    }

    async fn execute(
        &mut self,
        conn: Resource<Connection>,
        statement: String,
        parameters: Vec<Value>,
    ) -> wasmtime::Result<Result<QueryResult, Error>> {
        let shared = self.spin.shared.clone();
        let nth = self.spin.stats.statements.len() + 1;
        let mut record = StatementRecord {
            sql: statement.clone(),
            params: parameters.iter().cloned().map(to_sql).collect(),
            error: None,
            injected: false,
            synchronous: None,
            ran: Duration::ZERO,
            waited: Duration::ZERO,
            ended: None,
        };

        let outcome = if let Some(fired) = shared.faults.check_statement(nth, &statement) {
            record.injected = true;
            match fired.action {
                FaultAction::Trap => {
                    record.error = Some("trap".to_string());
                    self.spin.stats.statements.push(record);
                    return Err(trap(&fired, &format!("statement {nth}: {statement}")));
                }
                FaultAction::Fail(error) => Err(injected_error(shared.store, error)),
            }
        } else if shared.store == StoreMode::Libsql && libsql_refuses(&statement) {
            // The server refuses it, but only after a round trip: charged like any
            // statement (a hand-off to the blocking pool and back).
            let _ = tokio::task::spawn_blocking(|| ()).await;
            Err(Error::Io("unsupported statement".to_string()))
        } else {
            match self.table.get_mut(&conn)?.get() {
                Ok(conn) => {
                    let (store, sql) = (shared.store, statement.clone());
                    let timeout = shared.busy_timeout;
                    // As Spin's sqlite-inproc: the statement runs on tokio's blocking pool.
                    let ran = tokio::task::spawn_blocking(move || {
                        let conn = lock(&conn);
                        TIMEOUT.with(|t| t.set(timeout));
                        WAITED.with(|w| w.set(Duration::ZERO));
                        let started = Instant::now();
                        let outcome = run(&conn, &sql, parameters).map_err(|e| match store {
                            StoreMode::Local => local_error(&e),
                            StoreMode::Libsql => libsql_error(&e),
                        });
                        let took = started.elapsed();
                        // What the tests check a write ran with (not a guest call).
                        let synchronous = conn
                            .query_row("PRAGMA synchronous", [], |row| row.get::<_, i64>(0))
                            .ok();
                        (outcome, synchronous, took, WAITED.with(Cell::get))
                    })
                    .await;
                    match ran {
                        Ok((outcome, synchronous, took, waited)) => {
                            record.synchronous = synchronous;
                            record.ran = took;
                            record.waited = waited;
                            outcome
                        }
                        Err(e) => Err(Error::Io(format!("internal runtime error: {e}"))),
                    }
                }
                Err(e) => Err(e),
            }
        };

        record.error = outcome.as_ref().err().map(error_text);
        record.ended = Some(Instant::now());
        self.spin.stats.statements.push(record);
        Ok(outcome)
    }

    async fn last_insert_rowid(&mut self, conn: Resource<Connection>) -> wasmtime::Result<i64> {
        self.spin.stats.other_calls += 1;
        match self.table.get_mut(&conn)?.get() {
            Ok(conn) => Ok(lock(&conn).last_insert_rowid()),
            Err(e) => Err(wasmtime::Error::msg(format!("last-insert-rowid: {e:?}"))),
        }
    }

    async fn changes(&mut self, conn: Resource<Connection>) -> wasmtime::Result<u64> {
        self.spin.stats.other_calls += 1;
        match self.table.get_mut(&conn)?.get() {
            Ok(conn) => Ok(lock(&conn).changes()),
            Err(e) => Err(wasmtime::Error::msg(format!("changes: {e:?}"))),
        }
    }

    async fn drop(&mut self, conn: Resource<Connection>) -> wasmtime::Result<()> {
        // Dropping the rusqlite connection closes it (rolling back any open transaction).
        self.table.delete(conn)?;
        self.spin.live_connections = self.spin.live_connections.saturating_sub(1);
        Ok(())
    }
}

impl sqlite::Host for InstanceState {}
