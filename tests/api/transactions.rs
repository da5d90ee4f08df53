//! All or nothing, through real routes. The favorites writes and user deletion are one
//! statement each (schema step 4's triggers ride on it): a failure anywhere in it, the
//! triggers' own statements included, undoes all of it. The password change is still a
//! transaction of two statements (`db::Db::write`): a failing statement, a failing
//! `COMMIT` and a guest trap mid-transaction leave nothing of it. Concurrent writers both
//! get through; a lock held too long is a 503 with `Retry-After`.

use crate::helpers::favorite_writes::{add, remove, replace};
use crate::helpers::{assert_json, assert_problem, store_tests, without_counters, TestApp};
use crate::host::{io, FaultTimes, HostResponse, StoreMode};
use std::time::Duration;

store_tests!(
    a_committed_write_is_in_the_file,
    a_failure_inside_a_trigger_undoes_the_whole_statement,
    a_keyed_write_whose_answer_cannot_be_stored_changes_nothing,
    a_failing_statement_rolls_the_whole_transaction_back,
    a_failing_commit_rolls_back_and_says_so,
    a_trap_in_the_middle_of_a_transaction_leaves_no_partial_write,
    two_writers_at_once_both_succeed
);

/// The statements of a request but its sync setting.
fn writes(response: &HostResponse) -> Vec<&str> {
    let mut sql = response.stats.sql();
    sql.retain(|s| !s.starts_with("PRAGMA synchronous"));
    sql
}

fn a_committed_write_is_in_the_file(app: TestApp) {
    let ash = app.user("ash");
    assert_eq!(app.add_favorite(&ash, 25).status, 201);
    // One statement, atomic by itself: no transaction around it.
    let add = app.add_favorite(&ash, 4);
    assert_eq!(writes(&add).len(), 1, "{:?}", add.stats.sql());
    // A replacement: the catalog read, then one statement.
    let replaced = app.replace_favorites(&ash, &[25, 4, 7]);
    assert_eq!(writes(&replaced).len(), 2, "{:?}", replaced.stats.sql());
    assert_eq!(app.favorite_ids_in_db(ash.id), [25, 4, 7]);
    // Two statements: one explicit transaction.
    let changed = app.change_password(&ash, &ash.password, "a-new-password");
    let sql = writes(&changed).join("\n");
    assert!(
        sql.contains("\nBEGIN IMMEDIATE\n") && sql.ends_with("COMMIT"),
        "{sql}"
    );
    assert_eq!(assert_json(&changed, 200)["token_type"], "Bearer");
}

/// Makes every write that reaches `table` fail inside SQLite, from a trigger of the test's
/// own (a `RAISE` in the middle of a statement, as a full disk would be).
fn fail_writes_to(app: &TestApp, table: &str, event: &str) {
    let conn = rusqlite::Connection::open(app.db_path()).unwrap();
    conn.execute_batch(&format!(
        "CREATE TRIGGER test_fails_{table} BEFORE {event} ON {table}
         BEGIN SELECT RAISE(ABORT, 'injected by the test'); END;"
    ))
    .unwrap();
}

fn stop_failing(app: &TestApp) {
    let conn = rusqlite::Connection::open(app.db_path()).unwrap();
    let triggers: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE name LIKE 'test_fails_%'")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for trigger in triggers {
        conn.execute_batch(&format!("DROP TRIGGER {trigger}"))
            .unwrap();
    }
}

/// A request to make.
type Call<'a> = Box<dyn Fn() -> HostResponse + 'a>;

fn a_failure_inside_a_trigger_undoes_the_whole_statement(app: TestApp) {
    let ash = app.user("ash");
    let misty = app.user("misty");
    assert_eq!(app.replace_favorites(&ash, &[1, 2, 3]).status, 200);
    assert_eq!(app.replace_favorites(&misty, &[4]).status, 200);
    // Each write's last trigger statement fails: its earlier effects must go too.
    let cases: [(&str, &str, Call); 3] = [
        // A replacement's trigger deletes and inserts favorites, then bumps the epoch.
        (
            "favorite_lists",
            "UPDATE",
            Box::new(|| app.replace_favorites(&ash, &[7, 8])),
        ),
        // A remove's trigger bumps the epoch before the row goes.
        (
            "favorite_lists",
            "UPDATE",
            Box::new(|| app.remove_favorite(&ash, 8)),
        ),
        // A user's deletion takes their favorites and session row, then the epoch.
        (
            "favorite_lists",
            "DELETE",
            Box::new(|| app.delete_user(&misty)),
        ),
    ];
    for (table, event, call) in cases {
        let before = app.dump();
        fail_writes_to(&app, table, event);
        let failed = call();
        assert_problem(&failed, 500, "internal");
        stop_failing(&app);
        assert_eq!(app.dump(), before, "nothing of the statement is left");
        assert!(call().status < 300, "the same write then succeeds");
    }
    assert_eq!(app.favorite_ids_in_db(ash.id), [7]);
    assert_eq!(app.favorite_ids_in_db(misty.id), Vec::<i64>::new());
}

