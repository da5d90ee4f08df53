//! What the host records about one request: each `execute` the guest made
//! ([`StatementRecord`]) and its other calls into the Spin interfaces, memory and
//! stderr ([`RequestStats`]), for the tests and the benchmark to look at.

use std::time::{Duration, Instant};

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
