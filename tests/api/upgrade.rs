//! Schema upgrades in place: a database written by an earlier schema step, holding
//! users, favorites and their tokens, served by this build; the landed steps of
//! `migrations.sql` never edited; a database newer than this build never written.

use crate::helpers::{assert_json, assert_problem, dump, now, sign_token, store_tests, TestApp};
use crate::host::{HostConfig, HostResponse, StoreMode, TEST_JWT_SECRET};
use pokefavs::db::SCHEMA_VERSION;
use serde_json::json;
use std::path::Path;

fn migrations_sql() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations.sql"))
        .expect("migrations.sql")
}

/// The steps of `migrations.sql`: each ends with its `PRAGMA user_version = N;` (and the
/// `COMMIT;` after it, for a step written as one transaction).
fn steps(script: &str) -> Vec<(i64, String)> {
    let mut steps = Vec::new();
    // Step 1 begins with the file's header; the guard before it is not a step.
    let first = script.find(STEP_1_STARTS).expect("the header of step 1");
    let mut rest = &script[first..];
    // The statement, at the start of a line (the file's header mentions it in a comment).
    while let Some(at) = rest.find("\nPRAGMA user_version = ").map(|at| at + 1) {
        let mut end = at + rest[at..].find(';').expect("a ; after the PRAGMA") + 1;
        let version = rest[at + "PRAGMA user_version = ".len()..end - 1]
            .trim()
            .parse()
            .expect("a version number");
        // A step written as one transaction ends with its COMMIT.
        let after = &rest[end..];
        if after.trim_start().starts_with("COMMIT;") {
            end += after.find("COMMIT;").unwrap() + "COMMIT;".len();
        }
        steps.push((version, rest[..end].to_string()));
        rest = &rest[end..];
    }
    steps
}

/// The first line of step 1, as it landed.
const STEP_1_STARTS: &str = "-- pokefavs schema. The one source of truth";

/// SHA-256 of each step that has landed on main, as it landed. A landed step is never
/// edited (a database out there was built by it): a change goes into a new step.
const LANDED: [(i64, &str); 4] = [
    (
        1,
        "0c15d80812f818bf9277ec5f9136f21fdd2528f8f7847f25b4252c4c20b2be43",
    ),
    (
        2,
        "d3f7a0852dd8c3edeb1ef8af1a1d7d6ddeef5a74809099f1b03c38206da2298e",
    ),
    (
        3,
        "f2432bdadfa47f78b69907d3613545d88a51a6047baeeda95a51a6e8fbc5db87",
    ),
    (
        4,
        "1086a80a72846023217aa32488b9c5aa7dfc1a1d9652d716a3e4d5e033488385",
    ),
];

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn landed_schema_steps_are_never_edited_and_the_last_is_this_builds_version() {
    let steps = steps(&migrations_sql());
    for (version, hash) in LANDED {
        let (_, text) = steps
            .iter()
            .find(|(v, _)| *v == version)
            .unwrap_or_else(|| panic!("step {version} is gone"));
        let got = hex(&hmac_sha256::Hash::hash(text.as_bytes()));
        assert_eq!(got, hash, "step {version} of migrations.sql was edited");
    }
    let versions: Vec<i64> = steps.iter().map(|(v, _)| *v).collect();
    let expected: Vec<i64> = (1..=SCHEMA_VERSION).collect();
    assert_eq!(versions, expected, "one step per version, in order");
}

