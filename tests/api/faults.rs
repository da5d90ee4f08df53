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

use crate::helpers::{
    assert_json, assert_problem, store_tests, without_counters, TestApp, TestUser,
};
use crate::host::{io, libsql, FaultAction, FaultTimes, FaultWhen, HostResponse, StoreMode};
use serde_json::{json, Value};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

type Prepare<'a> = Box<dyn Fn() -> Option<TestUser> + 'a>;
type Call<'a> = Box<dyn Fn(Option<&TestUser>) -> HostResponse + 'a>;

/// A write route under test: how to prepare a call that should succeed, the call, and
/// the status that success is.
struct WriteRoute<'a> {
    name: &'static str,
    ok: u16,
    /// Brings the database to where the call can succeed (may create a user for it).
    prepare: Prepare<'a>,
    call: Call<'a>,
}

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

fn write_routes<'a>(
    app: &'a TestApp,
    ash: &'a TestUser,
    counter: &'a Cell<u32>,
) -> Vec<WriteRoute<'a>> {
    let next_name = move || {
        counter.set(counter.get() + 1);
        format!("user{}", counter.get())
    };
    let fresh_user = move || {
        counter.set(counter.get() + 1);
        Some(app.user(&format!("member{}", counter.get())))
    };
    // The sweep fails hundreds of logins from one address: forget them between calls,
    // or the address limit would turn the call under test into a 429.
    let forget_failures = move || {
        let conn = rusqlite::Connection::open(app.db_path()).expect("open the test database");
        conn.execute("DELETE FROM login_failures", [])
            .expect("forget failed logins");
    };
    let list_of_three = move || {
        assert_eq!(app.replace_favorites(ash, &[1, 2, 3]).status, 200);
        None
    };
    // A conditional write: the list's tag is read while preparing, and sent in If-Match.
    // After a failed call the next one must succeed with the same tag: the failure left
    // the list's version where it was.
    let tag = Rc::new(RefCell::new(String::new()));
    let read_tag = {
        let tag = Rc::clone(&tag);
        move || {
            list_of_three();
            let list = app.favorites(ash);
            *tag.borrow_mut() = list.header("etag").expect("an ETag").to_string();
            None
        }
    };
    let if_match = move |method: &'static str, path: String, body: Option<Value>| {
        let tag = Rc::clone(&tag);
        Box::new(move |_: Option<&TestUser>| {
            let tag = tag.borrow().clone();
            app.send_with(
                method,
                &path,
                Some(&ash.token),
                body.as_ref(),
                &[("if-match", &tag)],
            )
        }) as Call<'a>
    };
    let list_path = format!("/api/users/{}/favorites", ash.id);
    vec![
        WriteRoute {
            name: "register",
            ok: 201,
            prepare: Box::new(|| None),
            call: Box::new(move |_| app.register(&next_name(), "pikachu-pal")),
        },
        WriteRoute {
            name: "add favorite",
            ok: 201,
            prepare: Box::new(list_of_three),
            call: Box::new(move |_| app.add_favorite(ash, 25)),
        },
        WriteRoute {
            name: "replace favorites",
            ok: 200,
            prepare: Box::new(list_of_three),
            call: Box::new(move |_| app.replace_favorites(ash, &[4, 5, 6])),
        },
        WriteRoute {
            name: "remove favorite",
            ok: 204,
            prepare: Box::new(list_of_three),
            call: Box::new(move |_| app.remove_favorite(ash, 2)),
        },
        WriteRoute {
            name: "add favorite if match",
            ok: 201,
            prepare: Box::new(read_tag.clone()),
            call: if_match("POST", list_path.clone(), Some(json!({"pokemon_id": 25}))),
        },
        WriteRoute {
            name: "replace favorites if match",
            ok: 200,
            prepare: Box::new(read_tag.clone()),
            call: if_match(
                "PUT",
                list_path.clone(),
                Some(json!({"pokemon_ids": [4, 5]})),
            ),
        },
        WriteRoute {
            name: "remove favorite if match",
            ok: 204,
            prepare: Box::new(read_tag),
            call: if_match("DELETE", format!("{list_path}/2"), None),
        },
        // A write that changes nothing, then the read that says why (404, not 401).
        WriteRoute {
            name: "remove absent favorite",
            ok: 404,
            prepare: Box::new(list_of_three),
            call: Box::new(move |_| app.remove_favorite(ash, 99)),
        },
        WriteRoute {
            name: "delete user",
            ok: 204,
            // A fresh user with favorites each time, so the cascade has work to do.
            prepare: Box::new(move || {
                counter.set(counter.get() + 1);
                let victim = app.user(&format!("victim{}", counter.get()));
                assert_eq!(app.replace_favorites(&victim, &[7, 8]).status, 200);
                Some(victim)
            }),
            call: Box::new(move |victim| app.delete_user(victim.expect("a victim"))),
        },
        // Sessions: each call needs a live session of its own, so a fresh user.
        WriteRoute {
            name: "logout",
            ok: 204,
            prepare: Box::new(fresh_user),
            call: Box::new(move |user| app.logout(&user.expect("a user").token)),
        },
        WriteRoute {
            name: "change password",
            ok: 200,
            prepare: Box::new(fresh_user),
            call: Box::new(move |user| {
                let user = user.expect("a user");
                app.change_password(user, &user.password, "a-new-password")
            }),
        },
        // A wrong current password is counted as a failed login, before the check.
        WriteRoute {
            name: "wrong password",
            ok: 403,
            prepare: Box::new(move || {
                forget_failures();
                fresh_user()
            }),
            call: Box::new(move |user| {
                app.change_password(user.expect("a user"), "not-the-password", "a-new-password")
            }),
        },
        // A failed login is counted before the check; a name of its own each time keeps
        // every call under the name's limit.
        WriteRoute {
            name: "failed login",
            ok: 401,
            prepare: Box::new(move || {
                forget_failures();
                counter.set(counter.get() + 1);
                Some(TestUser {
                    username: format!("nobody{}", counter.get()),
                    ..ash.clone()
                })
            }),
            call: Box::new(move |who| app.login(&who.expect("a name").username, "a-wrong-guess")),
        },
    ]
}