fn a_keyed_write_whose_answer_cannot_be_stored_changes_nothing(app: TestApp) {
    let ash = app.user("ash");
    assert_eq!(app.replace_favorites(&ash, &[1, 2, 3]).status, 200);
    let key = [("idempotency-key", "key-1")];
    // The answer is stored last, by the keyed view's trigger: its failure must undo the
    // change made before it.
    let cases: [Call; 3] = [
        Box::new(|| add(&app, &ash, 25, &key)),
        Box::new(|| remove(&app, &ash, 2, &key)),
        Box::new(|| replace(&app, &ash, &[7, 8], &key)),
    ];
    for call in cases {
        let before = app.dump();
        fail_writes_to(&app, "idempotency_keys", "INSERT");
        assert_problem(&call(), 500, "internal");
        stop_failing(&app);
        assert_eq!(app.dump(), before, "neither the change nor the key is left");
        // The key was not spent: the same request is decided now, then replayed.
        let decided = call();
        assert!(decided.status < 300, "{}", decided.status);
        assert_eq!(decided.header("idempotent-replayed"), None);
        let replayed = call();
        assert_eq!(replayed.header("idempotent-replayed"), Some("true"));
        assert_eq!(replayed.body, decided.body);
        // Another key for the next case (the key is per request).
        let conn = rusqlite::Connection::open(app.db_path()).unwrap();
        conn.execute("DELETE FROM idempotency_keys", []).unwrap();
    }
    assert_eq!(app.favorite_ids_in_db(ash.id), [7, 8]);
    // A user's deletion takes their keys in the same statement: a failure there keeps
    // the user, the favorites and the keys.
    assert_eq!(add(&app, &ash, 25, &key).status, 201);
    let before = app.dump();
    fail_writes_to(&app, "idempotency_keys", "DELETE");
    assert_problem(&app.delete_user(&ash), 500, "internal");
    stop_failing(&app);
    assert_eq!(app.dump(), before, "nothing of the deletion is left");
    assert_eq!(app.delete_user(&ash).status, 204);
    let conn = rusqlite::Connection::open(app.db_path()).unwrap();
    let keys: i64 = conn
        .query_row("SELECT count(*) FROM idempotency_keys", [], |row| {
            row.get(0)
        })
        .unwrap();
    assert_eq!(keys, 0, "the user's keys went with them");
}

fn a_failing_statement_rolls_the_whole_transaction_back(app: TestApp) {
    let ash = app.user("ash");
    let before = app.dump();
    // The password is updated, then the session bump fails.
    app.host.faults().fail_matching(
        "INSERT INTO sessions",
        io("database or disk is full"),
        FaultTimes::Once,
    );
    let response = app.change_password(&ash, &ash.password, "a-new-password");
    assert_problem(&response, 503, "database_unavailable");
    assert!(response.header("retry-after").is_some());
    let sql = response.stats.sql();
    assert!(sql.iter().any(|s| s.starts_with("UPDATE users")), "{sql:?}");
    assert_eq!(sql.last(), Some(&"ROLLBACK"), "{sql:?}");
    // The attempt was counted before the check (and forgiven): only counters moved.
    assert_eq!(
        without_counters(&app.dump()),
        without_counters(&before),
        "nothing of the failed change is left"
    );
    assert_eq!(app.me(&ash.token).status, 200, "the old token still works");
    assert_json(
        &app.change_password(&ash, &ash.password, "a-new-password"),
        200,
    );
}

fn a_failing_commit_rolls_back_and_says_so(app: TestApp) {
    let ash = app.user("ash");
    let before = app.dump();
    app.host
        .faults()
        .fail_matching("COMMIT", io("disk I/O error"), FaultTimes::Once);
    let response = app.change_password(&ash, &ash.password, "a-new-password");
    // A failed write of the file is transient: SQLite rolled back, a retry may succeed.
    let body = assert_problem(&response, 503, "database_unavailable");
    assert!(
        !body.to_string().contains("I/O"),
        "no internals in the body: {body}"
    );
    assert_eq!(response.stats.sql().last(), Some(&"ROLLBACK"));
    assert_eq!(without_counters(&app.dump()), without_counters(&before));
}

fn a_trap_in_the_middle_of_a_transaction_leaves_no_partial_write(app: TestApp) {
    let ash = app.user("ash");
    let before = app.dump();
    app.host
        .faults()
        .trap_matching("INSERT INTO sessions", FaultTimes::Once);
    let response = app.change_password(&ash, &ash.password, "a-new-password");
    assert!(response.trap.is_some(), "the guest trapped");
    assert_eq!(response.status, 500);
    assert_eq!(
        without_counters(&app.dump()),
        without_counters(&before),
        "SQLite rolled the open transaction back"
    );
    let after = app.change_password(&ash, &ash.password, "a-new-password");
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
