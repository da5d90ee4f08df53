//! The database adapter: the only code that touches `spin_sdk::sqlite3`.
//!
//! One [`Db`] lives for one request. It opens its connection on first use (so routes that
//! need no database never open one) and reuses it for every statement of the request.
//! Spin hands each request a fresh instance, so nothing here outlives the request.
//!
//! **Every host call is a cost** (on Spin, a statement is two thread hand-offs; on
//! libSQL, a network round trip), so the schema check costs no statement of its own:
//!
//! - a read ([`Db::read`]) carries the schema version as its first column
//!   ([`VERSION_COLUMN`]); only when a row says the file is behind does the request
//!   migrate and read again;
//! - a single-statement write carries [`SCHEMA_IS_CURRENT`] in its condition, so on an
//!   older file it changes nothing, and the read that explains an empty result migrates;
//! - any statement that fails because a table or column is missing (a fresh file) makes
//!   the request check the version, migrate if behind, and run it again.
//!
//! Every SQLite failure is classified once, here ([`classify`]), from SQLite's own phrase
//! inside the host's message: local SQLite says `UNIQUE constraint failed: users.username`,
//! libSQL wraps the same phrase in a `Hrana: …` envelope.

mod migrate;
mod tx;

pub use migrate::{SCHEMA_IS_CURRENT, SCHEMA_VERSION, VERSION_COLUMN};
pub use spin_sdk::sqlite3::Value;
pub use tx::Tx;

use spin_sdk::sqlite3::{Connection, Error as SpinError, QueryResult};
use std::cell::{Cell, OnceCell};

/// The Spin SQLite database label this component is granted in `spin.toml`.
const DATABASE: &str = "default";

/// A classified database failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbError {
    /// The store cannot serve the request now but may soon (a transient failure); the
    /// text is the host's message, for the log.
    Unavailable(Outage, String),
    /// A constraint refused the statement; the caller decides what that means.
    Constraint(Constraint),
    /// The statement itself was refused by the server (libSQL refuses some PRAGMAs).
    Unsupported(String),
    /// A table or column the statement names does not exist: the file may be older
    /// than this build (or empty), see [`Db::query`].
    SchemaMissing(String),
    /// The file's schema is newer than this build (a deploy rolled back): it is never
    /// written, and no route may read it as if it knew its layout.
    SchemaAhead(i64),
    /// The file was behind this build and bringing it forward failed (not for a
    /// transient reason: those are [`DbError::Unavailable`]); the text is for the log.
    MigrationFailed(String),
    /// Anything else: an internal error.
    Other(String),
}

/// Why the store is unavailable. Each kind is transient: the same request may succeed
/// once the lock is released, the disk has room, or the server is back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outage {
    /// Locked past the busy timeout (local SQLite, or `SQLITE_BUSY` from the server).
    Locked,
    /// The disk is full.
    Full,
    /// The manifest does not grant the database.
    Denied,
    /// The file cannot be opened, no database has the label, or (libSQL) Spin cannot
    /// build its client.
    CannotOpen,
    /// A libSQL server that cannot be reached: refused, reset, DNS, shutting down.
    Unreachable,
    /// A libSQL server that dropped this request's work: a statement interrupted, a
    /// transaction timed out, a stream expired or unknown to it, too many requests.
    ServerBusy,
    /// The operating system failed a read, write or lock of the file (`SQLITE_IOERR`,
    /// `SQLITE_PROTOCOL`): SQLite rolled the statement back, and the same request may
    /// succeed a moment later.
    DiskError,
}

impl Outage {
    /// The short reason `/health` shows a monitor.
    pub fn reason(self) -> &'static str {
        match self {
            Outage::Locked => "database is locked",
            Outage::Full => "database is full",
            Outage::Denied => "access denied",
            Outage::CannotOpen => "database cannot be opened",
            Outage::Unreachable => "database server is unreachable",
            Outage::ServerBusy => "database server dropped the request",
            Outage::DiskError => "database file I/O failed",
        }
    }
}

