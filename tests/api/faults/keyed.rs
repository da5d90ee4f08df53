//! The keyed writes (`Idempotency-Key`, issue 24) as routes of the sweeps: add, replace
//! and remove with a key never used before (the change and the key's row are written by
//! one statement), a keyed remove that finds nothing (404: not stored), and a replay of
//! each keyed write (the write that changes nothing, then the read of the stored answer).
//!
//! Each `prepare` draws a new key, so a route's calls after one prepare are one client
//! retrying one request: the call that a fault failed, then the retry, which must be
//! decided afresh (or, for a replay route, replayed). Every call checks itself: a keyed
//! write that succeeded is not a replay and left its key's row, one that failed left
//! none; a replay that succeeded carries `Idempotent-Replayed: true` and the first
//! answer, byte for byte. The sweep checks the rest: the answer to the fault, and the
//! database unchanged by the failed call (its dump covers `idempotency_keys`).

use super::routes::{Call, WriteRoute};
use crate::helpers::{TestApp, TestUser};
use crate::host::HostResponse;
use serde_json::{json, Value};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// The key of the current round of a route, and the first answer given for it (for a
/// replay route: the answer the replays must repeat).
#[derive(Default)]
struct Round {
    key: String,
    first: Option<HostResponse>,
}

/// How many rows `idempotency_keys` holds for this user and key.
pub(super) fn key_rows(app: &TestApp, user: i64, key: &str) -> i64 {
    let conn = rusqlite::Connection::open(app.db_path()).expect("open the test database");
    conn.query_row(
        "SELECT count(*) FROM idempotency_keys WHERE user_id = ?1 AND key = ?2",
        rusqlite::params![user, key],
        |row| row.get(0),
    )
    .expect("count the key's rows")
}

/// One keyed request: method, path and JSON body (`None`: no body).
#[derive(Clone)]
struct Keyed {
    method: &'static str,
    path: String,
    body: Option<Value>,
}

impl Keyed {
    fn send(&self, app: &TestApp, user: &TestUser, key: &str) -> HostResponse {
        app.send_with(
            self.method,
            &self.path,
            Some(&user.token),
            self.body.as_ref(),
            &[("idempotency-key", key)],
        )
    }
}

/// Asserts that `replay` is the stored answer `first`, replayed.
#[track_caller]
pub(super) fn assert_replays(replay: &HostResponse, first: &HostResponse, what: &str) {
    assert_eq!(replay.status, first.status, "{what}: {}", replay.text());
    assert_eq!(
        replay.header("idempotent-replayed"),
        Some("true"),
        "{what}: a replay says so"
    );
    assert_eq!(replay.body, first.body, "{what}: the same body bytes");
    for header in ["etag", "location", "content-type"] {
        assert_eq!(
            replay.header(header),
            first.header(header),
            "{what}: the same {header}"
        );
    }
}

pub(super) fn keyed_routes<'a>(
    app: &'a TestApp,
    ash: &'a TestUser,
    counter: &'a Cell<u32>,
) -> Vec<WriteRoute<'a>> {
    let list = format!("/api/users/{}/favorites", ash.id);
    let add = Keyed {
        method: "POST",
        path: list.clone(),
        body: Some(json!({"pokemon_id": 25})),
    };
    let replace = Keyed {
        method: "PUT",
        path: list.clone(),
        body: Some(json!({"pokemon_ids": [4, 5, 6]})),
    };
    let remove = Keyed {
        method: "DELETE",
        path: format!("{list}/2"),
        body: None,
    };
    let remove_absent = Keyed {
        method: "DELETE",
        path: format!("{list}/99"),
        body: None,
    };
    vec![
        fresh(app, ash, counter, "keyed add favorite", 201, add.clone()),
        fresh(
            app,
            ash,
            counter,
            "keyed replace favorites",
            200,
            replace.clone(),
        ),
        fresh(
            app,
            ash,
            counter,
            "keyed remove favorite",
            204,
            remove.clone(),
        ),
        // Nothing to remove: 404, which is not stored, so every retry is decided afresh.
        fresh(
            app,
            ash,
            counter,
            "keyed remove absent favorite",
            404,
            remove_absent,
        ),
        replayed(app, ash, counter, "keyed add favorite replayed", 201, add),
        replayed(
            app,
            ash,
            counter,
            "keyed replace favorites replayed",
            200,
            replace,
        ),
        replayed(
            app,
            ash,
            counter,
            "keyed remove favorite replayed",
            204,
            remove,
        ),
    ]
}

