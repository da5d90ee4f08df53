//! The statement budget: each route runs exactly the statements `docs/database.md`'s cost table
//! lists. Every read is one statement that carries the schema version as its first
//! column; every change that one statement can say is one statement; the rest is one
//! `BEGIN IMMEDIATE … COMMIT` with the fewest statements inside. Nothing else: no
//! separate schema check, no `PRAGMA` per request, no statement re-run.

use crate::helpers::{store_tests, TestApp};
use crate::host::{HostResponse, StoreMode};

/// Asserts the request's statements start with these prefixes, one for one.
#[track_caller]
fn assert_statements(response: &HostResponse, expected: &[&str]) {
    let sql = response.stats.sql();
    assert_eq!(sql.len(), expected.len(), "{sql:#?}");
    for (statement, prefix) in sql.iter().zip(expected) {
        let flat = statement.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            flat.starts_with(prefix),
            "`{flat}` should start with `{prefix}`"
        );
    }
    assert!(response.stats.opens <= 1, "one connection per request");
}

/// The sync setting every request that writes sends once, before its first write, on
/// the local store (on libSQL, deployed with `POKEFAVS_DB_SYNCHRONOUS=server`, none).
const SYNC: &str = "PRAGMA synchronous = NORMAL";

/// `expected` with [`SYNC`] before its first statement that is not a read.
fn with_sync_setting(mode: StoreMode, mut expected: Vec<&str>) -> Vec<&str> {
    let write = expected
        .iter()
        .position(|s| !s.starts_with(READ) && !s.starts_with("PRAGMA user_version"));
    if let (StoreMode::Local, Some(at)) = (mode, write) {
        expected.insert(at, SYNC);
    }
    expected
}

/// How every read starts: the schema version is its first column (`db::read!`).
const READ: &str = "SELECT (SELECT user_version FROM pragma_user_version) AS schema_version,";

/// A read whose columns after the version start with `rest`.
fn read(rest: &str) -> String {
    format!("{READ} {rest}")
}

store_tests!(
    every_route_runs_only_its_own_statements,
    a_write_that_fails_its_check_explains_itself_with_one_read,
    a_keyed_write_costs_what_the_unkeyed_one_does_and_a_replay_one_read_more
);

