//! Schema upgrades in place: a database written by an earlier schema step, holding
//! users, favorites and their tokens, served by this build; the landed steps of
//! `migrations.sql` never edited; a database newer than this build never written.
//!
//! Here: the landed steps' pin, the v3 upgrade, and the walk over a newer database
//! (which must run every route of `pokefavs::ROUTES` but those it lists as left out).
//! The files of earlier steps are written by `upgrade/fixtures.rs`; the v1 and v2
//! upgrades are in `upgrade/earlier.rs`, the v4 upgrade (to step 5, `Idempotency-Key`)
//! in `upgrade/v4.rs`.

mod earlier;
mod fixtures;
mod v4;

use crate::helpers::{assert_json, assert_problem, dump, store_tests, TestApp};
use crate::host::{HostResponse, StoreMode};
use crate::route_table::{assert_covered, logged_operation};
use fixtures::{as_before_upgrade, keyed, remove_if_match, token_for, write_v3_file};
use pokefavs::db::SCHEMA_VERSION;
use serde_json::json;
use std::collections::BTreeSet;
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
const LANDED: [(i64, &str); 5] = [
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
    (
        5,
        "13d6a246c9a0d7fb9922408e0d831886df84fcd7e534a0ade52e2953ba570434",
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
            as_before_upgrade(&after, &before, 3),
            before,
            "{mode:?}: every row kept, nothing but the version (and the later steps' \
             empty tables) changed"
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

/// The operations of the route table the walk over a newer database leaves out, and why.
const NOT_WALKED: &[(&str, &str)] = &[
    (
        "GET /health",
        "checked first: 503, naming the newer schema in its own body, not a problem",
    ),
    ("GET /health/live", "it opens no database"),
    ("GET /api/openapi.json", "it opens no database"),
];

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
    let list = format!("{base}/favorites");
    let calls: Vec<(&str, HostResponse)> = vec![
        ("register", app.register("brock", "onix-rocks")),
        ("login", app.login("ash", &ash.password)),
        ("me", app.me(&ash.token)),
        ("list", app.favorites(&ash)),
        ("add", app.add_favorite(&ash, 25)),
        ("replace", app.replace_favorites(&ash, &[25])),
        ("remove", app.remove_favorite(&ash, 1)),
        (
            "keyed add",
            keyed(
                &app,
                "POST",
                &list,
                &ash.token,
                Some(json!({"pokemon_id": 25})),
                "k1",
            ),
        ),
        (
            "keyed replace",
            keyed(
                &app,
                "PUT",
                &list,
                &ash.token,
                Some(json!({"pokemon_ids": [25]})),
                "k2",
            ),
        ),
        (
            "keyed remove",
            keyed(&app, "DELETE", &format!("{list}/1"), &ash.token, None, "k3"),
        ),
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
    let reached: BTreeSet<String> = calls
        .iter()
        .filter_map(|(_, response)| logged_operation(response))
        .collect();
    assert_covered("the walk over a newer database", &reached, NOT_WALKED);
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
