//! The transaction helper: `BEGIN IMMEDIATE` … `COMMIT`, or `ROLLBACK` on every other
//! way out.
//!
//! Work runs in a closure that receives a [`Tx`]. A `Tx` runs statements but refuses
//! transaction control (`BEGIN`, `COMMIT`, `ROLLBACK`, savepoints), so the only place a
//! transaction starts and ends is [`run`]. If the closure fails, or `COMMIT` itself
//! fails, the transaction is rolled back; a failed `ROLLBACK` is logged and never hides
//! the error that caused it. If the guest traps instead, Spin drops the instance and its
//! connection, and SQLite rolls the open transaction back (the tests prove it).
//!
//! Only writes that need several statements use it: every read in this API is a single
//! statement, which SQLite runs on one snapshot by itself, and so is every write that can
//! be said in one statement. While a transaction is open it holds the write lock, and the
//! other writers wait, so the closures keep the fewest statements inside it.

use super::{execute, DbError, Rows, Value, Write};
use crate::log::warn;
use spin_sdk::sqlite3::Connection;
use std::cell::Cell;

/// Statements inside an open transaction.
pub struct Tx<'c> {
    conn: &'c Connection,
    /// Set when a statement failed on a missing table or column (see `Db::transaction`).
    schema_missing: &'c Cell<bool>,
}

impl Tx<'_> {
    /// Runs one change inside the transaction.
    pub fn execute(&self, write: &Write, params: &[Value]) -> Result<Rows, DbError> {
        self.run(write.sql(), params)
    }

    /// Runs one statement of any text inside the transaction: the migration's, which
    /// come from `migrations.sql` and define the schema the protocol checks.
    pub(super) fn run(&self, sql: &str, params: &[Value]) -> Result<Rows, DbError> {
        if is_transaction_control(sql) {
            return Err(DbError::Other(format!(
                "transaction control inside a transaction: {sql}"
            )));
        }
        let outcome = execute(self.conn, sql, params);
        if let Err(DbError::SchemaMissing(_)) = &outcome {
            self.schema_missing.set(true);
        }
        outcome
    }
}

/// Runs `work` in a write transaction on `conn`: committed if it succeeds, rolled back
/// if not. `E` is the caller's error type: the store's `StoreError`, the migration's
/// `DbError`.
pub fn run<T, E: From<DbError>>(
    conn: &Connection,
    schema_missing: &Cell<bool>,
    work: impl FnOnce(&Tx) -> Result<T, E>,
) -> Result<T, E> {
    // IMMEDIATE takes the write lock up front, so a concurrent writer waits on the busy
    // timeout instead of failing later with a lock upgrade that cannot be retried.
    execute(conn, "BEGIN IMMEDIATE", &[])?;
    let outcome = work(&Tx {
        conn,
        schema_missing,
    })
    .and_then(|value| {
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

/// Whether `sql` begins, ends or nests a transaction: a statement no work inside
/// [`run`] may run, and one the migration leaves out of `migrations.sql` (whose steps'
/// `BEGIN` / `COMMIT` are for `spin up --sqlite`; the component runs the file inside a
/// transaction of its own).
pub(super) fn is_transaction_control(sql: &str) -> bool {
    let first = sql.split_whitespace().next().unwrap_or("");
    ["BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE"]
        .iter()
        .any(|word| first.eq_ignore_ascii_case(word))
}

#[cfg(test)]
mod tests {
    #[test]
    fn statements_inside_a_transaction_cannot_end_it() {
        for sql in [
            "COMMIT",
            "rollback",
            "BEGIN IMMEDIATE",
            " end",
            "SAVEPOINT a",
            "RELEASE a",
        ] {
            assert!(super::is_transaction_control(sql), "{sql}");
        }
        for sql in [
            "SELECT 1",
            "DELETE FROM favorites",
            "INSERT INTO t VALUES ('COMMIT')",
        ] {
            assert!(!super::is_transaction_control(sql), "{sql}");
        }
    }
}
