//! The extra figures of the report: instantiation cost, Argon2id natively, and what
//! `/proc` says of the machine and of this process.

use super::PASSWORD;
use argon2::password_hash::{PasswordHash, PasswordVerifier};
use argon2::Argon2;
use pokefavs_test_host::host::Host;
use std::path::Path;
use std::time::{Duration, Instant};

pub(crate) struct Timing {
    pub(crate) mean: Duration,
    pub(crate) median: Duration,
    pub(crate) runs: usize,
}

pub(crate) fn timing(mut runs: Vec<Duration>) -> Timing {
    runs.sort_unstable();
    let total: Duration = runs.iter().sum();
    Timing {
        mean: total / runs.len().max(1) as u32,
        median: runs.get(runs.len() / 2).copied().unwrap_or_default(),
        runs: runs.len(),
    }
}

pub(crate) fn measure_instantiation(host: &Host) -> Timing {
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
pub(crate) fn measure_native_argon2(db: &Path, user_id: i64) -> (Timing, String) {
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

pub(crate) fn cpu_model() -> String {
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
pub(crate) fn process_cpu() -> Option<(Duration, Duration)> {
    pub(crate) const TICKS_PER_SECOND: u64 = 100; // USER_HZ, 100 on every Linux we run on
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
pub(crate) fn rss_kib() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4)
}

/// The process's peak resident set, from /proc (Linux only).
pub(crate) fn peak_rss_kib() -> Option<u64> {
    std::fs::read_to_string("/proc/self/status")
        .ok()?
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}
