//! Crash safety: a process serving writes is killed with SIGKILL mid-load, and the
//! database file it leaves behind is whole (`PRAGMA integrity_check` is `ok`) and holds
//! every write that was answered 2xx.
//!
//! The parent test, [`killed_writers_lose_no_acknowledged_write`], starts this same
//! test binary as a child running only the ignored test [`child_writer`], which hosts
//! the component on the database file and writes as fast as it can from two threads:
//! favorites added, replaced and removed, users registered. Around every request the
//! child appends to an acknowledgement log (plain `write` calls, so a line is in the
//! kernel before the next request starts):
//!
//! - `I <key> <user> <op>` — the intent, written *before* the request is sent;
//! - `A <key> <status>` — the answer, written *after* the component answered.
//!
//! Once enough writes are acknowledged the parent waits a time-derived extra delay and
//! kills the child. It then checks a copy of the files (the database and its WAL, as
//! the dead process left them): integrity, no orphan rows, and for every user the exact
//! list that the acknowledged operations build. Each child thread owns its users, so a
//! user has at most one operation in flight when the child dies: that one may or may
//! not have been committed, and the list must equal either the model or the model with
//! that single operation applied. Anything else — an acknowledged write missing, an
//! unacknowledged or refused one present, a write applied twice — fails the test.
//!
//! About half of the favorites writes carry an `Idempotency-Key`. After each kill the
//! component is started on the copy of the files, and every keyed write answered 2xx so
//! far, retried with its key, must get `Idempotent-Replayed: true` and the answer it got;
//! the keys stored must be exactly those of the acknowledged keyed writes and of the
//! in-flight one whose change committed (`crash/keyed.rs`).
//!
//! This runs three times on the same file, so runs two and three start on the hot WAL
//! of a killed process (recovery by the component itself) and continue the same model.
//!
//! Here: the parent and the child's test entry. The log's lines and their replay are in
//! `crash/log.rs`, the files read after a kill in `crash/files.rs`, the child's
//! writers in `crash/child.rs`, the keyed writes' checks in `crash/keyed.rs`.

mod child;
mod files;
mod keyed;
mod log;

use crate::helpers::TestApp;
use crate::host::{temp_db, Host, HostConfig, StoreMode};
use child::{writer, AckLog, Owned};
use files::{read_database, snapshot, unix_ms, with_suffix};
use log::{replay, Op};
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const ENV_DB: &str = "POKEFAVS_CRASH_DB";
const ENV_LOG: &str = "POKEFAVS_CRASH_LOG";
const ENV_RUN: &str = "POKEFAVS_CRASH_RUN";
/// The child's test, by its exact name in this binary.
const CHILD_TEST: &str = "crash::child_writer";

/// How many child runs (kills) on the same database file.
const RUNS: u32 = 3;
/// Acknowledged writes a child must have made in its run before it may be killed.
const ACKS_BEFORE_KILL: usize = 100;
/// Writer threads in the child; each owns its own users.
const WRITER_THREADS: usize = 2;

// ---------------------------------------------------------------------------------
// The parent.