/// Ash's list back at `[1, 2, 3]`, as every keyed route starts from (unkeyed: it leaves
/// no key behind).
fn list_of_three(app: &TestApp, ash: &TestUser) {
    let response = app.replace_favorites(ash, &[1, 2, 3]);
    assert_eq!(response.status, 200, "{}", response.text());
}

/// A new key for the next round of a route.
fn next_key(counter: &Cell<u32>, name: &str) -> String {
    counter.set(counter.get() + 1);
    format!("sweep-{}-{}", name.replace(' ', "-"), counter.get())
}

/// A keyed write with a key never used: each call is decided, a success writes the key's
/// row with the change and is no replay, anything else leaves no row.
fn fresh<'a>(
    app: &'a TestApp,
    ash: &'a TestUser,
    counter: &'a Cell<u32>,
    name: &'static str,
    ok: u16,
    request: Keyed,
) -> WriteRoute<'a> {
    let round = Rc::new(RefCell::new(Round::default()));
    let prepare = {
        let round = Rc::clone(&round);
        move || {
            list_of_three(app, ash);
            round.borrow_mut().key = next_key(counter, name);
            None
        }
    };
    let call = move |_: Option<&TestUser>| {
        let key = round.borrow().key.clone();
        let response = request.send(app, ash, &key);
        let what = format!("{name} with key {key} -> {}", response.status);
        assert_eq!(
            response.header("idempotent-replayed"),
            None,
            "{what}: a key never answered before is decided, not replayed"
        );
        let stored = (200..300).contains(&response.status) && response.trap.is_none();
        assert_eq!(
            key_rows(app, ash.id, &key),
            i64::from(stored),
            "{what}: the key is stored exactly when the list changed"
        );
        response
    };
    WriteRoute {
        name,
        ok,
        prepare: Box::new(prepare),
        call: Box::new(call) as Call<'a>,
    }
}

/// A keyed write made once while preparing, then the list changed again (a replay is
/// the stored answer whatever the list is now): each call replays it, and a failed call
/// leaves the key's row as it was.
fn replayed<'a>(
    app: &'a TestApp,
    ash: &'a TestUser,
    counter: &'a Cell<u32>,
    name: &'static str,
    ok: u16,
    request: Keyed,
) -> WriteRoute<'a> {
    let round = Rc::new(RefCell::new(Round::default()));
    let prepare = {
        let round = Rc::clone(&round);
        let request = request.clone();
        move || {
            list_of_three(app, ash);
            let key = next_key(counter, name);
            let first = request.send(app, ash, &key);
            assert_eq!(first.status, ok, "{name}: the first call: {}", first.text());
            assert_eq!(first.header("idempotent-replayed"), None, "{name}");
            assert_eq!(key_rows(app, ash.id, &key), 1, "{name}: the key is stored");
            list_of_three(app, ash);
            *round.borrow_mut() = Round {
                key,
                first: Some(first),
            };
            None
        }
    };
    let call = move |_: Option<&TestUser>| {
        let round = round.borrow();
        let response = request.send(app, ash, &round.key);
        let what = format!("{name} with key {} -> {}", round.key, response.status);
        if response.status == ok && response.trap.is_none() {
            let first = round.first.as_ref().expect("prepared");
            assert_replays(&response, first, &what);
        }
        assert_eq!(
            key_rows(app, ash.id, &round.key),
            1,
            "{what}: the stored answer stays"
        );
        response
    };
    WriteRoute {
        name,
        ok,
        prepare: Box::new(prepare),
        call: Box::new(call) as Call<'a>,
    }
}
