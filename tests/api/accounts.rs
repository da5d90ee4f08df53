//! Accounts v2: revocable sessions (logout, password change, the `ver` claim), login
//! throttling, and `Cache-Control: no-store` on personal answers.

use crate::helpers::{
    assert_json, assert_problem, now, ran_argon2, retry_after, sign_token, store_tests, TestApp,
    TestUser,
};
use crate::host::{HostResponse, StoreMode, TEST_JWT_SECRET};
use serde_json::{json, Value};
use std::time::Duration;

/// A token for user `id` signed with the test secret: valid claims plus `extra`.
fn forged(id: i64, extra: Value) -> String {
    let mut claims = json!({"sub": id.to_string(), "iss": "pokefavs",
                            "iat": now(), "exp": now() + 600});
    for (key, value) in extra.as_object().unwrap() {
        claims[key] = value.clone();
    }
    sign_token(
        TEST_JWT_SECRET.as_bytes(),
        &json!({"alg": "HS256", "typ": "JWT"}),
        &claims,
    )
}

/// The token of a login that must succeed.
fn token_of(response: &HostResponse) -> String {
    let body = assert_json(response, 200);
    body["access_token"].as_str().unwrap().to_string()
}

/// A test app whose login limits are these (username, address, window seconds).
fn limited(mode: StoreMode, per_name: u32, per_address: u32, window: u32) -> TestApp {
    TestApp::with(mode, |cfg| {
        cfg.variable("login_failure_limit", &per_name.to_string())
            .variable("login_address_limit", &per_address.to_string())
            .variable("login_window_seconds", &window.to_string())
    })
}

/// The same test on both stores, for tests that need their own host configuration.
fn both(test: impl Fn(StoreMode)) {
    for mode in [StoreMode::Local, StoreMode::Libsql] {
        test(mode);
    }
}

store_tests!(
    logout_revokes_every_earlier_token,
    a_password_change_revokes_earlier_tokens_and_answers_a_fresh_one,
    a_revoked_token_is_401_even_on_another_users_id,
    a_deleted_and_registered_again_username_does_not_revive_old_tokens,
    a_forged_ver_or_a_ver_of_the_wrong_type_is_401,
    a_token_from_before_sessions_works_until_logout,
    a_new_password_follows_the_rules_and_differs,
    a_wrong_current_password_is_403_and_counts_as_a_failed_login,
    personal_answers_say_no_store_and_public_ones_do_not,
);

fn logout_revokes_every_earlier_token(app: TestApp) {
    let ash = app.user("ash");
    let second = token_of(&app.login("ash", &ash.password));
    assert_eq!(app.me(&second).status, 200);
    let response = app.logout(&ash.token);
    assert_eq!(response.status, 204, "{}", response.text());
    assert!(response.body.is_empty());
    for token in [&ash.token, &second] {
        assert_problem(&app.me(token), 401, "unauthorized");
        let favorites = app.get(&format!("/api/users/{}/favorites", ash.id), Some(token));
        assert_problem(&favorites, 401, "unauthorized");
        assert_problem(&app.logout(token), 401, "unauthorized");
    }
    // Nothing else changed; a new login works.
    let fresh = token_of(&app.login("ash", &ash.password));
    assert_eq!(assert_json(&app.me(&fresh), 200)["username"], "ash");
    assert_eq!(app.logout(&fresh).status, 204);
    assert_problem(&app.me(&fresh), 401, "unauthorized");
}

fn a_password_change_revokes_earlier_tokens_and_answers_a_fresh_one(app: TestApp) {
    let ash = app.user("ash");
    let other = token_of(&app.login("ash", &ash.password));
    assert_eq!(app.add_favorite(&ash, 25).status, 201);
    let response = app.change_password(&ash, &ash.password, "raichu-rules");
    let body = assert_json(&response, 200);
    assert_eq!(body["token_type"], "Bearer");
    let fresh = body["access_token"].as_str().unwrap().to_string();
    for token in [&ash.token, &other] {
        assert_problem(&app.me(token), 401, "unauthorized");
    }
    let me = assert_json(&app.me(&fresh), 200);
    assert_eq!(me["favorites_count"], 1, "the account is the same");
    assert_problem(&app.login("ash", &ash.password), 401, "invalid_credentials");
    token_of(&app.login("ash", "raichu-rules"));
    // The fresh token may change it again; the old one may not.
    let stale = app.change_password(&ash, "raichu-rules", "pichu-power");
    assert_problem(&stale, 401, "unauthorized");
    let renewed = TestUser {
        token: fresh,
        password: "raichu-rules".into(),
        ..ash
    };
    assert_eq!(
        app.change_password(&renewed, "raichu-rules", "pichu-power")
            .status,
        200
    );
}

