//! The transaction helper through real routes: a write is all or nothing whether a
//! statement fails, `COMMIT` fails or the guest traps mid-transaction; concurrent
//! writers both get through; a lock held too long is a 503 with `Retry-After`.

use crate::helpers::{assert_json, assert_problem, store_tests, TestApp};
use crate::host::{io, FaultTimes, StoreMode};
use std::time::Duration;

store_tests!(
    a_committed_write_is_in_the_file,
    a_failing_statement_rolls_the_whole_replacement_back,
    a_failing_commit_rolls_back_and_says_so,
    a_trap_in_the_middle_of_a_transaction_leaves_no_partial_write,
    two_writers_at_once_both_succeed
);

fn a_committed_write_is_in_the_file(app: TestApp) {
    let ash = app.user("ash");
    assert_eq!(app.add_favorite(&ash, 25).status, 201);
    // One statement, atomic by itself: no transaction around it.
    let add = app.add_favorite(&ash, 4);
    assert_eq!(add.stats.sql().len(), 1, "{:?}", add.stats.sql());
    // Two statements: one explicit transaction.
    let sql = app
        .replace_favorites(&ash, &[25, 4, 7])
        .stats
        .sql()
        .join("\n");
    assert!(
        sql.contains("\nBEGIN IMMEDIATE\n") && sql.ends_with("COMMIT"),
        "{sql}"
    );
    assert_eq!(app.favorite_ids_in_db(ash.id), [25, 4, 7]);
}

fn a_failing_statement_rolls_the_whole_replacement_back(app: TestApp) {
    let ash = app.user("ash");
    assert_eq!(app.replace_favorites(&ash, &[1, 2, 3]).status, 200);
    let before = app.dump();
    // The DELETE runs, then the INSERT of the new list fails.
    app.host.faults().fail_matching(
        "INSERT INTO favorites",
        io("database or disk is full"),
        FaultTimes::Once,
    );
    let response = app.replace_favorites(&ash, &[7, 8, 9]);
    assert_problem(&response, 503, "database_unavailable");
    assert!(response.header("retry-after").is_some());
    let sql = response.stats.sql();
    assert!(
        sql.iter().any(|s| s.starts_with("DELETE FROM favorites")),
        "{sql:?}"
    );
    assert_eq!(sql.last(), Some(&"ROLLBACK"), "{sql:?}");
    assert_eq!(
        app.dump(),
        before,
        "nothing of the failed replacement is left"
    );
    assert_eq!(
        app.replace_favorites(&ash, &[7, 8, 9]).status,
        200,
        "the next write works"
    );
    assert_eq!(app.favorite_ids_in_db(ash.id), [7, 8, 9]);
}

fn a_failing_commit_rolls_back_and_says_so(app: TestApp) {
    let ash = app.user("ash");
    assert_eq!(app.replace_favorites(&ash, &[1, 2, 3]).status, 200);
    let before = app.dump();
    app.host
        .faults()
        .fail_matching("COMMIT", io("disk I/O error"), FaultTimes::Once);
    let response = app.replace_favorites(&ash, &[4, 5]);
    // A failed write of the file is transient: SQLite rolled back, a retry may succeed.
    let body = assert_problem(&response, 503, "database_unavailable");
    assert!(
        !body.to_string().contains("I/O"),
        "no internals in the body: {body}"
    );
    assert_eq!(response.stats.sql().last(), Some(&"ROLLBACK"));
    assert_eq!(app.dump(), before);
}

fn a_trap_in_the_middle_of_a_transaction_leaves_no_partial_write(app: TestApp) {
    let ash = app.user("ash");
    assert_eq!(app.replace_favorites(&ash, &[1, 2, 3]).status, 200);
    let before = app.dump();
    app.host
        .faults()
        .trap_matching("INSERT INTO favorites", FaultTimes::Once);
    let response = app.replace_favorites(&ash, &[7, 8, 9]);
    assert!(response.trap.is_some(), "the guest trapped");
    assert_eq!(response.status, 500);
    assert_eq!(
        app.dump(),
        before,
        "SQLite rolled the open transaction back"
    );
    let after = app.replace_favorites(&ash, &[7]);
    assert_eq!(
        after.status,
        200,
        "the file is not left locked: {}",
        after.text()
    );
}

fn two_writers_at_once_both_succeed(app: TestApp) {
    let ash = app.user("ash");
    let misty = app.user("misty");
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let a = scope.spawn(|| {
            (1..=20)
                .map(|id| app.add_favorite(&ash, id).status)
                .collect::<Vec<_>>()
        });
        let b = scope.spawn(|| {
            (1..=20)
                .map(|id| app.add_favorite(&misty, id).status)
                .collect::<Vec<_>>()
        });
        let mut all = a.join().unwrap();
        all.extend(b.join().unwrap());
        all
    });
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
    assert_eq!(app.favorite_ids_in_db(ash.id).len(), 20);
    assert_eq!(app.favorite_ids_in_db(misty.id).len(), 20);
}

#[test]
fn a_lock_held_past_the_busy_timeout_is_503_with_retry_after() {
    let app = TestApp::with(StoreMode::Local, |cfg| {
        cfg.busy_timeout(Duration::from_millis(200))
    });
    let ash = app.user("ash");
    let before = app.dump();
    // Another process holds the write lock for longer than the busy timeout.
    let blocker = rusqlite::Connection::open(app.db_path()).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let response = app.add_favorite(&ash, 25);
    assert_problem(&response, 503, "database_unavailable");
    assert_eq!(response.header("retry-after"), Some("1"));
    blocker.execute_batch("ROLLBACK").unwrap();
    assert_eq!(app.dump(), before);
    assert_eq!(
        app.add_favorite(&ash, 25).status,
        201,
        "served again once the lock is gone"
    );
    // Reads are not blocked by a writer in WAL mode.
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    assert_json(&app.favorites(&ash), 200);
    blocker.execute_batch("ROLLBACK").unwrap();
}
