//! `Idempotency-Key` on the three favorites writes (issue 24, the contract's
//! "Idempotency-Key: exactly-once writes"): a retry gets the first answer again and
//! changes nothing, another request under the same key is 422, keys race safely, a
//! refusal is never stored, malformed keys are 400, keys expire after 24 hours and go
//! with their user, and a request without the header leaves no trace.
//!
//! The tests are split by theme: `replay.rs` (retries, reuse, refusals, `If-Match`),
//! `keys.rs` (the key's syntax and the order of the checks), `race.rs` (one key from
//! many threads at once), `lifetime.rs` (expiry, deleted users, unkeyed requests).
//! What they share is here.

mod keys;
mod lifetime;
mod race;
mod replay;

pub(crate) use crate::helpers::favorite_writes::{add, favorites_path, remove, replace};
use crate::helpers::{TestApp, TestUser};
use crate::host::HostResponse;
use serde_json::json;

/// The request header, as the tests send it.
const KEY: &str = "idempotency-key";

/// One `Idempotency-Key` field with this value.
fn keyed(key: &str) -> [(&'static str, &str); 1] {
    [(KEY, key)]
}

/// Sets a user's list to `[1, 2, 3]` without a key, the state every [`Write`] starts from.
#[track_caller]
fn reset(app: &TestApp, user: &TestUser) {
    let response = replace(app, user, &[1, 2, 3], &[]);
    assert_eq!(response.status, 200, "reset: {}", text(&response));
}

/// One write of each route, for tests that check all three alike. Each takes the list
/// from `[1, 2, 3]` to a content of its own.
#[derive(Debug, Clone, Copy)]
enum Write {
    /// `POST` Pokémon 25.
    Add,
    /// `PUT [4, 5]`.
    Replace,
    /// `DELETE` Pokémon 2.
    Remove,
}

const WRITES: [Write; 3] = [Write::Add, Write::Replace, Write::Remove];

impl Write {
    /// The status of the write when it is decided from `[1, 2, 3]`.
    fn ok(self) -> u16 {
        match self {
            Write::Add => 201,
            Write::Replace => 200,
            Write::Remove => 204,
        }
    }

    /// The list after the write, from `[1, 2, 3]`.
    fn after(self) -> &'static [i64] {
        match self {
            Write::Add => &[1, 2, 3, 25],
            Write::Replace => &[4, 5],
            Write::Remove => &[1, 3],
        }
    }

    /// The write on `owner`'s list, by the owner.
    fn by(self, app: &TestApp, owner: &TestUser, headers: &[(&str, &str)]) -> HostResponse {
        self.send(app, owner, Some(&owner.token), headers)
    }

    /// The write on `owner`'s list, with whatever token (or none).
    fn send(
        self,
        app: &TestApp,
        owner: &TestUser,
        token: Option<&str>,
        headers: &[(&str, &str)],
    ) -> HostResponse {
        let path = favorites_path(owner);
        match self {
            Write::Add => {
                let body = json!({ "pokemon_id": 25 });
                app.send_with("POST", &path, token, Some(&body), headers)
            }
            Write::Replace => {
                let body = json!({ "pokemon_ids": [4, 5] });
                app.send_with("PUT", &path, token, Some(&body), headers)
            }
            Write::Remove => app.send_with("DELETE", &format!("{path}/2"), token, None, headers),
        }
    }
}

fn text(response: &HostResponse) -> String {
    String::from_utf8_lossy(&response.body).into_owned()
}

/// Whether the answer says it is a replay: `Idempotent-Replayed: true`, once, or nothing.
#[track_caller]
fn replayed(response: &HostResponse) -> bool {
    let values: Vec<&[u8]> = response
        .headers
        .get_all("idempotent-replayed")
        .iter()
        .map(|value| value.as_bytes())
        .collect();
    match values.as_slice() {
        [] => false,
        [b"true"] => true,
        other => panic!("Idempotent-Replayed is one `true` or absent, not {other:?}"),
    }
}

/// A request decided now (not a replay) with this status.
#[track_caller]
fn assert_decided(response: &HostResponse, status: u16) {
    assert_eq!(
        response.status,
        status,
        "expected a decided {status}, got {}: {}",
        response.status,
        text(response)
    );
    assert!(
        !replayed(response),
        "a decided request is no replay: {}",
        text(response)
    );
}

/// `again` is `first` replayed: the same status, body bytes, `Location`, `ETag` and
/// media type, plus `Idempotent-Replayed: true` (which `first` did not have).
#[track_caller]
fn assert_replay(first: &HostResponse, again: &HostResponse) {
    assert!(!replayed(first), "the first answer is no replay");
    assert!(
        replayed(again),
        "expected a replay of {} {}, got {} {}",
        first.status,
        text(first),
        again.status,
        text(again)
    );
    assert_eq!(again.status, first.status, "{}", text(again));
    assert_eq!(text(again), text(first), "the body");
    assert_eq!(again.body, first.body, "the body's bytes");
    for name in ["location", "etag", "content-type"] {
        assert_eq!(again.header(name), first.header(name), "{name}");
    }
}

/// The list's current tag, from a plain `GET`.
#[track_caller]
fn current_tag(app: &TestApp, user: &TestUser) -> String {
    let response = app.favorites(user);
    assert_eq!(response.status, 200, "{}", text(&response));
    response
        .header("etag")
        .expect("a list has a tag")
        .to_string()
}

/// The first column of a one-row query on the test's database file.
fn count(app: &TestApp, sql: &str, params: impl rusqlite::Params) -> i64 {
    let conn = rusqlite::Connection::open(app.db_path()).expect("open the test database");
    conn.query_row(sql, params, |row| row.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// How many key rows a user has.
fn keys_of(app: &TestApp, user_id: i64) -> i64 {
    count(
        app,
        "SELECT count(*) FROM idempotency_keys WHERE user_id = ?1",
        [user_id],
    )
}

/// How many rows hold exactly this key of this user (0 or 1).
fn rows_of_key(app: &TestApp, user_id: i64, key: &str) -> i64 {
    count(
        app,
        "SELECT count(*) FROM idempotency_keys WHERE user_id = ?1 AND key = ?2",
        rusqlite::params![user_id, key],
    )
}

/// How many key rows there are, of every user.
fn all_keys(app: &TestApp) -> i64 {
    count(app, "SELECT count(*) FROM idempotency_keys", ())
}
