//! The transaction helper: `BEGIN` … `COMMIT`, or `ROLLBACK` on every other way out.
//!
//! Work runs in a closure that receives a [`Tx`]. A `Tx` can run statements but cannot
//! begin, commit, roll back or nest, so the only place a transaction starts and ends is
//! [`run`]. If the closure fails, or `COMMIT` itself fails, the transaction is rolled back;
//! a failed `ROLLBACK` is logged and never hides the error that caused it. If the guest
//! traps instead, Spin drops the instance and its connection, and SQLite rolls the open
//! transaction back (the tests prove it).

use super::{execute, warn, DbError, Rows, Value};
use crate::error::Result;
use spin_sdk::sqlite3::Connection;

/// How a transaction takes its locks.
#[derive(Clone, Copy)]
pub enum Begin {
    /// `BEGIN`: a read snapshot.
    Deferred,
    /// `BEGIN IMMEDIATE`: the write lock, taken up front.
    Immediate,
}

/// Statements inside an open transaction.
pub struct Tx<'c> {
    conn: &'c Connection,
}

impl Tx<'_> {
    /// Runs one statement inside the transaction.
    pub fn query(&self, sql: &str, params: &[Value]) -> Result<Rows, DbError> {
        execute(self.conn, sql, params)
    }
}

/// Runs `work` in a transaction on `conn`: committed if it succeeds, rolled back if not.
pub fn run<T>(conn: &Connection, begin: Begin, work: impl FnOnce(&Tx) -> Result<T>) -> Result<T> {
    let begin_sql = match begin {
        Begin::Deferred => "BEGIN",
        Begin::Immediate => "BEGIN IMMEDIATE",
    };
    execute(conn, begin_sql, &[])?;
    let outcome = work(&Tx { conn }).and_then(|value| {
        execute(conn, "COMMIT", &[])?;
        Ok(value)
    });
    if outcome.is_err() {
        rollback(conn);
    }
    outcome
}

fn rollback(conn: &Connection) {
    if let Err(err) = execute(conn, "ROLLBACK", &[]) {
        // After some failures (a failed COMMIT on I/O error, say) SQLite has already rolled
        // back and says "no transaction is active": nothing is left open either way.
        warn(&format!("rollback failed: {err}"));
    }
}
