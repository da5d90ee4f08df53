//! The schema: a fresh database is migrated by the first request and only by it, the
//! migration file is idempotent as a batch, and racing first requests migrate once.
//! No route spends a statement on the schema check, so every route must notice, from
//! its own statement, a file that is empty or whose version is behind, migrate it, and
//! answer as it would have on an up-to-date file.

use crate::helpers::favorite_writes::{add, remove, replace};
use crate::helpers::{dump, store_tests, TestApp, TestUser};

/// The header of a keyed write.
const KEY: &str = "idempotency-key";
use crate::host::{temp_db, HostConfig, HostResponse, StoreMode};
use pokefavs::db::SCHEMA_VERSION;
use std::path::Path;

fn migrations_sql() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations.sql"))
        .expect("migrations.sql")
}

store_tests!(the_first_request_migrates_a_fresh_database_and_the_second_does_not);

fn the_first_request_migrates_a_fresh_database_and_the_second_does_not(app: TestApp) {
    let first = app.get("/api/pokemon/25", None);
    assert_eq!(first.status, 200, "{}", first.text());
    assert!(
        first
            .stats
            .sql()
            .iter()
            .any(|s| s.starts_with("CREATE TABLE")),
        "the first request runs the migration: {:?}",
        first.stats.sql()
    );
    let second = app.get("/api/pokemon/25", None);
    assert_eq!(second.status, 200);
    let flat: Vec<String> = second
        .stats
        .sql()
        .iter()
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        flat,
        ["SELECT (SELECT user_version FROM pragma_user_version) AS schema_version, p.id AS id, p.name AS name FROM (SELECT 1) LEFT JOIN pokemon p ON p.id = ?1"],
        "on a migrated database the version check rides in the route's own statement"
    );
    let tables = app.query_ints(
        "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN \
         ('users', 'pokemon', 'favorites') AND ?1 = ?1",
        0,
    );
    assert_eq!(tables, [3]);
    assert_eq!(
        app.query_ints("SELECT count(*) FROM pokemon WHERE ?1 = ?1", 0),
        [1025]
    );
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
fn the_migration_file_as_a_batch_leaves_a_newer_file_byte_for_byte_unchanged() {
    // A file brought up to date, given data, then moved past this build's last step (as
    // a later build would), closed with its WAL folded back in.
    let path = temp_db("newer");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(&migrations_sql()).unwrap();
    conn.execute_batch(&format!(
        "INSERT INTO users (username, password_hash, created_at)
           VALUES ('ash', 'not-a-real-hash', '2026-01-01T00:00:00Z');
         CREATE TABLE later_step (x);
         PRAGMA user_version = {};
         PRAGMA wal_checkpoint(TRUNCATE);",
        SCHEMA_VERSION + 1
    ))
    .unwrap();
    drop(conn);
    let before = std::fs::read(&*path).unwrap();

    // `spin up --sqlite @migrations.sql` refuses to start, saying why...
    let refused = crate::host::Host::new(HostConfig::new(&path).with_migrations());
    let why = format!("{:#}", refused.err().expect("the batch must fail"));
    assert!(why.contains("newer than migrations.sql"), "{why}");
    // ...and the file is exactly as it was: not a byte of it written.
    assert_eq!(std::fs::read(&*path).unwrap(), before);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION + 1);
}

#[test]
fn a_database_from_before_versioning_is_brought_up_to_date() {
    let app = pre_versioning_app("older");
    let body = app.get("/health", None).json();
    assert_eq!(body["database"]["schema_version"], SCHEMA_VERSION);
    assert_eq!(
        app.query_ints("SELECT count(*) FROM pokemon WHERE ?1 = ?1", 0),
        [1025]
    );
}

#[test]
fn a_miss_on_a_file_from_before_versioning_migrates_it_first() {
    // The file has a catalog of one; the answer must come from the migrated catalog.
    let app = pre_versioning_app("older-miss");
    let bulbasaur = app.get("/api/pokemon/1", None);
    assert_eq!(bulbasaur.status, 200, "{}", bulbasaur.text());
    assert_eq!(bulbasaur.json()["name"], "Bulbasaur");
    let app = pre_versioning_app("older-search");
    let search = app.get("/api/pokemon?q=bulba", None);
    assert_eq!(
        search.json()["items"][0]["name"],
        "Bulbasaur",
        "{}",
        search.text()
    );
}

