//! The workloads the benchmark measures: each route's requests (with the status each
//! must get), the users they run as, one client's iteration on the component, and which
//! operations of the component's route table (`pokefavs::ROUTES`) they run, beside
//! those left unmeasured with the reason. The benchmark refuses to start while a route
//! of the table is in neither list.

use super::{CLIENT_COUNTS, CYCLE_POKEMON, FAVORITES, PASSWORD, REPLAY_POKEMON, SEARCH};
use crate::runner::Samples;
use pokefavs_test_host::host::{Host, HostResponse};
use pokefavs_test_host::request::{credentials, get, request};
use pokefavs_test_host::{TestApp, TestUser};
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// The `Idempotency-Key` every writer's replayed add was stored under (keys are per
/// user, so one text serves every writer).
pub(crate) const REPLAY_KEY: &str = "bench-replay";

/// A key never sent before in this process: keyed writes (component and floor) each
/// take one, so none of them finds a stored answer.
pub(crate) fn fresh_key() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("bench-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    Favorites,
    Health,
    Search,
    Cycle,
    /// The write cycle with a fresh `Idempotency-Key` on each request.
    KeyedCycle,
    /// A keyed add sent again: the stored answer replayed.
    Replay,
    Login,
    Throttled,
    Live,
}

impl Route {
    pub(crate) const ALL: [Route; 9] = [
        Route::Favorites,
        Route::Health,
        Route::Search,
        Route::Cycle,
        Route::KeyedCycle,
        Route::Replay,
        Route::Login,
        Route::Throttled,
        Route::Live,
    ];

    /// The name `BENCH_ONLY` knows the route by.
    pub(crate) fn key(self) -> &'static str {
        match self {
            Route::Favorites => "favorites",
            Route::Health => "health",
            Route::Search => "search",
            Route::Cycle => "writes",
            Route::KeyedCycle => "keyed",
            Route::Replay => "replays",
            Route::Login => "login",
            Route::Throttled => "throttled",
            Route::Live => "live",
        }
    }

    pub(crate) fn label(self) -> &'static str {
        match self {
            Route::Favorites => "GET /api/users/{id}/favorites (50)",
            Route::Health => "GET /health",
            Route::Search => "GET /api/pokemon?q=char",
            Route::Cycle => "POST + DELETE favorite (writes)",
            Route::KeyedCycle => "POST + DELETE favorite, new Idempotency-Key each (keyed)",
            Route::Replay => "POST favorite, same Idempotency-Key: replayed (replays)",
            Route::Login => "POST /api/auth/login",
            Route::Throttled => "POST /api/auth/login, throttled (429, no Argon2)",
            Route::Live => "GET /health/live (no database)",
        }
    }

    /// Whether `BENCH_ONLY` (a comma-separated list of keys, empty for all) picks this
    /// route. `idempotency` names the three favorites-write workloads together: unkeyed,
    /// keyed and replayed, so that one run compares them.
    pub(crate) fn selected(self, only: &str) -> bool {
        only.trim().is_empty()
            || only.split(',').map(str::trim).any(|k| {
                k == self.key()
                    || (k == "idempotency"
                        && matches!(self, Route::Cycle | Route::KeyedCycle | Route::Replay))
            })
    }

    /// The routes whose runs the write check follows (favorites added, keys stored).
    pub(crate) fn is_favorites_write(self) -> bool {
        matches!(self, Route::Cycle | Route::KeyedCycle | Route::Replay)
    }

    /// The read routes the target (≥ 1/3 of the floor at 32 clients) applies to.
    pub(crate) fn is_read(self) -> bool {
        matches!(self, Route::Favorites | Route::Health | Route::Search)
    }

    /// The operations of the route table (`METHOD template`) one iteration runs.
    pub(crate) fn operations(self) -> &'static [&'static str] {
        match self {
            Route::Favorites => &["GET /api/users/{id}/favorites"],
            Route::Health => &["GET /health"],
            Route::Search => &["GET /api/pokemon"],
            Route::Cycle | Route::KeyedCycle => &[
                "POST /api/users/{id}/favorites",
                "DELETE /api/users/{id}/favorites/{pokemon_id}",
            ],
            Route::Replay => &["POST /api/users/{id}/favorites"],
            Route::Login | Route::Throttled => &["POST /api/auth/login"],
            Route::Live => &["GET /health/live"],
        }
    }
}