/// The phrases that mark a failure as transient, wherever they sit in the host's text,
/// and what kind of outage each one is. Where each comes from is in the README ("Errors
/// the store can give"). A failure that will not go away by itself is **not** here, so it
/// is a 500 that an operator must look at, never a 503 that invites clients to retry:
/// a file that is not a database (`SQLITE_NOTADB`) or is corrupt (`SQLITE_CORRUPT`), an
/// authorizer that denies the statement (`SQLITE_AUTH`), a read-only file
/// (`SQLITE_READONLY`), and anything unknown.
const OUTAGES: [(&str, Outage); 32] = [
    // SQLite's own messages and result codes (local, or inside libSQL's envelope).
    ("database is locked", Outage::Locked),
    ("database table is locked", Outage::Locked),
    ("database schema is locked", Outage::Locked),
    ("SQLITE_BUSY", Outage::Locked),
    ("SQLITE_LOCKED", Outage::Locked),
    ("database or disk is full", Outage::Full),
    ("SQLITE_FULL", Outage::Full),
    ("unable to open database", Outage::CannotOpen),
    ("disk I/O error", Outage::DiskError),
    ("SQLITE_IOERR", Outage::DiskError),
    ("locking protocol", Outage::DiskError),
    ("SQLITE_PROTOCOL", Outage::DiskError),
    // The libSQL client's transport errors (`Hrana: `http error: …``, hyper's texts).
    // Not `http error` as such: a request the client cannot even build, or a TLS
    // certificate it refuses, is configuration, not an outage (`Other`).
    ("tcp connect error", Outage::Unreachable),
    ("dns error", Outage::Unreachable),
    (
        "connection closed before message completed",
        Outage::Unreachable,
    ),
    ("connection error", Outage::Unreachable),
    ("Namespace store has shutdown", Outage::Unreachable),
    // A proxy in front of the server while it restarts (the body of a non-200 answer).
    ("Bad Gateway", Outage::Unreachable),
    ("Service Unavailable", Outage::Unreachable),
    ("Gateway Timeout", Outage::Unreachable),
    ("Gateway Time-out", Outage::Unreachable),
    // sqld dropped this request's work; nothing of it was kept.
    ("SQLITE_INTERRUPT", Outage::ServerBusy),
    ("SQLite error: interrupted", Outage::ServerBusy),
    ("TRANSACTION_TIMEOUT", Outage::ServerBusy),
    ("Transaction timed out", Outage::ServerBusy),
    ("STREAM_EXPIRED", Outage::ServerBusy),
    ("The stream has expired", Outage::ServerBusy),
    ("baton", Outage::ServerBusy),
    ("cursor stream ended prematurely", Outage::ServerBusy),
    ("stream closed", Outage::ServerBusy),
    ("Too many concurrent requests", Outage::ServerBusy),
    (
        "Timed out while opening database connection",
        Outage::ServerBusy,
    ),
];

/// Which constraint failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Constraint {
    /// `UNIQUE constraint failed: <table.column, …>`
    Unique(String),
    ForeignKey,
    Other(String),
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbError::Unavailable(_, why) => write!(f, "database unavailable: {why}"),
            DbError::Constraint(Constraint::Unique(cols)) => {
                write!(f, "UNIQUE constraint failed: {cols}")
            }
            DbError::Constraint(Constraint::ForeignKey) => {
                write!(f, "FOREIGN KEY constraint failed")
            }
            DbError::Constraint(Constraint::Other(why)) => write!(f, "constraint failed: {why}"),
            DbError::Unsupported(why) => write!(f, "unsupported statement: {why}"),
            DbError::SchemaMissing(why) => write!(f, "database error: {why}"),
            DbError::SchemaAhead(version) => write!(
                f,
                "schema version {version} is newer than the {SCHEMA_VERSION} this build knows"
            ),
            DbError::MigrationFailed(why) => {
                write!(f, "migration to schema version {SCHEMA_VERSION}: {why}")
            }
            DbError::Other(why) => write!(f, "database error: {why}"),
        }
    }
}

/// Turns a `UNIQUE` violation into the caller's own answer at the call site (the one
/// place that knows what the constraint means there); any other failure passes on as
/// the caller's error type.
pub trait OnUnique<T> {
    fn on_unique<E: From<DbError>>(self, answer: impl FnOnce() -> E) -> Result<T, E>;
}