/// The component on an "older" file: a catalog of one Pokémon, `user_version` still 0.
fn pre_versioning_app(tag: &str) -> TestApp {
    let path = temp_db(tag);
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "CREATE TABLE pokemon (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
         INSERT INTO pokemon VALUES (25, 'Pikachu');",
    )
    .unwrap();
    drop(conn);
    TestApp::with(StoreMode::Local, |_| HostConfig::new(&path))
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

/// The file's `user_version`, read directly.
fn user_version(app: &TestApp) -> i64 {
    app.query_ints(
        "SELECT user_version FROM pragma_user_version WHERE ?1 = ?1",
        0,
    )[0]
}

/// Sets the file's `user_version`, as a file written by an older build would have it:
/// every table there, the version behind.
fn set_user_version(app: &TestApp, version: i64) {
    let conn = rusqlite::Connection::open(app.db_path()).expect("open the test database");
    conn.pragma_update(None, "user_version", version)
        .expect("set user_version");
}

fn migrated(response: &HostResponse) -> bool {
    response
        .stats
        .sql()
        .iter()
        .any(|s| s.starts_with("INSERT OR IGNORE INTO pokemon"))
}

store_tests!(
    a_statement_that_lost_the_race_with_a_migration_runs_again,
    every_route_migrates_a_file_whose_version_is_behind_and_answers_as_usual,
    every_route_migrates_an_empty_file_and_answers_as_on_an_empty_database
);

// Request A's statement meets a missing table; by the time A reads the version,
// request B has finished migrating. A's statement applied nothing: A runs it again.
fn a_statement_that_lost_the_race_with_a_migration_runs_again(app: TestApp) {
    assert_eq!(app.get("/health", None).status, 200, "migrated");
    // Registration's first statement counts the attempt.
    for (table, call) in [
        (
            "INSERT INTO login_failures",
            Box::new(|| app.register("brock", "onix-rocks")) as Box<dyn Fn() -> HostResponse>,
        ),
        (
            "FROM pokemon",
            Box::new(|| app.get("/api/pokemon/25", None)),
        ),
    ] {
        app.host.faults().fail_matching(
            table,
            crate::host::io("no such table: users"),
            crate::host::FaultTimes::Once,
        );
        let response = call();
        assert!(
            response.status < 300,
            "{table}: {} {}",
            response.status,
            response.text()
        );
    }
    let ash = app.user("ash");
    app.host.faults().fail_matching(
        "DELETE FROM users",
        crate::host::io("no such table: users"),
        crate::host::FaultTimes::Once,
    );
    assert_eq!(
        app.delete_user(&ash).status,
        204,
        "a transaction runs again too"
    );
}

fn every_route_migrates_a_file_whose_version_is_behind_and_answers_as_usual(app: TestApp) {
    let ash = app.user("ash");
    assert_eq!(app.replace_favorites(&ash, &[1, 4, 7]).status, 200);
    let misty = app.user("misty");
    let gary = app.user("gary");
    let erika = app.user("erika");
    let other = format!("/api/users/{}", misty.id);
    type Call<'a> = Box<dyn Fn() -> HostResponse + 'a>;
    let cases: Vec<(&str, Call, u16)> = vec![
        (
            "register",
            Box::new(|| app.register("brock", "onix-rocks")),
            201,
        ),
        ("login", Box::new(|| app.login("ash", "ash-password")), 200),
        ("me", Box::new(|| app.me(&ash.token)), 200),
        ("list", Box::new(|| app.favorites(&ash)), 200),
        ("add", Box::new(|| app.add_favorite(&ash, 25)), 201),
        ("add again", Box::new(|| app.add_favorite(&ash, 25)), 409),
        (
            "replace",
            Box::new(|| app.replace_favorites(&ash, &[7, 1, 150])),
            200,
        ),
        ("remove", Box::new(|| app.remove_favorite(&ash, 150)), 204),
        (
            "remove again",
            Box::new(|| app.remove_favorite(&ash, 150)),
            404,
        ),
        // Keyed: decided, then replayed, each on a file whose version is behind.
        (
            "keyed add",
            Box::new(|| add(&app, &ash, 150, &[(KEY, "k-add")])),
            201,
        ),
        (
            "keyed add replayed",
            Box::new(|| add(&app, &ash, 150, &[(KEY, "k-add")])),
            201,
        ),
        (
            "keyed remove",
            Box::new(|| remove(&app, &ash, 150, &[(KEY, "k-remove")])),
            204,
        ),
        (
            "keyed remove replayed",
            Box::new(|| remove(&app, &ash, 150, &[(KEY, "k-remove")])),
            204,
        ),
        (
            "keyed replace",
            Box::new(|| replace(&app, &ash, &[7, 1], &[(KEY, "k-replace")])),
            200,
        ),
        (
            "keyed replace replayed",
            Box::new(|| replace(&app, &ash, &[7, 1], &[(KEY, "k-replace")])),
            200,
        ),
        (
            "search",
            Box::new(|| app.get("/api/pokemon?q=char", None)),
            200,
        ),
        (
            "pokemon",
            Box::new(|| app.get("/api/pokemon/25", None)),
            200,
        ),
        (
            "another user",
            Box::new(|| app.get(&other, Some(&ash.token))),
            403,
        ),
        ("delete user", Box::new(|| app.delete_user(&misty)), 204),
        (
            "wrong password",
            Box::new(|| app.change_password(&gary, "not-it-at-all", "new-password")),
            403,
        ),
        (
            "password",
            Box::new(|| app.change_password(&gary, &gary.password, "new-password")),
            200,
        ),
        ("logout", Box::new(|| app.logout(&erika.token)), 204),
    ];
    for (name, call, status) in cases {
        set_user_version(&app, 0);
        let response = call();
        assert_eq!(response.status, status, "{name}: {}", response.text());
        assert_eq!(
            response.header("idempotent-replayed") == Some("true"),
            name.ends_with("replayed"),
            "{name}"
        );
        assert!(
            migrated(&response),
            "{name} did not migrate: {:?}",
            response.stats.sql()
        );
        assert_eq!(user_version(&app), SCHEMA_VERSION, "{name}");
    }
    // Every row kept, and the writes above applied exactly once.
    assert_eq!(app.favorite_ids_in_db(ash.id), [7, 1]);
    assert_eq!(
        app.query_ints(
            "SELECT count(*) FROM idempotency_keys WHERE user_id = ?1",
            ash.id
        ),
        [3],
        "one key per keyed write"
    );
    assert_eq!(app.favorite_ids_in_db(misty.id), Vec::<i64>::new());
    assert_eq!(
        app.query_ints("SELECT count(*) FROM users WHERE ?1 = ?1", 0),
        [4],
        "ash, brock, gary and erika"
    );
}

