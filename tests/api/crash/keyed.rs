//! The keyed writes of the crash test (`Idempotency-Key`, issue 24): how the child sends
//! a write with or without its key, and what the parent checks after each kill, on the
//! copy of the files the killed process left (the component restarted on them):
//!
//! - the keys in `idempotency_keys` are exactly those of the keyed writes answered 2xx,
//!   and of the one in flight for a user if and only if its change is in the list: no
//!   key without its change, no change without its key;
//! - every keyed write answered 2xx so far, in this run or an earlier one, retried with
//!   its key and request, gets `Idempotent-Replayed: true` and the answer it got then
//!   (status, body bytes, `ETag`, `Location`);
//! - the keyed write in flight, retried with its key: replayed if its key was stored,
//!   else decided afresh as the acknowledged list says.

use super::log::{Answer, KeyedWrite, Op, RunLog};
use crate::helpers::{TestApp, TestUser};
use crate::host::{Host, HostConfig, HostResponse, StoreMode};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Sends `op` for `user`, with `Idempotency-Key: key` when there is one.
pub(super) fn send(app: &TestApp, user: &TestUser, op: &Op, key: Option<&str>) -> HostResponse {
    let list = format!("/api/users/{}/favorites", user.id);
    let (method, path, body) = match op {
        Op::Add(id) => ("POST", list, Some(json!({ "pokemon_id": id }))),
        Op::Remove(id) => ("DELETE", format!("{list}/{id}"), None),
        Op::Replace(ids) => ("PUT", list, Some(json!({ "pokemon_ids": ids }))),
        Op::Register => unreachable!("a registration has no key"),
    };
    let headers: Vec<(&str, &str)> = key.map(|k| ("idempotency-key", k)).into_iter().collect();
    app.send_with(method, &path, Some(&user.token), body.as_ref(), &headers)
}

/// What the keyed checks carry from one kill to the next.
#[derive(Default)]
pub(super) struct KeyedState {
    /// Every keyed write whose key the database must hold, by key, with the answer its
    /// replays must repeat: those answered 2xx, and those in flight whose change
    /// committed (their answer as first replayed).
    pub(super) stored: BTreeMap<String, KeyedWrite>,
    /// The last token of each user: their id and the token.
    pub(super) tokens: BTreeMap<String, (i64, String)>,
}

/// The rows of `idempotency_keys` in the file at `path`: key → (username, status).
fn key_rows(path: &Path) -> BTreeMap<String, (String, u16)> {
    let conn = rusqlite::Connection::open(path).expect("open the copy");
    let mut statement = conn
        .prepare(
            "SELECT k.key, u.username, k.status FROM idempotency_keys k
             LEFT JOIN users u ON u.id = k.user_id ORDER BY k.key",
        )
        .expect("read idempotency_keys");
    let rows = statement
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, u16>(2)?,
            ))
        })
        .expect("read idempotency_keys");
    let mut keys = BTreeMap::new();
    for row in rows {
        let (key, user, status) = row.expect("a key row");
        let user = user.unwrap_or_else(|| panic!("key {key} of a user that is gone"));
        assert!(
            keys.insert(key.clone(), (user, status)).is_none(),
            "key {key} stored for two users: the child's keys are unique"
        );
    }
    keys
}

/// The user `name` as the parent speaks for them: id and the last token the child held.
fn user(state: &KeyedState, name: &str) -> TestUser {
    let (id, token) = state
        .tokens
        .get(name)
        .unwrap_or_else(|| panic!("no token logged for {name}"))
        .clone();
    TestUser {
        id,
        username: name.to_string(),
        password: format!("{name}-password"),
        token,
    }
}

/// Asserts that `response` replays `answer`.
#[track_caller]
fn assert_replays(response: &HostResponse, answer: &Answer, what: &str) {
    assert_eq!(
        response.status,
        answer.status,
        "{what}: {}",
        String::from_utf8_lossy(&response.body)
    );
    assert_eq!(
        response.header("idempotent-replayed"),
        Some("true"),
        "{what}: a replay says so"
    );
    assert_eq!(response.body, answer.body, "{what}: the same body bytes");
    assert_eq!(
        response.header("etag"),
        answer.etag.as_deref(),
        "{what}: the same ETag"
    );
    assert_eq!(
        response.header("location"),
        answer.location.as_deref(),
        "{what}: the same Location"
    );
}

/// What the keyed checks after one kill saw.
pub(super) struct KeyedRun {
    /// Keyed writes retried on the restarted component.
    pub(super) retried: usize,
    /// Keyed writes in flight at the kill, and how many of them had committed.
    pub(super) in_flight: usize,
    pub(super) committed: usize,
}