fn a_revoked_token_is_401_even_on_another_users_id(app: TestApp) {
    let ash = app.user("ash");
    let misty = app.user("misty");
    let other = format!("/api/users/{}", misty.id);
    assert_problem(&app.get(&other, Some(&ash.token)), 403, "forbidden");
    assert_eq!(app.logout(&ash.token).status, 204);
    assert_problem(&app.get(&other, Some(&ash.token)), 401, "unauthorized");
    let password = format!("{other}/password");
    let body = json!({"current_password": "x", "new_password": "long-enough"});
    let response = app.send("PUT", &password, Some(&ash.token), Some(&body));
    assert_problem(&response, 401, "unauthorized");
    // A bad body does not hide a dead token: 401 before 422.
    let own = format!("/api/users/{}/password", ash.id);
    let response = app.send("PUT", &own, Some(&ash.token), Some(&json!({})));
    assert_problem(&response, 401, "unauthorized");
}

fn a_deleted_and_registered_again_username_does_not_revive_old_tokens(app: TestApp) {
    let ash = app.user("ash");
    assert_eq!(app.logout(&ash.token).status, 204);
    let after_logout = token_of(&app.login("ash", &ash.password));
    let first = TestUser {
        token: after_logout.clone(),
        ..ash.clone()
    };
    assert_eq!(app.delete_user(&first).status, 204);
    let again = app.user_with_password("ash", "a-new-beginning");
    assert_ne!(again.id, ash.id, "ids are never reused");
    for token in [&ash.token, &after_logout] {
        assert_problem(&app.me(token), 401, "unauthorized");
        let theirs = format!("/api/users/{}", again.id);
        assert_problem(&app.get(&theirs, Some(token)), 401, "unauthorized");
    }
    assert_eq!(assert_json(&app.me(&again.token), 200)["id"], again.id);
}

fn a_forged_ver_or_a_ver_of_the_wrong_type_is_401(app: TestApp) {
    let ash = app.user("ash");
    assert_eq!(app.me(&forged(ash.id, json!({"ver": 0}))).status, 200);
    for ver in [
        json!(1),
        json!(-1),
        json!("0"),
        json!(0.5),
        json!(null),
        json!(true),
        json!([0]),
        json!({"v": 0}),
    ] {
        let token = forged(ash.id, json!({ "ver": ver }));
        assert_problem(&app.me(&token), 401, "unauthorized");
    }
}

fn a_token_from_before_sessions_works_until_logout(app: TestApp) {
    let ash = app.user("ash");
    let v1 = forged(ash.id, json!({}));
    assert_eq!(assert_json(&app.me(&v1), 200)["username"], "ash");
    assert_eq!(app.logout(&v1).status, 204);
    assert_problem(&app.me(&v1), 401, "unauthorized");
    assert_problem(&app.me(&ash.token), 401, "unauthorized");
}

fn a_new_password_follows_the_rules_and_differs(app: TestApp) {
    let ash = app.user("ash");
    let cases = [
        (
            json!({"current_password": ash.password, "new_password": "short"}),
            "new_password",
        ),
        (
            json!({"current_password": ash.password, "new_password": ash.password}),
            "new_password",
        ),
        (json!({"current_password": ash.password}), "new_password"),
        (json!({"new_password": "long-enough"}), "current_password"),
        (
            json!({"current_password": 7, "new_password": "long-enough"}),
            "current_password",
        ),
    ];
    let path = format!("/api/users/{}/password", ash.id);
    for (body, field) in cases {
        let response = app.send("PUT", &path, Some(&ash.token), Some(&body));
        let problem = assert_problem(&response, 422, "validation_failed");
        assert_eq!(problem["errors"][0]["field"], field, "{body}");
    }
    let response = app.send("PUT", &path, Some(&ash.token), Some(&json!([1])));
    assert_problem(&response, 400, "malformed_json");
    // Nothing changed: the token and the password still work.
    assert_eq!(app.me(&ash.token).status, 200);
    token_of(&app.login("ash", &ash.password));
}

