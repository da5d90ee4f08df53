//! The key itself: exactly one field of 1–255 visible ASCII characters, else 400; and
//! where the key is judged among the other checks (after the token and the owner,
//! before the body and the list's state).

use super::{
    add, all_keys, assert_decided, assert_replay, favorites_path, keyed, replace, reset,
    rows_of_key, Write, KEY, WRITES,
};
use crate::helpers::{assert_problem, store_tests, TestApp};
use serde_json::json;

store_tests!(
    malformed_keys_are_400_and_change_nothing,
    the_longest_key_and_every_visible_character_are_accepted,
    token_and_owner_come_before_the_key_and_the_key_before_the_body,
    a_replay_needs_a_live_session,
);

fn malformed_keys_are_400_and_change_nothing(app: TestApp) {
    let ash = app.user("ash");
    reset(&app, &ash);
    let tag = super::current_tag(&app, &ash);
    let before = app.dump();
    let long = "k".repeat(256);
    // A tab is the one control character a field value can carry on the wire (HTTP
    // clients refuse the others, and so does the `http` crate the tests build with).
    let malformed: [(&str, &[(&str, &str)]); 9] = [
        ("empty", &[(KEY, "")]),
        ("256 characters", &[(KEY, &long)]),
        ("a tab inside", &[(KEY, "a\tb")]),
        ("a space inside", &[(KEY, "retry 1")]),
        ("a non-ASCII letter", &[(KEY, "clé")]),
        ("non-ASCII only", &[(KEY, "ключ")]),
        ("two fields, one value", &[(KEY, "a"), (KEY, "a")]),
        ("two fields, two values", &[(KEY, "a"), (KEY, "b")]),
        ("two fields, one empty", &[(KEY, "a"), (KEY, "")]),
    ];
    for write in WRITES {
        for (what, headers) in malformed {
            let response = write.by(&app, &ash, headers);
            assert_problem(&response, 400, "invalid_idempotency_key");
            assert_eq!(app.dump(), before, "{write:?}, a key {what}");
        }
        // With a matching tag too: the key is refused before the write is tried.
        let mut headers = vec![(KEY, "a b"), ("if-match", tag.as_str())];
        let response = write.by(&app, &ash, &headers);
        assert_problem(&response, 400, "invalid_idempotency_key");
        headers[1].1 = "\"stale\"";
        let response = write.by(&app, &ash, &headers);
        assert_problem(&response, 400, "invalid_idempotency_key");
        assert_eq!(app.dump(), before, "{write:?} with If-Match");
    }
}

fn the_longest_key_and_every_visible_character_are_accepted(app: TestApp) {
    let ash = app.user("ash");
    let longest = "k".repeat(255);
    let visible: String = (0x21u8..=0x7e).map(char::from).collect();
    assert_eq!(visible.len(), 94);
    for key in [longest.as_str(), visible.as_str(), "!", "a,b", "\"quoted\""] {
        reset(&app, &ash);
        let first = add(&app, &ash, 25, &keyed(key));
        assert_decided(&first, 201);
        assert_replay(&first, &add(&app, &ash, 25, &keyed(key)));
        assert_eq!(app.favorite_ids_in_db(ash.id), [1, 2, 3, 25]);
        // One row, under exactly this key.
        assert_eq!(rows_of_key(&app, ash.id, key), 1, "{key}");
    }
    // Keys differ by any byte: the letter case counts.
    reset(&app, &ash);
    assert_decided(&add(&app, &ash, 25, &keyed("Case")), 201);
    assert_decided(&add(&app, &ash, 26, &keyed("case")), 201);
    assert_eq!(app.favorite_ids_in_db(ash.id), [1, 2, 3, 25, 26]);
}

fn token_and_owner_come_before_the_key_and_the_key_before_the_body(app: TestApp) {
    let ash = app.user("ash");
    let misty = app.user("misty");
    reset(&app, &ash);
    let before = app.dump();
    for write in WRITES {
        for key in ["", "a b", "good-key"] {
            let k = keyed(key);
            let none = write.send(&app, &ash, None, &k);
            assert_problem(&none, 401, "unauthorized");
            let forged = write.send(&app, &ash, Some("not.a.token"), &k);
            assert_problem(&forged, 401, "unauthorized");
            let theirs = write.send(&app, &ash, Some(&misty.token), &k);
            assert_problem(&theirs, 403, "forbidden");
            assert_eq!(app.dump(), before, "{write:?} with key {key:?}");
        }
    }
    // Ash uses a key; Misty sending his very request on his list is still 403.
    let first = Write::Add.by(&app, &ash, &keyed("ashs"));
    assert_decided(&first, 201);
    let theirs = Write::Add.send(&app, &ash, Some(&misty.token), &keyed("ashs"));
    assert_problem(&theirs, 403, "forbidden");

    // A body that breaks the rules: the key is judged first; with a good key, the body
    // is 422 (or 400 for JSON that is not the right shape) and nothing is stored.
    reset(&app, &ash);
    let path = favorites_path(&ash);
    let bad_add = json!({ "pokemon_id": 0 });
    let bad_list = json!({ "pokemon_ids": [1, 1] });
    let before = app.dump();
    for (method, body) in [("POST", &bad_add), ("PUT", &bad_list)] {
        let send =
            |key: &str| app.send_with(method, &path, Some(&ash.token), Some(body), &keyed(key));
        assert_problem(&send("a b"), 400, "invalid_idempotency_key");
        assert_problem(&send(""), 400, "invalid_idempotency_key");
        assert_problem(&send("body"), 422, "validation_failed");
        assert_eq!(app.dump(), before, "{method} {body}");
    }
    let bearer = format!("Bearer {}", ash.token);
    let broken_json = |key: &str| {
        let headers = [
            ("authorization", bearer.as_str()),
            ("content-type", "application/json"),
            (KEY, key),
        ];
        app.raw("POST", &path, &headers, b"{\"pokemon_id\": ")
    };
    assert_problem(&broken_json("a b"), 400, "invalid_idempotency_key");
    assert_problem(&broken_json("body"), 400, "malformed_json");
    assert_eq!(app.dump(), before);
    // The key was never used: a good body under it is decided.
    let decided = replace(&app, &ash, &[9], &keyed("body"));
    assert_decided(&decided, 200);
    assert_replay(&decided, &replace(&app, &ash, &[9], &keyed("body")));
}

fn a_replay_needs_a_live_session(app: TestApp) {
    let brock = app.user("brock");
    let first = add(&app, &brock, 74, &keyed("session"));
    assert_decided(&first, 201);
    assert_eq!(app.logout(&brock.token).status, 204);
    let before = app.dump();
    let signed_out = add(&app, &brock, 74, &keyed("session"));
    assert_problem(&signed_out, 401, "unauthorized");
    assert_eq!(app.dump(), before);
    // The key is the user's, not the session's: a new session gets the replay.
    let login = app.login(&brock.username, &brock.password);
    assert_eq!(login.status, 200);
    let token = login.json()["access_token"].as_str().unwrap().to_string();
    let again = crate::helpers::TestUser { token, ..brock };
    assert_replay(&first, &add(&app, &again, 74, &keyed("session")));
    assert_eq!(all_keys(&app), 1);
}
