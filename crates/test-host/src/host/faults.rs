//! Fault injection: rules that make a chosen `spin:sqlite` call fail or trap.
//!
//! Rules belong to one `Host` and are shared by all of its requests (and threads).
//! A rule names *when* it applies, *what* happens, and *how often*:
//!
//! - `FaultWhen::Nth(n)`: the n-th `execute` call (1-based) **within a request**. The
//!   count restarts with every request, so `Nth(3)` + `Once` fires on the third
//!   statement of the first request that gets that far.
//! - `FaultWhen::Matches(s)`: any `execute` whose SQL contains `s`, ignoring ASCII case.
//! - `FaultWhen::Open`: a `Connection::open` call.
//!
//! When a rule fires the statement (or open) is **not** run: the host answers with the
//! chosen error or traps the guest. The first live rule that matches wins; a rule that
//! has used up its `FaultTimes` stays in the list (so `fired` can be read) but no
//! longer matches.

use std::sync::Mutex;

use super::bindings::sqlite::Error as SqliteError;

/// Which call a rule applies to.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultWhen {
    /// The n-th statement (1-based) of a request.
    Nth(usize),
    /// A statement whose SQL contains this text (ASCII case-insensitive).
    Matches(String),
    /// `Connection::open`.
    Open,
}

/// What an injected fault does.
#[derive(Debug, Clone)]
pub enum FaultAction {
    /// Return this error to the guest. `Io` texts are wrapped like real errors in
    /// libSQL mode.
    Fail(SqliteError),
    /// Trap: the host function returns an error, the instance dies mid-request and its
    /// connections are closed (SQLite rolls back an open transaction).
    Trap,
}

/// How many times a rule fires before it goes quiet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultTimes {
    Once,
    Times(u32),
    Always,
}

#[derive(Debug)]
struct Rule {
    when: FaultWhen,
    action: FaultAction,
    /// `None` = unlimited.
    remaining: Option<u32>,
    fired: u32,
}

/// The fault rules of one host. All methods take `&self` and are thread-safe.
#[derive(Debug, Default)]
pub struct Faults {
    rules: Mutex<Vec<Rule>>,
}

/// A fault that fired: what to do and a description for the trap message / stats.
#[derive(Debug, Clone)]
pub(crate) struct Fired {
    pub action: FaultAction,
    pub rule: String,
}

/// Shorthand for the `io(text)` error that carries SQLite's message.
pub fn io(text: impl Into<String>) -> SqliteError {
    SqliteError::Io(text.into())
}

/// The transient failures of Spin's libSQL backend, as the component receives them:
/// `io(text)`, the text being the `libsql` client's error (`Hrana: …`) as Spin passes it
/// on (`Error::Io(e.to_string())` in Spin's `sqlite-libsql`). Inject them as they are:
/// the host does not wrap a text that is already in this envelope.
///
/// Sources: the client's envelope and transport texts (`libsql/src/errors.rs`,
/// `libsql/src/hrana/mod.rs`, hyper's connector); the server's texts (sqld,
/// `libsql-server/src/hrana/stmt.rs`, `hrana/http/stream.rs`, `hrana/mod.rs`,
/// `src/error.rs`). The first and the interrupt were seen on a real Spin 4.0.2 + sqld
/// 0.24.33; the others are built from those sources.
pub mod libsql {
    /// The server is down or restarting (seen for real).
    pub const CONNECT_REFUSED: &str = "Hrana: `http error: `error trying to connect: tcp connect error: Connection refused (os error 111)``";
    /// The server's name does not resolve.
    pub const DNS: &str = "Hrana: `http error: `error trying to connect: dns error: failed to lookup address information: Name or service not known``";
    /// The server dropped the connection mid-request.
    pub const CLOSED: &str = "Hrana: `http error: `connection closed before message completed``";
    /// The connection was reset.
    pub const RESET: &str =
        "Hrana: `http error: `connection error: Connection reset by peer (os error 104)``";
    /// The server interrupted the statement (seen for real, two Spin replicas on one sqld).
    pub const INTERRUPTED: &str = "Hrana: `cursor error: `error at step 0: (error code: SQLITE_INTERRUPT) `SQLite error: interrupted```";
    /// The server rolled back a transaction that held the write lock too long.
    pub const TRANSACTION_TIMEOUT: &str = "Hrana: `cursor error: `error at step 0: (error code: TRANSACTION_TIMEOUT) `Transaction timed out```";
    /// The server forgot the stream after 10 s without a request.
    pub const STREAM_EXPIRED: &str = "Hrana: `api error: `{\"message\":\"The stream has expired due to inactivity\",\"code\":\"STREAM_EXPIRED\"}``";
    /// The server does not know the stream (it restarted).
    pub const INVALID_BATON: &str = "Hrana: `api error: `Received an invalid baton``";
    /// The server is overloaded.
    pub const OVERLOADED: &str =
        "Hrana: `api error: `{\"error\":\"Internal Error: `Too many concurrent requests`\"}``";
    /// The server is shutting down.
    pub const SHUTTING_DOWN: &str = "Hrana: `api error: `Namespace store has shutdown``";

    /// Every text above, named.
    pub const ALL: [(&str, &str); 10] = [
        ("connect refused", CONNECT_REFUSED),
        ("dns", DNS),
        ("closed", CLOSED),
        ("reset", RESET),
        ("interrupted", INTERRUPTED),
        ("transaction timeout", TRANSACTION_TIMEOUT),
        ("stream expired", STREAM_EXPIRED),
        ("invalid baton", INVALID_BATON),
        ("overloaded", OVERLOADED),
        ("shutting down", SHUTTING_DOWN),
    ];
}