impl<T> OnUnique<T> for Result<T, DbError> {
    fn on_unique<E: From<DbError>>(self, answer: impl FnOnce() -> E) -> Result<T, E> {
        self.map_err(|err| match err {
            DbError::Constraint(Constraint::Unique(_)) => answer(),
            other => other.into(),
        })
    }
}

/// Classifies an error of the Spin SQLite interface.
fn classify(err: SpinError) -> DbError {
    match err {
        SpinError::NoSuchDatabase => {
            DbError::Unavailable(Outage::CannotOpen, "no such database: default".into())
        }
        SpinError::AccessDenied => DbError::Unavailable(
            Outage::Denied,
            "access to database 'default' denied by spin.toml".into(),
        ),
        // Spin's libSQL backend answers this when it cannot build its client.
        SpinError::InvalidConnection => {
            DbError::Unavailable(Outage::CannotOpen, "invalid connection".into())
        }
        SpinError::DatabaseFull => DbError::Unavailable(Outage::Full, "database is full".into()),
        SpinError::Io(text) => classify_message(&text),
    }
}

/// Classifies a host error message by the SQLite phrase inside it, wherever it sits.
pub fn classify_message(text: &str) -> DbError {
    const UNIQUE: &str = "UNIQUE constraint failed: ";
    if let Some(start) = text.find(UNIQUE) {
        let rest = &text[start + UNIQUE.len()..];
        let end = rest.find(['`', '\n']).unwrap_or(rest.len());
        return DbError::Constraint(Constraint::Unique(rest[..end].trim().to_string()));
    }
    if text.contains("FOREIGN KEY constraint failed") {
        return DbError::Constraint(Constraint::ForeignKey);
    }
    if text.contains("constraint failed") || text.contains("SQLITE_CONSTRAINT") {
        return DbError::Constraint(Constraint::Other(text.to_string()));
    }
    if let Some((_, outage)) = OUTAGES.iter().find(|(phrase, _)| text.contains(phrase)) {
        return DbError::Unavailable(*outage, text.to_string());
    }
    if text.contains("no such table") || text.contains("no such column") {
        return DbError::SchemaMissing(text.to_string());
    }
    if text.trim() == "unsupported statement" {
        return DbError::Unsupported(text.to_string());
    }
    DbError::Other(text.to_string())
}

/// One request's handle on the `default` database.
pub struct Db {
    conn: OnceCell<Connection>,
    /// The schema version seen by this request (0 until a statement has said).
    schema_version: Cell<i64>,
    /// Set by a statement inside a transaction that failed on a missing table or column.
    schema_missing: Cell<bool>,
    /// Whether this request has sent its sync setting (see [`Db::prepare_write`]).
    write_prepared: Cell<bool>,
}

impl Default for Db {
    fn default() -> Self {
        Self::new()
    }
}

impl Db {
    /// A handle that has not opened anything yet.
    pub fn new() -> Self {
        Db {
            conn: OnceCell::new(),
            schema_version: Cell::new(0),
            schema_missing: Cell::new(false),
            write_prepared: Cell::new(false),
        }
    }

    /// The connection of this request, opened on first use.
    fn conn(&self) -> Result<&Connection, DbError> {
        if let Some(conn) = self.conn.get() {
            return Ok(conn);
        }
        let conn = Connection::open(DATABASE).map_err(classify)?;
        Ok(self.conn.get_or_init(|| conn))
    }

    /// Reads the schema version, migrating the file first if it is behind; returns the
    /// version it is at afterwards. `/health` calls it; other routes only when a
    /// statement said the schema is behind or missing.
    pub fn schema_version(&self) -> Result<i64, DbError> {
        // A constraint failure here belongs to the schema check, not to the caller's
        // statement: it must not reach a call site that maps constraints to answers.
        let version = migrate::ensure_schema(self.conn()?).map_err(|err| match err {
            DbError::Constraint(constraint) => {
                DbError::Other(format!("schema check: {constraint:?}"))
            }
            other => other,
        })?;
        self.schema_version.set(version);
        Ok(version)
    }