/// The routes that only read, in the same shape (their `ok` is their success status).
fn read_routes<'a>(
    app: &'a TestApp,
    ash: &'a TestUser,
    misty: &'a TestUser,
) -> Vec<WriteRoute<'a>> {
    let route = |name, ok, call: Call<'a>| WriteRoute {
        name,
        ok,
        prepare: Box::new(|| None),
        call,
    };
    vec![
        route(
            "login",
            200,
            Box::new(move |_| app.login(&ash.username, &ash.password)),
        ),
        route("me", 200, Box::new(move |_| app.me(&ash.token))),
        route("list favorites", 200, Box::new(move |_| app.favorites(ash))),
        route(
            "search",
            200,
            Box::new(move |_| app.get("/api/pokemon?q=char", None)),
        ),
        route(
            "pokemon",
            200,
            Box::new(move |_| app.get("/api/pokemon/25", None)),
        ),
        route(
            "another user",
            403,
            Box::new(move |_| app.get(&format!("/api/users/{}", misty.id), Some(&ash.token))),
        ),
    ]
}

/// Every data route: what `prepare` does makes each call repeatable.
fn data_routes<'a>(
    app: &'a TestApp,
    ash: &'a TestUser,
    misty: &'a TestUser,
    counter: &'a Cell<u32>,
) -> Vec<WriteRoute<'a>> {
    let mut routes = read_routes(app, ash, misty);
    routes.extend(write_routes(app, ash, counter));
    routes
}

/// Runs `route` once with a fault on statement `position`, and checks the outcome.
fn run_with_fault(app: &TestApp, route: &WriteRoute, position: usize, sql: &str, kind: &str) {
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
