//! One fault injected into one statement of one route's call, and what must follow:
//! the right problem (or a trap), no leak of the SQL or the cause, the database as it
//! was, and the next call succeeding.

use super::routes::WriteRoute;
use crate::helpers::{assert_problem, without_counters, TestApp};
use crate::host::{io, libsql, FaultAction, FaultTimes, FaultWhen};

/// The status a failed statement should give, by the error's kind and what failed.
fn expected_status(route: &str, sql: &str, kind: &str) -> (u16, &'static str) {
    match kind {
        "busy" | "full" | "io" => (503, "database_unavailable"),
        kind if transient_text(kind).is_some() => (503, "database_unavailable"),
        "unique" if route == "register" && sql.starts_with("INSERT INTO users") => {
            (409, "username_taken")
        }
        "unique"
            if route.starts_with("add favorite") && sql.starts_with("INSERT INTO favorites") =>
        {
            (409, "favorite_exists")
        }
        // A keyed add is the same insert, through step 5's view: not stored, so retried
        // afresh.
        "unique"
            if route.starts_with("keyed add favorite")
                && sql.starts_with("INSERT INTO keyed_favorite_writes") =>
        {
            (409, "favorite_exists")
        }
        _ => (500, "internal"),
    }
}

/// The libSQL text a kind names, if it is one of `host::libsql`.
fn transient_text(kind: &str) -> Option<&'static str> {
    libsql::ALL
        .iter()
        .find(|(name, _)| *name == kind)
        .map(|(_, text)| *text)
}

fn error_for(kind: &str, sql: &str) -> crate::host::SqliteError {
    if let Some(text) = transient_text(kind) {
        return io(text);
    }
    match kind {
        "busy" => io("database is locked"),
        "full" => io("database or disk is full"),
        "io" => io("disk I/O error"),
        _ if sql.contains("users") => io("UNIQUE constraint failed: users.username"),
        _ => io("UNIQUE constraint failed: favorites.user_id, favorites.pokemon_id"),
    }
}

/// Runs `route` once with a fault on statement `position`, and checks the outcome.
pub(super) fn run_with_fault(
    app: &TestApp,
    route: &WriteRoute,
    position: usize,
    sql: &str,
    kind: &str,
) {
    let what = format!("{} / statement {position} `{sql}` / {kind}", route.name);
    let action = match kind {
        "trap" => FaultAction::Trap,
        kind => FaultAction::Fail(error_for(kind, sql)),
    };
    let subject = (route.prepare)();
    let before = app.dump();
    app.host
        .faults()
        .add(FaultWhen::Nth(position), action, FaultTimes::Once);
    let response = (route.call)(subject.as_ref());
    app.host.faults().clear();
    assert_eq!(
        response.stats.sql().get(position - 1).copied(),
        Some(sql),
        "{what}"
    );
    if kind == "trap" {
        assert!(response.trap.is_some(), "{what}: expected a trap");
        assert_eq!(response.status, 500, "{what}");
    } else {
        let (status, code) = expected_status(route.name, sql, kind);
        let body = assert_problem(&response, status, code);
        assert!(!body.to_string().contains(sql), "{what}: SQL leaked");
        if let Some(text) = transient_text(kind) {
            assert_eq!(response.header("retry-after"), Some("1"), "{what}");
            assert!(
                !body.to_string().contains("Hrana"),
                "{what}: the cause leaked"
            );
            let line = response.stderr.lines().last().unwrap_or_default();
            let logged: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
            assert_eq!(
                logged["error"], text,
                "{what}: the log line carries the cause"
            );
        }
    }
    // An attempt counted before the failure stays counted (contract v3: every guess is
    // counted before it is checked): past the counting statement only the counters may
    // have changed.
    let counted = response.stats.sql()[..position - 1]
        .iter()
        .any(|s| s.starts_with("INSERT INTO login_failures"));
    if counted {
        assert_eq!(
            without_counters(&app.dump()),
            without_counters(&before),
            "{what}: the database changed"
        );
    } else {
        assert_eq!(app.dump(), before, "{what}: the database changed");
    }
    let next = (route.call)(subject.as_ref());
    assert_eq!(
        next.status,
        route.ok,
        "{what}: the next request succeeds: {}",
        next.text()
    );
}
