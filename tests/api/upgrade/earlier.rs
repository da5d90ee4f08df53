//! Databases of schema versions 1 and 2 brought forward in place: by the component's
//! first request or by `migrations.sql` run at start, every row kept, and a client of
//! the older build served as before (its list, its token, its tags).

use super::fixtures::{remove_if_match, token_for, v1_rows, v2_rows, write_v1_file, write_v2_file};
use super::migrations_sql;
use crate::helpers::{assert_json, assert_problem, TestApp};
use crate::host::{HostConfig, StoreMode};
use pokefavs::db::SCHEMA_VERSION;

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
