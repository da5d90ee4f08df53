//! Running a phase (clients on threads for a time) and summarising it: the samples,
//! requests/s, latency quantiles, CPU time and resident set per run, and the write
//! cycle's lost-writes check.

use crate::figures::{process_cpu, rss_kib};
use crate::workload::Route;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Barrier;
use std::time::{Duration, Instant};

#[derive(Default)]
pub(crate) struct Samples {
    pub(crate) latencies: Vec<Duration>,
    pub(crate) errors: usize,
    pub(crate) first_error: Option<String>,
    /// Inserts acknowledged (a 201 from the component, a committed INSERT natively).
    pub(crate) writes: usize,
    /// Keyed answers acknowledged as decided (not replayed): each must have stored its
    /// key's row.
    pub(crate) keys: usize,
    /// How long each component request that wrote held the write lock, as the host
    /// measured it (`RequestStats::write_lock_held`).
    pub(crate) lock_held: Vec<Duration>,
}

impl Samples {
    pub(crate) fn record(&mut self, latency: Duration, outcome: Result<(), String>) {
        self.latencies.push(latency);
        if let Err(e) = outcome {
            self.errors += 1;
            self.first_error.get_or_insert(e);
        }
    }

    pub(crate) fn merge(&mut self, other: Samples) {
        self.latencies.extend(other.latencies);
        self.errors += other.errors;
        self.writes += other.writes;
        self.keys += other.keys;
        self.lock_held.extend(other.lock_held);
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }
}

/// The requests of one timed run.
pub(crate) struct Phase {
    pub(crate) samples: Samples,
    pub(crate) elapsed: Duration,
    /// CPU time the whole process spent during the run (user, system), if readable.
    pub(crate) cpu: Option<(Duration, Duration)>,
    /// How far the resident set rose above where it was when the run began.
    pub(crate) rss_rise_kib: Option<u64>,
}

impl Phase {
    pub(crate) fn requests(&self) -> usize {
        self.samples.latencies.len()
    }

    pub(crate) fn per_second(&self) -> f64 {
        self.requests() as f64 / self.elapsed.as_secs_f64()
    }

    /// CPU microseconds per request and the share of it spent in the kernel. Unlike
    /// requests/s, this barely depends on what else the machine is running.
    pub(crate) fn cpu_per_request(&self) -> Option<(f64, f64)> {
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
    pub(crate) fn percentile_ms(&self, q: f64) -> f64 {
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
pub(crate) fn run_phase(
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

/// The favorites table (and the stored keyed answers) as the lost-writes check sees it.
pub(crate) struct WriteState {
    pub(crate) rows: i64,
    /// The AUTOINCREMENT sequence: it grows by exactly one per committed insert.
    pub(crate) sequence: i64,
    /// Answers stored under an `Idempotency-Key` (0 on a build without the table). None
    /// expires during a run, so the count grows by one per keyed write decided.
    pub(crate) keys: i64,
}

impl WriteState {
    pub(crate) fn read(db: &Path) -> WriteState {
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
        let has_keys: bool = conn
            .query_row(
                "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'idempotency_keys'",
                [],
                |r| r.get(0),
            )
            .expect("look for the keys table");
        let keys = if has_keys {
            conn.query_row("SELECT count(*) FROM idempotency_keys", [], |r| r.get(0))
                .expect("count stored keys")
        } else {
            0
        };
        WriteState {
            rows,
            sequence,
            keys,
        }
    }
}

/// The outcome of one run of a favorites-write workload (its warm-up included).
pub(crate) struct WriteCheck {
    pub(crate) route: Route,
    pub(crate) who: &'static str,
    pub(crate) clients: usize,
    pub(crate) acknowledged: usize,
    pub(crate) committed: i64,
    pub(crate) leftover: i64,
    /// Keyed answers acknowledged as decided, and the stored keys' growth: equal, and
    /// both 0 for unkeyed writes and for replays (a replay stores nothing).
    pub(crate) keys_acknowledged: usize,
    pub(crate) keys_stored: i64,
    pub(crate) errors: usize,
}

impl WriteCheck {
    pub(crate) fn new(
        route: Route,
        who: &'static str,
        clients: usize,
        before: &WriteState,
        after: &WriteState,
        phases: &[&Phase],
    ) -> WriteCheck {
        WriteCheck {
            route,
            who,
            clients,
            acknowledged: phases.iter().map(|p| p.samples.writes).sum(),
            committed: after.sequence - before.sequence,
            leftover: after.rows - before.rows,
            keys_acknowledged: phases.iter().map(|p| p.samples.keys).sum(),
            keys_stored: after.keys - before.keys,
            errors: phases.iter().map(|p| p.samples.errors).sum(),
        }
    }

    /// Acknowledged inserts that are not in the sequence (or the other way round).
    pub(crate) fn lost(&self) -> i64 {
        self.acknowledged as i64 - self.committed
    }

    /// Keyed answers acknowledged whose row is not stored (or the other way round).
    pub(crate) fn keys_lost(&self) -> i64 {
        self.keys_acknowledged as i64 - self.keys_stored
    }

    pub(crate) fn ok(&self) -> bool {
        self.errors == 0 && self.lost() == 0 && self.leftover == 0 && self.keys_lost() == 0
    }
}

pub(crate) struct Row {
    pub(crate) route: Route,
    pub(crate) clients: usize,
    pub(crate) component: Phase,
    pub(crate) floor: Option<Phase>,
}

impl Row {
    pub(crate) fn ratio(&self) -> Option<f64> {
        self.floor
            .as_ref()
            .map(|f| self.component.per_second() / f.per_second())
    }
}
