//! Throughput of the release component on the test host, against a native floor.
//!
//! Run it with
//!
//! ```sh
//! cargo build --target wasm32-wasip2 --release && cargo bench --bench throughput
//! ```
//!
//! `BENCH_SECONDS` (default 3) is the measured time of each route at each client count;
//! the whole run takes about 25 times that, plus setup. `BENCH_ONLY=favorites,login`
//! runs only those routes (`favorites`, `health`, `search`, `writes`, `login`, `live`).
//! Progress goes to stderr, the report (Markdown, ready to paste) to stdout.
//! `POKEFAVS_TEST_WASM=<file>` measures another build of the component on the same host
//! (a "before" run: build the older commit, point this at its `.wasm`; with an older
//! contract, also set `POKEFAVS_OLDER_CONTRACT=1` so that setup's requests are not held
//! to today's `openapi.json`).
//!
//! The host charges what Spin charges: each `spin:sqlite` statement runs on tokio's
//! blocking pool, as Spin's `sqlite-inproc` does, so a route pays for every host call it
//! makes (the table's "host calls/req" column).
//!
//! What it measures, on one fresh database holding a user with 50 favorites:
//!
//! - For `GET /api/users/{id}/favorites`, `GET /health`, `GET /api/pokemon?q=char`, an
//!   add + delete favorite cycle and `POST /api/auth/login` (plus `GET /health/live`, which
//!   touches no database and so shows the host's own cost per request): requests/s, p50
//!   and p99 latency and errors (any status but the expected one), from 1 client and from
//!   32 concurrent clients. A client is a thread calling [`Host::request`], which makes a
//!   fresh instance of the component for every request, as Spin does.
//! - **The floor** of each route: the SQL statements the component ran for it (taken from
//!   [`HostResponse::stats`] of one real request, parameters rebuilt from the route) run
//!   natively through rusqlite on the same database file, with no wasm and no HTTP: a new
//!   connection per request with a 5 s busy timeout, as Spin opens one per request, and
//!   for login a native Argon2id verify with the same parameters. The ratio
//!   component/floor says how much of the native speed the component keeps.
//! - CPU time per request (the process's user + system time over a run, divided by its
//!   requests) for both, which depends far less than requests/s on what else the
//!   machine is running.
//! - The writes (each add + delete cycle runs on a user of its own per client) are
//!   checked after each run: no error, every acknowledged insert in the table's
//!   AUTOINCREMENT sequence (none lost), no row left over.
//! - Instantiation cost (instantiate + drop an idle instance), the `.wasm` size, memory
//!   (the host has no per-instance hook, so: the resident set's rise during each run at
//!   32 clients, per client), Argon2id in the component vs natively, and the machine.

mod report;

use report::Report;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Barrier;
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordVerifier};
use argon2::Argon2;
use pokefavs_test_host::host::{Host, HostResponse, StoreMode};
use pokefavs_test_host::request::{credentials, get, request};
use pokefavs_test_host::{TestApp, TestUser};
use rusqlite::types::Value;
use serde_json::json;

/// The client counts every route is measured at.
const CLIENT_COUNTS: [usize; 2] = [1, 32];
/// How many favorites the reader has, and so how many the list route returns.
const FAVORITES: i64 = 50;
/// The favorite each writer adds and deletes; writers start with none.
const CYCLE_POKEMON: i64 = 25;
/// Spin's (and the test host's) busy timeout; the floor uses the same.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
const PASSWORD: &str = "bench-password-1234";
const SEARCH: &str = "char";