    /// Whether this request has seen the schema at the version this build expects.
    fn schema_is_current(&self) -> bool {
        self.schema_version.get() == SCHEMA_VERSION
    }

    /// Records the version a statement showed; says whether the file is behind, and
    /// refuses a file ahead of this build.
    fn saw_version(&self, version: i64) -> Result<bool, DbError> {
        self.schema_version.set(version);
        if version > SCHEMA_VERSION {
            return Err(DbError::SchemaAhead(version));
        }
        Ok(version < SCHEMA_VERSION)
    }

    /// After `err` said a table or column is missing: brings the schema up to date and
    /// says whether the statement is worth running again. It is, once, whenever this
    /// request had not yet seen the schema current: the file was behind (now migrated),
    /// or another request finished migrating it in between. A failed statement applied
    /// nothing, so running it again cannot apply it twice.
    fn repaired(&self, err: &DbError) -> Result<bool, DbError> {
        if !matches!(err, DbError::SchemaMissing(_)) || self.schema_is_current() {
            return Ok(false);
        }
        let version = self.schema_version()?;
        Ok(!self.saw_version(version)?)
    }

    /// Runs one write on its own (SQLite makes a single statement atomic), after this
    /// request's sync setting ([`Db::prepare_write`]). If it fails on a missing table or
    /// column and the schema was behind, the schema is migrated and the statement runs
    /// once more.
    pub fn query(&self, sql: &str, params: &[Value]) -> Result<Rows, DbError> {
        self.prepare_write()?;
        self.run(sql, params)
    }

    /// Sends this request's sync setting once, before its first write and outside any
    /// lock: `PRAGMA synchronous` is per connection, and Spin opens every connection
    /// at SQLite's default, FULL, which syncs the WAL on every commit while the write
    /// lock is held. NORMAL (the default here, see [`sync_setting`]) syncs at checkpoints
    /// only: a commit survives a crash of Spin, and only a power cut or an OS crash can
    /// lose the last ones; the file is never corrupted. A server that refuses the
    /// statement (libSQL owns its own setting, and runs NORMAL) is no failure.
    fn prepare_write(&self) -> Result<(), DbError> {
        if self.write_prepared.replace(true) {
            return Ok(());
        }
        let Some(pragma) = sync_setting()? else {
            return Ok(());
        };
        match execute(self.conn()?, pragma, &[]) {
            Ok(_) | Err(DbError::Unsupported(_)) => Ok(()),
            // Not the caller's statement: no call site may read it as its own constraint.
            Err(DbError::Constraint(constraint)) => {
                Err(DbError::Other(format!("{pragma}: {constraint:?}")))
            }
            Err(err) => Err(err),
        }
    }

    /// Runs one statement: a write's, or a read's (see [`Db::read`]). A failure on a
    /// missing table or column while the schema was behind migrates it and runs the
    /// statement once more.
    fn run(&self, sql: &str, params: &[Value]) -> Result<Rows, DbError> {
        match execute(self.conn()?, sql, params) {
            Err(err) if self.repaired(&err)? => execute(self.conn()?, sql, params),
            outcome => outcome,
        }
    }

    /// Runs one read whose first column is [`VERSION_COLUMN`]. A row that shows the file
    /// behind this build migrates it and reads again; the rows come back without that
    /// column. A read that finds nothing has no version to show: if this request has not
    /// seen the version yet, it is read (and the file migrated if behind, and the read run
    /// again), since a migration can add rows. Reads whose miss is a normal answer (a
    /// login for an unknown name) are written to return a row anyway.
    pub fn read(&self, sql: &str, params: &[Value]) -> Result<Rows, DbError> {
        let mut rows = self.run(sql, params)?;
        let behind = match rows.first().map(|row| row.int(0)).transpose()? {
            Some(version) => self.saw_version(version)?,
            None if !self.schema_is_current() => {
                self.saw_version(migrate::user_version(self.conn()?)?)?
            }
            None => false,
        };
        if behind {
            self.schema_version()?;
            rows = self.run(sql, params)?;
        }
        rows.skip = 1;
        Ok(rows)
    }

