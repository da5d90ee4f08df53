//! The schema: a fresh database is migrated by the first request and only by it, the
//! migration file is idempotent as a batch, and racing first requests migrate once.

use crate::helpers::{dump, store_tests, TestApp};
use crate::host::{temp_db, HostConfig, StoreMode};
use std::path::Path;

fn migrations_sql() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations.sql"))
        .expect("migrations.sql")
}

store_tests! {
    fn the_first_request_migrates_a_fresh_database_and_the_second_does_not(app) {
        let first = app.get("/api/pokemon/25", None);
        assert_eq!(first.status, 200, "{}", first.text());
        assert!(
            first.stats.sql().iter().any(|s| s.starts_with("CREATE TABLE")),
            "the first request runs the migration: {:?}",
            first.stats.sql()
        );
        let second = app.get("/api/pokemon/25", None);
        assert_eq!(second.status, 200);
        assert_eq!(
            second.stats.sql(),
            ["PRAGMA user_version", "SELECT id, name FROM pokemon WHERE id = ?1"],
            "a migrated database costs one version check"
        );
        let tables = app.query_ints(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN \
             ('users', 'pokemon', 'favorites') AND ?1 = ?1",
            0,
        );
        assert_eq!(tables, [3]);
        assert_eq!(app.query_ints("SELECT count(*) FROM pokemon WHERE ?1 = ?1", 0), [1025]);
    }
}

#[test]
fn the_migration_file_runs_twice_as_a_batch_and_the_component_accepts_the_result() {
    // What `spin up --sqlite @migrations.sql` does at every start.
    let path = temp_db("batch");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(&migrations_sql()).unwrap();
    let after_first = dump(&path);
    conn.execute_batch(&migrations_sql()).unwrap();
    assert_eq!(dump(&path), after_first, "a second run changes nothing");
    let journal: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(journal, "wal");
    drop(conn);

    let app = TestApp::with(StoreMode::Local, |_| HostConfig::new(&path));
    let response = app.get("/health", None);
    assert_eq!(response.status, 200, "{}", response.text());
    assert!(
        !response.stats.sql().iter().any(|s| s.starts_with("CREATE")),
        "an up-to-date database is not migrated again"
    );
}

#[test]
fn a_database_from_before_versioning_is_brought_up_to_date() {
    // An "older" database: some tables exist, user_version is still 0.
    let path = temp_db("older");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "CREATE TABLE pokemon (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
                        INSERT INTO pokemon VALUES (25, 'Pikachu');",
    )
    .unwrap();
    drop(conn);
    let app = TestApp::with(StoreMode::Local, |_| HostConfig::new(&path));
    let body = app.get("/health", None).json();
    assert_eq!(body["database"]["schema_version"], 1);
    assert_eq!(
        app.query_ints("SELECT count(*) FROM pokemon WHERE ?1 = ?1", 0),
        [1025]
    );
}

#[test]
fn first_requests_racing_on_a_fresh_database_migrate_it_once() {
    let app = TestApp::new(StoreMode::Local);
    let responses: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| scope.spawn(|| app.get("/api/pokemon?q=bulba", None)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for response in &responses {
        assert_eq!(response.status, 200, "{}", response.text());
        assert_eq!(response.json()["items"][0]["name"], "Bulbasaur");
    }
    let seeded = responses
        .iter()
        .filter(|r| {
            r.stats
                .sql()
                .iter()
                .any(|s| s.starts_with("INSERT OR IGNORE INTO pokemon"))
        })
        .count();
    assert_eq!(seeded, 1, "exactly one request ran the migration body");
}
