//! Every write route, every statement position in its transaction (COMMIT included),
//! every kind of failure: the answer is the right problem, the database is unchanged
//! (a full dump before and after), and the next request succeeds. The same with a guest
//! trap at each position. And a store that cannot be opened at all.

use crate::helpers::{assert_json, assert_problem, store_tests, TestApp, TestUser};
use crate::host::{io, FaultAction, FaultTimes, FaultWhen, HostResponse, StoreMode};
use std::cell::Cell;

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
        "busy" | "full" => (503, "database_unavailable"),
        "unique" if route == "register" && sql.starts_with("INSERT INTO users") => {
            (409, "username_taken")
        }
        "unique" if route == "add favorite" && sql.starts_with("INSERT INTO favorites") => {
            (409, "favorite_exists")
        }
        _ => (500, "internal"),
    }
}

fn error_for(kind: &str, sql: &str) -> crate::host::SqliteError {
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
    let list_of_three = move || {
        assert_eq!(app.replace_favorites(ash, &[1, 2, 3]).status, 200);
        None
    };
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
    ]
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
    }
    assert_eq!(app.dump(), before, "{what}: the database changed");
    let next = (route.call)(subject.as_ref());
    assert_eq!(
        next.status,
        route.ok,
        "{what}: the next request succeeds: {}",
        next.text()
    );
}

store_tests! {
    fn every_statement_of_every_write_fails_cleanly(app) {
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
        assert!(injected >= 60, "only {injected} faults were injected");
    }

    fn a_failed_rollback_does_not_hide_the_error_that_caused_it(app) {
        let ash = app.user("ash");
        assert_eq!(app.replace_favorites(&ash, &[1, 2, 3]).status, 200);
        let before = app.dump();
        let faults = app.host.faults();
        faults.fail_matching("INSERT INTO favorites", io("database or disk is full"), FaultTimes::Once);
        faults.fail_matching("ROLLBACK", io("disk I/O error"), FaultTimes::Once);
        let response = app.replace_favorites(&ash, &[4, 5, 6]);
        assert_problem(&response, 503, "database_unavailable");
        assert!(response.stderr.contains("rollback failed"), "{}", response.stderr);
        assert_eq!(app.dump(), before, "the dropped connection rolled back");
        assert_eq!(app.replace_favorites(&ash, &[4, 5, 6]).status, 200);
    }

    fn a_store_that_cannot_be_opened_is_503_on_data_routes(app) {
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
