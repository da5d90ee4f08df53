//! Each route runs exactly the statements the README's cost table lists: one schema
//! check, the route's own statements, nothing re-run, no extra round trips.

use crate::helpers::store_tests;
use crate::host::HostResponse;

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

const WRITE_BEGIN: [&str; 3] = [
    "PRAGMA user_version",
    "PRAGMA foreign_keys = ON",
    "BEGIN IMMEDIATE",
];

fn write(statements: &[&'static str]) -> Vec<&'static str> {
    let mut all = WRITE_BEGIN.to_vec();
    all.extend_from_slice(statements);
    all.push("COMMIT");
    all
}

store_tests! {
    fn every_route_runs_only_its_own_statements(app) {
        let ash = app.user("ash");
        let misty = app.user("misty");
        let uv = "PRAGMA user_version";
        let base = format!("/api/users/{}", ash.id);
        let cases: Vec<(HostResponse, Vec<&str>, usize)> = vec![
            (app.get("/health/live", None), vec![], 0),
            (app.get("/health", None), vec![uv], 2),
            (app.register("brock", "onix-rocks"), vec![uv, "INSERT INTO users"], 0),
            (app.login("ash", "ash-password"), vec![uv, "SELECT id, password_hash FROM users"], 2),
            (app.me(&ash.token), vec![uv, "SELECT id, username, created_at"], 1),
            (app.get(&base, Some(&ash.token)), vec![uv, "SELECT id, username, created_at"], 1),
            (app.add_favorite(&ash, 25), write(&["SELECT EXISTS", "INSERT INTO favorites"]), 1),
            (app.favorites(&ash), vec![uv, "SELECT u.id, f.id"], 1),
            (
                app.replace_favorites(&ash, &[1, 4]),
                write(&["SELECT EXISTS", "DELETE FROM favorites", "INSERT INTO favorites", "SELECT f.id"]),
                1,
            ),
            (app.remove_favorite(&ash, 4), vec![uv, "DELETE FROM favorites"], 1),
            (app.remove_favorite(&ash, 4), vec![uv, "DELETE FROM favorites", "SELECT 1 FROM users"], 1),
            (app.get("/api/pokemon?q=char", None), vec![uv, "SELECT id, name FROM pokemon"], 0),
            (app.get("/api/pokemon/25", None), vec![uv, "SELECT id, name FROM pokemon"], 0),
            (app.get(&format!("/api/users/{}", misty.id), Some(&ash.token)), vec![uv, "SELECT 1 FROM users"], 1),
            (app.delete_user(&misty), write(&["DELETE FROM users"]), 1),
        ];
        for (response, expected, variable_gets) in cases {
            assert!(response.status < 500, "{}", response.text());
            assert_statements(&response, &expected);
            assert_eq!(response.stats.variable_gets, variable_gets, "{expected:?}");
            // The component's initial memory (build.rs) holds every request but the
            // two that run Argon2id.
            let hashes = expected.iter().any(|s| s.starts_with("INSERT INTO users"))
                || expected.iter().any(|s| s.starts_with("SELECT id, password_hash"));
            if !hashes {
                assert_eq!(response.stats.memory_grows, 0, "{expected:?} grew the memory");
            }
        }
    }
}

store_tests! {
    fn the_host_measures_each_instances_linear_memory(app) {
        let live = app.get("/health/live", None);
        assert!(live.stats.peak_memory_bytes > 0, "the initial memory is counted");
        assert!(live.stats.peak_memory_bytes < 8 << 20, "{}", live.stats.peak_memory_bytes);
        app.register("ash", "pikachu-pal");
        let login = app.login("ash", "pikachu-pal");
        // Argon2id with m = 19 MiB needs that much memory inside the instance.
        assert!(login.stats.peak_memory_bytes >= 19 << 20, "{}", login.stats.peak_memory_bytes);
        assert!(login.stats.memory_grows > 0, "growing past the initial memory is counted");
        assert_eq!(live.stats.memory_grows, 0);
        eprintln!(
            "peak linear memory: /health/live {} KiB, login {} KiB",
            live.stats.peak_memory_bytes >> 10,
            login.stats.peak_memory_bytes >> 10
        );
    }
}
