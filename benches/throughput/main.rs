//! Throughput of the release component on the test host, against a native floor.
//!
//! Run it with
//!
//! ```sh
//! cargo build --target wasm32-wasip2 --release && cargo bench --bench throughput
//! ```
//!
//! `BENCH_SECONDS` (default 3) is the measured time of each route at each client count;
//! the whole run takes about 35 times that, plus setup. `BENCH_ONLY=favorites,login`
//! runs only those routes (`favorites`, `health`, `search`, `writes`, `keyed`,
//! `replays`, `login`, `throttled`, `live`); `BENCH_ONLY=idempotency` is `writes`,
//! `keyed` and `replays` together, the unkeyed writes and what an `Idempotency-Key`
//! costs in one run. `keyed` and `replays` need a build with `Idempotency-Key` (issue
//! 24); on an older one they stop the run before anything is timed.
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
//!   add + delete favorite cycle (unkeyed; with a new `Idempotency-Key` on each request;
//!   and a keyed add sent again, which replays its stored answer) and
//!   `POST /api/auth/login` (plus `GET /health/live`, which
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
//!   AUTOINCREMENT sequence (none lost), no row left over, one stored answer per keyed
//!   request, and nothing at all changed by the replays. The keyed and replayed cells
//!   are also set beside the unkeyed ones of the same run (req/s and CPU ratios).
//! - Instantiation cost (instantiate + drop an idle instance), the `.wasm` size, memory
//!   (the host has no per-instance hook, so: the resident set's rise during each run at
//!   32 clients, per client), Argon2id in the component vs natively, and the machine.
//!
//! Every route of the component's table (`pokefavs::ROUTES`) is either run by a
//! workload or listed in `NOT_MEASURED` with the reason (`workload.rs`); the benchmark
//! refuses to start otherwise. The files: this one runs the whole; `workload.rs` is
//! what each route's clients send, `floor.rs` the native floor, `runner.rs` a timed
//! run and its summary, `figures.rs` the extra figures, `report.rs` the Markdown.

mod figures;
mod floor;
mod report;
mod runner;
mod workload;

use figures::*;
use floor::*;
use report::Report;
use runner::*;
use std::time::Duration;
use workload::*;

use pokefavs_test_host::host::{Host, StoreMode};
use pokefavs_test_host::TestApp;

/// The client counts every route is measured at.
const CLIENT_COUNTS: [usize; 2] = [1, 32];
/// How many favorites the reader has, and so how many the list route returns.
const FAVORITES: i64 = 50;
/// The favorite each writer adds and deletes; writers start with none.
const CYCLE_POKEMON: i64 = 25;
/// The favorite of each writer's keyed add that the replay workload sends again.
const REPLAY_POKEMON: i64 = 26;
/// Spin's (and the test host's) busy timeout; the floor uses the same.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
const PASSWORD: &str = "bench-password-1234";
const SEARCH: &str = "char";

fn main() {
    // Before any setup: a route of the table that is neither measured nor listed as
    // left out (with the reason) stops the run here.
    check_route_coverage();
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
    let routes: Vec<Route> = Route::ALL
        .into_iter()
        .filter(|route| route.selected(&only))
        .collect();
    for &route in &routes {
        prepare(host, &fx, route);
    }
    let plans: Vec<RoutePlan> = routes
        .into_iter()
        .map(|route| RoutePlan::capture(host, db, &fx, route))
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
            if plan.route.is_favorites_write() {
                write_checks.push(WriteCheck::new(
                    plan.route,
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
                if plan.route.is_favorites_write() {
                    write_checks.push(WriteCheck::new(
                        plan.route,
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