fn every_route_migrates_an_empty_file_and_answers_as_on_an_empty_database(app: TestApp) {
    // A token for a user of another database: valid, but its user is not here.
    let stranger: TestUser = app.user("stranger");
    let fresh = || TestApp::new(app.mode);
    type Call = Box<dyn Fn(&TestApp, &TestUser) -> HostResponse>;
    let cases: Vec<(&str, Call, u16)> = vec![
        (
            "register",
            Box::new(|a, _| a.register("brock", "onix-rocks")),
            201,
        ),
        (
            "login",
            Box::new(|a, _| a.login("ash", "ash-password")),
            401,
        ),
        ("me", Box::new(|a, u| a.me(&u.token)), 401),
        ("list", Box::new(|a, u| a.favorites(u)), 401),
        ("add", Box::new(|a, u| a.add_favorite(u, 25)), 401),
        (
            "replace",
            Box::new(|a, u| a.replace_favorites(u, &[1])),
            401,
        ),
        ("remove", Box::new(|a, u| a.remove_favorite(u, 1)), 401),
        (
            "keyed add",
            Box::new(|a, u| add(a, u, 25, &[(KEY, "k")])),
            401,
        ),
        (
            "keyed replace",
            Box::new(|a, u| replace(a, u, &[1], &[(KEY, "k")])),
            401,
        ),
        (
            "keyed remove",
            Box::new(|a, u| remove(a, u, 1, &[(KEY, "k")])),
            401,
        ),
        ("delete user", Box::new(|a, u| a.delete_user(u)), 401),
        ("logout", Box::new(|a, u| a.logout(&u.token)), 401),
        (
            "password",
            Box::new(|a, u| a.change_password(u, &u.password, "new-password")),
            401,
        ),
        (
            "search",
            Box::new(|a, _| a.get("/api/pokemon?q=char", None)),
            200,
        ),
        (
            "pokemon",
            Box::new(|a, _| a.get("/api/pokemon/25", None)),
            200,
        ),
        (
            "another user",
            Box::new(|a, u| a.get("/api/users/999", Some(&u.token))),
            401,
        ),
    ];
    for (name, call, status) in cases {
        let empty = fresh();
        let response = call(&empty, &stranger);
        assert_eq!(response.status, status, "{name}: {}", response.text());
        assert!(
            migrated(&response),
            "{name} did not migrate: {:?}",
            response.stats.sql()
        );
        assert_eq!(user_version(&empty), SCHEMA_VERSION, "{name}");
    }
}