fn a_wrong_current_password_is_403_and_counts_as_a_failed_login(app: TestApp) {
    let ash = app.user("ash");
    let misty = app.user("misty");
    let response = app.change_password(&ash, "not-my-password", "raichu-rules");
    assert_problem(&response, 403, "wrong_password");
    assert_eq!(app.me(&ash.token).status, 200, "the session lives on");
    assert_eq!(
        app.query_ints(
            "SELECT failures FROM login_failures WHERE key = 'user:ash' AND ?1 = ?1",
            0
        ),
        [1]
    );
    // Four more (by login, in another letter case) reach the default limit of 5.
    for _ in 0..4 {
        assert_eq!(app.login("ASH", "wrong-again").status, 401);
    }
    retry_after(&app.login("ash", &ash.password));
    let throttled = app.change_password(&ash, &ash.password, "raichu-rules");
    retry_after(&throttled);
    assert!(
        !ran_argon2(&throttled),
        "a throttled change checks no password"
    );
    // Another user is not affected.
    token_of(&app.login("misty", &misty.password));
}

fn personal_answers_say_no_store_and_public_ones_do_not(app: TestApp) {
    let ash = app.user("ash");
    let responses = [
        app.register("brock", "onix-rocks"),
        app.register("brock", "onix-rocks"),
        app.login("ash", &ash.password),
        app.login("ash", "wrong-password"),
        app.send("GET", "/api/auth/login", None, None),
        app.me(&ash.token),
        app.me("not-a-token"),
        app.get("/api/users/999999", Some(&ash.token)),
        app.get("/api/users/abc", None),
        app.favorites(&ash),
        app.add_favorite(&ash, 99999),
        app.change_password(&ash, "not-it", "long-enough"),
        app.logout(&ash.token),
    ];
    for response in &responses {
        assert_eq!(
            response.header("cache-control"),
            Some("no-store"),
            "{} {}",
            response.status,
            response.text()
        );
    }
    for path in [
        "/api/pokemon/25",
        "/health",
        "/api/openapi.json",
        "/api/nothing",
    ] {
        assert_eq!(app.get(path, None).header("cache-control"), None, "{path}");
    }
}

#[test]
fn past_the_limit_a_login_is_429_without_any_password_work() {
    both(|mode| {
        let app = limited(mode, 3, 100, 60);
        let ash = app.user("ash");
        for _ in 0..3 {
            let failed = app.login("ash", "wrong-password");
            assert_problem(&failed, 401, "invalid_credentials");
            assert!(ran_argon2(&failed), "a real attempt costs Argon2");
        }
        // Even the right password: the window must end first.
        let throttled = app.login("ash", &ash.password);
        let seconds = retry_after(&throttled);
        assert!((1..=60).contains(&seconds), "{seconds}");
        assert!(
            !ran_argon2(&throttled),
            "a throttled login checks no password"
        );
        let sql = throttled.stats.sql();
        let counted: Vec<_> = sql.iter().filter(|s| !s.starts_with("PRAGMA")).collect();
        assert_eq!(counted.len(), 1, "only the count: {sql:?}");
        assert_eq!(throttled.stats.memory_grows, 0);
        // The name, in any letter case; and a name that does not exist is throttled too.
        retry_after(&app.login("ASH", &ash.password));
        for _ in 0..3 {
            assert_eq!(app.login("nobody", "whatever-it-is").status, 401);
        }
        retry_after(&app.login("NoBody", "whatever-it-is"));
        // The session of a throttled user is not touched.
        assert_eq!(app.me(&ash.token).status, 200);
    });
}

#[test]
fn a_success_clears_the_names_failures() {
    both(|mode| {
        let app = limited(mode, 3, 100, 60);
        let ash = app.user("ash");
        for _ in 0..2 {
            assert_eq!(app.login("ash", "wrong-password").status, 401);
        }
        token_of(&app.login("Ash", &ash.password));
        for _ in 0..2 {
            assert_eq!(app.login("ash", "wrong-password").status, 401);
        }
        // Two since the success: still under the limit of 3.
        token_of(&app.login("ash", &ash.password));
    });
}

#[test]
fn the_address_limit_counts_failures_across_usernames() {
    both(|mode| {
        let app = limited(mode, 100, 3, 60);
        let ash = app.user("ash");
        let attacker = "203.0.113.9:40000";
        for name in ["ash", "misty", "brock"] {
            let response = app.login_from(attacker, name, "guess-one-two");
            assert_eq!(response.status, 401);
        }
        // Any name, any port of that host.
        let throttled = app.login_from("203.0.113.9:40001", "gary", "guess-three");
        retry_after(&throttled);
        assert!(!ran_argon2(&throttled));
        // Another address is not affected, nor is the name itself.
        token_of(&app.login_from("198.51.100.7:5000", "ash", &ash.password));
        token_of(&app.login("ash", &ash.password));
    });
}