    /// Runs `work` inside `BEGIN IMMEDIATE … COMMIT`; any error rolls it back. If a
    /// statement of it failed on a missing table or column and the schema was behind,
    /// the schema is migrated and `work` runs once more, in a new transaction.
    ///
    /// No `PRAGMA foreign_keys` here: a libSQL server starts each connection with
    /// foreign keys off, so no write may rely on them (see `store::users::delete`).
    pub fn write<T, E: From<DbError>>(&self, work: impl Fn(&Tx) -> Result<T, E>) -> Result<T, E> {
        self.prepare_write()?;
        let conn = self.conn()?;
        self.schema_missing.set(false);
        let outcome = tx::run(conn, &self.schema_missing, &work);
        if outcome.is_err()
            && self.schema_missing.get()
            && self.repaired(&DbError::SchemaMissing(String::new()))?
        {
            return tx::run(conn, &self.schema_missing, &work);
        }
        outcome
    }
}

/// The environment variable an operator sets to choose how writes sync (`spin up -e
/// POKEFAVS_DB_SYNCHRONOUS=full`, or `environment` in `spin.toml`).
pub const SYNC_VARIABLE: &str = "POKEFAVS_DB_SYNCHRONOUS";

/// The statement that sets how this request's writes sync, from [`SYNC_VARIABLE`]:
/// unset or `normal` is NORMAL (the team's choice, and sqld's own), `full` is FULL (a
/// sync on every commit), `server` sends nothing (for a libSQL server, which refuses the
/// statement and owns the setting: one round trip saved per write). The variable is the
/// component's WASI environment, read in the instance: no Spin interface, no thread
/// hand-off, unlike a Spin variable. A value not in that list is a configuration error.
pub fn sync_setting() -> Result<Option<&'static str>, DbError> {
    let value = std::env::var(SYNC_VARIABLE).unwrap_or_default();
    parse_sync_setting(&value).ok_or_else(|| {
        DbError::Other(format!(
            "config: {SYNC_VARIABLE} must be normal, full or server, got {value:?}"
        ))
    })
}

fn parse_sync_setting(value: &str) -> Option<Option<&'static str>> {
    match value.trim().to_ascii_lowercase().as_str() {
        "" | "normal" => Some(Some("PRAGMA synchronous = NORMAL")),
        "full" => Some(Some("PRAGMA synchronous = FULL")),
        "server" => Some(None),
        _ => None,
    }
}

/// Executes one statement on `conn` and classifies its failure.
fn execute(conn: &Connection, sql: &str, params: &[Value]) -> Result<Rows, DbError> {
    conn.execute(sql, params)
        .map(|result| Rows { result, skip: 0 })
        .map_err(classify)
}

/// The rows of a statement, with typed access that never panics: a column that is
/// missing or of another type is an internal error.
pub struct Rows {
    result: QueryResult,
    /// Leading columns the caller does not see (the schema version of [`Db::read`]).
    skip: usize,
}

impl Rows {
    pub fn len(&self) -> usize {
        self.result.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.result.rows.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = Row<'_>> {
        self.result.rows.iter().map(|r| Row {
            values: &r.values,
            skip: self.skip,
        })
    }

    pub fn first(&self) -> Option<Row<'_>> {
        self.iter().next()
    }
}

/// One row of [`Rows`].
#[derive(Clone, Copy)]
pub struct Row<'r> {
    values: &'r [Value],
    skip: usize,
}