fn main() {
    let seconds = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| *s > 0.0)
        .unwrap_or(3.0);
    let measure = Duration::from_secs_f64(seconds);
    let warmup = Duration::from_secs_f64((seconds / 6.0).min(0.5));
    let load_before = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();

    let app = TestApp::new(StoreMode::Local);
    let (host, db) = (&app.host, app.db_path());
    progress("setting up: a reader with 50 favorites, 32 writers");
    let fx = Fixture::new(&app);

    progress("capturing each route's statements");
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let plans: Vec<RoutePlan> = Route::ALL
        .iter()
        .filter(|route| only.is_empty() || only.split(',').any(|k| k.trim() == route.key()))
        .map(|&route| RoutePlan::capture(host, db, &fx, route))
        .collect();

    let mut rows = Vec::new();
    let mut write_checks = Vec::new();
    for plan in &plans {
        for clients in CLIENT_COUNTS {
            let before = WriteState::read(db);
            progress(&format!("{} x{clients}: component", plan.route.label()));
            let component_iteration = |client: usize, samples: &mut Samples| {
                component_iteration(host, &fx, plan.route, client, samples)
            };
            let warm = run_phase(clients, warmup, &component_iteration);
            let component = run_phase(clients, measure, &component_iteration);
            if plan.route == Route::Cycle {
                write_checks.push(WriteCheck::new(
                    "component",
                    clients,
                    &before,
                    &WriteState::read(db),
                    &[&warm, &component],
                ));
            }

            let floor = if plan.has_floor() {
                let before = WriteState::read(db);
                progress(&format!("{} x{clients}: floor", plan.route.label()));
                let floor_iteration = |client: usize, samples: &mut Samples| {
                    plan.floor_iteration(db, client, samples)
                };
                let warm = run_phase(clients, warmup, &floor_iteration);
                let floor = run_phase(clients, measure, &floor_iteration);
                if plan.route == Route::Cycle {
                    write_checks.push(WriteCheck::new(
                        "floor",
                        clients,
                        &before,
                        &WriteState::read(db),
                        &[&warm, &floor],
                    ));
                }
                Some(floor)
            } else {
                None
            };
            rows.push(Row {
                route: plan.route,
                clients,
                component,
                floor,
            });
        }
    }

    progress("instantiation, Argon2id");
    let instantiation = measure_instantiation(host);
    let native_argon2 = measure_native_argon2(db, fx.reader.id);

    let report = Report {
        seconds,
        host,
        rows: &rows,
        plans: &plans,
        write_checks: &write_checks,
        instantiation,
        native_argon2,
        load_before: load_before.trim(),
    };
    print!("{}", report.render());
    // The database's directory goes with the app.
    drop(app);
    if write_checks.iter().any(|c| !c.ok()) {
        eprintln!("the write check failed: see the report");
        std::process::exit(1);
    }
}

fn progress(message: &str) {
    eprintln!("[bench] {message}");
}

// ---------------------------------------------------------------------------------------
// The routes and the data they run on

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Favorites,
    Health,
    Search,
    Cycle,
    Login,
    Throttled,
    Live,
}

impl Route {
    const ALL: [Route; 7] = [
        Route::Favorites,
        Route::Health,
        Route::Search,
        Route::Cycle,
        Route::Login,
        Route::Throttled,
        Route::Live,
    ];

    /// The name `BENCH_ONLY` knows the route by.
    fn key(self) -> &'static str {
        match self {
            Route::Favorites => "favorites",
            Route::Health => "health",
            Route::Search => "search",
            Route::Cycle => "writes",
            Route::Login => "login",
            Route::Throttled => "throttled",
            Route::Live => "live",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Route::Favorites => "GET /api/users/{id}/favorites (50)",
            Route::Health => "GET /health",
            Route::Search => "GET /api/pokemon?q=char",
            Route::Cycle => "POST + DELETE favorite (writes)",
            Route::Login => "POST /api/auth/login",
            Route::Throttled => "POST /api/auth/login, throttled (429, no Argon2)",
            Route::Live => "GET /health/live (no database)",
        }
    }

    /// The read routes the target (≥ 1/3 of the floor at 32 clients) applies to.
    fn is_read(self) -> bool {
        matches!(self, Route::Favorites | Route::Health | Route::Search)
    }
}

/// The users the routes run as: a reader with 50 favorites, and one writer per client
/// of the write cycle, so that concurrent cycles never touch the same row.
struct Fixture {
    reader: TestUser,
    writers: Vec<TestUser>,
    /// A user whose name has used up its failed logins (the window outlasts the run).
    throttled: TestUser,
}