#[test]
fn an_address_limit_of_0_is_off() {
    let app = limited(StoreMode::Local, 100, 0, 60);
    for i in 0..6 {
        let response = app.login_from("203.0.113.9:40000", &format!("user{i}"), "guess-one");
        assert_eq!(response.status, 401);
    }
    assert_eq!(
        app.query_ints(
            "SELECT count(*) FROM login_failures WHERE key LIKE 'addr:%' AND ?1 = ?1",
            0
        ),
        [0]
    );
}

#[test]
fn retry_after_counts_down_and_the_window_ends() {
    both(|mode| {
        let app = limited(mode, 2, 100, 5);
        let ash = app.user("ash");
        for _ in 0..2 {
            assert_eq!(app.login("ash", "wrong-password").status, 401);
        }
        let first = retry_after(&app.login("ash", &ash.password));
        assert!((1..=5).contains(&first), "{first}");
        std::thread::sleep(Duration::from_millis(1100));
        let later = app.login("ash", &ash.password);
        if later.status == 429 {
            assert!(retry_after(&later) < first, "it counts down");
        }
        std::thread::sleep(Duration::from_secs(5));
        token_of(&app.login("ash", &ash.password));
        // A new window starts with the next failure, at one.
        assert_eq!(app.login("ash", "wrong-password").status, 401);
        token_of(&app.login("ash", &ash.password));
    });
}

#[test]
fn ended_windows_are_removed_by_the_next_attempt_that_starts_one() {
    both(|mode| {
        let app = TestApp::new(mode);
        assert_eq!(app.get("/health", None).status, 200, "migrated");
        // Three windows that ended a while ago and one that is still open, written
        // straight into the file (no waiting on the clock).
        let conn = rusqlite::Connection::open(app.db_path()).unwrap();
        conn.execute_batch(
            "INSERT INTO login_failures (key, failures, window_ends) VALUES
               ('user:old1', 5, unixepoch() - 1),
               ('user:old2', 1, unixepoch() - 100),
               ('addr:192.0.2.1', 9, unixepoch() - 3600),
               ('user:live', 2, unixepoch() + 600)",
        )
        .unwrap();
        drop(conn);
        // An ended window is no failure: old1 is not throttled.
        assert_eq!(app.login("old1", "guess-guess").status, 401);
        let keys = || {
            let conn = rusqlite::Connection::open(app.db_path()).unwrap();
            let mut statement = conn
                .prepare("SELECT key || '=' || failures FROM login_failures ORDER BY key")
                .unwrap();
            statement
                .query_map([], |row| row.get::<_, String>(0))
                .unwrap()
                .collect::<Result<Vec<_>, _>>()
                .unwrap()
        };
        assert_eq!(
            keys(),
            ["addr:127.0.0.1=1", "user:live=2", "user:old1=1"],
            "{mode:?}: the ended windows are gone, old1 starts again at 1"
        );
    });
}

#[test]
fn concurrent_failures_are_all_counted() {
    both(|mode| {
        let app = limited(mode, 1000, 1000, 60);
        app.user("ash");
        let clients = 8;
        std::thread::scope(|scope| {
            for _ in 0..clients {
                scope.spawn(|| {
                    let response = app.login("ash", "wrong-password");
                    assert_eq!(response.status, 401, "{}", response.text());
                });
            }
        });
        let count = |key: &str| {
            app.query_ints(
                &format!("SELECT failures FROM login_failures WHERE key = '{key}' AND ?1 = ?1"),
                0,
            )
        };
        assert_eq!(count("user:ash"), [clients]);
        assert_eq!(count("addr:127.0.0.1"), [clients]);
    });
}

#[test]
fn a_bad_login_limit_is_a_configuration_error() {
    for (name, value) in [
        ("login_failure_limit", "0"),
        ("login_address_limit", "-1"),
        ("login_window_seconds", "soon"),
    ] {
        let app = TestApp::with(StoreMode::Local, |cfg| cfg.variable(name, value));
        app.register("ash", "pikachu-pal");
        let response = app.login("ash", "pikachu-pal");
        assert_problem(&response, 500, "internal");
        assert!(
            !ran_argon2(&response),
            "{name}: no Argon2 before the config is read"
        );
        let health = app.get("/health", None);
        assert_eq!(health.status, 503);
        let problem = health.json()["config"]["error"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(problem.starts_with(name), "{problem}");
        assert!(!problem.contains(value) || value == "0", "{problem}");
    }
}
