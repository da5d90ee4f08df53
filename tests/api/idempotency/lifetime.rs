//! How long a key lives: 24 hours (aged here by moving `created_at` back in the file),
//! then it is as if absent and the next keyed write removes it; deleting the user
//! removes their keys; a request without the header leaves no row at all.

use super::{
    add, all_keys, assert_decided, assert_replay, count, keyed, keys_of, remove, replayed, reset,
    rows_of_key, text, Write, WRITES,
};
use crate::helpers::{assert_json, assert_problem, store_tests, TestApp};

/// A key counts for this long after its request.
const DAY: i64 = 86_400;

store_tests!(
    a_key_replays_for_a_day_then_is_decided_afresh,
    the_next_keyed_write_removes_expired_keys_of_every_user,
    deleting_a_user_removes_their_keys,
    a_request_without_the_header_stores_nothing,
);

/// Moves every key's `created_at` back by `seconds`, straight in the file.
fn age(app: &TestApp, seconds: i64) {
    let conn = rusqlite::Connection::open(app.db_path()).expect("open the test database");
    let aged = conn
        .execute(
            "UPDATE idempotency_keys SET created_at = created_at - ?1",
            [seconds],
        )
        .expect("age the keys");
    assert!(aged > 0, "no keys to age");
}

/// Rows whose 24 hours are over.
fn expired(app: &TestApp) -> i64 {
    count(
        app,
        "SELECT count(*) FROM idempotency_keys WHERE created_at <= unixepoch() - ?1",
        [DAY],
    )
}

fn a_key_replays_for_a_day_then_is_decided_afresh(app: TestApp) {
    let ash = app.user("ash");
    reset(&app, &ash);
    let added = add(&app, &ash, 25, &keyed("added"));
    assert_decided(&added, 201);
    let removed = remove(&app, &ash, 2, &keyed("removed"));
    assert_decided(&removed, 204);
    // An hour short of a day: still the stored answers.
    age(&app, DAY - 3600);
    assert_replay(&added, &add(&app, &ash, 25, &keyed("added")));
    assert_replay(&removed, &remove(&app, &ash, 2, &keyed("removed")));
    assert_eq!(keys_of(&app, ash.id), 2);
    // A day: the retries are decided as if the keys were new.
    age(&app, 3600);
    assert_eq!(expired(&app), 2);
    let again = add(&app, &ash, 25, &keyed("added"));
    assert!(!replayed(&again), "an expired key does not replay");
    assert_problem(&again, 409, "favorite_exists");
    let again = remove(&app, &ash, 2, &keyed("removed"));
    assert!(!replayed(&again), "an expired key does not replay");
    assert_problem(&again, 404, "not_found");
    // Another request under an expired key is no reuse: it is decided and stored.
    let other = add(&app, &ash, 26, &keyed("added"));
    assert_decided(&other, 201);
    assert_replay(&other, &add(&app, &ash, 26, &keyed("added")));
    assert_eq!(app.favorite_ids_in_db(ash.id), [1, 3, 25, 26]);
    assert_eq!(rows_of_key(&app, ash.id, "added"), 1);
    assert_eq!(expired(&app), 0, "the write removed the expired rows");
}

fn the_next_keyed_write_removes_expired_keys_of_every_user(app: TestApp) {
    let ash = app.user("ash");
    let misty = app.user("misty");
    assert_decided(&add(&app, &ash, 25, &keyed("a1")), 201);
    assert_decided(&add(&app, &ash, 26, &keyed("a2")), 201);
    let mistys = add(&app, &misty, 7, &keyed("m1"));
    assert_decided(&mistys, 201);
    age(&app, DAY);
    // Expired, but still in the table until a keyed write.
    assert_eq!(expired(&app), 3);
    // The next keyed write, Misty's, removes Ash's expired rows and her own.
    let fresh = add(&app, &misty, 8, &keyed("m2"));
    assert_decided(&fresh, 201);
    assert_eq!(expired(&app), 0, "every expired row is gone");
    assert_eq!(keys_of(&app, ash.id), 0);
    assert_eq!(keys_of(&app, misty.id), 1);
    assert_eq!(rows_of_key(&app, misty.id, "m2"), 1);
    assert_replay(&fresh, &add(&app, &misty, 8, &keyed("m2")));
    // Her expired key decides afresh: 7 is a favorite already.
    assert_problem(&add(&app, &misty, 7, &keyed("m1")), 409, "favorite_exists");
    assert_eq!(app.favorite_ids_in_db(ash.id), [25, 26]);
    assert_eq!(app.favorite_ids_in_db(misty.id), [7, 8]);
}

fn deleting_a_user_removes_their_keys(app: TestApp) {
    let ash = app.user("ash");
    let misty = app.user("misty");
    for write in WRITES {
        reset(&app, &ash);
        let first = write.by(&app, &ash, &keyed(&format!("{write:?}")));
        assert!(first.status < 300, "{write:?}: {}", text(&first));
    }
    assert_decided(&add(&app, &misty, 25, &keyed("Add")), 201);
    assert_eq!((keys_of(&app, ash.id), keys_of(&app, misty.id)), (3, 1));
    assert_eq!(app.delete_user(&ash).status, 204);
    assert_eq!(keys_of(&app, ash.id), 0, "the user's keys went with them");
    assert_eq!(keys_of(&app, misty.id), 1, "no one else's");
    // The name again (an account of its own, perhaps under the same id): the old
    // keys mean nothing to it.
    let again = app.user("ash");
    let fresh = add(&app, &again, 25, &keyed("Add"));
    assert_decided(&fresh, 201);
    assert_eq!(app.favorite_ids_in_db(again.id), [25]);
}

fn a_request_without_the_header_stores_nothing(app: TestApp) {
    let ash = app.user("ash");
    for write in WRITES {
        reset(&app, &ash);
        let response = write.by(&app, &ash, &[]);
        assert_decided(&response, write.ok());
        // Done twice, it is decided twice, as it always was.
        let twice = write.by(&app, &ash, &[]);
        let status = match write {
            Write::Add => 409,
            Write::Replace => 200,
            Write::Remove => 404,
        };
        assert_eq!(twice.status, status, "{write:?}: {}", text(&twice));
        assert!(!replayed(&twice), "{write:?}");
    }
    assert_eq!(all_keys(&app), 0);
    // The other routes ignore the header, malformed or not.
    let path = format!("/api/users/{}/favorites", ash.id);
    for key in ["a b", "", "fine"] {
        let list = app.send_with("GET", &path, Some(&ash.token), None, &keyed(key));
        assert_json(&list, 200);
        let me = app.send_with("GET", "/api/users/me", Some(&ash.token), None, &keyed(key));
        assert_json(&me, 200);
    }
    let body = serde_json::json!({ "username": "misty", "password": "staryu-and-starmie" });
    let registered = app.send_with(
        "POST",
        "/api/auth/register",
        None,
        Some(&body),
        &keyed("a b"),
    );
    assert_json(&registered, 201);
    let logged_in = app.send_with("POST", "/api/auth/login", None, Some(&body), &keyed("k"));
    assert_json(&logged_in, 200);
    assert!(!replayed(&logged_in));
    assert_eq!(all_keys(&app), 0);
}
