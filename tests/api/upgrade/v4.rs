//! A database of schema version 4 (the last before `Idempotency-Key`) brought forward to
//! step 5 in place, by the component's first request (a read, or a keyed write itself)
//! or by `migrations.sql` run at start: every row kept, every list's tag still current,
//! keyed writes decided once and replayed after, and deleting a user taking their keys
//! along with the rest of their rows.

use super::fixtures::{as_before_upgrade, keyed, keys_of, token_for, write_v4_file};
use super::migrations_sql;
use crate::helpers::{assert_json, dump, TestApp};
use crate::host::{temp_db, HostConfig, HostResponse, StoreMode};
use pokefavs::db::SCHEMA_VERSION;
use pokefavs::domain::tags::entity_tag;
use pokefavs::domain::{ListVersion, UserId};
use serde_json::json;

/// The tag of a list at (newest favorite, epoch), as every build since step 3 writes it.
fn tag(user: i64, last: i64, epoch: i64) -> String {
    entity_tag(UserId::from_db(user), ListVersion { last, epoch })
}

/// The pokemon ids of `user`'s list, as the API lists them.
fn listed(app: &TestApp, user: i64, token: &str) -> Vec<i64> {
    let list = assert_json(
        &app.get(&format!("/api/users/{user}/favorites"), Some(token)),
        200,
    );
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|f| f["pokemon_id"].as_i64().expect("an id"))
        .collect()
}

/// Asserts that `replay` is `first` replayed.
#[track_caller]
fn assert_replays(replay: &HostResponse, first: &HostResponse, what: &str) {
    assert_eq!(replay.status, first.status, "{what}: {}", replay.text());
    assert_eq!(replay.header("idempotent-replayed"), Some("true"), "{what}");
    assert_eq!(replay.body, first.body, "{what}: the same body");
    assert_eq!(replay.header("etag"), first.header("etag"), "{what}");
    assert_eq!(
        replay.header("location"),
        first.header("location"),
        "{what}"
    );
}

/// On a file brought forward from the v4 fixture: keyed writes of both users, each
/// decided once and replayed after; then misty deleted, her keys with her, and ash's
/// answers still replayed.
fn keyed_writes_work_and_go_with_their_user(app: &TestApp, ash: i64, misty: i64, token: &str) {
    let mode = app.mode;
    let misty_token = token_for(misty, None);
    let ash_list = format!("/api/users/{ash}/favorites");
    let misty_list = format!("/api/users/{misty}/favorites");
    type Write<'a> = (
        &'a str,
        &'a str,
        String,
        Option<serde_json::Value>,
        &'a str,
        u16,
    );
    let writes: Vec<Write> = vec![
        (
            token,
            "POST",
            ash_list.clone(),
            Some(json!({"pokemon_id": 1})),
            "ash-add-1",
            201,
        ),
        (
            token,
            "PUT",
            ash_list,
            Some(json!({"pokemon_ids": [4, 150, 1]})),
            "ash-replace",
            200,
        ),
        (
            &misty_token,
            "DELETE",
            format!("{misty_list}/7"),
            None,
            "misty-remove-7",
            204,
        ),
        (
            &misty_token,
            "POST",
            misty_list,
            Some(json!({"pokemon_id": 25})),
            "misty-add-25",
            201,
        ),
    ];
    let firsts: Vec<HostResponse> = writes
        .iter()
        .map(|(token, method, path, body, key, status)| {
            let first = keyed(app, method, path, token, body.clone(), key);
            assert_eq!(first.status, *status, "{mode:?} {key}: {}", first.text());
            assert_eq!(first.header("idempotent-replayed"), None, "{mode:?} {key}");
            first
        })
        .collect();
    // The replace kept the `added_at` of the favorites v4 wrote.
    let replaced = firsts[1].json();
    assert_eq!(replaced["items"][0]["added_at"], "2026-01-04T00:00:05Z");
    assert_eq!(replaced["items"][1]["added_at"], "2026-01-03T00:00:01Z");
    for ((token, method, path, body, key, _), first) in writes.iter().zip(&firsts) {
        let replay = keyed(app, method, path, token, body.clone(), key);
        assert_replays(&replay, first, &format!("{mode:?} {key}"));
    }
    assert_eq!(listed(app, ash, token), [4, 150, 1], "{mode:?}");
    assert_eq!(listed(app, misty, &misty_token), [120, 25], "{mode:?}");
    assert_eq!((keys_of(app, ash), keys_of(app, misty)), (2, 2), "{mode:?}");
    // Deleting misty takes her keys, in the same statement as the rest of her rows.
    let deleted = app.send(
        "DELETE",
        &format!("/api/users/{misty}"),
        Some(&misty_token),
        None,
    );
    assert_eq!(deleted.status, 204, "{mode:?}: {}", deleted.text());
    let flat: Vec<String> = deleted.stats.sql().iter().map(|s| s.to_string()).collect();
    assert!(
        flat.iter()
            .filter(|s| !s.starts_with("PRAGMA synchronous"))
            .count()
            == 1,
        "{mode:?}: one statement: {flat:?}"
    );
    for table in [
        "favorites",
        "sessions",
        "favorite_lists",
        "idempotency_keys",
    ] {
        assert_eq!(
            app.query_ints(
                &format!("SELECT count(*) FROM {table} WHERE user_id = ?1"),
                misty
            ),
            [0],
            "{mode:?}: {table}"
        );
    }
    assert_eq!(keys_of(app, ash), 2, "{mode:?}: ash's keys stay");
    for ((token, method, path, body, key, _), first) in writes.iter().zip(&firsts).take(2) {
        let replay = keyed(app, method, path, token, body.clone(), key);
        assert_replays(&replay, first, &format!("{mode:?} {key} after misty left"));
    }
}