fn every_route_runs_only_its_own_statements(app: TestApp) {
    let ash = app.user("ash");
    let misty = app.user("misty");
    let base = format!("/api/users/{}", ash.id);
    let profile = read("u.id AS id, u.username AS username, u.created_at AS created_at");
    let live =
        "(EXISTS (SELECT 1 FROM users WHERE id = ?1) AND coalesce((SELECT version FROM sessions";
    let exists = read(live);
    // The list's version (newest favorite, epoch) rides along with the page.
    let page = read("u.id AS user, (SELECT max(id) FROM favorites WHERE user_id = ?1) AS last,");
    let search = read("id, name FROM pokemon");
    let pokemon = read("p.id AS id, p.name AS name FROM (SELECT 1) LEFT JOIN pokemon p");
    let login = read("u.id AS id, coalesce(s.version, 0) AS version, u.password_hash");
    let password = read("u.username AS username, u.password_hash");
    let taken = read("EXISTS (SELECT 1 FROM users WHERE username = ?1");
    let replace_check = read(live);
    let remove_check = read(live);
    // Logins, password changes and registrations count their attempt first, in one
    // statement; an attempt that started a window then removes the ended ones (one
    // statement); a success gives its attempt back (one statement).
    let count = "INSERT INTO login_failures";
    let remove_ended = "DELETE FROM login_failures WHERE window_ends <= unixepoch()";
    let forgive = "UPDATE login_failures";
    let brock = app.user("brock");
    let cases: Vec<(HostResponse, Vec<&str>, usize)> = vec![
        (app.get("/health/live", None), vec![], 0),
        // The jwt_secret, the token lifetime, the four limits and the trusted proxies.
        (app.get("/health", None), vec!["PRAGMA user_version"], 7),
        // The registration limit, its window and the trusted proxies.
        (
            app.register("gary", "eevee-rocks"),
            vec![count, &taken, "INSERT INTO users"],
            3,
        ),
        // The first login since a success starts the name's window anew.
        (
            app.login("ash", "ash-password"),
            vec![count, remove_ended, &login, forgive],
            6,
        ),
        (app.me(&ash.token), vec![&profile], 1),
        (app.get(&base, Some(&ash.token)), vec![&profile], 1),
        (app.add_favorite(&ash, 25), vec!["INSERT INTO favorites"], 1),
        (app.favorites(&ash), vec![&page], 1),
        // 304 is decided from the page read's own version columns.
        (
            app.send_with(
                "GET",
                &format!("{base}/favorites"),
                Some(&ash.token),
                None,
                &[("if-none-match", "*")],
            ),
            vec![&page],
            1,
        ),
        // If-Match is a condition of the insert itself.
        (
            app.send_with(
                "POST",
                &format!("{base}/favorites"),
                Some(&ash.token),
                Some(&serde_json::json!({"pokemon_id": 26})),
                &[("if-match", "*")],
            ),
            vec!["INSERT INTO favorites"],
            1,
        ),
        // The catalog read before the lock; then one statement (a view's trigger empties
        // the list, fills it and bumps the epoch).
        (
            app.replace_favorites(&ash, &[1, 4]),
            vec![&replace_check, "INSERT INTO favorite_list_replacements"],
            1,
        ),
        // One statement: its trigger bumps the epoch that makes the version new.
        (
            app.remove_favorite(&ash, 4),
            vec!["DELETE FROM favorites"],
            1,
        ),
        // Nothing deleted: one read tells "not a favorite" (404) from "user gone" (401)
        // and from a stale If-Match (412).
        (
            app.remove_favorite(&ash, 4),
            vec!["DELETE FROM favorites", &remove_check],
            1,
        ),
        (app.get("/api/pokemon?q=char", None), vec![&search], 0),
        // A miss costs no more than a hit: the read still carries the version.
        (app.get("/api/pokemon/1026", None), vec![&pokemon], 0),
        (
            app.login("nobody", "no-password"),
            vec![count, remove_ended, &login],
            6,
        ),
        (
            app.login("ash", "wrong-password"),
            vec![count, remove_ended, &login],
            6,
        ),
        // Inside live windows: nothing to remove.
        (
            app.login("ash", "ash-password"),
            vec![count, &login, forgive],
            6,
        ),
        // A name longer than any username matches no one without a read.
        (
            app.login(&"a".repeat(40), "no-password"),
            vec![count, remove_ended],
            6,
        ),
        (
            app.change_password(&brock, "wrong-password", "new-password"),
            vec![&password, count, remove_ended],
            5,
        ),
        (
            app.change_password(&brock, &brock.password, "new-password"),
            vec![
                &password,
                count,
                forgive,
                "BEGIN IMMEDIATE",
                "UPDATE users",
                "INSERT INTO sessions",
                "COMMIT",
            ],
            7,
        ),
        (app.logout(&ash.token), vec!["INSERT INTO sessions"], 1),
        (app.get("/api/pokemon/25", None), vec![&pokemon], 0),
        (
            app.get(&format!("/api/users/{}", misty.id), Some(&ash.token)),
            vec![&exists],
            1,
        ),
        // One statement: its trigger deletes the user's other rows.
        (app.delete_user(&misty), vec!["DELETE FROM users"], 1),
    ];
    for (response, expected, variable_gets) in cases {
        // Without an Idempotency-Key a request runs the statements it ran before keys
        // existed: none of them touches the keys' table or the keyed writes' views.
        for sql in response.stats.sql() {
            assert!(
                !sql.contains("idempotency") && !sql.contains("keyed_"),
                "a request without a key pays for keys: `{sql}`"
            );
        }
        assert_case(app.mode, &response, expected, variable_gets);
    }
}

/// Asserts one request's statements (with the sync setting where it goes), how many
/// variables it read, and that it fit in the initial memory unless it hashed.
#[track_caller]
fn assert_case(
    mode: StoreMode,
    response: &HostResponse,
    expected: Vec<&str>,
    variable_gets: usize,
) {
    assert!(response.status < 500, "{}", response.text());
    let expected = with_sync_setting(mode, expected);
    assert_statements(response, &expected);
    assert_eq!(response.stats.variable_gets, variable_gets, "{expected:?}");
    // The component's initial memory (build.rs) holds every request but the
    // ones that run Argon2id: registrations, logins and password changes.
    let hashes = expected.iter().any(|s| {
        s.starts_with("INSERT INTO users")
            || s.starts_with("INSERT INTO login_failures")
            || s.contains("password_hash")
    });
    if !hashes {
        assert_eq!(
            response.stats.memory_grows, 0,
            "{expected:?} grew the memory"
        );
    }
}

fn a_write_that_fails_its_check_explains_itself_with_one_read(app: TestApp) {
    let ash = app.user("ash");
    assert_eq!(app.add_favorite(&ash, 25).status, 201);
    let add_check = read("(EXISTS (SELECT 1 FROM users WHERE id = ?1) AND coalesce(");
    // A duplicate is refused by the insert's own UNIQUE constraint: no read.
    let duplicate = app.add_favorite(&ash, 25);
    assert_eq!(duplicate.status, 409);
    assert_statements(
        &duplicate,
        &with_sync_setting(app.mode, vec!["INSERT INTO favorites"]),
    );
    // A deleted user's token: the insert finds no user, the read says why.
    let gone = app.user("gone");
    assert_eq!(app.delete_user(&gone).status, 204);
    let response = app.add_favorite(&gone, 25);
    assert_eq!(response.status, 401);
    assert_statements(
        &response,
        &with_sync_setting(app.mode, vec!["INSERT INTO favorites", &add_check]),
    );
}

