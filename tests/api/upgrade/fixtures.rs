//! Database files as earlier schema steps left them, written by those steps of
//! `migrations.sql` (unedited) with known rows, the tokens those builds issued, and the
//! rows read back as text to compare before and after an upgrade.

use super::{migrations_sql, steps};
use crate::helpers::{now, sign_token, TestApp};
use crate::host::{HostResponse, TEST_JWT_SECRET};
use serde_json::json;
use std::path::Path;

/// A database file as schema version 1 left it, written by v1's own `migrations.sql`
/// (the first step of today's file, unedited): two users, one with three favorites
/// added in a known order at known times. Returns the token v1 would have issued to
/// ash (no `ver` claim) and ash's id.
pub(super) fn write_v1_file(path: &Path) -> (String, i64) {
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
pub(super) fn token_for(user: i64, ver: Option<i64>) -> String {
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
pub(super) fn v1_rows(path: &Path) -> String {
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

/// A database file as schema version 2 left it (steps 1 and 2 of `migrations.sql`,
/// unedited): two users with lists, one of them signed out once (session version 1),
/// and a counted failed login. Returns a token of ash's live session, and ash's and
/// misty's ids.
pub(super) fn write_v2_file(path: &Path) -> (String, i64, i64) {
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
pub(super) fn v2_rows(path: &Path) -> String {
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
pub(super) fn remove_if_match(app: &TestApp, path: &str, token: &str, tag: &str) -> HostResponse {
    app.send_with("DELETE", path, Some(token), None, &[("if-match", tag)])
}

/// A database file as schema version 3 left it (steps 1 to 3, unedited): ash (signed
/// out once) with a list whose epoch was bumped twice, misty with a list and no epoch
/// row, and a deleted user's leftovers nobody can reach. Returns ash's token and both ids.
pub(super) fn write_v3_file(path: &Path) -> (String, i64, i64) {
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

/// A database file as schema version 4 left it (steps 1 to 4, unedited): ash (signed
/// out once) with a list whose epoch was bumped three times, misty with a list and no
/// epoch row, and a counted failed login. Returns ash's token and both ids.
pub(super) fn write_v4_file(path: &Path) -> (String, i64, i64) {
    let conn = rusqlite::Connection::open(path).unwrap();
    for (_, step) in steps(&migrations_sql()).iter().take(4) {
        conn.execute_batch(step).unwrap();
    }
    conn.execute_batch(
        "INSERT INTO users (username, password_hash, created_at)
         VALUES ('misty', 'not-a-real-hash', '2025-12-31T23:59:59Z'),
                ('ash', 'not-a-real-hash', '2026-01-02T03:04:05Z');
         INSERT INTO favorites (user_id, pokemon_id, added_at)
         VALUES (2, 150, '2026-01-03T00:00:01Z'), (1, 7, '2026-01-03T00:00:02Z'),
                (2, 25, '2026-01-04T00:00:03Z'), (1, 120, '2026-01-04T00:00:04Z'),
                (2, 4, '2026-01-04T00:00:05Z');
         INSERT INTO sessions (user_id, version) VALUES (2, 1);
         INSERT INTO favorite_lists (user_id, epoch) VALUES (2, 3);
         INSERT INTO login_failures (key, failures, window_ends)
         VALUES ('user:ash', 2, 4102444800);",
    )
    .unwrap();
    assert_eq!(user_version(&conn), 4);
    drop(conn);
    (token_for(2, Some(1)), 2, 1)
}

/// `after` (a dump of a file brought forward to this build's version) as `before` (a dump
/// of it at version `from`) would read if the upgrade kept every row and changed nothing
/// else: the tables that later steps added dropped while they are empty (one with rows
/// stays, so the comparison shows it), and the version read as `from`.
pub(super) fn as_before_upgrade(after: &str, before: &str, from: i64) -> String {
    let old_tables: Vec<&str> = before.lines().filter(|l| l.starts_with("== ")).collect();
    let mut sections: Vec<(Option<&str>, Vec<&str>)> = vec![(None, Vec::new())];
    for line in after.lines() {
        if line.starts_with("== ") || line.starts_with("user_version=") {
            sections.push((Some(line), Vec::new()));
        } else {
            sections.last_mut().unwrap().1.push(line);
        }
    }
    let mut out = String::new();
    for (head, rows) in sections {
        if let Some(head) = head {
            if head.starts_with("== ") && !old_tables.contains(&head) && rows.is_empty() {
                continue;
            }
            let version = format!("user_version={}", pokefavs::db::SCHEMA_VERSION);
            if head == version {
                out.push_str(&format!("user_version={from}\n"));
            } else {
                out.push_str(head);
                out.push('\n');
            }
        }
        for row in rows {
            out.push_str(row);
            out.push('\n');
        }
    }
    out
}

/// A keyed request with the token `token`: `method` on `path`, `body` as JSON if any,
/// `Idempotency-Key: key`.
pub(super) fn keyed(
    app: &TestApp,
    method: &str,
    path: &str,
    token: &str,
    body: Option<serde_json::Value>,
    key: &str,
) -> HostResponse {
    app.send_with(
        method,
        path,
        Some(token),
        body.as_ref(),
        &[("idempotency-key", key)],
    )
}

/// How many key rows `idempotency_keys` holds for `user`.
pub(super) fn keys_of(app: &TestApp, user: i64) -> i64 {
    app.query_ints(
        "SELECT count(*) FROM idempotency_keys WHERE user_id = ?1",
        user,
    )[0]
}