impl Row<'_> {
    /// The number of columns the caller sees.
    pub fn len(&self) -> usize {
        self.values.len().saturating_sub(self.skip)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn value(&self, index: usize) -> Result<&Value, DbError> {
        self.values
            .get(index + self.skip)
            .ok_or_else(|| DbError::Other(format!("result has no column {index}")))
    }

    /// An integer column that may be NULL.
    pub fn opt_int(&self, index: usize) -> Result<Option<i64>, DbError> {
        match self.value(index)? {
            Value::Integer(i) => Ok(Some(*i)),
            Value::Null => Ok(None),
            other => Err(type_error(index, "integer", other)),
        }
    }

    pub fn int(&self, index: usize) -> Result<i64, DbError> {
        self.opt_int(index)?
            .ok_or_else(|| DbError::Other(format!("column {index} is NULL, expected integer")))
    }

    /// A text column that may be NULL.
    pub fn opt_text(&self, index: usize) -> Result<Option<&str>, DbError> {
        match self.value(index)? {
            Value::Text(s) => Ok(Some(s)),
            Value::Null => Ok(None),
            other => Err(type_error(index, "text", other)),
        }
    }

    pub fn text(&self, index: usize) -> Result<&str, DbError> {
        self.opt_text(index)?
            .ok_or_else(|| DbError::Other(format!("column {index} is NULL, expected text")))
    }
}