/// SQLite's own message texts, for use with [`io`].
pub mod messages {
    pub const LOCKED: &str = "database is locked";
    pub const DISK_IO: &str = "disk I/O error";
    pub const FULL: &str = "database or disk is full";
    pub const FOREIGN_KEY: &str = "FOREIGN KEY constraint failed";
}

impl Faults {
    /// Add a rule.
    pub fn add(&self, when: FaultWhen, action: FaultAction, times: FaultTimes) {
        let remaining = match times {
            FaultTimes::Once => Some(1),
            FaultTimes::Times(n) => Some(n),
            FaultTimes::Always => None,
        };
        self.lock().push(Rule {
            when,
            action,
            remaining,
            fired: 0,
        });
    }

    /// The n-th statement (1-based, counted per request) of the next request that
    /// reaches it fails once with `error`.
    pub fn fail_nth(&self, n: usize, error: SqliteError) {
        self.add(
            FaultWhen::Nth(n),
            FaultAction::Fail(error),
            FaultTimes::Once,
        );
    }

    /// Statements containing `pattern` (case-insensitive) fail with `error`.
    pub fn fail_matching(&self, pattern: &str, error: SqliteError, times: FaultTimes) {
        self.add(
            FaultWhen::Matches(pattern.to_string()),
            FaultAction::Fail(error),
            times,
        );
    }

    /// Statements containing `pattern` (case-insensitive) trap the guest.
    pub fn trap_matching(&self, pattern: &str, times: FaultTimes) {
        self.add(
            FaultWhen::Matches(pattern.to_string()),
            FaultAction::Trap,
            times,
        );
    }

    /// The n-th statement (1-based, counted per request) traps the guest, once.
    pub fn trap_nth(&self, n: usize) {
        self.add(FaultWhen::Nth(n), FaultAction::Trap, FaultTimes::Once);
    }

    /// `Connection::open` fails with `error`.
    pub fn fail_open(&self, error: SqliteError, times: FaultTimes) {
        self.add(FaultWhen::Open, FaultAction::Fail(error), times);
    }

    /// Remove every rule.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// How many faults have fired in total, over all rules.
    pub fn fired(&self) -> u32 {
        self.lock().iter().map(|r| r.fired).sum()
    }

    /// How many rules can still fire.
    pub fn pending(&self) -> usize {
        self.lock()
            .iter()
            .filter(|r| r.remaining != Some(0))
            .count()
    }

    /// Called by the host before running statement number `nth` of a request.
    pub(crate) fn check_statement(&self, nth: usize, sql: &str) -> Option<Fired> {
        self.fire(|when| match when {
            FaultWhen::Nth(n) => *n == nth,
            FaultWhen::Matches(pattern) => contains_ignore_ascii_case(sql, pattern),
            FaultWhen::Open => false,
        })
    }

    /// Called by the host before opening a connection.
    pub(crate) fn check_open(&self) -> Option<Fired> {
        self.fire(|when| *when == FaultWhen::Open)
    }

    fn fire(&self, applies: impl Fn(&FaultWhen) -> bool) -> Option<Fired> {
        let mut rules = self.lock();
        let rule = rules
            .iter_mut()
            .find(|r| r.remaining != Some(0) && applies(&r.when))?;
        if let Some(left) = rule.remaining.as_mut() {
            *left -= 1;
        }
        rule.fired += 1;
        Some(Fired {
            action: rule.action.clone(),
            rule: format!("{:?} -> {:?}", rule.when, rule.action),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Rule>> {
        // A test that panicked while holding the lock cannot leave the rules half
        // updated (every update is a single field write), so poison is ignored.
        self.rules.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn contains_ignore_ascii_case(haystack: &str, needle: &str) -> bool {
    haystack
        .to_ascii_lowercase()
        .contains(&needle.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nth_counts_per_request_and_rules_run_out() {
        let faults = Faults::default();
        faults.fail_nth(2, io(messages::LOCKED));
        faults.trap_matching("commit", FaultTimes::Always);
        faults.fail_open(SqliteError::AccessDenied, FaultTimes::Times(2));

        assert!(faults.check_statement(1, "BEGIN IMMEDIATE").is_none());
        let fired = faults
            .check_statement(2, "INSERT INTO t VALUES (1)")
            .expect("the 2nd statement fails");
        assert!(
            matches!(fired.action, FaultAction::Fail(SqliteError::Io(ref m)) if m == messages::LOCKED)
        );
        // `Once`: the next request's 2nd statement runs normally.
        assert!(faults
            .check_statement(2, "INSERT INTO t VALUES (2)")
            .is_none());
        for _ in 0..3 {
            let fired = faults.check_statement(9, "Commit").expect("always traps");
            assert!(matches!(fired.action, FaultAction::Trap));
        }
        assert!(faults.check_open().is_some());
        assert!(faults.check_open().is_some());
        assert!(faults.check_open().is_none());
        assert_eq!(faults.fired(), 6);
        assert_eq!(faults.pending(), 1);
        faults.clear();
        assert_eq!(faults.pending(), 0);

        faults.add(
            FaultWhen::Matches("INSERT INTO favorites".into()),
            FaultAction::Trap,
            FaultTimes::Once,
        );
        assert!(faults
            .check_statement(1, "insert into favorites (a) values (?)")
            .is_some());
    }
}