store_tests!(the_host_measures_each_instances_linear_memory);

fn the_host_measures_each_instances_linear_memory(app: TestApp) {
    let live = app.get("/health/live", None);
    assert!(
        live.stats.peak_memory_bytes > 0,
        "the initial memory is counted"
    );
    assert!(
        live.stats.peak_memory_bytes < 8 << 20,
        "{}",
        live.stats.peak_memory_bytes
    );
    app.register("ash", "pikachu-pal");
    let login = app.login("ash", "pikachu-pal");
    // Argon2id with m = 19 MiB needs that much memory inside the instance.
    assert!(
        login.stats.peak_memory_bytes >= 19 << 20,
        "{}",
        login.stats.peak_memory_bytes
    );
    assert!(
        login.stats.memory_grows > 0,
        "growing past the initial memory is counted"
    );
    assert_eq!(live.stats.memory_grows, 0);
    eprintln!(
        "peak linear memory: /health/live {} KiB, login {} KiB",
        live.stats.peak_memory_bytes >> 10,
        login.stats.peak_memory_bytes >> 10
    );
}

/// The keyed writes (issue 24): the change and the key's row are one statement (an
/// INSERT into a view of schema step 5, whose trigger writes both), so a keyed write
/// runs as many statements as the unkeyed one. A replay is that statement, which changes
/// nothing, and one read of the stored answer; a keyed write that changes nothing for
/// another reason (a reused key, no such favorite) is explained by that same read, and a
/// duplicate add is refused by the insert's UNIQUE constraint alone, as without a key.
/// Routes without keys ignore the header: the same statements as without it.
fn a_keyed_write_costs_what_the_unkeyed_one_does_and_a_replay_one_read_more(app: TestApp) {
    let ash = app.user("ash");
    let list = format!("/api/users/{}/favorites", ash.id);
    let keyed = |method: &str, path: &str, body: Option<serde_json::Value>, key: &str| {
        app.send_with(
            method,
            path,
            Some(&ash.token),
            body.as_ref(),
            &[("idempotency-key", key)],
        )
    };
    let add = |id: i64, key: &str| {
        keyed(
            "POST",
            &list,
            Some(serde_json::json!({"pokemon_id": id})),
            key,
        )
    };
    let replace = |ids: &[i64], key: &str| {
        keyed(
            "PUT",
            &list,
            Some(serde_json::json!({"pokemon_ids": ids})),
            key,
        )
    };
    let remove = |id: i64, key: &str| keyed("DELETE", &format!("{list}/{id}"), None, key);
    let live =
        "(EXISTS (SELECT 1 FROM users WHERE id = ?1) AND coalesce((SELECT version FROM sessions";
    let replace_check = read(live);
    let page = read("u.id AS user, (SELECT max(id) FROM favorites WHERE user_id = ?1) AS last,");
    let profile = read("u.id AS id, u.username AS username, u.created_at AS created_at");
    // The three keyed writes are INSERTs into one view (its `change` says which).
    const ADD: &str = "INSERT INTO keyed_favorite_writes";
    const REPLACE: &str = ADD;
    const REMOVE: &str = ADD;
    let cases: Vec<(&str, HostResponse, u16, Vec<&str>)> = vec![
        ("add", add(25, "add-25"), 201, vec![ADD]),
        ("add replayed", add(25, "add-25"), 201, vec![ADD, READ]),
        // A favorite already: refused by the insert's own UNIQUE constraint, no read (as
        // without a key), and not stored.
        ("add of a favorite", add(25, "add-25-again"), 409, vec![ADD]),
        // Not stored: the read that explains a replay explains the refusal.
        (
            "add with a reused key",
            add(26, "add-25"),
            422,
            vec![ADD, READ],
        ),
        (
            "replace",
            replace(&[1, 4], "replace-1-4"),
            200,
            vec![&replace_check, REPLACE],
        ),
        (
            "replace replayed",
            replace(&[1, 4], "replace-1-4"),
            200,
            vec![&replace_check, REPLACE, READ],
        ),
        ("remove", remove(4, "remove-4"), 204, vec![REMOVE]),
        (
            "remove replayed",
            remove(4, "remove-4"),
            204,
            vec![REMOVE, READ],
        ),
        (
            "remove of no favorite",
            remove(4, "remove-4-again"),
            404,
            vec![REMOVE, READ],
        ),
        // Routes without keys ignore the header.
        (
            "list",
            keyed("GET", &list, None, "list-1"),
            200,
            vec![&page],
        ),
        (
            "me",
            keyed("GET", "/api/users/me", None, "me-1"),
            200,
            vec![&profile],
        ),
    ];
    for (name, response, status, expected) in cases {
        assert_eq!(response.status, status, "{name}: {}", response.text());
        let replayed = response.header("idempotent-replayed") == Some("true");
        assert_eq!(replayed, name.ends_with("replayed"), "{name}");
        assert_case(app.mode, &response, expected, 1);
    }
}