/// A database file as schema version 1 left it, written by v1's own `migrations.sql`
/// (the first step of today's file, unedited): two users, one with three favorites
/// added in a known order at known times. Returns the token v1 would have issued to
/// ash (no `ver` claim) and ash's id.
fn write_v1_file(path: &Path) -> (String, i64) {
    let conn = rusqlite::Connection::open(path).unwrap();
    let v1 = &steps(&migrations_sql())[0].1;
    conn.execute_batch(v1).unwrap();
    let hash =
        pokefavs::auth::hash_password(&pokefavs::domain::Password::parse("pikachu-pal").unwrap())
            .unwrap();
    conn.execute(
        "INSERT INTO users (username, password_hash, created_at)
         VALUES ('misty', 'not-a-real-hash', '2025-12-31T23:59:59Z'),
                ('Ash', ?1, '2026-01-02T03:04:05Z')",
        [&hash],
    )
    .unwrap();
    let ash: i64 = conn
        .query_row("SELECT id FROM users WHERE username = 'Ash'", [], |r| {
            r.get(0)
        })
        .unwrap();
    for (pokemon, added_at) in [
        (150, "2026-01-03T00:00:01Z"),
        (25, "2026-01-01T00:00:02Z"),
        (1, "2026-01-05T00:00:03Z"),
    ] {
        conn.execute(
            "INSERT INTO favorites (user_id, pokemon_id, added_at) VALUES (?1, ?2, ?3)",
            rusqlite::params![ash, pokemon, added_at],
        )
        .unwrap();
    }
    assert_eq!(user_version(&conn), 1);
    drop(conn);
    (token_for(ash, None), ash)
}

fn user_version(conn: &rusqlite::Connection) -> i64 {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap()
}

/// A token as this deploy's secret signs it: for `user`, with `ver` when given (a token
/// of v1 has none).
fn token_for(user: i64, ver: Option<i64>) -> String {
    let mut claims =
        json!({"sub": user.to_string(), "iss": "pokefavs", "iat": now(), "exp": now() + 600});
    if let Some(ver) = ver {
        claims["ver"] = json!(ver);
    }
    sign_token(
        TEST_JWT_SECRET.as_bytes(),
        &json!({"alg": "HS256", "typ": "JWT"}),
        &claims,
    )
}