/// The operations of the route table that no workload measures, and why. A route added
/// to the table goes into a workload or here, or the benchmark does not start.
pub(crate) const NOT_MEASURED: &[(&str, &str)] = &[
    (
        "POST /api/auth/register",
        "its cost is an Argon2id hash, as login's verify (measured), and every call \
         leaves a user behind",
    ),
    (
        "PUT /api/users/{id}/password",
        "its cost is an Argon2id verify and hash, as login's (measured), and every call \
         ends the session the next one would use",
    ),
    (
        "POST /api/auth/logout",
        "every call ends the session the next one would use",
    ),
    (
        "DELETE /api/users/{id}",
        "every call removes the user the next one would use",
    ),
    (
        "PUT /api/users/{id}/favorites",
        "a write on one list, as the add + delete cycle (measured, unkeyed and keyed; \
         a keyed replace stores its answer the same way)",
    ),
    (
        "GET /api/users/me",
        "a read of one user, as the list route (measured) reads one user's rows",
    ),
    ("GET /api/users/{id}", "the same read as GET /api/users/me"),
    (
        "GET /api/pokemon/{id}",
        "a read of one catalog row, lighter than the search (measured)",
    ),
    (
        "GET /api/openapi.json",
        "a constant answer without the database, as GET /health/live (measured)",
    ),
];

/// Panics, naming them, if a route of `pokefavs::ROUTES` is neither measured by a
/// workload nor in [`NOT_MEASURED`], or if either list names an operation the table
/// does not have (or both name the same one).
pub(crate) fn check_route_coverage() {
    // Only `method` and `template` of an entry: the table's type is the router's own.
    let table: Vec<String> = pokefavs::ROUTES
        .iter()
        .map(|route| format!("{} {}", route.method, route.template))
        .collect();
    let measured: Vec<&str> = Route::ALL
        .iter()
        .flat_map(|route| route.operations().iter().copied())
        .collect();
    let unmeasured: Vec<&str> = NOT_MEASURED.iter().map(|(op, _)| *op).collect();
    let missing: Vec<&String> = table
        .iter()
        .filter(|op| !measured.contains(&op.as_str()) && !unmeasured.contains(&op.as_str()))
        .collect();
    let unknown: Vec<&&str> = measured
        .iter()
        .chain(&unmeasured)
        .filter(|op| !table.iter().any(|t| t == **op))
        .collect();
    let both: Vec<&&str> = unmeasured
        .iter()
        .filter(|op| measured.contains(op))
        .collect();
    assert!(
        missing.is_empty() && unknown.is_empty() && both.is_empty(),
        "the benchmark must measure every route of pokefavs::ROUTES or list it in \
         NOT_MEASURED (benches/throughput/workload.rs) with the reason:\n  \
         neither measured nor listed: {missing:?}\n  \
         not in the route table: {unknown:?}\n  \
         both measured and listed as not measured: {both:?}"
    );
}

/// The operation the component's log line for `response` names (its `method` and
/// `route`), if the line has a route (a build older than the log's `route` field has
/// none).
pub(crate) fn logged_operation(response: &HostResponse) -> Option<String> {
    let line = response.stderr.lines().rev().find_map(|line| {
        serde_json::from_str::<serde_json::Value>(line)
            .ok()
            .filter(|v| v.get("request_id").is_some())
    })?;
    Some(format!(
        "{} {}",
        line["method"].as_str()?,
        line["route"].as_str()?
    ))
}

/// The users the routes run as: a reader with 50 favorites, and one writer per client
/// of the write cycle, so that concurrent cycles never touch the same row.
pub(crate) struct Fixture {
    pub(crate) reader: TestUser,
    pub(crate) writers: Vec<TestUser>,
    /// A user whose name has used up its failed logins (the window outlasts the run).
    pub(crate) throttled: TestUser,
}

