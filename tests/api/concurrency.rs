//! Many clients on one database file at once: nothing lost, nothing doubled, nothing
//! half-done, and the only failure allowed is a 503 that says to retry.
//!
//! Sizes are bounded for CI; `POKEFAVS_LOAD_THREADS` and `POKEFAVS_LOAD_REQUESTS`
//! (requests per thread) scale the mixed-load test up.

use crate::helpers::{assert_problem, store_tests, TestApp, TestUser};
use crate::host::HostResponse;
use std::collections::HashMap;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A tiny deterministic generator, so a failing run can be replayed from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// What the model expects a user's list to be, and counts of what happened.
#[derive(Default)]
struct Tally {
    requests: usize,
    writes_acknowledged: usize,
    retry_laters: usize,
}

/// Accepts `expected`, or a 503 `database_unavailable` with `Retry-After` (in which case
/// the write did not happen). Anything else fails the test.
fn outcome(response: &HostResponse, expected: u16, what: &str, tally: &mut Tally) -> bool {
    if response.status == 503 {
        tally.retry_laters += 1;
        assert_problem(response, 503, "database_unavailable");
        assert!(response.header("retry-after").is_some());
        return false;
    }
    assert_eq!(response.status, expected, "{what}: {}", response.text());
    assert!(response.trap.is_none());
    true
}

/// One thread's session: its own user, a random mix of operations, and a model of the
/// list that every answer is checked against.
fn session(app: &TestApp, user: &TestUser, seed: u64, requests: usize) -> Tally {
    let mut rng = Rng(seed | 1);
    let mut model: Vec<i64> = Vec::new();
    let mut tally = Tally::default();
    for _ in 0..requests {
        tally.requests += 1;
        let pokemon = 1 + rng.below(60) as i64; // a small range, so adds collide with the list
        match rng.below(10) {
            0..=3 => {
                let exists = model.contains(&pokemon);
                let response = app.add_favorite(user, pokemon);
                if outcome(&response, if exists { 409 } else { 201 }, "add", &mut tally) && !exists
                {
                    model.push(pokemon);
                    tally.writes_acknowledged += 1;
                }
            }
            4..=5 => {
                let exists = model.contains(&pokemon);
                let response = app.remove_favorite(user, pokemon);
                if outcome(
                    &response,
                    if exists { 204 } else { 404 },
                    "remove",
                    &mut tally,
                ) && exists
                {
                    model.retain(|id| *id != pokemon);
                    tally.writes_acknowledged += 1;
                }
            }
            6 => {
                let mut ids: Vec<i64> = (0..rng.below(8))
                    .map(|_| 1 + rng.below(900) as i64)
                    .collect();
                ids.dedup();
                ids.sort_unstable();
                ids.dedup();
                let response = app.replace_favorites(user, &ids);
                if outcome(&response, 200, "replace", &mut tally) {
                    model = ids;
                    tally.writes_acknowledged += 1;
                }
            }
            _ => {
                let response = app.favorites(user);
                if outcome(&response, 200, "list", &mut tally) {
                    let listed: Vec<i64> = response.json()["items"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|i| i["pokemon_id"].as_i64().unwrap())
                        .collect();
                    let expected: Vec<i64> = model.iter().take(50).copied().collect();
                    assert_eq!(
                        listed, expected,
                        "a read sees exactly the acknowledged writes"
                    );
                }
            }
        }
    }
    let final_ids = app.favorite_ids_in_db(user.id);
    assert_eq!(
        final_ids, model,
        "the database equals the model for {}",
        user.username
    );
    tally
}

store_tests!(
    mixed_load_from_many_threads_matches_the_model,
    the_same_favorite_from_many_threads_is_added_once,
    the_same_username_from_many_threads_is_registered_once,
    a_replace_racing_an_add_ends_in_one_of_the_serial_orders
);

fn mixed_load_from_many_threads_matches_the_model(app: TestApp) {
    let threads = env_or("POKEFAVS_LOAD_THREADS", 16);
    let requests = env_or("POKEFAVS_LOAD_REQUESTS", 200);
    let users: Vec<TestUser> = (0..threads)
        .map(|i| app.user(&format!("trainer{i}")))
        .collect();
    let tallies: Vec<Tally> = std::thread::scope(|scope| {
        let handles: Vec<_> = users
            .iter()
            .enumerate()
            .map(|(i, user)| {
                let app = &app;
                scope.spawn(move || session(app, user, 0x9e37_79b9_7f4a_7c15 ^ i as u64, requests))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a session panicked"))
            .collect()
    });
    let total: usize = tallies.iter().map(|t| t.requests).sum();
    let acknowledged: usize = tallies.iter().map(|t| t.writes_acknowledged).sum();
    let retries: usize = tallies.iter().map(|t| t.retry_laters).sum();
    assert_eq!(total, threads * requests);
    assert!(
        acknowledged > total / 4,
        "the mix wrote: {acknowledged} of {total}"
    );
    eprintln!(
        "mixed load: {threads} threads x {requests} requests, {acknowledged} writes acknowledged, {retries} retry-later, 0 lost"
    );
    let rows = app.query_ints("SELECT count(*) FROM favorites WHERE ?1 = ?1", 0)[0] as usize;
    let modelled: usize = users
        .iter()
        .map(|u| app.favorite_ids_in_db(u.id).len())
        .sum();
    assert_eq!(rows, modelled, "no rows outside the users' lists");
    let integrity: String = rusqlite::Connection::open(app.db_path())
        .unwrap()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
}

fn the_same_favorite_from_many_threads_is_added_once(app: TestApp) {
    let ash = app.user("ash");
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..16)
            .map(|_| scope.spawn(|| app.add_favorite(&ash, 25).status))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut counts: HashMap<u16, usize> = HashMap::new();
    for status in statuses {
        *counts.entry(status).or_default() += 1;
    }
    assert_eq!(counts.get(&201), Some(&1), "{counts:?}");
    assert_eq!(counts.get(&409), Some(&15), "{counts:?}");
    assert_eq!(app.favorite_ids_in_db(ash.id), [25]);
}

fn the_same_username_from_many_threads_is_registered_once(app: TestApp) {
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let app = &app;
                // Different letter cases: the same name ignoring case.
                let name = if i % 2 == 0 { "Brock" } else { "brock" };
                scope.spawn(move || app.register(name, "onix-rocks").status)
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        7,
        "{statuses:?}"
    );
    assert_eq!(
        app.query_ints("SELECT count(*) FROM users WHERE ?1 = ?1", 0),
        [1]
    );
}

fn a_replace_racing_an_add_ends_in_one_of_the_serial_orders(app: TestApp) {
    let ash = app.user("ash");
    for round in 0..15 {
        assert_eq!(app.replace_favorites(&ash, &[1, 2, 3]).status, 200);
        let (put, post) = std::thread::scope(|scope| {
            let put = scope.spawn(|| app.replace_favorites(&ash, &[4, 5, 6]).status);
            let post = scope.spawn(|| app.add_favorite(&ash, 7).status);
            (put.join().unwrap(), post.join().unwrap())
        });
        assert_eq!((put, post), (200, 201), "round {round}");
        let ids = app.favorite_ids_in_db(ash.id);
        // POST then PUT: the add is replaced away. PUT then POST: it is appended.
        assert!(
            ids == [4, 5, 6] || ids == [4, 5, 6, 7],
            "round {round}: {ids:?}"
        );
    }
}