fn type_error(index: usize, expected: &str, got: &Value) -> DbError {
    let got = match got {
        Value::Integer(_) => "integer",
        Value::Real(_) => "real",
        Value::Text(_) => "text",
        Value::Blob(_) => "blob",
        Value::Null => "null",
    };
    DbError::Other(format!("column {index} is {got}, expected {expected}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_sync_normal_unless_the_operator_says_otherwise() {
        assert_eq!(
            parse_sync_setting(""),
            Some(Some("PRAGMA synchronous = NORMAL"))
        );
        assert_eq!(
            parse_sync_setting(" Normal "),
            Some(Some("PRAGMA synchronous = NORMAL"))
        );
        assert_eq!(
            parse_sync_setting("FULL"),
            Some(Some("PRAGMA synchronous = FULL"))
        );
        assert_eq!(parse_sync_setting("server"), Some(None));
        for bad in ["off", "2", "extra", "normal;"] {
            assert_eq!(parse_sync_setting(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_local_unique_violation_names_its_columns() {
        assert_eq!(
            classify_message("UNIQUE constraint failed: users.username"),
            DbError::Constraint(Constraint::Unique("users.username".into()))
        );
    }

    #[test]
    fn a_libsql_unique_violation_is_found_inside_the_hrana_envelope() {
        let text = "Hrana: `cursor error: `error at step 0: (error code: SQLITE_CONSTRAINT) \
                    `SQLite error: UNIQUE constraint failed: favorites.user_id, favorites.pokemon_id```";
        assert_eq!(
            classify_message(text),
            DbError::Constraint(Constraint::Unique(
                "favorites.user_id, favorites.pokemon_id".into()
            ))
        );
    }

    #[test]
    fn foreign_key_failures_are_recognised_in_both_forms() {
        for text in [
            "FOREIGN KEY constraint failed",
            "Hrana: `cursor error: `error at step 0: (error code: SQLITE_CONSTRAINT) `SQLite error: FOREIGN KEY constraint failed```",
        ] {
            assert_eq!(
                classify_message(text),
                DbError::Constraint(Constraint::ForeignKey)
            );
        }
    }

    #[test]
    fn locks_full_disks_and_unopenable_files_make_the_store_unavailable() {
        for text in [
            "database is locked",
            "database or disk is full",
            "unable to open database file",
            "Hrana: `cursor error: `error at step 0: (error code: SQLITE_BUSY) `SQLite error: database is locked```",
        ] {
            assert!(
                matches!(classify_message(text), DbError::Unavailable(..)),
                "{text}"
            );
        }
    }

    #[test]
    fn a_libsql_server_that_cannot_be_reached_is_an_outage() {
        for text in [
            "Hrana: `http error: `error trying to connect: tcp connect error: Connection refused (os error 111)``",
            "Hrana: `http error: `error trying to connect: dns error: failed to lookup address information: Name or service not known``",
            "Hrana: `http error: `connection closed before message completed``",
            "Hrana: `http error: `connection error: Connection reset by peer (os error 104)``",
        ] {
            assert_eq!(
                classify_message(text),
                DbError::Unavailable(Outage::Unreachable, text.to_string())
            );
        }
    }

    #[test]
    fn a_libsql_server_that_dropped_the_work_is_an_outage() {
        for text in [
            "Hrana: `cursor error: `error at step 0: (error code: SQLITE_INTERRUPT) `SQLite error: interrupted```",
            "Hrana: `cursor error: `error at step 0: (error code: TRANSACTION_TIMEOUT) `Transaction timed out```",
            "Hrana: `api error: `{\"message\":\"The stream has expired due to inactivity\",\"code\":\"STREAM_EXPIRED\"}``",
            "Hrana: `api error: `Received an invalid baton``",
            "Hrana: `cursor error: `cursor stream ended prematurely``",
        ] {
            assert_eq!(
                classify_message(text),
                DbError::Unavailable(Outage::ServerBusy, text.to_string())
            );
        }
    }

    #[test]
    fn a_proxy_in_front_of_a_restarting_server_is_an_outage() {
        let text = "Hrana: `api error: `<html><head><title>502 Bad Gateway</title></head></html>``";
        assert!(matches!(
            classify_message(text),
            DbError::Unavailable(Outage::Unreachable, _)
        ));
        let closed = "Hrana: `stream closed: `client stream has been closed by the servers``";
        assert!(matches!(
            classify_message(closed),
            DbError::Unavailable(Outage::ServerBusy, _)
        ));
    }

    #[test]
    fn a_client_that_cannot_be_configured_is_not_an_outage() {
        for text in [
            "Hrana: `http error: `error trying to connect: invalid peer certificate: UnknownIssuer``",
            "Hrana: `http error: `hyper::Error(Builder, InvalidUri(InvalidFormat))``",
        ] {
            assert!(matches!(classify_message(text), DbError::Other(_)), "{text}");
        }
    }

    #[test]
    fn a_permanent_error_inside_the_envelope_keeps_its_meaning() {
        let syntax = "Hrana: `cursor error: `error at step 0: (error code: SQLITE_ERROR) `SQLite error: near \"SELEC\": syntax error```";
        assert!(matches!(classify_message(syntax), DbError::Other(_)));
        let unique = "Hrana: `cursor error: `error at step 0: (error code: SQLITE_CONSTRAINT) `SQLite error: UNIQUE constraint failed: users.username```";
        assert!(matches!(classify_message(unique), DbError::Constraint(_)));
    }

    #[test]
    fn a_refused_pragma_is_unsupported_not_an_outage() {
        assert!(matches!(
            classify_message("unsupported statement"),
            DbError::Unsupported(_)
        ));
    }

    #[test]
    fn a_missing_table_or_column_says_the_schema_may_be_behind() {
        for text in [
            "no such table: users",
            "no such column: u.session_version",
            "Hrana: `cursor error: `error at step 0: (error code: SQLITE_ERROR) `SQLite error: no such table: favorites```",
        ] {
            assert!(
                matches!(classify_message(text), DbError::SchemaMissing(_)),
                "{text}"
            );
        }
    }

    #[test]
    fn anything_else_is_other() {
        assert!(matches!(
            classify_message("near \"SELEC\": syntax error"),
            DbError::Other(_)
        ));
    }

    #[test]
    fn a_failed_read_or_write_of_the_file_is_transient() {
        for text in [
            "disk I/O error",
            "locking protocol",
            "Hrana: `cursor error: `error at step 0: (error code: SQLITE_IOERR_WRITE) `SQLite error: disk I/O error```",
            "Hrana: `cursor error: `error at step 0: (error code: SQLITE_PROTOCOL) `SQLite error: locking protocol```",
        ] {
            assert!(
                matches!(
                    classify_message(text),
                    DbError::Unavailable(Outage::DiskError, _)
                ),
                "{text}"
            );
        }
    }

    #[test]
    fn a_problem_that_will_not_go_away_is_not_an_outage() {
        for text in [
            "file is not a database",
            "database disk image is malformed",
            "not authorized",
            "attempt to write a readonly database",
            "Hrana: `cursor error: `error at step 0: (error code: SQLITE_NOTADB) `SQLite error: file is not a database```",
            "Hrana: `cursor error: `error at step 0: (error code: SQLITE_AUTH) `SQLite error: not authorized```",
        ] {
            assert!(matches!(classify_message(text), DbError::Other(_)), "{text}");
        }
    }
}