impl Fixture {
    pub(crate) fn new(app: &TestApp) -> Fixture {
        // The first request migrates the fresh database.
        let health = app.get("/health", None);
        assert_eq!(health.status, 200, "GET /health: {}", body_text(&health));

        let reader = app.user_with_password("bench-reader", PASSWORD);
        let ids: Vec<i64> = (1..=FAVORITES).collect();
        let replaced = app.replace_favorites(&reader, &ids);
        assert_eq!(
            replaced.status,
            200,
            "PUT favorites: {}",
            body_text(&replaced)
        );

        let writer_count = CLIENT_COUNTS.into_iter().max().unwrap_or(1);
        // Registering and logging in is two Argon2 runs each: spread them over threads.
        let mut writers: Vec<TestUser> = std::thread::scope(|s| {
            let chunks: Vec<_> = (0..4)
                .map(|t| {
                    s.spawn(move || {
                        (0..writer_count)
                            .filter(|i| i % 4 == t)
                            .map(|i| {
                                (
                                    i,
                                    app.user_with_password(&format!("bench-writer-{i}"), PASSWORD),
                                )
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            let mut all: Vec<(usize, TestUser)> = chunks
                .into_iter()
                .flat_map(|h| h.join().expect("a setup thread panicked"))
                .collect();
            all.sort_by_key(|(i, _)| *i);
            all.into_iter().map(|(_, u)| u).collect()
        });
        writers.truncate(writer_count);
        let throttled = app.user_with_password("bench-throttled", PASSWORD);
        // The default limit is 5 failures per name in 900 s.
        for _ in 0..5 {
            app.login("bench-throttled", "not-the-password");
        }
        Fixture {
            reader,
            writers,
            throttled,
        }
    }

    /// Who a client of `route` acts as.
    pub(crate) fn actor(&self, route: Route, client: usize) -> &TestUser {
        match route {
            // Logins count every attempt at a name before checking it (contract v3), so
            // more concurrent logins of one name than its failure limit get 429: each
            // client logs in as a user of its own, as real clients do.
            Route::Cycle | Route::KeyedCycle | Route::Replay | Route::Login => {
                &self.writers[client % self.writers.len()]
            }
            Route::Throttled => &self.throttled,
            _ => &self.reader,
        }
    }
}

pub(crate) fn body_text(response: &HostResponse) -> String {
    let mut text = String::from_utf8_lossy(&response.body).into_owned();
    if let Some(trap) = &response.trap {
        text.push_str(&format!(" [trap: {trap}]"));
    }
    text
}

/// The HTTP requests of one iteration of `route` for `client`, with the status each
/// must get.
pub(crate) fn calls(
    fx: &Fixture,
    route: Route,
    client: usize,
) -> Vec<(http::Request<Vec<u8>>, u16)> {
    let actor = fx.actor(route, client);
    match route {
        Route::Favorites => vec![(
            get(
                &format!("/api/users/{}/favorites", actor.id),
                Some(&actor.token),
            ),
            200,
        )],
        Route::Health => vec![(get("/health", None), 200)],
        Route::Live => vec![(get("/health/live", None), 200)],
        Route::Search => vec![(get(&format!("/api/pokemon?q={SEARCH}"), None), 200)],
        Route::Cycle => write_cycle(actor, None),
        Route::KeyedCycle => write_cycle(actor, Some((fresh_key(), fresh_key()))),
        Route::Replay => vec![(replay_add(actor), 201)],
        Route::Login => vec![(
            request(
                "POST",
                "/api/auth/login",
                None,
                Some(&credentials(&actor.username, PASSWORD)),
            ),
            200,
        )],
        Route::Throttled => vec![(
            request(
                "POST",
                "/api/auth/login",
                None,
                Some(&credentials(&actor.username, PASSWORD)),
            ),
            429,
        )],
    }
}

/// The add + delete of [`CYCLE_POKEMON`], with a key on each request when `keys` is
/// given (one for the add, another for the delete).
fn write_cycle(
    actor: &TestUser,
    keys: Option<(String, String)>,
) -> Vec<(http::Request<Vec<u8>>, u16)> {
    let mut add = request(
        "POST",
        &format!("/api/users/{}/favorites", actor.id),
        Some(&actor.token),
        Some(&json!({ "pokemon_id": CYCLE_POKEMON })),
    );
    let mut delete = request(
        "DELETE",
        &format!("/api/users/{}/favorites/{CYCLE_POKEMON}", actor.id),
        Some(&actor.token),
        None,
    );
    if let Some((add_key, delete_key)) = keys {
        with_key(&mut add, &add_key);
        with_key(&mut delete, &delete_key);
    }
    vec![(add, 201), (delete, 204)]
}

/// The keyed add of [`REPLAY_POKEMON`] under [`REPLAY_KEY`]: [`prepare`] sends it first,
/// every later send is a replay of that answer.
fn replay_add(actor: &TestUser) -> http::Request<Vec<u8>> {
    let mut add = request(
        "POST",
        &format!("/api/users/{}/favorites", actor.id),
        Some(&actor.token),
        Some(&json!({ "pokemon_id": REPLAY_POKEMON })),
    );
    with_key(&mut add, REPLAY_KEY);
    add
}

fn with_key(request: &mut http::Request<Vec<u8>>, key: &str) {
    request.headers_mut().insert(
        "idempotency-key",
        http::HeaderValue::from_str(key).expect("a key is visible ASCII"),
    );
}

/// The key a request carries, if any.
pub(crate) fn key_of(request: &http::Request<Vec<u8>>) -> Option<String> {
    request
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Whether the component said it replayed a stored answer.
fn replayed(response: &HostResponse) -> bool {
    response.header("idempotent-replayed") == Some("true")
}

/// What a route needs before it is captured and timed. For the keyed routes: that the
/// build stores keyed answers at all (an older one ignores the header, and its "keyed"
/// writes would be unkeyed ones). For replays: every writer's first keyed add of
/// [`REPLAY_POKEMON`], its answer then stored, and the favorite removed again (unkeyed)
/// so that the writers' lists are empty for every other cell, as they are without it: a
/// replay answers what was stored whatever the list is now.
pub(crate) fn prepare(host: &Host, fx: &Fixture, route: Route) {
    let send = |request: http::Request<Vec<u8>>, expected: u16, replay: bool, what: &str| {
        let response = host.request(request);
        assert!(
            response.status == expected && replayed(&response) == replay,
            "{}: {what}: expected {expected}{}, got {} (Idempotent-Replayed: {:?}): {}\n\
             a build older than Idempotency-Key (issue 24) cannot run this workload: \
             leave `{}` out of BENCH_ONLY",
            route.label(),
            if replay { " replayed" } else { "" },
            response.status,
            response.header("idempotent-replayed"),
            body_text(&response),
            route.key()
        );
    };
    let remove = |actor: &TestUser, pokemon: i64| {
        request(
            "DELETE",
            &format!("/api/users/{}/favorites/{pokemon}", actor.id),
            Some(&actor.token),
            None,
        )
    };
    match route {
        Route::KeyedCycle => {
            let actor = fx.actor(route, 0);
            let (add, _) = write_cycle(actor, Some((fresh_key(), fresh_key())))
                .into_iter()
                .next()
                .expect("the cycle begins with its add");
            let again = clone_request(&add);
            send(add, 201, false, "a keyed add");
            send(again, 201, true, "the same keyed add again");
            send(
                remove(actor, CYCLE_POKEMON),
                204,
                false,
                "an unkeyed delete",
            );
        }
        Route::Replay => {
            let writers = CLIENT_COUNTS.into_iter().max().unwrap_or(1);
            for client in 0..writers {
                let actor = fx.actor(route, client);
                send(replay_add(actor), 201, false, "the first keyed add");
                send(replay_add(actor), 201, true, "its first retry");
                send(
                    remove(actor, REPLAY_POKEMON),
                    204,
                    false,
                    "an unkeyed delete",
                );
            }
        }
        _ => {}
    }
}

fn clone_request(request: &http::Request<Vec<u8>>) -> http::Request<Vec<u8>> {
    let mut copy = http::Request::builder()
        .method(request.method().clone())
        .uri(request.uri().clone())
        .body(request.body().clone())
        .expect("a copy of a well-formed request");
    *copy.headers_mut() = request.headers().clone();
    copy
}

pub(crate) fn component_iteration(
    host: &Host,
    fx: &Fixture,
    route: Route,
    client: usize,
    samples: &mut Samples,
) {
    for (request, expected) in calls(fx, route, client) {
        let is_post = request.method() == http::Method::POST;
        let started = Instant::now();
        let response = host.request(request);
        let latency = started.elapsed();
        if let Some(held) = response.stats.write_lock_held() {
            samples.lock_held.push(held);
        }
        // A keyed write must decide (a fresh key finds no answer); a replay must replay.
        let replay_wanted = route == Route::Replay;
        let outcome = if response.status == expected
            && response.trap.is_none()
            && (route == Route::Cycle || replayed(&response) == replay_wanted)
        {
            if matches!(route, Route::Cycle | Route::KeyedCycle) && is_post {
                samples.writes += 1;
            }
            if route == Route::KeyedCycle {
                samples.keys += 1;
            }
            Ok(())
        } else {
            Err(format!(
                "status {} (expected {expected}{}), Idempotent-Replayed: {:?}: {}",
                response.status,
                if replay_wanted { ", replayed" } else { "" },
                response.header("idempotent-replayed"),
                body_text(&response)
            ))
        };
        samples.record(latency, outcome);
    }
}
