//! The libSQL store's own failures: every transient failure of the server or of the
//! way to it (the texts of `host::libsql`) at every statement of every data route, the
//! server gone for a whole request, a failure at open, what `/health` says of each, and
//! writers running while the server comes and goes.

use super::inject::run_with_fault;
use super::routes::data_routes;
use crate::helpers::{assert_json, assert_problem, TestApp, TestUser};
use crate::host::{io, libsql, FaultTimes, StoreMode};
use std::cell::Cell;

/// A libSQL-mode app with two users, the first holding a list of three.
fn libsql_app() -> (TestApp, TestUser, TestUser) {
    let app = TestApp::new(StoreMode::Libsql);
    let ash = app.user("ash");
    let misty = app.user("misty");
    assert_eq!(app.replace_favorites(&ash, &[1, 2, 3]).status, 200);
    (app, ash, misty)
}

#[test]
fn every_transient_libsql_failure_at_every_statement_of_every_data_route_is_503() {
    let (app, ash, misty) = libsql_app();
    let counter = Cell::new(0);
    let mut injected = 0;
    for route in data_routes(&app, &ash, &misty, &counter) {
        let subject = (route.prepare)();
        let probe = (route.call)(subject.as_ref());
        assert_eq!(probe.status, route.ok, "{}: {}", route.name, probe.text());
        let statements: Vec<String> = probe.stats.sql().iter().map(|s| s.to_string()).collect();
        for (index, sql) in statements.iter().enumerate() {
            for (kind, _) in libsql::ALL {
                run_with_fault(&app, &route, index + 1, sql, kind);
                injected += 1;
            }
        }
    }
    eprintln!("transient libSQL failures injected: {injected}");
    assert!(injected >= 150, "only {injected} faults were injected");
}

#[test]
fn a_libsql_server_gone_for_a_whole_request_is_503_and_back_for_the_next() {
    let (app, ash, misty) = libsql_app();
    let counter = Cell::new(0);
    for route in data_routes(&app, &ash, &misty, &counter) {
        let subject = (route.prepare)();
        let before = app.dump();
        // Every call of the request fails, as when the server is down.
        app.host
            .faults()
            .fail_matching("", io(libsql::CONNECT_REFUSED), FaultTimes::Always);
        let down = (route.call)(subject.as_ref());
        let health = app.get("/health", None);
        app.host.faults().clear();
        assert_problem(&down, 503, "database_unavailable");
        assert_eq!(down.header("retry-after"), Some("1"), "{}", route.name);
        assert_eq!(app.dump(), before, "{}: the database changed", route.name);
        let body = assert_json(&health, 503);
        assert_eq!(body["database"]["error"], "database server is unreachable");
        let back = (route.call)(subject.as_ref());
        assert_eq!(back.status, route.ok, "{}: {}", route.name, back.text());
    }
}

#[test]
fn a_libsql_failure_at_open_is_503_too() {
    // Spin's `open` does not contact the server, but a host that did would say so here.
    let app = TestApp::new(StoreMode::Libsql);
    let ash = app.user("ash");
    for (_, text) in libsql::ALL {
        app.host.faults().fail_open(io(text), FaultTimes::Once);
        let response = app.favorites(&ash);
        assert_problem(&response, 503, "database_unavailable");
        assert_eq!(response.header("retry-after"), Some("1"), "{text}");
    }
    assert_eq!(app.favorites(&ash).status, 200);
}

#[test]
fn health_tells_an_unreachable_server_from_a_busy_one_from_a_lock() {
    let app = TestApp::new(StoreMode::Libsql);
    assert_eq!(app.get("/health", None).status, 200);
    for (text, reason) in [
        (libsql::CONNECT_REFUSED, "database server is unreachable"),
        (libsql::INTERRUPTED, "database server dropped the request"),
        ("database is locked", "database is locked"),
    ] {
        app.host
            .faults()
            .fail_matching("", io(text), FaultTimes::Once);
        let body = assert_json(&app.get("/health", None), 503);
        assert_eq!(body["database"]["error"], reason, "{text}");
        assert!(!body.to_string().contains("Hrana"), "{body}");
    }
}

#[test]
fn writers_through_a_libsql_server_that_comes_and_goes_lose_nothing_acknowledged() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let app = TestApp::new(StoreMode::Libsql);
    let writers: Vec<TestUser> = (0..4).map(|i| app.user(&format!("writer{i}"))).collect();
    let done = AtomicBool::new(false);
    let (app, done) = (&app, &done);
    let outages = std::thread::scope(|scope| {
        let toggler = scope.spawn(move || {
            let mut outages = 0;
            // Bounded, so that a writer that panics (and never says it is done) cannot
            // keep the test waiting: at most ≈ 30 s of outages.
            for round in 0..1000 {
                if done.load(Ordering::Relaxed) {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(15));
                let (_, text) = libsql::ALL[round % libsql::ALL.len()];
                app.host
                    .faults()
                    .fail_matching("", io(text), FaultTimes::Always);
                outages += 1;
                std::thread::sleep(std::time::Duration::from_millis(15));
                app.host.faults().clear();
            }
            outages
        });
        let handles: Vec<_> = writers
            .iter()
            .enumerate()
            .map(|(w, user)| {
                scope.spawn(move || {
                    // The model: what the client was told its list is.
                    let mut model: Vec<i64> = Vec::new();
                    let mut unavailable = 0;
                    for round in 0..6_i64 {
                        let base = 1 + w as i64 * 200 + round * 30;
                        let list = [base, base + 1, base + 2];
                        // Replace the list (retried until answered; a retry is safe).
                        loop {
                            let r = app.replace_favorites(user, &list);
                            match r.status {
                                200 => break,
                                503 => unavailable += 1,
                                s => panic!("replace: {s} {}", r.text()),
                            }
                        }
                        model = list.to_vec();
                        for id in base + 3..base + 8 {
                            loop {
                                let r = app.add_favorite(user, id);
                                match r.status {
                                    // 409: an earlier try that was answered 503 had
                                    // not written, so this cannot happen here.
                                    201 => break,
                                    503 => unavailable += 1,
                                    s => panic!("add: {s} {}", r.text()),
                                }
                            }
                            model.push(id);
                        }
                    }
                    (model, unavailable)
                })
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        done.store(true, Ordering::Relaxed);
        let outages = toggler.join().unwrap();
        for ((model, _), user) in results.iter().zip(&writers) {
            assert_eq!(&app.favorite_ids_in_db(user.id), model, "{}", user.username);
        }
        let unavailable: usize = results.iter().map(|(_, u)| u).sum();
        eprintln!("outages: {outages}; 503s answered and retried: {unavailable}");
        assert!(unavailable > 0, "the outages reached the writers");
        outages
    });
    assert!(outages >= 3, "the server went away only {outages} times");
    assert_eq!(
        app.query_ints(
            "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check != 'ok' AND ?1 = ?1",
            0
        ),
        [0]
    );
}