/// The checks after kill `run`, on `copy` (the files the killed child left, copied), with
/// `acknowledged` every user's list as the acknowledged writes built it and `found` as
/// the copy holds it.
pub(super) fn check_after_kill(
    run: u32,
    copy: &Path,
    acknowledged: &BTreeMap<String, Vec<i64>>,
    found: &BTreeMap<String, Vec<i64>>,
    replayed: &RunLog,
    state: &mut KeyedState,
) -> KeyedRun {
    state.tokens.extend(replayed.tokens.clone());
    for write in &replayed.keyed_acks {
        assert!(
            state
                .stored
                .insert(write.key.clone(), write.clone())
                .is_none(),
            "run {run}: key {} answered twice",
            write.key
        );
    }
    let rows = key_rows(copy);
    // The keyed write in flight for a user: its key is there exactly when its change is.
    let mut committed = BTreeSet::new();
    for (key, name, op) in &replayed.keyed_in_flight {
        let before = acknowledged.get(name).cloned().unwrap_or_default();
        let listed = found
            .get(name)
            .unwrap_or_else(|| panic!("run {run}: {name} is gone"));
        if rows.contains_key(key) {
            assert!(
                op.changes(&before),
                "run {run}: in-flight {op:?} of {name} (key {key}) could not change \
                 {before:?}, yet its key is stored"
            );
            assert_eq!(
                listed,
                &op.apply(&before),
                "run {run}: in-flight {op:?} of {name}: its key is stored, its change is not"
            );
            committed.insert(key.clone());
        } else {
            assert_eq!(
                listed, &before,
                "run {run}: in-flight {op:?} of {name}: its change is there, its key {key} is not"
            );
        }
    }
    // No other key: not of a write refused, answered 503, or never answered.
    let expected: BTreeSet<&String> = state.stored.keys().chain(&committed).collect();
    let present: BTreeSet<&String> = rows.keys().collect();
    assert_eq!(
        present, expected,
        "run {run}: the stored keys are those of the acknowledged keyed writes"
    );
    for (key, write) in &state.stored {
        let (name, status) = &rows[key];
        assert_eq!(name, &write.user, "run {run}: key {key}'s user");
        assert_eq!(
            *status, write.answer.status,
            "run {run}: key {key}'s status"
        );
    }

    // The component restarted on the files: every keyed write retried.
    let app = TestApp {
        host: Host::new(HostConfig::new(copy.to_path_buf())).expect("the host starts"),
        mode: StoreMode::Local,
    };
    let mut retried = 0;
    for (key, write) in &state.stored {
        let response = send(&app, &user(state, &write.user), &write.op, Some(key));
        let what = format!("run {run}: {} {:?} with key {key}", write.user, write.op);
        assert_replays(&response, &write.answer, &what);
        retried += 1;
    }
    for (key, name, op) in &replayed.keyed_in_flight {
        let response = send(&app, &user(state, name), op, Some(key));
        let what = format!("run {run}: in-flight {name} {op:?} with key {key}");
        retried += 1;
        if committed.contains(key) {
            assert!(
                (200..300).contains(&response.status),
                "{what}: {}",
                response.text()
            );
            assert_eq!(
                response.header("idempotent-replayed"),
                Some("true"),
                "{what}: its key was stored, so the retry is a replay"
            );
            let answer = Answer {
                status: response.status,
                etag: response.header("etag").map(str::to_string),
                location: response.header("location").map(str::to_string),
                body: response.body.clone(),
            };
            state.stored.insert(
                key.clone(),
                KeyedWrite {
                    key: key.clone(),
                    user: name.clone(),
                    op: op.clone(),
                    answer,
                },
            );
        } else {
            let before = acknowledged.get(name).cloned().unwrap_or_default();
            let status = match op {
                Op::Add(_) if op.changes(&before) => 201,
                Op::Add(_) => 409,
                Op::Remove(_) if op.changes(&before) => 204,
                Op::Remove(_) => 404,
                Op::Replace(_) | Op::Register => 200,
            };
            assert_eq!(response.status, status, "{what}: {}", response.text());
            assert_eq!(
                response.header("idempotent-replayed"),
                None,
                "{what}: no key was stored, so the retry is decided afresh"
            );
        }
    }
    KeyedRun {
        retried,
        in_flight: replayed.keyed_in_flight.len(),
        committed: committed.len(),
    }
}
