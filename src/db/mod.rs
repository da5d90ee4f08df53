//! The database adapter: the only code that touches `spin_sdk::sqlite3`.
//!
//! One [`Db`] lives for one request. It opens its connection on first use (so routes that
//! need no database never open one) and reuses it for every statement of the request.
//! Spin hands each request a fresh instance, so nothing here outlives the request.
//!
//! **Every host call is a cost** (on Spin, a statement is two thread hand-offs; on
//! libSQL, a network round trip), so the schema check costs no statement of its own:
//!
//! - a read ([`Db::read`], a [`Read`]) carries the schema version as its first column
//!   ([`VERSION_COLUMN`]); only when a row says the file is behind does the request
//!   migrate and read again;
//! - a write ([`Db::execute`], [`Tx::execute`], a [`Write`]) carries
//!   [`SCHEMA_IS_CURRENT`] in its condition, so on an older file it changes nothing, and
//!   the read that explains an empty result migrates;
//! - any statement that fails because a table or column is missing (a fresh file) makes
//!   the request check the version, migrate if behind, and run it again.
//!
//! Every SQLite failure is classified once, in [`error`], from SQLite's own phrase inside
//! the host's message; [`statement`] makes the two rules above types; rows are read by
//! column name through [`rows`]; transactions run in [`tx`], and the schema is brought
//! forward by [`migrate`].

mod error;
mod migrate;
mod rows;
mod statement;
mod sync;
mod tx;

pub use error::{classify_message, Constraint, DbError, OnUnique, Outage};
pub use rows::{Row, Rows};
pub use spin_sdk::sqlite3::Value;
pub use statement::{
    change, read, read_head, schema_is_current, schema_version, Read, Write, SCHEMA_IS_CURRENT,
    SCHEMA_VERSION, VERSION_COLUMN,
};
pub use sync::{sync_setting, SYNC_VARIABLE};
pub use tx::Tx;

use error::classify;
use spin_sdk::sqlite3::Connection;
use std::cell::{Cell, OnceCell};

/// The Spin SQLite database label this component is granted in `spin.toml`.
const DATABASE: &str = "default";

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
    pub fn execute(&self, write: &Write, params: &[Value]) -> Result<Rows, DbError> {
        self.prepare_write()?;
        self.run(write.sql(), params)
    }

    /// Reads the schema version (migrating the file if it is behind, refusing one ahead
    /// of this build): for a write that changed nothing although nothing but the schema
    /// could have stopped it. One statement.
    pub fn check_schema(&self) -> Result<(), DbError> {
        const VERSION: Read = Read::new(read_head!());
        self.read(&VERSION, &[]).map(drop)
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

    /// Runs one read, whose first column is [`VERSION_COLUMN`] (checked: a result without
    /// it is an internal error). A row that shows the file behind this build migrates it
    /// and reads again. A read that finds nothing has no version to show: if this request
    /// has not seen the version yet, it is read (and the file migrated if behind, and the
    /// read run again), since a migration can add rows. Reads whose miss is a normal
    /// answer (a login for an unknown name) are written to return a row anyway.
    pub fn read(&self, read: &Read, params: &[Value]) -> Result<Rows, DbError> {
        let sql = read.sql();
        let mut rows = self.run(sql, params)?;
        if rows.first_column() != Some(VERSION_COLUMN) {
            return Err(DbError::Other(format!(
                "a read without its {VERSION_COLUMN} column: {sql}"
            )));
        }
        let version = rows.first().map(|row| row.int(VERSION_COLUMN));
        let behind = match version.transpose()? {
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
        Ok(rows)
    }

    /// Runs `work` inside `BEGIN IMMEDIATE … COMMIT`; any error rolls it back. If a
    /// statement of it failed on a missing table or column and the schema was behind,
    /// the schema is migrated and `work` runs once more, in a new transaction.
    ///
    /// No `PRAGMA foreign_keys` here: a libSQL server starts each connection with
    /// foreign keys off, so no write may rely on them (see `store::users::delete`).
    pub fn transaction<T, E: From<DbError>>(
        &self,
        work: impl Fn(&Tx) -> Result<T, E>,
    ) -> Result<T, E> {
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

/// Executes one statement on `conn` and classifies its failure.
fn execute(conn: &Connection, sql: &str, params: &[Value]) -> Result<Rows, DbError> {
    conn.execute(sql, params)
        .map(|result| Rows { result })
        .map_err(classify)
}