impl Fixture {
    fn new(app: &TestApp) -> Fixture {
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
    fn actor(&self, route: Route, client: usize) -> &TestUser {
        match route {
            // Logins count every attempt at a name before checking it (contract v3), so
            // more concurrent logins of one name than its failure limit get 429: each
            // client logs in as a user of its own, as real clients do.
            Route::Cycle | Route::Login => &self.writers[client % self.writers.len()],
            Route::Throttled => &self.throttled,
            _ => &self.reader,
        }
    }
}

fn body_text(response: &HostResponse) -> String {
    let mut text = String::from_utf8_lossy(&response.body).into_owned();
    if let Some(trap) = &response.trap {
        text.push_str(&format!(" [trap: {trap}]"));
    }
    text
}

/// The HTTP requests of one iteration of `route` for `client`, with the status each
/// must get.
fn calls(fx: &Fixture, route: Route, client: usize) -> Vec<(http::Request<Vec<u8>>, u16)> {
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
        Route::Cycle => vec![
            (
                request(
                    "POST",
                    &format!("/api/users/{}/favorites", actor.id),
                    Some(&actor.token),
                    Some(&json!({ "pokemon_id": CYCLE_POKEMON })),
                ),
                201,
            ),
            (
                request(
                    "DELETE",
                    &format!("/api/users/{}/favorites/{CYCLE_POKEMON}", actor.id),
                    Some(&actor.token),
                    None,
                ),
                204,
            ),
        ],
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

fn component_iteration(
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
        let outcome = if response.status == expected && response.trap.is_none() {
            if route == Route::Cycle && is_post {
                samples.writes += 1;
            }
            Ok(())
        } else {
            Err(format!(
                "status {} (expected {expected}): {}",
                response.status,
                body_text(&response)
            ))
        };
        samples.record(latency, outcome);
    }
}

// ---------------------------------------------------------------------------------------
// The floor: the component's statements, natively

/// One native "request": a fresh connection, these statements, and (login) a verify.
#[derive(Debug, Clone)]
struct FloorRequest {
    statements: Vec<(String, Vec<Value>)>,
    verify_password: bool,
    /// Whether the request inserts a row (counted for the lost-writes check).
    inserts: bool,
}

/// What one component request of a route did, as the host recorded it.
struct Captured {
    method: String,
    statements: Vec<String>,
    /// The parameters of each statement, as the component bound them.
    params: Vec<Vec<Value>>,
    opens: usize,
    variable_gets: usize,
    /// Calls into the Spin interfaces (open, execute, variables, ...): what Spin charges.
    spin_calls: usize,
    /// The instance's linear memory at its largest during the request.
    peak_memory_bytes: usize,
    /// `memory.grow`s past the initial memory.
    memory_grows: usize,
}

/// A route with the statements its requests run and the floor built from them.
struct RoutePlan {
    route: Route,
    captured: Vec<Captured>,
    /// Per client, the floor requests of one iteration.
    floor: Vec<Vec<FloorRequest>>,
    /// Rows each statement returned in the floor's check run (client 0).
    floor_rows: Vec<Vec<usize>>,
}

impl RoutePlan {
    fn capture(host: &Host, db: &Path, fx: &Fixture, route: Route) -> RoutePlan {
        let mut captured = Vec::new();
        let mut component_items = None;
        for (request, expected) in calls(fx, route, 0) {
            let method = request.method().to_string();
            let response = host.request(request);
            assert_eq!(
                response.status,
                expected,
                "{}: {}",
                route.label(),
                body_text(&response)
            );
            if matches!(route, Route::Favorites | Route::Search) {
                component_items = response.json()["items"].as_array().map(Vec::len);
            }
            captured.push(Captured {
                method,
                statements: response.stats.sql().into_iter().map(String::from).collect(),
                params: response
                    .stats
                    .statements
                    .iter()
                    .map(|s| s.params.clone())
                    .collect(),
                opens: response.stats.opens,
                variable_gets: response.stats.variable_gets,
                spin_calls: response.stats.spin_calls(),
                peak_memory_bytes: response.stats.peak_memory_bytes,
                memory_grows: response.stats.memory_grows,
            });
        }
        if route == Route::Favorites {
            assert_eq!(
                component_items,
                Some(FAVORITES as usize),
                "the list route must return all 50 favorites"
            );
        }

        let clients = CLIENT_COUNTS.into_iter().max().unwrap_or(1);
        let probe = fx.actor(route, 0);
        let floor: Vec<Vec<FloorRequest>> = (0..clients)
            .map(|client| {
                let actor = fx.actor(route, client);
                captured
                    .iter()
                    .filter(|c| !c.statements.is_empty())
                    .map(|c| FloorRequest {
                        statements: c
                            .statements
                            .iter()
                            .zip(&c.params)
                            .map(|(sql, params)| (sql.clone(), for_actor(params, probe, actor)))
                            .collect(),
                        verify_password: route == Route::Login,
                        // A favorite inserted (not the epoch upsert of an older build's
                        // remove, which also begins with INSERT).
                        inserts: c
                            .statements
                            .iter()
                            .any(|s| s.trim_start().starts_with("INSERT INTO favorites")),
                    })
                    .collect()
            })
            .collect();

        // Check the rebuilt parameters against SQLite's own count, and run the floor once
        // so that a wrong parameter shows here rather than as a fast, empty floor.
        let conn = rusqlite::Connection::open(db).expect("open the bench database");
        for request in floor.iter().flatten() {
            for (sql, params) in &request.statements {
                let wanted = conn
                    .prepare(sql)
                    .unwrap_or_else(|e| panic!("the floor cannot prepare {sql:?}: {e}"))
                    .parameter_count();
                assert_eq!(
                    wanted,
                    params.len(),
                    "the host recorded the wrong number of parameters for this statement \
                     of {}:\n{sql}",
                    route.label()
                );
            }
        }
        drop(conn);
        let floor_rows: Vec<Vec<usize>> = floor
            .first()
            .map(|requests| {
                requests
                    .iter()
                    .map(|r| {
                        floor_request(db, r).unwrap_or_else(|e| {
                            panic!("the floor of {} failed its check run: {e}", route.label())
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        if let Some(items) = component_items {
            let most = floor_rows.iter().flatten().copied().max().unwrap_or(0);
            assert!(
                most >= items,
                "the floor of {} returns {most} rows, the component showed {items} items",
                route.label()
            );
        }
        RoutePlan {
            route,
            captured,
            floor,
            floor_rows,
        }
    }

    /// Spin host calls per HTTP request of this route (the write cycle averages its two).
    fn spin_calls_per_request(&self) -> f64 {
        let calls: usize = self.captured.iter().map(|c| c.spin_calls).sum();
        calls as f64 / self.captured.len().max(1) as f64
    }

    fn has_floor(&self) -> bool {
        self.floor.first().is_some_and(|r| !r.is_empty())
    }

    fn floor_iteration(&self, db: &Path, client: usize, samples: &mut Samples) {
        for request in &self.floor[client % self.floor.len()] {
            let started = Instant::now();
            let outcome = floor_request(db, request);
            let latency = started.elapsed();
            if outcome.is_ok() && request.inserts {
                samples.writes += 1;
            }
            samples.record(latency, outcome.map(drop));
        }
    }
}

/// The parameters the component bound for `probe` (the actor of the captured
/// request), rebound for `actor`: every statement that is about a user has it as `?1`.
fn for_actor(params: &[Value], probe: &TestUser, actor: &TestUser) -> Vec<Value> {
    let mut params = params.to_vec();
    if let Some(first) = params.first_mut() {
        if *first == Value::Integer(probe.id) {
            *first = Value::Integer(actor.id);
        }
    }
    params
}

/// One native request: returns the rows each statement gave.
fn floor_request(db: &Path, request: &FloorRequest) -> Result<Vec<usize>, String> {
    let conn = rusqlite::Connection::open(db).map_err(|e| format!("open: {e}"))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| format!("busy_timeout: {e}"))?;
    let mut counts = Vec::with_capacity(request.statements.len());
    let mut hash = None;
    for (sql, params) in &request.statements {
        let rows = run_statement(&conn, sql, params).map_err(|e| format!("{e}: {sql}"))?;
        counts.push(rows.len());
        if request.verify_password && hash.is_none() {
            hash = rows.into_iter().flatten().find_map(|v| match v {
                Value::Text(t) if t.starts_with("$argon2") => Some(t),
                _ => None,
            });
        }
    }
    if request.verify_password {
        let hash = hash.ok_or("no password hash among the rows")?;
        let parsed = PasswordHash::new(&hash).map_err(|e| format!("hash: {e}"))?;
        Argon2::default()
            .verify_password(PASSWORD.as_bytes(), &parsed)
            .map_err(|e| format!("verify: {e}"))?;
    }
    Ok(counts)
}

/// Runs one statement and collects every row as owned values, as the host does for the
/// component.
fn run_statement(
    conn: &rusqlite::Connection,
    sql: &str,
    params: &[Value],
) -> rusqlite::Result<Vec<Vec<Value>>> {
    let mut statement = conn.prepare(sql)?;
    let columns = statement.column_count();
    let mut rows = statement.query(rusqlite::params_from_iter(params))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(
            (0..columns)
                .map(|i| row.get::<_, Value>(i))
                .collect::<rusqlite::Result<Vec<_>>>()?,
        );
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Running a phase and summarising it

#[derive(Default)]
struct Samples {
    latencies: Vec<Duration>,
    errors: usize,
    first_error: Option<String>,
    /// Inserts acknowledged (a 201 from the component, a committed INSERT natively).
    writes: usize,
    /// How long each component request that wrote held the write lock, as the host
    /// measured it (`RequestStats::write_lock_held`).
    lock_held: Vec<Duration>,
}

impl Samples {
    fn record(&mut self, latency: Duration, outcome: Result<(), String>) {
        self.latencies.push(latency);
        if let Err(e) = outcome {
            self.errors += 1;
            self.first_error.get_or_insert(e);
        }
    }

    fn merge(&mut self, other: Samples) {
        self.latencies.extend(other.latencies);
        self.errors += other.errors;
        self.writes += other.writes;
        self.lock_held.extend(other.lock_held);
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }
}

/// The requests of one timed run.
struct Phase {
    samples: Samples,
    elapsed: Duration,
    /// CPU time the whole process spent during the run (user, system), if readable.
    cpu: Option<(Duration, Duration)>,
    /// How far the resident set rose above where it was when the run began.
    rss_rise_kib: Option<u64>,
}

impl Phase {
    fn requests(&self) -> usize {
        self.samples.latencies.len()
    }

    fn per_second(&self) -> f64 {
        self.requests() as f64 / self.elapsed.as_secs_f64()
    }

    /// CPU microseconds per request and the share of it spent in the kernel. Unlike
    /// requests/s, this barely depends on what else the machine is running.
    fn cpu_per_request(&self) -> Option<(f64, f64)> {
        let (user, system) = self.cpu?;
        let total = (user + system).as_secs_f64();
        if self.requests() == 0 || total == 0.0 {
            return None;
        }
        Some((
            total * 1e6 / self.requests() as f64,
            system.as_secs_f64() / total,
        ))
    }

    /// The `q` quantile of latency in milliseconds (nearest rank).
    fn percentile_ms(&self, q: f64) -> f64 {
        let sorted = &self.samples.latencies;
        if sorted.is_empty() {
            return f64::NAN;
        }
        let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        sorted[rank - 1].as_secs_f64() * 1e3
    }
}

/// Runs `iteration` on `clients` threads for `duration`, then lets each thread finish the
/// iteration it is in. Requests/s counts every request over the whole wall time.
fn run_phase(
    clients: usize,
    duration: Duration,
    iteration: &(dyn Fn(usize, &mut Samples) + Sync),
) -> Phase {
    let stop = AtomicBool::new(false);
    let barrier = Barrier::new(clients + 1);
    std::thread::scope(|s| {
        let threads: Vec<_> = (0..clients)
            .map(|client| {
                let (stop, barrier) = (&stop, &barrier);
                s.spawn(move || {
                    let mut samples = Samples::default();
                    barrier.wait();
                    while !stop.load(Ordering::Relaxed) {
                        iteration(client, &mut samples);
                    }
                    samples
                })
            })
            .collect();
        let cpu_before = process_cpu();
        let rss_before = rss_kib();
        let mut rss_peak = rss_before;
        barrier.wait();
        let started = Instant::now();
        // Sample the resident set while the clients run: its rise, shared by the
        // clients, is what each in-flight request holds.
        while let Some(left) = duration.checked_sub(started.elapsed()) {
            std::thread::sleep(left.min(Duration::from_millis(5)));
            rss_peak = rss_peak.max(rss_kib());
        }
        stop.store(true, Ordering::Relaxed);
        let mut samples = Samples::default();
        for thread in threads {
            samples.merge(thread.join().expect("a client thread panicked"));
        }
        let elapsed = started.elapsed();
        let cpu = match (cpu_before, process_cpu()) {
            (Some((u0, s0)), Some((u1, s1))) => {
                Some((u1.saturating_sub(u0), s1.saturating_sub(s0)))
            }
            _ => None,
        };
        samples.latencies.sort_unstable();
        samples.lock_held.sort_unstable();
        Phase {
            samples,
            elapsed,
            cpu,
            rss_rise_kib: match (rss_before, rss_peak) {
                (Some(before), Some(peak)) => Some(peak.saturating_sub(before)),
                _ => None,
            },
        }
    })
}

/// The favorites table as the lost-writes check sees it.
struct WriteState {
    rows: i64,
    /// The AUTOINCREMENT sequence: it grows by exactly one per committed insert.
    sequence: i64,
}

impl WriteState {
    fn read(db: &Path) -> WriteState {
        let conn = rusqlite::Connection::open(db).expect("open the bench database");
        let rows = conn
            .query_row("SELECT count(*) FROM favorites", [], |r| r.get(0))
            .expect("count favorites");
        let sequence = conn
            .query_row(
                "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'favorites'), 0)",
                [],
                |r| r.get(0),
            )
            .expect("read the favorites sequence");
        WriteState { rows, sequence }
    }
}

/// The outcome of one run of the write cycle (its warm-up included).
struct WriteCheck {
    who: &'static str,
    clients: usize,
    acknowledged: usize,
    committed: i64,
    leftover: i64,
    errors: usize,
}

impl WriteCheck {
    fn new(
        who: &'static str,
        clients: usize,
        before: &WriteState,
        after: &WriteState,
        phases: &[&Phase],
    ) -> WriteCheck {
        WriteCheck {
            who,
            clients,
            acknowledged: phases.iter().map(|p| p.samples.writes).sum(),
            committed: after.sequence - before.sequence,
            leftover: after.rows - before.rows,
            errors: phases.iter().map(|p| p.samples.errors).sum(),
        }
    }

    /// Acknowledged inserts that are not in the sequence (or the other way round).
    fn lost(&self) -> i64 {
        self.acknowledged as i64 - self.committed
    }

    fn ok(&self) -> bool {
        self.errors == 0 && self.lost() == 0 && self.leftover == 0
    }
}

struct Row {
    route: Route,
    clients: usize,
    component: Phase,
    floor: Option<Phase>,
}

impl Row {
    fn ratio(&self) -> Option<f64> {
        self.floor
            .as_ref()
            .map(|f| self.component.per_second() / f.per_second())
    }
}

// ---------------------------------------------------------------------------------------
// The extra figures

struct Timing {
    mean: Duration,
    median: Duration,
    runs: usize,
}

fn timing(mut runs: Vec<Duration>) -> Timing {
    runs.sort_unstable();
    let total: Duration = runs.iter().sum();
    Timing {
        mean: total / runs.len().max(1) as u32,
        median: runs.get(runs.len() / 2).copied().unwrap_or_default(),
        runs: runs.len(),
    }
}

fn measure_instantiation(host: &Host) -> Timing {
    for _ in 0..20 {
        host.instantiate_idle();
    }
    timing(
        (0..500)
            .map(|_| {
                let started = Instant::now();
                host.instantiate_idle();
                started.elapsed()
            })
            .collect(),
    )
}

/// Argon2id verify natively, against the hash the component stored (so the parameters
/// are the component's own), with the same `Argon2::default()` the component uses.
fn measure_native_argon2(db: &Path, user_id: i64) -> (Timing, String) {
    let conn = rusqlite::Connection::open(db).expect("open the bench database");
    let hash: String = conn
        .query_row(
            "SELECT password_hash FROM users WHERE id = ?1",
            [user_id],
            |r| r.get(0),
        )
        .expect("the reader's hash");
    let parsed = PasswordHash::new(&hash).expect("a PHC string");
    let runs = (0..20)
        .map(|_| {
            let started = Instant::now();
            Argon2::default()
                .verify_password(PASSWORD.as_bytes(), &parsed)
                .expect("the password verifies");
            started.elapsed()
        })
        .collect();
    // The PHC prefix names the algorithm and its parameters; the salt and hash stay out.
    let params = hash.split('$').take(4).collect::<Vec<_>>().join("$");
    (timing(runs), params)
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string())
}

/// The CPU time this process has used so far (user, system), from /proc (Linux only;
/// kernel ticks of 10 ms, fine over a run of seconds).
fn process_cpu() -> Option<(Duration, Duration)> {
    const TICKS_PER_SECOND: u64 = 100; // USER_HZ, 100 on every Linux we run on
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces:
    // state is field 3, utime 14, stime 15.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<u64>().ok();
    let to_duration = |t: u64| Duration::from_millis(t * 1000 / TICKS_PER_SECOND);
    Some((to_duration(ticks(11)?), to_duration(ticks(12)?)))
}

/// The process's resident set now, from /proc (Linux only; 4 KiB pages).
fn rss_kib() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4)
}

/// The process's peak resident set, from /proc (Linux only).
fn peak_rss_kib() -> Option<u64> {
    std::fs::read_to_string("/proc/self/status")
        .ok()?
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}