#[test]
fn a_v4_database_is_brought_forward_by_a_read_keeping_every_row_and_tag() {
    for mode in [StoreMode::Local, StoreMode::Libsql] {
        let app = TestApp::new(mode);
        let (token, ash, misty) = write_v4_file(app.db_path());
        let before = dump(app.db_path());
        // The first request migrates; the tag a v4 client holds is still current.
        let path = format!("/api/users/{ash}/favorites");
        let cached = app.send_with(
            "GET",
            &path,
            Some(&token),
            None,
            &[("if-none-match", &tag(ash, 5, 3))],
        );
        assert_eq!(cached.status, 304, "{mode:?}: {}", cached.text());
        let after = dump(app.db_path());
        assert!(
            after.contains("== idempotency_keys\n"),
            "{mode:?}: step 5 ran"
        );
        assert_eq!(
            as_before_upgrade(&after, &before, 4),
            before,
            "{mode:?}: every row kept, nothing but the version and the new table changed"
        );
        let health = assert_json(&app.get("/health", None), 200);
        assert_eq!(health["database"]["schema_version"], SCHEMA_VERSION);
        let theirs = app.get(
            &format!("/api/users/{misty}/favorites"),
            Some(&token_for(misty, None)),
        );
        assert_eq!(
            theirs.header("etag"),
            Some(tag(misty, 4, 0).as_str()),
            "{mode:?}"
        );
        keyed_writes_work_and_go_with_their_user(&app, ash, misty, &token);
    }
}

#[test]
fn a_keyed_write_as_the_first_request_brings_a_v4_database_forward() {
    // No read first: the keyed statement itself meets the v4 file (no step 5 view) and
    // must migrate it, then be decided as on a current file.
    for mode in [StoreMode::Local, StoreMode::Libsql] {
        let app = TestApp::new(mode);
        let (token, ash, misty) = write_v4_file(app.db_path());
        let path = format!("/api/users/{ash}/favorites");
        let body = Some(json!({"pokemon_id": 1}));
        let first = keyed(&app, "POST", &path, &token, body.clone(), "first-request");
        assert_eq!(first.status, 201, "{mode:?}: {}", first.text());
        assert_eq!(first.header("idempotent-replayed"), None, "{mode:?}");
        assert!(
            first
                .stats
                .sql()
                .iter()
                .any(|s| s.starts_with("CREATE TABLE IF NOT EXISTS idempotency_keys")),
            "{mode:?}: the keyed write migrated the file: {:?}",
            first.stats.sql()
        );
        let replay = keyed(&app, "POST", &path, &token, body, "first-request");
        assert_replays(&replay, &first, &format!("{mode:?}"));
        assert_eq!(listed(&app, ash, &token), [150, 25, 4, 1], "{mode:?}");
        assert_eq!(
            listed(&app, misty, &token_for(misty, None)),
            [7, 120],
            "{mode:?}"
        );
        assert_eq!(keys_of(&app, ash), 1, "{mode:?}");
    }
}

#[test]
fn migrations_sql_run_twice_brings_a_v4_database_forward_too() {
    // `spin up --sqlite @migrations.sql`, at two starts in a row.
    for mode in [StoreMode::Local, StoreMode::Libsql] {
        let path = temp_db("v4-batch");
        let (token, ash, misty) = write_v4_file(&path);
        let before = dump(&path);
        let start = |path: &crate::host::TempDb| {
            let mut cfg = HostConfig::new(path);
            cfg.startup_sql = Some(migrations_sql());
            if mode == StoreMode::Libsql {
                cfg = cfg.libsql();
            }
            TestApp::with(mode, |_| cfg)
        };
        drop(start(&path));
        let app = start(&path);
        assert_eq!(
            as_before_upgrade(&dump(&path), &before, 4),
            before,
            "{mode:?}: every row kept"
        );
        let health = app.get("/health", None);
        assert_eq!(health.status, 200, "{mode:?}: {}", health.text());
        assert!(
            !health.stats.sql().iter().any(|s| s.starts_with("CREATE")),
            "{mode:?}: already current: no migration by the component"
        );
        keyed_writes_work_and_go_with_their_user(&app, ash, misty, &token);
    }
}
