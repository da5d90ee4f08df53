//! Every write route, every statement position in its transaction (COMMIT included),
//! every kind of failure: the answer is the right problem, the database is unchanged
//! (a full dump before and after), and the next request succeeds. The same with a guest
//! trap at each position. And a store that cannot be opened at all.
//!
//! On the libSQL store, every transient failure of the server or of the way to it (the
//! texts of `host::libsql`) at every statement of every data route, reads included, is
//! 503 with `Retry-After`; the same with the server gone for a whole request and back
//! for the next; and writers running while the server goes away and comes back several
//! times lose nothing they were told was written and leave nothing half-written.
//!
//! The routes swept are in `faults/routes.rs` (with those left out and why: a test here
//! fails when a route of `pokefavs::ROUTES` is in neither), the favorites writes with an
//! `Idempotency-Key` (decided and replayed; a failed one leaves neither the change nor
//! the key, and its retry with the key is decided afresh) in `faults/keyed.rs`, one
//! injected fault and its checks in `faults/inject.rs`, the libSQL tests in
//! `faults/libsql.rs`.

mod inject;
mod keyed;
mod libsql;
mod routes;

use crate::helpers::{assert_json, assert_problem, store_tests, without_counters, TestApp};
use crate::host::{io, FaultTimes, StoreMode};
use crate::route_table::{assert_covered, logged_operation};
use inject::run_with_fault;
use routes::{data_routes, write_routes, NOT_SWEPT};
use std::cell::Cell;
use std::collections::BTreeSet;

store_tests!(
    every_statement_of_every_write_fails_cleanly,
    a_failed_rollback_does_not_hide_the_error_that_caused_it,
    a_store_that_cannot_be_opened_is_503_on_data_routes
);

fn every_statement_of_every_write_fails_cleanly(app: TestApp) {
    let ash = app.user("ash");
    assert_eq!(app.replace_favorites(&ash, &[1, 2, 3]).status, 200);
    let counter = Cell::new(0);
    let mut injected = 0;
    for route in write_routes(&app, &ash, &counter) {
        // Learn the statements of a successful call.
        let subject = (route.prepare)();
        let probe = (route.call)(subject.as_ref());
        assert_eq!(probe.status, route.ok, "{}: {}", route.name, probe.text());
        let statements: Vec<String> = probe.stats.sql().iter().map(|s| s.to_string()).collect();
        for (index, sql) in statements.iter().enumerate() {
            for kind in ["busy", "full", "io", "unique", "trap"] {
                run_with_fault(&app, &route, index + 1, sql, kind);
                injected += 1;
            }
        }
    }
    eprintln!("faults injected: {injected}");
    assert!(injected >= 140, "only {injected} faults were injected");
}

fn a_failed_rollback_does_not_hide_the_error_that_caused_it(app: TestApp) {
    let ash = app.user("ash");
    let before = app.dump();
    let faults = app.host.faults();
    faults.fail_matching(
        "INSERT INTO sessions",
        io("database or disk is full"),
        FaultTimes::Once,
    );
    faults.fail_matching("ROLLBACK", io("disk I/O error"), FaultTimes::Once);
    let response = app.change_password(&ash, &ash.password, "a-new-password");
    assert_problem(&response, 503, "database_unavailable");
    assert!(
        response.stderr.contains("rollback failed"),
        "{}",
        response.stderr
    );
    assert_eq!(
        without_counters(&app.dump()),
        without_counters(&before),
        "the dropped connection rolled back"
    );
    assert_eq!(
        app.change_password(&ash, &ash.password, "a-new-password")
            .status,
        200
    );
}

fn a_store_that_cannot_be_opened_is_503_on_data_routes(app: TestApp) {
    let ash = app.user("ash");
    app.host
        .faults()
        .fail_open(io("unable to open database file"), FaultTimes::Always);
    for response in [
        app.get("/api/pokemon/25", None),
        app.favorites(&ash),
        app.add_favorite(&ash, 1),
        app.login("ash", "ash-password"),
    ] {
        assert_problem(&response, 503, "database_unavailable");
        assert_eq!(response.header("retry-after"), Some("1"));
    }
    assert_eq!(app.get("/health", None).status, 503);
    assert_eq!(app.get("/health/live", None).status, 200);
}

#[test]
fn a_database_label_refused_by_the_manifest_is_503() {
    let app = TestApp::with(StoreMode::Local, |cfg| cfg.sqlite_databases(&[]));
    let response = app.get("/api/pokemon/25", None);
    let body = assert_problem(&response, 503, "database_unavailable");
    assert!(!body.to_string().contains("spin.toml"));
    assert_eq!(app.get("/health/live", None).status, 200);
    assert_eq!(
        assert_json(&app.get("/health", None), 503)["database"]["status"],
        "down"
    );
}

#[test]
fn a_database_file_that_cannot_be_opened_is_503() {
    // A directory where the database file should be: SQLite cannot open it.
    let dir = crate::host::temp_db("unopenable");
    std::fs::create_dir_all(&dir).unwrap();
    let app = TestApp::with(StoreMode::Local, |_| crate::host::HostConfig::new(&dir));
    assert_problem(
        &app.get("/api/pokemon/25", None),
        503,
        "database_unavailable",
    );
    assert_eq!(app.get("/health", None).status, 503);
    assert_eq!(app.get("/health/live", None).status, 200);
}

/// The sweeps run every operation of the route table but those they list as left out:
/// each data route's call, once, says (in its log line) which operation it ran.
#[test]
fn the_fault_sweeps_reach_every_route_of_the_table() {
    let app = TestApp::new(StoreMode::Local);
    let ash = app.user("ash");
    let misty = app.user("misty");
    assert_eq!(app.replace_favorites(&ash, &[1, 2, 3]).status, 200);
    let counter = Cell::new(0);
    let mut reached = BTreeSet::new();
    for route in data_routes(&app, &ash, &misty, &counter) {
        let subject = (route.prepare)();
        let response = (route.call)(subject.as_ref());
        assert_eq!(
            response.status,
            route.ok,
            "{}: {}",
            route.name,
            response.text()
        );
        let op = logged_operation(&response)
            .unwrap_or_else(|| panic!("{}: no operation in the log line", route.name));
        reached.insert(op);
    }
    assert_covered("the fault sweep", &reached, NOT_SWEPT);
}
