//! The floor: the SQL statements the component ran for a route (captured from one real
//! request), run natively through rusqlite on the same database file, with no wasm and
//! no HTTP, and for login a native Argon2id verify.

use super::{BUSY_TIMEOUT, CLIENT_COUNTS, FAVORITES, PASSWORD};
use crate::runner::Samples;
use crate::workload::{body_text, calls, fresh_key, key_of, logged_operation, Fixture, Route};
use argon2::password_hash::{PasswordHash, PasswordVerifier};
use argon2::Argon2;
use pokefavs_test_host::host::Host;
use pokefavs_test_host::TestUser;
use rusqlite::types::Value;
use std::path::Path;
use std::time::Instant;

/// One native "request": a fresh connection, these statements, and (login) a verify.
#[derive(Debug, Clone)]
pub(crate) struct FloorRequest {
    pub(crate) statements: Vec<(String, Vec<Value>)>,
    pub(crate) verify_password: bool,
    /// Whether the request inserts a row (counted for the lost-writes check).
    pub(crate) inserts: bool,
    /// The `Idempotency-Key` the captured request carried, where each native run must
    /// bind a new one instead (a keyed write: with the captured key it would find the
    /// stored answer and change nothing). A replay keeps its key.
    pub(crate) fresh_key_for: Option<String>,
}

/// What one component request of a route did, as the host recorded it.
pub(crate) struct Captured {
    pub(crate) method: String,
    /// The request's `Idempotency-Key`, if it had one.
    pub(crate) key: Option<String>,
    pub(crate) statements: Vec<String>,
    /// The parameters of each statement, as the component bound them.
    pub(crate) params: Vec<Vec<Value>>,
    pub(crate) opens: usize,
    pub(crate) variable_gets: usize,
    /// Calls into the Spin interfaces (open, execute, variables, ...): what Spin charges.
    pub(crate) spin_calls: usize,
    /// The instance's linear memory at its largest during the request.
    pub(crate) peak_memory_bytes: usize,
    /// `memory.grow`s past the initial memory.
    pub(crate) memory_grows: usize,
}

/// A route with the statements its requests run and the floor built from them.
pub(crate) struct RoutePlan {
    pub(crate) route: Route,
    pub(crate) captured: Vec<Captured>,
    /// Per client, the floor requests of one iteration.
    pub(crate) floor: Vec<Vec<FloorRequest>>,
    /// Rows each statement returned in the floor's check run (client 0).
    pub(crate) floor_rows: Vec<Vec<usize>>,
}

impl RoutePlan {
    pub(crate) fn capture(host: &Host, db: &Path, fx: &Fixture, route: Route) -> RoutePlan {
        let mut captured = Vec::new();
        let mut component_items = None;
        for (request, expected) in calls(fx, route, 0) {
            let method = request.method().to_string();
            let key = key_of(&request);
            let response = host.request(request);
            if let Some(op) = logged_operation(&response) {
                assert!(
                    route.operations().contains(&op.as_str()),
                    "{} ran {op}, which its operations() do not list",
                    route.label()
                );
            }
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
                key,
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
                        // remove, which also begins with INSERT; not a replay, whose
                        // keyed insert finds the key taken and inserts nothing).
                        inserts: route != Route::Replay
                            && c.statements.iter().any(|s| {
                                let s = s.trim_start();
                                s.starts_with("INSERT INTO favorites")
                                    || (s.starts_with("INSERT INTO keyed_favorite_writes")
                                        && s.contains("'add'"))
                            }),
                        fresh_key_for: c.key.clone().filter(|_| route == Route::KeyedCycle),
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
    pub(crate) fn spin_calls_per_request(&self) -> f64 {
        let calls: usize = self.captured.iter().map(|c| c.spin_calls).sum();
        calls as f64 / self.captured.len().max(1) as f64
    }

    pub(crate) fn has_floor(&self) -> bool {
        self.floor.first().is_some_and(|r| !r.is_empty())
    }

    pub(crate) fn floor_iteration(&self, db: &Path, client: usize, samples: &mut Samples) {
        for request in &self.floor[client % self.floor.len()] {
            let started = Instant::now();
            let outcome = floor_request(db, request);
            let latency = started.elapsed();
            if outcome.is_ok() && request.inserts {
                samples.writes += 1;
            }
            if outcome.is_ok() && request.fresh_key_for.is_some() {
                samples.keys += 1;
            }
            samples.record(latency, outcome.map(drop));
        }
    }
}

/// The parameters the component bound for `probe` (the actor of the captured
/// request), rebound for `actor`: every statement that is about a user has it as `?1`.
pub(crate) fn for_actor(params: &[Value], probe: &TestUser, actor: &TestUser) -> Vec<Value> {
    let mut params = params.to_vec();
    if let Some(first) = params.first_mut() {
        if *first == Value::Integer(probe.id) {
            *first = Value::Integer(actor.id);
        }
    }
    params
}

/// One native request: returns the rows each statement gave.
pub(crate) fn floor_request(db: &Path, request: &FloorRequest) -> Result<Vec<usize>, String> {
    let conn = rusqlite::Connection::open(db).map_err(|e| format!("open: {e}"))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| format!("busy_timeout: {e}"))?;
    let mut counts = Vec::with_capacity(request.statements.len());
    let mut hash = None;
    let fresh = request
        .fresh_key_for
        .as_ref()
        .map(|captured| (Value::Text(captured.clone()), Value::Text(fresh_key())));
    for (sql, params) in &request.statements {
        let rows = match &fresh {
            Some((captured, fresh)) => {
                let params: Vec<Value> = params
                    .iter()
                    .map(|p| {
                        if p == captured {
                            fresh.clone()
                        } else {
                            p.clone()
                        }
                    })
                    .collect();
                run_statement(&conn, sql, &params)
            }
            None => run_statement(&conn, sql, params),
        }
        .map_err(|e| format!("{e}: {sql}"))?;
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
pub(crate) fn run_statement(
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