/// Starts the child run `run` on `db`, logging to `log`; its output goes to `output`.
fn spawn_child(db: &Path, log: &Path, run: u32, output: &Path) -> Child {
    let out = File::create(output).expect("create the child's output file");
    let err = out.try_clone().expect("clone the output file");
    Command::new(std::env::current_exe().expect("the test binary"))
        .args([CHILD_TEST, "--exact", "--ignored", "--nocapture"])
        .args(["--test-threads", "1"])
        .env(ENV_DB, db)
        .env(ENV_LOG, log)
        .env(ENV_RUN, run.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .spawn()
        .expect("start the child test process")
}

/// Complete answer lines with a 2xx status in the log text.
fn count_acks(text: &str) -> usize {
    text.split_inclusive('\n')
        .filter(|line| line.ends_with('\n'))
        .filter(|line| {
            let words: Vec<&str> = line.trim_end().split(' ').collect();
            matches!(words.as_slice(), ["A", _, status, ..] if status.starts_with('2'))
        })
        .count()
}

/// Cuts a partial last line, so the next run's lines start on a line of their own.
fn drop_partial_line(log: &Path) {
    let text = std::fs::read(log).expect("read the log");
    let keep = text.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    if keep < text.len() {
        OpenOptions::new()
            .write(true)
            .open(log)
            .and_then(|f| f.set_len(keep as u64))
            .expect("truncate the log");
    }
}

#[test]
fn killed_writers_lose_no_acknowledged_write() {
    let started = Instant::now();
    let db = temp_db("crash");
    let log = with_suffix(&db, ".acks");
    let output = with_suffix(&db, ".child-output");
    File::create(&log).expect("create the acknowledgement log");
    // The state every check starts from: users and their lists, as recovered.
    let mut model: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let mut total_acknowledged = 0;
    let mut keyed_state = keyed::KeyedState::default();
    let mut total_keyed_retries = 0;

    for run in 1..=RUNS {
        let log_start = std::fs::metadata(&log).expect("log").len() as usize;
        let spawned = Instant::now();
        let mut child = spawn_child(&db, &log, run, &output);
        let child_output = || std::fs::read_to_string(&output).unwrap_or_default();

        // Wait for enough acknowledged writes of this run.
        let deadline = spawned + Duration::from_secs(60);
        loop {
            let text = std::fs::read_to_string(&log).expect("read the log");
            if count_acks(&text[log_start.min(text.len())..]) >= ACKS_BEFORE_KILL {
                break;
            }
            if let Some(status) = child.try_wait().expect("poll the child") {
                panic!(
                    "run {run}: the child exited ({status}) before it was killed:\n{}",
                    child_output()
                );
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "run {run}: fewer than {ACKS_BEFORE_KILL} writes acknowledged in 60 s:\n{}",
                    child_output()
                );
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        // A little more load, for a time no one chose: the kill lands anywhere in a
        // request (before, inside or after its transaction).
        let extra = Duration::from_micros(u64::from(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .expect("clock")
                .subsec_nanos()
                % 250_000,
        ));
        std::thread::sleep(extra);
        if let Some(status) = child.try_wait().expect("poll the child") {
            panic!(
                "run {run}: the child exited ({status}) before it was killed:\n{}",
                child_output()
            );
        }
        child.kill().expect("SIGKILL the child");
        let killed_at = unix_ms();
        let killed_after = spawned.elapsed();
        let status = child.wait().expect("reap the child");
        assert!(!status.success(), "run {run}: the child was not killed");

        drop_partial_line(&log);
        let text = std::fs::read_to_string(&log).expect("read the log");
        let before = model.clone();
        let replayed = replay(&text[log_start..], &mut model);
        let copy = snapshot(&db, "crash-check");
        let found = read_database(&copy);

        // Every user: the model, or the model with its one in-flight operation applied.
        let mut committed_in_flight = 0;
        let mut expected_users: Vec<&String> = model.keys().collect();
        for (user, op) in &replayed.in_flight {
            let Some(listed) = found.get(user) else {
                assert!(
                    *op == Op::Register,
                    "run {run}: user {user} is gone (in flight: {op:?})"
                );
                continue;
            };
            let acknowledged = model.get(user).cloned();
            let with_op = op.apply(acknowledged.as_deref().unwrap_or(&[]));
            if *op == Op::Register {
                expected_users.push(user);
                assert!(acknowledged.is_none(), "{user} registered twice");
                assert_eq!(
                    listed, &with_op,
                    "run {run}: {user} registered unacknowledged"
                );
                committed_in_flight += 1;
            } else if Some(listed) != acknowledged.as_ref() {
                assert_eq!(
                    listed, &with_op,
                    "run {run}: {user}'s list is neither the acknowledged one {acknowledged:?} \
                     nor that with the in-flight {op:?}"
                );
                committed_in_flight += 1;
            }
        }
        let in_flight_users: Vec<&String> = replayed.in_flight.iter().map(|(u, _)| u).collect();
        for (user, list) in &model {
            if in_flight_users.contains(&user) {
                continue;
            }
            let listed = found.get(user).unwrap_or_else(|| {
                panic!("run {run}: user {user} was acknowledged but is not in the database")
            });
            assert_eq!(
                listed,
                list,
                "run {run}: {user}'s list differs from the acknowledged writes \
                 (at the start of the run it was {:?})",
                before.get(user)
            );
        }
        let mut found_users: Vec<&String> = found.keys().collect();
        found_users.sort();
        expected_users.sort();
        assert_eq!(
            found_users, expected_users,
            "run {run}: the users in the database are the acknowledged ones"
        );
        let keyed =
            keyed::check_after_kill(run, &copy, &model, &found, &replayed, &mut keyed_state);
        total_keyed_retries += keyed.retried;
        // What the next run starts from: the state found, now known to be right.
        model = found;
        total_acknowledged += replayed.acknowledged_ops;

        let loop_ms = replayed
            .loop_started_ms
            .map(|s| killed_at.saturating_sub(s))
            .unwrap_or(0);
        let rate = replayed.acknowledged_ops as f64 / (loop_ms.max(1) as f64 / 1000.0);
        eprintln!(
            "crash run {run}: killed {:.0} ms after spawn ({loop_ms} ms of writing, \
             {extra:?} after the {ACKS_BEFORE_KILL}th ack); {} writes acknowledged \
             ({rate:.0}/s), {} refused, {} in flight of which {committed_in_flight} committed; \
             {} users; integrity ok; every list exact, lost 0; keyed: {} in flight of which \
             {} stored with their change, {} retried after the restart, each replayed or \
             decided as its key says",
            killed_after.as_secs_f64() * 1000.0,
            replayed.acknowledged_ops,
            replayed.answered_not_2xx,
            replayed.in_flight.len(),
            model.len(),
            keyed.in_flight,
            keyed.committed,
            keyed.retried,
        );
        let _ = std::fs::remove_file(&copy);
        let _ = std::fs::remove_file(with_suffix(&copy, "-wal"));
    }

    // The file itself, opened after the last crash (this checkpoints it), agrees too.
    assert_eq!(
        read_database(&db),
        model,
        "the original file after the last kill"
    );
    eprintln!(
        "crash: {RUNS} SIGKILLs, {total_acknowledged} acknowledged writes, 0 lost, \
         {total_keyed_retries} keyed retries after restarts, in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// The child half of [`killed_writers_lose_no_acknowledged_write`]; does nothing useful
/// on its own, and refuses to run without the parent's environment.
#[test]
#[ignore = "the child process of crash::killed_writers_lose_no_acknowledged_write"]
fn child_writer() {
    let (Some(db), Some(log), Some(run)) = (
        std::env::var_os(ENV_DB),
        std::env::var_os(ENV_LOG),
        std::env::var(ENV_RUN)
            .ok()
            .and_then(|r| r.parse::<u32>().ok()),
    ) else {
        panic!(
            "{CHILD_TEST} is the child process of crash::killed_writers_lose_no_acknowledged_write \
             and needs {ENV_DB}, {ENV_LOG} and {ENV_RUN}: run the parent test instead \
             (`cargo test --test api -- crash`)"
        );
    };
    let log_path = PathBuf::from(log);
    // Users that earlier runs registered: whoever can still log in is theirs to write.
    let previous = std::fs::read_to_string(&log_path).expect("read the acknowledgement log");
    let mut earlier: Vec<String> = Vec::new();
    for line in previous.lines() {
        if let ["I", _, user, "register"] = line.split(' ').collect::<Vec<_>>().as_slice() {
            earlier.push(user.to_string());
        }
    }
    let log = AckLog(Mutex::new(
        OpenOptions::new()
            .append(true)
            .open(&log_path)
            .expect("open the acknowledgement log"),
    ));
    let app = TestApp {
        host: Host::new(HostConfig::new(PathBuf::from(db))).expect("the host starts"),
        mode: StoreMode::Local,
    };
    let mut per_thread: Vec<Vec<Owned>> = (0..WRITER_THREADS).map(|_| Vec::new()).collect();
    for (index, username) in earlier.into_iter().enumerate() {
        let password = format!("{username}-password");
        let login = app.login(&username, &password);
        if login.status != 200 {
            continue; // its registration was in flight and did not commit
        }
        let token = login.json()["access_token"]
            .as_str()
            .expect("a token")
            .to_string();
        let me = app.me(&token).json();
        let user = crate::helpers::TestUser {
            id: me["id"].as_i64().expect("an id"),
            username,
            password,
            token,
        };
        log.token(&user);
        let listed = app.get(
            &format!("/api/users/{}/favorites?limit=200", user.id),
            Some(&user.token),
        );
        assert_eq!(listed.status, 200, "{}", listed.text());
        let list = listed.json()["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["pokemon_id"].as_i64().expect("an id"))
            .collect();
        per_thread[index % WRITER_THREADS].push(Owned { user, list });
    }
    log.line(format!("S {run} {}", unix_ms()));
    std::thread::scope(|scope| {
        for (thread, users) in per_thread.into_iter().enumerate() {
            let (app, log) = (&app, &log);
            scope.spawn(move || writer(app, log, run, thread, users));
        }
    });
}