/// The v1 tables' rows, as text.
fn v1_rows(path: &Path) -> String {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut out = String::new();
    for sql in [
        "SELECT id, username, password_hash, created_at FROM users ORDER BY id",
        "SELECT id, user_id, pokemon_id, added_at FROM favorites ORDER BY id",
        "SELECT count(*), sum(id), group_concat(name) FROM pokemon",
    ] {
        let mut statement = conn.prepare(sql).unwrap();
        let columns = statement.column_count();
        let rows = statement
            .query_map([], |row| {
                (0..columns)
                    .map(|i| {
                        row.get::<_, rusqlite::types::Value>(i)
                            .map(|v| format!("{v:?}"))
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .unwrap();
        for row in rows {
            out.push_str(&row.unwrap().join("|"));
            out.push('\n');
        }
    }
    out
}

/// What a client of v1 sees after the upgrade: the same list, the same token.
fn assert_served_as_before(app: &TestApp, token: &str, ash: i64) {
    let health = assert_json(&app.get("/health", None), 200);
    assert_eq!(health["database"]["schema_version"], SCHEMA_VERSION);
    let list = assert_json(
        &app.get(&format!("/api/users/{ash}/favorites"), Some(token)),
        200,
    );
    let items: Vec<(i64, String)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["pokemon_id"].as_i64().unwrap(),
                f["added_at"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        items,
        [
            (150, "2026-01-03T00:00:01Z".to_string()),
            (25, "2026-01-01T00:00:02Z".to_string()),
            (1, "2026-01-05T00:00:03Z".to_string()),
        ],
        "order and added_at kept"
    );
    let me = assert_json(&app.me(token), 200);
    assert_eq!(me["created_at"], "2026-01-02T03:04:05Z");
    assert_eq!(me["favorites_count"], 3);
    // The v1 password still logs in (in any letter case of the name), and v2 works.
    let login = assert_json(&app.login("ash", "pikachu-pal"), 200);
    let fresh = login["access_token"].as_str().unwrap();
    assert_eq!(app.logout(fresh).status, 204);
    assert_problem(&app.me(token), 401, "unauthorized");
}

#[test]
fn a_v1_database_is_brought_forward_by_the_first_request_keeping_every_row() {
    for mode in [StoreMode::Local, StoreMode::Libsql] {
        let app = TestApp::new(mode);
        let (token, ash) = write_v1_file(app.db_path());
        let before = v1_rows(app.db_path());
        // The first request is a v1 client's, with its v1 token.
        let first = app.get(&format!("/api/users/{ash}/favorites"), Some(&token));
        assert_eq!(first.status, 200, "{}", first.text());
        assert_eq!(v1_rows(app.db_path()), before, "{mode:?}: every row kept");
        assert_served_as_before(&app, &token, ash);
    }
}

#[test]
fn migrations_sql_run_twice_brings_a_v1_database_forward_too() {
    // `spin up --sqlite @migrations.sql`, at two starts in a row.
    for mode in [StoreMode::Local, StoreMode::Libsql] {
        let path = crate::host::temp_db("v1-batch");
        let (token, ash) = write_v1_file(&path);
        let before = v1_rows(&path);
        let start = |path: &crate::host::TempDb| {
            let mut cfg = HostConfig::new(path);
            cfg.startup_sql = Some(migrations_sql());
            if mode == StoreMode::Libsql {
                cfg = cfg.libsql();
            }
            TestApp::with(mode, |_| cfg)
        };
        let first = start(&path);
        drop(first);
        let app = start(&path);
        assert_eq!(v1_rows(&path), before, "{mode:?}: every row kept");
        let health = app.get("/health", None);
        assert!(
            !health.stats.sql().iter().any(|s| s.starts_with("CREATE")),
            "already current: no migration by the component"
        );
        assert_served_as_before(&app, &token, ash);
    }
}

/// A database file as schema version 2 left it (steps 1 and 2 of `migrations.sql`,
/// unedited): two users with lists, one of them signed out once (session version 1),
/// and a counted failed login. Returns a token of ash's live session, and ash's and
/// misty's ids.
fn write_v2_file(path: &Path) -> (String, i64, i64) {
    let conn = rusqlite::Connection::open(path).unwrap();
    let steps = steps(&migrations_sql());
    conn.execute_batch(&steps[0].1).unwrap();
    conn.execute_batch(&steps[1].1).unwrap();
    conn.execute_batch(
        "INSERT INTO users (username, password_hash, created_at)
         VALUES ('misty', 'not-a-real-hash', '2025-12-31T23:59:59Z'),
                ('ash', 'not-a-real-hash', '2026-01-02T03:04:05Z');
         INSERT INTO favorites (user_id, pokemon_id, added_at)
         VALUES (2, 150, '2026-01-03T00:00:01Z'), (1, 7, '2026-01-03T00:00:02Z'),
                (2, 25, '2026-01-04T00:00:03Z');
         INSERT INTO sessions (user_id, version) VALUES (2, 1);
         INSERT INTO login_failures (key, failures, window_ends)
         VALUES ('user:ash', 2, 4102444800);",
    )
    .unwrap();
    assert_eq!(user_version(&conn), 2);
    drop(conn);
    (token_for(2, Some(1)), 2, 1)
}

/// The rows of the v2 tables, as text.
fn v2_rows(path: &Path) -> String {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut out = v1_rows(path);
    for sql in [
        "SELECT user_id, version FROM sessions ORDER BY user_id",
        "SELECT key, failures, window_ends FROM login_failures ORDER BY key",
    ] {
        let mut statement = conn.prepare(sql).unwrap();
        let rows = statement
            .query_map([], |row| {
                Ok(format!(
                    "{:?}|{:?}|{:?}",
                    row.get::<_, rusqlite::types::Value>(0)?,
                    row.get::<_, rusqlite::types::Value>(1)?,
                    row.get::<_, Option<i64>>(2).ok().flatten()
                ))
            })
            .unwrap();
        for row in rows {
            out.push_str(&row.unwrap());
            out.push('\n');
        }
    }
    out
}

/// `DELETE` of the favorite at `path` with `If-Match: tag`.
fn remove_if_match(app: &TestApp, path: &str, token: &str, tag: &str) -> HostResponse {
    app.send_with("DELETE", path, Some(token), None, &[("if-match", tag)])
}

#[test]
fn a_v2_database_is_brought_forward_with_a_tag_for_every_list() {
    for mode in [StoreMode::Local, StoreMode::Libsql] {
        let app = TestApp::new(mode);
        let (token, ash, misty) = write_v2_file(app.db_path());
        let before = v2_rows(app.db_path());
        let path = format!("/api/users/{ash}/favorites");
        let first = app.get(&path, Some(&token));
        assert_eq!(first.status, 200, "{mode:?}: {}", first.text());
        assert_eq!(v2_rows(app.db_path()), before, "{mode:?}: every row kept");
        let health = assert_json(&app.get("/health", None), 200);
        assert_eq!(health["database"]["schema_version"], SCHEMA_VERSION);
        // The list as it was, with a tag, which a conditional write accepts.
        let ids: Vec<i64> = first.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["pokemon_id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, [150, 25], "{mode:?}");
        let tag = first.header("etag").expect("a tag").to_string();
        let cached = app.send_with("GET", &path, Some(&token), None, &[("if-none-match", &tag)]);
        assert_eq!(cached.status, 304, "{mode:?}");
        let stale = remove_if_match(&app, &format!("{path}/150"), &token, "\"stale\"");
        assert_problem(&stale, 412, "precondition_failed");
        let removed = remove_if_match(&app, &format!("{path}/150"), &token, &tag);
        assert_eq!(removed.status, 204, "{mode:?}: {}", removed.text());
        let new_tag = removed.header("etag").expect("a new tag");
        assert_ne!(new_tag, tag);
        // Misty's list (she never signed out: session version 0) has a tag of its own.
        let misty_token = token_for(misty, None);
        let theirs = app.get(&format!("/api/users/{misty}/favorites"), Some(&misty_token));
        assert_eq!(theirs.json()["items"][0]["pokemon_id"], 7, "{mode:?}");
        let their_tag = theirs.header("etag").expect("a tag");
        assert!(their_tag != tag && their_tag != new_tag, "{mode:?}");
    }
}

/// A database file as schema version 3 left it (steps 1 to 3, unedited): ash (signed
/// out once) with a list whose epoch was bumped twice, misty with a list and no epoch
/// row, and a deleted user's leftovers nobody can reach. Returns ash's token and both ids.
fn write_v3_file(path: &Path) -> (String, i64, i64) {
    let conn = rusqlite::Connection::open(path).unwrap();
    for (_, step) in steps(&migrations_sql()).iter().take(3) {
        conn.execute_batch(step).unwrap();
    }
    conn.execute_batch(
        "INSERT INTO users (username, password_hash, created_at)
         VALUES ('misty', 'not-a-real-hash', '2025-12-31T23:59:59Z'),
                ('ash', 'not-a-real-hash', '2026-01-02T03:04:05Z');
         INSERT INTO favorites (user_id, pokemon_id, added_at)
         VALUES (2, 150, '2026-01-03T00:00:01Z'), (1, 7, '2026-01-03T00:00:02Z'),
                (2, 25, '2026-01-04T00:00:03Z'), (2, 4, '2026-01-04T00:00:04Z');
         INSERT INTO sessions (user_id, version) VALUES (2, 1);
         INSERT INTO favorite_lists (user_id, epoch) VALUES (2, 2);",
    )
    .unwrap();
    assert_eq!(user_version(&conn), 3);
    drop(conn);
    (token_for(2, Some(1)), 2, 1)
}

#[test]
fn a_v3_database_is_brought_forward_and_every_tag_keeps_its_meaning() {
    use pokefavs::domain::tags::entity_tag;
    use pokefavs::domain::{ListVersion, UserId};
    for mode in [StoreMode::Local, StoreMode::Libsql] {
        let app = TestApp::new(mode);
        let (token, ash, misty) = write_v3_file(app.db_path());
        // The tags a client read from the v3 build: (newest favorite, epoch).
        let ash_tag = entity_tag(UserId::from_db(ash), ListVersion { last: 4, epoch: 2 });
        let misty_tag = entity_tag(UserId::from_db(misty), ListVersion { last: 2, epoch: 0 });
        let before = dump(app.db_path());
        let path = format!("/api/users/{ash}/favorites");
        // The first request migrates; the tag read before the upgrade is still current.
        let cached = app.send_with(
            "GET",
            &path,
            Some(&token),
            None,
            &[("if-none-match", &ash_tag)],
        );
        assert_eq!(cached.status, 304, "{mode:?}: {}", cached.text());
        let after = dump(app.db_path());
        assert_eq!(
            after.replace("user_version=4", "user_version=3"),
            before,
            "{mode:?}: every row kept, nothing but the version changed"
        );
        // A conditional remove with the old tag: one statement, the trigger bumps the
        // epoch, and the answer's tag is the list's new one.
        let removed = remove_if_match(&app, &format!("{path}/25"), &token, &ash_tag);
        assert_eq!(removed.status, 204, "{mode:?}: {}", removed.text());
        let new_tag = removed.header("etag").unwrap().to_string();
        let expected = entity_tag(UserId::from_db(ash), ListVersion { last: 4, epoch: 3 });
        assert_eq!(new_tag, expected, "{mode:?}");
        assert_eq!(
            app.get(&path, Some(&token)).header("etag"),
            Some(new_tag.as_str())
        );
        // Replace with the new tag: its answer's tag is what a read then says.
        let replaced = app.send_with(
            "PUT",
            &path,
            Some(&token),
            Some(&serde_json::json!({"pokemon_ids": [4, 1]})),
            &[("if-match", &new_tag)],
        );
        let body = assert_json(&replaced, 200);
        assert_eq!(
            body["items"][0]["added_at"], "2026-01-04T00:00:04Z",
            "{mode:?}: kept"
        );
        let listed = app.get(&path, Some(&token));
        assert_eq!(listed.header("etag"), replaced.header("etag"), "{mode:?}");
        assert_eq!(listed.json()["items"], body["items"], "{mode:?}");
        // Misty's list, never written by v3's epoch table, keeps its tag too.
        let misty_token = token_for(misty, None);
        let theirs = app.get(&format!("/api/users/{misty}/favorites"), Some(&misty_token));
        assert_eq!(theirs.header("etag"), Some(misty_tag.as_str()), "{mode:?}");
        // Deleting a user takes every row of theirs, by the trigger.
        assert_eq!(
            app.send(
                "DELETE",
                &format!("/api/users/{misty}"),
                Some(&misty_token),
                None
            )
            .status,
            204
        );
        for table in ["favorites", "sessions", "favorite_lists"] {
            assert_eq!(
                app.query_ints(
                    &format!("SELECT count(*) FROM {table} WHERE user_id = ?1"),
                    misty
                ),
                [0],
                "{mode:?}: {table}"
            );
        }
    }
}

store_tests!(a_database_newer_than_this_build_is_never_written);

fn a_database_newer_than_this_build_is_never_written(app: TestApp) {
    let ash = app.user("ash");
    let misty = app.user("misty");
    assert_eq!(app.replace_favorites(&ash, &[1, 4, 7]).status, 200);
    {
        let conn = rusqlite::Connection::open(app.db_path()).unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
    }
    let bytes = std::fs::read(app.db_path()).unwrap();
    let health = app.get("/health", None);
    assert_eq!(health.status, 503);
    let error = health.json()["database"]["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(error.contains("newer than"), "{error}");
    let base = format!("/api/users/{}", ash.id);
    let calls: Vec<(&str, HostResponse)> = vec![
        ("register", app.register("brock", "onix-rocks")),
        ("login", app.login("ash", &ash.password)),
        ("me", app.me(&ash.token)),
        ("list", app.favorites(&ash)),
        ("add", app.add_favorite(&ash, 25)),
        ("replace", app.replace_favorites(&ash, &[25])),
        ("remove", app.remove_favorite(&ash, 1)),
        (
            "other user",
            app.get(&format!("/api/users/{}", misty.id), Some(&ash.token)),
        ),
        (
            "password",
            app.change_password(&ash, &ash.password, "new-password"),
        ),
        (
            "wrong password",
            app.change_password(&ash, "not-it", "new-password"),
        ),
        ("logout", app.logout(&ash.token)),
        ("delete", app.send("DELETE", &base, Some(&ash.token), None)),
        ("search", app.get("/api/pokemon?q=zzz", None)),
        ("pokemon", app.get("/api/pokemon/25", None)),
    ];
    for (name, response) in calls {
        assert_problem(&response, 503, "database_unavailable");
        assert!(response.header("retry-after").is_some(), "{name}");
        assert!(
            !response.stats.sql().iter().any(|s| s.starts_with("CREATE")),
            "{name} must not migrate a newer file"
        );
    }
    assert_eq!(
        std::fs::read(app.db_path()).unwrap(),
        bytes,
        "the file is byte-for-byte what it was"
    );
}
